/*
 * passwd.h - mail users in a passwd-file, in Dovecot's format.
 *
 * Quill's users are virtual: one line each in a text file that Dovecot's
 * "passdb passwd-file" / "userdb passwd-file" could read as it is:
 *
 *	user:{SCHEME}hash[:uid:gid:gecos:home[:shell[:extra_fields]]]
 *
 * Empty lines (or lines of blanks only) and lines starting with '#' are
 * ignored; a line may end in CRLF. Trailing fields may be left out, and
 * every field after the password may be empty. The eighth field,
 * extra_fields, is the rest of the line, colons included.
 *
 * Strict where Dovecot would only log (the reference rejects the whole file
 * and names the line): user names are 1..64 bytes of printable ASCII
 * without ':' or blanks; a user may appear only once; uid and gid are
 * decimal numbers (not names); home, if set, is an absolute path; control
 * characters (other than TAB) and NUL bytes are refused everywhere; a hash
 * tagged with a crypt scheme must carry that scheme's "$id$" prefix.
 * Unknown scheme names are accepted when loading (the file stays usable
 * with Dovecot's schemes) but never verify.
 *
 * Schemes: SHA512-CRYPT ($6$, the default for new hashes), SHA256-CRYPT
 * ($5$), BLF-CRYPT ($2y$, $2b$, $2a$; only if this libcrypt implements
 * bcrypt, checked at run time), YESCRYPT ($y$), CRYPT (any hash libcrypt
 * understands; also used for a hash without a {SCHEME} prefix, as Dovecot's
 * default_pass_scheme = CRYPT does) and PLAIN (also named CLEAR, as in
 * Dovecot), which verifies only when the caller's options allow it. An empty hash, or a CRYPT hash starting with
 * '!' or '*', is a locked account: it never verifies.
 *
 * SCRAM-SHA-256 is Dovecot's scheme of that name: the keys of RFC 5802
 * section 3 with SHA-256 (RFC 7677, lib/scram.h), stored as
 * "<iterations>,<salt base64>,<StoredKey base64>,<ServerKey base64>",
 * strictly checked when loading (iterations 1..10^7, a salt of 1..64
 * bytes, keys of 32). It serves the SCRAM-SHA-256 SASL mechanism without
 * the password (passwd_scram_keys()), and a plaintext password still
 * verifies against it (Hi() with the stored salt and count). The password
 * is Normalize()d by SASLprep, of which only ASCII is implemented: a
 * password with other characters (or a control character) can not be
 * hashed (EINVAL) nor verify.
 *
 * Every function here is thread safe: no global state, crypt work in a
 * struct crypt_data on the heap.
 */
#ifndef QUILL_PASSWD_H
#define QUILL_PASSWD_H

#include <stdbool.h>
#include <stddef.h>

/* The passwd-file used by `quilld --dev` and by `quill user` by default. */
#define PASSWD_DEV_PATH "var/passwd"

#define PASSWD_USER_MAX	    64	 /* bytes in a user name */
#define PASSWD_SCHEME_MAX   31	 /* bytes in a scheme name */
#define PASSWD_PASSWORD_MAX 1024 /* bytes in a password to hash or verify */
#define PASSWD_HASH_SIZE    512	 /* room for "{SCHEME}" + a crypt hash */
#define PASSWD_FILE_MAX	    (64L * 1024 * 1024) /* bytes in a passwd-file */

/* One user. Strings are NUL-terminated; the optional ones are NULL when
 * empty or missing, uid and gid are -1 then. */
struct passwd_entry {
	char user[PASSWD_USER_MAX + 1];
	char scheme[PASSWD_SCHEME_MAX + 1]; /* upper case, no braces */
	char *hash;			    /* without "{SCHEME}"; may be "" */
	long uid, gid;
	char *gecos;
	char *home;
	char *shell;
	char *extra;	    /* extra_fields, unparsed */
	unsigned long line; /* where it was found, from 1 */
};

/* Why a load or a change failed. file and msg are for people to read and
 * may be truncated; line is 0 when the error is not about one line. */
struct passwd_error {
	char file[256];
	unsigned long line;
	int errnum; /* errno of a failed system call, else 0 */
	char msg[256];
};

struct passwd_options {
	bool allow_plain; /* let {PLAIN} passwords verify */
};

enum passwd_verify_result {
	PASSWD_OK = 0,
	/* Wrong password, unknown user, locked account, bad password
	 * (NUL byte, too long): the same answer for all, and for the first
	 * two the same time. */
	PASSWD_FAIL,
	/* The user's scheme is not allowed (PLAIN without allow_plain) or
	 * not implemented here. This tells the caller that the user exists:
	 * log it, and answer the client as for PASSWD_FAIL. */
	PASSWD_SCHEME_DISABLED,
	/* Out of memory, or a stored hash libcrypt rejects. */
	PASSWD_INTERNAL_ERROR,
};

struct passwd_db;

/* Loads a passwd-file. On error returns NULL and fills err_r (which may be
 * NULL). A file that group or others may read or write is loaded anyway:
 * Dovecot setups often keep it 0640 root:dovecot; see
 * passwd_db_mode_too_open(). */
struct passwd_db *passwd_db_load(const char *path, struct passwd_error *err_r);

/* Parses len bytes of passwd-file text; name is used in error messages. */
struct passwd_db *passwd_db_load_buffer(const char *name, const char *data,
					size_t len, struct passwd_error *err_r);

void passwd_db_free(struct passwd_db **db);

/* True if the loaded file had any group or other permission bit set. */
bool passwd_db_mode_too_open(const struct passwd_db *db);

/* The entries in file order, for listing. */
size_t passwd_db_count(const struct passwd_db *db);
const struct passwd_entry *passwd_db_entry(const struct passwd_db *db,
					   size_t i);

/* NULL if there is no such user. */
const struct passwd_entry *passwd_db_lookup(const struct passwd_db *db,
					    const char *user);

/* Checks password (password_len bytes, need not be NUL-terminated) for
 * user. opt may be NULL: PLAIN not allowed. */
enum passwd_verify_result passwd_verify(const struct passwd_db *db,
					const char *user, const char *password,
					size_t password_len,
					const struct passwd_options *opt);

/* passwd_verify() for an entry the caller looked up itself (e may be NULL
 * for an unknown user: the same work as a wrong password, a crypt of a
 * fresh setting of the default scheme). */
enum passwd_verify_result passwd_verify_entry(const struct passwd_entry *e,
					      const char *password,
					      size_t password_len,
					      const struct passwd_options *opt);

/* The password itself, for mechanisms that need the shared secret (POP3
 * APOP, RFC 1939 section 7): only a {PLAIN} (or {CLEAR}) entry with
 * opt->allow_plain has one, and an empty one does not count. Returns 0
 * with *secret_r pointing into e, or -1 with errno EACCES. */
int passwd_plain_secret(const struct passwd_entry *e,
			const struct passwd_options *opt,
			const char **secret_r);

/* A human-readable name for a verify result. */
const char *passwd_verify_result_str(enum passwd_verify_result res);

/* True if scheme (case-insensitive, no braces) can be verified here;
 * for BLF-CRYPT and YESCRYPT this asks libcrypt. */
bool passwd_scheme_supported(const char *scheme);

/* Hashes password with a fresh random salt into out as "{SCHEME}hash".
 * scheme is SHA512-CRYPT (also when NULL), SHA256-CRYPT, YESCRYPT,
 * BLF-CRYPT, SCRAM-SHA-256 (SCRAM_ITERATIONS_DEFAULT = 4096 iterations, a
 * 16-byte salt) or PLAIN (for tests). Returns 0, or -1 with errno: EINVAL
 * (bad scheme or password: empty, too long, for PLAIN containing ':' or a
 * control character, for SCRAM-SHA-256 not ASCII or holding a control
 * character), ENOTSUP (scheme not in this libcrypt), ERANGE (out too
 * small), ENOMEM, EIO (OpenSSL failed). */
int passwd_hash(const char *scheme, const char *password, char *out,
		size_t out_size);

/* passwd_hash("SCRAM-SHA-256", ...) with iterations (1..10^7) instead of
 * 4096, which RFC 7677 asks servers for at least; fewer are for tests and
 * fuzzers, whose SASL settings must then allow them. */
int passwd_hash_scram(const char *password, unsigned iterations, char *out,
		      size_t out_size);

struct scram_creds; /* lib/scram.h */

/* The SCRAM-SHA-256 keys stored for e. Returns 0, or -1 with errno ENOENT
 * (another scheme), EACCES (a locked account: no hash) or EINVAL (a hash
 * that does not parse: only for an entry not loaded from a file). */
int passwd_scram_keys(const struct passwd_entry *e, struct scram_creds *out);

/* Formats e as one passwd-file line, without the newline, leaving out
 * trailing empty fields. Returns 0, or -1 with errno ERANGE. */
int passwd_entry_format(const struct passwd_entry *e, char *out, size_t n);

/* Adds "user:hashed" (with home, if not NULL, as the home field) to the
 * passwd-file at path, creating it if missing. Refuses a user that is
 * already there and a file that does not parse. The file is rewritten
 * whole: a temporary file in the same directory (mode 0600), fsync, rename
 * over the old one, fsync of the directory. Writers are serialised with
 * flock() on "<path>.lock". Returns 0, or -1 and fills err_r. */
int passwd_file_add(const char *path, const char *user, const char *hashed,
		    const char *home, struct passwd_error *err_r);

/* Replaces the password of an existing user, the same way. */
int passwd_file_set_password(const char *path, const char *user,
			     const char *hashed, struct passwd_error *err_r);

/* The directory that holds e's mail: the home field if set, else
 * "<default_root>/<user>" - refused (EINVAL) for a user name that is not
 * a safe path component ("." / ".." / containing '/'). Returns 0, or -1
 * with errno EINVAL or ERANGE (n too small). */
int passwd_mail_root(const struct passwd_entry *e, const char *default_root,
		     char *out, size_t n);

/* Formats err as "file:line: message[: strerror]" into buf; returns buf. */
const char *passwd_error_str(const struct passwd_error *err, char *buf,
			     size_t n);

#endif
