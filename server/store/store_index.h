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
 *   0 "QIDX"  4 version (2)  8 header size (96)  12 record size (64)
 *   16 count  20 uidvalidity  24 next uid  28 first recent uid
 *   32 generation (random per write)  40 source inode  48 source size
 *   56 source mtime (ns)  64 keyword count  68 keyword bytes
 *   72, 80 reserved (0)  88 checksum (of the file, this field 0)
 * then count records of 64 bytes:
 *   uid, flags (u32)  keywords, size, offset, raw length, internal date,
 *   fingerprint (u64)  header size, aux (u32)
 * then the keyword names, each ended by '\n'. Checksums are FNV-1a 64
 * taken over little-endian 8-byte words (store_hash_words: a large index
 * is checked at memory speed). Version 1, whose checksum hashed bytes,
 * is still read; what is written is version 2.
 *
 * Appended deltas may follow (store_index_log.c), so that adding or
 * changing a few records does not rewrite a large index:
 *   0 "QIDD"  4 version (1)  8 delta length  12 record count
 *   16 uidvalidity (the base's)  20 next uid  24 first recent uid
 *   28 keyword count after it  32 source inode  40 source size
 *   48 source mtime  56 keyword bytes  60 reserved (0)
 * then the records (a UID the index has replaces its record, a new one
 * must be above every UID), the new keyword names, and a checksum of the
 * delta before it. A reader applies deltas in order and stops at
 * the first that is torn or inconsistent (what follows it is ignored and
 * cut off by the next writer). A writer appends under the mailbox's lock
 * to the file it read (same base generation and length), and writes the
 * whole index again once the deltas outgrow the base.
 */
#ifndef QUILL_STORE_INDEX_H
#define QUILL_STORE_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store_backend.h"

#define STORE_INDEX_VERSION	2u
#define STORE_INDEX_HEADER_SIZE 96u
#define STORE_INDEX_RECORD_SIZE 64u
#define STORE_INDEX_KEYWORDS	64u /* most keywords an index can hold */
#define STORE_INDEX_MAX_BYTES	(1024u * 1024u * 1024u)

struct store_index {
	uint32_t uidvalidity, next_uid, recent_first;
	uint64_t generation;	     /* of the base, random per whole write */
	uint64_t base_len, file_len; /* bytes of the base; base + deltas */
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
/* What path holds now, as a stamp (base generation and length); 0 if
 * missing or unreadable. Equal to store_index_stamp() of the index last
 * read or written there, until someone writes it. */
uint64_t store_index_peek(const char *path);
uint64_t store_index_stamp(const struct store_index *idx);
/* Append a delta to the index file at path: the records idx->recs.v[at[i]]
 * (changed), the records from first_new on (new), the keyword names from
 * kw_from on, and idx's header fields. idx must be what the file holds
 * but for these changes (read or written by this handle under the
 * lock). 1 if that is not so, or the deltas outgrew the base: then write
 * it whole (store_index_write). */
int store_index_append(const char *path, struct store_index *idx,
		       const size_t *at, size_t n_at, size_t first_new,
		       size_t kw_from, bool dosync, struct store_error *err);

#endif
