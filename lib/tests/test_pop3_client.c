/*
 * test_pop3_client.c - unit tests for lib/pop3_client (RFC 1939 sections
 * 3, 5, 7; RFC 2449 response codes; RFC 5034 continuations).
 *
 * Every vector names the expectations queued before its bytes arrive and
 * is read whole, one byte at a time, and split in two at every position:
 * the responses and the error must be the same each time. Then the
 * limits, the expectation queue, body lines and the listing parsers.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "pop3_client.h"

struct vector {
	const char *expect; /* S single, M multi, A SASL */
	const char *in;
	size_t len;
	const char *want; /* the transcript, see transcript() */
};

#define V(e, s, w)                     \
	{                              \
		e, s, sizeof(s) - 1, w \
	}

static const struct vector vectors[] = {
	V("S", "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n",
	  "+OK [] POP3 server ready <1896.697170952@dbc.mtview.ca.us>\n"),
	V("S", "+OK\r\n", "+OK [] \n"),
	V("S", "-ERR\r\n", "-ERR [] \n"),
	V("S", "+OK  two\r\n", "+OK []  two\n"),
	V("S", "-ERR [IN-USE] Mailbox locked by another session\r\n",
	  "-ERR [IN-USE] [IN-USE] Mailbox locked by another session\n"),
	V("S", "-ERR [SYS/TEMP] try later\r\n",
	  "-ERR [SYS/TEMP] [SYS/TEMP] try later\n"),
	V("S", "-ERR [AUTH]\r\n", "-ERR [AUTH] [AUTH]\n"),
	V("S", "+OK [X-Y.Z]ok\r\n", "+OK [X-Y.Z] [X-Y.Z]ok\n"),
	V("S", "-ERR [] x\r\n", "-ERR [] [] x\n"),
	V("S", "-ERR [A//B] x\r\n", "-ERR [] [A//B] x\n"),
	V("S", "-ERR [A/] x\r\n", "-ERR [] [A/] x\n"),
	V("S", "-ERR [A B] x\r\n", "-ERR [] [A B] x\n"),
	V("S", "-ERR [unterminated\r\n", "-ERR [] [unterminated\n"),
	V("S", "-ERR x [IN-USE]\r\n", "-ERR [] x [IN-USE]\n"),
	V("M", "+OK 2 messages (320 octets)\r\n1 120\r\n2 200\r\n.\r\n",
	  "+OK [] 2 messages (320 octets) {1 120\\r\\n2 200\\r\\n} 2\n"),
	V("M", "+OK\r\n..\r\n.x\r\n...\r\n\r\n.\r\n",
	  "+OK []  {.\\r\\nx\\r\\n..\\r\\n\\r\\n} 4\n"),
	V("M", "+OK\r\n.\r\n", "+OK []  {} 0\n"),
	V("M", "+OK\r\na\0b\r\n.\r\n", "+OK []  {a\\0b\\r\\n} 1\n"),
	V("M", "+OK\r\n \r\n.\r\n", "+OK []  { \\r\\n} 1\n"),
	V("M", "-ERR no such message\r\n", "-ERR [] no such message\n"),
	V("SMS", "+OK a\r\n+OK b\r\nx\r\n.\r\n-ERR c\r\n",
	  "+OK [] a\n+OK [] b {x\\r\\n} 1\n-ERR [] c\n"),
	V("MM", "+OK\r\n.\r\n+OK\r\n..\r\n.\r\n",
	  "+OK []  {} 0\n+OK []  {.\\r\\n} 1\n"),
	V("A", "+ \r\n", "+ [] \n"),
	V("A", "+ dGVzdA==\r\n", "+ [] dGVzdA==\n"),
	V("A", "+ [X]\r\n", "+ [] [X]\n"),
	V("AA", "+ \r\n+OK Logged in.\r\n", "+ [] \n+OK [] Logged in.\n"),
	V("A", "-ERR [AUTH] Authentication failed.\r\n",
	  "-ERR [AUTH] [AUTH] Authentication failed.\n"),
	/* errors, with the responses complete before them */
	V("S", "HELLO\r\n",
	  "ERR response 1: expected +OK or -ERR, got 'HELLO'\n"),
	V("S", "+ abc\r\n",
	  "ERR response 1: expected +OK or -ERR, got '+ abc'\n"),
	V("S", "+OKAY\r\n",
	  "ERR response 1: expected +OK or -ERR, got '+OKAY'\n"),
	V("S", "+ok\r\n", "ERR response 1: expected +OK or -ERR, got '+ok'\n"),
	V("S", "-ERROR\r\n",
	  "ERR response 1: expected +OK or -ERR, got '-ERROR'\n"),
	V("S", "\r\n", "ERR response 1: expected +OK or -ERR, got ''\n"),
	V("A", "+\r\n",
	  "ERR response 1: expected +OK, -ERR or \"+ \", got '+'\n"),
	V("S", "\xff\xfe long garbage line\r\n",
	  "ERR response 1: expected +OK or -ERR, got '\\xff\\xfe long "
	  "garb...'\n"),
	V("", "+OK\r\n",
	  "ERR unsolicited data from the server (first byte '+')\n"),
	V("S", "+OK a\r\n+OK b\r\n",
	  "+OK [] a\nERR unsolicited data from the server (first byte '+')\n"),
	V("M", "+OK\r\n.\r\n\r\n",
	  "+OK []  {} 0\nERR unsolicited data from the server (first byte "
	  "'\\x0d')\n"),
	V("S", "+OK a\n",
	  "ERR response 1: bare LF in status line (lines end in CRLF)\n"),
	V("S", "+OK a\rb\r\n", "ERR response 1: bare CR in status line\n"),
	V("S", "+OK a\0b\r\n",
	  "ERR response 1: NUL byte 0x00 in status line\n"),
	V("S", "+OK \x1b[0m\r\n",
	  "ERR response 1: control character 0x1b in status line\n"),
	V("M", "+OK\r\nabc\ndef\r\n.\r\n",
	  "ERR response 1: body line 1: bare LF\n"),
	V("M", "+OK\r\na\r\n.\n", "ERR response 1: body line 2: bare LF\n"),
	V("M", "+OK\r\nab\rc\r\n.\r\n",
	  "ERR response 1: body line 1: bare CR\n"),
	V("M", "+OK\r\n.\rx", "ERR response 1: body line 1: bare CR\n"),
	V("SM", "+OK\r\n+OK\r\n\n",
	  "+OK [] \nERR response 2: body line 1: "
	  "bare LF\n"),
};

#define N_VECTORS (sizeof(vectors) / sizeof(vectors[0]))

static void escape(struct buf *t, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\r')
			buf_append_str(t, "\\r");
		else if (p[i] == '\n')
			buf_append_str(t, "\\n");
		else if (p[i] == '\0')
			buf_append_str(t, "\\0");
		else
			buf_append(t, p + i, 1);
	}
}

static void drain(struct pop3_client *c, struct buf *t, int *rc_r)
{
	static const char *const ind[] = {"+OK", "-ERR", "+"};
	struct pop3_response *r;
	int rc;

	while ((rc = pop3_client_next(c, &r)) == 1) {
		buf_printf(t, "%s [%s] %s", ind[r->status], r->code, r->text);
		ck_assert_int_eq(r->multiline, r->body != NULL);
		if (r->multiline) {
			ck_assert_uint_eq(r->body[r->body_len], '\0');
			buf_append_str(t, " {");
			escape(t, r->body, r->body_len);
			buf_printf(t, "} %zu", r->body_lines);
		}
		buf_append_str(t, "\n");
		pop3_response_free(&r);
		ck_assert_ptr_null(r);
	}
	ck_assert_ptr_null(r);
	*rc_r = rc;
}

static void expect_all(struct pop3_client *c, const char *e)
{
	for (; *e != '\0'; e++)
		ck_assert_int_eq(
			pop3_client_expect(c, *e == 'S'	  ? POP3_EXPECT_SINGLE
					      : *e == 'M' ? POP3_EXPECT_MULTI
							  : POP3_EXPECT_SASL),
			0);
}

/* Feed in pieces (first, then chunk at a time), taking responses as they
 * come; the responses, one per line, then "ERR why" if the stream broke
 * and "PARTIAL" if an unfinished response is left. The caller frees. */
static char *transcript(const struct vector *v,
			const struct pop3_client_limits *lim, size_t first,
			size_t chunk)
{
	struct pop3_client *c = pop3_client_new(lim);
	struct buf t;
	size_t off = 0, n = first;
	int rc = 0;

	ck_assert_ptr_nonnull(c);
	expect_all(c, v->expect);
	buf_init(&t, 1 << 20);
	do {
		if (n > v->len - off)
			n = v->len - off;
		int frc = pop3_client_feed(c, v->in + off, n);
		off += n;
		n = chunk;
		drain(c, &t, &rc);
		ck_assert_int_eq(frc == -1, rc == -1);
	} while (rc == 0 && off < v->len);
	if (rc == -1) {
		ck_assert_str_ne(pop3_client_error(c), "");
		ck_assert_int_eq(pop3_client_feed(c, "+OK\r\n", 5), -1);
		ck_assert_int_eq(pop3_client_expect(c, POP3_EXPECT_SINGLE), -1);
		buf_printf(&t, "ERR %s\n", pop3_client_error(c));
	} else {
		ck_assert_str_eq(pop3_client_error(c), "");
	}
	if (pop3_client_partial(c))
		buf_append_str(&t, "PARTIAL\n");
	buf_append(&t, "", 1);
	pop3_client_free(&c);
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
	static const struct vector v[] = {
		V("M", "+OK\r\nabc", "PARTIAL\n"),
		V("M", "+OK\r\n.", "PARTIAL\n"),
		V("S", "+OK", "PARTIAL\n"),
		V("SS", "+OK\r\n", "+OK [] \n"),
	};
	struct pop3_client *c = pop3_client_new(NULL);

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char *t = transcript(&v[i], NULL, v[i].len, v[i].len);
		ck_assert_str_eq(t, v[i].want);
		free(t);
	}
	ck_assert(!pop3_client_partial(c));
	ck_assert_uint_eq(pop3_client_expected(c), 0);
	expect_all(c, "MS");
	ck_assert_uint_eq(pop3_client_expected(c), 2);
	ck_assert_int_eq(pop3_client_feed(c, "+OK\r\nx", 6), 0);
	ck_assert_uint_eq(pop3_client_expected(c), 2);
	ck_assert_int_eq(pop3_client_feed(c, "\r\n.\r\n", 5), 0);
	ck_assert_uint_eq(pop3_client_expected(c), 1);
	pop3_client_free(&c);
	pop3_client_free(&c);
}
END_TEST

START_TEST(test_limits)
{
	static const struct vector ok = V("M", "+OK\r\n0123456789\r\n.\r\n",
					  "+OK []  {0123456789\\r\\n} 1\n");
	static const struct vector body =
		V("M", "+OK\r\n0123456789\r\n.\r\n",
		  "ERR response 1: body longer than 11 octets\n");
	static const struct vector line =
		V("S", "+OK 01234567890\r\n",
		  "ERR response 1: status line longer than 16 octets with "
		  "CRLF\n");
	static const struct vector line_ok =
		V("S", "+OK 0123456789\r\n", "+OK [] 0123456789\n");
	struct pop3_client_limits lim12 = {.body_max = 12};
	struct pop3_client_limits lim11 = {.body_max = 11};
	struct pop3_client_limits lim16 = {.line_max = 16};
	char *t;

	t = transcript(&ok, &lim12, 1, 1);
	ck_assert_str_eq(t, ok.want);
	free(t);
	t = transcript(&body, &lim11, ok.len, ok.len);
	ck_assert_str_eq(t, body.want);
	free(t);
	t = transcript(&body, &lim11, 1, 1);
	ck_assert_str_eq(t, body.want);
	free(t);
	t = transcript(&line, &lim16, 1, 1);
	ck_assert_str_eq(t, line.want);
	free(t);
	t = transcript(&line_ok, &lim16, line_ok.len, 1);
	ck_assert_str_eq(t, line_ok.want);
	free(t);
}
END_TEST

START_TEST(test_big_body_bounded)
{
	/* a body that never ends stops at body_max, input held stays small */
	struct pop3_client_limits lim = {.body_max = 1 << 20};
	struct pop3_client *c = pop3_client_new(&lim);
	struct pop3_response *r;
	char chunk[4096];
	int rc = 0, i;

	memset(chunk, 'x', sizeof(chunk));
	chunk[sizeof(chunk) - 2] = '\r';
	chunk[sizeof(chunk) - 1] = '\n';
	expect_all(c, "M");
	ck_assert_int_eq(pop3_client_feed(c, "+OK\r\n", 5), 0);
	for (i = 0; i < 1000 && rc == 0; i++)
		rc = pop3_client_feed(c, chunk, sizeof(chunk));
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(i, 257);
	ck_assert_str_eq(pop3_client_error(c),
			 "response 1: body longer than 1048576 octets");
	ck_assert_int_eq(pop3_client_next(c, &r), -1);
	pop3_client_free(&c);
}
END_TEST

START_TEST(test_held_max)
{
	struct pop3_client_limits lim = {.held_max = 300};
	struct pop3_client *c = pop3_client_new(&lim);
	struct pop3_response *r;
	int rc = 0, n = 0;

	for (int i = 0; i < 60 && rc == 0; i++) {
		ck_assert_int_eq(pop3_client_expect(c, POP3_EXPECT_SINGLE), 0);
		rc = pop3_client_feed(c, "+OK fine\r\n", 10);
	}
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(pop3_client_error(c),
			 "more than 300 bytes of responses held");
	while (pop3_client_next(c, &r) == 1) {
		n++;
		pop3_response_free(&r);
	}
	ck_assert_int_gt(n, 0);
	ck_assert_int_lt(n, 60);
	pop3_client_free(&c);

	c = pop3_client_new(&lim);
	for (int i = 0; i < 1000; i++) {
		ck_assert_int_eq(pop3_client_expect(c, POP3_EXPECT_MULTI), 0);
		ck_assert_int_eq(pop3_client_feed(c, "+OK\r\nab\r\n.\r\n", 12),
				 0);
		ck_assert_int_eq(pop3_client_next(c, &r), 1);
		pop3_response_free(&r);
	}
	pop3_client_free(&c);
}
END_TEST

START_TEST(test_expect_queue)
{
	struct pop3_client *c = pop3_client_new(NULL);
	struct pop3_response *r;

	for (int i = 0; i < POP3_CLIENT_EXPECT_MAX; i++)
		ck_assert_int_eq(pop3_client_expect(c, POP3_EXPECT_SINGLE), 0);
	ck_assert_int_eq(pop3_client_expect(c, POP3_EXPECT_SINGLE), -1);
	ck_assert_int_eq(pop3_client_feed(c, "+OK\r\n", 5), 0);
	ck_assert_int_eq(pop3_client_expect(c, POP3_EXPECT_MULTI), 0);
	ck_assert_int_eq(pop3_client_expect(c, (enum pop3_expect)7), -1);
	for (int i = 0; i < POP3_CLIENT_EXPECT_MAX - 1; i++)
		ck_assert_int_eq(pop3_client_feed(c, "-ERR\r\n", 6), 0);
	ck_assert_int_eq(pop3_client_feed(c, "+OK\r\nz\r\n.\r\n", 11), 0);
	ck_assert_int_eq(pop3_client_next(c, &r), 1);
	ck_assert_int_eq(r->status, POP3_OK);
	pop3_response_free(&r);
	for (int i = 0; i < POP3_CLIENT_EXPECT_MAX - 1; i++) {
		ck_assert_int_eq(pop3_client_next(c, &r), 1);
		ck_assert_int_eq(r->status, POP3_ERR);
		pop3_response_free(&r);
	}
	ck_assert_int_eq(pop3_client_next(c, &r), 1);
	ck_assert(r->multiline);
	ck_assert_uint_eq(r->body_len, 3);
	pop3_response_free(&r);
	ck_assert_int_eq(pop3_client_next(c, &r), 0);
	pop3_client_free(&c);
}
END_TEST

START_TEST(test_body_lines)
{
	static const char in[] = "+OK 3 messages\r\n1 120\r\n2 200\r\n"
				 "..3 5\r\n.\r\n";
	struct pop3_client *c = pop3_client_new(NULL);
	struct pop3_response *r;
	unsigned long msg = 0;
	unsigned long long size = 0;
	static const char in2[] = "+OK\r\na\0\r\n\r\n.\r\n+OK\r\n";
	char line[8];
	size_t pos = 0;

	expect_all(c, "M");
	ck_assert_int_eq(pop3_client_feed(c, in, sizeof(in) - 1), 0);
	ck_assert_int_eq(pop3_client_next(c, &r), 1);
	ck_assert_int_eq(pop3_body_line(r, &pos, line, sizeof(line)), 1);
	ck_assert_int_eq(pop3_parse_scan_listing(line, &msg, &size), 0);
	ck_assert_uint_eq(msg, 1);
	ck_assert_uint_eq(size, 120);
	ck_assert_int_eq(pop3_body_line(r, &pos, line, sizeof(line)), 1);
	ck_assert_str_eq(line, "2 200");
	ck_assert_int_eq(pop3_body_line(r, &pos, line, 4), -1); /* ".3 5" */
	ck_assert_int_eq(pop3_body_line(r, &pos, line, sizeof(line)), 0);
	ck_assert_uint_eq(pos, r->body_len);
	pop3_response_free(&r);

	expect_all(c, "MS");
	ck_assert_int_eq(pop3_client_feed(c, in2, sizeof(in2) - 1), 0);
	ck_assert_int_eq(pop3_client_next(c, &r), 1);
	pos = 0;
	ck_assert_int_eq(pop3_body_line(r, &pos, line, sizeof(line)), -1);
	ck_assert_int_eq(pop3_body_line(r, &pos, line, sizeof(line)), 1);
	ck_assert_str_eq(line, "");
	ck_assert_int_eq(pop3_body_line(r, &pos, line, sizeof(line)), 0);
	pop3_response_free(&r);
	ck_assert_int_eq(pop3_client_next(c, &r), 1);
	pos = 0;
	ck_assert_int_eq(pop3_body_line(r, &pos, line, sizeof(line)), 0);
	pop3_response_free(&r);
	pop3_client_free(&c);
}
END_TEST

START_TEST(test_scan_listing)
{
	static const char *const bad[] = {
		"",
		"1",
		"1 ",
		" 1 120",
		"1  120",
		"1 120x",
		"0 120",
		"a 1",
		"1 -5",
		"+1 120",
		"1\t120",
		"1 +5",
		"1 120\t",
		"1 0x10",
		"1 120\r",
		"1 120\r\n",
		"18446744073709551616 1",
		"1 18446744073709551616",
		"99999999999999999999999 1",
	};
	unsigned long msg = 77;
	unsigned long long size = 77;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(pop3_parse_scan_listing(bad[i], &msg, &size) ==
				      -1,
			      "'%s' accepted", bad[i]);
		ck_assert_uint_eq(msg, 77);
	}
	ck_assert_int_eq(pop3_parse_scan_listing("1 120", &msg, &size), 0);
	ck_assert_uint_eq(msg, 1);
	ck_assert_uint_eq(size, 120);
	ck_assert_int_eq(pop3_parse_scan_listing("2 0", &msg, &size), 0);
	ck_assert_uint_eq(size, 0);
	/* RFC 1939 5: nothing is required of what follows the size */
	ck_assert_int_eq(pop3_parse_scan_listing("3 200 extra", &msg, &size),
			 0);
	ck_assert_uint_eq(msg, 3);
	ck_assert_uint_eq(size, 200);
	ck_assert_int_eq(
		pop3_parse_scan_listing("4 18446744073709551615", &msg, &size),
		0);
	ck_assert(size == 18446744073709551615ull);
	ck_assert_int_eq(pop3_parse_drop_listing("0 0", &msg, &size), 0);
	ck_assert_uint_eq(msg, 0);
	ck_assert_int_eq(pop3_parse_drop_listing("2 320", &msg, &size), 0);
	ck_assert_uint_eq(msg, 2);
	ck_assert_uint_eq(size, 320);
	ck_assert_int_eq(pop3_parse_drop_listing("2", &msg, &size), -1);
	ck_assert_int_eq(pop3_parse_drop_listing("2 x", &msg, &size), -1);
}
END_TEST

START_TEST(test_uidl_listing)
{
	char seventy[80], uid[80];
	unsigned long msg = 77;

	ck_assert_int_eq(pop3_parse_uidl_listing("1 whqtswO00WBw418f9t5JxYwZ",
						 &msg, uid, sizeof(uid)),
			 0);
	ck_assert_uint_eq(msg, 1);
	ck_assert_str_eq(uid, "whqtswO00WBw418f9t5JxYwZ");
	ck_assert_int_eq(pop3_parse_uidl_listing("2 !~", &msg, uid, 3), 0);
	ck_assert_str_eq(uid, "!~");
	ck_assert_int_eq(pop3_parse_uidl_listing("2 !~", &msg, uid, 2), -1);
	memset(seventy, 'u', sizeof(seventy));
	memcpy(seventy, "3 ", 2);
	seventy[72] = '\0'; /* 70 octets of id */
	ck_assert_int_eq(pop3_parse_uidl_listing(seventy, &msg, uid, 71), 0);
	ck_assert_uint_eq(strlen(uid), 70);
	seventy[72] = 'u';
	seventy[73] = '\0'; /* 71 */
	msg = 77;
	ck_assert_int_eq(
		pop3_parse_uidl_listing(seventy, &msg, uid, sizeof(uid)), -1);
	static const char *const bad[] = {
		"",	"1",	   "1 ",	 "1  x", "1 a b",
		"0 x",	"1 x\x7f", "1 x\x80",	 "x 1",	 "1 x\r\n",
		" 1 x", "1\tx",	   "1 \xc3\xa9",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(pop3_parse_uidl_listing(bad[i], &msg, uid,
						      sizeof(uid)) == -1,
			      "'%s' accepted", bad[i]);
	ck_assert_uint_eq(msg, 77);
}
END_TEST

START_TEST(test_queue_order)
{
	/* responses come out in order while some are taken and more arrive */
	struct pop3_client *c = pop3_client_new(NULL);
	struct pop3_response *r;
	char line[32];
	int next = 0, sent = 0;

	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < 7; i++, sent++) {
			int n = snprintf(line, sizeof(line),
					 "+OK %d\r\n%d\r\n.\r\n", sent, sent);
			expect_all(c, "M");
			ck_assert_int_eq(pop3_client_feed(c, line, (size_t)n),
					 0);
		}
		for (int i = 0; i < 5; i++, next++) {
			ck_assert_int_eq(pop3_client_next(c, &r), 1);
			snprintf(line, sizeof(line), "%d", next);
			ck_assert_str_eq(r->text, line);
			ck_assert_uint_eq(r->body_lines, 1);
			pop3_response_free(&r);
		}
	}
	while (pop3_client_next(c, &r) == 1) {
		snprintf(line, sizeof(line), "%d", next++);
		ck_assert_str_eq(r->text, line);
		pop3_response_free(&r);
	}
	ck_assert_int_eq(next, sent);
	pop3_client_free(&c);
}
END_TEST

static Suite *pop3_client_suite(void)
{
	Suite *s = suite_create("pop3_client");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, test_vectors, 0, N_VECTORS);
	tcase_add_test(tc, test_partial);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_big_body_bounded);
	tcase_add_test(tc, test_held_max);
	tcase_add_test(tc, test_queue_order);
	tcase_add_test(tc, test_expect_queue);
	tcase_add_test(tc, test_body_lines);
	tcase_add_test(tc, test_scan_listing);
	tcase_add_test(tc, test_uidl_listing);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pop3_client_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
