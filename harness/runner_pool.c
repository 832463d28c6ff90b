/*
 * runner_pool.c - running many scenarios (see runner.h): each in a forked
 * child that reports its outcome over a pipe, at most `jobs` at once. The
 * parent kills a child that outlives its scenario's timeout (plus a
 * grace, as the child stops itself at the timeout), reports a child that
 * died without an outcome, and keeps results in the order given.
 * Scenarios tagged "fresh" run alone, after the target's reset command;
 * so do scenarios with a quilld_config (the embedded quilld restarted on
 * it), and the next scenario without one first restores quilld's normal
 * config (docs/scenarios.md).
 */
#include "runner.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "net.h"

struct job {
	size_t index; /* in the list; SIZE_MAX: slot free */
	pid_t pid;
	int fd;
	struct buf out;
	long long kill_at;
	bool alone; /* "fresh" or quilld_config: nothing else runs */
};

struct pool {
	struct scenario *const *list;
	size_t n, next, finished;
	const struct runner_pool_options *o;
	struct runner_outcome *outs;
	struct job *jobs;
	size_t running;
	bool exclusive;	 /* a scenario that runs alone: start nothing else */
	char base[32];	 /* run-unique prefix of ${unique} */
	char shown[200]; /* the progress line on the terminal now */
};

static void set_outcome(struct pool *p, size_t i, enum result_status st,
			const char *reason)
{
	struct runner_outcome *o = &p->outs[i];
	runner_outcome_free(o);
	o->status = st;
	o->reason = reason != NULL ? strdup(reason) : NULL;
	p->finished++;
}

static void write_all(int fd, const unsigned char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		len -= (size_t)w;
	}
}

static void child_main(struct pool *p, size_t i, int fd)
{
	char unique[64];
	struct runner_options ro = {
		.target = p->o->target,
		.unique = unique,
		.timeout_s = p->o->timeout_s,
		.keep_transcript = p->o->verbose,
	};
	struct runner_outcome out;
	struct buf enc;

	signal(SIGINT, SIG_IGN); /* the parent decides */
	signal(SIGTERM, SIG_DFL);
	for (size_t j = 0; j < p->o->jobs; j++)
		if (p->jobs[j].index != SIZE_MAX && p->jobs[j].fd >= 0)
			close(p->jobs[j].fd);
	snprintf(unique, sizeof(unique), "%s%zu", p->base, i + 1);
	runner_run(p->list[i], &ro, &out);
	buf_init(&enc, RUNNER_RESULT_MAX);
	if (runner_outcome_encode(&out, &enc) == 0)
		write_all(fd, buf_data(&enc), buf_len(&enc));
	buf_free(&enc);
	runner_outcome_free(&out);
	close(fd);
	_exit(0);
}

/* A quilld_config applies (and is honoured) only on the embedded quilld. */
static bool has_config(const struct scenario *sc, const struct target *t)
{
	return sc->quilld_config != NULL && t->quilld != NULL;
}

static bool runs_alone(const struct scenario *sc, const struct target *t)
{
	return scenario_has_tag(sc, "fresh") || has_config(sc, t);
}

/* Before sc, with nothing running: its quilld_config, or the normal config
 * back after one, or the reset of "fresh". 0, or -1 with err. */
static int prepare_target(struct pool *p, const struct scenario *sc, char *err,
			  size_t errlen)
{
	struct target *t = p->o->target;
	if (has_config(sc, t))
		return target_quilld_configure(t, sc->quilld_config, err,
					       errlen);
	if (t->custom_config) /* restarts and empties, as a reset */
		return target_quilld_configure(t, NULL, err, errlen);
	return target_reset(t, p->o->root, err, errlen);
}

static int start_job(struct pool *p, size_t i, struct job *j)
{
	const struct scenario *sc = p->list[i];
	unsigned t = p->o->timeout_s ? p->o->timeout_s : sc->timeout_s;
	int fds[2];

	if (pipe(fds) != 0)
		return -1;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		close(fds[0]);
		child_main(p, i, fds[1]);
	}
	close(fds[1]);
	j->index = i;
	j->pid = pid;
	j->fd = fds[0];
	j->alone = runs_alone(sc, p->o->target);
	j->kill_at = net_now_ms() + (long long)(t + RUNNER_KILL_GRACE_S) * 1000;
	buf_init(&j->out, RUNNER_RESULT_MAX);
	p->running++;
	return 0;
}

static void finish_job(struct pool *p, struct job *j, const char *killed)
{
	int status = 0;
	char why[200];
	size_t i = j->index;

	if (killed != NULL)
		kill(j->pid, SIGKILL);
	close(j->fd); /* first: a child still writing gets EPIPE and ends */
	while (waitpid(j->pid, &status, 0) < 0 && errno == EINTR)
		;
	if (killed != NULL) {
		set_outcome(p, i, RESULT_ERROR, killed);
	} else if (runner_outcome_decode(buf_data(&j->out), buf_len(&j->out),
					 &p->outs[i]) == 0) {
		p->finished++;
	} else {
		if (WIFSIGNALED(status))
			snprintf(why, sizeof(why),
				 "the harness crashed running "
				 "it (signal %d)",
				 WTERMSIG(status));
		else
			snprintf(why, sizeof(why),
				 "the harness child ended "
				 "(status %d) without a "
				 "result",
				 WEXITSTATUS(status));
		set_outcome(p, i, RESULT_ERROR, why);
	}
	if (j->alone)
		p->exclusive = false;
	buf_free(&j->out);
	j->index = SIZE_MAX;
	p->running--;
}

/* Read what children sent; finish those that ended or timed out. */
static void poll_jobs(struct pool *p)
{
	struct pollfd pfd[64];
	struct job *map[64];
	size_t n = 0;
	long long now = net_now_ms(), wait = 200;

	for (size_t k = 0; k < p->o->jobs && n < 64; k++) {
		struct job *j = &p->jobs[k];
		if (j->index == SIZE_MAX)
			continue;
		if (j->kill_at - now < wait)
			wait = j->kill_at - now > 0 ? j->kill_at - now : 0;
		pfd[n].fd = j->fd;
		pfd[n].events = POLLIN;
		map[n++] = j;
	}
	if (poll(pfd, n, (int)wait) < 0 && errno != EINTR)
		return;
	for (size_t k = 0; k < n; k++) {
		struct job *j = map[k];
		unsigned char chunk[65536];
		ssize_t r = 0;
		if (pfd[k].revents != 0)
			r = read(j->fd, chunk, sizeof(chunk));
		if (r > 0 && buf_append(&j->out, chunk, (size_t)r) != 0)
			r = 0; /* over the limit: take what came */
		if (pfd[k].revents != 0 && r <= 0 && !(r < 0 && errno == EINTR))
			finish_job(p, j, NULL);
		else if (net_now_ms() >= j->kill_at) {
			char why[120];
			snprintf(why, sizeof(why),
				 "killed: the scenario ran "
				 "past its timeout");
			finish_job(p, j, why);
		}
	}
}

static struct job *free_slot(struct pool *p)
{
	for (size_t k = 0; k < p->o->jobs; k++)
		if (p->jobs[k].index == SIZE_MAX)
			return &p->jobs[k];
	return NULL;
}

/* Start the next scenario if a slot is free; false if none can start. */
static bool start_next(struct pool *p)
{
	const struct scenario *sc;
	struct job *slot = free_slot(p);
	char err[512], *skip;

	if (p->next >= p->n || slot == NULL || p->exclusive ||
	    (p->o->stop != NULL && *p->o->stop))
		return false;
	sc = p->list[p->next];
	if ((skip = runner_skip_reason(sc, p->o->target)) != NULL) {
		set_outcome(p, p->next++, RESULT_SKIP, skip);
		free(skip);
		return true;
	}
	if (runs_alone(sc, p->o->target) || p->o->target->custom_config) {
		if (p->running > 0)
			return false; /* wait until it can run alone */
		if (prepare_target(p, sc, err, sizeof(err)) != 0) {
			set_outcome(p, p->next++, RESULT_ERROR, err);
			return true;
		}
		p->exclusive = runs_alone(sc, p->o->target);
	}
	if (start_job(p, p->next, slot) != 0) {
		p->exclusive = false;
		snprintf(err, sizeof(err), "cannot start: %s", strerror(errno));
		set_outcome(p, p->next, RESULT_ERROR, err);
	}
	p->next++;
	return true;
}

static void progress(struct pool *p)
{
	char line[200];
	size_t o;
	if (!p->o->progress)
		return;
	o = (size_t)snprintf(line, sizeof(line), "[%zu/%zu]", p->finished,
			     p->n);
	for (size_t k = 0; k < p->o->jobs && o < 70; k++)
		if (p->jobs[k].index != SIZE_MAX)
			o += (size_t)snprintf(line + o, sizeof(line) - o, " %s",
					      p->list[p->jobs[k].index]->id);
	if (o > 78)
		memcpy(line + 75, "...", 4);
	if (strcmp(line, p->shown) == 0)
		return;
	snprintf(p->shown, sizeof(p->shown), "%s", line);
	fprintf(stderr, "\r\033[K%s", line);
	fflush(stderr);
}

static void stop_all(struct pool *p)
{
	for (size_t k = 0; k < p->o->jobs; k++)
		if (p->jobs[k].index != SIZE_MAX)
			finish_job(p, &p->jobs[k], "interrupted");
	while (p->next < p->n)
		set_outcome(p, p->next++, RESULT_SKIP,
			    "the run was "
			    "interrupted");
}

static int collect(struct pool *p, struct result_set *rs)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct scenario *sc = p->list[i];
		const struct runner_outcome *o = &p->outs[i];
		struct result r = {
			.id = sc->id,
			.file = sc->file,
			.summary = sc->summary,
			.rfc = sc->rfc,
			.n_rfc = sc->n_rfc,
			.tags = sc->tags,
			.n_tags = sc->n_tags,
			.status = o->status,
			.reason = o->reason,
			.transcript = o->transcript,
			.seconds = o->seconds,
		};
		if (result_set_add(rs, &r) != 0)
			return -1;
	}
	return 0;
}

int runner_pool_run(struct scenario *const *list, size_t n,
		    const struct runner_pool_options *o, struct result_set *rs)
{
	struct pool p = {.list = list, .n = n, .o = o};
	int rc;

	p.outs = calloc(n + 1, sizeof(*p.outs));
	p.jobs = calloc(o->jobs, sizeof(*p.jobs));
	if (p.outs == NULL || p.jobs == NULL) {
		free(p.outs);
		free(p.jobs);
		return -1;
	}
	for (size_t k = 0; k < o->jobs; k++)
		p.jobs[k].index = SIZE_MAX;
	snprintf(p.base, sizeof(p.base), "q%llx%xs",
		 (unsigned long long)time(NULL), (unsigned)getpid());
	while (p.finished < n) {
		while (start_next(&p))
			;
		if (o->stop != NULL && *o->stop) {
			stop_all(&p);
			break;
		}
		if (p.running > 0)
			poll_jobs(&p);
		progress(&p);
	}
	if (o->progress)
		fprintf(stderr, "\r\033[K");
	rc = collect(&p, rs);
	for (size_t i = 0; i < n; i++)
		runner_outcome_free(&p.outs[i]);
	free(p.outs);
	free(p.jobs);
	return rc;
}
