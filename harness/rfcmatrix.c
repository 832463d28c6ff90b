/*
 * rfcmatrix.c - load and check the requirement matrix (rfcmatrix.h).
 *
 * Each file is read with ytree and checked key by key with positions; the
 * trees are kept, and the requirements point at their strings.
 * Once everything is loaded the RFCs are sorted by number and an index of
 * all requirements sorted by id serves both the uniqueness check and
 * rfc_matrix_find().
 */
#include "rfcmatrix.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define RFC_NUMBER_MAX 99999u

struct matrix_doc {
	struct rfc_doc pub;
	struct rfc_req *reqs; /* pub.reqs, writable */
	struct ytree *tree;   /* the file, which holds the strings */
};

struct rfc_matrix {
	struct matrix_doc **docs;
	size_t n_docs;
	const struct rfc_req **index; /* every requirement, by id */
	size_t n_index;
};

/* What loading one file needs: the tree, the matrix, the error. */
struct load_ctx {
	struct rfc_matrix *m;
	const struct ytree *t;
	struct ytree_error *err;
	char where[96]; /* "requirement 3 'RFC1939-3-2': " or "" */
};

/* --- small helpers ----------------------------------------------------- */

__attribute__((format(printf, 5, 6))) static int
set_error(struct ytree_error *err, const char *file, unsigned line,
	  unsigned column, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	(void)snprintf(err->file, sizeof(err->file), "%s", file);
	err->line = line;
	err->column = column;
	va_start(ap, fmt);
	(void)vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}

/* Error at n (NULL: no position), prefixed with ctx->where. */
__attribute__((format(printf, 3, 4))) static int
load_error(struct load_ctx *ctx, const struct ytree_node *n, const char *fmt,
	   ...)
{
	char msg[224];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ytree_error_at(ctx->err, ctx->t, n, "%s%s", ctx->where, msg);
}

/* A scalar for messages: at most 60 bytes, control bytes as \xHH. */
static void quote(const struct ytree_node *n, char *buf, size_t size)
{
	size_t o = 0;

	if (n->kind != YTREE_SCALAR) {
		(void)snprintf(buf, size, "a %s", ytree_kind_name(n->kind));
		return;
	}
	buf[o++] = '\'';
	for (size_t i = 0; i < n->len && o + 8 < size; i++) {
		unsigned char c = (unsigned char)n->value[i];

		if (i == 60) {
			o += (size_t)snprintf(buf + o, size - o, "...");
			break;
		}
		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	(void)snprintf(buf + o, size - o, "'");
}

static bool is_digits(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return len > 0;
}

/* Dot-separated numbers without leading zeros; the first part may be an
 * appendix letter instead ("4.5.3.1.4", "B", "F.2"). */
static bool section_valid(const char *s, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.')
			continue;
		size_t plen = i - start;
		const char *part = s + start;
		bool letter = start == 0 && plen == 1 && part[0] >= 'A' &&
			      part[0] <= 'Z';

		if (!letter &&
		    (!is_digits(part, plen) || (part[0] == '0' && plen > 1)))
			return false;
		start = i + 1;
	}
	return true;
}

/* --- values ------------------------------------------------------------ */

/* n is of kind (a scalar: a string), or "[key 'KEY': ]expected a ..." */
static int expect_kind(struct load_ctx *ctx, const struct ytree_node *n,
		       enum ytree_kind kind, const char *key)
{
	char got[128];

	if (n->kind == kind)
		return 0;
	quote(n, got, sizeof(got));
	return load_error(
		ctx, n, "%s%s%sexpected a %s, got %s",
		key != NULL ? "key '" : "", key != NULL ? key : "",
		key != NULL ? "': " : "",
		kind == YTREE_SCALAR ? "string" : ytree_kind_name(kind), got);
}

/* A scalar string of key (not NUL-containing) into *val_r. */
static int get_string(struct load_ctx *ctx, const struct ytree_node *n,
		      const char *key, const char **val_r)
{
	if (expect_kind(ctx, n, YTREE_SCALAR, key) != 0)
		return -1;
	if (memchr(n->value, '\0', n->len) != NULL)
		return load_error(ctx, n, "key '%s': contains a NUL byte", key);
	*val_r = n->value;
	return 0;
}

/* A non-empty single line without control characters, of at most max
 * bytes (0: no limit). */
static int get_line(struct load_ctx *ctx, const struct ytree_node *n,
		    const char *key, size_t max, const char **val_r)
{
	const char *s;

	if (get_string(ctx, n, key, &s) != 0)
		return -1;
	if (n->len == 0)
		return load_error(ctx, n, "key '%s': empty value", key);
	for (size_t i = 0; i < n->len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n' || c == '\r')
			return load_error(ctx, n,
					  "key '%s': more than one line", key);
		if (c < 0x20 || c == 0x7f)
			return load_error(ctx, n,
					  "key '%s': control character \\x%02x",
					  key, c);
	}
	if (max > 0 && n->len > max)
		return load_error(ctx, n,
				  "key '%s': %zu bytes long, at most %zu", key,
				  n->len, max);
	*val_r = s;
	return 0;
}

/* The index of scalar n in the NULL-terminated names, or -1. */
static int name_index(const struct ytree_node *n, const char *const *names)
{
	for (int i = 0; names[i] != NULL; i++)
		if (n->kind == YTREE_SCALAR && strlen(names[i]) == n->len &&
		    memcmp(names[i], n->value, n->len) == 0)
			return i;
	return -1;
}

/* "a, b, c" */
static const char *join(const char *const *names, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; names[i] != NULL && o < size; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s%s",
				      i > 0 ? ", " : "", names[i]);
	return buf;
}

/* One of names exactly; its index into *idx_r. */
static int get_choice(struct load_ctx *ctx, const struct ytree_node *n,
		      const char *key, const char *const *names, int *idx_r)
{
	char got[128], list[96];

	if ((*idx_r = name_index(n, names)) >= 0)
		return 0;
	quote(n, got, sizeof(got));
	return load_error(ctx, n, "key '%s': expected one of %s, got %s", key,
			  join(names, list, sizeof(list)), got);
}

/* Every key of map is in allowed (NULL-terminated) and all of allowed are
 * present. */
static int check_keys(struct load_ctx *ctx, const struct ytree_node *map,
		      const char *const *allowed)
{
	char got[128], list[96];

	for (size_t k = 0; k < ytree_len(map); k++) {
		const struct ytree_node *key = ytree_map_key_at(map, k);

		if (name_index(key, allowed) >= 0)
			continue;
		quote(key, got, sizeof(got));
		return load_error(ctx, key,
				  "unknown key %s (expected one of %s)", got,
				  join(allowed, list, sizeof(list)));
	}
	for (size_t i = 0; allowed[i] != NULL; i++)
		if (ytree_map_get(map, allowed[i]) == NULL)
			return load_error(ctx, map, "missing key '%s'",
					  allowed[i]);
	return 0;
}

/* --- one requirement --------------------------------------------------- */

static const char *const level_names[] = {"MUST",	"MUST NOT", "SHOULD",
					  "SHOULD NOT", "MAY",	    NULL};
static const char *const role_names[] = {"server", "client", "both", "relay",
					 NULL};

/*
 * "RFC<number>-<section>" or "...-<n>" with n >= 2: the section part's
 * offset and length into *sec_r / *sec_len_r.
 */
static int check_id(struct load_ctx *ctx, const struct ytree_node *n,
		    unsigned number, size_t *sec_r, size_t *sec_len_r)
{
	char prefix[32], got[128];
	size_t plen =
		(size_t)snprintf(prefix, sizeof(prefix), "RFC%u-", number);
	const char *s = n->value, *dash;
	size_t len = n->len, slen;

	quote(n, got, sizeof(got));
	if (len <= plen || memcmp(s, prefix, plen) != 0)
		goto bad;
	dash = memchr(s + plen, '-', len - plen);
	slen = dash != NULL ? (size_t)(dash - (s + plen)) : len - plen;
	if (!section_valid(s + plen, slen))
		goto bad;
	if (dash != NULL) {
		const char *num = dash + 1;
		size_t nlen = len - (size_t)(num - s);

		if (!is_digits(num, nlen))
			goto bad;
		if (num[0] == '0' || (nlen == 1 && num[0] == '1'))
			return load_error(ctx, n,
					  "id %s: a number after the section "
					  "starts at 2 (the first requirement "
					  "of a section has none)",
					  got);
	}
	*sec_r = plen;
	*sec_len_r = slen;
	return 0;
bad:
	return load_error(ctx, n,
			  "id %s: expected RFC%u-<section> or "
			  "RFC%u-<section>-<n>",
			  got, number, number);
}

/* ctx->where for requirement i (1-based), with its id if it is a plain
 * string of reasonable characters. */
static void set_where(struct load_ctx *ctx, size_t i,
		      const struct ytree_node *id)
{
	bool show = id != NULL && id->kind == YTREE_SCALAR && id->len > 0 &&
		    id->len <= 40 &&
		    strspn(id->value, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				      "abcdefghijklmnopqrstuvwxyz"
				      "0123456789.-") == id->len;

	(void)snprintf(ctx->where, sizeof(ctx->where),
		       "requirement %zu%s%s%s: ", i, show ? " '" : "",
		       show ? id->value : "", show ? "'" : "");
}

static int load_req(struct load_ctx *ctx, const struct ytree_node *item,
		    size_t i, struct matrix_doc *d)
{
	static const char *const keys[] = {"id",   "section", "level",
					   "role", "text",    NULL};
	struct rfc_req *r = &d->reqs[d->pub.n_reqs];
	const struct ytree_node *id = ytree_map_get(item, "id");
	const struct ytree_node *sec = ytree_map_get(item, "section");
	const char *idv, *secv;
	size_t soff = 0, slen = 0;
	int level, role;
	char got[128];

	set_where(ctx, i, id);
	if (expect_kind(ctx, item, YTREE_MAP, NULL) != 0 ||
	    check_keys(ctx, item, keys) != 0 ||
	    get_string(ctx, id, "id", &idv) != 0 ||
	    check_id(ctx, id, d->pub.number, &soff, &slen) != 0 ||
	    get_string(ctx, sec, "section", &secv) != 0)
		return -1;
	if (sec->len != slen || memcmp(secv, idv + soff, slen) != 0) {
		quote(sec, got, sizeof(got));
		return load_error(ctx, sec,
				  "section %s does not match the id "
				  "(expected '%.*s')",
				  got, (int)slen, idv + soff);
	}
	if (get_choice(ctx, ytree_map_get(item, "level"), "level", level_names,
		       &level) != 0 ||
	    get_choice(ctx, ytree_map_get(item, "role"), "role", role_names,
		       &role) != 0 ||
	    get_line(ctx, ytree_map_get(item, "text"), "text",
		     RFC_MATRIX_TEXT_MAX, &r->text) != 0)
		return -1;
	r->id = idv;
	r->section = secv;
	r->level = (enum rfc_level)level;
	r->role = (enum rfc_role)role;
	r->doc = &d->pub;
	r->line = id->line;
	r->column = id->column;
	d->pub.n_reqs++;
	return 0;
}

/* --- one file ---------------------------------------------------------- */

/* rfc: a number not loaded before, title: a line. */
static int load_head(struct load_ctx *ctx, const struct ytree_node *root,
		     struct matrix_doc *d)
{
	const struct ytree_node *num = ytree_map_get(root, "rfc");
	unsigned long long v;

	if (ytree_scalar_uint(ctx->t, num, "rfc", 1, RFC_NUMBER_MAX, &v,
			      ctx->err) != 0)
		return -1;
	d->pub.number = (unsigned)v;
	for (size_t i = 0; i + 1 < ctx->m->n_docs; i++)
		if (ctx->m->docs[i]->pub.number == d->pub.number)
			return load_error(
				ctx, num, "rfc %u is already defined in %s",
				d->pub.number, ctx->m->docs[i]->pub.file);
	return get_line(ctx, ytree_map_get(root, "title"), "title", 0,
			&d->pub.title);
}

static int load_doc(struct load_ctx *ctx, struct matrix_doc *d)
{
	static const char *const keys[] = {"rfc", "title", "requirements",
					   NULL};
	const struct ytree_node *root = ytree_root(ctx->t), *reqs;

	if (root == NULL)
		return load_error(ctx, NULL,
				  "no document (expected keys rfc, title, "
				  "requirements)");
	reqs = ytree_map_get(root, "requirements");
	if (expect_kind(ctx, root, YTREE_MAP, NULL) != 0 ||
	    check_keys(ctx, root, keys) != 0 || load_head(ctx, root, d) != 0 ||
	    expect_kind(ctx, reqs, YTREE_SEQ, "requirements") != 0)
		return -1;
	if ((d->reqs = calloc(ytree_len(reqs) + 1, sizeof(*d->reqs))) == NULL)
		return load_error(ctx, reqs, "out of memory");
	d->pub.reqs = d->reqs;
	for (size_t i = 0; i < ytree_len(reqs); i++)
		if (load_req(ctx, ytree_seq_at(reqs, i), i + 1, d) != 0)
			return -1;
	return 0;
}

/* Add the file t to m (which owns t from now on); 0 or -1. */
static int add_tree(struct rfc_matrix *m, struct ytree *t,
		    struct ytree_error *err)
{
	struct load_ctx ctx = {.m = m, .t = t, .err = err, .where = ""};
	struct matrix_doc **p, *d = calloc(1, sizeof(*d));

	p = d != NULL ? realloc(m->docs, (m->n_docs + 1) * sizeof(*p)) : NULL;
	if (p == NULL) {
		load_error(&ctx, NULL, "out of memory");
		ytree_free(&t);
		free(d);
		return -1;
	}
	m->docs = p;
	m->docs[m->n_docs] = d;
	m->n_docs++;
	d->tree = t;
	d->pub.file = ytree_file(t);
	return load_doc(&ctx, d);
}

/* --- the whole matrix -------------------------------------------------- */

static int cmp_doc(const void *a, const void *b)
{
	const struct matrix_doc *x = *(const struct matrix_doc *const *)a;
	const struct matrix_doc *y = *(const struct matrix_doc *const *)b;

	return (x->pub.number > y->pub.number) -
	       (x->pub.number < y->pub.number);
}

/* By id, then by where it is written (files load in name order). */
static int cmp_req(const void *a, const void *b)
{
	const struct rfc_req *x = *(const struct rfc_req *const *)a;
	const struct rfc_req *y = *(const struct rfc_req *const *)b;
	int c = strcmp(x->id, y->id);

	if (c == 0)
		c = strcmp(x->doc->file, y->doc->file);
	if (c == 0)
		c = (x->line > y->line) - (x->line < y->line);
	if (c == 0)
		c = (x->column > y->column) - (x->column < y->column);
	return c;
}

/* Sort the RFCs, index the requirements by id and reject a repeated id
 * (the smallest such id, at its second place). */
static int finish(struct rfc_matrix *m, struct ytree_error *err)
{
	const struct rfc_req **ix;
	size_t n = 0;

	for (size_t i = 0; i < m->n_docs; i++)
		n += m->docs[i]->pub.n_reqs;
	if ((m->index = calloc(n + 1, sizeof(*m->index))) == NULL)
		return set_error(err, "rfc", 0, 0, "out of memory");
	for (size_t i = 0; i < m->n_docs; i++)
		for (size_t j = 0; j < m->docs[i]->pub.n_reqs; j++)
			m->index[m->n_index++] = &m->docs[i]->reqs[j];
	ix = m->index;
	qsort(ix, m->n_index, sizeof(*ix), cmp_req);
	for (size_t i = 1; i < m->n_index; i++)
		if (strcmp(ix[i - 1]->id, ix[i]->id) == 0)
			return set_error(
				err, ix[i]->doc->file, ix[i]->line,
				ix[i]->column,
				"duplicate id '%s' (first at %s:%u:%u)",
				ix[i]->id, ix[i - 1]->doc->file,
				ix[i - 1]->line, ix[i - 1]->column);
	if (m->n_docs > 0) /* docs is NULL in an empty matrix */
		qsort(m->docs, m->n_docs, sizeof(*m->docs), cmp_doc);
	return 0;
}

void rfc_matrix_free(struct rfc_matrix **mp)
{
	struct rfc_matrix *m = *mp;

	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n_docs; i++) {
		ytree_free(&m->docs[i]->tree);
		free(m->docs[i]->reqs);
		free(m->docs[i]);
	}
	free(m->docs);
	free(m->index);
	free(m);
	*mp = NULL;
}

struct rfc_matrix *rfc_matrix_load_buffer(const char *name, const char *data,
					  size_t len, struct ytree_error *err_r)
{
	struct rfc_matrix *m = calloc(1, sizeof(*m));
	struct ytree *t = ytree_load_string(name, data, len, NULL, err_r);

	if (m == NULL)
		set_error(err_r, name != NULL ? name : "<string>", 0, 0,
			  "out of memory");
	if (m == NULL || t == NULL || add_tree(m, t, err_r) != 0 ||
	    finish(m, err_r) != 0) {
		if (m == NULL)
			ytree_free(&t);
		rfc_matrix_free(&m);
	}
	return m;
}

/* *.yaml, not hidden. */
static int matrix_name(const struct dirent *de)
{
	size_t len = strlen(de->d_name);

	return de->d_name[0] != '.' && len > 5 &&
	       strcmp(de->d_name + len - 5, ".yaml") == 0;
}

static int cmp_dirent(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Load dir/name into m if it is a regular file. */
static int add_file(struct rfc_matrix *m, const char *dir, const char *name,
		    struct ytree_error *err)
{
	char path[4096];
	struct ytree *t;
	struct stat st;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path))
		return set_error(err, dir, 0, 0, "file name too long");
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return 0;
	if ((t = ytree_load_file(path, NULL, err)) == NULL)
		return -1;
	return add_tree(m, t, err);
}

struct rfc_matrix *rfc_matrix_load_dir(const char *dir,
				       struct ytree_error *err_r)
{
	struct rfc_matrix *m = calloc(1, sizeof(*m));
	struct dirent **names = NULL;
	int n = m != NULL ? scandir(dir, &names, matrix_name, cmp_dirent) : 0;
	int rc = 0;

	if (m == NULL)
		rc = set_error(err_r, dir, 0, 0, "out of memory");
	else if (n < 0)
		rc = set_error(err_r, dir, 0, 0, "cannot read directory: %s",
			       strerror(errno));
	for (int i = 0; i < n; i++) {
		if (rc == 0)
			rc = add_file(m, dir, names[i]->d_name, err_r);
		free(names[i]);
	}
	free(names);
	if (rc != 0 || finish(m, err_r) != 0)
		rfc_matrix_free(&m);
	return m;
}

/* --- queries ----------------------------------------------------------- */

static int cmp_find(const void *key, const void *elem)
{
	return strcmp(key, (*(const struct rfc_req *const *)elem)->id);
}

const struct rfc_req *rfc_matrix_find(const struct rfc_matrix *m,
				      const char *id)
{
	const struct rfc_req *const *r;

	if (m == NULL || m->n_index == 0)
		return NULL;
	r = bsearch(id, m->index, m->n_index, sizeof(*m->index), cmp_find);
	return r != NULL ? *r : NULL;
}

size_t rfc_matrix_count(const struct rfc_matrix *m)
{
	return m != NULL ? m->n_docs : 0;
}

const struct rfc_doc *rfc_matrix_doc_at(const struct rfc_matrix *m, size_t i)
{
	return m != NULL && i < m->n_docs ? &m->docs[i]->pub : NULL;
}

const struct rfc_doc *rfc_matrix_doc(const struct rfc_matrix *m,
				     unsigned number)
{
	for (size_t i = 0; i < rfc_matrix_count(m); i++)
		if (m->docs[i]->pub.number == number)
			return &m->docs[i]->pub;
	return NULL;
}

const char *rfc_matrix_level_name(enum rfc_level level)
{
	return (unsigned)level < 5 ? level_names[level] : "?";
}

const char *rfc_matrix_role_name(enum rfc_role role)
{
	return (unsigned)role < 4 ? role_names[role] : "?";
}
