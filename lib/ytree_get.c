/*
 * ytree_get.c - read a tree that ytree.c loaded: the accessors, the typed
 * getters for configuration code and the error helpers of ytree.h, and the
 * message helpers the loader shares (ytree_private.h). What each getter
 * accepts is described in ytree.h.
 */
#include "ytree.h"
#include "ytree_private.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* --- errors ------------------------------------------------------------ */

void ytree_set_error(struct ytree_error *e, const char *file, unsigned line,
		     unsigned column, const char *fmt, va_list ap)
{
	(void)snprintf(e->file, sizeof(e->file), "%s", file);
	e->line = line;
	e->column = column;
	(void)vsnprintf(e->message, sizeof(e->message), fmt, ap);
}

void ytree_quote(const char *s, size_t len, char *buf, size_t size)
{
	size_t o = 0, i;

	for (i = 0; i < len && o + 8 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (o >= 60 && (c & 0xc0) != 0x80) {
			break;
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
		} else if (c == '\'' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else {
			buf[o++] = (char)c;
		}
	}
	if (i < len && o + 4 <= size) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
}

/* --- access ------------------------------------------------------------ */

const struct ytree_node *ytree_root(const struct ytree *t)
{
	return t != NULL ? t->root : NULL;
}

const char *ytree_file(const struct ytree *t)
{
	return t != NULL ? t->file : "";
}

const char *ytree_kind_name(enum ytree_kind kind)
{
	switch (kind) {
	case YTREE_SCALAR:
		return "scalar";
	case YTREE_MAP:
		return "map";
	case YTREE_SEQ:
		return "sequence";
	}
	return "unknown";
}

size_t ytree_len(const struct ytree_node *n)
{
	if (n == NULL || n->kind == YTREE_SCALAR)
		return 0;
	return n->kind == YTREE_MAP ? n->count / 2 : n->count;
}

const struct ytree_node *ytree_seq_at(const struct ytree_node *n, size_t i)
{
	if (n == NULL || n->kind != YTREE_SEQ || i >= n->count)
		return NULL;
	return n->items[i];
}

const struct ytree_node *ytree_map_key_at(const struct ytree_node *n, size_t i)
{
	if (n == NULL || n->kind != YTREE_MAP || i >= n->count / 2)
		return NULL;
	return n->items[2 * i];
}

const struct ytree_node *ytree_map_value_at(const struct ytree_node *n,
					    size_t i)
{
	if (n == NULL || n->kind != YTREE_MAP || i >= n->count / 2)
		return NULL;
	return n->items[2 * i + 1];
}

static bool ytree_scalar_is(const struct ytree_node *n, const char *s)
{
	size_t len = strlen(s);

	return n->len == len && memcmp(n->value, s, len) == 0;
}

const struct ytree_node *ytree_map_get(const struct ytree_node *map,
				       const char *key)
{
	size_t n = ytree_len(map);

	if (map == NULL || map->kind != YTREE_MAP)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (ytree_scalar_is(map->items[2 * i], key))
			return map->items[2 * i + 1];
	}
	return NULL;
}

/* --- typed getters ----------------------------------------------------- */

int ytree_error_at(struct ytree_error *err_r, const struct ytree *t,
		   const struct ytree_node *n, const char *fmt, ...)
{
	va_list ap;

	if (err_r == NULL)
		return -1;
	va_start(ap, fmt);
	ytree_set_error(err_r, ytree_file(t), n != NULL ? n->line : 0,
			n != NULL ? n->column : 0, fmt, ap);
	va_end(ap);
	return -1;
}

int ytree_error_format(const struct ytree_error *e, char *buf, size_t n)
{
	int w;

	if (e->line != 0)
		w = snprintf(buf, n, "%s:%u:%u: %s", e->file, e->line,
			     e->column, e->message);
	else
		w = snprintf(buf, n, "%s: %s", e->file, e->message);
	return w < 0 || (size_t)w >= n ? -1 : 0;
}

/* "key 'KEYPATH': message", or the bare message without a keypath. */
__attribute__((format(printf, 5, 6))) static int
ytree_key_error(struct ytree_error *err_r, const struct ytree *t,
		const struct ytree_node *n, const char *keypath,
		const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (keypath == NULL || keypath[0] == '\0')
		return ytree_error_at(err_r, t, n, "%s", msg);
	return ytree_error_at(err_r, t, n, "key '%s': %s", keypath, msg);
}

static int ytree_missing(struct ytree_error *err_r, const struct ytree *t,
			 const char *keypath)
{
	if (keypath == NULL || keypath[0] == '\0')
		return ytree_error_at(err_r, t, NULL, "missing value");
	return ytree_error_at(err_r, t, NULL, "missing key '%s'", keypath);
}

/* "'value'" for a scalar, "a map" or "a sequence" otherwise. */
static void ytree_describe(const struct ytree_node *n, char *buf, size_t size)
{
	char quoted[128];

	if (n->kind != YTREE_SCALAR) {
		(void)snprintf(buf, size, "a %s", ytree_kind_name(n->kind));
		return;
	}
	ytree_quote(n->value, n->len, quoted, sizeof(quoted));
	(void)snprintf(buf, size, "'%s'", quoted);
}

/* Strict decimal: digits only, no leading zero, no overflow. */
static bool ytree_parse_uint(const struct ytree_node *n,
			     unsigned long long *val_r)
{
	char *end;

	if (n->kind != YTREE_SCALAR || n->len == 0 || n->len > 20 ||
	    (n->value[0] == '0' && n->len > 1))
		return false;
	for (size_t i = 0; i < n->len; i++) {
		if (n->value[i] < '0' || n->value[i] > '9')
			return false;
	}
	errno = 0;
	*val_r = strtoull(n->value, &end, 10);
	return errno == 0 && end == n->value + n->len;
}

int ytree_scalar_uint(const struct ytree *t, const struct ytree_node *n,
		      const char *keypath, unsigned long long min,
		      unsigned long long max, unsigned long long *val_r,
		      struct ytree_error *err_r)
{
	unsigned long long v;
	char got[160];

	if (n == NULL)
		return ytree_missing(err_r, t, keypath);
	if (!ytree_parse_uint(n, &v) || v < min || v > max) {
		ytree_describe(n, got, sizeof(got));
		return ytree_key_error(err_r, t, n, keypath,
				       "expected an integer between %llu and "
				       "%llu, got %s",
				       min, max, got);
	}
	*val_r = v;
	return 0;
}

int ytree_scalar_bool(const struct ytree *t, const struct ytree_node *n,
		      const char *keypath, bool *val_r,
		      struct ytree_error *err_r)
{
	static const char *const yes[] = {"true", "yes", "on"};
	static const char *const no[] = {"false", "no", "off"};
	char got[160];

	if (n == NULL)
		return ytree_missing(err_r, t, keypath);
	if (n->kind == YTREE_SCALAR && !n->quoted &&
	    strlen(n->value) == n->len) {
		for (size_t i = 0; i < 3; i++) {
			if (strcasecmp(n->value, yes[i]) == 0 ||
			    strcasecmp(n->value, no[i]) == 0) {
				*val_r = strcasecmp(n->value, yes[i]) == 0;
				return 0;
			}
		}
	}
	ytree_describe(n, got, sizeof(got));
	return ytree_key_error(
		err_r, t, n, keypath,
		"expected a boolean (true/false, yes/no, "
		"on/off), got %s%s",
		n->kind == YTREE_SCALAR && n->quoted ? "a quoted string " : "",
		got);
}

int ytree_scalar_string(const struct ytree *t, const struct ytree_node *n,
			const char *keypath, const char **val_r,
			struct ytree_error *err_r)
{
	char got[160];

	if (n == NULL)
		return ytree_missing(err_r, t, keypath);
	if (n->kind != YTREE_SCALAR) {
		ytree_describe(n, got, sizeof(got));
		return ytree_key_error(err_r, t, n, keypath,
				       "expected a string, got %s", got);
	}
	if (memchr(n->value, '\0', n->len) != NULL)
		return ytree_key_error(err_r, t, n, keypath,
				       "string contains a NUL byte");
	*val_r = n->value;
	return 0;
}

static bool ytree_key_allowed(const struct ytree_node *key,
			      const char *const *allowed)
{
	for (size_t i = 0; allowed[i] != NULL; i++) {
		if (ytree_scalar_is(key, allowed[i]))
			return true;
	}
	return false;
}

int ytree_check_keys(const struct ytree *t, const struct ytree_node *map,
		     const char *keypath, const char *const *allowed,
		     struct ytree_error *err_r)
{
	bool root = keypath == NULL || keypath[0] == '\0';
	char got[160], quoted[128];

	if (map == NULL)
		return ytree_missing(err_r, t, keypath);
	if (map->kind != YTREE_MAP) {
		ytree_describe(map, got, sizeof(got));
		return ytree_key_error(err_r, t, map, keypath,
				       "expected a map, got %s", got);
	}
	for (size_t i = 0; i < map->count / 2; i++) {
		const struct ytree_node *key = map->items[2 * i];

		if (ytree_key_allowed(key, allowed))
			continue;
		ytree_quote(key->value, key->len, quoted, sizeof(quoted));
		return ytree_error_at(err_r, t, key, "unknown key '%s%s%s'",
				      root ? "" : keypath, root ? "" : ".",
				      quoted);
	}
	return 0;
}
