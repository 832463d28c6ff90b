/*
 * queue_dir.c - the queue directory as a whole (see queue_file.h): the
 * ids in new/, removing a message that is done with, setting a torn one
 * aside, tidying state files left by a crash, and boot-id, which says
 * whether the records written so far can be trusted.
 */
#include "queue_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool_internal.h"

#define QUEUE_PATH_MAX 2048

static int fail(char *err, size_t errlen, const char *what, const char *path)
{
	snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
	return -1;
}

int queue_msg_remove(const char *queue_dir, const char *id, bool sync,
		     char *err, size_t errlen)
{
	char dir[QUEUE_PATH_MAX], path[QUEUE_PATH_MAX + SPOOL_ID_MAX + 8];
	snprintf(dir, sizeof(dir), "%s/new", queue_dir);
	snprintf(path, sizeof(path), "%s/%s", dir, id);
	if (unlink(path) != 0 && errno != ENOENT)
		return fail(err, errlen, "cannot remove", path);
	if (sync && spool_fsync_dir(dir) != 0) /* see queue_file.h */
		return fail(err, errlen, "cannot fsync", dir);
	snprintf(path, sizeof(path), "%s/state/%s", queue_dir, id);
	if (unlink(path) != 0 && errno != ENOENT)
		return fail(err, errlen, "cannot remove", path);
	return 0;
}

int queue_msg_set_aside(const char *queue_dir, const char *id, char *err,
			size_t errlen)
{
	char dir[QUEUE_PATH_MAX], from[QUEUE_PATH_MAX + SPOOL_ID_MAX + 8],
		to[QUEUE_PATH_MAX + SPOOL_ID_MAX + 16];
	snprintf(dir, sizeof(dir), "%s/torn", queue_dir);
	if (mkdir(dir, 0750) != 0 && errno != EEXIST)
		return fail(err, errlen, "cannot create", dir);
	snprintf(from, sizeof(from), "%s/new/%s", queue_dir, id);
	snprintf(to, sizeof(to), "%s/%s", dir, id);
	if (rename(from, to) != 0)
		return fail(err, errlen, "cannot move", from);
	snprintf(from, sizeof(from), "%s/state/%s", queue_dir, id);
	snprintf(to, sizeof(to), "%s/%s.state", dir, id);
	if (rename(from, to) != 0 && errno != ENOENT)
		return fail(err, errlen, "cannot move", from);
	snprintf(from, sizeof(from), "%s/new", queue_dir);
	if (spool_fsync_dir(dir) != 0 || spool_fsync_dir(from) != 0)
		return fail(err, errlen, "cannot fsync", dir);
	return 0;
}

static bool is_id(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n >= SPOOL_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= '0' && name[i] <= '9') ||
		      (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= 'a' && name[i] <= 'z')))
			return false;
	return true;
}

int queue_state_tidy(const char *queue_dir)
{
	char dir[QUEUE_PATH_MAX], path[QUEUE_PATH_MAX * 2];
	int removed = 0;
	snprintf(dir, sizeof(dir), "%s/state", queue_dir);
	DIR *d = opendir(dir);
	if (d == NULL)
		return 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!is_id(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/new/%s", queue_dir,
			 de->d_name);
		if (access(path, F_OK) == 0 || errno != ENOENT)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int queue_list_ids(const char *queue_dir, char ***ids_r, size_t *n_r, char *err,
		   size_t errlen)
{
	char dir[QUEUE_PATH_MAX];
	char **ids = NULL;
	size_t n = 0, cap = 0;
	*ids_r = NULL;
	*n_r = 0;
	snprintf(dir, sizeof(dir), "%s/new", queue_dir);
	DIR *d = opendir(dir);
	if (d == NULL)
		return fail(err, errlen, "cannot open", dir);
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!is_id(de->d_name))
			continue;
		if (n == cap) {
			size_t c = cap ? cap * 2 : 64;
			char **v = realloc(ids, c * sizeof(*v));
			if (v == NULL)
				break;
			ids = v;
			cap = c;
		}
		if ((ids[n] = strdup(de->d_name)) == NULL)
			break;
		n++;
	}
	bool short_list = de != NULL;
	closedir(d);
	if (short_list) {
		queue_ids_free(ids, n);
		snprintf(err, errlen, "%s: out of memory", dir);
		return -1;
	}
	if (n > 1)
		qsort(ids, n, sizeof(*ids), cmp_str);
	*ids_r = ids;
	*n_r = n;
	return 0;
}

void queue_ids_free(char **ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

/* The running kernel's boot id, one line; -1 if there is none. */
static int boot_id(char *out, size_t n)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
	if (f == NULL)
		return -1;
	bool ok = fgets(out, (int)n, f) != NULL && strchr(out, '\n') != NULL;
	fclose(f);
	return ok && out[0] != '\n' ? 0 : -1;
}

bool queue_records_trusted(const char *queue_dir)
{
	char now[128], saved[128], path[QUEUE_PATH_MAX];
	snprintf(path, sizeof(path), "%s/boot-id", queue_dir);
	if (boot_id(now, sizeof(now)) != 0)
		return false;
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return false;
	bool same = fgets(saved, sizeof(saved), f) != NULL &&
		    strcmp(saved, now) == 0;
	fclose(f);
	return same;
}

int queue_records_trust(const char *queue_dir, char *err, size_t errlen)
{
	char id[128], tmp[QUEUE_PATH_MAX], path[QUEUE_PATH_MAX];
	if (boot_id(id, sizeof(id)) != 0) {
		snprintf(err, errlen,
			 "/proc/sys/kernel/random/boot_id: no boot id");
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s/.boot-id.tmp", queue_dir);
	snprintf(path, sizeof(path), "%s/boot-id", queue_dir);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return fail(err, errlen, "cannot create", tmp);
	if (write(fd, id, strlen(id)) != (ssize_t)strlen(id) ||
	    fsync(fd) != 0) {
		fail(err, errlen, "cannot write", tmp);
		close(fd);
		return -1;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0)
		return fail(err, errlen, "cannot rename", tmp);
	if (spool_fsync_dir(queue_dir) != 0)
		return fail(err, errlen, "cannot fsync", queue_dir);
	return 0;
}
