/*
 * host.h - quilld's event loop: listeners, connections, TLS, signals.
 *
 * The host owns every socket and drives the protocol engines (engine.h):
 * it feeds them what it reads, writes what they reply, and carries out
 * their requests (TLS upgrade, close). One libevent loop, one thread.
 */
#ifndef QUILL_SERVER_HOST_H
#define QUILL_SERVER_HOST_H

#include <stddef.h>

#include "config.h"

struct host;

/* Bind every listener of cfg and prepare TLS; nothing is accepted until
 * host_run(). Returns NULL with a message in err. */
struct host *host_new(const struct quilld_config *cfg, char *err,
		      size_t errlen);
/* Serve until SIGTERM/SIGINT and the sessions have ended (or the grace
 * time ran out). SIGHUP reloads the configuration file. */
int host_run(struct host *h);
void host_free(struct host **h);

/* The addresses bound, one "name proto address:port tls" per listener
 * socket, for the start-up banner. */
size_t host_listener_count(const struct host *h);
const char *host_listener_describe(const struct host *h, size_t i);

#endif
