/*
 * report_junit.c - results as JUnit XML (report_junit() in report.h), the
 * format CI systems (Jenkins, GitLab, GitHub annotators) read.
 *
 * <testsuites> holds one <testsuite> named after the target; each scenario
 * is a <testcase> whose classname is the first dot-separated part of its
 * id (the protocol: "smtp", "pop3", "imap"). Failures carry the reason as
 * message="..." and the transcript as text; RESULT_ERROR is an <error>.
 * Text and attributes are escaped for XML 1.0: the five special
 * characters as entities, and what XML cannot carry at all (most control
 * characters, invalid UTF-8) as "\xHH" text (report.h).
 */
#include "report.h"

#include <math.h>
#include <string.h>

static void xml_attr(FILE *out, const char *name, const char *value)
{
	fprintf(out, " %s=\"", name);
	report_escape(out, value, strlen(value), REPORT_ESC_XML_ATTR);
	putc('"', out);
}

static double junit_seconds(double s)
{
	return isfinite(s) && s > 0 ? s : 0.0;
}

/* tests, failures, errors, skipped and time of the whole run. */
static void junit_counts(FILE *out, const struct result_set *rs)
{
	size_t pass, fail, skip, error;

	result_set_counts(rs, &pass, &fail, &skip, &error);
	fprintf(out,
		" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\""
		" skipped=\"%zu\" time=\"%.3f\"",
		rs->n, fail, error, skip, junit_seconds(rs->seconds));
}

/* <failure>, <error> or <skipped> inside a testcase. */
static void junit_outcome(FILE *out, const struct result *r)
{
	static const char *const elements[] = {"", "failure", "skipped",
					       "error"};
	const char *el = elements[r->status];
	const char *text = r->status == RESULT_SKIP ? NULL : r->transcript;

	fprintf(out, "      <%s", el);
	xml_attr(out, "message",
		 r->reason != NULL ? r->reason : "no reason given");
	if (text == NULL || text[0] == '\0') {
		fputs("/>\n", out);
		return;
	}
	putc('>', out);
	report_escape(out, text, strlen(text), REPORT_ESC_XML_TEXT);
	fprintf(out, "</%s>\n", el);
}

static void junit_testcase(FILE *out, const struct result *r)
{
	const char *id = r->id != NULL ? r->id : "?";
	const char *dot = strchr(id, '.');
	size_t classlen = dot != NULL ? (size_t)(dot - id) : strlen(id);

	fputs("    <testcase classname=\"", out);
	report_escape(out, id, classlen, REPORT_ESC_XML_ATTR);
	putc('"', out);
	xml_attr(out, "name", id);
	if (r->file != NULL)
		xml_attr(out, "file", r->file);
	fprintf(out, " time=\"%.3f\"", junit_seconds(r->seconds));
	if (r->status == RESULT_PASS) {
		fputs("/>\n", out);
		return;
	}
	fputs(">\n", out);
	junit_outcome(out, r);
	fputs("    </testcase>\n", out);
}

int report_junit(const char *path, const struct result_set *rs)
{
	struct report_file rf;

	if (report_file_open(&rf, path) != 0)
		return -1;
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites", rf.fp);
	xml_attr(rf.fp, "name", "quill-harness");
	junit_counts(rf.fp, rs);
	fputs(">\n  <testsuite", rf.fp);
	xml_attr(rf.fp, "name", rs->target != NULL ? rs->target : "");
	junit_counts(rf.fp, rs);
	fputs(">\n", rf.fp);
	for (size_t i = 0; i < rs->n; i++)
		junit_testcase(rf.fp, &rs->items[i]);
	fputs("  </testsuite>\n</testsuites>\n", rf.fp);
	return report_file_commit(&rf);
}
