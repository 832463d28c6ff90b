/*
 * dsn.c - the bytes of a delivery status notification (see dsn.h for the
 * RFC 3464 / RFC 3461 sections it follows).
 */
#include "dsn.h"

#include <stdio.h>
#include <string.h>

#include "queue/spool.h"
#include "smtp/smtp_params.h"

#define FIELD_MAX 1024 /* one decoded or sanitised field value */

static const char *const action_names[] = {"failed", "delayed", "delivered"};

/* Graphic ASCII and SP only (RFC 3464 2.1: the fields are 7bit). */
static void sanitise(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

bool dsn_xtext_field(const char *x, char *out, size_t cap)
{
	size_t len = 0;
	if (smtp_xtext_decode(x, strlen(x), false, out, cap, &len) ==
		    SMTP_PARAM_OK &&
	    strlen(out) == len) {
		bool printable = true;
		for (size_t i = 0; i < len; i++)
			printable &= (unsigned char)out[i] >= 0x20 &&
				     (unsigned char)out[i] <= 0x7e;
		if (printable)
			return true;
	}
	snprintf(out, cap, "%s", x);
	sanitise(out);
	return false;
}

size_t dsn_header_len(const char *msg, size_t len, bool whole)
{
	for (size_t i = 0; i < len; i++) {
		if (msg[i] != '\n')
			continue;
		if (i + 1 < len && msg[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && msg[i + 1] == '\r' && msg[i + 2] == '\n')
			return i + 3;
	}
	if (whole)
		return len;
	const char *nl = memrchr(msg, '\n', len);
	return nl != NULL ? (size_t)(nl - msg) + 1 : 0;
}

static bool reports_failure(const struct dsn_report *r)
{
	for (size_t i = 0; i < r->n_rcpt; i++)
		if (r->rcpt[i].action == DSN_FAILED)
			return true;
	return false;
}

bool dsn_returns_full(const struct dsn_report *r)
{
	return reports_failure(r) && r->ret != 'H' && r->content_whole &&
	       !r->content_binary;
}

static bool any(const struct dsn_report *r, enum dsn_action a)
{
	for (size_t i = 0; i < r->n_rcpt; i++)
		if (r->rcpt[i].action == a)
			return true;
	return false;
}

static const char *subject(const struct dsn_report *r)
{
	if (any(r, DSN_FAILED))
		return "Undelivered Mail Returned to Sender";
	if (any(r, DSN_DELAYED))
		return "Delayed Mail (still being retried)";
	return "Successful Mail Delivery Report";
}

/* A boundary that occurs nowhere in the returned part (RFC 2046 5.1.1). */
static void boundary(const struct dsn_report *r, char *out, size_t n)
{
	char probe[SPOOL_ID_MAX + 320];
	for (unsigned k = 0;; k++) {
		snprintf(out, n, "%s.%u/%s", r->id, k, r->hostname);
		snprintf(probe, sizeof(probe), "--%s", out);
		if (memmem(r->content, r->content_len, probe, strlen(probe)) ==
		    NULL)
			return;
	}
}

static int head(const struct dsn_report *r, const char *b, struct buf *out)
{
	char date[64];
	spool_date(r->now, date, sizeof(date));
	bool eight = dsn_returns_full(r) && r->content_8bit;
	return buf_printf(out,
			  "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n"
			  "To: <%s>\r\n"
			  "Subject: %s\r\n"
			  "Date: %s\r\n"
			  "Message-ID: <%s@%s>\r\n"
			  "Auto-Submitted: auto-replied\r\n"
			  "MIME-Version: 1.0\r\n"
			  "Content-Type: multipart/report; "
			  "report-type=delivery-status;\r\n"
			  "\tboundary=\"%s\"\r\n"
			  "%s"
			  "\r\n"
			  "This is a MIME-encapsulated message.\r\n",
			  r->hostname, r->sender, subject(r), date, r->id,
			  r->hostname, b,
			  eight ? "Content-Transfer-Encoding: 8bit\r\n" : "");
}

/* The first part: for people (RFC 3464 2 (b), RFC 3462 2). */
static int human(const struct dsn_report *r, struct buf *out)
{
	char addr[FIELD_MAX], date[64];
	int rc = buf_printf(out,
			    "Content-Description: Notification\r\n"
			    "Content-Type: text/plain; charset=us-ascii\r\n"
			    "\r\n"
			    "This is the mail system at host %s.\r\n\r\n",
			    r->hostname);
	static const char *const intro[] = {
		"Your message could not be delivered to the recipients "
		"below.\r\nNo further attempts will be made.\r\n",
		"Your message has not yet been delivered to the recipients "
		"below.\r\nDelivery will be retried; no action is needed "
		"yet.\r\n",
		"Your message was delivered to the mailboxes of the "
		"recipients below,\r\nas you asked to be told.\r\n"};
	for (int a = DSN_FAILED; rc == 0 && a <= DSN_DELIVERED; a++) {
		if (!any(r, (enum dsn_action)a))
			continue;
		rc = buf_printf(out, "%s\r\n", intro[a]);
		for (size_t i = 0; rc == 0 && i < r->n_rcpt; i++) {
			const struct dsn_rcpt *p = &r->rcpt[i];
			if ((int)p->action != a)
				continue;
			snprintf(addr, sizeof(addr), "%s", p->addr);
			sanitise(addr);
			rc = buf_printf(out, "  <%s>", addr);
			if (rc == 0 && p->code != 0) {
				snprintf(addr, sizeof(addr), "%s", p->text);
				sanitise(addr);
				rc = buf_printf(out, ": %d %s %s", p->code,
						p->status, addr);
			}
			if (rc == 0 && p->retry_until != 0) {
				spool_date(p->retry_until, date, sizeof(date));
				rc = buf_printf(out,
						"\r\n    (retried until %s)",
						date);
			}
			if (rc == 0)
				rc = buf_append_str(out, "\r\n");
		}
		if (rc == 0)
			rc = buf_append_str(out, "\r\n");
	}
	if (rc == 0)
		rc = buf_printf(out, "The message's queue id was %s.\r\n",
				r->orig_id);
	return rc;
}

/* One recipient's group of fields (RFC 3464 2.3, RFC 3461 6.3 d-g). */
static int recipient(const struct dsn_rcpt *p, struct buf *out)
{
	char v[FIELD_MAX], date[64];
	int rc = 0;
	const char *semi = p->orcpt != NULL ? strchr(p->orcpt, ';') : NULL;
	if (semi != NULL) {
		char type[64];
		snprintf(type, sizeof(type), "%.*s", (int)(semi - p->orcpt),
			 p->orcpt);
		sanitise(type);
		if (strcasecmp(type, "utf-8") == 0) { /* RFC 6533: as sent */
			snprintf(v, sizeof(v), "%s", semi + 1);
			sanitise(v);
		} else {
			dsn_xtext_field(semi + 1, v, sizeof(v));
		}
		rc = buf_printf(out, "Original-Recipient: %s;%s\r\n", type, v);
	}
	snprintf(v, sizeof(v), "%s", p->addr);
	sanitise(v);
	if (rc == 0)
		rc = buf_printf(out,
				"Final-Recipient: rfc822; %s\r\n"
				"Action: %s\r\nStatus: %s\r\n",
				v, action_names[p->action], p->status);
	if (rc == 0 && p->code != 0) {
		snprintf(v, sizeof(v), "%s", p->text);
		sanitise(v);
		rc = buf_printf(out, "Diagnostic-Code: smtp; %d %s %s\r\n",
				p->code, p->status, v);
	}
	if (rc == 0 && p->last_attempt != 0) {
		spool_date(p->last_attempt, date, sizeof(date));
		rc = buf_printf(out, "Last-Attempt-Date: %s\r\n", date);
	}
	if (rc == 0 && p->action == DSN_DELAYED && p->retry_until != 0) {
		spool_date(p->retry_until, date, sizeof(date));
		rc = buf_printf(out, "Will-Retry-Until: %s\r\n", date);
	}
	return rc;
}

/* The second part: message/delivery-status (RFC 3464 2.1-2.3). */
static int status(const struct dsn_report *r, struct buf *out)
{
	char v[FIELD_MAX], date[64];
	/* RFC 3461 6.3 (b): "dns" only for a fully-qualified name */
	const char *type =
		strchr(r->hostname, '.') != NULL ? "dns" : "x-local-hostname";
	int rc = buf_printf(out,
			    "Content-Description: Delivery report\r\n"
			    "Content-Type: message/delivery-status\r\n"
			    "\r\n"
			    "Reporting-MTA: %s; %s\r\n",
			    type, r->hostname);
	if (rc == 0 && r->envid != NULL) {
		dsn_xtext_field(r->envid, v, sizeof(v));
		rc = buf_printf(out, "Original-Envelope-Id: %s\r\n", v);
	}
	if (rc == 0 && r->arrived != 0) {
		spool_date(r->arrived, date, sizeof(date));
		rc = buf_printf(out, "Arrival-Date: %s\r\n", date);
	}
	for (size_t i = 0; rc == 0 && i < r->n_rcpt; i++) {
		rc = buf_append_str(out, "\r\n");
		if (rc == 0)
			rc = recipient(&r->rcpt[i], out);
	}
	return rc;
}

/* The third part: the message, or its header (RFC 3461 6.2). */
static int returned(const struct dsn_report *r, struct buf *out)
{
	bool full = dsn_returns_full(r);
	size_t len = full ? r->content_len
			  : dsn_header_len(r->content, r->content_len,
					   r->content_whole);
	int rc = buf_printf(
		out, "Content-Description: %s\r\nContent-Type: %s\r\n%s\r\n",
		full ? "Undelivered Message" : "Message Headers",
		full ? "message/rfc822" : "text/rfc822-headers",
		full && r->content_8bit ? "Content-Transfer-Encoding: 8bit\r\n"
					: "");
	if (rc == 0)
		rc = buf_append(out, r->content, len);
	return rc;
}

int dsn_build(const struct dsn_report *r, struct buf *out)
{
	char b[SPOOL_ID_MAX + 300];
	_Static_assert(sizeof(b) + 2 <= SPOOL_ID_MAX + 320, "probe size");
	boundary(r, b, sizeof(b));
	int rc = head(r, b, out);
	if (rc == 0)
		rc = buf_printf(out, "\r\n--%s\r\n", b);
	if (rc == 0)
		rc = human(r, out);
	if (rc == 0)
		rc = buf_printf(out, "\r\n--%s\r\n", b);
	if (rc == 0)
		rc = status(r, out);
	if (rc == 0)
		rc = buf_printf(out, "\r\n--%s\r\n", b);
	if (rc == 0)
		rc = returned(r, out);
	if (rc == 0)
		rc = buf_printf(out, "\r\n--%s--\r\n", b);
	return rc;
}
