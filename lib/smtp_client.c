/*
 * smtp_client.c - SMTP reply reader and DATA helpers (see smtp_client.h).
 *
 * RFC 5321 4.2 and 4.2.1 (reply syntax, multi-line replies), 4.5.3.1.5
 * (reply line length), 4.5.2 and 4.1.1.4 (dot-stuffing, the final
 * ".CRLF"), 4.1.1.1 (EHLO keywords); RFC 2034 section 4 and RFC 3463
 * section 2 (enhanced status codes).
 *
 * Lines are read with lib/buf.h, which drops an over-long line as it
 * arrives, so input held is bounded by about twice line_max; replies are
 * bounded by lines_max, and everything held by held_max.
 */
#include "smtp_client.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct smtp_client {
	struct smtp_client_limits lim;
	struct buf in;
	struct buf_line_reader lines;
	struct smtp_reply *cur; /* the reply being read, or NULL */
	size_t cur_cap;		/* slots in cur->lines */
	struct smtp_reply **q;	/* complete replies: q[q_head .. q_len) */
	size_t q_head, q_len, q_cap;
	size_t held; /* bytes counted against lim.held_max */
	bool broken;
	char error[160];
};

void smtp_reply_free(struct smtp_reply **rp)
{
	struct smtp_reply *r = *rp;
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n_lines; i++)
		free(r->lines[i]);
	free(r->lines);
	free(r);
	*rp = NULL;
}

/* What a reply counts against held_max: its struct, and per line the text,
 * its NUL and its slot. The text holds no NUL, so strlen is its length. */
static size_t reply_cost(const struct smtp_reply *r)
{
	size_t n = sizeof(*r);
	for (size_t i = 0; i < r->n_lines; i++)
		n += strlen(r->lines[i]) + 1 + sizeof(char *);
	return n;
}

struct smtp_client *smtp_client_new(const struct smtp_client_limits *lim)
{
	struct smtp_client *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	if (lim != NULL)
		c->lim = *lim;
	if (c->lim.line_max == 0)
		c->lim.line_max = SMTP_CLIENT_LINE_MAX_DEFAULT;
	if (c->lim.line_max < 8) /* "250 x" CRLF and a little more */
		c->lim.line_max = 8;
	if (c->lim.line_max > SIZE_MAX / 4)
		c->lim.line_max = SIZE_MAX / 4;
	if (c->lim.lines_max == 0)
		c->lim.lines_max = SMTP_CLIENT_LINES_MAX_DEFAULT;
	if (c->lim.held_max == 0)
		c->lim.held_max = SMTP_CLIENT_HELD_MAX_DEFAULT;
	/* a partial line (< line_max) plus what one feed step appends */
	buf_init(&c->in, c->lim.line_max * 2 + 4096);
	buf_line_reader_init(&c->lines, c->lim.line_max, 0);
	return c;
}

void smtp_client_free(struct smtp_client **cp)
{
	struct smtp_client *c = *cp;
	if (c == NULL)
		return;
	smtp_reply_free(&c->cur);
	for (size_t i = c->q_head; i < c->q_len; i++)
		smtp_reply_free(&c->q[i]);
	free(c->q);
	buf_free(&c->in);
	free(c);
	*cp = NULL;
}

const char *smtp_client_error(const struct smtp_client *c)
{
	return c->error;
}

bool smtp_client_partial(const struct smtp_client *c)
{
	return !c->broken &&
	       (c->cur != NULL || buf_len(&c->in) > 0 || c->lines.discarding);
}

static int fail(struct smtp_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct smtp_client *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
	c->broken = true;
	buf_clear(&c->in);
	return -1;
}

/* The enhanced status code at the start of t, if any (RFC 3463 section 2:
 * class "." 1*3digit "." 1*3digit, class 2, 4 or 5; RFC 2034 section 4:
 * always followed by a space). */
static void parse_enhanced(const char *t, char out[16])
{
	size_t i = 2;

	out[0] = '\0';
	if ((t[0] != '2' && t[0] != '4' && t[0] != '5') || t[1] != '.')
		return;
	for (int part = 0; part < 2; part++) {
		size_t d = 0;
		while (d < 4 && t[i + d] >= '0' && t[i + d] <= '9')
			d++;
		if (d < 1 || d > 3)
			return;
		i += d;
		if (t[i] != (part == 0 ? '.' : ' '))
			return;
		i++;
	}
	memcpy(out, t, i - 1);
	out[i - 1] = '\0';
}

/* Up to 8 bytes of p as printable text for an error message. */
static const char *sample(const char *p, size_t n, char out[40])
{
	size_t o = 0;
	for (size_t i = 0; i < n && i < 8; i++) {
		unsigned char ch = (unsigned char)p[i];
		if (ch >= 0x20 && ch < 0x7f && ch != '\'' && ch != '\\')
			out[o++] = (char)ch;
		else
			o += (size_t)snprintf(out + o, 5, "\\x%02x", ch);
	}
	out[o] = '\0';
	return out;
}

/* Refuse NUL and control characters other than HT (RFC 5321 4.2:
 * textstring is HT, SP and printable characters). */
static int check_bytes(struct smtp_client *c, size_t no, const char *line,
		       size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)line[i];
		if (ch == '\0')
			return fail(c, "reply line %zu: NUL byte", no);
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return fail(c,
				    "reply line %zu: control character 0x%02x",
				    no, ch);
	}
	return 0;
}

/* Reply-code = %x32-35 %x30-35 %x30-39, then SP, "-" or the end. Returns
 * the code, or -1 after fail(). */
static int parse_code(struct smtp_client *c, size_t no, const char *line,
		      size_t len)
{
	char s[40];

	if (len < 3 || line[0] < '0' || line[0] > '9' || line[1] < '0' ||
	    line[1] > '9' || line[2] < '0' || line[2] > '9')
		return fail(c, "reply line %zu: malformed reply code '%s'", no,
			    sample(line, len < 3 ? len : 3, s));
	if (line[0] < '2' || line[0] > '5' || line[1] > '5')
		return fail(c,
			    "reply line %zu: reply code %.3s out of range "
			    "(2yz to 5yz, second digit 0 to 5)",
			    no, line);
	if (len > 3 && line[3] != ' ' && line[3] != '-')
		return fail(c,
			    "reply line %zu: '%s' after reply code %.3s, not "
			    "' ' or '-'",
			    no, sample(line + 3, 1, s), line);
	return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

static int start_reply(struct smtp_client *c, int code)
{
	if (c->lim.held_max - c->held < sizeof(*c->cur))
		return fail(c, "more than %zu bytes of replies held",
			    c->lim.held_max);
	c->cur = calloc(1, sizeof(*c->cur));
	if (c->cur == NULL)
		return fail(c, "out of memory");
	c->cur->code = code;
	c->cur_cap = 0;
	c->held += sizeof(*c->cur);
	return 0;
}

static int add_line(struct smtp_client *c, const char *text, size_t n)
{
	struct smtp_reply *r = c->cur;
	size_t cost = n + 1 + sizeof(char *);

	if (r->n_lines >= c->lim.lines_max)
		return fail(c, "reply has more than %zu lines",
			    c->lim.lines_max);
	if (c->lim.held_max - c->held < cost)
		return fail(c, "more than %zu bytes of replies held",
			    c->lim.held_max);
	if (r->n_lines == c->cur_cap) {
		size_t cap = c->cur_cap == 0 ? 4 : c->cur_cap * 2;
		if (cap > c->lim.lines_max)
			cap = c->lim.lines_max;
		char **p = realloc(r->lines, cap * sizeof(*p));
		if (p == NULL)
			return fail(c, "out of memory");
		r->lines = p;
		c->cur_cap = cap;
	}
	char *s = malloc(n + 1);
	if (s == NULL)
		return fail(c, "out of memory");
	memcpy(s, text, n);
	s[n] = '\0';
	r->lines[r->n_lines++] = s;
	c->held += cost;
	return 0;
}

/* The reply in cur is complete: queue it. */
static int finish_reply(struct smtp_client *c)
{
	if (c->q_len == c->q_cap) {
		if (c->q_head > 0) {
			c->q_len -= c->q_head;
			memmove(c->q, c->q + c->q_head,
				c->q_len * sizeof(*c->q));
			c->q_head = 0;
		} else {
			size_t cap = c->q_cap == 0 ? 8 : c->q_cap * 2;
			struct smtp_reply **p = realloc(c->q, cap * sizeof(*p));
			if (p == NULL)
				return fail(c, "out of memory");
			c->q = p;
			c->q_cap = cap;
		}
	}
	parse_enhanced(c->cur->lines[0], c->cur->enhanced);
	c->q[c->q_len++] = c->cur;
	c->cur = NULL;
	return 0;
}

/* One complete line, CRLF removed. */
static int reply_line(struct smtp_client *c, const char *line, size_t len)
{
	size_t no = (c->cur != NULL ? c->cur->n_lines : 0) + 1;

	if (check_bytes(c, no, line, len) != 0)
		return -1;
	int code = parse_code(c, no, line, len);
	if (code < 0)
		return -1;
	if (c->cur != NULL && code != c->cur->code)
		return fail(c,
			    "reply line %zu: code %d differs from %d of the "
			    "first line",
			    no, code, c->cur->code);
	if (c->cur == NULL && start_reply(c, code) != 0)
		return -1;
	if (add_line(c, len > 3 ? line + 4 : "", len > 3 ? len - 4 : 0) != 0)
		return -1;
	return len > 3 && line[3] == '-' ? 0 : finish_reply(c);
}

/* Read every complete line in the input. */
static int process(struct smtp_client *c)
{
	const char *line;
	size_t len;

	for (;;) {
		size_t no = (c->cur != NULL ? c->cur->n_lines : 0) + 1;
		switch (buf_line_next(&c->lines, &c->in, &line, &len)) {
		case BUF_LINE_MORE:
			return 0;
		case BUF_LINE_OK:
			if (reply_line(c, line, len) != 0)
				return -1;
			break;
		case BUF_LINE_TOO_LONG:
			return fail(c,
				    "reply line %zu: longer than %zu octets "
				    "with CRLF",
				    no, c->lim.line_max);
		case BUF_LINE_BARE_LF:
			return fail(c,
				    "reply line %zu: bare LF (lines end in "
				    "CRLF)",
				    no);
		case BUF_LINE_BARE_CR:
			return fail(c, "reply line %zu: bare CR", no);
		}
	}
}

int smtp_client_feed(struct smtp_client *c, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t taken = 0;

	if (c->broken)
		return -1;
	while (taken < len) {
		/* process() leaves less than line_max, so room is never 0 */
		size_t n;
		if (buf_append_some(&c->in, p + taken, len - taken, &n) != 0)
			return fail(c, "out of memory");
		taken += n;
		if (process(c) != 0)
			return -1;
	}
	return 0;
}

int smtp_client_next_reply(struct smtp_client *c, struct smtp_reply **r_r)
{
	if (c->q_head < c->q_len) {
		struct smtp_reply *r = c->q[c->q_head++];
		if (c->q_head == c->q_len)
			c->q_head = c->q_len = 0;
		c->held -= reply_cost(r);
		*r_r = r;
		return 1;
	}
	*r_r = NULL;
	return c->broken ? -1 : 0;
}

int smtp_dot_stuff(const void *msg, size_t len, struct buf *out)
{
	const char *p = msg;
	size_t keep = buf_len(out);
	int rc = 0;

	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			return -1; /* bare LF */
		if (p[i] == '\r' && (i + 1 == len || p[i + 1] != '\n'))
			return -1; /* bare CR */
	}
	for (size_t start = 0; start < len && rc == 0;) {
		const char *lf = memchr(p + start, '\n', len - start);
		size_t end = lf != NULL ? (size_t)(lf - p) + 1 : len;
		if (p[start] == '.')
			rc = buf_append(out, ".", 1);
		if (rc == 0)
			rc = buf_append(out, p + start, end - start);
		start = end;
	}
	if (rc == 0 && len > 0 && p[len - 1] != '\n')
		rc = buf_append(out, "\r\n", 2);
	if (rc == 0)
		rc = buf_append(out, ".\r\n", 3);
	if (rc != 0) /* appending may have moved the unread bytes to 0 */
		out->len = out->off + keep;
	return rc;
}

static bool ascii_ieq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return true;
}

int smtp_ehlo_has(const struct smtp_reply *ehlo, const char *keyword,
		  const char **params_r)
{
	size_t kl = keyword != NULL ? strlen(keyword) : 0;

	if (ehlo == NULL || ehlo->code != 250 || kl == 0)
		return 0;
	for (size_t i = 1; i < ehlo->n_lines; i++) {
		const char *l = ehlo->lines[i];
		if (strnlen(l, kl) < kl || !ascii_ieq(l, keyword, kl))
			continue;
		if (l[kl] != '\0' && l[kl] != ' ')
			continue;
		if (params_r != NULL)
			*params_r = l[kl] != '\0' ? l + kl + 1 : l + kl;
		return 1;
	}
	return 0;
}
