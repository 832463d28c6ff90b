/*
 * log.h - one-line structured logging to stderr or syslog.
 *
 * A line is: timestamp (UTC, milliseconds), level, session id (or "-"),
 * then the message, which by convention is an event name followed by
 * key=value fields:  "smtp.connect peer=127.0.0.1:40112 tls=none".
 * Control bytes and non-ASCII in the message (peers put anything in an
 * EHLO name) are written as \xHH, so one event is always one line.
 */
#ifndef QUILL_LOG_H
#define QUILL_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level { LOGL_DEBUG, LOGL_INFO, LOGL_WARN, LOGL_ERROR };
enum log_target { LOG_TO_STDERR, LOG_TO_SYSLOG };

/* Process-wide settings; set once at start-up and on reload. */
void log_setup(enum log_level min, enum log_target target, const char *ident);
enum log_level log_min_level(void);
/* Parse "debug", "info", "warn", "error"; -1 if unknown. */
int log_level_parse(const char *name, enum log_level *level_r);

void log_msg(enum log_level level, const char *session, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_vmsg(enum log_level level, const char *session, const char *fmt,
	      va_list ap) __attribute__((format(printf, 3, 0)));

#define log_debug(sid, ...) log_msg(LOGL_DEBUG, (sid), __VA_ARGS__)
#define log_info(sid, ...)  log_msg(LOGL_INFO, (sid), __VA_ARGS__)
#define log_warn(sid, ...)  log_msg(LOGL_WARN, (sid), __VA_ARGS__)
#define log_error(sid, ...) log_msg(LOGL_ERROR, (sid), __VA_ARGS__)

/* Format the log line (without the newline) into out; used by log_vmsg
 * and by tests. Returns the length written. */
size_t log_format(char *out, size_t n, enum log_level level,
		  const char *session, const char *msg, long long epoch_ms);

#endif
