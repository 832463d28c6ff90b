/*
 * net.h - the harness's client connections: TCP (IPv4/IPv6) and TLS
 * (OpenSSL 3, TLS 1.2 and later), every operation bounded by a deadline.
 *
 * Sockets are non-blocking and waited on with poll(), so a server that
 * never answers, closes early or floods costs at most the deadline and
 * the input buffer's limit. Received bytes collect in conn->in (bounded:
 * NET_IN_MAX unread bytes) until the caller consumes them.
 *
 * Deadlines are CLOCK_MONOTONIC milliseconds (net_now_ms()).
 */
#ifndef QUILL_HARNESS_NET_H
#define QUILL_HARNESS_NET_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define NET_IN_MAX (16u * 1024 * 1024)

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

struct net_conn {
	int fd;	  /* -1 when closed */
	SSL *ssl; /* NULL until TLS starts */
	struct buf in;
	bool eof;	   /* the server closed (or reset) the connection */
	bool reset;	   /* ... with a reset */
	char peer[96];	   /* "127.0.0.1:2525" */
	char tls_info[64]; /* "TLSv1.3 TLS_AES_256_GCM_SHA384" */
};

enum net_rc {
	NET_OK = 0,
	NET_EOF = 1,	  /* read: the server closed */
	NET_TIMEOUT = -2, /* the deadline passed */
	NET_ERR = -1,	  /* anything else; the message says what */
};

long long net_now_ms(void);
/* Wait until fd is ready for events (POLLIN / POLLOUT) or the deadline.
 * 1 ready, 0 timeout, -1 error (errno). */
int net_wait(int fd, short events, long long deadline);

void net_conn_init(struct net_conn *c);
/* Connect to host:port (every address getaddrinfo gives, in order).
 * NET_OK, NET_TIMEOUT or NET_ERR with a message in err. */
int net_connect(struct net_conn *c, const char *host, unsigned port,
		long long deadline, char *err, size_t errlen);
/* Close the connection (no TLS close_notify: the harness is done). */
void net_close(struct net_conn *c);

/* Wait for bytes and append what is there to c->in; *n_r (may be NULL)
 * gets how many. NET_OK (at least one byte), NET_EOF, NET_TIMEOUT or
 * NET_ERR (also when c->in is full). */
int net_read(struct net_conn *c, long long deadline, size_t *n_r, char *err,
	     size_t errlen);
/* Write all len bytes. NET_OK, NET_TIMEOUT or NET_ERR. */
int net_write(struct net_conn *c, const void *data, size_t len,
	      long long deadline, char *err, size_t errlen);

/* A client context: TLS 1.2+, verifying against ca_file if verify (the
 * system store if ca_file is NULL). NULL with a message in err. */
SSL_CTX *net_tls_ctx_new(const char *ca_file, bool verify, char *err,
			 size_t errlen);
void net_tls_ctx_free(SSL_CTX **ctx);
/* Handshake on the open connection; name is sent as SNI and, when the
 * context verifies, checked against the certificate. Bytes in c->in are
 * dropped first (RFC 3207 section 4, RFC 2595 section 3.1): *dropped_r
 * (may be NULL) says how many. NET_OK, NET_TIMEOUT, NET_EOF or NET_ERR. */
int net_tls_start(struct net_conn *c, SSL_CTX *ctx, const char *name,
		  long long deadline, size_t *dropped_r, char *err,
		  size_t errlen);

#endif
