/*
 * mbox_expunge.c - rewriting an mbox from one message on, crash-safely
 * and in place (the file keeps its inode, so other programs that hold it
 * open or wait on its fcntl lock still see the right file): for EXPUNGE,
 * and for status lines that no longer fit in place (mbox_status.c).
 * Every message the rewrite copies gets a fresh status block from its
 * record (mbox_meta.h); if the first message's X-IMAPbase is missing or
 * not this index's, the rewrite starts at the first message and gives it
 * one, so afterwards every X-UID in the file agrees with the index.
 *
 * Under the lock, with a write lock from the first rewritten message on:
 *  1. everything after that point that stays is copied (renewed) to a
 *     temporary file ".<name>.quill-expunge", which is fsync'd;
 *  2. a journal ".<name>.quill-journal" naming the start offset, the
 *     length and a hash of the temporary file is written atomically
 *     (temp + rename + fsync): from here on the rewrite will complete;
 *  3. the temporary file is copied over the mbox from the start offset,
 *     the mbox is cut to its new length and fsync'd;
 *  4. the journal is removed (directory fsync'd), then the index written.
 * A crash before 2 leaves the mbox untouched; after 2, the next lock
 * taker replays 3 and 4 (mbox_lock.c) - the copy is idempotent. If the
 * index is older than the file, the next sync matches the messages by
 * fingerprint (which leaves status lines out), so they keep their UIDs.
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
#include "mbox_hdr.h"
#include "mbox_meta.h"
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

/* Copy message i (From_ line to the next message) to out with a fresh
 * status block; base: it is the file's first message (void_base: with
 * an X-IMAPbase nobody trusts). */
static int renew_one(struct store_mailbox *mb, size_t i, uint64_t end,
		     bool base, bool void_base, int out, uint64_t *hash,
		     uint64_t *written)
{
	struct mbox_box *be = mb->be;
	struct store_rec *r = &be->idx.recs.v[i];
	uint64_t cstart = r->offset + MBOX_FROM_LEN(r->aux);
	uint64_t cend = cstart + r->raw_len, content = 0;
	struct mbox_hinfo hi;
	struct mbox_block b = {
		.base = base,
		.uidvalidity = void_base ? 0 : be->idx.uidvalidity,
		.last_uid = be->idx.next_uid - 1,
		.names = be->idx.keywords,
		.n_names = be->idx.n_keywords,
		.uid = r->uid,
		.flags = r->flags,
		.keywords = r->keywords,
		.base_pad = MBOX_PAD_BASE,
		.pad = MBOX_PAD_KEYWORDS,
	};
	struct buf blk;
	unsigned char lf = 0;
	int rc;

	if (mbox_hinfo_read(be->fd, cstart, cend, false, NULL, &hi) != 0 ||
	    mbox_copy_out(be->fd, r->offset, cstart, out, hash, written) != 0 ||
	    store_pread_full(be->fd, &lf, 1, (off_t)cstart - 1) != 1)
		return -1;
	if (lf != '\n') /* a From_ line cut at the end of the file */
		return mbox_copy_out(be->fd, cstart, end, out, hash, written);
	b.old = hi.meta.old;
	buf_init(&blk, MBOX_BLOCK_MAX);
	rc = mbox_block_format(&b, &blk);
	if (rc == 0)
		rc = mbox_copy_renew(be->fd, cstart, cend, &hi, &blk, out, hash,
				     &content);
	buf_free(&blk);
	if (rc == 1) /* no room for a block: as it is */
		rc = mbox_copy_out(be->fd, cstart, cend, out, hash, &content);
	else if (rc == 0)
		r->aux |= MBOX_AUX_FILTER;
	if (rc != 0)
		return -1;
	*written += content;
	r->raw_len = content;
	return mbox_copy_out(be->fd, cend, end, out, hash, written);
}

/* The last message cannot get a block if the file ends inside its
 * header; if it carries an X-UID that is not its UID, an X-IMAPbase
 * would vouch for a wrong X-UID: the new one is written void. */
static bool stale_tail_uid(struct mbox_box *be)
{
	const struct store_rec *r = &be->idx.recs.v[be->idx.recs.n - 1];
	uint64_t start = r->offset + MBOX_FROM_LEN(r->aux);
	struct mbox_hinfo hi;

	return mbox_hinfo_read(be->fd, start, start + r->raw_len, false, NULL,
			       &hi) == 0 &&
	       !hi.has_eoh && !hi.ends_lf &&
	       (hi.meta.uid != 0 || hi.meta.uid_bad);
}

/* Steps 1 and 2; new offsets of the kept records go to recs. */
static int prepare(struct store_mailbox *mb, const bool *drop, size_t first,
		   uint64_t size, struct store_error *err)
{
	struct mbox_box *be = mb->be;
	struct store_recs *r = &be->idx.recs;
	uint64_t start = r->v[first].offset, len = 0;
	uint64_t hash = STORE_HASH_INIT;
	bool base = first == 0, void_base = base && stale_tail_uid(be);
	char journal[128];
	int fd, n;

	fd = open(be->expunge_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		  0600);
	if (fd < 0)
		return store_fail_errno(err, errno, "%s", be->expunge_path);
	for (size_t i = first; i < r->n; i++) {
		uint64_t end = i + 1 < r->n ? r->v[i + 1].offset : size;
		uint64_t at = start + len;

		if (drop != NULL && drop[i])
			continue;
		if (renew_one(mb, i, end, base, void_base, fd, &hash, &len) !=
		    0) {
			close(fd);
			return store_fail_errno(err, errno != 0 ? errno : EIO,
						"%s", be->expunge_path);
		}
		r->v[i].offset = at;
		base = false;
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
		if (drop != NULL && drop[i]) {
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

int mbox_rewrite(struct store_mailbox *mb, size_t first, const bool *drop,
		 struct store_u32s *gone, struct store_error *err)
{
	struct mbox_box *be = mb->be;
	struct stat st;
	int rc = 0;

	if (first >= be->idx.recs.n)
		return 0;
	if (first > 0 && !mbox_base_ours(mb))
		first = 0;
	if (fstat(be->fd, &st) != 0)
		rc = store_fail_errno(err, errno, "%s", be->path);
	if (rc == 0)
		rc = mbox_lock_write(mb, be->idx.recs.v[first].offset, err);
	if (rc == 0)
		rc = prepare(mb, drop, first, (uint64_t)st.st_size, err);
	if (rc == 0 && mbox_journal_replay(mb, err) < 0)
		rc = -1;
	if (rc == 0)
		rc = reindex(mb, drop, gone, err);
	if (rc != 0) /* offsets in memory may be wrong now */
		mbox_index_load(be, true);
	return rc;
}

static int expunge_locked(struct store_mailbox *mb, const uint32_t *uids,
			  size_t n, bool require_deleted,
			  struct store_u32s *gone, struct store_error *err)
{
	struct mbox_box *be = mb->be;
	struct store_recs *r = &be->idx.recs;
	size_t first = SIZE_MAX;
	uint32_t recent;
	bool *drop;
	int rc = 0;

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
	if (first != SIZE_MAX)
		rc = mbox_rewrite(mb, first, drop, gone, err);
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
