/*
 * store_index.h - the per-mailbox index file: one fixed-size record per
 * message (struct store_rec without its name) after a versioned header,
 * then the keyword table; a 64-bit checksum covers it all.
 *
 * For Maildir it is a cache (sizes, dates, header sizes) plus the first
 * recent UID, and a second source of UIDs if dovecot-uidlist is lost; for
 * mbox it is where UIDs and flags live. Either way it is never trusted
 * blindly: store_index_parse() refuses anything inconsistent (sizes,
 * counts, UID order, flags, keyword bits), the backends then check it
 * against the mail, and a bad index is rebuilt from the mail.
 *
 * Layout (little-endian):
 *   0 "QIDX"  4 version (1)  8 header size (96)  12 record size (64)
 *   16 count  20 uidvalidity  24 next uid  28 first recent uid
 *   32 generation (random per write)  40 source inode  48 source size
 *   56 source mtime (ns)  64 keyword count  68 keyword bytes
 *   72, 80 reserved (0)  88 checksum (FNV-1a of the file, this field 0)
 * then count records of 64 bytes:
 *   uid, flags (u32)  keywords, size, offset, raw length, internal date,
 *   fingerprint (u64)  header size, aux (u32)
 * then the keyword names, each ended by '\n'.
 */
#ifndef QUILL_STORE_INDEX_H
#define QUILL_STORE_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store_backend.h"

#define STORE_INDEX_HEADER_SIZE 96u
#define STORE_INDEX_RECORD_SIZE 64u
#define STORE_INDEX_KEYWORDS	64u /* most keywords an index can hold */
#define STORE_INDEX_MAX_BYTES	(1024u * 1024u * 1024u)

struct store_index {
	uint32_t uidvalidity, next_uid, recent_first;
	uint64_t generation;
	uint64_t src_ino, src_size, src_mtime_ns;
	struct store_recs recs;
	char **keywords;
	size_t n_keywords;
};

void store_index_clear(struct store_index *idx);
int store_index_parse(const void *data, size_t len, struct store_index *idx,
		      struct store_error *err);
/* Serialize (with a fresh random generation, stored back into idx). */
int store_index_format(struct store_index *idx, unsigned char **data_r,
		       size_t *len_r);
/* STORE_E_NOTFOUND if there is no index, STORE_E_CORRUPT if bad. */
int store_index_read(const char *path, struct store_index *idx,
		     struct store_error *err);
int store_index_write(const char *path, struct store_index *idx, bool dosync,
		      struct store_error *err);
/* The generation in path's header; 0 if missing or unreadable. */
uint64_t store_index_peek(const char *path);

#endif
