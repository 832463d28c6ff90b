/*
 * target_quilld_config.c - the embedded quilld target's quilld.yaml
 * (docs/quill-harness.md, "The default target"): its state in the
 * target's directory, host mx.example.test, domain example.test, the
 * listeners on the free loopback ports set_services chose, AUTH on the
 * smtp service and a low limits.max_per_ip; then the YAML of
 * $QUILL_HARNESS_QUILLD_CONFIG, then a scenario's quilld_config, if any
 * (docs/scenarios.md), whose own limits or auth section replaces the
 * target's. target_quilld_configure() rewrites it with or
 * without a scenario's fragment and restarts quilld on the same ports.
 */
#include "target_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* limits.max_per_ip: above what the parallel scenarios hold at once; the
 * scenario that crosses it is tagged fresh (it runs alone) */
#define TARGET_QUILLD_MAX_PER_IP 10

/* $QUILL_HARNESS_QUILLD_CONFIG: more YAML for the config (other keys
 * than the ones written here), e.g. "users: { store: mbox }". */
static int append_extra(FILE *f, char *err, size_t errlen)
{
	const char *extra = getenv("QUILL_HARNESS_QUILLD_CONFIG");
	char chunk[4096];
	size_t n, last = 0;
	if (extra == NULL || extra[0] == '\0')
		return 0;
	FILE *in = fopen(extra, "r");
	if (in == NULL) {
		snprintf(err, errlen, "QUILL_HARNESS_QUILLD_CONFIG %s: %s",
			 extra, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0) {
		fwrite(chunk, 1, n, f);
		last = (unsigned char)chunk[n - 1];
	}
	fclose(in);
	if (last != 0 && last != '\n')
		fputc('\n', f);
	return 0;
}

static void write_listeners(const struct target *t, FILE *f)
{
	fprintf(f, "listeners:\n");
	for (size_t i = 0; i < t->n_services; i++) {
		const struct target_service *s = &t->services[i];
		bool smtp = strcmp(s->name, "smtp") == 0;
		bool lmtp = strcmp(s->name, "lmtp") == 0;
		bool pop3 = strncmp(s->name, "pop3", 4) == 0;
		fprintf(f,
			"  - { name: %s, protocol: %s, address: "
			"\"127.0.0.1\", port: %u, tls: %s }\n",
			s->name,
			smtp   ? "smtp"
			: lmtp ? "lmtp"
			: pop3 ? "pop3"
			       : "submission",
			s->port,
			s->tls == TARGET_TLS_IMPLICIT ? "implicit"
			: s->tls == TARGET_TLS_NONE   ? "none"
						      : "starttls");
	}
}

/* Whether fragment sets the top-level key (a line "key:" at column 1). */
static bool sets_key(const char *fragment, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = fragment; p != NULL && *p != '\0';) {
		if (strncmp(p, key, kl) == 0 && (p[kl] == ':' || p[kl] == ' '))
			return true;
		p = strchr(p, '\n');
		p = p != NULL ? p + 1 : NULL;
	}
	return false;
}

int target_quilld_write_config(const struct target *t, const char *fragment,
			       char *err, size_t errlen)
{
	char path[PATH_MAX + 16];
	FILE *f;

	snprintf(path, sizeof(path), "%s/quilld.yaml", t->tmpdir);
	if ((f = fopen(path, "w")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	fprintf(f,
		"state_dir: \"%s/var\"\nhostname: mx.example.test\n"
		"domain: example.test\nlog:\n  level: info\n",
		t->tmpdir);
	/* a fragment's own limits or auth section replaces the target's */
	if (!sets_key(fragment, "limits"))
		fprintf(f, "limits:\n  max_per_ip: %u\n",
			TARGET_QUILLD_MAX_PER_IP);
	if (!sets_key(fragment, "auth"))
		fprintf(f, "auth:\n  smtp_listeners: true\n");
	write_listeners(t, f);
	if (append_extra(f, err, errlen) != 0) {
		fclose(f);
		return -1;
	}
	if (fragment != NULL) {
		size_t len = strlen(fragment);
		fprintf(f, "# the scenario's quilld_config\n%s%s", fragment,
			len > 0 && fragment[len - 1] == '\n' ? "" : "\n");
	}
	if (fclose(f) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int target_quilld_configure(struct target *t, const char *fragment, char *err,
			    size_t errlen)
{
	if (t->quilld == NULL || t->tmpdir == NULL) {
		snprintf(err, errlen,
			 "quilld_config needs the embedded quilld "
			 "target, started");
		return -1;
	}
	/* not the normal config from here until a restart on it succeeds */
	t->custom_config = true;
	if (target_quilld_write_config(t, fragment, err, errlen) != 0 ||
	    target_quilld_reset(t, err, errlen) != 0)
		return -1;
	t->custom_config = fragment != NULL;
	return 0;
}
