/*
 * pop3_maildrop.c - one POP3 session's hold on a maildrop (see
 * pop3_maildrop.h): RFC 1939 sections 4 (lock, numbering, sizes), 6
 * (UPDATE) and 11 (sizes as sent), RFC 2449 section 6.5 (LOGIN-DELAY).
 */
#include "pop3_maildrop.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pop3/pop3_stream.h"
#include "store/store.h"
#include "user_store.h"

#define READ_CHUNK (64 * 1024)

struct pop3_maildrop {
	int lock_fd;
	struct store *st;
	struct store_mailbox *mb; /* NULL: no INBOX yet, nothing to list */
	struct store_msg *msg;	  /* the message being read */
	uint32_t msg_uid;
};

static enum pop3_status answer_of(const struct store_error *e)
{
	if (e->code == STORE_E_EXPUNGED || e->code == STORE_E_NOTFOUND)
		return POP3_ANSWER_GONE;
	return store_error_temporary(e->code) ? POP3_ANSWER_TEMP
					      : POP3_ANSWER_PERM;
}

static enum pop3_status fail(enum pop3_status st, char *err, size_t errlen,
			     const char *what, const char *why)
{
	snprintf(err, errlen, "%s: %s", what, why);
	return st;
}

/* The exclusive lock (RFC 1939 section 4) and the last login's time. */
static enum pop3_status take_lock(struct pop3_maildrop *md, const char *root,
				  char *err, size_t errlen)
{
	char path[CONFIG_PATH_MAX + 300];
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	snprintf(path, sizeof(path), "%s/%s", root, POP3_MAILDROP_LOCK);
	md->lock_fd =
		open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (md->lock_fd < 0)
		return fail(POP3_ANSWER_TEMP, err, errlen, path,
			    strerror(errno));
	if (fcntl(md->lock_fd, F_OFD_SETLK, &fl) != 0) {
		int e = errno;
		if (e == EAGAIN || e == EACCES)
			return fail(POP3_ANSWER_IN_USE, err, errlen, path,
				    "held by another session");
		return fail(POP3_ANSWER_TEMP, err, errlen, path, strerror(e));
	}
	return POP3_ANSWER_OK;
}

static time_t last_login(int fd)
{
	char text[32];
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
	if (n <= 0)
		return 0;
	text[n] = '\0';
	char *end;
	long long v = strtoll(text, &end, 10);
	return end == text || v < 0 ? 0 : (time_t)v;
}

static void note_login(int fd, time_t now)
{
	char text[32];
	int n = snprintf(text, sizeof(text), "%lld\n", (long long)now);
	if (pwrite(fd, text, (size_t)n, 0) == n)
		(void)ftruncate(fd, n);
}

/* The size of one message as sent: from the cache, else counted. */
static int crlf_size(struct store_mailbox *mb, uint32_t uid, uint64_t *size_r,
		     struct store_error *se)
{
	void *data;
	size_t len;
	if (store_cache_get(mb, uid, STORE_CACHE_CRLF_SIZE, &data, &len,
			    NULL) == 0 &&
	    data != NULL) {
		const unsigned char *p = data;
		int ok = len == 8;
		*size_r = 0;
		for (size_t i = 0; ok && i < 8; i++)
			*size_r |= (uint64_t)p[i] << (8 * i);
		free(data);
		if (ok)
			return 0;
	}
	struct store_msg *msg;
	if (store_msg_open(mb, uid, &msg, se) != 0)
		return -1;
	unsigned char *buf = malloc(READ_CHUNK);
	struct pop3_stream ps;
	uint64_t off = 0;
	size_t got = 1;
	int rc = buf != NULL ? 0 : -1;
	pop3_stream_init(&ps, POP3_STREAM_ALL);
	while (rc == 0 && got > 0) {
		rc = store_msg_read(msg, off, buf, READ_CHUNK, &got, se);
		pop3_stream_write(&ps, buf, rc == 0 ? got : 0, NULL);
		off += got;
	}
	free(buf);
	store_msg_close(&msg);
	if (rc != 0)
		return -1;
	pop3_stream_end(&ps, NULL);
	*size_r = ps.count;
	unsigned char le[8];
	for (size_t i = 0; i < 8; i++)
		le[i] = (unsigned char)(ps.count >> (8 * i));
	store_cache_put(mb, uid, STORE_CACHE_CRLF_SIZE, le, 8, NULL);
	return 0;
}

/* Number the messages and size them (RFC 1939 section 4). A message
 * expunged by someone else meanwhile is simply not listed. */
static enum pop3_status list(struct pop3_maildrop *md,
			     struct pop3_listing **listing_r, char *err,
			     size_t errlen)
{
	struct store_status status;
	struct store_error se = {0};
	store_mailbox_status(md->mb, &status);
	uint32_t n = store_count(md->mb);
	struct pop3_listing *l = pop3_listing_new(status.uidvalidity, n);
	if (l == NULL)
		return fail(POP3_ANSWER_TEMP, err, errlen, "listing",
			    "out of memory");
	uint32_t k = 0;
	for (uint32_t seq = 1; seq <= n; seq++) {
		uint32_t uid = store_uid_at(md->mb, seq);
		uint64_t size;
		if (crlf_size(md->mb, uid, &size, &se) != 0) {
			if (answer_of(&se) == POP3_ANSWER_GONE)
				continue;
			pop3_listing_free(&l);
			return fail(answer_of(&se), err, errlen, "message",
				    se.msg);
		}
		l->msgs[k++] = (struct pop3_msg){.uid = uid, .size = size};
	}
	l->count = k;
	*listing_r = l;
	return POP3_ANSWER_OK;
}

static enum pop3_status open_inbox(struct pop3_maildrop *md,
				   struct pop3_listing **listing_r, char *err,
				   size_t errlen)
{
	struct store_error se = {0};
	if (store_mailbox_open(md->st, "INBOX", STORE_OPEN_READONLY, &md->mb,
			       &se) != 0) {
		if (se.code != STORE_E_NOTFOUND)
			return fail(store_error_temporary(se.code)
					    ? POP3_ANSWER_TEMP
					    : POP3_ANSWER_PERM,
				    err, errlen, "INBOX", se.msg);
		/* no INBOX yet (an mbox never delivered to): empty */
		*listing_r = pop3_listing_new(0, 0);
		return *listing_r != NULL ? POP3_ANSWER_OK : POP3_ANSWER_TEMP;
	}
	return list(md, listing_r, err, errlen);
}

enum pop3_status pop3_maildrop_open(const struct quilld_config *cfg,
				    const struct passwd_entry *e,
				    unsigned login_delay, time_t now,
				    struct pop3_maildrop **md_r,
				    struct pop3_listing **listing_r, char *err,
				    size_t errlen)
{
	char root[CONFIG_PATH_MAX + 256];
	struct store_error se = {0};
	enum pop3_status st;
	struct pop3_maildrop *md = calloc(1, sizeof(*md));

	*md_r = NULL;
	*listing_r = NULL;
	if (md == NULL)
		return fail(POP3_ANSWER_TEMP, err, errlen, "maildrop",
			    "out of memory");
	md->lock_fd = -1;
	if (user_store_open(cfg, e, &md->st, &se) != 0 ||
	    user_store_root(cfg, e, root, sizeof(root), &se) != 0) {
		st = store_error_temporary(se.code) ? POP3_ANSWER_TEMP
						    : POP3_ANSWER_PERM;
		fail(st, err, errlen, "store", se.msg);
		pop3_maildrop_close(&md);
		return st;
	}
	st = take_lock(md, root, err, errlen);
	if (st == POP3_ANSWER_OK && login_delay > 0 &&
	    now - last_login(md->lock_fd) < (time_t)login_delay)
		st = fail(POP3_ANSWER_LOGIN_DELAY, err, errlen, "login",
			  "too soon after the last one");
	if (st == POP3_ANSWER_OK)
		st = open_inbox(md, listing_r, err, errlen);
	if (st != POP3_ANSWER_OK) {
		pop3_maildrop_close(&md); /* the lock goes first (4) */
		return st;
	}
	note_login(md->lock_fd, now);
	*md_r = md;
	return POP3_ANSWER_OK;
}

enum pop3_status pop3_maildrop_read(struct pop3_maildrop *md, uint32_t uid,
				    uint64_t offset, void *buf, size_t len,
				    size_t *got_r, char *err, size_t errlen)
{
	struct store_error se = {0};
	*got_r = 0;
	if (md->mb == NULL)
		return POP3_ANSWER_GONE;
	if (md->msg != NULL && (md->msg_uid != uid || offset == 0))
		store_msg_close(&md->msg);
	if (md->msg == NULL) {
		if (store_msg_open(md->mb, uid, &md->msg, &se) != 0)
			return fail(answer_of(&se), err, errlen, "open",
				    se.msg);
		md->msg_uid = uid;
	}
	if (store_msg_read(md->msg, offset, buf, len, got_r, &se) != 0) {
		store_msg_close(&md->msg);
		return fail(answer_of(&se), err, errlen, "read", se.msg);
	}
	if (*got_r == 0)
		store_msg_close(&md->msg);
	return POP3_ANSWER_OK;
}

/* n UIDs (ascending) as a set of runs; *r_r to be freed. */
static int uid_ranges(const uint32_t *uids, size_t n,
		      struct store_uid_range **r_r, struct store_uidset *set)
{
	struct store_uid_range *r = calloc(n > 0 ? n : 1, sizeof(*r));
	size_t k = 0;
	if (r == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) { /* ascending: merge runs */
		if (k > 0 && r[k - 1].last + 1 == uids[i])
			r[k - 1].last = uids[i];
		else
			r[k++] = (struct store_uid_range){uids[i], uids[i]};
	}
	*r_r = r;
	*set = (struct store_uidset){r, k};
	return 0;
}

enum pop3_status pop3_maildrop_update(struct pop3_maildrop *md,
				      const uint32_t *uids, size_t n,
				      const uint32_t *seen, size_t n_seen,
				      char *err, size_t errlen)
{
	struct store_error se = {0};
	struct store_changes ch = {0};
	struct store_mailbox *rw = NULL;
	struct store_uid_range *r = NULL, *rs = NULL;
	struct store_uidset set, seen_set;
	int rc = 0;

	store_msg_close(&md->msg);
	store_mailbox_close(&md->mb);
	if (n == 0 && n_seen == 0)
		return POP3_ANSWER_OK;
	if (uid_ranges(uids, n, &r, &set) != 0 ||
	    uid_ranges(seen, n_seen, &rs, &seen_set) != 0) {
		free(r);
		return fail(POP3_ANSWER_TEMP, err, errlen, "update",
			    "out of memory");
	}
	rc = store_mailbox_open(md->st, "INBOX", 0, &rw, &se);
	/* \Seen first: if that fails nothing is removed either */
	if (rc == 0 && n_seen > 0)
		rc = store_flags_change(rw, &seen_set, STORE_FLAGS_ADD,
					STORE_F_SEEN, NULL, 0, &se);
	if (rc == 0 && n > 0)
		rc = store_flags_change(rw, &set, STORE_FLAGS_ADD,
					STORE_F_DELETED, NULL, 0, &se);
	if (rc == 0 && n > 0)
		rc = store_expunge(rw, &set, &ch, &se);
	store_changes_clear(&ch);
	store_mailbox_close(&rw);
	free(r);
	free(rs);
	if (rc != 0)
		return fail(POP3_ANSWER_TEMP, err, errlen, "update", se.msg);
	return POP3_ANSWER_OK;
}

void pop3_maildrop_close(struct pop3_maildrop **mdp)
{
	struct pop3_maildrop *md = *mdp;
	if (md == NULL)
		return;
	store_msg_close(&md->msg);
	store_mailbox_close(&md->mb);
	if (md->lock_fd >= 0) /* the OFD lock goes with it */
		close(md->lock_fd);
	store_close(&md->st);
	free(md);
	*mdp = NULL;
}
