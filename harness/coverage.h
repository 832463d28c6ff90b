/*
 * coverage.h - `quill-harness coverage`: which requirements of the matrix
 * (rfcmatrix.h) the scenarios cite, per RFC and level.
 *
 *   quill-harness coverage [--rfc-dir DIR] [--format text|markdown]
 *                          [--rfc N]... [--role ROLE]... SCENARIO-PATH...
 *
 * Scenarios are read only for their top-level `id` and `rfc` keys, so the
 * report does not depend on the full scenario loader. A scenario that
 * cites an id the matrix lacks is an error. MUST counts MUST and MUST NOT,
 * SHOULD counts SHOULD and SHOULD NOT.
 */
#ifndef QUILL_HARNESS_COVERAGE_H
#define QUILL_HARNESS_COVERAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "rfcmatrix.h"

struct coverage_scenario {
	char *id;
	char *file;
	char **rfc; /* the requirement ids it cites, as written */
	size_t n_rfc;
};

/*
 * Read the scenarios at paths: a file is read whatever its name; a
 * directory is searched recursively for *.yaml, in name order, skipping
 * names that start with '.' and directories named "targets" (target
 * descriptions). On success return 0 with a new array in *out (free it
 * with coverage_scenarios_free()); on failure return -1 with
 * "file:line:column: message" in err.
 */
int coverage_collect(const char *const *paths, size_t n,
		     struct coverage_scenario **out, size_t *n_out, char *err,
		     size_t errlen);
void coverage_scenarios_free(struct coverage_scenario *s, size_t n);

enum coverage_class {
	COVERAGE_MUST, /* MUST and MUST NOT */
	COVERAGE_SHOULD,
	COVERAGE_MAY,
};
#define COVERAGE_CLASSES 3

struct coverage_counts {
	size_t covered[COVERAGE_CLASSES];
	size_t total[COVERAGE_CLASSES];
};

enum coverage_class coverage_class_of(enum rfc_level level);

/* Whether a requirement is selected by roles: a mask of 1u << rfc_role
 * (0: every role). Selecting server, client or relay also selects the
 * requirements that bind "both". */
bool coverage_role_selected(const struct rfc_req *r, unsigned roles);

/* Whether any scenario cites r. */
bool coverage_is_covered(const struct rfc_req *r,
			 const struct coverage_scenario *s, size_t n);

/* Add doc's selected requirements to *c (which the caller zeroes). */
void coverage_count(const struct rfc_doc *doc, unsigned roles,
		    const struct coverage_scenario *s, size_t n,
		    struct coverage_counts *c);

/* The command with its own output streams; argv[0] is the subcommand
 * name. Exit status: 0 report written, 1 a scenario cites an unknown
 * requirement, 2 usage, matrix or scenario file errors. */
int coverage_run(int argc, char **argv, FILE *out, FILE *err);
/* coverage_run() on stdout and stderr, for main.c. */
int coverage_main(int argc, char **argv);

#endif
