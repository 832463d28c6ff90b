/*
 * queue_file.c - reading spool envelopes and the delivery state beside
 * them (see queue_file.h).
 */
#include "queue_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "spool_internal.h"

#define ENVELOPE_MAX   (4u << 20) /* 1000s of recipients fit */
#define STATE_MAX      (4u << 20)
#define QUEUE_PATH_MAX 2048

static int fail(char *err, size_t errlen, const char *what, const char *path)
{
	snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
	return -1;
}

static int bad(char *err, size_t errlen, const char *path, const char *why)
{
	snprintf(err, errlen, "%s: %s", path, why);
	return -1;
}

/* Read fd up to the empty line ending the envelope (or max bytes). */
static int read_head(int fd, struct buf *b, size_t *end_r)
{
	char chunk[8192];
	for (;;) {
		const char *s = (const char *)buf_data(b);
		const char *e = buf_len(b) > 0
					? memmem(s, buf_len(b), "\n\n", 2)
					: NULL;
		if (e != NULL) {
			*end_r = (size_t)(e - s) + 2;
			return 0;
		}
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || buf_append(b, chunk, (size_t)n) != 0) {
			if (n == 0)
				errno = EPROTO;
			return -1;
		}
	}
}

/* "<addr>" without the brackets, malloc'ed. */
static char *path_value(const char *v, size_t len)
{
	if (len < 2 || v[0] != '<' || v[len - 1] != '>')
		return NULL;
	return strndup(v + 1, len - 2);
}

static int add_rcpt(struct queue_msg *m, char *addr, size_t *cap)
{
	if (m->n_rcpt == *cap) {
		size_t c = *cap ? *cap * 2 : 8;
		struct queue_rcpt *v = realloc(m->rcpt, c * sizeof(*v));
		if (v == NULL)
			return -1;
		m->rcpt = v;
		*cap = c;
	}
	memset(&m->rcpt[m->n_rcpt], 0, sizeof(m->rcpt[0]));
	m->rcpt[m->n_rcpt++].addr = addr;
	return 0;
}

/* One "key value" line of the envelope. */
static int envelope_line(struct queue_msg *m, const char *line, size_t len,
			 size_t *cap)
{
	const char *sp = memchr(line, ' ', len);
	size_t klen = sp != NULL ? (size_t)(sp - line) : len;
	const char *v = sp != NULL ? sp + 1 : line + len;
	size_t vlen = len - klen - (sp != NULL);
	char num[32];

	if (klen == 2 && memcmp(line, "id", 2) == 0) {
		snprintf(m->id, sizeof(m->id), "%.*s", (int)vlen, v);
	} else if (klen == 7 && memcmp(line, "arrived", 7) == 0) {
		snprintf(num, sizeof(num), "%.*s", (int)vlen, v);
		m->arrived = (time_t)strtoll(num, NULL, 10);
	} else if (klen == 4 && memcmp(line, "from", 4) == 0) {
		free(m->from);
		if ((m->from = path_value(v, vlen)) == NULL)
			return -1;
	} else if (klen == 4 && memcmp(line, "seal", 4) == 0) {
		if (spool_seal_parse(v, vlen, &m->seal, &m->seal_zero) != 0)
			return -1;
		m->sealed = true;
	} else if (klen == 4 && memcmp(line, "rcpt", 4) == 0) {
		char *a = path_value(v, vlen);
		if (a == NULL || add_rcpt(m, a, cap) != 0) {
			free(a);
			return -1;
		}
	} else if (klen == 8 && memcmp(line, "rcpt-dsn", 8) == 0) {
		/* one we cannot read only costs its notices */
		if (m->n_rcpt > 0)
			(void)queue_rcpt_dsn_parse(
				v, vlen, &m->rcpt[m->n_rcpt - 1].notify,
				&m->rcpt[m->n_rcpt - 1].orcpt);
	} else if (klen == 3 && memcmp(line, "ret", 3) == 0) {
		m->ret = vlen > 0 ? v[0] : 0;
	} else if (klen == 5 && memcmp(line, "envid", 5) == 0) {
		free(m->envid);
		if ((m->envid = strndup(v, vlen)) == NULL)
			return -1;
	} else if (klen == 4 && memcmp(line, "body", 4) == 0) {
		snprintf(m->body, sizeof(m->body), "%.*s", (int)vlen, v);
	}
	return 0; /* other keys are for people (quill queue show) */
}

static int parse_envelope(struct queue_msg *m, const char *s, size_t len)
{
	size_t cap = 0;
	const char *end = s + len;
	const char *nl = memchr(s, '\n', len);
	if (nl == NULL || (size_t)(nl - s) != 13 ||
	    memcmp(s, "QUILL-SPOOL 1", 13) != 0)
		return -1;
	for (const char *p = nl + 1; p < end && *p != '\n'; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL || envelope_line(m, p, (size_t)(nl - p), &cap))
			return -1;
	}
	return m->from != NULL && m->n_rcpt > 0 && m->id[0] ? 0 : -1;
}

int queue_envelope_read(const char *path, struct queue_msg *m, char *err,
			size_t errlen)
{
	struct buf b;
	struct stat sb;
	size_t end;
	int rc = -1;

	memset(m, 0, sizeof(*m));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(err, errlen, "cannot open", path);
	buf_init(&b, ENVELOPE_MAX);
	if (fstat(fd, &sb) != 0 || read_head(fd, &b, &end) != 0)
		fail(err, errlen, "cannot read", path);
	else if (parse_envelope(m, (const char *)buf_data(&b), end) != 0)
		bad(err, errlen, path, "not a spool file (format 1)");
	else if ((m->envelope = strndup((const char *)buf_data(&b) + 14,
					end - 15)) == NULL)
		bad(err, errlen, path, "out of memory");
	else
		rc = 0;
	if (rc == 0) {
		m->offset = end;
		m->size = (uint64_t)sb.st_size - end;
	}
	buf_free(&b);
	close(fd);
	if (rc != 0)
		queue_msg_free(m);
	return rc;
}

void queue_msg_free(struct queue_msg *m)
{
	for (size_t i = 0; i < m->n_rcpt; i++) {
		free(m->rcpt[i].addr);
		free(m->rcpt[i].orcpt);
	}
	free(m->rcpt);
	free(m->envid);
	free(m->from);
	free(m->envelope);
	memset(m, 0, sizeof(*m));
}

/* Split s at blanks into at most n words, the last taking the rest. */
static size_t split_words(char *s, char **w, size_t n)
{
	size_t k = 0;
	while (k < n && *s != '\0') {
		w[k++] = s;
		char *sp = strchr(s, ' ');
		if (k == n || sp == NULL)
			break;
		*sp = '\0';
		s = sp + 1;
	}
	return k;
}

static void failure(struct queue_rcpt *r, char **w)
{
	r->code = (int)strtol(w[0], NULL, 10);
	snprintf(r->enhanced, sizeof(r->enhanced), "%s", w[1]);
	snprintf(r->text, sizeof(r->text), "%s", w[2]);
}

/* "dsn <i> <time> <action> <batch>": what was reported (queue_dsn.h). */
static void dsn_line(struct queue_msg *m, struct queue_rcpt *r, char **w,
		     size_t n)
{
	if (n < 5)
		return;
	unsigned long b = strtoul(w[4], NULL, 10);
	if (b > m->dsn_batches && b < 100000)
		m->dsn_batches = (unsigned)b;
	if (strcmp(w[3], "delayed") == 0)
		r->dsn_delayed = true;
	else
		r->dsn_final = true;
}

/* One record: kind, recipient, time, then what the kind has. */
static void state_line(struct queue_msg *m, char *line)
{
	char *w[7], *end;
	size_t n = split_words(line, w, 7);
	bool defer = n == 7 && strcmp(w[0], "defer") == 0;
	if (n < 3)
		return;
	if (strcmp(w[0], "fail") == 0 && n >= 6) { /* text may hold blanks */
		if (n == 7)
			w[5][strlen(w[5])] = ' ';
		n = 6;
	}
	unsigned long i = strtoul(w[1], &end, 10);
	if (*end != '\0' || i >= m->n_rcpt)
		return;
	struct queue_rcpt *r = &m->rcpt[i];
	if (strcmp(w[0], "dsn") == 0) {
		dsn_line(m, r, w, n);
		return;
	}
	if (strcmp(w[0], "try") == 0) {
		r->in_flight = true;
		return;
	}
	r->in_flight = false; /* an outcome follows its try */
	r->when = (time_t)strtoll(w[2], NULL, 10);
	if (strcmp(w[0], "done") == 0) {
		r->state = QUEUE_RCPT_DONE;
	} else if (strcmp(w[0], "remote") == 0) {
		r->state = QUEUE_RCPT_REMOTE;
	} else if (defer) {
		r->state = QUEUE_RCPT_DEFERRED;
		r->attempts++;
		r->next_try = (time_t)strtoll(w[3], NULL, 10);
		failure(r, w + 4);
	} else if (n == 6 && strcmp(w[0], "fail") == 0) {
		r->state = QUEUE_RCPT_FAILED;
		failure(r, w + 3);
	}
}

static int read_state(const char *path, struct queue_msg *m, char *err,
		      size_t errlen)
{
	struct buf b;
	char chunk[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0
				       : fail(err, errlen, "cannot open", path);
	buf_init(&b, STATE_MAX);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0 ||
	       (n < 0 && errno == EINTR))
		if (n > 0 && buf_append(&b, chunk, (size_t)n) != 0)
			break;
	close(fd);
	/* only whole lines: a torn last line is ignored */
	const char *p = (const char *)buf_data(&b), *end = p + buf_len(&b);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		char line[512];
		if (nl == NULL)
			break;
		if ((size_t)(nl - p) < sizeof(line)) {
			memcpy(line, p, (size_t)(nl - p));
			line[nl - p] = '\0';
			state_line(m, line);
		}
		p = nl + 1;
	}
	buf_free(&b);
	return 0;
}

/* A committed file's message matches its seal (spool_seal.h). */
static int check_seal(const char *path, const struct queue_msg *m, char *err,
		      size_t errlen)
{
	char why[128];
	if (!m->sealed)
		return 0; /* written before seals: flushed before its rename */
	if (m->seal_zero) {
		bad(err, errlen, path, "torn: never sealed");
		return QUEUE_TORN;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(err, errlen, "cannot open", path);
	int rc = spool_seal_check(fd, m->offset, &m->seal, why, sizeof(why));
	close(fd);
	if (rc < 0)
		return fail(err, errlen, "cannot read", path);
	if (rc > 0) {
		snprintf(err, errlen, "%s: torn: %s", path, why);
		return QUEUE_TORN;
	}
	return 0;
}

int queue_msg_read(const char *queue_dir, const char *id, struct queue_msg *m,
		   char *err, size_t errlen)
{
	char path[QUEUE_PATH_MAX];
	snprintf(path, sizeof(path), "%s/new/%s", queue_dir, id);
	if (queue_envelope_read(path, m, err, errlen) != 0)
		return -1;
	int torn = check_seal(path, m, err, errlen);
	if (torn != 0) {
		queue_msg_free(m);
		return torn;
	}
	snprintf(path, sizeof(path), "%s/state/%s", queue_dir, id);
	if (read_state(path, m, err, errlen) != 0) {
		queue_msg_free(m);
		return -1;
	}
	return 0;
}

size_t queue_state_record(char *out, size_t n, enum queue_rcpt_state st,
			  size_t i, time_t when, time_t next, int code,
			  const char *enhanced, const char *text)
{
	char safe[200];
	int w = -1;
	snprintf(safe, sizeof(safe), "%s", text != NULL ? text : "");
	for (char *p = safe; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	switch (st) {
	case QUEUE_RCPT_DONE:
	case QUEUE_RCPT_REMOTE:
		w = snprintf(out, n, "%s %zu %lld\n",
			     st == QUEUE_RCPT_DONE ? "done" : "remote", i,
			     (long long)when);
		break;
	case QUEUE_RCPT_DEFERRED:
		w = snprintf(out, n, "defer %zu %lld %lld %d %s %s\n", i,
			     (long long)when, (long long)next, code,
			     enhanced[0] ? enhanced : "-", safe);
		break;
	case QUEUE_RCPT_FAILED:
		w = snprintf(out, n, "fail %zu %lld %d %s %s\n", i,
			     (long long)when, code,
			     enhanced[0] ? enhanced : "-", safe);
		break;
	case QUEUE_RCPT_PENDING:
		break;
	}
	return w > 0 && (size_t)w < n ? (size_t)w : 0;
}

static int write_all(int fd, const char *p, size_t len)
{
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

size_t queue_state_dsn(char *out, size_t n, size_t i, time_t when,
		       const char *action, unsigned batch)
{
	int w = snprintf(out, n, "dsn %zu %lld %s %u\n", i, (long long)when,
			 action, batch);
	return w > 0 && (size_t)w < n ? (size_t)w : 0;
}

size_t queue_state_try(char *out, size_t n, size_t i, time_t when)
{
	int w = snprintf(out, n, "try %zu %lld\n", i, (long long)when);
	return w > 0 && (size_t)w < n ? (size_t)w : 0;
}

/* A record cut short (a crash while it was written) would run into the
 * next one: cut the file back to its last newline. */
static int cut_torn_tail(int fd)
{
	char tail[512];
	struct stat sb;
	if (fstat(fd, &sb) != 0)
		return -1;
	off_t end = sb.st_size;
	while (end > 0) {
		size_t n =
			end < (off_t)sizeof(tail) ? (size_t)end : sizeof(tail);
		ssize_t got = pread(fd, tail, n, end - (off_t)n);
		if (got != (ssize_t)n)
			return -1;
		const char *nl = memrchr(tail, '\n', n);
		if (nl != NULL) {
			end -= (off_t)n - (off_t)(nl - tail) - 1;
			break;
		}
		end -= (off_t)n;
	}
	return end == sb.st_size ? 0 : ftruncate(fd, end);
}

int queue_state_append(const char *queue_dir, const char *id, const char *lines,
		       size_t len, bool sync, char *err, size_t errlen)
{
	char dir[QUEUE_PATH_MAX], path[QUEUE_PATH_MAX + SPOOL_ID_MAX + 2];
	snprintf(dir, sizeof(dir), "%s/state", queue_dir);
	snprintf(path, sizeof(path), "%s/%s", dir, id);
	if (mkdir(dir, 0750) != 0 && errno != EEXIST)
		return fail(err, errlen, "cannot create", dir);
	bool created = true;
	int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC,
		      0640);
	if (fd < 0 && errno == EEXIST) {
		created = false;
		fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
	}
	if (fd < 0)
		return fail(err, errlen, "cannot open", path);
	if (cut_torn_tail(fd) != 0 || write_all(fd, lines, len) != 0 ||
	    (sync && fdatasync(fd) != 0)) {
		fail(err, errlen, "cannot write", path);
		close(fd);
		return -1;
	}
	if (close(fd) != 0)
		return fail(err, errlen, "cannot close", path);
	if (sync && created && spool_fsync_dir(dir) != 0)
		return fail(err, errlen, "cannot fsync", dir);
	return 0;
}

const char *queue_rcpt_state_name(enum queue_rcpt_state st)
{
	static const char *const names[] = {"pending", "done", "deferred",
					    "failed", "remote"};
	return (size_t)st < sizeof(names) / sizeof(names[0]) ? names[st] : "?";
}
