/*
 * smtp_session.c - the SMTP server engine's loop: lines in, replies out.
 *
 * RFC 5321 section 2.3.8 (lines end in CRLF), 4.1.1 (command syntax, verbs
 * case-insensitive), 4.2 (replies, multi-line form), 4.5.3.1.4 (command
 * line length), RFC 2920 (pipelining: every complete line is answered in
 * order, replies are flushed by the host when input runs dry), RFC 2034
 * (enhanced status codes, except in the greeting and EHLO/HELO replies),
 * RFC 2033 (LMTP: the same loop; see smtp_lmtp.c).
 * The commands themselves live in smtp_commands.c.
 */
#include "smtp_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void smtp_settings_defaults(struct smtp_settings *st)
{
	memset(st, 0, sizeof(*st));
	st->hostname = "localhost";
	st->line_max = SMTP_LINE_MAX_DEFAULT;
	st->data_line_max = SMTP_DATA_LINE_MAX_DEFAULT;
	st->message_max = SMTP_MESSAGE_MAX_DEFAULT;
	st->max_recipients = SMTP_MAX_RCPT_DEFAULT;
	st->max_errors = SMTP_MAX_ERRORS_DEFAULT;
	st->output_max = 1024 * 1024;
	st->chunk_size = 64 * 1024;
}

static void copy_str(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src != NULL ? src : "");
}

struct smtp_session *smtp_session_new(const struct smtp_settings *st,
				      const char *peer_addr, const char *id)
{
	struct smtp_session *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->st = *st;
	if (s->st.line_max < 64)
		s->st.line_max = 64;
	copy_str(s->hostname, sizeof(s->hostname), st->hostname);
	s->st.hostname = s->hostname;
	copy_str(s->peer, sizeof(s->peer), peer_addr);
	copy_str(s->id, sizeof(s->id), id);
	if (s->st.data_line_max < 1000) /* 4.5.3.1.6 */
		s->st.data_line_max = 1000;
	if (s->st.max_recipients < 100) /* 4.5.3.1.8 */
		s->st.max_recipients = 100;
	if (s->st.chunk_size < 4096)
		s->st.chunk_size = 4096;
	copy_str(s->domain, sizeof(s->domain), st->domain);
	s->st.domain = s->domain;
	/* the reader takes the longest line any command may have; each
	 * command's own limit is checked by smtp_command_line() */
	size_t cmd_line = s->st.line_max;
	if (s->st.auth_offered && cmd_line < SMTP_AUTH_LINE_MAX)
		cmd_line = SMTP_AUTH_LINE_MAX;
	/* input holds at most one partial line plus what one feed step adds */
	size_t line =
		cmd_line > s->st.data_line_max ? cmd_line : s->st.data_line_max;
	buf_init(&s->in, line * 2 + 1024);
	buf_init(&s->out, s->st.output_max);
	buf_line_reader_init(&s->lines, cmd_line,
			     s->st.bare_lf_accept ? BUF_LINE_BARE_LF_ENDS : 0);
	s->state = SMTP_ST_GREETED;
	s->tls_active = st->tls_at_start;
	smtp_txn_init(s);
	smtp_auth_init(s);
	return s;
}

void smtp_session_free(struct smtp_session **sp)
{
	struct smtp_session *s = *sp;
	if (s == NULL)
		return;
	smtp_txn_free(s);
	smtp_auth_free(s);
	buf_free(&s->in);
	buf_free(&s->out);
	free(s);
	*sp = NULL;
}

struct buf *smtp_session_output(struct smtp_session *s)
{
	return &s->out;
}

enum smtp_request smtp_session_request(const struct smtp_session *s)
{
	return s->request;
}

bool smtp_session_tls_active(const struct smtp_session *s)
{
	return s->tls_active;
}

const char *smtp_session_id(const struct smtp_session *s)
{
	return s->id;
}

void smtp_close(struct smtp_session *s)
{
	s->state = SMTP_ST_CLOSING;
	s->request = SMTP_REQ_CLOSE;
	buf_clear(&s->in);
}

__attribute__((format(printf, 5, 0))) static void
reply_v(struct smtp_session *s, int code, const char *enh, int more,
	const char *fmt, va_list ap)
{
	char text[512];
	vsnprintf(text, sizeof(text), fmt, ap);
	int rc = buf_printf(&s->out, "%03d%c%s%s%s\r\n", code, more ? '-' : ' ',
			    enh != NULL ? enh : "", enh != NULL ? " " : "",
			    text);
	if (rc != 0) {
		/* The host let replies pile up past output_max: nothing
		 * sensible can be said any more. */
		log_warn(s->id, "smtp.output_full bytes=%zu", buf_len(&s->out));
		smtp_close(s);
	}
}

void smtp_reply(struct smtp_session *s, int code, const char *enh, int more,
		const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	reply_v(s, code, enh, more, fmt, ap);
	va_end(ap);
}

void smtp_reply_error(struct smtp_session *s, int code, const char *enh,
		      const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	reply_v(s, code, enh, 0, fmt, ap);
	va_end(ap);
	if (s->request != SMTP_REQ_NONE)
		return;
	if (++s->errors >= s->st.max_errors) {
		log_info(s->id, "smtp.too_many_errors errors=%u", s->errors);
		smtp_reply(s, 421, "4.7.0", 0,
			   "%s Too many errors, closing connection",
			   s->hostname);
		smtp_close(s);
	}
}

void smtp_session_start(struct smtp_session *s)
{
	/* RFC 5321 4.3.1 / 4.2: the greeting names us; RFC 2034 (4): it
	 * carries no enhanced status code. */
	smtp_reply(s, 220, NULL, 0, "%s %s Quill", s->hostname,
		   s->st.mode == SMTP_MODE_LMTP ? "LMTP" : "ESMTP");
}

void smtp_session_refuse(struct smtp_session *s)
{
	smtp_reply(s, 421, "4.7.0", 0,
		   "%s Too many connections from your address, try again "
		   "later",
		   s->hostname);
	smtp_close(s);
}

void smtp_session_pregreet(struct smtp_session *s)
{
	log_info(s->id, "smtp.input_before_greeting");
	smtp_reply(s, 554, "5.5.1", 0,
		   "%s Protocol error: input before greeting", s->hostname);
	smtp_close(s);
}

/* The longest line cmd may have, CRLF included: RFC 5321 4.5.3.1.4;
 * RFC 4954 4 (AUTH lines) and 3 (MAIL grows by 500 for AUTH=). */
static size_t line_limit(const struct smtp_session *s,
			 const struct smtp_command *cmd)
{
	if (cmd != NULL && s->st.auth_offered) {
		if (cmd->act == smtp_act_auth &&
		    s->st.line_max < SMTP_AUTH_LINE_MAX)
			return SMTP_AUTH_LINE_MAX;
		if (cmd->act == smtp_act_mail)
			return s->st.line_max + 500;
	}
	return s->st.line_max;
}

static void reply_too_long(struct smtp_session *s, size_t max)
{
	smtp_reply_error(s, 500, "5.5.2",
			 "Line too long (at most %zu octets with CRLF)", max);
}

/* One complete command line, terminator removed. */
static void smtp_command_line(struct smtp_session *s, const char *line,
			      size_t len)
{
	if (memchr(line, '\0', len) != NULL) {
		smtp_reply_error(s, 500, "5.5.2", "NUL byte in command line");
		return;
	}
	const char *sp = memchr(line, ' ', len);
	size_t verb_len = sp != NULL ? (size_t)(sp - line) : len;
	const char *args = sp != NULL ? sp + 1 : line + len;
	size_t args_len = sp != NULL ? len - verb_len - 1 : 0;

	s->commands++;
	log_debug(s->id, "smtp.command line=\"%.*s\"", (int)len, line);
	const struct smtp_command *cmd = smtp_command_find(line, verb_len);
	if (len + 2 > line_limit(s, cmd)) {
		reply_too_long(s, line_limit(s, cmd));
		return;
	}
	if (cmd == NULL) {
		smtp_reply_error(s, 500, "5.5.1", "Command unrecognized");
		return;
	}
	if (!smtp_command_in_mode(s, cmd)) { /* RFC 2033 4.1 */
		smtp_reply_error(s, 500, "5.5.1", "%s",
				 s->st.mode == SMTP_MODE_LMTP
					 ? "This is LMTP: use LHLO"
					 : "Command unrecognized");
		return;
	}
	if (!(cmd->states & s->state)) {
		smtp_reply_error(
			s, 503, "5.5.1", "Bad sequence of commands%s",
			s->state == SMTP_ST_GREETED
				? (s->st.mode == SMTP_MODE_LMTP
					   ? ": send LHLO first"
					   : ": send EHLO or HELO first")
			: s->state == SMTP_ST_READY ? ": send MAIL first"
						    : "");
		return;
	}
	if ((cmd->flags & SMTP_CMD_NO_ARGS) && sp != NULL) {
		smtp_reply_error(s, 501, "5.5.4",
				 "Syntax error: %s takes no parameters",
				 cmd->name);
		return;
	}
	if (cmd->check != NULL && cmd->check(s, args, args_len) != 0)
		return;
	cmd->act(s, args, args_len);
	/* RFC 2920 3.1: this command ends a group, so the client should
	 * have waited for its reply before sending more. */
	if ((cmd->flags & SMTP_CMD_GROUP_END) && buf_len(&s->in) > 0 &&
	    s->request == SMTP_REQ_NONE)
		log_info(s->id, "smtp.improper_pipelining after=%s", cmd->name);
}

static void bad_line_end(struct smtp_session *s, enum buf_line_result r)
{
	const char *text = r == BUF_LINE_BARE_LF
				   ? "Bare LF received; lines end in CRLF"
				   : "Bare CR in command line";
	if (s->state == SMTP_ST_AUTH)
		smtp_auth_abort(s, 500, "5.5.2", text);
	else
		smtp_reply_error(s, 500, "5.5.2", "%s", text);
}

/* Answer every complete line in the input, until a request stops us. */
static void smtp_process(struct smtp_session *s)
{
	const char *line;
	size_t len;

	while (s->request == SMTP_REQ_NONE) {
		if (s->state == SMTP_ST_DATA) {
			smtp_data_input(s);
			if (s->request == SMTP_REQ_NONE)
				return; /* all input read */
			continue;
		}
		if (s->state == SMTP_ST_BDAT) {
			smtp_bdat_input(s);
			if (s->state == SMTP_ST_BDAT &&
			    s->request == SMTP_REQ_NONE)
				return; /* the chunk goes on */
			continue;
		}
		enum buf_line_result r =
			buf_line_next(&s->lines, &s->in, &line, &len);
		switch (r) {
		case BUF_LINE_MORE:
			return;
		case BUF_LINE_OK:
			if (s->state == SMTP_ST_AUTH)
				smtp_auth_line(s, line, len);
			else
				smtp_command_line(s, line, len);
			break;
		case BUF_LINE_TOO_LONG:
			if (s->state == SMTP_ST_AUTH) /* RFC 4954 4 */
				smtp_auth_abort(s, 500, "5.5.6",
						"Authentication exchange line "
						"is too long");
			else
				reply_too_long(s, s->lines.max);
			break;
		case BUF_LINE_BARE_LF:
		case BUF_LINE_BARE_CR:
			bad_line_end(s, r);
			break;
		}
	}
}

size_t smtp_session_feed(struct smtp_session *s, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t taken = 0;

	while (taken < len && s->request == SMTP_REQ_NONE) {
		size_t n;
		if (buf_append_some(&s->in, p + taken, len - taken, &n) != 0) {
			log_error(s->id, "smtp.input_alloc_failed");
			smtp_close(s);
			break;
		}
		taken += n;
		smtp_process(s);
	}
	return taken;
}

void smtp_session_resume(struct smtp_session *s, const struct smtp_answer *a)
{
	if (s->request == SMTP_REQ_AUTH_CREDENTIALS ||
	    s->request == SMTP_REQ_AUTH_DELAY)
		smtp_auth_resume(s, a);
	else
		smtp_txn_resume(s, a);
	smtp_process(s); /* go on with what was already received */
}

void smtp_session_tls_done(struct smtp_session *s, bool ok,
			   const char *tls_desc)
{
	if (!ok) {
		log_info(s->id, "smtp.tls_failed");
		smtp_close(s);
		return;
	}
	/* RFC 3207 4.2: forget everything learnt before the handshake. */
	s->request = SMTP_REQ_NONE;
	s->tls_active = true;
	copy_str(s->tls_desc, sizeof(s->tls_desc), tls_desc);
	s->state = SMTP_ST_GREETED;
	s->esmtp = false;
	s->helo[0] = '\0';
	s->auth_user[0] = '\0'; /* an AUTH before TLS is forgotten too */
	smtp_transaction_reset(s);
	buf_clear(&s->in);
	buf_line_reader_init(&s->lines, s->lines.max, s->lines.flags);
	log_info(s->id, "smtp.tls tls=\"%s\"", s->tls_desc);
}

void smtp_session_shutdown(struct smtp_session *s)
{
	if (s->state == SMTP_ST_CLOSING)
		return;
	smtp_reply(s, 421, "4.3.2", 0, "%s Service shutting down", s->hostname);
	smtp_close(s);
}

void smtp_session_timeout(struct smtp_session *s)
{
	if (s->state == SMTP_ST_CLOSING)
		return;
	smtp_reply(s, 421, "4.4.2", 0, "%s Timeout, closing connection",
		   s->hostname);
	smtp_close(s);
}

enum smtp_timeout_kind smtp_session_timeout_kind(const struct smtp_session *s)
{
	/* RFC 5321 4.5.3.2.5-6: a data block may be slow; between commands
	 * 4.5.3.2.7 applies (a BDAT chunk's octets are message data too) */
	if (s->state == SMTP_ST_DATA || s->state == SMTP_ST_BDAT)
		return SMTP_TIMEOUT_DATA;
	return SMTP_TIMEOUT_COMMAND;
}
