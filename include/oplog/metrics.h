/*
 * oplog/metrics.h: the applier's Prometheus page (text format 0.0.4),
 * rendered from one snapshot.
 *
 * The applier takes the snapshot (its counters, the lag of each assigned
 * partition, the per-dataset gauges as last read from the store) and
 * hands the rendered page to the HTTP endpoint (oplog/httpd.h). Metric
 * names, HELP and TYPE lines and label formats are an interface:
 * dashboards and tests/system/0204-apply-metrics.sh read them.
 *
 * Threading: none of its own; the store is read only by
 * oplog_metrics_datasets, which needs the store to itself.
 *
 * Ownership: a snapshot borrows everything it points to; the page
 * returned is the caller's (free()).
 */
#ifndef OPLOG_METRICS_H
#define OPLOG_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "oplog/applier.h"
#include "oplog/store.h"

/* One assigned partition's lag: high watermark minus the store's next
 * offset. */
struct oplog_metrics_partition {
	const char *topic;      /* borrowed */
	int32_t     partition;
	int64_t     lag;
};

/* One dataset's gauges, read from its node states. */
struct oplog_metrics_dataset {
	uint8_t *name;          /* the dataset's bytes; malloc'd */
	size_t   name_len;
	uint64_t nodes;         /* nodes with a state */
	uint64_t with_gaps;     /* of those, with a missing seq below the head */
	uint64_t last_wall;     /* newest head's wall time (Unix ms) */
};

/* Everything one page shows. */
struct oplog_metrics_snapshot {
	struct oplog_applier_stats            st;
	const struct oplog_metrics_partition *parts;     /* partitions fetched from */
	size_t                                n_parts;
	const struct oplog_metrics_dataset   *datasets;
	size_t                                n_datasets;
};

/*
 * The per-dataset gauges of store s. Returns 0 with *out / *n set (free
 * with oplog_metrics_datasets_free), or the store's error or OPLOG_ENOMEM
 * with *out / *n holding the datasets read before the failure.
 */
int oplog_metrics_datasets(struct oplog_store *s, struct oplog_metrics_dataset **out,
                           size_t *n);

/* Free what oplog_metrics_datasets returned. NULL is ignored. */
void oplog_metrics_datasets_free(struct oplog_metrics_dataset *v, size_t n);

/* The batch commit histogram's bucket for a commit of secs seconds:
 * 0..OPLOG_COMMIT_BUCKETS (the last is +Inf). */
size_t oplog_metrics_commit_bucket(double secs);

/*
 * Render the page for snap. Returns 0 with *page (malloc'd, caller frees)
 * and *len set, or OPLOG_ENOMEM (*page NULL).
 */
int oplog_metrics_page(const struct oplog_metrics_snapshot *snap, char **page, size_t *len);

#endif
