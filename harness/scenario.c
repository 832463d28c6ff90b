/*
 * scenario.c - load a scenario file: the top-level keys of
 * docs/scenarios.md (id, summary, rfc, tags, requires, timeout, vars,
 * notes, quilld_config, steps), and freeing. Steps are read by scenario_steps.c.
 */
#include "scenario_internal.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rfcmatrix.h"

#define ID_MAX	    128
#define SUMMARY_MAX 300
#define NOTES_MAX   (64u * 1024)

static const struct ytree_limits scenario_limits = {
	.max_depth = 32,
	.max_nodes = 200000,
	.max_scalar_len = SCENARIO_MAX_STRING,
};

static bool word_char(char c, const char *extra)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       strchr(extra, c) != NULL;
}

/* Dotted lower-case words: "smtp.starttls.discard-pipelined". */
static bool id_ok(const char *s)
{
	bool start = true;
	for (; *s != '\0'; s++) {
		if (*s == '.' && !start) {
			start = true;
			continue;
		}
		if (!word_char(*s, start ? "" : "-_"))
			return false;
		start = false;
	}
	return !start;
}

static bool words_ok(char **v, size_t n, const char *extra)
{
	for (size_t i = 0; i < n; i++)
		for (const char *p = v[i]; *p != '\0'; p++)
			if (!word_char(*p, extra))
				return false;
	return true;
}

/* RFC<digits>-<section>[-<n>]; the matrix (if any) must know it. */
static int check_rfc_ids(struct sload *ld, const struct ytree_node *n,
			 struct scenario *s)
{
	for (size_t i = 0; i < s->n_rfc; i++) {
		const char *id = s->rfc[i];
		const struct ytree_node *at = ytree_seq_at(n, i);
		bool ok = strncmp(id, "RFC", 3) == 0 && id[3] >= '1' &&
			  id[3] <= '9' && strchr(id, '-') != NULL;
		if (!ok)
			return sload_error(ld, at,
					   "bad requirement id '%s' (expected "
					   "RFC<number>-<section>, e.g. "
					   "RFC5321-4.5.3.1.4)",
					   id);
		if (ld->m != NULL && rfc_matrix_find(ld->m, id) == NULL)
			return sload_error(ld, at,
					   "unknown requirement id '%s' "
					   "(expected an id from rfc/*.yaml)",
					   id);
	}
	return 0;
}

static int load_vars(struct sload *ld, const struct ytree_node *n,
		     struct scenario *s)
{
	if (n->kind != YTREE_MAP)
		return sload_expected(ld, n, "vars",
				      "a map of names to values");
	s->vars = calloc(ytree_len(n) + 1, sizeof(*s->vars));
	if (s->vars == NULL)
		return sload_error(ld, n, "out of memory");
	for (size_t i = 0; i < ytree_len(n); i++) {
		char name[SCENARIO_NAME_MAX];
		if (sload_name(ld, ytree_map_key_at(n, i), "vars", name) != 0 ||
		    (s->vars[i].name = strdup(name)) == NULL)
			return -1;
		s->n_vars = i + 1;
		if (sload_str(ld, ytree_map_value_at(n, i), name,
			      &s->vars[i].value) != 0)
			return -1;
	}
	return 0;
}

static int load_lists(struct sload *ld, const struct ytree_node *root,
		      struct scenario *s)
{
	const struct ytree_node *n;
	if (sload_need(ld, root, "rfc", &n) != 0 ||
	    sload_cstr_list(ld, n, "rfc", &s->rfc, &s->n_rfc) != 0)
		return -1;
	if (s->n_rfc == 0)
		return sload_error(ld, n,
				   "'rfc' is empty (expected at least "
				   "one requirement id)");
	if (check_rfc_ids(ld, n, s) != 0)
		return -1;
	if ((n = ytree_map_get(root, "tags")) != NULL &&
	    (sload_cstr_list(ld, n, "tags", &s->tags, &s->n_tags) != 0 ||
	     !words_ok(s->tags, s->n_tags, "-_.")))
		return ld->err->message[0]
			       ? -1
			       : sload_expected(ld, n, "tags",
						"words of a-z, 0-9, '-', '_', "
						"'.'");
	if ((n = ytree_map_get(root, "requires")) != NULL &&
	    (sload_cstr_list(ld, n, "requires", &s->requires, &s->n_requires) !=
		     0 ||
	     !words_ok(s->requires, s->n_requires, "-_.+")))
		return ld->err->message[0]
			       ? -1
			       : sload_expected(ld, n, "requires",
						"capabilities of a-z, 0-9, "
						"'-', '_', '.', '+'");
	return 0;
}

/* Keys the embedded quilld target writes into quilld.yaml itself
 * (target_quilld_config.c): a fragment may not set them again. (Its
 * "auth" and "limits" sections give way to a fragment's own.) */
static const char *const quilld_own_keys[] = {
	"state_dir", "hostname", "domain", "log", "listeners", NULL};

/* quilld_config: YAML text appended to the embedded quilld's config. A
 * line that starts (column 1) with one of the target's own keys is an
 * error; the rest is quilld's to judge when it starts. */
static int load_quilld_config(struct sload *ld, const struct ytree_node *n,
			      struct scenario *s)
{
	const char *p;
	unsigned line = 1;

	if (n->kind != YTREE_SCALAR)
		return sload_expected(ld, n, "quilld_config",
				      "YAML text as a string, e.g. "
				      "\"smtp: { command_timeout: 1 }\"");
	if (sload_cstr(ld, n, "quilld_config", SCENARIO_QUILLD_CONFIG_MAX,
		       &s->quilld_config) != 0)
		return -1;
	for (p = s->quilld_config; *p != '\0'; line++) {
		size_t len = strcspn(p, "\n");
		for (size_t k = 0; quilld_own_keys[k] != NULL; k++) {
			size_t kl = strlen(quilld_own_keys[k]);
			if (len > kl &&
			    strncmp(p, quilld_own_keys[k], kl) == 0 &&
			    (p[kl] == ':' || p[kl] == ' '))
				return sload_error(
					ld, n,
					"'quilld_config' line %u sets '%s', "
					"which the quilld target writes itself "
					"(expected keys other than state_dir, "
					"hostname, domain, log, listeners)",
					line, quilld_own_keys[k]);
		}
		p += len;
		if (*p == '\n')
			p++;
	}
	return 0;
}

static int load_top(struct sload *ld, const struct ytree_node *root,
		    struct scenario *s)
{
	static const char *const keys[] = {"id",    "summary",	"rfc",
					   "tags",  "requires", "timeout",
					   "vars",  "notes",	"quilld_config",
					   "steps", NULL};
	const struct ytree_node *n;
	unsigned long timeout = SCENARIO_DEFAULT_TIMEOUT;

	if (root == NULL)
		return sload_error(ld, NULL,
				   "empty file (expected a map with "
				   "id, summary, rfc and steps)");
	if (sload_map(ld, root, "scenario", keys, false) != 0)
		return -1;
	if (sload_need(ld, root, "id", &n) != 0 ||
	    sload_cstr(ld, n, "id", ID_MAX, &s->id) != 0)
		return -1;
	if (!id_ok(s->id))
		return sload_expected(ld, n, "id",
				      "dotted lower-case words, e.g. "
				      "smtp.ehlo.extensions");
	if (sload_need(ld, root, "summary", &n) != 0 ||
	    sload_cstr(ld, n, "summary", SUMMARY_MAX, &s->summary) != 0)
		return -1;
	if (strchr(s->summary, '\n') != NULL)
		return sload_expected(ld, n, "summary", "one line");
	if (load_lists(ld, root, s) != 0)
		return -1;
	if ((n = ytree_map_get(root, "timeout")) != NULL &&
	    sload_uint(ld, n, "timeout", 1, SCENARIO_MAX_SECONDS, &timeout) !=
		    0)
		return -1;
	s->timeout_s = (unsigned)timeout;
	if ((n = ytree_map_get(root, "notes")) != NULL &&
	    sload_cstr(ld, n, "notes", NOTES_MAX, &s->notes) != 0)
		return -1;
	if ((n = ytree_map_get(root, "vars")) != NULL &&
	    load_vars(ld, n, s) != 0)
		return -1;
	if ((n = ytree_map_get(root, "quilld_config")) != NULL &&
	    load_quilld_config(ld, n, s) != 0)
		return -1;
	if (sload_need(ld, root, "steps", &n) != 0)
		return -1;
	if (n->kind == YTREE_SEQ && ytree_len(n) == 0)
		return sload_error(ld, n,
				   "'steps' is empty (expected a list "
				   "of steps)");
	if (n->kind != YTREE_SEQ)
		return sload_expected(ld, n, "steps", "a list of steps");
	if (sload_steps(ld, n, NULL, &s->steps) != 0)
		return -1;
	s->total_steps = ld->total_steps;
	return 0;
}

static struct scenario *load_tree(struct ytree *t, const struct rfc_matrix *m,
				  struct scenario_error *err)
{
	struct scenario *s = calloc(1, sizeof(*s));
	struct sload ld = {.t = t, .err = err, .m = m};
	char *copy;

	if (s == NULL || (s->file = strdup(ytree_file(t))) == NULL ||
	    (copy = strdup(ytree_file(t))) == NULL) {
		sload_error(&ld, NULL, "out of memory");
		scenario_free(&s);
		return NULL;
	}
	s->dir = strdup(dirname(copy));
	free(copy);
	ld.dir = s->dir != NULL ? s->dir : ".";
	if (s->dir == NULL || load_top(&ld, ytree_root(t), s) != 0) {
		if (s->dir == NULL)
			sload_error(&ld, NULL, "out of memory");
		scenario_free(&s);
	}
	return s;
}

struct scenario *scenario_load_file(const char *path,
				    const struct rfc_matrix *m,
				    struct scenario_error *err_r)
{
	struct scenario_error tmp;
	struct scenario_error *err = err_r != NULL ? err_r : &tmp;
	struct ytree_error yerr;
	struct ytree *t;
	struct scenario *s;

	memset(err, 0, sizeof(*err));
	if ((t = ytree_load_file(path, &scenario_limits, &yerr)) == NULL) {
		snprintf(err->file, sizeof(err->file), "%s", yerr.file);
		err->line = yerr.line;
		err->column = yerr.column;
		snprintf(err->message, sizeof(err->message), "%s",
			 yerr.message);
		return NULL;
	}
	s = load_tree(t, m, err);
	ytree_free(&t);
	return s;
}

struct scenario *scenario_load_string(const char *name, const char *data,
				      size_t len, const struct rfc_matrix *m,
				      struct scenario_error *err_r)
{
	struct scenario_error tmp;
	struct scenario_error *err = err_r != NULL ? err_r : &tmp;
	struct ytree_error yerr;
	struct ytree *t;
	struct scenario *s;

	memset(err, 0, sizeof(*err));
	t = ytree_load_string(name, data, len, &scenario_limits, &yerr);
	if (t == NULL) {
		snprintf(err->file, sizeof(err->file), "%s", yerr.file);
		err->line = yerr.line;
		err->column = yerr.column;
		snprintf(err->message, sizeof(err->message), "%s",
			 yerr.message);
		return NULL;
	}
	s = load_tree(t, m, err);
	ytree_free(&t);
	return s;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	(void)n;
	free(v);
}

void scenario_free(struct scenario **sp)
{
	struct scenario *s = *sp;
	if (s == NULL)
		return;
	free(s->file);
	free(s->dir);
	free(s->id);
	free(s->summary);
	free(s->notes);
	free(s->quilld_config);
	free_list(s->rfc, s->n_rfc);
	free_list(s->tags, s->n_tags);
	free_list(s->requires, s->n_requires);
	scenario_pairs_free(s->vars, s->n_vars);
	scenario_steps_free(&s->steps);
	free(s);
	*sp = NULL;
}

bool scenario_has_tag(const struct scenario *s, const char *tag)
{
	for (size_t i = 0; i < s->n_tags; i++)
		if (strcmp(s->tags[i], tag) == 0)
			return true;
	return false;
}

void scenario_str_free(struct scenario_str *s)
{
	free(s->s);
	memset(s, 0, sizeof(*s));
}

void scenario_re_free(struct scenario_re *re)
{
	if (re->compiled)
		regfree(&re->re);
	scenario_str_free(&re->src);
	re->compiled = false;
}

void scenario_strs_free(struct scenario_str *v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++)
		scenario_str_free(&v[i]);
	free(v);
}

void scenario_pairs_free(struct scenario_pair *p, size_t n)
{
	for (size_t i = 0; p != NULL && i < n; i++) {
		free(p[i].name);
		scenario_str_free(&p[i].value);
	}
	free(p);
}

void scenario_captures_free(struct scenario_capture *c, size_t n)
{
	for (size_t i = 0; c != NULL && i < n; i++) {
		free(c[i].name);
		scenario_re_free(&c[i].re);
	}
	free(c);
}
