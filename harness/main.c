/*
 * main.c - the quill-harness command line (docs/quill-harness.md):
 *
 *   quill-harness run [options] PATH...    run scenarios against a target
 *   quill-harness list [options] PATH...   id, file and requirement ids
 *   quill-harness check [options] PATH...  load and validate only
 *   quill-harness coverage ...             the requirement matrix report
 *   quill-harness fuzz SCENARIO [options]  mutation fuzzing (fuzzmode.c)
 *
 * Exit status: 0 all passed (or valid), 1 a failure or an error, 2 a usage
 * error.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compare.h"
#include "fuzzmode.h"
#include "net.h"
#include "report.h"
#include "rfcmatrix.h"
#include "runner.h"
#include "scenario_find.h"
#include "target.h"

#if defined(__has_include)
#if __has_include("coverage.h")
#include "coverage.h"
#define HAVE_COVERAGE 1
#endif
#endif

#define CLI_MAX_TARGETS 8

struct cli {
	const char *target_file, *quilld, *root, *tap, *junit;
	const char *compare; /* --compare FILE: markdown table */
	const char *targets[CLI_MAX_TARGETS]; /* every --target, in order */
	size_t n_targets;
	unsigned jobs, timeout;
	bool verbose;
	struct scenario_filter filter;
	char **paths;
	size_t n_paths;
	char root_buf[4096];
};

/* The scenarios of the PATHs, loaded. */
struct loaded {
	struct scenario **v;
	size_t n;
	size_t errors;
	struct result *bad; /* a RESULT_ERROR per file that did not load */
	size_t n_bad;
	size_t n_files;
	bool quiet; /* do not print load errors (run reports them) */
};

static volatile sig_atomic_t interrupted;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: quill-harness run [--target FILE] [--quilld PATH] "
		"[--root DIR] [-j N]\n"
		"                         [--id GLOB] [--tag T] [--rfc PREFIX] "
		"[--tap FILE]\n"
		"                         [--junit FILE] [--timeout S] "
		"[--compare FILE] [-v] "
		"PATH...\n"
		"       quill-harness list [--root DIR] [filters] PATH...\n"
		"       quill-harness check [--root DIR] PATH...\n"
		"       quill-harness coverage [ARGS...]\n"
		"       quill-harness fuzz SCENARIO [--target FILE | --quilld "
		"PATH] --seconds N\n"
		"                          [--max-cases M] [--seed S] "
		"[--out DIR] [-v]\n"
		"       quill-harness --version | --help\n"
		"PATHs are scenario files or directories (searched for "
		"*.yaml, without targets/).\n"
		"See quill-harness(1) (docs/quill-harness.md) and "
		"quill-scenario(5) (docs/scenarios.md).\n");
}

static int parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < min ||
	    v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int add_filter(char ***list, size_t *n, int argc, char *v)
{
	if (*list == NULL &&
	    (*list = calloc((size_t)argc, sizeof(char *))) == NULL)
		return -1;
	(*list)[(*n)++] = v;
	return 0;
}

static int parse_one(struct cli *o, int c, int argc)
{
	struct scenario_filter *f = &o->filter;
	switch (c) {
	case 't':
		if (o->n_targets == CLI_MAX_TARGETS)
			return -1;
		o->targets[o->n_targets++] = optarg;
		o->target_file = optarg;
		return 0;
	case 'C':
		o->compare = optarg;
		return 0;
	case 'q':
		o->quilld = optarg;
		return 0;
	case 'r':
		o->root = optarg;
		return 0;
	case 'j':
		return parse_uint(optarg, 1, 64, &o->jobs);
	case 'i':
		return add_filter(&f->ids, &f->n_ids, argc, optarg);
	case 'g':
		return add_filter(&f->tags, &f->n_tags, argc, optarg);
	case 'f':
		return add_filter(&f->rfcs, &f->n_rfcs, argc, optarg);
	case 'T':
		o->tap = optarg;
		return 0;
	case 'J':
		o->junit = optarg;
		return 0;
	case 'o':
		return parse_uint(optarg, 1, SCENARIO_MAX_SECONDS, &o->timeout);
	case 'v':
		o->verbose = true;
		return 0;
	default:
		return -1;
	}
}

static int parse_cli(int argc, char **argv, struct cli *o)
{
	static const struct option opts[] = {
		{"target", required_argument, NULL, 't'},
		{"quilld", required_argument, NULL, 'q'},
		{"root", required_argument, NULL, 'r'},
		{"jobs", required_argument, NULL, 'j'},
		{"id", required_argument, NULL, 'i'},
		{"tag", required_argument, NULL, 'g'},
		{"rfc", required_argument, NULL, 'f'},
		{"tap", required_argument, NULL, 'T'},
		{"junit", required_argument, NULL, 'J'},
		{"timeout", required_argument, NULL, 'o'},
		{"compare", required_argument, NULL, 'C'},
		{"verbose", no_argument, NULL, 'v'},
		{NULL, 0, NULL, 0}};
	int c;

	o->jobs = 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "j:v", opts, NULL)) != -1)
		if (parse_one(o, c, argc) != 0) {
			if (c != '?')
				fprintf(stderr,
					"quill-harness: bad value '%s' "
					"for %s\n",
					optarg, argv[optind - 1]);
			return -1;
		}
	o->paths = argv + optind;
	o->n_paths = (size_t)(argc - optind);
	if (o->n_paths == 0) {
		fprintf(stderr, "quill-harness %s: no PATH given\n", argv[0]);
		return -1;
	}
	return 0;
}

static void cli_free(struct cli *o)
{
	free(o->filter.ids);
	free(o->filter.tags);
	free(o->filter.rfcs);
}

/* --root, else the nearest directory up from here holding scenarios/,
 * else the current directory. */
static void find_root(struct cli *o)
{
	char dir[4096], probe[4200];
	struct stat st;

	if (o->root != NULL) {
		snprintf(o->root_buf, sizeof(o->root_buf), "%s", o->root);
		return;
	}
	snprintf(o->root_buf, sizeof(o->root_buf), ".");
	if (getcwd(dir, sizeof(dir)) == NULL)
		return;
	for (;;) {
		snprintf(probe, sizeof(probe), "%s/scenarios", dir);
		if (stat(probe, &st) == 0 && S_ISDIR(st.st_mode)) {
			snprintf(o->root_buf, sizeof(o->root_buf), "%s", dir);
			return;
		}
		char *slash = strrchr(dir, '/');
		if (slash == NULL || slash == dir)
			return;
		*slash = '\0';
	}
}

static struct rfc_matrix *load_matrix(const struct cli *o, bool strict,
				      size_t *errors)
{
	char dir[4200], msg[700];
	struct ytree_error e;
	struct rfc_matrix *m;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/rfc", o->root_buf);
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return NULL;
	if ((m = rfc_matrix_load_dir(dir, &e)) != NULL)
		return m;
	ytree_error_format(&e, msg, sizeof(msg));
	fprintf(stderr, "quill-harness: %s%s\n", msg,
		strict ? "" : " (requirement ids are not checked)");
	if (strict)
		(*errors)++;
	return NULL;
}

static void add_bad(struct loaded *l, const char *file, const char *msg)
{
	struct result *r = &l->bad[l->n_bad++];
	memset(r, 0, sizeof(*r));
	r->id = strdup(file);
	r->file = strdup(file);
	r->summary = strdup("(the file does not load)");
	r->reason = strdup(msg);
	r->status = RESULT_ERROR;
	l->errors++;
}

static int cmp_id(const void *a, const void *b)
{
	const struct scenario *x = *(struct scenario *const *)a;
	const struct scenario *y = *(struct scenario *const *)b;
	int c = strcmp(x->id, y->id);
	return c != 0 ? c : strcmp(x->file, y->file);
}

/* Two files with one id: an error for the second. */
static void check_ids(struct loaded *l)
{
	struct scenario **v = calloc(l->n + 1, sizeof(*v));
	char msg[600];
	if (v == NULL)
		return;
	memcpy(v, l->v, l->n * sizeof(*v));
	qsort(v, l->n, sizeof(*v), cmp_id);
	for (size_t i = 1; i < l->n; i++)
		if (strcmp(v[i - 1]->id, v[i]->id) == 0) {
			snprintf(msg, sizeof(msg),
				 "duplicate id '%s' (also in "
				 "%s)",
				 v[i]->id, v[i - 1]->file);
			if (!l->quiet)
				fprintf(stderr, "%s: %s\n", v[i]->file, msg);
			add_bad(l, v[i]->file, msg);
		}
	free(v);
}

static void load_files(struct loaded *l, const struct scenario_files *f,
		       const struct rfc_matrix *m)
{
	struct scenario_error err;
	char msg[2200];
	for (size_t i = 0; i < f->n; i++) {
		struct scenario *s = scenario_load_file(f->v[i], m, &err);
		if (s != NULL) {
			l->v[l->n++] = s;
			continue;
		}
		scenario_error_format(&err, msg, sizeof(msg));
		if (!l->quiet)
			fprintf(stderr, "%s\n", msg);
		add_bad(l, f->v[i], msg);
	}
}

static int cli_load(struct cli *o, bool strict, bool quiet, struct loaded *l)
{
	struct scenario_files f;
	struct rfc_matrix *m;
	char err[600];

	memset(l, 0, sizeof(*l));
	l->quiet = quiet;
	if (scenario_find(o->paths, o->n_paths, &f, err, sizeof(err)) != 0) {
		fprintf(stderr, "quill-harness: %s\n", err);
		l->errors++;
		return -1;
	}
	l->n_files = f.n;
	m = load_matrix(o, strict, &l->errors);
	l->v = calloc(f.n + 1, sizeof(*l->v));
	l->bad = calloc(2 * f.n + 1, sizeof(*l->bad));
	if (l->v == NULL || l->bad == NULL) {
		fprintf(stderr, "quill-harness: out of memory\n");
		l->errors++;
	} else {
		load_files(l, &f, m);
		check_ids(l);
	}
	rfc_matrix_free(&m);
	scenario_files_free(&f);
	return l->errors > 0 ? -1 : 0;
}

static void cli_loaded_free(struct loaded *l)
{
	for (size_t i = 0; i < l->n; i++)
		scenario_free(&l->v[i]);
	for (size_t i = 0; i < l->n_bad; i++) {
		free(l->bad[i].id);
		free(l->bad[i].file);
		free(l->bad[i].summary);
		free(l->bad[i].reason);
	}
	free(l->v);
	free(l->bad);
}

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* A relative ca_file is taken from the repository root, as the target's
 * commands run there. */
static int rooted_ca_file(const struct cli *o, struct target *t)
{
	char *abs;
	if (t->ca_file == NULL || t->ca_file[0] == '/')
		return 0;
	if (asprintf(&abs, "%s/%s", o->root_buf, t->ca_file) < 0)
		return -1;
	free(t->ca_file);
	t->ca_file = abs;
	return 0;
}

static struct target *make_target(const struct cli *o)
{
	struct scenario_error e;
	char path[4096], msg[2200];
	struct target *t;

	if (o->target_file != NULL) {
		if ((t = target_load_file(o->target_file, &e)) == NULL) {
			scenario_error_format(&e, msg, sizeof(msg));
			fprintf(stderr, "%s\n", msg);
		} else if (rooted_ca_file(o, t) != 0) {
			fprintf(stderr, "quill-harness: out of memory\n");
			target_free(&t);
		}
		return t;
	}
	if (target_find_quilld(o->quilld, path, sizeof(path), msg,
			       sizeof(msg)) != 0) {
		fprintf(stderr, "quill-harness: %s\n", msg);
		return NULL;
	}
	char abs[4096]; /* quilld runs in its own directory */
	if (realpath(path, abs) == NULL)
		snprintf(abs, sizeof(abs), "%s", path);
	if ((t = target_quilld_new(abs)) == NULL)
		fprintf(stderr, "quill-harness: out of memory\n");
	return t;
}

static int run_selected(const struct cli *o, struct target *t,
			struct scenario **sel, size_t n, struct result_set *rs)
{
	struct runner_pool_options po = {
		.target = t,
		.root = o->root_buf,
		.jobs = o->jobs,
		.timeout_s = o->timeout,
		.verbose = o->verbose,
		.progress = isatty(STDERR_FILENO) && !o->verbose,
		.stop = &interrupted,
	};
	char err[2048];
	int rc = 0;

	if (target_start(t, o->root_buf, err, sizeof(err)) != 0) {
		fprintf(stderr, "quill-harness: cannot start target %s: %s\n",
			t->name, err);
		rc = -1;
	} else if (runner_pool_run(sel, n, &po, rs) != 0) {
		fprintf(stderr, "quill-harness: out of memory\n");
		rc = -1;
	}
	if (target_stop(t, o->root_buf, err, sizeof(err)) != 0)
		fprintf(stderr, "quill-harness: stopping target %s: %s\n",
			t->name, err);
	return rc;
}

static int write_reports(const struct cli *o, const struct result_set *rs)
{
	int rc = 0;
	report_human(stdout, rs, o->verbose, isatty(STDOUT_FILENO));
	fflush(stdout);
	if (o->tap != NULL && report_tap(o->tap, rs) != 0) {
		fprintf(stderr, "quill-harness: %s: %s\n", o->tap,
			strerror(errno));
		rc = -1;
	}
	if (o->junit != NULL && report_junit(o->junit, rs) != 0) {
		fprintf(stderr, "quill-harness: %s: %s\n", o->junit,
			strerror(errno));
		rc = -1;
	}
	return rc;
}

/* Run the selection against one target; results into rs. */
static int run_target(const struct cli *o, struct scenario **sel, size_t n,
		      const struct loaded *l, struct result_set *rs)
{
	struct sigaction sa = {.sa_handler = on_signal};
	struct target *t = make_target(o);
	size_t pass, fail, skip, err;
	long long t0 = net_now_ms();
	int rc = 0;

	if (t == NULL)
		return 2;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	result_set_init(rs, t->name);
	if (n > 0 && run_selected(o, t, sel, n, rs) != 0)
		rc = 2; /* the target did not start, or no memory */
	for (size_t i = 0; i < l->n_bad && rc == 0; i++)
		if (result_set_add(rs, &l->bad[i]) != 0)
			rc = 2;
	rs->seconds = (double)(net_now_ms() - t0) / 1000.0;
	if (rc == 0 && write_reports(o, rs) != 0)
		rc = 2;
	result_set_counts(rs, &pass, &fail, &skip, &err);
	if (rc == 0 && (fail + err > 0 || interrupted))
		rc = 1;
	target_free(&t);
	return rc;
}

/* --compare: every --target (and the embedded quilld first, unless only
 * target files were named and no --quilld), then the side-by-side table.
 * Differences are the table's subject, so failures do not fail the run;
 * a target that could not run does. */
static int run_compare(struct cli *o, struct scenario **sel, size_t n,
		       const struct loaded *l)
{
	struct result_set sets[CLI_MAX_TARGETS + 1];
	const struct result_set *ptr[CLI_MAX_TARGETS + 1];
	size_t k = 0;
	int rc = 0;
	bool embedded = o->quilld != NULL || o->n_targets == 0;

	for (size_t i = 0; i < o->n_targets + embedded && rc == 0; i++) {
		o->target_file =
			embedded && i == 0 ? NULL : o->targets[i - embedded];
		memset(&sets[k], 0, sizeof(sets[k]));
		if (run_target(o, sel, n, l, &sets[k]) == 2)
			rc = -1; /* the target did not run */
		ptr[k] = &sets[k];
		k++;
	}
	if (rc == 0 && compare_write_markdown(o->compare, ptr, k) != 0) {
		fprintf(stderr, "quill-harness: %s: %s\n", o->compare,
			strerror(errno));
		rc = -1;
	}
	for (size_t i = 0; i < k; i++)
		result_set_free(&sets[i]);
	return rc;
}

static int cli_run(struct cli *o)
{
	struct scenario **sel;
	struct result_set rs;
	struct loaded l;
	size_t n = 0;
	int rc = 0;

	cli_load(o, false, true, &l);
	if ((sel = calloc(l.n + 1, sizeof(*sel))) == NULL)
		rc = -1;
	for (size_t i = 0; sel != NULL && i < l.n; i++)
		if (scenario_selected(l.v[i], &o->filter))
			sel[n++] = l.v[i];
	if (rc == 0 && n == 0 && l.n_bad == 0) {
		fprintf(stderr, "quill-harness: no scenario selected\n");
		rc = -1;
	}
	if (rc == 0 && o->compare != NULL) {
		rc = run_compare(o, sel, n, &l);
	} else if (rc == 0) {
		memset(&rs, 0, sizeof(rs));
		rc = run_target(o, sel, n, &l, &rs);
		result_set_free(&rs);
	}
	free(sel);
	cli_loaded_free(&l);
	return rc == 0 ? 0 : 1;
}

static int cmd_check(struct cli *o)
{
	struct loaded l;
	int rc = cli_load(o, true, false, &l);
	if (rc == 0)
		fprintf(stderr, "%zu scenario%s valid\n", l.n,
			l.n == 1 ? "" : "s");
	else
		fprintf(stderr, "%zu error%s in %zu file%s\n", l.errors,
			l.errors == 1 ? "" : "s", l.n_files,
			l.n_files == 1 ? "" : "s");
	cli_loaded_free(&l);
	return rc == 0 ? 0 : 1;
}

static int cmd_list(struct cli *o)
{
	struct loaded l;
	int rc = cli_load(o, false, false, &l);
	for (size_t i = 0; i < l.n; i++) {
		const struct scenario *s = l.v[i];
		if (!scenario_selected(s, &o->filter))
			continue;
		printf("%s\t%s\t", s->id, s->file);
		for (size_t k = 0; k < s->n_rfc; k++)
			printf("%s%s", k ? "," : "", s->rfc[k]);
		putchar('\n');
	}
	cli_loaded_free(&l);
	return rc == 0 ? 0 : 1;
}

static int cmd_coverage(int argc, char **argv)
{
#ifdef HAVE_COVERAGE
	return coverage_main(argc, argv);
#else
	(void)argc;
	(void)argv;
	fprintf(stderr, "quill-harness coverage: not available in this "
			"build\n");
	return 2;
#endif
}

static int dispatch(int argc, char **argv)
{
	struct cli o;
	int rc;

	memset(&o, 0, sizeof(o));
	if (parse_cli(argc, argv, &o) != 0) {
		usage(stderr);
		cli_free(&o);
		return 2;
	}
	find_root(&o);
	if (strcmp(argv[0], "check") == 0)
		rc = cmd_check(&o);
	else if (strcmp(argv[0], "list") == 0)
		rc = cmd_list(&o);
	else
		rc = cli_run(&o);
	cli_free(&o);
	return rc;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	signal(SIGPIPE, SIG_IGN);
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
	    strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("quill-harness %s\n", QUILL_VERSION);
		return 0;
	}
	if (strcmp(cmd, "run") == 0 || strcmp(cmd, "list") == 0 ||
	    strcmp(cmd, "check") == 0)
		return dispatch(argc - 1, argv + 1);
	if (strcmp(cmd, "coverage") == 0)
		return cmd_coverage(argc - 1, argv + 1);
	if (strcmp(cmd, "fuzz") == 0)
		return fuzzmode_main(argc - 1, argv + 1);
	if (cmd[0] != '\0')
		fprintf(stderr, "quill-harness: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
