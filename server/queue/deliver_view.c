/*
 * deliver_view.c - the spooled message without the sender's Return-Path
 * fields (see deliver_view.h; RFC 5321 4.4, RFC 5322 2.2 and 2.2.3 for
 * fields and folding).
 */
#include "deliver_view.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define CHUNK 8192

static int read_at(int fd, void *buf, size_t len, uint64_t off)
{
	char *p = buf;
	while (len > 0) {
		ssize_t n = pread(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Whether a line starting with these bytes is a Return-Path field
 * ("Return-Path:", any case; blanks before the colon are obsolete
 * syntax, RFC 5322 4.5, and taken too). */
static bool is_return_path(const char *head, size_t n)
{
	static const char name[] = "return-path";
	size_t len = sizeof(name) - 1;
	if (n < len + 1 || strncasecmp(head, name, len) != 0)
		return false;
	while (len < n && (head[len] == ' ' || head[len] == '\t'))
		len++;
	return len < n && head[len] == ':';
}

/* The scanner's state across chunks. */
struct scan {
	uint64_t line_start;
	char head[24]; /* the line's first bytes */
	size_t head_len;
	bool cutting; /* the current field is being cut */
	bool done;    /* the empty line ending the header was seen */
};

/* A complete line [s->line_start, end) of the header. */
static void line_done(struct deliver_view *v, struct scan *s, uint64_t end)
{
	bool blank =
		s->head_len == 1 || (s->head_len == 2 && s->head[0] == '\r');
	bool cont = !blank && (s->head[0] == ' ' || s->head[0] == '\t');
	if (blank) {
		s->done = true;
		return;
	}
	if (cont && s->cutting) {
		v->cut[v->n_cut - 1].len = end - v->cut[v->n_cut - 1].at;
		return;
	}
	s->cutting = false;
	if (!cont && v->n_cut < DELIVER_VIEW_CUTS &&
	    is_return_path(s->head, s->head_len)) {
		v->cut[v->n_cut].at = s->line_start;
		v->cut[v->n_cut].len = end - s->line_start;
		v->n_cut++;
		s->cutting = true;
	}
}

int deliver_view_init(struct deliver_view *v, int fd, uint64_t offset,
		      uint64_t file_size)
{
	char buf[CHUNK];
	struct scan s = {0};
	uint64_t total = file_size - offset, pos = 0;

	memset(v, 0, sizeof(*v));
	v->fd = fd;
	v->offset = offset;
	while (pos < total && !s.done) {
		size_t n = total - pos < CHUNK ? (size_t)(total - pos) : CHUNK;
		if (read_at(fd, buf, n, offset + pos) != 0)
			return -1;
		for (size_t i = 0; i < n && !s.done; i++) {
			if (s.head_len < sizeof(s.head))
				s.head[s.head_len++] = buf[i];
			if (buf[i] != '\n')
				continue;
			line_done(v, &s, pos + i + 1);
			s.line_start = pos + i + 1;
			s.head_len = 0;
		}
		pos += n;
	}
	v->size = total;
	for (size_t i = 0; i < v->n_cut; i++)
		v->size -= v->cut[i].len;
	return 0;
}

int deliver_view_read(const struct deliver_view *v, uint64_t pos, void *buf,
		      size_t len)
{
	char *p = buf;
	while (len > 0) {
		uint64_t skipped = 0;
		size_t i = 0;
		/* the cuts that start at or before pos, in view terms */
		while (i < v->n_cut && v->cut[i].at - skipped <= pos)
			skipped += v->cut[i++].len;
		uint64_t real = pos + skipped;
		uint64_t until = i < v->n_cut ? v->cut[i].at : UINT64_MAX;
		size_t n = until - real < len ? (size_t)(until - real) : len;
		if (read_at(v->fd, p, n, v->offset + real) != 0)
			return -1;
		p += n;
		pos += n;
		len -= n;
	}
	return 0;
}
