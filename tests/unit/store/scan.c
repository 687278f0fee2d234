/*
 * scan.c: the store's suite, scans: HLC order, paging, ties in any arrival
 * order, node and seq scans, node and dataset listings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "util_store.h"
#include "store/tcases.h"

/* ------------------------------------------------------------------ */
/* Scans                                                               */

static int cmp_ptr(const void *a, const void *b)
{
	const struct util_entry *x = *(const struct util_entry *const *)a;
	const struct util_entry *y = *(const struct util_entry *const *)b;

	return util_hlc_cmp(&x->e, &y->e);
}

/* Three nodes with (wall, logic) ties across them and one same-HLC fork. */
#define SCAN_N 61
static void fill_scan(struct util_entry *all)
{
	static const char *nodes[3] = { "ab", "a", "b" };
	size_t i, k = 0;
	int j;

	for (j = 0; j < 3; j++) {
		for (i = 0; i < 20; i++) {
			char key[16];

			snprintf(key, sizeof(key), "k%zu", i % 7);
			util_mk(&all[k], UTIL_DS, nodes[j], i + 1, 1000 + 10 * (i / 2), (uint32_t)(i % 2),
			        key, OPLOG_OP_PUT, nodes[j], i ? all[k - 1].hash : NULL);
			k++;
		}
	}
	/* A sibling of a's seq 5 with the very same (wall, logic). */
	util_mk(&all[k], UTIL_DS, "a", 5, all[20 + 4].e.wall, all[20 + 4].e.logic, "k9", OPLOG_OP_PUT,
	        "sib", all[20 + 3].hash);
}

START_TEST(test_scan__paging_gives_every_entry_once_in_hlc_order)
{
	struct util_entry all[SCAN_N];
	struct util_entry *sorted[SCAN_N];
	struct util_list page = { 0 }, got = { 0 };
	struct oplog_hlc after;
	struct util_item last;
	size_t i, pages = 0;

	fill_scan(all);
	for (i = 0; i < SCAN_N; i++)
		sorted[i] = &all[i];
	/* Arrival order unrelated to HLC order. */
	UTIL_OK(util_apply(util_s, sorted, SCAN_N, NULL));
	qsort(sorted, SCAN_N, sizeof(sorted[0]), cmp_ptr);

	UTIL_OK(oplog_store_scan(util_s, util_sl(UTIL_DS), NULL, 7, util_list_cb, &page));
	while (page.n) {
		pages++;
		UTIL_CHECK(page.n <= 7);
		for (i = 0; i < page.n; i++)
			UTIL_OK(util_list_cb(&(struct oplog_entry){ .hash = page.items[i].hash,
			        .seq = page.items[i].seq, .wall = page.items[i].wall,
			        .logic = page.items[i].logic,
			        .node = { (const uint8_t *)page.items[i].node, page.items[i].node_len } },
			        NULL, 0, &got));
		last = page.items[page.n - 1];
		page.n = 0;
		after.wall = last.wall;
		after.logic = last.logic;
		after.node.ptr = (const uint8_t *)last.node;
		after.node.len = last.node_len;
		after.hash = last.hash;
		UTIL_OK(oplog_store_scan(util_s, util_sl(UTIL_DS), &after, 7, util_list_cb, &page));
		UTIL_CHECK(pages < 100);
	}
	UTIL_EQ(pages, (SCAN_N + 6) / 7);
	UTIL_EQ(got.n, SCAN_N);
	for (i = 0; i < SCAN_N; i++)
		ck_assert_msg(memcmp(got.items[i].hash, sorted[i]->hash, OPLOG_HASH_LEN) == 0,
		              "scan position %zu: node %s seq %llu, expected node %.*s seq %llu", i,
		              got.items[i].node, (unsigned long long)got.items[i].seq,
		              (int)sorted[i]->e.node.len, (const char *)sorted[i]->e.node.ptr,
		              (unsigned long long)sorted[i]->e.seq);
	util_list_free(&page);
	util_list_free(&got);
	util_entries_free(all, SCAN_N);
}
END_TEST

/* An "after" with an empty node is before every node at that (wall, logic);
 * with a node and no hash it is before that node's entries there. */
START_TEST(test_scan__after_position_without_node_or_hash)
{
	struct util_entry all[SCAN_N];
	struct util_entry *sorted[SCAN_N];
	struct util_list l = { 0 };
	struct oplog_hlc after;
	size_t i, first = SCAN_N;

	fill_scan(all);
	for (i = 0; i < SCAN_N; i++)
		sorted[i] = &all[i];
	UTIL_OK(util_apply(util_s, sorted, SCAN_N, NULL));
	qsort(sorted, SCAN_N, sizeof(sorted[0]), cmp_ptr);

	memset(&after, 0, sizeof(after));
	after.wall = 1020;
	after.logic = 1;
	for (i = 0; i < SCAN_N; i++)
		if (sorted[i]->e.wall > 1020 || (sorted[i]->e.wall == 1020 && sorted[i]->e.logic >= 1)) {
			first = i;
			break;
		}
	UTIL_OK(oplog_store_scan(util_s, util_sl(UTIL_DS), &after, 0, util_list_cb, &l));
	UTIL_EQ(l.n, SCAN_N - first);
	UTIL_HASH_EQ(l.items[0].hash, sorted[first]->hash);
	UTIL_STR_EQ(l.items[0].node, "a");
	util_list_free(&l);

	/* Node "ab", no hash: a's entries at (1020, 1) are before it. */
	after.node = util_sl("ab");
	UTIL_OK(oplog_store_scan(util_s, util_sl(UTIL_DS), &after, 0, util_list_cb, &l));
	UTIL_EQ(l.n, SCAN_N - first - 1);
	UTIL_STR_EQ(l.items[0].node, "ab");
	UTIL_EQ(l.items[0].wall, 1020);
	util_list_free(&l);
	util_entries_free(all, SCAN_N);
}
END_TEST

/* Node names compare bytewise, shorter first, NUL bytes included. */
START_TEST(test_scan__node_names_order_bytewise_shorter_first)
{
	static const struct { const char *p; size_t n; } names[] = {
		{ "a", 1 }, { "a\0", 2 }, { "a\0\0", 3 }, { "a\0b", 3 }, { "a\x01", 2 },
		{ "ab", 2 }, { "b", 1 }, { "\xc3\xa9", 2 },
	};
	struct util_entry u[UTIL_NELEM(names)];
	struct util_entry *rev[UTIL_NELEM(names)];
	struct util_spec sp;
	struct util_list l = { 0 };
	size_t i, n = UTIL_NELEM(names);

	for (i = 0; i < n; i++) {
		memset(&sp, 0, sizeof(sp));
		sp.ds = util_sl(UTIL_DS);
		sp.node.ptr = (const uint8_t *)names[i].p;
		sp.node.len = names[i].n;
		sp.seq = 1;
		sp.wall = 777;
		sp.logic = 3;
		sp.col = util_sl("c");
		sp.key = util_sl("k");
		sp.op = OPLOG_OP_PUT;
		sp.data = util_sl("v");
		UTIL_OK(util_entry_make(&u[i], &sp));
		rev[n - 1 - i] = &u[i];
	}
	UTIL_OK(util_apply(util_s, rev, n, NULL));
	UTIL_OK(oplog_store_scan(util_s, util_sl(UTIL_DS), NULL, 0, util_list_cb, &l));
	UTIL_EQ(l.n, n);
	for (i = 0; i < n; i++)
		ck_assert_msg(l.items[i].node_len == names[i].n &&
		              memcmp(l.items[i].node, names[i].p, names[i].n) == 0,
		              "scan position %zu has the wrong node", i);
	/* The document goes to the greatest node name. */
	{
		struct util_doc d;

		UTIL_OK(util_doc_get(util_s, UTIL_DS, "c", "k", &d));
		UTIL_STR_EQ(d.node, "\xc3\xa9");
	}
	UTIL_CONSISTENT(util_s);
	util_list_free(&l);
	util_entries_free(u, n);
}
END_TEST

/*
 * Ties on (wall, logic): six nodes at (500, 7), two of them with two
 * entries there (a: seq 1 and 2; b: two hashes at seq 1), between "z" at
 * (500, 6) and "0" at (500, 8), and a's seq 3 at (501, 0). In HLC order:
 * z, a, a, aa, ab, b, b, 0, a.
 */
#define TIE_N 9
static void fill_ties(struct util_entry *u)
{
	util_mk(&u[0], UTIL_DS, "z", 1, 500, 6, "k", OPLOG_OP_PUT, "z1", NULL);
	util_mk(&u[1], UTIL_DS, "b", 1, 500, 7, "k", OPLOG_OP_PUT, "b1", NULL);
	util_mk(&u[2], UTIL_DS, "b", 1, 500, 7, "k", OPLOG_OP_PUT, "b1-sibling", NULL);
	util_mk(&u[3], UTIL_DS, "ab", 1, 500, 7, "k", OPLOG_OP_PUT, "ab1", NULL);
	util_mk(&u[4], UTIL_DS, "aa", 1, 500, 7, "k", OPLOG_OP_PUT, "aa1", NULL);
	util_mk(&u[5], UTIL_DS, "a", 1, 500, 7, "k", OPLOG_OP_PUT, "a1", NULL);
	util_mk(&u[6], UTIL_DS, "a", 2, 500, 7, "k", OPLOG_OP_PUT, "a2", u[5].hash);
	util_mk(&u[7], UTIL_DS, "0", 1, 500, 8, "k", OPLOG_OP_PUT, "01", NULL);
	util_mk(&u[8], UTIL_DS, "a", 3, 501, 0, "k", OPLOG_OP_PUT, "a3", u[6].hash);
}

/* xorshift64*, for fixed-seed arrival orders. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

/*
 * Arrival order k of the tie entries: 0 has ids in reverse name order at
 * the tie, and the greater hash first where a node ties with itself;
 * others are seeded shuffles.
 */
static void tie_order(struct util_entry *u, size_t k, struct util_entry **out)
{
	uint64_t seed = 0x7165 + k;
	size_t i;

	if (k == 0) {
		struct util_entry *designed[TIE_N] = {
			memcmp(u[1].hash, u[2].hash, OPLOG_HASH_LEN) > 0 ? &u[1] : &u[2],
			memcmp(u[1].hash, u[2].hash, OPLOG_HASH_LEN) > 0 ? &u[2] : &u[1],
			&u[3], &u[4],
			memcmp(u[5].hash, u[6].hash, OPLOG_HASH_LEN) > 0 ? &u[5] : &u[6],
			memcmp(u[5].hash, u[6].hash, OPLOG_HASH_LEN) > 0 ? &u[6] : &u[5],
			&u[8], &u[7], &u[0],
		};
		memcpy(out, designed, sizeof(designed));
		return;
	}
	for (i = 0; i < TIE_N; i++)
		out[i] = &u[i];
	for (i = TIE_N; i > 1; i--) {
		size_t j = (size_t)(rng_next(&seed) % i);
		struct util_entry *t = out[i - 1];

		out[i - 1] = out[j];
		out[j] = t;
	}
}

/* Apply `order` to a fresh store in batches of 1..3 (order k's own split). */
static void apply_in_batches(struct util_entry **order, size_t n, size_t k)
{
	uint64_t seed = 0x5eed + k;
	size_t at = 0;

	util_store_reset();
	while (at < n) {
		size_t b = k == 0 ? 1 : 1 + (size_t)(rng_next(&seed) % 3);

		if (b > n - at)
			b = n - at;
		UTIL_OK(util_apply(util_s, order + at, b, NULL));
		at += b;
	}
}

/* l lists exactly want[0..n) in that order. */
static void list_is(const struct util_list *l, struct util_entry *const *want, size_t n,
                    const char *what, size_t k)
{
	size_t i;

	ck_assert_msg(l->n == n, "%s, order %zu: %zu entries, expected %zu", what, k, l->n, n);
	for (i = 0; i < n; i++)
		ck_assert_msg(memcmp(l->items[i].hash, want[i]->hash, OPLOG_HASH_LEN) == 0,
		              "%s, order %zu, position %zu: node %s seq %llu, expected node %.*s "
		              "seq %llu", what, k, i, l->items[i].node,
		              (unsigned long long)l->items[i].seq, (int)want[i]->e.node.len,
		              (const char *)want[i]->e.node.ptr, (unsigned long long)want[i]->e.seq);
}

/* Page through a scan (node NULL) or a node scan, `limit` at a time, each
 * page after the last position emitted. */
static void page_all(const char *node, uint64_t limit, struct util_list *out)
{
	struct util_list page = { 0 };
	struct oplog_hlc after;
	int first = 1, pages = 0;

	for (;;) {
		struct util_item *last;
		size_t i;

		page.n = 0;
		if (node)
			UTIL_OK(oplog_store_scan_node(util_s, util_sl(UTIL_DS), util_sl(node),
			                              first ? NULL : &after, limit, util_list_cb, &page));
		else
			UTIL_OK(oplog_store_scan(util_s, util_sl(UTIL_DS), first ? NULL : &after, limit,
			                         util_list_cb, &page));
		UTIL_CHECK(page.n <= limit);
		if (!page.n)
			break;
		for (i = 0; i < page.n; i++) {
			struct util_item *it = &page.items[i];

			UTIL_OK(util_list_cb(&(struct oplog_entry){ .hash = it->hash, .seq = it->seq,
			        .wall = it->wall, .logic = it->logic,
			        .node = { (const uint8_t *)it->node, it->node_len } }, NULL, 0, out));
		}
		last = &out->items[out->n - 1];
		after.wall = last->wall;
		after.logic = last->logic;
		after.node.ptr = (const uint8_t *)last->node;
		after.node.len = last->node_len;
		after.hash = last->hash;
		first = 0;
		UTIL_CHECK(++pages <= 2 * TIE_N);
	}
	util_list_free(&page);
}

#define TIE_ORDERS 16

/*
 * Whatever order (and so whichever node ids and log ids) the tied entries
 * arrived in, a scan lists them by node name (bytewise, shorter first),
 * then hash, whole or paged after each position it emitted.
 */
START_TEST(test_scan__hlc_ties_by_name_then_hash_in_any_arrival_order)
{
	static const char *names = "z,a,a,aa,ab,b,b,0,a,";
	struct util_entry u[TIE_N];
	struct util_entry *order[TIE_N], *want[TIE_N];
	char got[64];
	size_t i, k;

	fill_ties(u);
	for (i = 0; i < TIE_N; i++)
		want[i] = &u[i];
	qsort(want, TIE_N, sizeof(want[0]), cmp_ptr);
	got[0] = '\0';
	for (i = 0; i < TIE_N; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%.*s,",
		         (int)want[i]->e.node.len, (const char *)want[i]->e.node.ptr);
	UTIL_STR_EQ(got, names);

	for (k = 0; k < TIE_ORDERS; k++) {
		struct util_list l = { 0 };
		static const uint64_t limits[] = { 1, 2, 4 };

		tie_order(u, k, order);
		apply_in_batches(order, TIE_N, k);
		UTIL_OK(oplog_store_scan(util_s, util_sl(UTIL_DS), NULL, 0, util_list_cb, &l));
		list_is(&l, want, TIE_N, "scan", k);
		util_list_free(&l);
		for (i = 0; i < UTIL_NELEM(limits); i++) {
			page_all(NULL, limits[i], &l);
			list_is(&l, want, TIE_N, "paged scan", k);
			util_list_free(&l);
		}
	}
	util_entries_free(u, TIE_N);
}
END_TEST

/* The same within one node: its entries tied on (wall, logic) are listed
 * by hash, whichever arrived first. */
START_TEST(test_scan_node__hlc_ties_by_hash_in_any_arrival_order)
{
	static const char *nodes[] = { "0", "a", "aa", "ab", "b", "z" };
	struct util_entry u[TIE_N];
	struct util_entry *order[TIE_N], *want[TIE_N], *mine[TIE_N];
	size_t i, j, k, n;

	fill_ties(u);
	for (i = 0; i < TIE_N; i++)
		want[i] = &u[i];
	qsort(want, TIE_N, sizeof(want[0]), cmp_ptr);
	for (k = 0; k < TIE_ORDERS; k++) {
		tie_order(u, k, order);
		apply_in_batches(order, TIE_N, k);
		for (j = 0; j < UTIL_NELEM(nodes); j++) {
			struct util_list l = { 0 };

			for (i = n = 0; i < TIE_N; i++)
				if (want[i]->e.node.len == strlen(nodes[j]) &&
				    memcmp(want[i]->e.node.ptr, nodes[j], strlen(nodes[j])) == 0)
					mine[n++] = want[i];
			UTIL_CHECK(n >= 1);
			UTIL_OK(oplog_store_scan_node(util_s, util_sl(UTIL_DS), util_sl(nodes[j]), NULL, 0,
			                              util_list_cb, &l));
			list_is(&l, mine, n, nodes[j], k);
			util_list_free(&l);
			page_all(nodes[j], 1, &l);
			list_is(&l, mine, n, nodes[j], k);
			util_list_free(&l);
		}
	}
	util_entries_free(u, TIE_N);
}
END_TEST

START_TEST(test_scan_node__one_node_in_hlc_order_with_after_and_limit)
{
	struct util_entry all[SCAN_N];
	struct util_entry *sorted[SCAN_N];
	struct util_list l = { 0 };
	struct oplog_hlc after;
	size_t i, k = 0;

	fill_scan(all);
	for (i = 0; i < SCAN_N; i++)
		sorted[i] = &all[i];
	UTIL_OK(util_apply(util_s, sorted, SCAN_N, NULL));
	qsort(sorted, SCAN_N, sizeof(sorted[0]), cmp_ptr);

	UTIL_OK(oplog_store_scan_node(util_s, util_sl(UTIL_DS), util_sl("a"), NULL, 0, util_list_cb, &l));
	UTIL_EQ(l.n, 21);
	for (i = 0; i < SCAN_N; i++) {
		if (sorted[i]->e.node.len != 1 || sorted[i]->e.node.ptr[0] != 'a')
			continue;
		UTIL_HASH_EQ(l.items[k].hash, sorted[i]->hash);
		k++;
	}
	UTIL_EQ(k, 21);
	after.wall = l.items[9].wall;
	after.logic = l.items[9].logic;
	after.node = util_sl("a");
	after.hash = l.items[9].hash;
	{
		struct util_list rest = { 0 };

		UTIL_OK(oplog_store_scan_node(util_s, util_sl(UTIL_DS), util_sl("a"), &after, 4,
		                              util_list_cb, &rest));
		UTIL_EQ(rest.n, 4);
		UTIL_HASH_EQ(rest.items[0].hash, l.items[10].hash);
		UTIL_HASH_EQ(rest.items[3].hash, l.items[13].hash);
		util_list_free(&rest);
	}
	util_list_free(&l);
	UTIL_OK(oplog_store_scan_node(util_s, util_sl(UTIL_DS), util_sl("zz"), NULL, 0, util_list_cb, &l));
	UTIL_EQ(l.n, 0);
	util_list_free(&l);
	util_entries_free(all, SCAN_N);
}
END_TEST

START_TEST(test_scan_seq__range_lists_forks_by_hash)
{
	struct util_entry c[5], f;
	struct util_list l = { 0 };

	UTIL_OK(util_chain_build(c, 5, UTIL_DS, "n", 1, NULL, 1000));
	util_mk(&f, UTIL_DS, "n", 3, 1031, 0, "k3", OPLOG_OP_PUT, "fork", c[1].hash);
	util_apply1(&f, NULL);
	UTIL_OK(util_apply_array(util_s, c, 5, NULL));
	UTIL_OK(oplog_store_scan_seq(util_s, util_sl(UTIL_DS), util_sl("n"), 2, 4, 0, util_list_cb, &l));
	UTIL_EQ(l.n, 4);
	UTIL_EQ(l.items[0].seq, 2);
	UTIL_EQ(l.items[1].seq, 3);
	UTIL_EQ(l.items[2].seq, 3);
	UTIL_EQ(l.items[3].seq, 4);
	UTIL_HASH_EQ(l.items[1].hash, util_hash_min(c[2].hash, f.hash));
	UTIL_HASH_EQ(l.items[2].hash, util_hash_max(c[2].hash, f.hash));
	util_list_free(&l);
	UTIL_OK(oplog_store_scan_seq(util_s, util_sl(UTIL_DS), util_sl("n"), 3, 5, 2, util_list_cb, &l));
	UTIL_EQ(l.n, 2);
	UTIL_EQ(l.items[0].seq, 3);
	UTIL_EQ(l.items[1].seq, 3);
	util_list_free(&l);
	util_entries_free(c, 5);
	util_entry_free(&f);
}
END_TEST

static int node_names_cb(const struct oplog_node_info *n, void *arg)
{
	return util_name_list_cb(n->node, arg);
}

/* Names sort bytewise, whatever order (and so ids) they arrived in. */
START_TEST(test_nodes__and_datasets_listed_by_name_not_arrival)
{
	static const char *arrival[4] = { "b", "ab", "a", "a\x01" };
	struct util_entry u[8];
	char names[256] = "";
	size_t i;

	for (i = 0; i < 4; i++) {
		util_mk(&u[i], "zeta", arrival[i], 1, 100, 0, "k", OPLOG_OP_PUT, "v", NULL);
		util_mk(&u[4 + i], i % 2 ? "alpha" : "mid", arrival[i], 1, 100, 0, "k", OPLOG_OP_PUT, "v", NULL);
	}
	for (i = 0; i < 8; i++)
		util_apply1(&u[i], NULL);
	UTIL_OK(oplog_store_nodes(util_s, util_sl("zeta"), node_names_cb, names));
	UTIL_STR_EQ(names, "a;a\x01;ab;b;");
	names[0] = '\0';
	UTIL_OK(oplog_store_datasets(util_s, util_name_list_cb, names));
	UTIL_STR_EQ(names, "alpha;mid;zeta;");
	names[0] = '\0';
	UTIL_OK(oplog_store_nodes(util_s, util_sl("alpha"), node_names_cb, names));
	UTIL_STR_EQ(names, "a\x01;ab;");
	util_entries_free(u, 8);
}
END_TEST

/* Scans stop at the end of their dataset and node: nothing bleeds over. */
START_TEST(test_scan__stays_inside_dataset_and_node)
{
	struct util_entry a[4], b[4], z[4];
	struct util_list l = { 0 };

	/* Ids in arrival order: dataset shop then shop-z; node a then b. */
	UTIL_OK(util_chain_build(a, 4, UTIL_DS, "a", 1, NULL, 1000));
	UTIL_OK(util_chain_build(b, 4, UTIL_DS, "b", 1, NULL, 1000));
	UTIL_OK(util_chain_build(z, 4, "shop-z", "a", 1, NULL, 1000));
	UTIL_OK(util_apply_array(util_s, a, 4, NULL));
	UTIL_OK(util_apply_array(util_s, b, 4, NULL));
	UTIL_OK(util_apply_array(util_s, z, 4, NULL));
	UTIL_OK(oplog_store_scan(util_s, util_sl(UTIL_DS), NULL, 0, util_list_cb, &l));
	UTIL_EQ(l.n, 8);
	util_list_free(&l);
	UTIL_OK(oplog_store_scan_node(util_s, util_sl(UTIL_DS), util_sl("a"), NULL, 0, util_list_cb, &l));
	UTIL_EQ(l.n, 4);
	util_list_free(&l);
	UTIL_OK(oplog_store_scan_node(util_s, util_sl(UTIL_DS), util_sl("b"), NULL, 0, util_list_cb, &l));
	UTIL_EQ(l.n, 4);
	util_list_free(&l);
	UTIL_OK(oplog_store_scan_seq(util_s, util_sl(UTIL_DS), util_sl("a"), 3, UINT64_MAX, 0,
	                             util_list_cb, &l));
	UTIL_EQ(l.n, 2);
	UTIL_STR_EQ(l.items[1].node, "a");
	util_list_free(&l);
	UTIL_OK(oplog_store_scan_seq(util_s, util_sl(UTIL_DS), util_sl("b"), 0, UINT64_MAX, 0,
	                             util_list_cb, &l));
	UTIL_EQ(l.n, 4);
	util_list_free(&l);
	UTIL_OK(oplog_store_scan(util_s, util_sl("nope"), NULL, 0, util_list_cb, &l));
	UTIL_EQ(l.n, 0);
	util_entries_free(a, 4);
	util_entries_free(b, 4);
	util_entries_free(z, 4);
}
END_TEST

static int stop_with_one(const struct oplog_entry *e, const void *msg, size_t len, void *arg)
{
	(void)e; (void)msg; (void)len;
	++*(int *)arg;
	return 1;
}

/* A callback's own non-zero value, 1 included, is what the scan returns. */
START_TEST(test_scan__returns_the_callbacks_stop_value)
{
	struct util_entry c[3];
	int calls = 0;

	UTIL_OK(util_chain_build(c, 3, UTIL_DS, "n", 1, NULL, 1000));
	UTIL_OK(util_apply_array(util_s, c, 3, NULL));
	UTIL_EQ(oplog_store_scan(util_s, util_sl(UTIL_DS), NULL, 0, stop_with_one, &calls), 1);
	UTIL_EQ(calls, 1);
	UTIL_EQ(oplog_store_scan_node(util_s, util_sl(UTIL_DS), util_sl("n"), NULL, 0,
	                              stop_with_one, &calls), 1);
	UTIL_EQ(oplog_store_scan_seq(util_s, util_sl(UTIL_DS), util_sl("n"), 1, 3, 0,
	                             stop_with_one, &calls), 1);
	UTIL_EQ(calls, 3);
	util_entries_free(c, 3);
}
END_TEST

START_TEST(test_scan__callback_stop_value_returned)
{
	struct util_entry c[5];
	int n = 0;

	UTIL_OK(util_chain_build(c, 5, UTIL_DS, "n", 1, NULL, 1000));
	UTIL_OK(util_apply_array(util_s, c, 5, NULL));
	UTIL_RC(oplog_store_scan(util_s, util_sl(UTIL_DS), NULL, 0, util_stop_cb, &n), 77);
	UTIL_EQ(n, 2);
	util_entries_free(c, 5);
}
END_TEST

/* ------------------------------------------------------------------ */

void store_scan_tcases(Suite *s)
{
	TCase *t;

	t = util_store_tcase(s, "scan", 10);
	tcase_add_test(t, test_scan__paging_gives_every_entry_once_in_hlc_order);
	tcase_add_test(t, test_scan__after_position_without_node_or_hash);
	tcase_add_test(t, test_scan__node_names_order_bytewise_shorter_first);
	tcase_add_test(t, test_scan__hlc_ties_by_name_then_hash_in_any_arrival_order);
	tcase_add_test(t, test_scan_node__hlc_ties_by_hash_in_any_arrival_order);
	tcase_add_test(t, test_scan_node__one_node_in_hlc_order_with_after_and_limit);
	tcase_add_test(t, test_scan_seq__range_lists_forks_by_hash);
	tcase_add_test(t, test_scan__returns_the_callbacks_stop_value);
	tcase_add_test(t, test_scan__callback_stop_value_returned);
	tcase_add_test(t, test_scan__stays_inside_dataset_and_node);
	tcase_add_test(t, test_nodes__and_datasets_listed_by_name_not_arrival);
}
