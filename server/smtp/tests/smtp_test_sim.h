/*
 * smtp_test_sim.h - for the SMTP engine's tests: a simulated host that
 * answers the engine's requests (recipient "nobody" is unknown; the
 * message is collected in sim.msg), and helpers that feed a whole input,
 * in pieces, and return the replies. Included by one test file each.
 */
#ifndef QUILL_SMTP_TEST_SIM_H
#define QUILL_SMTP_TEST_SIM_H

#include <check.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/smtp_internal.h"

#define DATE "Mon, 23 Nov 2026 18:00:00 +0000"

/* A host that answers the engine's requests. */
struct sim {
	char msg[16384];
	size_t len;
	int begins, ends;
	char envelope[512]; /* DSN fields seen at DATA_BEGIN */
	bool fail_chunk, fail_commit;
};

static void sim_take(struct smtp_session *s, struct sim *h)
{
	struct buf *m = smtp_session_message(s);
	ck_assert_uint_lt(h->len + buf_len(m), sizeof(h->msg));
	memcpy(h->msg + h->len, buf_data(m), buf_len(m));
	h->len += buf_len(m);
	buf_consume(m, buf_len(m));
}

/* "ret=N envid=X body=B | notify orcpt | ..." of the envelope */
static void sim_envelope(const struct smtp_envelope *e, struct sim *h)
{
	int n = snprintf(h->envelope, sizeof(h->envelope),
			 "ret=%d envid=%s binary=%d", (int)e->ret,
			 e->envid ? e->envid : "-", e->body_binary);
	for (size_t i = 0; i < e->n_rcpt && n > 0; i++)
		n += snprintf(h->envelope + n, sizeof(h->envelope) - (size_t)n,
			      " | %u %s", e->rcpt[i].notify,
			      e->rcpt[i].orcpt ? e->rcpt[i].orcpt : "-");
}

static void sim_answer(struct smtp_session *s, struct sim *h)
{
	for (;;) {
		struct smtp_answer a = {.ok = true};
		switch (smtp_session_request(s)) {
		case SMTP_REQ_RCPT:
			if (strcmp(smtp_session_pending_rcpt(s)->local,
				   "nobody") == 0)
				a = (struct smtp_answer){
					.code = 550,
					.enhanced = "5.1.1",
					.text = "User unknown"};
			break;
		case SMTP_REQ_DATA_BEGIN:
			sim_envelope(smtp_session_envelope(s), h);
			h->begins++;
			a.queue_id = "Q1";
			a.date = DATE;
			break;
		case SMTP_REQ_DATA_CHUNK:
			sim_take(s, h);
			if (h->fail_chunk)
				a = (struct smtp_answer){
					.code = 452,
					.enhanced = "4.3.1",
					.text = "Insufficient system storage"};
			break;
		case SMTP_REQ_DATA_END:
			h->ends++;
			sim_take(s, h);
			if (h->fail_commit)
				a = (struct smtp_answer){.code = 451,
							 .enhanced = "4.3.0",
							 .text = "Local error"};
			break;
		default:
			return;
		}
		smtp_session_resume(s, &a);
	}
}

static struct smtp_settings settings(void)
{
	struct smtp_settings st;
	smtp_settings_defaults(&st);
	st.hostname = "mx.example.test";
	st.max_errors = 100;
	return st;
}

/* Feed input in pieces, answering requests; return the replies. */
static char *run(const struct smtp_settings *st, const char *in, size_t len,
		 size_t piece, struct sim *h)
{
	struct smtp_session *s = smtp_session_new(st, "192.0.2.7", "t");
	memset(h, 0, offsetof(struct sim, fail_chunk));
	for (size_t off = 0; off < len;) {
		size_t n = len - off < piece ? len - off : piece;
		off += smtp_session_feed(s, in + off, n);
		sim_answer(s, h);
		if (smtp_session_request(s) == SMTP_REQ_CLOSE)
			break;
	}
	struct buf *o = smtp_session_output(s);
	char *r = malloc(buf_len(o) + 1);
	memcpy(r, buf_data(o), buf_len(o));
	r[buf_len(o)] = '\0';
	smtp_session_free(&s);
	return r;
}

static char *run1(const struct smtp_settings *st, const char *in, struct sim *h)
{
	return run(st, in, strlen(in), strlen(in), h);
}

#define EHLO	 "EHLO c.example\r\n"
#define EHLO_REP "250 DSN\r\n"
/* the replies after the EHLO reply */
static const char *after_ehlo(const char *out)
{
	const char *p = strstr(out, EHLO_REP);
	ck_assert_ptr_nonnull(p);
	return p + strlen(EHLO_REP);
}

#endif
