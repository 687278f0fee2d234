/*
 * oplog/clock.h: the one clock every module reads.
 *
 * Two readings, both in milliseconds:
 *   mono  CLOCK_MONOTONIC: for intervals, deadlines and rates. Never jumps;
 *         its zero is arbitrary, so it is never stored or shown.
 *   wall  CLOCK_REALTIME since the Unix epoch: for what is stored or shown
 *         (when a reject was kept, the skew check against an entry's HLC
 *         wall time, log timestamps). It may jump when the host's clock
 *         is set.
 *
 * Threading: both are safe from any thread. They cannot fail on Linux.
 */
#ifndef OPLOG_CLOCK_H
#define OPLOG_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t oplog_clock_mono_ms(void);

/* Milliseconds of CLOCK_MONOTONIC as seconds with a fraction (for rates). */
double oplog_clock_mono_secs(void);

/* Milliseconds since the Unix epoch (CLOCK_REALTIME). */
uint64_t oplog_clock_wall_ms(void);

/* The CLOCK_REALTIME time ms from now in *ts: the deadline
 * pthread_cond_timedwait takes. */
void oplog_clock_deadline(struct timespec *ts, int64_t ms);

#endif
