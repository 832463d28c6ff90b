/*
 * test_pop3_auth.c - the POP3 engine's AUTHORIZATION state with a
 * synchronous host (pop3_test_host.h): USER/PASS and APOP (RFC 1939
 * section 7), AUTH with PLAIN, LOGIN and SCRAM-SHA-256 (RFC 5034 section
 * 4), the failure delay and the [AUTH] code (RFC 3206 section 5).
 */
#include "base64.h"
#include "pop3_test_host.h"
#include "sasl_client.h"

#define LOGGED_IN "+OK Maildrop locked and ready: 0 messages (0 octets)\r\n"
#define FAILED	  "-ERR [AUTH] Authentication failed\r\n"
#define STAT_ERR  "-ERR STAT not valid in the AUTHORIZATION state\r\n"

START_TEST(user_pass)
{
	struct test_host h;
	th_init(&h);
	struct pop3_settings st = th_settings();
	struct pop3_session *s = th_session(&st);
	ck_feed(&h, s, "USER nosuchuser\r\nPASS wonderland\r\nSTAT\r\n",
		"+OK Send PASS\r\n" FAILED STAT_ERR);
	ck_assert_uint_eq(h.delays, 1);
	ck_feed(&h, s, "USER alice\r\nPASS wonderlanD\r\n",
		"+OK Send PASS\r\n" FAILED);
	ck_assert_uint_eq(h.delays, 2);
	/* a PASS not right after a successful USER */
	ck_feed(&h, s, "PASS wonderland\r\n",
		"-ERR PASS must follow a successful USER\r\n");
	ck_feed(&h, s, "USER\r\nUSER a b\r\n",
		"-ERR Syntax: USER name\r\n-ERR Syntax: USER name\r\n");
	/* USER after a successful USER is out of order; it starts over */
	ck_feed(&h, s, "USER bob\r\nUSER alice\r\nPASS wonderland\r\n",
		"+OK Send PASS\r\n-ERR USER already given; send PASS or "
		"QUIT\r\n"
		"-ERR PASS must follow a successful USER\r\n");
	ck_feed(&h, s, "USER alice\r\nCAPA\r\nPASS wonderland\r\nSTAT\r\n",
		"+OK Send PASS\r\n+OK Capability list follows\r\nTOP\r\n"
		"UIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n"
		"EXPIRE NEVER\r\nUSER\r\nSASL SCRAM-SHA-256 PLAIN LOGIN\r\n"
		"STLS\r\n.\r\n" LOGGED_IN "+OK 0 0\r\n");
	ck_assert_str_eq(pop3_session_user(s), "alice");
	ck_assert(pop3_session_logged_in(s));
	pop3_session_free(&s);

	/* the password is everything after "PASS ", spaces too */
	s = th_session(&st);
	ck_feed(&h, s, "USER alice\r\nPASS  wonderland\r\n",
		"+OK Send PASS\r\n" FAILED);
	pop3_session_free(&s);
	th_free(&h);
}
END_TEST

START_TEST(apop)
{
	struct test_host h;
	th_init(&h);
	struct pop3_settings st = th_settings();
	char line[128], digest[33];
	struct pop3_session *s = th_session(&st);
	ck_feed(&h, s, "APOP alice 0123456789abcdef0123456789abcdef\r\n",
		"-ERR APOP not available\r\n");
	pop3_session_free(&s);

	st.apop_timestamp = "<4711.1700000000@pop.example.test>";
	s = th_session(&st);
	ck_feed(&h, s,
		"APOP alice\r\nAPOP alice 0123\r\n"
		"APOP alice 0123456789ABCDEF0123456789ABCDEF\r\n",
		"-ERR Syntax: APOP name digest\r\n"
		"-ERR Syntax: APOP name digest\r\n"
		"-ERR Syntax: APOP name digest\r\n");
	ck_feed(&h, s, "APOP alice 0123456789abcdef0123456789abcdef\r\n",
		FAILED);
	/* bob's scheme keeps no password to digest: fails like a bad one */
	th_apop_digest(st.apop_timestamp, "builder", digest);
	snprintf(line, sizeof(line), "APOP bob %s\r\n", digest);
	ck_feed(&h, s, line, FAILED);
	ck_assert_uint_eq(h.delays, 2);
	/* RFC 1939 7: MD5 of the timestamp and the secret */
	th_apop_digest(st.apop_timestamp, "wonderland", digest);
	snprintf(line, sizeof(line), "APOP alice %s\r\nSTAT\r\n", digest);
	ck_feed(&h, s, line, LOGGED_IN "+OK 0 0\r\n");
	pop3_session_free(&s);
	th_free(&h);
}
END_TEST

START_TEST(auth_plain)
{
	char ir[200];
	struct test_host h;
	th_init(&h);
	struct pop3_settings st = th_settings();
	struct pop3_session *s = th_session(&st);
	ck_assert_int_eq(
		sasl_plain_response(NULL, "alice", "nope", ir, sizeof(ir)), 0);
	char line[300];
	snprintf(line, sizeof(line), "AUTH PLAIN %s\r\n", ir);
	ck_feed(&h, s, line, FAILED);
	ck_feed(&h, s, "AUTH PLAIN\r\n", "+ \r\n");
	snprintf(line, sizeof(line), "%s\r\n", ir);
	ck_feed(&h, s, line, FAILED);
	ck_feed(&h, s, "AUTH PLAIN\r\n*\r\nSTAT\r\n",
		"+ \r\n-ERR AUTH cancelled\r\n" STAT_ERR);
	/* RFC 5034 4: not base64, '=' inside, empty "=" */
	ck_feed(&h, s,
		"AUTH PLAIN AGFsaWNl!AHdvbmRlcmxhbmQ=\r\n"
		"AUTH PLAIN AGFsaWNl=AHdvbmRlcmxhbmQ\r\n"
		"AUTH PLAIN\r\n=AGFsaWNlAHdvbmRlcmxhbmQ\r\n"
		"AUTH PLAIN =\r\n",
		"-ERR Invalid base64\r\n-ERR Invalid base64\r\n+ \r\n"
		"-ERR Invalid base64\r\n-ERR Malformed SASL message\r\n");
	ck_feed(&h, s,
		"AUTH X-NONE\r\nAUTH\r\nAUTH PLAIN  x\r\n"
		"AUTH THIS-NAME-IS-FAR-TOO-LONG-FOR-SASL\r\n",
		"-ERR Unsupported SASL mechanism\r\n"
		"-ERR Syntax: AUTH mechanism [initial-response]\r\n"
		"-ERR Syntax: AUTH mechanism [initial-response]\r\n"
		"-ERR Unsupported SASL mechanism\r\n");
	ck_assert_uint_eq(h.delays, 2);
	ck_assert_int_eq(sasl_plain_response(NULL, "alice", "wonderland", ir,
					     sizeof(ir)),
			 0);
	snprintf(line, sizeof(line), "auth plain %s\r\nSTAT\r\n", ir);
	ck_feed(&h, s, line, LOGGED_IN "+OK 0 0\r\n");
	ck_feed(&h, s, "AUTH PLAIN =\r\n",
		"-ERR AUTH not valid in the TRANSACTION state\r\n");
	pop3_session_free(&s);
	th_free(&h);
}
END_TEST

/* Without TLS and with cleartext refused, PLAIN and LOGIN fail at once
 * (RFC 5034 4, RFC 2595 6); STLS then makes them usable. */
START_TEST(auth_plain_needs_tls)
{
	char ir[200], line[300];
	struct test_host h;
	th_init(&h);
	struct pop3_settings st = th_settings();
	st.cleartext_ok = false;
	struct pop3_session *s = th_session(&st);
	ck_assert_int_eq(sasl_plain_response(NULL, "alice", "wonderland", ir,
					     sizeof(ir)),
			 0);
	snprintf(line, sizeof(line), "AUTH PLAIN %s\r\n", ir);
	ck_feed(&h, s, line,
		"-ERR [AUTH] Cleartext mechanism not allowed without TLS; "
		"use STLS\r\n");
	ck_feed(&h, s, "AUTH LOGIN\r\n",
		"-ERR [AUTH] Cleartext mechanism not allowed without TLS; "
		"use STLS\r\n");
	ck_assert_uint_eq(h.delays, 0);
	ck_feed(&h, s, "STLS\r\n", "+OK Begin TLS negotiation\r\n");
	pop3_session_tls_done(s, true, "TLSv1.3 TEST");
	ck_feed(&h, s, line, LOGGED_IN);
	pop3_session_free(&s);
	th_free(&h);
}
END_TEST

START_TEST(auth_login)
{
	struct test_host h;
	th_init(&h);
	struct pop3_settings st = th_settings();
	struct pop3_session *s = th_session(&st);
	char user[64], pass[64], line[160];
	ck_assert_int_eq(sasl_login_encode("alice", user, sizeof(user)), 0);
	ck_assert_int_eq(sasl_login_encode("wonderland", pass, sizeof(pass)),
			 0);
	/* "Username:" and "Password:" challenges */
	ck_feed(&h, s, "AUTH LOGIN\r\n", "+ VXNlcm5hbWU6\r\n");
	snprintf(line, sizeof(line), "%s\r\n", user);
	ck_feed(&h, s, line, "+ UGFzc3dvcmQ6\r\n");
	snprintf(line, sizeof(line), "%s\r\n", pass);
	ck_feed(&h, s, line, LOGGED_IN);
	pop3_session_free(&s);
	th_free(&h);
}
END_TEST

/* SCRAM: the server's final message goes as a challenge, the client
 * answers it empty, and only then +OK (RFC 5034 4: no additional data
 * with the +OK). Driven by lib/sasl_client.h's SCRAM client. */
static char *scram_step(struct test_host *h, struct pop3_session *s,
			const char *prefix, struct buf *msg)
{
	char b64[1024], line[1100];
	ck_assert_int_eq(
		base64_encode(buf_data(msg), buf_len(msg), b64, sizeof(b64)),
		0);
	snprintf(line, sizeof(line), "%s%s\r\n", prefix, b64);
	return th_feed(h, s, line);
}

static void scram_take(const char *out, struct buf *msg)
{
	unsigned char raw[1024];
	size_t n;
	ck_assert(strncmp(out, "+ ", 2) == 0);
	size_t len = strlen(out) - 4;
	ck_assert_int_eq(base64_decode(out + 2, len, raw, sizeof(raw), &n), 0);
	buf_clear(msg);
	ck_assert_int_eq(buf_append(msg, raw, n), 0);
}

static void scram_login(const char *pass, bool ok)
{
	struct test_host h;
	th_init(&h);
	struct pop3_settings st = th_settings();
	struct pop3_session *s = th_session(&st);
	struct sasl_scram_client *c =
		sasl_scram_client_new(NULL, "bob", pass, NULL);
	struct buf msg;
	buf_init(&msg, 4096);
	ck_assert_int_eq(sasl_scram_client_first(c, &msg), 0);
	char *out = scram_step(&h, s, "AUTH SCRAM-SHA-256 ", &msg);
	scram_take(out, &msg);
	free(out);
	struct buf reply;
	buf_init(&reply, 4096);
	ck_assert_int_eq(sasl_scram_client_final(c, buf_data(&msg),
						 buf_len(&msg), &reply),
			 0);
	out = scram_step(&h, s, "", &reply);
	if (!ok) {
		ck_assert_str_eq(out, FAILED);
		ck_assert_uint_eq(h.delays, 1);
	} else {
		scram_take(out, &msg);
		ck_assert_int_eq(sasl_scram_client_verify(c, buf_data(&msg),
							  buf_len(&msg)),
				 0);
		ck_feed(&h, s, "\r\n", LOGGED_IN);
		ck_assert_str_eq(pop3_session_user(s), "bob");
	}
	free(out);
	buf_free(&reply);
	buf_free(&msg);
	sasl_scram_client_free(&c);
	pop3_session_free(&s);
	th_free(&h);
}

START_TEST(auth_scram)
{
	scram_login("builder", true);
	scram_login("wrong", false);
}
END_TEST

/* A SASL response may be longer than a command line (RFC 5034 4). */
START_TEST(sasl_response_longer_than_command)
{
	struct test_host h;
	th_init(&h);
	struct pop3_settings st = th_settings();
	struct pop3_session *s = th_session(&st);
	char pass[700], ir[1200], line[1300];
	memset(pass, 'p', sizeof(pass) - 1);
	pass[sizeof(pass) - 1] = '\0';
	ck_assert_int_eq(
		sasl_plain_response(NULL, "alice", pass, ir, sizeof(ir)), 0);
	ck_feed(&h, s, "AUTH PLAIN\r\n", "+ \r\n");
	snprintf(line, sizeof(line), "%s\r\n", ir);
	ck_feed(&h, s, line, FAILED);
	/* but not in the AUTH line itself */
	snprintf(line, sizeof(line), "AUTH PLAIN %s\r\n", ir);
	ck_feed(&h, s, line,
		"-ERR Line too long (at most 255 octets with CRLF)\r\n");
	/* and not without bound */
	char *big = malloc(POP3_SASL_LINE_MAX + 10);
	memset(big, 'A', POP3_SASL_LINE_MAX + 7);
	memcpy(big + POP3_SASL_LINE_MAX + 7, "\r\n", 3);
	ck_feed(&h, s, "AUTH PLAIN\r\n", "+ \r\n");
	char *out = th_feed_steps(&h, s, big, 1000);
	ck_assert_str_eq(out,
			 "-ERR Invalid SASL response line; AUTH aborted\r\n");
	free(out);
	free(big);
	pop3_session_free(&s);
	th_free(&h);
}
END_TEST

START_TEST(credential_lookup_fails)
{
	struct test_host h;
	th_init(&h);
	struct pop3_settings st = th_settings();
	struct pop3_session *s = th_session(&st);
	char ir[200], line[300];
	ck_assert_int_eq(sasl_plain_response(NULL, "alice", "wonderland", ir,
					     sizeof(ir)),
			 0);
	snprintf(line, sizeof(line), "AUTH PLAIN %s\r\n", ir);
	ck_assert_uint_eq(pop3_session_feed(s, line, strlen(line)),
			  strlen(line));
	ck_assert_int_eq(pop3_session_request(s), POP3_REQ_SASL_CREDENTIALS);
	struct pop3_answer a = {.status = POP3_ANSWER_TEMP};
	pop3_session_resume(s, &a);
	char *out = th_output(s);
	ck_assert_str_eq(
		out, "-ERR [SYS/TEMP] Authentication failed; try later\r\n");
	free(out);
	ck_feed(&h, s, "USER alice\r\n", "+OK Send PASS\r\n");
	ck_assert_uint_eq(pop3_session_feed(s, "PASS x\r\n", 8), 8);
	ck_assert_int_eq(pop3_session_request(s), POP3_REQ_PASS);
	pop3_session_resume(s, &a);
	out = th_output(s);
	ck_assert_str_eq(
		out, "-ERR [SYS/TEMP] Authentication failed; try later\r\n");
	free(out);
	pop3_session_free(&s);
	th_free(&h);
}
END_TEST

/* The host may free a session while its SASL exchange is on the pool. */
START_TEST(sasl_release)
{
	struct test_host h;
	th_init(&h);
	struct pop3_settings st = th_settings();
	struct pop3_session *s = th_session(&st);
	ck_feed(&h, s, "AUTH PLAIN\r\n", "+ \r\n");
	struct sasl_server *sasl = pop3_session_sasl_release(s);
	ck_assert_ptr_nonnull(sasl);
	ck_assert_ptr_null(pop3_session_sasl(s));
	pop3_session_free(&s);
	sasl_server_free(&sasl);
	th_free(&h);
}
END_TEST

static Suite *pop3_auth_suite(void)
{
	Suite *su = suite_create("pop3_auth");
	TCase *tc = tcase_create("auth");
	tcase_add_test(tc, user_pass);
	tcase_add_test(tc, apop);
	tcase_add_test(tc, auth_plain);
	tcase_add_test(tc, auth_plain_needs_tls);
	tcase_add_test(tc, auth_login);
	tcase_add_test(tc, auth_scram);
	tcase_add_test(tc, sasl_response_longer_than_command);
	tcase_add_test(tc, credential_lookup_fails);
	tcase_add_test(tc, sasl_release);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	log_setup(LOGL_ERROR, LOG_TO_STDERR, "test");
	SRunner *sr = srunner_create(pop3_auth_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
