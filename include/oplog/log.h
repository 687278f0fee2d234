/*
 * oplog/log.h: one-line structured logs on stderr.
 *
 * A line is a UTC timestamp, a level and a message ("text"), or one JSON
 * object {"ts","level","msg"} ("json"). Lines below the level are not
 * formatted at all.
 *
 * When stderr is journald's stream (JOURNAL_STREAM names its device and
 * inode, as systemd sets it for a service), each line starts with its
 * syslog priority, "<3>" error, "<4>" warn, "<6>" info, "<7>" debug,
 * which journald strips and files the line under; a text line then has no
 * timestamp, journald's own being the one shown.
 *
 * Threading: the level and format are set once at start (a command sets
 * them from its configuration with oplog_log_setup_from()); writing a
 * line is one fputs-sized write, safe from several threads.
 */
#ifndef OPLOG_LOG_H
#define OPLOG_LOG_H

enum oplog_log_level {
	OPLOG_LOG_DEBUG = 0,
	OPLOG_LOG_INFO,
	OPLOG_LOG_WARN,
	OPLOG_LOG_ERROR
};

enum oplog_log_format {
	OPLOG_LOG_TEXT = 0,
	OPLOG_LOG_JSON
};

struct oplog_config;

/* Set the lowest level written and the line format, and look again at
 * whether stderr is journald's (otherwise looked at before the first line). */
void oplog_log_setup(enum oplog_log_level level, enum oplog_log_format format);

/* Set them from cfg's [log] level and format: how every command that logs
 * sets the logger up. */
void oplog_log_setup_from(const struct oplog_config *cfg);

/* Is a line at this level written? (To skip building costly arguments.) */
int oplog_log_enabled(enum oplog_log_level level);

/* Write one line (printf format; no trailing newline needed). */
void oplog_log(enum oplog_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
