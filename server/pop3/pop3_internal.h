/*
 * pop3_internal.h - the POP3 engine's state, shared by its own files only:
 * pop3_session.c (the input loop, replies, resume), pop3_commands.c (the
 * command table, CAPA, STLS, QUIT), pop3_auth.c (USER, PASS, APOP, AUTH)
 * and pop3_txn.c (the TRANSACTION commands and message streaming).
 */
#ifndef QUILL_POP3_INTERNAL_H
#define QUILL_POP3_INTERNAL_H

#include "pop3_session.h"
#include "pop3_stream.h"

/* Session states (RFC 1939 section 3); commands list where they work. */
enum pop3_state {
	POP3_ST_AUTHORIZATION = 1u << 0,
	POP3_ST_TRANSACTION = 1u << 1,
	POP3_ST_CLOSING = 1u << 2, /* QUIT answered, or closing for a reason */
};

/* Where an authentication stands within AUTHORIZATION. */
enum pop3_auth {
	POP3_AUTH_NONE,	     /* nothing under way */
	POP3_AUTH_USER,	     /* USER got +OK: PASS may follow */
	POP3_AUTH_SASL,	     /* a challenge is out: a response line is next */
	POP3_AUTH_SASL_DATA, /* SCRAM's additional data is out: the client's
			      * empty response is next (RFC 5034 4) */
};

/* What kind of login is checked, for the failure reply. */
enum pop3_login { POP3_LOGIN_PASS, POP3_LOGIN_APOP, POP3_LOGIN_SASL };

/* A multi-line listing produced a piece at a time (POP3_REQ_MORE). */
enum pop3_listing_kind { POP3_LIST_NONE, POP3_LIST_SCAN, POP3_LIST_UIDL };

#define POP3_PASSWORD_MAX  1025 /* PASSWD_PASSWORD_MAX and a NUL */
#define POP3_TIMESTAMP_MAX 300

struct pop3_session {
	struct pop3_settings st;
	char hostname[256];
	char timestamp[POP3_TIMESTAMP_MAX];
	char implementation[64];
	char peer[64];
	char id[24];
	enum pop3_state state;
	enum pop3_request request;
	struct buf in, out;
	struct buf_line_reader lines;
	bool tls_active;
	char tls_desc[128];
	unsigned errors; /* -ERR replies to bad commands and failed logins */

	/* AUTHORIZATION */
	enum pop3_auth auth;
	enum pop3_login login;
	char user[POP3_USER_MAX + 1];
	char password[POP3_PASSWORD_MAX];
	size_t password_len;
	char digest[33];
	struct sasl_server *sasl;
	struct buf sasl_out;   /* a decoded challenge */
	const char *fail_text; /* the -ERR to give after AUTH_DELAY */

	/* TRANSACTION */
	struct pop3_listing *drop;
	uint32_t *deleted_uids;
	size_t n_deleted_uids;
	uint32_t *seen_uids; /* UPDATE: \Seen to set */
	size_t n_seen_uids;
	enum pop3_listing_kind listing;
	uint32_t list_next; /* the next message of a listing (index) */
	uint32_t msg;	    /* the message being sent (index) */
	uint64_t offset;    /* its next byte as stored */
	bool top;	    /* TOP, not RETR */
	bool started;	    /* its +OK is out */
	struct pop3_stream stream;
};

/* Replies. Each is one line; text longer than a response line may hold
 * (512 octets with CRLF, RFC 1939 section 3) is cut. */
void pop3_ok(struct pop3_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* -ERR for a bad command or a failed login: counts towards max_errors,
 * and closes the session once they are reached. code is an RFC 2449
 * response code without brackets, or NULL. */
void pop3_err(struct pop3_session *s, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* -ERR that is not the client's fault (a busy or broken maildrop). */
void pop3_fail(struct pop3_session *s, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A line of a multi-line response, byte-stuffed (RFC 1939 section 3). */
void pop3_line(struct pop3_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The terminating "." of a multi-line response. */
void pop3_end(struct pop3_session *s);
void pop3_close(struct pop3_session *s);
/* Whether USER/PASS and SASL PLAIN/LOGIN may be used now. */
bool pop3_cleartext_ok(const struct pop3_session *s);

/* pop3_auth.c */
void pop3_act_user(struct pop3_session *s, const char *args, size_t len);
void pop3_act_pass(struct pop3_session *s, const char *args, size_t len);
void pop3_act_apop(struct pop3_session *s, const char *args, size_t len);
void pop3_act_auth(struct pop3_session *s, const char *args, size_t len);
/* A line while a SASL exchange waits for the client (POP3_AUTH_SASL*). */
void pop3_sasl_line(struct pop3_session *s, const char *line, size_t len);
/* Forget the authentication under way, wiping its secrets. */
void pop3_auth_reset(struct pop3_session *s);
void pop3_auth_resume(struct pop3_session *s, enum pop3_request r,
		      const struct pop3_answer *a);

/* pop3_txn.c */
void pop3_act_stat(struct pop3_session *s, const char *args, size_t len);
void pop3_act_list(struct pop3_session *s, const char *args, size_t len);
void pop3_act_uidl(struct pop3_session *s, const char *args, size_t len);
void pop3_act_retr(struct pop3_session *s, const char *args, size_t len);
void pop3_act_top(struct pop3_session *s, const char *args, size_t len);
void pop3_act_dele(struct pop3_session *s, const char *args, size_t len);
void pop3_act_rset(struct pop3_session *s, const char *args, size_t len);
void pop3_act_noop(struct pop3_session *s, const char *args, size_t len);
/* QUIT in TRANSACTION: enter UPDATE (RFC 1939 section 6). */
void pop3_update(struct pop3_session *s);
void pop3_txn_resume(struct pop3_session *s, enum pop3_request r,
		     const struct pop3_answer *a);
/* Go on with a listing (POP3_REQ_MORE). */
void pop3_listing_more(struct pop3_session *s);

/* The command table (pop3_commands.c). */
struct pop3_command {
	const char *name;
	unsigned states; /* enum pop3_state bits where it is allowed */
	unsigned flags;	 /* POP3_CMD_* */
	void (*act)(struct pop3_session *s, const char *args, size_t len);
};

#define POP3_CMD_NO_ARGS 0x1u /* any argument is a syntax error */

const struct pop3_command *pop3_command_find(const char *verb, size_t len);

#endif
