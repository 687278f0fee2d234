/*
 * metrics_page.c: the applier's Prometheus page (oplog/metrics.h), from
 * one snapshot, and the per-dataset gauges it shows, read from the store.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oplog/error.h"
#include "oplog/metrics.h"
#include "oplog/version.h"

/* Upper bounds (seconds) of the batch commit histogram's buckets. */
static const double commit_le[OPLOG_COMMIT_BUCKETS] = { 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                        0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };

size_t oplog_metrics_commit_bucket(double secs)
{
	size_t b = 0;

	while (b < OPLOG_COMMIT_BUCKETS && secs > commit_le[b])
		b++;
	return b;
}

/* ---- the per-dataset gauges, read from the store ----------------------- */

struct datasets {
	struct oplog_store           *store;
	struct oplog_metrics_dataset *v;
	size_t                        n;
};

static int head_fn(const struct oplog_node_info *n, void *arg)
{
	struct oplog_metrics_dataset *g = arg;

	g->nodes++;
	g->with_gaps += n->watermark < n->head_seq;
	if (n->head_wall > g->last_wall)
		g->last_wall = n->head_wall;
	return 0;
}

static int dataset_fn(struct oplog_slice ds, void *arg)
{
	struct datasets *ds_all = arg;
	struct oplog_metrics_dataset *g = realloc(ds_all->v, (ds_all->n + 1) * sizeof(*g));

	if (!g)
		return oplog_error__set(OPLOG_ENOMEM, "out of memory");
	ds_all->v = g;
	g += ds_all->n;
	*g = (struct oplog_metrics_dataset){ 0 };
	if (!(g->name = malloc(ds.len ? ds.len : 1)))
		return oplog_error__set(OPLOG_ENOMEM, "out of memory");
	memcpy(g->name, ds.ptr, ds.len);
	g->name_len = ds.len;
	ds_all->n++;
	return oplog_store_heads(ds_all->store, ds, head_fn, g);
}

int oplog_metrics_datasets(struct oplog_store *s, struct oplog_metrics_dataset **out,
                           size_t *n)
{
	struct datasets d = { s, NULL, 0 };
	int rc = oplog_store_datasets(s, dataset_fn, &d);

	*out = d.v;
	*n = d.n;
	return rc;
}

void oplog_metrics_datasets_free(struct oplog_metrics_dataset *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i].name);
	free(v);
}

/* ---- the page -------------------------------------------------------------- */

/* A Prometheus label value: backslash, quote and newline escaped. */
static void label(FILE *f, const uint8_t *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = (char)s[i];
		if (c == '\\' || c == '"')
			fputc('\\', f);
		if (c == '\n')
			fputs("\\n", f);
		else
			fputc(c, f);
	}
}

static void metric_head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void counter(FILE *f, const char *name, const char *help, uint64_t v)
{
	metric_head(f, name, "counter", help);
	fprintf(f, "%s %" PRIu64 "\n", name, v);
}

/* One per-dataset gauge family: which says which field. */
enum ds_field { DS_NODES, DS_WITH_GAPS, DS_LAST_WALL };

static void dataset_value(FILE *f, const struct oplog_metrics_dataset *d, enum ds_field which)
{
	if (which == DS_LAST_WALL)
		fprintf(f, " %.3f\n", (double)d->last_wall / 1000.0);
	else
		fprintf(f, " %" PRIu64 "\n", which == DS_NODES ? d->nodes : d->with_gaps);
}

/*
 * One per-dataset gauge family: which says which field. The first
 * max_datasets datasets get a series each; the rest, if any, are summed
 * into one series labelled dataset_rest="true" (their newest wall time
 * for DS_LAST_WALL), so that the page stays small with many datasets.
 */
static void dataset_family(FILE *f, const struct oplog_metrics_snapshot *s, const char *name,
                           const char *help, enum ds_field which)
{
	size_t shown = s->n_datasets < s->max_datasets ? s->n_datasets : s->max_datasets;
	struct oplog_metrics_dataset rest = { 0 };

	metric_head(f, name, "gauge", help);
	for (size_t i = 0; i < s->n_datasets; i++) {
		const struct oplog_metrics_dataset *d = &s->datasets[i];

		if (i >= shown) {
			rest.nodes += d->nodes;
			rest.with_gaps += d->with_gaps;
			if (d->last_wall > rest.last_wall)
				rest.last_wall = d->last_wall;
			continue;
		}
		fprintf(f, "%s{dataset=\"", name);
		label(f, d->name, d->name_len);
		fputs("\"}", f);
		dataset_value(f, d, which);
	}
	if (shown < s->n_datasets) {
		fprintf(f, "%s{dataset_rest=\"true\"}", name);
		dataset_value(f, &rest, which);
	}
}

/* A gauge of the seconds from `then` to `now` (ms); +Inf for never. */
static void since(FILE *f, const char *name, const char *help, int64_t then, int64_t now)
{
	metric_head(f, name, "gauge", help);
	if (then < 0)
		fprintf(f, "%s +Inf\n", name);
	else
		fprintf(f, "%s %.3f\n", name, (double)(now > then ? now - then : 0) / 1000.0);
}

static void gauge(FILE *f, const char *name, const char *help, uint64_t v)
{
	metric_head(f, name, "gauge", help);
	fprintf(f, "%s %" PRIu64 "\n", name, v);
}

/* The per-partition families: lag (NaN when unknown), committed offset. */
static void partitions(FILE *f, const struct oplog_metrics_snapshot *s)
{
	metric_head(f, "oplogd_partition_lag", "gauge", "High watermark minus the store's next "
	            "offset, per assigned partition; NaN when the watermark is unknown or stale.");
	for (size_t i = 0; i < s->n_parts; i++) {
		fprintf(f, "oplogd_partition_lag{topic=\"%s\",partition=\"%" PRId32 "\"} ",
		        s->parts[i].topic, s->parts[i].partition);
		if (s->parts[i].lag < 0)
			fputs("NaN\n", f);
		else
			fprintf(f, "%" PRId64 "\n", s->parts[i].lag);
	}
	metric_head(f, "oplogd_committed_offset", "gauge", "The last offset the group accepted "
	            "from this applier, per assigned partition that has one.");
	for (size_t i = 0; i < s->n_parts; i++)
		if (s->parts[i].committed >= 0)
			fprintf(f, "oplogd_committed_offset{topic=\"%s\",partition=\"%" PRId32 "\"} %"
			        PRId64 "\n", s->parts[i].topic, s->parts[i].partition,
			        s->parts[i].committed);
}

static void commit_histogram(FILE *f, const struct oplog_applier_stats *st)
{
	uint64_t cum = 0;

	metric_head(f, "oplogd_batch_commit_seconds", "histogram", "Time to apply and commit "
	            "one store transaction.");
	for (size_t b = 0; b <= OPLOG_COMMIT_BUCKETS; b++) {
		cum += st->commit_hist[b];
		if (b < OPLOG_COMMIT_BUCKETS)
			fprintf(f, "oplogd_batch_commit_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
			        commit_le[b], cum);
		else
			fprintf(f, "oplogd_batch_commit_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n", cum);
	}
	fprintf(f, "oplogd_batch_commit_seconds_sum %.6f\noplogd_batch_commit_seconds_count %"
	        PRIu64 "\n", st->commit_sum, cum);
}

/*
 * Adding a metric:
 *   - a counter: add its field to struct oplog_applier_stats
 *     (oplog/applier.h), count it where its event happens, and add its
 *     counter() line below, in the place it should have on the page;
 *   - a per-dataset gauge: add its field to struct oplog_metrics_dataset
 *     (oplog/metrics.h), fill it in head_fn() above, add a
 *     dataset_family() line below (and a case to enum ds_field and
 *     dataset_value(), and its sum to dataset_family()'s rest);
 *   - a gauge of the applier's state: a field in struct
 *     oplog_metrics_snapshot, set where the applier takes it
 *     (snapshot() in applier.c), and a gauge() or since() line below.
 * Nothing else renders the page.
 *
 * Counters count since the process started; the per-dataset gauges are
 * as the applier last read them from the store.
 */
int oplog_metrics_page(const struct oplog_metrics_snapshot *s, int64_t now, char **page,
                       size_t *len)
{
	const struct oplog_applier_stats *st = &s->st;
	FILE *f;

	*page = NULL;
	*len = 0;
	if (!(f = open_memstream(page, len)))
		return oplog_error__set(OPLOG_ENOMEM, "out of memory");
	metric_head(f, "oplogd_build_info", "gauge", "The running oplogd's version.");
	fprintf(f, "oplogd_build_info{version=\"%s\"} 1\n", OPLOG_VERSION);
	counter(f, "oplogd_messages_total", "Messages consumed from Kafka, valid or not.",
	        st->intake.messages);
	counter(f, "oplogd_applied_total", "New entries added to the store.", st->store.applied);
	counter(f, "oplogd_duplicates_total", "Entries already in the store.",
	        st->store.duplicates);
	counter(f, "oplogd_late_total", "Entries added behind their node's head.",
	        st->store.late);
	counter(f, "oplogd_forks_total", "Second hashes at a taken (dataset, node, seq).",
	        st->store.forks);
	counter(f, "oplogd_chain_breaks_total", "Chain breaks recorded.", st->store.chain_breaks);
	counter(f, "oplogd_below_boundary_total", "Entries at or below a node's pruned-through seq.",
	        st->store.below_boundary);
	metric_head(f, "oplogd_rejected_total", "counter", "Messages rejected, by reason.");
	for (int r = OPLOG_R_NONE + 1; r < OPLOG_R__COUNT; r++)
		fprintf(f, "oplogd_rejected_total{reason=\"%s\"} %" PRIu64 "\n",
		        oplog_reason_name((enum oplog_reason)r), st->intake.rejected_by[r]);
	counter(f, "oplogd_batches_total", "Store transactions committed.", st->intake.batches);
	counter(f, "oplogd_commits_total", "Offset commits sent to the Kafka group.",
	        st->commits);
	counter(f, "oplogd_offset_resets_total", "Partitions whose next offset was gone from "
	        "the broker.", st->offset_resets);
	counter(f, "oplogd_kafka_errors_total", "Transient Kafka client errors (retried).",
	        st->kafka_errors);
	gauge(f, "oplogd_assigned_partitions", "Partitions assigned to this applier.",
	      s->n_parts);
	partitions(f, s);
	since(f, "oplogd_seconds_since_broker_reply", "Seconds since any broker last answered "
	      "a request (fetch, metadata, commit); +Inf if none ever has.", s->reply_ms, now);
	since(f, "oplogd_seconds_since_store_commit", "Seconds since the last store transaction "
	      "was committed; +Inf if none yet.", s->store_commit_ms, now);
	since(f, "oplogd_seconds_since_group_commit", "Seconds since the group last accepted an "
	      "offset commit; +Inf if never.", s->group_commit_ms, now);
	gauge(f, "oplogd_store_bytes", "Store pages in use times the page size.",
	      s->store_bytes);
	gauge(f, "oplogd_rejects_kept", "Rejected messages kept in the store.", s->rejects_kept);
	gauge(f, "oplogd_datasets", "Datasets in the store.", s->n_datasets);
	dataset_family(f, s, "oplogd_nodes", "Nodes per dataset.", DS_NODES);
	dataset_family(f, s, "oplogd_nodes_with_gaps", "Nodes with a missing seq below their "
	               "head.", DS_WITH_GAPS);
	dataset_family(f, s, "oplogd_last_entry_wall_seconds", "Newest head's wall time per "
	               "dataset (Unix seconds).", DS_LAST_WALL);
	commit_histogram(f, st);
	if (fclose(f) != 0) {
		free(*page);
		*page = NULL;
		*len = 0;
		return oplog_error__set(OPLOG_ENOMEM, "out of memory");
	}
	return 0;
}

/* ---- health ----------------------------------------------------------- */

int oplog_metrics_lag_known(int64_t high, int64_t reply_ms, int64_t now_ms, int64_t grace_ms)
{
	return high >= 0 && reply_ms >= 0 && now_ms - reply_ms <= grace_ms;
}

int oplog_metrics_health(const struct oplog_metrics_snapshot *s, int64_t now, int64_t grace,
                         char *why, size_t len)
{
	int64_t quiet = s->reply_ms >= 0 ? now - s->reply_ms : now - s->started_ms;

	if (s->failure) {
		snprintf(why, len, "stopping: %s", s->failure);
	} else if (now - s->taken_ms > grace) {
		snprintf(why, len, "stalled: the apply loop has not reported for %" PRId64 " s",
		         (now - s->taken_ms) / 1000);
	} else if (quiet > grace) {
		snprintf(why, len, "no broker has answered %s %" PRId64 " s (bootstrap.servers %s)%s%s",
		         s->reply_ms >= 0 ? "for" : "since the start,", quiet / 1000,
		         s->bootstrap ? s->bootstrap : "unset",
		         s->broker_error ? "; last error: " : "",
		         s->broker_error ? s->broker_error : "");
	} else if (s->unassigned_ms >= 0 && now - s->unassigned_ms > grace) {
		snprintf(why, len, "no partition assigned for %" PRId64 " s",
		         (now - s->unassigned_ms) / 1000);
	} else {
		return 1;
	}
	return 0;
}
