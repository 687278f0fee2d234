/*
 * bench_store: the LMDB store's speed, as `make bench` reports it.
 *
 * A stream of 64 nodes x 4 datasets with 200-byte bodies comes from
 * oplog_gen. Measured, each with a durable commit per batch:
 *   - apply of 1M entries into an empty store;
 *   - apply of the next 1M entries into a store already holding 5M;
 *   - point-get latency (p50/p99), a node scan of 1000 entries, a chain
 *     walk of 1000 entries, and prune throughput, on the large store.
 * Rows show both write modes ([store] writemap = no, the default, and
 * yes). For scale, the same machine's
 * LMDB floor is measured too: a bare loop of 5 puts of random 32-byte
 * keys per entry, with the same batch size and durability. Sizes shrink
 * with BENCH_SCALE=small (for a quick look, not for figures).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "oplog/clock.h"
#include "oplog/entry.h"
#include "oplog/error.h"
#include "oplog/gen.h"
#include "oplog/store.h"

struct msgs {
	struct oplog_gen_msg *m;
	struct oplog_entry   *e;
	size_t                n;
};

static void die(const char *what)
{
	fprintf(stderr, "bench_store: %s: %s\n", what, oplog_error_last());
	exit(1);
}

/* Take the next n messages of g into memory, decoded. */
static void take(struct oplog_gen *g, size_t n, struct msgs *out)
{
	out->m = calloc(n, sizeof(*out->m));
	out->e = calloc(n, sizeof(*out->e));
	if (!out->m || !out->e)
		die("out of memory");
	for (out->n = 0; out->n < n; out->n++) {
		struct oplog_reject rej;
		if (oplog_gen_next(g, &out->m[out->n]))
			die("oplog_gen_next");
		if (oplog_entry_decode(out->m[out->n].data, out->m[out->n].len, 0, 0,
		                       &out->e[out->n], &rej))
			die("decode of a generated entry");
	}
}

static void drop(struct msgs *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->m[i].data);
	free(m->m);
	free(m->e);
	memset(m, 0, sizeof(*m));
}

/* Apply m in batches of `batch`; returns entries per second. */
static double apply_all(struct oplog_store *s, const struct msgs *m, size_t batch)
{
	struct oplog_batch *b;
	double t0;

	if (oplog_batch_new(&b))
		die("batch");
	t0 = oplog_clock_mono_secs();
	for (size_t i = 0; i < m->n; i++) {
		if (oplog_batch_add(b, m->m[i].data, m->m[i].len, &m->e[i]))
			die("batch add");
		if (oplog_batch_count(b) == batch || i + 1 == m->n) {
			if (oplog_batch_offset(b, "bench", 0, (int64_t)i + 1) ||
			    oplog_store_apply(s, b, NULL))
				die("apply");
			oplog_batch_clear(b);
		}
	}
	oplog_batch_free(b);
	return (double)m->n / (oplog_clock_mono_secs() - t0);
}

static struct oplog_store *open_store(const char *dir, unsigned flags)
{
	struct oplog_store_opts o = { .path = dir, .map_size = (size_t)1 << 30,
	                              .max_size = (size_t)256 << 30, .flags = flags };
	struct oplog_store *s;

	if (oplog_store_open(&s, &o))
		die("open");
	return s;
}

/* The LMDB floor: n entries of 5 random-key puts (8-byte values) each,
 * `batch` per durable commit. Entries per second. */
static double lmdb_floor(const char *dir, size_t n, size_t batch, unsigned flags)
{
	uint64_t x = 88172645463325252ULL;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi[5];
	uint8_t key[32], val[8] = { 0 };
	char name[8];
	double t0;

	if (mkdir(dir, 0755) || mdb_env_create(&env) || mdb_env_set_maxdbs(env, 8) ||
	    mdb_env_set_mapsize(env, (size_t)64 << 30) || mdb_env_open(env, dir, flags, 0644) ||
	    mdb_txn_begin(env, NULL, 0, &txn))
		die("lmdb floor: setup");
	for (int d = 0; d < 5; d++) {
		snprintf(name, sizeof(name), "d%d", d);
		if (mdb_dbi_open(txn, name, MDB_CREATE, &dbi[d]))
			die("lmdb floor: dbi");
	}
	if (mdb_txn_commit(txn))
		die("lmdb floor: commit");
	t0 = oplog_clock_mono_secs();
	for (size_t i = 0; i < n; i += batch) {
		if (mdb_txn_begin(env, NULL, 0, &txn))
			die("lmdb floor: begin");
		for (size_t j = 0; j < batch; j++) {
			for (int d = 0; d < 5; d++) {
				MDB_val k = { 32, key }, v = { sizeof(val), val };
				for (int q = 0; q < 32; q += 8) {
					x ^= x << 13; x ^= x >> 7; x ^= x << 17;
					memcpy(key + q, &x, 8);
				}
				if (mdb_put(txn, dbi[d], &k, &v, 0))
					die("lmdb floor: put");
			}
		}
		if (mdb_txn_commit(txn))
			die("lmdb floor: commit");
	}
	t0 = (double)n / (oplog_clock_mono_secs() - t0);
	mdb_env_close(env);
	return t0;
}

static int count_cb(const struct oplog_entry *e, const void *msg, size_t len, void *arg)
{
	(void)e; (void)msg; (void)len;
	++*(uint64_t *)arg;
	return 0;
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void row(const char *what, double value, const char *unit, const char *target)
{
	printf("| %-48s | %12.1f %-9s | %-22s |\n", what, value, unit, target);
}

/* What main() measured, for the table. */
struct results {
	size_t n, preload;
	int    small;
	double empty10k, empty100k, wm10k, floor10k, floor_wm, loaded, loaded_wm;
	double get_p50, get_p99, scan_ms, chain_ms, prune_rate;
	struct oplog_stats       before_prune;
	struct oplog_prune_stats ps;
};

/* 3. Point gets of random stored entries, each its own read txn;
 * 4. node scan and chain walk of 1000 entries; 5. prune the older half of
 * one dataset. */
static void reads_and_prune(struct oplog_store *s, const struct msgs *m, struct results *r)
{
	size_t gets = 100000;
	double *lat = malloc(gets * sizeof(*lat)), t0;
	struct oplog_slice ds0 = { (const uint8_t *)"ds-0", 4 }, node = { (const uint8_t *)"node-7", 6 };
	struct oplog_hlc cut = { .wall = m->e[m->n / 2].wall };
	enum oplog_chain_end end;
	uint64_t found = 0, scanned = 0, walked = 0;

	if (!lat)
		die("malloc");
	srand(7);
	for (size_t i = 0; i < gets; i++) {
		const struct oplog_entry *e = &m->e[(size_t)rand() % m->n];

		t0 = oplog_clock_mono_secs();
		if (oplog_store_get(s, e->ds, e->hash, count_cb, &found))
			die("get");
		lat[i] = (oplog_clock_mono_secs() - t0) * 1e6;
	}
	qsort(lat, gets, sizeof(*lat), dcmp);
	r->get_p50 = lat[gets / 2];
	r->get_p99 = lat[gets * 99 / 100];
	free(lat);

	t0 = oplog_clock_mono_secs();
	for (int i = 0; i < 20; i++)
		if (oplog_store_scan_node(s, ds0, node, NULL, 1000, count_cb, &scanned))
			die("scan_node");
	r->scan_ms = (oplog_clock_mono_secs() - t0) / 20 * 1e3;
	t0 = oplog_clock_mono_secs();
	for (int i = 0; i < 20; i++)
		if (oplog_store_chain(s, ds0, node, NULL, 0, 1000, count_cb, &walked, &end))
			die("chain");
	r->chain_ms = (oplog_clock_mono_secs() - t0) / 20 * 1e3;

	oplog_store_stats(s, &r->before_prune);
	t0 = oplog_clock_mono_secs();
	if (oplog_store_prune(s, ds0, &cut, 10000, &r->ps))
		die("prune");
	r->prune_rate = (double)r->ps.pruned / (oplog_clock_mono_secs() - t0);
}

static void report(const struct results *r)
{
	char what[64];

	printf("\nstore benchmark: %zu entries, 64 nodes x 4 datasets, 200-byte data, "
	       "durable commit per batch%s\n\n", r->n, r->small ? " (BENCH_SCALE=small)" : "");
	printf("| %-48s | %-22s | %-22s |\n", "measure", "value", "target");
	printf("|%s|%s|%s|\n", "--------------------------------------------------",
	       "------------------------", "------------------------");
	row("apply, empty store, batch 10000", r->empty10k, "entries/s", ">= 150000");
	row("apply, empty store, batch 100000", r->empty100k, "entries/s", "");
	row("apply, empty store, batch 10000, writemap=yes", r->wm10k, "entries/s", "");
	row("LMDB floor: 5 random puts/entry, batch 10000", r->floor10k, "entries/s", "");
	row("LMDB floor, writemap", r->floor_wm, "entries/s", "");
	snprintf(what, sizeof(what), "apply, %.1fM present, batch 10000", (double)r->preload / 1e6);
	row(what, r->loaded, "entries/s", ">= 100000");
	snprintf(what, sizeof(what), "apply, %.1fM present, batch 10000, writemap=yes",
	         (double)r->preload / 1e6);
	row(what, r->loaded_wm, "entries/s", "");
	row("point get p50", r->get_p50, "us", "");
	row("point get p99", r->get_p99, "us", "< 20");
	row("node scan of 1000 entries", r->scan_ms, "ms", "");
	row("chain walk of 1000 entries", r->chain_ms, "ms", "");
	row("prune", r->prune_rate, "entries/s", "");
	printf("\nratios: apply/LMDB floor (batch 10000): %.2f plain, %.2f writemap; "
	       "loaded/empty: %.2f; batch 100000/10000: %.2f\n",
	       r->empty10k / r->floor10k, r->wm10k / r->floor_wm, r->loaded / r->empty10k,
	       r->empty100k / r->empty10k);
	printf("pruned %llu entries in %llu batches (%llu kept above gaps); store %.1f GiB\n",
	       (unsigned long long)r->ps.pruned, (unsigned long long)r->ps.batches,
	       (unsigned long long)r->ps.kept_gap, (double)r->before_prune.store_bytes / (1 << 30));
	printf("targets: empty %s, loaded %s, get p99 %s\n",
	       r->empty10k >= 150000 ? "PASS" : "FAIL", r->loaded >= 100000 ? "PASS" : "FAIL",
	       r->get_p99 < 20 ? "PASS" : "FAIL");
}

/* A store at dir/name, opened with flags, fed first in batches of batch:
 * entries a second. */
static double apply_fresh(const char *dir, const char *name, unsigned flags,
                          const struct msgs *m, size_t batch)
{
	char path[64];
	struct oplog_store *s;
	double rate;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	s = open_store(path, flags);
	rate = apply_all(s, m, batch);
	oplog_store_close(s);
	return rate;
}

int main(void)
{
	struct results r = { 0 };
	size_t n_loaded, batch = 10000;
	struct oplog_gen_opts go;
	struct oplog_gen *g;
	struct msgs first, next;
	struct oplog_store *s;
	char dir[] = "/var/tmp/oplogd-bench-XXXXXX", path[64], cmd[96];

	r.small = getenv("BENCH_SCALE") && !strcmp(getenv("BENCH_SCALE"), "small");
	r.n = r.small ? 100000 : 1000000;
	r.preload = r.small ? 400000 : 5000000;
	n_loaded = r.small ? 50000 : 200000;
	oplog_gen_opts_init(&go);
	go.seed = 42;
	go.datasets = 4;
	go.nodes = 64;
	go.data_size = 200;
	go.cols = 8;
	go.keys = 20000;
	go.count = r.preload + 2 * n_loaded;
	if (!mkdtemp(dir) || oplog_gen_new(&go, &g))
		die("setup");

	/* 1. Empty store, durable commit per batch. */
	take(g, r.n, &first);
	r.empty10k = apply_fresh(dir, "empty10k", 0, &first, batch);
	r.empty100k = apply_fresh(dir, "empty100k", 0, &first, 100000);
	r.wm10k = apply_fresh(dir, "wm10k", OPLOG_STORE_WRITEMAP, &first, batch);
	snprintf(path, sizeof(path), "%s/floor10k", dir);
	r.floor10k = lmdb_floor(path, r.n, batch, 0);
	snprintf(path, sizeof(path), "%s/floorwm", dir);
	r.floor_wm = lmdb_floor(path, r.n, batch, MDB_WRITEMAP);

	/* 2. The same stream continued into a store already holding `preload`
	 * entries. The preload skips fsync, so everything is flushed with
	 * sync() before the durable part is timed. */
	snprintf(path, sizeof(path), "%s/big", dir);
	s = open_store(path, OPLOG_STORE_NOSYNC);
	apply_all(s, &first, 100000);
	drop(&first);
	for (size_t done = r.n; done < r.preload; done += r.n) {
		take(g, r.n, &next);
		apply_all(s, &next, 100000);
		drop(&next);
	}
	oplog_store_close(s);
	sync();
	take(g, n_loaded, &next);
	s = open_store(path, OPLOG_STORE_WRITEMAP);
	r.loaded_wm = apply_all(s, &next, batch);
	oplog_store_close(s);
	drop(&next);
	sync();
	take(g, n_loaded, &next);
	s = open_store(path, 0);
	r.loaded = apply_all(s, &next, batch);
	sync();

	reads_and_prune(s, &next, &r);
	report(&r);

	oplog_store_close(s);
	drop(&next);
	oplog_gen_free(g);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : 1;
}
