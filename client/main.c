/*
 * main.c - quill, Quill's command line client.
 *
 * Commands live in tables (name, arguments, one line of help, handler);
 * a group such as "user" dispatches to a table of its own, so new commands
 * are one entry and one function. For now:
 *
 *	quill user add    [--file PATH] [--scheme SCHEME] [--home DIR] USER
 *	quill user passwd [--file PATH] [--scheme SCHEME] USER
 *	quill user check  [--file PATH] [--allow-plain] USER
 *	quill user list   [--file PATH]
 *	quill store append|ls|check|convert ...   (store_cmd.c)
 *	quill queue list|show ...                  (queue_cmd.c)
 *
 * Passwords are read from stdin: the first line, without its LF (or CR LF).
 * On a terminal the echo is turned off, and a new password is asked twice.
 * The passwd-file is Dovecot's format (lib/passwd.h), by default
 * ./var/passwd, the file `quilld --dev` reads.
 *
 * Exit status: 0 success, 1 failure (including "check" answering
 * "failed"), 2 usage error. Messages go to stderr, results to stdout.
 */
#include "passwd.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#ifndef QUILL_VERSION
#define QUILL_VERSION "unknown"
#endif

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct command {
	const char *name;
	const char *args;
	const char *help;
	int (*run)(int argc, char **argv); /* argv[0] is the name */
};

/* Options of the "user" commands; which ones each accepts is a mask. */
enum {
	OPT_FILE = 1 << 0,
	OPT_SCHEME = 1 << 1,
	OPT_HOME = 1 << 2,
	OPT_PLAIN = 1 << 3,
	OPT_USER = 1 << 4, /* takes a USER argument */
};

struct user_opts {
	const char *cmd; /* "quill user add", for messages */
	const char *file;
	const char *scheme;
	const char *home;
	bool allow_plain;
	const char *user;
};

static const struct command *user_commands(void);
int cmd_store(int argc, char **argv); /* store_cmd.c */
int cmd_queue(int argc, char **argv); /* queue_cmd.c */

__attribute__((format(printf, 2, 3))) static void say(const char *cmd,
						      const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void print_usage(FILE *out, const char *prefix, const char *synopsis,
			const struct command *table)
{
	fprintf(out, "usage: %s %s\n\ncommands:\n", prefix, synopsis);
	for (const struct command *c = table; c->name != NULL; c++)
		fprintf(out, "  %s %s %s\n      %s\n", prefix, c->name, c->args,
			c->help);
}

/* Runs the command argv[1] of table; argv[0] names the group. */
static int dispatch(const char *prefix, const char *synopsis,
		    const struct command *table, int argc, char **argv)
{
	if (argc < 2) {
		print_usage(stderr, prefix, synopsis, table);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		print_usage(stdout, prefix, synopsis, table);
		return EXIT_OK;
	}
	for (const struct command *c = table; c->name != NULL; c++)
		if (strcmp(c->name, argv[1]) == 0)
			return c->run(argc - 1, argv + 1);
	say(prefix, "unknown command '%s' (try '%s --help')", argv[1], prefix);
	return EXIT_USAGE;
}

/* ---- reading passwords ------------------------------------------------ */

/* One line of stdin into buf, without LF or CR LF. */
static int read_line(char *buf, size_t n, size_t *len_r)
{
	size_t len = 0;
	int c;

	while ((c = getchar()) != EOF && c != '\n') {
		if (len + 1 >= n)
			return -1;
		buf[len++] = (char)c;
	}
	if (ferror(stdin))
		return -1;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	*len_r = len;
	return 0;
}

/* read_line, with a prompt and no echo if stdin is a terminal. */
static int read_password(const char *prompt, char *buf, size_t n, size_t *len_r)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	int rc;

	if (tty) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		fprintf(stderr, "%s", prompt);
		tty = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
	}
	rc = read_line(buf, n, len_r);
	if (tty) {
		fputc('\n', stderr);
		if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &old) != 0)
			perror("quill: cannot restore the terminal");
	}
	return rc;
}

/* A new password: not empty, no NUL, typed twice on a terminal. */
static int new_password(const char *cmd, char *pw, size_t n)
{
	char again[PASSWD_PASSWORD_MAX + 2];
	size_t len, len2;
	int rc = -1;

	if (read_password("New password: ", pw, n, &len) != 0)
		say(cmd, "cannot read a password from stdin (at most %d bytes)",
		    PASSWD_PASSWORD_MAX);
	else if (len == 0)
		say(cmd, "refusing an empty password");
	else if (memchr(pw, '\0', len) != NULL)
		say(cmd, "refusing a password that contains a NUL byte");
	else if (isatty(STDIN_FILENO) &&
		 (read_password("Retype password: ", again, sizeof(again),
				&len2) != 0 ||
		  len2 != len || memcmp(pw, again, len) != 0))
		say(cmd, "passwords do not match");
	else
		rc = 0;
	explicit_bzero(again, sizeof(again));
	return rc;
}

/* ---- options ---------------------------------------------------------- */

static void user_usage(FILE *out, const char *name)
{
	for (const struct command *c = user_commands(); c->name != NULL; c++)
		if (strcmp(name, c->name) == 0)
			fprintf(out, "usage: quill user %s %s\n  %s\n", name,
				c->args, c->help);
}

static const char *option_name(const struct option *opts, int val)
{
	for (; opts->name != NULL; opts++)
		if (opts->val == val)
			return opts->name;
	return "?";
}

/* 0: go on, 1: help shown, -1: usage error (reported). */
static int parse_user_opts(int argc, char **argv, unsigned allowed,
			   struct user_opts *o)
{
	static const struct option longopts[] = {
		{"file", required_argument, NULL, 'f'},
		{"scheme", required_argument, NULL, 's'},
		{"home", required_argument, NULL, 'H'},
		{"allow-plain", no_argument, NULL, 'P'},
		{"password-stdin", no_argument, NULL, 'i'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:s:h", longopts, NULL)) != -1) {
		unsigned need = c == 'f'   ? OPT_FILE
				: c == 's' ? OPT_SCHEME
				: c == 'H' ? OPT_HOME
				: c == 'P' ? OPT_PLAIN
					   : 0;
		if (c == 'h') {
			user_usage(stdout, argv[0]);
			return 1;
		}
		if (c == ':' || c == '?') {
			say(o->cmd, "%s: %s", argv[optind - 1],
			    c == ':' ? "needs an argument" : "unknown option");
			return -1;
		}
		if ((need & allowed) != need) {
			say(o->cmd, "--%s: not an option of this command",
			    option_name(longopts, c));
			return -1;
		}
		if (c == 'f')
			o->file = optarg;
		else if (c == 's')
			o->scheme = optarg;
		else if (c == 'H')
			o->home = optarg;
		else if (c == 'P')
			o->allow_plain = true;
	}
	if (argc - optind != ((allowed & OPT_USER) ? 1 : 0)) {
		say(o->cmd, "%s",
		    (allowed & OPT_USER) ? "needs one USER"
					 : "takes no arguments");
		return -1;
	}
	o->user = (allowed & OPT_USER) ? argv[optind] : NULL;
	return 0;
}

static int user_opts(int argc, char **argv, unsigned allowed,
		     struct user_opts *o, char *cmd, size_t n)
{
	int rc;

	if (snprintf(cmd, n, "quill user %s", argv[0]) >= (int)n)
		return EXIT_USAGE;
	*o = (struct user_opts){.cmd = cmd, .file = PASSWD_DEV_PATH};
	rc = parse_user_opts(argc, argv, allowed, o);
	if (rc != 0) {
		if (rc < 0)
			user_usage(stderr, argv[0]);
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	}
	if (o->scheme != NULL && (!passwd_scheme_supported(o->scheme) ||
				  strcasecmp(o->scheme, "CRYPT") == 0)) {
		say(cmd,
		    "scheme '%s' unknown or not supported here "
		    "(SHA512-CRYPT, SHA256-CRYPT, YESCRYPT, BLF-CRYPT, "
		    "SCRAM-SHA-256, PLAIN)",
		    o->scheme);
		return EXIT_USAGE;
	}
	if (o->home != NULL && o->home[0] != '/') {
		say(cmd, "--home must be an absolute path");
		return EXIT_USAGE;
	}
	return -1; /* go on */
}

/* ---- the user commands ------------------------------------------------ */

static void report(const char *cmd, const struct passwd_error *err)
{
	char msg[1024];

	say(cmd, "%s", passwd_error_str(err, msg, sizeof(msg)));
}

/* Creates the passwd-file's directory (one level) if it is missing. */
static int ensure_parent(const char *cmd, const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	struct stat st;

	if (slash == NULL || slash == path)
		return 0;
	if (snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path) >=
	    (int)sizeof(dir)) {
		say(cmd, "path too long");
		return -1;
	}
	if (stat(dir, &st) == 0 || errno != ENOENT)
		return 0; /* any other problem shows when writing */
	if (mkdir(dir, 0700) != 0) {
		say(cmd, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* Reads a new password and hashes it into hash. */
static int hash_new_password(const struct user_opts *o, char *hash, size_t n)
{
	char pw[PASSWD_PASSWORD_MAX + 2];
	int rc = -1;

	if (new_password(o->cmd, pw, sizeof(pw)) == 0) {
		rc = passwd_hash(o->scheme, pw, hash, n);
		if (rc != 0 && errno == EINVAL && o->scheme != NULL &&
		    strcasecmp(o->scheme, "SCRAM-SHA-256") == 0)
			say(o->cmd, "cannot hash the password: SCRAM-SHA-256 "
				    "takes ASCII without control characters "
				    "(SASLprep)");
		else if (rc != 0)
			say(o->cmd, "cannot hash the password: %s",
			    strerror(errno));
	}
	explicit_bzero(pw, sizeof(pw));
	if (rc == 0 && o->scheme != NULL && strcasecmp(o->scheme, "PLAIN") == 0)
		say(o->cmd, "warning: PLAIN keeps the password in clear text");
	return rc;
}

static int cmd_user_add(int argc, char **argv)
{
	char cmd[64], hash[PASSWD_HASH_SIZE];
	struct passwd_error err;
	struct user_opts o;
	int rc = user_opts(argc, argv,
			   OPT_FILE | OPT_SCHEME | OPT_HOME | OPT_USER, &o, cmd,
			   sizeof(cmd));

	if (rc >= 0)
		return rc;
	if (ensure_parent(cmd, o.file) != 0 ||
	    hash_new_password(&o, hash, sizeof(hash)) != 0)
		return EXIT_FAIL;
	if (passwd_file_add(o.file, o.user, hash, o.home, &err) != 0) {
		report(cmd, &err);
		return EXIT_FAIL;
	}
	printf("added user %s to %s\n", o.user, o.file);
	return EXIT_OK;
}

static int cmd_user_passwd(int argc, char **argv)
{
	char cmd[64], hash[PASSWD_HASH_SIZE];
	struct passwd_error err;
	struct user_opts o;
	int rc = user_opts(argc, argv, OPT_FILE | OPT_SCHEME | OPT_USER, &o,
			   cmd, sizeof(cmd));

	if (rc >= 0)
		return rc;
	if (hash_new_password(&o, hash, sizeof(hash)) != 0)
		return EXIT_FAIL;
	if (passwd_file_set_password(o.file, o.user, hash, &err) != 0) {
		report(cmd, &err);
		return EXIT_FAIL;
	}
	printf("changed the password of %s in %s\n", o.user, o.file);
	return EXIT_OK;
}

static struct passwd_db *load(const char *cmd, const char *path)
{
	struct passwd_error err;
	struct passwd_db *db = passwd_db_load(path, &err);

	if (db == NULL)
		report(cmd, &err);
	else if (passwd_db_mode_too_open(db))
		say(cmd,
		    "warning: %s can be read or written by group or "
		    "others (chmod 600)",
		    path);
	return db;
}

static int check_password(const struct user_opts *o, const struct passwd_db *db)
{
	const struct passwd_options popt = {.allow_plain = o->allow_plain};
	char pw[PASSWD_PASSWORD_MAX + 2];
	enum passwd_verify_result res = PASSWD_FAIL;
	size_t len;

	if (read_password("Password: ", pw, sizeof(pw), &len) != 0)
		say(o->cmd, "cannot read a password from stdin");
	else
		res = passwd_verify(db, o->user, pw, len, &popt);
	explicit_bzero(pw, sizeof(pw));
	if (res == PASSWD_SCHEME_DISABLED || res == PASSWD_INTERNAL_ERROR)
		say(o->cmd, "%s: %s%s", o->user, passwd_verify_result_str(res),
		    res == PASSWD_SCHEME_DISABLED && !o->allow_plain
			    ? " (PLAIN needs --allow-plain)"
			    : "");
	printf("%s\n", res == PASSWD_OK ? "ok" : "failed");
	return res == PASSWD_OK ? EXIT_OK : EXIT_FAIL;
}

static int cmd_user_check(int argc, char **argv)
{
	char cmd[64];
	struct passwd_db *db;
	struct user_opts o;
	int rc = user_opts(argc, argv, OPT_FILE | OPT_PLAIN | OPT_USER, &o, cmd,
			   sizeof(cmd));

	if (rc >= 0)
		return rc;
	db = load(cmd, o.file);
	if (db == NULL)
		return EXIT_FAIL;
	rc = check_password(&o, db);
	passwd_db_free(&db);
	return rc;
}

static int cmd_user_list(int argc, char **argv)
{
	char cmd[64];
	struct passwd_db *db;
	struct user_opts o;
	int rc = user_opts(argc, argv, OPT_FILE, &o, cmd, sizeof(cmd));

	if (rc >= 0)
		return rc;
	db = load(cmd, o.file);
	if (db == NULL)
		return EXIT_FAIL;
	for (size_t i = 0; i < passwd_db_count(db); i++) {
		const struct passwd_entry *e = passwd_db_entry(db, i);
		printf("%s\t{%s}\t%s\n", e->user, e->scheme,
		       e->home != NULL ? e->home : "-");
	}
	passwd_db_free(&db);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}

static const struct command *user_commands(void)
{
	static const struct command table[] = {
		{"add", "[--file PATH] [--scheme SCHEME] [--home DIR] USER",
		 "add USER with the password read from stdin "
		 "(default scheme SHA512-CRYPT)",
		 cmd_user_add},
		{"passwd", "[--file PATH] [--scheme SCHEME] USER",
		 "change the password of USER (new password from stdin)",
		 cmd_user_passwd},
		{"check", "[--file PATH] [--allow-plain] USER",
		 "read a password from stdin, print ok or failed "
		 "(exit 0 or 1)",
		 cmd_user_check},
		{"list", "[--file PATH]", "list users, schemes and homes",
		 cmd_user_list},
		{NULL, NULL, NULL, NULL},
	};
	return table;
}

static int cmd_user(int argc, char **argv)
{
	return dispatch("quill user", "COMMAND [OPTIONS] [USER]",
			user_commands(), argc, argv);
}

/* ---- top level -------------------------------------------------------- */

static const struct command top_commands[] = {
	{"user", "add|passwd|check|list ...",
	 "manage the users of a passwd-file (default " PASSWD_DEV_PATH ")",
	 cmd_user},
	{"store", "append|ls|check|convert ...",
	 "read and write a Maildir or mbox store directly", cmd_store},
	{"queue", "list|show ...",
	 "what quilld has queued, and each recipient's state", cmd_queue},
	{NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	int rc;

	if (argc >= 2 &&
	    (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)) {
		printf("quill %s\n", QUILL_VERSION);
		rc = EXIT_OK;
	} else {
		rc = dispatch("quill", "[--help | --version] COMMAND ...",
			      top_commands, argc, argv);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("quill: stdout");
		return EXIT_FAIL;
	}
	return rc;
}
