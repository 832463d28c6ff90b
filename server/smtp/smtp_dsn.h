/*
 * smtp_dsn.h - the DSN parameters of MAIL and RCPT (RFC 3461 4.1-4.4),
 * checked and kept with the envelope so that the queue can honour them
 * when it reports on delivery.
 *
 * Values are checked with the decoders of smtp_params.h and then kept as
 * they were sent (xtext, or the RFC 6533 utf-8 form): a delivery status
 * notification repeats them in that form (RFC 3464 2.2.1, 2.3.1), and the
 * spool file stores them on one line each (they hold no CR, LF or SP).
 */
#ifndef QUILL_SMTP_DSN_H
#define QUILL_SMTP_DSN_H

#include <stdbool.h>
#include <stddef.h>

#include "smtp_params.h"
#include "smtp_session.h"

/* The DSN parameters of one MAIL or RCPT, pointing into the command. */
struct smtp_dsn_args {
	enum smtp_dsn_ret ret;
	const char *envid; /* as sent; NULL if not given */
	size_t envid_len;
	unsigned notify;   /* SMTP_NOTIFY_* */
	const char *orcpt; /* "addr-type;value" as sent; NULL if not given */
	size_t orcpt_len;
};

/* RET and ENVID of MAIL; SMTP_PARAM_OK or the error for
 * smtp_param_reply(). *id_r names the parameter at fault. */
enum smtp_param_error smtp_dsn_mail(const struct smtp_param *p, size_t n,
				    struct smtp_dsn_args *out,
				    enum smtp_param_id *id_r);
/* NOTIFY and ORCPT of RCPT; utf8_ok as for smtp_param_parse(). */
enum smtp_param_error smtp_dsn_rcpt(const struct smtp_param *p, size_t n,
				    struct smtp_dsn_args *out,
				    enum smtp_param_id *id_r);

/* A NUL-terminated copy of len bytes at s, or NULL (also when s is). */
char *smtp_dsn_strdup(const char *s, size_t len);

#endif
