/*
 * test_queue_runner.c - the queue runner (queue_runner.h) on a real event
 * loop and worker pool: what is queued at start-up is delivered (a
 * delivery made before a "crash" is found, not repeated: after a
 * "reboot" by looking for every recipient, else for those whose "try"
 * record has no outcome), and boot-id is written then; a message
 * kicked after start is delivered fresh; a message with a remote
 * recipient stays queued and parked; a temporary failure is retried
 * after retry_min and delivered once the cause is gone.
 */
#include <check.h>
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "engine.h"
#include "passwd.h"
#include "pool.h"
#include "queue/deliver.h"
#include "queue/queue_file.h"
#include "queue/queue_runner.h"
#include "queue/spool.h"
#include "user_store.h"

struct rfx {
	char dir[512];
	struct quilld_config cfg;
	struct host_services svc;
	struct event_base *base;
	struct event *tick;
	bool (*done)(struct rfx *fx);
	time_t deadline;
	bool timed_out;
};

static int rm_entry(const char *path, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void rfx_init(struct rfx *fx)
{
	const char *tmp = getenv("TMPDIR");
	const char *pw = "alice:{PLAIN}x\nbob:{PLAIN}y\n";
	char err[512];
	struct passwd_error perr;
	memset(fx, 0, sizeof(*fx));
	snprintf(fx->dir, sizeof(fx->dir), "%s/quill-runner-XXXXXX",
		 tmp != NULL && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(fx->dir));
	config_defaults(&fx->cfg, fx->dir);
	fx->cfg.queue_retry_min = 1;
	fx->cfg.queue_retry_max = 1;
	ck_assert_int_eq(mkdir(fx->cfg.mail_root, 0700), 0);
	fx->svc.cfg = &fx->cfg;
	snprintf(fx->svc.queue_dir, sizeof(fx->svc.queue_dir), "%s/queue",
		 fx->dir);
	ck_assert_int_eq(spool_init(fx->svc.queue_dir, err, sizeof(err)), 0);
	fx->svc.users = passwd_db_load_buffer("t", pw, strlen(pw), &perr);
	fx->base = event_base_new();
	fx->svc.pool = pool_new(fx->base, 2, err, sizeof(err));
	ck_assert_ptr_nonnull(fx->svc.pool);
	fx->svc.runner = queue_runner_new(fx->base, &fx->svc, err, sizeof(err));
	ck_assert_ptr_nonnull(fx->svc.runner);
}

static void rfx_done(struct rfx *fx)
{
	queue_runner_stop(fx->svc.runner);
	pool_free(&fx->svc.pool);
	queue_runner_free(&fx->svc.runner);
	if (fx->tick != NULL)
		event_free(fx->tick);
	event_base_free(fx->base);
	passwd_db_free(&fx->svc.users);
	nftw(fx->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rfx *fx = arg;
	(void)fd;
	(void)what;
	if (fx->done(fx)) {
		event_base_loopexit(fx->base, NULL);
		return;
	}
	if (time(NULL) > fx->deadline) {
		fx->timed_out = true;
		event_base_loopexit(fx->base, NULL);
		return;
	}
	struct timeval tv = {.tv_usec = 20000};
	evtimer_add(fx->tick, &tv);
}

/* Run the loop until done(fx) or 20 seconds. */
static void run_until(struct rfx *fx, bool (*done)(struct rfx *))
{
	fx->done = done;
	fx->deadline = time(NULL) + 20;
	if (fx->tick == NULL)
		fx->tick = evtimer_new(fx->base, tick_cb, fx);
	struct timeval tv = {.tv_usec = 1000};
	evtimer_add(fx->tick, &tv);
	event_base_dispatch(fx->base);
	ck_assert_msg(!fx->timed_out, "timed out");
}

static void spool(struct rfx *fx, const char *const *to, const char *body,
		  char *id)
{
	struct smtp_rcpt r[4];
	struct smtp_envelope env = {.mail_from = (char *)(uintptr_t) "s@x.ex",
				    .rcpt = r,
				    .helo = "c.example",
				    .peer = "127.0.0.1",
				    .tls = ""};
	char err[256];
	memset(r, 0, sizeof(r));
	while (to[env.n_rcpt] != NULL) {
		r[env.n_rcpt].addr = (char *)(uintptr_t)to[env.n_rcpt];
		env.n_rcpt++;
	}
	struct spool_msg *m = spool_begin(fx->svc.queue_dir, &env, time(NULL),
					  id, err, sizeof(err));
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(spool_write(m, body, strlen(body), err, sizeof(err)),
			 0);
	ck_assert_int_eq(spool_commit(&m, err, sizeof(err)), 0);
}

static unsigned queued_count(struct rfx *fx)
{
	char path[1200];
	unsigned n = 0;
	snprintf(path, sizeof(path), "%s/new", fx->svc.queue_dir);
	struct dirent *de;
	DIR *d = opendir(path);
	while (d != NULL && (de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	if (d != NULL)
		closedir(d);
	return n;
}

static uint32_t inbox(struct rfx *fx, const char *user)
{
	struct passwd_entry e = {0};
	struct store *st;
	struct store_status status;
	struct store_error err;
	snprintf(e.user, sizeof(e.user), "%s", user);
	ck_assert_int_eq(user_store_open(&fx->cfg, &e, &st, &err), 0);
	if (store_status(st, "INBOX", &status, &err) != 0)
		status.messages = 0;
	store_close(&st);
	return status.messages;
}

static bool queue_empty(struct rfx *fx)
{
	return queued_count(fx) == 0;
}

static bool drained_and_trusted(struct rfx *fx)
{
	return queue_empty(fx) && queue_records_trusted(fx->svc.queue_dir);
}

static bool one_left_idle(struct rfx *fx)
{
	size_t running;
	return queued_count(fx) == 1 &&
	       queue_runner_count(fx->svc.runner, &running) == 1 &&
	       running == 0 && inbox(fx, "alice") == 1;
}

START_TEST(startup_delivers_in_doubt)
{
	struct rfx fx;
	char id[5][SPOOL_ID_MAX], path[1200], body[64];
	static const char *const to[] = {"alice@example.test",
					 "bob@example.test", NULL};
	rfx_init(&fx);
	for (int i = 0; i < 5; i++) {
		snprintf(body, sizeof(body), "Subject: %d\r\n\r\nbody %d\r\n",
			 i, i);
		spool(&fx, to, body, id[i]);
	}
	/* message 2 reached alice before the "crash" */
	struct deliver_user alice = {.name = "alice"};
	struct deliver_result res;
	snprintf(path, sizeof(path), "%s/new/%s", fx.svc.queue_dir, id[2]);
	struct deliver_msg m = {.path = path,
				.offset = 0,
				.return_path = "s@x.ex",
				.rcpt = "alice@example.test"};
	struct queue_msg qm;
	char err[256];
	ck_assert_int_eq(queue_envelope_read(path, &qm, err, sizeof(err)), 0);
	m.offset = qm.offset;
	queue_msg_free(&qm);
	deliver_one(&fx.cfg, &alice, &m, DELIVER_FRESH, &res);
	ck_assert_int_eq(res.status, DELIVER_OK);
	/* no boot-id yet: as after a reboot, everything is looked for */
	ck_assert(!queue_records_trusted(fx.svc.queue_dir));
	queue_runner_start(fx.svc.runner);
	run_until(&fx, drained_and_trusted);
	ck_assert_uint_eq(inbox(&fx, "alice"), 5);
	ck_assert_uint_eq(inbox(&fx, "bob"), 5);
	ck_assert_uint_eq(queue_runner_count(fx.svc.runner, NULL), 0);
	rfx_done(&fx);
}
END_TEST

START_TEST(startup_trusts_records)
{
	/* boot-id current: only a recipient with a "try" and no outcome is
	 * looked for; alice got message 0 before the "crash" */
	struct rfx fx;
	char id[2][SPOOL_ID_MAX], path[1200], err[256], line[64];
	static const char *const to[] = {"alice@example.test", NULL};
	rfx_init(&fx);
	ck_assert_int_eq(
		queue_records_trust(fx.svc.queue_dir, err, sizeof(err)), 0);
	for (int i = 0; i < 2; i++)
		spool(&fx, to,
		      i ? "Subject: 1\r\n\r\none\r\n"
			: "Subject: 0\r\n\r\nzero\r\n",
		      id[i]);
	snprintf(path, sizeof(path), "%s/new/%s", fx.svc.queue_dir, id[0]);
	struct queue_msg qm;
	ck_assert_int_eq(queue_envelope_read(path, &qm, err, sizeof(err)), 0);
	struct deliver_msg m = {.path = path,
				.offset = qm.offset,
				.return_path = "s@x.ex",
				.rcpt = "alice@example.test"};
	queue_msg_free(&qm);
	struct deliver_user alice = {.name = "alice"};
	struct deliver_result res;
	deliver_one(&fx.cfg, &alice, &m, DELIVER_FRESH, &res);
	size_t n = queue_state_try(line, sizeof(line), 0, time(NULL));
	ck_assert_int_eq(queue_state_append(fx.svc.queue_dir, id[0], line, n,
					    false, err, sizeof(err)),
			 0);
	queue_runner_start(fx.svc.runner);
	run_until(&fx, queue_empty);
	ck_assert_uint_eq(inbox(&fx, "alice"), 2);
	rfx_done(&fx);
}
END_TEST

START_TEST(kick_remote_parked)
{
	struct rfx fx;
	char id[SPOOL_ID_MAX];
	static const char *const to[] = {"alice@example.test",
					 "far@elsewhere.example", NULL};
	rfx_init(&fx);
	queue_runner_start(fx.svc.runner);
	spool(&fx, to, "Subject: k\r\n\r\nkicked\r\n", id);
	queue_runner_kick(fx.svc.runner, id);
	queue_runner_kick(fx.svc.runner, id); /* twice: one entry */
	run_until(&fx, one_left_idle);
	/* a rescan later finds nothing new: still one, parked */
	ck_assert_uint_eq(queue_runner_count(fx.svc.runner, NULL), 1);
	rfx_done(&fx);
}
END_TEST

static bool bob_has_one(struct rfx *fx)
{
	return queue_empty(fx) && inbox(fx, "bob") == 1;
}

START_TEST(temporary_failure_retried)
{
	struct rfx fx;
	char id[SPOOL_ID_MAX], bob[1200];
	static const char *const to[] = {"bob@example.test", NULL};
	rfx_init(&fx);
	/* bob's mail root is a file for now: his deliveries fail */
	snprintf(bob, sizeof(bob), "%s/bob", fx.cfg.mail_root);
	FILE *f = fopen(bob, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	queue_runner_start(fx.svc.runner);
	spool(&fx, to, "Subject: r\r\n\r\nretried\r\n", id);
	queue_runner_kick(fx.svc.runner, id);
	/* wait until the failure is recorded, then mend it */
	char state[1200];
	snprintf(state, sizeof(state), "%s/state/%s", fx.svc.queue_dir, id);
	while (access(state, F_OK) != 0)
		event_base_loop(fx.base, EVLOOP_ONCE);
	ck_assert_int_eq(unlink(bob), 0);
	run_until(&fx, bob_has_one);
	rfx_done(&fx);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("queue_runner");
	TCase *tc = tcase_create("runner");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, startup_delivers_in_doubt);
	tcase_add_test(tc, startup_trusts_records);
	tcase_add_test(tc, kick_remote_parked);
	tcase_add_test(tc, temporary_failure_retried);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
