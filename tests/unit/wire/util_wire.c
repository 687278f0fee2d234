/*
 * util_wire.c: helpers shared by the wire codec's suite (tests/unit/wire/),
 * declared in util_wire.h: the spec's worked examples, a byte writer with
 * explicit msgpack forms, a message builder and the verdict assertions.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <check.h>

#include "oplog/bytes.h"
#include "oplog/entry.h"
#include "oplog/error.h"
#include "wire/util_wire.h"

/* ---- the spec's worked examples ------------------------------------ */

const char EX1_PRE[] =
	"6f706c6f672e7631000473686f7000066e6f64652d6100000000000000010000019a"
	"a4b64500000000000005757365727300027531010000000e7b226e616d65223a2261"
	"6461227d0000000000000000000000000000000000000000000000000000000000000000";
const char EX1_HASH[] =
	"aff7ce8b6d823c4fc97baf1d2ddf6bf765d842fe4c60bab436eea4b370f8cb75";
const char EX1_MSG[] =
	"8ba17601a26473a473686f70a46e6f6465a66e6f64652d61a373657101a477616c6c"
	"cf0000019aa4b64500a56c6f67696300a3636f6ca57573657273a36b6579a27531a2"
	"6f70a3707574a468617368c420aff7ce8b6d823c4fc97baf1d2ddf6bf765d842fe4c"
	"60bab436eea4b370f8cb75a464617461c40e7b226e616d65223a22616461227d";
const char EX2_PRE[] =
	"6f706c6f672e7631000473686f7000066e6f64652d6100000000000000020000019a"
	"a4b645000000000100057573657273000275310200000000aff7ce8b6d823c4fc97b"
	"af1d2ddf6bf765d842fe4c60bab436eea4b370f8cb75";
const char EX2_HASH[] =
	"bc1962f5bb6dae6ad109989c720d8c528443daf41903b504213947d6e544ffdb";
const char EX2_MSG[] =
	"8ba17601a26473a473686f70a46e6f6465a66e6f64652d61a373657102a477616c6c"
	"cf0000019aa4b64500a56c6f67696301a3636f6ca57573657273a36b6579a27531a2"
	"6f70a364656ca468617368c420bc1962f5bb6dae6ad109989c720d8c528443daf419"
	"03b504213947d6e544ffdba470726576c420aff7ce8b6d823c4fc97baf1d2ddf6bf7"
	"65d842fe4c60bab436eea4b370f8cb75";

#define WALL1 1763700000000ULL

struct oplog_slice sl(const char *s)
{
	struct oplog_slice x = { (const uint8_t *)s, strlen(s) };

	return x;
}

/* Entry 1 or 2 of the spec, hash filled in from the spec's hex. */
void example(int which, struct oplog_entry *e, uint8_t hash[32],
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

void wb_put(struct wb *w, const void *p, size_t n)
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

void wb_byte(struct wb *w, uint8_t b)
{
	wb_put(w, &b, 1);
}

void wb_be(struct wb *w, uint64_t v, int bytes)
{
	int i;

	for (i = bytes - 1; i >= 0; i--)
		wb_byte(w, (uint8_t)(v >> (8 * i)));
}

void wb_hex(struct wb *w, const char *hex)
{
	size_t n = strlen(hex) / 2;
	uint8_t *b = malloc(n + 1);

	ck_assert_ptr_nonnull(b);
	ck_assert_msg(oplog_unhex(hex, b, n) == 0, "bad test hex %s", hex);
	wb_put(w, b, n);
	free(b);
}

void wb_free(struct wb *w)
{
	free(w->p);
	w->p = NULL;
	w->n = w->cap = 0;
}

/* form: 0 shortest, 1 fixstr, 8/16/32 str8/16/32 */
void wb_str(struct wb *w, int form, const void *p, size_t n)
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

void wb_cstr(struct wb *w, const char *s)
{
	wb_str(w, 0, s, strlen(s));
}

/* form: 0 shortest, 8/16/32 bin8/16/32 */
void wb_bin(struct wb *w, int form, const void *p, size_t n)
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
void wb_uint(struct wb *w, int form, uint64_t v)
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
void wb_map(struct wb *w, int form, size_t n)
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

void mb_free(struct mb *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		wb_free(&m->k[i]);
		wb_free(&m->v[i]);
	}
	m->n = 0;
}

struct wb *mb_add(struct mb *m, const char *key)
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
struct wb *mb_val(struct mb *m, const char *key)
{
	ssize_t i = mb_find(m, key);

	if (i < 0)
		return mb_add(m, key);
	m->v[i].n = 0;
	return &m->v[i];
}

void mb_set_hex(struct mb *m, const char *key, const char *hex)
{
	wb_hex(mb_val(m, key), hex);
}

void mb_drop(struct mb *m, const char *key)
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
void mb_from_entry(struct mb *m, const struct oplog_entry *e)
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

void mb_build(const struct mb *m, int mapform, struct wb *out)
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

const char *rname(enum oplog_reason r)
{
	return r == OPLOG_R_NONE ? "none" : oplog_reason_name(r);
}

static const char *fname(enum oplog_field f)
{
	return f == OPLOG_F_NONE ? "-" : oplog_field_name(f);
}

/* Decode and require the given verdict (and, if given, detail text). */
void expect_at(int line, const uint8_t *p, size_t n, size_t max,
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

/* Build the message from m and require a verdict. */
void expect_mb_at(int line, const struct mb *m, enum oplog_reason want,
                  enum oplog_field field, const char *detail)
{
	struct wb w;

	mb_build(m, 0, &w);
	expect_at(line, w.p, w.n, 0, want, field, detail);
	wb_free(&w);
}

static int slice_eq(struct oplog_slice a, struct oplog_slice b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

void assert_same_entry(const struct oplog_entry *a,
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

void util_wire_tcase(Suite *s, const char *name, const TTest *t, int timeout)
{
	TCase *tc = tcase_create(name);

	if (timeout > 0)
		tcase_set_timeout(tc, timeout);
	tcase_add_test(tc, t);
	suite_add_tcase(s, tc);
}
