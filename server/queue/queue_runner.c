/*
 * queue_runner.c - the queue runner (see queue_runner.h): a table of the
 * queued messages, a timer for retries and rescans, and the jobs on the
 * worker pool (queue_job.h) that deliver them. Everything here runs on
 * the loop thread except the work functions handed to the pool.
 */
#include "queue_runner.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "engine.h"
#include "log.h"
#include "passwd.h"
#include "pool.h"
#include "queue/queue_job.h"

#define BUCKETS	    4096
#define RESCAN_SECS 60

struct qentry {
	char id[SPOOL_ID_MAX];
	time_t next_try;
	bool check_all; /* found after a reboot: check every recipient */
	bool running;
	bool parked; /* nothing to retry: not in the active list */
	struct qentry *hnext;
	struct qentry *anext, *aprev;
};

struct queue_runner {
	struct event_base *base;
	struct host_services *svc;
	struct event *timer;
	struct qentry *buckets[BUCKETS];
	struct qentry *active;
	size_t n, running;
	bool stopping, scanning;
	time_t next_scan;
	bool trusted;	    /* the state records are all there (boot-id) */
	bool trust_writing; /* boot-id being written */
	size_t unchecked;   /* check_all entries not done with yet */
};

struct rjob {
	struct queue_runner *r;
	struct qentry *e;
	struct queue_job job;
};

struct scan {
	struct queue_runner *r;
	char queue_dir[CONFIG_PATH_MAX + 8];
	bool first;
	bool trusted;
	int tidied;
	char **ids;
	size_t n;
	int rc;
	char err[512];
};

static void schedule(struct queue_runner *r);
static void maybe_trust(struct queue_runner *r);

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	schedule(arg);
}

static unsigned hash(const char *id)
{
	unsigned h = 2166136261u; /* FNV-1a */
	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 16777619u;
	return h % BUCKETS;
}

static struct qentry *find(struct queue_runner *r, const char *id)
{
	for (struct qentry *e = r->buckets[hash(id)]; e != NULL; e = e->hnext)
		if (strcmp(e->id, id) == 0)
			return e;
	return NULL;
}

static void activate(struct queue_runner *r, struct qentry *e)
{
	if (!e->parked)
		return;
	e->parked = false;
	e->aprev = NULL;
	e->anext = r->active;
	if (r->active != NULL)
		r->active->aprev = e;
	r->active = e;
}

static void park(struct queue_runner *r, struct qentry *e)
{
	if (e->parked)
		return;
	if (e->aprev != NULL)
		e->aprev->anext = e->anext;
	else
		r->active = e->anext;
	if (e->anext != NULL)
		e->anext->aprev = e->aprev;
	e->anext = e->aprev = NULL;
	e->parked = true;
}

static struct qentry *add(struct queue_runner *r, const char *id,
			  bool check_all)
{
	struct qentry *e = calloc(1, sizeof(*e));
	if (e == NULL) {
		log_error(id, "queue.no_memory");
		return NULL;
	}
	snprintf(e->id, sizeof(e->id), "%s", id);
	e->check_all = check_all;
	r->unchecked += check_all;
	e->parked = true;
	unsigned b = hash(id);
	e->hnext = r->buckets[b];
	r->buckets[b] = e;
	r->n++;
	activate(r, e);
	return e;
}

static void drop(struct queue_runner *r, struct qentry *e)
{
	park(r, e);
	for (struct qentry **p = &r->buckets[hash(e->id)]; *p != NULL;
	     p = &(*p)->hnext)
		if (*p == e) {
			*p = e->hnext;
			break;
		}
	r->n--;
	free(e);
}

struct queue_runner *queue_runner_new(struct event_base *base,
				      struct host_services *svc, char *err,
				      size_t errlen)
{
	struct queue_runner *r = calloc(1, sizeof(*r));
	if (r != NULL)
		r->timer = evtimer_new(base, timer_cb, r);
	if (r == NULL || r->timer == NULL) {
		snprintf(err, errlen, "queue runner: out of memory");
		free(r);
		return NULL;
	}
	r->base = base;
	r->svc = svc;
	return r;
}

void queue_runner_free(struct queue_runner **rp)
{
	struct queue_runner *r = *rp;
	if (r == NULL)
		return;
	for (size_t b = 0; b < BUCKETS; b++)
		while (r->buckets[b] != NULL) {
			struct qentry *e = r->buckets[b];
			r->buckets[b] = e->hnext;
			free(e);
		}
	event_free(r->timer);
	free(r);
	*rp = NULL;
}

size_t queue_runner_count(const struct queue_runner *r, size_t *running_r)
{
	if (running_r != NULL)
		*running_r = r->running;
	return r->n;
}

void queue_runner_stop(struct queue_runner *r)
{
	if (r == NULL)
		return;
	r->stopping = true;
	evtimer_del(r->timer);
}

/* ---- scanning the queue directory ---------------------------------------- */

static void scan_work(void *arg)
{
	struct scan *s = arg;
	if (s->first) {
		s->tidied = queue_state_tidy(s->queue_dir);
		s->trusted = queue_records_trusted(s->queue_dir);
	}
	s->rc = queue_list_ids(s->queue_dir, &s->ids, &s->n, s->err,
			       sizeof(s->err));
}

/* What is on disk and not known here is in doubt (module comment). */
static void scan_done(void *arg)
{
	struct scan *s = arg;
	struct queue_runner *r = s->r;
	size_t added = 0;
	r->scanning = false;
	if (s->first)
		r->trusted = s->trusted;
	if (s->rc != 0)
		log_error(NULL, "queue.scan_failed %s", s->err);
	for (size_t i = 0; i < s->n; i++)
		if (find(r, s->ids[i]) == NULL &&
		    add(r, s->ids[i], !r->trusted))
			added++;
	if (s->first || added > 0)
		log_info(NULL,
			 "queue.scan queued=%zu new=%zu tidied=%d "
			 "records_trusted=%d",
			 s->n, added, s->tidied, r->trusted);
	queue_ids_free(s->ids, s->n);
	free(s);
	maybe_trust(r); /* nothing found after a reboot */
	schedule(r);
}

static void scan(struct queue_runner *r, bool first)
{
	struct scan *s = calloc(1, sizeof(*s));
	r->next_scan = time(NULL) + RESCAN_SECS;
	if (s == NULL)
		return;
	s->r = r;
	s->first = first;
	snprintf(s->queue_dir, sizeof(s->queue_dir), "%s", r->svc->queue_dir);
	if (pool_submit(r->svc->pool, scan_work, scan_done, s) != 0) {
		free(s);
		return;
	}
	r->scanning = true;
}

void queue_runner_start(struct queue_runner *r)
{
	scan(r, true);
}

void queue_runner_kick(struct queue_runner *r, const char *id)
{
	if (r == NULL || r->stopping)
		return;
	struct qentry *e = find(r, id);
	if (e == NULL)
		e = add(r, id, false);
	if (e == NULL)
		return;
	e->next_try = 0;
	activate(r, e);
	schedule(r);
}

/* ---- one message's job --------------------------------------------------- */

static void log_outcomes(const struct queue_job *j)
{
	for (size_t k = 0; k < j->n_t; k++) {
		const struct queue_target *t = &j->t[k];
		const char *to = j->msg.rcpt[t->i].addr;
		const struct deliver_result *res = &t->res;
		switch (t->outcome) {
		case QUEUE_RCPT_DONE:
			log_info(j->id, "queue.delivered to=<%s> user=%s%s", to,
				 t->user.name,
				 res->already ? " already=1" : "");
			break;
		case QUEUE_RCPT_DEFERRED:
			log_info(j->id,
				 "queue.deferred to=<%s> code=%d text=\"%s\" "
				 "detail=\"%s\" retry_in=%lld",
				 to, res->code, res->text, res->detail,
				 (long long)(t->next_try - j->now));
			break;
		case QUEUE_RCPT_FAILED: /* bounces: not generated yet */
			log_warn(j->id,
				 "queue.failed to=<%s> code=%d enhanced=%s "
				 "text=\"%s\" detail=\"%s\"",
				 to, res->code, res->enhanced, res->text,
				 res->detail);
			break;
		case QUEUE_RCPT_REMOTE:
			log_info(j->id, "queue.remote to=<%s> waits=outbound",
				 to);
			break;
		case QUEUE_RCPT_PENDING:
			break;
		}
	}
}

static void checked(struct queue_runner *r, struct qentry *e);

/* The job is over; gone: the message left the queue (entry dropped). */
static void job_finished(struct rjob *rj, bool gone)
{
	struct queue_runner *r = rj->r;
	r->running--;
	rj->e->running = false;
	if (gone) {
		checked(r, rj->e);
		drop(r, rj->e);
	}
	queue_job_free(&rj->job);
	free(rj);
	schedule(r);
}

static void run_work(void *arg)
{
	queue_job_run(&((struct rjob *)arg)->job);
}

struct trust {
	struct queue_runner *r;
	char queue_dir[CONFIG_PATH_MAX + 8];
	int rc;
	char err[512];
};

/* boot-id written: from now on the records are trusted (queue_file.h) */
static void trust_work(void *arg)
{
	struct trust *t = arg;
	t->rc = queue_records_trust(t->queue_dir, t->err, sizeof(t->err));
}

static void trust_done(void *arg)
{
	struct trust *t = arg;
	t->r->trust_writing = false;
	if (t->rc != 0) {
		log_error(NULL, "queue.trust_failed %s", t->err);
	} else {
		t->r->trusted = true;
		log_info(NULL, "queue.records_trusted");
	}
	free(t);
}

/* Once nothing found after a reboot is left unchecked, write boot-id. */
static void maybe_trust(struct queue_runner *r)
{
	if (r->unchecked > 0 || r->trusted || r->trust_writing || r->stopping)
		return;
	struct trust *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return;
	t->r = r;
	snprintf(t->queue_dir, sizeof(t->queue_dir), "%s", r->svc->queue_dir);
	if (pool_submit(r->svc->pool, trust_work, trust_done, t) == 0)
		r->trust_writing = true;
	else
		free(t);
}

/* An entry found after a reboot has had its full check. */
static void checked(struct queue_runner *r, struct qentry *e)
{
	if (!e->check_all)
		return;
	e->check_all = false;
	r->unchecked--;
	maybe_trust(r);
}

static void run_done(void *arg)
{
	struct rjob *rj = arg;
	struct queue_job *j = &rj->job;
	struct qentry *e = rj->e;
	log_outcomes(j);
	if (j->removed) {
		log_info(j->id, "queue.removed");
	} else if (j->unrecorded) { /* the "try" records say to check */
		log_error(j->id, "queue.record_failed %s", j->err);
		e->next_try = j->now + (time_t)j->cfg.queue_retry_min;
	} else {
		checked(rj->r, e);
		e->next_try = j->next_try;
		if (j->next_try == 0)
			park(rj->r, e); /* only failed or remote left */
	}
	job_finished(rj, j->removed);
}

static void load_work(void *arg)
{
	queue_job_load(&((struct rjob *)arg)->job);
}

/* Loop thread: the users of the local recipients, then deliver. */
static void load_done(void *arg)
{
	struct rjob *rj = arg;
	struct queue_runner *r = rj->r;
	struct queue_job *j = &rj->job;
	if (j->load == QJ_GONE) { /* delivered and removed meanwhile */
		job_finished(rj, true);
		return;
	}
	if (j->load == QJ_TORN) { /* spool_seal.h: never acknowledged */
		log_error(j->id, "queue.torn %s; moved to torn/", j->err);
		job_finished(rj, true);
		return;
	}
	if (j->load == QJ_BAD) { /* nothing can be delivered from it */
		log_error(j->id, "queue.unreadable %s", j->err);
		checked(r, rj->e);
		park(r, rj->e);
		job_finished(rj, false);
		return;
	}
	j->users_loaded = r->svc->users != NULL;
	for (size_t k = 0; k < j->n_t; k++) {
		const struct queue_target *t = &j->t[k];
		if (t->local && !t->dup && t->lookup[0] != '\0' &&
		    r->svc->users != NULL)
			queue_job_set_user(
				j, k,
				passwd_db_lookup(r->svc->users, t->lookup));
	}
	if (pool_submit(r->svc->pool, run_work, run_done, rj) != 0) {
		rj->e->next_try = time(NULL) + 1; /* stopping: next start */
		job_finished(rj, false);
	}
}

static void start_job(struct queue_runner *r, struct qentry *e, time_t now)
{
	struct rjob *rj = calloc(1, sizeof(*rj));
	if (rj == NULL) {
		e->next_try = now + 1;
		return;
	}
	rj->r = r;
	rj->e = e;
	queue_job_init(&rj->job, r->svc->queue_dir, e->id, r->svc->cfg,
		       e->check_all, now);
	if (pool_submit(r->svc->pool, load_work, load_done, rj) != 0) {
		free(rj);
		e->next_try = now + 1;
		return;
	}
	e->running = true;
	r->running++;
}

/* The oldest due message, or NULL; *wake_r is the next retry time. */
static struct qentry *next_due(struct queue_runner *r, time_t now,
			       time_t *wake_r)
{
	struct qentry *best = NULL;
	for (struct qentry *e = r->active; e != NULL; e = e->anext) {
		if (e->running)
			continue;
		if (e->next_try > now) {
			if (*wake_r == 0 || e->next_try < *wake_r)
				*wake_r = e->next_try;
			continue;
		}
		if (best == NULL || e->next_try < best->next_try)
			best = e;
	}
	return best;
}

/* Start what is due (up to queue.parallel), then sleep until the next
 * retry or rescan. Also the timer's callback. */
static void schedule(struct queue_runner *r)
{
	if (r->stopping)
		return;
	time_t now = time(NULL), wake = 0;
	if (now >= r->next_scan && !r->scanning)
		scan(r, false);
	for (;;) {
		wake = 0;
		struct qentry *e = next_due(r, now, &wake);
		if (e == NULL || r->running >= r->svc->cfg->queue_parallel)
			break;
		start_job(r, e, now);
		if (!e->running)
			break; /* the pool refused: try again later */
	}
	if (wake == 0 || wake > r->next_scan)
		wake = r->next_scan;
	struct timeval tv = {.tv_sec = wake > now ? wake - now : 1};
	evtimer_add(r->timer, &tv);
}
