/*
 * store_edit.c - "quill store" commands that change or show single
 * messages of a store on disk, as an IMAP session would (RFC 3501 6.4.6
 * STORE, 6.4.3 EXPUNGE, 6.4.5 FETCH BODY[]):
 *
 *	quill store flag    --root DIR [--mbox] [--mailbox NAME]
 *			    [--add|--remove|--set] --flags FLAGS UID...
 *	quill store expunge --root DIR [--mbox] [--mailbox NAME] [UID...]
 *	quill store cat     --root DIR [--mbox] [--mailbox NAME] UID
 *	quill store status  --root DIR [--mbox] [--mailbox NAME]
 *
 * FLAGS are system flags and keywords as for "append". The mailbox is
 * opened read-write (so \Recent is claimed, as by SELECT), except by
 * status (RFC 3501 6.3.10 STATUS: read-only, claims nothing).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "store_cmd.h"

/* UIDs from the operands; NULL (and *n 0) if there are none. */
static struct store_uid_range *uid_args(const char *cmd, int argc, char **argv,
					size_t *n, int *rc)
{
	struct store_uid_range *v;

	*n = 0;
	*rc = -1;
	if (optind >= argc)
		return NULL;
	v = calloc((size_t)(argc - optind), sizeof(*v));
	if (v == NULL) {
		*rc = EXIT_FAIL;
		return NULL;
	}
	for (int i = optind; i < argc; i++) {
		char *end;
		unsigned long u;

		errno = 0;
		u = strtoul(argv[i], &end, 10);
		if (errno != 0 || *end != '\0' || u == 0 || u > UINT32_MAX) {
			fprintf(stderr, "%s: bad UID %s\n", cmd, argv[i]);
			free(v);
			*rc = EXIT_USAGE;
			return NULL;
		}
		v[*n].first = v[*n].last = (uint32_t)u;
		(*n)++;
	}
	return v;
}

/* Parse, open the store and the mailbox read-write; -1 to go on. */
static int begin(const char *cmd, int argc, char **argv, struct sopts *o,
		 struct store **st, struct store_mailbox **mb)
{
	struct store_error err;
	int rc = store_cmd_opts(cmd, argc, argv, o);

	if (rc >= 0)
		return rc;
	rc = store_cmd_open(cmd, o->kind, o->root, st);
	if (rc >= 0)
		return rc;
	if (store_mailbox_open(*st, o->mailbox, 0, mb, &err) != 0) {
		store_cmd_fail(cmd, o->mailbox, &err);
		store_close(st);
		return EXIT_FAIL;
	}
	return -1;
}

static int finish(struct store **st, struct store_mailbox **mb, int rc)
{
	store_mailbox_close(mb);
	store_close(st);
	return rc;
}

int store_cmd_flag(int argc, char **argv)
{
	const char *cmd = "quill store flag";
	struct store_uid_range *v;
	struct store_uidset set;
	struct store_mailbox *mb;
	struct store_error err;
	struct store *st;
	struct sopts o;
	size_t n;
	int rc = begin(cmd, argc, argv, &o, &st, &mb);

	if (rc >= 0)
		return rc;
	v = uid_args(cmd, argc, argv, &n, &rc);
	if (v == NULL)
		return finish(&st, &mb, rc >= 0 ? rc : EXIT_USAGE);
	set = (struct store_uidset){v, n};
	rc = EXIT_OK;
	if (store_flags_change(mb, &set, o.mode, o.flags, o.kw, o.n_kw, &err) !=
	    0) {
		store_cmd_fail(cmd, "flags", &err);
		rc = EXIT_FAIL;
	}
	free(v);
	return finish(&st, &mb, rc);
}

int store_cmd_expunge(int argc, char **argv)
{
	const char *cmd = "quill store expunge";
	struct store_uid_range *v;
	struct store_uidset set;
	struct store_changes ch;
	struct store_mailbox *mb;
	struct store_error err;
	struct store *st;
	struct sopts o;
	size_t n;
	int rc = begin(cmd, argc, argv, &o, &st, &mb);

	if (rc >= 0)
		return rc;
	v = uid_args(cmd, argc, argv, &n, &rc);
	if (v == NULL && rc >= 0)
		return finish(&st, &mb, rc);
	set = (struct store_uidset){v, n};
	rc = EXIT_OK;
	if (store_expunge(mb, v != NULL ? &set : NULL, &ch, &err) != 0) {
		store_cmd_fail(cmd, "expunge", &err);
		rc = EXIT_FAIL;
	} else {
		for (size_t i = 0; i < ch.n_expunged; i++)
			printf("%u\n", (unsigned)ch.expunged[i]);
		store_changes_clear(&ch);
	}
	free(v);
	return finish(&st, &mb, rc);
}

int store_cmd_cat(int argc, char **argv)
{
	const char *cmd = "quill store cat";
	struct store_uid_range *v;
	struct store_mailbox *mb;
	struct store_error err;
	struct store_msg *msg;
	struct store *st;
	struct sopts o;
	uint64_t off = 0;
	char buf[65536];
	size_t n, got;
	int rc = begin(cmd, argc, argv, &o, &st, &mb);

	if (rc >= 0)
		return rc;
	v = uid_args(cmd, argc, argv, &n, &rc);
	if (v == NULL || n != 1) {
		fprintf(stderr, "%s: one UID\n", cmd);
		free(v);
		return finish(&st, &mb, EXIT_USAGE);
	}
	rc = EXIT_OK;
	if (store_msg_open(mb, v[0].first, &msg, &err) != 0) {
		store_cmd_fail(cmd, argv[optind], &err);
		rc = EXIT_FAIL;
	}
	while (rc == EXIT_OK) {
		if (store_msg_read(msg, off, buf, sizeof(buf), &got, &err)) {
			store_cmd_fail(cmd, "read", &err);
			rc = EXIT_FAIL;
		} else if (got == 0) {
			break;
		} else if (fwrite(buf, 1, got, stdout) != got) {
			rc = EXIT_FAIL;
		}
		off += got;
	}
	if (rc == EXIT_OK && off != store_msg_get_info(msg)->size)
		rc = EXIT_FAIL;
	store_msg_close(&msg);
	free(v);
	return finish(&st, &mb, rc);
}

int store_cmd_status(int argc, char **argv)
{
	const char *cmd = "quill store status";
	struct store_mailbox *mb;
	struct store_error err;
	struct store_status s;
	struct store *st;
	struct sopts o;
	int rc = store_cmd_opts(cmd, argc, argv, &o);

	if (rc >= 0)
		return rc;
	rc = store_cmd_open(cmd, o.kind, o.root, &st);
	if (rc >= 0)
		return rc;
	if (store_mailbox_open(st, o.mailbox, STORE_OPEN_READONLY, &mb, &err) !=
	    0) {
		store_cmd_fail(cmd, o.mailbox, &err);
		store_close(&st);
		return EXIT_FAIL;
	}
	store_mailbox_status(mb, &s);
	printf("messages %u recent %u unseen %u uidvalidity %u uidnext %u\n",
	       (unsigned)s.messages, (unsigned)s.recent, (unsigned)s.unseen,
	       (unsigned)s.uidvalidity, (unsigned)s.uidnext);
	return finish(&st, &mb, EXIT_OK);
}
