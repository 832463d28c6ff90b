/*
 * smtp_commands.c - the SMTP command table and the session commands.
 *
 * One entry per verb: the states where it is allowed, flags, a check_
 * function (validates, no side effects) and an act function. Here:
 * EHLO/HELO (RFC 5321 4.1.1.1), RSET (4.1.1.5), NOOP (4.1.1.9), QUIT
 * (4.1.1.10), HELP (4.1.1.8), STARTTLS (RFC 3207 section 4),
 * and the table entries of MAIL, RCPT and DATA (smtp_txn.c), BDAT
 * (smtp_bdat.c), AUTH (RFC 4954, smtp_auth.c) and VRFY (3.5.3,
 * smtp_vrfy.c). EXPN is
 * answered 502 (RFC 5321 4.2.4) as no mailing lists are configured.
 * In LMTP (RFC 2033 4.1) LHLO takes the place of EHLO, with the same
 * semantics and extensions, and HELO and EHLO do not exist (500).
 */
#include "smtp_internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "smtp_syntax.h"

#define IN_TXN	  (SMTP_ST_MAIL | SMTP_ST_RCPT)
#define ANY_STATE (SMTP_ST_GREETED | SMTP_ST_READY | IN_TXN)

/* EHLO and HELO take a Domain or an address-literal. RFC 2034 (4): no
 * enhanced status code in any reply to EHLO or HELO. */
static int check_helo(struct smtp_session *s, const char *args, size_t len)
{
	if (len == 0) {
		smtp_reply_error(s, 501, NULL, "Syntax: EHLO domain");
		return -1;
	}
	if (len > SMTP_HELO_MAX || !smtp_syntax_helo_arg(args, len)) {
		smtp_reply_error(s, 501, NULL,
				 "Invalid domain or address literal");
		return -1;
	}
	return 0;
}

static void greet(struct smtp_session *s, const char *args, size_t len,
		  bool esmtp)
{
	smtp_transaction_reset(s);
	memcpy(s->helo, args, len);
	s->helo[len] = '\0';
	s->esmtp = esmtp;
	s->state = SMTP_ST_READY;
	log_info(s->id, "smtp.%s name=%s",
		 s->st.mode == SMTP_MODE_LMTP ? "lhlo"
		 : esmtp		      ? "ehlo"
					      : "helo",
		 s->helo);
}

static void act_ehlo(struct smtp_session *s, const char *args, size_t len)
{
	char size[40] = "SIZE", auth[128] = "AUTH";
	const char *const *mechs;
	const char *ext[12];
	size_t n = 0;

	greet(s, args, len, true);
	if (s->st.message_max != 0) /* RFC 1870 4: the fixed maximum */
		snprintf(size, sizeof(size), "SIZE %llu", s->st.message_max);
	ext[n++] = "PIPELINING";
	ext[n++] = size;
	ext[n++] = "8BITMIME";
	ext[n++] = "ENHANCEDSTATUSCODES";
	ext[n++] = "SMTPUTF8";
	ext[n++] = "CHUNKING";	 /* RFC 3030 2 */
	ext[n++] = "BINARYMIME"; /* RFC 3030 3 */
	ext[n++] = "DSN";	 /* RFC 3461 4 */
	if (s->st.starttls_offered && !s->tls_active)
		ext[n++] = "STARTTLS";
	if (smtp_auth_available(s, &mechs)) { /* RFC 4954 3 */
		for (size_t i = 0; mechs[i] != NULL; i++) {
			size_t used = strlen(auth);
			snprintf(auth + used, sizeof(auth) - used, " %s",
				 mechs[i]);
		}
		ext[n++] = auth;
	}
	smtp_reply(s, 250, NULL, 1, "%s Hello %s [%s]", s->hostname, s->helo,
		   s->peer);
	for (size_t i = 0; i < n; i++)
		smtp_reply(s, 250, NULL, i + 1 < n, "%s", ext[i]);
}

static void act_helo(struct smtp_session *s, const char *args, size_t len)
{
	greet(s, args, len, false);
	smtp_reply(s, 250, NULL, 0, "%s Hello %s [%s]", s->hostname, s->helo,
		   s->peer);
}

static void act_ok(struct smtp_session *s, const char *args, size_t len)
{
	(void)args;
	(void)len;
	smtp_reply(s, 250, "2.0.0", 0, "OK");
}

static void act_rset(struct smtp_session *s, const char *args, size_t len)
{
	smtp_transaction_reset(s);
	act_ok(s, args, len);
}

static void act_quit(struct smtp_session *s, const char *args, size_t len)
{
	(void)args;
	(void)len;
	smtp_reply(s, 221, "2.0.0", 0,
		   "%s Service closing transmission channel", s->hostname);
	smtp_close(s);
}

static int check_starttls(struct smtp_session *s, const char *args, size_t len)
{
	(void)args;
	(void)len;
	if (!s->st.starttls_offered) {
		smtp_reply_error(s, 502, "5.5.1", "STARTTLS not available");
		return -1;
	}
	if (s->tls_active) {
		smtp_reply_error(s, 503, "5.5.1", "TLS already active");
		return -1;
	}
	return 0;
}

static void act_starttls(struct smtp_session *s, const char *args, size_t len)
{
	(void)args;
	(void)len;
	smtp_reply(s, 220, "2.0.0", 0, "Ready to start TLS");
	/* RFC 3207 4.2 and the 2011 injection attacks: whatever the client
	 * pipelined after STARTTLS came in the clear and is thrown away. */
	if (buf_len(&s->in) > 0)
		log_info(s->id, "smtp.starttls_discarded bytes=%zu",
			 buf_len(&s->in));
	buf_clear(&s->in);
	s->request = SMTP_REQ_STARTTLS;
}

static void act_not_implemented(struct smtp_session *s, const char *args,
				size_t len)
{
	(void)args;
	(void)len;
	smtp_reply_error(s, 502, "5.5.1", "Command not implemented");
}

static void act_help(struct smtp_session *s, const char *args, size_t len);

static const struct smtp_command smtp_commands[] = {
	{"EHLO", ANY_STATE, SMTP_CMD_GROUP_END | SMTP_CMD_NOT_LMTP, check_helo,
	 act_ehlo},
	{"HELO", ANY_STATE, SMTP_CMD_GROUP_END | SMTP_CMD_NOT_LMTP, check_helo,
	 act_helo},
	{"LHLO", ANY_STATE, SMTP_CMD_GROUP_END | SMTP_CMD_LMTP_ONLY, check_helo,
	 act_ehlo},
	{"STARTTLS", SMTP_ST_READY, SMTP_CMD_NO_ARGS | SMTP_CMD_GROUP_END,
	 check_starttls, act_starttls},
	{"RSET", ANY_STATE, SMTP_CMD_NO_ARGS, NULL, act_rset},
	{"NOOP", ANY_STATE, SMTP_CMD_GROUP_END, NULL, act_ok},
	{"HELP", ANY_STATE, 0, NULL, act_help},
	{"QUIT", ANY_STATE, SMTP_CMD_NO_ARGS | SMTP_CMD_GROUP_END, NULL,
	 act_quit},
	{"MAIL", SMTP_ST_READY | IN_TXN, 0, smtp_check_mail, smtp_act_mail},
	{"RCPT", IN_TXN, 0, smtp_check_rcpt, smtp_act_rcpt},
	{"DATA", IN_TXN, SMTP_CMD_NO_ARGS | SMTP_CMD_GROUP_END, smtp_check_data,
	 smtp_act_data},
	{"BDAT", ANY_STATE, 0, smtp_check_bdat, smtp_act_bdat},
	{"AUTH", SMTP_ST_READY | IN_TXN, 0, smtp_check_auth, smtp_act_auth},
	{"VRFY", ANY_STATE, SMTP_CMD_GROUP_END, NULL, smtp_act_vrfy},
	{"EXPN", ANY_STATE, SMTP_CMD_GROUP_END, NULL, act_not_implemented},
};

#define N_COMMANDS (sizeof(smtp_commands) / sizeof(smtp_commands[0]))

bool smtp_command_in_mode(const struct smtp_session *s,
			  const struct smtp_command *cmd)
{
	bool lmtp = s->st.mode == SMTP_MODE_LMTP;
	return lmtp ? !(cmd->flags & SMTP_CMD_NOT_LMTP)
		    : !(cmd->flags & SMTP_CMD_LMTP_ONLY);
}

const struct smtp_command *smtp_command_find(const char *verb, size_t len)
{
	for (size_t i = 0; i < N_COMMANDS; i++) {
		const char *name = smtp_commands[i].name;
		if (strlen(name) == len && strncasecmp(name, verb, len) == 0)
			return &smtp_commands[i];
	}
	return NULL;
}

/* HELP (RFC 5321 4.1.1.8): 214 with the commands this server knows; with
 * an argument, whether that command is known. */
static void act_help(struct smtp_session *s, const char *args, size_t len)
{
	if (len > 0) {
		const struct smtp_command *cmd = smtp_command_find(args, len);
		if (cmd == NULL || cmd->act == act_not_implemented ||
		    !smtp_command_in_mode(s, cmd)) {
			smtp_reply_error(s, 504, "5.5.1",
					 "HELP topic not recognized");
			return;
		}
		smtp_reply(s, 214, "2.0.0", 0, "%s is supported", cmd->name);
		return;
	}
	const char *const *mechs;
	char list[256] = "";
	size_t pos = 0;
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (smtp_commands[i].act == act_not_implemented ||
		    !smtp_command_in_mode(s, &smtp_commands[i]) ||
		    (smtp_commands[i].act == act_starttls &&
		     (!s->st.starttls_offered || s->tls_active)) ||
		    (smtp_commands[i].act == smtp_act_auth &&
		     !smtp_auth_available(s, &mechs)))
			continue;
		int w = snprintf(list + pos, sizeof(list) - pos, "%s%s",
				 pos > 0 ? " " : "", smtp_commands[i].name);
		if (w < 0 || (size_t)w >= sizeof(list) - pos)
			break;
		pos += (size_t)w;
	}
	smtp_reply(s, 214, "2.0.0", 1, "Commands: %s", list);
	smtp_reply(s, 214, "2.0.0", 0, "See RFC 5321; end of HELP");
}
