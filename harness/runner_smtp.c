/*
 * runner_smtp.c - the runner's SMTP high-level steps smtp_hello and
 * smtp_auth (docs/scenarios.md, "High-level steps") and the command /
 * reply helpers smtp_send (runner_smtp_send.c) shares, on Quill's client
 * engines: lib/smtp_client (RFC 5321 4.2 replies) and lib/sasl_client
 * (RFC 4954 AUTH with RFC 4616 PLAIN, LOGIN, or SCRAM-SHA-256 of RFC
 * 5802 and 7677). Each command waits for its reply within the step's
 * `within`.
 */
#include "runner_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "sasl_client.h"

/* One SMTP reply; what names it in messages ("EHLO", "greeting"). */
int runner_smtp_read(struct runner *r, struct runner_session *s,
		     const char *what, struct smtp_reply **rep)
{
	long long deadline = runner_deadline(r, r->step->within_ms);
	struct smtp_client *c = smtp_client_new(NULL);
	char err[400], desc[200];
	int rc = RUN_OK, rd;

	*rep = NULL;
	if (c == NULL)
		return runner_error(r, "out of memory");
	snprintf(desc, sizeof(desc), "a reply to %s", what);
	while ((rd = expect_smtp_read(c, &s->conn.in, rep, err, sizeof(err))) ==
	       EXPECT_MORE)
		if (runner_fill(r, s, deadline, desc, 0, &rc) != NET_OK)
			break;
	if (rd == EXPECT_BAD)
		rc = runner_fail(r, "%s: %s", what, err);
	smtp_client_free(&c);
	return rd == EXPECT_DONE ? RUN_OK : rc;
}

int runner_smtp_command(struct runner *r, struct runner_session *s,
			const char *line, const char *what,
			struct smtp_reply **rep)
{
	char *cmd;
	int rc;
	*rep = NULL;
	if (asprintf(&cmd, "%s\r\n", line) < 0)
		return runner_error(r, "out of memory");
	rc = runner_send(r, s, cmd, strlen(cmd),
			 runner_deadline(r, r->step->within_ms));
	free(cmd);
	return rc == RUN_OK ? runner_smtp_read(r, s, what, rep) : rc;
}

int runner_smtp_want(struct runner *r, const struct smtp_reply *rep,
		     const char *code, const char *what)
{
	struct expect_why why;
	if (expect_code_matches(code, rep->code))
		return RUN_OK;
	snprintf(why.expected, sizeof(why.expected), "reply %s", code);
	expect_smtp_show(rep, why.got, sizeof(why.got));
	return runner_mismatch(r, what, &why);
}

/* Send a command and want a reply matching code. */
int runner_smtp_exchange(struct runner *r, struct runner_session *s,
			 const char *line, const char *what, const char *code)
{
	struct smtp_reply *rep;
	int rc = runner_smtp_command(r, s, line, what, &rep);
	if (rc == RUN_OK)
		rc = runner_smtp_want(r, rep, code, what);
	smtp_reply_free(&rep);
	return rc;
}

static int smtp_hello(struct runner *r, struct runner_session *s,
		      const struct step_smtp *h)
{
	struct smtp_reply *rep = NULL;
	char *name, *line = NULL;
	int rc = RUN_OK;

	if (h->greeting &&
	    (rc = runner_smtp_read(r, s, "the greeting", &rep)) == RUN_OK)
		rc = runner_smtp_want(r, rep, "220", "greeting");
	smtp_reply_free(&rep);
	if (rc != RUN_OK || (rc = runner_expand(r, &h->name, &name, NULL)))
		return rc;
	/* an lmtp session greets with LHLO (RFC 2033 4.1) */
	const char *verb = runner_session_lmtp(s) ? "LHLO" : "EHLO";
	if (asprintf(&line, "%s %s", verb, name) < 0)
		line = NULL;
	free(name);
	if (line == NULL)
		return runner_error(r, "out of memory");
	rc = runner_smtp_exchange(r, s, line, verb, "250");
	free(line);
	return rc;
}

/* AUTH LOGIN: answer 334 challenges with user, then password. */
static int auth_login(struct runner *r, struct runner_session *s,
		      const char *user, const char *pass, const char *code)
{
	const char *answers[] = {user, pass};
	struct smtp_reply *rep;
	int rc = runner_smtp_command(r, s, "AUTH LOGIN", "AUTH LOGIN", &rep);

	for (int i = 0; i < 2 && rc == RUN_OK && rep->code == 334; i++) {
		size_t n = base64_encoded_len(strlen(answers[i])) + 1;
		char *b64 = malloc(n);
		smtp_reply_free(&rep);
		if (b64 == NULL || sasl_login_encode(answers[i], b64, n) != 0) {
			free(b64);
			return runner_error(r, "out of memory");
		}
		rc = runner_smtp_command(r, s, b64,
					 i ? "the password" : "the user", &rep);
		free(b64);
	}
	if (rc == RUN_OK)
		rc = runner_smtp_want(r, rep, code, "AUTH LOGIN");
	smtp_reply_free(&rep);
	return rc;
}

/* PLAIN (RFC 4616) with the response on the AUTH line, or after an
 * empty 334 challenge (RFC 4954 4). */
static int auth_plain(struct runner *r, struct runner_session *s,
		      const struct step_smtp *a, const char *user,
		      const char *pass)
{
	size_t n = base64_encoded_len(strlen(user) + strlen(pass) + 2) + 1;
	char *b64 = malloc(n), *line = NULL;
	struct smtp_reply *rep = NULL;
	int rc;

	if (b64 == NULL || sasl_plain_response(NULL, user, pass, b64, n) != 0) {
		free(b64);
		return runner_error(r, "user and password cannot be sent with "
				       "PLAIN (empty, or not UTF-8)");
	}
	if (asprintf(&line, "AUTH PLAIN%s%s", a->initial ? " " : "",
		     a->initial ? b64 : "") < 0)
		line = NULL;
	if (line == NULL) {
		free(b64);
		return runner_error(r, "out of memory");
	}
	rc = runner_smtp_command(r, s, line, "AUTH PLAIN", &rep);
	if (rc == RUN_OK && !a->initial && rep->code == 334) {
		smtp_reply_free(&rep);
		rc = runner_smtp_command(r, s, b64, "the PLAIN response", &rep);
	}
	if (rc == RUN_OK)
		rc = runner_smtp_want(r, rep, a->code, "AUTH PLAIN");
	smtp_reply_free(&rep);
	free(line);
	free(b64);
	return rc;
}

/* One SCRAM message, base64, as a command line ("AUTH SCRAM-SHA-256 "
 * first for the initial one). */
static int scram_send(struct runner *r, struct runner_session *s,
		      const char *prefix, const struct buf *m, const char *what,
		      struct smtp_reply **rep)
{
	size_t n = strlen(prefix) + base64_encoded_len(buf_len(m)) + 1;
	char *line = malloc(n);
	int rc;
	if (line == NULL)
		return runner_error(r, "out of memory");
	memcpy(line, prefix, strlen(prefix));
	base64_encode(buf_data(m), buf_len(m), line + strlen(prefix),
		      n - strlen(prefix));
	rc = runner_smtp_command(r, s, line, what, rep);
	free(line);
	return rc;
}

/* A 334's challenge, decoded into ch; -1 if it is not one base64 line. */
static int scram_challenge(const struct smtp_reply *rep, struct buf *ch)
{
	const char *b64 = rep->lines[0];
	size_t max = base64_decoded_max(strlen(b64)) + 1, n = 0;
	unsigned char *tmp = rep->n_lines == 1 ? malloc(max) : NULL;
	int rc = -1;
	buf_clear(ch);
	if (tmp != NULL && base64_decode(b64, strlen(b64), tmp, max, &n) == 0)
		rc = buf_append(ch, tmp, n);
	free(tmp);
	return rc;
}

/* After the 334 of round 0 (server-first) or 1 (server-final): the next
 * line to send, or a failure. */
static int scram_round(struct runner *r, struct runner_session *s,
		       struct sasl_scram_client *c, int round,
		       struct smtp_reply **rep)
{
	struct buf ch, m;
	int rc = RUN_OK;
	buf_init(&ch, 65536);
	buf_init(&m, 65536);
	if (scram_challenge(*rep, &ch) != 0)
		rc = runner_fail(r, "SCRAM: a 334 that is not base64");
	else if (round == 0 && sasl_scram_client_final(c, buf_data(&ch),
						       buf_len(&ch), &m) != 0)
		rc = runner_fail(r, "SCRAM server-first: %s",
				 sasl_scram_client_error(c));
	else if (round == 1 &&
		 sasl_scram_client_verify(c, buf_data(&ch), buf_len(&ch)) != 0)
		rc = runner_fail(r, "SCRAM server-final: %s",
				 sasl_scram_client_error(c));
	smtp_reply_free(rep);
	if (rc == RUN_OK && round == 0)
		rc = scram_send(r, s, "", &m, "the SCRAM proof", rep);
	else if (rc == RUN_OK)
		rc = runner_smtp_command(r, s, "", "the empty line", rep);
	buf_free(&ch);
	buf_free(&m);
	return rc;
}

/* SCRAM-SHA-256 (RFC 5802, RFC 7677) with lib's client: client-first on
 * the AUTH line, the proof after the server-first 334, the server's
 * signature checked in the last 334, then an empty line (RFC 4954 4). */
static int auth_scram(struct runner *r, struct runner_session *s,
		      const char *user, const char *pass, const char *code)
{
	struct sasl_scram_client *c =
		sasl_scram_client_new(NULL, user, pass, NULL);
	struct smtp_reply *rep = NULL;
	struct buf m;
	int rc;
	if (c == NULL)
		return runner_error(r, "user and password cannot be used with "
				       "SCRAM-SHA-256 (SASLprep, ASCII only)");
	buf_init(&m, 65536);
	rc = sasl_scram_client_first(c, &m) != 0
		     ? runner_error(r, "SCRAM: %s", sasl_scram_client_error(c))
		     : scram_send(r, s, "AUTH SCRAM-SHA-256 ", &m,
				  "AUTH SCRAM-SHA-256", &rep);
	for (int round = 0; rc == RUN_OK && rep->code == 334 && round < 2;
	     round++)
		rc = scram_round(r, s, c, round, &rep);
	if (rc == RUN_OK)
		rc = runner_smtp_want(r, rep, code, "AUTH SCRAM-SHA-256");
	smtp_reply_free(&rep);
	sasl_scram_client_free(&c);
	buf_free(&m);
	return rc;
}

static int smtp_auth(struct runner *r, struct runner_session *s,
		     const struct step_smtp *a)
{
	char *user = NULL, *pass = NULL;
	int rc = runner_expand(r, &a->user, &user, NULL);
	if (rc == RUN_OK)
		rc = runner_expand(r, &a->pass, &pass, NULL);
	if (rc == RUN_OK && a->mech == AUTH_MECH_LOGIN)
		rc = auth_login(r, s, user, pass, a->code);
	else if (rc == RUN_OK && a->mech == AUTH_MECH_SCRAM)
		rc = auth_scram(r, s, user, pass, a->code);
	else if (rc == RUN_OK)
		rc = auth_plain(r, s, a, user, pass);
	free(user);
	free(pass);
	return rc;
}

int runner_do_smtp(struct runner *r, const struct scenario_step *st)
{
	struct runner_session *s;
	int rc = runner_session(r, st->session, &s);
	if (rc != RUN_OK)
		return rc;
	switch (st->kind) {
	case STEP_SMTP_HELLO:
		return smtp_hello(r, s, &st->u.smtp);
	case STEP_SMTP_AUTH:
		return smtp_auth(r, s, &st->u.smtp);
	default:
		return runner_smtp_send(r, s, &st->u.smtp);
	}
}
