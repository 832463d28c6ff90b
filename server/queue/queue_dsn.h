/*
 * queue_dsn.h - delivery status notifications for queued messages: which
 * recipients are owed one, and putting the notice (dsn.h) into the queue
 * exactly once, as a message of its own, delivered like any other.
 *
 * Owed (RFC 3461 5.2.3, 5.2.5, 5.2.6, 6.1; RFC 5321 4.5.5, 6.1): never
 * for a message with the null reverse-path (so a notice that fails is
 * never answered by another: it stays in the queue, failed, and is
 * logged); "failed" for a recipient failed for good unless NOTIFY was
 * given without FAILURE (NEVER included); "delivered" for one delivered
 * whose NOTIFY has SUCCESS; "delayed", once, for one still deferred
 * queue.delay_warning seconds after the message arrived (0: never) whose
 * NOTIFY has DELAY or was not given. Every recipient owed one when a job
 * settles, and only those (RFC 3461 5.2.8), goes into one notice, sent
 * with MAIL FROM:<> to the message's sender; a remote sender's notice
 * waits in the queue, as remote mail does.
 *
 * Exactly once. The outcomes that make a notice owed are recorded
 * (fsync'd) first, so what is owed is a function of the state file.
 * Notice number n of message <id> has the queue id <id>N<n>, n one more
 * than the highest recorded. It is written to <queue>/tmp, fsync'd and
 * renamed to <queue>/dsn/<id>N<n> (dsn/ fsync'd), where the runner does
 * not look; then a "dsn" record per recipient is appended (fsync'd);
 * then the file is renamed into new/ (new/ fsync'd). A crash before the
 * records leaves an unrecorded file in dsn/ that the next attempt
 * replaces (same name, same recipients owed); a crash after them leaves
 * a recorded notice in dsn/, which the next job on the message moves
 * into new/ before anything else. So no notice is lost or made twice.
 */
#ifndef QUILL_SERVER_QUEUE_DSN_H
#define QUILL_SERVER_QUEUE_DSN_H

#include <stdbool.h>

struct queue_job;

/* Whether a recipient of j->msg is owed a notice now. */
bool queue_dsn_owed(const struct queue_job *j);

/* Move recorded notices still in dsn/ into new/, then make, record and
 * queue the notice owed, if any (each queued id is added to j->dsn_ids).
 * Blocking: the pool. Returns 0, or -1 with j->err. */
int queue_dsn_settle(struct queue_job *j);

#endif
