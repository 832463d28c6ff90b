/*
 * queue_runner.h - quilld's queue runner: every message in
 * <state_dir>/queue/new is delivered to its local recipients on the
 * worker pool (queue_job.h), soon after its 250 and again at start-up.
 *
 * The runner keeps a table of the queued messages it knows (loop thread
 * only). A message committed by this process is named to it by
 * queue_runner_kick(); the scan at start-up finds what earlier processes
 * left, and a rescan every minute anything else. A recipient whose
 * delivery a dead process had begun ("try" record, no outcome) is looked
 * for in its INBOX before it is delivered (queue_job.h, deliver.h). If
 * the kernel restarted since the records were known complete (boot-id,
 * queue_file.h), every recipient not done of every message found at
 * start-up is looked for, and once all of them have been, boot-id is
 * written for the running kernel.
 *
 * At most queue.parallel messages are worked on at once; a message whose
 * recipients failed for now waits for its next retry time; one whose
 * recipients are all done is removed; one left with only permanent
 * failures and remote recipients is parked (kept, not retried). A
 * delivery status notice a job queued (queue_dsn.h) is named to the
 * runner as a fresh message is.
 */
#ifndef QUILL_SERVER_QUEUE_RUNNER_H
#define QUILL_SERVER_QUEUE_RUNNER_H

#include <stddef.h>

struct event_base;
struct host_services;
struct queue_runner;

/* svc (its cfg, users, pool and queue_dir) must outlive the runner. */
struct queue_runner *queue_runner_new(struct event_base *base,
				      struct host_services *svc, char *err,
				      size_t errlen);
/* Scan the queue (on the pool) and deliver what is there. */
void queue_runner_start(struct queue_runner *r);
/* A message was just committed: deliver it now (it is fresh). */
void queue_runner_kick(struct queue_runner *r, const char *id);
/* Start no more work (shutdown); what runs finishes on the pool. */
void queue_runner_stop(struct queue_runner *r);
/* After the pool is gone. */
void queue_runner_free(struct queue_runner **r);

/* Messages known, and being worked on (for logs and tests). */
size_t queue_runner_count(const struct queue_runner *r, size_t *running_r);

#endif
