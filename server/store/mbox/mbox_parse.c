/*
 * mbox_parse.c - find the messages of an mbox file (RFC 4155 App. A,
 * mboxrd) and make and read its From_ lines; the rules are in
 * mbox_parse.h. The scanner is fed the file in pieces of any size and
 * keeps only the first MBOX_LINE_PREFIX bytes of a line (and at most
 * MBOX_META_VALUE_MAX bytes of a status field's value), so a hostile
 * file costs memory in proportion to its number of messages only.
 */
#include "mbox_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_util.h"

static const char wdays[7][4] = {"Sun", "Mon", "Tue", "Wed",
				 "Thu", "Fri", "Sat"};
static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static void line_reset(struct mbox_scan *s)
{
	s->line_start = s->pos;
	s->line_len = 0;
	s->pre_len = 0;
	s->gt = 0;
	s->match = 0;
	s->decided = false;
	s->from_line = false;
	s->quote_line = false;
	mbox_linecls_init(&s->lc);
	s->lres = MBOX_LINE_MORE;
	s->capturing = false;
}

void mbox_scan_init(struct mbox_scan *s, uint64_t start_offset)
{
	memset(s, 0, sizeof(*s));
	s->pos = start_offset;
	s->at_file_start = start_offset == 0;
	s->kw.max = MBOX_META_KEYWORDS;
	line_reset(s);
}

void mbox_scan_clear(struct mbox_scan *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
	free(s->val);
	s->val = NULL;
	mbox_kwtab_clear(&s->kw);
}

/* The status field going on has ended: apply its value. */
static void flush(struct mbox_scan *s)
{
	if (!s->in_status)
		return;
	mbox_meta_apply(&s->cur.meta, s->status_hdr, s->val, s->val_len,
			s->at_file_start && s->n == 0, &s->kw);
	s->in_status = false;
}

static void decided(struct mbox_scan *s)
{
	if (s->lres == MBOX_LINE_CONT) {
		s->capturing = s->in_status;
		return;
	}
	flush(s);
	if (s->lres == MBOX_LINE_STATUS) {
		s->in_status = true;
		s->status_hdr = s->lc.hdr;
		s->val_len = 0;
		s->capturing = true;
	}
}

/* Bytes of a header line: classify it, keep a status field's value. */
static int hdr_bytes(struct mbox_scan *s, const unsigned char *p, size_t n)
{
	size_t i = 0, k;

	while (s->lres == MBOX_LINE_MORE && i < n) {
		s->lres = mbox_linecls_feed(&s->lc, p[i++]);
		if (s->lres != MBOX_LINE_MORE)
			decided(s);
	}
	if (!s->capturing || i == n)
		return 0;
	if (s->val == NULL && (s->val = malloc(MBOX_META_VALUE_MAX)) == NULL)
		return -1;
	k = MBOX_META_VALUE_MAX - s->val_len;
	if (k > n - i)
		k = n - i;
	memcpy(s->val + s->val_len, p + i, k);
	s->val_len += k;
	return 0;
}

uint64_t mbox_fingerprint(const void *from, size_t from_len, const void *head,
			  size_t head_len)
{
	uint64_t h = store_hash(STORE_HASH_INIT, from,
				from_len < MBOX_LINE_PREFIX ? from_len
							    : MBOX_LINE_PREFIX);

	if (head_len > MBOX_HEAD_BYTES)
		head_len = MBOX_HEAD_BYTES;
	return store_hash(h, head, head_len);
}

/* Classify the start of a line: "From ", ">+From " or neither. */
static void classify(struct mbox_scan *s, unsigned char c)
{
	static const char from[] = "From ";

	if (c == '>' && s->match == 0) {
		if (s->gt < UINT32_MAX)
			s->gt++;
		return;
	}
	if (c == (unsigned char)from[s->match]) {
		if (++s->match == 5) {
			s->decided = true;
			s->from_line = s->gt == 0;
			s->quote_line = s->gt > 0;
		}
		return;
	}
	s->decided = true;
}

static int push(struct mbox_scan *s)
{
	if (s->n == s->cap) {
		size_t cap = s->cap == 0 ? 64 : s->cap * 2;
		struct mbox_msg *v = realloc(s->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = s->cur;
	return 0;
}

static int finish(struct mbox_scan *s, uint64_t end)
{
	struct mbox_msg *m = &s->cur;
	uint64_t total = end - s->content_start;
	uint64_t strip = s->last_kind == 1 ? 1 : s->last_kind == 2 ? 2 : 0;
	uint64_t gone = s->hidden + s->escapes * MBOX_ESCAPE_LEN, stable;

	flush(s);
	if (strip > total)
		strip = 0;
	m->raw_len = total - strip;
	m->terminated = strip > 0;
	m->quoted = s->quoted_lines > 0;
	m->filtered = gone > 0;
	if (gone + s->quoted_lines > m->raw_len) /* cannot happen */
		gone = m->raw_len - s->quoted_lines;
	m->size = m->raw_len - s->quoted_lines - gone;
	if (s->hdr_found && s->hdr_raw_end <= s->content_start + m->raw_len)
		m->header_size = s->hdr_raw_end - s->content_start -
				 s->hdr_quoted - gone;
	else
		m->header_size = m->size;
	stable = m->raw_len > s->hidden ? m->raw_len - s->hidden : 0;
	m->fingerprint =
		store_hash(s->from_hash, s->head,
			   s->head_len < stable ? s->head_len : (size_t)stable);
	s->in_msg = false;
	return push(s);
}

static void start_msg(struct mbox_scan *s)
{
	memset(&s->cur, 0, sizeof(s->cur));
	s->in_msg = true;
	s->cur.offset = s->line_start;
	s->cur.from_len = s->line_len > MBOX_FROM_LEN_MAX
				  ? MBOX_FROM_LEN_MAX
				  : (uint32_t)s->line_len;
	s->cur.date = mbox_from_date(s->pre, s->pre_len);
	s->from_hash = store_hash(STORE_HASH_INIT, s->pre, s->pre_len);
	s->content_start = s->line_start + s->line_len;
	s->quoted_lines = 0;
	s->hdr_found = false;
	s->last_kind = 0;
	s->head_len = 0;
	s->hidden = s->escapes = 0;
	s->in_status = false;
}

/* Is the line ending now a status line (or its continuation)? */
static bool hidden_line(struct mbox_scan *s)
{
	if (s->hdr_found)
		return false;
	if (s->lres == MBOX_LINE_MORE) { /* cut short: plain text */
		s->lres = MBOX_LINE_PLAIN;
		decided(s);
	}
	if (s->lres == MBOX_LINE_ESCAPED)
		s->escapes++;
	if (s->lres == MBOX_LINE_STATUS ||
	    (s->lres == MBOX_LINE_CONT && s->in_status)) {
		s->hidden += s->line_len;
		return true;
	}
	return false;
}

static int end_line(struct mbox_scan *s, bool complete)
{
	unsigned kind = 3;

	if (s->from_line) {
		if (s->in_msg && finish(s, s->line_start) != 0)
			return -1;
		start_msg(s);
		return 0;
	}
	if (!s->in_msg)
		return 0;
	if (!hidden_line(s) && s->head_len < MBOX_HEAD_BYTES) {
		size_t n = MBOX_HEAD_BYTES - s->head_len;

		if (n > s->pre_len)
			n = s->pre_len;
		memcpy(s->head + s->head_len, s->pre, n);
		s->head_len += n;
	}
	if (s->quote_line)
		s->quoted_lines++;
	if (complete && s->line_len == 1)
		kind = 1;
	else if (complete && s->line_len == 2 && s->pre[0] == '\r')
		kind = 2;
	if (!s->hdr_found && kind != 3) {
		s->hdr_found = true;
		s->hdr_raw_end = s->line_start + s->line_len;
		s->hdr_quoted = s->quoted_lines;
		flush(s);
	}
	s->last_kind = kind;
	return 0;
}

int mbox_scan_feed(struct mbox_scan *s, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len > 0) {
		const unsigned char *nl = memchr(p, '\n', len);
		size_t seg = nl != NULL ? (size_t)(nl - p) + 1 : len;
		size_t room = MBOX_LINE_PREFIX - s->pre_len;

		for (size_t i = 0; i < seg && !s->decided; i++) {
			if (p[i] == '\n')
				s->decided = true;
			else
				classify(s, p[i]);
		}
		if (s->in_msg && !s->hdr_found && hdr_bytes(s, p, seg) != 0)
			return -1;
		memcpy(s->pre + s->pre_len, p, seg < room ? seg : room);
		s->pre_len += seg < room ? seg : room;
		s->line_len += seg;
		s->pos += seg;
		if (nl != NULL) {
			if (end_line(s, true) != 0)
				return -1;
			line_reset(s);
		}
		p += seg;
		len -= seg;
	}
	return 0;
}

int mbox_scan_end(struct mbox_scan *s)
{
	if (s->line_len > 0) {
		s->ended_midline = true;
		if (end_line(s, false) != 0)
			return -1;
		line_reset(s);
	}
	if (s->in_msg)
		return finish(s, s->pos);
	return 0;
}

static bool sender_ok(const char *s)
{
	size_t len = s != NULL ? strlen(s) : 0;

	if (len == 0 || len > 254 || strcmp(s, "<>") == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

size_t mbox_from_line(char *out, size_t size, const char *sender, time_t date)
{
	struct tm tm;
	int n;

	if (gmtime_r(&date, &tm) == NULL || tm.tm_year + 1900 > 9999 ||
	    tm.tm_year + 1900 < 1970) {
		date = 0;
		gmtime_r(&date, &tm);
	}
	n = snprintf(out, size, "From %s %s %s %2d %02d:%02d:%02d %d\n",
		     sender_ok(sender) ? sender : "MAILER-DAEMON",
		     wdays[tm.tm_wday], months[tm.tm_mon], tm.tm_mday,
		     tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_year + 1900);
	return n < 0 || (size_t)n >= size ? 0 : (size_t)n;
}

/* 1..max decimal digits. */
static bool num(const char **p, const char *end, int max, int *v)
{
	const char *s = *p;

	*v = 0;
	while (s < end && *s >= '0' && *s <= '9' && s - *p < max)
		*v = *v * 10 + (*s++ - '0');
	if (s == *p)
		return false;
	*p = s;
	return true;
}

static void blanks(const char **p, const char *end)
{
	while (*p < end && **p == ' ')
		(*p)++;
}

static bool time_of_day(const char **p, const char *end, struct tm *tm)
{
	if (!num(p, end, 2, &tm->tm_hour) || *p >= end || *(*p)++ != ':' ||
	    !num(p, end, 2, &tm->tm_min))
		return false;
	tm->tm_sec = 0;
	if (*p < end && **p == ':') {
		(*p)++;
		if (!num(p, end, 2, &tm->tm_sec))
			return false;
	}
	return tm->tm_hour < 24 && tm->tm_min < 60 && tm->tm_sec < 61;
}

int64_t mbox_from_date(const void *line, size_t len)
{
	const char *p = line, *end = p + len;
	struct tm tm = {0};
	int mon = -1;

	if (len < 5 || memcmp(p, "From ", 5) != 0)
		return 0;
	p += 5;
	while (p < end && *p != ' ' && *p != '\n') /* the sender */
		p++;
	blanks(&p, end);
	if (end - p < 4 || p[3] != ' ') /* the weekday */
		return 0;
	p += 4;
	blanks(&p, end);
	for (int i = 0; i < 12 && end - p >= 3; i++)
		if (memcmp(p, months[i], 3) == 0)
			mon = i;
	if (mon < 0)
		return 0;
	p += 3;
	blanks(&p, end);
	if (!num(&p, end, 2, &tm.tm_mday) || tm.tm_mday < 1 || tm.tm_mday > 31)
		return 0;
	blanks(&p, end);
	if (!time_of_day(&p, end, &tm))
		return 0;
	blanks(&p, end);
	if (p < end && (*p < '0' || *p > '9')) { /* a zone: skip it */
		while (p < end && *p != ' ' && *p != '\n')
			p++;
		blanks(&p, end);
	}
	if (!num(&p, end, 4, &tm.tm_year) || tm.tm_year < 1970)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon = mon;
	return (int64_t)timegm(&tm);
}
