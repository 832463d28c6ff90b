/*
 * local_rcpt.h - which local user a recipient address stands for.
 *
 * An address is local when its domain is the configured domain or the
 * host name (any case: RFC 5321 2.4), or when it is the bare
 * "postmaster" (4.1.1.3). Its local part, quotes removed, names a user of
 * the passwd-file as it is spelt (local parts are case-sensitive, 2.4);
 * "postmaster" in any case (4.5.1) is delivered to the user named by
 * queue.postmaster. SMTP RCPT, LMTP and the queue runner all ask here.
 */
#ifndef QUILL_SERVER_LOCAL_RCPT_H
#define QUILL_SERVER_LOCAL_RCPT_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

struct passwd_db;
struct passwd_entry;

bool local_rcpt_domain(const struct quilld_config *cfg, const char *domain);

/* Split an address as the SMTP engine writes it ("local@domain", the
 * local part perhaps a quoted string; "postmaster" alone) into the local
 * part without quoting and the domain ("" for none). Returns 0, or -1 if
 * a part does not fit. */
int local_rcpt_split(const char *addr, char *local, size_t local_n,
		     char *domain, size_t domain_n);

/* The user whose mailbox gets mail for local part `local` of a local
 * address; NULL if there is none (users may be NULL). */
const struct passwd_entry *local_rcpt_user(const struct quilld_config *cfg,
					   const struct passwd_db *users,
					   const char *local);

#endif
