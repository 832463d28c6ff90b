/*
 * smtp_bdat.c - CHUNKING and BINARYMIME (RFC 3030): the message sent in
 * chunks of a stated size, "BDAT <size> [LAST]", with no dot transparency
 * and no end-of-data sequence to misread.
 *
 * Every chunk is read to its last octet whatever happens, because the
 * octets that follow are the next command (RFC 3030 2 and 4.2: a server
 * that refuses a chunk still consumes it). The reply to a chunk comes
 * after its octets: "250 2.0.0 <n> octets received" for one that is not
 * LAST, the queue answer for the LAST one. The first chunk of a
 * transaction asks the host to open the spool (SMTP_REQ_DATA_BEGIN) and
 * starts the message with the Received header, as DATA does.
 *
 * Line endings: a BINARYMIME body is kept octet for octet. Any other body
 * sent with BDAT must still end its lines in CRLF (RFC 5321 2.3.8): a bare
 * LF or CR is refused with 554 5.6.0, unless the config accepts bare line
 * ends, and then it is kept as sent.
 */
#include "smtp_internal.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

/* "BDAT" SP chunk-size [SP end-marker]; chunk-size = 1*DIGIT, end-marker
 * = "LAST" (RFC 3030 2, case-insensitive like every keyword). */
static int parse_bdat(const char *args, size_t len, unsigned long long *size,
		      bool *last)
{
	size_t i = 0;
	unsigned long long v = 0;
	if (len == 0 || args[0] < '0' || args[0] > '9')
		return -1;
	for (; i < len && args[i] >= '0' && args[i] <= '9'; i++) {
		unsigned d = (unsigned)(args[i] - '0');
		if (i >= 19 || v > (~0ULL - d) / 10)
			return -1; /* over 19 digits: no sane chunk */
		v = v * 10 + d;
	}
	*size = v;
	*last = false;
	if (i == len)
		return 0;
	if (len - i == 5 && args[i] == ' ' &&
	    strncasecmp(args + i + 1, "LAST", 4) == 0) {
		*last = true;
		return 0;
	}
	return -1;
}

int smtp_check_bdat(struct smtp_session *s, const char *args, size_t len)
{
	unsigned long long size;
	bool last;
	if (parse_bdat(args, len, &size, &last) != 0) {
		smtp_reply_error(s, 501, "5.5.4",
				 "Syntax: BDAT chunk-size [LAST]");
		return -1;
	}
	return 0;
}

/* Read this chunk and answer code/enh/text once it is read. */
static void discard_chunk(struct smtp_session *s, int code, const char *enh,
			  const char *text)
{
	struct smtp_bdat *b = &s->txn.bdat;
	b->discard = true;
	b->after = s->state;
	b->code = code;
	snprintf(b->enh, sizeof(b->enh), "%s", enh);
	snprintf(b->text, sizeof(b->text), "%s", text);
	s->state = SMTP_ST_BDAT;
}

void smtp_act_bdat(struct smtp_session *s, const char *args, size_t len)
{
	struct smtp_bdat *b = &s->txn.bdat;
	unsigned long long size = 0;
	bool last = false;
	(void)parse_bdat(args, len, &size, &last); /* check_bdat passed */
	b->left = b->chunk = size;
	b->last = last;
	b->discard = false;
	if (s->state & (SMTP_ST_GREETED | SMTP_ST_READY)) {
		discard_chunk(s, 503, "5.5.1", "Bad sequence: send MAIL first");
	} else if (s->state == SMTP_ST_MAIL) {
		/* RFC 3030 3 and 2033 4.2: as DATA would be answered */
		discard_chunk(s, s->st.mode == SMTP_MODE_LMTP ? 503 : 554,
			      "5.5.1", "No valid recipients");
	} else if (s->txn.failed) {
		/* an earlier chunk of this message was refused */
		discard_chunk(s, s->txn.fail_code, s->txn.fail_enh,
			      s->txn.fail_text);
	} else if (!b->used) {
		b->used = true;
		s->request = SMTP_REQ_DATA_BEGIN; /* then smtp_bdat_begun */
	} else {
		s->state = SMTP_ST_BDAT;
	}
}

void smtp_bdat_begun(struct smtp_session *s, const struct smtp_answer *a)
{
	struct smtp_txn *t = &s->txn;
	if (!a->ok) {
		t->failed = true;
		t->fail_code = a->code;
		snprintf(t->fail_enh, sizeof(t->fail_enh), "%s",
			 a->enhanced != NULL ? a->enhanced : "4.3.0");
		snprintf(t->fail_text, sizeof(t->fail_text), "%s",
			 a->text != NULL ? a->text : "Local error");
		discard_chunk(s, t->fail_code, t->fail_enh, t->fail_text);
		return;
	}
	snprintf(t->queue_id, sizeof(t->queue_id), "%s",
		 a->queue_id != NULL ? a->queue_id : "");
	snprintf(t->date, sizeof(t->date), "%s",
		 a->date != NULL ? a->date : "");
	/* the data reader is unused, but its size and verdict count */
	smtp_data_init(&t->data, s->st.data_line_max, s->st.message_max,
		       s->st.bare_lf_accept);
	buf_clear(&t->msg);
	t->bdat.begun = true;
	if (smtp_received_header(s, a->date != NULL ? a->date : "", &t->msg) !=
	    0) {
		t->failed = true;
		t->fail_code = 451;
		snprintf(t->fail_enh, sizeof(t->fail_enh), "4.3.0");
		snprintf(t->fail_text, sizeof(t->fail_text), "Out of memory");
	}
	smtp_submit_begin(s); /* RFC 6409 8.2, 8.3 */
	s->state = SMTP_ST_BDAT;
}

/* Bare LF or CR in a body that is not BINARYMIME (RFC 5321 2.3.8). */
static bool has_bare(struct smtp_bdat *b, const unsigned char *p, size_t n)
{
	bool bare = false;
	for (size_t i = 0; i < n; i++) {
		if (b->prev_cr && p[i] != '\n')
			bare = true;
		if (!b->prev_cr && p[i] == '\n')
			bare = true;
		b->prev_cr = p[i] == '\r';
	}
	return bare;
}

/* Keep n octets of the chunk, unless the message is already refused. */
static void take(struct smtp_session *s, const unsigned char *p, size_t n)
{
	struct smtp_txn *t = &s->txn;
	t->data.size += n;
	if (t->data.verdict != SMTP_DATA_OK || t->failed)
		return;
	if (s->st.message_max != 0 && t->data.size > s->st.message_max) {
		t->data.verdict = SMTP_DATA_TOO_BIG; /* RFC 1870 6.3 */
		buf_clear(&t->msg);
		return;
	}
	if (!t->env.body_binary && !s->st.bare_lf_accept &&
	    has_bare(&t->bdat, p, n)) {
		t->data.verdict = SMTP_DATA_BARE;
		buf_clear(&t->msg);
		return;
	}
	if (buf_append(&t->msg, p, n) != 0) {
		t->failed = true;
		t->fail_code = 451;
		snprintf(t->fail_enh, sizeof(t->fail_enh), "4.3.0");
		snprintf(t->fail_text, sizeof(t->fail_text), "Out of memory");
	}
}

/* The chunk's last octet was read. */
static void chunk_done(struct smtp_session *s)
{
	struct smtp_txn *t = &s->txn;
	struct smtp_bdat *b = &t->bdat;
	/* the command reader starts afresh after the octets */
	buf_line_reader_init(&s->lines, s->lines.max, s->lines.flags);
	if (b->discard) {
		s->state = b->after;
		b->discard = false;
		smtp_reply_error(s, b->code, b->enh, "%s", b->text);
		if (b->last || !b->used)
			smtp_transaction_reset(s);
		return;
	}
	s->state = SMTP_ST_RCPT;
	if (b->last) {
		if (!t->env.body_binary && b->prev_cr &&
		    t->data.verdict == SMTP_DATA_OK && !s->st.bare_lf_accept)
			t->data.verdict = SMTP_DATA_BARE; /* ends in CR */
		smtp_submit_scan(s, true);
		smtp_txn_message_done(s);
		return;
	}
	if (t->data.verdict != SMTP_DATA_OK) {
		/* tell the client now; the message stays refused */
		smtp_reply_error(
			s, t->data.verdict == SMTP_DATA_TOO_BIG ? 552 : 554,
			t->data.verdict == SMTP_DATA_TOO_BIG ? "5.3.4"
							     : "5.6.0",
			"%s",
			t->data.verdict == SMTP_DATA_TOO_BIG
				? "Message size exceeds fixed maximum "
				  "message size"
				: "Bare LF or CR in message");
		return;
	}
	smtp_reply(s, 250, "2.0.0", 0, "%llu octets received", b->chunk);
}

void smtp_bdat_input(struct smtp_session *s)
{
	struct smtp_txn *t = &s->txn;
	struct smtp_bdat *b = &t->bdat;
	while (b->left > 0 && buf_len(&s->in) > 0) {
		size_t n = buf_len(&s->in);
		size_t held = buf_len(&t->msg);
		if ((unsigned long long)n > b->left)
			n = (size_t)b->left;
		/* the host gets the message in chunk_size pieces, however
		 * the octets arrived (what it holds then is deterministic) */
		if (!b->discard && held < s->st.chunk_size &&
		    n > s->st.chunk_size - held)
			n = s->st.chunk_size - held;
		if (!b->discard)
			take(s, (const unsigned char *)buf_data(&s->in), n);
		buf_consume(&s->in, n);
		b->left -= n;
		if (!b->discard)
			smtp_submit_scan(s, false);
		if (!b->discard && buf_len(&t->msg) >= s->st.chunk_size) {
			smtp_submit_flushed(s);
			s->request = SMTP_REQ_DATA_CHUNK;
			return;
		}
	}
	if (b->left == 0)
		chunk_done(s);
}
