/*
 * net.c - TCP client connections with deadlines (see net.h): connect to
 * every address of a host in turn, read into the bounded input buffer,
 * write everything; TLS connections go through net_tls.c.
 */
#include "net_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#define READ_CHUNK 65536

long long net_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int net_wait(int fd, short events, long long deadline)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		long long left = deadline - net_now_ms();
		int rc;
		if (left < 0)
			left = 0;
		rc = poll(&p, 1, (int)(left > 60000 ? 60000 : left));
		if (rc > 0)
			return 1;
		if (rc == 0 && left <= 60000)
			return 0;
		if (rc < 0 && errno != EINTR)
			return -1;
	}
}

void net_conn_init(struct net_conn *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	buf_init(&c->in, NET_IN_MAX);
}

static void describe_addr(const struct sockaddr *sa, char *out, size_t n)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
		snprintf(out, n, "%s:%u", host, port);
	} else {
		const struct sockaddr_in6 *in6 =
			(const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
		snprintf(out, n, "[%s]:%u", host, port);
	}
}

/* One address: 0 connected, -1 failed (err), -2 timeout. */
static int connect_one(const struct addrinfo *ai, long long deadline, int *fd_r,
		       char *err, size_t errlen)
{
	int fd, soerr = 0, one = 1;
	socklen_t sl = sizeof(soerr);

	fd = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		int w;
		if (errno != EINPROGRESS) {
			soerr = errno;
		} else if ((w = net_wait(fd, POLLOUT, deadline)) <= 0) {
			close(fd);
			if (w == 0)
				return -2;
			snprintf(err, errlen, "poll: %s", strerror(errno));
			return -1;
		} else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) !=
			   0) {
			soerr = errno;
		}
	}
	if (soerr != 0) {
		close(fd);
		snprintf(err, errlen, "%s", strerror(soerr));
		return -1;
	}
	*fd_r = fd;
	return 0;
}

int net_connect(struct net_conn *c, const char *host, unsigned port,
		long long deadline, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	char svc[16], where[96];
	int rc = -1, gai;

	snprintf(svc, sizeof(svc), "%u", port);
	if ((gai = getaddrinfo(host, svc, &hints, &res)) != 0) {
		snprintf(err, errlen, "cannot resolve '%s': %s", host,
			 gai_strerror(gai));
		return NET_ERR;
	}
	snprintf(err, errlen, "no address for '%s'", host);
	for (struct addrinfo *ai = res; ai != NULL && rc != 0;
	     ai = ai->ai_next) {
		char why[200];
		describe_addr(ai->ai_addr, where, sizeof(where));
		rc = connect_one(ai, deadline, &c->fd, why, sizeof(why));
		if (rc == -2) {
			snprintf(err, errlen,
				 "connect to %s: no answer in time", where);
			break;
		}
		if (rc != 0)
			snprintf(err, errlen, "connect to %s: %s", where, why);
		else
			snprintf(c->peer, sizeof(c->peer), "%s", where);
	}
	freeaddrinfo(res);
	if (rc == 0) {
		c->eof = c->reset = false;
		buf_clear(&c->in);
	}
	return rc == 0 ? NET_OK : rc == -2 ? NET_TIMEOUT : NET_ERR;
}

void net_close(struct net_conn *c)
{
	net_tls_free_ssl(c);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	buf_free(&c->in);
	c->eof = c->reset = false;
	c->peer[0] = c->tls_info[0] = '\0';
}

/* One plain read attempt, waiting until the deadline. */
static int plain_read(struct net_conn *c, void *data, size_t len, size_t *n_r,
		      long long deadline, char *err, size_t errlen)
{
	for (;;) {
		ssize_t n = recv(c->fd, data, len, 0);
		int w;
		if (n > 0) {
			*n_r = (size_t)n;
			return NET_OK;
		}
		if (n == 0)
			return NET_EOF;
		if (errno == ECONNRESET) {
			c->reset = true;
			return NET_EOF;
		}
		if (errno != EAGAIN && errno != EINTR) {
			snprintf(err, errlen, "read: %s", strerror(errno));
			return NET_ERR;
		}
		if ((w = net_wait(c->fd, POLLIN, deadline)) == 0)
			return NET_TIMEOUT;
		if (w < 0) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			return NET_ERR;
		}
	}
}

int net_read(struct net_conn *c, long long deadline, size_t *n_r, char *err,
	     size_t errlen)
{
	unsigned char tmp[READ_CHUNK];
	size_t room = c->in.max - buf_len(&c->in), n = 0;
	int rc;

	if (n_r != NULL)
		*n_r = 0;
	if (c->fd < 0) {
		snprintf(err, errlen, "not connected");
		return NET_ERR;
	}
	if (c->eof)
		return NET_EOF;
	if (room == 0) {
		snprintf(err, errlen,
			 "more than %u bytes unread from the "
			 "server",
			 NET_IN_MAX);
		return NET_ERR;
	}
	if (room > sizeof(tmp))
		room = sizeof(tmp);
	if (c->ssl != NULL)
		rc = net_tls_read(c, tmp, room, &n, deadline, err, errlen);
	else
		rc = plain_read(c, tmp, room, &n, deadline, err, errlen);
	if (rc == NET_EOF)
		c->eof = true;
	if (rc != NET_OK)
		return rc;
	if (buf_append(&c->in, tmp, n) != 0) {
		snprintf(err, errlen, "out of memory");
		return NET_ERR;
	}
	if (n_r != NULL)
		*n_r = n;
	return NET_OK;
}

static int plain_write(struct net_conn *c, const void *data, size_t len,
		       size_t *n_r, long long deadline, char *err,
		       size_t errlen)
{
	for (;;) {
		ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
		int w;
		if (n >= 0) {
			*n_r = (size_t)n;
			return NET_OK;
		}
		if (errno == EPIPE || errno == ECONNRESET) {
			snprintf(err, errlen,
				 "the server closed the "
				 "connection while we sent");
			return NET_ERR;
		}
		if (errno != EAGAIN && errno != EINTR) {
			snprintf(err, errlen, "write: %s", strerror(errno));
			return NET_ERR;
		}
		if ((w = net_wait(c->fd, POLLOUT, deadline)) == 0)
			return NET_TIMEOUT;
		if (w < 0) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			return NET_ERR;
		}
	}
}

int net_write(struct net_conn *c, const void *data, size_t len,
	      long long deadline, char *err, size_t errlen)
{
	const unsigned char *p = data;
	while (len > 0) {
		size_t n = 0;
		int rc;
		if (c->fd < 0) {
			snprintf(err, errlen, "not connected");
			return NET_ERR;
		}
		if (c->ssl != NULL)
			rc = net_tls_write(c, p, len, &n, deadline, err,
					   errlen);
		else
			rc = plain_write(c, p, len, &n, deadline, err, errlen);
		if (rc != NET_OK)
			return rc;
		p += n;
		len -= n;
	}
	return NET_OK;
}
