/*
 * chain.c: the store's suite, the chain of a node: watermarks and gaps,
 * forks, chain breaks and chain walks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "util_store.h"
#include "store/tcases.h"

/* ------------------------------------------------------------------ */
/* Watermarks and gaps                                                 */

START_TEST(test_watermark__advances_through_gap_once_filled)
{
	struct util_entry c[9];
	struct util_node n;
	char gaps[256];
	size_t i;
	static const int first[] = { 1, 2, 5, 6, 9 };

	UTIL_OK(util_chain_build(c, 9, UTIL_DS, "n", 1, NULL, 1000));
	for (i = 0; i < UTIL_NELEM(first); i++)
		util_apply1(&c[first[i] - 1], NULL);
	UTIL_OK(util_node_get(util_s, UTIL_DS, "n", &n));
	util_gaps_str(&n, gaps, sizeof(gaps));
	UTIL_EQ(n.watermark, 2);
	UTIL_EQ(n.head_seq, 9);
	UTIL_STR_EQ(gaps, "[3,4][7,8]");

	util_apply1(&c[3], NULL);
	UTIL_OK(util_node_get(util_s, UTIL_DS, "n", &n));
	UTIL_EQ(n.watermark, 2);
	util_apply1(&c[2], NULL);
	UTIL_OK(util_node_get(util_s, UTIL_DS, "n", &n));
	util_gaps_str(&n, gaps, sizeof(gaps));
	UTIL_EQ(n.watermark, 6);
	UTIL_STR_EQ(gaps, "[7,8]");

	UTIL_OK(util_apply_array(util_s, &c[6], 2, NULL));
	UTIL_OK(util_node_get(util_s, UTIL_DS, "n", &n));
	UTIL_EQ(n.watermark, 9);
	UTIL_EQ(n.n_gaps, 0);
	UTIL_CONSISTENT(util_s);
	util_entries_free(c, 9);
}
END_TEST

START_TEST(test_watermark__zero_until_seq1_arrives)
{
	struct util_entry c[3];
	struct util_node n;
	char gaps[64];

	UTIL_OK(util_chain_build(c, 3, UTIL_DS, "n", 1, NULL, 1000));
	UTIL_OK(util_apply_array(util_s, &c[1], 2, NULL));
	UTIL_OK(util_node_get(util_s, UTIL_DS, "n", &n));
	util_gaps_str(&n, gaps, sizeof(gaps));
	UTIL_EQ(n.watermark, 0);
	UTIL_STR_EQ(gaps, "[1,1]");
	util_apply1(&c[0], NULL);
	UTIL_OK(util_node_get(util_s, UTIL_DS, "n", &n));
	UTIL_EQ(n.watermark, 3);
	UTIL_EQ(n.n_gaps, 0);
	util_entries_free(c, 3);
}
END_TEST

START_TEST(test_watermark__out_of_order_within_one_batch)
{
	struct util_entry c[4];
	struct util_entry *order[4];
	struct util_node n;

	UTIL_OK(util_chain_build(c, 4, UTIL_DS, "n", 1, NULL, 1000));
	order[0] = &c[3]; order[1] = &c[1]; order[2] = &c[0]; order[3] = &c[2];
	UTIL_OK(util_apply(util_s, order, 4, NULL));
	UTIL_OK(util_node_get(util_s, UTIL_DS, "n", &n));
	UTIL_EQ(n.watermark, 4);
	UTIL_EQ(n.head_seq, 4);
	UTIL_EQ(n.n_gaps, 0);
	UTIL_CONSISTENT(util_s);
	util_entries_free(c, 4);
}
END_TEST

/* The largest seq leaves one gap range, computed without overflow. */
START_TEST(test_watermark__largest_seq_gives_one_gap_range)
{
	struct util_entry first, last;
	uint8_t prev[OPLOG_HASH_LEN];
	struct util_node n;
	struct util_break br[2];
	size_t nb = 0;
	char gaps[128], want[128];

	memset(prev, 0x42, sizeof(prev));
	util_mk(&last, UTIL_DS, "n", OPLOG_MAX_SEQ, 500, 0, "k", OPLOG_OP_PUT, "last", prev);
	util_mk(&first, UTIL_DS, "n", 1, 100, 0, "k", OPLOG_OP_PUT, "first", NULL);
	util_apply1(&last, NULL);
	UTIL_OK(util_node_get(util_s, UTIL_DS, "n", &n));
	util_gaps_str(&n, gaps, sizeof(gaps));
	snprintf(want, sizeof(want), "[1,%llu]", (unsigned long long)OPLOG_MAX_SEQ - 1);
	UTIL_STR_EQ(gaps, want);
	UTIL_EQ(n.head_seq, OPLOG_MAX_SEQ);
	UTIL_EQ(n.watermark, 0);
	util_apply1(&first, NULL);
	UTIL_OK(util_node_get(util_s, UTIL_DS, "n", &n));
	util_gaps_str(&n, gaps, sizeof(gaps));
	snprintf(want, sizeof(want), "[2,%llu]", (unsigned long long)OPLOG_MAX_SEQ - 1);
	UTIL_STR_EQ(gaps, want);
	UTIL_EQ(n.watermark, 1);
	UTIL_OK(util_breaks(util_s, UTIL_DS, br, 2, &nb));
	UTIL_EQ(nb, 0);
	UTIL_CONSISTENT(util_s);
	util_entry_free(&first);
	util_entry_free(&last);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Forks                                                               */

START_TEST(test_fork__recorded_with_hashes_ascending)
{
	struct util_entry c[3], f, g;
	struct oplog_apply_stats st;
	struct util_fork forks[4];
	size_t nf = 0, nb = 0;
	struct util_break br[4];
	const uint8_t *lo, *hi;

	UTIL_OK(util_chain_build(c, 3, UTIL_DS, "n", 1, NULL, 1000));
	util_mk(&f, UTIL_DS, "n", 2, 1021, 0, "k2", OPLOG_OP_PUT, "other", c[0].hash);
	UTIL_OK(util_apply_array(util_s, c, 3, NULL));
	UTIL_OK(util_forks(util_s, UTIL_DS, forks, 4, &nf));
	UTIL_EQ(nf, 0);
	util_apply1(&f, &st);
	UTIL_EQ(st.forks, 1);
	UTIL_EQ(st.applied, 1);
	UTIL_OK(util_forks(util_s, UTIL_DS, forks, 4, &nf));
	UTIL_EQ(nf, 1);
	UTIL_STR_EQ(forks[0].node, "n");
	UTIL_EQ(forks[0].seq, 2);
	UTIL_EQ(forks[0].n, 2);
	lo = util_hash_min(c[1].hash, f.hash);
	hi = util_hash_max(c[1].hash, f.hash);
	UTIL_HASH_EQ(forks[0].hashes[0], lo);
	UTIL_HASH_EQ(forks[0].hashes[1], hi);
	/* The sibling has the right prev: no chain break. */
	UTIL_OK(util_breaks(util_s, UTIL_DS, br, 4, &nb));
	UTIL_EQ(nb, 0);
	UTIL_EQ(util_stats().forks, 1);

	/* A third hash at the same seq joins the same fork record. */
	util_mk(&g, UTIL_DS, "n", 2, 1022, 0, "k2", OPLOG_OP_PUT, "third", c[0].hash);
	util_apply1(&g, &st);
	UTIL_OK(util_forks(util_s, UTIL_DS, forks, 4, &nf));
	UTIL_EQ(nf, 1);
	UTIL_EQ(forks[0].n, 3);
	UTIL_CHECK(memcmp(forks[0].hashes[0], forks[0].hashes[1], OPLOG_HASH_LEN) < 0);
	UTIL_CHECK(memcmp(forks[0].hashes[1], forks[0].hashes[2], OPLOG_HASH_LEN) < 0);
	UTIL_CONSISTENT(util_s);
	util_entries_free(c, 3);
	util_entry_free(&f);
	util_entry_free(&g);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Chain breaks                                                        */

START_TEST(test_break__wrong_prev_after_seq1_present)
{
	struct util_entry a, b;
	uint8_t wrong[OPLOG_HASH_LEN];
	struct oplog_apply_stats st;
	struct util_break br[4];
	size_t nb = 0;

	memset(wrong, 0x5a, sizeof(wrong));
	util_mk(&a, UTIL_DS, "n", 1, 100, 0, "k", OPLOG_OP_PUT, "1", NULL);
	util_mk(&b, UTIL_DS, "n", 2, 200, 0, "k", OPLOG_OP_PUT, "2", wrong);
	util_apply1(&a, NULL);
	util_apply1(&b, &st);
	UTIL_EQ(st.chain_breaks, 1);
	UTIL_OK(util_breaks(util_s, UTIL_DS, br, 4, &nb));
	UTIL_EQ(nb, 1);
	UTIL_STR_EQ(br[0].node, "n");
	UTIL_EQ(br[0].seq, 2);
	UTIL_HASH_EQ(br[0].hash, b.hash);
	UTIL_HASH_EQ(br[0].prev, wrong);
	UTIL_EQ(util_stats().chain_breaks, 1);
	UTIL_CONSISTENT(util_s);
	util_entry_free(&a);
	util_entry_free(&b);
}
END_TEST

START_TEST(test_break__recorded_when_seq1_arrives_after)
{
	struct util_entry a, b;
	uint8_t wrong[OPLOG_HASH_LEN];
	struct oplog_apply_stats st;
	struct util_break br[4];
	size_t nb = 0;

	memset(wrong, 0x5a, sizeof(wrong));
	util_mk(&a, UTIL_DS, "n", 1, 100, 0, "k", OPLOG_OP_PUT, "1", NULL);
	util_mk(&b, UTIL_DS, "n", 2, 200, 0, "k", OPLOG_OP_PUT, "2", wrong);
	util_apply1(&b, &st);
	/* Nothing at seq 1 to compare with yet. */
	UTIL_EQ(st.chain_breaks, 0);
	UTIL_OK(util_breaks(util_s, UTIL_DS, br, 4, &nb));
	UTIL_EQ(nb, 0);
	util_apply1(&a, &st);
	UTIL_EQ(st.chain_breaks, 1);
	UTIL_OK(util_breaks(util_s, UTIL_DS, br, 4, &nb));
	UTIL_EQ(nb, 1);
	UTIL_EQ(br[0].seq, 2);
	UTIL_HASH_EQ(br[0].hash, b.hash);
	UTIL_HASH_EQ(br[0].prev, wrong);
	UTIL_CONSISTENT(util_s);
	util_entry_free(&a);
	util_entry_free(&b);
}
END_TEST

START_TEST(test_break__none_for_a_correct_chain_in_any_order)
{
	struct util_entry c[4];
	struct util_entry *rev[4];
	struct oplog_apply_stats st;
	struct util_break br[4];
	size_t nb = 0, i;

	UTIL_OK(util_chain_build(c, 4, UTIL_DS, "n", 1, NULL, 1000));
	for (i = 0; i < 4; i++)
		rev[i] = &c[3 - i];
	util_apply1(&c[2], &st);
	UTIL_EQ(st.chain_breaks, 0);
	UTIL_OK(util_apply(util_s, rev, 4, &st));
	UTIL_EQ(st.chain_breaks, 0);
	UTIL_OK(util_breaks(util_s, UTIL_DS, br, 4, &nb));
	UTIL_EQ(nb, 0);
	UTIL_EQ(util_stats().chain_breaks, 0);
	util_entries_free(c, 4);
}
END_TEST

/* seq 2 points at a seq-1 sibling that arrives last: the break goes away. */
START_TEST(test_break__cleared_when_matching_sibling_arrives)
{
	struct util_entry a, a2, b;
	struct util_break br[4];
	struct util_fork forks[4];
	size_t nb = 0, nf = 0;

	util_mk(&a, UTIL_DS, "n", 1, 100, 0, "k", OPLOG_OP_PUT, "1", NULL);
	util_mk(&a2, UTIL_DS, "n", 1, 101, 0, "k", OPLOG_OP_PUT, "1-bis", NULL);
	util_mk(&b, UTIL_DS, "n", 2, 200, 0, "k", OPLOG_OP_PUT, "2", a2.hash);
	util_apply1(&a, NULL);
	util_apply1(&b, NULL);
	UTIL_OK(util_breaks(util_s, UTIL_DS, br, 4, &nb));
	UTIL_EQ(nb, 1);
	UTIL_HASH_EQ(br[0].hash, b.hash);
	util_apply1(&a2, NULL);
	UTIL_OK(util_breaks(util_s, UTIL_DS, br, 4, &nb));
	UTIL_EQ(nb, 0);
	UTIL_OK(util_forks(util_s, UTIL_DS, forks, 4, &nf));
	UTIL_EQ(nf, 1);
	UTIL_EQ(forks[0].seq, 1);
	UTIL_CONSISTENT(util_s);
	util_entry_free(&a);
	util_entry_free(&a2);
	util_entry_free(&b);
}
END_TEST

/* Seen from seq+1: seq 3 names a seq-2 hash; the wrong seq 2 arrives first. */
START_TEST(test_break__from_the_next_entry_and_cleared_by_sibling)
{
	struct util_entry c[3], other;
	struct util_break br[4];
	size_t nb = 0;

	UTIL_OK(util_chain_build(c, 3, UTIL_DS, "n", 1, NULL, 1000));
	util_mk(&other, UTIL_DS, "n", 2, 1021, 0, "k2", OPLOG_OP_PUT, "other", c[0].hash);
	util_apply1(&c[0], NULL);
	util_apply1(&c[2], NULL);
	UTIL_OK(util_breaks(util_s, UTIL_DS, br, 4, &nb));
	UTIL_EQ(nb, 0);
	util_apply1(&other, NULL);
	UTIL_OK(util_breaks(util_s, UTIL_DS, br, 4, &nb));
	UTIL_EQ(nb, 1);
	UTIL_EQ(br[0].seq, 3);
	UTIL_HASH_EQ(br[0].hash, c[2].hash);
	UTIL_HASH_EQ(br[0].prev, c[1].hash);
	util_apply1(&c[1], NULL);
	UTIL_OK(util_breaks(util_s, UTIL_DS, br, 4, &nb));
	UTIL_EQ(nb, 0);
	UTIL_CONSISTENT(util_s);
	util_entries_free(c, 3);
	util_entry_free(&other);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Chain walks                                                         */

START_TEST(test_chain__backward_from_head_to_genesis)
{
	struct util_entry c[5];
	char got[256];

	UTIL_OK(util_chain_build(c, 5, UTIL_DS, "n", 1, NULL, 1000));
	UTIL_OK(util_apply_array(util_s, c, 5, NULL));
	util_walk("n", NULL, 0, 0, got, sizeof(got));
	UTIL_STR_EQ(got, "5,4,3,2,1,genesis");
	util_walk("n", c[2].hash, 0, 0, got, sizeof(got));
	UTIL_STR_EQ(got, "3,2,1,genesis");
	util_entries_free(c, 5);
}
END_TEST

START_TEST(test_chain__forward_from_seq1_to_head)
{
	struct util_entry c[5];
	char got[256];

	UTIL_OK(util_chain_build(c, 5, UTIL_DS, "n", 1, NULL, 1000));
	UTIL_OK(util_apply_array(util_s, c, 5, NULL));
	util_walk("n", c[0].hash, 1, 0, got, sizeof(got));
	UTIL_STR_EQ(got, "1,2,3,4,5,head");
	util_entries_free(c, 5);
}
END_TEST

START_TEST(test_chain__gap_stops_walk)
{
	struct util_entry c[5];
	char got[256];

	UTIL_OK(util_chain_build(c, 5, UTIL_DS, "n", 1, NULL, 1000));
	util_apply1(&c[0], NULL);
	util_apply1(&c[1], NULL);
	util_apply1(&c[3], NULL);
	util_apply1(&c[4], NULL);
	util_walk("n", NULL, 0, 0, got, sizeof(got));
	UTIL_STR_EQ(got, "5,4,gap");
	util_walk("n", c[0].hash, 1, 0, got, sizeof(got));
	UTIL_STR_EQ(got, "1,2,gap");
	util_entries_free(c, 5);
}
END_TEST

START_TEST(test_chain__limit_stops_walk)
{
	struct util_entry c[5];
	char got[256];

	UTIL_OK(util_chain_build(c, 5, UTIL_DS, "n", 1, NULL, 1000));
	UTIL_OK(util_apply_array(util_s, c, 5, NULL));
	util_walk("n", NULL, 0, 2, got, sizeof(got));
	UTIL_STR_EQ(got, "5,4,limit");
	util_walk("n", c[1].hash, 1, 3, got, sizeof(got));
	UTIL_STR_EQ(got, "2,3,4,limit");
	util_entries_free(c, 5);
}
END_TEST

START_TEST(test_chain__forward_follows_smallest_hash_at_fork)
{
	struct util_entry c[3], f;
	char got[256], want[256];

	UTIL_OK(util_chain_build(c, 3, UTIL_DS, "n", 1, NULL, 1000));
	util_mk(&f, UTIL_DS, "n", 2, 1025, 0, "k2", OPLOG_OP_PUT, "fork", c[0].hash);
	UTIL_OK(util_apply_array(util_s, c, 3, NULL));
	util_apply1(&f, NULL);
	/* c2 links on to c3; the sibling has no successor. */
	snprintf(want, sizeof(want), "%s",
	         memcmp(c[1].hash, f.hash, OPLOG_HASH_LEN) < 0 ? "1,2,3,head" : "1,2,head");
	util_walk("n", c[0].hash, 1, 0, got, sizeof(got));
	UTIL_STR_EQ(got, want);
	util_walk("n", f.hash, 0, 0, got, sizeof(got));
	UTIL_STR_EQ(got, "2,1,genesis");
	util_entries_free(c, 3);
	util_entry_free(&f);
}
END_TEST

START_TEST(test_chain__unknown_start_and_callback_stop)
{
	struct util_entry c[3];
	uint8_t unknown[OPLOG_HASH_LEN];
	enum oplog_chain_end end;
	int n = 0;

	UTIL_OK(util_chain_build(c, 3, UTIL_DS, "n", 1, NULL, 1000));
	UTIL_OK(util_apply_array(util_s, c, 3, NULL));
	memset(unknown, 0x11, sizeof(unknown));
	UTIL_RC(oplog_store_chain(util_s, util_sl(UTIL_DS), util_sl("n"), unknown, 0, 0, util_stop_cb, &n, &end),
	        OPLOG_ENOTFOUND);
	UTIL_RC(oplog_store_chain(util_s, util_sl(UTIL_DS), util_sl("nope"), NULL, 0, 0, util_stop_cb, &n, &end),
	        OPLOG_ENOTFOUND);
	{
		struct util_entry other;

		util_mk(&other, UTIL_DS, "m", 1, 5, 0, "k", OPLOG_OP_PUT, "m", NULL);
		util_apply1(&other, NULL);
		/* A start hash of another node is not on this node's chain. */
		UTIL_RC(oplog_store_chain(util_s, util_sl(UTIL_DS), util_sl("n"), other.hash, 0, 0, util_stop_cb,
		                          &n, &end), OPLOG_ENOTFOUND);
		util_entry_free(&other);
	}
	UTIL_EQ(n, 0);
	n = 0;
	UTIL_RC(oplog_store_chain(util_s, util_sl(UTIL_DS), util_sl("n"), NULL, 0, 0, util_stop_cb, &n, &end), 77);
	UTIL_EQ(n, 2);
	UTIL_STR_EQ(oplog_chain_end_name(OPLOG_CHAIN_GENESIS), "genesis");
	UTIL_STR_EQ(oplog_chain_end_name(OPLOG_CHAIN_PRUNED), "pruned");
	UTIL_STR_EQ(oplog_chain_end_name(OPLOG_CHAIN_GAP), "gap");
	UTIL_STR_EQ(oplog_chain_end_name(OPLOG_CHAIN_HEAD), "head");
	UTIL_STR_EQ(oplog_chain_end_name(OPLOG_CHAIN_LIMIT), "limit");
	util_entries_free(c, 3);
}
END_TEST

/* ------------------------------------------------------------------ */

void store_chain_tcases(Suite *s)
{
	TCase *t;

	t = util_store_tcase(s, "watermark", 10);
	tcase_add_test(t, test_watermark__advances_through_gap_once_filled);
	tcase_add_test(t, test_watermark__zero_until_seq1_arrives);
	tcase_add_test(t, test_watermark__out_of_order_within_one_batch);
	tcase_add_test(t, test_watermark__largest_seq_gives_one_gap_range);

	t = util_store_tcase(s, "fork", 10);
	tcase_add_test(t, test_fork__recorded_with_hashes_ascending);

	t = util_store_tcase(s, "chain_break", 10);
	tcase_add_test(t, test_break__wrong_prev_after_seq1_present);
	tcase_add_test(t, test_break__recorded_when_seq1_arrives_after);
	tcase_add_test(t, test_break__none_for_a_correct_chain_in_any_order);
	tcase_add_test(t, test_break__cleared_when_matching_sibling_arrives);
	tcase_add_test(t, test_break__from_the_next_entry_and_cleared_by_sibling);

	t = util_store_tcase(s, "chain", 10);
	tcase_add_test(t, test_chain__backward_from_head_to_genesis);
	tcase_add_test(t, test_chain__forward_from_seq1_to_head);
	tcase_add_test(t, test_chain__gap_stops_walk);
	tcase_add_test(t, test_chain__limit_stops_walk);
	tcase_add_test(t, test_chain__forward_follows_smallest_hash_at_fork);
	tcase_add_test(t, test_chain__unknown_start_and_callback_stop);
}
