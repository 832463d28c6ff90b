/*
 * queue_job.c - one attempt at delivering one queued message (see
 * queue_job.h for the steps, the retry rule and exactly-once).
 */
#include "queue_job.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "local_rcpt.h"
#include "queue/queue_dsn.h"

#define STEP_BEFORE(k) (1u + 2u * (unsigned)(k))
#define STEP_AFTER(k)  (2u + 2u * (unsigned)(k))
#define STEP_RECORD    100000u

void queue_job_init(struct queue_job *j, const char *queue_dir, const char *id,
		    const struct quilld_config *cfg, bool check_all, time_t now)
{
	memset(j, 0, sizeof(*j));
	snprintf(j->queue_dir, sizeof(j->queue_dir), "%s", queue_dir);
	snprintf(j->id, sizeof(j->id), "%s", id);
	j->cfg = *cfg;
	j->check_all = check_all;
	j->users_loaded = true;
	j->now = now;
}

void queue_job_free(struct queue_job *j)
{
	queue_msg_free(&j->msg);
	free(j->t);
	j->t = NULL;
	j->n_t = 0;
}

time_t queue_job_backoff(const struct quilld_config *cfg, unsigned n)
{
	time_t d = cfg->queue_retry_min;
	for (unsigned i = 1; i < n && d < (time_t)cfg->queue_retry_max; i++)
		d *= 2;
	return d < (time_t)cfg->queue_retry_max ? d : cfg->queue_retry_max;
}

static bool due(const struct queue_job *j, const struct queue_rcpt *r)
{
	return r->state == QUEUE_RCPT_PENDING ||
	       (r->state == QUEUE_RCPT_DEFERRED && r->next_try <= j->now);
}

/* What target t of recipient i is: local (whose user) or remote. */
static void classify(struct queue_job *j, struct queue_target *t)
{
	char local[512], domain[256];
	const char *addr = j->msg.rcpt[t->i].addr;
	if (local_rcpt_split(addr, local, sizeof(local), domain,
			     sizeof(domain)) != 0 ||
	    !local_rcpt_domain(&j->cfg, domain))
		return; /* remote */
	t->local = true;
	t->postmaster = strcasecmp(local, "postmaster") == 0;
	const char *name = t->postmaster ? j->cfg.queue_postmaster : local;
	if (strlen(name) < sizeof(t->lookup)) /* else no such user */
		memcpy(t->lookup, name, strlen(name) + 1);
}

void queue_job_load(struct queue_job *j)
{
	char path[sizeof(j->queue_dir) + SPOOL_ID_MAX + 8];
	int rc = queue_msg_read(j->queue_dir, j->id, &j->msg, j->err,
				sizeof(j->err));
	if (rc == QUEUE_TORN) {
		size_t used = strlen(j->err);
		char why[256];
		j->load = queue_msg_set_aside(j->queue_dir, j->id, why,
					      sizeof(why)) == 0
				  ? QJ_TORN
				  : QJ_BAD;
		if (j->load == QJ_BAD)
			snprintf(j->err + used, sizeof(j->err) - used, "; %s",
				 why);
		return;
	}
	if (rc != 0) {
		snprintf(path, sizeof(path), "%s/new/%s", j->queue_dir, j->id);
		j->load = access(path, F_OK) != 0 && errno == ENOENT ? QJ_GONE
								     : QJ_BAD;
		return;
	}
	j->t = calloc(j->msg.n_rcpt, sizeof(*j->t));
	if (j->t == NULL) {
		snprintf(j->err, sizeof(j->err), "out of memory");
		j->load = QJ_BAD;
		return;
	}
	for (size_t i = 0; i < j->msg.n_rcpt; i++) {
		if (!due(j, &j->msg.rcpt[i]))
			continue;
		struct queue_target *t = &j->t[j->n_t];
		t->i = i;
		for (size_t k = 0; k < j->n_t && !t->dup; k++)
			if (strcmp(j->msg.rcpt[j->t[k].i].addr,
				   j->msg.rcpt[i].addr) == 0) {
				t->dup = true;
				t->same_as = k;
			}
		if (!t->dup)
			classify(j, t);
		j->n_t++;
	}
	j->load = QJ_LOADED;
}

void queue_job_set_user(struct queue_job *j, size_t k,
			const struct passwd_entry *e)
{
	struct queue_target *t = &j->t[k];
	t->have_user = e != NULL && deliver_user_from(&t->user, e) == 0;
}

static bool stop(struct queue_job *j, unsigned step)
{
	if (j->hooks != NULL && j->hooks->stop(j->hooks->arg, step))
		j->stopped = true;
	return j->stopped;
}

static void set_res(struct deliver_result *r, enum deliver_status st, int code,
		    const char *enh, const char *text)
{
	memset(r, 0, sizeof(*r));
	r->status = st;
	r->code = code;
	snprintf(r->enhanced, sizeof(r->enhanced), "%s", enh);
	snprintf(r->text, sizeof(r->text), "%s", text);
}

/* Deliver target t, or say why it cannot be. */
static void attempt(struct queue_job *j, struct queue_target *t)
{
	const struct queue_rcpt *r = &j->msg.rcpt[t->i];
	char path[sizeof(j->queue_dir) + SPOOL_ID_MAX + 8];
	if (j->untried) {
		set_res(&t->res, DELIVER_TEMP, 451, "4.3.0",
			"Queue state cannot be written");
		return;
	}
	if (!t->have_user) {
		if (!j->users_loaded)
			set_res(&t->res, DELIVER_TEMP, 451, "4.3.0",
				"User database unavailable");
		else if (t->postmaster) /* queue.postmaster names no user */
			set_res(&t->res, DELIVER_TEMP, 451, "4.3.0",
				"No mailbox for postmaster");
		else /* removed from the passwd-file since RCPT */
			set_res(&t->res, DELIVER_PERM, 550, "5.1.1",
				"User unknown");
		return;
	}
	snprintf(path, sizeof(path), "%s/new/%s", j->queue_dir, j->id);
	struct deliver_msg m = {.path = path,
				.offset = j->msg.offset,
				.return_path = j->msg.from,
				.rcpt = r->addr};
	bool check =
		j->check_all || r->in_flight || r->state == QUEUE_RCPT_DEFERRED;
	deliver_one(&j->cfg, &t->user, &m,
		    check ? DELIVER_CHECK : DELIVER_FRESH, &t->res);
}

/* The outcome of a result; a temporary failure past max_age is final. */
static void outcome(struct queue_job *j, struct queue_target *t)
{
	const struct queue_rcpt *r = &j->msg.rcpt[t->i];
	if (!t->local) {
		t->outcome = QUEUE_RCPT_REMOTE;
		return;
	}
	switch (t->res.status) {
	case DELIVER_OK:
		t->outcome = QUEUE_RCPT_DONE;
		return;
	case DELIVER_PERM:
		t->outcome = QUEUE_RCPT_FAILED;
		return;
	case DELIVER_TEMP:
		break;
	}
	if (j->now - j->msg.arrived >= (time_t)j->cfg.queue_max_age) {
		char text[sizeof(t->res.text)];
		snprintf(text, sizeof(text), "Delivery time expired: %.100s",
			 t->res.text);
		/* RFC 3463 X.4.7: delivery time expired */
		set_res(&t->res, DELIVER_PERM, 550, "5.4.7", text);
		t->outcome = QUEUE_RCPT_FAILED;
		return;
	}
	t->outcome = QUEUE_RCPT_DEFERRED;
	t->next_try = j->now + queue_job_backoff(&j->cfg, r->attempts + 1);
}

/* Apply the outcomes to the message's view; true if all are done. */
static bool apply(struct queue_job *j)
{
	bool all_done = true;
	j->next_try = 0;
	for (size_t k = 0; k < j->n_t; k++) {
		const struct queue_target *t = &j->t[k];
		struct queue_rcpt *r = &j->msg.rcpt[t->i];
		r->state = t->outcome;
		r->next_try = t->next_try;
		r->when = j->now;
		if (t->outcome == QUEUE_RCPT_FAILED ||
		    t->outcome == QUEUE_RCPT_DEFERRED) {
			r->code = t->res.code;
			snprintf(r->enhanced, sizeof(r->enhanced), "%s",
				 t->res.enhanced);
			snprintf(r->text, sizeof(r->text), "%s", t->res.text);
		}
	}
	for (size_t i = 0; i < j->msg.n_rcpt; i++) {
		const struct queue_rcpt *r = &j->msg.rcpt[i];
		all_done &= r->state == QUEUE_RCPT_DONE;
		if (r->state == QUEUE_RCPT_DEFERRED &&
		    (j->next_try == 0 || r->next_try < j->next_try))
			j->next_try = r->next_try;
	}
	return all_done;
}

static void record(struct queue_job *j)
{
	size_t cap = j->n_t * 512 + 1, len = 0;
	char *lines = malloc(cap);
	if (lines == NULL) {
		j->unrecorded = true;
		return;
	}
	for (size_t k = 0; k < j->n_t; k++) {
		const struct queue_target *t = &j->t[k];
		len += queue_state_record(
			lines + len, cap - len, t->outcome, t->i, j->now,
			t->next_try, t->res.code, t->res.enhanced, t->res.text);
	}
	if (queue_state_append(j->queue_dir, j->id, lines, len, true, j->err,
			       sizeof(j->err)) != 0)
		j->unrecorded = true;
	free(lines);
}

/* "try" for every delivery about to be made, before the first one. Not
 * fsync'd: see queue_file.h. Returns false if it could not be written,
 * and then nothing may be delivered. */
static bool write_tries(struct queue_job *j)
{
	size_t cap = j->n_t * 48 + 1, len = 0;
	char *lines = malloc(cap);
	if (lines == NULL)
		return false;
	for (size_t k = 0; k < j->n_t; k++)
		if (j->t[k].local && j->t[k].have_user && !j->t[k].dup)
			len += queue_state_try(lines + len, cap - len,
					       j->t[k].i, j->now);
	int rc = len == 0 ? 0
			  : queue_state_append(j->queue_dir, j->id, lines, len,
					       false, j->err, sizeof(j->err));
	free(lines);
	return rc == 0;
}

/* The notices owed (queue_dsn.h); false (unrecorded) if that failed. */
/* Nothing is left to do for the message: each recipient delivered or
 * failed for good. A failed one of a message from <> keeps it queued
 * instead: no notice goes back for it (queue_dsn.h), so the queue is
 * where the postmaster finds it (quill queue list). */
static bool finished(const struct queue_job *j)
{
	bool null_sender = j->msg.from == NULL || j->msg.from[0] == '\0';
	for (size_t i = 0; i < j->msg.n_rcpt; i++) {
		enum queue_rcpt_state st = j->msg.rcpt[i].state;
		if (st != QUEUE_RCPT_DONE &&
		    (st != QUEUE_RCPT_FAILED || null_sender))
			return false;
	}
	return true;
}

/* A recipient asked for a "delivered" notice (RFC 3461 5.2.3): the
 * removal of the message must be durable before its state's, or a crash
 * of the machine could make the notice owed twice (queue_file.h). */
static bool success_notified(const struct queue_job *j)
{
	for (size_t i = 0; i < j->msg.n_rcpt; i++)
		if (j->msg.rcpt[i].notify & SMTP_NOTIFY_SUCCESS)
			return true;
	return false;
}

static bool settle(struct queue_job *j)
{
	if (queue_dsn_settle(j) == 0)
		return true;
	j->unrecorded = true;
	return false;
}

void queue_job_run(struct queue_job *j)
{
	if (j->load != QJ_LOADED)
		return;
	if (!settle(j) || j->stopped) /* what a crash left first */
		return;
	j->untried = !write_tries(j); /* then: try again later */
	for (size_t k = 0; k < j->n_t; k++) {
		struct queue_target *t = &j->t[k];
		if (t->dup)
			continue;
		if (t->local) {
			if (stop(j, STEP_BEFORE(k)))
				return;
			attempt(j, t);
			if (stop(j, STEP_AFTER(k)))
				return;
		}
		outcome(j, t);
	}
	for (size_t k = 0; k < j->n_t; k++)
		if (j->t[k].dup) {
			struct queue_target *t = &j->t[k];
			const struct queue_target *o = &j->t[t->same_as];
			t->local = o->local;
			t->outcome = o->outcome;
			t->res = o->res;
			t->next_try = o->next_try;
		}
	if (stop(j, STEP_RECORD))
		return;
	bool all_done = apply(j);
	if (j->n_t > 0 && (!all_done || queue_dsn_owed(j)))
		record(j); /* before the notices, which follow from it */
	if (j->unrecorded || !settle(j) || j->stopped || !finished(j))
		return;
	/* every recipient delivered or failed for good, its notice queued:
	 * the message goes */
	if (queue_msg_remove(j->queue_dir, j->id,
			     !all_done || success_notified(j), j->err,
			     sizeof(j->err)) == 0)
		j->removed = true;
	else
		j->unrecorded = true;
}
