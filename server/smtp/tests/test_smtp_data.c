/*
 * test_smtp_data.c - the DATA reader: the end of data (RFC 5321 4.1.1.4),
 * transparency (4.5.2), line and size limits (4.5.3.1.6, RFC 1870) and
 * the bare LF / bare CR cases behind SMTP smuggling (2.3.8).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/smtp_data.h"

struct run {
	enum smtp_data_step step;
	enum smtp_data_verdict verdict;
	char out[4096];
	size_t rest; /* input left after the end */
};

/* Feed input in pieces of `step` bytes until the end is seen. */
static struct run run_data(const char *input, size_t len, size_t piece,
			   bool normalise, unsigned long long max)
{
	struct smtp_data_reader r;
	struct buf in, out;
	struct run res;
	memset(&res, 0, sizeof(res));
	buf_init(&in, 1 << 16);
	buf_init(&out, 1 << 16);
	smtp_data_init(&r, 1000, max, normalise);
	res.step = SMTP_DATA_MORE;
	for (size_t off = 0; off < len && res.step != SMTP_DATA_DONE;) {
		size_t n = len - off < piece ? len - off : piece;
		ck_assert_int_eq(buf_append(&in, input + off, n), 0);
		off += n;
		do
			res.step = smtp_data_run(&r, &in, &out, 1 << 15);
		while (res.step == SMTP_DATA_FULL);
		if (res.step == SMTP_DATA_DONE)
			res.rest = len - off + buf_len(&in);
	}
	res.verdict = r.verdict;
	ck_assert_uint_lt(buf_len(&out), sizeof(res.out));
	memcpy(res.out, buf_data(&out), buf_len(&out));
	buf_free(&in);
	buf_free(&out);
	return res;
}

/* Every piece size gives the same result. */
static struct run run_all(const char *input, bool normalise,
			  unsigned long long max)
{
	size_t len = strlen(input);
	struct run whole = run_data(input, len, len, normalise, max);
	for (size_t piece = 1; piece < len; piece++) {
		struct run r = run_data(input, len, piece, normalise, max);
		ck_assert_int_eq(r.step, whole.step);
		ck_assert_int_eq(r.verdict, whole.verdict);
		ck_assert_str_eq(r.out, whole.out);
		ck_assert_uint_eq(r.rest, whole.rest);
	}
	return whole;
}

START_TEST(end_and_transparency)
{
	struct run r =
		run_all("Subject: x\r\n\r\n..dot\r\n.\r\nQUIT\r\n", false, 0);
	ck_assert_int_eq(r.step, SMTP_DATA_DONE);
	ck_assert_int_eq(r.verdict, SMTP_DATA_OK);
	ck_assert_str_eq(r.out, "Subject: x\r\n\r\n.dot\r\n");
	ck_assert_uint_eq(r.rest, 6);	/* "QUIT\r\n" is the next command */
	r = run_all(".\r\n", false, 0); /* an empty message */
	ck_assert_int_eq(r.step, SMTP_DATA_DONE);
	ck_assert_str_eq(r.out, "");
	r = run_all("a\r\n.x\r\n. \r\n..\r\n", false, 0);
	ck_assert_int_eq(r.step, SMTP_DATA_MORE);
	ck_assert_str_eq(r.out, "a\r\nx\r\n \r\n.\r\n");
}
END_TEST

/* The smuggling forms: none of these ends the message. */
START_TEST(bare_lf_cr_never_end)
{
	static const char *const tricks[] = {
		"a\n.\nMAIL FROM:<x@y>\r\n",   "a\r\n.\nMAIL FROM:<x@y>\r\n",
		"a\n.\r\nMAIL FROM:<x@y>\r\n", "a\r.\rMAIL FROM:<x@y>\r\n",
		"a\r\n.\rMAIL FROM:<x@y>\r\n",
	};
	for (size_t i = 0; i < sizeof(tricks) / sizeof(tricks[0]); i++) {
		for (int norm = 0; norm < 2; norm++) {
			struct run r = run_all(tricks[i], norm, 0);
			ck_assert_msg(r.step == SMTP_DATA_MORE, "trick %zu", i);
			ck_assert_int_eq(r.verdict,
					 norm ? SMTP_DATA_OK : SMTP_DATA_BARE);
		}
	}
	/* normalised: every line end stored as CRLF */
	struct run r = run_all("a\nb\rc\r\n.\r\n", true, 0);
	ck_assert_int_eq(r.step, SMTP_DATA_DONE);
	ck_assert_str_eq(r.out, "a\r\nb\r\nc\r\n");
	/* refused: read to the real end, nothing stored after the verdict */
	r = run_all("a\nb\r\n.\r\n", false, 0);
	ck_assert_int_eq(r.step, SMTP_DATA_DONE);
	ck_assert_int_eq(r.verdict, SMTP_DATA_BARE);
}
END_TEST

START_TEST(limits)
{
	char big[3000];
	memset(big, 'x', sizeof(big));
	memcpy(big + 998, "\r\n", 2); /* exactly 1000 with CRLF */
	memcpy(big + 1000, "y", 1);
	memcpy(big + 2001, "\r\n.\r\n", 6); /* a 1003-octet line, then end */
	struct run r = run_data(big, strlen(big), 7, false, 0);
	ck_assert_int_eq(r.step, SMTP_DATA_DONE);
	ck_assert_int_eq(r.verdict, SMTP_DATA_LINE_TOO_LONG);
	ck_assert_uint_eq(strlen(r.out), 1000);
	/* RFC 5321 4.5.3.1.6: the transparency dot is not counted */
	char dotted[1010];
	dotted[0] = '.';
	memset(dotted + 1, 'y', 998);
	memcpy(dotted + 999, "\r\n.\r\n", 6);
	r = run_data(dotted, strlen(dotted), 13, false, 0);
	ck_assert_int_eq(r.step, SMTP_DATA_DONE);
	ck_assert_int_eq(r.verdict, SMTP_DATA_OK);
	ck_assert_uint_eq(strlen(r.out), 1000);
	dotted[0] = 'y'; /* the same 1001 octets without the dot: too long */
	r = run_data(dotted, strlen(dotted), 13, false, 0);
	ck_assert_int_eq(r.verdict, SMTP_DATA_LINE_TOO_LONG);
	r = run_all("12345678\r\n12345678\r\n.\r\n", false, 15);
	ck_assert_int_eq(r.verdict, SMTP_DATA_TOO_BIG);
	ck_assert_int_eq(r.step, SMTP_DATA_DONE);
	r = run_all("12345678\r\n.\r\n", false, 10);
	ck_assert_int_eq(r.verdict, SMTP_DATA_OK);
}
END_TEST

static Suite *data_suite(void)
{
	Suite *s = suite_create("smtp_data");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, end_and_transparency);
	tcase_add_test(tc, bare_lf_cr_never_end);
	tcase_add_test(tc, limits);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(data_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
