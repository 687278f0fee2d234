/*
 * bench_metrics: what one metrics page costs on a store with many
 * datasets, as `make bench` reports it.
 *
 *   bench_metrics STORE ROUNDS MAX_DATASETS
 *
 * Each round reads the per-dataset gauges from STORE (opened read-only;
 * oplog_metrics_datasets, what the applier does once a second when the
 * writer is idle) and renders the page (oplog_metrics_page) with at most
 * MAX_DATASETS per-dataset series (0 = all). Prints one line of JSON:
 * {"datasets","read_ms","render_ms","page_bytes"} (means per round).
 * Exits 2 on usage or setup failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oplog/clock.h"
#include "oplog/error.h"
#include "oplog/metrics.h"
#include "oplog/store.h"

int main(int argc, char **argv)
{
	struct oplog_store_opts so = { 0 };
	struct oplog_store *s = NULL;
	struct oplog_metrics_snapshot snap;
	struct oplog_metrics_dataset *v = NULL;
	double read_ms = 0, render_ms = 0;
	size_t n = 0, len = 0;
	int rounds;

	if (argc != 4 || (rounds = atoi(argv[2])) <= 0) {
		fprintf(stderr, "usage: bench_metrics STORE ROUNDS MAX_DATASETS\n");
		return 2;
	}
	so.path = argv[1];
	so.flags = OPLOG_STORE_RDONLY;
	if (oplog_store_open(&s, &so)) {
		fprintf(stderr, "bench_metrics: %s\n", oplog_error_last());
		return 2;
	}
	for (int r = 0; r < rounds; r++) {
		double t0 = oplog_clock_mono_secs(), t1;
		char *page = NULL;

		oplog_metrics_datasets_free(v, n);
		if (oplog_metrics_datasets(s, &v, &n)) {
			fprintf(stderr, "bench_metrics: %s\n", oplog_error_last());
			return 2;
		}
		t1 = oplog_clock_mono_secs();
		memset(&snap, 0, sizeof(snap));
		snap.datasets = v;
		snap.n_datasets = n;
		snap.max_datasets = (size_t)atol(argv[3]);
		snap.reply_ms = snap.store_commit_ms = snap.group_commit_ms = -1;
		if (oplog_metrics_page(&snap, 0, &page, &len)) {
			fprintf(stderr, "bench_metrics: %s\n", oplog_error_last());
			return 2;
		}
		free(page);
		read_ms += (t1 - t0) * 1000.0;
		render_ms += (oplog_clock_mono_secs() - t1) * 1000.0;
	}
	printf("{\"datasets\":%zu,\"read_ms\":%.2f,\"render_ms\":%.2f,\"page_bytes\":%zu}\n", n,
	       read_ms / rounds, render_ms / rounds, len);
	oplog_metrics_datasets_free(v, n);
	oplog_store_close(s);
	return 0;
}
