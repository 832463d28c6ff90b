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
 */
#ifndef QUILL_SASL_CLIENT_H
#define QUILL_SASL_CLIENT_H

#include <stddef.h>

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

#endif
