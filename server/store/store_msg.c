/*
 * store_msg.c - reading messages, changing flags (RFC 3501 6.4.6 STORE)
 * and expunging (RFC 3501 6.4.3, RFC 4315 UID EXPUNGE).
 *
 * A message is read through a handle that keeps its file open, so a
 * message expunged by someone else after the open still reads whole; one
 * gone before the open gives STORE_E_EXPUNGED. Its header size is found
 * on the first open when nothing recorded it yet.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_backend.h"
#include "store_internal.h"
#include "store_util.h"

static int find_header(struct store_msg *msg, struct store_error *err)
{
	struct store_hdr_scan hs;
	char buf[8192];
	uint64_t off = 0;

	store_hdr_scan_init(&hs);
	while (hs.end == 0 && off < msg->info.size) {
		size_t got;

		if (store_msg_read(msg, off, buf, sizeof(buf), &got, err) != 0)
			return -1;
		if (got == 0)
			break;
		store_hdr_scan_feed(&hs, buf, got);
		off += got;
	}
	msg->info.header_size = store_hdr_scan_result(&hs);
	if (msg->info.header_size > msg->info.size)
		msg->info.header_size = msg->info.size;
	return 0;
}

int store_msg_open(struct store_mailbox *mb, uint32_t uid,
		   struct store_msg **msg_r, struct store_error *err)
{
	long at = store_recs_find(&mb->view, uid);
	struct store_msg *msg;
	struct store_rec *r;

	*msg_r = NULL;
	if (at < 0)
		return store_fail(err, STORE_E_NOTFOUND, "no message UID %u",
				  (unsigned)uid);
	r = &mb->view.v[at];
	msg = calloc(1, sizeof(*msg));
	if (msg == NULL)
		return store_fail_errno(err, errno, "message");
	msg->mb = mb;
	msg->fd = -1;
	if (mb->st->ops->msg_open(mb, r, msg, err) != 0) {
		free(msg);
		return -1;
	}
	msg->info.uid = r->uid;
	msg->info.flags = r->flags;
	msg->info.keywords = r->keywords;
	msg->info.internal_date = (time_t)r->internal_date;
	r->size = msg->info.size; /* the backend may have corrected it */
	if (r->header_size != STORE_HDR_UNKNOWN && r->header_size <= r->size) {
		msg->info.header_size = r->header_size;
	} else {
		if (find_header(msg, err) != 0) {
			store_msg_close(&msg);
			return -1;
		}
		if (msg->info.header_size < STORE_HDR_UNKNOWN)
			r->header_size = (uint32_t)msg->info.header_size;
	}
	*msg_r = msg;
	return 0;
}

const struct store_msg_info *store_msg_get_info(const struct store_msg *msg)
{
	return &msg->info;
}

int store_msg_read(struct store_msg *msg, uint64_t offset, void *buf,
		   size_t len, size_t *got_r, struct store_error *err)
{
	*got_r = 0;
	if (offset >= msg->info.size || len == 0)
		return 0;
	if (len > msg->info.size - offset)
		len = (size_t)(msg->info.size - offset);
	return msg->mb->st->ops->msg_read(msg, offset, buf, len, got_r, err);
}

void store_msg_close(struct store_msg **msgp)
{
	struct store_msg *msg = *msgp;

	if (msg == NULL)
		return;
	msg->mb->st->ops->msg_close(msg);
	if (msg->fd >= 0)
		close(msg->fd);
	free(msg);
	*msgp = NULL;
}

int store_keyword_bits(struct store_mailbox *mb, const char *const *names,
		       size_t n, bool create, uint64_t *bits_r,
		       struct store_error *err)
{
	unsigned *idx;

	*bits_r = 0;
	for (size_t i = 0; i < n; i++)
		if (names[i] == NULL || !store_keyword_valid(names[i]))
			return store_fail(err, STORE_E_INVALID,
					  "invalid keyword");
	if (n == 0)
		return 0;
	if (!create) {
		for (size_t i = 0; i < n; i++) {
			long at = store_keywords_find(mb->keywords,
						      mb->n_keywords, names[i]);

			if (at >= 0)
				*bits_r |= 1ULL << at;
		}
		return 0;
	}
	idx = calloc(n, sizeof(*idx));
	if (idx == NULL)
		return store_fail_errno(err, errno, "keywords");
	if (mb->st->ops->keywords_intern(mb, names, n, idx, err) != 0) {
		free(idx);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		*bits_r |= 1ULL << idx[i];
	free(idx);
	return 0;
}

int store_flags_change(struct store_mailbox *mb,
		       const struct store_uidset *uids,
		       enum store_flags_mode mode, unsigned flags,
		       const char *const *keywords, size_t keyword_count,
		       struct store_error *err)
{
	struct store_flag_update *ups;
	uint64_t bits;
	size_t n = 0;
	int rc;

	if (mb->readonly)
		return store_fail(err, STORE_E_READONLY, "read-only mailbox");
	if ((flags & ~STORE_F_PERMANENT) != 0 || mode > STORE_FLAGS_REMOVE)
		return store_fail(err, STORE_E_INVALID, "invalid flags");
	if (store_keyword_bits(mb, keywords, keyword_count,
			       mode != STORE_FLAGS_REMOVE, &bits, err) != 0)
		return -1;
	ups = calloc(mb->view.n + 1, sizeof(*ups));
	if (ups == NULL)
		return store_fail_errno(err, errno, "flags");
	for (size_t i = 0; i < mb->view.n; i++)
		if (store_uidset_contains(uids, mb->view.v[i].uid))
			ups[n++].uid = mb->view.v[i].uid;
	rc = n == 0 ? 0
		    : mb->st->ops->flags_write(mb, ups, n, mode, flags, bits,
					       err);
	for (size_t i = 0; i < n && rc == 0; i++) {
		long at = store_recs_find(&mb->view, ups[i].uid);
		struct store_rec *r = &mb->view.v[at];

		if (ups[i].result != STORE_FLAG_DONE)
			continue;
		r->flags = (r->flags & STORE_F_RECENT) |
			   (ups[i].flags & STORE_F_PERMANENT);
		r->keywords = ups[i].keywords;
	}
	free(ups);
	return rc;
}

int store_expunge(struct store_mailbox *mb, const struct store_uidset *uids,
		  struct store_changes *changes_r, struct store_error *err)
{
	struct store_u32s sel = {0};
	uint32_t *gone = NULL;
	size_t n_gone = 0;
	int rc = 0;

	memset(changes_r, 0, sizeof(*changes_r));
	if (mb->readonly)
		return store_fail(err, STORE_E_READONLY, "read-only mailbox");
	for (size_t i = 0; i < mb->view.n && rc == 0; i++) {
		const struct store_rec *r = &mb->view.v[i];

		if ((r->flags & STORE_F_DELETED) &&
		    (uids == NULL || store_uidset_contains(uids, r->uid)))
			rc = store_u32s_push(&sel, r->uid);
	}
	if (rc != 0)
		return store_fail_errno(err, ENOMEM, "expunge");
	if (sel.n > 0)
		rc = mb->st->ops->expunge(mb, sel.v, sel.n, true, &gone,
					  &n_gone, err);
	free(sel.v);
	if (rc == 0 && store_view_remove(mb, gone, n_gone, changes_r) != 0)
		rc = store_fail_errno(err, ENOMEM, "expunge");
	free(gone);
	return rc;
}
