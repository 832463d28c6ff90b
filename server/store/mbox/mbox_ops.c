/*
 * mbox_ops.c - the mbox backend's struct store_ops: opening a mailbox,
 * flags and keywords (in the messages' status lines and the index, see
 * mbox.h), and change notification. Reading is in mbox_read.c.
 *
 * A flag change writes each changed message's status lines in place
 * (mbox_status.c), or, where they have no room, rewrites the file from
 * the first such message (mbox_rewrite); then fsync, then the index. If
 * a message's status lines show flags the index did not know, another
 * program changed them (a sync that only read appended mail cannot see
 * that): the whole file is read again and the change applied to what it
 * says, so nobody's change is overwritten unseen.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mbox.h"
#include "mbox_parse.h"
#include "store/store_fs.h"
#include "store/store_util.h"

static int mbox_open(struct store_mailbox *mb, struct store_error *err)
{
	struct mbox_box *be = calloc(1, sizeof(*be));
	struct stat st;

	if (be == NULL)
		return store_fail_errno(err, errno, "mailbox");
	be->fd = -1;
	if (mbox_paths(mb->st, mb->name, be) != 0) {
		free(be);
		return store_fail(err, STORE_E_BADNAME, "name too long");
	}
	if (!be->inbox && (lstat(be->path, &st) != 0 || !S_ISREG(st.st_mode))) {
		free(be);
		return store_fail(err, STORE_E_NOTFOUND, "no mailbox %s",
				  mb->name);
	}
	mb->be = be;
	return 0;
}

static void mbox_close(struct store_mailbox *mb)
{
	struct mbox_box *be = mb->be;

	if (be == NULL)
		return;
	if (be->fd >= 0)
		mbox_unlock(mb);
	store_index_clear(&be->idx);
	free(be);
	mb->be = NULL;
}

/* After changes in place: fsync, then the index (the records at[]). */
static int save_after_write(struct store_mailbox *mb, const size_t *at,
			    size_t n_at, struct store_error *err)
{
	struct mbox_box *be = mb->be;
	struct stat st;

	if ((mb->st->cfg.fsync && fsync(be->fd) != 0) ||
	    fstat(be->fd, &st) != 0)
		return store_fail_errno(err, errno, "%s", be->path);
	be->idx.src_ino = (uint64_t)st.st_ino;
	be->idx.src_size = (uint64_t)st.st_size;
	be->idx.src_mtime_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000u +
			       (uint64_t)st.st_mtim.tv_nsec;
	return mbox_index_save_delta(mb, at, n_at, be->idx.recs.n,
				     be->idx.n_keywords, err);
}

static void apply(struct store_rec *r, enum store_flags_mode mode,
		  unsigned flags, uint64_t kw)
{
	if (mode == STORE_FLAGS_SET) {
		r->flags = flags;
		r->keywords = kw;
	} else if (mode == STORE_FLAGS_ADD) {
		r->flags |= flags;
		r->keywords |= kw;
	} else {
		r->flags &= ~flags;
		r->keywords &= ~kw;
	}
}

/* Apply the change to every UID; 2 if the file showed that the index
 * was stale (nothing is left half-recorded: the caller syncs fully and
 * tries again). */
static int apply_all(struct store_mailbox *mb, struct store_flag_update *ups,
		     size_t n, enum store_flags_mode mode, unsigned flags,
		     uint64_t kw, bool force, struct store_error *err)
{
	struct mbox_box *be = mb->be;
	size_t rewrite = SIZE_MAX, n_changed = 0;
	size_t *changed = calloc(n + 1, sizeof(*changed));
	int rc = changed != NULL ? 0 : store_fail_errno(err, errno, "flags");

	for (size_t i = 0; i < n && rc == 0; i++) {
		long at = store_recs_find(&be->idx.recs, ups[i].uid);
		struct store_rec *r;
		uint32_t old_flags;
		uint64_t old_kw;
		bool stale = false;

		if (at < 0) {
			ups[i].result = STORE_FLAG_GONE;
			continue;
		}
		r = &be->idx.recs.v[at];
		old_flags = r->flags;
		old_kw = r->keywords;
		apply(r, mode, flags, kw);
		ups[i].result = STORE_FLAG_DONE;
		ups[i].flags = r->flags;
		ups[i].keywords = r->keywords;
		if (r->flags == old_flags && r->keywords == old_kw)
			continue;
		changed[n_changed++] = (size_t)at;
		rc = mbox_status_write(mb, (size_t)at, old_flags, old_kw,
				       force ? NULL : &stale, err);
		if (rc == 0 && stale)
			rc = 2;
		if (rc == 1) {
			rc = 0;
			if ((size_t)at < rewrite)
				rewrite = (size_t)at;
		}
	}
	if (rc == 0 && n_changed > 0)
		rc = rewrite != SIZE_MAX
			     ? mbox_rewrite(mb, rewrite, NULL, NULL, err)
			     : save_after_write(mb, changed, n_changed, err);
	if (rc != 0)
		mbox_index_load(be, true);
	free(changed);
	return rc;
}

static int flags_locked(struct store_mailbox *mb, struct store_flag_update *ups,
			size_t n, enum store_flags_mode mode, unsigned flags,
			uint64_t kw, struct store_error *err)
{
	uint32_t recent;
	int rc;

	if (mbox_sync_locked(mb, false, &recent, err) != 0)
		return -1;
	rc = apply_all(mb, ups, n, mode, flags, kw, false, err);
	if (rc != 2)
		return rc;
	if (mbox_sync_full_locked(mb, err) != 0)
		return -1;
	return apply_all(mb, ups, n, mode, flags, kw, true, err);
}

static int mbox_flags_write(struct store_mailbox *mb,
			    struct store_flag_update *ups, size_t n,
			    enum store_flags_mode mode, unsigned flags,
			    uint64_t kw, struct store_error *err)
{
	int rc;

	if (mbox_lock(mb, err) != 0)
		return -1;
	rc = flags_locked(mb, ups, n, mode, flags, kw, err);
	mbox_unlock(mb);
	return rc;
}

static int intern_locked(struct store_mailbox *mb, const char *const *names,
			 size_t n, unsigned *idx_r, struct store_error *err)
{
	struct store_index *idx = &((struct mbox_box *)mb->be)->idx;
	bool changed = false;
	uint32_t recent;
	size_t k0;
	int rc;

	if (mbox_sync_locked(mb, false, &recent, err) != 0)
		return -1;
	k0 = idx->n_keywords;
	for (size_t i = 0; i < n; i++) {
		long at = store_keywords_find(idx->keywords, idx->n_keywords,
					      names[i]);

		if (at < 0) {
			if (idx->n_keywords >= MBOX_KEYWORDS_MAX)
				return store_fail(err, STORE_E_LIMIT,
						  "too many keywords");
			if (store_keywords_add(&idx->keywords, &idx->n_keywords,
					       names[i]))
				return store_fail_errno(err, errno, "keywords");
			at = (long)idx->n_keywords - 1;
			changed = true;
		}
		idx_r[i] = (unsigned)at;
	}
	if (changed &&
	    mbox_index_save_delta(mb, NULL, 0, idx->recs.n, k0, err) != 0)
		return -1;
	/* Dovecot takes X-Keywords names only from the X-IMAPbase list. */
	rc = changed ? mbox_base_update(mb, false, err) : 0;
	if (rc > 0)
		rc = mbox_rewrite(mb, 0, NULL, NULL, err);
	if (rc < 0)
		return -1;
	if (store_keywords_copy(&mb->keywords, &mb->n_keywords, idx->keywords,
				idx->n_keywords) != 0)
		return store_fail_errno(err, errno, "keywords");
	return 0;
}

static int mbox_keywords_intern(struct store_mailbox *mb,
				const char *const *names, size_t n,
				unsigned *idx_r, struct store_error *err)
{
	struct mbox_box *be = mb->be;
	int rc;

	if (mbox_lock(mb, err) != 0)
		return -1;
	rc = intern_locked(mb, names, n, idx_r, err);
	if (rc != 0)
		mbox_index_load(be, true);
	mbox_unlock(mb);
	return rc;
}

static int watch_dir(int ifd, const char *path, struct store_error *err)
{
	char copy[PATH_MAX];
	const uint32_t ev = IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO |
			    IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB;

	if (store_path(copy, sizeof(copy), "%s", path) != 0 ||
	    inotify_add_watch(ifd, dirname(copy), ev) < 0)
		return store_fail_errno(err, errno, "inotify %s", path);
	return 0;
}

static int mbox_watch(struct store_mailbox *mb, int ifd,
		      struct store_error *err)
{
	struct mbox_box *be = mb->be;

	if (watch_dir(ifd, be->path, err) != 0 ||
	    watch_dir(ifd, be->index_path, err) != 0)
		return -1;
	return 0;
}

static int mbox_cache_path(struct store_mailbox *mb, char *path, size_t size,
			   struct store_error *err)
{
	struct mbox_box *be = mb->be;

	if (store_path(path, size, "%s", be->cache_path) != 0)
		return store_fail_errno(err, errno, "cache");
	return 0;
}

const struct store_ops store_mbox_ops = {
	.name = "mbox",
	.keyword_max = MBOX_KEYWORDS_MAX,
	.name_ok = mbox_name_ok,
	.init = mbox_init,
	.list = mbox_list,
	.create = mbox_create,
	.remove = mbox_remove,
	.rename = mbox_rename,
	.open = mbox_open,
	.close = mbox_close,
	.sync = mbox_sync,
	.keywords_intern = mbox_keywords_intern,
	.flags_write = mbox_flags_write,
	.expunge = mbox_expunge,
	.txn_begin = mbox_txn_begin,
	.save_begin = mbox_save_begin,
	.save_write = mbox_save_write,
	.save_end = mbox_save_end,
	.txn_commit = mbox_txn_commit,
	.txn_abort = mbox_txn_abort,
	.msg_open = mbox_msg_open,
	.msg_read = mbox_msg_read,
	.msg_close = mbox_msg_close,
	.watch = mbox_watch,
	.cache_path = mbox_cache_path,
};
