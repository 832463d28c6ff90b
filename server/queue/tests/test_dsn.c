/*
 * test_dsn.c - the delivery status notification builder (dsn.h): the
 * exact bytes of the header and of the message/delivery-status part
 * (RFC 3464 2.1-2.3), the third part by RET and by what is reported
 * (RFC 3461 6.2), ENVID and ORCPT decoded from xtext (RFC 3461 4, 6.3)
 * with malformed xtext left as sent, the header of a message cut short,
 * and a boundary that the returned message cannot contain.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "queue/dsn.h"
#include "smtp/smtp_params.h"

#define T0 1800000000 /* Fri, 15 Jan 2027 08:00:00 +0000 */

static const char MSG[] = "Received: from c.example\r\n"
			  "Subject: hello\r\n"
			  "\r\n"
			  "the body\r\n";

static struct dsn_rcpt failed = {.addr = "carol@example.test",
				 .orcpt = "rfc822;C+2Bx@example.test",
				 .action = DSN_FAILED,
				 .status = "5.1.1",
				 .code = 550,
				 .text = "User unknown",
				 .last_attempt = T0 + 60};

static void report(struct dsn_report *r, const struct dsn_rcpt *v, size_t n)
{
	memset(r, 0, sizeof(*r));
	r->hostname = "mx.example.test";
	r->id = "ABCN1";
	r->orig_id = "ABC";
	r->sender = "alice@example.test";
	r->arrived = T0;
	r->now = T0 + 120;
	r->rcpt = v;
	r->n_rcpt = n;
	r->content = MSG;
	r->content_len = strlen(MSG);
	r->content_whole = true;
}

static char *build(const struct dsn_report *r)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	ck_assert_int_eq(dsn_build(r, &b), 0);
	char *s = strndup((const char *)buf_data(&b), buf_len(&b));
	buf_free(&b);
	ck_assert_ptr_nonnull(s);
	return s;
}

static void setup(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
}

START_TEST(header_and_status_bytes)
{
	struct dsn_report r;
	report(&r, &failed, 1);
	r.envid = "QQ+2B1+3Dx";
	char *s = build(&r);
	static const char head[] =
		"From: Mail Delivery System <MAILER-DAEMON@mx.example.test>\r\n"
		"To: <alice@example.test>\r\n"
		"Subject: Undelivered Mail Returned to Sender\r\n"
		"Date: Fri, 15 Jan 2027 08:02:00 +0000\r\n"
		"Message-ID: <ABCN1@mx.example.test>\r\n"
		"Auto-Submitted: auto-replied\r\n"
		"MIME-Version: 1.0\r\n"
		"Content-Type: multipart/report; "
		"report-type=delivery-status;\r\n"
		"\tboundary=\"ABCN1.0/mx.example.test\"\r\n"
		"\r\n";
	ck_assert_msg(strncmp(s, head, strlen(head)) == 0, "%s", s);
	static const char status[] =
		"\r\n--ABCN1.0/mx.example.test\r\n"
		"Content-Description: Delivery report\r\n"
		"Content-Type: message/delivery-status\r\n"
		"\r\n"
		"Reporting-MTA: dns; mx.example.test\r\n"
		"Original-Envelope-Id: QQ+1=x\r\n"
		"Arrival-Date: Fri, 15 Jan 2027 08:00:00 +0000\r\n"
		"\r\n"
		"Original-Recipient: rfc822;C+x@example.test\r\n"
		"Final-Recipient: rfc822; carol@example.test\r\n"
		"Action: failed\r\n"
		"Status: 5.1.1\r\n"
		"Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n"
		"Last-Attempt-Date: Fri, 15 Jan 2027 08:01:00 +0000\r\n"
		"\r\n--ABCN1.0/mx.example.test\r\n";
	ck_assert_msg(strstr(s, status) != NULL, "%s", s);
	/* the first part: text/plain naming the recipient and the reply */
	ck_assert_ptr_nonnull(strstr(
		s, "\r\n--ABCN1.0/mx.example.test\r\n"
		   "Content-Description: Notification\r\n"
		   "Content-Type: text/plain; charset=us-ascii\r\n\r\n"));
	ck_assert_ptr_nonnull(strstr(
		s, "  <carol@example.test>: 550 5.1.1 User unknown\r\n"));
	/* RET not given, a failure: the whole message, then the end */
	static const char third[] =
		"\r\n--ABCN1.0/mx.example.test\r\n"
		"Content-Description: Undelivered Message\r\n"
		"Content-Type: message/rfc822\r\n"
		"\r\n"
		"Received: from c.example\r\n"
		"Subject: hello\r\n"
		"\r\n"
		"the body\r\n"
		"\r\n--ABCN1.0/mx.example.test--\r\n";
	size_t n = strlen(s);
	ck_assert_msg(n > strlen(third) &&
			      strcmp(s + n - strlen(third), third) == 0,
		      "%s", s);
	free(s);
}
END_TEST

/* The third part for a report r: its content type and bytes. */
static void third_part(const struct dsn_report *r, const char *type,
		       const char *bytes)
{
	char *s = build(r);
	char want[512];
	snprintf(
		want, sizeof(want),
		"Content-Type: %s\r\n\r\n%s\r\n--ABCN1.0/mx.example.test--\r\n",
		type, bytes);
	size_t n = strlen(s), w = strlen(want);
	ck_assert_msg(n > w && strcmp(s + n - w, want) == 0, "%s", s);
	free(s);
}

START_TEST(ret_decides_the_third_part)
{
	static const char hdrs[] =
		"Received: from c.example\r\nSubject: hello\r\n\r\n";
	struct dsn_report r;
	report(&r, &failed, 1);
	r.ret = 'F';
	ck_assert(dsn_returns_full(&r));
	third_part(&r, "message/rfc822", MSG);
	r.ret = 'H'; /* RET=HDRS */
	ck_assert(!dsn_returns_full(&r));
	third_part(&r, "text/rfc822-headers", hdrs);
	r.ret = 'F'; /* too big to return whole: the header only */
	r.content_whole = false;
	r.content_len = strlen(MSG) - 3;
	third_part(&r, "text/rfc822-headers", hdrs);
	r.content_whole = true; /* binary content is never returned whole */
	r.content_len = strlen(MSG);
	r.content_binary = true;
	third_part(&r, "text/rfc822-headers", hdrs);
	/* no failure in the notice: the header only, even with RET=FULL */
	struct dsn_rcpt ok = {.addr = "bob@example.test",
			      .action = DSN_DELIVERED,
			      .status = "2.0.0"};
	report(&r, &ok, 1);
	r.ret = 'F';
	ck_assert(!dsn_returns_full(&r));
	third_part(&r, "text/rfc822-headers", hdrs);
}
END_TEST

START_TEST(eight_bit_marked)
{
	struct dsn_report r;
	report(&r, &failed, 1);
	r.content_8bit = true;
	char *s = build(&r);
	ck_assert_ptr_nonnull(strstr(s, "\tboundary=\"ABCN1.0/mx.example.test\""
					"\r\nContent-Transfer-Encoding: 8bit"
					"\r\n\r\n"));
	ck_assert_ptr_nonnull(strstr(s, "Content-Type: message/rfc822\r\n"
					"Content-Transfer-Encoding: 8bit\r\n"));
	free(s);
}
END_TEST

START_TEST(several_recipients_and_delayed)
{
	struct dsn_rcpt v[2] = {failed,
				{.addr = "dave@example.test",
				 .action = DSN_DELAYED,
				 .status = "4.3.0",
				 .code = 451,
				 .text = "Mailbox temporarily unavailable",
				 .last_attempt = T0 + 60,
				 .retry_until = T0 + 86400}};
	struct dsn_report r;
	report(&r, v, 2);
	r.hostname = "mx"; /* not fully qualified: not "dns" (3461 6.3 b) */
	char *s = build(&r);
	ck_assert_ptr_nonnull(strstr(s, "Reporting-MTA: x-local-hostname; mx"
					"\r\nArrival-Date: "));
	ck_assert_ptr_null(strstr(s, "Original-Envelope-Id"));
	ck_assert_ptr_nonnull(
		strstr(s, "Last-Attempt-Date: Fri, 15 Jan 2027 08:01:00 +0000"
			  "\r\n\r\nFinal-Recipient: rfc822; dave@example.test"
			  "\r\nAction: delayed\r\nStatus: 4.3.0\r\n"
			  "Diagnostic-Code: smtp; 451 4.3.0 Mailbox "
			  "temporarily unavailable\r\n"
			  "Last-Attempt-Date: Fri, 15 Jan 2027 08:01:00 +0000"
			  "\r\nWill-Retry-Until: Sat, 16 Jan 2027 08:00:00 "
			  "+0000\r\n\r\n--"));
	/* Will-Retry-Until only in the delayed group (RFC 3464 2.3.9) */
	const char *w = strstr(s, "Will-Retry-Until:");
	ck_assert_ptr_nonnull(w);
	ck_assert_ptr_null(strstr(w + 1, "Will-Retry-Until:"));
	ck_assert(strstr(s, "Action: delayed") < w);
	ck_assert_ptr_nonnull(strstr(s, "Subject: Undelivered Mail"));
	free(s);
}
END_TEST

START_TEST(xtext_fields)
{
	char out[64];
	ck_assert(dsn_xtext_field("a+2Bb+3D", out, sizeof(out)));
	ck_assert_str_eq(out, "a+b=");
	ck_assert(dsn_xtext_field("", out, sizeof(out)));
	ck_assert_str_eq(out, "");
	/* malformed hexchars (RFC 3461 4: "+" and two upper-case hex
	 * digits) are not decoded: shown as sent */
	static const char *const bad[] = {"a+2b", "a+",	 "a+4", "a+ZZ",
					  "a+G0", "a=b", "a b"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len;
		char dec[64];
		ck_assert_int_ne(smtp_xtext_decode(bad[i], strlen(bad[i]),
						   false, dec, sizeof(dec),
						   &len),
				 SMTP_PARAM_OK);
		ck_assert(!dsn_xtext_field(bad[i], out, sizeof(out)));
		ck_assert_str_eq(out, bad[i]);
	}
	/* well-formed, but not printable: not decoded (a field is one
	 * line of graphic ASCII) */
	ck_assert(!dsn_xtext_field("a+0D+0Ab", out, sizeof(out)));
	ck_assert_str_eq(out, "a+0D+0Ab");
	ck_assert(!dsn_xtext_field("a+00b", out, sizeof(out)));
	ck_assert_str_eq(out, "a+00b");
	/* as sent, octets outside graphic ASCII become '?' */
	ck_assert(!dsn_xtext_field("a\x01\xc3", out, sizeof(out)));
	ck_assert_str_eq(out, "a??");
	/* the ORCPT of type utf-8 (RFC 6533) is repeated as sent */
	struct dsn_rcpt u = failed;
	u.orcpt = "utf-8;j\\x{E9}r\\x{F4}me@example.test";
	struct dsn_report r;
	report(&r, &u, 1);
	char *s = build(&r);
	ck_assert_ptr_nonnull(strstr(s, "Original-Recipient: utf-8;j\\x{E9}r"
					"\\x{F4}me@example.test\r\n"));
	free(s);
}
END_TEST

START_TEST(header_len)
{
	ck_assert_uint_eq(dsn_header_len(MSG, strlen(MSG), true),
			  strlen(MSG) - strlen("the body\r\n"));
	ck_assert_uint_eq(dsn_header_len("A: b\n\nbody\n", 11, true), 6);
	ck_assert_uint_eq(dsn_header_len("A: b\r\nC: d\r\n", 12, true), 12);
	/* cut short, no empty line: up to the last whole line */
	ck_assert_uint_eq(dsn_header_len("A: b\r\nC: d", 10, false), 6);
	ck_assert_uint_eq(dsn_header_len("A: b", 4, false), 0);
	ck_assert_uint_eq(dsn_header_len("", 0, true), 0);
}
END_TEST

START_TEST(boundary_avoids_content)
{
	static const char evil[] = "Subject: x\r\n\r\n"
				   "--ABCN1.0/mx.example.test\r\n"
				   "--ABCN1.1/mx.example.test--\r\n";
	struct dsn_report r;
	report(&r, &failed, 1);
	r.content = evil;
	r.content_len = strlen(evil);
	char *s = build(&r);
	ck_assert_ptr_nonnull(
		strstr(s, "boundary=\"ABCN1.2/mx.example.test\""));
	ck_assert_ptr_nonnull(strstr(s, "\r\n--ABCN1.2/mx.example.test--\r\n"));
	free(s);
}
END_TEST

START_TEST(limit_reached)
{
	struct dsn_report r;
	struct buf b;
	report(&r, &failed, 1);
	buf_init(&b, 200);
	ck_assert_int_eq(dsn_build(&r, &b), -1);
	buf_free(&b);
}
END_TEST

static Suite *dsn_suite(void)
{
	Suite *s = suite_create("dsn");
	TCase *tc = tcase_create("build");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, header_and_status_bytes);
	tcase_add_test(tc, ret_decides_the_third_part);
	tcase_add_test(tc, eight_bit_marked);
	tcase_add_test(tc, several_recipients_and_delayed);
	tcase_add_test(tc, xtext_fields);
	tcase_add_test(tc, header_len);
	tcase_add_test(tc, boundary_avoids_content);
	tcase_add_test(tc, limit_reached);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(dsn_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed_n = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed_n == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
