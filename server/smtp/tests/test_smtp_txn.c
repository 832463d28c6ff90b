/*
 * test_smtp_txn.c - the mail transaction through the engine: MAIL, RCPT,
 * DATA (RFC 5321 3.3, 4.1.1.2-4.1.1.4), SIZE (RFC 1870), SMTPUTF8
 * (RFC 6531), the Received header (4.4), the limits of 4.5.3.1, and the
 * engine's requests answered by a simulated host.
 */
#include <check.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "smtp/smtp_internal.h"

#include "smtp_test_sim.h"

static const char *const whole_in =
	EHLO "MAIL FROM:<alice@a.example> SIZE=100 BODY=8BITMIME\r\n"
	     "RCPT TO:<bob@example.test>\r\nDATA\r\n"
	     "Subject: hi\r\n\r\n..dot\r\nbody\r\n.\r\nQUIT\r\n";

START_TEST(full_transaction)
{
	struct smtp_settings st = settings();
	struct sim h = {0};
	char *out = run1(&st, whole_in, &h);
	ck_assert_str_eq(after_ehlo(out),
			 "250 2.1.0 Sender OK\r\n"
			 "250 2.1.5 Recipient OK\r\n"
			 "354 End data with <CR><LF>.<CR><LF>\r\n"
			 "250 2.0.0 OK queued as Q1\r\n"
			 "221 2.0.0 mx.example.test Service closing "
			 "transmission channel\r\n");
	ck_assert_int_eq(h.begins, 1);
	ck_assert_int_eq(h.ends, 1);
	h.msg[h.len] = '\0';
	ck_assert_str_eq(h.msg,
			 "Received: from c.example ([192.0.2.7])\r\n"
			 "\tby mx.example.test (Quill) with ESMTP id Q1\r\n"
			 "\tfor <bob@example.test>;\r\n"
			 "\t" DATE "\r\n"
			 "Subject: hi\r\n\r\n.dot\r\nbody\r\n");
	free(out);
}
END_TEST

START_TEST(pipelined_at_every_split)
{
	struct smtp_settings st = settings();
	struct sim h = {0}, h1 = {0};
	char *whole = run1(&st, whole_in, &h);
	for (size_t piece = 1; piece < strlen(whole_in); piece += 3) {
		char *got = run(&st, whole_in, strlen(whole_in), piece, &h1);
		ck_assert_str_eq(got, whole);
		ck_assert_uint_eq(h1.len, h.len);
		ck_assert_int_eq(memcmp(h1.msg, h.msg, h.len), 0);
		free(got);
	}
	free(whole);
}
END_TEST

START_TEST(sequence_errors)
{
	struct smtp_settings st = settings();
	struct sim h = {0};
	char *out =
		run1(&st,
		     EHLO "RCPT TO:<bob@example.test>\r\nDATA\r\n"
			  "MAIL FROM:<>\r\nMAIL FROM:<a@b.example>\r\n"
			  "DATA\r\nRCPT TO:<nobody@example.test>\r\nDATA\r\n"
			  "RSET\r\nRCPT TO:<bob@example.test>\r\n",
		     &h);
	ck_assert_str_eq(
		after_ehlo(out),
		"503 5.5.1 Bad sequence of commands: send MAIL first\r\n"
		"503 5.5.1 Bad sequence of commands: send MAIL first\r\n"
		"250 2.1.0 Sender OK\r\n"
		"503 5.5.1 Sender already given\r\n"
		"554 5.5.1 No valid recipients\r\n"
		"550 5.1.1 User unknown\r\n"
		"554 5.5.1 No valid recipients\r\n"
		"250 2.0.0 OK\r\n"
		"503 5.5.1 Bad sequence of commands: send MAIL first\r\n");
	ck_assert_int_eq(h.begins, 0);
	free(out);
}
END_TEST

START_TEST(mail_parameters)
{
	struct smtp_settings st = settings();
	struct sim h = {0};
	st.message_max = 1000;
	char *out = run1(&st,
			 EHLO "MAIL FROM:<a@b.example> SIZE=1001\r\n"
			      "MAIL FROM:<a@b.example> FROB=1\r\n"
			      "MAIL FROM:<a@b.example> RET=PARTIAL\r\n"
			      "MAIL FROM:<a@b.example> SIZE=1x\r\n"
			      "MAIL FROM: <a@b.example>\r\n"
			      "MAIL FROM:<\xc3\xbc@b.example>\r\n"
			      "MAIL FROM:<\xc3\xbc@b.example> SMTPUTF8\r\n",
			 &h);
	const char *r = after_ehlo(out);
	ck_assert_ptr_nonnull(strstr(r, "552 5.3.4 Message size exceeds fixed "
					"maximum message size of 1000 octets"));
	ck_assert_ptr_nonnull(strstr(r, "\r\n555 5.5.4 "));
	ck_assert_ptr_nonnull(strstr(r, "501 5.5.4 Invalid RET value"));
	ck_assert_ptr_nonnull(strstr(r, "\r\n501 5.5.4 "));
	ck_assert_ptr_nonnull(strstr(r, "\r\n501 5.5.2 "));
	ck_assert_ptr_nonnull(strstr(r, "\r\n550 5.6.7 "));
	ck_assert_ptr_nonnull(strstr(r, "250 2.1.0 Sender OK\r\n"));
	free(out);
}
END_TEST

START_TEST(too_many_recipients)
{
	struct smtp_settings st = settings();
	struct sim h = {0};
	st.max_recipients = 100;
	size_t cap = 128 * 40 + 256;
	char *in = malloc(cap);
	size_t len =
		(size_t)snprintf(in, cap, EHLO "MAIL FROM:<a@b.example>\r\n");
	for (int i = 0; i < 101; i++)
		len += (size_t)snprintf(in + len, cap - len,
					"RCPT TO:<bob@example.test>\r\n");
	char *out = run1(&st, in, &h);
	const char *last = strrchr(out, '\n');
	ck_assert_ptr_nonnull(strstr(out, "250 2.1.5 Recipient OK\r\n452 4.5.3 "
					  "Too many recipients\r\n"));
	ck_assert_ptr_nonnull(last);
	free(in);
	free(out);
}
END_TEST

static const char *data_reply(const struct smtp_settings *st, const char *body,
			      struct sim *h, char **out_r)
{
	size_t n = strlen(body) + 256;
	char *in = malloc(n);
	snprintf(in, n,
		 EHLO
		 "MAIL FROM:<a@b.example>\r\nRCPT TO:<bob@example.test>\r\n"
		 "DATA\r\n%sNOOP\r\n",
		 body);
	*out_r = run1(st, in, h);
	free(in);
	const char *p =
		strstr(*out_r, "354 End data with <CR><LF>.<CR><LF>\r\n");
	ck_assert_ptr_nonnull(p);
	return p + strlen("354 End data with <CR><LF>.<CR><LF>\r\n");
}

START_TEST(data_refusals)
{
	struct smtp_settings st = settings();
	struct sim h = {0};
	char *out;
	/* smuggling: the bare-LF "." is data; one reply, for the real end */
	ck_assert_str_eq(
		data_reply(&st, "a\n.\nMAIL FROM:<x@y.example>\r\n.\r\n", &h,
			   &out),
		"554 5.6.0 Bare LF or CR in message; lines end in CRLF\r\n"
		"250 2.0.0 OK\r\n");
	free(out);
	st.message_max = 30;
	ck_assert_str_eq(data_reply(&st,
				    "0123456789\r\n0123456789\r\n"
				    "0123456789\r\n.\r\n",
				    &h, &out),
			 "552 5.3.4 Message size exceeds fixed maximum message "
			 "size\r\n250 2.0.0 OK\r\n");
	free(out);
	st = settings();
	h.fail_commit = true;
	ck_assert_str_eq(data_reply(&st, "x\r\n.\r\n", &h, &out),
			 "451 4.3.0 Local error\r\n250 2.0.0 OK\r\n");
	free(out);
	h.fail_commit = false;
	h.fail_chunk = true;
	st.chunk_size = 4096;
	char big[20001]; /* 200 lines of 100 octets with CRLF */
	for (size_t i = 0; i + 1 < sizeof(big); i++)
		big[i] = (i % 100 == 98) ? '\r' : (i % 100 == 99) ? '\n' : 'x';
	big[sizeof(big) - 1] = '\0';
	char body[20010];
	snprintf(body, sizeof(body), "%s.\r\n", big);
	ck_assert_str_eq(data_reply(&st, body, &h, &out),
			 "452 4.3.1 Insufficient system storage\r\n"
			 "250 2.0.0 OK\r\n");
	free(out);
}
END_TEST

START_TEST(submission_needs_auth)
{
	struct smtp_settings st = settings();
	struct sim h = {0};
	st.mode = SMTP_MODE_SUBMISSION;
	char *out = run1(&st, EHLO "MAIL FROM:<a@b.example>\r\n", &h);
	ck_assert_str_eq(after_ehlo(out),
			 "530 5.7.0 Authentication required\r\n");
	free(out);
}
END_TEST

START_TEST(utf8_received)
{
	struct smtp_settings st = settings();
	struct sim h = {0};
	char *out = run1(&st,
			 EHLO "MAIL FROM:<\xc3\xbc@b.example> SMTPUTF8\r\n"
			      "RCPT TO:<bob@example.test>\r\n"
			      "RCPT TO:<postmaster>\r\nDATA\r\nx\r\n.\r\n",
			 &h);
	ck_assert_ptr_nonnull(strstr(out, "250 2.0.0 OK queued as Q1"));
	h.msg[h.len] = '\0';
	/* two recipients: no "for" clause (RFC 5321 4.4) */
	ck_assert_str_eq(h.msg,
			 "Received: from c.example ([192.0.2.7])\r\n"
			 "\tby mx.example.test (Quill) with UTF8SMTP id Q1;\r\n"
			 "\t" DATE "\r\nx\r\n");
	free(out);
}
END_TEST

int main(void)
{
	log_setup(LOGL_ERROR, LOG_TO_STDERR, "test");
	Suite *s = suite_create("smtp_txn");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, full_transaction);
	tcase_add_test(tc, pipelined_at_every_split);
	tcase_add_test(tc, sequence_errors);
	tcase_add_test(tc, mail_parameters);
	tcase_add_test(tc, too_many_recipients);
	tcase_add_test(tc, data_refusals);
	tcase_add_test(tc, submission_needs_auth);
	tcase_add_test(tc, utf8_received);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
