/*
 * transcript.c - the record of a scenario's dialogue (see transcript.h).
 */
#include "transcript.h"
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define TRUNCATED_NOTE "[transcript truncated]\n"

void transcript_init(struct transcript *t)
{
	memset(t, 0, sizeof(*t));
	buf_init(&t->out, TRANSCRIPT_MAX + sizeof(TRUNCATED_NOTE) + 1);
}

void transcript_free(struct transcript *t)
{
	buf_free(&t->out);
	t->pend_dir = 0;
}

static int esc_byte(struct buf *out, unsigned char c)
{
	char tmp[8];
	switch (c) {
	case '\\':
		return buf_append(out, "\\\\", 2);
	case '\r':
		return buf_append(out, "\\r", 2);
	case '\n':
		return buf_append(out, "\\n", 2);
	case '\t':
		return buf_append(out, "\\t", 2);
	default:
		break;
	}
	if (c >= 0x20 && c < 0x7f)
		return buf_append(out, &c, 1);
	snprintf(tmp, sizeof(tmp), "\\x%02x", c);
	return buf_append(out, tmp, 4);
}

int transcript_escape(struct buf *out, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++)
		if (esc_byte(out, p[i]) != 0)
			return -1;
	return 0;
}

void transcript_escape_str(char *out, size_t n, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t o = 0;
	struct buf one;

	if (n == 0)
		return;
	buf_init(&one, 8);
	for (size_t i = 0; i < len; i++) {
		buf_clear(&one);
		esc_byte(&one, p[i]);
		/* keep room for "..." unless this is the last byte */
		size_t need = buf_len(&one) + (i + 1 < len ? 3 : 0);
		if (o + need >= n) {
			if (o + 3 < n) {
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		memcpy(out + o, buf_data(&one), buf_len(&one));
		o += buf_len(&one);
	}
	out[o] = '\0';
	buf_free(&one);
}

/* Append text to the transcript, or mark it truncated. */
static void put(struct transcript *t, const char *s, size_t len)
{
	if (t->truncated)
		return;
	if (buf_len(&t->out) + len + 1 > TRANSCRIPT_MAX ||
	    buf_append(&t->out, s, len) != 0) {
		t->truncated = true;
		buf_append_str(&t->out, TRUNCATED_NOTE);
	}
}

static void put_escaped(struct transcript *t, const void *data, size_t len)
{
	struct buf b;
	buf_init(&b, len * 4 + 1);
	if (transcript_escape(&b, data, len) == 0)
		put(t, (const char *)buf_data(&b), buf_len(&b));
	buf_free(&b);
}

/* Write the pending line; partial: it has no line end yet. */
static void emit(struct transcript *t, bool partial)
{
	char tail[64];
	size_t len = t->pend_len;

	if (t->pend_dir == 0)
		return;
	/* a CRLF at the end is the normal line end: not shown */
	if (!partial && t->pend_more == 0 && len >= 2 &&
	    t->pend[len - 2] == '\r' && t->pend[len - 1] == '\n')
		len -= 2;
	put(t, t->pend_session, strlen(t->pend_session));
	put(t, t->pend_dir == 'C' ? " C: " : " S: ", 4);
	put_escaped(t, t->pend, len);
	tail[0] = '\0';
	if (t->pend_more > 0)
		snprintf(tail, sizeof(tail), "... [%zu more bytes%s]",
			 t->pend_more, t->pend_cr || partial ? "" : ", \\n");
	put(t, tail, strlen(tail));
	if (partial)
		put(t, " [partial]", 10);
	put(t, "\n", 1);
	t->pend_dir = 0;
	t->pend_len = 0;
	t->pend_more = 0;
	t->pend_cr = false;
}

void transcript_data(struct transcript *t, const char *session, char dir,
		     const void *data, size_t len)
{
	const unsigned char *p = data;

	if (t->pend_dir != 0 &&
	    (t->pend_dir != dir || strcmp(t->pend_session, session) != 0))
		emit(t, true);
	for (size_t i = 0; i < len && !t->truncated; i++) {
		if (t->pend_dir == 0) {
			t->pend_dir = dir;
			snprintf(t->pend_session, sizeof(t->pend_session), "%s",
				 session);
		}
		if (t->pend_len < sizeof(t->pend))
			t->pend[t->pend_len++] = p[i];
		else
			t->pend_more++;
		if (p[i] == '\n')
			emit(t, false);
		else
			t->pend_cr = p[i] == '\r';
	}
}

__attribute__((format(printf, 3, 0))) static void
put_vformat(struct transcript *t, const char *prefix, const char *fmt,
	    va_list ap)
{
	char msg[2048];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	emit(t, true);
	put(t, prefix, strlen(prefix));
	put(t, msg, strlen(msg));
	put(t, "\n", 1);
}

void transcript_note(struct transcript *t, const char *session, const char *fmt,
		     ...)
{
	char prefix[80];
	va_list ap;
	snprintf(prefix, sizeof(prefix), "%s * ", session);
	va_start(ap, fmt);
	put_vformat(t, prefix, fmt, ap);
	va_end(ap);
}

void transcript_line(struct transcript *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	put_vformat(t, "", fmt, ap);
	va_end(ap);
}

const char *transcript_text(struct transcript *t)
{
	emit(t, true);
	if (buf_append(&t->out, "", 1) != 0)
		return "";
	t->out.len--; /* keep the NUL out of the text */
	return (const char *)buf_data(&t->out);
}
