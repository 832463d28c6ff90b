/*
 * report_tap.c - results as TAP version 13 (report_tap() in report.h).
 *
 * One test point per scenario, in result order. A failure or error
 * carries a YAML diagnostic block indented by two spaces:
 *
 *   not ok 2 - smtp.ehlo.extensions
 *     ---
 *     message: "expected 250, got 502"
 *     severity: fail
 *     file: "scenarios/smtp/ehlo.yaml"
 *     rfc: ["RFC5321-4.1.1.1"]
 *     transcript: |2
 *       C: EHLO client.example.test
 *     ...
 *
 * Strings are double-quoted with escapes; the transcript is a literal
 * block with an explicit indentation indicator, so lines that begin with
 * spaces cannot end it early, and every line is escaped (report.h).
 */
#include "report.h"

#include <string.h>

static void tap_quoted(FILE *out, const char *s)
{
	putc('"', out);
	report_escape(out, s, strlen(s), REPORT_ESC_YAML_DQ);
	putc('"', out);
}

static void tap_diagnostic(FILE *out, const struct result *r)
{
	fputs("  ---\n  message: ", out);
	tap_quoted(out, r->reason != NULL ? r->reason : "no reason given");
	fprintf(out, "\n  severity: %s\n",
		r->status == RESULT_ERROR ? "error" : "fail");
	if (r->file != NULL) {
		fputs("  file: ", out);
		tap_quoted(out, r->file);
		putc('\n', out);
	}
	fputs("  rfc: [", out);
	for (size_t i = 0; i < r->n_rfc; i++) {
		if (i > 0)
			fputs(", ", out);
		tap_quoted(out, r->rfc[i]);
	}
	fputs("]\n", out);
	if (r->transcript != NULL && r->transcript[0] != '\0') {
		fputs("  transcript: |2\n", out);
		report_lines(out, "    ", r->transcript);
	}
	fputs("  ...\n", out);
}

static void tap_point(FILE *out, size_t num, const struct result *r)
{
	const char *id = r->id != NULL ? r->id : "?";
	bool failed = r->status == RESULT_FAIL || r->status == RESULT_ERROR;

	fprintf(out, "%sok %zu - ", failed ? "not " : "", num);
	report_escape(out, id, strlen(id), REPORT_ESC_TAP_DESC);
	if (r->status == RESULT_SKIP) {
		fputs(" # SKIP", out);
		if (r->reason != NULL && r->reason[0] != '\0') {
			putc(' ', out);
			report_escape(out, r->reason, strlen(r->reason),
				      REPORT_ESC_TAP_DESC);
		}
	}
	putc('\n', out);
	if (failed)
		tap_diagnostic(out, r);
}

int report_tap(const char *path, const struct result_set *rs)
{
	struct report_file rf;

	if (report_file_open(&rf, path) != 0)
		return -1;
	fprintf(rf.fp, "TAP version 13\n1..%zu\n", rs->n);
	if (rs->target != NULL && rs->target[0] != '\0') {
		fputs("# target: ", rf.fp);
		report_escape(rf.fp, rs->target, strlen(rs->target),
			      REPORT_ESC_LINE);
		putc('\n', rf.fp);
	}
	for (size_t i = 0; i < rs->n; i++)
		tap_point(rf.fp, i + 1, &rs->items[i]);
	return report_file_commit(&rf);
}
