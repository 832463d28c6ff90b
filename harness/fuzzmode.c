/*
 * fuzzmode.c - the `quill-harness fuzz` command line (docs/quill-harness.md):
 *
 *   quill-harness fuzz SCENARIO [--target FILE | --quilld PATH] [--root DIR]
 *                      --seconds N [--max-cases M] [--seed S] [--out DIR]
 *                      [-v]
 *
 * Loads the scenario, collects its seeds, starts the target, runs the
 * loop of fuzzmode_run.c, stops the target and prints the summary.
 * Exit status: 0 no finding, 1 a finding or a failure, 2 a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzzmode.h"
#include "target.h"
#include "vars.h"

struct fuzz_cli {
	const char *scenario, *target_file, *quilld, *root, *out;
	struct fuzzmode_options o;
	char root_buf[4096];
};

static volatile sig_atomic_t fuzz_stop;

static void on_signal(int sig)
{
	(void)sig;
	fuzz_stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: quill-harness fuzz SCENARIO [--target FILE | "
		   "--quilld PATH] [--root DIR]\n"
		   "                          --seconds N [--max-cases M] "
		   "[--seed S] [--out DIR] [-v]\n");
}

static int parse_u64(const char *s, unsigned long long min,
		     unsigned long long max, unsigned long long *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < min ||
	    v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_one(struct fuzz_cli *c, int opt)
{
	unsigned long long v;
	switch (opt) {
	case 't':
		c->target_file = optarg;
		return 0;
	case 'q':
		c->quilld = optarg;
		return 0;
	case 'r':
		c->root = optarg;
		return 0;
	case 's':
		if (parse_u64(optarg, 1, 86400, &v) != 0)
			return -1;
		c->o.seconds = (unsigned)v;
		return 0;
	case 'm':
		return parse_u64(optarg, 1, ~0ull, &c->o.max_cases);
	case 'S':
		return parse_u64(optarg, 0, ~0ull, &c->o.seed);
	case 'o':
		c->out = optarg;
		return 0;
	case 'v':
		c->o.verbose = true;
		return 0;
	default:
		return -1;
	}
}

static int parse_cli(int argc, char **argv, struct fuzz_cli *c)
{
	static const struct option opts[] = {
		{"target", required_argument, NULL, 't'},
		{"quilld", required_argument, NULL, 'q'},
		{"root", required_argument, NULL, 'r'},
		{"seconds", required_argument, NULL, 's'},
		{"max-cases", required_argument, NULL, 'm'},
		{"seed", required_argument, NULL, 'S'},
		{"out", required_argument, NULL, 'o'},
		{"verbose", no_argument, NULL, 'v'},
		{NULL, 0, NULL, 0}};
	int opt;

	c->o.seed = 1;
	c->out = "fuzz-findings";
	optind = 1;
	while ((opt = getopt_long(argc, argv, "v", opts, NULL)) != -1)
		if (parse_one(c, opt) != 0) {
			if (opt != '?')
				fprintf(stderr,
					"quill-harness fuzz: bad value '%s' "
					"for %s\n",
					optarg, argv[optind - 1]);
			return -1;
		}
	if (optind + 1 != argc || c->o.seconds == 0 ||
	    (c->target_file != NULL && c->quilld != NULL)) {
		fprintf(stderr, "quill-harness fuzz: %s\n",
			optind + 1 != argc ? "give exactly one SCENARIO"
			: c->o.seconds == 0
				? "--seconds N is required"
				: "--target and --quilld exclude each other");
		return -1;
	}
	c->scenario = argv[optind];
	return 0;
}

/* --root, else the nearest directory up from here holding scenarios/,
 * else the current directory (as for run). */
static void find_root(struct fuzz_cli *c)
{
	char dir[4096], probe[4200];
	struct stat st;

	snprintf(c->root_buf, sizeof(c->root_buf), "%s",
		 c->root != NULL ? c->root : ".");
	if (c->root != NULL || getcwd(dir, sizeof(dir)) == NULL)
		return;
	for (;;) {
		snprintf(probe, sizeof(probe), "%s/scenarios", dir);
		if (stat(probe, &st) == 0 && S_ISDIR(st.st_mode)) {
			snprintf(c->root_buf, sizeof(c->root_buf), "%s", dir);
			return;
		}
		char *slash = strrchr(dir, '/');
		if (slash == NULL || slash == dir)
			return;
		*slash = '\0';
	}
}

/* mkdir -p. */
static int make_dir(const char *path)
{
	char p[4096];
	int n = snprintf(p, sizeof(p), "%s", path);
	if (n < 0 || (size_t)n >= sizeof(p))
		return -1;
	for (char *s = p + 1; *s != '\0'; s++)
		if (*s == '/') {
			*s = '\0';
			if (mkdir(p, 0777) != 0 && errno != EEXIST)
				return -1;
			*s = '/';
		}
	return mkdir(p, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

static struct target *make_target(const struct fuzz_cli *c)
{
	struct scenario_error e;
	char path[4096], msg[2200];
	struct target *t;

	if (c->target_file != NULL) {
		if ((t = target_load_file(c->target_file, &e)) == NULL) {
			scenario_error_format(&e, msg, sizeof(msg));
			fprintf(stderr, "%s\n", msg);
		}
		return t;
	}
	if (target_find_quilld(c->quilld, path, sizeof(path), msg,
			       sizeof(msg)) != 0) {
		fprintf(stderr, "quill-harness fuzz: %s\n", msg);
		return NULL;
	}
	if ((t = target_quilld_new(path)) == NULL)
		fprintf(stderr, "quill-harness fuzz: out of memory\n");
	return t;
}

/* The target's variables, ${unique} and the scenario's vars. */
static struct vars *make_vars(const struct target *t, const struct scenario *sc,
			      unsigned long long seed)
{
	struct vars *v = vars_new();
	char unique[40], err[200];

	snprintf(unique, sizeof(unique), "fuzz%llu", seed);
	if (v == NULL || target_set_vars(t, v) != 0 ||
	    vars_set_str(v, "unique", unique) != 0) {
		vars_free(&v);
		return NULL;
	}
	for (size_t i = 0; i < sc->n_vars; i++) {
		const struct scenario_str *s = &sc->vars[i].value;
		size_t n;
		char *x = vars_expand_dup(v, s->s, s->len, VARS_RAW, &n, err,
					  sizeof(err));
		if (x != NULL)
			(void)vars_set(v, sc->vars[i].name, x, n);
		free(x);
	}
	return v;
}

static int prepare(struct fuzz_cli *c, struct scenario **sc, struct target **t,
		   struct fuzzmode_seeds *seeds)
{
	struct scenario_error e;
	char msg[2200];
	struct vars *v;
	int rc;

	if ((*sc = scenario_load_file(c->scenario, NULL, &e)) == NULL) {
		scenario_error_format(&e, msg, sizeof(msg));
		fprintf(stderr, "%s\n", msg);
		return -1;
	}
	if ((*t = make_target(c)) == NULL)
		return -1;
	if ((v = make_vars(*t, *sc, c->o.seed)) == NULL) {
		fprintf(stderr, "quill-harness fuzz: out of memory\n");
		return -1;
	}
	rc = fuzzmode_seeds_collect(*sc, v, seeds, msg, sizeof(msg));
	vars_free(&v);
	if (rc != 0)
		fprintf(stderr, "quill-harness fuzz: %s\n", msg);
	else if ((rc = make_dir(c->out)) != 0)
		fprintf(stderr, "quill-harness fuzz: %s: %s\n", c->out,
			strerror(errno));
	return rc;
}

static int fuzz(struct fuzz_cli *c, struct target *t, const struct scenario *sc,
		const struct fuzzmode_seeds *seeds)
{
	struct sigaction sa = {.sa_handler = on_signal};
	struct fuzzmode_stats st;
	char err[2048];
	int rc;

	if (target_start(t, c->root_buf, err, sizeof(err)) != 0) {
		fprintf(stderr,
			"quill-harness fuzz: cannot start target %s: %s\n",
			t->name, err);
		target_stop(t, c->root_buf, err, sizeof(err));
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	c->o.out_dir = c->out;
	c->o.root = c->root_buf;
	c->o.stop = &fuzz_stop;
	rc = fuzzmode_run(&c->o, t, sc, seeds, &st);
	if (target_stop(t, c->root_buf, err, sizeof(err)) != 0)
		fprintf(stderr, "quill-harness fuzz: stopping target %s: %s\n",
			t->name, err);
	printf("fuzz: %llu cases in %.1f s, %llu crashes, %llu hangs, "
	       "%llu desyncs\n",
	       st.cases, st.seconds, st.crashes, st.hangs, st.desyncs);
	return rc != 0 || fuzz_stop || st.crashes + st.hangs + st.desyncs > 0;
}

int fuzzmode_main(int argc, char **argv)
{
	struct fuzzmode_seeds seeds = {.n = 0};
	struct scenario *sc = NULL;
	struct target *t = NULL;
	struct fuzz_cli c;
	int rc = 1;

	memset(&c, 0, sizeof(c));
	if (parse_cli(argc, argv, &c) != 0) {
		usage(stderr);
		return 2;
	}
	find_root(&c);
	if (prepare(&c, &sc, &t, &seeds) == 0)
		rc = fuzz(&c, t, sc, &seeds);
	fuzzmode_seeds_free(&seeds);
	target_free(&t);
	scenario_free(&sc);
	return rc;
}
