/*
 * spool_internal.h - what spool.c and spool_group.c share: the open spool
 * file of one message. Nothing outside server/queue includes this.
 */
#ifndef QUILL_SERVER_SPOOL_INTERNAL_H
#define QUILL_SERVER_SPOOL_INTERNAL_H

#include <stdint.h>

#include "spool_seal.h"

struct spool_msg {
	int fd;			/* tmp/<id>, open for writing; -1 once closed */
	uint64_t seal_at;	/* file offset of the seal's value */
	struct spool_seal seal; /* of the message bytes written so far */
	char tmp[1024];		/* <queue>/tmp/<id> */
	char final[1024];	/* <queue>/new/<id> */
	char newdir[1024];	/* <queue>/new */
};

/* Fill in the seal (spool_seal.h). 0, or -1 with errno. */
int spool_seal_write(struct spool_msg *m);

/* fsync a directory (open O_DIRECTORY, fsync, close). 0 or -1, errno. */
int spool_fsync_dir(const char *dir);

#endif
