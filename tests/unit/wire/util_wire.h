/*
 * tests/unit/wire/util_wire.h: helpers shared by the wire codec's suite,
 * in util_wire.c.
 *
 * Messages are written byte by byte here, in any msgpack form the test
 * names, so that the decoder is judged on encodings its own encoder never
 * produces. Every helper fails the running test (ck_assert) instead of
 * returning an error.
 *
 * Ownership: a struct wb owns its bytes until wb_free(); a struct mb owns
 * its pairs until mb_free(). Test processes are single-threaded.
 */
#ifndef WIRE_UTIL_WIRE_H
#define WIRE_UTIL_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <check.h>

#include "oplog/entry.h"

/* ------------------------------------------------------------------ */
/* The spec's worked examples: preimage, hash and message, as hex.     */

extern const char EX1_PRE[], EX1_HASH[], EX1_MSG[];
extern const char EX2_PRE[], EX2_HASH[], EX2_MSG[];

/* A view of the NUL-terminated s, without its NUL. */
struct oplog_slice sl(const char *s);

/* Entry 1 or 2 of the spec into *e; its hash (and entry 2's prev) are
 * filled in from the spec's hex into the caller's hash and prev. */
void example(int which, struct oplog_entry *e, uint8_t hash[32],
             uint8_t prev[32]);

/* ------------------------------------------------------------------ */
/* A byte writer with explicit msgpack forms.                          */

struct wb {
	uint8_t *p;
	size_t   n, cap;
};

void wb_put(struct wb *w, const void *p, size_t n);
void wb_byte(struct wb *w, uint8_t b);
/* v as `bytes` big-endian bytes. */
void wb_be(struct wb *w, uint64_t v, int bytes);
/* The bytes of a hex string (a test's own constant). */
void wb_hex(struct wb *w, const char *hex);
void wb_free(struct wb *w);
/* form: 0 shortest, 1 fixstr, 8/16/32 str8/16/32 */
void wb_str(struct wb *w, int form, const void *p, size_t n);
void wb_cstr(struct wb *w, const char *s);
/* form: 0 shortest, 8/16/32 bin8/16/32 */
void wb_bin(struct wb *w, int form, const void *p, size_t n);
/* form: 0 shortest, 1 fixint, 8..64 uint8..64, -8..-64 int8..64 */
void wb_uint(struct wb *w, int form, uint64_t v);
/* form: 0 shortest, 1 fixmap, 16/32 map16/32 */
void wb_map(struct wb *w, int form, size_t n);

/* ------------------------------------------------------------------ */
/* A message builder: pairs of raw key and value bytes.                */

#define MB_MAX 64

struct mb {
	struct wb k[MB_MAX], v[MB_MAX];
	size_t    n;
};

void mb_free(struct mb *m);
/* A new pair with key as the shortest str; returns its empty value. */
struct wb *mb_add(struct mb *m, const char *key);
/* The value bytes of key, emptied for rewriting (added when absent). */
struct wb *mb_val(struct mb *m, const char *key);
void mb_set_hex(struct mb *m, const char *key, const char *hex);
/* Remove the pair of key, which must be present. */
void mb_drop(struct mb *m, const char *key);
/* The pairs of *e in the encoder's order and shortest forms. */
void mb_from_entry(struct mb *m, const struct oplog_entry *e);
/* The map of m's pairs, with a map header of mapform (as wb_map). */
void mb_build(const struct mb *m, int mapform, struct wb *out);

/* ------------------------------------------------------------------ */
/* Assertions on the decoder's verdict.                                */

/* The name of r, "none" for OPLOG_R_NONE. */
const char *rname(enum oplog_reason r);

/* Decode and require the given verdict (and, if given, detail text);
 * line is the caller's, for the failure message. */
void expect_at(int line, const uint8_t *p, size_t n, size_t max,
               enum oplog_reason want, enum oplog_field field,
               const char *detail);

/* Build the message from m and require a verdict. */
void expect_mb_at(int line, const struct mb *m, enum oplog_reason want,
                  enum oplog_field field, const char *detail);

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
#define EXPECT_MB(m, reason, field, detail) \
	expect_mb_at(__LINE__, m, reason, field, detail)

/* Require every field of *a and *b to be equal, views by content. */
void assert_same_entry(const struct oplog_entry *a,
                       const struct oplog_entry *b);

/* ------------------------------------------------------------------ */
/* The suite: one TCase per test, named after it.                      */

/* Add test t as its own TCase; timeout in seconds, 0 for Check's own. */
void util_wire_tcase(Suite *s, const char *name, const TTest *t, int timeout);

#define WIRE_ADD(s, t) util_wire_tcase(s, #t, t, 0)
#define WIRE_ADD_SLOW(s, t) util_wire_tcase(s, #t, t, 120)

#endif
