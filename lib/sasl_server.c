/*
 * sasl_server.c - SASL (RFC 4422) server mechanisms for SMTP, POP3 and
 * IMAP: PLAIN (RFC 4616 section 2), LOGIN (draft-murchison-sasl-login)
 * and SCRAM-SHA-256 (RFC 5802 sections 3, 5, 6, 7; RFC 7677 section 3).
 * The API and the policies are in sasl_server.h.
 *
 * One exchange is a state machine shared by the mechanisms (start,
 * waiting for a client message, for credentials, done); a mechanism is a
 * table entry of three functions: take a client message, take the
 * credentials, resume after them. RFC 4422 section 5 2a: a client-first
 * mechanism without an initial response gets an empty challenge. Secrets
 * (password, SCRAM keys) are wiped with OPENSSL_cleanse() once used, on
 * failure and when freed. SCRAM for a user without usable keys runs on
 * scram_mock_salt() and the usual iteration count, and fails at the end.
 */
#include "sasl_server.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "scram.h"

enum state {
	ST_START,      /* no step yet */
	ST_RESPONSE,   /* waiting for client message number s->phase */
	ST_NEED_CREDS, /* asked the host for credentials */
	ST_HAVE_CREDS, /* got them; the next step resumes */
	ST_DONE,
};

struct sasl_server;

struct mech {
	const char *name;
	bool plaintext;		     /* refused unless plaintext_allowed */
	const char *first_challenge; /* when there is no initial response */
	enum sasl_step (*input)(struct sasl_server *s, const char *in,
				size_t len, struct buf *out);
	void (*credentials)(struct sasl_server *s, const struct passwd_entry *e,
			    const struct passwd_options *opt);
	enum sasl_step (*resume)(struct sasl_server *s, struct buf *out);
};

struct sasl_server {
	const struct mech *mech;
	struct sasl_server_settings st;
	enum state state;
	unsigned phase;
	enum sasl_fail_reason reason;
	const char *detail;
	char *user;	/* prepared authcid */
	char *authzid;	/* NULL: none */
	char *password; /* PLAIN, LOGIN; until verified */
	size_t password_len;
	enum passwd_verify_result verified;
	bool unknown_user;
	/* SCRAM */
	char *gs2_header; /* as the client sent it */
	size_t gs2_len;
	char *nonce; /* c-nonce + s-nonce, NUL-terminated */
	struct buf auth_message;
	struct scram_creds creds;
	enum sasl_fail_reason creds_fail; /* NONE: real keys */
	const char *creds_detail;
};

/* ---- the exchange ----------------------------------------------------- */

static void wipe_secrets(struct sasl_server *s)
{
	if (s->password != NULL) {
		OPENSSL_cleanse(s->password, s->password_len);
		free(s->password);
		s->password = NULL;
	}
	s->password_len = 0;
	scram_creds_wipe(&s->creds);
	if (s->auth_message.data != NULL)
		OPENSSL_cleanse(s->auth_message.data, s->auth_message.cap);
	buf_free(&s->auth_message);
}

static enum sasl_step fail(struct sasl_server *s, enum sasl_fail_reason r,
			   const char *detail)
{
	s->state = ST_DONE;
	s->reason = r;
	s->detail = detail;
	wipe_secrets(s);
	return SASL_FAIL;
}

static enum sasl_step fail_errno(struct sasl_server *s)
{
	return fail(s, SASL_FAIL_INTERNAL,
		    errno == ENOMEM ? "out of memory" : "internal error");
}

static enum sasl_step succeed(struct sasl_server *s)
{
	if (s->authzid != NULL && strcmp(s->authzid, s->user) != 0)
		return fail(s, SASL_FAIL_AUTHZID,
			    "authzid is not the user (proxy authorization is "
			    "not supported)");
	s->state = ST_DONE;
	wipe_secrets(s);
	return SASL_SUCCESS;
}

/* Prepares and keeps the authentication identity. */
static bool take_user(struct sasl_server *s, const char *p, size_t n)
{
	enum scram_prep r = scram_saslprep(p, n);

	if (r != SCRAM_PREP_OK) {
		fail(s,
		     r == SCRAM_PREP_NON_ASCII ? SASL_FAIL_UNSUPPORTED
					       : SASL_FAIL_SYNTAX,
		     r == SCRAM_PREP_EMPTY ? "empty user name"
					   : scram_prep_str(r));
		return false;
	}
	s->user = strndup(p, n);
	if (s->user == NULL)
		fail_errno(s);
	return s->user != NULL;
}

static enum sasl_step step(struct sasl_server *s, const void *in, size_t in_len,
			   bool have_initial_response,
			   struct buf *challenge_out)
{
	switch (s->state) {
	case ST_DONE:
		return fail(s, SASL_FAIL_INTERNAL, "exchange already ended");
	case ST_NEED_CREDS:
		return fail(s, SASL_FAIL_INTERNAL, "no credentials given");
	case ST_HAVE_CREDS:
		if (in_len > 0)
			return fail(s, SASL_FAIL_INTERNAL,
				    "input while resuming");
		s->state = ST_RESPONSE;
		return s->mech->resume(s, challenge_out);
	case ST_START:
		if (s->mech->plaintext && !s->st.plaintext_allowed)
			return fail(s, SASL_FAIL_MECH_NOT_ALLOWED,
				    "plaintext mechanism not allowed now");
		s->state = ST_RESPONSE;
		if (!have_initial_response) {
			if (buf_append_str(challenge_out,
					   s->mech->first_challenge) != 0)
				return fail_errno(s);
			return SASL_CONTINUE;
		}
		break;
	case ST_RESPONSE:
		break;
	}
	if (in_len > s->st.max_message)
		return fail(s, SASL_FAIL_TOO_LONG, "client message too long");
	if (in == NULL && in_len > 0)
		return fail(s, SASL_FAIL_INTERNAL, "no input");
	return s->mech->input(s, in_len > 0 ? in : "", in_len, challenge_out);
}

enum sasl_step sasl_server_step(struct sasl_server *s, const void *in,
				size_t in_len, bool have_initial_response,
				struct buf *challenge_out)
{
	enum sasl_step r;

	buf_clear(challenge_out);
	r = step(s, in, in_len, have_initial_response, challenge_out);
	if (r == SASL_FAIL) /* nothing half-made reaches the client */
		buf_clear(challenge_out);
	return r;
}

int sasl_server_set_credentials(struct sasl_server *s,
				const struct passwd_entry *e,
				const struct passwd_options *opt)
{
	if (s->state != ST_NEED_CREDS ||
	    (e != NULL && strcmp(e->user, s->user) != 0)) {
		if (s->state != ST_DONE)
			fail(s, SASL_FAIL_INTERNAL, "unexpected credentials");
		errno = EINVAL;
		return -1;
	}
	s->mech->credentials(s, e, opt);
	if (s->state == ST_NEED_CREDS)
		s->state = ST_HAVE_CREDS;
	return 0;
}

/* ---- PLAIN and LOGIN -------------------------------------------------- */

/* passwd = 1*SAFE: UTF-8 without NUL (RFC 4616 section 2). */
static enum sasl_step take_password(struct sasl_server *s, const char *p,
				    size_t n)
{
	if (n == 0)
		return fail(s, SASL_FAIL_SYNTAX, "empty password");
	if (memchr(p, '\0', n) != NULL || !scram_utf8_valid(p, n))
		return fail(s, SASL_FAIL_SYNTAX, "password not UTF-8 or NUL");
	s->password = strndup(p, n);
	if (s->password == NULL)
		return fail_errno(s);
	s->password_len = n;
	s->state = ST_NEED_CREDS;
	return SASL_NEED_CREDENTIALS;
}

/* message = [authzid] UTF8NUL authcid UTF8NUL passwd */
static enum sasl_step plain_input(struct sasl_server *s, const char *in,
				  size_t len, struct buf *out)
{
	const char *nul1 = memchr(in, '\0', len), *nul2 = NULL, *end = in + len;
	size_t zlen;

	(void)out;
	if (nul1 != NULL)
		nul2 = memchr(nul1 + 1, '\0', (size_t)(end - nul1 - 1));
	if (nul2 == NULL)
		return fail(s, SASL_FAIL_SYNTAX,
			    "PLAIN message without two NULs");
	zlen = (size_t)(nul1 - in);
	if (!scram_utf8_valid(in, zlen))
		return fail(s, SASL_FAIL_SYNTAX, "authzid not UTF-8");
	if (!take_user(s, nul1 + 1, (size_t)(nul2 - nul1 - 1)))
		return SASL_FAIL;
	if (zlen > 0 && (s->authzid = strndup(in, zlen)) == NULL)
		return fail_errno(s);
	return take_password(s, nul2 + 1, (size_t)(end - nul2 - 1));
}

static enum sasl_step login_input(struct sasl_server *s, const char *in,
				  size_t len, struct buf *out)
{
	if (s->phase == 1)
		return take_password(s, in, len);
	if (!take_user(s, in, len)) /* SASLprep refuses a NUL */
		return SASL_FAIL;
	s->phase = 1;
	if (buf_append_str(out, "Password:") != 0)
		return fail_errno(s);
	return SASL_CONTINUE;
}

static void password_credentials(struct sasl_server *s,
				 const struct passwd_entry *e,
				 const struct passwd_options *opt)
{
	s->unknown_user = e == NULL;
	s->verified = passwd_verify_entry(e, s->password, s->password_len, opt);
	OPENSSL_cleanse(s->password, s->password_len);
	free(s->password);
	s->password = NULL;
	s->password_len = 0;
}

static enum sasl_step password_resume(struct sasl_server *s, struct buf *out)
{
	(void)out;
	switch (s->verified) {
	case PASSWD_OK:
		return succeed(s);
	case PASSWD_FAIL:
		return fail(s, SASL_FAIL_AUTH,
			    s->unknown_user ? "unknown user"
					    : "wrong password or locked");
	case PASSWD_SCHEME_DISABLED:
		return fail(s, SASL_FAIL_CREDENTIALS_UNUSABLE,
			    "password scheme not allowed");
	case PASSWD_INTERNAL_ERROR:
		break;
	}
	return fail(s, SASL_FAIL_INTERNAL, "password check failed");
}

/* ---- SCRAM-SHA-256 ---------------------------------------------------- */

/* Keys that never verify, with a salt stable for this user. */
static void scram_mock(struct sasl_server *s, enum sasl_fail_reason why,
		       const char *detail)
{
	s->creds_fail = why;
	s->creds_detail = detail;
	scram_creds_wipe(&s->creds);
	s->creds.iterations = s->st.scram_iterations;
	s->creds.salt_len = SCRAM_SALT_LEN;
	if (scram_mock_salt(s->user, s->creds.salt) != 0) {
		s->creds_fail = SASL_FAIL_INTERNAL;
		s->creds_detail = "cannot make mock credentials";
	}
}

static void scram_credentials(struct sasl_server *s,
			      const struct passwd_entry *e,
			      const struct passwd_options *opt)
{
	int err = 0;

	(void)opt; /* {PLAIN} passwords are not used for SCRAM */
	s->creds_fail = SASL_FAIL_NONE;
	if (e != NULL && passwd_scram_keys(e, &s->creds) != 0)
		err = errno;
	if (e == NULL)
		scram_mock(s, SASL_FAIL_AUTH, "unknown-user");
	else if (err == ENOENT)
		scram_mock(s, SASL_FAIL_CREDENTIALS_UNUSABLE,
			   "no SCRAM-SHA-256 keys for this user");
	else if (err == EACCES)
		scram_mock(s, SASL_FAIL_AUTH, "locked account");
	else if (err != 0)
		scram_mock(s, SASL_FAIL_INTERNAL,
			   "stored SCRAM-SHA-256 keys do not parse");
	else if (s->creds.iterations < s->st.scram_iterations)
		scram_mock(s, SASL_FAIL_CREDENTIALS_UNUSABLE,
			   "stored iteration count below the minimum");
}

static enum sasl_step scram_error(struct sasl_server *s, enum scram_error e)
{
	return fail(s,
		    e == SCRAM_E_EXTENSIONS_NOT_SUPPORTED
			    ? SASL_FAIL_UNSUPPORTED
			    : SASL_FAIL_SYNTAX,
		    scram_error_str(e));
}

/* The server's nonce: test_nonce, or SCRAM_NONCE_LEN random chars. */
static bool make_nonce(struct sasl_server *s, struct scram_str client)
{
	char fresh[SCRAM_NONCE_LEN + 1];
	const char *server =
		s->st.test_nonce != NULL ? s->st.test_nonce : fresh;
	size_t n;

	if (server == fresh && scram_nonce(fresh, sizeof(fresh)) != 0)
		return false;
	n = strlen(server);
	s->nonce = malloc(client.len + n + 1);
	if (s->nonce != NULL) {
		memcpy(s->nonce, client.p, client.len);
		memcpy(s->nonce + client.len, server, n + 1);
	}
	return s->nonce != NULL;
}

/* client-first-message (section 7), the gs2 flag checked as section 6. */
static enum sasl_step scram_client_first(struct sasl_server *s, const char *in,
					 size_t len)
{
	struct scram_client_first m;
	enum scram_error e = scram_read_client_first(in, len, &m);
	size_t n;
	char *user;
	bool ok;

	if (e != SCRAM_OK)
		return scram_error(s, e);
	if (m.cbind == 'p')
		return fail(s, SASL_FAIL_UNSUPPORTED,
			    "channel-binding-not-supported");
	user = scram_saslname_decode(m.user, &n);
	if (user == NULL)
		return fail_errno(s);
	ok = take_user(s, user, n);
	free(user);
	if (!ok)
		return SASL_FAIL;
	if ((m.authzid.len > 0 &&
	     (s->authzid = scram_saslname_decode(m.authzid, &n)) == NULL) ||
	    (s->gs2_header = strndup(m.gs2_header.p, m.gs2_header.len)) ==
		    NULL ||
	    !make_nonce(s, m.nonce) ||
	    buf_append(&s->auth_message, m.bare.p, m.bare.len) != 0 ||
	    buf_append(&s->auth_message, ",", 1) != 0)
		return fail_errno(s);
	s->gs2_len = m.gs2_header.len;
	s->state = ST_NEED_CREDS;
	return SASL_NEED_CREDENTIALS;
}

/* server-first-message = nonce "," salt "," iteration-count */
static enum sasl_step scram_resume(struct sasl_server *s, struct buf *out)
{
	if (s->creds_fail == SASL_FAIL_INTERNAL)
		return fail(s, SASL_FAIL_INTERNAL, s->creds_detail);
	if (buf_printf(out, "r=%s,s=", s->nonce) != 0 ||
	    scram_append_base64(out, s->creds.salt, s->creds.salt_len) != 0 ||
	    buf_printf(out, ",i=%u", s->creds.iterations) != 0 ||
	    buf_append(&s->auth_message, buf_data(out), buf_len(out)) != 0 ||
	    buf_append(&s->auth_message, ",", 1) != 0)
		return fail_errno(s);
	s->phase = 1;
	return SASL_CONTINUE;
}

/* c= must be the base64 of the gs2 header, without channel binding
 * data (section 6). SASL_CONTINUE if it is, else the failure. */
static enum sasl_step check_cbind(struct sasl_server *s, struct scram_str c)
{
	size_t max = base64_decoded_max(c.len), len = 0;
	unsigned char *raw = malloc(max > 0 ? max : 1);
	enum sasl_step r = SASL_CONTINUE;

	if (raw == NULL)
		return fail_errno(s);
	if (base64_decode(c.p, c.len, raw, max, &len) != 0)
		r = scram_error(s, SCRAM_E_INVALID_ENCODING);
	else if (len != s->gs2_len || memcmp(raw, s->gs2_header, len) != 0)
		r = fail(s, SASL_FAIL_AUTH, "channel-bindings-dont-match");
	free(raw);
	return r;
}

/* The proof (section 3): H(ClientProof XOR ClientSignature) must be
 * StoredKey. Computes ServerSignature either way. */
static bool scram_proof_ok(struct sasl_server *s,
			   const struct scram_client_final *m,
			   unsigned char server_sig[SCRAM_HASH_LEN])
{
	unsigned char sig[SCRAM_HASH_LEN], key[SCRAM_HASH_LEN];
	const unsigned char *am = buf_data(&s->auth_message);
	size_t am_len = buf_len(&s->auth_message);
	bool ok = false;

	if (scram_hmac(s->creds.stored_key, am, am_len, sig) == 0 &&
	    scram_hmac(s->creds.server_key, am, am_len, server_sig) == 0) {
		scram_xor(key, m->proof, sig);
		if (scram_h(key, sizeof(key), sig) == 0)
			ok = CRYPTO_memcmp(sig, s->creds.stored_key,
					   SCRAM_HASH_LEN) == 0;
	}
	OPENSSL_cleanse(sig, sizeof(sig));
	OPENSSL_cleanse(key, sizeof(key));
	return ok;
}

static enum sasl_step scram_client_final(struct sasl_server *s, const char *in,
					 size_t len, struct buf *out)
{
	unsigned char server_sig[SCRAM_HASH_LEN];
	struct scram_client_final m;
	enum scram_error e = scram_read_client_final(in, len, &m);
	bool ok;

	if (e != SCRAM_OK)
		return scram_error(s, e);
	if (check_cbind(s, m.cbind) != SASL_CONTINUE)
		return SASL_FAIL;
	if (m.nonce.len != strlen(s->nonce) ||
	    memcmp(m.nonce.p, s->nonce, m.nonce.len) != 0)
		return fail(s, SASL_FAIL_AUTH, "nonce does not match");
	if (buf_append(&s->auth_message, m.without_proof.p,
		       m.without_proof.len) != 0)
		return fail_errno(s);
	ok = scram_proof_ok(s, &m, server_sig);
	if (s->creds_fail != SASL_FAIL_NONE)
		return fail(s, s->creds_fail, s->creds_detail);
	if (!ok)
		return fail(s, SASL_FAIL_AUTH, "invalid-proof");
	if (buf_append_str(out, "v=") != 0 ||
	    scram_append_base64(out, server_sig, sizeof(server_sig)) != 0)
		return fail_errno(s);
	return succeed(s);
}

static enum sasl_step scram_input(struct sasl_server *s, const char *in,
				  size_t len, struct buf *out)
{
	if (s->phase == 0)
		return scram_client_first(s, in, len);
	return scram_client_final(s, in, len, out);
}

/* ---- mechanisms ------------------------------------------------------- */

static const struct mech mechs[] = {
	{"SCRAM-SHA-256", false, "", scram_input, scram_credentials,
	 scram_resume},
	{"PLAIN", true, "", plain_input, password_credentials, password_resume},
	{"LOGIN", true, "Username:", login_input, password_credentials,
	 password_resume},
};

const char *const *sasl_server_mechanisms(bool plaintext_allowed)
{
	static const char *const all[] = {"SCRAM-SHA-256", "PLAIN", "LOGIN",
					  NULL};
	static const char *const secure[] = {"SCRAM-SHA-256", NULL};

	return plaintext_allowed ? all : secure;
}

struct sasl_server *sasl_server_new(const char *mech,
				    const struct sasl_server_settings *st)
{
	const struct mech *m = NULL;
	struct sasl_server *s;

	for (size_t i = 0; mech != NULL && i < sizeof(mechs) / sizeof(*mechs);
	     i++)
		if (strcasecmp(mech, mechs[i].name) == 0)
			m = &mechs[i];
	if (m == NULL) {
		errno = ENOENT;
		return NULL;
	}
	if (st == NULL ||
	    (st->test_nonce != NULL &&
	     !scram_printable(st->test_nonce, strlen(st->test_nonce)))) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->mech = m;
	s->st = *st;
	if (s->st.max_message == 0)
		s->st.max_message = SASL_SERVER_MESSAGE_MAX;
	if (s->st.scram_iterations == 0)
		s->st.scram_iterations = SCRAM_ITERATIONS_DEFAULT;
	buf_init(&s->auth_message, 3 * s->st.max_message + 256);
	return s;
}

enum sasl_step sasl_server_cancel(struct sasl_server *s)
{
	s->state = ST_DONE;
	s->reason = SASL_FAIL_NONE;
	s->detail = "cancelled by the client";
	wipe_secrets(s);
	return SASL_CANCELLED;
}

const char *sasl_server_user(const struct sasl_server *s)
{
	return s->user;
}

const char *sasl_server_authzid(const struct sasl_server *s)
{
	return s->authzid;
}

enum sasl_fail_reason sasl_server_fail_reason(const struct sasl_server *s)
{
	return s->reason;
}

const char *sasl_server_fail_detail(const struct sasl_server *s)
{
	return s->detail != NULL ? s->detail : "";
}

const char *sasl_server_mech(const struct sasl_server *s)
{
	return s->mech->name;
}

const char *sasl_fail_reason_str(enum sasl_fail_reason r)
{
	static const char *const names[] = {
		[SASL_FAIL_NONE] = "none",
		[SASL_FAIL_SYNTAX] = "malformed client message",
		[SASL_FAIL_TOO_LONG] = "client message too long",
		[SASL_FAIL_AUTH] = "unknown user or wrong password",
		[SASL_FAIL_AUTHZID] = "authorization identity not allowed",
		[SASL_FAIL_MECH_NOT_ALLOWED] = "mechanism not allowed now",
		[SASL_FAIL_CREDENTIALS_UNUSABLE] =
			"credentials not usable for this mechanism",
		[SASL_FAIL_UNSUPPORTED] = "not supported",
		[SASL_FAIL_INTERNAL] = "internal error",
	};

	if ((unsigned)r < sizeof(names) / sizeof(names[0]))
		return names[r];
	return "unknown";
}

void sasl_server_free(struct sasl_server **sp)
{
	struct sasl_server *s = *sp;

	if (s == NULL)
		return;
	wipe_secrets(s);
	free(s->user);
	free(s->authzid);
	free(s->gs2_header);
	free(s->nonce);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
	*sp = NULL;
}
