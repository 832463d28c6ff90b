/*
 * expect.c - what every kind of expect: shares (see expect.h): spec
 * strings and regexes resolved against the variables, captures, reply
 * code patterns, and the raw line: / line_re: readers.
 */
#include "expect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "transcript.h"

int expect_re_get(const struct scenario_re *sre, const struct vars *v,
		  struct expect_re *out, struct expect_why *why)
{
	char err[256];
	char *pat;
	size_t len;
	int rc;

	memset(out, 0, sizeof(*out));
	if (sre->compiled) {
		out->re = &sre->re;
		return 0;
	}
	pat = vars_expand_dup(v, sre->src.s, sre->src.len, VARS_REGEX, &len,
			      err, sizeof(err));
	if (pat == NULL) {
		snprintf(why->expected, sizeof(why->expected), "%s", err);
		return -1;
	}
	rc = scenario_re_compile(&out->own, pat, len, sre->cflags, err,
				 sizeof(err));
	free(pat);
	if (rc != 0) {
		snprintf(why->expected, sizeof(why->expected),
			 "regex at line %u after substitution: %s",
			 sre->src.line, err);
		return -1;
	}
	out->owned = true;
	out->re = &out->own;
	return 0;
}

void expect_re_put(struct expect_re *r)
{
	if (r->owned)
		regfree(&r->own);
	r->owned = false;
	r->re = NULL;
}

char *expect_expand(const struct scenario_str *s, const struct vars *v,
		    size_t *len_r, struct expect_why *why)
{
	char err[256];
	char *out = vars_expand_dup(v, s->s, s->len, VARS_RAW, len_r, err,
				    sizeof(err));
	if (out == NULL)
		snprintf(why->expected, sizeof(why->expected), "%s", err);
	return out;
}

/* One capture: 1 set, 0 no line matched, -1 error. */
static int capture_one(const struct scenario_capture *c,
		       const struct expect_text *lines, size_t n_lines,
		       struct vars *v, struct expect_why *why)
{
	struct expect_re re;
	regmatch_t m[2];
	int found = 0;

	if (expect_re_get(&c->re, v, &re, why) != 0)
		return -1;
	for (size_t i = 0; i < n_lines && !found; i++) {
		if (!scenario_re_exec(re.re, lines[i].s, lines[i].len, 2, m))
			continue;
		found = 1;
		if (m[1].rm_so < 0)
			m[1].rm_so = m[1].rm_eo = 0;
		if (vars_set(v, c->name, lines[i].s + m[1].rm_so,
			     (size_t)(m[1].rm_eo - m[1].rm_so)) != 0) {
			snprintf(why->expected, sizeof(why->expected),
				 "cannot set variable '%s'", c->name);
			found = -1;
		}
	}
	expect_re_put(&re);
	return found;
}

int expect_captures(const struct scenario_capture *caps, size_t n,
		    const struct expect_text *lines, size_t n_lines,
		    struct vars *v, struct expect_why *why)
{
	for (size_t i = 0; i < n; i++) {
		int rc = capture_one(&caps[i], lines, n_lines, v, why);
		if (rc < 0)
			return EXPECT_ERROR;
		if (rc == 0) {
			snprintf(why->expected, sizeof(why->expected),
				 "capture '%s': a match for /%s/", caps[i].name,
				 caps[i].re.src.s);
			snprintf(why->got, sizeof(why->got),
				 "no match in %zu line%s", n_lines,
				 n_lines == 1 ? "" : "s");
			return EXPECT_FAIL;
		}
	}
	return EXPECT_PASS;
}

int expect_match_text(const struct expect_spec *e, const char *text,
		      struct vars *v, struct expect_why *why)
{
	int rc = EXPECT_PASS;
	if (e->text.s != NULL) {
		char *want = expect_expand(&e->text, v, NULL, why);
		if (want == NULL)
			return EXPECT_ERROR;
		if (strcmp(want, text) != 0) {
			snprintf(why->expected, sizeof(why->expected),
				 "text '%s'", want);
			rc = EXPECT_FAIL;
		}
		free(want);
	}
	if (rc == EXPECT_PASS && e->text_re.src.s != NULL) {
		struct expect_re re;
		if (expect_re_get(&e->text_re, v, &re, why) != 0)
			return EXPECT_ERROR;
		if (!scenario_re_exec(re.re, text, strlen(text), 0, NULL)) {
			snprintf(why->expected, sizeof(why->expected),
				 "text matching /%s/", e->text_re.src.s);
			rc = EXPECT_FAIL;
		}
		expect_re_put(&re);
	}
	return rc;
}

bool expect_code_matches(const char *pattern, int code)
{
	char digits[8];
	if (code < 0 || code > 999)
		return false;
	snprintf(digits, sizeof(digits), "%03d", code);
	for (int i = 0; i < 3; i++)
		if (pattern[i] != 'x' && pattern[i] != digits[i])
			return false;
	return true;
}

int expect_line_read(struct buf *in, char **line_r, size_t *len_r, char *err,
		     size_t errlen)
{
	const char *p = (const char *)buf_data(in);
	const char *lf = memchr(p, '\n', buf_len(in));
	size_t len;

	if (buf_len(in) == 0 || lf == NULL)
		return EXPECT_MORE;
	len = (size_t)(lf - p);
	if (len == 0 || p[len - 1] != '\r') {
		buf_consume(in, len + 1);
		snprintf(err, errlen,
			 "a line ended in a bare LF (expected "
			 "CRLF)");
		return EXPECT_BAD;
	}
	if ((*line_r = malloc(len)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return EXPECT_BAD;
	}
	memcpy(*line_r, p, len - 1);
	(*line_r)[len - 1] = '\0';
	*len_r = len - 1;
	buf_consume(in, len + 1);
	return EXPECT_DONE;
}

int expect_line_match(const struct expect_spec *e, const char *line, size_t len,
		      struct vars *v, struct expect_why *why)
{
	struct expect_text t = {line, len};
	int rc = EXPECT_PASS;

	transcript_escape_str(why->got, sizeof(why->got), line, len);
	if (e->kind == EXPECT_LINE) {
		size_t want_len;
		char *want = expect_expand(&e->text, v, &want_len, why);
		if (want == NULL)
			return EXPECT_ERROR;
		if (want_len != len || memcmp(want, line, len) != 0) {
			char shown[900];
			transcript_escape_str(shown, sizeof(shown), want,
					      want_len);
			snprintf(why->expected, sizeof(why->expected),
				 "the line '%s'", shown);
			rc = EXPECT_FAIL;
		}
		free(want);
		return rc;
	}
	struct expect_re re;
	if (expect_re_get(&e->text_re, v, &re, why) != 0)
		return EXPECT_ERROR;
	if (!scenario_re_exec(re.re, line, len, 0, NULL)) {
		snprintf(why->expected, sizeof(why->expected),
			 "a line matching /%s/", e->text_re.src.s);
		rc = EXPECT_FAIL;
	}
	expect_re_put(&re);
	if (rc == EXPECT_PASS)
		rc = expect_captures(e->captures, e->n_captures, &t, 1, v, why);
	return rc;
}
