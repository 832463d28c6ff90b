/*
 * mbox_parse.h - the mboxrd format (RFC 4155 and the mboxrd quoting):
 * finding messages in an mbox file, the From_ line, and the reversible
 * quoting of body lines.
 *
 * Reading rules (the reader is as strict as the writer, and lenient only
 * where nothing can be lost):
 *  - A message starts at a line beginning with "From " (at the start of
 *    the file or after a LF); bytes before the first one are not mail.
 *  - Its content runs to the next such line or the end of the file. If
 *    its last line is empty ("\n", or "\r\n" in a CRLF file), that line
 *    is the separator RFC 4155 requires and not part of the message.
 *  - Lines matching ^>+From  lose one '>' (mboxrd); nothing else changes.
 *  - The header ends after the first empty line of the message. Its
 *    status lines (mbox_meta.h: X-UID, Status, ...) are mailbox state:
 *    parsed into struct mbox_meta, left out of the size and of the
 *    fingerprint; escaped ones count one MBOX_ESCAPE less.
 * Writing is the inverse: every line matching ^>*From  gains one '>'; a
 * message not ending in LF gets one (recorded, so reads still return
 * exactly what was appended), then the empty separator line follows.
 */
#ifndef QUILL_MBOX_PARSE_H
#define QUILL_MBOX_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "mbox_meta.h"

#define MBOX_LINE_PREFIX  1024	      /* bytes of a From_ line looked at */
#define MBOX_HEAD_BYTES	  256	      /* content bytes in a fingerprint */
#define MBOX_FROM_LEN_MAX 0x3fffffffu /* fits the index's aux field */

/* One message found by the scanner. */
struct mbox_msg {
	uint64_t offset;       /* of its From_ line */
	uint32_t from_len;     /* From_ line length, LF included */
	uint64_t raw_len;      /* content on disk, separator excluded */
	uint64_t size;	       /* content as read: unquoted, no status lines */
	uint64_t header_size;  /* the same for the header */
	bool quoted;	       /* has ">From " lines */
	bool filtered;	       /* has status lines or escaped ones */
	bool terminated;       /* ended with the separator line */
	uint64_t fingerprint;  /* From_ line + first MBOX_HEAD_BYTES outside
			       * status lines */
	int64_t date;	       /* from the From_ line, 0 if unreadable */
	struct mbox_meta meta; /* keywords: bits over the scan's kw */
};

struct mbox_scan {
	uint64_t pos; /* file offset of the next byte fed */
	/* the current line */
	uint64_t line_start;
	uint64_t line_len;
	unsigned char pre[MBOX_LINE_PREFIX];
	size_t pre_len;
	unsigned gt;	 /* leading '>' count */
	unsigned match;	 /* bytes of "From " matched after them */
	bool decided;	 /* the line start is classified */
	bool from_line;	 /* "From " with no '>' */
	bool quote_line; /* '>'+ then "From " */
	/* the current message */
	bool in_msg;
	struct mbox_msg cur;
	uint64_t content_start;
	uint64_t quoted_lines;
	bool hdr_found;
	uint64_t hdr_raw_end, hdr_quoted;
	unsigned last_kind; /* of the last content line: 0 none, 1 "\n",
			     * 2 "\r\n", 3 other */
	unsigned char head[MBOX_HEAD_BYTES];
	size_t head_len;
	uint64_t from_hash;
	/* status lines of the current message's header */
	struct mbox_linecls lc;
	enum mbox_line lres; /* of the current line */
	bool in_status;	     /* the field going on is a status line */
	bool capturing;	     /* bytes of this line are its value */
	int status_hdr;
	char *val;
	size_t val_len;
	uint64_t hidden, escapes;
	bool at_file_start; /* the first message found is the file's */
	/* results */
	struct mbox_msg *v;
	size_t n, cap;
	struct mbox_kwtab kw; /* names the messages' keyword bits refer to */
	bool ended_midline;   /* the data ended inside a line */
};

/* Scan from start_offset (0: the start of the file, so the first message
 * may carry X-IMAPbase). */
void mbox_scan_init(struct mbox_scan *s, uint64_t start_offset);
/* Feed the next bytes of the file; -1 on ENOMEM. */
int mbox_scan_feed(struct mbox_scan *s, const void *data, size_t len);
/* End of the file: close the last message; -1 on ENOMEM. */
int mbox_scan_end(struct mbox_scan *s);
void mbox_scan_clear(struct mbox_scan *s);

/* The fingerprint of a message: its From_ line (first
 * MBOX_LINE_PREFIX bytes) and its first head_len content bytes. */
uint64_t mbox_fingerprint(const void *from, size_t from_len, const void *head,
			  size_t head_len);

/* "From <sender> <asctime in UTC>\n" into out; the sender is the
 * envelope sender if it is a plausible addr-spec (no blanks or control
 * characters, at most 254 bytes), else MAILER-DAEMON. Returns the
 * length, or 0 if out is too small. */
size_t mbox_from_line(char *out, size_t size, const char *sender, time_t date);
/* The date of a From_ line (asctime, optionally with a zone before the
 * year); 0 if there is none. */
int64_t mbox_from_date(const void *line, size_t len);

/* mboxrd quoting of a stream, for writing: state kept between calls. */
struct mbox_quoter {
	int state;
	unsigned match;
	bool quoted; /* a line was quoted */
	bool last_lf;
	uint64_t in_len;
};

void mbox_quoter_init(struct mbox_quoter *q);
/* Quote in[0..len) into out (room for 2 * len + 6 bytes); returns the
 * number of bytes written. */
size_t mbox_quote(struct mbox_quoter *q, const void *in, size_t len, void *out);
/* Bytes held back at the end of the stream (at most 5). */
size_t mbox_quote_end(struct mbox_quoter *q, void *out);

/* mboxrd unquoting, for reading: state kept between calls. */
struct mbox_unquoter {
	int state;
	unsigned match;
	unsigned char pend[8]; /* output held back */
	size_t pend_len, pend_off;
};

void mbox_unquoter_init(struct mbox_unquoter *u);
/* Unquote from in[0..in_len) into out[0..out_len); *used_r = input
 * consumed, returns output produced. Stops when either runs out. */
size_t mbox_unquote(struct mbox_unquoter *u, const void *in, size_t in_len,
		    size_t *used_r, void *out, size_t out_len);
/* At the end of the raw content: what is still held back. */
size_t mbox_unquote_end(struct mbox_unquoter *u, void *out, size_t out_len);

#endif
