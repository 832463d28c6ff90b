/*
 * store_util.h - small pieces every part of the store uses: error
 * reporting, a 64-bit hash, growable record arrays, keyword tables.
 */
#ifndef QUILL_STORE_UTIL_H
#define QUILL_STORE_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store_backend.h"

/* Set err (if not NULL) and return -1. */
int store_fail(struct store_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Map errnum to a code (ENOSPC/EDQUOT/EFBIG: NOSPACE, ENOENT: NOTFOUND,
 * EEXIST: EXISTS, ENAMETOOLONG: BADNAME, else IO), append its text to the
 * message, set err and return -1. */
int store_fail_errno(struct store_error *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int store_errno_code(int errnum);

/* FNV-1a, 64 bits; chain calls by passing the previous result as h. */
#define STORE_HASH_INIT 0xcbf29ce484222325ULL
uint64_t store_hash(uint64_t h, const void *data, size_t len);
/* The same step over 8-byte little-endian words (the rest bytewise):
 * eight times fewer dependent multiplies, for large files. */
uint64_t store_hash_words(uint64_t h, const void *data, size_t len);

/* Growable arrays of records, kept in ascending UID order by callers. */
int store_recs_push(struct store_recs *r, const struct store_rec *rec);
void store_recs_clear(struct store_recs *r);
/* Index of uid, or -1. */
long store_recs_find(const struct store_recs *r, uint32_t uid);

/* Growable array of uint32_t. */
struct store_u32s {
	uint32_t *v;
	size_t n, cap;
};
int store_u32s_push(struct store_u32s *a, uint32_t x);

/* Keyword tables: arrays of malloc'ed names. */
void store_keywords_free(char ***names, size_t *n);
int store_keywords_copy(char ***dst, size_t *dst_n, char *const *src, size_t n);
/* Index of name (ASCII case-insensitive), or -1. */
long store_keywords_find(char *const *names, size_t n, const char *name);
/* Append name; -1 with errno set on failure. */
int store_keywords_add(char ***names, size_t *n, const char *name);

void store_snapshot_clear(struct store_snapshot *snap);

/* Monotonic milliseconds, for lock deadlines. */
uint64_t store_now_ms(void);
/* Sleep for a lock retry: ms milliseconds. */
void store_sleep_ms(unsigned ms);
/* Random bytes (getrandom, falling back to time and pid). */
void store_random(void *buf, size_t len);

#endif
