/*
 * store_internal.h - functions shared by the generic store files
 * (store*.c) and, where noted, by the backends.
 */
#ifndef QUILL_STORE_INTERNAL_H
#define QUILL_STORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store_backend.h"

/* store_subs.c */
int store_subs_load(struct store *st, char ***names_r, size_t *n_r,
		    struct store_error *err);
int store_subs_set(struct store *st, const char *canon, bool on,
		   struct store_error *err);
/* A fresh UIDVALIDITY for this store (backends use it). */
int store_uidvalidity_next(struct store *st, uint32_t *uidv_r,
			   struct store_error *err);

/* store_mailbox.c: a handle with backend state but no view yet. */
int store_mailbox_alloc(struct store *st, const char *canon, bool readonly,
			struct store_mailbox **mb_r, struct store_error *err);
/* Open and sync canon: read-only or not, claiming \Recent or not. */
int store_mailbox_open_as(struct store *st, const char *canon, bool readonly,
			  bool claim, struct store_mailbox **mb_r,
			  struct store_error *err);
/* Remove uids (ascending, all in the view) from the view, reporting them
 * as expunged in ch (may be NULL). */
int store_view_remove(struct store_mailbox *mb, const uint32_t *uids, size_t n,
		      struct store_changes *ch);

/* store_list.c: existing names and whether each is selectable. */
int store_list_raw(struct store *st, struct store_list *list_r,
		   struct store_error *err);
/* Add an entry (name copied); -1 on ENOMEM. */
int store_list_add(struct store_list *list, const char *name, unsigned attrs);
/* Attributes of name in a raw list: -1 if absent, else the attrs; and
 * whether any name below it exists. */
int store_list_lookup(const struct store_list *list, const char *name,
		      bool *has_children_r);

/* store_msg.c: bits of keyword names in mb's table; with create,
 * missing names are added (STORE_E_LIMIT when the table is full). */
int store_keyword_bits(struct store_mailbox *mb, const char *const *names,
		       size_t n, bool create, uint64_t *bits_r,
		       struct store_error *err);

/* store_append.c: add a message to a transaction and save_begin it. */
int store_txn_add(struct store_txn *txn, const char *from,
		  struct store_error *err);
void store_txn_free(struct store_txn *txn);

/* store_cache.c */
struct store_cache;
void store_cache_free(struct store_cache **cache);

/* Header scanner: the header ends after the first empty line ("\n" or
 * "\r\n" at a line start); without one the whole message is header. */
struct store_hdr_scan {
	uint64_t pos;
	uint64_t end; /* 0 until found */
	bool at_line_start, cr_at_start;
};

void store_hdr_scan_init(struct store_hdr_scan *s);
void store_hdr_scan_feed(struct store_hdr_scan *s, const void *data,
			 size_t len);
uint64_t store_hdr_scan_result(const struct store_hdr_scan *s);

#endif
