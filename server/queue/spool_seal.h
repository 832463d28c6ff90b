/*
 * spool_seal.h - the seal of a spool file: the length and a hash of the
 * message bytes, written into the envelope just before the commit.
 *
 * It lets a commit make a file durable with one flush of the file system
 * after the rename into new/ (spool_group.h, syncfs mode) instead of two
 * (the file, then the directory): if the machine dies before that flush,
 * new/<id> may hold only a prefix of the file, or a zeroed page, since
 * the rename can reach the disk before the data. Such a file was never
 * acknowledged (the 250 waits for the flush), and the seal is how it is
 * told apart from a committed one: the envelope line
 *
 *   seal <length, 16 hex digits> <hash, 16 hex digits>
 *
 * is written as zeros by spool_begin() and filled in place (pwrite, the
 * same width) once the last byte is written. A file in new/ whose seal
 * is zero, or whose message does not have that length and hash, is torn.
 * A spool file without a seal line (older ones, always flushed before
 * their rename) is taken as it is.
 */
#ifndef QUILL_SERVER_SPOOL_SEAL_H
#define QUILL_SERVER_SPOOL_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPOOL_SEAL_KEY "seal "
/* the value: two 16-digit hex numbers and a blank */
#define SPOOL_SEAL_VALUE_LEN 33

struct spool_seal {
	uint64_t len;  /* message bytes */
	uint64_t hash; /* FNV-1a 64 of them (store_hash) */
};

void spool_seal_init(struct spool_seal *s);
void spool_seal_add(struct spool_seal *s, const void *data, size_t len);
/* The value as written: SPOOL_SEAL_VALUE_LEN characters and a NUL. */
void spool_seal_format(const struct spool_seal *s,
		       char out[SPOOL_SEAL_VALUE_LEN + 1]);
/* Parse a value; -1 if it is not two 16-digit hex numbers. A zero seal
 * (the placeholder) parses, with *zero_r set. */
int spool_seal_parse(const char *v, size_t n, struct spool_seal *s,
		     bool *zero_r);
/* Whether fd, from offset to its end, holds exactly the sealed bytes.
 * 0 if so; 1 if not (why says how); -1 on a read error (errno). */
int spool_seal_check(int fd, uint64_t offset, const struct spool_seal *want,
		     char *why, size_t whylen);

#endif
