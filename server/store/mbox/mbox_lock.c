/*
 * mbox_lock.c - locking an mbox the way mutt, procmail and Dovecot do:
 * first the dotlock "<mbox>.lock" (O_EXCL, stale rules in store_lock.h),
 * then an fcntl lock on the file itself (an open file description lock,
 * which conflicts with other programs' POSIX locks). Dovecot's default
 * order is the same (dotlock, then fcntl), so the two never wait for each
 * other in a cycle; every wait has the store's lock timeout and ends in
 * STORE_E_LOCKED (a temporary failure).
 *
 * Under the lock the file is opened anew, so a writer never works on an
 * inode that was replaced while it waited. Taking the lock also finishes
 * an expunge that a crash interrupted (mbox_expunge.c explains the
 * journal), before anything reads the file.
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

/* The lock we broke was held by an appender that died: what it wrote
 * after the size it noted was never acknowledged. */
static int undo_append(struct store_mailbox *mb, struct store_error *err)
{
	struct mbox_box *be = mb->be;
	unsigned long long size;
	struct stat st;
	char *end;

	if (strncmp(be->dl.stale_note, "append ", 7) != 0)
		return 0;
	errno = 0;
	size = strtoull(be->dl.stale_note + 7, &end, 10);
	if (errno != 0 || *end != '\0' || fstat(be->fd, &st) != 0 ||
	    (unsigned long long)st.st_size <= size)
		return 0;
	log_warn(NULL, "store.mbox.append_undone path=%s size=%llu", be->path,
		 size);
	if (mbox_lock_write(mb, size, err) != 0)
		return -1;
	if (ftruncate(be->fd, (off_t)size) != 0 ||
	    (mb->st->cfg.fsync && fsync(be->fd) != 0))
		return store_fail_errno(err, errno, "%s", be->path);
	return 0;
}

int mbox_lock(struct store_mailbox *mb, struct store_error *err)
{
	struct mbox_box *be = mb->be;
	struct store_lock_opts o;
	int flags = O_RDWR | O_CLOEXEC | (be->inbox ? O_CREAT : 0);
	int rc;

	store_lock_opts_init(&o, mb->st);
	be->deadline_ms = o.deadline_ms;
	if (store_dotlock_take(&be->dl, be->lock_path, &o, err) != 0)
		return -1;
	be->fd = open(be->path, flags, 0600);
	if (be->fd < 0) {
		int saved = errno;

		store_dotlock_release(&be->dl);
		if (saved == ENOENT)
			return store_fail(err, STORE_E_NOTFOUND,
					  "mailbox %s vanished", mb->name);
		return store_fail_errno(err, saved, "%s", be->path);
	}
	if (store_ofd_lock(be->fd, F_RDLCK, 0, 0, be->deadline_ms, err) != 0 ||
	    undo_append(mb, err) != 0)
		rc = -1;
	else
		rc = mbox_journal_replay(mb, err);
	if (rc < 0) {
		mbox_unlock(mb);
		return -1;
	}
	if (rc > 0)
		log_warn(NULL, "store.mbox.expunge_replayed path=%s", be->path);
	return 0;
}

int mbox_lock_write(struct store_mailbox *mb, uint64_t start,
		    struct store_error *err)
{
	struct mbox_box *be = mb->be;

	return store_ofd_lock(be->fd, F_WRLCK, (off_t)start, 0, be->deadline_ms,
			      err);
}

void mbox_unlock(struct store_mailbox *mb)
{
	struct mbox_box *be = mb->be;

	if (be->fd >= 0)
		close(be->fd); /* drops the fcntl locks */
	be->fd = -1;
	store_dotlock_release(&be->dl);
}

/* Hash and length of a file's whole content. */
static int file_sum(int fd, uint64_t *len_r, uint64_t *hash_r)
{
	char buf[65536];
	uint64_t h = STORE_HASH_INIT, len = 0;
	ssize_t n;

	while ((n = store_pread_full(fd, buf, sizeof(buf), (off_t)len)) > 0) {
		h = store_hash(h, buf, (size_t)n);
		len += (uint64_t)n;
	}
	*len_r = len;
	*hash_r = h;
	return n < 0 ? -1 : 0;
}

/* Copy fd's content to the mbox at start and cut the mbox there. */
static int apply(struct store_mailbox *mb, int fd, uint64_t start, uint64_t len,
		 struct store_error *err)
{
	struct mbox_box *be = mb->be;
	char buf[65536];

	for (uint64_t off = 0; off < len;) {
		size_t want = len - off < sizeof(buf) ? (size_t)(len - off)
						      : sizeof(buf);
		ssize_t n = store_pread_full(fd, buf, want, (off_t)off);

		if (n != (ssize_t)want ||
		    store_pwrite_all(be->fd, buf, want, (off_t)(start + off)))
			return store_fail_errno(err, n < 0 ? errno : EIO,
						"expunge %s", be->path);
		off += want;
	}
	if (ftruncate(be->fd, (off_t)(start + len)) != 0 ||
	    (mb->st->cfg.fsync && fsync(be->fd) != 0))
		return store_fail_errno(err, errno, "expunge %s", be->path);
	return 0;
}

int mbox_journal_replay(struct store_mailbox *mb, struct store_error *err)
{
	struct mbox_box *be = mb->be;
	uint64_t start, len, hash, flen, fhash;
	char *data;
	size_t dlen;
	int fd, rc;

	if (store_read_file(be->journal_path, 256, &data, &dlen) != 0)
		return errno == ENOENT ? 0
				       : store_fail_errno(err, errno, "%s",
							  be->journal_path);
	rc = sscanf(data, "QJ1 %" SCNu64 " %" SCNu64 " %" SCNx64, &start, &len,
		    &hash);
	free(data);
	fd = open(be->expunge_path, O_RDONLY | O_CLOEXEC);
	if (rc != 3 || fd < 0 || file_sum(fd, &flen, &fhash) != 0 ||
	    flen != len || fhash != hash) {
		/* Written whole by rename after its data was synced: this
		 * is outside damage. The next sync rescans the file. */
		log_error(NULL, "store.mbox.journal_bad path=%s",
			  be->journal_path);
		if (fd >= 0)
			close(fd);
		unlink(be->journal_path);
		return 0;
	}
	rc = mbox_lock_write(mb, start, err);
	if (rc == 0)
		rc = apply(mb, fd, start, len, err);
	close(fd);
	if (rc != 0)
		return -1;
	if (unlink(be->journal_path) != 0 ||
	    (mb->st->cfg.fsync && store_fsync_parent(be->journal_path) != 0))
		return store_fail_errno(err, errno, "%s", be->journal_path);
	unlink(be->expunge_path);
	return 1;
}
