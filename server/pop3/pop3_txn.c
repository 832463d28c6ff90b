/*
 * pop3_txn.c - the TRANSACTION state (RFC 1939 section 5: STAT, LIST,
 * RETR, DELE, NOOP, RSET; section 7: TOP, UIDL) and UPDATE (section 6).
 *
 * Messages are numbered as the listing had them at login and keep their
 * numbers; a number that is out of range or marked as deleted gets -ERR.
 * RETR and TOP stream the message: the host reads it a chunk at a time
 * (POP3_REQ_READ) and pop3_stream.c sends each chunk with CRLF line ends
 * and byte-stuffing, so a message is never held whole. LIST and UIDL
 * without an argument are written a batch at a time (POP3_REQ_MORE), so
 * a large maildrop never fills the output. DELE only marks: messages are
 * removed on QUIT, in UPDATE, and never when the session ends otherwise.
 */
#include "pop3_internal.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

#define LISTING_BATCH (32 * 1024) /* output bytes per listing step */

/* A message number argument: its index, or -1 after the -ERR. */
static int msg_index(struct pop3_session *s, const char *args, size_t len,
		     uint32_t *idx_r)
{
	uint64_t n;
	if (pop3_parse_number(args, len, &n) != 0) {
		pop3_err(s, NULL, "Syntax: a message number is needed");
		return -1;
	}
	if (n == 0 || n > s->drop->count) {
		pop3_err(s, NULL, "No such message");
		return -1;
	}
	if (s->drop->msgs[n - 1].deleted) {
		pop3_err(s, NULL, "Message %u already deleted", (unsigned)n);
		return -1;
	}
	*idx_r = (uint32_t)(n - 1);
	return 0;
}

/* STAT: "+OK count size", nothing after it; deleted messages left out
 * (RFC 1939 section 5). */
void pop3_act_stat(struct pop3_session *s, const char *args, size_t len)
{
	uint32_t n;
	uint64_t size;
	(void)args;
	(void)len;
	pop3_listing_stat(s->drop, &n, &size);
	pop3_ok(s, "%u %llu", n, (unsigned long long)size);
}

static void listing_line(struct pop3_session *s, uint32_t i)
{
	const struct pop3_msg *m = &s->drop->msgs[i];
	if (s->listing == POP3_LIST_SCAN) {
		pop3_line(s, "%u %llu", i + 1, (unsigned long long)m->size);
	} else {
		char uid[POP3_UIDL_MAX + 1];
		pop3_uidl(s->drop->uidvalidity, m->uid, uid, sizeof(uid));
		pop3_line(s, "%u %s", i + 1, uid);
	}
}

void pop3_listing_more(struct pop3_session *s)
{
	size_t start = buf_len(&s->out);
	while (s->list_next < s->drop->count &&
	       buf_len(&s->out) - start < LISTING_BATCH &&
	       s->state != POP3_ST_CLOSING) {
		if (!s->drop->msgs[s->list_next].deleted)
			listing_line(s, s->list_next);
		s->list_next++;
	}
	if (s->state == POP3_ST_CLOSING)
		return;
	if (s->list_next < s->drop->count) {
		s->request = POP3_REQ_MORE; /* the rest once this is sent */
		return;
	}
	s->listing = POP3_LIST_NONE;
	pop3_end(s);
}

/* LIST [n] and UIDL [n]: one listing on the +OK line, or all of them as
 * a multi-line response (an empty maildrop: "+OK" and "." at once). */
static void list_or_uidl(struct pop3_session *s, const char *args, size_t len,
			 enum pop3_listing_kind kind)
{
	uint32_t i, n;
	uint64_t size;
	if (len > 0) {
		if (msg_index(s, args, len, &i) != 0)
			return;
		const struct pop3_msg *m = &s->drop->msgs[i];
		if (kind == POP3_LIST_SCAN) {
			pop3_ok(s, "%u %llu", i + 1,
				(unsigned long long)m->size);
		} else {
			char uid[POP3_UIDL_MAX + 1];
			pop3_uidl(s->drop->uidvalidity, m->uid, uid,
				  sizeof(uid));
			pop3_ok(s, "%u %s", i + 1, uid);
		}
		return;
	}
	pop3_listing_stat(s->drop, &n, &size);
	if (kind == POP3_LIST_SCAN)
		pop3_ok(s, "%u messages (%llu octets)", n,
			(unsigned long long)size);
	else
		pop3_ok(s, "Unique-id listing follows");
	s->listing = kind;
	s->list_next = 0;
	pop3_listing_more(s);
}

void pop3_act_list(struct pop3_session *s, const char *args, size_t len)
{
	list_or_uidl(s, args, len, POP3_LIST_SCAN);
}

void pop3_act_uidl(struct pop3_session *s, const char *args, size_t len)
{
	list_or_uidl(s, args, len, POP3_LIST_UIDL);
}

static void start_read(struct pop3_session *s, uint32_t i, uint64_t lines,
		       bool top)
{
	s->msg = i;
	s->offset = 0;
	s->top = top;
	s->started = false;
	pop3_stream_init(&s->stream, lines);
	s->request = POP3_REQ_READ;
}

void pop3_act_retr(struct pop3_session *s, const char *args, size_t len)
{
	uint32_t i;
	if (msg_index(s, args, len, &i) == 0)
		start_read(s, i, POP3_STREAM_ALL, false);
}

/* TOP msg n (RFC 1939 section 7): n must be there and non-negative; a
 * count past the end of the body sends the whole message. */
void pop3_act_top(struct pop3_session *s, const char *args, size_t len)
{
	const char *sp = memchr(args, ' ', len);
	uint64_t lines;
	uint32_t i;
	if (sp == NULL ||
	    pop3_parse_number(sp + 1, len - (size_t)(sp - args) - 1, &lines) !=
		    0) {
		pop3_err(s, NULL, "Syntax: TOP message lines");
		return;
	}
	if (msg_index(s, args, (size_t)(sp - args), &i) == 0)
		start_read(s, i, lines, true);
}

void pop3_act_dele(struct pop3_session *s, const char *args, size_t len)
{
	uint32_t i;
	if (msg_index(s, args, len, &i) != 0)
		return;
	s->drop->msgs[i].deleted = true; /* removed only in UPDATE */
	pop3_ok(s, "Message %u deleted", i + 1);
}

void pop3_act_rset(struct pop3_session *s, const char *args, size_t len)
{
	uint32_t n;
	uint64_t size;
	(void)args;
	(void)len;
	pop3_listing_reset(s->drop);
	pop3_listing_stat(s->drop, &n, &size);
	pop3_ok(s, "Maildrop has %u messages (%llu octets)", n,
		(unsigned long long)size);
}

void pop3_act_noop(struct pop3_session *s, const char *args, size_t len)
{
	(void)args;
	(void)len;
	pop3_ok(s, "%s", "");
}

/* QUIT in TRANSACTION: UPDATE (RFC 1939 section 6). The host removes
 * exactly the marked messages and releases the maildrop. */
/* The UIDs of the messages with (or, want_deleted false, retrieved but
 * without) the deleted mark, ascending: into *v_r, *n_r of them. */
static int mark_uids(const struct pop3_listing *l, bool want_deleted,
		     uint32_t **v_r, size_t *n_r)
{
	free(*v_r);
	*v_r = NULL;
	*n_r = 0;
	uint32_t n = 0;
	for (uint32_t i = 0; i < l->count; i++)
		if (want_deleted ? l->msgs[i].deleted
				 : l->msgs[i].retrieved && !l->msgs[i].deleted)
			n++;
	if (n == 0)
		return 0;
	if ((*v_r = calloc(n, sizeof(uint32_t))) == NULL)
		return -1;
	for (uint32_t i = 0; i < l->count; i++)
		if (want_deleted ? l->msgs[i].deleted
				 : l->msgs[i].retrieved && !l->msgs[i].deleted)
			(*v_r)[(*n_r)++] = l->msgs[i].uid;
	return 0;
}

/* QUIT in TRANSACTION: UPDATE (RFC 1939 section 6). The host removes
 * exactly the marked messages, sets \Seen on those RETR sent whole (as
 * Dovecot does; a deleted one needs none) and releases the maildrop. */
void pop3_update(struct pop3_session *s)
{
	int rc = mark_uids(s->drop, true, &s->deleted_uids, &s->n_deleted_uids);
	if (rc == 0 && s->st.retr_sets_seen)
		rc = mark_uids(s->drop, false, &s->seen_uids, &s->n_seen_uids);
	if (rc != 0) {
		log_error(s->id, "pop3.update_alloc_failed");
		pop3_fail(s, "SYS/TEMP", "Out of memory; nothing deleted");
		pop3_close(s);
		return;
	}
	s->request = POP3_REQ_UPDATE;
}

static void read_failed(struct pop3_session *s, enum pop3_status st)
{
	if (s->started) {
		/* the +OK is out: ending the response would pass a partial
		 * message off as whole, so the connection goes instead */
		log_error(s->id, "pop3.read_failed uid=%u offset=%llu",
			  s->drop->msgs[s->msg].uid,
			  (unsigned long long)s->offset);
		pop3_close(s);
		return;
	}
	if (st == POP3_ANSWER_GONE)
		pop3_fail(s, NULL, "Message %u was removed by another client",
			  s->msg + 1);
	else if (st == POP3_ANSWER_PERM)
		pop3_fail(s, "SYS/PERM", "Message %u cannot be read",
			  s->msg + 1);
	else
		pop3_fail(s, "SYS/TEMP", "Message %u cannot be read now",
			  s->msg + 1);
}

static void read_done(struct pop3_session *s)
{
	const struct pop3_msg *m = &s->drop->msgs[s->msg];
	if (!s->top && s->stream.count != m->size)
		log_warn(s->id,
			 "pop3.size_changed uid=%u listed=%llu sent=%llu",
			 m->uid, (unsigned long long)m->size,
			 (unsigned long long)s->stream.count);
	pop3_end(s);
}

static void read_chunk(struct pop3_session *s, const struct pop3_answer *a)
{
	if (!s->started) {
		s->started = true;
		if (s->top)
			pop3_ok(s, "Top of message follows");
		else
			pop3_ok(s, "%llu octets",
				(unsigned long long)s->drop->msgs[s->msg].size);
	}
	if (a->len == 0) { /* the end of the message */
		if (pop3_stream_end(&s->stream, &s->out) != 0)
			pop3_close(s);
		else
			read_done(s);
		if (!s->top) /* RETR sent it whole */
			s->drop->msgs[s->msg].retrieved = true;
		return;
	}
	pop3_stream_write(&s->stream, a->data, a->len, &s->out);
	if (s->stream.failed) {
		log_warn(s->id, "pop3.output_full bytes=%zu", buf_len(&s->out));
		pop3_close(s);
		return;
	}
	if (s->stream.done) { /* TOP: the lines asked for are out */
		pop3_end(s);
		return;
	}
	s->offset += a->len;
	s->request = POP3_REQ_READ;
}

void pop3_txn_resume(struct pop3_session *s, enum pop3_request r,
		     const struct pop3_answer *a)
{
	if (r == POP3_REQ_READ) {
		if (a->status != POP3_ANSWER_OK)
			read_failed(s, a->status);
		else
			read_chunk(s, a);
		return;
	}
	/* UPDATE (RFC 1939 section 6): +OK only if every mark was acted on */
	if (a->status == POP3_ANSWER_OK)
		pop3_ok(s,
			"Quill POP3 server signing off (%zu messages "
			"deleted)",
			s->n_deleted_uids);
	else
		pop3_fail(s, "SYS/TEMP", "Some deleted messages not removed");
	log_info(s->id, "pop3.update deleted=%zu seen=%zu ok=%d",
		 s->n_deleted_uids, s->n_seen_uids,
		 a->status == POP3_ANSWER_OK);
	pop3_close(s);
}
