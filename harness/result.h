/*
 * result.h - the outcome of running scenarios, as the runner hands it to
 * the reporters (human summary, TAP, JUnit XML) and to the comparison
 * table between targets.
 */
#ifndef QUILL_HARNESS_RESULT_H
#define QUILL_HARNESS_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum result_status {
	RESULT_PASS,
	RESULT_FAIL,  /* the server did not answer as the scenario expects */
	RESULT_SKIP,  /* the target lacks a required capability */
	RESULT_ERROR, /* the scenario itself could not run (bad file, harness
		       * failure, timeout of the whole scenario) */
};

struct result {
	char *id;
	char *file;
	char *summary;
	char **rfc; /* requirement IDs the scenario cites */
	size_t n_rfc;
	char **tags;
	size_t n_tags;
	enum result_status status;
	char *reason;	  /* why it failed or was skipped; NULL on pass */
	char *transcript; /* the dialogue (C:/S: lines); kept on failure */
	double seconds;
};

struct result_set {
	char *target; /* target name */
	struct result *items;
	size_t n, cap;
	double seconds; /* wall time of the whole run */
};

void result_set_init(struct result_set *rs, const char *target);
/* Append a copy of r (all strings duplicated). 0 or -1 (ENOMEM). */
int result_set_add(struct result_set *rs, const struct result *r);
void result_set_free(struct result_set *rs);
void result_set_counts(const struct result_set *rs, size_t *pass_r,
		       size_t *fail_r, size_t *skip_r, size_t *error_r);
const char *result_status_name(enum result_status st);

#endif
