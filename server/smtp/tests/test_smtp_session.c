/*
 * test_smtp_session.c - the SMTP engine driven with byte strings: the
 * session skeleton of RFC 5321 (greeting, EHLO/HELO, NOOP, RSET, HELP,
 * QUIT), STARTTLS (RFC 3207), pipelining (RFC 2920), enhanced codes
 * (RFC 2034) and the command line limit (4.5.3.1.4).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "smtp/smtp_internal.h"
#include "smtp/smtp_syntax.h"

static struct smtp_settings settings(void)
{
	struct smtp_settings st;
	smtp_settings_defaults(&st);
	st.hostname = "mx.example.test";
	st.starttls_offered = true;
	return st;
}

/* Take all output as a NUL-terminated string (caller frees). */
static char *take_output(struct smtp_session *s)
{
	struct buf *o = smtp_session_output(s);
	char *r = malloc(buf_len(o) + 1);
	ck_assert_ptr_nonnull(r);
	memcpy(r, buf_data(o), buf_len(o));
	r[buf_len(o)] = '\0';
	buf_consume(o, buf_len(o));
	return r;
}

/* Run input through a new session (greeting dropped), whole or in pieces
 * of `step` bytes; return the replies. */
static char *run_steps(const struct smtp_settings *st, const char *input,
		       size_t len, size_t step, enum smtp_request *req_r)
{
	struct smtp_session *s = smtp_session_new(st, "192.0.2.7", "t1");
	ck_assert_ptr_nonnull(s);
	smtp_session_start(s);
	free(take_output(s));
	for (size_t off = 0; off < len; off += step) {
		size_t n = len - off < step ? len - off : step;
		if (smtp_session_feed(s, input + off, n) < n)
			break;
	}
	if (req_r != NULL)
		*req_r = smtp_session_request(s);
	char *out = take_output(s);
	smtp_session_free(&s);
	ck_assert_ptr_null(s);
	return out;
}

static char *run(const struct smtp_settings *st, const char *input)
{
	return run_steps(st, input, strlen(input), strlen(input) + 1, NULL);
}

#define ck_run(st, input, expected)                 \
	do {                                        \
		char *got_ = run((st), (input));    \
		ck_assert_str_eq(got_, (expected)); \
		free(got_);                         \
	} while (0)

START_TEST(greeting_has_no_enhanced_code)
{
	struct smtp_settings st = settings();
	struct smtp_session *s = smtp_session_new(&st, "192.0.2.7", "t1");
	smtp_session_start(s);
	char *out = take_output(s);
	ck_assert_str_eq(out, "220 mx.example.test ESMTP Quill\r\n");
	free(out);
	smtp_session_free(&s);
}
END_TEST

START_TEST(ehlo_lists_extensions)
{
	struct smtp_settings st = settings();
	ck_run(&st, "EHLO client.example.test\r\n",
	       "250-mx.example.test Hello client.example.test [192.0.2.7]\r\n"
	       "250-PIPELINING\r\n"
	       "250-SIZE 52428800\r\n"
	       "250-8BITMIME\r\n"
	       "250-ENHANCEDSTATUSCODES\r\n"
	       "250-SMTPUTF8\r\n"
	       "250-CHUNKING\r\n"
	       "250-BINARYMIME\r\n"
	       "250-DSN\r\n"
	       "250 STARTTLS\r\n");
	st.starttls_offered = false;
	st.message_max = 0;
	ck_run(&st, "ehlo [192.0.2.1]\r\n",
	       "250-mx.example.test Hello [192.0.2.1] [192.0.2.7]\r\n"
	       "250-PIPELINING\r\n"
	       "250-SIZE\r\n"
	       "250-8BITMIME\r\n"
	       "250-ENHANCEDSTATUSCODES\r\n"
	       "250-SMTPUTF8\r\n"
	       "250-CHUNKING\r\n"
	       "250-BINARYMIME\r\n"
	       "250 DSN\r\n");
}
END_TEST

START_TEST(helo_plain_reply)
{
	struct smtp_settings st = settings();
	ck_run(&st, "HELO client.example.test\r\n",
	       "250 mx.example.test Hello client.example.test [192.0.2.7]\r\n");
}
END_TEST

START_TEST(ehlo_bad_arguments)
{
	struct smtp_settings st = settings();
	ck_run(&st, "EHLO\r\n", "501 Syntax: EHLO domain\r\n");
	ck_run(&st, "EHLO \r\n", "501 Syntax: EHLO domain\r\n");
	ck_run(&st, "EHLO bad_name.example\r\n",
	       "501 Invalid domain or address literal\r\n");
	ck_run(&st, "EHLO -x.example\r\n",
	       "501 Invalid domain or address literal\r\n");
	ck_run(&st, "EHLO [300.1.1.1]\r\n",
	       "501 Invalid domain or address literal\r\n");
	/* a sequence error before EHLO is answered with 503 */
	ck_run(&st, "STARTTLS\r\n",
	       "503 5.5.1 Bad sequence of commands: send EHLO or HELO "
	       "first\r\n");
}
END_TEST

START_TEST(noop_rset_help_quit)
{
	struct smtp_settings st = settings();
	enum smtp_request req;
	ck_run(&st, "NOOP\r\nNOOP anything goes\r\nRSET\r\n",
	       "250 2.0.0 OK\r\n250 2.0.0 OK\r\n250 2.0.0 OK\r\n");
	ck_run(&st, "RSET now\r\n",
	       "501 5.5.4 Syntax error: RSET takes no parameters\r\n");
	ck_run(&st, "HELP\r\n",
	       "214-2.0.0 Commands: EHLO HELO STARTTLS RSET NOOP HELP QUIT "
	       "MAIL "
	       "RCPT DATA BDAT VRFY\r\n"
	       "214 2.0.0 See RFC 5321; end of HELP\r\n");
	ck_run(&st, "HELP noop\r\nHELP EXPN\r\n",
	       "214 2.0.0 NOOP is supported\r\n"
	       "504 5.5.1 HELP topic not recognized\r\n");
	const char *in = "QUIT\r\nNOOP\r\n";
	char *out = run_steps(&st, in, strlen(in), 100, &req);
	ck_assert_str_eq(out, "221 2.0.0 mx.example.test Service closing "
			      "transmission channel\r\n");
	ck_assert_int_eq(req, SMTP_REQ_CLOSE);
	free(out);
}
END_TEST

START_TEST(unknown_and_unimplemented)
{
	struct smtp_settings st = settings();
	ck_run(&st, "FOO\r\n", "500 5.5.1 Command unrecognized\r\n");
	ck_run(&st, "\r\n", "500 5.5.1 Command unrecognized\r\n");
	ck_run(&st, "EHLOX a.b\r\n", "500 5.5.1 Command unrecognized\r\n");
	ck_run(&st, "MAIL FROM:<a@b.example>\r\n",
	       "503 5.5.1 Bad sequence of commands: send EHLO or HELO "
	       "first\r\n");
	ck_run(&st, "EXPN list\r\n", "502 5.5.1 Command not implemented\r\n");
	ck_run(&st, "VRFY bob\r\nVRFY\r\n",
	       "252 2.0.0 Cannot VRFY user; try RCPT to attempt delivery\r\n"
	       "501 5.5.4 Syntax: VRFY address\r\n");
}
END_TEST

START_TEST(starttls_flow)
{
	struct smtp_settings st = settings();
	struct smtp_session *s = smtp_session_new(&st, "192.0.2.7", "t1");
	smtp_session_start(s);
	free(take_output(s));
	/* "NOOP" pipelined after STARTTLS arrived in the clear: dropped */
	const char *in = "EHLO c.example\r\nSTARTTLS\r\nNOOP\r\n";
	ck_assert_uint_eq(smtp_session_feed(s, in, strlen(in)), strlen(in));
	char *out = take_output(s);
	ck_assert_ptr_nonnull(strstr(out, "250 STARTTLS\r\n"
					  "220 2.0.0 Ready to start TLS\r\n"));
	ck_assert_ptr_null(strstr(out, "2.0.0 OK"));
	free(out);
	ck_assert_int_eq(smtp_session_request(s), SMTP_REQ_STARTTLS);
	/* input while the handshake is pending is not taken */
	ck_assert_uint_eq(smtp_session_feed(s, "NOOP\r\n", 6), 0);
	smtp_session_tls_done(s, true, "TLSv1.3 TEST");
	ck_assert(smtp_session_tls_active(s));
	ck_assert_int_eq(smtp_session_request(s), SMTP_REQ_NONE);
	out = take_output(s);
	ck_assert_str_eq(out, ""); /* no second greeting (RFC 3207 4.2) */
	free(out);
	/* state forgotten: EHLO needed again, STARTTLS no longer offered */
	in = "STARTTLS\r\nEHLO c.example\r\nSTARTTLS\r\n";
	smtp_session_feed(s, in, strlen(in));
	out = take_output(s);
	ck_assert_str_eq(out,
			 "503 5.5.1 Bad sequence of commands: send EHLO or "
			 "HELO first\r\n"
			 "250-mx.example.test Hello c.example [192.0.2.7]\r\n"
			 "250-PIPELINING\r\n"
			 "250-SIZE 52428800\r\n"
			 "250-8BITMIME\r\n"
			 "250-ENHANCEDSTATUSCODES\r\n"
			 "250-SMTPUTF8\r\n"
			 "250-CHUNKING\r\n"
			 "250-BINARYMIME\r\n"
			 "250 DSN\r\n"
			 "503 5.5.1 TLS already active\r\n");
	free(out);
	smtp_session_free(&s);
}
END_TEST

START_TEST(starttls_refusals)
{
	struct smtp_settings st = settings();
	ck_run(&st, "EHLO c.example\r\nSTARTTLS now\r\n",
	       "250-mx.example.test Hello c.example [192.0.2.7]\r\n"
	       "250-PIPELINING\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n"
	       "250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n250-CHUNKING\r\n"
	       "250-BINARYMIME\r\n250-DSN\r\n250 STARTTLS\r\n"
	       "501 5.5.4 Syntax error: STARTTLS takes no parameters\r\n");
	st.starttls_offered = false;
	ck_run(&st, "HELO c.example\r\nSTARTTLS\r\n",
	       "250 mx.example.test Hello c.example [192.0.2.7]\r\n"
	       "502 5.5.1 STARTTLS not available\r\n");
	struct smtp_settings st2 = settings();
	struct smtp_session *s = smtp_session_new(&st2, "192.0.2.7", "t1");
	smtp_session_start(s);
	smtp_session_feed(s, "EHLO c.example\r\nSTARTTLS\r\n", 26);
	smtp_session_tls_done(s, false, NULL);
	ck_assert_int_eq(smtp_session_request(s), SMTP_REQ_CLOSE);
	smtp_session_free(&s);
}
END_TEST

/* The same script split at every byte gives the same replies. */
START_TEST(split_at_every_size)
{
	struct smtp_settings st = settings();
	const char *in = "EHLO c.example\r\nNOOP\r\nHELP\r\nFOO\r\n"
			 "HELO [IPv6:2001:db8::1]\r\nRSET\r\nQUIT\r\n";
	char *whole = run(&st, in);
	for (size_t step = 1; step < strlen(in); step++) {
		char *got = run_steps(&st, in, strlen(in), step, NULL);
		ck_assert_str_eq(got, whole);
		free(got);
	}
	free(whole);
}
END_TEST

START_TEST(line_length_limit)
{
	struct smtp_settings st = settings();
	char line[2048];
	/* exactly 512 octets with CRLF: accepted (RFC 5321 4.5.3.1.4) */
	memset(line, 'x', sizeof(line));
	memcpy(line, "NOOP ", 5);
	memcpy(line + 510, "\r\n", 3);
	ck_run(&st, line, "250 2.0.0 OK\r\n");
	/* 513: refused, and the next command still works */
	memset(line, 'x', sizeof(line));
	memcpy(line, "NOOP ", 5);
	memcpy(line + 511, "\r\nNOOP\r\n", 9);
	ck_run(&st, line,
	       "500 5.5.2 Line too long (at most 512 octets with CRLF)\r\n"
	       "250 2.0.0 OK\r\n");
	/* a megabyte without a line end is dropped as it comes */
	struct smtp_session *s = smtp_session_new(&st, "192.0.2.7", "t1");
	memset(line, 'x', sizeof(line));
	for (int i = 0; i < 512; i++) {
		smtp_session_feed(s, line, sizeof(line));
		ck_assert_uint_le(buf_len(&s->in), s->in.max);
	}
	smtp_session_feed(s, "\r\n", 2);
	char *out = take_output(s);
	ck_assert_str_eq(out, "500 5.5.2 Line too long (at most 512 octets "
			      "with CRLF)\r\n");
	free(out);
	smtp_session_free(&s);
}
END_TEST

START_TEST(bare_lf_cr_nul)
{
	struct smtp_settings st = settings();
	ck_run(&st, "NOOP\nNOOP\r\n",
	       "500 5.5.2 Bare LF received; lines end in CRLF\r\n"
	       "250 2.0.0 OK\r\n");
	ck_run(&st, "NO\rOP\r\n", "500 5.5.2 Bare CR in command line\r\n");
	const char nul[] = "NO\0OP\r\n";
	char *out = run_steps(&st, nul, sizeof(nul) - 1, 100, NULL);
	ck_assert_str_eq(out, "500 5.5.2 NUL byte in command line\r\n");
	free(out);
	st.bare_lf_accept = true;
	ck_run(&st, "NOOP\nNOOP\r\n", "250 2.0.0 OK\r\n250 2.0.0 OK\r\n");
}
END_TEST

START_TEST(too_many_errors)
{
	struct smtp_settings st = settings();
	enum smtp_request req;
	st.max_errors = 3;
	const char *in = "A\r\nB\r\nC\r\nNOOP\r\n";
	char *out = run_steps(&st, in, strlen(in), 100, &req);
	ck_assert_str_eq(out, "500 5.5.1 Command unrecognized\r\n"
			      "500 5.5.1 Command unrecognized\r\n"
			      "500 5.5.1 Command unrecognized\r\n"
			      "421 4.7.0 mx.example.test Too many errors, "
			      "closing connection\r\n");
	ck_assert_int_eq(req, SMTP_REQ_CLOSE);
	free(out);
}
END_TEST

/* RFC 5321 4.3.1, 3.1: bytes before the greeting are a protocol error */
START_TEST(input_before_greeting)
{
	struct smtp_settings st = settings();
	struct smtp_session *s = smtp_session_new(&st, "192.0.2.7", "t1");
	smtp_session_pregreet(s);
	char *out = take_output(s);
	ck_assert_str_eq(out, "554 5.5.1 mx.example.test Protocol error: "
			      "input before greeting\r\n");
	free(out);
	ck_assert_int_eq(smtp_session_request(s), SMTP_REQ_CLOSE);
	ck_assert_uint_eq(smtp_session_feed(s, "EHLO a\r\n", 8), 0);
	out = take_output(s);
	ck_assert_str_eq(out, "");
	free(out);
	smtp_session_free(&s);
}
END_TEST

static void feed_str(struct smtp_session *s, const char *in)
{
	ck_assert_uint_eq(smtp_session_feed(s, in, strlen(in)), strlen(in));
}

/* RFC 5321 4.5.3.2.5-7: message data has its own timeout */
START_TEST(timeout_kind_follows_state)
{
	struct smtp_settings st = settings();
	struct smtp_session *s = smtp_session_new(&st, "192.0.2.7", "t1");
	struct smtp_answer ok = {.ok = true, .queue_id = "Q1", .date = "D"};
	smtp_session_start(s);
	ck_assert_int_eq(smtp_session_timeout_kind(s), SMTP_TIMEOUT_COMMAND);
	feed_str(s, "EHLO c.example\r\nMAIL FROM:<a@example.org>\r\n"
		    "RCPT TO:<b@example.test>\r\n");
	ck_assert_int_eq(smtp_session_request(s), SMTP_REQ_RCPT);
	smtp_session_resume(s, &ok);
	ck_assert_int_eq(smtp_session_timeout_kind(s), SMTP_TIMEOUT_COMMAND);
	feed_str(s, "DATA\r\n");
	ck_assert_int_eq(smtp_session_request(s), SMTP_REQ_DATA_BEGIN);
	smtp_session_resume(s, &ok);
	ck_assert_int_eq(smtp_session_request(s), SMTP_REQ_NONE);
	ck_assert_int_eq(smtp_session_timeout_kind(s), SMTP_TIMEOUT_DATA);
	feed_str(s, "Subject: x\r\n\r\nhi\r\n.\r\n");
	ck_assert_int_eq(smtp_session_request(s), SMTP_REQ_DATA_END);
	smtp_session_resume(s, &ok);
	ck_assert_int_eq(smtp_session_timeout_kind(s), SMTP_TIMEOUT_COMMAND);
	char *out = take_output(s);
	ck_assert_ptr_nonnull(strstr(out, "354 "));
	ck_assert_ptr_nonnull(strstr(out, "250 2.0.0"));
	free(out);
	smtp_session_free(&s);
}
END_TEST

START_TEST(shutdown_and_timeout)
{
	struct smtp_settings st = settings();
	struct smtp_session *s = smtp_session_new(&st, "192.0.2.7", "t1");
	smtp_session_shutdown(s);
	smtp_session_shutdown(s); /* once only */
	char *out = take_output(s);
	ck_assert_str_eq(out, "421 4.3.2 mx.example.test Service shutting "
			      "down\r\n");
	free(out);
	ck_assert_int_eq(smtp_session_request(s), SMTP_REQ_CLOSE);
	smtp_session_free(&s);
	s = smtp_session_new(&st, "192.0.2.7", "t1");
	smtp_session_timeout(s);
	out = take_output(s);
	ck_assert_str_eq(out, "421 4.4.2 mx.example.test Timeout, closing "
			      "connection\r\n");
	free(out);
	smtp_session_free(&s);
}
END_TEST

START_TEST(helo_syntax)
{
	static const char *good[] = {
		"a",	       "example.test", "a-b.c1.example",
		"[127.0.0.1]", "[IPv6:::1]",   "[IPv6:2001:db8::ffff:1.2.3.4]",
		"[x-tag:abc]"};
	static const char *bad[] = {
		"",	    ".",	   "a.",	  ".a",
		"a..b",	    "-a",	   "a-",	  "a_b",
		"[1.2.3]",  "[1.2.3.4.5]", "[]",	  "[IPv6:1.2.3.4]",
		"[x-tag:]", "[:x]",	   "[x-tag:a]b]", "127.0.0.1]"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(smtp_syntax_helo_arg(good[i], strlen(good[i])),
			      "%s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!smtp_syntax_helo_arg(bad[i], strlen(bad[i])),
			      "%s", bad[i]);
	/* a NUL inside a literal (strlen would stop at it) */
	ck_assert(!smtp_syntax_helo_arg("[IPv6:::1\0x]", 12));
	char label[70];
	memset(label, 'a', sizeof(label));
	ck_assert(smtp_syntax_domain(label, 63));
	ck_assert(!smtp_syntax_domain(label, 64));
	char longname[300];
	for (size_t i = 0; i < sizeof(longname); i++)
		longname[i] = i % 2 ? '.' : 'a';
	ck_assert(smtp_syntax_domain(longname, 255));
	ck_assert(!smtp_syntax_domain(longname, 257));
}
END_TEST

static Suite *smtp_session_suite(void)
{
	Suite *s = suite_create("smtp_session");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, greeting_has_no_enhanced_code);
	tcase_add_test(tc, ehlo_lists_extensions);
	tcase_add_test(tc, helo_plain_reply);
	tcase_add_test(tc, ehlo_bad_arguments);
	tcase_add_test(tc, noop_rset_help_quit);
	tcase_add_test(tc, unknown_and_unimplemented);
	tcase_add_test(tc, starttls_flow);
	tcase_add_test(tc, starttls_refusals);
	tcase_add_test(tc, split_at_every_size);
	tcase_add_test(tc, line_length_limit);
	tcase_add_test(tc, bare_lf_cr_nul);
	tcase_add_test(tc, too_many_errors);
	tcase_add_test(tc, shutdown_and_timeout);
	tcase_add_test(tc, input_before_greeting);
	tcase_add_test(tc, timeout_kind_follows_state);
	tcase_add_test(tc, helo_syntax);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	log_setup(LOGL_ERROR, LOG_TO_STDERR, "test");
	SRunner *sr = srunner_create(smtp_session_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
