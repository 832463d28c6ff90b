/*
 * auth_job.h - a SASL exchange's credentials, looked up and checked on the
 * thread pool, for every protocol engine's login (SMTP AUTH now; POP3 AUTH
 * and IMAP AUTHENTICATE reuse it).
 *
 * When sasl_server_step() says SASL_NEED_CREDENTIALS (lib/sasl_server.h),
 * the engine hands its exchange to the host, which starts a job:
 *
 *	j = auth_job_start(pool, users, &opt, sasl, done, arg);
 *	...  done(arg, sasl, rc) on the loop thread: the exchange comes back
 *	     with its credentials set (rc 0) or not (rc -1); step it again
 *	auth_job_cancel(&j);	the session went away first: done() is never
 *				called and the job frees the exchange
 *
 * The passwd-file entry is looked up and copied on the calling (loop)
 * thread, so a reload that replaces users meanwhile does no harm; the slow
 * part, sasl_server_set_credentials() (crypt, PBKDF2), runs on a worker.
 * The copy of the stored hash is wiped when the job ends.
 */
#ifndef QUILL_SERVER_AUTH_JOB_H
#define QUILL_SERVER_AUTH_JOB_H

#include "passwd.h"
#include "sasl_server.h"

struct pool;
struct auth_job;

/* The job finished: sasl is the caller's again. */
typedef void auth_job_done_fn(void *arg, struct sasl_server *sasl, int rc);

/* Start a job for sasl (which must be at SASL_NEED_CREDENTIALS); users
 * may be NULL (then nobody exists, and the mechanism does the same work
 * as for an unknown user). The job owns sasl until done() runs. NULL if
 * the job cannot start (out of memory, the pool is stopping): sasl is
 * still the caller's then. */
struct auth_job *auth_job_start(struct pool *pool,
				const struct passwd_db *users,
				const struct passwd_options *opt,
				struct sasl_server *sasl,
				auth_job_done_fn *done, void *arg);

/* The caller is going away: done() will not be called; the exchange is
 * freed when the work is over. *j becomes NULL. Loop thread only. */
void auth_job_cancel(struct auth_job **j);

#endif
