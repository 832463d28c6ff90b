/*
 * smtp_lmtp.c - what LMTP (RFC 2033) changes after the final dot.
 *
 * The session is the SMTP engine in SMTP_MODE_LMTP: LHLO instead of
 * HELO/EHLO (smtp_commands.c, RFC 2033 4.1), DATA refused with 503 when
 * no RCPT succeeded (smtp_txn.c, 4.2). Once the message is read whole,
 * the host delivers it recipient by recipient (SMTP_REQ_LMTP_RCPT) and
 * each answer becomes one reply, in the order of the RCPT commands, one
 * for every successful RCPT even when an address repeats (4.2). Each
 * reply goes out as soon as it is known: the host writes the output
 * whenever it resumes the engine (RFC 2033 5).
 */
#include "smtp_internal.h"

#include <string.h>

#include "log.h"

void smtp_lmtp_start(struct smtp_session *s)
{
	s->txn.lmtp_next = 0;
	s->request = SMTP_REQ_LMTP_RCPT;
}

size_t smtp_session_lmtp_index(const struct smtp_session *s)
{
	return s->txn.lmtp_next;
}

void smtp_lmtp_resume(struct smtp_session *s, const struct smtp_answer *a)
{
	struct smtp_txn *t = &s->txn;
	const char *addr = t->env.rcpt[t->lmtp_next].addr;

	/* RFC 3463 X.1.5: destination address valid (delivered) */
	if (a->ok)
		smtp_reply(s, 250, "2.1.5", 0, "<%s> Delivered", addr);
	else
		smtp_reply(s, a->code, a->enhanced, 0, "<%s> %s", addr,
			   a->text);
	log_info(s->id, "lmtp.rcpt_done to=<%s> code=%d queue_id=%s", addr,
		 a->ok ? 250 : a->code, t->queue_id);
	if (++t->lmtp_next < t->env.n_rcpt) {
		s->request = SMTP_REQ_LMTP_RCPT;
		return;
	}
	smtp_transaction_reset(s);
}

void smtp_lmtp_repeat(struct smtp_session *s, size_t at)
{
	size_t len = buf_len(&s->out) - at;
	char line[600];
	if (len == 0 || len > sizeof(line))
		return;
	memcpy(line, buf_data(&s->out) + at, len);
	for (size_t i = 1; i < s->txn.env.n_rcpt; i++)
		if (buf_append(&s->out, line, len) != 0) {
			smtp_close(s);
			return;
		}
}
