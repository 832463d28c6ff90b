/*
 * test_ytree.c - unit tests for lib/ytree (YAML into a positioned tree).
 *
 * Structure and positions of maps, sequences and scalars; plain against
 * quoted style; what the loader rejects (duplicate keys, anchors, aliases,
 * tags, non-scalar keys) and its limits; libyaml syntax errors with their
 * positions; the typed getters' exact messages; loading from files.
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ytree.h"

static struct ytree *load(const char *yaml, struct ytree_error *err)
{
	return ytree_load_string("test.yaml", yaml, strlen(yaml), NULL, err);
}

static struct ytree *load_lim(const char *yaml, const struct ytree_limits *lim,
			      struct ytree_error *err)
{
	return ytree_load_string("test.yaml", yaml, strlen(yaml), lim, err);
}

/* Loading must fail with this formatted error. */
static void expect_error(const char *yaml, const struct ytree_limits *lim,
			 const char *expected)
{
	struct ytree_error err;
	struct ytree *t = load_lim(yaml, lim, &err);
	char buf[600];

	ck_assert_msg(t == NULL, "loaded: %s", yaml);
	ck_assert_int_eq(ytree_error_format(&err, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, expected);
}

static void assert_scalar(const struct ytree_node *n, const char *value,
			  bool quoted, unsigned line, unsigned column)
{
	ck_assert_ptr_nonnull(n);
	ck_assert_int_eq(n->kind, YTREE_SCALAR);
	ck_assert_str_eq(n->value, value);
	ck_assert_uint_eq(n->len, strlen(value));
	ck_assert_int_eq(n->quoted, quoted);
	ck_assert_uint_eq(n->line, line);
	ck_assert_uint_eq(n->column, column);
}

/* --- structure and positions ------------------------------------------ */

START_TEST(test_map)
{
	struct ytree_error err;
	struct ytree *t = load("name: quill\nport: 25\n", &err);
	const struct ytree_node *root;

	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(ytree_file(t), "test.yaml");
	root = ytree_root(t);
	ck_assert_int_eq(root->kind, YTREE_MAP);
	ck_assert_uint_eq(root->line, 1);
	ck_assert_uint_eq(root->column, 1);
	ck_assert_uint_eq(ytree_len(root), 2);
	assert_scalar(ytree_map_key_at(root, 0), "name", false, 1, 1);
	assert_scalar(ytree_map_value_at(root, 0), "quill", false, 1, 7);
	assert_scalar(ytree_map_key_at(root, 1), "port", false, 2, 1);
	assert_scalar(ytree_map_get(root, "port"), "25", false, 2, 7);
	ck_assert_ptr_eq(ytree_map_get(root, "name"),
			 ytree_map_value_at(root, 0));
	ck_assert_ptr_null(ytree_map_get(root, "nope"));
	ck_assert_ptr_null(ytree_map_get(root, "nam"));
	ck_assert_ptr_null(ytree_map_key_at(root, 2));
	ck_assert_ptr_null(ytree_map_value_at(root, 2));
	ck_assert_ptr_null(ytree_seq_at(root, 0));
	ytree_free(&t);
	ck_assert_ptr_null(t);
}
END_TEST

START_TEST(test_seq)
{
	struct ytree *t = load("- a\n- b\n-   [c, \"d\"]\n- {}\n", NULL);
	const struct ytree_node *root, *inner;

	ck_assert_ptr_nonnull(t);
	root = ytree_root(t);
	ck_assert_int_eq(root->kind, YTREE_SEQ);
	ck_assert_uint_eq(ytree_len(root), 4);
	assert_scalar(ytree_seq_at(root, 0), "a", false, 1, 3);
	assert_scalar(ytree_seq_at(root, 1), "b", false, 2, 3);
	inner = ytree_seq_at(root, 2);
	ck_assert_int_eq(inner->kind, YTREE_SEQ);
	ck_assert_uint_eq(inner->line, 3);
	ck_assert_uint_eq(inner->column, 5);
	ck_assert_uint_eq(ytree_len(inner), 2);
	assert_scalar(ytree_seq_at(inner, 0), "c", false, 3, 6);
	assert_scalar(ytree_seq_at(inner, 1), "d", true, 3, 9);
	ck_assert_int_eq(ytree_seq_at(root, 3)->kind, YTREE_MAP);
	ck_assert_uint_eq(ytree_len(ytree_seq_at(root, 3)), 0);
	ck_assert_ptr_null(ytree_seq_at(root, 4));
	ck_assert_ptr_null(ytree_map_key_at(root, 0));
	ck_assert_ptr_null(ytree_map_get(root, "a"));
	ytree_free(&t);
}
END_TEST

static const char nested_yaml[] = "# Quill configuration\n"
				  "server:\n"
				  "  hostname: mx.example.org\n"
				  "  listen:\n"
				  "    - address: 127.0.0.1\n"
				  "      port: 2525\n"
				  "    - address: \"::1\"\n"
				  "      port: 2526\n"
				  "limits:\n"
				  "  smtp_line_max: 1000\n";

START_TEST(test_nesting_positions)
{
	struct ytree *t = load(nested_yaml, NULL);
	const struct ytree_node *root, *server, *listen, *second;

	ck_assert_ptr_nonnull(t);
	root = ytree_root(t);
	ck_assert_uint_eq(root->line, 2);
	ck_assert_uint_eq(ytree_len(root), 2);
	server = ytree_map_get(root, "server");
	ck_assert_int_eq(server->kind, YTREE_MAP);
	ck_assert_uint_eq(server->line, 3);
	ck_assert_uint_eq(server->column, 3);
	assert_scalar(ytree_map_get(server, "hostname"), "mx.example.org",
		      false, 3, 13);
	listen = ytree_map_get(server, "listen");
	ck_assert_int_eq(listen->kind, YTREE_SEQ);
	ck_assert_uint_eq(listen->line, 5);
	ck_assert_uint_eq(listen->column, 5);
	ck_assert_uint_eq(ytree_len(listen), 2);
	second = ytree_seq_at(listen, 1);
	ck_assert_uint_eq(second->line, 7);
	ck_assert_uint_eq(second->column, 7);
	assert_scalar(ytree_map_key_at(second, 1), "port", false, 8, 7);
	assert_scalar(ytree_map_get(second, "address"), "::1", true, 7, 16);
	assert_scalar(
		ytree_map_get(ytree_map_get(root, "limits"), "smtp_line_max"),
		"1000", false, 10, 18);
	ytree_free(&t);
}
END_TEST

START_TEST(test_crlf_positions)
{
	struct ytree *t = load("a: 1\r\nb: 2\r\n", NULL);

	ck_assert_ptr_nonnull(t);
	assert_scalar(ytree_map_get(ytree_root(t), "b"), "2", false, 2, 4);
	ytree_free(&t);
}
END_TEST

START_TEST(test_quoted_vs_plain)
{
	struct ytree *t = load("a: yes\n"
			       "b: \"yes\"\n"
			       "c: 'yes'\n"
			       "d: |\n"
			       "  line\n"
			       "e: >\n"
			       "  folded\n"
			       "  text\n"
			       "f:\n"
			       "g: ~\n"
			       "h: ''\n",
			       NULL);
	const struct ytree_node *r;

	ck_assert_ptr_nonnull(t);
	r = ytree_root(t);
	assert_scalar(ytree_map_get(r, "a"), "yes", false, 1, 4);
	assert_scalar(ytree_map_get(r, "b"), "yes", true, 2, 4);
	assert_scalar(ytree_map_get(r, "c"), "yes", true, 3, 4);
	assert_scalar(ytree_map_get(r, "d"), "line\n", true, 4, 4);
	assert_scalar(ytree_map_get(r, "e"), "folded text\n", true, 6, 4);
	/* No type resolution: an empty value and ~ stay strings. */
	ck_assert_str_eq(ytree_map_get(r, "f")->value, "");
	ck_assert(!ytree_map_get(r, "f")->quoted);
	assert_scalar(ytree_map_get(r, "g"), "~", false, 10, 4);
	assert_scalar(ytree_map_get(r, "h"), "", true, 11, 4);
	ytree_free(&t);
}
END_TEST

START_TEST(test_nul_escape)
{
	struct ytree_error err;
	struct ytree *t = load("k: \"x\\0y\"\n", NULL);
	const struct ytree_node *v;
	const char *s = "unchanged";

	ck_assert_ptr_nonnull(t);
	v = ytree_map_get(ytree_root(t), "k");
	ck_assert_uint_eq(v->len, 3);
	ck_assert_mem_eq(v->value, "x\0y", 4);
	ck_assert_int_eq(ytree_scalar_string(t, v, "k", &s, &err), -1);
	ck_assert_str_eq(s, "unchanged");
	ck_assert_str_eq(err.message, "key 'k': string contains a NUL byte");
	/* A key with a NUL inside does not match its C-string prefix. */
	ytree_free(&t);
	t = load("\"a\\0b\": 1\n", NULL);
	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_null(ytree_map_get(ytree_root(t), "a"));
	ytree_free(&t);
}
END_TEST

START_TEST(test_empty_documents)
{
	static const char *const empty[] = {"", "# only a comment\n", "\n\n"};
	struct ytree_error err;
	struct ytree *t;

	for (size_t i = 0; i < 3; i++) {
		t = load(empty[i], &err);
		ck_assert_ptr_nonnull(t);
		ck_assert_ptr_null(ytree_root(t));
		ck_assert_uint_eq(ytree_len(ytree_root(t)), 0);
		ytree_free(&t);
	}
	/* An explicit but empty document is one empty plain scalar. */
	t = load("---\n...\n", &err);
	ck_assert_ptr_nonnull(t);
	assert_scalar(ytree_root(t), "", false, 2, 1);
	ytree_free(&t);
}
END_TEST

START_TEST(test_first_document_only)
{
	struct ytree *t = load("a: 1\n---\nb: [[[ never read\n", NULL);

	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(ytree_len(ytree_root(t)), 1);
	ck_assert_ptr_nonnull(ytree_map_get(ytree_root(t), "a"));
	ytree_free(&t);
}
END_TEST

START_TEST(test_name_and_no_error_struct)
{
	struct ytree_error err;
	struct ytree *t;

	t = ytree_load_string(NULL, "a: [", 4, NULL, &err);
	ck_assert_ptr_null(t);
	ck_assert_str_eq(err.file, "<string>");
	t = ytree_load_string(NULL, "a: [", 4, NULL, NULL);
	ck_assert_ptr_null(t);
	t = ytree_load_string(NULL, "a: 1", 4, NULL, NULL);
	ck_assert_str_eq(ytree_file(t), "<string>");
	ytree_free(&t);
	ytree_free(&t); /* already NULL: nothing happens */
	/* Not NUL-terminated: only len bytes count. */
	t = ytree_load_string("n", "a: 1xyz", 4, NULL, NULL);
	ck_assert_str_eq(ytree_map_get(ytree_root(t), "a")->value, "1");
	ytree_free(&t);
}
END_TEST

START_TEST(test_accessors_null)
{
	ck_assert_ptr_null(ytree_root(NULL));
	ck_assert_uint_eq(ytree_len(NULL), 0);
	ck_assert_ptr_null(ytree_seq_at(NULL, 0));
	ck_assert_ptr_null(ytree_map_key_at(NULL, 0));
	ck_assert_ptr_null(ytree_map_value_at(NULL, 0));
	ck_assert_ptr_null(ytree_map_get(NULL, "a"));
	ck_assert_str_eq(ytree_kind_name(YTREE_SCALAR), "scalar");
	ck_assert_str_eq(ytree_kind_name(YTREE_MAP), "map");
	ck_assert_str_eq(ytree_kind_name(YTREE_SEQ), "sequence");
	ck_assert_str_eq(ytree_kind_name((enum ytree_kind)42), "unknown");
}
END_TEST

/* --- rejected documents ----------------------------------------------- */

START_TEST(test_duplicate_keys)
{
	struct ytree *t;

	expect_error("a: 1\nb: 2\na: 3\n", NULL,
		     "test.yaml:3:1: duplicate key 'a'");
	expect_error("a: 1\n\"a\": 2\n", NULL,
		     "test.yaml:2:1: duplicate key 'a'");
	expect_error("x:\n  k: 1\n  j: 2\n  k: 3\n", NULL,
		     "test.yaml:4:3: duplicate key 'k'");
	expect_error("{a: 1, a: 2}", NULL, "test.yaml:1:8: duplicate key 'a'");
	expect_error("\"a\\tb\": 1\n\"a\\tb\": 2\n", NULL,
		     "test.yaml:2:1: duplicate key 'a\\x09b'");
	expect_error("it's: 1\n'it''s': 2\n", NULL,
		     "test.yaml:2:1: duplicate key 'it\\'s'");
	expect_error("a\\b: 1\n\"a\\\\b\": 2\n", NULL,
		     "test.yaml:2:1: duplicate key 'a\\\\b'");
	/* The same key in different maps is fine. */
	t = load("x: {a: 1}\ny: {a: 2}\nz: [{a: 1}, {a: 2}]\n", NULL);
	ck_assert_ptr_nonnull(t);
	ytree_free(&t);
}
END_TEST

/* A large map goes through the duplicate table's growth. */
START_TEST(test_many_keys)
{
	size_t cap = (size_t)3000 * 16, o = 0;
	char *yaml = malloc(cap);
	struct ytree_error err;
	struct ytree *t;

	ck_assert_ptr_nonnull(yaml);
	for (int i = 0; i < 3000; i++)
		o += (size_t)snprintf(yaml + o, cap - o, "k%d: %d\n", i, i);
	t = load(yaml, &err);
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(ytree_len(ytree_root(t)), 3000);
	ck_assert_str_eq(ytree_map_get(ytree_root(t), "k2999")->value, "2999");
	ytree_free(&t);
	(void)snprintf(yaml + o, cap - o, "k1234: again\n");
	t = load(yaml, &err);
	ck_assert_ptr_null(t);
	ck_assert_str_eq(err.message, "duplicate key 'k1234'");
	ck_assert_uint_eq(err.line, 3001);
	free(yaml);
}
END_TEST

START_TEST(test_anchors_aliases_tags)
{
	expect_error("a: &x 1\nb: *x\n", NULL,
		     "test.yaml:1:4: anchors are not supported ('&x')");
	expect_error("a: &x [1]\n", NULL,
		     "test.yaml:1:4: anchors are not supported ('&x')");
	expect_error("a: 1\nb: *x\n", NULL,
		     "test.yaml:2:4: aliases are not supported");
	expect_error("a: !!str 5\n", NULL,
		     "test.yaml:1:4: tags are not supported ('!!str')");
	expect_error("a: !local {b: 1}\n", NULL,
		     "test.yaml:1:4: tags are not supported ('!local')");
	expect_error(
		"? [a, b]\n: c\n", NULL,
		"test.yaml:1:3: a map key must be a scalar, not a sequence");
	expect_error("{b: 1}: c\n", NULL,
		     "test.yaml:1:1: a map key must be a scalar, not a map");
}
END_TEST

/* A billion-laughs document stops at the first anchor. */
START_TEST(test_billion_laughs)
{
	expect_error("a: &a [\"lol\",\"lol\"]\n"
		     "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
		     "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n",
		     NULL, "test.yaml:1:4: anchors are not supported ('&a')");
}
END_TEST

START_TEST(test_syntax_errors)
{
	expect_error("a: [1, 2\nb: 3\n", NULL,
		     "test.yaml:2:2: did not find expected ',' or ']' (while "
		     "parsing a flow sequence started at line 1, column 4)");
	expect_error("a: 'unterminated\n", NULL,
		     "test.yaml:2:1: found unexpected end of stream (while "
		     "scanning a quoted scalar started at line 1, column 4)");
	expect_error("a: 1\n  b: 2\n", NULL,
		     "test.yaml:2:4: mapping values are not allowed in this "
		     "context");
	expect_error("- a\nb: 1\n", NULL,
		     "test.yaml:2:1: did not find expected '-' indicator "
		     "(while parsing a block collection started at line 1, "
		     "column 1)");
	expect_error("a: \"bad \\q\"\n", NULL,
		     "test.yaml:1:9: found unknown escape character (while "
		     "parsing a quoted scalar started at line 1, column 4)");
}
END_TEST

START_TEST(test_reader_errors)
{
	struct ytree_error err;

	expect_error("a: \x01\n", NULL,
		     "test.yaml:1:4: control characters are not allowed "
		     "(byte 0x01)");
	expect_error("a: 1\nb: \"\xff\"\n", NULL,
		     "test.yaml:2:5: invalid leading UTF-8 octet (byte 0xff)");
	/* An embedded NUL is a control character too. */
	ck_assert_ptr_null(ytree_load_string("n", "a: b\0c", 6, NULL, &err));
	ck_assert_uint_eq(err.line, 1);
	ck_assert_uint_eq(err.column, 5);
}
END_TEST

/* Every prefix of a valid document either loads or fails with a position
 * inside the prefix; nothing leaks or crashes (valgrind, ASan). */
START_TEST(test_every_prefix)
{
	size_t len = strlen(nested_yaml);

	for (size_t i = 0; i <= len; i++) {
		struct ytree_error err;
		struct ytree *t =
			ytree_load_string("p", nested_yaml, i, NULL, &err);

		if (t != NULL) {
			ytree_free(&t);
			continue;
		}
		ck_assert_uint_ge(err.line, 1);
		ck_assert_uint_le(err.line, 11);
		ck_assert_uint_ge(err.column, 1);
		ck_assert_str_ne(err.message, "");
	}
}
END_TEST

/* --- limits ------------------------------------------------------------ */

static char *nested_seqs(size_t depth)
{
	char *s = malloc(2 * depth + 1);

	ck_assert_ptr_nonnull(s);
	memset(s, '[', depth);
	memset(s + depth, ']', depth);
	s[2 * depth] = '\0';
	return s;
}

START_TEST(test_depth_limit)
{
	struct ytree_limits lim = {.max_depth = 3};
	struct ytree *t;
	char *s;

	t = load_lim("a: {b: {c: 1}}\n", &lim, NULL);
	ck_assert_ptr_nonnull(t);
	ytree_free(&t);
	expect_error("a: {b: {c: {d: 1}}}\n", &lim,
		     "test.yaml:1:12: nesting deeper than 3 levels");
	/* The default is 64. */
	s = nested_seqs(64);
	t = load(s, NULL);
	ck_assert_ptr_nonnull(t);
	ytree_free(&t);
	free(s);
	s = nested_seqs(65);
	expect_error(s, NULL, "test.yaml:1:65: nesting deeper than 64 levels");
	free(s);
	/* Far deeper input is refused just as fast, without recursion. */
	s = nested_seqs(200000);
	expect_error(s, NULL, "test.yaml:1:65: nesting deeper than 64 levels");
	free(s);
}
END_TEST

START_TEST(test_node_limit)
{
	struct ytree_limits lim = {.max_nodes = 5};
	struct ytree *t;

	t = load_lim("[1, 2, 3, 4]", &lim, NULL);
	ck_assert_ptr_nonnull(t);
	ytree_free(&t);
	expect_error("[1, 2, 3, 4, 5]", &lim,
		     "test.yaml:1:14: more than 5 nodes");
	/* Keys are nodes too. */
	expect_error("{a: 1, b: 2, c: 3}", &lim,
		     "test.yaml:1:14: more than 5 nodes");
}
END_TEST

START_TEST(test_scalar_limit)
{
	struct ytree_limits lim = {.max_scalar_len = 4};
	struct ytree *t;

	t = load_lim("abcd: wxyz", &lim, NULL);
	ck_assert_ptr_nonnull(t);
	ytree_free(&t);
	expect_error("a: vwxyz", &lim,
		     "test.yaml:1:4: scalar longer than 4 bytes");
	expect_error("abcde: 1", &lim,
		     "test.yaml:1:1: scalar longer than 4 bytes");
	/* The length is that of the value, after escapes. */
	t = load_lim("a: \"\\x41\\x42\\x43\\x44\"", &lim, NULL);
	ck_assert_ptr_nonnull(t);
	ytree_free(&t);
}
END_TEST

START_TEST(test_default_limits)
{
	struct ytree_limits zero = {0};
	size_t big = YTREE_DEFAULT_MAX_SCALAR_LEN + 1;
	char *s = malloc(big + 1);
	struct ytree *t;

	ck_assert_ptr_nonnull(s);
	memset(s, 'x', big);
	s[big] = '\0';
	expect_error(s, &zero,
		     "test.yaml:1:1: scalar longer than 1048576 bytes");
	t = ytree_load_string("big", s, big - 1, NULL, NULL);
	ck_assert_ptr_nonnull(t);
	ytree_free(&t);
	free(s);
}
END_TEST

START_TEST(test_default_node_limit)
{
	size_t items = YTREE_DEFAULT_MAX_NODES;
	char *s = malloc(2 * items + 2);
	struct ytree_error err;
	struct ytree *t;

	/* "[0,0,...,0]": max_nodes - 1 items and the sequence load, one
	 * item more does not. */
	ck_assert_ptr_nonnull(s);
	s[0] = '[';
	for (size_t i = 0; i < items; i++) {
		s[1 + 2 * i] = '0';
		s[2 + 2 * i] = ',';
	}
	s[2 * (items - 1)] = ']';
	t = ytree_load_string("n", s, 2 * (items - 1) + 1, NULL, &err);
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(ytree_len(ytree_root(t)), items - 1);
	ytree_free(&t);
	s[2 * (items - 1)] = ',';
	s[2 * items] = ']';
	t = ytree_load_string("n", s, 2 * items + 1, NULL, &err);
	ck_assert_ptr_null(t);
	ck_assert_str_eq(err.message, "more than 100000 nodes");
	ck_assert_uint_eq(err.column, 2 * items);
	free(s);
}
END_TEST

/* --- typed getters ----------------------------------------------------- */

static const char getters_yaml[] = "limits:\n"
				   "  smtp_line_max: abc\n"
				   "  ok: 1000\n"
				   "  zero: 0\n"
				   "  quoted: \"512\"\n"
				   "  neg: -1\n"
				   "  plus: +5\n"
				   "  octal: 0755\n"
				   "  space: 1 2\n"
				   "  huge: 18446744073709551616\n"
				   "  max: 18446744073709551615\n"
				   "  hex: 0x10\n"
				   "  float: 1.5\n"
				   "  empty:\n"
				   "  list: [1]\n"
				   "  map: {a: 1}\n";

static const struct ytree_node *lim_get(const struct ytree *t, const char *k)
{
	return ytree_map_get(ytree_map_get(ytree_root(t), "limits"), k);
}

/* The getter must fail with this formatted error and leave *val alone. */
static void expect_uint_error(const struct ytree *t, const char *key,
			      unsigned long long min, unsigned long long max,
			      const char *expected)
{
	struct ytree_error err;
	unsigned long long v = 4242;
	char path[64], buf[600];

	(void)snprintf(path, sizeof(path), "limits.%s", key);
	ck_assert_int_eq(
		ytree_scalar_uint(t, lim_get(t, key), path, min, max, &v, &err),
		-1);
	ck_assert_uint_eq(v, 4242);
	ytree_error_format(&err, buf, sizeof(buf));
	ck_assert_str_eq(buf, expected);
}

START_TEST(test_uint)
{
	struct ytree *t = ytree_load_string("quill.yaml", getters_yaml,
					    strlen(getters_yaml), NULL, NULL);
	unsigned long long v = 0;

	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(ytree_scalar_uint(t, lim_get(t, "ok"), "limits.ok", 64,
					   65536, &v, NULL),
			 0);
	ck_assert_uint_eq(v, 1000);
	ck_assert_int_eq(
		ytree_scalar_uint(t, lim_get(t, "zero"), "z", 0, 1, &v, NULL),
		0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(ytree_scalar_uint(t, lim_get(t, "quoted"), "q", 0,
					   1000, &v, NULL),
			 0);
	ck_assert_uint_eq(v, 512);
	ck_assert_int_eq(ytree_scalar_uint(t, lim_get(t, "max"), "m", 0,
					   ULLONG_MAX, &v, NULL),
			 0);
	ck_assert(v == ULLONG_MAX);
	/* Bounds are inclusive. */
	ck_assert_int_eq(ytree_scalar_uint(t, lim_get(t, "ok"), "o", 1000, 1000,
					   &v, NULL),
			 0);
	expect_uint_error(
		t, "smtp_line_max", 64, 65536,
		"quill.yaml:2:18: key 'limits.smtp_line_max': "
		"expected an integer between 64 and 65536, got 'abc'");
	expect_uint_error(t, "ok", 64, 999,
			  "quill.yaml:3:7: key 'limits.ok': expected an "
			  "integer between 64 and 999, got '1000'");
	expect_uint_error(t, "ok", 1001, 2000,
			  "quill.yaml:3:7: key 'limits.ok': expected an "
			  "integer between 1001 and 2000, got '1000'");
	expect_uint_error(t, "neg", 0, 10,
			  "quill.yaml:6:8: key 'limits.neg': expected an "
			  "integer between 0 and 10, got '-1'");
	expect_uint_error(t, "plus", 0, 10,
			  "quill.yaml:7:9: key 'limits.plus': expected an "
			  "integer between 0 and 10, got '+5'");
	expect_uint_error(t, "octal", 0, 1000,
			  "quill.yaml:8:10: key 'limits.octal': expected an "
			  "integer between 0 and 1000, got '0755'");
	expect_uint_error(t, "space", 0, 100,
			  "quill.yaml:9:10: key 'limits.space': expected an "
			  "integer between 0 and 100, got '1 2'");
	expect_uint_error(t, "huge", 0, ULLONG_MAX,
			  "quill.yaml:10:9: key 'limits.huge': expected an "
			  "integer between 0 and 18446744073709551615, got "
			  "'18446744073709551616'");
	expect_uint_error(t, "hex", 0, 100,
			  "quill.yaml:12:8: key 'limits.hex': expected an "
			  "integer between 0 and 100, got '0x10'");
	expect_uint_error(t, "float", 0, 100,
			  "quill.yaml:13:10: key 'limits.float': expected an "
			  "integer between 0 and 100, got '1.5'");
	expect_uint_error(t, "empty", 0, 100,
			  "quill.yaml:14:9: key 'limits.empty': expected an "
			  "integer between 0 and 100, got ''");
	expect_uint_error(t, "list", 0, 100,
			  "quill.yaml:15:9: key 'limits.list': expected an "
			  "integer between 0 and 100, got a sequence");
	expect_uint_error(t, "map", 0, 100,
			  "quill.yaml:16:8: key 'limits.map': expected an "
			  "integer between 0 and 100, got a map");
	expect_uint_error(t, "absent", 0, 100,
			  "quill.yaml: missing key 'limits.absent'");
	ytree_free(&t);
}
END_TEST

START_TEST(test_uint_no_keypath)
{
	struct ytree *t = load("12x", NULL);
	struct ytree_error err;
	unsigned long long v;

	ck_assert_int_eq(
		ytree_scalar_uint(t, ytree_root(t), "", 0, 9, &v, &err), -1);
	ck_assert_str_eq(err.message,
			 "expected an integer between 0 and 9, got '12x'");
	ck_assert_int_eq(ytree_scalar_uint(t, NULL, NULL, 0, 9, &v, &err), -1);
	ck_assert_str_eq(err.message, "missing value");
	ck_assert_uint_eq(err.line, 0);
	ytree_free(&t);
}
END_TEST

START_TEST(test_bool)
{
	static const char *const yes[] = {"true", "True", "TRUE", "yes",
					  "Yes",  "on",	  "ON",	  "oN"};
	static const char *const no[] = {"false", "False", "no",
					 "NO",	  "off",   "Off"};
	struct ytree_error err;
	struct ytree *t;
	bool v;

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		t = load(yes[i], NULL);
		v = false;
		ck_assert_int_eq(
			ytree_scalar_bool(t, ytree_root(t), "b", &v, NULL), 0);
		ck_assert(v);
		ytree_free(&t);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		t = load(no[i], NULL);
		v = true;
		ck_assert_int_eq(
			ytree_scalar_bool(t, ytree_root(t), "b", &v, NULL), 0);
		ck_assert(!v);
		ytree_free(&t);
	}
	t = load("tls:\n  required: \"yes\"\n  a: maybe\n  b: y\n  c: [on]\n"
		 "  d: 1\n",
		 NULL);
	const struct ytree_node *tls = ytree_map_get(ytree_root(t), "tls");
	v = true;
	ck_assert_int_eq(ytree_scalar_bool(t, ytree_map_get(tls, "required"),
					   "tls.required", &v, &err),
			 -1);
	ck_assert(v);
	ck_assert_str_eq(err.message, "key 'tls.required': expected a boolean "
				      "(true/false, yes/no, on/off), got a "
				      "quoted string 'yes'");
	ck_assert_uint_eq(err.line, 2);
	ck_assert_uint_eq(err.column, 13);
	ck_assert_int_eq(ytree_scalar_bool(t, ytree_map_get(tls, "a"), "tls.a",
					   &v, &err),
			 -1);
	ck_assert_str_eq(err.message, "key 'tls.a': expected a boolean "
				      "(true/false, yes/no, on/off), got "
				      "'maybe'");
	ck_assert_int_eq(ytree_scalar_bool(t, ytree_map_get(tls, "b"), "tls.b",
					   &v, &err),
			 -1);
	ck_assert_int_eq(ytree_scalar_bool(t, ytree_map_get(tls, "c"), "tls.c",
					   &v, &err),
			 -1);
	ck_assert_str_eq(err.message, "key 'tls.c': expected a boolean "
				      "(true/false, yes/no, on/off), got a "
				      "sequence");
	ck_assert_int_eq(ytree_scalar_bool(t, ytree_map_get(tls, "d"), "tls.d",
					   &v, &err),
			 -1);
	ck_assert_int_eq(ytree_scalar_bool(t, NULL, "tls.e", &v, &err), -1);
	ck_assert_str_eq(err.message, "missing key 'tls.e'");
	ytree_free(&t);
}
END_TEST

START_TEST(test_string)
{
	struct ytree *t = load("a: plain\nb: 'single'\nc: {x: 1}\nd:\n", NULL);
	const struct ytree_node *r = ytree_root(t);
	struct ytree_error err;
	const char *s = NULL;

	ck_assert_int_eq(
		ytree_scalar_string(t, ytree_map_get(r, "a"), "a", &s, &err),
		0);
	ck_assert_str_eq(s, "plain");
	ck_assert_int_eq(
		ytree_scalar_string(t, ytree_map_get(r, "b"), "b", &s, &err),
		0);
	ck_assert_str_eq(s, "single");
	ck_assert_int_eq(
		ytree_scalar_string(t, ytree_map_get(r, "d"), "d", &s, &err),
		0);
	ck_assert_str_eq(s, "");
	ck_assert_int_eq(
		ytree_scalar_string(t, ytree_map_get(r, "c"), "c", &s, &err),
		-1);
	ck_assert_str_eq(err.message, "key 'c': expected a string, got a map");
	ck_assert_uint_eq(err.line, 3);
	ck_assert_uint_eq(err.column, 4);
	ck_assert_int_eq(ytree_scalar_string(t, r, NULL, &s, &err), -1);
	ck_assert_str_eq(err.message, "expected a string, got a map");
	ck_assert_int_eq(ytree_scalar_string(t, NULL, "x.y", &s, &err), -1);
	ck_assert_str_eq(err.message, "missing key 'x.y'");
	ytree_free(&t);
}
END_TEST

START_TEST(test_long_value_in_message)
{
	char yaml[300], buf[600];
	struct ytree_error err;
	struct ytree *t;
	unsigned long long v;

	memcpy(yaml, "n: ", 3);
	memset(yaml + 3, 'z', 200);
	yaml[203] = '\0';
	t = load(yaml, NULL);
	ck_assert_int_eq(ytree_scalar_uint(t, ytree_map_get(ytree_root(t), "n"),
					   "n", 1, 2, &v, &err),
			 -1);
	(void)snprintf(buf, sizeof(buf),
		       "key 'n': expected an integer between 1 "
		       "and 2, got '%.60s...'",
		       yaml + 3);
	ck_assert_str_eq(err.message, buf);
	ytree_free(&t);
}
END_TEST

START_TEST(test_check_keys)
{
	static const char *const top[] = {"server", "limits", NULL};
	static const char *const lim[] = {"smtp_line_max", NULL};
	static const char *const none[] = {NULL};
	struct ytree *t = load("server: x\nlimits:\n  smtp_line_max: 1\n"
			       "  foo: 2\n",
			       NULL);
	const struct ytree_node *r = ytree_root(t);
	struct ytree_error err;
	char buf[600];

	ck_assert_int_eq(ytree_check_keys(t, r, "", top, &err), 0);
	ck_assert_int_eq(ytree_check_keys(t, r, NULL, top, &err), 0);
	ck_assert_int_eq(ytree_check_keys(t, ytree_map_get(r, "limits"),
					  "limits", lim, &err),
			 -1);
	ytree_error_format(&err, buf, sizeof(buf));
	ck_assert_str_eq(buf, "test.yaml:4:3: unknown key 'limits.foo'");
	ck_assert_int_eq(ytree_check_keys(t, r, "", lim, &err), -1);
	ck_assert_str_eq(err.message, "unknown key 'server'");
	ck_assert_int_eq(ytree_check_keys(t, r, "", none, &err), -1);
	ck_assert_int_eq(ytree_check_keys(t, ytree_map_get(r, "server"),
					  "server", none, &err),
			 -1);
	ck_assert_str_eq(err.message, "key 'server': expected a map, got 'x'");
	ck_assert_int_eq(ytree_check_keys(t, NULL, "tls", none, &err), -1);
	ck_assert_str_eq(err.message, "missing key 'tls'");
	ytree_free(&t);
	/* An empty map has no unknown keys. */
	t = load("{}", NULL);
	ck_assert_int_eq(ytree_check_keys(t, ytree_root(t), "", none, &err), 0);
	ytree_free(&t);
}
END_TEST

START_TEST(test_error_at_and_format)
{
	struct ytree *t = load("a:\n  b: 1\n", NULL);
	const struct ytree_node *b =
		ytree_map_get(ytree_map_get(ytree_root(t), "a"), "b");
	struct ytree_error err;
	char buf[64], small[12];

	ck_assert_int_eq(ytree_error_at(&err, t, b, "bad %s %d", "thing", 7),
			 -1);
	ck_assert_str_eq(err.file, "test.yaml");
	ck_assert_uint_eq(err.line, 2);
	ck_assert_uint_eq(err.column, 6);
	ck_assert_str_eq(err.message, "bad thing 7");
	ck_assert_int_eq(ytree_error_format(&err, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "test.yaml:2:6: bad thing 7");
	ck_assert_int_eq(ytree_error_format(&err, small, sizeof(small)), -1);
	ck_assert_str_eq(small, "test.yaml:2");
	ck_assert_int_eq(ytree_error_at(&err, t, NULL, "no position"), -1);
	ck_assert_int_eq(ytree_error_format(&err, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "test.yaml: no position");
	ck_assert_int_eq(ytree_error_at(NULL, t, b, "ignored"), -1);
	ytree_free(&t);
}
END_TEST

/* --- files ------------------------------------------------------------- */

static char tmpdir[64];

static void make_tmpdir(void)
{
	(void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_ytree.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, strlen(text), f), strlen(text));
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_load_file)
{
	char path[128], buf[600];
	struct ytree_error err;
	struct ytree *t;

	make_tmpdir();
	(void)snprintf(path, sizeof(path), "%s/quill.yaml", tmpdir);
	write_file(path, nested_yaml);
	t = ytree_load_file(path, NULL, &err);
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(ytree_file(t), path);
	assert_scalar(ytree_map_get(ytree_map_get(ytree_root(t), "limits"),
				    "smtp_line_max"),
		      "1000", false, 10, 18);
	ytree_free(&t);

	write_file(path, "a: 1\nb: [\n");
	ck_assert_ptr_null(ytree_load_file(path, NULL, &err));
	ck_assert_str_eq(err.file, path);
	ck_assert_uint_eq(err.line, 3);

	write_file(path, "a: 1\nb: 2\nc: \"\x7f\"\n");
	ck_assert_ptr_null(ytree_load_file(path, NULL, &err));
	ytree_error_format(&err, buf, sizeof(buf));
	ck_assert_str_eq(strstr(buf, ":3:5: "),
			 ":3:5: control characters are not allowed "
			 "(byte 0x7f)");
	ck_assert_int_eq(unlink(path), 0);

	write_file(path, "");
	t = ytree_load_file(path, NULL, &err);
	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_null(ytree_root(t));
	ytree_free(&t);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(tmpdir), 0);
}
END_TEST

START_TEST(test_load_file_missing)
{
	char path[128], buf[600], expected[600];
	struct ytree_error err;

	make_tmpdir();
	(void)snprintf(path, sizeof(path), "%s/absent.yaml", tmpdir);
	ck_assert_ptr_null(ytree_load_file(path, NULL, &err));
	ck_assert_str_eq(err.file, path);
	ck_assert_uint_eq(err.line, 0);
	ck_assert_int_eq(ytree_error_format(&err, buf, sizeof(buf)), 0);
	(void)snprintf(expected, sizeof(expected),
		       "%s: cannot open: No such file or directory", path);
	ck_assert_str_eq(buf, expected);
	ck_assert_ptr_null(ytree_load_file(path, NULL, NULL));
	/* A directory opens but cannot be read. */
	ck_assert_ptr_null(ytree_load_file(tmpdir, NULL, &err));
	ck_assert_str_eq(err.message, "read error: Is a directory");
	ck_assert_int_eq(rmdir(tmpdir), 0);
}
END_TEST

/* --- failing allocations ---------------------------------------------- */

/*
 * With glibc and no sanitizer, this file replaces malloc and friends (as
 * glibc allows) to make the Nth allocation fail, for every N, while a
 * document loads: libyaml's and ours alike. Each run must either load or
 * fail with a message, and valgrind sees no leak on any path.
 */
#if defined(__SANITIZE_ADDRESS__)
#define YTREE_TEST_FAILMALLOC 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define YTREE_TEST_FAILMALLOC 0
#endif
#endif
#ifndef YTREE_TEST_FAILMALLOC
#ifdef __GLIBC__
#define YTREE_TEST_FAILMALLOC 1
#else
#define YTREE_TEST_FAILMALLOC 0
#endif
#endif

#if YTREE_TEST_FAILMALLOC
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);

static long fail_countdown = -1; /* allocations left before one fails */
static long live_blocks;	 /* allocated and not yet freed */

static bool alloc_fails(void)
{
	if (fail_countdown < 0)
		return false;
	return fail_countdown-- == 0;
}

static void *count_block(void *p)
{
	if (p != NULL)
		live_blocks++;
	return p;
}

void *malloc(size_t n)
{
	return alloc_fails() ? NULL : count_block(__libc_malloc(n));
}

void *calloc(size_t n, size_t size)
{
	return alloc_fails() ? NULL : count_block(__libc_calloc(n, size));
}

void *realloc(void *p, size_t n)
{
	void *q;

	if (alloc_fails())
		return NULL;
	q = __libc_realloc(p, n);
	if (p == NULL && q != NULL)
		live_blocks++;
	else if (p != NULL && q == NULL && n == 0)
		live_blocks--;
	return q;
}

void free(void *p)
{
	if (p != NULL)
		live_blocks--;
	__libc_free(p);
}

/* Whether these replacements are in use: valgrind substitutes its own. */
static bool failmalloc_active(void)
{
	void *(*volatile alloc)(size_t) = malloc;
	void *p;

	fail_countdown = 0;
	p = alloc(1);
	fail_countdown = -1;
	free(p);
	return p == NULL;
}

/* Load with the Nth allocation failing, N = 0, 1, ... until one load
 * needs fewer; return how many failures were injected. */
static unsigned load_failing(const char *path)
{
	unsigned n;

	for (n = 0;; n++) {
		struct ytree_error err;
		struct ytree *t;
		bool injected;
		long live = live_blocks;

		fail_countdown = n;
		if (path != NULL)
			t = ytree_load_file(path, NULL, &err);
		else
			t = load(nested_yaml, &err);
		injected = fail_countdown < 0;
		fail_countdown = -1;
		if (t == NULL) {
			ck_assert_msg(injected, "failed without injection");
			ck_assert_str_ne(err.message, "");
		}
		ytree_free(&t);
		ck_assert_int_eq(live_blocks, live); /* nothing leaked */
		if (!injected)
			return n;
	}
}

START_TEST(test_failing_allocations)
{
	char path[128];

	if (!failmalloc_active())
		return;
	ck_assert_uint_gt(load_failing(NULL), 20);
	make_tmpdir();
	(void)snprintf(path, sizeof(path), "%s/quill.yaml", tmpdir);
	write_file(path, nested_yaml);
	ck_assert_uint_gt(load_failing(path), 20);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(tmpdir), 0);
}
END_TEST
#endif

static Suite *ytree_suite(void)
{
	Suite *s = suite_create("ytree");
	TCase *tc = tcase_create("tree");

	tcase_add_test(tc, test_map);
	tcase_add_test(tc, test_seq);
	tcase_add_test(tc, test_nesting_positions);
	tcase_add_test(tc, test_crlf_positions);
	tcase_add_test(tc, test_quoted_vs_plain);
	tcase_add_test(tc, test_nul_escape);
	tcase_add_test(tc, test_empty_documents);
	tcase_add_test(tc, test_first_document_only);
	tcase_add_test(tc, test_name_and_no_error_struct);
	tcase_add_test(tc, test_accessors_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("rejected");
	tcase_add_test(tc, test_duplicate_keys);
	tcase_add_test(tc, test_many_keys);
	tcase_add_test(tc, test_anchors_aliases_tags);
	tcase_add_test(tc, test_billion_laughs);
	tcase_add_test(tc, test_syntax_errors);
	tcase_add_test(tc, test_reader_errors);
	tcase_add_test(tc, test_every_prefix);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_depth_limit);
	tcase_add_test(tc, test_node_limit);
	tcase_add_test(tc, test_scalar_limit);
	tcase_add_test(tc, test_default_limits);
	tcase_add_test(tc, test_default_node_limit);
	suite_add_tcase(s, tc);

	tc = tcase_create("getters");
	tcase_add_test(tc, test_uint);
	tcase_add_test(tc, test_uint_no_keypath);
	tcase_add_test(tc, test_bool);
	tcase_add_test(tc, test_string);
	tcase_add_test(tc, test_long_value_in_message);
	tcase_add_test(tc, test_check_keys);
	tcase_add_test(tc, test_error_at_and_format);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_test(tc, test_load_file);
	tcase_add_test(tc, test_load_file_missing);
#if YTREE_TEST_FAILMALLOC
	tcase_add_test(tc, test_failing_allocations);
#endif
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ytree_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
