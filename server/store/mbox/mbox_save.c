/*
 * mbox_save.c - appending to an mbox (DESIGN.md "Mail flow": under fcntl
 * + dotlock, appended, fsync'd, truncated back on failure).
 *
 * Messages are first streamed to an anonymous temporary file, so the
 * lock is held only for the copy, never while a client is still sending.
 * The commit then takes the lock, brings the index up to date (another
 * MDA may have appended), gives the messages their UIDs, remembers the
 * file's size, and writes for each message a From_ line (envelope
 * sender, internal date in UTC asctime form; nothing from inside the
 * message), the content with mboxrd quoting and its status lines escaped
 * (mbox_meta.h), the status block (X-IMAPbase for the file's first
 * message, X-UID, Status, X-Status, X-Keywords, padded) where its header
 * ends, a LF if the content did not end in one, and the empty separator
 * line. If the file did not end with an empty line, one is added first.
 * Then fsync, then the first message's X-IMAPbase (last UID, in place),
 * then the index (temp + rename + fsync), so that Quill's own appends
 * never look like another program's. Any failure before the index is
 * written cuts the file back to its old size: nothing half-written stays.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "mbox.h"
#include "mbox_hdr.h"
#include "mbox_meta.h"
#include "mbox_parse.h"
#include "store/store_fs.h"
#include "store/store_util.h"

#define CHUNK 65536u

struct mbox_txn {
	int tmp_fd;
	uint64_t tmp_len;
};

/* Buffered writing at the end of the mbox. */
struct wbuf {
	int fd;
	uint64_t pos; /* file offset of buf[0] */
	unsigned char *buf;
	size_t len;
	unsigned char head[MBOX_HEAD_BYTES];
	size_t head_len;
	uint64_t counted; /* bytes since counting started */
};

int mbox_txn_begin(struct store_txn *txn, struct store_error *err)
{
	struct store *st = txn->mb->st;
	struct mbox_txn *t = calloc(1, sizeof(*t));
	char path[PATH_MAX];

	if (t == NULL)
		return store_fail_errno(err, errno, "append");
	t->tmp_fd = open(st->root, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (t->tmp_fd < 0 &&
	    store_path(path, sizeof(path), "%s/.quill-tmp.XXXXXX", st->root) ==
		    0) {
		t->tmp_fd = mkostemp(path, O_CLOEXEC);
		if (t->tmp_fd >= 0)
			unlink(path);
	}
	if (t->tmp_fd < 0) {
		int saved = errno;

		free(t);
		return store_fail_errno(err, saved, "temporary file");
	}
	txn->be = t;
	return 0;
}

int mbox_save_begin(struct store_txn *txn, struct store_save_msg *m,
		    struct store_error *err)
{
	struct mbox_txn *t = txn->be;

	(void)err;
	m->tmp_off = t->tmp_len;
	return 0;
}

int mbox_save_write(struct store_txn *txn, struct store_save_msg *m,
		    const void *data, size_t len, struct store_error *err)
{
	struct mbox_txn *t = txn->be;

	(void)m;
	if (store_write_all(t->tmp_fd, data, len) != 0)
		return store_fail_errno(err, errno, "writing message");
	t->tmp_len += len;
	return 0;
}

int mbox_save_end(struct store_txn *txn, struct store_save_msg *m,
		  struct store_error *err)
{
	(void)txn;
	(void)m;
	(void)err;
	return 0;
}

void mbox_txn_abort(struct store_txn *txn)
{
	struct mbox_txn *t = txn->be;

	if (t == NULL)
		return;
	store_close_fd(&t->tmp_fd);
	free(t);
	txn->be = NULL;
}

static int wflush(struct wbuf *w)
{
	if (store_pwrite_all(w->fd, w->buf, w->len, (off_t)w->pos) != 0)
		return -1;
	w->pos += w->len;
	w->len = 0;
	return 0;
}

static int wput(struct wbuf *w, const void *p, size_t n)
{
	if (w->head_len < MBOX_HEAD_BYTES) {
		size_t k = MBOX_HEAD_BYTES - w->head_len;

		memcpy(w->head + w->head_len, p, n < k ? n : k);
		w->head_len += n < k ? n : k;
	}
	w->counted += n;
	if (w->len + n > 2 * CHUNK + 16 && wflush(w) != 0)
		return -1;
	if (n > 2 * CHUNK + 16)
		return store_pwrite_all(w->fd, p, n, (off_t)w->pos) == 0
			       ? (w->pos += n, 0)
			       : -1;
	memcpy(w->buf + w->len, p, n);
	w->len += n;
	return 0;
}

/* Quote [a, b) of the temporary file into w. */
static int quote_range(struct mbox_txn *t, uint64_t a, uint64_t b,
		       struct mbox_quoter *q, struct wbuf *w, unsigned char *in,
		       unsigned char *out)
{
	while (a < b) {
		size_t want = b - a < CHUNK ? (size_t)(b - a) : CHUNK;

		if (store_pread_full(t->tmp_fd, in, want, (off_t)a) !=
		    (ssize_t)want) {
			errno = errno != 0 ? errno : EIO;
			return -1;
		}
		if (wput(w, out, mbox_quote(q, in, want, out)) != 0)
			return -1;
		a += want;
	}
	return 0;
}

/* The status block: content on disk, but not in the fingerprint. */
static int put_block(struct wbuf *w, const struct buf *blk)
{
	size_t head_len = w->head_len;
	int rc;

	w->head_len = MBOX_HEAD_BYTES;
	rc = wput(w, buf_data(blk), buf_len(blk));
	w->head_len = head_len;
	return rc;
}

/* A last line that is a lone CR: with the LF added, an empty line. */
static bool lone_cr(int fd, const struct mbox_hline *l)
{
	unsigned char c;

	return !l->lf && l->end - l->start == 1 &&
	       store_pread_full(fd, &c, 1, (off_t)l->start) == 1 && c == '\r';
}

/* The header: status lines escaped, the block before its empty line. */
static int put_header(struct mbox_txn *t, struct mbox_hwalk *hw,
		      struct mbox_quoter *q, struct wbuf *w,
		      const struct buf *blk, unsigned char *in,
		      unsigned char *out, bool *placed)
{
	struct mbox_hline l;
	int k, rc = 0;

	while (rc == 0 && (k = mbox_hwalk_next(hw, &l)) > 0) {
		if (l.cls == MBOX_LINE_EMPTY || lone_cr(t->tmp_fd, &l)) {
			rc = put_block(w, blk);
			*placed = true;
		}
		if (rc == 0 &&
		    (l.cls == MBOX_LINE_STATUS || l.cls == MBOX_LINE_ESCAPED))
			rc = wput(w, out,
				  mbox_quote(q, MBOX_ESCAPE, MBOX_ESCAPE_LEN,
					     out));
		if (rc == 0)
			rc = quote_range(t, l.start, l.end, q, w, in, out);
	}
	if (rc == 0 && k < 0) {
		errno = errno != 0 ? errno : EIO;
		rc = -1;
	}
	return rc;
}

/* Quote the message's bytes from the temporary file into w, with its
 * status block (mbox_meta.h) where its header ends. */
static int put_content(struct mbox_txn *t, const struct store_save_msg *m,
		       struct wbuf *w, const struct buf *blk, bool *quoted_r)
{
	unsigned char *in = malloc(CHUNK), *out = malloc(2 * CHUNK + 8);
	uint64_t end = m->tmp_off + m->size;
	struct mbox_quoter q;
	struct mbox_hwalk hw;
	bool placed = false;
	int rc = in != NULL && out != NULL ? 0 : -1;

	mbox_quoter_init(&q);
	mbox_hwalk_init(&hw, t->tmp_fd, m->tmp_off, end, NULL);
	if (rc == 0)
		rc = put_header(t, &hw, &q, w, blk, in, out, &placed);
	if (rc == 0)
		rc = quote_range(t, hw.rd.pos, end, &q, w, in, out);
	if (rc == 0)
		rc = wput(w, out, mbox_quote_end(&q, out));
	if (rc == 0 && !placed && m->size == 0) {
		rc = put_block(w, blk);
		placed = true;
	}
	if (rc == 0 && (m->size == 0 || !q.last_lf))
		rc = wput(w, "\n", 1);
	if (rc == 0 && !placed)
		rc = put_block(w, blk);
	*quoted_r = q.quoted;
	free(in);
	free(out);
	return rc;
}

static int put_message(struct mbox_txn *t, struct store_save_msg *m,
		       struct wbuf *w, const struct buf *blk,
		       struct store_rec *r)
{
	char from[512];
	size_t flen =
		mbox_from_line(from, sizeof(from), m->from, m->internal_date);
	bool quoted;

	memset(r, 0, sizeof(*r));
	r->offset = w->pos + w->len;
	if (wput(w, from, flen) != 0)
		return -1;
	w->head_len = 0;
	w->counted = 0;
	if (put_content(t, m, w, blk, &quoted) != 0)
		return -1;
	r->raw_len = w->counted;
	r->fingerprint = mbox_fingerprint(
		from, flen, w->head,
		r->raw_len < w->head_len ? (size_t)r->raw_len : w->head_len);
	r->aux = (uint32_t)flen | (quoted ? STORE_AUX_QUOTED : 0) |
		 MBOX_AUX_FILTER;
	r->size = m->size;
	r->header_size = m->header_size;
	r->internal_date = m->internal_date;
	r->flags = m->flags & STORE_F_PERMANENT;
	r->keywords = m->keywords;
	r->uid = m->uid;
	w->head_len = MBOX_HEAD_BYTES; /* stop capturing */
	return wput(w, "\n", 1);
}

/* What must come before a new From_ line so that the previous message
 * ends with an empty line. */
static const char *separator_fix(int fd, uint64_t size)
{
	char last[2];

	if (size == 0)
		return "";
	if (store_pread_full(fd, last, size >= 2 ? 2 : 1,
			     (off_t)(size >= 2 ? size - 2 : 0)) <= 0)
		return "\n\n";
	if (size >= 2 && last[0] == '\n' && last[1] == '\n')
		return "";
	return last[size >= 2 ? 1 : 0] == '\n' ? "\n" : "\n\n";
}

/* The status block of message i of the transaction. */
static int block_of(struct store_txn *txn, size_t i, struct buf *blk)
{
	const struct mbox_box *be = txn->mb->be;
	const struct store_save_msg *m = &txn->msgs[i];
	struct mbox_block b = {
		.base = i == 0 && be->idx.recs.n == 0,
		.uidvalidity = be->idx.uidvalidity,
		.last_uid = txn->msgs[txn->n - 1].uid,
		.names = be->idx.keywords,
		.n_names = be->idx.n_keywords,
		.uid = m->uid,
		.flags = m->flags & STORE_F_PERMANENT,
		.keywords = m->keywords,
		.base_pad = MBOX_PAD_BASE,
		.pad = MBOX_PAD_KEYWORDS,
	};

	buf_clear(blk);
	return mbox_block_format(&b, blk);
}

static int write_all_msgs(struct store_txn *txn, struct wbuf *w,
			  const char *fix, struct store_recs *out)
{
	struct mbox_txn *t = txn->be;
	struct buf blk;
	int rc = wput(w, fix, strlen(fix));

	buf_init(&blk, MBOX_BLOCK_MAX);
	for (size_t i = 0; i < txn->n && rc == 0; i++) {
		struct store_rec r;

		if (block_of(txn, i, &blk) != 0 ||
		    put_message(t, &txn->msgs[i], w, &blk, &r) != 0 ||
		    store_recs_push(out, &r) != 0)
			rc = -1;
	}
	buf_free(&blk);
	return rc == 0 ? wflush(w) : -1;
}

/* The last message ended without a LF and gained the first LF of
 * "\n\n": what it is now, as a parse of the file would say. */
static bool fix_previous(struct mbox_box *be, uint64_t old_size)
{
	struct store_recs *r = &be->idx.recs;
	struct store_rec *last;
	struct mbox_scan s;
	bool fixed = false;

	if (r->n == 0)
		return false;
	last = &r->v[r->n - 1];
	if (last->offset + MBOX_FROM_LEN(last->aux) + last->raw_len !=
		    old_size ||
	    mbox_scan_file(be, last->offset, old_size + 2, &s, NULL) != 0)
		return false;
	if (s.n == 1 && s.v[0].offset == last->offset) {
		fixed = true;
		last->raw_len = s.v[0].raw_len;
		last->size = s.v[0].size;
		last->header_size = s.v[0].header_size < STORE_HDR_UNKNOWN
					    ? (uint32_t)s.v[0].header_size
					    : STORE_HDR_UNKNOWN;
		last->fingerprint = s.v[0].fingerprint;
		last->aux = s.v[0].from_len |
			    (s.v[0].quoted ? STORE_AUX_QUOTED : 0) |
			    (s.v[0].filtered ? MBOX_AUX_FILTER : 0);
	}
	mbox_scan_clear(&s);
	return fixed;
}

/* Record the new messages in the index (and the first message's
 * X-IMAPbase); on failure the index on disk is unchanged and be->idx is
 * reloaded from it. */
static int record(struct store_txn *txn, struct store_recs *recs,
		  uint64_t old_size, bool fixed, struct store_error *err)
{
	struct store_mailbox *mb = txn->mb;
	struct mbox_box *be = mb->be;
	size_t n0 = be->idx.recs.n, prev = n0 - 1;
	struct store_error e;
	struct stat st;
	int rc = 0;

	fixed = fixed && fix_previous(be, old_size);
	for (size_t i = 0; i < recs->n && rc == 0; i++)
		if (store_recs_push(&be->idx.recs, &recs->v[i]) != 0)
			rc = store_fail_errno(err, ENOMEM, "append");
	if (rc == 0 && recs->n > 0)
		be->idx.next_uid = recs->v[recs->n - 1].uid + 1;
	if (rc == 0 && mbox_base_update(mb, false, &e) < 0)
		log_warn(NULL, "store.mbox.base path=%s err=%s", be->path,
			 e.msg);
	if (rc == 0 && fstat(be->fd, &st) != 0)
		rc = store_fail_errno(err, errno, "%s", be->path);
	if (rc == 0) {
		be->idx.src_ino = (uint64_t)st.st_ino;
		be->idx.src_size = (uint64_t)st.st_size;
		be->idx.src_mtime_ns =
			(uint64_t)st.st_mtim.tv_sec * 1000000000u +
			(uint64_t)st.st_mtim.tv_nsec;
		rc = mbox_index_save_delta(mb, &prev, fixed ? 1 : 0, n0,
					   be->idx.n_keywords, err);
	}
	if (rc != 0)
		mbox_index_load(be, true);
	return rc;
}

/* UIDs for the transaction's messages, from UIDNEXT on. */
static int assign_uids(struct store_txn *txn, struct store_error *err)
{
	struct mbox_box *be = txn->mb->be;
	uint32_t next = be->idx.next_uid;

	if (next == 0 || txn->n >= UINT32_MAX - next)
		return store_fail(err, STORE_E_CORRUPT, "no UIDs left");
	for (size_t i = 0; i < txn->n; i++)
		txn->msgs[i].uid = next + (uint32_t)i;
	return 0;
}

static int commit_locked(struct store_txn *txn, bool want_uids,
			 struct store_error *err)
{
	struct store_mailbox *mb = txn->mb;
	struct mbox_box *be = mb->be;
	struct store_recs recs = {0};
	struct wbuf w = {.fd = be->fd, .head_len = MBOX_HEAD_BYTES};
	const char *fix;
	uint32_t recent;
	struct stat st;
	int rc;

	(void)want_uids; /* UIDs are always given: X-UID is written */
	if (mbox_sync_locked(mb, false, &recent, err) != 0 ||
	    assign_uids(txn, err) != 0)
		return -1;
	if (fstat(be->fd, &st) != 0)
		return store_fail_errno(err, errno, "%s", be->path);
	if (mbox_lock_write(mb, (uint64_t)st.st_size, err) != 0)
		return -1;
	{ /* for whoever finds our lock if we die now (mbox_lock.c) */
		char note[40];

		snprintf(note, sizeof(note), "append %llu",
			 (unsigned long long)st.st_size);
		store_dotlock_note(&be->dl, note);
	}
	w.pos = (uint64_t)st.st_size;
	w.buf = malloc(2 * CHUNK + 16);
	fix = separator_fix(be->fd, w.pos);
	rc = w.buf != NULL ? write_all_msgs(txn, &w, fix, &recs) : -1;
	if (rc != 0)
		store_fail_errno(err, errno != 0 ? errno : EIO,
				 "appending to %s", be->path);
	if (rc == 0 && mb->st->cfg.fsync && fsync(be->fd) != 0)
		rc = store_fail_errno(err, errno, "fsync %s", be->path);
	if (rc == 0)
		rc = record(txn, &recs, (uint64_t)st.st_size,
			    fix[0] != '\0' && fix[1] != '\0', err);
	if (rc != 0 && (ftruncate(be->fd, st.st_size) != 0 ||
			(mb->st->cfg.fsync && fsync(be->fd) != 0)))
		rc = store_fail_errno(err, errno,
				      "%s: cannot undo a failed append",
				      be->path);
	free(w.buf);
	store_recs_clear(&recs);
	return rc;
}

int mbox_txn_commit(struct store_txn *txn, bool want_uids,
		    uint32_t *uidvalidity_r, struct store_error *err)
{
	struct store_mailbox *mb = txn->mb;
	struct mbox_box *be = mb->be;
	int rc;

	if (mbox_lock(mb, err) != 0)
		return -1;
	rc = commit_locked(txn, want_uids, err);
	if (rc == 0)
		*uidvalidity_r = be->idx.uidvalidity;
	mbox_unlock(mb);
	if (rc == 0)
		mbox_txn_abort(txn); /* frees the temporary file */
	return rc;
}
