/*
 * store_cmd.h - what the "quill store" commands (store_cmd.c,
 * store_edit.c) share: their options and how they open a store.
 */
#ifndef QUILL_STORE_CMD_H
#define QUILL_STORE_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "store/store.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

#define KW_MAX 64

struct sopts {
	const char *root, *mailbox, *from_root, *to_root;
	enum store_kind kind, from, to;
	bool repair, have_from, have_to;
	enum store_flags_mode mode;
	unsigned flags;
	const char *kw[KW_MAX];
	size_t n_kw;
	time_t date;
};

/* Parse options into o; -1 to go on (operands from optind), else the
 * exit code. */
int store_cmd_opts(const char *cmd, int argc, char **argv, struct sopts *o);
/* Open root; -1 on success, else the exit code. */
int store_cmd_open(const char *cmd, enum store_kind kind, const char *root,
		   struct store **st);
void store_cmd_fail(const char *cmd, const char *what,
		    const struct store_error *err);

int store_cmd_flag(int argc, char **argv);
int store_cmd_expunge(int argc, char **argv);
int store_cmd_cat(int argc, char **argv);
int store_cmd_status(int argc, char **argv);

#endif
