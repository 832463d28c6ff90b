/*
 * mbox_status.c - changing status lines (mbox_meta.h) in place: a
 * message's Status, X-Status and X-Keywords after a flag change, and
 * the first message's X-IMAPbase after new UIDs or keywords.
 *
 * Crash safety: a change writes only inside status lines and keeps the
 * file's length, so the messages' bytes are never at risk. When only
 * letters, digits and padding change (the lines keep their places, as
 * with every block Quill wrote), each line is one pwrite() of a few
 * bytes; a crash leaves each line old or new (at worst, on a disk that
 * tears sectors, a mix of both lines' letters), and the index, written
 * after the fsync, says which flags were meant. Lines are moved inside a
 * message's status block (using its padding, as Dovecot does) only under
 * a write lock on that message, so no reader walks them meanwhile.
 * Whatever does not fit is left to a rewrite (mbox_rewrite).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "mbox.h"
#include "mbox_hdr.h"
#include "mbox_meta.h"
#include "store/store_fs.h"

static int read_hinfo(struct mbox_box *be, size_t at, struct mbox_kwtab *kw,
		      struct mbox_hinfo *hi)
{
	const struct store_rec *r = &be->idx.recs.v[at];
	uint64_t start = r->offset + MBOX_FROM_LEN(r->aux);

	return mbox_hinfo_read(be->fd, start, start + r->raw_len, at == 0, kw,
			       hi);
}

bool mbox_base_ours(struct store_mailbox *mb)
{
	struct mbox_box *be = mb->be;
	struct mbox_hinfo hi;

	return be->idx.recs.n > 0 && read_hinfo(be, 0, NULL, &hi) == 0 &&
	       hi.meta.base && hi.meta.base_uidvalidity == be->idx.uidvalidity;
}

/* The bytes a value may take: after the colon, up to the line end. */
static int value_width(int fd, const struct mbox_hline *l, size_t *width)
{
	uint64_t end = l->end;
	unsigned char c;

	if (l->lf)
		end--;
	if (end > l->value &&
	    store_pread_full(fd, &c, 1, (off_t)(end - 1)) == 1 && c == '\r')
		end--;
	if (end < l->value)
		end = l->value;
	*width = (size_t)(end - l->value);
	return 0;
}

/* Overwrite the value of l with v padded by spaces; 1 if it does not
 * fit. Nothing is written when the bytes are already those. */
static int put_value(int fd, const struct mbox_hline *l, struct buf *v)
{
	unsigned char cur[512];
	size_t width;

	value_width(fd, l, &width);
	if (buf_len(v) > width)
		return 1;
	while (buf_len(v) < width)
		if (buf_append_str(v, " ") != 0)
			return -1;
	if (width <= sizeof(cur) &&
	    store_pread_full(fd, cur, width, (off_t)l->value) ==
		    (ssize_t)width &&
	    memcmp(cur, buf_data(v), width) == 0)
		return 0;
	return store_pwrite_all(fd, buf_data(v), width, (off_t)l->value);
}

static const struct mbox_hline *find(const struct mbox_hinfo *hi, int hdr,
				     size_t *count)
{
	const struct mbox_hline *l = NULL;

	*count = 0;
	for (size_t i = 0; i < hi->n; i++)
		if (hi->st[i].hdr == hdr && (*count)++ == 0)
			l = &hi->st[i];
	return l;
}

/* "X-IMAPbase: 0000000000 ...": a base nobody takes. */
static int zero_base(int fd, const struct mbox_hline *l)
{
	unsigned char v[32];
	ssize_t n = store_pread_full(fd, v, sizeof(v), (off_t)l->value);
	size_t i = 0, j;

	if (n <= 0)
		return -1;
	while (i < (size_t)n && (v[i] == ' ' || v[i] == '\t'))
		i++;
	for (j = i; j < (size_t)n && v[j] >= '0' && v[j] <= '9'; j++)
		v[j] = '0';
	return store_pwrite_all(fd, v + i, j - i, (off_t)(l->value + i));
}

int mbox_base_update(struct store_mailbox *mb, bool invalidate,
		     struct store_error *err)
{
	struct mbox_box *be = mb->be;
	struct mbox_block b = {0};
	const struct mbox_hline *l;
	struct mbox_hinfo hi;
	struct buf v;
	size_t count;
	int rc;

	if (be->idx.recs.n == 0)
		return 0;
	if (read_hinfo(be, 0, NULL, &hi) != 0)
		return store_fail_errno(err, errno, "%s", be->path);
	l = find(&hi, MBOX_HDR_X_IMAPBASE, &count);
	if (l == NULL || !hi.meta.base)
		return invalidate ? 0 : 2;
	if (invalidate)
		return zero_base(be->fd, l) == 0
			       ? 0
			       : store_fail_errno(err, errno, "%s", be->path);
	if (hi.meta.base_uidvalidity != be->idx.uidvalidity)
		return 2;
	if (l->folded)
		return 1;
	b.uidvalidity = be->idx.uidvalidity;
	b.last_uid = be->idx.next_uid - 1;
	b.names = be->idx.keywords;
	b.n_names = be->idx.n_keywords;
	buf_init(&v, MBOX_BLOCK_MAX);
	rc = mbox_meta_value(&b, MBOX_HDR_X_IMAPBASE, &v);
	if (rc == 0)
		rc = put_value(be->fd, l, &v);
	buf_free(&v);
	if (rc < 0)
		return store_fail_errno(err, errno, "%s", be->path);
	return rc;
}

/* Did the file show other flags than the index had? */
static bool stale(const struct store_index *idx, const struct mbox_hinfo *hi,
		  const struct mbox_kwtab *kw, unsigned flags, uint64_t bits)
{
	uint64_t have = 0;

	if (!hi->meta.any)
		return false;
	if ((hi->meta.flags & STORE_F_PERMANENT) != (flags & STORE_F_PERMANENT))
		return true;
	for (size_t i = 0; i < kw->n && i < 64; i++) {
		long at;

		if (((hi->meta.keywords >> i) & 1) == 0)
			continue;
		at = store_keywords_find(idx->keywords, idx->n_keywords,
					 kw->names[i]);
		if (at < 0)
			return true;
		have |= 1ULL << at;
	}
	return have != bits;
}

static const int fields[3] = {MBOX_HDR_STATUS, MBOX_HDR_X_STATUS,
			      MBOX_HDR_X_KEYWORDS};

/* Each field in its own line, values replaced: 1 if the lines do not
 * allow it. */
static int values_only(struct mbox_box *be, const struct mbox_hinfo *hi,
		       const struct mbox_block *b)
{
	const struct mbox_hline *line[3];
	struct buf v[3];
	int rc = 0;

	for (int i = 0; i < 3; i++) {
		size_t count, width;

		buf_init(&v[i], MBOX_BLOCK_MAX);
		line[i] = find(hi, fields[i], &count);
		if (mbox_meta_value(b, fields[i], &v[i]) != 0)
			rc = -1;
		if (count > 1 || (line[i] != NULL && line[i]->folded))
			rc = rc < 0 ? rc : 1;
		else if (line[i] == NULL && buf_len(&v[i]) > 1)
			rc = rc < 0 ? rc : 1; /* needed but missing */
		else if (line[i] != NULL &&
			 (value_width(be->fd, line[i], &width),
			  buf_len(&v[i]) > width))
			rc = rc < 0 ? rc : 1;
	}
	for (int i = 0; i < 3 && rc == 0; i++)
		if (line[i] != NULL)
			rc = put_value(be->fd, line[i], &v[i]);
	for (int i = 0; i < 3; i++)
		buf_free(&v[i]);
	return rc;
}

/* The lines a rewritten block keeps as they are. */
static int keep_lines(int fd, const struct mbox_hinfo *hi, struct buf *out)
{
	for (size_t i = 0; i < hi->n; i++) {
		const struct mbox_hline *l = &hi->st[i];
		unsigned char tmp[1024];
		size_t len = (size_t)(l->end - l->start);

		if (l->hdr == MBOX_HDR_STATUS || l->hdr == MBOX_HDR_X_STATUS ||
		    l->hdr == MBOX_HDR_X_KEYWORDS)
			continue;
		if (len > sizeof(tmp) ||
		    store_pread_full(fd, tmp, len, (off_t)l->start) !=
			    (ssize_t)len ||
		    buf_append(out, tmp, len) != 0)
			return -1;
	}
	return 0;
}

/* The status lines are one run: write a new run of the same length (the
 * kept lines, then Status, X-Status and X-Keywords padded to fill). */
static int block_in_place(struct store_mailbox *mb, size_t at,
			  const struct mbox_hinfo *hi, struct mbox_block *b,
			  struct store_error *err)
{
	struct mbox_box *be = mb->be;
	const struct store_rec *r = &be->idx.recs.v[at];
	uint64_t start = hi->st[0].start, len, lk_len;
	struct buf out;
	int rc = 0;

	if (hi->n == 0 || hi->overflow)
		return 1;
	for (size_t i = 0; i + 1 < hi->n; i++)
		if (hi->st[i].end != hi->st[i + 1].start)
			return 1;
	len = hi->st[hi->n - 1].end - start;
	if (len > MBOX_BLOCK_MAX || !hi->st[hi->n - 1].lf)
		return 1;
	buf_init(&out, MBOX_BLOCK_MAX);
	b->uid = 0; /* an X-UID line stays as it is */
	b->base = false;
	b->pad = 0;
	if (keep_lines(be->fd, hi, &out) != 0 || mbox_block_format(b, &out))
		rc = -1;
	if (rc == 0 && buf_len(&out) > len)
		rc = 1;
	if (rc == 0) { /* pad X-Keywords, the last line, to the old length */
		size_t pad = (size_t)len - buf_len(&out);

		out.len--; /* its LF */
		while (rc == 0 && pad-- > 0)
			rc = buf_append_str(&out, " ");
		if (rc == 0)
			rc = buf_append_str(&out, "\n");
	}
	lk_len = MBOX_FROM_LEN(r->aux) + r->raw_len + 1;
	if (rc == 0 && store_ofd_lock(be->fd, F_WRLCK, (off_t)r->offset,
				      (off_t)lk_len, be->deadline_ms, err) != 0)
		rc = -2;
	if (rc == 0) {
		if (store_pwrite_all(be->fd, buf_data(&out), buf_len(&out),
				     (off_t)start) != 0)
			rc = -1;
		store_ofd_lock(be->fd, F_RDLCK, (off_t)r->offset, (off_t)lk_len,
			       be->deadline_ms, NULL);
	}
	buf_free(&out);
	if (rc == -1)
		return store_fail_errno(err, errno, "%s", be->path);
	return rc == -2 ? -1 : rc;
}

int mbox_status_write(struct store_mailbox *mb, size_t at, unsigned old_flags,
		      uint64_t old_kw, bool *stale_r, struct store_error *err)
{
	struct mbox_box *be = mb->be;
	const struct store_rec *r = &be->idx.recs.v[at];
	struct mbox_kwtab kw = {.max = MBOX_META_KEYWORDS};
	struct mbox_block b = {0};
	struct mbox_hinfo hi;
	int rc;

	rc = read_hinfo(be, at, &kw, &hi);
	if (rc == 0 && stale_r != NULL)
		*stale_r = stale(&be->idx, &hi, &kw, old_flags, old_kw);
	mbox_kwtab_clear(&kw);
	if (rc != 0)
		return store_fail_errno(err, errno, "%s", be->path);
	if (stale_r != NULL && *stale_r)
		return 0;
	b.names = be->idx.keywords;
	b.n_names = be->idx.n_keywords;
	b.flags = r->flags;
	b.old = hi.meta.old;
	b.keywords = r->keywords;
	rc = values_only(be, &hi, &b);
	if (rc < 0)
		return store_fail_errno(err, errno, "%s", be->path);
	if (rc == 1)
		rc = block_in_place(mb, at, &hi, &b, err);
	return rc;
}
