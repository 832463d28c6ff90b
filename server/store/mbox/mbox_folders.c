/*
 * mbox_folders.c - mailboxes of the mbox backend: "A/B" is the file
 * <root>/A/B, so a name is either a mailbox (a file: \NoInferiors) or a
 * level of the hierarchy (a directory: \Noselect), as with mutt's folder
 * directory and Dovecot's mbox layout. INBOX is <root>/inbox or the
 * configured file (e.g. /var/mail/<user>) and has no children here.
 *
 * Names are used as they are (UTF-8); a component ending in ".lock" is
 * refused because it would be another mailbox's dotlock. The store's own
 * files start with '.', which no mailbox name may (store_names.c).
 * DELETE and RENAME of a mailbox take its locks, so no delivery is half
 * way through; RENAME uses RENAME_NOREPLACE and moves the index with the
 * mailbox, keeping its UIDVALIDITY.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mbox.h"
#include "store/store_fs.h"
#include "store/store_internal.h"
#include "store/store_util.h"

#define LIST_DEPTH_MAX 32

int mbox_paths(const struct store *st, const char *name, struct mbox_box *be)
{
	const char *slash = strrchr(name, '/');
	char dir[PATH_MAX], meta[PATH_MAX];
	int rc;

	be->inbox = strcmp(name, "INBOX") == 0;
	if (be->inbox) {
		rc = store_path(be->path, PATH_MAX, "%s",
				st->mbox_inbox != NULL ? st->mbox_inbox : "");
		if (st->mbox_inbox == NULL)
			rc = store_path(be->path, PATH_MAX, "%s/inbox",
					st->root);
		rc |= store_path(meta, sizeof(meta), "%s/.inbox", st->root);
	} else {
		rc = store_path(be->path, PATH_MAX, "%s/%s", st->root, name);
		if (slash != NULL)
			rc |= store_path(dir, sizeof(dir), "%s/%.*s", st->root,
					 (int)(slash - name), name);
		else
			rc |= store_path(dir, sizeof(dir), "%s", st->root);
		rc |= store_path(meta, sizeof(meta), "%s/.%s", dir,
				 slash != NULL ? slash + 1 : name);
	}
	rc |= store_path(be->lock_path, PATH_MAX, "%s.lock", be->path);
	rc |= store_path(be->index_path, PATH_MAX, "%s.quill-index", meta);
	rc |= store_path(be->cache_path, PATH_MAX, "%s.quill-cache", meta);
	rc |= store_path(be->journal_path, PATH_MAX, "%s.quill-journal", meta);
	rc |= store_path(be->expunge_path, PATH_MAX, "%s.quill-expunge", meta);
	return rc != 0 ? -1 : 0;
}

int mbox_name_ok(const struct store *st, const char *canon,
		 struct store_error *err)
{
	if (strncmp(canon, "INBOX/", 6) == 0)
		return store_fail(err, STORE_E_NOINFERIORS,
				  "INBOX cannot have children in mbox");
	for (const char *p = canon; *p != '\0';) {
		const char *end = strchr(p, '/');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

		if ((len >= 5 && memcmp(p + len - 5, ".lock", 5) == 0) ||
		    len > 240) /* ".<name>.quill-journal" must fit */
			return store_fail(err, STORE_E_BADNAME,
					  "name not possible in mbox");
		p += len + (end != NULL);
	}
	/* "<root>/<name>" and "<root>/<dir>/.<last>.quill-journal" fit */
	if (strlen(st->root) + strlen(canon) + 32 >= PATH_MAX)
		return store_fail(err, STORE_E_BADNAME, "name too long");
	return 0;
}

int mbox_index_init(struct store *st, struct mbox_box *be,
		    struct store_error *err)
{
	struct store_index idx = {0};
	struct stat sb;

	if (stat(be->path, &sb) != 0)
		return store_fail_errno(err, errno, "%s", be->path);
	if (store_uidvalidity_next(st, &idx.uidvalidity, err) != 0)
		return -1;
	idx.next_uid = idx.recent_first = 1;
	idx.src_ino = (uint64_t)sb.st_ino;
	idx.src_size = (uint64_t)sb.st_size;
	idx.src_mtime_ns = (uint64_t)sb.st_mtim.tv_sec * 1000000000u +
			   (uint64_t)sb.st_mtim.tv_nsec;
	if (sb.st_size != 0)
		return 0; /* mail already there: the first sync indexes it */
	return store_index_write(be->index_path, &idx, st->cfg.fsync, err);
}

int mbox_init(struct store *st, struct store_error *err)
{
	struct mbox_box be;
	int fd;

	if (store_path(st->subs_path, sizeof(st->subs_path),
		       "%s/.quill-subscriptions", st->root) != 0 ||
	    store_path(st->uidv_path, sizeof(st->uidv_path),
		       "%s/.quill-uidvalidity", st->root) != 0 ||
	    mbox_paths(st, "INBOX", &be) != 0)
		return store_fail(err, STORE_E_BADNAME, "root path too long");
	if (store_mkdir_p(st->root, 0700) != 0)
		return store_fail_errno(err, errno, "%s", st->root);
	fd = open(be.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno != EEXIST)
		return store_fail_errno(err, errno, "%s", be.path);
	if (fd >= 0) {
		close(fd);
		if (st->cfg.fsync && store_fsync_parent(be.path) != 0)
			return store_fail_errno(err, errno, "%s", be.path);
	}
	if (access(be.index_path, F_OK) != 0)
		return mbox_index_init(st, &be, err);
	return 0;
}

static bool skip_entry(const char *name)
{
	size_t len = strlen(name);

	return name[0] == '.' ||
	       (len >= 5 && strcmp(name + len - 5, ".lock") == 0);
}

/* One level of the folder tree; its buffers live on the heap, as the
 * recursion goes as deep as the hierarchy. */
struct list_frame {
	char path[PATH_MAX], full[PATH_MAX];
	char name[1024], canon[1024];
};

static int list_entry(struct store *st, const char *rel, int depth,
		      struct list_frame *f, const char *entry,
		      struct store_list *list, struct store_error *err);

static int list_dir(struct store *st, const char *rel, int depth,
		    struct store_list *list, struct store_error *err)
{
	struct list_frame *f = malloc(sizeof(*f));
	struct dirent *de;
	DIR *d = NULL;
	int rc = 0;

	if (f == NULL)
		return store_fail_errno(err, ENOMEM, "list");
	if (store_path(f->path, sizeof(f->path), "%s%s%s", st->root,
		       rel[0] != '\0' ? "/" : "", rel) == 0)
		d = opendir(f->path);
	while (d != NULL && rc == 0 && (de = readdir(d)) != NULL)
		if (!skip_entry(de->d_name))
			rc = list_entry(st, rel, depth, f, de->d_name, list,
					err);
	if (d != NULL)
		closedir(d);
	free(f);
	return rc; /* a directory that vanished is simply not listed */
}

static int list_entry(struct store *st, const char *rel, int depth,
		      struct list_frame *f, const char *entry,
		      struct store_list *list, struct store_error *err)
{
	struct stat sb;

	if (store_path(f->name, sizeof(f->name), "%s%s%s", rel,
		       rel[0] != '\0' ? "/" : "", entry) != 0 ||
	    store_name_check(st, f->name, f->canon, sizeof(f->canon), NULL) ||
	    strcmp(f->canon, f->name) != 0 || strcmp(f->canon, "INBOX") == 0 ||
	    store_path(f->full, sizeof(f->full), "%s/%s", f->path, entry) ||
	    lstat(f->full, &sb) != 0)
		return 0;
	if (S_ISREG(sb.st_mode)) {
		if (store_list_add(list, f->canon, STORE_LIST_NOINFERIORS))
			return store_fail_errno(err, ENOMEM, "list");
	} else if (S_ISDIR(sb.st_mode)) {
		if (store_list_add(list, f->canon, STORE_LIST_NOSELECT))
			return store_fail_errno(err, ENOMEM, "list");
		if (depth < LIST_DEPTH_MAX)
			return list_dir(st, f->name, depth + 1, list, err);
	}
	return 0;
}

int mbox_list(struct store *st, struct store_list *list,
	      struct store_error *err)
{
	if (list_dir(st, "", 0, list, err) != 0)
		return -1;
	if (store_list_add(list, "INBOX", STORE_LIST_NOINFERIORS) != 0)
		return store_fail_errno(err, errno, "list");
	return 0;
}

/* mkdir -p of the directory holding path. */
static int make_parent(const char *path, struct store_error *err)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (slash == NULL || (size_t)(slash - path) >= sizeof(dir))
		return 0;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (store_mkdir_p(dir, 0700) != 0)
		return errno == ENOTDIR || errno == EEXIST
			       ? store_fail(err, STORE_E_NOINFERIORS,
					    "a parent is a mailbox")
			       : store_fail_errno(err, errno, "%s", dir);
	return 0;
}

static void unlink_meta(const struct mbox_box *be)
{
	unlink(be->index_path);
	unlink(be->cache_path);
	unlink(be->journal_path);
	unlink(be->expunge_path);
}

int mbox_create(struct store *st, const char *name, struct store_error *err)
{
	struct mbox_box be;
	int fd;

	if (mbox_paths(st, name, &be) != 0)
		return store_fail(err, STORE_E_BADNAME, "name too long");
	if (make_parent(be.path, err) != 0)
		return -1;
	fd = open(be.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == ENOTDIR
			       ? store_fail(err, STORE_E_NOINFERIORS,
					    "a parent is a mailbox")
			       : store_fail_errno(err, errno, "%s", name);
	if (store_close_fd(&fd) != 0 ||
	    (st->cfg.fsync && store_fsync_parent(be.path) != 0))
		return store_fail_errno(err, errno, "%s", be.path);
	unlink_meta(&be);
	return mbox_index_init(st, &be, err);
}

int mbox_remove(struct store *st, const char *name, bool has_children,
		struct store_error *err)
{
	struct store_lock_opts o;
	struct store_dotlock dl;
	struct mbox_box be;
	struct stat sb;
	int rc = 0;

	(void)has_children;
	if (mbox_paths(st, name, &be) != 0 || lstat(be.path, &sb) != 0)
		return store_fail(err, STORE_E_NOTFOUND, "no mailbox %s", name);
	if (S_ISDIR(sb.st_mode)) {
		if (rmdir(be.path) != 0)
			return errno == ENOTEMPTY
				       ? store_fail(err, STORE_E_HASCHILDREN,
						    "%s has children", name)
				       : store_fail_errno(err, errno, "%s",
							  name);
		return 0;
	}
	store_lock_opts_init(&o, st);
	if (store_dotlock_take(&dl, be.lock_path, &o, err) != 0)
		return -1;
	if (unlink(be.path) != 0)
		rc = store_fail_errno(err, errno, "delete %s", name);
	else
		unlink_meta(&be);
	store_dotlock_release(&dl);
	if (rc == 0 && st->cfg.fsync && store_fsync_parent(be.path) != 0)
		rc = store_fail_errno(err, errno, "fsync %s", be.path);
	return rc;
}

static void move_meta(const char *from, const char *to)
{
	if (rename(from, to) != 0)
		unlink(from);
}

int mbox_rename(struct store *st, const char *from, const char *to,
		struct store_error *err)
{
	struct mbox_box a, b;
	struct store_lock_opts o;
	struct store_dotlock dl;
	struct stat sb;
	int rc = 0;

	if (mbox_paths(st, from, &a) != 0 || mbox_paths(st, to, &b) != 0 ||
	    lstat(a.path, &sb) != 0)
		return store_fail(err, STORE_E_NOTFOUND, "no mailbox %s", from);
	if (make_parent(b.path, err) != 0)
		return -1;
	store_lock_opts_init(&o, st);
	if (S_ISREG(sb.st_mode) &&
	    store_dotlock_take(&dl, a.lock_path, &o, err) != 0)
		return -1;
	if (renameat2(AT_FDCWD, a.path, AT_FDCWD, b.path, RENAME_NOREPLACE))
		rc = store_fail_errno(err, errno, "rename %s", from);
	else if (S_ISREG(sb.st_mode)) {
		unlink_meta(&b);
		move_meta(a.index_path, b.index_path);
		move_meta(a.cache_path, b.cache_path);
	}
	if (S_ISREG(sb.st_mode))
		store_dotlock_release(&dl);
	if (rc == 0 && st->cfg.fsync &&
	    (store_fsync_parent(a.path) != 0 || store_fsync_parent(b.path)))
		rc = store_fail_errno(err, errno, "fsync %s", b.path);
	return rc;
}
