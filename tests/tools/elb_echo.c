/* elb_echo: a tiny backend for load-balancer tests. Listens on [::]:PORT (dual stack) for TCP
 * and UDP and answers every line (TCP) or datagram (UDP) with its own name and a newline; TCP
 * connections stay open until the client closes them. A TCP line "bulk N" gets N bytes of 'x'
 * first (at most 64 MiB): large replies (GSO, partial checksums) through the return path; an
 * HTTP GET gets a one-shot HTTP/1.0 answer with the name (curl in the demo).
 * Bounded: exits after MAX_SECONDS (default 120), at most 256 TCP connections at once.
 *   elb_echo NAME PORT [MAX_SECONDS] */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 256

static int listen_on(int type, int port)
{
	struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_port = htons(port),
				  .sin6_addr = IN6ADDR_ANY_INIT};
	int fd = socket(AF_INET6, type, 0), off = 0, on = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || (type == SOCK_STREAM && listen(fd, 128)))
		return -1;
	return fd;
}

int main(int argc, char **argv)
{
	struct pollfd p[2 + MAX_CONNS];
	char reply[128], buf[2048];
	int n = 2, rl;
	time_t end;

	if (argc < 3) {
		fprintf(stderr, "usage: elb_echo NAME PORT [MAX_SECONDS]\n");
		return 2;
	}
	rl = snprintf(reply, sizeof(reply), "%s\n", argv[1]);
	end = time(NULL) + (argc > 3 ? atoi(argv[3]) : 120);
	p[0] = (struct pollfd){.fd = listen_on(SOCK_STREAM, atoi(argv[2])), .events = POLLIN};
	p[1] = (struct pollfd){.fd = listen_on(SOCK_DGRAM, atoi(argv[2])), .events = POLLIN};
	if (p[0].fd < 0 || p[1].fd < 0) {
		perror("elb_echo: listen");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	while (time(NULL) < end) {
		if (poll(p, n, 200) <= 0)
			continue;
		if ((p[0].revents & POLLIN) && n < 2 + MAX_CONNS) {
			int c = accept(p[0].fd, NULL, NULL);

			if (c >= 0)
				p[n++] = (struct pollfd){.fd = c, .events = POLLIN};
		}
		if (p[1].revents & POLLIN) {
			struct sockaddr_storage from;
			socklen_t fl = sizeof(from);

			if (recvfrom(p[1].fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl) >= 0)
				sendto(p[1].fd, reply, rl, 0, (struct sockaddr *)&from, fl);
		}
		for (int i = 2; i < n; i++) {
			ssize_t r;

			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(p[i].fd, buf, sizeof(buf) - 1);
			if (r > 0 && !strncmp(buf, "GET ", 4)) {
				/* curl (demo): one HTTP/1.0 answer with the name, then close */
				char h[256];
				int hl = snprintf(h, sizeof(h),
						  "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
						  "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
						  rl, reply);

				if (write(p[i].fd, h, (size_t)hl) != hl)
					hl = 0;
				close(p[i].fd);
				p[i--] = p[--n];
				continue;
			}
			if (r > 0 && !strncmp(buf, "bulk ", 5)) {
				/* "bulk N": N bytes of 'x' (at most 64 MiB), then the name */
				long want = atol(buf + 5), sent = 0;
				static char blk[65536];

				memset(blk, 'x', sizeof(blk));
				if (want > 64L << 20)
					want = 64L << 20;
				while (sent < want) {
					ssize_t w = write(p[i].fd, blk,
							  (size_t)(want - sent < (long)sizeof(blk)
									   ? want - sent
									   : (long)sizeof(blk)));
					if (w <= 0)
						break;
					sent += w;
				}
				if (write(p[i].fd, reply, rl) != rl)
					continue;
				continue;
			}
			if (r > 0) {
				for (ssize_t j = 0; j < r; j++)
					if (buf[j] == '\n' && write(p[i].fd, reply, rl) != rl)
						break;
				continue;
			}
			close(p[i].fd);
			p[i--] = p[--n];
		}
	}
	return 0;
}
