/*
 * passwd.c - load, query, verify and change a Dovecot-format passwd-file.
 *
 * The format and the rules are described in passwd.h. How it works:
 *
 * - Loading copies the text once and splits it in place; entries point
 *   into that copy. An index sorted by user name serves lookups (bsearch)
 *   and finds duplicate users. Any bad line rejects the whole file, with
 *   its number: a half-read user list is worse than a clear error.
 * - Verifying runs crypt_rn() with a struct crypt_data on the heap and
 *   compares with CRYPTO_memcmp() over two zero-padded buffers of the same
 *   size. An unknown user still costs one crypt_rn(), on a setting of the
 *   default scheme made with a random salt when the file was loaded, so
 *   that "no such user" and "wrong password" take the same time. PLAIN
 *   compares SHA-256 digests, so that the time does not depend on where
 *   the strings differ nor on their lengths.
 * - Changing the file (adding a user, setting a password) happens under
 *   flock() on "<path>.lock": read and parse the current file, refuse
 *   duplicates, write the whole new text to a temporary file in the same
 *   directory (mode 0600), fsync, close, rename over the old file, fsync
 *   the directory. Other lines are kept byte for byte.
 */
#include "passwd.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* A passwd_entry and where its line is in the original text. */
struct entry_rec {
	struct passwd_entry e; /* first: a passwd_entry * is an entry_rec * */
	size_t off, len;       /* the line, without CR LF */
};

struct passwd_db {
	char *text; /* the file, split in place */
	struct entry_rec *recs;
	size_t count;
	const struct entry_rec **sorted; /* by user name */
	bool mode_too_open;
	char dummy[CRYPT_GENSALT_OUTPUT_SIZE]; /* setting for unknown users */
};

enum scheme_kind { SCHEME_CRYPT, SCHEME_PLAIN };

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
};
#define DEFAULT_SCHEME (&schemes[0])

enum field {
	F_USER,
	F_PASS,
	F_UID,
	F_GID,
	F_GECOS,
	F_HOME,
	F_SHELL,
	F_EXTRA,
	FIELD_COUNT
};

/* Where a parse error is reported. */
struct parse_ctx {
	const char *name;
	unsigned long line;
	struct passwd_error *err;
};

__attribute__((format(printf, 5, 6))) static void
set_error(struct passwd_error *err, const char *file, unsigned long line,
	  int errnum, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	if (snprintf(err->file, sizeof(err->file), "%s", file) < 0)
		err->file[0] = '\0';
	err->line = line;
	err->errnum = errnum;
	va_start(ap, fmt);
	if (vsnprintf(err->msg, sizeof(err->msg), fmt, ap) < 0)
		err->msg[0] = '\0';
	va_end(ap);
}

/* snprintf that fails with ERANGE instead of truncating. */
__attribute__((format(printf, 3, 4))) static int fmt_into(char *out, size_t n,
							  const char *fmt, ...)
{
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(out, n, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= n) {
		errno = ERANGE;
		return -1;
	}
	return 0;
}

static bool is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static bool is_blank(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static bool is_scheme_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

static bool has_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if (is_ctl((unsigned char)*s))
			return true;
	return false;
}

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

/* ---- parsing ---------------------------------------------------------- */

static bool parse_fail(const struct parse_ctx *ctx, const char *msg)
{
	set_error(ctx->err, ctx->name, ctx->line, 0, "%s", msg);
	return false;
}

/* Splits line at the first seven ':'; missing fields become NULL. */
static void split_fields(char *line, char *f[FIELD_COUNT])
{
	size_t n = 0;
	char *p = line;

	f[n++] = p;
	while (n < FIELD_COUNT && (p = strchr(p, ':')) != NULL) {
		*p++ = '\0';
		f[n++] = p;
	}
	while (n < FIELD_COUNT)
		f[n++] = NULL;
}

static const char *parse_user(const char *f, struct passwd_entry *e)
{
	size_t len = strlen(f);

	if (len == 0)
		return "empty user name";
	if (len > PASSWD_USER_MAX)
		return "user name longer than 64 bytes";
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)f[i] <= ' ' || (unsigned char)f[i] >= 0x7f)
			return "user name with a blank or a non-printable byte";
	memcpy(e->user, f, len + 1);
	return NULL;
}

/* "{SCHEME}" at the start of f into e->scheme; returns what follows. */
static char *parse_scheme(char *f, struct passwd_entry *e, const char **msg_r)
{
	char *end = strchr(f, '}');
	size_t n;

	if (f[0] != '{') {
		memcpy(e->scheme, "CRYPT", sizeof("CRYPT"));
		return f;
	}
	if (end == NULL) {
		*msg_r = "'{' without '}' in the password field";
		return NULL;
	}
	n = (size_t)(end - f - 1);
	if (n == 0 || n > PASSWD_SCHEME_MAX) {
		*msg_r = "scheme name empty or longer than 31 bytes";
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)f[1 + i];
		if (!is_scheme_char(c)) {
			*msg_r = "invalid character in the scheme name";
			return NULL;
		}
		e->scheme[i] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
	}
	e->scheme[n] = '\0';
	return end + 1;
}

static const char *parse_password(char *f, struct passwd_entry *e)
{
	const char *msg = NULL;
	const struct scheme *s;

	e->hash = parse_scheme(f, e, &msg);
	if (e->hash == NULL)
		return msg;
	s = scheme_find(e->scheme);
	if (s == NULL || s->kind != SCHEME_CRYPT || hash_locked(e->hash))
		return NULL;
	if (strlen(e->hash) >= CRYPT_OUTPUT_SIZE)
		return "crypt hash too long";
	if (strpbrk(e->hash, " \t") != NULL)
		return "blank in a crypt hash";
	if (!scheme_has_prefix(s, e->hash))
		return "hash does not match its {SCHEME}";
	return NULL;
}

/* A decimal uid or gid up to 2^32 - 2, or -1 when empty. */
static bool parse_id(const char *f, long *out)
{
	unsigned long v = 0;

	*out = -1;
	if (f == NULL || *f == '\0')
		return true;
	for (; *f != '\0'; f++) {
		if (*f < '0' || *f > '9')
			return false;
		v = v * 10 + (unsigned long)(*f - '0');
		if (v > UINT32_MAX - 1)
			return false;
	}
	*out = (long)v;
	return true;
}

static char *nonempty(char *f)
{
	return f == NULL || *f == '\0' ? NULL : f;
}

static bool parse_line(const struct parse_ctx *ctx, char *line,
		       struct passwd_entry *e)
{
	char *f[FIELD_COUNT];
	const char *msg;

	split_fields(line, f);
	if ((msg = parse_user(f[F_USER], e)) != NULL)
		return parse_fail(ctx, msg);
	if (f[F_PASS] == NULL)
		return parse_fail(ctx, "no ':' after the user name");
	if ((msg = parse_password(f[F_PASS], e)) != NULL)
		return parse_fail(ctx, msg);
	if (!parse_id(f[F_UID], &e->uid))
		return parse_fail(ctx, "uid is not a number below 2^32-1");
	if (!parse_id(f[F_GID], &e->gid))
		return parse_fail(ctx, "gid is not a number below 2^32-1");
	e->gecos = nonempty(f[F_GECOS]);
	e->home = nonempty(f[F_HOME]);
	if (e->home != NULL && e->home[0] != '/')
		return parse_fail(ctx, "home is not an absolute path");
	e->shell = nonempty(f[F_SHELL]);
	e->extra = nonempty(f[F_EXTRA]);
	e->line = ctx->line;
	return true;
}

/* 1: a line to parse, 0: a line to skip, -1: control characters. */
static int line_kind(const char *p, size_t len)
{
	bool blank = true;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (is_ctl(c) && c != '\t')
			return -1;
		if (!is_blank(c))
			blank = false;
	}
	return blank || p[0] == '#' ? 0 : 1;
}

static bool parse_text(struct passwd_db *db, size_t len, struct parse_ctx *ctx)
{
	char *text = db->text, *p = text, *end = text + len;

	while (p < end) {
		char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n;
		int kind;

		if (eol == NULL)
			eol = end;
		*eol = '\0';
		n = (size_t)(eol - p);
		if (n > 0 && p[n - 1] == '\r')
			p[--n] = '\0';
		ctx->line++;
		kind = line_kind(p, n);
		if (kind < 0)
			return parse_fail(ctx, "control character or NUL byte");
		if (kind > 0) {
			struct entry_rec *r = &db->recs[db->count];
			r->off = (size_t)(p - text);
			r->len = n;
			if (!parse_line(ctx, p, &r->e))
				return false;
			db->count++;
		}
		p = eol + 1;
	}
	return true;
}

static int rec_cmp(const void *a, const void *b)
{
	const struct entry_rec *x = *(const struct entry_rec *const *)a;
	const struct entry_rec *y = *(const struct entry_rec *const *)b;
	int c = strcmp(x->e.user, y->e.user);

	if (c != 0)
		return c;
	return x->e.line < y->e.line ? -1 : x->e.line > y->e.line;
}

static bool index_users(struct passwd_db *db, struct parse_ctx *ctx)
{
	if (db->count == 0)
		return true;
	db->sorted = calloc(db->count, sizeof(*db->sorted));
	if (db->sorted == NULL) {
		set_error(ctx->err, ctx->name, 0, ENOMEM, "out of memory");
		return false;
	}
	for (size_t i = 0; i < db->count; i++)
		db->sorted[i] = &db->recs[i];
	qsort(db->sorted, db->count, sizeof(*db->sorted), rec_cmp);
	for (size_t i = 1; i < db->count; i++) {
		const struct passwd_entry *a = &db->sorted[i - 1]->e;
		const struct passwd_entry *b = &db->sorted[i]->e;
		if (strcmp(a->user, b->user) == 0) {
			set_error(ctx->err, ctx->name, b->line, 0,
				  "duplicate user '%s' (first on line %lu)",
				  b->user, a->line);
			return false;
		}
	}
	return true;
}

static bool make_dummy(struct passwd_db *db, struct parse_ctx *ctx)
{
	if (crypt_gensalt_rn(DEFAULT_SCHEME->gen_prefix, 0, NULL, 0, db->dummy,
			     sizeof(db->dummy)) != NULL)
		return true;
	set_error(ctx->err, ctx->name, 0, errno, "cannot make a salt");
	return false;
}

static size_t count_lines(const char *text, size_t len)
{
	size_t lines = 1;
	const char *p = text, *end = text + len;

	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		lines++;
		p++;
	}
	return lines;
}

/* Takes text (len bytes and a NUL) whatever happens. */
static struct passwd_db *load_owned(const char *name, char *text, size_t len,
				    struct passwd_error *err_r)
{
	struct parse_ctx ctx = {name, 0, err_r};
	struct passwd_db *db = calloc(1, sizeof(*db));

	if (db == NULL) {
		free(text);
		set_error(err_r, name, 0, ENOMEM, "out of memory");
		return NULL;
	}
	db->text = text;
	db->recs = calloc(count_lines(text, len), sizeof(*db->recs));
	if (db->recs == NULL) {
		set_error(err_r, name, 0, ENOMEM, "out of memory");
		passwd_db_free(&db);
		return NULL;
	}
	if (!parse_text(db, len, &ctx) || !index_users(db, &ctx) ||
	    !make_dummy(db, &ctx))
		passwd_db_free(&db);
	return db;
}

struct passwd_db *passwd_db_load_buffer(const char *name, const char *data,
					size_t len, struct passwd_error *err_r)
{
	char *text;

	if (len > PASSWD_FILE_MAX) {
		set_error(err_r, name, 0, EFBIG, "passwd-file too large");
		return NULL;
	}
	text = malloc(len + 1);
	if (text == NULL) {
		set_error(err_r, name, 0, ENOMEM, "out of memory");
		return NULL;
	}
	if (len > 0)
		memcpy(text, data, len);
	text[len] = '\0';
	return load_owned(name, text, len, err_r);
}

/* ---- reading the file ------------------------------------------------- */

static int read_fd(int fd, const char *path, char **text_r, size_t *len_r,
		   mode_t *mode_r, struct passwd_error *err)
{
	struct stat st;
	size_t size, len = 0;
	char *buf;

	if (fstat(fd, &st) != 0) {
		set_error(err, path, 0, errno, "cannot stat");
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > PASSWD_FILE_MAX) {
		set_error(err, path, 0, 0, "%s",
			  S_ISREG(st.st_mode) ? "passwd-file too large"
					      : "not a regular file");
		return -1;
	}
	*mode_r = st.st_mode;
	size = (size_t)st.st_size;
	buf = malloc(size + 1);
	if (buf == NULL) {
		set_error(err, path, 0, ENOMEM, "out of memory");
		return -1;
	}
	while (len < size) {
		ssize_t n = read(fd, buf + len, size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			set_error(err, path, 0, errno, "cannot read");
			free(buf);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*text_r = buf;
	*len_r = len;
	return 0;
}

/* Reads path whole; a missing file reads as empty if missing_ok. */
static int read_file(const char *path, bool missing_ok, char **text_r,
		     size_t *len_r, mode_t *mode_r, struct passwd_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	*mode_r = 0;
	if (fd < 0 && errno == ENOENT && missing_ok) {
		*len_r = 0;
		*text_r = calloc(1, 1);
		if (*text_r != NULL)
			return 0;
		set_error(err, path, 0, ENOMEM, "out of memory");
		return -1;
	}
	if (fd < 0) {
		set_error(err, path, 0, errno, "cannot open");
		return -1;
	}
	rc = read_fd(fd, path, text_r, len_r, mode_r, err);
	if (close(fd) != 0 && rc == 0) {
		set_error(err, path, 0, errno, "cannot close");
		free(*text_r);
		rc = -1;
	}
	return rc;
}

struct passwd_db *passwd_db_load(const char *path, struct passwd_error *err_r)
{
	struct passwd_db *db;
	char *text;
	size_t len;
	mode_t mode;

	if (read_file(path, false, &text, &len, &mode, err_r) != 0)
		return NULL;
	db = load_owned(path, text, len, err_r);
	if (db != NULL)
		db->mode_too_open = (mode & (S_IRWXG | S_IRWXO)) != 0;
	return db;
}

void passwd_db_free(struct passwd_db **db)
{
	if (*db == NULL)
		return;
	free((*db)->sorted);
	free((*db)->recs);
	free((*db)->text);
	free(*db);
	*db = NULL;
}

bool passwd_db_mode_too_open(const struct passwd_db *db)
{
	return db->mode_too_open;
}

size_t passwd_db_count(const struct passwd_db *db)
{
	return db->count;
}

const struct passwd_entry *passwd_db_entry(const struct passwd_db *db, size_t i)
{
	return i < db->count ? &db->recs[i].e : NULL;
}

static int user_cmp(const void *key, const void *elem)
{
	const struct entry_rec *r = *(const struct entry_rec *const *)elem;

	return strcmp(key, r->e.user);
}

const struct passwd_entry *passwd_db_lookup(const struct passwd_db *db,
					    const char *user)
{
	const struct entry_rec *const *r;

	if (user == NULL || db->count == 0)
		return NULL;
	r = bsearch(user, db->sorted, db->count, sizeof(*db->sorted), user_cmp);
	return r == NULL ? NULL : &(*r)->e;
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

/* The work of a crypt check, and a failure. */
static enum passwd_verify_result verify_dummy(const struct passwd_db *db,
					      const char *pw)
{
	bool match;

	if (crypt_match(pw, db->dummy, db->dummy, &match) != 0)
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

static enum passwd_verify_result verify_entry(const struct passwd_db *db,
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
		return verify_dummy(db, pw);
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

enum passwd_verify_result passwd_verify(const struct passwd_db *db,
					const char *user, const char *password,
					size_t password_len,
					const struct passwd_options *opt)
{
	const struct passwd_entry *e;
	enum passwd_verify_result res;
	char *pw;

	/* Refused before the lookup: no hint whether the user exists. */
	if (password == NULL || password_len > PASSWD_PASSWORD_MAX ||
	    memchr(password, '\0', password_len) != NULL)
		return PASSWD_FAIL;
	pw = malloc(password_len + 1);
	if (pw == NULL)
		return PASSWD_INTERNAL_ERROR;
	memcpy(pw, password, password_len);
	pw[password_len] = '\0';
	e = passwd_db_lookup(db, user);
	res = e == NULL ? verify_dummy(db, pw) : verify_entry(db, e, pw, opt);
	explicit_bzero(pw, password_len);
	free(pw);
	return res;
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
		rc = fmt_into(out, n, "{%s}%s", s->name, h);
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return rc;
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
	if (strchr(password, ':') != NULL || has_ctl(password)) {
		errno = EINVAL;
		return -1;
	}
	return fmt_into(out, out_size, "{%s}%s", s->name, password);
}

/* ---- formatting ------------------------------------------------------- */

static int append(char *out, size_t n, size_t *pos, const char *s)
{
	size_t len = strlen(s);

	if (len >= n - *pos) {
		errno = ERANGE;
		return -1;
	}
	memcpy(out + *pos, s, len + 1);
	*pos += len;
	return 0;
}

int passwd_entry_format(const struct passwd_entry *e, char *out, size_t n)
{
	char uid[24] = "", gid[24] = "";
	const char *f[FIELD_COUNT] = {
		e->user,
		e->hash,
		uid,
		gid,
		e->gecos == NULL ? "" : e->gecos,
		e->home == NULL ? "" : e->home,
		e->shell == NULL ? "" : e->shell,
		e->extra == NULL ? "" : e->extra,
	};
	size_t last = F_PASS, pos = 0;

	if ((e->uid >= 0 && fmt_into(uid, sizeof(uid), "%ld", e->uid) != 0) ||
	    (e->gid >= 0 && fmt_into(gid, sizeof(gid), "%ld", e->gid) != 0))
		return -1;
	for (size_t i = F_UID; i < FIELD_COUNT; i++)
		if (f[i][0] != '\0')
			last = i;
	if (fmt_into(out, n, "%s:{%s}%s", e->user, e->scheme, e->hash) != 0)
		return -1;
	pos = strlen(out);
	for (size_t i = F_UID; i <= last; i++)
		if (append(out, n, &pos, ":") != 0 ||
		    append(out, n, &pos, f[i]) != 0)
			return -1;
	return 0;
}

/* ---- changing the file ------------------------------------------------ */

/* An edit in progress: the lock held and the current contents. */
struct edit {
	const char *path;
	int lock_fd;
	char *text;
	size_t len;
	struct passwd_db *db;
};

static int lock_path(const char *path, struct passwd_error *err)
{
	char lock[PATH_MAX];
	int fd;

	if (fmt_into(lock, sizeof(lock), "%s.lock", path) != 0) {
		set_error(err, path, 0, ENAMETOOLONG, "path too long");
		return -1;
	}
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		set_error(err, lock, 0, errno, "cannot open lock file");
		return -1;
	}
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			set_error(err, lock, 0, errno, "cannot lock");
			(void)close(fd);
			return -1;
		}
	}
	return fd;
}

static void edit_end(struct edit *ed)
{
	passwd_db_free(&ed->db);
	free(ed->text);
	ed->text = NULL;
	if (ed->lock_fd >= 0)
		(void)close(ed->lock_fd); /* only releases the lock */
	ed->lock_fd = -1;
}

static int edit_begin(struct edit *ed, const char *path, bool create,
		      struct passwd_error *err)
{
	mode_t mode;

	*ed = (struct edit){.path = path, .lock_fd = -1};
	ed->lock_fd = lock_path(path, err);
	if (ed->lock_fd < 0)
		return -1;
	if (read_file(path, create, &ed->text, &ed->len, &mode, err) != 0) {
		ed->text = NULL;
		edit_end(ed);
		return -1;
	}
	ed->db = passwd_db_load_buffer(path, ed->text, ed->len, err);
	if (ed->db == NULL) {
		edit_end(ed);
		return -1;
	}
	return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, rc;

	if (slash == NULL)
		memcpy(dir, ".", sizeof("."));
	else if (fmt_into(dir, sizeof(dir), "%.*s", (int)(slash - path),
			  path) != 0)
		return -1;
	if (dir[0] == '\0')
		memcpy(dir, "/", sizeof("/"));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	if (close(fd) != 0)
		rc = -1;
	return rc;
}

/* Writes the concatenation of parts to path: temp file, fsync, rename,
 * fsync of the directory. */
static int write_durably(const char *path, const char *const parts[],
			 const size_t lens[], size_t nparts,
			 struct passwd_error *err)
{
	char tmp[PATH_MAX];
	const char *what = "cannot create a temporary file";
	int fd;

	if (fmt_into(tmp, sizeof(tmp), "%s.XXXXXX", path) != 0) {
		set_error(err, path, 0, ENAMETOOLONG, "path too long");
		return -1;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		set_error(err, tmp, 0, errno, "%s", what);
		return -1;
	}
	what = fchmod(fd, 0600) != 0 ? "cannot chmod" : NULL;
	for (size_t i = 0; what == NULL && i < nparts; i++)
		if (write_all(fd, parts[i], lens[i]) != 0)
			what = "cannot write";
	if (what == NULL && fsync(fd) != 0)
		what = "cannot fsync";
	if (close(fd) != 0 && what == NULL)
		what = "cannot close";
	if (what == NULL && rename(tmp, path) != 0)
		what = "cannot rename into place";
	if (what != NULL) {
		set_error(err, tmp, 0, errno, "%s", what);
		(void)unlink(tmp);
		return -1;
	}
	if (fsync_parent(path) != 0) {
		set_error(err, path, 0, errno, "cannot fsync the directory");
		return -1;
	}
	return 0;
}

/* Parses line, which must be exactly one entry, for user. */
static struct passwd_db *parse_one(const char *path, const char *user,
				   const char *line, struct passwd_error *err)
{
	struct passwd_error perr;
	struct passwd_db *one =
		passwd_db_load_buffer(path, line, strlen(line), &perr);

	if (one == NULL) {
		set_error(err, path, 0, perr.errnum,
			  "refusing entry for '%s': %s", user, perr.msg);
		return NULL;
	}
	if (passwd_db_count(one) != 1 || passwd_db_lookup(one, user) == NULL) {
		set_error(err, path, 0, 0, "refusing a malformed entry");
		passwd_db_free(&one);
	}
	return one;
}

static bool bad_field(const char *s)
{
	return s != NULL && (strchr(s, ':') != NULL || has_ctl(s));
}

int passwd_file_add(const char *path, const char *user, const char *hashed,
		    const char *home, struct passwd_error *err_r)
{
	char line[PASSWD_HASH_SIZE + PATH_MAX + 128];
	struct passwd_db *one;
	struct edit ed;
	int rc;

	if (home != NULL && *home == '\0')
		home = NULL;
	if (bad_field(user) || bad_field(hashed) || bad_field(home) ||
	    fmt_into(line, sizeof(line), "%s:%s%s%s", user, hashed,
		     home != NULL ? "::::" : "",
		     home != NULL ? home : "") != 0) {
		set_error(err_r, path, 0, 0, "invalid user, hash or home");
		return -1;
	}
	one = parse_one(path, user, line, err_r);
	if (one == NULL)
		return -1;
	passwd_db_free(&one);
	if (edit_begin(&ed, path, true, err_r) != 0)
		return -1;
	if (passwd_db_lookup(ed.db, user) != NULL) {
		set_error(err_r, path, 0, 0, "user '%s' already exists", user);
		rc = -1;
	} else {
		bool nl = ed.len > 0 && ed.text[ed.len - 1] != '\n';
		const char *parts[] = {ed.text, "\n", line, "\n"};
		size_t lens[] = {ed.len, nl ? 1 : 0, strlen(line), 1};
		rc = write_durably(path, parts, lens, 4, err_r);
	}
	edit_end(&ed);
	return rc;
}

/* old's line with the password field set to hashed, into a new string. */
static char *line_with_hash(const char *path, const struct passwd_entry *old,
			    size_t old_len, const char *hashed,
			    struct passwd_error *err)
{
	char pair[PASSWD_USER_MAX + PASSWD_HASH_SIZE + 2];
	size_t n = old_len + strlen(hashed) + PASSWD_SCHEME_MAX + 64;
	struct passwd_entry e = *old;
	struct passwd_db *one;
	char *out;

	if (fmt_into(pair, sizeof(pair), "%s:%s", old->user, hashed) != 0) {
		set_error(err, path, 0, 0, "hash too long");
		return NULL;
	}
	one = parse_one(path, old->user, pair, err);
	out = one == NULL ? NULL : malloc(n);
	if (one != NULL && out == NULL)
		set_error(err, path, 0, ENOMEM, "out of memory");
	if (out != NULL) {
		memcpy(e.scheme, one->recs[0].e.scheme, sizeof(e.scheme));
		e.hash = one->recs[0].e.hash;
		if (passwd_entry_format(&e, out, n) != 0) {
			set_error(err, path, 0, errno, "cannot format");
			free(out);
			out = NULL;
		}
	}
	passwd_db_free(&one);
	return out;
}

int passwd_file_set_password(const char *path, const char *user,
			     const char *hashed, struct passwd_error *err_r)
{
	const struct entry_rec *r;
	struct edit ed;
	char *line;
	int rc = -1;

	if (bad_field(user) || bad_field(hashed)) {
		set_error(err_r, path, 0, 0, "invalid user or hash");
		return -1;
	}
	if (edit_begin(&ed, path, false, err_r) != 0)
		return -1;
	r = (const struct entry_rec *)passwd_db_lookup(ed.db, user);
	if (r == NULL) {
		set_error(err_r, path, 0, 0, "no user '%s'", user);
	} else if ((line = line_with_hash(path, &r->e, r->len, hashed,
					  err_r)) != NULL) {
		size_t tail = r->off + r->len;
		const char *parts[] = {ed.text, line, ed.text + tail};
		size_t lens[] = {r->off, strlen(line), ed.len - tail};
		rc = write_durably(path, parts, lens, 3, err_r);
		free(line);
	}
	edit_end(&ed);
	return rc;
}

/* ---- mail root, errors ------------------------------------------------ */

int passwd_mail_root(const struct passwd_entry *e, const char *default_root,
		     char *out, size_t n)
{
	size_t len;

	if (e->home != NULL)
		return fmt_into(out, n, "%s", e->home);
	if (default_root == NULL || default_root[0] == '\0' ||
	    strchr(e->user, '/') != NULL || strcmp(e->user, ".") == 0 ||
	    strcmp(e->user, "..") == 0) {
		errno = EINVAL;
		return -1;
	}
	len = strlen(default_root);
	return fmt_into(out, n, "%s%s%s", default_root,
			default_root[len - 1] == '/' ? "" : "/", e->user);
}

const char *passwd_error_str(const struct passwd_error *err, char *buf,
			     size_t n)
{
	char line[32] = "", ebuf[128] = "";
	const char *es = "";

	if (n == 0)
		return buf;
	if (err->line > 0 &&
	    fmt_into(line, sizeof(line), ":%lu", err->line) != 0)
		line[0] = '\0';
	if (err->errnum != 0)
		es = strerror_r(err->errnum, ebuf, sizeof(ebuf));
	if (snprintf(buf, n, "%s%s: %s%s%s", err->file, line, err->msg,
		     err->errnum != 0 ? ": " : "", es) < 0)
		buf[0] = '\0';
	return buf;
}
