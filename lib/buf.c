/*
 * buf.c - bounded byte buffer and CRLF line extraction (see buf.h).
 */
#include "buf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b, b->max);
}

/* Make room for n more bytes at the end, within the maximum. */
static int buf_reserve(struct buf *b, size_t n)
{
	size_t unread = b->len - b->off;
	if (n > b->max || unread > b->max - n) {
		errno = E2BIG;
		return -1;
	}
	if (b->cap - b->len >= n)
		return 0;
	if (b->off > 0) { /* reclaim consumed space first */
		memmove(b->data, b->data + b->off, unread);
		b->len = unread;
		b->off = 0;
		if (b->cap - b->len >= n)
			return 0;
	}
	size_t want = b->cap > 0 ? b->cap : 256;
	while (want - b->len < n)
		want = want > SIZE_MAX / 2 ? SIZE_MAX : want * 2;
	if (want > b->max && b->max >= b->len + n)
		want = b->max;
	unsigned char *p = realloc(b->data, want);
	if (p == NULL) {
		errno = ENOMEM;
		return -1;
	}
	b->data = p;
	b->cap = want;
	return 0;
}

int buf_append(struct buf *b, const void *data, size_t len)
{
	if (len == 0)
		return 0;
	if (buf_reserve(b, len) != 0)
		return -1;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

int buf_append_some(struct buf *b, const void *data, size_t len,
		    size_t *taken_r)
{
	size_t room = b->max - buf_len(b);
	size_t n = len < room ? len : room;
	*taken_r = 0;
	if (buf_append(b, data, n) != 0)
		return -1;
	*taken_r = n;
	return 0;
}

int buf_append_str(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return -1;
	/* one more for vsnprintf's NUL, which is not kept */
	if (buf_reserve(b, (size_t)n + 1) != 0)
		return -1;
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void buf_consume(struct buf *b, size_t n)
{
	size_t unread = b->len - b->off;
	b->off += n < unread ? n : unread;
	if (b->off == b->len)
		b->off = b->len = 0;
}

void buf_clear(struct buf *b)
{
	b->off = b->len = 0;
}

void buf_line_reader_init(struct buf_line_reader *r, size_t max, unsigned flags)
{
	r->max = max;
	r->flags = flags;
	r->discarding = false;
	r->last_crlf = true;
}

/* The line [p, p+n) ended by an LF at p[n]: classify and consume it. */
static enum buf_line_result line_finish(struct buf_line_reader *r,
					struct buf *b, const char *p, size_t n,
					const char **line_r, size_t *len_r)
{
	bool crlf = n > 0 && p[n - 1] == '\r';
	size_t content = crlf ? n - 1 : n;
	bool was_discarding = r->discarding;

	r->discarding = false;
	r->last_crlf = crlf;
	buf_consume(b, n + 1);
	if (was_discarding || n + 1 > r->max)
		return BUF_LINE_TOO_LONG;
	if (!crlf && !(r->flags & BUF_LINE_BARE_LF_ENDS))
		return BUF_LINE_BARE_LF;
	if (!(r->flags & BUF_LINE_BARE_CR_OK) &&
	    memchr(p, '\r', content) != NULL)
		return BUF_LINE_BARE_CR;
	*line_r = p;
	*len_r = content;
	return BUF_LINE_OK;
}

enum buf_line_result buf_line_next(struct buf_line_reader *r, struct buf *b,
				   const char **line_r, size_t *len_r)
{
	const char *p = (const char *)buf_data(b);
	size_t avail = buf_len(b);
	const char *lf = avail > 0 ? memchr(p, '\n', avail) : NULL;

	if (lf != NULL)
		return line_finish(r, b, p, (size_t)(lf - p), line_r, len_r);
	/* No end yet. Once the line cannot fit any more, drop what we
	 * have: it will be reported as too long when its LF arrives. A final
	 * CR is kept, so that whether the line ends in CRLF is still known. */
	if (r->discarding || avail + 1 > r->max) {
		r->discarding = true;
		size_t drop = avail;
		if (drop > 0 && p[drop - 1] == '\r')
			drop--;
		buf_consume(b, drop);
	}
	return BUF_LINE_MORE;
}
