/*
 * lmtp_host.c - LMTP deliveries (RFC 2033 4.2): after the final dot the
 * message sits in a spool tmp file that is never committed; each
 * recipient, in RCPT order, is delivered from it into the user's store on
 * the pool (server/queue/deliver.h, not through the queue), and that
 * delivery's result is the recipient's reply: 250 2.1.5 once the store
 * has fsync'd it (so a 2xx is never lost to a crash: RFC 2033 4.2), 452
 * 4.2.2 or 451 4.3.0 when the store fails for now, 5xx when it never
 * will. A recipient given twice gets two replies (4.2) and one copy.
 */
#include "lmtp_host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "local_rcpt.h"
#include "log.h"
#include "pool.h"
#include "queue/deliver.h"
#include "queue/queue_file.h"
#include "queue/spool.h"

struct lmtp_answer {
	bool ok;
	int code;
	char enhanced[16];
	char text[128];
};

struct lmtp_host {
	struct smtp_session *s;
	char id[24];
	struct spool_msg *spool;
	struct lmtp_answer *answers; /* one per recipient delivered so far */
	struct lmtp_job *job;	     /* a delivery under way */
};

/* One delivery on the pool: copies of all it reads, since the session
 * (and a reload of the config) may change things meanwhile. */
struct lmtp_job {
	struct lmtp_host *l; /* NULL once the session is gone */
	struct engine_call call;
	struct quilld_config cfg;
	struct deliver_user user;
	char path[1100];
	char *from, *rcpt;
	struct deliver_result res;
	char id[24];
};

struct lmtp_host *lmtp_host_new(struct smtp_session *s, const char *id)
{
	struct lmtp_host *l = calloc(1, sizeof(*l));
	if (l == NULL)
		return NULL;
	l->s = s;
	snprintf(l->id, sizeof(l->id), "%s", id);
	return l;
}

static void transaction_done(struct lmtp_host *l)
{
	spool_abort(&l->spool);
	free(l->answers);
	l->answers = NULL;
}

void lmtp_host_free(struct lmtp_host **lp)
{
	struct lmtp_host *l = *lp;
	if (l == NULL)
		return;
	if (l->job != NULL)
		l->job->l = NULL; /* it finishes without us */
	transaction_done(l);
	free(l);
	*lp = NULL;
}

struct smtp_answer lmtp_host_judge_rcpt(const struct host_services *svc,
					const struct smtp_rcpt *r)
{
	if (r->routing)
		return (struct smtp_answer){.code = 550,
					    .enhanced = "5.7.1",
					    .text = "Relaying denied"};
	if (!local_rcpt_domain(svc->cfg, r->domain))
		return (struct smtp_answer){.code = 550,
					    .enhanced = "5.1.2",
					    .text = "Domain not served here"};
	if (local_rcpt_user(svc->cfg, svc->users, r->local) == NULL)
		return (struct smtp_answer){.code = 550,
					    .enhanced = "5.1.1",
					    .text = "User unknown"};
	return (struct smtp_answer){.ok = true};
}

void lmtp_host_take(struct lmtp_host *l, struct spool_msg **spool)
{
	transaction_done(l);
	l->spool = *spool;
	*spool = NULL;
	size_t n = smtp_session_envelope(l->s)->n_rcpt;
	l->answers = calloc(n > 0 ? n : 1, sizeof(*l->answers));
}

/* Give recipient i's reply; after the last one the file goes. */
static void answer(struct lmtp_host *l, size_t i, const struct lmtp_answer *a)
{
	struct smtp_answer sa = {.ok = a->ok,
				 .code = a->code,
				 .enhanced = a->enhanced,
				 .text = a->text};
	size_t n = smtp_session_envelope(l->s)->n_rcpt;
	if (l->answers != NULL)
		l->answers[i] = *a;
	if (i + 1 == n)
		transaction_done(l);
	smtp_session_resume(l->s, &sa);
}

static void set_answer(struct lmtp_answer *a, bool ok, int code,
		       const char *enh, const char *text)
{
	a->ok = ok;
	a->code = code;
	snprintf(a->enhanced, sizeof(a->enhanced), "%s", enh);
	snprintf(a->text, sizeof(a->text), "%s", text);
}

static void deliver_work(void *arg)
{
	struct lmtp_job *j = arg;
	struct queue_msg qm;
	char err[256];
	/* the spool file: the envelope, an empty line, the message */
	if (queue_envelope_read(j->path, &qm, err, sizeof(err)) != 0) {
		j->res = (struct deliver_result){.status = DELIVER_TEMP,
						 .code = 451,
						 .enhanced = "4.3.0",
						 .text = "Local error"};
		snprintf(j->res.detail, sizeof(j->res.detail), "%s", err);
		return;
	}
	struct deliver_msg m = {.path = j->path,
				.offset = qm.offset,
				.return_path = j->from,
				.rcpt = j->rcpt};
	queue_msg_free(&qm);
	deliver_one(&j->cfg, &j->user, &m, DELIVER_FRESH, &j->res);
}

static void deliver_done(void *arg)
{
	struct lmtp_job *j = arg;
	struct lmtp_host *l = j->l;
	const struct deliver_result *r = &j->res;
	log_info(j->id, "lmtp.deliver to=<%s> user=%s code=%d detail=\"%s\"",
		 j->rcpt, j->user.name, r->code, r->detail);
	if (l != NULL) {
		struct lmtp_answer a;
		set_answer(&a, r->status == DELIVER_OK, r->code, r->enhanced,
			   r->text);
		l->job = NULL;
		answer(l, smtp_session_lmtp_index(l->s), &a);
		j->call.resumed(j->call.arg);
	}
	free(j->from);
	free(j->rcpt);
	free(j);
}

static struct lmtp_job *job_new(struct lmtp_host *l,
				const struct host_services *svc,
				const struct passwd_entry *e,
				const struct smtp_rcpt *r)
{
	const struct smtp_envelope *env = smtp_session_envelope(l->s);
	struct lmtp_job *j = calloc(1, sizeof(*j));
	if (j == NULL)
		return NULL;
	j->l = l;
	j->cfg = *svc->cfg;
	snprintf(j->path, sizeof(j->path), "%s", spool_tmp_path(l->spool));
	snprintf(j->id, sizeof(j->id), "%s", l->id);
	j->from = strdup(env->mail_from);
	j->rcpt = strdup(r->addr);
	if (j->from == NULL || j->rcpt == NULL ||
	    deliver_user_from(&j->user, e) != 0) {
		free(j->from);
		free(j->rcpt);
		free(j);
		return NULL;
	}
	return j;
}

enum engine_serve lmtp_host_serve(struct lmtp_host *l,
				  struct host_services *svc,
				  const struct engine_call *c)
{
	const struct smtp_envelope *env = smtp_session_envelope(l->s);
	size_t i = smtp_session_lmtp_index(l->s);
	const struct smtp_rcpt *r = &env->rcpt[i];
	struct lmtp_answer a;

	for (size_t k = 0; k < i && l->answers != NULL; k++)
		if (strcmp(env->rcpt[k].addr, r->addr) == 0) {
			answer(l, i, &l->answers[k]); /* one copy */
			return ENGINE_SERVED;
		}
	const struct passwd_entry *e =
		local_rcpt_user(svc->cfg, svc->users, r->local);
	struct lmtp_job *j = NULL;
	if (e == NULL) /* removed from the passwd-file since RCPT */
		set_answer(&a, false, 550, "5.1.1", "User unknown");
	else if (l->spool == NULL || l->answers == NULL ||
		 (j = job_new(l, svc, e, r)) == NULL)
		set_answer(&a, false, 451, "4.3.0", "Local error: no memory");
	if (j == NULL) {
		answer(l, i, &a);
		return ENGINE_SERVED;
	}
	j->call = *c;
	if (pool_submit(svc->pool, deliver_work, deliver_done, j) != 0) {
		free(j->from);
		free(j->rcpt);
		free(j);
		set_answer(&a, false, 451, "4.3.0", "Local error: stopping");
		answer(l, i, &a);
		return ENGINE_SERVED;
	}
	l->job = j;
	return ENGINE_PENDING;
}
