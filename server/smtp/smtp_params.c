/*
 * smtp_params.c - ESMTP parameters of MAIL and RCPT: RFC 5321 4.1.2 and
 * 4.1.1.11; SIZE (RFC 1870 6), BODY (RFC 6152, RFC 3030), SMTPUTF8
 * (RFC 6531 3.3, 3.4), RET, ENVID, NOTIFY, ORCPT and xtext (RFC 3461 4,
 * 4.1-4.5, 5.4), the ORCPT "utf-8" type (RFC 6533 3), AUTH (RFC 4954 5).
 *
 * The splitter knows only the generic esmtp-param syntax; the decoders
 * know one keyword each. Strict: what the ABNF does not allow is refused.
 */
#include "smtp_params.h"

#include <string.h>
#include <strings.h>

static bool is_alnum(unsigned char ch)
{
	return (ch >= '0' && ch <= '9') ||
	       ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z');
}

/* esmtp-value = 1*(%d33-60 / %d62-126), =/ UTF8-non-ascii (RFC 6531). */
static enum smtp_param_error scan_value(const char *s, size_t len, size_t *i,
					bool utf8_ok, struct smtp_param *p)
{
	size_t start = *i;
	while (*i < len && s[*i] != ' ') {
		unsigned char ch = (unsigned char)s[*i];
		if (ch >= 0x80) {
			if (!utf8_ok)
				return SMTP_PARAM_ERR_EIGHTBIT;
			size_t k = smtp_path_utf8_len(
				(const unsigned char *)s + *i, len - *i);
			if (k == 0)
				return SMTP_PARAM_ERR_SYNTAX;
			p->utf8 = true;
			*i += k;
			continue;
		}
		if (ch < 33 || ch > 126 || ch == '=')
			return SMTP_PARAM_ERR_SYNTAX;
		++*i;
	}
	p->value = s + start;
	p->value_len = *i - start;
	return p->value_len > 0 ? SMTP_PARAM_OK : SMTP_PARAM_ERR_SYNTAX;
}

/* esmtp-param = esmtp-keyword ["=" esmtp-value],
 * esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
static enum smtp_param_error parse_one(const char *s, size_t len, size_t *i,
				       bool utf8_ok, struct smtp_param *p)
{
	size_t start = *i;
	memset(p, 0, sizeof(*p));
	if (*i >= len || !is_alnum((unsigned char)s[*i]))
		return SMTP_PARAM_ERR_SYNTAX;
	while (*i < len && (is_alnum((unsigned char)s[*i]) || s[*i] == '-'))
		++*i;
	p->keyword = s + start;
	p->keyword_len = *i - start;
	if (*i < len && s[*i] == '=') {
		++*i;
		enum smtp_param_error err = scan_value(s, len, i, utf8_ok, p);
		if (err != SMTP_PARAM_OK)
			return err;
	}
	return *i == len || s[*i] == ' ' ? SMTP_PARAM_OK
					 : SMTP_PARAM_ERR_SYNTAX;
}

static bool same_keyword(const struct smtp_param *a, const struct smtp_param *b)
{
	return a->keyword_len == b->keyword_len &&
	       strncasecmp(a->keyword, b->keyword, a->keyword_len) == 0;
}

enum smtp_param_error smtp_param_parse(const char *s, size_t len, bool utf8_ok,
				       struct smtp_param *out, size_t max,
				       size_t *n_r)
{
	size_t i = 0, n = 0;
	*n_r = 0;
	while (len > 0) {
		struct smtp_param p;
		enum smtp_param_error err = parse_one(s, len, &i, utf8_ok, &p);
		if (err != SMTP_PARAM_OK)
			return err;
		for (size_t j = 0; j < n; j++)
			if (same_keyword(&out[j], &p))
				return SMTP_PARAM_ERR_DUPLICATE;
		if (n >= max)
			return SMTP_PARAM_ERR_TOO_MANY;
		out[n++] = p;
		*n_r = n;
		if (i == len)
			break;
		i++; /* the SP; a trailing one leaves an empty keyword */
	}
	return SMTP_PARAM_OK;
}

static const char *const param_names[] = {
	[SMTP_PARAM_UNKNOWN] = "",    [SMTP_PARAM_SIZE] = "SIZE",
	[SMTP_PARAM_BODY] = "BODY",   [SMTP_PARAM_SMTPUTF8] = "SMTPUTF8",
	[SMTP_PARAM_RET] = "RET",     [SMTP_PARAM_ENVID] = "ENVID",
	[SMTP_PARAM_AUTH] = "AUTH",   [SMTP_PARAM_NOTIFY] = "NOTIFY",
	[SMTP_PARAM_ORCPT] = "ORCPT",
};

#define N_PARAM_IDS (sizeof(param_names) / sizeof(param_names[0]))

const char *smtp_param_name(enum smtp_param_id id)
{
	return (size_t)id < N_PARAM_IDS ? param_names[id] : "";
}

enum smtp_param_id smtp_param_id(const struct smtp_param *p)
{
	for (size_t id = 1; id < N_PARAM_IDS; id++)
		if (strlen(param_names[id]) == p->keyword_len &&
		    strncasecmp(param_names[id], p->keyword, p->keyword_len) ==
			    0)
			return (enum smtp_param_id)id;
	return SMTP_PARAM_UNKNOWN;
}

const struct smtp_param *smtp_param_find(const struct smtp_param *v, size_t n,
					 enum smtp_param_id id)
{
	for (size_t i = 0; i < n; i++)
		if (smtp_param_id(&v[i]) == id)
			return &v[i];
	return NULL;
}

enum smtp_param_error smtp_param_check_known(const struct smtp_param *v,
					     size_t n, unsigned allowed,
					     size_t *bad_r)
{
	for (size_t i = 0; i < n; i++) {
		if ((allowed & SMTP_PARAM_BIT(smtp_param_id(&v[i]))) == 0) {
			*bad_r = i;
			return SMTP_PARAM_ERR_UNKNOWN;
		}
	}
	return SMTP_PARAM_OK;
}

/* RFC 5321 4.1.1.11: 555 for a parameter not recognised or not
 * implemented. RFC 3461 4.5: "501 syntax error in parameters or
 * arguments" for a repeated one, and X.5.4 (invalid command arguments,
 * RFC 3463 3.6) for every bad value. 4.1.2: invalid character codes
 * (8-bit without SMTPUTF8) are 501. RFC 1870 6.1: a size above the
 * fixed maximum is 552, which 2^64 octets and more always are. */
static const struct {
	const char *name;
	int code;
	const char *enh, *text;
} param_errors[] = {
	[SMTP_PARAM_OK] = {"ok", 250, "2.0.0", "OK"},
	[SMTP_PARAM_ERR_SYNTAX] = {"syntax", 501, "5.5.4",
				   "Syntax error in parameters"},
	[SMTP_PARAM_ERR_DUPLICATE] = {"duplicate", 501, "5.5.4",
				      "Duplicate parameter"},
	[SMTP_PARAM_ERR_TOO_MANY] = {"too_many", 501, "5.5.4",
				     "Too many parameters"},
	[SMTP_PARAM_ERR_EIGHTBIT] = {"eightbit", 501, "5.5.4",
				     "Non-ASCII parameter needs SMTPUTF8"},
	[SMTP_PARAM_ERR_UNKNOWN] = {"unknown", 555, "5.5.4",
				    "Parameter not recognised"},
	[SMTP_PARAM_ERR_VALUE] = {"value", 501, "5.5.4",
				  "Invalid parameter value"},
	[SMTP_PARAM_ERR_TOO_LONG] = {"too_long", 501, "5.5.4",
				     "Parameter value too long"},
	[SMTP_PARAM_ERR_SIZE_OVERFLOW] = {"size_overflow", 552, "5.3.4",
					  "Message size exceeds fixed maximum "
					  "message size"},
};

#define N_PARAM_ERRORS (sizeof(param_errors) / sizeof(param_errors[0]))

static const char *const bad_value_texts[] = {
	[SMTP_PARAM_UNKNOWN] = "Invalid parameter value",
	[SMTP_PARAM_SIZE] = "Invalid SIZE value",
	[SMTP_PARAM_BODY] = "Invalid BODY value",
	[SMTP_PARAM_SMTPUTF8] = "SMTPUTF8 takes no value",
	[SMTP_PARAM_RET] = "Invalid RET value",
	[SMTP_PARAM_ENVID] = "Invalid ENVID value",
	[SMTP_PARAM_AUTH] = "Invalid AUTH value",
	[SMTP_PARAM_NOTIFY] = "Invalid NOTIFY value",
	[SMTP_PARAM_ORCPT] = "Invalid ORCPT value",
};

struct smtp_path_reply smtp_param_reply(enum smtp_param_error err,
					enum smtp_param_id id)
{
	struct smtp_path_reply r = {501, "5.5.4", "Invalid parameters"};
	if ((size_t)err >= N_PARAM_ERRORS)
		return r;
	r.code = param_errors[err].code;
	r.enh = param_errors[err].enh;
	r.text = param_errors[err].text;
	if (err == SMTP_PARAM_ERR_VALUE && (size_t)id < N_PARAM_IDS)
		r.text = bad_value_texts[id];
	return r;
}

const char *smtp_param_error_name(enum smtp_param_error err)
{
	return (size_t)err < N_PARAM_ERRORS ? param_errors[err].name
					    : "unknown";
}

/* The value is one of the words, any case; *which_r its index. */
static bool value_word(const struct smtp_param *p, const char *const *words,
		       size_t n, size_t *which_r)
{
	for (size_t i = 0; p->value != NULL && i < n; i++) {
		if (strlen(words[i]) == p->value_len &&
		    strncasecmp(words[i], p->value, p->value_len) == 0) {
			*which_r = i;
			return true;
		}
	}
	return false;
}

enum smtp_param_error smtp_param_size(const struct smtp_param *p,
				      uint64_t *size_r)
{
	uint64_t v = 0;
	bool overflow = false;
	*size_r = 0;
	if (p->value == NULL || p->value_len == 0 || p->value_len > 20)
		return SMTP_PARAM_ERR_VALUE;
	for (size_t i = 0; i < p->value_len; i++) {
		unsigned d = (unsigned char)p->value[i] - (unsigned)'0';
		if (d > 9)
			return SMTP_PARAM_ERR_VALUE;
		if (v > (UINT64_MAX - d) / 10)
			overflow = true;
		else
			v = v * 10 + d;
	}
	if (overflow)
		return SMTP_PARAM_ERR_SIZE_OVERFLOW;
	*size_r = v;
	return SMTP_PARAM_OK;
}

enum smtp_param_error smtp_param_body(const struct smtp_param *p,
				      enum smtp_param_body *body_r)
{
	static const char *const words[] = {"7BIT", "8BITMIME", "BINARYMIME"};
	size_t w;
	if (!value_word(p, words, 3, &w))
		return SMTP_PARAM_ERR_VALUE;
	*body_r = (enum smtp_param_body)w;
	return SMTP_PARAM_OK;
}

enum smtp_param_error smtp_param_smtputf8(const struct smtp_param *p)
{
	return p->value == NULL ? SMTP_PARAM_OK : SMTP_PARAM_ERR_VALUE;
}

enum smtp_param_error smtp_param_ret(const struct smtp_param *p,
				     enum smtp_param_ret *ret_r)
{
	static const char *const words[] = {"FULL", "HDRS"};
	size_t w;
	if (!value_word(p, words, 2, &w))
		return SMTP_PARAM_ERR_VALUE;
	*ret_r = (enum smtp_param_ret)w;
	return SMTP_PARAM_OK;
}

/* notify-esmtp-value = "NEVER" / 1#notify-list-element: NEVER is no
 * list element, so it only ever stands alone. */
enum smtp_param_error smtp_param_notify(const struct smtp_param *p,
					unsigned *flags_r)
{
	static const char *const never[] = {"NEVER"};
	static const char *const words[] = {"SUCCESS", "FAILURE", "DELAY"};
	unsigned flags = 0;
	size_t w;
	*flags_r = 0;
	if (p->value == NULL)
		return SMTP_PARAM_ERR_VALUE;
	if (value_word(p, never, 1, &w)) {
		*flags_r = SMTP_PARAM_NOTIFY_NEVER;
		return SMTP_PARAM_OK;
	}
	for (size_t i = 0; i <= p->value_len;) {
		const char *comma = memchr(p->value + i, ',', p->value_len - i);
		size_t end = comma ? (size_t)(comma - p->value) : p->value_len;
		struct smtp_param el = {.value = p->value + i,
					.value_len = end - i};
		if (!value_word(&el, words, 3, &w))
			return SMTP_PARAM_ERR_VALUE;
		flags |= SMTP_PARAM_NOTIFY_SUCCESS << w;
		i = end + 1;
	}
	*flags_r = flags;
	return SMTP_PARAM_OK;
}

size_t smtp_xtext_encode(const void *in, size_t len, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = in;
	size_t need = 0, o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = p[i];
		char unit[3] = {(char)ch, 0, 0};
		size_t n = 1;
		if (ch < 33 || ch > 126 || ch == '+' || ch == '=') {
			unit[0] = '+';
			unit[1] = hex[ch >> 4];
			unit[2] = hex[ch & 15];
			n = 3;
		}
		if (o == need && need + n < cap) {
			memcpy(out + o, unit, n);
			o += n;
		}
		need += n;
	}
	if (cap > 0)
		out[o] = '\0';
	return need;
}

/* An upper-case hex digit (xtext); lower case too when any_case. */
static int hexval(unsigned char ch, bool any_case)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (any_case)
		ch = (unsigned char)(ch & ~0x20u);
	return ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

/* Append n octets to out[0..cap-1], keeping room for the NUL. */
static bool put(char *out, size_t cap, size_t *o, const void *src, size_t n)
{
	if (*o + n >= cap)
		return false;
	memcpy(out + *o, src, n);
	*o += n;
	return true;
}

static enum smtp_param_error xtext_decode(const char *in, size_t len,
					  bool utf8_ok, char *out, size_t cap,
					  size_t *o)
{
	for (size_t i = 0; i < len;) {
		unsigned char ch = (unsigned char)in[i];
		const void *src = in + i;
		size_t k = 1, n = 1;
		if (ch == '+') {
			int hi = i + 2 < len ? hexval((unsigned char)in[i + 1],
						      false)
					     : -1;
			int lo = hi >= 0 ? hexval((unsigned char)in[i + 2],
						  false)
					 : -1;
			if (lo < 0)
				return SMTP_PARAM_ERR_VALUE;
			ch = (unsigned char)(hi << 4 | lo);
			src = &ch;
			k = 3;
		} else if (ch >= 0x80) {
			if (!utf8_ok)
				return SMTP_PARAM_ERR_VALUE;
			k = n = smtp_path_utf8_len(
				(const unsigned char *)in + i, len - i);
			if (k == 0)
				return SMTP_PARAM_ERR_VALUE;
		} else if (ch < 33 || ch > 126 || ch == '=') {
			return SMTP_PARAM_ERR_VALUE;
		}
		if (!put(out, cap, o, src, n))
			return SMTP_PARAM_ERR_TOO_LONG;
		i += k;
	}
	return SMTP_PARAM_OK;
}

enum smtp_param_error smtp_xtext_decode(const char *in, size_t len,
					bool utf8_ok, char *out, size_t cap,
					size_t *len_r)
{
	size_t o = 0;
	enum smtp_param_error err = SMTP_PARAM_ERR_TOO_LONG;
	if (cap > 0)
		err = xtext_decode(in, len, utf8_ok, out, cap, &o);
	if (err != SMTP_PARAM_OK)
		o = 0;
	if (cap > 0)
		out[o] = '\0';
	*len_r = o;
	return err;
}

/* RFC 3461 4.2 and 4.4: decoded, only "printable (graphic and white
 * space) characters from the US-ASCII repertoire": HT, SP to "~". */
static bool printable(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((p[i] < 32 || p[i] > 126) && p[i] != '\t')
			return false;
	return true;
}

enum smtp_param_error smtp_param_envid(const struct smtp_param *p, char *out,
				       size_t cap, size_t *len_r)
{
	*len_r = 0;
	if (cap > 0)
		out[0] = '\0';
	if (p->value == NULL)
		return SMTP_PARAM_ERR_VALUE;
	if (p->value_len > SMTP_PARAM_ENVID_MAX)
		return SMTP_PARAM_ERR_TOO_LONG;
	enum smtp_param_error err = smtp_xtext_decode(p->value, p->value_len,
						      false, out, cap, len_r);
	if (err == SMTP_PARAM_OK && !printable(out, *len_r))
		err = SMTP_PARAM_ERR_VALUE;
	if (err != SMTP_PARAM_OK && cap > 0) {
		out[0] = '\0';
		*len_r = 0;
	}
	return err;
}

/* EmbeddedUnicodeChar = "\x{" HEXPOINT "}" (RFC 6533 3): 2 to 6 hex
 * digits, shortest form (a leading 0 only in the two-digit forms),
 * naming a CTL, SP, "+", "=", "\" or DEL, or a scalar value beyond
 * ASCII. The ABNF's ("0"/"1") %x31-39 would leave out %x0A-0F and
 * %x1A-1F; the prose says CTLs are encoded this way, so all are taken. */
static bool hexpoint(const char *p, size_t n, uint32_t *cp_r, size_t *used)
{
	uint32_t cp = 0;
	size_t i = 3;
	if (n < 3 || p[0] != '\\' || p[1] != 'x' || p[2] != '{')
		return false;
	while (i < n && i < 10 && hexval((unsigned char)p[i], true) >= 0)
		cp = cp << 4 | (uint32_t)hexval((unsigned char)p[i++], true);
	size_t nd = i - 3;
	if (i >= n || p[i] != '}' || nd < 2 || nd > 6 ||
	    (nd > 2 && p[3] == '0'))
		return false;
	if (cp < 0x80 && (cp == 0 || cp > 0x20) && cp != '+' && cp != '=' &&
	    cp != '\\' && cp != 0x7F)
		return false;
	if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
		return false;
	*cp_r = cp;
	*used = i + 1;
	return true;
}

static size_t utf8_put(uint32_t cp, unsigned char *b)
{
	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (unsigned char)(0xC0 | cp >> 6);
		b[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = (unsigned char)(0xE0 | cp >> 12);
		b[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
		b[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	b[0] = (unsigned char)(0xF0 | cp >> 18);
	b[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
	b[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
	b[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

/* utf-8-addr-xtext / utf-8-addr-unitext = 1*(QCHAR / QUCHAR /
 * EmbeddedUnicodeChar), QCHAR = printable ASCII but "\", "+", "=". */
static enum smtp_param_error unitext_decode(const char *in, size_t len,
					    char *out, size_t cap, size_t *o)
{
	if (len == 0)
		return SMTP_PARAM_ERR_VALUE;
	for (size_t i = 0; i < len;) {
		unsigned char ch = (unsigned char)in[i], buf[4];
		const void *src = in + i;
		size_t k = 1, n = 1;
		uint32_t cp;
		if (ch == '\\') {
			if (!hexpoint(in + i, len - i, &cp, &k))
				return SMTP_PARAM_ERR_VALUE;
			n = utf8_put(cp, buf);
			src = buf;
		} else if (ch >= 0x80) {
			k = n = smtp_path_utf8_len(
				(const unsigned char *)in + i, len - i);
			if (k == 0)
				return SMTP_PARAM_ERR_VALUE;
		} else if (ch < 33 || ch > 126 || ch == '+' || ch == '=') {
			return SMTP_PARAM_ERR_VALUE;
		}
		if (!put(out, cap, o, src, n))
			return SMTP_PARAM_ERR_TOO_LONG;
		i += k;
	}
	return SMTP_PARAM_OK;
}

/* addr-type = atom (RFC 822 3.3): CHARs but specials, SPACE and CTLs. */
static bool atom_ok(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];
		if (ch < 33 || ch > 126 || strchr("()<>@,;:\\\".[]", ch))
			return false;
	}
	return n > 0;
}

enum smtp_param_error smtp_param_orcpt(const struct smtp_param *p,
				       struct smtp_param_orcpt *orcpt_r,
				       char *out, size_t cap)
{
	enum smtp_param_error err = SMTP_PARAM_ERR_TOO_LONG;
	size_t o = 0;
	memset(orcpt_r, 0, sizeof(*orcpt_r));
	if (cap > 0)
		out[0] = '\0';
	if (p->value == NULL)
		return SMTP_PARAM_ERR_VALUE;
	if (p->value_len > SMTP_PARAM_ORCPT_MAX)
		return SMTP_PARAM_ERR_TOO_LONG;
	const char *semi = memchr(p->value, ';', p->value_len);
	if (semi == NULL || !atom_ok(p->value, (size_t)(semi - p->value)))
		return SMTP_PARAM_ERR_VALUE;
	orcpt_r->type = p->value;
	orcpt_r->type_len = (size_t)(semi - p->value);
	orcpt_r->utf8_type = orcpt_r->type_len == 5 &&
			     strncasecmp(p->value, "utf-8", 5) == 0;
	const char *a = semi + 1;
	size_t alen = p->value_len - orcpt_r->type_len - 1;
	if (cap > 0 && orcpt_r->utf8_type)
		err = unitext_decode(a, alen, out, cap, &o);
	else if (cap > 0)
		err = xtext_decode(a, alen, false, out, cap, &o);
	if (err == SMTP_PARAM_OK && !orcpt_r->utf8_type && !printable(out, o))
		err = SMTP_PARAM_ERR_VALUE;
	if (err != SMTP_PARAM_OK)
		o = 0;
	if (cap > 0)
		out[o] = '\0';
	orcpt_r->addr_len = o;
	return err;
}

enum smtp_param_error smtp_param_auth(const struct smtp_param *p,
				      const struct smtp_path_limits *lim,
				      bool utf8_ok, struct smtp_path *mbox_r)
{
	char buf[SMTP_PATH_LOCAL_CAP + SMTP_PATH_DOMAIN_CAP + 2];
	size_t n = 0;
	memset(mbox_r, 0, sizeof(*mbox_r));
	if (p->value == NULL)
		return SMTP_PARAM_ERR_VALUE;
	enum smtp_param_error err = smtp_xtext_decode(
		p->value, p->value_len, utf8_ok, buf, sizeof(buf), &n);
	if (err != SMTP_PARAM_OK)
		return err;
	switch (smtp_path_parse_mailbox(buf, n, lim, utf8_ok, mbox_r)) {
	case SMTP_PATH_OK:
		return SMTP_PARAM_OK;
	case SMTP_PATH_ERR_LOCAL_TOO_LONG:
	case SMTP_PATH_ERR_DOMAIN_TOO_LONG:
	case SMTP_PATH_ERR_PATH_TOO_LONG:
		return SMTP_PARAM_ERR_TOO_LONG;
	case SMTP_PATH_ERR_EIGHTBIT:
		return SMTP_PARAM_ERR_EIGHTBIT;
	default:
		return SMTP_PARAM_ERR_VALUE;
	}
}
