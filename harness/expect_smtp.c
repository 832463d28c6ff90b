/*
 * expect_smtp.c - expect: { smtp: CODE, ... } (see expect.h): one reply
 * read strictly by lib/smtp_client (RFC 5321 4.2, 4.2.1: multi-line form,
 * the same code on every line), then its code, RFC 3463 enhanced code,
 * text, EHLO keywords (RFC 5321 4.1.1.1) and line count compared.
 */
#include "expect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "transcript.h"

int expect_smtp_read(struct smtp_client *c, struct buf *in,
		     struct smtp_reply **r_r, char *err, size_t errlen)
{
	for (;;) {
		int rc = smtp_client_next_reply(c, r_r);
		if (rc == 1)
			return EXPECT_DONE;
		if (rc < 0) {
			snprintf(err, errlen, "not a valid SMTP reply: %s",
				 smtp_client_error(c));
			return EXPECT_BAD;
		}
		/* Feed whole lines, up to the reply's last: bytes after it
		 * belong to the next step. */
		const unsigned char *p = buf_data(in);
		const unsigned char *lf = memchr(p, '\n', buf_len(in));
		size_t n = lf != NULL ? (size_t)(lf - p) + 1 : 0;
		if (lf == NULL && buf_len(in) > SMTP_CLIENT_LINE_MAX_DEFAULT) {
			snprintf(err, errlen,
				 "not a valid SMTP reply: a line "
				 "of more than %d bytes",
				 SMTP_CLIENT_LINE_MAX_DEFAULT);
			return EXPECT_BAD;
		}
		if (lf == NULL)
			return EXPECT_MORE;
		int frc = smtp_client_feed(c, p, n);
		buf_consume(in, n);
		if (frc != 0) {
			snprintf(err, errlen, "not a valid SMTP reply: %s",
				 smtp_client_error(c));
			return EXPECT_BAD;
		}
	}
}

int expect_smtp_text(const struct smtp_reply *r, int code, struct buf *out)
{
	for (size_t i = 0; i < r->n_lines; i++)
		if (buf_printf(out, "%s%03d%c%s", i ? "\n" : "", code,
			       i + 1 < r->n_lines ? '-' : ' ',
			       r->lines[i]) != 0)
			return -1;
	return 0;
}

void expect_smtp_show(const struct smtp_reply *r, char *out, size_t n)
{
	char first[1024];
	transcript_escape_str(first, sizeof(first), r->lines[0],
			      strlen(r->lines[0]));
	if (r->n_lines > 1)
		snprintf(out, n, "%03d %s (+%zu more line%s)", r->code, first,
			 r->n_lines - 1, r->n_lines > 2 ? "s" : "");
	else
		snprintf(out, n, "%03d %s", r->code, first);
}

/* The first line's text after the enhanced code, if any. */
static const char *first_text(const struct smtp_reply *r)
{
	const char *t = r->lines[0];
	size_t n = strlen(r->enhanced);
	if (n > 0 && strncmp(t, r->enhanced, n) == 0)
		t += n + (t[n] == ' ');
	return t;
}

/* Words of s (space separated) into w; returns the count (at most max). */
static size_t split_words(const char *s, const char **w, size_t *wl, size_t max)
{
	size_t n = 0;
	while (*s != '\0' && n < max) {
		while (*s == ' ')
			s++;
		if (*s == '\0')
			break;
		w[n] = s;
		while (*s != '\0' && *s != ' ')
			s++;
		wl[n] = (size_t)(s - w[n]);
		n++;
	}
	return n;
}

/* Whether an EHLO line offers keyword spec[0] with every param in spec. */
static bool ehlo_line_has(const char *line, const char **sw, size_t *sl,
			  size_t sn)
{
	const char *lw[64];
	size_t ll[64];
	size_t ln = split_words(line, lw, ll, 64);
	if (ln == 0 || ll[0] != sl[0] || strncasecmp(lw[0], sw[0], sl[0]))
		return false;
	for (size_t i = 1; i < sn; i++) {
		bool found = false;
		for (size_t j = 1; j < ln && !found; j++)
			found = ll[j] == sl[i] &&
				strncasecmp(lw[j], sw[i], sl[i]) == 0;
		if (!found)
			return false;
	}
	return true;
}

static bool reply_has(const struct smtp_reply *r, const char *spec)
{
	const char *sw[64];
	size_t sl[64];
	size_t sn = split_words(spec, sw, sl, 64);
	if (sn == 0)
		return false;
	for (size_t i = 1; i < r->n_lines; i++)
		if (ehlo_line_has(r->lines[i], sw, sl, sn))
			return true;
	return false;
}

/* "250 with keywords A, B C" for a failed has: / lacks:. */
static void show_keywords(const struct smtp_reply *r, struct expect_why *why)
{
	size_t o = (size_t)snprintf(why->got, sizeof(why->got),
				    "%03d with keyword lines: ", r->code);
	for (size_t i = 1; i < r->n_lines && o < sizeof(why->got); i++)
		o += (size_t)snprintf(why->got + o, sizeof(why->got) - o,
				      "%s%s", i > 1 ? ", " : "", r->lines[i]);
	if (r->n_lines == 1 && o < sizeof(why->got))
		snprintf(why->got + o, sizeof(why->got) - o, "(none)");
}

/* has: and lacks: */
static int match_keywords(const struct expect_spec *e,
			  const struct smtp_reply *r, struct vars *v,
			  struct expect_why *why)
{
	for (int pass = 0; pass < 2; pass++) {
		const struct scenario_str *list = pass ? e->lacks : e->has;
		size_t n = pass ? e->n_lacks : e->n_has;
		for (size_t i = 0; i < n; i++) {
			char *want = expect_expand(&list[i], v, NULL, why);
			if (want == NULL)
				return EXPECT_ERROR;
			bool has = reply_has(r, want);
			if (has == (pass == 1)) {
				snprintf(why->expected, sizeof(why->expected),
					 "EHLO keyword '%s' %s", want,
					 pass ? "absent" : "present");
				show_keywords(r, why);
				free(want);
				return EXPECT_FAIL;
			}
			free(want);
		}
	}
	return EXPECT_PASS;
}

static int match_head(const struct expect_spec *e, const struct smtp_reply *r,
		      struct vars *v, struct expect_why *why)
{
	if (!expect_code_matches(e->code, r->code)) {
		snprintf(why->expected, sizeof(why->expected), "reply %s",
			 e->code);
		return EXPECT_FAIL;
	}
	if (e->enhanced.s != NULL) {
		char *want = expect_expand(&e->enhanced, v, NULL, why);
		bool none, ok;
		if (want == NULL)
			return EXPECT_ERROR;
		none = strcmp(want, "none") == 0;
		ok = none ? r->enhanced[0] == '\0'
			  : strcmp(want, r->enhanced) == 0;
		if (!ok && none)
			snprintf(why->expected, sizeof(why->expected),
				 "no enhanced status code");
		else if (!ok)
			snprintf(why->expected, sizeof(why->expected),
				 "enhanced status code %s", want);
		free(want);
		if (!ok)
			return EXPECT_FAIL;
	}
	if (e->lines >= 0 && (size_t)e->lines != r->n_lines) {
		snprintf(why->expected, sizeof(why->expected),
			 "a reply of %ld line%s", e->lines,
			 e->lines == 1 ? "" : "s");
		return EXPECT_FAIL;
	}
	return EXPECT_PASS;
}

int expect_smtp_match(const struct expect_spec *e, const struct smtp_reply *r,
		      struct vars *v, struct expect_why *why)
{
	struct buf text;
	int rc;

	expect_smtp_show(r, why->got, sizeof(why->got));
	rc = match_head(e, r, v, why);
	if (rc == EXPECT_PASS)
		rc = expect_match_text(e, first_text(r), v, why);
	if (rc == EXPECT_PASS)
		rc = match_keywords(e, r, v, why);
	if (rc != EXPECT_PASS || e->n_captures == 0)
		return rc;
	buf_init(&text, EXPECT_LINE_MAX);
	if (expect_smtp_text(r, r->code, &text) != 0 ||
	    buf_append(&text, "", 1) != 0) {
		buf_free(&text);
		snprintf(why->expected, sizeof(why->expected), "out of memory");
		return EXPECT_ERROR;
	}
	struct expect_text t = {(const char *)buf_data(&text),
				buf_len(&text) - 1};
	rc = expect_captures(e->captures, e->n_captures, &t, 1, v, why);
	buf_free(&text);
	return rc;
}
