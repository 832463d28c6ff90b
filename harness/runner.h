/*
 * runner.h - running scenarios against a target.
 *
 * runner_run() runs one scenario in the calling process: it executes the
 * steps of docs/scenarios.md in order over named sessions, records the
 * transcript and stops at the first step that fails. runner_pool_run()
 * runs many, each in a forked child (a crash or a hang in one cannot take
 * down the run) with at most `jobs` at once; the parent enforces each
 * scenario's timeout and collects the outcome over a pipe.
 */
#ifndef QUILL_HARNESS_RUNNER_H
#define QUILL_HARNESS_RUNNER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "result.h"
#include "scenario.h"
#include "target.h"

#define RUNNER_MAX_SESSIONS 16
#define RUNNER_RESULT_MAX   (4u * 1024 * 1024) /* bytes a child reports */
#define RUNNER_KILL_GRACE_S 5 /* after the timeout, before SIGKILL */

struct runner_options {
	const struct target *target;
	const char *unique;   /* the value of ${unique} */
	unsigned timeout_s;   /* 0: the scenario's own */
	bool keep_transcript; /* also on a pass */
};

struct runner_outcome {
	enum result_status status;
	char *reason;	  /* NULL on a pass */
	char *transcript; /* NULL unless failed / errored / kept */
	double seconds;
};

/* Run sc now. Always fills out (allocation failures give RESULT_ERROR
 * with a static-free reason). Free with runner_outcome_free(). */
void runner_run(const struct scenario *sc, const struct runner_options *opt,
		struct runner_outcome *out);
void runner_outcome_free(struct runner_outcome *o);

/* The reason a scenario is skipped on this target (the capabilities it
 * requires and the target lacks), or NULL to run it. Free the string. */
char *runner_skip_reason(const struct scenario *sc, const struct target *t);

struct runner_pool_options {
	struct target *target;
	const char *root;	     /* for the target's reset command */
	unsigned jobs;		     /* children at once, >= 1 */
	unsigned timeout_s;	     /* 0: each scenario's own */
	bool verbose;		     /* keep transcripts of passes too */
	bool progress;		     /* a progress line on stderr */
	volatile sig_atomic_t *stop; /* set to stop starting scenarios */
};

/* Run every scenario, adding one result per scenario to rs in list
 * order. 0, or -1 if the harness itself failed (out of memory). */
int runner_pool_run(struct scenario *const *list, size_t n,
		    const struct runner_pool_options *o, struct result_set *rs);

/* The outcome as bytes for the pipe, and back. */
int runner_outcome_encode(const struct runner_outcome *o, struct buf *out);
int runner_outcome_decode(const void *data, size_t len,
			  struct runner_outcome *o);

#endif
