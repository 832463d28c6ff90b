/*
 * pop3_client.h - the client side of POP3: a response reader, sans I/O.
 *
 * RFC 1939 section 3 (status indicators "+OK" and "-ERR" in upper case,
 * multi-line responses ended by "." CRLF, byte-stuffing: a line that
 * starts with "." and has more octets has its first octet removed),
 * section 5 (scan and drop listings), section 7 (unique-id listings);
 * RFC 2449 section 8 (response codes in brackets at the start of the text)
 * and section 4 (status lines of at most 512 octets); RFC 5034 section 4
 * (the "+ " continuation carrying a base64 SASL challenge).
 *
 * POP3 responses do not say whether a body follows, so the caller says
 * what it expects, before the bytes arrive, one expectation per response
 * and in the order the commands were sent (pipelining, RFC 2449 section 6.6,
 * queues several):
 *
 *   c = pop3_client_new(NULL);
 *   pop3_client_expect(c, POP3_EXPECT_SINGLE);    the greeting
 *   loop: pop3_client_feed(c, bytes, n);          -1: pop3_client_error(c)
 *         while (pop3_client_next(c, &r) == 1) { ...; pop3_response_free(&r); }
 *
 * Written for hostile servers: status lines, bodies and everything held
 * are bounded; a line that is not a status line when one is expected,
 * bytes that arrive when nothing is expected, a bare CR or LF, a NUL or a
 * control character other than HT in a status line, and a body over its
 * limit each break the stream with a message saying so. Body lines have
 * no length limit of their own (stored messages in the wild exceed RFC
 * 5322's 998), only the body's; NUL bytes in a body are kept as data.
 */
#ifndef QUILL_POP3_CLIENT_H
#define QUILL_POP3_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

enum pop3_expect {
	POP3_EXPECT_SINGLE, /* a status line */
	POP3_EXPECT_MULTI,  /* a status line; after +OK, a multi-line body */
	POP3_EXPECT_SASL,   /* a "+ base64" continuation or a status line */
};

#define POP3_CLIENT_EXPECT_MAX 64 /* expectations queued at once */

/* A field left 0 takes its default. */
struct pop3_client_limits {
	size_t line_max; /* status line with CRLF; default 2048, lenient vs
			  * the 512 of RFC 2449 section 4 */
	size_t body_max; /* un-stuffed body of one response; default 64 MiB */
	size_t held_max; /* bytes of responses held at once (the one being
			  * read and those not yet taken); default
			  * 2 * body_max + 1 MiB */
};

#define POP3_CLIENT_LINE_MAX_DEFAULT 2048
#define POP3_CLIENT_BODY_MAX_DEFAULT (64u * 1024 * 1024)

enum pop3_status {
	POP3_OK,   /* "+OK" */
	POP3_ERR,  /* "-ERR" */
	POP3_CONT, /* "+ " continuation (only when POP3_EXPECT_SASL) */
};

struct pop3_response {
	enum pop3_status status;
	char *text;	     /* after the indicator and one space ("" if
			      * none), NUL-terminated; for POP3_CONT the
			      * base64 challenge, not checked here */
	char code[64];	     /* RFC 2449 response code inside [..] at the
			      * start of text, e.g. "IN-USE" or "SYS/TEMP";
			      * "" if none or malformed */
	bool multiline;	     /* a body follows the +OK (POP3_EXPECT_MULTI) */
	unsigned char *body; /* un-stuffed body, lines end in CRLF, without
			      * the terminating ".CRLF"; NUL-terminated
			      * after body_len; NULL if !multiline */
	size_t body_len;
	size_t body_lines;
};

void pop3_response_free(struct pop3_response **r);

struct pop3_client;

/* lim may be NULL for the defaults. NULL if out of memory. */
struct pop3_client *pop3_client_new(const struct pop3_client_limits *lim);
void pop3_client_free(struct pop3_client **c);

/* Queue what the next response is. -1 if POP3_CLIENT_EXPECT_MAX are
 * already queued, e is not one of the above, or the stream is broken. */
int pop3_client_expect(struct pop3_client *c, enum pop3_expect e);
/* Expectations queued and not yet met (the response being read counts
 * until it is complete). */
size_t pop3_client_expected(const struct pop3_client *c);

/* Take received bytes (all of them). 0, or -1 once the stream is broken;
 * pop3_client_error() then says why, and later feeds return -1. */
int pop3_client_feed(struct pop3_client *c, const void *data, size_t len);

/* 1 and *r_r (the caller's, free with pop3_response_free) when a response
 * is complete, 0 if more input is needed, -1 if the stream is broken and
 * no complete response is left. */
int pop3_client_next(struct pop3_client *c, struct pop3_response **r_r);

/* Why the stream broke; "" while it is not broken. */
const char *pop3_client_error(const struct pop3_client *c);

/* True if bytes of an unfinished response are held (and the stream is not
 * broken): a connection that closes now closed in the middle of a
 * response. */
bool pop3_client_partial(const struct pop3_client *c);

/* Copy the body line at *pos_r (start at 0) into line as a NUL-terminated
 * string without its CRLF, and move *pos_r to the next. 1 for a line, 0
 * at the end of the body, -1 if the line does not fit in n or holds a NUL
 * (*pos_r still moves on). */
int pop3_body_line(const struct pop3_response *r, size_t *pos_r, char *line,
		   size_t n);

/* A scan listing (RFC 1939 section 5, LIST): message-number SP size, both
 * decimal, message-number >= 1. The RFC puts no requirement on what follows
 * the size, so " anything" may follow it. 0, or -1 if malformed. */
int pop3_parse_scan_listing(const char *line, unsigned long *msg_r,
			    unsigned long long *size_r);
/* A drop listing (RFC 1939 section 5, STAT's +OK text): count SP size,
 * optionally followed by " anything". 0, or -1 if malformed. */
int pop3_parse_drop_listing(const char *text, unsigned long *count_r,
			    unsigned long long *size_r);
/* A unique-id listing (RFC 1939 section 7, UIDL): message-number SP
 * unique-id, the id 1 to 70 octets in 0x21..0x7E and nothing after it.
 * uid_out gets the id NUL-terminated. 0, or -1 if malformed or if the id
 * does not fit in uid_n. */
int pop3_parse_uidl_listing(const char *line, unsigned long *msg_r,
			    char *uid_out, size_t uid_n);

#endif
