/*
 * queue_job.h - one attempt at delivering one queued message, in three
 * steps so that nothing the event loop owns is touched off it:
 *
 *   queue_job_load()   pool: read the spool envelope and the state file,
 *                      pick the recipients to try now
 *   (the caller)       loop: find each local recipient's user in the
 *                      passwd-file: queue_job_user_name(), _set_user()
 *   queue_job_run()    pool: deliver (deliver.h), then record: all done,
 *                      the message is removed; otherwise the outcomes are
 *                      appended to the state file (queue_file.h)
 *
 * Recipients: local ones are delivered into their user's INBOX with the
 * envelope's MAIL FROM as Return-Path; another domain is recorded
 * "remote" and left for outbound relaying; an address repeated in the
 * envelope is delivered once. A temporary failure is retried after
 * retry_min seconds, doubled on each failure up to retry_max, until the
 * message is max_age old: then it is permanent (RFC 5321 4.5.4.1). A
 * permanent failure is recorded and logged; no bounce is sent yet.
 *
 * Exactly once: before its first delivery a job appends a "try" record
 * for each recipient it is about to deliver; the outcomes follow once the
 * deliveries are made. A recipient whose "try" has no outcome after it
 * may have been delivered by a process that died: it is delivered with
 * DELIVER_CHECK, which first looks for it in the INBOX (deliver.h). So is
 * one that failed before (a failed commit may still leave the message),
 * and, with check_all, every recipient not done: the runner asks for that
 * when the records cannot be trusted (after a reboot, queue_file.h).
 */
#ifndef QUILL_SERVER_QUEUE_JOB_H
#define QUILL_SERVER_QUEUE_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "config.h"
#include "queue/deliver.h"
#include "queue/queue_file.h"

struct passwd_entry;

/* A recipient to try now. */
struct queue_target {
	size_t i;	/* in the envelope */
	bool local;	/* else: remote, recorded as such */
	bool have_user; /* set by the caller (loop thread) */
	bool dup;	/* same address as target same_as: once only */
	size_t same_as;
	char lookup[PASSWD_USER_MAX + 1]; /* the user name to look up */
	bool postmaster;		  /* the address was postmaster */
	struct deliver_user user;
	/* after run */
	enum queue_rcpt_state outcome;
	struct deliver_result res;
	time_t next_try;
};

/* A test can stop a job at step k, as a crash would (0 = go on). */
struct queue_job_hooks {
	bool (*stop)(void *arg, unsigned step);
	void *arg;
};

/* QJ_TORN: the spool file failed its seal and was moved to torn/ */
enum queue_job_load { QJ_LOADED, QJ_GONE, QJ_BAD, QJ_TORN };

struct queue_job {
	/* in */
	char queue_dir[CONFIG_PATH_MAX + 8];
	char id[SPOOL_ID_MAX];
	struct quilld_config cfg; /* a copy: reloads change the host's */
	bool check_all;		  /* records may be lost: check all */
	bool users_loaded;	  /* the caller has a passwd-file loaded */
	time_t now;
	const struct queue_job_hooks *hooks; /* tests only */
	/* after load */
	enum queue_job_load load;
	char err[512];
	struct queue_msg msg;
	struct queue_target *t;
	size_t n_t;
	/* after run */
	bool removed;	 /* every recipient done: the message is gone */
	bool unrecorded; /* the outcomes could not be written */
	time_t next_try; /* earliest retry; 0: nothing left to retry */
	bool stopped;	 /* a hook stopped it */
	bool untried;	 /* the "try" records could not be written */
};

/* Fill in from the caller, then load (on the pool). */
void queue_job_init(struct queue_job *j, const char *queue_dir, const char *id,
		    const struct quilld_config *cfg, bool check_all,
		    time_t now);
void queue_job_load(struct queue_job *j);
/* Loop thread: the user of target k, NULL if unknown. */
void queue_job_set_user(struct queue_job *j, size_t k,
			const struct passwd_entry *e);
void queue_job_run(struct queue_job *j);
void queue_job_free(struct queue_job *j);

/* Seconds to wait after the n-th temporary failure (n >= 1). */
time_t queue_job_backoff(const struct quilld_config *cfg, unsigned n);

#endif
