/*
 * report.h - write a run's results (result.h) for people and for CI:
 * a human summary, TAP version 13 and JUnit XML.
 *
 * Transcripts come from servers under test and may hold anything, so every
 * writer escapes what its format cannot carry: control characters other
 * than tab and line feed, a CR that does not end a line, DEL, C1 controls,
 * U+FFFE/U+FFFF and bytes that are not valid UTF-8 appear as the four
 * characters "\xHH" (per byte). A CRLF ends a line like LF. Backslashes
 * are shown as they are (except where a format needs them escaped), so the
 * text "\x41" and an escaped byte look alike: these are diagnostics, not a
 * round-trip encoding. A NUL ends a result's strings (result.h keeps C
 * strings), so the runner must escape NULs it wants shown.
 *
 * The file writers take a path, or "-" for stdout. A file is written to a
 * temporary name in the same directory and renamed over the path only when
 * complete, so a reader never sees half a report. They return 0, or -1
 * with errno set and no file left behind; they print nothing themselves.
 */
#ifndef QUILL_HARNESS_REPORT_H
#define QUILL_HARNESS_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "result.h"

/*
 * One line per failed or errored scenario ("FAIL  id (file): reason",
 * "ERROR id (file): reason") followed by its transcript indented by four
 * spaces; with verbose also "skip  id (file): reason" and "ok    id
 * (0.25 s)" lines, in result order. tty colours the status words. Ends
 * with "(N of them errors)" when some errored, and the last line is
 * exactly "N passed, N failed, N skipped" (errors counted as failed).
 */
void report_human(FILE *out, const struct result_set *rs, bool verbose,
		  bool tty);

/* TAP version 13: plan, "ok N - id", "ok N - id # SKIP reason", and
 * "not ok N - id" with a YAML block (message, severity fail|error, file,
 * rfc, transcript as a literal block). */
int report_tap(const char *path, const struct result_set *rs);

/* JUnit XML: <testsuites> holding one <testsuite name=TARGET>; a
 * <testcase classname=FIRST-DOT-PART-OF-ID name=ID> per result with
 * <failure>, <error> (RESULT_ERROR) or <skipped>, the reason as message
 * and the transcript as text. */
int report_junit(const char *path, const struct result_set *rs);

/* --- shared by the report writers and compare.c ----------------------- */

/* How report_escape() writes text (see the comment at the top). */
enum report_esc {
	REPORT_ESC_LINE,      /* one line: tab kept, CR and LF as \x0d \x0a */
	REPORT_ESC_TAP_DESC,  /* ... TAP description or directive: \# \\ */
	REPORT_ESC_MARKDOWN,  /* ... markdown table cell: \| and &lt; */
	REPORT_ESC_PARAGRAPH, /* several lines: LF kept, CRLF made LF */
	REPORT_ESC_XML_TEXT,  /* ... XML character data: &<>"' as entities */
	REPORT_ESC_XML_ATTR,  /* XML attribute: also tab and LF as &#9; &#10; */
	REPORT_ESC_YAML_DQ,   /* in a YAML double-quoted string: \t \n \" \\ */
};

/* Write len bytes of s to out, escaped for mode. */
void report_escape(FILE *out, const char *s, size_t len, enum report_esc mode);
/* Write each line of text (LF or CRLF separated; a final line break is
 * optional) as prefix, the escaped line (REPORT_ESC_LINE) and LF. */
void report_lines(FILE *out, const char *prefix, const char *text);

/* An output file being written: stdout for "-", else a temporary file. */
struct report_file {
	FILE *fp;
	char *path; /* NULL for stdout */
	char *tmp;
};

/* Open for writing. 0, or -1 with errno set. */
int report_file_open(struct report_file *rf, const char *path);
/* Flush, check for write errors, sync and rename into place (or flush
 * stdout). 0, or -1 with errno set and the temporary file removed. */
int report_file_commit(struct report_file *rf);
/* Give up: close and remove the temporary file, keeping errno. */
void report_file_abort(struct report_file *rf);

#endif
