/*
 * rfcmatrix.h - the requirement matrix: every rfc/rfc<N>.yaml loaded and
 * checked (CONTRIBUTING.md, "Add an RFC requirement").
 *
 * A file is
 *
 *   rfc: 1939
 *   title: Post Office Protocol - Version 3
 *   requirements:
 *     - id: RFC1939-3-2          # RFC<rfc>-<section>[-<n>], n >= 2
 *       section: "3"             # the id's section part
 *       level: MUST              # MUST, MUST NOT, SHOULD, SHOULD NOT, MAY
 *       role: server             # server, client, both, relay
 *       text: the server greets first   # one line, 1..300 bytes
 *
 * A section is dot-separated numbers ("4.5.3.1.4"), the first of which
 * may be an appendix letter ("B", "F.2"). Unknown keys, missing keys and
 * bad values are errors with the file, line and column; ids are unique
 * across all files and so are RFC numbers.
 */
#ifndef QUILL_HARNESS_RFCMATRIX_H
#define QUILL_HARNESS_RFCMATRIX_H

#include <stddef.h>

#include "ytree.h"

#define RFC_MATRIX_TEXT_MAX 300 /* bytes in a requirement's text */

enum rfc_level {
	RFC_LEVEL_MUST,
	RFC_LEVEL_MUST_NOT,
	RFC_LEVEL_SHOULD,
	RFC_LEVEL_SHOULD_NOT,
	RFC_LEVEL_MAY,
};

enum rfc_role {
	RFC_ROLE_SERVER,
	RFC_ROLE_CLIENT,
	RFC_ROLE_BOTH,
	RFC_ROLE_RELAY,
};

struct rfc_doc;

/* One requirement; read-only, owned by the matrix. */
struct rfc_req {
	const char *id;
	const char *section;
	enum rfc_level level;
	enum rfc_role role;
	const char *text;
	const struct rfc_doc *doc; /* the RFC it belongs to */
	unsigned line, column;	   /* where its entry starts in doc->file */
};

/* One RFC (one file); read-only, owned by the matrix. */
struct rfc_doc {
	unsigned number;
	const char *title;
	const char *file;
	const struct rfc_req *reqs; /* in file order */
	size_t n_reqs;
};

struct rfc_matrix;

/* Load every *.yaml in dir (not starting with '.'), in name order. An
 * empty directory gives an empty matrix. NULL with *err_r filled (if not
 * NULL) on any error. */
struct rfc_matrix *rfc_matrix_load_dir(const char *dir,
				       struct ytree_error *err_r);
/* Load one file's contents; name is used as its file name in errors. */
struct rfc_matrix *rfc_matrix_load_buffer(const char *name, const char *data,
					  size_t len,
					  struct ytree_error *err_r);
void rfc_matrix_free(struct rfc_matrix **m);

/* The requirement with this id, or NULL. */
const struct rfc_req *rfc_matrix_find(const struct rfc_matrix *m,
				      const char *id);

/* RFCs in numeric order: i from 0 to rfc_matrix_count() - 1. */
size_t rfc_matrix_count(const struct rfc_matrix *m);
const struct rfc_doc *rfc_matrix_doc_at(const struct rfc_matrix *m, size_t i);
/* The RFC with this number, or NULL. */
const struct rfc_doc *rfc_matrix_doc(const struct rfc_matrix *m,
				     unsigned number);

/* "MUST NOT", "server", ... as written in the files. */
const char *rfc_matrix_level_name(enum rfc_level level);
const char *rfc_matrix_role_name(enum rfc_role role);

#endif
