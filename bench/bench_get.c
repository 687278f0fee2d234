/*
 * bench_get: point-get latency on a store an import built, as `make bench`
 * reports it.
 *
 *   bench_get STORE GETS FILE...
 *
 * The FILEs are the lenpfx streams (u32 big-endian length + bytes) that
 * were imported into STORE. GETS messages are drawn from them uniformly
 * at random (fixed seed, with replacement), each decoded (untimed) for its
 * dataset and hash, then looked up with oplog_store_get on STORE opened
 * read-only through the public API. Only that call is timed; it runs its
 * own read transaction, and its callback checks that the stored message
 * is byte for byte the one in the file. 1000 untimed gets come first, so
 * that the reader slot and the code are warm; the pages are as the import
 * and the OS page cache left them.
 *
 * Prints one line of JSON: {"gets","p50_us","p99_us","p999_us","max_us",
 * "mean_us"}. Exits 1 when a get fails or finds other bytes, 2 on usage
 * or setup failure (no store, unreadable file, bad framing).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_map.h"
#include "oplog/clock.h"
#include "oplog/entry.h"
#include "oplog/error.h"
#include "oplog/store.h"

#define WARMUP 1000

/* Every message of the input files: where it is, how long. */
struct corpus {
	const uint8_t **msg;   /* borrowed from the mappings */
	uint32_t       *len;
	size_t          n, cap;
};

/* What the get callback checks the stored message against. */
struct expect {
	const uint8_t *msg;
	size_t         len;
	int            same;
};

/* Map `path` and add its messages to *c. The mapping is never unmapped:
 * it lives as long as the process. 0, or -1 with the cause on stderr. */
static int add_file(const char *path, struct corpus *c)
{
	const uint8_t *buf;
	size_t pos = 0, len;
	int rc = -1;

	if (bench_map("bench_get", path, &buf, &len))
		return -1;
	while (pos < len) {
		size_t n;

		if (len - pos < 4 ||
		    (n = (size_t)buf[pos] << 24 | (size_t)buf[pos + 1] << 16 |
		         (size_t)buf[pos + 2] << 8 | buf[pos + 3]) > len - pos - 4) {
			fprintf(stderr, "bench_get: %s: bad length prefix at byte %zu\n", path, pos);
			goto done;
		}
		if (c->n == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 1 << 16;
			const uint8_t **m = realloc(c->msg, cap * sizeof(*m));
			uint32_t *l = m ? realloc(c->len, cap * sizeof(*l)) : NULL;

			if (m)
				c->msg = m;
			if (!m || !l) {
				fprintf(stderr, "bench_get: out of memory\n");
				goto done;
			}
			c->len = l;
			c->cap = cap;
		}
		c->msg[c->n] = buf + pos + 4;
		c->len[c->n++] = (uint32_t)n;
		pos += 4 + n;
	}
	rc = 0;
done:
	return rc;
}

static int same_cb(const struct oplog_entry *e, const void *msg, size_t len, void *arg)
{
	struct expect *x = arg;

	(void)e;
	x->same = len == x->len && memcmp(msg, x->msg, len) == 0;
	return 0;
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* xorshift64: a fixed, cheap sequence of picks. */
static uint64_t next_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

int main(int argc, char **argv)
{
	struct oplog_store_opts o = { 0 };
	struct oplog_store *s = NULL;
	struct corpus c = { NULL, NULL, 0, 0 };
	uint64_t gets, x = 88172645463325252ULL;
	double *lat = NULL, sum = 0;
	int rc = 2, err;

	if (argc < 4) {
		fprintf(stderr, "usage: bench_get STORE GETS FILE...\n");
		return 2;
	}
	if (bench_count("bench_get", "GETS", argv[2], &gets) != 0)
		return 2;
	for (int f = 3; f < argc; f++)
		if (add_file(argv[f], &c) != 0)
			goto done;
	if (c.n == 0) {
		fprintf(stderr, "bench_get: no messages in the input files\n");
		goto done;
	}
	if (!(lat = malloc(gets * sizeof(*lat)))) {
		fprintf(stderr, "bench_get: out of memory\n");
		goto done;
	}
	o.path = argv[1];
	o.flags = OPLOG_STORE_RDONLY;
	if ((err = oplog_store_open(&s, &o)) != 0) {
		fprintf(stderr, "bench_get: open %s: %s\n", argv[1], oplog_error_last());
		goto done;
	}

	for (uint64_t i = 0; i < WARMUP + gets; i++) {
		size_t m = (size_t)(next_rand(&x) % c.n);
		struct expect want = { c.msg[m], c.len[m], 0 };
		struct oplog_entry e;
		double t0, t1;

		if (oplog_entry_decode(c.msg[m], c.len[m], 0, OPLOG_DECODE_NOVERIFY, &e, NULL)) {
			fprintf(stderr, "bench_get: message %zu of the input: %s\n", m,
			        oplog_error_last());
			goto done;
		}
		t0 = oplog_clock_mono_secs() * 1e6;
		err = oplog_store_get(s, e.ds, e.hash, same_cb, &want);
		t1 = oplog_clock_mono_secs() * 1e6;
		if (err != 0 || !want.same) {
			fprintf(stderr, "bench_get: get of message %zu of the input: %s %s\n", m,
			        err ? oplog_strerror(err) : "found, but", err ? oplog_error_last()
			        : "the store holds other bytes");
			rc = 1;
			goto done;
		}
		if (i >= WARMUP) {
			lat[i - WARMUP] = t1 - t0;
			sum += t1 - t0;
		}
	}
	qsort(lat, gets, sizeof(*lat), dcmp);
	printf("{\"gets\":%llu,\"p50_us\":%.2f,\"p99_us\":%.2f,\"p999_us\":%.2f,"
	       "\"max_us\":%.2f,\"mean_us\":%.2f}\n", (unsigned long long)gets,
	       lat[gets / 2], lat[gets * 99 / 100], lat[gets * 999 / 1000], lat[gets - 1],
	       sum / (double)gets);
	rc = fflush(stdout) == 0 ? 0 : 2;
done:
	oplog_store_close(s);
	free(lat);
	free(c.msg);
	free(c.len);
	return rc;
}
