/*
 * apply.c: the store's suite, applying batches: dedupe by hash, what a
 * batch copies, and how a node's head follows HLC order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "util_store.h"
#include "store/tcases.h"

/* ------------------------------------------------------------------ */
/* Dedupe                                                              */

START_TEST(test_apply__duplicate_counted_once)
{
	struct util_entry u;
	struct util_entry *twice[2];
	struct oplog_apply_stats st;
	struct oplog_stats s;

	util_mk(&u, UTIL_DS, "n", 1, 100, 0, "k", OPLOG_OP_PUT, "x", NULL);
	util_apply1(&u, &st);
	UTIL_EQ(st.applied, 1);
	UTIL_EQ(st.duplicates, 0);
	util_apply1(&u, &st);
	UTIL_EQ(st.applied, 0);
	UTIL_EQ(st.duplicates, 1);
	UTIL_EQ(st.late, 0);
	s = util_stats();
	UTIL_EQ(s.entries, 1);
	UTIL_EQ(s.applied, 1);
	UTIL_EQ(s.duplicates, 1);
	UTIL_EQ(s.datasets, 1);
	UTIL_EQ(s.nodes, 1);

	/* Twice in one batch: the second copy is a duplicate of the first. */
	util_store_reset();
	twice[0] = twice[1] = &u;
	UTIL_OK(util_apply(util_s, twice, 2, &st));
	UTIL_EQ(st.applied, 1);
	UTIL_EQ(st.duplicates, 1);
	UTIL_EQ(util_stats().entries, 1);
	UTIL_CONSISTENT(util_s);
	util_entry_free(&u);
}
END_TEST

START_TEST(test_get__only_in_its_own_dataset)
{
	struct util_entry u;
	struct util_list l = { 0 };

	util_mk(&u, UTIL_DS, "n", 1, 100, 0, "k", OPLOG_OP_PUT, "body", NULL);
	util_apply1(&u, NULL);
	UTIL_OK(oplog_store_get(util_s, util_sl(UTIL_DS), u.hash, util_list_cb, &l));
	UTIL_EQ(l.n, 1);
	UTIL_HASH_EQ(l.items[0].hash, u.hash);
	util_list_free(&l);
	UTIL_RC(oplog_store_get(util_s, util_sl("other"), u.hash, util_list_cb, &l), OPLOG_ENOTFOUND);
	UTIL_EQ(l.n, 0);
	util_list_free(&l);
	util_entry_free(&u);
}
END_TEST

START_TEST(test_get__returns_message_bytes_unchanged)
{
	struct util_entry u, got;
	uint8_t unknown[OPLOG_HASH_LEN];

	memset(&got, 0, sizeof(got));
	util_mk(&u, UTIL_DS, "n", 1, 100, 0, "k", OPLOG_OP_PUT, "body", NULL);
	util_apply1(&u, NULL);
	UTIL_OK(oplog_store_get(util_s, util_sl(UTIL_DS), u.hash, util_msg_copy_cb, &got));
	UTIL_EQ(got.len, u.len);
	UTIL_CHECK(memcmp(got.msg, u.msg, u.len) == 0);
	free(got.msg);
	memset(unknown, 0xab, sizeof(unknown));
	UTIL_RC(oplog_store_get(util_s, util_sl(UTIL_DS), unknown, util_msg_copy_cb, &got), OPLOG_ENOTFOUND);
	util_entry_free(&u);
}
END_TEST

struct reject_copy {
	char    source[32];
	uint8_t raw[8];
	size_t  raw_len;
};

/* Copies the reject's source and first raw bytes into a reject_copy. */
static int copy_reject_cb(const struct oplog_reject_rec *r, void *arg)
{
	struct reject_copy *out = arg;

	snprintf(out->source, sizeof(out->source), "%.*s", (int)r->source.len,
	         (const char *)r->source.ptr);
	out->raw_len = r->raw.len;
	memcpy(out->raw, r->raw.ptr, r->raw.len < 8 ? r->raw.len : 8);
	return 0;
}

START_TEST(test_batch__clear_empties_and_counts)
{
	struct oplog_batch *b = NULL;
	struct util_entry u[2];
	struct oplog_reject rej;
	struct oplog_apply_stats st;

	UTIL_OK(util_chain_build(u, 2, UTIL_DS, "n", 1, NULL, 0));
	memset(&rej, 0, sizeof(rej));
	rej.reason = OPLOG_R_MALFORMED;
	UTIL_OK(oplog_batch_new(&b));
	UTIL_OK(oplog_batch_add(b, u[0].msg, u[0].len, &u[0].e));
	UTIL_OK(oplog_batch_reject(b, "t/0/1", "zz", 2, &rej));
	UTIL_EQ(oplog_batch_count(b), 2);
	oplog_batch_clear(b);
	UTIL_EQ(oplog_batch_count(b), 0);
	UTIL_OK(oplog_batch_add(b, u[1].msg, u[1].len, &u[1].e));
	UTIL_OK(oplog_store_apply(util_s, b, &st));
	UTIL_EQ(st.applied, 1);
	UTIL_EQ(st.rejected, 0);
	UTIL_EQ(util_stats().entries, 1);
	oplog_batch_free(b);
	util_entries_free(u, 2);
}
END_TEST

/* The batch copies rejects and offsets: the caller's buffers may change. */
START_TEST(test_batch__rejects_and_offsets_are_copied)
{
	struct oplog_batch *b = NULL;
	struct oplog_reject rej;
	struct reject_copy seen;
	char source[32], topic[32];
	uint8_t msg[8];
	int64_t next = 0;

	memset(&rej, 0, sizeof(rej));
	rej.reason = OPLOG_R_BAD_OP;
	rej.field = OPLOG_F_OP;
	snprintf(source, sizeof(source), "orig/1/2");
	snprintf(topic, sizeof(topic), "topic-a");
	memcpy(msg, "ABCDEFGH", 8);
	UTIL_OK(oplog_batch_new(&b));
	UTIL_OK(oplog_batch_reject(b, source, msg, 8, &rej));
	UTIL_OK(oplog_batch_offset(b, topic, 3, 77));
	memset(source, 'X', sizeof(source) - 1);
	memset(msg, 'Y', sizeof(msg));
	memset(topic, 'Z', sizeof(topic) - 1);
	memset(&rej, 0, sizeof(rej));
	UTIL_OK(oplog_store_apply(util_s, b, NULL));
	UTIL_OK(oplog_store_offset(util_s, "topic-a", 3, &next));
	UTIL_EQ(next, 77);
	memset(&seen, 0, sizeof(seen));
	UTIL_OK(oplog_store_rejects(util_s, 0, copy_reject_cb, &seen));
	UTIL_STR_EQ(seen.source, "orig/1/2");
	UTIL_EQ(seen.raw_len, 8);
	UTIL_CHECK(memcmp(seen.raw, "ABCDEFGH", 8) == 0);
	UTIL_EQ(util_stats().rejected[OPLOG_R_BAD_OP], 1);
	oplog_batch_free(b);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Heads                                                               */

START_TEST(test_apply__late_entry_keeps_head)
{
	struct util_entry c[3];
	struct oplog_apply_stats st;
	struct util_node n;

	UTIL_OK(util_chain_build(c, 3, UTIL_DS, "n", 1, NULL, 1000));
	util_apply1(&c[2], &st);
	UTIL_EQ(st.late, 0);
	util_apply1(&c[0], &st);
	UTIL_EQ(st.applied, 1);
	UTIL_EQ(st.late, 1);
	util_apply1(&c[1], &st);
	UTIL_EQ(st.late, 1);
	UTIL_OK(util_node_get(util_s, UTIL_DS, "n", &n));
	UTIL_EQ(n.head_seq, 3);
	UTIL_EQ(n.head_wall, c[2].e.wall);
	UTIL_HASH_EQ(n.head_hash, c[2].hash);
	UTIL_EQ(util_stats().late, 2);
	UTIL_CONSISTENT(util_s);
	util_entries_free(c, 3);
}
END_TEST

START_TEST(test_apply__later_entry_moves_head)
{
	struct util_entry c[3];
	struct oplog_apply_stats st;
	struct util_node n;

	UTIL_RC(util_node_get(util_s, UTIL_DS, "n", &n), OPLOG_ENOTFOUND);
	UTIL_OK(util_chain_build(c, 3, UTIL_DS, "n", 1, NULL, 1000));
	util_apply1(&c[0], &st);
	UTIL_OK(util_node_get(util_s, UTIL_DS, "n", &n));
	UTIL_EQ(n.head_seq, 1);
	UTIL_HASH_EQ(n.head_hash, c[0].hash);
	util_apply1(&c[1], &st);
	UTIL_EQ(st.late, 0);
	UTIL_OK(util_node_get(util_s, UTIL_DS, "n", &n));
	UTIL_EQ(n.head_seq, 2);
	UTIL_EQ(n.head_wall, c[1].e.wall);
	UTIL_EQ(n.head_logic, 0);
	UTIL_HASH_EQ(n.head_hash, c[1].hash);
	util_entries_free(c, 3);
}
END_TEST

START_TEST(test_apply__head_follows_hlc_not_seq)
{
	struct util_entry a, b, c;
	struct util_node n;

	/* The node's clock went back at seq 3: seq 2 stays the greatest. */
	util_mk(&a, UTIL_DS, "n", 1, 100, 0, "k", OPLOG_OP_PUT, "1", NULL);
	util_mk(&b, UTIL_DS, "n", 2, 300, 0, "k", OPLOG_OP_PUT, "2", a.hash);
	util_mk(&c, UTIL_DS, "n", 3, 200, 7, "k", OPLOG_OP_PUT, "3", b.hash);
	util_apply1(&a, NULL);
	util_apply1(&b, NULL);
	util_apply1(&c, NULL);
	UTIL_OK(util_node_get(util_s, UTIL_DS, "n", &n));
	UTIL_EQ(n.head_seq, 2);
	UTIL_HASH_EQ(n.head_hash, b.hash);
	UTIL_EQ(n.watermark, 3);
	UTIL_EQ(util_stats().late, 1);
	UTIL_CONSISTENT(util_s);
	util_entry_free(&a);
	util_entry_free(&b);
	util_entry_free(&c);
}
END_TEST

START_TEST(test_apply__head_logic_breaks_wall_tie)
{
	struct util_entry a, b, c;
	struct util_node n;

	util_mk(&a, UTIL_DS, "n", 1, 100, 0, "k", OPLOG_OP_PUT, "1", NULL);
	util_mk(&b, UTIL_DS, "n", 2, 100, 5, "k", OPLOG_OP_PUT, "2", a.hash);
	util_mk(&c, UTIL_DS, "n", 3, 100, 2, "k", OPLOG_OP_PUT, "3", b.hash);
	util_apply1(&c, NULL);
	util_apply1(&b, NULL);
	util_apply1(&a, NULL);
	UTIL_OK(util_node_get(util_s, UTIL_DS, "n", &n));
	UTIL_EQ(n.head_seq, 2);
	UTIL_EQ(n.head_logic, 5);
	util_entry_free(&a);
	util_entry_free(&b);
	util_entry_free(&c);
}
END_TEST

/* Two entries with the same (wall, logic, node): the greater hash is later. */
START_TEST(test_apply__head_tie_broken_by_greater_hash)
{
	struct util_entry a, x, y;
	const struct util_entry *order[2];
	struct util_node n;
	int i;

	util_mk(&a, UTIL_DS, "n", 1, 100, 0, "k", OPLOG_OP_PUT, "1", NULL);
	util_mk(&x, UTIL_DS, "n", 2, 200, 3, "k", OPLOG_OP_PUT, "x", a.hash);
	util_mk(&y, UTIL_DS, "n", 2, 200, 3, "k", OPLOG_OP_PUT, "y", a.hash);
	for (i = 0; i < 2; i++) {
		if (i) {
			util_store_reset();
		}
		order[0] = i ? &y : &x;
		order[1] = i ? &x : &y;
		util_apply1(&a, NULL);
		util_apply1(order[0], NULL);
		util_apply1(order[1], NULL);
		UTIL_OK(util_node_get(util_s, UTIL_DS, "n", &n));
		UTIL_EQ(n.head_seq, 2);
		UTIL_HASH_EQ(n.head_hash, util_hash_max(x.hash, y.hash));
	}
	util_entry_free(&a);
	util_entry_free(&x);
	util_entry_free(&y);
}
END_TEST

/* ------------------------------------------------------------------ */

void store_apply_tcases(Suite *s)
{
	TCase *t;

	t = util_store_tcase(s, "dedupe", 10);
	tcase_add_test(t, test_apply__duplicate_counted_once);
	tcase_add_test(t, test_get__only_in_its_own_dataset);
	tcase_add_test(t, test_get__returns_message_bytes_unchanged);
	tcase_add_test(t, test_batch__clear_empties_and_counts);
	tcase_add_test(t, test_batch__rejects_and_offsets_are_copied);

	t = util_store_tcase(s, "head", 10);
	tcase_add_test(t, test_apply__late_entry_keeps_head);
	tcase_add_test(t, test_apply__later_entry_moves_head);
	tcase_add_test(t, test_apply__head_follows_hlc_not_seq);
	tcase_add_test(t, test_apply__head_logic_breaks_wall_tie);
	tcase_add_test(t, test_apply__head_tie_broken_by_greater_hash);
}
