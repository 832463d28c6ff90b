/*
 * scenario_find.h - which scenario files a command works on, and which
 * scenarios a run selects (quill-harness(1): PATH..., --id, --tag, --rfc).
 */
#ifndef QUILL_HARNESS_SCENARIO_FIND_H
#define QUILL_HARNESS_SCENARIO_FIND_H

#include <stdbool.h>
#include <stddef.h>

#include "scenario.h"

struct scenario_files {
	char **v;
	size_t n, cap;
};

/* Files given are taken as they are; directories are searched
 * recursively for *.yaml (sorted by path within each directory given),
 * skipping directories named targets and names starting with '.'.
 * 0, or -1 with a message in err (a path that does not exist). */
int scenario_find(char *const *paths, size_t n, struct scenario_files *out,
		  char *err, size_t errlen);
void scenario_files_free(struct scenario_files *f);

/* Each list, if not empty, must match: an id glob (fnmatch), a tag, a
 * requirement id prefix ("RFC5321-4.5"). */
struct scenario_filter {
	char **ids, **tags, **rfcs;
	size_t n_ids, n_tags, n_rfcs;
};

bool scenario_selected(const struct scenario *s,
		       const struct scenario_filter *f);

#endif
