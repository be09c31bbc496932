/* elb_lbclient: a bounded load-balancer test client. Opens CONNS TCP connections (or UDP
 * sockets, each its own source port, connected so only replies from the VIP are accepted) to
 * DST PORT, asks each for the backend's name ROUNDS times and prints one line per answer:
 *   conn <i> <round> <name>
 * With HOLD_FILE: after the first rounds prints "ready", waits (at most 30 s) until HOLD_FILE
 * exists, asks every old connection once more (round "after"), then opens CONNS new ones
 * (lines "new <i> <name>"). Every socket operation has a 3 s timeout; failures print
 * "conn <i> <round> ERROR". Usage:
 *   elb_lbclient tcp|udp DST PORT CONNS ROUNDS [HOLD_FILE] */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 512

static struct sockaddr_storage dst;
static socklen_t dst_len;
static int udp;

static int open_one(void)
{
	struct timeval tv = {.tv_sec = 3};
	int fd = socket(dst.ss_family, udp ? SOCK_DGRAM : SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&dst, dst_len)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One question, one answer: the name (without newline) into out. */
static int ask(int fd, char *out, size_t len)
{
	size_t got = 0;

	if (fd < 0 || write(fd, "who\n", 4) != 4)
		return -1;
	while (got + 1 < len) {
		ssize_t r = read(fd, out + got, len - 1 - got);

		if (r <= 0)
			return -1;
		got += (size_t)r;
		if (memchr(out, '\n', got))
			break;
	}
	out[got] = '\0';
	out[strcspn(out, "\n")] = '\0';
	return 0;
}

static void round_all(int *fds, int n, const char *tag, const char *round)
{
	char name[128];

	for (int i = 0; i < n; i++) {
		if (ask(fds[i], name, sizeof(name)))
			snprintf(name, sizeof(name), "ERROR");
		if (round)
			printf("%s %d %s %s\n", tag, i, round, name);
		else
			printf("%s %d %s\n", tag, i, name);
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static int fds[MAX_CONNS], nfds[MAX_CONNS];
	int n, rounds;
	char r[16];

	if (argc < 6) {
		fprintf(stderr, "usage: elb_lbclient tcp|udp DST PORT CONNS ROUNDS [HOLD_FILE]\n");
		return 2;
	}
	udp = !strcmp(argv[1], "udp");
	memset(&dst, 0, sizeof(dst));
	if (strchr(argv[2], ':')) {
		struct sockaddr_in6 *s6 = (void *)&dst;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(atoi(argv[3]));
		if (inet_pton(AF_INET6, argv[2], &s6->sin6_addr) != 1)
			return 2;
		dst_len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (void *)&dst;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(atoi(argv[3]));
		if (inet_pton(AF_INET, argv[2], &s4->sin_addr) != 1)
			return 2;
		dst_len = sizeof(*s4);
	}
	n = atoi(argv[4]);
	rounds = atoi(argv[5]);
	if (n < 1 || n > MAX_CONNS || rounds < 1 || rounds > 100)
		return 2;
	for (int i = 0; i < n; i++)
		fds[i] = open_one();
	for (int k = 0; k < rounds; k++) {
		snprintf(r, sizeof(r), "%d", k);
		round_all(fds, n, "conn", r);
	}
	if (argc > 6) {
		struct stat st;
		time_t end = time(NULL) + 30;

		printf("ready\n");
		fflush(stdout);
		while (stat(argv[6], &st) && time(NULL) < end)
			usleep(50000);
		round_all(fds, n, "conn", "after");
		for (int i = 0; i < n; i++)
			nfds[i] = open_one();
		round_all(nfds, n, "new", NULL);
		for (int i = 0; i < n; i++)
			if (nfds[i] >= 0)
				close(nfds[i]);
	}
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return 0;
}
