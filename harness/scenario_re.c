/*
 * scenario_re.c - regexes as scenarios write them (see scenario.h):
 * POSIX extended, with \d and \D translated to bracket expressions
 * outside brackets, matched over byte ranges with REG_STARTEND.
 */
#include "scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* Copy a bracket expression starting at src[i] == '[' to out; return the
 * index after its ']' (or len if it is not closed: regcomp reports it). */
static size_t copy_bracket(const char *src, size_t len, size_t i,
			   struct buf *out, int *rc)
{
	size_t j = i + 1;
	if (j < len && src[j] == '^')
		j++;
	if (j < len && src[j] == ']')
		j++;
	while (j < len && src[j] != ']') {
		if (src[j] == '[' && j + 1 < len &&
		    (src[j + 1] == ':' || src[j + 1] == '.' ||
		     src[j + 1] == '=')) {
			char end = src[j + 1];
			const char *close = NULL;
			for (size_t k = j + 2; k + 1 < len && !close; k++)
				if (src[k] == end && src[k + 1] == ']')
					close = src + k;
			if (close != NULL) {
				j = (size_t)(close - src) + 2;
				continue;
			}
		}
		j++;
	}
	if (j < len)
		j++;
	if (buf_append(out, src + i, j - i) != 0)
		*rc = -1;
	return j;
}

static int translate(const char *src, size_t len, struct buf *out)
{
	int rc = 0;
	size_t i = 0;
	while (i < len && rc == 0) {
		if (src[i] == '[') {
			i = copy_bracket(src, len, i, out, &rc);
		} else if (src[i] == '\\' && i + 1 < len) {
			if (src[i + 1] == 'd')
				rc = buf_append_str(out, "[0-9]");
			else if (src[i + 1] == 'D')
				rc = buf_append_str(out, "[^0-9]");
			else
				rc = buf_append(out, src + i, 2);
			i += 2;
		} else {
			rc = buf_append(out, src + i, 1);
			i++;
		}
	}
	if (rc == 0)
		rc = buf_append(out, "", 1);
	return rc;
}

int scenario_re_compile(regex_t *re, const char *src, size_t len, int cflags,
			char *err, size_t errlen)
{
	struct buf pat;
	int rc;

	buf_init(&pat, len * 5 + 1);
	if (memchr(src, '\0', len) != NULL) {
		snprintf(err, errlen, "a NUL byte in a regex");
		return -1;
	}
	if (translate(src, len, &pat) != 0) {
		buf_free(&pat);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = regcomp(re, (const char *)buf_data(&pat), REG_EXTENDED | cflags);
	buf_free(&pat);
	if (rc != 0) {
		regerror(rc, re, err, errlen);
		return -1;
	}
	return 0;
}

int scenario_re_exec(const regex_t *re, const char *data, size_t len,
		     size_t nmatch, regmatch_t *pm)
{
	regmatch_t local[1];
	regmatch_t *m = pm != NULL && nmatch > 0 ? pm : local;
	size_t n = pm != NULL && nmatch > 0 ? nmatch : 1;
	char *copy;
	int rc;

	/* A NUL-terminated copy: data need not be terminated, and sanitizer
	 * interceptors of regexec() read up to a NUL despite REG_STARTEND. */
	if ((copy = malloc(len + 1)) == NULL)
		return 0;
	memcpy(copy, data, len);
	copy[len] = '\0';
	m[0].rm_so = 0;
	m[0].rm_eo = (regoff_t)len;
	rc = regexec(re, copy, n, m, REG_STARTEND);
	free(copy);
	return rc == 0;
}
