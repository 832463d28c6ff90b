/*
 * config.h - quilld's configuration: defaults, YAML loading, validation.
 *
 * With no file, or with --dev, quilld runs on DESIGN.md's dev defaults:
 * everything under ./var, loopback listeners on ports 2525/2587/2465
 * (SMTP, submission) and 2110/2995 (POP3), a
 * self-signed certificate and the users alice and bob made on first start.
 * A YAML file (documented in docs/quilld.md) overrides
 * any of it; every error names file, line, column and key.
 */
#ifndef QUILL_SERVER_CONFIG_H
#define QUILL_SERVER_CONFIG_H

#include <limits.h>
#include <stdbool.h>

#include "log.h"
#include "netmatch.h"

#define CONFIG_MAX_LISTENERS 32
#define CONFIG_PATH_MAX	     1024

enum config_proto { PROTO_SMTP, PROTO_SUBMISSION, PROTO_LMTP, PROTO_POP3 };
/* How each user's mail is kept under mail_root/<user> (server/store). */
enum config_store { CONFIG_STORE_MAILDIR, CONFIG_STORE_MBOX };
enum config_tls { LISTEN_TLS_NONE, LISTEN_TLS_STARTTLS, LISTEN_TLS_IMPLICIT };
/* When cleartext passwords (POP3 USER/PASS, SASL PLAIN and LOGIN) may be
 * sent without TLS: always, only from a loopback address, or never
 * (RFC 2595 section 2.3, RFC 5034 section 4, RFC 8314 section 4.1). */
enum config_cleartext { CLEARTEXT_ALWAYS, CLEARTEXT_LOOPBACK, CLEARTEXT_NEVER };

struct config_listener {
	char name[32];
	enum config_proto proto;
	char address[256]; /* an IP address, or a name such as localhost
			    * whose every address is bound */
	unsigned port;
	enum config_tls tls;
};

struct quilld_config {
	char file[CONFIG_PATH_MAX]; /* "" when running on defaults */
	char state_dir[CONFIG_PATH_MAX];
	char hostname[256];
	char domain[256];
	char run_as[64]; /* "" = stay as started */

	enum log_level log_level;
	enum log_target log_target;

	char tls_cert[CONFIG_PATH_MAX], tls_key[CONFIG_PATH_MAX];
	char tls_chain[CONFIG_PATH_MAX];
	bool tls_self_signed; /* make cert and key if both are missing */

	char passwd_file[CONFIG_PATH_MAX];
	char mail_root[CONFIG_PATH_MAX];
	enum config_store store_kind; /* users.store: maildir (default) */
	bool allow_plain_passwords;
	bool dev_users; /* create alice and bob if the passwd-file is new */

	unsigned idle_timeout;	 /* seconds; RFC 5321 4.5.3.2.7: 5 min */
	unsigned shutdown_grace; /* seconds to let sessions end on SIGTERM */
	unsigned max_connections;
	unsigned max_per_ip; /* connections from one address; 421 beyond */

	/* SMTP AUTH (RFC 4954) and submission policy (RFC 6409) */
	bool auth_plaintext_without_tls; /* PLAIN/LOGIN before TLS */
	bool auth_smtp_listeners;	 /* offer AUTH on smtp listeners too */
	unsigned auth_failure_delay_ms;	 /* before 535 5.7.8 */
	bool submission_sender_check;	 /* MAIL FROM: the user's address */
	bool submission_add_headers;	 /* missing Date, Message-ID */

	unsigned smtp_line_max;		     /* RFC 5321 4.5.3.1.4: 512 */
	unsigned smtp_data_line_max;	     /* 4.5.3.1.6: 1000 */
	unsigned long long smtp_message_max; /* SIZE, RFC 1870 */
	unsigned smtp_max_recipients;	     /* 4.5.3.1.8: at least 100 */
	unsigned pool_threads;		     /* workers for blocking work */
	unsigned smtp_max_errors;
	bool smtp_bare_lf_accept;
	int smtp_vrfy; /* enum smtp_vrfy_mode: 0 cannot-verify, 1 verify, 2 off */
	unsigned smtp_greeting_delay_ms; /* wait before the 220; 0: none */
	unsigned smtp_command_timeout;	 /* seconds; 4.5.3.2.7: >= 5 min */
	unsigned smtp_data_timeout;	 /* seconds of silence in DATA/BDAT */
	/* clients that may relay without AUTH (RFC 5321 7.1); empty: none */
	struct netmatch_list smtp_relay_networks;

	unsigned pop3_line_max;	  /* RFC 2449 section 4: at least 255 */
	unsigned pop3_autologout; /* seconds; RFC 1939 section 3: >= 600 */
	enum config_cleartext pop3_cleartext;
	unsigned pop3_auth_failure_delay; /* seconds before a login's -ERR */
	bool pop3_apop;			  /* RFC 1939 section 7 */
	unsigned pop3_login_delay;	  /* RFC 2449 6.5; 0: none */
	unsigned pop3_max_errors;	  /* -ERR replies before closing */
	bool pop3_retr_sets_seen; /* RETR: \Seen in UPDATE (as Dovecot) */
	/* queue: local delivery from the spool (queue/queue_runner.h) */
	unsigned queue_retry_min;  /* seconds before the first retry */
	unsigned queue_retry_max;  /* longest wait between two retries */
	unsigned queue_max_age;	   /* then a temporary failure is final
				   * (RFC 5321 4.5.4.1: 4-5 days) */
	unsigned queue_parallel;   /* deliveries running at once */
	char queue_postmaster[65]; /* the user who gets postmaster's mail */
	unsigned queue_group_commit_ms; /* wait for more commits when idle */
	bool queue_hold; /* keep what is queued, deliver nothing (at start) */
	bool queue_sync_fsync; /* queue.sync: fsync each file, never syncfs */
	unsigned queue_delay_warning;  /* seconds deferred before a "delayed"
					* notice (RFC 3461 4.1); 0: never */
	unsigned queue_dsn_return_max; /* a failed notice returns a message
					* this big whole, else its header */

	struct config_listener listeners[CONFIG_MAX_LISTENERS];
	unsigned n_listeners;
};

/* The dev defaults, rooted at state_dir. */
void config_defaults(struct quilld_config *c, const char *state_dir);
/* Defaults, then the file on top. Returns 0, or -1 with a message
 * "file:line:column: ..." in err. */
int config_load(struct quilld_config *c, const char *path, char *err,
		size_t errlen);
/* Whether two configs have the same listeners (reload cannot rebind). */
bool config_same_listeners(const struct quilld_config *a,
			   const struct quilld_config *b);

const char *config_proto_name(enum config_proto p);
const char *config_tls_name(enum config_tls t);

#endif
