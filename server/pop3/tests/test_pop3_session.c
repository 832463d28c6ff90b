/*
 * test_pop3_session.c - the POP3 engine driven with byte strings and a
 * synchronous host (pop3_test_host.h): greeting, CAPA, STLS, states,
 * line limits, pipelining split at every byte (RFC 1939 section 3, RFC
 * 2449, RFC 2595 section 4), and the TRANSACTION and UPDATE states
 * (RFC 1939 sections 5, 6 and 7).
 */
#include "pop3_test_host.h"

static const char msg1[] = "Subject: one\n\nbody one\n";
static const char msg2[] = "Subject: two\r\n\r\n.dot\r\n.\r\nlast";

START_TEST(greeting)
{
	struct pop3_settings st = th_settings();
	struct pop3_session *s = pop3_session_new(&st, "192.0.2.7", "t1");
	pop3_session_start(s);
	char *out = th_output(s);
	ck_assert_str_eq(out, "+OK Quill POP3 server ready\r\n");
	free(out);
	pop3_session_free(&s);
	ck_assert_ptr_null(s);

	st.apop_timestamp = "<1.2@pop.example.test>";
	s = pop3_session_new(&st, "192.0.2.7", "t1");
	pop3_session_start(s);
	out = th_output(s);
	ck_assert_str_eq(out, "+OK Quill POP3 server ready "
			      "<1.2@pop.example.test>\r\n");
	free(out);
	pop3_session_free(&s);
}
END_TEST

START_TEST(capa_authorization)
{
	struct test_host h;
	th_init(&h);
	struct pop3_settings st = th_settings();
	st.implementation = "Quill 0.1";
	struct pop3_session *s = th_session(&st);
	ck_feed(&h, s, "CAPA\r\n",
		"+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\n"
		"AUTH-RESP-CODE\r\nPIPELINING\r\nEXPIRE NEVER\r\nUSER\r\n"
		"SASL SCRAM-SHA-256 PLAIN LOGIN\r\nSTLS\r\n"
		"IMPLEMENTATION Quill 0.1\r\n.\r\n");
	ck_feed(&h, s, "capa x\r\n",
		"-ERR Syntax: CAPA takes no arguments\r\n");
	pop3_session_free(&s);

	/* no cleartext without TLS: no USER, no PLAIN/LOGIN (RFC 5034 4) */
	st.cleartext_ok = false;
	st.stls_offered = false;
	st.implementation = NULL;
	st.login_delay = 900;
	s = th_session(&st);
	ck_feed(&h, s, "CAPA\r\n",
		"+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\n"
		"AUTH-RESP-CODE\r\nPIPELINING\r\nEXPIRE NEVER\r\n"
		"LOGIN-DELAY 900\r\nSASL SCRAM-SHA-256\r\n.\r\n");
	ck_feed(&h, s, "USER alice\r\n",
		"-ERR Cleartext login not allowed without TLS; use STLS\r\n");
	pop3_session_free(&s);
	th_free(&h);
}
END_TEST

START_TEST(capa_transaction_keeps_user_and_sasl)
{
	struct test_host h;
	th_init(&h);
	struct pop3_settings st = th_settings();
	struct pop3_session *s = th_login(&h, &st);
	/* RFC 2449 5: as announced before login; STLS no longer */
	ck_feed(&h, s, "CAPA\r\n",
		"+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\n"
		"AUTH-RESP-CODE\r\nPIPELINING\r\nEXPIRE NEVER\r\nUSER\r\n"
		"SASL SCRAM-SHA-256 PLAIN LOGIN\r\n.\r\n");
	pop3_session_free(&s);
	th_free(&h);
}
END_TEST

START_TEST(stls)
{
	struct test_host h;
	th_init(&h);
	struct pop3_settings st = th_settings();
	st.cleartext_ok = false;
	struct pop3_session *s = th_session(&st);
	ck_feed(&h, s, "STLS now\r\n",
		"-ERR Syntax: STLS takes no arguments\r\n");
	/* what follows STLS in the same packet is never read (RFC 2595 4) */
	ck_feed(&h, s, "STLS\r\nUSER alice\r\n",
		"+OK Begin TLS negotiation\r\n");
	ck_assert_int_eq(pop3_session_request(s), POP3_REQ_STARTTLS);
	pop3_session_tls_done(s, true, "TLSv1.3 TEST");
	ck_assert(pop3_session_tls_active(s));
	ck_feed(&h, s, "CAPA\r\n",
		"+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\n"
		"AUTH-RESP-CODE\r\nPIPELINING\r\nEXPIRE NEVER\r\nUSER\r\n"
		"SASL SCRAM-SHA-256 PLAIN LOGIN\r\n.\r\n");
	ck_feed(&h, s, "STLS\r\n", "-ERR TLS already active\r\n");
	ck_feed(&h, s, "USER alice\r\nPASS wonderland\r\nSTLS\r\n",
		"+OK Send PASS\r\n"
		"+OK Maildrop locked and ready: 0 messages (0 octets)\r\n"
		"-ERR STLS not valid in the TRANSACTION state\r\n");
	pop3_session_free(&s);

	s = th_session(&st);
	ck_feed(&h, s, "STLS\r\n", "+OK Begin TLS negotiation\r\n");
	pop3_session_tls_done(s, false, NULL);
	ck_assert_int_eq(pop3_session_request(s), POP3_REQ_CLOSE);
	pop3_session_free(&s);

	st.stls_offered = false;
	s = th_session(&st);
	ck_feed(&h, s, "STLS\r\n", "-ERR STLS not available here\r\n");
	pop3_session_free(&s);
	th_free(&h);
}
END_TEST

START_TEST(wrong_state)
{
	static const char *const trans[] = {"STAT",   "LIST",	 "LIST 1",
					    "RETR 1", "DELE 1",	 "NOOP",
					    "RSET",   "TOP 1 0", "UIDL"};
	struct test_host h;
	th_init(&h);
	struct pop3_settings st = th_settings();
	struct pop3_session *s = th_session(&st);
	for (size_t i = 0; i < sizeof(trans) / sizeof(trans[0]); i++) {
		char line[32], want[80];
		snprintf(line, sizeof(line), "%s\r\n", trans[i]);
		snprintf(want, sizeof(want),
			 "-ERR %.4s not valid in the AUTHORIZATION state\r\n",
			 trans[i]);
		if (strncmp(trans[i], "TOP", 3) == 0)
			snprintf(want, sizeof(want),
				 "-ERR TOP not valid in "
				 "the AUTHORIZATION "
				 "state\r\n");
		ck_feed(&h, s, line, want);
	}
	ck_feed(&h, s, "PASS x\r\n",
		"-ERR PASS must follow a successful USER\r\n");
	pop3_session_free(&s);

	s = th_login(&h, &st);
	ck_feed(&h, s,
		"USER alice\r\nPASS x\r\nAPOP a "
		"0123456789abcdef0123456789abcdef\r\n"
		"AUTH PLAIN\r\nSTAT\r\n",
		"-ERR USER not valid in the TRANSACTION state\r\n"
		"-ERR PASS not valid in the TRANSACTION state\r\n"
		"-ERR APOP not valid in the TRANSACTION state\r\n"
		"-ERR AUTH not valid in the TRANSACTION state\r\n"
		"+OK 0 0\r\n");
	pop3_session_free(&s);
	th_free(&h);
}
END_TEST

START_TEST(unknown_and_case)
{
	struct test_host h;
	th_init(&h);
	struct pop3_settings st = th_settings();
	struct pop3_session *s = th_session(&st);
	ck_feed(&h, s,
		"XYZZY plugh\r\nuser alice\r\npAsS wonderland\r\nstat\r\n",
		"-ERR Unknown command\r\n+OK Send PASS\r\n"
		"+OK Maildrop locked and ready: 0 messages (0 octets)\r\n"
		"+OK 0 0\r\n");
	ck_feed(&h, s, "STAT\n", "-ERR Lines end in CRLF\r\n");
	ck_feed(&h, s, "ST\rAT\r\n", "-ERR Lines end in CRLF\r\n");
	ck_assert_int_eq(pop3_session_feed(s, "NO\0OP\r\n", 7), 7);
	char *out = th_output(s);
	ck_assert_str_eq(out, "-ERR NUL byte in command line\r\n");
	free(out);
	pop3_session_free(&s);
	th_free(&h);
}
END_TEST

/* RFC 2449 4: 255 octets with CRLF are taken; a longer line is refused
 * when its end arrives, with a short reply, and the session goes on. */
START_TEST(line_length)
{
	struct test_host h;
	th_init(&h);
	struct pop3_settings st = th_settings();
	struct pop3_session *s = th_login(&h, &st);
	char line[2100];
	memset(line, 'X', sizeof(line));
	memcpy(line, "NOOP ", 5);
	memcpy(line + 253, "\r\n", 3); /* 255 octets */
	ck_feed(&h, s, line, "-ERR Syntax: NOOP takes no arguments\r\n");
	memcpy(line + 253, "X\r\n", 4); /* 256 */
	ck_feed(&h, s, line,
		"-ERR Line too long (at most 255 octets with CRLF)\r\n");
	memset(line, 'X', sizeof(line));
	memcpy(line + 2000, "\r\nSTAT\r\n", 9);
	char *out = th_feed_steps(&h, s, line, 100);
	ck_assert_str_eq(out, "-ERR Line too long (at most 255 octets with "
			      "CRLF)\r\n+OK 0 0\r\n");
	free(out);
	pop3_session_free(&s);
	th_free(&h);
}
END_TEST

START_TEST(too_many_errors)
{
	struct test_host h;
	th_init(&h);
	struct pop3_settings st = th_settings();
	st.max_errors = 3;
	struct pop3_session *s = th_session(&st);
	ck_feed(&h, s, "A\r\nB\r\nC\r\nD\r\n",
		"-ERR Unknown command\r\n-ERR Unknown command\r\n"
		"-ERR Unknown command\r\n");
	ck_assert_int_eq(pop3_session_request(s), POP3_REQ_CLOSE);
	pop3_session_free(&s);
	th_free(&h);
}
END_TEST

static void add_two(struct test_host *h)
{
	th_add(h, 5, msg1);
	th_add(h, 9, msg2);
}

START_TEST(stat_list_uidl)
{
	struct test_host h;
	th_init(&h);
	add_two(&h);
	struct pop3_settings st = th_settings();
	struct pop3_session *s = th_session(&st);
	/* msg1: 23 octets, 3 LF → 26; msg2: 29 octets + CRLF added → 31 */
	ck_feed(&h, s, "USER alice\r\nPASS wonderland\r\n",
		"+OK Send PASS\r\n"
		"+OK Maildrop locked and ready: 2 messages (57 octets)\r\n");
	ck_feed(&h, s, "STAT\r\nLIST\r\nLIST 2\r\nUIDL\r\nUIDL 1\r\n",
		"+OK 2 57\r\n+OK 2 messages (57 octets)\r\n1 26\r\n2 31\r\n"
		".\r\n+OK 2 31\r\n+OK Unique-id listing follows\r\n"
		"1 000000056553F100\r\n2 000000096553F100\r\n.\r\n"
		"+OK 1 000000056553F100\r\n");
	ck_feed(&h, s,
		"LIST 0\r\nLIST 3\r\nLIST x\r\nLIST 1 1\r\nLIST  1\r\n"
		"UIDL 18446744073709551617\r\n",
		"-ERR No such message\r\n-ERR No such message\r\n"
		"-ERR Syntax: a message number is needed\r\n"
		"-ERR Syntax: a message number is needed\r\n"
		"-ERR Syntax: a message number is needed\r\n"
		"-ERR No such message\r\n");
	pop3_session_free(&s);
	th_free(&h);
}
END_TEST

START_TEST(retr_streams_crlf_and_stuffing)
{
	struct test_host h;
	th_init(&h);
	add_two(&h);
	struct pop3_settings st = th_settings();
	struct pop3_session *s = th_login(&h, &st);
	ck_feed(&h, s, "RETR 1\r\n",
		"+OK 26 octets\r\nSubject: one\r\n\r\nbody one\r\n.\r\n");
	ck_feed(&h, s, "RETR 2\r\n",
		"+OK 31 octets\r\nSubject: two\r\n\r\n..dot\r\n..\r\nlast\r\n"
		".\r\n");
	ck_assert_uint_gt(h.reads, 8); /* 7-byte chunks */
	pop3_session_free(&s);
	th_free(&h);
}
END_TEST

START_TEST(top)
{
	struct test_host h;
	th_init(&h);
	th_add(&h, 1, "A: 1\nB: 2\n\n.l1\nl2\nl3\n");
	th_add(&h, 2, "A: 1\n");
	struct pop3_settings st = th_settings();
	struct pop3_session *s = th_login(&h, &st);
	ck_feed(&h, s, "TOP 1 0\r\n",
		"+OK Top of message follows\r\nA: 1\r\nB: 2\r\n\r\n.\r\n");
	ck_feed(&h, s, "TOP 1 2\r\n",
		"+OK Top of message follows\r\nA: 1\r\nB: 2\r\n\r\n..l1\r\n"
		"l2\r\n.\r\n");
	ck_feed(&h, s, "TOP 1 99999999999999999999999\r\n",
		"+OK Top of message follows\r\nA: 1\r\nB: 2\r\n\r\n..l1\r\n"
		"l2\r\nl3\r\n.\r\n");
	ck_feed(&h, s, "TOP 2 0\r\n",
		"+OK Top of message follows\r\nA: 1\r\n.\r\n");
	ck_feed(&h, s,
		"TOP 1\r\nTOP 1 -1\r\nTOP\r\nTOP 0 0\r\nTOP 3 0\r\n"
		"TOP 1 1 1\r\n",
		"-ERR Syntax: TOP message lines\r\n"
		"-ERR Syntax: TOP message lines\r\n"
		"-ERR Syntax: TOP message lines\r\n-ERR No such message\r\n"
		"-ERR No such message\r\n-ERR Syntax: TOP message lines\r\n");
	pop3_session_free(&s);
	th_free(&h);
}
END_TEST

START_TEST(dele_rset_quit)
{
	struct test_host h;
	th_init(&h);
	add_two(&h);
	th_add(&h, 12, "x\n");
	struct pop3_settings st = th_settings();
	struct pop3_session *s = th_login(&h, &st);
	ck_feed(&h, s,
		"DELE 1\r\nDELE 1\r\nRETR 1\r\nTOP 1 0\r\nLIST 1\r\n"
		"UIDL 1\r\nSTAT\r\nLIST\r\n",
		"+OK Message 1 deleted\r\n-ERR Message 1 already deleted\r\n"
		"-ERR Message 1 already deleted\r\n"
		"-ERR Message 1 already deleted\r\n"
		"-ERR Message 1 already deleted\r\n"
		"-ERR Message 1 already deleted\r\n+OK 2 34\r\n"
		"+OK 2 messages (34 octets)\r\n2 31\r\n3 3\r\n.\r\n");
	ck_feed(&h, s, "RSET\r\nSTAT\r\nDELE 3\r\nDELE 1\r\n",
		"+OK Maildrop has 3 messages (60 octets)\r\n+OK 3 60\r\n"
		"+OK Message 3 deleted\r\n+OK Message 1 deleted\r\n");
	ck_assert(!h.updated);
	ck_feed(&h, s, "QUIT\r\nSTAT\r\n",
		"+OK Quill POP3 server signing off (2 messages deleted)\r\n");
	ck_assert_int_eq(pop3_session_request(s), POP3_REQ_CLOSE);
	ck_assert(h.updated);
	ck_assert_uint_eq(h.n_removed, 2);
	ck_assert_uint_eq(h.removed[0], 5);
	ck_assert_uint_eq(h.removed[1], 12);
	pop3_session_free(&s);
	th_free(&h);
}
END_TEST

/* RFC 1939 6: no UPDATE unless QUIT; autologout says nothing (3). */
START_TEST(no_update_without_quit)
{
	struct test_host h;
	th_init(&h);
	add_two(&h);
	struct pop3_settings st = th_settings();
	struct pop3_session *s = th_login(&h, &st);
	ck_feed(&h, s, "DELE 1\r\n", "+OK Message 1 deleted\r\n");
	pop3_session_timeout(s);
	ck_assert_int_eq(pop3_session_request(s), POP3_REQ_CLOSE);
	char *out = th_output(s);
	ck_assert_str_eq(out, "");
	free(out);
	ck_assert(!h.updated);
	pop3_session_free(&s);

	s = th_login(&h, &st);
	ck_feed(&h, s, "DELE 1\r\n", "+OK Message 1 deleted\r\n");
	pop3_session_shutdown(s);
	out = th_output(s);
	ck_assert_str_eq(out, "-ERR [SYS/TEMP] Server shutting down\r\n");
	free(out);
	ck_assert_int_eq(pop3_session_request(s), POP3_REQ_CLOSE);
	ck_assert(!h.updated);
	pop3_session_free(&s);

	/* QUIT in AUTHORIZATION: no UPDATE either */
	s = th_session(&st);
	ck_feed(&h, s, "QUIT\r\n", "+OK Quill POP3 server signing off\r\n");
	ck_assert_int_eq(pop3_session_request(s), POP3_REQ_CLOSE);
	ck_assert(!h.updated);
	pop3_session_free(&s);
	th_free(&h);
}
END_TEST

START_TEST(update_failure)
{
	struct test_host h;
	th_init(&h);
	add_two(&h);
	struct pop3_settings st = th_settings();
	struct pop3_session *s = th_login(&h, &st);
	ck_feed(&h, s, "DELE 2\r\n", "+OK Message 2 deleted\r\n");
	ck_assert_int_eq(pop3_session_feed(s, "QUIT\r\n", 6), 6);
	ck_assert_int_eq(pop3_session_request(s), POP3_REQ_UPDATE);
	struct pop3_answer a = {.status = POP3_ANSWER_TEMP};
	pop3_session_resume(s, &a);
	char *out = th_output(s);
	ck_assert_str_eq(out, "-ERR [SYS/TEMP] Some deleted messages not "
			      "removed\r\n");
	free(out);
	ck_assert_int_eq(pop3_session_request(s), POP3_REQ_CLOSE);
	pop3_session_free(&s);
	th_free(&h);
}
END_TEST

START_TEST(read_failures)
{
	struct test_host h;
	th_init(&h);
	add_two(&h);
	struct pop3_settings st = th_settings();
	struct pop3_session *s = th_login(&h, &st);
	h.fail_read_at = 0;
	h.read_status = POP3_ANSWER_GONE;
	ck_feed(&h, s, "RETR 1\r\n",
		"-ERR Message 1 was removed by another client\r\n");
	h.read_status = POP3_ANSWER_TEMP;
	ck_feed(&h, s, "TOP 2 1\r\n",
		"-ERR [SYS/TEMP] Message 2 cannot be read now\r\n");
	h.read_status = POP3_ANSWER_PERM;
	ck_feed(&h, s, "RETR 2\r\n",
		"-ERR [SYS/PERM] Message 2 cannot be read\r\n");
	/* after the +OK, a failure can only end the connection */
	h.fail_read_at = 7;
	ck_feed(&h, s, "RETR 2\r\nSTAT\r\n", "+OK 31 octets\r\nSubject");
	ck_assert_int_eq(pop3_session_request(s), POP3_REQ_CLOSE);
	pop3_session_free(&s);
	th_free(&h);
}
END_TEST

/* A large LIST is written in batches, each after the last was sent. */
START_TEST(listing_in_batches)
{
	struct test_host h;
	th_init(&h);
	struct pop3_settings st = th_settings();
	struct pop3_session *s = th_session(&st);
	ck_feed(&h, s, "USER alice\r\nPASS wonderland\r\n",
		"+OK Send PASS\r\n"
		"+OK Maildrop locked and ready: 0 messages (0 octets)\r\n");
	/* swap in a listing of 20000 messages */
	pop3_listing_free(&s->drop);
	s->drop = pop3_listing_new(7, 20000);
	for (uint32_t i = 0; i < 20000; i++) {
		s->drop->msgs[i].uid = i + 1;
		s->drop->msgs[i].size = 1000;
	}
	s->drop->msgs[3].deleted = true;
	char *out = th_feed(&h, s, "LIST\r\nNOOP\r\n");
	ck_assert_uint_gt(h.mores, 3);
	ck_assert(strncmp(out,
			  "+OK 19999 messages (19999000 octets)\r\n"
			  "1 1000\r\n2 1000\r\n3 1000\r\n5 1000\r\n",
			  70) == 0);
	size_t n = strlen(out);
	ck_assert_str_eq(out + n - 20, "20000 1000\r\n.\r\n+OK\r\n");
	free(out);
	pop3_session_free(&s);
	th_free(&h);
}
END_TEST

/* The same session fed whole and a byte at a time answers the same. */
START_TEST(split_at_every_size)
{
	static const char in[] =
		"CAPA\r\nUSER alice\r\nPASS wonderland\r\nSTAT\r\nLIST\r\n"
		"RETR 2\r\nTOP 1 1\r\nDELE "
		"1\r\nUIDL\r\nXYZ\r\nRSET\r\nQUIT\r\n";
	struct test_host h;
	th_init(&h);
	add_two(&h);
	struct pop3_settings st = th_settings();
	struct pop3_session *s = th_session(&st);
	char *whole = th_feed(&h, s, in);
	pop3_session_free(&s);
	ck_assert(strstr(whole, "+OK Quill POP3 server signing off") != NULL);
	for (size_t step = 1; step < 20; step++) {
		s = th_session(&st);
		char *out = th_feed_steps(&h, s, in, step);
		ck_assert_str_eq(out, whole);
		free(out);
		pop3_session_free(&s);
	}
	free(whole);
	th_free(&h);
}
END_TEST

START_TEST(maildrop_refusals)
{
	static const struct {
		enum pop3_status st;
		const char *reply;
	} cases[] = {
		{POP3_ANSWER_IN_USE,
		 "-ERR [IN-USE] Maildrop is locked by another session\r\n"},
		{POP3_ANSWER_LOGIN_DELAY, "-ERR [LOGIN-DELAY] Logged in too "
					  "recently; wait at least 60 "
					  "seconds\r\n"},
		{POP3_ANSWER_TEMP,
		 "-ERR [SYS/TEMP] Maildrop not available; try later\r\n"},
		{POP3_ANSWER_PERM,
		 "-ERR [SYS/PERM] Maildrop cannot be opened\r\n"},
	};
	struct test_host h;
	th_init(&h);
	struct pop3_settings st = th_settings();
	st.login_delay = 60;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pop3_session *s = th_session(&st);
		h.maildrop_status = cases[i].st;
		char *out = th_feed(
			&h, s, "USER alice\r\nPASS wonderland\r\nSTAT\r\n");
		char want[200];
		snprintf(want, sizeof(want),
			 "+OK Send PASS\r\n%s-ERR STAT not valid in the "
			 "AUTHORIZATION state\r\n",
			 cases[i].reply);
		ck_assert_str_eq(out, want);
		free(out);
		ck_assert_uint_eq(h.delays, 0);
		pop3_session_free(&s);
	}
	th_free(&h);
}
END_TEST

static Suite *pop3_session_suite(void)
{
	Suite *su = suite_create("pop3_session");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, greeting);
	tcase_add_test(tc, capa_authorization);
	tcase_add_test(tc, capa_transaction_keeps_user_and_sasl);
	tcase_add_test(tc, stls);
	tcase_add_test(tc, wrong_state);
	tcase_add_test(tc, unknown_and_case);
	tcase_add_test(tc, line_length);
	tcase_add_test(tc, too_many_errors);
	tcase_add_test(tc, stat_list_uidl);
	tcase_add_test(tc, retr_streams_crlf_and_stuffing);
	tcase_add_test(tc, top);
	tcase_add_test(tc, dele_rset_quit);
	tcase_add_test(tc, no_update_without_quit);
	tcase_add_test(tc, update_failure);
	tcase_add_test(tc, read_failures);
	tcase_add_test(tc, listing_in_batches);
	tcase_add_test(tc, split_at_every_size);
	tcase_add_test(tc, maildrop_refusals);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	log_setup(LOGL_ERROR, LOG_TO_STDERR, "test");
	SRunner *sr = srunner_create(pop3_session_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
