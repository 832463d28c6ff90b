/*
 * sasl_client.c - SASL PLAIN (RFC 4616 section 2) and LOGIN client
 * responses, base64 via lib/base64.h, and a SCRAM-SHA-256 client (RFC
 * 5802 sections 3, 5, 7; RFC 7677) on lib/scram.h (see sasl_client.h).
 */
#include "sasl_client.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "buf.h"
#include "scram.h"

static bool utf8_valid(const unsigned char *s, size_t n)
{
	return scram_utf8_valid(s, n);
}

int sasl_plain_response(const char *authzid, const char *user, const char *pass,
			char *out, size_t n)
{
	size_t za = authzid != NULL ? strlen(authzid) : 0;
	size_t zu = user != NULL ? strlen(user) : 0;
	size_t zp = pass != NULL ? strlen(pass) : 0;

	if (zu == 0 || zp == 0 ||
	    !utf8_valid((const unsigned char *)authzid, za) ||
	    !utf8_valid((const unsigned char *)user, zu) ||
	    !utf8_valid((const unsigned char *)pass, zp))
		return -1;
	if (za > SIZE_MAX / 4 || zu > SIZE_MAX / 4 || zp > SIZE_MAX / 4)
		return -1;
	size_t len = za + 1 + zu + 1 + zp;
	unsigned char *msg = malloc(len);
	if (msg == NULL)
		return -1;
	if (za > 0)
		memcpy(msg, authzid, za);
	msg[za] = '\0';
	memcpy(msg + za + 1, user, zu);
	msg[za + 1 + zu] = '\0';
	memcpy(msg + za + 2 + zu, pass, zp);
	int rc = base64_encode(msg, len, out, n);
	/* the message holds the password: do not leave it in freed memory */
	explicit_bzero(msg, len);
	free(msg);
	return rc;
}

int sasl_login_encode(const char *s, char *out, size_t n)
{
	if (s == NULL)
		return -1;
	return base64_encode(s, strlen(s), out, n);
}

/* ---- SCRAM-SHA-256 ---------------------------------------------------- */

enum scram_client_state { SC_NEW, SC_FIRST_SENT, SC_FINAL_SENT, SC_DONE };

struct sasl_scram_client {
	enum scram_client_state state;
	char *authzid; /* NULL: none */
	char *user;
	char *password;
	char *nonce;		 /* c-nonce */
	struct buf auth_message; /* grows as messages pass */
	struct buf gs2_header;	 /* "n,," or "n,a=...," */
	unsigned char server_sig[SCRAM_HASH_LEN];
	const char *error;
	char *server_error; /* the server's e= value */
};

static char *dup_prepared(const char *s)
{
	if (s == NULL || scram_saslprep(s, strlen(s)) != SCRAM_PREP_OK) {
		errno = EINVAL;
		return NULL;
	}
	return strdup(s);
}

struct sasl_scram_client *sasl_scram_client_new(const char *authzid,
						const char *user,
						const char *password,
						const char *nonce)
{
	struct sasl_scram_client *c = calloc(1, sizeof(*c));
	char fresh[SCRAM_NONCE_LEN + 1];

	if (c == NULL)
		return NULL;
	buf_init(&c->auth_message, 64 * 1024);
	buf_init(&c->gs2_header, 4096);
	c->error = "";
	errno = 0;
	if (nonce == NULL && scram_nonce(fresh, sizeof(fresh)) == 0)
		nonce = fresh;
	if (nonce == NULL || !scram_printable(nonce, strlen(nonce)) ||
	    (authzid != NULL && authzid[0] != '\0' &&
	     (c->authzid = dup_prepared(authzid)) == NULL) ||
	    (c->user = dup_prepared(user)) == NULL ||
	    (c->password = dup_prepared(password)) == NULL ||
	    (c->nonce = strdup(nonce)) == NULL) {
		int err = nonce == NULL	    ? EIO
			  : errno == ENOMEM ? ENOMEM
					    : EINVAL;
		sasl_scram_client_free(&c);
		errno = err;
	}
	return c;
}

static int client_fail(struct sasl_scram_client *c, const char *why)
{
	c->error = why;
	c->state = SC_DONE;
	if (c->password != NULL) {
		OPENSSL_cleanse(c->password, strlen(c->password));
		free(c->password);
		c->password = NULL;
	}
	return -1;
}

/* gs2-header "n," [authzid] "," then n=user,r=nonce */
int sasl_scram_client_first(struct sasl_scram_client *c, struct buf *out)
{
	size_t bare_at;

	buf_clear(out);
	if (c->state != SC_NEW)
		return client_fail(c, "client-first-message out of order");
	if (buf_append_str(&c->gs2_header, "n,") != 0 ||
	    (c->authzid != NULL &&
	     (buf_append_str(&c->gs2_header, "a=") != 0 ||
	      scram_saslname_encode(&c->gs2_header, c->authzid) != 0)) ||
	    buf_append_str(&c->gs2_header, ",") != 0 ||
	    buf_append(out, buf_data(&c->gs2_header),
		       buf_len(&c->gs2_header)) != 0)
		return client_fail(c, "message too long, or out of memory");
	bare_at = buf_len(out);
	if (buf_append_str(out, "n=") != 0 ||
	    scram_saslname_encode(out, c->user) != 0 ||
	    buf_printf(out, ",r=%s", c->nonce) != 0 ||
	    buf_append(&c->auth_message, buf_data(out) + bare_at,
		       buf_len(out) - bare_at) != 0 ||
	    buf_append_str(&c->auth_message, ",") != 0)
		return client_fail(c, "message too long, or out of memory");
	c->state = SC_FIRST_SENT;
	return 0;
}

/* Checks server-first-message (section 5.1 "r": it must extend our
 * nonce) and adds it to AuthMessage. */
static int take_server_first(struct sasl_scram_client *c, const void *msg,
			     size_t len, struct scram_server_first *m)
{
	enum scram_error e = scram_read_server_first(msg, len, m);
	size_t n = strlen(c->nonce);

	if (e == SCRAM_E_EXTENSIONS_NOT_SUPPORTED)
		return client_fail(c, "server sent an 'm' extension");
	if (e != SCRAM_OK)
		return client_fail(c, "malformed server-first-message");
	if (m->nonce.len <= n || memcmp(m->nonce.p, c->nonce, n) != 0)
		return client_fail(c, "server nonce does not extend ours");
	if (buf_append(&c->auth_message, msg, len) != 0 ||
	    buf_append_str(&c->auth_message, ",") != 0)
		return client_fail(c, "message too long, or out of memory");
	return 0;
}

/* The proof of section 3 over AuthMessage; keeps ServerSignature. */
static int client_proof(struct sasl_scram_client *c,
			const struct scram_server_first *m,
			unsigned char proof[SCRAM_HASH_LEN])
{
	unsigned char salted[SCRAM_HASH_LEN], ck[SCRAM_HASH_LEN];
	unsigned char sk[SCRAM_HASH_LEN], svk[SCRAM_HASH_LEN];
	const unsigned char *am = buf_data(&c->auth_message);
	size_t am_len = buf_len(&c->auth_message);
	int rc = -1;

	if (scram_hi(c->password, strlen(c->password), m->salt, m->salt_len,
		     m->iterations, salted) == 0 &&
	    scram_keys(salted, ck, sk, svk) == 0 &&
	    scram_hmac(sk, am, am_len, proof) == 0 &&
	    scram_hmac(svk, am, am_len, c->server_sig) == 0) {
		scram_xor(proof, ck, proof);
		rc = 0;
	}
	OPENSSL_cleanse(salted, sizeof(salted));
	OPENSSL_cleanse(ck, sizeof(ck));
	OPENSSL_cleanse(sk, sizeof(sk));
	OPENSSL_cleanse(svk, sizeof(svk));
	return rc;
}

int sasl_scram_client_final(struct sasl_scram_client *c,
			    const void *server_first, size_t len,
			    struct buf *out)
{
	struct scram_server_first m;
	unsigned char proof[SCRAM_HASH_LEN];
	int rc;

	buf_clear(out);
	if (c->state != SC_FIRST_SENT)
		return client_fail(c, "client-final-message out of order");
	if (take_server_first(c, server_first, len, &m) != 0)
		return -1;
	/* client-final-message-without-proof: c=biws-like, r=nonce */
	if (buf_append_str(out, "c=") != 0 ||
	    scram_append_base64(out, buf_data(&c->gs2_header),
				buf_len(&c->gs2_header)) != 0 ||
	    buf_append_str(out, ",r=") != 0 ||
	    buf_append(out, m.nonce.p, m.nonce.len) != 0 ||
	    buf_append(&c->auth_message, buf_data(out), buf_len(out)) != 0)
		return client_fail(c, "message too long, or out of memory");
	rc = client_proof(c, &m, proof);
	if (rc == 0 && (buf_append_str(out, ",p=") != 0 ||
			scram_append_base64(out, proof, sizeof(proof)) != 0))
		rc = -1;
	OPENSSL_cleanse(proof, sizeof(proof));
	if (rc != 0)
		return client_fail(c, "cannot compute the proof");
	client_fail(c, ""); /* the password is no longer needed */
	c->state = SC_FINAL_SENT;
	return 0;
}

int sasl_scram_client_verify(struct sasl_scram_client *c,
			     const void *server_final, size_t len)
{
	struct scram_server_final m;
	enum scram_error e;

	if (c->state != SC_FINAL_SENT)
		return client_fail(c, "server-final-message out of order");
	e = scram_read_server_final(server_final, len, &m);
	if (e != SCRAM_OK)
		return client_fail(c, "malformed server-final-message");
	if (m.error.len > 0) {
		free(c->server_error);
		c->server_error = strndup(m.error.p, m.error.len);
		return client_fail(c, c->server_error != NULL
					      ? c->server_error
					      : "server sent an error");
	}
	if (CRYPTO_memcmp(m.verifier, c->server_sig, SCRAM_HASH_LEN) != 0)
		return client_fail(c, "server signature does not match");
	c->state = SC_DONE;
	c->error = "";
	return 0;
}

const char *sasl_scram_client_error(const struct sasl_scram_client *c)
{
	return c->error;
}

void sasl_scram_client_free(struct sasl_scram_client **cp)
{
	struct sasl_scram_client *c = *cp;

	if (c == NULL)
		return;
	client_fail(c, "");
	if (c->auth_message.data != NULL)
		OPENSSL_cleanse(c->auth_message.data, c->auth_message.cap);
	buf_free(&c->auth_message);
	buf_free(&c->gs2_header);
	OPENSSL_cleanse(c->server_sig, sizeof(c->server_sig));
	free(c->authzid);
	free(c->user);
	free(c->nonce);
	free(c->server_error);
	free(c);
	*cp = NULL;
}
