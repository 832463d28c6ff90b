/*
 * store_fs.h - file system helpers with the store's durability rules:
 * complete writes, checked close, fsync of files and of the directory
 * that names them, and atomic replacement (temp file + rename).
 *
 * Every function returns 0 (or a count) on success and -1 with errno set.
 */
#ifndef QUILL_STORE_FS_H
#define QUILL_STORE_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* snprintf into a path buffer; -1 with ENAMETOOLONG if it does not fit. */
int store_path(char *out, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

int store_write_all(int fd, const void *data, size_t len);
int store_pwrite_all(int fd, const void *data, size_t len, off_t off);
/* Read until len bytes or end of file; returns the count. */
ssize_t store_pread_full(int fd, void *buf, size_t len, off_t off);

/* close(*fd) and set *fd = -1; -1 if close reported an error. */
int store_close_fd(int *fd);
int store_fsync_dir(const char *dir);
/* fsync the directory holding path. */
int store_fsync_parent(const char *path);

/* Replace path with data: write "<path>.tmp.<pid>.<rand>", fsync it,
 * rename it over path, fsync the directory (the fsyncs when dosync). */
int store_file_replace(const char *path, const void *data, size_t len,
		       bool dosync);

/* The whole file (NUL-terminated for convenience); E2BIG above max. */
int store_read_file(const char *path, size_t max, char **data_r, size_t *len_r);
int store_read_fd(int fd, size_t max, char **data_r, size_t *len_r);

/* mkdir -p; existing directories are fine. */
int store_mkdir_p(const char *path, mode_t mode);
/* rm -r, not following symbolic links. */
int store_rmtree(const char *path);

#endif
