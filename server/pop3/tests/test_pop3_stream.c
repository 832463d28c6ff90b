/*
 * test_pop3_stream.c - messages as POP3 sends them (pop3_stream.h: RFC
 * 1939 sections 3, 7 and 11) and the session's listing (pop3_listing.h:
 * sections 4, 5 and 7). The size counted without output must equal the
 * bytes sent minus the stuffing, whatever the chunking; un-stuffed, what
 * is sent is the message with CRLF line ends.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "pop3/pop3_listing.h"
#include "pop3/pop3_stream.h"

/* Send data in chunks of step bytes; the wire bytes as a string. */
static char *sent(const char *data, size_t len, uint64_t lines, size_t step,
		  uint64_t *count_r)
{
	struct pop3_stream ps;
	struct buf out;
	buf_init(&out, 1 << 20);
	pop3_stream_init(&ps, lines);
	for (size_t off = 0; off < len && !ps.done; off += step) {
		size_t n = len - off < step ? len - off : step;
		size_t took = pop3_stream_write(&ps, data + off, n, &out);
		ck_assert(!ps.failed);
		ck_assert(took == n || ps.done);
	}
	ck_assert_int_eq(pop3_stream_end(&ps, &out), 0);
	char *r = malloc(buf_len(&out) + 1);
	memcpy(r, buf_data(&out), buf_len(&out));
	r[buf_len(&out)] = '\0';
	buf_free(&out);
	*count_r = ps.count;
	return r;
}

#define ck_sent(in, lines, want)                                               \
	do {                                                                   \
		uint64_t c_;                                                   \
		for (size_t st_ = 1; st_ <= sizeof(in); st_++) {               \
			char *got_ =                                           \
				sent((in), sizeof(in) - 1, (lines), st_, &c_); \
			ck_assert_str_eq(got_, (want));                        \
			free(got_);                                            \
		}                                                              \
	} while (0)

START_TEST(crlf_and_stuffing)
{
	ck_sent("a\nb\r\n", POP3_STREAM_ALL, "a\r\nb\r\n");
	ck_sent(".x\n..y\n.\n", POP3_STREAM_ALL, "..x\r\n...y\r\n..\r\n");
	ck_sent("no end", POP3_STREAM_ALL, "no end\r\n");
	ck_sent("cr end\r", POP3_STREAM_ALL, "cr end\r\n");
	ck_sent("bare\rcr\n", POP3_STREAM_ALL, "bare\rcr\r\n");
	ck_sent("a.\n\r.b\n", POP3_STREAM_ALL, "a.\r\n\r.b\r\n");
	ck_sent("", POP3_STREAM_ALL, "");
}
END_TEST

START_TEST(sizes)
{
	ck_assert_uint_eq(pop3_stream_size("", 0), 0);
	ck_assert_uint_eq(pop3_stream_size("a\nb\r\n", 5), 6);
	/* RFC 1939 11: stuffing is not counted */
	ck_assert_uint_eq(pop3_stream_size(".\n", 2), 3);
	ck_assert_uint_eq(pop3_stream_size("x", 1), 3);
	ck_assert_uint_eq(pop3_stream_size("x\r", 2), 3);
}
END_TEST

START_TEST(top_lines)
{
	static const char m[] = "H: 1\nH: 2\n\nb1\n.b2\nb3";
	ck_sent(m, 0, "H: 1\r\nH: 2\r\n\r\n");
	ck_sent(m, 1, "H: 1\r\nH: 2\r\n\r\nb1\r\n");
	ck_sent(m, 2, "H: 1\r\nH: 2\r\n\r\nb1\r\n..b2\r\n");
	ck_sent(m, 3, "H: 1\r\nH: 2\r\n\r\nb1\r\n..b2\r\nb3\r\n");
	ck_sent(m, 50, "H: 1\r\nH: 2\r\n\r\nb1\r\n..b2\r\nb3\r\n");
	/* a CRLF blank line ends the header too; no blank line: all */
	ck_sent("H: 1\r\n\r\nb\r\n", 0, "H: 1\r\n\r\n");
	ck_sent("H: 1\nH: 2\n", 0, "H: 1\r\nH: 2\r\n");
	ck_sent("\nbody\n", 0, "\r\n");
	/* a line holding a bare CR is not the blank line */
	ck_sent("H: 1\n\r\r\nb\n\n", 0, "H: 1\r\n\r\r\nb\r\n\r\n");
}
END_TEST

/* Un-stuff wire bytes (RFC 1939 3) into out; returns its length. */
static size_t unstuff(const char *w, char *out)
{
	size_t o = 0;
	bool start = true;
	for (size_t i = 0; w[i] != '\0'; i++) {
		if (start && w[i] == '.') {
			start = false;
			continue;
		}
		out[o++] = w[i];
		start = w[i] == '\n';
	}
	return o;
}

/* Pseudo-random messages of ., CR, LF and letters: the count equals the
 * un-stuffed bytes sent, which are the message with LF made CRLF. */
START_TEST(random_consistency)
{
	static const char alphabet[] = ".\r\nab";
	unsigned seed = 12345;
	char msg[200], *unst = malloc(1000);
	for (int round = 0; round < 2000; round++) {
		size_t len = (size_t)(seed % 60);
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			msg[i] = alphabet[(seed >> 16) % 5];
		}
		uint64_t count;
		char *w =
			sent(msg, len, POP3_STREAM_ALL, 1 + round % 7, &count);
		size_t n = unstuff(w, unst);
		ck_assert_uint_eq(count, n);
		ck_assert_uint_eq(count, pop3_stream_size(msg, len));
		/* every LF of the wire is preceded by CR */
		for (size_t i = 0; w[i] != '\0'; i++)
			if (w[i] == '\n')
				ck_assert(i > 0 && w[i - 1] == '\r');
		if (n > 0) {
			ck_assert_int_eq(unst[n - 1], '\n');
		}
		free(w);
		seed = seed * 1103515245u + 12345u;
	}
	free(unst);
}
END_TEST

START_TEST(output_full)
{
	struct pop3_stream ps;
	struct buf out;
	buf_init(&out, 4);
	pop3_stream_init(&ps, POP3_STREAM_ALL);
	ck_assert_uint_lt(pop3_stream_write(&ps, "abc\ndef\n", 8, &out), 8);
	ck_assert(ps.failed);
	buf_free(&out);
}
END_TEST

START_TEST(listing)
{
	struct pop3_listing *l = pop3_listing_new(0x6553F100u, 3);
	uint32_t n;
	uint64_t size;
	char uid[POP3_UIDL_MAX + 1];
	l->msgs[0] = (struct pop3_msg){.uid = 1, .size = 10};
	l->msgs[1] = (struct pop3_msg){.uid = 7, .size = 20};
	l->msgs[2] = (struct pop3_msg){.uid = 0xffffffffu, .size = 30};
	pop3_listing_stat(l, &n, &size);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(size, 60);
	l->msgs[1].deleted = true;
	pop3_listing_stat(l, &n, &size);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(size, 40);
	ck_assert_uint_eq(pop3_listing_deleted(l), 1);
	pop3_listing_reset(l);
	ck_assert_uint_eq(pop3_listing_deleted(l), 0);
	pop3_uidl(l->uidvalidity, l->msgs[2].uid, uid, sizeof(uid));
	ck_assert_str_eq(uid, "FFFFFFFF6553F100");
	pop3_listing_free(&l);
	ck_assert_ptr_null(l);
	l = pop3_listing_new(1, 0);
	pop3_listing_stat(l, &n, &size);
	ck_assert_uint_eq(n, 0);
	pop3_listing_free(&l);
}
END_TEST

START_TEST(numbers)
{
	uint64_t v;
	ck_assert_int_eq(pop3_parse_number("42", 2, &v), 0);
	ck_assert_uint_eq(v, 42);
	ck_assert_int_eq(pop3_parse_number("007", 3, &v), 0);
	ck_assert_uint_eq(v, 7);
	ck_assert_int_eq(pop3_parse_number("18446744073709551617", 20, &v), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
	ck_assert_int_eq(pop3_parse_number("", 0, &v), -1);
	ck_assert_int_eq(pop3_parse_number("-1", 2, &v), -1);
	ck_assert_int_eq(pop3_parse_number("+1", 2, &v), -1);
	ck_assert_int_eq(pop3_parse_number("1 ", 2, &v), -1);
}
END_TEST

static Suite *pop3_stream_suite(void)
{
	Suite *su = suite_create("pop3_stream");
	TCase *tc = tcase_create("stream");
	tcase_add_test(tc, crlf_and_stuffing);
	tcase_add_test(tc, sizes);
	tcase_add_test(tc, top_lines);
	tcase_add_test(tc, random_consistency);
	tcase_add_test(tc, output_full);
	tcase_add_test(tc, listing);
	tcase_add_test(tc, numbers);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	SRunner *sr = srunner_create(pop3_stream_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
