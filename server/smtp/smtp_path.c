/*
 * smtp_path.c - the MAIL FROM / RCPT TO path: RFC 5321 3.3, 4.1.1.2,
 * 4.1.1.3, 4.1.2, 4.5.1, 4.5.3.1.1-3 and .9, Appendix C; RFC 6531 3.3
 * and 3.5; reply codes from RFC 3463 3.2, 3.6 and 3.7.
 *
 * Strict by design: what the ABNF does not allow is refused, and each
 * refusal names its reason. Domains and address literals are checked by
 * smtp_syntax.c; this file adds the Local-part, the source route, the
 * U-label domains of SMTPUTF8 and the length limits. Assumes nothing of
 * its input: any bytes, NULs included, bounded by the length given.
 */
#include "smtp_path.h"

#include <string.h>
#include <strings.h>

#include "smtp_syntax.h"

/* What one parse needs besides the input. */
struct ctx {
	enum smtp_path_kind kind;
	bool utf8_ok;
	size_t local_max, domain_max, path_max;
	struct smtp_path *out;
};

static void ctx_init(struct ctx *c, enum smtp_path_kind kind,
		     const struct smtp_path_limits *lim, bool utf8_ok,
		     struct smtp_path *out)
{
	static const struct smtp_path_limits dflt = SMTP_PATH_LIMITS_DEFAULT;
	if (lim == NULL)
		lim = &dflt;
	c->kind = kind;
	c->utf8_ok = utf8_ok;
	c->local_max = lim->local_max < SMTP_PATH_LOCAL_CAP
			       ? lim->local_max
			       : SMTP_PATH_LOCAL_CAP;
	c->domain_max = lim->domain_max < SMTP_PATH_DOMAIN_CAP
				? lim->domain_max
				: SMTP_PATH_DOMAIN_CAP;
	c->path_max = lim->path_max;
	c->out = out;
	memset(out, 0, sizeof(*out));
}

size_t smtp_path_utf8_len(const unsigned char *p, size_t avail)
{
	unsigned char lo = 0x80, hi = 0xBF;
	size_t n;
	if (avail == 0)
		return 0;
	if (p[0] >= 0xC2 && p[0] <= 0xDF) {
		n = 2;
	} else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
		n = 3;
		lo = p[0] == 0xE0 ? 0xA0 : lo; /* overlong */
		hi = p[0] == 0xED ? 0x9F : hi; /* surrogates */
	} else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
		n = 4;
		lo = p[0] == 0xF0 ? 0x90 : lo; /* overlong */
		hi = p[0] == 0xF4 ? 0x8F : hi; /* beyond U+10FFFF */
	} else {
		return 0; /* ASCII, continuation, C0/C1 overlong, F5-FF */
	}
	if (avail < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return n;
}

/* The non-ASCII sequence at p: its length, or 0 with *err set. */
static size_t nonascii(const char *p, size_t n, const struct ctx *c,
		       enum smtp_path_error *err)
{
	if (!c->utf8_ok) {
		*err = SMTP_PATH_ERR_EIGHTBIT;
		return 0;
	}
	size_t k = smtp_path_utf8_len((const unsigned char *)p, n);
	if (k == 0)
		*err = SMTP_PATH_ERR_BAD_UTF8;
	else
		c->out->utf8 = true;
	return k;
}

/* atext of RFC 5322 3.2.3 (ASCII part; RFC 6531 adds UTF8-non-ascii) */
static bool is_atext(unsigned char ch)
{
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9'))
		return true;
	return ch != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", ch) != NULL;
}

/* Append to local_unquoted; past the cap only the length grows (the
 * caller then refuses the local part as too long). */
static void unq_put(struct smtp_path *out, size_t *ulen, const char *p,
		    size_t k)
{
	if (*ulen + k <= SMTP_PATH_LOCAL_CAP)
		memcpy(out->local_unquoted + *ulen, p, k);
	*ulen += k;
}

/* Dot-string = Atom *("." Atom): no leading, trailing or double dot.
 * Stops at the first octet that cannot belong to it. */
static enum smtp_path_error scan_dot_string(const char *p, size_t n,
					    const struct ctx *c, size_t *len_r,
					    size_t *ulen)
{
	enum smtp_path_error err = SMTP_PATH_OK;
	bool need_atom = true;
	size_t i = 0;
	while (i < n) {
		unsigned char ch = (unsigned char)p[i];
		size_t k = 1;
		if (ch == '.') {
			if (need_atom)
				return SMTP_PATH_ERR_BAD_LOCAL;
			need_atom = true;
		} else if (ch >= 0x80) {
			if ((k = nonascii(p + i, n - i, c, &err)) == 0)
				return err;
			need_atom = false;
		} else if (is_atext(ch)) {
			need_atom = false;
		} else {
			break;
		}
		unq_put(c->out, ulen, p + i, k);
		i += k;
	}
	if (need_atom)
		return SMTP_PATH_ERR_BAD_LOCAL;
	*len_r = i;
	return SMTP_PATH_OK;
}

/* Quoted-string = DQUOTE *( qtextSMTP / quoted-pairSMTP ) DQUOTE, with
 * qtextSMTP = %d32-33 / %d35-91 / %d93-126 (plus UTF-8 under SMTPUTF8)
 * and quoted-pairSMTP = "\" %d32-126 (not extended by RFC 6531). */
static enum smtp_path_error scan_quoted(const char *p, size_t n,
					const struct ctx *c, size_t *len_r,
					size_t *ulen)
{
	enum smtp_path_error err = SMTP_PATH_OK;
	size_t i = 1;
	while (i < n && p[i] != '"') {
		unsigned char ch = (unsigned char)p[i];
		size_t k = 1;
		if (ch == '\\') {
			if (i + 1 >= n)
				return SMTP_PATH_ERR_BAD_LOCAL;
			ch = (unsigned char)p[++i];
			if (ch >= 0x80 && !c->utf8_ok)
				return SMTP_PATH_ERR_EIGHTBIT;
			if (ch < 32 || ch > 126)
				return SMTP_PATH_ERR_BAD_LOCAL;
		} else if (ch >= 0x80) {
			if ((k = nonascii(p + i, n - i, c, &err)) == 0)
				return err;
		} else if (ch < 32 || ch > 126) {
			return SMTP_PATH_ERR_BAD_LOCAL;
		}
		unq_put(c->out, ulen, p + i, k);
		i += k;
	}
	if (i >= n)
		return SMTP_PATH_ERR_BAD_LOCAL; /* no closing quote */
	*len_r = i + 1;
	return SMTP_PATH_OK;
}

/* Octet-level check of a domain: 8-bit needs SMTPUTF8 and valid UTF-8;
 * controls and SP belong to no Domain or address literal (and a NUL
 * would end the copy smtp_syntax.c hands to inet_pton early). */
static enum smtp_path_error check_octets(const char *p, size_t n,
					 const struct ctx *c, bool *na_r)
{
	enum smtp_path_error err = SMTP_PATH_OK;
	*na_r = false;
	for (size_t i = 0; i < n;) {
		unsigned char ch = (unsigned char)p[i];
		if (ch <= ' ' || ch == 0x7F)
			return SMTP_PATH_ERR_BAD_DOMAIN;
		if (ch < 0x80) {
			i++;
			continue;
		}
		size_t k = nonascii(p + i, n - i, c, &err);
		if (k == 0)
			return err;
		*na_r = true;
		i += k;
	}
	return SMTP_PATH_OK;
}

/* A label holding non-ASCII (RFC 6531 3.3 sub-domain =/ U-label), checked
 * loosely: 1-63 octets, its ASCII octets letters, digits and hyphens, no
 * hyphen at either end. No IDNA2008 tables, NFC or Bidi rules. */
static bool ulabel_ok(const char *p, size_t n)
{
	if (n == 0 || n > 63 || p[0] == '-' || p[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];
		if (ch < 0x80 && ch != '-' && !(ch >= '0' && ch <= '9') &&
		    !((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z'))
			return false;
	}
	return true;
}

/* Domain of 4.1.2, or with non-ASCII (na) a mix of LDH and U-labels. */
static bool domain_ok(const char *p, size_t n, bool na)
{
	if (!na)
		return smtp_syntax_domain(p, n);
	if (n > SMTP_DOMAIN_MAX)
		return false;
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && p[i] != '.')
			continue;
		const char *l = p + start;
		size_t ln = i - start;
		bool ascii = true;
		for (size_t j = 0; j < ln; j++)
			ascii = ascii && (unsigned char)l[j] < 0x80;
		if (ascii ? !smtp_syntax_domain(l, ln) : !ulabel_ok(l, ln))
			return false;
		start = i + 1;
	}
	return true;
}

/* The domain part of a Mailbox: octets, then length, then syntax. */
static enum smtp_path_error parse_domain(const char *p, size_t n,
					 const struct ctx *c)
{
	bool na, literal = n > 0 && p[0] == '[';
	enum smtp_path_error err = check_octets(p, n, c, &na);
	if (err == SMTP_PATH_ERR_BAD_DOMAIN && literal)
		return SMTP_PATH_ERR_BAD_LITERAL;
	if (err != SMTP_PATH_OK)
		return err;
	if (n > c->domain_max)
		return SMTP_PATH_ERR_DOMAIN_TOO_LONG;
	if (literal)
		return !na && smtp_syntax_address_literal(p, n)
			       ? SMTP_PATH_OK
			       : SMTP_PATH_ERR_BAD_LITERAL;
	return domain_ok(p, n, na) ? SMTP_PATH_OK : SMTP_PATH_ERR_BAD_DOMAIN;
}

/* Where the domain of a Mailbox inside a Path ends: the ">" after it. A
 * literal ends at its "]" (dcontent may hold ">"). */
static enum smtp_path_error domain_end(const char *p, size_t n, size_t start,
				       size_t *end_r)
{
	if (start < n && p[start] == '[') {
		const char *rb = memchr(p + start, ']', n - start);
		if (rb == NULL)
			return SMTP_PATH_ERR_BAD_LITERAL;
		*end_r = (size_t)(rb - p) + 1;
		if (*end_r == n)
			return SMTP_PATH_ERR_MISSING_BRACKETS;
		return p[*end_r] == '>' ? SMTP_PATH_OK
					: SMTP_PATH_ERR_BAD_LITERAL;
	}
	const char *gt = memchr(p + start, '>', n - start);
	if (gt == NULL)
		return SMTP_PATH_ERR_MISSING_BRACKETS;
	*end_r = (size_t)(gt - p);
	return SMTP_PATH_OK;
}

/* A Local-part directly followed by ">": only "<Postmaster>" (4.1.1.3),
 * any case (4.5.1), as an unquoted Dot-string. */
static enum smtp_path_error bare_local(const char *p, size_t llen, size_t ulen,
				       bool postmaster_ok, const struct ctx *c)
{
	if (!postmaster_ok || llen != 10 || p[0] == '"' ||
	    strncasecmp(p, "postmaster", 10) != 0)
		return SMTP_PATH_ERR_NO_DOMAIN;
	if (llen > c->local_max)
		return SMTP_PATH_ERR_LOCAL_TOO_LONG;
	c->out->postmaster = true;
	memcpy(c->out->local, p, llen);
	c->out->local_unquoted[ulen] = '\0';
	return SMTP_PATH_OK;
}

/* Mailbox = Local-part "@" ( Domain / address-literal ). in_path: it is
 * followed by ">" (*end_r gets its index); else it runs to n. */
static enum smtp_path_error parse_mailbox(const char *p, size_t n, bool in_path,
					  bool postmaster_ok,
					  const struct ctx *c, size_t *end_r)
{
	struct smtp_path *out = c->out;
	size_t llen = 0, ulen = 0, dend = n;
	enum smtp_path_error err;
	if (in_path && n == 0)
		return SMTP_PATH_ERR_MISSING_BRACKETS;
	if (n > 0 && p[0] == '"')
		err = scan_quoted(p, n, c, &llen, &ulen);
	else
		err = scan_dot_string(p, n, c, &llen, &ulen);
	if (err != SMTP_PATH_OK)
		return err;
	if (llen == n)
		return in_path ? SMTP_PATH_ERR_MISSING_BRACKETS
			       : SMTP_PATH_ERR_NO_DOMAIN;
	if (in_path && p[llen] == '>') {
		*end_r = llen;
		return bare_local(p, llen, ulen, postmaster_ok, c);
	}
	if (p[llen] != '@')
		return SMTP_PATH_ERR_BAD_LOCAL;
	if (llen > c->local_max)
		return SMTP_PATH_ERR_LOCAL_TOO_LONG;
	if (in_path &&
	    (err = domain_end(p, n, llen + 1, &dend)) != SMTP_PATH_OK)
		return err;
	err = parse_domain(p + llen + 1, dend - llen - 1, c);
	if (err != SMTP_PATH_OK)
		return err;
	memcpy(out->local, p, llen);
	out->local_unquoted[ulen] = '\0';
	memcpy(out->domain, p + llen + 1, dend - llen - 1);
	out->domain_is_literal = p[llen + 1] == '[';
	*end_r = dend;
	return SMTP_PATH_OK;
}

/* A-d-l = At-domain *( "," At-domain ), At-domain = "@" Domain, ended by
 * ":" (Appendix C: accepted and ignored). *used_r: octets through ":". */
static enum smtp_path_error parse_route(const char *p, size_t n,
					const struct ctx *c, size_t *used_r)
{
	size_t i = 0;
	for (;;) {
		if (i >= n)
			return SMTP_PATH_ERR_MISSING_BRACKETS;
		if (p[i] != '@')
			return SMTP_PATH_ERR_BAD_ROUTE;
		size_t start = ++i;
		while (i < n && p[i] != ',' && p[i] != ':' && p[i] != '>')
			i++;
		if (i >= n)
			return SMTP_PATH_ERR_MISSING_BRACKETS;
		bool na;
		enum smtp_path_error err =
			check_octets(p + start, i - start, c, &na);
		if (err != SMTP_PATH_OK && err != SMTP_PATH_ERR_BAD_DOMAIN)
			return err;
		if (err != SMTP_PATH_OK ||
		    !domain_ok(p + start, i - start, na) || p[i] == '>')
			return SMTP_PATH_ERR_BAD_ROUTE;
		if (p[i++] == ':') {
			*used_r = i;
			return SMTP_PATH_OK;
		}
	}
}

/* Path = "<" [ A-d-l ":" ] Mailbox ">", or "<>" for a reverse-path.
 * p[0] is "<"; *len_r gets the length through ">". */
static enum smtp_path_error parse_path(const char *p, size_t n,
				       const struct ctx *c, size_t *len_r)
{
	size_t i = 1, end = 0;
	enum smtp_path_error err;
	if (i < n && p[i] == '>') {
		if (c->kind == SMTP_PATH_RCPT)
			return SMTP_PATH_ERR_NULL_NOT_ALLOWED;
		c->out->null_path = true;
		*len_r = 2;
		return SMTP_PATH_OK;
	}
	if (i < n && p[i] == '@') {
		size_t used = 0;
		err = parse_route(p + i, n - i, c, &used);
		if (err != SMTP_PATH_OK)
			return err;
		c->out->had_route = true;
		i += used;
	}
	err = parse_mailbox(p + i, n - i, true,
			    c->kind == SMTP_PATH_RCPT && !c->out->had_route, c,
			    &end);
	if (err != SMTP_PATH_OK)
		return err;
	*len_r = i + end + 1;
	return *len_r > c->path_max ? SMTP_PATH_ERR_PATH_TOO_LONG
				    : SMTP_PATH_OK;
}

/* "FROM:" / "TO:", case-insensitive; a space on either side of the colon
 * is its own error (3.3: "spaces are not permitted on either side"). */
static enum smtp_path_error keyword(const char *arg, size_t len,
				    enum smtp_path_kind kind, size_t *pos_r)
{
	const char *kw = kind == SMTP_PATH_MAIL ? "FROM" : "TO";
	size_t k = strlen(kw);
	if (len <= k || strncasecmp(arg, kw, k) != 0)
		return SMTP_PATH_ERR_KEYWORD;
	if (arg[k] == ' ' || arg[k] == '\t')
		return SMTP_PATH_ERR_SPACE;
	if (arg[k] != ':')
		return SMTP_PATH_ERR_KEYWORD;
	*pos_r = k + 1;
	if (k + 1 < len && (arg[k + 1] == ' ' || arg[k + 1] == '\t'))
		return SMTP_PATH_ERR_SPACE;
	if (k + 1 >= len || arg[k + 1] != '<')
		return SMTP_PATH_ERR_MISSING_BRACKETS;
	return SMTP_PATH_OK;
}

enum smtp_path_error smtp_path_parse(const char *arg, size_t len,
				     enum smtp_path_kind kind,
				     const struct smtp_path_limits *lim,
				     bool utf8_ok, struct smtp_path *path_r,
				     size_t *params_r)
{
	struct ctx c;
	size_t pos = 0, plen = 0;
	ctx_init(&c, kind, lim, utf8_ok, path_r);
	*params_r = len;
	enum smtp_path_error err = keyword(arg, len, kind, &pos);
	if (err == SMTP_PATH_OK)
		err = parse_path(arg + pos, len - pos, &c, &plen);
	if (err == SMTP_PATH_OK && pos + plen < len) {
		/* [SP Mail-parameters]: one SP, then at least one octet */
		if (arg[pos + plen] == ' ' && pos + plen + 1 < len)
			*params_r = pos + plen + 1;
		else
			err = SMTP_PATH_ERR_TRAILING;
	}
	if (err != SMTP_PATH_OK)
		memset(path_r, 0, sizeof(*path_r));
	return err;
}

enum smtp_path_error smtp_path_parse_mailbox(const char *p, size_t len,
					     const struct smtp_path_limits *lim,
					     bool utf8_ok,
					     struct smtp_path *path_r)
{
	struct ctx c;
	size_t end = 0;
	ctx_init(&c, SMTP_PATH_MAIL, lim, utf8_ok, path_r);
	if (len == 2 && p[0] == '<' && p[1] == '>') {
		path_r->null_path = true;
		return SMTP_PATH_OK;
	}
	enum smtp_path_error err =
		parse_mailbox(p, len, false, false, &c, &end);
	if (err == SMTP_PATH_OK && len + 2 > c.path_max)
		err = SMTP_PATH_ERR_PATH_TOO_LONG;
	if (err != SMTP_PATH_OK)
		memset(path_r, 0, sizeof(*path_r));
	return err;
}

/* Reply families: the address is wrong (X.1.7 sender, X.1.3 recipient,
 * RFC 3463 3.2), the command around it is (X.5.2, 3.6), or it is
 * non-ASCII without SMTPUTF8 (X.6.7, RFC 6531 3.5). */
enum family { F_OK, F_CMD, F_ADDR, F_8BIT };

static const struct {
	const char *name;
	enum family f;
	const char *mail, *rcpt;
} path_errors[] = {
	[SMTP_PATH_OK] = {"ok", F_OK, "Sender OK", "Recipient OK"},
	[SMTP_PATH_ERR_KEYWORD] = {"keyword", F_CMD,
				   "Syntax: MAIL FROM:<address>",
				   "Syntax: RCPT TO:<address>"},
	[SMTP_PATH_ERR_SPACE] = {"space", F_CMD,
				 "Syntax: MAIL FROM:<address>, no spaces",
				 "Syntax: RCPT TO:<address>, no spaces"},
	[SMTP_PATH_ERR_MISSING_BRACKETS] =
		{"missing_brackets", F_ADDR,
		 "Sender address must be in angle brackets",
		 "Recipient address must be in angle brackets"},
	[SMTP_PATH_ERR_TRAILING] = {"trailing", F_CMD,
				    "Syntax error after the sender address",
				    "Syntax error after the recipient address"},
	[SMTP_PATH_ERR_NULL_NOT_ALLOWED] = {"null_not_allowed", F_ADDR,
					    "Null path not allowed",
					    "Null recipient not allowed"},
	[SMTP_PATH_ERR_BAD_ROUTE] = {"bad_route", F_ADDR,
				     "Bad sender address syntax (route)",
				     "Bad recipient address syntax (route)"},
	[SMTP_PATH_ERR_NO_DOMAIN] =
		{"no_domain", F_ADDR, "Bad sender address syntax (no domain)",
		 "Bad recipient address syntax (no domain)"},
	[SMTP_PATH_ERR_BAD_LOCAL] =
		{"bad_local", F_ADDR, "Bad sender address syntax (local part)",
		 "Bad recipient address syntax (local part)"},
	[SMTP_PATH_ERR_BAD_DOMAIN] = {"bad_domain", F_ADDR,
				      "Bad sender address syntax (domain)",
				      "Bad recipient address syntax (domain)"},
	[SMTP_PATH_ERR_BAD_LITERAL] =
		{"bad_literal", F_ADDR,
		 "Bad sender address syntax (address literal)",
		 "Bad recipient address syntax (address literal)"},
	[SMTP_PATH_ERR_BAD_UTF8] = {"bad_utf8", F_ADDR,
				    "Bad sender address syntax (UTF-8)",
				    "Bad recipient address syntax (UTF-8)"},
	[SMTP_PATH_ERR_EIGHTBIT] = {"eightbit", F_8BIT,
				    "Non-ASCII sender address needs SMTPUTF8",
				    "Non-ASCII recipient needs SMTPUTF8"},
	[SMTP_PATH_ERR_LOCAL_TOO_LONG] = {"local_too_long", F_ADDR,
					  "Sender local part too long",
					  "Recipient local part too long"},
	[SMTP_PATH_ERR_DOMAIN_TOO_LONG] = {"domain_too_long", F_ADDR,
					   "Sender domain too long",
					   "Recipient domain too long"},
	[SMTP_PATH_ERR_PATH_TOO_LONG] = {"path_too_long", F_ADDR,
					 "Sender path too long",
					 "Recipient path too long"},
};

#define N_PATH_ERRORS (sizeof(path_errors) / sizeof(path_errors[0]))

/* Too long: 501, not 553. The argument is refused as written, which is
 * 501 "syntax error in parameters or arguments" (4.2.2), and 4.5.3.1.9
 * gives "501 Path too long" as its example; 553 "mailbox name not
 * allowed" would say the name is refused by policy. The enhanced code
 * stays X.1.7 / X.1.3: the address is what cannot be accepted. */
struct smtp_path_reply smtp_path_reply(enum smtp_path_error err,
				       enum smtp_path_kind kind)
{
	bool mail = kind == SMTP_PATH_MAIL;
	struct smtp_path_reply r = {501, "5.5.2", "Syntax error"};
	if ((size_t)err >= N_PATH_ERRORS)
		return r;
	r.text = mail ? path_errors[err].mail : path_errors[err].rcpt;
	switch (path_errors[err].f) {
	case F_OK:
		r.code = 250;
		r.enh = mail ? "2.1.0" : "2.1.5";
		break;
	case F_CMD:
		break;
	case F_ADDR:
		r.enh = mail ? "5.1.7" : "5.1.3";
		break;
	case F_8BIT: /* RFC 6531 3.5: 550 for MAIL, 553 for RCPT */
		r.code = mail ? 550 : 553;
		r.enh = "5.6.7";
		break;
	}
	return r;
}

const char *smtp_path_error_name(enum smtp_path_error err)
{
	return (size_t)err < N_PATH_ERRORS ? path_errors[err].name : "unknown";
}

/* Forms that once made relays forward mail elsewhere (RFC 5321 3.6.1,
 * Appendix C; RFC 2505 on relay abuse): policy decides, this reports. The
 * parser never produces a trailing dot (Domain forbids it); the check is
 * for paths built by other code. */
unsigned smtp_path_suspicious_why(const struct smtp_path *p)
{
	size_t ln = strnlen(p->local_unquoted, sizeof(p->local_unquoted));
	size_t dn = strnlen(p->domain, sizeof(p->domain));
	unsigned why = 0;
	if (memchr(p->local_unquoted, '%', ln) != NULL)
		why |= SMTP_PATH_SUSP_PERCENT;
	if (memchr(p->local_unquoted, '!', ln) != NULL)
		why |= SMTP_PATH_SUSP_BANG;
	if (memchr(p->local_unquoted, '@', ln) != NULL)
		why |= SMTP_PATH_SUSP_QUOTED_AT;
	if (dn > 0 && p->domain[dn - 1] == '.')
		why |= SMTP_PATH_SUSP_TRAILING_DOT;
	if (p->had_route)
		why |= SMTP_PATH_SUSP_ROUTE;
	return why;
}

bool smtp_path_suspicious(const struct smtp_path *p)
{
	return smtp_path_suspicious_why(p) != 0;
}
