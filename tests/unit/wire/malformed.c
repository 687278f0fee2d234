/*
 * malformed.c: the wire codec's suite, messages that are not one well-formed
 * msgpack value of a map with str keys: too large, truncated, trailing
 * bytes, duplicate and non-str keys, the reserved byte, nesting too deep,
 * not a map.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "oplog/entry.h"
#include "wire/tcases.h"
#include "wire/util_wire.h"

/* ---- one rejection code each ---------------------------------------- */

START_TEST(test_decode__rejects_too_large)
{
	struct wb w = { 0 }, junk = { 0 };
	struct mb m;
	struct oplog_entry e;
	uint8_t hash[32], prev[32];
	uint8_t *pad;
	size_t base, target = OPLOG_DEFAULT_MAX_MSG;

	wb_hex(&w, EX1_MSG);
	expect_at(__LINE__, w.p, w.n, w.n, OPLOG_R_NONE, OPLOG_F_NONE, NULL);
	expect_at(__LINE__, w.p, w.n, w.n - 1, OPLOG_R_TOO_LARGE, OPLOG_F_NONE,
	          "the limit is");
	wb_free(&w);

	/* too_large is judged before anything is read: even 0xc1 garbage */
	pad = malloc(target + 1);
	ck_assert_ptr_nonnull(pad);
	memset(pad, 0xc1, target + 1);
	expect_at(__LINE__, pad, target + 1, 0, OPLOG_R_TOO_LARGE, OPLOG_F_NONE,
	          "is 2097153 bytes; the limit is 2097152");
	memset(pad, 0, target + 1);

	/* the default limit: a valid message of exactly 2 MiB, then one more */
	example(1, &e, hash, prev);
	mb_from_entry(&m, &e);
	wb_bin(mb_add(&m, "pad"), 32, pad, 0);
	mb_build(&m, 0, &junk);
	base = junk.n;
	wb_free(&junk);
	wb_bin(mb_val(&m, "pad"), 32, pad, target - base);
	mb_build(&m, 0, &junk);
	ck_assert_uint_eq(junk.n, target);
	expect_at(__LINE__, junk.p, junk.n, 0, OPLOG_R_NONE, OPLOG_F_NONE, NULL);
	wb_free(&junk);
	wb_bin(mb_val(&m, "pad"), 32, pad, target - base + 1);
	mb_build(&m, 0, &junk);
	expect_at(__LINE__, junk.p, junk.n, 0, OPLOG_R_TOO_LARGE, OPLOG_F_NONE, NULL);
	wb_free(&junk);
	mb_free(&m);
	free(pad);
}
END_TEST

START_TEST(test_decode__rejects_truncated_input)
{
	struct wb w = { 0 };
	size_t cut;

	wb_hex(&w, EX1_MSG);
	for (cut = 0; cut < w.n; cut++)
		expect_at(__LINE__, w.p, cut, 0, OPLOG_R_MALFORMED, OPLOG_F_NONE,
		          "truncated");
	expect_at(__LINE__, w.p, 0, 0, OPLOG_R_MALFORMED, OPLOG_F_NONE,
	          "truncated: the input ends at offset 0");
	wb_free(&w);
	EXPECT_HEX("de", OPLOG_R_MALFORMED, OPLOG_F_NONE,
	           "truncated: map16 header at offset 0 needs 3 bytes, 1 left");
	EXPECT_HEX("81a178d90a616263", OPLOG_R_MALFORMED, OPLOG_F_NONE,
	           "truncated: str8 at offset 3 needs 12 bytes, 5 left");
	EXPECT_HEX("81a178cf0000", OPLOG_R_MALFORMED, OPLOG_F_NONE,
	           "truncated: uint64 at offset 3 needs 9 bytes, 3 left");
	/* hostile counts fail at the end of the input, without allocating */
	EXPECT_HEX("df80000000", OPLOG_R_MALFORMED, OPLOG_F_NONE, "truncated");
	EXPECT_HEX("81a178ddffffffff01", OPLOG_R_MALFORMED, OPLOG_F_NONE, "truncated");
	EXPECT_HEX("81a178dbffffffff61", OPLOG_R_MALFORMED, OPLOG_F_NONE,
	           "needs 4294967300 bytes, 6 left");
	EXPECT_HEX("81a178c9ffffffff0161", OPLOG_R_MALFORMED, OPLOG_F_NONE,
	           "truncated: ext32");
}
END_TEST

START_TEST(test_decode__rejects_trailing_bytes)
{
	struct wb w = { 0 };
	char want[96];

	wb_hex(&w, EX1_MSG);
	snprintf(want, sizeof(want),
	         "trailing bytes: 2 after the value ends at offset %zu", w.n);
	wb_hex(&w, "c0c0");
	EXPECT_D(&w, OPLOG_R_MALFORMED, OPLOG_F_NONE, want);
	wb_free(&w);
	/* two complete values are not one message either */
	wb_hex(&w, EX1_MSG);
	wb_hex(&w, EX1_MSG);
	EXPECT(&w, OPLOG_R_MALFORMED, OPLOG_F_NONE);
	wb_free(&w);
	EXPECT_HEX("c000", OPLOG_R_MALFORMED, OPLOG_F_NONE, "trailing bytes: 1");
}
END_TEST

START_TEST(test_decode__rejects_duplicate_key)
{
	struct oplog_entry e;
	uint8_t hash[32], prev[32];
	char name[16];
	struct mb m;
	int i;

	example(1, &e, hash, prev);
	mb_from_entry(&m, &e);
	wb_uint(mb_add(&m, "seq"), 0, 1);
	EXPECT_MB(&m, OPLOG_R_MALFORMED, OPLOG_F_NONE, "duplicate key 'seq'");
	mb_free(&m);

	/* unknown keys count too, even with different values */
	mb_from_entry(&m, &e);
	wb_uint(mb_add(&m, "x-trace"), 0, 1);
	wb_cstr(mb_add(&m, "x-trace"), "other");
	EXPECT_MB(&m, OPLOG_R_MALFORMED, OPLOG_F_NONE, "duplicate key 'x-trace'");
	mb_free(&m);

	/* beyond the decoder's small on-stack set: the sorted path */
	mb_from_entry(&m, &e);
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "u%02d", i);
		wb_uint(mb_add(&m, name), 0, (uint64_t)i);
	}
	EXPECT_MB(&m, OPLOG_R_NONE, OPLOG_F_NONE, NULL);
	wb_uint(mb_add(&m, "u07"), 0, 0);
	EXPECT_MB(&m, OPLOG_R_MALFORMED, OPLOG_F_NONE, "duplicate key 'u07'");
	mb_free(&m);

	/* the empty key is a key like any other */
	mb_from_entry(&m, &e);
	wb_uint(mb_add(&m, ""), 0, 1);
	EXPECT_MB(&m, OPLOG_R_NONE, OPLOG_F_NONE, NULL);
	wb_uint(mb_add(&m, ""), 0, 2);
	EXPECT_MB(&m, OPLOG_R_MALFORMED, OPLOG_F_NONE, "duplicate key ''");
	mb_free(&m);
}
END_TEST

/* 200k distinct unknown keys, one repeated at the very end: linearithmic. */
START_TEST(test_decode__finds_duplicates_among_many_unknown_keys)
{
	struct wb w = { 0 };
	char name[16];
	size_t pairs = 200000, i;
	int len;

	wb_map(&w, 32, pairs + 1);
	for (i = 0; i < pairs; i++) {
		len = snprintf(name, sizeof(name), "%zx", i * 2654435761u % 1000003);
		wb_str(&w, 0, name, (size_t)len);
		wb_byte(&w, 0xc0);
	}
	len = snprintf(name, sizeof(name), "%zx", (size_t)7 * 2654435761u % 1000003);
	wb_str(&w, 0, name, (size_t)len);
	wb_byte(&w, 0xc0);
	EXPECT_D(&w, OPLOG_R_MALFORMED, OPLOG_F_NONE, "duplicate key");
	/* without the repeat the same keys are just a message missing v */
	w.p[1] = 0; w.p[2] = 0x03; w.p[3] = 0x0d; w.p[4] = 0x40;  /* 200000 */
	w.n -= (size_t)len + 2;
	EXPECT(&w, OPLOG_R_BAD_VERSION, OPLOG_F_V);
	wb_free(&w);
}
END_TEST

START_TEST(test_decode__rejects_non_str_key)
{
	struct oplog_entry e;
	uint8_t hash[32], prev[32];
	struct wb w = { 0 };
	struct mb m;

	example(1, &e, hash, prev);
	mb_from_entry(&m, &e);
	mb_build(&m, 0, &w);
	w.p[0]++;                     /* one more pair: 7 => "x" */
	wb_hex(&w, "07a178");
	EXPECT_D(&w, OPLOG_R_MALFORMED, OPLOG_F_NONE, "is int; keys must be str");
	wb_free(&w);
	/* "seq" as bin is not the key seq */
	mb_build(&m, 0, &w);
	w.p[0]++;
	wb_hex(&w, "c40373657101");
	EXPECT_D(&w, OPLOG_R_MALFORMED, OPLOG_F_NONE, "is bin; keys must be str");
	wb_free(&w);
	mb_free(&m);
	/* nested maps inside ignored values may use any keys */
	mb_from_entry(&m, &e);
	wb_hex(mb_add(&m, "meta"), "82010293c0c3c2c40100");
	EXPECT_MB(&m, OPLOG_R_NONE, OPLOG_F_NONE, NULL);
	mb_free(&m);
}
END_TEST

START_TEST(test_decode__rejects_reserved_byte)
{
	struct oplog_entry e;
	uint8_t hash[32], prev[32];
	struct mb m;

	EXPECT_HEX("c1", OPLOG_R_MALFORMED, OPLOG_F_NONE, "reserved byte 0xc1 at offset 0");
	example(1, &e, hash, prev);
	mb_from_entry(&m, &e);
	wb_hex(mb_add(&m, "x"), "9301c102");
	EXPECT_MB(&m, OPLOG_R_MALFORMED, OPLOG_F_NONE, "reserved byte 0xc1");
	mb_free(&m);
}
END_TEST

static void nest(struct wb *w, int arrays)
{
	int i;

	for (i = 0; i < arrays; i++)
		wb_byte(w, 0x91);
	wb_byte(w, 0xc0);
}

START_TEST(test_decode__enforces_nesting_limit)
{
	struct oplog_entry e;
	uint8_t hash[32], prev[32];
	struct wb w = { 0 };
	struct mb m;

	/* the top-level map is level 1, so 63 arrays inside reach level 64 */
	example(1, &e, hash, prev);
	mb_from_entry(&m, &e);
	nest(mb_add(&m, "deep"), OPLOG_MAX_DEPTH - 1);
	EXPECT_MB(&m, OPLOG_R_NONE, OPLOG_F_NONE, NULL);
	nest(mb_val(&m, "deep"), OPLOG_MAX_DEPTH);
	EXPECT_MB(&m, OPLOG_R_MALFORMED, OPLOG_F_NONE,
	          "nesting level 65; the limit is 64");
	mb_free(&m);

	/* the same limit applies when the top level is not a map */
	nest(&w, OPLOG_MAX_DEPTH);
	EXPECT(&w, OPLOG_R_NOT_MAP, OPLOG_F_NONE);
	wb_free(&w);
	nest(&w, OPLOG_MAX_DEPTH + 1);
	EXPECT_D(&w, OPLOG_R_MALFORMED, OPLOG_F_NONE, "too deep");
	wb_free(&w);
	/* a hostile depth costs nothing more than a shallow failure */
	for (int i = 0; i < 100000; i++)
		wb_byte(&w, 0x91);
	EXPECT_D(&w, OPLOG_R_MALFORMED, OPLOG_F_NONE, "too deep");
	wb_free(&w);
}
END_TEST

START_TEST(test_decode__rejects_not_map)
{
	static const char *const values[] = {
		"c0", "c3", "01", "ff", "d3ffffffffffffffff", "cb3ff0000000000000",
		"a3616263", "c40101", "93010203", "dc0000", "dd00000001c0",
		"d6ff00000000", "c70101ff"
	};
	size_t i;

	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		EXPECT_HEX(values[i], OPLOG_R_NOT_MAP, OPLOG_F_NONE, "not a map");
	EXPECT_HEX("93010203", OPLOG_R_NOT_MAP, OPLOG_F_NONE, "is array");
	/* the whole value is checked first: malformed wins over not_map */
	EXPECT_HEX("9301c102", OPLOG_R_MALFORMED, OPLOG_F_NONE, NULL);
	EXPECT_HEX("930102", OPLOG_R_MALFORMED, OPLOG_F_NONE, NULL);
	EXPECT_HEX("9281a101018101a101", OPLOG_R_NOT_MAP, OPLOG_F_NONE, NULL);
}
END_TEST

void wire_malformed_tcases(Suite *s)
{
	WIRE_ADD_SLOW(s, test_decode__rejects_too_large);
	WIRE_ADD(s, test_decode__rejects_truncated_input);
	WIRE_ADD(s, test_decode__rejects_trailing_bytes);
	WIRE_ADD(s, test_decode__rejects_duplicate_key);
	WIRE_ADD_SLOW(s, test_decode__finds_duplicates_among_many_unknown_keys);
	WIRE_ADD(s, test_decode__rejects_non_str_key);
	WIRE_ADD(s, test_decode__rejects_reserved_byte);
	WIRE_ADD(s, test_decode__enforces_nesting_limit);
	WIRE_ADD(s, test_decode__rejects_not_map);
}
