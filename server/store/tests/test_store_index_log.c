/*
 * test_store_index_log.c - deltas appended to an index file
 * (store_index.h): new and changed records and keyword names read back,
 * the stamp that tells a handle the file changed, a torn delta ignored
 * and cut off by the next writer, inconsistent deltas refused, a file
 * replaced under the writer, and the whole rewrite once deltas outgrow
 * the base.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store_index.h"
#include "store/store_util.h"

static char dir[64], path[96];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/quill-idxlog-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/index", dir);
}

static void teardown(void)
{
	unlink(path);
	rmdir(dir);
}

static void push(struct store_index *idx, uint32_t uid, uint64_t size)
{
	struct store_rec r = {.uid = uid, .size = size, .header_size = 1};

	ck_assert_int_eq(store_recs_push(&idx->recs, &r), 0);
	if (uid >= idx->next_uid)
		idx->next_uid = uid + 1;
}

static void base(struct store_index *idx)
{
	memset(idx, 0, sizeof(*idx));
	idx->uidvalidity = 7;
	idx->next_uid = 1;
	idx->recent_first = 1;
	push(idx, 1, 10);
	push(idx, 2, 20);
	ck_assert_int_eq(store_index_write(path, idx, false, NULL), 0);
}

static off_t file_size(void)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_size;
}

START_TEST(deltas_read_back)
{
	struct store_index idx, back;
	size_t at = 0, size0;

	base(&idx);
	size0 = (size_t)file_size();
	ck_assert_uint_eq(store_index_peek(path), store_index_stamp(&idx));
	/* a new record, a changed one, a new keyword */
	push(&idx, 5, 50);
	idx.recs.v[0].flags = STORE_F_SEEN;
	idx.recs.v[0].keywords = 1;
	ck_assert_int_eq(
		store_keywords_add(&idx.keywords, &idx.n_keywords, "$Label1"),
		0);
	idx.src_size = 1234;
	ck_assert_int_eq(
		store_index_append(path, &idx, &at, 1, 2, 0, false, NULL), 0);
	ck_assert_uint_gt((size_t)file_size(), size0);
	ck_assert_uint_eq(store_index_peek(path), store_index_stamp(&idx));
	ck_assert_int_eq(store_index_read(path, &back, NULL), 0);
	ck_assert_uint_eq(back.recs.n, 3);
	ck_assert_uint_eq(back.recs.v[2].uid, 5);
	ck_assert_uint_eq(back.recs.v[0].flags, STORE_F_SEEN);
	ck_assert_uint_eq(back.recs.v[0].keywords, 1);
	ck_assert_uint_eq(back.n_keywords, 1);
	ck_assert_str_eq(back.keywords[0], "$Label1");
	ck_assert_uint_eq(back.next_uid, 6);
	ck_assert_uint_eq(back.src_size, 1234);
	ck_assert_uint_eq(store_index_stamp(&back), store_index_stamp(&idx));
	store_index_clear(&back);
	/* a second delta on top of the first */
	push(&idx, 6, 60);
	ck_assert_int_eq(
		store_index_append(path, &idx, NULL, 0, 3, 1, false, NULL), 0);
	ck_assert_int_eq(store_index_read(path, &back, NULL), 0);
	ck_assert_uint_eq(back.recs.n, 4);
	store_index_clear(&back);
	store_index_clear(&idx);
}
END_TEST

START_TEST(torn_delta)
{
	struct store_index idx, back;
	off_t full;

	base(&idx);
	push(&idx, 3, 30);
	ck_assert_int_eq(
		store_index_append(path, &idx, NULL, 0, 2, 0, false, NULL), 0);
	full = file_size();
	/* cut anywhere inside the delta: the base alone is read */
	for (off_t cut = full - 1; cut > full - 80; cut -= 7) {
		ck_assert_int_eq(truncate(path, cut), 0);
		ck_assert_int_eq(store_index_read(path, &back, NULL), 0);
		ck_assert_uint_eq(back.recs.n, 2);
		ck_assert_uint_eq(back.next_uid, 3);
		ck_assert_uint_ne(store_index_peek(path),
				  store_index_stamp(&back));
		store_index_clear(&back);
	}
	/* the next writer, which read the base, cuts the tail first */
	store_index_clear(&idx);
	ck_assert_int_eq(store_index_read(path, &idx, NULL), 0);
	push(&idx, 4, 40);
	ck_assert_int_eq(
		store_index_append(path, &idx, NULL, 0, 2, 0, false, NULL), 0);
	ck_assert_int_eq(store_index_read(path, &back, NULL), 0);
	ck_assert_uint_eq(back.recs.n, 3);
	ck_assert_uint_eq(back.recs.v[2].uid, 4);
	ck_assert_uint_eq(store_index_peek(path), store_index_stamp(&back));
	store_index_clear(&back);
	store_index_clear(&idx);
}
END_TEST

/* Deltas that would make the index inconsistent are not applied. */
START_TEST(bad_deltas)
{
	struct store_index idx, back;

	base(&idx);
	push(&idx, 5, 50);
	ck_assert_int_eq(store_index_write(path, &idx, false, NULL), 0);
	/* a "new" UID below the last one */
	push(&idx, 3, 30);
	ck_assert_int_eq(
		store_index_append(path, &idx, NULL, 0, 3, 0, false, NULL), 0);
	ck_assert_int_eq(store_index_read(path, &back, NULL), 0);
	ck_assert_uint_eq(back.recs.n, 3);
	ck_assert_uint_eq(back.recs.v[2].uid, 5);
	store_index_clear(&back);
	store_index_clear(&idx);
	/* a keyword bit without a name, a flag that is not permanent */
	base(&idx);
	idx.recs.v[0].keywords = 2;
	{
		size_t at = 0;

		ck_assert_int_eq(store_index_append(path, &idx, &at, 1, 2, 0,
						    false, NULL),
				 0);
	}
	ck_assert_int_eq(store_index_read(path, &back, NULL), 0);
	ck_assert_uint_eq(back.recs.v[0].keywords, 0);
	store_index_clear(&back);
	store_index_clear(&idx);
}
END_TEST

/* Not the file this handle read, or deltas larger than the base: 1,
 * the caller writes it whole. */
START_TEST(append_refused)
{
	struct store_index idx, other;
	int rc = 0;

	base(&idx);
	base(&other); /* replaced by someone else: a new generation */
	push(&idx, 3, 30);
	ck_assert_int_eq(
		store_index_append(path, &idx, NULL, 0, 2, 0, false, NULL), 1);
	store_index_clear(&other);
	store_index_clear(&idx);
	base(&idx);
	for (uint32_t uid = 3; uid < 2000 && rc == 0; uid++) {
		push(&idx, uid, uid);
		rc = store_index_append(path, &idx, NULL, 0, idx.recs.n - 1, 0,
					false, NULL);
	}
	ck_assert_int_eq(rc, 1);
	ck_assert_int_eq(store_index_write(path, &idx, false, NULL), 0);
	ck_assert_int_eq(store_index_read(path, &other, NULL), 0);
	ck_assert_uint_eq(other.recs.n, idx.recs.n);
	ck_assert_uint_eq(other.base_len, other.file_len);
	store_index_clear(&other);
	store_index_clear(&idx);
	unlink(path);
	/* no file at all */
	memset(&idx, 0, sizeof(idx));
	ck_assert_int_eq(
		store_index_append(path, &idx, NULL, 0, 0, 0, false, NULL), 1);
}
END_TEST

/* An index of version 1 (checksum over bytes) is still read. */
START_TEST(version_1)
{
	static const unsigned char zero[8];
	struct store_index idx, back;
	unsigned char *data;
	size_t len;
	uint64_t h;

	base(&idx);
	ck_assert_int_eq(store_index_format(&idx, &data, &len), 0);
	data[4] = 1;
	h = store_hash(STORE_HASH_INIT, data, 88);
	h = store_hash(h, zero, sizeof(zero));
	h = store_hash(h, data + 96, len - 96);
	for (int i = 0; i < 8; i++)
		data[88 + i] = (unsigned char)(h >> (8 * i));
	ck_assert_int_eq(store_index_parse(data, len, &back, NULL), 0);
	ck_assert_uint_eq(back.recs.n, 2);
	store_index_clear(&back);
	data[100] ^= 1;
	ck_assert_int_eq(store_index_parse(data, len, &back, NULL), -1);
	free(data);
	store_index_clear(&idx);
}
END_TEST

static Suite *log_suite(void)
{
	Suite *s = suite_create("store_index_log");
	TCase *tc = tcase_create("log");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, deltas_read_back);
	tcase_add_test(tc, torn_delta);
	tcase_add_test(tc, bad_deltas);
	tcase_add_test(tc, append_refused);
	tcase_add_test(tc, version_1);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(log_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
