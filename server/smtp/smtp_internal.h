/*
 * smtp_internal.h - the SMTP engine's state, shared by its own files only
 * (smtp_session.c runs the loop, smtp_commands.c holds the command table,
 * smtp_txn.c the mail transaction, smtp_received.c the trace header).
 */
#ifndef QUILL_SMTP_INTERNAL_H
#define QUILL_SMTP_INTERNAL_H

#include "smtp_data.h"
#include "smtp_path.h"
#include "smtp_session.h"

/* Session states; a command lists the states it is allowed in. */
enum smtp_state {
	SMTP_ST_GREETED = 1u << 0, /* greeting sent, no EHLO/HELO yet */
	SMTP_ST_READY = 1u << 1,   /* EHLO/HELO done, no transaction */
	SMTP_ST_MAIL = 1u << 2,	   /* MAIL accepted, no recipient yet */
	SMTP_ST_RCPT = 1u << 3,	   /* at least one recipient accepted */
	SMTP_ST_DATA = 1u << 4,	   /* reading the message */
	SMTP_ST_CLOSING = 1u << 5, /* QUIT or 421 sent */
	SMTP_ST_BDAT = 1u << 6,	   /* reading the octets of a BDAT chunk */
	SMTP_ST_AUTH = 1u << 7,	   /* in an AUTH exchange: lines are SASL */
};

/* Adding Date and Message-ID to a submitted message (RFC 6409 8.2, 8.3),
 * smtp_submit.c. The header section is scanned as it passes through the
 * message buffer; the fields go at its top while the buffer still holds
 * all of it, else where it ends. */
struct smtp_hdrfix {
	bool active;	/* this message gets the missing fields */
	bool done;	/* the header section ended: decided */
	bool flushed;	/* part of the header went to the host already */
	bool continued; /* the line before was a header field */
	bool saw_date, saw_msgid;
	size_t top;  /* where the client's message starts in the buffer */
	size_t scan; /* bytes of the buffer scanned */
	/* BDAT chunks split lines anywhere: a line that began before the
	 * buffer went to the host. Its field name, so far, is in head; skip
	 * says it was judged already and only its end is looked for. */
	bool split, skip;
	unsigned char head[32];
	size_t head_len;
};

/* BDAT (RFC 3030 2): the chunk being read and the transaction's state. */
struct smtp_bdat {
	bool used;		  /* a BDAT was accepted in this transaction */
	bool begun;		  /* the host opened the spool for it */
	bool last;		  /* the chunk being read ends the message */
	bool discard;		  /* read the chunk's octets, keep none */
	bool prev_cr;		  /* the octet before was a CR */
	unsigned long long left;  /* octets of this chunk still to read */
	unsigned long long chunk; /* octets in this chunk */
	enum smtp_state after;	  /* state once a discarded chunk is read */
	int code;		  /* the reply for a discarded chunk */
	char enh[16];
	char text[128];
};

/* The mail transaction (RFC 5321 3.3): from MAIL to the end of DATA. */
struct smtp_txn {
	struct smtp_envelope env;
	size_t rcpt_cap;
	struct smtp_rcpt pending; /* judged by the host (SMTP_REQ_RCPT) */
	struct smtp_data_reader data;
	struct buf msg; /* message bytes for the host */
	char queue_id[64];
	size_t lmtp_next; /* LMTP: the recipient being delivered */
	bool failed;	  /* the host could not spool part of it */
	int fail_code;
	char fail_enh[16];
	char fail_text[128];
	struct smtp_bdat bdat;
	char date[64]; /* of the message, from the host */
	struct smtp_hdrfix fix;
};

/* A reply kept back, e.g. 535 during the failure delay. */
struct smtp_held_reply {
	int code;
	char enh[16];
	char text[128];
};

#define SMTP_HELO_MAX 256 /* a domain (255) or an address literal */

struct smtp_session {
	struct smtp_settings st;
	char hostname[256];
	char domain[256];
	char peer[64];
	char id[20]; /* session id for logs */
	enum smtp_state state;
	enum smtp_request request;
	struct buf in, out;
	struct buf_line_reader lines;
	bool esmtp; /* EHLO (not HELO) was used */
	bool tls_active;
	char tls_desc[128];
	char helo[SMTP_HELO_MAX + 1];
	unsigned errors;	  /* error replies so far */
	unsigned commands;	  /* commands so far */
	char auth_user[256];	  /* "" until AUTH succeeds */
	struct sasl_server *sasl; /* the AUTH exchange under way, or NULL
				   * (also while the host holds it) */
	bool auth_final;	  /* SCRAM's last server message sent in a
				   * 334: an empty line completes the AUTH */
	struct buf auth_buf;	  /* challenges, decoded responses */
	struct smtp_held_reply auth_fail;
	struct smtp_txn txn;
	bool vrfy_pending; /* the RCPT request is a VRFY's (smtp.vrfy) */
};

/* Append a reply line. "code" is the three-digit reply code; "enh" the
 * enhanced status code (RFC 3463) or NULL; more != 0 gives "code-" (a line
 * of a multi-line reply, RFC 5321 4.2.1). */
void smtp_reply(struct smtp_session *s, int code, const char *enh, int more,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A 5xx or 4xx reply to a bad command: counts towards max_errors and
 * closes the session with 421 once it is reached. */
void smtp_reply_error(struct smtp_session *s, int code, const char *enh,
		      const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Reset the mail transaction (RFC 5321 4.1.1.5) */
void smtp_transaction_reset(struct smtp_session *s);
void smtp_close(struct smtp_session *s);

/* smtp_txn.c: MAIL, RCPT and DATA, and the host's answers to them */
int smtp_check_mail(struct smtp_session *s, const char *args, size_t len);
void smtp_act_mail(struct smtp_session *s, const char *args, size_t len);
int smtp_check_rcpt(struct smtp_session *s, const char *args, size_t len);
void smtp_act_rcpt(struct smtp_session *s, const char *args, size_t len);
int smtp_check_data(struct smtp_session *s, const char *args, size_t len);
void smtp_act_data(struct smtp_session *s, const char *args, size_t len);
/* In SMTP_ST_DATA: read message input; raises the DATA requests. */
void smtp_data_input(struct smtp_session *s);
void smtp_txn_resume(struct smtp_session *s, const struct smtp_answer *a);
/* The message is over (DATA's dot or BDAT LAST): hand it to the host. */
void smtp_txn_message_done(struct smtp_session *s);

/* smtp_bdat.c: BDAT (RFC 3030) */
int smtp_check_bdat(struct smtp_session *s, const char *args, size_t len);
void smtp_act_bdat(struct smtp_session *s, const char *args, size_t len);
/* In SMTP_ST_BDAT: read the chunk's octets; raises the DATA requests. */
void smtp_bdat_input(struct smtp_session *s);
/* DATA_BEGIN was answered for a BDAT transaction. */
void smtp_bdat_begun(struct smtp_session *s, const struct smtp_answer *a);
void smtp_txn_init(struct smtp_session *s);
void smtp_rcpt_free(struct smtp_rcpt *r);
/* Make path the pending recipient; 451 and -1 when out of memory. */
int smtp_txn_pending_set(struct smtp_session *s, const struct smtp_path *path);

/* smtp_vrfy.c: VRFY (RFC 5321 3.5.3), and the host's answer in verify
 * mode (the pending recipient is the VRFY's) */
void smtp_act_vrfy(struct smtp_session *s, const char *args, size_t len);
void smtp_vrfy_resume(struct smtp_session *s, const struct smtp_answer *a);
void smtp_txn_free(struct smtp_session *s);

/* smtp_auth.c: AUTH (RFC 4954) */
int smtp_check_auth(struct smtp_session *s, const char *args, size_t len);
void smtp_act_auth(struct smtp_session *s, const char *args, size_t len);
/* In SMTP_ST_AUTH: one client line of the exchange. */
void smtp_auth_line(struct smtp_session *s, const char *line, size_t len);
/* A line too long or otherwise unreadable ended the exchange. */
void smtp_auth_abort(struct smtp_session *s, int code, const char *enh,
		     const char *text);
void smtp_auth_resume(struct smtp_session *s, const struct smtp_answer *a);
/* AUTH may run now: advertised in EHLO (the mechanisms in mechs_r). */
bool smtp_auth_available(const struct smtp_session *s,
			 const char *const **mechs_r);
void smtp_auth_init(struct smtp_session *s);
void smtp_auth_free(struct smtp_session *s);

/* smtp_submit.c: RFC 6409 policy for authenticated sessions */
/* MAIL FROM must be the user's own address: 0, or -1 after a 550 */
/* Whether p is an address of the logged-in user: the user name at the
 * mail domain or at our host name (RFC 6409 6.1). False if nobody has
 * logged in. */
bool smtp_submit_own_address(const struct smtp_session *s,
			     const struct smtp_path *p);
int smtp_submit_check_sender(struct smtp_session *s,
			     const struct smtp_path *from);
/* At DATA: start scanning the message for Date and Message-ID. */
void smtp_submit_begin(struct smtp_session *s);
/* After the data reader appended to the message: scan what is new and
 * add the missing fields once the header section ends (at_end: the
 * message ended). */
void smtp_submit_scan(struct smtp_session *s, bool at_end);
/* The message buffer goes to the host (it takes all of it): a header
 * line left unfinished is judged by its start now. */
void smtp_submit_flushed(struct smtp_session *s);

/* smtp_received.c: the Received: header of RFC 5321 4.4 into out */
int smtp_received_header(const struct smtp_session *s, const char *date,
			 struct buf *out);

/* The command table (smtp_commands.c). */
struct smtp_command {
	const char *name;
	unsigned states; /* enum smtp_state bits where it is allowed */
	unsigned flags;	 /* SMTP_CMD_* */
	/* Validate arguments, no side effects: 0 or an error reply sent */
	int (*check)(struct smtp_session *s, const char *args, size_t len);
	/* Act; the arguments have passed check */
	void (*act)(struct smtp_session *s, const char *args, size_t len);
};

#define SMTP_CMD_NO_ARGS   0x1u /* any argument is a 501 */
#define SMTP_CMD_GROUP_END 0x2u /* ends a pipelined group (RFC 2920 3.1) */
#define SMTP_CMD_NOT_LMTP  0x4u /* HELO, EHLO: not in LMTP (RFC 2033 4.1) */
#define SMTP_CMD_LMTP_ONLY 0x8u /* LHLO */

/* Whether cmd exists in the session's protocol (SMTP or LMTP). */
bool smtp_command_in_mode(const struct smtp_session *s,
			  const struct smtp_command *cmd);

/* smtp_lmtp.c: the replies after the final dot in LMTP (RFC 2033 4.2) */
void smtp_lmtp_start(struct smtp_session *s);
void smtp_lmtp_resume(struct smtp_session *s, const struct smtp_answer *a);
/* A failed message fails for every recipient: the reply written since
 * output offset at is repeated until there is one per recipient. */
void smtp_lmtp_repeat(struct smtp_session *s, size_t at);

const struct smtp_command *smtp_command_find(const char *verb, size_t len);

#endif
