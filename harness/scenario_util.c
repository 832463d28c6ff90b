/*
 * scenario_util.c - typed getters for the scenario loader, each failing
 * with "file:line:col: step N 'kind': what was wrong (expected ...)".
 */
#include "scenario_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vars.h"

int scenario_error_format(const struct scenario_error *e, char *buf, size_t n)
{
	int w;
	if (e->line > 0)
		w = snprintf(buf, n, "%s:%u:%u: %s", e->file, e->line,
			     e->column, e->message);
	else
		w = snprintf(buf, n, "%s: %s", e->file, e->message);
	return w < 0 || (size_t)w >= n ? -1 : 0;
}

int sload_error(struct sload *ld, const struct ytree_node *n, const char *fmt,
		...)
{
	struct scenario_error *e = ld->err;
	size_t size = sizeof(e->message), o = 0;
	int w = 0;
	va_list ap;

	snprintf(e->file, sizeof(e->file), "%s", ytree_file(ld->t));
	e->line = n != NULL ? n->line : 0;
	e->column = n != NULL ? n->column : 0;
	if (ld->step_label != NULL && ld->step_kind != NULL)
		w = snprintf(e->message, size, "step %s '%s': ", ld->step_label,
			     ld->step_kind);
	else if (ld->step_label != NULL)
		w = snprintf(e->message, size, "step %s: ", ld->step_label);
	if (w > 0)
		o = (size_t)w < size ? (size_t)w : size - 1;
	va_start(ap, fmt);
	vsnprintf(e->message + o, size - o, fmt, ap);
	va_end(ap);
	return -1;
}

/* A scalar as it may be shown in a message: printable ASCII, else \xHH,
 * at most 40 bytes of it. */
static void show_value(const struct ytree_node *n, char *out, size_t size)
{
	size_t o = 0;
	for (size_t i = 0; i < n->len && o + 8 < size; i++) {
		unsigned char c = (unsigned char)n->value[i];
		if (i == 40) {
			o += (size_t)snprintf(out + o, size - o, "...");
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\'')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
	}
	out[o] = '\0';
}

int sload_expected(struct sload *ld, const struct ytree_node *n,
		   const char *key, const char *what)
{
	char v[200];
	if (n->kind != YTREE_SCALAR)
		return sload_error(ld, n, "'%s' is a %s (expected %s)", key,
				   ytree_kind_name(n->kind), what);
	show_value(n, v, sizeof(v));
	return sload_error(ld, n, "bad value '%s' for '%s' (expected %s)", v,
			   key, what);
}

static void join_allowed(const char *const *allowed, char *out, size_t n)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; allowed[i] != NULL && o < n; i++)
		o += (size_t)snprintf(out + o, n - o, "%s%s", i ? ", " : "",
				      allowed[i]);
}

int sload_map(struct sload *ld, const struct ytree_node *n, const char *key,
	      const char *const *allowed, bool empty_ok)
{
	char list[512];
	if (empty_ok && n->kind == YTREE_SCALAR && n->len == 0 && !n->quoted)
		return 0;
	if (n->kind != YTREE_MAP)
		return sload_error(ld, n, "'%s' is a %s (expected a map)", key,
				   ytree_kind_name(n->kind));
	for (size_t i = 0; i < ytree_len(n); i++) {
		const struct ytree_node *k = ytree_map_key_at(n, i);
		size_t j = 0;
		while (allowed[j] != NULL && strcmp(allowed[j], k->value) != 0)
			j++;
		if (allowed[j] != NULL)
			continue;
		char v[200];
		join_allowed(allowed, list, sizeof(list));
		show_value(k, v, sizeof(v));
		if (list[0] == '\0')
			return sload_error(ld, k,
					   "unknown key '%s' (expected no "
					   "keys: {})",
					   v);
		return sload_error(ld, k,
				   "unknown key '%s' (expected one of %s)", v,
				   list);
	}
	return 0;
}

int sload_need(struct sload *ld, const struct ytree_node *map, const char *key,
	       const struct ytree_node **val_r)
{
	*val_r = ytree_map_get(map, key);
	if (*val_r == NULL)
		return sload_error(ld, map, "missing key '%s'", key);
	return 0;
}

static char *memdup0(const char *s, size_t len)
{
	char *p = malloc(len + 1);
	if (p == NULL)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

int sload_str(struct sload *ld, const struct ytree_node *n, const char *key,
	      struct scenario_str *out)
{
	char err[256];
	size_t off;

	memset(out, 0, sizeof(*out));
	if (n->kind != YTREE_SCALAR)
		return sload_expected(ld, n, key, "a string");
	if (n->len > SCENARIO_MAX_STRING)
		return sload_error(ld, n,
				   "'%s' is %zu bytes (expected at most "
				   "%u)",
				   key, n->len, SCENARIO_MAX_STRING);
	if (vars_syntax(n->value, n->len, &off, err, sizeof(err)) != 0)
		return sload_error(ld, n, "'%s' at byte %zu: %s", key, off,
				   err);
	if ((out->s = memdup0(n->value, n->len)) == NULL)
		return sload_error(ld, n, "out of memory");
	out->len = n->len;
	out->has_vars = vars_has_refs(n->value, n->len);
	out->line = n->line;
	out->column = n->column;
	return 0;
}

int sload_cstr(struct sload *ld, const struct ytree_node *n, const char *key,
	       size_t max, char **out)
{
	char what[64];
	snprintf(what, sizeof(what), "a string of 1 to %zu bytes", max);
	if (n->kind != YTREE_SCALAR || n->len == 0 || n->len > max ||
	    strlen(n->value) != n->len)
		return sload_expected(ld, n, key, what);
	if ((*out = memdup0(n->value, n->len)) == NULL)
		return sload_error(ld, n, "out of memory");
	return 0;
}

int sload_name(struct sload *ld, const struct ytree_node *n, const char *key,
	       char *out)
{
	bool ok = n->kind == YTREE_SCALAR && n->len > 0 &&
		  n->len < SCENARIO_NAME_MAX &&
		  vars_name_ok(n->value, n->len) &&
		  strchr(n->value, '.') == NULL;
	if (!ok)
		return sload_expected(ld, n, key,
				      "a name of letters, digits, '_' and "
				      "'-', starting with a letter or '_'");
	memcpy(out, n->value, n->len + 1);
	return 0;
}

int sload_uint(struct sload *ld, const struct ytree_node *n, const char *key,
	       unsigned long min, unsigned long max, unsigned long *out)
{
	char what[96];
	unsigned long v = 0;
	bool ok = n->kind == YTREE_SCALAR && n->len > 0 && n->len <= 10 &&
		  (n->value[0] != '0' || n->len == 1);

	for (size_t i = 0; ok && i < n->len; i++) {
		ok = n->value[i] >= '0' && n->value[i] <= '9';
		v = v * 10 + (unsigned long)(n->value[i] - '0');
	}
	if (!ok || v < min || v > max) {
		snprintf(what, sizeof(what), "an integer from %lu to %lu", min,
			 max);
		return sload_expected(ld, n, key, what);
	}
	*out = v;
	return 0;
}

int sload_seconds(struct sload *ld, const struct ytree_node *n, const char *key,
		  unsigned min_ms, unsigned max_ms, unsigned *out)
{
	char what[96];
	unsigned long long ms = 0;
	size_t i = 0;
	bool ok = n->kind == YTREE_SCALAR && n->len > 0 && n->len <= 12;

	for (; ok && i < n->len && n->value[i] != '.'; i++) {
		ok = n->value[i] >= '0' && n->value[i] <= '9';
		ms = ms * 10 + (unsigned)(n->value[i] - '0');
	}
	ms *= 1000;
	if (ok && i < n->len) { /* the '.' */
		ok = i > 0 && i + 1 < n->len && n->len - i - 1 <= 3;
		for (unsigned scale = 100; ok && ++i < n->len; scale /= 10) {
			ok = n->value[i] >= '0' && n->value[i] <= '9';
			ms += (unsigned)(n->value[i] - '0') * scale;
		}
	}
	if (!ok || ms < min_ms || ms > max_ms) {
		snprintf(what, sizeof(what),
			 "seconds from %u.%03u to %u, at most 3 decimals",
			 min_ms / 1000, min_ms % 1000, max_ms / 1000);
		return sload_expected(ld, n, key, what);
	}
	*out = (unsigned)ms;
	return 0;
}

int sload_bool(struct sload *ld, const struct ytree_node *n, const char *key,
	       bool *out)
{
	if (n->kind == YTREE_SCALAR && !n->quoted &&
	    (strcmp(n->value, "true") == 0 || strcmp(n->value, "false") == 0)) {
		*out = n->value[0] == 't';
		return 0;
	}
	return sload_expected(ld, n, key, "true or false");
}

int sload_re(struct sload *ld, const struct ytree_node *n, const char *key,
	     int cflags, struct scenario_re *out)
{
	char err[256];
	char *pat;
	int rc;

	memset(out, 0, sizeof(*out));
	out->cflags = cflags;
	if (sload_str(ld, n, key, &out->src) != 0)
		return -1;
	if (strlen(out->src.s) != out->src.len) {
		scenario_re_free(out);
		return sload_error(ld, n,
				   "'%s': a regex cannot hold a NUL "
				   "byte (expected \\x00-free text)",
				   key);
	}
	/* with variables: check with placeholders now, compile at run time */
	pat = vars_expand_dup(NULL, out->src.s, out->src.len, VARS_RAW, NULL,
			      err, sizeof(err));
	if (pat == NULL) {
		scenario_re_free(out);
		return sload_error(ld, n, "'%s': %s", key, err);
	}
	rc = scenario_re_compile(&out->re, pat, strlen(pat), cflags, err,
				 sizeof(err));
	free(pat);
	if (rc != 0) {
		scenario_re_free(out);
		return sload_error(ld, n,
				   "'%s': bad regex: %s (expected a "
				   "POSIX extended regex)",
				   key, err);
	}
	out->compiled = true;
	if (out->src.has_vars) {
		regfree(&out->re);
		out->compiled = false;
	}
	return 0;
}

int sload_str_list(struct sload *ld, const struct ytree_node *n,
		   const char *key, struct scenario_str **v, size_t *count)
{
	size_t len = n->kind == YTREE_SEQ ? ytree_len(n) : 1;
	*v = NULL;
	*count = 0;
	if (n->kind == YTREE_MAP)
		return sload_expected(ld, n, key, "a string or a list");
	if (len > SCENARIO_MAX_LIST)
		return sload_error(ld, n,
				   "'%s' has %zu items (expected at most "
				   "%d)",
				   key, len, SCENARIO_MAX_LIST);
	if (len == 0)
		return 0;
	if ((*v = calloc(len, sizeof(**v))) == NULL)
		return sload_error(ld, n, "out of memory");
	for (size_t i = 0; i < len; i++) {
		const struct ytree_node *it =
			n->kind == YTREE_SEQ ? ytree_seq_at(n, i) : n;
		if (sload_str(ld, it, key, &(*v)[i]) != 0) {
			scenario_strs_free(*v, i);
			*v = NULL;
			return -1;
		}
	}
	*count = len;
	return 0;
}

int sload_cstr_list(struct sload *ld, const struct ytree_node *n,
		    const char *key, char ***v, size_t *count)
{
	size_t len = ytree_len(n);
	*v = NULL;
	*count = 0;
	if (n->kind != YTREE_SEQ)
		return sload_expected(ld, n, key, "a list ([a, b])");
	if (len > SCENARIO_MAX_LIST)
		return sload_error(ld, n,
				   "'%s' has %zu items (expected at most "
				   "%d)",
				   key, len, SCENARIO_MAX_LIST);
	if ((*v = calloc(len + 1, sizeof(char *))) == NULL)
		return sload_error(ld, n, "out of memory");
	for (size_t i = 0; i < len; i++) {
		if (sload_cstr(ld, ytree_seq_at(n, i), key, 256, &(*v)[i]) != 0)
			return -1; /* the caller frees the NULL-ended list */
		*count = i + 1;
	}
	return 0;
}

int sload_captures(struct sload *ld, const struct ytree_node *n, int cflags,
		   struct scenario_capture **v, size_t *count)
{
	*v = NULL;
	*count = 0;
	if (n->kind != YTREE_MAP || ytree_len(n) == 0)
		return sload_expected(ld, n, "capture",
				      "a map of names to regexes");
	if ((*v = calloc(ytree_len(n), sizeof(**v))) == NULL)
		return sload_error(ld, n, "out of memory");
	for (size_t i = 0; i < ytree_len(n); i++) {
		struct scenario_capture *c = &(*v)[i];
		const struct ytree_node *k = ytree_map_key_at(n, i);
		char name[SCENARIO_NAME_MAX];
		if (sload_name(ld, k, "capture", name) != 0)
			return -1;
		if ((c->name = strdup(name)) == NULL)
			return sload_error(ld, k, "out of memory");
		*count = i + 1;
		if (sload_re(ld, ytree_map_value_at(n, i), "capture", cflags,
			     &c->re) != 0)
			return -1;
		if (c->re.compiled && c->re.re.re_nsub < 1)
			return sload_error(ld, ytree_map_value_at(n, i),
					   "capture regex for '%s' has no "
					   "group (expected one in (...))",
					   name);
	}
	return 0;
}

int sload_smtp_code(struct sload *ld, const struct ytree_node *n,
		    const char *key, char code[4])
{
	const char *v = n->value;
	bool ok = n->kind == YTREE_SCALAR && n->len == 3 && v[0] >= '2' &&
		  v[0] <= '5';
	for (int i = 1; ok && i < 3; i++)
		ok = (v[i] >= '0' && v[i] <= '9') || v[i] == 'x';
	if (ok && v[1] == 'x' && v[2] != 'x')
		ok = false;
	if (!ok)
		return sload_expected(ld, n, key,
				      "a reply code such as 250, 25x or 2xx");
	memcpy(code, v, 4);
	return 0;
}

int sload_file(struct sload *ld, const struct ytree_node *n, const char *key,
	       char **out)
{
	struct stat st;
	char *rel = NULL;
	if (sload_cstr(ld, n, key, 4096, &rel) != 0)
		return -1;
	size_t len = strlen(ld->dir) + strlen(rel) + 2;
	*out = malloc(len);
	if (*out == NULL) {
		free(rel);
		return sload_error(ld, n, "out of memory");
	}
	if (rel[0] == '/')
		snprintf(*out, len, "%s", rel);
	else
		snprintf(*out, len, "%s/%s", ld->dir, rel);
	free(rel);
	if (stat(*out, &st) != 0)
		return sload_error(ld, n,
				   "'%s': cannot use '%s': %s (expected "
				   "a readable file)",
				   key, *out, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return sload_error(ld, n,
				   "'%s': '%s' is not a regular file "
				   "(expected a readable file)",
				   key, *out);
	if ((unsigned long long)st.st_size > SCENARIO_MAX_SEND)
		return sload_error(ld, n,
				   "'%s': '%s' is %lld bytes (expected at "
				   "most %u)",
				   key, *out, (long long)st.st_size,
				   SCENARIO_MAX_SEND);
	return 0;
}
