/*
 * queue_fixture.h - what the queue tests share: a scratch state
 * directory with a passwd-file and a queue (Maildir or mbox store by
 * loop index), spooling a message, running a job as the runner does
 * (load, user lookups, run), and reading back mailboxes and the queue.
 */
#ifndef QUILL_TEST_QUEUE_FIXTURE_H
#define QUILL_TEST_QUEUE_FIXTURE_H

#include <check.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "passwd.h"
#include "queue/queue_job.h"
#include "queue/spool.h"
#include "smtp/smtp_session.h"
#include "user_store.h"

struct qfx {
	char dir[512];
	char queue[600];
	struct quilld_config cfg;
	struct passwd_db *users;
	time_t now;
};

static inline int qfx_rm_entry(const char *path, const struct stat *sb,
			       int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static inline void qfx_init(struct qfx *fx, int kind, const char *passwd)
{
	const char *tmp = getenv("TMPDIR");
	char err[512];
	struct passwd_error perr;
	memset(fx, 0, sizeof(*fx));
	snprintf(fx->dir, sizeof(fx->dir), "%s/quill-qjob-XXXXXX",
		 tmp != NULL && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(fx->dir));
	config_defaults(&fx->cfg, fx->dir);
	fx->cfg.store_kind =
		kind == 0 ? CONFIG_STORE_MAILDIR : CONFIG_STORE_MBOX;
	ck_assert_int_eq(mkdir(fx->cfg.mail_root, 0700), 0);
	snprintf(fx->queue, sizeof(fx->queue), "%s/queue", fx->dir);
	ck_assert_int_eq(spool_init(fx->queue, err, sizeof(err)), 0);
	if (passwd == NULL)
		passwd = "alice:{PLAIN}x\nbob:{PLAIN}y\n";
	fx->users =
		passwd_db_load_buffer("test", passwd, strlen(passwd), &perr);
	ck_assert_ptr_nonnull(fx->users);
	fx->now = 1800000000;
}

static inline void qfx_done(struct qfx *fx)
{
	passwd_db_free(&fx->users);
	nftw(fx->dir, qfx_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Spool a message for the recipients (NULL-terminated), each with the
 * NOTIFY bits notify (0: none given); its id to id. */
static inline void qfx_spool(struct qfx *fx, const char *from,
			     const char *const *to, unsigned notify,
			     const char *body, char *id)
{
	struct smtp_rcpt r[8];
	struct smtp_envelope env = {.mail_from = (char *)(uintptr_t)from,
				    .rcpt = r,
				    .helo = "c.example",
				    .peer = "127.0.0.1",
				    .tls = ""};
	char err[512];
	memset(r, 0, sizeof(r));
	while (to[env.n_rcpt] != NULL) {
		r[env.n_rcpt].addr = (char *)(uintptr_t)to[env.n_rcpt];
		r[env.n_rcpt].notify = notify;
		env.n_rcpt++;
	}
	struct spool_msg *m =
		spool_begin(fx->queue, &env, fx->now, id, err, sizeof(err));
	ck_assert_msg(m != NULL, "%s", err);
	ck_assert_int_eq(spool_write(m, body, strlen(body), err, sizeof(err)),
			 0);
	ck_assert_int_eq(spool_commit(&m, err, sizeof(err)), 0);
}

/* One job as the runner does it: load, users, run. */
static inline void run_job(struct qfx *fx, const char *id, bool check_all,
			   const struct queue_job_hooks *hooks,
			   struct queue_job *j)
{
	queue_job_init(j, fx->queue, id, &fx->cfg, check_all, fx->now);
	j->hooks = hooks;
	queue_job_load(j);
	ck_assert_msg(j->load != QJ_BAD, "%s", j->err); /* GONE: removed */
	for (size_t k = 0; k < j->n_t; k++)
		if (j->t[k].local && !j->t[k].dup && j->t[k].lookup[0])
			queue_job_set_user(
				j, k,
				passwd_db_lookup(fx->users, j->t[k].lookup));
	queue_job_run(j);
}

static inline void run_once(struct qfx *fx, const char *id, bool check_all)
{
	struct queue_job j;
	run_job(fx, id, check_all, NULL, &j);
	queue_job_free(&j);
}

/* Messages in user's INBOX; with marker, only those holding it. */
static inline unsigned inbox_count(struct qfx *fx, const char *user,
				   const char *marker)
{
	struct passwd_entry e = {0};
	struct store *st;
	struct store_mailbox *mb;
	struct store_error err;
	unsigned n = 0;
	snprintf(e.user, sizeof(e.user), "%s", user);
	ck_assert_int_eq(user_store_open(&fx->cfg, &e, &st, &err), 0);
	if (store_mailbox_open(st, "INBOX", STORE_OPEN_READONLY, &mb, &err) !=
	    0) {
		store_close(&st);
		return 0;
	}
	for (uint32_t seq = 1; seq <= store_count(mb); seq++) {
		struct store_msg_info info;
		struct store_msg *m;
		char buf[4096];
		size_t got;
		ck_assert_int_eq(store_msg_info(mb, seq, &info, &err), 0);
		ck_assert_int_eq(store_msg_open(mb, info.uid, &m, &err), 0);
		ck_assert_int_eq(
			store_msg_read(m, 0, buf, sizeof(buf) - 1, &got, &err),
			0);
		buf[got] = '\0';
		store_msg_close(&m);
		if (marker == NULL || strstr(buf, marker) != NULL)
			n++;
	}
	store_mailbox_close(&mb);
	store_close(&st);
	return n;
}

static inline bool queued(struct qfx *fx, const char *id)
{
	char path[800];
	snprintf(path, sizeof(path), "%s/new/%s", fx->queue, id);
	return access(path, F_OK) == 0;
}

static inline void state_of(struct qfx *fx, const char *id, struct queue_msg *m)
{
	char err[512];
	ck_assert_msg(queue_msg_read(fx->queue, id, m, err, sizeof(err)) == 0,
		      "%s", err);
}

#endif
