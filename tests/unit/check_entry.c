/* check_entry: the wire-format-v1 codec against the spec, its edges and
 * msgpack-c as an independent judge of mutated messages. */
#include <check.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <msgpack.h>

#include "oplog/bytes.h"
#include "oplog/entry.h"
#include "oplog/error.h"
#include "oplog/gen.h"

/* ---- the spec's worked examples ------------------------------------ */

static const char EX1_PRE[] =
	"6f706c6f672e7631000473686f7000066e6f64652d6100000000000000010000019a"
	"a4b64500000000000005757365727300027531010000000e7b226e616d65223a2261"
	"6461227d0000000000000000000000000000000000000000000000000000000000000000";
static const char EX1_HASH[] =
	"aff7ce8b6d823c4fc97baf1d2ddf6bf765d842fe4c60bab436eea4b370f8cb75";
static const char EX1_MSG[] =
	"8ba17601a26473a473686f70a46e6f6465a66e6f64652d61a373657101a477616c6c"
	"cf0000019aa4b64500a56c6f67696300a3636f6ca57573657273a36b6579a27531a2"
	"6f70a3707574a468617368c420aff7ce8b6d823c4fc97baf1d2ddf6bf765d842fe4c"
	"60bab436eea4b370f8cb75a464617461c40e7b226e616d65223a22616461227d";
static const char EX2_PRE[] =
	"6f706c6f672e7631000473686f7000066e6f64652d6100000000000000020000019a"
	"a4b645000000000100057573657273000275310200000000aff7ce8b6d823c4fc97b"
	"af1d2ddf6bf765d842fe4c60bab436eea4b370f8cb75";
static const char EX2_HASH[] =
	"bc1962f5bb6dae6ad109989c720d8c528443daf41903b504213947d6e544ffdb";
static const char EX2_MSG[] =
	"8ba17601a26473a473686f70a46e6f6465a66e6f64652d61a373657102a477616c6c"
	"cf0000019aa4b64500a56c6f67696301a3636f6ca57573657273a36b6579a27531a2"
	"6f70a364656ca468617368c420bc1962f5bb6dae6ad109989c720d8c528443daf419"
	"03b504213947d6e544ffdba470726576c420aff7ce8b6d823c4fc97baf1d2ddf6bf7"
	"65d842fe4c60bab436eea4b370f8cb75";

#define WALL1 1763700000000ULL

static struct oplog_slice sl(const char *s)
{
	struct oplog_slice x = { (const uint8_t *)s, strlen(s) };

	return x;
}

/* Entry 1 or 2 of the spec, hash filled in from the spec's hex. */
static void example(int which, struct oplog_entry *e, uint8_t hash[32],
                    uint8_t prev[32])
{
	memset(e, 0, sizeof(*e));
	e->ds = sl("shop");
	e->node = sl("node-a");
	e->wall = WALL1;
	e->col = sl("users");
	e->key = sl("u1");
	if (which == 1) {
		e->seq = 1;
		e->logic = 0;
		e->op = OPLOG_OP_PUT;
		e->data = sl("{\"name\":\"ada\"}");
		ck_assert_int_eq(oplog_unhex(EX1_HASH, hash, 32), 0);
	} else {
		e->seq = 2;
		e->logic = 1;
		e->op = OPLOG_OP_DEL;
		ck_assert_int_eq(oplog_unhex(EX1_HASH, prev, 32), 0);
		e->prev = prev;
		ck_assert_int_eq(oplog_unhex(EX2_HASH, hash, 32), 0);
	}
	e->hash = hash;
}

/* ---- a byte writer with explicit msgpack forms --------------------- */

struct wb {
	uint8_t *p;
	size_t   n, cap;
};

static void wb_put(struct wb *w, const void *p, size_t n)
{
	if (w->n + n > w->cap) {
		w->cap = (w->n + n) * 2 + 64;
		w->p = realloc(w->p, w->cap);
		ck_assert_ptr_nonnull(w->p);
	}
	if (n > 0)
		memcpy(w->p + w->n, p, n);
	w->n += n;
}

static void wb_byte(struct wb *w, uint8_t b)
{
	wb_put(w, &b, 1);
}

static void wb_be(struct wb *w, uint64_t v, int bytes)
{
	int i;

	for (i = bytes - 1; i >= 0; i--)
		wb_byte(w, (uint8_t)(v >> (8 * i)));
}

static void wb_hex(struct wb *w, const char *hex)
{
	size_t n = strlen(hex) / 2;
	uint8_t *b = malloc(n + 1);

	ck_assert_ptr_nonnull(b);
	ck_assert_msg(oplog_unhex(hex, b, n) == 0, "bad test hex %s", hex);
	wb_put(w, b, n);
	free(b);
}

static void wb_free(struct wb *w)
{
	free(w->p);
	w->p = NULL;
	w->n = w->cap = 0;
}

/* form: 0 shortest, 1 fixstr, 8/16/32 str8/16/32 */
static void wb_str(struct wb *w, int form, const void *p, size_t n)
{
	if (form == 0)
		form = n < 32 ? 1 : n < 256 ? 8 : n < 65536 ? 16 : 32;
	switch (form) {
	case 1:  wb_byte(w, (uint8_t)(0xa0 | n)); break;
	case 8:  wb_byte(w, 0xd9); wb_be(w, n, 1); break;
	case 16: wb_byte(w, 0xda); wb_be(w, n, 2); break;
	default: wb_byte(w, 0xdb); wb_be(w, n, 4); break;
	}
	wb_put(w, p, n);
}

static void wb_cstr(struct wb *w, const char *s)
{
	wb_str(w, 0, s, strlen(s));
}

/* form: 0 shortest, 8/16/32 bin8/16/32 */
static void wb_bin(struct wb *w, int form, const void *p, size_t n)
{
	if (form == 0)
		form = n < 256 ? 8 : n < 65536 ? 16 : 32;
	switch (form) {
	case 8:  wb_byte(w, 0xc4); wb_be(w, n, 1); break;
	case 16: wb_byte(w, 0xc5); wb_be(w, n, 2); break;
	default: wb_byte(w, 0xc6); wb_be(w, n, 4); break;
	}
	wb_put(w, p, n);
}

/* form: 0 shortest, 1 fixint, 8..64 uint8..64, -8..-64 int8..64 */
static void wb_uint(struct wb *w, int form, uint64_t v)
{
	if (form == 0)
		form = v < 128 ? 1 : v < 256 ? 8 : v < 65536 ? 16 :
		       v <= UINT32_MAX ? 32 : 64;
	switch (form) {
	case 1:   wb_byte(w, (uint8_t)v); break;
	case 8:   wb_byte(w, 0xcc); wb_be(w, v, 1); break;
	case 16:  wb_byte(w, 0xcd); wb_be(w, v, 2); break;
	case 32:  wb_byte(w, 0xce); wb_be(w, v, 4); break;
	case 64:  wb_byte(w, 0xcf); wb_be(w, v, 8); break;
	case -8:  wb_byte(w, 0xd0); wb_be(w, v, 1); break;
	case -16: wb_byte(w, 0xd1); wb_be(w, v, 2); break;
	case -32: wb_byte(w, 0xd2); wb_be(w, v, 4); break;
	default:  wb_byte(w, 0xd3); wb_be(w, v, 8); break;
	}
}

/* form: 0 shortest, 1 fixmap, 16/32 map16/32 */
static void wb_map(struct wb *w, int form, size_t n)
{
	if (form == 0)
		form = n < 16 ? 1 : n < 65536 ? 16 : 32;
	switch (form) {
	case 1:  wb_byte(w, (uint8_t)(0x80 | n)); break;
	case 16: wb_byte(w, 0xde); wb_be(w, n, 2); break;
	default: wb_byte(w, 0xdf); wb_be(w, n, 4); break;
	}
}

/* ---- a message builder: pairs of raw key and value bytes ----------- */

#define MB_MAX 64

struct mb {
	struct wb k[MB_MAX], v[MB_MAX];
	size_t    n;
};

static void mb_free(struct mb *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		wb_free(&m->k[i]);
		wb_free(&m->v[i]);
	}
	m->n = 0;
}

static struct wb *mb_add(struct mb *m, const char *key)
{
	ck_assert_uint_lt(m->n, MB_MAX);
	memset(&m->k[m->n], 0, sizeof(m->k[0]));
	memset(&m->v[m->n], 0, sizeof(m->v[0]));
	wb_cstr(&m->k[m->n], key);
	return &m->v[m->n++];
}

static ssize_t mb_find(const struct mb *m, const char *key)
{
	size_t i, n = strlen(key);

	for (i = 0; i < m->n; i++)
		if (m->k[i].n == n + 1 && memcmp(m->k[i].p + 1, key, n) == 0)
			return (ssize_t)i;
	return -1;
}

/* The value bytes of key, emptied for rewriting (added when absent). */
static struct wb *mb_val(struct mb *m, const char *key)
{
	ssize_t i = mb_find(m, key);

	if (i < 0)
		return mb_add(m, key);
	m->v[i].n = 0;
	return &m->v[i];
}

static void mb_set_hex(struct mb *m, const char *key, const char *hex)
{
	wb_hex(mb_val(m, key), hex);
}

static void mb_drop(struct mb *m, const char *key)
{
	ssize_t i = mb_find(m, key);

	ck_assert_int_ge(i, 0);
	wb_free(&m->k[i]);
	wb_free(&m->v[i]);
	memmove(&m->k[i], &m->k[i + 1], (m->n - (size_t)i - 1) * sizeof(m->k[0]));
	memmove(&m->v[i], &m->v[i + 1], (m->n - (size_t)i - 1) * sizeof(m->v[0]));
	m->n--;
}

/* The pairs of *e in the encoder's order and shortest forms. */
static void mb_from_entry(struct mb *m, const struct oplog_entry *e)
{
	memset(m, 0, sizeof(*m));
	wb_uint(mb_add(m, "v"), 0, 1);
	wb_str(mb_add(m, "ds"), 0, e->ds.ptr, e->ds.len);
	wb_str(mb_add(m, "node"), 0, e->node.ptr, e->node.len);
	wb_uint(mb_add(m, "seq"), 0, e->seq);
	wb_uint(mb_add(m, "wall"), 0, e->wall);
	wb_uint(mb_add(m, "logic"), 0, e->logic);
	wb_str(mb_add(m, "col"), 0, e->col.ptr, e->col.len);
	wb_str(mb_add(m, "key"), 0, e->key.ptr, e->key.len);
	wb_cstr(mb_add(m, "op"), e->op == OPLOG_OP_PUT ? "put" : "del");
	wb_bin(mb_add(m, "hash"), 0, e->hash, 32);
	if (e->op == OPLOG_OP_PUT)
		wb_bin(mb_add(m, "data"), 0, e->data.ptr, e->data.len);
	if (e->prev != NULL)
		wb_bin(mb_add(m, "prev"), 0, e->prev, 32);
}

static void mb_build(const struct mb *m, int mapform, struct wb *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	wb_map(out, mapform, m->n);
	for (i = 0; i < m->n; i++) {
		wb_put(out, m->k[i].p, m->k[i].n);
		wb_put(out, m->v[i].p, m->v[i].n);
	}
}

/* ---- assertions ---------------------------------------------------- */

static const char *rname(enum oplog_reason r)
{
	return r == OPLOG_R_NONE ? "none" : oplog_reason_name(r);
}

static const char *fname(enum oplog_field f)
{
	return f == OPLOG_F_NONE ? "-" : oplog_field_name(f);
}

/* Decode and require the given verdict (and, if given, detail text). */
static void expect_at(int line, const uint8_t *p, size_t n, size_t max,
                      enum oplog_reason want, enum oplog_field field,
                      const char *detail)
{
	struct oplog_entry e;
	struct oplog_reject r;
	int rc = oplog_entry_decode(p, n, max, 0, &e, &r);

	if (want == OPLOG_R_NONE) {
		ck_assert_msg(rc == 0, "line %d: want valid, got %s/%s: %s (%s)",
		              line, rname(r.reason), fname(r.field), r.detail,
		              oplog_error_last());
		ck_assert_int_eq(r.reason, OPLOG_R_NONE);
		return;
	}
	ck_assert_msg(rc == OPLOG_EREJECT && r.reason == want && r.field == field,
	              "line %d: want %s/%s, got rc %d %s/%s: %s", line,
	              rname(want), fname(field), rc, rname(r.reason),
	              fname(r.field), r.detail);
	ck_assert_msg(r.detail[0] != '\0', "line %d: empty detail", line);
	if (detail != NULL)
		ck_assert_msg(strstr(r.detail, detail) != NULL,
		              "line %d: detail \"%s\" lacks \"%s\"", line, r.detail,
		              detail);
}

#define EXPECT(w, reason, field) \
	expect_at(__LINE__, (w)->p, (w)->n, 0, reason, field, NULL)
#define EXPECT_D(w, reason, field, detail) \
	expect_at(__LINE__, (w)->p, (w)->n, 0, reason, field, detail)
#define EXPECT_HEX(hex, reason, field, detail) do { \
	struct wb w_ = { 0 }; \
	wb_hex(&w_, hex); \
	expect_at(__LINE__, w_.p, w_.n, 0, reason, field, detail); \
	wb_free(&w_); \
} while (0)

/* Build the message from m and require a verdict. */
static void expect_mb_at(int line, const struct mb *m, enum oplog_reason want,
                         enum oplog_field field, const char *detail)
{
	struct wb w;

	mb_build(m, 0, &w);
	expect_at(line, w.p, w.n, 0, want, field, detail);
	wb_free(&w);
}

#define EXPECT_MB(m, reason, field, detail) \
	expect_mb_at(__LINE__, m, reason, field, detail)

static int slice_eq(struct oplog_slice a, struct oplog_slice b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static void assert_same_entry(const struct oplog_entry *a,
                              const struct oplog_entry *b)
{
	ck_assert(slice_eq(a->ds, b->ds));
	ck_assert(slice_eq(a->node, b->node));
	ck_assert_uint_eq(a->seq, b->seq);
	ck_assert_uint_eq(a->wall, b->wall);
	ck_assert_uint_eq(a->logic, b->logic);
	ck_assert(slice_eq(a->col, b->col));
	ck_assert(slice_eq(a->key, b->key));
	ck_assert_int_eq(a->op, b->op);
	ck_assert(slice_eq(a->data, b->data));
	ck_assert_int_eq(a->prev == NULL, b->prev == NULL);
	if (a->prev != NULL)
		ck_assert_mem_eq(a->prev, b->prev, 32);
	ck_assert_mem_eq(a->hash, b->hash, 32);
}

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

/* ---- alternative encodings ------------------------------------------ */

/* Re-encode the canonical bytes of e in unusual forms; all must decode
 * to the same fields and verify. */
static void check_forms(int which)
{
	struct oplog_entry e, canon, got;
	uint8_t hash[32], prev[32];
	struct wb w, cw = { 0 };
	struct mb m;
	struct oplog_gen_rng rng;
	size_t i, j;
	int v;

	example(which, &e, hash, prev);
	wb_hex(&cw, which == 1 ? EX1_MSG : EX2_MSG);
	ck_assert_int_eq(oplog_entry_decode(cw.p, cw.n, 0, 0, &canon, NULL), 0);
	oplog_gen_rng_seed(&rng, 7);

	for (v = 0; v < 12; v++) {
		mb_from_entry(&m, &e);
		switch (v) {
		case 0: /* every integer as uint64 */
			wb_uint(mb_val(&m, "v"), 64, 1);
			wb_uint(mb_val(&m, "seq"), 64, e.seq);
			wb_uint(mb_val(&m, "logic"), 64, e.logic);
			break;
		case 1: /* signed forms with non-negative values */
			wb_uint(mb_val(&m, "v"), -8, 1);
			wb_uint(mb_val(&m, "seq"), -16, e.seq);
			wb_uint(mb_val(&m, "logic"), -32, e.logic);
			wb_uint(mb_val(&m, "wall"), -64, e.wall);
			break;
		case 2: /* uint8/16/32 */
			wb_uint(mb_val(&m, "v"), 8, 1);
			wb_uint(mb_val(&m, "seq"), 16, e.seq);
			wb_uint(mb_val(&m, "logic"), 32, e.logic);
			break;
		case 3: /* str8 and str16 */
			wb_str(mb_val(&m, "ds"), 8, e.ds.ptr, e.ds.len);
			wb_str(mb_val(&m, "node"), 16, e.node.ptr, e.node.len);
			wb_str(mb_val(&m, "op"), 8, which == 1 ? "put" : "del", 3);
			break;
		case 4: /* str32, also for the keys themselves */
			wb_str(mb_val(&m, "col"), 32, e.col.ptr, e.col.len);
			wb_str(mb_val(&m, "key"), 32, e.key.ptr, e.key.len);
			for (i = 0; i < m.n; i++) {
				struct wb k = { 0 };

				wb_str(&k, 32, m.k[i].p + 1, m.k[i].n - 1);
				wb_free(&m.k[i]);
				m.k[i] = k;
			}
			break;
		case 5: /* bin16 and bin32 */
			wb_bin(mb_val(&m, "hash"), 32, hash, 32);
			if (e.prev != NULL)
				wb_bin(mb_val(&m, "prev"), 16, e.prev, 32);
			if (which == 1)
				wb_bin(mb_val(&m, "data"), 32, e.data.ptr, e.data.len);
			break;
		case 6: /* nil for the absent optional field */
			mb_set_hex(&m, which == 1 ? "prev" : "data", "c0");
			break;
		case 7: /* unknown keys with nested values of every type */
			mb_set_hex(&m, "meta", "83a161" "93c0c2c3" "a162" "82a178cb400921fb54442d18"
			           "a179d6ff65a1b2c3" "a163" "92c70300010203c80001ff00");
			mb_set_hex(&m, "trace", "dc0003a0c400fa");
			mb_set_hex(&m, "f32", "ca3f800000");
			mb_set_hex(&m, "big", "d3ffffffffffffff9c");
			mb_set_hex(&m, "x", "de000181a0c0dd00000000");
			/* fixext1, 2, 8 and 16, then a final int to catch misreads */
			mb_set_hex(&m, "fx", "95d40101d5020102d7030102030405060708"
			           "d8040102030405060708090a0b0c0d0e0f10" "07");
			mb_set_hex(&m, "neg", "94d0ffd1fffed2fffffffdd3fffffffffffffffc");
			break;
		default: /* shuffled key order */
			for (i = m.n; i-- > 1;) {
				struct wb tk, tv;

				j = (size_t)oplog_gen_rng_below(&rng, i + 1);
				tk = m.k[i]; m.k[i] = m.k[j]; m.k[j] = tk;
				tv = m.v[i]; m.v[i] = m.v[j]; m.v[j] = tv;
			}
			break;
		}
		mb_build(&m, v == 9 ? 16 : v == 10 ? 32 : 0, &w);
		ck_assert_msg(oplog_entry_decode(w.p, w.n, 0, 0, &got, NULL) == 0,
		              "form %d of entry %d: %s", v, which, oplog_error_last());
		assert_same_entry(&got, &canon);
		ck_assert_msg(w.n != cw.n || memcmp(w.p, cw.p, w.n) != 0 || v == 8,
		              "form %d is not an alternative", v);
		wb_free(&w);
		mb_free(&m);
	}
	wb_free(&cw);
}

START_TEST(test_decode__accepts_every_valid_form)
{
	check_forms(1);
	check_forms(2);
}
END_TEST

/* ---- round trips ------------------------------------------------------ */

/* Append one random code point in UTF-8 (1 to 4 bytes) if it fits. */
static size_t random_utf8(struct oplog_gen_rng *r, uint8_t *out, size_t room)
{
	static const char *const cps[] = { "a", "Z", "-", "\xc3\xa9", "\xd0\xb6",
	                                   "\xe2\x82\xac", "\xe4\xb8\xad",
	                                   "\xf0\x9d\x84\x9e", "\xf4\x8f\xbf\xbf" };
	const char *cp = cps[oplog_gen_rng_below(r, 9)];
	size_t n = strlen(cp);

	if (n > room)
		return 0;
	memcpy(out, cp, n);
	return n;
}

START_TEST(test_codec__round_trips_random_entries)
{
	static uint8_t ds[128], node[128], col[128], key[1024], data[4096], pv[32];
	struct oplog_gen_rng r;
	struct oplog_entry e, got;
	uint8_t hash[32], h2[32];
	uint8_t *out;
	size_t n, target, i, k;
	int it;

	oplog_gen_rng_seed(&r, 20251121);
	for (it = 0; it < 3000; it++) {
		memset(&e, 0, sizeof(e));
		target = 1 + oplog_gen_rng_below(&r, 128);
		for (n = 0; n < target && (k = random_utf8(&r, ds + n, target - n)) > 0;)
			n += k;
		e.ds.ptr = ds; e.ds.len = n ? n : 1;
		if (n == 0) ds[0] = 'd';
		target = 1 + oplog_gen_rng_below(&r, 128);
		for (n = 0; n < target && (k = random_utf8(&r, node + n, target - n)) > 0;)
			n += k;
		e.node.ptr = node; e.node.len = n ? n : 1;
		if (n == 0) node[0] = 'n';
		/* col and key: arbitrary bytes */
		e.col.len = 1 + oplog_gen_rng_below(&r, 128);
		for (i = 0; i < e.col.len; i++)
			col[i] = (uint8_t)oplog_gen_rng_next(&r);
		e.col.ptr = col;
		e.key.len = 1 + oplog_gen_rng_below(&r, it % 10 == 0 ? 1024 : 40);
		for (i = 0; i < e.key.len; i++)
			key[i] = (uint8_t)oplog_gen_rng_next(&r);
		e.key.ptr = key;
		switch (oplog_gen_rng_below(&r, 4)) {
		case 0:  e.seq = 1; break;
		case 1:  e.seq = 1 + oplog_gen_rng_below(&r, 1000); break;
		case 2:  e.seq = INT64_MAX - oplog_gen_rng_below(&r, 3); break;
		default: e.seq = 1 + (oplog_gen_rng_next(&r) >> 1) % INT64_MAX; break;
		}
		e.wall = oplog_gen_rng_below(&r, 2) ? OPLOG_GEN_BASE_WALL +
		         oplog_gen_rng_below(&r, 1000000) : oplog_gen_rng_next(&r) >> 1;
		e.logic = (uint32_t)(oplog_gen_rng_below(&r, 2) ?
		          oplog_gen_rng_below(&r, 4) : oplog_gen_rng_next(&r));
		e.op = oplog_gen_rng_below(&r, 4) ? OPLOG_OP_PUT : OPLOG_OP_DEL;
		if (e.op == OPLOG_OP_PUT) {
			e.data.len = oplog_gen_rng_below(&r, sizeof(data));
			for (i = 0; i < e.data.len; i++)
				data[i] = (uint8_t)oplog_gen_rng_next(&r);
			e.data.ptr = data;
		}
		if (e.seq > 1) {
			for (i = 0; i < 32; i++)
				pv[i] = (uint8_t)oplog_gen_rng_next(&r);
			e.prev = pv;
		}
		ck_assert_int_eq(oplog_entry_hash(&e, hash), 0);
		e.hash = hash;
		ck_assert_int_eq(oplog_entry_encode(&e, &out, &n), 0);
		ck_assert_msg(oplog_entry_decode(out, n, 0, 0, &got, NULL) == 0,
		              "entry %d: %s", it, oplog_error_last());
		assert_same_entry(&got, &e);
		ck_assert_int_eq(oplog_entry_hash(&got, h2), 0);
		ck_assert_mem_eq(h2, hash, 32);
		/* the preimage length is the spec's formula */
		ck_assert_uint_eq(oplog_entry_preimage(&got, NULL, 0),
		                  8 + 2 + e.ds.len + 2 + e.node.len + 20 + 2 + e.col.len +
		                  2 + e.key.len + 1 + 4 + e.data.len + 32);
		{
			uint8_t *again;
			size_t n2;

			ck_assert_int_eq(oplog_entry_encode(&got, &again, &n2), 0);
			ck_assert_uint_eq(n2, n);
			ck_assert_mem_eq(again, out, n);
			free(again);
		}
		free(out);
	}
}
END_TEST

START_TEST(test_codec__round_trips_generated_stream)
{
	struct oplog_gen_opts o;
	struct oplog_gen *g;
	struct oplog_gen_msg m;
	struct oplog_entry e;
	uint8_t *out;
	size_t n;
	int count = 0;

	oplog_gen_opts_init(&o);
	o.seed = 99;
	o.datasets = 3;
	o.nodes = 4;
	o.count = 2000;
	o.data_size = 150;
	ck_assert_int_eq(oplog_gen_new(&o, &g), 0);
	while (oplog_gen_next(g, &m) == 0) {
		ck_assert_msg(oplog_entry_decode(m.data, m.len, 0, 0, &e, NULL) == 0,
		              "message %d: %s", count, oplog_error_last());
		ck_assert_int_eq(oplog_entry_encode(&e, &out, &n), 0);
		ck_assert_uint_eq(n, m.len);
		ck_assert_mem_eq(out, m.data, n);
		free(out);
		free(m.data);
		count++;
	}
	ck_assert_int_eq(count, 2000);
	oplog_gen_free(g);
}
END_TEST

/* ---- mutations judged by msgpack-c ---------------------------------- */

enum verdict { ORACLE_NOT_ONE_VALUE, ORACLE_ONE_VALUE, ORACLE_NO_OPINION };

struct oracle {
	enum verdict verdict;
	int          top_map;     /* ONE_VALUE: the value is a map */
	int          clean;       /* ONE_VALUE: no duplicate keys anywhere, depth
	                             within the limit, top-level keys all str */
	int          top_broken;  /* ONE_VALUE: top-level map has a repeated or
	                             non-str key: we must say malformed */
};

static int obj_depth(const msgpack_object *o)
{
	uint32_t i;
	int d, best = 0;

	if (o->type == MSGPACK_OBJECT_ARRAY) {
		for (i = 0; i < o->via.array.size; i++)
			if ((d = obj_depth(&o->via.array.ptr[i])) > best)
				best = d;
		return best + 1;
	}
	if (o->type == MSGPACK_OBJECT_MAP) {
		for (i = 0; i < o->via.map.size; i++) {
			if ((d = obj_depth(&o->via.map.ptr[i].key)) > best)
				best = d;
			if ((d = obj_depth(&o->via.map.ptr[i].val)) > best)
				best = d;
		}
		return best + 1;
	}
	return 0;
}

static int map_has_dup(const msgpack_object *o)
{
	uint32_t i, j;

	for (i = 0; i < o->via.map.size; i++)
		for (j = i + 1; j < o->via.map.size; j++)
			if (msgpack_object_equal(o->via.map.ptr[i].key, o->via.map.ptr[j].key))
				return 1;
	return 0;
}

static int any_dup(const msgpack_object *o)
{
	uint32_t i;

	if (o->type == MSGPACK_OBJECT_ARRAY) {
		for (i = 0; i < o->via.array.size; i++)
			if (any_dup(&o->via.array.ptr[i]))
				return 1;
	} else if (o->type == MSGPACK_OBJECT_MAP) {
		if (map_has_dup(o))
			return 1;
		for (i = 0; i < o->via.map.size; i++)
			if (any_dup(&o->via.map.ptr[i].key) || any_dup(&o->via.map.ptr[i].val))
				return 1;
	}
	return 0;
}

/*
 * msgpack-c allocates a container's slots from the count in its header
 * before it reads the items, so a mutated array32/map32 header can make it
 * ask for tens of gigabytes. Before asking it, walk the value's framing
 * only (no verdicts) and report whether some header claims more than
 * 4096 items with fewer bytes than that left; the oracle then keeps no
 * opinion rather than making msgpack-c allocate. Anything odd (0xc1, a
 * cut, deep nesting) is left to msgpack-c.
 */
static int claims_huge_count(const uint8_t *p, size_t n)
{
	static const uint8_t fixed[32] = { 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 5, 9,
		2, 3, 5, 9, 2, 3, 5, 9, 3, 4, 6, 10, 18 };
	uint64_t left[40];
	size_t pos = 0, lenb, hdr;
	uint64_t count, len;
	int top = 0, container;
	uint8_t b;

	left[0] = 1;
	while (top >= 0) {
		if (left[top] == 0) {
			top--;
			continue;
		}
		left[top]--;
		if (pos >= n)
			return 0;
		b = p[pos];
		container = 0;
		count = 0;
		len = 0;
		hdr = 1;
		if (b <= 0x7f || b >= 0xe0) {
			;
		} else if (b <= 0x8f) {
			container = 1;
			count = 2u * (b & 15u);
		} else if (b <= 0x9f) {
			container = 1;
			count = b & 15u;
		} else if (b <= 0xbf) {
			len = b & 31u;
		} else if (fixed[b - 0xc0] != 0) {
			hdr = fixed[b - 0xc0];
		} else if (b == 0xc1) {
			return 0;
		} else {
			lenb = (b == 0xc4 || b == 0xc7 || b == 0xd9) ? 1 :
			       (b == 0xc5 || b == 0xc8 || b == 0xda || b == 0xdc ||
			        b == 0xde) ? 2 : 4;
			hdr = 1 + lenb + (b >= 0xc7 && b <= 0xc9);
			if (n - pos < hdr)
				return 0;
			for (len = 0; lenb > 0; lenb--)
				len = len << 8 | p[pos + hdr - lenb - (b >= 0xc7 && b <= 0xc9)];
			if (b >= 0xdc) {
				container = 1;
				count = b >= 0xde ? 2 * len : len;
				len = 0;
			}
		}
		if (n - pos < hdr || n - pos - hdr < len)
			return 0;
		pos += hdr + (size_t)len;
		if (container) {
			if (count > 4096 && count > n - pos)
				return 1;
			if (top + 1 >= (int)(sizeof(left) / sizeof(left[0])))
				return 0;
			left[++top] = count;
		}
	}
	return 0;
}

static struct oracle ask_msgpack_c(const uint8_t *p, size_t n)
{
	struct oracle o = { ORACLE_NO_OPINION, 0, 0, 0 };
	msgpack_unpacked u;
	msgpack_unpack_return ret;
	size_t off = 0;
	uint32_t i;
	int keys_str = 1;

	if (claims_huge_count(p, n))
		return o;
	msgpack_unpacked_init(&u);
	ret = msgpack_unpack_next(&u, (const char *)p, n, &off);
	if (ret == MSGPACK_UNPACK_SUCCESS) {
		if (off != n) {
			o.verdict = ORACLE_NOT_ONE_VALUE;
		} else {
			o.verdict = ORACLE_ONE_VALUE;
			o.top_map = u.data.type == MSGPACK_OBJECT_MAP;
			if (o.top_map)
				for (i = 0; i < u.data.via.map.size; i++)
					if (u.data.via.map.ptr[i].key.type != MSGPACK_OBJECT_STR)
						keys_str = 0;
			o.top_broken = o.top_map && (!keys_str || map_has_dup(&u.data));
			o.clean = keys_str && !any_dup(&u.data) &&
			          obj_depth(&u.data) <= OPLOG_MAX_DEPTH;
		}
	} else if (ret == MSGPACK_UNPACK_CONTINUE || ret == MSGPACK_UNPACK_PARSE_ERROR) {
		o.verdict = ORACLE_NOT_ONE_VALUE;
	}
	/* NOMEM: msgpack-c ran out of nesting stack or memory; no opinion */
	msgpack_unpacked_destroy(&u);
	return o;
}

struct tally {
	long mutants, no_opinion, accepted;
	long by_reason[OPLOG_R__COUNT];
};

/* One mutant: exactly one verdict, consistent with and without the hash
 * check, and consistent with msgpack-c. */
static void judge(const uint8_t *p, size_t n, struct tally *t, const char *what,
                  size_t where)
{
	struct oplog_entry e, e2;
	struct oplog_reject r, r2;
	struct oracle o;
	uint8_t h[32];
	int rc, rc2;

	t->mutants++;
	rc = oplog_entry_decode(p, n, 0, 0, &e, &r);
	ck_assert_msg(rc == 0 || rc == OPLOG_EREJECT, "%s@%zu: rc %d", what, where, rc);
	if (rc == 0) {
		ck_assert_int_eq(r.reason, OPLOG_R_NONE);
		ck_assert_int_eq(oplog_entry_hash(&e, h), 0);
		ck_assert_mem_eq(h, e.hash, 32);
		t->accepted++;
	} else {
		ck_assert_msg(r.reason > OPLOG_R_NONE && r.reason < OPLOG_R_CLOCK_SKEW,
		              "%s@%zu: reason %d", what, where, r.reason);
		ck_assert_msg((int)r.field >= OPLOG_F_NONE && r.field < OPLOG_F__COUNT,
		              "%s@%zu: field %d", what, where, r.field);
		ck_assert_msg(r.detail[0] != '\0' && strlen(r.detail) < sizeof(r.detail),
		              "%s@%zu: no detail", what, where);
		t->by_reason[r.reason]++;
	}
	rc2 = oplog_entry_decode(p, n, 0, OPLOG_DECODE_NOVERIFY, &e2, &r2);
	if (rc == 0 || r.reason == OPLOG_R_HASH_MISMATCH) {
		ck_assert_msg(rc2 == 0, "%s@%zu: NOVERIFY says %s", what, where,
		              rname(r2.reason));
		if (rc != 0) {
			ck_assert_int_eq(oplog_entry_hash(&e2, h), 0);
			ck_assert_msg(memcmp(h, e2.hash, 32) != 0, "%s@%zu: mismatch "
			              "but the hash matches", what, where);
		}
	} else {
		ck_assert_msg(rc2 == rc && r2.reason == r.reason && r2.field == r.field,
		              "%s@%zu: NOVERIFY changes %s to %s", what, where,
		              rname(r.reason), rname(r2.reason));
	}

	o = ask_msgpack_c(p, n);
	switch (o.verdict) {
	case ORACLE_NOT_ONE_VALUE:
		ck_assert_msg(rc != 0 && r.reason == OPLOG_R_MALFORMED,
		              "%s@%zu: msgpack-c sees no single value, we say %s (%s)",
		              what, where, rname(r.reason), r.detail);
		break;
	case ORACLE_ONE_VALUE:
		if (o.top_broken)
			ck_assert_msg(rc != 0 && r.reason == OPLOG_R_MALFORMED,
			              "%s@%zu: top-level keys repeat or are not str, "
			              "we say %s", what, where, rname(r.reason));
		if (o.clean)
			ck_assert_msg(rc == 0 || r.reason != OPLOG_R_MALFORMED,
			              "%s@%zu: msgpack-c parses one clean value, we say "
			              "malformed: %s", what, where, r.detail);
		if (o.clean && !o.top_map)
			ck_assert_msg(rc != 0 && r.reason == OPLOG_R_NOT_MAP,
			              "%s@%zu: not a map, we say %s", what, where,
			              rname(r.reason));
		break;
	default:
		t->no_opinion++;
		break;
	}
}

static void mutate_all(const uint8_t *msg, size_t n, struct oplog_gen_rng *r,
                       struct tally *t)
{
	uint8_t *buf = malloc(n + 16);
	size_t i, pos, k, add;

	ck_assert_ptr_nonnull(buf);
	for (i = 0; i < n; i++)                    /* every truncation */
		judge(msg, i, t, "truncate", i);
	for (i = 0; i < 120; i++) {                /* bit flips */
		memcpy(buf, msg, n);
		pos = (size_t)oplog_gen_rng_below(r, n);
		buf[pos] ^= (uint8_t)(1u << oplog_gen_rng_below(r, 8));
		judge(buf, n, t, "bitflip", pos);
	}
	for (i = 0; i < 120; i++) {                /* random overwrites */
		memcpy(buf, msg, n);
		pos = (size_t)oplog_gen_rng_below(r, n);
		buf[pos] = (uint8_t)oplog_gen_rng_next(r);
		judge(buf, n, t, "overwrite", pos);
	}
	for (i = 0; i < 60; i++) {                 /* insertions */
		pos = (size_t)oplog_gen_rng_below(r, n + 1);
		memcpy(buf, msg, pos);
		buf[pos] = (uint8_t)oplog_gen_rng_next(r);
		memcpy(buf + pos + 1, msg + pos, n - pos);
		judge(buf, n + 1, t, "insert", pos);
	}
	for (i = 0; i < 30; i++) {                 /* extensions */
		add = 1 + (size_t)oplog_gen_rng_below(r, 8);
		memcpy(buf, msg, n);
		for (k = 0; k < add; k++)
			buf[n + k] = (uint8_t)oplog_gen_rng_next(r);
		judge(buf, n + add, t, "extend", add);
	}
	free(buf);
}

START_TEST(test_decode__mutants_get_one_verdict_that_msgpack_c_agrees_with)
{
	struct oplog_gen_opts o;
	struct oplog_gen *g;
	struct oplog_gen_msg m;
	struct oplog_gen_rng r;
	struct oplog_entry e;
	uint8_t hash[32], prev[32];
	struct tally t;
	struct mb mb;
	struct wb w;
	int reasons = 0, i;

	memset(&t, 0, sizeof(t));
	oplog_gen_rng_seed(&r, 4242);

	/* the spec's two messages, and both with ignored nested values */
	for (i = 1; i <= 2; i++) {
		example(i, &e, hash, prev);
		mb_from_entry(&mb, &e);
		mb_build(&mb, 0, &w);
		mutate_all(w.p, w.n, &r, &t);
		wb_free(&w);
		mb_set_hex(&mb, "meta", "83a161" "93c0c2c3" "a162" "82a178cb400921fb54442d18"
		           "a179d6ff65a1b2c3" "a163" "92c70300010203c80001ff00");
		mb_set_hex(&mb, "n", "91919181a0c0");
		mb_build(&mb, 16, &w);
		mutate_all(w.p, w.n, &r, &t);
		wb_free(&w);
		mb_free(&mb);
	}
	/* generated messages, some of them invalid to begin with */
	oplog_gen_opts_init(&o);
	o.seed = 77;
	o.count = 40;
	o.data_size = 12;
	o.bad_rate = 0.3;
	ck_assert_int_eq(oplog_gen_new(&o, &g), 0);
	while (oplog_gen_next(g, &m) == 0) {
		mutate_all(m.data, m.len, &r, &t);
		free(m.data);
	}
	oplog_gen_free(g);

	for (i = OPLOG_R_NONE + 1; i < OPLOG_R__COUNT; i++)
		reasons += t.by_reason[i] > 0;
	/* enough mutants, nearly all judged, most reasons reached */
	ck_assert_int_ge(t.mutants, 15000);
	ck_assert_msg(t.no_opinion * 50 < t.mutants, "msgpack-c had no opinion on "
	              "%ld of %ld", t.no_opinion, t.mutants);
	ck_assert_msg(reasons >= 8, "only %d reasons seen", reasons);
	ck_assert_int_gt(t.accepted, 0);
	ck_assert_int_gt(t.by_reason[OPLOG_R_MALFORMED], 1000);
	ck_assert_int_gt(t.by_reason[OPLOG_R_HASH_MISMATCH], 100);
}
END_TEST

/* ---- HLC order, names, hex, threads ---------------------------------- */

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

START_TEST(test_hex__round_trips_and_rejects_bad_digits)
{
	uint8_t in[4] = { 0x00, 0x7f, 0xab, 0xff }, out[4];
	char hex[9];

	oplog_hex(in, 4, hex);
	ck_assert_str_eq(hex, "007fabff");
	ck_assert_int_eq(oplog_unhex(hex, out, 4), 0);
	ck_assert_mem_eq(out, in, 4);
	ck_assert_int_eq(oplog_unhex("007FABFF", out, 4), 0);
	ck_assert_mem_eq(out, in, 4);
	memset(out, 0x11, sizeof(out));
	ck_assert_int_eq(oplog_unhex("007fabf", out, 4), OPLOG_EINVAL);
	ck_assert_int_eq(oplog_unhex("007fabfff", out, 4), OPLOG_EINVAL);
	ck_assert_int_eq(oplog_unhex("007fabfg", out, 4), OPLOG_EINVAL);
	ck_assert_int_eq(oplog_unhex(" 07fabff", out, 4), OPLOG_EINVAL);
	ck_assert_int_eq(oplog_unhex(NULL, out, 4), OPLOG_EINVAL);
	ck_assert_uint_eq(out[0], 0x11);             /* untouched on failure */
	ck_assert_int_eq(oplog_unhex("", out, 0), 0);
	oplog_hex(in, 0, hex);
	ck_assert_str_eq(hex, "");
}
END_TEST

START_TEST(test_utf8__span_stops_at_the_first_bad_byte)
{
	static const struct { const char *s; size_t span; } cases[] = {
		{ "", 0 },
		{ "abc", 3 },
		{ "a\xc3\xa9" "b", 4 },          /* U+00E9 */
		{ "\xf0\x9f\x98\x80!", 5 },     /* U+1F600 */
		{ "ab\xc3", 2 },                 /* cut short */
		{ "x\xc0\xaf", 1 },              /* overlong */
		{ "x\xe0\x80\x80", 1 },          /* overlong below U+0800 */
		{ "\xed\xa0\x80", 0 },           /* surrogate */
		{ "\xf4\x90\x80\x80", 0 },       /* above U+10FFFF */
		{ "ok\x80", 2 },                 /* lone continuation */
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(oplog_utf8_span((const uint8_t *)cases[i].s,
		                              strlen(cases[i].s)) == cases[i].span,
		              "case %zu", i);
}
END_TEST

START_TEST(test_time_iso__formats_utc_milliseconds)
{
	char iso[OPLOG_TIME_ISO_MAX];

	ck_assert_int_eq(oplog_time_iso(0, iso), 0);
	ck_assert_str_eq(iso, "1970-01-01T00:00:00.000Z");
	ck_assert_int_eq(oplog_time_iso(1764503224123u, iso), 0);
	ck_assert_str_eq(iso, "2025-11-30T11:47:04.123Z");
	ck_assert_int_eq(oplog_time_iso(951782400000u + 86399999u, iso), 0);
	ck_assert_str_eq(iso, "2000-02-29T23:59:59.999Z");
	ck_assert_int_eq(oplog_time_iso(253402300799999u, iso), 0);
	ck_assert_str_eq(iso, "9999-12-31T23:59:59.999Z");
	ck_assert_int_eq(oplog_time_iso(253402300800000u, iso), 0);
	ck_assert_str_eq(iso, "10000-01-01T00:00:00.000Z");
	/* The largest input still fits the buffer. */
	ck_assert_int_eq(oplog_time_iso(UINT64_MAX, iso), 0);
	ck_assert_uint_lt(strlen(iso), OPLOG_TIME_ISO_MAX);
	ck_assert_str_eq(iso + strlen(iso) - 5, ".615Z");
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

/* ---- the suite ------------------------------------------------------- */

static void add(Suite *s, const char *name, const TTest *t, int timeout)
{
	TCase *tc = tcase_create(name);

	if (timeout > 0)
		tcase_set_timeout(tc, timeout);
	tcase_add_test(tc, t);
	suite_add_tcase(s, tc);
}

#define ADD(s, t) add(s, #t, t, 0)
#define ADD_SLOW(s, t) add(s, #t, t, 120)

int main(void)
{
	Suite *s = suite_create("entry");
	SRunner *sr;
	int failed;

	ADD(s, test_spec__builds_worked_examples_byte_for_byte);
	ADD(s, test_spec__decodes_worked_examples);
	ADD(s, test_decode__views_borrow_from_the_message);
	ADD_SLOW(s, test_decode__rejects_too_large);
	ADD(s, test_decode__rejects_truncated_input);
	ADD(s, test_decode__rejects_trailing_bytes);
	ADD(s, test_decode__rejects_duplicate_key);
	ADD_SLOW(s, test_decode__finds_duplicates_among_many_unknown_keys);
	ADD(s, test_decode__rejects_non_str_key);
	ADD(s, test_decode__rejects_reserved_byte);
	ADD(s, test_decode__enforces_nesting_limit);
	ADD(s, test_decode__rejects_not_map);
	ADD(s, test_decode__rejects_bad_version);
	ADD(s, test_decode__rejects_missing_field);
	ADD(s, test_decode__rejects_bad_type);
	ADD(s, test_decode__checks_utf8_of_ds_and_node_only);
	ADD(s, test_decode__rejects_bad_size);
	ADD(s, test_decode__rejects_bad_op);
	ADD(s, test_decode__rejects_bad_prev);
	ADD(s, test_decode__rejects_hash_mismatch);
	ADD(s, test_decode__checks_fields_in_table_order);
	ADD(s, test_decode__name_and_key_length_limits);
	ADD_SLOW(s, test_decode__data_size_limit);
	ADD(s, test_decode__hash_and_prev_lengths);
	ADD(s, test_decode__integer_range_limits);
	ADD(s, test_decode__accepts_every_valid_form);
	ADD_SLOW(s, test_codec__round_trips_random_entries);
	ADD_SLOW(s, test_codec__round_trips_generated_stream);
	ADD_SLOW(s, test_decode__mutants_get_one_verdict_that_msgpack_c_agrees_with);
	ADD(s, test_hlc_cmp__orders_wall_logic_node_then_hash);
	ADD(s, test_names__are_stable_and_invertible);
	ADD(s, test_hex__round_trips_and_rejects_bad_digits);
	ADD(s, test_utf8__span_stops_at_the_first_bad_byte);
	ADD(s, test_time_iso__formats_utc_milliseconds);
	ADD(s, test_decode__works_without_a_reject_struct);
	ADD(s, test_hash__is_per_thread_and_agrees);
	ADD(s, test_encode__rejects_unknown_op);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
