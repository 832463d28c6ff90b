/*
 * store_cache.c - an append-only cache of parsed message data (ENVELOPE,
 * BODYSTRUCTURE, ...) so IMAP need not parse a message twice.
 *
 * File: a 16-byte header ("QCCH", version 1, the mailbox's UIDVALIDITY,
 * 0), then records: magic "QCER", uid, field, length (u32 each, little
 * endian), FNV-1a of the data (u64), the data. Writers append one record
 * with one write() under an fcntl lock, first cutting off a damaged tail;
 * readers take no lock and stop at the first record that is incomplete or
 * fails its hash. The cache is advisory: whatever is wrong with it costs
 * only a re-parse. A header for another UIDVALIDITY empties it. Entries of
 * expunged messages stay until the file is dropped (compaction is a later
 * step); the file stops growing at STORE_CACHE_FILE_MAX.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_backend.h"
#include "store_fs.h"
#include "store_internal.h"
#include "store_lock.h"
#include "store_util.h"

#define CACHE_HDR	     16u
#define CACHE_REC	     24u
#define STORE_CACHE_FILE_MAX (256u * 1024u * 1024u)

struct cache_entry {
	uint32_t uid, field, len;
	uint64_t off; /* of the data */
};

struct store_cache {
	int fd;
	uint32_t uidvalidity;
	uint64_t valid_end; /* end of the last good record read */
	struct cache_entry *v;
	size_t n, cap;
	uint32_t *slots; /* open addressing: index + 1 into v, 0 = empty */
	size_t n_slots;	 /* a power of two, > 2 * n */
};

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

void store_cache_free(struct store_cache **cp)
{
	struct store_cache *c = *cp;

	if (c == NULL)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->v);
	free(c->slots);
	free(c);
	*cp = NULL;
}

/* Empty the file and write a header for our UIDVALIDITY (locked). */
static int cache_reset(struct store_cache *c)
{
	unsigned char h[CACHE_HDR] = "QCCH";

	put32(h + 4, 1);
	put32(h + 8, c->uidvalidity);
	put32(h + 12, 0);
	c->n = 0;
	if (c->n_slots > 0)
		memset(c->slots, 0, c->n_slots * sizeof(*c->slots));
	c->valid_end = CACHE_HDR;
	if (ftruncate(c->fd, 0) != 0 ||
	    store_pwrite_all(c->fd, h, sizeof(h), 0) != 0)
		return -1;
	return 0;
}

static size_t slot_of(const struct store_cache *c, uint32_t uid, uint32_t field)
{
	uint64_t key = (uint64_t)uid << 32 | field;
	size_t i = (size_t)(store_hash(STORE_HASH_INIT, &key, sizeof(key)) &
			    (c->n_slots - 1));

	while (c->slots[i] != 0) {
		const struct cache_entry *e = &c->v[c->slots[i] - 1];

		if (e->uid == uid && e->field == field)
			break;
		i = (i + 1) & (c->n_slots - 1);
	}
	return i;
}

static int rehash(struct store_cache *c)
{
	size_t n = c->n_slots == 0 ? 256 : c->n_slots * 2;
	uint32_t *slots = calloc(n, sizeof(*slots));

	if (slots == NULL)
		return -1;
	free(c->slots);
	c->slots = slots;
	c->n_slots = n;
	for (size_t k = 0; k < c->n; k++)
		c->slots[slot_of(c, c->v[k].uid, c->v[k].field)] =
			(uint32_t)k + 1;
	return 0;
}

static int cache_add(struct store_cache *c, const struct cache_entry *e)
{
	size_t i;

	if (c->n == c->cap) {
		size_t cap = c->cap == 0 ? 64 : c->cap * 2;
		struct cache_entry *v = realloc(c->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		c->v = v;
		c->cap = cap;
	}
	if (c->n_slots <= 2 * (c->n + 1) && rehash(c) != 0)
		return -1;
	i = slot_of(c, e->uid, e->field);
	if (c->slots[i] != 0) { /* the later record wins */
		c->v[c->slots[i] - 1] = *e;
		return 0;
	}
	c->v[c->n] = *e;
	c->slots[i] = (uint32_t)++c->n;
	return 0;
}

static const struct cache_entry *cache_find(const struct store_cache *c,
					    uint32_t uid, uint32_t field)
{
	size_t i;

	if (c->n_slots == 0)
		return NULL;
	i = slot_of(c, uid, field);
	return c->slots[i] != 0 ? &c->v[c->slots[i] - 1] : NULL;
}

/* Read records appended since the last look. */
static int cache_scan(struct store_cache *c)
{
	unsigned char r[CACHE_REC], h[CACHE_HDR];
	struct stat st;

	if (fstat(c->fd, &st) != 0)
		return -1;
	if (c->valid_end == 0) {
		if (store_pread_full(c->fd, h, CACHE_HDR, 0) != CACHE_HDR ||
		    memcmp(h, "QCCH", 4) != 0 || get32(h + 4) != 1 ||
		    get32(h + 8) != c->uidvalidity)
			return 1; /* needs a reset */
		c->valid_end = CACHE_HDR;
	}
	while ((uint64_t)st.st_size - c->valid_end >= CACHE_REC) {
		struct cache_entry e;
		unsigned char *data;
		uint64_t hash;

		if (store_pread_full(c->fd, r, CACHE_REC,
				     (off_t)c->valid_end) != CACHE_REC ||
		    memcmp(r, "QCER", 4) != 0)
			break;
		e.uid = get32(r + 4);
		e.field = get32(r + 8);
		e.len = get32(r + 12);
		e.off = c->valid_end + CACHE_REC;
		if (e.len > STORE_CACHE_BLOB_MAX ||
		    (uint64_t)st.st_size - e.off < e.len)
			break;
		data = malloc(e.len + 1u);
		if (data == NULL)
			return -1;
		hash = (uint64_t)get32(r + 16) | (uint64_t)get32(r + 20) << 32;
		if (store_pread_full(c->fd, data, e.len, (off_t)e.off) !=
			    (ssize_t)e.len ||
		    store_hash(STORE_HASH_INIT, data, e.len) != hash) {
			free(data);
			break;
		}
		free(data);
		if (cache_add(c, &e) != 0)
			return -1;
		c->valid_end = e.off + e.len;
	}
	return 0;
}

static int cache_get_handle(struct store_mailbox *mb, struct store_error *err)
{
	char path[PATH_MAX];
	struct store_cache *c;

	if (mb->cache != NULL && mb->cache->uidvalidity == mb->uidvalidity)
		return 0;
	store_cache_free(&mb->cache);
	if (mb->st->ops->cache_path(mb, path, sizeof(path), err) != 0)
		return -1;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return store_fail_errno(err, errno, "cache");
	c->uidvalidity = mb->uidvalidity;
	c->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (c->fd < 0) {
		free(c);
		return store_fail_errno(err, errno, "%s", path);
	}
	mb->cache = c;
	return 0;
}

int store_cache_get(struct store_mailbox *mb, uint32_t uid, unsigned field,
		    void **data_r, size_t *len_r, struct store_error *err)
{
	const struct cache_entry *e;
	struct store_cache *c;
	unsigned char *data;

	*data_r = NULL;
	*len_r = 0;
	if (cache_get_handle(mb, err) != 0)
		return -1;
	c = mb->cache;
	if (cache_scan(c) < 0)
		return store_fail_errno(err, errno, "cache");
	e = cache_find(c, uid, field);
	if (e == NULL)
		return 0;
	data = malloc(e->len + 1u);
	if (data == NULL)
		return store_fail_errno(err, errno, "cache");
	if (store_pread_full(c->fd, data, e->len, (off_t)e->off) !=
	    (ssize_t)e->len) {
		free(data);
		return 0; /* shrank under us: a miss */
	}
	*data_r = data;
	*len_r = e->len;
	return 0;
}

static int cache_append(struct store_cache *c, uint32_t uid, unsigned field,
			const void *data, size_t len)
{
	unsigned char *rec = malloc(CACHE_REC + len);
	uint64_t h = store_hash(STORE_HASH_INIT, data, len);
	struct cache_entry e = {uid, field, (uint32_t)len, 0};
	int rc;

	if (rec == NULL)
		return -1;
	memcpy(rec, "QCER", 4);
	put32(rec + 4, uid);
	put32(rec + 8, field);
	put32(rec + 12, (uint32_t)len);
	put32(rec + 16, (uint32_t)h);
	put32(rec + 20, (uint32_t)(h >> 32));
	if (len > 0)
		memcpy(rec + CACHE_REC, data, len);
	/* Cut a damaged or foreign tail: we hold the lock, so no writer
	 * is half-way through a record. */
	rc = ftruncate(c->fd, (off_t)c->valid_end);
	if (rc == 0)
		rc = store_pwrite_all(c->fd, rec, CACHE_REC + len,
				      (off_t)c->valid_end);
	free(rec);
	if (rc != 0)
		return -1;
	e.off = c->valid_end + CACHE_REC;
	c->valid_end = e.off + len;
	return cache_add(c, &e);
}

int store_cache_put(struct store_mailbox *mb, uint32_t uid, unsigned field,
		    const void *data, size_t len, struct store_error *err)
{
	struct store_cache *c;
	int rc;

	if (len > STORE_CACHE_BLOB_MAX || uid == 0)
		return store_fail(err, STORE_E_INVALID, "bad cache entry");
	if (cache_get_handle(mb, err) != 0)
		return -1;
	c = mb->cache;
	if (store_ofd_lock(c->fd, F_WRLCK, 0, 0,
			   store_now_ms() + mb->st->cfg.lock_timeout_ms,
			   err) != 0)
		return -1;
	rc = cache_scan(c);
	if (rc > 0)
		rc = cache_reset(c);
	if (rc == 0 && c->valid_end + CACHE_REC + len <= STORE_CACHE_FILE_MAX)
		rc = cache_append(c, uid, field, data, len);
	if (rc != 0)
		store_fail_errno(err, errno, "cache");
	store_ofd_lock(c->fd, F_UNLCK, 0, 0, 0, NULL);
	return rc;
}
