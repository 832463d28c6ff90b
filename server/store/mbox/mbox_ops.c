/*
 * mbox_ops.c - the mbox backend's struct store_ops: opening a mailbox,
 * reading messages (unquoting mboxrd ">From " lines on the fly, so the
 * bytes read are those appended), flags and keywords (kept in the index,
 * see mbox.h), and change notification.
 *
 * A message handle holds an fcntl read lock on its message's bytes, so an
 * expunge (which moves later messages) waits for it instead of moving
 * bytes under a reader; appends write past the end and do not wait. The
 * handle checks the message's fingerprint when it opens: if the file was
 * changed behind the index's back, it reports STORE_E_EXPUNGED and the
 * caller syncs.
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

#define RAW_BUF 65536u

struct mbox_reader {
	struct mbox_unquoter u;
	uint64_t raw_read; /* raw bytes read from the file */
	uint64_t pres_pos; /* presented bytes produced */
	unsigned char buf[RAW_BUF];
	size_t len, off;
};

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

static bool fingerprint_ok(int fd, const struct store_rec *r)
{
	unsigned char from[MBOX_LINE_PREFIX], head[MBOX_HEAD_BYTES];
	uint32_t flen = r->aux & ~STORE_AUX_QUOTED;
	size_t fl = flen < MBOX_LINE_PREFIX ? flen : MBOX_LINE_PREFIX;
	size_t hl = r->raw_len < MBOX_HEAD_BYTES ? (size_t)r->raw_len
						 : MBOX_HEAD_BYTES;

	return store_pread_full(fd, from, fl, (off_t)r->offset) ==
		       (ssize_t)fl &&
	       store_pread_full(fd, head, hl, (off_t)(r->offset + flen)) ==
		       (ssize_t)hl &&
	       mbox_fingerprint(from, fl, head, hl) == r->fingerprint;
}

static int mbox_msg_open(struct store_mailbox *mb, struct store_rec *vr,
			 struct store_msg *msg, struct store_error *err)
{
	struct mbox_box *be = mb->be;
	uint64_t deadline = store_now_ms() + mb->st->cfg.lock_timeout_ms;
	const struct store_rec *r;
	uint32_t flen;
	long at;

	/* Where the message is now: the view may predate an expunge that
	 * moved it; the index is rewritten by every such change. */
	at = mbox_index_load(be, false)
		     ? store_recs_find(&be->idx.recs, vr->uid)
		     : -1;
	if (at < 0 || be->idx.uidvalidity != mb->uidvalidity)
		return store_fail(err, STORE_E_EXPUNGED,
				  "message UID %u was expunged",
				  (unsigned)vr->uid);
	r = &be->idx.recs.v[at];
	flen = r->aux & ~STORE_AUX_QUOTED;
	msg->fd = open(be->path, O_RDONLY | O_CLOEXEC);
	if (msg->fd < 0)
		return store_fail(err, STORE_E_EXPUNGED, "mailbox %s is gone",
				  mb->name);
	if (store_ofd_lock(msg->fd, F_RDLCK, (off_t)r->offset,
			   (off_t)(flen + r->raw_len + 1), deadline,
			   err) != 0) {
		store_close_fd(&msg->fd);
		return -1;
	}
	if (!fingerprint_ok(msg->fd, r)) {
		store_close_fd(&msg->fd);
		return store_fail(err, STORE_E_EXPUNGED,
				  "message UID %u changed on disk",
				  (unsigned)r->uid);
	}
	msg->base = r->offset + flen;
	msg->raw_len = r->raw_len;
	msg->quoted = (r->aux & STORE_AUX_QUOTED) != 0;
	msg->info.size = r->size;
	if (msg->quoted) {
		struct mbox_reader *rd = calloc(1, sizeof(*rd));

		if (rd == NULL) {
			store_close_fd(&msg->fd);
			return store_fail_errno(err, errno, "message");
		}
		mbox_unquoter_init(&rd->u);
		msg->be = rd;
	}
	return 0;
}

/* Next presented bytes into out; 0 at the end. */
static ssize_t produce(struct store_msg *msg, unsigned char *out, size_t cap)
{
	struct mbox_reader *rd = msg->be;

	for (;;) {
		size_t used, k;

		if (rd->off == rd->len && rd->raw_read < msg->raw_len) {
			uint64_t left = msg->raw_len - rd->raw_read;
			size_t want = left < RAW_BUF ? (size_t)left : RAW_BUF;
			ssize_t n = store_pread_full(
				msg->fd, rd->buf, want,
				(off_t)(msg->base + rd->raw_read));

			if (n < 0)
				return -1;
			if (n == 0) /* cut short under us */
				rd->raw_read = msg->raw_len;
			rd->len = (size_t)n;
			rd->off = 0;
			rd->raw_read += (uint64_t)n;
		}
		if (rd->off == rd->len)
			return (ssize_t)mbox_unquote_end(&rd->u, out, cap);
		k = mbox_unquote(&rd->u, rd->buf + rd->off, rd->len - rd->off,
				 &used, out, cap);
		rd->off += used;
		if (k > 0)
			return (ssize_t)k;
	}
}

static int read_quoted(struct store_msg *msg, uint64_t offset, void *buf,
		       size_t len, size_t *got_r, struct store_error *err)
{
	struct mbox_reader *rd = msg->be;
	unsigned char skip[4096];
	size_t got = 0;

	if (offset < rd->pres_pos) {
		mbox_unquoter_init(&rd->u);
		rd->raw_read = rd->pres_pos = 0;
		rd->len = rd->off = 0;
	}
	while (rd->pres_pos < offset) {
		uint64_t left = offset - rd->pres_pos;
		ssize_t n = produce(msg, skip,
				    left < sizeof(skip) ? (size_t)left
							: sizeof(skip));

		if (n < 0)
			return store_fail_errno(err, errno, "reading message");
		if (n == 0)
			break;
		rd->pres_pos += (uint64_t)n;
	}
	while (got < len && rd->pres_pos == offset + got) {
		ssize_t n = produce(msg, (unsigned char *)buf + got, len - got);

		if (n < 0)
			return store_fail_errno(err, errno, "reading message");
		if (n == 0)
			break;
		got += (size_t)n;
		rd->pres_pos += (uint64_t)n;
	}
	*got_r = got;
	return 0;
}

static int mbox_msg_read(struct store_msg *msg, uint64_t offset, void *buf,
			 size_t len, size_t *got_r, struct store_error *err)
{
	ssize_t n;

	if (msg->quoted)
		return read_quoted(msg, offset, buf, len, got_r, err);
	if (offset >= msg->raw_len) {
		*got_r = 0;
		return 0;
	}
	if (len > msg->raw_len - offset)
		len = (size_t)(msg->raw_len - offset);
	n = store_pread_full(msg->fd, buf, len, (off_t)(msg->base + offset));
	if (n < 0)
		return store_fail_errno(err, errno, "reading message");
	*got_r = (size_t)n;
	return 0;
}

static void mbox_msg_close(struct store_msg *msg)
{
	free(msg->be);
	msg->be = NULL;
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

static int flags_locked(struct store_mailbox *mb, struct store_flag_update *ups,
			size_t n, enum store_flags_mode mode, unsigned flags,
			uint64_t kw, struct store_error *err)
{
	struct mbox_box *be = mb->be;
	bool changed = false;
	uint32_t recent;

	if (mbox_sync_locked(mb, false, &recent, err) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		long at = store_recs_find(&be->idx.recs, ups[i].uid);
		struct store_rec *r;
		uint32_t old_flags;
		uint64_t old_kw;

		if (at < 0) {
			ups[i].result = STORE_FLAG_GONE;
			continue;
		}
		r = &be->idx.recs.v[at];
		old_flags = r->flags;
		old_kw = r->keywords;
		apply(r, mode, flags, kw);
		changed |= r->flags != old_flags || r->keywords != old_kw;
		ups[i].result = STORE_FLAG_DONE;
		ups[i].flags = r->flags;
		ups[i].keywords = r->keywords;
	}
	if (changed && mbox_index_save(mb, err) != 0) {
		mbox_index_load(be, true);
		return -1;
	}
	return 0;
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

	if (mbox_sync_locked(mb, false, &recent, err) != 0)
		return -1;
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
	if (changed && mbox_index_save(mb, err) != 0)
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
