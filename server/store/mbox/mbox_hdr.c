/*
 * mbox_hdr.c - one message's header, walked line by line through a small
 * buffered reader, with status lines (mbox_meta.h) told apart. A status
 * field takes its continuation lines with it (RFC 5322 2.2.3 folding);
 * the header ends at its first empty line or where the content ends
 * (RFC 5322 2.1: the body is optional). Everything here reads through
 * pread(), so a walk never moves a file position others share.
 */
#include "mbox_hdr.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "mbox_parse.h"
#include "store/store_fs.h"
#include "store/store_util.h"

void mbox_rd_init(struct mbox_rd *r, int fd, uint64_t start, uint64_t end)
{
	r->fd = fd;
	r->pos = start;
	r->end = end > start ? end : start;
	r->len = r->off = 0;
	r->err = false;
}

static bool fill(struct mbox_rd *r)
{
	size_t want;
	ssize_t n;

	if (r->off < r->len)
		return true;
	if (r->pos >= r->end)
		return false;
	want = r->end - r->pos < sizeof(r->buf) ? (size_t)(r->end - r->pos)
						: sizeof(r->buf);
	n = store_pread_full(r->fd, r->buf, want, (off_t)r->pos);
	if (n <= 0) { /* an error, or the file is shorter now */
		r->err = n < 0;
		r->end = r->pos;
		return false;
	}
	r->len = (size_t)n;
	r->off = 0;
	return true;
}

int mbox_rd_get(struct mbox_rd *r)
{
	if (!fill(r))
		return -1;
	r->pos++;
	return r->buf[r->off++];
}

int mbox_rd_peek(struct mbox_rd *r)
{
	return fill(r) ? r->buf[r->off] : -1;
}

void mbox_hwalk_init(struct mbox_hwalk *w, int fd, uint64_t start, uint64_t end,
		     struct buf *val)
{
	mbox_rd_init(&w->rd, fd, start, end);
	w->done = false;
	w->val = val;
}

static void capture(struct mbox_hwalk *w, int ch)
{
	unsigned char c = (unsigned char)ch;
	size_t taken;

	if (w->val != NULL)
		buf_append_some(w->val, &c, 1, &taken);
}

/* The continuation lines of a status field. */
static void fold(struct mbox_hwalk *w, struct mbox_hline *l)
{
	int ch = mbox_rd_peek(&w->rd);

	while (ch == ' ' || ch == '\t') {
		l->folded = true;
		while ((ch = mbox_rd_get(&w->rd)) >= 0) {
			capture(w, ch);
			if (ch == '\n')
				break;
		}
		if (ch != '\n') {
			l->lf = false;
			return;
		}
		ch = mbox_rd_peek(&w->rd);
	}
}

int mbox_hwalk_next(struct mbox_hwalk *w, struct mbox_hline *l)
{
	enum mbox_line r = MBOX_LINE_MORE;
	struct mbox_linecls c;
	int ch = -1;

	if (w->done)
		return 0;
	memset(l, 0, sizeof(*l));
	l->start = w->rd.pos;
	if (w->val != NULL)
		buf_clear(w->val);
	mbox_linecls_init(&c);
	while ((ch = mbox_rd_get(&w->rd)) >= 0) {
		if (r == MBOX_LINE_MORE) {
			r = mbox_linecls_feed(&c, (unsigned char)ch);
			if (r == MBOX_LINE_STATUS || r == MBOX_LINE_ESCAPED)
				l->value = w->rd.pos;
		} else if (r == MBOX_LINE_STATUS) {
			capture(w, ch);
		}
		if (ch == '\n')
			break;
	}
	if (w->rd.err)
		return -1;
	if (w->rd.pos == l->start) {
		w->done = true;
		return 0;
	}
	l->lf = ch == '\n';
	if (r == MBOX_LINE_MORE)
		r = MBOX_LINE_PLAIN;
	if (r == MBOX_LINE_STATUS && l->lf)
		fold(w, l);
	if (w->rd.err)
		return -1;
	if (r == MBOX_LINE_EMPTY || !l->lf)
		w->done = true;
	l->cls = r;
	l->hdr = c.hdr;
	l->end = w->rd.pos;
	return 1;
}

int mbox_hinfo_read(int fd, uint64_t start, uint64_t end, bool first,
		    struct mbox_kwtab *kw, struct mbox_hinfo *hi)
{
	struct mbox_hwalk w;
	struct mbox_hline l;
	struct buf val;
	int rc;

	memset(hi, 0, sizeof(*hi));
	hi->ends_lf = true;
	buf_init(&val, MBOX_META_VALUE_MAX);
	mbox_hwalk_init(&w, fd, start, end, &val);
	while ((rc = mbox_hwalk_next(&w, &l)) > 0) {
		if (l.cls == MBOX_LINE_EMPTY) {
			hi->has_eoh = true;
			hi->eoh = l.start;
			break;
		}
		hi->ends_lf = l.lf;
		if (l.cls != MBOX_LINE_STATUS)
			continue;
		mbox_meta_apply(&hi->meta, l.hdr, (const char *)buf_data(&val),
				buf_len(&val), first, kw);
		if (hi->n < MBOX_HINFO_LINES)
			hi->st[hi->n++] = l;
		else
			hi->overflow = true;
	}
	if (!hi->has_eoh)
		hi->eoh = w.rd.pos;
	buf_free(&val);
	return rc < 0 ? -1 : 0;
}

/* Up to room bytes of [a, b) into out. */
static int take(int fd, uint64_t a, uint64_t b, unsigned char *out, size_t room,
		size_t *got)
{
	size_t n = b - a < room ? (size_t)(b - a) : room;

	if (n > 0 && store_pread_full(fd, out, n, (off_t)a) != (ssize_t)n)
		return -1;
	*got += n;
	return 0;
}

int mbox_fingerprint_at(int fd, uint64_t offset, uint32_t from_len,
			uint64_t raw_len, uint64_t *fp_r)
{
	unsigned char from[MBOX_LINE_PREFIX], head[MBOX_HEAD_BYTES];
	size_t fl = from_len < MBOX_LINE_PREFIX ? from_len : MBOX_LINE_PREFIX;
	uint64_t start = offset + from_len, a, b;
	size_t got = 0;
	struct mbox_hwalk w;
	int rc;

	if (store_pread_full(fd, from, fl, (off_t)offset) != (ssize_t)fl)
		return -1;
	/* Escapes are content here: the fingerprint is of raw bytes. */
	mbox_hwalk_init(&w, fd, start, start + raw_len, NULL);
	while (got < sizeof(head)) {
		struct mbox_hline l;

		rc = mbox_hwalk_next(&w, &l);
		if (rc < 0)
			return -1;
		if (rc == 0)
			break;
		if (l.cls != MBOX_LINE_STATUS &&
		    take(fd, l.start, l.end, head + got, sizeof(head) - got,
			 &got) != 0)
			return -1;
	}
	a = w.rd.pos;
	b = start + raw_len;
	if (got < sizeof(head) && a < b &&
	    take(fd, a, b, head + got, sizeof(head) - got, &got) != 0)
		return -1;
	*fp_r = mbox_fingerprint(from, fl, head, got);
	return 0;
}

void mbox_segs_init(struct mbox_segs *s, int fd, uint64_t start, uint64_t end)
{
	mbox_hwalk_init(&s->w, fd, start, end, NULL);
	s->in_hdr = true;
	s->end = end;
}

int mbox_segs_next(struct mbox_segs *s, uint64_t *a, uint64_t *b)
{
	struct mbox_hline l;
	int rc;

	while (s->in_hdr) {
		rc = mbox_hwalk_next(&s->w, &l);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			s->in_hdr = false;
			break;
		}
		if (l.cls == MBOX_LINE_STATUS)
			continue;
		*a = l.start +
		     (l.cls == MBOX_LINE_ESCAPED ? MBOX_ESCAPE_LEN : 0);
		*b = l.end;
		return 1;
	}
	*a = s->w.rd.pos;
	*b = s->end;
	s->w.rd.pos = s->end;
	return *a < *b ? 1 : 0;
}

int mbox_copy_out(int in, uint64_t a, uint64_t b, int out, uint64_t *hash,
		  uint64_t *written)
{
	char buf[65536];

	while (a < b) {
		size_t want =
			b - a < sizeof(buf) ? (size_t)(b - a) : sizeof(buf);

		if (store_pread_full(in, buf, want, (off_t)a) !=
			    (ssize_t)want ||
		    store_write_all(out, buf, want) != 0)
			return -1;
		*hash = store_hash(*hash, buf, want);
		*written += want;
		a += want;
	}
	return 0;
}

static int put_block(const struct buf *blk, int out, uint64_t *hash,
		     uint64_t *written)
{
	if (store_write_all(out, buf_data(blk), buf_len(blk)) != 0)
		return -1;
	*hash = store_hash(*hash, buf_data(blk), buf_len(blk));
	*written += buf_len(blk);
	return 0;
}

int mbox_copy_renew(int in, uint64_t start, uint64_t end,
		    const struct mbox_hinfo *hi, const struct buf *blk, int out,
		    uint64_t *hash, uint64_t *written)
{
	struct mbox_hwalk w;
	struct mbox_hline l;
	int rc;

	if (!hi->has_eoh && !hi->ends_lf)
		return 1;
	mbox_hwalk_init(&w, in, start, end, NULL);
	while ((rc = mbox_hwalk_next(&w, &l)) > 0) {
		if (l.cls == MBOX_LINE_EMPTY &&
		    put_block(blk, out, hash, written) != 0)
			return -1;
		if (l.cls != MBOX_LINE_STATUS &&
		    mbox_copy_out(in, l.start, l.end, out, hash, written) != 0)
			return -1;
		if (l.cls == MBOX_LINE_EMPTY)
			break;
	}
	if (rc < 0)
		return -1;
	if (!hi->has_eoh && put_block(blk, out, hash, written) != 0)
		return -1;
	return mbox_copy_out(in, w.rd.pos, end, out, hash, written);
}
