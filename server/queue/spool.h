/*
 * spool.h - the queue's spool files: one per accepted message, holding
 * its envelope and its bytes, made durable before the 250 is sent.
 *
 *   <queue>/tmp/<id>   being written (a crash leaves it; it was never
 *                      acknowledged, so it is removed at start-up)
 *   <queue>/new/<id>   committed: sealed, renamed, made durable (see
 *                      spool_group.h; spool_seal.h for a file a crash
 *                      left there before it was durable)
 *
 * The file is a header of "key value" lines (spool format 1), an empty
 * line, then the message exactly as it will be delivered (the Received
 * header first). Nothing in it comes from the client unchecked: envelope
 * addresses have passed the RFC 5321 parser and hold no CR or LF.
 */
#ifndef QUILL_SERVER_SPOOL_H
#define QUILL_SERVER_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "smtp/smtp_session.h"

#define SPOOL_ID_MAX 32

struct spool_msg;

/* Make <queue>/tmp and <queue>/new if missing and drop what tmp holds
 * (messages never acknowledged). Returns the number removed, or -1. */
int spool_init(const char *queue_dir, char *err, size_t errlen);

/* Start a message: a new file in tmp/ with the envelope written. The id
 * goes to id_r (SPOOL_ID_MAX bytes). NULL on error (message in err). */
struct spool_msg *spool_begin(const char *queue_dir,
			      const struct smtp_envelope *env, time_t now,
			      char *id_r, char *err, size_t errlen);
int spool_write(struct spool_msg *m, const void *data, size_t len, char *err,
		size_t errlen);
/* Seal the file, fsync it, close it (checked), rename it into new/,
 * fsync new/ (the order that needs no seal; spool_group.c is faster).
 * Blocking: run it on the pool. Returns 0 or -1; either way m is freed
 * (on failure the tmp file is removed). */
int spool_commit(struct spool_msg **m, char *err, size_t errlen);
/* Remove the tmp file and free m. */
void spool_abort(struct spool_msg **m);
/* The tmp file being written: LMTP delivers from it (never committed). */
const char *spool_tmp_path(const struct spool_msg *m);

/* RFC 5322 date-time of now, for the Received header. */
void spool_date(time_t now, char *out, size_t n);

#endif
