/*
 * queue_file.h - a queued message as the runner and `quill queue` see it:
 * the envelope of its spool file (spool.h, format 1) and the delivery
 * state kept beside it.
 *
 *   <queue>/new/<id>     the spool file (envelope, empty line, message)
 *   <queue>/state/<id>   what happened to each recipient so far: one
 *                        record per line, appended
 *   <queue>/torn/<id>    a spool file that failed its seal (spool_seal.h),
 *                        set aside with its state as <id>.state
 *   <queue>/boot-id      the kernel boot during which every record
 *                        written so far is known to be there (below)
 *
 *   try    <i> <time>                        a delivery starts (no fsync)
 *   done   <i> <time>                        delivered (or found delivered)
 *   defer  <i> <time> <next> <code> <enh> <text>   temporary failure
 *   fail   <i> <time> <code> <enh> <text>    permanent failure
 *   remote <i> <time>                        not ours: waits for relaying
 *   dsn    <i> <time> <action> <n>           a delivery status notification
 *                                            (RFC 3464) about recipient i,
 *                                            action failed, delayed or
 *                                            delivered, is in the queue as
 *                                            <id>N<n> (queue_dsn.h)
 *
 * <i> counts the envelope's recipients from 0; the last record of a
 * recipient wins; a line without its newline (a crash while appending)
 * is ignored. No state file means nothing was recorded yet.
 *
 * Outcomes are fsync'd. "try" is not: it only has to survive the death
 * of quilld, which a write() does (the kernel holds it); only a crash of
 * the kernel can lose it, and that changes the boot id. So records are
 * trusted while boot-id names the running kernel; after a reboot the
 * runner checks every recipient not done, then writes boot-id again.
 */
#ifndef QUILL_SERVER_QUEUE_FILE_H
#define QUILL_SERVER_QUEUE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "spool.h"
#include "spool_seal.h"

enum queue_rcpt_state {
	QUEUE_RCPT_PENDING,  /* nothing recorded */
	QUEUE_RCPT_DONE,     /* delivered */
	QUEUE_RCPT_DEFERRED, /* failed for now; retried at next_try */
	QUEUE_RCPT_FAILED,   /* failed for good */
	QUEUE_RCPT_REMOTE,   /* another domain: waits for outbound relay */
};

struct queue_rcpt {
	char *addr;
	enum queue_rcpt_state state;
	bool in_flight;	   /* "try" with no outcome after it */
	unsigned attempts; /* temporary failures so far */
	time_t when;	   /* of the last record */
	time_t next_try;   /* DEFERRED: not before this */
	int code;	   /* the last failure's reply */
	char enhanced[16];
	char text[200];
	/* RFC 3461: NOTIFY (SMTP_NOTIFY_* bits, 0: not given) and ORCPT
	 * ("addr-type;xtext" as sent, NULL: not given) of the rcpt-dsn
	 * line; what the dsn records say was reported */
	unsigned notify;
	char *orcpt;
	bool dsn_final;	  /* a failed or delivered DSN was made */
	bool dsn_delayed; /* a delayed DSN was made */
};

struct queue_msg {
	char id[SPOOL_ID_MAX];
	time_t arrived;
	char *from;	 /* "" for the null reverse-path */
	char *envelope;	 /* the envelope lines as spooled */
	uint64_t offset; /* the message's first byte in the file */
	uint64_t size;	 /* message bytes */
	bool sealed;	 /* a seal line (spool_seal.h), maybe still zero */
	struct spool_seal seal;
	bool seal_zero;	      /* the placeholder: the seal was never written */
	char ret;	      /* RFC 3461 RET: 'F'ULL, 'H'DRS, 0 not given */
	char *envid;	      /* ENVID= as sent (xtext), NULL if not given */
	char body[12];	      /* 7BIT, 8BITMIME or BINARYMIME */
	unsigned dsn_batches; /* highest <n> of the dsn records */
	struct queue_rcpt *rcpt;
	size_t n_rcpt;
};

/* The value of a "rcpt-dsn" envelope line: "NOTIFY=a,b" and/or
 * "ORCPT=type;xtext", blank-separated, as spool.c writes it. 0 with
 * *notify_r and *orcpt_r (malloc'ed, replacing the old one; NULL if
 * none) set, or -1 (nothing changed) for anything else. */
int queue_rcpt_dsn_parse(const char *v, size_t len, unsigned *notify_r,
			 char **orcpt_r);

/* The envelope of the spool file at path (no state). 0, or -1 with err. */
int queue_envelope_read(const char *path, struct queue_msg *m, char *err,
			size_t errlen);
/* new/<id> and state/<id> of queue_dir, the message checked against its
 * seal. 0; QUEUE_TORN if the seal says the file is not what was
 * committed (spool_seal.h: never acknowledged); or -1; err says why. */
#define QUEUE_TORN (-2)
int queue_msg_read(const char *queue_dir, const char *id, struct queue_msg *m,
		   char *err, size_t errlen);
void queue_msg_free(struct queue_msg *m);

/* Move new/<id> (and its state) to torn/, where a person can look at
 * it: the file failed its seal. 0, or -1 with err. */
int queue_msg_set_aside(const char *queue_dir, const char *id, char *err,
			size_t errlen);

/* Append records (whole lines) to state/<id>; with sync make them
 * durable: the file fsync'd, and state/ too when the file is new. */
int queue_state_append(const char *queue_dir, const char *id, const char *lines,
		       size_t len, bool sync, char *err, size_t errlen);
/* "try <i> <when>\n" into out; its length (0 if it did not fit). */
size_t queue_state_try(char *out, size_t n, size_t i, time_t when);
/* Format one record into out (a line with its newline); text is made
 * safe (no control characters). Returns its length, 0 if it did not fit. */
size_t queue_state_record(char *out, size_t n, enum queue_rcpt_state st,
			  size_t i, time_t when, time_t next, int code,
			  const char *enhanced, const char *text);

/* "dsn <i> <when> <action> <n>\n" into out; its length (0 if it did
 * not fit). action: "failed", "delayed" or "delivered". */
size_t queue_state_dsn(char *out, size_t n, size_t i, time_t when,
		       const char *action, unsigned batch);

/* The message is done with: new/<id> removed, then the state file.
 * Without sync neither removal is fsync'd: one undone by a crash of the
 * machine only brings the message back after a reboot, when every
 * recipient not recorded done is looked for in its mailbox before
 * anything is delivered (boot-id above), so it is found delivered, not
 * sent again. With sync, new/ is fsync'd between the two: for a message
 * that brought back without its state would be owed a notice again (a
 * "delivered" DSN, queue_dsn.h). */
int queue_msg_remove(const char *queue_dir, const char *id, bool sync,
		     char *err, size_t errlen);
/* State files whose message is gone (a crash between the two unlinks of
 * queue_msg_remove) are removed; returns how many. */
int queue_state_tidy(const char *queue_dir);

/* The ids in new/, sorted (oldest first: ids start with the time). */
int queue_list_ids(const char *queue_dir, char ***ids_r, size_t *n_r, char *err,
		   size_t errlen);
void queue_ids_free(char **ids, size_t n);

const char *queue_rcpt_state_name(enum queue_rcpt_state st);

/* Whether boot-id names the running kernel (Linux's
 * /proc/sys/kernel/random/boot_id): every record, fsync'd or not, is
 * then there. False if either cannot be read. */
bool queue_records_trusted(const char *queue_dir);
/* Write boot-id for the running kernel (temp, fsync, rename, fsync). */
int queue_records_trust(const char *queue_dir, char *err, size_t errlen);

#endif
