/*
 * smtp_auth.c - the AUTH command (RFC 4954): one SASL exchange of
 * lib/sasl_server.h (SCRAM-SHA-256, PLAIN, LOGIN) framed in SMTP lines.
 *
 *   C: AUTH mechanism [initial-response]      ("=" is an empty one, 4)
 *   S: 334 <base64 challenge>                 (4: nothing but base64)
 *   C: <base64 response> | "*"
 *   S: 235 2.7.0 | 535 5.7.8 | ...
 *
 * Replies (RFC 4954 4 and 6 with the RFC 3463 codes it suggests): AUTH
 * after a success or inside a transaction 503 5.5.1; a mechanism not
 * implemented 504 5.5.4; undecodable base64 501 5.5.2; "*" 501 5.0.0; a
 * line longer than the exchange's buffer 500 5.5.6; a plaintext mechanism
 * where TLS is required 538 5.7.11; a temporary failure 454 4.7.0; wrong
 * credentials 535 5.7.8, held back for the host's failure delay
 * (SMTP_REQ_AUTH_DELAY) so that guessing passwords is slow. SMTP cannot
 * carry SASL's "additional data with success" (4): SCRAM's final server
 * message goes in a 334 and the client's empty line completes the AUTH.
 * Checking a password is slow work, so the engine hands the exchange to
 * the host (SMTP_REQ_AUTH_CREDENTIALS), which gives it back resumed.
 *
 * Plaintext mechanisms are offered only under TLS unless the settings
 * allow them (RFC 4954 4 and 14, RFC 8314); on a listener that can
 * STARTTLS, no AUTH is offered at all before it.
 */
#include "smtp_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "log.h"
#include "sasl_server.h"

#define MECH_NAME_MAX 20 /* SASL mechanism names (RFC 4422 3.1) */

void smtp_auth_init(struct smtp_session *s)
{
	/* a challenge: at most a SCRAM server-first message, which
	 * repeats the client's nonce */
	buf_init(&s->auth_buf, SASL_SERVER_MESSAGE_MAX + 1024);
}

void smtp_auth_free(struct smtp_session *s)
{
	sasl_server_free(&s->sasl);
	buf_free(&s->auth_buf);
}

static bool plaintext_ok(const struct smtp_session *s)
{
	return s->tls_active || s->st.auth_plaintext;
}

bool smtp_auth_available(const struct smtp_session *s,
			 const char *const **mechs_r)
{
	if (!s->st.auth_offered)
		return false;
	/* a client that can have TLS first gets no AUTH before it */
	if (!plaintext_ok(s) && s->st.starttls_offered)
		return false;
	*mechs_r = sasl_server_mechanisms(plaintext_ok(s));
	return true;
}

static bool mech_in(const char *const *list, const char *m, size_t len)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strlen(list[i]) == len && strncasecmp(list[i], m, len) == 0)
			return true;
	return false;
}

/* "mechanism [SP initial-response]": the lengths of both parts. */
static int split_args(const char *args, size_t len, size_t *mech_len_r,
		      const char **ir_r, size_t *ir_len_r)
{
	const char *sp = memchr(args, ' ', len);
	*mech_len_r = sp != NULL ? (size_t)(sp - args) : len;
	*ir_r = sp != NULL ? sp + 1 : NULL;
	*ir_len_r = sp != NULL ? len - *mech_len_r - 1 : 0;
	if (*mech_len_r == 0 || *mech_len_r > MECH_NAME_MAX)
		return -1;
	if (*ir_r != NULL && (*ir_len_r == 0 || memchr(*ir_r, ' ', *ir_len_r)))
		return -1;
	return 0;
}

int smtp_check_auth(struct smtp_session *s, const char *args, size_t len)
{
	const char *const *mechs;
	const char *ir;
	size_t mech_len, ir_len;
	if (!s->st.auth_offered) {
		smtp_reply_error(s, 502, "5.5.1", "AUTH not available");
		return -1;
	}
	if (s->auth_user[0] != '\0') { /* RFC 4954 4 */
		smtp_reply_error(s, 503, "5.5.1", "Already authenticated");
		return -1;
	}
	if (s->state & (SMTP_ST_MAIL | SMTP_ST_RCPT)) { /* RFC 4954 4 */
		smtp_reply_error(
			s, 503, "5.5.1",
			"AUTH not permitted during a mail transaction");
		return -1;
	}
	if (split_args(args, len, &mech_len, &ir, &ir_len) != 0) {
		smtp_reply_error(s, 501, "5.5.4",
				 "Syntax: AUTH mechanism [initial-response]");
		return -1;
	}
	if (!mech_in(sasl_server_mechanisms(true), args, mech_len)) {
		smtp_reply_error(s, 504, "5.5.4",
				 "Unrecognized authentication mechanism");
		return -1;
	}
	if (!smtp_auth_available(s, &mechs) ||
	    !mech_in(mechs, args, mech_len)) { /* RFC 4954 6 */
		smtp_reply_error(s, 538, "5.7.11",
				 "Encryption required for requested "
				 "authentication mechanism");
		return -1;
	}
	return 0;
}

/* The exchange is over, one way or the other. */
static void auth_end(struct smtp_session *s)
{
	sasl_server_free(&s->sasl);
	s->auth_final = false;
	buf_clear(&s->auth_buf);
	if (s->state == SMTP_ST_AUTH)
		s->state = SMTP_ST_READY;
}

/* "334 " and the challenge in base64 (RFC 4954 4). Written straight into
 * the output: a SCRAM challenge is longer than a reply line's text. */
static void send_challenge(struct smtp_session *s)
{
	size_t n = base64_encoded_len(buf_len(&s->auth_buf)) + 1;
	char *b64 = malloc(n);
	if (b64 == NULL ||
	    base64_encode(buf_data(&s->auth_buf), buf_len(&s->auth_buf), b64,
			  n) != 0 ||
	    buf_append_str(&s->out, "334 ") != 0 ||
	    buf_append_str(&s->out, b64) != 0 ||
	    buf_append_str(&s->out, "\r\n") != 0) {
		log_warn(s->id, "smtp.auth_challenge_failed");
		smtp_close(s);
	}
	free(b64);
}

static void auth_succeed(struct smtp_session *s)
{
	snprintf(s->auth_user, sizeof(s->auth_user), "%s",
		 sasl_server_user(s->sasl));
	log_info(s->id, "smtp.auth mech=%s user=%s tls=%d",
		 sasl_server_mech(s->sasl), s->auth_user, s->tls_active);
	auth_end(s);
	smtp_reply(s, 235, "2.7.0", 0, "Authentication successful");
}

/* Wrong credentials wait for the delay; other failures are told now. */
static void auth_failed(struct smtp_session *s)
{
	enum sasl_fail_reason why = sasl_server_fail_reason(s->sasl);
	const char *user = sasl_server_user(s->sasl);
	struct smtp_held_reply *h = &s->auth_fail;
	log_info(s->id,
		 "smtp.auth_failed mech=%s user=%s reason=\"%s\" "
		 "detail=\"%s\"",
		 sasl_server_mech(s->sasl), user != NULL ? user : "-",
		 sasl_fail_reason_str(why), sasl_server_fail_detail(s->sasl));
	auth_end(s);
	switch (why) {
	case SASL_FAIL_SYNTAX:
		smtp_reply_error(s, 501, "5.5.2",
				 "Malformed authentication data");
		return;
	case SASL_FAIL_TOO_LONG:
		smtp_reply_error(s, 500, "5.5.6",
				 "Authentication exchange line is too long");
		return;
	case SASL_FAIL_MECH_NOT_ALLOWED:
		smtp_reply_error(s, 538, "5.7.11",
				 "Encryption required for requested "
				 "authentication mechanism");
		return;
	case SASL_FAIL_INTERNAL:
		smtp_reply(s, 454, "4.7.0", 0,
			   "Temporary authentication failure");
		return;
	default: /* the client is told no more than "invalid" */
		break;
	}
	*h = (struct smtp_held_reply){.code = 535};
	snprintf(h->enh, sizeof(h->enh), "5.7.8");
	snprintf(h->text, sizeof(h->text),
		 "Authentication credentials invalid");
	s->request = SMTP_REQ_AUTH_DELAY;
}

static void auth_step(struct smtp_session *s, const void *in, size_t len,
		      bool have_ir)
{
	switch (sasl_server_step(s->sasl, in, len, have_ir, &s->auth_buf)) {
	case SASL_CONTINUE:
		send_challenge(s);
		break;
	case SASL_NEED_CREDENTIALS:
		s->request = SMTP_REQ_AUTH_CREDENTIALS;
		break;
	case SASL_SUCCESS:
		if (buf_len(&s->auth_buf) == 0) {
			auth_succeed(s);
			break;
		}
		s->auth_final = true; /* RFC 4954 4: no data with 235 */
		send_challenge(s);
		break;
	case SASL_FAIL:
		auth_failed(s);
		break;
	case SASL_CANCELLED:
		auth_end(s);
		break;
	}
}

/* Decode a base64 line; NULL (after a 501) if it is not base64. */
static unsigned char *decode(struct smtp_session *s, const char *b64,
			     size_t len, size_t *n_r)
{
	size_t max = base64_decoded_max(len) + 1;
	unsigned char *out = malloc(max);
	if (out == NULL) {
		auth_end(s);
		smtp_reply(s, 454, "4.7.0", 0,
			   "Temporary authentication failure");
		return NULL;
	}
	if (base64_decode(b64, len, out, max, n_r) != 0) { /* RFC 4954 4 */
		free(out);
		auth_end(s);
		smtp_reply_error(s, 501, "5.5.2", "Invalid base64 data");
		return NULL;
	}
	return out;
}

void smtp_act_auth(struct smtp_session *s, const char *args, size_t len)
{
	char mech[MECH_NAME_MAX + 1];
	const char *ir;
	size_t mech_len, ir_len, n = 0;
	unsigned char *data = NULL;
	if (split_args(args, len, &mech_len, &ir, &ir_len) != 0)
		return; /* cannot happen: check_auth passed */
	memcpy(mech, args, mech_len);
	mech[mech_len] = '\0';
	struct sasl_server_settings sst = {
		.plaintext_allowed = plaintext_ok(s),
		.scram_iterations = s->st.scram_iterations,
		.test_nonce = s->st.scram_test_nonce,
	};
	s->state = SMTP_ST_AUTH;
	bool empty_ir = ir != NULL && ir_len == 1 && ir[0] == '=';
	if (ir != NULL && !empty_ir &&
	    (data = decode(s, ir, ir_len, &n)) == NULL)
		return;
	s->sasl = sasl_server_new(mech, &sst);
	if (s->sasl == NULL) {
		free(data);
		auth_end(s);
		smtp_reply(s, 454, "4.7.0", 0,
			   "Temporary authentication failure");
		return;
	}
	log_debug(s->id, "smtp.auth_start mech=%s initial_response=%d",
		  sasl_server_mech(s->sasl), ir != NULL);
	auth_step(s, data, n, ir != NULL);
	free(data);
}

void smtp_auth_line(struct smtp_session *s, const char *line, size_t len)
{
	size_t n;
	if (len == 1 && line[0] == '*') { /* RFC 4954 4, RFC 4422 3.5 */
		log_info(s->id, "smtp.auth_cancelled mech=%s",
			 sasl_server_mech(s->sasl));
		sasl_server_cancel(s->sasl);
		auth_end(s);
		smtp_reply_error(s, 501, "5.0.0", "Authentication cancelled");
		return;
	}
	if (s->auth_final) {
		if (len == 0) {
			auth_succeed(s);
			return;
		}
		auth_end(s);
		smtp_reply_error(s, 501, "5.5.2",
				 "Expected an empty line after the server's "
				 "final message");
		return;
	}
	unsigned char *data = decode(s, line, len, &n);
	if (data == NULL)
		return;
	auth_step(s, data, n, false);
	free(data);
}

void smtp_auth_abort(struct smtp_session *s, int code, const char *enh,
		     const char *text)
{
	if (s->sasl != NULL)
		sasl_server_cancel(s->sasl);
	auth_end(s);
	smtp_reply_error(s, code, enh, "%s", text);
}

void smtp_auth_resume(struct smtp_session *s, const struct smtp_answer *a)
{
	enum smtp_request req = s->request;
	s->request = SMTP_REQ_NONE;
	if (req == SMTP_REQ_AUTH_DELAY) {
		const struct smtp_held_reply *h = &s->auth_fail;
		smtp_reply_error(s, h->code, h->enh, "%s", h->text);
		return;
	}
	if (s->sasl != a->sasl) /* the host should have taken it */
		sasl_server_free(&s->sasl);
	s->sasl = a->sasl;
	if (!a->ok || s->sasl == NULL) {
		log_warn(s->id, "smtp.auth_credentials_failed");
		auth_end(s);
		smtp_reply(s, 454, "4.7.0", 0,
			   "Temporary authentication failure");
		return;
	}
	auth_step(s, NULL, 0, false);
}

struct sasl_server *smtp_session_auth_take(struct smtp_session *s)
{
	struct sasl_server *sasl = NULL;
	if (s->request == SMTP_REQ_AUTH_CREDENTIALS) {
		sasl = s->sasl;
		s->sasl = NULL;
	}
	return sasl;
}

const char *smtp_session_auth_user(const struct smtp_session *s)
{
	return s->auth_user;
}
