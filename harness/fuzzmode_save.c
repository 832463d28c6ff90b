/*
 * fuzzmode_save.c - a fuzzer finding as a reproducer scenario
 * (docs/scenarios.md) that `quill-harness run` loads: the case's bytes in
 * a .bin file sent with send: { file: } (same chunking and pauses), then a
 * new connection that must get the greeting. What the server sent is kept
 * in a .reply file beside it, what was seen in the YAML's comments.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "fuzzmode.h"

static int write_bytes(const char *path, const void *d, size_t n, char *err,
		       size_t errlen)
{
	FILE *f = fopen(path, "wb");
	if (f == NULL || (n > 0 && fwrite(d, 1, n, f) != n) || fclose(f) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* s made safe for a YAML comment or double-quoted string: printable
 * ASCII without '"' and '\\'. */
static void clean(const char *s, char *out, size_t n)
{
	size_t k = 0;
	for (; s != NULL && *s != '\0' && k + 1 < n; s++)
		out[k++] = *s >= 0x20 && *s < 0x7f && *s != '"' && *s != '\\'
				   ? *s
				   : '_';
	out[k] = '\0';
}

static void write_list(FILE *f, const char *key, char *const *v, size_t n)
{
	char item[256];
	fprintf(f, "%s: [", key);
	for (size_t i = 0; i < n; i++) {
		clean(v[i], item, sizeof(item));
		fprintf(f, "%s\"%s\"", i ? ", " : "", item);
	}
	fprintf(f, "]\n");
}

static void write_head(FILE *f, const struct fuzzmode_finding *x,
		       const char *base)
{
	char file[1100], detail[1100], desc[300];
	const struct scenario *sc = x->sc;

	clean(sc->file, file, sizeof(file));
	clean(x->detail, detail, sizeof(detail));
	clean(x->c->desc, desc, sizeof(desc));
	fprintf(f,
		"# Found by quill-harness fuzz --seed %llu (case %llu) from\n"
		"# %s.\n# Mutations: %s\n# Seen: %s\n"
		"# The server's reply to the case is in %s.reply. The case\n"
		"# alone may not be enough: earlier cases ran against the\n"
		"# same server.\n",
		x->seed, x->case_no, file, desc, detail, base);
	fprintf(f,
		"id: fuzz.%s.%s.s%llu-c%llu\n"
		"summary: \"fuzz %s reproducer: case %llu of %s (seed "
		"%llu)\"\n",
		x->kind, sc->id, x->seed, x->case_no, x->kind, x->case_no,
		sc->id, x->seed);
	write_list(f, "rfc", sc->rfc, sc->n_rfc);
	fprintf(f, "tags: [fuzz, %s]\n", x->kind);
	if (sc->n_requires > 0)
		write_list(f, "requires", sc->requires, sc->n_requires);
}

static void write_steps(FILE *f, const struct fuzzmode_finding *x,
			const char *base)
{
	enum fuzzmode_proto p = fuzzmode_proto_of(x->service);
	const char *tls = x->implicit_tls ? "implicit" : "none";
	const char *greet = p == FUZZMODE_POP3	 ? "{ pop3: ok }"
			    : p == FUZZMODE_IMAP ? "{ line_re: \"^\\\\* (OK|"
						   "PREAUTH)\" }"
						 : "{ smtp: 220 }";

	fprintf(f, "steps:\n  - connect: { service: %s, tls: %s }\n",
		x->service, tls);
	if (buf_len(&x->c->data) > 0 && x->c->chunk > 0)
		fprintf(f,
			"  - send: { file: %s.bin, chunk: %lu, "
			"pause_ms: %u }\n",
			base, x->c->chunk, x->c->pause_ms);
	else if (buf_len(&x->c->data) > 0)
		fprintf(f, "  - send: { file: %s.bin }\n", base);
	fprintf(f,
		"  - sleep: 0.5\n  - close: {}\n"
		"  - connect: { service: %s, tls: %s }\n"
		"  - expect: %s\n    within: 5\n  - close: {}\n",
		x->service, tls, greet);
}

int fuzzmode_save(const char *dir, const struct fuzzmode_finding *x,
		  char *path_r, size_t pathlen, char *err, size_t errlen)
{
	char base[128], path[4400];
	FILE *f;
	int n;

	snprintf(base, sizeof(base), "fuzz-%s-s%llu-c%06llu", x->kind, x->seed,
		 x->case_no);
	n = snprintf(path, sizeof(path), "%s/%s.bin", dir, base);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -1;
	}
	if (write_bytes(path, buf_data(&x->c->data), buf_len(&x->c->data), err,
			errlen) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/%s.reply", dir, base);
	if (write_bytes(path, x->reply != NULL ? x->reply : "", x->reply_len,
			err, errlen) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/%s.yaml", dir, base);
	if ((f = fopen(path, "w")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	write_head(f, x, base);
	write_steps(f, x, base);
	if (fclose(f) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	snprintf(path_r, pathlen, "%s", path);
	return 0;
}
