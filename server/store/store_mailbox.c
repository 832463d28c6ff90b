/*
 * store_mailbox.c - a session's view of one mailbox: open and close,
 * status, sequence numbers, and store_sync(), which compares the view
 * with a fresh snapshot from the backend and reports what changed.
 *
 * \Recent (RFC 3501 2.3.2): a read-write handle claims; the backend moves
 * the mailbox's first-recent UID to UIDNEXT and returns the old value, so
 * each new message is recent in exactly one claiming handle, which keeps
 * it recent for its lifetime. A read-only handle shows as recent what no
 * one has claimed, and claims nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "store_backend.h"
#include "store_internal.h"
#include "store_util.h"

int store_mailbox_alloc(struct store *st, const char *canon, bool readonly,
			struct store_mailbox **mb_r, struct store_error *err)
{
	struct store_mailbox *mb = calloc(1, sizeof(*mb));

	*mb_r = NULL;
	if (mb == NULL || (mb->name = strdup(canon)) == NULL) {
		free(mb);
		return store_fail_errno(err, ENOMEM, "mailbox");
	}
	mb->st = st;
	mb->readonly = readonly;
	mb->watch_fd = -1;
	if (st->ops->open(mb, err) != 0) {
		free(mb->name);
		free(mb);
		return -1;
	}
	*mb_r = mb;
	return 0;
}

static void drain_watch(struct store_mailbox *mb)
{
	char buf[4096];

	if (mb->watch_fd < 0)
		return;
	while (read(mb->watch_fd, buf, sizeof(buf)) > 0)
		;
}

/* Build the new view from snap, reporting differences to ch. */
static int merge(struct store_mailbox *mb, struct store_snapshot *snap,
		 struct store_changes *ch)
{
	struct store_u32s ex = {0}, ex_seq = {0}, added = {0}, changed = {0};
	struct store_recs *old = &mb->view;
	bool initial = mb->uidvalidity == 0 || ch == NULL;
	size_t i = 0, j = 0;
	int rc = 0;

	for (; j < snap->recs.n && rc == 0; j++) {
		struct store_rec *r = &snap->recs.v[j];
		bool recent = r->uid >= snap->recent_first;

		while (i < old->n && old->v[i].uid < r->uid && rc == 0) {
			rc = store_u32s_push(&ex, old->v[i].uid) |
			     store_u32s_push(&ex_seq, (uint32_t)i + 1);
			i++;
		}
		if (i < old->n && old->v[i].uid == r->uid) {
			const struct store_rec *o = &old->v[i++];

			if (((o->flags ^ r->flags) & STORE_F_PERMANENT) ||
			    o->keywords != r->keywords)
				rc |= store_u32s_push(&changed, r->uid);
			if (r->header_size == STORE_HDR_UNKNOWN)
				r->header_size = o->header_size;
			if (!mb->readonly)
				recent = (o->flags & STORE_F_RECENT) != 0;
		} else if (!initial) {
			rc |= store_u32s_push(&added, r->uid);
		}
		r->flags = (r->flags & STORE_F_PERMANENT) |
			   (recent ? STORE_F_RECENT : 0);
	}
	for (; i < old->n && rc == 0; i++)
		rc = store_u32s_push(&ex, old->v[i].uid) |
		     store_u32s_push(&ex_seq, (uint32_t)i + 1);
	if (rc != 0 || ch == NULL || initial) {
		free(ex.v);
		free(ex_seq.v);
		free(added.v);
		free(changed.v);
		return rc;
	}
	ch->expunged = ex.v;
	ch->expunged_seqs = ex_seq.v;
	ch->n_expunged = ex.n;
	ch->added = added.v;
	ch->n_added = added.n;
	ch->changed = changed.v;
	ch->n_changed = changed.n;
	return 0;
}

static int view_sync(struct store_mailbox *mb, struct store_changes *ch,
		     struct store_error *err)
{
	struct store_snapshot snap = {0};
	bool reset;

	drain_watch(mb);
	if (mb->st->ops->sync(mb, mb->claim_recent, &snap, err) != 0)
		return -1;
	reset = mb->uidvalidity != 0 && snap.uidvalidity != mb->uidvalidity;
	if (reset)
		store_recs_clear(&mb->view);
	if (merge(mb, &snap, reset ? NULL : ch) != 0) {
		store_snapshot_clear(&snap);
		return store_fail_errno(err, ENOMEM, "sync");
	}
	if (ch != NULL) {
		ch->reset = reset;
		ch->keywords_changed = snap.n_keywords > mb->n_keywords;
	}
	store_recs_clear(&mb->view);
	mb->view = snap.recs;
	memset(&snap.recs, 0, sizeof(snap.recs));
	store_keywords_free(&mb->keywords, &mb->n_keywords);
	mb->keywords = snap.keywords;
	mb->n_keywords = snap.n_keywords;
	snap.keywords = NULL;
	snap.n_keywords = 0;
	mb->uidvalidity = snap.uidvalidity;
	mb->uidnext = snap.uidnext;
	store_snapshot_clear(&snap);
	return 0;
}

int store_sync(struct store_mailbox *mb, struct store_changes *changes_r,
	       struct store_error *err)
{
	memset(changes_r, 0, sizeof(*changes_r));
	return view_sync(mb, changes_r, err);
}

void store_changes_clear(struct store_changes *c)
{
	free(c->expunged);
	free(c->expunged_seqs);
	free(c->added);
	free(c->changed);
	memset(c, 0, sizeof(*c));
}

int store_mailbox_open_as(struct store *st, const char *canon, bool readonly,
			  bool claim, struct store_mailbox **mb_r,
			  struct store_error *err)
{
	struct store_mailbox *mb;

	if (store_mailbox_alloc(st, canon, readonly, &mb, err) != 0)
		return -1;
	mb->claim_recent = claim && !readonly;
	if (view_sync(mb, NULL, err) != 0) {
		store_mailbox_close(&mb);
		return -1;
	}
	*mb_r = mb;
	return 0;
}

int store_mailbox_open(struct store *st, const char *name, unsigned flags,
		       struct store_mailbox **mb_r, struct store_error *err)
{
	char canon[1024];
	bool ro = (flags & STORE_OPEN_READONLY) != 0;

	*mb_r = NULL;
	if (store_name_check(st, name, canon, sizeof(canon), err) != 0)
		return -1;
	return store_mailbox_open_as(st, canon, ro, !ro, mb_r, err);
}

void store_mailbox_close(struct store_mailbox **mbp)
{
	struct store_mailbox *mb = *mbp;

	if (mb == NULL)
		return;
	mb->st->ops->close(mb);
	store_cache_free(&mb->cache);
	if (mb->watch_fd >= 0)
		close(mb->watch_fd);
	store_recs_clear(&mb->view);
	store_keywords_free(&mb->keywords, &mb->n_keywords);
	free(mb->name);
	free(mb);
	*mbp = NULL;
}

const char *store_mailbox_name(const struct store_mailbox *mb)
{
	return mb->name;
}

void store_mailbox_status(const struct store_mailbox *mb,
			  struct store_status *s)
{
	memset(s, 0, sizeof(*s));
	s->uidvalidity = mb->uidvalidity;
	s->uidnext = mb->uidnext;
	s->messages = (uint32_t)mb->view.n;
	for (size_t i = 0; i < mb->view.n; i++) {
		const struct store_rec *r = &mb->view.v[i];

		if (r->flags & STORE_F_RECENT)
			s->recent++;
		if (!(r->flags & STORE_F_SEEN)) {
			if (s->unseen++ == 0)
				s->first_unseen = (uint32_t)i + 1;
		}
		s->size += r->size;
	}
}

int store_status(struct store *st, const char *name, struct store_status *s,
		 struct store_error *err)
{
	struct store_mailbox *mb;

	if (store_mailbox_open(st, name, STORE_OPEN_READONLY, &mb, err) != 0)
		return -1;
	store_mailbox_status(mb, s);
	store_mailbox_close(&mb);
	return 0;
}

uint32_t store_count(const struct store_mailbox *mb)
{
	return (uint32_t)mb->view.n;
}

uint32_t store_uid_at(const struct store_mailbox *mb, uint32_t seq)
{
	return seq >= 1 && seq <= mb->view.n ? mb->view.v[seq - 1].uid : 0;
}

uint32_t store_seq_of(const struct store_mailbox *mb, uint32_t uid)
{
	long at = store_recs_find(&mb->view, uid);

	return at < 0 ? 0 : (uint32_t)at + 1;
}

size_t store_keyword_count(const struct store_mailbox *mb)
{
	return mb->n_keywords;
}

const char *store_keyword_name(const struct store_mailbox *mb, size_t i)
{
	return i < mb->n_keywords ? mb->keywords[i] : NULL;
}

size_t store_keyword_max(const struct store_mailbox *mb)
{
	return mb->st->ops->keyword_max;
}

int store_msg_info(const struct store_mailbox *mb, uint32_t seq,
		   struct store_msg_info *info, struct store_error *err)
{
	const struct store_rec *r;

	if (seq == 0 || seq > mb->view.n)
		return store_fail(err, STORE_E_NOTFOUND, "no message %u",
				  (unsigned)seq);
	r = &mb->view.v[seq - 1];
	info->uid = r->uid;
	info->flags = r->flags;
	info->keywords = r->keywords;
	info->size = r->size;
	info->header_size = r->header_size == STORE_HDR_UNKNOWN
				    ? STORE_SIZE_UNKNOWN
				    : r->header_size;
	info->internal_date = (time_t)r->internal_date;
	return 0;
}

int store_view_remove(struct store_mailbox *mb, const uint32_t *uids, size_t n,
		      struct store_changes *ch)
{
	struct store_u32s ex = {0}, seq = {0};
	size_t w = 0, k = 0;
	int rc = 0;

	for (size_t i = 0; i < mb->view.n; i++) {
		struct store_rec *r = &mb->view.v[i];

		while (k < n && uids[k] < r->uid)
			k++;
		if (k < n && uids[k] == r->uid) {
			rc |= store_u32s_push(&ex, r->uid) |
			      store_u32s_push(&seq, (uint32_t)i + 1);
			free(r->name);
			continue;
		}
		mb->view.v[w++] = *r;
	}
	mb->view.n = w;
	if (ch != NULL && rc == 0) {
		ch->expunged = ex.v;
		ch->expunged_seqs = seq.v;
		ch->n_expunged = ex.n;
	} else {
		free(ex.v);
		free(seq.v);
	}
	return rc;
}

int store_watch_fd(struct store_mailbox *mb, struct store_error *err)
{
	int fd;

	if (mb->watch_fd >= 0)
		return mb->watch_fd;
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0) {
		store_fail_errno(err, errno, "inotify");
		return -1;
	}
	if (mb->st->ops->watch(mb, fd, err) != 0) {
		close(fd);
		return -1;
	}
	mb->watch_fd = fd;
	return fd;
}
