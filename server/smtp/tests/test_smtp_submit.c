/*
 * test_smtp_submit.c - what an authenticated session's mail gets (RFC
 * 6409, RFC 4954 5 and 7): the sender must be the user's address (550
 * 5.7.1), AUTH= on MAIL is accepted and not trusted, the Received field
 * says ESMTPA / ESMTPSA and names the user, and a message without Date or
 * Message-ID gets them at the top of its header section (or at its end
 * when the header is longer than one chunk), split at every byte.
 */
#include "auth_sim.h"

#include "log.h"

#define LOGIN	EHLO_IN "AUTH PLAIN " PLAIN_ALICE "\r\n"
#define LOGIN_R EHLO_OUT AUTH_OK

START_TEST(sender_must_be_the_user)
{
	struct sim h;
	sim_init(&h);
	struct smtp_settings st = sim_settings();
	ck_sim(&st, &h,
	       LOGIN "MAIL FROM:<bob@example.test>\r\n"
		     "MAIL FROM:<alice@other.example>\r\n"
		     "MAIL FROM:<Alice@example.test>\r\n"
		     "MAIL FROM:<alice@[192.0.2.1]>\r\n"
		     "MAIL FROM:<alice@EXAMPLE.test>\r\nRSET\r\n"
		     "MAIL FROM:<alice@mx.example.test>\r\nRSET\r\n"
		     "MAIL FROM:<\"alice\"@example.test>\r\nRSET\r\n"
		     "MAIL FROM:<>\r\n",
	       LOGIN_R "550 5.7.1 Sender address not allowed for user alice\r\n"
		       "550 5.7.1 Sender address not allowed for user alice\r\n"
		       "550 5.7.1 Sender address not allowed for user alice\r\n"
		       "550 5.7.1 Sender address not allowed for user alice\r\n"
		       "250 2.1.0 Sender OK\r\n250 2.0.0 OK\r\n"
		       "250 2.1.0 Sender OK\r\n250 2.0.0 OK\r\n"
		       "250 2.1.0 Sender OK\r\n250 2.0.0 OK\r\n"
		       "250 2.1.0 Sender OK\r\n");
	st.sender_check = false;
	ck_sim(&st, &h, LOGIN "MAIL FROM:<bob@example.test>\r\n",
	       LOGIN_R "250 2.1.0 Sender OK\r\n");
	/* before AUTH on a port 25 listener: no check */
	st.sender_check = true;
	st.mode = SMTP_MODE_MX;
	ck_sim(&st, &h, EHLO_IN "MAIL FROM:<bob@example.test>\r\n",
	       EHLO_OUT "250 2.1.0 Sender OK\r\n");
	sim_free(&h);
}
END_TEST

/* RFC 4954 5: AUTH= accepted, before AUTH too; a bad one is 501. */
START_TEST(auth_parameter)
{
	struct sim h;
	sim_init(&h);
	struct smtp_settings st = sim_settings();
	ck_sim(&st, &h,
	       LOGIN "MAIL FROM:<alice@example.test> AUTH=<>\r\nRSET\r\n"
		     "MAIL FROM:<alice@example.test> "
		     "auth=e+3Dmc2@example.com\r\nRSET\r\n"
		     "MAIL FROM:<alice@example.test> AUTH=nobody\r\n"
		     "MAIL FROM:<alice@example.test> AUTH\r\n",
	       LOGIN_R "250 2.1.0 Sender OK\r\n250 2.0.0 OK\r\n"
		       "250 2.1.0 Sender OK\r\n250 2.0.0 OK\r\n"
		       "501 5.5.4 Invalid AUTH value\r\n"
		       "501 5.5.4 Invalid AUTH value\r\n");
	st.mode = SMTP_MODE_MX;
	ck_sim(&st, &h, EHLO_IN "MAIL FROM:<x@y.example> AUTH=<>\r\n",
	       EHLO_OUT "250 2.1.0 Sender OK\r\n");
	st.auth_offered = false; /* not offered: not recognised */
	char *out = sim_run(&st, &h,
			    "EHLO c\r\nMAIL FROM:<x@y.example> "
			    "AUTH=<>\r\n");
	ck_assert_ptr_nonnull(strstr(out, "\r\n555 5.5.4 "));
	free(out);
	sim_free(&h);
}
END_TEST

/* Send a message as alice and return what was spooled. */
static char *submit(const struct smtp_settings *st, struct sim *h,
		    const char *pre, const char *message)
{
	char in[1 << 16];
	snprintf(in, sizeof(in),
		 "%sMAIL FROM:<alice@example.test>\r\n"
		 "RCPT TO:<bob@example.test>\r\nDATA\r\n%s.\r\n",
		 pre, message);
	char *out = sim_run(st, h, in);
	ck_assert_msg(strstr(out, "250 2.0.0 OK queued as Q1\r\n") != NULL,
		      "%s", out);
	free(out);
	return strdup(h->msg);
}

#define RECEIVED_A                                           \
	"Received: from c.example ([192.0.2.7])\r\n"         \
	"\tby mx.example.test (Quill) with ESMTPA id Q1\r\n" \
	"\t(authenticated user alice)\r\n"                   \
	"\tfor <bob@example.test>;\r\n\t" SIM_DATE "\r\n"
#define ADDED "Date: " SIM_DATE "\r\nMessage-ID: <Q1.t@mx.example.test>\r\n"

START_TEST(received_names_the_user)
{
	struct sim h;
	sim_init(&h);
	struct smtp_settings st = sim_settings();
	st.add_headers = false;
	char *m = submit(&st, &h, LOGIN, "Subject: x\r\n\r\nhi\r\n");
	ck_assert_str_eq(m, RECEIVED_A "Subject: x\r\n\r\nhi\r\n");
	free(m);
	/* under TLS: ESMTPSA (RFC 3848) */
	st.tls_at_start = true;
	m = submit(&st, &h, LOGIN, "Subject: x\r\n\r\nhi\r\n");
	ck_assert_ptr_nonnull(strstr(m, "with ESMTPSA id Q1\r\n"));
	free(m);
	/* a user name with comment specials is quoted */
	st.sender_check = false;
	m = submit(&st, &h, EHLO_IN "AUTH PLAIN AG9kZCh1c2VyKQBwdw==\r\n",
		   "x\r\n");
	ck_assert_ptr_nonnull(strstr(m, "(authenticated user odd\\(user\\))"));
	free(m);
	sim_free(&h);
}
END_TEST

START_TEST(missing_fields_added_at_the_top)
{
	struct sim h;
	sim_init(&h);
	struct smtp_settings st = sim_settings();
	char *m = submit(&st, &h, LOGIN, "Subject: x\r\n\r\nhi\r\n");
	ck_assert_str_eq(m, RECEIVED_A ADDED "Subject: x\r\n\r\nhi\r\n");
	free(m);
	/* present (any case, folded, blanks before the colon): kept */
	m = submit(&st, &h, LOGIN,
		   "date : Tue, 1 Dec 2026 10:00:00 +0000\r\n"
		   "MESSAGE-id:\r\n <a@b>\r\n\r\nhi\r\n");
	ck_assert_str_eq(m,
			 RECEIVED_A "date : Tue, 1 Dec 2026 10:00:00 +0000\r\n"
				    "MESSAGE-id:\r\n <a@b>\r\n\r\nhi\r\n");
	free(m);
	/* one of them */
	m = submit(&st, &h, LOGIN, "Message-ID: <a@b>\r\n\r\nDate: x\r\n");
	ck_assert_str_eq(m, RECEIVED_A "Date: " SIM_DATE "\r\n"
				       "Message-ID: <a@b>\r\n\r\nDate: x\r\n");
	free(m);
	/* no header, no body, a body without the empty line */
	m = submit(&st, &h, LOGIN, "\r\nbody\r\n");
	ck_assert_str_eq(m, RECEIVED_A ADDED "\r\nbody\r\n");
	free(m);
	m = submit(&st, &h, LOGIN, "");
	ck_assert_str_eq(m, RECEIVED_A ADDED);
	free(m);
	m = submit(&st, &h, LOGIN, "Subject: a\r\nnot a header\r\n");
	ck_assert_str_eq(m, RECEIVED_A ADDED "Subject: a\r\nnot a header\r\n");
	free(m);
	/* "Dates:" and "X-Message-ID:" are other fields */
	m = submit(&st, &h, LOGIN, "Dates: 1\r\nX-Message-ID: 2\r\n\r\n");
	ck_assert_str_eq(m, RECEIVED_A ADDED "Dates: 1\r\nX-Message-ID: "
					     "2\r\n\r\n");
	free(m);
	/* turned off, or not authenticated: untouched */
	st.add_headers = false;
	m = submit(&st, &h, LOGIN, "Subject: x\r\n\r\nhi\r\n");
	ck_assert_str_eq(m, RECEIVED_A "Subject: x\r\n\r\nhi\r\n");
	free(m);
	st.add_headers = true;
	st.mode = SMTP_MODE_MX;
	m = submit(&st, &h, EHLO_IN, "Subject: x\r\n\r\nhi\r\n");
	ck_assert_ptr_null(strstr(m, "Message-ID"));
	free(m);
	sim_free(&h);
}
END_TEST

/* A header section longer than a chunk: the fields go where it ends. */
START_TEST(long_header_gets_fields_at_its_end)
{
	struct sim h;
	sim_init(&h);
	struct smtp_settings st = sim_settings();
	st.chunk_size = 4096;
	char *msg = malloc(20000), *want = malloc(30000);
	size_t n = 0;
	for (int i = 0; i < 200; i++)
		n += (size_t)snprintf(msg + n, 20000 - n,
				      "X-Filler-%03d: some text here\r\n", i);
	snprintf(msg + n, 20000 - n, "\r\nbody\r\n");
	char *m = submit(&st, &h, LOGIN, msg);
	msg[n] = '\0';
	snprintf(want, 30000, "%s%s%s\r\nbody\r\n", RECEIVED_A, msg, ADDED);
	ck_assert_str_eq(m, want);
	free(m);
	free(msg);
	free(want);
	sim_free(&h);
}
END_TEST

START_TEST(split_at_every_size)
{
	struct sim h;
	sim_init(&h);
	struct smtp_settings st = sim_settings();
	const char *in = LOGIN "MAIL FROM:<alice@example.test>\r\n"
			       "RCPT TO:<x@elsewhere.example>\r\nDATA\r\n"
			       "Subject: s\r\n folded\r\nDate: d\r\n\r\n"
			       "..dot\r\n.\r\n";
	char *whole = sim_run(&st, &h, in);
	char *msg = strdup(h.msg);
	ck_assert_ptr_nonnull(strstr(msg, "Subject: s\r\n folded\r\nDate: "
					  "d\r\n\r\n.dot\r\n"));
	ck_assert_ptr_nonnull(strstr(msg, "\r\nMessage-ID: <Q1.t@mx.example."
					  "test>\r\nSubject: s\r\n"));
	for (size_t step = 1; step < strlen(in); step++) {
		char *got = sim_run_steps(&st, &h, in, strlen(in), step);
		ck_assert_str_eq(got, whole);
		ck_assert_str_eq(h.msg, msg);
		free(got);
	}
	free(whole);
	free(msg);
	sim_free(&h);
}
END_TEST

/* BDAT (RFC 3030) splits lines anywhere, and the buffer goes to the host
 * mid-line: a Date field or the empty line cut in two is still seen. */
static void bdat_case(size_t before_flush, const char *tail)
{
	size_t filler = 4096 - strlen(RECEIVED_A) - before_flush;
	struct sim h;
	sim_init(&h);
	struct smtp_settings st = sim_settings();
	st.chunk_size = 4096;
	char *msg = malloc(8192), *in = malloc(12000);
	size_t n = 0;
	while (n + 40 < filler)
		n += (size_t)snprintf(msg + n, 8192 - n, "X-F: %033zu\r\n", n);
	n += (size_t)snprintf(msg + n, 8192 - n, "X-G: %.*s\r\n%s",
			      (int)(filler - n),
			      "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
			      "yyyyyyyyyyyyy",
			      tail);
	snprintf(in, 12000,
		 LOGIN "MAIL FROM:<alice@example.test>\r\nRCPT "
		       "TO:<bob@example.test>\r\nBDAT %zu LAST\r\n%s",
		 n, msg);
	char *whole = sim_run(&st, &h, in);
	ck_assert_msg(strstr(whole, "250 2.0.0 OK queued as Q1") != NULL, "%s",
		      whole);
	char *want = strdup(h.msg);
	const char *d = strstr(want, "\r\nDate: ");
	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_null(strstr(d + 1, "\r\nDate: "));
	ck_assert_ptr_nonnull(strstr(want, "Message-ID: <Q1.t@mx.example.test>"
					   "\r\n\r\nbody\r\n"));
	for (size_t step = 1; step < 120; step++) {
		char *got = sim_run_steps(&st, &h, in, strlen(in), step);
		ck_assert_str_eq(got, whole);
		ck_assert_str_eq(h.msg, want);
		free(got);
	}
	free(whole);
	free(want);
	free(msg);
	free(in);
	sim_free(&h);
}

START_TEST(bdat_lines_split_anywhere)
{
	/* the Date field, then the empty line, near the first flush */
	for (size_t k = 0; k < 8; k++) {
		bdat_case(k, "Date: Tue, 1 Dec 2026 10:00:00 +0000\r\n"
			     "\r\nbody\r\n");
		bdat_case(k, "\r\nbody\r\n");
	}
	/* short: the fields at the top */
	struct sim h;
	sim_init(&h);
	struct smtp_settings st = sim_settings();
	char *out = sim_run(&st, &h,
			    LOGIN "MAIL FROM:<alice@example.test>\r\nRCPT "
				  "TO:<bob@example.test>\r\nBDAT 11\r\n"
				  "Subject: x\rBDAT 7 LAST\r\n\n\r\nhi\r\n");
	ck_assert_ptr_nonnull(strstr(out, "queued as Q1"));
	ck_assert_str_eq(h.msg, RECEIVED_A ADDED "Subject: x\r\n\r\nhi\r\n");
	free(out);
	sim_free(&h);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("smtp_submit");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, sender_must_be_the_user);
	tcase_add_test(tc, auth_parameter);
	tcase_add_test(tc, received_names_the_user);
	tcase_add_test(tc, missing_fields_added_at_the_top);
	tcase_add_test(tc, long_header_gets_fields_at_its_end);
	tcase_add_test(tc, split_at_every_size);
	tcase_add_test(tc, bdat_lines_split_anywhere);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	log_setup(LOGL_ERROR, LOG_TO_STDERR, "test");
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
