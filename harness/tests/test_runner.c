/*
 * test_runner.c - the runner against a tiny fake server (a forked child
 * on a loopback listener playing a script), without quilld: passing
 * dialogues, silence, early close, garbage, unknown variables at run
 * time, the high-level SMTP and POP3 steps, IMAP, wait_until (the pool:
 * test_pool.c).
 */
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "runner.h"
#include "target.h"

/* ---- the fake server ------------------------------------------------
 * A script of steps: "A" accept, "S<text>" send, "R<line>" read a line
 * (CRLF removed) that must equal <line>, "P<prefix>" read a line that
 * must start with <prefix>, "W<ms>" wait, "C" close the
 * connection, "H" hold until the client closes. Every wait is bounded by
 * 5 s; the child exits 0 if the whole script ran. */

struct fake {
	int lfd;
	unsigned port;
	pid_t pid;
};

static int wait_in(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, 5000) > 0 ? 0 : -1;
}

static int read_line(int fd, char *line, size_t n)
{
	size_t o = 0;
	char c;
	while (o + 1 < n) {
		if (wait_in(fd) != 0 || read(fd, &c, 1) != 1)
			return -1;
		if (c == '\n')
			break;
		line[o++] = c;
	}
	if (o > 0 && line[o - 1] == '\r')
		o--;
	line[o] = '\0';
	return 0;
}

static int play(int lfd, const char *const *script)
{
	char line[4096], buf[256];
	int cfd = -1;
	for (; *script != NULL; script++) {
		const char *s = *script;
		switch (s[0]) {
		case 'A':
			if (wait_in(lfd) != 0 ||
			    (cfd = accept(lfd, NULL, NULL)) < 0)
				return 10;
			break;
		case 'S':
			if (write(cfd, s + 1, strlen(s + 1)) !=
			    (ssize_t)strlen(s + 1))
				return 11;
			break;
		case 'R':
			if (read_line(cfd, line, sizeof(line)) != 0 ||
			    strcmp(line, s + 1) != 0)
				return 12;
			break;
		case 'P':
			if (read_line(cfd, line, sizeof(line)) != 0 ||
			    strncmp(line, s + 1, strlen(s + 1)) != 0)
				return 14;
			break;
		case 'W':
			usleep((useconds_t)strtoul(s + 1, NULL, 10) * 1000);
			break;
		case 'C':
			close(cfd);
			cfd = -1;
			break;
		case 'H':
			while (wait_in(cfd) == 0 && read(cfd, buf, 256) > 0)
				;
			break;
		default:
			return 13;
		}
	}
	return 0;
}

static void fake_start(struct fake *f, const char *const *script)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t al = sizeof(a);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->lfd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(f->lfd, 0);
	ck_assert_int_eq(bind(f->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(f->lfd, 8), 0);
	ck_assert_int_eq(getsockname(f->lfd, (struct sockaddr *)&a, &al), 0);
	f->port = ntohs(a.sin_port);
	f->pid = fork();
	ck_assert_int_ge(f->pid, 0);
	if (f->pid == 0)
		_exit(play(f->lfd, script));
}

/* The script's exit status. */
static int fake_end(struct fake *f)
{
	int st = 0;
	close(f->lfd);
	waitpid(f->pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100;
}

static struct target *fake_target(unsigned port)
{
	char y[1024];
	struct scenario_error e;
	snprintf(y, sizeof(y),
		 "name: fake\nhost: 127.0.0.1\ndomain: example.test\n"
		 "tls_verify: false\nservices:\n"
		 "  smtp: { port: %u, tls: starttls }\n"
		 "  pop3: { port: %u, tls: none }\n"
		 "  imap: { port: %u }\n"
		 "users:\n  - { name: alice, password: wonderland, "
		 "address: alice@example.test }\n"
		 "capabilities: [smtp, pop3]\n",
		 port, port, port);
	struct target *t = target_load_string("fake.yaml", y, strlen(y), &e);
	ck_assert_msg(t != NULL, "%s", e.message);
	return t;
}

/* Run steps (YAML) against a fake server playing script. */
static void run(const char *steps, const char *const *script,
		struct runner_outcome *out, int *script_rc)
{
	char y[8192];
	struct scenario_error e;
	struct fake f;
	fake_start(&f, script);
	struct target *t = fake_target(f.port);
	struct runner_options ro = {.target = t, .unique = "u1"};
	snprintf(y, sizeof(y),
		 "id: t\nsummary: s\nrfc: [RFC1-1]\ntimeout: 20\nsteps:\n%s",
		 steps);
	struct scenario *sc =
		scenario_load_string("t.yaml", y, strlen(y), NULL, &e);
	ck_assert_msg(sc != NULL, "%s:%u:%u: %s", e.file, e.line, e.column,
		      e.message);
	runner_run(sc, &ro, out);
	*script_rc = fake_end(&f);
	scenario_free(&sc);
	target_free(&t);
}

#define SCRIPT(...) ((const char *const[]){__VA_ARGS__, NULL})

START_TEST(smtp_dialogue_passes)
{
	struct runner_outcome o;
	int src;
	run("  - connect: smtp\n"
	    "  - expect: { smtp: 220 }\n"
	    "  - sendline: \"EHLO ${target.domain}\"\n"
	    "  - expect: { smtp: 250, has: [PIPELINING], lines: 2 }\n"
	    "  - send: { data: \"QUIT\\r\\n\", chunk: 1, pause_ms: 1 }\n"
	    "  - expect: { smtp: 221 }\n"
	    "  - expect_close: {}\n",
	    SCRIPT("A", "S220 hi\r\n", "REHLO example.test",
		   "S250-hello\r\n250 PIPELINING\r\n", "RQUIT", "S221 bye\r\n",
		   "C"),
	    &o, &src);
	ck_assert_msg(o.status == RESULT_PASS, "%s\n%s", o.reason,
		      o.transcript);
	ck_assert_ptr_null(o.reason);
	ck_assert_ptr_null(o.transcript);
	ck_assert_int_eq(src, 0);
	runner_outcome_free(&o);
}
END_TEST

START_TEST(silence_times_out)
{
	struct runner_outcome o;
	int src;
	run("  - connect: smtp\n"
	    "  - expect: { smtp: 220 }\n    within: 0.3\n",
	    SCRIPT("A", "H"), &o, &src);
	ck_assert_int_eq(o.status, RESULT_FAIL);
	ck_assert_str_eq(o.reason, "step 2 'expect': expected reply 220, got "
				   "nothing within 0.300 s");
	ck_assert_ptr_nonnull(strstr(o.transcript, "main * connected to "
						   "127.0.0.1:"));
	runner_outcome_free(&o);
}
END_TEST

START_TEST(early_close_and_garbage)
{
	struct runner_outcome o;
	int src;
	run("  - connect: smtp\n  - expect: { smtp: 220 }\n",
	    SCRIPT("A", "S220-more to come\r\n", "C"), &o, &src);
	ck_assert_int_eq(o.status, RESULT_FAIL);
	ck_assert_str_eq(o.reason, "step 2 'expect': expected reply 220, got "
				   "the connection closed");
	ck_assert_ptr_nonnull(strstr(o.transcript,
				     "main S: 220-more to come\n"
				     "main * connection closed by the "
				     "server\n"));
	runner_outcome_free(&o);

	run("  - connect: smtp\n  - expect: { smtp: 220 }\n",
	    SCRIPT("A", "SHELLO\x01garbage\r\n", "H"), &o, &src);
	ck_assert_int_eq(o.status, RESULT_FAIL);
	ck_assert_msg(strncmp(o.reason,
			      "step 2 'expect': expected reply 220, "
			      "got not a valid SMTP reply: ",
			      60) == 0,
		      "%s", o.reason);
	ck_assert_ptr_nonnull(strstr(o.transcript, "HELLO\\x01garbage"));
	runner_outcome_free(&o);
}
END_TEST

START_TEST(unknown_variable_is_an_error)
{
	struct runner_outcome o;
	int src;
	run("  - connect: smtp\n  - sendline: \"EHLO ${nope}\"\n",
	    SCRIPT("A", "H"), &o, &src);
	ck_assert_int_eq(o.status, RESULT_ERROR);
	ck_assert_str_eq(o.reason, "step 2 'sendline': unknown variable "
				   "'nope' (line 7)");
	runner_outcome_free(&o);
}
END_TEST

START_TEST(expect_close_and_nothing)
{
	struct runner_outcome o;
	int src;
	run("  - connect: smtp\n  - expect: { nothing: 0.2 }\n"
	    "  - expect_close: {}\n",
	    SCRIPT("A", "W400", "Sbye\r\n", "C"), &o, &src);
	ck_assert_int_eq(o.status, RESULT_FAIL);
	ck_assert_str_eq(o.reason, "step 3 'expect_close': expected the "
				   "connection closed, got data 'bye\\r\\n'");
	runner_outcome_free(&o);
	run("  - connect: smtp\n  - expect_close: { allow_data: true }\n",
	    SCRIPT("A", "Sbye\r\n", "C"), &o, &src);
	ck_assert_msg(o.status == RESULT_PASS, "%s", o.reason);
	runner_outcome_free(&o);
	run("  - connect: smtp\n  - expect: { nothing: 0.5 }\n",
	    SCRIPT("A", "W100", "Soops\r\n", "H"), &o, &src);
	ck_assert_int_eq(o.status, RESULT_FAIL);
	ck_assert_str_eq(o.reason, "step 2 'expect': expected nothing for "
				   "0.500 s, got 'oops\\r\\n'");
	runner_outcome_free(&o);
}
END_TEST

START_TEST(smtp_high_level)
{
	struct runner_outcome o;
	int src;
	run("  - connect: smtp\n"
	    "  - smtp_hello: { name: c.example }\n"
	    "  - smtp_auth: { user: \"${user1}\", pass: \"${pass1}\" }\n"
	    "  - smtp_auth: { user: a, pass: b, mech: LOGIN, expect: 535 }\n"
	    "  - smtp_send:\n"
	    "      from: \"${addr1}\"\n"
	    "      to: [bob@example.test]\n"
	    "      data: |\n"
	    "        Subject: hi\n"
	    "\n"
	    "        .dot\n"
	    "  - sendline: \"R ${last_reply}\"\n"
	    "  - smtp_send: { from: \"\", to: x@y, data: \"x\", expect: 550 "
	    "}\n",
	    SCRIPT("A", "S220 hi\r\n", "REHLO c.example",
		   "S250-hello\r\n250 AUTH PLAIN LOGIN\r\n",
		   "RAUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=", "S235 ok\r\n",
		   "RAUTH LOGIN", "S334 VXNlcm5hbWU6\r\n", "RYQ==",
		   "S334 UGFzc3dvcmQ6\r\n", "RYg==", "S535 5.7.8 no\r\n",
		   "RMAIL FROM:<alice@example.test>", "S250 ok\r\n",
		   "RRCPT TO:<bob@example.test>", "S250 ok\r\n", "RDATA",
		   "S354 go\r\n", "RSubject: hi", "R", "R..dot", "R.",
		   "S250 2.0.0 queued as Q1\r\n", "RR 250 2.0.0 queued as Q1",
		   "RMAIL FROM:<>", "S550 5.7.1 no\r\n", "H"),
	    &o, &src);
	ck_assert_msg(o.status == RESULT_PASS, "%s\n%s", o.reason,
		      o.transcript);
	ck_assert_int_eq(src, 0);
	runner_outcome_free(&o);
}
END_TEST

/* PLAIN after a 334; SCRAM-SHA-256's client-first message, and the step
 * failing on a challenge that is not base64. */
START_TEST(smtp_auth_plain_no_ir_and_scram)
{
	struct runner_outcome o;
	int src;
	run("  - connect: smtp\n"
	    "  - smtp_auth: { user: alice, pass: wonderland, initial: false "
	    "}\n"
	    "  - smtp_auth: { user: alice, pass: x, mech: SCRAM-SHA-256, "
	    "expect: 535 }\n",
	    SCRIPT("A", "RAUTH PLAIN", "S334 \r\n",
		   "RAGFsaWNlAHdvbmRlcmxhbmQ=", "S235 2.7.0 ok\r\n",
		   /* base64 of "n,,n=alice,r" */
		   "PAUTH SCRAM-SHA-256 biwsbj1hbGljZSxy", "S535 5.7.8 no\r\n",
		   "H"),
	    &o, &src);
	ck_assert_msg(o.status == RESULT_PASS, "%s\n%s", o.reason,
		      o.transcript);
	ck_assert_int_eq(src, 0);
	runner_outcome_free(&o);
	run("  - connect: smtp\n"
	    "  - smtp_auth: { user: alice, pass: x, mech: SCRAM-SHA-256 }\n",
	    SCRIPT("A", "PAUTH SCRAM-SHA-256 ", "S334 !!!\r\n", "H"), &o, &src);
	ck_assert_int_eq(o.status, RESULT_FAIL);
	ck_assert_str_eq(o.reason, "step 2 'smtp_auth': SCRAM: a 334 that is "
				   "not base64");
	runner_outcome_free(&o);
}
END_TEST

START_TEST(pop3_high_level_and_check_message)
{
	struct runner_outcome o;
	int src;
	run("  - connect: pop3\n"
	    "  - pop3_login: { user: \"${user1}\", pass: \"${pass1}\" }\n"
	    "  - pop3_stat: { capture_count: n, capture_size: size }\n"
	    "  - pop3_retr: { msg: \"${n}\", capture: m }\n"
	    "  - check_message:\n"
	    "      message: \"${m}\"\n"
	    "      header: { subject: \"hi u1\" }\n"
	    "      header_re: { Received: \"^from a\" }\n"
	    "      first_header: Return-Path\n"
	    "      header_count: { subject: 1, received: 1, Date: 0 }\n"
	    "      body_equals: \".x\\nend\\n\"\n"
	    "  - pop3_dele: { msg: 1 }\n"
	    "  - pop3_quit: {}\n",
	    SCRIPT("A", "S+OK ready\r\n", "RUSER alice", "S+OK\r\n",
		   "RPASS wonderland", "S+OK in\r\n", "RSTAT", "S+OK 1 60\r\n",
		   "RRETR 1",
		   "S+OK\r\nReturn-Path: <a@b>\r\nReceived: from a\r\n"
		   " by b\r\nSubject:  hi\r\n u1\r\n\r\n..x\r\nend"
		   "\r\n.\r\n",
		   "RDELE 1", "S+OK\r\n", "RQUIT", "S+OK bye\r\n", "C"),
	    &o, &src);
	ck_assert_msg(o.status == RESULT_PASS, "%s\n%s", o.reason,
		      o.transcript);
	ck_assert_int_eq(src, 0);
	runner_outcome_free(&o);
}
END_TEST

START_TEST(check_message_mismatch)
{
	struct runner_outcome o;
	int src;
	run("  - set: { m: \"Subject: a\\r\\n\\r\\nbody\\r\\n\" }\n"
	    "  - check_message: { message: \"${m}\", header: { Subject: b } "
	    "}\n",
	    SCRIPT("W1"), &o, &src);
	ck_assert_int_eq(o.status, RESULT_FAIL);
	ck_assert_str_eq(o.reason, "step 2 'check_message': header: expected "
				   "Subject: b, got Subject: a");
	runner_outcome_free(&o);
	run("  - set: { m: \"Date: a\\r\\nSubject: s\\r\\ndate: "
	    "b\\r\\n\\r\\n\" }\n"
	    "  - check_message: { message: \"${m}\", header_count: { Subject: "
	    "1, Date: 1 } }\n",
	    SCRIPT("W1"), &o, &src);
	ck_assert_int_eq(o.status, RESULT_FAIL);
	ck_assert_str_eq(o.reason,
			 "step 2 'check_message': header_count: "
			 "expected 1 Date field, got Date: a; date: b");
	runner_outcome_free(&o);
	run("  - set: { m: \"Subject: s\\r\\n\\r\\n\" }\n"
	    "  - check_message: { message: \"${m}\", header_count: { Date: 2 "
	    "} }\n",
	    SCRIPT("W1"), &o, &src);
	ck_assert_int_eq(o.status, RESULT_FAIL);
	ck_assert_str_eq(o.reason, "step 2 'check_message': header_count: "
				   "expected 2 Date fields, got no Date field");
	runner_outcome_free(&o);
}
END_TEST

START_TEST(imap_and_untagged)
{
	struct runner_outcome o;
	int src;
	run("  - connect: imap\n"
	    "  - expect: { line_re: \"^\\\\* OK\" }\n"
	    "  - sendline: a1 SELECT INBOX\n"
	    "  - expect: { imap: a1, status: OK, untagged: [\"EXISTS$\"],\n"
	    "              capture: { n: \"^\\\\* (\\\\d+) EXISTS$\" } }\n"
	    "  - sendline: a2 IDLE\n"
	    "  - expect: { line: \"+ idling\" }\n"
	    "  - expect: { imap_untagged: \"^\\\\* ${n} EXPUNGE$\" }\n",
	    SCRIPT("A", "S* OK IMAP ready\r\n", "Ra1 SELECT INBOX",
		   "S* 2 EXISTS\r\n* FLAGS {3}\r\n(a)\r\na1 OK done\r\n",
		   "Ra2 IDLE", "S+ idling\r\n* 1 RECENT\r\n",
		   "S* 2 EXPUNGE\r\n", "H"),
	    &o, &src);
	ck_assert_msg(o.status == RESULT_PASS, "%s\n%s", o.reason,
		      o.transcript);
	runner_outcome_free(&o);
}
END_TEST

START_TEST(wait_until_retries)
{
	struct runner_outcome o;
	int src;
	run("  - wait_until:\n"
	    "      every: 0.05\n"
	    "      limit: 5\n"
	    "      steps:\n"
	    "        - connect: pop3\n"
	    "        - expect: { pop3: ok }\n"
	    "  - sendline: QUIT\n",
	    SCRIPT("A", "S-ERR not yet\r\n", "H", "A", "S+OK now\r\n", "RQUIT"),
	    &o, &src);
	ck_assert_msg(o.status == RESULT_PASS, "%s\n%s", o.reason,
		      o.transcript);
	ck_assert_int_eq(src, 0);
	runner_outcome_free(&o);
}
END_TEST

START_TEST(send_forms)
{
	struct runner_outcome o;
	int src;
	run("  - connect: smtp\n"
	    "  - send: { file: \"" QUILL_TEST_DATA "/send-bytes.bin\", "
	    "chunk: 3 }\n"
	    "  - send: { repeat: \"ab\", times: 3, chunk: 4, pause_ms: 1 }\n"
	    "  - sendline: \"\"\n"
	    "  - set: { x: \"$$y\" }\n"
	    "  - repeat: { times: 2, steps: [ { sendline: \"${x}${i}\" } ] "
	    "}\n"
	    "  - expect: { line: \"ok\" }\n",
	    SCRIPT("A", "REHLO raw", "RBYTE \xff", "Rababab", "R$y1", "R$y2",
		   "Sok\r\n", "H"),
	    &o, &src);
	ck_assert_msg(o.status == RESULT_PASS, "%s\n%s", o.reason,
		      o.transcript);
	ck_assert_int_eq(src, 0);
	runner_outcome_free(&o);
}
END_TEST

START_TEST(tls_handshake_failure)
{
	struct runner_outcome o;
	int src;
	run("  - connect: smtp\n  - expect: { smtp: 220 }\n"
	    "  - starttls: {}\n    within: 2\n",
	    SCRIPT("A", "S220 go\r\nextra bytes\r\n", "W200",
		   "Snot a TLS record at all\r\n", "C"),
	    &o, &src);
	ck_assert_int_eq(o.status, RESULT_FAIL);
	ck_assert_msg(
		strncmp(o.reason, "step 3 'starttls': TLS handshake", 32) == 0,
		"%s", o.reason);
	ck_assert_ptr_nonnull(strstr(o.transcript, "main * dropped 13 bytes "
						   "received before the TLS "
						   "handshake"));
	runner_outcome_free(&o);
}
END_TEST

static Suite *runner_suite(void)
{
	Suite *s = suite_create("runner");
	TCase *tc = tcase_create("fake-server");
	tcase_add_test(tc, smtp_dialogue_passes);
	tcase_add_test(tc, silence_times_out);
	tcase_add_test(tc, early_close_and_garbage);
	tcase_add_test(tc, unknown_variable_is_an_error);
	tcase_add_test(tc, expect_close_and_nothing);
	tcase_add_test(tc, smtp_high_level);
	tcase_add_test(tc, smtp_auth_plain_no_ir_and_scram);
	tcase_add_test(tc, pop3_high_level_and_check_message);
	tcase_add_test(tc, check_message_mismatch);
	tcase_add_test(tc, imap_and_untagged);
	tcase_add_test(tc, wait_until_retries);
	tcase_add_test(tc, send_forms);
	tcase_add_test(tc, tls_handshake_failure);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	SRunner *sr = srunner_create(runner_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
