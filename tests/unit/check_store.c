/*
 * check_store.c: the LMDB store against its contract, oplog/store.h and
 * apply-semantics, one TCase per behaviour. Entries come from the test's
 * own builder (util_store.c); state is read back through public queries
 * only, except where a test damages the LMDB files on purpose.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "util_store.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *DS = "shop";

/* A put/del from node at seq with the given HLC; prev as given. */
static void mk(struct util_entry *u, const char *ds, const char *node, uint64_t seq,
               uint64_t wall, uint32_t logic, const char *key, enum oplog_op op,
               const char *data, const uint8_t *prev)
{
	UTIL_OK(util_entry_build(u, ds, node, seq, wall, logic, "c", key, op, data, prev));
}

static void apply1(const struct util_entry *u, struct oplog_apply_stats *st)
{
	struct oplog_apply_stats local;

	UTIL_OK(util_apply_one(util_s, u, st ? st : &local));
}

static const uint8_t *hmin(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, OPLOG_HASH_LEN) < 0 ? a : b;
}

static const uint8_t *hmax(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, OPLOG_HASH_LEN) > 0 ? a : b;
}

static struct oplog_stats stats_of(struct oplog_store *s)
{
	struct oplog_stats st;

	memset(&st, 0, sizeof(st));
	UTIL_OK(oplog_store_stats(s, &st));
	return st;
}

static struct oplog_stats stats(void)
{
	return stats_of(util_s);
}

/* Close the fixture's handle and reopen it (same directory, defaults). */
static void reopen(void)
{
	oplog_store_close(util_s);
	util_s = NULL;
	UTIL_OK(util_store_open(&util_s, util_dir, 0, 0, 0));
}

/* ------------------------------------------------------------------ */
/* The builder itself, against the spec's worked examples.             */

static const char *SPEC_MSG1 =
	"8ba17601a26473a473686f70a46e6f6465a66e6f64652d61a373657101a477616c6ccf0000019aa4b64500"
	"a56c6f67696300a3636f6ca57573657273a36b6579a27531a26f70a3707574a468617368c420aff7ce8b6d"
	"823c4fc97baf1d2ddf6bf765d842fe4c60bab436eea4b370f8cb75a464617461c40e7b226e616d65223a22"
	"616461227d";
static const char *SPEC_MSG2 =
	"8ba17601a26473a473686f70a46e6f6465a66e6f64652d61a373657102a477616c6ccf0000019aa4b64500"
	"a56c6f67696301a3636f6ca57573657273a36b6579a27531a26f70a364656ca468617368c420bc1962f5bb"
	"6dae6ad109989c720d8c528443daf41903b504213947d6e544ffdba470726576c420aff7ce8b6d823c4fc9"
	"7baf1d2ddf6bf765d842fe4c60bab436eea4b370f8cb75";

START_TEST(test_util__builder_matches_spec_examples)
{
	struct util_entry e1, e2;
	char *hex;

	UTIL_OK(util_entry_build(&e1, "shop", "node-a", 1, 1763700000000ull, 0, "users", "u1",
	                         OPLOG_OP_PUT, "{\"name\":\"ada\"}", NULL));
	UTIL_OK(util_entry_build(&e2, "shop", "node-a", 2, 1763700000000ull, 1, "users", "u1",
	                         OPLOG_OP_DEL, NULL, e1.hash));
	hex = malloc(2 * e1.len + 1);
	util_hex(e1.msg, e1.len, hex);
	UTIL_STR_EQ(hex, SPEC_MSG1);
	free(hex);
	hex = malloc(2 * e2.len + 1);
	util_hex(e2.msg, e2.len, hex);
	UTIL_STR_EQ(hex, SPEC_MSG2);
	free(hex);
	UTIL_CHECK(e2.e.data.ptr == NULL && e2.e.op == OPLOG_OP_DEL);
	util_entry_free(&e1);
	util_entry_free(&e2);
}
END_TEST

START_TEST(test_util__builder_output_decodes)
{
	struct util_entry u;
	struct oplog_entry d;
	struct oplog_reject rej;

	mk(&u, DS, "n", 1, 5, 0, "k", OPLOG_OP_PUT, "x", NULL);
	memset(&rej, 0, sizeof(rej));
	ck_assert_msg(oplog_entry_decode(u.msg, u.len, 0, 0, &d, &rej) == 0,
	              "decode: %s", rej.detail);
	UTIL_HASH_EQ(d.hash, u.hash);
	util_entry_free(&u);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Open, store id, schema                                              */

START_TEST(test_open__store_id_is_stable_across_reopen)
{
	uint8_t id[OPLOG_STORE_ID_LEN], zero[OPLOG_STORE_ID_LEN] = { 0 };
	uint8_t raw[64];
	size_t vlen = 0;

	memcpy(id, oplog_store_id(util_s), OPLOG_STORE_ID_LEN);
	UTIL_CHECK(memcmp(id, zero, sizeof(id)) != 0);
	reopen();
	UTIL_CHECK(memcmp(id, oplog_store_id(util_s), OPLOG_STORE_ID_LEN) == 0);

	/* docs/STORE.md: meta "store_id" holds exactly those 16 bytes. */
	oplog_store_close(util_s);
	util_s = NULL;
	UTIL_EQ(util_lmdb_get(util_dir, "meta", "store_id", 8, raw, sizeof(raw), &vlen), 0);
	UTIL_EQ(vlen, OPLOG_STORE_ID_LEN);
	UTIL_CHECK(memcmp(raw, id, OPLOG_STORE_ID_LEN) == 0);
}
END_TEST

START_TEST(test_open__new_stores_get_different_ids)
{
	char dir2[4200];
	struct oplog_store *s2 = NULL;

	util_subdir(dir2, sizeof(dir2), "second");
	UTIL_OK(util_store_open(&s2, dir2, 0, 0, 0));
	UTIL_CHECK(memcmp(oplog_store_id(util_s), oplog_store_id(s2), OPLOG_STORE_ID_LEN) != 0);
	oplog_store_close(s2);
}
END_TEST

START_TEST(test_open__rdonly_missing_store_is_notfound)
{
	char path[4200];
	struct oplog_store *s2 = (struct oplog_store *)&s2;
	struct stat sb;

	util_subdir(path, sizeof(path), "absent");
	UTIL_RC(util_store_open(&s2, path, 0, 0, OPLOG_STORE_RDONLY), OPLOG_ENOTFOUND);
	UTIL_CHECK(s2 == NULL);
	UTIL_CHECK(stat(path, &sb) != 0);
}
END_TEST

START_TEST(test_open__rdonly_store_refuses_apply)
{
	struct oplog_store *ro = NULL;
	struct util_entry u;

	mk(&u, DS, "n", 1, 5, 0, "k", OPLOG_OP_PUT, "x", NULL);
	oplog_store_close(util_s);
	util_s = NULL;
	UTIL_OK(util_store_open(&ro, util_dir, 0, 0, OPLOG_STORE_RDONLY));
	UTIL_RC(util_apply_one(ro, &u, NULL), OPLOG_EINVAL);
	UTIL_EQ(util_entry_count(ro), 0);
	oplog_store_close(ro);
	util_entry_free(&u);
}
END_TEST

START_TEST(test_schema__meta_holds_the_current_schema)
{
	uint8_t raw[16];
	size_t vlen = 0;

	oplog_store_close(util_s);
	util_s = NULL;
	UTIL_EQ(util_lmdb_get(util_dir, "meta", "schema", 6, raw, sizeof(raw), &vlen), 0);
	UTIL_EQ(vlen, 4);
	UTIL_EQ(((uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 | (uint32_t)raw[2] << 8 | raw[3]),
	        OPLOG_STORE_SCHEMA);
}
END_TEST

START_TEST(test_schema__newer_schema_is_refused)
{
	static const uint8_t v999[4] = { 0, 0, 0x03, 0xe7 };
	struct oplog_store *s2 = (struct oplog_store *)&s2;

	oplog_store_close(util_s);
	util_s = NULL;
	UTIL_EQ(util_lmdb_put(util_dir, "meta", "schema", 6, v999, 4), 0);
	UTIL_RC(util_store_open(&s2, util_dir, 0, 0, 0), OPLOG_ESCHEMA);
	UTIL_CHECK(s2 == NULL);
	s2 = (struct oplog_store *)&s2;
	UTIL_RC(util_store_open(&s2, util_dir, 0, 0, OPLOG_STORE_RDONLY), OPLOG_ESCHEMA);
	UTIL_CHECK(s2 == NULL);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Dedupe                                                              */

START_TEST(test_apply__duplicate_counted_once)
{
	struct util_entry u;
	struct util_entry *twice[2];
	struct oplog_apply_stats st;
	struct oplog_stats s;

	mk(&u, DS, "n", 1, 100, 0, "k", OPLOG_OP_PUT, "x", NULL);
	apply1(&u, &st);
	UTIL_EQ(st.applied, 1);
	UTIL_EQ(st.duplicates, 0);
	apply1(&u, &st);
	UTIL_EQ(st.applied, 0);
	UTIL_EQ(st.duplicates, 1);
	UTIL_EQ(st.late, 0);
	s = stats();
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
	UTIL_EQ(stats().entries, 1);
	UTIL_CONSISTENT(util_s);
	util_entry_free(&u);
}
END_TEST

START_TEST(test_get__only_in_its_own_dataset)
{
	struct util_entry u;
	struct util_list l = { 0 };

	mk(&u, DS, "n", 1, 100, 0, "k", OPLOG_OP_PUT, "body", NULL);
	apply1(&u, NULL);
	UTIL_OK(oplog_store_get(util_s, util_sl(DS), u.hash, util_list_cb, &l));
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
	mk(&u, DS, "n", 1, 100, 0, "k", OPLOG_OP_PUT, "body", NULL);
	apply1(&u, NULL);
	UTIL_OK(oplog_store_get(util_s, util_sl(DS), u.hash, util_msg_copy_cb, &got));
	UTIL_EQ(got.len, u.len);
	UTIL_CHECK(memcmp(got.msg, u.msg, u.len) == 0);
	free(got.msg);
	memset(unknown, 0xab, sizeof(unknown));
	UTIL_RC(oplog_store_get(util_s, util_sl(DS), unknown, util_msg_copy_cb, &got), OPLOG_ENOTFOUND);
	util_entry_free(&u);
}
END_TEST

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

/* get(ds, hash) finds exactly the message of `want`. */
static void get_is(const char *ds, const uint8_t *hash, const struct util_entry *want)
{
	struct util_entry got;
	char hex[2 * OPLOG_HASH_LEN + 1];
	int rc;

	memset(&got, 0, sizeof(got));
	util_hex(hash, OPLOG_HASH_LEN, hex);
	rc = oplog_store_get(util_s, util_sl(ds), hash, util_msg_copy_cb, &got);
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
	int rc;

	memset(&got, 0, sizeof(got));
	util_hex(hash, OPLOG_HASH_LEN, hex);
	rc = oplog_store_get(util_s, util_sl(ds), hash, util_msg_copy_cb, &got);
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

	mk(&a, DS, "n", 1, 200, 0, "ka", OPLOG_OP_PUT, "a", NULL);
	prefixed(hb, a.hash, 0x00);
	prefixed(hc, a.hash, 0xff);
	prefixed(absent, a.hash, 0x5c);
	forge(&b, DS, "m", 100, "b", hb);
	forge(&c, DS, "o", 300, "c", hc);
	/* Log ids, and so the order under the shared key: b, a, c. */
	apply1(&b, &st);
	apply1(&a, &st);
	apply1(&c, &st);
	UTIL_EQ(stats().entries, 3);
	UTIL_EQ(stats().duplicates, 0);
	get_is(DS, b.hash, &b);
	get_is(DS, a.hash, &a);
	get_is(DS, c.hash, &c);
	get_none(DS, absent);

	/* chain --from goes through the same index. */
	UTIL_OK(oplog_store_chain(util_s, util_sl(DS), util_sl("o"), c.hash, 0, 0, util_list_cb,
	                          &l, &end));
	UTIL_EQ(l.n, 1);
	UTIL_HASH_EQ(l.items[0].hash, c.hash);
	UTIL_EQ(end, OPLOG_CHAIN_GENESIS);
	util_list_free(&l);
	UTIL_RC(oplog_store_chain(util_s, util_sl(DS), util_sl("n"), b.hash, 0, 0, util_list_cb,
	                          &l, &end), OPLOG_ENOTFOUND);
	util_list_free(&l);

	/* The same again after a reopen, and once more as a duplicate. */
	reopen();
	get_is(DS, a.hash, &a);
	get_is(DS, c.hash, &c);
	apply1(&c, &st);
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

	mk(&a, DS, "n", 1, 200, 0, "ka", OPLOG_OP_PUT, "a", NULL);
	prefixed(hb, a.hash, 0x00);
	prefixed(hc, a.hash, 0xff);
	memset(hd, 0x01, sizeof(hd));
	forge(&b, DS, "m", 100, "b", hb);
	forge(&c, DS, "o", 300, "c", hc);
	forge(&d, DS, "p", 400, "d", hd);
	UTIL_OK(util_apply(util_s, (struct util_entry *[]){ &a, &b }, 2, &st));
	UTIL_EQ(st.applied, 2);
	get_is(DS, a.hash, &a);
	get_is(DS, b.hash, &b);
	util_store_reset();
	apply1(&d, NULL);
	UTIL_OK(util_apply(util_s, (struct util_entry *[]){ &c, &a, &b }, 3, &st));
	UTIL_EQ(st.applied, 3);
	get_is(DS, a.hash, &a);
	get_is(DS, b.hash, &b);
	get_is(DS, c.hash, &c);
	get_is(DS, d.hash, &d);
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
	reopen();
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
	UTIL_OK(util_chain_build(c, 4, DS, "n", 1, NULL, 1000));
	UTIL_OK(util_apply_array(util_s, c, 2, NULL));    /* ids 2^18 - 2, 2^18 - 1: epoch 0 is complete */
	UTIL_OK(util_apply_array(util_s, c + 2, 2, NULL)); /* epoch 1 */
	for (i = 0; i < 4; i++)
		get_is(DS, c[i].hash, &c[i]);
	prefixed(other, c[0].hash, 0x5a);
	other[0] ^= 0xff;                                 /* another 8-byte prefix */
	get_none(DS, other);
	UTIL_CONSISTENT(util_s);
	oplog_store_close(util_s);
	util_s = NULL;
	/* One filter, of epoch 0, 512 KiB. */
	UTIL_EQ(util_lmdb_nth(util_dir, "blooms", 0, k, sizeof(k), &kl, v, sizeof(v), &vl), 0);
	UTIL_CHECK(kl == 4 && k[3] == 0 && vl == sizeof(v));
	UTIL_CHECK(util_lmdb_nth(util_dir, "blooms", 1, k, sizeof(k), &kl, v, sizeof(v), &vl) != 0);
	reopen();
	util_entries_free(c, 4);
}
END_TEST

START_TEST(test_verify__filter_ruling_out_an_entry_reported)
{
	struct util_entry c[4];

	near_epoch_end();
	UTIL_OK(util_chain_build(c, 4, DS, "n", 1, NULL, 1000));
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
	UTIL_OK(util_chain_build(c, 4, DS, "n", 1, NULL, 1000));
	UTIL_OK(util_apply_array(util_s, c, 4, NULL));    /* ids 2^18 - 2 .. 2^18 + 1 */
	prefixed(hx, c[0].hash, 0xee);                    /* c[0] is in epoch 0 */
	forge(&x, DS, "m", 2000, "x", hx);
	apply1(&x, NULL);                                 /* epoch 1 */
	for (i = 0; i < 4; i++)
		get_is(DS, c[i].hash, &c[i]);
	get_is(DS, hx, &x);
	oplog_store_close(util_s);
	util_s = NULL;
	/* The last record of the index is in epoch 1, the first in epoch 0. */
	UTIL_EQ(util_lmdb_nth(util_dir, "entries", 0, k, sizeof(k), &kl, v, sizeof(v), &vl), 0);
	UTIL_CHECK(kl == 16 && k[3] == 0);
	UTIL_EQ(util_lmdb_nth(util_dir, "entries", 4, k, sizeof(k), &kl, v, sizeof(v), &vl), 0);
	UTIL_CHECK(kl == 16 && k[3] == 1);
	reopen();
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
	UTIL_OK(oplog_store_prune(util_s, util_sl(DS), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 3);
	get_none(DS, c[0].hash);
	get_none(DS, c[2].hash);
	get_is(DS, c[3].hash, &c[3]);
	get_is(DS, hx, &x);
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

	mk(&a, DS, "n", 1, 200, 0, "ka", OPLOG_OP_PUT, "a", NULL);
	/* In "other": one entry with a's very hash, one sharing 8 bytes. */
	prefixed(hn, a.hash, 0x11);
	forge(&same, "other", "n", 100, "same", a.hash);
	forge(&near, "other", "x", 300, "near", hn);
	apply1(&same, NULL);
	apply1(&near, NULL);
	apply1(&a, NULL);
	UTIL_EQ(stats().entries, 3);
	get_is(DS, a.hash, &a);
	get_is("other", a.hash, &same);
	get_is("other", near.hash, &near);
	get_none(DS, near.hash);
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

	mk(&a, DS, "n", 1, 200, 0, "ka", OPLOG_OP_PUT, "a", NULL);
	prefixed(hb, a.hash, 0x00);
	prefixed(hc, a.hash, 0xff);
	forge(&b, DS, "m", 100, "b", hb);
	forge(&c, DS, "o", 300, "c", hc);
	apply1(&b, NULL);
	apply1(&a, NULL);
	apply1(&c, NULL);
	memset(&cut, 0, sizeof(cut));
	cut.wall = 200;      /* b and a, not c */
	UTIL_OK(oplog_store_prune(util_s, util_sl(DS), &cut, 1, &ps));
	UTIL_EQ(ps.pruned, 2);
	get_none(DS, b.hash);
	get_none(DS, a.hash);
	get_is(DS, c.hash, &c);
	util_store_reset();
	apply1(&a, NULL);
	apply1(&b, NULL);
	apply1(&c, NULL);
	cut.wall = 100;      /* b only, the middle one under the key */
	UTIL_OK(oplog_store_prune(util_s, util_sl(DS), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 1);
	get_is(DS, a.hash, &a);
	get_none(DS, b.hash);
	get_is(DS, c.hash, &c);
	util_entry_free(&a);
	util_entry_free(&b);
	util_entry_free(&c);
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

	UTIL_OK(util_chain_build(u, 2, DS, "n", 1, NULL, 0));
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
	UTIL_EQ(stats().entries, 1);
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
	UTIL_EQ(stats().rejected[OPLOG_R_BAD_OP], 1);
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

	UTIL_OK(util_chain_build(c, 3, DS, "n", 1, NULL, 1000));
	apply1(&c[2], &st);
	UTIL_EQ(st.late, 0);
	apply1(&c[0], &st);
	UTIL_EQ(st.applied, 1);
	UTIL_EQ(st.late, 1);
	apply1(&c[1], &st);
	UTIL_EQ(st.late, 1);
	UTIL_OK(util_node_get(util_s, DS, "n", &n));
	UTIL_EQ(n.head_seq, 3);
	UTIL_EQ(n.head_wall, c[2].e.wall);
	UTIL_HASH_EQ(n.head_hash, c[2].hash);
	UTIL_EQ(stats().late, 2);
	UTIL_CONSISTENT(util_s);
	util_entries_free(c, 3);
}
END_TEST

START_TEST(test_apply__later_entry_moves_head)
{
	struct util_entry c[3];
	struct oplog_apply_stats st;
	struct util_node n;

	UTIL_RC(util_node_get(util_s, DS, "n", &n), OPLOG_ENOTFOUND);
	UTIL_OK(util_chain_build(c, 3, DS, "n", 1, NULL, 1000));
	apply1(&c[0], &st);
	UTIL_OK(util_node_get(util_s, DS, "n", &n));
	UTIL_EQ(n.head_seq, 1);
	UTIL_HASH_EQ(n.head_hash, c[0].hash);
	apply1(&c[1], &st);
	UTIL_EQ(st.late, 0);
	UTIL_OK(util_node_get(util_s, DS, "n", &n));
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
	mk(&a, DS, "n", 1, 100, 0, "k", OPLOG_OP_PUT, "1", NULL);
	mk(&b, DS, "n", 2, 300, 0, "k", OPLOG_OP_PUT, "2", a.hash);
	mk(&c, DS, "n", 3, 200, 7, "k", OPLOG_OP_PUT, "3", b.hash);
	apply1(&a, NULL);
	apply1(&b, NULL);
	apply1(&c, NULL);
	UTIL_OK(util_node_get(util_s, DS, "n", &n));
	UTIL_EQ(n.head_seq, 2);
	UTIL_HASH_EQ(n.head_hash, b.hash);
	UTIL_EQ(n.watermark, 3);
	UTIL_EQ(stats().late, 1);
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

	mk(&a, DS, "n", 1, 100, 0, "k", OPLOG_OP_PUT, "1", NULL);
	mk(&b, DS, "n", 2, 100, 5, "k", OPLOG_OP_PUT, "2", a.hash);
	mk(&c, DS, "n", 3, 100, 2, "k", OPLOG_OP_PUT, "3", b.hash);
	apply1(&c, NULL);
	apply1(&b, NULL);
	apply1(&a, NULL);
	UTIL_OK(util_node_get(util_s, DS, "n", &n));
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

	mk(&a, DS, "n", 1, 100, 0, "k", OPLOG_OP_PUT, "1", NULL);
	mk(&x, DS, "n", 2, 200, 3, "k", OPLOG_OP_PUT, "x", a.hash);
	mk(&y, DS, "n", 2, 200, 3, "k", OPLOG_OP_PUT, "y", a.hash);
	for (i = 0; i < 2; i++) {
		if (i) {
			util_store_reset();
		}
		order[0] = i ? &y : &x;
		order[1] = i ? &x : &y;
		apply1(&a, NULL);
		apply1(order[0], NULL);
		apply1(order[1], NULL);
		UTIL_OK(util_node_get(util_s, DS, "n", &n));
		UTIL_EQ(n.head_seq, 2);
		UTIL_HASH_EQ(n.head_hash, hmax(x.hash, y.hash));
	}
	util_entry_free(&a);
	util_entry_free(&x);
	util_entry_free(&y);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Watermarks and gaps                                                 */

START_TEST(test_watermark__advances_through_gap_once_filled)
{
	struct util_entry c[9];
	struct util_node n;
	char gaps[256];
	size_t i;
	static const int first[] = { 1, 2, 5, 6, 9 };

	UTIL_OK(util_chain_build(c, 9, DS, "n", 1, NULL, 1000));
	for (i = 0; i < NELEM(first); i++)
		apply1(&c[first[i] - 1], NULL);
	UTIL_OK(util_node_get(util_s, DS, "n", &n));
	util_gaps_str(&n, gaps, sizeof(gaps));
	UTIL_EQ(n.watermark, 2);
	UTIL_EQ(n.head_seq, 9);
	UTIL_STR_EQ(gaps, "[3,4][7,8]");

	apply1(&c[3], NULL);
	UTIL_OK(util_node_get(util_s, DS, "n", &n));
	UTIL_EQ(n.watermark, 2);
	apply1(&c[2], NULL);
	UTIL_OK(util_node_get(util_s, DS, "n", &n));
	util_gaps_str(&n, gaps, sizeof(gaps));
	UTIL_EQ(n.watermark, 6);
	UTIL_STR_EQ(gaps, "[7,8]");

	UTIL_OK(util_apply_array(util_s, &c[6], 2, NULL));
	UTIL_OK(util_node_get(util_s, DS, "n", &n));
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

	UTIL_OK(util_chain_build(c, 3, DS, "n", 1, NULL, 1000));
	UTIL_OK(util_apply_array(util_s, &c[1], 2, NULL));
	UTIL_OK(util_node_get(util_s, DS, "n", &n));
	util_gaps_str(&n, gaps, sizeof(gaps));
	UTIL_EQ(n.watermark, 0);
	UTIL_STR_EQ(gaps, "[1,1]");
	apply1(&c[0], NULL);
	UTIL_OK(util_node_get(util_s, DS, "n", &n));
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

	UTIL_OK(util_chain_build(c, 4, DS, "n", 1, NULL, 1000));
	order[0] = &c[3]; order[1] = &c[1]; order[2] = &c[0]; order[3] = &c[2];
	UTIL_OK(util_apply(util_s, order, 4, NULL));
	UTIL_OK(util_node_get(util_s, DS, "n", &n));
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
	mk(&last, DS, "n", OPLOG_MAX_SEQ, 500, 0, "k", OPLOG_OP_PUT, "last", prev);
	mk(&first, DS, "n", 1, 100, 0, "k", OPLOG_OP_PUT, "first", NULL);
	apply1(&last, NULL);
	UTIL_OK(util_node_get(util_s, DS, "n", &n));
	util_gaps_str(&n, gaps, sizeof(gaps));
	snprintf(want, sizeof(want), "[1,%llu]", (unsigned long long)OPLOG_MAX_SEQ - 1);
	UTIL_STR_EQ(gaps, want);
	UTIL_EQ(n.head_seq, OPLOG_MAX_SEQ);
	UTIL_EQ(n.watermark, 0);
	apply1(&first, NULL);
	UTIL_OK(util_node_get(util_s, DS, "n", &n));
	util_gaps_str(&n, gaps, sizeof(gaps));
	snprintf(want, sizeof(want), "[2,%llu]", (unsigned long long)OPLOG_MAX_SEQ - 1);
	UTIL_STR_EQ(gaps, want);
	UTIL_EQ(n.watermark, 1);
	UTIL_OK(util_breaks(util_s, DS, br, 2, &nb));
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

	UTIL_OK(util_chain_build(c, 3, DS, "n", 1, NULL, 1000));
	mk(&f, DS, "n", 2, 1021, 0, "k2", OPLOG_OP_PUT, "other", c[0].hash);
	UTIL_OK(util_apply_array(util_s, c, 3, NULL));
	UTIL_OK(util_forks(util_s, DS, forks, 4, &nf));
	UTIL_EQ(nf, 0);
	apply1(&f, &st);
	UTIL_EQ(st.forks, 1);
	UTIL_EQ(st.applied, 1);
	UTIL_OK(util_forks(util_s, DS, forks, 4, &nf));
	UTIL_EQ(nf, 1);
	UTIL_STR_EQ(forks[0].node, "n");
	UTIL_EQ(forks[0].seq, 2);
	UTIL_EQ(forks[0].n, 2);
	lo = hmin(c[1].hash, f.hash);
	hi = hmax(c[1].hash, f.hash);
	UTIL_HASH_EQ(forks[0].hashes[0], lo);
	UTIL_HASH_EQ(forks[0].hashes[1], hi);
	/* The sibling has the right prev: no chain break. */
	UTIL_OK(util_breaks(util_s, DS, br, 4, &nb));
	UTIL_EQ(nb, 0);
	UTIL_EQ(stats().forks, 1);

	/* A third hash at the same seq joins the same fork record. */
	mk(&g, DS, "n", 2, 1022, 0, "k2", OPLOG_OP_PUT, "third", c[0].hash);
	apply1(&g, &st);
	UTIL_OK(util_forks(util_s, DS, forks, 4, &nf));
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
	mk(&a, DS, "n", 1, 100, 0, "k", OPLOG_OP_PUT, "1", NULL);
	mk(&b, DS, "n", 2, 200, 0, "k", OPLOG_OP_PUT, "2", wrong);
	apply1(&a, NULL);
	apply1(&b, &st);
	UTIL_EQ(st.chain_breaks, 1);
	UTIL_OK(util_breaks(util_s, DS, br, 4, &nb));
	UTIL_EQ(nb, 1);
	UTIL_STR_EQ(br[0].node, "n");
	UTIL_EQ(br[0].seq, 2);
	UTIL_HASH_EQ(br[0].hash, b.hash);
	UTIL_HASH_EQ(br[0].prev, wrong);
	UTIL_EQ(stats().chain_breaks, 1);
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
	mk(&a, DS, "n", 1, 100, 0, "k", OPLOG_OP_PUT, "1", NULL);
	mk(&b, DS, "n", 2, 200, 0, "k", OPLOG_OP_PUT, "2", wrong);
	apply1(&b, &st);
	/* Nothing at seq 1 to compare with yet. */
	UTIL_EQ(st.chain_breaks, 0);
	UTIL_OK(util_breaks(util_s, DS, br, 4, &nb));
	UTIL_EQ(nb, 0);
	apply1(&a, &st);
	UTIL_EQ(st.chain_breaks, 1);
	UTIL_OK(util_breaks(util_s, DS, br, 4, &nb));
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

	UTIL_OK(util_chain_build(c, 4, DS, "n", 1, NULL, 1000));
	for (i = 0; i < 4; i++)
		rev[i] = &c[3 - i];
	apply1(&c[2], &st);
	UTIL_EQ(st.chain_breaks, 0);
	UTIL_OK(util_apply(util_s, rev, 4, &st));
	UTIL_EQ(st.chain_breaks, 0);
	UTIL_OK(util_breaks(util_s, DS, br, 4, &nb));
	UTIL_EQ(nb, 0);
	UTIL_EQ(stats().chain_breaks, 0);
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

	mk(&a, DS, "n", 1, 100, 0, "k", OPLOG_OP_PUT, "1", NULL);
	mk(&a2, DS, "n", 1, 101, 0, "k", OPLOG_OP_PUT, "1-bis", NULL);
	mk(&b, DS, "n", 2, 200, 0, "k", OPLOG_OP_PUT, "2", a2.hash);
	apply1(&a, NULL);
	apply1(&b, NULL);
	UTIL_OK(util_breaks(util_s, DS, br, 4, &nb));
	UTIL_EQ(nb, 1);
	UTIL_HASH_EQ(br[0].hash, b.hash);
	apply1(&a2, NULL);
	UTIL_OK(util_breaks(util_s, DS, br, 4, &nb));
	UTIL_EQ(nb, 0);
	UTIL_OK(util_forks(util_s, DS, forks, 4, &nf));
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

	UTIL_OK(util_chain_build(c, 3, DS, "n", 1, NULL, 1000));
	mk(&other, DS, "n", 2, 1021, 0, "k2", OPLOG_OP_PUT, "other", c[0].hash);
	apply1(&c[0], NULL);
	apply1(&c[2], NULL);
	UTIL_OK(util_breaks(util_s, DS, br, 4, &nb));
	UTIL_EQ(nb, 0);
	apply1(&other, NULL);
	UTIL_OK(util_breaks(util_s, DS, br, 4, &nb));
	UTIL_EQ(nb, 1);
	UTIL_EQ(br[0].seq, 3);
	UTIL_HASH_EQ(br[0].hash, c[2].hash);
	UTIL_HASH_EQ(br[0].prev, c[1].hash);
	apply1(&c[1], NULL);
	UTIL_OK(util_breaks(util_s, DS, br, 4, &nb));
	UTIL_EQ(nb, 0);
	UTIL_CONSISTENT(util_s);
	util_entries_free(c, 3);
	util_entry_free(&other);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Documents: last writer wins in HLC order                            */

START_TEST(test_doc__later_hlc_wins)
{
	struct util_entry a, b;
	struct util_doc d;

	mk(&a, DS, "n1", 1, 100, 0, "k", OPLOG_OP_PUT, "old", NULL);
	mk(&b, DS, "n2", 1, 100, 1, "k", OPLOG_OP_PUT, "new", NULL);
	UTIL_RC(util_doc_get(util_s, DS, "c", "k", &d), OPLOG_ENOTFOUND);
	apply1(&a, NULL);
	UTIL_OK(util_doc_get(util_s, DS, "c", "k", &d));
	UTIL_STR_EQ(d.data, "old");
	apply1(&b, NULL);
	UTIL_OK(util_doc_get(util_s, DS, "c", "k", &d));
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

	mk(&a, DS, "n1", 1, 100, 0, "k", OPLOG_OP_PUT, "old", NULL);
	mk(&b, DS, "n2", 1, 200, 0, "k", OPLOG_OP_PUT, "new", NULL);
	apply1(&b, NULL);
	apply1(&a, NULL);
	UTIL_OK(util_doc_get(util_s, DS, "c", "k", &d));
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

	mk(&a, DS, "a", 1, 100, 4, "k", OPLOG_OP_PUT, "from-a", NULL);
	mk(&ab, DS, "ab", 1, 100, 4, "k", OPLOG_OP_PUT, "from-ab", NULL);
	apply1(&ab, NULL);
	apply1(&a, NULL);
	UTIL_OK(util_doc_get(util_s, DS, "c", "k", &d));
	UTIL_STR_EQ(d.node, "ab");
	UTIL_STR_EQ(d.data, "from-ab");

	util_store_reset();
	apply1(&a, NULL);
	apply1(&ab, NULL);
	UTIL_OK(util_doc_get(util_s, DS, "c", "k", &d));
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

	mk(&x, DS, "n", 1, 100, 0, "k", OPLOG_OP_PUT, "x", NULL);
	mk(&y, DS, "n", 1, 100, 0, "k", OPLOG_OP_PUT, "y", NULL);
	for (i = 0; i < 2; i++) {
		if (i) {
			util_store_reset();
		}
		apply1(i ? &y : &x, NULL);
		apply1(i ? &x : &y, NULL);
		UTIL_OK(util_doc_get(util_s, DS, "c", "k", &d));
		UTIL_HASH_EQ(d.hash, hmax(x.hash, y.hash));
	}
	util_entry_free(&x);
	util_entry_free(&y);
}
END_TEST

START_TEST(test_doc__tombstone_beats_older_late_put)
{
	struct util_entry put, del;
	struct util_doc d;

	mk(&put, DS, "n1", 1, 100, 0, "k", OPLOG_OP_PUT, "alive", NULL);
	mk(&del, DS, "n2", 1, 200, 0, "k", OPLOG_OP_DEL, NULL, NULL);
	apply1(&del, NULL);
	apply1(&put, NULL);
	UTIL_OK(util_doc_get(util_s, DS, "c", "k", &d));
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

	mk(&del, DS, "n1", 1, 100, 0, "k", OPLOG_OP_DEL, NULL, NULL);
	mk(&put, DS, "n2", 1, 200, 0, "k", OPLOG_OP_PUT, "back", NULL);
	apply1(&del, NULL);
	apply1(&put, NULL);
	UTIL_OK(util_doc_get(util_s, DS, "c", "k", &d));
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

	mk(&put, DS, "n", 1, 100, 0, "k", OPLOG_OP_PUT, "alive", NULL);
	mk(&del, DS, "n", 2, 200, 0, "k", OPLOG_OP_DEL, NULL, put.hash);
	apply1(&put, NULL);
	apply1(&del, NULL);
	UTIL_OK(util_doc_get(util_s, DS, "c", "k", &d));
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

	mk(&lo, DS, "x", 1, 0, 0, "k", OPLOG_OP_PUT, "lo", NULL);
	mk(&mid, DS, "y", 1, (uint64_t)INT64_MAX - 1, UINT32_MAX, "k", OPLOG_OP_PUT, "mid", NULL);
	mk(&hi, DS, "z", 1, (uint64_t)INT64_MAX, 0, "k", OPLOG_OP_PUT, "hi", NULL);
	apply1(&hi, NULL);
	apply1(&mid, NULL);
	apply1(&lo, NULL);
	UTIL_OK(util_doc_get(util_s, DS, "c", "k", &d));
	UTIL_STR_EQ(d.data, "hi");
	UTIL_EQ(d.wall, (uint64_t)INT64_MAX);
	UTIL_OK(oplog_store_scan(util_s, util_sl(DS), NULL, 0, util_list_cb, &l));
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
	sp.ds = util_sl(DS);
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
	apply1(&u, NULL);
	apply1(&v, NULL);
	{
		char k1[OPLOG_MAX_KEY + 1], k2[OPLOG_MAX_KEY + 1];

		memcpy(k1, key, sizeof(key));
		k1[OPLOG_MAX_KEY] = '\0';
		memcpy(k2, key2, sizeof(key2));
		k2[OPLOG_MAX_KEY] = '\0';
		UTIL_OK(util_doc_get(util_s, DS, "c", k1, &d));
		UTIL_STR_EQ(d.data, "long");
		UTIL_OK(util_doc_get(util_s, DS, "c", k2, &d));
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

	UTIL_OK(util_entry_build(&x, DS, "n", 1, 100, 0, "ab", "c", OPLOG_OP_PUT, "ab|c", NULL));
	UTIL_OK(util_entry_build(&y, DS, "m", 1, 200, 0, "a", "bc", OPLOG_OP_PUT, "a|bc", NULL));
	apply1(&x, NULL);
	apply1(&y, NULL);
	UTIL_OK(util_doc_get(util_s, DS, "ab", "c", &d));
	UTIL_STR_EQ(d.data, "ab|c");
	UTIL_OK(util_doc_get(util_s, DS, "a", "bc", &d));
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

struct doc_count {
	size_t n;
};

static int doc_count_cb(const struct oplog_doc *d, void *arg)
{
	struct doc_count *c = arg;

	(void)d;
	c->n++;
	return 0;
}

static size_t doc_total(const char *ds)
{
	struct doc_count c = { 0 };

	UTIL_OK(oplog_store_docs(util_s, util_sl(ds), doc_count_cb, &c));
	return c.n;
}

/* ------------------------------------------------------------------ */
/* Dataset isolation                                                   */

static int name_list_cb(struct oplog_slice name, void *arg)
{
	char *out = arg;
	size_t used = strlen(out);

	if (used + name.len + 2 > 256)
		return -100;
	memcpy(out + used, name.ptr, name.len);
	out[used + name.len] = ';';
	out[used + name.len + 1] = '\0';
	return 0;
}

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
	mk(&fork1, "shop", "n", 2, 1020, 1, "k9", OPLOG_OP_PUT, "f", c[0].hash);
	UTIL_OK(util_apply_array(util_s, c, 3, NULL));
	apply1(&d2, NULL);
	apply1(&fork1, NULL);

	UTIL_EQ(stats().entries, 5);
	UTIL_EQ(stats().datasets, 2);
	UTIL_OK(oplog_store_datasets(util_s, name_list_cb, names));
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
	UTIL_EQ(doc_total("shop"), 4);
	UTIL_EQ(doc_total("shop2"), 1);

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
	apply1(&a, &st);
	apply1(&b, &st);
	UTIL_EQ(st.applied, 1);
	UTIL_EQ(st.duplicates, 0);
	UTIL_EQ(stats().entries, 2);
	UTIL_EQ(stats().datasets, 2);
	util_entry_free(&a);
	util_entry_free(&b);
}
END_TEST

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
	size_t i;

	UTIL_OK(util_chain_build(a, 6, DS, "a", 1, NULL, 1000));
	UTIL_OK(util_chain_build(b, 5, DS, "b", 1, NULL, 1005));
	UTIL_OK(util_apply_array(util_s, a, 6, NULL));
	apply1(&b[0], NULL);
	apply1(&b[1], NULL);
	apply1(&b[3], NULL);
	apply1(&b[4], NULL);
	UTIL_OK(util_node_get(util_s, DS, "a", &na0));
	UTIL_OK(util_node_get(util_s, DS, "b", &nb0));
	UTIL_EQ(nb0.watermark, 2);
	UTIL_OK(util_doc_get(util_s, DS, "c", "k1", &d));
	UTIL_HASH_EQ(d.hash, b[0].hash);

	cut = hlc_of(&a[3]);   /* wall 1040: a1..a4, b1..b3 are at or before */
	memset(&ps, 0, sizeof(ps));
	UTIL_OK(oplog_store_prune(util_s, util_sl(DS), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 6);     /* a1..a4, b1, b2 */
	UTIL_EQ(ps.kept_gap, 0);   /* b4 is at wall 1045: after the cutoff */
	UTIL_CHECK(ps.batches >= 1);
	UTIL_EQ(stats().entries, 4);

	UTIL_OK(oplog_store_scan(util_s, util_sl(DS), NULL, 0, util_list_cb, &l));
	UTIL_EQ(l.n, 4);
	UTIL_CHECK(util_list_find(&l, a[4].hash) >= 0);
	UTIL_CHECK(util_list_find(&l, a[5].hash) >= 0);
	UTIL_CHECK(util_list_find(&l, b[3].hash) >= 0);
	UTIL_CHECK(util_list_find(&l, b[4].hash) >= 0);
	util_list_free(&l);

	UTIL_OK(util_node_get(util_s, DS, "a", &na));
	UTIL_OK(util_node_get(util_s, DS, "b", &nb));
	UTIL_EQ(na.pruned_through, 4);
	UTIL_EQ(nb.pruned_through, 2);
	UTIL_EQ(na.head_seq, na0.head_seq);
	UTIL_HASH_EQ(na.head_hash, na0.head_hash);
	UTIL_EQ(na.watermark, 6);
	UTIL_EQ(nb.head_seq, 5);
	UTIL_EQ(nb.watermark, 2);
	UTIL_EQ(nb.n_gaps, 1);

	/* Documents written by pruned entries stay. */
	UTIL_OK(util_doc_get(util_s, DS, "c", "k1", &d));
	UTIL_HASH_EQ(d.hash, b[0].hash);
	UTIL_OK(util_doc_get(util_s, DS, "c", "k3", &d));
	UTIL_HASH_EQ(d.hash, a[2].hash);
	UTIL_EQ(doc_total(DS), 6);
	UTIL_CONSISTENT(util_s);

	/* A later cutoff past b's gap: b4, b5 are above the watermark, kept. */
	cut = hlc_of(&a[5]);
	memset(&ps, 0, sizeof(ps));
	UTIL_OK(oplog_store_prune(util_s, util_sl(DS), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 2);
	UTIL_EQ(ps.kept_gap, 2);
	UTIL_EQ(stats().entries, 2);
	UTIL_OK(util_node_get(util_s, DS, "b", &nb));
	UTIL_EQ(nb.pruned_through, 2);
	UTIL_EQ(nb.watermark, 2);
	{
		char gaps[64];

		util_gaps_str(&nb, gaps, sizeof(gaps));
		UTIL_STR_EQ(gaps, "[3,3]");
	}
	UTIL_OK(util_node_get(util_s, DS, "a", &na));
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

	UTIL_OK(util_chain_build(c, 10, DS, "n", 1, NULL, 1000));
	UTIL_OK(util_apply_array(util_s, c, 10, NULL));
	UTIL_OK(util_node_get(util_s, DS, "n", &n0));
	cut = hlc_of(&c[9]);
	memset(&ps, 0, sizeof(ps));
	UTIL_OK(oplog_store_prune(util_s, util_sl(DS), &cut, 3, &ps));
	UTIL_EQ(ps.pruned, 10);
	UTIL_CHECK(ps.batches >= 4);
	UTIL_EQ(ps.kept_gap, 0);
	UTIL_EQ(stats().entries, 0);
	UTIL_OK(util_node_get(util_s, DS, "n", &n));
	UTIL_EQ(n.pruned_through, 10);
	UTIL_EQ(n.head_seq, 10);
	UTIL_HASH_EQ(n.head_hash, n0.head_hash);
	UTIL_EQ(n.watermark, 10);
	UTIL_EQ(doc_total(DS), 10);

	/* Nothing left to prune: a second run removes nothing. */
	memset(&ps, 0, sizeof(ps));
	UTIL_OK(oplog_store_prune(util_s, util_sl(DS), &cut, 3, &ps));
	UTIL_EQ(ps.pruned, 0);
	UTIL_CONSISTENT(util_s);
	util_entries_free(c, 10);
}
END_TEST

struct walk_rec {
	size_t   n;
	uint64_t seq[64];
};

static int walk_rec_cb(const struct oplog_entry *e, const void *msg, size_t len, void *arg)
{
	struct walk_rec *w = arg;

	(void)msg; (void)len;
	if (w->n < 64)
		w->seq[w->n] = e->seq;
	w->n++;
	return 0;
}

static void walk_str(const struct walk_rec *w, enum oplog_chain_end end, char *out, size_t cap)
{
	const char *name;
	size_t i, used = 0;

	out[0] = '\0';
	for (i = 0; i < w->n && i < 64; i++)
		used += (size_t)snprintf(out + used, cap - used, "%llu,", (unsigned long long)w->seq[i]);
	name = oplog_chain_end_name(end);
	snprintf(out + used, cap - used, "%s", name ? name : "(no end)");
}

/* Walk and render "seq,seq,...,end". */
static void walk(const char *node, const uint8_t *from, int forward, uint64_t limit,
                 char *out, size_t cap)
{
	struct walk_rec w;
	enum oplog_chain_end end = (enum oplog_chain_end)-1;

	memset(&w, 0, sizeof(w));
	UTIL_OK(oplog_store_chain(util_s, util_sl(DS), util_sl(node), from, forward, limit,
	                          walk_rec_cb, &w, &end));
	walk_str(&w, end, out, cap);
}

START_TEST(test_prune__backward_walk_ends_pruned)
{
	struct util_entry c[6];
	struct oplog_prune_stats ps;
	struct oplog_hlc cut;
	char got[256];

	UTIL_OK(util_chain_build(c, 6, DS, "n", 1, NULL, 1000));
	UTIL_OK(util_apply_array(util_s, c, 6, NULL));
	cut = hlc_of(&c[3]);
	UTIL_OK(oplog_store_prune(util_s, util_sl(DS), &cut, 0, &ps));
	walk("n", NULL, 0, 0, got, sizeof(got));
	UTIL_STR_EQ(got, "6,5,pruned");
	walk("n", c[4].hash, 1, 0, got, sizeof(got));
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
	UTIL_OK(util_chain_build(a, 3, DS, "a", 1, NULL, 1000));
	UTIL_OK(util_chain_build(b, 3, DS, "b", 1, NULL, 1000));
	UTIL_OK(util_apply_array(util_s, a, 3, NULL));
	UTIL_OK(util_apply_array(util_s, b, 3, NULL));

	/* (1019, UINT32_MAX) is before a2 and b2. */
	memset(&cut, 0, sizeof(cut));
	cut.wall = 1019;
	cut.logic = UINT32_MAX;
	UTIL_OK(oplog_store_prune(util_s, util_sl(DS), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 2);
	UTIL_OK(util_node_get(util_s, DS, "a", &n));
	UTIL_EQ(n.pruned_through, 1);
	UTIL_OK(util_node_get(util_s, DS, "b", &n));
	UTIL_EQ(n.pruned_through, 1);

	/* The cutoff is a (wall, logic) instant: node and hash are ignored,
	 * so a2's own position takes b2, at the same instant, with it. */
	cut = hlc_of(&a[1]);
	UTIL_OK(oplog_store_prune(util_s, util_sl(DS), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 2);
	UTIL_OK(util_node_get(util_s, DS, "a", &n));
	UTIL_EQ(n.pruned_through, 2);
	UTIL_OK(util_node_get(util_s, DS, "b", &n));
	UTIL_EQ(n.pruned_through, 2);
	UTIL_EQ(stats().entries, 2);
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

	mk(&a, DS, "n", 1, 10, 0, "k1", OPLOG_OP_PUT, "a", NULL);
	mk(&b, DS, "n", 1, 100, 0, "k2", OPLOG_OP_PUT, "b", NULL);
	mk(&c, DS, "n", 2, 200, 0, "k3", OPLOG_OP_PUT, "c", a.hash);
	apply1(&a, NULL);
	apply1(&b, NULL);
	apply1(&c, NULL);
	memset(&cut, 0, sizeof(cut));
	cut.wall = 50;
	UTIL_OK(oplog_store_prune(util_s, util_sl(DS), &cut, 0, &ps));
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

	UTIL_OK(util_chain_build(c, 12, DS, "n", 1, NULL, 1000));
	/* seq 1 and 2, then a gap at 3, then 4..12: watermark 2. */
	UTIL_OK(util_apply_array(util_s, c, 2, NULL));
	UTIL_OK(util_apply_array(util_s, c + 3, 9, NULL));
	memset(&cut, 0, sizeof(cut));
	cut.wall = UINT64_MAX >> 1;
	UTIL_OK(oplog_store_prune(util_s, util_sl(DS), &cut, 3, &ps));
	UTIL_EQ(ps.pruned, 2);
	UTIL_EQ(ps.kept_gap, 9);
	UTIL_CHECK(ps.batches >= 4);   /* 11 examined, at most 3 per txn */
	UTIL_EQ(stats().entries, 9);
	UTIL_CONSISTENT(util_s);
	util_entries_free(c, 12);
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

	UTIL_OK(util_chain_build(c, 3, DS, "n", 1, NULL, 1000));
	UTIL_OK(util_apply_array(util_s, c, 3, NULL));
	UTIL_EQ(oplog_store_scan(util_s, util_sl(DS), NULL, 0, stop_with_one, &calls), 1);
	UTIL_EQ(calls, 1);
	UTIL_EQ(oplog_store_scan_node(util_s, util_sl(DS), util_sl("n"), NULL, 0,
	                              stop_with_one, &calls), 1);
	UTIL_EQ(oplog_store_scan_seq(util_s, util_sl(DS), util_sl("n"), 1, 3, 0,
	                             stop_with_one, &calls), 1);
	UTIL_EQ(calls, 3);
	util_entries_free(c, 3);
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
	UTIL_EQ(stats().entries, 4);
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

	mk(&e1, DS, "n", 1, 100, 0, "k1", OPLOG_OP_PUT, "1", NULL);
	mk(&e2, DS, "n", 2, 300, 0, "k2", OPLOG_OP_PUT, "2", e1.hash);
	mk(&e3, DS, "n", 3, 200, 0, "k3", OPLOG_OP_PUT, "3", e2.hash);
	mk(&e4, DS, "n", 4, 400, 0, "k4", OPLOG_OP_PUT, "4", e3.hash);
	apply1(&e1, NULL);
	apply1(&e2, NULL);
	apply1(&e3, NULL);
	apply1(&e4, NULL);
	cut = hlc_of(&e3);   /* e1 and e3 are at or before it; e2 is not */
	UTIL_OK(oplog_store_prune(util_s, util_sl(DS), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 2);
	UTIL_OK(util_node_get(util_s, DS, "n", &n));
	UTIL_EQ(n.pruned_through, 3);
	UTIL_EQ(n.watermark, 4);
	UTIL_OK(oplog_store_scan(util_s, util_sl(DS), NULL, 0, util_list_cb, &l));
	UTIL_EQ(l.n, 2);
	UTIL_CHECK(util_list_find(&l, e2.hash) >= 0);
	util_list_free(&l);
	UTIL_CONSISTENT(util_s);
	/* Re-applying e2, still present, is a duplicate, not below boundary. */
	{
		struct oplog_apply_stats st;

		apply1(&e2, &st);
		UTIL_EQ(st.duplicates, 1);
		UTIL_EQ(st.below_boundary, 0);
	}
	cut = hlc_of(&e4);
	UTIL_OK(oplog_store_prune(util_s, util_sl(DS), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 2);
	UTIL_EQ(stats().entries, 0);
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

	UTIL_OK(util_chain_build(c, 6, DS, "n", 1, NULL, 1000));
	UTIL_OK(util_apply_array(util_s, c, 3, NULL));
	cut = hlc_of(&c[2]);
	UTIL_OK(oplog_store_prune(util_s, util_sl(DS), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 3);
	apply1(&c[4], &st);
	UTIL_EQ(st.applied, 1);
	UTIL_OK(util_node_get(util_s, DS, "n", &n));
	util_gaps_str(&n, gaps, sizeof(gaps));
	UTIL_EQ(n.watermark, 3);
	UTIL_EQ(n.head_seq, 5);
	UTIL_STR_EQ(gaps, "[4,4]");
	apply1(&c[3], &st);
	UTIL_EQ(st.chain_breaks, 0);
	UTIL_OK(util_node_get(util_s, DS, "n", &n));
	UTIL_EQ(n.watermark, 5);
	UTIL_EQ(n.n_gaps, 0);
	apply1(&c[5], NULL);
	UTIL_OK(util_breaks(util_s, DS, br, 4, &nb));
	UTIL_EQ(nb, 0);
	walk("n", NULL, 0, 0, got, sizeof(got));
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

	UTIL_OK(util_chain_build(c, 4, DS, "n", 1, NULL, 1000));
	mk(&f, DS, "n", 2, 1021, 0, "k2", OPLOG_OP_PUT, "fork", c[0].hash);
	UTIL_OK(util_apply_array(util_s, c, 4, NULL));
	apply1(&f, NULL);
	cut = hlc_of(&c[2]);
	UTIL_OK(oplog_store_prune(util_s, util_sl(DS), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 4);
	UTIL_OK(util_forks(util_s, DS, forks, 2, &nf));
	UTIL_EQ(nf, 1);
	UTIL_EQ(forks[0].seq, 2);
	UTIL_EQ(forks[0].n, 2);
	UTIL_HASH_EQ(forks[0].hashes[0], hmin(c[1].hash, f.hash));
	UTIL_CONSISTENT(util_s);
	util_entries_free(c, 4);
	util_entry_free(&f);
}
END_TEST

static void fill_rich(void);

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

	mk(&e1, DS, "n", 1, 100, 0, "k1", OPLOG_OP_PUT, "1", NULL);
	mk(&e2, DS, "n", 2, 300, 0, "k2", OPLOG_OP_PUT, "2", e1.hash);
	mk(&e3, DS, "n", 3, 200, 0, "k3", OPLOG_OP_PUT, "3", e2.hash);
	mk(&e4, DS, "n", 4, 400, 0, "k4", OPLOG_OP_PUT, "4", e3.hash);
	UTIL_OK(util_apply(util_s, (struct util_entry *[]){ &e1, &e2, &e3, &e4 }, 4, NULL));
	cut = hlc_of(&e3);
	UTIL_OK(oplog_store_prune(util_s, util_sl(DS), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 2);
	walk("n", e4.hash, 0, 0, got, sizeof(got));
	UTIL_STR_EQ(got, "4,pruned");
	walk("n", e2.hash, 1, 0, got, sizeof(got));
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

	fill_rich();
	/* Dataset "gappy": node g has seq 2 and 3 only. */
	UTIL_OK(util_chain_build(g, 3, "gappy", "g", 1, NULL, 1000));
	UTIL_OK(util_apply_array(util_s, g + 1, 2, NULL));
	before = util_store_render(util_s);
	UTIL_CHECK(before != NULL);

	memset(&cut, 0, sizeof(cut));
	cut.wall = 1009;          /* before a1 (1010) and b1 (1013) */
	UTIL_OK(oplog_store_prune(util_s, util_sl(DS), &cut, 0, &ps));
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

	reopen();
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
	reopen();
	return id;
}

/* The document (c, key) is u's write, data and all. */
static void doc_is(const char *key, const struct util_entry *u)
{
	struct util_doc d;

	UTIL_OK(util_doc_get(util_s, DS, "c", key, &d));
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

	mk(&n1, DS, "n", 1, 100, 0, "doc", OPLOG_OP_PUT, "v1", NULL);
	mk(&n2, DS, "n", 2, 200, 3, "doc", OPLOG_OP_PUT, "v2: the winner's body", n1.hash);
	mk(&n3, DS, "n", 3, 300, 0, "keep", OPLOG_OP_PUT, "v3", n2.hash);
	mk(&n4, DS, "n", 4, 400, 0, "gone", OPLOG_OP_DEL, NULL, n3.hash);
	apply1(&n1, NULL);
	apply1(&n2, NULL);
	apply1(&n3, NULL);
	apply1(&n4, NULL);
	UTIL_EQ(doc_log_id("doc"), 2);
	UTIL_EQ(doc_log_id("keep"), 3);
	UTIL_EQ(doc_log_id("gone"), 4);
	doc_is("doc", &n2);

	memset(&cut, 0, sizeof(cut));
	cut.wall = 250;
	UTIL_OK(oplog_store_prune(util_s, util_sl(DS), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 2);
	doc_is("doc", &n2);
	doc_is("keep", &n3);
	UTIL_EQ(doc_log_id("doc"), 0);
	UTIL_EQ(doc_log_id("keep"), 3);
	UTIL_CONSISTENT(util_s);

	/* A tombstone's winner pruned: still a tombstone, with no data. */
	cut.wall = 400;
	UTIL_OK(oplog_store_prune(util_s, util_sl(DS), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 2);
	UTIL_EQ(stats().entries, 0);
	doc_is("gone", &n4);
	doc_is("keep", &n3);
	UTIL_EQ(doc_log_id("gone"), 0);
	UTIL_EQ(doc_log_id("keep"), 0);
	UTIL_CONSISTENT(util_s);

	/* Nothing of it depends on the handle: a reopen reads the same. */
	before = util_store_render(util_s);
	reopen();
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

	mk(&n1, DS, "n", 1, 100, 0, "doc", OPLOG_OP_PUT, "v1", NULL);
	mk(&n2, DS, "n", 2, 200, 0, "doc", OPLOG_OP_PUT, "v2", n1.hash);
	mk(&n3, DS, "n", 3, 300, 0, "other", OPLOG_OP_PUT, "v3", n2.hash);
	UTIL_OK(util_apply(util_s, (struct util_entry *[]){ &n1, &n2, &n3 }, 3, NULL));
	memset(&cut, 0, sizeof(cut));
	cut.wall = 250;
	UTIL_OK(oplog_store_prune(util_s, util_sl(DS), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 2);
	UTIL_EQ(doc_log_id("doc"), 0);

	/* Below the boundary and earlier than n2: nothing changes. */
	mk(&early, DS, "n", 2, 150, 0, "doc", OPLOG_OP_PUT, "early", n1.hash);
	apply1(&early, &st);
	UTIL_EQ(st.below_boundary, 1);
	doc_is("doc", &n2);
	UTIL_EQ(doc_log_id("doc"), 0);

	/* Below the boundary and later than n2: the new winner, inline. */
	mk(&late, DS, "n", 1, 260, 0, "doc", OPLOG_OP_PUT, "late, below the boundary", NULL);
	apply1(&late, &st);
	UTIL_EQ(st.below_boundary, 1);
	doc_is("doc", &late);
	UTIL_EQ(doc_log_id("doc"), 0);
	UTIL_CONSISTENT(util_s);

	/* In the oplog and later: a pointer into the log again. */
	mk(&n4, DS, "n", 4, 400, 0, "doc", OPLOG_OP_PUT, "v4", n3.hash);
	apply1(&n4, &st);
	UTIL_EQ(st.applied, 1);
	doc_is("doc", &n4);
	UTIL_EQ(doc_log_id("doc"), 4);
	UTIL_CONSISTENT(util_s);

	/* And a tombstone over it, itself pruned, then a later put. */
	mk(&n5, DS, "n", 5, 500, 0, "doc", OPLOG_OP_DEL, NULL, n4.hash);
	apply1(&n5, NULL);
	cut.wall = 500;
	UTIL_OK(oplog_store_prune(util_s, util_sl(DS), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 3);
	doc_is("doc", &n5);
	UTIL_EQ(doc_log_id("doc"), 0);
	apply1(&late, &st);                      /* older than the tombstone */
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

	UTIL_OK(util_chain_build(c, 5, DS, "n", 1, NULL, 1000));
	UTIL_OK(util_apply_array(util_s, c, 5, NULL));
	cut = hlc_of(&c[2]);
	UTIL_OK(oplog_store_prune(util_s, util_sl(DS), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 3);
	s0 = stats();
	apply1(&c[1], &st);
	UTIL_EQ(st.below_boundary, 1);
	UTIL_EQ(st.applied, 0);
	UTIL_EQ(st.duplicates, 0);
	s1 = stats();
	UTIL_EQ(s1.entries, s0.entries);
	UTIL_EQ(s1.below_boundary, s0.below_boundary + 1);
	UTIL_RC(oplog_store_get(util_s, util_sl(DS), c[1].hash, util_list_cb, &l), OPLOG_ENOTFOUND);
	/* A present entry is still a plain duplicate. */
	apply1(&c[4], &st);
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

	UTIL_OK(util_chain_build(c, 4, DS, "n", 1, NULL, 1000));
	mk(&other, DS, "m", 1, 5000, 0, "k2", OPLOG_OP_PUT, "m-wins", NULL);
	UTIL_OK(util_apply_array(util_s, c, 4, NULL));
	apply1(&other, NULL);
	cut = hlc_of(&c[3]);
	UTIL_OK(oplog_store_prune(util_s, util_sl(DS), &cut, 0, &ps));
	UTIL_EQ(ps.pruned, 4);
	UTIL_OK(util_node_get(util_s, DS, "n", &n0));
	UTIL_EQ(n0.pruned_through, 4);

	/* A sibling at seq 2 of n, newer than m's winner of k2. */
	mk(&late, DS, "n", 2, 6000, 0, "k2", OPLOG_OP_PUT, "n-late", c[0].hash);
	apply1(&late, &st);
	UTIL_EQ(st.below_boundary, 1);
	UTIL_EQ(st.applied, 0);
	UTIL_EQ(st.forks, 0);
	UTIL_OK(util_doc_get(util_s, DS, "c", "k2", &d));
	UTIL_STR_EQ(d.data, "n-late");
	UTIL_HASH_EQ(d.hash, late.hash);
	UTIL_EQ(d.seq, 2);
	UTIL_EQ(stats().entries, 1);
	/* Only the document moved: not the head, not forks. */
	UTIL_OK(util_node_get(util_s, DS, "n", &n));
	UTIL_EQ(n.head_seq, n0.head_seq);
	UTIL_HASH_EQ(n.head_hash, n0.head_hash);
	UTIL_EQ(n.watermark, n0.watermark);
	UTIL_OK(util_forks(util_s, DS, forks, 2, &nf));
	UTIL_EQ(nf, 0);
	UTIL_CONSISTENT(util_s);
	util_entries_free(c, 4);
	util_entry_free(&other);
	util_entry_free(&late);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Verify                                                              */

/*
 * A store with something of everything: two datasets, gaps, a fork, a
 * chain break, dels, documents contested across nodes.
 */
static void fill_rich(void)
{
	struct util_entry a[6], b[4], f, brk, del, x;
	uint8_t wrong[OPLOG_HASH_LEN];

	memset(wrong, 0x77, sizeof(wrong));
	UTIL_OK(util_chain_build(a, 6, DS, "a", 1, NULL, 1000));
	UTIL_OK(util_chain_build(b, 4, DS, "b", 1, NULL, 1003));
	mk(&f, DS, "a", 3, 1031, 0, "k3", OPLOG_OP_PUT, "fork", a[1].hash);
	mk(&brk, DS, "b", 5, 1060, 0, "k5", OPLOG_OP_PUT, "brk", wrong);
	mk(&del, DS, "b", 6, 1070, 0, "k1", OPLOG_OP_DEL, NULL, brk.hash);
	UTIL_OK(util_entry_build(&x, "other", "a", 1, 1, 0, "c", "k1", OPLOG_OP_PUT, "x", NULL));
	UTIL_OK(util_apply_array(util_s, a, 6, NULL));
	apply1(&b[0], NULL);
	apply1(&b[2], NULL);
	apply1(&b[3], NULL);
	apply1(&f, NULL);
	apply1(&brk, NULL);
	apply1(&del, NULL);
	apply1(&x, NULL);
	util_entries_free(a, 6);
	util_entries_free(b, 4);
	util_entry_free(&f);
	util_entry_free(&brk);
	util_entry_free(&del);
	util_entry_free(&x);
}

START_TEST(test_verify__consistent_store_has_no_problem)
{
	struct util_break br[4];
	struct util_fork forks[4];
	size_t nb = 0, nf = 0;
	struct oplog_prune_stats ps;
	struct oplog_hlc cut;

	UTIL_EQ(util_verify(util_s, NULL), 0);
	fill_rich();
	UTIL_OK(util_breaks(util_s, DS, br, 4, &nb));
	UTIL_OK(util_forks(util_s, DS, forks, 4, &nf));
	UTIL_EQ(nb, 1);
	UTIL_EQ(nf, 1);
	UTIL_CONSISTENT(util_s);
	memset(&cut, 0, sizeof(cut));
	cut.wall = 1025;
	UTIL_OK(oplog_store_prune(util_s, util_sl(DS), &cut, 2, &ps));
	UTIL_CHECK(ps.pruned > 0);
	UTIL_CONSISTENT(util_s);
	reopen();
	UTIL_CONSISTENT(util_s);
}
END_TEST

/* Does one line of text hold both a and b (b NULL: just a)? */
static int line_with(const char *text, const char *a, const char *b)
{
	const char *p = text;

	while (p && *p) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char *line = strndup(p, len);
		int yes = line && strstr(line, a) && (!b || strstr(line, b));

		free(line);
		if (yes)
			return 1;
		p = end ? end + 1 : NULL;
	}
	return 0;
}

/* Damage one DBI of a rich store; verify must report a problem that names
 * `tree` and, when detail is not NULL, says `detail` on the same line. */
static void damage_and_verify_detail(int (*damage)(void), const char *tree, const char *detail)
{
	char *problems = NULL;
	int64_t n;

	fill_rich();
	UTIL_CONSISTENT(util_s);
	oplog_store_close(util_s);
	util_s = NULL;
	UTIL_EQ(damage(), 0);
	UTIL_OK(util_store_open(&util_s, util_dir, 0, 0, 0));
	n = util_verify(util_s, &problems);
	if (getenv("UTIL_SHOW_PROBLEMS"))
		fprintf(stderr, "[%s / %s]\n%s", tree, detail ? detail : "",
		        problems ? problems : "(none)\n");
	ck_assert_msg(n >= 1, "verify found %lld problems after damaging %s", (long long)n, tree);
	ck_assert_msg(problems && line_with(problems, tree, detail),
	              "no problem mentions \"%s\"%s%s:\n%s", tree, detail ? " with " : "",
	              detail ? detail : "", problems ? problems : "(none)");
	free(problems);
}

/* Damage one DBI of a rich store; verify must name it. */
static void damage_and_verify(int (*damage)(void), const char *mention)
{
	damage_and_verify_detail(damage, mention, NULL);
}

static int del_by_hlc(void)   { return util_lmdb_del_first(util_dir, "by_hlc"); }
static int del_by_seq(void)   { return util_lmdb_del_first(util_dir, "by_seq"); }
static int del_by_node(void)  { return util_lmdb_del_first(util_dir, "by_node"); }
static int del_entry(void)    { return util_lmdb_del_first(util_dir, "entries"); }
/* by_seq value: log id u64 | prev; the first record with a prev is a2's. */
static int flip_link(void)    { return util_lmdb_flip_first(util_dir, "by_seq", 8, 0x01); }
/* heads record: head_hash at byte 20, watermark u64 at bytes 52..59. */
static int flip_head(void)    { return util_lmdb_flip_first(util_dir, "heads", 20, 0x01); }
static int flip_wm(void)      { return util_lmdb_flip_first(util_dir, "heads", 59, 0x02); }
/* doc record: the winner's log id, u64; its low byte names another entry. */
static int flip_doc(void)     { return util_lmdb_flip_first(util_dir, "docs", 7, 0x01); }

/*
 * fill_rich's store, for the damage below: dataset "shop" is ds id 1,
 * "other" 2; node "a" is node id 1 and "b" 2. Log ids in arrival order:
 * a1..a6 are 1..6, b1 7, b3 8, b4 9, a's fork at seq 3 10, b5 (a chain
 * break) 11, b6 12, other's a1 13. Document (c, k2) is a2's.
 */
static uint8_t rec_k[512], rec_v[4096];
static size_t rec_kl, rec_vl;

/* Record n of dbi into rec_k / rec_v. */
static int rec_nth(const char *dbi, size_t n)
{
	return util_lmdb_nth(util_dir, dbi, n, rec_k, sizeof(rec_k), &rec_kl, rec_v,
	                     sizeof(rec_v), &rec_vl);
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* Replace the (DUPSORT) record rec_k -> rec_v by key -> val. */
static int rec_replace(const char *dbi, const uint8_t *key, size_t klen,
                       const uint8_t *val, size_t vlen)
{
	int rc = util_lmdb_del(util_dir, dbi, rec_k, rec_kl, rec_v, rec_vl);

	return rc ? rc : util_lmdb_put(util_dir, dbi, key, klen, val, vlen);
}

/* log: a record gone; one that no longer decodes; one whose hash no
 * longer matches its bytes (the last byte of a1's data). */
static int del_log(void)      { return util_lmdb_del_first(util_dir, "log"); }
static int garble_log(void)   { return util_lmdb_flip_first(util_dir, "log", 0, 0x80); }
static int rehash_log(void)
{
	int rc = rec_nth("log", 0);

	if (rc)
		return rc;
	rec_v[rec_vl - 1] ^= 0x01;
	return util_lmdb_put(util_dir, "log", rec_k, rec_kl, rec_v, rec_vl);
}

/* entries: the first record (a3's) filed under epoch 1, or naming another
 * entry's id (a4's, a5's if it is a4's). */
static int epoch_entry(void)
{
	uint8_t k[64];
	int rc = rec_nth("entries", 0);

	if (rc)
		return rc;
	memcpy(k, rec_k, rec_kl);
	k[3] ^= 0x01;
	return rec_replace("entries", k, rec_kl, rec_v, rec_vl);
}

static int other_entry(void)
{
	uint8_t k[64], v[8];
	int rc = util_lmdb_nth(util_dir, "entries", 0, k, sizeof(k), &rec_kl, v, sizeof(v), &rec_vl);

	if (rc)
		return rc;
	memcpy(rec_k, k, rec_kl);
	memcpy(rec_v, v, rec_vl);
	put_be64(v, v[7] == 4 ? 5 : 4);
	return rec_replace("entries", k, rec_kl, v, 8);
}

/* by_hlc, by_node: one more record, naming log id 999, which is missing. */
static int stray_index(const char *dbi)
{
	int rc = rec_nth(dbi, 0);

	if (rc)
		return rc;
	put_be64(rec_k + rec_kl - 8, 999);
	return util_lmdb_put(util_dir, dbi, rec_k, rec_kl, "", 0);
}
static int stray_by_hlc(void)  { return stray_index("by_hlc"); }
static int stray_by_node(void) { return stray_index("by_node"); }

/* by_seq: a1's log id turned into a3's (1 -> 3). */
static int flip_seq_id(void)   { return util_lmdb_flip_first(util_dir, "by_seq", 7, 0x02); }

/* docs: (c, k2) names a4's log record, or log id 999. */
static int doc_names(uint64_t id)
{
	uint8_t k[UTIL_DOC_KEY_LEN];
	int rc;

	if (util_doc_key(1, "c", "k2", k))
		return -1;
	if ((rc = util_lmdb_get(util_dir, "docs", k, sizeof(k), rec_v, sizeof(rec_v), &rec_vl)))
		return rc;
	/* The winner is in the log: the record is its log id, wall and logic
	 * (docs/STORE.md). */
	if (rec_vl != 20)
		return -1;
	put_be64(rec_v, id);
	return util_lmdb_put(util_dir, "docs", k, sizeof(k), rec_v, rec_vl);
}
static int doc_other_id(void)   { return doc_names(4); }
static int doc_missing_id(void) { return doc_names(999); }

/* heads: node a's state gone. */
static int del_head(void)      { return util_lmdb_del_first(util_dir, "heads"); }

/* forks: one of a's seq-3 hashes forgotten; a fork at a's seq 1 naming a
 * hash that is nowhere. */
static int del_fork(void)      { return util_lmdb_del_first(util_dir, "forks"); }
static int stray_fork(void)
{
	uint8_t k[16] = { 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 }, h[OPLOG_HASH_LEN];

	memset(h, 0x33, sizeof(h));
	return util_lmdb_put(util_dir, "forks", k, sizeof(k), h, sizeof(h));
}

/* breaks: b5's break forgotten; a2, which chains to a1, recorded as one. */
static int del_break(void)     { return util_lmdb_del_first(util_dir, "breaks"); }
static int stray_break(void)
{
	int rc = rec_nth("by_seq", 1);   /* a2: key ds | nid | seq | hash, value id | prev */

	if (rc)
		return rc;
	return util_lmdb_put(util_dir, "breaks", rec_k, rec_kl, rec_v + 8, OPLOG_HASH_LEN);
}

START_TEST(test_verify__missing_log_record_reported)
{ damage_and_verify_detail(del_log, "log", "missing"); }
END_TEST
START_TEST(test_verify__undecodable_log_record_reported)
{ damage_and_verify_detail(garble_log, "log", "does not decode"); }
END_TEST
START_TEST(test_verify__log_record_with_wrong_hash_reported)
{ damage_and_verify_detail(rehash_log, "log", "hash_mismatch"); }
END_TEST
START_TEST(test_verify__entry_in_wrong_epoch_reported)
{ damage_and_verify_detail(epoch_entry, "entries", "epoch"); }
END_TEST
START_TEST(test_verify__entry_naming_another_entry_reported)
{ damage_and_verify_detail(other_entry, "entries", "does not match"); }
END_TEST
START_TEST(test_verify__by_hlc_record_of_missing_entry_reported)
{ damage_and_verify_detail(stray_by_hlc, "by_hlc", "missing"); }
END_TEST
START_TEST(test_verify__by_node_record_of_missing_entry_reported)
{ damage_and_verify_detail(stray_by_node, "by_node", "missing"); }
END_TEST
START_TEST(test_verify__by_seq_naming_another_log_record_reported)
{ damage_and_verify_detail(flip_seq_id, "by_seq", "another entry"); }
END_TEST
START_TEST(test_verify__document_naming_another_entry_reported)
{ damage_and_verify_detail(doc_other_id, "docs", "names 4"); }
END_TEST
START_TEST(test_verify__document_naming_missing_log_record_reported)
{ damage_and_verify_detail(doc_missing_id, "docs", "names 999"); }
END_TEST
START_TEST(test_verify__missing_head_reported)
{ damage_and_verify_detail(del_head, "heads", "no head"); }
END_TEST
START_TEST(test_verify__missing_fork_record_reported)
{ damage_and_verify_detail(del_fork, "forks", "no fork"); }
END_TEST
START_TEST(test_verify__fork_of_missing_entry_reported)
{ damage_and_verify_detail(stray_fork, "forks", "neither in the oplog nor pruned"); }
END_TEST
START_TEST(test_verify__missing_break_record_reported)
{ damage_and_verify_detail(del_break, "breaks", "no break"); }
END_TEST
START_TEST(test_verify__break_of_a_correct_chain_reported)
{ damage_and_verify_detail(stray_break, "breaks", "chains correctly"); }
END_TEST

START_TEST(test_verify__missing_by_hlc_record_reported)  { damage_and_verify(del_by_hlc, "by_hlc"); }
END_TEST
START_TEST(test_verify__missing_by_seq_record_reported)  { damage_and_verify(del_by_seq, "by_seq"); }
END_TEST
START_TEST(test_verify__missing_by_node_record_reported) { damage_and_verify(del_by_node, "by_node"); }
END_TEST
START_TEST(test_verify__missing_entry_reported)          { damage_and_verify(del_entry, "entr"); }
END_TEST
/* Forward links are read from by_seq's prev: the link rule must catch it. */
START_TEST(test_verify__changed_link_reported)
{ damage_and_verify_detail(flip_link, "by_seq", "link"); }
END_TEST
START_TEST(test_verify__changed_head_reported)           { damage_and_verify(flip_head, "head"); }
END_TEST
START_TEST(test_verify__changed_watermark_reported)      { damage_and_verify(flip_wm, "watermark"); }
END_TEST
START_TEST(test_verify__changed_document_reported)       { damage_and_verify(flip_doc, "doc"); }
END_TEST

/* ------------------------------------------------------------------ */
/* Offsets and rejects                                                 */

struct off_seen {
	size_t n;
	char   line[8][64];
};

static int off_cb(const char *topic, int32_t partition, int64_t next, void *arg)
{
	struct off_seen *o = arg;

	if (o->n < 8)
		snprintf(o->line[o->n], sizeof(o->line[0]), "%s/%d=%lld", topic, (int)partition,
		         (long long)next);
	o->n++;
	return 0;
}

static int has_line(const struct off_seen *o, const char *line)
{
	size_t i;

	for (i = 0; i < o->n && i < 8; i++)
		if (strcmp(o->line[i], line) == 0)
			return 1;
	return 0;
}

START_TEST(test_offsets__stored_with_batch_and_replaced_by_later_batch)
{
	struct oplog_batch *b = NULL;
	struct util_entry c[2];
	struct off_seen o;
	int64_t next = -1;

	UTIL_OK(util_chain_build(c, 2, DS, "n", 1, NULL, 1000));
	UTIL_RC(oplog_store_offset(util_s, "t1", 0, &next), OPLOG_ENOTFOUND);
	UTIL_OK(oplog_batch_new(&b));
	UTIL_OK(oplog_batch_add(b, c[0].msg, c[0].len, &c[0].e));
	UTIL_OK(oplog_batch_offset(b, "t1", 0, 10));
	UTIL_OK(oplog_batch_offset(b, "t1", 1, 20));
	UTIL_OK(oplog_batch_offset(b, "t2", 0, 5));
	/* A later call for the same partition in one batch replaces it. */
	UTIL_OK(oplog_batch_offset(b, "t1", 0, 12));
	UTIL_RC(oplog_batch_offset(b, "", 0, 1), OPLOG_EINVAL);
	UTIL_OK(oplog_store_apply(util_s, b, NULL));
	UTIL_OK(oplog_store_offset(util_s, "t1", 0, &next));
	UTIL_EQ(next, 12);
	UTIL_OK(oplog_store_offset(util_s, "t1", 1, &next));
	UTIL_EQ(next, 20);
	UTIL_RC(oplog_store_offset(util_s, "t1", 2, &next), OPLOG_ENOTFOUND);
	UTIL_RC(oplog_store_offset(util_s, "t", 0, &next), OPLOG_ENOTFOUND);

	oplog_batch_clear(b);
	UTIL_OK(oplog_batch_add(b, c[1].msg, c[1].len, &c[1].e));
	UTIL_OK(oplog_batch_offset(b, "t1", 0, 15));
	UTIL_OK(oplog_store_apply(util_s, b, NULL));
	memset(&o, 0, sizeof(o));
	UTIL_OK(oplog_store_offsets(util_s, off_cb, &o));
	UTIL_EQ(o.n, 3);
	UTIL_CHECK(has_line(&o, "t1/0=15"));
	UTIL_CHECK(has_line(&o, "t1/1=20"));
	UTIL_CHECK(has_line(&o, "t2/0=5"));

	/* Offsets survive a reopen. */
	reopen();
	UTIL_OK(oplog_store_offset(util_s, "t1", 0, &next));
	UTIL_EQ(next, 15);
	oplog_batch_free(b);
	util_entries_free(c, 2);
}
END_TEST

static int lost_cb(const struct oplog_lost *l, void *arg)
{
	struct off_seen *o = arg;

	if (o->n < 8)
		snprintf(o->line[o->n], sizeof(o->line[0]), "%s/%d:%lld-%lld", l->topic,
		         (int)l->partition, (long long)l->from, (long long)l->to);
	UTIL_CHECK(l->at_ms > 1500000000000ULL);
	o->n++;
	return 0;
}

START_TEST(test_offsets__lost_range_kept_and_moves_partition_on)
{
	struct oplog_batch *b = NULL;
	struct off_seen o = { 0 };
	int64_t next = -1;

	UTIL_OK(oplog_batch_new(&b));
	UTIL_CHECK(oplog_batch_empty(b));
	/* A lost range alone is a batch worth applying: it moves the offset. */
	UTIL_OK(oplog_batch_lost(b, "t", 2, 100, 250));
	UTIL_CHECK(!oplog_batch_empty(b));
	UTIL_EQ(oplog_batch_count(b), 0);
	UTIL_RC(oplog_batch_lost(b, "t", 2, -1, 5), OPLOG_EINVAL);
	UTIL_RC(oplog_batch_lost(b, "", 2, 1, 5), OPLOG_EINVAL);
	UTIL_OK(oplog_store_apply(util_s, b, NULL));
	UTIL_OK(oplog_store_offset(util_s, "t", 2, &next));
	UTIL_EQ(next, 250);

	/* Offsets that went backwards (from >= to); a later offset in the same
	 * batch wins over the range's end. */
	oplog_batch_clear(b);
	UTIL_CHECK(oplog_batch_empty(b));
	UTIL_OK(oplog_batch_lost(b, "t", 2, 900, 0));
	UTIL_OK(oplog_batch_offset(b, "t", 2, 7));
	UTIL_OK(oplog_store_apply(util_s, b, NULL));
	UTIL_OK(oplog_store_offset(util_s, "t", 2, &next));
	UTIL_EQ(next, 7);

	reopen();
	UTIL_OK(oplog_store_lost(util_s, lost_cb, &o));
	UTIL_EQ(o.n, 2);
	UTIL_STR_EQ(o.line[0], "t/2:100-250");
	UTIL_STR_EQ(o.line[1], "t/2:900-0");
	oplog_batch_free(b);
}
END_TEST

struct rej_seen {
	size_t  n;
	uint64_t id[8];
	struct oplog_reject_rec rec;  /* the first one, slices copied below */
	char    source[64], detail[64];
	uint8_t raw[64];
	size_t  raw_len;
};

static int rej_cb(const struct oplog_reject_rec *r, void *arg)
{
	struct rej_seen *s = arg;

	if (s->n < 8)
		s->id[s->n] = r->id;
	if (s->n == 0) {
		s->rec = *r;
		snprintf(s->source, sizeof(s->source), "%.*s", (int)r->source.len, (const char *)r->source.ptr);
		snprintf(s->detail, sizeof(s->detail), "%.*s", (int)r->detail.len, (const char *)r->detail.ptr);
		s->raw_len = r->raw.len;
		memcpy(s->raw, r->raw.ptr, r->raw.len < sizeof(s->raw) ? r->raw.len : sizeof(s->raw));
	}
	s->n++;
	return 0;
}

START_TEST(test_rejects__stored_truncated_with_size_and_counted)
{
	struct oplog_store_opts o;
	struct oplog_batch *b = NULL;
	struct oplog_reject rej;
	struct oplog_apply_stats st;
	struct oplog_stats s;
	struct rej_seen seen;
	uint8_t msg[100];
	size_t i;

	oplog_store_close(util_s);
	util_s = NULL;
	memset(&o, 0, sizeof(o));
	o.path = util_dir;
	o.reject_max_bytes = 16;
	UTIL_OK(oplog_store_open(&util_s, &o));
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 7 + 1);
	memset(&rej, 0, sizeof(rej));
	rej.reason = OPLOG_R_BAD_TYPE;
	rej.field = OPLOG_F_SEQ;
	snprintf(rej.detail, sizeof(rej.detail), "seq is a str");
	UTIL_OK(oplog_batch_new(&b));
	UTIL_OK(oplog_batch_reject(b, "oplog/3/42", msg, sizeof(msg), &rej));
	rej.reason = OPLOG_R_MALFORMED;
	rej.field = OPLOG_F_NONE;
	UTIL_OK(oplog_batch_reject(b, "file:2", msg, 3, &rej));
	UTIL_OK(oplog_store_apply(util_s, b, &st));
	UTIL_EQ(st.rejected, 2);

	memset(&seen, 0, sizeof(seen));
	UTIL_OK(oplog_store_rejects(util_s, 0, rej_cb, &seen));
	UTIL_EQ(seen.n, 2);
	UTIL_STR_EQ(seen.source, "oplog/3/42");
	UTIL_STR_EQ(seen.detail, "seq is a str");
	UTIL_EQ(seen.rec.reason, OPLOG_R_BAD_TYPE);
	UTIL_EQ(seen.rec.field, OPLOG_F_SEQ);
	UTIL_EQ(seen.rec.size, 100);
	UTIL_EQ(seen.raw_len, 16);
	UTIL_CHECK(memcmp(seen.raw, msg, 16) == 0);
	UTIL_CHECK(seen.id[0] < seen.id[1]);

	s = stats();
	UTIL_EQ(s.rejected[OPLOG_R_BAD_TYPE], 1);
	UTIL_EQ(s.rejected[OPLOG_R_MALFORMED], 1);
	UTIL_EQ(s.rejected[OPLOG_R_HASH_MISMATCH], 0);
	UTIL_EQ(s.rejects_kept, 2);
	UTIL_EQ(s.entries, 0);
	oplog_batch_free(b);
}
END_TEST

START_TEST(test_rejects__limit_gives_newest_last)
{
	struct oplog_batch *b = NULL;
	struct oplog_reject rej;
	struct rej_seen all, last;
	char src[16];
	int i;

	memset(&rej, 0, sizeof(rej));
	rej.reason = OPLOG_R_NOT_MAP;
	UTIL_OK(oplog_batch_new(&b));
	for (i = 0; i < 5; i++) {
		snprintf(src, sizeof(src), "t/0/%d", i);
		UTIL_OK(oplog_batch_reject(b, src, "x", 1, &rej));
		UTIL_OK(oplog_store_apply(util_s, b, NULL));
		oplog_batch_clear(b);
	}
	memset(&all, 0, sizeof(all));
	memset(&last, 0, sizeof(last));
	UTIL_OK(oplog_store_rejects(util_s, 0, rej_cb, &all));
	UTIL_OK(oplog_store_rejects(util_s, 2, rej_cb, &last));
	UTIL_EQ(all.n, 5);
	UTIL_EQ(last.n, 2);
	UTIL_EQ(last.id[0], all.id[3]);
	UTIL_EQ(last.id[1], all.id[4]);
	UTIL_STR_EQ(last.source, "t/0/3");
	UTIL_EQ(stats().rejected[OPLOG_R_NOT_MAP], 5);
	oplog_batch_free(b);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Chain walks                                                         */

START_TEST(test_chain__backward_from_head_to_genesis)
{
	struct util_entry c[5];
	char got[256];

	UTIL_OK(util_chain_build(c, 5, DS, "n", 1, NULL, 1000));
	UTIL_OK(util_apply_array(util_s, c, 5, NULL));
	walk("n", NULL, 0, 0, got, sizeof(got));
	UTIL_STR_EQ(got, "5,4,3,2,1,genesis");
	walk("n", c[2].hash, 0, 0, got, sizeof(got));
	UTIL_STR_EQ(got, "3,2,1,genesis");
	util_entries_free(c, 5);
}
END_TEST

START_TEST(test_chain__forward_from_seq1_to_head)
{
	struct util_entry c[5];
	char got[256];

	UTIL_OK(util_chain_build(c, 5, DS, "n", 1, NULL, 1000));
	UTIL_OK(util_apply_array(util_s, c, 5, NULL));
	walk("n", c[0].hash, 1, 0, got, sizeof(got));
	UTIL_STR_EQ(got, "1,2,3,4,5,head");
	util_entries_free(c, 5);
}
END_TEST

START_TEST(test_chain__gap_stops_walk)
{
	struct util_entry c[5];
	char got[256];

	UTIL_OK(util_chain_build(c, 5, DS, "n", 1, NULL, 1000));
	apply1(&c[0], NULL);
	apply1(&c[1], NULL);
	apply1(&c[3], NULL);
	apply1(&c[4], NULL);
	walk("n", NULL, 0, 0, got, sizeof(got));
	UTIL_STR_EQ(got, "5,4,gap");
	walk("n", c[0].hash, 1, 0, got, sizeof(got));
	UTIL_STR_EQ(got, "1,2,gap");
	util_entries_free(c, 5);
}
END_TEST

START_TEST(test_chain__limit_stops_walk)
{
	struct util_entry c[5];
	char got[256];

	UTIL_OK(util_chain_build(c, 5, DS, "n", 1, NULL, 1000));
	UTIL_OK(util_apply_array(util_s, c, 5, NULL));
	walk("n", NULL, 0, 2, got, sizeof(got));
	UTIL_STR_EQ(got, "5,4,limit");
	walk("n", c[1].hash, 1, 3, got, sizeof(got));
	UTIL_STR_EQ(got, "2,3,4,limit");
	util_entries_free(c, 5);
}
END_TEST

START_TEST(test_chain__forward_follows_smallest_hash_at_fork)
{
	struct util_entry c[3], f;
	char got[256], want[256];

	UTIL_OK(util_chain_build(c, 3, DS, "n", 1, NULL, 1000));
	mk(&f, DS, "n", 2, 1025, 0, "k2", OPLOG_OP_PUT, "fork", c[0].hash);
	UTIL_OK(util_apply_array(util_s, c, 3, NULL));
	apply1(&f, NULL);
	/* c2 links on to c3; the sibling has no successor. */
	snprintf(want, sizeof(want), "%s",
	         memcmp(c[1].hash, f.hash, OPLOG_HASH_LEN) < 0 ? "1,2,3,head" : "1,2,head");
	walk("n", c[0].hash, 1, 0, got, sizeof(got));
	UTIL_STR_EQ(got, want);
	walk("n", f.hash, 0, 0, got, sizeof(got));
	UTIL_STR_EQ(got, "2,1,genesis");
	util_entries_free(c, 3);
	util_entry_free(&f);
}
END_TEST

static int stop_cb(const struct oplog_entry *e, const void *msg, size_t len, void *arg)
{
	int *n = arg;

	(void)e; (void)msg; (void)len;
	return ++*n == 2 ? 77 : 0;
}

START_TEST(test_chain__unknown_start_and_callback_stop)
{
	struct util_entry c[3];
	uint8_t unknown[OPLOG_HASH_LEN];
	enum oplog_chain_end end;
	int n = 0;

	UTIL_OK(util_chain_build(c, 3, DS, "n", 1, NULL, 1000));
	UTIL_OK(util_apply_array(util_s, c, 3, NULL));
	memset(unknown, 0x11, sizeof(unknown));
	UTIL_RC(oplog_store_chain(util_s, util_sl(DS), util_sl("n"), unknown, 0, 0, stop_cb, &n, &end),
	        OPLOG_ENOTFOUND);
	UTIL_RC(oplog_store_chain(util_s, util_sl(DS), util_sl("nope"), NULL, 0, 0, stop_cb, &n, &end),
	        OPLOG_ENOTFOUND);
	{
		struct util_entry other;

		mk(&other, DS, "m", 1, 5, 0, "k", OPLOG_OP_PUT, "m", NULL);
		apply1(&other, NULL);
		/* A start hash of another node is not on this node's chain. */
		UTIL_RC(oplog_store_chain(util_s, util_sl(DS), util_sl("n"), other.hash, 0, 0, stop_cb,
		                          &n, &end), OPLOG_ENOTFOUND);
		util_entry_free(&other);
	}
	UTIL_EQ(n, 0);
	n = 0;
	UTIL_RC(oplog_store_chain(util_s, util_sl(DS), util_sl("n"), NULL, 0, 0, stop_cb, &n, &end), 77);
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
			mk(&all[k], DS, nodes[j], i + 1, 1000 + 10 * (i / 2), (uint32_t)(i % 2),
			   key, OPLOG_OP_PUT, nodes[j], i ? all[k - 1].hash : NULL);
			k++;
		}
	}
	/* A sibling of a's seq 5 with the very same (wall, logic). */
	mk(&all[k], DS, "a", 5, all[20 + 4].e.wall, all[20 + 4].e.logic, "k9", OPLOG_OP_PUT,
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

	UTIL_OK(oplog_store_scan(util_s, util_sl(DS), NULL, 7, util_list_cb, &page));
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
		UTIL_OK(oplog_store_scan(util_s, util_sl(DS), &after, 7, util_list_cb, &page));
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
	UTIL_OK(oplog_store_scan(util_s, util_sl(DS), &after, 0, util_list_cb, &l));
	UTIL_EQ(l.n, SCAN_N - first);
	UTIL_HASH_EQ(l.items[0].hash, sorted[first]->hash);
	UTIL_STR_EQ(l.items[0].node, "a");
	util_list_free(&l);

	/* Node "ab", no hash: a's entries at (1020, 1) are before it. */
	after.node = util_sl("ab");
	UTIL_OK(oplog_store_scan(util_s, util_sl(DS), &after, 0, util_list_cb, &l));
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
	struct util_entry u[NELEM(names)];
	struct util_entry *rev[NELEM(names)];
	struct util_spec sp;
	struct util_list l = { 0 };
	size_t i, n = NELEM(names);

	for (i = 0; i < n; i++) {
		memset(&sp, 0, sizeof(sp));
		sp.ds = util_sl(DS);
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
	UTIL_OK(oplog_store_scan(util_s, util_sl(DS), NULL, 0, util_list_cb, &l));
	UTIL_EQ(l.n, n);
	for (i = 0; i < n; i++)
		ck_assert_msg(l.items[i].node_len == names[i].n &&
		              memcmp(l.items[i].node, names[i].p, names[i].n) == 0,
		              "scan position %zu has the wrong node", i);
	/* The document goes to the greatest node name. */
	{
		struct util_doc d;

		UTIL_OK(util_doc_get(util_s, DS, "c", "k", &d));
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
	mk(&u[0], DS, "z", 1, 500, 6, "k", OPLOG_OP_PUT, "z1", NULL);
	mk(&u[1], DS, "b", 1, 500, 7, "k", OPLOG_OP_PUT, "b1", NULL);
	mk(&u[2], DS, "b", 1, 500, 7, "k", OPLOG_OP_PUT, "b1-sibling", NULL);
	mk(&u[3], DS, "ab", 1, 500, 7, "k", OPLOG_OP_PUT, "ab1", NULL);
	mk(&u[4], DS, "aa", 1, 500, 7, "k", OPLOG_OP_PUT, "aa1", NULL);
	mk(&u[5], DS, "a", 1, 500, 7, "k", OPLOG_OP_PUT, "a1", NULL);
	mk(&u[6], DS, "a", 2, 500, 7, "k", OPLOG_OP_PUT, "a2", u[5].hash);
	mk(&u[7], DS, "0", 1, 500, 8, "k", OPLOG_OP_PUT, "01", NULL);
	mk(&u[8], DS, "a", 3, 501, 0, "k", OPLOG_OP_PUT, "a3", u[6].hash);
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
			UTIL_OK(oplog_store_scan_node(util_s, util_sl(DS), util_sl(node),
			                              first ? NULL : &after, limit, util_list_cb, &page));
		else
			UTIL_OK(oplog_store_scan(util_s, util_sl(DS), first ? NULL : &after, limit,
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
		UTIL_OK(oplog_store_scan(util_s, util_sl(DS), NULL, 0, util_list_cb, &l));
		list_is(&l, want, TIE_N, "scan", k);
		util_list_free(&l);
		for (i = 0; i < NELEM(limits); i++) {
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
		for (j = 0; j < NELEM(nodes); j++) {
			struct util_list l = { 0 };

			for (i = n = 0; i < TIE_N; i++)
				if (want[i]->e.node.len == strlen(nodes[j]) &&
				    memcmp(want[i]->e.node.ptr, nodes[j], strlen(nodes[j])) == 0)
					mine[n++] = want[i];
			UTIL_CHECK(n >= 1);
			UTIL_OK(oplog_store_scan_node(util_s, util_sl(DS), util_sl(nodes[j]), NULL, 0,
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

	UTIL_OK(oplog_store_scan_node(util_s, util_sl(DS), util_sl("a"), NULL, 0, util_list_cb, &l));
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

		UTIL_OK(oplog_store_scan_node(util_s, util_sl(DS), util_sl("a"), &after, 4,
		                              util_list_cb, &rest));
		UTIL_EQ(rest.n, 4);
		UTIL_HASH_EQ(rest.items[0].hash, l.items[10].hash);
		UTIL_HASH_EQ(rest.items[3].hash, l.items[13].hash);
		util_list_free(&rest);
	}
	util_list_free(&l);
	UTIL_OK(oplog_store_scan_node(util_s, util_sl(DS), util_sl("zz"), NULL, 0, util_list_cb, &l));
	UTIL_EQ(l.n, 0);
	util_list_free(&l);
	util_entries_free(all, SCAN_N);
}
END_TEST

START_TEST(test_scan_seq__range_lists_forks_by_hash)
{
	struct util_entry c[5], f;
	struct util_list l = { 0 };

	UTIL_OK(util_chain_build(c, 5, DS, "n", 1, NULL, 1000));
	mk(&f, DS, "n", 3, 1031, 0, "k3", OPLOG_OP_PUT, "fork", c[1].hash);
	apply1(&f, NULL);
	UTIL_OK(util_apply_array(util_s, c, 5, NULL));
	UTIL_OK(oplog_store_scan_seq(util_s, util_sl(DS), util_sl("n"), 2, 4, 0, util_list_cb, &l));
	UTIL_EQ(l.n, 4);
	UTIL_EQ(l.items[0].seq, 2);
	UTIL_EQ(l.items[1].seq, 3);
	UTIL_EQ(l.items[2].seq, 3);
	UTIL_EQ(l.items[3].seq, 4);
	UTIL_HASH_EQ(l.items[1].hash, hmin(c[2].hash, f.hash));
	UTIL_HASH_EQ(l.items[2].hash, hmax(c[2].hash, f.hash));
	util_list_free(&l);
	UTIL_OK(oplog_store_scan_seq(util_s, util_sl(DS), util_sl("n"), 3, 5, 2, util_list_cb, &l));
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
	return name_list_cb(n->node, arg);
}

/* Names sort bytewise, whatever order (and so ids) they arrived in. */
START_TEST(test_nodes__and_datasets_listed_by_name_not_arrival)
{
	static const char *arrival[4] = { "b", "ab", "a", "a\x01" };
	struct util_entry u[8];
	char names[256] = "";
	size_t i;

	for (i = 0; i < 4; i++) {
		mk(&u[i], "zeta", arrival[i], 1, 100, 0, "k", OPLOG_OP_PUT, "v", NULL);
		mk(&u[4 + i], i % 2 ? "alpha" : "mid", arrival[i], 1, 100, 0, "k", OPLOG_OP_PUT, "v", NULL);
	}
	for (i = 0; i < 8; i++)
		apply1(&u[i], NULL);
	UTIL_OK(oplog_store_nodes(util_s, util_sl("zeta"), node_names_cb, names));
	UTIL_STR_EQ(names, "a;a\x01;ab;b;");
	names[0] = '\0';
	UTIL_OK(oplog_store_datasets(util_s, name_list_cb, names));
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
	UTIL_OK(util_chain_build(a, 4, DS, "a", 1, NULL, 1000));
	UTIL_OK(util_chain_build(b, 4, DS, "b", 1, NULL, 1000));
	UTIL_OK(util_chain_build(z, 4, "shop-z", "a", 1, NULL, 1000));
	UTIL_OK(util_apply_array(util_s, a, 4, NULL));
	UTIL_OK(util_apply_array(util_s, b, 4, NULL));
	UTIL_OK(util_apply_array(util_s, z, 4, NULL));
	UTIL_OK(oplog_store_scan(util_s, util_sl(DS), NULL, 0, util_list_cb, &l));
	UTIL_EQ(l.n, 8);
	util_list_free(&l);
	UTIL_OK(oplog_store_scan_node(util_s, util_sl(DS), util_sl("a"), NULL, 0, util_list_cb, &l));
	UTIL_EQ(l.n, 4);
	util_list_free(&l);
	UTIL_OK(oplog_store_scan_node(util_s, util_sl(DS), util_sl("b"), NULL, 0, util_list_cb, &l));
	UTIL_EQ(l.n, 4);
	util_list_free(&l);
	UTIL_OK(oplog_store_scan_seq(util_s, util_sl(DS), util_sl("a"), 3, UINT64_MAX, 0,
	                             util_list_cb, &l));
	UTIL_EQ(l.n, 2);
	UTIL_STR_EQ(l.items[1].node, "a");
	util_list_free(&l);
	UTIL_OK(oplog_store_scan_seq(util_s, util_sl(DS), util_sl("b"), 0, UINT64_MAX, 0,
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

START_TEST(test_scan__callback_stop_value_returned)
{
	struct util_entry c[5];
	int n = 0;

	UTIL_OK(util_chain_build(c, 5, DS, "n", 1, NULL, 1000));
	UTIL_OK(util_apply_array(util_s, c, 5, NULL));
	UTIL_RC(oplog_store_scan(util_s, util_sl(DS), NULL, 0, stop_cb, &n), 77);
	UTIL_EQ(n, 2);
	util_entries_free(c, 5);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Map growth and map full                                             */

#define BIG_BODY (16u << 10)

static struct util_entry *big_chain_ds(const char *ds, const char *node, size_t n,
                                       uint64_t first_seq, const uint8_t *prev)
{
	struct util_entry *es = calloc(n, sizeof(*es));
	struct util_spec sp;
	uint8_t *body = malloc(BIG_BODY);
	size_t i, j;
	uint64_t x = 0x9e3779b97f4a7c15ull ^ first_seq;

	UTIL_CHECK(es && body);
	for (i = 0; i < n; i++) {
		char key[32];

		/* Incompressible bodies, so that sizes are what they seem. */
		for (j = 0; j < BIG_BODY; j++) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			body[j] = (uint8_t)x;
		}
		snprintf(key, sizeof(key), "big%zu", (size_t)(first_seq + i));
		memset(&sp, 0, sizeof(sp));
		sp.ds = util_sl(ds);
		sp.node = util_sl(node);
		sp.seq = first_seq + i;
		sp.wall = 1000 + sp.seq;
		sp.col = util_sl("c");
		sp.key = util_sl(key);
		sp.op = OPLOG_OP_PUT;
		sp.data.ptr = body;
		sp.data.len = BIG_BODY;
		sp.prev = i ? es[i - 1].hash : prev;
		UTIL_OK(util_entry_make(&es[i], &sp));
	}
	free(body);
	return es;
}

static struct util_entry *big_chain(const char *node, size_t n, uint64_t first_seq,
                                    const uint8_t *prev)
{
	return big_chain_ds(DS, node, n, first_seq, prev);
}

START_TEST(test_map__grows_from_1mib_for_20mib_of_entries)
{
	struct util_entry *a, *b;
	struct oplog_apply_stats st;
	struct oplog_stats s;
	size_t n = 640;   /* 640 x 16 KiB = 10 MiB per batch */

	oplog_store_close(util_s);
	util_s = NULL;
	UTIL_OK(util_store_open(&util_s, util_dir, 1u << 20, 256u << 20, OPLOG_STORE_NOSYNC));
	s = stats();
	UTIL_CHECK(s.map_size <= (2u << 20));
	a = big_chain("n", n, 1, NULL);
	b = big_chain("n", n, n + 1, a[n - 1].hash);
	UTIL_OK(util_apply_array(util_s, a, n, &st));
	UTIL_EQ(st.applied, n);
	UTIL_OK(util_apply_array(util_s, b, n, &st));
	UTIL_EQ(st.applied, n);
	s = stats();
	UTIL_EQ(s.entries, 2 * n);
	/* Retries after growing count nothing twice. */
	UTIL_EQ(s.applied, 2 * n);
	UTIL_EQ(s.late, 0);
	UTIL_EQ(s.duplicates, 0);
	UTIL_CHECK(s.map_size >= (20u << 20));
	UTIL_CHECK(s.store_bytes >= (20u << 20));
	{
		struct util_node nd;

		UTIL_OK(util_node_get(util_s, DS, "n", &nd));
		UTIL_EQ(nd.watermark, 2 * n);
	}
	UTIL_CONSISTENT(util_s);
	reopen();
	UTIL_EQ(stats().entries, 2 * n);
	util_entries_free(a, n);
	util_entries_free(b, n);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_map__full_batch_applies_nothing_and_store_goes_on)
{
	struct util_entry *small, *big, *after;
	struct oplog_batch *bt = NULL;
	struct oplog_apply_stats st;
	int64_t next = 0;
	char *before, *now;
	struct oplog_stats s0, s1;
	size_t nbig = 256;   /* 4 MiB: more than max_size */

	oplog_store_close(util_s);
	util_s = NULL;
	UTIL_OK(util_store_open(&util_s, util_dir, 1u << 20, 2u << 20, 0));
	small = big_chain("n", 5, 1, NULL);
	/* Names first seen in the failed batch: their ids must not survive. */
	big = big_chain_ds("fresh", "new-node", nbig, 1, NULL);
	after = big_chain_ds("fresh", "new-node", 5, 1, NULL);

	UTIL_OK(oplog_batch_new(&bt));
	for (size_t i = 0; i < 5; i++)
		UTIL_OK(oplog_batch_add(bt, small[i].msg, small[i].len, &small[i].e));
	UTIL_OK(oplog_batch_offset(bt, "t", 0, 5));
	UTIL_OK(oplog_store_apply(util_s, bt, &st));
	before = util_store_render(util_s);
	UTIL_CHECK(before != NULL);

	oplog_batch_clear(bt);
	for (size_t i = 0; i < nbig; i++)
		UTIL_OK(oplog_batch_add(bt, big[i].msg, big[i].len, &big[i].e));
	UTIL_OK(oplog_batch_offset(bt, "t", 0, 999));
	{
		struct oplog_reject rej;

		memset(&rej, 0, sizeof(rej));
		rej.reason = OPLOG_R_MALFORMED;
		UTIL_OK(oplog_batch_reject(bt, "t/0/7", "junk", 4, &rej));
	}
	s0 = stats();
	UTIL_RC(oplog_store_apply(util_s, bt, &st), OPLOG_EMAPFULL);
	s1 = stats();
	UTIL_EQ(s1.entries, 5);
	UTIL_EQ(s1.datasets, 1);
	UTIL_EQ(s1.nodes, s0.nodes);
	UTIL_EQ(s1.applied, s0.applied);
	UTIL_EQ(s1.rejects_kept, 0);
	UTIL_EQ(s1.rejected[OPLOG_R_MALFORMED], 0);
	UTIL_OK(oplog_store_offset(util_s, "t", 0, &next));
	UTIL_EQ(next, 5);
	now = util_store_render(util_s);
	UTIL_CHECK(now != NULL);
	ck_assert_msg(strcmp(before, now) == 0, "state changed by a failed batch: %s",
	              util_first_diff(before, now));
	free(now);

	/* The store still takes a batch that fits. */
	oplog_batch_clear(bt);
	for (size_t i = 0; i < 5; i++)
		UTIL_OK(oplog_batch_add(bt, after[i].msg, after[i].len, &after[i].e));
	UTIL_OK(oplog_batch_offset(bt, "t", 0, 10));
	UTIL_OK(oplog_store_apply(util_s, bt, &st));
	UTIL_EQ(st.applied, 5);
	UTIL_EQ(stats().entries, 10);
	UTIL_EQ(stats().datasets, 2);
	{
		struct util_node nd;

		UTIL_OK(util_node_get(util_s, "fresh", "new-node", &nd));
		UTIL_EQ(nd.head_seq, 5);
		UTIL_EQ(nd.watermark, 5);
		UTIL_RC(util_node_get(util_s, DS, "new-node", &nd), OPLOG_ENOTFOUND);
	}
	UTIL_OK(oplog_store_offset(util_s, "t", 0, &next));
	UTIL_EQ(next, 10);
	UTIL_CONSISTENT(util_s);

	free(before);
	oplog_batch_free(bt);
	util_entries_free(small, 5);
	util_entries_free(big, nbig);
	util_entries_free(after, 5);
	free(small);
	free(big);
	free(after);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Snapshot                                                            */

START_TEST(test_snapshot__copy_has_same_id_offsets_and_state)
{
	struct oplog_batch *b = NULL;
	struct oplog_store *copy = NULL;
	char dir[4200];
	char *orig_r, *copy_r;
	int64_t next = 0;
	struct util_entry late;

	fill_rich();
	UTIL_OK(oplog_batch_new(&b));
	UTIL_OK(oplog_batch_offset(b, "oplog", 2, 4242));
	UTIL_OK(oplog_store_apply(util_s, b, NULL));
	util_subdir(dir, sizeof(dir), "snap");
	UTIL_OK(oplog_store_snapshot(util_s, dir));

	/* The original moves on; the copy must not see it. */
	mk(&late, DS, "z", 1, 99999, 0, "kz", OPLOG_OP_PUT, "after", NULL);
	apply1(&late, NULL);

	UTIL_OK(util_store_open(&copy, dir, 0, 0, 0));
	UTIL_CHECK(memcmp(oplog_store_id(copy), oplog_store_id(util_s), OPLOG_STORE_ID_LEN) == 0);
	UTIL_OK(oplog_store_offset(copy, "oplog", 2, &next));
	UTIL_EQ(next, 4242);
	UTIL_EQ(util_entry_count(copy), util_entry_count(util_s) - 1);
	UTIL_CONSISTENT(copy);

	oplog_store_close(copy);
	copy = NULL;
	UTIL_OK(util_store_open(&copy, dir, 0, 0, 0));
	UTIL_OK(util_apply_one(copy, &late, NULL));
	orig_r = util_store_render(util_s);
	copy_r = util_store_render(copy);
	UTIL_CHECK(orig_r && copy_r);
	ck_assert_msg(strcmp(orig_r, copy_r) == 0, "snapshot differs: %s", util_first_diff(orig_r, copy_r));
	free(orig_r);
	free(copy_r);
	oplog_store_close(copy);
	oplog_batch_free(b);
	util_entry_free(&late);
}
END_TEST

START_TEST(test_open__reopen_keeps_rendered_state)
{
	char *before, *after;

	fill_rich();
	before = util_store_render(util_s);
	UTIL_CHECK(before != NULL);
	reopen();
	after = util_store_render(util_s);
	UTIL_CHECK(after != NULL);
	ck_assert_msg(strcmp(before, after) == 0, "reopen changed the state: %s",
	              util_first_diff(before, after));
	free(before);
	free(after);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Reading while another process writes                                */

#define RW_BATCHES 40
#define RW_PER     100

static int count_cb(const struct oplog_entry *e, const void *msg, size_t len, void *arg)
{
	(void)e; (void)msg; (void)len;
	(*(uint64_t *)arg)++;
	return 0;
}

static int count_node_cb(const struct oplog_node_info *n, void *arg)
{
	(void)n;
	(*(uint64_t *)arg)++;
	return 0;
}

/* The writer: RW_BATCHES batches of RW_PER entries over 4 nodes. */
static void rw_child(int ready_fd)
{
	static const char *nodes[4] = { "w0", "w1", "w2", "w3" };
	struct util_entry *es = calloc(RW_BATCHES * RW_PER, sizeof(*es));
	struct oplog_store *s = NULL;
	size_t b, i;
	int rc = 0;
	char c = 'r';

	if (!es || util_store_open(&s, util_dir, 0, 0, 0) != 0)
		_exit(10);
	for (i = 0; i < 4 && rc == 0; i++)
		rc = util_chain_build(&es[i * (RW_BATCHES * RW_PER / 4)], RW_BATCHES * RW_PER / 4,
		                      DS, nodes[i], 1, NULL, 1000 + i);
	if (rc)
		_exit(11);
	if (write(ready_fd, &c, 1) != 1)
		_exit(12);
	close(ready_fd);
	for (b = 0; b < RW_BATCHES; b++) {
		struct util_entry *batch[RW_PER];

		/* Interleave the nodes so every batch touches all four. */
		for (i = 0; i < RW_PER; i++) {
			size_t k = b * RW_PER + i;
			batch[i] = &es[(k % 4) * (RW_BATCHES * RW_PER / 4) + k / 4];
		}
		if (util_apply(s, batch, RW_PER, NULL) != 0)
			_exit(13);
	}
	oplog_store_close(s);
	util_entries_free(es, RW_BATCHES * RW_PER);
	free(es);
	_exit(0);
}

START_TEST(test_read__while_another_process_writes)
{
	struct oplog_store *r = NULL;
	int fds[2], status = 0;
	uint64_t prev = 0, reads = 0;
	pid_t pid;
	char c;

	oplog_store_close(util_s);
	util_s = NULL;
	UTIL_CHECK(pipe(fds) == 0);
	pid = fork();
	UTIL_CHECK(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		rw_child(fds[1]);
	}
	close(fds[1]);
	UTIL_CHECK(read(fds[0], &c, 1) == 1);
	close(fds[0]);
	UTIL_OK(util_store_open(&r, util_dir, 0, 0, 0));
	for (;;) {
		uint64_t n = 0, nodes = 0;
		struct oplog_stats st;
		pid_t w = waitpid(pid, &status, WNOHANG);

		UTIL_OK(oplog_store_scan(r, util_sl(DS), NULL, 0, count_cb, &n));
		/* A batch is all or nothing, also to a reader. */
		ck_assert_msg(n % RW_PER == 0, "reader saw %llu entries: part of a batch",
		              (unsigned long long)n);
		UTIL_CHECK(n >= prev);
		prev = n;
		UTIL_OK(oplog_store_stats(r, &st));
		UTIL_CHECK(st.entries >= n);
		UTIL_OK(oplog_store_nodes(r, util_sl(DS), count_node_cb, &nodes));
		UTIL_CHECK(nodes <= 4);
		if (reads % 8 == 0)
			UTIL_CONSISTENT(r);
		reads++;
		if (w == pid)
			break;
		UTIL_CHECK(w == 0);
	}
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer exit status %d", status);
	UTIL_EQ(util_entry_count(r), RW_BATCHES * RW_PER);
	UTIL_CONSISTENT(r);
	oplog_store_close(r);
}
END_TEST

/* Two processes that both write, each growing the map in turn. */
static void grow_writer(const char *node, int go_fd, int done_fd)
{
	struct util_entry *es;
	struct oplog_store *s = NULL;
	size_t i, n = 120;
	char c;

	es = big_chain(node, n, 1, NULL);
	if (util_store_open(&s, util_dir, 1u << 20, 256u << 20, OPLOG_STORE_NOSYNC) != 0)
		_exit(20);
	if (read(go_fd, &c, 1) != 1)
		_exit(21);
	/* Small batches, so that both writers interleave and both grow. */
	for (i = 0; i < n; i += 4)
		if (util_apply_array(s, es + i, 4, NULL) != 0)
			_exit(22);
	oplog_store_close(s);
	util_entries_free(es, n);
	free(es);
	c = 'd';
	if (write(done_fd, &c, 1) != 1)
		_exit(23);
	_exit(0);
}

START_TEST(test_apply__two_writer_processes_both_growing_the_map)
{
	int go[2], done[2], status, k;
	pid_t pid[2];
	static const char *nodes[2] = { "p", "q" };
	char c = 'g';

	oplog_store_close(util_s);
	util_s = NULL;
	UTIL_CHECK(pipe(go) == 0 && pipe(done) == 0);
	for (k = 0; k < 2; k++) {
		pid[k] = fork();
		UTIL_CHECK(pid[k] >= 0);
		if (pid[k] == 0) {
			close(go[1]);
			close(done[0]);
			grow_writer(nodes[k], go[0], done[1]);
		}
	}
	close(go[0]);
	close(done[1]);
	UTIL_CHECK(write(go[1], &c, 1) == 1 && write(go[1], &c, 1) == 1);
	close(go[1]);
	for (k = 0; k < 2; k++) {
		UTIL_CHECK(waitpid(pid[k], &status, 0) == pid[k]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		              "writer %d ended with status %d", k, status);
	}
	close(done[0]);
	UTIL_OK(util_store_open(&util_s, util_dir, 0, 0, 0));
	UTIL_EQ(stats().entries, 240);
	UTIL_CONSISTENT(util_s);
}
END_TEST

/* A read-only reader opened on a small map while the writer grows it. */
START_TEST(test_read__rdonly_reader_follows_map_growth)
{
	struct oplog_store *r = NULL;
	struct util_entry *es;
	int fds[2], status = 0;
	size_t n = 400;
	uint64_t seen = 0, prev = 0;
	pid_t pid;
	char c;

	oplog_store_close(util_s);
	util_s = NULL;
	/* The store exists, at 1 MiB, before either process opens it. */
	UTIL_OK(util_store_open(&util_s, util_dir, 1u << 20, 256u << 20, 0));
	oplog_store_close(util_s);
	util_s = NULL;
	UTIL_CHECK(pipe(fds) == 0);
	pid = fork();
	UTIL_CHECK(pid >= 0);
	if (pid == 0) {
		struct oplog_store *w = NULL;
		size_t i;

		close(fds[0]);
		es = big_chain("g", n, 1, NULL);
		if (util_store_open(&w, util_dir, 1u << 20, 256u << 20, OPLOG_STORE_NOSYNC) != 0)
			_exit(30);
		c = 'r';
		if (write(fds[1], &c, 1) != 1)
			_exit(31);
		for (i = 0; i < n; i += 10)
			if (util_apply_array(w, es + i, 10, NULL) != 0)
				_exit(32);
		oplog_store_close(w);
		util_entries_free(es, n);
		free(es);
		_exit(0);
	}
	close(fds[1]);
	UTIL_CHECK(read(fds[0], &c, 1) == 1);
	close(fds[0]);
	UTIL_OK(util_store_open(&r, util_dir, 1u << 20, 0, OPLOG_STORE_RDONLY));
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		seen = 0;
		UTIL_OK(oplog_store_scan(r, util_sl(DS), NULL, 0, count_cb, &seen));
		UTIL_CHECK(seen % 10 == 0 && seen >= prev);
		prev = seen;
		if (w == pid)
			break;
		UTIL_CHECK(w == 0);
	}
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer exit status %d", status);
	UTIL_EQ(seen, n);
	UTIL_CHECK(stats_of(r).map_size >= (n * BIG_BODY));
	UTIL_CONSISTENT(r);
	oplog_store_close(r);
}
END_TEST

/* ------------------------------------------------------------------ */

static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *t;

	t = util_store_tcase(s, "builder", 10);
	tcase_add_test(t, test_util__builder_matches_spec_examples);
	tcase_add_test(t, test_util__builder_output_decodes);

	t = util_store_tcase(s, "open", 10);
	tcase_add_test(t, test_open__store_id_is_stable_across_reopen);
	tcase_add_test(t, test_open__new_stores_get_different_ids);
	tcase_add_test(t, test_open__rdonly_missing_store_is_notfound);
	tcase_add_test(t, test_open__rdonly_store_refuses_apply);

	t = util_store_tcase(s, "schema", 10);
	tcase_add_test(t, test_schema__meta_holds_the_current_schema);
	tcase_add_test(t, test_schema__newer_schema_is_refused);

	t = util_store_tcase(s, "dedupe", 10);
	tcase_add_test(t, test_apply__duplicate_counted_once);
	tcase_add_test(t, test_get__only_in_its_own_dataset);
	tcase_add_test(t, test_get__returns_message_bytes_unchanged);
	tcase_add_test(t, test_batch__clear_empties_and_counts);
	tcase_add_test(t, test_batch__rejects_and_offsets_are_copied);

	t = util_store_tcase(s, "hash_index", 10);
	tcase_add_test(t, test_get__shared_hash_prefix_resolved_by_message);
	tcase_add_test(t, test_get__shared_hash_prefix_across_datasets_not_confused);
	tcase_add_test(t, test_get__entries_on_both_sides_of_an_epoch_boundary);
	tcase_add_test(t, test_apply__shared_hash_prefix_within_one_batch);
	tcase_add_test(t, test_get__completed_epoch_found_through_its_filter);
	tcase_add_test(t, test_verify__filter_ruling_out_an_entry_reported);
	tcase_add_test(t, test_prune__keeps_other_entries_under_a_shared_hash_prefix);

	t = util_store_tcase(s, "head", 10);
	tcase_add_test(t, test_apply__late_entry_keeps_head);
	tcase_add_test(t, test_apply__later_entry_moves_head);
	tcase_add_test(t, test_apply__head_follows_hlc_not_seq);
	tcase_add_test(t, test_apply__head_logic_breaks_wall_tie);
	tcase_add_test(t, test_apply__head_tie_broken_by_greater_hash);

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
	tcase_add_test(t, test_scan__returns_the_callbacks_stop_value);

	t = util_store_tcase(s, "prune_documents", 10);
	tcase_add_test(t, test_prune__removed_winner_keeps_its_document);
	tcase_add_test(t, test_prune__document_of_removed_winner_still_replaced_by_later_writes);

	t = util_store_tcase(s, "below_boundary", 10);
	tcase_add_test(t, test_below_boundary__pruned_entry_not_readded);
	tcase_add_test(t, test_below_boundary__still_reaches_documents);

	t = util_store_tcase(s, "verify", 10);
	tcase_add_test(t, test_verify__consistent_store_has_no_problem);
	tcase_add_test(t, test_verify__missing_by_hlc_record_reported);
	tcase_add_test(t, test_verify__missing_by_seq_record_reported);
	tcase_add_test(t, test_verify__missing_by_node_record_reported);
	tcase_add_test(t, test_verify__missing_entry_reported);
	tcase_add_test(t, test_verify__changed_link_reported);
	tcase_add_test(t, test_verify__changed_head_reported);
	tcase_add_test(t, test_verify__changed_watermark_reported);
	tcase_add_test(t, test_verify__changed_document_reported);
	tcase_add_test(t, test_verify__missing_log_record_reported);
	tcase_add_test(t, test_verify__undecodable_log_record_reported);
	tcase_add_test(t, test_verify__log_record_with_wrong_hash_reported);
	tcase_add_test(t, test_verify__entry_in_wrong_epoch_reported);
	tcase_add_test(t, test_verify__entry_naming_another_entry_reported);
	tcase_add_test(t, test_verify__by_hlc_record_of_missing_entry_reported);
	tcase_add_test(t, test_verify__by_node_record_of_missing_entry_reported);
	tcase_add_test(t, test_verify__by_seq_naming_another_log_record_reported);
	tcase_add_test(t, test_verify__document_naming_another_entry_reported);
	tcase_add_test(t, test_verify__document_naming_missing_log_record_reported);
	tcase_add_test(t, test_verify__missing_head_reported);
	tcase_add_test(t, test_verify__missing_fork_record_reported);
	tcase_add_test(t, test_verify__fork_of_missing_entry_reported);
	tcase_add_test(t, test_verify__missing_break_record_reported);
	tcase_add_test(t, test_verify__break_of_a_correct_chain_reported);

	t = util_store_tcase(s, "offsets", 10);
	tcase_add_test(t, test_offsets__stored_with_batch_and_replaced_by_later_batch);
	tcase_add_test(t, test_offsets__lost_range_kept_and_moves_partition_on);

	t = util_store_tcase(s, "rejects", 10);
	tcase_add_test(t, test_rejects__stored_truncated_with_size_and_counted);
	tcase_add_test(t, test_rejects__limit_gives_newest_last);

	t = util_store_tcase(s, "chain", 10);
	tcase_add_test(t, test_chain__backward_from_head_to_genesis);
	tcase_add_test(t, test_chain__forward_from_seq1_to_head);
	tcase_add_test(t, test_chain__gap_stops_walk);
	tcase_add_test(t, test_chain__limit_stops_walk);
	tcase_add_test(t, test_chain__forward_follows_smallest_hash_at_fork);
	tcase_add_test(t, test_chain__unknown_start_and_callback_stop);

	t = util_store_tcase(s, "scan", 10);
	tcase_add_test(t, test_scan__paging_gives_every_entry_once_in_hlc_order);
	tcase_add_test(t, test_scan__after_position_without_node_or_hash);
	tcase_add_test(t, test_scan__node_names_order_bytewise_shorter_first);
	tcase_add_test(t, test_scan__hlc_ties_by_name_then_hash_in_any_arrival_order);
	tcase_add_test(t, test_scan_node__hlc_ties_by_hash_in_any_arrival_order);
	tcase_add_test(t, test_scan_node__one_node_in_hlc_order_with_after_and_limit);
	tcase_add_test(t, test_scan_seq__range_lists_forks_by_hash);
	tcase_add_test(t, test_scan__callback_stop_value_returned);
	tcase_add_test(t, test_scan__stays_inside_dataset_and_node);
	tcase_add_test(t, test_nodes__and_datasets_listed_by_name_not_arrival);

	t = util_store_tcase(s, "map", 30);
	tcase_add_test(t, test_map__grows_from_1mib_for_20mib_of_entries);
	tcase_add_test(t, test_map__full_batch_applies_nothing_and_store_goes_on);

	t = util_store_tcase(s, "snapshot", 10);
	tcase_add_test(t, test_snapshot__copy_has_same_id_offsets_and_state);
	tcase_add_test(t, test_open__reopen_keeps_rendered_state);

	t = util_store_tcase(s, "concurrency", 30);
	tcase_add_test(t, test_read__while_another_process_writes);
	tcase_add_test(t, test_read__rdonly_reader_follows_map_growth);
	tcase_add_test(t, test_apply__two_writer_processes_both_growing_the_map);
	return s;
}

int main(void)
{
	return util_suite_run(store_suite());
}
