/*
 * passwd_file.c - read a passwd-file from disk, add a user to it or
 * change a password.
 *
 * Reading takes a regular file of at most PASSWD_FILE_MAX bytes whole;
 * passwd_db_load() and the edits below both use it. Every change happens
 * under flock() on "<path>.lock": read and parse the current file, refuse
 * duplicates, write the whole new text to a temporary file in the same
 * directory (mode 0600), fsync, close, rename over the old file, fsync
 * the directory. Other lines are kept byte for byte. A new user or hash
 * is first run through passwd.c's parser (parse_one()).
 */
#include "passwd.h"
#include "passwd_private.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- reading the file ------------------------------------------------- */

static int read_fd(int fd, const char *path, char **text_r, size_t *len_r,
		   mode_t *mode_r, struct passwd_error *err)
{
	struct stat st;
	size_t size, len = 0;
	char *buf;

	if (fstat(fd, &st) != 0) {
		passwd_set_error(err, path, 0, errno, "cannot stat");
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > PASSWD_FILE_MAX) {
		passwd_set_error(err, path, 0, 0, "%s",
				 S_ISREG(st.st_mode) ? "passwd-file too large"
						     : "not a regular file");
		return -1;
	}
	*mode_r = st.st_mode;
	size = (size_t)st.st_size;
	buf = malloc(size + 1);
	if (buf == NULL) {
		passwd_set_error(err, path, 0, ENOMEM, "out of memory");
		return -1;
	}
	while (len < size) {
		ssize_t n = read(fd, buf + len, size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			passwd_set_error(err, path, 0, errno, "cannot read");
			free(buf);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*text_r = buf;
	*len_r = len;
	return 0;
}

/* Reads path whole; a missing file reads as empty if missing_ok. */
int passwd_read_file(const char *path, bool missing_ok, char **text_r,
		     size_t *len_r, mode_t *mode_r, struct passwd_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	*mode_r = 0;
	if (fd < 0 && errno == ENOENT && missing_ok) {
		*len_r = 0;
		*text_r = calloc(1, 1);
		if (*text_r != NULL)
			return 0;
		passwd_set_error(err, path, 0, ENOMEM, "out of memory");
		return -1;
	}
	if (fd < 0) {
		passwd_set_error(err, path, 0, errno, "cannot open");
		return -1;
	}
	rc = read_fd(fd, path, text_r, len_r, mode_r, err);
	if (close(fd) != 0 && rc == 0) {
		passwd_set_error(err, path, 0, errno, "cannot close");
		free(*text_r);
		rc = -1;
	}
	return rc;
}

/* ---- changing the file ------------------------------------------------ */

/* An edit in progress: the lock held and the current contents. */
struct edit {
	const char *path;
	int lock_fd;
	char *text;
	size_t len;
	struct passwd_db *db;
};

static int lock_path(const char *path, struct passwd_error *err)
{
	char lock[PATH_MAX];
	int fd;

	if (passwd_fmt_into(lock, sizeof(lock), "%s.lock", path) != 0) {
		passwd_set_error(err, path, 0, ENAMETOOLONG, "path too long");
		return -1;
	}
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		passwd_set_error(err, lock, 0, errno, "cannot open lock file");
		return -1;
	}
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			passwd_set_error(err, lock, 0, errno, "cannot lock");
			(void)close(fd);
			return -1;
		}
	}
	return fd;
}

static void edit_end(struct edit *ed)
{
	passwd_db_free(&ed->db);
	free(ed->text);
	ed->text = NULL;
	if (ed->lock_fd >= 0)
		(void)close(ed->lock_fd); /* only releases the lock */
	ed->lock_fd = -1;
}

static int edit_begin(struct edit *ed, const char *path, bool create,
		      struct passwd_error *err)
{
	mode_t mode;

	*ed = (struct edit){.path = path, .lock_fd = -1};
	ed->lock_fd = lock_path(path, err);
	if (ed->lock_fd < 0)
		return -1;
	if (passwd_read_file(path, create, &ed->text, &ed->len, &mode, err) !=
	    0) {
		ed->text = NULL;
		edit_end(ed);
		return -1;
	}
	ed->db = passwd_db_load_buffer(path, ed->text, ed->len, err);
	if (ed->db == NULL) {
		edit_end(ed);
		return -1;
	}
	return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, rc;

	if (slash == NULL)
		memcpy(dir, ".", sizeof("."));
	else if (passwd_fmt_into(dir, sizeof(dir), "%.*s", (int)(slash - path),
				 path) != 0)
		return -1;
	if (dir[0] == '\0')
		memcpy(dir, "/", sizeof("/"));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	if (close(fd) != 0)
		rc = -1;
	return rc;
}

/* Writes the concatenation of parts to path: temp file, fsync, rename,
 * fsync of the directory. */
static int write_durably(const char *path, const char *const parts[],
			 const size_t lens[], size_t nparts,
			 struct passwd_error *err)
{
	char tmp[PATH_MAX];
	const char *what = "cannot create a temporary file";
	int fd;

	if (passwd_fmt_into(tmp, sizeof(tmp), "%s.XXXXXX", path) != 0) {
		passwd_set_error(err, path, 0, ENAMETOOLONG, "path too long");
		return -1;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		passwd_set_error(err, tmp, 0, errno, "%s", what);
		return -1;
	}
	what = fchmod(fd, 0600) != 0 ? "cannot chmod" : NULL;
	for (size_t i = 0; what == NULL && i < nparts; i++)
		if (write_all(fd, parts[i], lens[i]) != 0)
			what = "cannot write";
	if (what == NULL && fsync(fd) != 0)
		what = "cannot fsync";
	if (close(fd) != 0 && what == NULL)
		what = "cannot close";
	if (what == NULL && rename(tmp, path) != 0)
		what = "cannot rename into place";
	if (what != NULL) {
		passwd_set_error(err, tmp, 0, errno, "%s", what);
		(void)unlink(tmp);
		return -1;
	}
	if (fsync_parent(path) != 0) {
		passwd_set_error(err, path, 0, errno,
				 "cannot fsync the directory");
		return -1;
	}
	return 0;
}

/* Parses line, which must be exactly one entry, for user. */
static struct passwd_db *parse_one(const char *path, const char *user,
				   const char *line, struct passwd_error *err)
{
	struct passwd_error perr;
	struct passwd_db *one =
		passwd_db_load_buffer(path, line, strlen(line), &perr);

	if (one == NULL) {
		passwd_set_error(err, path, 0, perr.errnum,
				 "refusing entry for '%s': %s", user, perr.msg);
		return NULL;
	}
	if (passwd_db_count(one) != 1 || passwd_db_lookup(one, user) == NULL) {
		passwd_set_error(err, path, 0, 0, "refusing a malformed entry");
		passwd_db_free(&one);
	}
	return one;
}

static bool bad_field(const char *s)
{
	return s != NULL && (strchr(s, ':') != NULL || passwd_has_ctl(s));
}

int passwd_file_add(const char *path, const char *user, const char *hashed,
		    const char *home, struct passwd_error *err_r)
{
	char line[PASSWD_HASH_SIZE + PATH_MAX + 128];
	struct passwd_db *one;
	struct edit ed;
	int rc;

	if (home != NULL && *home == '\0')
		home = NULL;
	if (bad_field(user) || bad_field(hashed) || bad_field(home) ||
	    passwd_fmt_into(line, sizeof(line), "%s:%s%s%s", user, hashed,
			    home != NULL ? "::::" : "",
			    home != NULL ? home : "") != 0) {
		passwd_set_error(err_r, path, 0, 0,
				 "invalid user, hash or home");
		return -1;
	}
	one = parse_one(path, user, line, err_r);
	if (one == NULL)
		return -1;
	passwd_db_free(&one);
	if (edit_begin(&ed, path, true, err_r) != 0)
		return -1;
	if (passwd_db_lookup(ed.db, user) != NULL) {
		passwd_set_error(err_r, path, 0, 0, "user '%s' already exists",
				 user);
		rc = -1;
	} else {
		bool nl = ed.len > 0 && ed.text[ed.len - 1] != '\n';
		const char *parts[] = {ed.text, "\n", line, "\n"};
		size_t lens[] = {ed.len, nl ? 1 : 0, strlen(line), 1};
		rc = write_durably(path, parts, lens, 4, err_r);
	}
	edit_end(&ed);
	return rc;
}

/* old's line with the password field set to hashed, into a new string. */
static char *line_with_hash(const char *path, const struct passwd_entry *old,
			    size_t old_len, const char *hashed,
			    struct passwd_error *err)
{
	char pair[PASSWD_USER_MAX + PASSWD_HASH_SIZE + 2];
	size_t n = old_len + strlen(hashed) + PASSWD_SCHEME_MAX + 64;
	struct passwd_entry e = *old;
	struct passwd_db *one;
	char *out;

	if (passwd_fmt_into(pair, sizeof(pair), "%s:%s", old->user, hashed) !=
	    0) {
		passwd_set_error(err, path, 0, 0, "hash too long");
		return NULL;
	}
	one = parse_one(path, old->user, pair, err);
	out = one == NULL ? NULL : malloc(n);
	if (one != NULL && out == NULL)
		passwd_set_error(err, path, 0, ENOMEM, "out of memory");
	if (out != NULL) {
		memcpy(e.scheme, one->recs[0].e.scheme, sizeof(e.scheme));
		e.hash = one->recs[0].e.hash;
		if (passwd_entry_format(&e, out, n) != 0) {
			passwd_set_error(err, path, 0, errno, "cannot format");
			free(out);
			out = NULL;
		}
	}
	passwd_db_free(&one);
	return out;
}

int passwd_file_set_password(const char *path, const char *user,
			     const char *hashed, struct passwd_error *err_r)
{
	const struct entry_rec *r;
	struct edit ed;
	char *line;
	int rc = -1;

	if (bad_field(user) || bad_field(hashed)) {
		passwd_set_error(err_r, path, 0, 0, "invalid user or hash");
		return -1;
	}
	if (edit_begin(&ed, path, false, err_r) != 0)
		return -1;
	r = (const struct entry_rec *)passwd_db_lookup(ed.db, user);
	if (r == NULL) {
		passwd_set_error(err_r, path, 0, 0, "no user '%s'", user);
	} else if ((line = line_with_hash(path, &r->e, r->len, hashed,
					  err_r)) != NULL) {
		size_t tail = r->off + r->len;
		const char *parts[] = {ed.text, line, ed.text + tail};
		size_t lens[] = {r->off, strlen(line), ed.len - tail};
		rc = write_durably(path, parts, lens, 3, err_r);
		free(line);
	}
	edit_end(&ed);
	return rc;
}
