/*
 * fuzz_smtp_session.c - the whole SMTP server engine fed arbitrary
 * sessions. The first byte picks the chunk size the input is fed in (so
 * partial lines and pipelining are explored) and the listener: SMTP or
 * LMTP (RFC 2033, with its per-recipient deliveries), STARTTLS offered,
 * bare LF accepted; inputs of odd length get submission mode, and AUTH is
 * offered there and, for inputs whose length has bit 1 set, on port 25
 * too (plaintext AUTH before TLS only where no STARTTLS is offered);
 * (length / 4) % 3 picks the smtp.vrfy mode (cannot-verify, verify, off).
 * The engine's requests are answered as a host would: recipients and spooling
 * succeed or fail by bits of the input, STARTTLS succeeds or fails by the
 * parity of the next byte, AUTH credentials are looked up at once in a
 * small passwd-file (alice:{PLAIN}wonderland, and scram with SCRAM-SHA-256
 * keys of two iterations; the answer fails by a bit of the input) and the
 * failure delay is over at once, CLOSE ends the session.
 *
 * Checks beyond "no crash, no leak": every reply line is well-formed
 * (three digits, ' ' or '-', text, CRLF; RFC 5321 4.2), a 334 carries
 * nothing but base64 (RFC 4954 4), and output stays within its bound.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "passwd.h"
#include "sasl_server.h"
#include "smtp/smtp_session.h"

static struct passwd_db *users;

static void load_users(void)
{
	char hash[PASSWD_HASH_SIZE], text[PASSWD_HASH_SIZE + 64];
	struct passwd_error err;
	if (passwd_hash_scram("tiger", 2, hash, sizeof(hash)) != 0)
		abort();
	snprintf(text, sizeof(text), "alice:{PLAIN}wonderland\nscram:%s\n",
		 hash);
	users = passwd_db_load_buffer("fuzz", text, strlen(text), &err);
	if (users == NULL)
		abort();
}

/* RFC 4954 4: "334 " and base64, nothing else. */
static void check_challenge(const unsigned char *l, size_t n)
{
	if (n < 6 || memcmp(l, "334", 3) != 0)
		return;
	if (l[3] != ' ')
		abort();
	for (size_t k = 4; k + 2 < n; k++)
		if (!isalnum(l[k]) && l[k] != '+' && l[k] != '/' && l[k] != '=')
			abort();
}

/* SMTP_REQ_AUTH_CREDENTIALS, answered at once; refused if fail. */
static void credentials(struct smtp_session *s, bool fail)
{
	struct passwd_options opt = {.allow_plain = true};
	struct sasl_server *sasl = smtp_session_auth_take(s);
	const char *user = sasl != NULL ? sasl_server_user(sasl) : NULL;
	if (sasl != NULL && !fail)
		sasl_server_set_credentials(
			sasl, user ? passwd_db_lookup(users, user) : NULL,
			&opt);
	struct smtp_answer a = {.ok = !fail, .sasl = sasl};
	smtp_session_resume(s, &a);
}

static void check_replies(struct buf *o)
{
	const unsigned char *p = buf_data(o);
	size_t len = buf_len(o), start = 0;
	for (size_t i = 0; i < len; i++) {
		if (p[i] != '\n')
			continue;
		size_t n = i - start + 1;
		const unsigned char *l = p + start;
		if (n < 6 || l[n - 2] != '\r' || l[0] < '2' || l[0] > '5' ||
		    l[1] < '0' || l[1] > '9' || l[2] < '0' || l[2] > '9' ||
		    (l[3] != ' ' && l[3] != '-'))
			abort();
		check_challenge(l, n);
		for (size_t k = 0; k + 2 < n; k++)
			if (l[k] == '\r' || l[k] == '\n' || l[k] == '\0')
				abort();
		start = i + 1;
	}
	if (start != len) /* a reply is always complete */
		abort();
	buf_consume(o, len);
}

/* Answer the engine's requests as the host would; bit 0 of k refuses. */
static void answer(struct smtp_session *s, uint8_t k)
{
	for (int guard = 0; guard < 1000; guard++) {
		struct smtp_answer ok = {.ok = true};
		struct smtp_answer no = {.code = 550,
					 .enhanced = "5.1.1",
					 .text = "User unknown"};
		struct smtp_answer full = {.code = 452,
					   .enhanced = "4.2.2",
					   .text = "Mailbox full"};
		struct buf *m = smtp_session_message(s);
		switch (smtp_session_request(s)) {
		case SMTP_REQ_RCPT:
			smtp_session_resume(s, (k & 1) ? &no : &ok);
			break;
		case SMTP_REQ_DATA_BEGIN:
			ok.queue_id = "FUZZ1";
			ok.date = "Mon, 23 Nov 2026 18:00:00 +0000";
			smtp_session_resume(s, &ok);
			break;
		case SMTP_REQ_DATA_CHUNK:
		case SMTP_REQ_DATA_END:
			buf_consume(m, buf_len(m));
			smtp_session_resume(s, (k & 2) ? &no : &ok);
			break;
		case SMTP_REQ_AUTH_CREDENTIALS:
			credentials(s, (k & 4) != 0);
			break;
		case SMTP_REQ_AUTH_DELAY:
			smtp_session_resume(s, &ok);
			break;
		case SMTP_REQ_LMTP_RCPT:
			smtp_session_resume(s, (k & 2) ? &full : &ok);
			break;
		default:
			return;
		}
		k >>= 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int quiet;
	if (!quiet) {
		log_setup(LOGL_ERROR, LOG_TO_STDERR, "fuzz");
		load_users();
		quiet = 1;
	}
	if (size < 1)
		return 0;
	struct smtp_settings st;
	smtp_settings_defaults(&st);
	st.hostname = "mx.example.test";
	st.starttls_offered = data[0] & 0x80;
	st.bare_lf_accept = data[0] & 0x40;
	st.mode = (data[0] & 0x20) ? SMTP_MODE_LMTP
		  : (size & 1)	   ? SMTP_MODE_SUBMISSION
				   : SMTP_MODE_MX;
	st.auth_offered = st.mode == SMTP_MODE_SUBMISSION ||
			  (st.mode == SMTP_MODE_MX && (size & 2));
	st.auth_plaintext = !st.starttls_offered;
	st.scram_iterations = 2;
	st.domain = "example.test";
	st.sender_check = true;
	st.add_headers = true;
	st.vrfy = (enum smtp_vrfy_mode)((size >> 2) % 3);
	size_t chunk = (data[0] & 0x1f) + 1;
	struct smtp_session *s = smtp_session_new(&st, "192.0.2.1", "fz");
	if (s == NULL)
		return 0;
	smtp_session_start(s);
	size_t off = 1;
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;
		off += smtp_session_feed(s, data + off, n);
		check_replies(smtp_session_output(s));
		answer(s, data[off - 1 < size ? off - 1 : 0]);
		check_replies(smtp_session_output(s));
		enum smtp_request req = smtp_session_request(s);
		if (req == SMTP_REQ_CLOSE)
			break;
		if (req == SMTP_REQ_STARTTLS) {
			/* the host drops what was pipelined: skip a chunk */
			off += n;
			smtp_session_tls_done(s, off < size && (data[off] & 1),
					      "TLSv1.3 FUZZ");
			check_replies(smtp_session_output(s));
			if (smtp_session_request(s) == SMTP_REQ_CLOSE)
				break;
		}
	}
	smtp_session_timeout(s);
	check_replies(smtp_session_output(s));
	smtp_session_free(&s);
	return 0;
}
