/*
 * ytree.c - load a YAML document into a small tree with source positions.
 *
 * libyaml's event parser (yaml_parser_parse) drives an explicit stack of
 * open maps and sequences, so nesting costs heap bounded by max_depth, not
 * C stack. Every node is counted against max_nodes before it is made and
 * every scalar checked against max_scalar_len. Keys are checked for
 * duplicates with one hash table per load, so a large map stays linear.
 * What is accepted and rejected is described in ytree.h; access to the
 * tree, the typed getters and the error helpers are in ytree_get.c.
 */
#include "ytree.h"
#include "ytree_private.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct ytree_keyslot {
	const struct ytree_node *map, *key;
};

struct ytree_keyset {
	struct ytree_keyslot *slots;
	size_t cap, used; /* cap is 0 or a power of two */
};

struct ytree_loader {
	yaml_parser_t parser;
	struct ytree *t;
	struct ytree_limits lim;
	struct ytree_error *err;
	/* err points to the caller's error, or to scratch if none given */
	struct ytree_error scratch;
	struct ytree_node **stack; /* open maps and sequences */
	size_t depth, stack_cap;
	size_t nodes;
	struct ytree_keyset keys;
	bool done;
	FILE *file;	  /* the input: a file, or */
	const char *data; /* a buffer of len bytes */
	size_t len;
};

/* --- errors ------------------------------------------------------------ */

/* A libyaml 0-based mark field as our 1-based one; SIZE_MAX means "no
 * position" and gives 0. */
static unsigned ytree_pos(size_t zero_based)
{
	if (zero_based == SIZE_MAX)
		return 0;
	return zero_based >= UINT_MAX ? UINT_MAX : (unsigned)zero_based + 1;
}

__attribute__((format(printf, 3, 4))) static void
ytree_fail_file(struct ytree_error *e, const char *file, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return;
	va_start(ap, fmt);
	ytree_set_error(e, file, 0, 0, fmt, ap);
	va_end(ap);
}

/* Fill the error at a libyaml mark; always -1. */
__attribute__((format(printf, 3, 4))) static int
loader_fail(struct ytree_loader *ld, const yaml_mark_t *mark, const char *fmt,
	    ...)
{
	va_list ap;

	va_start(ap, fmt);
	ytree_set_error(ld->err, ld->t->file, ytree_pos(mark->line),
			ytree_pos(mark->column), fmt, ap);
	va_end(ap);
	return -1;
}

/* 1-based line and column of a byte offset into the input, for reader
 * errors, which carry no mark; 0 if the input cannot be read again. */
static void loader_offset_pos(struct ytree_loader *ld, size_t offset,
			      yaml_mark_t *mark)
{
	size_t i;
	int c = 0;

	memset(mark, 0, sizeof(*mark));
	mark->line = mark->column = SIZE_MAX; /* no position */
	if (ld->file != NULL && fseek(ld->file, 0, SEEK_SET) != 0)
		return;
	mark->line = mark->column = 0;
	for (i = 0; i < offset; i++) {
		if (ld->file != NULL)
			c = getc(ld->file);
		else
			c = i < ld->len ? (unsigned char)ld->data[i] : EOF;
		if (c == EOF)
			break;
		mark->column = c == '\n' ? 0 : mark->column + 1;
		mark->line += c == '\n';
	}
}

static int loader_reader_error(struct ytree_loader *ld, const char *problem)
{
	const yaml_parser_t *p = &ld->parser;
	yaml_mark_t mark;
	int read_errno = errno;

	if (ld->file != NULL && ferror(ld->file)) {
		memset(&mark, 0, sizeof(mark));
		mark.line = mark.column = SIZE_MAX;
		return loader_fail(ld, &mark, "read error: %s",
				   strerror(read_errno));
	}
	loader_offset_pos(ld, p->problem_offset, &mark);
	if (p->problem_value != -1)
		return loader_fail(ld, &mark, "%s (byte 0x%02x)", problem,
				   (unsigned)p->problem_value);
	return loader_fail(ld, &mark, "%s", problem);
}

/* Turn libyaml's parser error into ours. */
static int loader_yaml_error(struct ytree_loader *ld)
{
	const yaml_parser_t *p = &ld->parser;
	const char *problem = p->problem != NULL ? p->problem : "syntax error";

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return loader_fail(ld, &p->mark, "out of memory");
	case YAML_READER_ERROR:
		return loader_reader_error(ld, problem);
	case YAML_SCANNER_ERROR:
	case YAML_PARSER_ERROR:
		if (p->context != NULL)
			return loader_fail(
				ld, &p->problem_mark,
				"%s (%s started at line %u, column %u)",
				problem, p->context,
				ytree_pos(p->context_mark.line),
				ytree_pos(p->context_mark.column));
		return loader_fail(ld, &p->problem_mark, "%s", problem);
	default:
		return loader_fail(ld, &p->mark, "%s", problem);
	}
}

/* --- duplicate keys ---------------------------------------------------- */

static size_t keyset_hash(const struct ytree_node *map,
			  const struct ytree_node *key)
{
	uint64_t h = 14695981039346656037ull ^ (uint64_t)(uintptr_t)map;

	for (size_t i = 0; i < key->len; i++) {
		h ^= (unsigned char)key->value[i];
		h *= 1099511628211ull;
	}
	return (size_t)(h ^ (h >> 29));
}

static struct ytree_keyslot *keyset_find(struct ytree_keyslot *slots,
					 size_t cap,
					 const struct ytree_node *map,
					 const struct ytree_node *key)
{
	size_t i = keyset_hash(map, key) & (cap - 1);

	for (;; i = (i + 1) & (cap - 1)) {
		struct ytree_keyslot *s = &slots[i];

		if (s->key == NULL)
			return s;
		if (s->map == map && s->key->len == key->len &&
		    memcmp(s->key->value, key->value, key->len) == 0)
			return s;
	}
}

static int keyset_grow(struct ytree_keyset *ks)
{
	size_t cap = ks->cap == 0 ? 64 : ks->cap * 2;
	struct ytree_keyslot *slots;

	if (cap > SIZE_MAX / sizeof(*slots))
		return -1;
	slots = calloc(cap, sizeof(*slots));
	if (slots == NULL)
		return -1;
	for (size_t i = 0; i < ks->cap; i++) {
		const struct ytree_keyslot *s = &ks->slots[i];

		if (s->key != NULL)
			*keyset_find(slots, cap, s->map, s->key) = *s;
	}
	free(ks->slots);
	ks->slots = slots;
	ks->cap = cap;
	return 0;
}

/* Add key to map's keys: 0 if new, 1 if already there, -1 out of memory. */
static int keyset_add(struct ytree_keyset *ks, const struct ytree_node *map,
		      const struct ytree_node *key)
{
	struct ytree_keyslot *s;

	if ((ks->used + 1) * 2 > ks->cap && keyset_grow(ks) != 0)
		return -1;
	s = keyset_find(ks->slots, ks->cap, map, key);
	if (s->key != NULL)
		return 1;
	s->map = map;
	s->key = key;
	ks->used++;
	return 0;
}

/* --- building the tree ------------------------------------------------- */

/* A new node, with room for a scalar of len bytes plus NUL after it. */
static struct ytree_node *loader_new_node(struct ytree_loader *ld,
					  enum ytree_kind kind,
					  const yaml_mark_t *mark, size_t len)
{
	struct ytree_node *n;

	if (ld->nodes >= ld->lim.max_nodes) {
		loader_fail(ld, mark, "more than %zu nodes", ld->lim.max_nodes);
		return NULL;
	}
	n = calloc(1, sizeof(*n) + len + 1);
	if (n == NULL) {
		loader_fail(ld, mark, "out of memory");
		return NULL;
	}
	n->kind = kind;
	n->line = ytree_pos(mark->line);
	n->column = ytree_pos(mark->column);
	n->next_alloc = ld->t->nodes;
	ld->t->nodes = n;
	ld->nodes++;
	return n;
}

static int loader_append(struct ytree_loader *ld, struct ytree_node *parent,
			 struct ytree_node *n, const yaml_mark_t *mark)
{
	if (parent->count == parent->cap) {
		size_t cap = parent->cap == 0 ? 4 : parent->cap * 2;
		struct ytree_node **items;

		if (cap > SIZE_MAX / sizeof(struct ytree_node *))
			return loader_fail(ld, mark, "out of memory");
		items = realloc(parent->items,
				cap * sizeof(struct ytree_node *));
		if (items == NULL)
			return loader_fail(ld, mark, "out of memory");
		parent->items = items;
		parent->cap = cap;
	}
	parent->items[parent->count++] = n;
	return 0;
}

/* Hang a new node on the innermost open map or sequence (or make it the
 * root), checking map keys. */
static int loader_attach(struct ytree_loader *ld, struct ytree_node *n,
			 const yaml_mark_t *mark)
{
	struct ytree_node *parent;
	char quoted[128];

	if (ld->depth == 0) {
		ld->t->root = n;
		return 0;
	}
	parent = ld->stack[ld->depth - 1];
	if (parent->kind == YTREE_MAP && parent->count % 2 == 0) {
		if (n->kind != YTREE_SCALAR)
			return loader_fail(ld, mark,
					   "a map key must be a scalar, not a "
					   "%s",
					   ytree_kind_name(n->kind));
		switch (keyset_add(&ld->keys, parent, n)) {
		case 0:
			break;
		case 1:
			ytree_quote(n->value, n->len, quoted, sizeof(quoted));
			return loader_fail(ld, mark, "duplicate key '%s'",
					   quoted);
		default:
			return loader_fail(ld, mark, "out of memory");
		}
	}
	return loader_append(ld, parent, n, mark);
}

/* Anchors (and so aliases) and explicit tags are not part of our YAML. */
static int loader_check_props(struct ytree_loader *ld, const yaml_event_t *ev,
			      const yaml_char_t *anchor, const yaml_char_t *tag)
{
	char quoted[128];

	if (anchor != NULL) {
		ytree_quote((const char *)anchor, strlen((const char *)anchor),
			    quoted, sizeof(quoted));
		return loader_fail(ld, &ev->start_mark,
				   "anchors are not supported ('&%s')", quoted);
	}
	if (tag != NULL) {
		static const char core[] = "tag:yaml.org,2002:";
		const char *name = (const char *)tag;
		size_t skip = sizeof(core) - 1;

		if (strncmp(name, core, skip) == 0) {
			(void)snprintf(quoted, sizeof(quoted), "!!");
			ytree_quote(name + skip, strlen(name + skip),
				    quoted + 2, sizeof(quoted) - 2);
		} else {
			ytree_quote(name, strlen(name), quoted, sizeof(quoted));
		}
		return loader_fail(ld, &ev->start_mark,
				   "tags are not supported ('%s')", quoted);
	}
	return 0;
}

static int loader_scalar(struct ytree_loader *ld, const yaml_event_t *ev)
{
	const yaml_mark_t *mark = &ev->start_mark;
	size_t len = ev->data.scalar.length;
	struct ytree_node *n;
	char *value;

	if (loader_check_props(ld, ev, ev->data.scalar.anchor,
			       ev->data.scalar.tag) != 0)
		return -1;
	if (len > ld->lim.max_scalar_len)
		return loader_fail(ld, mark, "scalar longer than %zu bytes",
				   ld->lim.max_scalar_len);
	n = loader_new_node(ld, YTREE_SCALAR, mark, len);
	if (n == NULL)
		return -1;
	value = (char *)(n + 1);
	memcpy(value, ev->data.scalar.value, len);
	value[len] = '\0';
	n->value = value;
	n->len = len;
	n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
	return loader_attach(ld, n, mark);
}

static int loader_open(struct ytree_loader *ld, const yaml_event_t *ev,
		       enum ytree_kind kind, const yaml_char_t *anchor,
		       const yaml_char_t *tag)
{
	const yaml_mark_t *mark = &ev->start_mark;
	struct ytree_node *n;

	if (loader_check_props(ld, ev, anchor, tag) != 0)
		return -1;
	if (ld->depth >= ld->lim.max_depth)
		return loader_fail(ld, mark, "nesting deeper than %u levels",
				   ld->lim.max_depth);
	if (ld->depth == ld->stack_cap) {
		size_t cap = ld->stack_cap == 0 ? 8 : ld->stack_cap * 2;
		struct ytree_node **stack;

		if (cap > ld->lim.max_depth)
			cap = ld->lim.max_depth;
		stack = realloc(ld->stack, cap * sizeof(struct ytree_node *));
		if (stack == NULL)
			return loader_fail(ld, mark, "out of memory");
		ld->stack = stack;
		ld->stack_cap = cap;
	}
	n = loader_new_node(ld, kind, mark, 0);
	if (n == NULL || loader_attach(ld, n, mark) != 0)
		return -1;
	ld->stack[ld->depth++] = n;
	return 0;
}

static int loader_event(struct ytree_loader *ld, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
	case YAML_DOCUMENT_END_EVENT:
		ld->done = true;
		return 0;
	case YAML_ALIAS_EVENT:
		return loader_fail(ld, &ev->start_mark,
				   "aliases are not supported");
	case YAML_SCALAR_EVENT:
		return loader_scalar(ld, ev);
	case YAML_SEQUENCE_START_EVENT:
		return loader_open(ld, ev, YTREE_SEQ,
				   ev->data.sequence_start.anchor,
				   ev->data.sequence_start.tag);
	case YAML_MAPPING_START_EVENT:
		return loader_open(ld, ev, YTREE_MAP,
				   ev->data.mapping_start.anchor,
				   ev->data.mapping_start.tag);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (ld->depth > 0)
			ld->depth--;
		return 0;
	default: /* stream and document start, no event */
		return 0;
	}
}

/* --- loading ----------------------------------------------------------- */

static int loader_init(struct ytree_loader *ld, const char *name,
		       const struct ytree_limits *lim,
		       struct ytree_error *err_r)
{
	memset(ld, 0, sizeof(*ld));
	ld->err = err_r != NULL ? err_r : &ld->scratch;
	memset(ld->err, 0, sizeof(*ld->err));
	if (lim != NULL)
		ld->lim = *lim;
	if (ld->lim.max_depth == 0)
		ld->lim.max_depth = YTREE_DEFAULT_MAX_DEPTH;
	if (ld->lim.max_nodes == 0)
		ld->lim.max_nodes = YTREE_DEFAULT_MAX_NODES;
	if (ld->lim.max_scalar_len == 0)
		ld->lim.max_scalar_len = YTREE_DEFAULT_MAX_SCALAR_LEN;
	ld->t = calloc(1, sizeof(*ld->t));
	if (ld->t != NULL)
		ld->t->file = strdup(name);
	if (ld->t == NULL || ld->t->file == NULL ||
	    !yaml_parser_initialize(&ld->parser)) {
		ytree_fail_file(ld->err, name, "out of memory");
		if (ld->t != NULL)
			free(ld->t->file);
		free(ld->t);
		return -1;
	}
	return 0;
}

/* Parse, then release the loader; the tree, or NULL with the error set. */
static struct ytree *loader_finish(struct ytree_loader *ld)
{
	yaml_event_t ev;
	int rc = 0;

	while (rc == 0 && !ld->done) {
		if (!yaml_parser_parse(&ld->parser, &ev)) {
			rc = loader_yaml_error(ld);
			break;
		}
		rc = loader_event(ld, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&ld->parser);
	free(ld->stack);
	free(ld->keys.slots);
	if (rc != 0)
		ytree_free(&ld->t);
	return ld->t;
}

struct ytree *ytree_load_string(const char *name, const char *data, size_t len,
				const struct ytree_limits *lim,
				struct ytree_error *err_r)
{
	struct ytree_loader ld;

	if (loader_init(&ld, name != NULL ? name : "<string>", lim, err_r) != 0)
		return NULL;
	ld.data = data;
	ld.len = len;
	yaml_parser_set_input_string(&ld.parser, (const unsigned char *)data,
				     len);
	return loader_finish(&ld);
}

struct ytree *ytree_load_file(const char *path, const struct ytree_limits *lim,
			      struct ytree_error *err_r)
{
	struct ytree_loader ld;
	struct ytree *t;
	FILE *f = fopen(path, "rb");

	if (f == NULL) {
		if (err_r != NULL)
			memset(err_r, 0, sizeof(*err_r));
		ytree_fail_file(err_r, path, "cannot open: %s",
				strerror(errno));
		return NULL;
	}
	if (loader_init(&ld, path, lim, err_r) != 0) {
		(void)fclose(f);
		return NULL;
	}
	ld.file = f;
	yaml_parser_set_input_file(&ld.parser, f);
	t = loader_finish(&ld);
	(void)fclose(f);
	return t;
}

void ytree_free(struct ytree **tp)
{
	struct ytree *t = *tp;
	struct ytree_node *n, *next;

	if (t == NULL)
		return;
	for (n = t->nodes; n != NULL; n = next) {
		next = n->next_alloc;
		free(n->items);
		free(n);
	}
	free(t->file);
	free(t);
	*tp = NULL;
}
