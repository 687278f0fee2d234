/*
 * spec.c: the wire codec's suite, the spec's worked examples built and
 * decoded byte for byte, decoded views borrowing from the message, decoding
 * without a reject struct, per-thread hashing, encoding an unknown op, and
 * the HLC order.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "oplog/bytes.h"
#include "oplog/entry.h"
#include "oplog/error.h"
#include "wire/tcases.h"
#include "wire/util_wire.h"

/* ---- the spec's worked examples ------------------------------------ */

static void check_example_build(int which, const char *pre_hex,
                                const char *hash_hex, const char *msg_hex)
{
	struct oplog_entry e;
	uint8_t hash[32], prev[32], h[32], pre[512];
	char hex[1100];
	uint8_t *out;
	size_t n, plen;

	example(which, &e, hash, prev);
	plen = oplog_entry_preimage(&e, pre, sizeof(pre));
	ck_assert_uint_eq(plen, strlen(pre_hex) / 2);
	oplog_hex(pre, plen, hex);
	ck_assert_str_eq(hex, pre_hex);
	ck_assert_int_eq(oplog_entry_hash(&e, h), 0);
	oplog_hex(h, 32, hex);
	ck_assert_str_eq(hex, hash_hex);
	ck_assert_int_eq(oplog_entry_encode(&e, &out, &n), 0);
	ck_assert_uint_eq(n, strlen(msg_hex) / 2);
	oplog_hex(out, n, hex);
	ck_assert_str_eq(hex, msg_hex);
	free(out);
}

START_TEST(test_spec__builds_worked_examples_byte_for_byte)
{
	check_example_build(1, EX1_PRE, EX1_HASH, EX1_MSG);
	check_example_build(2, EX2_PRE, EX2_HASH, EX2_MSG);
}
END_TEST

START_TEST(test_spec__decodes_worked_examples)
{
	struct oplog_entry want, got;
	uint8_t hash[32], prev[32];
	struct wb w = { 0 };

	wb_hex(&w, EX1_MSG);
	ck_assert_int_eq(oplog_entry_decode(w.p, w.n, 0, 0, &got, NULL), 0);
	example(1, &want, hash, prev);
	assert_same_entry(&got, &want);
	ck_assert_ptr_null(got.prev);
	ck_assert_mem_eq(got.data.ptr, "{\"name\":\"ada\"}", 14);
	wb_free(&w);

	wb_hex(&w, EX2_MSG);
	ck_assert_int_eq(oplog_entry_decode(w.p, w.n, 0, 0, &got, NULL), 0);
	example(2, &want, hash, prev);
	assert_same_entry(&got, &want);
	ck_assert_ptr_null(got.data.ptr);
	ck_assert_uint_eq(got.data.len, 0);
	ck_assert_uint_eq(got.seq, 2);
	ck_assert_uint_eq(got.logic, 1);
	ck_assert_int_eq(got.op, OPLOG_OP_DEL);
	wb_free(&w);
}
END_TEST

START_TEST(test_decode__views_borrow_from_the_message)
{
	struct oplog_entry e;
	struct oplog_reject r;
	struct wb w = { 0 };

	wb_hex(&w, EX2_MSG);
	memset(&r, 0x55, sizeof(r));
	ck_assert_int_eq(oplog_entry_decode(w.p, w.n, 0, 0, &e, &r), 0);
	ck_assert_int_eq(r.reason, OPLOG_R_NONE);
	ck_assert_int_eq(r.field, OPLOG_F_NONE);
	ck_assert(e.ds.ptr > w.p && e.ds.ptr + e.ds.len <= w.p + w.n);
	ck_assert(e.node.ptr > w.p && e.node.ptr + e.node.len <= w.p + w.n);
	ck_assert(e.key.ptr > w.p && e.key.ptr + e.key.len <= w.p + w.n);
	ck_assert(e.hash > w.p && e.hash + 32 <= w.p + w.n);
	ck_assert(e.prev > w.p && e.prev + 32 <= w.p + w.n);
	wb_free(&w);
}
END_TEST

START_TEST(test_decode__works_without_a_reject_struct)
{
	struct oplog_entry e;
	struct wb w = { 0 };

	wb_hex(&w, EX1_MSG);
	w.p[w.n - 1] ^= 1;
	ck_assert_int_eq(oplog_entry_decode(w.p, w.n, 0, 0, &e, NULL), OPLOG_EREJECT);
	ck_assert_msg(strstr(oplog_error_last(), "hash_mismatch: ") == oplog_error_last(),
	              "error message: %s", oplog_error_last());
	ck_assert_int_eq(oplog_entry_decode(w.p, 3, 0, 0, &e, NULL), OPLOG_EREJECT);
	ck_assert_msg(strstr(oplog_error_last(), "malformed: truncated") != NULL,
	              "error message: %s", oplog_error_last());
	ck_assert_int_eq(oplog_entry_decode(NULL, 0, 0, 0, &e, NULL), OPLOG_EREJECT);
	wb_free(&w);
}
END_TEST

static void *hash_many(void *arg)
{
	struct oplog_entry e;
	uint8_t hash[32], prev[32], h[32];
	int i, *bad = arg;

	example(2, &e, hash, prev);
	for (i = 0; i < 2000; i++)
		if (oplog_entry_hash(&e, h) != 0 || memcmp(h, hash, 32) != 0)
			(*bad)++;
	return NULL;
}

START_TEST(test_hash__is_per_thread_and_agrees)
{
	pthread_t t[4];
	int bad[4] = { 0 };
	int i;

	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, hash_many, &bad[i]), 0);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
		ck_assert_int_eq(bad[i], 0);
	}
}
END_TEST

START_TEST(test_encode__rejects_unknown_op)
{
	struct oplog_entry e;
	uint8_t hash[32], prev[32];
	uint8_t *out = NULL;
	size_t n = 0;

	example(1, &e, hash, prev);
	e.op = (enum oplog_op)3;
	ck_assert_int_eq(oplog_entry_encode(&e, &out, &n), OPLOG_EINVAL);
	ck_assert_ptr_null(out);
}
END_TEST

START_TEST(test_hlc_cmp__orders_wall_logic_node_then_hash)
{
	static const uint8_t h1[32] = { 1 }, h2[32] = { 2 };
	struct oplog_entry a, b;

	memset(&a, 0, sizeof(a));
	a.wall = 10; a.logic = 5; a.node = sl("b"); a.hash = h1;
	b = a;
	ck_assert_int_eq(oplog_entry_hlc_cmp(&a, &b), 0);
	b.wall = 11; b.logic = 0; b.node = sl("a");
	ck_assert_int_lt(oplog_entry_hlc_cmp(&a, &b), 0);
	ck_assert_int_gt(oplog_entry_hlc_cmp(&b, &a), 0);
	b = a; b.logic = 6; b.node = sl("a");
	ck_assert_int_lt(oplog_entry_hlc_cmp(&a, &b), 0);
	b = a; b.node = sl("c");
	ck_assert_int_lt(oplog_entry_hlc_cmp(&a, &b), 0);
	b = a; b.node = sl("ba");                    /* the shorter one first */
	ck_assert_int_lt(oplog_entry_hlc_cmp(&a, &b), 0);
	ck_assert_int_gt(oplog_entry_hlc_cmp(&b, &a), 0);
	b = a; b.node = sl("\xc3\xa9");              /* bytes, not signed chars */
	ck_assert_int_lt(oplog_entry_hlc_cmp(&a, &b), 0);
	b = a; b.hash = h2;                          /* a faulty node's twins */
	ck_assert_int_lt(oplog_entry_hlc_cmp(&a, &b), 0);
	ck_assert_int_gt(oplog_entry_hlc_cmp(&b, &a), 0);
	b = a; b.wall = 0; b.logic = UINT32_MAX;
	ck_assert_int_gt(oplog_entry_hlc_cmp(&a, &b), 0);
}
END_TEST

void wire_spec_tcases(Suite *s)
{
	WIRE_ADD(s, test_spec__builds_worked_examples_byte_for_byte);
	WIRE_ADD(s, test_spec__decodes_worked_examples);
	WIRE_ADD(s, test_decode__views_borrow_from_the_message);
	WIRE_ADD(s, test_decode__works_without_a_reject_struct);
	WIRE_ADD(s, test_hash__is_per_thread_and_agrees);
	WIRE_ADD(s, test_encode__rejects_unknown_op);
	WIRE_ADD(s, test_hlc_cmp__orders_wall_logic_node_then_hash);
}
