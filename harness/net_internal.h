/*
 * net_internal.h - shared by net.c (TCP) and net_tls.c (TLS).
 */
#ifndef QUILL_HARNESS_NET_INTERNAL_H
#define QUILL_HARNESS_NET_INTERNAL_H

#include "net.h"

/* One TLS read or write attempt, waiting as OpenSSL asks until the
 * deadline: NET_OK with *n_r bytes, NET_EOF, NET_TIMEOUT or NET_ERR. */
int net_tls_read(struct net_conn *c, void *data, size_t len, size_t *n_r,
		 long long deadline, char *err, size_t errlen);
int net_tls_write(struct net_conn *c, const void *data, size_t len, size_t *n_r,
		  long long deadline, char *err, size_t errlen);

/* Free the connection's SSL object, if any (no close_notify). */
void net_tls_free_ssl(struct net_conn *c);

#endif
