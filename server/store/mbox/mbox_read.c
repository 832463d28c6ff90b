/*
 * mbox_read.c - reading one message of an mbox as it was appended: the
 * content after its From_ line without the separator, with its status
 * lines left out, one MBOX_ESCAPE taken off escaped ones (mbox_meta.h)
 * and mboxrd ">From " lines unquoted (RFC 4155 App. A), all on the fly.
 *
 * A message handle holds an fcntl read lock on its message's bytes, so a
 * rewrite (which moves later messages) waits for it instead of moving
 * bytes under a reader; appends write past the end and do not wait, and
 * in-place status changes keep every line where it is (mbox_status.c).
 * The handle checks the message's fingerprint when it opens: if the file
 * was changed behind the index's back, it reports STORE_E_EXPUNGED and
 * the caller syncs.
 *
 * Random access: a message without ">From " lines maps a body offset to
 * a file offset directly (the header's layout is learned at open); a
 * quoted one is read forward from where the last read stopped, and from
 * the start again when asked for an earlier offset.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "mbox.h"
#include "mbox_hdr.h"
#include "mbox_parse.h"
#include "store/store_fs.h"
#include "store/store_util.h"

#define RAW_BUF 65536u

struct mbox_reader {
	struct mbox_unquoter u;
	struct mbox_segs segs;
	uint64_t seg_a, seg_b;	    /* what is left of the current segment */
	uint64_t pres_pos;	    /* presented bytes produced */
	uint64_t hdr_raw, hdr_pres; /* header length: on disk, presented */
	bool filtered;
	bool eof;		    /* the file was cut short under us */
	unsigned char buf[RAW_BUF]; /* raw bytes not yet unquoted */
	size_t len, off;
};

static void restart(struct store_msg *msg, struct mbox_reader *rd)
{
	mbox_unquoter_init(&rd->u);
	mbox_segs_init(&rd->segs, msg->fd, msg->base, msg->base + msg->raw_len);
	rd->seg_a = rd->seg_b = 0;
	rd->eof = false;
	rd->pres_pos = 0;
	rd->len = rd->off = 0;
}

/* The header's length on disk and as read (status lines left out). */
static int measure(struct store_msg *msg, struct mbox_reader *rd)
{
	struct mbox_hwalk w;
	struct mbox_hline l;
	int rc;

	mbox_hwalk_init(&w, msg->fd, msg->base, msg->base + msg->raw_len, NULL);
	while ((rc = mbox_hwalk_next(&w, &l)) > 0)
		if (l.cls != MBOX_LINE_STATUS)
			rd->hdr_pres +=
				l.end - l.start -
				(l.cls == MBOX_LINE_ESCAPED ? MBOX_ESCAPE_LEN
							    : 0);
	rd->hdr_raw = w.rd.pos - msg->base;
	return rc;
}

static bool fingerprint_ok(int fd, const struct store_rec *r)
{
	uint64_t fp;

	return mbox_fingerprint_at(fd, r->offset, MBOX_FROM_LEN(r->aux),
				   r->raw_len, &fp) == 0 &&
	       fp == r->fingerprint;
}

static int open_reader(struct store_msg *msg, bool filtered,
		       struct store_error *err)
{
	struct mbox_reader *rd = calloc(1, sizeof(*rd));

	if (rd == NULL)
		return store_fail_errno(err, errno, "message");
	rd->filtered = filtered;
	restart(msg, rd);
	if (filtered && !msg->quoted && measure(msg, rd) < 0) {
		free(rd);
		return store_fail_errno(err, errno, "reading message");
	}
	msg->be = rd;
	return 0;
}

int mbox_msg_open(struct store_mailbox *mb, struct store_rec *vr,
		  struct store_msg *msg, struct store_error *err)
{
	struct mbox_box *be = mb->be;
	uint64_t deadline = store_now_ms() + mb->st->cfg.lock_timeout_ms;
	const struct store_rec *r;
	uint32_t flen;
	long at;

	/* Where the message is now: the view may predate a rewrite that
	 * moved it; the index is rewritten by every such change. */
	at = mbox_index_load(be, false)
		     ? store_recs_find(&be->idx.recs, vr->uid)
		     : -1;
	if (at < 0 || be->idx.uidvalidity != mb->uidvalidity)
		return store_fail(err, STORE_E_EXPUNGED,
				  "message UID %u was expunged",
				  (unsigned)vr->uid);
	r = &be->idx.recs.v[at];
	flen = MBOX_FROM_LEN(r->aux);
	msg->fd = open(be->path, O_RDONLY | O_CLOEXEC);
	if (msg->fd < 0)
		return store_fail(err, STORE_E_EXPUNGED, "mailbox %s is gone",
				  mb->name);
	if (store_ofd_lock(msg->fd, F_RDLCK, (off_t)r->offset,
			   (off_t)(flen + r->raw_len + 1), deadline,
			   err) != 0) {
		store_close_fd(&msg->fd);
		return -1;
	}
	if (!fingerprint_ok(msg->fd, r)) {
		store_close_fd(&msg->fd);
		return store_fail(err, STORE_E_EXPUNGED,
				  "message UID %u changed on disk",
				  (unsigned)r->uid);
	}
	msg->base = r->offset + flen;
	msg->raw_len = r->raw_len;
	msg->quoted = (r->aux & STORE_AUX_QUOTED) != 0;
	msg->info.size = r->size;
	if ((msg->quoted || (r->aux & MBOX_AUX_FILTER) != 0) &&
	    open_reader(msg, (r->aux & MBOX_AUX_FILTER) != 0, err) != 0) {
		store_close_fd(&msg->fd);
		return -1;
	}
	return 0;
}

/* The next raw segment into rd->seg_a/b; false at the end. */
static int next_seg(struct mbox_reader *rd)
{
	uint64_t a, b;
	int rc;

	while (rd->seg_a == rd->seg_b) {
		if (rd->eof)
			return 0;
		rc = mbox_segs_next(&rd->segs, &a, &b);
		if (rc <= 0)
			return rc;
		rd->seg_a = a;
		rd->seg_b = b;
	}
	return 1;
}

/* Next presented bytes into out; 0 at the end. */
static ssize_t produce(struct store_msg *msg, unsigned char *out, size_t cap)
{
	struct mbox_reader *rd = msg->be;

	for (;;) {
		size_t used, k, want;
		ssize_t n;
		int rc;

		if (rd->off == rd->len || !msg->quoted) {
			rc = next_seg(rd);
			if (rc < 0)
				return -1;
			if (rc == 0)
				return msg->quoted ? (ssize_t)mbox_unquote_end(
							     &rd->u, out, cap)
						   : 0;
			want = rd->seg_b - rd->seg_a;
			if (want > (msg->quoted ? RAW_BUF : cap))
				want = msg->quoted ? RAW_BUF : cap;
			n = store_pread_full(msg->fd,
					     msg->quoted ? rd->buf : out, want,
					     (off_t)rd->seg_a);
			if (n < 0)
				return -1;
			if (n == 0) /* cut short under us */
				rd->eof = true;
			rd->seg_a =
				n == 0 ? rd->seg_b : rd->seg_a + (uint64_t)n;
			if (!msg->quoted)
				return n;
			rd->len = (size_t)n;
			rd->off = 0;
		}
		k = mbox_unquote(&rd->u, rd->buf + rd->off, rd->len - rd->off,
				 &used, out, cap);
		rd->off += used;
		if (k > 0)
			return (ssize_t)k;
	}
}

static int read_forward(struct store_msg *msg, uint64_t offset, void *buf,
			size_t len, size_t *got_r, struct store_error *err)
{
	struct mbox_reader *rd = msg->be;
	unsigned char skip[4096];
	size_t got = 0;

	if (offset < rd->pres_pos)
		restart(msg, rd);
	while (rd->pres_pos < offset) {
		uint64_t left = offset - rd->pres_pos;
		ssize_t n = produce(msg, skip,
				    left < sizeof(skip) ? (size_t)left
							: sizeof(skip));

		if (n < 0)
			return store_fail_errno(err, errno, "reading message");
		if (n == 0)
			break;
		rd->pres_pos += (uint64_t)n;
	}
	while (got < len && rd->pres_pos == offset + got) {
		ssize_t n = produce(msg, (unsigned char *)buf + got, len - got);

		if (n < 0)
			return store_fail_errno(err, errno, "reading message");
		if (n == 0)
			break;
		got += (size_t)n;
		rd->pres_pos += (uint64_t)n;
	}
	*got_r = got;
	return 0;
}

/* Bytes at a file offset: the whole message (plain) or its body. */
static int read_direct(struct store_msg *msg, uint64_t raw_off, void *buf,
		       size_t len, size_t *got_r, struct store_error *err)
{
	ssize_t n;

	*got_r = 0;
	if (raw_off >= msg->raw_len)
		return 0;
	if (len > msg->raw_len - raw_off)
		len = (size_t)(msg->raw_len - raw_off);
	n = store_pread_full(msg->fd, buf, len, (off_t)(msg->base + raw_off));
	if (n < 0)
		return store_fail_errno(err, errno, "reading message");
	*got_r = (size_t)n;
	return 0;
}

int mbox_msg_read(struct store_msg *msg, uint64_t offset, void *buf, size_t len,
		  size_t *got_r, struct store_error *err)
{
	struct mbox_reader *rd = msg->be;

	if (rd == NULL)
		return read_direct(msg, offset, buf, len, got_r, err);
	if (!msg->quoted && offset >= rd->hdr_pres)
		return read_direct(msg, offset - rd->hdr_pres + rd->hdr_raw,
				   buf, len, got_r, err);
	return read_forward(msg, offset, buf, len, got_r, err);
}

void mbox_msg_close(struct store_msg *msg)
{
	free(msg->be);
	msg->be = NULL;
}
