/*
 * sasl_client.h - the client side of two SASL mechanisms: what a client
 * sends, base64-encoded (RFC 4648 section 4) as SMTP AUTH (RFC 4954) and
 * POP3 AUTH (RFC 5034) carry it.
 *
 * PLAIN, RFC 4616 section 2: message = [authzid] NUL authcid NUL passwd,
 * each field UTF-8 (RFC 3629) without NUL; authcid and passwd are
 * 1*SAFE, so neither may be empty. LOGIN has no RFC (the expired
 * draft-murchison-sasl-login): the client answers the server's two
 * challenges with the base64 user name, then the base64 password.
 *
 * SCRAM-SHA-256, RFC 5802 section 3, 5 and 7 with RFC 7677: a client
 * without channel binding (gs2 flag "n"). Unlike PLAIN and LOGIN, its
 * messages are given raw, not base64, into a struct buf (emptied first),
 * as the server side (sasl_server.h) takes them: the protocol engine
 * frames them. User name, authzid and password must pass SASLprep, of
 * which only ASCII is implemented (lib/scram.h). The client checks that
 * the server's nonce extends its own, refuses an 'm' attribute (5.1), an
 * iteration count over SCRAM_ITERATIONS_MAX (section 9: a hostile server
 * can ask for any amount of work) and a salt over SCRAM_SALT_MAX bytes,
 * and compares ServerSignature in constant time.
 */
#ifndef QUILL_SASL_CLIENT_H
#define QUILL_SASL_CLIENT_H

#include <stddef.h>

struct buf;

/*
 * The PLAIN initial response, base64, NUL-terminated into out (n bytes).
 * authzid may be NULL or "" for none. Returns 0, or -1 if a field is not
 * valid UTF-8, user or pass is empty, or out is too small (out is then
 * left untouched). C strings cannot hold a NUL, so the NUL separators stay
 * unambiguous.
 */
int sasl_plain_response(const char *authzid, const char *user, const char *pass,
			char *out, size_t n);

/* One LOGIN answer (user name or password): base64 of s, NUL-terminated
 * into out. An empty s gives "". 0, or -1 if s is NULL or out is too
 * small (out is then left untouched). */
int sasl_login_encode(const char *s, char *out, size_t n);

struct sasl_scram_client;

/* A SCRAM-SHA-256 exchange for user with password; authzid NULL or "" for
 * none; nonce NULL for SCRAM_NONCE_LEN random characters (tests pass the
 * RFC's; it must be 1*printable). NULL with errno EINVAL (a string
 * SASLprep refuses, a bad nonce), ENOMEM, or EIO (no random nonce). */
struct sasl_scram_client *sasl_scram_client_new(const char *authzid,
						const char *user,
						const char *password,
						const char *nonce);

/* client-first-message into out. 0, or -1 (see the error). */
int sasl_scram_client_first(struct sasl_scram_client *c, struct buf *out);

/* Reads server-first-message, computes the proof (this is where Hi()
 * runs) and puts client-final-message into out. 0, or -1. */
int sasl_scram_client_final(struct sasl_scram_client *c,
			    const void *server_first, size_t len,
			    struct buf *out);

/* Reads server-final-message: 0 if it carries the right verifier (the
 * server knows the ServerKey), else -1; a server's "e=" value is kept in
 * the error. */
int sasl_scram_client_verify(struct sasl_scram_client *c,
			     const void *server_final, size_t len);

/* Why the last call failed, for people; "" if none did. */
const char *sasl_scram_client_error(const struct sasl_scram_client *c);

/* Wipes the password and keys and frees c; *c becomes NULL. */
void sasl_scram_client_free(struct sasl_scram_client **c);

#endif
