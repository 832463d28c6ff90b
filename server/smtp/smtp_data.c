/*
 * smtp_data.c - the DATA phase reader (see smtp_data.h).
 *
 * RFC 5321 4.1.1.4: the message ends with a line holding one "." alone,
 * i.e. the sequence CRLF "." CRLF. 4.5.2: a leading "." of any other line
 * is removed. 2.3.8: CR and LF only appear together as CRLF; a bare one is
 * a client bug or an attack, and is never taken as part of an end marker.
 * 4.5.3.1.6: lines of up to 1000 octets with the CRLF must be accepted.
 */
#include "smtp_data.h"

#include <string.h>

void smtp_data_init(struct smtp_data_reader *r, size_t line_max,
		    unsigned long long max_size, bool bare_normalise)
{
	memset(r, 0, sizeof(*r));
	/* every line end is reported so the policy below can judge it; one
	 * more octet for a transparency dot, which the limit does not count */
	buf_line_reader_init(&r->lines, line_max + 1,
			     BUF_LINE_BARE_LF_ENDS | BUF_LINE_BARE_CR_OK);
	r->line_max = line_max;
	r->prev_crlf = true; /* the DATA command line ended in CRLF */
	r->bare_normalise = bare_normalise;
	r->max_size = max_size;
	r->verdict = SMTP_DATA_OK;
}

static void set_verdict(struct smtp_data_reader *r, enum smtp_data_verdict v)
{
	if (r->verdict == SMTP_DATA_OK)
		r->verdict = v;
}

/* Append p[0..n) to out, bare CRs made CRLF when normalising. */
static void store(struct smtp_data_reader *r, struct buf *out, const char *p,
		  size_t n)
{
	if (r->verdict != SMTP_DATA_OK)
		return;
	r->size += n + 2;
	if (r->max_size != 0 && r->size > r->max_size) {
		set_verdict(r, SMTP_DATA_TOO_BIG);
		return;
	}
	const char *cr;
	while ((cr = memchr(p, '\r', n)) != NULL) {
		size_t k = (size_t)(cr - p);
		if (buf_append(out, p, k) != 0 ||
		    buf_append(out, "\r\n", 2) != 0)
			goto full;
		p += k + 1;
		n -= k + 1;
	}
	if (buf_append(out, p, n) != 0 || buf_append(out, "\r\n", 2) != 0)
		goto full;
	return;
full: /* out is bounded by the caller well above chunk; treat as too big */
	set_verdict(r, SMTP_DATA_TOO_BIG);
}

/* One line, terminator removed; crlf tells how it ended. Returns true at
 * the end of data. */
static bool data_line(struct smtp_data_reader *r, struct buf *out,
		      const char *p, size_t n, bool crlf)
{
	bool bare = !crlf || memchr(p, '\r', n) != NULL;
	bool end = n == 1 && p[0] == '.' && crlf && r->prev_crlf;

	r->prev_crlf = crlf;
	if (end)
		return true;
	if (bare && !r->bare_normalise)
		set_verdict(r, SMTP_DATA_BARE);
	if (n > 0 && p[0] == '.') { /* transparency, 4.5.2 */
		p++;
		n--;
	}
	if (n + 2 > r->line_max) {
		set_verdict(r, SMTP_DATA_LINE_TOO_LONG);
		return false;
	}
	store(r, out, p, n);
	return false;
}

enum smtp_data_step smtp_data_run(struct smtp_data_reader *r, struct buf *in,
				  struct buf *out, size_t chunk)
{
	const char *line;
	size_t len;

	while (buf_len(out) < chunk) {
		switch (buf_line_next(&r->lines, in, &line, &len)) {
		case BUF_LINE_MORE:
			return SMTP_DATA_MORE;
		case BUF_LINE_OK:
			if (data_line(r, out, line, len, r->lines.last_crlf))
				return SMTP_DATA_DONE;
			break;
		case BUF_LINE_TOO_LONG:
			/* the line is gone (it was not "."), but how it
			 * ended still decides whether "." may follow */
			r->prev_crlf = r->lines.last_crlf;
			set_verdict(r, SMTP_DATA_LINE_TOO_LONG);
			break;
		case BUF_LINE_BARE_LF:
		case BUF_LINE_BARE_CR:
			/* not reported with the flags used above */
			set_verdict(r, SMTP_DATA_BARE);
			break;
		}
	}
	return SMTP_DATA_FULL;
}
