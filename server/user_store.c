/*
 * user_store.c - open one mail user's store (see user_store.h).
 */
#include "user_store.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "passwd.h"

static void fail(struct store_error *err, int code, const char *what,
		 const char *user)
{
	if (err == NULL)
		return;
	err->code = code;
	snprintf(err->msg, sizeof(err->msg), "%s for user '%s'", what, user);
}

int user_store_root(const struct quilld_config *cfg,
		    const struct passwd_entry *e, char *out, size_t n,
		    struct store_error *err)
{
	if (passwd_mail_root(e, cfg->mail_root, out, n) != 0) {
		fail(err, errno == ERANGE ? STORE_E_BADNAME : STORE_E_INVALID,
		     errno == ERANGE ? "mail root path too long"
				     : "no safe mail root",
		     e->user);
		return -1;
	}
	return 0;
}

int user_store_open(const struct quilld_config *cfg,
		    const struct passwd_entry *e, struct store **store_r,
		    struct store_error *err)
{
	char root[CONFIG_PATH_MAX + 256];
	struct store_config sc;

	*store_r = NULL;
	if (user_store_root(cfg, e, root, sizeof(root), err) != 0)
		return -1;
	store_config_init(&sc,
			  cfg->store_kind == CONFIG_STORE_MBOX
				  ? STORE_KIND_MBOX
				  : STORE_KIND_MAILDIR,
			  root);
	sc.hostname = cfg->hostname;
	return store_open(&sc, store_r, err);
}
