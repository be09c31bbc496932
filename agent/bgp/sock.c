/* Socket options of BGP sessions: TCP MD5 signatures (RFC 2385, Linux TCP_MD5SIG), the TTL
 * for eBGP (1 for a directly connected peer, ebgpMultiHop otherwise), and the listening
 * sockets. Only the setsockopt details live here. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bgp/peer.h"

int bgp_sock_md5(int fd, const struct ip *peer, const char *key)
{
	struct tcp_md5sig md5;
	size_t klen = key ? strlen(key) : 0;
	struct sockaddr_storage ss;

	if (klen > TCP_MD5SIG_MAXKEYLEN) {
		errno = EINVAL;
		return -1;
	}
	memset(&md5, 0, sizeof(md5));
	if (ip_to_sockaddr(peer, 0, &ss) < 0) {
		errno = EINVAL;
		return -1;
	}
	memcpy(&md5.tcpm_addr, &ss, sizeof(ss));
	md5.tcpm_keylen = (uint16_t)klen; /* 0 deletes the key */
	if (klen)
		memcpy(md5.tcpm_key, key, klen);
	return setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &md5, sizeof(md5));
}

int bgp_sock_ttl(int fd, int family, int ttl)
{
	if (family == AF_INET6)
		return setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof(ttl));
	return setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
}

int bgp_sock_listen(int family, uint16_t port)
{
	struct sockaddr_storage ss;
	struct ip any = {.family = (uint8_t)family};
	int fd, one = 1, err;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	ip_to_sockaddr(&any, port, &ss);
	if (bind(fd, (struct sockaddr *)&ss,
		 family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) <
		    0 ||
	    listen(fd, 16) < 0) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}
