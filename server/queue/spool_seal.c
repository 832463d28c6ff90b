/*
 * spool_seal.c - the seal of a spool file (see spool_seal.h).
 */
#include "spool_seal.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store_util.h"

void spool_seal_init(struct spool_seal *s)
{
	s->len = 0;
	s->hash = STORE_HASH_INIT;
}

void spool_seal_add(struct spool_seal *s, const void *data, size_t len)
{
	s->len += len;
	s->hash = store_hash(s->hash, data, len);
}

void spool_seal_format(const struct spool_seal *s,
		       char out[SPOOL_SEAL_VALUE_LEN + 1])
{
	snprintf(out, SPOOL_SEAL_VALUE_LEN + 1, "%016llx %016llx",
		 (unsigned long long)s->len, (unsigned long long)s->hash);
}

static int hex16(const char *p, uint64_t *out)
{
	uint64_t v = 0;
	for (size_t i = 0; i < 16; i++) {
		char c = p[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else
			return -1;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

int spool_seal_parse(const char *v, size_t n, struct spool_seal *s,
		     bool *zero_r)
{
	if (n != SPOOL_SEAL_VALUE_LEN || v[16] != ' ' ||
	    hex16(v, &s->len) != 0 || hex16(v + 17, &s->hash) != 0)
		return -1;
	*zero_r = s->len == 0 && s->hash == 0;
	return 0;
}

int spool_seal_check(int fd, uint64_t offset, const struct spool_seal *want,
		     char *why, size_t whylen)
{
	struct stat sb;
	struct spool_seal got;
	char chunk[65536];
	uint64_t pos = offset;

	if (fstat(fd, &sb) != 0)
		return -1;
	if ((uint64_t)sb.st_size < offset ||
	    (uint64_t)sb.st_size - offset != want->len) {
		snprintf(why, whylen, "%llu message bytes, sealed %llu",
			 (unsigned long long)((uint64_t)sb.st_size >= offset
						      ? (uint64_t)sb.st_size -
								offset
						      : 0),
			 (unsigned long long)want->len);
		return 1;
	}
	spool_seal_init(&got);
	while (got.len < want->len) {
		ssize_t r = pread(fd, chunk, sizeof(chunk), (off_t)pos);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break; /* shrank meanwhile: the length differs */
		spool_seal_add(&got, chunk, (size_t)r);
		pos += (uint64_t)r;
	}
	if (got.len != want->len || got.hash != want->hash) {
		snprintf(why, whylen, "message bytes differ from their seal");
		return 1;
	}
	return 0;
}
