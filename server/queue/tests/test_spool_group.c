/*
 * test_spool_group.c - group commit of spool files: a batch of N shares
 * one fsync of new/; commits that arrive during a sync form the next
 * batch; a member whose fsync, close or rename fails fails alone, a failed
 * fsync of new/ fails the batch; per message the order fsync < rename <
 * fsync(new/) < done holds and done() comes in commit order; in syncfs
 * mode a batch (even of one) makes one syncfs after its renames and no
 * fsync of its files or of new/, a write error of one file still fails
 * only it, and a failed syncfs falls back to fsync of each file and of
 * new/; unstarted commits fail cleanly at shutdown; spool_init drops
 * what tmp/ holds; each committed file carries its seal.
 *
 * The system calls go through spool_group_io: the fakes here call the
 * real ones, log each call with the message id it concerns, and fail the
 * one a test names.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "pool.h"
#include "queue/spool.h"
#include "queue/spool_group.h"
#include "queue/spool_internal.h"
#include "queue/spool_seal.h"

#define MAX_MSGS 64
#define MAX_LOG	 1024

/* --- the fake system calls and their log --------------------------- */

enum op {
	OP_FSYNC,
	OP_SYNCFS,
	OP_WAIT,
	OP_CLOSE,
	OP_RENAME,
	OP_FSYNC_DIR,
	OP_DONE
};

struct entry {
	enum op op;
	char id[SPOOL_ID_MAX];
};

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry log_[MAX_LOG];
static size_t n_log;
static char fail_id[SPOOL_ID_MAX]; /* the message whose call fails */
static enum op fail_op;
static int fail_errno;
static bool fail_dir;	    /* fsync of new/ fails */
static bool fail_syncfs;    /* syncfs fails */
static bool hold_first_dir; /* the first fsync_dir waits for release */
static pthread_mutex_t hold_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hold_cond = PTHREAD_COND_INITIALIZER;
static bool holding, released;

static void note(enum op op, const char *id)
{
	pthread_mutex_lock(&log_lock);
	if (n_log < MAX_LOG) {
		log_[n_log].op = op;
		size_t len = strnlen(id, SPOOL_ID_MAX - 1);
		memcpy(log_[n_log].id, id, len);
		log_[n_log].id[len] = '\0';
		n_log++;
	}
	pthread_mutex_unlock(&log_lock);
}

/* The id of the spool file open as fd: the last part of its path. */
static void id_of_fd(int fd, char *id, size_t n)
{
	char link[64], path[1024];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t len = readlink(link, path, sizeof(path) - 1);
	path[len > 0 ? len : 0] = '\0';
	const char *slash = strrchr(path, '/');
	const char *base_name = slash != NULL ? slash + 1 : path;
	size_t len_id = strnlen(base_name, n - 1);
	memcpy(id, base_name, len_id);
	id[len_id] = '\0';
}

static bool should_fail(enum op op, const char *id)
{
	return fail_id[0] != '\0' && fail_op == op && strcmp(id, fail_id) == 0;
}

static int fake_fsync(int fd)
{
	char id[SPOOL_ID_MAX];
	id_of_fd(fd, id, sizeof(id));
	note(OP_FSYNC, id);
	if (should_fail(OP_FSYNC, id)) {
		errno = fail_errno;
		return -1;
	}
	return fsync(fd);
}

static int fake_syncfs(int fd)
{
	note(OP_SYNCFS, "");
	if (fail_syncfs) {
		errno = EIO;
		return -1;
	}
	return syncfs(fd);
}

static int fake_wait(int fd)
{
	char id[SPOOL_ID_MAX];
	id_of_fd(fd, id, sizeof(id));
	note(OP_WAIT, id);
	if (should_fail(OP_WAIT, id)) {
		errno = fail_errno;
		return -1;
	}
	return sync_file_range(fd, 0, 0,
			       SYNC_FILE_RANGE_WAIT_BEFORE |
				       SYNC_FILE_RANGE_WRITE |
				       SYNC_FILE_RANGE_WAIT_AFTER);
}

static int fake_close(int fd)
{
	char id[SPOOL_ID_MAX];
	id_of_fd(fd, id, sizeof(id));
	note(OP_CLOSE, id);
	int rc = close(fd);
	if (rc == 0 && should_fail(OP_CLOSE, id)) {
		errno = fail_errno;
		return -1;
	}
	return rc;
}

static int fake_rename(const char *from, const char *to)
{
	const char *id = strrchr(from, '/') + 1;
	note(OP_RENAME, id);
	if (should_fail(OP_RENAME, id)) {
		errno = fail_errno;
		return -1;
	}
	return rename(from, to);
}

static int fake_fsync_dir(const char *dir)
{
	pthread_mutex_lock(&hold_lock);
	if (hold_first_dir) {
		hold_first_dir = false;
		holding = true;
		pthread_cond_broadcast(&hold_cond);
		while (!released)
			pthread_cond_wait(&hold_cond, &hold_lock);
	}
	pthread_mutex_unlock(&hold_lock);
	note(OP_FSYNC_DIR, "");
	if (fail_dir) {
		errno = EIO;
		return -1;
	}
	return spool_fsync_dir(dir);
}

static const struct spool_group_io fake_io = {
	.fsync = fake_fsync,
	.syncfs = fake_syncfs,
	.wait_file = fake_wait,
	.close = fake_close,
	.rename = fake_rename,
	.fsync_dir = fake_fsync_dir,
};

/* --- a queue, a loop, a pool ---------------------------------------- */

struct result {
	int calls, rc;
	char err[256];
};

static char qdir[256];
static struct event_base *base;
static struct pool *pool;
static struct spool_group *group;
static char ids[MAX_MSGS][SPOOL_ID_MAX];
static struct result results[MAX_MSGS];
static int n_done;

static void setup(void)
{
	char err[256];
	snprintf(qdir, sizeof(qdir), "/tmp/quill-spool-group-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(qdir));
	ck_assert_int_eq(spool_init(qdir, err, sizeof(err)), 0);
	base = event_base_new();
	pool = pool_new(base, 2, err, sizeof(err));
	ck_assert_ptr_nonnull(pool);
	group = spool_group_new(base, pool, qdir, 0, err, sizeof(err));
	ck_assert_ptr_nonnull(group);
	spool_group_set_io(group, &fake_io);
	memset(results, 0, sizeof(results));
	n_done = 0;
	n_log = 0;
	fail_id[0] = '\0';
	fail_dir = fail_syncfs = hold_first_dir = holding = released = false;
}

static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d != NULL && (de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			unlinkat(dirfd(d), de->d_name, 0);
	if (d != NULL)
		closedir(d);
	rmdir(dir);
}

static void teardown(void)
{
	char path[300];
	pool_free(&pool);
	spool_group_free(&group);
	event_base_free(base);
	snprintf(path, sizeof(path), "%s/tmp", qdir);
	remove_dir(path);
	snprintf(path, sizeof(path), "%s/new", qdir);
	remove_dir(path);
	rmdir(qdir);
}

static void on_done(void *arg, int rc, const char *err)
{
	struct result *r = arg;
	int i = (int)(r - results);
	r->calls++;
	r->rc = rc;
	snprintf(r->err, sizeof(r->err), "%s", err);
	note(OP_DONE, ids[i]);
	n_done++;
}

/* Begin message i (its body names it) and commit it. */
static void commit_one(int i)
{
	char from[] = "sender@example.org", rcpt_addr[] = "alice@example.test";
	char body[64], err[256];
	struct smtp_rcpt rcpt = {.addr = rcpt_addr};
	struct smtp_envelope env = {.mail_from = from,
				    .rcpt = &rcpt,
				    .n_rcpt = 1,
				    .helo = "client.example.org",
				    .peer = "127.0.0.1",
				    .tls = ""};
	struct spool_msg *m =
		spool_begin(qdir, &env, 1700000000, ids[i], err, sizeof(err));
	ck_assert_msg(m != NULL, "%s", err);
	snprintf(body, sizeof(body), "Subject: %d\r\n\r\nbody %d\r\n", i, i);
	ck_assert_int_eq(spool_write(m, body, strlen(body), err, sizeof(err)),
			 0);
	ck_assert_int_eq(spool_group_commit(group, &m, on_done, &results[i]),
			 0);
	ck_assert_ptr_null(m);
}

static void run_until_done(int n)
{
	for (int spins = 0; n_done < n && spins < 100000; spins++)
		event_base_loop(base, EVLOOP_ONCE);
	ck_assert_int_eq(n_done, n);
}

static bool exists(const char *sub, const char *id)
{
	char path[512];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s/%s", qdir, sub, id);
	return stat(path, &st) == 0;
}

/* The whole file in new/ ends with message i's body. */
static void check_committed(int i)
{
	char path[512], want[64], got[4096];
	snprintf(path, sizeof(path), "%s/new/%s", qdir, ids[i]);
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "%s missing", path);
	size_t n = fread(got, 1, sizeof(got) - 1, f);
	fclose(f);
	got[n] = '\0';
	snprintf(want, sizeof(want), "\n\nSubject: %d\r\n\r\nbody %d\r\n", i,
		 i);
	ck_assert_msg(strstr(got, "QUILL-SPOOL 1\n") == got, "%s", got);
	ck_assert_msg(n >= strlen(want) &&
			      strcmp(got + n - strlen(want), want) == 0,
		      "%s", got);
	ck_assert(!exists("tmp", ids[i]));
	/* sealed with the message's length and hash (spool_seal.h) */
	const char *seal = strstr(got, "\nseal ");
	const char *body = strstr(got, "\n\n");
	ck_assert_msg(seal != NULL && seal + 6 + SPOOL_SEAL_VALUE_LEN == body,
		      "%s", got);
	struct spool_seal want_seal;
	bool zero = true;
	char why[128];
	ck_assert_int_eq(spool_seal_parse(seal + 6, SPOOL_SEAL_VALUE_LEN,
					  &want_seal, &zero),
			 0);
	ck_assert(!zero);
	int fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(spool_seal_check(fd, (uint64_t)(body + 2 - got),
					  &want_seal, why, sizeof(why)),
			 0);
	close(fd);
}

static size_t count(enum op op)
{
	size_t n = 0;
	for (size_t i = 0; i < n_log; i++)
		n += log_[i].op == op;
	return n;
}

/* Index in the log of the first op on id, or -1. */
static long find(enum op op, const char *id)
{
	for (size_t i = 0; i < n_log; i++)
		if (log_[i].op == op && strcmp(log_[i].id, id) == 0)
			return (long)i;
	return -1;
}

/* --- tests ------------------------------------------------------------ */

START_TEST(batch_of_n_one_dir_fsync)
{
	enum { N = 16 };
	spool_group_set_wait(group, 50); /* the loop is not run meanwhile */
	for (int i = 0; i < N; i++)
		commit_one(i);
	ck_assert_uint_eq(spool_group_pending(group), N);
	run_until_done(N);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(results[i].calls, 1);
		ck_assert_msg(results[i].rc == 0, "%s", results[i].err);
		check_committed(i);
	}
	ck_assert_uint_eq(count(OP_FSYNC), N);
	ck_assert_uint_eq(count(OP_RENAME), N);
	ck_assert_uint_eq(count(OP_FSYNC_DIR), 1);
	ck_assert_uint_eq(spool_group_pending(group), 0);
}
END_TEST

START_TEST(order_per_message_and_done_in_commit_order)
{
	enum { N = 8 };
	spool_group_set_wait(group, 50);
	for (int i = 0; i < N; i++)
		commit_one(i);
	run_until_done(N);
	long dir = -1;
	for (size_t k = 0; k < n_log; k++)
		if (log_[k].op == OP_FSYNC_DIR)
			dir = (long)k;
	for (int i = 0; i < N; i++) {
		long fs = find(OP_FSYNC, ids[i]), cl = find(OP_CLOSE, ids[i]);
		long rn = find(OP_RENAME, ids[i]), dn = find(OP_DONE, ids[i]);
		ck_assert(fs >= 0 && fs < cl && cl < rn && rn < dir &&
			  dir < dn);
		if (i > 0)
			ck_assert(find(OP_DONE, ids[i - 1]) < dn);
	}
}
END_TEST

/* Commits made while a batch syncs wait for it, then go as one batch. */
START_TEST(arrivals_during_sync_form_next_batch)
{
	hold_first_dir = true;
	commit_one(0); /* wait 0: its batch starts at once */
	pthread_mutex_lock(&hold_lock);
	while (!holding)
		pthread_cond_wait(&hold_cond, &hold_lock);
	pthread_mutex_unlock(&hold_lock);
	for (int i = 1; i <= 5; i++)
		commit_one(i);
	ck_assert_uint_eq(spool_group_pending(group), 6);
	ck_assert_int_eq(n_done, 0);
	pthread_mutex_lock(&hold_lock);
	released = true;
	pthread_cond_broadcast(&hold_cond);
	pthread_mutex_unlock(&hold_lock);
	run_until_done(6);
	ck_assert_uint_eq(count(OP_FSYNC_DIR), 2);
	/* the second batch: the five, after message 0 was answered */
	ck_assert(find(OP_DONE, ids[0]) < find(OP_FSYNC, ids[1]));
	for (int i = 0; i <= 5; i++) {
		ck_assert_int_eq(results[i].rc, 0);
		check_committed(i);
	}
}
END_TEST

/* One member's step fails: only it fails, with the reason. */
static void one_member_fails(enum op op, int err, const char *what)
{
	enum { N = 6, BAD = 3 };
	spool_group_set_wait(group, 50);
	if (op == OP_WAIT)
		spool_group_set_sync(group, SPOOL_SYNC_SYNCFS);
	for (int i = 0; i < N; i++)
		commit_one(i);
	snprintf(fail_id, sizeof(fail_id), "%s", ids[BAD]);
	fail_op = op;
	fail_errno = err;
	run_until_done(N);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(results[i].calls, 1);
		if (i != BAD) {
			ck_assert_msg(results[i].rc == 0, "%s", results[i].err);
			check_committed(i);
		}
	}
	ck_assert_int_eq(results[BAD].rc, -1);
	ck_assert_msg(strstr(results[BAD].err, what) != NULL &&
			      strstr(results[BAD].err, strerror(err)) != NULL,
		      "%s", results[BAD].err);
	ck_assert(!exists("new", ids[BAD]));
	ck_assert(!exists("tmp", ids[BAD]));
	/* syncfs mode: the one syncfs made the renames durable */
	ck_assert_uint_eq(count(OP_FSYNC_DIR), op == OP_WAIT ? 0 : 1);
}

START_TEST(failing_fsync_fails_one)
{
	one_member_fails(OP_FSYNC, EIO, "cannot fsync");
}
END_TEST

START_TEST(failing_close_fails_one)
{
	one_member_fails(OP_CLOSE, ENOSPC, "cannot close");
}
END_TEST

START_TEST(failing_rename_fails_one)
{
	one_member_fails(OP_RENAME, EDQUOT, "cannot rename");
}
END_TEST

START_TEST(syncfs_write_error_fails_one)
{
	one_member_fails(OP_WAIT, EIO, "cannot write");
	ck_assert_uint_eq(count(OP_SYNCFS), 1);
	ck_assert_uint_eq(count(OP_FSYNC), 0);
}
END_TEST

/* syncfs mode: each file renamed with its data unflushed, then one
 * syncfs for the batch (data and renames), no fsync of any file nor of
 * new/, each file waited on for its write errors before anyone is
 * told. */
START_TEST(syncfs_batch_one_syncfs)
{
	enum { N = 8 };
	spool_group_set_sync(group, SPOOL_SYNC_SYNCFS);
	spool_group_set_wait(group, 50);
	for (int i = 0; i < N; i++)
		commit_one(i);
	run_until_done(N);
	ck_assert_uint_eq(count(OP_SYNCFS), 1);
	ck_assert_uint_eq(count(OP_FSYNC), 0);
	ck_assert_uint_eq(count(OP_WAIT), N);
	ck_assert_uint_eq(count(OP_FSYNC_DIR), 0);
	long sfs = -1;
	for (size_t k = 0; k < n_log; k++)
		if (log_[k].op == OP_SYNCFS)
			sfs = (long)k;
	for (int i = 0; i < N; i++) {
		ck_assert_msg(results[i].rc == 0, "%s", results[i].err);
		check_committed(i);
		long w = find(OP_WAIT, ids[i]), rn = find(OP_RENAME, ids[i]);
		ck_assert(rn < sfs && sfs < w && w < find(OP_DONE, ids[i]));
	}
}
END_TEST

/* A batch of one in syncfs mode: one syncfs, the only flush, instead of
 * an fsync of the file and another of new/. */
START_TEST(syncfs_mode_single_message_one_flush)
{
	spool_group_set_sync(group, SPOOL_SYNC_SYNCFS);
	commit_one(0);
	run_until_done(1);
	ck_assert_int_eq(results[0].rc, 0);
	ck_assert_uint_eq(count(OP_SYNCFS), 1);
	ck_assert_uint_eq(count(OP_FSYNC), 0);
	ck_assert_uint_eq(count(OP_FSYNC_DIR), 0);
	ck_assert(find(OP_RENAME, ids[0]) < find(OP_DONE, ids[0]));
	check_committed(0);
}
END_TEST

/* syncfs fails: every file is fsync'd instead, and each is judged by its
 * own fsync. */
START_TEST(syncfs_failure_falls_back_to_fsync)
{
	enum { N = 4 };
	spool_group_set_sync(group, SPOOL_SYNC_SYNCFS);
	spool_group_set_wait(group, 50);
	fail_syncfs = true;
	for (int i = 0; i < N; i++)
		commit_one(i);
	run_until_done(N);
	ck_assert_uint_eq(count(OP_SYNCFS), 1);
	ck_assert_uint_eq(count(OP_WAIT), 0);
	ck_assert_uint_eq(count(OP_FSYNC), N);
	/* the renames came before the syncfs: new/ is fsync'd after all */
	ck_assert_uint_eq(count(OP_FSYNC_DIR), 1);
	long dir = find(OP_FSYNC_DIR, "");
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(results[i].rc, 0);
		check_committed(i);
		ck_assert(find(OP_FSYNC, ids[i]) < dir &&
			  dir < find(OP_DONE, ids[i]));
	}
}
END_TEST

START_TEST(failing_dir_fsync_fails_batch)
{
	enum { N = 4 };
	spool_group_set_wait(group, 50);
	fail_dir = true;
	for (int i = 0; i < N; i++)
		commit_one(i);
	run_until_done(N);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(results[i].rc, -1);
		ck_assert_msg(strstr(results[i].err, "/new: ") != NULL, "%s",
			      results[i].err);
		ck_assert(!exists("new", ids[i]));
		ck_assert(!exists("tmp", ids[i]));
	}
	/* the next batch is not held back by the failure */
	fail_dir = false;
	commit_one(N);
	run_until_done(N + 1);
	ck_assert_int_eq(results[N].rc, 0);
	check_committed(N);
}
END_TEST

/* A commit waiting on the timer when quilld stops: never on disk in
 * new/, its file removed, done() told once. */
START_TEST(unstarted_commits_fail_at_shutdown)
{
	spool_group_set_wait(group, 50);
	commit_one(0);
	commit_one(1);
	pool_free(&pool);
	spool_group_free(&group);
	ck_assert_int_eq(n_done, 2);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(results[i].calls, 1);
		ck_assert_int_eq(results[i].rc, -1);
		ck_assert(!exists("new", ids[i]));
		ck_assert(!exists("tmp", ids[i]));
	}
}
END_TEST

/* A crash leaves tmp/ files (never acknowledged): removed at start;
 * what new/ holds stays. */
START_TEST(init_drops_tmp_keeps_new)
{
	char err[256], path[512];
	commit_one(0);
	run_until_done(1);
	snprintf(path, sizeof(path), "%s/tmp/LEFTOVER", qdir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_int_eq(spool_init(qdir, err, sizeof(err)), 1);
	ck_assert(!exists("tmp", "LEFTOVER"));
	check_committed(0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("spool_group");
	TCase *tc = tcase_create("group");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, batch_of_n_one_dir_fsync);
	tcase_add_test(tc, order_per_message_and_done_in_commit_order);
	tcase_add_test(tc, arrivals_during_sync_form_next_batch);
	tcase_add_test(tc, failing_fsync_fails_one);
	tcase_add_test(tc, failing_close_fails_one);
	tcase_add_test(tc, failing_rename_fails_one);
	tcase_add_test(tc, failing_dir_fsync_fails_batch);
	tcase_add_test(tc, syncfs_write_error_fails_one);
	tcase_add_test(tc, syncfs_batch_one_syncfs);
	tcase_add_test(tc, syncfs_mode_single_message_one_flush);
	tcase_add_test(tc, syncfs_failure_falls_back_to_fsync);
	tcase_add_test(tc, unstarted_commits_fail_at_shutdown);
	tcase_add_test(tc, init_drops_tmp_keeps_new);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
