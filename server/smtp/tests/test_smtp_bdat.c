/*
 * test_smtp_bdat.c - CHUNKING and BINARYMIME (RFC 3030) and the DSN
 * parameters (RFC 3461 4) through the engine, with a simulated host:
 * chunks split at every byte, refused chunks still consumed (so their
 * octets never run as commands), sequence rules, limits, bare line ends.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "smtp/smtp_internal.h"

#include "smtp_test_sim.h"

#define MAIL_RCPT "MAIL FROM:<a@b.example>\r\nRCPT TO:<bob@example.test>\r\n"
#define RECEIVED                                            \
	"Received: from c.example ([192.0.2.7])\r\n"        \
	"\tby mx.example.test (Quill) with ESMTP id Q1\r\n" \
	"\tfor <bob@example.test>;\r\n\t" DATE "\r\n"

/* The message the host got, as a string. */
static const char *msg(struct sim *h)
{
	h->msg[h->len] = '\0';
	return h->msg;
}

START_TEST(chunks_at_every_split)
{
	static const char in[] = EHLO MAIL_RCPT "BDAT 9\r\nSubject: "
						"BDAT 9 LAST\r\nx\r\n\r\nhi\r\n"
						"QUIT\r\n";
	struct smtp_settings st = settings();
	for (size_t piece = 1; piece <= sizeof(in) - 1; piece++) {
		struct sim h = {0};
		char *out = run(&st, in, sizeof(in) - 1, piece, &h);
		ck_assert_str_eq(after_ehlo(out),
				 "250 2.1.0 Sender OK\r\n"
				 "250 2.1.5 Recipient OK\r\n"
				 "250 2.0.0 9 octets received\r\n"
				 "250 2.0.0 OK queued as Q1\r\n"
				 "221 2.0.0 mx.example.test Service closing "
				 "transmission channel\r\n");
		ck_assert_str_eq(msg(&h), RECEIVED "Subject: x\r\n\r\nhi\r\n");
		ck_assert_int_eq(h.begins, 1);
		ck_assert_int_eq(h.ends, 1);
		free(out);
	}
}
END_TEST

START_TEST(binarymime_kept_octet_for_octet)
{
	static const char in[] = EHLO "MAIL FROM:<a@b.example> "
				      "BODY=BINARYMIME\r\nRCPT "
				      "TO:<bob@example.test>\r\nBDAT 6 "
				      "LAST\r\na\nb\0\r.DATA\r\n";
	struct smtp_settings st = settings();
	struct sim h = {0};
	char *out = run(&st, in, sizeof(in) - 1, 3, &h);
	ck_assert_ptr_nonnull(strstr(out, "250 2.0.0 OK queued as Q1\r\n"));
	ck_assert_uint_eq(h.len, strlen(RECEIVED) + 6);
	ck_assert_mem_eq(h.msg + strlen(RECEIVED), "a\nb\0\r.", 6);
	/* the octets after the chunk are a command again */
	ck_assert_ptr_nonnull(strstr(out, "503 5.5.1 Bad sequence"));
	ck_assert_ptr_nonnull(strstr(h.envelope, "binary=1"));
	free(out);
}
END_TEST

/* A chunk refused for sequence is read whole: "QUIT" inside it is data. */
START_TEST(refused_chunks_are_consumed)
{
	struct smtp_settings st = settings();
	struct sim h = {0};
	char *out =
		run1(&st,
		     EHLO "BDAT 6\r\nQUIT\r\n"
			  "MAIL FROM:<a@b.example>\r\nBDAT 6 LAST\r\nQUIT\r\n"
			  "RCPT TO:<bob@example.test>\r\nNOOP\r\n",
		     &h);
	ck_assert_str_eq(after_ehlo(out),
			 "503 5.5.1 Bad sequence: send MAIL first\r\n"
			 "250 2.1.0 Sender OK\r\n"
			 "554 5.5.1 No valid recipients\r\n"
			 "503 5.5.1 Bad sequence of commands: send MAIL "
			 "first\r\n"
			 "250 2.0.0 OK\r\n");
	ck_assert_int_eq(h.begins, 0);
	free(out);
}
END_TEST

START_TEST(sequence_rules)
{
	struct smtp_settings st = settings();
	struct sim h = {0};
	char *out = run1(&st,
			 EHLO MAIL_RCPT
			 "BDAT 3\r\nabcRCPT TO:<x@example.test>\r\n"
			 "DATA\r\nBDAT 0 LAST\r\n"
			 "MAIL FROM:<a@b.example> BODY=BINARYMIME\r\n"
			 "RCPT TO:<bob@example.test>\r\nDATA\r\n",
			 &h);
	const char *r = after_ehlo(out);
	ck_assert_ptr_nonnull(strstr(r,
				     "250 2.0.0 3 octets received\r\n"
				     "503 5.5.1 RCPT not allowed after BDAT\r\n"
				     "503 5.5.1 DATA not allowed after BDAT; "
				     "use BDAT\r\n"
				     "250 2.0.0 OK queued as Q1\r\n"));
	ck_assert_ptr_nonnull(strstr(r, "503 5.5.1 DATA not allowed with "
					"BODY=BINARYMIME; use BDAT\r\n"));
	ck_assert_str_eq(msg(&h), RECEIVED "abc");
	free(out);
}
END_TEST

START_TEST(syntax_errors)
{
	struct smtp_settings st = settings();
	struct sim h = {0};
	char *out =
		run1(&st,
		     EHLO MAIL_RCPT "BDAT\r\nBDAT x\r\nBDAT 5 LASTX\r\n"
				    "BDAT -1\r\nBDAT 99999999999999999999\r\n"
				    "BDAT 1  LAST\r\nNOOP\r\n",
		     &h);
	const char *r = strstr(after_ehlo(out), "Recipient OK\r\n");
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r + strlen("Recipient OK\r\n"),
			 "501 5.5.4 Syntax: BDAT chunk-size [LAST]\r\n"
			 "501 5.5.4 Syntax: BDAT chunk-size [LAST]\r\n"
			 "501 5.5.4 Syntax: BDAT chunk-size [LAST]\r\n"
			 "501 5.5.4 Syntax: BDAT chunk-size [LAST]\r\n"
			 "501 5.5.4 Syntax: BDAT chunk-size [LAST]\r\n"
			 "501 5.5.4 Syntax: BDAT chunk-size [LAST]\r\n"
			 "250 2.0.0 OK\r\n");
	free(out);
}
END_TEST

START_TEST(size_limit_and_bare_lf)
{
	struct smtp_settings st = settings();
	struct sim h = {0};
	st.message_max = 1024;
	char big[2100];
	memset(big, 'x', sizeof(big));
	char in[4096];
	int n = snprintf(in, sizeof(in),
			 EHLO MAIL_RCPT "BDAT 2000\r\n%.2000sBDAT 100 LAST\r\n"
					"%.100s" MAIL_RCPT
					"BDAT 4 LAST\r\na\nb\r\n",
			 big, big);
	char *out = run(&st, in, (size_t)n, 512, &h);
	const char *r = strstr(after_ehlo(out), "Recipient OK\r\n");
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(strstr(r, "552 5.3.4 Message size exceeds fixed "
					"maximum message size\r\n552 5.3.4 "));
	ck_assert_ptr_nonnull(strstr(r, "554 5.6.0 Bare LF or CR in message"));
	ck_assert_ptr_null(strstr(r, "queued"));
	free(out);
}
END_TEST

START_TEST(commit_failure_reported_at_last)
{
	struct smtp_settings st = settings();
	struct sim h = {.fail_commit = true};
	char *out = run1(&st, EHLO MAIL_RCPT "BDAT 0 LAST\r\nNOOP\r\n", &h);
	ck_assert_ptr_nonnull(
		strstr(out, "451 4.3.0 Local error\r\n250 2.0.0 OK\r\n"));
	free(out);
}
END_TEST

START_TEST(dsn_parameters_kept)
{
	struct smtp_settings st = settings();
	struct sim h = {0};
	char *out =
		run1(&st,
		     EHLO "MAIL FROM:<a@b.example> RET=HDRS "
			  "ENVID=QQ+2B1\r\n"
			  "RCPT TO:<bob@example.test> NOTIFY=SUCCESS,DELAY "
			  "ORCPT=rfc822;bob+40example.test\r\n"
			  "RCPT TO:<postmaster> NOTIFY=NEVER\r\n"
			  "RCPT TO:<alice@example.test>\r\nDATA\r\nx\r\n.\r\n",
		     &h);
	ck_assert_ptr_nonnull(strstr(out, "250 2.0.0 OK queued as Q1"));
	ck_assert_str_eq(h.envelope, "ret=2 envid=QQ+2B1 binary=0 | 10 "
				     "rfc822;bob+40example.test | 1 - | 0 -");
	free(out);
}
END_TEST

START_TEST(dsn_parameters_refused)
{
	struct smtp_settings st = settings();
	struct sim h = {0};
	char *out =
		run1(&st,
		     EHLO "MAIL FROM:<a@b.example> RET=PARTIAL\r\n"
			  "MAIL FROM:<a@b.example> ENVID=a+zz\r\n"
			  "MAIL FROM:<a@b.example> RET=FULL\r\n"
			  "RCPT TO:<bob@example.test> NOTIFY=NEVER,DELAY\r\n"
			  "RCPT TO:<bob@example.test> NOTIFY=\r\n"
			  "RCPT TO:<bob@example.test> ORCPT=rfc822\r\n"
			  "RCPT TO:<bob@example.test> NOTIFY=DELAY "
			  "notify=DELAY\r\n"
			  "RCPT TO:<bob@example.test> RET=FULL\r\n",
		     &h);
	ck_assert_str_eq(after_ehlo(out),
			 "501 5.5.4 Invalid RET value\r\n"
			 "501 5.5.4 Invalid ENVID value\r\n"
			 "250 2.1.0 Sender OK\r\n"
			 "501 5.5.4 Invalid NOTIFY value\r\n"
			 "501 5.5.4 Syntax error in parameters\r\n"
			 "501 5.5.4 Invalid ORCPT value\r\n"
			 "501 5.5.4 Duplicate parameter\r\n"
			 "555 5.5.4 Parameter not recognised\r\n");
	free(out);
}
END_TEST

int main(void)
{
	log_setup(LOGL_ERROR, LOG_TO_STDERR, "test");
	Suite *s = suite_create("smtp_bdat");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, chunks_at_every_split);
	tcase_add_test(tc, binarymime_kept_octet_for_octet);
	tcase_add_test(tc, refused_chunks_are_consumed);
	tcase_add_test(tc, sequence_rules);
	tcase_add_test(tc, syntax_errors);
	tcase_add_test(tc, size_limit_and_bare_lf);
	tcase_add_test(tc, commit_failure_reported_at_last);
	tcase_add_test(tc, dsn_parameters_kept);
	tcase_add_test(tc, dsn_parameters_refused);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
