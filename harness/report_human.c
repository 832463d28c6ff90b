/*
 * report_human.c - the summary quill-harness prints for people
 * (report_human() in report.h): failures with their transcripts, skips and
 * passes when asked, and the "N passed, N failed, N skipped" line that
 * docs/scenarios.md ("Results") promises.
 */
#include "report.h"

#include <string.h>

#define COLOUR_RED    "\x1b[31m"
#define COLOUR_GREEN  "\x1b[32m"
#define COLOUR_YELLOW "\x1b[33m"
#define COLOUR_RESET  "\x1b[0m"

/* The status word, padded to five columns, coloured on a terminal. */
static void human_status(FILE *out, enum result_status st, bool tty)
{
	static const char *const words[] = {"ok   ", "FAIL ", "skip ", "ERROR"};
	static const char *const colours[] = {COLOUR_GREEN, COLOUR_RED,
					      COLOUR_YELLOW, COLOUR_RED};

	if (tty)
		fprintf(out, "%s%s%s", colours[st], words[st], COLOUR_RESET);
	else
		fputs(words[st], out);
}

static void human_text(FILE *out, const char *s)
{
	report_escape(out, s, strlen(s), REPORT_ESC_LINE);
}

/* "STATUS id (file): reason" or, for a pass, "ok    id (0.25 s)". */
static void human_line(FILE *out, const struct result *r, bool tty)
{
	human_status(out, r->status, tty);
	putc(' ', out);
	human_text(out, r->id != NULL ? r->id : "?");
	if (r->status == RESULT_PASS) {
		fprintf(out, " (%.2f s)\n", r->seconds >= 0 ? r->seconds : 0.0);
		return;
	}
	if (r->file != NULL) {
		fputs(" (", out);
		human_text(out, r->file);
		putc(')', out);
	}
	fputs(": ", out);
	human_text(out, r->reason != NULL ? r->reason : "no reason given");
	putc('\n', out);
}

void report_human(FILE *out, const struct result_set *rs, bool verbose,
		  bool tty)
{
	size_t pass, fail, skip, error, listed = 0;

	for (size_t i = 0; i < rs->n; i++) {
		const struct result *r = &rs->items[i];
		bool failed =
			r->status == RESULT_FAIL || r->status == RESULT_ERROR;

		if (!failed && !verbose)
			continue;
		human_line(out, r, tty);
		if (failed && r->transcript != NULL)
			report_lines(out, "    ", r->transcript);
		listed++;
	}
	result_set_counts(rs, &pass, &fail, &skip, &error);
	if (listed > 0)
		putc('\n', out);
	if (error > 0)
		fprintf(out, "(%zu of them errors)\n", error);
	fprintf(out, "%zu passed, %zu failed, %zu skipped\n", pass,
		fail + error, skip);
}
