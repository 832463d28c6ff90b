/*
 * scenario_internal.h - shared by the scenario loader's files:
 * scenario.c (top level), scenario_steps.c (step table, control and
 * connection steps), scenario_expect.c (expect:), scenario_high.c
 * (high-level steps and check_message), scenario_util.c (typed getters
 * with the "step N 'kind': ... (expected ...)" messages), scenario_re.c.
 */
#ifndef QUILL_HARNESS_SCENARIO_INTERNAL_H
#define QUILL_HARNESS_SCENARIO_INTERNAL_H

#include "scenario.h"
#include "ytree.h"

/* The loading context. */
struct sload {
	const struct ytree *t;
	const char *dir; /* of the scenario file, for file: paths */
	struct scenario_error *err;
	const struct rfc_matrix *m;
	size_t total_steps;
	unsigned depth;		/* repeat / wait_until nesting */
	const char *step_label; /* the step being read, or NULL */
	const char *step_kind;	/* its action, or NULL if not known yet */
};

/* Fill ld->err at n (NULL: no position) with "step N 'kind': " and the
 * message. Always -1. */
int sload_error(struct sload *ld, const struct ytree_node *n, const char *fmt,
		...) __attribute__((format(printf, 3, 4)));
/* "bad value 'V' for 'key' (expected WHAT)" or "'key' is a map (expected
 * WHAT)". Always -1. */
int sload_expected(struct sload *ld, const struct ytree_node *n,
		   const char *key, const char *what);
/* n must be a map (or, if empty_ok, an empty plain scalar, as `close:`
 * gives) whose keys are all in allowed (NULL-terminated). */
int sload_map(struct sload *ld, const struct ytree_node *n, const char *key,
	      const char *const *allowed, bool empty_ok);
/* A key that must be present. */
int sload_need(struct sload *ld, const struct ytree_node *map, const char *key,
	       const struct ytree_node **val_r);

int sload_str(struct sload *ld, const struct ytree_node *n, const char *key,
	      struct scenario_str *out);
/* A string without variables: a plain C string, no NUL, 1..max bytes. */
int sload_cstr(struct sload *ld, const struct ytree_node *n, const char *key,
	       size_t max, char **out);
/* A name: [A-Za-z_][A-Za-z0-9_-]*, at most SCENARIO_NAME_MAX - 1 bytes. */
int sload_name(struct sload *ld, const struct ytree_node *n, const char *key,
	       char *out);
int sload_uint(struct sload *ld, const struct ytree_node *n, const char *key,
	       unsigned long min, unsigned long max, unsigned long *out);
/* Seconds with up to three decimals, into milliseconds. */
int sload_seconds(struct sload *ld, const struct ytree_node *n, const char *key,
		  unsigned min_ms, unsigned max_ms, unsigned *out);
int sload_bool(struct sload *ld, const struct ytree_node *n, const char *key,
	       bool *out);
int sload_re(struct sload *ld, const struct ytree_node *n, const char *key,
	     int cflags, struct scenario_re *out);
/* A scalar or a sequence of scalars. */
int sload_str_list(struct sload *ld, const struct ytree_node *n,
		   const char *key, struct scenario_str **v, size_t *count);
/* A sequence of plain C strings (rfc, tags, requires). */
int sload_cstr_list(struct sload *ld, const struct ytree_node *n,
		    const char *key, char ***v, size_t *count);
/* capture: { name: regex, ... } with a group in each regex. */
int sload_captures(struct sload *ld, const struct ytree_node *n, int cflags,
		   struct scenario_capture **v, size_t *count);
/* An SMTP code or pattern: 250, 2xx, 25x. */
int sload_smtp_code(struct sload *ld, const struct ytree_node *n,
		    const char *key, char code[4]);
/* A path relative to the scenario's directory, which must be a readable
 * regular file of at most SCENARIO_MAX_SEND bytes. */
int sload_file(struct sload *ld, const struct ytree_node *n, const char *key,
	       char **out);

/* Steps. */
int sload_steps(struct sload *ld, const struct ytree_node *seq,
		const char *parent_label, struct scenario_steps *out);
int sload_expect(struct sload *ld, const struct ytree_node *n,
		 struct expect_spec *e);
int sload_smtp_step(struct sload *ld, const struct ytree_node *n,
		    struct scenario_step *st);
int sload_pop3_step(struct sload *ld, const struct ytree_node *n,
		    struct scenario_step *st);
int sload_check_message(struct sload *ld, const struct ytree_node *n,
			struct scenario_step *st);

/* Freeing. */
void scenario_str_free(struct scenario_str *s);
void scenario_re_free(struct scenario_re *re);
void scenario_pairs_free(struct scenario_pair *p, size_t n);
void scenario_strs_free(struct scenario_str *v, size_t n);
void scenario_captures_free(struct scenario_capture *c, size_t n);
void scenario_steps_free(struct scenario_steps *steps);
void expect_spec_free(struct expect_spec *e);

#endif
