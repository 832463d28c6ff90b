/*
 * result.c - collecting scenario results (see result.h).
 */
#include "result.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void result_set_init(struct result_set *rs, const char *target)
{
	memset(rs, 0, sizeof(*rs));
	rs->target = strdup(target != NULL ? target : "");
}

static char *dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static char **dup_list(char *const *list, size_t n)
{
	char **out = calloc(n + 1, sizeof(*out));
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if ((out[i] = strdup(list[i])) == NULL)
			return NULL; /* caller frees what was made */
	return out;
}

static void result_free_fields(struct result *r)
{
	free(r->id);
	free(r->file);
	free(r->summary);
	for (size_t i = 0; r->rfc != NULL && i < r->n_rfc; i++)
		free(r->rfc[i]);
	free(r->rfc);
	for (size_t i = 0; r->tags != NULL && i < r->n_tags; i++)
		free(r->tags[i]);
	free(r->tags);
	free(r->reason);
	free(r->transcript);
	memset(r, 0, sizeof(*r));
}

int result_set_add(struct result_set *rs, const struct result *r)
{
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 64;
		struct result *p = realloc(rs->items, cap * sizeof(*p));
		if (p == NULL)
			return -1;
		rs->items = p;
		rs->cap = cap;
	}
	struct result *d = &rs->items[rs->n];
	memset(d, 0, sizeof(*d));
	d->status = r->status;
	d->seconds = r->seconds;
	d->n_rfc = r->n_rfc;
	d->n_tags = r->n_tags;
	d->id = dup_or_null(r->id);
	d->file = dup_or_null(r->file);
	d->summary = dup_or_null(r->summary);
	d->reason = dup_or_null(r->reason);
	d->transcript = dup_or_null(r->transcript);
	d->rfc = dup_list(r->rfc, r->n_rfc);
	d->tags = dup_list(r->tags, r->n_tags);
	if ((r->id && !d->id) || (r->file && !d->file) ||
	    (r->summary && !d->summary) || (r->reason && !d->reason) ||
	    (r->transcript && !d->transcript) || d->rfc == NULL ||
	    d->tags == NULL) {
		result_free_fields(d);
		errno = ENOMEM;
		return -1;
	}
	rs->n++;
	return 0;
}

void result_set_free(struct result_set *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		result_free_fields(&rs->items[i]);
	free(rs->items);
	free(rs->target);
	memset(rs, 0, sizeof(*rs));
}

void result_set_counts(const struct result_set *rs, size_t *pass_r,
		       size_t *fail_r, size_t *skip_r, size_t *error_r)
{
	size_t c[4] = {0, 0, 0, 0};
	for (size_t i = 0; i < rs->n; i++)
		c[rs->items[i].status]++;
	*pass_r = c[RESULT_PASS];
	*fail_r = c[RESULT_FAIL];
	*skip_r = c[RESULT_SKIP];
	*error_r = c[RESULT_ERROR];
}

const char *result_status_name(enum result_status st)
{
	static const char *const names[] = {"pass", "fail", "skip", "error"};
	return names[st];
}
