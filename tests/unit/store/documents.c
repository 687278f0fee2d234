/*
 * documents.c: the store's suite, documents (last writer wins in HLC
 * order) and the isolation of datasets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "util_store.h"
#include "store/tcases.h"

/* ------------------------------------------------------------------ */
/* Documents: last writer wins in HLC order                            */

START_TEST(test_doc__later_hlc_wins)
{
	struct util_entry a, b;
	struct util_doc d;

	util_mk(&a, UTIL_DS, "n1", 1, 100, 0, "k", OPLOG_OP_PUT, "old", NULL);
	util_mk(&b, UTIL_DS, "n2", 1, 100, 1, "k", OPLOG_OP_PUT, "new", NULL);
	UTIL_RC(util_doc_get(util_s, UTIL_DS, "c", "k", &d), OPLOG_ENOTFOUND);
	util_apply1(&a, NULL);
	UTIL_OK(util_doc_get(util_s, UTIL_DS, "c", "k", &d));
	UTIL_STR_EQ(d.data, "old");
	util_apply1(&b, NULL);
	UTIL_OK(util_doc_get(util_s, UTIL_DS, "c", "k", &d));
	UTIL_STR_EQ(d.data, "new");
	UTIL_STR_EQ(d.node, "n2");
	UTIL_EQ(d.op, OPLOG_OP_PUT);
	UTIL_EQ(d.seq, 1);
	UTIL_EQ(d.wall, 100);
	UTIL_EQ(d.logic, 1);
	UTIL_HASH_EQ(d.hash, b.hash);
	util_entry_free(&a);
	util_entry_free(&b);
}
END_TEST

START_TEST(test_doc__older_late_put_does_not_overwrite)
{
	struct util_entry a, b;
	struct util_doc d;

	util_mk(&a, UTIL_DS, "n1", 1, 100, 0, "k", OPLOG_OP_PUT, "old", NULL);
	util_mk(&b, UTIL_DS, "n2", 1, 200, 0, "k", OPLOG_OP_PUT, "new", NULL);
	util_apply1(&b, NULL);
	util_apply1(&a, NULL);
	UTIL_OK(util_doc_get(util_s, UTIL_DS, "c", "k", &d));
	UTIL_STR_EQ(d.data, "new");
	UTIL_HASH_EQ(d.hash, b.hash);
	UTIL_CONSISTENT(util_s);
	util_entry_free(&a);
	util_entry_free(&b);
}
END_TEST

/* Same (wall, logic): the greater node name wins, bytewise, shorter first. */
START_TEST(test_doc__same_hlc_greater_node_wins)
{
	struct util_entry a, ab;
	struct util_doc d;

	util_mk(&a, UTIL_DS, "a", 1, 100, 4, "k", OPLOG_OP_PUT, "from-a", NULL);
	util_mk(&ab, UTIL_DS, "ab", 1, 100, 4, "k", OPLOG_OP_PUT, "from-ab", NULL);
	util_apply1(&ab, NULL);
	util_apply1(&a, NULL);
	UTIL_OK(util_doc_get(util_s, UTIL_DS, "c", "k", &d));
	UTIL_STR_EQ(d.node, "ab");
	UTIL_STR_EQ(d.data, "from-ab");

	util_store_reset();
	util_apply1(&a, NULL);
	util_apply1(&ab, NULL);
	UTIL_OK(util_doc_get(util_s, UTIL_DS, "c", "k", &d));
	UTIL_STR_EQ(d.node, "ab");
	util_entry_free(&a);
	util_entry_free(&ab);
}
END_TEST

/* Same (wall, logic, node), different entries: the greater hash wins. */
START_TEST(test_doc__same_hlc_and_node_greater_hash_wins)
{
	struct util_entry x, y;
	struct util_doc d;
	int i;

	util_mk(&x, UTIL_DS, "n", 1, 100, 0, "k", OPLOG_OP_PUT, "x", NULL);
	util_mk(&y, UTIL_DS, "n", 1, 100, 0, "k", OPLOG_OP_PUT, "y", NULL);
	for (i = 0; i < 2; i++) {
		if (i) {
			util_store_reset();
		}
		util_apply1(i ? &y : &x, NULL);
		util_apply1(i ? &x : &y, NULL);
		UTIL_OK(util_doc_get(util_s, UTIL_DS, "c", "k", &d));
		UTIL_HASH_EQ(d.hash, util_hash_max(x.hash, y.hash));
	}
	util_entry_free(&x);
	util_entry_free(&y);
}
END_TEST

START_TEST(test_doc__tombstone_beats_older_late_put)
{
	struct util_entry put, del;
	struct util_doc d;

	util_mk(&put, UTIL_DS, "n1", 1, 100, 0, "k", OPLOG_OP_PUT, "alive", NULL);
	util_mk(&del, UTIL_DS, "n2", 1, 200, 0, "k", OPLOG_OP_DEL, NULL, NULL);
	util_apply1(&del, NULL);
	util_apply1(&put, NULL);
	UTIL_OK(util_doc_get(util_s, UTIL_DS, "c", "k", &d));
	UTIL_EQ(d.op, OPLOG_OP_DEL);
	UTIL_HASH_EQ(d.hash, del.hash);
	util_entry_free(&put);
	util_entry_free(&del);
}
END_TEST

START_TEST(test_doc__later_put_beats_tombstone)
{
	struct util_entry del, put;
	struct util_doc d;

	util_mk(&del, UTIL_DS, "n1", 1, 100, 0, "k", OPLOG_OP_DEL, NULL, NULL);
	util_mk(&put, UTIL_DS, "n2", 1, 200, 0, "k", OPLOG_OP_PUT, "back", NULL);
	util_apply1(&del, NULL);
	util_apply1(&put, NULL);
	UTIL_OK(util_doc_get(util_s, UTIL_DS, "c", "k", &d));
	UTIL_EQ(d.op, OPLOG_OP_PUT);
	UTIL_STR_EQ(d.data, "back");
	util_entry_free(&del);
	util_entry_free(&put);
}
END_TEST

START_TEST(test_doc__del_has_op_del_and_no_data)
{
	struct util_entry put, del;
	struct util_doc d;

	util_mk(&put, UTIL_DS, "n", 1, 100, 0, "k", OPLOG_OP_PUT, "alive", NULL);
	util_mk(&del, UTIL_DS, "n", 2, 200, 0, "k", OPLOG_OP_DEL, NULL, put.hash);
	util_apply1(&put, NULL);
	util_apply1(&del, NULL);
	UTIL_OK(util_doc_get(util_s, UTIL_DS, "c", "k", &d));
	UTIL_EQ(d.op, OPLOG_OP_DEL);
	UTIL_CHECK(d.data_null);
	UTIL_EQ(d.data_len, 0);
	UTIL_EQ(d.seq, 2);
	UTIL_CONSISTENT(util_s);
	util_entry_free(&put);
	util_entry_free(&del);
}
END_TEST

/* HLC extremes order numerically: wall up to 2^63-1, logic up to 2^32-1. */
START_TEST(test_doc__extreme_hlc_values_order_numerically)
{
	struct util_entry lo, mid, hi;
	struct util_doc d;
	struct util_list l = { 0 };

	util_mk(&lo, UTIL_DS, "x", 1, 0, 0, "k", OPLOG_OP_PUT, "lo", NULL);
	util_mk(&mid, UTIL_DS, "y", 1, (uint64_t)INT64_MAX - 1, UINT32_MAX, "k", OPLOG_OP_PUT, "mid", NULL);
	util_mk(&hi, UTIL_DS, "z", 1, (uint64_t)INT64_MAX, 0, "k", OPLOG_OP_PUT, "hi", NULL);
	util_apply1(&hi, NULL);
	util_apply1(&mid, NULL);
	util_apply1(&lo, NULL);
	UTIL_OK(util_doc_get(util_s, UTIL_DS, "c", "k", &d));
	UTIL_STR_EQ(d.data, "hi");
	UTIL_EQ(d.wall, (uint64_t)INT64_MAX);
	UTIL_OK(oplog_store_scan(util_s, util_sl(UTIL_DS), NULL, 0, util_list_cb, &l));
	UTIL_EQ(l.n, 3);
	UTIL_STR_EQ(l.items[0].node, "x");
	UTIL_STR_EQ(l.items[1].node, "y");
	UTIL_EQ(l.items[1].logic, UINT32_MAX);
	UTIL_STR_EQ(l.items[2].node, "z");
	util_list_free(&l);
	UTIL_CONSISTENT(util_s);
	util_entry_free(&lo);
	util_entry_free(&mid);
	util_entry_free(&hi);
}
END_TEST

/* Keys up to 1024 bytes exceed LMDB's key limit; documents still work. */
START_TEST(test_doc__longest_key_is_kept_exactly)
{
	struct util_spec sp;
	struct util_entry u, v;
	char key[OPLOG_MAX_KEY], key2[OPLOG_MAX_KEY];
	struct util_doc d;

	memset(key, 'q', sizeof(key));
	memcpy(key2, key, sizeof(key2));
	key2[OPLOG_MAX_KEY - 1] = 'r';
	memset(&sp, 0, sizeof(sp));
	sp.ds = util_sl(UTIL_DS);
	sp.node = util_sl("n");
	sp.seq = 1;
	sp.wall = 100;
	sp.col = util_sl("c");
	sp.key.ptr = (const uint8_t *)key;
	sp.key.len = sizeof(key);
	sp.op = OPLOG_OP_PUT;
	sp.data = util_sl("long");
	UTIL_OK(util_entry_make(&u, &sp));
	sp.node = util_sl("m");
	sp.key.ptr = (const uint8_t *)key2;
	sp.data = util_sl("long2");
	UTIL_OK(util_entry_make(&v, &sp));
	util_apply1(&u, NULL);
	util_apply1(&v, NULL);
	{
		char k1[OPLOG_MAX_KEY + 1], k2[OPLOG_MAX_KEY + 1];

		memcpy(k1, key, sizeof(key));
		k1[OPLOG_MAX_KEY] = '\0';
		memcpy(k2, key2, sizeof(key2));
		k2[OPLOG_MAX_KEY] = '\0';
		UTIL_OK(util_doc_get(util_s, UTIL_DS, "c", k1, &d));
		UTIL_STR_EQ(d.data, "long");
		UTIL_OK(util_doc_get(util_s, UTIL_DS, "c", k2, &d));
		UTIL_STR_EQ(d.data, "long2");
	}
	UTIL_CONSISTENT(util_s);
	util_entry_free(&u);
	util_entry_free(&v);
}
END_TEST

/* (col, key) pairs whose concatenations agree are different documents. */
START_TEST(test_doc__col_key_boundary_is_not_merged)
{
	struct util_entry x, y;
	struct util_doc d;

	UTIL_OK(util_entry_build(&x, UTIL_DS, "n", 1, 100, 0, "ab", "c", OPLOG_OP_PUT, "ab|c", NULL));
	UTIL_OK(util_entry_build(&y, UTIL_DS, "m", 1, 200, 0, "a", "bc", OPLOG_OP_PUT, "a|bc", NULL));
	util_apply1(&x, NULL);
	util_apply1(&y, NULL);
	UTIL_OK(util_doc_get(util_s, UTIL_DS, "ab", "c", &d));
	UTIL_STR_EQ(d.data, "ab|c");
	UTIL_OK(util_doc_get(util_s, UTIL_DS, "a", "bc", &d));
	UTIL_STR_EQ(d.data, "a|bc");
	UTIL_CONSISTENT(util_s);
	util_entry_free(&x);
	util_entry_free(&y);
}
END_TEST

/* The longest names, a node name of NUL bytes included, fit every key. */
START_TEST(test_apply__longest_names_fit_in_keys)
{
	uint8_t ds[OPLOG_MAX_NAME], node[OPLOG_MAX_NAME], col[OPLOG_MAX_NAME], key[OPLOG_MAX_KEY];
	struct util_entry c[3];
	struct util_spec sp;
	struct util_list l = { 0 };
	struct oplog_slice dss = { ds, sizeof(ds) }, nodes = { node, sizeof(node) };
	enum oplog_chain_end end;
	size_t i;

	/* ds must be UTF-8: 64 two-byte characters. */
	for (i = 0; i < sizeof(ds); i += 2) {
		ds[i] = 0xc3;
		ds[i + 1] = 0xa9;
	}
	memset(node, 0, sizeof(node));
	memset(col, 'c', sizeof(col));
	memset(key, 0, sizeof(key));
	for (i = 0; i < 3; i++) {
		memset(&sp, 0, sizeof(sp));
		sp.ds = dss;
		sp.node = nodes;
		sp.seq = i + 1;
		sp.wall = 100 + i;
		sp.col.ptr = col;
		sp.col.len = sizeof(col);
		sp.key.ptr = key;
		sp.key.len = sizeof(key);
		sp.op = OPLOG_OP_PUT;
		sp.data = util_sl("v");
		sp.prev = i ? c[i - 1].hash : NULL;
		UTIL_OK(util_entry_make(&c[i], &sp));
	}
	UTIL_OK(util_apply_array(util_s, c, 3, NULL));
	UTIL_OK(oplog_store_scan(util_s, dss, NULL, 0, util_list_cb, &l));
	UTIL_EQ(l.n, 3);
	UTIL_EQ(l.items[0].node_len, OPLOG_MAX_NAME);
	util_list_free(&l);
	UTIL_OK(oplog_store_scan_node(util_s, dss, nodes, NULL, 0, util_list_cb, &l));
	UTIL_EQ(l.n, 3);
	util_list_free(&l);
	UTIL_OK(oplog_store_chain(util_s, dss, nodes, NULL, 0, 0, util_list_cb, &l, &end));
	UTIL_EQ(l.n, 3);
	UTIL_EQ(end, OPLOG_CHAIN_GENESIS);
	util_list_free(&l);
	UTIL_CONSISTENT(util_s);
	util_entries_free(c, 3);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Dataset isolation                                                   */

START_TEST(test_dataset__same_names_do_not_leak_across_datasets)
{
	struct util_entry c[3], d2, fork1;
	struct util_node n;
	struct util_doc d;
	struct util_fork forks[4];
	struct util_list l = { 0 };
	char names[256] = "";
	size_t nf = 0;

	UTIL_OK(util_chain_build(c, 3, "shop", "n", 1, NULL, 1000));
	/* Same node, col and key names, one entry, later HLC, other dataset. */
	UTIL_OK(util_entry_build(&d2, "shop2", "n", 1, 5000, 0, "c", "k1", OPLOG_OP_PUT, "other", NULL));
	util_mk(&fork1, "shop", "n", 2, 1020, 1, "k9", OPLOG_OP_PUT, "f", c[0].hash);
	UTIL_OK(util_apply_array(util_s, c, 3, NULL));
	util_apply1(&d2, NULL);
	util_apply1(&fork1, NULL);

	UTIL_EQ(util_stats().entries, 5);
	UTIL_EQ(util_stats().datasets, 2);
	UTIL_OK(oplog_store_datasets(util_s, util_name_list_cb, names));
	UTIL_STR_EQ(names, "shop;shop2;");

	UTIL_OK(util_node_get(util_s, "shop", "n", &n));
	UTIL_EQ(n.head_seq, 3);
	UTIL_EQ(n.watermark, 3);
	UTIL_OK(util_node_get(util_s, "shop2", "n", &n));
	UTIL_EQ(n.head_seq, 1);
	UTIL_EQ(n.watermark, 1);
	UTIL_HASH_EQ(n.head_hash, d2.hash);

	UTIL_OK(util_doc_get(util_s, "shop", "c", "k1", &d));
	UTIL_STR_EQ(d.data, "d1");
	UTIL_OK(util_doc_get(util_s, "shop2", "c", "k1", &d));
	UTIL_STR_EQ(d.data, "other");
	UTIL_RC(util_doc_get(util_s, "shop2", "c", "k2", &d), OPLOG_ENOTFOUND);
	UTIL_EQ(util_doc_total("shop"), 4);
	UTIL_EQ(util_doc_total("shop2"), 1);

	UTIL_OK(util_forks(util_s, "shop", forks, 4, &nf));
	UTIL_EQ(nf, 1);
	UTIL_OK(util_forks(util_s, "shop2", forks, 4, &nf));
	UTIL_EQ(nf, 0);

	UTIL_OK(oplog_store_scan(util_s, util_sl("shop2"), NULL, 0, util_list_cb, &l));
	UTIL_EQ(l.n, 1);
	util_list_free(&l);
	UTIL_RC(oplog_store_get(util_s, util_sl("shop2"), c[0].hash, util_list_cb, &l), OPLOG_ENOTFOUND);
	UTIL_RC(oplog_store_get(util_s, util_sl("shop"), d2.hash, util_list_cb, &l), OPLOG_ENOTFOUND);
	util_list_free(&l);
	UTIL_CONSISTENT(util_s);
	util_entries_free(c, 3);
	util_entry_free(&d2);
	util_entry_free(&fork1);
}
END_TEST

/* The same fields in two datasets are two entries (ds is in the hash). */
START_TEST(test_dataset__same_content_is_two_entries)
{
	struct util_entry a, b;
	struct oplog_apply_stats st;

	UTIL_OK(util_entry_build(&a, "d1", "n", 1, 100, 0, "c", "k", OPLOG_OP_PUT, "x", NULL));
	UTIL_OK(util_entry_build(&b, "d2", "n", 1, 100, 0, "c", "k", OPLOG_OP_PUT, "x", NULL));
	UTIL_CHECK(memcmp(a.hash, b.hash, OPLOG_HASH_LEN) != 0);
	util_apply1(&a, &st);
	util_apply1(&b, &st);
	UTIL_EQ(st.applied, 1);
	UTIL_EQ(st.duplicates, 0);
	UTIL_EQ(util_stats().entries, 2);
	UTIL_EQ(util_stats().datasets, 2);
	util_entry_free(&a);
	util_entry_free(&b);
}
END_TEST

/* ------------------------------------------------------------------ */

void store_documents_tcases(Suite *s)
{
	TCase *t;

	t = util_store_tcase(s, "documents", 10);
	tcase_add_test(t, test_doc__later_hlc_wins);
	tcase_add_test(t, test_doc__older_late_put_does_not_overwrite);
	tcase_add_test(t, test_doc__same_hlc_greater_node_wins);
	tcase_add_test(t, test_doc__same_hlc_and_node_greater_hash_wins);
	tcase_add_test(t, test_doc__tombstone_beats_older_late_put);
	tcase_add_test(t, test_doc__later_put_beats_tombstone);
	tcase_add_test(t, test_doc__del_has_op_del_and_no_data);
	tcase_add_test(t, test_doc__longest_key_is_kept_exactly);
	tcase_add_test(t, test_doc__extreme_hlc_values_order_numerically);
	tcase_add_test(t, test_doc__col_key_boundary_is_not_merged);
	tcase_add_test(t, test_apply__longest_names_fit_in_keys);

	t = util_store_tcase(s, "datasets", 10);
	tcase_add_test(t, test_dataset__same_names_do_not_leak_across_datasets);
	tcase_add_test(t, test_dataset__same_content_is_two_entries);
}
