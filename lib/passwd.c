/*
 * passwd.c - load and query a Dovecot-format passwd-file.
 *
 * The format and the rules are described in passwd.h. Loading copies the
 * text once and splits it in place; entries point into that copy. An
 * index sorted by user name serves lookups (bsearch) and finds duplicate
 * users. Any bad line rejects the whole file, with its number: a
 * half-read user list is worse than a clear error. Also here: formatting
 * an entry back into a line, mail roots, and the helpers that
 * passwd_private.h shares. Verifying and hashing are in passwd_verify.c;
 * reading the file from disk and changing it are in passwd_file.c.
 */
#include "passwd.h"
#include "passwd_private.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* ---- shared helpers (passwd_private.h) -------------------------------- */

void passwd_set_error(struct passwd_error *err, const char *file,
		      unsigned long line, int errnum, const char *fmt, ...)
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

int passwd_fmt_into(char *out, size_t n, const char *fmt, ...)
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

bool passwd_has_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if (is_ctl((unsigned char)*s))
			return true;
	return false;
}

/* ---- parsing ---------------------------------------------------------- */

static bool parse_fail(const struct parse_ctx *ctx, const char *msg)
{
	passwd_set_error(ctx->err, ctx->name, ctx->line, 0, "%s", msg);
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

	e->hash = parse_scheme(f, e, &msg);
	if (e->hash == NULL)
		return msg;
	return passwd_scheme_check_hash(e->scheme, e->hash);
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
		passwd_set_error(ctx->err, ctx->name, 0, ENOMEM,
				 "out of memory");
		return false;
	}
	for (size_t i = 0; i < db->count; i++)
		db->sorted[i] = &db->recs[i];
	qsort(db->sorted, db->count, sizeof(*db->sorted), rec_cmp);
	for (size_t i = 1; i < db->count; i++) {
		const struct passwd_entry *a = &db->sorted[i - 1]->e;
		const struct passwd_entry *b = &db->sorted[i]->e;
		if (strcmp(a->user, b->user) == 0) {
			passwd_set_error(
				ctx->err, ctx->name, b->line, 0,
				"duplicate user '%s' (first on line %lu)",
				b->user, a->line);
			return false;
		}
	}
	return true;
}

static bool make_dummy(struct passwd_db *db, struct parse_ctx *ctx)
{
	if (passwd_dummy_setting(db->dummy, sizeof(db->dummy)))
		return true;
	passwd_set_error(ctx->err, ctx->name, 0, errno, "cannot make a salt");
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
		passwd_set_error(err_r, name, 0, ENOMEM, "out of memory");
		return NULL;
	}
	db->text = text;
	db->recs = calloc(count_lines(text, len), sizeof(*db->recs));
	if (db->recs == NULL) {
		passwd_set_error(err_r, name, 0, ENOMEM, "out of memory");
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
		passwd_set_error(err_r, name, 0, EFBIG,
				 "passwd-file too large");
		return NULL;
	}
	text = malloc(len + 1);
	if (text == NULL) {
		passwd_set_error(err_r, name, 0, ENOMEM, "out of memory");
		return NULL;
	}
	if (len > 0)
		memcpy(text, data, len);
	text[len] = '\0';
	return load_owned(name, text, len, err_r);
}

/* ---- the db ----------------------------------------------------------- */

struct passwd_db *passwd_db_load(const char *path, struct passwd_error *err_r)
{
	struct passwd_db *db;
	char *text;
	size_t len;
	mode_t mode;

	if (passwd_read_file(path, false, &text, &len, &mode, err_r) != 0)
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

	if ((e->uid >= 0 &&
	     passwd_fmt_into(uid, sizeof(uid), "%ld", e->uid) != 0) ||
	    (e->gid >= 0 &&
	     passwd_fmt_into(gid, sizeof(gid), "%ld", e->gid) != 0))
		return -1;
	for (size_t i = F_UID; i < FIELD_COUNT; i++)
		if (f[i][0] != '\0')
			last = i;
	if (passwd_fmt_into(out, n, "%s:{%s}%s", e->user, e->scheme, e->hash) !=
	    0)
		return -1;
	pos = strlen(out);
	for (size_t i = F_UID; i <= last; i++)
		if (append(out, n, &pos, ":") != 0 ||
		    append(out, n, &pos, f[i]) != 0)
			return -1;
	return 0;
}

/* ---- mail root, errors ------------------------------------------------ */

int passwd_mail_root(const struct passwd_entry *e, const char *default_root,
		     char *out, size_t n)
{
	size_t len;

	if (e->home != NULL)
		return passwd_fmt_into(out, n, "%s", e->home);
	if (default_root == NULL || default_root[0] == '\0' ||
	    strchr(e->user, '/') != NULL || strcmp(e->user, ".") == 0 ||
	    strcmp(e->user, "..") == 0) {
		errno = EINVAL;
		return -1;
	}
	len = strlen(default_root);
	return passwd_fmt_into(out, n, "%s%s%s", default_root,
			       default_root[len - 1] == '/' ? "" : "/",
			       e->user);
}

const char *passwd_error_str(const struct passwd_error *err, char *buf,
			     size_t n)
{
	char line[32] = "", ebuf[128] = "";
	const char *es = "";

	if (n == 0)
		return buf;
	if (err->line > 0 &&
	    passwd_fmt_into(line, sizeof(line), ":%lu", err->line) != 0)
		line[0] = '\0';
	if (err->errnum != 0)
		es = strerror_r(err->errnum, ebuf, sizeof(ebuf));
	if (snprintf(buf, n, "%s%s: %s%s%s", err->file, line, err->msg,
		     err->errnum != 0 ? ": " : "", es) < 0)
		buf[0] = '\0';
	return buf;
}
