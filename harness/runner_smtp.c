/*
 * runner_smtp.c - the runner's SMTP high-level steps smtp_hello and
 * smtp_auth (docs/scenarios.md, "High-level steps") and the command /
 * reply helpers smtp_send (runner_smtp_send.c) shares, on Quill's client
 * engines: lib/smtp_client (RFC 5321 4.2 replies) and lib/sasl_client
 * (RFC 4954 AUTH with RFC 4616 PLAIN, or LOGIN). Each command waits for
 * its reply within the step's `within`.
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

static int auth_plain(struct runner *r, struct runner_session *s,
		      const char *user, const char *pass, const char *code)
{
	size_t n = base64_encoded_len(strlen(user) + strlen(pass) + 2) + 1;
	char *b64 = malloc(n), *line = NULL;
	int rc;

	if (b64 == NULL || sasl_plain_response(NULL, user, pass, b64, n) != 0) {
		free(b64);
		return runner_error(r, "user and password cannot be sent with "
				       "PLAIN (empty, or not UTF-8)");
	}
	if (asprintf(&line, "AUTH PLAIN %s", b64) < 0)
		line = NULL;
	free(b64);
	if (line == NULL)
		return runner_error(r, "out of memory");
	rc = runner_smtp_exchange(r, s, line, "AUTH PLAIN", code);
	free(line);
	return rc;
}

static int smtp_auth(struct runner *r, struct runner_session *s,
		     const struct step_smtp *a)
{
	char *user = NULL, *pass = NULL;
	int rc = runner_expand(r, &a->user, &user, NULL);
	if (rc == RUN_OK)
		rc = runner_expand(r, &a->pass, &pass, NULL);
	if (rc == RUN_OK && a->mech_login)
		rc = auth_login(r, s, user, pass, a->code);
	else if (rc == RUN_OK)
		rc = auth_plain(r, s, user, pass, a->code);
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
