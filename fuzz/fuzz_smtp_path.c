/*
 * fuzz_smtp_path.c - the MAIL/RCPT path parser (server/smtp/smtp_path.c)
 * and the ESMTP parameter parser and decoders (smtp_params.c) on
 * arbitrary bytes. The first byte picks MAIL or RCPT, SMTPUTF8 and the
 * limits; the rest is the argument.
 *
 * Checks: every output string is NUL-terminated inside its buffer and
 * within its limit; local_unquoted is never longer than local; a parsed
 * path, written back as "<local@domain>", parses to the same result
 * (RFC 5321 4.1.2: the route is dropped, nothing else changes); decoded
 * values fit their buffers; xtext decode(encode(x)) == x (RFC 3461 4).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/smtp_params.h"
#include "smtp/smtp_path.h"

#define CHECK(cond)              \
	do {                     \
		if (!(cond))     \
			abort(); \
	} while (0)

static size_t clamp(size_t v, size_t cap)
{
	return v < cap ? v : cap;
}

/* NUL inside the buffer, and the string no longer than max. */
static size_t str_ok(const char *s, size_t size, size_t max)
{
	const char *nul = memchr(s, '\0', size);
	CHECK(nul != NULL);
	CHECK((size_t)(nul - s) <= max);
	return (size_t)(nul - s);
}

static void check_path(const struct smtp_path *p,
		       const struct smtp_path_limits *lim,
		       enum smtp_path_error err)
{
	size_t l = str_ok(p->local, sizeof(p->local),
			  clamp(lim->local_max, SMTP_PATH_LOCAL_CAP));
	size_t u = str_ok(p->local_unquoted, sizeof(p->local_unquoted), l);
	size_t d = str_ok(p->domain, sizeof(p->domain),
			  clamp(lim->domain_max, SMTP_PATH_DOMAIN_CAP));
	(void)smtp_path_suspicious(p);
	if (err != SMTP_PATH_OK) {
		CHECK(l == 0 && u == 0 && d == 0);
		return;
	}
	CHECK((smtp_path_suspicious_why(p) & SMTP_PATH_SUSP_TRAILING_DOT) == 0);
	if (p->null_path || p->postmaster)
		CHECK(d == 0);
	else
		CHECK(l > 0 && d > 0);
	CHECK(p->domain_is_literal == (d > 0 && p->domain[0] == '['));
}

/* Write the path back without its route and parse it again. */
static void reparse(const struct smtp_path *p, enum smtp_path_kind kind,
		    const struct smtp_path_limits *lim, bool utf8_ok)
{
	char arg[8 + sizeof(p->local) + sizeof(p->domain)];
	size_t n = 0, l = strlen(p->local), d = strlen(p->domain), params;
	const char *kw = kind == SMTP_PATH_MAIL ? "FROM:<" : "TO:<";
	memcpy(arg, kw, strlen(kw));
	n += strlen(kw);
	memcpy(arg + n, p->local, l);
	n += l;
	if (d > 0) {
		arg[n++] = '@';
		memcpy(arg + n, p->domain, d);
		n += d;
	}
	arg[n++] = '>';
	struct smtp_path q;
	CHECK(smtp_path_parse(arg, n, kind, lim, utf8_ok, &q, &params) ==
	      SMTP_PATH_OK);
	CHECK(params == n && !q.had_route);
	CHECK(q.null_path == p->null_path && q.postmaster == p->postmaster);
	CHECK(q.domain_is_literal == p->domain_is_literal);
	CHECK(strcmp(q.local, p->local) == 0);
	CHECK(strcmp(q.local_unquoted, p->local_unquoted) == 0);
	CHECK(strcmp(q.domain, p->domain) == 0);
}

/* decode(encode(x)) == x, for any bytes. */
static void xtext_round_trip(const char *x, size_t n)
{
	size_t need = smtp_xtext_encode(x, n, NULL, 0);
	char *enc = malloc(need + 1), *dec = malloc(n + 1);
	size_t got = 0;
	CHECK(enc != NULL && dec != NULL);
	CHECK(smtp_xtext_encode(x, n, enc, need + 1) == need);
	CHECK(strlen(enc) == need);
	CHECK(smtp_xtext_decode(enc, need, false, dec, n + 1, &got) ==
	      SMTP_PARAM_OK);
	CHECK(got == n && memcmp(dec, x, n) == 0);
	free(enc);
	free(dec);
}

static void decode_one(const struct smtp_param *p,
		       const struct smtp_path_limits *lim, bool utf8_ok)
{
	char buf[SMTP_PARAM_ORCPT_MAX + 1];
	size_t len = 0;
	uint64_t size;
	enum smtp_param_body body;
	enum smtp_param_ret ret;
	unsigned flags;
	struct smtp_param_orcpt o;
	struct smtp_path m;
	enum smtp_param_error err = SMTP_PARAM_OK;
	switch (smtp_param_id(p)) {
	case SMTP_PARAM_SIZE:
		err = smtp_param_size(p, &size);
		break;
	case SMTP_PARAM_BODY:
		err = smtp_param_body(p, &body);
		break;
	case SMTP_PARAM_SMTPUTF8:
		err = smtp_param_smtputf8(p);
		break;
	case SMTP_PARAM_RET:
		err = smtp_param_ret(p, &ret);
		break;
	case SMTP_PARAM_ENVID:
		err = smtp_param_envid(p, buf, SMTP_PARAM_ENVID_MAX + 1, &len);
		CHECK(len <= SMTP_PARAM_ENVID_MAX && strlen(buf) == len);
		break;
	case SMTP_PARAM_NOTIFY:
		err = smtp_param_notify(p, &flags);
		CHECK(err != SMTP_PARAM_OK ||
		      flags == SMTP_PARAM_NOTIFY_NEVER ||
		      (flags != 0 && (flags & SMTP_PARAM_NOTIFY_NEVER) == 0));
		break;
	case SMTP_PARAM_ORCPT:
		err = smtp_param_orcpt(p, &o, buf, sizeof(buf));
		CHECK(o.addr_len < sizeof(buf) && buf[o.addr_len] == '\0');
		CHECK(err == SMTP_PARAM_OK || o.addr_len == 0);
		xtext_round_trip(buf, o.addr_len);
		break;
	case SMTP_PARAM_AUTH:
		err = smtp_param_auth(p, lim, utf8_ok, &m);
		check_path(&m, lim,
			   err == SMTP_PARAM_OK ? SMTP_PATH_OK
						: SMTP_PATH_ERR_KEYWORD);
		break;
	case SMTP_PARAM_UNKNOWN:
		break;
	}
	struct smtp_path_reply r = smtp_param_reply(err, smtp_param_id(p));
	CHECK(r.code == 250 || r.code == 501 || r.code == 552);
	CHECK(r.enh != NULL && r.text != NULL);
	if (p->value != NULL)
		xtext_round_trip(p->value, p->value_len);
}

static void params(const char *s, size_t n, const struct smtp_path_limits *lim,
		   bool utf8_ok)
{
	struct smtp_param v[SMTP_PARAM_MAX_DEFAULT];
	size_t np = 99, bad = 0;
	enum smtp_param_error err =
		smtp_param_parse(s, n, utf8_ok, v, SMTP_PARAM_MAX_DEFAULT, &np);
	CHECK(np <= SMTP_PARAM_MAX_DEFAULT);
	CHECK(err != SMTP_PARAM_OK || np > 0 || n == 0);
	for (size_t i = 0; i < np; i++) {
		CHECK(v[i].keyword >= s && v[i].keyword_len > 0);
		CHECK(v[i].keyword + v[i].keyword_len <= s + n);
		CHECK(v[i].value == NULL ||
		      (v[i].value_len > 0 &&
		       v[i].value + v[i].value_len <= s + n));
		CHECK(!v[i].utf8 || utf8_ok);
		decode_one(&v[i], lim, utf8_ok);
	}
	if (smtp_param_check_known(v, np, 0x1feu, &bad) != SMTP_PARAM_OK)
		CHECK(bad < np && smtp_param_id(&v[bad]) == SMTP_PARAM_UNKNOWN);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t f = data[0];
	bool utf8_ok = f & 1;
	enum smtp_path_kind kind = f & 2 ? SMTP_PATH_RCPT : SMTP_PATH_MAIL;
	struct smtp_path_limits lim = SMTP_PATH_LIMITS_DEFAULT;
	if (f & 4) { /* small limits */
		lim.local_max = (size_t)(f >> 4);
		lim.domain_max = 4 + (size_t)(f >> 3);
		lim.path_max = 8 + (size_t)(f >> 2);
	} else if (f & 8) { /* beyond what struct smtp_path holds */
		lim.local_max = lim.domain_max = 4096;
		lim.path_max = 65536;
	}
	const char *s = (const char *)data + 1;
	size_t n = size - 1, at = 0;
	struct smtp_path p;
	enum smtp_path_error err =
		smtp_path_parse(s, n, kind, &lim, utf8_ok, &p, &at);
	check_path(&p, &lim, err);
	struct smtp_path_reply r = smtp_path_reply(err, kind);
	CHECK(r.code == 250 || r.code == 501 || r.code == 550 || r.code == 553);
	CHECK(r.enh != NULL && r.text != NULL && smtp_path_error_name(err));
	if (err == SMTP_PATH_OK) {
		CHECK(at <= n && (at == n || s[at - 1] == ' '));
		CHECK(!p.utf8 || utf8_ok);
		reparse(&p, kind, &lim, utf8_ok);
		params(s + at, n - at, &lim, utf8_ok);
	}
	err = smtp_path_parse_mailbox(s, n, &lim, utf8_ok, &p);
	check_path(&p, &lim, err);
	params(s, n, &lim, utf8_ok);
	xtext_round_trip(s, n);
	return 0;
}
