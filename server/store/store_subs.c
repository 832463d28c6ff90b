/*
 * store_subs.c - the store-wide files: subscriptions and the UIDVALIDITY
 * allocator.
 *
 * Subscriptions (RFC 3501 6.3.6/6.3.7): one canonical mailbox name per
 * line, UTF-8, '/' separated; changed under the dotlock
 * "<file>.lock" and replaced atomically. Lines that are not valid names
 * are skipped when reading (and dropped at the next change).
 *
 * UIDVALIDITY (RFC 3501 2.3.1.1): a new mailbox, or one whose UIDs had to
 * be renumbered, takes max(now, last + 1) from a small file holding the
 * last value issued, read and rewritten under an fcntl lock and fsync'd.
 * So no two mailboxes of a store, past or present, share a UIDVALIDITY,
 * and a mailbox recreated under an old name never reuses one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store_backend.h"
#include "store_fs.h"
#include "store_internal.h"
#include "store_lock.h"
#include "store_util.h"

#define SUBS_MAX_BYTES (4u * 1024u * 1024u)

static int subs_parse(struct store *st, char *data, char ***names_r,
		      size_t *n_r)
{
	char *save = NULL;

	for (char *line = strtok_r(data, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char canon[1024];

		if (store_name_check(st, line, canon, sizeof(canon), NULL) !=
			    0 ||
		    store_keywords_find(*names_r, *n_r, canon) >= 0)
			continue;
		if (store_keywords_add(names_r, n_r, canon) != 0)
			return -1;
	}
	return 0;
}

int store_subs_load(struct store *st, char ***names_r, size_t *n_r,
		    struct store_error *err)
{
	char *data;
	size_t len;

	*names_r = NULL;
	*n_r = 0;
	if (store_read_file(st->subs_path, SUBS_MAX_BYTES, &data, &len) != 0) {
		if (errno == ENOENT)
			return 0;
		return store_fail_errno(err, errno, "%s", st->subs_path);
	}
	(void)len; /* a NUL byte ends the list early; nothing is lost */
	if (subs_parse(st, data, names_r, n_r) != 0) {
		free(data);
		store_keywords_free(names_r, n_r);
		return store_fail_errno(err, ENOMEM, "subscriptions");
	}
	free(data);
	return 0;
}

/* Names are compared exactly here (INBOX is already canonical). */
static long find_exact(char **names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return (long)i;
	return -1;
}

static int subs_write(struct store *st, char **names, size_t n,
		      struct store_error *err)
{
	size_t len = 0, off = 0;
	char *data;
	int rc;

	for (size_t i = 0; i < n; i++)
		len += strlen(names[i]) + 1;
	data = malloc(len + 1);
	if (data == NULL)
		return store_fail_errno(err, errno, "subscriptions");
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(names[i]);

		memcpy(data + off, names[i], l);
		data[off + l] = '\n';
		off += l + 1;
	}
	rc = store_file_replace(st->subs_path, data, len, st->cfg.fsync);
	if (rc != 0)
		store_fail_errno(err, errno, "%s", st->subs_path);
	free(data);
	return rc;
}

int store_subs_set(struct store *st, const char *canon, bool on,
		   struct store_error *err)
{
	struct store_lock_opts o;
	struct store_dotlock lk;
	char lock_path[PATH_MAX];
	char **names;
	size_t n;
	long at;
	int rc = 0;

	if (store_path(lock_path, sizeof(lock_path), "%s.lock",
		       st->subs_path) != 0)
		return store_fail_errno(err, errno, "subscriptions");
	store_lock_opts_init(&o, st);
	if (store_dotlock_take(&lk, lock_path, &o, err) != 0)
		return -1;
	if (store_subs_load(st, &names, &n, err) != 0) {
		store_dotlock_release(&lk);
		return -1;
	}
	at = find_exact(names, n, canon);
	if (on && at < 0) {
		if (store_keywords_add(&names, &n, canon) != 0)
			rc = store_fail_errno(err, errno, "subscriptions");
		else
			rc = subs_write(st, names, n, err);
	} else if (!on && at >= 0) {
		free(names[at]);
		memmove(names + at, names + at + 1,
			(n - (size_t)at - 1) * sizeof(*names));
		n--;
		rc = subs_write(st, names, n, err);
	}
	store_keywords_free(&names, &n);
	store_dotlock_release(&lk);
	return rc;
}

static uint32_t uidv_choose(const char *buf, ssize_t n)
{
	unsigned long last = 0;
	time_t now = time(NULL);
	uint32_t next;

	if (n > 0) {
		char *end;

		errno = 0;
		last = strtoul(buf, &end, 10);
		if (errno != 0 || end == buf || last > UINT32_MAX)
			last = 0;
	}
	next = now > 0 && (uint64_t)now < UINT32_MAX ? (uint32_t)now : 1;
	if (last >= next)
		next = last == UINT32_MAX ? 1 : (uint32_t)last + 1;
	return next;
}

int store_uidvalidity_next(struct store *st, uint32_t *uidv_r,
			   struct store_error *err)
{
	char buf[32];
	uint32_t next;
	ssize_t n;
	int fd, len;

	fd = open(st->uidv_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return store_fail_errno(err, errno, "%s", st->uidv_path);
	if (store_ofd_lock(fd, F_WRLCK, 0, 0,
			   store_now_ms() + st->cfg.lock_timeout_ms,
			   err) != 0) {
		close(fd);
		return -1;
	}
	n = store_pread_full(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	next = uidv_choose(buf, n);
	len = snprintf(buf, sizeof(buf), "%u\n", (unsigned)next);
	if (store_pwrite_all(fd, buf, (size_t)len, 0) != 0 ||
	    ftruncate(fd, len) != 0 || (st->cfg.fsync && fsync(fd) != 0)) {
		int saved = errno;

		close(fd);
		return store_fail_errno(err, saved, "%s", st->uidv_path);
	}
	if (store_close_fd(&fd) != 0)
		return store_fail_errno(err, errno, "%s", st->uidv_path);
	*uidv_r = next;
	return 0;
}
