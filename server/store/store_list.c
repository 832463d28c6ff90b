/*
 * store_list.c - the mailbox list with its attributes (RFC 3501 7.2.2,
 * RFC 5258 for \HasChildren, \HasNoChildren, \NonExistent, \Subscribed).
 *
 * The backend lists the names that exist on disk, selectable or not. Here
 * every parent implied by a child is added as \Noselect, children are
 * counted, and subscriptions are merged in: subscribed names that do not
 * exist appear as \NonExistent \Noselect \Subscribed. INBOX always exists
 * and comes first; the rest is sorted with '/' before every other byte, so
 * that a name is directly followed by its children.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_backend.h"
#include "store_internal.h"
#include "store_util.h"

void store_list_clear(struct store_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->entries[i].name);
	free(list->entries);
	list->entries = NULL;
	list->count = 0;
}

int store_list_add(struct store_list *list, const char *name, unsigned attrs)
{
	struct store_list_entry *e;
	char *copy = strdup(name);

	if (copy == NULL)
		return -1;
	e = realloc(list->entries, (list->count + 1) * sizeof(*e));
	if (e == NULL) {
		free(copy);
		return -1;
	}
	list->entries = e;
	e[list->count].name = copy;
	e[list->count].attrs = attrs;
	list->count++;
	return 0;
}

static long find(const struct store_list *list, const char *name)
{
	for (size_t i = 0; i < list->count; i++)
		if (strcmp(list->entries[i].name, name) == 0)
			return (long)i;
	return -1;
}

int store_list_lookup(const struct store_list *list, const char *name,
		      bool *has_children_r)
{
	size_t len = strlen(name);
	long at = find(list, name);

	*has_children_r = false;
	for (size_t i = 0; i < list->count; i++) {
		const char *n = list->entries[i].name;

		if (strncmp(n, name, len) == 0 && n[len] == '/')
			*has_children_r = true;
	}
	return at < 0 ? -1 : (int)list->entries[at].attrs;
}

int store_list_raw(struct store *st, struct store_list *list_r,
		   struct store_error *err)
{
	memset(list_r, 0, sizeof(*list_r));
	if (st->ops->list(st, list_r, err) != 0) {
		store_list_clear(list_r);
		return -1;
	}
	if (find(list_r, "INBOX") < 0 && store_list_add(list_r, "INBOX", 0)) {
		store_list_clear(list_r);
		return store_fail_errno(err, errno, "list");
	}
	return 0;
}

static bool in_inbox(const char *name)
{
	return strncmp(name, "INBOX", 5) == 0 &&
	       (name[5] == '\0' || name[5] == '/');
}

static int cmp_names(const char *a, const char *b)
{
	if (in_inbox(a) != in_inbox(b))
		return in_inbox(a) ? -1 : 1;
	for (;; a++, b++) {
		unsigned char ca = *a == '/' ? 1 : (unsigned char)*a;
		unsigned char cb = *b == '/' ? 1 : (unsigned char)*b;

		if (ca != cb || ca == 0)
			return (int)ca - (int)cb;
	}
}

static int cmp_entries(const void *a, const void *b)
{
	const struct store_list_entry *x = a, *y = b;

	return cmp_names(x->name, y->name);
}

/* Add every missing parent of every name as \Noselect. */
static int add_parents(struct store_list *list)
{
	size_t n = list->count;

	for (size_t i = 0; i < n; i++) {
		char *name = strdup(list->entries[i].name);
		int rc = 0;

		if (name == NULL)
			return -1;
		for (char *s = strrchr(name, '/'); s != NULL && rc == 0;
		     s = strrchr(name, '/')) {
			*s = '\0';
			if (find(list, name) < 0)
				rc = store_list_add(list, name,
						    STORE_LIST_NOSELECT);
		}
		free(name);
		if (rc != 0)
			return -1;
	}
	return 0;
}

static void mark_children(struct store_list *list)
{
	for (size_t i = 0; i < list->count; i++) {
		struct store_list_entry *e = &list->entries[i];
		size_t len = strlen(e->name);
		bool kids =
			i + 1 < list->count &&
			strncmp(list->entries[i + 1].name, e->name, len) == 0 &&
			list->entries[i + 1].name[len] == '/';

		e->attrs |= kids ? STORE_LIST_HASCHILDREN
				 : STORE_LIST_HASNOCHILDREN;
	}
}

static int add_subscriptions(struct store *st, struct store_list *list,
			     struct store_error *err)
{
	char **subs;
	size_t n;
	int rc = 0;

	if (store_subs_load(st, &subs, &n, err) != 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		long at = find(list, subs[i]);

		if (at >= 0)
			list->entries[at].attrs |= STORE_LIST_SUBSCRIBED;
		else
			rc = store_list_add(list, subs[i],
					    STORE_LIST_SUBSCRIBED |
						    STORE_LIST_NONEXISTENT |
						    STORE_LIST_NOSELECT);
	}
	store_keywords_free(&subs, &n);
	if (rc != 0)
		return store_fail_errno(err, errno, "list");
	return 0;
}

int store_list(struct store *st, struct store_list *list_r,
	       struct store_error *err)
{
	if (store_list_raw(st, list_r, err) != 0)
		return -1;
	if (add_parents(list_r) != 0) {
		store_list_clear(list_r);
		return store_fail_errno(err, errno, "list");
	}
	qsort(list_r->entries, list_r->count, sizeof(*list_r->entries),
	      cmp_entries);
	mark_children(list_r);
	if (add_subscriptions(st, list_r, err) != 0) {
		store_list_clear(list_r);
		return -1;
	}
	qsort(list_r->entries, list_r->count, sizeof(*list_r->entries),
	      cmp_entries);
	return 0;
}
