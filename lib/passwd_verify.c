/*
 * passwd_verify.c - check and make password hashes for passwd.c's db.
 *
 * The schemes of passwd.h: which exist, which this libcrypt can do (asked
 * at run time), what their hashes look like; passwd_verify() and
 * passwd_hash(). How it works:
 *
 * - Verifying runs crypt_rn() with a struct crypt_data on the heap and
 *   compares with CRYPTO_memcmp() over two zero-padded buffers of the same
 *   size. An unknown user still costs one crypt_rn(), on a setting of the
 *   default scheme made with a random salt when the file was loaded
 *   (passwd_dummy_setting()), so that "no such user" and "wrong password"
 *   take the same time. PLAIN compares SHA-256 digests, so that the time
 *   does not depend on where the strings differ nor on their lengths.
 * - Hashing takes the salt from libxcrypt (getrandom()) and refuses a
 *   scheme whose settings this libcrypt would not use.
 * - SCRAM-SHA-256 (RFC 5802 section 3, RFC 7677) keeps StoredKey and
 *   ServerKey, in Dovecot's form (lib/scram.h). A plaintext password is
 *   checked by deriving both again with Hi() over the stored salt and
 *   count, compared with CRYPTO_memcmp(); hashing takes 16 random bytes
 *   of salt (RAND_bytes) and 4096 iterations (RFC 7677 section 3).
 */
#include "base64.h"
#include "passwd.h"
#include "passwd_private.h"
#include "scram.h"

#include <crypt.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum scheme_kind { SCHEME_CRYPT, SCHEME_PLAIN, SCHEME_SCRAM };

struct scheme {
	const char *name;
	enum scheme_kind kind;
	const char *gen_prefix;	 /* for crypt_gensalt_rn; NULL: any hash */
	const char *prefixes[4]; /* a hash must start with one; none: any */
};

static const struct scheme schemes[] = {
	{"SHA512-CRYPT", SCHEME_CRYPT, "$6$", {"$6$", NULL}},
	{"SHA256-CRYPT", SCHEME_CRYPT, "$5$", {"$5$", NULL}},
	{"BLF-CRYPT", SCHEME_CRYPT, "$2y$", {"$2y$", "$2b$", "$2a$", NULL}},
	{"YESCRYPT", SCHEME_CRYPT, "$y$", {"$y$", NULL}},
	{"CRYPT", SCHEME_CRYPT, NULL, {NULL}},
	{"PLAIN", SCHEME_PLAIN, NULL, {NULL}},
	{"CLEAR", SCHEME_PLAIN, NULL, {NULL}}, /* Dovecot's name for PLAIN */
	{"SCRAM-SHA-256", SCHEME_SCRAM, NULL, {NULL}},
};
#define DEFAULT_SCHEME (&schemes[0])

/* ---- schemes ---------------------------------------------------------- */

static const struct scheme *scheme_find(const char *name)
{
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strcasecmp(schemes[i].name, name) == 0)
			return &schemes[i];
	return NULL;
}

static bool scheme_has_prefix(const struct scheme *s, const char *hash)
{
	if (s->prefixes[0] == NULL)
		return true;
	for (size_t i = 0; s->prefixes[i] != NULL; i++)
		if (strncmp(hash, s->prefixes[i], strlen(s->prefixes[i])) == 0)
			return true;
	return false;
}

/* The named crypt scheme a {CRYPT} hash belongs to, if any. */
static const struct scheme *scheme_of_hash(const char *hash)
{
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (schemes[i].prefixes[0] != NULL &&
		    scheme_has_prefix(&schemes[i], hash))
			return &schemes[i];
	return NULL;
}

static bool setting_usable(const char *setting)
{
	int rc = crypt_checksalt(setting);

	return rc == CRYPT_SALT_OK || rc == CRYPT_SALT_METHOD_LEGACY ||
	       rc == CRYPT_SALT_TOO_CHEAP;
}

static bool scheme_available(const struct scheme *s)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];

	if (s->gen_prefix == NULL)
		return true;
	if (crypt_gensalt_rn(s->gen_prefix, 0, NULL, 0, salt, sizeof(salt)) ==
	    NULL)
		return false;
	return setting_usable(salt);
}

bool passwd_scheme_supported(const char *scheme)
{
	const struct scheme *s = scheme == NULL ? NULL : scheme_find(scheme);

	return s != NULL && scheme_available(s);
}

/* Empty, "!..." or "*...": an account that can not log in. */
static bool hash_locked(const char *hash)
{
	return hash[0] == '\0' || hash[0] == '!' || hash[0] == '*';
}

/* Dovecot's form: "<i>,<salt>,<StoredKey>,<ServerKey>", base64. */
static int scram_parse(const char *s, struct scram_creds *out)
{
	unsigned char *dest[4] = {NULL, out->salt, out->stored_key,
				  out->server_key};
	size_t size[4] = {0, SCRAM_SALT_MAX, SCRAM_HASH_LEN, SCRAM_HASH_LEN};
	size_t i, n, len = 0;

	for (i = 0; i < 4; i++, s += n + 1) {
		const char *comma = strchr(s, ',');
		n = comma != NULL ? (size_t)(comma - s) : strlen(s);
		if ((comma == NULL) != (i == 3) ||
		    (i == 0 &&
		     !scram_parse_iterations(s, n, &out->iterations)) ||
		    (i > 0 &&
		     (base64_decode(s, n, dest[i], size[i], &len) != 0 ||
		      len == 0 || (i > 1 && len != SCRAM_HASH_LEN))))
			break;
		if (i == 1)
			out->salt_len = len;
		if (i == 3)
			return 0;
	}
	scram_creds_wipe(out);
	errno = EINVAL;
	return -1;
}

static int scram_format(const struct scram_creds *c, char *out, size_t n)
{
	char salt[SCRAM_SALT_MAX / 3 * 4 + 8], stored[48], server[48];

	if (base64_encode(c->salt, c->salt_len, salt, sizeof(salt)) != 0 ||
	    base64_encode(c->stored_key, SCRAM_HASH_LEN, stored,
			  sizeof(stored)) != 0 ||
	    base64_encode(c->server_key, SCRAM_HASH_LEN, server,
			  sizeof(server)) != 0) {
		errno = EINVAL;
		return -1;
	}
	return passwd_fmt_into(out, n, "{SCRAM-SHA-256}%u,%s,%s,%s",
			       c->iterations, salt, stored, server);
}

static const char *scram_check_hash(const char *hash)
{
	struct scram_creds c;

	if (hash[0] == '\0')
		return NULL; /* locked */
	if (scram_parse(hash, &c) != 0)
		return "SCRAM-SHA-256 hash is not "
		       "iterations,salt,StoredKey,ServerKey";
	scram_creds_wipe(&c);
	return NULL;
}

const char *passwd_scheme_check_hash(const char *scheme, const char *hash)
{
	const struct scheme *s = scheme_find(scheme);

	if (s != NULL && s->kind == SCHEME_SCRAM)
		return scram_check_hash(hash);
	if (s == NULL || s->kind != SCHEME_CRYPT || hash_locked(hash))
		return NULL;
	if (strlen(hash) >= CRYPT_OUTPUT_SIZE)
		return "crypt hash too long";
	if (strpbrk(hash, " \t") != NULL)
		return "blank in a crypt hash";
	if (!scheme_has_prefix(s, hash))
		return "hash does not match its {SCHEME}";
	return NULL;
}

bool passwd_dummy_setting(char *out, int n)
{
	return crypt_gensalt_rn(DEFAULT_SCHEME->gen_prefix, 0, NULL, 0, out,
				n) != NULL;
}

/* ---- verifying -------------------------------------------------------- */

/* a == b, in a time that depends only on CRYPT_OUTPUT_SIZE. */
static bool crypt_equal(const char *a, const char *b)
{
	unsigned char x[CRYPT_OUTPUT_SIZE] = {0}, y[CRYPT_OUTPUT_SIZE] = {0};
	size_t la = strnlen(a, sizeof(x)), lb = strnlen(b, sizeof(y));

	if (la == sizeof(x) || lb == sizeof(y))
		return false;
	memcpy(x, a, la);
	memcpy(y, b, lb);
	return CRYPTO_memcmp(x, y, sizeof(x)) == 0;
}

/* crypt_rn(pw, setting) == expect? Returns -1 if crypt failed. */
static int crypt_match(const char *pw, const char *setting, const char *expect,
		       bool *match_r)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	const char *out;
	int rc = -1;

	*match_r = false;
	if (cd == NULL)
		return -1;
	out = crypt_rn(pw, setting, cd, sizeof(*cd));
	if (out != NULL && out[0] != '*') {
		*match_r = crypt_equal(out, expect);
		rc = 0;
	}
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return rc;
}

/* The work of a crypt check with setting dummy, and a failure. */
static enum passwd_verify_result verify_dummy(const char *dummy, const char *pw)
{
	bool match;

	if (crypt_match(pw, dummy, dummy, &match) != 0)
		return PASSWD_INTERNAL_ERROR;
	return PASSWD_FAIL;
}

static enum passwd_verify_result verify_plain(const char *pw,
					      const char *stored)
{
	unsigned char a[EVP_MAX_MD_SIZE], b[EVP_MAX_MD_SIZE];
	unsigned int la = 0, lb = 0;

	if (!EVP_Digest(pw, strlen(pw), a, &la, EVP_sha256(), NULL) ||
	    !EVP_Digest(stored, strlen(stored), b, &lb, EVP_sha256(), NULL) ||
	    la != lb)
		return PASSWD_INTERNAL_ERROR;
	return CRYPTO_memcmp(a, b, la) == 0 ? PASSWD_OK : PASSWD_FAIL;
}

/* Derives the keys of pw with the stored salt and count; both must
 * match. A password SASLprep refuses can not match. */
static enum passwd_verify_result verify_scram(const char *pw,
					      const char *stored)
{
	struct scram_creds want, got;
	enum passwd_verify_result res = PASSWD_INTERNAL_ERROR;

	if (scram_parse(stored, &want) != 0)
		return PASSWD_INTERNAL_ERROR;
	if (scram_saslprep(pw, strlen(pw)) != SCRAM_PREP_OK) {
		res = PASSWD_FAIL;
	} else if (scram_creds_derive(pw, strlen(pw), want.salt, want.salt_len,
				      want.iterations, &got) == 0) {
		int diff = CRYPTO_memcmp(want.stored_key, got.stored_key,
					 SCRAM_HASH_LEN) |
			   CRYPTO_memcmp(want.server_key, got.server_key,
					 SCRAM_HASH_LEN);
		res = diff == 0 ? PASSWD_OK : PASSWD_FAIL;
	}
	scram_creds_wipe(&want);
	scram_creds_wipe(&got);
	return res;
}

static enum passwd_verify_result verify_entry(const char *dummy,
					      const struct passwd_entry *e,
					      const char *pw,
					      const struct passwd_options *opt)
{
	const struct scheme *s = scheme_find(e->scheme);
	bool match;

	if (s == NULL)
		return PASSWD_SCHEME_DISABLED;
	if (s->kind == SCHEME_PLAIN) {
		if (opt == NULL || !opt->allow_plain)
			return PASSWD_SCHEME_DISABLED;
		return verify_plain(pw, e->hash);
	}
	if (hash_locked(e->hash))
		return verify_dummy(dummy, pw);
	if (s->kind == SCHEME_SCRAM)
		return verify_scram(pw, e->hash);
	if (!setting_usable(e->hash)) {
		const struct scheme *real =
			s->gen_prefix != NULL ? s : scheme_of_hash(e->hash);
		if (real != NULL && !scheme_available(real))
			return PASSWD_SCHEME_DISABLED;
		return PASSWD_INTERNAL_ERROR;
	}
	if (crypt_match(pw, e->hash, e->hash, &match) != 0)
		return PASSWD_INTERNAL_ERROR;
	return match ? PASSWD_OK : PASSWD_FAIL;
}

/* e NULL: an unknown user. dummy is a setting of the default scheme. */
static enum passwd_verify_result verify_copy(const char *dummy,
					     const struct passwd_entry *e,
					     const char *password,
					     size_t password_len,
					     const struct passwd_options *opt)
{
	enum passwd_verify_result res;
	char *pw;

	if (password == NULL || password_len > PASSWD_PASSWORD_MAX ||
	    memchr(password, '\0', password_len) != NULL)
		return PASSWD_FAIL;
	pw = malloc(password_len + 1);
	if (pw == NULL)
		return PASSWD_INTERNAL_ERROR;
	memcpy(pw, password, password_len);
	pw[password_len] = '\0';
	res = e == NULL ? verify_dummy(dummy, pw)
			: verify_entry(dummy, e, pw, opt);
	explicit_bzero(pw, password_len);
	free(pw);
	return res;
}

enum passwd_verify_result passwd_verify(const struct passwd_db *db,
					const char *user, const char *password,
					size_t password_len,
					const struct passwd_options *opt)
{
	/* A bad password is refused before the lookup: no hint whether the
	 * user exists. */
	if (password == NULL || password_len > PASSWD_PASSWORD_MAX ||
	    memchr(password, '\0', password_len) != NULL)
		return PASSWD_FAIL;
	return verify_copy(db->dummy, passwd_db_lookup(db, user), password,
			   password_len, opt);
}

enum passwd_verify_result passwd_verify_entry(const struct passwd_entry *e,
					      const char *password,
					      size_t password_len,
					      const struct passwd_options *opt)
{
	char dummy[CRYPT_GENSALT_OUTPUT_SIZE];

	/* made for known users too, so that both cost the same */
	if (!passwd_dummy_setting(dummy, sizeof(dummy)))
		return PASSWD_INTERNAL_ERROR;
	return verify_copy(dummy, e, password, password_len, opt);
}

int passwd_plain_secret(const struct passwd_entry *e,
			const struct passwd_options *opt, const char **secret_r)
{
	const struct scheme *s = e != NULL ? scheme_find(e->scheme) : NULL;

	*secret_r = NULL;
	if (s == NULL || s->kind != SCHEME_PLAIN || opt == NULL ||
	    !opt->allow_plain || e->hash[0] == '\0') {
		errno = EACCES;
		return -1;
	}
	*secret_r = e->hash;
	return 0;
}

const char *passwd_verify_result_str(enum passwd_verify_result res)
{
	switch (res) {
	case PASSWD_OK:
		return "ok";
	case PASSWD_FAIL:
		return "authentication failed";
	case PASSWD_SCHEME_DISABLED:
		return "password scheme not allowed";
	case PASSWD_INTERNAL_ERROR:
		return "internal error";
	}
	return "unknown result";
}

/* ---- hashing ---------------------------------------------------------- */

static int hash_crypt(const struct scheme *s, const char *pw, char *out,
		      size_t n)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	const char *h;
	int rc = -1;

	/* NULL rnd: libxcrypt takes the salt from getrandom() */
	if (crypt_gensalt_rn(s->gen_prefix, 0, NULL, 0, salt, sizeof(salt)) ==
	    NULL) {
		if (errno == EINVAL) /* a method this libcrypt lacks */
			errno = ENOTSUP;
		return -1;
	}
	if (!setting_usable(salt)) {
		errno = ENOTSUP;
		return -1;
	}
	cd = calloc(1, sizeof(*cd));
	if (cd == NULL) {
		errno = ENOMEM;
		return -1;
	}
	h = crypt_rn(pw, salt, cd, sizeof(*cd));
	if (h == NULL || h[0] == '*')
		errno = ENOTSUP;
	else
		rc = passwd_fmt_into(out, n, "{%s}%s", s->name, h);
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return rc;
}

int passwd_hash_scram(const char *password, unsigned iterations, char *out,
		      size_t out_size)
{
	unsigned char salt[SCRAM_SALT_LEN];
	size_t len = password == NULL ? 0 : strlen(password);
	struct scram_creds c;
	int rc = -1;

	if (len > PASSWD_PASSWORD_MAX ||
	    scram_saslprep(password, len) != SCRAM_PREP_OK) {
		errno = EINVAL;
		return -1;
	}
	if (RAND_bytes(salt, sizeof(salt)) != 1)
		errno = EIO;
	else if (scram_creds_derive(password, len, salt, sizeof(salt),
				    iterations, &c) == 0)
		rc = scram_format(&c, out, out_size);
	scram_creds_wipe(&c);
	return rc;
}

int passwd_scram_keys(const struct passwd_entry *e, struct scram_creds *out)
{
	const struct scheme *s = scheme_find(e->scheme);

	if (s == NULL || s->kind != SCHEME_SCRAM) {
		errno = ENOENT;
		return -1;
	}
	if (e->hash[0] == '\0') {
		errno = EACCES;
		return -1;
	}
	return scram_parse(e->hash, out);
}

int passwd_hash(const char *scheme, const char *password, char *out,
		size_t out_size)
{
	const struct scheme *s =
		scheme == NULL ? DEFAULT_SCHEME : scheme_find(scheme);
	size_t len = password == NULL ? 0 : strlen(password);

	if (s == NULL || len == 0 || len > PASSWD_PASSWORD_MAX ||
	    (s->kind == SCHEME_CRYPT && s->gen_prefix == NULL)) {
		errno = EINVAL;
		return -1;
	}
	if (s->kind == SCHEME_CRYPT)
		return hash_crypt(s, password, out, out_size);
	if (s->kind == SCHEME_SCRAM)
		return passwd_hash_scram(password, SCRAM_ITERATIONS_DEFAULT,
					 out, out_size);
	if (strchr(password, ':') != NULL || passwd_has_ctl(password)) {
		errno = EINVAL;
		return -1;
	}
	return passwd_fmt_into(out, out_size, "{%s}%s", s->name, password);
}
