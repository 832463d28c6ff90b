/*
 * mbox_sync.c - keeping the index of an mbox true to the file.
 *
 * The index records the file it describes (inode, size, mtime). When
 * they still match, the index is the snapshot and the file is not read.
 * Otherwise, under the lock:
 *  - grown, same inode, the last indexed message intact (fingerprint) and
 *    a From_ line exactly where the indexed data ended, and the new
 *    messages carry no status lines: a plain MDA (procmail, an LDA
 *    without IMAP state) appended; only the new tail is parsed. A tail
 *    message cut off in the middle of a line is an append that died
 *    (every mboxrd writer ends its lines): it was never acknowledged, so
 *    it is cut off again (RFC 4155 messages end with an empty line; one
 *    that only lacks the empty line is kept). New messages with status
 *    lines mean an IMAP-aware program (Dovecot, mutt) works on the file
 *    and may have changed flags in place too: the whole file is read.
 *    (Quill's own appends update the index, so they never look foreign.)
 *  - anything else (rewritten, shrunk, edited): the whole file is parsed
 *    and its messages matched, in order, to the indexed ones by
 *    X-UID (where the X-IMAPbase is ours) or by fingerprint (From_ line
 *    + first bytes outside status lines); matched messages keep UID, flags come from their status lines when
 *    they have some, missing ones are expunged, unmatched ones after the
 *    last match are new. An unmatched message before a matched one would
 *    need a smaller UID than an old one: then UIDs are renumbered under a
 *    new UIDVALIDITY.
 *  - no usable index: the file's own state is taken if it is consistent
 *    (the rule Dovecot applies): the first message has an X-IMAPbase and
 *    every message an X-UID, ascending, none above the next free UID,
 *    which the X-IMAPbase's last UID gives. Else UIDs are numbered anew
 *    under a new UIDVALIDITY.
 * A new message keeps its X-UID only if the first message's X-IMAPbase
 * is this index's and the X-UID is the next free UID (or one the
 * X-IMAPbase says was handed out): an X-UID that arrives in a message
 * from an MDA never moves UIDNEXT. When one is refused, the X-IMAPbase
 * is voided (UIDVALIDITY 0), so a later rebuild does not trust X-UIDs
 * that disagree with the index; otherwise its last UID and keyword
 * names are kept up to date in place. The index is never trusted
 * blindly: besides its own checks, records must lie in order inside the
 * file they claim to describe.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "mbox.h"
#include "mbox_hdr.h"
#include "mbox_parse.h"
#include "store/store_fs.h"
#include "store/store_internal.h"
#include "store/store_util.h"

/* What a sync learned about the X-IMAPbase. */
struct uidgen {
	bool base_ok;  /* the first message's X-IMAPbase is ours */
	uint32_t last; /* its last UID */
	bool refused;  /* an X-UID was not taken: void the base */
	int map[MBOX_META_KEYWORDS]; /* scan keyword -> index keyword */
};

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
		uint32_t from_len = MBOX_FROM_LEN(r->aux);

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

	if (!force && be->idx_ok && gen != 0 &&
	    gen == store_index_stamp(&be->idx))
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

int mbox_index_save_delta(struct store_mailbox *mb, const size_t *at,
			  size_t n_at, size_t first_new, size_t kw_from,
			  struct store_error *err)
{
	struct mbox_box *be = mb->be;
	int rc = store_index_append(be->index_path, &be->idx, at, n_at,
				    first_new, kw_from, mb->st->cfg.fsync, err);

	return rc == 1 ? mbox_index_save(mb, err) : rc;
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
	const struct store_recs *r = &be->idx.recs;
	const struct store_rec *last;
	char from[5];
	uint64_t fp;

	if (store_pread_full(be->fd, from, 5, (off_t)be->idx.src_size) != 5 ||
	    memcmp(from, "From ", 5) != 0)
		return false;
	if (r->n == 0)
		return true;
	last = &r->v[r->n - 1];
	return mbox_fingerprint_at(be->fd, last->offset,
				   MBOX_FROM_LEN(last->aux), last->raw_len,
				   &fp) == 0 &&
	       fp == last->fingerprint;
}

int mbox_scan_file(struct mbox_box *be, uint64_t start, uint64_t end,
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
		if (mbox_scan_feed(s, buf, (size_t)n) != 0) {
			mbox_scan_clear(s);
			return store_fail_errno(err, ENOMEM, "mbox");
		}
		start += (uint64_t)n;
	}
	if (mbox_scan_end(s) != 0) {
		mbox_scan_clear(s);
		return store_fail_errno(err, ENOMEM, "mbox");
	}
	return 0;
}

/* The scan's keyword names into the index's table (as far as it has
 * room), g->map saying where each went. */
static void map_keywords(struct store_index *idx, const struct mbox_kwtab *kw,
			 struct uidgen *g)
{
	for (size_t i = 0; i < MBOX_META_KEYWORDS; i++)
		g->map[i] = -1;
	for (size_t i = 0; i < kw->n && i < MBOX_META_KEYWORDS; i++) {
		long at = store_keywords_find(idx->keywords, idx->n_keywords,
					      kw->names[i]);

		if (at < 0 && idx->n_keywords < MBOX_KEYWORDS_MAX &&
		    store_keywords_add(&idx->keywords, &idx->n_keywords,
				       kw->names[i]) == 0)
			at = (long)idx->n_keywords - 1;
		g->map[i] = (int)at;
	}
}

static struct store_rec rec_of(const struct mbox_msg *m, int64_t mtime,
			       const struct uidgen *g)
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
	r.aux = m->from_len | (m->quoted ? STORE_AUX_QUOTED : 0) |
		(m->filtered ? MBOX_AUX_FILTER : 0);
	if (m->meta.any) {
		r.flags = m->meta.flags & STORE_F_PERMANENT;
		for (size_t i = 0; i < MBOX_META_KEYWORDS; i++)
			if (((m->meta.keywords >> i) & 1) && g->map[i] >= 0)
				r.keywords |= 1ULL << g->map[i];
	}
	return r;
}

/* The UID of a new message (see the top of this file). */
static int new_uid(struct store_index *idx, struct uidgen *g,
		   const struct mbox_meta *m, struct store_rec *r,
		   struct store_error *err)
{
	uint32_t u = m->uid;

	if (g->base_ok && u != 0 && u >= idx->next_uid &&
	    (u == idx->next_uid || u <= g->last)) {
		r->uid = u;
		idx->next_uid = u + 1;
		return 0;
	}
	if (u != 0)
		g->refused = true;
	if (idx->next_uid == UINT32_MAX)
		return store_fail(err, STORE_E_CORRUPT, "no UIDs left");
	r->uid = idx->next_uid++;
	return 0;
}

static void base_of(const struct store_index *idx, const struct mbox_meta *m,
		    struct uidgen *g)
{
	g->base_ok = m->base && m->base_uidvalidity == idx->uidvalidity;
	g->last = m->base_last;
}

/* The first message's X-IMAPbase, for a scan that did not see it. */
static void base_from_file(struct mbox_box *be, struct uidgen *g)
{
	const struct store_rec *r = &be->idx.recs.v[0];
	uint64_t start = r->offset + MBOX_FROM_LEN(r->aux);
	struct mbox_hinfo hi;

	if (mbox_hinfo_read(be->fd, start, start + r->raw_len, true, NULL,
			    &hi) == 0)
		base_of(&be->idx, &hi.meta, g);
}

static bool any_status(const struct mbox_scan *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].meta.any)
			return true;
	return false;
}

/* New messages appended after the indexed part; 1 if they carry status
 * lines (read the whole file instead). */
static int sync_tail(struct store_mailbox *mb, struct stat *st,
		     struct uidgen *g, struct store_error *err)
{
	struct mbox_box *be = mb->be;
	struct mbox_scan s;
	int rc = mbox_scan_file(be, be->idx.src_size, (uint64_t)st->st_size, &s,
				err);

	if (rc == 0 && any_status(&s)) {
		mbox_scan_clear(&s);
		return 1;
	}
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
	map_keywords(&be->idx, &s.kw, g);
	if (be->idx.recs.n > 0)
		base_from_file(be, g);
	else if (s.n > 0 && be->idx.src_size == 0)
		base_of(&be->idx, &s.v[0].meta, g);
	for (size_t i = 0; i < s.n && rc == 0; i++) {
		struct store_rec r = rec_of(&s.v[i], st->st_mtime, g);

		rc = new_uid(&be->idx, g, &s.v[i].meta, &r, err);
		if (rc == 0 && store_recs_push(&be->idx.recs, &r) != 0)
			rc = store_fail_errno(err, ENOMEM, "mbox");
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

/* Match parsed messages to old records (UID 0: new): by X-UID where the
 * X-IMAPbase is ours (another program's rewrite may have changed other
 * bytes of the header, e.g. Dovecot writes its empty line as a bare LF),
 * else by fingerprint. False if the order breaks or on ENOMEM. */
static bool match(const struct store_recs *old, const struct mbox_scan *s,
		  struct store_recs *out, int64_t mtime, const struct uidgen *g)
{
	struct fp_pos *v = calloc(old->n + 1, sizeof(*v));
	bool seen_new = false, ok = v != NULL;
	size_t next = 0;

	for (size_t i = 0; ok && i < old->n; i++)
		v[i] = (struct fp_pos){old->v[i].fingerprint, i};
	if (ok)
		qsort(v, old->n, sizeof(*v), cmp_fp);
	for (size_t i = 0; ok && i < s->n; i++) {
		struct store_rec r = rec_of(&s->v[i], mtime, g);
		long k = g->base_ok && s->v[i].meta.uid != 0
				 ? store_recs_find(old, s->v[i].meta.uid)
				 : -1;
		long f = find_old(v, old->n, s->v[i].fingerprint, next);

		/* the bytes say otherwise than the X-UID: the bytes win */
		if (k < (long)next ||
		    (f >= 0 && f != k &&
		     old->v[k].fingerprint != s->v[i].fingerprint))
			k = f;

		if (k >= 0 && seen_new) {
			ok = false;
			break;
		}
		if (k >= 0) {
			r.uid = old->v[k].uid;
			if (!s->v[i].meta.any) {
				r.flags = old->v[k].flags;
				r.keywords = old->v[k].keywords;
			}
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

/* No usable index (or an empty one, had): are the file's X-UIDs
 * consistent? Then take them. */
static bool take_file_uids(const struct mbox_scan *s, struct store_index *idx,
			   bool had, struct store_recs *out, int64_t mtime,
			   const struct uidgen *g)
{
	const struct mbox_meta *m0 = s->n > 0 ? &s->v[0].meta : NULL;
	uint32_t next, prev = 0;

	if (m0 == NULL || !m0->base)
		return false;
	next = m0->base_last + 1;
	for (size_t i = 0; i < s->n; i++) {
		uint32_t u = s->v[i].meta.uid;

		if (u == 0 || u <= prev || u > next)
			return false;
		if (u == next)
			next++;
		prev = u;
	}
	/* never below what this UIDVALIDITY already gave out */
	if (had && m0->base_uidvalidity == idx->uidvalidity &&
	    idx->next_uid > next)
		next = idx->next_uid;
	for (size_t i = 0; i < s->n; i++) {
		struct store_rec r = rec_of(&s->v[i], mtime, g);

		r.uid = s->v[i].meta.uid;
		if (store_recs_push(out, &r) != 0)
			return false;
	}
	idx->uidvalidity = m0->base_uidvalidity;
	idx->next_uid = next;
	return true;
}

/* UIDs 1, 2, ... under a new UIDVALIDITY. */
static int renumber(struct store_mailbox *mb, const struct mbox_scan *s,
		    struct store_recs *out, int64_t mtime, struct uidgen *g,
		    struct store_error *err)
{
	struct mbox_box *be = mb->be;
	uint32_t uidv;

	store_recs_clear(out);
	if (store_uidvalidity_next(mb->st, &uidv, err) != 0)
		return -1;
	if (be->idx_ok || s->n > 0)
		log_warn(NULL, "store.mbox.renumbered path=%s uidvalidity=%u",
			 be->path, (unsigned)uidv);
	be->idx.uidvalidity = uidv;
	be->idx.next_uid = 1;
	g->base_ok = false;
	g->refused = s->n > 0 && s->v[0].meta.base;
	for (size_t i = 0; i < s->n; i++) {
		struct store_rec r = rec_of(&s->v[i], mtime, g);

		if (store_recs_push(out, &r) != 0)
			return store_fail_errno(err, ENOMEM, "mbox");
	}
	return 0;
}

/* Parse the whole file and renumber as little as possible. */
static int sync_full(struct store_mailbox *mb, const struct stat *st,
		     struct uidgen *g, struct store_error *err)
{
	struct mbox_box *be = mb->be;
	struct store_recs out = {0};
	bool ok, took = false, had = be->idx_ok;
	struct mbox_scan s;
	int rc = 0;

	if (mbox_scan_file(be, 0, (uint64_t)st->st_size, &s, err) != 0)
		return -1;
	if (!had)
		store_index_clear(&be->idx);
	be->idx_ok = true;
	map_keywords(&be->idx, &s.kw, g);
	if (s.n > 0)
		base_of(&be->idx, &s.v[0].meta, g);
	if (had && be->idx.recs.n > 0) {
		ok = match(&be->idx.recs, &s, &out, st->st_mtime, g);
	} else {
		ok = took = take_file_uids(&s, &be->idx, had, &out,
					   st->st_mtime, g);
		if (!ok && had) { /* new mail under the empty index's */
			store_recs_clear(&out);
			ok = match(&be->idx.recs, &s, &out, st->st_mtime, g);
		}
	}
	if (!ok)
		rc = renumber(mb, &s, &out, st->st_mtime, g, err);
	for (size_t i = 0; i < out.n && rc == 0; i++)
		if (out.v[i].uid == 0)
			rc = new_uid(&be->idx, g, &s.v[i].meta, &out.v[i], err);
	if (!ok || (took && !had))
		be->idx.recent_first = be->idx.next_uid;
	else if (took) /* all new to this index */
		be->idx.recent_first =
			out.n > 0 ? out.v[0].uid : be->idx.next_uid;
	store_recs_clear(&be->idx.recs);
	be->idx.recs = out;
	mbox_scan_clear(&s);
	return rc;
}

/* After new UIDs or a renumbering: the first message's X-IMAPbase. */
static void fix_base(struct store_mailbox *mb, const struct uidgen *g)
{
	struct store_error e;

	if (mbox_base_update(mb, g->refused, &e) < 0)
		log_warn(NULL, "store.mbox.base path=%s err=%s",
			 ((struct mbox_box *)mb->be)->path, e.msg);
}

static int sync_locked(struct store_mailbox *mb, bool claim, bool full,
		       uint32_t *recent_r, struct store_error *err)
{
	struct mbox_box *be = mb->be;
	struct uidgen g = {0};
	bool changed = true, whole = false;
	size_t n0, k0;
	struct stat st;
	int rc = 0;

	if (fstat(be->fd, &st) != 0)
		return store_fail_errno(err, errno, "%s", be->path);
	mbox_index_load(be, true);
	n0 = be->idx.recs.n;
	k0 = be->idx.n_keywords;
	if (!full && be->idx_ok && same_file(&be->idx, &st)) {
		changed = false;
	} else {
		rc = 1;
		if (!full && be->idx_ok &&
		    be->idx.src_ino == (uint64_t)st.st_ino &&
		    (uint64_t)st.st_size > be->idx.src_size && tail_ok(be))
			rc = sync_tail(mb, &st, &g, err);
		if (rc == 1) {
			memset(&g, 0, sizeof(g));
			whole = true;
			rc = sync_full(mb, &st, &g, err);
		}
	}
	if (rc != 0)
		return -1;
	*recent_r = be->idx.recent_first;
	if (claim && be->idx.recent_first != be->idx.next_uid) {
		be->idx.recent_first = be->idx.next_uid;
		changed = true;
	}
	if (!changed)
		return 0;
	fix_base(mb, &g);
	if (fstat(be->fd, &st) != 0)
		return store_fail_errno(err, errno, "%s", be->path);
	be->idx.src_ino = (uint64_t)st.st_ino;
	be->idx.src_size = (uint64_t)st.st_size;
	be->idx.src_mtime_ns = mtime_ns(&st);
	if (whole)
		return mbox_index_save(mb, err);
	return mbox_index_save_delta(mb, NULL, 0, n0, k0, err);
}

int mbox_sync_locked(struct store_mailbox *mb, bool claim, uint32_t *recent_r,
		     struct store_error *err)
{
	return sync_locked(mb, claim, false, recent_r, err);
}

int mbox_sync_full_locked(struct store_mailbox *mb, struct store_error *err)
{
	uint32_t recent;

	return sync_locked(mb, false, true, &recent, err);
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
