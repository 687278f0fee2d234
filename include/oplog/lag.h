/*
 * oplog/lag.h: where the Kafka side stands, for `oplogd lag` and
 * `oplogd replay`: every partition of the [apply] topics (or one topic)
 * with its low and high watermarks, and the group's committed offset with
 * whether its metadata is a given store's id.
 *
 * It never joins the group and never commits: a consumer handle is used
 * only for metadata, ListOffsets and OffsetFetch requests, so it works
 * while the applier runs.
 *
 * It also holds the resume rule (oplog_lag_resume): where a partition
 * starts when the applier is assigned it. The applier positions by it
 * and `oplogd lag` measures from it, so the two cannot disagree.
 *
 * Ownership: the array returned is the caller's (oplog_lag_free).
 */
#ifndef OPLOG_LAG_H
#define OPLOG_LAG_H

#include <stddef.h>
#include <stdint.h>

#include "oplog/config.h"

struct oplog_kafka_partition {
	char    topic[256];
	int32_t partition;
	int64_t low, high;          /* watermarks at the time of the call */
	int64_t committed;          /* the group's offset; -1 when none */
	int     committed_by_store; /* its metadata is store_id */
};

/*
 * Look up every partition of topics (NULL: [apply] topics), in topic then
 * partition order. With group non-zero, also the committed offsets of
 * [kafka] group.id (required then), compared with store_id (hex; may be
 * NULL). timeout_ms bounds each request.
 * Returns 0 with *out / *n set, OPLOG_ECONFIG, OPLOG_ENOTFOUND (a topic
 * the broker does not know), OPLOG_EKAFKA (broker unreachable, timed
 * out: the message says which request) or OPLOG_ENOMEM.
 */
int oplog_lag_partitions(const struct oplog_config *cfg, const char *topic, int group,
                         const char *store_id, int timeout_ms,
                         struct oplog_kafka_partition **out, size_t *n);

void oplog_lag_free(struct oplog_kafka_partition *p);

/* Is a committed offset's metadata (meta[0..len), not NUL-terminated)
 * this store's id (hex, NUL-terminated; NULL matches nothing)? */
int oplog_lag_by_store(const void *meta, size_t len, const char *store_id);

/* Which offset a partition resumes from (oplog_lag_resume). */
enum oplog_resume_from {
	OPLOG_RESUME_STORE = 0,  /* the store's next offset */
	OPLOG_RESUME_GROUP,      /* the group's, committed by this store */
	OPLOG_RESUME_EARLIEST,   /* [apply] fresh_start = earliest */
	OPLOG_RESUME_LATEST      /* [apply] fresh_start = latest */
};

struct oplog_resume {
	enum oplog_resume_from from;
	int64_t                offset;  /* STORE, GROUP: the offset; else -1 */
	const char            *why;     /* EARLIEST, LATEST: why neither offset
	                                   counts (static text); else NULL */
};

/*
 * The resume rule: the store's own offset (stored >= 0); else the group's
 * committed offset (committed >= 0) only when by_store says its metadata
 * is this store's id; else the start fresh_latest names. A store never
 * inherits another store's position. Cannot fail.
 */
struct oplog_resume oplog_lag_resume(int64_t stored, int64_t committed, int by_store,
                                     int fresh_latest);

#endif
