/*
 * store_backend.h - what a store backend implements (struct store_ops)
 * and the shared structures the generic layer hands it.
 *
 * The generic layer (store*.c) owns the API semantics: name checks, the
 * session view of a mailbox (sequence numbers, \Recent, change reports),
 * flag arithmetic, copy and move. A backend owns the disk: it turns the
 * mailbox into a snapshot (UIDVALIDITY, UIDNEXT, one record per message
 * in UID order, the keyword table), applies flag changes and expunges
 * under its locks against the freshest state on disk, and stores
 * transactions of new messages durably. Maildir and mbox implement it;
 * an in-memory store may too.
 */
#ifndef QUILL_STORE_BACKEND_H
#define QUILL_STORE_BACKEND_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "store.h"

/* One message as a backend knows it; also an index record. */
struct store_rec {
	uint32_t uid;
	uint32_t flags;	   /* STORE_F_* (+ STORE_F_RECENT in a view only) */
	uint64_t keywords; /* bitmap over the keyword table */
	uint64_t size;	   /* presented bytes (exactly as appended) */
	uint64_t offset;   /* mbox: offset of the From_ line */
	uint64_t raw_len;  /* mbox: content bytes on disk, quoted */
	int64_t internal_date;
	uint64_t fingerprint; /* identity: maildir base / mbox bytes hash */
	uint32_t header_size; /* STORE_HDR_UNKNOWN if not known yet */
	uint32_t aux;	      /* mbox: From_ line length with its LF;
			       * bit 31 = content has quoted lines */
	char *name;	      /* maildir: "cur/<file>" or "new/<file>" */
};

#define STORE_HDR_UNKNOWN UINT32_MAX
#define STORE_AUX_QUOTED  0x80000000u

struct store_recs {
	struct store_rec *v;
	size_t n, cap;
};

/* What a backend's sync produces. */
struct store_snapshot {
	uint32_t uidvalidity, uidnext;
	uint32_t recent_first; /* messages with uid >= this are recent for
				* the caller (see ops->sync) */
	struct store_recs recs;
	char **keywords;
	size_t n_keywords;
};

struct store {
	struct store_config cfg; /* strings point into the copies below */
	char *root, *mbox_inbox, *hostname;
	const struct store_ops *ops;
	char subs_path[PATH_MAX];
	char uidv_path[PATH_MAX];
};

struct store_mailbox {
	struct store *st;
	char *name; /* canonical */
	bool readonly, claim_recent;
	uint32_t uidvalidity, uidnext;
	struct store_recs view;
	char **keywords;
	size_t n_keywords;
	int watch_fd;
	struct store_cache *cache;
	void *be;
};

/* One message of an append transaction. */
struct store_save_msg {
	uint64_t size;
	uint32_t header_size;
	unsigned flags;
	uint64_t keywords;
	time_t internal_date;
	char from[256]; /* envelope sender for an mbox From_ line */
	uint32_t uid;	/* out, when UIDs were asked for */
	/* backend state */
	uint64_t tmp_off;
	char *tmp_name;
};

struct store_txn {
	struct store_mailbox *mb;
	struct store_save_msg *msgs;
	size_t n, cap;
	void *be;
};

enum store_flag_result { STORE_FLAG_DONE, STORE_FLAG_GONE };

struct store_flag_update {
	uint32_t uid;
	/* out */
	enum store_flag_result result;
	uint32_t flags;
	uint64_t keywords;
};

struct store_msg {
	struct store_mailbox *mb;
	struct store_msg_info info;
	int fd;
	uint64_t base;	  /* file offset of the first content byte */
	uint64_t raw_len; /* mbox */
	bool quoted;	  /* mbox: content has ">From " lines to unquote */
	void *be;
};

struct store_ops {
	const char *name;
	size_t keyword_max;
	/* Mailbox names: check a canonical name fits this backend. */
	int (*name_ok)(const struct store *st, const char *canon,
		       struct store_error *err);
	int (*init)(struct store *st, struct store_error *err);
	/* Every existing name: selectable or not (a bare directory). */
	int (*list)(struct store *st, struct store_list *list_r,
		    struct store_error *err);
	int (*create)(struct store *st, const char *name,
		      struct store_error *err);
	/* Delete one mailbox; has_children says whether names below it
	 * exist (the generic layer checked the rules). */
	int (*remove)(struct store *st, const char *name, bool has_children,
		      struct store_error *err);
	/* Rename a mailbox and its children (never INBOX). */
	int (*rename)(struct store *st, const char *from, const char *to,
		      struct store_error *err);

	/* Attach backend state to mb (paths; nothing read yet). */
	int (*open)(struct store_mailbox *mb, struct store_error *err);
	void (*close)(struct store_mailbox *mb);
	/* Fill snap from disk. With claim, atomically move the mailbox's
	 * first-recent UID to uidnext and return its old value in
	 * snap->recent_first; without, return its current value. */
	int (*sync)(struct store_mailbox *mb, bool claim,
		    struct store_snapshot *snap, struct store_error *err);
	/* Add keywords (valid ones) to the persistent table as needed and
	 * update mb->keywords; idx_r[i] gets the index of names[i]. */
	int (*keywords_intern)(struct store_mailbox *mb,
			       const char *const *names, size_t n,
			       unsigned *idx_r, struct store_error *err);
	/* Apply mode/flags/keywords to each UID against the disk state. */
	int (*flags_write)(struct store_mailbox *mb,
			   struct store_flag_update *ups, size_t n,
			   enum store_flags_mode mode, unsigned flags,
			   uint64_t keywords, struct store_error *err);
	/* Expunge those of uids (ascending) that still exist, and with
	 * require_deleted still have \Deleted, on disk; the UIDs actually
	 * removed go to gone_r (malloc'ed, ascending). */
	int (*expunge)(struct store_mailbox *mb, const uint32_t *uids, size_t n,
		       bool require_deleted, uint32_t **gone_r,
		       size_t *n_gone_r, struct store_error *err);

	int (*txn_begin)(struct store_txn *txn, struct store_error *err);
	int (*save_begin)(struct store_txn *txn, struct store_save_msg *m,
			  struct store_error *err);
	int (*save_write)(struct store_txn *txn, struct store_save_msg *m,
			  const void *data, size_t len,
			  struct store_error *err);
	int (*save_end)(struct store_txn *txn, struct store_save_msg *m,
			struct store_error *err);
	/* Make every message durable; with want_uids, fill msgs[i].uid and
	 * *uidvalidity_r. On failure nothing of the transaction remains. */
	int (*txn_commit)(struct store_txn *txn, bool want_uids,
			  uint32_t *uidvalidity_r, struct store_error *err);
	void (*txn_abort)(struct store_txn *txn);

	int (*msg_open)(struct store_mailbox *mb, struct store_rec *rec,
			struct store_msg *msg, struct store_error *err);
	int (*msg_read)(struct store_msg *msg, uint64_t offset, void *buf,
			size_t len, size_t *got_r, struct store_error *err);
	void (*msg_close)(struct store_msg *msg);

	/* Paths whose changes matter, for inotify. */
	int (*watch)(struct store_mailbox *mb, int ifd,
		     struct store_error *err);
	/* Where the blob cache of this mailbox lives. */
	int (*cache_path)(struct store_mailbox *mb, char *path, size_t size,
			  struct store_error *err);
};

extern const struct store_ops store_maildir_ops;
extern const struct store_ops store_mbox_ops;

#endif
