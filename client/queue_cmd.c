/*
 * queue_cmd.c - "quill queue": what quilld has queued, read from disk.
 *
 *	quill queue list [--state-dir DIR | -c CONFIG]
 *	quill queue show [--state-dir DIR | -c CONFIG] ID
 *
 * The queue is <state_dir>/queue (server/queue/queue_file.h): one spool
 * file per message in new/, and what happened to each recipient so far
 * in state/. The state directory is --state-dir, or the state_dir of the
 * quilld configuration -c, or ./var (quilld --dev). Nothing is changed.
 * See docs/quilld.md "Mail flow".
 */
#include "queue/queue_file.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"

int cmd_queue(int argc, char **argv);

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* Parse the options; the queue directory goes to dir (size n). Returns
 * the index of the first operand, or -1 (message printed). */
static int queue_dir_opts(const char *cmd, int argc, char **argv, char *dir,
			  size_t n)
{
	static const struct option opts[] = {
		{"state-dir", required_argument, NULL, 's'},
		{"config", required_argument, NULL, 'c'},
		{NULL, 0, NULL, 0}};
	const char *state = "var", *config = NULL;
	struct quilld_config *cfg = NULL;
	char err[1024];
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		if (opt == 's')
			state = optarg;
		else if (opt == 'c')
			config = optarg;
		else
			return -1;
	}
	if (config != NULL) {
		if ((cfg = malloc(sizeof(*cfg))) == NULL ||
		    config_load(cfg, config, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s: %s\n", cmd,
				cfg != NULL ? err : "out of memory");
			free(cfg);
			return -1;
		}
		state = cfg->state_dir;
	}
	snprintf(dir, n, "%s/queue", state);
	free(cfg);
	return optind;
}

/* "45s", "12m", "3h", "2d" */
static void age(time_t secs, char *out, size_t n)
{
	if (secs < 0)
		secs = 0;
	if (secs < 120)
		snprintf(out, n, "%llds", (long long)secs);
	else if (secs < 7200)
		snprintf(out, n, "%lldm", (long long)secs / 60);
	else if (secs < 172800)
		snprintf(out, n, "%lldh", (long long)secs / 3600);
	else
		snprintf(out, n, "%lldd", (long long)secs / 86400);
}

/* A delivery under way (or cut short by a crash) shows as such. */
static const char *state_name(const struct queue_rcpt *r)
{
	return r->in_flight ? "delivering" : queue_rcpt_state_name(r->state);
}

static int cmd_list(int argc, char **argv)
{
	char dir[CONFIG_PATH_MAX + 16], err[1024], a[32];
	char **ids;
	size_t n;
	int rc = EXIT_OK;
	if (queue_dir_opts("quill queue list", argc, argv, dir, sizeof(dir)) <
	    0)
		return EXIT_USAGE;
	if (queue_list_ids(dir, &ids, &n, err, sizeof(err)) != 0) {
		fprintf(stderr, "quill queue list: %s\n", err);
		return EXIT_FAIL;
	}
	time_t now = time(NULL);
	printf("ID\tAGE\tSIZE\tFROM\tRECIPIENTS\n");
	for (size_t i = 0; i < n; i++) {
		struct queue_msg m;
		if (queue_msg_read(dir, ids[i], &m, err, sizeof(err)) != 0) {
			fprintf(stderr, "quill queue list: %s\n", err);
			rc = EXIT_FAIL; /* delivered meanwhile, or damaged */
			continue;
		}
		age(now - m.arrived, a, sizeof(a));
		printf("%s\t%s\t%llu\t<%s>\t", m.id, a,
		       (unsigned long long)m.size, m.from);
		for (size_t k = 0; k < m.n_rcpt; k++)
			printf("%s%s=%s", k ? " " : "", m.rcpt[k].addr,
			       state_name(&m.rcpt[k]));
		printf("\n");
		queue_msg_free(&m);
	}
	printf("%zu message%s\n", n, n == 1 ? "" : "s");
	queue_ids_free(ids, n);
	return rc;
}

static void when(time_t t, char *out, size_t n)
{
	struct tm tm;
	if (t == 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, n, "-");
}

static void show_rcpt(const struct queue_rcpt *r, time_t now)
{
	char w[32], nx[32], a[32];
	when(r->when, w, sizeof(w));
	printf("  %s  %s", r->addr, state_name(r));
	if (r->state != QUEUE_RCPT_PENDING)
		printf("  at %s", w);
	if (r->state == QUEUE_RCPT_DEFERRED) {
		when(r->next_try, nx, sizeof(nx));
		age(r->next_try - now, a, sizeof(a));
		printf("  attempts %u, next %s (in %s)", r->attempts, nx, a);
	}
	if (r->state == QUEUE_RCPT_DEFERRED || r->state == QUEUE_RCPT_FAILED)
		printf("\n    %d %s %s", r->code, r->enhanced, r->text);
	printf("\n");
}

static int cmd_show(int argc, char **argv)
{
	char dir[CONFIG_PATH_MAX + 16], err[1024], a[32], w[32];
	struct queue_msg m;
	int first = queue_dir_opts("quill queue show", argc, argv, dir,
				   sizeof(dir));
	if (first < 0 || first + 1 != argc) {
		fprintf(stderr, "usage: quill queue show [--state-dir DIR | "
				"-c CONFIG] ID\n");
		return EXIT_USAGE;
	}
	const char *id = argv[first];
	if (strchr(id, '/') != NULL || id[0] == '.' || id[0] == '\0' ||
	    strlen(id) >= SPOOL_ID_MAX) {
		fprintf(stderr, "quill queue show: not a queue id: %s\n", id);
		return EXIT_USAGE;
	}
	if (queue_msg_read(dir, id, &m, err, sizeof(err)) != 0) {
		fprintf(stderr, "quill queue show: %s\n", err);
		return EXIT_FAIL;
	}
	time_t now = time(NULL);
	age(now - m.arrived, a, sizeof(a));
	when(m.arrived, w, sizeof(w));
	printf("id: %s\narrived: %s (%s ago)\nsize: %llu\nfrom: <%s>\n"
	       "envelope:\n",
	       m.id, w, a, (unsigned long long)m.size, m.from);
	for (const char *p = m.envelope; *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		printf("  %.*s\n", (int)len, p);
		p += len + (nl != NULL);
	}
	printf("recipients:\n");
	for (size_t k = 0; k < m.n_rcpt; k++)
		show_rcpt(&m.rcpt[k], now);
	queue_msg_free(&m);
	return EXIT_OK;
}

int cmd_queue(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return cmd_list(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "show") == 0)
		return cmd_show(argc - 1, argv + 1);
	bool help = argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
				  strcmp(argv[1], "-h") == 0);
	FILE *out = help ? stdout : stderr;
	if (argc >= 2 && !help)
		fprintf(stderr, "quill queue: unknown command %s\n", argv[1]);
	fprintf(out,
		"usage: quill queue COMMAND [--state-dir DIR | -c CONFIG]\n"
		"  list       one line per queued message: id, age, size, "
		"sender,\n"
		"             each recipient=state (tabs between columns)\n"
		"  show ID    the envelope and each recipient's state\n"
		"The queue is <state_dir>/queue; the default state_dir is "
		"./var.\n");
	return help ? EXIT_OK : EXIT_USAGE;
}
