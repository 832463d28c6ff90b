/*
 * smtp_dsn.c - RET, ENVID, NOTIFY and ORCPT (RFC 3461 4.1-4.4); see
 * smtp_dsn.h. Duplicates are refused by smtp_param_parse (4.5).
 */
#include "smtp_dsn.h"

#include <stdlib.h>
#include <string.h>

enum smtp_param_error smtp_dsn_mail(const struct smtp_param *p, size_t n,
				    struct smtp_dsn_args *out,
				    enum smtp_param_id *id_r)
{
	const struct smtp_param *ret = smtp_param_find(p, n, SMTP_PARAM_RET);
	const struct smtp_param *envid =
		smtp_param_find(p, n, SMTP_PARAM_ENVID);
	enum smtp_param_error e = SMTP_PARAM_OK;
	memset(out, 0, sizeof(*out));
	if (ret != NULL) {
		enum smtp_param_ret r;
		*id_r = SMTP_PARAM_RET;
		if ((e = smtp_param_ret(ret, &r)) != SMTP_PARAM_OK)
			return e;
		out->ret = r == SMTP_PARAM_RET_FULL ? SMTP_RET_FULL
						    : SMTP_RET_HDRS;
	}
	if (envid != NULL) {
		char dec[SMTP_PARAM_ENVID_MAX + 1];
		size_t len;
		*id_r = SMTP_PARAM_ENVID;
		e = smtp_param_envid(envid, dec, sizeof(dec), &len);
		if (e != SMTP_PARAM_OK)
			return e;
		out->envid = envid->value;
		out->envid_len = envid->value_len;
	}
	return SMTP_PARAM_OK;
}

enum smtp_param_error smtp_dsn_rcpt(const struct smtp_param *p, size_t n,
				    struct smtp_dsn_args *out,
				    enum smtp_param_id *id_r)
{
	const struct smtp_param *notify =
		smtp_param_find(p, n, SMTP_PARAM_NOTIFY);
	const struct smtp_param *orcpt =
		smtp_param_find(p, n, SMTP_PARAM_ORCPT);
	enum smtp_param_error e = SMTP_PARAM_OK;
	memset(out, 0, sizeof(*out));
	if (notify != NULL) {
		*id_r = SMTP_PARAM_NOTIFY;
		if ((e = smtp_param_notify(notify, &out->notify)) !=
		    SMTP_PARAM_OK)
			return e;
	}
	if (orcpt != NULL) {
		struct smtp_param_orcpt o;
		char dec[SMTP_PARAM_ORCPT_MAX + 1];
		*id_r = SMTP_PARAM_ORCPT;
		if ((e = smtp_param_orcpt(orcpt, &o, dec, sizeof(dec))) !=
		    SMTP_PARAM_OK)
			return e;
		out->orcpt = orcpt->value;
		out->orcpt_len = orcpt->value_len;
	}
	return SMTP_PARAM_OK;
}

char *smtp_dsn_strdup(const char *s, size_t len)
{
	if (s == NULL)
		return NULL;
	char *c = malloc(len + 1);
	if (c != NULL) {
		memcpy(c, s, len);
		c[len] = '\0';
	}
	return c;
}
