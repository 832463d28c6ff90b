/*
 * target_quilld.c - the embedded default target: a fresh quilld for the
 * run (docs/scenarios.md, "Targets"). It gets a temporary directory with
 * a config that puts its state there and its listeners on free loopback
 * ports; quill-harness waits until quilld has printed its banner (every
 * listener is bound then: server/main.c print_banner), and at the end
 * stops it with SIGTERM (SIGKILL after a bounded wait) and removes the
 * directory. quilld's --dev defaults make the users alice and bob and a
 * self-signed certificate for localhost; the config file leaves plaintext
 * AUTH off before TLS (as any configured quilld; POP3's own
 * pop3.cleartext_auth allows USER/PASS from loopback), offers AUTH on the
 * smtp service too (so that AUTH inside an unauthenticated transaction
 * can be tried) and sets a low limits.max_per_ip for the scenario that
 * crosses it; $QUILL_HARNESS_QUILLD_CONFIG names more YAML for its
 * config, and a scenario's quilld_config more still (the config is
 * written by target_quilld_config.c). Its reset (before each scenario tagged "fresh") stops quilld,
 * empties every user's mail and starts it again on the same ports.
 */
#include "target_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "buf.h"
#include "net.h"

#define BANNER_MAX  65536
#define STOP_WAIT_S 20

static const char *const quilld_caps[] = {"smtp",
					  "smtp.ehlo",
					  "smtp.vrfy",
					  "smtp.starttls",
					  "smtp.pipelining",
					  "smtp.enhancedstatuscodes",
					  "smtp.size",
					  "smtp.8bitmime",
					  "smtp.smtputf8",
					  "smtp.auth",
					  "smtp.auth.plain",
					  "smtp.auth.login",
					  "smtp.auth.scram-sha-256",
					  "smtp.auth.on-smtp",
					  "smtp.max-per-ip",
					  "submission",
					  "submissions",
					  "submission.sender-check",
					  "smtp.chunking",
					  "smtp.binarymime",
					  "smtp.dsn",
					  "smtp.dsn.notices",
					  "pop3",
					  "pop3.capa",
					  "pop3.stls",
					  "pop3.uidl",
					  "pop3.top",
					  "pop3.user",
					  "pop3.pipelining",
					  "pop3.resp-codes",
					  "pop3.auth-resp-code",
					  "pop3.sasl.plain",
					  "pop3.sasl.login",
					  "pop3.apop",
					  "pop3.max-per-ip",
					  "lmtp",
					  "lmtp.pipelining",
					  "lmtp.8bitmime",
					  "lmtp.enhancedstatuscodes",
					  NULL};

static char **dup_list(const char *const *src)
{
	size_t n = 0;
	while (src[n] != NULL)
		n++;
	char **v = calloc(n + 1, sizeof(*v));
	for (size_t i = 0; v != NULL && i < n; i++)
		if ((v[i] = strdup(src[i])) == NULL)
			return v; /* target_free frees the partial list */
	return v;
}

static int add_user(struct target *t, const char *name, const char *pass)
{
	struct target_user *u = &t->users[t->n_users++];
	char addr[128];
	snprintf(addr, sizeof(addr), "%s@example.test", name);
	u->name = strdup(name);
	u->password = strdup(pass);
	u->address = strdup(addr);
	return u->name && u->password && u->address ? 0 : -1;
}

struct target *target_quilld_new(const char *quilld_path)
{
	struct target *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->out_fd = -1;
	t->tls_verify = true;
	t->name = strdup("quilld");
	t->summary = strdup("a fresh quilld started by quill-harness");
	t->host = strdup("127.0.0.1");
	t->domain = strdup("example.test");
	t->quilld = strdup(quilld_path);
	t->caps = dup_list(quilld_caps);
	t->users = calloc(2, sizeof(*t->users));
	if (!t->name || !t->summary || !t->host || !t->domain || !t->quilld ||
	    !t->caps || !t->users || add_user(t, "alice", "wonderland") ||
	    add_user(t, "bob", "builder")) {
		target_free(&t);
		return NULL;
	}
	while (t->caps[t->n_caps] != NULL)
		t->n_caps++;
	return t;
}

static int usable(const char *path, char *out, size_t n)
{
	if (path == NULL || path[0] == '\0' || access(path, X_OK) != 0)
		return -1;
	snprintf(out, n, "%s", path);
	return 0;
}

int target_find_quilld(const char *opt, char *out, size_t n, char *err,
		       size_t errlen)
{
	char exe[PATH_MAX], guess[PATH_MAX + 32];
	ssize_t len;

	if (opt != NULL) {
		if (usable(opt, out, n) == 0)
			return 0;
		snprintf(err, errlen, "--quilld %s: not an executable", opt);
		return -1;
	}
	if (getenv("QUILLD") != NULL) {
		if (usable(getenv("QUILLD"), out, n) == 0)
			return 0;
		snprintf(err, errlen, "$QUILLD %s: not an executable",
			 getenv("QUILLD"));
		return -1;
	}
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len > 0) {
		exe[len] = '\0';
		snprintf(guess, sizeof(guess), "%s/../server/quilld",
			 dirname(exe));
		if (usable(guess, out, n) == 0)
			return 0;
	}
	snprintf(err, errlen,
		 "no quilld found: give --quilld PATH or set "
		 "QUILLD (tried %s)",
		 len > 0 ? guess : "/proc/self/exe");
	return -1;
}

/* n distinct free ports on 127.0.0.1 (bound at once, then released). */
static int free_ports(unsigned *ports, size_t n, char *err, size_t errlen)
{
	int fds[TARGET_MAX_SERVICES];
	int rc = 0;
	size_t i;
	for (i = 0; i < n && rc == 0; i++) {
		struct sockaddr_in a = {.sin_family = AF_INET};
		socklen_t al = sizeof(a);
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fds[i] < 0 ||
		    bind(fds[i], (struct sockaddr *)&a, sizeof(a)) != 0 ||
		    getsockname(fds[i], (struct sockaddr *)&a, &al) != 0) {
			snprintf(err, errlen, "free port: %s", strerror(errno));
			rc = -1;
			if (fds[i] >= 0)
				close(fds[i]);
			break;
		}
		ports[i] = ntohs(a.sin_port);
	}
	while (i-- > 0)
		close(fds[i]);
	return rc;
}

static int set_services(struct target *t, char *err, size_t errlen)
{
	/* LMTP on loopback without TLS, as quilld's dev default */
	static const struct {
		const char *name;
		enum target_tls tls;
	} services[] = {
		{"smtp", TARGET_TLS_STARTTLS},
		{"submission", TARGET_TLS_STARTTLS},
		{"submissions", TARGET_TLS_IMPLICIT},
		{"lmtp", TARGET_TLS_NONE},
		{"pop3", TARGET_TLS_STARTTLS},
		{"pop3s", TARGET_TLS_IMPLICIT},
	};
	enum { N = sizeof(services) / sizeof(services[0]) };
	unsigned ports[N];
	if (free_ports(ports, N, err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < N; i++) {
		struct target_service *s = &t->services[i];
		snprintf(s->name, sizeof(s->name), "%s", services[i].name);
		s->port = ports[i];
		s->tls = services[i].tls;
	}
	t->n_services = N;
	return 0;
}

static void exec_quilld(const struct target *t, int out_fd, const char *cfg)
{
	char log[PATH_MAX];
	int fd;
	prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the harness */
	snprintf(log, sizeof(log), "%s/quilld.log", t->tmpdir);
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0 || dup2(out_fd, STDOUT_FILENO) < 0 ||
	    dup2(fd, STDERR_FILENO) < 0 || chdir(t->tmpdir) != 0)
		_exit(127);
	execl(t->quilld, "quilld", "-c", cfg, (char *)NULL);
	fprintf(stderr, "cannot run %s: %s\n", t->quilld, strerror(errno));
	_exit(127);
}

/* The last lines of quilld.log, for a failure message. */
static void log_tail(const struct target *t, char *out, size_t n)
{
	char path[PATH_MAX];
	char text[600];
	FILE *f;
	size_t len;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/quilld.log", t->tmpdir);
	if ((f = fopen(path, "r")) == NULL)
		return;
	if (fseek(f, -(long)(sizeof(text) - 1), SEEK_END) != 0)
		rewind(f);
	len = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[len] = '\0';
	for (size_t i = 0; i < len; i++)
		if (text[i] == '\n' && i + 1 < len)
			text[i] = '|';
	snprintf(out, n, "; its log ends: %s", text);
}

static bool banner_done(const struct buf *b)
{
	const char *s = (const char *)buf_data(b);
	return memmem(s, buf_len(b), "\nquilld ready\n", 14) != NULL ||
	       memmem(s, buf_len(b), "(ports as in the dev defaults", 29);
}

/* Read quilld's stdout until its banner is complete. */
static int wait_banner(struct target *t, char *err, size_t errlen)
{
	long long deadline = net_now_ms() + TARGET_QUILLD_WAIT * 1000LL;
	struct buf b;
	char chunk[4096], tail[700];
	int rc = -1;

	buf_init(&b, BANNER_MAX);
	buf_append(&b, "\n", 1);
	for (;;) {
		int w = net_wait(t->out_fd, POLLIN, deadline);
		ssize_t n = w > 0 ? read(t->out_fd, chunk, sizeof(chunk)) : -1;
		if (n > 0 && buf_append(&b, chunk, (size_t)n) == 0) {
			if (!banner_done(&b))
				continue;
			rc = 0;
			break;
		}
		if (w < 0 && errno == EINTR)
			continue;
		log_tail(t, tail, sizeof(tail));
		snprintf(err, errlen, "%s %s%s", t->quilld,
			 w == 0 ? "did not print its banner in time"
				: "exited before it was ready",
			 tail);
		break;
	}
	buf_free(&b);
	return rc;
}

/* Run quilld on the config in t->tmpdir and wait for its banner. */
static int launch(struct target *t, char *err, size_t errlen)
{
	char cfg[PATH_MAX + 16];
	int pfd[2];

	snprintf(cfg, sizeof(cfg), "%s/quilld.yaml", t->tmpdir);
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	if ((t->pid = fork()) == 0)
		exec_quilld(t, pfd[1], cfg);
	close(pfd[1]);
	if (t->pid < 0) {
		t->pid = 0;
		close(pfd[0]);
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	t->out_fd = pfd[0];
	return wait_banner(t, err, errlen);
}

int target_quilld_start(struct target *t, char *err, size_t errlen)
{
	char dir[PATH_MAX], ca[PATH_MAX + 32];
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/quill-harness-XXXXXX",
		 tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL || (t->tmpdir = strdup(dir)) == NULL) {
		snprintf(err, errlen, "temporary directory %s: %s", dir,
			 strerror(errno));
		return -1;
	}
	snprintf(ca, sizeof(ca), "%s/var/tls/cert.pem", dir);
	if ((t->ca_file = strdup(ca)) == NULL ||
	    set_services(t, err, errlen) != 0 ||
	    target_quilld_write_config(t, NULL, err, errlen) != 0)
		return -1;
	return launch(t, err, errlen);
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* SIGTERM, a bounded wait, then SIGKILL. */
static int terminate(struct target *t, char *err, size_t errlen)
{
	int status = 0, rc = 0;
	if (t->pid > 0) {
		kill(t->pid, SIGTERM);
		if (target_wait_pid(t->pid, net_now_ms() + STOP_WAIT_S * 1000LL,
				    &status) == 1) {
			kill(t->pid, SIGKILL);
			waitpid(t->pid, &status, 0);
			snprintf(err, errlen,
				 "quilld did not stop in %d s "
				 "after SIGTERM; killed",
				 STOP_WAIT_S);
			rc = -1;
		}
		t->pid = 0;
	}
	if (t->out_fd >= 0)
		close(t->out_fd);
	t->out_fd = -1;
	return rc;
}

int target_quilld_stop(struct target *t, char *err, size_t errlen)
{
	int rc = terminate(t, err, errlen);
	if (t->tmpdir != NULL && getenv("QUILL_HARNESS_KEEP") == NULL)
		nftw(t->tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(t->tmpdir);
	t->tmpdir = NULL;
	return rc;
}

int target_quilld_reset(struct target *t, char *err, size_t errlen)
{
	char mail[PATH_MAX + 16];
	if (t->tmpdir == NULL)
		return 0;
	/* stopped, so no session still holds a maildrop or a lock */
	if (terminate(t, err, errlen) != 0)
		return -1;
	snprintf(mail, sizeof(mail), "%s/var/mail", t->tmpdir);
	nftw(mail, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return launch(t, err, errlen);
}
