/*
 * log.c - structured logging (see log.h).
 */
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

static enum log_level log_min = LOGL_INFO;
static enum log_target log_target = LOG_TO_STDERR;

static const char *const log_names[] = {"debug", "info", "warn", "error"};

void log_setup(enum log_level min, enum log_target target, const char *ident)
{
	if (log_target == LOG_TO_SYSLOG && target != LOG_TO_SYSLOG)
		closelog();
	if (target == LOG_TO_SYSLOG && log_target != LOG_TO_SYSLOG)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
	log_min = min;
	log_target = target;
}

enum log_level log_min_level(void)
{
	return log_min;
}

int log_level_parse(const char *name, enum log_level *level_r)
{
	for (size_t i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++)
		if (strcmp(name, log_names[i]) == 0) {
			*level_r = (enum log_level)i;
			return 0;
		}
	return -1;
}

/* Append msg to out[*pos..n), escaping what would break one line. */
static void log_escape(char *out, size_t n, size_t *pos, const char *msg)
{
	static const char hex[] = "0123456789abcdef";
	for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
		if (*p >= 0x20 && *p < 0x7f) {
			if (*pos + 1 >= n)
				break;
			out[(*pos)++] = (char)*p;
			continue;
		}
		if (*pos + 4 >= n)
			break;
		out[(*pos)++] = '\\';
		out[(*pos)++] = 'x';
		out[(*pos)++] = hex[*p >> 4];
		out[(*pos)++] = hex[*p & 0xf];
	}
	out[*pos] = '\0';
}

size_t log_format(char *out, size_t n, enum log_level level,
		  const char *session, const char *msg, long long epoch_ms)
{
	if (n == 0)
		return 0;
	time_t secs = (time_t)(epoch_ms / 1000);
	struct tm tm;
	char stamp[32] = "0000-00-00T00:00:00";
	if (gmtime_r(&secs, &tm) != NULL)
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	int w = snprintf(out, n, "%s.%03dZ %s %s ", stamp,
			 (int)(epoch_ms % 1000), log_names[level],
			 session != NULL ? session : "-");
	size_t pos = w < 0 ? 0 : (size_t)w >= n ? n - 1 : (size_t)w;
	log_escape(out, n, &pos, msg);
	return pos;
}

void log_vmsg(enum log_level level, const char *session, const char *fmt,
	      va_list ap)
{
	if (level < log_min)
		return;
	char msg[2048], line[4096];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_target == LOG_TO_SYSLOG) {
		static const int prio[] = {LOG_DEBUG, LOG_INFO, LOG_WARNING,
					   LOG_ERR};
		size_t pos = 0;
		log_escape(line, sizeof(line), &pos, msg);
		syslog(prio[level], "%s %s", session != NULL ? session : "-",
		       line);
		return;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	long long ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	size_t len =
		log_format(line, sizeof(line) - 1, level, session, msg, ms);
	line[len++] = '\n';
	/* one write per line, so concurrent writers do not interleave */
	fwrite(line, 1, len, stderr);
	fflush(stderr);
}

void log_msg(enum log_level level, const char *session, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(level, session, fmt, ap);
	va_end(ap);
}
