/*
 * auth_job.c - credentials for a SASL exchange on the pool (auth_job.h).
 *
 * The loop thread copies the user's entry (name, scheme, hash: all that
 * sasl_server_set_credentials() reads), a worker applies it, and the loop
 * thread gets the exchange back, or frees it if the caller cancelled.
 * Cancel and done both run on the loop thread, so no lock is needed.
 */
#include "auth_job.h"

#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"

struct auth_job {
	struct sasl_server *sasl;
	struct passwd_options opt;
	struct passwd_entry entry; /* the copy; hash on the heap */
	bool have_entry;
	bool cancelled;
	int rc;
	auth_job_done_fn *done;
	void *arg;
};

static void job_free(struct auth_job *j)
{
	if (j->entry.hash != NULL) {
		OPENSSL_cleanse(j->entry.hash, strlen(j->entry.hash));
		free(j->entry.hash);
	}
	OPENSSL_cleanse(j, sizeof(*j));
	free(j);
}

static void job_work(void *arg)
{
	struct auth_job *j = arg;
	j->rc = sasl_server_set_credentials(
		j->sasl, j->have_entry ? &j->entry : NULL, &j->opt);
}

static void job_done(void *arg)
{
	struct auth_job *j = arg;
	if (j->cancelled)
		sasl_server_free(&j->sasl);
	else
		j->done(j->arg, j->sasl, j->rc);
	job_free(j);
}

/* Copy what the mechanisms read of e: user, scheme, hash. */
static int copy_entry(struct auth_job *j, const struct passwd_entry *e)
{
	memcpy(j->entry.user, e->user, sizeof(j->entry.user));
	memcpy(j->entry.scheme, e->scheme, sizeof(j->entry.scheme));
	j->entry.uid = e->uid;
	j->entry.gid = e->gid;
	j->entry.line = e->line;
	j->entry.hash = strdup(e->hash != NULL ? e->hash : "");
	j->have_entry = true;
	return j->entry.hash != NULL ? 0 : -1;
}

struct auth_job *auth_job_start(struct pool *pool,
				const struct passwd_db *users,
				const struct passwd_options *opt,
				struct sasl_server *sasl,
				auth_job_done_fn *done, void *arg)
{
	const char *user = sasl_server_user(sasl);
	const struct passwd_entry *e = NULL;
	struct auth_job *j = calloc(1, sizeof(*j));
	if (j == NULL)
		return NULL;
	if (users != NULL && user != NULL)
		e = passwd_db_lookup(users, user);
	if (e != NULL && copy_entry(j, e) != 0) {
		job_free(j);
		return NULL;
	}
	if (opt != NULL)
		j->opt = *opt;
	j->sasl = sasl;
	j->done = done;
	j->arg = arg;
	if (pool_submit(pool, job_work, job_done, j) != 0) {
		job_free(j);
		return NULL;
	}
	return j;
}

void auth_job_cancel(struct auth_job **jp)
{
	if (*jp != NULL)
		(*jp)->cancelled = true;
	*jp = NULL;
}
