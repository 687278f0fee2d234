/*
 * open.c: the store's suite, opening a store: the entry builder itself,
 * the store id, the schema in meta, read-only opens, reopen and snapshot
 * copies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <check.h>

#include "util_store.h"
#include "store/tcases.h"

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
	oplog_hex(e1.msg, e1.len, hex);
	UTIL_STR_EQ(hex, SPEC_MSG1);
	free(hex);
	hex = malloc(2 * e2.len + 1);
	oplog_hex(e2.msg, e2.len, hex);
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

	util_mk(&u, UTIL_DS, "n", 1, 5, 0, "k", OPLOG_OP_PUT, "x", NULL);
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
	util_reopen();
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

START_TEST(test_open__creates_missing_parents)
{
	char path[4300], top[4200];
	struct oplog_store *s2 = NULL;
	struct stat sb;

	util_subdir(top, sizeof(top), "p");
	snprintf(path, sizeof(path), "%s/q/r/store", top);
	UTIL_OK(util_store_open(&s2, path, 0, 0, 0));
	oplog_store_close(s2);
	UTIL_CHECK(stat(path, &sb) == 0 && S_ISDIR(sb.st_mode));
	/* Parents get the store's directory mode (0600 files: 0700). */
	UTIL_CHECK(stat(top, &sb) == 0 && (sb.st_mode & 0777) == 0700);
}
END_TEST

START_TEST(test_open__rdonly_store_refuses_apply)
{
	struct oplog_store *ro = NULL;
	struct util_entry u;

	util_mk(&u, UTIL_DS, "n", 1, 5, 0, "k", OPLOG_OP_PUT, "x", NULL);
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
/* Snapshot                                                            */

START_TEST(test_snapshot__copy_has_same_id_offsets_and_state)
{
	struct oplog_batch *b = NULL;
	struct oplog_store *copy = NULL;
	char dir[4200];
	char *orig_r, *copy_r;
	int64_t next = 0;
	struct util_entry late;

	util_fill_rich();
	UTIL_OK(oplog_batch_new(&b));
	UTIL_OK(oplog_batch_offset(b, "oplog", 2, 4242));
	UTIL_OK(oplog_store_apply(util_s, b, NULL));
	util_subdir(dir, sizeof(dir), "snap");
	UTIL_OK(oplog_store_snapshot(util_s, dir));

	/* The original moves on; the copy must not see it. */
	util_mk(&late, UTIL_DS, "z", 1, 99999, 0, "kz", OPLOG_OP_PUT, "after", NULL);
	util_apply1(&late, NULL);

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

START_TEST(test_snapshot__refuses_a_non_empty_dir)
{
	char dir[4200], file[4300];
	FILE *f;
	struct stat sb;

	util_subdir(dir, sizeof(dir), "snap");
	UTIL_OK(oplog_store_snapshot(util_s, dir));
	UTIL_RC(oplog_store_snapshot(util_s, dir), OPLOG_EINVAL);
	UTIL_CHECK(strstr(oplog_error_last(), "is not empty") != NULL);
	UTIL_CHECK(strstr(oplog_error_last(), "mdb_") == NULL);
	util_subdir(dir, sizeof(dir), "other");
	UTIL_CHECK(mkdir(dir, 0700) == 0);
	snprintf(file, sizeof(file), "%s/x", dir);
	UTIL_CHECK((f = fopen(file, "w")) != NULL);
	fclose(f);
	UTIL_RC(oplog_store_snapshot(util_s, dir), OPLOG_EINVAL);
	snprintf(file, sizeof(file), "%s/data.mdb", dir);
	UTIL_CHECK(stat(file, &sb) != 0);
}
END_TEST

START_TEST(test_open__reopen_keeps_rendered_state)
{
	char *before, *after;

	util_fill_rich();
	before = util_store_render(util_s);
	UTIL_CHECK(before != NULL);
	util_reopen();
	after = util_store_render(util_s);
	UTIL_CHECK(after != NULL);
	ck_assert_msg(strcmp(before, after) == 0, "reopen changed the state: %s",
	              util_first_diff(before, after));
	free(before);
	free(after);
}
END_TEST

/* ------------------------------------------------------------------ */

void store_open_tcases(Suite *s)
{
	TCase *t;

	t = util_store_tcase(s, "builder", 10);
	tcase_add_test(t, test_util__builder_matches_spec_examples);
	tcase_add_test(t, test_util__builder_output_decodes);

	t = util_store_tcase(s, "open", 10);
	tcase_add_test(t, test_open__store_id_is_stable_across_reopen);
	tcase_add_test(t, test_open__new_stores_get_different_ids);
	tcase_add_test(t, test_open__rdonly_missing_store_is_notfound);
	tcase_add_test(t, test_open__rdonly_store_refuses_apply);
	tcase_add_test(t, test_open__creates_missing_parents);

	t = util_store_tcase(s, "schema", 10);
	tcase_add_test(t, test_schema__meta_holds_the_current_schema);
	tcase_add_test(t, test_schema__newer_schema_is_refused);

	t = util_store_tcase(s, "snapshot", 10);
	tcase_add_test(t, test_snapshot__copy_has_same_id_offsets_and_state);
	tcase_add_test(t, test_open__reopen_keeps_rendered_state);
	tcase_add_test(t, test_snapshot__refuses_a_non_empty_dir);
}
