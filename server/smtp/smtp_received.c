/*
 * smtp_received.c - the Received: trace header a server adds to every
 * message it accepts (RFC 5321 4.4, with the protocol names of RFC 3848
 * and RFC 6531 3.7.3; LMTP, LMTPS, LMTPA, LMTPSA for LMTP):
 *
 *   Received: from client.example ([192.0.2.1])
 *           by mx.example.test (Quill) with ESMTPS id 1A2B3C
 *           (TLSv1.3 TLS_AES_256_GCM_SHA384 (256/256 bits))
 *           for <bob@example.test>; Mon, 23 Nov 2026 18:41:00 +0000
 *
 * The TCP-info is the peer's address as an address literal; the TLS
 * version and cipher go in a comment, and so does the user of a session
 * that authenticated (RFC 4954 7 asks for ESMTPA/ESMTPSA; the name says
 * who); "for" names the recipient only when there is exactly one (4.4: to
 * name more could disclose Bcc recipients).
 */
#include "smtp_internal.h"

#include <stdio.h>
#include <string.h>

/* RFC 3848 / 6531: SMTP, ESMTP or UTF8SMTP; then S for TLS and A for
 * AUTH, in that order (ESMTPSA). The suffixes exist only for EHLO. */
static void with_protocol(const struct smtp_session *s, char *out, size_t n)
{
	const char *base = s->st.mode == SMTP_MODE_LMTP ? "LMTP"
			   : s->txn.env.smtputf8	? "UTF8SMTP"
			   : s->esmtp			? "ESMTP"
							: "SMTP";
	snprintf(out, n, "%s%s%s", base, s->esmtp && s->tls_active ? "S" : "",
		 s->esmtp && s->auth_user[0] ? "A" : "");
}

/* The peer as an address literal (RFC 5321 4.1.3). */
static void peer_literal(const char *peer, char *out, size_t n)
{
	if (strchr(peer, ':') != NULL)
		snprintf(out, n, "[IPv6:%s]", peer);
	else
		snprintf(out, n, "[%s]", peer);
}

/* A comment (RFC 5322 3.2.2) naming the user: "(", ")" and "\\" are
 * quoted-pairs; a user name holds no control characters. */
static int auth_comment(struct buf *out, const char *user)
{
	int rc = buf_append_str(out, "\r\n\t(authenticated user ");
	for (const char *p = user; rc == 0 && *p != '\0'; p++) {
		if (*p == '(' || *p == ')' || *p == '\\')
			rc = buf_append(out, "\\", 1);
		if (rc == 0)
			rc = buf_append(out, p, 1);
	}
	return rc == 0 ? buf_append(out, ")", 1) : rc;
}

int smtp_received_header(const struct smtp_session *s, const char *date,
			 struct buf *out)
{
	char proto[16], lit[80];
	with_protocol(s, proto, sizeof(proto));
	peer_literal(s->peer, lit, sizeof(lit));
	int rc = buf_printf(out,
			    "Received: from %s (%s)\r\n"
			    "\tby %s (Quill) with %s id %s",
			    s->helo, lit, s->hostname, proto, s->txn.queue_id);
	if (rc == 0 && s->tls_active && s->tls_desc[0] != '\0')
		rc = buf_printf(out, "\r\n\t(%s)", s->tls_desc);
	if (rc == 0 && s->auth_user[0] != '\0')
		rc = auth_comment(out, s->auth_user);
	if (rc == 0 && s->txn.env.n_rcpt == 1)
		rc = buf_printf(out, "\r\n\tfor <%s>", s->txn.env.rcpt[0].addr);
	if (rc == 0)
		rc = buf_printf(out, ";\r\n\t%s\r\n", date);
	return rc;
}
