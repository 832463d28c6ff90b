/*
 * store_lock.h - the two kinds of lock the store takes, both with a
 * deadline and never blocking without one.
 *
 * Dotlocks ("<file>.lock", made by link()ing a hidden temp file that
 * already holds the content, so a lock never exists empty): the mbox
 * convention shared with mutt, procmail and Dovecot, and Dovecot's lock on
 * dovecot-uidlist. The lock file holds "<pid>:<host>\n", as Dovecot
 * writes it. A lock is stale when its owner is on this host and no longer
 * runs, or when it is older than the stale age and its owner is not known
 * to be alive; a stale lock is removed (after checking it is still the
 * same file) and the creation retried. Only the process that holds a
 * dotlock removes it, after checking it is still its own file.
 *
 * fcntl locks: open file description locks (F_OFD_SETLK). They conflict
 * with classic POSIX fcntl locks taken by other programs, so they are
 * compatible with mutt and Dovecot, and unlike classic locks they also
 * conflict between two descriptors of one process and are not dropped
 * when another descriptor of the file is closed.
 */
#ifndef QUILL_STORE_LOCK_H
#define QUILL_STORE_LOCK_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "store.h"

struct store_dotlock {
	char path[PATH_MAX];
	dev_t dev;
	ino_t ino;
	bool held;
	char host[256];
	/* The note of a stale lock broken on the way (see
	 * store_dotlock_note), or "". */
	char stale_note[64];
};

struct store_lock_opts {
	uint64_t deadline_ms; /* store_now_ms() value to give up at */
	unsigned stale_secs;
	const char *hostname;
};

void store_lock_opts_init(struct store_lock_opts *o, const struct store *st);

/* Take the dotlock lock_path: STORE_E_LOCKED at the deadline. */
int store_dotlock_take(struct store_dotlock *lk, const char *lock_path,
		       const struct store_lock_opts *o,
		       struct store_error *err);
void store_dotlock_release(struct store_dotlock *lk);
/* Record what the holder is doing on the lock file's second line, so
 * that whoever breaks it after a crash knows (mbox appends write
 * "append <old size>"). Not fsync'd: it serves against process crashes;
 * other programs read only the first line. */
int store_dotlock_note(struct store_dotlock *lk, const char *note);

/* Lock [start, start+len) of fd (len 0 = to the end and beyond) for
 * reading (F_RDLCK), writing (F_WRLCK) or release it (F_UNLCK), waiting
 * until the deadline; an existing lock of this descriptor is converted. */
int store_ofd_lock(int fd, short type, off_t start, off_t len,
		   uint64_t deadline_ms, struct store_error *err);

#endif
