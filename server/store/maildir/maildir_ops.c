/*
 * maildir_ops.c - the Maildir backend's struct store_ops: opening a
 * folder, reading messages, flag changes and expunges.
 *
 * Flags live in the file name (maildir(5) info "2,"), so a flag change is
 * one rename() into cur/, atomic and needing no lock. If the name changed
 * under us (another session's flag change), the file is looked up again
 * by its base and the change applied to its current flags, so concurrent
 * +FLAGS/-FLAGS from two sessions both hold. Expunge unlinks the files,
 * fsyncs the directories and then drops the records under the lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "maildir.h"
#include "store/store_fs.h"
#include "store/store_util.h"

static int md_open(struct store_mailbox *mb, struct store_error *err)
{
	struct md_box *be = calloc(1, sizeof(*be));
	char cur[PATH_MAX];
	struct stat st;

	if (be == NULL)
		return store_fail_errno(err, errno, "mailbox");
	be->ul_fd = -1;
	if (md_folder_path(mb->st, mb->name, be->dir, sizeof(be->dir)) ||
	    store_path(be->uidlist_path, PATH_MAX, "%s/dovecot-uidlist",
		       be->dir) ||
	    store_path(be->lock_path, PATH_MAX, "%s/dovecot-uidlist.lock",
		       be->dir) ||
	    store_path(be->keywords_path, PATH_MAX, "%s/dovecot-keywords",
		       be->dir) ||
	    store_path(be->index_path, PATH_MAX, "%s/quill-index", be->dir) ||
	    store_path(cur, sizeof(cur), "%s/cur", be->dir) != 0) {
		free(be);
		return store_fail(err, STORE_E_BADNAME, "name too long");
	}
	if (stat(cur, &st) != 0 || !S_ISDIR(st.st_mode)) {
		free(be);
		return store_fail(err, STORE_E_NOTFOUND, "no mailbox %s",
				  mb->name);
	}
	mb->be = be;
	return 0;
}

static void md_close(struct store_mailbox *mb)
{
	struct md_box *be = mb->be;

	if (be == NULL)
		return;
	maildir_uidlist_clear(&be->ul);
	store_index_clear(&be->idx);
	store_keywords_free(&be->kw, &be->n_kw);
	store_close_fd(&be->ul_fd);
	store_dotlock_release(&be->lock);
	free(be);
	mb->be = NULL;
}

/* Point rec at the file's current name; -1 if it is gone. */
static int refind(struct md_box *be, struct store_rec *rec)
{
	struct maildir_name mn;
	char *found;

	if (maildir_name_parse(rec->name + 4, strlen(rec->name + 4), &mn))
		return -1;
	found = md_find_base(be->dir, mn.base, mn.base_len);
	if (found == NULL)
		return -1;
	free(rec->name);
	rec->name = found;
	return 0;
}

static int md_msg_open(struct store_mailbox *mb, struct store_rec *rec,
		       struct store_msg *msg, struct store_error *err)
{
	struct md_box *be = mb->be;
	char path[PATH_MAX];
	struct stat st;

	for (int attempt = 0; attempt < 2; attempt++) {
		if (store_path(path, sizeof(path), "%s/%s", be->dir,
			       rec->name) != 0)
			return store_fail_errno(err, errno, "%s", rec->name);
		msg->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (msg->fd >= 0)
			break;
		if (errno != ENOENT)
			return store_fail_errno(err, errno, "%s", path);
		if (attempt == 1 || refind(be, rec) != 0)
			return store_fail(err, STORE_E_EXPUNGED,
					  "message UID %u was expunged",
					  (unsigned)rec->uid);
	}
	if (fstat(msg->fd, &st) != 0) {
		int saved = errno;

		store_close_fd(&msg->fd);
		return store_fail_errno(err, saved, "%s", path);
	}
	msg->info.size = (uint64_t)st.st_size;
	msg->base = 0;
	return 0;
}

static int md_msg_read(struct store_msg *msg, uint64_t offset, void *buf,
		       size_t len, size_t *got_r, struct store_error *err)
{
	ssize_t n = store_pread_full(msg->fd, buf, len, (off_t)offset);

	if (n < 0)
		return store_fail_errno(err, errno, "reading message");
	*got_r = (size_t)n;
	return 0;
}

static void md_msg_close(struct store_msg *msg)
{
	(void)msg;
}

static void apply(struct maildir_name *mn, enum store_flags_mode mode,
		  unsigned flags, uint64_t kw)
{
	uint32_t k = (uint32_t)kw;

	if (mode == STORE_FLAGS_SET) {
		mn->flags = flags;
		mn->keywords = k;
	} else if (mode == STORE_FLAGS_ADD) {
		mn->flags |= flags;
		mn->keywords |= k;
	} else {
		mn->flags &= ~flags;
		mn->keywords &= ~k;
	}
	mn->has_info = mn->info2 = true;
}

/* Rename one message to carry its new flags. 1 = done, 0 = gone. */
static int flag_one(struct store_mailbox *mb, struct store_flag_update *up,
		    enum store_flags_mode mode, unsigned flags, uint64_t kw,
		    struct store_error *err)
{
	struct md_box *be = mb->be;
	struct store_rec *rec =
		&mb->view.v[store_recs_find(&mb->view, up->uid)];
	char name[MAILDIR_NAME_MAX + 1], from[PATH_MAX], to[PATH_MAX];
	struct maildir_name mn;

	for (int attempt = 0; attempt < 3; attempt++) {
		if (maildir_name_parse(rec->name + 4, strlen(rec->name + 4),
				       &mn) != 0)
			return store_fail(err, STORE_E_CORRUPT, "bad name");
		apply(&mn, mode, flags, kw);
		up->flags = mn.flags;
		up->keywords = mn.keywords & ((1ULL << be->n_kw) - 1);
		if (maildir_name_format(&mn, name, sizeof(name)) != 0 ||
		    store_path(from, sizeof(from), "%s/%s", be->dir,
			       rec->name) ||
		    store_path(to, sizeof(to), "%s/cur/%s", be->dir, name))
			return store_fail(err, STORE_E_BADNAME,
					  "name too long");
		if (strcmp(from, to) == 0 || rename(from, to) == 0) {
			free(rec->name);
			rec->name = strdup(to + strlen(be->dir) + 1);
			return rec->name != NULL
				       ? 1
				       : store_fail_errno(err, ENOMEM, "flags");
		}
		if (errno != ENOENT)
			return store_fail_errno(err, errno, "rename %s", from);
		if (refind(be, rec) != 0)
			return 0;
	}
	return 0;
}

static int sync_dirs(struct store_mailbox *mb, struct store_error *err)
{
	struct md_box *be = mb->be;
	char path[PATH_MAX];

	if (!mb->st->cfg.fsync)
		return 0;
	for (int i = 0; i < 2; i++)
		if (store_path(path, sizeof(path), "%s/%s", be->dir,
			       i ? "new" : "cur") != 0 ||
		    store_fsync_dir(path) != 0)
			return store_fail_errno(err, errno, "fsync %s", path);
	return 0;
}

static int md_flags_write(struct store_mailbox *mb,
			  struct store_flag_update *ups, size_t n,
			  enum store_flags_mode mode, unsigned flags,
			  uint64_t kw, struct store_error *err)
{
	for (size_t i = 0; i < n; i++) {
		int rc = flag_one(mb, &ups[i], mode, flags, kw, err);

		if (rc < 0)
			return -1;
		ups[i].result = rc > 0 ? STORE_FLAG_DONE : STORE_FLAG_GONE;
	}
	return sync_dirs(mb, err);
}

/* Unlink one message; 1 = gone, 0 = kept (no \Deleted), -1 error. */
static int expunge_one(struct store_mailbox *mb, struct store_rec *rec,
		       bool require_deleted, struct store_error *err)
{
	struct md_box *be = mb->be;
	char path[PATH_MAX];
	struct maildir_name mn;

	for (int attempt = 0; attempt < 3; attempt++) {
		if (maildir_name_parse(rec->name + 4, strlen(rec->name + 4),
				       &mn) != 0)
			return store_fail(err, STORE_E_CORRUPT, "bad name");
		if (require_deleted && !(mn.flags & STORE_F_DELETED))
			return 0;
		if (store_path(path, sizeof(path), "%s/%s", be->dir,
			       rec->name) != 0)
			return store_fail_errno(err, errno, "%s", rec->name);
		if (unlink(path) == 0)
			return 1;
		if (errno != ENOENT)
			return store_fail_errno(err, errno, "unlink %s", path);
		if (refind(be, rec) != 0)
			return 1; /* someone else expunged it */
	}
	return 0;
}

static void drop_records(struct store_mailbox *mb)
{
	struct store_snapshot snap = {0};
	struct md_files files = {0};
	struct store_error err;
	int rc = md_scan(((struct md_box *)mb->be)->dir, &files, &err);

	if (rc == 0 && (rc = md_lock(mb, &err)) == 0) {
		rc = md_sync_locked(mb, &files, false, &snap, &err);
		md_unlock(mb);
	}
	if (rc != 0) /* the next sync drops them */
		log_warn(NULL, "store.maildir.expunge_uidlist err=%s", err.msg);
	store_snapshot_clear(&snap);
	md_files_clear(&files);
}

static int md_expunge(struct store_mailbox *mb, const uint32_t *uids, size_t n,
		      bool require_deleted, uint32_t **gone_r, size_t *n_gone_r,
		      struct store_error *err)
{
	struct store_u32s gone = {0};
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		long at = store_recs_find(&mb->view, uids[i]);

		if (at < 0)
			continue;
		rc = expunge_one(mb, &mb->view.v[at], require_deleted, err);
		if (rc > 0)
			rc = store_u32s_push(&gone, uids[i]) == 0
				     ? 0
				     : store_fail_errno(err, ENOMEM, "expunge");
	}
	if (gone.n > 0 && sync_dirs(mb, rc == 0 ? err : NULL) != 0)
		rc = -1;
	if (gone.n > 0)
		drop_records(mb);
	*gone_r = gone.v;
	*n_gone_r = gone.n;
	return rc;
}

static int md_watch(struct store_mailbox *mb, int ifd, struct store_error *err)
{
	struct md_box *be = mb->be;
	const uint32_t ev = IN_CREATE | IN_DELETE | IN_MOVED_FROM |
			    IN_MOVED_TO | IN_CLOSE_WRITE;
	char path[PATH_MAX];

	if (inotify_add_watch(ifd, be->dir, ev) < 0)
		return store_fail_errno(err, errno, "inotify %s", be->dir);
	for (int i = 0; i < 2; i++)
		if (store_path(path, sizeof(path), "%s/%s", be->dir,
			       i ? "new" : "cur") != 0 ||
		    inotify_add_watch(ifd, path, ev) < 0)
			return store_fail_errno(err, errno, "inotify %s", path);
	return 0;
}

static int md_cache_path(struct store_mailbox *mb, char *path, size_t size,
			 struct store_error *err)
{
	struct md_box *be = mb->be;

	if (store_path(path, size, "%s/quill-cache", be->dir) != 0)
		return store_fail_errno(err, errno, "cache");
	return 0;
}

const struct store_ops store_maildir_ops = {
	.name = "maildir",
	.keyword_max = MAILDIR_KEYWORDS_MAX,
	.name_ok = md_name_ok,
	.init = md_init,
	.list = md_list,
	.create = md_create,
	.remove = md_remove,
	.rename = md_rename,
	.open = md_open,
	.close = md_close,
	.sync = md_sync,
	.keywords_intern = md_keywords_intern,
	.flags_write = md_flags_write,
	.expunge = md_expunge,
	.txn_begin = md_txn_begin,
	.save_begin = md_save_begin,
	.save_write = md_save_write,
	.save_end = md_save_end,
	.txn_commit = md_txn_commit,
	.txn_abort = md_txn_abort,
	.msg_open = md_msg_open,
	.msg_read = md_msg_read,
	.msg_close = md_msg_close,
	.watch = md_watch,
	.cache_path = md_cache_path,
};
