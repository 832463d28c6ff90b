/*
 * target.c - target files (docs/scenarios.md, "Targets"): loading and
 * validating them with lib/ytree, looking up services and capabilities,
 * and the target's variables.
 */
#include "target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario_internal.h"

static const char *const service_names[] = {"smtp", "submission", "submissions",
					    "lmtp", "pop3",	  "pop3s",
					    "imap", "imaps",	  NULL};

static int load_argv(struct sload *ld, const struct ytree_node *root,
		     const char *key, char ***out)
{
	const struct ytree_node *n = ytree_map_get(root, key);
	size_t count;
	if (n == NULL)
		return 0;
	if (sload_cstr_list(ld, n, key, out, &count) != 0)
		return -1;
	if (count == 0)
		return sload_error(ld, n,
				   "'%s' is empty (expected a command "
				   "as a list: [program, args])",
				   key);
	return 0;
}

static int load_service(struct sload *ld, const struct ytree_node *k,
			const struct ytree_node *v, struct target_service *s)
{
	static const char *const keys[] = {"port", "tls", NULL};
	static const char *const modes[] = {"none", "starttls", "implicit"};
	const struct ytree_node *n;
	unsigned long port;
	size_t i = 0;

	while (service_names[i] != NULL && strcmp(service_names[i], k->value))
		i++;
	if (service_names[i] == NULL)
		return sload_expected(ld, k, "services",
				      "smtp, submission, submissions, lmtp, "
				      "pop3, pop3s, imap or imaps");
	snprintf(s->name, sizeof(s->name), "%s", service_names[i]);
	if (sload_map(ld, v, k->value, keys, false) != 0 ||
	    sload_need(ld, v, "port", &n) != 0 ||
	    sload_uint(ld, n, "port", 1, 65535, &port) != 0)
		return -1;
	s->port = (unsigned)port;
	s->tls = strcmp(s->name, "submissions") == 0 ||
				 strcmp(s->name, "pop3s") == 0 ||
				 strcmp(s->name, "imaps") == 0
			 ? TARGET_TLS_IMPLICIT
			 : TARGET_TLS_STARTTLS;
	if ((n = ytree_map_get(v, "tls")) == NULL)
		return 0;
	for (i = 0; i < 3; i++)
		if (n->kind == YTREE_SCALAR &&
		    strcmp(n->value, modes[i]) == 0) {
			s->tls = (enum target_tls)i;
			return 0;
		}
	return sload_expected(ld, n, "tls", "none, starttls or implicit");
}

static int load_services(struct sload *ld, const struct ytree_node *root,
			 struct target *t)
{
	const struct ytree_node *n;
	if (sload_need(ld, root, "services", &n) != 0)
		return -1;
	if (n->kind != YTREE_MAP || ytree_len(n) == 0 ||
	    ytree_len(n) > TARGET_MAX_SERVICES)
		return sload_expected(ld, n, "services",
				      "a map of services to { port, tls }");
	for (size_t i = 0; i < ytree_len(n); i++) {
		if (load_service(ld, ytree_map_key_at(n, i),
				 ytree_map_value_at(n, i),
				 &t->services[i]) != 0)
			return -1;
		t->n_services = i + 1;
	}
	return 0;
}

static int load_user(struct sload *ld, const struct ytree_node *n,
		     struct target_user *u)
{
	static const char *const keys[] = {"name", "password", "address", NULL};
	const struct ytree_node *v;
	if (sload_map(ld, n, "users", keys, false) != 0 ||
	    sload_need(ld, n, "name", &v) != 0 ||
	    sload_cstr(ld, v, "name", 256, &u->name) != 0 ||
	    sload_need(ld, n, "password", &v) != 0 ||
	    sload_cstr(ld, v, "password", 256, &u->password) != 0 ||
	    sload_need(ld, n, "address", &v) != 0 ||
	    sload_cstr(ld, v, "address", 256, &u->address) != 0)
		return -1;
	return 0;
}

static int load_users(struct sload *ld, const struct ytree_node *root,
		      struct target *t)
{
	const struct ytree_node *n = ytree_map_get(root, "users");
	if (n == NULL)
		return 0;
	if (n->kind != YTREE_SEQ || ytree_len(n) > TARGET_MAX_USERS)
		return sload_expected(ld, n, "users", "a list of users");
	t->users = calloc(ytree_len(n) + 1, sizeof(*t->users));
	if (t->users == NULL)
		return sload_error(ld, n, "out of memory");
	for (size_t i = 0; i < ytree_len(n); i++) {
		t->n_users = i + 1;
		if (load_user(ld, ytree_seq_at(n, i), &t->users[i]) != 0)
			return -1;
	}
	return 0;
}

static int load_target(struct sload *ld, const struct ytree_node *root,
		       struct target *t)
{
	static const char *const keys[] = {
		"name",	 "summary",	 "start",   "stop",	  "reset",
		"host",	 "domain",	 "ca_file", "tls_verify", "services",
		"users", "capabilities", NULL};
	const struct ytree_node *n;
	size_t count;

	if (root == NULL)
		return sload_error(ld, NULL, "empty file (expected a target)");
	if (sload_map(ld, root, "target", keys, false) != 0 ||
	    sload_need(ld, root, "name", &n) != 0 ||
	    sload_cstr(ld, n, "name", 128, &t->name) != 0 ||
	    ((n = ytree_map_get(root, "summary")) != NULL &&
	     sload_cstr(ld, n, "summary", 300, &t->summary) != 0) ||
	    load_argv(ld, root, "start", &t->start) != 0 ||
	    load_argv(ld, root, "stop", &t->stop) != 0 ||
	    load_argv(ld, root, "reset", &t->reset) != 0 ||
	    sload_need(ld, root, "host", &n) != 0 ||
	    sload_cstr(ld, n, "host", 255, &t->host) != 0 ||
	    sload_need(ld, root, "domain", &n) != 0 ||
	    sload_cstr(ld, n, "domain", 255, &t->domain) != 0 ||
	    ((n = ytree_map_get(root, "ca_file")) != NULL &&
	     sload_cstr(ld, n, "ca_file", 4096, &t->ca_file) != 0) ||
	    ((n = ytree_map_get(root, "tls_verify")) != NULL &&
	     sload_bool(ld, n, "tls_verify", &t->tls_verify) != 0) ||
	    load_services(ld, root, t) != 0 || load_users(ld, root, t) != 0)
		return -1;
	if ((n = ytree_map_get(root, "capabilities")) != NULL &&
	    sload_cstr_list(ld, n, "capabilities", &t->caps, &count) != 0)
		return -1;
	t->n_caps = t->caps != NULL ? count : 0;
	return 0;
}

static struct target *from_tree(struct ytree *t, struct scenario_error *err)
{
	struct target *tg = calloc(1, sizeof(*tg));
	struct sload ld = {.t = t, .err = err, .dir = "."};
	if (tg == NULL || (tg->file = strdup(ytree_file(t))) == NULL) {
		sload_error(&ld, NULL, "out of memory");
		target_free(&tg);
		return NULL;
	}
	tg->tls_verify = true;
	tg->out_fd = -1;
	if (load_target(&ld, ytree_root(t), tg) != 0)
		target_free(&tg);
	return tg;
}

static void copy_yerr(struct scenario_error *err, const struct ytree_error *y)
{
	snprintf(err->file, sizeof(err->file), "%s", y->file);
	err->line = y->line;
	err->column = y->column;
	snprintf(err->message, sizeof(err->message), "%s", y->message);
}

struct target *target_load_file(const char *path, struct scenario_error *err)
{
	struct ytree_error yerr;
	struct ytree *t = ytree_load_file(path, NULL, &yerr);
	struct target *tg;
	memset(err, 0, sizeof(*err));
	if (t == NULL) {
		copy_yerr(err, &yerr);
		return NULL;
	}
	tg = from_tree(t, err);
	ytree_free(&t);
	return tg;
}

struct target *target_load_string(const char *name, const char *data,
				  size_t len, struct scenario_error *err)
{
	struct ytree_error yerr;
	struct ytree *t = ytree_load_string(name, data, len, NULL, &yerr);
	struct target *tg;
	memset(err, 0, sizeof(*err));
	if (t == NULL) {
		copy_yerr(err, &yerr);
		return NULL;
	}
	tg = from_tree(t, err);
	ytree_free(&t);
	return tg;
}

static void free_argv(char **v)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

void target_free(struct target **tp)
{
	struct target *t = *tp;
	if (t == NULL)
		return;
	free(t->name);
	free(t->summary);
	free(t->file);
	free_argv(t->start);
	free_argv(t->stop);
	free_argv(t->reset);
	free(t->host);
	free(t->domain);
	free(t->ca_file);
	for (size_t i = 0; t->users != NULL && i < t->n_users; i++) {
		free(t->users[i].name);
		free(t->users[i].password);
		free(t->users[i].address);
	}
	free(t->users);
	free_argv(t->caps);
	free(t->quilld);
	free(t->tmpdir);
	free(t);
	*tp = NULL;
}

const struct target_service *target_service(const struct target *t,
					    const char *name)
{
	for (size_t i = 0; i < t->n_services; i++)
		if (strcmp(t->services[i].name, name) == 0)
			return &t->services[i];
	return NULL;
}

bool target_has_cap(const struct target *t, const char *cap)
{
	for (size_t i = 0; i < t->n_caps; i++)
		if (strcmp(t->caps[i], cap) == 0)
			return true;
	return false;
}

int target_set_vars(const struct target *t, struct vars *v)
{
	char name[32];
	int rc = vars_set_str(v, "target.host", t->host) |
		 vars_set_str(v, "target.domain", t->domain) |
		 vars_set_str(v, "target.name", t->name);
	for (size_t i = 0; i < t->n_users && rc == 0; i++) {
		snprintf(name, sizeof(name), "user%zu", i + 1);
		rc |= vars_set_str(v, name, t->users[i].name);
		snprintf(name, sizeof(name), "pass%zu", i + 1);
		rc |= vars_set_str(v, name, t->users[i].password);
		snprintf(name, sizeof(name), "addr%zu", i + 1);
		rc |= vars_set_str(v, name, t->users[i].address);
	}
	return rc != 0 ? -1 : 0;
}
