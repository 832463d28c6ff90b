/*
 * user_store.h - open one mail user's store the way the config says.
 *
 * Local delivery (SMTP, LMTP), POP3 and IMAP all reach a user's mail
 * through here, so they agree on where it lives: the passwd-file's home
 * field if set, else <users.mail_root>/<user> (lib/passwd.h
 * passwd_mail_root), holding a Maildir or an mbox tree as users.store
 * says (server/store/store.h).
 */
#ifndef QUILL_SERVER_USER_STORE_H
#define QUILL_SERVER_USER_STORE_H

#include <stddef.h>

#include "config.h"
#include "store/store.h"

struct passwd_entry;

/* The directory of e's mail under cfg. Returns 0, or -1 with a reason. */
int user_store_root(const struct quilld_config *cfg,
		    const struct passwd_entry *e, char *out, size_t n,
		    struct store_error *err);

/* Open e's store (created on first use). Returns 0, or -1 with err. */
int user_store_open(const struct quilld_config *cfg,
		    const struct passwd_entry *e, struct store **store_r,
		    struct store_error *err);

#endif
