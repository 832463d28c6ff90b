/*
 * mbox_sync.c - keeping the index of an mbox true to the file.
 *
 * The index records the file it describes (inode, size, mtime). When
 * they still match, the index is the snapshot and the file is not read.
 * Otherwise, under the lock:
 *  - grown, same inode, the last indexed message intact (fingerprint) and
 *    a From_ line exactly where the indexed data ended: only the new tail
 *    is parsed, and its messages get new UIDs (another MDA appended). A
 *    tail message cut off in the middle of a line is an append that died
 *    (every mboxrd writer ends its lines): it was never acknowledged, so
 *    it is cut off again (RFC 4155 messages end with an empty line; one
 *    that only lacks the empty line is kept).
 *  - anything else (rewritten, shrunk, edited): the whole file is parsed
 *    and its messages matched, in order, to the indexed ones by
 *    fingerprint (From_ line + first bytes); matched messages keep UID
 *    and flags, missing ones are expunged, unmatched ones after the last
 *    match are new. An unmatched message before a matched one would need
 *    a smaller UID than an old one: then, and when there is no usable
 *    index, UIDs are renumbered under a new UIDVALIDITY.
 * The index is never trusted blindly: besides its own checks, records
 * must lie in order inside the file they claim to describe.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "mbox.h"
#include "mbox_parse.h"
#include "store/store_fs.h"
#include "store/store_internal.h"
#include "store/store_util.h"

static uint64_t mtime_ns(const struct stat *st)
{
	return (uint64_t)st->st_mtim.tv_sec * 1000000000u +
	       (uint64_t)st->st_mtim.tv_nsec;
}

static bool index_sane(const struct store_index *idx)
{
	uint64_t end = 0;

	if (idx->src_size > (1ULL << 60))
		return false;
	for (size_t i = 0; i < idx->recs.n; i++) {
		const struct store_rec *r = &idx->recs.v[i];
		uint32_t from_len = r->aux & ~STORE_AUX_QUOTED;

		if (r->offset < end || from_len < 5 || r->size > r->raw_len ||
		    r->raw_len > idx->src_size || r->offset > idx->src_size ||
		    r->offset + from_len + r->raw_len > idx->src_size)
			return false;
		end = r->offset + from_len + r->raw_len;
	}
	return true;
}

bool mbox_index_load(struct mbox_box *be, bool force)
{
	uint64_t gen = store_index_peek(be->index_path);

	if (!force && be->idx_ok && gen != 0 && gen == be->idx.generation)
		return true;
	store_index_clear(&be->idx);
	be->idx_ok = store_index_read(be->index_path, &be->idx, NULL) == 0 &&
		     index_sane(&be->idx);
	if (!be->idx_ok)
		store_index_clear(&be->idx);
	return be->idx_ok;
}

int mbox_index_save(struct store_mailbox *mb, struct store_error *err)
{
	struct mbox_box *be = mb->be;

	return store_index_write(be->index_path, &be->idx, mb->st->cfg.fsync,
				 err);
}

static bool same_file(const struct store_index *idx, const struct stat *st)
{
	return idx->src_ino == (uint64_t)st->st_ino &&
	       idx->src_size == (uint64_t)st->st_size &&
	       idx->src_mtime_ns == mtime_ns(st);
}

/* Is the indexed part of the file still what the index says, and does a
 * message start where it ends? */
static bool tail_ok(struct mbox_box *be)
{
	unsigned char from[MBOX_LINE_PREFIX], head[MBOX_HEAD_BYTES];
	const struct store_recs *r = &be->idx.recs;
	uint32_t flen;
	size_t hlen;

	if (store_pread_full(be->fd, from, 5, (off_t)be->idx.src_size) != 5 ||
	    memcmp(from, "From ", 5) != 0)
		return false;
	if (r->n == 0)
		return true;
	flen = r->v[r->n - 1].aux & ~STORE_AUX_QUOTED;
	if (flen > MBOX_LINE_PREFIX)
		flen = MBOX_LINE_PREFIX;
	hlen = r->v[r->n - 1].raw_len < MBOX_HEAD_BYTES
		       ? (size_t)r->v[r->n - 1].raw_len
		       : MBOX_HEAD_BYTES;
	if (store_pread_full(be->fd, from, flen,
			     (off_t)r->v[r->n - 1].offset) != (ssize_t)flen ||
	    store_pread_full(be->fd, head, hlen,
			     (off_t)(r->v[r->n - 1].offset +
				     (r->v[r->n - 1].aux &
				      ~STORE_AUX_QUOTED))) != (ssize_t)hlen)
		return false;
	return mbox_fingerprint(from, flen, head, hlen) ==
	       r->v[r->n - 1].fingerprint;
}

static int scan_file(struct mbox_box *be, uint64_t start, uint64_t end,
		     struct mbox_scan *s, struct store_error *err)
{
	char buf[65536];

	mbox_scan_init(s, start);
	while (start < end) {
		size_t want = end - start < sizeof(buf) ? (size_t)(end - start)
							: sizeof(buf);
		ssize_t n = store_pread_full(be->fd, buf, want, (off_t)start);

		if (n <= 0)
			break;
		if (mbox_scan_feed(s, buf, (size_t)n) != 0)
			return store_fail_errno(err, ENOMEM, "mbox");
		start += (uint64_t)n;
	}
	if (mbox_scan_end(s) != 0)
		return store_fail_errno(err, ENOMEM, "mbox");
	return 0;
}

static struct store_rec rec_of(const struct mbox_msg *m, int64_t mtime)
{
	struct store_rec r = {0};

	r.size = m->size;
	r.offset = m->offset;
	r.raw_len = m->raw_len;
	r.internal_date = m->date != 0 ? m->date : mtime;
	r.fingerprint = m->fingerprint;
	r.header_size = m->header_size < STORE_HDR_UNKNOWN
				? (uint32_t)m->header_size
				: STORE_HDR_UNKNOWN;
	r.aux = m->from_len | (m->quoted ? STORE_AUX_QUOTED : 0);
	return r;
}

static int push_new(struct store_index *idx, struct store_rec *r,
		    struct store_error *err)
{
	if (idx->next_uid == UINT32_MAX)
		return store_fail(err, STORE_E_CORRUPT, "no UIDs left");
	r->uid = idx->next_uid++;
	if (store_recs_push(&idx->recs, r) != 0)
		return store_fail_errno(err, ENOMEM, "mbox");
	return 0;
}

/* New messages appended after the indexed part. */
static int sync_tail(struct store_mailbox *mb, struct stat *st,
		     struct store_error *err)
{
	struct mbox_box *be = mb->be;
	struct mbox_scan s;
	int rc =
		scan_file(be, be->idx.src_size, (uint64_t)st->st_size, &s, err);

	if (rc == 0 && s.n > 0 && s.ended_midline && !s.v[s.n - 1].terminated) {
		uint64_t cut = s.v[s.n - 1].offset;

		log_warn(NULL, "store.mbox.partial_append path=%s offset=%llu",
			 be->path, (unsigned long long)cut);
		rc = mbox_lock_write(mb, cut, err);
		if (rc == 0 && (ftruncate(be->fd, (off_t)cut) != 0 ||
				(mb->st->cfg.fsync && fsync(be->fd) != 0) ||
				fstat(be->fd, st) != 0))
			rc = store_fail_errno(err, errno, "%s", be->path);
		s.n--;
	}
	for (size_t i = 0; i < s.n && rc == 0; i++) {
		struct store_rec r = rec_of(&s.v[i], st->st_mtime);

		rc = push_new(&be->idx, &r, err);
	}
	mbox_scan_clear(&s);
	return rc;
}

struct fp_pos {
	uint64_t fp;
	size_t idx;
};

static int cmp_fp(const void *a, const void *b)
{
	const struct fp_pos *x = a, *y = b;

	if (x->fp != y->fp)
		return x->fp < y->fp ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The first old record with fingerprint fp at or after position from. */
static long find_old(const struct fp_pos *v, size_t n, uint64_t fp, size_t from)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].fp < fp || (v[mid].fp == fp && v[mid].idx < from))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && v[lo].fp == fp ? (long)v[lo].idx : -1;
}

/* Match parsed messages to old records; false if the order breaks. */
static bool match(const struct store_recs *old, const struct mbox_scan *s,
		  struct store_recs *out, int64_t mtime)
{
	struct fp_pos *v = calloc(old->n + 1, sizeof(*v));
	bool seen_new = false, ok = v != NULL;
	size_t next = 0;

	for (size_t i = 0; ok && i < old->n; i++)
		v[i] = (struct fp_pos){old->v[i].fingerprint, i};
	if (ok)
		qsort(v, old->n, sizeof(*v), cmp_fp);
	for (size_t i = 0; ok && i < s->n; i++) {
		struct store_rec r = rec_of(&s->v[i], mtime);
		long k = find_old(v, old->n, s->v[i].fingerprint, next);

		if (k >= 0 && seen_new) {
			ok = false;
			break;
		}
		if (k >= 0) {
			r.uid = old->v[k].uid;
			r.flags = old->v[k].flags;
			r.keywords = old->v[k].keywords;
			r.internal_date = old->v[k].internal_date;
			next = (size_t)k + 1;
		} else {
			seen_new = true;
		}
		ok = store_recs_push(out, &r) == 0;
	}
	free(v);
	return ok;
}

/* Parse the whole file and renumber as little as possible. */
static int sync_full(struct store_mailbox *mb, const struct stat *st,
		     struct store_error *err)
{
	struct mbox_box *be = mb->be;
	struct store_recs out = {0};
	struct mbox_scan s;
	bool ok;

	if (scan_file(be, 0, (uint64_t)st->st_size, &s, err) != 0)
		return -1;
	ok = be->idx_ok && match(&be->idx.recs, &s, &out, st->st_mtime);
	if (!ok) {
		uint32_t uidv;

		store_recs_clear(&out);
		if (store_uidvalidity_next(mb->st, &uidv, err) != 0) {
			mbox_scan_clear(&s);
			return -1;
		}
		if (be->idx_ok || s.n > 0)
			log_warn(NULL,
				 "store.mbox.renumbered path=%s "
				 "uidvalidity=%u",
				 be->path, (unsigned)uidv);
		store_recs_clear(&be->idx.recs);
		be->idx.uidvalidity = uidv;
		be->idx.next_uid = 1;
		for (size_t i = 0; i < s.n; i++) {
			struct store_rec r = rec_of(&s.v[i], st->st_mtime);

			if (store_recs_push(&out, &r) != 0) {
				store_recs_clear(&out);
				mbox_scan_clear(&s);
				return store_fail_errno(err, ENOMEM, "mbox");
			}
		}
	}
	for (size_t i = 0; i < out.n; i++)
		if (out.v[i].uid == 0)
			out.v[i].uid = be->idx.next_uid++;
	if (!ok)
		be->idx.recent_first = be->idx.next_uid;
	store_recs_clear(&be->idx.recs);
	be->idx.recs = out;
	be->idx_ok = true;
	mbox_scan_clear(&s);
	return 0;
}

int mbox_sync_locked(struct store_mailbox *mb, bool claim, uint32_t *recent_r,
		     struct store_error *err)
{
	struct mbox_box *be = mb->be;
	bool changed = true;
	struct stat st;
	int rc = 0;

	if (fstat(be->fd, &st) != 0)
		return store_fail_errno(err, errno, "%s", be->path);
	mbox_index_load(be, true);
	if (be->idx_ok && same_file(&be->idx, &st))
		changed = false;
	else if (be->idx_ok && be->idx.src_ino == (uint64_t)st.st_ino &&
		 (uint64_t)st.st_size > be->idx.src_size && tail_ok(be))
		rc = sync_tail(mb, &st, err);
	else
		rc = sync_full(mb, &st, err);
	if (rc != 0)
		return -1;
	*recent_r = be->idx.recent_first;
	if (claim && be->idx.recent_first != be->idx.next_uid) {
		be->idx.recent_first = be->idx.next_uid;
		changed = true;
	}
	if (!changed)
		return 0;
	if (fstat(be->fd, &st) != 0)
		return store_fail_errno(err, errno, "%s", be->path);
	be->idx.src_ino = (uint64_t)st.st_ino;
	be->idx.src_size = (uint64_t)st.st_size;
	be->idx.src_mtime_ns = mtime_ns(&st);
	return mbox_index_save(mb, err);
}

static int snapshot(struct mbox_box *be, struct store_snapshot *snap,
		    struct store_error *err)
{
	for (size_t i = 0; i < be->idx.recs.n; i++)
		if (store_recs_push(&snap->recs, &be->idx.recs.v[i]) != 0)
			return store_fail_errno(err, ENOMEM, "mbox");
	if (store_keywords_copy(&snap->keywords, &snap->n_keywords,
				be->idx.keywords, be->idx.n_keywords) != 0)
		return store_fail_errno(err, ENOMEM, "mbox");
	snap->uidvalidity = be->idx.uidvalidity;
	snap->uidnext = be->idx.next_uid;
	return 0;
}

int mbox_sync(struct store_mailbox *mb, bool claim, struct store_snapshot *snap,
	      struct store_error *err)
{
	struct mbox_box *be = mb->be;
	const struct store_recs *r = &be->idx.recs;
	uint32_t recent;
	struct stat st;
	bool fresh;

	if (stat(be->path, &st) != 0) {
		if (errno != ENOENT || !be->inbox)
			return store_fail_errno(err, errno, "%s", mb->name);
		memset(&st, 0, sizeof(st));
	}
	fresh = mbox_index_load(be, false) && same_file(&be->idx, &st) &&
		access(be->journal_path, F_OK) != 0 &&
		!(claim && r->n > 0 &&
		  r->v[r->n - 1].uid >= be->idx.recent_first);
	if (fresh) {
		recent = be->idx.recent_first;
	} else {
		int rc;

		if (mbox_lock(mb, err) != 0)
			return -1;
		rc = mbox_sync_locked(mb, claim, &recent, err);
		mbox_unlock(mb);
		if (rc != 0)
			return -1;
	}
	if (snapshot(be, snap, err) != 0) {
		store_snapshot_clear(snap);
		return -1;
	}
	snap->recent_first = recent;
	return 0;
}
