/*
 * engine.h - what the host needs of a protocol engine.
 *
 * Every server engine (SMTP and POP3 now; IMAP later) is driven the same way
 * by host.c: bytes in, reply bytes out, and a request when the host has to
 * act. STARTTLS and CLOSE the host carries out itself; every other request
 * (a recipient to judge, a message to spool) goes to the engine's serve()
 * with the services below, and may finish at once or later, on the pool.
 */
#ifndef QUILL_SERVER_ENGINE_H
#define QUILL_SERVER_ENGINE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "config.h"

struct event_base;
struct passwd_db;
struct pool;
struct spool_group;
struct queue_runner;

/* What quilld offers engines; owned by the host, replaced on reload. */
struct host_services {
	const struct quilld_config *cfg;
	struct passwd_db *users; /* NULL if the passwd-file did not load */
	struct pool *pool;
	struct spool_group *spool_group; /* commits spool files (group) */
	struct queue_runner *runner;	 /* local delivery of what is queued */
	struct event_base *base;	 /* the loop, for an engine's timers */
	char queue_dir[CONFIG_PATH_MAX + 8];
};

enum engine_request {
	ENGINE_REQ_NONE,
	ENGINE_REQ_STARTTLS,
	ENGINE_REQ_CLOSE,
	ENGINE_REQ_SERVE, /* call serve() */
};

/* How serve() reports a request it finishes later: call resumed(arg) on
 * the loop thread, after the engine was resumed. */
struct engine_call {
	void (*resumed)(void *arg);
	void *arg;
};

enum engine_serve { ENGINE_SERVED, ENGINE_PENDING };

struct engine_ops {
	const char *name;
	void *(*create)(struct host_services *svc,
			const struct config_listener *l, const char *peer,
			const char *id);
	/* Also safe while a request is pending: the pending work finishes
	 * without touching the session. */
	void (*destroy)(void **session);
	void (*start)(void *session);
	/* Instead of start when the peer has too many connections: greet
	 * with the refusal and ask to be closed (SMTP: 421 4.7.0, RFC 5321
	 * 3.8; POP3: -ERR [SYS/TEMP], RFC 3206 4). NULL: the host closes
	 * without a word. */
	void (*refuse)(void *session);
	size_t (*feed)(void *session, const void *data, size_t len);
	struct buf *(*output)(void *session);
	enum engine_request (*request)(const void *session);
	enum engine_serve (*serve)(void *session, const struct engine_call *c);
	void (*tls_done)(void *session, bool ok, const char *desc);
	void (*shutdown)(void *session);
	void (*timeout)(void *session);
	/* Seconds of silence before timeout() in the session's present
	 * state (asked again after every exchange); NULL:
	 * limits.idle_timeout. */
	unsigned (*idle_timeout)(const void *session,
				 const struct quilld_config *cfg);
	/* Milliseconds to hold the greeting back; 0 or NULL: none. */
	unsigned (*greeting_delay_ms)(const struct quilld_config *cfg,
				      const struct config_listener *l);
	/* Instead of start when the peer sent bytes during that delay: the
	 * protocol error, and ask to be closed. */
	void (*pregreet)(void *session);
};

const struct engine_ops *engine_for(enum config_proto proto);

/* smtp_host.c */
extern const struct engine_ops smtp_engine_ops;
/* pop3_host.c */
extern const struct engine_ops pop3_engine_ops;

#endif
