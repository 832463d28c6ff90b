/*
 * maildir_uidlist.h - the UID list of a Maildir folder, in Dovecot's
 * dovecot-uidlist format so Dovecot and Quill can share a Maildir:
 *
 *   3 V<uidvalidity> N<next uid> G<32 hex guid>
 *   <uid> :<base>
 *   ...
 *
 * Records map a UID to the base of a file name (without ":2,<flags>", so
 * a flag change never touches the list); they are in ascending UID order.
 * Dovecot may append records without updating N, so the next UID is
 * max(N, last UID + 1). Version 1 (Courier's "1 <uidv> <next>" and
 * "<uid> <file>") is read too; extension fields before ':' are skipped.
 *
 * Reading is strict about structure and lenient about damage: a bad
 * header makes the list unusable (STORE_E_CORRUPT); a bad, duplicate,
 * out-of-order or unterminated record line is dropped and the list
 * marked partial, so the caller knows some files may have lost their
 * UIDs and must get new ones (never old ones).
 */
#ifndef QUILL_MAILDIR_UIDLIST_H
#define QUILL_MAILDIR_UIDLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define MAILDIR_UIDLIST_MAX_BYTES (512u * 1024u * 1024u)

struct maildir_uidrec {
	uint32_t uid;
	char *base;
};

struct maildir_uidlist {
	uint32_t uidvalidity, next_uid;
	char guid[33];
	bool partial;
	struct maildir_uidrec *v;
	size_t n, cap;
	uint32_t *slots; /* hash of bases: index + 1, 0 = empty */
	size_t n_slots;
};

void maildir_uidlist_clear(struct maildir_uidlist *ul);
/* A fresh list: no records, a new GUID. */
void maildir_uidlist_init(struct maildir_uidlist *ul, uint32_t uidvalidity,
			  uint32_t next_uid);
int maildir_uidlist_parse(const char *data, size_t len,
			  struct maildir_uidlist *ul, struct store_error *err);
int maildir_uidlist_format(const struct maildir_uidlist *ul, char **data_r,
			   size_t *len_r);
/* Append a record (uid above every other); -1 on ENOMEM/EINVAL. */
int maildir_uidlist_add(struct maildir_uidlist *ul, uint32_t uid,
			const char *base, size_t len);
/* Index of the record for base, or -1. */
long maildir_uidlist_find(const struct maildir_uidlist *ul, const char *base,
			  size_t len);

#endif
