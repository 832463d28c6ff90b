/*
 * runner_expect.c - the runner's expect: step (docs/scenarios.md,
 * "Expecting"): read one reply of the named kind from the session within
 * the step's deadline (expect.h readers), then compare it (expect.h
 * matchers). A reply that is not well-formed, a close or silence fails
 * the step with what was expected and what came.
 */
#include "buf.h"
#include "runner_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "reply 250", "+OK", ... for messages about replies that never came. */
static void describe(const struct expect_spec *e, char *out, size_t n)
{
	static const char *const pop3[] = {"+OK", "-ERR", "a '+' continuation"};
	switch (e->kind) {
	case EXPECT_SMTP:
		snprintf(out, n, "reply %s", e->code);
		break;
	case EXPECT_POP3:
		snprintf(out, n, "%s", pop3[e->pop3]);
		break;
	case EXPECT_IMAP:
		snprintf(out, n, "the tagged reply to %s", e->tag.s);
		break;
	case EXPECT_IMAP_UNTAGGED:
		snprintf(out, n, "an untagged line matching /%s/",
			 e->text_re.src.s);
		break;
	default:
		snprintf(out, n, "a line");
		break;
	}
}

/* A reader's EXPECT_BAD as a failure. */
static int bad_reply(struct runner *r, const char *expected, const char *err)
{
	struct expect_why why;
	snprintf(why.expected, sizeof(why.expected), "%s", expected);
	snprintf(why.got, sizeof(why.got), "%s", err);
	return runner_mismatch(r, NULL, &why);
}

static int expect_smtp(struct runner *r, struct runner_session *s,
		       const struct scenario_step *st, const char *desc)
{
	long long deadline = runner_deadline(r, st->within_ms);
	struct smtp_client *c = smtp_client_new(NULL);
	struct smtp_reply *rep = NULL;
	struct expect_why why;
	char err[400];
	int rc = RUN_OK, rd;

	if (c == NULL)
		return runner_error(r, "out of memory");
	while ((rd = expect_smtp_read(c, &s->conn.in, &rep, err,
				      sizeof(err))) == EXPECT_MORE)
		if (runner_fill(r, s, deadline, desc, 0, &rc) != NET_OK)
			break;
	if (rd == EXPECT_BAD)
		rc = bad_reply(r, desc, err);
	else if (rd == EXPECT_DONE)
		rc = runner_verdict(
			r, NULL,
			expect_smtp_match(&st->u.expect, rep, r->vars, &why),
			&why);
	smtp_reply_free(&rep);
	smtp_client_free(&c);
	return rc;
}

static int expect_pop3(struct runner *r, struct runner_session *s,
		       const struct scenario_step *st, const char *desc)
{
	long long deadline = runner_deadline(r, st->within_ms);
	struct pop3_client *c = pop3_client_new(NULL);
	struct pop3_response *rep = NULL;
	struct expect_why why;
	char err[400];
	int rc = RUN_OK, rd;

	if (c == NULL ||
	    pop3_client_expect(c, expect_pop3_kind(&st->u.expect)) != 0) {
		pop3_client_free(&c);
		return runner_error(r, "out of memory");
	}
	while ((rd = expect_pop3_read(c, &s->conn.in, &rep, err,
				      sizeof(err))) == EXPECT_MORE)
		if (runner_fill(r, s, deadline, desc, 0, &rc) != NET_OK)
			break;
	if (rd == EXPECT_BAD)
		rc = bad_reply(r, desc, err);
	else if (rd == EXPECT_DONE)
		rc = runner_verdict(
			r, NULL,
			expect_pop3_match(&st->u.expect, rep, r->vars, &why),
			&why);
	pop3_response_free(&rep);
	pop3_client_free(&c);
	return rc;
}

static int expect_imap(struct runner *r, struct runner_session *s,
		       const struct scenario_step *st, const char *desc)
{
	long long deadline = runner_deadline(r, st->within_ms);
	struct expect_imap im;
	struct expect_why why;
	char err[400], *tag;
	int rc, rd;

	if ((rc = runner_expand(r, &st->u.expect.tag, &tag, NULL)) != RUN_OK)
		return rc;
	expect_imap_init(&im, tag);
	free(tag);
	while ((rd = expect_imap_feed(&im, &s->conn.in, err, sizeof(err))) ==
	       EXPECT_MORE)
		if (runner_fill(r, s, deadline, desc, 0, &rc) != NET_OK)
			break;
	if (rd == EXPECT_BAD)
		rc = bad_reply(r, desc, err);
	else if (rd == EXPECT_DONE)
		rc = runner_verdict(
			r, NULL,
			expect_imap_match(&st->u.expect, &im, r->vars, &why),
			&why);
	expect_imap_free(&im);
	return rc;
}

static int expect_untagged(struct runner *r, struct runner_session *s,
			   const struct scenario_step *st, const char *desc)
{
	long long deadline = runner_deadline(r, st->within_ms);
	const struct expect_spec *e = &st->u.expect;
	struct expect_imap_reader rd;
	struct expect_re re;
	struct expect_why why;
	char err[400], *line = NULL;
	size_t len = 0, skipped = 0;
	int rc = RUN_OK, res;

	if (expect_re_get(&e->text_re, r->vars, &re, &why) != 0)
		return runner_error(r, "%s", why.expected);
	expect_imap_reader_init(&rd);
	while ((res = expect_imap_untagged(&rd, &s->conn.in, re.re, &line, &len,
					   &skipped, err, sizeof(err))) ==
	       EXPECT_MORE)
		if (runner_fill(r, s, deadline, desc, 0, &rc) != NET_OK)
			break;
	if (res == EXPECT_BAD)
		rc = bad_reply(r, desc, err);
	else if (res == EXPECT_DONE) {
		struct expect_text t = {line, len};
		rc = runner_verdict(r, NULL,
				    expect_captures(e->captures, e->n_captures,
						    &t, 1, r->vars, &why),
				    &why);
	}
	free(line);
	expect_imap_reader_free(&rd);
	expect_re_put(&re);
	return rc;
}

static int expect_line(struct runner *r, struct runner_session *s,
		       const struct scenario_step *st, const char *desc)
{
	long long deadline = runner_deadline(r, st->within_ms);
	struct expect_why why;
	char err[400], *line = NULL;
	size_t len = 0;
	int rc = RUN_OK, rd;

	while ((rd = expect_line_read(&s->conn.in, &line, &len, err,
				      sizeof(err))) == EXPECT_MORE)
		if (runner_fill(r, s, deadline, desc, 0, &rc) != NET_OK)
			break;
	if (rd == EXPECT_BAD)
		rc = bad_reply(r, desc, err);
	else if (rd == EXPECT_DONE)
		rc = runner_verdict(r, NULL,
				    expect_line_match(&st->u.expect, line, len,
						      r->vars, &why),
				    &why);
	free(line);
	return rc;
}

static int expect_nothing(struct runner *r, struct runner_session *s,
			  const struct scenario_step *st)
{
	unsigned ms = st->u.expect.nothing_ms;
	long long deadline = net_now_ms() + ms;
	struct buf *in = &s->conn.in;
	char desc[64];
	int rc = RUN_OK, n = NET_OK;

	snprintf(desc, sizeof(desc), "nothing for %u.%03u s", ms / 1000,
		 ms % 1000);
	if (deadline > r->deadline)
		return runner_error(r,
				    "the scenario's timeout (%u s) is "
				    "shorter than the wait",
				    r->timeout_s);
	if (buf_len(in) == 0)
		n = runner_fill(r, s, deadline, desc, RUNNER_FILL_TIMEOUT_OK,
				&rc);
	if (n == NET_TIMEOUT)
		return RUN_OK;
	if (n == NET_OK) {
		struct expect_why why;
		char got[600];
		transcript_escape_str(got, sizeof(got), buf_data(in),
				      buf_len(in));
		snprintf(why.expected, sizeof(why.expected), "%s", desc);
		snprintf(why.got, sizeof(why.got), "'%s'", got);
		return runner_mismatch(r, NULL, &why);
	}
	return rc;
}

int runner_do_expect(struct runner *r, const struct scenario_step *st)
{
	struct runner_session *s;
	char desc[300];
	int rc = runner_session(r, st->session, &s);

	if (rc != RUN_OK)
		return rc;
	describe(&st->u.expect, desc, sizeof(desc));
	switch (st->u.expect.kind) {
	case EXPECT_SMTP:
		return expect_smtp(r, s, st, desc);
	case EXPECT_POP3:
		return expect_pop3(r, s, st, desc);
	case EXPECT_IMAP:
		return expect_imap(r, s, st, desc);
	case EXPECT_IMAP_UNTAGGED:
		return expect_untagged(r, s, st, desc);
	case EXPECT_NOTHING:
		return expect_nothing(r, s, st);
	default:
		return expect_line(r, s, st, desc);
	}
}
