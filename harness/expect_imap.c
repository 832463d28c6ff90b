/*
 * expect_imap.c - expect: { imap: TAG, ... } and { imap_untagged: RE }
 * (see expect.h). RFC 3501 section 2.2.2 (untagged "*" and tagged server
 * responses, "+" continuation requests), 4.3 (a literal {N} CRLF is
 * followed by N octets that belong to the same response), 7.1 (status
 * responses with an optional [response code]), 9 (tag syntax).
 */
#include "expect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "transcript.h"

#define UNTAGGED_MAX 1000000 /* lines in one response */

void expect_imap_reader_init(struct expect_imap_reader *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->line, EXPECT_LINE_MAX);
}

void expect_imap_reader_free(struct expect_imap_reader *r)
{
	buf_free(&r->line);
}

/* If the line segment from seg ends in "{N}" or "{N+}" (the CRLF already
 * removed from view), N; else -1. */
static long long literal_size(const char *p, size_t seg, size_t end)
{
	size_t i = end;
	unsigned long long n = 0, scale = 1;
	if (i <= seg || p[i - 1] != '}')
		return -1;
	i--;
	if (i > seg && p[i - 1] == '+')
		i--;
	size_t digits_end = i;
	while (i > seg && p[i - 1] >= '0' && p[i - 1] <= '9' &&
	       digits_end - i < 10) {
		n += (unsigned long long)(p[i - 1] - '0') * scale;
		scale *= 10;
		i--;
	}
	if (i == digits_end || i <= seg || p[i - 1] != '{')
		return -1;
	return (long long)n;
}

/* Take one line segment (up to and including LF) into r->line. */
static int take_segment(struct expect_imap_reader *r, struct buf *in, char *err,
			size_t errlen)
{
	const unsigned char *p = buf_data(in);
	const unsigned char *lf = memchr(p, '\n', buf_len(in));
	size_t n = lf != NULL ? (size_t)(lf - p) + 1 : buf_len(in);

	if (buf_append(&r->line, p, n) != 0) {
		snprintf(err, errlen, "a response line longer than %u bytes",
			 EXPECT_LINE_MAX);
		return EXPECT_BAD;
	}
	buf_consume(in, n);
	if (lf == NULL)
		return EXPECT_MORE;
	const char *l = (const char *)buf_data(&r->line);
	size_t len = buf_len(&r->line);
	if (len < 2 || l[len - 2] != '\r') {
		snprintf(err, errlen,
			 "a line ended in a bare LF (expected "
			 "CRLF)");
		return EXPECT_BAD;
	}
	long long lit = literal_size(l, r->seg_start, len - 2);
	if (lit > (long long)EXPECT_LINE_MAX) {
		snprintf(err, errlen, "a literal of %lld bytes", lit);
		return EXPECT_BAD;
	}
	if (lit >= 0) {
		r->literal_left = (size_t)lit;
		r->seg_start = len; /* {0}: the line goes on at once */
		return EXPECT_MORE;
	}
	return EXPECT_DONE;
}

int expect_imap_line(struct expect_imap_reader *r, struct buf *in,
		     const char **line_r, size_t *len_r, char *err,
		     size_t errlen)
{
	if (r->done) {
		buf_clear(&r->line);
		r->done = false;
		r->seg_start = 0;
	}
	while (buf_len(in) > 0) {
		int rc;
		if (r->literal_left > 0) {
			size_t n = buf_len(in) < r->literal_left
					   ? buf_len(in)
					   : r->literal_left;
			if (buf_append(&r->line, buf_data(in), n) != 0) {
				snprintf(err, errlen,
					 "a response line longer "
					 "than %u bytes",
					 EXPECT_LINE_MAX);
				return EXPECT_BAD;
			}
			buf_consume(in, n);
			r->literal_left -= n;
			if (r->literal_left ==
			    0) /* the line goes on after it */
				r->seg_start = buf_len(&r->line);
			continue;
		}
		rc = take_segment(r, in, err, errlen);
		if (rc == EXPECT_DONE) {
			r->done = true;
			*line_r = (const char *)buf_data(&r->line);
			*len_r = buf_len(&r->line) - 2;
			return EXPECT_DONE;
		}
		if (rc == EXPECT_BAD)
			return rc;
	}
	return EXPECT_MORE;
}

int expect_imap_init(struct expect_imap *st, const char *tag)
{
	memset(st, 0, sizeof(*st));
	expect_imap_reader_init(&st->rd);
	snprintf(st->tag, sizeof(st->tag), "%s", tag);
	return 0;
}

void expect_imap_free(struct expect_imap *st)
{
	for (size_t i = 0; i < st->n_untagged; i++)
		free(st->owned[i]);
	free(st->owned);
	free(st->untagged);
	free(st->tagged);
	expect_imap_reader_free(&st->rd);
	memset(st, 0, sizeof(*st));
}

static char *dup_line(const char *s, size_t len)
{
	char *p = malloc(len + 1);
	if (p != NULL) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

static int add_untagged(struct expect_imap *st, const char *l, size_t len,
			char *err, size_t errlen)
{
	if (st->n_untagged == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 16;
		struct expect_text *p = NULL;
		char **o = NULL;
		if (cap <= UNTAGGED_MAX &&
		    (p = realloc(st->untagged, cap * sizeof(*p))) != NULL)
			st->untagged = p;
		if (p != NULL &&
		    (o = realloc(st->owned, cap * sizeof(*o))) != NULL)
			st->owned = o;
		if (o == NULL) {
			snprintf(err, errlen, "too many untagged lines");
			return EXPECT_BAD;
		}
		st->cap = cap;
	}
	char *copy = dup_line(l, len);
	if (copy == NULL) {
		snprintf(err, errlen, "out of memory");
		return EXPECT_BAD;
	}
	st->owned[st->n_untagged] = copy;
	st->untagged[st->n_untagged].s = copy;
	st->untagged[st->n_untagged++].len = len;
	return EXPECT_MORE;
}

/* Which kind of line: '*', '+', 'T' (tagged: *tag_len_r bytes of tag). */
static char classify(const char *l, size_t len, size_t *tag_len_r)
{
	const char *sp = memchr(l, ' ', len);
	*tag_len_r = sp != NULL ? (size_t)(sp - l) : len;
	if (len >= 1 && l[0] == '*' && (len == 1 || l[1] == ' '))
		return '*';
	if (len >= 1 && l[0] == '+' && (len == 1 || l[1] == ' '))
		return '+';
	return 'T';
}

int expect_imap_feed(struct expect_imap *st, struct buf *in, char *err,
		     size_t errlen)
{
	const char *l;
	size_t len, tl;
	int rc;
	char shown[200];

	while ((rc = expect_imap_line(&st->rd, in, &l, &len, err, errlen)) ==
	       EXPECT_DONE) {
		char kind = classify(l, len, &tl);
		transcript_escape_str(shown, sizeof(shown), l, len);
		if (kind == '*') {
			if ((rc = add_untagged(st, l, len, err, errlen)) !=
			    EXPECT_MORE)
				return rc;
			continue;
		}
		if (kind == '+') {
			snprintf(err, errlen,
				 "a continuation request '%s' "
				 "before the tagged reply",
				 shown);
			return EXPECT_BAD;
		}
		if (tl != strlen(st->tag) || memcmp(l, st->tag, tl) != 0) {
			snprintf(err, errlen,
				 "'%s' while waiting for the "
				 "tagged reply to '%s'",
				 shown, st->tag);
			return EXPECT_BAD;
		}
		if ((st->tagged = dup_line(l, len)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return EXPECT_BAD;
		}
		st->tagged_len = len;
		return EXPECT_DONE;
	}
	return rc;
}

int expect_imap_untagged(struct expect_imap_reader *rd, struct buf *in,
			 const regex_t *re, char **line_r, size_t *len_r,
			 size_t *skipped_r, char *err, size_t errlen)
{
	const char *l;
	size_t len, tl;
	int rc;
	char shown[200];

	while ((rc = expect_imap_line(rd, in, &l, &len, err, errlen)) ==
	       EXPECT_DONE) {
		if (classify(l, len, &tl) != '*') {
			transcript_escape_str(shown, sizeof(shown), l, len);
			snprintf(err, errlen,
				 "'%s' before a matching untagged "
				 "line",
				 shown);
			return EXPECT_BAD;
		}
		if (!scenario_re_exec(re, l, len, 0, NULL)) {
			(*skipped_r)++;
			continue;
		}
		if ((*line_r = dup_line(l, len)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return EXPECT_BAD;
		}
		*len_r = len;
		return EXPECT_DONE;
	}
	return rc;
}

/* The parts of a tagged line "TAG SP STATUS [SP [CODE] ] [SP text]". */
struct tagged_parts {
	const char *status;
	size_t status_len;
	const char *code; /* inside the brackets, or NULL */
	size_t code_len;
	const char *text;
};

static void split_tagged(const char *l, struct tagged_parts *p)
{
	const char *s = strchr(l, ' '), *e;
	memset(p, 0, sizeof(*p));
	p->text = "";
	if (s == NULL)
		return;
	p->status = s + 1;
	e = strchr(p->status, ' ');
	p->status_len = e != NULL ? (size_t)(e - p->status) : strlen(p->status);
	if (e == NULL)
		return;
	p->text = e + 1;
	if (p->text[0] == '[' && (e = strchr(p->text, ']')) != NULL) {
		p->code = p->text + 1;
		p->code_len = (size_t)(e - p->code);
		p->text = e[1] == ' ' ? e + 2 : e + 1;
	}
}

static bool code_matches(const char *want, const struct tagged_parts *p)
{
	size_t n = strlen(want), atom = 0;
	if (strcmp(want, "none") == 0)
		return p->code == NULL;
	if (p->code == NULL)
		return false;
	if (strchr(want, ' ') != NULL)
		return n == p->code_len && strncasecmp(want, p->code, n) == 0;
	while (atom < p->code_len && p->code[atom] != ' ')
		atom++;
	return n == atom && strncasecmp(want, p->code, n) == 0;
}

static int match_status(const struct expect_spec *e,
			const struct tagged_parts *p, struct vars *v,
			struct expect_why *why)
{
	static const char *const names[] = {"", "OK", "NO", "BAD"};
	if (e->imap_status != EXPECT_IMAP_ANY &&
	    (p->status_len != strlen(names[e->imap_status]) ||
	     strncasecmp(p->status, names[e->imap_status], p->status_len))) {
		snprintf(why->expected, sizeof(why->expected), "status %s",
			 names[e->imap_status]);
		return EXPECT_FAIL;
	}
	if (e->rcode.s == NULL)
		return EXPECT_PASS;
	char *want = expect_expand(&e->rcode, v, NULL, why);
	if (want == NULL)
		return EXPECT_ERROR;
	bool ok = code_matches(want, p);
	if (!ok)
		snprintf(why->expected, sizeof(why->expected),
			 "response code [%s]", want);
	free(want);
	return ok ? EXPECT_PASS : EXPECT_FAIL;
}

static int match_untagged(const struct expect_spec *e,
			  const struct expect_imap *st, struct vars *v,
			  struct expect_why *why)
{
	for (size_t i = 0; i < e->n_untagged; i++) {
		struct expect_re re;
		bool found = false;
		if (expect_re_get(&e->untagged[i], v, &re, why) != 0)
			return EXPECT_ERROR;
		for (size_t j = 0; j < st->n_untagged && !found; j++)
			found = scenario_re_exec(re.re, st->untagged[j].s,
						 st->untagged[j].len, 0, NULL);
		expect_re_put(&re);
		if (!found) {
			snprintf(why->expected, sizeof(why->expected),
				 "an untagged line matching /%s/",
				 e->untagged[i].src.s);
			return EXPECT_FAIL;
		}
	}
	if (e->untagged_count >= 0 &&
	    (size_t)e->untagged_count != st->n_untagged) {
		snprintf(why->expected, sizeof(why->expected),
			 "%ld untagged lines", e->untagged_count);
		return EXPECT_FAIL;
	}
	return EXPECT_PASS;
}

int expect_imap_match(const struct expect_spec *e, const struct expect_imap *st,
		      struct vars *v, struct expect_why *why)
{
	struct tagged_parts p;
	char shown[1500];
	int rc;

	transcript_escape_str(shown, sizeof(shown), st->tagged, st->tagged_len);
	snprintf(why->got, sizeof(why->got), "%s (after %zu untagged line%s)",
		 shown, st->n_untagged, st->n_untagged == 1 ? "" : "s");
	split_tagged(st->tagged, &p);
	rc = match_status(e, &p, v, why);
	if (rc == EXPECT_PASS)
		rc = expect_match_text(e, p.text, v, why);
	if (rc == EXPECT_PASS)
		rc = match_untagged(e, st, v, why);
	if (rc != EXPECT_PASS || e->n_captures == 0)
		return rc;
	struct expect_text *all = calloc(st->n_untagged + 1, sizeof(*all));
	if (all == NULL) {
		snprintf(why->expected, sizeof(why->expected), "out of memory");
		return EXPECT_ERROR;
	}
	if (st->n_untagged > 0)
		memcpy(all, st->untagged, st->n_untagged * sizeof(*all));
	all[st->n_untagged].s = st->tagged;
	all[st->n_untagged].len = st->tagged_len;
	rc = expect_captures(e->captures, e->n_captures, all,
			     st->n_untagged + 1, v, why);
	free(all);
	return rc;
}
