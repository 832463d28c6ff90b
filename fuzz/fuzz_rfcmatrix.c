/*
 * fuzz_rfcmatrix.c - libFuzzer target for harness/rfcmatrix (the RFC
 * requirement matrix files).
 *
 * Loads arbitrary bytes as one matrix file. A failure must come with a
 * message naming the input; a success must hold only what the loader
 * promises: ids "RFC<number>-<section>[-<n>]" whose section part is the
 * section, one-line texts of 1 to 300 bytes without control characters,
 * known levels and roles, and every id found again by rfc_matrix_find().
 * Any broken promise aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rfcmatrix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_line(const char *s, size_t max)
{
	size_t len = strlen(s);

	if (len == 0 || (max > 0 && len > max))
		abort();
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			abort();
}

static void check_req(const struct rfc_matrix *m, const struct rfc_doc *d,
		      const struct rfc_req *r)
{
	char prefix[32];
	size_t plen =
		(size_t)snprintf(prefix, sizeof(prefix), "RFC%u-", d->number);
	size_t slen = strlen(r->section);

	if (rfc_matrix_find(m, r->id) != r || r->doc != d)
		abort();
	if (strncmp(r->id, prefix, plen) != 0 ||
	    strncmp(r->id + plen, r->section, slen) != 0 ||
	    (r->id[plen + slen] != '\0' && r->id[plen + slen] != '-'))
		abort();
	if (strcmp(rfc_matrix_level_name(r->level), "?") == 0 ||
	    strcmp(rfc_matrix_role_name(r->role), "?") == 0)
		abort();
	check_line(r->text, RFC_MATRIX_TEXT_MAX);
	if (r->line == 0 || r->column == 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ytree_error err;
	struct rfc_matrix *m;
	char buf[600];

	memset(&err, 0, sizeof(err));
	m = rfc_matrix_load_buffer("fuzz", (const char *)data, size, &err);
	if (m == NULL) {
		if (err.message[0] == '\0' || strcmp(err.file, "fuzz") != 0)
			abort();
		ytree_error_format(&err, buf, sizeof(buf));
		return 0;
	}
	if (rfc_matrix_count(m) != 1 || rfc_matrix_doc_at(m, 1) != NULL)
		abort();
	for (size_t i = 0; i < rfc_matrix_count(m); i++) {
		const struct rfc_doc *d = rfc_matrix_doc_at(m, i);

		if (rfc_matrix_doc(m, d->number) != d)
			abort();
		check_line(d->title, 0);
		for (size_t j = 0; j < d->n_reqs; j++)
			check_req(m, d, &d->reqs[j]);
	}
	rfc_matrix_free(&m);
	if (m != NULL)
		abort();
	return 0;
}
