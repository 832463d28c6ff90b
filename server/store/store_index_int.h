/*
 * store_index_int.h - what store_index.c (the base) and store_index_log.c
 * (the deltas) share: the little-endian field codec and the record
 * checks. Internal to those two files.
 */
#ifndef QUILL_STORE_INDEX_INT_H
#define QUILL_STORE_INDEX_INT_H

#include <stddef.h>
#include <stdint.h>

#include "store_index.h"

#define STORE_INDEX_DELTA_HEADER 64u

uint32_t sx_get32(const unsigned char *p);
uint64_t sx_get64(const unsigned char *p);
void sx_put32(unsigned char *p, uint32_t v);
void sx_put64(unsigned char *p, uint64_t v);
void sx_get_rec(const unsigned char *p, struct store_rec *r);
void sx_put_rec(unsigned char *p, const struct store_rec *r);
/* A record is sound for an index with next_uid and n_kw keywords. */
bool sx_rec_ok(const struct store_rec *r, uint32_t next_uid, uint32_t n_kw);
/* One keyword name of the table format; -1 if bad or a duplicate. */
int sx_keyword_add(struct store_index *idx, const unsigned char *p, size_t n);
/* Apply the deltas in data[0..len) to idx; the bytes applied. */
size_t sx_log_apply(const unsigned char *data, size_t len,
		    struct store_index *idx);

#endif
