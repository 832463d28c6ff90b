/*
 * test_report.c - unit tests for harness/report*.c (human summary, TAP 13,
 * JUnit XML) and harness/compare.c (the markdown comparison of targets).
 *
 * One canned result set, with a transcript a hostile server could produce
 * (escape sequences, "]]>", "--", invalid UTF-8, a lone CR, a NUL), is
 * written in every format and compared byte for byte with golden output.
 * The JUnit file is also parsed by python3's XML parser when python3 is
 * installed, as is one holding every byte value. Files are written
 * atomically: no temporary file is left, a bad path fails cleanly and "-"
 * writes to stdout.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compare.h"
#include "report.h"

#define HOSTILE                                                     \
	"C: EHLO x\r\n"                                             \
	"S: 250-\x1b[2J\x1b]0;pwned\x07 <b>&amp;</b> \"q\" 'a'\r\n" \
	"S: 250 ]]> -- \xff\xfe \xc3("                              \
	" caf\xc3\xa9 \xe2\x82\xac \xc2\x9b\r\n"                    \
	" lone\rCR\n"                                               \
	"\tTab\n"                                                   \
	"  two spaces\n"                                            \
	"\0hidden"
static char dir[64];

static void make_dir(void)
{
	(void)snprintf(dir, sizeof(dir), "/tmp/quill-report-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

/* Remove dir, which must hold exactly the one file name (or nothing). */
static void remove_dir(const char *only)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[400];

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		ck_assert_msg(only != NULL && strcmp(de->d_name, only) == 0,
			      "left behind: %s", de->d_name);
		(void)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		ck_assert_int_eq(unlink(path), 0);
	}
	closedir(d);
	ck_assert_int_eq(rmdir(dir), 0);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = calloc(1, 1 << 16);
	size_t n;

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(buf);
	n = fread(buf, 1, (1 << 16) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void add(struct result_set *rs, const char *id, const char *file,
		enum result_status st, const char *reason,
		const char *transcript, double seconds, const char *rfc1,
		const char *rfc2)
{
	char *rfc[] = {(char *)(uintptr_t)rfc1, (char *)(uintptr_t)rfc2};
	struct result r = {
		.id = (char *)(uintptr_t)id,
		.file = (char *)(uintptr_t)file,
		.status = st,
		.reason = (char *)(uintptr_t)reason,
		.transcript = (char *)(uintptr_t)transcript,
		.seconds = seconds,
		.rfc = rfc,
		.n_rfc = rfc2 != NULL	? 2
			 : rfc1 != NULL ? 1
					: 0,
	};

	ck_assert_int_eq(result_set_add(rs, &r), 0);
}

static void canned(struct result_set *rs)
{
	result_set_init(rs, "quilld \"dev\" & <co>");
	rs->seconds = 62;
	add(rs, "smtp.helo", "scenarios/smtp/helo.yaml", RESULT_PASS, NULL,
	    NULL, 0.25, "RFC5321-4.1.1.1", NULL);
	add(rs, "smtp.ehlo.extensions", "scenarios/smtp/ehlo.yaml", RESULT_FAIL,
	    "expected 250, got 502",
	    "C: EHLO client.example.test\r\nS: 502 5.5.1 not implemented\r\n",
	    0.5, "RFC5321-4.1.1.1", "RFC2920-2");
	add(rs, "pop3.stls", "scenarios/pop3/stls.yaml", RESULT_SKIP,
	    "target lacks pop3.stls # and more\\", NULL, 0, NULL, NULL);
	add(rs, "imap.idle", "scenarios/imap/idle.yaml", RESULT_ERROR,
	    "timeout of the whole scenario (60 s)", NULL, 60, NULL, NULL);
	add(rs, "smtp.hostile", "scenarios/smtp/hostile.yaml", RESULT_FAIL,
	    "bad reply: \"\x1b[31m\" & <tag>\nsecond line # no directive",
	    HOSTILE, 1.25, "RFC5321-4.2", NULL);
	add(rs, "standalone", NULL, RESULT_PASS, NULL, NULL, 0.1, NULL, NULL);
}

static char *human(const struct result_set *rs, bool verbose, bool tty)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	report_human(f, rs, verbose, tty);
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

#define FAIL_LINES                                                         \
	"FAIL  smtp.ehlo.extensions (scenarios/smtp/ehlo.yaml): expected " \
	"250, "                                                            \
	"got 502\n"                                                        \
	"    C: EHLO client.example.test\n"                                \
	"    S: 502 5.5.1 not implemented\n"
#define HOSTILE_LINES                                                    \
	"FAIL  smtp.hostile (scenarios/smtp/hostile.yaml): bad reply: "  \
	"\"\\x1b[31m\" & <tag>\\x0asecond line # no directive\n"         \
	"    C: EHLO x\n"                                                \
	"    S: 250-\\x1b[2J\\x1b]0;pwned\\x07 <b>&amp;</b> \"q\" 'a'\n" \
	"    S: 250 ]]> -- \\xff\\xfe \\xc3( caf\xc3\xa9 \xe2\x82\xac "  \
	"\\xc2\\x9b\n"                                                   \
	"     lone\\x0dCR\n"                                             \
	"    \tTab\n"                                                    \
	"      two spaces\n"
#define ERROR_LINE                                                          \
	"ERROR imap.idle (scenarios/imap/idle.yaml): timeout of the whole " \
	"scenario (60 s)\n"
#define SUMMARY "\n(1 of them errors)\n2 passed, 3 failed, 1 skipped\n"

START_TEST(test_human)
{
	struct result_set rs;
	char *out;

	canned(&rs);
	out = human(&rs, false, false);
	ck_assert_str_eq(out, FAIL_LINES ERROR_LINE HOSTILE_LINES SUMMARY);
	free(out);
	out = human(&rs, true, false);
	ck_assert_str_eq(
		out,
		"ok    smtp.helo (0.25 s)\n" FAIL_LINES
		"skip  pop3.stls (scenarios/pop3/stls.yaml): "
		"target lacks pop3.stls # and more\\\n" ERROR_LINE HOSTILE_LINES
		"ok    standalone (0.10 s)\n" SUMMARY);
	free(out);
	result_set_free(&rs);
}
END_TEST

START_TEST(test_human_tty)
{
	struct result_set rs;
	char *out;

	result_set_init(&rs, "t");
	add(&rs, "a.pass", NULL, RESULT_PASS, NULL, NULL, 1, NULL, NULL);
	add(&rs, "a.skip", NULL, RESULT_SKIP, NULL, NULL, 0, NULL, NULL);
	add(&rs, "a.fail", "f.yaml", RESULT_FAIL, "no", "S: \x1b[1m\n", 0, NULL,
	    NULL);
	add(&rs, "a.error", "e.yaml", RESULT_ERROR, "bad", NULL, 0, NULL, NULL);
	out = human(&rs, true, true);
	ck_assert_str_eq(out, "\x1b[32mok   \x1b[0m a.pass (1.00 s)\n"
			      "\x1b[33mskip \x1b[0m a.skip: no reason given\n"
			      "\x1b[31mFAIL \x1b[0m a.fail (f.yaml): no\n"
			      "    S: \\x1b[1m\n"
			      "\x1b[31mERROR\x1b[0m a.error (e.yaml): bad\n"
			      "\n(1 of them errors)\n"
			      "1 passed, 2 failed, 1 skipped\n");
	free(out);
	result_set_free(&rs);
	result_set_init(&rs, "t");
	out = human(&rs, true, true);
	ck_assert_str_eq(out, "0 passed, 0 failed, 0 skipped\n");
	free(out);
	result_set_free(&rs);
}
END_TEST

static const char tap_golden[] =
	"TAP version 13\n"
	"1..6\n"
	"# target: quilld \"dev\" & <co>\n"
	"ok 1 - smtp.helo\n"
	"not ok 2 - smtp.ehlo.extensions\n"
	"  ---\n"
	"  message: \"expected 250, got 502\"\n"
	"  severity: fail\n"
	"  file: \"scenarios/smtp/ehlo.yaml\"\n"
	"  rfc: [\"RFC5321-4.1.1.1\", \"RFC2920-2\"]\n"
	"  transcript: |2\n"
	"    C: EHLO client.example.test\n"
	"    S: 502 5.5.1 not implemented\n"
	"  ...\n"
	"ok 3 - pop3.stls # SKIP target lacks pop3.stls \\# and more\\\\\n"
	"not ok 4 - imap.idle\n"
	"  ---\n"
	"  message: \"timeout of the whole scenario (60 s)\"\n"
	"  severity: error\n"
	"  file: \"scenarios/imap/idle.yaml\"\n"
	"  rfc: []\n"
	"  ...\n"
	"not ok 5 - smtp.hostile\n"
	"  ---\n"
	"  message: \"bad reply: \\\"\\\\x1b[31m\\\" & <tag>\\nsecond line # "
	"no directive\"\n"
	"  severity: fail\n"
	"  file: \"scenarios/smtp/hostile.yaml\"\n"
	"  rfc: [\"RFC5321-4.2\"]\n"
	"  transcript: |2\n"
	"    C: EHLO x\n"
	"    S: 250-\\x1b[2J\\x1b]0;pwned\\x07 <b>&amp;</b> \"q\" 'a'\n"
	"    S: 250 ]]> -- \\xff\\xfe \\xc3( caf\xc3\xa9 \xe2\x82\xac "
	"\\xc2\\x9b\n"
	"     lone\\x0dCR\n"
	"    \tTab\n"
	"      two spaces\n"
	"  ...\n"
	"ok 6 - standalone\n";

START_TEST(test_tap)
{
	struct result_set rs;
	char path[128], *out;

	canned(&rs);
	make_dir();
	(void)snprintf(path, sizeof(path), "%s/results.tap", dir);
	ck_assert_int_eq(report_tap(path, &rs), 0);
	out = slurp(path);
	ck_assert_str_eq(out, tap_golden);
	free(out);
	remove_dir("results.tap");
	result_set_free(&rs);
}
END_TEST

static const char junit_golden[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<testsuites name=\"quill-harness\" tests=\"6\" failures=\"2\" "
	"errors=\"1\" skipped=\"1\" time=\"62.000\">\n"
	"  <testsuite name=\"quilld &quot;dev&quot; &amp; &lt;co&gt;\" "
	"tests=\"6\" failures=\"2\" errors=\"1\" skipped=\"1\" "
	"time=\"62.000\">\n"
	"    <testcase classname=\"smtp\" name=\"smtp.helo\" "
	"file=\"scenarios/smtp/helo.yaml\" time=\"0.250\"/>\n"
	"    <testcase classname=\"smtp\" name=\"smtp.ehlo.extensions\" "
	"file=\"scenarios/smtp/ehlo.yaml\" time=\"0.500\">\n"
	"      <failure message=\"expected 250, got 502\">C: EHLO "
	"client.example.test\nS: 502 5.5.1 not implemented\n</failure>\n"
	"    </testcase>\n"
	"    <testcase classname=\"pop3\" name=\"pop3.stls\" "
	"file=\"scenarios/pop3/stls.yaml\" time=\"0.000\">\n"
	"      <skipped message=\"target lacks pop3.stls # and more\\\"/>\n"
	"    </testcase>\n"
	"    <testcase classname=\"imap\" name=\"imap.idle\" "
	"file=\"scenarios/imap/idle.yaml\" time=\"60.000\">\n"
	"      <error message=\"timeout of the whole scenario (60 s)\"/>\n"
	"    </testcase>\n"
	"    <testcase classname=\"smtp\" name=\"smtp.hostile\" "
	"file=\"scenarios/smtp/hostile.yaml\" time=\"1.250\">\n"
	"      <failure message=\"bad reply: &quot;\\x1b[31m&quot; &amp; "
	"&lt;tag&gt;&#10;second line # no directive\">C: EHLO x\n"
	"S: 250-\\x1b[2J\\x1b]0;pwned\\x07 &lt;b&gt;&amp;amp;&lt;/b&gt; "
	"&quot;q&quot; &apos;a&apos;\n"
	"S: 250 ]]&gt; -- \\xff\\xfe \\xc3( caf\xc3\xa9 \xe2\x82\xac "
	"\\xc2\\x9b\n"
	" lone\\x0dCR\n"
	"\tTab\n"
	"  two spaces\n"
	"</failure>\n"
	"    </testcase>\n"
	"    <testcase classname=\"standalone\" name=\"standalone\" "
	"time=\"0.100\"/>\n"
	"  </testsuite>\n"
	"</testsuites>\n";

/* If python3 exists, its XML parser must accept the file. */
static void python_parses(const char *path)
{
	char cmd[256];

	if (system("command -v python3 >/dev/null 2>&1") != 0)
		return;
	(void)snprintf(cmd, sizeof(cmd),
		       "python3 -c 'import sys,xml.dom.minidom; "
		       "xml.dom.minidom.parse(sys.argv[1])' %s",
		       path);
	ck_assert_msg(system(cmd) == 0, "python3 cannot parse %s", path);
}

START_TEST(test_junit)
{
	struct result_set rs;
	char path[128], *out;

	canned(&rs);
	make_dir();
	(void)snprintf(path, sizeof(path), "%s/junit.xml", dir);
	ck_assert_int_eq(report_junit(path, &rs), 0);
	out = slurp(path);
	ck_assert_str_eq(out, junit_golden);
	free(out);
	python_parses(path);
	remove_dir("junit.xml");
	result_set_free(&rs);
}
END_TEST

/* Every byte value in every string: still XML that parses. */
START_TEST(test_junit_every_byte)
{
	struct result_set rs;
	char path[128], bytes[256];

	for (int i = 1; i < 256; i++)
		bytes[i - 1] = (char)i;
	bytes[255] = '\0';
	result_set_init(&rs, bytes);
	add(&rs, bytes, bytes, RESULT_FAIL, bytes, bytes, 0, NULL, NULL);
	add(&rs, bytes, bytes, RESULT_SKIP, bytes, bytes, 0, NULL, NULL);
	add(&rs, bytes, bytes, RESULT_ERROR, bytes, bytes, -1, NULL, NULL);
	make_dir();
	(void)snprintf(path, sizeof(path), "%s/junit.xml", dir);
	ck_assert_int_eq(report_junit(path, &rs), 0);
	python_parses(path);
	remove_dir("junit.xml");
	result_set_free(&rs);
}
END_TEST

/* An existing file is replaced; nothing else is left in the directory. */
START_TEST(test_atomic_replace)
{
	struct result_set rs;
	char path[128], *out;
	FILE *f;

	canned(&rs);
	make_dir();
	(void)snprintf(path, sizeof(path), "%s/out", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("old contents that are longer than nothing\n", f);
	fclose(f);
	ck_assert_int_eq(report_tap(path, &rs), 0);
	out = slurp(path);
	ck_assert_str_eq(out, tap_golden);
	free(out);
	remove_dir("out");
	result_set_free(&rs);
}
END_TEST

START_TEST(test_bad_path)
{
	struct result_set rs;

	canned(&rs);
	errno = 0;
	ck_assert_int_eq(report_tap("/nonexistent/dir/x.tap", &rs), -1);
	ck_assert_int_eq(errno, ENOENT);
	errno = 0;
	ck_assert_int_eq(report_junit("/nonexistent/dir/x.xml", &rs), -1);
	ck_assert_int_eq(errno, ENOENT);
	result_set_free(&rs);
}
END_TEST

/* Run f(path "-") with stdout sent to target; its return value. */
static int to_stdout(int (*f)(const char *, const struct result_set *),
		     const struct result_set *rs, const char *target)
{
	int saved, fd, rc;

	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	fd = open(target, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(saved, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(dup2(fd, STDOUT_FILENO), 0);
	close(fd);
	rc = f("-", rs);
	fflush(stdout);
	clearerr(stdout);
	ck_assert_int_ge(dup2(saved, STDOUT_FILENO), 0);
	close(saved);
	return rc;
}

START_TEST(test_stdout)
{
	struct result_set rs;
	char path[128], *out;

	canned(&rs);
	make_dir();
	(void)snprintf(path, sizeof(path), "%s/stdout", dir);
	ck_assert_int_eq(to_stdout(report_junit, &rs, path), 0);
	out = slurp(path);
	ck_assert_str_eq(out, junit_golden);
	free(out);
	remove_dir("stdout");
	errno = 0;
	ck_assert_int_eq(to_stdout(report_tap, &rs, "/dev/full"), -1);
	ck_assert_int_eq(errno, ENOSPC);
	result_set_free(&rs);
}
END_TEST

/* --- compare ----------------------------------------------------------- */

#define SCEN QUILL_TEST_DATA "/cov/scenarios"

static const char compare_golden[] =
	"| scenario | quilld | dovecot | a\\|b &lt;c> |\n"
	"| --- | :---: | :---: | :---: |\n"
	"| a.one | ✓ | ✗ |  |\n"
	"| a.two | ✓ | ✓ | ✓ |\n"
	"| b.three | ✗ | ✓ |  |\n"
	"| c.four |  | error | ✗ |\n"
	"| d.same |  | ✗ |  |\n"
	"| e.skip | ✓ | – |  |\n"
	"\n✓ pass, ✗ fail, – skipped (the target lacks a capability), "
	"error: the scenario could not run, empty: not run.\n"
	"\n## Differences\n"
	"\n### a.one\n\n"
	"quilld ✓, dovecot ✗\n\n"
	"Peers may refuse this: RFC 100 section 2 is only a SHOULD.\n"
	"Second line of the note.\n"
	"\n### b.three\n\n"
	"quilld ✗, dovecot ✓\n\n"
	"(no note: a difference to explain)\n"
	"\n### c.four\n\n"
	"dovecot error, a\\|b &lt;c> ✗\n\n"
	"(no note: a difference to explain) (no/such/file.yaml: cannot "
	"open: No such file or directory)\n";

START_TEST(test_compare)
{
	struct result_set a, b, c;
	const struct result_set *sets[] = {&a, &b, &c};
	char path[128], *out;

	result_set_init(&a, "quilld");
	add(&a, "b.three", SCEN "/b/three.yaml", RESULT_FAIL, "x", "S: x\n", 0,
	    NULL, NULL);
	add(&a, "a.one", SCEN "/a/one.yaml", RESULT_PASS, NULL, NULL, 0, NULL,
	    NULL);
	add(&a, "a.two", SCEN "/a/two.yaml", RESULT_PASS, NULL, NULL, 0, NULL,
	    NULL);
	result_set_init(&b, "dovecot");
	add(&b, "a.one", SCEN "/a/one.yaml", RESULT_FAIL, "x", NULL, 0, NULL,
	    NULL);
	/* a skip is no result: passing here and skipped there is no
	 * difference to explain */
	add(&a, "e.skip", SCEN "/a/one.yaml", RESULT_PASS, NULL, NULL, 0, NULL,
	    NULL);
	add(&b, "e.skip", SCEN "/a/one.yaml", RESULT_SKIP, "lacks x", NULL, 0,
	    NULL, NULL);
	add(&b, "a.two", SCEN "/a/two.yaml", RESULT_PASS, NULL, NULL, 0, NULL,
	    NULL);
	add(&b, "b.three", SCEN "/b/three.yaml", RESULT_PASS, NULL, NULL, 0,
	    NULL, NULL);
	add(&b, "c.four", "no/such/file.yaml", RESULT_ERROR, "x", NULL, 0, NULL,
	    NULL);
	add(&b, "d.same", NULL, RESULT_FAIL, "x", NULL, 0, NULL, NULL);
	result_set_init(&c, "a|b <c>");
	add(&c, "c.four", "no/such/file.yaml", RESULT_FAIL, "x", NULL, 0, NULL,
	    NULL);
	add(&c, "a.two", SCEN "/a/two.yaml", RESULT_PASS, NULL, NULL, 0, NULL,
	    NULL);
	make_dir();
	(void)snprintf(path, sizeof(path), "%s/comparison.md", dir);
	ck_assert_int_eq(compare_write_markdown(path, sets, 3), 0);
	out = slurp(path);
	ck_assert_str_eq(out, compare_golden);
	free(out);
	ck_assert_int_eq(compare_write_markdown(path, sets, 1), 0);
	out = slurp(path);
	ck_assert_ptr_nonnull(strstr(out, "\n## Differences\n\nNone: every "
					  "target that ran a scenario gave "
					  "the same result.\n"));
	free(out);
	remove_dir("comparison.md");
	result_set_free(&a);
	result_set_free(&b);
	result_set_free(&c);
}
END_TEST

static Suite *report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("formats");

	tcase_add_test(tc, test_human);
	tcase_add_test(tc, test_human_tty);
	tcase_add_test(tc, test_tap);
	tcase_add_test(tc, test_junit);
	tcase_add_test(tc, test_junit_every_byte);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_test(tc, test_atomic_replace);
	tcase_add_test(tc, test_bad_path);
	tcase_add_test(tc, test_stdout);
	suite_add_tcase(s, tc);

	tc = tcase_create("compare");
	tcase_add_test(tc, test_compare);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(report_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
