/*
 * mbox.h - the mbox backend's shared state (internal).
 *
 * Where the mailbox state lives: in the messages, as Dovecot, UW-IMAP and
 * mutt keep it (mbox_meta.h): X-UID, Status, X-Status and X-Keywords in
 * every message Quill writes, X-IMAPbase (UIDVALIDITY, last UID, keyword
 * names) in the first one. So other programs see Quill's flags and UIDs
 * and Quill sees theirs. Reading leaves these lines out (the bytes read
 * are the bytes appended; a status line that arrives inside a message is
 * escaped on writing and unescaped on reading), and they are padded so
 * that a flag change rewrites a few bytes in place.
 *
 * A sidecar index (".<name>.quill-index") caches what parsing the file
 * would give (offsets, sizes, UIDs, flags, keywords, the first recent
 * UID) so opening a mailbox does not read it; when it is missing, stale
 * or damaged it is rebuilt from the file, UIDs included when the file's
 * X-UIDs are consistent with its X-IMAPbase (mbox_sync.c says when).
 *
 * Files: the mbox "<dir>/<name>" (INBOX: <root>/inbox or the configured
 * path), its dotlock "<mbox>.lock", and beside it (INBOX: in the root)
 * ".<name>.quill-index", ".quill-cache", ".quill-journal" and
 * ".quill-expunge".
 *
 * Locks (see mbox_lock.c): readers of messages hold an fcntl read lock on
 * their message's bytes; a sync that writes the index holds the dotlock
 * and a read lock on the file; writers add a write lock on the bytes
 * they move (appends: from the old end; rewrites: from the first message
 * rewritten; an in-place change that moves lines inside a message's
 * status block: that message). An in-place change that only replaces
 * letters, digits and padding inside status lines takes no write lock:
 * readers skip those lines, so no byte they present changes.
 */
#ifndef QUILL_MBOX_H
#define QUILL_MBOX_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/store_backend.h"
#include "store/store_index.h"
#include "store/store_lock.h"
#include "store/store_util.h"

#define MBOX_KEYWORDS_MAX 64

/* struct store_rec.aux for mbox: From_ line length, and two bits. */
#define MBOX_AUX_FILTER	   0x40000000u /* has status or escaped lines */
#define MBOX_FROM_LEN(aux) ((aux)&0x3fffffffu)

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
struct mbox_scan;
/* Parse [start, end) of the file (0: from its start). */
int mbox_scan_file(struct mbox_box *be, uint64_t start, uint64_t end,
		   struct mbox_scan *s, struct store_error *err);
int mbox_sync(struct store_mailbox *mb, bool claim, struct store_snapshot *snap,
	      struct store_error *err);
/* Under the lock: bring be->idx up to date with the file and write it
 * if it changed; with claim, claim \Recent. recent_r gets the first
 * recent UID before any claim. */
int mbox_sync_locked(struct store_mailbox *mb, bool claim, uint32_t *recent_r,
		     struct store_error *err);
/* Like mbox_sync_locked, but parse the whole file whatever the index
 * says (another program changed what the index describes). */
int mbox_sync_full_locked(struct store_mailbox *mb, struct store_error *err);
/* Re-read the index if it was replaced; true if usable. */
bool mbox_index_load(struct mbox_box *be, bool force);
int mbox_index_save(struct store_mailbox *mb, struct store_error *err);
/* Save what changed since the index was read or saved under this lock:
 * the records at[], those from first_new on, the keyword names from
 * kw_from on (a delta appended to the index file, or the whole file). */
int mbox_index_save_delta(struct store_mailbox *mb, const size_t *at,
			  size_t n_at, size_t first_new, size_t kw_from,
			  struct store_error *err);

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

/* mbox_read.c */
int mbox_msg_open(struct store_mailbox *mb, struct store_rec *vr,
		  struct store_msg *msg, struct store_error *err);
int mbox_msg_read(struct store_msg *msg, uint64_t offset, void *buf, size_t len,
		  size_t *got_r, struct store_error *err);
void mbox_msg_close(struct store_msg *msg);

/* mbox_expunge.c */
int mbox_expunge(struct store_mailbox *mb, const uint32_t *uids, size_t n,
		 bool require_deleted, uint32_t **gone_r, size_t *n_gone_r,
		 struct store_error *err);
/* Under the lock: rewrite the file from record first on (crash-safe,
 * journaled), leaving out records with drop[i] (drop may be NULL) and
 * giving every other message a fresh status block from its record. If
 * the first message's X-IMAPbase is not this index's, the rewrite starts
 * at the first message. Records and the index are updated. */
int mbox_rewrite(struct store_mailbox *mb, size_t first, const bool *drop,
		 struct store_u32s *gone, struct store_error *err);

/* mbox_status.c */
/* Is the first message's X-IMAPbase this index's (same UIDVALIDITY)? */
bool mbox_base_ours(struct store_mailbox *mb);
/* Bring the first message's X-IMAPbase in line with the index (last UID,
 * keyword names) in place; with invalidate, zero its UIDVALIDITY so that
 * nobody trusts the X-UIDs below it. 0 done or nothing to do, 1 if it
 * has no room, 2 if there is none of this index's (a rewrite from the
 * first message fixes both), -1 error. */
int mbox_base_update(struct store_mailbox *mb, bool invalidate,
		     struct store_error *err);
/* Write record at's flags and keywords into its status lines in place.
 * old_flags/old_kw are what the index said before the change: if the
 * file says otherwise, someone changed them behind the index: *stale_r
 * is set and nothing is written (stale_r NULL: no such check). 1 if
 * there is no room (a rewrite is needed). */
int mbox_status_write(struct store_mailbox *mb, size_t at, unsigned old_flags,
		      uint64_t old_kw, bool *stale_r, struct store_error *err);

#endif
