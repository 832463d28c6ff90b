/*
 * auth_sim.h - a simulated host for the AUTH and submission tests: it
 * answers every engine request at once, checks credentials against an
 * in-memory passwd-file ({PLAIN} for alice, SCRAM keys of few iterations
 * for scram), counts failure delays instead of waiting, collects the
 * spooled message and completes STARTTLS. Included by test_smtp_auth.c
 * and test_smtp_submit.c only.
 */
#ifndef QUILL_TEST_AUTH_SIM_H
#define QUILL_TEST_AUTH_SIM_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "passwd.h"
#include "sasl_server.h"
#include "smtp/smtp_internal.h"

#define SIM_DATE	"Mon, 23 Nov 2026 18:00:00 +0000"
#define SIM_SCRAM_ITER	16
#define PLAIN_ALICE	"AGFsaWNlAHdvbmRlcmxhbmQ=" /* \0alice\0wonderland */
#define PLAIN_ALICE_BAD "AGFsaWNlAGJ1aWxkZXI="	   /* \0alice\0builder */

struct sim {
	struct passwd_db *users;
	int delays;	 /* AUTH_DELAY requests answered */
	int lookups;	 /* AUTH_CREDENTIALS requests answered */
	bool hold_delay; /* leave AUTH_DELAY unanswered */
	char msg[1 << 18];
	size_t len;
};

static inline void sim_init(struct sim *h)
{
	char hash[PASSWD_HASH_SIZE], text[PASSWD_HASH_SIZE + 128];
	struct passwd_error perr;
	memset(h, 0, sizeof(*h));
	ck_assert_int_eq(
		passwd_hash_scram("tiger", SIM_SCRAM_ITER, hash, sizeof(hash)),
		0);
	snprintf(text, sizeof(text),
		 "alice:{PLAIN}wonderland\nbob:{PLAIN}builder\nscram:%s\n"
		 "odd(user):{PLAIN}pw\n",
		 hash);
	h->users = passwd_db_load_buffer("sim", text, strlen(text), &perr);
	ck_assert_ptr_nonnull(h->users);
}

static inline void sim_free(struct sim *h)
{
	passwd_db_free(&h->users);
}

static inline void sim_take(struct smtp_session *s, struct sim *h)
{
	struct buf *m = smtp_session_message(s);
	ck_assert_uint_lt(h->len + buf_len(m), sizeof(h->msg));
	memcpy(h->msg + h->len, buf_data(m), buf_len(m));
	h->len += buf_len(m);
	h->msg[h->len] = '\0';
	buf_consume(m, buf_len(m));
}

static inline void sim_credentials(struct smtp_session *s, struct sim *h)
{
	struct passwd_options opt = {.allow_plain = true};
	struct sasl_server *sasl = smtp_session_auth_take(s);
	ck_assert_ptr_nonnull(sasl);
	ck_assert_ptr_null(smtp_session_auth_take(s));
	const char *user = sasl_server_user(sasl);
	sasl_server_set_credentials(
		sasl, user ? passwd_db_lookup(h->users, user) : NULL, &opt);
	h->lookups++;
	struct smtp_answer a = {.ok = true, .sasl = sasl};
	smtp_session_resume(s, &a);
}

static inline void sim_answer(struct smtp_session *s, struct sim *h)
{
	for (;;) {
		struct smtp_answer a = {.ok = true};
		switch (smtp_session_request(s)) {
		case SMTP_REQ_AUTH_CREDENTIALS:
			sim_credentials(s, h);
			continue;
		case SMTP_REQ_AUTH_DELAY:
			if (h->hold_delay)
				return;
			h->delays++;
			break;
		case SMTP_REQ_STARTTLS:
			smtp_session_tls_done(s, true, "TLSv1.3 SIM");
			continue;
		case SMTP_REQ_RCPT:
			break;
		case SMTP_REQ_DATA_BEGIN:
			a.queue_id = "Q1";
			a.date = SIM_DATE;
			h->len = 0;
			break;
		case SMTP_REQ_DATA_CHUNK:
		case SMTP_REQ_DATA_END:
			sim_take(s, h);
			break;
		default:
			return;
		}
		smtp_session_resume(s, &a);
	}
}

static inline struct smtp_settings sim_settings(void)
{
	struct smtp_settings st;
	smtp_settings_defaults(&st);
	st.hostname = "mx.example.test";
	st.domain = "example.test";
	st.mode = SMTP_MODE_SUBMISSION;
	st.auth_offered = true;
	st.auth_plaintext = true;
	st.scram_iterations = SIM_SCRAM_ITER;
	st.sender_check = true;
	st.add_headers = true;
	return st;
}

static inline char *sim_output(struct smtp_session *s)
{
	struct buf *o = smtp_session_output(s);
	char *r = malloc(buf_len(o) + 1);
	ck_assert_ptr_nonnull(r);
	memcpy(r, buf_data(o), buf_len(o));
	r[buf_len(o)] = '\0';
	buf_consume(o, buf_len(o));
	return r;
}

/* A session whose greeting is dropped. */
static inline struct smtp_session *sim_open(const struct smtp_settings *st)
{
	struct smtp_session *s = smtp_session_new(st, "192.0.2.7", "t");
	ck_assert_ptr_nonnull(s);
	smtp_session_start(s);
	free(sim_output(s));
	return s;
}

/* Feed all of in, answering requests (bytes after a STARTTLS are lost,
 * as the engine drops them: RFC 3207 4.2). */
static inline void sim_feed(struct smtp_session *s, struct sim *h,
			    const char *in)
{
	size_t len = strlen(in);
	for (size_t off = 0; off < len;) {
		off += smtp_session_feed(s, in + off, len - off);
		sim_answer(s, h);
		if (smtp_session_request(s) != SMTP_REQ_NONE)
			break;
	}
}

/* Feed input in pieces of step bytes, answering requests as they come;
 * the replies (greeting dropped). */
static inline char *sim_run_steps(const struct smtp_settings *st, struct sim *h,
				  const char *in, size_t len, size_t step)
{
	struct smtp_session *s = smtp_session_new(st, "192.0.2.7", "t");
	ck_assert_ptr_nonnull(s);
	smtp_session_start(s);
	free(sim_output(s));
	for (size_t off = 0; off < len;) {
		size_t n = len - off < step ? len - off : step;
		off += smtp_session_feed(s, in + off, n);
		sim_answer(s, h);
		if (smtp_session_request(s) != SMTP_REQ_NONE)
			break;
	}
	char *out = sim_output(s);
	smtp_session_free(&s);
	return out;
}

static inline char *sim_run(const struct smtp_settings *st, struct sim *h,
			    const char *in)
{
	return sim_run_steps(st, h, in, strlen(in), strlen(in) + 1);
}

#define ck_sim(st, h, in, expected)                    \
	do {                                           \
		char *got_ = sim_run((st), (h), (in)); \
		ck_assert_str_eq(got_, (expected));    \
		free(got_);                            \
	} while (0)

#define EHLO_IN "EHLO c.example\r\n"
#define EHLO_OUT                                              \
	"250-mx.example.test Hello c.example [192.0.2.7]\r\n" \
	"250-PIPELINING\r\n"                                  \
	"250-SIZE 52428800\r\n"                               \
	"250-8BITMIME\r\n"                                    \
	"250-ENHANCEDSTATUSCODES\r\n"                         \
	"250-SMTPUTF8\r\n"                                    \
	"250-CHUNKING\r\n"                                    \
	"250-BINARYMIME\r\n"                                  \
	"250-DSN\r\n"                                         \
	"250 AUTH SCRAM-SHA-256 PLAIN LOGIN\r\n"
#define AUTH_OK "235 2.7.0 Authentication successful\r\n"

#endif
