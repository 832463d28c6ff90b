/*
 * store_test.h - helpers for the store tests: a scratch store per test
 * for either backend (Check loop index 0 = Maildir, 1 = mbox, so every
 * test runs on both), and one-call append/read/file helpers that assert.
 * Functions are static inline so each test file uses what it needs.
 */
#ifndef QUILL_STORE_TEST_H
#define QUILL_STORE_TEST_H

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.h"

/* Durability needs real fsyncs only where a test is about it (the
 * robust and crash tests define FX_FSYNC true); the rest run faster. */
#ifndef FX_FSYNC
#define FX_FSYNC false
#endif

struct fx {
	char root[PATH_MAX];
	enum store_kind kind;
	struct store_config cfg;
	struct store *st;
	struct store_error err;
};

static inline int fx_rm(const char *path, const struct stat *sb, int flag,
			struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static inline void fx_rmtree(const char *path)
{
	nftw(path, fx_rm, 16, FTW_DEPTH | FTW_PHYS);
}

static inline void fx_open(struct fx *fx)
{
	int rc = store_open(&fx->cfg, &fx->st, &fx->err);

	ck_assert_msg(rc == 0, "store_open: %s", fx->err.msg);
}

/* A store on a fresh directory; kind 0 = Maildir, 1 = mbox. */
static inline void fx_init(struct fx *fx, int kind)
{
	const char *tmp = getenv("TMPDIR");
	int n;

	memset(fx, 0, sizeof(*fx));
	n = snprintf(fx->root, sizeof(fx->root), "%s/quill-store-XXXXXX",
		     tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	ck_assert(n > 0 && (size_t)n < sizeof(fx->root));
	ck_assert_ptr_nonnull(mkdtemp(fx->root));
	fx->kind = kind == 0 ? STORE_KIND_MAILDIR : STORE_KIND_MBOX;
	store_config_init(&fx->cfg, fx->kind, fx->root);
	fx->cfg.hostname = "test.example";
	fx->cfg.fsync = FX_FSYNC;
	fx->cfg.lock_timeout_ms = 3000;
	fx_open(fx);
}

static inline void fx_done(struct fx *fx)
{
	store_close(&fx->st);
	fx_rmtree(fx->root);
}

static inline void fx_reopen(struct fx *fx)
{
	store_close(&fx->st);
	fx_open(fx);
}

static inline struct store_mailbox *fx_mb(struct fx *fx, const char *name,
					  unsigned flags)
{
	struct store_mailbox *mb = NULL;
	int rc = store_mailbox_open(fx->st, name, flags, &mb, &fx->err);

	ck_assert_msg(rc == 0, "open %s: %s", name, fx->err.msg);
	return mb;
}

/* Append data in pieces of `piece` bytes (0 = at once); returns the UID. */
static inline uint32_t fx_append_ex(struct fx *fx, const char *box,
				    const void *data, size_t len, size_t piece,
				    unsigned flags, const char *const *kw,
				    size_t n_kw, time_t date)
{
	struct store_append *ap;
	uint32_t uid = 0, uidv = 0;
	const char *p = data;
	int rc;

	rc = store_append_begin(fx->st, box, "sender@example.org", &ap,
				&fx->err);
	ck_assert_msg(rc == 0, "append_begin: %s", fx->err.msg);
	for (size_t off = 0; off < len;) {
		size_t n = piece == 0 || len - off < piece ? len - off : piece;

		rc = store_append_write(ap, p + off, n, &fx->err);
		ck_assert_msg(rc == 0, "append_write: %s", fx->err.msg);
		off += n;
	}
	rc = store_append_commit(&ap, flags, kw, n_kw, date, &uidv, &uid,
				 &fx->err);
	ck_assert_msg(rc == 0, "append_commit: %s", fx->err.msg);
	ck_assert_ptr_null(ap);
	ck_assert_uint_ne(uid, 0);
	ck_assert_uint_ne(uidv, 0);
	return uid;
}

static inline uint32_t fx_append(struct fx *fx, const char *box,
				 const char *text)
{
	return fx_append_ex(fx, box, text, strlen(text), 0, 0, NULL, 0, 0);
}

/* The whole message, read in pieces of `piece` bytes; malloc'ed. */
static inline char *fx_read_ex(struct store_mailbox *mb, uint32_t uid,
			       size_t piece, size_t *len_r)
{
	struct store_error err;
	struct store_msg *msg;
	const struct store_msg_info *info;
	char *buf;
	size_t got, off = 0;
	int rc = store_msg_open(mb, uid, &msg, &err);

	ck_assert_msg(rc == 0, "msg_open %u: %s", (unsigned)uid, err.msg);
	info = store_msg_get_info(msg);
	buf = malloc(info->size + 1);
	ck_assert_ptr_nonnull(buf);
	for (;;) {
		size_t want = piece == 0 ? info->size + 1 : piece;

		rc = store_msg_read(msg, off, buf + off,
				    want > info->size + 1 - off
					    ? info->size + 1 - off
					    : want,
				    &got, &err);
		ck_assert_msg(rc == 0, "msg_read: %s", err.msg);
		if (got == 0)
			break;
		off += got;
	}
	ck_assert_uint_eq(off, info->size);
	buf[off] = '\0';
	*len_r = off;
	store_msg_close(&msg);
	ck_assert_ptr_null(msg);
	return buf;
}

static inline void fx_expect_msg(struct store_mailbox *mb, uint32_t uid,
				 const char *text)
{
	size_t len;
	char *got = fx_read_ex(mb, uid, 0, &len);

	ck_assert_uint_eq(len, strlen(text));
	ck_assert_msg(memcmp(got, text, len) == 0, "message %u differs",
		      (unsigned)uid);
	free(got);
}

static inline void fx_sync(struct store_mailbox *mb, struct store_changes *ch)
{
	struct store_error err;
	int rc = store_sync(mb, ch, &err);

	ck_assert_msg(rc == 0, "sync: %s", err.msg);
}

static inline void fx_write_file(const char *path, const void *data, size_t len,
				 bool append)
{
	int fd = open(path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC),
		      0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(close(fd), 0);
}

static inline char *fx_path(struct fx *fx, const char *rel)
{
	static char path[PATH_MAX];

	ck_assert_int_lt(snprintf(path, sizeof(path), "%s/%s", fx->root, rel),
			 (int)sizeof(path));
	return path;
}

/* The file holding INBOX (mbox) or its folder directory (Maildir). */
static inline const char *fx_inbox(struct fx *fx)
{
	return fx_path(fx, fx->kind == STORE_KIND_MBOX ? "inbox" : ".");
}

static inline struct store_uidset fx_set(struct store_uid_range *r,
					 uint32_t first, uint32_t last)
{
	r->first = first;
	r->last = last;
	return (struct store_uidset){r, 1};
}

#endif
