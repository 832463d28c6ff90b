/*
 * pop3_session.h - the server side POP3 engine (RFC 1939, RFC 2449 CAPA
 * and response codes, RFC 2595 STLS, RFC 5034 AUTH, RFC 3206 [SYS] and
 * [AUTH]), sans I/O.
 *
 * The host feeds received bytes in and takes reply bytes out; the engine
 * never touches a socket, clock, file or the user database. Whatever
 * needs them becomes a request: the engine stops reading input, the host
 * does the work (on its thread pool if it blocks) and answers with
 * pop3_session_resume().
 *
 *   s = pop3_session_new(&settings, "192.0.2.1", "id");
 *   pop3_session_start(s);                        greeting → output
 *   loop: pop3_session_feed(s, bytes, n);         replies  → output
 *         send buf_data(pop3_session_output(s)), consume what was sent
 *         switch (pop3_session_request(s)) ...
 *
 * The maildrop itself is the host's: the engine knows only its listing
 * (pop3_listing.h), asks for message bytes chunk by chunk and, on QUIT,
 * for the marked messages to be removed. Replies to pipelined commands
 * (RFC 2449 section 6.6) pile up in the output buffer in order.
 */
#ifndef QUILL_POP3_SESSION_H
#define QUILL_POP3_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "pop3_listing.h"

/* RFC 2449 section 4: a server takes command lines of at least 255
 * octets, CRLF included. */
#define POP3_LINE_MAX_DEFAULT 255
/* RFC 5034 section 4: SASL responses are not bound by the command line
 * limit; this holds SASL_SERVER_MESSAGE_MAX bytes in base64. */
#define POP3_SASL_LINE_MAX 12288
#define POP3_MAX_ERRORS	   20
#define POP3_USER_MAX	   255

/* What the session needs to know of its listener and config. */
struct pop3_settings {
	const char *hostname;
	bool stls_offered; /* the listener has TLS to upgrade to (STLS) */
	bool tls_at_start; /* implicit TLS listener (RFC 8314) */
	/* USER/PASS and SASL PLAIN/LOGIN may be used without TLS (RFC 2595
	 * section 2.3, RFC 5034 section 4); with TLS they always may. */
	bool cleartext_ok;
	/* "<...>" for APOP (RFC 1939 section 7), unique to this greeting;
	 * NULL or "": APOP is not offered. */
	const char *apop_timestamp;
	unsigned login_delay; /* RFC 2449 6.5 LOGIN-DELAY to announce; 0 */
	const char *implementation; /* RFC 2449 6.9; NULL: not listed */
	size_t line_max;	    /* command line with CRLF, >= 255 */
	unsigned max_errors;	    /* -ERR replies before closing */
	size_t output_max;	    /* most reply bytes held for the host */
	unsigned scram_iterations;  /* tests and fuzzers only; 0: default */
	/* A message sent whole by RETR gets \Seen in UPDATE, as Dovecot
	 * does (pop3_no_flag_updates = no); TOP never sets it. */
	bool retr_sets_seen;
};

void pop3_settings_defaults(struct pop3_settings *st);

enum pop3_request {
	POP3_REQ_NONE,	   /* feed more input when it arrives */
	POP3_REQ_STARTTLS, /* send output, run the TLS handshake, then call
			    * pop3_session_tls_done() */
	POP3_REQ_CLOSE,	   /* send output, then close */
	POP3_REQ_MORE,	   /* send output, then pop3_session_resume() with
			    * no answer: a long listing goes on */
	POP3_REQ_PASS,	   /* check pop3_session_user() and
			    * pop3_session_password(); answer OK or
			    * AUTH_FAILED */
	POP3_REQ_APOP,	   /* check the digest pop3_session_apop_digest()
			    * of timestamp + secret for pop3_session_user() */
	POP3_REQ_SASL_CREDENTIALS, /* sasl_server_set_credentials() on
				    * pop3_session_sasl() for its user; OK,
				    * or TEMP if that failed */
	POP3_REQ_AUTH_DELAY,	   /* a login failed: wait the configured delay,
			      * then resume (RFC 1939 section 13) */
	POP3_REQ_MAILDROP,	   /* pop3_session_user() is authenticated: lock
			      * and open the maildrop; OK with a listing,
			      * IN_USE, LOGIN_DELAY, TEMP or PERM */
	POP3_REQ_READ,	 /* bytes of message pop3_session_read_uid() at
			      * pop3_session_read_offset(); OK with data
			      * (len 0: the end), GONE, TEMP or PERM */
	POP3_REQ_UPDATE, /* QUIT in TRANSACTION: set \Seen on the
			  * messages of pop3_session_seen_uids(), remove
			  * those of pop3_session_deleted_uids(), release
			  * the maildrop; OK or TEMP */
};

enum pop3_status {
	POP3_ANSWER_OK,
	POP3_ANSWER_AUTH_FAILED, /* wrong credentials, unknown user */
	POP3_ANSWER_IN_USE, /* the maildrop lock is held (RFC 2449 8.1.2) */
	POP3_ANSWER_LOGIN_DELAY, /* logged in too recently (RFC 2449 8.1.1) */
	POP3_ANSWER_TEMP,	 /* try again later (RFC 3206 SYS/TEMP) */
	POP3_ANSWER_PERM,	 /* will not work without help (SYS/PERM) */
	POP3_ANSWER_GONE,	 /* the message was removed by someone else */
};

struct pop3_answer {
	enum pop3_status status;
	struct pop3_listing *listing; /* MAILDROP OK: the engine takes it */
	const void *data;	      /* READ OK: len bytes at the offset */
	size_t len;
};

struct pop3_session;
struct sasl_server;

/* peer_addr and id (the host's session id, for logs) are copied, and so
 * are the strings of st. */
struct pop3_session *pop3_session_new(const struct pop3_settings *st,
				      const char *peer_addr, const char *id);
void pop3_session_free(struct pop3_session **s);

/* Queue the +OK greeting (RFC 1939 section 4). */
void pop3_session_start(struct pop3_session *s);
/* Instead of pop3_session_start() for a peer over its connection limit:
 * queue "-ERR [SYS/TEMP] ..." (RFC 2449 8.1.2, RFC 3206 4) and ask to
 * be closed. */
void pop3_session_refuse(struct pop3_session *s);
/* Take received bytes; returns how many were taken: all of them unless a
 * request was raised. After STLS the host discards what is left
 * (RFC 2595 section 4: TLS starts right after the +OK's CRLF). */
size_t pop3_session_feed(struct pop3_session *s, const void *data, size_t len);
/* The host sends from here and buf_consume()s what it wrote. */
struct buf *pop3_session_output(struct pop3_session *s);
enum pop3_request pop3_session_request(const struct pop3_session *s);
/* Answer the pending request (a may be NULL for MORE and AUTH_DELAY). */
void pop3_session_resume(struct pop3_session *s, const struct pop3_answer *a);

/* The STLS handshake ended; on success the session starts over in
 * AUTHORIZATION with TLS (RFC 2595 section 4), else it asks to close. */
void pop3_session_tls_done(struct pop3_session *s, bool ok,
			   const char *tls_desc);
/* The server is going down: -ERR [SYS/TEMP] and close, no UPDATE. */
void pop3_session_shutdown(struct pop3_session *s);
/* The autologout timer fired: close without a reply and without UPDATE
 * (RFC 1939 section 3). */
void pop3_session_timeout(struct pop3_session *s);

/* PASS, APOP, MAILDROP: the user name; "" if none. */
const char *pop3_session_user(const struct pop3_session *s);
/* PASS: the password (len bytes, no NUL inside); wiped after resume. */
const char *pop3_session_password(const struct pop3_session *s, size_t *len);
/* APOP: the greeting's timestamp and the client's 32 hex digits. */
const char *pop3_session_apop_timestamp(const struct pop3_session *s);
const char *pop3_session_apop_digest(const struct pop3_session *s);
/* SASL_CREDENTIALS: the exchange; sasl_server_user() names the user. */
struct sasl_server *pop3_session_sasl(struct pop3_session *s);
/* Take the exchange away from the session (the host's pool job still
 * uses it while the session is being freed); the caller frees it. */
struct sasl_server *pop3_session_sasl_release(struct pop3_session *s);
/* READ: which message, from which byte of it as stored. */
uint32_t pop3_session_read_uid(const struct pop3_session *s);
uint64_t pop3_session_read_offset(const struct pop3_session *s);
/* UPDATE: the UIDs sent whole by RETR and not marked as deleted (none
 * unless retr_sets_seen), ascending; *n_r of them. */
const uint32_t *pop3_session_seen_uids(const struct pop3_session *s,
				       size_t *n_r);
/* UPDATE: the UIDs marked as deleted, ascending; *n_r of them. */
const uint32_t *pop3_session_deleted_uids(const struct pop3_session *s,
					  size_t *n_r);

bool pop3_session_tls_active(const struct pop3_session *s);
/* True in TRANSACTION (the maildrop is the session's). */
bool pop3_session_logged_in(const struct pop3_session *s);

#endif
