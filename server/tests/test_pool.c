/*
 * test_pool.c - the thread pool: every job's work runs on a worker, its
 * done() on the loop thread, and nothing is lost when the pool is freed
 * with jobs still queued.
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>

#include "pool.h"

static atomic_int worked;
static int done_count;
static pthread_t loop_thread;
static int done_on_worker;

static void work(void *arg)
{
	(void)arg;
	if (pthread_equal(pthread_self(), loop_thread))
		abort(); /* work must never run on the loop */
	usleep(100);
	atomic_fetch_add(&worked, 1);
}

static void done(void *arg)
{
	(void)arg;
	if (!pthread_equal(pthread_self(), loop_thread))
		done_on_worker++;
	done_count++;
}

START_TEST(jobs_complete_on_loop)
{
	char err[128];
	struct event_base *base = event_base_new();
	loop_thread = pthread_self();
	worked = 0;
	done_count = done_on_worker = 0;
	struct pool *p = pool_new(base, 2, err, sizeof(err));
	ck_assert_ptr_nonnull(p);
	for (int i = 0; i < 200; i++)
		ck_assert_int_eq(pool_submit(p, work, done, NULL), 0);
	for (int spins = 0; done_count < 200 && spins < 100000; spins++)
		event_base_loop(base, EVLOOP_ONCE);
	ck_assert_int_eq(done_count, 200);
	ck_assert_int_eq(atomic_load(&worked), 200);
	ck_assert_int_eq(done_on_worker, 0);
	ck_assert_uint_eq(pool_pending(p), 0);
	pool_free(&p);
	ck_assert_ptr_null(p);
	event_base_free(base);
}
END_TEST

START_TEST(free_finishes_queue)
{
	char err[128];
	struct event_base *base = event_base_new();
	loop_thread = pthread_self();
	worked = 0;
	done_count = done_on_worker = 0;
	struct pool *p = pool_new(base, 1, err, sizeof(err));
	for (int i = 0; i < 50; i++)
		ck_assert_int_eq(pool_submit(p, work, done, NULL), 0);
	pool_free(&p); /* no loop ran: done() runs here, on this thread */
	ck_assert_int_eq(atomic_load(&worked), 50);
	ck_assert_int_eq(done_count, 50);
	ck_assert_int_eq(done_on_worker, 0);
	ck_assert_ptr_null(pool_new(base, 0, err, sizeof(err)));
	event_base_free(base);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pool");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, jobs_complete_on_loop);
	tcase_add_test(tc, free_finishes_queue);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
