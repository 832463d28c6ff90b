/*
 * test_smtp_vrfy.c - VRFY (RFC 5321 3.5.1, 3.5.3, 7.3) in the three
 * smtp.vrfy modes, through the engine with the simulated host (user
 * "nobody" is unknown): replies, pipelining, the error count.
 */
#include <check.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "smtp/smtp_internal.h"

#include "smtp_test_sim.h"

static struct smtp_settings vrfy_settings(enum smtp_vrfy_mode m)
{
	struct smtp_settings st = settings();
	st.domain = "example.test";
	st.vrfy = m;
	return st;
}

static void ck_vrfy(enum smtp_vrfy_mode m, const char *in, const char *want)
{
	struct smtp_settings st = vrfy_settings(m);
	struct sim h = {0};
	char *all = malloc(strlen(in) + sizeof(EHLO));
	ck_assert_ptr_nonnull(all);
	memcpy(all, EHLO, sizeof(EHLO) - 1);
	memcpy(all + sizeof(EHLO) - 1, in, strlen(in) + 1);
	char *out = run1(&st, all, &h);
	ck_assert_str_eq(after_ehlo(out), want);
	free(out);
	/* pipelined at every split: the same replies */
	for (size_t piece = 1; piece < strlen(all); piece += 2) {
		out = run(&st, all, strlen(all), piece, &h);
		ck_assert_str_eq(after_ehlo(out), want);
		free(out);
	}
	free(all);
}

START_TEST(cannot_verify_default)
{
	struct smtp_settings st;
	smtp_settings_defaults(&st);
	ck_assert_int_eq(st.vrfy, SMTP_VRFY_CANNOT);
	ck_vrfy(SMTP_VRFY_CANNOT, "VRFY nobody\r\nVRFY bob\r\n",
		"252 2.0.0 Cannot VRFY user; try RCPT to attempt delivery\r\n"
		"252 2.0.0 Cannot VRFY user; try RCPT to attempt delivery\r\n");
}
END_TEST

START_TEST(off_refuses)
{
	ck_vrfy(SMTP_VRFY_OFF, "VRFY bob\r\nVRFY\r\nNOOP\r\n",
		"502 5.5.1 VRFY disabled\r\n"
		"501 5.5.4 Syntax: VRFY address\r\n"
		"250 2.0.0 OK\r\n");
}
END_TEST

START_TEST(verify_local_users)
{
	ck_vrfy(SMTP_VRFY_VERIFY,
		"VRFY bob\r\n"
		"VRFY bob@example.test\r\n"
		"VRFY Bob Smith <bob@EXAMPLE.test>\r\n"
		"VRFY <bob@mx.example.test>\r\n"
		"VRFY postmaster\r\n"
		"VRFY nobody\r\n"
		"VRFY <nobody@example.test>\r\n"
		"NOOP\r\n",
		"250 2.1.5 <bob@example.test>\r\n"
		"250 2.1.5 <bob@example.test>\r\n"
		"250 2.1.5 <bob@EXAMPLE.test>\r\n"
		"250 2.1.5 <bob@mx.example.test>\r\n"
		"250 2.1.5 <postmaster@example.test>\r\n"
		"550 5.1.1 User unknown\r\n"
		"550 5.1.1 User unknown\r\n"
		"250 2.0.0 OK\r\n");
}
END_TEST

START_TEST(verify_remote_and_syntax)
{
	/* the simulated host would relay: 252, cannot verify */
	ck_vrfy(SMTP_VRFY_VERIFY,
		"VRFY carol@far.example\r\n"
		"VRFY bob%far.example@example.test\r\n"
		"VRFY two words\r\n"
		"VRFY <bob@\r\n"
		"VRFY\r\n",
		"252 2.1.5 Cannot VRFY <carol@far.example>; try RCPT to "
		"attempt delivery\r\n"
		"252 2.1.5 Cannot VRFY <bob%far.example@example.test>; try "
		"RCPT to attempt delivery\r\n"
		"553 5.1.3 Syntax: VRFY user or <mailbox>\r\n"
		"553 5.1.3 Syntax: VRFY user or <mailbox>\r\n"
		"501 5.5.4 Syntax: VRFY address\r\n");
}
END_TEST

/* in a transaction VRFY leaves the envelope alone */
START_TEST(verify_inside_transaction)
{
	struct smtp_settings st = vrfy_settings(SMTP_VRFY_VERIFY);
	struct sim h = {0};
	char *out = run1(&st,
			 EHLO "MAIL FROM:<a@a.example>\r\n"
			      "RCPT TO:<bob@example.test>\r\n"
			      "VRFY nobody\r\nVRFY alice\r\n"
			      "DATA\r\nSubject: x\r\n\r\nhi\r\n.\r\n",
			 &h);
	ck_assert_str_eq(after_ehlo(out),
			 "250 2.1.0 Sender OK\r\n"
			 "250 2.1.5 Recipient OK\r\n"
			 "550 5.1.1 User unknown\r\n"
			 "250 2.1.5 <alice@example.test>\r\n"
			 "354 End data with <CR><LF>.<CR><LF>\r\n"
			 "250 2.0.0 OK queued as Q1\r\n");
	ck_assert_int_eq(h.ends, 1);
	free(out);
}
END_TEST

/* only failed VRFYs count as errors, as refused RCPTs do */
START_TEST(failures_count_as_errors)
{
	struct smtp_settings st = vrfy_settings(SMTP_VRFY_VERIFY);
	struct sim h = {0};
	st.max_errors = 3;
	char *out = run1(&st,
			 EHLO "VRFY bob\r\nVRFY bob\r\nVRFY bob\r\n"
			      "VRFY nobody\r\nVRFY nobody\r\nVRFY nobody\r\n"
			      "VRFY bob\r\n",
			 &h);
	ck_assert_str_eq(after_ehlo(out),
			 "250 2.1.5 <bob@example.test>\r\n"
			 "250 2.1.5 <bob@example.test>\r\n"
			 "250 2.1.5 <bob@example.test>\r\n"
			 "550 5.1.1 User unknown\r\n"
			 "550 5.1.1 User unknown\r\n"
			 "550 5.1.1 User unknown\r\n"
			 "421 4.7.0 mx.example.test Too many errors, closing "
			 "connection\r\n");
	free(out);
}
END_TEST

int main(void)
{
	log_setup(LOGL_ERROR, LOG_TO_STDERR, "test");
	Suite *su = suite_create("smtp_vrfy");
	TCase *tc = tcase_create("vrfy");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, cannot_verify_default);
	tcase_add_test(tc, off_refuses);
	tcase_add_test(tc, verify_local_users);
	tcase_add_test(tc, verify_remote_and_syntax);
	tcase_add_test(tc, verify_inside_transaction);
	tcase_add_test(tc, failures_count_as_errors);
	suite_add_tcase(su, tc);
	SRunner *sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
