/*
 * test_pop3_seen.c - the POP3 engine's refusal of a peer over its
 * connection limit (RFC 2449 8.1.2 and RFC 3206 4: -ERR [SYS/TEMP], then
 * the close) and the \Seen marks UPDATE asks for: a message RETR sent
 * whole, not TOP, not one marked as deleted, forgotten by RSET, none
 * without QUIT (RFC 1939 section 6) or with retr_sets_seen off.
 */
#include "pop3_test_host.h"

static const char msg1[] = "Subject: one\n\nbody one\n";
static const char msg2[] = "Subject: two\r\n\r\nbody two\r\n";
static const char msg3[] = "x\n";

static void add_three(struct test_host *h)
{
	th_add(h, 5, msg1);
	th_add(h, 9, msg2);
	th_add(h, 12, msg3);
}

/* Feed in, serve, and check that out holds want somewhere. */
static void feed_has(struct test_host *h, struct pop3_session *s,
		     const char *in, const char *want)
{
	char *got = th_feed(h, s, in);
	ck_assert_msg(strstr(got, want) != NULL, "output \"%s\" lacks \"%s\"",
		      got, want);
	free(got);
}

START_TEST(refuse)
{
	struct pop3_settings st = th_settings();
	struct pop3_session *s = pop3_session_new(&st, "192.0.2.7", "t1");
	pop3_session_refuse(s);
	char *out = th_output(s);
	ck_assert_str_eq(out, "-ERR [SYS/TEMP] Too many connections from "
			      "your address, try again later\r\n");
	free(out);
	ck_assert_int_eq(pop3_session_request(s), POP3_REQ_CLOSE);
	/* nothing more is read or answered */
	ck_assert_uint_eq(pop3_session_feed(s, "CAPA\r\n", 6), 0);
	out = th_output(s);
	ck_assert_str_eq(out, "");
	free(out);
	pop3_session_free(&s);
}
END_TEST

START_TEST(retr_marks_seen)
{
	struct test_host h;
	th_init(&h);
	add_three(&h);
	struct pop3_settings st = th_settings();
	struct pop3_session *s = th_login(&h, &st);
	feed_has(&h, s, "RETR 2\r\n", "body two\r\n.\r\n");
	feed_has(&h, s, "TOP 1 5\r\n", "body one\r\n.\r\n");
	feed_has(&h, s, "RETR 3\r\nDELE 3\r\n", "+OK Message 3 deleted\r\n");
	ck_assert(!h.updated);
	feed_has(&h, s, "QUIT\r\n", "signing off (1 messages deleted)");
	ck_assert(h.updated);
	/* TOP leaves 5 alone; 12 is removed, so it needs no flag */
	ck_assert_uint_eq(h.n_seen, 1);
	ck_assert_uint_eq(h.seen[0], 9);
	ck_assert_uint_eq(h.n_removed, 1);
	ck_assert_uint_eq(h.removed[0], 12);
	pop3_session_free(&s);
	th_free(&h);
}
END_TEST

START_TEST(rset_forgets_seen)
{
	struct test_host h;
	th_init(&h);
	add_three(&h);
	struct pop3_settings st = th_settings();
	struct pop3_session *s = th_login(&h, &st);
	feed_has(&h, s, "RETR 1\r\nRETR 3\r\nRSET\r\n", "+OK Maildrop has 3");
	feed_has(&h, s, "RETR 3\r\nRETR 1\r\nQUIT\r\n", "signing off");
	ck_assert(h.updated);
	ck_assert_uint_eq(h.n_removed, 0);
	ck_assert_uint_eq(h.n_seen, 2); /* ascending */
	ck_assert_uint_eq(h.seen[0], 5);
	ck_assert_uint_eq(h.seen[1], 12);
	pop3_session_free(&s);
	th_free(&h);
}
END_TEST

START_TEST(seen_off_and_no_quit)
{
	struct test_host h;
	th_init(&h);
	add_three(&h);
	struct pop3_settings st = th_settings();
	st.retr_sets_seen = false;
	struct pop3_session *s = th_login(&h, &st);
	feed_has(&h, s, "RETR 1\r\nQUIT\r\n", "signing off");
	ck_assert(h.updated);
	ck_assert_uint_eq(h.n_seen, 0);
	pop3_session_free(&s);

	/* RFC 1939 6: no UPDATE without QUIT, so no flags either */
	st.retr_sets_seen = true;
	h.updated = false;
	s = th_login(&h, &st);
	feed_has(&h, s, "RETR 1\r\n", "body one\r\n.\r\n");
	pop3_session_timeout(s);
	ck_assert_int_eq(pop3_session_request(s), POP3_REQ_CLOSE);
	ck_assert(!h.updated);
	pop3_session_free(&s);
	th_free(&h);
}
END_TEST

/* A RETR that fails on the way sent nothing whole: no flag. */
START_TEST(failed_retr_not_seen)
{
	struct test_host h;
	th_init(&h);
	add_three(&h);
	struct pop3_settings st = th_settings();
	struct pop3_session *s = th_login(&h, &st);
	h.fail_read_at = 0;
	h.read_status = POP3_ANSWER_GONE;
	char *out = th_feed(&h, s, "RETR 1\r\n");
	ck_assert_ptr_null(strstr(out, "body one"));
	free(out);
	h.fail_read_at = UINT64_MAX;
	h.read_status = POP3_ANSWER_OK;
	feed_has(&h, s, "QUIT\r\n", "signing off");
	ck_assert(h.updated);
	ck_assert_uint_eq(h.n_seen, 0);
	pop3_session_free(&s);
	th_free(&h);
}
END_TEST

static Suite *pop3_seen_suite(void)
{
	Suite *su = suite_create("pop3_seen");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, refuse);
	tcase_add_test(tc, retr_marks_seen);
	tcase_add_test(tc, rset_forgets_seen);
	tcase_add_test(tc, seen_off_and_no_quit);
	tcase_add_test(tc, failed_retr_not_seen);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	log_setup(LOGL_ERROR, LOG_TO_STDERR, "test");
	SRunner *sr = srunner_create(pop3_seen_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
