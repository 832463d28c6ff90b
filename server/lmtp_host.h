/*
 * lmtp_host.h - the host's side of LMTP (RFC 2033): quilld's SMTP engine
 * host (smtp_host.c) hands a session in SMTP_MODE_LMTP over to these for
 * the recipients and the deliveries after the final dot.
 */
#ifndef QUILL_SERVER_LMTP_HOST_H
#define QUILL_SERVER_LMTP_HOST_H

#include "engine.h"
#include "smtp/smtp_session.h"

struct lmtp_host;
struct spool_msg;

struct lmtp_host *lmtp_host_new(struct smtp_session *s, const char *id);
/* Also while a delivery is under way: it finishes without the session. */
void lmtp_host_free(struct lmtp_host **l);

/* RCPT: a user of ours, or 550 (RFC 3463: 5.1.1 unknown user, 5.1.2 a
 * domain not served here, 5.7.1 the routing syntax of relaying). */
struct smtp_answer lmtp_host_judge_rcpt(const struct host_services *svc,
					const struct smtp_rcpt *r);

/* DATA_END of a message that arrived whole: its spool file (never
 * committed) is kept for the deliveries, then removed. */
void lmtp_host_take(struct lmtp_host *l, struct spool_msg **spool);

/* SMTP_REQ_LMTP_RCPT: deliver to that recipient on the pool. */
enum engine_serve lmtp_host_serve(struct lmtp_host *l,
				  struct host_services *svc,
				  const struct engine_call *c);

#endif
