/*
 * test_buf.c - the bounded buffer and the CRLF line reader.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"

START_TEST(append_within_bound)
{
	struct buf b;
	buf_init(&b, 10);
	ck_assert_int_eq(buf_append(&b, "hello", 5), 0);
	ck_assert_int_eq(buf_append(&b, "world", 5), 0);
	errno = 0;
	ck_assert_int_eq(buf_append(&b, "!", 1), -1);
	ck_assert_int_eq(errno, E2BIG);
	ck_assert_uint_eq(buf_len(&b), 10);
	buf_consume(&b, 5);
	ck_assert_int_eq(buf_append(&b, "12345", 5), 0);
	ck_assert_int_eq(memcmp(buf_data(&b), "world12345", 10), 0);
	ck_assert_int_eq(buf_printf(&b, "%d", 1), -1);
	buf_clear(&b);
	ck_assert_int_eq(buf_printf(&b, "%s-%d", "ab", 42), 0);
	ck_assert_int_eq(memcmp(buf_data(&b), "ab-42", 5), 0);
	ck_assert_uint_eq(buf_len(&b), 5);
	buf_free(&b);
	ck_assert_ptr_null(b.data);
}
END_TEST

static enum buf_line_result next(struct buf_line_reader *r, struct buf *b,
				 const char *expect)
{
	const char *line;
	size_t len;
	enum buf_line_result res = buf_line_next(r, b, &line, &len);
	if (expect != NULL) {
		ck_assert_int_eq(res, BUF_LINE_OK);
		ck_assert_uint_eq(len, strlen(expect));
		ck_assert_int_eq(memcmp(line, expect, len), 0);
	}
	return res;
}

START_TEST(lines_crlf)
{
	struct buf b;
	struct buf_line_reader r;
	buf_init(&b, 1024);
	buf_line_reader_init(&r, 100, 0);
	buf_append_str(&b, "one\r\ntwo\r\nthr");
	next(&r, &b, "one");
	next(&r, &b, "two");
	ck_assert_int_eq(next(&r, &b, NULL), BUF_LINE_MORE);
	buf_append_str(&b, "ee\r");
	ck_assert_int_eq(next(&r, &b, NULL), BUF_LINE_MORE);
	buf_append_str(&b, "\n\r\n");
	next(&r, &b, "three");
	next(&r, &b, "");
	ck_assert_int_eq(next(&r, &b, NULL), BUF_LINE_MORE);
	ck_assert_uint_eq(buf_len(&b), 0);
	buf_free(&b);
}
END_TEST

START_TEST(lines_bare_lf_and_cr)
{
	struct buf b;
	struct buf_line_reader r;
	buf_init(&b, 1024);
	buf_line_reader_init(&r, 100, 0);
	buf_append_str(&b, "a\nb\r\nc\rd\r\n");
	ck_assert_int_eq(next(&r, &b, NULL), BUF_LINE_BARE_LF);
	next(&r, &b, "b");
	ck_assert_int_eq(next(&r, &b, NULL), BUF_LINE_BARE_CR);
	buf_line_reader_init(&r, 100,
			     BUF_LINE_BARE_LF_ENDS | BUF_LINE_BARE_CR_OK);
	buf_append_str(&b, "a\nc\rd\r\n");
	next(&r, &b, "a");
	next(&r, &b, "c\rd");
	buf_free(&b);
}
END_TEST

START_TEST(lines_too_long)
{
	struct buf b;
	struct buf_line_reader r;
	char big[300];
	buf_init(&b, 1024);
	buf_line_reader_init(&r, 10, 0);
	/* 10 octets with CRLF fit; 11 do not */
	buf_append_str(&b, "12345678\r\n123456789\r\nok\r\n");
	next(&r, &b, "12345678");
	ck_assert_int_eq(next(&r, &b, NULL), BUF_LINE_TOO_LONG);
	next(&r, &b, "ok");
	/* a long line arriving in pieces is dropped as it comes */
	memset(big, 'x', sizeof(big));
	for (int i = 0; i < 100; i++) {
		ck_assert_int_eq(buf_append(&b, big, sizeof(big)), 0);
		ck_assert_int_eq(next(&r, &b, NULL), BUF_LINE_MORE);
		ck_assert_uint_lt(buf_len(&b), 10);
	}
	buf_append_str(&b, "\r\nafter\r\n");
	ck_assert_int_eq(next(&r, &b, NULL), BUF_LINE_TOO_LONG);
	next(&r, &b, "after");
	buf_free(&b);
}
END_TEST

START_TEST(log_line_format)
{
	char out[128];
	size_t n = log_format(out, sizeof(out), LOGL_WARN, "s1",
			      "smtp.ehlo name=a\r\nb\x01\xff", 1700000000123LL);
	ck_assert_str_eq(out, "2023-11-14T22:13:20.123Z warn s1 smtp.ehlo "
			      "name=a\\x0d\\x0ab\\x01\\xff");
	ck_assert_uint_eq(n, strlen(out));
	log_format(out, 40, LOGL_INFO, NULL, "a long message that is cut", 0);
	ck_assert_uint_eq(strlen(out), 39);
	enum log_level lvl;
	ck_assert_int_eq(log_level_parse("debug", &lvl), 0);
	ck_assert_int_eq(lvl, LOGL_DEBUG);
	ck_assert_int_eq(log_level_parse("verbose", &lvl), -1);
}
END_TEST

static Suite *buf_suite(void)
{
	Suite *s = suite_create("buf");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, append_within_bound);
	tcase_add_test(tc, lines_crlf);
	tcase_add_test(tc, lines_bare_lf_and_cr);
	tcase_add_test(tc, lines_too_long);
	tcase_add_test(tc, log_line_format);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(buf_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
