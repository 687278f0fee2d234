/*
 * oplog/applier.h: the Kafka replica applier behind `oplogd apply`.
 *
 * It consumes the configured topics in a consumer group with
 * rd_kafka_consumer_poll and takes each message through the intake
 * (oplog/intake.h): batches end when nothing more is waiting, or at
 * [apply] batch_size, batch_bytes or batch_ms. Each batch is applied to
 * the store in one transaction together with the next offset of every
 * partition it covers, on the intake's writer thread while the next batch
 * fills. Only after that commit does it commit the same offsets to the
 * group (asynchronously, at a steady cadence, with the store id as commit
 * metadata) so that lag tools see the real position. The store's offsets
 * are the source of truth: on every assignment a partition starts from
 * the store's offset; without one, from the group's committed offset only
 * when its metadata carries this store's id; otherwise from [apply]
 * fresh_start (the resume rule, oplog_lag_resume in oplog/lag.h, which
 * `oplogd lag` measures from too). When partitions are revoked, both
 * batches are applied and their offsets committed before the rebalance
 * goes on.
 *
 * A partition with no position of its own that starts at its end (an
 * empty one, or any with fresh_start = latest) has that position recorded
 * in the store with the next batch and then committed, like a consumed
 * offset, so that every assigned partition has a committed offset after a
 * clean stop.
 *
 * With [metrics] listen set, the loop posts a snapshot once a second to a
 * monitor thread, which renders /metrics and judges /healthz
 * (oplog/metrics.h); the loop never renders.
 *
 * After a kill -9, what was taken in but is not in the store (read again
 * by the next run) is at most [apply] batch_size messages: the batch being
 * written and the one filling share that limit.
 *
 * Threading: oplog_applier_run runs on one thread, which makes every
 * librdkafka call; it starts the intake's writer thread (and the monitor
 * thread), and joins them in oplog_applier_free. The stop flag may be set from a signal handler or
 * another thread.
 *
 * Ownership: the applier borrows the config and the store; both must
 * outlive it.
 */
#ifndef OPLOG_APPLIER_H
#define OPLOG_APPLIER_H

#include <signal.h>
#include <stdint.h>

#include "oplog/config.h"
#include "oplog/intake.h"
#include "oplog/store.h"

struct oplog_applier;

/* Buckets of the batch commit histogram, +Inf aside (their upper bounds:
 * oplog_metrics_commit_bucket in oplog/metrics.h). */
#define OPLOG_COMMIT_BUCKETS 13

/*
 * What the applier has done since it started: every counter the metrics
 * page (oplog/metrics.h) and the progress line show, in one place.
 */
struct oplog_applier_stats {
	struct oplog_intake_stats intake;  /* messages taken in, rejects by reason,
	                                      batches applied, handoffs by why */
	struct oplog_apply_stats store;    /* what applying did, summed over batches */
	uint64_t commits;        /* offset commits sent to the group */
	uint64_t offset_resets;  /* partitions whose stored offset was gone */
	uint64_t kafka_errors;   /* transient client errors seen */
	uint64_t revokes;        /* times partitions were revoked or lost */
	uint64_t revoke_pending; /* messages taken in but not yet applied when that
	                            happened, summed (applied before letting go) */
	uint64_t commit_hist[OPLOG_COMMIT_BUCKETS + 1];  /* store commits per time
	                                                    bucket, failed ones too;
	                                                    last = +Inf */
	double   commit_sum;     /* their seconds, summed */
};

/*
 * Build a consumer from cfg ([kafka] passed to librdkafka as written, plus
 * the settings the applier needs) and subscribe to [apply] topics.
 * Returns 0 with *out set (free with oplog_applier_free), OPLOG_ECONFIG
 * (librdkafka refused a property: the message names file:line and key),
 * OPLOG_EKAFKA, or OPLOG_ENOMEM.
 */
int oplog_applier_new(struct oplog_applier **out, const struct oplog_config *cfg,
                      struct oplog_store *store);

/*
 * Consume and apply until *stop becomes non-zero, then finish the batch
 * in flight, commit the store and the group, and leave the group.
 * Transient broker errors are logged (rate-limited) and retried.
 * Returns 0 after a clean stop, or a negative OPLOG_E* for a fatal
 * condition (store failure, authentication failure, fatal client error,
 * a lost offset range with [apply] on_offset_lost = stop).
 */
int oplog_applier_run(struct oplog_applier *a, const volatile sig_atomic_t *stop);

/*
 * How a reload is asked for and made. When *count (a counter a signal
 * handler increments) has changed, the run loop calls fn(arg, &cfg) on its
 * own thread; fn returns 0 with cfg a freshly loaded configuration, or an
 * OPLOG_E* (logged; nothing changes). The applier takes from it what can
 * change safely while running, [log] level, format and progress_interval,
 * and frees it; fn says which other keys changed and need a restart.
 */
typedef int (*oplog_applier_reload_fn)(void *arg, struct oplog_config **cfg);

/* Ask for reloads through count and fn (both borrowed; arg is passed to
 * fn). Call before oplog_applier_run. */
void oplog_applier_set_reload(struct oplog_applier *a, const volatile sig_atomic_t *count,
                              oplog_applier_reload_fn fn, void *arg);

/* Copy the applier's counters into *out. */
void oplog_applier_stats(const struct oplog_applier *a, struct oplog_applier_stats *out);

/* Close the consumer (if still open) and free a. NULL is ignored. */
void oplog_applier_free(struct oplog_applier *a);

#endif
