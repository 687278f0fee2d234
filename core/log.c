/* log.c: the logger behind oplog/log.h. */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include <jansson.h>

#include "oplog/bytes.h"
#include "oplog/clock.h"
#include "oplog/config.h"
#include "oplog/log.h"

static enum oplog_log_level min_level = OPLOG_LOG_INFO;
static enum oplog_log_format format = OPLOG_LOG_TEXT;

static const char *const level_names[] = { "debug", "info", "warn", "error" };
/* The syslog priority of each level: what journald files a line under. */
static const int level_prio[] = { LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR };

static pthread_once_t journal_once = PTHREAD_ONCE_INIT;
static int to_journal;

/*
 * Is stderr journald's stream? systemd passes JOURNAL_STREAM=DEV:INO of
 * the stream it connected to stdout/stderr; a stderr redirected since
 * (a shell in between, `2>file`) no longer matches, and gets plain lines.
 */
static void journal_detect(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	uintmax_t dev, ino;
	struct stat st;
	char end;

	to_journal = env && sscanf(env, "%ju:%ju%c", &dev, &ino, &end) == 2 &&
	             fstat(2, &st) == 0 && (uintmax_t)st.st_dev == dev &&
	             (uintmax_t)st.st_ino == ino;
}

void oplog_log_setup(enum oplog_log_level level, enum oplog_log_format fmt)
{
	min_level = level;
	format = fmt;
	/* Lines before any setup detect it once (journal_once). */
	pthread_once(&journal_once, journal_detect);
	journal_detect();
}

void oplog_log_setup_from(const struct oplog_config *cfg)
{
	oplog_log_setup(cfg->log.level, cfg->log.format);
}

int oplog_log_enabled(enum oplog_log_level level)
{
	return level >= min_level;
}

void oplog_log(enum oplog_log_level level, const char *fmt, ...)
{
	char ts[OPLOG_TIME_ISO_MAX], msg[1024], line[1400], prio[8] = "";
	va_list ap;

	if (level < min_level)
		return;
	pthread_once(&journal_once, journal_detect);
	/* journald reads the "<N>" and files the line at that priority. */
	if (to_journal)
		snprintf(prio, sizeof(prio), "<%d>", level_prio[level]);
	oplog_time_iso(oplog_clock_wall_ms(), ts);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (format == OPLOG_LOG_JSON) {
		json_t *o = json_pack("{s:s,s:s,s:s%}", "ts", ts, "level", level_names[level],
		                      "msg", msg, strlen(msg));
		char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		snprintf(line, sizeof(line), "%s%s\n", prio, text ? text : msg);
		free(text);
		json_decref(o);
	} else if (to_journal) {
		/* journald stamps each line itself. */
		snprintf(line, sizeof(line), "%s%-5s %s\n", prio, level_names[level], msg);
	} else {
		snprintf(line, sizeof(line), "%s %-5s %s\n", ts, level_names[level], msg);
	}
	fputs(line, stderr);
}
