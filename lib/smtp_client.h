/*
 * smtp_client.h - the client side of SMTP: a reply reader, sans I/O.
 *
 * RFC 5321 section 4.2 (reply lines: a three-digit code, then ' ' or '-'
 * and text), 4.2.1 (multi-line replies: every line but the last has '-',
 * and every line carries the same code), 4.5.3.1.5 (reply line length),
 * 4.5.2 (dot-stuffing of the message sent after DATA), 4.1.1.1 (EHLO
 * keywords); RFC 2034 section 4 and RFC 3463 section 2 (enhanced status
 * codes "class.subject.detail" at the start of the text).
 *
 * Written for hostile servers: every line, every reply and every byte held
 * is bounded, and anything that is not a well-formed reply breaks the
 * stream with a message that says what and where. Strict throughout:
 *
 *   - lines end in CRLF; a bare LF, a bare CR, a NUL or another control
 *     character (anything below 0x20 but HT, and 0x7F) is an error;
 *   - the code is %x32-35 %x30-35 %x30-39 (RFC 5321 4.2): 1yz replies and a
 *     second digit above 5 are malformed;
 *   - after the code comes ' ', '-' or the end of the line;
 *   - text bytes of 0x80 and above are kept as they are (SMTPUTF8 servers
 *     send UTF-8, RFC 6531); they are never interpreted here.
 *
 * The host feeds received bytes and takes complete replies:
 *
 *   c = smtp_client_new(NULL);
 *   loop: n = read(fd, b, sizeof(b));
 *         if (smtp_client_feed(c, b, n) < 0) ... smtp_client_error(c)
 *         while ((rc = smtp_client_next_reply(c, &r)) == 1) {
 *                 use r->code, r->enhanced, r->lines; smtp_reply_free(&r);
 *         }
 *
 * Replies that complete before an error are still handed out in order;
 * smtp_client_next_reply() returns -1 after the last of them.
 */
#ifndef QUILL_SMTP_CLIENT_H
#define QUILL_SMTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* A field left 0 takes its default. */
struct smtp_client_limits {
	size_t line_max;  /* default 2048 with CRLF: lenient vs the 512 of
			   * RFC 5321 4.5.3.1.5, configurable */
	size_t lines_max; /* lines in one reply; default 1000 */
	size_t held_max;  /* bytes of replies held at once (the one being
			   * read and those not yet taken); default 8 MiB */
};

#define SMTP_CLIENT_LINE_MAX_DEFAULT  2048
#define SMTP_CLIENT_LINES_MAX_DEFAULT 1000
#define SMTP_CLIENT_HELD_MAX_DEFAULT  (8u * 1024 * 1024)

struct smtp_reply {
	int code;	   /* 200..599 */
	char enhanced[16]; /* "2.1.0" from the first line's text, "" if the
			    * text does not start with one followed by SP;
			    * whether its class agrees with code is the
			    * caller's check (RFC 2034 section 4) */
	size_t n_lines;	   /* at least 1 */
	char **lines;	   /* each line's text after the code and its
			    * separator (enhanced code not removed),
			    * NUL-terminated, without CR or LF */
};

void smtp_reply_free(struct smtp_reply **r);

struct smtp_client;

/* lim may be NULL for the defaults. NULL if out of memory. */
struct smtp_client *smtp_client_new(const struct smtp_client_limits *lim);
void smtp_client_free(struct smtp_client **c);

/* Take received bytes (all of them). Returns 0, or -1 once the stream is
 * broken; smtp_client_error() then says why, and later feeds return -1. */
int smtp_client_feed(struct smtp_client *c, const void *data, size_t len);

/* 1 and *r_r (the caller's, free with smtp_reply_free) when a reply is
 * complete, 0 if more input is needed, -1 if the stream is broken and no
 * complete reply is left. */
int smtp_client_next_reply(struct smtp_client *c, struct smtp_reply **r_r);

/* Why the stream broke, e.g. "reply line 3: code 251 differs from 250 of
 * the first line"; "" while it is not broken. */
const char *smtp_client_error(const struct smtp_client *c);

/* True if bytes of an unfinished reply are held (and the stream is not
 * broken): a connection that closes now closed in the middle of a reply. */
bool smtp_client_partial(const struct smtp_client *c);

/*
 * Append msg to out as the mail data after DATA (RFC 5321 4.5.2, 4.1.1.4):
 * each line starting with '.' gets one more '.', a CRLF is added if msg
 * does not end in one (nothing for an empty msg), then ".\r\n". msg must
 * use CRLF line ends: a bare LF or a bare CR gives -1, so that nothing
 * smuggling-prone is sent by accident (a raw step sends such data on
 * purpose); other bytes, NUL included, pass as they are. -1 too if out is
 * full; out is left as it was on any failure. Returns 0.
 */
int smtp_dot_stuff(const void *msg, size_t len, struct buf *out);

/*
 * Look up an EHLO keyword (RFC 5321 4.1.1.1, case-insensitive) in the lines
 * after the first of a 250 reply to EHLO. Returns 1 and, if params_r is
 * not NULL, its parameters (the text after the keyword and one SP, "" if
 * none); 0 if the keyword is not there or the reply is not a 250.
 */
int smtp_ehlo_has(const struct smtp_reply *ehlo, const char *keyword,
		  const char **params_r);

#endif
