/*
 * mbox.h - the mbox backend's shared state (internal).
 *
 * Why a sidecar index and not status headers in the messages (X-UID,
 * Status, X-Status, X-Keywords, X-IMAPbase as Dovecot and UW-IMAP write):
 *  - the messages stay byte for byte what was delivered, so reads are
 *    exactly what was appended and nothing that arrives inside a message
 *    (an X-UID, a Status) is ever interpreted;
 *  - a flag change rewrites the small index (temp file + rename, crash
 *    safe) instead of the mailbox, and never moves message bytes under a
 *    reader or another MUA;
 *  - the file stays plain mboxrd that mutt, procmail and Dovecot read.
 * The price: flags are not visible to other MUAs, and if the index is
 * lost the flags go with it and UIDs are renumbered (new UIDVALIDITY).
 *
 * Files: the mbox "<dir>/<name>" (INBOX: <root>/inbox or the configured
 * path), its dotlock "<mbox>.lock", and beside it (INBOX: in the root)
 * ".<name>.quill-index", ".quill-cache", ".quill-journal" and
 * ".quill-expunge".
 *
 * Locks (see mbox_lock.c): readers of messages hold an fcntl read lock on
 * their message's bytes; a sync that writes the index holds the dotlock
 * and a read lock on the file; writers add a write lock on the bytes
 * they change (appends: from the old end; expunge: from the first
 * expunged message).
 */
#ifndef QUILL_MBOX_H
#define QUILL_MBOX_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/store_backend.h"
#include "store/store_index.h"
#include "store/store_lock.h"

#define MBOX_KEYWORDS_MAX 64

struct mbox_box {
	char path[PATH_MAX];
	char lock_path[PATH_MAX];
	char index_path[PATH_MAX];
	char cache_path[PATH_MAX];
	char journal_path[PATH_MAX];
	char expunge_path[PATH_MAX];
	bool inbox;
	struct store_index idx;
	bool idx_ok;
	/* while locked */
	struct store_dotlock dl;
	int fd;
	uint64_t deadline_ms;
};

/* mbox_folders.c */
int mbox_paths(const struct store *st, const char *name, struct mbox_box *be);
int mbox_name_ok(const struct store *st, const char *canon,
		 struct store_error *err);
int mbox_init(struct store *st, struct store_error *err);
int mbox_list(struct store *st, struct store_list *list,
	      struct store_error *err);
int mbox_create(struct store *st, const char *name, struct store_error *err);
int mbox_remove(struct store *st, const char *name, bool has_children,
		struct store_error *err);
int mbox_rename(struct store *st, const char *from, const char *to,
		struct store_error *err);
/* A fresh index for an empty mailbox (new UIDVALIDITY). */
int mbox_index_init(struct store *st, struct mbox_box *be,
		    struct store_error *err);

/* mbox_lock.c */
/* Dotlock + fcntl read lock on the whole file; replays an interrupted
 * expunge first. */
int mbox_lock(struct store_mailbox *mb, struct store_error *err);
/* Add a write lock on [start, end of file and beyond). */
int mbox_lock_write(struct store_mailbox *mb, uint64_t start,
		    struct store_error *err);
void mbox_unlock(struct store_mailbox *mb);
/* Finish an expunge whose journal is written (under the lock): 1 if
 * one was finished, 0 if there was none, -1 on error. */
int mbox_journal_replay(struct store_mailbox *mb, struct store_error *err);

/* mbox_sync.c */
int mbox_sync(struct store_mailbox *mb, bool claim, struct store_snapshot *snap,
	      struct store_error *err);
/* Under the lock: bring be->idx up to date with the file and write it
 * if it changed; with claim, claim \Recent. recent_r gets the first
 * recent UID before any claim. */
int mbox_sync_locked(struct store_mailbox *mb, bool claim, uint32_t *recent_r,
		     struct store_error *err);
/* Re-read the index if it was replaced; true if usable. */
bool mbox_index_load(struct mbox_box *be, bool force);
int mbox_index_save(struct store_mailbox *mb, struct store_error *err);

/* mbox_save.c */
int mbox_txn_begin(struct store_txn *txn, struct store_error *err);
int mbox_save_begin(struct store_txn *txn, struct store_save_msg *m,
		    struct store_error *err);
int mbox_save_write(struct store_txn *txn, struct store_save_msg *m,
		    const void *data, size_t len, struct store_error *err);
int mbox_save_end(struct store_txn *txn, struct store_save_msg *m,
		  struct store_error *err);
int mbox_txn_commit(struct store_txn *txn, bool want_uids,
		    uint32_t *uidvalidity_r, struct store_error *err);
void mbox_txn_abort(struct store_txn *txn);

/* mbox_expunge.c */
int mbox_expunge(struct store_mailbox *mb, const uint32_t *uids, size_t n,
		 bool require_deleted, uint32_t **gone_r, size_t *n_gone_r,
		 struct store_error *err);

#endif
