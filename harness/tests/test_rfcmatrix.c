/*
 * test_rfcmatrix.c - unit tests for harness/rfcmatrix (the requirement
 * matrix of the rfc/ YAML files).
 *
 * Valid files (data/rfc/good): RFCs in numeric order, requirements in file
 * order, every field, lookup by id. Each validation error with its exact
 * message and position. Directory errors (a repeated RFC number, the file
 * an error is in, a missing directory) and the repository's own rfc/,
 * which must always load.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rfcmatrix.h"

#define DATA QUILL_TEST_DATA "/rfc"

static const char head[] = "rfc: 1\ntitle: One\nrequirements:\n";

/* Loading must fail with exactly this formatted error. */
static void expect_error(const char *yaml, const char *expected)
{
	struct ytree_error err;
	struct rfc_matrix *m;
	char buf[600];

	memset(&err, 0, sizeof(err));
	m = rfc_matrix_load_buffer("t.yaml", yaml, strlen(yaml), &err);
	ck_assert_msg(m == NULL, "loaded: %s", yaml);
	ck_assert_int_eq(ytree_error_format(&err, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, expected);
}

/* head, then one requirement with these values. */
static void expect_req_error(const char *id, const char *section,
			     const char *level, const char *role,
			     const char *text, const char *expected)
{
	char yaml[1024];

	(void)snprintf(yaml, sizeof(yaml),
		       "%s  - id: %s\n    section: %s\n    level: %s\n"
		       "    role: %s\n    text: %s\n",
		       head, id, section, level, role, text);
	expect_error(yaml, expected);
}

static void assert_req(const struct rfc_req *r, const char *id,
		       const char *section, enum rfc_level level,
		       enum rfc_role role, unsigned line)
{
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->id, id);
	ck_assert_str_eq(r->section, section);
	ck_assert_int_eq(r->level, level);
	ck_assert_int_eq(r->role, role);
	ck_assert_uint_eq(r->line, line);
	ck_assert_uint_eq(r->column, 9);
}

START_TEST(test_load_dir)
{
	struct ytree_error err;
	struct rfc_matrix *m = rfc_matrix_load_dir(DATA "/good", &err);
	const struct rfc_doc *nine, *ten;

	ck_assert_msg(m != NULL, "%s:%u:%u: %s", err.file, err.line, err.column,
		      err.message);
	ck_assert_uint_eq(rfc_matrix_count(m), 2);
	nine = rfc_matrix_doc_at(m, 0);
	ten = rfc_matrix_doc_at(m, 1);
	ck_assert_ptr_null(rfc_matrix_doc_at(m, 2));
	ck_assert_uint_eq(nine->number, 9);
	ck_assert_str_eq(nine->title, "Test Protocol Nine");
	ck_assert_str_eq(nine->file, DATA "/good/rfc9.yaml");
	ck_assert_uint_eq(nine->n_reqs, 5);
	assert_req(&nine->reqs[0], "RFC9-1", "1", RFC_LEVEL_MUST,
		   RFC_ROLE_SERVER, 6);
	assert_req(&nine->reqs[1], "RFC9-1-2", "1", RFC_LEVEL_MUST_NOT,
		   RFC_ROLE_CLIENT, 11);
	assert_req(&nine->reqs[2], "RFC9-2.10", "2.10", RFC_LEVEL_SHOULD,
		   RFC_ROLE_BOTH, 16);
	assert_req(&nine->reqs[3], "RFC9-B-2", "B", RFC_LEVEL_SHOULD_NOT,
		   RFC_ROLE_RELAY, 21);
	assert_req(&nine->reqs[4], "RFC9-F.2", "F.2", RFC_LEVEL_MAY,
		   RFC_ROLE_SERVER, 26);
	ck_assert_str_eq(nine->reqs[3].text,
			 "a relay does not rewrite \"From\" lines: quoting in "
			 "single quotes");
	ck_assert_str_eq(nine->reqs[4].text,
			 "a server may say hello twice — UTF-8 is fine");
	ck_assert_ptr_eq(nine->reqs[0].doc, nine);
	ck_assert_uint_eq(ten->number, 10);
	ck_assert_uint_eq(ten->n_reqs, 1);
	assert_req(&ten->reqs[0], "RFC10-3", "3", RFC_LEVEL_MAY,
		   RFC_ROLE_CLIENT, 5);
	ck_assert_ptr_eq(ten->reqs[0].doc, ten);
	rfc_matrix_free(&m);
	ck_assert_ptr_null(m);
	rfc_matrix_free(&m);
}
END_TEST

START_TEST(test_find)
{
	struct rfc_matrix *m = rfc_matrix_load_dir(DATA "/good", NULL);
	const struct rfc_doc *nine = rfc_matrix_doc(m, 9);

	ck_assert_ptr_nonnull(nine);
	ck_assert_ptr_eq(rfc_matrix_doc(m, 10), rfc_matrix_doc_at(m, 1));
	ck_assert_ptr_null(rfc_matrix_doc(m, 11));
	for (size_t i = 0; i < nine->n_reqs; i++)
		ck_assert_ptr_eq(rfc_matrix_find(m, nine->reqs[i].id),
				 &nine->reqs[i]);
	ck_assert_str_eq(rfc_matrix_find(m, "RFC10-3")->text,
			 "a client may wait");
	ck_assert_ptr_null(rfc_matrix_find(m, "RFC9-3"));
	ck_assert_ptr_null(rfc_matrix_find(m, "RFC9-1-"));
	ck_assert_ptr_null(rfc_matrix_find(m, ""));
	ck_assert_ptr_null(rfc_matrix_find(NULL, "RFC9-1"));
	ck_assert_str_eq(rfc_matrix_level_name(RFC_LEVEL_SHOULD_NOT),
			 "SHOULD NOT");
	ck_assert_str_eq(rfc_matrix_role_name(RFC_ROLE_RELAY), "relay");
	ck_assert_str_eq(rfc_matrix_level_name((enum rfc_level)9), "?");
	rfc_matrix_free(&m);
}
END_TEST

START_TEST(test_load_buffer_valid)
{
	static const char yaml[] = "rfc: 1\ntitle: One\nrequirements: []\n";
	struct rfc_matrix *m =
		rfc_matrix_load_buffer("one", yaml, strlen(yaml), NULL);

	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(rfc_matrix_count(m), 1);
	ck_assert_uint_eq(rfc_matrix_doc_at(m, 0)->n_reqs, 0);
	ck_assert_str_eq(rfc_matrix_doc_at(m, 0)->file, "one");
	ck_assert_ptr_null(rfc_matrix_find(m, "RFC1-1"));
	rfc_matrix_free(&m);
}
END_TEST

START_TEST(test_file_errors)
{
	expect_error("", "t.yaml: no document (expected keys rfc, title, "
			 "requirements)");
	expect_error("- a\n", "t.yaml:1:1: expected a map, got a sequence");
	expect_error("rfc: [1\n", "t.yaml:2:1: did not find expected ',' "
				  "or ']' (while parsing a flow sequence "
				  "started at line 1, column 6)");
	expect_error("rfc: 1\ntitle: T\nrequirements: []\nextra: 1\n",
		     "t.yaml:4:1: unknown key 'extra' (expected one of rfc, "
		     "title, requirements)");
	expect_error("rfc: 1\nrequirements: []\n",
		     "t.yaml:1:1: missing key 'title'");
	expect_error("rfc: abc\ntitle: T\nrequirements: []\n",
		     "t.yaml:1:6: key 'rfc': expected an integer between 1 "
		     "and 99999, got 'abc'");
	expect_error("rfc: 0\ntitle: T\nrequirements: []\n",
		     "t.yaml:1:6: key 'rfc': expected an integer between 1 "
		     "and 99999, got '0'");
	expect_error("rfc: 1\ntitle: ''\nrequirements: []\n",
		     "t.yaml:2:8: key 'title': empty value");
	expect_error("rfc: 1\ntitle: \"a\\nb\"\nrequirements: []\n",
		     "t.yaml:2:8: key 'title': more than one line");
	expect_error("rfc: 1\ntitle: [T]\nrequirements: []\n",
		     "t.yaml:2:8: key 'title': expected a string, got a "
		     "sequence");
	expect_error("rfc: 1\ntitle: T\nrequirements: {a: b}\n",
		     "t.yaml:3:15: key 'requirements': expected a sequence, "
		     "got a map");
}
END_TEST

START_TEST(test_requirement_shape)
{
	char yaml[512];

	(void)snprintf(yaml, sizeof(yaml), "%s  - just a string\n", head);
	expect_error(yaml, "t.yaml:4:5: requirement 1: expected a map, got "
			   "'just a string'");
	(void)snprintf(yaml, sizeof(yaml),
		       "%s  - {id: RFC1-1, section: '1', level: MAY, role: "
		       "both, text: x}\n  - id: RFC1-2\n    section: '2'\n"
		       "    level: MAY\n    role: both\n    text: x\n"
		       "    sectoin: '2'\n",
		       head);
	expect_error(yaml, "t.yaml:10:5: requirement 2 'RFC1-2': unknown key "
			   "'sectoin' (expected one of id, section, level, "
			   "role, text)");
	(void)snprintf(yaml, sizeof(yaml),
		       "%s  - id: RFC1-2\n    section: '2'\n    role: both\n"
		       "    text: x\n",
		       head);
	expect_error(yaml, "t.yaml:4:5: requirement 1 'RFC1-2': missing key "
			   "'level'");
	(void)snprintf(yaml, sizeof(yaml),
		       "%s  - section: '2'\n    level: MAY\n    role: both\n"
		       "    text: x\n",
		       head);
	expect_error(yaml, "t.yaml:4:5: requirement 1: missing key 'id'");
}
END_TEST

START_TEST(test_id_errors)
{
	static const char *const bad_form[] = {
		"RFC2-1",    "RFC1-",	 "RFC1",     "rfc1-1",	"RFC01-1",
		"RFC1-a",    "RFC1-AB",	 "RFC1-02",  "RFC1-1.", "RFC1-.1",
		"RFC1-1..2", "RFC1-1.A", "RFC1-1-x", "RFC1-1-", "RFC1-1-2-3",
	};
	char expected[256];

	for (size_t i = 0; i < sizeof(bad_form) / sizeof(*bad_form); i++) {
		(void)snprintf(expected, sizeof(expected),
			       "t.yaml:4:9: requirement 1 '%s': id '%s': "
			       "expected RFC1-<section> or RFC1-<section>-<n>",
			       bad_form[i], bad_form[i]);
		expect_req_error(bad_form[i], "'1'", "MUST", "server", "x",
				 expected);
	}
	expect_req_error("RFC1-1-1", "'1'", "MUST", "server", "x",
			 "t.yaml:4:9: requirement 1 'RFC1-1-1': id "
			 "'RFC1-1-1': a number after the section starts at 2 "
			 "(the first requirement of a section has none)");
	expect_req_error("RFC1-1-02", "'1'", "MUST", "server", "x",
			 "t.yaml:4:9: requirement 1 'RFC1-1-02': id "
			 "'RFC1-1-02': a number after the section starts at 2 "
			 "(the first requirement of a section has none)");
	expect_req_error("[RFC1-1]", "'1'", "MUST", "server", "x",
			 "t.yaml:4:9: requirement 1: key 'id': expected a "
			 "string, got a sequence");
	expect_req_error("\"RFC1-1\\x01\"", "'1'", "MUST", "server", "x",
			 "t.yaml:4:9: requirement 1: id 'RFC1-1\\x01': "
			 "expected RFC1-<section> or RFC1-<section>-<n>");
}
END_TEST

START_TEST(test_value_errors)
{
	char text[400];

	expect_req_error("RFC1-2-3", "'3'", "MUST", "server", "x",
			 "t.yaml:5:14: requirement 1 'RFC1-2-3': section '3' "
			 "does not match the id (expected '2')");
	expect_req_error("RFC1-2.1", "2.10", "MUST", "server", "x",
			 "t.yaml:5:14: requirement 1 'RFC1-2.1': section "
			 "'2.10' does not match the id (expected '2.1')");
	expect_req_error("RFC1-2", "{}", "MUST", "server", "x",
			 "t.yaml:5:14: requirement 1 'RFC1-2': key 'section': "
			 "expected a string, got a map");
	expect_req_error("RFC1-2", "2", "must", "server", "x",
			 "t.yaml:6:12: requirement 1 'RFC1-2': key 'level': "
			 "expected one of MUST, MUST NOT, SHOULD, SHOULD NOT, "
			 "MAY, got 'must'");
	expect_req_error("RFC1-2", "2", "MUST  NOT", "server", "x",
			 "t.yaml:6:12: requirement 1 'RFC1-2': key 'level': "
			 "expected one of MUST, MUST NOT, SHOULD, SHOULD NOT, "
			 "MAY, got 'MUST  NOT'");
	expect_req_error("RFC1-2", "2", "MAY", "servers", "x",
			 "t.yaml:7:11: requirement 1 'RFC1-2': key 'role': "
			 "expected one of server, client, both, relay, got "
			 "'servers'");
	expect_req_error("RFC1-2", "2", "MAY", "server", "''",
			 "t.yaml:8:11: requirement 1 'RFC1-2': key 'text': "
			 "empty value");
	expect_req_error("RFC1-2", "2", "MAY", "server", "|\n      a\n      b",
			 "t.yaml:8:11: requirement 1 'RFC1-2': key 'text': "
			 "more than one line");
	expect_req_error("RFC1-2", "2", "MAY", "server", "\"a\\eb\"",
			 "t.yaml:8:11: requirement 1 'RFC1-2': key 'text': "
			 "control character \\x1b");
	expect_req_error("RFC1-2", "2", "MAY", "server", "\"a\\0b\"",
			 "t.yaml:8:11: requirement 1 'RFC1-2': key 'text': "
			 "contains a NUL byte");
	memset(text, 'x', 301);
	text[301] = '\0';
	expect_req_error("RFC1-2", "2", "MAY", "server", text,
			 "t.yaml:8:11: requirement 1 'RFC1-2': key 'text': "
			 "301 bytes long, at most 300");
}
END_TEST

/* 300 bytes of text is the most allowed. */
START_TEST(test_text_limit)
{
	char yaml[1024], text[301];
	struct ytree_error err;
	struct rfc_matrix *m;

	memset(text, 'x', 300);
	text[300] = '\0';
	(void)snprintf(yaml, sizeof(yaml),
		       "%s  - id: RFC1-2\n    section: 2\n    level: MAY\n"
		       "    role: both\n    text: %s\n",
		       head, text);
	m = rfc_matrix_load_buffer("t.yaml", yaml, strlen(yaml), &err);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(rfc_matrix_find(m, "RFC1-2")->text, text);
	rfc_matrix_free(&m);
}
END_TEST

START_TEST(test_duplicate_id)
{
	char yaml[512];

	(void)snprintf(yaml, sizeof(yaml),
		       "%s  - {id: RFC1-2, section: '2', level: MAY, role: "
		       "both, text: x}\n"
		       "  - {id: RFC1-3, section: '3', level: MAY, role: "
		       "both, text: x}\n"
		       "  - {id: RFC1-2, section: '2', level: MAY, role: "
		       "both, text: x}\n",
		       head);
	expect_error(yaml, "t.yaml:6:10: duplicate id 'RFC1-2' (first at "
			   "t.yaml:4:10)");
}
END_TEST

static void expect_dir_error(const char *dir, const char *expected)
{
	struct ytree_error err;
	char buf[600];

	ck_assert_ptr_null(rfc_matrix_load_dir(dir, &err));
	ck_assert_int_eq(ytree_error_format(&err, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, expected);
}

START_TEST(test_dir_errors)
{
	expect_dir_error(DATA "/dupnum",
			 DATA "/dupnum/rfc5.yaml:1:6: rfc 5 is already "
			      "defined in " DATA "/dupnum/rfc5-again.yaml");
	expect_dir_error(DATA "/bad",
			 DATA "/bad/rfc2.yaml:7:11: requirement 1 'RFC2-1': "
			      "key 'role': expected one of server, client, "
			      "both, relay, got 'servers'");
	expect_dir_error(DATA "/nonexistent",
			 DATA "/nonexistent: cannot read directory: No such "
			      "file or directory");
}
END_TEST

START_TEST(test_empty_dir)
{
	char dir[] = "/tmp/quill-rfcmatrix-XXXXXX";
	struct rfc_matrix *m;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	m = rfc_matrix_load_dir(dir, NULL);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(rfc_matrix_count(m), 0);
	ck_assert_ptr_null(rfc_matrix_find(m, "RFC1-1"));
	rfc_matrix_free(&m);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* The repository's own matrix must always load. */
START_TEST(test_repository_matrix)
{
	struct ytree_error err;
	struct rfc_matrix *m;
	char buf[600] = "";

	m = rfc_matrix_load_dir(QUILL_TEST_DATA "/../../../rfc", &err);
	if (m == NULL)
		ytree_error_format(&err, buf, sizeof(buf));
	ck_assert_msg(m != NULL, "%s", buf);
	for (size_t i = 0; i < rfc_matrix_count(m); i++) {
		const struct rfc_doc *d = rfc_matrix_doc_at(m, i);

		ck_assert(i == 0 ||
			  rfc_matrix_doc_at(m, i - 1)->number < d->number);
		for (size_t j = 0; j < d->n_reqs; j++)
			ck_assert_ptr_eq(rfc_matrix_find(m, d->reqs[j].id),
					 &d->reqs[j]);
	}
	rfc_matrix_free(&m);
}
END_TEST

static Suite *rfcmatrix_suite(void)
{
	Suite *s = suite_create("rfcmatrix");
	TCase *tc = tcase_create("load");

	tcase_add_test(tc, test_load_dir);
	tcase_add_test(tc, test_find);
	tcase_add_test(tc, test_load_buffer_valid);
	tcase_add_test(tc, test_text_limit);
	tcase_add_test(tc, test_empty_dir);
	tcase_add_test(tc, test_repository_matrix);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, test_file_errors);
	tcase_add_test(tc, test_requirement_shape);
	tcase_add_test(tc, test_id_errors);
	tcase_add_test(tc, test_value_errors);
	tcase_add_test(tc, test_duplicate_id);
	tcase_add_test(tc, test_dir_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(rfcmatrix_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
