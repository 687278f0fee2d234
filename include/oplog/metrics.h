/*
 * oplog/metrics.h: the applier's Prometheus page (text format 0.0.4) and
 * its status page (HTML at /, JSON at /status.json), rendered from one
 * snapshot.
 *
 * The apply loop takes the snapshot (its counters, each assigned
 * partition's lag and committed offset, the per-dataset gauges as last
 * read from the store, and what health is judged on); the applier's
 * monitor thread renders it and hands the page and the verdict to the
 * HTTP endpoint (oplog/httpd.h), so that the apply thread never renders. Metric
 * names, HELP and TYPE lines and label formats are an interface:
 * dashboards and tests/system/0204-apply-metrics.sh read them.
 *
 * Threading: none of its own; the store is read only by
 * oplog_metrics_datasets, which needs the store to itself. The other
 * functions touch only their arguments.
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

/* One assigned partition. */
struct oplog_metrics_partition {
	char    topic[256];
	int32_t partition;
	int64_t lag;        /* high watermark minus the store's next offset;
	                       -1 = unknown (no watermark yet, or none heard
	                       from a broker within the health grace) */
	int64_t committed;  /* the last offset the group accepted from this
	                       applier; -1 = none yet */
	int64_t high;       /* the high watermark as last fetched; -1 = none yet */
	int64_t stored;     /* the store's next offset (where apply resumes) */
};

/* One dataset's gauges, read from its node states. */
struct oplog_metrics_dataset {
	uint8_t *name;          /* the dataset's bytes; malloc'd */
	size_t   name_len;
	uint64_t nodes;         /* nodes with a state */
	uint64_t with_gaps;     /* of those, with a missing seq below the head */
	uint64_t last_wall;     /* newest head's wall time (Unix ms) */
};

/* The last rejects the status page shows, at most. */
#define OPLOG_METRICS_REJECTS 10

/* One kept reject, as the status page shows it (texts cut to fit). */
struct oplog_metrics_reject {
	uint64_t id;
	uint64_t time_ms;      /* when it was stored (Unix ms) */
	uint64_t size;         /* the message's size */
	char     source[256];  /* "topic/partition/offset" or "file:index" */
	char     reason[32];   /* oplog_reason_name() */
	char     field[32];    /* oplog_field_name(), "" when none applies */
	char     detail[256];
};

/* One point of the status page's chart. */
struct oplog_metrics_sample {
	int64_t ms;    /* monotonic, when the snapshot was taken */
	int64_t lag;   /* summed over the partitions whose lag is known;
	                  -1 when none is */
	double  rate;  /* messages taken in per second since the sample before */
};

/*
 * Everything one page and one health verdict need. Times are on the
 * monotonic clock (oplog_clock_mono_ms), -1 for never.
 */
struct oplog_metrics_snapshot {
	struct oplog_applier_stats            st;
	const struct oplog_metrics_partition *parts;     /* assigned partitions */
	size_t                                n_parts;
	const struct oplog_metrics_dataset   *datasets;  /* in key order */
	size_t                                n_datasets;
	size_t                                max_datasets;  /* given their own series;
	                                                        the rest are summed */
	int64_t     started_ms;        /* when the applier started */
	int64_t     taken_ms;          /* when the apply loop took this snapshot */
	int64_t     unassigned_ms;     /* since when no partition is assigned;
	                                  -1 while some are */
	int64_t     reply_ms;          /* last reply from any broker */
	int64_t     store_commit_ms;   /* last store transaction committed */
	int64_t     group_commit_ms;   /* last group commit the broker accepted */
	uint64_t    store_bytes;       /* pages in use x page size */
	uint64_t    rejects_kept;      /* reject records in the store */
	const char *failure;           /* why the applier is stopping; NULL = it is not */
	const char *broker_error;      /* the last client error, or NULL */
	const char *bootstrap;         /* [kafka] bootstrap.servers, or NULL */
	const char *store_path;        /* [store] path, or NULL */
	const char *group;             /* [kafka] group.id, or NULL */
	const struct oplog_metrics_reject *rejects;  /* the last kept, oldest first */
	size_t      n_rejects;
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
 * Render the page for snap as of now_ms (the "seconds since" gauges).
 * Returns 0 with *page (malloc'd, caller frees) and *len set, or
 * OPLOG_ENOMEM (*page NULL).
 */
int oplog_metrics_page(const struct oplog_metrics_snapshot *snap, int64_t now_ms, char **page,
                       size_t *len);

/*
 * The health /healthz reports for snap as of now_ms: 1 when healthy, or 0
 * with a one-line reason in why[0..len). Unhealthy, in this order, when
 * the applier is stopping on a failure, the apply loop has not taken a
 * snapshot for grace_ms, no broker has replied for grace_ms (or none ever,
 * grace_ms after the start), or no partition has been assigned for
 * grace_ms.
 */
int oplog_metrics_health(const struct oplog_metrics_snapshot *snap, int64_t now_ms,
                         int64_t grace_ms, char *why, size_t len);

/*
 * The status page (HTML, one self-contained document that reloads itself)
 * and the same data as JSON (/status.json), for snap as of now_ms, with the
 * health verdict (healthy, why: NULL when healthy) and the chart's samples
 * hist[0..n_hist), oldest first, each interval_ms apart. Every name and
 * text from the stream or the store is escaped. Returns 0 with *out
 * (malloc'd, caller frees) and *len set, or OPLOG_ENOMEM (*out NULL).
 */
int oplog_metrics_status_html(const struct oplog_metrics_snapshot *snap, int64_t now_ms,
                              int healthy, const char *why,
                              const struct oplog_metrics_sample *hist, size_t n_hist,
                              int64_t interval_ms, char **out, size_t *len);
int oplog_metrics_status_json(const struct oplog_metrics_snapshot *snap, int64_t now_ms,
                              int healthy, const char *why,
                              const struct oplog_metrics_sample *hist, size_t n_hist,
                              int64_t interval_ms, char **out, size_t *len);

/* Is a partition's lag known: a high watermark seen (high >= 0) and a
 * broker reply (reply_ms, -1 = never) within grace_ms of now_ms? */
int oplog_metrics_lag_known(int64_t high, int64_t reply_ms, int64_t now_ms, int64_t grace_ms);

#endif
