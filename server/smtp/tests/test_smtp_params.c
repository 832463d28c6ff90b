/*
 * test_smtp_params.c - ESMTP parameters of MAIL and RCPT: the splitter
 * (RFC 5321 4.1.2, RFC 6531 3.3), unknown ones (4.1.1.11), duplicates
 * (RFC 3461 4.5), and each decoder: SIZE (RFC 1870), BODY (RFC 6152,
 * RFC 3030), SMTPUTF8, RET, ENVID, NOTIFY, ORCPT and xtext (RFC 3461),
 * ORCPT utf-8 (RFC 6533), AUTH (RFC 4954 5); the exact replies.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/smtp_params.h"

#define MAXP SMTP_PARAM_MAX_DEFAULT

static enum smtp_param_error split(const char *s, bool u8, struct smtp_param *v,
				   size_t *n)
{
	return smtp_param_parse(s, strlen(s), u8, v, MAXP, n);
}

/* One parameter from its text ("SIZE=10"), which must split cleanly. */
static struct smtp_param one(const char *s, bool u8)
{
	struct smtp_param v[MAXP];
	size_t n = 0;
	ck_assert_int_eq(split(s, u8, v, &n), SMTP_PARAM_OK);
	ck_assert_uint_eq(n, 1);
	return v[0];
}

static bool has(const struct smtp_param *p, const char *kw, const char *val)
{
	if (p->keyword_len != strlen(kw) ||
	    memcmp(p->keyword, kw, p->keyword_len) != 0)
		return false;
	if (val == NULL)
		return p->value == NULL;
	return p->value != NULL && p->value_len == strlen(val) &&
	       memcmp(p->value, val, p->value_len) == 0;
}

START_TEST(splitting)
{
	struct smtp_param v[MAXP];
	size_t n = 99;
	ck_assert_int_eq(split("", false, v, &n), SMTP_PARAM_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(split("SIZE=100 BODY=8BITMIME SMTPUTF8 X-a-1=b;c",
			       false, v, &n),
			 SMTP_PARAM_OK);
	ck_assert_uint_eq(n, 4);
	ck_assert(has(&v[0], "SIZE", "100"));
	ck_assert(has(&v[1], "BODY", "8BITMIME"));
	ck_assert(has(&v[2], "SMTPUTF8", NULL));
	ck_assert(has(&v[3], "X-a-1", "b;c"));
	ck_assert(!v[0].utf8);
	ck_assert_int_eq(
		split("1X=!\"#$%&'()*+,-./:;<>?@[\\]^_`{|}~", false, v, &n),
		SMTP_PARAM_OK);
	ck_assert_uint_eq(v[0].value_len, 31); /* all but "=" */
	/* UTF-8 values with SMTPUTF8 (RFC 6531 3.3), flagged */
	ck_assert_int_eq(split("K=\xc3\xa9t\xc3\xa9", true, v, &n),
			 SMTP_PARAM_OK);
	ck_assert(v[0].utf8);
}
END_TEST

START_TEST(splitting_errors)
{
	static const struct {
		const char *s;
		bool u8;
		enum smtp_param_error err;
	} t[] = {
		{" SIZE=1", false, SMTP_PARAM_ERR_SYNTAX},
		{"SIZE=1 ", false, SMTP_PARAM_ERR_SYNTAX},
		{"SIZE=1  BODY=7BIT", false, SMTP_PARAM_ERR_SYNTAX},
		{"SIZE=", false, SMTP_PARAM_ERR_SYNTAX},
		{"=1", false, SMTP_PARAM_ERR_SYNTAX},
		{"-X=1", false, SMTP_PARAM_ERR_SYNTAX},
		{"K_1=1", false, SMTP_PARAM_ERR_SYNTAX},
		{"SIZE==1", false, SMTP_PARAM_ERR_SYNTAX},
		{"K=a=b", false, SMTP_PARAM_ERR_SYNTAX},
		{"K=\x7f", false, SMTP_PARAM_ERR_SYNTAX},
		{"K=a\x01", false, SMTP_PARAM_ERR_SYNTAX},
		{"K=a\tb", false, SMTP_PARAM_ERR_SYNTAX},
		{"K\t=1", false, SMTP_PARAM_ERR_SYNTAX},
		{"K\xc3\xa9=1", true, SMTP_PARAM_ERR_SYNTAX},
		{"K=\xc3\xa9", false, SMTP_PARAM_ERR_EIGHTBIT},
		{"K=\xc0\xaf", true, SMTP_PARAM_ERR_SYNTAX},
		{"K=\xed\xa0\x80", true, SMTP_PARAM_ERR_SYNTAX},
		{"K=\xc3", true, SMTP_PARAM_ERR_SYNTAX},
		{"size=1 SIZE=2", false, SMTP_PARAM_ERR_DUPLICATE},
		{"SMTPUTF8 A=1 smtputf8", false, SMTP_PARAM_ERR_DUPLICATE},
		{"A B A=1", false, SMTP_PARAM_ERR_DUPLICATE},
		{"A AB", false, SMTP_PARAM_OK},
	};
	struct smtp_param v[MAXP];
	size_t n;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ck_assert_msg(split(t[i].s, t[i].u8, v, &n) == t[i].err,
			      "case %zu \"%s\"", i, t[i].s);
	/* NUL is no esmtp-value octet */
	ck_assert_int_eq(smtp_param_parse("K=a\0b", 5, false, v, MAXP, &n),
			 SMTP_PARAM_ERR_SYNTAX);
	ck_assert_int_eq(smtp_param_parse("K\0", 2, false, v, MAXP, &n),
			 SMTP_PARAM_ERR_SYNTAX);
}
END_TEST

START_TEST(limits)
{
	struct smtp_param v[MAXP + 1];
	char s[512] = "";
	size_t n, len = 0;
	for (int i = 0; i < MAXP; i++)
		len += (size_t)snprintf(s + len, sizeof(s) - len, "%sK%d=%d",
					i ? " " : "", i, i);
	ck_assert_int_eq(smtp_param_parse(s, len, false, v, MAXP, &n),
			 SMTP_PARAM_OK);
	ck_assert_uint_eq(n, MAXP);
	len += (size_t)snprintf(s + len, sizeof(s) - len, " K99");
	ck_assert_int_eq(smtp_param_parse(s, len, false, v, MAXP, &n),
			 SMTP_PARAM_ERR_TOO_MANY);
	ck_assert_int_eq(smtp_param_parse("A B C", 5, false, v, 2, &n),
			 SMTP_PARAM_ERR_TOO_MANY);
	ck_assert_int_eq(smtp_param_parse("A B", 3, false, v, 2, &n),
			 SMTP_PARAM_OK);
	ck_assert_int_eq(smtp_param_parse("A", 1, false, v, 0, &n),
			 SMTP_PARAM_ERR_TOO_MANY);
}
END_TEST

START_TEST(known_and_unknown)
{
	const unsigned mail = SMTP_PARAM_BIT(SMTP_PARAM_SIZE) |
			      SMTP_PARAM_BIT(SMTP_PARAM_BODY) |
			      SMTP_PARAM_BIT(SMTP_PARAM_SMTPUTF8) |
			      SMTP_PARAM_BIT(SMTP_PARAM_RET) |
			      SMTP_PARAM_BIT(SMTP_PARAM_ENVID) |
			      SMTP_PARAM_BIT(SMTP_PARAM_AUTH);
	struct smtp_param v[MAXP];
	size_t n, bad = 99;
	ck_assert_int_eq(split("size=1 Body=7BIT smtputf8 RET=FULL ENVID=x "
			       "AUTH=<> NOTIFY=NEVER ORCPT=rfc822;a X-Y",
			       false, v, &n),
			 SMTP_PARAM_OK);
	static const enum smtp_param_id ids[] = {
		SMTP_PARAM_SIZE,   SMTP_PARAM_BODY,  SMTP_PARAM_SMTPUTF8,
		SMTP_PARAM_RET,	   SMTP_PARAM_ENVID, SMTP_PARAM_AUTH,
		SMTP_PARAM_NOTIFY, SMTP_PARAM_ORCPT, SMTP_PARAM_UNKNOWN};
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(smtp_param_id(&v[i]), ids[i]);
	ck_assert_str_eq(smtp_param_name(SMTP_PARAM_NOTIFY), "NOTIFY");
	ck_assert_ptr_eq(smtp_param_find(v, n, SMTP_PARAM_RET), &v[3]);
	ck_assert_ptr_null(smtp_param_find(v, 3, SMTP_PARAM_RET));
	ck_assert_int_eq(smtp_param_check_known(v, 6, mail, &bad),
			 SMTP_PARAM_OK);
	ck_assert_int_eq(smtp_param_check_known(v, n, mail, &bad),
			 SMTP_PARAM_ERR_UNKNOWN);
	ck_assert_uint_eq(bad, 6); /* NOTIFY belongs to RCPT */
	/* not offered: 555 5.5.4 (RFC 5321 4.1.1.11) */
	ck_assert_int_eq(smtp_param_check_known(v, 1, 0, &bad),
			 SMTP_PARAM_ERR_UNKNOWN);
	ck_assert_uint_eq(bad, 0);
	/* "SIZES" and "SIZ" are not SIZE */
	struct smtp_param p = one("SIZES=1", false);
	ck_assert_int_eq(smtp_param_id(&p), SMTP_PARAM_UNKNOWN);
	p = one("SIZ=1", false);
	ck_assert_int_eq(smtp_param_id(&p), SMTP_PARAM_UNKNOWN);
}
END_TEST

START_TEST(size_values)
{
	static const struct {
		const char *s;
		enum smtp_param_error err;
		uint64_t v;
	} t[] = {
		{"SIZE=0", SMTP_PARAM_OK, 0},
		{"SIZE=00012", SMTP_PARAM_OK, 12},
		{"SIZE=1000000", SMTP_PARAM_OK, 1000000},
		{"SIZE=18446744073709551615", SMTP_PARAM_OK, UINT64_MAX},
		{"SIZE=00000000000000000001", SMTP_PARAM_OK, 1},
		{"SIZE=18446744073709551616", SMTP_PARAM_ERR_SIZE_OVERFLOW, 0},
		{"SIZE=99999999999999999999", SMTP_PARAM_ERR_SIZE_OVERFLOW, 0},
		{"SIZE=100000000000000000000", SMTP_PARAM_ERR_VALUE, 0},
		{"SIZE=+1", SMTP_PARAM_ERR_VALUE, 0},
		{"SIZE=-1", SMTP_PARAM_ERR_VALUE, 0},
		{"SIZE=1k", SMTP_PARAM_ERR_VALUE, 0},
		{"SIZE=0x10", SMTP_PARAM_ERR_VALUE, 0},
		{"SIZE", SMTP_PARAM_ERR_VALUE, 0},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct smtp_param p = one(t[i].s, false);
		uint64_t v = 7;
		ck_assert_int_eq(smtp_param_size(&p, &v), t[i].err);
		ck_assert(v == t[i].v);
	}
}
END_TEST

START_TEST(body_ret_smtputf8)
{
	enum smtp_param_body b;
	enum smtp_param_ret r;
	struct smtp_param p = one("BODY=7bit", false);
	ck_assert_int_eq(smtp_param_body(&p, &b), SMTP_PARAM_OK);
	ck_assert_int_eq(b, SMTP_PARAM_BODY_7BIT);
	p = one("BODY=8BITMIME", false);
	ck_assert_int_eq(smtp_param_body(&p, &b), SMTP_PARAM_OK);
	ck_assert_int_eq(b, SMTP_PARAM_BODY_8BITMIME);
	p = one("body=BinaryMime", false);
	ck_assert_int_eq(smtp_param_body(&p, &b), SMTP_PARAM_OK);
	ck_assert_int_eq(b, SMTP_PARAM_BODY_BINARYMIME);
	static const char *const bad_body[] = {"BODY=8BIT", "BODY=7BITX",
					       "BODY=BINARY", "BODY"};
	for (size_t i = 0; i < 4; i++) {
		p = one(bad_body[i], false);
		ck_assert_int_eq(smtp_param_body(&p, &b), SMTP_PARAM_ERR_VALUE);
	}
	p = one("RET=full", false);
	ck_assert_int_eq(smtp_param_ret(&p, &r), SMTP_PARAM_OK);
	ck_assert_int_eq(r, SMTP_PARAM_RET_FULL);
	p = one("RET=HDRS", false);
	ck_assert_int_eq(smtp_param_ret(&p, &r), SMTP_PARAM_OK);
	ck_assert_int_eq(r, SMTP_PARAM_RET_HDRS);
	p = one("RET=HEADERS", false);
	ck_assert_int_eq(smtp_param_ret(&p, &r), SMTP_PARAM_ERR_VALUE);
	p = one("RET", false);
	ck_assert_int_eq(smtp_param_ret(&p, &r), SMTP_PARAM_ERR_VALUE);
	/* RFC 6531 3.4: SMTPUTF8 "MUST not accept a value" */
	p = one("SMTPUTF8", false);
	ck_assert_int_eq(smtp_param_smtputf8(&p), SMTP_PARAM_OK);
	p = one("SMTPUTF8=YES", false);
	ck_assert_int_eq(smtp_param_smtputf8(&p), SMTP_PARAM_ERR_VALUE);
	struct smtp_path_reply rep =
		smtp_param_reply(SMTP_PARAM_ERR_VALUE, SMTP_PARAM_SMTPUTF8);
	ck_assert_str_eq(rep.text, "SMTPUTF8 takes no value");
}
END_TEST

START_TEST(notify)
{
	static const struct {
		const char *s;
		enum smtp_param_error err;
		unsigned flags;
	} t[] = {
		{"NOTIFY=NEVER", SMTP_PARAM_OK, SMTP_PARAM_NOTIFY_NEVER},
		{"NOTIFY=never", SMTP_PARAM_OK, SMTP_PARAM_NOTIFY_NEVER},
		{"NOTIFY=SUCCESS", SMTP_PARAM_OK, SMTP_PARAM_NOTIFY_SUCCESS},
		{"NOTIFY=Success,Failure,Delay", SMTP_PARAM_OK,
		 SMTP_PARAM_NOTIFY_SUCCESS | SMTP_PARAM_NOTIFY_FAILURE |
			 SMTP_PARAM_NOTIFY_DELAY},
		{"NOTIFY=DELAY,FAILURE", SMTP_PARAM_OK,
		 SMTP_PARAM_NOTIFY_FAILURE | SMTP_PARAM_NOTIFY_DELAY},
		{"NOTIFY=SUCCESS,SUCCESS", SMTP_PARAM_OK,
		 SMTP_PARAM_NOTIFY_SUCCESS},
		{"NOTIFY=NEVER,SUCCESS", SMTP_PARAM_ERR_VALUE, 0},
		{"NOTIFY=FAILURE,NEVER", SMTP_PARAM_ERR_VALUE, 0},
		{"NOTIFY=NEVER,NEVER", SMTP_PARAM_ERR_VALUE, 0},
		{"NOTIFY=SUCCESS,", SMTP_PARAM_ERR_VALUE, 0},
		{"NOTIFY=,SUCCESS", SMTP_PARAM_ERR_VALUE, 0},
		{"NOTIFY=SUCCESS,,DELAY", SMTP_PARAM_ERR_VALUE, 0},
		{"NOTIFY=,", SMTP_PARAM_ERR_VALUE, 0},
		{"NOTIFY=SUCCES", SMTP_PARAM_ERR_VALUE, 0},
		{"NOTIFY=SUCCESS;DELAY", SMTP_PARAM_ERR_VALUE, 0},
		{"NOTIFY", SMTP_PARAM_ERR_VALUE, 0},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct smtp_param p = one(t[i].s, false);
		unsigned f = 99;
		ck_assert_msg(smtp_param_notify(&p, &f) == t[i].err, "%s",
			      t[i].s);
		ck_assert_uint_eq(f, t[i].flags);
	}
}
END_TEST

START_TEST(envid)
{
	static const struct {
		const char *s;
		enum smtp_param_error err;
		const char *want;
	} t[] = {
		{"ENVID=QQ314159", SMTP_PARAM_OK, "QQ314159"},
		{"ENVID=a+2Bb+3Dc", SMTP_PARAM_OK, "a+b=c"},
		{"ENVID=+20+09x", SMTP_PARAM_OK, " \tx"},
		{"ENVID=+41", SMTP_PARAM_OK, "A"},	  /* MAY be encoded */
		{"ENVID=a+2b", SMTP_PARAM_ERR_VALUE, ""}, /* upper case hex */
		{"ENVID=a+2", SMTP_PARAM_ERR_VALUE, ""},
		{"ENVID=a+", SMTP_PARAM_ERR_VALUE, ""},
		{"ENVID=a+G0", SMTP_PARAM_ERR_VALUE, ""},
		{"ENVID=+0D+0A", SMTP_PARAM_ERR_VALUE, ""}, /* not printable */
		{"ENVID=+00", SMTP_PARAM_ERR_VALUE, ""},
		{"ENVID=+7F", SMTP_PARAM_ERR_VALUE, ""},
		{"ENVID=+80", SMTP_PARAM_ERR_VALUE, ""},
		{"ENVID", SMTP_PARAM_ERR_VALUE, ""},
	};
	char out[SMTP_PARAM_ENVID_MAX + 1];
	size_t n;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct smtp_param p = one(t[i].s, false);
		ck_assert_msg(smtp_param_envid(&p, out, sizeof(out), &n) ==
				      t[i].err,
			      "%s", t[i].s);
		ck_assert_str_eq(out, t[i].want);
		ck_assert_uint_eq(n, strlen(t[i].want));
	}
	/* raw UTF-8 is no xtext, even under SMTPUTF8 */
	struct smtp_param p = one("ENVID=\xc3\xa9", true);
	ck_assert_int_eq(smtp_param_envid(&p, out, sizeof(out), &n),
			 SMTP_PARAM_ERR_VALUE);
	/* RFC 3461 4.4: up to 100 characters */
	char s[128] = "ENVID=";
	memset(s + 6, 'e', 100);
	s[106] = '\0';
	p = one(s, false);
	ck_assert_int_eq(smtp_param_envid(&p, out, sizeof(out), &n),
			 SMTP_PARAM_OK);
	ck_assert_uint_eq(n, 100);
	memcpy(s + 106, "e", 2);
	p = one(s, false);
	ck_assert_int_eq(smtp_param_envid(&p, out, sizeof(out), &n),
			 SMTP_PARAM_ERR_TOO_LONG);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(orcpt)
{
	static const struct {
		const char *s;
		bool u8;
		enum smtp_param_error err;
		const char *type, *addr;
	} t[] = {
		{"ORCPT=rfc822;a@b.example", false, SMTP_PARAM_OK, "rfc822",
		 "a@b.example"},
		{"ORCPT=RFC822;a+2Bb@x", false, SMTP_PARAM_OK, "RFC822",
		 "a+b@x"},
		{"ORCPT=rfc822;a+20b@x", false, SMTP_PARAM_OK, "rfc822",
		 "a b@x"},
		{"ORCPT=rfc822;a;b", false, SMTP_PARAM_OK, "rfc822", "a;b"},
		{"ORCPT=x400;/c+3Dus/", false, SMTP_PARAM_OK, "x400", "/c=us/"},
		{"ORCPT=rfc822;", false, SMTP_PARAM_OK, "rfc822", ""},
		{"ORCPT=utf-8;a\\x{E9}@x", false, SMTP_PARAM_OK, "utf-8",
		 "a\xc3\xa9@x"},
		{"ORCPT=UTF-8;a\\x{e9}@x", false, SMTP_PARAM_OK, "UTF-8",
		 "a\xc3\xa9@x"},
		{"ORCPT=utf-8;\\x{20}\\x{2B}\\x{3D}\\x{5C}\\x{7F}\\x{0A}",
		 false, SMTP_PARAM_OK, "utf-8", " +=\\\x7f\n"},
		{"ORCPT=utf-8;\\x{10FFFF}\\x{1F600}\\x{FFFD}\\x{800}", false,
		 SMTP_PARAM_OK, "utf-8",
		 "\xf4\x8f\xbf\xbf\xf0\x9f\x98\x80\xef\xbf\xbd\xe0\xa0\x80"},
		{"ORCPT=utf-8;j\xc3\xb6rg@x", true, SMTP_PARAM_OK, "utf-8",
		 "j\xc3\xb6rg@x"},
		{"ORCPT=;a@b", false, SMTP_PARAM_ERR_VALUE, "", ""},
		{"ORCPT=rfc822", false, SMTP_PARAM_ERR_VALUE, "", ""},
		{"ORCPT=rfc.822;a", false, SMTP_PARAM_ERR_VALUE, "", ""},
		{"ORCPT=rfc@822;a", false, SMTP_PARAM_ERR_VALUE, "", ""},
		{"ORCPT=rfc822;a+0Ab", false, SMTP_PARAM_ERR_VALUE, "", ""},
		{"ORCPT=rfc822;a+2b", false, SMTP_PARAM_ERR_VALUE, "", ""},
		{"ORCPT=rfc822;\xc3\xa9", true, SMTP_PARAM_ERR_VALUE, "", ""},
		{"ORCPT=utf-8;", false, SMTP_PARAM_ERR_VALUE, "", ""},
		{"ORCPT=utf-8;a+2B", false, SMTP_PARAM_ERR_VALUE, "", ""},
		{"ORCPT=utf-8;a\\b", false, SMTP_PARAM_ERR_VALUE, "", ""},
		{"ORCPT=utf-8;\\x{41}", false, SMTP_PARAM_ERR_VALUE, "", ""},
		{"ORCPT=utf-8;\\x{00}", false, SMTP_PARAM_ERR_VALUE, "", ""},
		{"ORCPT=utf-8;\\x{E}", false, SMTP_PARAM_ERR_VALUE, "", ""},
		{"ORCPT=utf-8;\\x{0E9}", false, SMTP_PARAM_ERR_VALUE, "", ""},
		{"ORCPT=utf-8;\\x{D800}", false, SMTP_PARAM_ERR_VALUE, "", ""},
		{"ORCPT=utf-8;\\x{DFFF}", false, SMTP_PARAM_ERR_VALUE, "", ""},
		{"ORCPT=utf-8;\\x{110000}", false, SMTP_PARAM_ERR_VALUE, "",
		 ""},
		{"ORCPT=utf-8;\\x{0010FFFF}", false, SMTP_PARAM_ERR_VALUE, "",
		 ""},
		{"ORCPT=utf-8;\\x{E9", false, SMTP_PARAM_ERR_VALUE, "", ""},
		{"ORCPT=utf-8;\\X{E9}", false, SMTP_PARAM_ERR_VALUE, "", ""},
		{"ORCPT=utf-8;\\x{}", false, SMTP_PARAM_ERR_VALUE, "", ""},
		{"ORCPT=utf-8;\\xE9", false, SMTP_PARAM_ERR_VALUE, "", ""},
		{"ORCPT", false, SMTP_PARAM_ERR_VALUE, "", ""},
	};
	char out[SMTP_PARAM_ORCPT_MAX + 1];
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct smtp_param p = one(t[i].s, t[i].u8);
		struct smtp_param_orcpt o;
		ck_assert_msg(smtp_param_orcpt(&p, &o, out, sizeof(out)) ==
				      t[i].err,
			      "case %zu %s", i, t[i].s);
		ck_assert_str_eq(out, t[i].addr);
		ck_assert_uint_eq(o.addr_len, strlen(t[i].addr));
		if (t[i].err != SMTP_PARAM_OK)
			continue;
		ck_assert_uint_eq(o.type_len, strlen(t[i].type));
		ck_assert(memcmp(o.type, t[i].type, o.type_len) == 0);
		ck_assert_int_eq(o.utf8_type, o.type_len == 5);
	}
}
END_TEST

START_TEST(orcpt_sizes)
{
	char s[600] = "ORCPT=rfc822;", out[SMTP_PARAM_ORCPT_MAX + 1];
	struct smtp_param_orcpt o;
	/* RFC 3461 4.2: "up to 500 characters" */
	memset(s + 13, 'a', 500 - 7);
	s[506] = '\0';
	struct smtp_param p = one(s, false);
	ck_assert_uint_eq(p.value_len, 500);
	ck_assert_int_eq(smtp_param_orcpt(&p, &o, out, sizeof(out)),
			 SMTP_PARAM_OK);
	ck_assert_uint_eq(o.addr_len, 493);
	memcpy(s + 506, "a", 2);
	p = one(s, false);
	ck_assert_int_eq(smtp_param_orcpt(&p, &o, out, sizeof(out)),
			 SMTP_PARAM_ERR_TOO_LONG);
	/* a caller's buffer too small */
	p = one("ORCPT=rfc822;abcd", false);
	ck_assert_int_eq(smtp_param_orcpt(&p, &o, out, 4),
			 SMTP_PARAM_ERR_TOO_LONG);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(smtp_param_orcpt(&p, &o, out, 5), SMTP_PARAM_OK);
	ck_assert_int_eq(smtp_param_orcpt(&p, &o, NULL, 0),
			 SMTP_PARAM_ERR_TOO_LONG);
}
END_TEST

START_TEST(auth)
{
	static const struct {
		const char *s;
		bool u8;
		enum smtp_param_error err;
		const char *local, *domain;
		bool null;
	} t[] = {
		{"AUTH=<>", false, SMTP_PARAM_OK, "", "", true},
		{"AUTH=+3C+3E", false, SMTP_PARAM_OK, "", "", true},
		{"AUTH=e+3Dmc2@example.com", false, SMTP_PARAM_OK, "e=mc2",
		 "example.com", false},
		{"AUTH=\"a+20b\"@[192.0.2.1]", false, SMTP_PARAM_OK, "\"a b\"",
		 "[192.0.2.1]", false},
		{"AUTH=j\xc3\xb6rg@x", true, SMTP_PARAM_OK, "j\xc3\xb6rg", "x",
		 false},
		{"AUTH=j+C3+B6rg@x", true, SMTP_PARAM_OK, "j\xc3\xb6rg", "x",
		 false},
		{"AUTH=j+C3+B6rg@x", false, SMTP_PARAM_ERR_EIGHTBIT, "", "",
		 false},
		{"AUTH=j+C3rg@x", true, SMTP_PARAM_ERR_VALUE, "", "", false},
		{"AUTH=a", false, SMTP_PARAM_ERR_VALUE, "", "", false},
		{"AUTH=a@b+20c", false, SMTP_PARAM_ERR_VALUE, "", "", false},
		{"AUTH=+3Ca@b+3E", false, SMTP_PARAM_ERR_VALUE, "", "", false},
		{"AUTH=a@b+2", false, SMTP_PARAM_ERR_VALUE, "", "", false},
		{"AUTH=postmaster", false, SMTP_PARAM_ERR_VALUE, "", "", false},
		{"AUTH", false, SMTP_PARAM_ERR_VALUE, "", "", false},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct smtp_param p = one(t[i].s, t[i].u8);
		struct smtp_path m;
		ck_assert_msg(smtp_param_auth(&p, NULL, t[i].u8, &m) ==
				      t[i].err,
			      "case %zu %s", i, t[i].s);
		ck_assert_str_eq(m.local, t[i].local);
		ck_assert_str_eq(m.domain, t[i].domain);
		ck_assert_int_eq(m.null_path, t[i].null);
	}
	/* a local part of 65 octets is too long (4.5.3.1.1) */
	char s[128] = "AUTH=";
	memset(s + 5, 'l', 65);
	memcpy(s + 70, "@x", 3);
	struct smtp_param p = one(s, false);
	struct smtp_path m;
	ck_assert_int_eq(smtp_param_auth(&p, NULL, false, &m),
			 SMTP_PARAM_ERR_TOO_LONG);
	memcpy(s + 69, "@x", 3);
	p = one(s, false);
	ck_assert_int_eq(smtp_param_auth(&p, NULL, false, &m), SMTP_PARAM_OK);
}
END_TEST

START_TEST(xtext)
{
	char out[1024], back[1024];
	size_t n;
	ck_assert_uint_eq(smtp_xtext_encode("a+b=c d~!", 9, out, sizeof(out)),
			  15);
	ck_assert_str_eq(out, "a+2Bb+3Dc+20d~!");
	/* every octet survives a round trip */
	unsigned char all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	size_t need = smtp_xtext_encode(all, 256, out, sizeof(out));
	ck_assert_uint_eq(need, strlen(out));
	ck_assert_int_eq(
		smtp_xtext_decode(out, need, false, back, sizeof(back), &n),
		SMTP_PARAM_OK);
	ck_assert_uint_eq(n, 256);
	ck_assert(memcmp(back, all, 256) == 0);
	/* truncation keeps whole units, like snprintf reports the need */
	ck_assert_uint_eq(smtp_xtext_encode("a++", 3, out, 5), 7);
	ck_assert_str_eq(out, "a+2B");
	ck_assert_uint_eq(smtp_xtext_encode("a++", 3, out, 4), 7);
	ck_assert_str_eq(out, "a");
	ck_assert_uint_eq(smtp_xtext_encode("++a", 3, out, 3), 7);
	ck_assert_str_eq(out, "");
	ck_assert_uint_eq(smtp_xtext_encode("abc", 3, NULL, 0), 3);
	ck_assert_uint_eq(smtp_xtext_encode("", 0, out, 1), 0);
	ck_assert_str_eq(out, "");
	/* decoding */
	ck_assert_int_eq(smtp_xtext_decode("+00x", 4, false, out, 8, &n),
			 SMTP_PARAM_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert(out[0] == '\0' && out[1] == 'x' && out[2] == '\0');
	ck_assert_int_eq(smtp_xtext_decode("abcd", 4, false, out, 4, &n),
			 SMTP_PARAM_ERR_TOO_LONG);
	ck_assert_str_eq(out, "");
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(smtp_xtext_decode("abcd", 4, false, out, 5, &n),
			 SMTP_PARAM_OK);
	ck_assert_int_eq(smtp_xtext_decode("", 0, false, NULL, 0, &n),
			 SMTP_PARAM_ERR_TOO_LONG);
	static const char *const bad[] = {"a=b", "a b", "+",	 "+4",
					  "+4g", "+g4", "a\x7f", "\xc3\xa9"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_eq(smtp_xtext_decode(bad[i], strlen(bad[i]),
						   false, out, sizeof(out), &n),
				 SMTP_PARAM_ERR_VALUE);
	ck_assert_int_eq(
		smtp_xtext_decode("\xc3\xa9", 2, true, out, sizeof(out), &n),
		SMTP_PARAM_OK);
	ck_assert_int_eq(
		smtp_xtext_decode("\xc0\xaf", 2, true, out, sizeof(out), &n),
		SMTP_PARAM_ERR_VALUE);
}
END_TEST

START_TEST(reply_mapping)
{
	static const struct {
		enum smtp_param_error err;
		int code;
		const char *enh;
	} t[] = {
		{SMTP_PARAM_OK, 250, "2.0.0"},
		{SMTP_PARAM_ERR_SYNTAX, 501, "5.5.4"},
		{SMTP_PARAM_ERR_DUPLICATE, 501, "5.5.4"},
		{SMTP_PARAM_ERR_TOO_MANY, 501, "5.5.4"},
		{SMTP_PARAM_ERR_EIGHTBIT, 501, "5.5.4"},
		{SMTP_PARAM_ERR_UNKNOWN, 555, "5.5.4"},
		{SMTP_PARAM_ERR_VALUE, 501, "5.5.4"},
		{SMTP_PARAM_ERR_TOO_LONG, 501, "5.5.4"},
		{SMTP_PARAM_ERR_SIZE_OVERFLOW, 552, "5.3.4"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct smtp_path_reply r =
			smtp_param_reply(t[i].err, SMTP_PARAM_UNKNOWN);
		ck_assert_int_eq(r.code, t[i].code);
		ck_assert_str_eq(r.enh, t[i].enh);
		ck_assert_ptr_nonnull(r.text);
		for (size_t j = 0; j < i; j++)
			ck_assert_str_ne(smtp_param_error_name(t[i].err),
					 smtp_param_error_name(t[j].err));
	}
	ck_assert_str_eq(
		smtp_param_reply(SMTP_PARAM_ERR_VALUE, SMTP_PARAM_SIZE).text,
		"Invalid SIZE value");
	ck_assert_str_eq(
		smtp_param_reply(SMTP_PARAM_ERR_VALUE, SMTP_PARAM_ORCPT).text,
		"Invalid ORCPT value");
	ck_assert_str_eq(
		smtp_param_reply(SMTP_PARAM_ERR_DUPLICATE, SMTP_PARAM_SIZE)
			.text,
		"Duplicate parameter");
	ck_assert_str_eq(
		smtp_param_reply(SMTP_PARAM_ERR_UNKNOWN, SMTP_PARAM_UNKNOWN)
			.text,
		"Parameter not recognised");
	struct smtp_path_reply x =
		smtp_param_reply((enum smtp_param_error)99, SMTP_PARAM_UNKNOWN);
	ck_assert_int_eq(x.code, 501);
	ck_assert_str_eq(x.enh, "5.5.4");
	ck_assert_str_eq(smtp_param_error_name((enum smtp_param_error)99),
			 "unknown");
}
END_TEST

/* A whole MAIL argument: the path, then its parameters. */
START_TEST(with_path)
{
	static const char arg[] =
		"FROM:<j\xc3\xb6rg@x.example> SIZE=1000 BODY=8BITMIME SMTPUTF8 "
		"ENVID=id+2B1";
	struct smtp_path path;
	struct smtp_param v[MAXP];
	size_t at, n;
	ck_assert_int_eq(smtp_path_parse(arg, strlen(arg), SMTP_PATH_MAIL, NULL,
					 true, &path, &at),
			 SMTP_PATH_OK);
	ck_assert(path.utf8);
	ck_assert_int_eq(
		smtp_param_parse(arg + at, strlen(arg) - at, true, v, MAXP, &n),
		SMTP_PARAM_OK);
	ck_assert_uint_eq(n, 4);
	ck_assert_ptr_nonnull(smtp_param_find(v, n, SMTP_PARAM_SMTPUTF8));
	uint64_t size;
	ck_assert_int_eq(smtp_param_size(&v[0], &size), SMTP_PARAM_OK);
	ck_assert(size == 1000);
	char id[SMTP_PARAM_ENVID_MAX + 1];
	ck_assert_int_eq(smtp_param_envid(&v[3], id, sizeof(id), &n),
			 SMTP_PARAM_OK);
	ck_assert_str_eq(id, "id+1");
	/* two spaces after ">": the path is fine, the parameters are not */
	static const char two[] = "FROM:<a@x>  SIZE=1";
	ck_assert_int_eq(smtp_path_parse(two, strlen(two), SMTP_PATH_MAIL, NULL,
					 false, &path, &at),
			 SMTP_PATH_OK);
	ck_assert_int_eq(smtp_param_parse(two + at, strlen(two) - at, false, v,
					  MAXP, &n),
			 SMTP_PARAM_ERR_SYNTAX);
}
END_TEST

static Suite *params_suite(void)
{
	Suite *s = suite_create("smtp_params");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, splitting);
	tcase_add_test(tc, splitting_errors);
	tcase_add_test(tc, limits);
	tcase_add_test(tc, known_and_unknown);
	tcase_add_test(tc, size_values);
	tcase_add_test(tc, body_ret_smtputf8);
	tcase_add_test(tc, notify);
	tcase_add_test(tc, envid);
	tcase_add_test(tc, orcpt);
	tcase_add_test(tc, orcpt_sizes);
	tcase_add_test(tc, auth);
	tcase_add_test(tc, xtext);
	tcase_add_test(tc, reply_mapping);
	tcase_add_test(tc, with_path);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(params_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
