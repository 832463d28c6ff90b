/*
 * store.h - one user's mail store: mailboxes, messages, UIDs and flags,
 * behind one interface with two backends (Maildir and mbox).
 *
 * The SMTP delivery, POP3 and IMAP engines reach mail only through this
 * header. It keeps the IMAP data model (RFC 3501 2.3, RFC 9051 2.3):
 *
 *  - UIDs are non-zero, strictly ascending in a mailbox and never reused
 *    while UIDVALIDITY stays the same; UIDVALIDITY changes only when the
 *    store lost its UID state and could not rebuild it consistently
 *    (RFC 3501 2.3.1.1). A new mailbox never reuses an old UIDVALIDITY.
 *  - Flags are the system flags below plus keywords (IMAP atoms, matched
 *    case-insensitively, first spelling kept). \Recent is a session
 *    notion: a message is recent in the one session that first saw it
 *    while claiming recent messages (a read-write open); read-only opens
 *    report as recent what nobody has claimed yet and claim nothing.
 *  - Mailbox names are UTF-8 with '/' as the hierarchy separator; "INBOX"
 *    in any case is the inbox. Names are checked by store_name_check().
 *
 * Every function returning int returns 0 on success and -1 on failure,
 * filling the struct store_error it was given (which may be NULL). Codes
 * marked "temporary" in enum store_errcode mean "try again later" (SMTP
 * 4xx, IMAP NO with no permanent code).
 *
 * Durability: when store_append_commit(), store_copy(), a flag change or
 * an expunge returns 0, the change is on disk (file and directory fsync'd)
 * unless the store was opened with fsync = false (tests only).
 *
 * Threads: a struct store may be shared by threads; each mailbox, message
 * and append handle belongs to one thread at a time. Handles on the same
 * mailbox in one process or many coordinate through locks on disk.
 */
#ifndef QUILL_STORE_H
#define QUILL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum store_kind { STORE_KIND_MAILDIR, STORE_KIND_MBOX };

struct store_config {
	enum store_kind kind;
	const char *root;	/* the user's mail root directory */
	bool fsync;		/* fsync before acknowledging (default true) */
	const char *mbox_inbox; /* mbox INBOX file; NULL = <root>/inbox */
	const char *hostname;	/* for Maildir names; NULL = uname */
	size_t name_max;	/* bytes in a mailbox name (default 255) */
	unsigned depth_max;	/* hierarchy levels (default 16) */
	unsigned lock_timeout_ms; /* wait for a lock (default 10000) */
	unsigned lock_stale_secs; /* dotlock age that may be stale (300) */
	uint64_t message_max;	  /* bytes in one message, 0 = no limit */
};

/* Fill cfg with the defaults above for one kind and root. */
void store_config_init(struct store_config *cfg, enum store_kind kind,
		       const char *root);

enum store_errcode {
	STORE_E_NONE = 0,
	STORE_E_NOTFOUND,    /* no such mailbox or message */
	STORE_E_EXISTS,	     /* the mailbox already exists */
	STORE_E_BADNAME,     /* invalid mailbox name (or not on this backend) */
	STORE_E_LOCKED,	     /* temporary: a lock was not free in time */
	STORE_E_NOSPACE,     /* temporary: disk full, quota or file size */
	STORE_E_CORRUPT,     /* a file is damaged beyond repair here */
	STORE_E_IO,	     /* temporary: other system error */
	STORE_E_TOOBIG,	     /* the message exceeds message_max */
	STORE_E_EXPUNGED,    /* the message went away; sync and retry */
	STORE_E_HASCHILDREN, /* delete of a \Noselect name with children */
	STORE_E_NOINFERIORS, /* this mailbox cannot have children */
	STORE_E_LIMIT,	     /* too many keywords in this mailbox */
	STORE_E_READONLY,    /* the mailbox was opened read-only */
	STORE_E_INVALID,     /* bad argument: flag, keyword, UID, state */
};

struct store_error {
	int code; /* enum store_errcode */
	char msg[256];
};

const char *store_strerror(int code);
/* True for codes a protocol should report as temporary (4xx). */
bool store_error_temporary(int code);

struct store;
struct store_mailbox;
struct store_msg;
struct store_append;

int store_open(const struct store_config *cfg, struct store **store_r,
	       struct store_error *err);
void store_close(struct store **store);

/* ---- mailbox names and hierarchy ---------------------------------------- */

/* Check a name and write its canonical form ("INBOX" upper-cased) to
 * canon (size canon_size). Refused: empty names or components, a leading
 * or trailing '/', components starting with '.', control characters,
 * invalid UTF-8, more than name_max bytes or depth_max levels, and names
 * the backend cannot store (STORE_E_BADNAME). */
int store_name_check(const struct store *st, const char *name, char *canon,
		     size_t canon_size, struct store_error *err);

enum store_list_attr {
	STORE_LIST_NOSELECT = 1u << 0,	  /* a name with no mailbox */
	STORE_LIST_NOINFERIORS = 1u << 1, /* cannot have children */
	STORE_LIST_HASCHILDREN = 1u << 2,
	STORE_LIST_HASNOCHILDREN = 1u << 3,
	STORE_LIST_SUBSCRIBED = 1u << 4,
	STORE_LIST_NONEXISTENT = 1u << 5, /* subscribed, but not there */
};

struct store_list_entry {
	char *name;
	unsigned attrs; /* enum store_list_attr */
};

struct store_list {
	struct store_list_entry *entries; /* INBOX first, then by name */
	size_t count;
};

/* Every mailbox, every parent name implied by a child (\Noselect), and
 * every subscribed name that does not exist. Wildcards are the IMAP
 * engine's business. */
int store_list(struct store *st, struct store_list *list_r,
	       struct store_error *err);
void store_list_clear(struct store_list *list);

int store_create(struct store *st, const char *name, struct store_error *err);
/* A mailbox with children loses its messages and becomes \Noselect where
 * the backend can express that; a \Noselect name with children cannot be
 * deleted (STORE_E_HASCHILDREN); INBOX cannot be deleted. */
int store_delete(struct store *st, const char *name, struct store_error *err);
/* Children move too. Renaming INBOX moves its messages to a new mailbox
 * `to` and leaves INBOX empty; INBOX's children stay (RFC 3501 6.3.5). */
int store_rename(struct store *st, const char *from, const char *to,
		 struct store_error *err);
/* Subscriptions are kept in a file; a name need not exist (RFC 3501
 * 6.3.6), but it must be valid. */
int store_subscribe(struct store *st, const char *name, bool subscribe,
		    struct store_error *err);

/* ---- mailboxes ----------------------------------------------------------- */

struct store_status {
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint32_t messages;
	uint32_t recent;
	uint32_t unseen;       /* messages without \Seen */
	uint32_t first_unseen; /* sequence number, 0 = none */
	uint64_t size;	       /* sum of message sizes */
};

#define STORE_OPEN_READONLY 0x1u /* EXAMINE: no changes, claims no \Recent */

int store_mailbox_open(struct store *st, const char *name, unsigned flags,
		       struct store_mailbox **mb_r, struct store_error *err);
void store_mailbox_close(struct store_mailbox **mb);
const char *store_mailbox_name(const struct store_mailbox *mb);
void store_mailbox_status(const struct store_mailbox *mb,
			  struct store_status *status_r);
/* STATUS without selecting: a read-only open, claiming nothing. */
int store_status(struct store *st, const char *name,
		 struct store_status *status_r, struct store_error *err);
/* Bytes and messages over all mailboxes (for quota reporting). */
int store_usage(struct store *st, uint64_t *bytes_r, uint64_t *messages_r,
		struct store_error *err);

/* Sequence numbers count from 1 in this handle's view; they change only
 * at store_sync(), store_expunge() and store_move(). 0 = none. */
uint32_t store_count(const struct store_mailbox *mb);
uint32_t store_uid_at(const struct store_mailbox *mb, uint32_t seq);
uint32_t store_seq_of(const struct store_mailbox *mb, uint32_t uid);

/* ---- flags and keywords -------------------------------------------------- */

enum store_flag {
	STORE_F_SEEN = 1u << 0,
	STORE_F_ANSWERED = 1u << 1,
	STORE_F_FLAGGED = 1u << 2,
	STORE_F_DELETED = 1u << 3,
	STORE_F_DRAFT = 1u << 4,
	STORE_F_RECENT = 1u << 5, /* read only, per session */
};
#define STORE_F_PERMANENT 0x1fu /* the flags a client may change */

#define STORE_KEYWORD_LEN_MAX 128 /* bytes in one keyword */

/* A mailbox's keyword table: message keywords are a bitmap whose bit i
 * names store_keyword_name(mb, i). The table only grows. */
size_t store_keyword_count(const struct store_mailbox *mb);
const char *store_keyword_name(const struct store_mailbox *mb, size_t i);
/* How many keywords this mailbox can ever hold (Maildir 26, mbox 64). */
size_t store_keyword_max(const struct store_mailbox *mb);
/* True if s is a valid keyword: an IMAP atom not starting with '\'. */
bool store_keyword_valid(const char *s);

/* ---- messages ------------------------------------------------------------ */

#define STORE_SIZE_UNKNOWN UINT64_MAX

struct store_msg_info {
	uint32_t uid;
	unsigned flags;	      /* enum store_flag, STORE_F_RECENT included */
	uint64_t keywords;    /* bitmap over the keyword table */
	uint64_t size;	      /* bytes, exactly as appended */
	uint64_t header_size; /* offset of the body; may be unknown in
				* store_msg_info(), never after opening */
	time_t internal_date;
};

/* Information on the message at sequence number seq. */
int store_msg_info(const struct store_mailbox *mb, uint32_t seq,
		   struct store_msg_info *info_r, struct store_error *err);

/* Open a message by UID to read it piecewise; the bytes read are exactly
 * those appended. STORE_E_EXPUNGED if it went away since the last sync.
 * Close message handles before expunging in the same mailbox. */
int store_msg_open(struct store_mailbox *mb, uint32_t uid,
		   struct store_msg **msg_r, struct store_error *err);
const struct store_msg_info *store_msg_get_info(const struct store_msg *msg);
/* Read up to len bytes at offset; *got_r = 0 at the end. */
int store_msg_read(struct store_msg *msg, uint64_t offset, void *buf,
		   size_t len, size_t *got_r, struct store_error *err);
void store_msg_close(struct store_msg **msg);

/* ---- UID sets ------------------------------------------------------------ */

struct store_uid_range {
	uint32_t first, last; /* inclusive, first <= last */
};

struct store_uidset {
	const struct store_uid_range *ranges;
	size_t count;
};

bool store_uidset_contains(const struct store_uidset *set, uint32_t uid);

/* ---- changes ------------------------------------------------------------- */

enum store_flags_mode { STORE_FLAGS_SET, STORE_FLAGS_ADD, STORE_FLAGS_REMOVE };

/* Change the flags of the messages in uids (that exist in the view).
 * flags may only hold STORE_F_PERMANENT bits; keywords must be valid and
 * are added to the mailbox's table as needed (STORE_E_LIMIT when full).
 * The view holds the new flags when this returns. */
int store_flags_change(struct store_mailbox *mb,
		       const struct store_uidset *uids,
		       enum store_flags_mode mode, unsigned flags,
		       const char *const *keywords, size_t keyword_count,
		       struct store_error *err);

/* What changed in the view: filled by store_sync(), store_expunge() and
 * store_move(). expunged_seqs are the sequence numbers just before the
 * change; sending them from the last to the first needs no adjustment.
 * Added UIDs are the last n_added messages of the view. */
struct store_changes {
	uint32_t *expunged; /* UIDs, ascending */
	uint32_t *expunged_seqs;
	size_t n_expunged;
	uint32_t *added; /* UIDs, ascending */
	size_t n_added;
	uint32_t *changed; /* UIDs whose flags or keywords changed */
	size_t n_changed;
	bool keywords_changed; /* the keyword table grew */
	bool reset; /* UIDVALIDITY changed: all is new; clients must resync */
};

void store_changes_clear(struct store_changes *changes);

/* Bring the view up to date with the disk: messages added or expunged
 * and flags changed by other handles, processes or outside programs. */
int store_sync(struct store_mailbox *mb, struct store_changes *changes_r,
	       struct store_error *err);
/* An inotify descriptor that becomes readable when the mailbox may have
 * changed (for IDLE); store_sync() drains it. -1 if unavailable. It
 * belongs to mb. */
int store_watch_fd(struct store_mailbox *mb, struct store_error *err);

/* Expunge messages with \Deleted: all of them (uids NULL) or only those
 * in uids (UID EXPUNGE, RFC 4315). */
int store_expunge(struct store_mailbox *mb, const struct store_uidset *uids,
		  struct store_changes *changes_r, struct store_error *err);

/* Source and destination UIDs of a copy (RFC 4315 COPYUID). */
struct store_copy_result {
	uint32_t dst_uidvalidity;
	uint32_t *src_uids, *dst_uids;
	size_t count;
};

void store_copy_result_clear(struct store_copy_result *res);

/* Copy the messages in uids to mailbox dst with their flags, keywords
 * and internal dates: all or none. */
int store_copy(struct store_mailbox *mb, const struct store_uidset *uids,
	       const char *dst, struct store_copy_result *res_r,
	       struct store_error *err);
/* Copy, then expunge the copied messages from mb (RFC 6851). */
int store_move(struct store_mailbox *mb, const struct store_uidset *uids,
	       const char *dst, struct store_copy_result *res_r,
	       struct store_changes *changes_r, struct store_error *err);

/* ---- append (streaming) -------------------------------------------------- */

/* Start a message for mailbox `name`. envelope_from is the sender for an
 * mbox From_ line (NULL or "" = MAILER-DAEMON; it is never read from the
 * message). The message is written with any number of
 * store_append_write() calls and never held whole in memory. */
int store_append_begin(struct store *st, const char *name,
		       const char *envelope_from, struct store_append **ap_r,
		       struct store_error *err);
int store_append_write(struct store_append *ap, const void *data, size_t len,
		       struct store_error *err);
/* Make the message durable with these flags (STORE_F_PERMANENT bits),
 * keywords and internal date (0 = now); *ap is freed whatever happens.
 * uidvalidity_r and uid_r may be NULL: a delivery that does not need the
 * UID lets the next session assign it. */
int store_append_commit(struct store_append **ap, unsigned flags,
			const char *const *keywords, size_t keyword_count,
			time_t internal_date, uint32_t *uidvalidity_r,
			uint32_t *uid_r, struct store_error *err);
void store_append_abort(struct store_append **ap);

/* ---- cache of parsed data (ENVELOPE, BODYSTRUCTURE, ...) ----------------- */

enum store_cache_field {
	STORE_CACHE_ENVELOPE = 1,
	STORE_CACHE_BODYSTRUCTURE = 2,
	STORE_CACHE_BODY = 3,
	/* The size with every line end as CRLF (POP3 sizes, RFC 1939
	 * section 11): 8 bytes, little endian. */
	STORE_CACHE_CRLF_SIZE = 4,
};

#define STORE_CACHE_BLOB_MAX (1024u * 1024u)

/* A cached blob for (uid, field): *data_r is malloc'ed, or NULL when
 * nothing is cached. The cache is advisory: damage only loses entries. */
int store_cache_get(struct store_mailbox *mb, uint32_t uid, unsigned field,
		    void **data_r, size_t *len_r, struct store_error *err);
int store_cache_put(struct store_mailbox *mb, uint32_t uid, unsigned field,
		    const void *data, size_t len, struct store_error *err);

#endif
