/*
 * runner_outcome.c - a scenario's outcome as bytes, for the pipe from a
 * runner child to the parent (see runner.h): a magic, the status, the
 * time in microseconds, then the reason and the transcript, each as a
 * length (0xffffffff: absent) and its bytes. Both ends are the same
 * program on the same machine, so numbers are in host byte order.
 */
#include "runner.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC  "QHR1"
#define ABSENT 0xffffffffu

static int put_u32(struct buf *out, uint32_t v)
{
	return buf_append(out, &v, sizeof(v));
}

static int put_str(struct buf *out, const char *s)
{
	if (s == NULL)
		return put_u32(out, ABSENT);
	size_t len = strlen(s);
	if (len >= ABSENT)
		return -1;
	return put_u32(out, (uint32_t)len) || buf_append(out, s, len) ? -1 : 0;
}

int runner_outcome_encode(const struct runner_outcome *o, struct buf *out)
{
	uint64_t us = (uint64_t)(o->seconds * 1e6);
	if (buf_append(out, MAGIC, 4) != 0 ||
	    put_u32(out, (uint32_t)o->status) != 0 ||
	    buf_append(out, &us, sizeof(us)) != 0 ||
	    put_str(out, o->reason) != 0 || put_str(out, o->transcript) != 0)
		return -1;
	return 0;
}

struct reader {
	const unsigned char *p;
	size_t left;
};

static int get(struct reader *r, void *dst, size_t n)
{
	if (r->left < n)
		return -1;
	memcpy(dst, r->p, n);
	r->p += n;
	r->left -= n;
	return 0;
}

static int get_str(struct reader *r, char **out)
{
	uint32_t len;
	*out = NULL;
	if (get(r, &len, sizeof(len)) != 0)
		return -1;
	if (len == ABSENT)
		return 0;
	if (len > r->left || (*out = malloc((size_t)len + 1)) == NULL)
		return -1;
	get(r, *out, len);
	(*out)[len] = '\0';
	if (strlen(*out) != len) { /* a NUL inside: not ours */
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

int runner_outcome_decode(const void *data, size_t len,
			  struct runner_outcome *o)
{
	struct reader r = {data, len};
	char magic[4];
	uint32_t st;
	uint64_t us;

	memset(o, 0, sizeof(*o));
	if (get(&r, magic, 4) != 0 || memcmp(magic, MAGIC, 4) != 0 ||
	    get(&r, &st, sizeof(st)) != 0 || st > RESULT_ERROR ||
	    get(&r, &us, sizeof(us)) != 0 || get_str(&r, &o->reason) != 0 ||
	    get_str(&r, &o->transcript) != 0 || r.left != 0) {
		runner_outcome_free(o);
		return -1;
	}
	o->status = (enum result_status)st;
	o->seconds = (double)us / 1e6;
	return 0;
}
