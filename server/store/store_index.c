/*
 * store_index.c - read, check and write the per-mailbox index file (the
 * layout is in store_index.h). Fields are encoded one by one, never by
 * dumping structs, so the file is the same on every build and the parser
 * can be fed arbitrary bytes (fuzz/fuzz_store_uidlist.c).
 */
#include "store_index.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "store_fs.h"
#include "store_index_int.h"
#include "store_util.h"

#define get32 sx_get32
#define get64 sx_get64
#define put32 sx_put32
#define put64 sx_put64

uint32_t sx_get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

uint64_t sx_get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

void sx_put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

void sx_put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

void store_index_clear(struct store_index *idx)
{
	store_recs_clear(&idx->recs);
	store_keywords_free(&idx->keywords, &idx->n_keywords);
	memset(idx, 0, sizeof(*idx));
}

/* Version 2 hashes 8-byte words; version 1 (read only) hashed bytes. */
static uint64_t checksum(const unsigned char *data, size_t len,
			 uint32_t version)
{
	static const unsigned char zero[8];
	uint64_t (*hash)(uint64_t, const void *, size_t) =
		version == 1 ? store_hash : store_hash_words;
	uint64_t h = hash(STORE_HASH_INIT, data, 88);

	h = hash(h, zero, sizeof(zero));
	return hash(h, data + 96, len - 96);
}

int sx_keyword_add(struct store_index *idx, const unsigned char *p, size_t n)
{
	char name[STORE_KEYWORD_LEN_MAX + 1];

	if (n == 0 || n > STORE_KEYWORD_LEN_MAX)
		return -1;
	memcpy(name, p, n);
	name[n] = '\0';
	if (!store_keyword_valid(name) ||
	    store_keywords_find(idx->keywords, idx->n_keywords, name) >= 0 ||
	    store_keywords_add(&idx->keywords, &idx->n_keywords, name) != 0)
		return -1;
	return 0;
}

static int parse_keywords(const unsigned char *p, size_t len, uint32_t count,
			  struct store_index *idx, struct store_error *err)
{
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		size_t n = i - start;

		if (p[i] != '\n')
			continue;
		if (sx_keyword_add(idx, p + start, n) != 0)
			return store_fail(err, STORE_E_CORRUPT, "bad keyword");
		start = i + 1;
	}
	if (start != len || idx->n_keywords != count)
		return store_fail(err, STORE_E_CORRUPT, "bad keyword table");
	return 0;
}

void sx_get_rec(const unsigned char *p, struct store_rec *r)
{
	memset(r, 0, sizeof(*r));
	r->uid = get32(p);
	r->flags = get32(p + 4);
	r->keywords = get64(p + 8);
	r->size = get64(p + 16);
	r->offset = get64(p + 24);
	r->raw_len = get64(p + 32);
	r->internal_date = (int64_t)get64(p + 40);
	r->fingerprint = get64(p + 48);
	r->header_size = get32(p + 56);
	r->aux = get32(p + 60);
}

bool sx_rec_ok(const struct store_rec *r, uint32_t next_uid, uint32_t n_kw)
{
	uint64_t kw_mask = n_kw >= 64 ? UINT64_MAX : (1ULL << n_kw) - 1;

	return r->uid != 0 && r->uid < next_uid &&
	       (r->flags & ~STORE_F_PERMANENT) == 0 &&
	       (r->keywords & ~kw_mask) == 0 &&
	       (r->header_size == STORE_HDR_UNKNOWN ||
		r->header_size <= r->size);
}

static int check_rec(const struct store_rec *r, uint32_t prev_uid,
		     const struct store_index *idx, uint32_t n_kw)
{
	return r->uid > prev_uid && sx_rec_ok(r, idx->next_uid, n_kw) ? 0 : -1;
}

static int parse_header(const unsigned char *p, size_t len,
			struct store_index *idx, uint32_t *count_r,
			uint32_t *kw_count_r, uint32_t *kw_bytes_r)
{
	uint64_t want;

	if (len < STORE_INDEX_HEADER_SIZE || memcmp(p, "QIDX", 4) != 0 ||
	    (get32(p + 4) != STORE_INDEX_VERSION && get32(p + 4) != 1) ||
	    get32(p + 8) != STORE_INDEX_HEADER_SIZE ||
	    get32(p + 12) != STORE_INDEX_RECORD_SIZE)
		return -1;
	*count_r = get32(p + 16);
	idx->uidvalidity = get32(p + 20);
	idx->next_uid = get32(p + 24);
	idx->recent_first = get32(p + 28);
	idx->generation = get64(p + 32);
	idx->src_ino = get64(p + 40);
	idx->src_size = get64(p + 48);
	idx->src_mtime_ns = get64(p + 56);
	*kw_count_r = get32(p + 64);
	*kw_bytes_r = get32(p + 68);
	want = STORE_INDEX_HEADER_SIZE +
	       (uint64_t)*count_r * STORE_INDEX_RECORD_SIZE + *kw_bytes_r;
	if (want > len || get64(p + 72) != 0 || get64(p + 80) != 0 ||
	    get64(p + 88) != checksum(p, (size_t)want, get32(p + 4)))
		return -1;
	if (idx->uidvalidity == 0 || idx->next_uid == 0 ||
	    idx->recent_first == 0 || idx->recent_first > idx->next_uid ||
	    *kw_count_r > STORE_INDEX_KEYWORDS)
		return -1;
	return 0;
}

int store_index_parse(const void *data, size_t len, struct store_index *idx,
		      struct store_error *err)
{
	const unsigned char *p = data;
	uint32_t count, kw_count, kw_bytes, prev = 0;
	size_t off = STORE_INDEX_HEADER_SIZE;

	memset(idx, 0, sizeof(*idx));
	if (parse_header(p, len, idx, &count, &kw_count, &kw_bytes) != 0) {
		store_index_clear(idx);
		return store_fail(err, STORE_E_CORRUPT, "bad index header");
	}
	for (uint32_t i = 0; i < count; i++, off += STORE_INDEX_RECORD_SIZE) {
		struct store_rec r;

		sx_get_rec(p + off, &r);
		if (check_rec(&r, prev, idx, kw_count) != 0) {
			store_index_clear(idx);
			return store_fail(err, STORE_E_CORRUPT,
					  "bad index record %u", i);
		}
		if (store_recs_push(&idx->recs, &r) != 0) {
			store_index_clear(idx);
			return store_fail_errno(err, errno, "index");
		}
		prev = r.uid;
	}
	if (parse_keywords(p + off, kw_bytes, kw_count, idx, err) != 0) {
		store_index_clear(idx);
		return -1;
	}
	idx->base_len = off + kw_bytes;
	idx->file_len = idx->base_len + sx_log_apply(p + idx->base_len,
						     len - idx->base_len, idx);
	return 0;
}

void sx_put_rec(unsigned char *p, const struct store_rec *r)
{
	put32(p, r->uid);
	put32(p + 4, r->flags & STORE_F_PERMANENT);
	put64(p + 8, r->keywords);
	put64(p + 16, r->size);
	put64(p + 24, r->offset);
	put64(p + 32, r->raw_len);
	put64(p + 40, (uint64_t)r->internal_date);
	put64(p + 48, r->fingerprint);
	put32(p + 56, r->header_size);
	put32(p + 60, r->aux);
}

int store_index_format(struct store_index *idx, unsigned char **data_r,
		       size_t *len_r)
{
	size_t kw_bytes = 0, len, off;
	unsigned char *p;

	for (size_t i = 0; i < idx->n_keywords; i++)
		kw_bytes += strlen(idx->keywords[i]) + 1;
	if (idx->recs.n > (STORE_INDEX_MAX_BYTES - kw_bytes) /
				  STORE_INDEX_RECORD_SIZE ||
	    idx->n_keywords > STORE_INDEX_KEYWORDS) {
		errno = EFBIG;
		return -1;
	}
	len = STORE_INDEX_HEADER_SIZE + idx->recs.n * STORE_INDEX_RECORD_SIZE +
	      kw_bytes;
	p = calloc(1, len);
	if (p == NULL)
		return -1;
	do
		store_random(&idx->generation, sizeof(idx->generation));
	while (idx->generation == 0);
	memcpy(p, "QIDX", 4);
	put32(p + 4, STORE_INDEX_VERSION);
	put32(p + 8, STORE_INDEX_HEADER_SIZE);
	put32(p + 12, STORE_INDEX_RECORD_SIZE);
	put32(p + 16, (uint32_t)idx->recs.n);
	put32(p + 20, idx->uidvalidity);
	put32(p + 24, idx->next_uid);
	put32(p + 28, idx->recent_first);
	put64(p + 32, idx->generation);
	put64(p + 40, idx->src_ino);
	put64(p + 48, idx->src_size);
	put64(p + 56, idx->src_mtime_ns);
	put32(p + 64, (uint32_t)idx->n_keywords);
	put32(p + 68, (uint32_t)kw_bytes);
	off = STORE_INDEX_HEADER_SIZE;
	for (size_t i = 0; i < idx->recs.n; i++, off += STORE_INDEX_RECORD_SIZE)
		sx_put_rec(p + off, &idx->recs.v[i]);
	for (size_t i = 0; i < idx->n_keywords; i++) {
		size_t n = strlen(idx->keywords[i]);

		memcpy(p + off, idx->keywords[i], n);
		p[off + n] = '\n';
		off += n + 1;
	}
	put64(p + 88, checksum(p, len, STORE_INDEX_VERSION));
	idx->base_len = idx->file_len = len;
	*data_r = p;
	*len_r = len;
	return 0;
}

int store_index_read(const char *path, struct store_index *idx,
		     struct store_error *err)
{
	char *data;
	size_t len;
	int rc;

	memset(idx, 0, sizeof(*idx));
	if (store_read_file(path, STORE_INDEX_MAX_BYTES, &data, &len) != 0) {
		if (errno == E2BIG)
			return store_fail(err, STORE_E_CORRUPT, "%s: too large",
					  path);
		return store_fail_errno(err, errno, "%s", path);
	}
	rc = store_index_parse(data, len, idx, err);
	free(data);
	return rc;
}

int store_index_write(const char *path, struct store_index *idx, bool dosync,
		      struct store_error *err)
{
	unsigned char *data;
	size_t len;
	int rc;

	if (store_index_format(idx, &data, &len) != 0)
		return store_fail_errno(err, errno, "%s", path);
	rc = store_file_replace(path, data, len, dosync);
	if (rc != 0)
		store_fail_errno(err, errno, "%s", path);
	free(data);
	return rc;
}

static uint64_t stamp(uint64_t generation, uint64_t len)
{
	return generation == 0 ? 0 : generation ^ (len * 0x9e3779b97f4a7c15ULL);
}

uint64_t store_index_stamp(const struct store_index *idx)
{
	return stamp(idx->generation, idx->file_len);
}

uint64_t store_index_peek(const char *path)
{
	unsigned char h[STORE_INDEX_HEADER_SIZE];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	ssize_t n;

	if (fd < 0)
		return 0;
	n = store_pread_full(fd, h, sizeof(h), 0);
	if (fstat(fd, &st) != 0)
		n = -1;
	close(fd);
	if (n != (ssize_t)sizeof(h) || memcmp(h, "QIDX", 4) != 0)
		return 0;
	return stamp(get64(h + 32), (uint64_t)st.st_size);
}
