/*
 * fuzz_pop3_session.c - the whole POP3 server engine fed arbitrary
 * sessions, with a synchronous host: users in a passwd-file in memory
 * (alice {PLAIN}wonderland, bob {SCRAM-SHA-256}builder with two
 * iterations), a maildrop of fixed messages (dots, bare LF, no final line
 * end), and every request answered at once. The first byte picks the
 * settings and the size of the pieces the input is fed in; the bytes
 * around each request pick the host's answer (a refused maildrop, a
 * failing read, a small chunk), and STLS succeeds or fails.
 *
 * Checks beyond "no crash, no leak": every output line ends in CRLF;
 * status lines are at most 512 octets (RFC 1939 section 3); in a
 * multi-line response a line starting with '.' is the terminator or
 * byte-stuffed; the octet count of "+OK n octets" (RETR) is exactly what
 * the message un-stuffs to (RFC 1939 section 11); output stays bounded.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "passwd.h"
#include "pop3/pop3_session.h"
#include "pop3/pop3_stream.h"
#include "sasl_server.h"

static const char *const msgs[] = {
	"Subject: one\n\nbody\n.dot\n..two\n.\n",
	"Subject: two\r\n\r\nno final line end",
	"",
	"X: y\n\n\n\nlast\r\n",
};
#define N_MSGS (sizeof(msgs) / sizeof(msgs[0]))

static struct passwd_db *users;
static const struct passwd_options opt = {.allow_plain = true};

static void setup(void)
{
	char hash[PASSWD_HASH_SIZE], file[PASSWD_HASH_SIZE + 64];
	log_setup(LOGL_ERROR, LOG_TO_STDERR, "fuzz");
	if (passwd_hash_scram("builder", 2, hash, sizeof(hash)) != 0)
		abort();
	snprintf(file, sizeof(file), "alice:{PLAIN}wonderland\nbob:%s\n", hash);
	users = passwd_db_load_buffer("fuzz", file, strlen(file), NULL);
	if (users == NULL)
		abort();
}

/* What the checker knows of the output so far. */
struct checker {
	int multi;	   /* inside a multi-line response */
	int retr;	   /* ... of RETR, with this many octets expected: */
	uint64_t expected; /* the count from "+OK n octets" */
	uint64_t got;	   /* un-stuffed octets so far */
	int broken;	   /* the connection was cut in a response */
};

static int starts(const unsigned char *l, size_t n, const char *p)
{
	size_t k = strlen(p);
	return n >= k && memcmp(l, p, k) == 0;
}

static void check_line(struct checker *c, const unsigned char *l, size_t n)
{
	if (n < 2 || l[n - 2] != '\r')
		abort(); /* CRLF */
	if (c->multi) {
		if (n == 3 && l[0] == '.') { /* the terminator */
			if (c->retr && c->got != c->expected)
				abort();
			c->multi = c->retr = 0;
			return;
		}
		if (l[0] == '.' && (n < 4 || l[1] != '.'))
			abort(); /* not stuffed */
		c->got += n - (l[0] == '.');
		return;
	}
	if (starts(l, n, "+ "))
		return; /* a SASL challenge: any length (RFC 5034 4) */
	if (n > 512 || !(starts(l, n, "+OK") || starts(l, n, "-ERR")))
		abort();
	if (starts(l, n, "+OK Capability") || starts(l, n, "+OK Unique-id") ||
	    starts(l, n, "+OK Top of") ||
	    (n > 4 && l[4] >= '0' && l[4] <= '9' &&
	     memmem(l, n, " messages (", 11) != NULL)) {
		c->multi = 1;
	} else if (n > 4 && l[4] >= '0' && l[4] <= '9' &&
		   memmem(l, n, " octets\r", 8) != NULL) {
		c->multi = c->retr = 1;
		c->expected = strtoull((const char *)l + 4, NULL, 10);
		c->got = 0;
	}
}

static void check_output(struct checker *c, struct buf *o, int closing)
{
	const unsigned char *p = buf_data(o);
	size_t len = buf_len(o), start = 0;
	for (size_t i = 0; i < len; i++) {
		if (p[i] != '\n')
			continue;
		check_line(c, p + start, i - start + 1);
		start = i + 1;
	}
	/* a message goes out a chunk at a time: a partial line waits for
	 * its end, unless the session closes (only in a cut response) */
	if (closing && start != len && !c->multi)
		abort();
	if (closing && c->multi)
		c->broken = 1;
	buf_consume(o, closing ? len : start);
}

static int find_msg(uint32_t uid)
{
	return uid >= 1 && uid <= N_MSGS ? (int)uid - 1 : -1;
}

static void answer_read(struct pop3_session *s, uint8_t k,
			struct pop3_answer *a)
{
	int i = find_msg(pop3_session_read_uid(s));
	uint64_t off = pop3_session_read_offset(s);
	if (i < 0 || (k & 0xf0) == 0xf0) {
		a->status = (k & 1) ? POP3_ANSWER_TEMP : POP3_ANSWER_GONE;
		return;
	}
	size_t len = strlen(msgs[i]);
	a->data = msgs[i] + (off < len ? off : len);
	a->len = off < len ? len - off : 0;
	if (a->len > (size_t)(k & 7) + 1)
		a->len = (size_t)(k & 7) + 1;
}

static struct pop3_listing *listing(void)
{
	struct pop3_listing *l = pop3_listing_new(1234567, N_MSGS);
	if (l == NULL)
		abort();
	for (uint32_t i = 0; i < N_MSGS; i++) {
		l->msgs[i].uid = i + 1;
		l->msgs[i].size = pop3_stream_size(msgs[i], strlen(msgs[i]));
	}
	return l;
}

static void answer_one(struct pop3_session *s, enum pop3_request r, uint8_t k,
		       struct pop3_answer *a)
{
	size_t len;
	const char *pw;
	const struct passwd_entry *e;
	switch (r) {
	case POP3_REQ_PASS:
		pw = pop3_session_password(s, &len);
		e = passwd_db_lookup(users, pop3_session_user(s));
		a->status = passwd_verify_entry(e, pw, len, &opt) == PASSWD_OK
				    ? POP3_ANSWER_OK
				    : POP3_ANSWER_AUTH_FAILED;
		break;
	case POP3_REQ_APOP:
		a->status =
			(k & 3) == 3 ? POP3_ANSWER_OK : POP3_ANSWER_AUTH_FAILED;
		break;
	case POP3_REQ_SASL_CREDENTIALS:
		e = passwd_db_lookup(users,
				     sasl_server_user(pop3_session_sasl(s)));
		sasl_server_set_credentials(pop3_session_sasl(s), e, &opt);
		break;
	case POP3_REQ_MAILDROP:
		a->status = (k & 0xe0) == 0xe0 ? (enum pop3_status)(k % 7)
					       : POP3_ANSWER_OK;
		if (a->status == POP3_ANSWER_OK)
			a->listing = listing();
		break;
	case POP3_REQ_READ:
		answer_read(s, k, a);
		break;
	case POP3_REQ_UPDATE:
		a->status = (k & 1) ? POP3_ANSWER_TEMP : POP3_ANSWER_OK;
		break;
	default:
		break;
	}
}

/* Answer requests as a host would, until the engine waits for input. */
static void answer(struct pop3_session *s, struct checker *c, const uint8_t *k,
		   size_t kn)
{
	for (size_t guard = 0; guard < 100000; guard++) {
		enum pop3_request r = pop3_session_request(s);
		if (r == POP3_REQ_NONE || r == POP3_REQ_STARTTLS ||
		    r == POP3_REQ_CLOSE)
			return;
		struct pop3_answer a = {.status = POP3_ANSWER_OK};
		answer_one(s, r, kn > 0 ? k[guard % kn] : 0, &a);
		pop3_session_resume(s, &a);
		check_output(c, pop3_session_output(s),
			     pop3_session_request(s) == POP3_REQ_CLOSE);
	}
	abort(); /* the engine never stopped asking */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (users == NULL)
		setup();
	if (size < 1)
		return 0;
	struct pop3_settings st;
	pop3_settings_defaults(&st);
	st.hostname = "pop.example.test";
	st.stls_offered = data[0] & 0x80;
	st.cleartext_ok = data[0] & 0x40;
	st.apop_timestamp = (data[0] & 0x20) ? "<1.2@pop.example.test>" : NULL;
	st.login_delay = data[0] & 0x10 ? 60 : 0;
	st.scram_iterations = 2;
	size_t chunk = (data[0] & 0x0f) * 4 + 1;
	struct pop3_session *s = pop3_session_new(&st, "192.0.2.1", "fz");
	struct checker c = {0};
	if (s == NULL)
		return 0;
	pop3_session_start(s);
	check_output(&c, pop3_session_output(s), 0);
	size_t off = 1;
	while (off < size && !c.broken) {
		size_t n = size - off < chunk ? size - off : chunk;
		size_t took = pop3_session_feed(s, data + off, n);
		enum pop3_request r = pop3_session_request(s);
		check_output(&c, pop3_session_output(s), r == POP3_REQ_CLOSE);
		answer(s, &c, data + off, n);
		off += took;
		r = pop3_session_request(s);
		if (r == POP3_REQ_CLOSE)
			break;
		if (r == POP3_REQ_STARTTLS) {
			off += n; /* the host drops what was pipelined */
			pop3_session_tls_done(s, off < size && (data[off] & 1),
					      "TLSv1.3 FUZZ");
			if (pop3_session_request(s) == POP3_REQ_CLOSE)
				break;
		}
		if (took == 0 && pop3_session_request(s) == POP3_REQ_NONE)
			abort(); /* no progress */
	}
	pop3_session_timeout(s);
	check_output(&c, pop3_session_output(s), 1);
	pop3_session_free(&s);
	return 0;
}
