/*
 * transcript.h - the record of a scenario's dialogue, shown when it fails.
 *
 * One line per protocol line, prefixed by the session and the direction:
 *
 *   main C: EHLO client.example.test
 *   main S: 250-mx.example.test Hello client.example.test [127.0.0.1]
 *   main * TLS established (TLSv1.3)
 *   expected: 250 with STARTTLS among the EHLO keywords
 *   got: 250 without STARTTLS
 *
 * A line ending in CRLF is shown without it. Everything else is escaped so
 * that the text stays printable ASCII: "\\" for a backslash, "\r", "\n",
 * "\t", "\xHH" for other control bytes and bytes of 0x80 and above. So a
 * bare LF ending a line shows as a trailing "\n", and a CR inside a line
 * as "\r". Bytes that arrive without a line end yet are collected until
 * it arrives; if something else is recorded first they are shown with
 * " [partial]" after them. Lines longer than TRANSCRIPT_LINE_SHOW bytes
 * are cut ("... [N more bytes]") and the whole transcript is bounded.
 */
#ifndef QUILL_HARNESS_TRANSCRIPT_H
#define QUILL_HARNESS_TRANSCRIPT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define TRANSCRIPT_MAX	     (1024u * 1024) /* bytes of text kept */
#define TRANSCRIPT_LINE_SHOW 512	    /* bytes of one line shown */

struct transcript {
	struct buf out;
	bool truncated;
	char pend_session[64];
	char pend_dir; /* 'C' or 'S'; 0: nothing pending */
	unsigned char pend[TRANSCRIPT_LINE_SHOW];
	size_t pend_len;  /* bytes in pend */
	size_t pend_more; /* bytes of the line beyond pend */
	bool pend_cr;	  /* the last byte seen was a CR */
};

void transcript_init(struct transcript *t);
void transcript_free(struct transcript *t);

/* Bytes sent ('C') or received ('S') on a session. */
void transcript_data(struct transcript *t, const char *session, char dir,
		     const void *data, size_t len);
/* An event on a session: "main * text". */
void transcript_note(struct transcript *t, const char *session, const char *fmt,
		     ...) __attribute__((format(printf, 3, 4)));
/* A line of its own (expected: / got:). */
void transcript_line(struct transcript *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The text so far (pending bytes flushed), NUL-terminated; valid until
 * the next call. */
const char *transcript_text(struct transcript *t);

/* Escape len bytes as described above into out (a CRLF is not special
 * here). 0, or -1 if out is full. */
int transcript_escape(struct buf *out, const void *data, size_t len);
/* Escape at most max bytes of data into a NUL-terminated string of at
 * most n bytes, adding "..." if cut. For messages. */
void transcript_escape_str(char *out, size_t n, const void *data, size_t len);

#endif
