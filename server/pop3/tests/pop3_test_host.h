/*
 * pop3_test_host.h - a synchronous host for the POP3 engine tests: a
 * passwd-file in memory, a maildrop of in-memory messages, and every
 * request answered at once (the real host, server/pop3_host.c, does the
 * same work on its thread pool). Included by the test files only.
 */
#ifndef QUILL_POP3_TEST_HOST_H
#define QUILL_POP3_TEST_HOST_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "log.h"
#include "passwd.h"
#include "pop3/pop3_internal.h"
#include "sasl_server.h"

#define TH_MAX_MSGS 64

struct th_msg {
	uint32_t uid;
	const char *data;
};

struct test_host {
	struct passwd_db *users;
	struct th_msg msgs[TH_MAX_MSGS];
	uint32_t n_msgs, uidvalidity;
	enum pop3_status maildrop_status; /* what MAILDROP answers */
	enum pop3_status read_status;	  /* what READ answers */
	uint64_t fail_read_at;		  /* READ fails from this offset */
	size_t chunk;			  /* READ gives this many bytes */
	unsigned delays, reads, mores;
	uint32_t removed[TH_MAX_MSGS];
	size_t n_removed;
	uint32_t seen[TH_MAX_MSGS]; /* UPDATE: \Seen to set */
	size_t n_seen;
	bool updated;
};

/* alice/wonderland in {PLAIN}, bob/builder in {SCRAM-SHA-256} with two
 * iterations (the settings of the tests allow that few). */
static inline void th_init(struct test_host *h)
{
	static const char users[] = "alice:{PLAIN}wonderland\n"
				    "carol:{SHA512-CRYPT}$6$x$abc\n";
	char line[PASSWD_HASH_SIZE + 16], hash[PASSWD_HASH_SIZE];
	char file[sizeof(users) + sizeof(line)];
	memset(h, 0, sizeof(*h));
	ck_assert_int_eq(passwd_hash_scram("builder", 2, hash, sizeof(hash)),
			 0);
	snprintf(line, sizeof(line), "bob:%s\n", hash);
	snprintf(file, sizeof(file), "%s%s", users, line);
	h->users = passwd_db_load_buffer("test", file, strlen(file), NULL);
	ck_assert_ptr_nonnull(h->users);
	h->uidvalidity = 1700000000u;
	h->chunk = 7;
	h->fail_read_at = UINT64_MAX;
}

static inline void th_free(struct test_host *h)
{
	passwd_db_free(&h->users);
}

static inline void th_add(struct test_host *h, uint32_t uid, const char *data)
{
	ck_assert_uint_lt(h->n_msgs, TH_MAX_MSGS);
	h->msgs[h->n_msgs++] = (struct th_msg){uid, data};
}

static const struct passwd_options th_opt = {.allow_plain = true};

static inline enum pop3_status th_pass(struct test_host *h,
				       struct pop3_session *s)
{
	size_t len;
	const char *pw = pop3_session_password(s, &len);
	const struct passwd_entry *e =
		passwd_db_lookup(h->users, pop3_session_user(s));
	return passwd_verify_entry(e, pw, len, &th_opt) == PASSWD_OK
		       ? POP3_ANSWER_OK
		       : POP3_ANSWER_AUTH_FAILED;
}

/* MD5(timestamp + secret) in lower-case hex (RFC 1939 section 7). */
static inline void th_apop_digest(const char *ts, const char *secret,
				  char out[33])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	char in[600];
	snprintf(in, sizeof(in), "%s%s", ts, secret);
	ck_assert_int_eq(EVP_Digest(in, strlen(in), md, &n, EVP_md5(), NULL),
			 1);
	for (unsigned i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static inline enum pop3_status th_apop(struct test_host *h,
				       struct pop3_session *s)
{
	const struct passwd_entry *e =
		passwd_db_lookup(h->users, pop3_session_user(s));
	char want[33];
	if (e == NULL || strcmp(e->scheme, "PLAIN") != 0)
		return POP3_ANSWER_AUTH_FAILED;
	th_apop_digest(pop3_session_apop_timestamp(s), e->hash, want);
	return strcmp(want, pop3_session_apop_digest(s)) == 0
		       ? POP3_ANSWER_OK
		       : POP3_ANSWER_AUTH_FAILED;
}

static inline struct pop3_listing *th_listing(struct test_host *h)
{
	struct pop3_listing *l = pop3_listing_new(h->uidvalidity, h->n_msgs);
	ck_assert_ptr_nonnull(l);
	for (uint32_t i = 0; i < h->n_msgs; i++) {
		l->msgs[i].uid = h->msgs[i].uid;
		l->msgs[i].size = pop3_stream_size(h->msgs[i].data,
						   strlen(h->msgs[i].data));
	}
	return l;
}

static inline const struct th_msg *th_find(struct test_host *h, uint32_t uid)
{
	for (uint32_t i = 0; i < h->n_msgs; i++)
		if (h->msgs[i].uid == uid)
			return &h->msgs[i];
	return NULL;
}

static inline void th_read(struct test_host *h, struct pop3_session *s,
			   struct pop3_answer *a)
{
	const struct th_msg *m = th_find(h, pop3_session_read_uid(s));
	uint64_t off = pop3_session_read_offset(s);
	h->reads++;
	if (m == NULL) {
		a->status = POP3_ANSWER_GONE;
		return;
	}
	if (off >= h->fail_read_at) {
		a->status = h->read_status;
		return;
	}
	size_t len = strlen(m->data);
	a->data = m->data + (off < len ? off : len);
	a->len = off < len ? len - off : 0;
	if (a->len > h->chunk)
		a->len = h->chunk;
}

/* Answer requests until the engine waits for input or wants TLS/close. */
static inline void th_serve(struct test_host *h, struct pop3_session *s)
{
	for (int guard = 0; guard < 100000; guard++) {
		struct pop3_answer a = {.status = POP3_ANSWER_OK};
		const struct passwd_entry *e;
		size_t n;
		const uint32_t *uids;
		switch (pop3_session_request(s)) {
		case POP3_REQ_PASS:
			a.status = th_pass(h, s);
			break;
		case POP3_REQ_APOP:
			a.status = th_apop(h, s);
			break;
		case POP3_REQ_SASL_CREDENTIALS:
			e = passwd_db_lookup(
				h->users,
				sasl_server_user(pop3_session_sasl(s)));
			ck_assert_int_eq(
				sasl_server_set_credentials(
					pop3_session_sasl(s), e, &th_opt),
				0);
			break;
		case POP3_REQ_AUTH_DELAY:
			h->delays++;
			break;
		case POP3_REQ_MORE:
			h->mores++;
			break;
		case POP3_REQ_MAILDROP:
			a.status = h->maildrop_status;
			if (a.status == POP3_ANSWER_OK)
				a.listing = th_listing(h);
			break;
		case POP3_REQ_READ:
			th_read(h, s, &a);
			break;
		case POP3_REQ_UPDATE:
			uids = pop3_session_deleted_uids(s, &n);
			if (n > 0)
				memcpy(h->removed, uids, n * sizeof(*uids));
			h->n_removed = n;
			uids = pop3_session_seen_uids(s, &n);
			if (n > 0)
				memcpy(h->seen, uids, n * sizeof(*uids));
			h->n_seen = n;
			h->updated = true;
			break;
		default:
			return;
		}
		pop3_session_resume(s, &a);
	}
	ck_abort_msg("the engine never stopped asking");
}

/* Take all output as a NUL-terminated string (caller frees). */
static inline char *th_output(struct pop3_session *s)
{
	struct buf *o = pop3_session_output(s);
	char *r = malloc(buf_len(o) + 1);
	ck_assert_ptr_nonnull(r);
	memcpy(r, buf_data(o), buf_len(o));
	r[buf_len(o)] = '\0';
	buf_consume(o, buf_len(o));
	return r;
}

/* Feed input (in pieces of step bytes), serving requests; returns the
 * output. */
static inline char *th_feed_steps(struct test_host *h, struct pop3_session *s,
				  const char *in, size_t step)
{
	size_t len = strlen(in);
	for (size_t off = 0; off < len;) {
		size_t n = len - off < step ? len - off : step;
		size_t took = pop3_session_feed(s, in + off, n);
		off += took;
		th_serve(h, s);
		enum pop3_request r = pop3_session_request(s);
		if (r == POP3_REQ_CLOSE || r == POP3_REQ_STARTTLS)
			break;
	}
	return th_output(s);
}

static inline char *th_feed(struct test_host *h, struct pop3_session *s,
			    const char *in)
{
	return th_feed_steps(h, s, in, strlen(in) + 1);
}

#define ck_feed(h, s, in, expected)                   \
	do {                                          \
		char *got_ = th_feed((h), (s), (in)); \
		ck_assert_str_eq(got_, (expected));   \
		free(got_);                           \
	} while (0)

static inline struct pop3_settings th_settings(void)
{
	struct pop3_settings st;
	pop3_settings_defaults(&st);
	st.hostname = "pop.example.test";
	st.stls_offered = true;
	st.cleartext_ok = true;
	st.scram_iterations = 2;
	return st;
}

/* A started session whose greeting is dropped. */
static inline struct pop3_session *th_session(const struct pop3_settings *st)
{
	struct pop3_session *s = pop3_session_new(st, "192.0.2.7", "t1");
	ck_assert_ptr_nonnull(s);
	pop3_session_start(s);
	free(th_output(s));
	return s;
}

static inline struct pop3_session *th_login(struct test_host *h,
					    const struct pop3_settings *st)
{
	struct pop3_session *s = th_session(st);
	char *out = th_feed(h, s, "USER alice\r\nPASS wonderland\r\n");
	ck_assert_msg(strstr(out, "+OK Maildrop locked") != NULL, "%s", out);
	free(out);
	return s;
}

#endif
