/*
 * check_store_prop.c: convergence. One multiset of entries, applied in
 * many orders and batch splits, each into a fresh store, must always give
 * the same store (apply-semantics "Convergence"): the same rendering
 * through the public queries, the same dump, and a clean verify.
 *
 * The multiset per seed: 3 datasets x 6 nodes, chains of about 40, with
 * documents contested across nodes (and HLC ties across and within nodes),
 * dels, forks (siblings with the right prev, one of them extended by a
 * child), chain-break entries, and duplicates of the very same bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "util_store.h"

#if defined(__has_include)
#if __has_include("oplog/dump.h")
#include "oplog/dump.h"
#define HAVE_DUMP 1
#endif
#endif

#define SEEDS       5
#define ORDERS      8
#define N_DS        3
#define N_NODES     6
#define MAX_CHAIN   44
#define MAX_ENTRIES (N_DS * N_NODES * MAX_CHAIN + 64)

static const char *const ds_names[N_DS] = { "alpha", "beta", "gamma" };
/* Prefixes and a non-ASCII name, so that name order matters. */
static const char *const node_names[N_NODES] = { "a", "ab", "b", "node-1", "node-10", "n\xc3\xa9" };

/* xorshift64*: fixed seeds give the same multiset and orders everywhere. */
struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dull;
}

static uint64_t rng_below(struct rng *r, uint64_t n)
{
	return rng_next(r) % n;
}

static void rng_seed(struct rng *r, uint64_t seed)
{
	r->s = seed * 0x9e3779b97f4a7c15ull + 0x1234567ull;
	if (!r->s)
		r->s = 1;
	rng_next(r);
}

struct multiset {
	struct util_entry  distinct[MAX_ENTRIES];
	size_t             n_distinct;
	struct util_entry *items[2 * MAX_ENTRIES];   /* duplicates share bytes */
	size_t             n_items;
	size_t             n_forks, n_breaks;
};

static struct util_entry *add(struct multiset *m, const char *ds, const char *node,
                              uint64_t seq, uint64_t wall, uint32_t logic,
                              const char *col, const char *key, enum oplog_op op,
                              const char *data, const uint8_t *prev)
{
	struct util_entry *u = &m->distinct[m->n_distinct];

	ck_assert(m->n_distinct < MAX_ENTRIES);
	UTIL_OK(util_entry_build(u, ds, node, seq, wall, logic, col, key, op, data, prev));
	m->n_distinct++;
	m->items[m->n_items++] = u;
	return u;
}

static void build_multiset(struct multiset *m, uint64_t seed)
{
	struct rng r;
	size_t d, k, i;

	memset(m, 0, sizeof(*m));
	rng_seed(&r, seed);
	for (d = 0; d < N_DS; d++) {
		struct util_entry *chain[N_NODES][MAX_CHAIN + 1];
		size_t len[N_NODES];

		for (k = 0; k < N_NODES; k++) {
			/* Small clock steps: (wall, logic) ties across nodes happen. */
			uint64_t wall = 1000 + rng_below(&r, 20);
			uint32_t logic = 0;

			len[k] = 36 + (size_t)rng_below(&r, 9);
			for (i = 1; i <= len[k]; i++) {
				char key[16], data[48];
				const char *col = rng_below(&r, 3) ? "users" : "orders";
				enum oplog_op op = rng_below(&r, 7) == 0 ? OPLOG_OP_DEL : OPLOG_OP_PUT;
				uint64_t step = rng_below(&r, 4);

				if (step) {
					wall += step;
					logic = (uint32_t)rng_below(&r, 2);
				} else {
					logic++;
				}
				snprintf(key, sizeof(key), "k%u", (unsigned)rng_below(&r, 12));
				snprintf(data, sizeof(data), "%s/%s/%zu/%llu", ds_names[d], node_names[k], i,
				         (unsigned long long)rng_below(&r, 1000));
				chain[k][i] = add(m, ds_names[d], node_names[k], i, wall, logic, col, key, op,
				                  data, i > 1 ? chain[k][i - 1]->hash : NULL);
			}
		}

		/* Forks: siblings with the right prev; one at the same HLC. */
		for (i = 0; i < 3; i++) {
			size_t nk = (size_t)rng_below(&r, N_NODES);
			uint64_t s = 2 + rng_below(&r, len[nk] - 2);
			const struct util_entry *orig = chain[nk][s];
			struct util_entry *sib;
			char data[32];

			snprintf(data, sizeof(data), "fork-%zu", i);
			sib = add(m, ds_names[d], node_names[nk], s, orig->e.wall + (i == 0 ? 0 : 1),
			          orig->e.logic, "users", "k1", i == 2 ? OPLOG_OP_DEL : OPLOG_OP_PUT,
			          data, chain[nk][s - 1]->hash);
			m->n_forks++;
			if (i == 1) {
				/* The fork goes on: a child of the sibling forks s + 1 too. */
				add(m, ds_names[d], node_names[nk], s + 1, sib->e.wall + 1, 0, "orders", "k2",
				    OPLOG_OP_PUT, "fork-child", sib->hash);
				m->n_forks++;
			}
		}
		/* A second genesis for one node: a fork at seq 1. */
		add(m, ds_names[d], node_names[d], 1, 999, 0, "users", "k0", OPLOG_OP_PUT,
		    "second-genesis", NULL);
		m->n_forks++;

		/* Chain breaks: a wrong prev inside the chain and past the head. */
		for (i = 0; i < 2; i++) {
			size_t nk = (size_t)rng_below(&r, N_NODES);
			uint64_t s = i == 0 ? 2 + rng_below(&r, len[nk] - 1) : len[nk] + 1;
			uint8_t wrong[OPLOG_HASH_LEN];
			size_t j;

			for (j = 0; j < OPLOG_HASH_LEN; j++)
				wrong[j] = (uint8_t)rng_next(&r);
			add(m, ds_names[d], node_names[nk], s, 5000 + i, 0, "users", "k3", OPLOG_OP_PUT,
			    "broken", wrong);
			m->n_breaks++;
		}
	}
	/* Duplicates: the very same bytes again, about one in eight. */
	k = m->n_items;
	for (i = 0; i < k; i++)
		if (rng_below(&r, 8) == 0)
			m->items[m->n_items++] = m->items[i];
}

static void multiset_free(struct multiset *m)
{
	util_entries_free(m->distinct, m->n_distinct);
}

static void shuffle(struct util_entry **v, size_t n, struct rng *r)
{
	size_t i;

	for (i = n; i > 1; i--) {
		size_t j = (size_t)rng_below(r, i);
		struct util_entry *t = v[i - 1];

		v[i - 1] = v[j];
		v[j] = t;
	}
}

static size_t count_lines(const char *text, const char *prefix)
{
	size_t n = 0, plen = strlen(prefix);
	const char *p = text;

	while (p && *p) {
		if (strncmp(p, prefix, plen) == 0)
			n++;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return n;
}

/* One run: a fresh store, `order` applied in random batches of 1..50. */
static void run_once(int run, struct util_entry **order, size_t n, struct rng *r,
                     char **render, char **dump, struct oplog_stats *st)
{
	char dir[4200], name[32];
	struct oplog_store *s = NULL;
	size_t at = 0;

	snprintf(name, sizeof(name), "run-%d", run);
	util_subdir(dir, sizeof(dir), name);
	/* Durability is not under test here; convergence is. */
	UTIL_OK(util_store_open(&s, dir, 0, 0, OPLOG_STORE_NOSYNC));
	while (at < n) {
		size_t b = 1 + (size_t)rng_below(r, 50);

		if (b > n - at)
			b = n - at;
		UTIL_OK(util_apply(s, order + at, b, NULL));
		at += b;
	}
	*render = util_store_render(s);
	UTIL_CHECK(*render != NULL);
	UTIL_CONSISTENT(s);
	UTIL_OK(oplog_store_stats(s, st));
	*dump = NULL;
#ifdef HAVE_DUMP
	{
		size_t len = 0;
		FILE *f = open_memstream(dump, &len);

		UTIL_CHECK(f != NULL);
		UTIL_OK(oplog_store_dump(s, f));
		fclose(f);
	}
#endif
	oplog_store_close(s);
	util_rmtree(dir);
}

START_TEST(test_prop__any_order_and_split_converges)
{
	static struct multiset m;
	struct util_entry **order;
	char *ref_render = NULL, *ref_dump = NULL;
	struct rng r;
	uint64_t seed = 1000 + (uint64_t)_i;
	int o;

	build_multiset(&m, seed);
	order = malloc(m.n_items * sizeof(*order));
	UTIL_CHECK(order != NULL);
	rng_seed(&r, seed * 7919);
	for (o = 0; o < ORDERS; o++) {
		struct oplog_stats st;
		char *render, *dump;
		size_t i;

		memcpy(order, m.items, m.n_items * sizeof(*order));
		if (o == 1) {
			for (i = 0; i < m.n_items / 2; i++) {
				struct util_entry *t = order[i];

				order[i] = order[m.n_items - 1 - i];
				order[m.n_items - 1 - i] = t;
			}
		} else if (o > 1) {
			shuffle(order, m.n_items, &r);
		}
		run_once(o, order, m.n_items, &r, &render, &dump, &st);

		/* Every distinct entry once; every repeat counted as a duplicate. */
		UTIL_EQ(st.entries, m.n_distinct);
		UTIL_EQ(st.duplicates, m.n_items - m.n_distinct);
		UTIL_EQ(st.datasets, N_DS);
		if (o == 0) {
			ref_render = render;
			ref_dump = dump;
			UTIL_EQ(count_lines(render, "entry "), m.n_distinct);
			UTIL_CHECK(count_lines(render, "fork ") >= N_DS);
			UTIL_CHECK(count_lines(render, "break ") >= N_DS);
			UTIL_CHECK(count_lines(render, "doc ") > 0);
			UTIL_CHECK(strstr(render, " op=del ") != NULL);
			continue;
		}
		ck_assert_msg(strcmp(ref_render, render) == 0,
		              "seed %llu order %d renders differently at %s",
		              (unsigned long long)seed, o, util_first_diff(ref_render, render));
#ifdef HAVE_DUMP
		ck_assert_msg(ref_dump && dump && strcmp(ref_dump, dump) == 0,
		              "seed %llu order %d dumps differently at %s",
		              (unsigned long long)seed, o, util_first_diff(ref_dump, dump));
#endif
		free(render);
		free(dump);
	}
	free(ref_render);
	free(ref_dump);
	free(order);
	multiset_free(&m);
}
END_TEST

static Suite *prop_suite(void)
{
	Suite *s = suite_create("store_prop");
	TCase *t = tcase_create("convergence");

	tcase_add_unchecked_fixture(t, util_case_setup, util_case_teardown);
	tcase_add_checked_fixture(t, util_setup, util_teardown);
	util_tcase_timeout(t, 60);
	tcase_add_loop_test(t, test_prop__any_order_and_split_converges, 0, SEEDS);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(prop_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
