/*
 * limits.c: the wire codec's suite, the size and range limits of each field,
 * on both sides of each boundary, with entries encoded by the codec and
 * hashed correctly.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "oplog/entry.h"
#include "wire/tcases.h"
#include "wire/util_wire.h"

/* Encode *e after hashing it; the caller frees w. */
static void encode_hashed(struct oplog_entry *e, uint8_t hash[32], struct wb *w)
{
	uint8_t *out;
	size_t n;

	ck_assert_int_eq(oplog_entry_hash(e, hash), 0);
	e->hash = hash;
	ck_assert_int_eq(oplog_entry_encode(e, &out, &n), 0);
	memset(w, 0, sizeof(*w));
	w->p = out;
	w->n = w->cap = n;
}

/* ---- boundaries ------------------------------------------------------ */

/* Encode *e with a correct hash and require the verdict. */
static void expect_entry_at(int line, struct oplog_entry *e,
                            enum oplog_reason want, enum oplog_field f)
{
	uint8_t hash[32];
	struct oplog_entry got;
	struct wb w;

	encode_hashed(e, hash, &w);
	expect_at(line, w.p, w.n, 0, want, f, NULL);
	if (want == OPLOG_R_NONE) {
		ck_assert_int_eq(oplog_entry_decode(w.p, w.n, 0, 0, &got, NULL), 0);
		assert_same_entry(&got, e);
	}
	wb_free(&w);
}

#define EXPECT_ENTRY(e, reason, field) expect_entry_at(__LINE__, e, reason, field)

START_TEST(test_decode__name_and_key_length_limits)
{
	static char buf[OPLOG_MAX_KEY + 2];
	struct oplog_entry e, base;
	uint8_t hash[32], prev[32];
	struct oplog_slice s128 = { (const uint8_t *)buf, 128 };
	struct oplog_slice s129 = { (const uint8_t *)buf, 129 };
	struct oplog_slice k1024 = { (const uint8_t *)buf, 1024 };
	struct oplog_slice k1025 = { (const uint8_t *)buf, 1025 };

	memset(buf, 'n', sizeof(buf));
	example(1, &base, hash, prev);
	e = base; e.ds = s128;   EXPECT_ENTRY(&e, OPLOG_R_NONE, OPLOG_F_NONE);
	e = base; e.ds = s129;   EXPECT_ENTRY(&e, OPLOG_R_BAD_SIZE, OPLOG_F_DS);
	e = base; e.node = s128; EXPECT_ENTRY(&e, OPLOG_R_NONE, OPLOG_F_NONE);
	e = base; e.node = s129; EXPECT_ENTRY(&e, OPLOG_R_BAD_SIZE, OPLOG_F_NODE);
	e = base; e.col = s128;  EXPECT_ENTRY(&e, OPLOG_R_NONE, OPLOG_F_NONE);
	e = base; e.col = s129;  EXPECT_ENTRY(&e, OPLOG_R_BAD_SIZE, OPLOG_F_COL);
	e = base; e.key = k1024; EXPECT_ENTRY(&e, OPLOG_R_NONE, OPLOG_F_NONE);
	e = base; e.key = k1025; EXPECT_ENTRY(&e, OPLOG_R_BAD_SIZE, OPLOG_F_KEY);
	e = base; e.key = sl("k"); EXPECT_ENTRY(&e, OPLOG_R_NONE, OPLOG_F_NONE);
	{
		struct wb w;

		e = base;
		e.key = k1025;
		encode_hashed(&e, hash, &w);
		EXPECT_D(&w, OPLOG_R_BAD_SIZE, OPLOG_F_KEY,
		         "field 'key' is 1025 bytes; the limit is 1024");
		wb_free(&w);
	}
}
END_TEST

START_TEST(test_decode__data_size_limit)
{
	struct oplog_entry e, base;
	uint8_t hash[32], prev[32];
	uint8_t *big = malloc(OPLOG_MAX_DATA + 1);
	struct wb w;

	ck_assert_ptr_nonnull(big);
	memset(big, 0xab, OPLOG_MAX_DATA + 1);
	example(1, &base, hash, prev);
	e = base; e.data.ptr = big; e.data.len = 0;
	EXPECT_ENTRY(&e, OPLOG_R_NONE, OPLOG_F_NONE);
	e = base; e.data.ptr = big; e.data.len = OPLOG_MAX_DATA;
	EXPECT_ENTRY(&e, OPLOG_R_NONE, OPLOG_F_NONE);
	e = base; e.data.ptr = big; e.data.len = OPLOG_MAX_DATA + 1;
	encode_hashed(&e, hash, &w);
	EXPECT_D(&w, OPLOG_R_BAD_SIZE, OPLOG_F_DATA,
	         "field 'data' is 1048577 bytes; the limit is 1048576");
	wb_free(&w);
	free(big);
}
END_TEST

START_TEST(test_decode__hash_and_prev_lengths)
{
	static const uint8_t zeros[40];
	struct oplog_entry e;
	uint8_t hash[32], prev[32];
	size_t n;
	struct mb m;

	example(2, &e, hash, prev);
	for (n = 31; n <= 33; n++) {
		mb_from_entry(&m, &e);
		wb_bin(mb_val(&m, "hash"), 0, n == 32 ? hash : zeros, n);
		EXPECT_MB(&m, n == 32 ? OPLOG_R_NONE : OPLOG_R_BAD_SIZE,
		          n == 32 ? OPLOG_F_NONE : OPLOG_F_HASH, NULL);
		mb_free(&m);
		mb_from_entry(&m, &e);
		wb_bin(mb_val(&m, "prev"), 0, n == 32 ? prev : zeros, n);
		EXPECT_MB(&m, n == 32 ? OPLOG_R_NONE : OPLOG_R_BAD_SIZE,
		          n == 32 ? OPLOG_F_NONE : OPLOG_F_PREV,
		          n == 32 ? NULL : "it must be 32");
		mb_free(&m);
	}
}
END_TEST

START_TEST(test_decode__integer_range_limits)
{
	struct oplog_entry e, base;
	uint8_t hash[32], prev[32];
	struct mb m;

	example(2, &base, hash, prev);
	e = base; e.seq = 0;             EXPECT_ENTRY(&e, OPLOG_R_BAD_SIZE, OPLOG_F_SEQ);
	e = base; e.seq = 1; e.prev = NULL;
	EXPECT_ENTRY(&e, OPLOG_R_NONE, OPLOG_F_NONE);
	e = base; e.seq = INT64_MAX;     EXPECT_ENTRY(&e, OPLOG_R_NONE, OPLOG_F_NONE);
	e = base; e.seq = (uint64_t)INT64_MAX + 1;
	EXPECT_ENTRY(&e, OPLOG_R_BAD_SIZE, OPLOG_F_SEQ);
	e = base; e.seq = UINT64_MAX;    EXPECT_ENTRY(&e, OPLOG_R_BAD_SIZE, OPLOG_F_SEQ);
	e = base; e.wall = 0;            EXPECT_ENTRY(&e, OPLOG_R_NONE, OPLOG_F_NONE);
	e = base; e.wall = INT64_MAX;    EXPECT_ENTRY(&e, OPLOG_R_NONE, OPLOG_F_NONE);
	e = base; e.wall = (uint64_t)INT64_MAX + 1;
	EXPECT_ENTRY(&e, OPLOG_R_BAD_SIZE, OPLOG_F_WALL);
	e = base; e.logic = UINT32_MAX;  EXPECT_ENTRY(&e, OPLOG_R_NONE, OPLOG_F_NONE);
	/* 2^32 does not fit the struct: write it by hand */
	e = base;
	mb_from_entry(&m, &e);
	wb_uint(mb_val(&m, "logic"), 64, (uint64_t)UINT32_MAX + 1);
	EXPECT_MB(&m, OPLOG_R_BAD_SIZE, OPLOG_F_LOGIC, NULL);
	wb_uint(mb_val(&m, "logic"), 64, UINT32_MAX);
	EXPECT_MB(&m, OPLOG_R_HASH_MISMATCH, OPLOG_F_HASH, NULL);
	/* int64 forms carry non-negative values up to 2^63-1 */
	wb_uint(mb_val(&m, "logic"), 0, e.logic);
	wb_uint(mb_val(&m, "seq"), -64, 2);
	EXPECT_MB(&m, OPLOG_R_NONE, OPLOG_F_NONE, NULL);
	wb_uint(mb_val(&m, "seq"), -64, UINT64_MAX);
	EXPECT_MB(&m, OPLOG_R_BAD_SIZE, OPLOG_F_SEQ, "negative (-1)");
	wb_uint(mb_val(&m, "seq"), -64, (uint64_t)INT64_MIN);
	EXPECT_MB(&m, OPLOG_R_BAD_SIZE, OPLOG_F_SEQ, "negative (-9223372036854775808)");
	mb_free(&m);
}
END_TEST

void wire_limits_tcases(Suite *s)
{
	WIRE_ADD(s, test_decode__name_and_key_length_limits);
	WIRE_ADD_SLOW(s, test_decode__data_size_limit);
	WIRE_ADD(s, test_decode__hash_and_prev_lengths);
	WIRE_ADD(s, test_decode__integer_range_limits);
}
