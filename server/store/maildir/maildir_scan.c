/*
 * maildir_scan.c - reading a Maildir folder: the message files of new/
 * and cur/ (maildir(5): names starting with '.' are skipped, tmp/ is not
 * mail, and files left in tmp/ for 36 hours are removed), the
 * dovecot-keywords table ("<letter index> <name>" lines, Dovecot's
 * layout), and the folder's uidlist dotlock.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "maildir.h"
#include "store/store_fs.h"
#include "store/store_util.h"

void md_files_clear(struct md_files *files)
{
	for (size_t i = 0; i < files->n; i++)
		free(files->v[i].name);
	free(files->v);
	memset(files, 0, sizeof(*files));
}

static int add_file(struct md_files *files, const char *sub, const char *name)
{
	struct md_file *f;
	size_t len = strlen(name);
	char *full;

	if (files->n == files->cap) {
		size_t cap = files->cap == 0 ? 64 : files->cap * 2;

		f = realloc(files->v, cap * sizeof(*f));
		if (f == NULL)
			return -1;
		files->v = f;
		files->cap = cap;
	}
	full = malloc(len + 5);
	if (full == NULL)
		return -1;
	memcpy(full, sub, 3);
	full[3] = '/';
	memcpy(full + 4, name, len + 1);
	f = &files->v[files->n];
	memset(f, 0, sizeof(*f));
	f->name = full;
	if (maildir_name_parse(full + 4, len, &f->mn) != 0) {
		free(full);
		return 0; /* not a message file */
	}
	files->n++;
	return 0;
}

static int scan_sub(const char *dir, const char *sub, struct md_files *files,
		    struct store_error *err)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (store_path(path, sizeof(path), "%s/%s", dir, sub) != 0)
		return store_fail_errno(err, errno, "%s", dir);
	d = opendir(path);
	if (d == NULL) {
		if (errno == ENOENT)
			return store_fail(err, STORE_E_NOTFOUND,
					  "mailbox vanished");
		return store_fail_errno(err, errno, "%s", path);
	}
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (add_file(files, sub, de->d_name) != 0) {
			closedir(d);
			return store_fail_errno(err, errno, "scan");
		}
		errno = 0;
	}
	if (errno != 0) {
		int saved = errno;

		closedir(d);
		return store_fail_errno(err, saved, "%s", path);
	}
	closedir(d);
	return 0;
}

int md_scan(const char *dir, struct md_files *files, struct store_error *err)
{
	/* new/ first: a file moving new/ -> cur/ meanwhile is then seen
	 * twice (and deduplicated), never missed. */
	if (scan_sub(dir, "new", files, err) != 0 ||
	    scan_sub(dir, "cur", files, err) != 0) {
		md_files_clear(files);
		return -1;
	}
	return 0;
}

void md_clean_tmp(const char *dir)
{
	char path[PATH_MAX], file[PATH_MAX];
	time_t old = time(NULL) - 36 * 3600;
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (store_path(path, sizeof(path), "%s/tmp", dir) != 0 ||
	    (d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' ||
		    store_path(file, sizeof(file), "%s/%s", path, de->d_name) !=
			    0)
			continue;
		if (lstat(file, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_atime < old && st.st_mtime < old)
			unlink(file);
	}
	closedir(d);
}

char *md_find_base(const char *dir, const char *base, size_t len)
{
	struct md_files files = {0};
	char *found = NULL;

	if (md_scan(dir, &files, NULL) != 0)
		return NULL;
	for (size_t i = 0; i < files.n && found == NULL; i++) {
		const struct maildir_name *mn = &files.v[i].mn;

		if (mn->base_len == len && memcmp(mn->base, base, len) == 0)
			found = strdup(files.v[i].name);
	}
	md_files_clear(&files);
	return found;
}

/* Parse dovecot-keywords; entries must be 0, 1, 2, ... in order (a gap
 * ends the table: later letters then have no name and are ignored). */
static void keywords_parse(struct md_box *be, char *data)
{
	char *save = NULL;

	for (char *line = strtok_r(data, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char *end, *name;
		long idx;

		errno = 0;
		idx = strtol(line, &end, 10);
		if (errno != 0 || end == line || *end != ' ' ||
		    idx != (long)be->n_kw || idx >= MAILDIR_KEYWORDS_MAX)
			break;
		name = end + 1;
		name[strcspn(name, "\r")] = '\0';
		if (!store_keyword_valid(name) ||
		    store_keywords_find(be->kw, be->n_kw, name) >= 0 ||
		    store_keywords_add(&be->kw, &be->n_kw, name) != 0)
			break;
	}
}

int md_keywords_load(struct md_box *be, struct store_error *err)
{
	char *data;
	size_t len;

	store_keywords_free(&be->kw, &be->n_kw);
	if (store_read_file(be->keywords_path, 64 * 1024, &data, &len) != 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == E2BIG)
			return 0; /* not ours to fix: no keywords */
		return store_fail_errno(err, errno, "%s", be->keywords_path);
	}
	keywords_parse(be, data);
	free(data);
	return 0;
}

static int keywords_write(struct store_mailbox *mb, struct store_error *err)
{
	struct md_box *be = mb->be;
	char data[MAILDIR_KEYWORDS_MAX * (STORE_KEYWORD_LEN_MAX + 8)];
	size_t len = 0;

	for (size_t i = 0; i < be->n_kw; i++)
		len += (size_t)snprintf(data + len, sizeof(data) - len,
					"%zu %s\n", i, be->kw[i]);
	if (store_file_replace(be->keywords_path, data, len,
			       mb->st->cfg.fsync) != 0)
		return store_fail_errno(err, errno, "%s", be->keywords_path);
	return 0;
}

static int intern_locked(struct store_mailbox *mb, const char *const *names,
			 size_t n, unsigned *idx_r, struct store_error *err)
{
	struct md_box *be = mb->be;
	bool changed = false;

	if (md_keywords_load(be, err) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		long at = store_keywords_find(be->kw, be->n_kw, names[i]);

		if (at < 0) {
			if (be->n_kw >= MAILDIR_KEYWORDS_MAX)
				return store_fail(err, STORE_E_LIMIT,
						  "too many keywords");
			if (store_keywords_add(&be->kw, &be->n_kw, names[i]))
				return store_fail_errno(err, errno, "keywords");
			at = (long)be->n_kw - 1;
			changed = true;
		}
		idx_r[i] = (unsigned)at;
	}
	if (changed && keywords_write(mb, err) != 0)
		return -1;
	if (be->n_kw > mb->n_keywords &&
	    store_keywords_copy(&mb->keywords, &mb->n_keywords, be->kw,
				be->n_kw) != 0)
		return store_fail_errno(err, errno, "keywords");
	return 0;
}

int md_keywords_intern(struct store_mailbox *mb, const char *const *names,
		       size_t n, unsigned *idx_r, struct store_error *err)
{
	struct md_box *be = mb->be;
	bool all_known = true;
	int rc;

	if (md_keywords_load(be, err) != 0)
		return -1;
	for (size_t i = 0; i < n && all_known; i++) {
		long at = store_keywords_find(be->kw, be->n_kw, names[i]);

		all_known = at >= 0;
		idx_r[i] = (unsigned)at;
	}
	if (all_known)
		return intern_locked(mb, names, 0, idx_r, err);
	if (md_lock(mb, err) != 0)
		return -1;
	rc = intern_locked(mb, names, n, idx_r, err);
	md_unlock(mb);
	return rc;
}

int md_lock(struct store_mailbox *mb, struct store_error *err)
{
	struct md_box *be = mb->be;
	struct store_lock_opts o;

	store_lock_opts_init(&o, mb->st);
	return store_dotlock_take(&be->lock, be->lock_path, &o, err);
}

void md_unlock(struct store_mailbox *mb)
{
	struct md_box *be = mb->be;

	store_dotlock_release(&be->lock);
}
