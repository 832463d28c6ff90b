/*
 * test_sasl_server.c - unit tests of lib/sasl_server.c: SCRAM-SHA-256 with
 * the RFC 7677 section 3 exchange byte for byte and against the client of
 * lib/sasl_client.c, PLAIN with the RFC 4616 section 4 examples and its
 * authzid rule, LOGIN, every kind of malformed message, unknown users
 * failing like wrong passwords (same steps; SCRAM's mock server-first
 * looking real and stable), plaintext refused before TLS, and misuse of
 * the API.
 *
 * The RFC 7677 user is stored as Python's hashlib computes its keys; see
 * test_scram.c.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "buf.h"
#include "passwd.h"
#include "sasl_client.h"
#include "sasl_server.h"
#include "scram.h"

#define RFC_SNONCE	 "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define RFC_NONCE	 "rOprNGfwEbeRWgbNEkqO" RFC_SNONCE
#define RFC_CLIENT_FIRST "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
#define RFC_SERVER_FIRST "r=" RFC_NONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define RFC_PROOF	 "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define RFC_CLIENT_FINAL "c=biws,r=" RFC_NONCE ",p=" RFC_PROOF
#define RFC_SERVER_FINAL "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
#define RFC_CREDS                                       \
	"4096,W22ZaJ0SNY7soEsUEjb6gQ==,"                \
	"WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=," \
	"wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
/* `openssl passwd -6 -salt saltsalt secret` */
#define KNOWN_SHA512                                                           \
	"$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV" \
	"8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1"

static struct passwd_db *db;
static const struct passwd_options allow_plain = {.allow_plain = true};
static const struct sasl_server_settings plain_ok = {
	.plaintext_allowed = true,
};

static void setup(void)
{
	char low[PASSWD_HASH_SIZE], text[2048];
	struct passwd_error err;

	ck_assert_int_eq(passwd_hash_scram("low", 2, low, sizeof(low)), 0);
	snprintf(text, sizeof(text),
		 "user:{SCRAM-SHA-256}" RFC_CREDS "\n"
		 "tim:{PLAIN}tanstaaftanstaaf\n"
		 "Kurt:{PLAIN}xipj3plmq\n"
		 "crypt:{SHA512-CRYPT}" KNOWN_SHA512 "\n"
		 "locked:{SCRAM-SHA-256}\n"
		 "low:%s\n",
		 low);
	db = passwd_db_load_buffer("test", text, strlen(text), &err);
	ck_assert_msg(db != NULL, "%lu: %s", err.line, err.msg);
}

static void teardown(void)
{
	passwd_db_free(&db);
}

/* One exchange, with the host's part done here. */
struct run {
	struct sasl_server *s;
	struct buf out;
	int messages; /* client messages fed, the initial response included */
};

static void run_start(struct run *r, const char *mech,
		      const struct sasl_server_settings *st)
{
	r->s = sasl_server_new(mech, st);
	ck_assert_ptr_nonnull(r->s);
	buf_init(&r->out, 4096);
	r->messages = 0;
}

static void run_end(struct run *r)
{
	sasl_server_free(&r->s);
	ck_assert_ptr_null(r->s);
	buf_free(&r->out);
}

/* Feeds one message (ir: as the initial response), answering
 * SASL_NEED_CREDENTIALS from db. */
static enum sasl_step feed(struct run *r, const void *msg, size_t len, bool ir)
{
	enum sasl_step st = sasl_server_step(r->s, msg, len, ir, &r->out);

	r->messages++;
	if (st == SASL_NEED_CREDENTIALS) {
		const char *user = sasl_server_user(r->s);
		ck_assert_ptr_nonnull(user);
		ck_assert_int_eq(
			sasl_server_set_credentials(
				r->s, passwd_db_lookup(db, user), &allow_plain),
			0);
		st = sasl_server_step(r->s, NULL, 0, false, &r->out);
	}
	return st;
}

static enum sasl_step feed_str(struct run *r, const char *msg, bool ir)
{
	return feed(r, msg, strlen(msg), ir);
}

static void out_eq(const struct run *r, const char *want)
{
	size_t n = buf_len(&r->out);
	const char *got = n > 0 ? (const char *)buf_data(&r->out) : "";

	ck_assert_msg(n == strlen(want) && memcmp(got, want, n) == 0,
		      "got '%.*s', want '%s'", (int)n, got, want);
}

static void assert_fail(const struct run *r, enum sasl_step st,
			enum sasl_fail_reason want)
{
	ck_assert_msg(st == SASL_FAIL && sasl_server_fail_reason(r->s) == want,
		      "step %d reason %s (%s), want %s", (int)st,
		      sasl_fail_reason_str(sasl_server_fail_reason(r->s)),
		      sasl_server_fail_detail(r->s),
		      sasl_fail_reason_str(want));
}

/* ---- mechanisms ------------------------------------------------------- */

START_TEST(mechanism_lists)
{
	const char *const *m = sasl_server_mechanisms(true);
	struct sasl_server *s;
	struct sasl_server_settings bad = {.test_nonce = "a,b"};

	ck_assert_str_eq(m[0], "SCRAM-SHA-256");
	ck_assert_str_eq(m[1], "PLAIN");
	ck_assert_str_eq(m[2], "LOGIN");
	ck_assert_ptr_null(m[3]);
	m = sasl_server_mechanisms(false);
	ck_assert_str_eq(m[0], "SCRAM-SHA-256");
	ck_assert_ptr_null(m[1]);
	s = sasl_server_new("scram-sha-256", &plain_ok);
	ck_assert_str_eq(sasl_server_mech(s), "SCRAM-SHA-256");
	sasl_server_free(&s);
	sasl_server_free(&s);
	errno = 0;
	ck_assert_ptr_null(sasl_server_new("CRAM-MD5", &plain_ok));
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_null(sasl_server_new("SCRAM-SHA-256-PLUS", &plain_ok));
	ck_assert_ptr_null(sasl_server_new(NULL, &plain_ok));
	ck_assert_ptr_null(sasl_server_new("PLAIN", NULL));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(sasl_server_new("PLAIN", &bad));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_str_eq(sasl_fail_reason_str(SASL_FAIL_CREDENTIALS_UNUSABLE),
			 "credentials not usable for this mechanism");
	ck_assert_str_eq(sasl_fail_reason_str((enum sasl_fail_reason)99),
			 "unknown");
}
END_TEST

START_TEST(plaintext_refused_before_tls)
{
	static const char *const mechs[] = {"PLAIN", "LOGIN"};
	const struct sasl_server_settings tls_off = {0};
	struct run r;

	for (size_t i = 0; i < 2; i++) {
		for (int ir = 0; ir < 2; ir++) {
			run_start(&r, mechs[i], &tls_off);
			assert_fail(&r, feed_str(&r, "\0tim\0x", ir != 0),
				    SASL_FAIL_MECH_NOT_ALLOWED);
			ck_assert_ptr_null(sasl_server_user(r.s));
			run_end(&r);
		}
	}
	run_start(&r, "SCRAM-SHA-256", &tls_off);
	ck_assert_int_eq(feed_str(&r, "", false), SASL_CONTINUE);
	run_end(&r);
}
END_TEST

/* ---- SCRAM-SHA-256 ---------------------------------------------------- */

START_TEST(scram_rfc7677)
{
	const struct sasl_server_settings st = {.test_nonce = RFC_SNONCE};
	struct run r;

	for (int ir = 0; ir < 2; ir++) {
		run_start(&r, "SCRAM-SHA-256", &st);
		if (!ir) { /* client-first mechanism: an empty challenge */
			ck_assert_int_eq(feed_str(&r, "", false),
					 SASL_CONTINUE);
			out_eq(&r, "");
		}
		ck_assert_int_eq(feed_str(&r, RFC_CLIENT_FIRST, ir != 0),
				 SASL_CONTINUE);
		out_eq(&r, RFC_SERVER_FIRST);
		ck_assert_str_eq(sasl_server_user(r.s), "user");
		ck_assert_ptr_null(sasl_server_authzid(r.s));
		ck_assert_int_eq(feed_str(&r, RFC_CLIENT_FINAL, false),
				 SASL_SUCCESS);
		out_eq(&r, RFC_SERVER_FINAL);
		/* the exchange is over */
		assert_fail(&r, feed_str(&r, "x", false), SASL_FAIL_INTERNAL);
		run_end(&r);
	}
}
END_TEST

/* Our client against the server; returns the server's last answer. */
static enum sasl_step scram_login(const struct sasl_server_settings *st,
				  const char *authzid, const char *user,
				  const char *pw, struct run *r)
{
	struct sasl_scram_client *c =
		sasl_scram_client_new(authzid, user, pw, NULL);
	struct buf msg;
	enum sasl_step st2;

	ck_assert_ptr_nonnull(c);
	buf_init(&msg, 4096);
	run_start(r, "SCRAM-SHA-256", st);
	ck_assert_int_eq(sasl_scram_client_first(c, &msg), 0);
	st2 = feed(r, buf_data(&msg), buf_len(&msg), true);
	if (st2 == SASL_CONTINUE) {
		ck_assert_int_eq(sasl_scram_client_final(c, buf_data(&r->out),
							 buf_len(&r->out),
							 &msg),
				 0);
		st2 = feed(r, buf_data(&msg), buf_len(&msg), false);
		if (st2 == SASL_SUCCESS)
			ck_assert_int_eq(
				sasl_scram_client_verify(c, buf_data(&r->out),
							 buf_len(&r->out)),
				0);
	}
	buf_free(&msg);
	sasl_scram_client_free(&c);
	return st2;
}

START_TEST(scram_with_client)
{
	const struct sasl_server_settings low = {.scram_iterations = 2};
	struct run r;

	ck_assert_int_eq(scram_login(&plain_ok, NULL, "user", "pencil", &r),
			 SASL_SUCCESS);
	ck_assert_int_eq(r.messages, 2);
	run_end(&r);
	ck_assert_int_eq(scram_login(&plain_ok, "user", "user", "pencil", &r),
			 SASL_SUCCESS);
	ck_assert_str_eq(sasl_server_authzid(r.s), "user");
	run_end(&r);
	assert_fail(&r, scram_login(&plain_ok, "admin", "user", "pencil", &r),
		    SASL_FAIL_AUTHZID);
	run_end(&r);
	assert_fail(&r, scram_login(&plain_ok, "admin", "user", "pencil!", &r),
		    SASL_FAIL_AUTH);
	run_end(&r);
	/* too few iterations: refused unless the settings allow them */
	assert_fail(&r, scram_login(&plain_ok, NULL, "low", "low", &r),
		    SASL_FAIL_CREDENTIALS_UNUSABLE);
	run_end(&r);
	ck_assert_int_eq(scram_login(&low, NULL, "low", "low", &r),
			 SASL_SUCCESS);
	run_end(&r);
}
END_TEST

/* The server-first message's salt and count, checking its form. */
static void server_first_shape(const struct run *r, const char *cnonce,
			       struct scram_server_first *m)
{
	size_t n = strlen(cnonce);
	const char *p = (const char *)buf_data(&r->out);

	ck_assert_int_eq(scram_read_server_first(p, buf_len(&r->out), m),
			 SCRAM_OK);
	ck_assert_uint_eq(m->nonce.len, n + SCRAM_NONCE_LEN);
	ck_assert_mem_eq(m->nonce.p, cnonce, n);
	ck_assert_uint_eq(m->salt_len, 16);
	ck_assert_uint_eq(m->iterations, 4096);
	ck_assert_uint_eq(buf_len(&r->out),
			  2 + n + SCRAM_NONCE_LEN + 3 + 24 + 7);
}

/* client-first for user, then a client-final with a wrong proof: the
 * salt seen, the steps taken, the final reason. */
static enum sasl_fail_reason
scram_wrong_proof(const char *user, struct scram_server_first *m, int *messages)
{
	char first[128], final[256];
	enum sasl_fail_reason why;
	struct run r;
	enum sasl_step st;

	snprintf(first, sizeof(first), "n,,n=%s,r=cnonce", user);
	run_start(&r, "SCRAM-SHA-256", &plain_ok);
	ck_assert_int_eq(feed_str(&r, first, true), SASL_CONTINUE);
	server_first_shape(&r, "cnonce", m);
	snprintf(final, sizeof(final), "c=biws,r=%.*s,p=%s", (int)m->nonce.len,
		 m->nonce.p, "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
	st = feed_str(&r, final, false);
	ck_assert_int_eq(st, SASL_FAIL);
	*messages = r.messages;
	why = sasl_server_fail_reason(r.s);
	run_end(&r);
	return why;
}

START_TEST(scram_unknown_user_looks_real)
{
	struct scram_server_first real, ghost, ghost2, other;
	int n_real, n_ghost, n_other;

	ck_assert_int_eq(scram_wrong_proof("user", &real, &n_real),
			 SASL_FAIL_AUTH);
	ck_assert_int_eq(scram_wrong_proof("nobody", &ghost, &n_ghost),
			 SASL_FAIL_AUTH);
	ck_assert_int_eq(n_real, n_ghost);
	/* stable across attempts, different per user */
	ck_assert_int_eq(scram_wrong_proof("nobody", &ghost2, &n_ghost),
			 SASL_FAIL_AUTH);
	ck_assert_mem_eq(ghost.salt, ghost2.salt, 16);
	ck_assert_int_eq(scram_wrong_proof("nobody2", &ghost2, &n_ghost),
			 SASL_FAIL_AUTH);
	ck_assert(memcmp(ghost.salt, ghost2.salt, 16) != 0);
	/* a user whose scheme can not do SCRAM, and a locked one */
	ck_assert_int_eq(scram_wrong_proof("crypt", &other, &n_other),
			 SASL_FAIL_CREDENTIALS_UNUSABLE);
	ck_assert_int_eq(n_other, n_real);
	ck_assert_int_eq(scram_wrong_proof("tim", &other, &n_other),
			 SASL_FAIL_CREDENTIALS_UNUSABLE);
	ck_assert_int_eq(scram_wrong_proof("locked", &other, &n_other),
			 SASL_FAIL_AUTH);
}
END_TEST

/* A client-first and a client-final whose proof is made here, for
 * messages our client would not send. */
static enum sasl_step scram_manual(const char *first, const char *final_np,
				   struct run *r)
{
	const struct sasl_server_settings st = {.test_nonce = "SN"};
	unsigned char salt[16], salted[SCRAM_HASH_LEN], ck[SCRAM_HASH_LEN];
	unsigned char sk[SCRAM_HASH_LEN], svk[SCRAM_HASH_LEN];
	unsigned char proof[SCRAM_HASH_LEN];
	char am[1024], final[512], p64[64];
	const char *bare = strstr(first, "n=");
	size_t n, len;

	run_start(r, "SCRAM-SHA-256", &st);
	ck_assert_int_eq(feed_str(r, first, true), SASL_CONTINUE);
	len = (size_t)snprintf(final, sizeof(final), "%s", final_np);
	snprintf(am, sizeof(am), "%s,%.*s,%s", bare, (int)buf_len(&r->out),
		 (const char *)buf_data(&r->out), final);
	ck_assert_int_eq(base64_decode("W22ZaJ0SNY7soEsUEjb6gQ==", 24, salt,
				       sizeof(salt), &n),
			 0);
	ck_assert_int_eq(scram_hi("pencil", 6, salt, n, 4096, salted), 0);
	ck_assert_int_eq(scram_keys(salted, ck, sk, svk), 0);
	ck_assert_int_eq(scram_hmac(sk, am, strlen(am), proof), 0);
	scram_xor(proof, ck, proof);
	ck_assert_int_eq(base64_encode(proof, sizeof(proof), p64, sizeof(p64)),
			 0);
	snprintf(final + len, sizeof(final) - len, ",p=%s", p64);
	return feed_str(r, final, false);
}

START_TEST(scram_accepted_variants)
{
	struct run r;

	/* "y": the client thinks we lack channel binding, and we do */
	ck_assert_int_eq(scram_manual("y,,n=user,r=cn", "c=eSws,r=cnSN", &r),
			 SASL_SUCCESS);
	run_end(&r);
	/* optional extensions are ignored (RFC 5802 5.1) */
	ck_assert_int_eq(scram_manual("n,,n=user,r=cn,x=1,y=a=b",
				      "c=biws,r=cnSN,z=ext", &r),
			 SASL_SUCCESS);
	run_end(&r);
	ck_assert_int_eq(scram_manual("n,a=user,n=user,r=cn",
				      "c=bixhPXVzZXIs,r=cnSN", &r),
			 SASL_SUCCESS);
	run_end(&r);
	assert_fail(&r,
		    scram_manual("n,a=us=2Cer,n=user,r=cn",
				 "c=bixhPXVzPTJDZXIs,r=cnSN", &r),
		    SASL_FAIL_AUTHZID);
	ck_assert_str_eq(sasl_server_authzid(r.s), "us,er");
	run_end(&r);
	/* the channel binding data must be the gs2 header */
	assert_fail(&r, scram_manual("n,,n=user,r=cn", "c=eSws,r=cnSN", &r),
		    SASL_FAIL_AUTH);
	ck_assert_str_eq(sasl_server_fail_detail(r.s),
			 "channel-bindings-dont-match");
	run_end(&r);
}
END_TEST

struct bad_first {
	const char *msg;
	enum sasl_fail_reason want;
};

static const struct bad_first bad_firsts[] = {
	{"", SASL_FAIL_SYNTAX},
	{"n,,n=user", SASL_FAIL_SYNTAX},
	{"n,,r=abc", SASL_FAIL_SYNTAX},
	{"x,,n=user,r=abc", SASL_FAIL_SYNTAX},
	{"n,n=user,r=abc", SASL_FAIL_SYNTAX},
	{"n,,n=us=er,r=abc", SASL_FAIL_SYNTAX},
	{"n,,n=user,r=a,b", SASL_FAIL_SYNTAX},
	{"n,,n=us\x01r,r=abc", SASL_FAIL_SYNTAX},
	{"n,,n=\xc3\xa4,r=abc", SASL_FAIL_UNSUPPORTED},
	{"n,,n=user,r=\xc3\xa4", SASL_FAIL_SYNTAX},
	{"n,,m=x,n=user,r=abc", SASL_FAIL_UNSUPPORTED},
	{"n,,n=user,r=abc,m=x", SASL_FAIL_UNSUPPORTED},
	{"p=tls-unique,,n=user,r=abc", SASL_FAIL_UNSUPPORTED},
	{"n,,n=user,r=abc,", SASL_FAIL_SYNTAX},
};

START_TEST(scram_bad_client_first)
{
	const struct bad_first *t = &bad_firsts[_i];
	struct run r;

	run_start(&r, "SCRAM-SHA-256", &plain_ok);
	assert_fail(&r, feed_str(&r, t->msg, true), t->want);
	run_end(&r);
}
END_TEST

static const struct bad_first bad_finals[] = {
	{"c=biws,r=cnSN,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
	 SASL_FAIL_AUTH}, /* wrong proof */
	{"c=biws,r=cnSX,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
	 SASL_FAIL_AUTH}, /* wrong nonce */
	{"c=biws,r=cn,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
	 SASL_FAIL_AUTH}, /* the client's part only */
	{"c=biws,r=cnSNx,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
	 SASL_FAIL_AUTH},
	{"c=biw,r=cnSN,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
	 SASL_FAIL_SYNTAX}, /* bad base64 */
	{"c=biws,r=cnSN,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ",
	 SASL_FAIL_SYNTAX},
	{"c=biws,r=cnSN,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7A",
	 SASL_FAIL_SYNTAX}, /* a proof of the wrong length */
	{"c=biws,r=cnSN", SASL_FAIL_SYNTAX},
	{"r=cnSN,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
	 SASL_FAIL_SYNTAX},
	{"c=biws,r=cnSN,m=1,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
	 SASL_FAIL_UNSUPPORTED},
	{"", SASL_FAIL_SYNTAX},
	{"c=biws,r=cnSN,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=,x=1",
	 SASL_FAIL_SYNTAX},
};

START_TEST(scram_bad_client_final)
{
	const struct sasl_server_settings st = {.test_nonce = "SN"};
	const struct bad_first *t = &bad_finals[_i];
	struct run r;

	run_start(&r, "SCRAM-SHA-256", &st);
	ck_assert_int_eq(feed_str(&r, "n,,n=user,r=cn", true), SASL_CONTINUE);
	assert_fail(&r, feed_str(&r, t->msg, false), t->want);
	ck_assert_int_eq(r.messages, 2);
	run_end(&r);
}
END_TEST

START_TEST(too_long_and_small_buffers)
{
	const struct sasl_server_settings small = {.plaintext_allowed = true,
						   .max_message = 16};
	struct run r;

	run_start(&r, "PLAIN", &small);
	assert_fail(&r, feed(&r, "\0tim\0tanstaaftanstaaf", 21, true),
		    SASL_FAIL_TOO_LONG);
	run_end(&r);
	run_start(&r, "PLAIN", &small);
	ck_assert_int_eq(feed(&r, "\0tim\0tanstaaf", 13, true), SASL_FAIL);
	run_end(&r);
	/* a challenge buffer too small for server-first */
	run_start(&r, "SCRAM-SHA-256", &plain_ok);
	buf_init(&r.out, 8);
	assert_fail(&r, feed_str(&r, "n,,n=user,r=cn", true),
		    SASL_FAIL_INTERNAL);
	run_end(&r);
}
END_TEST

/* ---- PLAIN ------------------------------------------------------------ */

START_TEST(plain_rfc4616_examples)
{
	struct run r;

	/* RFC 4616 section 4, first example */
	run_start(&r, "PLAIN", &plain_ok);
	ck_assert_int_eq(feed(&r, "\0tim\0tanstaaftanstaaf", 21, true),
			 SASL_SUCCESS);
	out_eq(&r, "");
	ck_assert_str_eq(sasl_server_user(r.s), "tim");
	ck_assert_ptr_null(sasl_server_authzid(r.s));
	run_end(&r);
	/* second example: Kurt may not act as Ursel here */
	run_start(&r, "PLAIN", &plain_ok);
	assert_fail(&r, feed(&r, "Ursel\0Kurt\0xipj3plmq", 20, true),
		    SASL_FAIL_AUTHZID);
	run_end(&r);
	/* ... and a wrong password says only that */
	run_start(&r, "PLAIN", &plain_ok);
	assert_fail(&r, feed(&r, "Ursel\0Kurt\0xipj3plmQ", 20, true),
		    SASL_FAIL_AUTH);
	run_end(&r);
	/* authzid equal to authcid is fine */
	run_start(&r, "plain", &plain_ok);
	ck_assert_int_eq(feed(&r, "Kurt\0Kurt\0xipj3plmq", 19, true),
			 SASL_SUCCESS);
	ck_assert_str_eq(sasl_server_authzid(r.s), "Kurt");
	run_end(&r);
	/* no initial response: an empty challenge first */
	run_start(&r, "PLAIN", &plain_ok);
	ck_assert_int_eq(feed(&r, NULL, 0, false), SASL_CONTINUE);
	out_eq(&r, "");
	ck_assert_int_eq(feed(&r, "\0tim\0tanstaaftanstaaf", 21, false),
			 SASL_SUCCESS);
	run_end(&r);
	/* an empty initial response ("=") is a message, and a bad one */
	run_start(&r, "PLAIN", &plain_ok);
	assert_fail(&r, feed(&r, "", 0, true), SASL_FAIL_SYNTAX);
	run_end(&r);
}
END_TEST

struct bad_plain {
	const char *msg;
	size_t len;
	enum sasl_fail_reason want;
};

#define BP(s, why)                    \
	{                             \
		s, sizeof(s) - 1, why \
	}
static const struct bad_plain bad_plains[] = {
	BP("tim", SASL_FAIL_SYNTAX),
	BP("\0tim", SASL_FAIL_SYNTAX),
	BP("\0tim\0", SASL_FAIL_SYNTAX),
	BP("\0\0pw", SASL_FAIL_SYNTAX),
	BP("\0tim\0tanstaaf\0tanstaaf", SASL_FAIL_SYNTAX),
	BP("\0t\x01m\0pw", SASL_FAIL_SYNTAX),
	BP("\0t\xc3\xa4m\0pw", SASL_FAIL_UNSUPPORTED),
	BP("\0t\xc3m\0pw", SASL_FAIL_SYNTAX),
	BP("\xff\0tim\0pw", SASL_FAIL_SYNTAX),
	BP("\0tim\0p\xed\xa0\x80", SASL_FAIL_SYNTAX),
	BP("\0tim\0wrong", SASL_FAIL_AUTH),
	BP("\0nobody\0wrong", SASL_FAIL_AUTH),
	BP("\0crypt\0wrong", SASL_FAIL_AUTH),
	BP("\0user\0pencil", SASL_FAIL_NONE), /* success */
	BP("\0user\0pencil2", SASL_FAIL_AUTH),
	BP("\0crypt\0secret", SASL_FAIL_NONE),
};

START_TEST(plain_bad_messages)
{
	const struct bad_plain *t = &bad_plains[_i];
	struct run r;
	enum sasl_step st;

	run_start(&r, "PLAIN", &plain_ok);
	st = feed(&r, t->msg, t->len, true);
	if (t->want == SASL_FAIL_NONE)
		ck_assert_int_eq(st, SASL_SUCCESS);
	else
		assert_fail(&r, st, t->want);
	run_end(&r);
}
END_TEST

/* ---- LOGIN ------------------------------------------------------------ */

START_TEST(login_flow)
{
	struct run r;

	run_start(&r, "LOGIN", &plain_ok);
	ck_assert_int_eq(feed(&r, NULL, 0, false), SASL_CONTINUE);
	out_eq(&r, "Username:");
	ck_assert_int_eq(feed_str(&r, "tim", false), SASL_CONTINUE);
	out_eq(&r, "Password:");
	ck_assert_int_eq(feed_str(&r, "tanstaaftanstaaf", false), SASL_SUCCESS);
	out_eq(&r, "");
	ck_assert_str_eq(sasl_server_user(r.s), "tim");
	run_end(&r);
	/* the user name as an initial response */
	run_start(&r, "LOGIN", &plain_ok);
	ck_assert_int_eq(feed_str(&r, "crypt", true), SASL_CONTINUE);
	out_eq(&r, "Password:");
	ck_assert_int_eq(feed_str(&r, "secret", false), SASL_SUCCESS);
	run_end(&r);
	run_start(&r, "LOGIN", &plain_ok);
	assert_fail(&r, feed_str(&r, "", true), SASL_FAIL_SYNTAX);
	run_end(&r);
	run_start(&r, "LOGIN", &plain_ok);
	ck_assert_int_eq(feed_str(&r, "tim", true), SASL_CONTINUE);
	assert_fail(&r, feed(&r, "a\0b", 3, false), SASL_FAIL_SYNTAX);
	run_end(&r);
	run_start(&r, "LOGIN", &plain_ok);
	ck_assert_int_eq(feed_str(&r, "tim", true), SASL_CONTINUE);
	assert_fail(&r, feed_str(&r, "", false), SASL_FAIL_SYNTAX);
	run_end(&r);
	run_start(&r, "LOGIN", &plain_ok);
	assert_fail(&r, feed(&r, "t\0m", 3, true), SASL_FAIL_SYNTAX);
	run_end(&r);
}
END_TEST

/* ---- unknown users, wrong passwords ----------------------------------- */

/* Messages until the failure, and its reason. */
static int steps_to_fail(const char *mech, const char *const *msgs,
			 const size_t *lens, enum sasl_fail_reason *why)
{
	struct run r;
	enum sasl_step st = SASL_CONTINUE;
	int n;

	run_start(&r, mech, &plain_ok);
	for (size_t i = 0; st == SASL_CONTINUE && msgs[i] != NULL; i++)
		st = feed(&r, msgs[i], lens[i], i == 0);
	ck_assert_int_eq(st, SASL_FAIL);
	*why = sasl_server_fail_reason(r.s);
	n = r.messages;
	run_end(&r);
	return n;
}

START_TEST(unknown_like_wrong_password)
{
	static const char *const plain_wrong[] = {"\0crypt\0nope", NULL};
	static const char *const plain_ghost[] = {"\0ghost\0nope", NULL};
	static const size_t plain_lens[] = {11, 0};
	static const char *const login_wrong[] = {"crypt", "nope", NULL};
	static const char *const login_ghost[] = {"ghost", "nope", NULL};
	static const size_t login_lens[] = {5, 4, 0};
	enum sasl_fail_reason a, b;

	ck_assert_int_eq(steps_to_fail("PLAIN", plain_wrong, plain_lens, &a),
			 steps_to_fail("PLAIN", plain_ghost, plain_lens, &b));
	ck_assert_int_eq(a, SASL_FAIL_AUTH);
	ck_assert_int_eq(b, SASL_FAIL_AUTH);
	ck_assert_int_eq(steps_to_fail("LOGIN", login_wrong, login_lens, &a),
			 steps_to_fail("LOGIN", login_ghost, login_lens, &b));
	ck_assert_int_eq(a, SASL_FAIL_AUTH);
	ck_assert_int_eq(b, SASL_FAIL_AUTH);
}
END_TEST

START_TEST(plain_scheme_not_allowed)
{
	const struct passwd_options deny = {.allow_plain = false};
	struct run r;

	run_start(&r, "PLAIN", &plain_ok);
	ck_assert_int_eq(sasl_server_step(r.s, "\0tim\0tanstaaftanstaaf", 21,
					  true, &r.out),
			 SASL_NEED_CREDENTIALS);
	ck_assert_int_eq(sasl_server_set_credentials(
				 r.s, passwd_db_lookup(db, "tim"), &deny),
			 0);
	assert_fail(&r, sasl_server_step(r.s, NULL, 0, false, &r.out),
		    SASL_FAIL_CREDENTIALS_UNUSABLE);
	run_end(&r);
}
END_TEST

/* ---- misuse ----------------------------------------------------------- */

START_TEST(api_misuse)
{
	struct run r;

	/* credentials nobody asked for */
	run_start(&r, "PLAIN", &plain_ok);
	errno = 0;
	ck_assert_int_eq(sasl_server_set_credentials(r.s, NULL, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	assert_fail(&r, feed(&r, "\0tim\0x", 6, true), SASL_FAIL_INTERNAL);
	run_end(&r);
	/* another user's entry */
	run_start(&r, "PLAIN", &plain_ok);
	ck_assert_int_eq(sasl_server_step(r.s, "\0tim\0x", 6, true, &r.out),
			 SASL_NEED_CREDENTIALS);
	ck_assert_int_eq(sasl_server_set_credentials(
				 r.s, passwd_db_lookup(db, "Kurt"), NULL),
			 -1);
	assert_fail(&r, sasl_server_step(r.s, NULL, 0, false, &r.out),
		    SASL_FAIL_INTERNAL);
	run_end(&r);
	/* a step instead of credentials, input while resuming */
	run_start(&r, "LOGIN", &plain_ok);
	ck_assert_int_eq(feed_str(&r, "tim", true), SASL_CONTINUE);
	ck_assert_int_eq(sasl_server_step(r.s, "pw", 2, false, &r.out),
			 SASL_NEED_CREDENTIALS);
	assert_fail(&r, sasl_server_step(r.s, "pw", 2, false, &r.out),
		    SASL_FAIL_INTERNAL);
	run_end(&r);
	run_start(&r, "LOGIN", &plain_ok);
	ck_assert_int_eq(feed_str(&r, "tim", true), SASL_CONTINUE);
	ck_assert_int_eq(sasl_server_step(r.s, "pw", 2, false, &r.out),
			 SASL_NEED_CREDENTIALS);
	ck_assert_int_eq(sasl_server_set_credentials(r.s, NULL, NULL), 0);
	assert_fail(&r, sasl_server_step(r.s, "x", 1, false, &r.out),
		    SASL_FAIL_INTERNAL);
	run_end(&r);
	/* freed while waiting for credentials, the password in hand */
	run_start(&r, "PLAIN", &plain_ok);
	ck_assert_int_eq(sasl_server_step(r.s, "\0tim\0x", 6, true, &r.out),
			 SASL_NEED_CREDENTIALS);
	run_end(&r);
}
END_TEST

START_TEST(cancel)
{
	struct run r;

	run_start(&r, "LOGIN", &plain_ok);
	ck_assert_int_eq(feed_str(&r, "tim", true), SASL_CONTINUE);
	ck_assert_int_eq(sasl_server_cancel(r.s), SASL_CANCELLED);
	ck_assert_int_eq(sasl_server_fail_reason(r.s), SASL_FAIL_NONE);
	assert_fail(&r, feed_str(&r, "pw", false), SASL_FAIL_INTERNAL);
	run_end(&r);
	run_start(&r, "SCRAM-SHA-256", &plain_ok);
	ck_assert_int_eq(feed_str(&r, "n,,n=user,r=cn", true), SASL_CONTINUE);
	ck_assert_int_eq(sasl_server_cancel(r.s), SASL_CANCELLED);
	run_end(&r);
}
END_TEST

static Suite *sasl_server_suite(void)
{
	Suite *s = suite_create("sasl_server");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, mechanism_lists);
	tcase_add_test(tc, plaintext_refused_before_tls);
	tcase_add_test(tc, scram_rfc7677);
	tcase_add_test(tc, scram_with_client);
	tcase_add_test(tc, scram_unknown_user_looks_real);
	tcase_add_test(tc, scram_accepted_variants);
	tcase_add_loop_test(tc, scram_bad_client_first, 0,
			    (int)(sizeof(bad_firsts) / sizeof(bad_firsts[0])));
	tcase_add_loop_test(tc, scram_bad_client_final, 0,
			    (int)(sizeof(bad_finals) / sizeof(bad_finals[0])));
	tcase_add_test(tc, too_long_and_small_buffers);
	tcase_add_test(tc, plain_rfc4616_examples);
	tcase_add_loop_test(tc, plain_bad_messages, 0,
			    (int)(sizeof(bad_plains) / sizeof(bad_plains[0])));
	tcase_add_test(tc, login_flow);
	tcase_add_test(tc, unknown_like_wrong_password);
	tcase_add_test(tc, plain_scheme_not_allowed);
	tcase_add_test(tc, api_misuse);
	tcase_add_test(tc, cancel);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sasl_server_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
