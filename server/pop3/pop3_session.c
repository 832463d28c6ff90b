/*
 * pop3_session.c - the POP3 server engine's loop: lines in, replies out.
 *
 * RFC 1939 section 3: command lines end in CRLF, keywords are matched
 * case-insensitively, responses start with "+OK" or "-ERR" and are at
 * most 512 octets with their CRLF, multi-line responses end with a line
 * holding only "." and byte-stuff lines that start with "."; an unknown
 * command, or one given in the wrong state, gets -ERR. RFC 2449 section 4:
 * command lines of up to 255 octets are taken (settings.line_max); a
 * longer line is answered -ERR once its end arrives and the session goes
 * on; section 6.6: pipelined commands are answered in order. The
 * commands themselves are in pop3_commands.c, pop3_auth.c, pop3_txn.c.
 */
#include "pop3_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sasl_server.h"

/* RFC 1939 section 3: a response line is at most 512 octets with CRLF. */
#define POP3_RESPONSE_MAX 512

void pop3_settings_defaults(struct pop3_settings *st)
{
	memset(st, 0, sizeof(*st));
	st->hostname = "localhost";
	st->line_max = POP3_LINE_MAX_DEFAULT;
	st->max_errors = POP3_MAX_ERRORS;
	st->output_max = 1024 * 1024;
	st->retr_sets_seen = true;
}

static void copy_str(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src != NULL ? src : "");
}

struct pop3_session *pop3_session_new(const struct pop3_settings *st,
				      const char *peer_addr, const char *id)
{
	struct pop3_session *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->st = *st;
	if (s->st.line_max < POP3_LINE_MAX_DEFAULT)
		s->st.line_max = POP3_LINE_MAX_DEFAULT;
	if (s->st.line_max > POP3_SASL_LINE_MAX)
		s->st.line_max = POP3_SASL_LINE_MAX;
	if (s->st.max_errors == 0)
		s->st.max_errors = POP3_MAX_ERRORS;
	/* room for a chunk of a message twice over (CRLF, stuffing) */
	if (s->st.output_max < 512 * 1024)
		s->st.output_max = 512 * 1024;
	copy_str(s->hostname, sizeof(s->hostname), st->hostname);
	copy_str(s->timestamp, sizeof(s->timestamp), st->apop_timestamp);
	copy_str(s->implementation, sizeof(s->implementation),
		 st->implementation);
	s->st.hostname = s->hostname;
	s->st.apop_timestamp = s->timestamp;
	s->st.implementation = s->implementation;
	copy_str(s->peer, sizeof(s->peer), peer_addr);
	copy_str(s->id, sizeof(s->id), id);
	buf_init(&s->in, POP3_SASL_LINE_MAX * 2 + 1024);
	buf_init(&s->out, s->st.output_max);
	buf_init(&s->sasl_out, SASL_SERVER_MESSAGE_MAX);
	buf_line_reader_init(&s->lines, s->st.line_max, 0);
	s->state = POP3_ST_AUTHORIZATION;
	s->tls_active = st->tls_at_start;
	return s;
}

void pop3_session_free(struct pop3_session **sp)
{
	struct pop3_session *s = *sp;
	if (s == NULL)
		return;
	pop3_auth_reset(s);
	pop3_listing_free(&s->drop);
	free(s->deleted_uids);
	free(s->seen_uids);
	buf_free(&s->in);
	buf_free(&s->out);
	buf_free(&s->sasl_out);
	free(s);
	*sp = NULL;
}

struct buf *pop3_session_output(struct pop3_session *s)
{
	return &s->out;
}

enum pop3_request pop3_session_request(const struct pop3_session *s)
{
	return s->request;
}

bool pop3_session_tls_active(const struct pop3_session *s)
{
	return s->tls_active;
}

bool pop3_session_logged_in(const struct pop3_session *s)
{
	return s->drop != NULL;
}

bool pop3_cleartext_ok(const struct pop3_session *s)
{
	return s->tls_active || s->st.cleartext_ok;
}

void pop3_close(struct pop3_session *s)
{
	s->state = POP3_ST_CLOSING;
	s->request = POP3_REQ_CLOSE;
	buf_clear(&s->in);
	pop3_auth_reset(s);
}

/* Append one line; a reply that cannot be queued ends the session. */
static void put_line(struct pop3_session *s, const char *text, size_t len)
{
	if (buf_append(&s->out, text, len) != 0 ||
	    buf_append(&s->out, "\r\n", 2) != 0) {
		log_warn(s->id, "pop3.output_full bytes=%zu", buf_len(&s->out));
		pop3_close(s);
	}
}

__attribute__((format(printf, 4, 0))) static void
status_v(struct pop3_session *s, const char *prefix, const char *code,
	 const char *fmt, va_list ap)
{
	char text[POP3_RESPONSE_MAX - 1], msg[POP3_RESPONSE_MAX];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	snprintf(text, sizeof(text), "%s%s%s%s%s", prefix,
		 code != NULL ? " [" : "", code != NULL ? code : "",
		 code != NULL ? "]" : "", msg[0] != '\0' ? " " : "");
	size_t n = strlen(text), m = strlen(msg);
	if (m > sizeof(text) - 1 - n) /* cut to one response line */
		m = sizeof(text) - 1 - n;
	memcpy(text + n, msg, m);
	put_line(s, text, n + m);
}

void pop3_ok(struct pop3_session *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	status_v(s, "+OK", NULL, fmt, ap);
	va_end(ap);
}

void pop3_fail(struct pop3_session *s, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	status_v(s, "-ERR", code, fmt, ap);
	va_end(ap);
}

void pop3_err(struct pop3_session *s, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	status_v(s, "-ERR", code, fmt, ap);
	va_end(ap);
	if (s->state == POP3_ST_CLOSING)
		return;
	if (++s->errors >= s->st.max_errors) {
		/* RFC 1939 section 4 lets a server close after a failed
		 * login; the same defence stops a client that only errs. */
		log_info(s->id, "pop3.too_many_errors errors=%u", s->errors);
		pop3_close(s);
	}
}

void pop3_line(struct pop3_session *s, const char *fmt, ...)
{
	char text[POP3_RESPONSE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text + 1, sizeof(text) - 1, fmt, ap);
	va_end(ap);
	/* RFC 1939 section 3: byte-stuff a line that starts with '.' */
	if (text[1] == '.') {
		text[0] = '.';
		put_line(s, text, strlen(text));
	} else {
		put_line(s, text + 1, strlen(text + 1));
	}
}

void pop3_end(struct pop3_session *s)
{
	put_line(s, ".", 1);
}

void pop3_session_start(struct pop3_session *s)
{
	/* RFC 1939 section 4 (one +OK line), section 7 (APOP: the
	 * timestamp in the greeting); RFC 2449 section 3: at most one. */
	if (s->timestamp[0] != '\0')
		pop3_ok(s, "Quill POP3 server ready %s", s->timestamp);
	else
		pop3_ok(s, "Quill POP3 server ready");
}

void pop3_session_refuse(struct pop3_session *s)
{
	/* RFC 2449 8.1.2 / RFC 3206 4: SYS/TEMP, a passing condition on our
	 * side; a negative greeting, then the close (RFC 1939 section 4
	 * allows only +OK for a greeting that goes on). */
	log_info(s->id, "pop3.refused reason=max_per_ip");
	pop3_fail(s, "SYS/TEMP",
		  "Too many connections from your address, try again later");
	pop3_close(s);
}

/* While a USER waits for its PASS, only PASS, QUIT and CAPA keep it; an
 * authentication command then is out of order (RFC 1939 section 7). */
static bool breaks_user(struct pop3_session *s, const struct pop3_command *c)
{
	if (s->auth != POP3_AUTH_USER || strcmp(c->name, "PASS") == 0 ||
	    strcmp(c->name, "QUIT") == 0 || strcmp(c->name, "CAPA") == 0)
		return false;
	pop3_auth_reset(s);
	if (strcmp(c->name, "USER") == 0 || strcmp(c->name, "APOP") == 0 ||
	    strcmp(c->name, "AUTH") == 0) {
		pop3_err(s, NULL, "USER already given; send PASS or QUIT");
		return true;
	}
	return false;
}

/* One complete command line, CRLF removed. */
static void command_line(struct pop3_session *s, const char *line, size_t len)
{
	if (memchr(line, '\0', len) != NULL) {
		pop3_err(s, NULL, "NUL byte in command line");
		return;
	}
	if (s->auth == POP3_AUTH_SASL || s->auth == POP3_AUTH_SASL_DATA) {
		pop3_sasl_line(s, line, len);
		return;
	}
	const char *sp = memchr(line, ' ', len);
	size_t verb_len = sp != NULL ? (size_t)(sp - line) : len;
	const char *args = sp != NULL ? sp + 1 : line + len;
	size_t args_len = sp != NULL ? len - verb_len - 1 : 0;
	const struct pop3_command *cmd = pop3_command_find(line, verb_len);

	if (cmd == NULL) {
		/* never echoed: the reply stays short (RFC 2449 4) */
		pop3_err(s, NULL, "Unknown command");
		return;
	}
	log_debug(s->id, "pop3.command %s", cmd->name);
	if (breaks_user(s, cmd))
		return;
	if (!(cmd->states & s->state)) {
		pop3_err(s, NULL, "%s not valid in the %s state", cmd->name,
			 s->state == POP3_ST_AUTHORIZATION ? "AUTHORIZATION"
							   : "TRANSACTION");
		return;
	}
	if ((cmd->flags & POP3_CMD_NO_ARGS) && sp != NULL) {
		pop3_err(s, NULL, "Syntax: %s takes no arguments", cmd->name);
		return;
	}
	cmd->act(s, args, args_len);
}

static void bad_line(struct pop3_session *s, enum buf_line_result r)
{
	if (s->auth == POP3_AUTH_SASL || s->auth == POP3_AUTH_SASL_DATA) {
		/* the exchange cannot go on: as if no AUTH (RFC 5034 4) */
		pop3_auth_reset(s);
		pop3_err(s, NULL, "Invalid SASL response line; AUTH aborted");
		return;
	}
	if (r == BUF_LINE_TOO_LONG)
		pop3_err(s, NULL,
			 "Line too long (at most %zu octets with CRLF)",
			 s->st.line_max);
	else
		pop3_err(s, NULL, "Lines end in CRLF");
}

/* Answer every complete line in the input, until a request stops us. */
static void process(struct pop3_session *s)
{
	const char *line;
	size_t len;

	while (s->request == POP3_REQ_NONE) {
		/* RFC 5034 4: SASL responses may exceed the command limit */
		s->lines.max = s->auth == POP3_AUTH_SASL ? POP3_SASL_LINE_MAX
							 : s->st.line_max;
		enum buf_line_result r =
			buf_line_next(&s->lines, &s->in, &line, &len);
		if (r == BUF_LINE_MORE)
			return;
		if (r == BUF_LINE_OK)
			command_line(s, line, len);
		else
			bad_line(s, r);
	}
}

size_t pop3_session_feed(struct pop3_session *s, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t taken = 0;

	while (taken < len && s->request == POP3_REQ_NONE) {
		size_t n;
		if (buf_append_some(&s->in, p + taken, len - taken, &n) != 0) {
			log_error(s->id, "pop3.input_alloc_failed");
			pop3_close(s);
			break;
		}
		taken += n;
		process(s);
	}
	return taken;
}

void pop3_session_resume(struct pop3_session *s, const struct pop3_answer *a)
{
	static const struct pop3_answer none = {.status = POP3_ANSWER_OK};
	enum pop3_request r = s->request;

	if (a == NULL)
		a = &none;
	switch (r) {
	case POP3_REQ_MORE:
		s->request = POP3_REQ_NONE;
		pop3_listing_more(s);
		break;
	case POP3_REQ_PASS:
	case POP3_REQ_APOP:
	case POP3_REQ_SASL_CREDENTIALS:
	case POP3_REQ_AUTH_DELAY:
	case POP3_REQ_MAILDROP:
		s->request = POP3_REQ_NONE;
		pop3_auth_resume(s, r, a);
		break;
	case POP3_REQ_READ:
	case POP3_REQ_UPDATE:
		s->request = POP3_REQ_NONE;
		pop3_txn_resume(s, r, a);
		break;
	case POP3_REQ_NONE:
	case POP3_REQ_STARTTLS:
	case POP3_REQ_CLOSE:
		return; /* nothing was asked */
	}
	process(s); /* go on with what was already received */
}

void pop3_session_tls_done(struct pop3_session *s, bool ok,
			   const char *tls_desc)
{
	if (s->request != POP3_REQ_STARTTLS)
		return;
	if (!ok) {
		log_info(s->id, "pop3.tls_failed");
		pop3_close(s);
		return;
	}
	/* RFC 2595 4: still AUTHORIZATION; nothing from before counts */
	s->request = POP3_REQ_NONE;
	s->tls_active = true;
	copy_str(s->tls_desc, sizeof(s->tls_desc), tls_desc);
	pop3_auth_reset(s);
	buf_clear(&s->in);
	buf_line_reader_init(&s->lines, s->st.line_max, 0);
	log_info(s->id, "pop3.tls tls=\"%s\"", s->tls_desc);
}

void pop3_session_shutdown(struct pop3_session *s)
{
	if (s->state == POP3_ST_CLOSING)
		return;
	/* in the middle of a multi-line response no status line fits */
	if (s->request != POP3_REQ_READ && s->request != POP3_REQ_MORE)
		pop3_fail(s, "SYS/TEMP", "Server shutting down");
	pop3_close(s);
}

void pop3_session_timeout(struct pop3_session *s)
{
	if (s->state == POP3_ST_CLOSING)
		return;
	/* RFC 1939 3: close without a response and without UPDATE */
	log_info(s->id, "pop3.autologout state=%s",
		 s->state == POP3_ST_TRANSACTION ? "TRANSACTION"
						 : "AUTHORIZATION");
	pop3_close(s);
}

const char *pop3_session_user(const struct pop3_session *s)
{
	return s->user;
}

const char *pop3_session_password(const struct pop3_session *s, size_t *len)
{
	*len = s->password_len;
	return s->password;
}

const char *pop3_session_apop_timestamp(const struct pop3_session *s)
{
	return s->timestamp;
}

const char *pop3_session_apop_digest(const struct pop3_session *s)
{
	return s->digest;
}

struct sasl_server *pop3_session_sasl(struct pop3_session *s)
{
	return s->sasl;
}

struct sasl_server *pop3_session_sasl_release(struct pop3_session *s)
{
	struct sasl_server *sasl = s->sasl;
	s->sasl = NULL;
	return sasl;
}

uint32_t pop3_session_read_uid(const struct pop3_session *s)
{
	return s->drop != NULL && s->msg < s->drop->count
		       ? s->drop->msgs[s->msg].uid
		       : 0;
}

uint64_t pop3_session_read_offset(const struct pop3_session *s)
{
	return s->offset;
}

const uint32_t *pop3_session_seen_uids(const struct pop3_session *s,
				       size_t *n_r)
{
	*n_r = s->n_seen_uids;
	return s->seen_uids;
}

const uint32_t *pop3_session_deleted_uids(const struct pop3_session *s,
					  size_t *n_r)
{
	*n_r = s->n_deleted_uids;
	return s->deleted_uids;
}
