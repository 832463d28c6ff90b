/*
 * store_cmd.c - "quill store": a mail store on disk, without a server.
 *
 *	quill store append  --root DIR [--mbox] [--mailbox NAME]
 *			    [--flags '\Seen \Flagged'] [--keyword K]...
 *			    [--date UNIXTIME] FILE...
 *	quill store ls      --root DIR [--mbox] [--mailbox NAME]
 *	quill store check   --root DIR [--mbox] [--repair]
 *	quill store convert --from-root A --from maildir|mbox
 *			    --to-root B --to maildir|mbox
 * (flag, expunge and cat are in store_edit.c.)
 *
 * Every command goes through server/store/store.h with fsync on, so what
 * it reports done is on disk. See docs/store.md "The quill store command".
 */
#include "store_cmd.h"

#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

int cmd_store(int argc, char **argv);

static const struct {
	const char *name;
	unsigned flag;
} flag_names[] = {
	{"\\Seen", STORE_F_SEEN},	{"\\Answered", STORE_F_ANSWERED},
	{"\\Flagged", STORE_F_FLAGGED}, {"\\Deleted", STORE_F_DELETED},
	{"\\Draft", STORE_F_DRAFT},
};

void store_cmd_fail(const char *cmd, const char *what,
		    const struct store_error *err)
{
	fprintf(stderr, "%s: %s: %s (%s)\n", cmd, what, err->msg,
		store_strerror(err->code));
}

static int parse_kind(const char *s, enum store_kind *k)
{
	if (strcmp(s, "maildir") == 0)
		*k = STORE_KIND_MAILDIR;
	else if (strcmp(s, "mbox") == 0)
		*k = STORE_KIND_MBOX;
	else
		return -1;
	return 0;
}

static int add_keyword(struct sopts *o, const char *kw)
{
	if (o->n_kw == KW_MAX || !store_keyword_valid(kw))
		return -1;
	o->kw[o->n_kw++] = kw;
	return 0;
}

/* "\Seen \Flagged $Label1": system flags, anything else a keyword. The
 * tokens point into s, which is modified. */
static int parse_flags(struct sopts *o, char *s)
{
	char *save = NULL;

	for (char *t = strtok_r(s, " \t,", &save); t != NULL;
	     t = strtok_r(NULL, " \t,", &save)) {
		bool found = false;

		for (size_t i = 0; i < sizeof(flag_names) / sizeof(*flag_names);
		     i++)
			if (strcasecmp(t, flag_names[i].name) == 0) {
				o->flags |= flag_names[i].flag;
				found = true;
			}
		if (!found && (t[0] == '\\' || add_keyword(o, t) != 0))
			return -1;
	}
	return 0;
}

int store_cmd_opts(const char *cmd, int argc, char **argv, struct sopts *o)
{
	static const struct option longopts[] = {
		{"root", required_argument, NULL, 'r'},
		{"mbox", no_argument, NULL, 'm'},
		{"mailbox", required_argument, NULL, 'b'},
		{"flags", required_argument, NULL, 'f'},
		{"keyword", required_argument, NULL, 'k'},
		{"date", required_argument, NULL, 'd'},
		{"repair", no_argument, NULL, 'R'},
		{"set", no_argument, NULL, 'S'},
		{"add", no_argument, NULL, 'P'},
		{"remove", no_argument, NULL, 'M'},
		{"from-root", required_argument, NULL, 'A'},
		{"to-root", required_argument, NULL, 'B'},
		{"from", required_argument, NULL, 'F'},
		{"to", required_argument, NULL, 'T'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	*o = (struct sopts){.mailbox = "INBOX",
			    .kind = STORE_KIND_MAILDIR,
			    .mode = STORE_FLAGS_ADD};
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'r':
			o->root = optarg;
			break;
		case 'm':
			o->kind = STORE_KIND_MBOX;
			break;
		case 'b':
			o->mailbox = optarg;
			break;
		case 'f':
			if (parse_flags(o, optarg) != 0) {
				fprintf(stderr, "%s: bad --flags\n", cmd);
				return EXIT_USAGE;
			}
			break;
		case 'k':
			if (add_keyword(o, optarg) != 0) {
				fprintf(stderr, "%s: bad keyword %s\n", cmd,
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'd':
			errno = 0;
			o->date = (time_t)strtoll(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || o->date < 0) {
				fprintf(stderr, "%s: bad --date\n", cmd);
				return EXIT_USAGE;
			}
			break;
		case 'R':
			o->repair = true;
			break;
		case 'S':
		case 'P':
		case 'M':
			o->mode = c == 'S'   ? STORE_FLAGS_SET
				  : c == 'P' ? STORE_FLAGS_ADD
					     : STORE_FLAGS_REMOVE;
			break;
		case 'A':
			o->from_root = optarg;
			break;
		case 'B':
			o->to_root = optarg;
			break;
		case 'F':
		case 'T':
			if (parse_kind(optarg, c == 'F' ? &o->from : &o->to) !=
			    0) {
				fprintf(stderr, "%s: maildir or mbox, not %s\n",
					cmd, optarg);
				return EXIT_USAGE;
			}
			*(c == 'F' ? &o->have_from : &o->have_to) = true;
			break;
		default:
			fprintf(stderr, "%s: see quill store --help\n", cmd);
			return EXIT_USAGE;
		}
	}
	return -1;
}

int store_cmd_open(const char *cmd, enum store_kind kind, const char *root,
		   struct store **st)
{
	struct store_config cfg;
	struct store_error err;

	if (root == NULL) {
		fprintf(stderr, "%s: --root is required\n", cmd);
		return EXIT_USAGE;
	}
	store_config_init(&cfg, kind, root);
	if (store_open(&cfg, st, &err) != 0) {
		store_cmd_fail(cmd, root, &err);
		return EXIT_FAIL;
	}
	return -1;
}

/* Create name unless it is INBOX or exists. */
static int ensure_mailbox(struct store *st, const char *name,
			  struct store_error *err)
{
	if (strcasecmp(name, "INBOX") == 0)
		return 0;
	if (store_create(st, name, err) != 0 && err->code != STORE_E_EXISTS)
		return -1;
	return 0;
}

static int append_fd(struct store *st, const char *box, int fd,
		     const struct sopts *o, uint32_t *uid,
		     struct store_error *err)
{
	struct store_append *ap;
	char buf[65536];
	ssize_t n;

	if (store_append_begin(st, box, NULL, &ap, err) != 0)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (store_append_write(ap, buf, (size_t)n, err) != 0) {
			store_append_abort(&ap);
			return -1;
		}
	if (n < 0) {
		err->code = STORE_E_IO;
		snprintf(err->msg, sizeof(err->msg), "read: %s",
			 strerror(errno));
		store_append_abort(&ap);
		return -1;
	}
	return store_append_commit(&ap, o->flags, o->kw, o->n_kw, o->date, NULL,
				   uid, err);
}

static int cmd_append(int argc, char **argv)
{
	const char *cmd = "quill store append";
	struct store_error err;
	struct store *st;
	struct sopts o;
	int rc = store_cmd_opts(cmd, argc, argv, &o);

	if (rc >= 0)
		return rc;
	if (optind >= argc) {
		fprintf(stderr, "%s: no FILE\n", cmd);
		return EXIT_USAGE;
	}
	rc = store_cmd_open(cmd, o.kind, o.root, &st);
	if (rc >= 0)
		return rc;
	rc = EXIT_OK;
	if (ensure_mailbox(st, o.mailbox, &err) != 0) {
		store_cmd_fail(cmd, o.mailbox, &err);
		rc = EXIT_FAIL;
	}
	for (int i = optind; i < argc && rc == EXIT_OK; i++) {
		bool is_stdin = strcmp(argv[i], "-") == 0;
		int fd = is_stdin ? 0 : open(argv[i], O_RDONLY | O_CLOEXEC);
		uint32_t uid = 0;

		if (fd < 0) {
			fprintf(stderr, "%s: %s: %s\n", cmd, argv[i],
				strerror(errno));
			rc = EXIT_FAIL;
			break;
		}
		if (append_fd(st, o.mailbox, fd, &o, &uid, &err) != 0) {
			store_cmd_fail(cmd, argv[i], &err);
			rc = EXIT_FAIL;
		} else {
			printf("%u\t%s\n", (unsigned)uid, argv[i]);
		}
		if (!is_stdin)
			close(fd);
	}
	store_close(&st);
	return rc;
}

static void print_flags(unsigned flags)
{
	bool any = false;

	for (size_t i = 0; i < sizeof(flag_names) / sizeof(*flag_names); i++)
		if (flags & flag_names[i].flag) {
			printf("%s%s", any ? " " : "", flag_names[i].name);
			any = true;
		}
	if (!any)
		fputs("-", stdout);
}

static int cmd_ls(int argc, char **argv)
{
	const char *cmd = "quill store ls";
	struct store_mailbox *mb;
	struct store_error err;
	struct store *st;
	struct sopts o;
	int rc = store_cmd_opts(cmd, argc, argv, &o);

	if (rc >= 0)
		return rc;
	rc = store_cmd_open(cmd, o.kind, o.root, &st);
	if (rc >= 0)
		return rc;
	if (store_mailbox_open(st, o.mailbox, STORE_OPEN_READONLY, &mb, &err) !=
	    0) {
		store_cmd_fail(cmd, o.mailbox, &err);
		store_close(&st);
		return EXIT_FAIL;
	}
	rc = EXIT_OK;
	for (uint32_t s = 1; s <= store_count(mb); s++) {
		struct store_msg_info info;
		bool any = false;

		if (store_msg_info(mb, s, &info, &err) != 0) {
			store_cmd_fail(cmd, "info", &err);
			rc = EXIT_FAIL;
			break;
		}
		printf("%u\t%llu\t", (unsigned)info.uid,
		       (unsigned long long)info.size);
		print_flags(info.flags & STORE_F_PERMANENT);
		putchar('\t');
		for (size_t k = 0; k < store_keyword_count(mb); k++)
			if (info.keywords & (UINT64_C(1) << k)) {
				printf("%s%s", any ? " " : "",
				       store_keyword_name(mb, k));
				any = true;
			}
		printf("%s\n", any ? "" : "-");
	}
	store_mailbox_close(&mb);
	store_close(&st);
	return rc;
}

/* Read a whole message, checking the size; into *buf if buf != NULL. */
static int read_msg(struct store_mailbox *mb, uint32_t uid, char **buf,
		    struct store_msg_info *info_r, struct store_error *err)
{
	struct store_msg *msg;
	uint64_t off = 0;
	char chunk[65536];
	size_t got;
	char *out = NULL;

	if (store_msg_open(mb, uid, &msg, err) != 0)
		return -1;
	*info_r = *store_msg_get_info(msg);
	if (buf != NULL) {
		out = malloc(info_r->size + 1);
		if (out == NULL) {
			store_msg_close(&msg);
			err->code = STORE_E_IO;
			snprintf(err->msg, sizeof(err->msg), "out of memory");
			return -1;
		}
	}
	for (;;) {
		if (store_msg_read(msg, off, chunk, sizeof(chunk), &got, err) !=
		    0)
			goto bad;
		if (got == 0)
			break;
		if (off + got > info_r->size)
			break;
		if (out != NULL)
			memcpy(out + off, chunk, got);
		off += got;
	}
	if (off != info_r->size) {
		err->code = STORE_E_CORRUPT;
		snprintf(err->msg, sizeof(err->msg),
			 "uid %u: read %llu bytes, index says %llu",
			 (unsigned)uid, (unsigned long long)off,
			 (unsigned long long)info_r->size);
		goto bad;
	}
	store_msg_close(&msg);
	if (buf != NULL)
		*buf = out;
	return 0;
bad:
	store_msg_close(&msg);
	free(out);
	return -1;
}

static int rm_cache(const char *path, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	const char *base = path + ftw->base;

	(void)sb;
	if (flag == FTW_F && (strcmp(base, "quill-index") == 0 ||
			      strcmp(base, "quill-cache") == 0))
		unlink(path);
	return 0;
}

static int check_mailbox(struct store *st, const char *name, bool repair,
			 uint64_t *msgs, struct store_error *err)
{
	struct store_mailbox *mb;
	struct store_status status;
	uint64_t bytes = 0;
	uint32_t prev = 0;
	int rc = 0;

	if (store_mailbox_open(st, name, repair ? 0 : STORE_OPEN_READONLY, &mb,
			       err) != 0)
		return -1;
	store_mailbox_status(mb, &status);
	for (uint32_t s = 1; s <= store_count(mb) && rc == 0; s++) {
		struct store_msg_info info;
		uint32_t uid = store_uid_at(mb, s);

		if (uid <= prev || uid >= status.uidnext) {
			err->code = STORE_E_CORRUPT;
			snprintf(err->msg, sizeof(err->msg),
				 "uid %u out of order", (unsigned)uid);
			rc = -1;
		} else if (read_msg(mb, uid, NULL, &info, err) != 0) {
			rc = -1;
		}
		bytes += info.size;
		prev = uid;
	}
	if (rc == 0 &&
	    (status.messages != store_count(mb) || status.size != bytes)) {
		err->code = STORE_E_CORRUPT;
		snprintf(err->msg, sizeof(err->msg),
			 "status says %u messages, %llu bytes; read %u, %llu",
			 (unsigned)status.messages,
			 (unsigned long long)status.size,
			 (unsigned)store_count(mb), (unsigned long long)bytes);
		rc = -1;
	}
	*msgs += store_count(mb);
	store_mailbox_close(&mb);
	return rc;
}

static int cmd_check(int argc, char **argv)
{
	const char *cmd = "quill store check";
	struct store_error err;
	struct store_list list;
	struct store *st;
	uint64_t msgs = 0;
	size_t boxes = 0;
	struct sopts o;
	int rc = store_cmd_opts(cmd, argc, argv, &o);

	if (rc >= 0)
		return rc;
	if (o.root != NULL && o.repair && o.kind == STORE_KIND_MAILDIR)
		nftw(o.root, rm_cache, 16, FTW_PHYS);
	rc = store_cmd_open(cmd, o.kind, o.root, &st);
	if (rc >= 0)
		return rc;
	if (store_list(st, &list, &err) != 0) {
		store_cmd_fail(cmd, "list", &err);
		store_close(&st);
		return EXIT_FAIL;
	}
	rc = EXIT_OK;
	for (size_t i = 0; i < list.count; i++) {
		const struct store_list_entry *e = &list.entries[i];

		if (e->attrs & (STORE_LIST_NOSELECT | STORE_LIST_NONEXISTENT))
			continue;
		boxes++;
		if (check_mailbox(st, e->name, o.repair, &msgs, &err) != 0) {
			store_cmd_fail(cmd, e->name, &err);
			rc = EXIT_FAIL;
		}
	}
	store_list_clear(&list);
	store_close(&st);
	printf("%s: %zu mailboxes, %llu messages\n",
	       rc == EXIT_OK ? "ok" : "damaged", boxes,
	       (unsigned long long)msgs);
	return rc;
}

static int convert_mailbox(struct store *src, struct store *dst,
			   const char *name, unsigned *count,
			   struct store_error *err)
{
	struct store_mailbox *mb;
	int rc = 0;

	if (store_mailbox_open(src, name, STORE_OPEN_READONLY, &mb, err) != 0)
		return -1;
	if (ensure_mailbox(dst, name, err) != 0) {
		store_mailbox_close(&mb);
		return -1;
	}
	for (uint32_t s = 1; s <= store_count(mb) && rc == 0; s++) {
		const char *kw[KW_MAX];
		struct store_msg_info info;
		struct store_append *ap;
		size_t n_kw = 0;
		char *data;

		if (read_msg(mb, store_uid_at(mb, s), &data, &info, err) != 0) {
			rc = -1;
			break;
		}
		for (size_t k = 0; k < store_keyword_count(mb) && n_kw < KW_MAX;
		     k++)
			if (info.keywords & (UINT64_C(1) << k))
				kw[n_kw++] = store_keyword_name(mb, k);
		if (store_append_begin(dst, name, NULL, &ap, err) != 0) {
			rc = -1;
		} else if (store_append_write(ap, data, info.size, err) != 0) {
			store_append_abort(&ap);
			rc = -1;
		} else if (store_append_commit(&ap,
					       info.flags & STORE_F_PERMANENT,
					       kw, n_kw, info.internal_date,
					       NULL, NULL, err) != 0) {
			rc = -1;
		} else {
			(*count)++;
		}
		free(data);
	}
	store_mailbox_close(&mb);
	return rc;
}

static int cmd_convert(int argc, char **argv)
{
	const char *cmd = "quill store convert";
	struct store *src = NULL, *dst = NULL;
	struct store_error err;
	struct store_list list;
	struct sopts o;
	int rc = store_cmd_opts(cmd, argc, argv, &o);

	if (rc >= 0)
		return rc;
	if (!o.have_from || !o.have_to || o.from_root == NULL ||
	    o.to_root == NULL) {
		fprintf(stderr,
			"%s: --from-root, --from, --to-root and --to "
			"are required\n",
			cmd);
		return EXIT_USAGE;
	}
	rc = store_cmd_open(cmd, o.from, o.from_root, &src);
	if (rc >= 0)
		return rc;
	rc = store_cmd_open(cmd, o.to, o.to_root, &dst);
	if (rc >= 0) {
		store_close(&src);
		return rc;
	}
	if (store_list(src, &list, &err) != 0) {
		store_cmd_fail(cmd, "list", &err);
		store_close(&src);
		store_close(&dst);
		return EXIT_FAIL;
	}
	rc = EXIT_OK;
	for (size_t i = 0; i < list.count && rc == EXIT_OK; i++) {
		const struct store_list_entry *e = &list.entries[i];
		unsigned n = 0;

		if (e->attrs & (STORE_LIST_NOSELECT | STORE_LIST_NONEXISTENT))
			continue;
		if (convert_mailbox(src, dst, e->name, &n, &err) != 0) {
			store_cmd_fail(cmd, e->name, &err);
			rc = EXIT_FAIL;
		}
		printf("%s\t%u\n", e->name, n);
	}
	for (size_t i = 0; i < list.count && rc == EXIT_OK; i++)
		if ((list.entries[i].attrs & STORE_LIST_SUBSCRIBED) &&
		    store_subscribe(dst, list.entries[i].name, true, &err) != 0)
			store_cmd_fail(cmd, "subscribe", &err);
	store_list_clear(&list);
	store_close(&src);
	store_close(&dst);
	return rc;
}

static const struct {
	const char *name, *args, *help;
	int (*run)(int argc, char **argv);
} store_commands[] = {
	{"append",
	 "--root DIR [--mbox] [--mailbox NAME] [--flags FLAGS] "
	 "[--keyword K]... [--date SECS] FILE...",
	 "append each FILE (- = stdin); prints UID and FILE", cmd_append},
	{"ls", "--root DIR [--mbox] [--mailbox NAME]",
	 "one line per message: UID, size, flags, keywords (tabs)", cmd_ls},
	{"check", "--root DIR [--mbox] [--repair]",
	 "open every mailbox and read every message; --repair rebuilds "
	 "the indexes",
	 cmd_check},
	{"convert",
	 "--from-root A --from maildir|mbox --to-root B --to maildir|mbox",
	 "copy every mailbox with flags, keywords and dates", cmd_convert},
	{"flag",
	 "--root DIR [--mbox] [--mailbox NAME] [--add|--remove|--set] "
	 "--flags FLAGS UID...",
	 "change flags and keywords (default --add)", store_cmd_flag},
	{"expunge", "--root DIR [--mbox] [--mailbox NAME] [UID...]",
	 "remove the messages with \\Deleted (of these UIDs)",
	 store_cmd_expunge},
	{"cat", "--root DIR [--mbox] [--mailbox NAME] UID",
	 "the message's bytes on stdout", store_cmd_cat},
	{"status", "--root DIR [--mbox] [--mailbox NAME]",
	 "messages, recent, unseen, UIDVALIDITY, UIDNEXT (read-only)",
	 store_cmd_status},
};

int cmd_store(int argc, char **argv)
{
	size_t n = sizeof(store_commands) / sizeof(*store_commands);

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		FILE *out = argc < 2 ? stderr : stdout;

		fprintf(out, "usage: quill store COMMAND [OPTIONS]\n");
		for (size_t i = 0; i < n; i++)
			fprintf(out, "  %-8s %s\n           %s\n",
				store_commands[i].name, store_commands[i].args,
				store_commands[i].help);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	for (size_t i = 0; i < n; i++)
		if (strcmp(argv[1], store_commands[i].name) == 0)
			return store_commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "quill store: unknown command %s\n", argv[1]);
	return EXIT_USAGE;
}
