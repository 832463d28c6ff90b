/*
 * maildir.h - the Maildir backend's shared state (internal).
 *
 * A folder directory holds cur/ new/ tmp/ (maildir(5)), "maildirfolder"
 * (Maildir++, not in the root), dovecot-uidlist with its lock
 * dovecot-uidlist.lock, dovecot-keywords, quill-index and quill-cache.
 * Every change to dovecot-uidlist, dovecot-keywords or quill-index is made
 * under the uidlist dotlock; reading them needs no lock because they are
 * only ever replaced whole with rename().
 */
#ifndef QUILL_MAILDIR_H
#define QUILL_MAILDIR_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "maildir_names.h"
#include "maildir_uidlist.h"
#include "store/store_backend.h"
#include "store/store_index.h"
#include "store/store_lock.h"

#define MAILDIR_KEYWORDS_MAX 26

/* A message file found in new/ or cur/. */
struct md_file {
	char *name;		/* "new/<file>" or "cur/<file>" */
	struct maildir_name mn; /* parsed from name + 4 */
	uint32_t uid;
	unsigned pass; /* which scan found it */
};

struct md_files {
	struct md_file *v;
	size_t n, cap;
};

struct md_box {
	char dir[PATH_MAX];
	char uidlist_path[PATH_MAX];
	char lock_path[PATH_MAX];
	char keywords_path[PATH_MAX];
	char index_path[PATH_MAX];
	struct maildir_uidlist ul;
	bool ul_ok;	   /* ul holds a usable list */
	struct stat ul_st; /* identity of what ul was read from */
	int ul_fd;	   /* kept open so its inode cannot be reused */
	struct store_index idx;
	bool idx_ok;
	char **kw;
	size_t n_kw;
	struct store_dotlock lock;
};

/* maildir_folders.c */
int md_folder_path(const struct store *st, const char *name, char *out,
		   size_t size);

/* maildir_scan.c */
int md_scan(const char *dir, struct md_files *files, struct store_error *err);
void md_files_clear(struct md_files *files);
/* Remove files left in tmp/ for 36 hours (maildir(5)). */
void md_clean_tmp(const char *dir);
/* Find the current name of base by scanning; NULL if gone (malloc'ed). */
char *md_find_base(const char *dir, const char *base, size_t len);
int md_keywords_load(struct md_box *be, struct store_error *err);
int md_keywords_intern(struct store_mailbox *mb, const char *const *names,
		       size_t n, unsigned *idx_r, struct store_error *err);
int md_lock(struct store_mailbox *mb, struct store_error *err);
void md_unlock(struct store_mailbox *mb);

/* maildir_sync.c */
int md_sync(struct store_mailbox *mb, bool claim, struct store_snapshot *snap,
	    struct store_error *err);
/* The snapshot of files (given UIDs from be->ul; files without one are
 * left out). */
int md_build_snapshot(struct store_mailbox *mb, struct md_files *files,
		      struct store_snapshot *snap, struct store_error *err);

/* maildir_locked.c */
/* Reload dovecot-uidlist (if replaced, or always with force),
 * quill-index (if replaced) and dovecot-keywords. */
int md_load_state(struct store_mailbox *mb, bool force,
		  struct store_error *err);
/* Under the lock: reload, rebuild a lost list, give UIDs to every file
 * without one, drop records of files that are gone (after a second scan),
 * claim \Recent, write what changed, and fill snap. files may be
 * extended by the second scan. */
int md_sync_locked(struct store_mailbox *mb, struct md_files *files, bool claim,
		   struct store_snapshot *snap, struct store_error *err);

/* maildir_append.c */
/* Under the lock: give the transaction's new files (final names
 * "new/..." or "cur/...") UIDs by appending to dovecot-uidlist and the
 * index; 1 if the state does not allow it (then a full sync). */
int md_uids_append(struct store_mailbox *mb, char *const *final,
		   struct store_save_msg *msgs, size_t n,
		   struct store_error *err);

/* maildir_save.c */
int md_txn_begin(struct store_txn *txn, struct store_error *err);
int md_save_begin(struct store_txn *txn, struct store_save_msg *m,
		  struct store_error *err);
int md_save_write(struct store_txn *txn, struct store_save_msg *m,
		  const void *data, size_t len, struct store_error *err);
int md_save_end(struct store_txn *txn, struct store_save_msg *m,
		struct store_error *err);
int md_txn_commit(struct store_txn *txn, bool want_uids,
		  uint32_t *uidvalidity_r, struct store_error *err);
void md_txn_abort(struct store_txn *txn);

/* maildir_folders.c: store-level operations */
int md_name_ok(const struct store *st, const char *canon,
	       struct store_error *err);
int md_init(struct store *st, struct store_error *err);
int md_list(struct store *st, struct store_list *list, struct store_error *err);
int md_create(struct store *st, const char *name, struct store_error *err);
int md_remove(struct store *st, const char *name, bool has_children,
	      struct store_error *err);
int md_rename(struct store *st, const char *from, const char *to,
	      struct store_error *err);
/* Make cur/ new/ tmp/ under dir (and the marker unless INBOX). */
int md_make_dirs(struct store *st, const char *dir, bool folder,
		 struct store_error *err);

#endif
