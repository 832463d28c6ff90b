/*
 * dsn.h - building a delivery status notification: a pure function from
 * what happened to a message's recipients (and the message's first
 * bytes) to the bytes of the notice. No I/O; queue_dsn.h decides when
 * one is owed and puts it in the queue.
 *
 * RFC 3464 2 (multipart/report with report-type delivery-status: a
 * human-readable part, a message/delivery-status part, then the message
 * or its header), 2.1 (7bit fields, per-message fields, a blank line,
 * then one group per recipient), 2.2.1 (Original-Envelope-Id only when
 * ENVID came), 2.2.2 (Reporting-MTA), 2.2.5 and 2.3.7 (dates with a
 * numeric zone), 2.3.1-2.3.4 (Original-Recipient only when ORCPT came,
 * Final-Recipient, Action, Status), 2.3.6 (Diagnostic-Code), 2.3.9
 * (Will-Retry-Until only in delayed notices); RFC 3461 6.2 (the full
 * message only for a notice of failure, when RET does not say HDRS),
 * 6.3 (ENVID and ORCPT decoded from xtext, RFC 3461 4; "dns" only for a
 * fully-qualified Reporting-MTA name); RFC 3462 (multipart/report,
 * text/rfc822-headers); RFC 3834 5 (Auto-Submitted: auto-replied).
 */
#ifndef QUILL_SERVER_DSN_H
#define QUILL_SERVER_DSN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "buf.h"

enum dsn_action { DSN_FAILED, DSN_DELAYED, DSN_DELIVERED };

struct dsn_rcpt {
	const char *addr;  /* the envelope address: Final-Recipient */
	const char *orcpt; /* ORCPT "addr-type;xtext" as sent, or NULL */
	enum dsn_action action;
	const char *status;  /* RFC 3463 code, e.g. "5.1.1" */
	int code;	     /* the reply code; 0: no Diagnostic-Code */
	const char *text;    /* the reply's text */
	time_t last_attempt; /* 0: not known (no Last-Attempt-Date) */
	time_t retry_until;  /* delayed: Will-Retry-Until; 0: none */
};

struct dsn_report {
	const char *hostname; /* Reporting-MTA, From's domain */
	const char *id;	      /* the notice's queue id (Message-ID, boundary) */
	const char *orig_id;  /* the message's queue id */
	const char *sender;   /* the message's MAIL FROM: To of the notice */
	const char *envid;    /* ENVID as sent (xtext), or NULL */
	char ret;	      /* RET: 'F', 'H', or 0 when not given */
	time_t arrived, now;
	const struct dsn_rcpt *rcpt;
	size_t n_rcpt;
	/* The message as queued, or only its first bytes */
	const char *content;
	size_t content_len;
	bool content_whole;  /* content is the whole message */
	bool content_binary; /* BINARYMIME: never returned in full */
	bool content_8bit;   /* 8BITMIME */
};

/* Whether the third part is the whole message (message/rfc822) rather
 * than its header (text/rfc822-headers): only for a notice reporting a
 * failure, unless RET=HDRS, and only if the whole message is at hand
 * and is not binary. Without RET a failure returns the whole message. */
bool dsn_returns_full(const struct dsn_report *r);

/* The notice, header and body with CRLF line ends, appended to out.
 * Returns 0, or -1 if out's limit was reached. */
int dsn_build(const struct dsn_report *r, struct buf *out);

/* Length of the header of msg (len bytes), its empty line included; the
 * whole of it if it has no body; with a header cut short (no empty line
 * and !whole), up to its last complete line. */
size_t dsn_header_len(const char *msg, size_t len, bool whole);

/* The text of an xtext value (RFC 3461 4) for a DSN field: decoded when
 * it is well-formed and decodes to printable ASCII, otherwise as sent
 * with any octet that is not graphic ASCII as '?'. NUL-terminated in
 * out (cap >= 1). Returns true if it was decoded. */
bool dsn_xtext_field(const char *x, char *out, size_t cap);

#endif
