/*
 * scenario_expect.c - the scenario loader's reader of expect: steps
 * (docs/scenarios.md, "Expecting"): one key names the kind of reply
 * (smtp, pop3, imap, imap_untagged, line, line_re, nothing), and each
 * kind has its own set of checks.
 */
#include "scenario_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {"smtp",	  "pop3", "imap",
					 "imap_untagged", "line", "line_re",
					 "nothing",	  NULL};

static const char *const smtp_keys[] = {"smtp",	   "enhanced", "text",
					"text_re", "has",      "lacks",
					"lines",   "capture",  NULL};
static const char *const pop3_keys[] = {
	"pop3",		 "code",       "text",	   "text_re",
	"multiline",	 "body_lines", "body_has", "body_re",
	"body_lacks_re", "capture",    NULL};
static const char *const imap_keys[] = {"imap",		  "status",  "code",
					"text",		  "text_re", "untagged",
					"untagged_count", "capture", NULL};
static const char *const untagged_keys[] = {"imap_untagged", "capture", NULL};
static const char *const line_keys[] = {"line", NULL};
static const char *const line_re_keys[] = {"line_re", "capture", NULL};
static const char *const nothing_keys[] = {"nothing", NULL};

static const char *const *const kind_keys[] = {
	smtp_keys, pop3_keys,	 imap_keys,   untagged_keys,
	line_keys, line_re_keys, nothing_keys};

static bool in_list(const char *const *list, const char *s)
{
	for (; *list != NULL; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

static bool known_anywhere(const char *s)
{
	for (size_t k = 0; k < 7; k++)
		if (in_list(kind_keys[k], s))
			return true;
	return false;
}

static int find_kind(struct sload *ld, const struct ytree_node *n,
		     enum expect_kind *kind_r)
{
	const struct ytree_node *unknown = NULL, *first = NULL;
	for (size_t i = 0; i < ytree_len(n); i++) {
		const struct ytree_node *k = ytree_map_key_at(n, i);
		for (size_t j = 0; kind_names[j] != NULL; j++) {
			if (strcmp(k->value, kind_names[j]) != 0)
				continue;
			if (first != NULL)
				return sload_error(ld, k,
						   "two kinds of reply "
						   "'%s' and '%s' "
						   "(expected one)",
						   first->value, k->value);
			first = k;
			*kind_r = (enum expect_kind)j;
		}
		if (unknown == NULL && !known_anywhere(k->value))
			unknown = k;
	}
	if (first != NULL)
		return 0;
	if (unknown != NULL)
		return sload_error(ld, unknown,
				   "unknown key '%s' (expected one of smtp, "
				   "pop3, imap, imap_untagged, line, line_re, "
				   "nothing)",
				   unknown->value);
	return sload_error(ld, n,
			   "no kind of reply (expected one of smtp, "
			   "pop3, imap, imap_untagged, line, line_re, "
			   "nothing)");
}

/* "2.1.0": class 2, 4 or 5, then 1-3 digits, twice (RFC 3463 2). */
static bool enhanced_ok(const char *s)
{
	int parts = 0, digits = 0;
	if (strcmp(s, "none") == 0)
		return true;
	if (s[0] != '2' && s[0] != '4' && s[0] != '5')
		return false;
	for (; *s != '\0'; s++) {
		if (*s == '.') {
			if (digits == 0 || ++parts > 2)
				return false;
			digits = 0;
		} else if (*s >= '0' && *s <= '9' && ++digits <= 3) {
			continue;
		} else {
			return false;
		}
	}
	return parts == 2 && digits > 0;
}

static int load_text(struct sload *ld, const struct ytree_node *n,
		     struct expect_spec *e)
{
	const struct ytree_node *v;
	if ((v = ytree_map_get(n, "text")) != NULL &&
	    sload_str(ld, v, "text", &e->text) != 0)
		return -1;
	if ((v = ytree_map_get(n, "text_re")) != NULL &&
	    sload_re(ld, v, "text_re", 0, &e->text_re) != 0)
		return -1;
	if ((v = ytree_map_get(n, "capture")) != NULL &&
	    sload_captures(ld, v, e->kind == EXPECT_SMTP ? REG_NEWLINE : 0,
			   &e->captures, &e->n_captures) != 0)
		return -1;
	return 0;
}

static int load_smtp(struct sload *ld, const struct ytree_node *n,
		     struct expect_spec *e)
{
	const struct ytree_node *v;
	unsigned long u;
	if (sload_smtp_code(ld, ytree_map_get(n, "smtp"), "smtp", e->code) != 0)
		return -1;
	if ((v = ytree_map_get(n, "enhanced")) != NULL) {
		if (sload_str(ld, v, "enhanced", &e->enhanced) != 0)
			return -1;
		if (!e->enhanced.has_vars && !enhanced_ok(e->enhanced.s))
			return sload_expected(ld, v, "enhanced",
					      "a code such as 2.1.0, or none");
	}
	if ((v = ytree_map_get(n, "has")) != NULL &&
	    sload_str_list(ld, v, "has", &e->has, &e->n_has) != 0)
		return -1;
	if ((v = ytree_map_get(n, "lacks")) != NULL &&
	    sload_str_list(ld, v, "lacks", &e->lacks, &e->n_lacks) != 0)
		return -1;
	if ((v = ytree_map_get(n, "lines")) != NULL) {
		if (sload_uint(ld, v, "lines", 1, 1000, &u) != 0)
			return -1;
		e->lines = (long)u;
	}
	return load_text(ld, n, e);
}

static int load_pop3_body(struct sload *ld, const struct ytree_node *n,
			  struct expect_spec *e)
{
	static const char *const body_keys[] = {
		"body_lines", "body_has", "body_re", "body_lacks_re", NULL};
	const struct ytree_node *v;
	unsigned long u;
	for (size_t i = 0; body_keys[i] != NULL; i++)
		if (!e->multiline &&
		    (v = ytree_map_get(n, body_keys[i])) != NULL)
			return sload_error(ld, v,
					   "'%s' without a body "
					   "(expected multiline: true)",
					   body_keys[i]);
	if ((v = ytree_map_get(n, "body_lines")) != NULL) {
		if (sload_uint(ld, v, "body_lines", 0, 100000000, &u) != 0)
			return -1;
		e->body_lines = (long)u;
	}
	if ((v = ytree_map_get(n, "body_has")) != NULL &&
	    sload_str_list(ld, v, "body_has", &e->body_has, &e->n_body_has) !=
		    0)
		return -1;
	if ((v = ytree_map_get(n, "body_re")) != NULL &&
	    sload_re(ld, v, "body_re", 0, &e->body_re) != 0)
		return -1;
	if ((v = ytree_map_get(n, "body_lacks_re")) != NULL &&
	    sload_re(ld, v, "body_lacks_re", 0, &e->body_lacks_re) != 0)
		return -1;
	return 0;
}

static int load_pop3(struct sload *ld, const struct ytree_node *n,
		     struct expect_spec *e)
{
	static const char *const st[] = {"ok", "err", "cont"};
	const struct ytree_node *v = ytree_map_get(n, "pop3");
	size_t i = 0;
	while (i < 3 && (v->kind != YTREE_SCALAR || strcmp(v->value, st[i])))
		i++;
	if (i == 3)
		return sload_expected(ld, v, "pop3", "ok, err or cont");
	e->pop3 = (enum expect_pop3_status)i;
	if ((v = ytree_map_get(n, "code")) != NULL &&
	    sload_str(ld, v, "code", &e->rcode) != 0)
		return -1;
	if ((v = ytree_map_get(n, "multiline")) != NULL &&
	    sload_bool(ld, v, "multiline", &e->multiline) != 0)
		return -1;
	if (e->multiline && e->pop3 == EXPECT_POP3_CONT)
		return sload_error(ld, v,
				   "multiline with pop3: cont (expected "
				   "ok or err)");
	if (load_pop3_body(ld, n, e) != 0)
		return -1;
	return load_text(ld, n, e);
}

/* An IMAP tag: 1*<any ASTRING-CHAR except "+"> (RFC 3501 9), no '*'. */
static bool tag_ok(const struct scenario_str *s)
{
	if (s->len == 0)
		return false;
	for (size_t i = 0; i < s->len && !s->has_vars; i++) {
		unsigned char c = (unsigned char)s->s[i];
		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\+", c))
			return false;
	}
	return true;
}

static int load_imap(struct sload *ld, const struct ytree_node *n,
		     struct expect_spec *e)
{
	static const char *const st[] = {"OK", "NO", "BAD"};
	const struct ytree_node *v = ytree_map_get(n, "imap");
	unsigned long u;

	if (sload_str(ld, v, "imap", &e->tag) != 0)
		return -1;
	if (!tag_ok(&e->tag))
		return sload_expected(ld, v, "imap", "a command tag, e.g. a1");
	if ((v = ytree_map_get(n, "status")) != NULL) {
		size_t i = 0;
		while (i < 3 &&
		       (v->kind != YTREE_SCALAR || strcmp(v->value, st[i])))
			i++;
		if (i == 3)
			return sload_expected(ld, v, "status", "OK, NO or BAD");
		e->imap_status = (enum expect_imap_status)(i + 1);
	}
	if ((v = ytree_map_get(n, "code")) != NULL &&
	    sload_str(ld, v, "code", &e->rcode) != 0)
		return -1;
	if ((v = ytree_map_get(n, "untagged")) != NULL) {
		struct scenario_str *tmp = NULL;
		size_t cnt = 0;
		/* parse as strings first, for the list shape; then compile */
		if (sload_str_list(ld, v, "untagged", &tmp, &cnt) != 0)
			return -1;
		scenario_strs_free(tmp, cnt);
		e->untagged = calloc(cnt ? cnt : 1, sizeof(*e->untagged));
		if (e->untagged == NULL)
			return sload_error(ld, v, "out of memory");
		for (size_t i = 0; i < cnt; i++) {
			const struct ytree_node *it =
				v->kind == YTREE_SEQ ? ytree_seq_at(v, i) : v;
			if (sload_re(ld, it, "untagged", 0, &e->untagged[i]) !=
			    0)
				return -1;
			e->n_untagged = i + 1;
		}
	}
	if ((v = ytree_map_get(n, "untagged_count")) != NULL) {
		if (sload_uint(ld, v, "untagged_count", 0, 1000000, &u) != 0)
			return -1;
		e->untagged_count = (long)u;
	}
	return load_text(ld, n, e);
}

static int load_simple(struct sload *ld, const struct ytree_node *n,
		       struct expect_spec *e)
{
	const struct ytree_node *v;
	switch (e->kind) {
	case EXPECT_IMAP_UNTAGGED:
		v = ytree_map_get(n, "imap_untagged");
		if (sload_re(ld, v, "imap_untagged", 0, &e->text_re) != 0)
			return -1;
		return load_text(ld, n, e);
	case EXPECT_LINE:
		return sload_str(ld, ytree_map_get(n, "line"), "line",
				 &e->text);
	case EXPECT_LINE_RE:
		v = ytree_map_get(n, "line_re");
		if (sload_re(ld, v, "line_re", 0, &e->text_re) != 0)
			return -1;
		return load_text(ld, n, e);
	default:
		return sload_seconds(ld, ytree_map_get(n, "nothing"), "nothing",
				     1, SCENARIO_MAX_SECONDS * 1000,
				     &e->nothing_ms);
	}
}

int sload_expect(struct sload *ld, const struct ytree_node *n,
		 struct expect_spec *e)
{
	e->lines = -1;
	e->body_lines = -1;
	e->untagged_count = -1;
	if (n->kind != YTREE_MAP)
		return sload_expected(ld, n, "expect",
				      "a map such as { smtp: 250 }");
	if (find_kind(ld, n, &e->kind) != 0 ||
	    sload_map(ld, n, "expect", kind_keys[e->kind], false) != 0)
		return -1;
	switch (e->kind) {
	case EXPECT_SMTP:
		return load_smtp(ld, n, e);
	case EXPECT_POP3:
		return load_pop3(ld, n, e);
	case EXPECT_IMAP:
		return load_imap(ld, n, e);
	default:
		return load_simple(ld, n, e);
	}
}

void expect_spec_free(struct expect_spec *e)
{
	scenario_str_free(&e->tag);
	scenario_str_free(&e->enhanced);
	scenario_str_free(&e->rcode);
	scenario_str_free(&e->text);
	scenario_re_free(&e->text_re);
	scenario_strs_free(e->has, e->n_has);
	scenario_strs_free(e->lacks, e->n_lacks);
	scenario_strs_free(e->body_has, e->n_body_has);
	scenario_re_free(&e->body_re);
	scenario_re_free(&e->body_lacks_re);
	for (size_t i = 0; i < e->n_untagged; i++)
		scenario_re_free(&e->untagged[i]);
	free(e->untagged);
	scenario_captures_free(e->captures, e->n_captures);
	memset(e, 0, sizeof(*e));
}
