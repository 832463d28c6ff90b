/*
 * config.c - quilld's configuration (see config.h).
 *
 * The YAML file is read into a ytree, then each known key is taken with a
 * typed getter; an unknown key, a wrong type or a value out of range stops
 * the load with the key's position. Relative paths are taken as they are,
 * relative to quilld's working directory.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ytree.h"

#define DEV_LISTENER(n, p, port_, t)                                          \
	{                                                                     \
		.name = n, .proto = p, .address = "localhost", .port = port_, \
		.tls = t                                                      \
	}

static const struct config_listener dev_listeners[] = {
	DEV_LISTENER("smtp", PROTO_SMTP, 2525, LISTEN_TLS_STARTTLS),
	DEV_LISTENER("submission", PROTO_SUBMISSION, 2587, LISTEN_TLS_STARTTLS),
	DEV_LISTENER("submissions", PROTO_SUBMISSION, 2465,
		     LISTEN_TLS_IMPLICIT),
	DEV_LISTENER("pop3", PROTO_POP3, 2110, LISTEN_TLS_STARTTLS),
	DEV_LISTENER("pop3s", PROTO_POP3, 2995, LISTEN_TLS_IMPLICIT),
	/* loopback only, so no TLS (RFC 2033 5: not over wide area nets) */
	DEV_LISTENER("lmtp", PROTO_LMTP, 2424, LISTEN_TLS_NONE),
};

static void path_join(char *out, const char *dir, const char *name)
{
	snprintf(out, CONFIG_PATH_MAX, "%s/%s", dir, name);
}

void config_defaults(struct quilld_config *c, const char *state_dir)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->state_dir, sizeof(c->state_dir), "%s", state_dir);
	snprintf(c->hostname, sizeof(c->hostname), "mail.example.test");
	snprintf(c->domain, sizeof(c->domain), "example.test");
	c->log_level = LOGL_INFO;
	c->log_target = LOG_TO_STDERR;
	path_join(c->tls_cert, state_dir, "tls/cert.pem");
	path_join(c->tls_key, state_dir, "tls/key.pem");
	c->tls_self_signed = true;
	path_join(c->passwd_file, state_dir, "passwd");
	path_join(c->mail_root, state_dir, "mail");
	c->dev_users = true;
	c->idle_timeout = 300;
	c->smtp_command_timeout = 300; /* RFC 5321 4.5.3.2.7 */
	c->smtp_data_timeout = 300;    /* RFC 5321 4.5.3.2.5, 4.5.3.2.6 */
	c->shutdown_grace = 10;
	c->max_connections = 1000;
	c->max_per_ip = 100;
	/* loopback only: plaintext logins cannot be sniffed (a file turns
	 * this off unless it says otherwise: config_load) */
	c->auth_plaintext_without_tls = true;
	c->auth_failure_delay_ms = 1000;
	c->submission_sender_check = true;
	c->submission_add_headers = true;
	c->smtp_line_max = 512;
	c->smtp_data_line_max = 1000;
	c->smtp_message_max = 50ULL * 1024 * 1024;
	c->smtp_max_recipients = 1000;
	c->pool_threads = 16;
	c->smtp_max_errors = 10;
	c->pop3_line_max = 255;
	c->pop3_autologout = 600;
	c->pop3_cleartext = CLEARTEXT_LOOPBACK;
	c->pop3_auth_failure_delay = 2;
	c->pop3_apop = true;
	c->pop3_login_delay = 0;
	c->pop3_max_errors = 20;
	c->pop3_retr_sets_seen = true;
	c->queue_retry_min = 60;
	c->queue_retry_max = 3600;
	c->queue_max_age = 5 * 86400;
	c->queue_parallel = 8;
	snprintf(c->queue_postmaster, sizeof(c->queue_postmaster),
		 "postmaster");
	c->queue_group_commit_ms = 0;
	c->queue_delay_warning = 4 * 3600;
	c->queue_dsn_return_max = 50000;
	c->n_listeners = sizeof(dev_listeners) / sizeof(dev_listeners[0]);
	memcpy(c->listeners, dev_listeners, sizeof(dev_listeners));
}

/* Loading context: the tree, the error, and the parent key path. */
struct loader {
	const struct ytree *t;
	struct ytree_error *err;
};

static int get_string(struct loader *ld, const struct ytree_node *map,
		      const char *section, const char *key, char *dst,
		      size_t dstsize)
{
	const struct ytree_node *n = ytree_map_get(map, key);
	const char *v;
	char path[128];
	if (n == NULL)
		return 0;
	snprintf(path, sizeof(path), "%s%s%s", section, *section ? "." : "",
		 key);
	if (ytree_scalar_string(ld->t, n, path, &v, ld->err) != 0)
		return -1;
	if (strlen(v) == 0 || strlen(v) >= dstsize)
		return ytree_error_at(ld->err, ld->t, n,
				      "key '%s': expected 1 to %zu bytes", path,
				      dstsize - 1);
	snprintf(dst, dstsize, "%s", v);
	return 0;
}

static int get_u64(struct loader *ld, const struct ytree_node *map,
		   const char *section, const char *key, unsigned long long min,
		   unsigned long long max, unsigned long long *dst)
{
	const struct ytree_node *n = ytree_map_get(map, key);
	char path[128];
	if (n == NULL)
		return 0;
	snprintf(path, sizeof(path), "%s.%s", section, key);
	return ytree_scalar_uint(ld->t, n, path, min, max, dst, ld->err);
}

static int get_uint(struct loader *ld, const struct ytree_node *map,
		    const char *section, const char *key, unsigned min,
		    unsigned max, unsigned *dst)
{
	unsigned long long v = *dst;
	if (get_u64(ld, map, section, key, min, max, &v) != 0)
		return -1;
	*dst = (unsigned)v;
	return 0;
}

static int get_bool(struct loader *ld, const struct ytree_node *map,
		    const char *section, const char *key, bool *dst)
{
	const struct ytree_node *n = ytree_map_get(map, key);
	char path[128];
	if (n == NULL)
		return 0;
	snprintf(path, sizeof(path), "%s.%s", section, key);
	return ytree_scalar_bool(ld->t, n, path, dst, ld->err);
}

/* A string that must be one of names[]; its index goes to *dst. */
static int get_enum(struct loader *ld, const struct ytree_node *map,
		    const char *section, const char *key,
		    const char *const *names, int *dst)
{
	char v[32];
	const struct ytree_node *n = ytree_map_get(map, key);
	if (get_string(ld, map, section, key, v, sizeof(v)) != 0)
		return -1;
	if (n == NULL)
		return 0;
	for (int i = 0; names[i] != NULL; i++)
		if (strcmp(v, names[i]) == 0) {
			*dst = i;
			return 0;
		}
	return ytree_error_at(ld->err, ld->t, n,
			      "key '%s.%s': unknown value '%s'", section, key,
			      v);
}

/* An optional section: a map with only the allowed keys. */
static int section(struct loader *ld, const struct ytree_node *root,
		   const char *name, const char *const *allowed,
		   const struct ytree_node **map_r)
{
	const struct ytree_node *n = ytree_map_get(root, name);
	*map_r = n;
	if (n == NULL)
		return 0;
	return ytree_check_keys(ld->t, n, name, allowed, ld->err);
}

static int load_log(struct loader *ld, const struct ytree_node *root,
		    struct quilld_config *c)
{
	static const char *const keys[] = {"level", "target", NULL};
	static const char *const levels[] = {"debug", "info", "warn", "error",
					     NULL};
	static const char *const targets[] = {"stderr", "syslog", NULL};
	const struct ytree_node *m;
	int level = (int)c->log_level, target = (int)c->log_target;
	if (section(ld, root, "log", keys, &m) != 0 ||
	    get_enum(ld, m, "log", "level", levels, &level) != 0 ||
	    get_enum(ld, m, "log", "target", targets, &target) != 0)
		return -1;
	c->log_level = (enum log_level)level;
	c->log_target = (enum log_target)target;
	return 0;
}

static int load_tls(struct loader *ld, const struct ytree_node *root,
		    struct quilld_config *c)
{
	static const char *const keys[] = {"cert", "key", "chain",
					   "self_signed", NULL};
	const struct ytree_node *m;
	if (section(ld, root, "tls", keys, &m) != 0)
		return -1;
	if (m != NULL)
		c->tls_self_signed = false; /* explicit files: no guessing */
	return get_string(ld, m, "tls", "cert", c->tls_cert,
			  sizeof(c->tls_cert)) ||
			       get_string(ld, m, "tls", "key", c->tls_key,
					  sizeof(c->tls_key)) ||
			       get_string(ld, m, "tls", "chain", c->tls_chain,
					  sizeof(c->tls_chain)) ||
			       get_bool(ld, m, "tls", "self_signed",
					&c->tls_self_signed)
		       ? -1
		       : 0;
}

static int load_users(struct loader *ld, const struct ytree_node *root,
		      struct quilld_config *c)
{
	static const char *const keys[] = {"passwd_file", "mail_root", "store",
					   "allow_plain", "dev_users", NULL};
	static const char *const kinds[] = {"maildir", "mbox", NULL};
	const struct ytree_node *m;
	int kind = (int)c->store_kind;
	if (section(ld, root, "users", keys, &m) != 0 ||
	    get_enum(ld, m, "users", "store", kinds, &kind) != 0)
		return -1;
	c->store_kind = (enum config_store)kind;
	return get_string(ld, m, "users", "passwd_file", c->passwd_file,
			  sizeof(c->passwd_file)) ||
			       get_string(ld, m, "users", "mail_root",
					  c->mail_root, sizeof(c->mail_root)) ||
			       get_bool(ld, m, "users", "allow_plain",
					&c->allow_plain_passwords) ||
			       get_bool(ld, m, "users", "dev_users",
					&c->dev_users)
		       ? -1
		       : 0;
}

static int load_limits(struct loader *ld, const struct ytree_node *root,
		       struct quilld_config *c)
{
	static const char *const keys[] = {"idle_timeout",    "shutdown_grace",
					   "max_connections", "max_per_ip",
					   "pool_threads",    NULL};
	const struct ytree_node *m;
	if (section(ld, root, "limits", keys, &m) != 0 ||
	    get_uint(ld, m, "limits", "idle_timeout", 1, 86400,
		     &c->idle_timeout) != 0 ||
	    get_uint(ld, m, "limits", "shutdown_grace", 0, 3600,
		     &c->shutdown_grace) != 0 ||
	    get_uint(ld, m, "limits", "max_connections", 1, 1000000,
		     &c->max_connections) != 0 ||
	    get_uint(ld, m, "limits", "max_per_ip", 1, 1000000,
		     &c->max_per_ip) != 0 ||
	    get_uint(ld, m, "limits", "pool_threads", 1, 64,
		     &c->pool_threads) != 0)
		return -1;
	return 0;
}

/* smtp.relay_networks: a list of address prefixes (netmatch.h) whose
 * clients may relay (RFC 5321 3.6.1, 7.1); none by default. */
static int load_relay_networks(struct loader *ld, const struct ytree_node *m,
			       struct quilld_config *c)
{
	const struct ytree_node *seq = ytree_map_get(m, "relay_networks");
	char why[128];
	const char *v;
	if (seq == NULL)
		return 0;
	if (seq->kind != YTREE_SEQ || ytree_len(seq) > NETMATCH_MAX)
		return ytree_error_at(ld->err, ld->t, seq,
				      "key 'smtp.relay_networks': expected a "
				      "list of at most %d prefixes",
				      NETMATCH_MAX);
	c->smtp_relay_networks.n = 0;
	for (size_t i = 0; i < ytree_len(seq); i++) {
		const struct ytree_node *n = ytree_seq_at(seq, i);
		if (ytree_scalar_string(ld->t, n, "smtp.relay_networks[]", &v,
					ld->err) != 0)
			return -1;
		if (netmatch_add(&c->smtp_relay_networks, v, why,
				 sizeof(why)) != 0)
			return ytree_error_at(ld->err, ld->t, n,
					      "key 'smtp.relay_networks': "
					      "entry '%.64s': %s",
					      v, why);
	}
	return 0;
}

static int load_smtp(struct loader *ld, const struct ytree_node *root,
		     struct quilld_config *c)
{
	static const char *const keys[] = {
		"line_max",	     "max_errors",
		"bare_lf",	     "data_line_max",
		"message_max",	     "max_recipients",
		"greeting_delay_ms", "command_timeout",
		"data_timeout",	     "vrfy",
		"relay_networks",    NULL};
	static const char *const bare_lf[] = {"reject", "accept", NULL};
	static const char *const vrfy[] = {"cannot-verify", "verify", "off",
					   NULL};
	const struct ytree_node *m;
	int lf = c->smtp_bare_lf_accept ? 1 : 0;
	/* RFC 5321 4.5.3.1: the sizes a server must accept at least */
	if (section(ld, root, "smtp", keys, &m) != 0 ||
	    get_uint(ld, m, "smtp", "line_max", 512, 65536,
		     &c->smtp_line_max) != 0 ||
	    get_uint(ld, m, "smtp", "max_errors", 1, 1000,
		     &c->smtp_max_errors) != 0 ||
	    get_enum(ld, m, "smtp", "bare_lf", bare_lf, &lf) != 0 ||
	    get_enum(ld, m, "smtp", "vrfy", vrfy, &c->smtp_vrfy) != 0 ||
	    get_uint(ld, m, "smtp", "data_line_max", 1000, 1 << 20,
		     &c->smtp_data_line_max) != 0 ||
	    get_uint(ld, m, "smtp", "max_recipients", 100, 100000,
		     &c->smtp_max_recipients) != 0 ||
	    get_u64(ld, m, "smtp", "message_max", 1024, 1ULL << 40,
		    &c->smtp_message_max) != 0 ||
	    get_uint(ld, m, "smtp", "greeting_delay_ms", 0, 30000,
		     &c->smtp_greeting_delay_ms) != 0 ||
	    get_uint(ld, m, "smtp", "command_timeout", 1, 86400,
		     &c->smtp_command_timeout) != 0 ||
	    get_uint(ld, m, "smtp", "data_timeout", 1, 86400,
		     &c->smtp_data_timeout) != 0 ||
	    load_relay_networks(ld, m, c) != 0)
		return -1;
	c->smtp_bare_lf_accept = lf == 1;
	return 0;
}

static int load_pop3(struct loader *ld, const struct ytree_node *root,
		     struct quilld_config *c)
{
	static const char *const keys[] = {
		"line_max",	      "autologout",	"cleartext_auth",
		"auth_failure_delay", "apop",		"login_delay",
		"max_errors",	      "retr_sets_seen", NULL};
	static const char *const cleartext[] = {"always", "loopback", "never",
						NULL};
	const struct ytree_node *m;
	int ct = (int)c->pop3_cleartext;
	/* RFC 2449 section 4 (255 octets at least), RFC 1939 section 3
	 * (an autologout timer of at least 10 minutes) */
	if (section(ld, root, "pop3", keys, &m) != 0 ||
	    get_uint(ld, m, "pop3", "line_max", 255, 8192, &c->pop3_line_max) !=
		    0 ||
	    get_uint(ld, m, "pop3", "autologout", 600, 86400,
		     &c->pop3_autologout) != 0 ||
	    get_enum(ld, m, "pop3", "cleartext_auth", cleartext, &ct) != 0 ||
	    get_uint(ld, m, "pop3", "auth_failure_delay", 0, 60,
		     &c->pop3_auth_failure_delay) != 0 ||
	    get_bool(ld, m, "pop3", "apop", &c->pop3_apop) != 0 ||
	    get_uint(ld, m, "pop3", "login_delay", 0, 86400,
		     &c->pop3_login_delay) != 0 ||
	    get_uint(ld, m, "pop3", "max_errors", 1, 1000,
		     &c->pop3_max_errors) != 0 ||
	    get_bool(ld, m, "pop3", "retr_sets_seen",
		     &c->pop3_retr_sets_seen) != 0)
		return -1;
	c->pop3_cleartext = (enum config_cleartext)ct;
	return 0;
}

/* auth: SMTP AUTH (RFC 4954); submission: RFC 6409 policy */
static int load_auth(struct loader *ld, const struct ytree_node *root,
		     struct quilld_config *c)
{
	static const char *const auth_keys[] = {"plaintext_without_tls",
						"smtp_listeners",
						"failure_delay_ms", NULL};
	static const char *const sub_keys[] = {"sender_check", "add_headers",
					       NULL};
	const struct ytree_node *m, *sub;
	return section(ld, root, "auth", auth_keys, &m) ||
			       get_bool(ld, m, "auth", "plaintext_without_tls",
					&c->auth_plaintext_without_tls) ||
			       get_bool(ld, m, "auth", "smtp_listeners",
					&c->auth_smtp_listeners) ||
			       get_uint(ld, m, "auth", "failure_delay_ms", 0,
					60000, &c->auth_failure_delay_ms) ||
			       section(ld, root, "submission", sub_keys,
				       &sub) ||
			       get_bool(ld, sub, "submission", "sender_check",
					&c->submission_sender_check) ||
			       get_bool(ld, sub, "submission", "add_headers",
					&c->submission_add_headers)
		       ? -1
		       : 0;
}

static int load_queue(struct loader *ld, const struct ytree_node *root,
		      struct quilld_config *c)
{
	static const char *const keys[] = {
		"retry_min",	 "retry_max",	    "max_age", "parallel",
		"postmaster",	 "group_commit_ms", "hold",    "sync",
		"delay_warning", "dsn_return_max",  NULL};
	static const char *const syncs[] = {"syncfs", "fsync", NULL};
	int sync = c->queue_sync_fsync ? 1 : 0;
	const struct ytree_node *m;
	if (section(ld, root, "queue", keys, &m) != 0 ||
	    get_uint(ld, m, "queue", "retry_min", 1, 86400,
		     &c->queue_retry_min) != 0 ||
	    get_uint(ld, m, "queue", "retry_max", 1, 7 * 86400,
		     &c->queue_retry_max) != 0 ||
	    get_uint(ld, m, "queue", "max_age", 1, 60 * 86400,
		     &c->queue_max_age) != 0 ||
	    get_uint(ld, m, "queue", "parallel", 1, 64, &c->queue_parallel) !=
		    0 ||
	    get_string(ld, m, "queue", "postmaster", c->queue_postmaster,
		       sizeof(c->queue_postmaster)) != 0 ||
	    get_uint(ld, m, "queue", "group_commit_ms", 0, 1000,
		     &c->queue_group_commit_ms) != 0 ||
	    get_bool(ld, m, "queue", "hold", &c->queue_hold) != 0 ||
	    get_enum(ld, m, "queue", "sync", syncs, &sync) != 0 ||
	    get_uint(ld, m, "queue", "delay_warning", 0, 60 * 86400,
		     &c->queue_delay_warning) != 0 ||
	    get_uint(ld, m, "queue", "dsn_return_max", 0, 50u << 20,
		     &c->queue_dsn_return_max) != 0)
		return -1;
	c->queue_sync_fsync = sync == 1;
	if (c->queue_retry_max < c->queue_retry_min)
		c->queue_retry_max = c->queue_retry_min;
	return 0;
}

static int load_listener(struct loader *ld, const struct ytree_node *n,
			 struct config_listener *l)
{
	static const char *const keys[] = {"name", "protocol", "address",
					   "port", "tls",      NULL};
	static const char *const protos[] = {"smtp", "submission", "lmtp",
					     "pop3", NULL};
	static const char *const tls[] = {"none", "starttls", "implicit", NULL};
	int proto = -1, mode = LISTEN_TLS_NONE;
	memset(l, 0, sizeof(*l));
	snprintf(l->address, sizeof(l->address), "localhost");
	if (ytree_check_keys(ld->t, n, "listeners[]", keys, ld->err) != 0 ||
	    get_enum(ld, n, "listeners[]", "protocol", protos, &proto) != 0 ||
	    get_string(ld, n, "listeners[]", "name", l->name,
		       sizeof(l->name)) != 0 ||
	    get_string(ld, n, "listeners[]", "address", l->address,
		       sizeof(l->address)) != 0 ||
	    get_uint(ld, n, "listeners[]", "port", 1, 65535, &l->port) != 0 ||
	    get_enum(ld, n, "listeners[]", "tls", tls, &mode) != 0)
		return -1;
	if (proto < 0 || l->port == 0)
		return ytree_error_at(ld->err, ld->t, n,
				      "a listener needs 'protocol' and 'port'");
	l->proto = (enum config_proto)proto;
	l->tls = (enum config_tls)mode;
	if (l->name[0] == '\0')
		snprintf(l->name, sizeof(l->name), "%s", protos[proto]);
	return 0;
}

static int load_listeners(struct loader *ld, const struct ytree_node *root,
			  struct quilld_config *c)
{
	const struct ytree_node *seq = ytree_map_get(root, "listeners");
	if (seq == NULL)
		return 0;
	size_t n = ytree_len(seq);
	if (seq->kind != YTREE_SEQ || n == 0 || n > CONFIG_MAX_LISTENERS)
		return ytree_error_at(ld->err, ld->t, seq,
				      "key 'listeners': expected a list of 1 "
				      "to %d listeners",
				      CONFIG_MAX_LISTENERS);
	for (size_t i = 0; i < n; i++)
		if (load_listener(ld, ytree_seq_at(seq, i), &c->listeners[i]) !=
		    0)
			return -1;
	c->n_listeners = (unsigned)n;
	return 0;
}

static int load_root(struct loader *ld, const struct ytree_node *root,
		     struct quilld_config *c)
{
	static const char *const keys[] = {
		"state_dir", "hostname", "domain",     "run_as",    "log",
		"tls",	     "users",	 "limits",     "smtp",	    "pop3",
		"queue",     "auth",	 "submission", "listeners", NULL};
	char state_dir[CONFIG_PATH_MAX] = "";
	if (ytree_check_keys(ld->t, root, "", keys, ld->err) != 0 ||
	    get_string(ld, root, "", "state_dir", state_dir,
		       sizeof(state_dir)) != 0)
		return -1;
	if (state_dir[0] != '\0') { /* the paths that derive from it */
		config_defaults(c, state_dir);
		c->auth_plaintext_without_tls = false; /* as config_load */
	}
	return get_string(ld, root, "", "hostname", c->hostname,
			  sizeof(c->hostname)) ||
			       get_string(ld, root, "", "domain", c->domain,
					  sizeof(c->domain)) ||
			       get_string(ld, root, "", "run_as", c->run_as,
					  sizeof(c->run_as)) ||
			       load_log(ld, root, c) || load_tls(ld, root, c) ||
			       load_users(ld, root, c) ||
			       load_limits(ld, root, c) ||
			       load_smtp(ld, root, c) ||
			       load_pop3(ld, root, c) ||
			       load_queue(ld, root, c) ||
			       load_auth(ld, root, c) ||
			       load_listeners(ld, root, c)
		       ? -1
		       : 0;
}

int config_load(struct quilld_config *c, const char *path, char *err,
		size_t errlen)
{
	struct ytree_error yerr;
	struct ytree *t = ytree_load_file(path, NULL, &yerr);
	int rc = -1;

	config_defaults(c, "var");
	/* RFC 4954 4, RFC 8314: a configured server may listen beyond
	 * loopback, so plaintext logins need TLS unless the file says so */
	c->auth_plaintext_without_tls = false;
	if (t != NULL) {
		struct loader ld = {.t = t, .err = &yerr};
		const struct ytree_node *root = ytree_root(t);
		if (root == NULL)
			rc = 0; /* an empty file: the defaults */
		else
			rc = load_root(&ld, root, c);
	}
	if (rc != 0)
		ytree_error_format(&yerr, err, errlen);
	else
		snprintf(c->file, sizeof(c->file), "%s", path);
	ytree_free(&t);
	return rc;
}

bool config_same_listeners(const struct quilld_config *a,
			   const struct quilld_config *b)
{
	if (a->n_listeners != b->n_listeners)
		return false;
	for (unsigned i = 0; i < a->n_listeners; i++) {
		const struct config_listener *x = &a->listeners[i];
		const struct config_listener *y = &b->listeners[i];
		if (x->proto != y->proto || x->port != y->port ||
		    x->tls != y->tls || strcmp(x->address, y->address) != 0)
			return false;
	}
	return true;
}

const char *config_proto_name(enum config_proto p)
{
	static const char *const names[] = {"smtp", "submission", "lmtp",
					    "pop3"};
	return names[p];
}

const char *config_tls_name(enum config_tls t)
{
	static const char *const names[] = {"none", "starttls", "implicit"};
	return names[t];
}
