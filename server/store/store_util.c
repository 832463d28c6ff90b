/*
 * store_util.c - error reporting, hashing, record arrays and keyword
 * tables for the store (see store_util.h).
 */
#include "store_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static void store_vset(struct store_error *err, int code, const char *fmt,
		       va_list ap) __attribute__((format(printf, 3, 0)));

static void store_vset(struct store_error *err, int code, const char *fmt,
		       va_list ap)
{
	if (err == NULL)
		return;
	err->code = code;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

int store_fail(struct store_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	store_vset(err, code, fmt, ap);
	va_end(ap);
	return -1;
}

int store_errno_code(int errnum)
{
	switch (errnum) {
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
		return STORE_E_NOSPACE;
	case ENOENT:
		return STORE_E_NOTFOUND;
	case EEXIST:
		return STORE_E_EXISTS;
	case ENAMETOOLONG:
		return STORE_E_BADNAME;
	default:
		return STORE_E_IO;
	}
}

int store_fail_errno(struct store_error *err, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t used;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	store_vset(err, store_errno_code(errnum), fmt, ap);
	va_end(ap);
	used = strlen(err->msg);
	snprintf(err->msg + used, sizeof(err->msg) - used, ": %s",
		 strerror(errnum));
	return -1;
}

uint64_t store_hash(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t store_hash_words(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (; len >= 8; p += 8, len -= 8) {
		uint64_t w = (uint64_t)p[0] | (uint64_t)p[1] << 8 |
			     (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
			     (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
			     (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;

		h ^= w;
		h *= 0x100000001b3ULL;
	}
	return store_hash(h, p, len);
}

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	size_t want;
	void *p;

	if (n < *cap)
		return 0;
	want = *cap == 0 ? 16 : *cap * 2;
	if (want > SIZE_MAX / size) {
		errno = ENOMEM;
		return -1;
	}
	p = realloc(*v, want * size);
	if (p == NULL)
		return -1;
	*v = p;
	*cap = want;
	return 0;
}

int store_recs_push(struct store_recs *r, const struct store_rec *rec)
{
	void *v = r->v;

	if (grow(&v, &r->cap, r->n, sizeof(*r->v)) != 0)
		return -1;
	r->v = v;
	r->v[r->n++] = *rec;
	return 0;
}

void store_recs_clear(struct store_recs *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].name);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

long store_recs_find(const struct store_recs *r, uint32_t uid)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->v[mid].uid == uid)
			return (long)mid;
		if (r->v[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

int store_u32s_push(struct store_u32s *a, uint32_t x)
{
	void *v = a->v;

	if (grow(&v, &a->cap, a->n, sizeof(*a->v)) != 0)
		return -1;
	a->v = v;
	a->v[a->n++] = x;
	return 0;
}

void store_keywords_free(char ***names, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free((*names)[i]);
	free(*names);
	*names = NULL;
	*n = 0;
}

int store_keywords_add(char ***names, size_t *n, const char *name)
{
	char **v = realloc(*names, (*n + 1) * sizeof(*v));

	if (v == NULL)
		return -1;
	*names = v;
	v[*n] = strdup(name);
	if (v[*n] == NULL)
		return -1;
	(*n)++;
	return 0;
}

int store_keywords_copy(char ***dst, size_t *dst_n, char *const *src, size_t n)
{
	store_keywords_free(dst, dst_n);
	for (size_t i = 0; i < n; i++) {
		if (store_keywords_add(dst, dst_n, src[i]) != 0) {
			store_keywords_free(dst, dst_n);
			return -1;
		}
	}
	return 0;
}

long store_keywords_find(char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(names[i], name) == 0)
			return (long)i;
	return -1;
}

void store_snapshot_clear(struct store_snapshot *snap)
{
	store_recs_clear(&snap->recs);
	store_keywords_free(&snap->keywords, &snap->n_keywords);
	memset(snap, 0, sizeof(*snap));
}

uint64_t store_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void store_sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000,
			      .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void store_random(void *buf, size_t len)
{
	unsigned char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = getrandom(p + got, len - got, GRND_NONBLOCK);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got < len) { /* no entropy yet: unique enough for file names */
		struct timespec ts;
		uint64_t h;

		clock_gettime(CLOCK_REALTIME, &ts);
		h = store_hash(STORE_HASH_INIT, &ts, sizeof(ts));
		h = store_hash(h, &(pid_t){getpid()}, sizeof(pid_t));
		for (; got < len; got++, h = store_hash(h, &got, sizeof(got)))
			p[got] = (unsigned char)h;
	}
}
