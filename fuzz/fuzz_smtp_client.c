/*
 * fuzz_smtp_client.c - the SMTP client's reply reader (lib/smtp_client.c)
 * fed what a hostile server might send.
 *
 * The first byte picks the piece size (1..32) and whether the limits are
 * small. The input is read twice: whole, then in pieces taking replies as
 * they come; both must give the same replies and the same error. A third
 * read with a tiny held_max checks only that the bound holds cleanly.
 *
 * Every reply must be what RFC 5321 4.2 allows: 200 <= code <= 599 (1yz is
 * malformed, as is a second digit above 5), at least one line and at most
 * lines_max, no CR, LF or control character in a line, each line within
 * line_max, an enhanced code only in the RFC 3463 form at the start of the
 * first line. smtp_ehlo_has() is tried on every reply, and the input
 * itself goes through smtp_dot_stuff() and back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "smtp_client.h"

struct digest {
	uint64_t h;	 /* over every reply, in order */
	size_t replies;	 /* how many */
	char error[160]; /* "" if the stream did not break */
};

static void mix(struct digest *d, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		d->h = (d->h ^ b[i]) * 1099511628211ull;
}

static void check_enhanced(const struct smtp_reply *r)
{
	const char *e = r->enhanced;
	size_t n = strlen(e), dots = 0, run = 0;

	if (n == 0)
		return;
	if (n > 9 || (e[0] != '2' && e[0] != '4' && e[0] != '5') ||
	    strncmp(r->lines[0], e, n) != 0 || r->lines[0][n] != ' ')
		abort();
	for (size_t i = 1; i < n; i++) {
		if (e[i] == '.') {
			if (i > 1 && (run < 1 || run > 3))
				abort();
			dots++;
			run = 0;
		} else if (e[i] >= '0' && e[i] <= '9') {
			run++;
		} else {
			abort();
		}
	}
	if (dots != 2 || e[1] != '.' || run < 1 || run > 3)
		abort();
}

static void check_reply(const struct smtp_reply *r,
			const struct smtp_client_limits *lim)
{
	if (r->code < 200 || r->code > 599 || (r->code / 10) % 10 > 5)
		abort();
	if (r->n_lines < 1 || r->n_lines > lim->lines_max)
		abort();
	for (size_t i = 0; i < r->n_lines; i++) {
		const unsigned char *l = (const unsigned char *)r->lines[i];
		size_t n = strlen(r->lines[i]);
		if (n + 6 > lim->line_max) /* code, separator, CRLF */
			abort();
		for (size_t k = 0; k < n; k++)
			if ((l[k] < 0x20 && l[k] != '\t') || l[k] == 0x7f)
				abort();
	}
	check_enhanced(r);
}

/* smtp_ehlo_has() finds a keyword exactly when a later line is it. */
static void check_ehlo(const struct smtp_reply *r)
{
	static const char *const kw[] = {"SIZE", "auth", "PIPELINING", "x"};
	const char *params = NULL;

	for (size_t k = 0; k < sizeof(kw) / sizeof(kw[0]); k++) {
		int has = smtp_ehlo_has(r, kw[k], &params);
		if (has != 0 && (r->code != 250 || r->n_lines < 2 ||
				 params == NULL || strchr(params, '\r')))
			abort();
	}
	if (r->n_lines >= 2 && r->code == 250 &&
	    strchr(r->lines[1], ' ') == NULL && r->lines[1][0] != '\0' &&
	    smtp_ehlo_has(r, r->lines[1], &params) != 1)
		abort();
}

/* Un-stuff what smtp_dot_stuff() made: it must give msg back, with a CRLF
 * added if msg did not end in one (RFC 5321 4.5.2). */
static void check_dot_stuff(const uint8_t *msg, size_t len)
{
	struct buf out, back;

	buf_init(&out, 2 * len + 8);
	buf_init(&back, 2 * len + 8);
	if (smtp_dot_stuff(msg, len, &out) != 0) {
		if (memchr(msg, '\r', len) == NULL &&
		    memchr(msg, '\n', len) == NULL)
			abort(); /* only bare CR / LF are refused */
		goto done;
	}
	const unsigned char *p = buf_data(&out);
	size_t n = buf_len(&out), start = 0;
	if (n < 3 || memcmp(p + n - 3, ".\r\n", 3) != 0)
		abort();
	while (start < n - 3) {
		const unsigned char *lf = memchr(p + start, '\n', n - start);
		size_t end = (size_t)(lf - p) + 1;
		if (p[start] == '.') {
			if (p[start + 1] != '.')
				abort(); /* a line the server would end at */
			start++;
		}
		buf_append(&back, p + start, end - start);
		start = end;
	}
	size_t want = len + (len > 0 && msg[len - 1] != '\n' ? 2 : 0);
	if (buf_len(&back) != want ||
	    (len > 0 && memcmp(buf_data(&back), msg, len) != 0))
		abort();
done:
	buf_free(&out);
	buf_free(&back);
}

static void drain(struct smtp_client *c, const struct smtp_client_limits *lim,
		  struct digest *d)
{
	struct smtp_reply *r;

	while (smtp_client_next_reply(c, &r) == 1) {
		check_reply(r, lim);
		check_ehlo(r);
		mix(d, &r->code, sizeof(r->code));
		mix(d, r->enhanced, sizeof(r->enhanced));
		for (size_t i = 0; i < r->n_lines; i++)
			mix(d, r->lines[i], strlen(r->lines[i]) + 1);
		d->replies++;
		smtp_reply_free(&r);
	}
}

static void read_all(const uint8_t *data, size_t size, size_t piece,
		     const struct smtp_client_limits *lim, struct digest *d)
{
	struct smtp_client *c = smtp_client_new(lim);
	int rc = 0;

	memset(d, 0, sizeof(*d));
	if (c == NULL)
		abort();
	for (size_t off = 0; off < size && rc == 0; off += piece) {
		size_t n = size - off < piece ? size - off : piece;
		rc = smtp_client_feed(c, data + off, n);
		drain(c, lim, d);
	}
	if ((rc != 0) != (smtp_client_error(c)[0] != '\0'))
		abort();
	if (rc != 0 && smtp_client_partial(c))
		abort();
	memcpy(d->error, smtp_client_error(c), sizeof(d->error));
	smtp_client_free(&c);
	if (c != NULL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_client_limits lim = {
		.line_max = SMTP_CLIENT_LINE_MAX_DEFAULT,
		.lines_max = SMTP_CLIENT_LINES_MAX_DEFAULT,
		/* never the limit here: the two reads must agree */
		.held_max = 128 * size + 4096,
	};
	struct digest whole, pieces;

	if (size < 1)
		return 0;
	size_t piece = 1 + (data[0] & 0x1f);
	if (data[0] & 0x20) {
		lim.line_max = 16;
		lim.lines_max = 4;
	}
	data++;
	size--;
	read_all(data, size, size + 1, &lim, &whole);
	read_all(data, size, piece, &lim, &pieces);
	if (whole.h != pieces.h || whole.replies != pieces.replies ||
	    strcmp(whole.error, pieces.error) != 0)
		abort();
	lim.held_max = 300;
	read_all(data, size, size + 1, &lim, &whole);
	check_dot_stuff(data, size);
	return 0;
}
