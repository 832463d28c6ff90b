/*
 * compare.h - the same scenarios run against several targets, side by
 * side: the markdown behind docs/comparison.md.
 */
#ifndef QUILL_HARNESS_COMPARE_H
#define QUILL_HARNESS_COMPARE_H

#include <stddef.h>

#include "result.h"

/*
 * Write a scenario x target table (rows sorted by id; ✓ pass, ✗ fail,
 * – skip, "error" when the scenario could not run, empty when it was not
 * run there), then, for every row whose targets differ, a section with the
 * scenario's `notes` (the top-level key of the file named in its results)
 * or "(no note: a difference to explain)". path "-" is stdout; a file is
 * replaced atomically (report.h). 0, or -1 with errno set.
 */
int compare_write_markdown(const char *path,
			   const struct result_set *const *sets, size_t n_sets);

#endif
