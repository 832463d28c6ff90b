/*
 * store_fs.c - file system helpers (see store_fs.h). "Durable" follows
 * maildir(5)'s NFS-writing rule: check every write, fsync, check close;
 * and a new or renamed name is durable only once its directory is
 * fsync'd.
 */
#include "store_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_util.h"

int store_path(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size) {
		if (size > 0)
			out[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int store_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int store_pwrite_all(int fd, const void *data, size_t len, off_t off)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t store_pread_full(int fd, void *buf, size_t len, off_t off)
{
	char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, p + got, len - got, off + (off_t)got);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int store_close_fd(int *fd)
{
	int rc;

	if (*fd < 0)
		return 0;
	rc = close(*fd);
	*fd = -1;
	if (rc != 0 && errno == EINTR)
		rc = 0; /* Linux closed it anyway; the fsync before counts */
	return rc;
}

int store_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc, saved;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int store_fsync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return store_fsync_dir(".");
	if (slash == path)
		return store_fsync_dir("/");
	if ((size_t)(slash - path) >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	return store_fsync_dir(dir);
}

int store_file_replace(const char *path, const void *data, size_t len,
		       bool dosync)
{
	char tmp[PATH_MAX];
	uint32_t r;
	int fd, saved;

	store_random(&r, sizeof(r));
	if (store_path(tmp, sizeof(tmp), "%s.tmp.%ld.%08x", path,
		       (long)getpid(), (unsigned)r) != 0)
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (store_write_all(fd, data, len) != 0 || (dosync && fsync(fd) != 0)) {
		saved = errno;
		close(fd);
		goto fail;
	}
	if (store_close_fd(&fd) != 0 || rename(tmp, path) != 0) {
		saved = errno;
		goto fail;
	}
	if (dosync && store_fsync_parent(path) != 0)
		return -1;
	return 0;
fail:
	unlink(tmp);
	errno = saved;
	return -1;
}

int store_read_fd(int fd, size_t max, char **data_r, size_t *len_r)
{
	size_t cap = 4096, len = 0;
	char *data = malloc(cap + 1);

	if (data == NULL)
		return -1;
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *p;

			if (cap > max) {
				free(data);
				errno = E2BIG;
				return -1;
			}
			p = realloc(data, cap * 2 + 1);
			if (p == NULL) {
				free(data);
				return -1;
			}
			data = p;
			cap *= 2;
		}
		n = read(fd, data + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;

			free(data);
			errno = saved;
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max) {
		free(data);
		errno = E2BIG;
		return -1;
	}
	data[len] = '\0';
	*data_r = data;
	*len_r = len;
	return 0;
}

int store_read_file(const char *path, size_t max, char **data_r, size_t *len_r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc, saved;

	if (fd < 0)
		return -1;
	rc = store_read_fd(fd, max, data_r, len_r);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int store_mkdir_p(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(tmp)) {
		errno = len == 0 ? ENOENT : ENAMETOOLONG;
		return -1;
	}
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, mode) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

int store_rmtree(const char *path)
{
	return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
