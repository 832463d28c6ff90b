/*
 * pop3_listing.h - the maildrop as one POP3 session sees it: messages
 * numbered 1..n when it was opened, each with its UID and its size as
 * sent, and the session's deleted marks.
 *
 * RFC 1939 section 4 (numbering and sizes fixed when the maildrop is
 * opened), section 5 (STAT, LIST, DELE, RSET over the marks), section 7
 * (UIDL: a unique-id of 1 to 70 characters 0x21..0x7E, the same in every
 * session). The unique-id is made of the message's UID and the mailbox's
 * UIDVALIDITY (store.h: UIDs are never reused while UIDVALIDITY stays),
 * as "%08X%08X" uid, uidvalidity - Dovecot's default pop3_uidl_format,
 * so a Maildir taken over from Dovecot keeps its unique-ids.
 */
#ifndef QUILL_POP3_LISTING_H
#define QUILL_POP3_LISTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POP3_UIDL_MAX 70 /* RFC 1939 section 7 */

struct pop3_msg {
	uint32_t uid;
	uint64_t size; /* as sent: CRLF line ends, no stuffing */
	bool deleted;
	bool retrieved; /* sent whole by RETR: \Seen in UPDATE */
};

struct pop3_listing {
	uint32_t uidvalidity;
	uint32_t count; /* n: messages are numbered 1..n */
	struct pop3_msg *msgs;
};

/* A listing for count messages, all zero. NULL if out of memory. */
struct pop3_listing *pop3_listing_new(uint32_t uidvalidity, uint32_t count);
void pop3_listing_free(struct pop3_listing **l);

/* Messages not marked as deleted, and their total size. */
void pop3_listing_stat(const struct pop3_listing *l, uint32_t *count_r,
		       uint64_t *size_r);
/* Messages marked as deleted. */
uint32_t pop3_listing_deleted(const struct pop3_listing *l);
/* Clear every mark, deleted and retrieved (RSET; Dovecot too forgets
 * the \Seen flags a session would set). */
void pop3_listing_reset(struct pop3_listing *l);

/* The unique-id of a message, NUL-terminated, into out (at least 17
 * bytes). */
void pop3_uidl(uint32_t uidvalidity, uint32_t uid, char *out, size_t n);

/* A decimal number argument: digits only, leading zeros allowed, at
 * least one digit; a value over UINT64_MAX saturates. Returns 0, or -1
 * if it is not a number. */
int pop3_parse_number(const char *s, size_t len, uint64_t *v_r);

#endif
