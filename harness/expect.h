/*
 * expect.h - reading server replies out of a session's input buffer and
 * comparing them with an expect: step (docs/scenarios.md, "Expecting").
 *
 * Readers take bytes from the front of `in` and consume only those that
 * belong to the reply they read, so what follows stays for the next step.
 * They return EXPECT_MORE (read more bytes and call again, with the same
 * reader state), EXPECT_DONE or EXPECT_BAD (the bytes are not a reply of
 * that protocol; err says why). SMTP replies are read by
 * lib/smtp_client.h, POP3 responses by lib/pop3_client.h (both strict),
 * IMAP lines here (with literals {N} read as part of their line).
 *
 * Matchers compare a complete reply with the spec: EXPECT_PASS,
 * EXPECT_FAIL (why says what was expected and what came) or EXPECT_ERROR
 * (the scenario itself is wrong at run time, e.g. an unknown variable;
 * why->expected holds the message). Captures set variables on a pass.
 */
#ifndef QUILL_HARNESS_EXPECT_H
#define QUILL_HARNESS_EXPECT_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "pop3_client.h"
#include "scenario.h"
#include "smtp_client.h"
#include "vars.h"

#define EXPECT_LINE_MAX (16u * 1024 * 1024) /* an IMAP line with literals */

enum expect_read { EXPECT_MORE = 0, EXPECT_DONE = 1, EXPECT_BAD = -1 };
enum expect_verdict { EXPECT_PASS = 0, EXPECT_FAIL = 1, EXPECT_ERROR = 2 };

struct expect_why {
	char expected[1024];
	char got[2048];
};

/* A regex of a spec, compiled at load time or (with variables) now. */
struct expect_re {
	const regex_t *re;
	regex_t own;
	bool owned;
};

/* 0, or -1 with the message in why->expected. */
int expect_re_get(const struct scenario_re *sre, const struct vars *v,
		  struct expect_re *out, struct expect_why *why);
void expect_re_put(struct expect_re *r);
/* A spec string expanded; NULL with the message in why->expected. */
char *expect_expand(const struct scenario_str *s, const struct vars *v,
		    size_t *len_r, struct expect_why *why);

/* A line of text (not NUL-terminated). */
struct expect_text {
	const char *s;
	size_t len;
};

/* Each capture's regex against the lines in order; the first match sets
 * the variable to group 1. EXPECT_FAIL if some capture matches no line. */
int expect_captures(const struct scenario_capture *caps, size_t n,
		    const struct expect_text *lines, size_t n_lines,
		    struct vars *v, struct expect_why *why);

/* text: (exact) and text_re: of a spec against a reply's text. */
int expect_match_text(const struct expect_spec *e, const char *text,
		      struct vars *v, struct expect_why *why);

/* "250", "2xx" or "25x" against a code. */
bool expect_code_matches(const char *pattern, int code);

/* ---- SMTP (expect_smtp.c) ----------------------------------------- */

int expect_smtp_read(struct smtp_client *c, struct buf *in,
		     struct smtp_reply **r_r, char *err, size_t errlen);
/* The reply as received: "250-first\n250 last" (no final LF). */
int expect_smtp_text(const struct smtp_reply *r, int code, struct buf *out);
/* "550 5.7.1 text (+2 more lines)", escaped, for messages. */
void expect_smtp_show(const struct smtp_reply *r, char *out, size_t n);
int expect_smtp_match(const struct expect_spec *e, const struct smtp_reply *r,
		      struct vars *v, struct expect_why *why);

/* ---- POP3 (expect_pop3.c) ----------------------------------------- */

/* What the reader must be told to expect for this spec. */
enum pop3_expect expect_pop3_kind(const struct expect_spec *e);
int expect_pop3_read(struct pop3_client *c, struct buf *in,
		     struct pop3_response **r_r, char *err, size_t errlen);
void expect_pop3_show(const struct pop3_response *r, char *out, size_t n);
int expect_pop3_match(const struct expect_spec *e,
		      const struct pop3_response *r, struct vars *v,
		      struct expect_why *why);

/* ---- raw lines (expect.c) ----------------------------------------- */

/* One CRLF-terminated line (a bare LF is EXPECT_BAD); *line_r is a new
 * NUL-terminated copy without the CRLF. */
int expect_line_read(struct buf *in, char **line_r, size_t *len_r, char *err,
		     size_t errlen);
int expect_line_match(const struct expect_spec *e, const char *line, size_t len,
		      struct vars *v, struct expect_why *why);

/* ---- IMAP (expect_imap.c) ----------------------------------------- */

/* Logical lines: a line ending in {N} CRLF continues after N bytes. */
struct expect_imap_reader {
	struct buf line;
	size_t literal_left;
	size_t seg_start; /* where the text after the last literal starts */
	bool done;	  /* the line was handed out: start a new one */
};

void expect_imap_reader_init(struct expect_imap_reader *r);
void expect_imap_reader_free(struct expect_imap_reader *r);
/* EXPECT_DONE: *line_r (len_r bytes without the final CRLF; literals and
 * their CRLFs inside) stays valid until the next call. */
int expect_imap_line(struct expect_imap_reader *r, struct buf *in,
		     const char **line_r, size_t *len_r, char *err,
		     size_t errlen);

/* The lines of one tagged command's response. */
struct expect_imap {
	struct expect_imap_reader rd;
	char tag[128];
	struct expect_text *untagged; /* views of owned[] */
	char **owned;
	size_t n_untagged, cap;
	char *tagged;
	size_t tagged_len;
};

int expect_imap_init(struct expect_imap *st, const char *tag);
void expect_imap_free(struct expect_imap *st);
/* Read lines up to the tagged reply for st->tag. A continuation request
 * or a tagged reply for another tag is EXPECT_BAD. */
int expect_imap_feed(struct expect_imap *st, struct buf *in, char *err,
		     size_t errlen);
int expect_imap_match(const struct expect_spec *e, const struct expect_imap *st,
		      struct vars *v, struct expect_why *why);

/* imap_untagged: read lines until an untagged one matches re (others are
 * skipped, *skipped_r counts them); a tagged reply or a continuation
 * request first is EXPECT_BAD. *line_r: a new copy of the match. */
int expect_imap_untagged(struct expect_imap_reader *rd, struct buf *in,
			 const regex_t *re, char **line_r, size_t *len_r,
			 size_t *skipped_r, char *err, size_t errlen);

#endif
