/*
 * bench_codec: wire-format-v1 decode throughput on one core.
 *
 * Builds 100k valid put entries with 200-byte bodies in memory (the
 * generator, fixed seed), then decodes them in passes for at least two
 * seconds per mode: with the hash check, and without (OPLOG_DECODE_NOVERIFY,
 * the path for bytes verified earlier). Encoding is timed too. Prints a
 * table and whether decode+verify meets the 1M messages/s target.
 * Exits 1 if any message fails to decode or encode, 2 on setup failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oplog/clock.h"
#include "oplog/entry.h"
#include "oplog/error.h"
#include "oplog/gen.h"

#define ENTRIES     100000
#define DATA_SIZE   200
#define MIN_SECONDS 2.0
#define TARGET      1000000.0

struct corpus {
	uint8_t *bytes;
	size_t  *off;    /* ENTRIES + 1 offsets into bytes */
	size_t   total;
};

struct result {
	double msgs, bytes, secs;
	long   failures;
};

static int build(struct corpus *c)
{
	struct oplog_gen_opts o;
	struct oplog_gen *g = NULL;
	struct oplog_gen_msg m;
	size_t cap = (size_t)ENTRIES * (DATA_SIZE + 200);
	size_t i;
	int rc;

	oplog_gen_opts_init(&o);
	o.seed = 42;
	o.datasets = 4;
	o.nodes = 8;
	o.count = ENTRIES;
	o.data_size = DATA_SIZE;
	o.del_rate = 0.0;
	c->bytes = malloc(cap);
	c->off = malloc((ENTRIES + 1) * sizeof(*c->off));
	c->total = 0;
	if (c->bytes == NULL || c->off == NULL) {
		rc = OPLOG_ENOMEM;
		goto done;
	}
	rc = oplog_gen_new(&o, &g);
	for (i = 0; rc == 0 && i < ENTRIES; i++) {
		rc = oplog_gen_next(g, &m);
		if (rc != 0)
			break;
		if (c->total + m.len > cap) {
			free(m.data);
			rc = OPLOG_ENOMEM;
			break;
		}
		c->off[i] = c->total;
		memcpy(c->bytes + c->total, m.data, m.len);
		c->total += m.len;
		free(m.data);
	}
	c->off[ENTRIES] = c->total;
done:
	oplog_gen_free(g);
	return rc;
}

static struct result run_decode(const struct corpus *c, unsigned flags)
{
	struct result r = { 0, 0, 0, 0 };
	struct oplog_entry e;
	double t0 = oplog_clock_mono_secs();
	size_t i;

	do {
		for (i = 0; i < ENTRIES; i++)
			if (oplog_entry_decode(c->bytes + c->off[i],
			                       c->off[i + 1] - c->off[i], 0, flags,
			                       &e, NULL) != 0)
				r.failures++;
		r.msgs += ENTRIES;
		r.bytes += (double)c->total;
		r.secs = oplog_clock_mono_secs() - t0;
	} while (r.secs < MIN_SECONDS);
	return r;
}

/* Encode from decoded views, as a producer would from its own structs. */
static struct result run_encode(const struct corpus *c)
{
	struct result r = { 0, 0, 0, 0 };
	struct oplog_entry *es;
	uint8_t *out;
	size_t len, i;
	double t0;

	es = malloc(ENTRIES * sizeof(*es));
	if (es == NULL) {
		r.failures = 1;
		return r;
	}
	for (i = 0; i < ENTRIES; i++)
		if (oplog_entry_decode(c->bytes + c->off[i], c->off[i + 1] - c->off[i],
		                       0, OPLOG_DECODE_NOVERIFY, &es[i], NULL) != 0)
			r.failures++;
	t0 = oplog_clock_mono_secs();
	do {
		for (i = 0; i < ENTRIES; i++) {
			if (oplog_entry_encode(&es[i], &out, &len) != 0) {
				r.failures++;
				continue;
			}
			r.bytes += (double)len;
			free(out);
		}
		r.msgs += ENTRIES;
		r.secs = oplog_clock_mono_secs() - t0;
	} while (r.secs < MIN_SECONDS);
	free(es);
	return r;
}

static void row(const char *name, const struct result *r)
{
	printf("%-16s %14.0f %10.1f %12.1f %10.2f\n", name, r->msgs / r->secs,
	       r->bytes / r->secs / 1e6, r->secs * 1e9 / r->msgs, r->secs);
}

int main(void)
{
	struct corpus c = { NULL, NULL, 0 };
	struct result verify, plain, enc;
	int rc;

	rc = build(&c);
	if (rc != 0) {
		fprintf(stderr, "bench_codec: building the corpus: %s\n",
		        oplog_error_last());
		free(c.bytes);
		free(c.off);
		return 2;
	}
	printf("corpus: %d put entries, %d-byte data, %.1f bytes/message, seed 42\n",
	       ENTRIES, DATA_SIZE, (double)c.total / ENTRIES);
	verify = run_decode(&c, 0);
	plain = run_decode(&c, OPLOG_DECODE_NOVERIFY);
	enc = run_encode(&c);
	printf("%-16s %14s %10s %12s %10s\n", "mode", "messages/s", "MB/s",
	       "ns/message", "seconds");
	row("decode+verify", &verify);
	row("decode only", &plain);
	row("encode", &enc);
	printf("target %.0f msg/s: %s\n", TARGET,
	       verify.msgs / verify.secs >= TARGET ? "PASS" : "FAIL");
	free(c.bytes);
	free(c.off);
	if (verify.failures || plain.failures || enc.failures) {
		fprintf(stderr, "bench_codec: %ld failures: %s\n",
		        verify.failures + plain.failures + enc.failures,
		        oplog_error_last());
		return 1;
	}
	return 0;
}
