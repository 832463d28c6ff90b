/*
 * scenario.h - a scenario file (docs/scenarios.md) loaded and validated.
 *
 * scenario_load_file() reads the YAML with lib/ytree, checks every key and
 * value against the schema of docs/scenarios.md and builds the structs
 * below; nothing is left to check at run time but variables (which only
 * exist then). Errors name the file, line and column:
 *
 *   x.yaml:7:9: step 3 'expect': unknown key 'smpt' (expected one of ...)
 *
 * Strings of steps are kept as templates (struct scenario_str): ${name}
 * references are checked for syntax here and substituted by the runner
 * (vars.h). Regexes are POSIX extended, compiled here; one that uses a
 * variable is compiled here with the variable replaced by a placeholder
 * (to find syntax errors) and again at run time.
 */
#ifndef QUILL_HARNESS_SCENARIO_H
#define QUILL_HARNESS_SCENARIO_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#define SCENARIO_MAX_STEPS	   10000 /* steps in a file, nested included */
#define SCENARIO_MAX_STRING	   (1024u * 1024) /* bytes in one string */
#define SCENARIO_MAX_NESTING	   8		  /* repeat / wait_until */
#define SCENARIO_MAX_TIMES	   100000	  /* repeat times, send times */
#define SCENARIO_MAX_SEND	   (64u * 1024 * 1024) /* bytes one send makes */
#define SCENARIO_MAX_SECONDS	   3600 /* within, sleep, limit, timeout */
#define SCENARIO_DEFAULT_TIMEOUT   60	/* seconds for a whole scenario */
#define SCENARIO_DEFAULT_WITHIN_MS 10000
#define SCENARIO_MAX_LIST	   1000 /* items of rfc, tags, has, ... */
#define SCENARIO_NAME_MAX	   64	/* session and variable names */
#define SCENARIO_QUILLD_CONFIG_MAX 4096 /* bytes of quilld_config */

/* A load error: "file:line:column: message" (line 0: no position). */
struct scenario_error {
	char file[1024];
	unsigned line, column;
	char message[1024];
};

/* Write e as "file:line:column: message" into buf. 0, or -1 if it was
 * truncated (buf still NUL-terminated). */
int scenario_error_format(const struct scenario_error *e, char *buf, size_t n);

/* A string of a step: bytes (may hold NUL) and where it was written. */
struct scenario_str {
	char *s; /* NUL-terminated after len */
	size_t len;
	bool has_vars; /* holds '$': needs vars_expand() before use */
	unsigned line, column;
};

struct scenario_re {
	struct scenario_str src;
	regex_t re; /* valid if compiled */
	bool compiled;
	int cflags; /* REG_EXTENDED | ... as compiled */
};

/* name: regex, group 1 captured into variable name. */
struct scenario_capture {
	char *name;
	struct scenario_re re;
};

/* name: value (set:, vars:, header:). */
struct scenario_pair {
	char *name;
	struct scenario_str value;
};

/* name: regex (header_re:). */
struct scenario_pair_re {
	char *name;
	struct scenario_re re;
};

enum scenario_tls {
	SCENARIO_TLS_DEFAULT, /* the target service's own mode */
	SCENARIO_TLS_NONE,
	SCENARIO_TLS_STARTTLS,
	SCENARIO_TLS_IMPLICIT,
};

enum expect_kind {
	EXPECT_SMTP,
	EXPECT_POP3,
	EXPECT_IMAP,
	EXPECT_IMAP_UNTAGGED,
	EXPECT_LINE,
	EXPECT_LINE_RE,
	EXPECT_NOTHING,
};

enum expect_pop3_status { EXPECT_POP3_OK, EXPECT_POP3_ERR, EXPECT_POP3_CONT };
enum expect_imap_status {
	EXPECT_IMAP_ANY,
	EXPECT_IMAP_OK,
	EXPECT_IMAP_NO,
	EXPECT_IMAP_BAD
};

/* Absent optional fields: NULL s / !compiled && src.s == NULL / -1. */
struct expect_spec {
	enum expect_kind kind;
	char code[4]; /* SMTP: "250", "2xx", "25x" */
	enum expect_pop3_status pop3;
	enum expect_imap_status imap_status;
	struct scenario_str tag;      /* IMAP tag */
	struct scenario_str enhanced; /* SMTP: "2.1.0" or "none" */
	struct scenario_str rcode;    /* POP3/IMAP response code or "none" */
	struct scenario_str text;     /* text, or line: */
	struct scenario_re text_re;   /* text_re, line_re:, imap_untagged: */
	struct scenario_str *has, *lacks;
	size_t n_has, n_lacks;
	long lines; /* SMTP lines, -1 if not checked */
	bool multiline;
	long body_lines;
	struct scenario_str *body_has;
	size_t n_body_has;
	struct scenario_re body_re;
	struct scenario_re body_lacks_re; /* no body line may match */
	struct scenario_re *untagged;
	size_t n_untagged;
	long untagged_count;
	struct scenario_capture *captures;
	size_t n_captures;
	unsigned nothing_ms; /* nothing: */
};

enum step_kind {
	STEP_CONNECT,
	STEP_STARTTLS,
	STEP_CLOSE,
	STEP_EXPECT_CLOSE,
	STEP_SEND,
	STEP_SENDLINE,
	STEP_EXPECT,
	STEP_SMTP_HELLO,
	STEP_SMTP_AUTH,
	STEP_SMTP_SEND,
	STEP_POP3_LOGIN,
	STEP_POP3_STAT,
	STEP_POP3_RETR,
	STEP_POP3_DELE,
	STEP_POP3_QUIT,
	STEP_CHECK_MESSAGE,
	STEP_SLEEP,
	STEP_REPEAT,
	STEP_SET,
	STEP_WAIT_UNTIL,
};

struct scenario_step;

struct scenario_steps {
	struct scenario_step *v;
	size_t n;
};

struct step_connect {
	char service[16];
	enum scenario_tls tls;
};

enum send_form { SEND_DATA, SEND_FILE, SEND_REPEAT };

struct step_send {
	enum send_form form;
	struct scenario_str data; /* data, repeat text, or sendline text */
	char *file;		  /* SEND_FILE: path as resolved at load */
	unsigned long times;	  /* SEND_REPEAT */
	unsigned long chunk;	  /* 0: all at once */
	unsigned pause_ms;
};

/* smtp_auth's mechanisms (RFC 4616, the LOGIN draft, RFC 5802/7677) */
enum step_auth_mech { AUTH_MECH_PLAIN, AUTH_MECH_LOGIN, AUTH_MECH_SCRAM };

struct step_smtp {
	struct scenario_str name;	/* smtp_hello */
	bool greeting;			/* smtp_hello: read the 220 first */
	struct scenario_str user, pass; /* smtp_auth */
	enum step_auth_mech mech;	/* smtp_auth */
	bool initial;			/* smtp_auth PLAIN: initial response */
	struct scenario_str from;	/* smtp_send */
	struct scenario_str *to;	/* smtp_send */
	size_t n_to;
	struct scenario_str data; /* smtp_send: data (or NULL s) */
	char *file;		  /* smtp_send: file */
	char code[4];		  /* final reply expected */
};

struct step_pop3 {
	struct scenario_str user, pass;	       /* pop3_login */
	bool greeting;			       /* pop3_login */
	struct scenario_str msg;	       /* retr, dele: message number */
	char capture[SCENARIO_NAME_MAX];       /* retr */
	char capture_count[SCENARIO_NAME_MAX]; /* stat */
	char capture_size[SCENARIO_NAME_MAX];  /* stat */
};

/* name: how many fields of that name (header_count:). */
struct check_count {
	char *name;
	unsigned long n;
};

struct step_check_message {
	struct scenario_str message;
	struct scenario_pair *header;
	size_t n_header;
	struct scenario_pair_re *header_re;
	size_t n_header_re;
	char *first_header;
	struct scenario_str body_equals; /* s NULL if absent */
	struct check_count *header_count;
	size_t n_header_count;
};

struct step_control {
	unsigned long times;	     /* repeat */
	unsigned ms;		     /* sleep */
	unsigned every_ms;	     /* wait_until */
	unsigned limit_ms;	     /* wait_until */
	struct scenario_steps steps; /* repeat, wait_until */
	struct scenario_pair *set;
	size_t n_set;
};

struct scenario_step {
	enum step_kind kind;
	unsigned line, column;
	char label[48]; /* "3", or "3.2" inside a repeat at step 3 */
	char session[SCENARIO_NAME_MAX];
	unsigned within_ms;
	bool allow_data; /* expect_close */
	union {
		struct step_connect connect;
		struct step_send send;
		struct expect_spec expect;
		struct step_smtp smtp;
		struct step_pop3 pop3;
		struct step_check_message check;
		struct step_control ctl;
	} u;
};

struct scenario {
	char *file; /* as given */
	char *dir;  /* the file's directory, for send: { file: } */
	char *id, *summary, *notes;
	char **rfc, **tags, **requires;
	size_t n_rfc, n_tags, n_requires;
	unsigned timeout_s;
	struct scenario_pair *vars;
	size_t n_vars;
	struct scenario_steps steps;
	size_t total_steps;
	char *quilld_config; /* YAML for the embedded quilld, or NULL */
};

struct rfc_matrix;

/* Load and validate a scenario. m, if not NULL, is the requirement matrix
 * that rfc IDs must be in. NULL and *err_r filled on any error. */
struct scenario *scenario_load_file(const char *path,
				    const struct rfc_matrix *m,
				    struct scenario_error *err_r);
/* The same from memory; name is the file name used in errors and for
 * relative paths. */
struct scenario *scenario_load_string(const char *name, const char *data,
				      size_t len, const struct rfc_matrix *m,
				      struct scenario_error *err_r);
void scenario_free(struct scenario **s);

/* "send", "expect", ... */
const char *scenario_step_name(enum step_kind kind);
/* True if the scenario has this tag. */
bool scenario_has_tag(const struct scenario *s, const char *tag);

/*
 * Regexes as scenarios write them: POSIX extended (REG_EXTENDED plus
 * cflags), with \d and \D outside brackets meaning [0-9] and [^0-9] as a
 * convenience (glibc already knows \s \S \w \W \b). 0, or -1 with a
 * message in err.
 */
int scenario_re_compile(regex_t *re, const char *src, size_t len, int cflags,
			char *err, size_t errlen);
/* Match len bytes of data (NULs allowed). 1 match, 0 no match; pm (may be
 * NULL) gets nmatch groups. */
int scenario_re_exec(const regex_t *re, const char *data, size_t len,
		     size_t nmatch, regmatch_t *pm);

#endif
