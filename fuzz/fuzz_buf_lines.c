/*
 * fuzz_buf_lines.c - the CRLF line reader (lib/buf.c) must find the same
 * lines and errors whatever size the pieces are that the input arrives in,
 * and must never hold more than its bound. The first byte picks the policy
 * flags, the line maximum and the piece size.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

#define MAX_EVENTS 4096

struct event {
	enum buf_line_result r;
	size_t len;
	uint32_t sum;
};

static uint32_t checksum(const char *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h;
}

static size_t read_lines(const uint8_t *data, size_t size, unsigned flags,
			 size_t max, size_t piece, struct event *ev)
{
	struct buf b;
	struct buf_line_reader r;
	size_t n = 0;
	buf_init(&b, max * 2 + piece);
	buf_line_reader_init(&r, max, flags);
	for (size_t off = 0; off < size; off += piece) {
		size_t len = size - off < piece ? size - off : piece;
		if (buf_append(&b, data + off, len) != 0)
			abort(); /* the bound must always leave room */
		for (;;) {
			const char *line = NULL;
			size_t ll = 0;
			enum buf_line_result res =
				buf_line_next(&r, &b, &line, &ll);
			if (res == BUF_LINE_MORE)
				break;
			if (n < MAX_EVENTS) {
				ev[n].r = res;
				ev[n].len = res == BUF_LINE_OK ? ll : 0;
				ev[n].sum = res == BUF_LINE_OK
						    ? checksum(line, ll)
						    : 0;
			}
			n++;
			if (res == BUF_LINE_OK && ll + 1 > max)
				abort();
		}
		if (buf_len(&b) > max)
			abort(); /* a partial line never exceeds the maximum */
	}
	buf_free(&b);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct event a[MAX_EVENTS], b[MAX_EVENTS];
	if (size < 2)
		return 0;
	unsigned flags = data[0] & 3;
	size_t max = 4 + (data[0] >> 2); /* 4..67 */
	size_t piece = 1 + data[1] % 17;
	data += 2;
	size -= 2;
	size_t na = read_lines(data, size, flags, max, size + 1, a);
	size_t nb = read_lines(data, size, flags, max, piece, b);
	if (na != nb)
		abort();
	size_t n = na < MAX_EVENTS ? na : MAX_EVENTS;
	for (size_t i = 0; i < n; i++)
		if (a[i].r != b[i].r || a[i].len != b[i].len ||
		    a[i].sum != b[i].sum)
			abort();
	return 0;
}
