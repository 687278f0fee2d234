/*
 * oplog/version.h: the oplogd release version.
 *
 * One definition so that `oplogd --version`, logs and packaging agree.
 */
#ifndef OPLOG_VERSION_H
#define OPLOG_VERSION_H

#define OPLOG_VERSION "0.1.0"

#endif
