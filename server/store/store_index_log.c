/*
 * store_index_log.c - deltas appended to an index file (the layout is
 * in store_index.h): a few new or changed records, new keyword names and
 * the header's fields, written at the end of the file and fsync'd, so a
 * change costs what changed, not the whole index.
 *
 * Crash safety: a delta is only appended, never written over, and its
 * checksum covers all of it; a torn delta is ignored by readers (the
 * index then describes an older state of the mailbox, which the
 * backends detect and resync from the mail) and cut off by the next
 * writer before it appends. A writer appends only to the very file it
 * read or wrote under the mailbox's lock: same base generation, same
 * length. Once the deltas are larger than the base (plus 64 KB) the
 * writer is told to write the index whole, which drops them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_fs.h"
#include "store_index_int.h"
#include "store_util.h"

#define LOG_SLACK 65536u

/* New keyword names: exactly count of them, each ended by '\n'. */
static int names_ok(const unsigned char *p, size_t len, uint32_t count,
		    struct store_index *tmp)
{
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		if (p[i] != '\n')
			continue;
		if (sx_keyword_add(tmp, p + start, i - start) != 0)
			return -1;
		start = i + 1;
	}
	return start == len && tmp->n_keywords == count ? 0 : -1;
}

/* The records of one delta, checked against idx as it would be after
 * it; out gets where each goes (an index, or recs.n + k for new ones). */
static int recs_ok(const unsigned char *p, uint32_t n, uint32_t next_uid,
		   uint32_t n_kw, const struct store_index *idx, size_t *out)
{
	uint32_t last = idx->recs.n > 0 ? idx->recs.v[idx->recs.n - 1].uid : 0;
	size_t added = 0;

	for (uint32_t i = 0; i < n; i++) {
		struct store_rec r;
		long at;

		sx_get_rec(p + (size_t)i * STORE_INDEX_RECORD_SIZE, &r);
		if (!sx_rec_ok(&r, next_uid, n_kw))
			return -1;
		at = store_recs_find(&idx->recs, r.uid);
		if (at < 0 && r.uid <= last)
			return -1; /* new, but not above every UID */
		if (at < 0)
			last = r.uid;
		out[i] = at >= 0 ? (size_t)at : idx->recs.n + added++;
	}
	return 0;
}

/* Apply one delta of dlen bytes at p; -1 (nothing applied) if bad. */
static int apply_one(const unsigned char *p, size_t dlen,
		     struct store_index *idx)
{
	uint32_t n = sx_get32(p + 12), kw_total = sx_get32(p + 28);
	uint32_t next = sx_get32(p + 20), recent = sx_get32(p + 24);
	uint32_t kw_bytes = sx_get32(p + 56);
	const unsigned char *recs = p + STORE_INDEX_DELTA_HEADER;
	struct store_index tmp = {0};
	size_t *where;
	int rc = -1;

	if ((uint64_t)STORE_INDEX_DELTA_HEADER +
		    (uint64_t)n * STORE_INDEX_RECORD_SIZE + kw_bytes + 8 !=
	    dlen)
		return -1;
	if (sx_get32(p + 16) != idx->uidvalidity || next < idx->next_uid ||
	    recent == 0 || recent > next || kw_total > STORE_INDEX_KEYWORDS ||
	    kw_total < idx->n_keywords || sx_get32(p + 60) != 0)
		return -1;
	where = calloc((size_t)n + 1, sizeof(*where));
	if (where == NULL ||
	    store_keywords_copy(&tmp.keywords, &tmp.n_keywords, idx->keywords,
				idx->n_keywords) != 0)
		goto out;
	if (names_ok(recs + (size_t)n * STORE_INDEX_RECORD_SIZE, kw_bytes,
		     kw_total, &tmp) != 0 ||
	    recs_ok(recs, n, next, kw_total, idx, where) != 0)
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		struct store_rec r;

		sx_get_rec(recs + (size_t)i * STORE_INDEX_RECORD_SIZE, &r);
		if (where[i] < idx->recs.n)
			idx->recs.v[where[i]] = r;
		else if (store_recs_push(&idx->recs, &r) != 0)
			goto out;
	}
	store_keywords_free(&idx->keywords, &idx->n_keywords);
	idx->keywords = tmp.keywords;
	idx->n_keywords = tmp.n_keywords;
	tmp.keywords = NULL;
	tmp.n_keywords = 0;
	idx->next_uid = next;
	idx->recent_first = recent;
	idx->src_ino = sx_get64(p + 32);
	idx->src_size = sx_get64(p + 40);
	idx->src_mtime_ns = sx_get64(p + 48);
	rc = 0;
out:
	store_keywords_free(&tmp.keywords, &tmp.n_keywords);
	free(where);
	return rc;
}

size_t sx_log_apply(const unsigned char *data, size_t len,
		    struct store_index *idx)
{
	size_t off = 0;

	while (len - off >= STORE_INDEX_DELTA_HEADER + 8) {
		const unsigned char *p = data + off;
		size_t dlen = sx_get32(p + 8);

		if (memcmp(p, "QIDD", 4) != 0 || sx_get32(p + 4) != 1 ||
		    dlen < STORE_INDEX_DELTA_HEADER + 8 || dlen > len - off ||
		    sx_get64(p + dlen - 8) !=
			    store_hash(STORE_HASH_INIT, p, dlen - 8) ||
		    apply_one(p, dlen, idx) != 0)
			break;
		off += dlen;
	}
	return off;
}

static unsigned char *format_delta(const struct store_index *idx,
				   const size_t *at, size_t n_at,
				   size_t first_new, size_t kw_from,
				   size_t *len_r)
{
	size_t n = n_at + (idx->recs.n - first_new), kw_bytes = 0, len, off;
	unsigned char *p;

	for (size_t i = kw_from; i < idx->n_keywords; i++)
		kw_bytes += strlen(idx->keywords[i]) + 1;
	len = STORE_INDEX_DELTA_HEADER + n * STORE_INDEX_RECORD_SIZE +
	      kw_bytes + 8;
	if (len > UINT32_MAX || (p = calloc(1, len)) == NULL)
		return NULL;
	memcpy(p, "QIDD", 4);
	sx_put32(p + 4, 1);
	sx_put32(p + 8, (uint32_t)len);
	sx_put32(p + 12, (uint32_t)n);
	sx_put32(p + 16, idx->uidvalidity);
	sx_put32(p + 20, idx->next_uid);
	sx_put32(p + 24, idx->recent_first);
	sx_put32(p + 28, (uint32_t)idx->n_keywords);
	sx_put64(p + 32, idx->src_ino);
	sx_put64(p + 40, idx->src_size);
	sx_put64(p + 48, idx->src_mtime_ns);
	sx_put32(p + 56, (uint32_t)kw_bytes);
	off = STORE_INDEX_DELTA_HEADER;
	for (size_t i = 0; i < n; i++, off += STORE_INDEX_RECORD_SIZE)
		sx_put_rec(
			p + off,
			&idx->recs.v[i < n_at ? at[i] : first_new + i - n_at]);
	for (size_t i = kw_from; i < idx->n_keywords; i++) {
		size_t k = strlen(idx->keywords[i]);

		memcpy(p + off, idx->keywords[i], k);
		p[off + k] = '\n';
		off += k + 1;
	}
	sx_put64(p + off, store_hash(STORE_HASH_INIT, p, off));
	*len_r = len;
	return p;
}

/* Is fd the file idx describes (maybe with a torn delta after it)? */
static bool same_base(int fd, const struct store_index *idx)
{
	unsigned char h[STORE_INDEX_HEADER_SIZE];
	struct stat st;

	return store_pread_full(fd, h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
	       memcmp(h, "QIDX", 4) == 0 &&
	       sx_get64(h + 32) == idx->generation && fstat(fd, &st) == 0 &&
	       (uint64_t)st.st_size >= idx->file_len;
}

int store_index_append(const char *path, struct store_index *idx,
		       const size_t *at, size_t n_at, size_t first_new,
		       size_t kw_from, bool dosync, struct store_error *err)
{
	unsigned char *delta;
	size_t len;
	int fd, rc = 0;

	if (idx->generation == 0 || idx->base_len == 0 ||
	    first_new > idx->recs.n || kw_from > idx->n_keywords)
		return 1;
	delta = format_delta(idx, at, n_at, first_new, kw_from, &len);
	if (delta == NULL)
		return store_fail_errno(err, errno != 0 ? errno : EFBIG, "%s",
					path);
	if (idx->file_len + len > 2 * idx->base_len + LOG_SLACK) {
		free(delta);
		return 1;
	}
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || !same_base(fd, idx)) {
		if (fd >= 0)
			close(fd);
		free(delta);
		return 1;
	}
	if (ftruncate(fd, (off_t)idx->file_len) != 0 ||
	    store_pwrite_all(fd, delta, len, (off_t)idx->file_len) != 0 ||
	    (dosync && fsync(fd) != 0))
		rc = store_fail_errno(err, errno, "%s", path);
	if (store_close_fd(&fd) != 0 && rc == 0)
		rc = store_fail_errno(err, errno, "%s", path);
	free(delta);
	if (rc == 0)
		idx->file_len += len;
	return rc;
}
