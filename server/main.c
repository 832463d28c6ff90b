/*
 * main.c - quilld: parse the command line, load the configuration,
 * prepare the state directory (--dev: certificate and users), bind, drop
 * privileges, print how to connect, and run the host until told to stop.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "host.h"
#include "log.h"
#include "passwd.h"
#include "privdrop.h"
#include "tls.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: quilld [--dev] [-c FILE] [--check-config]\n"
		   "  --dev            run on the dev defaults in ./var "
		   "(also the default without -c)\n"
		   "  -c, --config F   read the YAML configuration F\n"
		   "  --check-config   load the configuration and exit\n"
		   "  --version, --help\n");
}

/* mkdir -p for one path, mode for what is made. */
static int make_dirs(const char *path, mode_t mode)
{
	char tmp[CONFIG_PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(tmp, mode) != 0 && errno != EEXIST ? -1 : 0;
}

/* First start on the dev defaults: alice and bob (DESIGN.md). */
static int make_dev_users(const struct quilld_config *cfg)
{
	static const char *const users[][2] = {{"alice", "wonderland"},
					       {"bob", "builder"}};
	struct passwd_error perr;
	char hash[PASSWD_HASH_SIZE], msg[600];
	if (access(cfg->passwd_file, F_OK) == 0)
		return 0;
	for (size_t i = 0; i < 2; i++) {
		/* {SCRAM-SHA-256} serves SCRAM and still verifies PLAIN and
		 * LOGIN passwords (lib/passwd.h) */
		if (passwd_hash("SCRAM-SHA-256", users[i][1], hash,
				sizeof(hash)) != 0 ||
		    passwd_file_add(cfg->passwd_file, users[i][0], hash, NULL,
				    &perr) != 0) {
			log_error(NULL, "dev_users_failed %s",
				  passwd_error_str(&perr, msg, sizeof(msg)));
			return -1;
		}
	}
	log_info(NULL, "dev_users_created file=%s users=alice,bob",
		 cfg->passwd_file);
	return 0;
}

static int prepare_state(const struct quilld_config *cfg)
{
	char err[512];
	if (make_dirs(cfg->state_dir, 0750) != 0 ||
	    make_dirs(cfg->mail_root, 0750) != 0) {
		log_error(NULL, "state_dir_failed dir=%s error=\"%s\"",
			  cfg->state_dir, strerror(errno));
		return -1;
	}
	if (cfg->tls_self_signed &&
	    tls_ensure_self_signed(cfg->tls_cert, cfg->tls_key, cfg->hostname,
				   err, sizeof(err)) != 0) {
		log_error(NULL, "self_signed_failed %s", err);
		return -1;
	}
	return cfg->dev_users ? make_dev_users(cfg) : 0;
}

/* The first listener with a TLS mode whose protocol is SMTP-like (smtp,
 * submission) or POP3, or NULL. */
static const struct config_listener *
find_listener(const struct quilld_config *cfg, bool pop3, enum config_tls tls)
{
	for (unsigned i = 0; i < cfg->n_listeners; i++) {
		const struct config_listener *l = &cfg->listeners[i];
		bool is_pop3 = l->proto == PROTO_POP3;
		bool is_smtp =
			l->proto == PROTO_SMTP || l->proto == PROTO_SUBMISSION;
		if (l->tls == tls && (pop3 ? is_pop3 : is_smtp))
			return l;
	}
	return NULL;
}

static void print_pop3_hints(const struct quilld_config *cfg)
{
	const struct config_listener *st, *im;
	if ((st = find_listener(cfg, true, LISTEN_TLS_STARTTLS)) != NULL)
		printf("  curl -vk --ssl-reqd -u alice:wonderland "
		       "pop3://127.0.0.1:%u/1\n"
		       "  openssl s_client -starttls pop3 -crlf -connect "
		       "127.0.0.1:%u\n",
		       st->port, st->port);
	if ((im = find_listener(cfg, true, LISTEN_TLS_IMPLICIT)) != NULL)
		printf("  curl -vk -u alice:wonderland pop3s://127.0.0.1:%u/\n",
		       im->port);
}

static void print_banner(const struct quilld_config *cfg, struct host *h)
{
	const struct config_listener *st, *im;
	printf("quilld %s serving %s (domain %s, state in %s)\n", QUILL_VERSION,
	       cfg->hostname, cfg->domain, cfg->state_dir);
	for (size_t i = 0; i < host_listener_count(h); i++)
		printf("  %s\n", host_listener_describe(h, i));
	if (cfg->dev_users)
		printf("users: alice (password wonderland), bob (password "
		       "builder) in %s\n",
		       cfg->passwd_file);
	printf("connect:\n");
	if ((st = find_listener(cfg, false, LISTEN_TLS_STARTTLS)) != NULL)
		printf("  curl -v smtp://127.0.0.1:%u/client.example.test\n"
		       "  curl -vk --ssl-reqd "
		       "smtp://127.0.0.1:%u/client.example.test\n"
		       "  openssl s_client -starttls smtp -crlf -connect "
		       "127.0.0.1:%u\n",
		       st->port, st->port, st->port);
	if ((im = find_listener(cfg, false, LISTEN_TLS_IMPLICIT)) != NULL)
		printf("  curl -vk smtps://127.0.0.1:%u/client.example.test\n",
		       im->port);
	print_pop3_hints(cfg);
	printf("  quill user add --file %s NAME   (password on stdin)\n"
	       "quilld ready\n",
	       cfg->passwd_file);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dev", no_argument, NULL, 'd'},
		{"config", required_argument, NULL, 'c'},
		{"check-config", no_argument, NULL, 'k'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	const char *file = NULL;
	int check_only = 0, opt;
	while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			break;
		case 'c':
			file = optarg;
			break;
		case 'k':
			check_only = 1;
			break;
		case 'V':
			printf("quilld %s\n", QUILL_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}

	struct quilld_config cfg;
	char err[1024];
	config_defaults(&cfg, "var");
	if (file != NULL && config_load(&cfg, file, err, sizeof(err)) != 0) {
		fprintf(stderr, "quilld: %s\n", err);
		return 2;
	}
	if (check_only) {
		printf("%s: ok\n", file != NULL ? file : "(dev defaults)");
		return 0;
	}
	log_setup(cfg.log_level, cfg.log_target, "quilld");
	if (prepare_state(&cfg) != 0)
		return 1;
	struct host *h = host_new(&cfg, err, sizeof(err));
	if (h == NULL) {
		log_error(NULL, "start_failed %s", err);
		return 1;
	}
	if (cfg.run_as[0] != '\0' &&
	    privdrop_to(cfg.run_as, cfg.state_dir, err, sizeof(err)) != 0) {
		log_error(NULL, "start_failed %s", err);
		host_free(&h);
		return 1;
	}
	if (cfg.run_as[0] == '\0' && geteuid() == 0)
		log_warn(NULL, "running_as_root hint=\"set run_as to drop "
			       "privileges after binding\"");
	print_banner(&cfg, h);
	log_info(NULL, "started version=%s pid=%ld", QUILL_VERSION,
		 (long)getpid());
	int rc = host_run(h);
	host_free(&h);
	return rc == 0 ? 0 : 1;
}
