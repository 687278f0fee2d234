/*
 * applier_int.h: the applier's state, shared by applier.c (the loop:
 * messages, batches, metrics) and applier_group.c (the group side: where assigned
 * partitions start, revocations, offset commits). Semi-private to
 * consumer/; the applier is described in oplog/applier.h.
 *
 * Threading: everything here runs on the applier's thread.
 */
#ifndef OPLOG_CONSUMER_APPLIER_INT_H
#define OPLOG_CONSUMER_APPLIER_INT_H

#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "oplog/applier.h"
#include "oplog/httpd.h"
#include "oplog/intake.h"
#include "oplog/metrics.h"

struct oplog_applier {
	const struct oplog_config *cfg;
	struct oplog_store        *store;
	rd_kafka_t                *rk;
	rd_kafka_queue_t          *q;          /* the consumer queue, to cut a poll short */
	rd_kafka_t                *dlq;        /* producer for dead letters, or NULL */
	const char                *dlq_topic;
	struct oplog_intake       *in;         /* the batches and what they hold */
	rd_kafka_topic_partition_list_t *in_batch;   /* next offsets in the filling batch */
	rd_kafka_topic_partition_list_t *in_flight;  /* next offsets in the batch in flight */
	size_t                     flight_msgs;      /* messages in the batch in flight */
	rd_kafka_topic_partition_list_t *to_commit;  /* applied, not yet committed */
	rd_kafka_topic_partition_list_t *pos;        /* assigned: next offset not yet seen */
	rd_kafka_topic_partition_list_t *applied;    /* next offset in the store, as known */
	char                       store_id[2 * OPLOG_STORE_ID_LEN + 1];

	int64_t                    commit_ms, progress_ms;
	int                        fresh_latest, stop_on_lost;

	int64_t                    last_commit, last_progress, last_err_log;
	uint64_t                   progress_applied, errs_suppressed;
	int64_t                    last_fork_log;  /* mono ms of the last fork line */
	uint64_t                   forks_unlogged, breaks_unlogged;  /* since that line */
	struct oplog_applier_stats st;         /* st.intake is the intake's: read it
	                                          with oplog_applier_stats */
	struct oplog_httpd        *httpd;      /* NULL when [metrics] listen is empty */
	struct oplog_monitor      *monitor;    /* renders for httpd; NULL with it */
	int64_t                    last_post;
	int64_t                    grace_ms;   /* [metrics] health_grace */
	size_t                     max_datasets;
	int64_t                    store_due;  /* next read of the datasets and sizes */
	uint64_t                   store_bytes, rejects_kept;  /* as last read */
	struct oplog_metrics_reject rejects[OPLOG_METRICS_REJECTS];  /* the last kept */
	size_t                     n_rejects;
	/* What health is judged on: mono ms, -1 = never. */
	int64_t                    started_ms, unassigned_ms, reply_ms;
	int64_t                    store_commit_ms, group_commit_ms;
	char                       broker_error[512];  /* the last transient error */
	rd_kafka_topic_partition_list_t *committed;  /* accepted by the group */
	struct oplog_metrics_partition *lags;  /* per partition, last computed */
	size_t                     n_lags, cap_lags;
	int64_t                    lag;        /* summed over partitions whose lag is known */
	int                        lag_unknown;  /* partitions whose lag is not */
	const volatile sig_atomic_t *reload_count;  /* NULL: no reloads */
	sig_atomic_t               reload_seen;
	oplog_applier_reload_fn    reload_fn;
	void                      *reload_arg;
	int                        fatal;       /* an OPLOG_E* ending the run */
	char                       fatal_msg[512];
};

/* Record (topic, partition) -> offset in list, replacing an older one. */
static inline void oplog_applier__list_set(rd_kafka_topic_partition_list_t *list, const char *topic,
                                           int32_t partition, int64_t offset)
{
	rd_kafka_topic_partition_t *p = rd_kafka_topic_partition_list_find(list, topic, partition);

	if (!p)
		p = rd_kafka_topic_partition_list_add(list, topic, partition);
	p->offset = offset;
}

/* Count a transient error and log it, at most once a second (applier.c). */
void oplog_applier__transient(struct oplog_applier *a, const char *what, const char *reason);

/* ---- monitor.c ---- */

struct oplog_monitor;

/* Start the thread that renders the metrics page and judges health
 * (oplog_metrics_health with grace_ms) once a second for httpd
 * (borrowed). 0 with *out set, or OPLOG_ENOMEM. */
int oplog_monitor__start(struct oplog_monitor **out, struct oplog_httpd *httpd, int64_t grace_ms);

/* Hand the monitor a snapshot: it copies snap and what it points to,
 * except the datasets, which it takes (datasets, n_datasets: a fresh
 * read, or NULL to keep showing the last one). 0, or OPLOG_ENOMEM (the
 * datasets are freed). */
int oplog_monitor__post(struct oplog_monitor *m, const struct oplog_metrics_snapshot *snap,
                        struct oplog_metrics_dataset *datasets, size_t n_datasets);

/* Publish the last snapshot posted, stop the thread and free m. NULL is
 * ignored. */
void oplog_monitor__stop(struct oplog_monitor *m);

/* ---- applier_group.c ---- */

/* The fetcher reached the end of a partition at offset end: with nothing
 * of it in either batch, end is applied and due for the group. */
void oplog_applier__at_end(struct oplog_applier *a, const char *topic, int32_t partition,
                           int64_t end);

/* Commit the applied offsets to the group, with the store id as metadata;
 * async in the loop, sync when partitions go or the applier stops. */
void oplog_applier__commit(struct oplog_applier *a, int async);

/* The group accepted offsets: those without an error of their own are
 * what lag tools now see (a->committed, a->group_commit_ms). */
void oplog_applier__committed(struct oplog_applier *a,
                              const rd_kafka_topic_partition_list_t *offsets);

/* librdkafka's rebalance callback (opaque = the applier): positions the
 * assigned partitions, applies and commits everything before revoking. */
void oplog_applier__on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                                 rd_kafka_topic_partition_list_t *parts, void *opaque);

/* librdkafka's offset commit callback: failed offsets are due again. */
void oplog_applier__on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                              rd_kafka_topic_partition_list_t *offsets, void *opaque);

#endif
