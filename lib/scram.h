/*
 * scram.h - the pieces of SCRAM-SHA-256 (RFC 5802 with RFC 7677's SHA-256)
 * that the SASL server (sasl_server.c), the SASL client (sasl_client.c)
 * and the passwd-file scheme {SCRAM-SHA-256} (passwd_verify.c) share:
 *
 * - the functions of RFC 5802 section 2.2: Hi() (PBKDF2 with HMAC-SHA-256,
 *   RFC 8018), HMAC(), H() and XOR, and the keys of section 3;
 * - the keys a server stores (their text form, Dovecot's, is lib/passwd's
 *   business) and mock ones for users without keys;
 * - readers for the four messages of section 7, which check the syntax
 *   and return views into the message (no copies);
 * - saslname escaping (section 5.1: ',' is "=2C", '=' is "=3D");
 * - the ASCII subset of SASLprep (RFC 4013), used for user names and for
 *   Normalize(password). For ASCII input SASLprep maps nothing (its
 *   mappings, B.1 and C.1.2, and NFKC leave ASCII alone), prohibits only
 *   the control characters of C.2.1 (U+0000..U+001F, U+007F), and the
 *   bidi rules never apply. Anything beyond ASCII is refused as not
 *   supported (SCRAM_PREP_NON_ASCII) rather than prepared wrongly: full
 *   SASLprep needs the Unicode 3.2 tables of RFC 3454.
 *
 * Base64 here is lib/base64.h's strict, canonical decoding. Functions that
 * return int give 0, or -1 with errno set. The only state is the mock
 * secret, made once (CRYPTO_THREAD_run_once) and thread safe.
 */
#ifndef QUILL_SCRAM_H
#define QUILL_SCRAM_H

#include <stdbool.h>
#include <stddef.h>

struct buf;

#define SCRAM_HASH_LEN		 32	  /* SHA-256 output: keys, proofs */
#define SCRAM_SALT_LEN		 16	  /* bytes of salt in new credentials */
#define SCRAM_SALT_MAX		 64	  /* longest salt accepted */
#define SCRAM_ITERATIONS_DEFAULT 4096	  /* RFC 7677 section 3: at least */
#define SCRAM_ITERATIONS_MAX	 10000000 /* bound on the work asked */
#define SCRAM_NONCE_LEN		 32	  /* characters of a fresh nonce */

/* ---- strings ---------------------------------------------------------- */

/* RFC 3629 section 4: shortest forms only, no surrogates, <= U+10FFFF. */
bool scram_utf8_valid(const void *s, size_t n);

enum scram_prep {
	SCRAM_PREP_OK,	       /* prepared: the string is unchanged */
	SCRAM_PREP_EMPTY,      /* empty: callers must fail */
	SCRAM_PREP_BAD_UTF8,   /* not UTF-8 at all */
	SCRAM_PREP_PROHIBITED, /* an ASCII control character or NUL */
	SCRAM_PREP_NON_ASCII,  /* not supported: see the top of this file */
};

/* SASLprep (RFC 4013) of n bytes, as a query string (RFC 3454 7). */
enum scram_prep scram_saslprep(const void *s, size_t n);
const char *scram_prep_str(enum scram_prep r);

/* ---- crypto (RFC 5802 sections 2.2, 3) -------------------------------- */

/* Hi(str, salt, i); iterations 1..SCRAM_ITERATIONS_MAX. */
int scram_hi(const void *str, size_t len, const unsigned char *salt,
	     size_t salt_len, unsigned iterations,
	     unsigned char out[SCRAM_HASH_LEN]);
/* HMAC(key, data) with a key of SCRAM_HASH_LEN bytes. */
int scram_hmac(const unsigned char key[SCRAM_HASH_LEN], const void *data,
	       size_t len, unsigned char out[SCRAM_HASH_LEN]);
/* H(data) */
int scram_h(const void *data, size_t len, unsigned char out[SCRAM_HASH_LEN]);
/* out = a XOR b, SCRAM_HASH_LEN bytes; out may be a or b. */
void scram_xor(unsigned char *out, const unsigned char *a,
	       const unsigned char *b);
/* From SaltedPassword: ClientKey (client_key may be NULL), StoredKey and
 * ServerKey. */
int scram_keys(const unsigned char salted[SCRAM_HASH_LEN],
	       unsigned char client_key[SCRAM_HASH_LEN],
	       unsigned char stored_key[SCRAM_HASH_LEN],
	       unsigned char server_key[SCRAM_HASH_LEN]);

/* ---- keys ------------------------------------------------------------- */

struct scram_creds {
	unsigned iterations;
	size_t salt_len; /* 1..SCRAM_SALT_MAX */
	unsigned char salt[SCRAM_SALT_MAX];
	unsigned char stored_key[SCRAM_HASH_LEN];
	unsigned char server_key[SCRAM_HASH_LEN];
};

/* The credentials of password (len bytes, which must pass scram_saslprep:
 * EINVAL otherwise) for a given salt and iteration count. */
int scram_creds_derive(const char *password, size_t len,
		       const unsigned char *salt, size_t salt_len,
		       unsigned iterations, struct scram_creds *out);
/* Wipes c (OPENSSL_cleanse). */
void scram_creds_wipe(struct scram_creds *c);

/* The salt of a user without keys: the first SCRAM_SALT_LEN bytes of
 * HMAC(secret, "salt" NUL user), where the secret is RAND_bytes() made
 * once per process. The same user gets the same salt until a restart, as
 * a real one would, and a server-first-message that does not tell that
 * the user is unknown (RFC 5802 section 5.1 lets a server hide it). */
int scram_mock_salt(const char *user, unsigned char salt[SCRAM_SALT_LEN]);

/* ---- messages (RFC 5802 section 7) ------------------------------------ */

/* Bytes inside a message; not NUL-terminated. */
struct scram_str {
	const char *p;
	size_t len;
};

/* What went wrong, as the server-error-value names of section 7. */
enum scram_error {
	SCRAM_OK = 0,
	SCRAM_E_INVALID_ENCODING,
	SCRAM_E_EXTENSIONS_NOT_SUPPORTED, /* an 'm' attribute */
	SCRAM_E_INVALID_PROOF,
	SCRAM_E_CHANNEL_BINDINGS_DONT_MATCH,
	SCRAM_E_CHANNEL_BINDING_NOT_SUPPORTED,
	SCRAM_E_UNKNOWN_USER,
	SCRAM_E_INVALID_USERNAME_ENCODING,
	SCRAM_E_OTHER_ERROR,
};

/* "invalid-encoding", ...; "ok" for SCRAM_OK. */
const char *scram_error_str(enum scram_error e);

struct scram_client_first {
	char cbind;		     /* gs2-cbind-flag: 'n', 'y' or 'p' */
	struct scram_str cb_name;    /* after "p=" */
	struct scram_str gs2_header; /* both commas included */
	struct scram_str authzid;    /* escaped saslname; len 0: none */
	struct scram_str bare;	     /* client-first-message-bare */
	struct scram_str user;	     /* escaped saslname */
	struct scram_str nonce;	     /* c-nonce */
};

struct scram_server_first {
	struct scram_str nonce; /* c-nonce followed by s-nonce */
	size_t salt_len;
	unsigned char salt[SCRAM_SALT_MAX];
	unsigned iterations;
};

struct scram_client_final {
	struct scram_str cbind;		/* c=, still base64 */
	struct scram_str nonce;		/* r= */
	struct scram_str without_proof; /* everything before ",p=" */
	unsigned char proof[SCRAM_HASH_LEN];
};

struct scram_server_final {
	struct scram_str error; /* e=; len 0 if v= was sent */
	unsigned char verifier[SCRAM_HASH_LEN];
};

/*
 * Each reader checks the whole message against the grammar (UTF-8, no
 * NUL, attributes in their fixed order, unknown optional extensions
 * skipped as section 5.1 requires, any 'm' attribute refused with
 * SCRAM_E_EXTENSIONS_NOT_SUPPORTED) and fills out. A salt is 1 to
 * SCRAM_SALT_MAX bytes, an iteration count at most SCRAM_ITERATIONS_MAX,
 * a proof or verifier exactly SCRAM_HASH_LEN bytes.
 */
enum scram_error scram_read_client_first(const void *msg, size_t len,
					 struct scram_client_first *out);
enum scram_error scram_read_server_first(const void *msg, size_t len,
					 struct scram_server_first *out);
enum scram_error scram_read_client_final(const void *msg, size_t len,
					 struct scram_client_final *out);
enum scram_error scram_read_server_final(const void *msg, size_t len,
					 struct scram_server_final *out);

/* posit-number = %x31-39 *DIGIT, here 1..SCRAM_ITERATIONS_MAX. */
bool scram_parse_iterations(const char *p, size_t n, unsigned *out);

/* Unescapes a saslname into a new NUL-terminated string (*len_r bytes);
 * NULL with EINVAL if an '=' is not "=2C" or "=3D", or the name is empty. */
char *scram_saslname_decode(struct scram_str name, size_t *len_r);
/* Appends s escaped as a saslname. */
int scram_saslname_encode(struct buf *out, const char *s);

/* Appends the base64 of n bytes. */
int scram_append_base64(struct buf *out, const void *in, size_t n);

/* A fresh nonce of SCRAM_NONCE_LEN printable characters (RAND_bytes, then
 * base64, which has no ','), NUL-terminated into out (n > that). */
int scram_nonce(char *out, size_t n);

/* True if s is 1*printable: %x21-2B / %x2D-7E. */
bool scram_printable(const char *s, size_t n);

#endif
