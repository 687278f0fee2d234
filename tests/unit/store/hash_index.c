/*
 * hash_index.c: the store's suite, the hash index (epoch | ds | the first
 * 8 bytes of the hash): entries sharing a prefix, epoch boundaries and
 * their filters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "util_store.h"
#include "store/tcases.h"

/* ------------------------------------------------------------------ */
/* The hash index: epoch | ds | the first 8 bytes of the hash          */

/* like's first 8 bytes, then 24 bytes of fill. */
static void prefixed(uint8_t *out, const uint8_t *like, uint8_t fill)
{
	memcpy(out, like, 8);
	memset(out + 8, fill, OPLOG_HASH_LEN - 8);
}

/*
 * An entry of (ds, node, seq 1) with `hash` in its hash field: the store
 * does not recompute hashes (the intake verified them), so it takes the
 * hash as given.
 */
static void forge(struct util_entry *u, const char *ds, const char *node, uint64_t wall,
                  const char *data, const uint8_t *hash)
{
	struct util_spec sp;

	memset(&sp, 0, sizeof(sp));
	sp.ds = util_sl(ds);
	sp.node = util_sl(node);
	sp.seq = 1;
	sp.wall = wall;
	sp.col = util_sl("c");
	sp.key = util_sl(data);
	sp.op = OPLOG_OP_PUT;
	sp.data = util_sl(data);
	UTIL_OK(util_entry_make_forged(u, &sp, hash));
	UTIL_HASH_EQ(u->hash, hash);
}

/* get(ds, hash) into *got (its msg malloc'd or NULL) and hash as hex into
 * hex: the store's code. */
static int get_copy(const char *ds, const uint8_t *hash, struct util_entry *got,
                    char hex[2 * OPLOG_HASH_LEN + 1])
{
	memset(got, 0, sizeof(*got));
	oplog_hex(hash, OPLOG_HASH_LEN, hex);
	return oplog_store_get(util_s, util_sl(ds), hash, util_msg_copy_cb, got);
}

/* get(ds, hash) finds exactly the message of `want`. */
static void get_is(const char *ds, const uint8_t *hash, const struct util_entry *want)
{
	struct util_entry got;
	char hex[2 * OPLOG_HASH_LEN + 1];
	int rc = get_copy(ds, hash, &got, hex);

	ck_assert_msg(rc == 0, "get(%s, %s) = %d; last error: \"%s\"", ds, hex, rc,
	              oplog_error_last());
	ck_assert_msg(got.len == want->len && memcmp(got.msg, want->msg, want->len) == 0,
	              "get(%s, %s) found another entry's message", ds, hex);
	free(got.msg);
}

static void get_none(const char *ds, const uint8_t *hash)
{
	struct util_entry got;
	char hex[2 * OPLOG_HASH_LEN + 1];
	int rc = get_copy(ds, hash, &got, hex);

	ck_assert_msg(rc == OPLOG_ENOTFOUND && got.msg == NULL,
	              "get(%s, %s) = %d, expected ENOTFOUND", ds, hex, rc);
	free(got.msg);
}

/*
 * Three entries of one dataset whose hashes share their first 8 bytes sit
 * under one hash-index key: get tells them apart by the message, whichever
 * of them comes first under the key, and a fourth hash with that prefix
 * is not found.
 */
START_TEST(test_get__shared_hash_prefix_resolved_by_message)
{
	struct util_entry a, b, c;
	uint8_t hb[OPLOG_HASH_LEN], hc[OPLOG_HASH_LEN], absent[OPLOG_HASH_LEN];
	struct oplog_apply_stats st;
	struct util_list l = { 0 };
	enum oplog_chain_end end;

	util_mk(&a, UTIL_DS, "n", 1, 200, 0, "ka", OPLOG_OP_PUT, "a", NULL);
	prefixed(hb, a.hash, 0x00);
	prefixed(hc, a.hash, 0xff);
	prefixed(absent, a.hash, 0x5c);
	forge(&b, UTIL_DS, "m", 100, "b", hb);
	forge(&c, UTIL_DS, "o", 300, "c", hc);
	/* Log ids, and so the order under the shared key: b, a, c. */
	util_apply1(&b, &st);
	util_apply1(&a, &st);
	util_apply1(&c, &st);
	UTIL_EQ(util_stats().entries, 3);
	UTIL_EQ(util_stats().duplicates, 0);
	get_is(UTIL_DS, b.hash, &b);
	get_is(UTIL_DS, a.hash, &a);
	get_is(UTIL_DS, c.hash, &c);
	get_none(UTIL_DS, absent);

	/* chain --from goes through the same index. */
	UTIL_OK(oplog_store_chain(util_s, util_sl(UTIL_DS), util_sl("o"), c.hash, 0, 0, util_list_cb,
	                          &l, &end));
	UTIL_EQ(l.n, 1);
	UTIL_HASH_EQ(l.items[0].hash, c.hash);
	UTIL_EQ(end, OPLOG_CHAIN_GENESIS);
	util_list_free(&l);
	UTIL_RC(oplog_store_chain(util_s, util_sl(UTIL_DS), util_sl("n"), b.hash, 0, 0, util_list_cb,
	                          &l, &end), OPLOG_ENOTFOUND);
	util_list_free(&l);

	/* The same again after a reopen, and once more as a duplicate. */
	util_reopen();
	get_is(UTIL_DS, a.hash, &a);
	get_is(UTIL_DS, c.hash, &c);
	util_apply1(&c, &st);
	UTIL_EQ(st.duplicates, 1);

	/* verify recomputes hashes: the two forged ones, and nothing else. */
	{
		char *problems = NULL;
		int64_t n = util_verify(util_s, &problems);

		ck_assert_msg(n == 2 && problems && strstr(problems, "hash_mismatch") &&
		              strstr(strstr(problems, "hash_mismatch") + 1, "hash_mismatch"),
		              "verify found %lld problems:\n%s", (long long)n,
		              problems ? problems : "(none)");
		free(problems);
	}
	util_entry_free(&a);
	util_entry_free(&b);
	util_entry_free(&c);
}
END_TEST

/* Two entries of one batch whose hashes share 8 bytes: the second is one
 * more duplicate under the first's key, also where the key is appended. */
START_TEST(test_apply__shared_hash_prefix_within_one_batch)
{
	struct util_entry a, b, c, d;
	uint8_t hb[OPLOG_HASH_LEN], hc[OPLOG_HASH_LEN], hd[OPLOG_HASH_LEN];
	struct oplog_apply_stats st;

	util_mk(&a, UTIL_DS, "n", 1, 200, 0, "ka", OPLOG_OP_PUT, "a", NULL);
	prefixed(hb, a.hash, 0x00);
	prefixed(hc, a.hash, 0xff);
	memset(hd, 0x01, sizeof(hd));
	forge(&b, UTIL_DS, "m", 100, "b", hb);
	forge(&c, UTIL_DS, "o", 300, "c", hc);
	forge(&d, UTIL_DS, "p", 400, "d", hd);
	UTIL_OK(util_apply(util_s, (struct util_entry *[]){ &a, &b }, 2, &st));
	UTIL_EQ(st.applied, 2);
	get_is(UTIL_DS, a.hash, &a);
	get_is(UTIL_DS, b.hash, &b);
	util_store_reset();
	util_apply1(&d, NULL);
	UTIL_OK(util_apply(util_s, (struct util_entry *[]){ &c, &a, &b }, 3, &st));
	UTIL_EQ(st.applied, 3);
	get_is(UTIL_DS, a.hash, &a);
	get_is(UTIL_DS, b.hash, &b);
	get_is(UTIL_DS, c.hash, &c);
	get_is(UTIL_DS, d.hash, &d);
	util_entry_free(&a);
	util_entry_free(&b);
	util_entry_free(&c);
	util_entry_free(&d);
}
END_TEST

/*
 * The batch that ends an epoch builds its filter: a get of an entry of the
 * completed epoch finds it through the filter, one of a hash the filter
 * rules out finds nothing, and verify reports a filter that rules out an
 * entry it should hold, or a filter of an epoch that is not complete.
 */
/* The next log id is 2^18 - 2: the second entry applied completes epoch 0. */
static void near_epoch_end(void)
{
	uint8_t next[8] = { 0, 0, 0, 0, 0, 0x03, 0xff, 0xfe };

	oplog_store_close(util_s);
	util_s = NULL;
	UTIL_EQ(util_lmdb_put(util_dir, "meta", "next_id.log", 11, next, 8), 0);
	util_reopen();
}

/* Put an all-zero filter for `epoch` into the closed store. */
static int bloom_zero(uint8_t epoch)
{
	static uint8_t zero[1 << 19];
	uint8_t k[4] = { 0, 0, 0, epoch };

	return util_lmdb_put(util_dir, "blooms", k, 4, zero, sizeof(zero));
}

/* Close the store, damage it, reopen it: verify must say `mention`. */
static void damaged_reports(int (*damage)(uint8_t), uint8_t arg, const char *mention)
{
	char *problems = NULL;
	int64_t n;

	oplog_store_close(util_s);
	util_s = NULL;
	UTIL_EQ(damage(arg), 0);
	UTIL_OK(util_store_open(&util_s, util_dir, 0, 0, 0));
	n = util_verify(util_s, &problems);
	ck_assert_msg(n >= 1 && problems && strstr(problems, mention),
	              "verify found %lld problems, none saying \"%s\":\n%s", (long long)n, mention,
	              problems ? problems : "(none)");
	free(problems);
}

START_TEST(test_get__completed_epoch_found_through_its_filter)
{
	struct util_entry c[4];
	uint8_t other[OPLOG_HASH_LEN], k[64], v[1 << 19];
	size_t kl = 0, vl = 0, i;

	near_epoch_end();
	UTIL_OK(util_chain_build(c, 4, UTIL_DS, "n", 1, NULL, 1000));
	UTIL_OK(util_apply_array(util_s, c, 2, NULL));    /* ids 2^18 - 2, 2^18 - 1: epoch 0 is complete */
	UTIL_OK(util_apply_array(util_s, c + 2, 2, NULL)); /* epoch 1 */
	for (i = 0; i < 4; i++)
		get_is(UTIL_DS, c[i].hash, &c[i]);
	prefixed(other, c[0].hash, 0x5a);
	other[0] ^= 0xff;                                 /* another 8-byte prefix */
	get_none(UTIL_DS, other);
	UTIL_CONSISTENT(util_s);
	oplog_store_close(util_s);
	util_s = NULL;
	/* One filter, of epoch 0, 512 KiB. */
	UTIL_EQ(util_lmdb_nth(util_dir, "blooms", 0, k, sizeof(k), &kl, v, sizeof(v), &vl), 0);
	UTIL_CHECK(kl == 4 && k[3] == 0 && vl == sizeof(v));
	UTIL_CHECK(util_lmdb_nth(util_dir, "blooms", 1, k, sizeof(k), &kl, v, sizeof(v), &vl) != 0);
	util_reopen();
	util_entries_free(c, 4);
}
END_TEST

START_TEST(test_verify__filter_ruling_out_an_entry_reported)
{
	struct util_entry c[4];

	near_epoch_end();
	UTIL_OK(util_chain_build(c, 4, UTIL_DS, "n", 1, NULL, 1000));
	UTIL_OK(util_apply_array(util_s, c, 4, NULL));
	UTIL_CONSISTENT(util_s);
	damaged_reports(bloom_zero, 0, "blooms: the filter of epoch 0");
	damaged_reports(bloom_zero, 7, "epoch 7, which is not complete");
	util_entries_free(c, 4);
}
END_TEST

/*
 * `entries` is split into epochs of 2^18 log ids. A batch that crosses
 * from one epoch to the next files each entry under its own epoch; get
 * finds entries of both, also two that share a hash prefix, one in each;
 * prune and verify find them where they are.
 */
START_TEST(test_get__entries_on_both_sides_of_an_epoch_boundary)
{
	struct util_entry c[4], x;
	uint8_t hx[OPLOG_HASH_LEN], k[64], v[8];
	struct oplog_prune_stats ps;
	struct oplog_hlc cut;
	size_t kl = 0, vl = 0, i;

	near_epoch_end();
	UTIL_OK(util_chain_build(c, 4, UTIL_DS, "n", 1, NULL, 1000));
	UTIL_OK(util_apply_array(util_s, c, 4, NULL));    /* ids 2^18 - 2 .. 2^18 + 1 */
	prefixed(hx, c[0].hash, 0xee);                    /* c[0] is in epoch 0 */
	forge(&x, UTIL_DS, "m", 2000, "x", hx);
	util_apply1(&x, NULL);                            /* epoch 1 */
	for (i = 0; i < 4; i++)
		get_is(UTIL_DS, c[i].hash, &c[i]);
	get_is(UTIL_DS, hx, &x);
	oplog_store_close(util_s);
	util_s = NULL;
	/* The last record of the index is in epoch 1, the first in epoch 0. */
	UTIL_EQ(util_lmdb_nth(util_dir, "entries", 0, k, sizeof(k), &kl, v, sizeof(v), &vl), 0);
	UTIL_CHECK(kl == 16 && k[3] == 0);
	UTIL_EQ(util_lmdb_nth(util_dir, "entries", 4, k, sizeof(k), &kl, v, sizeof(v), &vl), 0);
	UTIL_CHECK(kl == 16 && k[3] == 1);
	util_reopen();
	{
		/* The forged hash is verify's only complaint. */
		char *problems = NULL;
		int64_t n = util_verify(util_s, &problems);

		ck_assert_msg(n == 1 && problems && strstr(problems, "hash_mismatch"),
		              "verify found %lld problems:\n%s", (long long)n,
		              problems ? problems : "(none)");
		free(problems);
	}
	memset(&cut, 0, sizeof(cut));
	cut.wall = c[2].e.wall;                           /* ids of both epochs */
	UTIL_OK(oplog_store_prune(util_s, util_sl(UTIL_DS), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 3);
	get_none(UTIL_DS, c[0].hash);
	get_none(UTIL_DS, c[2].hash);
	get_is(UTIL_DS, c[3].hash, &c[3]);
	get_is(UTIL_DS, hx, &x);
	util_entries_free(c, 4);
	util_entry_free(&x);
}
END_TEST

/*
 * The prefix (even the whole hash) of an entry in another dataset is
 * another key of the index: neither dataset sees the other's entry.
 */
START_TEST(test_get__shared_hash_prefix_across_datasets_not_confused)
{
	struct util_entry a, same, near;
	uint8_t hn[OPLOG_HASH_LEN];

	util_mk(&a, UTIL_DS, "n", 1, 200, 0, "ka", OPLOG_OP_PUT, "a", NULL);
	/* In "other": one entry with a's very hash, one sharing 8 bytes. */
	prefixed(hn, a.hash, 0x11);
	forge(&same, "other", "n", 100, "same", a.hash);
	forge(&near, "other", "x", 300, "near", hn);
	util_apply1(&same, NULL);
	util_apply1(&near, NULL);
	util_apply1(&a, NULL);
	UTIL_EQ(util_stats().entries, 3);
	get_is(UTIL_DS, a.hash, &a);
	get_is("other", a.hash, &same);
	get_is("other", near.hash, &near);
	get_none(UTIL_DS, near.hash);
	util_entry_free(&a);
	util_entry_free(&same);
	util_entry_free(&near);
}
END_TEST

/*
 * Prune deletes its entry's own record under a shared index key: the
 * other entries there stay found.
 */
START_TEST(test_prune__keeps_other_entries_under_a_shared_hash_prefix)
{
	struct util_entry a, b, c;
	uint8_t hb[OPLOG_HASH_LEN], hc[OPLOG_HASH_LEN];
	struct oplog_prune_stats ps;
	struct oplog_hlc cut;

	util_mk(&a, UTIL_DS, "n", 1, 200, 0, "ka", OPLOG_OP_PUT, "a", NULL);
	prefixed(hb, a.hash, 0x00);
	prefixed(hc, a.hash, 0xff);
	forge(&b, UTIL_DS, "m", 100, "b", hb);
	forge(&c, UTIL_DS, "o", 300, "c", hc);
	util_apply1(&b, NULL);
	util_apply1(&a, NULL);
	util_apply1(&c, NULL);
	memset(&cut, 0, sizeof(cut));
	cut.wall = 200;      /* b and a, not c */
	UTIL_OK(oplog_store_prune(util_s, util_sl(UTIL_DS), &cut, 1, &ps));
	UTIL_EQ(ps.pruned, 2);
	get_none(UTIL_DS, b.hash);
	get_none(UTIL_DS, a.hash);
	get_is(UTIL_DS, c.hash, &c);
	util_store_reset();
	util_apply1(&a, NULL);
	util_apply1(&b, NULL);
	util_apply1(&c, NULL);
	cut.wall = 100;      /* b only, the middle one under the key */
	UTIL_OK(oplog_store_prune(util_s, util_sl(UTIL_DS), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 1);
	get_is(UTIL_DS, a.hash, &a);
	get_none(UTIL_DS, b.hash);
	get_is(UTIL_DS, c.hash, &c);
	util_entry_free(&a);
	util_entry_free(&b);
	util_entry_free(&c);
}
END_TEST

/* ------------------------------------------------------------------ */

void store_hash_index_tcases(Suite *s)
{
	TCase *t;

	t = util_store_tcase(s, "hash_index", 10);
	tcase_add_test(t, test_get__shared_hash_prefix_resolved_by_message);
	tcase_add_test(t, test_get__shared_hash_prefix_across_datasets_not_confused);
	tcase_add_test(t, test_get__entries_on_both_sides_of_an_epoch_boundary);
	tcase_add_test(t, test_apply__shared_hash_prefix_within_one_batch);
	tcase_add_test(t, test_get__completed_epoch_found_through_its_filter);
	tcase_add_test(t, test_verify__filter_ruling_out_an_entry_reported);
	tcase_add_test(t, test_prune__keeps_other_entries_under_a_shared_hash_prefix);
}
