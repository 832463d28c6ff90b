/*
 * coverage.c - `quill-harness coverage` (coverage.h): read the scenarios'
 * ids and citations, check every citation against the requirement matrix,
 * and print per RFC which requirements are covered, as text or as the
 * markdown table README.md shows (scripts/rfc-coverage.sh).
 */
#include "coverage.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "report.h"

#define COLLECT_MAX_DEPTH 32

/* --- reading scenarios ------------------------------------------------- */

struct collect {
	struct coverage_scenario *s;
	size_t n;
	char *err;
	size_t errlen;
};

void coverage_scenarios_free(struct coverage_scenario *s, size_t n)
{
	for (size_t i = 0; s != NULL && i < n; i++) {
		free(s[i].id);
		free(s[i].file);
		for (size_t j = 0; j < s[i].n_rfc; j++)
			free(s[i].rfc[j]);
		free(s[i].rfc);
	}
	free(s);
}

__attribute__((format(printf, 2, 3))) static int
collect_err(struct collect *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int collect_fail(struct collect *c, const struct ytree_error *e)
{
	ytree_error_format(e, c->err, c->errlen);
	return -1;
}

/* Copy id, file and the rfc list of a scenario's root map into sc. */
static int collect_fields(const struct ytree *t, struct coverage_scenario *sc,
			  struct ytree_error *e)
{
	const struct ytree_node *root = ytree_root(t);
	const struct ytree_node *rfc = ytree_map_get(root, "rfc");
	static const char *const keys[] = {"id", "rfc"};
	const char *s;

	if (root == NULL || root->kind != YTREE_MAP)
		return ytree_error_at(e, t, root,
				      "expected a scenario (a map)");
	for (int i = 0; i < 2; i++)
		if (ytree_map_get(root, keys[i]) == NULL)
			return ytree_error_at(e, t, root, "missing key '%s'",
					      keys[i]);
	if (ytree_scalar_string(t, ytree_map_get(root, "id"), "id", &s, e) != 0)
		return -1;
	if ((sc->id = strdup(s)) == NULL ||
	    (sc->file = strdup(ytree_file(t))) == NULL)
		return ytree_error_at(e, t, root, "out of memory");
	if (rfc->kind != YTREE_SEQ)
		return ytree_error_at(e, t, rfc,
				      "key 'rfc': expected a list of "
				      "requirement ids, got a %s",
				      ytree_kind_name(rfc->kind));
	if ((sc->rfc = calloc(ytree_len(rfc) + 1, sizeof(char *))) == NULL)
		return ytree_error_at(e, t, rfc, "out of memory");
	for (size_t i = 0; i < ytree_len(rfc); i++) {
		if (ytree_scalar_string(t, ytree_seq_at(rfc, i), "rfc", &s,
					e) != 0)
			return -1;
		if ((sc->rfc[i] = strdup(s)) == NULL)
			return ytree_error_at(e, t, rfc, "out of memory");
		sc->n_rfc++;
	}
	return 0;
}

static int collect_file(struct collect *c, const char *path)
{
	struct coverage_scenario *sc = realloc(c->s, (c->n + 1) * sizeof(*sc));
	struct ytree_error e;
	struct ytree *t;
	int rc;

	if (sc == NULL)
		return collect_err(c, "%s: out of memory", path);
	c->s = sc;
	sc = memset(&c->s[c->n++], 0, sizeof(*sc));
	if ((t = ytree_load_file(path, NULL, &e)) == NULL)
		return collect_fail(c, &e);
	rc = collect_fields(t, sc, &e);
	ytree_free(&t);
	return rc != 0 ? collect_fail(c, &e) : 0;
}

static int skip_entry(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

static int cmp_entry(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int collect_path(struct collect *c, const char *path, bool top,
			unsigned depth);

/* The *.yaml files and subdirectories of dir, in name order. */
static int collect_dir(struct collect *c, const char *dir, unsigned depth)
{
	struct dirent **names;
	int n = scandir(dir, &names, skip_entry, cmp_entry), rc = 0;
	char path[4096];

	if (n < 0)
		return collect_err(c, "%s: %s", dir, strerror(errno));
	for (int i = 0; i < n; i++) {
		if (rc == 0 && snprintf(path, sizeof(path), "%s%s%s", dir,
					has_suffix(dir, "/") ? "" : "/",
					names[i]->d_name) >= (int)sizeof(path))
			rc = collect_err(c, "%s: name too long", dir);
		if (rc == 0)
			rc = collect_path(c, path, false, depth + 1);
		free(names[i]);
	}
	free(names);
	return rc;
}

static int collect_path(struct collect *c, const char *path, bool top,
			unsigned depth)
{
	const char *base = strrchr(path, '/');
	struct stat st;

	base = base != NULL ? base + 1 : path;
	if (stat(path, &st) != 0)
		return collect_err(c, "%s: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		if (!top && strcmp(base, "targets") == 0)
			return 0;
		if (depth >= COLLECT_MAX_DEPTH)
			return collect_err(c, "%s: nested too deeply", path);
		return collect_dir(c, path, depth);
	}
	if (!top && (!S_ISREG(st.st_mode) || !has_suffix(base, ".yaml")))
		return 0;
	return collect_file(c, path);
}

int coverage_collect(const char *const *paths, size_t n,
		     struct coverage_scenario **out, size_t *n_out, char *err,
		     size_t errlen)
{
	struct collect c = {.err = err, .errlen = errlen};

	for (size_t i = 0; i < n; i++) {
		if (collect_path(&c, paths[i], true, 0) != 0) {
			coverage_scenarios_free(c.s, c.n);
			return -1;
		}
	}
	*out = c.s;
	*n_out = c.n;
	return 0;
}

/* --- counting ---------------------------------------------------------- */

enum coverage_class coverage_class_of(enum rfc_level level)
{
	switch (level) {
	case RFC_LEVEL_MUST:
	case RFC_LEVEL_MUST_NOT:
		return COVERAGE_MUST;
	case RFC_LEVEL_SHOULD:
	case RFC_LEVEL_SHOULD_NOT:
		return COVERAGE_SHOULD;
	case RFC_LEVEL_MAY:
		break;
	}
	return COVERAGE_MAY;
}

bool coverage_role_selected(const struct rfc_req *r, unsigned roles)
{
	if (roles == 0 || (roles & (1u << r->role)) != 0)
		return true;
	return r->role == RFC_ROLE_BOTH &&
	       (roles & ~(1u << RFC_ROLE_BOTH)) != 0;
}

/* Whether scenario sc cites r. */
static bool cites(const struct coverage_scenario *sc, const struct rfc_req *r)
{
	for (size_t j = 0; j < sc->n_rfc; j++)
		if (strcmp(sc->rfc[j], r->id) == 0)
			return true;
	return false;
}

bool coverage_is_covered(const struct rfc_req *r,
			 const struct coverage_scenario *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (cites(&s[i], r))
			return true;
	return false;
}

void coverage_count(const struct rfc_doc *doc, unsigned roles,
		    const struct coverage_scenario *s, size_t n,
		    struct coverage_counts *c)
{
	for (size_t i = 0; i < doc->n_reqs; i++) {
		const struct rfc_req *r = &doc->reqs[i];
		enum coverage_class k = coverage_class_of(r->level);

		if (!coverage_role_selected(r, roles))
			continue;
		c->total[k]++;
		if (coverage_is_covered(r, s, n))
			c->covered[k]++;
	}
}

/* --- output ------------------------------------------------------------ */

struct coverage_opts {
	const char *rfc_dir;
	bool markdown;
	unsigned *rfcs; /* --rfc numbers; none: every RFC */
	size_t n_rfcs;
	unsigned roles;
};

static const char *const class_names[] = {"MUST", "SHOULD", "MAY"};

static bool rfc_selected(const struct coverage_opts *o,
			 const struct rfc_doc *doc)
{
	for (size_t i = 0; i < o->n_rfcs; i++)
		if (o->rfcs[i] == doc->number)
			return true;
	return o->n_rfcs == 0;
}

/* "3/10 (30%)"; MAY without the percentage, as the report asks. */
static void put_ratio(FILE *out, const struct coverage_counts *c,
		      enum coverage_class k, int width)
{
	char buf[64];

	if (k == COVERAGE_MAY)
		(void)snprintf(buf, sizeof(buf), "%zu/%zu", c->covered[k],
			       c->total[k]);
	else if (c->total[k] == 0)
		(void)snprintf(buf, sizeof(buf), "0/0 (n/a)");
	else
		(void)snprintf(buf, sizeof(buf), "%zu/%zu (%zu%%)",
			       c->covered[k], c->total[k],
			       c->covered[k] * 100 / c->total[k]);
	fprintf(out, "%-*s", width, buf);
}

static void text_req(FILE *out, const struct rfc_req *r, int idw,
		     const struct coverage_scenario *s, size_t n)
{
	size_t shown = 0;

	fprintf(out, "  %-*s  %-10s  %-6s  covered-by: ", idw, r->id,
		rfc_matrix_level_name(r->level), rfc_matrix_role_name(r->role));
	for (size_t i = 0; i < n; i++) {
		if (!cites(&s[i], r))
			continue;
		fputs(shown++ > 0 ? ", " : "", out);
		report_escape(out, s[i].id, strlen(s[i].id), REPORT_ESC_LINE);
	}
	fprintf(out, "%s\n      %s\n", shown == 0 ? "-" : "", r->text);
}

static void text_doc(FILE *out, const struct rfc_doc *doc,
		     const struct coverage_opts *o,
		     const struct coverage_scenario *s, size_t n,
		     const struct coverage_counts *c)
{
	int idw = 0;

	for (size_t i = 0; i < doc->n_reqs; i++)
		if (coverage_role_selected(&doc->reqs[i], o->roles) &&
		    (int)strlen(doc->reqs[i].id) > idw)
			idw = (int)strlen(doc->reqs[i].id);
	fprintf(out, "RFC %u: %s\n", doc->number, doc->title);
	for (size_t i = 0; i < doc->n_reqs; i++)
		if (coverage_role_selected(&doc->reqs[i], o->roles))
			text_req(out, &doc->reqs[i], idw, s, n);
	fputs("  ", out);
	for (int k = 0; k < COVERAGE_CLASSES; k++) {
		fprintf(out, "%s%s: ", k > 0 ? ", " : "", class_names[k]);
		put_ratio(out, c, (enum coverage_class)k, 0);
	}
	fputs("\n\n", out);
}

/* One row of the total table, text or markdown. */
static void table_row(FILE *out, const struct coverage_opts *o, const char *rfc,
		      const char *title, const struct coverage_counts *c)
{
	if (o->markdown) {
		fprintf(out, "| %s |", rfc);
		if (title[0] != '\0')
			putc(' ', out);
		report_escape(out, title, strlen(title), REPORT_ESC_MARKDOWN);
		for (int k = 0; k < COVERAGE_CLASSES; k++) {
			fputs(" | ", out);
			put_ratio(out, c, (enum coverage_class)k, 0);
		}
		fputs(" |\n", out);
		return;
	}
	fprintf(out, "  %-10s", rfc);
	for (int k = 0; k < COVERAGE_CLASSES; k++)
		put_ratio(out, c, (enum coverage_class)k,
			  k + 1 < COVERAGE_CLASSES ? 18 : 0);
	putc('\n', out);
}

static void add_counts(struct coverage_counts *sum,
		       const struct coverage_counts *c)
{
	for (int k = 0; k < COVERAGE_CLASSES; k++) {
		sum->covered[k] += c->covered[k];
		sum->total[k] += c->total[k];
	}
}

/* Whether doc has a row: selected, and with requirements or named. */
static bool doc_shown(const struct coverage_opts *o, const struct rfc_doc *doc,
		      const struct coverage_counts *c)
{
	if (!rfc_selected(o, doc))
		return false;
	return o->n_rfcs > 0 || c->total[0] + c->total[1] + c->total[2] > 0;
}

/* The per-RFC sections (text only), then the table with a total row.
 * RFCs without a selected requirement are left out unless named by --rfc.
 * 0, or -1 when out of memory. */
static int print_report(FILE *out, const struct rfc_matrix *m,
			const struct coverage_opts *o,
			const struct coverage_scenario *s, size_t n)
{
	size_t nd = rfc_matrix_count(m);
	struct coverage_counts *c = calloc(nd + 1, sizeof(*c)), sum = {0};
	char rfc[32];

	if (c == NULL)
		return -1;
	for (size_t i = 0; i < nd; i++) {
		const struct rfc_doc *doc = rfc_matrix_doc_at(m, i);

		if (rfc_selected(o, doc))
			coverage_count(doc, o->roles, s, n, &c[i]);
		if (!doc_shown(o, doc, &c[i]))
			continue;
		add_counts(&sum, &c[i]);
		if (!o->markdown)
			text_doc(out, doc, o, s, n, &c[i]);
	}
	if (o->markdown)
		fputs("| RFC | title | MUST | SHOULD | MAY |\n"
		      "| --- | --- | ---: | ---: | ---: |\n",
		      out);
	else
		fprintf(out, "Total\n  %-10s%-18s%-18s%s\n", "RFC", "MUST",
			"SHOULD", "MAY");
	for (size_t i = 0; i < nd; i++) {
		const struct rfc_doc *doc = rfc_matrix_doc_at(m, i);

		if (!doc_shown(o, doc, &c[i]))
			continue;
		(void)snprintf(rfc, sizeof(rfc), "RFC %u", doc->number);
		table_row(out, o, rfc, doc->title, &c[i]);
	}
	table_row(out, o, "total", "", &sum);
	free(c);
	return 0;
}

/* --- the command ------------------------------------------------------- */

static const char usage[] =
	"usage: quill-harness coverage [--rfc-dir DIR] [--format "
	"text|markdown]\n"
	"                              [--rfc N]... [--role ROLE]... PATH...\n"
	"Shows which requirements of the matrix (DIR, default rfc) the\n"
	"scenarios under PATH cite. ROLE is server, client, relay (each also\n"
	"selects 'both') or both. Exit status: 0 ok, 1 a scenario cites an\n"
	"unknown requirement, 2 usage or file errors.\n";

/* A --rfc or --role value into o; 0 or -1. */
static int parse_value(struct coverage_opts *o, int opt, const char *v,
		       FILE *err)
{
	unsigned *p;
	char *end;
	unsigned long n;

	if (opt == 'r') {
		for (unsigned i = 0; i < 4; i++)
			if (strcmp(v, rfc_matrix_role_name(i)) == 0) {
				o->roles |= 1u << i;
				return 0;
			}
		fprintf(err, "quill-harness coverage: unknown role '%s'\n", v);
		return -1;
	}
	errno = 0;
	n = strtoul(v, &end, 10);
	if (v[0] < '1' || v[0] > '9' || *end != '\0' || errno != 0 ||
	    n > 99999) {
		fprintf(err, "quill-harness coverage: bad RFC number '%s'\n",
			v);
		return -1;
	}
	if ((p = realloc(o->rfcs, (o->n_rfcs + 1) * sizeof(*p))) == NULL)
		return -1;
	o->rfcs = p;
	o->rfcs[o->n_rfcs++] = (unsigned)n;
	return 0;
}

static void bad_option(FILE *err, int opt, char **argv)
{
	if (opt == '?' && optopt > 0)
		fprintf(err, "quill-harness coverage: unknown option '-%c'\n",
			optopt);
	else
		fprintf(err, "quill-harness coverage: %s '%s'\n",
			opt == ':' ? "missing value for" : "unknown option",
			argv[optind - 1]);
	fputs(usage, err);
}

/* Options into o; the index of the first path, 0 for --help, -1. */
static int parse_args(int argc, char **argv, struct coverage_opts *o, FILE *err)
{
	static const struct option longopts[] = {
		{"rfc-dir", required_argument, NULL, 'd'},
		{"format", required_argument, NULL, 'f'},
		{"rfc", required_argument, NULL, 'n'},
		{"role", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int opt;

	optind = 0; /* glibc: start afresh */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (opt == 'h')
			return 0;
		if (opt == 'd') {
			o->rfc_dir = optarg;
		} else if (opt == 'f' && (strcmp(optarg, "text") == 0 ||
					  strcmp(optarg, "markdown") == 0)) {
			o->markdown = optarg[0] == 'm';
		} else if (opt == 'f') {
			fprintf(err,
				"quill-harness coverage: unknown format "
				"'%s'\n",
				optarg);
			return -1;
		} else if (opt == 'n' || opt == 'r') {
			if (parse_value(o, opt, optarg, err) != 0)
				return -1;
		} else {
			bad_option(err, opt, argv);
			return -1;
		}
	}
	if (optind >= argc) {
		fprintf(err, "quill-harness coverage: no scenario path\n%s",
			usage);
		return -1;
	}
	return optind;
}

/* Every citation must name a requirement; list those that do not. */
static int check_citations(const struct rfc_matrix *m,
			   const struct coverage_scenario *s, size_t n,
			   FILE *err)
{
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < s[i].n_rfc; j++) {
			if (rfc_matrix_find(m, s[i].rfc[j]) != NULL)
				continue;
			report_escape(err, s[i].file, strlen(s[i].file),
				      REPORT_ESC_LINE);
			fputs(": scenario '", err);
			report_escape(err, s[i].id, strlen(s[i].id),
				      REPORT_ESC_LINE);
			fputs("' cites unknown requirement '", err);
			report_escape(err, s[i].rfc[j], strlen(s[i].rfc[j]),
				      REPORT_ESC_LINE);
			fputs("'\n", err);
			rc = 1;
		}
	return rc;
}

/* Load, check and print; the exit status. */
static int run(const struct coverage_opts *o, const char *const *paths,
	       size_t n_paths, FILE *out, FILE *err)
{
	struct coverage_scenario *s = NULL;
	struct rfc_matrix *m;
	struct ytree_error e;
	char msg[600];
	size_t n = 0;
	int rc = 2;

	if ((m = rfc_matrix_load_dir(o->rfc_dir, &e)) == NULL) {
		ytree_error_format(&e, msg, sizeof(msg));
		fprintf(err, "quill-harness coverage: %s\n", msg);
		return 2;
	}
	if (coverage_collect(paths, n_paths, &s, &n, msg, sizeof(msg)) != 0)
		fprintf(err, "quill-harness coverage: %s\n", msg);
	else if ((rc = check_citations(m, s, n, err)) != 0)
		rc = 1;
	for (size_t i = 0; rc == 0 && i < o->n_rfcs; i++)
		if (rfc_matrix_doc(m, o->rfcs[i]) == NULL) {
			fprintf(err,
				"quill-harness coverage: no RFC %u in %s\n",
				o->rfcs[i], o->rfc_dir);
			rc = 2;
		}
	if (rc == 0 && print_report(out, m, o, s, n) != 0)
		rc = 2;
	if (rc == 0 && (fflush(out) != 0 || ferror(out))) {
		fprintf(err, "quill-harness coverage: write error\n");
		rc = 2;
	}
	coverage_scenarios_free(s, n);
	rfc_matrix_free(&m);
	return rc;
}

int coverage_run(int argc, char **argv, FILE *out, FILE *err)
{
	struct coverage_opts o = {.rfc_dir = "rfc"};
	int first = parse_args(argc, argv, &o, err), rc;

	if (first <= 0) {
		if (first == 0)
			fputs(usage, out);
		free(o.rfcs);
		return first == 0 ? 0 : 2;
	}
	rc = run(&o, (const char *const *)(argv + first),
		 (size_t)(argc - first), out, err);
	free(o.rfcs);
	return rc;
}

int coverage_main(int argc, char **argv)
{
	return coverage_run(argc, argv, stdout, stderr);
}
