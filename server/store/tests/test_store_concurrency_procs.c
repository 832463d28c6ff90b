/*
 * test_store_concurrency_procs.c - two processes append, flag and
 * expunge in the same mailbox at once for a few seconds, each through its
 * own store and mailbox handle. Each reports what it appended (number,
 * UID) and what it expunged. Then both close, reopen and write their view;
 * the two views and a third one from the parent must be the same (UIDs,
 * flags, keywords), UIDs ascend, and the messages are exactly those
 * appended and not expunged, each once and byte for byte. Both backends.
 */
#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <time.h>

#include "store_test.h"

#define PROCS	   2
#define RUN_MS	   2500
#define MAX_APPEND 20000u

static const char *const kw_names[] = {"kwA", "kwB", "$Label1"};

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static size_t make_msg(char *buf, size_t size, int p, unsigned n)
{
	int len = snprintf(buf, size,
			   "From: p%d@example.org\r\nSubject: p%d n%u\r\n\r\n"
			   "proc %d message %u\r\n",
			   p, p, n, p, n);

	ck_assert(len > 0 && (size_t)len < size);
	return (size_t)len;
}

__attribute__((format(printf, 2, 3))) static void report(int fd,
							 const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n <= 0 || (size_t)n >= sizeof(line) ||
	    write(fd, line, (size_t)n) != n)
		_exit(9);
}

static void die_child(int fd, const char *what, const struct store_error *e)
{
	report(fd, "E %s: %s\n", what, e->msg);
	_exit(1);
}

/* One line per message: "uid flags kw,kw" (keyword names, table order). */
static char *dump_view(struct store_mailbox *mb)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	for (uint32_t s = 1; s <= store_count(mb); s++) {
		struct store_msg_info info;
		struct store_error err;

		if (store_msg_info(mb, s, &info, &err) != 0) {
			fclose(f);
			free(buf);
			return NULL;
		}
		fprintf(f, "%u %02x", (unsigned)info.uid,
			info.flags & STORE_F_PERMANENT);
		for (size_t k = 0; k < store_keyword_count(mb); k++)
			if (info.keywords & (UINT64_C(1) << k))
				fprintf(f, " %s", store_keyword_name(mb, k));
		fputc('\n', f);
	}
	fclose(f);
	return buf;
}

static void child_run(const struct store_config *cfg, int p, int out, int go,
		      const char *view_path)
{
	struct store *st;
	struct store_mailbox *mb;
	struct store_error err;
	uint32_t own[MAX_APPEND];
	size_t n_own = 0;
	long end = now_ms() + RUN_MS;
	unsigned seed = (unsigned)getpid();
	char buf[256], *view;
	unsigned n;

	if (store_open(cfg, &st, &err) != 0)
		die_child(out, "store_open", &err);
	if (store_mailbox_open(st, "INBOX", 0, &mb, &err) != 0)
		die_child(out, "mailbox_open", &err);
	for (n = 0; now_ms() < end && n < MAX_APPEND; n++) {
		struct store_append *ap;
		struct store_changes ch;
		struct store_uid_range r;
		struct store_uidset set;
		uint32_t uid = 0, count;
		size_t len = make_msg(buf, sizeof(buf), p, n);
		int rc;

		if (store_append_begin(st, "INBOX", NULL, &ap, &err) != 0 ||
		    store_append_write(ap, buf, len, &err) != 0 ||
		    store_append_commit(&ap, 0, NULL, 0, 0, NULL, &uid, &err) !=
			    0)
			die_child(out, "append", &err);
		report(out, "A %d %u %u\n", p, n, (unsigned)uid);
		own[n_own++] = uid;
		if (store_sync(mb, &ch, &err) != 0)
			die_child(out, "sync", &err);
		store_changes_clear(&ch);
		count = store_count(mb);
		/* flag some message, anyone's */
		if (count > 0) {
			uint32_t u = store_uid_at(
				mb, (uint32_t)rand_r(&seed) % count + 1);
			unsigned what = (unsigned)rand_r(&seed) % 6;
			const char *kw = kw_names[rand_r(&seed) % 3];

			set = fx_set(&r, u, u);
			rc = store_flags_change(mb, &set,
						what % 2 == 0
							? STORE_FLAGS_ADD
							: STORE_FLAGS_REMOVE,
						what < 2   ? STORE_F_SEEN
						: what < 4 ? STORE_F_FLAGGED
							   : 0,
						what >= 4 ? &kw : NULL,
						what >= 4 ? 1 : 0, &err);
			if (rc != 0 && err.code != STORE_E_EXPUNGED)
				die_child(out, "flags", &err);
		}
		/* expunge one of our own every third round */
		if (n % 3 == 2 && n_own > 0) {
			size_t i = (size_t)rand_r(&seed) % n_own;
			uint32_t u = own[i];
			bool gone = false;

			own[i] = own[--n_own];
			set = fx_set(&r, u, u);
			if (store_flags_change(mb, &set, STORE_FLAGS_ADD,
					       STORE_F_DELETED, NULL, 0,
					       &err) != 0)
				die_child(out, "flag deleted", &err);
			if (store_expunge(mb, &set, &ch, &err) != 0)
				die_child(out, "expunge", &err);
			for (size_t k = 0; k < ch.n_expunged; k++)
				gone |= ch.expunged[k] == u;
			store_changes_clear(&ch);
			if (!gone || store_seq_of(mb, u) != 0) {
				report(out, "E uid %u not expunged\n",
				       (unsigned)u);
				_exit(1);
			}
			report(out, "X %d %u\n", p, (unsigned)u);
		}
	}
	report(out, "D %d %u\n", p, n);
	if (read(go, buf, 1) != 1)
		_exit(8);
	/* everyone stopped: reopen and write the view */
	store_mailbox_close(&mb);
	store_close(&st);
	if (store_open(cfg, &st, &err) != 0 ||
	    store_mailbox_open(st, "INBOX", 0, &mb, &err) != 0)
		die_child(out, "reopen", &err);
	view = dump_view(mb);
	if (view == NULL)
		_exit(7);
	fx_write_file(view_path, view, strlen(view), false);
	free(view);
	store_mailbox_close(&mb);
	store_close(&st);
	_exit(0);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;

	ck_assert_ptr_nonnull(f);
	n = getdelim(&buf, &cap, '\0', f);
	fclose(f);
	if (n < 0) {
		free(buf);
		return strdup("");
	}
	return buf;
}

struct rec {
	uint32_t uid;
	bool expunged, seen;
};

START_TEST(two_processes)
{
	static struct rec recs[PROCS][MAX_APPEND];
	unsigned appended[PROCS] = {0}, expunged = 0;
	char views[PROCS][PATH_MAX], vdir[PATH_MAX], line[256];
	int rep[2], go[PROCS][2], done = 0;
	pid_t kids[PROCS];
	struct store_mailbox *mb;
	struct fx fx;
	size_t ll = 0;
	char *mine;

	memset(recs, 0, sizeof(recs));
	fx_init(&fx, _i);
	ck_assert_int_lt(snprintf(vdir, sizeof(vdir), "%s.views", fx.root),
			 (int)sizeof(vdir));
	ck_assert_int_eq(mkdir(vdir, 0700), 0);
	ck_assert_int_eq(pipe(rep), 0);
	for (int p = 0; p < PROCS; p++) {
		ck_assert_int_lt(snprintf(views[p], sizeof(views[p]),
					  "%s/view%d", vdir, p),
				 (int)sizeof(views[p]));
		ck_assert_int_eq(pipe(go[p]), 0);
		kids[p] = fork();
		ck_assert_int_ge(kids[p], 0);
		if (kids[p] == 0) {
			close(rep[0]);
			child_run(&fx.cfg, p, rep[1], go[p][0], views[p]);
		}
		close(go[p][0]);
	}
	close(rep[1]);
	for (;;) {
		char c;
		ssize_t got = read(rep[0], &c, 1);
		int p;
		unsigned n, u;

		if (got <= 0)
			break;
		if (c != '\n') {
			ck_assert_uint_lt(ll, sizeof(line) - 1);
			line[ll++] = c;
			continue;
		}
		line[ll] = '\0';
		ll = 0;
		ck_assert_msg(line[0] != 'E', "%s child: %s",
			      fx.kind == STORE_KIND_MBOX ? "mbox" : "maildir",
			      line);
		if (sscanf(line, "A %d %u %u", &p, &n, &u) == 3) {
			ck_assert(p >= 0 && p < PROCS && n < MAX_APPEND);
			recs[p][n].uid = u;
			appended[p]++;
		} else if (sscanf(line, "X %d %u", &p, &u) == 2) {
			bool found = false;

			for (unsigned k = 0; k < MAX_APPEND && !found; k++)
				if (recs[p][k].uid == u &&
				    !recs[p][k].expunged) {
					recs[p][k].expunged = true;
					found = true;
				}
			ck_assert_msg(found, "expunged unknown uid %u", u);
			expunged++;
		} else if (sscanf(line, "D %d %u", &p, &n) == 2) {
			if (++done == PROCS)
				for (int q = 0; q < PROCS; q++)
					ck_assert_int_eq(
						write(go[q][1], "g", 1), 1);
		} else {
			ck_abort_msg("bad report %s", line);
		}
	}
	close(rep[0]);
	for (int p = 0; p < PROCS; p++) {
		int status;

		close(go[p][1]);
		ck_assert_int_eq(waitpid(kids[p], &status, 0), kids[p]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			      "child %d failed (status %d)", p, status);
	}
	ck_assert_int_eq(done, PROCS);

	/* the two reopened views and ours agree */
	fx_reopen(&fx);
	mb = fx_mb(&fx, "INBOX", STORE_OPEN_READONLY);
	mine = dump_view(mb);
	ck_assert_ptr_nonnull(mine);
	for (int p = 0; p < PROCS; p++) {
		char *v = slurp(views[p]);

		ck_assert_msg(strcmp(v, mine) == 0,
			      "process %d sees\n%s\nthe parent sees\n%s", p, v,
			      mine);
		free(v);
		unlink(views[p]);
	}
	free(mine);
	rmdir(vdir);

	/* exactly what was appended and not expunged, once, intact */
	for (uint32_t s = 1; s <= store_count(mb); s++) {
		uint32_t uid = store_uid_at(mb, s);
		char want[256], *got;
		size_t len, wlen;
		unsigned n;
		int p;

		if (s > 1)
			ck_assert_uint_lt(store_uid_at(mb, s - 1), uid);
		got = fx_read_ex(mb, uid, 0, &len);
		ck_assert_msg(sscanf(got, "From: p%d@example.org", &p) == 1 &&
				      p >= 0 && p < PROCS,
			      "uid %u unknown", (unsigned)uid);
		ck_assert(sscanf(strstr(got, "Subject:"), "Subject: p%*d n%u",
				 &n) == 1);
		ck_assert_uint_lt(n, MAX_APPEND);
		wlen = make_msg(want, sizeof(want), p, n);
		ck_assert_msg(len == wlen && memcmp(got, want, len) == 0,
			      "uid %u differs", (unsigned)uid);
		ck_assert_msg(recs[p][n].uid == uid,
			      "p%d n%u has uid %u, appended as %u", p, n,
			      (unsigned)uid, (unsigned)recs[p][n].uid);
		ck_assert_msg(!recs[p][n].expunged, "expunged uid %u is back",
			      (unsigned)uid);
		ck_assert_msg(!recs[p][n].seen, "uid %u twice", (unsigned)uid);
		recs[p][n].seen = true;
		free(got);
	}
	for (int p = 0; p < PROCS; p++)
		for (unsigned n = 0; n < MAX_APPEND; n++)
			ck_assert_msg(recs[p][n].uid == 0 ||
					      recs[p][n].expunged ||
					      recs[p][n].seen,
				      "p%d n%u (uid %u) lost", p, n,
				      (unsigned)recs[p][n].uid);
	fprintf(stderr, "%s: appended %u + %u, expunged %u, %u left\n",
		fx.kind == STORE_KIND_MBOX ? "mbox" : "maildir", appended[0],
		appended[1], expunged, (unsigned)store_count(mb));
	store_mailbox_close(&mb);
	fx_done(&fx);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store_concurrency_procs");
	TCase *tc = tcase_create("procs");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, two_processes, 0, 2);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
