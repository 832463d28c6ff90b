/*
 * smtp_session.h - the server side SMTP engine (RFC 5321), sans I/O.
 *
 * The host feeds received bytes in and takes reply bytes out; the engine
 * never touches a socket, clock or file. When it needs the host (start a
 * TLS handshake, close the connection) it raises a request, stops reading
 * its input, and waits for the host to act.
 *
 *   s = smtp_session_new(&settings, "192.0.2.1");
 *   smtp_session_start(s);                       greeting → output
 *   loop: smtp_session_feed(s, bytes, n);        replies  → output
 *         send buf_data(smtp_session_output(s)), consume what was sent
 *         switch (smtp_session_request(s)) ...
 *
 * Replies to pipelined commands accumulate in the output buffer; the host
 * sends them when a feed returns (RFC 2920 section 3.2: flush when input
 * runs dry), so a batch is answered in one write.
 */
#ifndef QUILL_SMTP_SESSION_H
#define QUILL_SMTP_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* What the session needs to know of its listener and config. */
struct smtp_settings {
	const char *hostname;  /* our name in the greeting and EHLO */
	bool starttls_offered; /* the listener has TLS to upgrade to */
	bool tls_at_start;     /* implicit TLS listener (RFC 8314) */
	bool bare_lf_accept;   /* treat a bare LF as a line end */
	size_t line_max;       /* command line, CRLF included (4.5.3.1.4) */
	unsigned max_errors;   /* error replies before 421 and close */
	size_t output_max;     /* most reply bytes held for the host; the
				 * host stops reading while output waits */
};

/* RFC 5321 section 4.5.3.1.4: 512 octets with the CRLF. */
#define SMTP_LINE_MAX_DEFAULT	512
#define SMTP_MAX_ERRORS_DEFAULT 10

void smtp_settings_defaults(struct smtp_settings *st);

enum smtp_request {
	SMTP_REQ_NONE,	   /* feed more input when it arrives */
	SMTP_REQ_STARTTLS, /* send output, then run the TLS handshake and
			    * call smtp_session_tls_done() */
	SMTP_REQ_CLOSE,	   /* send output, then close the connection */
};

struct smtp_session;

/* peer_addr and id (the host's session id, for logs) are copied. */
struct smtp_session *smtp_session_new(const struct smtp_settings *st,
				      const char *peer_addr, const char *id);
void smtp_session_free(struct smtp_session **s);

/* Queue the 220 greeting (RFC 5321 section 4.3.1, 3.1). */
void smtp_session_start(struct smtp_session *s);
/* Take received bytes; replies go to the output buffer. Returns how many
 * bytes were taken: all of them, unless a request was raised. Bytes after a
 * STARTTLS or QUIT are never to be fed again: the host discards them
 * (RFC 3207 section 4.2 - plaintext sent before the handshake must not be
 * read as if it had come over TLS). */
size_t smtp_session_feed(struct smtp_session *s, const void *data, size_t len);
/* The host sends from here and buf_consume()s what it wrote. */
struct buf *smtp_session_output(struct smtp_session *s);
enum smtp_request smtp_session_request(const struct smtp_session *s);

/* The TLS handshake after STARTTLS finished. On success the session starts
 * over as after the greeting (RFC 3207 section 4.2); tls_desc, e.g.
 * "TLSv1.3 TLS_AES_256_GCM_SHA384", is kept for logs and trace headers.
 * On failure the session asks to be closed. */
void smtp_session_tls_done(struct smtp_session *s, bool ok,
			   const char *tls_desc);
/* The server is going down: 421 and close (RFC 5321 section 3.8). */
void smtp_session_shutdown(struct smtp_session *s);
/* The host's idle timer fired: 421 and close (RFC 5321 4.5.3.2). */
void smtp_session_timeout(struct smtp_session *s);

bool smtp_session_tls_active(const struct smtp_session *s);
const char *smtp_session_id(const struct smtp_session *s);

#endif
