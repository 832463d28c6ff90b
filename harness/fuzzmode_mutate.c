/*
 * fuzzmode_mutate.c - the fuzzer's mutators (fuzzmode.h): bit flips and
 * byte replacement, very long lines, duplicated and dropped lines, bare
 * CR / bare LF / NUL, lying sizes (SMTP SIZE=, IMAP literals), commands
 * out of state from a per-protocol dictionary (fuzzmode_dict.c), STARTTLS
 * followed by plaintext, and the delivery: all at once, a byte at a time
 * or in pieces with tiny pauses.
 *
 * A case never grows past FUZZMODE_CASE_MAX: a mutation that would is
 * skipped. The only source of randomness is the generator passed in.
 */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "fuzzmode.h"

void fuzzmode_rng_init(struct fuzzmode_rng *r, uint64_t seed, uint64_t n)
{
	r->s = seed * 0x9e3779b97f4a7c15ull ^ (n + 0x632be59bd9b4e019ull);
	(void)fuzzmode_rng_next(r);
}

uint64_t fuzzmode_rng_next(struct fuzzmode_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

size_t fuzzmode_rng_below(struct fuzzmode_rng *r, size_t n)
{
	return n == 0 ? 0 : (size_t)(fuzzmode_rng_next(r) % n);
}

void fuzzmode_case_init(struct fuzzmode_case *c)
{
	memset(c, 0, sizeof(*c));
	buf_init(&c->data, FUZZMODE_CASE_MAX);
}

void fuzzmode_case_free(struct fuzzmode_case *c)
{
	buf_free(&c->data);
}

static void note(struct fuzzmode_case *c, const char *what)
{
	size_t n = strlen(c->desc);
	snprintf(c->desc + n, sizeof(c->desc) - n, "%s%s", n ? " " : "", what);
}

/* Replace del bytes at pos by ins; nothing (and 0) if it would not fit. */
int fuzzmode_splice(struct buf *b, size_t pos, size_t del, const void *ins,
		    size_t inslen)
{
	size_t len = buf_len(b);
	struct buf nb;

	if (pos > len || del > len - pos || len - del + inslen > b->max)
		return 0;
	buf_init(&nb, b->max);
	if (buf_append(&nb, buf_data(b), pos) != 0 ||
	    buf_append(&nb, ins, inslen) != 0 ||
	    buf_append(&nb, buf_data(b) + pos + del, len - pos - del) != 0) {
		buf_free(&nb);
		return -1;
	}
	buf_free(b);
	*b = nb;
	return 0;
}

/* The start and end (after its LF) of a random line. */
static void pick_line(struct fuzzmode_rng *r, const struct buf *b,
		      size_t *start, size_t *end)
{
	const unsigned char *d = buf_data(b);
	size_t len = buf_len(b), lines = 0, k;

	for (size_t i = 0; i < len; i++)
		lines += d[i] == '\n' || i + 1 == len;
	k = fuzzmode_rng_below(r, lines);
	*start = 0;
	for (size_t i = 0; i < len; i++)
		if (d[i] == '\n' || i + 1 == len) {
			if (k-- == 0) {
				*end = i + 1;
				return;
			}
			*start = i + 1;
		}
	*end = len;
}

static int insert_line(struct fuzzmode_rng *r, struct buf *b, const char *s,
		       size_t n)
{
	size_t start, end;
	pick_line(r, b, &start, &end);
	return fuzzmode_splice(b, start, 0, s, n);
}

static int m_bits(struct fuzzmode_rng *r, struct fuzzmode_case *c)
{
	size_t len = buf_len(&c->data), n = 1 + fuzzmode_rng_below(r, 8);
	static const unsigned char nice[] = {0,	   0xff, '\r', '\n', ' ', ':',
					     '<',  '>',	 '{',  '}',  '.', '%',
					     0x80, '"',	 '\\', '*',  '-'};
	bool flip = fuzzmode_rng_below(r, 2) == 0;

	if (len == 0) /* an empty buffer may have no storage at all */
		return 0;
	unsigned char *d = c->data.data + c->data.off;
	for (size_t i = 0; i < n; i++) {
		size_t at = fuzzmode_rng_below(r, len);
		if (flip)
			d[at] ^=
				(unsigned char)(1u << fuzzmode_rng_below(r, 8));
		else if (fuzzmode_rng_below(r, 2))
			d[at] = nice[fuzzmode_rng_below(r, sizeof(nice))];
		else
			d[at] = (unsigned char)fuzzmode_rng_next(r);
	}
	note(c, flip ? "bitflip" : "bytes");
	return 0;
}

static int m_long_line(struct fuzzmode_rng *r, enum fuzzmode_proto p,
		       struct fuzzmode_case *c)
{
	static const size_t sizes[] = {510,  998,   1000,  2048,
				       4096, 10240, 102400};
	size_t n = sizes[fuzzmode_rng_below(r, sizeof(sizes) / sizeof(*sizes))];
	const char *pre = fuzzmode_dict_pick(r, p);
	size_t plen = strlen(pre);
	struct buf line;
	char what[40];
	int rc;

	buf_init(&line, FUZZMODE_CASE_MAX);
	if (buf_append(&line, pre, plen) != 0)
		return -1;
	for (size_t i = 0; i < n && buf_len(&line) < FUZZMODE_CASE_MAX / 2; i++)
		if (buf_append(&line, "x", 1) != 0)
			break;
	rc = buf_append(&line, "\r\n", 2);
	if (rc == 0)
		rc = insert_line(r, &c->data, (const char *)buf_data(&line),
				 buf_len(&line));
	buf_free(&line);
	snprintf(what, sizeof(what), "longline:%zu", n);
	note(c, what);
	return rc;
}

static int m_dup_drop(struct fuzzmode_rng *r, struct fuzzmode_case *c)
{
	size_t start, end, times = 1 + fuzzmode_rng_below(r, 3);
	struct buf *b = &c->data;

	pick_line(r, b, &start, &end);
	if (fuzzmode_rng_below(r, 2)) {
		note(c, "drop");
		return fuzzmode_splice(b, start, end - start, "", 0);
	}
	if (fuzzmode_rng_below(r, 8) == 0)
		times = 50;
	note(c, "dup");
	for (size_t i = 0; i < times; i++) {
		struct buf copy;
		int rc;
		buf_init(&copy, FUZZMODE_CASE_MAX);
		rc = buf_append(&copy, buf_data(b) + start, end - start);
		if (rc == 0)
			rc = fuzzmode_splice(b, end, 0, buf_data(&copy),
					     buf_len(&copy));
		buf_free(&copy);
		if (rc != 0)
			return -1;
	}
	return 0;
}

static int m_control(struct fuzzmode_rng *r, struct fuzzmode_case *c)
{
	static const char *const what[] = {"\r", "\n", "\0", "\r\r\n", "\n."};
	static const size_t lens[] = {1, 1, 1, 3, 2};
	static const char *const names[] = {"bare-cr", "bare-lf", "nul",
					    "cr-cr-lf", "lf-dot"};
	size_t k = fuzzmode_rng_below(r, 5);
	size_t at = fuzzmode_rng_below(r, buf_len(&c->data) + 1);
	note(c, names[k]);
	return fuzzmode_splice(&c->data, at, 0, what[k], lens[k]);
}

static int m_sizes(struct fuzzmode_rng *r, enum fuzzmode_proto p,
		   struct fuzzmode_case *c)
{
	const char *s = fuzzmode_dict_size_lie(r, p);
	note(c, "size-lie");
	return insert_line(r, &c->data, s, strlen(s));
}

static int m_command(struct fuzzmode_rng *r, enum fuzzmode_proto p,
		     struct fuzzmode_case *c)
{
	static const char *const junk[] = {"",	    "",	    " x",
					   " <>",   " {5}", " \x01\xfe*%?",
					   " \"\"", " NIL", " 0"};
	const char *cmd = fuzzmode_dict_pick(r, p);
	const char *j =
		junk[fuzzmode_rng_below(r, sizeof(junk) / sizeof(*junk))];
	char line[256];
	int n = snprintf(line, sizeof(line), "%s%s\r\n", cmd, j);

	note(c, "command");
	if (n < 0 || (size_t)n >= sizeof(line))
		return 0;
	return insert_line(r, &c->data, line, (size_t)n);
}

static int m_starttls(struct fuzzmode_rng *r, enum fuzzmode_proto p,
		      struct fuzzmode_case *c)
{
	const char *s = p == FUZZMODE_POP3   ? "STLS\r\n"
			: p == FUZZMODE_IMAP ? "t1 STARTTLS\r\n"
					     : "STARTTLS\r\n";
	note(c, "starttls-plain");
	return insert_line(r, &c->data, s, strlen(s));
}

static int m_truncate(struct fuzzmode_rng *r, struct fuzzmode_case *c)
{
	size_t len = buf_len(&c->data);
	size_t at = fuzzmode_rng_below(r, len + 1);
	note(c, "truncate");
	return fuzzmode_splice(&c->data, at, len - at, "", 0);
}

static int mutate_once(struct fuzzmode_rng *r, enum fuzzmode_proto p,
		       struct fuzzmode_case *c)
{
	switch (fuzzmode_rng_below(r, 12)) {
	case 0:
	case 1:
		return m_bits(r, c);
	case 2:
		return m_long_line(r, p, c);
	case 3:
	case 4:
		return m_dup_drop(r, c);
	case 5:
		return m_control(r, c);
	case 6:
	case 7:
		return m_sizes(r, p, c);
	case 8:
	case 9:
		return m_command(r, p, c);
	case 10:
		return m_starttls(r, p, c);
	default:
		return m_truncate(r, c);
	}
}

/* All at once (most cases), a byte at a time, or pieces with pauses;
 * at most about a second of pauses in all. */
static void pick_delivery(struct fuzzmode_rng *r, struct fuzzmode_case *c)
{
	size_t len = buf_len(&c->data), k = fuzzmode_rng_below(r, 8);
	char what[48];

	c->chunk = 0;
	c->pause_ms = 0;
	if (k < 5 || len < 2)
		return;
	if (k == 5 && len <= 1024)
		c->chunk = 1;
	else
		c->chunk = 1 + fuzzmode_rng_below(r, len < 512 ? len : 512);
	c->pause_ms = (unsigned)fuzzmode_rng_below(r, 4);
	if (c->pause_ms > 0 && len / c->chunk * c->pause_ms > 1000)
		c->pause_ms = (unsigned)(1000 / (len / c->chunk));
	snprintf(what, sizeof(what), "chunk:%lu/%ums", c->chunk, c->pause_ms);
	note(c, what);
}

int fuzzmode_mutate(struct fuzzmode_rng *r, enum fuzzmode_proto p,
		    const void *seed, size_t len, struct fuzzmode_case *c)
{
	size_t rounds = 1 + fuzzmode_rng_below(r, 4);

	buf_clear(&c->data);
	c->desc[0] = '\0';
	if (len > FUZZMODE_CASE_MAX)
		len = FUZZMODE_CASE_MAX;
	if (buf_append(&c->data, seed, len) != 0)
		return -1;
	for (size_t i = 0; i < rounds; i++)
		if (mutate_once(r, p, c) != 0)
			return -1;
	pick_delivery(r, c);
	return 0;
}
