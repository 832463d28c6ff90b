/*
 * maildir_locked.c - everything that changes a Maildir folder's UID
 * state, always under the dovecot-uidlist dotlock (see maildir.h).
 *
 * UID rules (RFC 3501 2.3.1.1): new files get UIDs from the list's next
 * UID in the order of their names (which start with the delivery time);
 * a UID is never given twice: the next UID only grows, and if records
 * were lost to damage the index's next UID (same UIDVALIDITY) bounds it
 * too. A file that lost its record gets its old UID back from the index
 * when the index knows its base (fingerprint) and the UID is free, else a
 * new one. UIDVALIDITY changes only when neither dovecot-uidlist nor the
 * index survives.
 *
 * A record is dropped only if its file is missing from two scans, the
 * second made under the lock: readdir() may miss a file renamed (a flag
 * change) while it runs, and dropping a live record would renumber it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "maildir.h"
#include "store/store_fs.h"
#include "store/store_internal.h"
#include "store/store_util.h"

static int ul_load(struct md_box *be, bool force, struct store_error *err)
{
	int fd = open(be->uidlist_path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *data;
	size_t len;

	if (fd < 0) {
		if (errno != ENOENT)
			return store_fail_errno(err, errno, "%s",
						be->uidlist_path);
		maildir_uidlist_clear(&be->ul);
		be->ul_ok = false;
		return 0;
	}
	if (fstat(fd, &st) != 0 ||
	    (!force && be->ul_ok && st.st_ino == be->ul_st.st_ino &&
	     st.st_dev == be->ul_st.st_dev && st.st_size == be->ul_st.st_size &&
	     st.st_mtim.tv_nsec == be->ul_st.st_mtim.tv_nsec &&
	     st.st_mtim.tv_sec == be->ul_st.st_mtim.tv_sec)) {
		close(fd);
		return 0;
	}
	maildir_uidlist_clear(&be->ul);
	be->ul_ok = false;
	if (store_read_fd(fd, MAILDIR_UIDLIST_MAX_BYTES, &data, &len) != 0) {
		int saved = errno;

		close(fd);
		if (saved == E2BIG)
			return 0; /* treated as damaged */
		return store_fail_errno(err, saved, "%s", be->uidlist_path);
	}
	be->ul_ok = maildir_uidlist_parse(data, len, &be->ul, NULL) == 0;
	free(data);
	be->ul_st = st;
	store_close_fd(&be->ul_fd);
	be->ul_fd = fd;
	return 0;
}

int md_load_state(struct store_mailbox *mb, bool force, struct store_error *err)
{
	struct md_box *be = mb->be;
	uint64_t gen = store_index_peek(be->index_path);

	if (ul_load(be, force, err) != 0)
		return -1;
	if (gen == 0 || !be->idx_ok || gen != store_index_stamp(&be->idx)) {
		store_index_clear(&be->idx);
		be->idx_ok =
			store_index_read(be->index_path, &be->idx, NULL) == 0;
	}
	return md_keywords_load(be, err);
}

static uint64_t file_fp(const struct md_file *f)
{
	return store_hash(STORE_HASH_INIT, f->mn.base, f->mn.base_len);
}

/* The file whose base has fingerprint fp, or NULL (linear: recovery
 * only). */
static const struct md_file *file_by_fp(const struct md_files *files,
					uint64_t fp)
{
	for (size_t i = 0; i < files->n; i++)
		if (file_fp(&files->v[i]) == fp)
			return &files->v[i];
	return NULL;
}

/* Rebuild be->ul from records kept (keep[i]) plus index records whose
 * files lost theirs. */
static int ul_rebuild(struct md_box *be, const bool *keep,
		      const struct md_files *files, bool from_index)
{
	struct maildir_uidlist nu;
	size_t i = 0, j = 0;
	const struct store_recs *ir = &be->idx.recs;

	maildir_uidlist_init(&nu, be->ul.uidvalidity, be->ul.next_uid);
	memcpy(nu.guid, be->ul.guid, sizeof(nu.guid));
	while (i < be->ul.n || (from_index && j < ir->n)) {
		const struct md_file *f = NULL;
		uint32_t uid;
		const char *base;
		size_t len;

		if (i < be->ul.n && (!from_index || j >= ir->n ||
				     be->ul.v[i].uid <= ir->v[j].uid)) {
			uid = be->ul.v[i].uid;
			base = be->ul.v[i].base;
			len = strlen(base);
			if (!keep[i++])
				continue;
		} else {
			uid = ir->v[j++].uid;
			f = file_by_fp(files, ir->v[j - 1].fingerprint);
			if (f == NULL ||
			    maildir_uidlist_find(&be->ul, f->mn.base,
						 f->mn.base_len) >= 0)
				continue;
			base = f->mn.base;
			len = f->mn.base_len;
		}
		if (maildir_uidlist_add(&nu, uid, base, len) != 0 &&
		    errno == ENOMEM) {
			maildir_uidlist_clear(&nu);
			return -1;
		}
	}
	if (from_index && be->idx.next_uid > nu.next_uid)
		nu.next_uid = be->idx.next_uid;
	maildir_uidlist_clear(&be->ul);
	be->ul = nu;
	be->ul_ok = true;
	return 0;
}

/* No usable dovecot-uidlist: rebuild it from the index, or start over
 * with a new UIDVALIDITY. */
static int recover(struct store_mailbox *mb, const struct md_files *files,
		   struct store_error *err)
{
	struct md_box *be = mb->be;
	uint32_t uidv;
	bool ok = be->idx_ok;

	if (ok) {
		maildir_uidlist_init(&be->ul, be->idx.uidvalidity,
				     be->idx.next_uid);
		log_warn(NULL,
			 "store.maildir.uidlist_rebuilt dir=%s from=index",
			 be->dir);
		return ul_rebuild(be, NULL, files, true) == 0
			       ? 0
			       : store_fail_errno(err, ENOMEM, "uidlist");
	}
	if (store_uidvalidity_next(mb->st, &uidv, err) != 0)
		return -1;
	if (files->n > 0)
		log_warn(NULL,
			 "store.maildir.uidlist_lost dir=%s uidvalidity=%u",
			 be->dir, (unsigned)uidv);
	maildir_uidlist_init(&be->ul, uidv, 1);
	be->ul_ok = true;
	return 0;
}

static int cmp_base(const void *a, const void *b)
{
	const struct md_file *x = a, *y = b;
	size_t n = x->mn.base_len < y->mn.base_len ? x->mn.base_len
						   : y->mn.base_len;
	int c = memcmp(x->mn.base, y->mn.base, n);

	if (c != 0 || x->mn.base_len != y->mn.base_len)
		return c != 0 ? c : (x->mn.base_len < y->mn.base_len ? -1 : 1);
	if (x->pass != y->pass) /* the later scan first */
		return x->pass > y->pass ? -1 : 1;
	return strcmp(x->name, y->name); /* "cur/" before "new/" */
}

/* Sort by base and keep one file per base. */
static void dedupe(struct md_files *files)
{
	size_t w = 0;

	if (files->n > 1)
		qsort(files->v, files->n, sizeof(*files->v), cmp_base);
	for (size_t i = 0; i < files->n; i++) {
		if (w > 0 &&
		    files->v[w - 1].mn.base_len == files->v[i].mn.base_len &&
		    memcmp(files->v[w - 1].mn.base, files->v[i].mn.base,
			   files->v[i].mn.base_len) == 0) {
			free(files->v[i].name);
			continue;
		}
		files->v[w++] = files->v[i];
	}
	files->n = w;
}

/* Scan again and merge the result into files (one file per base). */
static int rescan_merge(struct md_box *be, struct md_files *files,
			struct store_error *err)
{
	struct md_files more = {0};
	size_t total;

	if (md_scan(be->dir, &more, err) != 0)
		return -1;
	total = files->n + more.n;
	if (total > files->cap) {
		struct md_file *v = realloc(files->v, total * sizeof(*v));

		if (v == NULL) {
			md_files_clear(&more);
			return store_fail_errno(err, ENOMEM, "sync");
		}
		files->v = v;
		files->cap = total;
	}
	for (size_t i = 0; i < more.n; i++) {
		more.v[i].pass = 1;
		files->v[files->n++] = more.v[i];
	}
	free(more.v);
	dedupe(files);
	return 0;
}

/* Mark in keep[] the records that have a file; when some seem missing,
 * scan again first. Returns how many are missing, -1 on error. */
static long find_missing(struct md_box *be, struct md_files *files, bool *keep,
			 struct store_error *err)
{
	long missing = 0;

	for (int pass = 0; pass < 2; pass++) {
		memset(keep, 0, be->ul.n * sizeof(*keep));
		for (size_t i = 0; i < files->n; i++) {
			long at = maildir_uidlist_find(&be->ul,
						       files->v[i].mn.base,
						       files->v[i].mn.base_len);

			if (at >= 0)
				keep[at] = true;
		}
		missing = 0;
		for (size_t i = 0; i < be->ul.n; i++)
			missing += !keep[i];
		if (missing == 0 || pass == 1)
			break;
		if (rescan_merge(be, files, err) != 0)
			return -1;
	}
	return missing;
}

static int cmp_new(const void *a, const void *b)
{
	const struct md_file *x = *(const struct md_file *const *)a;
	const struct md_file *y = *(const struct md_file *const *)b;

	if (x->mn.secs != y->mn.secs)
		return x->mn.secs < y->mn.secs ? -1 : 1;
	if (x->mn.usecs != y->mn.usecs)
		return x->mn.usecs < y->mn.usecs ? -1 : 1;
	if (x->mn.seq != y->mn.seq)
		return x->mn.seq < y->mn.seq ? -1 : 1;
	return strcmp(x->name + 4, y->name + 4);
}

/* Give UIDs to files without a record, in delivery order. */
static int assign_new(struct md_box *be, struct md_files *files, bool *changed,
		      struct store_error *err)
{
	struct md_file **todo = calloc(files->n + 1, sizeof(*todo));
	size_t n = 0;
	int rc = 0;

	if (todo == NULL)
		return store_fail_errno(err, errno, "sync");
	for (size_t i = 0; i < files->n; i++)
		if (maildir_uidlist_find(&be->ul, files->v[i].mn.base,
					 files->v[i].mn.base_len) < 0)
			todo[n++] = &files->v[i];
	qsort(todo, n, sizeof(*todo), cmp_new);
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct maildir_name *mn = &todo[i]->mn;

		if (maildir_uidlist_find(&be->ul, mn->base, mn->base_len) >= 0)
			continue; /* the same base in new/ and cur/ */
		if (be->ul.next_uid == UINT32_MAX)
			rc = store_fail(err, STORE_E_CORRUPT,
					"no UIDs left in %s", be->dir);
		else if (maildir_uidlist_add(&be->ul, be->ul.next_uid, mn->base,
					     mn->base_len) != 0)
			rc = store_fail_errno(err, errno, "sync");
		*changed = true;
	}
	free(todo);
	return rc;
}

static int ul_write(struct store_mailbox *mb, struct store_error *err)
{
	struct md_box *be = mb->be;
	char *data;
	size_t len;
	int rc;

	if (maildir_uidlist_format(&be->ul, &data, &len) != 0)
		return store_fail_errno(err, errno, "uidlist");
	rc = store_file_replace(be->uidlist_path, data, len, mb->st->cfg.fsync);
	free(data);
	if (rc != 0)
		return store_fail_errno(err, errno, "%s", be->uidlist_path);
	/* Hold the new file so the next load sees it as unchanged. */
	store_close_fd(&be->ul_fd);
	be->ul_fd = open(be->uidlist_path, O_RDONLY | O_CLOEXEC);
	if (be->ul_fd < 0 || fstat(be->ul_fd, &be->ul_st) != 0)
		memset(&be->ul_st, 0, sizeof(be->ul_st));
	return 0;
}

/* Fix the UID list: rebuild, drop the vanished, number the new. */
static int fix_uidlist(struct store_mailbox *mb, struct md_files *files,
		       bool *changed, struct store_error *err)
{
	struct md_box *be = mb->be;
	bool *keep;
	long missing;
	int rc = 0;

	dedupe(files);
	if (!be->ul_ok) {
		if (recover(mb, files, err) != 0)
			return -1;
		*changed = true;
	}
	keep = calloc(be->ul.n + 1, sizeof(*keep));
	if (keep == NULL)
		return store_fail_errno(err, errno, "sync");
	missing = find_missing(be, files, keep, err);
	if (missing < 0)
		rc = -1;
	else if (missing > 0 || be->ul.partial) {
		bool idx = be->ul.partial && be->idx_ok &&
			   be->idx.uidvalidity == be->ul.uidvalidity;

		rc = ul_rebuild(be, keep, files, idx);
		if (rc != 0)
			store_fail_errno(err, ENOMEM, "sync");
		*changed = true;
	}
	free(keep);
	if (rc == 0)
		rc = assign_new(be, files, changed, err);
	return rc;
}

/* Keep a copy of what was written as this handle's index. */
static void index_keep(struct md_box *be, const struct store_index *idx)
{
	bool ok = true;

	store_index_clear(&be->idx);
	be->idx.uidvalidity = idx->uidvalidity;
	be->idx.next_uid = idx->next_uid;
	be->idx.recent_first = idx->recent_first;
	be->idx.generation = idx->generation;
	be->idx.base_len = idx->base_len;
	be->idx.file_len = idx->file_len;
	for (size_t i = 0; i < idx->recs.n && ok; i++) {
		struct store_rec r = idx->recs.v[i];

		r.name = NULL;
		r.flags &= STORE_F_PERMANENT;
		ok = store_recs_push(&be->idx.recs, &r) == 0;
	}
	ok = ok && store_keywords_copy(&be->idx.keywords, &be->idx.n_keywords,
				       idx->keywords, idx->n_keywords) == 0;
	be->idx_ok = ok;
	if (!ok)
		store_index_clear(&be->idx);
}

/* Written with an fsync when the UID list changed, so the index is never
 * older than a durable UID list it may have to stand in for. */
static int index_write(struct store_mailbox *mb,
		       const struct store_snapshot *snap, uint32_t recent,
		       bool dosync, struct store_error *err)
{
	struct md_box *be = mb->be;
	struct store_index idx = {0};

	idx.uidvalidity = snap->uidvalidity;
	idx.next_uid = snap->uidnext;
	idx.recent_first = recent;
	idx.recs = snap->recs; /* borrowed: names are not written */
	idx.keywords = snap->keywords;
	idx.n_keywords = snap->n_keywords;
	if (store_index_write(be->index_path, &idx, dosync, err) != 0)
		return -1;
	index_keep(be, &idx);
	return 0;
}

int md_sync_locked(struct store_mailbox *mb, struct md_files *files, bool claim,
		   struct store_snapshot *snap, struct store_error *err)
{
	struct md_box *be = mb->be;
	bool changed = false, idx_same;
	uint32_t recent;

	if (md_load_state(mb, true, err) != 0 ||
	    fix_uidlist(mb, files, &changed, err) != 0)
		return -1;
	if (changed)
		md_clean_tmp(be->dir);
	if (changed && ul_write(mb, err) != 0)
		return -1;
	idx_same = be->idx_ok && be->idx.uidvalidity == be->ul.uidvalidity;
	recent = idx_same ? be->idx.recent_first : be->ul.next_uid;
	if (md_build_snapshot(mb, files, snap, err) != 0)
		return -1;
	snap->recent_first = recent;
	if (claim)
		recent = be->ul.next_uid;
	if (changed || !idx_same || recent != be->idx.recent_first ||
	    be->idx.next_uid != be->ul.next_uid ||
	    be->idx.recs.n != snap->recs.n) {
		/* The index is a cache: failing to write it loses nothing
		 * but a claim of \Recent, so it is not an error. */
		struct store_error ierr;

		if (index_write(mb, snap, recent, changed && mb->st->cfg.fsync,
				&ierr) != 0)
			log_warn(NULL,
				 "store.maildir.index_write dir=%s err=%s",
				 be->dir, ierr.msg);
	}
	return 0;
}
