/*
 * fuzz_store_uidlist.c - libFuzzer target for the readers of the store's
 * own files, which may be damaged or replaced by anyone with access to
 * the mail directory: dovecot-uidlist and the per-mailbox index.
 *
 * Whatever the bytes, parsing must not crash or leak; what parses must
 * survive format -> parse unchanged (the uidlist then without damage;
 * the index with its deltas applied, store_index_log.c).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/maildir/maildir_uidlist.h"
#include "store/store_index.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, \
				#cond);                                    \
			abort();                                           \
		}                                                          \
	} while (0)

static void uidlist(const uint8_t *data, size_t size)
{
	struct maildir_uidlist a, b;
	char *text;
	size_t len;

	if (maildir_uidlist_parse((const char *)data, size, &a, NULL) != 0)
		return;
	CHECK(a.uidvalidity != 0);
	for (size_t i = 0; i < a.n; i++) {
		CHECK(a.v[i].uid != 0 &&
		      (a.v[i].uid < a.next_uid || a.v[i].uid == UINT32_MAX));
		CHECK(i == 0 || a.v[i].uid > a.v[i - 1].uid);
		CHECK(maildir_uidlist_find(&a, a.v[i].base,
					   strlen(a.v[i].base)) == (long)i);
	}
	CHECK(maildir_uidlist_format(&a, &text, &len) == 0);
	CHECK(maildir_uidlist_parse(text, len, &b, NULL) == 0);
	CHECK(!b.partial);
	CHECK(a.uidvalidity == b.uidvalidity && a.next_uid == b.next_uid);
	CHECK(strcmp(a.guid, b.guid) == 0 && a.n == b.n);
	for (size_t i = 0; i < a.n; i++)
		CHECK(a.v[i].uid == b.v[i].uid &&
		      strcmp(a.v[i].base, b.v[i].base) == 0);
	free(text);
	maildir_uidlist_clear(&a);
	maildir_uidlist_clear(&b);
}

static void index_file(const uint8_t *data, size_t size)
{
	struct store_index a, b;
	unsigned char *bytes;
	size_t len;

	bool plain;

	if (store_index_parse(data, size, &a, NULL) != 0)
		return;
	/* with deltas after it (applied or torn), or a base alone */
	plain = a.base_len == size;
	CHECK(a.base_len <= a.file_len && a.file_len <= size);
	CHECK(store_index_format(&a, &bytes, &len) == 0);
	CHECK(!plain || len == size);
	CHECK(store_index_parse(bytes, len, &b, NULL) == 0);
	CHECK(a.recs.n == b.recs.n && a.n_keywords == b.n_keywords);
	CHECK(a.next_uid == b.next_uid && a.recent_first == b.recent_first);
	for (size_t i = 0; i < a.recs.n; i++)
		CHECK(a.recs.v[i].uid == b.recs.v[i].uid &&
		      a.recs.v[i].flags == b.recs.v[i].flags &&
		      a.recs.v[i].keywords == b.recs.v[i].keywords &&
		      a.recs.v[i].size == b.recs.v[i].size &&
		      a.recs.v[i].aux == b.recs.v[i].aux);
	CHECK(!plain || memcmp(bytes + 96, data + 96, size - 96) == 0);
	for (size_t i = 0; i < a.n_keywords; i++)
		CHECK(strcmp(a.keywords[i], b.keywords[i]) == 0);
	free(bytes);
	store_index_clear(&a);
	store_index_clear(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uidlist(data, size);
	index_file(data, size);
	return 0;
}
