/*
 * runner_internal.h - shared by the runner's files: runner.c (the step
 * loop and control steps), runner_io.c (connections and sending),
 * runner_expect.c (expect:), runner_high.c (smtp_* and pop3_* steps),
 * runner_check.c (check_message).
 */
#ifndef QUILL_HARNESS_RUNNER_INTERNAL_H
#define QUILL_HARNESS_RUNNER_INTERNAL_H

#include <stdbool.h>
#include <string.h>

#include "expect.h"
#include "net.h"
#include "runner.h"
#include "transcript.h"
#include "vars.h"

/* What a step returns. */
enum { RUN_OK = 0, RUN_FAIL = 1, RUN_ERROR = 2 };

struct runner_session {
	char name[SCENARIO_NAME_MAX];
	char service[16];
	struct net_conn conn;
	bool used;
};

struct runner {
	const struct scenario *sc;
	const struct runner_options *opt;
	struct vars *vars;
	struct transcript tr;
	struct runner_session sessions[RUNNER_MAX_SESSIONS];
	SSL_CTX *tls;
	const struct scenario_step *step; /* running now */
	char reason[2048];
	size_t step_rx;	    /* bytes received during the step */
	long long deadline; /* of the whole scenario */
	unsigned timeout_s;
};

/* Set the reason "step N 'kind': ..." (and a transcript line) and return
 * RUN_FAIL or RUN_ERROR. */
int runner_fail(struct runner *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int runner_error(struct runner *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "what: expected X, got Y" from a matcher; what may be NULL. */
int runner_mismatch(struct runner *r, const char *what,
		    const struct expect_why *why);
/* The result of a matcher (EXPECT_PASS/FAIL/ERROR) as a step result. */
int runner_verdict(struct runner *r, const char *what, int verdict,
		   const struct expect_why *why);

/* The step's deadline: within from now, capped by the scenario's. */
long long runner_deadline(const struct runner *r, unsigned within_ms);

/* The open session of the step, or RUN_ERROR if it is not connected. */
int runner_session(struct runner *r, const char *name,
		   struct runner_session **s_r);
#define RUNNER_FILL_EOF_OK     0x1u /* a close is what the step awaits */
#define RUNNER_FILL_TIMEOUT_OK 0x2u /* ... or silence */

/* Read more bytes (recorded in the transcript). A NET_* code; on
 * failure *res_r is the step result with the reason set, "expected"
 * naming what was awaited (not for what flags allow). */
int runner_fill(struct runner *r, struct runner_session *s, long long deadline,
		const char *expected, unsigned flags, int *res_r);
/* Send bytes (recorded). RUN_OK, RUN_FAIL. */
int runner_send(struct runner *r, struct runner_session *s, const void *data,
		size_t len, long long deadline);
/* Close a session and forget it. */
void runner_close(struct runner *r, struct runner_session *s);

/* A template string of the step expanded (RUN_ERROR on failure). */
int runner_expand(struct runner *r, const struct scenario_str *s, char **out_r,
		  size_t *len_r);

/* SMTP helpers (runner_smtp.c): read one reply, send a command line
 * (CRLF added) and read its reply, want a code; what names the command in
 * messages. RUN_OK or the step's failure. */
int runner_smtp_read(struct runner *r, struct runner_session *s,
		     const char *what, struct smtp_reply **rep);
int runner_smtp_command(struct runner *r, struct runner_session *s,
			const char *line, const char *what,
			struct smtp_reply **rep);
int runner_smtp_want(struct runner *r, const struct smtp_reply *rep,
		     const char *code, const char *what);
int runner_smtp_exchange(struct runner *r, struct runner_session *s,
			 const char *line, const char *what, const char *code);
int runner_smtp_send(struct runner *r, struct runner_session *s,
		     const struct step_smtp *m);
/* A session on the target's lmtp service speaks LMTP (RFC 2033): LHLO,
 * and one reply per accepted recipient after the message. */
static inline bool runner_session_lmtp(const struct runner_session *s)
{
	return strcmp(s->service, "lmtp") == 0;
}

/* Steps. */
int runner_steps(struct runner *r, const struct scenario_steps *steps);
int runner_do_connect(struct runner *r, const struct scenario_step *st);
int runner_do_starttls(struct runner *r, const struct scenario_step *st);
int runner_do_close(struct runner *r, const struct scenario_step *st);
int runner_do_expect_close(struct runner *r, const struct scenario_step *st);
int runner_do_send(struct runner *r, const struct scenario_step *st);
int runner_do_expect(struct runner *r, const struct scenario_step *st);
int runner_do_smtp(struct runner *r, const struct scenario_step *st);
int runner_do_pop3(struct runner *r, const struct scenario_step *st);
int runner_do_check_message(struct runner *r, const struct scenario_step *st);

#endif
