/*
 * target.h - the server a run tests (docs/scenarios.md, "Targets"): a
 * target file, or the embedded default, a fresh quilld started for the
 * run in a temporary directory on free loopback ports.
 *
 * A target's start/stop/reset commands are argv lists run from the
 * repository root, their output on stderr, each bounded in time.
 */
#ifndef QUILL_HARNESS_TARGET_H
#define QUILL_HARNESS_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "scenario.h"
#include "vars.h"

#define TARGET_MAX_SERVICES  8
#define TARGET_MAX_USERS     100
#define TARGET_CMD_SECONDS   300 /* start / stop */
#define TARGET_RESET_SECONDS 120
#define TARGET_QUILLD_WAIT   30 /* seconds for quilld's banner */

enum target_tls { TARGET_TLS_NONE, TARGET_TLS_STARTTLS, TARGET_TLS_IMPLICIT };

struct target_service {
	char name[16]; /* smtp, submission, submissions, lmtp, pop3, ... */
	unsigned port;
	enum target_tls tls;
};

struct target_user {
	char *name, *password, *address;
};

struct target {
	char *name, *summary, *file;
	char **start, **stop, **reset; /* NULL-terminated argv, or NULL */
	char *host, *domain, *ca_file;
	bool tls_verify;
	struct target_service services[TARGET_MAX_SERVICES];
	size_t n_services;
	struct target_user *users;
	size_t n_users;
	char **caps;
	size_t n_caps;

	/* the embedded quilld */
	char *quilld;	    /* its binary; NULL for a target file */
	char *tmpdir;	    /* its directory, removed at stop */
	pid_t pid;	    /* 0 when not running */
	int out_fd;	    /* its stdout, kept open while it runs */
	bool started;	    /* start ran (and stop must) */
	bool custom_config; /* runs (or failed to) with a quilld_config */
};

/* Load a target file; errors as for scenarios ("file:line:col: ..."). */
struct target *target_load_file(const char *path, struct scenario_error *err_r);
struct target *target_load_string(const char *name, const char *data,
				  size_t len, struct scenario_error *err_r);
/* The embedded quilld target (not started yet). NULL if out of memory. */
struct target *target_quilld_new(const char *quilld_path);
void target_free(struct target **t);

/*
 * The quilld binary to use: opt (--quilld) if not NULL, else $QUILLD,
 * else ../server/quilld next to the running executable (/proc/self/exe).
 * 0 and the path in out, or -1 with a message in err.
 */
int target_find_quilld(const char *opt, char *out, size_t n, char *err,
		       size_t errlen);

/* Start the target: run its start command, or launch the embedded quilld
 * and wait for its banner. 0, or -1 with a message in err. */
int target_start(struct target *t, const char *root, char *err, size_t errlen);
/* Stop what target_start started (SIGTERM, a bounded wait, SIGKILL) and
 * remove the embedded quilld's directory. 0, or -1 with a message. */
int target_stop(struct target *t, const char *root, char *err, size_t errlen);
/* Run the reset command, if any. 0, or -1 with a message. */
int target_reset(struct target *t, const char *root, char *err, size_t errlen);
/*
 * The embedded quilld only (docs/scenarios.md, quilld_config): rewrite its
 * config with fragment (YAML, or NULL for the normal config) appended,
 * stop it, empty every mailbox and start it again on the same ports. 0,
 * or -1 with a message. t->custom_config is true from the call until one
 * with NULL succeeds, so a run knows when to restore the normal config.
 */
int target_quilld_configure(struct target *t, const char *fragment, char *err,
			    size_t errlen);

const struct target_service *target_service(const struct target *t,
					    const char *name);
bool target_has_cap(const struct target *t, const char *cap);
/* target.host, target.domain, target.name, userN / passN / addrN. */
int target_set_vars(const struct target *t, struct vars *v);

/* Run argv from dir with its output on stderr, killing it (and its
 * process group) after seconds. 0 if it exited 0, else -1 and err. */
int target_run_command(char *const *argv, const char *dir, unsigned seconds,
		       char *err, size_t errlen);

#endif
