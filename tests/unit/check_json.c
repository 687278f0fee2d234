/* check_json: JSON renderings (oplog/json.h) and the store dump
 * (oplog/dump.h): encodings, UTF-8 repair, field order, determinism. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "oplog/bytes.h"
#include "oplog/dump.h"
#include "oplog/entry.h"
#include "oplog/error.h"
#include "oplog/json.h"
#include "oplog/store.h"

/* The worked examples of wire-format-v1. */
static const char EX1_MSG[] =
	"8ba17601a26473a473686f70a46e6f6465a66e6f64652d61a373657101a477616c6c"
	"cf0000019aa4b64500a56c6f67696300a3636f6ca57573657273a36b6579a27531a2"
	"6f70a3707574a468617368c420aff7ce8b6d823c4fc97baf1d2ddf6bf765d842fe4c"
	"60bab436eea4b370f8cb75a464617461c40e7b226e616d65223a22616461227d";
static const char EX2_MSG[] =
	"8ba17601a26473a473686f70a46e6f6465a66e6f64652d61a373657102a477616c6c"
	"cf0000019aa4b64500a56c6f67696301a3636f6ca57573657273a36b6579a27531a2"
	"6f70a364656ca468617368c420bc1962f5bb6dae6ad109989c720d8c528443daf419"
	"03b504213947d6e544ffdba470726576c420aff7ce8b6d823c4fc97baf1d2ddf6bf7"
	"65d842fe4c60bab436eea4b370f8cb75";
#define EX1_HASH "aff7ce8b6d823c4fc97baf1d2ddf6bf765d842fe4c60bab436eea4b370f8cb75"
#define EX2_HASH "bc1962f5bb6dae6ad109989c720d8c528443daf41903b504213947d6e544ffdb"

#define OK(expr) do { \
	int rc_ = (int)(expr); \
	ck_assert_msg(rc_ == 0, "%s returned %d; last error: \"%s\"", #expr, rc_, \
	              oplog_error_last()); \
} while (0)

/* Decoded bytes of a hex string; the caller frees *buf. */
static void unhex(const char *hex, uint8_t **buf, size_t *len)
{
	*len = strlen(hex) / 2;
	*buf = malloc(*len);
	ck_assert_ptr_nonnull(*buf);
	OK(oplog_unhex(hex, *buf, *len) == 0 ? 0 : -1);
}

/* Compact text of j (freed here), compared with want. */
static void assert_json(json_t *j, const char *want)
{
	char *got;

	ck_assert_msg(j != NULL, "NULL json; last error: \"%s\"", oplog_error_last());
	got = json_dumps(j, OPLOG_JSON_FLAGS | JSON_ENCODE_ANY);
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, want);
	free(got);
	json_decref(j);
}

/* ---- encodings ------------------------------------------------------ */

START_TEST(test_base64__matches_rfc4648_vectors)
{
	static const char *const in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const out[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
	                                   "Zm9vYmFy" };
	char buf[16], quoted[16];
	size_t i;

	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		ck_assert_uint_eq(oplog_base64_len(strlen(in[i])), strlen(out[i]));
		ck_assert_uint_eq(oplog_base64((const uint8_t *)in[i], strlen(in[i]), buf),
		                  strlen(out[i]));
		ck_assert_str_eq(buf, out[i]);
		snprintf(quoted, sizeof(quoted), "\"%s\"", out[i]);
		assert_json(oplog_json_base64((const uint8_t *)in[i], strlen(in[i])), quoted);
	}
}
END_TEST

START_TEST(test_base64__uses_the_standard_alphabet)
{
	static const uint8_t in[] = { 0xfb, 0xff, 0xbf };
	char buf[8];

	oplog_base64(in, sizeof(in), buf);
	ck_assert_str_eq(buf, "+/+/");
}
END_TEST

START_TEST(test_hex__is_lowercase)
{
	static const uint8_t in[] = { 0x00, 0xAB, 0xff };

	assert_json(oplog_json_hex(in, sizeof(in)), "\"00abff\"");
	assert_json(oplog_json_hex(in, 0), "\"\"");
}
END_TEST

START_TEST(test_text__keeps_valid_utf8)
{
	/* ASCII, 2-, 3- and 4-byte forms, the largest code point, a NUL. */
	static const char in[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf";

	assert_json(oplog_json_text((const uint8_t *)in, sizeof(in) - 1),
	            "\"a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"");
	assert_json(oplog_json_text((const uint8_t *)"a\0b", 3), "\"a\\u0000b\"");
}
END_TEST

#define FFFD "\xef\xbf\xbd"

START_TEST(test_text__replaces_each_invalid_byte)
{
	static const struct {
		const char *in;
		size_t      len;
		const char *want;
	} cases[] = {
		{ "\xff", 1, "\"" FFFD "\"" },                         /* never valid */
		{ "a\x80z", 3, "\"a" FFFD "z\"" },                     /* lone continuation */
		{ "\xc0\x80", 2, "\"" FFFD FFFD "\"" },                /* overlong NUL */
		{ "\xe0\x80\xaf", 3, "\"" FFFD FFFD FFFD "\"" },       /* overlong '/' */
		{ "\xed\xa0\x80", 3, "\"" FFFD FFFD FFFD "\"" },       /* surrogate */
		{ "\xf4\x90\x80\x80", 4, "\"" FFFD FFFD FFFD FFFD "\"" }, /* past U+10FFFF */
		{ "x\xe2\x82", 3, "\"x" FFFD FFFD "\"" },              /* cut at the end */
		{ "\xe2\x82\xac\xe2", 4, "\"\xe2\x82\xac" FFFD "\"" }, /* valid, then cut */
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_json(oplog_json_text((const uint8_t *)cases[i].in, cases[i].len),
		            cases[i].want);
}
END_TEST

/* ---- records -------------------------------------------------------- */

START_TEST(test_entry__has_the_decode_form_in_order)
{
	struct oplog_entry e;
	uint8_t *msg;
	size_t len;
	json_t *obj;

	unhex(EX1_MSG, &msg, &len);
	OK(oplog_entry_decode(msg, len, 0, 0, &e, NULL));
	assert_json(oplog_json_entry(&e),
	            "{\"ds\":\"shop\",\"node\":\"node-a\",\"seq\":1,\"wall\":1763700000000,"
	            "\"logic\":0,\"col\":\"users\",\"key\":\"u1\",\"op\":\"put\","
	            "\"data\":\"eyJuYW1lIjoiYWRhIn0=\",\"prev\":null,\"hash\":\"" EX1_HASH "\"}");
	free(msg);

	/* A del: data null, prev hex; _into keeps fields already there. */
	unhex(EX2_MSG, &msg, &len);
	OK(oplog_entry_decode(msg, len, 0, 0, &e, NULL));
	obj = json_object();
	ck_assert_int_eq(json_object_set_new(obj, "ok", json_true()), 0);
	OK(oplog_json_entry_into(obj, &e));
	assert_json(obj,
	            "{\"ok\":true,\"ds\":\"shop\",\"node\":\"node-a\",\"seq\":2,"
	            "\"wall\":1763700000000,\"logic\":1,\"col\":\"users\",\"key\":\"u1\","
	            "\"op\":\"del\",\"data\":null,\"prev\":\"" EX1_HASH "\",\"hash\":\""
	            EX2_HASH "\"}");
	free(msg);
}
END_TEST

START_TEST(test_entry__repairs_col_and_key)
{
	struct oplog_entry e;
	uint8_t *msg;
	size_t len;
	json_t *obj;

	unhex(EX1_MSG, &msg, &len);
	OK(oplog_entry_decode(msg, len, 0, 0, &e, NULL));
	e.key.ptr = (const uint8_t *)"u\xff";
	e.key.len = 2;
	obj = oplog_json_entry(&e);
	ck_assert_ptr_nonnull(obj);
	ck_assert_str_eq(json_string_value(json_object_get(obj, "key")), "u" FFFD);
	json_decref(obj);
	free(msg);
}
END_TEST

START_TEST(test_records__have_the_cli_shapes)
{
	static const uint64_t gaps[2][2] = { { 3, 4 }, { 7, 7 } };
	uint8_t h[OPLOG_HASH_LEN], p[OPLOG_HASH_LEN];
	uint8_t hashes[2][OPLOG_HASH_LEN];
	struct oplog_node_info n;
	struct oplog_doc d;
	struct oplog_reject_rec r;
	uint64_t counts[OPLOG_R__COUNT] = { 0 };
	char hex[2 * OPLOG_HASH_LEN + 1], want[512];
	json_t *doc;

	memset(h, 0xab, sizeof(h));
	memset(p, 0x01, sizeof(p));
	oplog_hex(h, sizeof(h), hex);
	memset(&n, 0, sizeof(n));
	n.node.ptr = (const uint8_t *)"n1";
	n.node.len = 2;
	n.head_seq = 9;
	n.head_wall = 100;
	n.head_logic = 2;
	memcpy(n.head_hash, h, sizeof(h));
	n.watermark = 2;
	n.n_gaps = 2;
	n.gaps = gaps;
	snprintf(want, sizeof(want),
	         "{\"node\":\"n1\",\"seq\":9,\"wall\":100,\"logic\":2,\"hash\":\"%s\"}", hex);
	assert_json(oplog_json_head(&n), want);
	assert_json(oplog_json_watermark(&n),
	            "{\"node\":\"n1\",\"watermark\":2,\"head_seq\":9,\"gaps\":[[3,4],[7,7]],"
	            "\"pruned_through\":0}");

	memset(&d, 0, sizeof(d));
	d.col = n.node;
	d.key = n.node;
	d.node = n.node;
	d.op = OPLOG_OP_DEL;
	d.seq = 3;
	memcpy(d.hash, h, sizeof(h));
	snprintf(want, sizeof(want),
	         "{\"col\":\"n1\",\"key\":\"n1\",\"op\":\"del\",\"node\":\"n1\",\"seq\":3,"
	         "\"wall\":0,\"logic\":0,\"hash\":\"%s\",\"data\":null}", hex);
	assert_json(oplog_json_doc(&d), want);
	d.op = OPLOG_OP_PUT;   /* an empty put body is "", not null */
	doc = oplog_json_doc(&d);
	ck_assert_ptr_nonnull(doc);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "data")), "");
	json_decref(doc);

	memcpy(hashes[0], p, sizeof(p));
	memcpy(hashes[1], h, sizeof(h));
	snprintf(want, sizeof(want), "{\"node\":\"n1\",\"seq\":5,\"hashes\":[\"%s\",\"%s\"]}",
	         "0101010101010101010101010101010101010101010101010101010101010101", hex);
	assert_json(oplog_json_fork(n.node, 5, (const uint8_t (*)[OPLOG_HASH_LEN])hashes, 2),
	            want);

	memset(&r, 0, sizeof(r));
	r.id = 4;
	r.time_ms = 5;
	r.source = n.node;
	r.reason = OPLOG_R_MALFORMED;
	r.field = OPLOG_F_NONE;
	r.detail = n.node;
	r.size = 6;
	assert_json(oplog_json_reject(&r),
	            "{\"id\":4,\"time_ms\":5,\"source\":\"n1\",\"reason\":\"malformed\","
	            "\"field\":null,\"detail\":\"n1\",\"size\":6}");

	counts[OPLOG_R_HASH_MISMATCH] = 2;
	counts[OPLOG_R_TOO_LARGE] = 1;
	assert_json(oplog_json_reject_counts(counts), "{\"too_large\":1,\"hash_mismatch\":2}");
}
END_TEST

/* ---- dump ----------------------------------------------------------- */

/* A fresh store in a new temporary directory. */
static struct oplog_store *store_new(char *dir)
{
	struct oplog_store_opts o = { 0 };
	struct oplog_store *s = NULL;

	strcpy(dir, "/tmp/check_json.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	o.path = dir;
	o.map_size = 16u << 20;
	o.flags = OPLOG_STORE_NOSYNC;
	OK(oplog_store_open(&s, &o));
	return s;
}

static void store_free(struct oplog_store *s, const char *dir)
{
	char path[64];

	oplog_store_close(s);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	unlink(path);
	rmdir(dir);
}

/* Apply the given messages, one batch each. */
static void apply_msgs(struct oplog_store *s, const char *const *hex, size_t n)
{
	struct oplog_batch *b;
	struct oplog_entry e;
	uint8_t *msg;
	size_t i, len;

	for (i = 0; i < n; i++) {
		OK(oplog_batch_new(&b));
		unhex(hex[i], &msg, &len);
		OK(oplog_entry_decode(msg, len, 0, 0, &e, NULL));
		OK(oplog_batch_add(b, msg, len, &e));
		OK(oplog_store_apply(s, b, NULL));
		oplog_batch_free(b);
		free(msg);
	}
}

/* The dump of s as a malloc'd string. */
static char *dump_str(struct oplog_store *s)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	ck_assert_ptr_nonnull(f);
	OK(oplog_store_dump(s, f));
	ck_assert_int_eq(fclose(f), 0);
	return text;
}

START_TEST(test_dump__of_an_empty_store_is_valid_json)
{
	char dir[32], *text;
	struct oplog_store *s = store_new(dir);
	json_t *j;

	text = dump_str(s);
	j = json_loads(text, 0, NULL);
	ck_assert_msg(j != NULL, "not JSON: %s", text);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "datasets")), 0);
	json_decref(j);
	free(text);
	store_free(s, dir);
}
END_TEST

START_TEST(test_dump__is_the_same_whatever_the_order)
{
	static const char *const fwd[] = { EX1_MSG, EX2_MSG };
	static const char *const rev[] = { EX2_MSG, EX1_MSG, EX2_MSG };
	char d1[32], d2[32], *t1, *t2;
	struct oplog_store *s1 = store_new(d1), *s2 = store_new(d2);
	json_t *j, *ds;

	apply_msgs(s1, fwd, 2);
	apply_msgs(s2, rev, 3);
	t1 = dump_str(s1);
	t2 = dump_str(s2);
	ck_assert_str_eq(t1, t2);

	j = json_loads(t1, 0, NULL);
	ck_assert_msg(j != NULL, "not JSON: %s", t1);
	ds = json_array_get(json_object_get(j, "datasets"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(ds, "name")), "shop");
	ck_assert_uint_eq(json_array_size(json_object_get(ds, "entries")), 2);
	ck_assert_uint_eq(json_array_size(json_object_get(ds, "heads")), 1);
	ck_assert_uint_eq(json_array_size(json_object_get(ds, "watermarks")), 1);
	ck_assert_uint_eq(json_array_size(json_object_get(ds, "documents")), 1);
	ck_assert_uint_eq(json_array_size(json_object_get(ds, "forks")), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(ds, "chain_breaks")), 0);
	ck_assert_str_eq(json_string_value(json_object_get(
		json_array_get(json_object_get(ds, "entries"), 0), "hash")), EX1_HASH);
	/* Counters stay out: s2 saw a duplicate and a late entry, s1 did not. */
	ck_assert_ptr_null(strstr(t1, "duplicates"));
	json_decref(j);
	free(t1);
	free(t2);
	store_free(s1, d1);
	store_free(s2, d2);
}
END_TEST

START_TEST(test_dump__reports_a_failed_write)
{
	char dir[32];
	struct oplog_store *s = store_new(dir);
	static const char *const one[] = { EX1_MSG };
	FILE *f = fopen("/dev/full", "w");

	if (f == NULL) {
		store_free(s, dir);
		return;   /* no /dev/full here: nothing to check */
	}
	apply_msgs(s, one, 1);
	setvbuf(f, NULL, _IONBF, 0);
	ck_assert_int_eq(oplog_store_dump(s, f), OPLOG_EIO);
	fclose(f);
	store_free(s, dir);
}
END_TEST

static void add(Suite *s, const char *name, const TTest *t)
{
	TCase *tc = tcase_create(name);

	tcase_add_test(tc, t);
	suite_add_tcase(s, tc);
}

#define ADD(s, t) add(s, #t, t)

int main(void)
{
	Suite *s = suite_create("json");
	SRunner *sr;
	int failed;

	ADD(s, test_base64__matches_rfc4648_vectors);
	ADD(s, test_base64__uses_the_standard_alphabet);
	ADD(s, test_hex__is_lowercase);
	ADD(s, test_text__keeps_valid_utf8);
	ADD(s, test_text__replaces_each_invalid_byte);
	ADD(s, test_entry__has_the_decode_form_in_order);
	ADD(s, test_entry__repairs_col_and_key);
	ADD(s, test_records__have_the_cli_shapes);
	ADD(s, test_dump__of_an_empty_store_is_valid_json);
	ADD(s, test_dump__is_the_same_whatever_the_order);
	ADD(s, test_dump__reports_a_failed_write);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
