/*
 * fuzz_sasl_server.c - libFuzzer target for lib/sasl_server.c: PLAIN,
 * LOGIN and SCRAM-SHA-256 (RFC 4616, RFC 5802 / 7677) fed client messages
 * taken from the input, with credentials from a passwd db made once.
 *
 * Byte 0: bits 0-1 the mode (PLAIN, LOGIN, SCRAM-SHA-256, or
 * SCRAM-SHA-256 driven by the real client of sasl_client.c), bit 2
 * plaintext mechanisms allowed, bit 3 the first message is an initial
 * response, bit 4 unknown users are checked for PLAIN and LOGIN (a dummy
 * crypt, slow on purpose; otherwise the exchange is freed right there,
 * which checks that an abandoned exchange leaks nothing), bit 5 a small
 * max_message, bit 6 cancel at the end. The rest is client messages,
 * each a 2-byte big-endian length and its bytes (a short last one takes
 * what is left).
 *
 * The db: "scram" with {SCRAM-SHA-256} keys of "pencil" at 2 iterations
 * (passwd_hash_scram(); accepted because the settings' scram_iterations
 * says so, as only fuzzers and tests do), "hashed" made by passwd_hash()
 * (4096), "plain" with {PLAIN}secret.
 * In the client mode the first message is "user NUL password" and the
 * second is XORed onto the client-final-message: a success must mean
 * the right password and an unchanged message, and the client must then
 * accept the server's verifier.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "passwd.h"
#include "sasl_client.h"
#include "sasl_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, \
				#cond);                                    \
			abort();                                           \
		}                                                          \
	} while (0)

#define OUT_MAX 4096

static const struct passwd_options opt = {.allow_plain = true};

static struct passwd_db *make_db(void)
{
	char low[PASSWD_HASH_SIZE], hashed[PASSWD_HASH_SIZE], text[1024];
	struct passwd_error err;
	struct passwd_db *db;
	int n;

	CHECK(passwd_hash_scram("pencil", 2, low, sizeof(low)) == 0);
	CHECK(passwd_hash("SCRAM-SHA-256", "pencil", hashed, sizeof(hashed)) ==
	      0);
	n = snprintf(text, sizeof(text),
		     "scram:%s\nhashed:%s\nplain:{PLAIN}secret\n", low, hashed);
	CHECK(n > 0 && (size_t)n < sizeof(text));
	db = passwd_db_load_buffer("fuzz", text, (size_t)n, &err);
	CHECK(db != NULL);
	return db;
}

static const struct passwd_db *the_db(void)
{
	static struct passwd_db *db;

	if (db == NULL)
		db = make_db();
	return db;
}

/* The input after byte 0, as length-prefixed messages. */
struct messages {
	const uint8_t *p, *end;
};

static bool next_message(struct messages *m, const uint8_t **msg, size_t *len)
{
	size_t want;

	if (m->end - m->p < 2)
		return false;
	want = (size_t)m->p[0] << 8 | m->p[1];
	m->p += 2;
	*len = want < (size_t)(m->end - m->p) ? want : (size_t)(m->end - m->p);
	*msg = m->p;
	m->p += *len;
	return true;
}

/* Answers SASL_NEED_CREDENTIALS; false if the exchange is dropped. */
static bool give_credentials(struct sasl_server *s, uint8_t flags, bool scram)
{
	const char *user = sasl_server_user(s);
	const struct passwd_entry *e;

	CHECK(user != NULL && user[0] != '\0');
	e = passwd_db_lookup(the_db(), user);
	if (e == NULL && !scram && !(flags & 0x10))
		return false;
	CHECK(sasl_server_set_credentials(s, e, &opt) == 0);
	return true;
}

/* One step, credentials included; -1 if the exchange was dropped. */
static int step(struct sasl_server *s, const uint8_t *msg, size_t len, bool ir,
		uint8_t flags, struct buf *out)
{
	enum sasl_step st = sasl_server_step(s, msg, len, ir, out);
	bool scram = (flags & 3) >= 2;

	if (st == SASL_NEED_CREDENTIALS) {
		if (!give_credentials(s, flags, scram))
			return -1;
		st = sasl_server_step(s, NULL, 0, false, out);
	}
	CHECK(buf_len(out) <= OUT_MAX);
	CHECK(st == SASL_CONTINUE || st == SASL_SUCCESS || st == SASL_FAIL);
	if (st == SASL_FAIL)
		CHECK(sasl_server_fail_reason(s) != SASL_FAIL_NONE &&
		      buf_len(out) == 0);
	if (st == SASL_SUCCESS)
		CHECK(passwd_db_lookup(the_db(), sasl_server_user(s)) != NULL);
	return (int)st;
}

/* Cancels if asked; once the exchange is over, every step fails. */
static void finish(struct sasl_server *s, int r, uint8_t flags, struct buf *out)
{
	if (r == SASL_CONTINUE && (flags & 0x40)) {
		CHECK(sasl_server_cancel(s) == SASL_CANCELLED);
		r = SASL_CANCELLED;
	}
	if (r == SASL_CONTINUE)
		return;
	CHECK(sasl_server_step(s, "x", 1, false, out) == SASL_FAIL);
	CHECK(sasl_server_fail_reason(s) == SASL_FAIL_INTERNAL);
}

static void run_messages(const char *mech,
			 const struct sasl_server_settings *st, uint8_t flags,
			 struct messages *m)
{
	struct sasl_server *s = sasl_server_new(mech, st);
	const uint8_t *msg = NULL;
	size_t len = 0;
	struct buf out;
	int r = SASL_CONTINUE;
	bool first = true;

	CHECK(s != NULL);
	buf_init(&out, OUT_MAX);
	if (!(flags & 0x08))
		r = step(s, NULL, 0, false, flags, &out);
	while (r == SASL_CONTINUE && next_message(m, &msg, &len)) {
		r = step(s, msg, len, first && (flags & 0x08), flags, &out);
		first = false;
	}
	if (r >= 0)
		finish(s, r, flags, &out);
	buf_free(&out);
	sasl_server_free(&s);
	CHECK(s == NULL);
}

/* The real client; its client-final XORed with the second message. */
static int client_exchange(struct sasl_server *s, struct sasl_scram_client *c,
			   struct messages *m, uint8_t flags, struct buf *out,
			   bool *changed)
{
	const uint8_t *x = NULL;
	size_t xlen = 0;
	struct buf msg;
	int r;

	buf_init(&msg, 4 * 65536); /* a user name escaped, "=3D" for '=' */
	CHECK(sasl_scram_client_first(c, &msg) == 0);
	r = step(s, buf_data(&msg), buf_len(&msg), true, flags, out);
	if (r != SASL_CONTINUE) { /* a user name too long for the server */
		CHECK(r == SASL_FAIL &&
		      sasl_server_fail_reason(s) == SASL_FAIL_TOO_LONG);
		buf_free(&msg);
		return r;
	}
	CHECK(sasl_scram_client_final(c, buf_data(out), buf_len(out), &msg) ==
	      0);
	if (next_message(m, &x, &xlen))
		for (size_t i = 0; i < xlen && i < buf_len(&msg); i++) {
			msg.data[msg.off + i] ^= x[i];
			*changed |= x[i] != 0;
		}
	r = step(s, buf_data(&msg), buf_len(&msg), false, flags, out);
	buf_free(&msg);
	return r;
}

static void run_client(const struct sasl_server_settings *st, uint8_t flags,
		       struct messages *m)
{
	const uint8_t *msg;
	size_t len;
	char *user, *pw;
	struct sasl_scram_client *c;
	struct sasl_server *s;
	struct buf out;
	bool changed = false, right;
	int r;

	if (!next_message(m, &msg, &len) || memchr(msg, '\0', len) == NULL)
		return;
	user = strndup((const char *)msg, len);
	CHECK(user != NULL);
	pw = strndup((const char *)msg + strlen(user) + 1,
		     len - strlen(user) - 1);
	CHECK(pw != NULL);
	c = sasl_scram_client_new(NULL, user, pw, NULL);
	right = strcmp(pw, "pencil") == 0 &&
		(strcmp(user, "scram") == 0 || strcmp(user, "hashed") == 0);
	if (c != NULL) {
		s = sasl_server_new("SCRAM-SHA-256", st);
		CHECK(s != NULL);
		buf_init(&out, OUT_MAX);
		r = client_exchange(s, c, m, flags, &out, &changed);
		CHECK(r != SASL_SUCCESS || (right && !changed));
		CHECK(changed || !right || r == SASL_SUCCESS);
		if (r == SASL_SUCCESS)
			CHECK(sasl_scram_client_verify(c, buf_data(&out),
						       buf_len(&out)) == 0);
		buf_free(&out);
		sasl_server_free(&s);
		sasl_scram_client_free(&c);
	}
	free(user);
	free(pw);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const mechs[] = {"PLAIN", "login", "SCRAM-SHA-256",
					    "SCRAM-SHA-256"};
	struct sasl_server_settings st = {.scram_iterations = 2};
	struct messages m;
	uint8_t flags;

	if (size == 0)
		return 0;
	flags = data[0];
	m = (struct messages){data + 1, data + size};
	st.plaintext_allowed = (flags & 0x04) != 0;
	st.max_message = (flags & 0x20) ? 64 : 0;
	if ((flags & 3) == 3) {
		st.max_message = 0; /* the client's messages must fit */
		run_client(&st, flags, &m);
	} else {
		run_messages(mechs[flags & 3], &st, flags, &m);
	}
	return 0;
}
