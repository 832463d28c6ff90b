/*
 * engine.h - what the host needs of a protocol engine.
 *
 * Every server engine (SMTP now; POP3, IMAP later) is driven the same way
 * by host.c: bytes in, reply bytes out, and a request when the host has to
 * act (start TLS, close). These ops adapt each engine's own API.
 */
#ifndef QUILL_SERVER_ENGINE_H
#define QUILL_SERVER_ENGINE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "config.h"

enum engine_request {
	ENGINE_REQ_NONE,
	ENGINE_REQ_STARTTLS,
	ENGINE_REQ_CLOSE,
};

struct engine_ops {
	const char *name;
	void *(*create)(const struct quilld_config *cfg,
			const struct config_listener *l, const char *peer,
			const char *id);
	void (*destroy)(void **session);
	void (*start)(void *session);
	size_t (*feed)(void *session, const void *data, size_t len);
	struct buf *(*output)(void *session);
	enum engine_request (*request)(const void *session);
	void (*tls_done)(void *session, bool ok, const char *desc);
	void (*shutdown)(void *session);
	void (*timeout)(void *session);
};

const struct engine_ops *engine_for(enum config_proto proto);

#endif
