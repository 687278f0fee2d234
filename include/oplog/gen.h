/*
 * oplog/gen.h: a deterministic synthetic oplog stream.
 *
 * From a seed and a few rates a generator yields encoded wire-format-v1
 * messages one at a time: per (dataset, node) chains with seq 1, 2, ...
 * and prev = the previous entry's hash, HLC times that rise plausibly
 * from a start time (OPLOG_GEN_BASE_WALL unless told), documents from a bounded key space (so they
 * get overwritten and deleted), and on request duplicates, late
 * (reordered) deliveries, forks and invalid messages of varied kinds,
 * each labelled with what the decoder must say about it. The same
 * options give the same bytes on every platform and run. It feeds the
 * tests, the benchmarks and `oplogd gen`.
 *
 * Threading: one generator belongs to one thread at a time; separate
 * generators share nothing. The PRNG is plain data.
 */
#ifndef OPLOG_GEN_H
#define OPLOG_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "oplog/entry.h"

#define OPLOG_GEN_BASE_WALL 1763700000000ULL  /* 2025-11-21, in Unix ms */

/* xoshiro256** seeded through splitmix64: small, fast, reproducible. */
struct oplog_gen_rng {
	uint64_t s[4];
};

/* Seed *r; any seed (0 included) gives a usable, distinct stream. */
void oplog_gen_rng_seed(struct oplog_gen_rng *r, uint64_t seed);

/* The next 64 random bits. */
uint64_t oplog_gen_rng_next(struct oplog_gen_rng *r);

/* A uniform value in [0, n) without modulo bias; 0 when n is 0. */
uint64_t oplog_gen_rng_below(struct oplog_gen_rng *r, uint64_t n);

/* A uniform double in [0, 1). */
double oplog_gen_rng_unit(struct oplog_gen_rng *r);

struct oplog_gen_opts {
	uint64_t seed;
	uint32_t datasets;     /* 1..; named "ds-0", "ds-1", ... */
	uint32_t nodes;        /* nodes per dataset, 1..; "node-0", ... */
	uint64_t count;        /* messages to yield in all */
	uint32_t data_size;    /* bytes of data in each put, 0..OPLOG_MAX_DATA */
	uint32_t cols;         /* collections per dataset, 1..; "c0", ... */
	uint32_t keys;         /* keys per collection, 1..; "k0", ... */
	double   del_rate;     /* share of new entries that are dels */
	double   dup_rate;     /* share of messages repeating a recent one */
	double   late_rate;    /* share of entries held back, then yielded late */
	uint32_t late_window;  /* a held entry comes 1..late_window messages late */
	double   bad_rate;     /* share of invalid messages */
	double   fork_rate;    /* share of entries that fork their node's chain */
	double   gap_rate;     /* share of new entries never yielded (lost upstream:
	                          their node's watermark stops below them) */
	uint64_t start_wall;   /* the stream's clock starts here, Unix ms; the
	                          walls rise 0..2 ms per entry from it. Only the
	                          walls (and so the hashes) depend on it: the
	                          choices of the PRNG do not */
};

/* What one yielded message is. */
enum oplog_gen_kind {
	OPLOG_GEN_VALID = 1,  /* the next entry of its chain */
	OPLOG_GEN_LATE,       /* a valid entry held back, yielded after later
	                         ones (a held fork stays FORK, with .late) */
	OPLOG_GEN_DUP,        /* the same bytes as an earlier valid message */
	OPLOG_GEN_FORK,       /* a valid entry with the (ds, node, seq, prev) of
	                         an earlier one but other content */
	OPLOG_GEN_BAD         /* invalid: decode rejects it with .expect */
};

struct oplog_gen_msg {
	uint8_t            *data;          /* caller frees with free() */
	size_t              len;
	enum oplog_gen_kind kind;
	enum oplog_reason   expect;        /* BAD: the decoder's reason; else NONE */
	enum oplog_field    expect_field;  /* BAD: its field (or NONE) */
	int                 late;          /* 1 when it was held back */
	uint32_t            dataset;       /* index N of its dataset "ds-N" (a bad
	                                      message's too, whatever its ds field
	                                      says): the Kafka key to send it with */
};

/*
 * Fill *o with the defaults: seed 1, 1 dataset, 3 nodes, 1000 messages,
 * 64-byte data, 4 collections of 64 keys, del_rate 0.1, late_window 16,
 * start_wall OPLOG_GEN_BASE_WALL, every other rate 0.
 */
void oplog_gen_opts_init(struct oplog_gen_opts *o);

/*
 * A start_wall for *o with which the stream's last wall falls at or
 * shortly before end_ms: end_ms minus the span the clock can be expected
 * to cover (1 ms per entry made, entries lost to gap_rate included) and a
 * margin of six standard deviations, so that a wall after end_ms is
 * vanishingly unlikely. For a stream of 20000 messages the last wall
 * falls about 0.7 s before end_ms. Returns 0 when end_ms is too small.
 */
uint64_t oplog_gen_start_for_end(const struct oplog_gen_opts *o, uint64_t end_ms);

struct oplog_gen;

/*
 * Create a generator from *o (copied). Returns 0 with *out set (free
 * with oplog_gen_free()), OPLOG_EINVAL for an option out of range (named
 * in oplog_error_last()), or OPLOG_ENOMEM.
 */
int oplog_gen_new(const struct oplog_gen_opts *o, struct oplog_gen **out);

/*
 * Yield the next message into *m; m->data is the caller's to free().
 * Returns 0, OPLOG_ENOTFOUND once count messages have been yielded (*m
 * untouched), or OPLOG_ENOMEM / OPLOG_ERROR (hashing failed): the stream
 * is then incomplete and the generator should be freed.
 */
int oplog_gen_next(struct oplog_gen *g, struct oplog_gen_msg *m);

/* Free g and everything it holds. NULL is a no-op. */
void oplog_gen_free(struct oplog_gen *g);

/* Entries made but never yielded so far (gap_rate). */
uint64_t oplog_gen_dropped(const struct oplog_gen *g);

#endif
