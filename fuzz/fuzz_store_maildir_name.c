/*
 * fuzz_store_maildir_name.c - libFuzzer target for the Maildir file name
 * parser (maildir(5) ":2," info, Dovecot keyword letters, ",S=" and
 * ",W=" sizes) and the Maildir++ folder name codec.
 *
 * Round trips: parse -> format -> parse gives the same fields; a folder
 * name that decodes re-encodes to a directory that decodes to the same
 * name.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/maildir/maildir_names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, \
				#cond);                                    \
			abort();                                           \
		}                                                          \
	} while (0)

static void same(const struct maildir_name *a, const struct maildir_name *b)
{
	CHECK(a->base_len == b->base_len &&
	      memcmp(a->base, b->base, a->base_len) == 0);
	CHECK(a->has_info == b->has_info && a->info2 == b->info2);
	CHECK(a->info_len == b->info_len &&
	      (a->info_len == 0 || memcmp(a->info, b->info, a->info_len) == 0));
	CHECK(a->flags == b->flags && a->other == b->other &&
	      a->keywords == b->keywords);
	CHECK(a->has_size == b->has_size && a->size == b->size);
	CHECK(a->has_vsize == b->has_vsize && a->vsize == b->vsize);
	CHECK(a->secs == b->secs && a->usecs == b->usecs && a->seq == b->seq);
}

static void file_name(const char *name, size_t size)
{
	struct maildir_name a, b;
	char out[MAILDIR_NAME_MAX + 1];

	if (maildir_name_parse(name, size, &a) != 0)
		return;
	CHECK(a.base_len > 0 && a.base_len <= size);
	if (maildir_name_format(&a, out, sizeof(out)) != 0)
		return; /* sorted letters never get longer, but be safe */
	CHECK(strlen(out) <= size);
	CHECK(maildir_name_parse(out, strlen(out), &b) == 0);
	same(&a, &b);
	/* Changing flags keeps the base. */
	a.has_info = a.info2 = true;
	a.flags ^= 0x1f;
	if (maildir_name_format(&a, out, sizeof(out)) == 0) {
		CHECK(maildir_name_parse(out, strlen(out), &b) == 0);
		CHECK(b.flags == a.flags && b.base_len == a.base_len);
	}
}

static void folder_name(const char *s)
{
	char name[600], dir[2000], again[600];

	if (maildir_folder_decode(s, name, sizeof(name)) != 0)
		return;
	CHECK(strchr(name, '\0') == name + strlen(name));
	CHECK(maildir_folder_encode(name, dir, sizeof(dir)) == 0);
	CHECK(dir[0] == '.');
	CHECK(maildir_folder_decode(dir, again, sizeof(again)) == 0);
	CHECK(strcmp(name, again) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	file_name((const char *)data, size);
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	folder_name(s);
	free(s);
	return 0;
}
