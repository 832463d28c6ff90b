/*
 * runner_smtp_send.c - the smtp_send step: one mail transaction (RFC 5321
 * 3.3: MAIL, RCPT for each recipient, DATA, the message dot-stuffed per
 * 4.5.2 and ended by CRLF.CRLF). Line ends of the message are made CRLF
 * (a scenario's YAML block has LF). The first reply that is not the
 * expected go-ahead ends the transaction and is compared with `expect`;
 * otherwise the reply to the message is. ${last_reply} gets the reply
 * compared. In an LMTP session (RFC 2033 4.2) the message gets one reply
 * per recipient, in RCPT order: each is compared, the last one kept.
 */
#include "runner_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "smtp_client.h"

#define PHASE_NEXT 3 /* the go-ahead came: go on */
#define DATA_MAX   (2u * SCENARIO_MAX_SEND + 16)

static int set_last_reply(struct runner *r, const struct smtp_reply *rep)
{
	struct buf b;
	int rc;
	buf_init(&b, 1024 * 1024);
	rc = expect_smtp_text(rep, rep->code, &b);
	if (rc == 0)
		rc = vars_set(r->vars, "last_reply", buf_data(&b), buf_len(&b));
	buf_free(&b);
	return rc == 0 ? RUN_OK : runner_error(r, "cannot set last_reply");
}

/* Send line; a reply matching ok gives PHASE_NEXT, else it must match
 * the step's code (RUN_OK: the transaction ends as expected). */
static int phase(struct runner *r, struct runner_session *s, const char *line,
		 const char *what, const char *ok, const char *code)
{
	struct smtp_reply *rep;
	int rc = runner_smtp_command(r, s, line, what, &rep);
	if (rc != RUN_OK)
		return rc;
	if (expect_code_matches(ok, rep->code))
		rc = PHASE_NEXT;
	else if ((rc = runner_smtp_want(r, rep, code, what)) == RUN_OK)
		rc = set_last_reply(r, rep);
	smtp_reply_free(&rep);
	return rc;
}

/* The message with every bare LF made CRLF. */
static int crlf(const char *in, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len; i++) {
		if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r') &&
		    buf_append(out, "\r", 1) != 0)
			return -1;
		if (buf_append(out, &in[i], 1) != 0)
			return -1;
	}
	return 0;
}

static int message_bytes(struct runner *r, const struct step_smtp *m,
			 struct buf *out)
{
	struct buf raw;
	char *data = NULL;
	size_t len = 0;
	int rc = RUN_OK;

	if (m->file != NULL) {
		FILE *f = fopen(m->file, "rb");
		char chunk[65536];
		size_t n;
		buf_init(&raw, SCENARIO_MAX_SEND);
		while (f != NULL && rc == 0 &&
		       (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			rc = buf_append(&raw, chunk, n);
		if (f == NULL || ferror(f) || rc != 0)
			rc = runner_error(r, "cannot read %s", m->file);
		if (f != NULL)
			fclose(f);
		if (rc == RUN_OK &&
		    crlf((const char *)buf_data(&raw), buf_len(&raw), out) != 0)
			rc = runner_error(r, "message too large");
		buf_free(&raw);
		return rc;
	}
	if ((rc = runner_expand(r, &m->data, &data, &len)) != RUN_OK)
		return rc;
	if (crlf(data, len, out) != 0)
		rc = runner_error(r, "message too large");
	free(data);
	return rc;
}

/* The message, dot-stuffed and ended by ".CRLF", sent; then its reply. */
static int send_message(struct runner *r, struct runner_session *s,
			const struct step_smtp *m)
{
	struct buf msg, wire;
	struct smtp_reply *rep = NULL;
	int rc;

	buf_init(&msg, DATA_MAX);
	buf_init(&wire, DATA_MAX);
	rc = message_bytes(r, m, &msg);
	if (rc == RUN_OK &&
	    smtp_dot_stuff(buf_data(&msg), buf_len(&msg), &wire) != 0)
		rc = runner_error(r, "the message holds a bare CR or is too "
				     "large to send");
	if (rc == RUN_OK)
		rc = runner_send(r, s, buf_data(&wire), buf_len(&wire),
				 runner_deadline(r, r->step->within_ms));
	buf_free(&msg);
	buf_free(&wire);
	size_t replies = runner_session_lmtp(s) ? m->n_to : 1;
	for (size_t i = 0; i < replies && rc == RUN_OK; i++) {
		char what[64];
		if (replies > 1)
			snprintf(what, sizeof(what),
				 "the message, recipient %zu", i + 1);
		else
			snprintf(what, sizeof(what), "the message");
		rc = runner_smtp_read(r, s, what, &rep);
		if (rc == RUN_OK)
			rc = runner_smtp_want(r, rep, m->code, what);
		if (rc == RUN_OK)
			rc = set_last_reply(r, rep);
		smtp_reply_free(&rep);
	}
	return rc;
}

/* "MAIL FROM:<addr>" and the like, the address expanded. */
static int path_line(struct runner *r, const char *verb,
		     const struct scenario_str *addr, char **line)
{
	char *a;
	int rc = runner_expand(r, addr, &a, NULL);
	if (rc != RUN_OK)
		return rc;
	if (asprintf(line, "%s:<%s>", verb, a) < 0)
		*line = NULL;
	free(a);
	return *line != NULL ? RUN_OK : runner_error(r, "out of memory");
}

int runner_smtp_send(struct runner *r, struct runner_session *s,
		     const struct step_smtp *m)
{
	char *line = NULL;
	int rc = path_line(r, "MAIL FROM", &m->from, &line);

	if (rc == RUN_OK)
		rc = phase(r, s, line, "MAIL FROM", "2xx", m->code);
	free(line);
	for (size_t i = 0; i < m->n_to && rc == PHASE_NEXT; i++) {
		rc = path_line(r, "RCPT TO", &m->to[i], &line);
		if (rc == RUN_OK)
			rc = phase(r, s, line, line, "2xx", m->code);
		free(line);
	}
	if (rc == PHASE_NEXT)
		rc = phase(r, s, "DATA", "DATA", "354", m->code);
	if (rc == PHASE_NEXT)
		rc = send_message(r, s, m);
	return rc;
}
