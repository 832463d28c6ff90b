/*
 * test_smtp_client.c - unit tests for lib/smtp_client (RFC 5321 4.2,
 * 4.2.1, 4.5.2; RFC 2034 / RFC 3463 enhanced codes).
 *
 * Every vector is read whole, one byte at a time, and split in two at
 * every position: the replies and the error must be the same each time.
 * Then the limits, dot-stuffing vectors and EHLO keyword look-ups.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_client.h"

struct vector {
	const char *in;
	size_t len;
	const char *want; /* the transcript, see transcript() */
};

#define V(s, w)                     \
	{                           \
		s, sizeof(s) - 1, w \
	}

static const struct vector vectors[] = {
	V("220 mx.example.test ESMTP Postfix (Debian/GNU)\r\n",
	  "220 [] |mx.example.test ESMTP Postfix (Debian/GNU)\n"),
	V("250-mx.example.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
	  "250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n",
	  "250 [] |mx.example.test |PIPELINING |SIZE 10240000 "
	  "|ENHANCEDSTATUSCODES |8BITMIME\n"),
	V("250 2.1.0 Ok\r\n", "250 [2.1.0] |2.1.0 Ok\n"),
	V("250 2.1.0\r\n", "250 [] |2.1.0\n"),
	V("250 2.0.0  two spaces\r\n", "250 [2.0.0] |2.0.0  two spaces\n"),
	V("550 5.7.1234 x\r\n", "550 [] |5.7.1234 x\n"),
	V("550 5.1.1 <nobody@example.test>: Recipient address rejected\r\n",
	  "550 [5.1.1] |5.1.1 <nobody@example.test>: Recipient address "
	  "rejected\n"),
	V("451 4.3.0 Error: queue file write error\r\n",
	  "451 [4.3.0] |4.3.0 Error: queue file write error\n"),
	V("354 End data with <CR><LF>.<CR><LF>\r\n",
	  "354 [] |End data with <CR><LF>.<CR><LF>\n"),
	V("250 3.1.0 x\r\n", "250 [] |3.1.0 x\n"),
	V("250 2.0 x\r\n", "250 [] |2.0 x\n"),
	V("250 2..0 x\r\n", "250 [] |2..0 x\n"),
	V("250 2.100.100 x\r\n", "250 [2.100.100] |2.100.100 x\n"),
	V("250\r\n", "250 [] |\n"),
	V("250-\r\n250 x\r\n", "250 [] | |x\n"),
	V("250 \r\n", "250 [] |\n"),
	V("221 2.0.0\tBye \xc3\xa9t\xc3\xa9\r\n",
	  "221 [] |2.0.0\tBye \xc3\xa9t\xc3\xa9\n"),
	V("250-2.0.0 first\r\n250 2.0.0 last\r\n",
	  "250 [2.0.0] |2.0.0 first |2.0.0 last\n"),
	V("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go\r\n",
	  "250 [2.1.0] |2.1.0 Ok\n250 [2.1.5] |2.1.5 Ok\n354 [] |go\n"),
	/* errors, with the replies complete before them */
	V("250-a\r\n251 b\r\n",
	  "ERR reply line 2: code 251 differs from 250 of the first line\n"),
	V("250 ok\r\nxyz\r\n",
	  "250 [] |ok\nERR reply line 1: malformed reply code 'xyz'\n"),
	V("abc def\r\n", "ERR reply line 1: malformed reply code 'abc'\n"),
	V("25\r\n", "ERR reply line 1: malformed reply code '25'\n"),
	V("\r\n", "ERR reply line 1: malformed reply code ''\n"),
	V("2\xff"
	  "0 x\r\n",
	  "ERR reply line 1: malformed reply code '2\\xff0'\n"),
	V("150 x\r\n", "ERR reply line 1: reply code 150 out of range (2yz "
		       "to 5yz, second digit 0 to 5)\n"),
	V("600 x\r\n", "ERR reply line 1: reply code 600 out of range (2yz "
		       "to 5yz, second digit 0 to 5)\n"),
	V("260 x\r\n", "ERR reply line 1: reply code 260 out of range (2yz "
		       "to 5yz, second digit 0 to 5)\n"),
	V("250x\r\n",
	  "ERR reply line 1: 'x' after reply code 250, not ' ' or '-'\n"),
	V("2500 x\r\n",
	  "ERR reply line 1: '0' after reply code 250, not ' ' or '-'\n"),
	V("250 ok\n", "ERR reply line 1: bare LF (lines end in CRLF)\n"),
	V("250-a\r\n250 ok\n",
	  "ERR reply line 2: bare LF (lines end in CRLF)\n"),
	V("250 o\rk\r\n", "ERR reply line 1: bare CR\n"),
	V("250 o\0k\r\n", "ERR reply line 1: NUL byte\n"),
	V("250 \x1b[31mred\r\n", "ERR reply line 1: control character 0x1b\n"),
	V("250 \x7f\r\n", "ERR reply line 1: control character 0x7f\n"),
};

#define N_VECTORS (sizeof(vectors) / sizeof(vectors[0]))

/* Take every complete reply into t, checking what every reply promises. */
static void drain(struct smtp_client *c, struct buf *t, int *rc_r)
{
	struct smtp_reply *r;
	int rc;

	while ((rc = smtp_client_next_reply(c, &r)) == 1) {
		ck_assert_int_ge(r->code, 200);
		ck_assert_int_le(r->code, 599);
		ck_assert_uint_ge(r->n_lines, 1);
		buf_printf(t, "%d [%s]", r->code, r->enhanced);
		for (size_t i = 0; i < r->n_lines; i++) {
			ck_assert_ptr_null(strpbrk(r->lines[i], "\r\n"));
			buf_printf(t, " |%s", r->lines[i]);
		}
		buf_append_str(t, "\n");
		smtp_reply_free(&r);
		ck_assert_ptr_null(r);
	}
	ck_assert_ptr_null(r);
	*rc_r = rc;
}

/* Feed in pieces (first, then chunk at a time), taking replies as they
 * come; the replies, one per line, then "ERR why" if the stream broke and
 * "PARTIAL" if an unfinished reply is left. The caller frees. */
static char *transcript(const struct vector *v,
			const struct smtp_client_limits *lim, size_t first,
			size_t chunk)
{
	struct smtp_client *c = smtp_client_new(lim);
	struct buf t;
	size_t off = 0, n = first;
	int rc = 0;

	ck_assert_ptr_nonnull(c);
	buf_init(&t, 1 << 20);
	do {
		if (n > v->len - off)
			n = v->len - off;
		int frc = smtp_client_feed(c, v->in + off, n);
		off += n;
		n = chunk;
		drain(c, &t, &rc);
		ck_assert_int_eq(frc == -1, rc == -1);
	} while (rc == 0 && off < v->len);
	if (rc == -1) {
		ck_assert_str_ne(smtp_client_error(c), "");
		ck_assert_int_eq(smtp_client_feed(c, "250 x\r\n", 7), -1);
		buf_printf(&t, "ERR %s\n", smtp_client_error(c));
	} else {
		ck_assert_str_eq(smtp_client_error(c), "");
	}
	if (smtp_client_partial(c))
		buf_append_str(&t, "PARTIAL\n");
	buf_append(&t, "", 1);
	smtp_client_free(&c);
	ck_assert_ptr_null(c);
	return (char *)t.data;
}

START_TEST(test_vectors)
{
	const struct vector *v = &vectors[_i];
	char *whole = transcript(v, NULL, v->len, v->len);
	ck_assert_str_eq(whole, v->want);
	char *bytes = transcript(v, NULL, 1, 1);
	ck_assert_str_eq(bytes, v->want);
	for (size_t k = 0; k <= v->len; k++) {
		char *split = transcript(v, NULL, k, v->len);
		ck_assert_str_eq(split, v->want);
		free(split);
	}
	free(whole);
	free(bytes);
}
END_TEST

START_TEST(test_partial)
{
	static const struct vector v1 = V("250-a\r\n25", "PARTIAL\n");
	static const struct vector v2 = V("250 ok", "PARTIAL\n");
	static const struct vector v3 = V("250 ok\r\n", "250 [] |ok\n");
	char *t;

	t = transcript(&v1, NULL, v1.len, v1.len);
	ck_assert_str_eq(t, v1.want);
	free(t);
	t = transcript(&v2, NULL, v2.len, v2.len);
	ck_assert_str_eq(t, v2.want);
	free(t);
	t = transcript(&v3, NULL, v3.len, v3.len);
	ck_assert_str_eq(t, v3.want);
	free(t);
}
END_TEST

START_TEST(test_line_max)
{
	/* 16 octets with CRLF fit, 17 do not */
	static const struct vector ok =
		V("250 0123456789\r\n", "250 [] |0123456789\n");
	static const struct vector big =
		V("250 01234567890\r\n250 ok\r\n",
		  "ERR reply line 1: longer than 16 octets with CRLF\n");
	struct smtp_client_limits lim = {.line_max = 16};
	char *t;

	t = transcript(&ok, &lim, ok.len, ok.len);
	ck_assert_str_eq(t, ok.want);
	free(t);
	t = transcript(&big, &lim, big.len, big.len);
	ck_assert_str_eq(t, big.want);
	free(t);
	t = transcript(&big, &lim, 1, 1);
	ck_assert_str_eq(t, big.want);
	free(t);
}
END_TEST

START_TEST(test_long_line_bounded)
{
	/* a hostile server never ending its line: dropped as it comes */
	struct smtp_client *c = smtp_client_new(NULL);
	struct smtp_reply *r;
	char junk[4096];

	memset(junk, 'x', sizeof(junk));
	ck_assert_int_eq(smtp_client_feed(c, "250 ", 4), 0);
	for (int i = 0; i < 2000; i++)
		ck_assert_int_eq(smtp_client_feed(c, junk, sizeof(junk)), 0);
	ck_assert(smtp_client_partial(c));
	ck_assert_int_eq(smtp_client_next_reply(c, &r), 0);
	ck_assert_int_eq(smtp_client_feed(c, "\r\n", 2), -1);
	ck_assert_str_eq(smtp_client_error(c),
			 "reply line 1: longer than 2048 octets with CRLF");
	ck_assert_int_eq(smtp_client_next_reply(c, &r), -1);
	ck_assert_ptr_null(r);
	smtp_client_free(&c);
	smtp_client_free(&c); /* a second free is harmless */
}
END_TEST

START_TEST(test_lines_max)
{
	static const struct vector ok =
		V("250-a\r\n250-b\r\n250 c\r\n", "250 [] |a |b |c\n");
	static const struct vector big =
		V("250-a\r\n250-b\r\n250-c\r\n250 d\r\n",
		  "ERR reply has more than 3 lines\n");
	struct smtp_client_limits lim = {.lines_max = 3};
	char *t;

	t = transcript(&ok, &lim, ok.len, ok.len);
	ck_assert_str_eq(t, ok.want);
	free(t);
	t = transcript(&big, &lim, 1, 1);
	ck_assert_str_eq(t, big.want);
	free(t);
}
END_TEST

START_TEST(test_held_max)
{
	/* replies not taken pile up only to held_max */
	struct smtp_client_limits lim = {.held_max = 400};
	struct smtp_client *c = smtp_client_new(&lim);
	struct smtp_reply *r;
	int rc = 0, n = 0;

	for (int i = 0; i < 100 && rc == 0; i++)
		rc = smtp_client_feed(c, "250 2.0.0 Ok\r\n", 14);
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(smtp_client_error(c),
			 "more than 400 bytes of replies held");
	while (smtp_client_next_reply(c, &r) == 1) {
		n++;
		smtp_reply_free(&r);
	}
	ck_assert_int_gt(n, 0);
	ck_assert_int_lt(n, 100);
	smtp_client_free(&c);

	/* taking replies as they come never reaches it */
	c = smtp_client_new(&lim);
	for (int i = 0; i < 1000; i++) {
		ck_assert_int_eq(smtp_client_feed(c, "250 2.0.0 Ok\r\n", 14),
				 0);
		ck_assert_int_eq(smtp_client_next_reply(c, &r), 1);
		smtp_reply_free(&r);
	}
	smtp_client_free(&c);
}
END_TEST

struct stuff_vector {
	const char *in;
	const char *want; /* NULL: -1 */
};

static const struct stuff_vector stuff_vectors[] = {
	{"", ".\r\n"},
	{"abc", "abc\r\n.\r\n"},
	{"abc\r\n", "abc\r\n.\r\n"},
	{"\r\n", "\r\n.\r\n"},
	{".", "..\r\n.\r\n"},
	{".\r\n", "..\r\n.\r\n"},
	{"..\r\n", "...\r\n.\r\n"},
	{".x\r\ny\r\n.\r\n", "..x\r\ny\r\n..\r\n.\r\n"},
	{"a\r\n.b", "a\r\n..b\r\n.\r\n"},
	{"a\r\n\r\n.\r\n\r\n", "a\r\n\r\n..\r\n\r\n.\r\n"},
	{"a.b\r\n x.\r\n", "a.b\r\n x.\r\n.\r\n"},
	{"a\nb", NULL},
	{"a\rb", NULL},
	{"a\r", NULL},
	{"\n", NULL},
	{"a\r\n\n", NULL},
	{"a\r\r\n", NULL},
};

#define N_STUFF (sizeof(stuff_vectors) / sizeof(stuff_vectors[0]))

START_TEST(test_dot_stuff)
{
	const struct stuff_vector *v = &stuff_vectors[_i];
	struct buf out;

	buf_init(&out, 1024);
	buf_append_str(&out, "XY");
	int rc = smtp_dot_stuff(v->in, strlen(v->in), &out);
	if (v->want == NULL) {
		ck_assert_int_eq(rc, -1);
		ck_assert_uint_eq(buf_len(&out), 2);
	} else {
		ck_assert_int_eq(rc, 0);
		ck_assert_uint_eq(buf_len(&out), strlen(v->want) + 2);
		ck_assert_mem_eq(buf_data(&out), "XY", 2);
		ck_assert_mem_eq(buf_data(&out) + 2, v->want, strlen(v->want));
	}
	buf_free(&out);
}
END_TEST

START_TEST(test_dot_stuff_full)
{
	struct buf out;

	/* the output buffer's bound is an error, and out is left as it was,
	 * even after appending moved its unread bytes to the front */
	buf_init(&out, 8);
	ck_assert_int_eq(buf_append_str(&out, "0123456"), 0);
	buf_consume(&out, 5);
	ck_assert_int_eq(smtp_dot_stuff("abc", 3, &out), -1);
	ck_assert_uint_eq(buf_len(&out), 2);
	ck_assert_mem_eq(buf_data(&out), "56", 2);
	buf_clear(&out);
	ck_assert_int_eq(smtp_dot_stuff("abc", 3, &out), 0);
	ck_assert_mem_eq(buf_data(&out), "abc\r\n.\r\n", 8);
	buf_free(&out);
	/* NUL bytes are data */
	buf_init(&out, 64);
	ck_assert_int_eq(smtp_dot_stuff(".\0\r\n", 4, &out), 0);
	ck_assert_uint_eq(buf_len(&out), 8);
	ck_assert_mem_eq(buf_data(&out), "..\0\r\n.\r\n", 8);
	buf_free(&out);
}
END_TEST

static struct smtp_reply *one_reply(const char *s)
{
	struct smtp_client *c = smtp_client_new(NULL);
	struct smtp_reply *r = NULL, *none;

	ck_assert_int_eq(smtp_client_feed(c, s, strlen(s)), 0);
	ck_assert_int_eq(smtp_client_next_reply(c, &r), 1);
	ck_assert_int_eq(smtp_client_next_reply(c, &none), 0);
	smtp_client_free(&c);
	return r;
}

START_TEST(test_ehlo_has)
{
	struct smtp_reply *r =
		one_reply("250-mx.example.test Hello client [192.0.2.1]\r\n"
			  "250-SIZE 10240000\r\n250-AUTH PLAIN LOGIN\r\n"
			  "250-auth=login\r\n250-STARTTLS\r\n250-DSN \r\n"
			  "250 SMTPUTF8\r\n");
	const char *p = "unset";

	ck_assert_int_eq(smtp_ehlo_has(r, "size", &p), 1);
	ck_assert_str_eq(p, "10240000");
	ck_assert_int_eq(smtp_ehlo_has(r, "AUTH", &p), 1);
	ck_assert_str_eq(p, "PLAIN LOGIN");
	ck_assert_int_eq(smtp_ehlo_has(r, "StartTLS", &p), 1);
	ck_assert_str_eq(p, "");
	ck_assert_int_eq(smtp_ehlo_has(r, "DSN", &p), 1);
	ck_assert_str_eq(p, "");
	ck_assert_int_eq(smtp_ehlo_has(r, "SMTPUTF8", NULL), 1);
	p = "unset";
	ck_assert_int_eq(smtp_ehlo_has(r, "PIPELINING", &p), 0);
	ck_assert_str_eq(p, "unset");
	ck_assert_int_eq(smtp_ehlo_has(r, "AUT", &p), 0);
	ck_assert_int_eq(smtp_ehlo_has(r, "SIZE 1", &p), 0);
	ck_assert_int_eq(smtp_ehlo_has(r, "mx.example.test", &p), 0);
	ck_assert_int_eq(smtp_ehlo_has(r, "", &p), 0);
	ck_assert_int_eq(smtp_ehlo_has(r, NULL, &p), 0);
	ck_assert_int_eq(smtp_ehlo_has(NULL, "SIZE", &p), 0);
	smtp_reply_free(&r);

	r = one_reply("550-5.7.1 no\r\n550 SIZE 1\r\n");
	ck_assert_int_eq(smtp_ehlo_has(r, "SIZE", &p), 0);
	smtp_reply_free(&r);
	smtp_reply_free(&r);
}
END_TEST

START_TEST(test_queue_order)
{
	/* replies come out in order while some are taken and more arrive */
	static const int codes[] = {250, 251, 221, 354, 450, 550, 421, 535};
	struct smtp_client *c = smtp_client_new(NULL);
	struct smtp_reply *r;
	char line[32];
	int next = 0, sent = 0;

	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < 7; i++, sent++) {
			int code = codes[sent % 8];
			int n = snprintf(line, sizeof(line), "%d-a\r\n%d b\r\n",
					 code, code);
			ck_assert_int_eq(smtp_client_feed(c, line, (size_t)n),
					 0);
		}
		for (int i = 0; i < 5; i++, next++) {
			ck_assert_int_eq(smtp_client_next_reply(c, &r), 1);
			ck_assert_int_eq(r->code, codes[next % 8]);
			ck_assert_uint_eq(r->n_lines, 2);
			smtp_reply_free(&r);
		}
	}
	while (smtp_client_next_reply(c, &r) == 1) {
		ck_assert_int_eq(r->code, codes[next % 8]);
		smtp_reply_free(&r);
		next++;
	}
	ck_assert_int_eq(next, sent);
	smtp_client_free(&c);
}
END_TEST

static Suite *smtp_client_suite(void)
{
	Suite *s = suite_create("smtp_client");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, test_vectors, 0, N_VECTORS);
	tcase_add_test(tc, test_partial);
	tcase_add_test(tc, test_line_max);
	tcase_add_test(tc, test_long_line_bounded);
	tcase_add_test(tc, test_lines_max);
	tcase_add_test(tc, test_held_max);
	tcase_add_test(tc, test_queue_order);
	tcase_add_loop_test(tc, test_dot_stuff, 0, N_STUFF);
	tcase_add_test(tc, test_dot_stuff_full);
	tcase_add_test(tc, test_ehlo_has);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(smtp_client_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
