/* notify.c: sd_notify for `oplogd apply` (notify.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <systemd/sd-daemon.h>

#include "notify.h"

static int on;                       /* NOTIFY_SOCKET was given */
static int64_t watchdog_ms;          /* half the interval; 0 = no watchdog */
static int64_t last_watchdog, last_status;
static uint64_t last_applied;

void oplog_notify__ready(int64_t now_ms, const char *status)
{
	uint64_t usec = 0;

	on = getenv("NOTIFY_SOCKET") != NULL;
	if (!on)
		return;
	/* WATCHDOG_PID, when set, must name this process (a wrapper's
	 * watchdog is not ours): sd_watchdog_enabled checks it. Half the
	 * interval, as sd_watchdog_enabled(3) advises; at least 1 ms. */
	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
		watchdog_ms = usec / 2000 > 0 ? (int64_t)(usec / 2000) : 1;
	last_watchdog = last_status = now_ms;
	last_applied = 0;
	sd_notifyf(0, "READY=1\nSTATUS=%s", status);
	if (watchdog_ms)
		sd_notify(0, "WATCHDOG=1");
}

int oplog_notify__status_due(int64_t now_ms)
{
	return on && now_ms - last_status >= 1000;
}

void oplog_notify__status(int64_t now_ms, uint64_t applied, const char *lag)
{
	int64_t dt = now_ms - last_status;

	if (!on)
		return;
	sd_notifyf(0, "STATUS=applied %" PRIu64 " (%.0f/s), %s", applied,
	           (double)(applied - last_applied) * 1000.0 / (double)(dt > 0 ? dt : 1), lag);
	last_status = now_ms;
	last_applied = applied;
}

void oplog_notify__watchdog(int64_t now_ms)
{
	if (!watchdog_ms || now_ms - last_watchdog < watchdog_ms)
		return;
	sd_notify(0, "WATCHDOG=1");
	last_watchdog = now_ms;
}

void oplog_notify__stopping(const char *failure)
{
	if (!on)
		return;
	if (failure)
		sd_notifyf(0, "STOPPING=1\nSTATUS=stopping: %s", failure);
	else
		sd_notify(0, "STOPPING=1\nSTATUS=stopping");
	watchdog_ms = 0;
}
