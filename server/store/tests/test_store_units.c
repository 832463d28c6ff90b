/*
 * test_store_units.c - the store's parsers and formats on their own:
 * Maildir file names (maildir(5) ":2," info, Dovecot keyword letters)
 * and Maildir++ folder names, dovecot-uidlist (versions 3 and 1, damage),
 * the index file (round trip, checksum, consistency), the mbox scanner,
 * From_ lines (RFC 4155) and mboxrd quoting, fed split at every byte, and
 * the header scanner and keyword syntax.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/maildir/maildir_names.h"
#include "store/maildir/maildir_uidlist.h"
#include "store/mbox/mbox_parse.h"
#include "store/store.h"
#include "store/store_index.h"
#include "store/store_internal.h"
#include "store/store_util.h"

START_TEST(maildir_file_names)
{
	const char *name = "1276533073.M242911P3632Q7R00ff.host,S=1355,W=1394"
			   ":2,TSRPFDbaz";
	struct maildir_name n, m;
	char out[300];

	ck_assert_int_eq(maildir_name_parse(name, strlen(name), &n), 0);
	ck_assert_uint_eq(n.base_len, strlen(name) - 12);
	ck_assert(n.has_info && n.info2);
	ck_assert_uint_eq(n.flags, STORE_F_DRAFT | STORE_F_FLAGGED |
					   STORE_F_ANSWERED | STORE_F_SEEN |
					   STORE_F_DELETED);
	ck_assert_uint_eq(n.other, 1u << ('P' - 'A'));
	ck_assert_uint_eq(n.keywords, 1u | 2u | 1u << 25);
	ck_assert(n.has_size && n.size == 1355);
	ck_assert(n.has_vsize && n.vsize == 1394);
	ck_assert_uint_eq(n.secs, 1276533073);
	ck_assert_uint_eq(n.usecs, 242911);
	ck_assert_uint_eq(n.seq, 7);
	ck_assert_int_eq(maildir_name_format(&n, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "1276533073.M242911P3632Q7R00ff.host,S=1355,"
			      "W=1394:2,DFPRSTabz");
	ck_assert_int_eq(maildir_name_parse(out, strlen(out), &m), 0);
	ck_assert_uint_eq(m.flags, n.flags);
	ck_assert_uint_eq(m.keywords, n.keywords);
	/* Other info kept as it is; no info; bad names. */
	ck_assert_int_eq(maildir_name_parse("abc:1,xyz", 9, &n), 0);
	ck_assert(n.has_info && !n.info2 && n.info_len == 5);
	ck_assert_int_eq(maildir_name_format(&n, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "abc:1,xyz");
	ck_assert_int_eq(maildir_name_parse("abc", 3, &n), 0);
	ck_assert(!n.has_info && !n.has_size);
	ck_assert_int_eq(maildir_name_parse(".hidden", 7, &n), -1);
	ck_assert_int_eq(maildir_name_parse("a/b", 3, &n), -1);
	ck_assert_int_eq(maildir_name_parse(":2,S", 4, &n), -1);
	ck_assert_int_eq(maildir_name_parse("a\0b", 3, &n), -1);
	ck_assert_int_eq(maildir_name_parse("", 0, &n), -1);
	ck_assert_int_eq(maildir_name_parse("x,S=12a", 7, &n), 0);
	ck_assert(!n.has_size);
	ck_assert_int_eq(maildir_name_unique(out, sizeof(out), "h/o:s,t"), 0);
	ck_assert_ptr_nonnull(strstr(out, ".h\\057o\\072s\\054t"));
	ck_assert_int_eq(maildir_name_unique(out, 10, "host"), -1);
}
END_TEST

START_TEST(maildir_folder_names)
{
	char out[300];

	ck_assert_int_eq(maildir_folder_encode("a.b/c%d", out, sizeof(out)), 0);
	ck_assert_str_eq(out, ".a%2Eb.c%25d");
	ck_assert_int_eq(maildir_folder_decode(out, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "a.b/c%d");
	ck_assert_int_eq(maildir_folder_decode(".Sent", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "Sent");
	ck_assert_int_eq(maildir_folder_decode(".a%2eb", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "a.b");
	ck_assert_int_eq(maildir_folder_decode("..x", out, sizeof(out)), -1);
	ck_assert_int_eq(maildir_folder_decode(".a..b", out, sizeof(out)), -1);
	ck_assert_int_eq(maildir_folder_decode(".a.", out, sizeof(out)), -1);
	ck_assert_int_eq(maildir_folder_decode(".", out, sizeof(out)), -1);
	ck_assert_int_eq(maildir_folder_decode("Sent", out, sizeof(out)), -1);
	ck_assert_int_eq(maildir_folder_decode(".a%2F", out, sizeof(out)), -1);
	ck_assert_int_eq(maildir_folder_decode(".a%z", out, sizeof(out)), -1);
	ck_assert_int_eq(maildir_folder_decode(".a%", out, sizeof(out)), -1);
	ck_assert_int_eq(maildir_folder_encode("abc", out, 4), -1);
}
END_TEST

static int ul_parse(const char *text, struct maildir_uidlist *ul)
{
	return maildir_uidlist_parse(text, strlen(text), ul, NULL);
}

START_TEST(uidlists)
{
	struct maildir_uidlist ul, again;
	char *data;
	size_t len;

	ck_assert_int_eq(
		ul_parse("3 V1275660208 N25022 "
			 "G3085f01b7f11094c501100008c4a11c1\n"
			 "25006 "
			 ":1276528487.M364837P9451.kurkku,S=1355,W=1394:2,\n"
			 "25017 W2481 :1276533073.M242911P3632.kurkku:2,F\n",
			 &ul),
		0);
	ck_assert_uint_eq(ul.uidvalidity, 1275660208);
	ck_assert_uint_eq(ul.next_uid, 25022);
	ck_assert_uint_eq(ul.n, 2);
	ck_assert(!ul.partial);
	ck_assert_str_eq(ul.v[1].base, "1276533073.M242911P3632.kurkku");
	ck_assert_int_eq(
		maildir_uidlist_find(&ul, "1276533073.M242911P3632.kurkku", 30),
		1);
	ck_assert_int_eq(maildir_uidlist_format(&ul, &data, &len), 0);
	ck_assert_int_eq(maildir_uidlist_parse(data, len, &again, NULL), 0);
	ck_assert_uint_eq(again.n, 2);
	ck_assert_str_eq(again.guid, ul.guid);
	free(data);
	maildir_uidlist_clear(&again);
	maildir_uidlist_clear(&ul);
	/* Stale N, bad and out-of-order lines, a cut last line. */
	ck_assert_int_eq(ul_parse("3 V7 N2\n5 :a\n4 :b\nx :c\n6 :a\n"
				  "7 :.dot\n8 :d\n9 :e",
				  &ul),
			 0);
	ck_assert(ul.partial);
	ck_assert_uint_eq(ul.n, 2);
	ck_assert_uint_eq(ul.next_uid, 9);
	maildir_uidlist_clear(&ul);
	/* Courier's version 1. */
	ck_assert_int_eq(ul_parse("1 77 10\n3 abc:2,S\n", &ul), 0);
	ck_assert_uint_eq(ul.uidvalidity, 77);
	ck_assert_str_eq(ul.v[0].base, "abc");
	maildir_uidlist_clear(&ul);
	/* Unusable headers. */
	ck_assert_int_eq(ul_parse("", &ul), -1);
	ck_assert_int_eq(ul_parse("3 V1 N1", &ul), -1);
	ck_assert_int_eq(ul_parse("3 V0 N1\n", &ul), -1);
	ck_assert_int_eq(ul_parse("3 N1\n", &ul), -1);
	ck_assert_int_eq(ul_parse("2 V1 N1\n", &ul), -1);
	ck_assert_int_eq(ul_parse("3 V99999999999 N1\n", &ul), -1);
	ck_assert_int_eq(ul_parse("3 Vx N1\n", &ul), -1);
}
END_TEST

START_TEST(index_files)
{
	struct store_index idx = {0}, out;
	struct store_rec r = {0};
	struct store_error err;
	unsigned char *data;
	size_t len;

	idx.uidvalidity = 5;
	idx.next_uid = 10;
	idx.recent_first = 3;
	ck_assert_int_eq(
		store_keywords_add(&idx.keywords, &idx.n_keywords, "$Junk"), 0);
	r.uid = 2;
	r.flags = STORE_F_SEEN | STORE_F_RECENT;
	r.keywords = 1;
	r.size = 100;
	r.header_size = 40;
	ck_assert_int_eq(store_recs_push(&idx.recs, &r), 0);
	r.uid = 7;
	r.header_size = STORE_HDR_UNKNOWN;
	ck_assert_int_eq(store_recs_push(&idx.recs, &r), 0);
	ck_assert_int_eq(store_index_format(&idx, &data, &len), 0);
	ck_assert_int_eq(store_index_parse(data, len, &out, &err), 0);
	ck_assert_uint_eq(out.recs.n, 2);
	ck_assert_uint_eq(out.recs.v[0].flags, STORE_F_SEEN);
	ck_assert_uint_eq(out.recs.v[1].header_size, STORE_HDR_UNKNOWN);
	ck_assert_str_eq(out.keywords[0], "$Junk");
	ck_assert_uint_eq(out.generation, idx.generation);
	store_index_clear(&out);
	for (size_t i = 0; i < len; i += 7) { /* any flipped byte */
		data[i] ^= 0x01;
		ck_assert_int_eq(store_index_parse(data, len, &out, &err), -1);
		ck_assert_int_eq(err.code, STORE_E_CORRUPT);
		data[i] ^= 0x01;
	}
	for (size_t cut = 0; cut < len; cut += 13)
		ck_assert_int_eq(store_index_parse(data, cut, &out, NULL), -1);
	free(data);
	/* Consistent checksum, inconsistent content: refused too. */
	idx.recs.v[1].uid = 1; /* out of order */
	ck_assert_int_eq(store_index_format(&idx, &data, &len), 0);
	ck_assert_int_eq(store_index_parse(data, len, &out, NULL), -1);
	free(data);
	idx.recs.v[1].uid = 12; /* beyond next_uid */
	ck_assert_int_eq(store_index_format(&idx, &data, &len), 0);
	ck_assert_int_eq(store_index_parse(data, len, &out, NULL), -1);
	free(data);
	idx.recs.v[1].uid = 7;
	idx.recs.v[1].keywords = 2; /* no such keyword */
	ck_assert_int_eq(store_index_format(&idx, &data, &len), 0);
	ck_assert_int_eq(store_index_parse(data, len, &out, NULL), -1);
	free(data);
	store_index_clear(&idx);
}
END_TEST

static const char mbox_text[] =
	"junk\n"
	"From a@example.org Thu Jan  1 00:00:01 1970\n"
	"Subject: one\n\nbody\n>From quoted\n>>From twice\nFrom\n\n"
	"From b@example.org Mon Jan  2 15:04:05 2006\n"
	"Subject: two\r\n\r\nno separator\n"
	"From MAILER-DAEMON Fri Feb 13 23:31:30 UTC 2009\n"
	"cut mid-line";

static void scan_split(size_t at, struct mbox_scan *s)
{
	size_t len = strlen(mbox_text);

	mbox_scan_init(s, 0);
	ck_assert_int_eq(mbox_scan_feed(s, mbox_text, at), 0);
	ck_assert_int_eq(mbox_scan_feed(s, mbox_text + at, len - at), 0);
	ck_assert_int_eq(mbox_scan_end(s), 0);
}

START_TEST(mbox_scanner)
{
	struct mbox_scan ref, s;

	scan_split(0, &ref);
	ck_assert_uint_eq(ref.n, 3);
	ck_assert(ref.ended_midline);
	ck_assert_uint_eq(ref.v[0].offset, 5);
	ck_assert_uint_eq(ref.v[0].date, 1);
	ck_assert(ref.v[0].quoted && ref.v[0].terminated);
	ck_assert_uint_eq(ref.v[0].raw_len, 50);
	ck_assert_uint_eq(ref.v[0].size, 48);
	ck_assert_uint_eq(ref.v[0].header_size, 14);
	ck_assert_uint_eq(ref.v[1].date, 1136214245);
	ck_assert(!ref.v[1].terminated);
	ck_assert_uint_eq(ref.v[1].header_size, 16);
	ck_assert_uint_eq(ref.v[2].date, 1234567890);
	ck_assert(!ref.v[2].terminated);
	ck_assert_uint_eq(ref.v[2].size, 12);
	for (size_t at = 1; at <= strlen(mbox_text); at++) {
		scan_split(at, &s);
		ck_assert_uint_eq(s.n, ref.n);
		ck_assert(memcmp(s.v, ref.v, ref.n * sizeof(*s.v)) == 0);
		mbox_scan_clear(&s);
	}
	mbox_scan_clear(&ref);
}
END_TEST

START_TEST(from_lines)
{
	char line[400];
	size_t n;

	n = mbox_from_line(line, sizeof(line), "a@example.org", 1136214245);
	ck_assert_str_eq(line, "From a@example.org Mon Jan  2 15:04:05 2006\n");
	ck_assert_int_eq(mbox_from_date(line, n), 1136214245);
	mbox_from_line(line, sizeof(line), "bad sender", 0);
	ck_assert_str_eq(line, "From MAILER-DAEMON Thu Jan  1 00:00:00 1970\n");
	mbox_from_line(line, sizeof(line), "<>", 0);
	ck_assert_ptr_nonnull(strstr(line, "MAILER-DAEMON"));
	mbox_from_line(line, sizeof(line), NULL, -5);
	ck_assert_ptr_nonnull(strstr(line, "1970"));
	ck_assert_uint_eq(mbox_from_line(line, 10, "x", 0), 0);
	ck_assert_int_eq(mbox_from_date("From x Mon Jan  2 15:04 2006", 28),
			 1136214240);
	ck_assert_int_eq(mbox_from_date("From x Mon Jan 99 15:04 2006", 28), 0);
	ck_assert_int_eq(mbox_from_date("From x", 6), 0);
	ck_assert_int_eq(mbox_from_date("Fro", 3), 0);
	ck_assert_int_eq(mbox_from_date("From x Mon Foo  2 15:04 2006", 28), 0);
}
END_TEST

/* Quote in two pieces split at `at`, unquote in pieces of `piece`. */
static void quote_round_trip(const char *in, size_t len, size_t at,
			     size_t piece)
{
	struct mbox_quoter q;
	struct mbox_unquoter u;
	char quoted[512], back[512];
	size_t qn = 0, bn = 0, used;

	mbox_quoter_init(&q);
	qn += mbox_quote(&q, in, at, quoted);
	qn += mbox_quote(&q, in + at, len - at, quoted + qn);
	qn += mbox_quote_end(&q, quoted + qn);
	mbox_unquoter_init(&u);
	for (size_t off = 0; off < qn; off += used) {
		size_t n = qn - off < piece ? qn - off : piece;

		bn += mbox_unquote(&u, quoted + off, n, &used, back + bn,
				   piece);
	}
	for (size_t k; (k = mbox_unquote_end(&u, back + bn, 1)) > 0;)
		bn += k;
	ck_assert_uint_eq(bn, len);
	ck_assert(memcmp(back, in, len) == 0);
}

START_TEST(mboxrd_quoting)
{
	static const char *const cases[] = {
		"From x\n>From y\n>>From z\nFrom\nFro\n>\n>>\nF",
		"x\nFrom ",
		">From",
		">>>>From  \r\n>>>>Fr\n",
		"",
	};
	struct mbox_quoter q;
	char out[64];
	size_t n;

	mbox_quoter_init(&q);
	n = mbox_quote(&q, "From a\n>From b\n>x\n", 18, out);
	n += mbox_quote_end(&q, out + n);
	out[n] = '\0';
	ck_assert_str_eq(out, ">From a\n>>From b\n>x\n");
	ck_assert(q.quoted && q.last_lf);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		size_t len = strlen(cases[c]);

		for (size_t at = 0; at <= len; at++)
			for (size_t piece = 1; piece < 9; piece++)
				quote_round_trip(cases[c], len, at, piece);
	}
}
END_TEST

START_TEST(header_scanner)
{
	static const struct {
		const char *text;
		uint64_t want;
	} cases[] = {
		{"A: b\r\n\r\nbody", 8},
		{"A: b\n\nbody", 6},
		{"\nbody", 1},
		{"\r\nbody", 2},
		{"A: b\r\n", 6},
		{"A: b\r\r\n", 7},
		{"", 0},
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		size_t len = strlen(cases[c].text);

		for (size_t at = 0; at <= len; at++) {
			struct store_hdr_scan hs;

			store_hdr_scan_init(&hs);
			store_hdr_scan_feed(&hs, cases[c].text, at);
			store_hdr_scan_feed(&hs, cases[c].text + at, len - at);
			ck_assert_uint_eq(store_hdr_scan_result(&hs),
					  cases[c].want);
		}
	}
}
END_TEST

START_TEST(keywords_syntax)
{
	ck_assert(store_keyword_valid("$Forwarded"));
	ck_assert(store_keyword_valid("Work-2"));
	ck_assert(!store_keyword_valid(""));
	ck_assert(!store_keyword_valid("\\Seen"));
	ck_assert(!store_keyword_valid("a b"));
	ck_assert(!store_keyword_valid("a*"));
	ck_assert(!store_keyword_valid("a]"));
	ck_assert(!store_keyword_valid("caf\xc3\xa9"));
	ck_assert(!store_error_temporary(STORE_E_BADNAME));
	ck_assert(store_error_temporary(STORE_E_LOCKED));
	ck_assert_str_eq(store_strerror(STORE_E_TOOBIG), "message too big");
	ck_assert_str_eq(store_strerror(-1), "unknown error");
}
END_TEST

static Suite *units_suite(void)
{
	Suite *s = suite_create("store_units");
	TCase *tc = tcase_create("formats");

	tcase_add_test(tc, maildir_file_names);
	tcase_add_test(tc, maildir_folder_names);
	tcase_add_test(tc, uidlists);
	tcase_add_test(tc, index_files);
	tcase_add_test(tc, mbox_scanner);
	tcase_add_test(tc, from_lines);
	tcase_add_test(tc, mboxrd_quoting);
	tcase_add_test(tc, header_scanner);
	tcase_add_test(tc, keywords_syntax);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(units_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
