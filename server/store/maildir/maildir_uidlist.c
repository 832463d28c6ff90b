/*
 * maildir_uidlist.c - parse and write dovecot-uidlist (see
 * maildir_uidlist.h). Pure functions over memory: reading and writing the
 * file, and locking it, are maildir_sync.c's business.
 */
#include "maildir_uidlist.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maildir_names.h"
#include "store/store_util.h"

void maildir_uidlist_clear(struct maildir_uidlist *ul)
{
	for (size_t i = 0; i < ul->n; i++)
		free(ul->v[i].base);
	free(ul->v);
	free(ul->slots);
	memset(ul, 0, sizeof(*ul));
}

void maildir_uidlist_init(struct maildir_uidlist *ul, uint32_t uidvalidity,
			  uint32_t next_uid)
{
	unsigned char g[16];

	memset(ul, 0, sizeof(*ul));
	ul->uidvalidity = uidvalidity;
	ul->next_uid = next_uid;
	store_random(g, sizeof(g));
	for (size_t i = 0; i < sizeof(g); i++)
		snprintf(ul->guid + 2 * i, 3, "%02x", g[i]);
}

static size_t slot_of(const struct maildir_uidlist *ul, const char *base,
		      size_t len)
{
	size_t i = (size_t)(store_hash_words(STORE_HASH_INIT, base, len) &
			    (ul->n_slots - 1));

	while (ul->slots[i] != 0) {
		const char *b = ul->v[ul->slots[i] - 1].base;

		if (strlen(b) == len && memcmp(b, base, len) == 0)
			break;
		i = (i + 1) & (ul->n_slots - 1);
	}
	return i;
}

static int rehash(struct maildir_uidlist *ul)
{
	size_t n = ul->n_slots == 0 ? 64 : ul->n_slots * 2;
	uint32_t *slots = calloc(n, sizeof(*slots));

	if (slots == NULL)
		return -1;
	free(ul->slots);
	ul->slots = slots;
	ul->n_slots = n;
	for (size_t k = 0; k < ul->n; k++)
		ul->slots[slot_of(ul, ul->v[k].base, strlen(ul->v[k].base))] =
			(uint32_t)k + 1;
	return 0;
}

long maildir_uidlist_find(const struct maildir_uidlist *ul, const char *base,
			  size_t len)
{
	size_t i;

	if (ul->n_slots == 0)
		return -1;
	i = slot_of(ul, base, len);
	return ul->slots[i] != 0 ? (long)ul->slots[i] - 1 : -1;
}

int maildir_uidlist_add(struct maildir_uidlist *ul, uint32_t uid,
			const char *base, size_t len)
{
	char *copy;

	if (uid == 0 || (ul->n > 0 && uid <= ul->v[ul->n - 1].uid) ||
	    maildir_uidlist_find(ul, base, len) >= 0) {
		errno = EINVAL;
		return -1;
	}
	if (ul->n == ul->cap) {
		size_t cap = ul->cap == 0 ? 64 : ul->cap * 2;
		struct maildir_uidrec *v = realloc(ul->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		ul->v = v;
		ul->cap = cap;
	}
	if (ul->n_slots <= 2 * (ul->n + 1) && rehash(ul) != 0)
		return -1;
	copy = strndup(base, len);
	if (copy == NULL)
		return -1;
	ul->v[ul->n].uid = uid;
	ul->v[ul->n].base = copy;
	ul->slots[slot_of(ul, base, len)] = (uint32_t)++ul->n;
	if (uid >= ul->next_uid)
		ul->next_uid = uid == UINT32_MAX ? uid : uid + 1;
	return 0;
}

/* A decimal number of 1..10 digits that fits in 32 bits. */
static bool number(const char **p, const char *end, uint32_t *v)
{
	uint64_t x = 0;
	const char *s = *p;

	while (s < end && *s >= '0' && *s <= '9' && s - *p < 10)
		x = x * 10 + (uint64_t)(*s++ - '0');
	if (s == *p || x > UINT32_MAX || (s < end && *s >= '0' && *s <= '9'))
		return false;
	*p = s;
	*v = (uint32_t)x;
	return true;
}

static int parse_header(const char *p, const char *end,
			struct maildir_uidlist *ul, int *version_r)
{
	uint32_t v;

	if (!number(&p, end, &v) || (v != 1 && v != 3))
		return -1;
	*version_r = (int)v;
	if (v == 1)
		return (p < end && *p++ == ' ' &&
			number(&p, end, &ul->uidvalidity) && p < end &&
			*p++ == ' ' && number(&p, end, &ul->next_uid) &&
			p == end && ul->uidvalidity != 0)
			       ? 0
			       : -1;
	while (p < end) {
		const char *tok;

		if (*p++ != ' ')
			return -1;
		tok = p;
		while (p < end && *p != ' ')
			p++;
		if (p - tok >= 2 && tok[0] == 'V') {
			tok++;
			if (!number(&tok, p, &ul->uidvalidity) || tok != p)
				return -1;
		} else if (p - tok >= 2 && tok[0] == 'N') {
			tok++;
			if (!number(&tok, p, &ul->next_uid) || tok != p)
				return -1;
		} else if (p - tok == 33 && tok[0] == 'G' &&
			   strspn(tok + 1, "0123456789abcdefABCDEF") >= 32) {
			memcpy(ul->guid, tok + 1, 32);
		}
	}
	return ul->uidvalidity != 0 ? 0 : -1;
}

/* One record line; -1 if it is bad (the caller drops it). */
static int parse_record(const char *p, const char *end, int version,
			struct maildir_uidlist *ul)
{
	struct maildir_name mn;
	uint32_t uid;

	if (!number(&p, end, &uid) || uid == 0 || p == end || *p++ != ' ')
		return -1;
	if (version == 3) { /* skip extension fields up to " :" */
		while (p < end && *p != ':') {
			while (p < end && *p != ' ')
				p++;
			if (p < end)
				p++;
		}
		if (p == end)
			return -1;
		p++;
	}
	if (maildir_name_parse(p, (size_t)(end - p), &mn) != 0)
		return -1;
	if (maildir_uidlist_add(ul, uid, mn.base, mn.base_len) != 0)
		return errno == ENOMEM ? -2 : -1;
	return 0;
}

int maildir_uidlist_parse(const char *data, size_t len,
			  struct maildir_uidlist *ul, struct store_error *err)
{
	const char *end = data + len, *nl = memchr(data, '\n', len);
	int version;

	memset(ul, 0, sizeof(*ul));
	if (nl == NULL || parse_header(data, nl, ul, &version) != 0) {
		maildir_uidlist_clear(ul);
		return store_fail(err, STORE_E_CORRUPT, "bad uidlist header");
	}
	if (ul->next_uid == 0)
		ul->next_uid = 1;
	for (const char *p = nl + 1; p < end; p = nl + 1) {
		int rc;

		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL) { /* unterminated: a write cut short */
			ul->partial = true;
			break;
		}
		if (nl == p)
			continue;
		rc = parse_record(p, nl, version, ul);
		if (rc == -2) {
			maildir_uidlist_clear(ul);
			return store_fail_errno(err, ENOMEM, "uidlist");
		}
		if (rc != 0)
			ul->partial = true;
	}
	return 0;
}

int maildir_uidlist_format(const struct maildir_uidlist *ul, char **data_r,
			   size_t *len_r)
{
	size_t cap = 80, len;
	char *data;
	int n;

	for (size_t i = 0; i < ul->n; i++)
		cap += strlen(ul->v[i].base) + 14;
	data = malloc(cap);
	if (data == NULL)
		return -1;
	n = snprintf(data, cap, "3 V%u N%u%s%s\n", (unsigned)ul->uidvalidity,
		     (unsigned)ul->next_uid, ul->guid[0] != '\0' ? " G" : "",
		     ul->guid);
	len = (size_t)n;
	for (size_t i = 0; i < ul->n; i++) {
		n = snprintf(data + len, cap - len, "%u :%s\n",
			     (unsigned)ul->v[i].uid, ul->v[i].base);
		len += (size_t)n;
	}
	*data_r = data;
	*len_r = len;
	return 0;
}
