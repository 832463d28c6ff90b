/*
 * mbox_expunge.c - removing messages from an mbox, crash-safely and in
 * place (the file keeps its inode, so other programs that hold it open
 * or wait on its fcntl lock still see the right file).
 *
 * Under the lock, with a write lock from the first expunged message on:
 *  1. everything after that point that stays is copied to a temporary
 *     file ".<name>.quill-expunge", which is fsync'd;
 *  2. a journal ".<name>.quill-journal" naming the start offset, the
 *     length and a hash of the temporary file is written atomically
 *     (temp + rename + fsync): from here on the expunge will complete;
 *  3. the temporary file is copied over the mbox from the start offset,
 *     the mbox is cut to its new length and fsync'd;
 *  4. the journal is removed (directory fsync'd), then the index written.
 * A crash before 2 leaves the mbox untouched; after 2, the next lock
 * taker replays 3 and 4 (mbox_lock.c) - the copy is idempotent. If the
 * index is older than the file, the next sync matches the messages by
 * fingerprint, so they keep their UIDs.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "mbox.h"
#include "store/store_fs.h"
#include "store/store_util.h"

static bool listed(const uint32_t *uids, size_t n, uint32_t uid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (uids[mid] == uid)
			return true;
		if (uids[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Copy [from, to) of the mbox to out, hashing it. */
static int copy_range(int in, int out, uint64_t from, uint64_t to,
		      uint64_t *hash)
{
	char buf[65536];

	while (from < to) {
		size_t want = to - from < sizeof(buf) ? (size_t)(to - from)
						      : sizeof(buf);

		if (store_pread_full(in, buf, want, (off_t)from) !=
			    (ssize_t)want ||
		    store_write_all(out, buf, want) != 0)
			return -1;
		*hash = store_hash(*hash, buf, want);
		from += want;
	}
	return 0;
}

/* Steps 1 and 2; new offsets of the kept records go to recs. */
static int prepare(struct store_mailbox *mb, const bool *drop, size_t first,
		   uint64_t size, struct store_error *err)
{
	struct mbox_box *be = mb->be;
	struct store_recs *r = &be->idx.recs;
	uint64_t start = r->v[first].offset, len = 0;
	uint64_t hash = STORE_HASH_INIT;
	char journal[128];
	int fd, n;

	fd = open(be->expunge_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		  0600);
	if (fd < 0)
		return store_fail_errno(err, errno, "%s", be->expunge_path);
	for (size_t i = first; i < r->n; i++) {
		uint64_t old = r->v[i].offset;
		uint64_t end = i + 1 < r->n ? r->v[i + 1].offset : size;

		if (drop[i])
			continue;
		if (copy_range(be->fd, fd, old, end, &hash) != 0) {
			close(fd);
			return store_fail_errno(err, errno, "%s",
						be->expunge_path);
		}
		r->v[i].offset = start + len;
		len += end - old;
	}
	if (mb->st->cfg.fsync && fsync(fd) != 0) {
		int saved = errno;

		close(fd);
		return store_fail_errno(err, saved, "%s", be->expunge_path);
	}
	if (store_close_fd(&fd) != 0)
		return store_fail_errno(err, errno, "%s", be->expunge_path);
	n = snprintf(journal, sizeof(journal),
		     "QJ1 %" PRIu64 " %" PRIu64 " %" PRIx64 "\n", start, len,
		     hash);
	if (store_file_replace(be->journal_path, journal, (size_t)n,
			       mb->st->cfg.fsync) != 0)
		return store_fail_errno(err, errno, "%s", be->journal_path);
	return 0;
}

/* Drop the expunged records; the file now ends at new_size. */
static int reindex(struct store_mailbox *mb, const bool *drop,
		   struct store_u32s *gone, struct store_error *err)
{
	struct mbox_box *be = mb->be;
	struct store_recs *r = &be->idx.recs;
	struct stat st;
	size_t w = 0;

	for (size_t i = 0; i < r->n; i++) {
		if (drop[i]) {
			if (store_u32s_push(gone, r->v[i].uid) != 0)
				return store_fail_errno(err, ENOMEM, "expunge");
			continue;
		}
		r->v[w++] = r->v[i];
	}
	r->n = w;
	if (fstat(be->fd, &st) != 0)
		return store_fail_errno(err, errno, "%s", be->path);
	be->idx.src_ino = (uint64_t)st.st_ino;
	be->idx.src_size = (uint64_t)st.st_size;
	be->idx.src_mtime_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000u +
			       (uint64_t)st.st_mtim.tv_nsec;
	if (mbox_index_save(mb, err) != 0) {
		/* The mail is gone for good; the next sync reindexes. */
		log_warn(NULL, "store.mbox.expunge_index path=%s err=%s",
			 be->path, err != NULL ? err->msg : "");
		mbox_index_load(be, true);
	}
	return 0;
}

static int expunge_locked(struct store_mailbox *mb, const uint32_t *uids,
			  size_t n, bool require_deleted,
			  struct store_u32s *gone, struct store_error *err)
{
	struct mbox_box *be = mb->be;
	struct store_recs *r = &be->idx.recs;
	size_t first = SIZE_MAX;
	uint32_t recent;
	struct stat st;
	bool *drop;
	int rc;

	if (mbox_sync_locked(mb, false, &recent, err) != 0)
		return -1;
	drop = calloc(r->n + 1, sizeof(*drop));
	if (drop == NULL)
		return store_fail_errno(err, errno, "expunge");
	for (size_t i = 0; i < r->n; i++) {
		drop[i] =
			listed(uids, n, r->v[i].uid) &&
			(!require_deleted || (r->v[i].flags & STORE_F_DELETED));
		if (drop[i] && first == SIZE_MAX)
			first = i;
	}
	rc = 0;
	if (first != SIZE_MAX) {
		if (fstat(be->fd, &st) != 0)
			rc = store_fail_errno(err, errno, "%s", be->path);
		if (rc == 0)
			rc = mbox_lock_write(mb, r->v[first].offset, err);
		if (rc == 0)
			rc = prepare(mb, drop, first, (uint64_t)st.st_size,
				     err);
		if (rc == 0 && mbox_journal_replay(mb, err) < 0)
			rc = -1;
		if (rc == 0)
			rc = reindex(mb, drop, gone, err);
		if (rc != 0) /* offsets in memory may be wrong now */
			mbox_index_load(be, true);
	}
	free(drop);
	return rc;
}

int mbox_expunge(struct store_mailbox *mb, const uint32_t *uids, size_t n,
		 bool require_deleted, uint32_t **gone_r, size_t *n_gone_r,
		 struct store_error *err)
{
	struct store_u32s gone = {0};
	int rc;

	*gone_r = NULL;
	*n_gone_r = 0;
	if (mbox_lock(mb, err) != 0)
		return -1;
	rc = expunge_locked(mb, uids, n, require_deleted, &gone, err);
	mbox_unlock(mb);
	if (rc != 0) {
		free(gone.v);
		return -1;
	}
	*gone_r = gone.v;
	*n_gone_r = gone.n;
	return 0;
}
