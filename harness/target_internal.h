/*
 * target_internal.h - shared by target_run.c, target_quilld.c and
 * target_quilld_config.c.
 */
#ifndef QUILL_HARNESS_TARGET_INTERNAL_H
#define QUILL_HARNESS_TARGET_INTERNAL_H

#include "target.h"

/* Wait for pid until deadline (net_now_ms() time): 0 reaped (status in
 * *status_r), 1 still running, -1 error. */
int target_wait_pid(pid_t pid, long long deadline, int *status_r);

/* Launch the embedded quilld and wait for its banner; stop it. */
int target_quilld_start(struct target *t, char *err, size_t errlen);
int target_quilld_stop(struct target *t, char *err, size_t errlen);
/* Write <tmpdir>/quilld.yaml: the target's own keys and listeners,
 * $QUILL_HARNESS_QUILLD_CONFIG's YAML, then fragment (may be NULL). */
int target_quilld_write_config(const struct target *t, const char *fragment,
			       char *err, size_t errlen);
/* Stop it, empty every mailbox, start it again on the same ports. */
int target_quilld_reset(struct target *t, char *err, size_t errlen);

#endif
