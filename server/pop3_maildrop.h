/*
 * pop3_maildrop.h - one POP3 session's hold on a user's maildrop: the
 * exclusive lock, the INBOX it lists, message bytes, and UPDATE.
 *
 * RFC 1939 section 4: after authentication the server takes an
 * exclusive-access lock on the maildrop, so that no other session can
 * change it before this one enters UPDATE, and fixes the numbering and
 * the sizes of the messages. The lock is an OFD lock (F_OFD_SETLK) on
 * "<mail root>/.quill-pop3.lock": it excludes other sessions of this
 * process (each opens the file anew) and of other quilld processes, and
 * the kernel drops it with the descriptor, so a crashed process leaves
 * nothing behind. The file also holds the time of the last login, for
 * LOGIN-DELAY (RFC 2449 section 6.5). Deliveries and IMAP go on while it
 * is held: a message delivered meanwhile is listed in the next session.
 *
 * Sizes are as POP3 sends them (pop3/pop3_stream.h); each is counted
 * once, by reading the message, and kept in the mailbox's cache
 * (STORE_CACHE_CRLF_SIZE). UPDATE (section 6) sets \Deleted on exactly
 * the marked UIDs and expunges exactly those; before that it sets \Seen
 * on the messages RETR sent whole (pop3.retr_sets_seen), which IMAP
 * clients sharing the maildrop rely on, as with Dovecot.
 *
 * Every function blocks on the disk: the host calls them on its pool.
 */
#ifndef QUILL_SERVER_POP3_MAILDROP_H
#define QUILL_SERVER_POP3_MAILDROP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "pop3/pop3_session.h"

#define POP3_MAILDROP_LOCK ".quill-pop3.lock"

struct passwd_entry;
struct pop3_maildrop;

/* Lock and open e's maildrop as cfg says. login_delay (seconds, 0 for
 * none) refuses a login sooner than that after the last one. Returns
 * POP3_ANSWER_OK with *md_r and *listing_r, or IN_USE, LOGIN_DELAY,
 * TEMP or PERM with a reason in err (for the log). */
enum pop3_status pop3_maildrop_open(const struct quilld_config *cfg,
				    const struct passwd_entry *e,
				    unsigned login_delay, time_t now,
				    struct pop3_maildrop **md_r,
				    struct pop3_listing **listing_r, char *err,
				    size_t errlen);

/* Up to len bytes of message uid from offset (as stored); *got_r = 0 at
 * its end. OK, GONE (expunged meanwhile), TEMP or PERM. */
enum pop3_status pop3_maildrop_read(struct pop3_maildrop *md, uint32_t uid,
				    uint64_t offset, void *buf, size_t len,
				    size_t *got_r, char *err, size_t errlen);

/* UPDATE: set \Seen on the messages seen (n_seen, ascending; those
 * expunged meanwhile are passed over), then remove exactly the messages
 * uids (ascending). OK or TEMP. The maildrop stays locked until
 * pop3_maildrop_close(). */
enum pop3_status pop3_maildrop_update(struct pop3_maildrop *md,
				      const uint32_t *uids, size_t n,
				      const uint32_t *seen, size_t n_seen,
				      char *err, size_t errlen);

/* Close everything and release the lock; *md becomes NULL. */
void pop3_maildrop_close(struct pop3_maildrop **md);

#endif
