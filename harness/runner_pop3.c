/*
 * runner_pop3.c - the runner's POP3 high-level steps (docs/scenarios.md,
 * "High-level steps") on lib/pop3_client: pop3_login (RFC 1939 section 4
 * greeting, 7 USER / PASS), pop3_stat (5, STAT's drop listing),
 * pop3_retr (5, RETR: the body un-stuffed), pop3_dele (5) and pop3_quit
 * (6: +OK, then the server closes).
 */
#include "runner_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int pop3_read(struct runner *r, struct runner_session *s,
		     enum pop3_expect kind, const char *what,
		     struct pop3_response **rep)
{
	long long deadline = runner_deadline(r, r->step->within_ms);
	struct pop3_client *c = pop3_client_new(NULL);
	char err[400], desc[200];
	int rc = RUN_OK, rd;

	*rep = NULL;
	if (c == NULL || pop3_client_expect(c, kind) != 0) {
		pop3_client_free(&c);
		return runner_error(r, "out of memory");
	}
	snprintf(desc, sizeof(desc), "a response to %s", what);
	while ((rd = expect_pop3_read(c, &s->conn.in, rep, err, sizeof(err))) ==
	       EXPECT_MORE)
		if (runner_fill(r, s, deadline, desc, 0, &rc) != NET_OK)
			break;
	if (rd == EXPECT_BAD)
		rc = runner_fail(r, "%s: %s", what, err);
	pop3_client_free(&c);
	return rd == EXPECT_DONE ? RUN_OK : rc;
}

/* Send line (NULL: only read, for the greeting) and want +OK. */
static int pop3_ok(struct runner *r, struct runner_session *s, const char *line,
		   enum pop3_expect kind, const char *what,
		   struct pop3_response **rep_r)
{
	struct pop3_response *rep = NULL;
	struct expect_why why;
	char *cmd = NULL;
	int rc = RUN_OK;

	if (line != NULL) {
		if (asprintf(&cmd, "%s\r\n", line) < 0)
			return runner_error(r, "out of memory");
		rc = runner_send(r, s, cmd, strlen(cmd),
				 runner_deadline(r, r->step->within_ms));
		free(cmd);
	}
	if (rc == RUN_OK)
		rc = pop3_read(r, s, kind, what, &rep);
	if (rc == RUN_OK && rep->status != POP3_OK) {
		snprintf(why.expected, sizeof(why.expected), "+OK");
		expect_pop3_show(rep, why.got, sizeof(why.got));
		rc = runner_mismatch(r, what, &why);
	}
	if (rc == RUN_OK && rep_r != NULL)
		*rep_r = rep;
	else
		pop3_response_free(&rep);
	return rc;
}

/* "VERB value" with the template expanded. */
static int command(struct runner *r, const char *verb,
		   const struct scenario_str *arg, char **line)
{
	char *a;
	int rc = runner_expand(r, arg, &a, NULL);
	if (rc != RUN_OK)
		return rc;
	if (asprintf(line, "%s %s", verb, a) < 0)
		*line = NULL;
	free(a);
	return *line != NULL ? RUN_OK : runner_error(r, "out of memory");
}

static int run_command(struct runner *r, struct runner_session *s,
		       const char *verb, const struct scenario_str *arg,
		       enum pop3_expect kind, struct pop3_response **rep)
{
	char *line;
	int rc = command(r, verb, arg, &line);
	if (rc != RUN_OK)
		return rc;
	if (arg == &r->step->u.pop3.msg &&
	    strspn(line + strlen(verb) + 1, "0123456789") !=
		    strlen(line + strlen(verb) + 1)) {
		free(line);
		return runner_error(r, "msg is not a message number");
	}
	rc = pop3_ok(r, s, line, kind, verb, rep);
	free(line);
	return rc;
}

static int login(struct runner *r, struct runner_session *s,
		 const struct step_pop3 *p)
{
	int rc = RUN_OK;
	if (p->greeting)
		rc = pop3_ok(r, s, NULL, POP3_EXPECT_SINGLE, "the greeting",
			     NULL);
	if (rc == RUN_OK)
		rc = run_command(r, s, "USER", &p->user, POP3_EXPECT_SINGLE,
				 NULL);
	if (rc == RUN_OK)
		rc = run_command(r, s, "PASS", &p->pass, POP3_EXPECT_SINGLE,
				 NULL);
	return rc;
}

static int do_stat(struct runner *r, struct runner_session *s,
		   const struct step_pop3 *p)
{
	struct pop3_response *rep = NULL;
	unsigned long count = 0;
	unsigned long long size = 0;
	char num[32];
	int rc = pop3_ok(r, s, "STAT", POP3_EXPECT_SINGLE, "STAT", &rep);

	if (rc != RUN_OK)
		return rc;
	if (pop3_parse_drop_listing(rep->text, &count, &size) != 0) {
		struct expect_why why;
		snprintf(why.expected, sizeof(why.expected),
			 "+OK count size (RFC 1939 section 5)");
		expect_pop3_show(rep, why.got, sizeof(why.got));
		rc = runner_mismatch(r, "STAT", &why);
	}
	snprintf(num, sizeof(num), "%lu", count);
	if (rc == RUN_OK && p->capture_count[0] &&
	    vars_set_str(r->vars, p->capture_count, num) != 0)
		rc = runner_error(r, "out of memory");
	snprintf(num, sizeof(num), "%llu", size);
	if (rc == RUN_OK && p->capture_size[0] &&
	    vars_set_str(r->vars, p->capture_size, num) != 0)
		rc = runner_error(r, "out of memory");
	pop3_response_free(&rep);
	return rc;
}

static int retr(struct runner *r, struct runner_session *s,
		const struct step_pop3 *p)
{
	struct pop3_response *rep = NULL;
	int rc = run_command(r, s, "RETR", &p->msg, POP3_EXPECT_MULTI, &rep);
	if (rc == RUN_OK && p->capture[0] &&
	    vars_set(r->vars, p->capture, rep->body, rep->body_len) != 0)
		rc = runner_error(r, "cannot keep a message of %zu bytes",
				  rep->body_len);
	pop3_response_free(&rep);
	return rc;
}

static int quit(struct runner *r, struct runner_session *s)
{
	long long deadline = runner_deadline(r, r->step->within_ms);
	int rc = pop3_ok(r, s, "QUIT", POP3_EXPECT_SINGLE, "QUIT", NULL), res;

	while (rc == RUN_OK && !s->conn.eof) {
		if (buf_len(&s->conn.in) > 0)
			return runner_fail(r, "QUIT: data after +OK instead of "
					      "the close");
		if (runner_fill(r, s, deadline, "the close after QUIT",
				RUNNER_FILL_EOF_OK, &res) == NET_EOF)
			break;
		if (res != RUN_OK)
			return res;
	}
	if (rc == RUN_OK)
		runner_close(r, s);
	return rc;
}

int runner_do_pop3(struct runner *r, const struct scenario_step *st)
{
	struct runner_session *s;
	int rc = runner_session(r, st->session, &s);
	if (rc != RUN_OK)
		return rc;
	switch (st->kind) {
	case STEP_POP3_LOGIN:
		return login(r, s, &st->u.pop3);
	case STEP_POP3_STAT:
		return do_stat(r, s, &st->u.pop3);
	case STEP_POP3_RETR:
		return retr(r, s, &st->u.pop3);
	case STEP_POP3_DELE:
		return run_command(r, s, "DELE", &st->u.pop3.msg,
				   POP3_EXPECT_SINGLE, NULL);
	default:
		return quit(r, s);
	}
}
