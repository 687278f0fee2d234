/*
 * reject.c: the wire codec's suite, the reject reasons of a well-formed map,
 * field by field (version, missing, type, UTF-8, size, op, prev, hash), the
 * order the fields are judged in, and the stable names of reasons and
 * fields.
 */
#include <stdio.h>
#include <string.h>

#include <check.h>

#include "oplog/bytes.h"
#include "oplog/entry.h"
#include "wire/tcases.h"
#include "wire/util_wire.h"

START_TEST(test_decode__rejects_bad_version)
{
	static const char *const bad[] = {
		"02", "00", "ff", "d0ff", "a131", "c0", "c3", "cb3ff0000000000000",
		"cf0000000100000001", "9101", "c40101"
	};
	static const char *const good[] = { "01", "cc01", "cd0001", "cf0000000000000001",
	                                    "d001", "d10001", "d200000001", "d30000000000000001" };
	struct oplog_entry e;
	uint8_t hash[32], prev[32];
	struct mb m;
	size_t i;

	example(1, &e, hash, prev);
	mb_from_entry(&m, &e);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mb_set_hex(&m, "v", bad[i]);
		EXPECT_MB(&m, OPLOG_R_BAD_VERSION, OPLOG_F_V, "field 'v'");
	}
	mb_set_hex(&m, "v", "02");
	EXPECT_MB(&m, OPLOG_R_BAD_VERSION, OPLOG_F_V, "only version 1 is supported");
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		mb_set_hex(&m, "v", good[i]);
		EXPECT_MB(&m, OPLOG_R_NONE, OPLOG_F_NONE, NULL);
	}
	mb_drop(&m, "v");
	EXPECT_MB(&m, OPLOG_R_BAD_VERSION, OPLOG_F_V, "field 'v' is missing");
	mb_free(&m);
}
END_TEST

START_TEST(test_decode__rejects_missing_field)
{
	static const struct { const char *key; enum oplog_field f; } req[] = {
		{ "ds", OPLOG_F_DS }, { "node", OPLOG_F_NODE }, { "seq", OPLOG_F_SEQ },
		{ "wall", OPLOG_F_WALL }, { "logic", OPLOG_F_LOGIC },
		{ "col", OPLOG_F_COL }, { "key", OPLOG_F_KEY }, { "op", OPLOG_F_OP },
		{ "data", OPLOG_F_DATA }, { "hash", OPLOG_F_HASH },
	};
	struct oplog_entry e;
	uint8_t hash[32], prev[32];
	char want[64];
	struct mb m;
	size_t i;

	example(1, &e, hash, prev);
	for (i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		mb_from_entry(&m, &e);
		mb_drop(&m, req[i].key);
		snprintf(want, sizeof(want), "field '%s' is missing", req[i].key);
		EXPECT_MB(&m, OPLOG_R_MISSING_FIELD, req[i].f, want);
		mb_free(&m);
	}
	/* a del needs no data, a first entry no prev */
	example(2, &e, hash, prev);
	mb_from_entry(&m, &e);
	EXPECT_MB(&m, OPLOG_R_NONE, OPLOG_F_NONE, NULL);
	mb_drop(&m, "hash");
	EXPECT_MB(&m, OPLOG_R_MISSING_FIELD, OPLOG_F_HASH, NULL);
	mb_free(&m);
}
END_TEST

START_TEST(test_decode__rejects_bad_type)
{
	static const struct {
		const char *key, *hex;
		enum oplog_field f;
		const char *detail;
	} cases[] = {
		{ "ds", "07", OPLOG_F_DS, "field 'ds' is int, not str" },
		{ "ds", "c40473686f70", OPLOG_F_DS, "is bin, not str" },
		{ "ds", "c0", OPLOG_F_DS, "is nil, not str" },
		{ "node", "9100", OPLOG_F_NODE, "is array, not str" },
		{ "seq", "a131", OPLOG_F_SEQ, "field 'seq' is str, not an integer" },
		{ "seq", "cb3ff0000000000000", OPLOG_F_SEQ, "is float" },
		{ "seq", "c0", OPLOG_F_SEQ, "is nil" },
		{ "wall", "c3", OPLOG_F_WALL, "is bool" },
		{ "logic", "d6ff00000000", OPLOG_F_LOGIC, "is ext" },
		{ "col", "8100c0", OPLOG_F_COL, "is map, not str" },
		{ "key", "c4027531", OPLOG_F_KEY, "field 'key' is bin, not str" },
		{ "op", "01", OPLOG_F_OP, "field 'op' is int, not str" },
		{ "op", "c403707574", OPLOG_F_OP, "is bin" },
		{ "data", "a3616263", OPLOG_F_DATA, "field 'data' is str, not bin" },
		{ "data", "c0", OPLOG_F_DATA, "field 'data' is nil, not bin" },
		{ "hash", "c0", OPLOG_F_HASH, "field 'hash' is nil, not bin" },
		{ "hash", "a0", OPLOG_F_HASH, "is str" },
	};
	struct oplog_entry e;
	uint8_t hash[32], prev[32];
	struct mb m;
	size_t i;

	example(1, &e, hash, prev);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mb_from_entry(&m, &e);
		mb_set_hex(&m, cases[i].key, cases[i].hex);
		EXPECT_MB(&m, OPLOG_R_BAD_TYPE, cases[i].f, cases[i].detail);
		mb_free(&m);
	}
	/* prev on seq > 1 must be bin */
	example(2, &e, hash, prev);
	mb_from_entry(&m, &e);
	mb_set_hex(&m, "prev", "a3616263");
	EXPECT_MB(&m, OPLOG_R_BAD_TYPE, OPLOG_F_PREV, "field 'prev' is str, not bin");
	mb_free(&m);
}
END_TEST

START_TEST(test_decode__checks_utf8_of_ds_and_node_only)
{
	static const struct { const char *hex; int ok; } names[] = {
		{ "73686f7021", 1 },          /* shop! */
		{ "c3a9", 1 },                /* e-acute */
		{ "e282ac", 1 },              /* euro sign */
		{ "f09d849e", 1 },            /* U+1D11E */
		{ "f48fbfbf", 1 },            /* U+10FFFF */
		{ "ef bf bf", 0 },            /* placeholder, replaced below */
		{ "00", 1 },                  /* NUL is a code point */
		{ "c0af", 0 },                /* overlong '/' */
		{ "c1bf", 0 },                /* overlong */
		{ "e08080", 0 },              /* overlong NUL */
		{ "e09fbf", 0 },              /* overlong below U+0800 */
		{ "f08fbfbf", 0 },            /* overlong below U+10000 */
		{ "eda080", 0 },              /* surrogate D800 */
		{ "edbfbf", 0 },              /* surrogate DFFF */
		{ "f4908080", 0 },            /* U+110000 */
		{ "f5808080", 0 },            /* lead byte F5 */
		{ "ff", 0 },
		{ "80", 0 },                  /* stray continuation */
		{ "c3", 0 },                  /* cut short */
		{ "e282", 0 },                /* cut short */
		{ "c328", 0 },                /* bad continuation */
		{ "6162e2", 0 },              /* cut at the end */
	};
	struct oplog_entry e;
	uint8_t hash[32], prev[32];
	uint8_t name[8];
	struct mb m;
	size_t i, n;
	int which;

	example(1, &e, hash, prev);
	for (which = 0; which < 2; which++) {
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			if (strchr(names[i].hex, ' ') != NULL)
				continue;
			n = strlen(names[i].hex) / 2;
			ck_assert_int_eq(oplog_unhex(names[i].hex, name, n), 0);
			mb_from_entry(&m, &e);
			wb_str(mb_val(&m, which ? "node" : "ds"), 0, name, n);
			/* hash_mismatch shows the name passed every other check */
			EXPECT_MB(&m, names[i].ok ? OPLOG_R_HASH_MISMATCH : OPLOG_R_BAD_TYPE,
			          names[i].ok ? OPLOG_F_HASH : which ? OPLOG_F_NODE : OPLOG_F_DS,
			          names[i].ok ? NULL : "not valid UTF-8");
			/* col and key carry any bytes */
			if (!names[i].ok) {
				mb_free(&m);
				mb_from_entry(&m, &e);
				wb_str(mb_val(&m, which ? "key" : "col"), 0, name, n);
				EXPECT_MB(&m, OPLOG_R_HASH_MISMATCH, OPLOG_F_HASH, NULL);
			}
			mb_free(&m);
		}
	}
	/* UTF-8 is a type check: it comes before the size check */
	mb_from_entry(&m, &e);
	{
		uint8_t big[200];

		memset(big, 0xff, sizeof(big));
		wb_str(mb_val(&m, "ds"), 0, big, sizeof(big));
	}
	EXPECT_MB(&m, OPLOG_R_BAD_TYPE, OPLOG_F_DS, "not valid UTF-8 (byte 0 is 0xff)");
	mb_free(&m);
}
END_TEST

START_TEST(test_decode__rejects_bad_size)
{
	static const struct {
		const char *key, *hex;
		enum oplog_field f;
		const char *detail;
	} cases[] = {
		{ "ds", "a0", OPLOG_F_DS, "field 'ds' is empty; it needs 1..128 bytes" },
		{ "node", "a0", OPLOG_F_NODE, "is empty" },
		{ "col", "a0", OPLOG_F_COL, "is empty" },
		{ "key", "d900", OPLOG_F_KEY, "field 'key' is empty; it needs 1..1024 bytes" },
		{ "seq", "00", OPLOG_F_SEQ, "field 'seq' is 0; the minimum is 1" },
		{ "seq", "ff", OPLOG_F_SEQ, "field 'seq' is negative (-1)" },
		{ "seq", "d3ffffffffffffffff", OPLOG_F_SEQ, "negative" },
		{ "seq", "d1fffe", OPLOG_F_SEQ, "field 'seq' is negative (-2)" },
		{ "seq", "d1ff00", OPLOG_F_SEQ, "negative (-256)" },
		{ "logic", "d2fffffffd", OPLOG_F_LOGIC, "negative (-3)" },
		{ "wall", "d08f", OPLOG_F_WALL, "negative (-113)" },
		{ "wall", "e0", OPLOG_F_WALL, "negative (-32)" },
		{ "seq", "cf8000000000000000", OPLOG_F_SEQ,
		  "field 'seq' is 9223372036854775808; the limit is 9223372036854775807" },
		{ "seq", "cfffffffffffffffff", OPLOG_F_SEQ, "the limit is" },
		{ "wall", "fb", OPLOG_F_WALL, "field 'wall' is negative (-5)" },
		{ "wall", "cf8000000000000000", OPLOG_F_WALL, "the limit is 9223372036854775807" },
		{ "logic", "cf0000000100000000", OPLOG_F_LOGIC,
		  "field 'logic' is 4294967296; the limit is 4294967295" },
		{ "logic", "d0ff", OPLOG_F_LOGIC, "negative" },
		{ "hash", "c400", OPLOG_F_HASH, "is 0 bytes" },
	};
	struct oplog_entry e;
	uint8_t hash[32], prev[32];
	struct mb m;
	size_t i;

	example(1, &e, hash, prev);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mb_from_entry(&m, &e);
		mb_set_hex(&m, cases[i].key, cases[i].hex);
		EXPECT_MB(&m, OPLOG_R_BAD_SIZE, cases[i].f, cases[i].detail);
		mb_free(&m);
	}
	mb_from_entry(&m, &e);
	wb_bin(mb_val(&m, "hash"), 0, hash, 31);
	EXPECT_MB(&m, OPLOG_R_BAD_SIZE, OPLOG_F_HASH,
	          "field 'hash' is 31 bytes; it must be 32");
	mb_free(&m);
}
END_TEST

START_TEST(test_decode__rejects_bad_op)
{
	static const char *const ops[] = { "upd", "PUT", "", "put ", "dele", "pu" };
	struct oplog_entry e;
	uint8_t hash[32], prev[32];
	struct mb m;
	size_t i;

	example(1, &e, hash, prev);
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		mb_from_entry(&m, &e);
		wb_cstr(mb_val(&m, "op"), ops[i]);
		EXPECT_MB(&m, OPLOG_R_BAD_OP, OPLOG_F_OP, "it must be \"put\" or \"del\"");
		mb_free(&m);
	}
	mb_from_entry(&m, &e);
	wb_cstr(mb_val(&m, "op"), "upd");
	EXPECT_MB(&m, OPLOG_R_BAD_OP, OPLOG_F_OP, "field 'op' is \"upd\"");
	wb_str(mb_val(&m, "op"), 0, "p\x01t", 3);
	EXPECT_MB(&m, OPLOG_R_BAD_OP, OPLOG_F_OP, "\"p\\x01t\"");
	mb_free(&m);

	/* a del carries no data: absent or nil, nothing else */
	example(2, &e, hash, prev);
	mb_from_entry(&m, &e);
	mb_set_hex(&m, "data", "c0");
	EXPECT_MB(&m, OPLOG_R_NONE, OPLOG_F_NONE, NULL);
	mb_set_hex(&m, "data", "c400");
	EXPECT_MB(&m, OPLOG_R_BAD_OP, OPLOG_F_DATA, "field 'data' is bin on a del");
	mb_set_hex(&m, "data", "a0");
	EXPECT_MB(&m, OPLOG_R_BAD_OP, OPLOG_F_DATA, "is str on a del");
	mb_set_hex(&m, "data", "c2");
	EXPECT_MB(&m, OPLOG_R_BAD_OP, OPLOG_F_DATA, NULL);
	mb_free(&m);
}
END_TEST

START_TEST(test_decode__rejects_bad_prev)
{
	struct oplog_entry e;
	uint8_t hash[32], prev[32];
	struct mb m;

	example(2, &e, hash, prev);
	mb_from_entry(&m, &e);
	mb_drop(&m, "prev");
	EXPECT_MB(&m, OPLOG_R_BAD_PREV, OPLOG_F_PREV,
	          "field 'prev' is missing on seq 2; it is required when seq > 1");
	mb_set_hex(&m, "prev", "c0");
	EXPECT_MB(&m, OPLOG_R_BAD_PREV, OPLOG_F_PREV, "field 'prev' is nil on seq 2");
	mb_free(&m);

	example(1, &e, hash, prev);
	mb_from_entry(&m, &e);
	mb_set_hex(&m, "prev", "c0");
	EXPECT_MB(&m, OPLOG_R_NONE, OPLOG_F_NONE, NULL);
	wb_bin(mb_val(&m, "prev"), 0, hash, 32);
	EXPECT_MB(&m, OPLOG_R_BAD_PREV, OPLOG_F_PREV, "field 'prev' is bin on seq 1");
	mb_set_hex(&m, "prev", "a0");
	EXPECT_MB(&m, OPLOG_R_BAD_PREV, OPLOG_F_PREV, "is str on seq 1");
	mb_set_hex(&m, "prev", "c2");
	EXPECT_MB(&m, OPLOG_R_BAD_PREV, OPLOG_F_PREV, NULL);
	mb_free(&m);
}
END_TEST

START_TEST(test_decode__rejects_hash_mismatch)
{
	struct oplog_entry e;
	struct oplog_reject r;
	struct wb w = { 0 };
	size_t i;

	wb_hex(&w, EX1_MSG);
	w.p[w.n - 2] ^= 0x01;                      /* a byte of data */
	EXPECT_D(&w, OPLOG_R_HASH_MISMATCH, OPLOG_F_HASH,
	         "field 'hash' is aff7ce8b6d823c4f...; the entry hashes to");
	/* NOVERIFY trusts the bytes: same fields, no hash check */
	ck_assert_int_eq(oplog_entry_decode(w.p, w.n, 0, OPLOG_DECODE_NOVERIFY,
	                                    &e, &r), 0);
	ck_assert_uint_eq(e.data.len, 14);
	wb_free(&w);

	/* every byte of the hash, and of prev, is covered */
	for (i = 0; i < 32; i++) {
		wb_hex(&w, EX2_MSG);
		w.p[w.n - 32 - 1 - 6 - 32 + i] ^= 0x80;   /* the hash bytes */
		EXPECT(&w, OPLOG_R_HASH_MISMATCH, OPLOG_F_HASH);
		w.p[w.n - 32 - 1 - 6 - 32 + i] ^= 0x80;
		EXPECT(&w, OPLOG_R_NONE, OPLOG_F_NONE);
		w.p[w.n - 32 + i] ^= 0x01;                /* the prev bytes */
		EXPECT(&w, OPLOG_R_HASH_MISMATCH, OPLOG_F_HASH);
		wb_free(&w);
	}
	/* every covered field changes the hash */
	wb_hex(&w, EX2_MSG);
	ck_assert_mem_eq(w.p + 8, "shop", 4);
	w.p[8] = 'S';                                  /* ds "shop" -> "Shop" */
	EXPECT(&w, OPLOG_R_HASH_MISMATCH, OPLOG_F_HASH);
	wb_free(&w);
}
END_TEST

START_TEST(test_decode__checks_fields_in_table_order)
{
	struct oplog_entry e;
	uint8_t hash[32], prev[32];
	struct mb m;

	example(2, &e, hash, prev);
	/* v before everything */
	mb_from_entry(&m, &e);
	mb_set_hex(&m, "v", "02");
	mb_set_hex(&m, "ds", "a0");
	mb_drop(&m, "hash");
	EXPECT_MB(&m, OPLOG_R_BAD_VERSION, OPLOG_F_V, NULL);
	/* then ds, even though seq is also bad */
	mb_set_hex(&m, "v", "01");
	mb_set_hex(&m, "seq", "a131");
	EXPECT_MB(&m, OPLOG_R_BAD_SIZE, OPLOG_F_DS, NULL);
	wb_cstr(mb_val(&m, "ds"), "shop");
	EXPECT_MB(&m, OPLOG_R_BAD_TYPE, OPLOG_F_SEQ, NULL);
	mb_free(&m);

	/* hash is checked last although it is written before data and prev */
	mb_from_entry(&m, &e);
	mb_set_hex(&m, "hash", "c0");
	mb_drop(&m, "prev");
	EXPECT_MB(&m, OPLOG_R_BAD_PREV, OPLOG_F_PREV, NULL);
	mb_free(&m);
	example(1, &e, hash, prev);
	mb_from_entry(&m, &e);
	mb_drop(&m, "hash");
	mb_drop(&m, "data");
	EXPECT_MB(&m, OPLOG_R_MISSING_FIELD, OPLOG_F_DATA, NULL);
	mb_set_hex(&m, "data", "c0");
	EXPECT_MB(&m, OPLOG_R_BAD_TYPE, OPLOG_F_DATA, NULL);
	wb_cstr(mb_val(&m, "op"), "upd");
	EXPECT_MB(&m, OPLOG_R_BAD_OP, OPLOG_F_OP, NULL);
	mb_free(&m);

	/* a duplicate key is malformed, before any field check */
	mb_from_entry(&m, &e);
	mb_set_hex(&m, "v", "05");
	wb_cstr(mb_add(&m, "op"), "put");
	EXPECT_MB(&m, OPLOG_R_MALFORMED, OPLOG_F_NONE, "duplicate key 'op'");
	mb_free(&m);
}
END_TEST

START_TEST(test_names__are_stable_and_invertible)
{
	static const char *const want[] = { NULL, "too_large", "malformed", "not_map",
		"bad_version", "missing_field", "bad_type", "bad_size", "bad_op",
		"bad_prev", "hash_mismatch", "clock_skew" };
	static const char *const fields[] = { NULL, "v", "ds", "node", "seq", "wall",
		"logic", "col", "key", "op", "data", "prev", "hash" };
	int i;

	ck_assert_int_eq(OPLOG_R__COUNT, 12);
	ck_assert_ptr_null(oplog_reason_name(OPLOG_R_NONE));
	ck_assert_ptr_null(oplog_reason_name(OPLOG_R__COUNT));
	for (i = 1; i < OPLOG_R__COUNT; i++) {
		ck_assert_str_eq(oplog_reason_name((enum oplog_reason)i), want[i]);
		ck_assert_int_eq(oplog_reason_from_name(want[i]), i);
	}
	ck_assert_int_eq(oplog_reason_from_name("nope"), OPLOG_R_NONE);
	ck_assert_int_eq(oplog_reason_from_name("MALFORMED"), OPLOG_R_NONE);
	ck_assert_int_eq(oplog_reason_from_name(NULL), OPLOG_R_NONE);
	ck_assert_ptr_null(oplog_field_name(OPLOG_F_NONE));
	ck_assert_ptr_null(oplog_field_name(OPLOG_F__COUNT));
	for (i = 1; i < OPLOG_F__COUNT; i++)
		ck_assert_str_eq(oplog_field_name((enum oplog_field)i), fields[i]);
}
END_TEST

void wire_reject_tcases(Suite *s)
{
	WIRE_ADD(s, test_decode__rejects_bad_version);
	WIRE_ADD(s, test_decode__rejects_missing_field);
	WIRE_ADD(s, test_decode__rejects_bad_type);
	WIRE_ADD(s, test_decode__checks_utf8_of_ds_and_node_only);
	WIRE_ADD(s, test_decode__rejects_bad_size);
	WIRE_ADD(s, test_decode__rejects_bad_op);
	WIRE_ADD(s, test_decode__rejects_bad_prev);
	WIRE_ADD(s, test_decode__rejects_hash_mismatch);
	WIRE_ADD(s, test_decode__checks_fields_in_table_order);
	WIRE_ADD(s, test_names__are_stable_and_invertible);
}
