/*
 * smtp_submit.c - message submission (RFC 6409) for a session that has
 * authenticated (RFC 4954): the policy an MSA applies beyond relaying.
 *
 * 6.1: MAIL FROM must be an address of the logged-in user, the user name
 * at the mail domain or at our host name; anything else is refused with
 * 550 5.7.1. The null reverse-path is never refused for itself (3.2).
 *
 * 8.2, 8.3: a message without a Date or a Message-ID field gets one.
 * The header section is scanned line by line as the message passes
 * through the engine's buffer, never held whole: while the buffer still
 * holds all of it (a header section shorter than one chunk, the usual
 * case), the new fields go at its top, just below our Received field;
 * a longer one has them added where it ends. Field names are compared
 * without regard to case, with blanks allowed before the colon (the
 * obsolete syntax of RFC 5322 4.5).
 */
#include "smtp_internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log.h"

bool smtp_submit_own_address(const struct smtp_session *s,
			     const struct smtp_path *p)
{
	bool ours = !p->domain_is_literal &&
		    (strcasecmp(p->domain, s->st.domain) == 0 ||
		     strcasecmp(p->domain, s->st.hostname) == 0);
	return s->auth_user[0] != '\0' && ours &&
	       strcmp(p->local_unquoted, s->auth_user) == 0;
}

int smtp_submit_check_sender(struct smtp_session *s,
			     const struct smtp_path *from)
{
	if (!s->st.sender_check || s->auth_user[0] == '\0' || from->null_path)
		return 0;
	if (smtp_submit_own_address(s, from))
		return 0;
	log_info(s->id, "smtp.sender_refused user=%s from=<%s@%s>",
		 s->auth_user, from->local, from->domain);
	smtp_reply_error(s, 550, "5.7.1", /* RFC 6409 6.1 */
			 "Sender address not allowed for user %s",
			 s->auth_user);
	return -1;
}

void smtp_submit_begin(struct smtp_session *s)
{
	struct smtp_hdrfix *f = &s->txn.fix;
	memset(f, 0, sizeof(*f));
	f->active = s->st.add_headers && s->auth_user[0] != '\0';
	f->top = f->scan = buf_len(&s->txn.msg);
}

/* field-name [WSP] ":" (RFC 5322 2.2, 4.5): the name's length, or 0. */
static size_t field_name(const unsigned char *l, size_t n)
{
	size_t i = 0, end;
	while (i < n && l[i] >= 33 && l[i] <= 126 && l[i] != ':')
		i++;
	end = i;
	while (i < n && (l[i] == ' ' || l[i] == '\t'))
		i++;
	return end > 0 && i < n && l[i] == ':' ? end : 0;
}

/* Copy b with text inserted at off. */
static int insert_at(struct buf *b, size_t off, const char *text)
{
	struct buf n;
	buf_init(&n, b->max + strlen(text));
	if (buf_append(&n, buf_data(b), off) != 0 ||
	    buf_append_str(&n, text) != 0 ||
	    buf_append(&n, buf_data(b) + off, buf_len(b) - off) != 0) {
		buf_free(&n);
		return -1;
	}
	buf_free(b);
	*b = n;
	return 0;
}

/* The header section ends at off: add what it lacks there. */
static void finish(struct smtp_session *s, size_t off)
{
	struct smtp_txn *t = &s->txn;
	struct smtp_hdrfix *f = &t->fix;
	char add[512] = "";
	size_t used = 0;
	f->done = true;
	if (!f->saw_date && t->date[0] != '\0') /* RFC 6409 8.2 */
		used = (size_t)snprintf(add, sizeof(add), "Date: %s\r\n",
					t->date);
	if (!f->saw_msgid && used < sizeof(add)) /* RFC 6409 8.3 */
		snprintf(add + used, sizeof(add) - used,
			 "Message-ID: <%s.%s@%s>\r\n",
			 t->queue_id[0] ? t->queue_id : "0", s->id,
			 s->hostname);
	if (add[0] == '\0')
		return;
	if (insert_at(&t->msg, off, add) != 0) {
		log_warn(s->id, "smtp.add_headers_failed");
		return;
	}
	log_info(s->id, "smtp.headers_added date=%d message_id=%d at=%s",
		 !f->saw_date, !f->saw_msgid, f->flushed ? "end" : "top");
}

/* One line of the header section, CRLF removed; false once it ended. */
static bool header_line(struct smtp_hdrfix *f, const unsigned char *l, size_t n)
{
	if (n == 0)
		return false;		 /* the empty line before the body */
	if (l[0] == ' ' || l[0] == '\t') /* folded (RFC 5322 2.2.3) */
		return f->continued;
	size_t name = field_name(l, n);
	if (name == 0)
		return false; /* a body without the empty line */
	f->continued = true;
	if (name == 4 && strncasecmp((const char *)l, "Date", 4) == 0)
		f->saw_date = true;
	if (name == 10 && strncasecmp((const char *)l, "Message-ID", 10) == 0)
		f->saw_msgid = true;
	return true;
}

/* The rest of a line split by a flush, n octets before its LF: judge it
 * with the start kept in head; false if the header section ended. */
static bool split_line(struct smtp_hdrfix *f, const unsigned char *l, size_t n)
{
	unsigned char line[2 * sizeof(f->head)];
	size_t k = f->head_len, more = n;
	bool skip = f->skip;
	f->split = f->skip = false;
	if (skip)
		return true;
	if (more > sizeof(line) - k)
		more = sizeof(line) - k;
	memcpy(line, f->head, k);
	memcpy(line + k, l, more);
	if (k + n > 0 && n == more && line[k + more - 1] == '\r')
		more--;
	return header_line(f, line, k + more);
}

void smtp_submit_scan(struct smtp_session *s, bool at_end)
{
	struct smtp_hdrfix *f = &s->txn.fix;
	struct buf *msg = &s->txn.msg;
	if (!f->active || f->done)
		return;
	while (f->scan < buf_len(msg)) {
		const unsigned char *l = buf_data(msg) + f->scan;
		const unsigned char *nl =
			memchr(l, '\n', buf_len(msg) - f->scan);
		if (nl == NULL)
			break; /* wait for the line's end */
		size_t n = (size_t)(nl - l);
		bool header;
		if (f->split) {
			/* the fields go after this line, not inside it */
			header = split_line(f, l, n);
			f->scan += n + 1;
			if (!header) {
				finish(s, f->scan);
				return;
			}
			continue;
		}
		header = header_line(f, l,
				     n > 0 && l[n - 1] == '\r' ? n - 1 : n);
		if (!header) {
			finish(s, f->flushed ? f->scan : f->top);
			return;
		}
		f->scan += n + 1;
	}
	if (!at_end)
		return;
	/* the message is all header; a last line without CRLF (BDAT) is
	 * ended first, so that the fields are lines of their own */
	size_t len = buf_len(msg);
	if (f->flushed && len > 0 && buf_data(msg)[len - 1] != '\n' &&
	    buf_append(msg, "\r\n", 2) != 0)
		return;
	finish(s, f->flushed ? buf_len(msg) : f->top);
}

void smtp_submit_flushed(struct smtp_session *s)
{
	struct smtp_hdrfix *f = &s->txn.fix;
	struct buf *msg = &s->txn.msg;
	if (f->active && !f->done && f->scan < buf_len(msg)) {
		/* a line goes out unfinished (BDAT): judge what is there */
		const unsigned char *l = buf_data(msg) + f->scan;
		size_t n = buf_len(msg) - f->scan, name = 0;
		while (name < n && l[name] >= 33 && l[name] <= 126 &&
		       l[name] != ':')
			name++;
		if (n == 1 && l[0] == '\r') { /* most likely the empty line */
			finish(s, f->flushed ? f->scan : f->top);
		} else if (name == n && n < sizeof(f->head)) {
			memcpy(f->head, l, n); /* a name, still growing */
			f->head_len = n;
			f->split = true;
		} else if (name == n) { /* a long one: not ours to add */
			f->continued = true;
			f->split = f->skip = true;
		} else if (!header_line(f, l, n)) {
			finish(s, f->flushed ? f->scan : f->top);
		} else {
			f->split = f->skip = true; /* judged: find its end */
		}
	}
	f->flushed = true;
	f->scan = 0;
}
