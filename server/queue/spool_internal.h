/*
 * spool_internal.h - what spool.c and spool_group.c share: the open spool
 * file of one message. Nothing outside server/queue includes this.
 */
#ifndef QUILL_SERVER_SPOOL_INTERNAL_H
#define QUILL_SERVER_SPOOL_INTERNAL_H

struct spool_msg {
	int fd;		   /* tmp/<id>, open for writing; -1 once closed */
	char tmp[1024];	   /* <queue>/tmp/<id> */
	char final[1024];  /* <queue>/new/<id> */
	char newdir[1024]; /* <queue>/new */
};

/* fsync a directory (open O_DIRECTORY, fsync, close). 0 or -1, errno. */
int spool_fsync_dir(const char *dir);

#endif
