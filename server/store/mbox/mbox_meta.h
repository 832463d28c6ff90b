/*
 * mbox_meta.h - the status headers mail programs keep inside mbox
 * messages, read and written as Dovecot 2.3 does (mutt and UW-IMAP keep
 * the same ones):
 *
 *   X-IMAPbase: <uidvalidity> <last uid, 10 digits> <keyword>...
 *                                 (first message of the file only)
 *   X-UID: <uid>
 *   Status: R (\Seen) O (old: not \Recent)
 *   X-Status: A (\Answered) F (\Flagged) T (\Draft) D (\Deleted)
 *   X-Keywords: <keyword>...
 * plus Content-Length and X-IMAP, which others write and Quill only
 * hides. Names match without regard to case, blanks may come before the
 * colon, a field may continue on lines starting with a blank (RFC 5322
 * 2.2.3), and only fields of the message header (before its first empty
 * line) count: the same lines in a body are text.
 *
 * These "status lines" are mailbox state, not message content: reading
 * skips them, so the bytes read are the bytes appended. A status line
 * that arrives inside a message is therefore escaped on writing, so it
 * is never taken for state and comes back unchanged: a field whose name
 * is MBOX_ESCAPE repeated n >= 0 times and then a status name gets one
 * more MBOX_ESCAPE in front; reading removes one from every such field
 * with n >= 1 (the mboxrd ">From " trick applied to field names).
 *
 * Writing pads the values (Status 2, X-Status 4 characters, spaces after
 * the keywords) so that a flag change can overwrite them in place.
 */
#ifndef QUILL_MBOX_META_H
#define QUILL_MBOX_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define MBOX_ESCAPE	      "Quill-Escaped-"
#define MBOX_ESCAPE_LEN	      14u
#define MBOX_META_VALUE_MAX   16384u /* value bytes of one field parsed */
#define MBOX_PAD_KEYWORDS     64u    /* spaces after X-Keywords' names */
#define MBOX_PAD_BASE	      192u   /* spaces after X-IMAPbase's names */
#define MBOX_BLOCK_MAX	      65536u /* bytes in one written block */
#define MBOX_META_KEYWORDS    64u    /* names a scan keeps */
#define MBOX_STATUS_WIDTH     2u
#define MBOX_XSTATUS_WIDTH    4u
#define MBOX_BASE_LAST_DIGITS 10u

enum mbox_hdr {
	MBOX_HDR_CONTENT_LENGTH,
	MBOX_HDR_STATUS,
	MBOX_HDR_X_IMAP,
	MBOX_HDR_X_IMAPBASE,
	MBOX_HDR_X_KEYWORDS,
	MBOX_HDR_X_STATUS,
	MBOX_HDR_X_UID,
	MBOX_HDR_COUNT
};

/* What a line of a message header is. */
enum mbox_line {
	MBOX_LINE_MORE,	   /* not decided yet: feed more bytes */
	MBOX_LINE_EMPTY,   /* "\n" or "\r\n": the header ends here */
	MBOX_LINE_CONT,	   /* starts with a blank: continues a field */
	MBOX_LINE_PLAIN,   /* any other line */
	MBOX_LINE_STATUS,  /* a status line (hidden on reading) */
	MBOX_LINE_ESCAPED, /* a status name behind >= 1 MBOX_ESCAPE */
};

/* Classifies one line from its first bytes; bounded state, so names of
 * any length (any number of escapes) are decided without buffering. */
struct mbox_linecls {
	int state;
	unsigned tlen;
	char tok[16];
	int hdr;	  /* enum mbox_hdr, for STATUS and ESCAPED */
	uint64_t escapes; /* MBOX_ESCAPE prefixes seen */
};

void mbox_linecls_init(struct mbox_linecls *c);
/* Feed the next byte of the line (its LF too); MBOX_LINE_MORE until
 * decided. After a decision, the result is final for this line. */
enum mbox_line mbox_linecls_feed(struct mbox_linecls *c, unsigned char ch);
/* The status field named by name[0..len) (case-insensitive), or -1. */
int mbox_hdr_lookup(const char *name, size_t len);
/* Its canonical spelling ("X-IMAPbase"). */
const char *mbox_hdr_name(int hdr);

/* A keyword table that parsing adds names to (at most max). */
struct mbox_kwtab {
	char **names;
	size_t n, max;
};

void mbox_kwtab_clear(struct mbox_kwtab *t);
/* Index of name, added if new; -1 if it does not fit or on ENOMEM. */
long mbox_kwtab_intern(struct mbox_kwtab *t, const char *name);

/* The state one message's status lines describe. */
struct mbox_meta {
	bool any;	/* some status line other than Content-Length */
	unsigned flags; /* STORE_F_* from Status and X-Status */
	bool old;	/* Status has O */
	uint32_t uid;	/* X-UID; 0 if none, malformed or repeated */
	bool uid_bad;	/* an X-UID that cannot be used */
	bool base;	/* a well-formed X-IMAPbase (first message only) */
	bool base_bad;	/* an X-IMAPbase that cannot be used */
	uint32_t base_uidvalidity, base_last;
	uint64_t keywords;  /* X-Keywords, bits over the table */
	bool keywords_lost; /* names the table had no room for */
};

/* Apply one status field's value (continuation lines included, at most
 * MBOX_META_VALUE_MAX bytes of it). X-IMAPbase counts only with first;
 * its keywords and X-Keywords' are interned into kw (may be NULL). */
void mbox_meta_apply(struct mbox_meta *m, int hdr, const char *value,
		     size_t len, bool first, struct mbox_kwtab *kw);

/* The status lines Quill writes for one message, in Dovecot's order. */
struct mbox_block {
	bool base; /* write X-IMAPbase (the first message of the file) */
	uint32_t uidvalidity, last_uid;
	char *const *names; /* the mailbox's keyword table */
	size_t n_names;
	uint32_t uid; /* 0: no X-UID line */
	unsigned flags;
	bool old;
	uint64_t keywords; /* bits over names */
	size_t base_pad, pad;
};

/* Append the block to out (whole lines, LF-terminated); -1 if it does
 * not fit in out's maximum or on ENOMEM. */
int mbox_block_format(const struct mbox_block *b, struct buf *out);

/* The value of one field as written in place (no LF): Status and
 * X-Status letters padded to their width, X-Keywords names; X-IMAPbase
 * "<uidvalidity> <10 digits>" then names. */
int mbox_meta_value(const struct mbox_block *b, int hdr, struct buf *out);

#endif
