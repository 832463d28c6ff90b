/*
 * ytree.h - load a YAML document into a small tree with source positions.
 *
 * For configuration files and test scenarios. The document is parsed with
 * libyaml's event API into maps, sequences and scalars; every node keeps
 * the 1-based line and column where it starts, so callers can report
 * "file:line:column: message" for a bad value.
 *
 * Deliberately small and strict (YAML 1.1 as libyaml reads it):
 *  - No type resolution: every scalar is a byte string plus whether it was
 *    written plain or in some other style (quoted, literal '|' or folded
 *    '>'), so `yes` and "yes" can be told apart. The typed getters below
 *    do the interpretation.
 *  - Anchors, aliases and explicit tags are rejected (no alias expansion,
 *    so no "billion laughs"); map keys must be scalars; a repeated key in
 *    one map is an error.
 *  - Only the first document of a stream is loaded; whatever follows its
 *    end is not read. An input with no document at all (empty, or only
 *    comments) loads successfully with a NULL root.
 *  - Nesting depth, node count and scalar length are limited; the loader
 *    is iterative, so deep input cannot exhaust the C stack.
 */
#ifndef QUILL_YTREE_H
#define QUILL_YTREE_H

#include <stdbool.h>
#include <stddef.h>

enum ytree_kind {
	YTREE_SCALAR,
	YTREE_MAP,
	YTREE_SEQ,
};

/* Read-only for callers. For maps and sequences use ytree_len(),
 * ytree_seq_at(), ytree_map_key_at(), ytree_map_value_at(), ytree_map_get();
 * the remaining fields belong to the loader. */
struct ytree_node {
	enum ytree_kind kind;
	unsigned line, column; /* 1-based start of the node */

	/* Scalars: the value, NUL-terminated; len counts bytes without the
	 * terminator (a "\0" escape can put a NUL inside). quoted is false
	 * only for plain style. */
	const char *value;
	size_t len;
	bool quoted;

	/* Maps: items[2i] key (a scalar), items[2i+1] value. Sequences:
	 * items[i]. count is the number of items in the array. */
	struct ytree_node **items;
	size_t count, cap;
	struct ytree_node *next_alloc; /* every node of a tree, for freeing */
};

/* Zero in any field means the default. */
struct ytree_limits {
	unsigned max_depth;    /* nested maps/sequences; default 64 */
	size_t max_nodes;      /* nodes of all kinds; default 100000 */
	size_t max_scalar_len; /* bytes in one scalar; default 1 MiB */
};

#define YTREE_DEFAULT_MAX_DEPTH	     64u
#define YTREE_DEFAULT_MAX_NODES	     100000u
#define YTREE_DEFAULT_MAX_SCALAR_LEN ((size_t)1024 * 1024)

/* line and column are 1-based; 0 when no position applies (e.g. a file
 * that cannot be opened). */
struct ytree_error {
	char file[256];
	unsigned line, column;
	char message[256];
};

struct ytree;

/* Load the first document of a file or a memory buffer (data need not be
 * NUL-terminated; name is used in errors, "<string>" if NULL). lim may be
 * NULL for the defaults. On failure return NULL and fill *err_r (which may
 * be NULL). An input without a document gives a tree whose root is NULL. */
struct ytree *ytree_load_file(const char *path, const struct ytree_limits *lim,
			      struct ytree_error *err_r);
struct ytree *ytree_load_string(const char *name, const char *data, size_t len,
				const struct ytree_limits *lim,
				struct ytree_error *err_r);
void ytree_free(struct ytree **t);

const struct ytree_node *ytree_root(const struct ytree *t);
/* The file name (or string name) the tree was loaded from. */
const char *ytree_file(const struct ytree *t);

/* "scalar", "map" or "sequence". */
const char *ytree_kind_name(enum ytree_kind kind);

/* Number of pairs in a map or items in a sequence; 0 for a scalar or NULL. */
size_t ytree_len(const struct ytree_node *n);
/* NULL if n is not a sequence or i is out of range. */
const struct ytree_node *ytree_seq_at(const struct ytree_node *n, size_t i);
/* The i-th key (a scalar) or value of a map in document order; NULL if n
 * is not a map or i is out of range. */
const struct ytree_node *ytree_map_key_at(const struct ytree_node *n, size_t i);
const struct ytree_node *ytree_map_value_at(const struct ytree_node *n,
					    size_t i);
/* The value for key (compared byte for byte), or NULL if absent or map is
 * not a map. */
const struct ytree_node *ytree_map_get(const struct ytree_node *map,
				       const char *key);

/*
 * Typed getters for configuration code. keypath names the value in
 * messages ("limits.smtp_line_max"); it may be NULL or "". On success
 * return 0 and set *val_r; on failure return -1, leave *val_r alone and
 * fill *err_r with n's position and a message such as
 *   key 'limits.smtp_line_max': expected an integer between 64 and 65536,
 *   got 'abc'
 * A NULL n is reported as a missing key (without a position).
 */

/* Decimal digits only, no sign, no leading zero (so 0755 is never taken
 * for decimal), within [min, max]. Quoted digits are accepted too. */
int ytree_scalar_uint(const struct ytree *t, const struct ytree_node *n,
		      const char *keypath, unsigned long long min,
		      unsigned long long max, unsigned long long *val_r,
		      struct ytree_error *err_r);
/* true/yes/on or false/no/off, any case, plain style only. */
int ytree_scalar_bool(const struct ytree *t, const struct ytree_node *n,
		      const char *keypath, bool *val_r,
		      struct ytree_error *err_r);
/* Any scalar without a NUL byte inside; *val_r points into the tree. */
int ytree_scalar_string(const struct ytree *t, const struct ytree_node *n,
			const char *keypath, const char **val_r,
			struct ytree_error *err_r);

/* Fail with "unknown key 'KEYPATH.KEY'" at the first key of map that is not
 * in the NULL-terminated list allowed (keypath "" or NULL for the root: no
 * prefix). Also fails if map is not a map. Returns 0 or -1. */
int ytree_check_keys(const struct ytree *t, const struct ytree_node *map,
		     const char *keypath, const char *const *allowed,
		     struct ytree_error *err_r);

/* Fill *err_r (if not NULL) with t's file name, n's position (0 if n is
 * NULL) and a printf-formatted message. Always returns -1. */
int ytree_error_at(struct ytree_error *err_r, const struct ytree *t,
		   const struct ytree_node *n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* "file:line:column: message", or "file: message" without a position.
 * Returns 0, or -1 if buf was too small (it then holds a truncated, still
 * NUL-terminated text). */
int ytree_error_format(const struct ytree_error *e, char *buf, size_t n);

#endif
