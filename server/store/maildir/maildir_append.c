/*
 * maildir_append.c - UIDs for new messages without rewriting anything
 * (RFC 3501 2.3.1.1: UIDs ascending, never reused).
 *
 * An APPEND or COPY that wants its UIDs would otherwise list the whole
 * folder and rewrite dovecot-uidlist and quill-index under the lock: the
 * cost of every append growing with the folder. Instead, as Dovecot
 * does, the records "<uid> :<base>" are appended to dovecot-uidlist
 * (Dovecot's readers take the next UID as max(N, last UID + 1), so its
 * header need not change) and a delta to the index (store_index.h),
 * each fsync'd, the list before the index. Files that other programs
 * delivered meanwhile get their UIDs at the next full sync, after these.
 * The full sync (maildir_locked.c) writes both files whole again, which
 * compacts them.
 *
 * Crash safety: a record line torn by a crash has no LF, so readers drop
 * it and mark the list partial (the message was not acknowledged; it
 * gets a new UID later). An index delta torn or never written leaves an
 * index that is older than the list, which is only a cache; its next
 * UID is raised with the list's at the next full sync.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "maildir.h"
#include "store/store_fs.h"
#include "store/store_util.h"

/* The index's keyword names are the first of the folder's. */
static bool kw_prefix(const struct md_box *be)
{
	if (be->idx.n_keywords > be->n_kw)
		return false;
	for (size_t i = 0; i < be->idx.n_keywords; i++)
		if (strcmp(be->idx.keywords[i], be->kw[i]) != 0)
			return false;
	return true;
}

/* Append the record lines to dovecot-uidlist; 1 if it is not the file
 * this handle read, or does not end with a LF. */
static int put_lines(struct store_mailbox *mb, const struct buf *lines,
		     struct store_error *err)
{
	struct md_box *be = mb->be;
	int fd = open(be->uidlist_path, O_RDWR | O_APPEND | O_CLOEXEC);
	struct stat st;
	char last = '\n';

	if (fd < 0)
		return 1;
	if (fstat(fd, &st) != 0 || st.st_ino != be->ul_st.st_ino ||
	    st.st_dev != be->ul_st.st_dev || st.st_size != be->ul_st.st_size ||
	    (st.st_size > 0 &&
	     store_pread_full(fd, &last, 1, st.st_size - 1) != 1) ||
	    last != '\n') {
		close(fd);
		return 1;
	}
	if (store_write_all(fd, buf_data(lines), buf_len(lines)) != 0 ||
	    (mb->st->cfg.fsync && fsync(fd) != 0)) {
		int saved = errno;

		if (ftruncate(fd, st.st_size) != 0) /* what nobody got */
			log_warn(NULL, "store.maildir.uidlist_undo path=%s",
				 be->uidlist_path);
		close(fd);
		return store_fail_errno(err, saved, "%s", be->uidlist_path);
	}
	if (fstat(fd, &be->ul_st) != 0)
		memset(&be->ul_st, 0, sizeof(be->ul_st));
	if (store_close_fd(&fd) != 0)
		return store_fail_errno(err, errno, "%s", be->uidlist_path);
	return 0;
}

/* The index: the new records and keyword names as a delta. */
static void put_index(struct store_mailbox *mb, const char *const *bases,
		      const size_t *lens, const struct store_save_msg *msgs,
		      size_t n, uint32_t first_new)
{
	struct md_box *be = mb->be;
	size_t n0 = be->idx.recs.n, k0 = be->idx.n_keywords;
	struct store_error e = {0};
	int rc = 0;

	for (size_t i = k0; i < be->n_kw && rc == 0; i++)
		rc = store_keywords_add(&be->idx.keywords, &be->idx.n_keywords,
					be->kw[i]);
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct store_rec r = {
			.uid = msgs[i].uid,
			.flags = msgs[i].flags & STORE_F_PERMANENT,
			.keywords = msgs[i].keywords,
			.size = msgs[i].size,
			.internal_date = msgs[i].internal_date,
			.fingerprint =
				store_hash(STORE_HASH_INIT, bases[i], lens[i]),
			.header_size = msgs[i].header_size,
		};

		/* one numbered by another's sync is indexed already */
		if (r.uid >= first_new)
			rc = store_recs_push(&be->idx.recs, &r);
	}
	be->idx.next_uid = be->ul.next_uid;
	if (rc == 0)
		rc = store_index_append(be->index_path, &be->idx, NULL, 0, n0,
					k0, mb->st->cfg.fsync, &e);
	if (rc == 1)
		rc = store_index_write(be->index_path, &be->idx,
				       mb->st->cfg.fsync, &e);
	if (rc != 0) { /* a cache: reread it next time */
		log_warn(NULL, "store.maildir.index_write dir=%s err=%s",
			 be->dir, e.msg);
		store_index_clear(&be->idx);
		be->idx_ok = false;
	}
}

int md_uids_append(struct store_mailbox *mb, char *const *final,
		   struct store_save_msg *msgs, size_t n,
		   struct store_error *err)
{
	struct md_box *be = mb->be;
	const char **bases;
	size_t *lens;
	uint32_t next;
	struct buf lines;
	int rc = 0;

	if (md_load_state(mb, false, err) != 0)
		return -1;
	if (!be->ul_ok || be->ul.partial || !be->idx_ok ||
	    be->idx.uidvalidity != be->ul.uidvalidity || !kw_prefix(be))
		return 1;
	next = be->ul.next_uid > be->idx.next_uid ? be->ul.next_uid
						  : be->idx.next_uid;
	if (next == 0 || n >= UINT32_MAX - next)
		return 1;
	bases = calloc(n + 1, sizeof(*bases));
	lens = calloc(n + 1, sizeof(*lens));
	if (bases == NULL || lens == NULL) {
		free(bases);
		free(lens);
		return store_fail_errno(err, ENOMEM, "append");
	}
	buf_init(&lines, (n + 1) * (PATH_MAX + 16));
	for (size_t i = 0, k = 0; i < n && rc == 0; i++) {
		struct maildir_name mn;
		long at;

		if (maildir_name_parse(final[i] + 4, strlen(final[i] + 4),
				       &mn) != 0)
			rc = 1;
		bases[i] = mn.base;
		lens[i] = mn.base_len;
		/* A sync by someone else may have numbered it already. */
		at = rc == 0 ? maildir_uidlist_find(&be->ul, mn.base,
						    mn.base_len)
			     : -1;
		msgs[i].uid = at >= 0 ? be->ul.v[at].uid : next + (uint32_t)k++;
		if (rc == 0 && at < 0 &&
		    buf_printf(&lines, "%u :%.*s\n", (unsigned)msgs[i].uid,
			       (int)mn.base_len, mn.base) != 0)
			rc = 1;
	}
	if (rc == 0 && buf_len(&lines) > 0)
		rc = put_lines(mb, &lines, err);
	buf_free(&lines);
	for (size_t i = 0; i < n && rc == 0; i++)
		if (msgs[i].uid >= next &&
		    maildir_uidlist_add(&be->ul, msgs[i].uid, bases[i],
					lens[i]) != 0)
			be->ul_ok = false; /* reread at the next sync */
	if (rc == 0)
		put_index(mb, bases, lens, msgs, n, next);
	free(bases);
	free(lens);
	return rc;
}
