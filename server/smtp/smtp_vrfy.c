/*
 * smtp_vrfy.c - VRFY (RFC 5321 3.5.1, 3.5.3, 7.3) per smtp.vrfy:
 * cannot-verify (252, the default), off (502) or verify. In verify mode
 * the argument, a local part or a mailbox, becomes a RCPT path and the
 * host is asked with SMTP_REQ_RCPT, as for RCPT: 250 <mailbox> for a
 * local recipient it accepts, 252 for one it would relay to, else its
 * refusal, which counts towards max_errors as a refused RCPT does.
 */
#include "smtp_internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "smtp_path.h"

/* RFC 5321 3.5.3, 7.3: VRFY asks the host the RCPT question, so it says
 * no more than RCPT would, and a refusal counts as an error alike. */
static void vrfy_ask(struct smtp_session *s, const struct smtp_path *path)
{
	if (smtp_txn_pending_set(s, path) != 0)
		return;
	s->vrfy_pending = true;
	s->request = SMTP_REQ_RCPT;
}

static bool vrfy_local(const struct smtp_session *s, const char *domain)
{
	return domain[0] == '\0' ||
	       (s->st.domain != NULL &&
		strcasecmp(domain, s->st.domain) == 0) ||
	       strcasecmp(domain, s->hostname) == 0;
}

/* RFC 5321 3.5.1, 3.5.3: 250 with the mailbox for a local user; 252 for
 * an address we would relay to but cannot check; else the RCPT refusal
 * (550 5.1.1 User unknown, 550 5.7.1 Relaying denied). */
void smtp_vrfy_resume(struct smtp_session *s, const struct smtp_answer *a)
{
	struct smtp_rcpt *r = &s->txn.pending;
	s->vrfy_pending = false;
	if (!a->ok) {
		log_info(s->id, "smtp.vrfy_refused addr=<%s> code=%d", r->addr,
			 a->code);
		smtp_reply_error(s, a->code, a->enhanced, "%s", a->text);
	} else if (r->routing || !vrfy_local(s, r->domain)) {
		smtp_reply(s, 252, "2.1.5", 0,
			   "Cannot VRFY <%s>; try RCPT to attempt delivery",
			   r->addr);
	} else if (r->domain[0] == '\0') {
		smtp_reply(s, 250, "2.1.5", 0, "<%s@%s>", r->addr,
			   s->st.domain != NULL && s->st.domain[0] != '\0'
				   ? s->st.domain
				   : s->hostname);
	} else {
		smtp_reply(s, 250, "2.1.5", 0, "<%s>", r->addr);
	}
	smtp_rcpt_free(r);
}

/* VRFY's argument as a RCPT path (RFC 5321 3.5.3): "<mailbox>", perhaps
 * after a name, a bare mailbox, or a local part of our domain. */
static int vrfy_path(struct smtp_session *s, const char *args, size_t len,
		     struct smtp_path *path)
{
	char to[600];
	const char *lt = memchr(args, '<', len);
	const char *dom = s->st.domain != NULL && s->st.domain[0] != '\0'
				  ? s->st.domain
				  : s->hostname;
	size_t at = 0;
	int n;
	if (lt != NULL)
		n = snprintf(to, sizeof(to), "TO:%.*s",
			     (int)(len - (size_t)(lt - args)), lt);
	else if (memchr(args, '@', len) != NULL ||
		 (len == 10 && strncasecmp(args, "postmaster", 10) == 0))
		n = snprintf(to, sizeof(to), "TO:<%.*s>", (int)len, args);
	else
		n = snprintf(to, sizeof(to), "TO:<%.*s@%s>", (int)len, args,
			     dom);
	if (n < 0 || (size_t)n >= sizeof(to))
		return -1;
	enum smtp_path_error e = smtp_path_parse(to, (size_t)n, SMTP_PATH_RCPT,
						 NULL, false, path, &at);
	if (e == SMTP_PATH_OK && at == (size_t)n)
		return 0;
	return -1;
}

/* VRFY (RFC 5321 3.5.3, 7.3), per smtp.vrfy: 252 (cannot-verify, the
 * default, since confirming addresses helps harvesters; RCPT is the way
 * to find out), 502 (off), or the host's RCPT judgement (verify). */
void smtp_act_vrfy(struct smtp_session *s, const char *args, size_t len)
{
	struct smtp_path path;
	if (len == 0) {
		smtp_reply_error(s, 501, "5.5.4", "Syntax: VRFY address");
		return;
	}
	switch (s->st.vrfy) {
	case SMTP_VRFY_OFF:
		smtp_reply_error(s, 502, "5.5.1", "VRFY disabled");
		return;
	case SMTP_VRFY_VERIFY:
		if (vrfy_path(s, args, len, &path) != 0) {
			/* 3.5.3: 553 for a string that is not a mailbox */
			smtp_reply_error(s, 553, "5.1.3",
					 "Syntax: VRFY user or <mailbox>");
			return;
		}
		vrfy_ask(s, &path);
		return;
	case SMTP_VRFY_CANNOT:
	default:
		smtp_reply(s, 252, "2.0.0", 0,
			   "Cannot VRFY user; try RCPT to attempt delivery");
		return;
	}
}
