/*
 * sasl_server.h - the server side of SASL (RFC 4422), the one that SMTP
 * AUTH (RFC 4954), POP3 AUTH (RFC 5034) and IMAP AUTHENTICATE (RFC 3501
 * 6.2.2) share. Mechanisms: SCRAM-SHA-256 (RFC 5802, RFC 7677), PLAIN
 * (RFC 4616) and LOGIN (draft-murchison-sasl-login; no RFC).
 *
 * Sans I/O and protocol-neutral: the protocol engine decodes the client's
 * base64 and handles its "*" (cancel); the mechanism sees decoded bytes
 * and gives decoded challenges. Checking a password needs the user's
 * passwd-file entry: the mechanism asks the host for it, and the slow
 * work (crypt, PBKDF2) happens in sasl_server_set_credentials(), which a
 * host with a thread pool runs there.
 *
 *	s = sasl_server_new(mech, &settings);	   NULL: see below
 *	r = sasl_server_step(s, ir, ir_len, have_ir, &out);
 *	SASL_CONTINUE	      send out as a challenge; step() with the answer
 *	SASL_NEED_CREDENTIALS look up sasl_server_user(s), then
 *			      sasl_server_set_credentials(s, entry or NULL, opt)
 *			      and step(s, NULL, 0, false, &out)
 *	SASL_SUCCESS	      logged in as sasl_server_user(s); out holds
 *			      additional data if not empty (SCRAM's "v="),
 *			      which each protocol sends in its own way
 *	SASL_FAIL	      see sasl_server_fail_reason()
 *	sasl_server_free(&s);
 *
 * Unknown users and wrong passwords fail alike, after the same steps and
 * with the same work: PLAIN and LOGIN crypt a dummy setting
 * (passwd_verify_entry()); SCRAM answers an unknown user with a salt
 * derived from the user name and a per-process secret and the usual
 * iteration count, the same on every attempt, and fails at the proof
 * (RFC 5802 section 5.1, "unknown-user" is never sent). SCRAM also needs
 * {SCRAM-SHA-256} keys: for users with another scheme it runs the same
 * mock exchange and fails with SASL_FAIL_CREDENTIALS_UNUSABLE.
 *
 * Authorization identities: PLAIN's authzid and SCRAM's "a=" must be
 * empty or equal to the authentication identity (no proxy login);
 * anything else fails with SASL_FAIL_AUTHZID, checked after the password,
 * as RFC 4616 section 2 orders it.
 *
 * User names are prepared with SASLprep (RFC 4013); only ASCII is
 * implemented (lib/scram.h): control characters are refused
 * (SASL_FAIL_SYNTAX), other non-ASCII names fail with
 * SASL_FAIL_UNSUPPORTED. PLAIN and LOGIN pass the password on as it came
 * (RFC 4616 allows other preparations); the {SCRAM-SHA-256} scheme
 * normalizes it itself. Channel binding is not implemented: no -PLUS
 * mechanism is offered, a client's "y" flag is accepted (section 6) and
 * "p=" fails with SASL_FAIL_UNSUPPORTED.
 */
#ifndef QUILL_SASL_SERVER_H
#define QUILL_SASL_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "passwd.h"

/* Longest client message, decoded, by default. RFC 4954 section 4 lets
 * a server refuse AUTH lines over 12288 octets of base64 (9216 bytes). */
#define SASL_SERVER_MESSAGE_MAX 8192

struct sasl_server_settings {
	/* PLAIN and LOGIN may run now: false before TLS unless the config
	 * allows plaintext logins (RFC 4954 section 4, RFC 8314). */
	bool plaintext_allowed;
	/* Longest client message (decoded); 0: SASL_SERVER_MESSAGE_MAX. */
	size_t max_message;
	/* SCRAM: the iteration count announced for users without usable
	 * keys, and the least accepted from stored keys (fewer: the
	 * credentials are unusable). 0: SCRAM_ITERATIONS_DEFAULT (4096,
	 * RFC 7677 section 3). Only fuzzers and tests go lower. */
	unsigned scram_iterations;
	/* Test hook: the server part of the SCRAM nonce, instead of
	 * SCRAM_NONCE_LEN random characters. NULL in production. */
	const char *test_nonce;
};

enum sasl_step {
	SASL_CONTINUE,
	SASL_NEED_CREDENTIALS,
	SASL_SUCCESS,
	SASL_FAIL,
	SASL_CANCELLED,
};

/* Why SASL_FAIL, and how SMTP (RFC 4954 6, RFC 3463) may answer. */
enum sasl_fail_reason {
	SASL_FAIL_NONE = 0,
	SASL_FAIL_SYNTAX,   /* malformed client message: 501 5.5.2 */
	SASL_FAIL_TOO_LONG, /* over max_message: 500 5.5.6 */
	SASL_FAIL_AUTH,	    /* unknown user or wrong password: 535 5.7.8 */
	SASL_FAIL_AUTHZID,  /* authzid is not the user: 535 5.7.8 */
	SASL_FAIL_MECH_NOT_ALLOWED, /* plaintext before TLS: 538 5.7.11 */
	/* The user exists, but their scheme can not serve this mechanism
	 * (SCRAM for a crypt hash, PLAIN not allowed, too few iterations).
	 * Log it; answer as SASL_FAIL_AUTH, which the client saw happen. */
	SASL_FAIL_CREDENTIALS_UNUSABLE,
	SASL_FAIL_UNSUPPORTED, /* non-ASCII name, channel binding: 535 */
	SASL_FAIL_INTERNAL,    /* out of memory, crypto: 454 4.7.0 */
};

struct sasl_server;

/* The mechanisms to advertise, strongest first, NULL-terminated:
 * SCRAM-SHA-256, and PLAIN and LOGIN if plaintext_allowed. */
const char *const *sasl_server_mechanisms(bool plaintext_allowed);

/* A new exchange for mech (case-insensitive). NULL with errno ENOENT for
 * a mechanism not implemented here (SMTP: 504 5.5.4), EINVAL for bad
 * settings, or ENOMEM. A plaintext mechanism that is not allowed is
 * made, and its first step fails with SASL_FAIL_MECH_NOT_ALLOWED. st is
 * copied; test_nonce must outlive s. */
struct sasl_server *sasl_server_new(const char *mech,
				    const struct sasl_server_settings *st);

/*
 * Advances the exchange. The first call passes the initial response, if
 * the client sent one: have_initial_response tells an empty one ("=")
 * from none; later calls pass the client's answer (the flag is then
 * ignored) or, after SASL_NEED_CREDENTIALS, nothing. challenge_out is
 * emptied, then filled as described at the top (it stays empty on
 * SASL_FAIL); if it can not hold the challenge the step fails with
 * SASL_FAIL_INTERNAL. After SASL_SUCCESS,
 * SASL_FAIL or SASL_CANCELLED every step fails with SASL_FAIL_INTERNAL.
 */
enum sasl_step sasl_server_step(struct sasl_server *s, const void *in,
				size_t in_len, bool have_initial_response,
				struct buf *challenge_out);

/* The prepared authentication identity, once known (at
 * SASL_NEED_CREDENTIALS and after); else NULL. */
const char *sasl_server_user(const struct sasl_server *s);
/* The authorization identity the client asked for; NULL if none. */
const char *sasl_server_authzid(const struct sasl_server *s);

/*
 * The answer to SASL_NEED_CREDENTIALS: e is sasl_server_user()'s entry,
 * or NULL if there is none; opt as for passwd_verify(). e is only read
 * during the call. PLAIN and LOGIN verify the password here (and wipe
 * it); SCRAM takes the stored keys. Returns 0, or -1 with EINVAL if no
 * credentials were asked for or e is another user's entry (the next step
 * then fails with SASL_FAIL_INTERNAL).
 */
int sasl_server_set_credentials(struct sasl_server *s,
				const struct passwd_entry *e,
				const struct passwd_options *opt);

/* The client cancelled ("*" on the wire, RFC 4422 3.5): ends the
 * exchange, wipes its secrets, returns SASL_CANCELLED. */
enum sasl_step sasl_server_cancel(struct sasl_server *s);

/* After SASL_FAIL: why, and a detail for the log (never for the client:
 * it may tell an unknown user from a wrong password). */
enum sasl_fail_reason sasl_server_fail_reason(const struct sasl_server *s);
const char *sasl_server_fail_detail(const struct sasl_server *s);
const char *sasl_fail_reason_str(enum sasl_fail_reason r);

/* The mechanism's name, upper case. */
const char *sasl_server_mech(const struct sasl_server *s);

/* Ends the exchange, wipes every secret (OPENSSL_cleanse) and frees s;
 * *s becomes NULL. */
void sasl_server_free(struct sasl_server **s);

#endif
