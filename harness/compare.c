/*
 * compare.c - a markdown table of one scenario suite run against several
 * targets (compare.h), with the scenario's `notes` under every row where
 * the targets disagree, so each difference is either explained (often by
 * the RFC section that allows it) or visibly waiting for an explanation.
 */
#include "compare.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "ytree.h"

#define NO_NOTE "(no note: a difference to explain)"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every scenario id of all sets, sorted, each once; NULL on ENOMEM. */
static const char **collect_ids(const struct result_set *const *sets,
				size_t n_sets, size_t *n_r)
{
	size_t n = 0, k = 0;
	const char **ids;

	for (size_t s = 0; s < n_sets; s++)
		n += sets[s]->n;
	if ((ids = calloc(n + 1, sizeof(*ids))) == NULL)
		return NULL;
	for (size_t s = 0; s < n_sets; s++)
		for (size_t i = 0; i < sets[s]->n; i++)
			if (sets[s]->items[i].id != NULL)
				ids[k++] = sets[s]->items[i].id;
	qsort(ids, k, sizeof(*ids), cmp_str);
	n = 0;
	for (size_t i = 0; i < k; i++)
		if (n == 0 || strcmp(ids[n - 1], ids[i]) != 0)
			ids[n++] = ids[i];
	*n_r = n;
	return ids;
}

static const struct result *find(const struct result_set *rs, const char *id)
{
	for (size_t i = 0; i < rs->n; i++)
		if (rs->items[i].id != NULL && strcmp(rs->items[i].id, id) == 0)
			return &rs->items[i];
	return NULL;
}

static const char *mark(const struct result *r)
{
	static const char *const marks[] = {"✓", "✗", "–", "error"};

	return r != NULL ? marks[r->status] : "";
}

static void md(FILE *out, const char *s)
{
	report_escape(out, s, strlen(s), REPORT_ESC_MARKDOWN);
}

/* Whether the targets that ran the scenario disagree. A skip is not a
 * result: a target without POP3 does not differ from one that passes. */
static bool differs(const struct result_set *const *sets, size_t n_sets,
		    const char *id)
{
	const struct result *first = NULL, *r;

	for (size_t s = 0; s < n_sets; s++) {
		if ((r = find(sets[s], id)) == NULL || r->status == RESULT_SKIP)
			continue;
		if (first != NULL && r->status != first->status)
			return true;
		if (first == NULL)
			first = r;
	}
	return false;
}

static void write_table(FILE *out, const struct result_set *const *sets,
			size_t n_sets, const char **ids, size_t n_ids)
{
	fputs("| scenario |", out);
	for (size_t s = 0; s < n_sets; s++) {
		putc(' ', out);
		md(out, sets[s]->target != NULL ? sets[s]->target : "?");
		fputs(" |", out);
	}
	fputs("\n| --- |", out);
	for (size_t s = 0; s < n_sets; s++)
		fputs(" :---: |", out);
	putc('\n', out);
	for (size_t i = 0; i < n_ids; i++) {
		fputs("| ", out);
		md(out, ids[i]);
		fputs(" |", out);
		for (size_t s = 0; s < n_sets; s++)
			fprintf(out, " %s |", mark(find(sets[s], ids[i])));
		putc('\n', out);
	}
	fputs("\n✓ pass, ✗ fail, – skipped (the target lacks a capability), "
	      "error: the scenario could not run, empty: not run.\n",
	      out);
}

/* The scenario's notes, or why there are none. */
static void write_note(FILE *out, const char *file)
{
	struct ytree_error err;
	struct ytree *t =
		file != NULL ? ytree_load_file(file, NULL, &err) : NULL;
	const struct ytree_node *n = ytree_map_get(ytree_root(t), "notes");
	char msg[600];
	size_t len;

	if (file != NULL && t == NULL) {
		ytree_error_format(&err, msg, sizeof(msg));
		fputs(NO_NOTE " (", out);
		report_escape(out, msg, strlen(msg), REPORT_ESC_LINE);
		fputs(")\n", out);
		return;
	}
	if (n == NULL || n->kind != YTREE_SCALAR || n->len == 0) {
		fputs(NO_NOTE "\n", out);
	} else {
		for (len = n->len; len > 0 && n->value[len - 1] == '\n'; len--)
			;
		report_escape(out, n->value, len, REPORT_ESC_PARAGRAPH);
		putc('\n', out);
	}
	ytree_free(&t);
}

static void write_difference(FILE *out, const struct result_set *const *sets,
			     size_t n_sets, const char *id)
{
	const char *file = NULL, *sep = "";
	const struct result *r;

	fputs("\n### ", out);
	md(out, id);
	fputs("\n\n", out);
	for (size_t s = 0; s < n_sets; s++) {
		if ((r = find(sets[s], id)) == NULL)
			continue;
		fputs(sep, out);
		md(out, sets[s]->target != NULL ? sets[s]->target : "?");
		fprintf(out, " %s", mark(r));
		sep = ", ";
		if (file == NULL)
			file = r->file;
	}
	fputs("\n\n", out);
	write_note(out, file);
}

int compare_write_markdown(const char *path,
			   const struct result_set *const *sets, size_t n_sets)
{
	struct report_file rf;
	size_t n_ids, n_diff = 0;
	const char **ids = collect_ids(sets, n_sets, &n_ids);

	if (ids == NULL) {
		errno = ENOMEM;
		return -1;
	}
	if (report_file_open(&rf, path) != 0) {
		free(ids);
		return -1;
	}
	write_table(rf.fp, sets, n_sets, ids, n_ids);
	fputs("\n## Differences\n", rf.fp);
	for (size_t i = 0; i < n_ids; i++) {
		if (!differs(sets, n_sets, ids[i]))
			continue;
		write_difference(rf.fp, sets, n_sets, ids[i]);
		n_diff++;
	}
	if (n_diff == 0)
		fputs("\nNone: every target that ran a scenario gave the same "
		      "result.\n",
		      rf.fp);
	free(ids);
	return report_file_commit(&rf);
}
