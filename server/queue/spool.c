/*
 * spool.c - writing spool files durably (see spool.h).
 *
 * The order is what makes "250 means on disk" true: write, seal, fsync the
 * file, close and check the close, rename tmp/<id> to new/<id>, fsync the
 * new/ directory. Only then is the message acknowledged. A crash before
 * the rename leaves a tmp/ file nobody was told about; after it, the
 * message is in new/ and will be delivered after the restart.
 */
#include "spool.h"
#include "spool_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

static int fail(char *err, size_t errlen, const char *what, const char *path)
{
	snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
	return -1;
}

static int make_dir(const char *path)
{
	return mkdir(path, 0750) == 0 || errno == EEXIST ? 0 : -1;
}

int spool_init(const char *queue_dir, char *err, size_t errlen)
{
	char tmp[1024], new[1024];
	snprintf(tmp, sizeof(tmp), "%s/tmp", queue_dir);
	snprintf(new, sizeof(new), "%s/new", queue_dir);
	if (make_dir(queue_dir) != 0)
		return fail(err, errlen, "cannot create", queue_dir);
	if (make_dir(tmp) != 0 || make_dir(new) != 0)
		return fail(err, errlen, "cannot create", tmp);
	DIR *d = opendir(tmp);
	if (d == NULL)
		return fail(err, errlen, "cannot open", tmp);
	int removed = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}

/* A unique id: seconds, a per-process counter and random bits, in
 * upper-case hex (an RFC 5321 Atom, fit for "id" in Received). */
static void make_id(time_t now, char *id, size_t n)
{
	static unsigned counter;
	uint32_t rnd = 0;
	if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		rnd = (uint32_t)getpid();
	snprintf(id, n, "%08llX%05X%06X",
		 (unsigned long long)now & 0xffffffffULL,
		 (unsigned)(counter++ & 0xfffff), (unsigned)(rnd & 0xffffff));
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* "rcpt <addr>", then the DSN parameters given with it (RFC 3461 4.1,
 * 4.2) on a "rcpt-dsn" line of their own. */
static int write_rcpt(struct buf *b, const struct smtp_rcpt *r)
{
	static const char *const words[] = {"NEVER", "SUCCESS", "FAILURE",
					    "DELAY"};
	char notify[40] = "";
	size_t pos = 0;
	if (buf_printf(b, "rcpt <%s>\n", r->addr) != 0)
		return -1;
	if (r->notify == 0 && r->orcpt == NULL)
		return 0;
	for (unsigned i = 0; i < 4; i++)
		if (r->notify & (1u << i))
			pos += (size_t)snprintf(notify + pos,
						sizeof(notify) - pos, "%s%s",
						pos > 0 ? "," : "", words[i]);
	return buf_printf(b, "rcpt-dsn%s%s%s%s\n", pos > 0 ? " NOTIFY=" : "",
			  notify, r->orcpt != NULL ? " ORCPT=" : "",
			  r->orcpt != NULL ? r->orcpt : "");
}

static int write_envelope(struct spool_msg *m, const struct smtp_envelope *env,
			  const char *id, time_t now)
{
	int fd = m->fd;
	struct buf b;
	buf_init(&b, 1 << 20);
	int rc = buf_printf(&b,
			    "QUILL-SPOOL 1\nid %s\narrived %lld\nfrom <%s>\n"
			    "size %llu\nbody %s\nsmtputf8 %d\nhelo %s\n"
			    "peer %s\ntls %s\n",
			    id, (long long)now, env->mail_from, env->size,
			    env->body_binary ? "BINARYMIME"
			    : env->body_8bit ? "8BITMIME"
					     : "7BIT",
			    env->smtputf8 ? 1 : 0, env->helo, env->peer,
			    env->tls[0] ? env->tls : "-");
	if (rc == 0 && env->ret != SMTP_RET_UNSET)
		rc = buf_printf(&b, "ret %s\n",
				env->ret == SMTP_RET_FULL ? "FULL" : "HDRS");
	if (rc == 0 && env->envid != NULL)
		rc = buf_printf(&b, "envid %s\n", env->envid);
	if (rc == 0 && env->auth_from != NULL) /* RFC 4954 5 */
		rc = buf_printf(&b, "auth-from <%s>\n", env->auth_from);
	for (size_t i = 0; rc == 0 && i < env->n_rcpt; i++)
		rc = write_rcpt(&b, &env->rcpt[i]);
	/* the seal: zeros now, filled in at commit in the same width */
	m->seal_at = buf_len(&b) + strlen(SPOOL_SEAL_KEY);
	if (rc == 0)
		rc = buf_printf(&b, SPOOL_SEAL_KEY "%016d %016d\n\n", 0, 0);
	if (rc == 0)
		rc = write_all(fd, buf_data(&b), buf_len(&b));
	buf_free(&b);
	return rc;
}

struct spool_msg *spool_begin(const char *queue_dir,
			      const struct smtp_envelope *env, time_t now,
			      char *id_r, char *err, size_t errlen)
{
	struct spool_msg *m = calloc(1, sizeof(*m));
	if (m == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	make_id(now, id_r, SPOOL_ID_MAX);
	snprintf(m->tmp, sizeof(m->tmp), "%s/tmp/%s", queue_dir, id_r);
	snprintf(m->final, sizeof(m->final), "%s/new/%s", queue_dir, id_r);
	snprintf(m->newdir, sizeof(m->newdir), "%s/new", queue_dir);
	m->fd = open(m->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (m->fd < 0) {
		fail(err, errlen, "cannot create", m->tmp);
		free(m);
		return NULL;
	}
	spool_seal_init(&m->seal);
	if (write_envelope(m, env, id_r, now) != 0) {
		fail(err, errlen, "cannot write", m->tmp);
		spool_abort(&m);
		return NULL;
	}
	return m;
}

int spool_write(struct spool_msg *m, const void *data, size_t len, char *err,
		size_t errlen)
{
	if (write_all(m->fd, data, len) != 0)
		return fail(err, errlen, "cannot write", m->tmp);
	spool_seal_add(&m->seal, data, len);
	return 0;
}

int spool_seal_write(struct spool_msg *m)
{
	char v[SPOOL_SEAL_VALUE_LEN + 1];
	spool_seal_format(&m->seal, v);
	ssize_t w = pwrite(m->fd, v, SPOOL_SEAL_VALUE_LEN, (off_t)m->seal_at);
	if (w == SPOOL_SEAL_VALUE_LEN)
		return 0;
	if (w >= 0)
		errno = EIO;
	return -1;
}

int spool_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int spool_commit(struct spool_msg **mp, char *err, size_t errlen)
{
	struct spool_msg *m = *mp;
	int rc = -1;
	*mp = NULL;
	if (spool_seal_write(m) != 0) {
		fail(err, errlen, "cannot write", m->tmp);
		close(m->fd);
	} else if (fsync(m->fd) != 0) {
		fail(err, errlen, "cannot fsync", m->tmp);
		close(m->fd);
	} else if (close(m->fd) != 0) {
		fail(err, errlen, "cannot close", m->tmp);
	} else if (rename(m->tmp, m->final) != 0) {
		fail(err, errlen, "cannot rename", m->tmp);
	} else if (spool_fsync_dir(m->newdir) != 0) {
		/* renamed but maybe not durable: report the failure; the
		 * client retries and may deliver twice (RFC 5321 6.1) */
		fail(err, errlen, "cannot fsync", m->newdir);
	} else {
		rc = 0;
	}
	if (rc != 0)
		unlink(m->tmp); /* never acknowledged */
	free(m);
	return rc;
}

void spool_abort(struct spool_msg **mp)
{
	struct spool_msg *m = *mp;
	if (m == NULL)
		return;
	if (m->fd >= 0)
		close(m->fd);
	unlink(m->tmp);
	free(m);
	*mp = NULL;
}

const char *spool_tmp_path(const struct spool_msg *m)
{
	return m->tmp;
}

void spool_date(time_t now, char *out, size_t n)
{
	struct tm tm;
	if (localtime_r(&now, &tm) == NULL ||
	    strftime(out, n, "%a, %d %b %Y %H:%M:%S %z", &tm) == 0)
		snprintf(out, n, "Thu, 01 Jan 1970 00:00:00 +0000");
}
