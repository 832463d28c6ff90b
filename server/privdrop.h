/*
 * privdrop.h - give up root after binding: become the configured user.
 */
#ifndef QUILL_SERVER_PRIVDROP_H
#define QUILL_SERVER_PRIVDROP_H

#include <stddef.h>

/* Hand the directory tree at dir to user (so mail stays writable), then
 * switch group list, gid and uid to user's, and check that root cannot be
 * regained. Running as user already is fine; as anyone else but root it
 * is an error. Returns 0, or -1 with a message in err. */
int privdrop_to(const char *user, const char *dir, char *err, size_t errlen);

#endif
