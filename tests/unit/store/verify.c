/*
 * verify.c: the store's suite, verify: a consistent store has no problem;
 * each kind of damage to the LMDB files is reported by name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "util_store.h"
#include "store/tcases.h"

/* ------------------------------------------------------------------ */
/* Verify                                                              */

START_TEST(test_verify__consistent_store_has_no_problem)
{
	struct util_break br[4];
	struct util_fork forks[4];
	size_t nb = 0, nf = 0;
	struct oplog_prune_stats ps;
	struct oplog_hlc cut;

	UTIL_EQ(util_verify(util_s, NULL), 0);
	util_fill_rich();
	UTIL_OK(util_breaks(util_s, UTIL_DS, br, 4, &nb));
	UTIL_OK(util_forks(util_s, UTIL_DS, forks, 4, &nf));
	UTIL_EQ(nb, 1);
	UTIL_EQ(nf, 1);
	UTIL_CONSISTENT(util_s);
	memset(&cut, 0, sizeof(cut));
	cut.wall = 1025;
	UTIL_OK(oplog_store_prune(util_s, util_sl(UTIL_DS), &cut, 2, &ps));
	UTIL_CHECK(ps.pruned > 0);
	UTIL_CONSISTENT(util_s);
	util_reopen();
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

	util_fill_rich();
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

void store_verify_tcases(Suite *s)
{
	TCase *t;

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
}
