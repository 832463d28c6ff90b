/*
 * smtp_params.h - the ESMTP parameters of MAIL and RCPT, pure functions
 * over byte strings (no I/O, no globals).
 *
 * RFC 5321 4.1.2 (esmtp-param), 4.1.1.11 (555 for parameters not
 * recognised or not implemented); RFC 1870 6 (SIZE); RFC 6152 and RFC
 * 3030 (BODY); RFC 6531 3.3 and 3.4 (SMTPUTF8, UTF-8 in esmtp-value);
 * RFC 3461 4 (xtext), 4.1 (NOTIFY), 4.2 (ORCPT), 4.3 (RET), 4.4 (ENVID),
 * 4.5 (duplicates: 501), 5.4 (sizes); RFC 6533 3 (ORCPT "utf-8" type);
 * RFC 4954 5 (AUTH=). Replies use RFC 3463 X.5.4 (3.6) and X.3.4 (3.4).
 *
 * A parsed parameter points into the caller's input; nothing is copied.
 */
#ifndef QUILL_SMTP_PARAMS_H
#define QUILL_SMTP_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smtp_path.h"

#define SMTP_PARAM_MAX_DEFAULT 16  /* parameters per command */
#define SMTP_PARAM_ENVID_MAX   100 /* RFC 3461 4.4, the xtext as sent */
#define SMTP_PARAM_ORCPT_MAX   500 /* RFC 3461 4.2, the whole value */

/* esmtp-param = esmtp-keyword ["=" esmtp-value] */
struct smtp_param {
	const char *keyword;
	size_t keyword_len;
	const char *value; /* NULL: no "=" */
	size_t value_len;
	bool utf8; /* the value holds non-ASCII (needs SMTPUTF8) */
};

/* The parameters this code knows. */
enum smtp_param_id {
	SMTP_PARAM_UNKNOWN = 0,
	SMTP_PARAM_SIZE,     /* MAIL, RFC 1870 */
	SMTP_PARAM_BODY,     /* MAIL, RFC 6152 / RFC 3030 */
	SMTP_PARAM_SMTPUTF8, /* MAIL, RFC 6531 */
	SMTP_PARAM_RET,	     /* MAIL, RFC 3461 */
	SMTP_PARAM_ENVID,    /* MAIL, RFC 3461 */
	SMTP_PARAM_AUTH,     /* MAIL, RFC 4954 */
	SMTP_PARAM_NOTIFY,   /* RCPT, RFC 3461 */
	SMTP_PARAM_ORCPT,    /* RCPT, RFC 3461 / RFC 6533 */
};

#define SMTP_PARAM_BIT(id) (1u << (id))

enum smtp_param_error {
	SMTP_PARAM_OK = 0,
	SMTP_PARAM_ERR_SYNTAX,	      /* not esmtp-param *(SP esmtp-param) */
	SMTP_PARAM_ERR_DUPLICATE,     /* a keyword twice (RFC 3461 4.5) */
	SMTP_PARAM_ERR_TOO_MANY,      /* more than the caller's maximum */
	SMTP_PARAM_ERR_EIGHTBIT,      /* non-ASCII value without SMTPUTF8 */
	SMTP_PARAM_ERR_UNKNOWN,	      /* not recognised or not offered */
	SMTP_PARAM_ERR_VALUE,	      /* a known keyword with a bad value */
	SMTP_PARAM_ERR_TOO_LONG,      /* ENVID, ORCPT or AUTH over its size */
	SMTP_PARAM_ERR_SIZE_OVERFLOW, /* SIZE beyond 2^64-1 octets */
};

/* Split "kw[=value] kw[=value]..." (the text after the path's SP) into
 * out[0..max-1]; *n_r gets the count. Keywords are case-insensitive and
 * may appear once. utf8_ok: SMTPUTF8 applies (RFC 6531 3.3 lets values
 * hold UTF-8); otherwise an octet >= 0x80 is SMTP_PARAM_ERR_EIGHTBIT.
 * An empty string is no parameters. */
enum smtp_param_error smtp_param_parse(const char *s, size_t len, bool utf8_ok,
				       struct smtp_param *out, size_t max,
				       size_t *n_r);

enum smtp_param_id smtp_param_id(const struct smtp_param *p);
const char *smtp_param_name(enum smtp_param_id id);
/* The first parameter with that id, or NULL. */
const struct smtp_param *smtp_param_find(const struct smtp_param *v, size_t n,
					 enum smtp_param_id id);
/* SMTP_PARAM_ERR_UNKNOWN (index in *bad_r) when a parameter's id is not
 * in allowed (SMTP_PARAM_BIT()s of what this command and the offered
 * extensions allow). */
enum smtp_param_error smtp_param_check_known(const struct smtp_param *v,
					     size_t n, unsigned allowed,
					     size_t *bad_r);

/* The reply for an error: 501 5.5.4 for syntax and values, 555 5.5.4 for
 * an unknown parameter, 552 5.3.4 for a SIZE too large to represent.
 * id names the parameter in the text (SMTP_PARAM_UNKNOWN: generic). */
struct smtp_path_reply smtp_param_reply(enum smtp_param_error err,
					enum smtp_param_id id);

/* A short name for logs ("duplicate"). */
const char *smtp_param_error_name(enum smtp_param_error err);

/* Decoders of the known parameters; each returns SMTP_PARAM_OK or the
 * error to hand to smtp_param_reply(). */

/* SIZE=1*20DIGIT (RFC 1870 4 and 6): no sign, no space. */
enum smtp_param_error smtp_param_size(const struct smtp_param *p,
				      uint64_t *size_r);

enum smtp_param_body {
	SMTP_PARAM_BODY_7BIT,
	SMTP_PARAM_BODY_8BITMIME,
	SMTP_PARAM_BODY_BINARYMIME,
};
/* BODY=7BIT / 8BITMIME / BINARYMIME, any case. */
enum smtp_param_error smtp_param_body(const struct smtp_param *p,
				      enum smtp_param_body *body_r);

/* SMTPUTF8 takes no value (RFC 6531 3.4). */
enum smtp_param_error smtp_param_smtputf8(const struct smtp_param *p);

enum smtp_param_ret {
	SMTP_PARAM_RET_FULL,
	SMTP_PARAM_RET_HDRS,
};
/* RET=FULL / HDRS, any case. */
enum smtp_param_error smtp_param_ret(const struct smtp_param *p,
				     enum smtp_param_ret *ret_r);

/* ENVID=xtext, at most SMTP_PARAM_ENVID_MAX octets as sent, decoding to
 * printable ASCII (graphic or white space). out needs
 * SMTP_PARAM_ENVID_MAX + 1 octets; the result is NUL-terminated. */
enum smtp_param_error smtp_param_envid(const struct smtp_param *p, char *out,
				       size_t cap, size_t *len_r);

#define SMTP_PARAM_NOTIFY_NEVER	  0x1u
#define SMTP_PARAM_NOTIFY_SUCCESS 0x2u
#define SMTP_PARAM_NOTIFY_FAILURE 0x4u
#define SMTP_PARAM_NOTIFY_DELAY	  0x8u
/* NOTIFY=NEVER / 1#(SUCCESS / FAILURE / DELAY), any case; NEVER alone.
 * No empty list elements; a repeated element is allowed (1# allows it). */
enum smtp_param_error smtp_param_notify(const struct smtp_param *p,
					unsigned *flags_r);

/* ORCPT=addr-type ";" address (RFC 3461 4.2), value at most
 * SMTP_PARAM_ORCPT_MAX octets. addr-type is an RFC 822 atom, compared
 * case-insensitively. For "utf-8" (RFC 6533 3) the address is
 * utf-8-addr-xtext / utf-8-addr-unitext: "\x{HEXPOINT}" escapes are
 * decoded to UTF-8 and raw UTF-8 is passed through (it needs SMTPUTF8,
 * which smtp_param_parse already enforced); "+" is refused. For any other
 * type the address is xtext, decoding to printable ASCII. The decoded
 * address goes to out (SMTP_PARAM_ORCPT_MAX + 1 octets suffice),
 * NUL-terminated; it is not checked against the addr-type's syntax
 * (RFC 3461 4.2 says it need not conform). */
struct smtp_param_orcpt {
	const char *type; /* points into the parameter */
	size_t type_len;
	bool utf8_type; /* addr-type "utf-8" */
	size_t addr_len;
};
enum smtp_param_error smtp_param_orcpt(const struct smtp_param *p,
				       struct smtp_param_orcpt *orcpt_r,
				       char *out, size_t cap);

/* AUTH=xtext (RFC 4954 5): decodes to "<>" (mbox_r->null_path: unknown
 * submitter) or a Mailbox, checked by smtp_path_parse_mailbox() with
 * lim and utf8_ok; raw UTF-8 in the xtext is accepted under utf8_ok. */
enum smtp_param_error smtp_param_auth(const struct smtp_param *p,
				      const struct smtp_path_limits *lim,
				      bool utf8_ok, struct smtp_path *mbox_r);

/* xtext (RFC 3461 4): xchar = "!".."~" but "+" and "=", hexchar = "+"
 * and two upper-case hex digits. Encoding writes every other octet as
 * hexchar; it returns the length the whole encoding needs (like
 * snprintf) and writes only whole units, NUL-terminated when cap > 0. */
size_t smtp_xtext_encode(const void *in, size_t len, char *out, size_t cap);
/* Decoding is strict (lower-case hex, a lone "+", "=", SP, controls are
 * errors: SMTP_PARAM_ERR_VALUE). utf8_ok lets valid non-ASCII UTF-8
 * through as itself (RFC 6531 3.3 esmtp-value). The result may hold
 * NULs; it is NUL-terminated; SMTP_PARAM_ERR_TOO_LONG if it does not fit
 * in cap - 1 octets. */
enum smtp_param_error smtp_xtext_decode(const char *in, size_t len,
					bool utf8_ok, char *out, size_t cap,
					size_t *len_r);

#endif
