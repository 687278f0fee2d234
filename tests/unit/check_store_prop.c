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
 *
 * The chain walks get a case of their own: one node's fork, branches,
 * chain break and gap, in every arrival order of a small set and many
 * of larger ones, must walk the same, forward and backward, from either
 * end and from every hash, as when applied in order (and as written
 * down here by hand).
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

/* ------------------------------------------------------------------ */
/* Chain walks in every arrival order                                   */

/*
 * Dataset "chains", node "n": e1, e2, a fork at seq 3 (a3 and b3, both
 * after e2), a4 after a3 and, in some variants, b4 after b3; e5 after a4;
 * e6, a chain break whose prev names m1, an entry of node "m"; e7 never
 * arrives (a gap), e8 after it. Some variants add g1, a second genesis.
 * Which fork sibling has the smaller hash (the one a forward walk
 * follows) is chosen per variant.
 */
enum { L_M1, L_G1, L_E1, L_E2, L_A3, L_B3, L_A4, L_B4, L_E5, L_E6, L_E7, L_E8, L__N };
static const char *const chain_label[L__N] = {
	"m1", "g1", "e1", "e2", "a3", "b3", "a4", "b4", "e5", "e6", "e7", "e8",
};

struct chain_set {
	struct util_entry u[L__N];
	int               in[L__N];   /* applied in this variant */
};

/* u = (node, seq, wall) with prev, its data `data` plus the smallest
 * suffix that puts its hash on the wanted side (sign of cmp) of `than`. */
static void chain_entry(struct util_entry *u, const char *node, uint64_t seq, uint64_t wall,
                        const char *data, const uint8_t *prev, const uint8_t *than, int sign)
{
	char body[64];
	int i;

	for (i = 0; i < 64; i++) {
		snprintf(body, sizeof(body), "%s/%d", data, i);
		UTIL_OK(util_entry_build(u, "chains", node, seq, wall, 0, "c", data, OPLOG_OP_PUT,
		                         body, prev));
		if (!than || (memcmp(u->hash, than, OPLOG_HASH_LEN) < 0) == (sign < 0))
			return;
		util_entry_free(u);
	}
	ck_abort_msg("no hash on the wanted side after 64 tries");
}

enum chain_variant {
	CV_SMALL,       /* e1 e2 a3 b3 b4 e5, a3 < b3: all orders */
	CV_FORK,        /* + m1 a4 e6 e8, no b4; a3 < b3 */
	CV_BRANCHES,    /* + b4; b3 < a3 */
	CV_BRANCH_HEAD, /* b4 is the head (latest wall); g1 < e1; b3 < a3 */
	CV__N
};

static void chain_set_build(struct chain_set *c, enum chain_variant v)
{
	struct util_entry *u = c->u;
	int b_first = v == CV_BRANCHES || v == CV_BRANCH_HEAD;
	size_t i;

	memset(c, 0, sizeof(*c));
	chain_entry(&u[L_M1], "m", 1, 1000, "m1", NULL, NULL, 0);
	chain_entry(&u[L_E1], "n", 1, 1010, "e1", NULL, NULL, 0);
	chain_entry(&u[L_G1], "n", 1, 1005, "g1", NULL, u[L_E1].hash, -1);
	chain_entry(&u[L_E2], "n", 2, 1020, "e2", u[L_E1].hash, NULL, 0);
	chain_entry(&u[L_A3], "n", 3, 1030, "a3", u[L_E2].hash, NULL, 0);
	chain_entry(&u[L_B3], "n", 3, 1031, "b3", u[L_E2].hash, u[L_A3].hash, b_first ? -1 : 1);
	chain_entry(&u[L_A4], "n", 4, 1040, "a4", u[L_A3].hash, NULL, 0);
	chain_entry(&u[L_B4], "n", 4, v == CV_BRANCH_HEAD ? 9000 : 1041, "b4", u[L_B3].hash,
	            NULL, 0);
	chain_entry(&u[L_E5], "n", 5, 1050, "e5", u[L_A4].hash, NULL, 0);
	chain_entry(&u[L_E6], "n", 6, 1060, "e6", u[L_M1].hash, NULL, 0);
	chain_entry(&u[L_E7], "n", 7, 1070, "e7", u[L_E6].hash, NULL, 0);
	chain_entry(&u[L_E8], "n", 8, 1080, "e8", u[L_E7].hash, NULL, 0);
	for (i = 0; i < L__N; i++)
		c->in[i] = i != L_E7 && i != L_G1;
	switch (v) {
	case CV_SMALL:
		c->in[L_M1] = c->in[L_A4] = c->in[L_E6] = c->in[L_E8] = 0;
		break;
	case CV_FORK:
		c->in[L_B4] = 0;
		break;
	case CV_BRANCH_HEAD:
		c->in[L_G1] = 1;
		break;
	default:
		break;
	}
}

static const char *chain_label_of(const struct chain_set *c, const uint8_t *hash)
{
	size_t i;

	for (i = 0; i < L__N; i++)
		if (memcmp(c->u[i].hash, hash, OPLOG_HASH_LEN) == 0)
			return chain_label[i];
	return "?";
}

struct chain_text {
	const struct chain_set *c;
	FILE                   *f;
};

static int chain_text_cb(const struct oplog_entry *e, const void *msg, size_t len, void *arg)
{
	struct chain_text *t = arg;

	(void)msg; (void)len;
	fprintf(t->f, " %s", chain_label_of(t->c, e->hash));
	return 0;
}

/* "fwd n e1: e1 e2 a3 | head" */
static void chain_line(FILE *f, struct oplog_store *s, const struct chain_set *c,
                       const char *node, int from, int forward)
{
	struct chain_text t = { c, f };
	enum oplog_chain_end end = OPLOG_CHAIN_LIMIT;
	int rc;

	fprintf(f, "%s %s %s:", forward ? "fwd" : "back", node, from < 0 ? "-" : chain_label[from]);
	rc = oplog_store_chain(s, util_sl("chains"), util_sl(node),
	                       from < 0 ? NULL : c->u[from].hash, forward, 0, chain_text_cb, &t, &end);
	if (rc == OPLOG_ENOTFOUND) {
		fputs(" notfound\n", f);
		return;
	}
	UTIL_OK(rc);
	fprintf(f, " | %s\n", oplog_chain_end_name(end));
}

/* Every walk: from each node's ends, and from every hash of the set
 * (present or not), both ways. Caller frees. */
static char *chain_walks(struct oplog_store *s, const struct chain_set *c)
{
	static const char *const nodes[2] = { "m", "n" };
	char *text = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&text, &len);

	UTIL_CHECK(f != NULL);
	for (i = 0; i < 2; i++) {
		chain_line(f, s, c, nodes[i], -1, 0);
		chain_line(f, s, c, nodes[i], -1, 1);
	}
	for (i = 0; i < L__N; i++) {
		const char *node = i == L_M1 ? "m" : "n";

		chain_line(f, s, c, node, (int)i, 0);
		chain_line(f, s, c, node, (int)i, 1);
	}
	fclose(f);
	return text;
}

/* Apply order[0..n) to a fresh store, `split` entries per batch (0 =
 * 1..4 at random), and render its walks. */
static char *chain_run(const struct chain_set *c, struct util_entry **order, size_t n,
                       size_t split, struct rng *r)
{
	char dir[4200];
	struct oplog_store *s = NULL;
	size_t at = 0;
	char *text;

	util_subdir(dir, sizeof(dir), "chains");
	UTIL_OK(util_store_open(&s, dir, 0, 0, OPLOG_STORE_NOSYNC));
	while (at < n) {
		size_t b = split ? split : 1 + (size_t)rng_below(r, 4);

		if (b > n - at)
			b = n - at;
		UTIL_OK(util_apply(s, order + at, b, NULL));
		at += b;
	}
	text = chain_walks(s, c);
	oplog_store_close(s);
	util_rmtree(dir);
	return text;
}

static void has_walk(const char *walks, const char *line, enum chain_variant v)
{
	char want[128];

	snprintf(want, sizeof(want), "%s\n", line);
	ck_assert_msg(strstr(walks, want) != NULL, "variant %d: no \"%s\" in:\n%s", (int)v, line,
	              walks);
}

/* What the walks of the in-order store are, by hand. */
static void chain_expect(const char *w, enum chain_variant v)
{
	/* Whatever the variant. */
	has_walk(w, "back n e2: e2 e1 | genesis", v);
	has_walk(w, "back n e7: notfound", v);
	has_walk(w, "fwd n e7: notfound", v);
	switch (v) {
	case CV_SMALL:
		has_walk(w, "back n -: e5 | gap", v);            /* a4 never came */
		has_walk(w, "fwd n -: e1 e2 a3 | head", v);      /* seq 4 is b3's only */
		has_walk(w, "fwd n b3: b3 b4 | head", v);        /* e5 follows a4 */
		has_walk(w, "fwd n a3: a3 | head", v);
		has_walk(w, "back m -: notfound", v);
		break;
	case CV_FORK:
		has_walk(w, "back n -: e8 | gap", v);
		has_walk(w, "fwd n -: e1 e2 a3 a4 e5 | head", v);
		has_walk(w, "fwd n e2: e2 a3 a4 e5 | head", v);
		has_walk(w, "fwd n b3: b3 | head", v);
		has_walk(w, "back n b3: b3 e2 e1 | genesis", v);
		has_walk(w, "back n e5: e5 a4 a3 e2 e1 | genesis", v);
		has_walk(w, "back n e6: e6 | gap", v);           /* its prev is m's */
		has_walk(w, "fwd n e6: e6 | gap", v);            /* seq 7 below the head */
		has_walk(w, "fwd n e8: e8 | head", v);
		has_walk(w, "back m -: m1 | genesis", v);
		has_walk(w, "fwd m m1: m1 | head", v);
		break;
	case CV_BRANCHES:
		has_walk(w, "back n -: e8 | gap", v);
		has_walk(w, "fwd n -: e1 e2 b3 b4 | head", v);
		has_walk(w, "fwd n a3: a3 a4 e5 | head", v);
		has_walk(w, "back n b4: b4 b3 e2 e1 | genesis", v);
		has_walk(w, "fwd n e6: e6 | gap", v);
		break;
	case CV_BRANCH_HEAD:
		has_walk(w, "back n -: b4 b3 e2 e1 | genesis", v);
		has_walk(w, "fwd n -: g1 | head", v);            /* the smaller genesis */
		has_walk(w, "fwd n e1: e1 e2 b3 b4 | head", v);
		has_walk(w, "fwd n e6: e6 | head", v);           /* seq 7 is past the head's 4 */
		has_walk(w, "back n e8: e8 | gap", v);
		break;
	default:
		break;
	}
}

/* Permutation number k of v[0..n) (k < n!), in lexicographic order: k's
 * digits in the factorial base pick from what is left. */
static void nth_permutation(struct util_entry **out, struct util_entry *const *v, size_t n,
                            size_t k)
{
	struct util_entry *rest[L__N];
	size_t i, f = 1;

	memcpy(rest, v, n * sizeof(*v));
	for (i = 2; i < n; i++)
		f *= i;                           /* (n - 1)! */
	for (i = 0; i < n; i++) {
		size_t left = n - i, j = k / f;

		k %= f;
		out[i] = rest[j];
		memmove(rest + j, rest + j + 1, (left - 1 - j) * sizeof(*rest));
		if (left > 1)
			f /= left - 1;                /* (left - 2)! */
	}
}

#define CHAIN_RANDOM_ORDERS 120

/*
 * Forward and backward walks, from each end and from every hash, come
 * out the same whatever order and batch split the entries arrived in:
 * every order of the small variant, and for the others each entry
 * arriving last (late) or first, the reverse, and seeded shuffles.
 */
START_TEST(test_chain__forward_same_in_every_arrival_order)
{
	static struct chain_set c;
	enum chain_variant v = (enum chain_variant)_i;
	struct util_entry *in_order[L__N], *order[L__N];
	char *ref, *got;
	struct rng r;
	size_t n = 0, i, k, runs;

	chain_set_build(&c, v);
	for (i = 0; i < L__N; i++)
		if (c.in[i])
			in_order[n++] = &c.u[i];
	rng_seed(&r, 77 + (uint64_t)v);
	ref = chain_run(&c, in_order, n, 1, &r);
	chain_expect(ref, v);

	if (v == CV_SMALL) {
		for (runs = 1, i = 2; i <= n; i++)
			runs *= i;
	} else {
		runs = 2 * n + 1 + CHAIN_RANDOM_ORDERS;
	}
	for (k = 0; k < runs; k++) {
		size_t split = k % 3 == 0 ? n : k % 3 == 1 ? 1 : 0;

		if (v == CV_SMALL) {
			nth_permutation(order, in_order, n, k);
		} else if (k < 2 * n) {
			/* Entry k % n last (late), or first; the rest in order. */
			size_t x = k % n, j = 0;

			if (k >= n)
				order[j++] = in_order[x];
			for (i = 0; i < n; i++)
				if (i != x)
					order[j++] = in_order[i];
			if (k < n)
				order[j++] = in_order[x];
		} else if (k == 2 * n) {
			for (i = 0; i < n; i++)
				order[i] = in_order[n - 1 - i];
		} else {
			memcpy(order, in_order, n * sizeof(*order));
			shuffle(order, n, &r);
		}
		got = chain_run(&c, order, n, split, &r);
		if (strcmp(ref, got) != 0) {
			char arrived[256] = "";

			for (i = 0; i < n; i++)
				snprintf(arrived + strlen(arrived), sizeof(arrived) - strlen(arrived), " %s",
				         chain_label_of(&c, order[i]->hash));
			ck_abort_msg("variant %d, order%s (split %zu): walks differ at %s", (int)v,
			             arrived, split, util_first_diff(ref, got));
		}
		free(got);
	}
	free(ref);
	util_entries_free(c.u, L__N);
}
END_TEST

static Suite *prop_suite(void)
{
	Suite *s = suite_create("store_prop");
	TCase *t = util_store_tcase(s, "convergence", 60);

	tcase_add_loop_test(t, test_prop__any_order_and_split_converges, 0, SEEDS);
	t = util_store_tcase(s, "chain_orders", 60);
	tcase_add_loop_test(t, test_chain__forward_same_in_every_arrival_order, 0, CV__N);
	return s;
}

int main(void)
{
	return util_suite_run(prop_suite());
}
