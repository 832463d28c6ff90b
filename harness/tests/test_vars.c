/*
 * test_vars.c - scenario variables: setting, replacing, ${name}
 * substitution with $$ and lone '$', regex quoting of values, unknown
 * variables and syntax errors; and the transcript's escaping and line
 * assembly.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transcript.h"
#include "vars.h"

static char *expand(const struct vars *v, const char *s, enum vars_quote q,
		    char *err)
{
	return vars_expand_dup(v, s, strlen(s), q, NULL, err, 200);
}

START_TEST(set_get_replace)
{
	struct vars *v = vars_new();
	size_t len;
	ck_assert_int_eq(vars_set_str(v, "a", "1"), 0);
	ck_assert_int_eq(vars_set(v, "bin", "x\0y", 3), 0);
	ck_assert_str_eq(vars_get(v, "a", NULL), "1");
	ck_assert_int_eq(vars_set_str(v, "a", "22"), 0);
	ck_assert_str_eq(vars_get(v, "a", &len), "22");
	ck_assert_uint_eq(len, 2);
	ck_assert_int_eq(memcmp(vars_get(v, "bin", &len), "x\0y", 3), 0);
	ck_assert_uint_eq(len, 3);
	ck_assert_int_eq(vars_set_str(v, "target.host", "h"), 0);
	ck_assert_int_eq(vars_set_str(v, "1bad", "x"), -1);
	ck_assert_int_eq(vars_set_str(v, "", "x"), -1);
	vars_unset(v, "a");
	ck_assert_ptr_null(vars_get(v, "a", NULL));
	vars_unset(v, "never");
	vars_free(&v);
	ck_assert_ptr_null(v);
}
END_TEST

START_TEST(substitution)
{
	struct vars *v = vars_new();
	char err[200], *s;
	vars_set_str(v, "user1", "alice");
	vars_set_str(v, "target.domain", "example.test");
	s = expand(v, "${user1}@${target.domain}", VARS_RAW, err);
	ck_assert_str_eq(s, "alice@example.test");
	free(s);
	s = expand(v, "cost $$5, ^OK$ and $x", VARS_RAW, err);
	ck_assert_str_eq(s, "cost $5, ^OK$ and $x");
	free(s);
	s = expand(v, "", VARS_RAW, err);
	ck_assert_str_eq(s, "");
	free(s);
	s = expand(v, "^${target.domain}$", VARS_REGEX, err);
	ck_assert_str_eq(s, "^example\\.test$");
	free(s);
	ck_assert_ptr_null(expand(v, "hi ${nobody}", VARS_RAW, err));
	ck_assert_str_eq(err, "unknown variable 'nobody'");
	ck_assert_ptr_null(expand(v, "hi ${x", VARS_RAW, err));
	s = expand(NULL, "a${b}c", VARS_RAW, err);
	ck_assert_str_eq(s, "axc");
	free(s);
	vars_free(&v);
}
END_TEST

START_TEST(syntax)
{
	char err[300];
	size_t off = 99;
	ck_assert_int_eq(
		vars_syntax("a $$ ${b.c-d} $ x$", 18, &off, err, sizeof(err)),
		0);
	ck_assert_int_eq(vars_syntax("ok ${", 5, &off, err, sizeof(err)), -1);
	ck_assert_uint_eq(off, 3);
	ck_assert_int_eq(vars_syntax("${9}", 4, &off, err, sizeof(err)), -1);
	ck_assert_int_eq(vars_syntax("${a b}", 6, &off, err, sizeof(err)), -1);
	ck_assert(vars_has_refs("x${a}", 5));
	ck_assert(vars_has_refs("$$", 2));
	ck_assert(!vars_has_refs("^a$", 3));
}
END_TEST

START_TEST(regex_quoting_matches_literally)
{
	struct vars *v = vars_new();
	char err[200];
	vars_set_str(v, "s", "a.b*(c)[d]{1}|^$\\");
	char *s = expand(v, "${s}", VARS_REGEX, err);
	ck_assert_str_eq(s, "a\\.b\\*\\(c\\)\\[d\\]\\{1\\}\\|\\^\\$\\\\");
	free(s);
	vars_free(&v);
}
END_TEST

static const char *tr_of(struct transcript *t)
{
	return transcript_text(t);
}

START_TEST(transcript_lines)
{
	struct transcript t;
	transcript_init(&t);
	transcript_data(&t, "main", 'C', "EHLO x\r\n", 8);
	transcript_data(&t, "main", 'S', "250-a\r\n250 b", 12);
	transcript_data(&t, "main", 'S', "\r\n", 2);
	transcript_data(&t, "main", 'C', "A\tB\\C\x01\xff\n", 8);
	transcript_data(&t, "main", 'C', "bare\rCR\r\n", 9);
	transcript_data(&t, "b", 'C', "partial", 7);
	transcript_note(&t, "b", "TLS established (%s)", "TLSv1.3");
	transcript_line(&t, "expected: %s", "250");
	ck_assert_str_eq(tr_of(&t), "main C: EHLO x\n"
				    "main S: 250-a\n"
				    "main S: 250 b\n"
				    "main C: A\\tB\\\\C\\x01\\xff\\n\n"
				    "main C: bare\\rCR\n"
				    "b C: partial [partial]\n"
				    "b * TLS established (TLSv1.3)\n"
				    "expected: 250\n");
	transcript_free(&t);
}
END_TEST

START_TEST(transcript_split_and_interleaved)
{
	struct transcript t;
	const char *line = "NOOP\r\n";
	transcript_init(&t);
	for (size_t i = 0; i < 6; i++) /* one byte at a time */
		transcript_data(&t, "main", 'C', line + i, 1);
	transcript_data(&t, "main", 'C', "RS", 2);
	transcript_data(&t, "main", 'S', "250 OK\r\n", 8);
	transcript_data(&t, "main", 'C', "ET\r\n", 4);
	ck_assert_str_eq(tr_of(&t), "main C: NOOP\n"
				    "main C: RS [partial]\n"
				    "main S: 250 OK\n"
				    "main C: ET\n");
	transcript_free(&t);
}
END_TEST

START_TEST(transcript_bounds)
{
	struct transcript t;
	char *big = malloc(3 * TRANSCRIPT_LINE_SHOW);
	memset(big, 'a', 3 * TRANSCRIPT_LINE_SHOW);
	big[3 * TRANSCRIPT_LINE_SHOW - 2] = '\r';
	big[3 * TRANSCRIPT_LINE_SHOW - 1] = '\n';
	transcript_init(&t);
	transcript_data(&t, "m", 'S', big, 3 * TRANSCRIPT_LINE_SHOW);
	const char *s = tr_of(&t);
	ck_assert_ptr_nonnull(strstr(s, "... [1024 more bytes]\n"));
	ck_assert_uint_eq(strlen(s), 5 + TRANSCRIPT_LINE_SHOW + 22);
	/* a flood is cut at the limit with one note */
	for (int i = 0; i < 5000; i++)
		transcript_data(&t, "m", 'S', big, 3 * TRANSCRIPT_LINE_SHOW);
	s = tr_of(&t);
	ck_assert_uint_le(strlen(s), TRANSCRIPT_MAX + 30);
	ck_assert_ptr_nonnull(strstr(s, "[transcript truncated]\n"));
	transcript_free(&t);
	free(big);
}
END_TEST

START_TEST(escape_str)
{
	char out[16];
	transcript_escape_str(out, sizeof(out), "ab\r\n", 4);
	ck_assert_str_eq(out, "ab\\r\\n");
	transcript_escape_str(out, sizeof(out), "0123456789abcdef", 16);
	ck_assert_str_eq(out, "0123456789ab...");
}
END_TEST

static Suite *vars_suite(void)
{
	Suite *s = suite_create("vars");
	TCase *tc = tcase_create("vars");
	tcase_add_test(tc, set_get_replace);
	tcase_add_test(tc, substitution);
	tcase_add_test(tc, syntax);
	tcase_add_test(tc, regex_quoting_matches_literally);
	suite_add_tcase(s, tc);
	tc = tcase_create("transcript");
	tcase_add_test(tc, transcript_lines);
	tcase_add_test(tc, transcript_split_and_interleaved);
	tcase_add_test(tc, transcript_bounds);
	tcase_add_test(tc, escape_str);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(vars_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
