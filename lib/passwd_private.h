/*
 * passwd_private.h - what passwd.c, passwd_verify.c and passwd_file.c
 * share. Not for use outside lib/passwd*.c; the API is passwd.h.
 *
 * passwd.c owns the db and its text, passwd_verify.c the schemes and
 * everything libcrypt does, passwd_file.c the file system: reading a file
 * whole and its locked, durable rewrite.
 */
#ifndef QUILL_PASSWD_PRIVATE_H
#define QUILL_PASSWD_PRIVATE_H

#include "passwd.h"

#include <crypt.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

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

/* ---- passwd.c --------------------------------------------------------- */

/* Fills err (if not NULL); file and msg may be truncated. */
void passwd_set_error(struct passwd_error *err, const char *file,
		      unsigned long line, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* snprintf that fails with ERANGE instead of truncating. */
int passwd_fmt_into(char *out, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* True if s holds a control character (TAB included). */
bool passwd_has_ctl(const char *s);

/* ---- passwd_verify.c -------------------------------------------------- */

/* NULL if hash may be stored under scheme (upper case, no braces), else
 * why not: a hash of a known crypt scheme must look like one. */
const char *passwd_scheme_check_hash(const char *scheme, const char *hash);

/* A setting of the default scheme with a random salt, into out (n bytes,
 * CRYPT_GENSALT_OUTPUT_SIZE will do), for verifying unknown users. Returns
 * false with errno set if libcrypt could not make one. */
bool passwd_dummy_setting(char *out, int n);

/* ---- passwd_file.c ---------------------------------------------------- */

/* Reads path whole; a missing file reads as empty if missing_ok. */
int passwd_read_file(const char *path, bool missing_ok, char **text_r,
		     size_t *len_r, mode_t *mode_r, struct passwd_error *err);

#endif
