/*
 * test_smtp_auth.c - AUTH (RFC 4954) through the SMTP engine with a
 * simulated host: what EHLO offers with and without TLS, PLAIN with and
 * without an initial response, "=", LOGIN, SCRAM-SHA-256 with a real
 * client (its final message in a 334, completed by an empty line), every
 * failure reply (503, 504, 501, 538, 500 5.5.6, 535 held for the delay),
 * cancelling with "*", failures counted towards max_errors, AUTH before
 * STARTTLS forgotten after it, the line limits, and input split at every
 * byte.
 */
#include "auth_sim.h"

#include "buf.h"
#include "log.h"
#include "sasl_client.h"

START_TEST(ehlo_offers_auth)
{
	struct sim h;
	sim_init(&h);
	struct smtp_settings st = sim_settings();
	ck_sim(&st, &h, EHLO_IN, EHLO_OUT);
	/* plaintext off, no TLS possible: SCRAM only */
	st.auth_plaintext = false;
	ck_sim(&st, &h, EHLO_IN,
	       "250-mx.example.test Hello c.example [192.0.2.7]\r\n"
	       "250-PIPELINING\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n"
	       "250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n"
	       "250-CHUNKING\r\n250-BINARYMIME\r\n250-DSN\r\n"
	       "250 AUTH SCRAM-SHA-256\r\n");
	/* STARTTLS possible: no AUTH before it, everything after */
	st.starttls_offered = true;
	struct smtp_session *s = sim_open(&st);
	sim_feed(s, &h, EHLO_IN "STARTTLS\r\n");
	char *out = sim_output(s);
	ck_assert_ptr_nonnull(strstr(out, "250 STARTTLS\r\n"));
	ck_assert_ptr_null(strstr(out, "AUTH"));
	free(out);
	sim_feed(s, &h, EHLO_IN);
	out = sim_output(s);
	ck_assert_str_eq(out, EHLO_OUT);
	free(out);
	smtp_session_free(&s);
	/* an implicit TLS listener offers everything at once */
	st.starttls_offered = false;
	st.tls_at_start = true;
	ck_sim(&st, &h, EHLO_IN, EHLO_OUT);
	/* a listener without AUTH */
	st.auth_offered = false;
	ck_sim(&st, &h, "EHLO c.example\r\nAUTH PLAIN\r\n",
	       "250-mx.example.test Hello c.example [192.0.2.7]\r\n"
	       "250-PIPELINING\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n"
	       "250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n"
	       "250-CHUNKING\r\n250-BINARYMIME\r\n250 DSN\r\n"
	       "502 5.5.1 AUTH not available\r\n");
	sim_free(&h);
}
END_TEST

START_TEST(plain_with_and_without_initial_response)
{
	struct sim h;
	sim_init(&h);
	struct smtp_settings st = sim_settings();
	ck_sim(&st, &h, EHLO_IN "AUTH PLAIN " PLAIN_ALICE "\r\n",
	       EHLO_OUT AUTH_OK);
	ck_sim(&st, &h, EHLO_IN "auth plain\r\n" PLAIN_ALICE "\r\n",
	       EHLO_OUT "334 \r\n" AUTH_OK);
	/* "=": an empty initial response, which PLAIN cannot use */
	ck_sim(&st, &h, EHLO_IN "AUTH PLAIN =\r\n",
	       EHLO_OUT "501 5.5.2 Malformed authentication data\r\n");
	ck_assert_int_eq(h.lookups, 2);
	/* a user whose name needs quoting in the Received comment */
	ck_sim(&st, &h, EHLO_IN "AUTH PLAIN AG9kZCh1c2VyKQBwdw==\r\n",
	       EHLO_OUT AUTH_OK);
	sim_free(&h);
}
END_TEST

START_TEST(login)
{
	struct sim h;
	sim_init(&h);
	struct smtp_settings st = sim_settings();
	ck_sim(&st, &h,
	       EHLO_IN "AUTH LOGIN\r\nYWxpY2U=\r\nd29uZGVybGFuZA==\r\n",
	       EHLO_OUT "334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n" AUTH_OK);
	ck_sim(&st, &h, EHLO_IN "AUTH LOGIN YWxpY2U=\r\nd29uZGVybGFuZA==\r\n",
	       EHLO_OUT "334 UGFzc3dvcmQ6\r\n" AUTH_OK);
	ck_sim(&st, &h, EHLO_IN "AUTH LOGIN =\r\n",
	       EHLO_OUT "501 5.5.2 Malformed authentication data\r\n");
	sim_free(&h);
}
END_TEST

/* A wrong password: 535 only once the host's delay is over. */
START_TEST(wrong_password_waits_for_the_delay)
{
	struct sim h;
	sim_init(&h);
	struct smtp_settings st = sim_settings();
	struct smtp_session *s = smtp_session_new(&st, "192.0.2.7", "t");
	smtp_session_start(s);
	free(sim_output(s));
	h.hold_delay = true;
	const char *in = EHLO_IN "AUTH PLAIN " PLAIN_ALICE_BAD "\r\nNOOP\r\n";
	size_t taken = smtp_session_feed(s, in, strlen(in));
	sim_answer(s, &h);
	ck_assert_int_eq(smtp_session_request(s), SMTP_REQ_AUTH_DELAY);
	char *out = sim_output(s);
	ck_assert_str_eq(out, EHLO_OUT);
	free(out);
	struct smtp_answer ok = {.ok = true};
	smtp_session_resume(s, &ok);
	ck_assert_int_eq(smtp_session_request(s), SMTP_REQ_NONE);
	smtp_session_feed(s, in + taken, strlen(in) - taken);
	out = sim_output(s);
	ck_assert_str_eq(out, "535 5.7.8 Authentication credentials invalid\r\n"
			      "250 2.0.0 OK\r\n");
	free(out);
	ck_assert_str_eq(smtp_session_auth_user(s), "");
	smtp_session_free(&s);
	/* unknown user: the same answer */
	h.hold_delay = false;
	ck_sim(&st, &h, EHLO_IN "AUTH PLAIN AGNhcm9sAHg=\r\n",
	       EHLO_OUT "535 5.7.8 Authentication credentials invalid\r\n");
	ck_assert_int_eq(h.delays, 1);
	sim_free(&h);
}
END_TEST

START_TEST(cancel_and_bad_base64)
{
	struct sim h;
	sim_init(&h);
	struct smtp_settings st = sim_settings();
	ck_sim(&st, &h,
	       EHLO_IN "AUTH PLAIN\r\n*\r\nAUTH PLAIN " PLAIN_ALICE "\r\n",
	       EHLO_OUT
	       "334 \r\n501 5.0.0 Authentication cancelled\r\n" AUTH_OK);
	ck_sim(&st, &h, EHLO_IN "AUTH LOGIN\r\nYWxpY2U=\r\n*\r\n",
	       EHLO_OUT "334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n"
			"501 5.0.0 Authentication cancelled\r\n");
	/* RFC 4954 4: characters outside the alphabet, misplaced '=' */
	ck_sim(&st, &h, EHLO_IN "AUTH PLAIN AGFsaWNl AHdvbmRlcmxhbmQ=\r\n",
	       EHLO_OUT "501 5.5.4 Syntax: AUTH mechanism "
			"[initial-response]\r\n");
	ck_sim(&st, &h, EHLO_IN "AUTH PLAIN =AAA\r\n",
	       EHLO_OUT "501 5.5.2 Invalid base64 data\r\n");
	ck_sim(&st, &h, EHLO_IN "AUTH PLAIN\r\nAAA=BBBB\r\nNOOP\r\n",
	       EHLO_OUT "334 \r\n501 5.5.2 Invalid base64 data\r\n"
			"250 2.0.0 OK\r\n");
	ck_sim(&st, &h, EHLO_IN "AUTH LOGIN\r\nYWxp Y2U=\r\n",
	       EHLO_OUT "334 VXNlcm5hbWU6\r\n501 5.5.2 Invalid base64 "
			"data\r\n");
	sim_free(&h);
}
END_TEST

START_TEST(sequence_and_mechanism_errors)
{
	struct sim h;
	sim_init(&h);
	struct smtp_settings st = sim_settings();
	ck_sim(&st, &h, "AUTH PLAIN " PLAIN_ALICE "\r\n",
	       "503 5.5.1 Bad sequence of commands: send EHLO or HELO "
	       "first\r\n");
	ck_sim(&st, &h,
	       EHLO_IN "AUTH PLAIN " PLAIN_ALICE "\r\nAUTH PLAIN " PLAIN_ALICE
		       "\r\n",
	       EHLO_OUT AUTH_OK "503 5.5.1 Already authenticated\r\n");
	st.mode = SMTP_MODE_MX;
	ck_sim(&st, &h,
	       EHLO_IN "MAIL FROM:<a@b.example>\r\nAUTH PLAIN " PLAIN_ALICE
		       "\r\n",
	       EHLO_OUT "250 2.1.0 Sender OK\r\n"
			"503 5.5.1 AUTH not permitted during a mail "
			"transaction\r\n");
	ck_sim(&st, &h, EHLO_IN "AUTH CRAM-MD5\r\nAUTH\r\nAUTH PLAIN x y\r\n",
	       EHLO_OUT "504 5.5.4 Unrecognized authentication mechanism\r\n"
			"501 5.5.4 Syntax: AUTH mechanism "
			"[initial-response]\r\n"
			"501 5.5.4 Syntax: AUTH mechanism "
			"[initial-response]\r\n");
	sim_free(&h);
}
END_TEST

START_TEST(plaintext_needs_tls)
{
	struct sim h;
	sim_init(&h);
	struct smtp_settings st = sim_settings();
	st.auth_plaintext = false;
	/* no TLS possible: SCRAM offered, PLAIN refused */
	ck_sim(&st, &h,
	       "EHLO c\r\nAUTH PLAIN " PLAIN_ALICE "\r\nAUTH LOGIN\r\n",
	       "250-mx.example.test Hello c [192.0.2.7]\r\n"
	       "250-PIPELINING\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n"
	       "250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n"
	       "250-CHUNKING\r\n250-BINARYMIME\r\n250-DSN\r\n"
	       "250 AUTH SCRAM-SHA-256\r\n"
	       "538 5.7.11 Encryption required for requested authentication "
	       "mechanism\r\n"
	       "538 5.7.11 Encryption required for requested authentication "
	       "mechanism\r\n");
	/* STARTTLS possible: nothing before it; all after it */
	st.starttls_offered = true;
	struct smtp_session *s = sim_open(&st);
	sim_feed(s, &h, "EHLO c\r\nAUTH SCRAM-SHA-256\r\nSTARTTLS\r\n");
	char *out = sim_output(s);
	ck_assert_ptr_nonnull(
		strstr(out, "538 5.7.11 Encryption required for requested "
			    "authentication mechanism\r\n220 2.0.0"));
	free(out);
	sim_feed(s, &h, EHLO_IN "AUTH PLAIN " PLAIN_ALICE "\r\n");
	out = sim_output(s);
	ck_assert_str_eq(out, EHLO_OUT AUTH_OK);
	free(out);
	smtp_session_free(&s);
	sim_free(&h);
}
END_TEST

/* RFC 3207 4.2: what was learnt before TLS, an AUTH included, goes. */
START_TEST(starttls_forgets_auth)
{
	struct sim h;
	sim_init(&h);
	struct smtp_settings st = sim_settings();
	st.starttls_offered = true;
	struct smtp_session *s = sim_open(&st);
	sim_feed(s, &h, "EHLO c\r\nAUTH PLAIN " PLAIN_ALICE "\r\nSTARTTLS\r\n");
	char *out = sim_output(s);
	ck_assert_ptr_nonnull(strstr(out, AUTH_OK "220 2.0.0"));
	free(out);
	sim_feed(s, &h, "EHLO c\r\nMAIL FROM:<alice@example.test>\r\n");
	out = sim_output(s);
	ck_assert_ptr_nonnull(
		strstr(out, "530 5.7.0 Authentication required\r\n"));
	ck_assert_str_eq(smtp_session_auth_user(s), "");
	free(out);
	smtp_session_free(&s);
	sim_free(&h);
}
END_TEST

START_TEST(line_limits)
{
	struct sim h;
	sim_init(&h);
	struct smtp_settings st = sim_settings();
	char *in = malloc(20000);
	ck_assert_ptr_nonnull(in);
	/* an AUTH line past 512 octets is read: 10000 octets of base64
	 * decode to 7500, under the 8192 a mechanism takes */
	size_t n = (size_t)snprintf(in, 20000, EHLO_IN "AUTH PLAIN ");
	memset(in + n, 'A', 10000);
	snprintf(in + n + 10000, 20000 - n - 10000, "\r\n");
	ck_sim(&st, &h, in,
	       EHLO_OUT "501 5.5.2 Malformed authentication data\r\n");
	/* 12000 octets decode to 9000: 500 5.5.6 (RFC 4954 6) */
	n = (size_t)snprintf(in, 20000, EHLO_IN "AUTH PLAIN\r\n");
	memset(in + n, 'A', 12000);
	snprintf(in + n + 12000, 20000 - n - 12000, "\r\nNOOP\r\n");
	ck_sim(&st, &h, in,
	       EHLO_OUT "334 \r\n500 5.5.6 Authentication exchange line is "
			"too long\r\n250 2.0.0 OK\r\n");
	/* a response line over 12288 octets: 500 5.5.6, exchange over */
	n = (size_t)snprintf(in, 20000, EHLO_IN "AUTH PLAIN\r\n");
	memset(in + n, 'A', 13000);
	snprintf(in + n + 13000, 20000 - n - 13000, "\r\nNOOP\r\n");
	ck_sim(&st, &h, in,
	       EHLO_OUT "334 \r\n500 5.5.6 Authentication exchange line is "
			"too long\r\n250 2.0.0 OK\r\n");
	/* other commands keep their 512 octets */
	n = (size_t)snprintf(in, 20000, EHLO_IN "NOOP ");
	memset(in + n, 'x', 600);
	snprintf(in + n + 600, 20000 - n - 600, "\r\n");
	ck_sim(&st, &h, in,
	       EHLO_OUT "500 5.5.2 Line too long (at most 512 octets with "
			"CRLF)\r\n");
	/* MAIL gets 500 more for AUTH= (RFC 4954 3) */
	n = (size_t)snprintf(in, 20000,
			     EHLO_IN "AUTH PLAIN " PLAIN_ALICE
				     "\r\nMAIL FROM:<alice@example.test> "
				     "AUTH=<> X=");
	memset(in + n, 'x', 600);
	snprintf(in + n + 600, 20000 - n - 600, "\r\n");
	char *got = sim_run(&st, &h, in);
	ck_assert_msg(strncmp(got, EHLO_OUT AUTH_OK "555 ",
			      strlen(EHLO_OUT AUTH_OK) + 4) == 0,
		      "%s", got);
	free(got);
	memset(in + n, 'x', 1200);
	snprintf(in + n + 1200, 20000 - n - 1200, "\r\n");
	ck_sim(&st, &h, in,
	       EHLO_OUT AUTH_OK "500 5.5.2 Line too long (at most 1012 octets "
				"with CRLF)\r\n");
	free(in);
	sim_free(&h);
}
END_TEST

/* RFC 4954 9: failed logins count towards the error limit. */
START_TEST(failures_count_as_errors)
{
	struct sim h;
	sim_init(&h);
	struct smtp_settings st = sim_settings();
	st.max_errors = 3;
	ck_sim(&st, &h,
	       EHLO_IN "AUTH PLAIN " PLAIN_ALICE_BAD "\r\nAUTH PLAIN\r\n*\r\n"
		       "AUTH PLAIN " PLAIN_ALICE_BAD "\r\nNOOP\r\n",
	       EHLO_OUT "535 5.7.8 Authentication credentials invalid\r\n"
			"334 \r\n501 5.0.0 Authentication cancelled\r\n"
			"535 5.7.8 Authentication credentials invalid\r\n"
			"421 4.7.0 mx.example.test Too many errors, closing "
			"connection\r\n");
	sim_free(&h);
}
END_TEST

/* SCRAM-SHA-256 with lib's client: server-first in a 334, the proof,
 * server-final in a 334 (RFC 4954 4), then an empty line. */
static void scram_session(struct sim *h, const char *pass, bool ok,
			  const char *final_line)
{
	struct smtp_settings st = sim_settings();
	struct buf c, line;
	char b64[16384];
	size_t n;
	struct smtp_session *s = smtp_session_new(&st, "192.0.2.7", "t");
	struct sasl_scram_client *cl =
		sasl_scram_client_new(NULL, "scram", pass, NULL);
	ck_assert_ptr_nonnull(cl);
	buf_init(&c, 16384);
	buf_init(&line, 16384);
	smtp_session_start(s);
	free(sim_output(s));
	ck_assert_int_eq(sasl_scram_client_first(cl, &c), 0);
	base64_encode(buf_data(&c), buf_len(&c), b64, sizeof(b64));
	buf_printf(&line, EHLO_IN "AUTH SCRAM-SHA-256 %s\r\n", b64);
	smtp_session_feed(s, buf_data(&line), buf_len(&line));
	sim_answer(s, h);
	char *out = sim_output(s);
	char *p = strstr(out, "\r\n334 ");
	ck_assert_ptr_nonnull(p);
	p += 6;
	ck_assert_int_eq(
		base64_decode(p, strcspn(p, "\r"), b64, sizeof(b64), &n), 0);
	free(out);
	ck_assert_int_eq(sasl_scram_client_final(cl, b64, n, &c), 0);
	base64_encode(buf_data(&c), buf_len(&c), b64, sizeof(b64));
	buf_clear(&line);
	buf_printf(&line, "%s\r\n", b64);
	smtp_session_feed(s, buf_data(&line), buf_len(&line));
	sim_answer(s, h);
	out = sim_output(s);
	if (!ok) {
		ck_assert_str_eq(out, "535 5.7.8 Authentication credentials "
				      "invalid\r\n");
	} else {
		ck_assert_int_eq(strncmp(out, "334 ", 4), 0);
		ck_assert_int_eq(base64_decode(out + 4, strcspn(out + 4, "\r"),
					       b64, sizeof(b64), &n),
				 0);
		ck_assert_int_eq(sasl_scram_client_verify(cl, b64, n), 0);
		free(out);
		ck_assert_str_eq(smtp_session_auth_user(s), "");
		smtp_session_feed(s, final_line, strlen(final_line));
		out = sim_output(s);
		if (strcmp(final_line, "\r\n") == 0) {
			ck_assert_str_eq(out, AUTH_OK);
			ck_assert_str_eq(smtp_session_auth_user(s), "scram");
		} else {
			ck_assert_int_eq(strncmp(out, "501 ", 4), 0);
			ck_assert_str_eq(smtp_session_auth_user(s), "");
		}
	}
	free(out);
	sasl_scram_client_free(&cl);
	buf_free(&c);
	buf_free(&line);
	smtp_session_free(&s);
}

/* After MAIL with args: the envelope's AUTH= submitter, or "(none)". */
static char *auth_from_after(const struct smtp_settings *st, struct sim *h,
			     bool logged_in, const char *mail)
{
	struct smtp_session *s = sim_open(st);
	char in[512];
	snprintf(in, sizeof(in), EHLO_IN "%s%s\r\n",
		 logged_in ? "AUTH PLAIN " PLAIN_ALICE "\r\n" : "", mail);
	sim_feed(s, h, in);
	free(sim_output(s));
	const char *a = smtp_session_envelope(s)->auth_from;
	char *got = strdup(a != NULL ? a : "(none)");
	smtp_session_free(&s);
	return got;
}

#define ck_auth_from(st, h, login, mail, want)                             \
	do {                                                               \
		char *g_ = auth_from_after(st, h, login, mail);            \
		ck_assert_msg(strcmp(g_, want) == 0, "%s: got '%s'", mail, \
			      g_);                                         \
		free(g_);                                                  \
	} while (0)

/* RFC 4954 5: AUTH= on MAIL is kept only when the session vouches */
START_TEST(mail_auth_parameter)
{
	struct sim h;
	sim_init(&h);
	struct smtp_settings st = sim_settings();
	/* not logged in (port 25 style): whatever is claimed becomes <> */
	st.mode = SMTP_MODE_MX;
	ck_auth_from(&st, &h, false, "MAIL FROM:<x@y.example> AUTH=x@y.example",
		     "");
	ck_auth_from(&st, &h, false, "MAIL FROM:<x@y.example>", "(none)");
	/* logged in: its own address or <> is kept, anyone else's not */
	st.mode = SMTP_MODE_SUBMISSION;
	ck_auth_from(&st, &h, true,
		     "MAIL FROM:<alice@example.test> AUTH=alice@example.test",
		     "alice@example.test");
	ck_auth_from(&st, &h, true, "MAIL FROM:<alice@example.test> AUTH=<>",
		     "");
	ck_auth_from(&st, &h, true,
		     "MAIL FROM:<alice@example.test> AUTH=bob@example.test",
		     "");
	/* logged in, no AUTH=: the login is the submitter */
	ck_auth_from(&st, &h, true, "MAIL FROM:<alice@example.test>",
		     "alice@example.test");
	/* malformed xtext is a syntax error (RFC 3461 4) */
	ck_sim(&st, &h,
	       EHLO_IN "AUTH PLAIN " PLAIN_ALICE
		       "\r\nMAIL FROM:<alice@example.test> AUTH=a+4@b\r\n",
	       EHLO_OUT AUTH_OK "501 5.5.4 Invalid AUTH value\r\n");
	sim_free(&h);
}
END_TEST

START_TEST(scram_sha_256)
{
	struct sim h;
	sim_init(&h);
	scram_session(&h, "tiger", true, "\r\n");
	scram_session(&h, "tiger", true, "*\r\n");
	scram_session(&h, "tiger", true, "eA==\r\n");
	scram_session(&h, "lion", false, NULL);
	sim_free(&h);
}
END_TEST

/* A client nonce of 9000 octets gives a challenge far longer than a reply
 * line of text: it must still go out whole. */
START_TEST(long_challenge)
{
	struct sim h;
	sim_init(&h);
	struct smtp_settings st = sim_settings();
	st.scram_test_nonce = "SRV";
	char first[8100];
	char *b64 = malloc(12000), *in = malloc(13000);
	int n = snprintf(first, sizeof(first), "n,,n=scram,r=");
	memset(first + n, 'q', sizeof(first) - (size_t)n - 1);
	first[sizeof(first) - 1] = '\0';
	base64_encode(first, strlen(first), b64, 12000);
	snprintf(in, 13000, EHLO_IN "AUTH SCRAM-SHA-256\r\n%s\r\n", b64);
	char *out = sim_run(&st, &h, in);
	char *p = strstr(out, "334 \r\n334 ");
	ck_assert_ptr_nonnull(p);
	size_t len;
	char dec[12000];
	p += 10;
	ck_assert_int_eq(
		base64_decode(p, strcspn(p, "\r"), dec, sizeof(dec), &len), 0);
	ck_assert_uint_gt(len, 8000);
	ck_assert_int_eq(memcmp(dec, "r=qqq", 5), 0);
	ck_assert_ptr_nonnull(memmem(dec, len, "qSRV,s=", 7));
	free(out);
	free(b64);
	free(in);
	sim_free(&h);
}
END_TEST

/* Every split of a whole AUTH dialogue gives the same replies. */
START_TEST(split_at_every_size)
{
	struct sim h;
	sim_init(&h);
	struct smtp_settings st = sim_settings();
	const char *in = EHLO_IN "AUTH LOGIN\r\nYWxpY2U=\r\n*\r\n"
				 "AUTH PLAIN\r\n" PLAIN_ALICE "\r\n"
				 "MAIL FROM:<alice@example.test>\r\n";
	char *whole = sim_run(&st, &h, in);
	ck_assert_ptr_nonnull(strstr(whole, AUTH_OK "250 2.1.0 Sender OK"));
	for (size_t step = 1; step < strlen(in); step++) {
		char *got = sim_run_steps(&st, &h, in, strlen(in), step);
		ck_assert_str_eq(got, whole);
		free(got);
	}
	free(whole);
	sim_free(&h);
}
END_TEST

/* Freed while the host holds the exchange, or before it took it. */
START_TEST(free_while_pending)
{
	struct sim h;
	sim_init(&h);
	struct smtp_settings st = sim_settings();
	const char *in = EHLO_IN "AUTH PLAIN " PLAIN_ALICE "\r\n";
	struct smtp_session *s = smtp_session_new(&st, "192.0.2.7", "t");
	smtp_session_feed(s, in, strlen(in));
	ck_assert_int_eq(smtp_session_request(s), SMTP_REQ_AUTH_CREDENTIALS);
	smtp_session_free(&s); /* the session frees the exchange */
	s = smtp_session_new(&st, "192.0.2.7", "t");
	smtp_session_feed(s, in, strlen(in));
	struct sasl_server *sasl = smtp_session_auth_take(s);
	ck_assert_ptr_nonnull(sasl);
	smtp_session_free(&s); /* the host's job frees it */
	sasl_server_free(&sasl);
	/* the host failed to check: 454 4.7.0 */
	s = smtp_session_new(&st, "192.0.2.7", "t");
	smtp_session_feed(s, in, strlen(in));
	sasl = smtp_session_auth_take(s);
	struct smtp_answer no = {.ok = false, .sasl = sasl};
	free(sim_output(s));
	smtp_session_resume(s, &no);
	char *out = sim_output(s);
	ck_assert_str_eq(out, "454 4.7.0 Temporary authentication failure\r\n");
	free(out);
	smtp_session_free(&s);
	sim_free(&h);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("smtp_auth");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, ehlo_offers_auth);
	tcase_add_test(tc, plain_with_and_without_initial_response);
	tcase_add_test(tc, login);
	tcase_add_test(tc, wrong_password_waits_for_the_delay);
	tcase_add_test(tc, cancel_and_bad_base64);
	tcase_add_test(tc, sequence_and_mechanism_errors);
	tcase_add_test(tc, plaintext_needs_tls);
	tcase_add_test(tc, starttls_forgets_auth);
	tcase_add_test(tc, line_limits);
	tcase_add_test(tc, failures_count_as_errors);
	tcase_add_test(tc, mail_auth_parameter);
	tcase_add_test(tc, scram_sha_256);
	tcase_add_test(tc, long_challenge);
	tcase_add_test(tc, split_at_every_size);
	tcase_add_test(tc, free_while_pending);
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
