/*
 * pop3_client.c - POP3 response reader and listing parsers (see
 * pop3_client.h).
 *
 * RFC 1939 section 3 (status lines, multi-line responses, byte-stuffing as
 * the client undoes it), 5 (scan and drop listings), 7 (unique-id
 * listings); RFC 2449 section 4 (status line length) and 8 (response
 * codes); RFC 5034 section 4 (continuations).
 *
 * Status lines are read with lib/buf.h's line reader; a body is read byte
 * by byte by a small state machine straight into a bounded buffer, so no
 * body line is ever held whole twice and none has a limit but the body's.
 */
#include "pop3_client.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* Where a body's parser stands: at a line start, in a line, after its CR,
 * after a leading '.', after ".CR". */
enum body_state { BS_START, BS_TEXT, BS_CR, BS_DOT, BS_DOT_CR };

struct pop3_client {
	struct pop3_client_limits lim;
	struct buf in;
	struct buf_line_reader lines;
	enum pop3_expect expq[POP3_CLIENT_EXPECT_MAX]; /* a ring */
	size_t exp_head, exp_n;
	struct pop3_response *cur; /* a +OK whose body is being read */
	struct buf body;
	enum body_state bs;
	struct pop3_response **q; /* complete responses: q[q_head .. q_len) */
	size_t q_head, q_len, q_cap;
	size_t held;		   /* bytes counted against lim.held_max */
	unsigned long long n_resp; /* responses started, for messages */
	bool broken;
	char error[160];
};

void pop3_response_free(struct pop3_response **rp)
{
	struct pop3_response *r = *rp;
	if (r == NULL)
		return;
	free(r->text);
	free(r->body);
	free(r);
	*rp = NULL;
}

static size_t response_cost(const struct pop3_response *r)
{
	return sizeof(*r) + strlen(r->text) + 1 +
	       (r->body != NULL ? r->body_len + 1 : 0);
}

struct pop3_client *pop3_client_new(const struct pop3_client_limits *lim)
{
	struct pop3_client *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	if (lim != NULL)
		c->lim = *lim;
	if (c->lim.line_max == 0)
		c->lim.line_max = POP3_CLIENT_LINE_MAX_DEFAULT;
	if (c->lim.line_max < 8) /* "+OK" CRLF and a little more */
		c->lim.line_max = 8;
	if (c->lim.line_max > SIZE_MAX / 4)
		c->lim.line_max = SIZE_MAX / 4;
	if (c->lim.body_max == 0)
		c->lim.body_max = POP3_CLIENT_BODY_MAX_DEFAULT;
	if (c->lim.body_max > SIZE_MAX / 4)
		c->lim.body_max = SIZE_MAX / 4;
	if (c->lim.held_max == 0) /* two bodies and the status lines */
		c->lim.held_max = c->lim.body_max * 2 + 1024 * 1024;
	buf_init(&c->in, c->lim.line_max * 2 + 4096);
	buf_line_reader_init(&c->lines, c->lim.line_max, 0);
	buf_init(&c->body, c->lim.body_max + 1); /* + the NUL at the end */
	return c;
}

void pop3_client_free(struct pop3_client **cp)
{
	struct pop3_client *c = *cp;
	if (c == NULL)
		return;
	pop3_response_free(&c->cur);
	for (size_t i = c->q_head; i < c->q_len; i++)
		pop3_response_free(&c->q[i]);
	free(c->q);
	buf_free(&c->in);
	buf_free(&c->body);
	free(c);
	*cp = NULL;
}

const char *pop3_client_error(const struct pop3_client *c)
{
	return c->error;
}

bool pop3_client_partial(const struct pop3_client *c)
{
	return !c->broken &&
	       (c->cur != NULL || buf_len(&c->in) > 0 || c->lines.discarding);
}

int pop3_client_expect(struct pop3_client *c, enum pop3_expect e)
{
	if (c->broken || c->exp_n == POP3_CLIENT_EXPECT_MAX ||
	    (e != POP3_EXPECT_SINGLE && e != POP3_EXPECT_MULTI &&
	     e != POP3_EXPECT_SASL))
		return -1;
	c->expq[(c->exp_head + c->exp_n) % POP3_CLIENT_EXPECT_MAX] = e;
	c->exp_n++;
	return 0;
}

size_t pop3_client_expected(const struct pop3_client *c)
{
	return c->exp_n + (c->cur != NULL ? 1 : 0);
}

static int fail(struct pop3_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct pop3_client *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
	c->broken = true;
	buf_clear(&c->in);
	return -1;
}

/* Up to 12 bytes of p as printable text for an error message. */
static const char *sample(const char *p, size_t n, char out[64])
{
	size_t o = 0;
	for (size_t i = 0; i < n && i < 12; i++) {
		unsigned char ch = (unsigned char)p[i];
		if (ch >= 0x20 && ch < 0x7f && ch != '\'' && ch != '\\')
			out[o++] = (char)ch;
		else
			o += (size_t)snprintf(out + o, 5, "\\x%02x", ch);
	}
	if (n > 12) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

/* The RFC 2449 response code at the start of t, if well-formed:
 * "[" resp-level *("/" resp-level) "]", resp-level = 1*rchar, rchar any
 * printable ASCII but "/" and "]". Kept without the brackets. */
static void parse_resp_code(const char *t, char out[64])
{
	bool need_level = true;
	size_t i = 1;

	out[0] = '\0';
	if (t[0] != '[')
		return;
	for (;; i++) {
		unsigned char ch = (unsigned char)t[i];
		if (ch == ']' || ch == '/') {
			if (need_level)
				return;
			if (ch == ']')
				break;
			need_level = true;
		} else if (ch < 0x21 || ch > 0x7e) {
			return;
		} else {
			need_level = false;
		}
	}
	if (i - 1 >= 64)
		return;
	memcpy(out, t + 1, i - 1);
	out[i - 1] = '\0';
}

/* Queue a complete response; its cost is already in held. */
static int queue_response(struct pop3_client *c, struct pop3_response *r)
{
	if (c->q_len == c->q_cap) {
		if (c->q_head > 0) {
			c->q_len -= c->q_head;
			memmove(c->q, c->q + c->q_head,
				c->q_len * sizeof(*c->q));
			c->q_head = 0;
		} else {
			size_t cap = c->q_cap == 0 ? 8 : c->q_cap * 2;
			struct pop3_response **p =
				realloc(c->q, cap * sizeof(*p));
			if (p == NULL) {
				pop3_response_free(&r);
				return fail(c, "out of memory");
			}
			c->q = p;
			c->q_cap = cap;
		}
	}
	c->q[c->q_len++] = r;
	return 0;
}

static int hold(struct pop3_client *c, size_t n)
{
	if (c->lim.held_max - c->held < n)
		return fail(c, "more than %zu bytes of responses held",
			    c->lim.held_max);
	c->held += n;
	return 0;
}

/* Which kind of line this is, given what is expected; -1 after fail(). */
static int classify(struct pop3_client *c, enum pop3_expect e, const char *line,
		    size_t len, enum pop3_status *st_r, size_t *skip_r)
{
	char s[64];

	if (len >= 3 && memcmp(line, "+OK", 3) == 0 &&
	    (len == 3 || line[3] == ' ')) {
		*st_r = POP3_OK;
		*skip_r = len == 3 ? 3 : 4;
	} else if (len >= 4 && memcmp(line, "-ERR", 4) == 0 &&
		   (len == 4 || line[4] == ' ')) {
		*st_r = POP3_ERR;
		*skip_r = len == 4 ? 4 : 5;
	} else if (e == POP3_EXPECT_SASL && len >= 2 && line[0] == '+' &&
		   line[1] == ' ') {
		*st_r = POP3_CONT;
		*skip_r = 2;
	} else {
		return fail(c, "response %llu: expected %s, got '%s'",
			    c->n_resp,
			    e == POP3_EXPECT_SASL ? "+OK, -ERR or \"+ \""
						  : "+OK or -ERR",
			    sample(line, len, s));
	}
	return 0;
}

/* One complete status line, CRLF removed; the next expectation is met. */
static int status_line(struct pop3_client *c, const char *line, size_t len)
{
	enum pop3_expect e = c->expq[c->exp_head];
	enum pop3_status st = POP3_ERR;
	size_t skip = 0;

	c->exp_head = (c->exp_head + 1) % POP3_CLIENT_EXPECT_MAX;
	c->exp_n--;
	c->n_resp++;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)line[i];
		if (ch == '\0' || (ch < 0x20 && ch != '\t') || ch == 0x7f)
			return fail(
				c, "response %llu: %s 0x%02x in status line",
				c->n_resp,
				ch == 0 ? "NUL byte" : "control character", ch);
	}
	if (classify(c, e, line, len, &st, &skip) != 0)
		return -1;
	if (hold(c, sizeof(struct pop3_response) + len - skip + 1) != 0)
		return -1;
	struct pop3_response *r = calloc(1, sizeof(*r));
	char *text = malloc(len - skip + 1);
	if (r == NULL || text == NULL) {
		free(r);
		free(text);
		return fail(c, "out of memory");
	}
	memcpy(text, line + skip, len - skip);
	text[len - skip] = '\0';
	r->status = st;
	r->text = text;
	if (st != POP3_CONT)
		parse_resp_code(text, r->code);
	if (st == POP3_OK && e == POP3_EXPECT_MULTI) {
		r->multiline = true;
		c->cur = r;
		c->bs = BS_START;
		buf_clear(&c->body);
		return 0;
	}
	return queue_response(c, r);
}

static int body_append(struct pop3_client *c, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (c->lim.body_max - buf_len(&c->body) < n)
		return fail(c, "response %llu: body longer than %zu octets",
			    c->n_resp, c->lim.body_max);
	if (hold(c, n) != 0)
		return -1;
	if (buf_append(&c->body, p, n) != 0)
		return fail(c, "out of memory");
	return 0;
}

/* The ".CRLF" was seen: hand the body to the response and queue it. */
static int body_finish(struct pop3_client *c)
{
	struct pop3_response *r = c->cur;
	size_t len = buf_len(&c->body);

	c->cur = NULL;
	if (hold(c, 1) != 0 || buf_append(&c->body, "", 1) != 0) {
		pop3_response_free(&r);
		return c->broken ? -1 : fail(c, "out of memory");
	}
	unsigned char *p = realloc(c->body.data, len + 1); /* shrink */
	r->body = p != NULL ? p : c->body.data;
	r->body_len = len;
	buf_init(&c->body, c->body.max); /* the data now belongs to r */
	return queue_response(c, r);
}

static int body_bad_end(struct pop3_client *c, const char *what)
{
	return fail(c, "response %llu: body line %zu: %s", c->n_resp,
		    c->cur->body_lines + 1, what);
}

/* Take body bytes from the input: 1 when the body ended, 0 when the input
 * ran dry, -1 after fail(). RFC 1939 section 3: a line of just "." ends
 * the body; of any other line starting with ".", the "." is removed. */
static int body_bytes(struct pop3_client *c)
{
	const char *p = (const char *)buf_data(&c->in);
	size_t n = buf_len(&c->in), i = 0;

	while (i < n) {
		size_t k = i;
		switch (c->bs) {
		case BS_START:
		case BS_DOT:
			if (c->bs == BS_START && p[i] == '.') {
				c->bs = BS_DOT;
				i++;
			} else if (c->bs == BS_DOT && p[i] == '\r') {
				c->bs = BS_DOT_CR;
				i++;
			} else {
				c->bs = BS_TEXT;
			}
			break;
		case BS_TEXT:
			while (k < n && p[k] != '\r' && p[k] != '\n')
				k++;
			if (body_append(c, p + i, k - i) != 0)
				return -1;
			if (k < n && p[k] == '\n')
				return body_bad_end(c, "bare LF");
			if (k < n)
				c->bs = BS_CR;
			i = k < n ? k + 1 : k;
			break;
		case BS_CR:
			if (p[i] != '\n')
				return body_bad_end(c, "bare CR");
			if (body_append(c, "\r\n", 2) != 0)
				return -1;
			c->cur->body_lines++;
			c->bs = BS_START;
			i++;
			break;
		case BS_DOT_CR:
			if (p[i] != '\n')
				return body_bad_end(c, "bare CR");
			buf_consume(&c->in, i + 1);
			return body_finish(c) != 0 ? -1 : 1;
		}
	}
	buf_consume(&c->in, n);
	return 0;
}

/* Read everything complete in the input. */
static int process(struct pop3_client *c)
{
	const char *line;
	size_t len;
	char s[64];

	for (;;) {
		if (c->cur != NULL) {
			int rc = body_bytes(c);
			if (rc <= 0)
				return rc;
			continue;
		}
		if (buf_len(&c->in) == 0)
			return 0;
		if (c->exp_n == 0)
			return fail(
				c,
				"unsolicited data from the server (first "
				"byte '%s')",
				sample((const char *)buf_data(&c->in), 1, s));
		switch (buf_line_next(&c->lines, &c->in, &line, &len)) {
		case BUF_LINE_MORE:
			return 0;
		case BUF_LINE_OK:
			if (status_line(c, line, len) != 0)
				return -1;
			break;
		case BUF_LINE_TOO_LONG:
			return fail(c,
				    "response %llu: status line longer than "
				    "%zu octets with CRLF",
				    c->n_resp + 1, c->lim.line_max);
		case BUF_LINE_BARE_LF:
			return fail(c,
				    "response %llu: bare LF in status line "
				    "(lines end in CRLF)",
				    c->n_resp + 1);
		case BUF_LINE_BARE_CR:
			return fail(c, "response %llu: bare CR in status line",
				    c->n_resp + 1);
		}
	}
}

int pop3_client_feed(struct pop3_client *c, const void *data, size_t len)
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

int pop3_client_next(struct pop3_client *c, struct pop3_response **r_r)
{
	if (c->q_head < c->q_len) {
		struct pop3_response *r = c->q[c->q_head++];
		if (c->q_head == c->q_len)
			c->q_head = c->q_len = 0;
		c->held -= response_cost(r);
		*r_r = r;
		return 1;
	}
	*r_r = NULL;
	return c->broken ? -1 : 0;
}

int pop3_body_line(const struct pop3_response *r, size_t *pos_r, char *line,
		   size_t n)
{
	size_t pos = *pos_r;

	if (r->body == NULL || pos >= r->body_len)
		return 0;
	const unsigned char *p = r->body + pos;
	const unsigned char *lf = memchr(p, '\n', r->body_len - pos);
	/* every body line ends in CRLF: the reader made sure of it */
	size_t len = lf != NULL ? (size_t)(lf - p) - 1 : r->body_len - pos;
	*pos_r = lf != NULL ? pos + len + 2 : r->body_len;
	if (len + 1 > n || memchr(p, '\0', len) != NULL)
		return -1;
	memcpy(line, p, len);
	line[len] = '\0';
	return 1;
}

/* 1*DIGIT up to max; the end of the digits, or NULL. */
static const char *parse_num(const char *p, unsigned long long max,
			     unsigned long long *v_r)
{
	unsigned long long v = 0;

	if (*p < '0' || *p > '9')
		return NULL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (max - d) / 10)
			return NULL;
		v = v * 10 + d;
	}
	*v_r = v;
	return p;
}

/* number SP number [SP anything]; the first at least min_first. */
static int parse_pair(const char *s, unsigned long long min_first,
		      unsigned long *a_r, unsigned long long *b_r)
{
	unsigned long long a, b;
	const char *p = parse_num(s, ULONG_MAX, &a);

	if (p == NULL || a < min_first || *p != ' ')
		return -1;
	p = parse_num(p + 1, ULLONG_MAX, &b);
	if (p == NULL || (*p != '\0' && *p != ' '))
		return -1;
	*a_r = (unsigned long)a;
	*b_r = b;
	return 0;
}

int pop3_parse_scan_listing(const char *line, unsigned long *msg_r,
			    unsigned long long *size_r)
{
	return parse_pair(line, 1, msg_r, size_r);
}

int pop3_parse_drop_listing(const char *text, unsigned long *count_r,
			    unsigned long long *size_r)
{
	return parse_pair(text, 0, count_r, size_r);
}

int pop3_parse_uidl_listing(const char *line, unsigned long *msg_r,
			    char *uid_out, size_t uid_n)
{
	unsigned long long msg;
	const char *p = parse_num(line, ULONG_MAX, &msg);
	size_t n = 0;

	if (p == NULL || msg < 1 || *p != ' ')
		return -1;
	p++;
	while (p[n] >= 0x21 && p[n] <= 0x7e)
		n++;
	if (n < 1 || n > 70 || p[n] != '\0' || n + 1 > uid_n)
		return -1;
	memcpy(uid_out, p, n);
	uid_out[n] = '\0';
	*msg_r = (unsigned long)msg;
	return 0;
}
