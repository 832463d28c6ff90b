/*
 * buf.h - one bounded, growable byte buffer, and CRLF line extraction.
 *
 * Every buffer has a maximum fixed when it is made: appending past it is an
 * error, never silent truncation or unbounded growth. Bytes are consumed
 * from the front (a read offset), so line-by-line parsing does not copy.
 *
 * The line reader follows RFC 5321 section 2.3.8 / RFC 1939 / RFC 3501:
 * lines end in CRLF. What a bare LF or a bare CR means is the caller's
 * policy, and a line longer than the caller's maximum is dropped as it
 * arrives (never buffered whole) and reported once its end is seen, so the
 * reply stays in order with pipelined commands.
 */
#ifndef QUILL_BUF_H
#define QUILL_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct buf {
	unsigned char *data;
	size_t off; /* first unread byte */
	size_t len; /* end of stored bytes; unread = len - off */
	size_t cap;
	size_t max; /* most unread bytes ever held */
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);

/* Append; -1 with errno E2BIG past the maximum or ENOMEM. Nothing is
 * appended on failure. */
int buf_append(struct buf *b, const void *data, size_t len);
int buf_append_str(struct buf *b, const char *s);
/* Append as much of data as the maximum leaves room for; *taken_r says
 * how much (0 when full). -1 with errno ENOMEM, nothing appended. For
 * feeding parsers that consume what they hold before the next piece. */
int buf_append_some(struct buf *b, const void *data, size_t len,
		    size_t *taken_r);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static inline const unsigned char *buf_data(const struct buf *b)
{
	/* never NULL, even before the first append */
	return b->data != NULL ? b->data + b->off : (const unsigned char *)"";
}
static inline size_t buf_len(const struct buf *b)
{
	return b->len - b->off;
}
void buf_consume(struct buf *b, size_t n);
void buf_clear(struct buf *b);

/* Line policy flags. */
#define BUF_LINE_BARE_LF_ENDS 0x1u /* a bare LF ends a line (else error) */
#define BUF_LINE_BARE_CR_OK   0x2u /* a bare CR in a line is data (else error) */

struct buf_line_reader {
	size_t max;	 /* longest line accepted, terminator included */
	unsigned flags;	 /* BUF_LINE_* */
	bool discarding; /* inside an over-long line, dropping to its end */
	bool last_crlf;	 /* the last line returned ended in CRLF (not a
			  * bare LF accepted by BUF_LINE_BARE_LF_ENDS) */
};

enum buf_line_result {
	BUF_LINE_OK,	   /* a line; it is consumed from the buffer */
	BUF_LINE_MORE,	   /* no complete line yet */
	BUF_LINE_TOO_LONG, /* a line longer than max ended; it was dropped */
	BUF_LINE_BARE_LF,  /* a line ended in a bare LF; it was dropped */
	BUF_LINE_BARE_CR,  /* a line held a bare CR; it was dropped */
};

void buf_line_reader_init(struct buf_line_reader *r, size_t max,
			  unsigned flags);

/*
 * Take the next line from b. On BUF_LINE_OK, *line_r points at the line
 * without its terminator (not NUL-terminated; it may hold NUL bytes) and
 * stays valid until b is next appended to or freed.
 */
enum buf_line_result buf_line_next(struct buf_line_reader *r, struct buf *b,
				   const char **line_r, size_t *len_r);

#endif
