/*
 * fuzzmode_check.c - what the fuzzer judges in a reply: the greeting of a
 * health check, and the desync heuristic (fuzzmode.h).
 *
 * A desync is a reply that does not parse as replies of the protocol:
 * SMTP lines must be `^[2-5][0-9][0-9]( |-|$)` with one code per
 * multi-line reply (RFC 5321 4.2); POP3 status lines `+OK`, `-ERR` or a
 * `+` continuation, multi-line bodies only after commands that have them
 * (RFC 1939 3); IMAP lines `* `, `+` or a tag the client sent with OK, NO
 * or BAD (RFC 3501 7), literals skipped. Every line ends in CRLF and holds
 * no NUL or bare CR. SMTP and POP3 may not send more replies than the
 * client sent lines (plus the greeting and a closing 421 / -ERR). After a
 * STARTTLS the client asked for, TLS records (0x15/0x16 0x03) end the
 * check: they are the server's handshake, not a desync.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "fuzzmode.h"

enum fuzzmode_proto fuzzmode_proto_of(const char *service)
{
	if (strncmp(service, "pop3", 4) == 0)
		return FUZZMODE_POP3;
	if (strncmp(service, "imap", 4) == 0)
		return FUZZMODE_IMAP;
	return FUZZMODE_SMTP;
}

bool fuzzmode_greeting_ok(enum fuzzmode_proto p, const void *reply, size_t len)
{
	const char *want = p == FUZZMODE_POP3	? "+OK"
			   : p == FUZZMODE_IMAP ? "* OK"
						: "220";
	size_t n = strlen(want);
	if (p == FUZZMODE_IMAP && len >= 9 &&
	    strncasecmp(reply, "* PREAUTH", 9) == 0)
		return true;
	return len >= n && strncasecmp(reply, want, n) == 0 &&
	       (len == n || ((const char *)reply)[n] == ' ' ||
		((const char *)reply)[n] == '-' ||
		((const char *)reply)[n] == '\r');
}

/* A line of the reply: [p, p + len) without its LF; eol: it had one. */
struct rline {
	const char *p;
	size_t len;
	bool eol;
};

static bool next_line(const char **cur, const char *end, struct rline *l)
{
	const char *lf;
	if (*cur >= end)
		return false;
	l->p = *cur;
	lf = memchr(*cur, '\n', (size_t)(end - *cur));
	l->eol = lf != NULL;
	l->len = (size_t)((lf != NULL ? lf : end) - *cur);
	*cur = lf != NULL ? lf + 1 : end;
	return true;
}

static bool contains_ci(const char *s, size_t len, const char *w)
{
	size_t n = strlen(w);
	for (size_t i = 0; i + n <= len; i++)
		if (strncasecmp(s + i, w, n) == 0)
			return true;
	return false;
}

/* Lines the client sent: LFs, and bare CRs that a server may end a line
 * at. */
static size_t sent_lines(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += s[i] == '\n' ||
		     (s[i] == '\r' && (i + 1 == len || s[i + 1] != '\n'));
	return n;
}

struct judge {
	const char *sent;
	size_t sent_len;
	bool tls_asked;
	char *why;
	size_t whylen;
};

static void show(const struct rline *l, char *out, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < l->len && k + 5 < n && i < 60; i++) {
		unsigned char c = (unsigned char)l->p[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[k++] = (char)c;
		else
			k += (size_t)snprintf(out + k, n - k, "\\x%02x", c);
	}
	out[k] = '\0';
}

static int bad(struct judge *j, const struct rline *l, const char *what)
{
	char text[300];
	show(l, text, sizeof(text));
	snprintf(j->why, j->whylen, "%s: '%s'", what, text);
	return 1;
}

/* 1 if the line is the server's TLS handshake after our STARTTLS. */
static bool is_tls(const struct judge *j, const struct rline *l)
{
	return j->tls_asked && l->len >= 2 &&
	       (l->p[0] == 0x15 || l->p[0] == 0x16) && l->p[1] == 0x03;
}

/* CRLF-terminated, no NUL, no bare CR; 1 (and why) if not. */
static int framing(struct judge *j, const struct rline *l, bool eof)
{
	if (!l->eol)
		return eof ? bad(j, l, "a line without CRLF before the close")
			   : 0;
	if (l->len == 0 || l->p[l->len - 1] != '\r')
		return bad(j, l, "a line ended by a bare LF");
	if (memchr(l->p, '\0', l->len) != NULL)
		return bad(j, l, "a NUL in a line");
	if (memchr(l->p, '\r', l->len - 1) != NULL)
		return bad(j, l, "a bare CR in a line");
	return 0;
}

static int too_many(struct judge *j, size_t replies)
{
	size_t lines = sent_lines(j->sent, j->sent_len);
	if (replies <= lines + 2)
		return 0;
	snprintf(j->why, j->whylen,
		 "%zu replies to %zu lines sent (greeting and a closing "
		 "reply included)",
		 replies, lines);
	return 1;
}

static int smtp_judge(struct judge *j, const char *r, size_t len, bool eof)
{
	const char *cur = r, *end = r + len;
	char code[4] = "";
	size_t replies = 0;
	bool more = false;
	struct rline l;

	while (next_line(&cur, end, &l)) {
		if (is_tls(j, &l))
			break;
		if (framing(j, &l, eof))
			return 1;
		if (!l.eol)
			break;
		l.len--; /* the CR */
		if (l.len < 3 || l.p[0] < '2' || l.p[0] > '5' || l.p[1] < '0' ||
		    l.p[1] > '9' || l.p[2] < '0' || l.p[2] > '9' ||
		    (l.len > 3 && l.p[3] != ' ' && l.p[3] != '-'))
			return bad(j, &l, "not an SMTP reply line");
		if (more && memcmp(code, l.p, 3) != 0)
			return bad(j, &l, "another code inside a reply");
		memcpy(code, l.p, 3);
		more = l.len > 3 && l.p[3] == '-';
		replies += !more;
	}
	return too_many(j, replies);
}

/* Whether the idx-th line the client sent (0-based) is a POP3 command
 * whose +OK is followed by a multi-line body. */
static bool pop3_multi(const struct judge *j, size_t idx)
{
	const char *cur = j->sent, *end = j->sent + j->sent_len;
	struct rline l = {.p = "", .len = 0};
	size_t i = 0;

	while (next_line(&cur, end, &l))
		if (i++ == idx)
			break;
	if (i != idx + 1)
		return false;
	while (l.len > 0 && (l.p[l.len - 1] == '\r' || l.p[l.len - 1] == ' '))
		l.len--;
	if (l.len >= 4 && (strncasecmp(l.p, "RETR", 4) == 0 ||
			   strncasecmp(l.p, "TOP ", 4) == 0))
		return true;
	return (l.len == 4 && (strncasecmp(l.p, "CAPA", 4) == 0 ||
			       strncasecmp(l.p, "LIST", 4) == 0 ||
			       strncasecmp(l.p, "UIDL", 4) == 0 ||
			       strncasecmp(l.p, "AUTH", 4) == 0));
}

static int pop3_judge(struct judge *j, const char *r, size_t len, bool eof)
{
	const char *cur = r, *end = r + len;
	size_t replies = 0;
	bool body = false;
	struct rline l;

	while (next_line(&cur, end, &l)) {
		if (!body && is_tls(j, &l))
			break;
		if (framing(j, &l, eof))
			return 1;
		if (!l.eol)
			break;
		if (body) {
			body = !(l.len == 2 && l.p[0] == '.');
			continue;
		}
		if (l.len >= 4 && memcmp(l.p, "+OK", 3) == 0 &&
		    (l.p[3] == ' ' || l.p[3] == '\r'))
			body = replies > 0 && pop3_multi(j, replies - 1);
		else if (!(l.len >= 5 && memcmp(l.p, "-ERR", 4) == 0 &&
			   (l.p[4] == ' ' || l.p[4] == '\r')) &&
			 !(l.p[0] == '+' && (l.p[1] == ' ' || l.p[1] == '\r')))
			return bad(j, &l, "not a POP3 status line");
		replies++;
	}
	return too_many(j, replies);
}

/* Whether the client sent a line starting with tag and a space. */
static bool tag_sent(const struct judge *j, const char *tag, size_t n)
{
	const char *cur = j->sent, *end = j->sent + j->sent_len;
	struct rline l;
	while (next_line(&cur, end, &l))
		if (l.len > n && memcmp(l.p, tag, n) == 0 && l.p[n] == ' ')
			return true;
	return false;
}

static int imap_line(struct judge *j, const struct rline *l)
{
	const char *sp = memchr(l->p, ' ', l->len);
	size_t n = sp != NULL ? (size_t)(sp - l->p) : 0, rest;

	if (l->p[0] == '+' || (l->len >= 2 && memcmp(l->p, "* ", 2) == 0))
		return 0;
	if (sp == NULL || n == 0 || !tag_sent(j, l->p, n))
		return bad(j, l, "not an IMAP response (unknown tag)");
	rest = l->len - n - 1;
	if ((rest >= 3 &&
	     (strncasecmp(sp + 1, "OK", 2) == 0 ||
	      strncasecmp(sp + 1, "NO", 2) == 0) &&
	     (sp[3] == ' ' || sp[3] == '\r')) ||
	    (rest >= 4 && strncasecmp(sp + 1, "BAD", 3) == 0 &&
	     (sp[4] == ' ' || sp[4] == '\r')))
		return 0;
	return bad(j, l, "a tagged response without OK, NO or BAD");
}

/* A literal {N} at the end of the line: N, else -1. */
static long long literal_at_end(const struct rline *l)
{
	size_t i = l->len - 1; /* before the CR */
	long long n = 0, scale = 1;
	if (i < 3 || l->p[i - 1] != '}')
		return -1;
	for (i -= 2; i > 0 && l->p[i] >= '0' && l->p[i] <= '9'; i--) {
		if (scale > 1000000000000LL)
			return -1;
		n += (l->p[i] - '0') * scale;
		scale *= 10;
	}
	return l->p[i] == '{' && scale > 1 ? n : -1;
}

static int imap_judge(struct judge *j, const char *r, size_t len, bool eof)
{
	const char *cur = r, *end = r + len;
	bool cont = false; /* inside a line, after a literal */
	struct rline l;
	long long lit;

	while (next_line(&cur, end, &l)) {
		if (!cont && is_tls(j, &l))
			break;
		if (framing(j, &l, eof))
			return 1;
		if (!l.eol)
			break;
		if (!cont && imap_line(j, &l) != 0)
			return 1;
		lit = literal_at_end(&l);
		cont = lit >= 0;
		if (cont && lit > end - cur)
			break; /* the rest is the literal */
		if (cont)
			cur += lit;
	}
	return 0;
}

int fuzzmode_desync(enum fuzzmode_proto p, const void *sent, size_t sent_len,
		    const void *reply, size_t reply_len, bool eof, char *why,
		    size_t whylen)
{
	struct judge j = {.sent = sent,
			  .sent_len = sent_len,
			  .why = why,
			  .whylen = whylen};

	if (whylen > 0)
		why[0] = '\0';
	j.tls_asked = contains_ci(sent, sent_len, "STARTTLS") ||
		      contains_ci(sent, sent_len, "STLS");
	if (p == FUZZMODE_POP3)
		return pop3_judge(&j, reply, reply_len, eof);
	if (p == FUZZMODE_IMAP)
		return imap_judge(&j, reply, reply_len, eof);
	return smtp_judge(&j, reply, reply_len, eof);
}
