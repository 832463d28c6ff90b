/*
 * expect_pop3.c - expect: { pop3: ok|err|cont, ... } (see expect.h): one
 * response read strictly by lib/pop3_client (RFC 1939 section 3: status
 * indicators, multi-line bodies and byte-stuffing; RFC 2449 section 8:
 * response codes; RFC 5034 section 4: "+ " continuations), then its
 * status, code, text and body compared.
 */
#include "expect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "transcript.h"

enum pop3_expect expect_pop3_kind(const struct expect_spec *e)
{
	if (e->pop3 == EXPECT_POP3_CONT)
		return POP3_EXPECT_SASL;
	return e->multiline ? POP3_EXPECT_MULTI : POP3_EXPECT_SINGLE;
}

int expect_pop3_read(struct pop3_client *c, struct buf *in,
		     struct pop3_response **r_r, char *err, size_t errlen)
{
	for (;;) {
		int rc = pop3_client_next(c, r_r);
		if (rc == 1)
			return EXPECT_DONE;
		if (rc < 0) {
			snprintf(err, errlen, "not a valid POP3 response: %s",
				 pop3_client_error(c));
			return EXPECT_BAD;
		}
		/* whole lines only: bytes after the response stay */
		const unsigned char *p = buf_data(in);
		const unsigned char *lf = memchr(p, '\n', buf_len(in));
		size_t n = lf != NULL ? (size_t)(lf - p) + 1 : 0;
		if (lf == NULL)
			return EXPECT_MORE;
		int frc = pop3_client_feed(c, p, n);
		buf_consume(in, n);
		if (frc != 0) {
			snprintf(err, errlen, "not a valid POP3 response: %s",
				 pop3_client_error(c));
			return EXPECT_BAD;
		}
	}
}

static const char *status_name(enum pop3_status st)
{
	return st == POP3_OK ? "+OK" : st == POP3_ERR ? "-ERR" : "+";
}

void expect_pop3_show(const struct pop3_response *r, char *out, size_t n)
{
	char text[1024];
	transcript_escape_str(text, sizeof(text), r->text, strlen(r->text));
	if (r->multiline)
		snprintf(out, n, "%s %s (and %zu body line%s)",
			 status_name(r->status), text, r->body_lines,
			 r->body_lines == 1 ? "" : "s");
	else
		snprintf(out, n, "%s %s", status_name(r->status), text);
}

/* The text after a "[CODE]" at its start (RFC 2449 section 8). */
static const char *after_code(const char *t)
{
	const char *close;
	if (t[0] != '[' || (close = strchr(t, ']')) == NULL)
		return t;
	return close[1] == ' ' ? close + 2 : close + 1;
}

/* The body's lines (CRLF separated), at most max, into out. */
static size_t body_lines(const struct pop3_response *r, struct expect_text *out,
			 size_t max)
{
	const char *p = (const char *)r->body;
	size_t left = r->body_len, n = 0;
	while (left > 0 && n < max) {
		const char *lf = memchr(p, '\n', left);
		size_t len = lf != NULL ? (size_t)(lf - p) : left;
		out[n].s = p;
		out[n].len = len > 0 && p[len - 1] == '\r' ? len - 1 : len;
		n++;
		if (lf == NULL)
			break;
		left -= len + 1;
		p += len + 1;
	}
	return n;
}

static int match_status(const struct expect_spec *e,
			const struct pop3_response *r, struct vars *v,
			struct expect_why *why)
{
	static const enum pop3_status want[] = {POP3_OK, POP3_ERR, POP3_CONT};
	if (r->status != want[e->pop3]) {
		snprintf(why->expected, sizeof(why->expected), "%s",
			 status_name(want[e->pop3]));
		return EXPECT_FAIL;
	}
	if (e->rcode.s == NULL)
		return EXPECT_PASS;
	char *code = expect_expand(&e->rcode, v, NULL, why);
	if (code == NULL)
		return EXPECT_ERROR;
	bool none = strcmp(code, "none") == 0;
	bool ok = none ? r->code[0] == '\0' : strcasecmp(code, r->code) == 0;
	if (!ok && none)
		snprintf(why->expected, sizeof(why->expected),
			 "no response code");
	else if (!ok)
		snprintf(why->expected, sizeof(why->expected),
			 "response code [%s]", code);
	free(code);
	return ok ? EXPECT_PASS : EXPECT_FAIL;
}

static bool has_line(const struct expect_text *l, size_t n, const char *s,
		     size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (l[i].len == len && memcmp(l[i].s, s, len) == 0)
			return true;
	return false;
}

/* body_re (some line matches) or body_lacks_re (none does). */
static int body_match_re(const struct scenario_re *sre,
			 const struct expect_text *l, size_t n, struct vars *v,
			 struct expect_why *why, bool want)
{
	if (sre->src.s == NULL)
		return EXPECT_PASS;
	struct expect_re re;
	bool found = false;
	if (expect_re_get(sre, v, &re, why) != 0)
		return EXPECT_ERROR;
	for (size_t i = 0; i < n && !found; i++)
		found = scenario_re_exec(re.re, l[i].s, l[i].len, 0, NULL);
	expect_re_put(&re);
	if (found != want)
		snprintf(why->expected, sizeof(why->expected), "%s /%s/",
			 want ? "a body line matching"
			      : "no body line matching",
			 sre->src.s);
	return found == want ? EXPECT_PASS : EXPECT_FAIL;
}

static int match_body(const struct expect_spec *e, const struct expect_text *l,
		      size_t n, struct vars *v, struct expect_why *why)
{
	if (e->body_lines >= 0 && (size_t)e->body_lines != n) {
		snprintf(why->expected, sizeof(why->expected), "%ld body lines",
			 e->body_lines);
		return EXPECT_FAIL;
	}
	for (size_t i = 0; i < e->n_body_has; i++) {
		size_t len;
		char *want = expect_expand(&e->body_has[i], v, &len, why);
		if (want == NULL)
			return EXPECT_ERROR;
		bool ok = has_line(l, n, want, len);
		if (!ok)
			snprintf(why->expected, sizeof(why->expected),
				 "the body line '%s'", want);
		free(want);
		if (!ok)
			return EXPECT_FAIL;
	}
	int rc = body_match_re(&e->body_re, l, n, v, why, true);
	if (rc == EXPECT_PASS)
		rc = body_match_re(&e->body_lacks_re, l, n, v, why, false);
	return rc;
}

int expect_pop3_match(const struct expect_spec *e,
		      const struct pop3_response *r, struct vars *v,
		      struct expect_why *why)
{
	struct expect_text *lines = NULL, textl;
	size_t n = 0;
	int rc;

	expect_pop3_show(r, why->got, sizeof(why->got));
	rc = match_status(e, r, v, why);
	if (rc == EXPECT_PASS)
		rc = expect_match_text(e, after_code(r->text), v, why);
	if (rc != EXPECT_PASS)
		return rc;
	if (r->multiline && r->body_lines > 0) {
		lines = calloc(r->body_lines + 1, sizeof(*lines));
		if (lines == NULL) {
			snprintf(why->expected, sizeof(why->expected),
				 "out of memory");
			return EXPECT_ERROR;
		}
		n = body_lines(r, lines, r->body_lines + 1);
	}
	rc = match_body(e, lines, n, v, why);
	if (rc == EXPECT_PASS && r->multiline)
		rc = expect_captures(e->captures, e->n_captures, lines, n, v,
				     why);
	else if (rc == EXPECT_PASS) {
		textl.s = r->text;
		textl.len = strlen(r->text);
		rc = expect_captures(e->captures, e->n_captures, &textl, 1, v,
				     why);
	}
	free(lines);
	return rc;
}
