/*
 * deliver.h - final delivery: one message into one local user's INBOX.
 *
 * The message is stored as it was received, with two header fields put in
 * front of it: "Return-Path: <reverse-path>" (RFC 5321 4.4: the delivery
 * that makes a message final records the MAIL FROM path) and
 * "Delivered-To: addr-spec" (RFC 9228: the address it was delivered for),
 * and without any Return-Path field the sender wrote (4.4: one is all a
 * delivered message should have; deliver_view.h). The store (server/store/store.h) makes it durable, file and directory
 * fsync'd, before deliver_one() returns.
 *
 * Exactly once across a crash. The queue records a recipient as done
 * only after its delivery returned, so a crash in between leaves a
 * recipient "in doubt": its message may or may not be in the mailbox.
 * The runner (queue_job.h says which recipients) delivers these with
 * DELIVER_CHECK, which first looks for this very delivery in the INBOX:
 * a message of exactly the size the delivery would have, whose bytes are
 * exactly those it would write. They start with our own Return-Path and
 * Delivered-To, then our own Received header naming the queue id (nothing
 * the client sent can come before them), so a match is this delivery and
 * nothing else; the size narrows the search to a few messages, read only
 * if their size matches. The store's appends are atomic (Maildir:
 * tmp + link; mbox: an interrupted append is cut off under the next
 * lock), so the message is there whole or not at all: found means done,
 * not found means deliver. The one case this cannot see is a user who
 * deleted or moved the message in the instant between its delivery and
 * the crash; then it is delivered again.
 */
#ifndef QUILL_SERVER_DELIVER_H
#define QUILL_SERVER_DELIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "passwd.h"

/* A user as delivery needs it: copies, so a pool thread may use it while
 * the loop thread reloads the passwd-file. */
struct deliver_user {
	char name[PASSWD_USER_MAX + 1];
	char home[CONFIG_PATH_MAX]; /* "" = <users.mail_root>/<name> */
};

/* Copy e into u. Returns 0, or -1 if the home path does not fit. */
int deliver_user_from(struct deliver_user *u, const struct passwd_entry *e);

/* The message: bytes from offset to the end of the file at path. */
struct deliver_msg {
	const char *path;
	uint64_t offset;
	const char *return_path; /* MAIL FROM path; "" for <> */
	const char *rcpt;	 /* the recipient address (Delivered-To) */
};

enum deliver_status {
	DELIVER_OK,   /* stored (or found stored, see already) */
	DELIVER_TEMP, /* try again later */
	DELIVER_PERM, /* will never work */
};

enum deliver_mode {
	DELIVER_FRESH, /* never tried: just store it */
	DELIVER_CHECK, /* maybe stored before a crash: look first */
};

struct deliver_result {
	enum deliver_status status;
	bool already; /* DELIVER_CHECK found it: not stored again */
	/* The reply an LMTP server gives for it (RFC 2033 4.2, RFC 3463) */
	int code;
	char enhanced[16];
	char text[128];
	char detail[256]; /* for the log: what failed, with paths */
};

/* Deliver m to u's INBOX under cfg's users settings (mail_root, store).
 * Blocking: run it on the pool. The result is always filled. */
void deliver_one(const struct quilld_config *cfg, const struct deliver_user *u,
		 const struct deliver_msg *m, enum deliver_mode mode,
		 struct deliver_result *res);

/* The header fields delivery puts in front of the message, into out
 * (size n). Returns their length, or 0 if they do not fit. */
size_t deliver_prefix(const struct deliver_msg *m, char *out, size_t n);

#endif
