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

struct sasl_server;

/* Which service the listener offers (RFC 6409 for submission). */
enum smtp_mode {
	SMTP_MODE_MX,	      /* receiving: port 25 style */
	SMTP_MODE_SUBMISSION, /* AUTH required before MAIL (RFC 6409 4.3) */
	SMTP_MODE_LMTP,	      /* RFC 2033: LHLO, one reply per recipient */
};

/* What the session needs to know of its listener and config. */
struct smtp_settings {
	const char *hostname; /* our name in the greeting and EHLO */
	enum smtp_mode mode;
	bool starttls_offered; /* the listener has TLS to upgrade to */
	bool tls_at_start;     /* implicit TLS listener (RFC 8314) */
	bool bare_lf_accept;   /* a bare LF ends a command line, and bare
				* LF/CR in a message are stored as CRLF
				* (they never end DATA); else refused */
	size_t line_max;       /* command line, CRLF included (4.5.3.1.4) */
	size_t data_line_max;  /* message text line, CRLF included
				* (4.5.3.1.6) */
	unsigned long long message_max; /* SIZE (RFC 1870); 0: no limit */
	unsigned max_recipients;	/* per message, >= 100 (4.5.3.1.8) */
	unsigned max_errors;		/* error replies before 421 and close */
	size_t output_max; /* most reply bytes held for the host; the
				* host stops reading while output waits */
	size_t chunk_size; /* message bytes handed to the host at once */

	/* AUTH (RFC 4954), smtp_auth.c */
	bool auth_offered;	      /* this listener offers AUTH at all */
	bool auth_plaintext;	      /* PLAIN/LOGIN also without TLS */
	unsigned scram_iterations;    /* least SCRAM count; 0: 4096 */
	const char *scram_test_nonce; /* tests only; NULL */
	/* After AUTH (RFC 6409): MAIL FROM must be the user at domain or
	 * hostname; missing Date and Message-ID fields are added. */
	const char *domain; /* the local mail domain */
	bool sender_check;
	bool add_headers;
	/* VRFY (RFC 5321 3.5.3, 7.3): smtp.vrfy */
	enum smtp_vrfy_mode {
		SMTP_VRFY_CANNOT, /* 252, the default */
		SMTP_VRFY_VERIFY, /* ask the host, as for RCPT */
		SMTP_VRFY_OFF,	  /* 502 */
	} vrfy;
};

/* RFC 5321 section 4.5.3.1.4: 512 octets with the CRLF. */
#define SMTP_LINE_MAX_DEFAULT	   512
#define SMTP_DATA_LINE_MAX_DEFAULT 1000
#define SMTP_MESSAGE_MAX_DEFAULT   (50ULL * 1024 * 1024)
#define SMTP_MAX_RCPT_DEFAULT	   1000
#define SMTP_MAX_ERRORS_DEFAULT	   10
/* RFC 4954 4: AUTH lines, base64 included, of 12288 octets suffice */
#define SMTP_AUTH_LINE_MAX 12288

void smtp_settings_defaults(struct smtp_settings *st);

enum smtp_request {
	SMTP_REQ_NONE,	     /* feed more input when it arrives */
	SMTP_REQ_STARTTLS,   /* send output, then run the TLS handshake and
			     * call smtp_session_tls_done() */
	SMTP_REQ_CLOSE,	     /* send output, then close the connection */
	SMTP_REQ_RCPT,	     /* may smtp_session_pending_rcpt() receive
			     * mail? resume: ok, or the refusal */
	SMTP_REQ_DATA_BEGIN, /* open a spool file for the envelope; resume:
			      * ok with queue_id and date, or a refusal */
	SMTP_REQ_DATA_CHUNK, /* append smtp_session_message() to it and
			      * consume what was written; resume: ok, or
			      * the failure (e.g. 452 4.3.1 disk full) */
	SMTP_REQ_DATA_END,   /* the same, then: if smtp_session_message_ok()
			     * commit it durably, else discard it; resume:
			     * ok (the message is safe) or a failure */
	SMTP_REQ_AUTH_CREDENTIALS, /* take the SASL exchange with
				    * smtp_session_auth_take(), give it the
				    * user's credentials
				    * (sasl_server_set_credentials(), slow)
				    * and resume with it in answer.sasl: ok,
				    * or not (454 4.7.0) */
	SMTP_REQ_AUTH_DELAY,	   /* a login failed: resume (ok) after the
			      * failure delay; the 535 waits till then */
	SMTP_REQ_LMTP_RCPT, /* LMTP, after DATA_END: deliver the message to
			      * recipient smtp_session_lmtp_index(); resume:
			      * ok (delivered) or that recipient's failure.
			      * Raised once per recipient, in RCPT order */
};

/* The host's answer to a request. With ok, the engine picks the reply;
 * without, code/enhanced/text are the reply to give (e.g. 550 5.1.1). */
struct smtp_answer {
	bool ok;
	int code;
	const char *enhanced;
	const char *text;
	const char *queue_id; /* DATA_BEGIN: named in Received and 250 */
	const char *date;     /* DATA_BEGIN: RFC 5322 date-time for Received */
	struct sasl_server *sasl; /* AUTH_CREDENTIALS: the exchange back */
};

struct smtp_rcpt {
	char *addr;   /* local@domain as given ("postmaster" alone too) */
	char *local;  /* local part, quoting removed: for lookups */
	char *domain; /* "" for the bare postmaster */
	bool postmaster;
	bool routing;	 /* %-hack, bang path, quoted @ or trailing dot: the
		       * forms used to sneak relaying through a local domain */
	unsigned notify; /* DSN NOTIFY= (RFC 3461 4.1): SMTP_NOTIFY_* bits,
			  * 0 when not given */
	char *orcpt;	 /* ORCPT= as "addr-type;xtext" (RFC 3461 4.2), the
			  * xtext re-encoded; NULL when not given */
};

/* NOTIFY= values; the same bits as smtp_params.h decodes. */
#define SMTP_NOTIFY_NEVER   0x1u
#define SMTP_NOTIFY_SUCCESS 0x2u
#define SMTP_NOTIFY_FAILURE 0x4u
#define SMTP_NOTIFY_DELAY   0x8u

/* DSN RET= (RFC 3461 4.3). */
enum smtp_dsn_ret { SMTP_RET_UNSET, SMTP_RET_FULL, SMTP_RET_HDRS };

/* The mail transaction so far (RFC 5321 3.3). */
struct smtp_envelope {
	char *mail_from;	 /* "" for the null reverse-path <> */
	unsigned long long size; /* SIZE= declared, 0 if not */
	bool body_8bit;		 /* BODY=8BITMIME (RFC 6152) */
	bool body_binary;	 /* BODY=BINARYMIME (RFC 3030 3) */
	enum smtp_dsn_ret ret;	 /* RET= (RFC 3461 4.3) */
	char *envid;		 /* ENVID= as xtext (RFC 3461 4.4), or NULL */
	bool smtputf8;		 /* SMTPUTF8 (RFC 6531) */
	struct smtp_rcpt *rcpt;
	size_t n_rcpt;
	const char *helo;
	const char *peer;
	const char *tls;  /* "" without TLS */
	const char *auth; /* the authenticated user, "" if none (RFC 4954) */
	/* RFC 4954 5: the submitter to name in AUTH= when relaying on:
	 * "" for <> (unknown), NULL when there is none to pass */
	char *auth_from;
};

struct smtp_session;

/* peer_addr and id (the host's session id, for logs) are copied. */
struct smtp_session *smtp_session_new(const struct smtp_settings *st,
				      const char *peer_addr, const char *id);
void smtp_session_free(struct smtp_session **s);

/* Queue the 220 greeting (RFC 5321 section 4.3.1, 3.1). */
void smtp_session_start(struct smtp_session *s);
/* Instead of the greeting when the peer has too many connections: 421
 * 4.7.0 and close (RFC 5321 3.8: a server may refuse at once, with 421). */
void smtp_session_refuse(struct smtp_session *s);
/* Instead of the greeting when the client spoke before it (the host held
 * the 220 back for smtp.greeting_delay_ms): 554 5.5.1 and close. RFC 5321
 * 4.3.1 and 3.1: a client waits for the greeting before it sends. */
void smtp_session_pregreet(struct smtp_session *s);
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

/* Which wait the host's idle timer measures now (RFC 5321 4.5.3.2):
 * message data (in DATA or between BDAT octets), or the next command. */
enum smtp_timeout_kind { SMTP_TIMEOUT_COMMAND, SMTP_TIMEOUT_DATA };
enum smtp_timeout_kind smtp_session_timeout_kind(const struct smtp_session *s);

/* Answer the pending request (RCPT, DATA_*). */
void smtp_session_resume(struct smtp_session *s, const struct smtp_answer *a);

const struct smtp_envelope *smtp_session_envelope(const struct smtp_session *s);
/* SMTP_REQ_RCPT: the recipient to judge. */
const struct smtp_rcpt *smtp_session_pending_rcpt(const struct smtp_session *s);
/* SMTP_REQ_DATA_CHUNK / _END: message bytes for the spool; the host
 * buf_consume()s what it wrote. */
struct buf *smtp_session_message(struct smtp_session *s);
/* SMTP_REQ_DATA_END: the message arrived whole and within the limits. */
bool smtp_session_message_ok(const struct smtp_session *s);
/* SMTP_REQ_LMTP_RCPT: which recipient of the envelope, from 0. */
size_t smtp_session_lmtp_index(const struct smtp_session *s);

/* SMTP_REQ_AUTH_CREDENTIALS: the exchange, now the host's (the session
 * frees it if the host never takes it); sasl_server_user() names the user
 * whose credentials it needs. NULL at any other time. */
struct sasl_server *smtp_session_auth_take(struct smtp_session *s);
/* The authenticated user (RFC 4954), "" before a successful AUTH. */
const char *smtp_session_auth_user(const struct smtp_session *s);

bool smtp_session_tls_active(const struct smtp_session *s);
const char *smtp_session_id(const struct smtp_session *s);

#endif
