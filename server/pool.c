/*
 * pool.c - worker threads and completions (see pool.h).
 *
 * Jobs wait in a FIFO under one mutex; workers take them, run work(), and
 * put them on a done list, then write to an eventfd the loop watches. The
 * loop drains the done list and calls done() in completion order.
 */
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>

#define POOL_MAX_THREADS 64

struct job {
	void (*work)(void *);
	void (*done)(void *);
	void *arg;
	struct job *next;
};

struct job_list {
	struct job *head, *tail;
};

struct pool {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct job_list queued, finished;
	size_t pending;
	bool stopping;
	int efd;
	struct event *ev;
	pthread_t threads[POOL_MAX_THREADS];
	unsigned n_threads;
};

static void list_push(struct job_list *l, struct job *j)
{
	j->next = NULL;
	if (l->tail != NULL)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
}

static struct job *list_pop(struct job_list *l)
{
	struct job *j = l->head;
	if (j != NULL) {
		l->head = j->next;
		if (l->head == NULL)
			l->tail = NULL;
	}
	return j;
}

static void *worker(void *arg)
{
	struct pool *p = arg;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct job *j = list_pop(&p->queued);
		if (j == NULL) {
			if (p->stopping)
				break;
			pthread_cond_wait(&p->wake, &p->lock);
			continue;
		}
		pthread_mutex_unlock(&p->lock);
		j->work(j->arg);
		pthread_mutex_lock(&p->lock);
		list_push(&p->finished, j);
		uint64_t one = 1;
		if (write(p->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			perror("pool: eventfd write");
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Call done() for every finished job, outside the lock. */
static void pool_drain(struct pool *p)
{
	struct job_list done;
	pthread_mutex_lock(&p->lock);
	done = p->finished;
	p->finished.head = p->finished.tail = NULL;
	pthread_mutex_unlock(&p->lock);
	struct job *j;
	while ((j = list_pop(&done)) != NULL) {
		pthread_mutex_lock(&p->lock);
		p->pending--;
		pthread_mutex_unlock(&p->lock);
		if (j->done != NULL)
			j->done(j->arg);
		free(j);
	}
}

static void pool_event(evutil_socket_t fd, short what, void *arg)
{
	uint64_t n;
	(void)what;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		perror("pool: eventfd read");
	pool_drain(arg);
}

struct pool *pool_new(struct event_base *base, unsigned threads, char *err,
		      size_t errlen)
{
	struct pool *p = calloc(1, sizeof(*p));
	if (p == NULL || threads == 0 || threads > POOL_MAX_THREADS) {
		snprintf(err, errlen, "pool: %s",
			 p == NULL ? "out of memory" : "1 to 64 threads");
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->efd < 0 ||
	    (p->ev = event_new(base, p->efd, EV_READ | EV_PERSIST, pool_event,
			       p)) == NULL ||
	    event_add(p->ev, NULL) != 0) {
		snprintf(err, errlen, "pool: %s", strerror(errno));
		pool_free(&p);
		return NULL;
	}
	for (unsigned i = 0; i < threads; i++) {
		int rc = pthread_create(&p->threads[i], NULL, worker, p);
		if (rc != 0) {
			snprintf(err, errlen, "pool: %s", strerror(rc));
			pool_free(&p);
			return NULL;
		}
		p->n_threads++;
	}
	return p;
}

int pool_submit(struct pool *p, void (*work)(void *), void (*done)(void *),
		void *arg)
{
	struct job *j = malloc(sizeof(*j));
	if (j == NULL)
		return -1;
	j->work = work;
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&p->lock);
	if (p->stopping) {
		pthread_mutex_unlock(&p->lock);
		free(j);
		errno = ESHUTDOWN;
		return -1;
	}
	list_push(&p->queued, j);
	p->pending++;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

size_t pool_pending(struct pool *p)
{
	pthread_mutex_lock(&p->lock);
	size_t n = p->pending;
	pthread_mutex_unlock(&p->lock);
	return n;
}

void pool_free(struct pool **pp)
{
	struct pool *p = *pp;
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true; /* workers finish the queue, then exit */
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->n_threads; i++)
		pthread_join(p->threads[i], NULL);
	pool_drain(p);
	if (p->ev != NULL)
		event_free(p->ev);
	if (p->efd >= 0)
		close(p->efd);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p);
	*pp = NULL;
}
