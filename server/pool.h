/*
 * pool.h - a small thread pool for work that may block (fsync, directory
 * scans, password hashing), whose results come back to the event loop.
 *
 * DESIGN.md "Process model": the event loop never blocks. A job's work()
 * runs on a worker thread and must touch nothing the loop owns; its done()
 * then runs on the loop thread, where it may resume an engine.
 */
#ifndef QUILL_SERVER_POOL_H
#define QUILL_SERVER_POOL_H

#include <stddef.h>

struct event_base;
struct pool;

struct pool *pool_new(struct event_base *base, unsigned threads, char *err,
		      size_t errlen);
/* Queue a job. Returns 0, or -1 (ENOMEM, or the pool is stopping). */
int pool_submit(struct pool *p, void (*work)(void *arg),
		void (*done)(void *arg), void *arg);
/* Jobs submitted and not yet done (queued, running or finished but not
 * yet reported to the loop). */
size_t pool_pending(struct pool *p);
/* Finish every queued job (their done() run here, on the caller's
 * thread), stop the workers and free the pool. */
void pool_free(struct pool **p);

#endif
