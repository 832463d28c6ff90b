/*
 * test_coverage.c - unit tests for harness/coverage (`quill-harness
 * coverage`) on the fixtures in data/cov: a three-RFC matrix (one still
 * empty) and scenarios in nested directories, with a target description
 * and hidden and non-YAML files the search must skip.
 *
 * What the scenario reader collects and its errors; counting by level
 * class and role; the text and markdown reports byte for byte, with --rfc
 * and --role; a citation of an unknown requirement (exit 1); usage and
 * file errors (exit 2).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coverage.h"

#define COV  QUILL_TEST_DATA "/cov"
#define SCEN COV "/scenarios"

/* Run the command; its exit status, with stdout and stderr in *out_r and
 * *err_r (free them). argv ends with NULL. */
static int run(char **out_r, char **err_r, char *argv[])
{
	size_t olen = 0, elen = 0;
	FILE *out = open_memstream(out_r, &olen);
	FILE *err = open_memstream(err_r, &elen);
	int argc = 0, rc;

	ck_assert_ptr_nonnull(out);
	ck_assert_ptr_nonnull(err);
	while (argv[argc] != NULL)
		argc++;
	rc = coverage_run(argc, argv, out, err);
	ck_assert_int_eq(fclose(out), 0);
	ck_assert_int_eq(fclose(err), 0);
	return rc;
}

static void expect_run(int status, const char *out, const char *err,
		       char *argv[])
{
	char *o, *e;

	ck_assert_int_eq(run(&o, &e, argv), status);
	if (out != NULL)
		ck_assert_str_eq(o, out);
	ck_assert_str_eq(e, err);
	free(o);
	free(e);
}

START_TEST(test_collect)
{
	const char *paths[] = {SCEN "/", COV "/bad/unknown.yaml"};
	struct coverage_scenario *s;
	size_t n;
	char err[600] = "";

	ck_assert_int_eq(coverage_collect(paths, 2, &s, &n, err, sizeof(err)),
			 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(s[0].id, "a.one");
	ck_assert_str_eq(s[0].file, SCEN "/a/one.yaml");
	ck_assert_uint_eq(s[0].n_rfc, 2);
	ck_assert_str_eq(s[0].rfc[0], "RFC100-1");
	ck_assert_str_eq(s[0].rfc[1], "RFC100-2");
	ck_assert_str_eq(s[1].id, "a.two");
	ck_assert_uint_eq(s[1].n_rfc, 2);
	ck_assert_str_eq(s[2].id, "b.three");
	ck_assert_str_eq(s[2].file, SCEN "/b/three.yaml");
	ck_assert_str_eq(s[3].id, "bad.unknown");
	ck_assert_uint_eq(s[3].n_rfc, 3);
	ck_assert_str_eq(s[3].rfc[2], "RFC999-1");
	coverage_scenarios_free(s, n);
	coverage_scenarios_free(NULL, 0);
}
END_TEST

static void expect_collect_error(const char *path, const char *expected)
{
	struct coverage_scenario *s = NULL;
	size_t n = 0;
	char err[600] = "";

	ck_assert_int_eq(coverage_collect(&path, 1, &s, &n, err, sizeof(err)),
			 -1);
	ck_assert_str_eq(err, expected);
	ck_assert_ptr_null(s);
}

START_TEST(test_collect_errors)
{
	expect_collect_error(COV "/broken",
			     COV "/broken/noid.yaml:1:1: missing key 'id'");
	expect_collect_error(COV "/broken/rfcmap.yaml",
			     COV "/broken/rfcmap.yaml:3:6: key 'rfc': expected "
				 "a list of requirement ids, got a map");
	expect_collect_error(SCEN "/b/notes.txt",
			     SCEN "/b/notes.txt:1:1: expected a scenario (a "
				  "map)");
	expect_collect_error(SCEN "/b/.hidden.yaml",
			     SCEN "/b/.hidden.yaml:2:1: did not find expected "
				  "',' or ']' (while parsing a flow sequence "
				  "started at line 1, column 5)");
	expect_collect_error(COV "/nope",
			     COV "/nope: No such file or directory");
}
END_TEST

START_TEST(test_count)
{
	struct ytree_error err;
	struct rfc_matrix *m = rfc_matrix_load_dir(COV "/rfc", &err);
	const char *paths[] = {SCEN};
	const struct rfc_doc *d;
	struct coverage_scenario *s;
	struct coverage_counts c;
	size_t n;
	char msg[600];

	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(coverage_collect(paths, 1, &s, &n, msg, sizeof(msg)),
			 0);
	d = rfc_matrix_doc(m, 100);
	memset(&c, 0, sizeof(c));
	coverage_count(d, 0, s, n, &c);
	ck_assert_uint_eq(c.total[COVERAGE_MUST], 2);
	ck_assert_uint_eq(c.covered[COVERAGE_MUST], 1);
	ck_assert_uint_eq(c.total[COVERAGE_SHOULD], 2);
	ck_assert_uint_eq(c.covered[COVERAGE_SHOULD], 1);
	ck_assert_uint_eq(c.total[COVERAGE_MAY], 2);
	ck_assert_uint_eq(c.covered[COVERAGE_MAY], 1);
	memset(&c, 0, sizeof(c));
	coverage_count(d, 1u << RFC_ROLE_CLIENT, s, n, &c);
	ck_assert_uint_eq(c.total[COVERAGE_MUST], 1); /* RFC100-1-2 */
	ck_assert_uint_eq(c.covered[COVERAGE_MUST], 0);
	ck_assert_uint_eq(c.total[COVERAGE_SHOULD], 1); /* RFC100-2, both */
	ck_assert_uint_eq(c.covered[COVERAGE_SHOULD], 1);
	ck_assert_uint_eq(c.total[COVERAGE_MAY], 0);
	ck_assert(coverage_is_covered(rfc_matrix_find(m, "RFC100-3"), s, n));
	ck_assert(!coverage_is_covered(rfc_matrix_find(m, "RFC100-3-2"), s, n));
	ck_assert(coverage_role_selected(rfc_matrix_find(m, "RFC100-2"),
					 1u << RFC_ROLE_BOTH));
	ck_assert(coverage_role_selected(rfc_matrix_find(m, "RFC100-2"),
					 1u << RFC_ROLE_RELAY));
	ck_assert(!coverage_role_selected(rfc_matrix_find(m, "RFC100-3"),
					  1u << RFC_ROLE_BOTH));
	ck_assert_int_eq(coverage_class_of(RFC_LEVEL_MUST_NOT), COVERAGE_MUST);
	ck_assert_int_eq(coverage_class_of(RFC_LEVEL_SHOULD_NOT),
			 COVERAGE_SHOULD);
	ck_assert_int_eq(coverage_class_of(RFC_LEVEL_MAY), COVERAGE_MAY);
	coverage_scenarios_free(s, n);
	rfc_matrix_free(&m);
}
END_TEST

static const char text_golden[] =
	"RFC 100: Test Protocol\n"
	"  RFC100-1    MUST        server  covered-by: a.one, a.two\n"
	"      a server greets first\n"
	"  RFC100-1-2  MUST NOT    client  covered-by: -\n"
	"      a client does not talk before the greeting\n"
	"  RFC100-2    SHOULD      both    covered-by: a.one\n"
	"      both sides end lines with CRLF\n"
	"  RFC100-2-2  SHOULD NOT  server  covered-by: -\n"
	"      a server does not send bare LF\n"
	"  RFC100-3    MAY         relay   covered-by: b.three\n"
	"      a relay may add a trace header\n"
	"  RFC100-3-2  MAY         server  covered-by: -\n"
	"      a server may say goodbye\n"
	"  MUST: 1/2 (50%), SHOULD: 1/2 (50%), MAY: 1/2\n"
	"\n"
	"RFC 200: Other | Protocol <x>\n"
	"  RFC200-1    MUST        server  covered-by: b.three\n"
	"      a server answers every command\n"
	"  RFC200-A.1  SHOULD      client  covered-by: -\n"
	"      a client waits for the answer\n"
	"  MUST: 1/1 (100%), SHOULD: 0/1 (0%), MAY: 0/0\n"
	"\n"
	"Total\n"
	"  RFC       MUST              SHOULD            MAY\n"
	"  RFC 100   1/2 (50%)         1/2 (50%)         1/2\n"
	"  RFC 200   1/1 (100%)        0/1 (0%)          0/0\n"
	"  total     2/3 (66%)         1/3 (33%)         1/2\n";

START_TEST(test_text)
{
	char *argv[] = {"coverage", "--rfc-dir", COV "/rfc", SCEN, NULL};
	char *argv2[] = {"coverage",  "--format", "text", SCEN,
			 "--rfc-dir", COV "/rfc", NULL};

	expect_run(0, text_golden, "", argv);
	expect_run(0, text_golden, "", argv2);
}
END_TEST

START_TEST(test_markdown)
{
	char *argv[] = {"coverage", "--rfc-dir", COV "/rfc", "--format",
			"markdown", SCEN,	 NULL};

	expect_run(0,
		   "| RFC | title | MUST | SHOULD | MAY |\n"
		   "| --- | --- | ---: | ---: | ---: |\n"
		   "| RFC 100 | Test Protocol | 1/2 (50%) | 1/2 (50%) | 1/2 |\n"
		   "| RFC 200 | Other \\| Protocol &lt;x> | 1/1 (100%) | 0/1 "
		   "(0%) | 0/0 |\n"
		   "| total | | 2/3 (66%) | 1/3 (33%) | 1/2 |\n",
		   "", argv);
}
END_TEST

START_TEST(test_filters)
{
	char *server[] = {"coverage", "--rfc-dir", COV "/rfc",
			  "--format", "markdown",  "--role",
			  "server",   SCEN,	   NULL};
	char *relay[] = {"coverage", "--rfc-dir", COV "/rfc", "--role",
			 "relay",    SCEN,	  NULL};
	char *rfcs[] = {"coverage", "--rfc-dir", COV "/rfc", "--format",
			"markdown", "--rfc",	 "300",	     "--rfc",
			"200",	    SCEN,	 NULL};

	expect_run(
		0,
		"| RFC | title | MUST | SHOULD | MAY |\n"
		"| --- | --- | ---: | ---: | ---: |\n"
		"| RFC 100 | Test Protocol | 1/1 (100%) | 1/2 (50%) | 0/1 |\n"
		"| RFC 200 | Other \\| Protocol &lt;x> | 1/1 (100%) | 0/0 "
		"(n/a) | 0/0 |\n"
		"| total | | 2/2 (100%) | 1/2 (50%) | 0/1 |\n",
		"", server);
	expect_run(0,
		   "RFC 100: Test Protocol\n"
		   "  RFC100-2  SHOULD      both    covered-by: a.one\n"
		   "      both sides end lines with CRLF\n"
		   "  RFC100-3  MAY         relay   covered-by: b.three\n"
		   "      a relay may add a trace header\n"
		   "  MUST: 0/0 (n/a), SHOULD: 1/1 (100%), MAY: 1/1\n"
		   "\n"
		   "Total\n"
		   "  RFC       MUST              SHOULD            MAY\n"
		   "  RFC 100   0/0 (n/a)         1/1 (100%)        1/1\n"
		   "  total     0/0 (n/a)         1/1 (100%)        1/1\n",
		   "", relay);
	expect_run(0,
		   "| RFC | title | MUST | SHOULD | MAY |\n"
		   "| --- | --- | ---: | ---: | ---: |\n"
		   "| RFC 200 | Other \\| Protocol &lt;x> | 1/1 (100%) | 0/1 "
		   "(0%) | 0/0 |\n"
		   "| RFC 300 | Empty So Far | 0/0 (n/a) | 0/0 (n/a) | 0/0 |\n"
		   "| total | | 1/1 (100%) | 0/1 (0%) | 0/0 |\n",
		   "", rfcs);
}
END_TEST

START_TEST(test_unknown_ids)
{
	char *argv[] = {"coverage", "--rfc-dir", COV "/rfc",
			SCEN,	    COV "/bad",	 NULL};

	expect_run(1, "",
		   COV "/bad/unknown.yaml: scenario 'bad.unknown' cites "
		       "unknown requirement 'RFC100-9'\n" COV
		       "/bad/unknown.yaml: scenario 'bad.unknown' cites "
		       "unknown requirement 'RFC999-1'\n",
		   argv);
}
END_TEST

START_TEST(test_usage_errors)
{
	char *no_path[] = {"coverage", "--rfc-dir", COV "/rfc", NULL};
	char *bad_opt[] = {"coverage", "--rfcdir", "x", SCEN, NULL};
	char *bad_short[] = {"coverage", "-x", SCEN, NULL};
	char *no_value[] = {"coverage", SCEN, "--rfc", NULL};
	char *help[] = {"coverage", "--help", NULL};
	char *o, *e;

	ck_assert_int_eq(run(&o, &e, no_path), 2);
	ck_assert_ptr_nonnull(strstr(e, "no scenario path\nusage: "));
	free(o);
	free(e);
	ck_assert_int_eq(run(&o, &e, bad_opt), 2);
	ck_assert_ptr_nonnull(strstr(e, "unknown option '--rfcdir'\nusage: "));
	free(o);
	free(e);
	ck_assert_int_eq(run(&o, &e, bad_short), 2);
	ck_assert_ptr_nonnull(strstr(e, "unknown option '-x'\n"));
	free(o);
	free(e);
	ck_assert_int_eq(run(&o, &e, no_value), 2);
	ck_assert_ptr_nonnull(strstr(e, "missing value for '--rfc'\n"));
	free(o);
	free(e);
	ck_assert_int_eq(run(&o, &e, help), 0);
	ck_assert_ptr_nonnull(strstr(o, "usage: quill-harness coverage"));
	ck_assert_str_eq(e, "");
	free(o);
	free(e);
}
END_TEST

/* Bad values, and files that cannot be read: exit 2. */
START_TEST(test_value_errors)
{
	char *bad_format[] = {"coverage", "--format", "html", SCEN, NULL};
	char *bad_role[] = {"coverage", "--role", "servers", SCEN, NULL};
	char *bad_num[] = {"coverage", "--rfc", "01", SCEN, NULL};
	char *no_rfc[] = {"coverage", "--rfc-dir", COV "/rfc", "--rfc",
			  "7",	      SCEN,	   NULL};
	char *bad_dir[] = {"coverage", "--rfc-dir", COV "/nope", SCEN, NULL};
	char *bad_scen[] = {"coverage", "--rfc-dir", COV "/rfc", COV "/broken",
			    NULL};

	expect_run(2, "", "quill-harness coverage: unknown format 'html'\n",
		   bad_format);
	expect_run(2, "", "quill-harness coverage: unknown role 'servers'\n",
		   bad_role);
	expect_run(2, "", "quill-harness coverage: bad RFC number '01'\n",
		   bad_num);
	expect_run(2, "", "quill-harness coverage: no RFC 7 in " COV "/rfc\n",
		   no_rfc);
	expect_run(2, "",
		   "quill-harness coverage: " COV "/nope: cannot read "
		   "directory: No such file or directory\n",
		   bad_dir);
	expect_run(2, "",
		   "quill-harness coverage: " COV "/broken/noid.yaml:1:1: "
		   "missing key 'id'\n",
		   bad_scen);
}
END_TEST

static Suite *coverage_suite(void)
{
	Suite *s = suite_create("coverage");
	TCase *tc = tcase_create("collect");

	tcase_add_test(tc, test_collect);
	tcase_add_test(tc, test_collect_errors);
	tcase_add_test(tc, test_count);
	suite_add_tcase(s, tc);

	tc = tcase_create("command");
	tcase_add_test(tc, test_text);
	tcase_add_test(tc, test_markdown);
	tcase_add_test(tc, test_filters);
	tcase_add_test(tc, test_unknown_ids);
	tcase_add_test(tc, test_usage_errors);
	tcase_add_test(tc, test_value_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(coverage_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
