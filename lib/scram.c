/*
 * scram.c - SCRAM-SHA-256 crypto, mock credentials, message readers and
 * the ASCII subset of SASLprep (see scram.h).
 *
 * RFC 5802 section 2.2 (Hi, HMAC, H), 3 (the keys), 5.1 (attributes,
 * saslname escaping, the 'm' attribute), 7 (the grammar); RFC 7677
 * section 3 (SHA-256, 4096 iterations); RFC 4013 sections 2.1-2.5 for
 * ASCII. OpenSSL 3: PKCS5_PBKDF2_HMAC(), HMAC(), EVP_Digest(),
 * RAND_bytes(). Every intermediate secret is cleansed before returning.
 */
#include "scram.h"

#include <errno.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "buf.h"

/* ---- strings ---------------------------------------------------------- */

bool scram_utf8_valid(const void *s, size_t n)
{
	const unsigned char *p = s;
	size_t i = 0;

	while (i < n) {
		unsigned char b = p[i], lo = 0x80, hi = 0xbf;
		size_t more;

		if (b < 0x80) {
			i++;
			continue;
		}
		if (b >= 0xc2 && b <= 0xdf) {
			more = 1;
		} else if (b >= 0xe0 && b <= 0xef) {
			more = 2;
			lo = b == 0xe0 ? 0xa0 : 0x80;
			hi = b == 0xed ? 0x9f : 0xbf;
		} else if (b >= 0xf0 && b <= 0xf4) {
			more = 3;
			lo = b == 0xf0 ? 0x90 : 0x80;
			hi = b == 0xf4 ? 0x8f : 0xbf;
		} else {
			return false;
		}
		if (n - i - 1 < more || p[i + 1] < lo || p[i + 1] > hi)
			return false;
		for (size_t k = 2; k <= more; k++)
			if (p[i + k] < 0x80 || p[i + k] > 0xbf)
				return false;
		i += more + 1;
	}
	return true;
}

enum scram_prep scram_saslprep(const void *s, size_t n)
{
	const unsigned char *p = s;
	bool ascii = true;

	if (!scram_utf8_valid(p, n))
		return SCRAM_PREP_BAD_UTF8;
	for (size_t i = 0; i < n; i++) {
		if (p[i] >= 0x80)
			ascii = false;
		else if (p[i] < 0x20 || p[i] == 0x7f) /* RFC 3454 C.2.1 */
			return SCRAM_PREP_PROHIBITED;
	}
	if (!ascii)
		return SCRAM_PREP_NON_ASCII;
	return n == 0 ? SCRAM_PREP_EMPTY : SCRAM_PREP_OK;
}

const char *scram_prep_str(enum scram_prep r)
{
	static const char *const names[] = {
		[SCRAM_PREP_OK] = "ok",
		[SCRAM_PREP_EMPTY] = "empty",
		[SCRAM_PREP_BAD_UTF8] = "not UTF-8",
		[SCRAM_PREP_PROHIBITED] =
			"control character (prohibited by SASLprep)",
		[SCRAM_PREP_NON_ASCII] =
			"non-ASCII characters are not supported (SASLprep)",
	};

	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r]
							      : "unknown";
}

bool scram_printable(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e || s[i] == ',')
			return false;
	return true;
}

/* ---- crypto ----------------------------------------------------------- */

int scram_hi(const void *str, size_t len, const unsigned char *salt,
	     size_t salt_len, unsigned iterations,
	     unsigned char out[SCRAM_HASH_LEN])
{
	if (len > INT_MAX || salt_len > INT_MAX || iterations == 0 ||
	    iterations > SCRAM_ITERATIONS_MAX) {
		errno = EINVAL;
		return -1;
	}
	/* Hi() is PBKDF2 (RFC 8018 5.2) with dkLen = hLen: U1 is
	 * HMAC(str, salt + INT(1)), as RFC 5802 2.2 defines it. */
	if (PKCS5_PBKDF2_HMAC(len > 0 ? str : "", (int)len, salt, (int)salt_len,
			      (int)iterations, EVP_sha256(), SCRAM_HASH_LEN,
			      out) != 1) {
		errno = EIO;
		return -1;
	}
	return 0;
}

int scram_hmac(const unsigned char key[SCRAM_HASH_LEN], const void *data,
	       size_t len, unsigned char out[SCRAM_HASH_LEN])
{
	unsigned int out_len = 0;

	if (HMAC(EVP_sha256(), key, SCRAM_HASH_LEN,
		 len > 0 ? data : (const void *)"", len, out,
		 &out_len) == NULL ||
	    out_len != SCRAM_HASH_LEN) {
		errno = EIO;
		return -1;
	}
	return 0;
}

int scram_h(const void *data, size_t len, unsigned char out[SCRAM_HASH_LEN])
{
	unsigned int out_len = 0;

	if (!EVP_Digest(data, len, out, &out_len, EVP_sha256(), NULL) ||
	    out_len != SCRAM_HASH_LEN) {
		errno = EIO;
		return -1;
	}
	return 0;
}

void scram_xor(unsigned char *out, const unsigned char *a,
	       const unsigned char *b)
{
	for (size_t i = 0; i < SCRAM_HASH_LEN; i++)
		out[i] = a[i] ^ b[i];
}

int scram_keys(const unsigned char salted[SCRAM_HASH_LEN],
	       unsigned char client_key[SCRAM_HASH_LEN],
	       unsigned char stored_key[SCRAM_HASH_LEN],
	       unsigned char server_key[SCRAM_HASH_LEN])
{
	unsigned char ck[SCRAM_HASH_LEN];
	int rc = -1;

	if (scram_hmac(salted, "Client Key", 10, ck) == 0 &&
	    scram_h(ck, sizeof(ck), stored_key) == 0 &&
	    scram_hmac(salted, "Server Key", 10, server_key) == 0)
		rc = 0;
	if (rc == 0 && client_key != NULL)
		memcpy(client_key, ck, sizeof(ck));
	OPENSSL_cleanse(ck, sizeof(ck));
	return rc;
}

/* ---- stored credentials ----------------------------------------------- */

int scram_creds_derive(const char *password, size_t len,
		       const unsigned char *salt, size_t salt_len,
		       unsigned iterations, struct scram_creds *out)
{
	unsigned char salted[SCRAM_HASH_LEN];
	int rc;

	if (scram_saslprep(password, len) != SCRAM_PREP_OK || salt_len == 0 ||
	    salt_len > SCRAM_SALT_MAX) {
		errno = EINVAL;
		return -1;
	}
	out->iterations = iterations;
	out->salt_len = salt_len;
	memmove(out->salt, salt, salt_len);
	rc = scram_hi(password, len, salt, salt_len, iterations, salted);
	if (rc == 0)
		rc = scram_keys(salted, NULL, out->stored_key, out->server_key);
	OPENSSL_cleanse(salted, sizeof(salted));
	return rc;
}

bool scram_parse_iterations(const char *p, size_t n, unsigned *out)
{
	unsigned long v = 0;

	if (n == 0 || p[0] < '1' || p[0] > '9')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(p[i] - '0');
		if (v > SCRAM_ITERATIONS_MAX)
			return false;
	}
	*out = (unsigned)v;
	return true;
}

/* Base64 of exactly want bytes (or, if want is 0, 1..max bytes). */
static bool decode_b64(struct scram_str s, unsigned char *out, size_t max,
		       size_t want, size_t *len_r)
{
	size_t len = 0;

	if (base64_decode(s.p, s.len, out, max, &len) != 0 || len == 0 ||
	    (want != 0 && len != want))
		return false;
	if (len_r != NULL)
		*len_r = len;
	return true;
}

void scram_creds_wipe(struct scram_creds *c)
{
	OPENSSL_cleanse(c, sizeof(*c));
}

/* ---- mock credentials (section 5.1 "unknown-user" never sent) ---------- */

static CRYPTO_ONCE mock_once = CRYPTO_ONCE_STATIC_INIT;
static unsigned char mock_secret[SCRAM_HASH_LEN];
static bool mock_ready;

static void mock_init(void)
{
	mock_ready = RAND_bytes(mock_secret, sizeof(mock_secret)) == 1;
}

int scram_mock_salt(const char *user, unsigned char salt[SCRAM_SALT_LEN])
{
	unsigned char mac[SCRAM_HASH_LEN];
	size_t n = strlen(user);
	char *in = malloc(n + 6);
	int rc = -1;

	if (in == NULL)
		return -1;
	memcpy(in, "salt", 5); /* with its NUL: no user name has one */
	memcpy(in + 5, user, n);
	if (!CRYPTO_THREAD_run_once(&mock_once, mock_init) || !mock_ready)
		errno = EIO;
	else if (scram_hmac(mock_secret, in, n + 5, mac) == 0)
		rc = 0;
	if (rc == 0)
		memcpy(salt, mac, SCRAM_SALT_LEN);
	OPENSSL_cleanse(mac, sizeof(mac));
	free(in);
	return rc;
}

/* ---- message readers -------------------------------------------------- */

const char *scram_error_str(enum scram_error e)
{
	static const char *const names[] = {
		[SCRAM_OK] = "ok",
		[SCRAM_E_INVALID_ENCODING] = "invalid-encoding",
		[SCRAM_E_EXTENSIONS_NOT_SUPPORTED] = "extensions-not-supported",
		[SCRAM_E_INVALID_PROOF] = "invalid-proof",
		[SCRAM_E_CHANNEL_BINDINGS_DONT_MATCH] =
			"channel-bindings-dont-match",
		[SCRAM_E_CHANNEL_BINDING_NOT_SUPPORTED] =
			"channel-binding-not-supported",
		[SCRAM_E_UNKNOWN_USER] = "unknown-user",
		[SCRAM_E_INVALID_USERNAME_ENCODING] =
			"invalid-username-encoding",
		[SCRAM_E_OTHER_ERROR] = "other-error",
	};

	if ((unsigned)e < sizeof(names) / sizeof(names[0]))
		return names[e];
	return "other-error";
}

/* What is left of a message. */
struct cursor {
	const char *p, *end;
};

static bool at_end(const struct cursor *c)
{
	return c->p == c->end;
}

static bool take_char(struct cursor *c, char ch)
{
	if (at_end(c) || *c->p != ch)
		return false;
	c->p++;
	return true;
}

/* The bytes up to the next ',' or the end (not consumed). */
static struct scram_str take_value(struct cursor *c)
{
	const char *q = memchr(c->p, ',', (size_t)(c->end - c->p));
	struct scram_str v = {c->p, 0};

	if (q == NULL)
		q = c->end;
	v.len = (size_t)(q - c->p);
	c->p = q;
	return v;
}

/* "<name>=" value, where value = 1*value-char. */
static bool take_attr(struct cursor *c, char name, struct scram_str *v)
{
	if (c->end - c->p < 2 || c->p[0] != name || c->p[1] != '=')
		return false;
	c->p += 2;
	*v = take_value(c);
	return v->len > 0;
}

static bool is_alpha(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/* An 'm' attribute right here? (RFC 5802 5.1: it must fail.) */
static bool peek_m(const struct cursor *c)
{
	return c->end - c->p >= 2 && c->p[0] == 'm' && c->p[1] == '=';
}

/* Every ',' attr-val up to the end, or up to a "," stop "=" attribute
 * (stop 0: none). Unknown optional extensions are ignored; an attribute
 * of this document out of its place is a syntax error. */
static enum scram_error skip_extensions(struct cursor *c, char stop)
{
	struct scram_str v;

	while (!at_end(c)) {
		if (!take_char(c, ','))
			return SCRAM_E_INVALID_ENCODING;
		if (stop != 0 && c->end - c->p >= 2 && c->p[0] == stop &&
		    c->p[1] == '=')
			return SCRAM_OK;
		if (peek_m(c))
			return SCRAM_E_EXTENSIONS_NOT_SUPPORTED;
		if (at_end(c) || !is_alpha(c->p[0]) ||
		    strchr("anrcspvie", c->p[0]) != NULL ||
		    !take_attr(c, c->p[0], &v))
			return SCRAM_E_INVALID_ENCODING;
	}
	return stop == 0 ? SCRAM_OK : SCRAM_E_INVALID_ENCODING;
}

/* A whole message: UTF-8 without NUL (value-char, section 7). */
static bool start(struct cursor *c, const void *msg, size_t len)
{
	c->p = msg;
	c->end = c->p + len;
	return len > 0 && memchr(msg, '\0', len) == NULL &&
	       scram_utf8_valid(msg, len);
}

/* saslname = 1*(value-safe-char / "=2C" / "=3D") */
static bool saslname_ok(struct scram_str s)
{
	for (size_t i = 0; i < s.len; i++)
		if (s.p[i] == '=' &&
		    (s.len - i < 3 || (memcmp(s.p + i, "=2C", 3) != 0 &&
				       memcmp(s.p + i, "=3D", 3) != 0)))
			return false;
	return s.len > 0;
}

/* cb-name = 1*(ALPHA / DIGIT / "." / "-") */
static bool cb_name_ok(struct scram_str s)
{
	for (size_t i = 0; i < s.len; i++)
		if (!is_alpha(s.p[i]) && !(s.p[i] >= '0' && s.p[i] <= '9') &&
		    s.p[i] != '.' && s.p[i] != '-')
			return false;
	return s.len > 0;
}

/* gs2-header = gs2-cbind-flag "," [ authzid ] "," */
static enum scram_error read_gs2_header(struct cursor *c,
					struct scram_client_first *out)
{
	const char *begin = c->p;

	if (at_end(c) || strchr("nyp", *c->p) == NULL)
		return SCRAM_E_INVALID_ENCODING; /* section 5: MUST fail */
	out->cbind = *c->p;
	if (out->cbind == 'p') {
		if (!take_attr(c, 'p', &out->cb_name) ||
		    !cb_name_ok(out->cb_name))
			return SCRAM_E_INVALID_ENCODING;
	} else {
		c->p++;
	}
	if (!take_char(c, ','))
		return SCRAM_E_INVALID_ENCODING;
	if (!at_end(c) && *c->p != ',') {
		if (!take_attr(c, 'a', &out->authzid))
			return SCRAM_E_INVALID_ENCODING;
		if (!saslname_ok(out->authzid))
			return SCRAM_E_INVALID_USERNAME_ENCODING;
	}
	if (!take_char(c, ','))
		return SCRAM_E_INVALID_ENCODING;
	out->gs2_header = (struct scram_str){begin, (size_t)(c->p - begin)};
	return SCRAM_OK;
}

enum scram_error scram_read_client_first(const void *msg, size_t len,
					 struct scram_client_first *out)
{
	struct cursor c;
	enum scram_error e;

	memset(out, 0, sizeof(*out));
	if (!start(&c, msg, len))
		return SCRAM_E_INVALID_ENCODING;
	if ((e = read_gs2_header(&c, out)) != SCRAM_OK)
		return e;
	out->bare = (struct scram_str){c.p, (size_t)(c.end - c.p)};
	if (peek_m(&c))
		return SCRAM_E_EXTENSIONS_NOT_SUPPORTED;
	if (!take_attr(&c, 'n', &out->user))
		return SCRAM_E_INVALID_ENCODING;
	if (!saslname_ok(out->user))
		return SCRAM_E_INVALID_USERNAME_ENCODING;
	if (!take_char(&c, ',') || !take_attr(&c, 'r', &out->nonce) ||
	    !scram_printable(out->nonce.p, out->nonce.len))
		return SCRAM_E_INVALID_ENCODING;
	return skip_extensions(&c, 0);
}

enum scram_error scram_read_server_first(const void *msg, size_t len,
					 struct scram_server_first *out)
{
	struct scram_str salt, iter;
	struct cursor c;

	memset(out, 0, sizeof(*out));
	if (!start(&c, msg, len))
		return SCRAM_E_INVALID_ENCODING;
	if (peek_m(&c))
		return SCRAM_E_EXTENSIONS_NOT_SUPPORTED;
	if (!take_attr(&c, 'r', &out->nonce) ||
	    !scram_printable(out->nonce.p, out->nonce.len) ||
	    !take_char(&c, ',') || !take_attr(&c, 's', &salt) ||
	    !decode_b64(salt, out->salt, SCRAM_SALT_MAX, 0, &out->salt_len) ||
	    !take_char(&c, ',') || !take_attr(&c, 'i', &iter) ||
	    !scram_parse_iterations(iter.p, iter.len, &out->iterations))
		return SCRAM_E_INVALID_ENCODING;
	return skip_extensions(&c, 0);
}

enum scram_error scram_read_client_final(const void *msg, size_t len,
					 struct scram_client_final *out)
{
	struct scram_str proof;
	struct cursor c;
	enum scram_error e;

	memset(out, 0, sizeof(*out));
	if (!start(&c, msg, len))
		return SCRAM_E_INVALID_ENCODING;
	if (!take_attr(&c, 'c', &out->cbind) || !take_char(&c, ',') ||
	    !take_attr(&c, 'r', &out->nonce) ||
	    !scram_printable(out->nonce.p, out->nonce.len))
		return SCRAM_E_INVALID_ENCODING;
	if ((e = skip_extensions(&c, 'p')) != SCRAM_OK)
		return e;
	/* c.p is at "p=", after the ',' that ends without_proof */
	out->without_proof =
		(struct scram_str){msg, (size_t)(c.p - 1 - (const char *)msg)};
	if (!take_attr(&c, 'p', &proof) || !at_end(&c) ||
	    !decode_b64(proof, out->proof, SCRAM_HASH_LEN, SCRAM_HASH_LEN,
			NULL))
		return SCRAM_E_INVALID_ENCODING;
	return SCRAM_OK;
}

enum scram_error scram_read_server_final(const void *msg, size_t len,
					 struct scram_server_final *out)
{
	struct scram_str v;
	struct cursor c;

	memset(out, 0, sizeof(*out));
	if (!start(&c, msg, len))
		return SCRAM_E_INVALID_ENCODING;
	if (take_attr(&c, 'e', &out->error))
		return skip_extensions(&c, 0);
	if (!take_attr(&c, 'v', &v) ||
	    !decode_b64(v, out->verifier, SCRAM_HASH_LEN, SCRAM_HASH_LEN, NULL))
		return SCRAM_E_INVALID_ENCODING;
	return skip_extensions(&c, 0);
}

/* ---- saslname, base64, nonces ----------------------------------------- */

char *scram_saslname_decode(struct scram_str name, size_t *len_r)
{
	char *out;
	size_t n = 0;

	if (!saslname_ok(name)) {
		errno = EINVAL;
		return NULL;
	}
	out = malloc(name.len + 1);
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < name.len; i++) {
		if (name.p[i] == '=') {
			out[n++] = name.p[i + 1] == '2' ? ',' : '=';
			i += 2;
		} else {
			out[n++] = name.p[i];
		}
	}
	out[n] = '\0';
	*len_r = n;
	return out;
}

int scram_saslname_encode(struct buf *out, const char *s)
{
	for (; *s != '\0'; s++) {
		int rc = *s == ','   ? buf_append_str(out, "=2C")
			 : *s == '=' ? buf_append_str(out, "=3D")
				     : buf_append(out, s, 1);
		if (rc != 0)
			return -1;
	}
	return 0;
}

int scram_append_base64(struct buf *out, const void *in, size_t n)
{
	size_t len = base64_encoded_len(n);
	char *tmp;
	int rc = -1;

	if (len == SIZE_MAX) {
		errno = E2BIG;
		return -1;
	}
	tmp = malloc(len + 1);
	if (tmp == NULL)
		return -1;
	if (base64_encode(in, n, tmp, len + 1) == 0)
		rc = buf_append(out, tmp, len);
	free(tmp);
	return rc;
}

int scram_nonce(char *out, size_t n)
{
	unsigned char raw[SCRAM_NONCE_LEN / 4 * 3];

	if (n <= SCRAM_NONCE_LEN) {
		errno = ERANGE;
		return -1;
	}
	if (RAND_bytes(raw, sizeof(raw)) != 1 ||
	    base64_encode(raw, sizeof(raw), out, n) != 0) {
		errno = EIO;
		return -1;
	}
	return 0;
}
