/*
 * pop3_auth.c - the AUTHORIZATION state: USER and PASS, APOP (RFC 1939
 * section 7), AUTH (RFC 5034 section 4) over lib/sasl_server, and the
 * maildrop lock that ends a login (RFC 1939 section 4).
 *
 * The engine checks syntax and order; the host checks credentials (on
 * its pool: crypt is slow) and opens and locks the maildrop. A login that
 * fails on its credentials is answered only after the host's delay
 * (POP3_REQ_AUTH_DELAY) with "-ERR [AUTH]" (RFC 3206 section 5, announced
 * by AUTH-RESP-CODE); a maildrop that cannot be had gets [IN-USE] (RFC
 * 2449 8.1.2), [LOGIN-DELAY] (8.1.1), [SYS/TEMP] or [SYS/PERM] (RFC 3206
 * section 4). Unknown users and wrong passwords look the same: USER
 * always says +OK (RFC 1939 section 7 allows it).
 */
#include "pop3_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "base64.h"
#include "log.h"
#include "sasl_server.h"

#define MECH_MAX 20 /* RFC 4422 section 3.1: SASL mechanism names */

/* Wipe the secrets of a login under way; the user name stays. */
static void wipe(struct pop3_session *s)
{
	OPENSSL_cleanse(s->password, sizeof(s->password));
	s->password_len = 0;
	OPENSSL_cleanse(s->digest, sizeof(s->digest));
	sasl_server_free(&s->sasl);
	OPENSSL_cleanse(s->sasl_out.data, s->sasl_out.cap);
	buf_clear(&s->sasl_out);
}

void pop3_auth_reset(struct pop3_session *s)
{
	wipe(s);
	s->auth = POP3_AUTH_NONE;
	if (s->state == POP3_ST_AUTHORIZATION)
		s->user[0] = '\0';
}

/* Credentials were wrong: answer after the host's delay. */
static void login_failed(struct pop3_session *s)
{
	log_info(s->id, "pop3.login_failed user=\"%s\" method=%s", s->user,
		 s->login == POP3_LOGIN_PASS   ? "PASS"
		 : s->login == POP3_LOGIN_APOP ? "APOP"
					       : "AUTH");
	pop3_auth_reset(s);
	s->request = POP3_REQ_AUTH_DELAY;
}

/* Authenticated: now the maildrop (RFC 1939 section 4). */
static void open_maildrop(struct pop3_session *s)
{
	wipe(s);
	s->auth = POP3_AUTH_NONE;
	s->request = POP3_REQ_MAILDROP;
}

/* USER name (RFC 1939 section 7): +OK for any name, so that names are
 * not revealed; -ERR where cleartext passwords are not allowed (RFC 2595
 * section 2.3). No [AUTH] here: RFC 3206 section 5 advises against it. */
void pop3_act_user(struct pop3_session *s, const char *args, size_t len)
{
	if (!pop3_cleartext_ok(s)) {
		pop3_err(s, NULL,
			 "Cleartext login not allowed without TLS; use STLS");
		return;
	}
	if (len == 0 || len > POP3_USER_MAX || memchr(args, ' ', len)) {
		pop3_err(s, NULL, "Syntax: USER name");
		return;
	}
	memcpy(s->user, args, len);
	s->user[len] = '\0';
	s->auth = POP3_AUTH_USER;
	pop3_ok(s, "Send PASS");
}

/* PASS string: only right after USER got +OK. Everything after "PASS "
 * is the password, spaces included (RFC 1939 section 7 allows it). */
void pop3_act_pass(struct pop3_session *s, const char *args, size_t len)
{
	if (s->auth != POP3_AUTH_USER) {
		pop3_err(s, NULL, "PASS must follow a successful USER");
		return;
	}
	s->auth = POP3_AUTH_NONE;
	s->login = POP3_LOGIN_PASS;
	if (len >= sizeof(s->password)) {
		login_failed(s); /* no such password can be stored */
		return;
	}
	memcpy(s->password, args, len);
	s->password_len = len;
	s->request = POP3_REQ_PASS;
}

static bool lower_hex(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') ||
		      (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	return true;
}

/* APOP name digest (RFC 1939 section 7): the digest is 32 lower-case hex
 * digits of MD5(timestamp + secret); the host checks it. */
void pop3_act_apop(struct pop3_session *s, const char *args, size_t len)
{
	if (s->timestamp[0] == '\0') {
		pop3_err(s, NULL, "APOP not available");
		return;
	}
	const char *sp = memchr(args, ' ', len);
	size_t name_len = sp != NULL ? (size_t)(sp - args) : len;
	if (sp == NULL || name_len == 0 || name_len > POP3_USER_MAX ||
	    len - name_len - 1 != 32 || !lower_hex(sp + 1, 32)) {
		pop3_err(s, NULL, "Syntax: APOP name digest");
		return;
	}
	memcpy(s->user, args, name_len);
	s->user[name_len] = '\0';
	memcpy(s->digest, sp + 1, 32);
	s->digest[32] = '\0';
	s->login = POP3_LOGIN_APOP;
	s->request = POP3_REQ_APOP;
}

/* "+ " and the base64 challenge (RFC 5034 section 4: nothing else on
 * the line; an empty challenge is "+ " alone). A challenge line is not
 * bound by the 512-octet limit of status lines. */
static void send_challenge(struct pop3_session *s)
{
	size_t n = base64_encoded_len(buf_len(&s->sasl_out));
	char *b64 = malloc(n + 1);
	if (b64 == NULL ||
	    base64_encode(buf_data(&s->sasl_out), buf_len(&s->sasl_out), b64,
			  n + 1) != 0 ||
	    buf_append(&s->out, "+ ", 2) != 0 ||
	    buf_append(&s->out, b64, n) != 0 ||
	    buf_append(&s->out, "\r\n", 2) != 0) {
		free(b64);
		log_error(s->id, "pop3.sasl_challenge_failed");
		pop3_close(s);
		return;
	}
	free(b64);
}

static void sasl_failed(struct pop3_session *s)
{
	enum sasl_fail_reason why = sasl_server_fail_reason(s->sasl);
	log_info(s->id, "pop3.sasl_failed mech=%s reason=%s detail=\"%s\"",
		 sasl_server_mech(s->sasl), sasl_fail_reason_str(why),
		 sasl_server_fail_detail(s->sasl));
	switch (why) {
	case SASL_FAIL_SYNTAX:
		pop3_auth_reset(s);
		pop3_err(s, NULL, "Malformed SASL message");
		break;
	case SASL_FAIL_TOO_LONG:
		pop3_auth_reset(s);
		pop3_err(s, NULL, "SASL message too long");
		break;
	case SASL_FAIL_MECH_NOT_ALLOWED:
		pop3_auth_reset(s);
		pop3_err(s, "AUTH",
			 "Cleartext mechanism not allowed without "
			 "TLS; use STLS");
		break;
	case SASL_FAIL_INTERNAL:
	case SASL_FAIL_NONE:
		pop3_auth_reset(s);
		pop3_fail(s, "SYS/TEMP", "Authentication failed; try later");
		break;
	case SASL_FAIL_AUTH:
	case SASL_FAIL_AUTHZID:
	case SASL_FAIL_CREDENTIALS_UNUSABLE:
	case SASL_FAIL_UNSUPPORTED:
		login_failed(s);
		break;
	}
}

static void sasl_result(struct pop3_session *s, enum sasl_step r)
{
	const char *user;
	switch (r) {
	case SASL_CONTINUE:
		s->auth = POP3_AUTH_SASL;
		send_challenge(s);
		break;
	case SASL_NEED_CREDENTIALS:
		s->auth = POP3_AUTH_NONE;
		s->login = POP3_LOGIN_SASL;
		user = sasl_server_user(s->sasl);
		snprintf(s->user, sizeof(s->user), "%s", user ? user : "");
		s->request = POP3_REQ_SASL_CREDENTIALS;
		break;
	case SASL_SUCCESS:
		user = sasl_server_user(s->sasl);
		snprintf(s->user, sizeof(s->user), "%s", user ? user : "");
		if (buf_len(&s->sasl_out) == 0) {
			open_maildrop(s);
			break;
		}
		/* RFC 5034 4: no additional data with the +OK; it goes
		 * as a challenge, and the client answers it empty. */
		s->auth = POP3_AUTH_SASL_DATA;
		send_challenge(s);
		break;
	case SASL_FAIL:
		sasl_failed(s);
		break;
	case SASL_CANCELLED:
		pop3_auth_reset(s);
		pop3_err(s, NULL, "AUTH cancelled");
		break;
	}
}

/* Base64 from the client: "=" alone is present but empty (RFC 5034 4);
 * anything not canonical base64 fails (RFC 4648, RFC 5034 4). Returns a
 * malloc'ed buffer (NULL on error) and its length. */
static unsigned char *decode(const char *in, size_t len, size_t *out_len,
			     bool *bad_r)
{
	size_t max = base64_decoded_max(len);
	unsigned char *out = malloc(max + 1);
	*bad_r = false;
	*out_len = 0;
	if (out == NULL)
		return NULL;
	if (len == 1 && in[0] == '=')
		return out;
	if (base64_decode(in, len, out, max + 1, out_len) != 0) {
		free(out);
		*bad_r = true;
		return NULL;
	}
	return out;
}

static void step_with(struct pop3_session *s, const char *b64, size_t len,
		      bool initial)
{
	bool bad;
	size_t n;
	unsigned char *data = decode(b64, len, &n, &bad);
	if (data == NULL) {
		pop3_auth_reset(s);
		if (bad)
			pop3_err(s, NULL, "Invalid base64");
		else
			pop3_fail(s, "SYS/TEMP", "Out of memory");
		return;
	}
	enum sasl_step r =
		sasl_server_step(s->sasl, data, n, initial, &s->sasl_out);
	OPENSSL_cleanse(data, n);
	free(data);
	sasl_result(s, r);
}

/* AUTH mechanism [initial-response] (RFC 5034 section 4). */
void pop3_act_auth(struct pop3_session *s, const char *args, size_t len)
{
	char mech[MECH_MAX + 1];
	const char *sp = memchr(args, ' ', len);
	size_t mech_len = sp != NULL ? (size_t)(sp - args) : len;
	const char *ir = sp != NULL ? sp + 1 : NULL;
	size_t ir_len = sp != NULL ? len - mech_len - 1 : 0;

	if (mech_len == 0 ||
	    (ir != NULL && (ir_len == 0 || memchr(ir, ' ', ir_len)))) {
		pop3_err(s, NULL, "Syntax: AUTH mechanism [initial-response]");
		return;
	}
	if (mech_len > MECH_MAX) {
		pop3_err(s, NULL, "Unsupported SASL mechanism");
		return;
	}
	memcpy(mech, args, mech_len);
	mech[mech_len] = '\0';
	struct sasl_server_settings ss = {
		.plaintext_allowed = pop3_cleartext_ok(s),
		.scram_iterations = s->st.scram_iterations,
	};
	s->sasl = sasl_server_new(mech, &ss);
	if (s->sasl == NULL) {
		if (errno == ENOENT)
			pop3_err(s, NULL, "Unsupported SASL mechanism");
		else
			pop3_fail(s, "SYS/TEMP", "Authentication failed");
		return;
	}
	if (ir != NULL)
		step_with(s, ir, ir_len, true);
	else
		sasl_result(s, sasl_server_step(s->sasl, NULL, 0, false,
						&s->sasl_out));
}

void pop3_sasl_line(struct pop3_session *s, const char *line, size_t len)
{
	if (len == 1 && line[0] == '*') { /* RFC 5034 4: cancelled */
		sasl_result(s, sasl_server_cancel(s->sasl));
		return;
	}
	if (s->auth == POP3_AUTH_SASL_DATA) {
		if (len == 0) {
			open_maildrop(s);
			return;
		}
		pop3_auth_reset(s);
		pop3_err(s, NULL, "Expected an empty response; AUTH aborted");
		return;
	}
	step_with(s, line, len, false);
}

static void maildrop_answer(struct pop3_session *s, const struct pop3_answer *a)
{
	uint32_t n;
	uint64_t size;
	if (a->status == POP3_ANSWER_OK && a->listing != NULL) {
		s->drop = a->listing;
		s->state = POP3_ST_TRANSACTION;
		pop3_listing_stat(s->drop, &n, &size);
		log_info(s->id,
			 "pop3.login user=\"%s\" messages=%u octets=%llu",
			 s->user, n, (unsigned long long)size);
		pop3_ok(s,
			"Maildrop locked and ready: %u messages (%llu "
			"octets)",
			n, (unsigned long long)size);
		return;
	}
	log_info(s->id, "pop3.maildrop_failed user=\"%s\" status=%d", s->user,
		 (int)a->status);
	struct pop3_listing *unused = a->listing;
	pop3_listing_free(&unused);
	pop3_auth_reset(s);
	switch (a->status) {
	case POP3_ANSWER_IN_USE:
		pop3_fail(s, "IN-USE", "Maildrop is locked by another session");
		break;
	case POP3_ANSWER_LOGIN_DELAY:
		pop3_fail(s, "LOGIN-DELAY",
			  "Logged in too recently; wait at least %u seconds",
			  s->st.login_delay);
		break;
	case POP3_ANSWER_PERM:
		pop3_fail(s, "SYS/PERM", "Maildrop cannot be opened");
		break;
	default:
		pop3_fail(s, "SYS/TEMP", "Maildrop not available; try later");
		break;
	}
}

void pop3_auth_resume(struct pop3_session *s, enum pop3_request r,
		      const struct pop3_answer *a)
{
	switch (r) {
	case POP3_REQ_PASS:
	case POP3_REQ_APOP:
		wipe(s);
		if (a->status == POP3_ANSWER_OK) {
			open_maildrop(s);
		} else if (a->status == POP3_ANSWER_AUTH_FAILED) {
			login_failed(s);
		} else {
			pop3_auth_reset(s);
			pop3_fail(s, "SYS/TEMP",
				  "Authentication failed; "
				  "try later");
		}
		break;
	case POP3_REQ_SASL_CREDENTIALS:
		if (a->status != POP3_ANSWER_OK || s->sasl == NULL) {
			pop3_auth_reset(s);
			pop3_fail(s, "SYS/TEMP",
				  "Authentication failed; "
				  "try later");
			break;
		}
		sasl_result(s, sasl_server_step(s->sasl, NULL, 0, false,
						&s->sasl_out));
		break;
	case POP3_REQ_AUTH_DELAY:
		pop3_err(s, "AUTH", "Authentication failed");
		break;
	case POP3_REQ_MAILDROP:
		maildrop_answer(s, a);
		break;
	default:
		break;
	}
}
