/*
 * spool_group.c - group commit of spool files (see spool_group.h).
 *
 * The loop thread owns the committer: the list of commits waiting, the
 * timer, and whether a batch is out. A batch, once handed to the pool,
 * belongs to the worker until its done() runs back on the loop; so no
 * lock is needed. Whatever the mode, nobody is told before the data
 * and the rename of the message are durable.
 *
 * Making a batch durable (batch_work() below has the steps): every file
 * is sealed first (spool_seal.h). With SPOOL_SYNC_FSYNC each file is
 * fsync'd before its rename and new/ after them; on ext4 every fsync
 * issues a cache flush to the device, so N files cost N + 1 flushes.
 * With SPOOL_SYNC_SYNCFS the files are renamed with their data still in
 * the page cache (write-back started) and one syncfs() then writes and
 * flushes the whole file system, data and renames together: one flush
 * per batch, even a batch of one. Each file is then waited on with
 * sync_file_range(WAIT_AFTER), which reports a write-back error of that
 * very file since it was opened (the per-file error cursor fsync uses,
 * Linux >= 4.15) without another flush, so an I/O error still fails only
 * the message it hit. If syncfs fails, every file and new/ are fsync'd
 * instead.
 */
#include "spool_group.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "pool.h"
#include "spool.h"
#include "spool_internal.h"

struct commit {
	struct spool_msg *m;
	spool_group_done_fn *done;
	void *arg;
	int rc;
	bool renamed;
	char err[1280]; /* what, a path of up to 1023, why */
	struct commit *next;
};

struct commit_list {
	struct commit *head, *tail;
	size_t n;
};

struct spool_group {
	struct pool *pool;
	struct event *timer;
	char newdir[1024];
	unsigned wait_ms;
	enum spool_group_sync sync;
	struct spool_group_io io;
	struct commit_list waiting; /* not yet in a batch */
	size_t in_batch;	    /* commits in the batch on the pool */
	bool busy;		    /* a batch is out or the timer runs */
};

struct batch {
	struct spool_group *g;
	struct spool_group_io io;
	enum spool_group_sync sync;
	bool synced_fs; /* syncfs succeeded: files are only waited on */
	struct commit_list list;
};

static int real_close(int fd)
{
	return close(fd);
}

/* Wait for a file's write-back; its error since open, if any. */
static int real_wait_file(int fd)
{
	return sync_file_range(fd, 0, 0,
			       SYNC_FILE_RANGE_WAIT_BEFORE |
				       SYNC_FILE_RANGE_WRITE |
				       SYNC_FILE_RANGE_WAIT_AFTER);
}

static const struct spool_group_io real_io = {
	.fsync = fsync,
	.syncfs = syncfs,
	.wait_file = real_wait_file,
	.close = real_close,
	.rename = rename,
	.fsync_dir = spool_fsync_dir,
};

static void list_push(struct commit_list *l, struct commit *c)
{
	c->next = NULL;
	if (l->tail != NULL)
		l->tail->next = c;
	else
		l->head = c;
	l->tail = c;
	l->n++;
}

static void fail(struct commit *c, const char *what, const char *path, int err)
{
	c->rc = -1;
	snprintf(c->err, sizeof(c->err), "%s %s: %s", what, path,
		 strerror(err));
}

/* Worker: seal each file (spool_seal.h); one that cannot be sealed
 * fails, and its fd is closed. */
static void seal_files(struct batch *b)
{
	for (struct commit *c = b->list.head; c != NULL; c = c->next)
		if (spool_seal_write(c->m) != 0) {
			fail(c, "cannot write", c->m->tmp, errno);
			b->io.close(c->m->fd);
			c->m->fd = -1;
		}
}

/* Worker: rename each file still good into new/; the count renamed. */
static size_t rename_files(struct batch *b)
{
	size_t renamed = 0;
	for (struct commit *c = b->list.head; c != NULL; c = c->next) {
		if (c->rc != 0)
			continue;
		if (b->io.rename(c->m->tmp, c->m->final) != 0) {
			fail(c, "cannot rename", c->m->tmp, errno);
			continue;
		}
		c->renamed = true;
		renamed++;
	}
	return renamed;
}

/* Worker: judge and close each open file: with the file system synced,
 * by its own write-back error; else by an fsync of it. */
static void settle_files(struct batch *b)
{
	for (struct commit *c = b->list.head; c != NULL; c = c->next) {
		int fd = c->m->fd;
		if (fd < 0)
			continue;
		c->m->fd = -1;
		if (c->rc != 0) {
			b->io.close(fd);
		} else if ((b->synced_fs ? b->io.wait_file(fd)
					 : b->io.fsync(fd)) != 0) {
			fail(c, b->synced_fs ? "cannot write" : "cannot fsync",
			     c->m->tmp, errno);
			b->io.close(fd);
		} else if (b->io.close(fd) != 0) {
			fail(c, "cannot close", c->m->tmp, errno);
		}
	}
}

/* A file of the batch still open (renamed ones are): syncfs takes any
 * file of the file system. */
static int any_fd(const struct batch *b)
{
	for (const struct commit *c = b->list.head; c != NULL; c = c->next)
		if (c->m->fd >= 0)
			return c->m->fd;
	return -1;
}

/* Worker: fsync new/ once for the batch; if that fails, fail every
 * message renamed (see below). */
static void sync_newdir(struct batch *b)
{
	if (b->io.fsync_dir(b->g->newdir) == 0)
		return;
	int e = errno;
	for (struct commit *c = b->list.head; c != NULL; c = c->next)
		if (c->renamed && c->rc == 0)
			fail(c, "cannot fsync", b->g->newdir, e);
}

/*
 * Worker: the whole batch.
 *
 * fsync mode, the order of spool_commit(): each file sealed and fsync'd,
 * closed, renamed, then new/ fsync'd: two flushes for one message.
 *
 * syncfs mode: each file sealed, its write-back started, renamed; then
 * one syncfs() makes the data and the renames durable together: one
 * flush for the batch, even a batch of one. Until it returns, new/ may
 * hold a file the disk has only part of; its seal tells it apart after a
 * crash, and it was never acknowledged. If syncfs fails, each file is
 * fsync'd and new/ too, as in fsync mode.
 *
 * A message that fails after its rename is taken back out of new/, so
 * the client's retry is the only copy unless we crash first (RFC 5321
 * 6.1 allows that one).
 */
static void batch_work(void *arg)
{
	struct batch *b = arg;
	struct commit *c;
	seal_files(b);
	if (b->sync == SPOOL_SYNC_SYNCFS) {
		for (c = b->list.head; c != NULL; c = c->next)
			if (c->rc == 0)
				(void)sync_file_range(c->m->fd, 0, 0,
						      SYNC_FILE_RANGE_WRITE);
		size_t renamed = rename_files(b);
		if (renamed > 0)
			b->synced_fs = b->io.syncfs(any_fd(b)) == 0;
		settle_files(b);
		if (renamed > 0 && !b->synced_fs)
			sync_newdir(b);
	} else {
		settle_files(b);
		if (rename_files(b) > 0)
			sync_newdir(b);
	}
	for (c = b->list.head; c != NULL; c = c->next) {
		if (c->rc == 0)
			continue;
		if (c->renamed)
			(void)unlink(c->m->final);
		else
			(void)unlink(c->m->tmp); /* never acknowledged */
	}
}

/* Loop thread: tell each waiter, in order, and free the commits. */
static void finish(struct commit_list *l)
{
	struct commit *c = l->head;
	while (c != NULL) {
		struct commit *next = c->next;
		free(c->m);
		c->done(c->arg, c->rc, c->rc == 0 ? "" : c->err);
		free(c);
		c = next;
	}
	l->head = l->tail = NULL;
	l->n = 0;
}

/* Loop thread: fail commits that never reached the disk. */
static void abort_all(struct commit_list *l, const char *why)
{
	for (struct commit *c = l->head; c != NULL; c = c->next) {
		c->rc = -1;
		snprintf(c->err, sizeof(c->err), "%s", why);
		spool_abort(&c->m);
	}
	finish(l);
}

static void batch_done(void *arg);

/* Loop thread: hand every waiting commit to the pool as one batch.
 * -1 if it could not: the commits stay waiting and the group idle. */
static int launch(struct spool_group *g)
{
	struct batch *b = calloc(1, sizeof(*b));
	if (b == NULL)
		return -1;
	b->g = g;
	b->io = g->io;
	b->sync = g->sync;
	b->list = g->waiting;
	if (pool_submit(g->pool, batch_work, batch_done, b) != 0) {
		free(b);
		g->busy = false;
		return -1;
	}
	g->waiting = (struct commit_list){0};
	g->in_batch = b->list.n;
	g->busy = true;
	return 0;
}

/* Loop thread: launch, or fail every waiting commit. */
static void launch_or_fail(struct spool_group *g)
{
	if (launch(g) != 0) {
		struct commit_list l = g->waiting;
		g->waiting = (struct commit_list){0};
		abort_all(&l, "cannot start a commit (pool stopped?)");
	}
}

/* Loop thread: a batch is done; the next one holds whoever came
 * meanwhile (they have waited one sync already: no timer). */
static void batch_done(void *arg)
{
	struct batch *b = arg;
	struct spool_group *g = b->g;
	size_t failed = 0;
	for (struct commit *c = b->list.head; c != NULL; c = c->next)
		failed += c->rc != 0;
	log_debug(NULL, "spool.group_commit messages=%zu failed=%zu sync=%s",
		  b->list.n, failed, b->synced_fs ? "syncfs" : "fsync");
	g->in_batch = 0;
	g->busy = false;
	finish(&b->list);
	free(b);
	if (g->waiting.n > 0 && !g->busy)
		launch_or_fail(g);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	launch_or_fail(arg);
}

struct spool_group *spool_group_new(struct event_base *base, struct pool *pool,
				    const char *queue_dir, unsigned wait_ms,
				    char *err, size_t errlen)
{
	struct spool_group *g = calloc(1, sizeof(*g));
	if (g == NULL || (g->timer = evtimer_new(base, timer_cb, g)) == NULL) {
		snprintf(err, errlen, "spool group: out of memory");
		free(g);
		return NULL;
	}
	g->pool = pool;
	g->wait_ms = wait_ms;
	g->sync = SPOOL_SYNC_FSYNC;
	g->io = real_io;
	snprintf(g->newdir, sizeof(g->newdir), "%s/new", queue_dir);
	return g;
}

void spool_group_set_wait(struct spool_group *g, unsigned wait_ms)
{
	g->wait_ms = wait_ms;
}

void spool_group_set_sync(struct spool_group *g, enum spool_group_sync sync)
{
	g->sync = sync;
}

bool spool_group_syncfs_usable(void)
{
	struct utsname u;
	unsigned major = 0, minor = 0;
	if (uname(&u) != 0 || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return false;
	/* 5.8: syncfs reports write-back errors (errseq on the super
	 * block); 4.15: sync_file_range reports them per file */
	return major > 5 || (major == 5 && minor >= 8);
}

void spool_group_set_io(struct spool_group *g, const struct spool_group_io *io)
{
	g->io = io != NULL ? *io : real_io;
}

int spool_group_commit(struct spool_group *g, struct spool_msg **m,
		       spool_group_done_fn *done, void *arg)
{
	struct commit *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		spool_abort(m);
		return -1;
	}
	c->m = *m;
	*m = NULL;
	c->done = done;
	c->arg = arg;
	list_push(&g->waiting, c);
	if (g->busy)
		return 0; /* the running batch or the timer takes it */
	/* idle: c is the only one waiting */
	struct timeval tv = {.tv_sec = g->wait_ms / 1000,
			     .tv_usec = (long)(g->wait_ms % 1000) * 1000};
	if (g->wait_ms > 0 && evtimer_add(g->timer, &tv) == 0) {
		g->busy = true;
		return 0;
	}
	if (launch(g) == 0)
		return 0;
	g->waiting = (struct commit_list){0};
	spool_abort(&c->m);
	free(c);
	return -1;
}

size_t spool_group_pending(const struct spool_group *g)
{
	return g->waiting.n + g->in_batch;
}

void spool_group_free(struct spool_group **gp)
{
	struct spool_group *g = *gp;
	if (g == NULL)
		return;
	event_free(g->timer);
	abort_all(&g->waiting, "shutting down");
	free(g);
	*gp = NULL;
}
