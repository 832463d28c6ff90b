/*
 * scenario_find.c - finding scenario files under the paths given on the
 * command line (files as they are; directories searched recursively for
 * *.yaml, skipping targets/ and names starting with '.'), and selecting
 * scenarios by id glob, tag and requirement id prefix.
 */
#include "scenario_find.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FIND_DEPTH_MAX 32
#define FIND_FILES_MAX 100000

static int add(struct scenario_files *f, const char *path)
{
	if (f->n == FIND_FILES_MAX) {
		errno = E2BIG;
		return -1;
	}
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		char **v = realloc(f->v, cap * sizeof(*v));
		if (v == NULL)
			return -1;
		f->v = v;
		f->cap = cap;
	}
	if ((f->v[f->n] = strdup(path)) == NULL)
		return -1;
	f->n++;
	return 0;
}

static bool is_yaml(const char *name)
{
	size_t n = strlen(name);
	return n > 5 && strcmp(name + n - 5, ".yaml") == 0;
}

static int walk(struct scenario_files *f, const char *dir, unsigned depth,
		char *err, size_t errlen)
{
	DIR *d;
	struct dirent *e;
	int rc = 0;

	if (depth > FIND_DEPTH_MAX)
		return 0;
	if ((d = opendir(dir)) == NULL) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	while (rc == 0 && (e = readdir(d)) != NULL) {
		char *path;
		struct stat st;
		if (e->d_name[0] == '.' || strcmp(e->d_name, "targets") == 0)
			continue;
		if (asprintf(&path, "%s/%s", dir, e->d_name) < 0) {
			rc = -1;
			break;
		}
		if (stat(path, &st) != 0) {
			free(path);
			continue;
		}
		if (S_ISDIR(st.st_mode))
			rc = walk(f, path, depth + 1, err, errlen);
		else if (S_ISREG(st.st_mode) && is_yaml(e->d_name) &&
			 add(f, path) != 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			rc = -1;
		}
		free(path);
	}
	closedir(d);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int scenario_find(char *const *paths, size_t n, struct scenario_files *out,
		  char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		size_t first = out->n;
		char path[4096];
		size_t len;

		snprintf(path, sizeof(path), "%s", paths[i]);
		len = strlen(path);
		while (len > 1 && path[len - 1] == '/')
			path[--len] = '\0';
		if (stat(path, &st) != 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (add(out, path) != 0)
				return -1;
			continue;
		}
		if (walk(out, path, 0, err, errlen) != 0)
			return -1;
		qsort(out->v + first, out->n - first, sizeof(char *), cmp_str);
	}
	return 0;
}

void scenario_files_free(struct scenario_files *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i]);
	free(f->v);
	memset(f, 0, sizeof(*f));
}

static bool any(char *const *list, size_t n, const struct scenario *s,
		int (*test)(const char *pat, const struct scenario *s))
{
	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (test(list[i], s))
			return true;
	return false;
}

static int test_id(const char *pat, const struct scenario *s)
{
	return fnmatch(pat, s->id, 0) == 0;
}

static int test_tag(const char *tag, const struct scenario *s)
{
	return scenario_has_tag(s, tag);
}

static int test_rfc(const char *prefix, const struct scenario *s)
{
	for (size_t i = 0; i < s->n_rfc; i++)
		if (strncmp(s->rfc[i], prefix, strlen(prefix)) == 0)
			return 1;
	return 0;
}

bool scenario_selected(const struct scenario *s,
		       const struct scenario_filter *f)
{
	return any(f->ids, f->n_ids, s, test_id) &&
	       any(f->tags, f->n_tags, s, test_tag) &&
	       any(f->rfcs, f->n_rfcs, s, test_rfc);
}
