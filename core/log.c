/* log.c: the logger behind oplog/log.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "oplog/bytes.h"
#include "oplog/clock.h"
#include "oplog/config.h"
#include "oplog/log.h"

static enum oplog_log_level min_level = OPLOG_LOG_INFO;
static enum oplog_log_format format = OPLOG_LOG_TEXT;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void oplog_log_setup(enum oplog_log_level level, enum oplog_log_format fmt)
{
	min_level = level;
	format = fmt;
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
	char ts[OPLOG_TIME_ISO_MAX], msg[1024], line[1400];
	va_list ap;

	if (level < min_level)
		return;
	oplog_time_iso(oplog_clock_wall_ms(), ts);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (format == OPLOG_LOG_JSON) {
		json_t *o = json_pack("{s:s,s:s,s:s%}", "ts", ts, "level", level_names[level],
		                      "msg", msg, strlen(msg));
		char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		snprintf(line, sizeof(line), "%s\n", text ? text : msg);
		free(text);
		json_decref(o);
	} else {
		snprintf(line, sizeof(line), "%s %-5s %s\n", ts, level_names[level], msg);
	}
	fputs(line, stderr);
}
