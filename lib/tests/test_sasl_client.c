/*
 * test_sasl_client.c - unit tests for lib/sasl_client: PLAIN (RFC 4616,
 * with the section 4 examples) and LOGIN responses.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "sasl_client.h"

struct plain_vector {
	const char *authzid, *user, *pass;
	const char *want; /* NULL: refused */
};

static const struct plain_vector plain_vectors[] = {
	/* RFC 4616 section 4: "\0tim\0tanstaaftanstaaf" */
	{NULL, "tim", "tanstaaftanstaaf", "AHRpbQB0YW5zdGFhZnRhbnN0YWFm"},
	{"", "tim", "tanstaaftanstaaf", "AHRpbQB0YW5zdGFhZnRhbnN0YWFm"},
	/* RFC 4616 section 4: "Ursel\0Kurt\0xipj3plmq" */
	{"Ursel", "Kurt", "xipj3plmq", "VXJzZWwAS3VydAB4aXBqM3BsbXE="},
	{NULL, "test", "test", "AHRlc3QAdGVzdA=="},
	{NULL, "u", "p\xf0\x9f\x98\x80", "AHUAcPCfmIA="},
	{"J\xc3\xbcrgen", "J\xc3\xbcrgen", "p\xc3\xa4ss",
	 "SsO8cmdlbgBKw7xyZ2VuAHDDpHNz"},
	/* authcid and passwd are 1*SAFE */
	{NULL, "", "pass", NULL},
	{NULL, "user", "", NULL},
	{NULL, NULL, "pass", NULL},
	{NULL, "user", NULL, NULL},
	/* not UTF-8 (RFC 3629): truncated, overlong, surrogate, too big,
	 * stray continuation, invalid lead bytes */
	{NULL, "u\xc3", "p", NULL},
	{NULL, "u", "\xc0\x80", NULL},
	{NULL, "u", "\xe0\x80\xaf", NULL},
	{NULL, "u", "\xed\xa0\x80", NULL},
	{NULL, "u", "\xf4\x90\x80\x80", NULL},
	{NULL, "u", "\x80", NULL},
	{"\xff", "u", "p", NULL},
	{NULL, "u", "\xe2\x82", NULL},
	{NULL, "u", "\xe2\x28\xa1", NULL},
};

#define N_PLAIN (sizeof(plain_vectors) / sizeof(plain_vectors[0]))

START_TEST(test_plain)
{
	const struct plain_vector *v = &plain_vectors[_i];
	char out[64];

	memset(out, 'x', sizeof(out));
	int rc = sasl_plain_response(v->authzid, v->user, v->pass, out,
				     sizeof(out));
	if (v->want == NULL) {
		ck_assert_int_eq(rc, -1);
		ck_assert_int_eq(out[0], 'x');
		return;
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(out, v->want);
	/* exactly enough room works, one byte less does not */
	size_t need = strlen(v->want) + 1;
	memset(out, 'x', sizeof(out));
	ck_assert_int_eq(
		sasl_plain_response(v->authzid, v->user, v->pass, out, need),
		0);
	ck_assert_str_eq(out, v->want);
	memset(out, 'x', sizeof(out));
	ck_assert_int_eq(sasl_plain_response(v->authzid, v->user, v->pass, out,
					     need - 1),
			 -1);
	ck_assert_int_eq(out[0], 'x');
}
END_TEST

START_TEST(test_plain_roundtrip)
{
	/* decoding gives back authzid NUL authcid NUL passwd, exactly */
	char out[512], user[256], pass[101];
	unsigned char msg[400];
	size_t len;

	memset(user, 'u', sizeof(user) - 1);
	user[sizeof(user) - 1] = '\0';
	memset(pass, 'p', sizeof(pass) - 1);
	pass[sizeof(pass) - 1] = '\0';
	ck_assert_int_eq(
		sasl_plain_response("admin", user, pass, out, sizeof(out)), 0);
	ck_assert_int_eq(
		base64_decode(out, strlen(out), msg, sizeof(msg), &len), 0);
	ck_assert_uint_eq(len, 5 + 1 + 255 + 1 + 100);
	ck_assert_mem_eq(msg, "admin\0uuu", 9);
	ck_assert_uint_eq(msg[5 + 1 + 255], 0);
	ck_assert_uint_eq(msg[len - 1], 'p');
}
END_TEST

START_TEST(test_login)
{
	char out[32];

	ck_assert_int_eq(sasl_login_encode("tim", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "dGlt");
	ck_assert_int_eq(
		sasl_login_encode("tanstaaftanstaaf", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "dGFuc3RhYWZ0YW5zdGFhZg==");
	ck_assert_int_eq(sasl_login_encode("", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(sasl_login_encode("tim", out, 5), 0);
	memset(out, 'x', sizeof(out));
	ck_assert_int_eq(sasl_login_encode("tim", out, 4), -1);
	ck_assert_int_eq(out[0], 'x');
	ck_assert_int_eq(sasl_login_encode(NULL, out, sizeof(out)), -1);
	ck_assert_int_eq(out[0], 'x');
}
END_TEST

static Suite *sasl_client_suite(void)
{
	Suite *s = suite_create("sasl_client");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, test_plain, 0, N_PLAIN);
	tcase_add_test(tc, test_plain_roundtrip);
	tcase_add_test(tc, test_login);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sasl_client_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
