/*
 * target_run.c - starting, stopping and resetting a target (see target.h):
 * its commands run from the repository root with a time limit, or the
 * embedded quilld (target_quilld.c).
 */
#include "target.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "net.h"
#include "target_internal.h"

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000,
			      .tv_nsec = (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int target_wait_pid(pid_t pid, long long deadline, int *status_r)
{
	for (;;) {
		pid_t w = waitpid(pid, status_r, WNOHANG);
		if (w == pid)
			return 0;
		if (w < 0 && errno != EINTR)
			return -1;
		if (net_now_ms() >= deadline)
			return 1;
		sleep_ms(20);
	}
}

static void exec_child(char *const *argv, const char *dir)
{
	setpgid(0, 0);
	if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0 ||
	    (dir != NULL && chdir(dir) != 0)) {
		fprintf(stderr, "quill-harness: %s: %s\n",
			dir != NULL ? dir : "stdout", strerror(errno));
		_exit(127);
	}
	execvp(argv[0], argv);
	fprintf(stderr, "quill-harness: cannot run %s: %s\n", argv[0],
		strerror(errno));
	_exit(127);
}

int target_run_command(char *const *argv, const char *dir, unsigned seconds,
		       char *err, size_t errlen)
{
	int status = 0, rc;
	pid_t pid;

	fflush(NULL);
	if ((pid = fork()) < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0)
		exec_child(argv, dir);
	rc = target_wait_pid(pid, net_now_ms() + (long long)seconds * 1000,
			     &status);
	if (rc == 1) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		snprintf(err, errlen, "'%s' did not finish in %u s", argv[0],
			 seconds);
		return -1;
	}
	if (rc < 0) {
		snprintf(err, errlen, "waitpid: %s", strerror(errno));
		return -1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		snprintf(err, errlen, "'%s' exited with status %d", argv[0],
			 WEXITSTATUS(status));
	else
		snprintf(err, errlen, "'%s' was killed by signal %d", argv[0],
			 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return -1;
}

int target_start(struct target *t, const char *root, char *err, size_t errlen)
{
	if (t->quilld != NULL) {
		if (target_quilld_start(t, err, errlen) != 0)
			return -1;
	} else if (t->start != NULL &&
		   target_run_command(t->start, root, TARGET_CMD_SECONDS, err,
				      errlen) != 0) {
		return -1;
	}
	t->started = true;
	return 0;
}

int target_stop(struct target *t, const char *root, char *err, size_t errlen)
{
	if (!t->started && t->pid == 0 && t->tmpdir == NULL)
		return 0;
	t->started = false;
	if (t->quilld != NULL)
		return target_quilld_stop(t, err, errlen);
	if (t->stop != NULL)
		return target_run_command(t->stop, root, TARGET_CMD_SECONDS,
					  err, errlen);
	return 0;
}

int target_reset(struct target *t, const char *root, char *err, size_t errlen)
{
	if (t->quilld != NULL)
		return target_quilld_reset(t, err, errlen);
	if (t->reset == NULL)
		return 0;
	return target_run_command(t->reset, root, TARGET_RESET_SECONDS, err,
				  errlen);
}
