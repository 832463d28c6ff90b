/*
 * test_scenario.c - the scenario loader: a valid scenario of every step
 * kind read into the right structs, and each schema error reported with
 * its exact "file:line:col: step N 'kind': ... (expected ...)" text.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rfcmatrix.h"
#include "scenario.h"

#define HEAD "id: t.x\nsummary: s\nrfc: [RFC5321-4.1.1.1]\nsteps:\n"

static struct scenario *load(const char *yaml, char *msg, size_t n)
{
	struct scenario_error e;
	struct scenario *s =
		scenario_load_string("t.yaml", yaml, strlen(yaml), NULL, &e);
	msg[0] = '\0';
	if (s == NULL)
		scenario_error_format(&e, msg, n);
	return s;
}

static void assert_error(const char *yaml, const char *want)
{
	char msg[2048];
	struct scenario *s = load(yaml, msg, sizeof(msg));
	if (s != NULL)
		scenario_free(&s);
	ck_assert_msg(s == NULL, "loaded: %s", yaml);
	ck_assert_str_eq(msg, want);
}

static const char every_step[] =
	"id: t.every-step\n"
	"summary: every step kind once\n"
	"rfc: [RFC5321-4.1.1.1, RFC1939-3]\n"
	"tags: [smtp, fresh]\n"
	"requires: [smtp, imap.literal+]\n"
	"timeout: 30\n"
	"vars: { who: alice, where: \"${target.domain}\" }\n"
	"notes: why not\n"
	"steps:\n"
	"  - connect: smtp\n"
	"  - connect: { service: imaps, tls: none }\n"
	"    session: b\n"
	"    within: 2.5\n"
	"  - starttls: {}\n"
	"  - send: \"EHLO x\\r\\n\"\n"
	"  - send: { data: \"ab\\0c\", chunk: 1, pause_ms: 10 }\n"
	"  - send: { repeat: \"x\", times: 1000 }\n"
	"  - sendline: NOOP\n"
	"  - expect: { smtp: 25x, enhanced: 2.1.0, text: OK, lines: 2,\n"
	"              has: [SIZE, \"AUTH PLAIN\"], lacks: X,\n"
	"              capture: { q: \"as ([A-Z]+)$\" } }\n"
	"  - expect: { pop3: ok, code: IN-USE, multiline: true,\n"
	"              body_lines: 2, body_has: [\"1 2\"], body_re: "
	"\"^\\\\d+\" }\n"
	"  - expect: { imap: a1, status: NO, code: READ-WRITE,\n"
	"              untagged: [\"^\\\\* \\\\d+ EXISTS$\"], untagged_count: "
	"3 }\n"
	"  - expect: { imap_untagged: \"EXISTS\" }\n"
	"  - expect: { line: \"+ go\" }\n"
	"  - expect: { line_re: \"^\\\\+\", capture: { c: \"(.*)\" } }\n"
	"  - expect: { nothing: 0.25 }\n"
	"  - expect_close: { allow_data: true }\n"
	"  - close:\n"
	"  - smtp_hello: { name: c.example }\n"
	"  - smtp_auth: { user: \"${user1}\", pass: \"${pass1}\", mech: LOGIN "
	"}\n"
	"  - smtp_send: { from: \"${addr1}\", to: [a@b, c@d], data: hi, "
	"expect: 2xx }\n"
	"  - pop3_login: { user: u, pass: p, greeting: false }\n"
	"  - pop3_stat: { capture_count: n, capture_size: sz }\n"
	"  - pop3_retr: { msg: 1, capture: m }\n"
	"  - pop3_dele: { msg: \"${n}\" }\n"
	"  - pop3_quit: {}\n"
	"  - check_message: { message: \"${m}\", header: { Subject: hi },\n"
	"      header_re: { Received: \"from\" }, first_header: Return-Path,\n"
	"      body_equals: \"hi\", header_count: { Date: 1 } }\n"
	"  - sleep: 0.1\n"
	"  - repeat: { times: 3, steps: [ { sendline: \"N ${i}\" } ] }\n"
	"  - set: { a: \"1\", b: \"${a}\" }\n"
	"  - wait_until: { every: 0.5, limit: 3, steps: [ { sleep: 0 } ] }\n";

START_TEST(every_step_kind)
{
	char msg[2048];
	struct scenario *s = load(every_step, msg, sizeof(msg));
	ck_assert_msg(s != NULL, "%s", msg);
	ck_assert_str_eq(s->id, "t.every-step");
	ck_assert_uint_eq(s->n_rfc, 2);
	ck_assert(scenario_has_tag(s, "fresh"));
	ck_assert_str_eq(s->requires[1], "imap.literal+");
	ck_assert_uint_eq(s->timeout_s, 30);
	ck_assert_uint_eq(s->n_vars, 2);
	ck_assert(s->vars[1].value.has_vars);
	ck_assert_uint_eq(s->steps.n, 29);
	ck_assert_uint_eq(s->total_steps, 31);

	const struct scenario_step *st = s->steps.v;
	ck_assert_int_eq(st[0].kind, STEP_CONNECT);
	ck_assert_str_eq(st[0].session, "main");
	ck_assert_uint_eq(st[0].within_ms, 10000);
	ck_assert_str_eq(st[1].u.connect.service, "imaps");
	ck_assert_int_eq(st[1].u.connect.tls, SCENARIO_TLS_NONE);
	ck_assert_str_eq(st[1].session, "b");
	ck_assert_uint_eq(st[1].within_ms, 2500);
	ck_assert_uint_eq(st[3].u.send.data.len, 8);
	ck_assert_uint_eq(st[4].u.send.data.len, 4); /* "ab\0c" */
	ck_assert_uint_eq(st[4].u.send.chunk, 1);
	ck_assert_int_eq(st[5].u.send.form, SEND_REPEAT);
	ck_assert_uint_eq(st[5].u.send.times, 1000);

	const struct expect_spec *e = &st[7].u.expect;
	ck_assert_str_eq(e->code, "25x");
	ck_assert_str_eq(e->enhanced.s, "2.1.0");
	ck_assert_uint_eq(e->n_has, 2);
	ck_assert_uint_eq(e->n_lacks, 1);
	ck_assert_int_eq(e->lines, 2);
	ck_assert_str_eq(e->captures[0].name, "q");
	ck_assert(e->captures[0].re.compiled);
	ck_assert_int_eq(st[8].u.expect.pop3, EXPECT_POP3_OK);
	ck_assert(st[8].u.expect.multiline);
	ck_assert_int_eq(st[9].u.expect.imap_status, EXPECT_IMAP_NO);
	ck_assert_int_eq(st[9].u.expect.untagged_count, 3);
	ck_assert_uint_eq(st[13].u.expect.nothing_ms, 250);
	ck_assert(st[14].allow_data);
	ck_assert_int_eq(st[15].kind, STEP_CLOSE);
	ck_assert_int_eq(st[17].u.smtp.mech, AUTH_MECH_LOGIN);
	ck_assert(st[17].u.smtp.initial);
	ck_assert_uint_eq(st[18].u.smtp.n_to, 2);
	ck_assert_str_eq(st[18].u.smtp.code, "2xx");
	ck_assert(!st[19].u.pop3.greeting);
	ck_assert_str_eq(st[20].u.pop3.capture_size, "sz");
	ck_assert(st[22].u.pop3.msg.has_vars);
	ck_assert_str_eq(st[24].u.check.first_header, "Return-Path");
	ck_assert_uint_eq(st[24].u.check.n_header_count, 1);
	ck_assert_str_eq(st[24].u.check.header_count[0].name, "Date");
	ck_assert_uint_eq(st[24].u.check.header_count[0].n, 1);
	ck_assert_uint_eq(st[25].u.ctl.ms, 100);
	ck_assert_str_eq(st[26].u.ctl.steps.v[0].label, "27.1");
	ck_assert_uint_eq(st[27].u.ctl.n_set, 2);
	ck_assert_uint_eq(st[28].u.ctl.every_ms, 500);
	ck_assert_uint_eq(st[28].u.ctl.limit_ms, 3000);
	ck_assert_str_eq(scenario_step_name(st[28].kind), "wait_until");
	scenario_free(&s);
	ck_assert_ptr_null(s);
}
END_TEST

START_TEST(doc_example_error)
{
	assert_error(HEAD "  - connect: smtp\n"
			  "  - expect: { smtp: 220 }\n"
			  "  - expect:\n"
			  "      smpt: 250\n",
		     "t.yaml:8:7: step 3 'expect': unknown key 'smpt' "
		     "(expected one of smtp, pop3, imap, imap_untagged, line, "
		     "line_re, nothing)");
}
END_TEST

START_TEST(smtp_auth_mechanisms)
{
	char err[512];
	struct scenario *s = load(
		HEAD
		"  - smtp_auth: { user: u, pass: p, mech: SCRAM-SHA-256 }\n"
		"  - smtp_auth: { user: u, pass: p, initial: false }\n"
		"  - smtp_auth: { user: u, pass: p, expect: 535 }\n",
		err, sizeof(err));
	ck_assert_msg(s != NULL, "%s", err);
	ck_assert_int_eq(s->steps.v[0].u.smtp.mech, AUTH_MECH_SCRAM);
	ck_assert_int_eq(s->steps.v[1].u.smtp.mech, AUTH_MECH_PLAIN);
	ck_assert(!s->steps.v[1].u.smtp.initial);
	ck_assert(s->steps.v[2].u.smtp.initial);
	ck_assert_str_eq(s->steps.v[2].u.smtp.code, "535");
	scenario_free(&s);
	assert_error(
		HEAD "  - smtp_auth: { user: u, pass: p, mech: CRAM-MD5 "
		     "}\n",
		"t.yaml:5:42: step 1 'smtp_auth': bad value 'CRAM-MD5' for "
		"'mech' (expected PLAIN, LOGIN or SCRAM-SHA-256)");
	assert_error(HEAD "  - smtp_auth: { user: u, pass: p, mech: LOGIN, "
			  "initial: false }\n",
		     "t.yaml:5:16: step 1 'smtp_auth': 'initial: false' with "
		     "another mechanism (expected it with PLAIN only)");
}
END_TEST

START_TEST(top_level_errors)
{
	assert_error("summary: s\nrfc: [RFC1-1]\nsteps: [ {close: {}} ]\n",
		     "t.yaml:1:1: missing key 'id'");
	assert_error("id: x\nsumary: s\n",
		     "t.yaml:2:1: unknown key 'sumary' (expected one of id, "
		     "summary, rfc, tags, requires, timeout, vars, notes, "
		     "quilld_config, steps)");
	assert_error("id: Bad_Id\nsummary: s\n",
		     "t.yaml:1:5: bad value 'Bad_Id' for 'id' (expected "
		     "dotted lower-case words, e.g. smtp.ehlo.extensions)");
	assert_error("id: a\nsummary: s\nrfc: []\n",
		     "t.yaml:3:6: 'rfc' is empty (expected at least one "
		     "requirement id)");
	assert_error("id: a\nsummary: s\nrfc: [X1]\n",
		     "t.yaml:3:7: bad requirement id 'X1' (expected "
		     "RFC<number>-<section>, e.g. RFC5321-4.5.3.1.4)");
	assert_error("id: a\nsummary: s\nrfc: [RFC1-1]\ntimeout: 0\n",
		     "t.yaml:4:10: bad value '0' for 'timeout' (expected an "
		     "integer from 1 to 3600)");
	assert_error("id: a\nsummary: s\nrfc: [RFC1-1]\nsteps: []\n",
		     "t.yaml:4:8: 'steps' is empty (expected a list of "
		     "steps)");
	assert_error("", "t.yaml: empty file (expected a map with id, "
			 "summary, rfc and steps)");
	assert_error("id: a\nid: b\n", "t.yaml:2:1: duplicate key 'id'");
}
END_TEST

START_TEST(step_errors)
{
	assert_error(HEAD "  - check_message: { message: m, header_count: "
			  "{ Date: -1 } }\n",
		     "t.yaml:5:56: step 1 'check_message': bad value '-1' for "
		     "'header_count' (expected an integer from 0 to 1000)");
	assert_error(HEAD "  - sned: x\n",
		     "t.yaml:5:5: step 1: unknown step 'sned' (expected one of "
		     "connect, starttls, close, expect_close, send, sendline, "
		     "expect, smtp_hello, smtp_auth, smtp_send, pop3_login, "
		     "pop3_stat, pop3_retr, pop3_dele, pop3_quit, "
		     "check_message, sleep, repeat, set, wait_until)");
	assert_error(HEAD "  - send: a\n    sendline: b\n",
		     "t.yaml:6:5: step 1: two actions 'send' and 'sendline' "
		     "(expected one per step)");
	assert_error(HEAD "  - sleep: 1\n    session: a\n",
		     "t.yaml:6:5: step 1 'sleep': unknown key 'session' "
		     "(expected one of sleep)");
	assert_error(HEAD "  - \"just text\"\n",
		     "t.yaml:5:5: step 1: a scalar (expected a map with one "
		     "action, e.g. send: \"...\")");
	assert_error(
		HEAD "  - connect: smtp\n  - expect: { smtp: 250, txt: "
		     "x }\n",
		"t.yaml:6:26: step 2 'expect': unknown key 'txt' (expected "
		"one of smtp, enhanced, text, text_re, has, lacks, lines, "
		"capture)");
	assert_error(HEAD "  - expect: { smtp: 600 }\n",
		     "t.yaml:5:21: step 1 'expect': bad value '600' for 'smtp' "
		     "(expected a reply code such as 250, 25x or 2xx)");
	assert_error(HEAD "  - expect: { smtp: 250, enhanced: 2.1 }\n",
		     "t.yaml:5:36: step 1 'expect': bad value '2.1' for "
		     "'enhanced' (expected a code such as 2.1.0, or none)");
	assert_error(HEAD "  - expect: { pop3: ok, body_lines: 2 }\n",
		     "t.yaml:5:37: step 1 'expect': 'body_lines' without a "
		     "body (expected multiline: true)");
	assert_error(HEAD "  - expect: { imap: \"a b\" }\n",
		     "t.yaml:5:21: step 1 'expect': bad value 'a b' for 'imap' "
		     "(expected a command tag, e.g. a1)");
	assert_error(HEAD "  - connect: ftp\n",
		     "t.yaml:5:14: step 1 'connect': bad value 'ftp' for "
		     "'service' (expected one of smtp, submission, "
		     "submissions, lmtp, pop3, pop3s, imap, imaps)");
	assert_error(
		HEAD "  - close: { x: 1 }\n",
		"t.yaml:5:14: step 1 'close': unknown key 'x' (expected no "
		"keys: {})");
	assert_error(HEAD "  - send: { data: a, file: b }\n",
		     "t.yaml:5:11: step 1 'send': send needs exactly one of "
		     "'data', 'file', 'repeat' (expected one)");
	assert_error(HEAD "  - send: { data: a, times: 2 }\n",
		     "t.yaml:5:29: step 1 'send': 'times' without 'repeat' "
		     "(expected both, or neither)");
	assert_error(HEAD "  - send: { file: no-such-file }\n",
		     "t.yaml:5:19: step 1 'send': 'file': cannot use "
		     "'./no-such-file': No such file or directory (expected a "
		     "readable file)");
	assert_error(HEAD "  - sleep: 1.2345\n",
		     "t.yaml:5:12: step 1 'sleep': bad value '1.2345' for "
		     "'sleep' (expected seconds from 0.000 to 3600, at most 3 "
		     "decimals)");
	assert_error(HEAD "  - sendline: \"${a\"\n",
		     "t.yaml:5:15: step 1 'sendline': 'sendline' at byte 0: "
		     "bad variable reference (expected ${name} with a name of "
		     "letters, digits, '_', '.', '-', or $$ for a '$')");
	assert_error(HEAD "  - set: { 1a: x }\n",
		     "t.yaml:5:12: step 1 'set': bad value '1a' for 'set' "
		     "(expected a name of letters, digits, '_' and '-', "
		     "starting with a letter or '_')");
}
END_TEST

START_TEST(regex_errors)
{
	assert_error(HEAD "  - expect: { line_re: \"a(\" }\n",
		     "t.yaml:5:24: step 1 'expect': 'line_re': bad regex: "
		     "Unmatched ( or \\( (expected a POSIX extended regex)");
	assert_error(HEAD "  - expect: { line_re: \"${v}[\" }\n",
		     "t.yaml:5:24: step 1 'expect': 'line_re': bad regex: "
		     "Invalid regular expression (expected a POSIX extended "
		     "regex)");
	assert_error(HEAD "  - expect: { smtp: 250, capture: { q: \"x\" } }\n",
		     "t.yaml:5:40: step 1 'expect': capture regex for 'q' has "
		     "no group (expected one in (...))");
}
END_TEST

START_TEST(nesting_and_limits)
{
	char *y = malloc(64 * 1024 + 200000);
	size_t o = (size_t)snprintf(y, 200, "%s", HEAD);
	for (int i = 0; i < 9; i++)
		o += (size_t)snprintf(y + o, 200,
				      "%*s- repeat:\n%*s    times: "
				      "1\n%*s    steps:\n",
				      2 + i * 6, "", 2 + i * 6, "", 2 + i * 6,
				      "");
	snprintf(y + o, 200, "%*s- close: {}\n", 2 + 9 * 6, "");
	assert_error(y,
		     "t.yaml:30:55: step 1.1.1.1.1.1.1.1.1 'repeat': "
		     "nested 9 deep (expected at most 8 levels of repeat and "
		     "wait_until)");

	o = (size_t)snprintf(y, 200, "%s", HEAD);
	for (int i = 0; i < 10001; i++)
		o += (size_t)snprintf(y + o, 40, "  - close: {}\n");
	assert_error(y, "t.yaml:10005:5: step 10001: more than 10000 steps in "
			"the file (expected fewer)");
	assert_error(HEAD "  - repeat: { times: 100001, steps: [ {close: {}} "
			  "] }\n",
		     "t.yaml:5:22: step 1 'repeat': bad value '100001' for "
		     "'times' (expected an integer from 1 to 100000)");
	o = (size_t)snprintf(y, 200, "%s  - send: { repeat: \"", HEAD);
	memset(y + o, 'x', 700);
	snprintf(y + o + 700, 200, "\", times: 100000 }\n");
	assert_error(y, "t.yaml:5:732: step 1 'send': repeat makes 700 x "
			"100000 bytes (expected at most 67108864 in all)");
	free(y);
}
END_TEST

START_TEST(unknown_rfc_id)
{
	static const char rfc[] =
		"rfc: 5321\ntitle: SMTP\nrequirements:\n"
		"  - id: RFC5321-4.1.1.1\n    section: \"4.1.1.1\"\n"
		"    level: MUST\n    role: server\n    text: t\n";
	struct ytree_error ye;
	struct rfc_matrix *m =
		rfc_matrix_load_buffer("rfc5321.yaml", rfc, strlen(rfc), &ye);
	struct scenario_error e;
	char msg[1024];
	ck_assert_ptr_nonnull(m);
	const char *y = "id: a\nsummary: s\nrfc: [RFC5321-4.1.1.1, "
			"RFC5321-9.9]\nsteps: [ {close: {}} ]\n";
	struct scenario *s =
		scenario_load_string("t.yaml", y, strlen(y), m, &e);
	ck_assert_ptr_null(s);
	scenario_error_format(&e, msg, sizeof(msg));
	ck_assert_str_eq(msg, "t.yaml:3:24: unknown requirement id "
			      "'RFC5321-9.9' (expected an id from rfc/*.yaml)");
	y = "id: a\nsummary: s\nrfc: [RFC5321-4.1.1.1]\nsteps: [ {close: {}} "
	    "]\n";
	s = scenario_load_string("t.yaml", y, strlen(y), m, &e);
	ck_assert_ptr_nonnull(s);
	scenario_free(&s);
	rfc_matrix_free(&m);
}
END_TEST

START_TEST(regex_translation)
{
	regex_t re;
	char err[200];
	ck_assert_int_eq(scenario_re_compile(&re, "^\\d+ [\\d]$", 10, 0, err,
					     sizeof(err)),
			 0);
	ck_assert(scenario_re_exec(&re, "12 d", 4, 0, NULL));
	ck_assert(scenario_re_exec(&re, "12 \\", 4, 0, NULL));
	ck_assert(!scenario_re_exec(&re, "12 3", 4, 0, NULL));
	regfree(&re);
	ck_assert_int_eq(scenario_re_compile(&re, "a\\Db[[:digit:]]", 15, 0,
					     err, sizeof(err)),
			 0);
	ck_assert(scenario_re_exec(&re, "axb1", 4, 0, NULL));
	ck_assert(!scenario_re_exec(&re, "a1b1", 4, 0, NULL));
	/* matching spans NUL bytes */
	ck_assert(scenario_re_exec(&re, "\0axb1", 5, 0, NULL));
	regfree(&re);
}
END_TEST

START_TEST(example_files_load)
{
	static const char *const files[] = {"smtp-ehlo.yaml",
					    "smtp-starttls.yaml",
					    "submissions-pipelining.yaml"};
	for (size_t i = 0; i < 3; i++) {
		char path[512];
		struct scenario_error e;
		snprintf(path, sizeof(path), "%s/%s", QUILL_TEST_DATA,
			 files[i]);
		struct scenario *s = scenario_load_file(path, NULL, &e);
		ck_assert_msg(s != NULL, "%s: %s", path, e.message);
		scenario_free(&s);
	}
}
END_TEST

START_TEST(quilld_config_loads_and_is_checked)
{
	char msg[2048], big[5000];
	struct scenario *s = load(HEAD "  - close: {}\n", msg, sizeof(msg));
	ck_assert_msg(s != NULL, "%s", msg);
	ck_assert_ptr_null(s->quilld_config);
	scenario_free(&s);
	s = load("id: t.x\nsummary: s\nrfc: [RFC5321-4.1.1.1]\n"
		 "quilld_config: |\n  smtp:\n    command_timeout: 1\n"
		 "  users: { store: mbox }\nsteps:\n  - close: {}\n",
		 msg, sizeof(msg));
	ck_assert_msg(s != NULL, "%s", msg);
	ck_assert_str_eq(
		s->quilld_config,
		"smtp:\n  command_timeout: 1\nusers: { store: mbox }\n");
	scenario_free(&s);
	assert_error(
		"id: a\nsummary: s\nrfc: [RFC1-1]\n"
		"quilld_config: { smtp: 1 }\n",
		"t.yaml:4:16: 'quilld_config' is a map (expected YAML "
		"text as a string, e.g. \"smtp: { command_timeout: 1 }\")");
	assert_error("id: a\nsummary: s\nrfc: [RFC1-1]\n"
		     "quilld_config: \"\"\n",
		     "t.yaml:4:16: bad value '' for 'quilld_config' (expected "
		     "a string of 1 to 4096 bytes)");
	assert_error("id: a\nsummary: s\nrfc: [RFC1-1]\nquilld_config: |\n"
		     "  smtp: { data_timeout: 1 }\n  listeners: []\n",
		     "t.yaml:4:16: 'quilld_config' line 2 sets 'listeners', "
		     "which the quilld target writes itself (expected keys "
		     "other than state_dir, hostname, domain, log, "
		     "listeners)");
	assert_error("id: a\nsummary: s\nrfc: [RFC1-1]\n"
		     "quilld_config: \"state_dir: /x\"\n",
		     "t.yaml:4:16: 'quilld_config' line 1 sets 'state_dir', "
		     "which the quilld target writes itself (expected keys "
		     "other than state_dir, hostname, domain, log, "
		     "listeners)");
	/* nested keys of the same name are not the target's */
	s = load("id: t.x\nsummary: s\nrfc: [RFC1-1]\nquilld_config: |\n"
		 "  smtp:\n    auth: x\nsteps: [ {close: {}} ]\n",
		 msg, sizeof(msg));
	ck_assert_msg(s != NULL, "%s", msg);
	scenario_free(&s);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "id: a\nsummary: s\nrfc: [RFC1-1]\nquilld_config: ", 46);
	s = load(big, msg, sizeof(msg));
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(strstr(msg, "a string of 1 to 4096 bytes"));
}
END_TEST

static Suite *scenario_suite(void)
{
	Suite *s = suite_create("scenario");
	TCase *tc = tcase_create("load");
	tcase_add_test(tc, every_step_kind);
	tcase_add_test(tc, doc_example_error);
	tcase_add_test(tc, top_level_errors);
	tcase_add_test(tc, quilld_config_loads_and_is_checked);
	tcase_add_test(tc, smtp_auth_mechanisms);
	tcase_add_test(tc, step_errors);
	tcase_add_test(tc, regex_errors);
	tcase_add_test(tc, nesting_and_limits);
	tcase_add_test(tc, unknown_rfc_id);
	tcase_add_test(tc, regex_translation);
	tcase_add_test(tc, example_files_load);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(scenario_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
