/*
 * forward.h: a plain TCP relay, 127.0.0.1:port -> a target HOST:PORT, on
 * a thread of its own (for `oplogd broker --port`). Bytes are copied both
 * ways unchanged; each accepted connection gets its own connection to the
 * target.
 */
#ifndef OPLOG_CLI_FORWARD_H
#define OPLOG_CLI_FORWARD_H

#include <stddef.h>

struct cli_forward;

/* Listen on 127.0.0.1:port and relay to target ("HOST:PORT", the first
 * of a comma-separated list). 0 with *out set, or -1 with errstr. */
int cli_forward_start(struct cli_forward **out, int port, const char *target,
                      char *errstr, size_t cap);

/* Stop the thread, close every connection, free f. NULL is ignored. */
void cli_forward_stop(struct cli_forward *f);

#endif
