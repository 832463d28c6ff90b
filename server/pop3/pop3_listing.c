/*
 * pop3_listing.c - the maildrop as one session sees it (see
 * pop3_listing.h). RFC 1939 sections 4, 5 and 7.
 */
#include "pop3_listing.h"

#include <stdio.h>
#include <stdlib.h>

struct pop3_listing *pop3_listing_new(uint32_t uidvalidity, uint32_t count)
{
	struct pop3_listing *l = calloc(1, sizeof(*l));
	if (l == NULL)
		return NULL;
	l->uidvalidity = uidvalidity;
	l->count = count;
	if (count > 0 && (l->msgs = calloc(count, sizeof(*l->msgs))) == NULL) {
		free(l);
		return NULL;
	}
	return l;
}

void pop3_listing_free(struct pop3_listing **lp)
{
	struct pop3_listing *l = *lp;
	if (l == NULL)
		return;
	free(l->msgs);
	free(l);
	*lp = NULL;
}

void pop3_listing_stat(const struct pop3_listing *l, uint32_t *count_r,
		       uint64_t *size_r)
{
	uint32_t n = 0;
	uint64_t size = 0;
	for (uint32_t i = 0; i < l->count; i++) {
		if (l->msgs[i].deleted)
			continue;
		n++;
		size += l->msgs[i].size;
	}
	*count_r = n;
	*size_r = size;
}

uint32_t pop3_listing_deleted(const struct pop3_listing *l)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < l->count; i++)
		n += l->msgs[i].deleted;
	return n;
}

void pop3_listing_reset(struct pop3_listing *l)
{
	for (uint32_t i = 0; i < l->count; i++)
		l->msgs[i].deleted = l->msgs[i].retrieved = false;
}

void pop3_uidl(uint32_t uidvalidity, uint32_t uid, char *out, size_t n)
{
	snprintf(out, n, "%08X%08X", (unsigned)uid, (unsigned)uidvalidity);
}

int pop3_parse_number(const char *s, size_t len, uint64_t *v_r)
{
	uint64_t v = 0;
	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		unsigned d = (unsigned)(s[i] - '0');
		v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
	}
	*v_r = v;
	return 0;
}
