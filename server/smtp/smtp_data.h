/*
 * smtp_data.h - reading the message after DATA (RFC 5321 4.1.1.4, 4.5.2,
 * 4.5.3.1.6), a piece of the SMTP engine with no I/O of its own.
 *
 * Lines come in through the bounded line reader; the message goes out, with
 * the transparency dots removed (4.5.2), to a buffer the host drains. The
 * end of data is CRLF "." CRLF and nothing else: a "." line after or
 * before a bare LF, or a bare CR, never ends the message, so the SMTP
 * smuggling tricks that rely on servers disagreeing about the end cannot
 * work here. A bare LF or CR in the message is refused (the default) or
 * stored as CRLF (bare_normalise).
 */
#ifndef QUILL_SMTP_DATA_H
#define QUILL_SMTP_DATA_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

enum smtp_data_verdict {
	SMTP_DATA_OK,
	SMTP_DATA_TOO_BIG,	 /* over max_size: 552 5.3.4 (RFC 1870) */
	SMTP_DATA_LINE_TOO_LONG, /* a line over line_max (4.5.3.1.6) */
	SMTP_DATA_BARE,		 /* a bare LF or CR, and they are refused */
};

enum smtp_data_step {
	SMTP_DATA_MORE, /* all input used; feed more */
	SMTP_DATA_FULL, /* out holds chunk bytes or more: drain it, run again */
	SMTP_DATA_DONE, /* the end of data was read */
};

struct smtp_data_reader {
	struct buf_line_reader lines;
	bool prev_crlf;	     /* the previous line ended in CRLF */
	bool bare_normalise; /* store bare LF/CR as CRLF instead of refusing */
	size_t line_max;     /* longest text line, CRLF counted, the
			      * transparency dot not (4.5.3.1.6) */
	unsigned long long max_size; /* 0: no limit */
	unsigned long long size;     /* message octets read so far */
	enum smtp_data_verdict verdict;
};

/* line_max counts the CRLF, as 4.5.3.1.6 does. */
void smtp_data_init(struct smtp_data_reader *r, size_t line_max,
		    unsigned long long max_size, bool bare_normalise);
/* Take lines from in; append the message to out until it holds chunk
 * bytes. Once the verdict is not OK, nothing more is appended, but lines
 * are still read to the end of data, so the session stays in step. */
enum smtp_data_step smtp_data_run(struct smtp_data_reader *r, struct buf *in,
				  struct buf *out, size_t chunk);

#endif
