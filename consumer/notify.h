/*
 * notify.h: what `oplogd apply` tells systemd through sd_notify(3):
 * READY=1 when the loop starts, STATUS= about once a second, WATCHDOG=1
 * from the loop at half the watchdog interval, STOPPING=1 when the stop
 * begins. Semi-private to consumer/ (the applier's loop calls it).
 *
 * Every call is a no-op, costing one comparison, when the service manager
 * gave no NOTIFY_SOCKET (and the watchdog when it gave no WATCHDOG_USEC
 * for this process). Nothing here fails the run: a message that cannot
 * be sent is dropped, as sd_notify's callers usually do.
 *
 * Threading: the state is the process's, as NOTIFY_SOCKET is; call these
 * from one thread (the applier's).
 */
#ifndef OPLOG_CONSUMER_NOTIFY_H
#define OPLOG_CONSUMER_NOTIFY_H

#include <stdint.h>

/* Read NOTIFY_SOCKET and the watchdog's interval, and send READY=1 with a
 * first STATUS= (status, borrowed). now_ms: the monotonic clock. */
void oplog_notify__ready(int64_t now_ms, const char *status);

/* Is a STATUS= due (a second since the last one)? So that the caller
 * builds the text only when it is sent. */
int oplog_notify__status_due(int64_t now_ms);

/* Send STATUS=applied N (R/s), LAG: R over the time since the last
 * status; lag is the progress line's text (borrowed). */
void oplog_notify__status(int64_t now_ms, uint64_t applied, const char *lag);

/* Send WATCHDOG=1 when half the watchdog interval has passed since the
 * last one. Called from every turn of the loop, so that a loop that
 * stalls stops feeding the watchdog and the service manager restarts it. */
void oplog_notify__watchdog(int64_t now_ms);

/* Send STOPPING=1, with STATUS= saying why (failure: the message that
 * ends the run, borrowed, or NULL for a requested stop). */
void oplog_notify__stopping(const char *failure);

#endif
