/* check_gen: the synthetic stream is reproducible, its chains are valid
 * and every message is what its label says. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oplog/entry.h"
#include "oplog/error.h"
#include "oplog/gen.h"

#define MAX_CHAINS 64

/* What a consumer of the stream knows per (ds, node): hashes by seq. */
struct seen_chain {
	char     name[80];
	uint64_t max_seq;
	uint8_t  (*hash)[32];    /* by seq; first writer of a seq wins */
	uint8_t  (*prev)[32];
	uint64_t wall, logic;    /* the highest HLC seen in valid order */
	size_t   cap;
};

struct seen {
	struct seen_chain c[MAX_CHAINS];
	int               n;
};

static struct seen_chain *chain_of(struct seen *s, const struct oplog_entry *e)
{
	char name[80];
	int i;

	snprintf(name, sizeof(name), "%.*s/%.*s", (int)e->ds.len,
	         (const char *)e->ds.ptr, (int)e->node.len, (const char *)e->node.ptr);
	for (i = 0; i < s->n; i++)
		if (strcmp(s->c[i].name, name) == 0)
			return &s->c[i];
	ck_assert_int_lt(s->n, MAX_CHAINS);
	memset(&s->c[s->n], 0, sizeof(s->c[0]));
	strcpy(s->c[s->n].name, name);
	return &s->c[s->n++];
}

static void seen_free(struct seen *s)
{
	int i;

	for (i = 0; i < s->n; i++) {
		free(s->c[i].hash);
		free(s->c[i].prev);
	}
}

static void record(struct seen_chain *c, const struct oplog_entry *e)
{
	if (e->seq >= c->cap) {
		size_t ncap = (size_t)e->seq * 2 + 16;

		c->hash = realloc(c->hash, ncap * 32);
		c->prev = realloc(c->prev, ncap * 32);
		ck_assert(c->hash != NULL && c->prev != NULL);
		memset(c->hash + c->cap, 0, (ncap - c->cap) * 32);
		memset(c->prev + c->cap, 0, (ncap - c->cap) * 32);
		c->cap = ncap;
	}
	memcpy(c->hash[e->seq], e->hash, 32);
	if (e->prev != NULL)
		memcpy(c->prev[e->seq], e->prev, 32);
	if (e->seq > c->max_seq)
		c->max_seq = e->seq;
}

static struct oplog_gen *make(uint64_t seed, uint64_t count, double bad,
                              double dup, double late, double fork)
{
	struct oplog_gen_opts o;
	struct oplog_gen *g = NULL;

	oplog_gen_opts_init(&o);
	o.seed = seed;
	o.datasets = 2;
	o.nodes = 3;
	o.count = count;
	o.data_size = 40;
	o.bad_rate = bad;
	o.dup_rate = dup;
	o.late_rate = late;
	o.fork_rate = fork;
	ck_assert_msg(oplog_gen_new(&o, &g) == 0, "%s", oplog_error_last());
	return g;
}

START_TEST(test_gen__same_seed_same_stream)
{
	struct oplog_gen *a = make(5, 500, 0.1, 0.1, 0.1, 0.05);
	struct oplog_gen *b = make(5, 500, 0.1, 0.1, 0.1, 0.05);
	struct oplog_gen *c = make(6, 500, 0.1, 0.1, 0.1, 0.05);
	struct oplog_gen_msg ma, mb, mc;
	int differ = 0;

	while (oplog_gen_next(a, &ma) == 0) {
		ck_assert_int_eq(oplog_gen_next(b, &mb), 0);
		ck_assert_int_eq(oplog_gen_next(c, &mc), 0);
		ck_assert_uint_eq(ma.len, mb.len);
		ck_assert_mem_eq(ma.data, mb.data, ma.len);
		ck_assert_int_eq(ma.kind, mb.kind);
		ck_assert_int_eq(ma.expect, mb.expect);
		differ += ma.len != mc.len || memcmp(ma.data, mc.data, ma.len) != 0;
		free(ma.data);
		free(mb.data);
		free(mc.data);
	}
	ck_assert_int_eq(oplog_gen_next(b, &mb), OPLOG_ENOTFOUND);
	ck_assert_int_gt(differ, 400);
	oplog_gen_free(a);
	oplog_gen_free(b);
	oplog_gen_free(c);
}
END_TEST

START_TEST(test_gen__plain_stream_is_gapless_chains_in_hlc_order)
{
	struct oplog_gen *g = make(11, 3000, 0, 0, 0, 0);
	struct oplog_gen_msg m;
	struct oplog_entry e;
	struct seen s;
	struct seen_chain *c;
	int n = 0, dels = 0, i;

	memset(&s, 0, sizeof(s));
	while (oplog_gen_next(g, &m) == 0) {
		ck_assert_int_eq(m.kind, OPLOG_GEN_VALID);
		ck_assert_msg(oplog_entry_decode(m.data, m.len, 0, 0, &e, NULL) == 0,
		              "message %d: %s", n, oplog_error_last());
		c = chain_of(&s, &e);
		/* the next seq of its chain, linked to the one before */
		ck_assert_uint_eq(e.seq, c->max_seq + 1);
		if (e.seq == 1)
			ck_assert_ptr_null(e.prev);
		else
			ck_assert_mem_eq(e.prev, c->hash[e.seq - 1], 32);
		/* HLC strictly rises per node, from the base time */
		ck_assert_uint_ge(e.wall, OPLOG_GEN_BASE_WALL);
		ck_assert(e.wall > c->wall || (e.wall == c->wall && e.logic > c->logic) ||
		          e.seq == 1);
		ck_assert_uint_lt(e.wall, OPLOG_GEN_BASE_WALL + 3 * 3000);
		ck_assert_uint_lt(e.logic, 3000);
		c->wall = e.wall;
		c->logic = e.logic;
		dels += e.op == OPLOG_OP_DEL;
		if (e.op == OPLOG_OP_PUT)
			ck_assert_uint_eq(e.data.len, 40);
		record(c, &e);
		free(m.data);
		n++;
	}
	ck_assert_int_eq(n, 3000);
	ck_assert_int_eq(s.n, 6);
	for (i = 0; i < s.n; i++)
		ck_assert_uint_gt(s.c[i].max_seq, 300);
	ck_assert_int_gt(dels, 150);      /* del_rate 0.1 */
	ck_assert_int_lt(dels, 450);
	seen_free(&s);
	oplog_gen_free(g);
}
END_TEST

START_TEST(test_gen__every_message_is_what_its_label_says)
{
	struct oplog_gen *g = make(23, 6000, 0.2, 0.1, 0.1, 0.05);
	struct oplog_gen_msg m;
	struct oplog_entry e;
	struct oplog_reject r;
	struct seen s;
	struct seen_chain *c;
	long kinds[OPLOG_GEN_BAD + 1] = { 0 };
	long reasons[OPLOG_R__COUNT] = { 0 };
	static struct {
		struct seen_chain *c;
		uint64_t           seq;
		uint8_t            hash[32], prev[32];
	} forks[1000];
	int n = 0, i, rc, nforks = 0, forks_late = 0;

	memset(&s, 0, sizeof(s));
	while (oplog_gen_next(g, &m) == 0) {
		rc = oplog_entry_decode(m.data, m.len, 0, 0, &e, &r);
		kinds[m.kind]++;
		forks_late += m.kind == OPLOG_GEN_FORK && m.late;
		ck_assert(!m.late || m.kind == OPLOG_GEN_LATE || m.kind == OPLOG_GEN_FORK);
		if (m.kind == OPLOG_GEN_BAD) {
			ck_assert_msg(rc == OPLOG_EREJECT && r.reason == m.expect &&
			              r.field == m.expect_field,
			              "message %d: labelled %s/%s, decoded as %s/%s: %s", n,
			              oplog_reason_name(m.expect),
			              oplog_field_name(m.expect_field),
			              oplog_reason_name(r.reason),
			              oplog_field_name(r.field), r.detail);
			reasons[m.expect]++;
		} else {
			ck_assert_msg(rc == 0, "message %d (kind %d): %s", n, m.kind,
			              r.detail);
			ck_assert_int_eq(m.expect, OPLOG_R_NONE);
			c = chain_of(&s, &e);
			if (m.kind == OPLOG_GEN_DUP) {
				ck_assert_uint_le(e.seq, c->max_seq);
			} else if (m.kind == OPLOG_GEN_FORK) {
				/* judged at the end: its sibling may still be held back */
				ck_assert_int_lt(nforks, 1000);
				forks[nforks].c = c;
				forks[nforks].seq = e.seq;
				memcpy(forks[nforks].hash, e.hash, 32);
				memset(forks[nforks].prev, 0, 32);
				if (e.prev != NULL)
					memcpy(forks[nforks].prev, e.prev, 32);
				nforks++;
			} else if (e.seq > c->max_seq) {
				record(c, &e);
			} else {
				/* a late entry fills a gap it left */
				ck_assert_int_eq(m.kind, OPLOG_GEN_LATE);
				record(c, &e);
			}
		}
		free(m.data);
		n++;
	}
	ck_assert_int_eq(n, 6000);
	for (i = OPLOG_GEN_VALID; i <= OPLOG_GEN_BAD; i++)
		ck_assert_msg(kinds[i] > 100, "kind %d: %ld", i, kinds[i]);
	ck_assert_int_gt(forks_late, 0);
	ck_assert_int_gt(kinds[OPLOG_GEN_BAD], 1000);
	ck_assert_int_lt(kinds[OPLOG_GEN_BAD], 1400);
	for (i = OPLOG_R_MALFORMED; i <= OPLOG_R_HASH_MISMATCH; i++)
		ck_assert_msg(reasons[i] > 20, "reason %s: %ld",
		              oplog_reason_name((enum oplog_reason)i), reasons[i]);
	/* once all is in, each chain is complete from seq 1 */
	for (i = 0; i < s.n; i++) {
		uint64_t q;

		for (q = 2; q <= s.c[i].max_seq; q++)
			ck_assert_msg(memcmp(s.c[i].prev[q], s.c[i].hash[q - 1], 32) == 0,
			              "%s: seq %llu does not link to %llu", s.c[i].name,
			              (unsigned long long)q, (unsigned long long)q - 1);
	}
	/* a fork is a sibling: same seq and prev as a chain entry, other hash */
	for (i = 0; i < nforks; i++) {
		struct seen_chain *fc = forks[i].c;

		ck_assert_uint_le(forks[i].seq, fc->max_seq);
		ck_assert(memcmp(fc->hash[forks[i].seq], forks[i].hash, 32) != 0);
		ck_assert_mem_eq(fc->prev[forks[i].seq], forks[i].prev, 32);
	}
	seen_free(&s);
	oplog_gen_free(g);
}
END_TEST

START_TEST(test_gen__late_entries_arrive_within_the_window)
{
	struct oplog_gen_opts o;
	struct oplog_gen *g;
	struct oplog_gen_msg m;
	struct oplog_entry e;
	uint64_t next_seq[8] = { 0 };
	int n = 0, late = 0, reordered = 0;

	oplog_gen_opts_init(&o);
	o.seed = 3;
	o.nodes = 1;                /* one chain: position = seq */
	o.count = 2000;
	o.late_rate = 0.2;
	o.late_window = 5;
	ck_assert_int_eq(oplog_gen_new(&o, &g), 0);
	while (oplog_gen_next(g, &m) == 0) {
		ck_assert_int_eq(oplog_entry_decode(m.data, m.len, 0, 0, &e, NULL), 0);
		/* held back at most late_window messages, and at most that many
		 * held at once, so an entry lands within 2 x window of its turn */
		ck_assert_msg(e.seq + 10 >= (uint64_t)n + 1 && e.seq <= (uint64_t)n + 1 + 5,
		              "seq %llu at position %d", (unsigned long long)e.seq, n);
		ck_assert_int_eq(m.late, m.kind == OPLOG_GEN_LATE);
		if (m.kind == OPLOG_GEN_LATE) {
			late++;
			reordered += e.seq < next_seq[0];
		}
		if (e.seq > next_seq[0])
			next_seq[0] = e.seq;
		free(m.data);
		n++;
	}
	ck_assert_int_eq(n, 2000);
	ck_assert_int_gt(late, 250);
	ck_assert_int_gt(reordered, 200);
	oplog_gen_free(g);
}
END_TEST

START_TEST(test_gen__rejects_options_out_of_range)
{
	struct oplog_gen_opts o;
	struct oplog_gen *g = NULL;

	oplog_gen_opts_init(&o);
	o.datasets = 0;
	ck_assert_int_eq(oplog_gen_new(&o, &g), OPLOG_EINVAL);
	oplog_gen_opts_init(&o);
	o.keys = 0;
	ck_assert_int_eq(oplog_gen_new(&o, &g), OPLOG_EINVAL);
	oplog_gen_opts_init(&o);
	o.data_size = OPLOG_MAX_DATA + 1;
	ck_assert_int_eq(oplog_gen_new(&o, &g), OPLOG_EINVAL);
	oplog_gen_opts_init(&o);
	o.bad_rate = 1.5;
	ck_assert_int_eq(oplog_gen_new(&o, &g), OPLOG_EINVAL);
	oplog_gen_opts_init(&o);
	o.bad_rate = 0.6;
	o.dup_rate = 0.6;
	ck_assert_int_eq(oplog_gen_new(&o, &g), OPLOG_EINVAL);
	ck_assert_msg(strstr(oplog_error_last(), "rates") != NULL, "%s",
	              oplog_error_last());
	ck_assert_ptr_null(g);
	oplog_gen_opts_init(&o);
	o.count = 0;
	ck_assert_int_eq(oplog_gen_new(&o, &g), 0);
	{
		struct oplog_gen_msg m;

		ck_assert_int_eq(oplog_gen_next(g, &m), OPLOG_ENOTFOUND);
	}
	oplog_gen_free(g);
	oplog_gen_free(NULL);
}
END_TEST

START_TEST(test_gen__rng_is_uniform_enough_and_bounded)
{
	struct oplog_gen_rng r, r2;
	long buckets[10] = { 0 };
	double u;
	int i;

	oplog_gen_rng_seed(&r, 0);
	oplog_gen_rng_seed(&r2, 0);
	ck_assert_uint_eq(oplog_gen_rng_next(&r), oplog_gen_rng_next(&r2));
	ck_assert_uint_ne(oplog_gen_rng_next(&r), 0);
	for (i = 0; i < 100000; i++)
		buckets[oplog_gen_rng_below(&r, 10)]++;
	for (i = 0; i < 10; i++)
		ck_assert_msg(buckets[i] > 9500 && buckets[i] < 10500, "bucket %d: %ld",
		              i, buckets[i]);
	ck_assert_uint_eq(oplog_gen_rng_below(&r, 0), 0);
	ck_assert_uint_eq(oplog_gen_rng_below(&r, 1), 0);
	for (i = 0; i < 10000; i++) {
		u = oplog_gen_rng_unit(&r);
		ck_assert(u >= 0.0 && u < 1.0);
	}
}
END_TEST
/* gap_rate: some entries are never yielded; every yielded one still links
 * to its true predecessor, so the missing seqs are exactly the dropped. */
START_TEST(test_gen__gap_rate_drops_entries_and_leaves_their_seqs_missing)
{
	struct oplog_gen_opts o;
	struct oplog_gen *g = NULL;
	struct oplog_gen_msg m;
	struct oplog_entry e;
	uint64_t present = 0, top = 0;
	int n = 0;

	oplog_gen_opts_init(&o);
	o.seed = 5;
	o.datasets = 1;
	o.nodes = 1;
	o.count = 2000;
	o.gap_rate = 0.05;
	ck_assert(oplog_gen_new(&o, &g) == 0);
	while (oplog_gen_next(g, &m) == 0) {
		ck_assert_int_eq(m.kind, OPLOG_GEN_VALID);
		ck_assert(oplog_entry_decode(m.data, m.len, 0, 0, &e, NULL) == 0);
		present++;
		if (e.seq > top)
			top = e.seq;
		free(m.data);
		n++;
	}
	ck_assert_int_eq(n, 2000);
	ck_assert_uint_gt(oplog_gen_dropped(g), 50);
	ck_assert_uint_lt(oplog_gen_dropped(g), 150);
	/* seqs 1..top: the present ones plus the dropped (the last made one
	 * may be a dropped seq above top, hence <=). */
	ck_assert_uint_le(top, present + oplog_gen_dropped(g));
	ck_assert_uint_ge(top + 1, present + oplog_gen_dropped(g));
	oplog_gen_free(g);
	o.gap_rate = 1.5;
	ck_assert_int_eq(oplog_gen_new(&o, &g), OPLOG_EINVAL);
}
END_TEST

START_TEST(test_gen__each_message_names_its_dataset)
{
	struct oplog_gen *g = make(31, 3000, 0.1, 0.1, 0.1, 0.05);
	struct oplog_gen_msg m;
	struct oplog_entry e;
	struct oplog_reject r;
	char want[16];
	long per_ds[2] = { 0 };

	while (oplog_gen_next(g, &m) == 0) {
		ck_assert_uint_lt(m.dataset, 2);
		per_ds[m.dataset]++;
		if (m.kind != OPLOG_GEN_BAD) {
			/* duplicates and late entries keep theirs too */
			ck_assert_int_eq(oplog_entry_decode(m.data, m.len, 0, 0, &e, &r), 0);
			snprintf(want, sizeof(want), "ds-%u", (unsigned)m.dataset);
			ck_assert_uint_eq(e.ds.len, strlen(want));
			ck_assert_mem_eq(e.ds.ptr, want, e.ds.len);
		}
		free(m.data);
	}
	ck_assert_int_gt(per_ds[0], 1000);
	ck_assert_int_gt(per_ds[1], 1000);
	oplog_gen_free(g);
}
END_TEST

/* Only the walls (and the hashes over them) follow start_wall. */
START_TEST(test_gen__start_wall_shifts_every_wall_and_nothing_else)
{
	struct oplog_gen_opts o;
	struct oplog_gen *a = NULL, *b = NULL;
	struct oplog_gen_msg ma, mb;
	struct oplog_entry ea, eb;
	const uint64_t shift = 1000000007ULL;
	int n = 0, differ = 0;

	oplog_gen_opts_init(&o);
	o.count = 2000;
	o.dup_rate = 0.05;
	o.late_rate = 0.1;
	ck_assert_int_eq(oplog_gen_new(&o, &a), 0);
	o.start_wall += shift;
	ck_assert_int_eq(oplog_gen_new(&o, &b), 0);
	while (oplog_gen_next(a, &ma) == 0) {
		ck_assert_int_eq(oplog_gen_next(b, &mb), 0);
		ck_assert_int_eq(ma.kind, mb.kind);
		ck_assert_int_eq(oplog_entry_decode(ma.data, ma.len, 0, 0, &ea, NULL), 0);
		ck_assert_int_eq(oplog_entry_decode(mb.data, mb.len, 0, 0, &eb, NULL), 0);
		ck_assert_uint_eq(eb.wall, ea.wall + shift);
		ck_assert_uint_eq(eb.seq, ea.seq);
		ck_assert_uint_eq(eb.logic, ea.logic);
		ck_assert_uint_eq(ea.key.len, eb.key.len);
		ck_assert_mem_eq(ea.key.ptr, eb.key.ptr, ea.key.len);
		differ += memcmp(ea.hash, eb.hash, 32) != 0;
		free(ma.data);
		free(mb.data);
		n++;
	}
	ck_assert_int_eq(n, 2000);
	ck_assert_int_eq(differ, 2000);
	oplog_gen_free(a);
	oplog_gen_free(b);
}
END_TEST

START_TEST(test_gen__start_for_end_ends_the_stream_just_before_end)
{
	struct oplog_gen_opts o;
	struct oplog_gen *g = NULL;
	struct oplog_gen_msg m;
	struct oplog_entry e;
	const uint64_t end = 1800000000000ULL;
	uint64_t last = 0;

	oplog_gen_opts_init(&o);
	o.count = 20000;
	o.datasets = 3;
	o.nodes = 4;
	o.dup_rate = 0.05;
	o.late_rate = 0.1;
	o.gap_rate = 0.003;
	o.start_wall = oplog_gen_start_for_end(&o, end);
	ck_assert_uint_lt(o.start_wall, end - 20000);
	ck_assert_int_eq(oplog_gen_new(&o, &g), 0);
	while (oplog_gen_next(g, &m) == 0) {
		ck_assert_int_eq(oplog_entry_decode(m.data, m.len, 0, 0, &e, NULL), 0);
		if (e.wall > last)
			last = e.wall;
		free(m.data);
	}
	ck_assert_uint_le(last, end);
	ck_assert_uint_gt(last, end - 3000);   /* 5% duplicates + 6 sd: ~1.7 s */
	ck_assert_uint_eq(oplog_gen_start_for_end(&o, 100), 0);
	oplog_gen_free(g);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("gen");
	SRunner *sr;
	TCase *tc;
	int failed;

#define ADD(t) do { tc = tcase_create(#t); tcase_set_timeout(tc, 60); \
	tcase_add_test(tc, t); suite_add_tcase(s, tc); } while (0)
	ADD(test_gen__same_seed_same_stream);
	ADD(test_gen__plain_stream_is_gapless_chains_in_hlc_order);
	ADD(test_gen__every_message_is_what_its_label_says);
	ADD(test_gen__late_entries_arrive_within_the_window);
	ADD(test_gen__rejects_options_out_of_range);
	ADD(test_gen__rng_is_uniform_enough_and_bounded);
	ADD(test_gen__gap_rate_drops_entries_and_leaves_their_seqs_missing);
	ADD(test_gen__each_message_names_its_dataset);
	ADD(test_gen__start_wall_shifts_every_wall_and_nothing_else);
	ADD(test_gen__start_for_end_ends_the_stream_just_before_end);
#undef ADD
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
