/*
 * fuzz_dsn.c - the delivery status notification path on arbitrary bytes:
 * the spool's "rcpt-dsn" value parser (queue_file.h), the xtext field
 * decoder (dsn_xtext_field, RFC 3461 4) and the notice builder (dsn.h).
 *
 * Input: a flags byte (RET, the recipient's action, whether the content
 * is whole / 8bit / binary), then the rcpt-dsn value up to the first LF,
 * the ENVID up to the next LF, the rest being the returned message.
 *
 * Checks: a parsed ORCPT holds a ';'; a field value is printable ASCII
 * and fits its buffer; the notice builds, ends with its closing
 * boundary, holds the delivery-status fields only as graphic ASCII lines
 * ending in CRLF (RFC 3464 2.1), and the boundary delimiter occurs
 * exactly four times (three parts and the close, RFC 2046 5.1.1); the
 * header length never passes the content.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue/dsn.h"
#include "queue/queue_file.h"

#define CHECK(cond)              \
	do {                     \
		if (!(cond))     \
			abort(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *split(const uint8_t **p, const uint8_t *end,
			    size_t *len_r)
{
	const uint8_t *s = *p;
	const uint8_t *nl = memchr(s, '\n', (size_t)(end - s));
	*len_r = (size_t)((nl != NULL ? nl : end) - s);
	*p = nl != NULL ? nl + 1 : end;
	return s;
}

static size_t count(const char *s, size_t n, const char *what)
{
	size_t k = 0, w = strlen(what);
	for (const char *p = s;
	     (p = memmem(p, n - (size_t)(p - s), what, w)) != NULL; p += w)
		k++;
	return k;
}

static void check_status_part(const char *s, size_t n, const char *delim)
{
	static const char mark[] = "Content-Type: message/delivery-status"
				   "\r\n\r\n";
	const char *b = memmem(s, n, mark, strlen(mark));
	CHECK(b != NULL);
	b += strlen(mark);
	const char *e = memmem(b, n - (size_t)(b - s), delim, strlen(delim));
	CHECK(e != NULL);
	for (const char *p = b; p < e; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '\r')
			CHECK(p + 1 < e + 2 && p[1] == '\n');
		else if (c == '\n')
			CHECK(p > b && p[-1] == '\r');
		else
			CHECK(c >= 0x20 && c <= 0x7e);
	}
}

static void build(const struct dsn_report *r)
{
	struct buf out;
	char delim[400];
	buf_init(&out, r->content_len + (1u << 16));
	CHECK(dsn_build(r, &out) == 0);
	const char *s = (const char *)buf_data(&out);
	size_t n = buf_len(&out);
	const char *q = memmem(s, n, "boundary=\"", 10);
	CHECK(q != NULL);
	q += 10;
	const char *qe = memchr(q, '"', n - (size_t)(q - s));
	CHECK(qe != NULL && (size_t)(qe - q) < sizeof(delim) - 8);
	memcpy(delim, "\r\n--", 4);
	memcpy(delim + 4, q, (size_t)(qe - q));
	delim[4 + (qe - q)] = '\0';
	CHECK(count(s, n, delim) == 4);
	size_t dl = strlen(delim);
	CHECK(n >= dl + 4 && memcmp(s + n - dl - 4, delim, dl) == 0 &&
	      memcmp(s + n - 4, "--\r\n", 4) == 0);
	check_status_part(s, n, delim);
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned flags = data[0];
	const uint8_t *p = data + 1, *end = data + size;
	size_t vlen, elen;
	const uint8_t *v = split(&p, end, &vlen);
	const uint8_t *ev = split(&p, end, &elen);
	unsigned notify = 0;
	char *orcpt = NULL;
	if (queue_rcpt_dsn_parse((const char *)v, vlen, &notify, &orcpt) == 0) {
		CHECK(notify <= 0xf);
		CHECK(orcpt == NULL || strchr(orcpt, ';') != NULL);
	}
	char *envid = malloc(elen + 1);
	CHECK(envid != NULL);
	memcpy(envid, ev, elen);
	envid[elen] = '\0';
	char field[256];
	dsn_xtext_field(envid, field, sizeof(field));
	CHECK(strlen(field) < sizeof(field));
	for (const char *f = field; *f; f++)
		CHECK(*f >= 0x20 && *f <= 0x7e);

	static const char ret[] = {0, 'F', 'H', 0};
	struct dsn_rcpt rc = {.addr = "rcpt@example.test",
			      .orcpt = orcpt,
			      .action = (enum dsn_action)((flags >> 2) % 3),
			      .status = "5.1.1",
			      .code = (flags & 0x80) ? 550 : 0,
			      .text = envid,
			      .last_attempt = 1800000000,
			      .retry_until = 1800086400};
	struct dsn_report r = {.hostname = "mx.example.test",
			       .id = "ABCN1",
			       .orig_id = "ABC",
			       .sender = "s@example.test",
			       .envid = (flags & 0x40) ? envid : NULL,
			       .ret = ret[flags & 3],
			       .arrived = 1800000000,
			       .now = 1800000100,
			       .rcpt = &rc,
			       .n_rcpt = 1,
			       .content = (const char *)p,
			       .content_len = (size_t)(end - p),
			       .content_whole = (flags & 0x10) == 0,
			       .content_binary = (flags & 0x20) != 0,
			       .content_8bit = (flags & 0x08) != 0};
	CHECK(dsn_header_len(r.content, r.content_len, r.content_whole) <=
	      r.content_len);
	build(&r);
	free(envid);
	free(orcpt);
	return 0;
}
