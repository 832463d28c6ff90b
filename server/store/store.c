/*
 * store.c - the store as a whole: configuration, open and close, error
 * texts, and the mailbox-level operations of RFC 3501 6.3 (CREATE,
 * DELETE, RENAME, SUBSCRIBE) with the rules that do not depend on the
 * backend; the backend then does the disk work.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "store_backend.h"
#include "store_internal.h"
#include "store_util.h"

void store_config_init(struct store_config *cfg, enum store_kind kind,
		       const char *root)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->kind = kind;
	cfg->root = root;
	cfg->fsync = true;
	cfg->name_max = 255;
	cfg->depth_max = 16;
	cfg->lock_timeout_ms = 10000;
	cfg->lock_stale_secs = 300;
}

const char *store_strerror(int code)
{
	static const char *const text[] = {
		[STORE_E_NONE] = "no error",
		[STORE_E_NOTFOUND] = "not found",
		[STORE_E_EXISTS] = "already exists",
		[STORE_E_BADNAME] = "invalid mailbox name",
		[STORE_E_LOCKED] = "locked, try again later",
		[STORE_E_NOSPACE] = "out of disk space",
		[STORE_E_CORRUPT] = "damaged mailbox",
		[STORE_E_IO] = "input/output error",
		[STORE_E_TOOBIG] = "message too big",
		[STORE_E_EXPUNGED] = "message was expunged",
		[STORE_E_HASCHILDREN] = "mailbox has children",
		[STORE_E_NOINFERIORS] = "mailbox cannot have children",
		[STORE_E_LIMIT] = "too many keywords",
		[STORE_E_READONLY] = "mailbox is read-only",
		[STORE_E_INVALID] = "invalid argument",
	};

	if (code < 0 || (size_t)code >= sizeof(text) / sizeof(text[0]))
		return "unknown error";
	return text[code];
}

bool store_error_temporary(int code)
{
	return code == STORE_E_LOCKED || code == STORE_E_NOSPACE ||
	       code == STORE_E_IO;
}

static int copy_str(char **dst, const char *src)
{
	*dst = NULL;
	if (src == NULL)
		return 0;
	*dst = strdup(src);
	return *dst == NULL ? -1 : 0;
}

static int store_setup(struct store *st, const struct store_config *cfg)
{
	struct utsname u;
	const char *host = cfg->hostname;

	st->cfg = *cfg;
	if (host == NULL || *host == '\0')
		host = uname(&u) == 0 ? u.nodename : "localhost";
	if (copy_str(&st->root, cfg->root) != 0 ||
	    copy_str(&st->mbox_inbox, cfg->mbox_inbox) != 0 ||
	    copy_str(&st->hostname, host) != 0)
		return -1;
	st->cfg.root = st->root;
	st->cfg.mbox_inbox = st->mbox_inbox;
	st->cfg.hostname = st->hostname;
	if (st->cfg.name_max == 0 || st->cfg.name_max > 1000)
		st->cfg.name_max = 255;
	if (st->cfg.depth_max == 0)
		st->cfg.depth_max = 16;
	return 0;
}

int store_open(const struct store_config *cfg, struct store **store_r,
	       struct store_error *err)
{
	struct store *st;

	*store_r = NULL;
	if (cfg->root == NULL || cfg->root[0] == '\0' ||
	    (cfg->kind != STORE_KIND_MAILDIR && cfg->kind != STORE_KIND_MBOX))
		return store_fail(err, STORE_E_INVALID, "bad store config");
	st = calloc(1, sizeof(*st));
	if (st == NULL || store_setup(st, cfg) != 0) {
		store_close(&st);
		return store_fail_errno(err, ENOMEM, "store");
	}
	st->ops = cfg->kind == STORE_KIND_MAILDIR ? &store_maildir_ops
						  : &store_mbox_ops;
	if (st->ops->init(st, err) != 0) {
		store_close(&st);
		return -1;
	}
	*store_r = st;
	return 0;
}

void store_close(struct store **store)
{
	struct store *st = *store;

	if (st == NULL)
		return;
	free(st->root);
	free(st->mbox_inbox);
	free(st->hostname);
	free(st);
	*store = NULL;
}

bool store_uidset_contains(const struct store_uidset *set, uint32_t uid)
{
	for (size_t i = 0; i < set->count; i++)
		if (uid >= set->ranges[i].first && uid <= set->ranges[i].last)
			return true;
	return false;
}

/* Existence of canon in the store: attrs or -1, and children. */
static int lookup(struct store *st, const char *canon, bool *children_r,
		  struct store_error *err, int *attrs_r)
{
	struct store_list raw;

	if (store_list_raw(st, &raw, err) != 0)
		return -1;
	*attrs_r = store_list_lookup(&raw, canon, children_r);
	store_list_clear(&raw);
	return 0;
}

int store_create(struct store *st, const char *name, struct store_error *err)
{
	char canon[1024];
	bool children;
	int attrs;

	if (store_name_check(st, name, canon, sizeof(canon), err) != 0)
		return -1;
	if (strcmp(canon, "INBOX") == 0)
		return store_fail(err, STORE_E_EXISTS, "INBOX always exists");
	if (lookup(st, canon, &children, err, &attrs) != 0)
		return -1;
	if (attrs >= 0 && !(attrs & STORE_LIST_NOSELECT))
		return store_fail(err, STORE_E_EXISTS, "mailbox exists");
	return st->ops->create(st, canon, err);
}

int store_delete(struct store *st, const char *name, struct store_error *err)
{
	char canon[1024];
	bool children;
	int attrs;

	if (store_name_check(st, name, canon, sizeof(canon), err) != 0)
		return -1;
	if (strcmp(canon, "INBOX") == 0)
		return store_fail(err, STORE_E_INVALID,
				  "INBOX cannot be deleted");
	if (lookup(st, canon, &children, err, &attrs) != 0)
		return -1;
	if (attrs < 0 && !children)
		return store_fail(err, STORE_E_NOTFOUND, "no such mailbox");
	if ((attrs < 0 || (attrs & STORE_LIST_NOSELECT)) && children)
		return store_fail(err, STORE_E_HASCHILDREN,
				  "\\Noselect name has children");
	return st->ops->remove(st, canon, children, err);
}

static int rename_inbox(struct store *st, const char *to,
			struct store_error *err)
{
	static const struct store_uid_range all = {1, UINT32_MAX};
	const struct store_uidset set = {&all, 1};
	struct store_copy_result res = {0};
	struct store_changes ch = {0};
	struct store_mailbox *mb;
	int rc;

	if (st->ops->create(st, to, err) != 0)
		return -1;
	if (store_mailbox_open_as(st, "INBOX", false, false, &mb, err) != 0)
		return -1;
	rc = store_move(mb, &set, to, &res, &ch, err);
	store_copy_result_clear(&res);
	store_changes_clear(&ch);
	store_mailbox_close(&mb);
	return rc;
}

int store_rename(struct store *st, const char *from, const char *to,
		 struct store_error *err)
{
	char cf[1024], ct[1024];
	bool children, to_children;
	int attrs, to_attrs;
	size_t lf;

	if (store_name_check(st, from, cf, sizeof(cf), err) != 0 ||
	    store_name_check(st, to, ct, sizeof(ct), err) != 0)
		return -1;
	lf = strlen(cf);
	if (strncmp(ct, cf, lf) == 0 && ct[lf] == '/')
		return store_fail(err, STORE_E_BADNAME,
				  "cannot rename a mailbox into itself");
	if (lookup(st, cf, &children, err, &attrs) != 0 ||
	    lookup(st, ct, &to_children, err, &to_attrs) != 0)
		return -1;
	if (attrs < 0 && !children)
		return store_fail(err, STORE_E_NOTFOUND, "no such mailbox");
	if (to_attrs >= 0 || to_children || strcmp(ct, "INBOX") == 0)
		return store_fail(err, STORE_E_EXISTS, "%s exists", to);
	if (strcmp(cf, "INBOX") == 0)
		return rename_inbox(st, ct, err);
	return st->ops->rename(st, cf, ct, err);
}

int store_subscribe(struct store *st, const char *name, bool subscribe,
		    struct store_error *err)
{
	char canon[1024];

	if (store_name_check(st, name, canon, sizeof(canon), err) != 0)
		return -1;
	return store_subs_set(st, canon, subscribe, err);
}

int store_usage(struct store *st, uint64_t *bytes_r, uint64_t *messages_r,
		struct store_error *err)
{
	struct store_list raw;
	int rc = 0;

	*bytes_r = 0;
	*messages_r = 0;
	if (store_list_raw(st, &raw, err) != 0)
		return -1;
	for (size_t i = 0; i < raw.count && rc == 0; i++) {
		struct store_status s;

		if (raw.entries[i].attrs & STORE_LIST_NOSELECT)
			continue;
		rc = store_status(st, raw.entries[i].name, &s, err);
		if (rc != 0 && err != NULL && err->code == STORE_E_NOTFOUND)
			rc = 0; /* deleted meanwhile */
		else if (rc == 0) {
			*bytes_r += s.size;
			*messages_r += s.messages;
		}
	}
	store_list_clear(&raw);
	return rc;
}
