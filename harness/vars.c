/*
 * vars.c - scenario variables and ${name} substitution (see vars.h).
 *
 * A small array of name/value pairs searched linearly: scenarios have a
 * few dozen variables, and a repeat's ${i} is replaced in place.
 */
#include "vars.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct var {
	char name[VARS_NAME_MAX + 1];
	char *value;
	size_t len;
};

struct vars {
	struct var *v;
	size_t n, cap;
	size_t total; /* bytes of all values */
};

struct vars *vars_new(void)
{
	return calloc(1, sizeof(struct vars));
}

void vars_free(struct vars **vp)
{
	struct vars *v = *vp;
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->n; i++)
		free(v->v[i].value);
	free(v->v);
	free(v);
	*vp = NULL;
}

static bool name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

bool vars_name_ok(const char *name, size_t len)
{
	if (len == 0 || len > VARS_NAME_MAX || !name_start(name[0]))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!name_char(name[i]))
			return false;
	return true;
}

static struct var *find(const struct vars *v, const char *name, size_t len)
{
	for (size_t i = 0; i < v->n; i++)
		if (strlen(v->v[i].name) == len &&
		    memcmp(v->v[i].name, name, len) == 0)
			return &v->v[i];
	return NULL;
}

static struct var *add_slot(struct vars *v, const char *name)
{
	if (v->n == VARS_COUNT_MAX) {
		errno = E2BIG;
		return NULL;
	}
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		struct var *p = realloc(v->v, cap * sizeof(*p));
		if (p == NULL)
			return NULL;
		v->v = p;
		v->cap = cap;
	}
	struct var *s = &v->v[v->n++];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	return s;
}

int vars_set(struct vars *v, const char *name, const void *val, size_t len)
{
	if (!vars_name_ok(name, strlen(name))) {
		errno = EINVAL;
		return -1;
	}
	struct var *s = find(v, name, strlen(name));
	size_t old = s != NULL ? s->len : 0;
	if (len > VARS_VALUE_MAX || v->total - old + len > VARS_TOTAL_MAX) {
		errno = E2BIG;
		return -1;
	}
	char *copy = malloc(len + 1);
	if (copy == NULL)
		return -1;
	if (len > 0)
		memcpy(copy, val, len);
	copy[len] = '\0';
	if (s == NULL && (s = add_slot(v, name)) == NULL) {
		free(copy);
		return -1;
	}
	free(s->value);
	s->value = copy;
	s->len = len;
	v->total = v->total - old + len;
	return 0;
}

int vars_set_str(struct vars *v, const char *name, const char *val)
{
	return vars_set(v, name, val, strlen(val));
}

const char *vars_get(const struct vars *v, const char *name, size_t *len_r)
{
	const struct var *s = find(v, name, strlen(name));
	if (s == NULL)
		return NULL;
	if (len_r != NULL)
		*len_r = s->len;
	return s->value;
}

void vars_unset(struct vars *v, const char *name)
{
	struct var *s = find(v, name, strlen(name));
	if (s == NULL)
		return;
	v->total -= s->len;
	free(s->value);
	size_t i = (size_t)(s - v->v);
	memmove(&v->v[i], &v->v[i + 1], (v->n - i - 1) * sizeof(v->v[0]));
	v->n--;
}

/* At s[i] == '$': the length of the reference ("$$" 2, "${name}" its
 * length), 1 for a lone '$', 0 for a malformed "${". */
static size_t ref_len(const char *s, size_t len, size_t i, size_t *name_len)
{
	*name_len = 0;
	if (i + 1 >= len || (s[i + 1] != '{' && s[i + 1] != '$'))
		return 1;
	if (s[i + 1] == '$')
		return 2;
	const char *close = memchr(s + i + 2, '}', len - i - 2);
	if (close == NULL)
		return 0;
	size_t n = (size_t)(close - (s + i + 2));
	if (!vars_name_ok(s + i + 2, n))
		return 0;
	*name_len = n;
	return n + 3;
}

int vars_syntax(const char *s, size_t len, size_t *off_r, char *err,
		size_t errlen)
{
	for (size_t i = 0; i < len; i++) {
		size_t nl, r;
		if (s[i] != '$')
			continue;
		if ((r = ref_len(s, len, i, &nl)) == 0) {
			*off_r = i;
			snprintf(err, errlen,
				 "bad variable reference (expected ${name} "
				 "with a name of letters, digits, '_', '.', "
				 "'-', or $$ for a '$')");
			return -1;
		}
		i += r - 1;
	}
	return 0;
}

bool vars_has_refs(const char *s, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++)
		if (s[i] == '$' && (s[i + 1] == '{' || s[i + 1] == '$'))
			return true;
	return false;
}

static int append_quoted(struct buf *out, const char *val, size_t len,
			 enum vars_quote q)
{
	if (q == VARS_RAW)
		return buf_append(out, val, len);
	for (size_t i = 0; i < len; i++) {
		if (val[i] != '\0' && strchr(".[]()*+?{}|^$\\", val[i]) &&
		    buf_append(out, "\\", 1) != 0)
			return -1;
		if (buf_append(out, &val[i], 1) != 0)
			return -1;
	}
	return 0;
}

static int expand_ref(const struct vars *v, const char *name, size_t nl,
		      enum vars_quote q, struct buf *out, char *err,
		      size_t errlen)
{
	if (v == NULL)
		return buf_append(out, "x", 1);
	const struct var *s = find(v, name, nl);
	if (s == NULL) {
		snprintf(err, errlen, "unknown variable '%.*s'", (int)nl, name);
		return -2;
	}
	return append_quoted(out, s->value, s->len, q);
}

int vars_expand(const struct vars *v, const char *s, size_t len,
		enum vars_quote q, struct buf *out, char *err, size_t errlen)
{
	size_t i = 0, start = 0, nl, r;
	int rc = 0;

	for (; i < len && rc == 0; i++) {
		if (s[i] != '$' || (r = ref_len(s, len, i, &nl)) == 1)
			continue;
		if (r == 0) {
			snprintf(err, errlen,
				 "bad variable reference at "
				 "offset %zu",
				 i);
			return -1;
		}
		rc = buf_append(out, s + start, i - start);
		if (rc == 0 && nl == 0)
			rc = buf_append(out, "$", 1);
		else if (rc == 0)
			rc = expand_ref(v, s + i + 2, nl, q, out, err, errlen);
		i += r - 1;
		start = i + 1;
	}
	if (rc == 0)
		rc = buf_append(out, s + start, len - start);
	if (rc == -2)
		return -1;
	if (rc != 0)
		snprintf(err, errlen, "expanded string longer than %zu bytes",
			 out->max);
	return rc;
}

char *vars_expand_dup(const struct vars *v, const char *s, size_t len,
		      enum vars_quote q, size_t *len_r, char *err,
		      size_t errlen)
{
	struct buf b;
	err[0] = '\0';
	buf_init(&b, VARS_VALUE_MAX + 1);
	if (vars_expand(v, s, len, q, &b, err, errlen) != 0 ||
	    buf_append(&b, "", 1) != 0) {
		if (err[0] == '\0')
			snprintf(err, errlen, "out of memory");
		buf_free(&b);
		return NULL;
	}
	if (len_r != NULL)
		*len_r = buf_len(&b) - 1;
	char *res = (char *)b.data; /* off is 0: nothing was consumed */
	if (res == NULL)
		res = calloc(1, 1);
	return res;
}
