/*
 * pop3_stream.c - a message as POP3 sends it (see pop3_stream.h).
 *
 * RFC 1939 sections 3, 7 and 11. The bytes between line ends are copied
 * in runs; only a line end, and a '.' that starts a line, are looked at.
 */
#include "pop3_stream.h"

#include <string.h>

void pop3_stream_init(struct pop3_stream *ps, uint64_t body_lines)
{
	memset(ps, 0, sizeof(*ps));
	ps->body_left = body_lines;
	ps->line_start = true;
}

static bool emit(struct pop3_stream *ps, struct buf *out, const void *p,
		 size_t n, bool counted)
{
	if (out != NULL && buf_append(out, p, n) != 0) {
		ps->failed = true;
		return false;
	}
	if (counted)
		ps->count += n;
	return true;
}

/* A line ended (its LF is out): header/body bookkeeping for TOP. */
static void line_ended(struct pop3_stream *ps, bool blank)
{
	if (!ps->in_body) {
		if (!blank)
			return;
		ps->in_body = true; /* the separator line (RFC 1939 7, TOP) */
		if (ps->body_left == 0)
			ps->done = true;
		return;
	}
	if (ps->body_left != POP3_STREAM_ALL && --ps->body_left == 0)
		ps->done = true;
}

/* The LF of a line: CRLF on the wire whatever the store holds (11). */
static bool end_line(struct pop3_stream *ps, struct buf *out)
{
	bool blank = ps->line_len == 0 || (ps->line_len == 1 && ps->prev_cr);
	if (!ps->prev_cr && !emit(ps, out, "\r", 1, true))
		return false;
	if (!emit(ps, out, "\n", 1, true))
		return false;
	ps->line_start = true;
	ps->prev_cr = false;
	ps->line_len = 0;
	line_ended(ps, blank);
	return true;
}

size_t pop3_stream_write(struct pop3_stream *ps, const void *data, size_t len,
			 struct buf *out)
{
	const unsigned char *p = data;
	size_t i = 0;

	while (i < len && !ps->done && !ps->failed) {
		/* byte-stuffing (RFC 1939 3): not part of the size */
		if (ps->line_start && p[i] == '.' &&
		    !emit(ps, out, ".", 1, false))
			break;
		const unsigned char *lf = memchr(p + i, '\n', len - i);
		size_t end = lf != NULL ? (size_t)(lf - p) : len;
		if (end > i) {
			size_t n = end - i;
			if (!emit(ps, out, p + i, n, true))
				break;
			ps->line_len = ps->line_len + n > 2
					       ? 2
					       : ps->line_len + (unsigned)n;
			ps->prev_cr = p[end - 1] == '\r';
			ps->line_start = false;
			i = end;
		}
		if (lf == NULL)
			break;
		if (!end_line(ps, out))
			break;
		i++;
	}
	return i;
}

int pop3_stream_end(struct pop3_stream *ps, struct buf *out)
{
	if (ps->done || ps->line_start)
		return 0;
	/* a last line without a line end: completed, and counted */
	if (ps->prev_cr)
		return emit(ps, out, "\n", 1, true) ? 0 : -1;
	return emit(ps, out, "\r\n", 2, true) ? 0 : -1;
}

uint64_t pop3_stream_size(const void *data, size_t len)
{
	struct pop3_stream ps;
	pop3_stream_init(&ps, POP3_STREAM_ALL);
	pop3_stream_write(&ps, data, len, NULL);
	pop3_stream_end(&ps, NULL);
	return ps.count;
}
