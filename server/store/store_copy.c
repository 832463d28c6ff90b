/*
 * store_copy.c - COPY and MOVE (RFC 3501 6.4.7, RFC 4315 COPYUID,
 * RFC 6851 MOVE).
 *
 * The messages are streamed from the source into one transaction on the
 * destination, keeping flags (without \Recent), keywords (by name, added
 * to the destination's table) and internal dates; the commit makes them
 * all durable at once or none. MOVE then expunges the copied messages
 * from the source whatever their \Deleted flag. A crash between the two
 * leaves the messages in both mailboxes, never in neither.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_backend.h"
#include "store_internal.h"
#include "store_util.h"

void store_copy_result_clear(struct store_copy_result *res)
{
	free(res->src_uids);
	free(res->dst_uids);
	memset(res, 0, sizeof(*res));
}

/* Map of source keyword index -> destination bit for the keywords used
 * by the messages to copy. */
static int map_keywords(struct store_mailbox *src, struct store_mailbox *dst,
			uint64_t used, uint64_t map[64],
			struct store_error *err)
{
	const char *names[64];
	unsigned idx[64], pos[64];
	size_t n = 0;

	for (unsigned i = 0; i < 64 && i < src->n_keywords; i++) {
		if (!(used & (1ULL << i)))
			continue;
		pos[n] = i;
		names[n++] = src->keywords[i];
	}
	memset(map, 0, 64 * sizeof(*map));
	if (n == 0)
		return 0;
	if (dst->st->ops->keywords_intern(dst, names, n, idx, err) != 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		map[pos[i]] = 1ULL << idx[i];
	return 0;
}

static uint64_t remap(uint64_t bits, const uint64_t map[64])
{
	uint64_t out = 0;

	for (unsigned i = 0; i < 64; i++)
		if (bits & (1ULL << i))
			out |= map[i];
	return out;
}

static int stream_one(struct store_mailbox *src, uint32_t uid,
		      struct store_txn *txn, const uint64_t map[64],
		      struct store_error *err)
{
	const struct store_ops *ops = txn->mb->st->ops;
	struct store_save_msg *m;
	struct store_msg *msg;
	char buf[65536];
	uint64_t off = 0;
	int rc = 0;

	if (store_msg_open(src, uid, &msg, err) != 0)
		return -1;
	if (store_txn_add(txn, NULL, err) != 0) {
		store_msg_close(&msg);
		return -1;
	}
	m = &txn->msgs[txn->n - 1];
	while (rc == 0 && off < msg->info.size) {
		size_t got;

		rc = store_msg_read(msg, off, buf, sizeof(buf), &got, err);
		if (rc == 0 && got == 0)
			rc = store_fail(err, STORE_E_EXPUNGED,
					"message UID %u shrank", (unsigned)uid);
		if (rc == 0)
			rc = ops->save_write(txn, m, buf, got, err);
		off += got;
		m->size = off;
	}
	m->flags = msg->info.flags & STORE_F_PERMANENT;
	m->keywords = remap(msg->info.keywords, map);
	m->internal_date = msg->info.internal_date;
	m->header_size = msg->info.header_size < STORE_HDR_UNKNOWN
				 ? (uint32_t)msg->info.header_size
				 : STORE_HDR_UNKNOWN;
	store_msg_close(&msg);
	if (rc == 0)
		rc = ops->save_end(txn, m, err);
	return rc;
}

static int copy_into(struct store_mailbox *mb, const struct store_u32s *sel,
		     struct store_mailbox *dst, struct store_copy_result *res,
		     struct store_error *err)
{
	const struct store_ops *ops = dst->st->ops;
	struct store_txn txn = {.mb = dst};
	uint64_t used = 0, map[64];
	int rc;

	for (size_t i = 0; i < sel->n; i++)
		used |= mb->view.v[store_recs_find(&mb->view, sel->v[i])]
				.keywords;
	if (map_keywords(mb, dst, used, map, err) != 0 ||
	    ops->txn_begin(&txn, err) != 0)
		return -1;
	rc = 0;
	for (size_t i = 0; i < sel->n && rc == 0; i++)
		rc = stream_one(mb, sel->v[i], &txn, map, err);
	if (rc == 0)
		rc = ops->txn_commit(&txn, true, &res->dst_uidvalidity, err);
	if (rc != 0) {
		ops->txn_abort(&txn);
		store_txn_free(&txn);
		return -1;
	}
	res->src_uids = sel->v;
	res->dst_uids = malloc(sel->n * sizeof(uint32_t));
	if (res->dst_uids == NULL) {
		store_txn_free(&txn);
		return store_fail_errno(err, ENOMEM, "copy");
	}
	for (size_t i = 0; i < sel->n; i++)
		res->dst_uids[i] = txn.msgs[i].uid;
	res->count = sel->n;
	store_txn_free(&txn);
	return 0;
}

int store_copy(struct store_mailbox *mb, const struct store_uidset *uids,
	       const char *dst, struct store_copy_result *res_r,
	       struct store_error *err)
{
	struct store_u32s sel = {0};
	struct store_mailbox *to;
	char canon[1024];
	int rc = 0;

	memset(res_r, 0, sizeof(*res_r));
	if (store_name_check(mb->st, dst, canon, sizeof(canon), err) != 0)
		return -1;
	for (size_t i = 0; i < mb->view.n && rc == 0; i++)
		if (store_uidset_contains(uids, mb->view.v[i].uid))
			rc = store_u32s_push(&sel, mb->view.v[i].uid);
	if (rc != 0)
		return store_fail_errno(err, ENOMEM, "copy");
	if (store_mailbox_alloc(mb->st, canon, false, &to, err) != 0) {
		free(sel.v);
		return -1;
	}
	if (sel.n == 0) {
		store_mailbox_close(&to);
		return 0;
	}
	rc = copy_into(mb, &sel, to, res_r, err);
	if (rc != 0) {
		free(sel.v);
		store_copy_result_clear(res_r);
	}
	store_mailbox_close(&to);
	return rc;
}

int store_move(struct store_mailbox *mb, const struct store_uidset *uids,
	       const char *dst, struct store_copy_result *res_r,
	       struct store_changes *changes_r, struct store_error *err)
{
	uint32_t *gone = NULL;
	size_t n_gone = 0;
	int rc;

	memset(changes_r, 0, sizeof(*changes_r));
	memset(res_r, 0, sizeof(*res_r));
	if (mb->readonly)
		return store_fail(err, STORE_E_READONLY, "read-only mailbox");
	if (store_copy(mb, uids, dst, res_r, err) != 0)
		return -1;
	if (res_r->count == 0)
		return 0;
	rc = mb->st->ops->expunge(mb, res_r->src_uids, res_r->count, false,
				  &gone, &n_gone, err);
	if (rc == 0 && store_view_remove(mb, gone, n_gone, changes_r) != 0)
		rc = store_fail_errno(err, ENOMEM, "move");
	free(gone);
	return rc;
}
