/*
 * test_store_mbox_meta.c - the mbox status lines alone (mbox_meta.h):
 * classifying header lines (fed a byte at a time, escapes of any depth),
 * parsing Status, X-Status, X-Keywords, X-UID and X-IMAPbase values as
 * Dovecot accepts them (malformed, repeated, huge), formatting the block
 * Quill writes, and the scanner (mbox_parse.h) leaving status lines out
 * of sizes and fingerprints but never taking lines from a body, split at
 * every byte.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/mbox/mbox_meta.h"
#include "store/mbox/mbox_parse.h"
#include "store/store.h"

static enum mbox_line classify(const char *line, int *hdr, uint64_t *esc)
{
	struct mbox_linecls c;
	enum mbox_line r = MBOX_LINE_MORE;

	mbox_linecls_init(&c);
	for (size_t i = 0; line[i] != '\0' && r == MBOX_LINE_MORE; i++)
		r = mbox_linecls_feed(&c, (unsigned char)line[i]);
	/* once decided, it stays */
	ck_assert_int_eq(mbox_linecls_feed(&c, 'x'), r);
	*hdr = c.hdr;
	*esc = c.escapes;
	return r;
}

START_TEST(line_classes)
{
	static const struct {
		const char *line;
		enum mbox_line cls;
		int hdr;
		unsigned esc;
	} t[] = {
		{"Status: RO\n", MBOX_LINE_STATUS, MBOX_HDR_STATUS, 0},
		{"status:RO\n", MBOX_LINE_STATUS, MBOX_HDR_STATUS, 0},
		{"STATUS \t: R\n", MBOX_LINE_STATUS, MBOX_HDR_STATUS, 0},
		{"X-Status: A\n", MBOX_LINE_STATUS, MBOX_HDR_X_STATUS, 0},
		{"X-IMAP: 1 2\n", MBOX_LINE_STATUS, MBOX_HDR_X_IMAP, 0},
		{"X-IMAPbase: 1 2\n", MBOX_LINE_STATUS, MBOX_HDR_X_IMAPBASE, 0},
		{"x-uid: 5\r\n", MBOX_LINE_STATUS, MBOX_HDR_X_UID, 0},
		{"X-Keywords:\n", MBOX_LINE_STATUS, MBOX_HDR_X_KEYWORDS, 0},
		{"Content-Length: 5\n", MBOX_LINE_STATUS,
		 MBOX_HDR_CONTENT_LENGTH, 0},
		{"Quill-Escaped-Status: RO\n", MBOX_LINE_ESCAPED,
		 MBOX_HDR_STATUS, 1},
		{"quill-escaped-QUILL-ESCAPED-x-uid : 3\n", MBOX_LINE_ESCAPED,
		 MBOX_HDR_X_UID, 2},
		{"X-IMAPb: 1\n", MBOX_LINE_PLAIN, -1, 0},
		{"X-UIDs: 1\n", MBOX_LINE_PLAIN, -1, 0},
		{"X-UID\n", MBOX_LINE_PLAIN, -1, 0},
		{"X-UID 5\n", MBOX_LINE_PLAIN, MBOX_HDR_X_UID, 0},
		{"Statu: x\n", MBOX_LINE_PLAIN, -1, 0},
		{"Subject: Status: RO\n", MBOX_LINE_PLAIN, -1, 0},
		{"Quill-Escaped-\n", MBOX_LINE_PLAIN, -1, 1},
		{"Quill-Escaped-Subject: x\n", MBOX_LINE_PLAIN, -1, 1},
		{"Quill-Escape-Status: x\n", MBOX_LINE_PLAIN, -1, 0},
		{"From x Mon Jan  1 00:00:00 2024\n", MBOX_LINE_PLAIN, -1, 0},
		{">Status: RO\n", MBOX_LINE_PLAIN, -1, 0},
		{" Status: RO\n", MBOX_LINE_CONT, -1, 0},
		{"\tfolded\n", MBOX_LINE_CONT, -1, 0},
		{"\n", MBOX_LINE_EMPTY, -1, 0},
		{"\r\n", MBOX_LINE_EMPTY, -1, 0},
		{"\rX\n", MBOX_LINE_PLAIN, -1, 0},
		{":\n", MBOX_LINE_PLAIN, -1, 0},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(*t); i++) {
		int hdr;
		uint64_t esc;
		enum mbox_line r = classify(t[i].line, &hdr, &esc);

		ck_assert_msg(r == t[i].cls, "%s: class %d", t[i].line, r);
		if (r == MBOX_LINE_STATUS || r == MBOX_LINE_ESCAPED ||
		    t[i].hdr >= 0)
			ck_assert_msg(hdr == t[i].hdr, "%s: hdr %d", t[i].line,
				      hdr);
		ck_assert_uint_eq(esc, t[i].esc);
	}
}
END_TEST

/* Escapes of any depth are counted, not buffered. */
START_TEST(deep_escapes)
{
	struct mbox_linecls c;
	enum mbox_line r = MBOX_LINE_MORE;

	bool more = true;

	mbox_linecls_init(&c);
	for (int i = 0; i < 100000; i++)
		for (size_t k = 0; k < MBOX_ESCAPE_LEN; k++)
			more &= mbox_linecls_feed(
					&c, (unsigned char)MBOX_ESCAPE[k]) ==
				MBOX_LINE_MORE;
	ck_assert(more);
	for (const char *p = "X-Keywords:"; *p != '\0'; p++)
		r = mbox_linecls_feed(&c, (unsigned char)*p);
	ck_assert_int_eq(r, MBOX_LINE_ESCAPED);
	ck_assert_uint_eq(c.escapes, 100000);
	ck_assert_int_eq(c.hdr, MBOX_HDR_X_KEYWORDS);
}
END_TEST

static void apply(struct mbox_meta *m, int hdr, const char *v, bool first,
		  struct mbox_kwtab *kw)
{
	mbox_meta_apply(m, hdr, v, strlen(v), first, kw);
}

START_TEST(status_values)
{
	struct mbox_kwtab kw = {.max = MBOX_META_KEYWORDS};
	struct mbox_meta m = {0};

	apply(&m, MBOX_HDR_STATUS, " RO", false, &kw);
	ck_assert(m.any && m.old);
	ck_assert_uint_eq(m.flags, STORE_F_SEEN);
	apply(&m, MBOX_HDR_X_STATUS, " AFTDxr?", false, &kw);
	ck_assert_uint_eq(m.flags, STORE_F_SEEN | STORE_F_ANSWERED |
					   STORE_F_FLAGGED | STORE_F_DRAFT |
					   STORE_F_DELETED);
	memset(&m, 0, sizeof(m));
	apply(&m, MBOX_HDR_STATUS, " ro", false, &kw); /* letters are case */
	ck_assert(m.any && !m.old);
	ck_assert_uint_eq(m.flags, 0);
	memset(&m, 0, sizeof(m));
	apply(&m, MBOX_HDR_CONTENT_LENGTH, " 12", false, &kw);
	apply(&m, MBOX_HDR_X_IMAP, " 1 0000000001", true, &kw);
	ck_assert(!m.any && !m.base);
	mbox_kwtab_clear(&kw);
}
END_TEST

START_TEST(uid_values)
{
	static const struct {
		const char *v;
		uint32_t uid;
	} t[] = {
		{" 42", 42},
		{"42 \t\r\n", 42},
		{" 42x", 0},
		{" 0", 0},
		{"", 0},
		{" -1", 0},
		{" 4294967295", 0},
		{" 4294967294", 4294967294u},
		{" 99999999999", 0},
		{" 4 2", 0},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(*t); i++) {
		struct mbox_meta m = {0};

		apply(&m, MBOX_HDR_X_UID, t[i].v, false, NULL);
		ck_assert_msg(m.uid == t[i].uid, "'%s': %u", t[i].v,
			      (unsigned)m.uid);
		ck_assert(m.uid_bad == (t[i].uid == 0));
	}
	{ /* twice: neither counts */
		struct mbox_meta m = {0};

		apply(&m, MBOX_HDR_X_UID, " 5", false, NULL);
		apply(&m, MBOX_HDR_X_UID, " 5", false, NULL);
		ck_assert_uint_eq(m.uid, 0);
		ck_assert(m.uid_bad);
	}
}
END_TEST

START_TEST(base_values)
{
	struct mbox_kwtab kw = {.max = MBOX_META_KEYWORDS};
	struct mbox_meta m = {0};
	static const char *const bad[] = {
		" 0 0000000001",
		" x 0000000001",
		" 12\t0000000001",
		" 12 00000000001",
		" 12 0000000001x",
		" 12",
		" 12 ",
		" 12 4294967295",
		" 99999999999 1",
	};

	apply(&m, MBOX_HDR_X_IMAPBASE, " 1700000000 0000000042 $Label1 Foo",
	      true, &kw);
	ck_assert(m.base && !m.base_bad);
	ck_assert_uint_eq(m.base_uidvalidity, 1700000000u);
	ck_assert_uint_eq(m.base_last, 42);
	ck_assert_uint_eq(kw.n, 2);
	ck_assert_str_eq(kw.names[1], "Foo");
	/* only once, only in the first message */
	apply(&m, MBOX_HDR_X_IMAPBASE, " 5 0000000001", true, &kw);
	ck_assert(!m.base && m.base_bad);
	memset(&m, 0, sizeof(m));
	apply(&m, MBOX_HDR_X_IMAPBASE, " 5 0000000001", false, &kw);
	ck_assert(!m.base && m.any);
	/* a last UID of fewer digits is read (Dovecot rewrites it) */
	memset(&m, 0, sizeof(m));
	apply(&m, MBOX_HDR_X_IMAPBASE, " 5  7", true, &kw);
	ck_assert(m.base);
	ck_assert_uint_eq(m.base_last, 7);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		memset(&m, 0, sizeof(m));
		apply(&m, MBOX_HDR_X_IMAPBASE, bad[i], true, &kw);
		ck_assert_msg(!m.base, "'%s' taken", bad[i]);
	}
	mbox_kwtab_clear(&kw);
}
END_TEST

START_TEST(keyword_values)
{
	struct mbox_kwtab kw = {.max = MBOX_META_KEYWORDS};
	struct mbox_meta m = {0};
	char *big;
	size_t len = 1024 * 1024;

	apply(&m, MBOX_HDR_X_KEYWORDS, " a b\n\tc  a(b \\X B junk]x", false,
	      &kw);
	/* a, b (B is b), c; "a(b" "\X" "junk]x" are no atoms */
	ck_assert_uint_eq(kw.n, 3);
	ck_assert_uint_eq(m.keywords, 7);
	/* more names than the table holds: the rest are counted lost */
	big = malloc(len + 1);
	ck_assert_ptr_nonnull(big);
	for (size_t i = 0; i < len; i += 8)
		snprintf(big + i, 9, " k%06zu", i / 8);
	big[len] = '\0';
	memset(&m, 0, sizeof(m));
	apply(&m, MBOX_HDR_X_KEYWORDS, big, false, &kw);
	ck_assert_uint_eq(kw.n, MBOX_META_KEYWORDS);
	ck_assert(m.keywords_lost);
	ck_assert_uint_eq(m.keywords, UINT64_MAX & ~7ULL);
	/* a name over 128 bytes is no keyword */
	memset(&m, 0, sizeof(m));
	memset(big, 'k', 200);
	big[200] = '\0';
	apply(&m, MBOX_HDR_X_KEYWORDS, big, false, &kw);
	ck_assert_uint_eq(m.keywords, 0);
	free(big);
	mbox_kwtab_clear(&kw);
}
END_TEST

START_TEST(block_format)
{
	char *names[] = {"$Label1", "Foo", "Bar"};
	struct mbox_block b = {
		.base = true,
		.uidvalidity = 1700000000,
		.last_uid = 42,
		.names = names,
		.n_names = 3,
		.uid = 7,
		.flags = STORE_F_SEEN | STORE_F_FLAGGED | STORE_F_DELETED,
		.keywords = 5,
		.base_pad = 3,
		.pad = 2,
	};
	struct buf out;

	buf_init(&out, MBOX_BLOCK_MAX);
	ck_assert_int_eq(mbox_block_format(&b, &out), 0);
	buf_append(&out, "", 1);
	ck_assert_str_eq(
		(const char *)buf_data(&out),
		"X-IMAPbase: 1700000000 0000000042 $Label1 Foo Bar   \n"
		"X-UID: 7\n"
		"Status: RO\n"
		"X-Status: FD  \n"
		"X-Keywords: $Label1 Bar  \n");
	buf_clear(&out);
	b.base = false;
	b.uid = 0;
	b.flags = 0;
	b.old = false;
	b.keywords = 0;
	b.pad = 0;
	ck_assert_int_eq(mbox_block_format(&b, &out), 0);
	buf_append(&out, "", 1);
	ck_assert_str_eq((const char *)buf_data(&out), "Status:   \n"
						       "X-Status:     \n"
						       "X-Keywords:\n");
	/* a block that does not fit fails whole */
	buf_free(&out);
	buf_init(&out, 20);
	ck_assert_int_eq(mbox_block_format(&b, &out), -1);
	buf_free(&out);
}
END_TEST

/* A file with status lines from another program, a message carrying
 * escaped lines, folded and repeated ones, and status-like lines in a
 * body (text, not state). */
static const char meta_text[] = "From a@example.org Thu Jan  1 00:00:01 1970\n"
				"Subject: one\n"
				"X-IMAPbase: 1700000000 0000000009 Foo Bar\n"
				"X-UID: 3\n"
				"Status: RO\n"
				"X-Status: A\n"
				"X-Keywords: Bar\n"
				"\tFoo\n"
				"Content-Length: 5\n"
				"\n"
				"body\n"
				"\n"
				"From b@example.org Thu Jan  1 00:00:02 1970\n"
				"Subject: two\n"
				"Quill-Escaped-Status: RO\n"
				" folded\n"
				"X-UID: 7\n"
				"X-UID: 8\n"
				"\n"
				"Status: RO\n"
				"X-UID: 99\n"
				"\n"
				"From c@example.org Thu Jan  1 00:00:03 1970\n"
				"X-IMAPbase: 1 0000000001\n"
				"Status: O\n";

static void scan_meta(size_t at, struct mbox_scan *s)
{
	size_t len = strlen(meta_text);

	mbox_scan_init(s, 0);
	ck_assert_int_eq(mbox_scan_feed(s, meta_text, at), 0);
	ck_assert_int_eq(mbox_scan_feed(s, meta_text + at, len - at), 0);
	ck_assert_int_eq(mbox_scan_end(s), 0);
}

START_TEST(scanner_status_lines)
{
	struct mbox_scan ref, s;
	const struct mbox_meta *m;

	scan_meta(0, &ref);
	ck_assert_uint_eq(ref.n, 3);
	m = &ref.v[0].meta;
	ck_assert(m->any && m->base && m->old);
	ck_assert_uint_eq(m->base_uidvalidity, 1700000000u);
	ck_assert_uint_eq(m->base_last, 9);
	ck_assert_uint_eq(m->uid, 3);
	ck_assert_uint_eq(m->flags, STORE_F_SEEN | STORE_F_ANSWERED);
	ck_assert_uint_eq(ref.kw.n, 2); /* Foo Bar, from X-IMAPbase */
	ck_assert_uint_eq(m->keywords, 3);
	ck_assert(ref.v[0].filtered);
	ck_assert_uint_eq(ref.v[0].size, strlen("Subject: one\n\nbody\n"));
	ck_assert_uint_eq(ref.v[0].header_size, strlen("Subject: one\n\n"));
	m = &ref.v[1].meta;
	ck_assert(m->any && m->uid_bad && m->uid == 0 && m->flags == 0);
	ck_assert_uint_eq(ref.v[1].size,
			  strlen("Subject: two\nStatus: RO\n folded\n\n"
				 "Status: RO\nX-UID: 99\n"));
	ck_assert_uint_eq(ref.v[1].header_size,
			  strlen("Subject: two\nStatus: RO\n folded\n\n"));
	/* X-IMAPbase only counts in the first message of the file */
	m = &ref.v[2].meta;
	ck_assert(m->any && !m->base && m->old);
	ck_assert_uint_eq(ref.v[2].size, 0);
	for (size_t at = 1; at <= strlen(meta_text); at++) {
		scan_meta(at, &s);
		ck_assert_uint_eq(s.n, ref.n);
		ck_assert(memcmp(s.v, ref.v, ref.n * sizeof(*s.v)) == 0);
		mbox_scan_clear(&s);
	}
	/* From the middle of a file, no message is the first one. */
	mbox_scan_init(&s, 1);
	ck_assert_int_eq(mbox_scan_feed(&s, meta_text, strlen(meta_text)), 0);
	ck_assert_int_eq(mbox_scan_end(&s), 0);
	ck_assert(!s.v[0].meta.base);
	/* The fingerprint leaves status lines out. */
	ck_assert_uint_eq(s.v[0].fingerprint, ref.v[0].fingerprint);
	mbox_scan_clear(&s);
	mbox_scan_clear(&ref);
}
END_TEST

/* A status field of 1 MB: its value is read up to MBOX_META_VALUE_MAX,
 * all of it is left out of the size. */
START_TEST(scanner_huge_field)
{
	size_t big = 1024 * 1024;
	const char *head = "From x Thu Jan  1 00:00:01 1970\nX-Keywords:";
	const char *tail = "\nSubject: x\n\nbody\n";
	struct mbox_scan s;
	char *v = malloc(big);
	int rc = 0;

	ck_assert_ptr_nonnull(v);
	for (size_t i = 0; i < big; i++)
		v[i] = i % 4 == 0 ? ' ' : 'a' + (char)(i / 4 % 26);
	mbox_scan_init(&s, 0);
	ck_assert_int_eq(mbox_scan_feed(&s, head, strlen(head)), 0);
	for (size_t off = 0; off < big; off += 4096)
		rc |= mbox_scan_feed(&s, v + off, 4096);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(mbox_scan_feed(&s, tail, strlen(tail)), 0);
	ck_assert_int_eq(mbox_scan_end(&s), 0);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_uint_eq(s.v[0].size, strlen("Subject: x\n\nbody\n"));
	ck_assert(s.v[0].meta.any);
	ck_assert_uint_eq(s.kw.n, 26); /* "aaa" .. "zzz", then repeats */
	mbox_scan_clear(&s);
	free(v);
}
END_TEST

static Suite *meta_suite(void)
{
	Suite *s = suite_create("store_mbox_meta");
	TCase *tc = tcase_create("meta");

	tcase_add_test(tc, line_classes);
	tcase_add_test(tc, deep_escapes);
	tcase_add_test(tc, status_values);
	tcase_add_test(tc, uid_values);
	tcase_add_test(tc, base_values);
	tcase_add_test(tc, keyword_values);
	tcase_add_test(tc, block_format);
	tcase_add_test(tc, scanner_status_lines);
	tcase_add_test(tc, scanner_huge_field);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(meta_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
