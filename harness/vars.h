/*
 * vars.h - scenario variables and ${name} substitution (docs/scenarios.md,
 * "Variables").
 *
 * A variable is a name and a byte string (it may hold NUL: pop3_retr puts
 * a whole message in one). In a template, "${name}" is replaced by the
 * value, "$$" by one '$', and any other '$' stays as it is (so regex
 * anchors such as "^OK$" need no escaping). Names are letters, digits,
 * '_', '.' and '-', starting with a letter or '_' (target.host, user1).
 * An unknown variable is an error at expansion time.
 */
#ifndef QUILL_HARNESS_VARS_H
#define QUILL_HARNESS_VARS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define VARS_NAME_MAX  63		    /* bytes in a name */
#define VARS_VALUE_MAX (64u * 1024 * 1024)  /* bytes in one value */
#define VARS_TOTAL_MAX (256u * 1024 * 1024) /* bytes of all values */
#define VARS_COUNT_MAX 10000

struct vars;

struct vars *vars_new(void);
void vars_free(struct vars **v);

/* Set (or replace) a variable. 0, or -1 with errno (EINVAL bad name,
 * E2BIG too large or too many, ENOMEM). */
int vars_set(struct vars *v, const char *name, const void *val, size_t len);
int vars_set_str(struct vars *v, const char *name, const char *val);
/* The value (NUL-terminated after *len_r) or NULL if not set. */
const char *vars_get(const struct vars *v, const char *name, size_t *len_r);
/* Remove a variable; nothing if it is not set. */
void vars_unset(struct vars *v, const char *name);

bool vars_name_ok(const char *name, size_t len);

/* Check the ${...} syntax of a template. 0, or -1 with the offset of the
 * bad '$' in *off_r and a message in err. */
int vars_syntax(const char *s, size_t len, size_t *off_r, char *err,
		size_t errlen);
/* Whether s references any variable (or holds "$$"). */
bool vars_has_refs(const char *s, size_t len);

enum vars_quote {
	VARS_RAW,   /* values inserted as they are */
	VARS_REGEX, /* values with regex specials backslash-escaped, so that
		     * they match literally */
};

/*
 * Append the expansion of the template s to out. v == NULL replaces each
 * reference by "x" (to syntax-check a regex at load time). 0, or -1 with a
 * message in err: "unknown variable 'name'", or out's limit reached.
 */
int vars_expand(const struct vars *v, const char *s, size_t len,
		enum vars_quote q, struct buf *out, char *err, size_t errlen);
/* The expansion as a new NUL-terminated string (length in *len_r, which
 * may be NULL). NULL with a message in err. */
char *vars_expand_dup(const struct vars *v, const char *s, size_t len,
		      enum vars_quote q, size_t *len_r, char *err,
		      size_t errlen);

#endif
