/*
 * maildir_folders.c - Maildir++ folders: the store root is INBOX, every
 * other mailbox a directory ".A.B" beside cur/ new/ tmp/ (names encoded
 * as maildir_names.h says) with a "maildirfolder" marker file.
 *
 * A folder without cur/ is \Noselect (left by a crash during CREATE, or
 * made by another program). DELETE first renames the folder to a name no
 * mailbox can have ("..quill-trash-<hex>"), fsyncs the root, then removes
 * it: a crash leaves either the whole mailbox or none of it (leftovers
 * are removed when the store is next opened). In Maildir++ children are
 * separate directories, so deleting "A" leaves "A/B" alone and "A" shows
 * as an implied \Noselect parent. RENAME renames the folder and each
 * child with RENAME_NOREPLACE; each mailbox moves whole, with its UID
 * list, so its UIDVALIDITY stays.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maildir.h"
#include "store/store_fs.h"
#include "store/store_internal.h"
#include "store/store_util.h"

int md_folder_path(const struct store *st, const char *name, char *out,
		   size_t size)
{
	char enc[PATH_MAX];

	if (strcmp(name, "INBOX") == 0)
		return store_path(out, size, "%s", st->root);
	if (maildir_folder_encode(name, enc, sizeof(enc)) != 0 ||
	    strlen(enc) > MAILDIR_NAME_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return store_path(out, size, "%s/%s", st->root, enc);
}

int md_name_ok(const struct store *st, const char *canon,
	       struct store_error *err)
{
	char path[PATH_MAX];

	if (md_folder_path(st, canon, path, sizeof(path) - 64) != 0)
		return store_fail(err, STORE_E_BADNAME,
				  "mailbox name too long for Maildir");
	return 0;
}

/* A new folder's UID list and index: fresh UIDVALIDITY, every future
 * message recent. Existing ones are kept. */
static int init_state(struct store *st, const char *dir,
		      struct store_error *err)
{
	struct maildir_uidlist ul;
	struct store_index idx = {0};
	char path[PATH_MAX], *data;
	size_t len;
	int rc;

	if (store_path(path, sizeof(path), "%s/dovecot-uidlist", dir) != 0)
		return store_fail_errno(err, errno, "%s", dir);
	if (access(path, F_OK) == 0)
		return 0;
	if (store_uidvalidity_next(st, &idx.uidvalidity, err) != 0)
		return -1;
	maildir_uidlist_init(&ul, idx.uidvalidity, 1);
	rc = maildir_uidlist_format(&ul, &data, &len);
	maildir_uidlist_clear(&ul);
	if (rc != 0)
		return store_fail_errno(err, errno, "uidlist");
	idx.next_uid = idx.recent_first = 1;
	rc = store_file_replace(path, data, len, st->cfg.fsync);
	free(data);
	if (rc != 0)
		return store_fail_errno(err, errno, "%s", path);
	if (store_path(path, sizeof(path), "%s/quill-index", dir) != 0)
		return store_fail_errno(err, errno, "%s", dir);
	return store_index_write(path, &idx, st->cfg.fsync, err);
}

int md_make_dirs(struct store *st, const char *dir, bool folder,
		 struct store_error *err)
{
	static const char *const subs[] = {"tmp", "new", "cur"};
	char path[PATH_MAX];
	int fd;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return store_fail_errno(err, errno, "%s", dir);
	for (size_t i = 0; i < 3; i++) {
		if (store_path(path, sizeof(path), "%s/%s", dir, subs[i]) ||
		    (mkdir(path, 0700) != 0 && errno != EEXIST))
			return store_fail_errno(err, errno, "%s", dir);
	}
	if (folder) {
		if (store_path(path, sizeof(path), "%s/maildirfolder", dir))
			return store_fail_errno(err, errno, "%s", dir);
		fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0 || store_close_fd(&fd) != 0)
			return store_fail_errno(err, errno, "%s", path);
	}
	if (init_state(st, dir, err) != 0)
		return -1;
	if (st->cfg.fsync &&
	    (store_fsync_dir(dir) != 0 || store_fsync_parent(dir) != 0))
		return store_fail_errno(err, errno, "fsync %s", dir);
	return 0;
}

/* Remove what a crash during DELETE left. */
static void remove_trash(const char *root)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(root);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "..quill-trash-", 14) == 0 &&
		    store_path(path, sizeof(path), "%s/%s", root, de->d_name) ==
			    0)
			store_rmtree(path);
	}
	closedir(d);
}

int md_init(struct store *st, struct store_error *err)
{
	if (store_path(st->subs_path, sizeof(st->subs_path),
		       "%s/quill-subscriptions", st->root) != 0 ||
	    store_path(st->uidv_path, sizeof(st->uidv_path),
		       "%s/quill-uidvalidity", st->root) != 0)
		return store_fail(err, STORE_E_BADNAME, "root path too long");
	if (store_mkdir_p(st->root, 0700) != 0)
		return store_fail_errno(err, errno, "%s", st->root);
	remove_trash(st->root);
	return md_make_dirs(st, st->root, false, err);
}

static bool is_dir(const char *root, const char *name, const char *sub)
{
	char path[PATH_MAX];
	struct stat st;

	if (store_path(path, sizeof(path), "%s/%s%s", root, name, sub) != 0)
		return false;
	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int md_list(struct store *st, struct store_list *list, struct store_error *err)
{
	struct dirent *de;
	DIR *d = opendir(st->root);
	int rc = 0;

	if (d == NULL)
		return store_fail_errno(err, errno, "%s", st->root);
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char name[1024], canon[1024];

		if (de->d_name[0] != '.' ||
		    maildir_folder_decode(de->d_name, name, sizeof(name)) ||
		    store_name_check(st, name, canon, sizeof(canon), NULL) ||
		    strcmp(name, canon) != 0 || strcmp(canon, "INBOX") == 0 ||
		    !is_dir(st->root, de->d_name, ""))
			continue;
		if (store_list_add(list, canon,
				   is_dir(st->root, de->d_name, "/cur")
					   ? 0
					   : STORE_LIST_NOSELECT) != 0)
			rc = store_fail_errno(err, errno, "list");
	}
	closedir(d);
	if (rc == 0 && store_list_add(list, "INBOX", 0) != 0)
		rc = store_fail_errno(err, errno, "list");
	return rc;
}

int md_create(struct store *st, const char *name, struct store_error *err)
{
	char path[PATH_MAX];

	if (md_folder_path(st, name, path, sizeof(path)) != 0)
		return store_fail_errno(err, errno, "%s", name);
	return md_make_dirs(st, path, true, err);
}

int md_remove(struct store *st, const char *name, bool has_children,
	      struct store_error *err)
{
	char path[PATH_MAX], trash[PATH_MAX];
	uint64_t r;

	(void)has_children; /* children are other directories */
	store_random(&r, sizeof(r));
	if (md_folder_path(st, name, path, sizeof(path)) != 0 ||
	    store_path(trash, sizeof(trash), "%s/..quill-trash-%016llx",
		       st->root, (unsigned long long)r) != 0)
		return store_fail_errno(err, errno, "%s", name);
	if (rename(path, trash) != 0)
		return store_fail_errno(err, errno, "delete %s", name);
	if (st->cfg.fsync && store_fsync_dir(st->root) != 0)
		return store_fail_errno(err, errno, "fsync %s", st->root);
	if (store_rmtree(trash) != 0)
		return store_fail_errno(err, errno, "delete %s", name);
	return 0;
}

static int rename_one(struct store *st, const char *dir, const char *name,
		      const char *from, const char *to, struct store_error *err)
{
	size_t lf = strlen(from);
	char joined[1024], newname[1024], src[PATH_MAX], dst[PATH_MAX];

	if (strcmp(name, from) != 0 &&
	    (strncmp(name, from, lf) != 0 || name[lf] != '/'))
		return 0;
	if (store_path(joined, sizeof(joined), "%s%s", to, name + lf) ||
	    store_name_check(st, joined, newname, sizeof(newname), err) ||
	    store_path(src, sizeof(src), "%s/%s", st->root, dir) != 0 ||
	    md_folder_path(st, newname, dst, sizeof(dst)) != 0)
		return store_fail(err, STORE_E_BADNAME, "new name too long");
	if (renameat2(AT_FDCWD, src, AT_FDCWD, dst, RENAME_NOREPLACE) != 0)
		return store_fail_errno(err, errno, "rename %s", name);
	return 0;
}

int md_rename(struct store *st, const char *from, const char *to,
	      struct store_error *err)
{
	struct store_list raw = {0};
	int rc = 0;

	if (md_list(st, &raw, err) != 0)
		return -1;
	for (size_t i = 0; i < raw.count && rc == 0; i++) {
		char enc[PATH_MAX];

		if (strcmp(raw.entries[i].name, "INBOX") == 0 ||
		    maildir_folder_encode(raw.entries[i].name, enc,
					  sizeof(enc)) != 0)
			continue;
		rc = rename_one(st, enc, raw.entries[i].name, from, to, err);
	}
	store_list_clear(&raw);
	if (rc == 0 && st->cfg.fsync && store_fsync_dir(st->root) != 0)
		return store_fail_errno(err, errno, "fsync %s", st->root);
	return rc;
}
