/*
 * store_lock.c - dotlocks and open file description locks with deadlines
 * (see store_lock.h). Waiting is a retry loop with a growing sleep (1 ms
 * to 50 ms): no alarm(), no signals, safe in threads.
 */
#include "store_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store_fs.h"
#include "store_util.h"

void store_lock_opts_init(struct store_lock_opts *o, const struct store *st)
{
	o->deadline_ms = store_now_ms() + st->cfg.lock_timeout_ms;
	o->stale_secs = st->cfg.lock_stale_secs;
	o->hostname = st->hostname;
}

static unsigned backoff(unsigned *ms)
{
	unsigned cur = *ms;

	*ms = *ms >= 25 ? 50 : *ms * 2;
	return cur;
}

/* Who holds the lock: pid (0 = unknown), whether on this host, and the
 * note on its second line. */
static void lock_owner(const char *path, const char *host, pid_t *pid_r,
		       bool *local_r, char *note, size_t note_size)
{
	char buf[400];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	char *end, *colon, *nl;
	long pid;

	*pid_r = 0;
	*local_r = false;
	note[0] = '\0';
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	nl = strchr(buf, '\n');
	if (nl != NULL) {
		*nl = '\0';
		snprintf(note, note_size, "%.*s", (int)strcspn(nl + 1, "\n"),
			 nl + 1);
	}
	buf[strcspn(buf, "\r")] = '\0';
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || pid <= 0 || pid > INT32_MAX)
		return;
	colon = *end == ':' ? end + 1 : NULL;
	*pid_r = (pid_t)pid;
	*local_r = colon != NULL && strcmp(colon, host) == 0;
}

static bool pid_alive(pid_t pid)
{
	return kill(pid, 0) == 0 || errno == EPERM;
}

/* Remove lock_path if it is stale; true if it was removed. */
static bool break_stale(struct store_dotlock *lk, const char *lock_path,
			const struct store_lock_opts *o)
{
	struct stat st, again;
	char note[sizeof(lk->stale_note)];
	pid_t pid;
	bool local, stale;

	if (lstat(lock_path, &st) != 0)
		return errno == ENOENT; /* gone already: just retry */
	lock_owner(lock_path, o->hostname, &pid, &local, note, sizeof(note));
	if (local && pid > 0 && !pid_alive(pid))
		stale = true;
	else if (local && pid > 0)
		stale = false;
	else
		stale = time(NULL) - st.st_mtime >= (time_t)o->stale_secs;
	if (!stale)
		return false;
	/* Only the file we judged: a fresh lock made since stays. */
	if (lstat(lock_path, &again) != 0)
		return errno == ENOENT;
	if (again.st_ino != st.st_ino || again.st_dev != st.st_dev ||
	    again.st_mtim.tv_sec != st.st_mtim.tv_sec ||
	    again.st_mtim.tv_nsec != st.st_mtim.tv_nsec)
		return false;
	if (unlink(lock_path) != 0 && errno != ENOENT)
		return false;
	memcpy(lk->stale_note, note, sizeof(note));
	return true;
}

static int lock_body(char *body, size_t size, const char *host,
		     const char *note)
{
	int n = snprintf(body, size, "%ld:%s\n%s%s", (long)getpid(), host, note,
			 note[0] != '\0' ? "\n" : "");

	return n < 0 || (size_t)n >= size ? -1 : n;
}

/* Create the lock with its content already in it: write a hidden temp
 * file, link() it to the lock name (fails with EEXIST if held), unlink
 * the temp name. So a holder killed at any moment never leaves an empty
 * lock whose owner nobody can tell (a dead owner frees it at once). */
static int try_create(struct store_dotlock *lk, const char *host)
{
	char body[400], tmp[PATH_MAX], *slash;
	struct stat st;
	uint32_t r;
	int n, fd, rc, saved;

	store_random(&r, sizeof(r));
	slash = strrchr(lk->path, '/');
	if (store_path(tmp, sizeof(tmp), "%.*s.%s.%ld.%08x",
		       slash != NULL ? (int)(slash - lk->path + 1) : 0,
		       lk->path, slash != NULL ? slash + 1 : lk->path,
		       (long)getpid(), (unsigned)r) != 0)
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0644);
	if (fd < 0)
		return -1;
	n = lock_body(body, sizeof(body), host, "");
	rc = n < 0 || store_write_all(fd, body, (size_t)n) != 0 ||
			     fstat(fd, &st) != 0
		     ? -1
		     : 0;
	saved = errno;
	close(fd);
	if (rc == 0 && link(tmp, lk->path) != 0) {
		rc = -1;
		saved = errno;
	}
	unlink(tmp);
	errno = saved;
	if (rc != 0)
		return -1;
	lk->dev = st.st_dev;
	lk->ino = st.st_ino;
	lk->held = true;
	return 0;
}

int store_dotlock_take(struct store_dotlock *lk, const char *lock_path,
		       const struct store_lock_opts *o, struct store_error *err)
{
	unsigned wait = 1;

	memset(lk, 0, sizeof(*lk));
	snprintf(lk->host, sizeof(lk->host), "%s", o->hostname);
	if (store_path(lk->path, sizeof(lk->path), "%s", lock_path) != 0)
		return store_fail_errno(err, errno, "%s", lock_path);
	for (;;) {
		if (try_create(lk, o->hostname) == 0)
			return 0;
		if (errno != EEXIST)
			return store_fail_errno(err, errno, "dotlock %s",
						lock_path);
		if (break_stale(lk, lock_path, o))
			continue;
		if (store_now_ms() >= o->deadline_ms)
			return store_fail(err, STORE_E_LOCKED,
					  "%s is locked by another process",
					  lock_path);
		store_sleep_ms(backoff(&wait));
	}
}

int store_dotlock_note(struct store_dotlock *lk, const char *note)
{
	char body[400];
	struct stat st;
	int fd, n, rc = -1;

	n = lock_body(body, sizeof(body), lk->host, note);
	fd = open(lk->path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	if (n >= 0 && lk->held && fstat(fd, &st) == 0 && st.st_ino == lk->ino &&
	    store_pwrite_all(fd, body, (size_t)n, 0) == 0 &&
	    ftruncate(fd, n) == 0)
		rc = 0;
	close(fd);
	return rc;
}

void store_dotlock_release(struct store_dotlock *lk)
{
	struct stat st;

	if (!lk->held)
		return;
	lk->held = false;
	if (lstat(lk->path, &st) == 0 && st.st_dev == lk->dev &&
	    st.st_ino == lk->ino)
		unlink(lk->path);
}

int store_ofd_lock(int fd, short type, off_t start, off_t len,
		   uint64_t deadline_ms, struct store_error *err)
{
	unsigned wait = 1;
	struct flock fl;

	for (;;) {
		memset(&fl, 0, sizeof(fl));
		fl.l_type = type;
		fl.l_whence = SEEK_SET;
		fl.l_start = start;
		fl.l_len = len;
		if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EACCES)
			return store_fail_errno(err, errno, "fcntl lock");
		if (store_now_ms() >= deadline_ms)
			return store_fail(err, STORE_E_LOCKED,
					  "mailbox is locked by another "
					  "process");
		store_sleep_ms(backoff(&wait));
	}
}
