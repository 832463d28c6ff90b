/*
 * test_scram.c - unit tests of lib/scram.c and the SCRAM-SHA-256 client
 * of lib/sasl_client.c: the RFC 7677 section 3 exchange (keys, proof,
 * verifier, the client's exact messages), SASLprep's ASCII subset
 * (RFC 4013), saslname escaping (RFC 5802 5.1), the message readers
 * against the grammar of RFC 5802 section 7, and the stored form.
 *
 * The expected keys for "pencil" with the RFC's salt were computed with
 * Python's hashlib/hmac, which agrees with the RFC's proof and verifier.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "buf.h"
#include "sasl_client.h"
#include "scram.h"

/* RFC 7677 section 3 */
#define RFC_CLIENT_FIRST   "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
#define RFC_NONCE	   "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define RFC_SERVER_FIRST   "r=" RFC_NONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define RFC_FINAL_NO_PROOF "c=biws,r=" RFC_NONCE
#define RFC_CLIENT_FINAL \
	RFC_FINAL_NO_PROOF ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define RFC_SERVER_FINAL "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

static void b64_eq(const unsigned char *raw, size_t n, const char *want)
{
	char out[128];

	ck_assert_int_eq(base64_encode(raw, n, out, sizeof(out)), 0);
	ck_assert_str_eq(out, want);
}

static void buf_eq(const struct buf *b, const char *want)
{
	ck_assert_uint_eq(buf_len(b), strlen(want));
	ck_assert_mem_eq(buf_data(b), want, strlen(want));
}

/* ---- crypto: the RFC 7677 vector -------------------------------------- */

START_TEST(rfc7677_keys_and_proof)
{
	static const char am[] =
		"n=user,r=rOprNGfwEbeRWgbNEkqO," RFC_SERVER_FIRST
		"," RFC_FINAL_NO_PROOF;
	unsigned char salt[16], salted[SCRAM_HASH_LEN], ck[SCRAM_HASH_LEN];
	unsigned char sk[SCRAM_HASH_LEN], svk[SCRAM_HASH_LEN];
	unsigned char sig[SCRAM_HASH_LEN];
	struct scram_creds c;
	size_t n;

	ck_assert_int_eq(base64_decode("W22ZaJ0SNY7soEsUEjb6gQ==", 24, salt,
				       sizeof(salt), &n),
			 0);
	ck_assert_int_eq(scram_hi("pencil", 6, salt, n, 4096, salted), 0);
	ck_assert_int_eq(scram_keys(salted, ck, sk, svk), 0);
	b64_eq(sk, SCRAM_HASH_LEN,
	       "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=");
	b64_eq(svk, SCRAM_HASH_LEN,
	       "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=");
	ck_assert_int_eq(scram_hmac(sk, am, strlen(am), sig), 0);
	scram_xor(sig, ck, sig);
	b64_eq(sig, SCRAM_HASH_LEN,
	       "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
	ck_assert_int_eq(scram_hmac(svk, am, strlen(am), sig), 0);
	b64_eq(sig, SCRAM_HASH_LEN,
	       "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
	/* the keys a server keeps */
	ck_assert_int_eq(scram_creds_derive("pencil", 6, salt, n, 4096, &c), 0);
	ck_assert_uint_eq(c.iterations, 4096);
	ck_assert_uint_eq(c.salt_len, 16);
	ck_assert_mem_eq(c.salt, salt, 16);
	ck_assert_mem_eq(c.stored_key, sk, SCRAM_HASH_LEN);
	ck_assert_mem_eq(c.server_key, svk, SCRAM_HASH_LEN);
	scram_creds_wipe(&c);
	ck_assert_uint_eq(c.iterations, 0);
	ck_assert_int_eq(scram_hi("pencil", 6, salt, n, 0, salted), -1);
	ck_assert_int_eq(scram_hi("pencil", 6, salt, n,
				  SCRAM_ITERATIONS_MAX + 1, salted),
			 -1);
}
END_TEST

START_TEST(creds_derive_errors)
{
	unsigned char salt[SCRAM_SALT_MAX + 1] = {1};
	unsigned char a[SCRAM_SALT_LEN], b[SCRAM_SALT_LEN];
	struct scram_creds c;

	errno = 0;
	ck_assert_int_eq(scram_creds_derive("p\xc3\xa4ss", 5, salt, 16, 5, &c),
			 -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(scram_creds_derive("a\tb", 3, salt, 16, 5, &c), -1);
	ck_assert_int_eq(scram_creds_derive("", 0, salt, 16, 5, &c), -1);
	ck_assert_int_eq(scram_creds_derive("ab", 2, salt, 0, 5, &c), -1);
	ck_assert_int_eq(scram_creds_derive("ab", 2, salt, sizeof(salt), 5, &c),
			 -1);
	ck_assert_int_eq(scram_creds_derive("ab", 2, salt, 16, 0, &c), -1);
	ck_assert_int_eq(scram_creds_derive("ab", 2, salt, 16, 1, &c), 0);
	/* mock salts: stable per user, different between users */
	ck_assert_int_eq(scram_mock_salt("nobody", a), 0);
	ck_assert_int_eq(scram_mock_salt("nobody", b), 0);
	ck_assert_mem_eq(a, b, sizeof(a));
	ck_assert_int_eq(scram_mock_salt("nobody2", b), 0);
	ck_assert(memcmp(a, b, sizeof(a)) != 0);
	/* iteration counts: posit-number, at most SCRAM_ITERATIONS_MAX */
	unsigned i = 0;
	ck_assert(scram_parse_iterations("4096", 4, &i) && i == 4096);
	ck_assert(scram_parse_iterations("10000000", 8, &i));
	ck_assert(!scram_parse_iterations("10000001", 8, &i));
	ck_assert(!scram_parse_iterations("0", 1, &i));
	ck_assert(!scram_parse_iterations("01", 2, &i));
	ck_assert(!scram_parse_iterations("", 0, &i));
	ck_assert(!scram_parse_iterations("1a", 2, &i));
	ck_assert(!scram_parse_iterations("99999999999999999999", 20, &i));
}
END_TEST

/* ---- strings ---------------------------------------------------------- */

START_TEST(saslprep_ascii)
{
	ck_assert_int_eq(scram_saslprep("user", 4), SCRAM_PREP_OK);
	ck_assert_int_eq(scram_saslprep("a b~!", 5), SCRAM_PREP_OK);
	ck_assert_int_eq(scram_saslprep("", 0), SCRAM_PREP_EMPTY);
	ck_assert_int_eq(scram_saslprep("a\x01", 2), SCRAM_PREP_PROHIBITED);
	ck_assert_int_eq(scram_saslprep("a\x7f", 2), SCRAM_PREP_PROHIBITED);
	ck_assert_int_eq(scram_saslprep("a\tb", 3), SCRAM_PREP_PROHIBITED);
	ck_assert_int_eq(scram_saslprep("a\0b", 3), SCRAM_PREP_PROHIBITED);
	/* RFC 4013 section 3's examples are all beyond ASCII */
	ck_assert_int_eq(scram_saslprep("I\xc2\xad"
					"X",
					4),
			 SCRAM_PREP_NON_ASCII);
	ck_assert_int_eq(scram_saslprep("\xe2\x85\xa8", 3),
			 SCRAM_PREP_NON_ASCII);
	ck_assert_int_eq(scram_saslprep("\xc0\x80", 2), SCRAM_PREP_BAD_UTF8);
	ck_assert_int_eq(scram_saslprep("\xed\xa0\x80", 3),
			 SCRAM_PREP_BAD_UTF8);
	ck_assert_int_eq(scram_saslprep("\xf4\x90\x80\x80", 4),
			 SCRAM_PREP_BAD_UTF8);
	ck_assert(scram_utf8_valid("\xf0\x9f\x98\x80", 4));
	ck_assert(!scram_utf8_valid("\xf0\x9f\x98", 3));
	ck_assert_str_eq(scram_prep_str(SCRAM_PREP_NON_ASCII),
			 "non-ASCII characters are not supported (SASLprep)");
}
END_TEST

START_TEST(saslname_escaping)
{
	struct buf b;
	size_t n;
	char *s;

	buf_init(&b, 64);
	ck_assert_int_eq(scram_saslname_encode(&b, "a,b=c"), 0);
	buf_eq(&b, "a=2Cb=3Dc");
	s = scram_saslname_decode((struct scram_str){"a=2Cb=3Dc", 9}, &n);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "a,b=c");
	ck_assert_uint_eq(n, 5);
	free(s);
	static const char *const bad[] = {"",	 "=",	 "a=2", "a=2c",
					  "=3d", "a=41", "x=="};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		ck_assert_ptr_null(scram_saslname_decode(
			(struct scram_str){bad[i], strlen(bad[i])}, &n));
		ck_assert_int_eq(errno, EINVAL);
	}
	buf_free(&b);
}
END_TEST

/* ---- message readers -------------------------------------------------- */

struct msg_case {
	const char *msg;
	enum scram_error want;
};

static const struct msg_case client_first_cases[] = {
	{RFC_CLIENT_FIRST, SCRAM_OK},
	{"y,,n=user,r=abc", SCRAM_OK},
	{"p=tls-unique,,n=user,r=abc", SCRAM_OK},
	{"n,a=admin,n=user,r=abc", SCRAM_OK},
	{"n,,n=us=2Cer,r=abc,x=ext,y=more=", SCRAM_OK},
	{"n,,n=\xc3\xa4,r=abc", SCRAM_OK},
	{"", SCRAM_E_INVALID_ENCODING},
	{"x,,n=user,r=abc", SCRAM_E_INVALID_ENCODING},
	{"N,,n=user,r=abc", SCRAM_E_INVALID_ENCODING},
	{"n,n=user,r=abc", SCRAM_E_INVALID_ENCODING},
	{"n,,,n=user,r=abc", SCRAM_E_INVALID_ENCODING},
	{"p=,,n=user,r=abc", SCRAM_E_INVALID_ENCODING},
	{"p=tls_unique,,n=user,r=abc", SCRAM_E_INVALID_ENCODING},
	{"n,b=admin,n=user,r=abc", SCRAM_E_INVALID_ENCODING},
	{"n,a=,n=user,r=abc", SCRAM_E_INVALID_ENCODING},
	{"n,a=ad=min,,n=user,r=abc", SCRAM_E_INVALID_USERNAME_ENCODING},
	{"n,,n=us=er,r=abc", SCRAM_E_INVALID_USERNAME_ENCODING},
	{"n,,n=user=2c,r=abc", SCRAM_E_INVALID_USERNAME_ENCODING},
	{"n,,m=ext,n=user,r=abc", SCRAM_E_EXTENSIONS_NOT_SUPPORTED},
	{"n,,n=user,r=abc,m=x", SCRAM_E_EXTENSIONS_NOT_SUPPORTED},
	{"n,,n=,r=abc", SCRAM_E_INVALID_ENCODING},
	{"n,,r=abc,n=user", SCRAM_E_INVALID_ENCODING},
	{"n,,n=user", SCRAM_E_INVALID_ENCODING},
	{"n,,n=user,", SCRAM_E_INVALID_ENCODING},
	{"n,,n=user,r=", SCRAM_E_INVALID_ENCODING},
	{"n,,n=user,r=a b", SCRAM_E_INVALID_ENCODING},
	{"n,,n=user,r=abc,", SCRAM_E_INVALID_ENCODING},
	{"n,,n=user,r=abc,x", SCRAM_E_INVALID_ENCODING},
	{"n,,n=user,r=abc,x=", SCRAM_E_INVALID_ENCODING},
	{"n,,n=user,r=abc,r=again", SCRAM_E_INVALID_ENCODING},
	{"n,,n=user,r=abc,1=x", SCRAM_E_INVALID_ENCODING},
	{"n,,n=u\xc3,r=abc", SCRAM_E_INVALID_ENCODING},
};

START_TEST(read_client_first)
{
	const struct msg_case *t = &client_first_cases[_i];
	struct scram_client_first m;

	ck_assert_msg(scram_read_client_first(t->msg, strlen(t->msg), &m) ==
			      t->want,
		      "%s", t->msg);
}
END_TEST

START_TEST(read_client_first_fields)
{
	static const char msg[] = "n,a=ad=3Dmin,n=user,r=abc,x=1";
	struct scram_client_first m;

	ck_assert_int_eq(scram_read_client_first(msg, strlen(msg), &m),
			 SCRAM_OK);
	ck_assert_int_eq(m.cbind, 'n');
	ck_assert_uint_eq(m.gs2_header.len, 13);
	ck_assert_mem_eq(m.gs2_header.p, "n,a=ad=3Dmin,", 13);
	ck_assert_mem_eq(m.authzid.p, "ad=3Dmin", m.authzid.len);
	ck_assert_mem_eq(m.bare.p, "n=user,r=abc,x=1", m.bare.len);
	ck_assert_mem_eq(m.user.p, "user", m.user.len);
	ck_assert_mem_eq(m.nonce.p, "abc", m.nonce.len);
	/* a NUL anywhere is not a value-char */
	ck_assert_int_eq(scram_read_client_first("n,,n=u\0,r=a", 11, &m),
			 SCRAM_E_INVALID_ENCODING);
}
END_TEST

static const struct msg_case client_final_cases[] = {
	{RFC_CLIENT_FINAL, SCRAM_OK},
	{"c=biws,r=abc,x=y,z=w,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
	 SCRAM_OK},
	{"c=biws,r=abc", SCRAM_E_INVALID_ENCODING},
	{"c=biws,r=abc,p=", SCRAM_E_INVALID_ENCODING},
	{"r=abc,c=biws,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
	 SCRAM_E_INVALID_ENCODING},
	{"c=biws,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
	 SCRAM_E_INVALID_ENCODING},
	{"c=biws,r=abc,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ",
	 SCRAM_E_INVALID_ENCODING},
	{"c=biws,r=abc,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVR=",
	 SCRAM_E_INVALID_ENCODING},
	{"c=biws,r=abc,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7An",
	 SCRAM_E_INVALID_ENCODING},
	{"c=biws,r=abc,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=,x=1",
	 SCRAM_E_INVALID_ENCODING},
	{"c=biws,r=abc,m=1,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
	 SCRAM_E_EXTENSIONS_NOT_SUPPORTED},
	{"c=biws,r=abc,,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
	 SCRAM_E_INVALID_ENCODING},
	{"c=,r=abc,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
	 SCRAM_E_INVALID_ENCODING},
};

START_TEST(read_client_final)
{
	const struct msg_case *t = &client_final_cases[_i];
	struct scram_client_final m;

	ck_assert_msg(scram_read_client_final(t->msg, strlen(t->msg), &m) ==
			      t->want,
		      "%s", t->msg);
	if (_i == 0) {
		ck_assert_mem_eq(m.without_proof.p, RFC_FINAL_NO_PROOF,
				 m.without_proof.len);
		ck_assert_uint_eq(m.without_proof.len,
				  strlen(RFC_FINAL_NO_PROOF));
		ck_assert_mem_eq(m.cbind.p, "biws", m.cbind.len);
	}
}
END_TEST

static const struct msg_case server_cases[] = {
	{RFC_SERVER_FIRST, SCRAM_OK},
	{"r=ab,s=QSXCR+Q6sek8bf92,i=1,x=y", SCRAM_OK},
	{"m=x,r=ab,s=QSXCR+Q6sek8bf92,i=1", SCRAM_E_EXTENSIONS_NOT_SUPPORTED},
	{"r=ab,s=QSXCR+Q6sek8bf92,i=0", SCRAM_E_INVALID_ENCODING},
	{"r=ab,s=QSXCR+Q6sek8bf92,i=010", SCRAM_E_INVALID_ENCODING},
	{"r=ab,s=QSXCR+Q6sek8bf92,i=10000001", SCRAM_E_INVALID_ENCODING},
	{"r=ab,s=QSXCR+Q6sek8bf92", SCRAM_E_INVALID_ENCODING},
	{"r=ab,s=,i=4096", SCRAM_E_INVALID_ENCODING},
	{"r=ab,s=QSXCR+Q6sek8bf9,i=4096", SCRAM_E_INVALID_ENCODING},
	{"s=QSXCR+Q6sek8bf92,r=ab,i=4096", SCRAM_E_INVALID_ENCODING},
};

START_TEST(read_server_first)
{
	const struct msg_case *t = &server_cases[_i];
	struct scram_server_first m;

	ck_assert_msg(scram_read_server_first(t->msg, strlen(t->msg), &m) ==
			      t->want,
		      "%s", t->msg);
	if (_i == 0) {
		ck_assert_uint_eq(m.iterations, 4096);
		ck_assert_uint_eq(m.salt_len, 16);
		ck_assert_mem_eq(m.nonce.p, RFC_NONCE, m.nonce.len);
	}
}
END_TEST

START_TEST(read_server_final)
{
	struct scram_server_final m;

	ck_assert_int_eq(scram_read_server_final(RFC_SERVER_FINAL,
						 strlen(RFC_SERVER_FINAL), &m),
			 SCRAM_OK);
	ck_assert_uint_eq(m.error.len, 0);
	ck_assert_int_eq(scram_read_server_final("e=invalid-proof", 15, &m),
			 SCRAM_OK);
	ck_assert_mem_eq(m.error.p, "invalid-proof", 13);
	ck_assert_int_eq(scram_read_server_final("e=other-error,x=1", 17, &m),
			 SCRAM_OK);
	ck_assert_int_eq(scram_read_server_final("v=6rri", 6, &m),
			 SCRAM_E_INVALID_ENCODING);
	ck_assert_int_eq(scram_read_server_final("e=", 2, &m),
			 SCRAM_E_INVALID_ENCODING);
	ck_assert_int_eq(scram_read_server_final("", 0, &m),
			 SCRAM_E_INVALID_ENCODING);
	ck_assert_str_eq(scram_error_str(SCRAM_E_INVALID_PROOF),
			 "invalid-proof");
	ck_assert_str_eq(scram_error_str((enum scram_error)99), "other-error");
}
END_TEST

/* ---- the client ------------------------------------------------------- */

START_TEST(client_rfc7677)
{
	struct sasl_scram_client *c = sasl_scram_client_new(
		NULL, "user", "pencil", "rOprNGfwEbeRWgbNEkqO");
	struct buf out;

	ck_assert_ptr_nonnull(c);
	buf_init(&out, 1024);
	ck_assert_int_eq(sasl_scram_client_first(c, &out), 0);
	buf_eq(&out, RFC_CLIENT_FIRST);
	ck_assert_int_eq(sasl_scram_client_final(c, RFC_SERVER_FIRST,
						 strlen(RFC_SERVER_FIRST),
						 &out),
			 0);
	buf_eq(&out, RFC_CLIENT_FINAL);
	ck_assert_int_eq(sasl_scram_client_verify(c, RFC_SERVER_FINAL,
						  strlen(RFC_SERVER_FINAL)),
			 0);
	ck_assert_str_eq(sasl_scram_client_error(c), "");
	/* nothing more to do */
	ck_assert_int_eq(sasl_scram_client_first(c, &out), -1);
	sasl_scram_client_free(&c);
	ck_assert_ptr_null(c);
	buf_free(&out);
}
END_TEST

START_TEST(client_authzid_and_escapes)
{
	struct sasl_scram_client *c =
		sasl_scram_client_new("a=b", "u,v", "pw", "abc");
	struct buf out;

	buf_init(&out, 1024);
	ck_assert_int_eq(sasl_scram_client_first(c, &out), 0);
	buf_eq(&out, "n,a=a=3Db,n=u=2Cv,r=abc");
	ck_assert_int_eq(
		sasl_scram_client_final(c, "r=abcdef,s=QSXCR+Q6sek8bf92,i=2",
					31, &out),
		0);
	/* c= is the base64 of "n,a=a=3Db," */
	ck_assert_int_eq(
		memcmp(buf_data(&out), "c=bixhPWE9M0RiLA==,r=abcdef,p=", 30),
		0);
	sasl_scram_client_free(&c);
	/* a random nonce by default */
	c = sasl_scram_client_new("", "u", "pw", NULL);
	ck_assert_int_eq(sasl_scram_client_first(c, &out), 0);
	ck_assert_uint_eq(buf_len(&out), strlen("n,,n=u,r=") + SCRAM_NONCE_LEN);
	sasl_scram_client_free(&c);
	buf_free(&out);
}
END_TEST

START_TEST(client_refuses)
{
	static const char *const server_first[] = {
		"r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
		"r=xOprNGfwEbeRWgbNEkqOxx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
		"m=1,r=" RFC_NONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
		"r=" RFC_NONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999",
		"r=" RFC_NONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ=,i=4096",
	};
	struct sasl_scram_client *c;
	struct buf out;

	buf_init(&out, 1024);
	for (size_t i = 0; i < sizeof(server_first) / sizeof(*server_first);
	     i++) {
		c = sasl_scram_client_new(NULL, "user", "pencil",
					  "rOprNGfwEbeRWgbNEkqO");
		ck_assert_int_eq(sasl_scram_client_first(c, &out), 0);
		ck_assert_int_eq(
			sasl_scram_client_final(c, server_first[i],
						strlen(server_first[i]), &out),
			-1);
		ck_assert_str_ne(sasl_scram_client_error(c), "");
		sasl_scram_client_free(&c);
	}
	static const char *const server_final[] = {
		"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G5=",
		"v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
		"e=invalid-proof",
		"x=1",
	};
	for (size_t i = 0; i < sizeof(server_final) / sizeof(*server_final);
	     i++) {
		c = sasl_scram_client_new(NULL, "user", "pencil",
					  "rOprNGfwEbeRWgbNEkqO");
		ck_assert_int_eq(sasl_scram_client_first(c, &out), 0);
		ck_assert_int_eq(
			sasl_scram_client_final(c, RFC_SERVER_FIRST,
						strlen(RFC_SERVER_FIRST), &out),
			0);
		ck_assert_int_eq(
			sasl_scram_client_verify(c, server_final[i],
						 strlen(server_final[i])),
			-1);
		if (i == 2)
			ck_assert_str_eq(sasl_scram_client_error(c),
					 "invalid-proof");
		sasl_scram_client_free(&c);
	}
	buf_free(&out);
}
END_TEST

START_TEST(client_bad_arguments)
{
	struct sasl_scram_client *c;

	errno = 0;
	ck_assert_ptr_null(sasl_scram_client_new(NULL, "us\ter", "pw", NULL));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(sasl_scram_client_new(NULL, "", "pw", NULL));
	ck_assert_ptr_null(sasl_scram_client_new(NULL, "u", "", NULL));
	ck_assert_ptr_null(sasl_scram_client_new(NULL, NULL, "pw", NULL));
	ck_assert_ptr_null(
		sasl_scram_client_new(NULL, "u", "p\xc3\xa4ss", NULL));
	ck_assert_ptr_null(sasl_scram_client_new("\x01", "u", "pw", NULL));
	ck_assert_ptr_null(sasl_scram_client_new(NULL, "u", "pw", "a,b"));
	ck_assert_ptr_null(sasl_scram_client_new(NULL, "u", "pw", ""));
	c = NULL;
	sasl_scram_client_free(&c);
}
END_TEST

static Suite *scram_suite(void)
{
	Suite *s = suite_create("scram");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, rfc7677_keys_and_proof);
	tcase_add_test(tc, creds_derive_errors);
	tcase_add_test(tc, saslprep_ascii);
	tcase_add_test(tc, saslname_escaping);
	tcase_add_loop_test(tc, read_client_first, 0,
			    (int)(sizeof(client_first_cases) /
				  sizeof(client_first_cases[0])));
	tcase_add_test(tc, read_client_first_fields);
	tcase_add_loop_test(tc, read_client_final, 0,
			    (int)(sizeof(client_final_cases) /
				  sizeof(client_final_cases[0])));
	tcase_add_loop_test(
		tc, read_server_first, 0,
		(int)(sizeof(server_cases) / sizeof(server_cases[0])));
	tcase_add_test(tc, read_server_final);
	suite_add_tcase(s, tc);

	tc = tcase_create("client");
	tcase_add_test(tc, client_rfc7677);
	tcase_add_test(tc, client_authzid_and_escapes);
	tcase_add_test(tc, client_refuses);
	tcase_add_test(tc, client_bad_arguments);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(scram_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
