/*
 * maildir_save.c - delivering into a Maildir folder (maildir(5) "How a
 * message is delivered", with Dovecot's and Postfix's fsync discipline).
 *
 * Each message is written to tmp/<unique base>, fsync'd and closed with
 * its close checked. The commit gives every file its internal date as
 * mtime, link()s it to new/<base>,S=<size> (or cur/<base>,S=<size>:2,
 * <flags> when it has flags or keywords) - link, not rename, so an
 * existing name is never replaced - unlinks the tmp/ name, and fsyncs
 * new/ and cur/ once for the whole transaction. Only then is the
 * transaction durable; UIDs, when asked for, are given under the lock
 * by the normal sync. If anything fails, every file of the transaction
 * is removed again (tmp/, new/ or cur/), so a failed commit leaves
 * nothing behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maildir.h"
#include "store/store_fs.h"
#include "store/store_util.h"

struct md_txn {
	int fd;	      /* the message being written */
	char **final; /* "new/..." or "cur/..." once linked */
};

int md_txn_begin(struct store_txn *txn, struct store_error *err)
{
	struct md_txn *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return store_fail_errno(err, errno, "append");
	t->fd = -1;
	txn->be = t;
	return 0;
}

int md_save_begin(struct store_txn *txn, struct store_save_msg *m,
		  struct store_error *err)
{
	struct md_box *be = txn->mb->be;
	struct md_txn *t = txn->be;
	char base[200], path[PATH_MAX];

	if (maildir_name_unique(base, sizeof(base), txn->mb->st->hostname) !=
		    0 ||
	    store_path(path, sizeof(path), "%s/tmp/%s", be->dir, base) != 0)
		return store_fail(err, STORE_E_IO, "cannot make a file name");
	t->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (t->fd < 0)
		return store_fail_errno(err, errno, "%s", path);
	m->tmp_name = strdup(base);
	if (m->tmp_name == NULL) {
		close(t->fd);
		t->fd = -1;
		unlink(path);
		return store_fail_errno(err, ENOMEM, "append");
	}
	return 0;
}

int md_save_write(struct store_txn *txn, struct store_save_msg *m,
		  const void *data, size_t len, struct store_error *err)
{
	struct md_txn *t = txn->be;

	(void)m;
	if (store_write_all(t->fd, data, len) != 0)
		return store_fail_errno(err, errno, "writing message");
	return 0;
}

int md_save_end(struct store_txn *txn, struct store_save_msg *m,
		struct store_error *err)
{
	struct md_txn *t = txn->be;

	(void)m;
	if (txn->mb->st->cfg.fsync && fsync(t->fd) != 0) {
		int saved = errno;

		store_close_fd(&t->fd);
		return store_fail_errno(err, saved, "fsync message");
	}
	if (store_close_fd(&t->fd) != 0)
		return store_fail_errno(err, errno, "close message");
	return 0;
}

/* Link tmp/<base> to its final name; *final_r is "new/..."/"cur/...". */
static int link_one(struct store_mailbox *mb, const struct store_save_msg *m,
		    char **final_r, struct store_error *err)
{
	struct md_box *be = mb->be;
	char tmp[PATH_MAX], dst[PATH_MAX], base[300], name[300];
	struct timespec ts[2] = {{0, UTIME_OMIT}, {m->internal_date, 0}};
	struct maildir_name mn;
	bool cur = m->flags != 0 || m->keywords != 0;

	snprintf(base, sizeof(base), "%s,S=%llu", m->tmp_name,
		 (unsigned long long)m->size);
	if (maildir_name_parse(base, strlen(base), &mn) != 0)
		return store_fail(err, STORE_E_IO, "bad file name");
	mn.has_info = mn.info2 = cur;
	mn.flags = m->flags;
	mn.keywords = (uint32_t)m->keywords;
	if (maildir_name_format(&mn, name, sizeof(name)) != 0 ||
	    store_path(tmp, sizeof(tmp), "%s/tmp/%s", be->dir, m->tmp_name) ||
	    store_path(dst, sizeof(dst), "%s/%s/%s", be->dir,
		       cur ? "cur" : "new", name) != 0)
		return store_fail(err, STORE_E_IO, "file name too long");
	if (utimensat(AT_FDCWD, tmp, ts, 0) != 0 || link(tmp, dst) != 0)
		return store_fail_errno(err, errno, "delivering %s", name);
	unlink(tmp);
	if (store_path(tmp, sizeof(tmp), "%s/%s", cur ? "cur" : "new", name) !=
		    0 ||
	    (*final_r = strdup(tmp)) == NULL) {
		unlink(dst);
		return store_fail_errno(err, ENOMEM, "append");
	}
	return 0;
}

static int sync_dirs(struct store_mailbox *mb, struct store_error *err)
{
	struct md_box *be = mb->be;
	char path[PATH_MAX];

	if (!mb->st->cfg.fsync)
		return 0;
	for (int i = 0; i < 2; i++) {
		if (store_path(path, sizeof(path), "%s/%s", be->dir,
			       i == 0 ? "new" : "cur") != 0 ||
		    store_fsync_dir(path) != 0)
			return store_fail_errno(err, errno, "fsync %s", path);
	}
	return 0;
}

/* Give the new files their UIDs and report them: appended to the UID
 * list (maildir_append.c), or, when the state does not allow that, by
 * the lock's full sync. */
static int assign_uids(struct store_txn *txn, uint32_t *uidvalidity_r,
		       struct store_error *err)
{
	struct store_mailbox *mb = txn->mb;
	struct md_box *be = mb->be;
	struct store_snapshot snap = {0};
	struct md_files files = {0};
	struct md_txn *t = txn->be;
	int rc;

	rc = md_lock(mb, err);
	if (rc == 0) {
		rc = md_uids_append(mb, t->final, txn->msgs, txn->n, err);
		if (rc == 0)
			*uidvalidity_r = be->ul.uidvalidity;
		if (rc == 1 && (rc = md_scan(be->dir, &files, err)) == 0)
			rc = md_sync_locked(mb, &files, false, &snap, err) == 0
				     ? 2
				     : -1;
		md_unlock(mb);
	}
	if (rc != 2) {
		md_files_clear(&files);
		return rc;
	}
	rc = 0;
	for (size_t i = 0; i < txn->n && rc == 0; i++) {
		struct maildir_name mn;
		long at;

		maildir_name_parse(t->final[i] + 4, strlen(t->final[i] + 4),
				   &mn);
		at = maildir_uidlist_find(&be->ul, mn.base, mn.base_len);
		if (at < 0)
			rc = store_fail(err, STORE_E_EXPUNGED,
					"new message vanished");
		else
			txn->msgs[i].uid = be->ul.v[at].uid;
	}
	*uidvalidity_r = be->ul.uidvalidity;
	store_snapshot_clear(&snap);
	md_files_clear(&files);
	return rc;
}

int md_txn_commit(struct store_txn *txn, bool want_uids,
		  uint32_t *uidvalidity_r, struct store_error *err)
{
	struct md_txn *t = txn->be;
	int rc = 0;

	t->final = calloc(txn->n + 1, sizeof(*t->final));
	if (t->final == NULL)
		return store_fail_errno(err, errno, "append");
	for (size_t i = 0; i < txn->n && rc == 0; i++)
		rc = link_one(txn->mb, &txn->msgs[i], &t->final[i], err);
	if (rc == 0)
		rc = sync_dirs(txn->mb, err);
	if (rc == 0 && want_uids)
		rc = assign_uids(txn, uidvalidity_r, err);
	if (rc == 0) { /* nothing left to undo */
		for (size_t i = 0; i < txn->n; i++)
			free(t->final[i]);
		free(t->final);
		free(t);
		txn->be = NULL;
	}
	return rc;
}

void md_txn_abort(struct store_txn *txn)
{
	struct md_box *be = txn->mb->be;
	struct md_txn *t = txn->be;
	char path[PATH_MAX];

	if (t == NULL)
		return;
	store_close_fd(&t->fd);
	for (size_t i = 0; i < txn->n; i++) {
		const char *name = t->final != NULL ? t->final[i] : NULL;

		if (name != NULL &&
		    store_path(path, sizeof(path), "%s/%s", be->dir, name) == 0)
			unlink(path);
		if (txn->msgs[i].tmp_name != NULL &&
		    store_path(path, sizeof(path), "%s/tmp/%s", be->dir,
			       txn->msgs[i].tmp_name) == 0)
			unlink(path);
		if (t->final != NULL)
			free(t->final[i]);
	}
	free(t->final);
	free(t);
	txn->be = NULL;
}
