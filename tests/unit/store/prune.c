/*
 * prune.c: the store's suite, prune: what goes, what stays, the documents
 * of removed winners and entries arriving below the prune boundary.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "util_store.h"
#include "store/tcases.h"

/* ------------------------------------------------------------------ */
/* Prune                                                               */

static struct oplog_hlc hlc_of(const struct util_entry *u)
{
	struct oplog_hlc h;

	h.wall = u->e.wall;
	h.logic = u->e.logic;
	h.node = u->e.node;
	h.hash = u->hash;
	return h;
}

/*
 * Node "a": seq 1..6 at walls 1010..1060. Node "b": seq 1, 2, 4, 5 at
 * walls 1015..1055 (seq 3 missing). Cutoff exactly at a's seq 4.
 */
START_TEST(test_prune__only_at_or_before_cutoff_and_at_or_below_watermark)
{
	struct util_entry a[6], b[5];
	struct oplog_prune_stats ps;
	struct oplog_hlc cut;
	struct util_node na, nb, na0, nb0;
	struct util_list l = { 0 };
	struct util_doc d;
	uint64_t cnt = 0;
	size_t i;

	UTIL_OK(util_chain_build(a, 6, UTIL_DS, "a", 1, NULL, 1000));
	UTIL_OK(util_chain_build(b, 5, UTIL_DS, "b", 1, NULL, 1005));
	UTIL_OK(util_apply_array(util_s, a, 6, NULL));
	util_apply1(&b[0], NULL);
	util_apply1(&b[1], NULL);
	util_apply1(&b[3], NULL);
	util_apply1(&b[4], NULL);
	UTIL_OK(util_node_get(util_s, UTIL_DS, "a", &na0));
	UTIL_OK(util_node_get(util_s, UTIL_DS, "b", &nb0));
	UTIL_EQ(nb0.watermark, 2);
	UTIL_OK(util_doc_get(util_s, UTIL_DS, "c", "k1", &d));
	UTIL_HASH_EQ(d.hash, b[0].hash);

	cut = hlc_of(&a[3]);   /* wall 1040: a1..a4, b1..b3 are at or before */
	/* The dry-run count says what the prune below does, and changes nothing. */
	UTIL_OK(oplog_store_prune_count(util_s, util_sl(UTIL_DS), &cut, &ps));
	UTIL_EQ(ps.pruned, 6);
	UTIL_EQ(ps.kept_gap, 0);
	UTIL_EQ(ps.batches, 0);
	UTIL_EQ(util_stats().entries, 10);
	UTIL_OK(oplog_store_dataset_entries(util_s, util_sl(UTIL_DS), &cnt));
	UTIL_EQ(cnt, 10);
	memset(&ps, 0, sizeof(ps));
	UTIL_OK(oplog_store_prune(util_s, util_sl(UTIL_DS), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 6);     /* a1..a4, b1, b2 */
	UTIL_EQ(ps.kept_gap, 0);   /* b4 is at wall 1045: after the cutoff */
	UTIL_CHECK(ps.batches >= 1);
	UTIL_EQ(util_stats().entries, 4);

	UTIL_OK(oplog_store_scan(util_s, util_sl(UTIL_DS), NULL, 0, util_list_cb, &l));
	UTIL_EQ(l.n, 4);
	UTIL_CHECK(util_list_find(&l, a[4].hash) >= 0);
	UTIL_CHECK(util_list_find(&l, a[5].hash) >= 0);
	UTIL_CHECK(util_list_find(&l, b[3].hash) >= 0);
	UTIL_CHECK(util_list_find(&l, b[4].hash) >= 0);
	util_list_free(&l);

	UTIL_OK(util_node_get(util_s, UTIL_DS, "a", &na));
	UTIL_OK(util_node_get(util_s, UTIL_DS, "b", &nb));
	UTIL_EQ(na.pruned_through, 4);
	UTIL_EQ(nb.pruned_through, 2);
	UTIL_EQ(na.head_seq, na0.head_seq);
	UTIL_HASH_EQ(na.head_hash, na0.head_hash);
	UTIL_EQ(na.watermark, 6);
	UTIL_EQ(nb.head_seq, 5);
	UTIL_EQ(nb.watermark, 2);
	UTIL_EQ(nb.n_gaps, 1);

	/* Documents written by pruned entries stay. */
	UTIL_OK(util_doc_get(util_s, UTIL_DS, "c", "k1", &d));
	UTIL_HASH_EQ(d.hash, b[0].hash);
	UTIL_OK(util_doc_get(util_s, UTIL_DS, "c", "k3", &d));
	UTIL_HASH_EQ(d.hash, a[2].hash);
	UTIL_EQ(util_doc_total(UTIL_DS), 6);
	UTIL_CONSISTENT(util_s);

	/* A later cutoff past b's gap: b4, b5 are above the watermark, kept. */
	cut = hlc_of(&a[5]);
	UTIL_OK(oplog_store_dataset_entries(util_s, util_sl(UTIL_DS), &cnt));
	UTIL_EQ(cnt, 4);
	UTIL_OK(oplog_store_prune_count(util_s, util_sl(UTIL_DS), &cut, &ps));
	UTIL_EQ(ps.pruned, 2);
	UTIL_EQ(ps.kept_gap, 2);
	UTIL_OK(oplog_store_prune_count(util_s, util_sl("absent"), &cut, &ps));
	UTIL_EQ(ps.pruned + ps.kept_gap, 0);
	memset(&ps, 0, sizeof(ps));
	UTIL_OK(oplog_store_prune(util_s, util_sl(UTIL_DS), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 2);
	UTIL_EQ(ps.kept_gap, 2);
	UTIL_EQ(util_stats().entries, 2);
	UTIL_OK(util_node_get(util_s, UTIL_DS, "b", &nb));
	UTIL_EQ(nb.pruned_through, 2);
	UTIL_EQ(nb.watermark, 2);
	{
		char gaps[64];

		util_gaps_str(&nb, gaps, sizeof(gaps));
		UTIL_STR_EQ(gaps, "[3,3]");
	}
	UTIL_OK(util_node_get(util_s, UTIL_DS, "a", &na));
	UTIL_EQ(na.pruned_through, 6);
	UTIL_EQ(na.head_seq, 6);
	UTIL_EQ(na.watermark, 6);
	UTIL_CONSISTENT(util_s);
	for (i = 0; i < 6; i++)
		util_entry_free(&a[i]);
	util_entries_free(b, 5);
}
END_TEST

START_TEST(test_prune__works_in_batches)
{
	struct util_entry c[10];
	struct oplog_prune_stats ps;
	struct oplog_hlc cut;
	struct util_node n0, n;

	UTIL_OK(util_chain_build(c, 10, UTIL_DS, "n", 1, NULL, 1000));
	UTIL_OK(util_apply_array(util_s, c, 10, NULL));
	UTIL_OK(util_node_get(util_s, UTIL_DS, "n", &n0));
	cut = hlc_of(&c[9]);
	memset(&ps, 0, sizeof(ps));
	UTIL_OK(oplog_store_prune(util_s, util_sl(UTIL_DS), &cut, 3, &ps));
	UTIL_EQ(ps.pruned, 10);
	UTIL_CHECK(ps.batches >= 4);
	UTIL_EQ(ps.kept_gap, 0);
	UTIL_EQ(util_stats().entries, 0);
	UTIL_OK(util_node_get(util_s, UTIL_DS, "n", &n));
	UTIL_EQ(n.pruned_through, 10);
	UTIL_EQ(n.head_seq, 10);
	UTIL_HASH_EQ(n.head_hash, n0.head_hash);
	UTIL_EQ(n.watermark, 10);
	UTIL_EQ(util_doc_total(UTIL_DS), 10);

	/* Nothing left to prune: a second run removes nothing. */
	memset(&ps, 0, sizeof(ps));
	UTIL_OK(oplog_store_prune(util_s, util_sl(UTIL_DS), &cut, 3, &ps));
	UTIL_EQ(ps.pruned, 0);
	UTIL_CONSISTENT(util_s);
	util_entries_free(c, 10);
}
END_TEST

START_TEST(test_prune__backward_walk_ends_pruned)
{
	struct util_entry c[6];
	struct oplog_prune_stats ps;
	struct oplog_hlc cut;
	char got[256];

	UTIL_OK(util_chain_build(c, 6, UTIL_DS, "n", 1, NULL, 1000));
	UTIL_OK(util_apply_array(util_s, c, 6, NULL));
	cut = hlc_of(&c[3]);
	UTIL_OK(oplog_store_prune(util_s, util_sl(UTIL_DS), &cut, 0, &ps));
	util_walk("n", NULL, 0, 0, got, sizeof(got));
	UTIL_STR_EQ(got, "6,5,pruned");
	util_walk("n", c[4].hash, 1, 0, got, sizeof(got));
	UTIL_STR_EQ(got, "5,6,head");
	util_entries_free(c, 6);
}
END_TEST

/*
 * The cutoff is an HLC position: an empty node is before every node at its
 * (wall, logic), and an exact position excludes the greater nodes there.
 */
START_TEST(test_prune__cutoff_includes_its_whole_instant)
{
	struct util_entry a[3], b[3];
	struct oplog_prune_stats ps;
	struct oplog_hlc cut;
	struct util_node n;

	/* a and b write at the same instants: (1010, 0), (1020, 0), (1030, 0). */
	UTIL_OK(util_chain_build(a, 3, UTIL_DS, "a", 1, NULL, 1000));
	UTIL_OK(util_chain_build(b, 3, UTIL_DS, "b", 1, NULL, 1000));
	UTIL_OK(util_apply_array(util_s, a, 3, NULL));
	UTIL_OK(util_apply_array(util_s, b, 3, NULL));

	/* (1019, UINT32_MAX) is before a2 and b2. */
	memset(&cut, 0, sizeof(cut));
	cut.wall = 1019;
	cut.logic = UINT32_MAX;
	UTIL_OK(oplog_store_prune(util_s, util_sl(UTIL_DS), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 2);
	UTIL_OK(util_node_get(util_s, UTIL_DS, "a", &n));
	UTIL_EQ(n.pruned_through, 1);
	UTIL_OK(util_node_get(util_s, UTIL_DS, "b", &n));
	UTIL_EQ(n.pruned_through, 1);

	/* The cutoff is a (wall, logic) instant: node and hash are ignored,
	 * so a2's own position takes b2, at the same instant, with it. */
	cut = hlc_of(&a[1]);
	UTIL_OK(oplog_store_prune(util_s, util_sl(UTIL_DS), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 2);
	UTIL_OK(util_node_get(util_s, UTIL_DS, "a", &n));
	UTIL_EQ(n.pruned_through, 2);
	UTIL_OK(util_node_get(util_s, UTIL_DS, "b", &n));
	UTIL_EQ(n.pruned_through, 2);
	UTIL_EQ(util_stats().entries, 2);
	UTIL_CONSISTENT(util_s);
	util_entries_free(a, 3);
	util_entries_free(b, 3);
}
END_TEST

/* seq 1 forked (A early, B late); C chains to A. A cutoff between A and
 * B prunes only A: C's link to a pruned entry is history, not a break. */
START_TEST(test_prune__partly_pruned_fork_is_not_a_break)
{
	struct util_entry a, b, c;
	struct oplog_prune_stats ps;
	struct oplog_hlc cut;

	util_mk(&a, UTIL_DS, "n", 1, 10, 0, "k1", OPLOG_OP_PUT, "a", NULL);
	util_mk(&b, UTIL_DS, "n", 1, 100, 0, "k2", OPLOG_OP_PUT, "b", NULL);
	util_mk(&c, UTIL_DS, "n", 2, 200, 0, "k3", OPLOG_OP_PUT, "c", a.hash);
	util_apply1(&a, NULL);
	util_apply1(&b, NULL);
	util_apply1(&c, NULL);
	memset(&cut, 0, sizeof(cut));
	cut.wall = 50;
	UTIL_OK(oplog_store_prune(util_s, util_sl(UTIL_DS), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 1);
	UTIL_CONSISTENT(util_s);
	util_entry_free(&a);
	util_entry_free(&b);
	util_entry_free(&c);
}
END_TEST

/* Entries kept above a gap count toward the batch bound, so one write
 * transaction never examines more than `batch` entries. */
START_TEST(test_prune__kept_entries_count_toward_batch)
{
	struct util_entry c[12];
	struct oplog_prune_stats ps;
	struct oplog_hlc cut;

	UTIL_OK(util_chain_build(c, 12, UTIL_DS, "n", 1, NULL, 1000));
	/* seq 1 and 2, then a gap at 3, then 4..12: watermark 2. */
	UTIL_OK(util_apply_array(util_s, c, 2, NULL));
	UTIL_OK(util_apply_array(util_s, c + 3, 9, NULL));
	memset(&cut, 0, sizeof(cut));
	cut.wall = UINT64_MAX >> 1;
	UTIL_OK(oplog_store_prune(util_s, util_sl(UTIL_DS), &cut, 3, &ps));
	UTIL_EQ(ps.pruned, 2);
	UTIL_EQ(ps.kept_gap, 9);
	UTIL_CHECK(ps.batches >= 4);   /* 11 examined, at most 3 per txn */
	UTIL_EQ(util_stats().entries, 9);
	UTIL_CONSISTENT(util_s);
	util_entries_free(c, 12);
}
END_TEST

START_TEST(test_prune__other_dataset_untouched)
{
	struct util_entry a[4], b[4];
	struct oplog_prune_stats ps;
	struct oplog_hlc cut;
	struct util_node n;

	UTIL_OK(util_chain_build(a, 4, "d1", "n", 1, NULL, 1000));
	UTIL_OK(util_chain_build(b, 4, "d2", "n", 1, NULL, 1000));
	UTIL_OK(util_apply_array(util_s, a, 4, NULL));
	UTIL_OK(util_apply_array(util_s, b, 4, NULL));
	cut = hlc_of(&a[3]);
	UTIL_OK(oplog_store_prune(util_s, util_sl("d1"), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 4);
	UTIL_EQ(util_stats().entries, 4);
	UTIL_OK(util_node_get(util_s, "d2", "n", &n));
	UTIL_EQ(n.pruned_through, 0);
	UTIL_OK(util_node_get(util_s, "d1", "n", &n));
	UTIL_EQ(n.pruned_through, 4);
	UTIL_CONSISTENT(util_s);
	util_entries_free(a, 4);
	util_entries_free(b, 4);
}
END_TEST

/* The node's clock went back: seq 3 is before seq 2 in HLC order. */
START_TEST(test_prune__clock_going_back_keeps_store_consistent)
{
	struct util_entry e1, e2, e3, e4;
	struct oplog_prune_stats ps;
	struct oplog_hlc cut;
	struct util_node n;
	struct util_list l = { 0 };

	util_mk(&e1, UTIL_DS, "n", 1, 100, 0, "k1", OPLOG_OP_PUT, "1", NULL);
	util_mk(&e2, UTIL_DS, "n", 2, 300, 0, "k2", OPLOG_OP_PUT, "2", e1.hash);
	util_mk(&e3, UTIL_DS, "n", 3, 200, 0, "k3", OPLOG_OP_PUT, "3", e2.hash);
	util_mk(&e4, UTIL_DS, "n", 4, 400, 0, "k4", OPLOG_OP_PUT, "4", e3.hash);
	util_apply1(&e1, NULL);
	util_apply1(&e2, NULL);
	util_apply1(&e3, NULL);
	util_apply1(&e4, NULL);
	cut = hlc_of(&e3);   /* e1 and e3 are at or before it; e2 is not */
	UTIL_OK(oplog_store_prune(util_s, util_sl(UTIL_DS), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 2);
	UTIL_OK(util_node_get(util_s, UTIL_DS, "n", &n));
	UTIL_EQ(n.pruned_through, 3);
	UTIL_EQ(n.watermark, 4);
	UTIL_OK(oplog_store_scan(util_s, util_sl(UTIL_DS), NULL, 0, util_list_cb, &l));
	UTIL_EQ(l.n, 2);
	UTIL_CHECK(util_list_find(&l, e2.hash) >= 0);
	util_list_free(&l);
	UTIL_CONSISTENT(util_s);
	/* Re-applying e2, still present, is a duplicate, not below boundary. */
	{
		struct oplog_apply_stats st;

		util_apply1(&e2, &st);
		UTIL_EQ(st.duplicates, 1);
		UTIL_EQ(st.below_boundary, 0);
	}
	cut = hlc_of(&e4);
	UTIL_OK(oplog_store_prune(util_s, util_sl(UTIL_DS), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 2);
	UTIL_EQ(util_stats().entries, 0);
	UTIL_CONSISTENT(util_s);
	util_entry_free(&e1);
	util_entry_free(&e2);
	util_entry_free(&e3);
	util_entry_free(&e4);
}
END_TEST

/* After a full prune the node goes on: no false break against pruned seqs. */
START_TEST(test_prune__node_continues_after_full_prune)
{
	struct util_entry c[6];
	struct oplog_prune_stats ps;
	struct oplog_apply_stats st;
	struct oplog_hlc cut;
	struct util_node n;
	struct util_break br[4];
	size_t nb = 0;
	char gaps[64], got[128];

	UTIL_OK(util_chain_build(c, 6, UTIL_DS, "n", 1, NULL, 1000));
	UTIL_OK(util_apply_array(util_s, c, 3, NULL));
	cut = hlc_of(&c[2]);
	UTIL_OK(oplog_store_prune(util_s, util_sl(UTIL_DS), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 3);
	util_apply1(&c[4], &st);
	UTIL_EQ(st.applied, 1);
	UTIL_OK(util_node_get(util_s, UTIL_DS, "n", &n));
	util_gaps_str(&n, gaps, sizeof(gaps));
	UTIL_EQ(n.watermark, 3);
	UTIL_EQ(n.head_seq, 5);
	UTIL_STR_EQ(gaps, "[4,4]");
	util_apply1(&c[3], &st);
	UTIL_EQ(st.chain_breaks, 0);
	UTIL_OK(util_node_get(util_s, UTIL_DS, "n", &n));
	UTIL_EQ(n.watermark, 5);
	UTIL_EQ(n.n_gaps, 0);
	util_apply1(&c[5], NULL);
	UTIL_OK(util_breaks(util_s, UTIL_DS, br, 4, &nb));
	UTIL_EQ(nb, 0);
	util_walk("n", NULL, 0, 0, got, sizeof(got));
	UTIL_STR_EQ(got, "6,5,4,pruned");
	UTIL_CONSISTENT(util_s);
	util_entries_free(c, 6);
}
END_TEST

START_TEST(test_prune__forks_stay_listed)
{
	struct util_entry c[4], f;
	struct oplog_prune_stats ps;
	struct oplog_hlc cut;
	struct util_fork forks[2];
	size_t nf = 0;

	UTIL_OK(util_chain_build(c, 4, UTIL_DS, "n", 1, NULL, 1000));
	util_mk(&f, UTIL_DS, "n", 2, 1021, 0, "k2", OPLOG_OP_PUT, "fork", c[0].hash);
	UTIL_OK(util_apply_array(util_s, c, 4, NULL));
	util_apply1(&f, NULL);
	cut = hlc_of(&c[2]);
	UTIL_OK(oplog_store_prune(util_s, util_sl(UTIL_DS), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 4);
	UTIL_OK(util_forks(util_s, UTIL_DS, forks, 2, &nf));
	UTIL_EQ(nf, 1);
	UTIL_EQ(forks[0].seq, 2);
	UTIL_EQ(forks[0].n, 2);
	UTIL_HASH_EQ(forks[0].hashes[0], util_hash_min(c[1].hash, f.hash));
	UTIL_CONSISTENT(util_s);
	util_entries_free(c, 4);
	util_entry_free(&f);
}
END_TEST

/* The rendering equals `want`. */
static void render_is(const char *want, const char *when)
{
	char *got = util_store_render(util_s);

	UTIL_CHECK(got != NULL);
	ck_assert_msg(strcmp(want, got) == 0, "%s changed the state: %s", when,
	              util_first_diff(want, got));
	free(got);
}

/* Forward into a pruned seq ends "pruned", as backward does. */
START_TEST(test_chain__forward_walk_into_a_pruned_seq_ends_pruned)
{
	struct util_entry e1, e2, e3, e4;
	struct oplog_prune_stats ps;
	struct oplog_hlc cut;
	char got[128];

	util_mk(&e1, UTIL_DS, "n", 1, 100, 0, "k1", OPLOG_OP_PUT, "1", NULL);
	util_mk(&e2, UTIL_DS, "n", 2, 300, 0, "k2", OPLOG_OP_PUT, "2", e1.hash);
	util_mk(&e3, UTIL_DS, "n", 3, 200, 0, "k3", OPLOG_OP_PUT, "3", e2.hash);
	util_mk(&e4, UTIL_DS, "n", 4, 400, 0, "k4", OPLOG_OP_PUT, "4", e3.hash);
	UTIL_OK(util_apply(util_s, (struct util_entry *[]){ &e1, &e2, &e3, &e4 }, 4, NULL));
	cut = hlc_of(&e3);
	UTIL_OK(oplog_store_prune(util_s, util_sl(UTIL_DS), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 2);
	util_walk("n", e4.hash, 0, 0, got, sizeof(got));
	UTIL_STR_EQ(got, "4,pruned");
	util_walk("n", e2.hash, 1, 0, got, sizeof(got));
	UTIL_STR_EQ(got, "2,pruned");
	util_entry_free(&e1);
	util_entry_free(&e2);
	util_entry_free(&e3);
	util_entry_free(&e4);
}
END_TEST

/*
 * A prune that removes nothing changes no answer: a cutoff before every
 * entry, one where every entry at or before it is above a gap, an unknown
 * dataset; and neither does a reopen after them.
 */
START_TEST(test_prune__of_nothing_changes_no_answer)
{
	struct util_entry g[3];
	struct oplog_prune_stats ps;
	struct oplog_hlc cut;
	char *before;

	util_fill_rich();
	/* Dataset "gappy": node g has seq 2 and 3 only. */
	UTIL_OK(util_chain_build(g, 3, "gappy", "g", 1, NULL, 1000));
	UTIL_OK(util_apply_array(util_s, g + 1, 2, NULL));
	before = util_store_render(util_s);
	UTIL_CHECK(before != NULL);

	memset(&cut, 0, sizeof(cut));
	cut.wall = 1009;          /* before a1 (1010) and b1 (1013) */
	UTIL_OK(oplog_store_prune(util_s, util_sl(UTIL_DS), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 0);
	UTIL_EQ(ps.kept_gap, 0);
	render_is(before, "a prune before every entry");
	cut.wall = 0;
	UTIL_OK(oplog_store_prune(util_s, util_sl("other"), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 0);
	render_is(before, "a prune at wall 0");

	cut.wall = UINT64_MAX >> 1;
	cut.logic = UINT32_MAX;
	UTIL_OK(oplog_store_prune(util_s, util_sl("gappy"), &cut, 1, &ps));
	UTIL_EQ(ps.pruned, 0);
	UTIL_EQ(ps.kept_gap, 2);
	render_is(before, "a prune of entries above a gap only");
	UTIL_OK(oplog_store_prune(util_s, util_sl("nope"), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 0);
	UTIL_EQ(ps.batches, 0);
	render_is(before, "a prune of an unknown dataset");
	UTIL_CONSISTENT(util_s);

	util_reopen();
	render_is(before, "a reopen after prunes of nothing");
	UTIL_CONSISTENT(util_s);
	free(before);
	util_entries_free(g, 3);
}
END_TEST

/*
 * The log id a document's record holds (docs/STORE.md: the 20-byte record
 * starts with it; 0 = the winner is inline, with a zero u64 at byte 65),
 * read from the closed store of dataset id 1.
 */
static uint64_t doc_log_id(const char *key)
{
	uint8_t k[UTIL_DOC_KEY_LEN], v[1024];
	size_t vlen = 0;
	uint64_t id = 0;
	int i;

	oplog_store_close(util_s);
	util_s = NULL;
	UTIL_EQ(util_doc_key(1, "c", key, k), 0);
	UTIL_EQ(util_lmdb_get(util_dir, "docs", k, sizeof(k), v, sizeof(v), &vlen), 0);
	UTIL_CHECK(vlen == 20 || vlen >= 73);
	for (i = 0; i < 8; i++)
		id = id << 8 | v[(vlen == 20 ? 0 : 65) + i];
	util_reopen();
	return id;
}

/* The document (c, key) is u's write, data and all. */
static void doc_is(const char *key, const struct util_entry *u)
{
	struct util_doc d;

	UTIL_OK(util_doc_get(util_s, UTIL_DS, "c", key, &d));
	UTIL_HASH_EQ(d.hash, u->hash);
	UTIL_EQ(d.op, u->e.op);
	UTIL_EQ(d.seq, u->e.seq);
	UTIL_EQ(d.wall, u->e.wall);
	UTIL_EQ(d.logic, u->e.logic);
	UTIL_CHECK(strlen(d.node) == u->e.node.len &&
	           memcmp(d.node, u->e.node.ptr, u->e.node.len) == 0);
	if (u->e.op == OPLOG_OP_DEL) {
		UTIL_CHECK(d.data_null);
		UTIL_EQ(d.data_len, 0);
	} else {
		UTIL_CHECK(!d.data_null);
		UTIL_EQ(d.data_len, u->e.data.len);
		UTIL_CHECK(memcmp(d.data, u->e.data.ptr, u->e.data.len) == 0);
	}
}

/*
 * A document points at its winner's log record until prune removes the
 * winner; then it holds the winner's data itself, and stays what it was.
 * A document whose winner is kept goes on pointing into the log.
 */
START_TEST(test_prune__removed_winner_keeps_its_document)
{
	struct util_entry n1, n2, n3, n4;
	struct oplog_prune_stats ps;
	struct oplog_hlc cut;
	char *before, *after;

	util_mk(&n1, UTIL_DS, "n", 1, 100, 0, "doc", OPLOG_OP_PUT, "v1", NULL);
	util_mk(&n2, UTIL_DS, "n", 2, 200, 3, "doc", OPLOG_OP_PUT, "v2: the winner's body", n1.hash);
	util_mk(&n3, UTIL_DS, "n", 3, 300, 0, "keep", OPLOG_OP_PUT, "v3", n2.hash);
	util_mk(&n4, UTIL_DS, "n", 4, 400, 0, "gone", OPLOG_OP_DEL, NULL, n3.hash);
	util_apply1(&n1, NULL);
	util_apply1(&n2, NULL);
	util_apply1(&n3, NULL);
	util_apply1(&n4, NULL);
	UTIL_EQ(doc_log_id("doc"), 2);
	UTIL_EQ(doc_log_id("keep"), 3);
	UTIL_EQ(doc_log_id("gone"), 4);
	doc_is("doc", &n2);

	memset(&cut, 0, sizeof(cut));
	cut.wall = 250;
	UTIL_OK(oplog_store_prune(util_s, util_sl(UTIL_DS), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 2);
	doc_is("doc", &n2);
	doc_is("keep", &n3);
	UTIL_EQ(doc_log_id("doc"), 0);
	UTIL_EQ(doc_log_id("keep"), 3);
	UTIL_CONSISTENT(util_s);

	/* A tombstone's winner pruned: still a tombstone, with no data. */
	cut.wall = 400;
	UTIL_OK(oplog_store_prune(util_s, util_sl(UTIL_DS), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 2);
	UTIL_EQ(util_stats().entries, 0);
	doc_is("gone", &n4);
	doc_is("keep", &n3);
	UTIL_EQ(doc_log_id("gone"), 0);
	UTIL_EQ(doc_log_id("keep"), 0);
	UTIL_CONSISTENT(util_s);

	/* Nothing of it depends on the handle: a reopen reads the same. */
	before = util_store_render(util_s);
	util_reopen();
	after = util_store_render(util_s);
	UTIL_CHECK(before && after);
	ck_assert_msg(strcmp(before, after) == 0, "reopen changed the state: %s",
	              util_first_diff(before, after));
	free(before);
	free(after);
	util_entry_free(&n1);
	util_entry_free(&n2);
	util_entry_free(&n3);
	util_entry_free(&n4);
}
END_TEST

/*
 * After its winner was pruned, a document is still replaced by what is
 * later in HLC order, below the prune boundary (data kept in the record)
 * or not (a pointer again), and not by what is earlier.
 */
START_TEST(test_prune__document_of_removed_winner_still_replaced_by_later_writes)
{
	struct util_entry n1, n2, n3, early, late, n4, n5;
	struct oplog_apply_stats st;
	struct oplog_prune_stats ps;
	struct oplog_hlc cut;

	util_mk(&n1, UTIL_DS, "n", 1, 100, 0, "doc", OPLOG_OP_PUT, "v1", NULL);
	util_mk(&n2, UTIL_DS, "n", 2, 200, 0, "doc", OPLOG_OP_PUT, "v2", n1.hash);
	util_mk(&n3, UTIL_DS, "n", 3, 300, 0, "other", OPLOG_OP_PUT, "v3", n2.hash);
	UTIL_OK(util_apply(util_s, (struct util_entry *[]){ &n1, &n2, &n3 }, 3, NULL));
	memset(&cut, 0, sizeof(cut));
	cut.wall = 250;
	UTIL_OK(oplog_store_prune(util_s, util_sl(UTIL_DS), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 2);
	UTIL_EQ(doc_log_id("doc"), 0);

	/* Below the boundary and earlier than n2: nothing changes. */
	util_mk(&early, UTIL_DS, "n", 2, 150, 0, "doc", OPLOG_OP_PUT, "early", n1.hash);
	util_apply1(&early, &st);
	UTIL_EQ(st.below_boundary, 1);
	doc_is("doc", &n2);
	UTIL_EQ(doc_log_id("doc"), 0);

	/* Below the boundary and later than n2: the new winner, inline. */
	util_mk(&late, UTIL_DS, "n", 1, 260, 0, "doc", OPLOG_OP_PUT, "late, below the boundary", NULL);
	util_apply1(&late, &st);
	UTIL_EQ(st.below_boundary, 1);
	doc_is("doc", &late);
	UTIL_EQ(doc_log_id("doc"), 0);
	UTIL_CONSISTENT(util_s);

	/* In the oplog and later: a pointer into the log again. */
	util_mk(&n4, UTIL_DS, "n", 4, 400, 0, "doc", OPLOG_OP_PUT, "v4", n3.hash);
	util_apply1(&n4, &st);
	UTIL_EQ(st.applied, 1);
	doc_is("doc", &n4);
	UTIL_EQ(doc_log_id("doc"), 4);
	UTIL_CONSISTENT(util_s);

	/* And a tombstone over it, itself pruned, then a later put. */
	util_mk(&n5, UTIL_DS, "n", 5, 500, 0, "doc", OPLOG_OP_DEL, NULL, n4.hash);
	util_apply1(&n5, NULL);
	cut.wall = 500;
	UTIL_OK(oplog_store_prune(util_s, util_sl(UTIL_DS), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 3);
	doc_is("doc", &n5);
	UTIL_EQ(doc_log_id("doc"), 0);
	util_apply1(&late, &st);                 /* older than the tombstone */
	UTIL_EQ(st.below_boundary, 1);
	doc_is("doc", &n5);
	UTIL_CONSISTENT(util_s);
	util_entry_free(&n1);
	util_entry_free(&n2);
	util_entry_free(&n3);
	util_entry_free(&early);
	util_entry_free(&late);
	util_entry_free(&n4);
	util_entry_free(&n5);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Below the prune boundary                                            */

START_TEST(test_below_boundary__pruned_entry_not_readded)
{
	struct util_entry c[5];
	struct oplog_prune_stats ps;
	struct oplog_apply_stats st;
	struct oplog_hlc cut;
	struct util_list l = { 0 };
	struct oplog_stats s0, s1;

	UTIL_OK(util_chain_build(c, 5, UTIL_DS, "n", 1, NULL, 1000));
	UTIL_OK(util_apply_array(util_s, c, 5, NULL));
	cut = hlc_of(&c[2]);
	UTIL_OK(oplog_store_prune(util_s, util_sl(UTIL_DS), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 3);
	s0 = util_stats();
	util_apply1(&c[1], &st);
	UTIL_EQ(st.below_boundary, 1);
	UTIL_EQ(st.applied, 0);
	UTIL_EQ(st.duplicates, 0);
	s1 = util_stats();
	UTIL_EQ(s1.entries, s0.entries);
	UTIL_EQ(s1.below_boundary, s0.below_boundary + 1);
	UTIL_RC(oplog_store_get(util_s, util_sl(UTIL_DS), c[1].hash, util_list_cb, &l), OPLOG_ENOTFOUND);
	/* A present entry is still a plain duplicate. */
	util_apply1(&c[4], &st);
	UTIL_EQ(st.duplicates, 1);
	UTIL_EQ(st.below_boundary, 0);
	UTIL_CONSISTENT(util_s);
	util_list_free(&l);
	util_entries_free(c, 5);
}
END_TEST

START_TEST(test_below_boundary__still_reaches_documents)
{
	struct util_entry c[4], other, late;
	struct oplog_prune_stats ps;
	struct oplog_apply_stats st;
	struct oplog_hlc cut;
	struct util_node n0, n;
	struct util_doc d;
	struct util_fork forks[2];
	size_t nf = 0;

	UTIL_OK(util_chain_build(c, 4, UTIL_DS, "n", 1, NULL, 1000));
	util_mk(&other, UTIL_DS, "m", 1, 5000, 0, "k2", OPLOG_OP_PUT, "m-wins", NULL);
	UTIL_OK(util_apply_array(util_s, c, 4, NULL));
	util_apply1(&other, NULL);
	cut = hlc_of(&c[3]);
	UTIL_OK(oplog_store_prune(util_s, util_sl(UTIL_DS), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 4);
	UTIL_OK(util_node_get(util_s, UTIL_DS, "n", &n0));
	UTIL_EQ(n0.pruned_through, 4);

	/* A sibling at seq 2 of n, newer than m's winner of k2. */
	util_mk(&late, UTIL_DS, "n", 2, 6000, 0, "k2", OPLOG_OP_PUT, "n-late", c[0].hash);
	util_apply1(&late, &st);
	UTIL_EQ(st.below_boundary, 1);
	UTIL_EQ(st.applied, 0);
	UTIL_EQ(st.forks, 0);
	UTIL_OK(util_doc_get(util_s, UTIL_DS, "c", "k2", &d));
	UTIL_STR_EQ(d.data, "n-late");
	UTIL_HASH_EQ(d.hash, late.hash);
	UTIL_EQ(d.seq, 2);
	UTIL_EQ(util_stats().entries, 1);
	/* Only the document moved: not the head, not forks. */
	UTIL_OK(util_node_get(util_s, UTIL_DS, "n", &n));
	UTIL_EQ(n.head_seq, n0.head_seq);
	UTIL_HASH_EQ(n.head_hash, n0.head_hash);
	UTIL_EQ(n.watermark, n0.watermark);
	UTIL_OK(util_forks(util_s, UTIL_DS, forks, 2, &nf));
	UTIL_EQ(nf, 0);
	UTIL_CONSISTENT(util_s);
	util_entries_free(c, 4);
	util_entry_free(&other);
	util_entry_free(&late);
}
END_TEST

/* ------------------------------------------------------------------ */

void store_prune_tcases(Suite *s)
{
	TCase *t;

	t = util_store_tcase(s, "prune", 10);
	tcase_add_test(t, test_prune__only_at_or_before_cutoff_and_at_or_below_watermark);
	tcase_add_test(t, test_prune__works_in_batches);
	tcase_add_test(t, test_prune__backward_walk_ends_pruned);
	tcase_add_test(t, test_prune__cutoff_includes_its_whole_instant);
	tcase_add_test(t, test_prune__other_dataset_untouched);
	tcase_add_test(t, test_prune__clock_going_back_keeps_store_consistent);
	tcase_add_test(t, test_prune__node_continues_after_full_prune);
	tcase_add_test(t, test_prune__forks_stay_listed);
	tcase_add_test(t, test_prune__partly_pruned_fork_is_not_a_break);
	tcase_add_test(t, test_prune__kept_entries_count_toward_batch);
	tcase_add_test(t, test_prune__of_nothing_changes_no_answer);
	tcase_add_test(t, test_chain__forward_walk_into_a_pruned_seq_ends_pruned);

	t = util_store_tcase(s, "prune_documents", 10);
	tcase_add_test(t, test_prune__removed_winner_keeps_its_document);
	tcase_add_test(t, test_prune__document_of_removed_winner_still_replaced_by_later_writes);

	t = util_store_tcase(s, "below_boundary", 10);
	tcase_add_test(t, test_below_boundary__pruned_entry_not_readded);
	tcase_add_test(t, test_below_boundary__still_reaches_documents);
}
