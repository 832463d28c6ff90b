/*
 * maildir_sync.c - turning a Maildir folder into a snapshot.
 *
 * Unlocked fast path: scan new/ and cur/, read dovecot-uidlist and
 * quill-index if they were replaced, and if every file has a UID and
 * every record a file, build the snapshot: flags and keywords from the
 * file names (authoritative), size, internal date and header size from
 * the index cache (matched by UID and base fingerprint) or from stat().
 *
 * Anything else goes through md_sync_locked() (maildir_uidlist_sync.c)
 * under the dotlock: new files get UIDs, vanished files lose their
 * records, a lost uidlist is rebuilt, \Recent is claimed.
 *
 * A claiming handle then moves its messages from new/ to cur/ (maildir(5):
 * "no longer new"); a rename lost in a crash only leaves a file in new/.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "maildir.h"
#include "store/store_fs.h"
#include "store/store_util.h"

/* Cached metadata for (uid, fingerprint): from this handle's view first
 * (it may know header sizes found since), else from the index. */
static const struct store_rec *cached(const struct store_mailbox *mb,
				      uint32_t uidvalidity, uint32_t uid,
				      uint64_t fp)
{
	const struct md_box *be = mb->be;
	long at;

	if (mb->uidvalidity == uidvalidity) {
		at = store_recs_find(&mb->view, uid);
		if (at >= 0 && mb->view.v[at].fingerprint == fp)
			return &mb->view.v[at];
	}
	if (be->idx_ok && be->idx.uidvalidity == uidvalidity) {
		at = store_recs_find(&be->idx.recs, uid);
		if (at >= 0 && be->idx.recs.v[at].fingerprint == fp)
			return &be->idx.recs.v[at];
	}
	return NULL;
}

/* 1 if made, 0 if the file vanished, -1 on error. */
static int make_rec(struct store_mailbox *mb, const struct md_file *f,
		    struct store_rec *r, struct store_error *err)
{
	const struct md_box *be = mb->be;
	uint64_t kw_mask = (1ULL << be->n_kw) - 1;
	const struct store_rec *c;
	char path[PATH_MAX];
	struct stat st;

	memset(r, 0, sizeof(*r));
	r->uid = f->uid;
	r->flags = f->mn.flags;
	r->keywords = f->mn.keywords & kw_mask;
	r->fingerprint =
		store_hash(STORE_HASH_INIT, f->mn.base, f->mn.base_len);
	c = cached(mb, be->ul.uidvalidity, r->uid, r->fingerprint);
	if (c != NULL) {
		r->size = c->size;
		r->internal_date = c->internal_date;
		r->header_size = c->header_size;
	} else {
		if (store_path(path, sizeof(path), "%s/%s", be->dir, f->name) !=
		    0)
			return store_fail_errno(err, errno, "%s", be->dir);
		if (stat(path, &st) != 0)
			return errno == ENOENT ? 0
					       : store_fail_errno(err, errno,
								  "%s", path);
		r->size = (uint64_t)st.st_size;
		r->internal_date = (int64_t)st.st_mtime;
		r->header_size = STORE_HDR_UNKNOWN;
	}
	r->name = strdup(f->name);
	if (r->name == NULL)
		return store_fail_errno(err, errno, "sync");
	return 1;
}

static int cmp_uid(const void *a, const void *b)
{
	const struct md_file *x = a, *y = b;

	if (x->uid != y->uid)
		return x->uid < y->uid ? -1 : 1;
	return strcmp(y->name, x->name); /* "new/" after "cur/" */
}

int md_build_snapshot(struct store_mailbox *mb, struct md_files *files,
		      struct store_snapshot *snap, struct store_error *err)
{
	struct md_box *be = mb->be;

	for (size_t i = 0; i < files->n; i++) {
		struct md_file *f = &files->v[i];
		long at = maildir_uidlist_find(&be->ul, f->mn.base,
					       f->mn.base_len);

		f->uid = at >= 0 ? be->ul.v[at].uid : 0;
	}
	if (files->n > 1)
		qsort(files->v, files->n, sizeof(*files->v), cmp_uid);
	for (size_t i = 0; i < files->n; i++) {
		struct store_rec r;
		int rc;

		if (files->v[i].uid == 0 ||
		    (snap->recs.n > 0 &&
		     snap->recs.v[snap->recs.n - 1].uid == files->v[i].uid))
			continue;
		rc = make_rec(mb, &files->v[i], &r, err);
		if (rc < 0)
			return -1;
		if (rc > 0 && store_recs_push(&snap->recs, &r) != 0) {
			free(r.name);
			return store_fail_errno(err, errno, "sync");
		}
	}
	snap->uidvalidity = be->ul.uidvalidity;
	snap->uidnext = be->ul.next_uid;
	if (store_keywords_copy(&snap->keywords, &snap->n_keywords, be->kw,
				be->n_kw) != 0)
		return store_fail_errno(err, errno, "sync");
	return 0;
}

/* Does the unlocked state need the lock: files without UIDs, records
 * without files, no usable list, or messages to claim. */
static bool need_lock(const struct md_box *be, const struct md_files *files,
		      bool claim)
{
	size_t matched = 0;
	uint32_t recent;

	if (!be->ul_ok || be->ul.partial)
		return true;
	for (size_t i = 0; i < files->n; i++) {
		const struct maildir_name *mn = &files->v[i].mn;

		if (maildir_uidlist_find(&be->ul, mn->base, mn->base_len) < 0)
			return true;
		matched++;
	}
	if (matched < be->ul.n) /* something vanished (or a dup) */
		return true;
	recent = be->idx_ok && be->idx.uidvalidity == be->ul.uidvalidity
			 ? be->idx.recent_first
			 : be->ul.next_uid;
	return claim && be->ul.n > 0 && be->ul.v[be->ul.n - 1].uid >= recent;
}

static void move_to_cur(struct store_mailbox *mb, struct store_snapshot *snap)
{
	struct md_box *be = mb->be;

	for (size_t i = 0; i < snap->recs.n; i++) {
		struct store_rec *r = &snap->recs.v[i];
		char from[PATH_MAX], to[PATH_MAX], *name;
		size_t len;

		if (strncmp(r->name, "new/", 4) != 0 ||
		    strchr(r->name, ':') != NULL)
			continue;
		len = strlen(r->name);
		name = malloc(len + 4);
		if (name == NULL)
			return;
		snprintf(name, len + 4, "cur/%s:2,", r->name + 4);
		if (store_path(from, sizeof(from), "%s/%s", be->dir, r->name) !=
			    0 ||
		    store_path(to, sizeof(to), "%s/%s", be->dir, name) != 0 ||
		    rename(from, to) != 0) {
			free(name);
			continue;
		}
		free(r->name);
		r->name = name;
	}
}

int md_sync(struct store_mailbox *mb, bool claim, struct store_snapshot *snap,
	    struct store_error *err)
{
	struct md_box *be = mb->be;
	struct md_files files = {0};
	int rc;

	if (md_scan(be->dir, &files, err) != 0)
		return -1;
	rc = md_load_state(mb, false, err);
	if (rc == 0 && need_lock(be, &files, claim)) {
		rc = md_lock(mb, err);
		if (rc == 0) {
			rc = md_sync_locked(mb, &files, claim, snap, err);
			md_unlock(mb);
		}
	} else if (rc == 0) {
		rc = md_build_snapshot(mb, &files, snap, err);
		snap->recent_first =
			be->idx_ok && be->idx.uidvalidity == be->ul.uidvalidity
				? be->idx.recent_first
				: be->ul.next_uid;
	}
	md_files_clear(&files);
	if (rc != 0) {
		store_snapshot_clear(snap);
		return -1;
	}
	if (claim)
		move_to_cur(mb, snap);
	return 0;
}
