/*
 * test_smtp_path.c - the MAIL FROM / RCPT TO path parser: RFC 5321 3.3,
 * 4.1.1.2, 4.1.1.3, 4.1.2, 4.1.3, 4.5.1, 4.5.3.1, Appendix C; RFC 6531
 * 3.3 and 3.5; the replies each error maps to (RFC 3463).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/smtp_path.h"

#define M SMTP_PATH_MAIL
#define R SMTP_PATH_RCPT

/* Flags of an expected success. */
#define NUL 0x01u /* null_path */
#define PM  0x02u /* postmaster */
#define RT  0x04u /* had_route */
#define LIT 0x08u /* domain_is_literal */
#define U8  0x10u /* utf8 */

struct pcase {
	enum smtp_path_kind kind;
	bool utf8_ok;
	const char *arg;
	enum smtp_path_error err;
	const char *local, *unq, *domain; /* on success */
	unsigned flags;
};

#define OK_(k, u, a, l, q, d, f)                  \
	{                                         \
		k, u, a, SMTP_PATH_OK, l, q, d, f \
	}
#define OKM(a, l, q, d, f) OK_(M, false, a, l, q, d, f)
#define OKR(a, l, q, d, f) OK_(R, false, a, l, q, d, f)
#define OKU(a, l, q, d, f) OK_(M, true, a, l, q, d, (f) | U8)
#define BAD(k, u, a, e)                                         \
	{                                                       \
		k, u, a, SMTP_PATH_ERR_##e, NULL, NULL, NULL, 0 \
	}
#define BM(a, e) BAD(M, false, a, e)
#define BR(a, e) BAD(R, false, a, e)
#define BU(a, e) BAD(M, true, a, e)

static const struct pcase cases[] = {
	/* the keyword and the colon (3.3) */
	OKM("FROM:<a@x.example>", "a", "a", "x.example", 0),
	OKM("from:<a@x.example>", "a", "a", "x.example", 0),
	OKR("To:<a@x.example>", "a", "a", "x.example", 0),
	BM("", KEYWORD),
	BM("FROM", KEYWORD),
	BM("FRM:<a@x>", KEYWORD),
	BM("FROM<a@x>", KEYWORD),
	BM(" FROM:<a@x>", KEYWORD),
	BM("TO:<a@x>", KEYWORD),
	BR("FROM:<a@x>", KEYWORD),
	BM("FROMX:<a@x>", KEYWORD),
	BM("FROM: <a@x>", SPACE),
	BM("FROM:\t<a@x>", SPACE),
	BM("FROM :<a@x>", SPACE),
	BR("TO: <a@x>", SPACE),
	/* brackets and what follows them */
	BM("FROM:", MISSING_BRACKETS),
	BM("FROM:a@x", MISSING_BRACKETS),
	BM("FROM:<a@x", MISSING_BRACKETS),
	BM("FROM:<a@x SIZE=1", MISSING_BRACKETS),
	BM("FROM:<a", MISSING_BRACKETS),
	BM("FROM:<", MISSING_BRACKETS),
	BM("FROM:<\"a\"", MISSING_BRACKETS),
	BR("TO:<a@[1.2.3.4]", MISSING_BRACKETS),
	BM("FROM:<a@x> ", TRAILING),
	BM("FROM:<a@x>x", TRAILING),
	BM("FROM:<a@x>>", TRAILING),
	BM("FROM:<a@x>\tSIZE=1", TRAILING),
	BM("FROM:<><>", TRAILING),
	/* the null reverse-path, MAIL only (4.1.1.2) */
	OKM("FROM:<>", "", "", "", NUL),
	OKM("FROM:<> SIZE=10", "", "", "", NUL),
	BR("TO:<>", NULL_NOT_ALLOWED),
	BM("FROM:< >", BAD_LOCAL),
	/* postmaster without a domain, RCPT only (4.1.1.3, 4.5.1) */
	OKR("TO:<postmaster>", "postmaster", "postmaster", "", PM),
	OKR("TO:<Postmaster>", "Postmaster", "Postmaster", "", PM),
	OKR("TO:<POSTMASTER> NOTIFY=NEVER", "POSTMASTER", "POSTMASTER", "", PM),
	OKR("TO:<Postmaster@x.example>", "Postmaster", "Postmaster",
	    "x.example", 0),
	BM("FROM:<postmaster>", NO_DOMAIN),
	BR("TO:<\"postmaster\">", NO_DOMAIN),
	BR("TO:<postmasters>", NO_DOMAIN),
	BR("TO:<post.master>", NO_DOMAIN),
	BR("TO:<@a.example:postmaster>", NO_DOMAIN),
	BR("TO:<a>", NO_DOMAIN),
	/* Dot-string (4.1.2, RFC 5322 atext) */
	OKM("FROM:<a.b@x>", "a.b", "a.b", "x", 0),
	OKM("FROM:<!#$%&'*+-/=?^_`{|}~@x>", "!#$%&'*+-/=?^_`{|}~",
	    "!#$%&'*+-/=?^_`{|}~", "x", 0),
	OKM("FROM:<A.B.C.1@x>", "A.B.C.1", "A.B.C.1", "x", 0),
	BM("FROM:<.a@x>", BAD_LOCAL),
	BM("FROM:<a..b@x>", BAD_LOCAL),
	BM("FROM:<a.@x>", BAD_LOCAL),
	BM("FROM:<.@x>", BAD_LOCAL),
	BM("FROM:<a b@x>", BAD_LOCAL),
	BM("FROM:<a(b)@x>", BAD_LOCAL),
	BM("FROM:<a,b@x>", BAD_LOCAL),
	BM("FROM:<a;b@x>", BAD_LOCAL),
	BM("FROM:<a[b@x>", BAD_LOCAL),
	BM("FROM:<a\\b@x>", BAD_LOCAL),
	BM("FROM:<a\x7f@x>", BAD_LOCAL),
	BM("FROM:<a\x01@x>", BAD_LOCAL),
	BM("FROM:<<a@x>>", BAD_LOCAL),
	/* Quoted-string: qtextSMTP, quoted-pairSMTP */
	OKM("FROM:<\"a b\"@x.example>", "\"a b\"", "a b", "x.example", 0),
	OKM("FROM:<\"a\\\"b\"@x>", "\"a\\\"b\"", "a\"b", "x", 0),
	OKM("FROM:<\"a\\\\b\"@x>", "\"a\\\\b\"", "a\\b", "x", 0),
	OKM("FROM:<\"a\\ b\"@x>", "\"a\\ b\"", "a b", "x", 0),
	OKM("FROM:<\"\\a\"@x>", "\"\\a\"", "a", "x", 0),
	OKM("FROM:<\"\"@x>", "\"\"", "", "x", 0),
	OKM("FROM:<\"a>b\"@x>", "\"a>b\"", "a>b", "x", 0),
	OKM("FROM:<\"a@b\"@x>", "\"a@b\"", "a@b", "x", 0),
	OKM("FROM:<\"(),:;<>[]\"@x>", "\"(),:;<>[]\"", "(),:;<>[]", "x", 0),
	OKM("FROM:<\"a.\"@x>", "\"a.\"", "a.", "x", 0),
	BM("FROM:<\"a\"b@x>", BAD_LOCAL),
	BM("FROM:<a\"b\"@x>", BAD_LOCAL),
	BM("FROM:<\"a\".b@x>", BAD_LOCAL),
	BM("FROM:<\"a@x>", BAD_LOCAL),
	BM("FROM:<\"a\tb\"@x>", BAD_LOCAL),
	BM("FROM:<\"a\\\tb\"@x>", BAD_LOCAL),
	BM("FROM:<\"a\\\x7f\"@x>", BAD_LOCAL),
	BM("FROM:<\"a\x7f\"@x>", BAD_LOCAL),
	BM("FROM:<\"a\\", BAD_LOCAL),
	/* Domain (4.1.2) */
	OKM("FROM:<a@x-y.example>", "a", "a", "x-y.example", 0),
	OKM("FROM:<a@1.2.3.example>", "a", "a", "1.2.3.example", 0),
	BM("FROM:<a@>", BAD_DOMAIN),
	BM("FROM:<a@-x.example>", BAD_DOMAIN),
	BM("FROM:<a@x-.example>", BAD_DOMAIN),
	BM("FROM:<a@x_y.example>", BAD_DOMAIN),
	BM("FROM:<a@x..example>", BAD_DOMAIN),
	BM("FROM:<a@.x.example>", BAD_DOMAIN),
	BM("FROM:<a@x.example.>", BAD_DOMAIN),
	BM("FROM:<a@x y>", BAD_DOMAIN),
	BM("FROM:<a@b@x>", BAD_DOMAIN),
	BM("FROM:<a@\"x\">", BAD_DOMAIN),
	/* address literals (4.1.3) */
	OKM("FROM:<a@[192.0.2.1]>", "a", "a", "[192.0.2.1]", LIT),
	OKR("TO:<a@[IPv6:2001:db8::1]>", "a", "a", "[IPv6:2001:db8::1]", LIT),
	OKR("TO:<a@[ipv6:::1]>", "a", "a", "[ipv6:::1]", LIT),
	OKR("TO:<a@[IPv6:::ffff:192.0.2.1]>", "a", "a",
	    "[IPv6:::ffff:192.0.2.1]", LIT),
	OKR("TO:<a@[x-tag:abc]>", "a", "a", "[x-tag:abc]", LIT),
	OKR("TO:<a@[x-tag:a>b]> X=1", "a", "a", "[x-tag:a>b]", LIT),
	BR("TO:<a@[300.1.1.1]>", BAD_LITERAL),
	BR("TO:<a@[1.2.3]>", BAD_LITERAL),
	BR("TO:<a@[IPv6:zz::1]>", BAD_LITERAL),
	BR("TO:<a@[IPv6:1.2.3.4]>", BAD_LITERAL),
	BR("TO:<a@[]>", BAD_LITERAL),
	BR("TO:<a@[1.2.3.4>", BAD_LITERAL),
	BR("TO:<a@[1.2.3.4]x>", BAD_LITERAL),
	OKR("TO:<a@[-tag:x]>", "a", "a", "[-tag:x]", LIT), /* Ldh-str */
	BR("TO:<a@[tag:]>", BAD_LITERAL),
	BR("TO:<a@x[1.2.3.4]>", BAD_DOMAIN),
	/* source routes (4.1.2, Appendix C): accepted, dropped, reported */
	OKM("FROM:<@a.example,@b.example:user@c.example>", "user", "user",
	    "c.example", RT),
	OKR("TO:<@a.example:u@c.example>", "u", "u", "c.example", RT),
	OKR("TO:<@a:\"q r\"@[192.0.2.1]>", "\"q r\"", "q r", "[192.0.2.1]",
	    RT | LIT),
	BM("FROM:<@a.example,b.example:u@c>", BAD_ROUTE),
	BM("FROM:<@a.example u@c>", BAD_ROUTE),
	BM("FROM:<@a.example>", BAD_ROUTE),
	BM("FROM:<@:u@c>", BAD_ROUTE),
	BM("FROM:<@,@a:u@c>", BAD_ROUTE),
	BM("FROM:<@a..b:u@c>", BAD_ROUTE),
	BM("FROM:<@[192.0.2.1]:u@c>", BAD_ROUTE),
	BM("FROM:<@a_b:u@c>", BAD_ROUTE),
	BM("FROM:<@>", BAD_ROUTE),
	BM("FROM:<@a.example:>", BAD_LOCAL),
	BM("FROM:<@a.example:@b:u@c>", BAD_LOCAL),
	BM("FROM:<@a.example", MISSING_BRACKETS),
	BM("FROM:<@a.example,", MISSING_BRACKETS),
	/* 8-bit without SMTPUTF8, anywhere in the path (RFC 6531 3.5) */
	BM("FROM:<j\xc3\xb6rg@x.example>", EIGHTBIT),
	BR("TO:<j\xc3\xb6rg@x.example>", EIGHTBIT),
	BM("FROM:<a@b\xc3\xbc\x63her.example>", EIGHTBIT),
	BM("FROM:<\"\xc3\xb6\"@x>", EIGHTBIT),
	BM("FROM:<\"\\\xc3\xb6\"@x>", EIGHTBIT),
	BM("FROM:<@b\xc3\xbc\x63her.example:a@x>", EIGHTBIT),
	BM("FROM:<a@[\xc3\xb6]>", EIGHTBIT),
	BM("FROM:<\xff@x>", EIGHTBIT),
	/* SMTPUTF8 (RFC 6531 3.3): UTF-8 atext, qtext, U-labels */
	OKU("FROM:<j\xc3\xb6rg@x.example>", "j\xc3\xb6rg", "j\xc3\xb6rg",
	    "x.example", 0),
	OKU("FROM:<\xf0\x9f\x98\x80@x>", "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80",
	    "x", 0),
	OKU("FROM:<\"j \xc3\xb6\"@x>", "\"j \xc3\xb6\"", "j \xc3\xb6", "x", 0),
	OKU("FROM:<a@b\xc3\xbc\x63her.example>", "a", "a",
	    "b\xc3\xbc\x63her.example", 0),
	OKU("FROM:<a@\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9"
	    "\xe3\x83\x88>",
	    "a", "a",
	    "\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88", 0),
	OKU("FROM:<@b\xc3\xbc.example:a@x>", "a", "a", "x", RT),
	OK_(R, true, "TO:<a@x.example>", "a", "a", "x.example", 0),
	BU("FROM:<\xc0\xaf@x>", BAD_UTF8),	       /* overlong "/" */
	BU("FROM:<\xc1\xbf@x>", BAD_UTF8),	       /* overlong */
	BU("FROM:<\xe0\x80\xaf@x>", BAD_UTF8),	       /* overlong */
	BU("FROM:<\xf0\x80\x80\xaf@x>", BAD_UTF8),     /* overlong */
	BU("FROM:<\xed\xa0\x80@x>", BAD_UTF8),	       /* surrogate */
	BU("FROM:<\xf4\x90\x80\x80@x>", BAD_UTF8),     /* > U+10FFFF */
	BU("FROM:<\xf5\x80\x80\x80@x>", BAD_UTF8),     /* F5 */
	BU("FROM:<\x80@x>", BAD_UTF8),		       /* continuation */
	BU("FROM:<\xc3@x>", BAD_UTF8),		       /* truncated */
	BU("FROM:<\"\xc3\"@x>", BAD_UTF8),	       /* in quotes */
	BU("FROM:<a@\xc3>", BAD_UTF8),		       /* in the domain */
	BU("FROM:<\"\\\xc3\xb6\"@x>", BAD_LOCAL),      /* not quotable */
	BU("FROM:<a@b\xc3\xbc_.example>", BAD_DOMAIN), /* "_" */
	BU("FROM:<a@-\xc3\xbc.example>", BAD_DOMAIN),
	BU("FROM:<a@\xc3\xbc-.example>", BAD_DOMAIN),
	BU("FROM:<a@\xc3\xbc..example>", BAD_DOMAIN),
	BU("FROM:<a@\xc3\xbc.example.>", BAD_DOMAIN),
	BU("FROM:<a@\xc3\xbc.-x>", BAD_DOMAIN),
	BU("FROM:<a@[\xc3\xb6]>", BAD_LITERAL),
	/* parameters start after one SP */
	OKM("FROM:<a@x>  SIZE=1", "a", "a", "x", 0),
};

static void check_case(const struct pcase *c, size_t i)
{
	struct smtp_path p;
	size_t params = 12345;
	size_t len = strlen(c->arg);
	enum smtp_path_error err = smtp_path_parse(c->arg, len, c->kind, NULL,
						   c->utf8_ok, &p, &params);
	ck_assert_msg(err == c->err, "case %zu \"%s\": got %s, want %s", i,
		      c->arg, smtp_path_error_name(err),
		      smtp_path_error_name(c->err));
	if (err != SMTP_PATH_OK) {
		ck_assert_str_eq(p.local, "");
		ck_assert_str_eq(p.local_unquoted, "");
		ck_assert_str_eq(p.domain, "");
		ck_assert_uint_eq(params, len);
		return;
	}
	ck_assert_str_eq(p.local, c->local);
	ck_assert_str_eq(p.local_unquoted, c->unq);
	ck_assert_str_eq(p.domain, c->domain);
	ck_assert_int_eq(p.null_path, (c->flags & NUL) != 0);
	ck_assert_int_eq(p.postmaster, (c->flags & PM) != 0);
	ck_assert_int_eq(p.had_route, (c->flags & RT) != 0);
	ck_assert_int_eq(p.domain_is_literal, (c->flags & LIT) != 0);
	ck_assert_int_eq(p.utf8, (c->flags & U8) != 0);
	ck_assert_uint_le(params, len);
}

START_TEST(table)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i], i);
}
END_TEST

static enum smtp_path_error parse(enum smtp_path_kind k, const char *arg,
				  const struct smtp_path_limits *lim,
				  struct smtp_path *p)
{
	size_t params;
	return smtp_path_parse(arg, strlen(arg), k, lim, false, p, &params);
}

/* A valid domain of exactly n octets: labels of at most 63. */
static void make_domain(char *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = i % 64 == 63 ? '.' : 'd';
	if (n >= 2 && out[n - 1] == '.') {
		out[n - 2] = '.';
		out[n - 1] = 'd';
	}
	out[n] = '\0';
}

/* kw "<" route local(nl octets of c) "@" domain(nd octets) ">" */
static void make_path(char *out, const char *kw, const char *route, size_t nl,
		      char c, size_t nd)
{
	size_t k = strlen(kw), r = strlen(route);
	memcpy(out, kw, k);
	out[k++] = '<';
	memcpy(out + k, route, r);
	k += r;
	memset(out + k, c, nl);
	k += nl;
	out[k++] = '@';
	make_domain(out + k, nd);
	k += nd;
	out[k++] = '>';
	out[k] = '\0';
}

START_TEST(length_boundaries)
{
	static const struct smtp_path_limits wide = {64, 255, 1000};
	struct smtp_path p;
	char a[2048];
	/* 4.5.3.1.1: a local part of 64 octets, not 65 */
	make_path(a, "FROM:", "", 64, 'l', 1);
	ck_assert_int_eq(parse(M, a, NULL, &p), SMTP_PATH_OK);
	ck_assert_uint_eq(strlen(p.local), 64);
	make_path(a, "FROM:", "", 65, 'l', 1);
	ck_assert_int_eq(parse(M, a, NULL, &p), SMTP_PATH_ERR_LOCAL_TOO_LONG);
	make_path(a, "TO:", "", 65, 'l', 1);
	ck_assert_int_eq(parse(R, a, NULL, &p), SMTP_PATH_ERR_LOCAL_TOO_LONG);
	/* 4.5.3.1.2: a domain of 255 octets, not 256 */
	make_path(a, "FROM:", "", 1, 'l', 255);
	ck_assert_int_eq(parse(M, a, &wide, &p), SMTP_PATH_OK);
	ck_assert_uint_eq(strlen(p.domain), 255);
	make_path(a, "FROM:", "", 1, 'l', 256);
	ck_assert_int_eq(parse(M, a, &wide, &p), SMTP_PATH_ERR_DOMAIN_TOO_LONG);
	ck_assert_int_eq(parse(M, a, NULL, &p), SMTP_PATH_ERR_DOMAIN_TOO_LONG);
	/* 4.5.3.1.3: a path of 256 octets with its brackets, not 257 */
	make_path(a, "FROM:", "", 64, 'l', 189);
	ck_assert_int_eq(parse(M, a, NULL, &p), SMTP_PATH_OK);
	make_path(a, "FROM:", "", 64, 'l', 190);
	ck_assert_int_eq(parse(M, a, NULL, &p), SMTP_PATH_ERR_PATH_TOO_LONG);
	make_path(a, "TO:", "", 1, 'l', 252);
	ck_assert_int_eq(parse(R, a, NULL, &p), SMTP_PATH_OK);
	make_path(a, "TO:", "", 1, 'l', 253);
	ck_assert_int_eq(parse(R, a, NULL, &p), SMTP_PATH_ERR_PATH_TOO_LONG);
	/* the source route counts towards the path: 1 + 11 + 1 + 1 + 241 +
	 * 1 octets */
	make_path(a, "FROM:", "@r.example:", 1, 'l', 241);
	ck_assert_int_eq(parse(M, a, NULL, &p), SMTP_PATH_OK);
	ck_assert(p.had_route);
	make_path(a, "FROM:", "@r.example:", 1, 'l', 242);
	ck_assert_int_eq(parse(M, a, NULL, &p), SMTP_PATH_ERR_PATH_TOO_LONG);
}
END_TEST

/* Append s to the NUL-terminated a. */
static void app(char *a, const char *s)
{
	size_t n = strlen(a);
	memcpy(a + n, s, strlen(s) + 1);
}

START_TEST(length_quoted_and_utf8)
{
	struct smtp_path p;
	size_t params;
	char a[512] = "FROM:<\"";
	/* the quotes and backslashes count: the local part as written */
	for (int i = 0; i < 31; i++)
		app(a, "\\a");
	app(a, "\"@x>");
	ck_assert_int_eq(parse(M, a, NULL, &p), SMTP_PATH_OK);
	ck_assert_uint_eq(strlen(p.local), 64);
	ck_assert_uint_eq(strlen(p.local_unquoted), 31);
	a[7] = '\0';
	for (int i = 0; i < 32; i++)
		app(a, "\\a");
	app(a, "\"@x>");
	ck_assert_int_eq(parse(M, a, NULL, &p), SMTP_PATH_ERR_LOCAL_TOO_LONG);
	/* octets, not characters (4.5.3.1): 32 "\xc3\xb6" are 64 octets */
	a[6] = '\0';
	for (int i = 0; i < 32; i++)
		app(a, "\xc3\xb6");
	app(a, "@x>");
	ck_assert_int_eq(
		smtp_path_parse(a, strlen(a), M, NULL, true, &p, &params),
		SMTP_PATH_OK);
	ck_assert(p.utf8);
	a[6] = '\0';
	for (int i = 0; i < 33; i++)
		app(a, "\xc3\xb6");
	app(a, "@x>");
	ck_assert_int_eq(
		smtp_path_parse(a, strlen(a), M, NULL, true, &p, &params),
		SMTP_PATH_ERR_LOCAL_TOO_LONG);
}
END_TEST

START_TEST(custom_limits)
{
	static const struct smtp_path_limits small = {8, 16, 24};
	static const struct smtp_path_limits huge = {1000, 1000, 5000};
	struct smtp_path p;
	char a[2048];
	make_path(a, "FROM:", "", 8, 'l', 13); /* 1+8+1+13+1 = 24 */
	ck_assert_int_eq(parse(M, a, &small, &p), SMTP_PATH_OK);
	make_path(a, "FROM:", "", 8, 'l', 14);
	ck_assert_int_eq(parse(M, a, &small, &p), SMTP_PATH_ERR_PATH_TOO_LONG);
	make_path(a, "FROM:", "", 9, 'l', 1);
	ck_assert_int_eq(parse(M, a, &small, &p), SMTP_PATH_ERR_LOCAL_TOO_LONG);
	make_path(a, "FROM:", "", 1, 'l', 16);
	ck_assert_int_eq(parse(M, a, &small, &p), SMTP_PATH_OK);
	make_path(a, "FROM:", "", 1, 'l', 17);
	ck_assert_int_eq(parse(M, a, &small, &p),
			 SMTP_PATH_ERR_DOMAIN_TOO_LONG);
	/* limits above what struct smtp_path holds are clamped */
	make_path(a, "FROM:", "", SMTP_PATH_LOCAL_CAP, 'l', 255);
	ck_assert_int_eq(parse(M, a, &huge, &p), SMTP_PATH_OK);
	ck_assert_uint_eq(strlen(p.local), SMTP_PATH_LOCAL_CAP);
	make_path(a, "FROM:", "", SMTP_PATH_LOCAL_CAP + 1, 'l', 1);
	ck_assert_int_eq(parse(M, a, &huge, &p), SMTP_PATH_ERR_LOCAL_TOO_LONG);
	make_path(a, "FROM:", "", 1, 'l', 256);
	ck_assert_int_eq(parse(M, a, &huge, &p), SMTP_PATH_ERR_DOMAIN_TOO_LONG);
	/* "<Postmaster>" obeys them too */
	static const struct smtp_path_limits pm1 = {9, 255, 256};
	static const struct smtp_path_limits pm2 = {64, 255, 11};
	ck_assert_int_eq(parse(R, "TO:<postmaster>", &pm1, &p),
			 SMTP_PATH_ERR_LOCAL_TOO_LONG);
	ck_assert_int_eq(parse(R, "TO:<postmaster>", &pm2, &p),
			 SMTP_PATH_ERR_PATH_TOO_LONG);
	/* a literal is a "number" of 4.5.3.1.2: brackets included */
	static const struct smtp_path_limits lit = {64, 11, 256};
	ck_assert_int_eq(parse(R, "TO:<a@[192.0.2.1]>", &lit, &p),
			 SMTP_PATH_OK);
	ck_assert_int_eq(parse(R, "TO:<a@[192.0.2.12]>", &lit, &p),
			 SMTP_PATH_ERR_DOMAIN_TOO_LONG);
}
END_TEST

/* Inputs with NULs, and bytes past len that must not be read. */
START_TEST(explicit_lengths)
{
	static const struct {
		const char *s;
		size_t len;
		enum smtp_path_error err;
	} t[] = {
		{"FROM:<a\0b@x>", 12, SMTP_PATH_ERR_BAD_LOCAL},
		{"FROM:<\"a\0\"@x>", 13, SMTP_PATH_ERR_BAD_LOCAL},
		{"FROM:<a@x\0>", 11, SMTP_PATH_ERR_BAD_DOMAIN},
		{"FROM:<a@[1.2.3.4\0]>", 19, SMTP_PATH_ERR_BAD_LITERAL},
		{"FROM:<a@[IPv6:::1\0]>", 20, SMTP_PATH_ERR_BAD_LITERAL},
		{"FROM:<a@[IPv6:::1\0x]>", 21, SMTP_PATH_ERR_BAD_LITERAL},
		{"FROM:<@x\0:a@x>", 15, SMTP_PATH_ERR_BAD_ROUTE},
		{"FROM:<a@x>\0", 11, SMTP_PATH_ERR_TRAILING},
		{"FROM\0<a@x>", 10, SMTP_PATH_ERR_KEYWORD},
		{"FROM:<a@x>XYZ", 10, SMTP_PATH_OK},
		{"FROM:<a@x>XYZ", 9, SMTP_PATH_ERR_MISSING_BRACKETS},
		{"FROM:<\"a>b\"@x>", 8, SMTP_PATH_ERR_BAD_LOCAL},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct smtp_path p;
		size_t params;
		ck_assert_int_eq(smtp_path_parse(t[i].s, t[i].len, M, NULL,
						 true, &p, &params),
				 t[i].err);
	}
}
END_TEST

START_TEST(params_offset)
{
	static const struct {
		enum smtp_path_kind k;
		const char *s;
		size_t at;
	} t[] = {
		{M, "FROM:<a@x> SIZE=1", 11},
		{M, "FROM:<a@x>", 10},
		{M, "FROM:<> BODY=8BITMIME", 8},
		{M, "FROM:<a@x>  SIZE=1", 11}, /* the parameters refuse it */
		{R, "TO:<postmaster> NOTIFY=NEVER", 16},
		{R, "TO:<\"a> b\"@x> X", 14},
		{R, "TO:<@r:a@[1.2.3.4]> ORCPT=rfc822;a@x", 20},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct smtp_path p;
		size_t params = 0;
		ck_assert_int_eq(smtp_path_parse(t[i].s, strlen(t[i].s), t[i].k,
						 NULL, false, &p, &params),
				 SMTP_PATH_OK);
		ck_assert_uint_eq(params, t[i].at);
	}
}
END_TEST

START_TEST(bare_mailbox)
{
	static const struct {
		const char *s;
		bool u8;
		enum smtp_path_error err;
	} t[] = {
		{"a@x.example", false, SMTP_PATH_OK},
		{"<>", false, SMTP_PATH_OK},
		{"\"a b\"@x", false, SMTP_PATH_OK},
		{"a@[192.0.2.1]", false, SMTP_PATH_OK},
		{"j\xc3\xb6rg@x", true, SMTP_PATH_OK},
		{"j\xc3\xb6rg@x", false, SMTP_PATH_ERR_EIGHTBIT},
		{"a", false, SMTP_PATH_ERR_NO_DOMAIN},
		{"postmaster", false, SMTP_PATH_ERR_NO_DOMAIN},
		{"<a@x>", false, SMTP_PATH_ERR_BAD_LOCAL},
		{"a@x>", false, SMTP_PATH_ERR_BAD_DOMAIN},
		{"a@x y", false, SMTP_PATH_ERR_BAD_DOMAIN},
		{"", false, SMTP_PATH_ERR_BAD_LOCAL},
		{"@r:a@x", false, SMTP_PATH_ERR_BAD_LOCAL},
		{"a@[1.2.3.4]x", false, SMTP_PATH_ERR_BAD_LITERAL},
		{"<", false, SMTP_PATH_ERR_BAD_LOCAL},
	};
	struct smtp_path p;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ck_assert_int_eq(smtp_path_parse_mailbox(t[i].s, strlen(t[i].s),
							 NULL, t[i].u8, &p),
				 t[i].err);
	ck_assert_int_eq(smtp_path_parse_mailbox("<>", 2, NULL, false, &p),
			 SMTP_PATH_OK);
	ck_assert(p.null_path);
	ck_assert_int_eq(smtp_path_parse_mailbox("\"a\\\"\"@[1.2.3.4]", 15,
						 NULL, false, &p),
			 SMTP_PATH_OK);
	ck_assert_str_eq(p.local_unquoted, "a\"");
	ck_assert_str_eq(p.domain, "[1.2.3.4]");
	ck_assert(p.domain_is_literal);
	/* a mailbox must fit a path: 254 octets and two brackets */
	char a[300];
	make_path(a, "", "", 64, 'l', 189);
	ck_assert_int_eq(
		smtp_path_parse_mailbox(a + 1, strlen(a) - 2, NULL, false, &p),
		SMTP_PATH_OK);
	make_path(a, "", "", 64, 'l', 190);
	ck_assert_int_eq(
		smtp_path_parse_mailbox(a + 1, strlen(a) - 2, NULL, false, &p),
		SMTP_PATH_ERR_PATH_TOO_LONG);
}
END_TEST

START_TEST(utf8_sequences)
{
	static const struct {
		const char *s;
		size_t want;
	} t[] = {
		{"\xc2\x80", 2},
		{"\xdf\xbf", 2},
		{"\xe0\xa0\x80", 3},
		{"\xed\x9f\xbf", 3},
		{"\xee\x80\x80", 3},
		{"\xef\xbf\xbf", 3},
		{"\xf0\x90\x80\x80", 4},
		{"\xf4\x8f\xbf\xbf", 4},
		{"a", 0},
		{"\x80", 0},
		{"\xc0\x80", 0},
		{"\xc1\xbf", 0},
		{"\xc2", 0},
		{"\xc2\x7f", 0},
		{"\xc2\xc0", 0},
		{"\xe0\x9f\xbf", 0},
		{"\xed\xa0\x80", 0},
		{"\xed\xbf\xbf", 0},
		{"\xe1\x80", 0},
		{"\xf0\x8f\xbf\xbf", 0},
		{"\xf4\x90\x80\x80", 0},
		{"\xf5\x80\x80\x80", 0},
		{"\xf8\x88\x80\x80", 0},
		{"\xff", 0},
		{"\xf0\x90\x80", 0},
		{"\xe1\x80\xc0", 0},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ck_assert_uint_eq(
			smtp_path_utf8_len((const unsigned char *)t[i].s,
					   strlen(t[i].s)),
			t[i].want);
	ck_assert_uint_eq(smtp_path_utf8_len((const unsigned char *)"", 0), 0);
	/* avail bounds the read */
	ck_assert_uint_eq(
		smtp_path_utf8_len((const unsigned char *)"\xc3\xb6", 1), 0);
}
END_TEST

START_TEST(reply_mapping)
{
	static const struct {
		enum smtp_path_error err;
		int mcode;
		const char *menh;
		int rcode;
		const char *renh;
	} t[] = {
		{SMTP_PATH_OK, 250, "2.1.0", 250, "2.1.5"},
		{SMTP_PATH_ERR_KEYWORD, 501, "5.5.2", 501, "5.5.2"},
		{SMTP_PATH_ERR_SPACE, 501, "5.5.2", 501, "5.5.2"},
		{SMTP_PATH_ERR_MISSING_BRACKETS, 501, "5.1.7", 501, "5.1.3"},
		{SMTP_PATH_ERR_TRAILING, 501, "5.5.2", 501, "5.5.2"},
		{SMTP_PATH_ERR_NULL_NOT_ALLOWED, 501, "5.1.7", 501, "5.1.3"},
		{SMTP_PATH_ERR_BAD_ROUTE, 501, "5.1.7", 501, "5.1.3"},
		{SMTP_PATH_ERR_NO_DOMAIN, 501, "5.1.7", 501, "5.1.3"},
		{SMTP_PATH_ERR_BAD_LOCAL, 501, "5.1.7", 501, "5.1.3"},
		{SMTP_PATH_ERR_BAD_DOMAIN, 501, "5.1.7", 501, "5.1.3"},
		{SMTP_PATH_ERR_BAD_LITERAL, 501, "5.1.7", 501, "5.1.3"},
		{SMTP_PATH_ERR_BAD_UTF8, 501, "5.1.7", 501, "5.1.3"},
		{SMTP_PATH_ERR_EIGHTBIT, 550, "5.6.7", 553, "5.6.7"},
		{SMTP_PATH_ERR_LOCAL_TOO_LONG, 501, "5.1.7", 501, "5.1.3"},
		{SMTP_PATH_ERR_DOMAIN_TOO_LONG, 501, "5.1.7", 501, "5.1.3"},
		{SMTP_PATH_ERR_PATH_TOO_LONG, 501, "5.1.7", 501, "5.1.3"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct smtp_path_reply m = smtp_path_reply(t[i].err, M);
		struct smtp_path_reply r = smtp_path_reply(t[i].err, R);
		ck_assert_int_eq(m.code, t[i].mcode);
		ck_assert_str_eq(m.enh, t[i].menh);
		ck_assert_int_eq(r.code, t[i].rcode);
		ck_assert_str_eq(r.enh, t[i].renh);
		ck_assert_ptr_nonnull(m.text);
		ck_assert_ptr_nonnull(r.text);
		/* every error has its own name */
		for (size_t j = 0; j < i; j++)
			ck_assert_str_ne(smtp_path_error_name(t[i].err),
					 smtp_path_error_name(t[j].err));
	}
	ck_assert_str_eq(smtp_path_reply(SMTP_PATH_ERR_PATH_TOO_LONG, M).text,
			 "Sender path too long");
	ck_assert_str_eq(smtp_path_reply(SMTP_PATH_ERR_LOCAL_TOO_LONG, R).text,
			 "Recipient local part too long");
	ck_assert_str_eq(smtp_path_reply(SMTP_PATH_ERR_DOMAIN_TOO_LONG, R).text,
			 "Recipient domain too long");
	ck_assert_str_eq(smtp_path_reply(SMTP_PATH_ERR_BAD_LOCAL, M).text,
			 "Bad sender address syntax (local part)");
	ck_assert_str_eq(smtp_path_error_name(SMTP_PATH_ERR_BAD_LOCAL),
			 "bad_local");
	/* out of range: a generic syntax error */
	struct smtp_path_reply x = smtp_path_reply((enum smtp_path_error)99, R);
	ck_assert_int_eq(x.code, 501);
	ck_assert_str_eq(x.enh, "5.5.2");
	ck_assert_str_eq(smtp_path_error_name((enum smtp_path_error)99),
			 "unknown");
}
END_TEST

START_TEST(suspicious)
{
	static const struct {
		enum smtp_path_kind k;
		const char *s;
		unsigned why;
	} t[] = {
		{M, "FROM:<a@x.example>", 0},
		{M, "FROM:<>", 0},
		{R, "TO:<postmaster>", 0},
		{R, "TO:<\"a b\"@x>", 0},
		{R, "TO:<a%b.example@relay.example>", SMTP_PATH_SUSP_PERCENT},
		{R, "TO:<b.example!a@relay.example>", SMTP_PATH_SUSP_BANG},
		{R, "TO:<\"a@b.example\"@relay.example>",
		 SMTP_PATH_SUSP_QUOTED_AT},
		{R, "TO:<\"a%b\"@x>", SMTP_PATH_SUSP_PERCENT},
		{R, "TO:<\"a\\@b\"@x>", SMTP_PATH_SUSP_QUOTED_AT},
		{R, "TO:<@relay.example:a@b.example>", SMTP_PATH_SUSP_ROUTE},
		{R, "TO:<@r:\"x!y%z@w\"@b>",
		 SMTP_PATH_SUSP_ROUTE | SMTP_PATH_SUSP_BANG |
			 SMTP_PATH_SUSP_PERCENT | SMTP_PATH_SUSP_QUOTED_AT},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct smtp_path p;
		ck_assert_int_eq(parse(t[i].k, t[i].s, NULL, &p), SMTP_PATH_OK);
		ck_assert_uint_eq(smtp_path_suspicious_why(&p), t[i].why);
		ck_assert_int_eq(smtp_path_suspicious(&p), t[i].why != 0);
	}
	/* the parser refuses a trailing dot; a path built elsewhere may
	 * carry one */
	struct smtp_path p;
	memset(&p, 0, sizeof(p));
	memcpy(p.local, "a", 2);
	memcpy(p.local_unquoted, "a", 2);
	memcpy(p.domain, "relay.example.", 15);
	ck_assert_uint_eq(smtp_path_suspicious_why(&p),
			  SMTP_PATH_SUSP_TRAILING_DOT);
	ck_assert(smtp_path_suspicious(&p));
}
END_TEST

static Suite *path_suite(void)
{
	Suite *s = suite_create("smtp_path");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, table);
	tcase_add_test(tc, length_boundaries);
	tcase_add_test(tc, length_quoted_and_utf8);
	tcase_add_test(tc, custom_limits);
	tcase_add_test(tc, explicit_lengths);
	tcase_add_test(tc, params_offset);
	tcase_add_test(tc, bare_mailbox);
	tcase_add_test(tc, utf8_sequences);
	tcase_add_test(tc, reply_mapping);
	tcase_add_test(tc, suspicious);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(path_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
