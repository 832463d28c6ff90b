/*
 * smtp_path.h - the path argument of MAIL FROM and RCPT TO, a pure parser
 * over byte strings (no I/O, no globals).
 *
 * RFC 5321 3.3 (no space around the colon), 4.1.1.2 (MAIL), 4.1.1.3 and
 * 4.5.1 (RCPT, "<Postmaster>"), 4.1.2 (Path, Mailbox, Local-part), 4.1.3
 * (address literals, via smtp_syntax.h), 4.5.3.1.1-3 (length limits),
 * 4.5.3.1.9 ("501 Path too long"), Appendix C (source routes: accepted,
 * dropped, reported). RFC 6531 3.3 (SMTPUTF8: UTF-8 in atext, qtextSMTP
 * and U-label sub-domains) and 3.5 (X.6.7 for a non-ASCII address
 * without SMTPUTF8). RFC 3463 3.2 / 3.6 for the enhanced status codes.
 */
#ifndef QUILL_SMTP_PATH_H
#define QUILL_SMTP_PATH_H

#include <stdbool.h>
#include <stddef.h>

/* The limits of RFC 5321 4.5.3.1.1-3, in octets. */
#define SMTP_PATH_LOCAL_DEFAULT	 64
#define SMTP_PATH_DOMAIN_DEFAULT 255
#define SMTP_PATH_PATH_DEFAULT	 256 /* "<" ... ">", route included */

/* The most struct smtp_path can hold; larger limits are clamped to these.
 * A domain never exceeds 255 octets (the DNS limit, RFC 1035 2.3.4). */
#define SMTP_PATH_LOCAL_CAP  256
#define SMTP_PATH_DOMAIN_CAP 255

struct smtp_path_limits {
	size_t local_max;  /* Local-part as written, quotes included */
	size_t domain_max; /* Domain or address literal, brackets included */
	size_t path_max;   /* the whole Path, angle brackets included */
};

#define SMTP_PATH_LIMITS_DEFAULT                                   \
	{                                                          \
		SMTP_PATH_LOCAL_DEFAULT, SMTP_PATH_DOMAIN_DEFAULT, \
			SMTP_PATH_PATH_DEFAULT                     \
	}

enum smtp_path_kind {
	SMTP_PATH_MAIL, /* "FROM:" Reverse-path */
	SMTP_PATH_RCPT, /* "TO:" Forward-path */
};

/* A parsed path. Every string is NUL-terminated and holds no NUL. */
struct smtp_path {
	bool null_path;		/* MAIL FROM:<> */
	bool postmaster;	/* RCPT TO:<Postmaster>, any case, no domain */
	bool had_route;		/* "@a,@b:" was present and was dropped */
	bool domain_is_literal; /* domain is an address literal */
	bool utf8;		/* non-ASCII octets in the path */
	char local[SMTP_PATH_LOCAL_CAP + 1]; /* as written, quotes kept */
	/* quoted-pairs resolved, quotes removed: the form to look up */
	char local_unquoted[SMTP_PATH_LOCAL_CAP + 1];
	char domain[SMTP_PATH_DOMAIN_CAP + 1]; /* literal: with brackets */
};

/* One value per distinct problem; smtp_path_reply() gives the reply. */
enum smtp_path_error {
	SMTP_PATH_OK = 0,
	SMTP_PATH_ERR_KEYWORD,		/* not "FROM:" / "TO:" */
	SMTP_PATH_ERR_SPACE,		/* space beside the colon (3.3) */
	SMTP_PATH_ERR_MISSING_BRACKETS, /* no "<" or no ">" */
	SMTP_PATH_ERR_TRAILING,		/* after ">": neither end nor SP */
	SMTP_PATH_ERR_NULL_NOT_ALLOWED, /* "<>" as a forward-path */
	SMTP_PATH_ERR_BAD_ROUTE,	/* malformed "@a,@b:" */
	SMTP_PATH_ERR_NO_DOMAIN,	/* Local-part without "@" Domain */
	SMTP_PATH_ERR_BAD_LOCAL,	/* not a Dot-string / Quoted-string */
	SMTP_PATH_ERR_BAD_DOMAIN,	/* not a Domain (or U-label domain) */
	SMTP_PATH_ERR_BAD_LITERAL,	/* not an address-literal (4.1.3) */
	SMTP_PATH_ERR_BAD_UTF8,		/* SMTPUTF8 on, invalid UTF-8 */
	SMTP_PATH_ERR_EIGHTBIT,		/* octet >= 0x80 without SMTPUTF8 */
	SMTP_PATH_ERR_LOCAL_TOO_LONG,	/* over local_max */
	SMTP_PATH_ERR_DOMAIN_TOO_LONG,	/* over domain_max */
	SMTP_PATH_ERR_PATH_TOO_LONG,	/* over path_max */
};

/* A reply: code, RFC 3463 enhanced code, short text (static strings). */
struct smtp_path_reply {
	int code;
	const char *enh;
	const char *text;
};

/* Parse the argument of MAIL ("FROM:<...>") or RCPT ("TO:<...>"), i.e.
 * the bytes after "MAIL " / "RCPT ". The keyword is case-insensitive;
 * nothing may separate the colon from "<". lim NULL means the defaults.
 * utf8_ok: SMTPUTF8 applies (for MAIL: the server offers it; for RCPT:
 * the MAIL command carried it). A MAIL parsed with utf8_ok whose path
 * turns out non-ASCII (path_r->utf8) must still see the SMTPUTF8
 * parameter, else the caller replies smtp_path_reply(SMTP_PATH_ERR_EIGHTBIT).
 * On success *params_r is where the parameters begin (after the one SP
 * following ">"), or len when there are none. On error *path_r is all
 * zero (empty strings, no flags). */
enum smtp_path_error smtp_path_parse(const char *arg, size_t len,
				     enum smtp_path_kind kind,
				     const struct smtp_path_limits *lim,
				     bool utf8_ok, struct smtp_path *path_r,
				     size_t *params_r);

/* Parse a bare Mailbox (no brackets, no route, no "Postmaster" form), as
 * carried by AUTH= (RFC 4954 5). Applies local_max, domain_max and
 * path_max (to the mailbox plus two brackets); "<>" is null_path. */
enum smtp_path_error smtp_path_parse_mailbox(const char *p, size_t len,
					     const struct smtp_path_limits *lim,
					     bool utf8_ok,
					     struct smtp_path *path_r);

/* The reply for an error: the X.1.7 (MAIL) or X.1.3 (RCPT) family for
 * address problems, X.5.2 for a malformed command around the address,
 * X.6.7 for a non-ASCII address without SMTPUTF8. */
struct smtp_path_reply smtp_path_reply(enum smtp_path_error err,
				       enum smtp_path_kind kind);

/* A short name for logs ("bad_local"). */
const char *smtp_path_error_name(enum smtp_path_error err);

/* Length of the valid non-ASCII UTF-8 sequence at p (2-4), or 0: ASCII,
 * truncated, overlong, a surrogate, beyond U+10FFFF (RFC 3629 4). */
size_t smtp_path_utf8_len(const unsigned char *p, size_t avail);

/* Relay tricks, for policy code (RFC 5321 3.6.1, Appendix C): forms an
 * old mailer may route on, so a relay check that looks only at the
 * domain could be bypassed. smtp_path_suspicious_why() says which:
 * PERCENT     "%" in the local part: the percent hack, user%final@relay
 *             asks relay to send on to user@final.
 * BANG        "!" in the local part: a UUCP bang path, final!user@relay.
 * QUOTED_AT   "@" in a quoted local part, "user@final"@relay: a mailer
 *             that unquotes and reparses sees another domain.
 * TRAILING_DOT the domain ends in ".", the DNS absolute form that string
 *             comparisons against local domains miss. The parser refuses
 *             it; the check covers paths built by other code.
 * ROUTE       a source route, <@relay:user@final>, was given (and
 *             dropped: delivery goes to the mailbox's own domain). */
#define SMTP_PATH_SUSP_PERCENT	    0x01u
#define SMTP_PATH_SUSP_BANG	    0x02u
#define SMTP_PATH_SUSP_QUOTED_AT    0x04u
#define SMTP_PATH_SUSP_TRAILING_DOT 0x08u
#define SMTP_PATH_SUSP_ROUTE	    0x10u

unsigned smtp_path_suspicious_why(const struct smtp_path *p);
bool smtp_path_suspicious(const struct smtp_path *p);

#endif
