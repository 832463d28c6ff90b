/*
 * fuzzmode_run.c - the fuzzing loop (fuzzmode.h): case after case until
 * --seconds or --max-cases, each judged as a crash (the health check finds
 * the server gone, or the embedded quilld exited: waitpid), a hang (the
 * health check gets no greeting in time) or a desync (fuzzmode_check.c),
 * and saved as a reproducer. After a crash or a hang the target is
 * restarted, at most FUZZMODE_MAX_RESTARTS times; one quilld serves all
 * other cases.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "buf.h"
#include "fuzzmode.h"
#include "target.h"

enum verdict { V_NONE, V_CRASH, V_HANG, V_DESYNC };

struct fuzz {
	const struct fuzzmode_options *o;
	struct target *t;
	const struct scenario *sc;
	struct fuzzmode_peer peer;
	struct fuzzmode_stats *st;
	char detail[1024];
};

/* The embedded quilld exited: 1 and how, in out. */
static int quilld_exited(struct target *t, char *out, size_t n)
{
	int status;
	if (t->quilld == NULL || t->pid <= 0 ||
	    waitpid(t->pid, &status, WNOHANG) != t->pid)
		return 0;
	t->pid = 0; /* reaped: target_stop must not signal it */
	if (WIFSIGNALED(status))
		snprintf(out, n, "quilld was killed by signal %d (%s)",
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(out, n, "quilld exited with status %d",
			 WEXITSTATUS(status));
	return 1;
}

static enum verdict judge(struct fuzz *f, const struct fuzzmode_case *c,
			  const struct fuzzmode_outcome *oc,
			  const char *service, bool implicit)
{
	char why[600], how[200];
	enum fuzzmode_health h =
		fuzzmode_health(&f->peer, service, implicit, why, sizeof(why));

	if (quilld_exited(f->t, how, sizeof(how))) {
		snprintf(f->detail, sizeof(f->detail), "%s; %s", how,
			 h == FUZZMODE_HEALTHY ? "health check passed" : why);
		return V_CRASH;
	}
	if (h != FUZZMODE_HEALTHY) {
		snprintf(f->detail, sizeof(f->detail), "%s (the case %s%s)",
			 why,
			 oc->connected ? (oc->answered ? "was answered"
						       : "got no answer")
				       : "could not connect: ",
			 oc->connected ? "" : oc->note);
		return h == FUZZMODE_DEAD ? V_CRASH : V_HANG;
	}
	if (oc->connected &&
	    fuzzmode_desync(fuzzmode_proto_of(service), buf_data(&c->data),
			    buf_len(&c->data), buf_data(&oc->conn.in),
			    buf_len(&oc->conn.in), oc->conn.eof, why,
			    sizeof(why))) {
		snprintf(f->detail, sizeof(f->detail), "desync: %s", why);
		return V_DESYNC;
	}
	return V_NONE;
}

/* quilld.log beside the reproducer (its last MiB), before a restart
 * removes it. */
static void keep_log(const struct target *t, const char *yaml)
{
	char from[4200], to[4400], chunk[8192];
	size_t n, len = strlen(yaml);
	FILE *in, *out;

	if (t->tmpdir == NULL || len < 5)
		return;
	snprintf(from, sizeof(from), "%s/quilld.log", t->tmpdir);
	snprintf(to, sizeof(to), "%.*s.quilld.log", (int)(len - 5), yaml);
	if ((in = fopen(from, "rb")) == NULL)
		return;
	if (fseek(in, -1024L * 1024, SEEK_END) != 0)
		rewind(in);
	if ((out = fopen(to, "wb")) != NULL) {
		while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0)
			if (fwrite(chunk, 1, n, out) != n)
				break;
		fclose(out);
	}
	fclose(in);
}

static const char *const kind_names[] = {"", "crash", "hang", "desync"};

static void report(struct fuzz *f, enum verdict v,
		   const struct fuzzmode_finding *x)
{
	char path[4400], err[600];

	if (v == V_CRASH)
		f->st->crashes++;
	else if (v == V_HANG)
		f->st->hangs++;
	else
		f->st->desyncs++;
	if (fuzzmode_save(f->o->out_dir, x, path, sizeof(path), err,
			  sizeof(err)) != 0) {
		fprintf(stderr, "fuzz: cannot save the reproducer: %s\n", err);
		snprintf(path, sizeof(path), "(not saved)");
	} else if (v != V_DESYNC) {
		keep_log(f->t, path);
	}
	printf("%s: case %llu (%s; %s): %s\n    reproducer: %s\n",
	       kind_names[v], x->case_no, x->service, x->c->desc, x->detail,
	       path);
	fflush(stdout);
}

/* Restart the target after a crash or a hang; -1 if it cannot be. */
static int restart(struct fuzz *f)
{
	char err[2048], why[600];

	if (f->st->restarts >= FUZZMODE_MAX_RESTARTS) {
		fprintf(stderr, "fuzz: %d restarts already; stopping\n",
			FUZZMODE_MAX_RESTARTS);
		return -1;
	}
	f->st->restarts++;
	if (target_stop(f->t, f->o->root, err, sizeof(err)) != 0)
		fprintf(stderr, "fuzz: stopping %s: %s\n", f->t->name, err);
	if (target_start(f->t, f->o->root, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz: restarting %s: %s\n", f->t->name, err);
		return -1;
	}
	if (fuzzmode_health(&f->peer, f->t->services[0].name,
			    f->t->services[0].tls == TARGET_TLS_IMPLICIT, why,
			    sizeof(why)) != FUZZMODE_HEALTHY) {
		fprintf(stderr, "fuzz: %s after a restart: %s\n", f->t->name,
			why);
		return -1;
	}
	return 0;
}

static bool implicit_tls(const struct fuzz *f, const struct fuzzmode_session *s)
{
	const struct target_service *svc = target_service(f->t, s->service);
	if (s->tls != SCENARIO_TLS_DEFAULT)
		return s->tls == SCENARIO_TLS_IMPLICIT;
	return svc != NULL && svc->tls == TARGET_TLS_IMPLICIT;
}

/* One case: 0, 1 if the target must be restarted, -1 out of memory. */
static int one_case(struct fuzz *f, const struct fuzzmode_seeds *seeds,
		    unsigned long long no, struct fuzzmode_case *c)
{
	struct fuzzmode_rng r;
	struct fuzzmode_outcome oc;
	const struct fuzzmode_session *s;
	enum verdict v;
	bool tls;

	fuzzmode_rng_init(&r, f->o->seed, no);
	s = &seeds->v[fuzzmode_rng_below(&r, seeds->n)];
	tls = implicit_tls(f, s);
	if (fuzzmode_mutate(&r, fuzzmode_proto_of(s->service),
			    buf_data(&s->bytes), buf_len(&s->bytes), c) != 0)
		return -1;
	fuzzmode_case_run(&f->peer, s->service, tls, c, &oc);
	v = judge(f, c, &oc, s->service, tls);
	if (f->o->verbose)
		printf("case %llu: %s %zu bytes (%s): %zu bytes back%s\n", no,
		       s->service, buf_len(&c->data), c->desc,
		       buf_len(&oc.conn.in), oc.conn.eof ? ", closed" : "");
	if (v != V_NONE) {
		struct fuzzmode_finding x = {
			.kind = kind_names[v],
			.sc = f->sc,
			.service = s->service,
			.implicit_tls = tls,
			.seed = f->o->seed,
			.case_no = no,
			.c = c,
			.detail = f->detail,
			.reply = buf_data(&oc.conn.in),
			.reply_len = buf_len(&oc.conn.in),
		};
		report(f, v, &x);
	}
	net_close(&oc.conn);
	return v == V_CRASH || v == V_HANG ? 1 : 0;
}

int fuzzmode_run(const struct fuzzmode_options *o, struct target *t,
		 const struct scenario *sc, const struct fuzzmode_seeds *seeds,
		 struct fuzzmode_stats *st)
{
	struct fuzz f = {.o = o, .t = t, .sc = sc, .st = st};
	long long t0 = net_now_ms(), end = t0 + o->seconds * 1000LL;
	struct fuzzmode_case c;
	char err[300];
	int rc = 0;

	memset(st, 0, sizeof(*st));
	if ((f.peer.tls = net_tls_ctx_new(NULL, false, err, sizeof(err))) ==
	    NULL) {
		fprintf(stderr, "fuzz: %s\n", err);
		return -1;
	}
	f.peer.t = t;
	fuzzmode_case_init(&c);
	for (unsigned long long no = 1;
	     rc == 0 && net_now_ms() < end &&
	     (o->max_cases == 0 || no <= o->max_cases) &&
	     !(o->stop != NULL && *o->stop);
	     no++) {
		st->cases++;
		rc = one_case(&f, seeds, no, &c);
		if (rc == 1)
			rc = restart(&f);
	}
	fuzzmode_case_free(&c);
	net_tls_ctx_free(&f.peer.tls);
	st->seconds = (double)(net_now_ms() - t0) / 1000.0;
	return rc;
}
