/*
 * host_internal.h - the host's state, shared by host.c (listeners,
 * signals, reload) and host_conn.c (one connection's life).
 */
#ifndef QUILL_SERVER_HOST_INTERNAL_H
#define QUILL_SERVER_HOST_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <event2/util.h>
#include <openssl/ssl.h>

#include "engine.h"
#include "host.h"

#define HOST_MAX_SOCKETS 64

struct conn;

struct host_socket {
	struct host *h;
	struct evconnlistener *lev;
	struct config_listener conf;
	char describe[320];
};

struct host {
	struct event_base *base;
	struct quilld_config cfg;
	struct host_services svc;
	SSL_CTX *tls;
	struct host_socket sockets[HOST_MAX_SOCKETS];
	size_t n_sockets;
	struct event *sig_term, *sig_int, *sig_hup, *grace;
	struct conn *conns;
	unsigned n_conns;
	unsigned long long next_id;
	unsigned id_salt;
	int stopping;
};

/* A new connection on hs: set up, greet (or start implicit TLS). */
void host_conn_accept(struct host_socket *hs, evutil_socket_t fd,
		      const struct sockaddr *sa);
/* SIGTERM: tell the session (421) and close once it is written. */
void host_conn_stop(struct conn *c);
void host_conn_free(struct conn *c);
struct conn *host_conn_next(const struct conn *c);
/* The numeric address of sa, without port. */
void host_addr_string(const struct sockaddr *sa, char *out, size_t n);

#endif
