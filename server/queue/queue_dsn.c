/*
 * queue_dsn.c - which recipients are owed a delivery status notification
 * and how it gets into the queue exactly once (see queue_dsn.h; the
 * notice itself is dsn.c's).
 */
#include "queue_dsn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queue/dsn.h"
#include "queue/queue_job.h"
#include "queue/spool_internal.h"
#include "queue/spool_seal.h"
#include "smtp/smtp_session.h"

#define QPATH (CONFIG_PATH_MAX + 2 * SPOOL_ID_MAX + 16)

/* What recipient r is owed now, or -1 (module comment in queue_dsn.h). */
static int owed(const struct queue_job *j, const struct queue_rcpt *r)
{
	unsigned n = r->notify;
	if (j->msg.from == NULL || j->msg.from[0] == '\0')
		return -1; /* RFC 5321 4.5.5, 6.1: never to <> */
	if (n & SMTP_NOTIFY_NEVER)
		return -1;
	switch (r->state) {
	case QUEUE_RCPT_FAILED:
		return !r->dsn_final && (n == 0 || (n & SMTP_NOTIFY_FAILURE))
			       ? DSN_FAILED
			       : -1;
	case QUEUE_RCPT_DONE:
		return !r->dsn_final && (n & SMTP_NOTIFY_SUCCESS)
			       ? DSN_DELIVERED
			       : -1;
	case QUEUE_RCPT_DEFERRED:
		if (r->dsn_delayed || j->cfg.queue_delay_warning == 0 ||
		    j->now - j->msg.arrived <
			    (time_t)j->cfg.queue_delay_warning)
			return -1;
		return n == 0 || (n & SMTP_NOTIFY_DELAY) ? DSN_DELAYED : -1;
	default:
		return -1;
	}
}

bool queue_dsn_owed(const struct queue_job *j)
{
	for (size_t i = 0; i < j->msg.n_rcpt; i++)
		if (owed(j, &j->msg.rcpt[i]) >= 0)
			return true;
	return false;
}

static int fail(struct queue_job *j, const char *what, const char *path)
{
	snprintf(j->err, sizeof(j->err), "%s %.400s: %s", what, path,
		 strerror(errno));
	return -1;
}

static bool hook(struct queue_job *j, unsigned step)
{
	if (j->hooks != NULL && j->hooks->stop(j->hooks->arg, step))
		j->stopped = true;
	return j->stopped;
}

static void dsn_id(const struct queue_job *j, unsigned batch, char *out)
{
	snprintf(out, SPOOL_ID_MAX, "%.20sN%u", j->id, batch);
}

/* dsn/<nid> into new/, new/ fsync'd; gone already is fine. */
static int promote(struct queue_job *j, const char *nid)
{
	char from[QPATH], to[QPATH], dir[QPATH];
	snprintf(from, sizeof(from), "%s/dsn/%s", j->queue_dir, nid);
	snprintf(to, sizeof(to), "%s/new/%s", j->queue_dir, nid);
	snprintf(dir, sizeof(dir), "%s/new", j->queue_dir);
	if (rename(from, to) != 0)
		return errno == ENOENT ? 0 : fail(j, "cannot rename", from);
	if (spool_fsync_dir(dir) != 0)
		return fail(j, "cannot fsync", dir);
	if (j->n_dsn < sizeof(j->dsn_ids) / sizeof(j->dsn_ids[0]))
		snprintf(j->dsn_ids[j->n_dsn++], SPOOL_ID_MAX, "%s", nid);
	return 0;
}

/* The message's first bytes (at most queue.dsn_return_max + 1). */
static int read_content(struct queue_job *j, char **out, size_t *len_r,
			bool *whole_r)
{
	char path[QPATH];
	size_t max = j->cfg.queue_dsn_return_max;
	size_t want = j->msg.size <= max ? (size_t)j->msg.size : max;
	snprintf(path, sizeof(path), "%s/new/%s", j->queue_dir, j->id);
	*whole_r = j->msg.size <= max;
	*out = malloc(want + 1);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*out == NULL || fd < 0) {
		if (fd >= 0)
			close(fd);
		return fail(j, "cannot read", path);
	}
	size_t got = 0;
	while (got < want) {
		ssize_t n = pread(fd, *out + got, want - got,
				  (off_t)(j->msg.offset + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	*len_r = got;
	*whole_r &= got == (size_t)j->msg.size;
	return 0;
}

/* The spool file of the notice (spool.h format 1) into b. */
static int spool_text(struct queue_job *j, const char *nid,
		      const struct dsn_report *rep, struct buf *b)
{
	char date[64];
	struct buf body;
	spool_date(j->now, date, sizeof(date));
	buf_init(&body, b->max);
	int rc = buf_printf(&body, "Received: by %s (Quill) id %s;\r\n\t%s\r\n",
			    j->cfg.hostname, nid, date);
	if (rc == 0)
		rc = dsn_build(rep, &body);
	bool eight = dsn_returns_full(rep) && rep->content_8bit;
	struct spool_seal seal;
	char sv[SPOOL_SEAL_VALUE_LEN + 1];
	spool_seal_init(&seal);
	spool_seal_add(&seal, buf_data(&body), buf_len(&body));
	spool_seal_format(&seal, sv);
	if (rc == 0)
		rc = buf_printf(b,
				"QUILL-SPOOL 1\nid %s\narrived %lld\nfrom <>\n"
				"size %zu\nbody %s\nsmtputf8 0\nhelo %s\n"
				"peer -\ntls -\nrcpt <%s>\n" SPOOL_SEAL_KEY
				"%s\n\n",
				nid, (long long)j->now, buf_len(&body),
				eight ? "8BITMIME" : "7BIT", j->cfg.hostname,
				j->msg.from, sv);
	if (rc == 0)
		rc = buf_append(b, buf_data(&body), buf_len(&body));
	buf_free(&body);
	return rc;
}

static int write_file(const char *path, const struct buf *b)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	const unsigned char *p = buf_data(b);
	size_t left = buf_len(b);
	while (left > 0) {
		ssize_t w = write(fd, p, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return -1;
		}
		p += w;
		left -= (size_t)w;
	}
	if (fsync(fd) != 0) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* Write the notice to dsn/<nid>: tmp/, fsync, rename, fsync dsn/. */
static int stage(struct queue_job *j, const char *nid,
		 const struct dsn_report *rep)
{
	char tmp[QPATH], dst[QPATH + SPOOL_ID_MAX], dir[QPATH];
	struct buf b;
	snprintf(tmp, sizeof(tmp), "%s/tmp/%s", j->queue_dir, nid);
	snprintf(dir, sizeof(dir), "%s/dsn", j->queue_dir);
	snprintf(dst, sizeof(dst), "%s/%s", dir, nid);
	if (mkdir(dir, 0750) != 0 && errno != EEXIST)
		return fail(j, "cannot create", dir);
	buf_init(&b,
		 j->cfg.queue_dsn_return_max + rep->n_rcpt * 4096 + (1u << 20));
	int rc = spool_text(j, nid, rep, &b);
	if (rc != 0)
		snprintf(j->err, sizeof(j->err), "notice %s too big", nid);
	else if (write_file(tmp, &b) != 0)
		rc = fail(j, "cannot write", tmp);
	else if (rename(tmp, dst) != 0)
		rc = fail(j, "cannot rename", tmp);
	else if (spool_fsync_dir(dir) != 0)
		rc = fail(j, "cannot fsync", dir);
	buf_free(&b);
	if (rc != 0)
		unlink(tmp);
	return rc;
}

/* The recipients owed a notice now, as dsn_rcpt; *n_r of them. */
static struct dsn_rcpt *collect(const struct queue_job *j, size_t **idx_r,
				size_t *n_r)
{
	struct dsn_rcpt *v = calloc(j->msg.n_rcpt, sizeof(*v));
	size_t *idx = calloc(j->msg.n_rcpt, sizeof(*idx)), n = 0;
	if (v == NULL || idx == NULL) {
		free(v);
		free(idx);
		return NULL;
	}
	for (size_t i = 0; i < j->msg.n_rcpt; i++) {
		const struct queue_rcpt *r = &j->msg.rcpt[i];
		int a = owed(j, r);
		if (a < 0)
			continue;
		struct dsn_rcpt *d = &v[n];
		idx[n++] = i;
		d->addr = r->addr;
		d->orcpt = r->orcpt;
		d->action = (enum dsn_action)a;
		d->last_attempt = r->when;
		d->status = a == DSN_DELIVERED ? "2.0.0"
			    : r->enhanced[0]   ? r->enhanced
			    : a == DSN_FAILED  ? "5.0.0"
					       : "4.0.0";
		d->code = a == DSN_DELIVERED ? 0 : r->code;
		d->text = r->text;
		if (a == DSN_DELAYED)
			d->retry_until =
				j->msg.arrived + (time_t)j->cfg.queue_max_age;
	}
	*idx_r = idx;
	*n_r = n;
	return v;
}

/* "dsn" records for the recipients of notice batch (fsync'd). */
static int record(struct queue_job *j, const struct dsn_rcpt *v,
		  const size_t *idx, size_t n, unsigned batch)
{
	size_t cap = n * 128 + 1, len = 0;
	char *lines = malloc(cap);
	if (lines == NULL)
		return fail(j, "out of memory for", j->id);
	for (size_t k = 0; k < n; k++)
		len += queue_state_dsn(lines + len, cap - len, idx[k], j->now,
				       v[k].action == DSN_FAILED ? "failed"
				       : v[k].action == DSN_DELAYED
					       ? "delayed"
					       : "delivered",
				       batch);
	int rc = queue_state_append(j->queue_dir, j->id, lines, len, true,
				    j->err, sizeof(j->err));
	free(lines);
	if (rc != 0)
		return -1;
	for (size_t k = 0; k < n; k++) {
		struct queue_rcpt *r = &j->msg.rcpt[idx[k]];
		if (v[k].action == DSN_DELAYED)
			r->dsn_delayed = true;
		else
			r->dsn_final = true;
	}
	j->msg.dsn_batches = batch;
	return 0;
}

/* Make, stage, record and queue notice batch for v. */
static int issue(struct queue_job *j, const struct dsn_rcpt *v,
		 const size_t *idx, size_t n)
{
	char nid[SPOOL_ID_MAX];
	unsigned batch = j->msg.dsn_batches + 1;
	char *content = NULL;
	size_t clen = 0;
	bool whole = false;
	dsn_id(j, batch, nid);
	if (read_content(j, &content, &clen, &whole) != 0) {
		free(content);
		return -1;
	}
	struct dsn_report rep = {
		.hostname = j->cfg.hostname,
		.id = nid,
		.orig_id = j->id,
		.sender = j->msg.from,
		.envid = j->msg.envid,
		.ret = j->msg.ret,
		.arrived = j->msg.arrived,
		.now = j->now,
		.rcpt = v,
		.n_rcpt = n,
		.content = content,
		.content_len = clen,
		.content_whole = whole,
		.content_binary = strcmp(j->msg.body, "BINARYMIME") == 0,
		.content_8bit = strcmp(j->msg.body, "8BITMIME") == 0};
	int rc = stage(j, nid, &rep);
	free(content);
	if (rc != 0 || hook(j, QUEUE_JOB_STEP_DSN_STAGED))
		return rc;
	if (record(j, v, idx, n, batch) != 0)
		return -1;
	if (hook(j, QUEUE_JOB_STEP_DSN_RECORDED))
		return 0;
	return promote(j, nid);
}

int queue_dsn_settle(struct queue_job *j)
{
	char nid[SPOOL_ID_MAX];
	/* recorded notices a crash left in dsn/ */
	for (unsigned b = 1; b <= j->msg.dsn_batches; b++) {
		dsn_id(j, b, nid);
		if (promote(j, nid) != 0)
			return -1;
	}
	if (!queue_dsn_owed(j))
		return 0;
	size_t *idx = NULL, n = 0;
	struct dsn_rcpt *v = collect(j, &idx, &n);
	if (v == NULL) {
		snprintf(j->err, sizeof(j->err), "out of memory");
		return -1;
	}
	int rc = issue(j, v, idx, n);
	free(v);
	free(idx);
	return rc;
}
