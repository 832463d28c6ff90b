/*
 * pop3_commands.c - the POP3 command table, and the commands of no one
 * state: CAPA (RFC 2449 section 5), STLS (RFC 2595 section 4) and QUIT
 * (RFC 1939 sections 4 and 6).
 *
 * One entry per keyword: the states where it is allowed and whether it
 * takes arguments. AUTHORIZATION: USER, PASS, APOP, AUTH (pop3_auth.c),
 * STLS; TRANSACTION: STAT, LIST, RETR, DELE, NOOP, RSET, TOP, UIDL
 * (pop3_txn.c); both: CAPA, QUIT.
 */
#include "pop3_internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "sasl_server.h"

#define AUTHZ POP3_ST_AUTHORIZATION
#define TRANS POP3_ST_TRANSACTION

/* The SASL capability: the mechanisms usable on this connection now
 * (RFC 5034 section 3; PLAIN and LOGIN only where cleartext is allowed,
 * RFC 5034 section 4 and RFC 2595 section 6). */
static void capa_sasl(struct pop3_session *s)
{
	char line[128] = "SASL";
	size_t pos = strlen(line);
	const char *const *mechs = sasl_server_mechanisms(pop3_cleartext_ok(s));
	for (size_t i = 0; mechs[i] != NULL; i++) {
		int w = snprintf(line + pos, sizeof(line) - pos, " %s",
				 mechs[i]);
		if (w < 0 || (size_t)w >= sizeof(line) - pos)
			break;
		pos += (size_t)w;
	}
	pop3_line(s, "%s", line);
}

/* CAPA (RFC 2449 section 5). What AUTHORIZATION lists, TRANSACTION lists
 * too (5), except STLS, which is listed only where it may be used
 * (RFC 2595 section 4). Each tag is documented in docs/quilld.md. */
static void act_capa(struct pop3_session *s, const char *args, size_t len)
{
	(void)args;
	(void)len;
	pop3_ok(s, "Capability list follows");
	pop3_line(s, "TOP");		/* 6.1 */
	pop3_line(s, "UIDL");		/* 6.8 */
	pop3_line(s, "RESP-CODES");	/* 6.4 */
	pop3_line(s, "AUTH-RESP-CODE"); /* RFC 3206 section 6 */
	pop3_line(s, "PIPELINING");	/* 6.6 */
	pop3_line(s, "EXPIRE NEVER");	/* 6.7: nothing is deleted by policy */
	if (s->st.login_delay > 0)
		pop3_line(s, "LOGIN-DELAY %u", s->st.login_delay); /* 6.5 */
	if (pop3_cleartext_ok(s))
		pop3_line(s, "USER"); /* 6.2 */
	capa_sasl(s);
	if (s->state == AUTHZ && s->st.stls_offered && !s->tls_active)
		pop3_line(s, "STLS");
	if (s->implementation[0] != '\0')
		pop3_line(s, "IMPLEMENTATION %s", s->implementation); /* 6.9 */
	pop3_end(s);
}

/* STLS (RFC 2595 section 4): +OK, then TLS right after its CRLF. */
static void act_stls(struct pop3_session *s, const char *args, size_t len)
{
	(void)args;
	(void)len;
	if (!s->st.stls_offered) {
		pop3_err(s, NULL, "STLS not available here");
		return;
	}
	if (s->tls_active) { /* RFC 2595 4 allows -ERR with TLS active */
		pop3_err(s, NULL, "TLS already active");
		return;
	}
	pop3_ok(s, "Begin TLS negotiation");
	/* Whatever was pipelined after STLS came in the clear: thrown away,
	 * never read as if it had come over TLS. */
	if (buf_len(&s->in) > 0)
		log_info(s->id, "pop3.stls_discarded bytes=%zu",
			 buf_len(&s->in));
	buf_clear(&s->in);
	s->request = POP3_REQ_STARTTLS;
}

/* QUIT: in AUTHORIZATION the session just ends (RFC 1939 4, 6: no
 * UPDATE); in TRANSACTION it enters UPDATE. */
static void act_quit(struct pop3_session *s, const char *args, size_t len)
{
	(void)args;
	(void)len;
	if (s->state == TRANS) {
		pop3_update(s);
		return;
	}
	pop3_ok(s, "Quill POP3 server signing off");
	pop3_close(s);
}

static const struct pop3_command pop3_commands[] = {
	{"USER", AUTHZ, 0, pop3_act_user},
	{"PASS", AUTHZ, 0, pop3_act_pass},
	{"APOP", AUTHZ, 0, pop3_act_apop},
	{"AUTH", AUTHZ, 0, pop3_act_auth},
	{"STLS", AUTHZ, POP3_CMD_NO_ARGS, act_stls},
	{"CAPA", AUTHZ | TRANS, POP3_CMD_NO_ARGS, act_capa},
	{"QUIT", AUTHZ | TRANS, POP3_CMD_NO_ARGS, act_quit},
	{"STAT", TRANS, POP3_CMD_NO_ARGS, pop3_act_stat},
	{"LIST", TRANS, 0, pop3_act_list},
	{"RETR", TRANS, 0, pop3_act_retr},
	{"DELE", TRANS, 0, pop3_act_dele},
	{"NOOP", TRANS, POP3_CMD_NO_ARGS, pop3_act_noop},
	{"RSET", TRANS, POP3_CMD_NO_ARGS, pop3_act_rset},
	{"TOP", TRANS, 0, pop3_act_top},
	{"UIDL", TRANS, 0, pop3_act_uidl},
};

#define N_COMMANDS (sizeof(pop3_commands) / sizeof(pop3_commands[0]))

const struct pop3_command *pop3_command_find(const char *verb, size_t len)
{
	for (size_t i = 0; i < N_COMMANDS; i++) {
		const char *name = pop3_commands[i].name;
		if (strlen(name) == len && strncasecmp(name, verb, len) == 0)
			return &pop3_commands[i];
	}
	return NULL;
}
