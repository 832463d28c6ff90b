/*
 * ytree_private.h - what ytree.c (the loader) and ytree_get.c (access,
 * typed getters, errors) share. Not for use outside lib/ytree*.c; the API
 * is ytree.h.
 */
#ifndef QUILL_YTREE_PRIVATE_H
#define QUILL_YTREE_PRIVATE_H

#include "ytree.h"

#include <stdarg.h>
#include <stddef.h>

struct ytree {
	char *file;
	struct ytree_node *root;
	struct ytree_node *nodes; /* all nodes, linked by next_alloc */
};

/* Fill e (not NULL) with a position and a vprintf-formatted message. */
void ytree_set_error(struct ytree_error *e, const char *file, unsigned line,
		     unsigned column, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));

/* Write bytes for a message: control bytes, quote and backslash escaped,
 * cut at about 60 bytes (never inside a UTF-8 sequence) with "...". */
void ytree_quote(const char *s, size_t len, char *buf, size_t size);

#endif
