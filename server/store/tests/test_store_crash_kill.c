/*
 * test_store_crash_kill.c - SIGKILL at random moments, many times.
 *
 * A child appends numbered, unique messages to INBOX with fsync on and
 * writes "ACK n" to a pipe after each store_append_commit() returns. The
 * parent kills it after a random delay (during store_open, a write, the
 * fsync, the rename, the UID list or index update, or the ACK), reads
 * what was acknowledged and starts a new child with fresh numbers. At the
 * end every acknowledged message is there exactly once and byte for byte,
 * nothing else is there but whole messages of this test, no number shows
 * twice, every message reads to its end and UIDs ascend. Both backends;
 * KILLS rounds each, in a real directory under the working directory
 * (the build tree under CTest: a tmpfs would make fsync free).
 */
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#define FX_FSYNC true
#include "store_test.h"

#define KILLS	 110 /* per backend */
#define ROUND_N	 100000u
#define MAX_MSGS ((KILLS + 1) * 64)

/* Message n: a few hundred bytes that name n in the header and body. */
static size_t make_msg(char *buf, size_t size, unsigned n)
{
	int len = snprintf(buf, size,
			   "From: crash@example.org\r\n"
			   "Subject: message %u\r\n"
			   "Message-ID: <%u@crash.example>\r\n"
			   "\r\n"
			   "body of %u\r\n"
			   "From the line that mbox must quote, %u\r\n"
			   "%0*u\r\n",
			   n, n, n, n, (int)(n % 97) + 1, n);

	ck_assert(len > 0 && (size_t)len < size);
	return (size_t)len;
}

static void child_run(const struct store_config *cfg, unsigned first, int out)
{
	struct store *st;
	struct store_error err;
	char buf[512];

	if (store_open(cfg, &st, &err) != 0)
		_exit(3);
	for (unsigned n = first;; n++) {
		struct store_append *ap;
		size_t len = make_msg(buf, sizeof(buf), n);
		char ack[32];
		int alen;

		if (store_append_begin(st, "INBOX", "crash@example.org", &ap,
				       &err) != 0 ||
		    store_append_write(ap, buf, len, &err) != 0 ||
		    store_append_commit(&ap, n % 3 == 0 ? STORE_F_SEEN : 0,
					NULL, 0, 0, NULL, NULL, &err) != 0)
			_exit(4);
		alen = snprintf(ack, sizeof(ack), "ACK %u\n", n);
		if (write(out, ack, (size_t)alen) != alen)
			_exit(5);
	}
}

/* Read "ACK n" lines until EOF; record each n in acked. */
static void read_acks(int fd, unsigned char *acked, size_t *count)
{
	char buf[4096], line[64];
	size_t ll = 0;
	ssize_t got;

	while ((got = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < got; i++) {
			unsigned r, s;

			if (buf[i] != '\n') {
				ck_assert_uint_lt(ll, sizeof(line) - 1);
				line[ll++] = buf[i];
				continue;
			}
			line[ll] = '\0';
			ll = 0;
			ck_assert_msg(sscanf(line, "ACK %u", &r) == 1,
				      "bad line %s", line);
			s = (r / ROUND_N) * 64 + r % ROUND_N;
			ck_assert_msg(r % ROUND_N < 64,
				      "more than 64 appends in one round");
			ck_assert_uint_lt(s, MAX_MSGS);
			ck_assert(!acked[s]);
			acked[s] = 1;
			(*count)++;
		}
	}
	/* a partial line is an ACK the kill cut: not acknowledged */
}

START_TEST(kill_appender)
{
	unsigned char *acked = calloc(MAX_MSGS, 1);
	unsigned char *seen = calloc(MAX_MSGS, 1);
	struct store_mailbox *mb;
	char root[PATH_MAX], cwd[PATH_MAX];
	size_t n_acked = 0, mid_append = 0;
	struct fx fx;
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	const char *s = getenv("QUILL_CRASH_SEED");

	if (s != NULL)
		seed = (unsigned)strtoul(s, NULL, 10);
	srand(seed + (unsigned)_i);
	ck_assert_ptr_nonnull(acked);
	ck_assert_ptr_nonnull(seen);
	/* fx gives a config; the mail goes to a disk directory instead */
	fx_init(&fx, _i);
	store_close(&fx.st);
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_lt(
		snprintf(root, sizeof(root), "%s/crash-kill-XXXXXX", cwd),
		(int)sizeof(root));
	ck_assert_ptr_nonnull(mkdtemp(root));
	fx.cfg.root = root;
	fx.cfg.lock_timeout_ms = 10000;

	for (unsigned round = 1; round <= KILLS; round++) {
		int p[2], status;
		size_t before = n_acked;
		pid_t pid;
		struct timespec ts;

		ck_assert_int_eq(pipe(p), 0);
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			close(p[0]);
			child_run(&fx.cfg, round * ROUND_N, p[1]);
		}
		close(p[1]);
		/* 0-40 ms: most rounds die within an append */
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(rand() % 40000) * 1000;
		nanosleep(&ts, NULL);
		ck_assert_int_eq(kill(pid, SIGKILL), 0);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFSIGNALED(status),
			      "child exited with %d before the kill (seed %u)",
			      WEXITSTATUS(status), seed);
		read_acks(p[0], acked, &n_acked);
		close(p[0]);
		if (n_acked > before)
			mid_append++;
	}

	/* Everything acknowledged is there, once, whole. */
	fx_open(&fx);
	mb = fx_mb(&fx, "INBOX", 0);
	for (uint32_t seq = 1; seq <= store_count(mb); seq++) {
		uint32_t uid = store_uid_at(mb, seq);
		char want[512];
		size_t len, wlen;
		unsigned n, slot;
		char *got;

		if (seq > 1)
			ck_assert_uint_lt(store_uid_at(mb, seq - 1), uid);
		got = fx_read_ex(mb, uid, 100, &len);
		ck_assert_msg(sscanf(got,
				     "From: crash@example.org\r\n"
				     "Subject: message %u",
				     &n) == 1,
			      "uid %u is not a message of this test",
			      (unsigned)uid);
		wlen = make_msg(want, sizeof(want), n);
		ck_assert_msg(len == wlen && memcmp(got, want, len) == 0,
			      "uid %u (message %u) differs (seed %u)",
			      (unsigned)uid, n, seed);
		slot = (n / ROUND_N) * 64 + n % ROUND_N;
		ck_assert_uint_lt(slot, MAX_MSGS);
		ck_assert_msg(!seen[slot], "message %u twice (seed %u)", n,
			      seed);
		seen[slot] = 1;
		free(got);
	}
	for (size_t i = 0; i < MAX_MSGS; i++)
		ck_assert_msg(!acked[i] || seen[i],
			      "acknowledged message %zu lost (seed %u)",
			      (i / 64) * ROUND_N + i % 64, seed);
	fprintf(stderr,
		"%s: %d kills, %zu acknowledged, %u present, %zu rounds "
		"acknowledged something (seed %u)\n",
		fx.kind == STORE_KIND_MBOX ? "mbox" : "maildir", KILLS, n_acked,
		(unsigned)store_count(mb), mid_append, seed);
	store_mailbox_close(&mb);
	store_close(&fx.st);
	fx_rmtree(root);
	fx_rmtree(fx.root);
	free(acked);
	free(seen);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store_crash_kill");
	TCase *tc = tcase_create("kill");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, kill_appender, 0, 2);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
