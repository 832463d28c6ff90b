/*
 * privdrop.c - switch from root to the service user after binding (see
 * privdrop.h). Ports below 1024 need root to bind; nothing else does, so
 * quilld keeps root only until its listeners are open.
 */
#include "privdrop.h"

#include <errno.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static uid_t chown_uid;
static gid_t chown_gid;

static int chown_one(const char *path, const struct stat *st, int type,
		     struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return lchown(path, chown_uid, chown_gid) == 0 ? 0 : -1;
}

int privdrop_to(const char *user, const char *dir, char *err, size_t errlen)
{
	struct passwd pw, *res = NULL;
	char pwbuf[4096];
	int rc = getpwnam_r(user, &pw, pwbuf, sizeof(pwbuf), &res);
	if (rc != 0 || res == NULL) {
		snprintf(err, errlen, "run_as: no such user '%s'", user);
		return -1;
	}
	if (getuid() == pw.pw_uid && geteuid() == pw.pw_uid)
		return 0;
	if (geteuid() != 0) {
		snprintf(err, errlen,
			 "run_as: cannot become '%s': not started as root",
			 user);
		return -1;
	}
	chown_uid = pw.pw_uid;
	chown_gid = pw.pw_gid;
	if (nftw(dir, chown_one, 32, FTW_PHYS) != 0) {
		snprintf(err, errlen, "run_as: cannot hand %s to '%s': %s", dir,
			 user, strerror(errno));
		return -1;
	}
	if (initgroups(pw.pw_name, pw.pw_gid) != 0 || setgid(pw.pw_gid) != 0 ||
	    setuid(pw.pw_uid) != 0) {
		snprintf(err, errlen, "run_as: cannot become '%s': %s", user,
			 strerror(errno));
		return -1;
	}
	if (setuid(0) == 0 || seteuid(0) == 0) {
		snprintf(err, errlen, "run_as: root could be regained");
		return -1;
	}
	return 0;
}
