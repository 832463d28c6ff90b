/*
 * test_fuzzmode.c - the fuzzer's parts without a server: the generator
 * and the mutators are deterministic for a seed and bounded in size,
 * reproducers load with the scenario loader and send the case's bytes,
 * the desync heuristic on canned replies, and seed collection.
 */
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fuzzmode.h"

#define EHLO QUILL_TEST_DATA "/smtp-ehlo.yaml"

START_TEST(rng_deterministic)
{
	struct fuzzmode_rng a, b, c;
	fuzzmode_rng_init(&a, 42, 7);
	fuzzmode_rng_init(&b, 42, 7);
	fuzzmode_rng_init(&c, 42, 8);
	bool differs = false;
	for (int i = 0; i < 100; i++) {
		uint64_t x = fuzzmode_rng_next(&a);
		ck_assert_uint_eq(x, fuzzmode_rng_next(&b));
		differs |= x != fuzzmode_rng_next(&c);
	}
	ck_assert(differs);
	ck_assert_uint_eq(fuzzmode_rng_below(&a, 0), 0);
	for (int i = 0; i < 1000; i++)
		ck_assert_uint_lt(fuzzmode_rng_below(&a, 3), 3);
}
END_TEST

static const char seed_text[] = "EHLO client.example.test\r\n"
				"MAIL FROM:<alice@example.test>\r\n"
				"RCPT TO:<bob@example.test>\r\nDATA\r\n"
				"Subject: x\r\n\r\nhello\r\n.\r\nQUIT\r\n";

START_TEST(mutate_deterministic)
{
	struct fuzzmode_case x, y;
	fuzzmode_case_init(&x);
	fuzzmode_case_init(&y);
	for (uint64_t n = 0; n < 300; n++) {
		struct fuzzmode_rng a, b;
		enum fuzzmode_proto p = (enum fuzzmode_proto)(n % 3);
		fuzzmode_rng_init(&a, 1, n);
		fuzzmode_rng_init(&b, 1, n);
		ck_assert_int_eq(fuzzmode_mutate(&a, p, seed_text,
						 strlen(seed_text), &x),
				 0);
		ck_assert_int_eq(fuzzmode_mutate(&b, p, seed_text,
						 strlen(seed_text), &y),
				 0);
		ck_assert_uint_eq(buf_len(&x.data), buf_len(&y.data));
		ck_assert_mem_eq(buf_data(&x.data), buf_data(&y.data),
				 buf_len(&x.data));
		ck_assert_uint_eq(x.chunk, y.chunk);
		ck_assert_uint_eq(x.pause_ms, y.pause_ms);
		ck_assert_str_eq(x.desc, y.desc);
		ck_assert(x.desc[0] != '\0');
	}
	fuzzmode_case_free(&x);
	fuzzmode_case_free(&y);
}
END_TEST

START_TEST(mutate_bounded)
{
	size_t big = FUZZMODE_CASE_MAX + 100;
	char *seed = malloc(big);
	struct fuzzmode_case c;

	ck_assert_ptr_nonnull(seed);
	for (size_t i = 0; i < big; i++)
		seed[i] = i % 80 == 79 ? '\n' : 'a';
	fuzzmode_case_init(&c);
	for (uint64_t n = 0; n < 60; n++) {
		struct fuzzmode_rng r;
		fuzzmode_rng_init(&r, 9, n);
		ck_assert_int_eq(fuzzmode_mutate(&r,
						 (enum fuzzmode_proto)(n % 3),
						 seed, n % 2 ? big : 10, &c),
				 0);
		ck_assert_uint_le(buf_len(&c.data), FUZZMODE_CASE_MAX);
		/* the pauses stay around a second in all */
		if (c.chunk > 0 && c.pause_ms > 0)
			ck_assert_uint_le(
				buf_len(&c.data) / c.chunk * c.pause_ms, 1000);
	}
	/* an empty seed is fine too */
	struct fuzzmode_rng r;
	fuzzmode_rng_init(&r, 3, 3);
	ck_assert_int_eq(fuzzmode_mutate(&r, FUZZMODE_SMTP, "", 0, &c), 0);
	fuzzmode_case_free(&c);
	free(seed);
}
END_TEST

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* The reproducer's second step sends the case's bytes (if any). */
static void check_send(const struct scenario *back, unsigned long chunk,
		       const char *bytes, size_t n)
{
	const struct step_send *s = &back->steps.v[1].u.send;
	char got[64];
	FILE *f;

	if (n == 0) {
		ck_assert_int_eq(back->steps.v[1].kind, STEP_SLEEP);
		return;
	}
	ck_assert_int_eq(back->steps.v[1].kind, STEP_SEND);
	ck_assert_int_eq(s->form, SEND_FILE);
	ck_assert_uint_eq(s->chunk, chunk);
	f = fopen(s->file, "rb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fread(got, 1, sizeof(got), f), n);
	fclose(f);
	ck_assert_mem_eq(got, bytes, n);
}

static void save_and_load(const char *service, bool tls, unsigned long chunk,
			  const char *bytes, size_t n)
{
	char dir[] = "/tmp/test-fuzzmode-XXXXXX", path[4400], err[600];
	struct scenario_error e;
	struct fuzzmode_case c;
	struct scenario *src, *back;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	src = scenario_load_file(EHLO, NULL, &e);
	ck_assert_ptr_nonnull(src);
	fuzzmode_case_init(&c);
	ck_assert_int_eq(buf_append(&c.data, bytes, n), 0);
	c.chunk = chunk;
	c.pause_ms = 2;
	snprintf(c.desc, sizeof(c.desc), "bitflip \"quoted\\\" nul");
	struct fuzzmode_finding x = {
		.kind = "crash",
		.sc = src,
		.service = service,
		.implicit_tls = tls,
		.seed = 5,
		.case_no = 17,
		.c = &c,
		.detail = "quilld was killed by signal 11\n(\x01)",
		.reply = "220 x\r\n",
		.reply_len = 7};
	ck_assert_int_eq(
		fuzzmode_save(dir, &x, path, sizeof(path), err, sizeof(err)),
		0);
	back = scenario_load_file(path, NULL, &e);
	if (back == NULL) {
		scenario_error_format(&e, err, sizeof(err));
		ck_abort_msg("reproducer does not load: %s", err);
	}
	ck_assert_str_eq(back->id,
			 "fuzz.crash.harness.example.smtp-ehlo.s5-c17");
	ck_assert_uint_eq(back->n_rfc, src->n_rfc);
	ck_assert_int_eq(back->steps.v[0].kind, STEP_CONNECT);
	ck_assert_str_eq(back->steps.v[0].u.connect.service, service);
	ck_assert_int_eq(back->steps.v[0].u.connect.tls,
			 tls ? SCENARIO_TLS_IMPLICIT : SCENARIO_TLS_NONE);
	check_send(back, chunk, bytes, n);
	ck_assert_int_eq(back->steps.v[back->steps.n - 2].kind, STEP_EXPECT);
	scenario_free(&back);
	scenario_free(&src);
	fuzzmode_case_free(&c);
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

START_TEST(reproducer_round_trip)
{
	save_and_load("smtp", false, 0, "EH\0LO \xff\r\n\r", 11);
	save_and_load("submissions", true, 3, "QUIT\r\n", 6);
	save_and_load("imap", false, 1, "a1 LOGIN {9}\r\n", 14);
	save_and_load("pop3", false, 0, "", 0);
}
END_TEST

static int smtp(const char *sent, const char *reply, bool eof)
{
	char why[400];
	int rc = fuzzmode_desync(FUZZMODE_SMTP, sent, strlen(sent), reply,
				 strlen(reply), eof, why, sizeof(why));
	ck_assert(rc == 0 || why[0] != '\0');
	return rc;
}

START_TEST(desync_smtp)
{
	ck_assert_int_eq(
		smtp("EHLO x\r\n", "220 hi\r\n250-a\r\n250 b\r\n", false), 0);
	ck_assert_int_eq(smtp("NOOP\r\n", "220 hi\r\n250\r\n", true), 0);
	ck_assert_int_eq(smtp("NOOP\r\n", "220 hi\r\n250 o", false), 0);
	ck_assert_int_eq(smtp("NOOP\r\n", "220 hi\r\n250 o", true), 1);
	ck_assert_int_eq(smtp("NOOP\r\n", "220 hi\r\nHELLO\r\n", false), 1);
	ck_assert_int_eq(smtp("NOOP\r\n", "220 hi\r\n650 x\r\n", false), 1);
	ck_assert_int_eq(smtp("NOOP\r\n", "220 hi\n", false), 1);
	ck_assert_int_eq(smtp("NOOP\r\n", "220 h\ri\r\n", false), 1);
	ck_assert_int_eq(
		smtp("EHLO\r\n", "220 hi\r\n250-a\r\n251 b\r\n", false), 1);
	ck_assert_int_eq(smtp("NOOP\r\n", "220 a\r\n250 b\r\n421 c\r\n", true),
			 0);
	ck_assert_int_eq(
		smtp("NOOP\r\n", "220 a\r\n250 b\r\n250 c\r\n250 d\r\n", false),
		1);
	/* TLS records after STARTTLS are the handshake, not a desync */
	ck_assert_int_eq(smtp("STARTTLS\r\nEHLO x\r\n",
			      "220 a\r\n220 go\r\n\x15\x03\x01\x00\x02", true),
			 0);
	ck_assert_int_eq(
		smtp("NOOP\r\n", "220 a\r\n\x15\x03\x01\x00\x02", true), 1);
}
END_TEST

static int other(enum fuzzmode_proto p, const char *sent, const char *reply)
{
	char why[400];
	return fuzzmode_desync(p, sent, strlen(sent), reply, strlen(reply),
			       false, why, sizeof(why));
}

START_TEST(desync_pop3_imap)
{
	const enum fuzzmode_proto P = FUZZMODE_POP3, I = FUZZMODE_IMAP;
	ck_assert_int_eq(other(P, "USER a\r\nLIST\r\n",
			       "+OK hi\r\n-ERR no\r\n+OK 2\r\n1 10\r\n.\r\n"),
			 0);
	ck_assert_int_eq(other(P, "USER a\r\n", "+OK hi\r\n-ERR\r\n"), 0);
	ck_assert_int_eq(other(P, "USER a\r\n", "+OK hi\r\n+OK\r\n1 10\r\n"),
			 1);
	ck_assert_int_eq(other(P, "NOOP\r\n", "+OK hi\r\nfoo\r\n"), 1);
	ck_assert_int_eq(
		other(I, "a1 LOGIN x y\r\n", "* OK hi\r\na1 OK done\r\n"), 0);
	ck_assert_int_eq(other(I, "a1 FETCH 1 BODY[]\r\n",
			       "* OK hi\r\n* 1 FETCH (BODY[] {5}\r\nab\r\nc)"
			       "\r\na1 OK x\r\n"),
			 0);
	ck_assert_int_eq(other(I, "a1 NOOP\r\n", "* OK hi\r\nzz OK x\r\n"), 1);
	ck_assert_int_eq(other(I, "a1 NOOP\r\n", "* OK hi\r\na1 FOO\r\n"), 1);
	ck_assert_int_eq(other(I, "a1 NOOP\r\n", "* OK hi\r\n+ go\r\n"), 0);
}
END_TEST

START_TEST(greetings)
{
	ck_assert(fuzzmode_greeting_ok(FUZZMODE_SMTP, "220 mx\r\n", 8));
	ck_assert(fuzzmode_greeting_ok(FUZZMODE_SMTP, "220-mx\r\n", 8));
	ck_assert(!fuzzmode_greeting_ok(FUZZMODE_SMTP, "554 no\r\n", 8));
	ck_assert(!fuzzmode_greeting_ok(FUZZMODE_SMTP, "2200\r\n", 6));
	ck_assert(fuzzmode_greeting_ok(FUZZMODE_POP3, "+OK x\r\n", 7));
	ck_assert(!fuzzmode_greeting_ok(FUZZMODE_POP3, "-ERR x\r\n", 8));
	ck_assert(fuzzmode_greeting_ok(FUZZMODE_IMAP, "* OK x\r\n", 8));
	ck_assert(fuzzmode_greeting_ok(FUZZMODE_IMAP, "* PREAUTH x\r\n", 13));
	ck_assert(!fuzzmode_greeting_ok(FUZZMODE_IMAP, "* BYE\r\n", 7));
	ck_assert_int_eq(fuzzmode_proto_of("pop3s"), FUZZMODE_POP3);
	ck_assert_int_eq(fuzzmode_proto_of("imaps"), FUZZMODE_IMAP);
	ck_assert_int_eq(fuzzmode_proto_of("submission"), FUZZMODE_SMTP);
}
END_TEST

START_TEST(seeds_from_scenario)
{
	static const char want[] = "EHLO client.example.test\r\nNOOP\r\n"
				   "QUIT\r\n";
	struct scenario_error e;
	struct fuzzmode_seeds s;
	char err[300];
	struct scenario *sc = scenario_load_file(EHLO, NULL, &e);

	ck_assert_ptr_nonnull(sc);
	ck_assert_int_eq(fuzzmode_seeds_collect(sc, NULL, &s, err, sizeof(err)),
			 0);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_str_eq(s.v[0].service, "smtp");
	ck_assert_uint_eq(buf_len(&s.v[0].bytes), strlen(want));
	ck_assert_mem_eq(buf_data(&s.v[0].bytes), want, strlen(want));
	fuzzmode_seeds_free(&s);
	scenario_free(&sc);
}
END_TEST

static Suite *fuzzmode_suite(void)
{
	Suite *s = suite_create("fuzzmode");
	TCase *tc = tcase_create("fuzzmode");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, rng_deterministic);
	tcase_add_test(tc, mutate_deterministic);
	tcase_add_test(tc, mutate_bounded);
	tcase_add_test(tc, reproducer_round_trip);
	tcase_add_test(tc, desync_smtp);
	tcase_add_test(tc, desync_pop3_imap);
	tcase_add_test(tc, greetings);
	tcase_add_test(tc, seeds_from_scenario);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(fuzzmode_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
