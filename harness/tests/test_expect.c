/*
 * test_expect.c - reading and matching replies on canned bytes: SMTP
 * (multi-line, strict), POP3 (status, multi-line bodies, codes), IMAP
 * (untagged lines, literals, tagged status) and raw lines, each reader
 * fed the reply split at every byte, leaving what follows untouched.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expect.h"
#include "scenario.h"
#include "vars.h"

/* A scenario whose only step is `- expect: SPEC`. */
static struct scenario *spec_load(const char *spec)
{
	char y[2048];
	struct scenario_error e;
	snprintf(y, sizeof(y),
		 "id: t\nsummary: s\nrfc: [RFC1-1]\nsteps:\n  - expect: %s\n",
		 spec);
	struct scenario *s =
		scenario_load_string("t.yaml", y, strlen(y), NULL, &e);
	ck_assert_msg(s != NULL, "%s: %s", spec, e.message);
	return s;
}

#define SPEC(s) (&(s)->steps.v[0].u.expect)

/* ---- SMTP ---------------------------------------------------------- */

static const char ehlo[] = "250-mx.example.test hi\r\n"
			   "250-SIZE 1000\r\n"
			   "250-AUTH PLAIN LOGIN\r\n"
			   "250 PIPELINING\r\nNEXT";

/* Read one SMTP reply from data given in two pieces split at cut. */
static int smtp_split(const char *data, size_t len, size_t cut,
		      struct smtp_reply **rep, struct buf *in, char *err)
{
	struct smtp_client *c = smtp_client_new(NULL);
	int rc;
	buf_append(in, data, cut);
	rc = expect_smtp_read(c, in, rep, err, 300);
	buf_append(in, data + cut, len - cut);
	if (rc == EXPECT_MORE)
		rc = expect_smtp_read(c, in, rep, err, 300);
	smtp_client_free(&c);
	return rc;
}

START_TEST(smtp_reply_every_split)
{
	size_t len = strlen(ehlo);
	for (size_t cut = 0; cut <= len; cut++) {
		struct buf in;
		struct smtp_reply *rep = NULL;
		char err[300];
		buf_init(&in, 4096);
		ck_assert_int_eq(smtp_split(ehlo, len, cut, &rep, &in, err),
				 EXPECT_DONE);
		ck_assert_int_eq(rep->code, 250);
		ck_assert_uint_eq(rep->n_lines, 4);
		ck_assert_uint_eq(buf_len(&in), 4);
		ck_assert_int_eq(memcmp(buf_data(&in), "NEXT", 4), 0);
		smtp_reply_free(&rep);
		buf_free(&in);
	}
}
END_TEST

START_TEST(smtp_reply_malformed)
{
	static const char *const bad[] = {"250-a\r\n251 b\r\n", "250 ok\n",
					  "hello\r\n", "250 a\0b\r\n"};
	for (size_t i = 0; i < 4; i++) {
		struct buf in;
		struct smtp_reply *rep = NULL;
		char err[300];
		size_t len = i == 3 ? 9 : strlen(bad[i]);
		buf_init(&in, 4096);
		ck_assert_int_eq(smtp_split(bad[i], len, len, &rep, &in, err),
				 EXPECT_BAD);
		ck_assert_msg(strncmp(err, "not a valid SMTP reply: ", 24) == 0,
			      "%s", err);
		buf_free(&in);
	}
}
END_TEST

static int smtp_match(const char *spec, const char *reply, struct vars *v,
		      struct expect_why *why)
{
	struct scenario *s = spec_load(spec);
	struct buf in;
	struct smtp_reply *rep = NULL;
	char err[300];
	int rc;
	buf_init(&in, 4096);
	ck_assert_int_eq(smtp_split(reply, strlen(reply), 0, &rep, &in, err),
			 EXPECT_DONE);
	rc = expect_smtp_match(SPEC(s), rep, v, why);
	smtp_reply_free(&rep);
	buf_free(&in);
	scenario_free(&s);
	return rc;
}

START_TEST(smtp_matching)
{
	struct vars *v = vars_new();
	struct expect_why why;
	vars_set_str(v, "kw", "SIZE");
	ck_assert_int_eq(smtp_match("{ smtp: 250, has: [\"AUTH PLAIN\", "
				    "\"${kw}\", \"size 1000\"], lacks: "
				    "[STARTTLS, \"AUTH CRAM-MD5\"], lines: 4, "
				    "text: \"mx.example.test hi\" }",
				    ehlo, v, &why),
			 EXPECT_PASS);
	ck_assert_int_eq(
		smtp_match("{ smtp: 2xx, has: [STARTTLS] }", ehlo, v, &why),
		EXPECT_FAIL);
	ck_assert_str_eq(why.expected, "EHLO keyword 'STARTTLS' present");
	ck_assert_str_eq(why.got, "250 with keyword lines: SIZE 1000, AUTH "
				  "PLAIN LOGIN, PIPELINING");
	ck_assert_int_eq(smtp_match("{ smtp: 25x, lines: 1 }", ehlo, v, &why),
			 EXPECT_FAIL);
	ck_assert_str_eq(why.expected, "a reply of 1 line");
	ck_assert_int_eq(smtp_match("{ smtp: 550 }", ehlo, v, &why),
			 EXPECT_FAIL);
	ck_assert_str_eq(why.expected, "reply 550");
	ck_assert_str_eq(why.got, "250 mx.example.test hi (+3 more lines)");
	ck_assert_int_eq(smtp_match("{ smtp: 250, enhanced: 2.1.0, text: OK, "
				    "capture: { q: \"^250 .* as ([A-Z0-9]+)$\""
				    " } }",
				    "250 2.1.0 OK\r\n", v, &why),
			 EXPECT_FAIL);
	ck_assert_int_eq(smtp_match("{ smtp: 250, enhanced: 2.1.0, text_re: "
				    "\"^OK\\\\b\", capture: { q: \"as "
				    "([A-Z0-9]+)$\" } }",
				    "250 2.1.0 OK queued as AB12\r\n", v, &why),
			 EXPECT_PASS);
	ck_assert_str_eq(vars_get(v, "q", NULL), "AB12");
	ck_assert_int_eq(smtp_match("{ smtp: 250, enhanced: none }",
				    "250 2.1.0 OK\r\n", v, &why),
			 EXPECT_FAIL);
	ck_assert_str_eq(why.expected, "no enhanced status code");
	ck_assert_int_eq(smtp_match("{ smtp: 250, text: \"${nope}\" }",
				    "250 OK\r\n", v, &why),
			 EXPECT_ERROR);
	ck_assert_str_eq(why.expected, "unknown variable 'nope'");
	vars_free(&v);
}
END_TEST

START_TEST(code_patterns)
{
	ck_assert(expect_code_matches("250", 250));
	ck_assert(expect_code_matches("25x", 251));
	ck_assert(expect_code_matches("2xx", 299));
	ck_assert(!expect_code_matches("2xx", 354));
	ck_assert(!expect_code_matches("25x", 260));
}
END_TEST

/* ---- POP3 ---------------------------------------------------------- */

static const char listing[] = "+OK 2 messages\r\n1 120\r\n2 200\r\n"
			      "..x\r\n.\r\n+OK";

static int pop3_read_split(const char *data, size_t len, size_t cut,
			   enum pop3_expect kind, struct pop3_response **rep,
			   struct buf *in)
{
	struct pop3_client *c = pop3_client_new(NULL);
	char err[300];
	int rc;
	pop3_client_expect(c, kind);
	buf_append(in, data, cut);
	rc = expect_pop3_read(c, in, rep, err, sizeof(err));
	buf_append(in, data + cut, len - cut);
	if (rc == EXPECT_MORE)
		rc = expect_pop3_read(c, in, rep, err, sizeof(err));
	pop3_client_free(&c);
	return rc;
}

START_TEST(pop3_every_split)
{
	size_t len = strlen(listing);
	for (size_t cut = 0; cut <= len; cut++) {
		struct buf in;
		struct pop3_response *rep = NULL;
		buf_init(&in, 4096);
		ck_assert_int_eq(pop3_read_split(listing, len, cut,
						 POP3_EXPECT_MULTI, &rep, &in),
				 EXPECT_DONE);
		ck_assert_uint_eq(rep->body_lines, 3);
		ck_assert_uint_eq(buf_len(&in), 3); /* "+OK" stays */
		pop3_response_free(&rep);
		buf_free(&in);
	}
}
END_TEST

static int pop3_match(const char *spec, const char *data, struct vars *v,
		      struct expect_why *why)
{
	struct scenario *s = spec_load(spec);
	struct buf in;
	struct pop3_response *rep = NULL;
	int rc;
	buf_init(&in, 4096);
	ck_assert_int_eq(pop3_read_split(data, strlen(data), 0,
					 expect_pop3_kind(SPEC(s)), &rep, &in),
			 EXPECT_DONE);
	rc = expect_pop3_match(SPEC(s), rep, v, why);
	pop3_response_free(&rep);
	buf_free(&in);
	scenario_free(&s);
	return rc;
}

START_TEST(pop3_matching)
{
	struct vars *v = vars_new();
	struct expect_why why;
	ck_assert_int_eq(pop3_match("{ pop3: ok, multiline: true, body_lines: "
				    "3, body_has: [\"2 200\", \".x\"], body_re:"
				    " \"^1 \", text_re: \"^\\\\d+ messages$\", "
				    "capture: { size2: \"^2 (\\\\d+)$\" } }",
				    listing, v, &why),
			 EXPECT_PASS);
	ck_assert_str_eq(vars_get(v, "size2", NULL), "200");
	ck_assert_int_eq(pop3_match("{ pop3: ok, multiline: true, body_has: "
				    "[\"3 1\"] }",
				    listing, v, &why),
			 EXPECT_FAIL);
	ck_assert_str_eq(why.expected, "the body line '3 1'");
	ck_assert_int_eq(pop3_match("{ pop3: ok, multiline: true, "
				    "body_lacks_re: \"^3 \" }",
				    listing, v, &why),
			 EXPECT_PASS);
	ck_assert_int_eq(pop3_match("{ pop3: ok, multiline: true, "
				    "body_lacks_re: \"^2 \" }",
				    listing, v, &why),
			 EXPECT_FAIL);
	ck_assert_str_eq(why.expected, "no body line matching /^2 /");
	ck_assert_int_eq(pop3_match("{ pop3: err, code: in-use, text: locked }",
				    "-ERR [IN-USE] locked\r\n", v, &why),
			 EXPECT_PASS);
	ck_assert_int_eq(
		pop3_match("{ pop3: ok }", "-ERR [IN-USE] x\r\n", v, &why),
		EXPECT_FAIL);
	ck_assert_str_eq(why.expected, "+OK");
	ck_assert_str_eq(why.got, "-ERR [IN-USE] x");
	ck_assert_int_eq(pop3_match("{ pop3: err, code: none }",
				    "-ERR [IN-USE] x\r\n", v, &why),
			 EXPECT_FAIL);
	ck_assert_int_eq(
		pop3_match("{ pop3: cont }", "+ VXNlcg==\r\n", v, &why),
		EXPECT_PASS);
	vars_free(&v);
}
END_TEST

/* ---- IMAP ---------------------------------------------------------- */

static const char select_reply[] =
	"* 1 EXISTS\r\n"
	"* 1 FETCH (BODY[] {9}\r\nhe\r\n{3}\r\no)\r\n"
	"* OK [UIDVALIDITY 7] ok\r\n"
	"a1 OK [READ-WRITE] SELECT done\r\n* 2 EXISTS\r\n";

static int imap_split(struct expect_imap *im, const char *data, size_t len,
		      size_t cut, struct buf *in, char *err)
{
	int rc;
	buf_append(in, data, cut);
	rc = expect_imap_feed(im, in, err, 300);
	buf_append(in, data + cut, len - cut);
	if (rc == EXPECT_MORE)
		rc = expect_imap_feed(im, in, err, 300);
	return rc;
}

START_TEST(imap_every_split)
{
	size_t len = strlen(select_reply);
	for (size_t cut = 0; cut <= len; cut++) {
		struct expect_imap im;
		struct buf in;
		char err[300];
		buf_init(&in, 4096);
		expect_imap_init(&im, "a1");
		int rc = imap_split(&im, select_reply, len, cut, &in, err);
		ck_assert_msg(rc == EXPECT_DONE, "cut %zu: %s", cut, err);
		ck_assert_uint_eq(im.n_untagged, 3);
		ck_assert_str_eq(im.owned[1],
				 "* 1 FETCH (BODY[] {9}\r\nhe\r\n{3}\r\no)");
		ck_assert_str_eq(im.tagged, "a1 OK [READ-WRITE] SELECT done");
		ck_assert_uint_eq(buf_len(&in), 12);
		expect_imap_free(&im);
		buf_free(&in);
	}
}
END_TEST

static int imap_match(const char *spec, const char *data, struct vars *v,
		      struct expect_why *why)
{
	struct scenario *s = spec_load(spec);
	struct expect_imap im;
	struct buf in;
	char err[300];
	int rc;
	buf_init(&in, 4096);
	expect_imap_init(&im, SPEC(s)->tag.s);
	rc = imap_split(&im, data, strlen(data), 0, &in, err);
	if (rc == EXPECT_DONE)
		rc = expect_imap_match(SPEC(s), &im, v, why);
	else
		snprintf(why->got, sizeof(why->got), "%s", err);
	expect_imap_free(&im);
	buf_free(&in);
	scenario_free(&s);
	return rc;
}

START_TEST(imap_matching)
{
	struct vars *v = vars_new();
	struct expect_why why;
	ck_assert_int_eq(imap_match("{ imap: a1, status: OK, code: READ-WRITE,"
				    " untagged: [\"^\\\\* \\\\d+ EXISTS$\", "
				    "\"UIDVALIDITY\"], untagged_count: 3, "
				    "text: SELECT done, capture: { uv: "
				    "\"UIDVALIDITY ([0-9]+)\" } }",
				    select_reply, v, &why),
			 EXPECT_PASS);
	ck_assert_str_eq(vars_get(v, "uv", NULL), "7");
	ck_assert_int_eq(
		imap_match("{ imap: a1, status: NO }", select_reply, v, &why),
		EXPECT_FAIL);
	ck_assert_str_eq(why.expected, "status NO");
	ck_assert_int_eq(imap_match("{ imap: a1, code: \"UIDVALIDITY 7\" }",
				    select_reply, v, &why),
			 EXPECT_FAIL);
	ck_assert_int_eq(imap_match("{ imap: a1, untagged: [RECENT] }",
				    select_reply, v, &why),
			 EXPECT_FAIL);
	ck_assert_str_eq(why.expected, "an untagged line matching /RECENT/");
	ck_assert_int_eq(imap_match("{ imap: a2 }", select_reply, v, &why),
			 EXPECT_BAD);
	ck_assert_str_eq(why.got, "'a1 OK [READ-WRITE] SELECT done' while "
				  "waiting for the tagged reply to 'a2'");
	ck_assert_int_eq(imap_match("{ imap: a1 }", "+ go ahead\r\n", v, &why),
			 EXPECT_BAD);
	ck_assert_int_eq(imap_match("{ imap: a1 }", "* x\na1 OK\r\n", v, &why),
			 EXPECT_BAD);
	vars_free(&v);
}
END_TEST

START_TEST(imap_untagged_wait)
{
	struct expect_imap_reader rd;
	struct buf in;
	regex_t re;
	char err[300], *line = NULL;
	size_t len, skipped = 0;
	const char *d = "* 3 RECENT\r\n* 3 EXISTS\r\nrest";

	ck_assert_int_eq(scenario_re_compile(&re, "^\\* \\d+ EXISTS$", 15, 0,
					     err, sizeof(err)),
			 0);
	buf_init(&in, 4096);
	expect_imap_reader_init(&rd);
	for (size_t i = 0; i < strlen(d); i++) { /* a byte at a time */
		buf_append(&in, d + i, 1);
		int rc = expect_imap_untagged(&rd, &in, &re, &line, &len,
					      &skipped, err, sizeof(err));
		if (rc == EXPECT_DONE)
			break;
		ck_assert_int_eq(rc, EXPECT_MORE);
	}
	ck_assert_str_eq(line, "* 3 EXISTS");
	ck_assert_uint_eq(skipped, 1);
	free(line);
	buf_clear(&in);
	buf_append(&in, "a1 OK done\r\n", 12);
	ck_assert_int_eq(expect_imap_untagged(&rd, &in, &re, &line, &len,
					      &skipped, err, sizeof(err)),
			 EXPECT_BAD);
	expect_imap_reader_free(&rd);
	buf_free(&in);
	regfree(&re);
}
END_TEST

/* ---- raw lines ----------------------------------------------------- */

START_TEST(lines)
{
	struct scenario *s = spec_load("{ line_re: \"^\\\\+ (.*)$\", capture: "
				       "{ rest: \"^\\\\+ (.*)$\" } }");
	struct vars *v = vars_new();
	struct expect_why why;
	struct buf in;
	char err[300], *line = NULL;
	size_t len;

	buf_init(&in, 4096);
	buf_append(&in, "+ go", 4);
	ck_assert_int_eq(expect_line_read(&in, &line, &len, err, sizeof(err)),
			 EXPECT_MORE);
	buf_append(&in, "\r\nbare\nok\r\n", 11);
	ck_assert_int_eq(expect_line_read(&in, &line, &len, err, sizeof(err)),
			 EXPECT_DONE);
	ck_assert_int_eq(expect_line_match(SPEC(s), line, len, v, &why),
			 EXPECT_PASS);
	ck_assert_str_eq(vars_get(v, "rest", NULL), "go");
	free(line);
	ck_assert_int_eq(expect_line_read(&in, &line, &len, err, sizeof(err)),
			 EXPECT_BAD);
	ck_assert_str_eq(err, "a line ended in a bare LF (expected CRLF)");
	ck_assert_int_eq(expect_line_read(&in, &line, &len, err, sizeof(err)),
			 EXPECT_DONE);
	ck_assert_int_eq(expect_line_match(SPEC(s), line, len, v, &why),
			 EXPECT_FAIL);
	ck_assert_str_eq(why.got, "ok");
	free(line);
	scenario_free(&s);

	s = spec_load("{ line: \"a b\" }");
	ck_assert_int_eq(expect_line_match(SPEC(s), "a b", 3, v, &why),
			 EXPECT_PASS);
	ck_assert_int_eq(expect_line_match(SPEC(s), "a c", 3, v, &why),
			 EXPECT_FAIL);
	ck_assert_str_eq(why.expected, "the line 'a b'");
	scenario_free(&s);
	vars_free(&v);
	buf_free(&in);
}
END_TEST

static Suite *expect_suite(void)
{
	Suite *s = suite_create("expect");
	TCase *tc = tcase_create("expect");
	tcase_add_test(tc, smtp_reply_every_split);
	tcase_add_test(tc, smtp_reply_malformed);
	tcase_add_test(tc, smtp_matching);
	tcase_add_test(tc, code_patterns);
	tcase_add_test(tc, pop3_every_split);
	tcase_add_test(tc, pop3_matching);
	tcase_add_test(tc, imap_every_split);
	tcase_add_test(tc, imap_matching);
	tcase_add_test(tc, imap_untagged_wait);
	tcase_add_test(tc, lines);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(expect_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
