/*
 * deliver.c - final delivery into a user's INBOX (see deliver.h for the
 * header fields added and the exactly-once argument).
 *
 * Replies for LMTP (RFC 2033 4.2) with the codes of RFC 3463: 250 2.1.5
 * delivered; 452 4.2.2 mailbox full (no space, quota); 451 4.3.0 for any
 * other temporary failure (a lock not free in time, an I/O error, a
 * damaged mailbox, which waits for the administrator rather than bouncing
 * mail); 552 5.2.3 too big for the store; 550 5.2.0 otherwise. The
 * message is stored as deliver_view.h presents it: without Return-Path
 * fields of the sender's own (RFC 5321 4.4).
 */
#include "deliver.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deliver_view.h"
#include "user_store.h"

#define CHUNK 65536

/* Fill err as an I/O error; returns -1. */
static int io_error(struct store_error *err, const char *what)
{
	err->code = STORE_E_IO;
	snprintf(err->msg, sizeof(err->msg), "%s", what);
	return -1;
}

int deliver_user_from(struct deliver_user *u, const struct passwd_entry *e)
{
	memset(u, 0, sizeof(*u));
	snprintf(u->name, sizeof(u->name), "%s", e->user);
	if (e->home == NULL)
		return 0;
	if (strlen(e->home) >= sizeof(u->home))
		return -1;
	snprintf(u->home, sizeof(u->home), "%s", e->home);
	return 0;
}

size_t deliver_prefix(const struct deliver_msg *m, char *out, size_t n)
{
	/* RFC 5321 4.4: Return-Path: <reverse-path>, <> for the null
	 * path; RFC 9228 2: Delivered-To: addr-spec */
	int w = snprintf(out, n, "Return-Path: <%s>\r\nDelivered-To: %s\r\n",
			 m->return_path, m->rcpt);
	return w > 0 && (size_t)w < n ? (size_t)w : 0;
}

/* The result: text for the client, detail (paths, errno) for the log. */
static void set_result(struct deliver_result *r, enum deliver_status st,
		       int code, const char *enh, const char *what,
		       const char *detail)
{
	r->status = st;
	r->code = code;
	snprintf(r->enhanced, sizeof(r->enhanced), "%s", enh);
	snprintf(r->text, sizeof(r->text), "%s", what);
	snprintf(r->detail, sizeof(r->detail), "%s",
		 detail != NULL ? detail : "");
}

/* A store error as a delivery result. */
static void store_failed(struct deliver_result *r,
			 const struct store_error *err)
{
	if (err->code == STORE_E_NOSPACE)
		set_result(r, DELIVER_TEMP, 452, "4.2.2", "Mailbox full",
			   err->msg);
	else if (store_error_temporary(err->code) ||
		 err->code == STORE_E_CORRUPT)
		set_result(r, DELIVER_TEMP, 451, "4.3.0",
			   "Mailbox temporarily unavailable", err->msg);
	else if (err->code == STORE_E_TOOBIG)
		set_result(r, DELIVER_PERM, 552, "5.2.3",
			   "Message too big for the mailbox", err->msg);
	else
		set_result(r, DELIVER_PERM, 550, "5.2.0", "Mailbox unavailable",
			   err->msg);
}

static void io_failed(struct deliver_result *r, const char *what)
{
	char detail[200];
	snprintf(detail, sizeof(detail), "%s: %s", what, strerror(errno));
	set_result(r, DELIVER_TEMP, 451, "4.3.0", "Local error", detail);
}

/* Whether the stored message uid is byte for byte prefix + the view of
 * the message. 1 yes, 0 no, -1 error (err filled). */
static int same_message(struct store_mailbox *mb, uint32_t uid,
			const char *prefix, size_t plen,
			const struct deliver_view *v, struct store_error *err)
{
	uint64_t total = plen + v->size;
	struct store_msg *msg;
	uint64_t pos = 0;
	int same = 1;
	char *a = malloc(2 * CHUNK), *b = a + CHUNK;

	if (a == NULL)
		return io_error(err, "out of memory");
	if (store_msg_open(mb, uid, &msg, err) != 0) {
		free(a);
		return err->code == STORE_E_EXPUNGED ? 0 : -1;
	}
	while (same == 1 && pos < total) {
		size_t want =
			total - pos < CHUNK ? (size_t)(total - pos) : CHUNK;
		size_t got;
		if (store_msg_read(msg, pos, a, want, &got, err) != 0) {
			same = -1;
			break;
		}
		if (got == 0) {
			same = 0;
			break;
		}
		/* the expected bytes: the prefix, then the message */
		size_t done = 0;
		while (done < got) {
			uint64_t at = pos + done;
			size_t n;
			if (at < plen) {
				n = plen - (size_t)at < got - done
					    ? plen - (size_t)at
					    : got - done;
				memcpy(b + done, prefix + at, n);
			} else {
				n = got - done;
				if (deliver_view_read(v, at - plen, b + done,
						      n) != 0) {
					same = io_error(err, strerror(errno));
					break;
				}
			}
			done += n;
		}
		if (same == 1 && memcmp(a, b, got) != 0)
			same = 0;
		pos += got;
	}
	store_msg_close(&msg);
	free(a);
	return same;
}

/* Is this delivery (prefix + message) already in the INBOX? Only
 * messages of exactly its size are read, newest first. */
static int already_there(struct store *st, const char *prefix, size_t plen,
			 const struct deliver_view *v, struct store_error *err)
{
	struct store_mailbox *mb;
	uint64_t total = plen + v->size;
	int found = 0;

	if (store_mailbox_open(st, "INBOX", STORE_OPEN_READONLY, &mb, err) != 0)
		return err->code == STORE_E_NOTFOUND ? 0 : -1;
	for (uint32_t seq = store_count(mb); seq > 0 && found == 0; seq--) {
		struct store_msg_info info;
		if (store_msg_info(mb, seq, &info, err) != 0) {
			found = -1;
			break;
		}
		if (info.size != total && info.size != STORE_SIZE_UNKNOWN)
			continue;
		found = same_message(mb, info.uid, prefix, plen, v, err);
	}
	store_mailbox_close(&mb);
	return found;
}

static int append_message(struct store *st, const struct deliver_msg *m,
			  const char *prefix, size_t plen,
			  const struct deliver_view *v, struct store_error *err)
{
	uint64_t size = v->size;
	struct store_append *ap;
	uint64_t pos = 0;
	char *chunk = malloc(CHUNK);

	if (chunk == NULL)
		return io_error(err, "out of memory");
	if (store_append_begin(st, "INBOX", m->return_path, &ap, err) != 0) {
		free(chunk);
		return -1;
	}
	if (store_append_write(ap, prefix, plen, err) != 0)
		goto fail;
	while (pos < size) {
		size_t n = size - pos < CHUNK ? (size_t)(size - pos) : CHUNK;
		if (deliver_view_read(v, pos, chunk, n) != 0) {
			io_error(err, strerror(errno));
			goto fail;
		}
		if (store_append_write(ap, chunk, n, err) != 0)
			goto fail;
		pos += n;
	}
	free(chunk);
	return store_append_commit(&ap, 0, NULL, 0, 0, NULL, NULL, err);
fail:
	free(chunk);
	store_append_abort(&ap);
	return -1;
}

void deliver_one(const struct quilld_config *cfg, const struct deliver_user *u,
		 const struct deliver_msg *m, enum deliver_mode mode,
		 struct deliver_result *res)
{
	struct deliver_user copy = *u; /* passwd_entry's home is not const */
	struct passwd_entry e = {.home = copy.home[0] ? copy.home : NULL};
	struct store_error err = {0};
	struct store *st = NULL;
	char prefix[1024];
	struct stat sb;
	int found = 0;

	memset(res, 0, sizeof(*res));
	snprintf(e.user, sizeof(e.user), "%s", u->name);
	size_t plen = deliver_prefix(m, prefix, sizeof(prefix));
	if (plen == 0) {
		set_result(res, DELIVER_PERM, 550, "5.1.3", "Address too long",
			   NULL);
		return;
	}
	int fd = open(m->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) != 0 || (uint64_t)sb.st_size < m->offset) {
		io_failed(res, m->path);
		if (fd >= 0)
			close(fd);
		return;
	}
	struct deliver_view v;
	if (deliver_view_init(&v, fd, m->offset, (uint64_t)sb.st_size) != 0) {
		io_failed(res, m->path);
		close(fd);
		return;
	}
	if (user_store_open(cfg, &e, &st, &err) != 0) {
		store_failed(res, &err);
		close(fd);
		return;
	}
	if (mode == DELIVER_CHECK)
		found = already_there(st, prefix, plen, &v, &err);
	if (found < 0)
		store_failed(res, &err);
	else if (found == 0 &&
		 append_message(st, m, prefix, plen, &v, &err) != 0)
		store_failed(res, &err);
	else
		set_result(res, DELIVER_OK, 250, "2.1.5",
			   found ? "Already delivered" : "Delivered", NULL);
	res->already = found == 1;
	store_close(&st);
	close(fd);
}
