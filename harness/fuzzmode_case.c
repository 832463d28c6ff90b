/*
 * fuzzmode_case.c - one fuzz case on the wire, and the health check
 * (fuzzmode.h). Every step has a deadline: connecting and the greeting
 * FUZZMODE_GREET_MS, sending FUZZMODE_SEND_MS, reading FUZZMODE_READ_MS
 * (ended early by FUZZMODE_QUIET_MS of silence or a close), and at most
 * about FUZZMODE_REPLY_MAX bytes are kept. Traffic goes only to the
 * target's host, which for the embedded quilld is 127.0.0.1.
 */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "fuzzmode.h"
#include "target.h"

static long long min_ll(long long a, long long b)
{
	return a < b ? a : b;
}

/* Read into c->in until the deadline, a close or the byte limit; with
 * quiet_ms, also until that long without a byte. The bytes read. */
static size_t drain(struct net_conn *c, long long deadline, unsigned quiet_ms)
{
	size_t total = 0, n;
	char err[200];

	while (!c->eof && buf_len(&c->in) < FUZZMODE_REPLY_MAX) {
		long long now = net_now_ms(), until = deadline;
		if (now >= deadline)
			break;
		if (quiet_ms > 0)
			until = min_ll(deadline, now + quiet_ms);
		int rc = net_read(c, until, &n, err, sizeof(err));
		if (rc == NET_OK)
			total += n;
		else if (rc != NET_TIMEOUT || quiet_ms > 0)
			break;
	}
	return total;
}

/* Connect (and handshake, if implicit). NET_OK or NET_* with err. */
static int open_conn(const struct fuzzmode_peer *p, const char *service,
		     bool implicit, struct net_conn *c, long long deadline,
		     char *err, size_t errlen)
{
	const struct target_service *svc = target_service(p->t, service);
	int rc;

	net_conn_init(c);
	if (svc == NULL) {
		snprintf(err, errlen, "the target has no service '%s'",
			 service);
		return NET_ERR;
	}
	rc = net_connect(c, p->t->host, svc->port, deadline, err, errlen);
	if (rc == NET_OK && implicit)
		rc = net_tls_start(c, p->tls, "localhost", deadline, NULL, err,
				   errlen);
	return rc;
}

/* Up to the greeting's first CRLF (or a close, or the deadline). */
static void read_greeting(struct net_conn *c, long long deadline)
{
	char err[200];
	while (!c->eof && net_now_ms() < deadline &&
	       memmem(buf_data(&c->in), buf_len(&c->in), "\r\n", 2) == NULL)
		if (net_read(c, deadline, NULL, err, sizeof(err)) != NET_OK)
			break;
}

/* Write the case, in pieces with pauses if it says so; the pauses read
 * what the server sends meanwhile. */
static void send_case(struct fuzzmode_outcome *o, const struct fuzzmode_case *c)
{
	const unsigned char *d = buf_data(&c->data);
	size_t len = buf_len(&c->data), step = c->chunk ? c->chunk : len;
	long long deadline = net_now_ms() + FUZZMODE_SEND_MS;
	char err[200];

	for (size_t off = 0; off < len; off += step) {
		size_t n = len - off < step ? len - off : step;
		if (net_write(&o->conn, d + off, n, deadline, err,
			      sizeof(err)) != NET_OK) {
			o->send_stalled = !o->conn.eof;
			return;
		}
		if (c->pause_ms > 0 && off + n < len)
			drain(&o->conn,
			      min_ll(deadline, net_now_ms() + c->pause_ms), 0);
	}
}

void fuzzmode_case_run(const struct fuzzmode_peer *p, const char *service,
		       bool implicit, const struct fuzzmode_case *c,
		       struct fuzzmode_outcome *o)
{
	long long deadline = net_now_ms() + FUZZMODE_GREET_MS;
	size_t before;

	memset(o, 0, sizeof(*o));
	if (open_conn(p, service, implicit, &o->conn, deadline, o->note,
		      sizeof(o->note)) != NET_OK)
		return;
	o->connected = true;
	read_greeting(&o->conn, deadline);
	o->greeting_len = before = buf_len(&o->conn.in);
	send_case(o, c);
	drain(&o->conn, net_now_ms() + FUZZMODE_READ_MS, FUZZMODE_QUIET_MS);
	o->answered = o->conn.eof || buf_len(&o->conn.in) > before;
}

enum fuzzmode_health fuzzmode_health(const struct fuzzmode_peer *p,
				     const char *service, bool implicit,
				     char *why, size_t whylen)
{
	long long deadline = net_now_ms() + FUZZMODE_GREET_MS;
	enum fuzzmode_proto proto = fuzzmode_proto_of(service);
	enum fuzzmode_health h = FUZZMODE_HEALTHY;
	struct net_conn c;
	char err[300];
	int rc =
		open_conn(p, service, implicit, &c, deadline, err, sizeof(err));

	if (rc == NET_OK)
		read_greeting(&c, deadline);
	if (rc == NET_TIMEOUT ||
	    (rc == NET_OK && !c.eof && buf_len(&c.in) == 0)) {
		snprintf(why, whylen,
			 "health check: no greeting within %d ms%s%s",
			 FUZZMODE_GREET_MS, rc == NET_OK ? "" : ": ",
			 rc == NET_OK ? "" : err);
		h = FUZZMODE_STUCK;
	} else if (rc != NET_OK) {
		snprintf(why, whylen, "health check: %s", err);
		h = FUZZMODE_DEAD;
	} else if (!fuzzmode_greeting_ok(proto, buf_data(&c.in),
					 buf_len(&c.in))) {
		snprintf(why, whylen, "health check: %s",
			 c.eof && buf_len(&c.in) == 0
				 ? "closed without a greeting"
				 : "not a greeting");
		h = FUZZMODE_DEAD;
	}
	net_close(&c);
	return h;
}
