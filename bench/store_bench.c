/*
 * store_bench.c - the mail store's speed, both backends (bench/README.md).
 *
 *	store_bench [-F] [-n APPENDS] [-N MESSAGES] [-m APPENDS] [-s SIZE] [DIR]
 *
 * 1. fsync'd appends per second: APPENDS (1,000) messages of SIZE (4 KB)
 *    to INBOX, each committed with its UID (as IMAP APPEND does) and
 *    without (as a delivery does).
 * 2. a mailbox of MESSAGES (100,000) messages of 2 KB, appended with fsync
 *    off (Maildir) or written as one file by another MDA (mbox); then
 *    closed and opened again (the page cache is warm: run as root and
 *    drop caches between steps for a truly cold disk):
 *      first open   numbers the messages a delivery left without UIDs
 *      open         with the index
 *      big          -m (200) fsync'd appends of SIZE into that mailbox,
 *                   with and without UIDs: what a large mailbox costs
 *                   each append
 *      no index     after deleting the index file (Maildir: quill-index,
 *                   the UID list stays; mbox: .inbox.quill-index, so the
 *                   whole file is parsed again)
 * -F: the appends without fsync, to see what the store itself costs
 * apart from the disk's flushes. Prints a table. The store lives under DIR (default: the current
 * directory), in a directory removed at the end.
 */
#include "store/store.h"

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const struct store_error *err)
{
	fprintf(stderr, "store_bench: %s: %s\n", what,
		err != NULL ? err->msg : "failed");
	exit(1);
}

static int rm(const char *path, const struct stat *sb, int flag,
	      struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static char *make_body(size_t size)
{
	static const char head[] = "From: bench@example.org\r\n"
				   "Subject: store bench\r\n\r\n";
	char *b = malloc(size);

	if (b == NULL || size < sizeof(head) + 2)
		die("message size", NULL);
	memcpy(b, head, sizeof(head) - 1);
	for (size_t i = sizeof(head) - 1; i < size; i++)
		b[i] = (i % 72 == 71) ? '\n' : (char)('a' + i % 26);
	b[size - 1] = '\n';
	return b;
}

/* mbox appends through the store cost O(messages not yet indexed) each
 * (README.md), so the big mbox is written as another MDA would. */
static void write_mbox(const char *root, const char *body, size_t len,
		       unsigned n)
{
	char path[PATH_MAX + 8];
	FILE *f;

	snprintf(path, sizeof(path), "%s/inbox", root);
	f = fopen(path, "w");
	if (f == NULL)
		die(path, NULL);
	for (unsigned i = 0; i < n; i++) {
		fprintf(f, "From bench@example.org Mon Nov 23 12:00:00 2026\n");
		fwrite(body, 1, len, f);
		fputc('\n', f);
	}
	if (fclose(f) != 0)
		die(path, NULL);
}

static struct store *open_store(enum store_kind kind, const char *root,
				bool fsync)
{
	struct store_config cfg;
	struct store_error err;
	struct store *st;

	store_config_init(&cfg, kind, root);
	cfg.fsync = fsync;
	cfg.hostname = "bench.example";
	if (store_open(&cfg, &st, &err) != 0)
		die("store_open", &err);
	return st;
}

static void append(struct store *st, const char *body, size_t len, bool uid)
{
	struct store_append *ap;
	struct store_error err;
	uint32_t u;

	if (store_append_begin(st, "INBOX", NULL, &ap, &err) != 0 ||
	    store_append_write(ap, body, len, &err) != 0 ||
	    store_append_commit(&ap, 0, NULL, 0, 0, NULL, uid ? &u : NULL,
				&err) != 0)
		die("append", &err);
}

/* Seconds for store_open + a read-only open of INBOX; its count. */
static double time_open(enum store_kind kind, const char *root, unsigned flags,
			uint32_t *count)
{
	struct store_mailbox *mb;
	struct store_error err;
	double t0 = now();
	struct store *st = open_store(kind, root, true);

	if (store_mailbox_open(st, "INBOX", flags, &mb, &err) != 0)
		die("mailbox_open", &err);
	*count = store_count(mb);
	store_mailbox_close(&mb);
	store_close(&st);
	return now() - t0;
}

static bool no_fsync;

static void bench(enum store_kind kind, const char *dir, unsigned n_app,
		  unsigned n_big, unsigned n_late, size_t size)
{
	const char *name = kind == STORE_KIND_MAILDIR ? "maildir" : "mbox";
	char root[PATH_MAX], idx[PATH_MAX + 32];
	double t, rate_uid, rate_nouid, first, with_idx, no_idx, late_uid, late;
	uint32_t count;
	struct store *st;
	char *body = make_body(size), *small = make_body(2048);

	if (snprintf(root, sizeof(root), "%s/store-bench-XXXXXX", dir) >=
		    (int)sizeof(root) ||
	    mkdtemp(root) == NULL)
		die("mkdtemp", NULL);

	st = open_store(kind, root, !no_fsync);
	t = now();
	for (unsigned i = 0; i < n_app; i++)
		append(st, body, size, true);
	rate_uid = n_app / (now() - t);
	t = now();
	for (unsigned i = 0; i < n_app; i++)
		append(st, body, size, false);
	rate_nouid = n_app / (now() - t);
	store_close(&st);
	nftw(root, rm, 16, FTW_DEPTH | FTW_PHYS);
	if (mkdir(root, 0700) != 0)
		die("mkdir", NULL);

	t = now();
	if (kind == STORE_KIND_MAILDIR) {
		st = open_store(kind, root, false);
		for (unsigned i = 0; i < n_big; i++)
			append(st, small, 2048, false);
		store_close(&st);
	} else {
		write_mbox(root, small, 2048, n_big);
	}
	t = now() - t;
	fprintf(stderr, "%s: %u messages built in %.1f s\n", name, n_big, t);
	first = time_open(kind, root, 0, &count);
	if (count != n_big)
		fprintf(stderr, "%s: %u messages, expected %u\n", name,
			(unsigned)count, n_big);
	with_idx = time_open(kind, root, STORE_OPEN_READONLY, &count);
	st = open_store(kind, root, !no_fsync);
	t = now();
	for (unsigned i = 0; i < n_late; i++)
		append(st, body, size, true);
	late_uid = n_late / (now() - t);
	t = now();
	for (unsigned i = 0; i < n_late; i++)
		append(st, body, size, false);
	late = n_late / (now() - t);
	store_close(&st);
	snprintf(idx, sizeof(idx), "%s/%s", root,
		 kind == STORE_KIND_MAILDIR ? "quill-index"
					    : ".inbox.quill-index");
	if (unlink(idx) != 0)
		perror(idx);
	no_idx = time_open(kind, root, STORE_OPEN_READONLY, &count);
	printf("| %-7s | %9.0f | %9.0f | %9.0f | %9.0f | %10.3f | %10.3f | "
	       "%10.3f |\n",
	       name, rate_uid, rate_nouid, late_uid, late, first, with_idx,
	       no_idx);
	fflush(stdout);
	nftw(root, rm, 16, FTW_DEPTH | FTW_PHYS);
	free(body);
	free(small);
}

int main(int argc, char **argv)
{
	unsigned n_app = 1000, n_big = 100000, n_late = 200;
	size_t size = 4096;
	const char *dir = ".";
	int c;

	while ((c = getopt(argc, argv, "Fn:N:m:s:")) != -1) {
		switch (c) {
		case 'F':
			no_fsync = true;
			break;
		case 'n':
			n_app = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'N':
			n_big = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'm':
			n_late = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 's':
			size = (size_t)strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: store_bench [-F] [-n APPENDS] "
					"[-N MESSAGES] [-m APPENDS] [-s SIZE] "
					"[DIR]\n");
			return 2;
		}
	}
	if (optind < argc)
		dir = argv[optind];
	printf("%u %s appends of %zu bytes to an empty INBOX, %u to an "
	       "INBOX of %u messages of 2048 bytes\n\n",
	       n_app, no_fsync ? "unsynced" : "fsync'd", size, n_late, n_big);
	printf("| backend | app/s+UID | app/s     | big+UID   | big app/s "
	       "| first open | open (idx) | no index   |\n");
	printf("| ------- | --------- | --------- | --------- | --------- "
	       "| ---------- | ---------- | ---------- |\n");
	fflush(stdout);
	bench(STORE_KIND_MAILDIR, dir, n_app, n_big, n_late, size);
	bench(STORE_KIND_MBOX, dir, n_app, n_big, n_late, size);
	printf("\nopen times in seconds (store_open + read-only SELECT)\n");
	return 0;
}
