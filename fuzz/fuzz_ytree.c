/*
 * fuzz_ytree.c - libFuzzer target for lib/ytree (YAML into a tree).
 *
 * Loads arbitrary bytes with small limits, so depth, node and scalar-size
 * errors are reached quickly, then walks the tree checking its invariants:
 * positions are 1-based, no node is nested deeper than the limit, map keys
 * are scalars and unique (map_get finds each key's own value), and the
 * typed getters never fail without a message. Any broken invariant aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ytree.h"

#define FUZZ_MAX_DEPTH 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_getters(const struct ytree *t, const struct ytree_node *n)
{
	struct ytree_error err;
	unsigned long long u;
	const char *s;
	bool b;
	char buf[600];

	if (ytree_scalar_uint(t, n, "k", 0, 1000000, &u, &err) != 0 &&
	    err.message[0] == '\0')
		abort();
	if (ytree_scalar_bool(t, n, "k", &b, &err) != 0 &&
	    err.message[0] == '\0')
		abort();
	if (ytree_scalar_string(t, n, "", &s, &err) == 0) {
		if (n->kind != YTREE_SCALAR || strlen(s) != n->len)
			abort();
	}
	ytree_error_format(&err, buf, sizeof(buf));
}

static void check_map(const struct ytree *t, const struct ytree_node *n)
{
	static const char *const allowed[] = {"a", "key", NULL};
	struct ytree_error err;

	for (size_t i = 0; i < ytree_len(n); i++) {
		const struct ytree_node *k = ytree_map_key_at(n, i);

		if (k->kind != YTREE_SCALAR)
			abort();
		if (strlen(k->value) == k->len &&
		    ytree_map_get(n, k->value) != ytree_map_value_at(n, i))
			abort();
	}
	if (ytree_check_keys(t, n, "m", allowed, &err) != 0 && err.line == 0)
		abort();
}

static void walk(const struct ytree *t, const struct ytree_node *n,
		 unsigned depth)
{
	if (n->line == 0 || n->column == 0)
		abort();
	check_getters(t, n);
	if (n->kind == YTREE_SCALAR) {
		if (n->value[n->len] != '\0' || ytree_len(n) != 0)
			abort();
		return;
	}
	if (depth >= FUZZ_MAX_DEPTH)
		abort();
	if (n->kind == YTREE_MAP) {
		check_map(t, n);
		for (size_t i = 0; i < ytree_len(n); i++)
			walk(t, ytree_map_value_at(n, i), depth + 1);
	} else {
		for (size_t i = 0; i < ytree_len(n); i++)
			walk(t, ytree_seq_at(n, i), depth + 1);
		if (ytree_seq_at(n, ytree_len(n)) != NULL)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct ytree_limits lim = {
		.max_depth = FUZZ_MAX_DEPTH,
		.max_nodes = 2000,
		.max_scalar_len = 4096,
	};
	struct ytree_error err;
	struct ytree *t;
	char buf[600];

	t = ytree_load_string("fuzz", (const char *)data, size, &lim, &err);
	if (t == NULL) {
		if (err.message[0] == '\0' || strcmp(err.file, "fuzz") != 0)
			abort();
		ytree_error_format(&err, buf, sizeof(buf));
		return 0;
	}
	if (ytree_root(t) != NULL)
		walk(t, ytree_root(t), 0);
	ytree_free(&t);
	if (t != NULL)
		abort();
	return 0;
}
