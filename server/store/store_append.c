/*
 * store_append.c - new messages: streaming APPEND / delivery, and COPY
 * and MOVE (RFC 3501 6.3.11, 6.4.7; RFC 4315 APPENDUID/COPYUID; RFC 6851).
 *
 * Every new message goes through a backend transaction: save_begin,
 * save_write (any number of times; nothing is held in memory), save_end,
 * and one txn_commit that makes all of them durable at once and, when
 * asked, gives their UIDs. A copy is one transaction for all its
 * messages, so it is all or nothing and costs one commit.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_backend.h"
#include "store_internal.h"
#include "store_util.h"

struct store_append {
	struct store_mailbox *mb;
	struct store_txn txn;
	struct store_hdr_scan hs;
	bool failed;
};

void store_hdr_scan_init(struct store_hdr_scan *s)
{
	memset(s, 0, sizeof(*s));
	s->at_line_start = true;
}

void store_hdr_scan_feed(struct store_hdr_scan *s, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len && s->end == 0; i++) {
		unsigned char c = p[i];

		s->pos++;
		if (s->cr_at_start) {
			s->cr_at_start = false;
			if (c == '\n') {
				s->end = s->pos;
				break;
			}
		} else if (s->at_line_start && c == '\n') {
			s->end = s->pos;
			break;
		} else if (s->at_line_start && c == '\r') {
			s->cr_at_start = true;
			s->at_line_start = false;
			continue;
		}
		s->at_line_start = c == '\n';
	}
}

uint64_t store_hdr_scan_result(const struct store_hdr_scan *s)
{
	return s->end != 0 ? s->end : s->pos;
}

int store_txn_add(struct store_txn *txn, const char *from,
		  struct store_error *err)
{
	struct store_save_msg *m;

	if (txn->n == txn->cap) {
		size_t cap = txn->cap == 0 ? 4 : txn->cap * 2;

		m = realloc(txn->msgs, cap * sizeof(*m));
		if (m == NULL)
			return store_fail_errno(err, errno, "append");
		txn->msgs = m;
		txn->cap = cap;
	}
	m = &txn->msgs[txn->n++];
	memset(m, 0, sizeof(*m));
	if (from != NULL)
		memcpy(m->from, from, strnlen(from, sizeof(m->from) - 1));
	return txn->mb->st->ops->save_begin(txn, m, err);
}

void store_txn_free(struct store_txn *txn)
{
	for (size_t i = 0; i < txn->n; i++)
		free(txn->msgs[i].tmp_name);
	free(txn->msgs);
	memset(txn, 0, sizeof(*txn));
}

int store_append_begin(struct store *st, const char *name,
		       const char *envelope_from, struct store_append **ap_r,
		       struct store_error *err)
{
	struct store_append *ap;
	char canon[1024];

	*ap_r = NULL;
	if (store_name_check(st, name, canon, sizeof(canon), err) != 0)
		return -1;
	ap = calloc(1, sizeof(*ap));
	if (ap == NULL)
		return store_fail_errno(err, errno, "append");
	if (store_mailbox_alloc(st, canon, false, &ap->mb, err) != 0) {
		free(ap);
		return -1;
	}
	ap->txn.mb = ap->mb;
	store_hdr_scan_init(&ap->hs);
	if (st->ops->txn_begin(&ap->txn, err) != 0) {
		store_mailbox_close(&ap->mb);
		free(ap);
		return -1;
	}
	if (store_txn_add(&ap->txn, envelope_from, err) != 0) {
		store_append_abort(&ap);
		return -1;
	}
	*ap_r = ap;
	return 0;
}

int store_append_write(struct store_append *ap, const void *data, size_t len,
		       struct store_error *err)
{
	struct store_save_msg *m = &ap->txn.msgs[0];
	uint64_t max = ap->mb->st->cfg.message_max;

	if (ap->failed)
		return store_fail(err, STORE_E_INVALID, "append failed");
	if (max != 0 && (len > max || m->size > max - len)) {
		ap->failed = true;
		return store_fail(err, STORE_E_TOOBIG,
				  "message larger than %llu bytes",
				  (unsigned long long)max);
	}
	store_hdr_scan_feed(&ap->hs, data, len);
	if (len > 0 &&
	    ap->mb->st->ops->save_write(&ap->txn, m, data, len, err) != 0) {
		ap->failed = true;
		return -1;
	}
	m->size += len;
	return 0;
}

static uint32_t hdr_u32(uint64_t v)
{
	return v < STORE_HDR_UNKNOWN ? (uint32_t)v : STORE_HDR_UNKNOWN;
}

int store_append_commit(struct store_append **app, unsigned flags,
			const char *const *keywords, size_t keyword_count,
			time_t internal_date, uint32_t *uidvalidity_r,
			uint32_t *uid_r, struct store_error *err)
{
	struct store_append *ap = *app;
	const struct store_ops *ops = ap->mb->st->ops;
	struct store_save_msg *m = &ap->txn.msgs[0];
	bool want = uid_r != NULL || uidvalidity_r != NULL;
	uint32_t uidv = 0;
	int rc = -1;

	if (ap->failed)
		store_fail(err, STORE_E_INVALID, "append failed");
	else if ((flags & ~STORE_F_PERMANENT) != 0)
		store_fail(err, STORE_E_INVALID, "invalid flags");
	else
		rc = store_keyword_bits(ap->mb, keywords, keyword_count, true,
					&m->keywords, err);
	if (rc == 0) {
		m->flags = flags;
		m->internal_date = internal_date ? internal_date : time(NULL);
		m->header_size = hdr_u32(store_hdr_scan_result(&ap->hs));
		rc = ops->save_end(&ap->txn, m, err);
	}
	if (rc == 0)
		rc = ops->txn_commit(&ap->txn, want, &uidv, err);
	if (rc == 0 && uid_r != NULL)
		*uid_r = m->uid;
	if (rc == 0 && uidvalidity_r != NULL)
		*uidvalidity_r = uidv;
	if (rc != 0)
		ops->txn_abort(&ap->txn);
	store_txn_free(&ap->txn);
	store_mailbox_close(&ap->mb);
	free(ap);
	*app = NULL;
	return rc;
}

void store_append_abort(struct store_append **app)
{
	struct store_append *ap = *app;

	if (ap == NULL)
		return;
	ap->mb->st->ops->txn_abort(&ap->txn);
	store_txn_free(&ap->txn);
	store_mailbox_close(&ap->mb);
	free(ap);
	*app = NULL;
}
