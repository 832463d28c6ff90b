/*
 * pop3_stream.h - a message as POP3 sends it: line ends made CRLF, lines
 * starting with '.' byte-stuffed, a last line without a line end
 * completed, and for TOP only the header and the first k body lines.
 *
 * RFC 1939 section 3 (multi-line responses: CRLF lines, byte-stuffing),
 * section 11 (sizes count each line end as CRLF, and never the stuffing),
 * section 7 (TOP: the header, the blank line, then k body lines).
 *
 * A store keeps messages as they were appended, often with bare LF line
 * ends (Maildir and mbox files as Dovecot and MDAs write them). The same
 * transformation runs twice: once with no output, to count the size that
 * STAT, LIST and RETR report, and once to send the message, a chunk at a
 * time so a message is never held whole. Both counts agree by
 * construction. Bytes are taken as they are: a bare CR stays data, a bare
 * LF becomes CRLF, and a message whose last line has no line end gets one
 * (CRLF, or LF after a trailing CR).
 */
#ifndef QUILL_POP3_STREAM_H
#define QUILL_POP3_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define POP3_STREAM_ALL UINT64_MAX /* RETR: every body line */

struct pop3_stream {
	uint64_t body_left; /* body lines still to send (TOP) */
	uint64_t count;	    /* octets out so far, stuffing not counted */
	unsigned line_len;  /* octets of the current line, up to 2 */
	bool line_start;    /* the next byte starts a line */
	bool prev_cr;	    /* the last byte was CR */
	bool in_body;	    /* the blank line after the header is out */
	bool done;	    /* TOP: every line asked for is out */
	bool failed;	    /* the output buffer was full */
};

/* Start a message: body_lines is TOP's k, or POP3_STREAM_ALL. */
void pop3_stream_init(struct pop3_stream *ps, uint64_t body_lines);

/* Take len bytes of the message; append them as sent to out (which may be
 * NULL: count only). Returns the bytes taken: all of them, unless TOP's
 * lines are out (ps->done) or out is full (ps->failed). */
size_t pop3_stream_write(struct pop3_stream *ps, const void *data, size_t len,
			 struct buf *out);

/* The message ended: complete its last line if it had no line end.
 * Returns 0, or -1 if out is full. */
int pop3_stream_end(struct pop3_stream *ps, struct buf *out);

/* The size POP3 reports for a whole message held in memory. */
uint64_t pop3_stream_size(const void *data, size_t len);

#endif
