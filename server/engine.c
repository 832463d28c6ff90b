/*
 * engine.c - the engine ops of each protocol (see engine.h).
 */
#include "engine.h"

#include "smtp/smtp_session.h"

static void *smtp_create(const struct quilld_config *cfg,
			 const struct config_listener *l, const char *peer,
			 const char *id)
{
	struct smtp_settings st;
	smtp_settings_defaults(&st);
	st.hostname = cfg->hostname;
	st.starttls_offered = l->tls == LISTEN_TLS_STARTTLS;
	st.tls_at_start = l->tls == LISTEN_TLS_IMPLICIT;
	st.bare_lf_accept = cfg->smtp_bare_lf_accept;
	st.line_max = cfg->smtp_line_max;
	st.max_errors = cfg->smtp_max_errors;
	return smtp_session_new(&st, peer, id);
}

static void smtp_destroy(void **session)
{
	struct smtp_session *s = *session;
	smtp_session_free(&s);
	*session = NULL;
}

static enum engine_request smtp_request(const void *session)
{
	switch (smtp_session_request(session)) {
	case SMTP_REQ_STARTTLS:
		return ENGINE_REQ_STARTTLS;
	case SMTP_REQ_CLOSE:
		return ENGINE_REQ_CLOSE;
	case SMTP_REQ_NONE:
		break;
	}
	return ENGINE_REQ_NONE;
}

/* The engine functions take a typed session; these casts are the one
 * place where the host's void pointer meets them. */
static void smtp_start(void *s)
{
	smtp_session_start(s);
}
static size_t smtp_feed(void *s, const void *d, size_t n)
{
	return smtp_session_feed(s, d, n);
}
static struct buf *smtp_output(void *s)
{
	return smtp_session_output(s);
}
static void smtp_tls_done(void *s, bool ok, const char *desc)
{
	smtp_session_tls_done(s, ok, desc);
}
static void smtp_shutdown(void *s)
{
	smtp_session_shutdown(s);
}
static void smtp_timeout(void *s)
{
	smtp_session_timeout(s);
}

static const struct engine_ops smtp_ops = {
	.name = "smtp",
	.create = smtp_create,
	.destroy = smtp_destroy,
	.start = smtp_start,
	.feed = smtp_feed,
	.output = smtp_output,
	.request = smtp_request,
	.tls_done = smtp_tls_done,
	.shutdown = smtp_shutdown,
	.timeout = smtp_timeout,
};

const struct engine_ops *engine_for(enum config_proto proto)
{
	switch (proto) {
	case PROTO_SMTP:
	case PROTO_SUBMISSION:
		return &smtp_ops;
	}
	return NULL;
}
