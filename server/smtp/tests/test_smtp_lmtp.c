/*
 * test_smtp_lmtp.c - the SMTP engine in LMTP mode (RFC 2033): the
 * greeting and LHLO (4.1; HELO and EHLO get 500), DATA without a
 * successful RCPT gets 503 (4.2), one reply per successful RCPT after the
 * final dot, in RCPT order and also for a repeated address (4.2), a
 * failed message failing for every recipient, pipelining (5), HELP
 * listing LHLO only in LMTP, and the Received header's "with LMTP" (RFC
 * 3848). Input is split at every size; a simulated host answers.
 */
#include <check.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/smtp_internal.h"

/* A host: RCPT to "nobody" refused; delivery to "full" fails for now. */
struct sim {
	char msg[8192];
	size_t len;
	size_t delivered[16];
	size_t n_delivered;
};

static void sim_take(struct smtp_session *s, struct sim *h)
{
	struct buf *m = smtp_session_message(s);
	ck_assert_uint_lt(h->len + buf_len(m), sizeof(h->msg));
	memcpy(h->msg + h->len, buf_data(m), buf_len(m));
	h->len += buf_len(m);
	buf_consume(m, buf_len(m));
}

static struct smtp_answer deliver(struct smtp_session *s, struct sim *h)
{
	size_t i = smtp_session_lmtp_index(s);
	const struct smtp_rcpt *r = &smtp_session_envelope(s)->rcpt[i];
	ck_assert_uint_lt(h->n_delivered, 16);
	h->delivered[h->n_delivered++] = i;
	if (strcmp(r->local, "full") == 0)
		return (struct smtp_answer){.code = 452,
					    .enhanced = "4.2.2",
					    .text = "Mailbox full"};
	return (struct smtp_answer){.ok = true};
}

static void sim_answer(struct smtp_session *s, struct sim *h)
{
	for (;;) {
		struct smtp_answer a = {.ok = true};
		switch (smtp_session_request(s)) {
		case SMTP_REQ_RCPT:
			if (strcmp(smtp_session_pending_rcpt(s)->local,
				   "nobody") == 0)
				a = (struct smtp_answer){
					.code = 550,
					.enhanced = "5.1.1",
					.text = "User unknown"};
			break;
		case SMTP_REQ_DATA_BEGIN:
			a.queue_id = "Q1";
			a.date = "Mon, 23 Nov 2026 18:00:00 +0000";
			break;
		case SMTP_REQ_DATA_CHUNK:
		case SMTP_REQ_DATA_END:
			sim_take(s, h);
			break;
		case SMTP_REQ_LMTP_RCPT:
			a = deliver(s, h);
			break;
		default:
			return;
		}
		smtp_session_resume(s, &a);
	}
}

static char *run(const char *in, size_t piece, struct sim *h)
{
	struct smtp_settings st;
	smtp_settings_defaults(&st);
	st.hostname = "mx.example.test";
	st.mode = SMTP_MODE_LMTP;
	st.max_errors = 100;
	st.message_max = 2000;
	struct smtp_session *s = smtp_session_new(&st, "192.0.2.7", "t");
	size_t len = strlen(in);
	memset(h, 0, sizeof(*h));
	smtp_session_start(s);
	for (size_t off = 0; off < len;) {
		size_t n = len - off < piece ? len - off : piece;
		off += smtp_session_feed(s, in + off, n);
		sim_answer(s, h);
		if (smtp_session_request(s) == SMTP_REQ_CLOSE)
			break;
	}
	struct buf *o = smtp_session_output(s);
	char *r = strndup((const char *)buf_data(o), buf_len(o));
	smtp_session_free(&s);
	return r;
}

#define LHLO_REP                                                      \
	"250-mx.example.test Hello c.example [192.0.2.7]\r\n"         \
	"250-PIPELINING\r\n250-SIZE 2000\r\n250-8BITMIME\r\n"         \
	"250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n250-CHUNKING\r\n" \
	"250-BINARYMIME\r\n250 DSN\r\n"

static const char *const multi_in =
	"LHLO c.example\r\nMAIL FROM:<a@b.example>\r\n"
	"RCPT TO:<alice@example.test>\r\nRCPT TO:<nobody@example.test>\r\n"
	"RCPT TO:<full@example.test>\r\nRCPT TO:<alice@example.test>\r\n"
	"DATA\r\nSubject: x\r\n\r\nbody\r\n.\r\nNOOP\r\nQUIT\r\n";

static const char *const multi_out =
	"220 mx.example.test LMTP Quill\r\n" LHLO_REP
	"250 2.1.0 Sender OK\r\n250 2.1.5 Recipient OK\r\n"
	"550 5.1.1 User unknown\r\n250 2.1.5 Recipient OK\r\n"
	"250 2.1.5 Recipient OK\r\n"
	"354 End data with <CR><LF>.<CR><LF>\r\n"
	"250 2.1.5 <alice@example.test> Delivered\r\n"
	"452 4.2.2 <full@example.test> Mailbox full\r\n"
	"250 2.1.5 <alice@example.test> Delivered\r\n"
	"250 2.0.0 OK\r\n"
	"221 2.0.0 mx.example.test Service closing transmission channel\r\n";

START_TEST(one_reply_per_rcpt_in_order)
{
	/* pipelined whole, and split at every size */
	for (size_t piece = 1; piece <= strlen(multi_in); piece++) {
		struct sim h;
		char *out = run(multi_in, piece, &h);
		ck_assert_msg(strcmp(out, multi_out) == 0, "piece %zu:\n%s",
			      piece, out);
		ck_assert_uint_eq(h.n_delivered, 3);
		ck_assert_uint_eq(h.delivered[0], 0);
		ck_assert_uint_eq(h.delivered[1], 1);
		ck_assert_uint_eq(h.delivered[2], 2);
		h.msg[h.len] = '\0';
		ck_assert_msg(strstr(h.msg, "\tby mx.example.test (Quill) with "
					    "LMTP id Q1;\r\n") != NULL,
			      "%s", h.msg);
		free(out);
	}
}
END_TEST

/* BDAT LAST ends the message as the dot does: a reply per recipient. */
START_TEST(bdat_last_one_reply_per_rcpt)
{
	static const char in[] = "LHLO c.example\r\nMAIL FROM:<a@b.example>\r\n"
				 "RCPT TO:<alice@example.test>\r\nRCPT "
				 "TO:<full@example.test>\r\n"
				 "BDAT 3\r\nab\rBDAT 2 LAST\r\n\ncNOOP\r\n";
	for (size_t piece = 1; piece <= strlen(in); piece++) {
		struct sim h;
		char *out = run(in, piece, &h);
		const char *p = strstr(out, "250 DSN\r\n");
		ck_assert_ptr_nonnull(p);
		ck_assert_str_eq(p + 9, "250 2.1.0 Sender OK\r\n"
					"250 2.1.5 Recipient OK\r\n"
					"250 2.1.5 Recipient OK\r\n"
					"250 2.0.0 3 octets received\r\n"
					"250 2.1.5 <alice@example.test> "
					"Delivered\r\n"
					"452 4.2.2 <full@example.test> Mailbox "
					"full\r\n"
					"250 2.0.0 OK\r\n");
		ck_assert_uint_eq(h.n_delivered, 2);
		free(out);
	}
}
END_TEST

START_TEST(helo_ehlo_refused)
{
	struct sim h;
	char *out = run("HELO c.example\r\nEHLO c.example\r\nMAIL FROM:<>\r\n"
			"HELP\r\nHELP EHLO\r\nHELP LHLO\r\n",
			1000, &h);
	ck_assert_str_eq(out, "220 mx.example.test LMTP Quill\r\n"
			      "500 5.5.1 This is LMTP: use LHLO\r\n"
			      "500 5.5.1 This is LMTP: use LHLO\r\n"
			      "503 5.5.1 Bad sequence of commands: send LHLO "
			      "first\r\n"
			      "214-2.0.0 Commands: LHLO RSET NOOP HELP QUIT "
			      "MAIL RCPT DATA BDAT VRFY\r\n"
			      "214 2.0.0 See RFC 5321; end of HELP\r\n"
			      "504 5.5.1 HELP topic not recognized\r\n"
			      "214 2.0.0 LHLO is supported\r\n");
	free(out);
}
END_TEST

START_TEST(data_without_rcpt_503)
{
	struct sim h;
	char *out = run("LHLO c.example\r\nMAIL FROM:<>\r\n"
			"RCPT TO:<nobody@example.test>\r\nDATA\r\nRSET\r\n",
			1000, &h);
	const char *p = strstr(out, "250 DSN\r\n");
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p + 9, "250 2.1.0 Sender OK\r\n"
				"550 5.1.1 User unknown\r\n"
				"503 5.5.1 No valid recipients\r\n"
				"250 2.0.0 OK\r\n");
	ck_assert_uint_eq(h.n_delivered, 0);
	free(out);
}
END_TEST

START_TEST(bdat_without_rcpt_503)
{
	struct sim h;
	char *out = run("LHLO c.example\r\nMAIL FROM:<>\r\n"
			"RCPT TO:<nobody@example.test>\r\n"
			"BDAT 5 LAST\r\nhello"
			"RSET\r\n",
			1000, &h);
	const char *p = strstr(out, "250 DSN\r\n");
	ck_assert_ptr_nonnull(p);
	/* the chunk is read and dropped: "hello" never runs as a command */
	ck_assert_str_eq(p + 9, "250 2.1.0 Sender OK\r\n"
				"550 5.1.1 User unknown\r\n"
				"503 5.5.1 No valid recipients\r\n"
				"250 2.0.0 OK\r\n");
	ck_assert_uint_eq(h.n_delivered, 0);
	free(out);
}
END_TEST

START_TEST(failed_message_fails_each_rcpt)
{
	char in[4096];
	struct sim h;
	int n = snprintf(in, sizeof(in),
			 "LHLO c.example\r\nMAIL FROM:<>\r\n"
			 "RCPT TO:<alice@example.test>\r\n"
			 "RCPT TO:<bob@example.test>\r\nDATA\r\n");
	for (int i = 0; i < 30; i++)
		n += snprintf(in + n, sizeof(in) - (size_t)n, "%0100d\r\n", i);
	snprintf(in + n, sizeof(in) - (size_t)n, ".\r\nQUIT\r\n");
	char *out = run(in, 4096, &h);
	const char *p = strstr(out, "354 ");
	ck_assert_ptr_nonnull(p);
	p = strchr(p, '\n') + 1;
	ck_assert_str_eq(p, "552 5.3.4 Message size exceeds fixed maximum "
			    "message size\r\n"
			    "552 5.3.4 Message size exceeds fixed maximum "
			    "message size\r\n"
			    "221 2.0.0 mx.example.test Service closing "
			    "transmission channel\r\n");
	ck_assert_uint_eq(h.n_delivered, 0);
	free(out);
}
END_TEST

START_TEST(lhlo_not_in_smtp)
{
	struct smtp_settings st;
	smtp_settings_defaults(&st);
	st.hostname = "mx.example.test";
	struct smtp_session *s = smtp_session_new(&st, "192.0.2.7", "t");
	smtp_session_start(s);
	smtp_session_feed(s, "LHLO c.example\r\n", 16);
	struct buf *o = smtp_session_output(s);
	char *out = strndup((const char *)buf_data(o), buf_len(o));
	ck_assert_str_eq(out, "220 mx.example.test ESMTP Quill\r\n"
			      "500 5.5.1 Command unrecognized\r\n");
	free(out);
	smtp_session_free(&s);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("smtp_lmtp");
	TCase *tc = tcase_create("lmtp");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, one_reply_per_rcpt_in_order);
	tcase_add_test(tc, helo_ehlo_refused);
	tcase_add_test(tc, bdat_last_one_reply_per_rcpt);
	tcase_add_test(tc, data_without_rcpt_503);
	tcase_add_test(tc, bdat_without_rcpt_503);
	tcase_add_test(tc, failed_message_fails_each_rcpt);
	tcase_add_test(tc, lhlo_not_in_smtp);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
