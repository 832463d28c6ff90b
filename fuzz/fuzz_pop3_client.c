/*
 * fuzz_pop3_client.c - the POP3 client's response reader
 * (lib/pop3_client.c) fed what a hostile server might send.
 *
 * The first byte picks the expectations (two bits each, repeating: single,
 * multi-line, SASL, multi-line), 64 of them queued before any input; the
 * second the piece size (1..32) and whether the limits are small. The
 * input is read whole, then in pieces taking responses as they come: both
 * must agree.
 *
 * Every response must match its expectation (a continuation only for
 * SASL, a body exactly after +OK to a multi-line expectation), its text
 * holds no control characters and fits line_max, and its body is within
 * body_max, made of CRLF-ended lines only, counted right, and survives a
 * round trip: stuffed again (RFC 1939 section 3) and read back, it is the
 * same body. (A body line may well be "." after un-stuffing: the server
 * sent "..".) Body lines also go through the listing parsers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "pop3_client.h"

struct digest {
	uint64_t h;
	size_t responses;
	char error[160];
};

static void mix(struct digest *d, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		d->h = (d->h ^ b[i]) * 1099511628211ull;
}

static enum pop3_expect expectation(uint8_t pattern, size_t i)
{
	static const enum pop3_expect e[] = {
		POP3_EXPECT_SINGLE, POP3_EXPECT_MULTI, POP3_EXPECT_SASL,
		POP3_EXPECT_MULTI};
	return e[(pattern >> (2 * (i % 4))) & 3];
}

/* Stuff the body again, read it back, compare. */
static void check_roundtrip(const struct pop3_response *r)
{
	struct pop3_client *c = pop3_client_new(NULL);
	struct pop3_response *back;
	struct buf w;

	buf_init(&w, 2 * r->body_len + 16);
	buf_append_str(&w, "+OK\r\n");
	for (size_t i = 0; i < r->body_len; i++) {
		if ((i == 0 || r->body[i - 1] == '\n') && r->body[i] == '.')
			buf_append(&w, ".", 1);
		buf_append(&w, r->body + i, 1);
	}
	buf_append_str(&w, ".\r\n");
	if (c == NULL || pop3_client_expect(c, POP3_EXPECT_MULTI) != 0 ||
	    pop3_client_feed(c, buf_data(&w), buf_len(&w)) != 0 ||
	    pop3_client_next(c, &back) != 1)
		abort();
	if (back->body_len != r->body_len ||
	    back->body_lines != r->body_lines ||
	    memcmp(back->body, r->body, r->body_len) != 0)
		abort();
	pop3_response_free(&back);
	pop3_client_free(&c);
	buf_free(&w);
}

static void check_body(const struct pop3_response *r,
		       const struct pop3_client_limits *lim)
{
	size_t lines = 0, pos = 0;
	char line[128], uid[71];
	unsigned long m;
	unsigned long long s;

	if (r->body == NULL || r->body_len > lim->body_max ||
	    r->body[r->body_len] != '\0')
		abort();
	for (size_t i = 0; i < r->body_len; i++) {
		if (r->body[i] == '\r' &&
		    (i + 1 == r->body_len || r->body[i + 1] != '\n'))
			abort();
		if (r->body[i] == '\n' && (i == 0 || r->body[i - 1] != '\r'))
			abort();
		lines += r->body[i] == '\n';
	}
	if (lines != r->body_lines ||
	    (r->body_len > 0 && r->body[r->body_len - 1] != '\n'))
		abort();
	int rc;
	while ((rc = pop3_body_line(r, &pos, line, sizeof(line))) != 0) {
		if (rc == 1 &&
		    pop3_parse_uidl_listing(line, &m, uid, sizeof(uid)) == 0) {
			size_t n = strlen(uid);
			if (m < 1 || n < 1 || n > 70)
				abort();
		}
		if (rc == 1 && pop3_parse_scan_listing(line, &m, &s) == 0 &&
		    m < 1)
			abort();
	}
	if (pos != r->body_len)
		abort();
	check_roundtrip(r);
}

static void check_response(const struct pop3_response *r, enum pop3_expect e,
			   const struct pop3_client_limits *lim)
{
	size_t n = strlen(r->text);

	if (n + 4 > lim->line_max) /* "+ " or more, CRLF */
		abort();
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)r->text[i];
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			abort();
	}
	if (r->status == POP3_CONT && (e != POP3_EXPECT_SASL || r->code[0]))
		abort();
	if (r->code[0] != '\0' &&
	    (r->text[0] != '[' ||
	     strncmp(r->text + 1, r->code, strlen(r->code)) != 0))
		abort();
	if (r->multiline != (e == POP3_EXPECT_MULTI && r->status == POP3_OK))
		abort();
	if (r->multiline)
		check_body(r, lim);
	else if (r->body != NULL || r->body_len != 0)
		abort();
	unsigned long count;
	unsigned long long size;
	if (pop3_parse_drop_listing(r->text, &count, &size) == 0 &&
	    (r->text[0] < '0' || r->text[0] > '9'))
		abort();
}

static void read_all(const uint8_t *data, size_t size, size_t piece,
		     uint8_t pattern, const struct pop3_client_limits *lim,
		     struct digest *d)
{
	struct pop3_client *c = pop3_client_new(lim);
	struct pop3_response *r;
	int rc = 0;

	memset(d, 0, sizeof(*d));
	if (c == NULL)
		abort();
	for (size_t i = 0; i < POP3_CLIENT_EXPECT_MAX; i++)
		if (pop3_client_expect(c, expectation(pattern, i)) != 0)
			abort();
	if (pop3_client_expect(c, POP3_EXPECT_SINGLE) != -1)
		abort();
	for (size_t off = 0; off < size && rc == 0; off += piece) {
		size_t n = size - off < piece ? size - off : piece;
		rc = pop3_client_feed(c, data + off, n);
		while (pop3_client_next(c, &r) == 1) {
			check_response(r, expectation(pattern, d->responses),
				       lim);
			mix(d, &r->status, sizeof(r->status));
			mix(d, r->text, strlen(r->text) + 1);
			mix(d, r->code, sizeof(r->code));
			if (r->multiline)
				mix(d, r->body, r->body_len);
			d->responses++;
			pop3_response_free(&r);
		}
	}
	if ((rc != 0) != (pop3_client_error(c)[0] != '\0'))
		abort();
	if (rc == 0 &&
	    pop3_client_expected(c) + d->responses != POP3_CLIENT_EXPECT_MAX)
		abort();
	if (rc != 0 && pop3_client_partial(c))
		abort();
	memcpy(d->error, pop3_client_error(c), sizeof(d->error));
	pop3_client_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pop3_client_limits lim = {
		.line_max = POP3_CLIENT_LINE_MAX_DEFAULT,
		.body_max = POP3_CLIENT_BODY_MAX_DEFAULT,
		.held_max = 0, /* the default: never reached here */
	};
	struct digest whole, pieces;

	if (size < 2)
		return 0;
	uint8_t pattern = data[0];
	size_t piece = 1 + (data[1] & 0x1f);
	if (data[1] & 0x20) {
		lim.line_max = 32;
		lim.body_max = 64;
		lim.held_max = 64 * 1024;
	}
	data += 2;
	size -= 2;
	read_all(data, size, size + 1, pattern, &lim, &whole);
	read_all(data, size, piece, pattern, &lim, &pieces);
	if (whole.h != pieces.h || whole.responses != pieces.responses ||
	    strcmp(whole.error, pieces.error) != 0)
		abort();
	return 0;
}
