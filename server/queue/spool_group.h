/*
 * spool_group.h - group commit of spool files: the messages whose DATA
 * ends at about the same time share one fsync of the queue's new/
 * directory, and their files are flushed together.
 *
 * The guarantee is spool_commit()'s (spool.h): a message's done() reports
 * success only after its bytes and its rename into new/ are durable, so
 * the 250 that follows (RFC 5321 4.1.1.4, 6.1: the server takes
 * responsibility only once the message is safe) is never early.
 *
 * A batch is the commits that waited while the previous batch was being
 * synced, plus, when the committer was idle, those that arrive within
 * wait_ms of the first (config queue.group_commit_ms; 0 = start at once).
 * One batch is on the pool at a time. Per message: its seal written
 * (spool_seal.h), then, by spool_group_sync, either its fsync, checked
 * close and rename and one fsync of new/ for the batch (fsync), or its
 * rename and one syncfs() for the whole batch with a per-file check for
 * write errors (syncfs). A step that fails for one message fails only
 * that message; a failed fsync of new/ fails every message renamed in
 * the batch. done() calls come on the loop thread, in commit order.
 */
#ifndef QUILL_SERVER_SPOOL_GROUP_H
#define QUILL_SERVER_SPOOL_GROUP_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct pool;
struct spool_group;
struct spool_msg;

/* rc 0: durable in new/; -1: not committed (err says why; the file is
 * gone from tmp/ and, as far as it could be removed, from new/). */
typedef void spool_group_done_fn(void *arg, int rc, const char *err);

/* The system calls a batch makes, replaceable by tests to inject
 * failures; each returns 0 or -1 with errno set, as the real ones do. */
struct spool_group_io {
	int (*fsync)(int fd);
	int (*syncfs)(int fd);
	int (*wait_file)(int fd); /* sync_file_range(WAIT_BEFORE..AFTER) */
	int (*close)(int fd);
	int (*rename)(const char *from, const char *to);
	int (*fsync_dir)(const char *dir);
};

/* A committer for <queue_dir> (spool_init()'s directory), batches run on
 * pool, timers on base. NULL on error (message in err). */
struct spool_group *spool_group_new(struct event_base *base, struct pool *pool,
				    const char *queue_dir, unsigned wait_ms,
				    char *err, size_t errlen);
/* How a batch's files are made durable (config queue.sync). */
enum spool_group_sync {
	SPOOL_SYNC_FSYNC,  /* fsync each file, then new/ */
	SPOOL_SYNC_SYNCFS, /* rename, one syncfs, then each file checked
			    * for write errors */
};

/* A new wait (reload); batches started from now on use it. */
void spool_group_set_wait(struct spool_group *g, unsigned wait_ms);
/* The sync method for batches started from now on (default fsync). */
void spool_group_set_sync(struct spool_group *g, enum spool_group_sync sync);
/* Whether this kernel reports write errors to syncfs and per file to
 * sync_file_range (Linux 5.8 and later): syncfs is only safe there. */
bool spool_group_syncfs_usable(void);
/* Tests: use io instead of the system calls (NULL: the real ones). */
void spool_group_set_io(struct spool_group *g, const struct spool_group_io *io);

/* Commit *m (taken; *m becomes NULL). Returns 0: done(arg, ...) will be
 * called exactly once, later (never from inside this call), on the loop
 * thread. Returns -1 (out of memory, pool stopped): the message was
 * aborted and done is never called. */
int spool_group_commit(struct spool_group *g, struct spool_msg **m,
		       spool_group_done_fn *done, void *arg);

/* Commits waiting for a batch, plus those in the batch on the pool. */
size_t spool_group_pending(const struct spool_group *g);

/* Free the committer. Call after pool_free(), which finishes the batch
 * on the pool; commits still waiting are aborted and their done() is
 * called with rc -1. */
void spool_group_free(struct spool_group **g);

#endif
