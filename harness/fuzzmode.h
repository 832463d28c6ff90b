/*
 * fuzzmode.h - `quill-harness fuzz`: a mutation fuzzer against a live
 * server (docs/quill-harness.md, "fuzz").
 *
 * The seeds are what a scenario sends, per session, in order (send and
 * sendline steps, and the commands its smtp_* / pop3_* steps would send).
 * Each case takes one session's bytes, mutates them with a generator
 * seeded from (--seed, case number) - so case N is the same on every run -
 * sends them over a new connection, reads what comes back until the server
 * is quiet, and then checks that a new connection still gets a greeting.
 * Crashes, hangs and protocol desyncs are saved as reproducer scenarios.
 *
 * Everything is bounded: a case's bytes (FUZZMODE_CASE_MAX), its sending
 * and reading time, the bytes read back, and the restarts of the target.
 */
#ifndef QUILL_HARNESS_FUZZMODE_H
#define QUILL_HARNESS_FUZZMODE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "net.h"
#include "scenario.h"

struct target;
struct vars;

#define FUZZMODE_SEED_MAX     (1024u * 1024) /* bytes kept per session */
#define FUZZMODE_CASE_MAX     (512u * 1024)  /* bytes one case sends */
#define FUZZMODE_REPLY_MAX    (1024u * 1024) /* bytes read per case */
#define FUZZMODE_MAX_SESSIONS 16
#define FUZZMODE_MAX_RESTARTS 3

enum fuzzmode_proto { FUZZMODE_SMTP, FUZZMODE_POP3, FUZZMODE_IMAP };

/* The protocol spoken on a service ("smtp", "pop3s", "imap", ...). */
enum fuzzmode_proto fuzzmode_proto_of(const char *service);

/* splitmix64: small, fast, and the same everywhere. */
struct fuzzmode_rng {
	uint64_t s;
};

void fuzzmode_rng_init(struct fuzzmode_rng *r, uint64_t seed, uint64_t n);
uint64_t fuzzmode_rng_next(struct fuzzmode_rng *r);
/* Uniform in [0, n); 0 if n is 0. */
size_t fuzzmode_rng_below(struct fuzzmode_rng *r, size_t n);

/* One mutated case: the bytes and how to deliver them. */
struct fuzzmode_case {
	struct buf data;     /* at most FUZZMODE_CASE_MAX bytes */
	unsigned long chunk; /* 0: all at once, else pieces of this size */
	unsigned pause_ms;   /* between pieces */
	char desc[256];	     /* the mutations, for reports */
};

void fuzzmode_case_init(struct fuzzmode_case *c);
void fuzzmode_case_free(struct fuzzmode_case *c);

/* Fill c (cleared first) with a mutation of seed[0..len). 0, or -1 if
 * out of memory. */
int fuzzmode_mutate(struct fuzzmode_rng *r, enum fuzzmode_proto p,
		    const void *seed, size_t len, struct fuzzmode_case *c);

/*
 * The desync heuristic: 1 if reply (what the server sent after the
 * client sent sent[0..sent_len), the greeting included) does not parse
 * as replies of protocol p, or holds more replies than the client sent
 * lines; why says what was wrong. eof: the server closed afterwards.
 * 0 if it looks fine.
 */
int fuzzmode_desync(enum fuzzmode_proto p, const void *sent, size_t sent_len,
		    const void *reply, size_t reply_len, bool eof, char *why,
		    size_t whylen);

/* Whether reply starts with a greeting of protocol p (220, +OK, * OK). */
bool fuzzmode_greeting_ok(enum fuzzmode_proto p, const void *reply, size_t len);

/* A finding, as a reproducer scenario. */
struct fuzzmode_finding {
	const char *kind;	   /* "crash", "hang", "desync" */
	const struct scenario *sc; /* the scenario fuzzed */
	const char *service;	   /* the case's connection */
	bool implicit_tls;
	unsigned long long seed, case_no;
	const struct fuzzmode_case *c;
	const char *detail; /* what was seen */
	const void *reply;  /* what the server sent (may be NULL) */
	size_t reply_len;
};

/*
 * Write DIR/fuzz-KIND-NNNNNN.yaml and the bytes beside it (.bin, and the
 * reply as .reply). The YAML sends the bytes with send: { file: }, then
 * opens a new connection and expects the greeting. 0 and the YAML's path
 * in path_r, or -1 with a message in err.
 */
int fuzzmode_save(const char *dir, const struct fuzzmode_finding *f,
		  char *path_r, size_t pathlen, char *err, size_t errlen);

/* Per session of a scenario, the bytes it sends. */
struct fuzzmode_session {
	char name[SCENARIO_NAME_MAX];
	char service[16];
	int tls; /* enum scenario_tls of its first connect */
	struct buf bytes;
};

struct fuzzmode_seeds {
	struct fuzzmode_session v[FUZZMODE_MAX_SESSIONS];
	size_t n;
};

/* Collect the seeds of sc, expanding variables with v (a reference that
 * cannot be expanded is kept as written). 0, or -1 with a message. */
int fuzzmode_seeds_collect(const struct scenario *sc, const struct vars *v,
			   struct fuzzmode_seeds *out, char *err,
			   size_t errlen);
void fuzzmode_seeds_free(struct fuzzmode_seeds *s);

/* A fuzzing run (fuzzmode_run.c). */
struct fuzzmode_options {
	const char *out_dir;	      /* findings go here (it exists) */
	const char *root;	      /* for the target's commands */
	unsigned seconds;	      /* start no case after this */
	unsigned long long max_cases; /* 0: as many as time allows */
	unsigned long long seed;
	bool verbose; /* a line per case */
	const volatile sig_atomic_t *stop;
};

struct fuzzmode_stats {
	unsigned long long cases, crashes, hangs, desyncs;
	unsigned restarts;
	double seconds;
};

/* Fuzz the started target t with the seeds of sc. 0, or -1 if the run
 * could not go on (the target did not come back, out of memory); the
 * stats say what was done either way. */
int fuzzmode_run(const struct fuzzmode_options *o, struct target *t,
		 const struct scenario *sc, const struct fuzzmode_seeds *seeds,
		 struct fuzzmode_stats *st);

/* `quill-harness fuzz ARGS` (argv[0] is "fuzz"): the exit status. */
int fuzzmode_main(int argc, char **argv);

/* Talking to the target (fuzzmode_case.c). */
#define FUZZMODE_QUIET_MS 200  /* silence that ends a case's reading */
#define FUZZMODE_READ_MS  5000 /* reading a case's replies, at most */
#define FUZZMODE_SEND_MS  5000 /* sending a case, at most */
#define FUZZMODE_GREET_MS 5000 /* connecting and the greeting, at most */

struct fuzzmode_peer {
	const struct target *t;
	SSL_CTX *tls; /* not verifying: fuzzing is not about certificates */
};

struct fuzzmode_outcome {
	struct net_conn conn; /* still open after fuzzmode_case_run */
	size_t greeting_len;  /* bytes before the case was sent */
	bool connected;
	bool answered;	   /* bytes or a close after the case was sent */
	bool send_stalled; /* the server stopped taking bytes */
	char note[300];	   /* why connecting failed */
};

enum fuzzmode_health { FUZZMODE_HEALTHY, FUZZMODE_DEAD, FUZZMODE_STUCK };

/* Connect to service, read the greeting, send the case, read until the
 * server is quiet or closes. The connection stays open in o->conn (the
 * health check runs beside it); close it with net_close(). */
void fuzzmode_case_run(const struct fuzzmode_peer *p, const char *service,
		       bool implicit, const struct fuzzmode_case *c,
		       struct fuzzmode_outcome *o);
/* A new connection must get a greeting within FUZZMODE_GREET_MS: DEAD if
 * refused, closed or answered otherwise, STUCK if nothing came. */
enum fuzzmode_health fuzzmode_health(const struct fuzzmode_peer *p,
				     const char *service, bool implicit,
				     char *why, size_t whylen);

/* Shared by the fuzzmode*.c files. */

/* Replace del bytes at pos of b by ins. 0 (also when the result would
 * pass b's maximum: then nothing changes), or -1 if out of memory. */
int fuzzmode_splice(struct buf *b, size_t pos, size_t del, const void *ins,
		    size_t inslen);
/* A random command of protocol p (IMAP ones with a tag), without CRLF. */
const char *fuzzmode_dict_pick(struct fuzzmode_rng *r, enum fuzzmode_proto p);
/* A line (with CRLF) announcing a size that lies: SMTP SIZE=, IMAP
 * literals larger than sent, POP3 huge numbers. */
const char *fuzzmode_dict_size_lie(struct fuzzmode_rng *r,
				   enum fuzzmode_proto p);

#endif
