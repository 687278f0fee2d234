/* decode.c: decoding and rejection, one verdict per message; reason and field names. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oplog/bytes.h"
#include "oplog/entry.h"
#include "oplog/error.h"
#include "mp.h"

#define FIELD_BIT(f) (1u << (f))

/* Unknown keys kept on the stack before the decoder allocates. */
#define UNKNOWN_ON_STACK 16

static const char *const reason_names[OPLOG_R__COUNT] = {
	[OPLOG_R_TOO_LARGE]     = "too_large",
	[OPLOG_R_MALFORMED]     = "malformed",
	[OPLOG_R_NOT_MAP]       = "not_map",
	[OPLOG_R_BAD_VERSION]   = "bad_version",
	[OPLOG_R_MISSING_FIELD] = "missing_field",
	[OPLOG_R_BAD_TYPE]      = "bad_type",
	[OPLOG_R_BAD_SIZE]      = "bad_size",
	[OPLOG_R_BAD_OP]        = "bad_op",
	[OPLOG_R_BAD_PREV]      = "bad_prev",
	[OPLOG_R_HASH_MISMATCH] = "hash_mismatch",
	[OPLOG_R_CLOCK_SKEW]    = "clock_skew",
};

static const char *const field_names[OPLOG_F__COUNT] = {
	[OPLOG_F_V]     = "v",
	[OPLOG_F_DS]    = "ds",
	[OPLOG_F_NODE]  = "node",
	[OPLOG_F_SEQ]   = "seq",
	[OPLOG_F_WALL]  = "wall",
	[OPLOG_F_LOGIC] = "logic",
	[OPLOG_F_COL]   = "col",
	[OPLOG_F_KEY]   = "key",
	[OPLOG_F_OP]    = "op",
	[OPLOG_F_DATA]  = "data",
	[OPLOG_F_PREV]  = "prev",
	[OPLOG_F_HASH]  = "hash",
};

const char *oplog_reason_name(enum oplog_reason r)
{
	if ((int)r <= OPLOG_R_NONE || r >= OPLOG_R__COUNT)
		return NULL;
	return reason_names[r];
}

const char *oplog_field_name(enum oplog_field f)
{
	if ((int)f <= OPLOG_F_NONE || f >= OPLOG_F__COUNT)
		return NULL;
	return field_names[f];
}

enum oplog_reason oplog_reason_from_name(const char *name)
{
	int r;

	if (name == NULL)
		return OPLOG_R_NONE;
	for (r = OPLOG_R_NONE + 1; r < OPLOG_R__COUNT; r++)
		if (strcmp(name, reason_names[r]) == 0)
			return (enum oplog_reason)r;
	return OPLOG_R_NONE;
}

/* ---- rejections ---------------------------------------------------- */

/*
 * Fill *rej and this thread's error message. Only rejected messages pay
 * for the formatting.
 */
__attribute__((format(printf, 4, 5)))
static int reject(struct oplog_reject *rej, enum oplog_reason reason,
                  enum oplog_field field, const char *fmt, ...)
{
	va_list ap;

	rej->reason = reason;
	rej->field = field;
	va_start(ap, fmt);
	vsnprintf(rej->detail, sizeof(rej->detail), fmt, ap);
	va_end(ap);
	return oplog_error__set(OPLOG_EREJECT, "%s: %s", reason_names[reason],
	                        rej->detail);
}

/* A malformed verdict whose detail the msgpack reader already wrote. */
static int reject_malformed(struct oplog_reject *rej)
{
	rej->reason = OPLOG_R_MALFORMED;
	rej->field = OPLOG_F_NONE;
	if (rej->detail[0] == '\0')
		snprintf(rej->detail, sizeof(rej->detail), "invalid msgpack");
	return oplog_error__set(OPLOG_EREJECT, "malformed: %s", rej->detail);
}

/* A short printable excerpt of untrusted bytes, for details. */
static void excerpt(char *out, size_t cap, const uint8_t *p, size_t n)
{
	size_t i, o = 0;
	size_t shown = n > 24 ? 24 : n;

	for (i = 0; i < shown && o + 5 < cap; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
			out[o++] = (char)p[i];
		else
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", p[i]);
	}
	if (shown < n && o + 4 < cap) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* ---- duplicate unknown keys ---------------------------------------- */

static int slice_cmp(const struct oplog_slice *a, const struct oplog_slice *b)
{
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return a->len == 0 ? 0 : memcmp(a->ptr, b->ptr, a->len);
}

static void sift_down(struct oplog_slice *s, size_t root, size_t n)
{
	size_t child;
	struct oplog_slice t;

	for (;;) {
		child = 2 * root + 1;
		if (child >= n)
			return;
		if (child + 1 < n && slice_cmp(&s[child], &s[child + 1]) < 0)
			child++;
		if (slice_cmp(&s[root], &s[child]) >= 0)
			return;
		t = s[root];
		s[root] = s[child];
		s[child] = t;
		root = child;
	}
}

/* Heapsort: O(n log n) whatever order a hostile producer chose. */
static void sort_slices(struct oplog_slice *s, size_t n)
{
	size_t i;
	struct oplog_slice t;

	for (i = n / 2; i-- > 0;)
		sift_down(s, i, n);
	for (i = n; i-- > 1;) {
		t = s[0];
		s[0] = s[i];
		s[i] = t;
		sift_down(s, 0, i);
	}
}

/* The index of a key that occurs twice among s[0..n), or n. Reorders s. */
static size_t find_duplicate(struct oplog_slice *s, size_t n)
{
	size_t i, j;

	if (n <= UNKNOWN_ON_STACK) {
		for (i = 0; i < n; i++)
			for (j = i + 1; j < n; j++)
				if (slice_cmp(&s[i], &s[j]) == 0)
					return i;
		return n;
	}
	sort_slices(s, n);
	for (i = 1; i < n; i++)
		if (slice_cmp(&s[i - 1], &s[i]) == 0)
			return i;
	return n;
}

/* The unknown keys of one message: on the stack, then on the heap. */
struct key_list {
	struct oplog_slice  stack[UNKNOWN_ON_STACK];
	struct oplog_slice *v;
	size_t              n, cap;
};

static int key_list_push(struct key_list *kl, const uint8_t *p, size_t len)
{
	struct oplog_slice *nv;
	size_t ncap;

	if (kl->n == kl->cap) {
		ncap = kl->cap * 2;
		if (kl->v == kl->stack) {
			nv = malloc(ncap * sizeof(*nv));
			if (nv != NULL)
				memcpy(nv, kl->stack, sizeof(kl->stack));
		} else {
			nv = realloc(kl->v, ncap * sizeof(*nv));
		}
		if (nv == NULL)
			return -1;
		kl->v = nv;
		kl->cap = ncap;
	}
	kl->v[kl->n].ptr = p;
	kl->v[kl->n].len = len;
	kl->n++;
	return 0;
}

/* ---- the top-level map --------------------------------------------- */

static enum oplog_field field_of(const uint8_t *k, size_t n)
{
	switch (n) {
	case 1:
		return k[0] == 'v' ? OPLOG_F_V : OPLOG_F_NONE;
	case 2:
		if (k[0] == 'd' && k[1] == 's')
			return OPLOG_F_DS;
		if (k[0] == 'o' && k[1] == 'p')
			return OPLOG_F_OP;
		return OPLOG_F_NONE;
	case 3:
		if (memcmp(k, "seq", 3) == 0)
			return OPLOG_F_SEQ;
		if (memcmp(k, "col", 3) == 0)
			return OPLOG_F_COL;
		if (memcmp(k, "key", 3) == 0)
			return OPLOG_F_KEY;
		return OPLOG_F_NONE;
	case 4:
		if (memcmp(k, "node", 4) == 0)
			return OPLOG_F_NODE;
		if (memcmp(k, "wall", 4) == 0)
			return OPLOG_F_WALL;
		if (memcmp(k, "hash", 4) == 0)
			return OPLOG_F_HASH;
		if (memcmp(k, "data", 4) == 0)
			return OPLOG_F_DATA;
		if (memcmp(k, "prev", 4) == 0)
			return OPLOG_F_PREV;
		return OPLOG_F_NONE;
	case 5:
		return memcmp(k, "logic", 5) == 0 ? OPLOG_F_LOGIC : OPLOG_F_NONE;
	default:
		return OPLOG_F_NONE;
	}
}

/* What the structural pass found: each known field's value, if present. */
struct fields {
	unsigned            seen;   /* FIELD_BIT per known key present */
	struct oplog_mp_val val[OPLOG_F__COUNT];
};

/*
 * The structural pass: the whole input must be exactly one valid msgpack
 * value (every nested value included) before any field is looked at, so
 * that malformed wins over everything after it. For a top-level map it
 * also records the known fields and rejects non-str and repeated keys.
 * Returns 0 with *top_type set, or a malformed rejection, or OPLOG_ENOMEM.
 */
static int scan(const uint8_t *msg, size_t len, struct fields *fs,
                enum oplog_mp_type *top_type, struct oplog_reject *rej)
{
	struct oplog_mp_reader r = { msg, len, 0, rej->detail, sizeof(rej->detail) };
	struct oplog_mp_val top, k, v;
	struct key_list kl;
	enum oplog_field f;
	uint64_t i;
	size_t dup;
	int rc = 0;

	kl.v = kl.stack;
	kl.n = 0;
	kl.cap = UNKNOWN_ON_STACK;
	fs->seen = 0;
	*top_type = OPLOG_MP_NIL;

	if (oplog_mp__read(&r, &top) < 0) {
		rc = reject_malformed(rej);
		goto done;
	}
	*top_type = top.type;
	if (top.type != OPLOG_MP_MAP) {
		if (top.type == OPLOG_MP_ARRAY &&
		    oplog_mp__skip_items(&r, top.u, 1) < 0) {
			rc = reject_malformed(rej);
			goto done;
		}
	} else {
		for (i = 0; i < top.u; i++) {
			if (oplog_mp__read(&r, &k) < 0) {
				rc = reject_malformed(rej);
				goto done;
			}
			if (k.type != OPLOG_MP_STR) {
				rc = reject(rej, OPLOG_R_MALFORMED, OPLOG_F_NONE,
				            "key %" PRIu64 " of the top-level map (offset "
				            "%zu) is %s; keys must be str", i, k.off,
				            oplog_mp__type_name(k.type));
				goto done;
			}
			f = field_of(k.ptr, k.len);
			if (f != OPLOG_F_NONE) {
				if (fs->seen & FIELD_BIT(f)) {
					rc = reject(rej, OPLOG_R_MALFORMED, OPLOG_F_NONE,
					            "duplicate key '%s' at offset %zu",
					            field_names[f], k.off);
					goto done;
				}
				fs->seen |= FIELD_BIT(f);
			} else if (key_list_push(&kl, k.ptr, k.len) < 0) {
				rc = oplog_error__set(OPLOG_ENOMEM, "decode: no memory "
				                      "for %zu unknown keys", kl.n + 1);
				goto done;
			}
			if (oplog_mp__read(&r, &v) < 0) {
				rc = reject_malformed(rej);
				goto done;
			}
			if ((v.type == OPLOG_MP_ARRAY || v.type == OPLOG_MP_MAP) &&
			    oplog_mp__skip_items(&r, v.type == OPLOG_MP_MAP ?
			                         2 * v.u : v.u, 2) < 0) {
				rc = reject_malformed(rej);
				goto done;
			}
			if (f != OPLOG_F_NONE)
				fs->val[f] = v;
		}
	}
	if (r.pos != len) {
		rc = reject(rej, OPLOG_R_MALFORMED, OPLOG_F_NONE,
		            "trailing bytes: %zu after the value ends at offset %zu",
		            len - r.pos, r.pos);
		goto done;
	}
	if (kl.n > 1 && (dup = find_duplicate(kl.v, kl.n)) < kl.n) {
		char ex[112];

		excerpt(ex, sizeof(ex), kl.v[dup].ptr, kl.v[dup].len);
		rc = reject(rej, OPLOG_R_MALFORMED, OPLOG_F_NONE,
		            "duplicate key '%s'", ex);
		goto done;
	}
done:
	if (kl.v != kl.stack)
		free(kl.v);
	return rc;
}

/* ---- field checks, in the field table's order ----------------------- */

/* The rejections behind check_present() and check_type(), out of line so
 * that the checks themselves stay a compare on the decode path. */
static __attribute__((noinline, cold)) int missing(enum oplog_field f,
                                                   struct oplog_reject *rej)
{
	return reject(rej, OPLOG_R_MISSING_FIELD, f, "field '%s' is missing", field_names[f]);
}

static __attribute__((noinline, cold)) int bad_type(enum oplog_field f, enum oplog_mp_type got,
                                                    enum oplog_mp_type want,
                                                    struct oplog_reject *rej)
{
	return reject(rej, OPLOG_R_BAD_TYPE, f, "field '%s' is %s, not %s",
	              field_names[f], oplog_mp__type_name(got),
	              want == OPLOG_MP_INT ? "an integer" : oplog_mp__type_name(want));
}

static inline int check_present(const struct fields *fs, enum oplog_field f,
                                struct oplog_reject *rej)
{
	return (fs->seen & FIELD_BIT(f)) ? 0 : missing(f, rej);
}

/* A present field's msgpack type; an integer may take any width. */
static inline int check_type(const struct fields *fs, enum oplog_field f,
                             enum oplog_mp_type want, struct oplog_reject *rej)
{
	enum oplog_mp_type got = fs->val[f].type;

	return got == want ? 0 : bad_type(f, got, want, rej);
}

static int check_str(const struct fields *fs, enum oplog_field f, size_t max,
                     int utf8, struct oplog_slice *out,
                     struct oplog_reject *rej)
{
	const struct oplog_mp_val *v = &fs->val[f];
	size_t bad;
	int rc;

	if ((rc = check_present(fs, f, rej)) != 0 ||
	    (rc = check_type(fs, f, OPLOG_MP_STR, rej)) != 0)
		return rc;
	if (utf8 && (bad = oplog_utf8_span(v->ptr, v->len)) < v->len)
		return reject(rej, OPLOG_R_BAD_TYPE, f,
		              "field '%s' is not valid UTF-8 (byte %zu is 0x%02x)",
		              field_names[f], bad, v->ptr[bad]);
	if (v->len == 0)
		return reject(rej, OPLOG_R_BAD_SIZE, f,
		              "field '%s' is empty; it needs 1..%zu bytes",
		              field_names[f], max);
	if (v->len > max)
		return reject(rej, OPLOG_R_BAD_SIZE, f,
		              "field '%s' is %zu bytes; the limit is %zu",
		              field_names[f], v->len, max);
	out->ptr = v->ptr;
	out->len = v->len;
	return 0;
}

static int check_uint(const struct fields *fs, enum oplog_field f,
                      uint64_t min, uint64_t max, uint64_t *out,
                      struct oplog_reject *rej)
{
	const struct oplog_mp_val *v = &fs->val[f];
	int rc;

	if ((rc = check_present(fs, f, rej)) != 0 ||
	    (rc = check_type(fs, f, OPLOG_MP_INT, rej)) != 0)
		return rc;
	if (v->neg)
		return reject(rej, OPLOG_R_BAD_SIZE, f,
		              "field '%s' is negative (%" PRId64 ")",
		              field_names[f], (int64_t)v->u);
	if (v->u < min)
		return reject(rej, OPLOG_R_BAD_SIZE, f,
		              "field '%s' is %" PRIu64 "; the minimum is %" PRIu64,
		              field_names[f], v->u, min);
	if (v->u > max)
		return reject(rej, OPLOG_R_BAD_SIZE, f,
		              "field '%s' is %" PRIu64 "; the limit is %" PRIu64,
		              field_names[f], v->u, max);
	*out = v->u;
	return 0;
}

static int check_bin32(const struct fields *fs, enum oplog_field f,
                       const uint8_t **out, struct oplog_reject *rej)
{
	const struct oplog_mp_val *v = &fs->val[f];
	int rc;

	if ((rc = check_type(fs, f, OPLOG_MP_BIN, rej)) != 0)
		return rc;
	if (v->len != OPLOG_HASH_LEN)
		return reject(rej, OPLOG_R_BAD_SIZE, f,
		              "field '%s' is %zu bytes; it must be %d",
		              field_names[f], v->len, OPLOG_HASH_LEN);
	*out = v->ptr;
	return 0;
}

static int check_version(const struct fields *fs, struct oplog_reject *rej)
{
	const struct oplog_mp_val *v = &fs->val[OPLOG_F_V];

	if (!(fs->seen & FIELD_BIT(OPLOG_F_V)))
		return reject(rej, OPLOG_R_BAD_VERSION, OPLOG_F_V,
		              "field 'v' is missing");
	if (v->type != OPLOG_MP_INT)
		return reject(rej, OPLOG_R_BAD_VERSION, OPLOG_F_V,
		              "field 'v' is %s, not the integer 1",
		              oplog_mp__type_name(v->type));
	if (v->neg)
		return reject(rej, OPLOG_R_BAD_VERSION, OPLOG_F_V,
		              "field 'v' is %" PRId64 "; only version 1 is supported",
		              (int64_t)v->u);
	if (v->u != 1)
		return reject(rej, OPLOG_R_BAD_VERSION, OPLOG_F_V,
		              "field 'v' is %" PRIu64 "; only version 1 is supported",
		              v->u);
	return 0;
}

static int check_op(const struct fields *fs, enum oplog_op *op,
                    struct oplog_reject *rej)
{
	const struct oplog_mp_val *v = &fs->val[OPLOG_F_OP];
	char ex[112];
	int rc;

	if ((rc = check_present(fs, OPLOG_F_OP, rej)) != 0 ||
	    (rc = check_type(fs, OPLOG_F_OP, OPLOG_MP_STR, rej)) != 0)
		return rc;
	if (v->len == 3 && memcmp(v->ptr, "put", 3) == 0) {
		*op = OPLOG_OP_PUT;
		return 0;
	}
	if (v->len == 3 && memcmp(v->ptr, "del", 3) == 0) {
		*op = OPLOG_OP_DEL;
		return 0;
	}
	excerpt(ex, sizeof(ex), v->ptr, v->len);
	return reject(rej, OPLOG_R_BAD_OP, OPLOG_F_OP,
	              "field 'op' is \"%s\"; it must be \"put\" or \"del\"", ex);
}

static int check_data(const struct fields *fs, struct oplog_entry *e,
                      struct oplog_reject *rej)
{
	const struct oplog_mp_val *v = &fs->val[OPLOG_F_DATA];
	int present = (fs->seen & FIELD_BIT(OPLOG_F_DATA)) != 0;
	int rc;

	e->data.ptr = NULL;
	e->data.len = 0;
	if (e->op == OPLOG_OP_DEL) {
		if (present && v->type != OPLOG_MP_NIL)
			return reject(rej, OPLOG_R_BAD_OP, OPLOG_F_DATA,
			              "field 'data' is %s on a del; a del has no data "
			              "(absent or nil)", oplog_mp__type_name(v->type));
		return 0;
	}
	if (!present)
		return reject(rej, OPLOG_R_MISSING_FIELD, OPLOG_F_DATA,
		              "field 'data' is missing; a put needs it");
	if ((rc = check_type(fs, OPLOG_F_DATA, OPLOG_MP_BIN, rej)) != 0)
		return rc;
	if (v->len > OPLOG_MAX_DATA)
		return reject(rej, OPLOG_R_BAD_SIZE, OPLOG_F_DATA,
		              "field 'data' is %zu bytes; the limit is %u",
		              v->len, OPLOG_MAX_DATA);
	e->data.ptr = v->ptr;
	e->data.len = v->len;
	return 0;
}

static int check_prev(const struct fields *fs, struct oplog_entry *e,
                      struct oplog_reject *rej)
{
	const struct oplog_mp_val *v = &fs->val[OPLOG_F_PREV];
	int given = (fs->seen & FIELD_BIT(OPLOG_F_PREV)) &&
	            v->type != OPLOG_MP_NIL;

	e->prev = NULL;
	if (e->seq == 1) {
		if (given)
			return reject(rej, OPLOG_R_BAD_PREV, OPLOG_F_PREV,
			              "field 'prev' is %s on seq 1; a node's first "
			              "entry has no prev", oplog_mp__type_name(v->type));
		return 0;
	}
	if (!given)
		return reject(rej, OPLOG_R_BAD_PREV, OPLOG_F_PREV,
		              "field 'prev' is %s on seq %" PRIu64 "; it is required "
		              "when seq > 1",
		              (fs->seen & FIELD_BIT(OPLOG_F_PREV)) ? "nil" : "missing",
		              e->seq);
	return check_bin32(fs, OPLOG_F_PREV, &e->prev, rej);
}

static int verify_hash(const struct oplog_entry *e, struct oplog_reject *rej)
{
	uint8_t h[OPLOG_HASH_LEN];
	char want[17], got[17];
	int rc;

	rc = oplog_entry_hash(e, h);
	if (rc != 0)
		return rc;
	if (memcmp(h, e->hash, OPLOG_HASH_LEN) == 0)
		return 0;
	oplog_hex(e->hash, 8, want);
	oplog_hex(h, 8, got);
	return reject(rej, OPLOG_R_HASH_MISMATCH, OPLOG_F_HASH,
	              "field 'hash' is %s...; the entry hashes to %s...", want, got);
}

int oplog_entry_decode(const void *msg, size_t len, size_t max_len,
                       unsigned flags, struct oplog_entry *e,
                       struct oplog_reject *rej)
{
	struct oplog_reject local;
	struct fields fs;
	uint64_t u;
	enum oplog_mp_type top;
	int rc;

	if (rej == NULL)
		rej = &local;
	rej->reason = OPLOG_R_NONE;
	rej->field = OPLOG_F_NONE;
	rej->detail[0] = '\0';
	if (max_len == 0)
		max_len = OPLOG_DEFAULT_MAX_MSG;
	if (len > max_len)
		return reject(rej, OPLOG_R_TOO_LARGE, OPLOG_F_NONE,
		              "the message is %zu bytes; the limit is %zu",
		              len, max_len);
	if (msg == NULL && len > 0)
		return reject(rej, OPLOG_R_MALFORMED, OPLOG_F_NONE, "no message");

	rc = scan(msg, len, &fs, &top, rej);
	if (rc != 0)
		return rc;
	if (top != OPLOG_MP_MAP)
		return reject(rej, OPLOG_R_NOT_MAP, OPLOG_F_NONE,
		              "the message is %s, not a map", oplog_mp__type_name(top));

	if ((rc = check_version(&fs, rej)) != 0 ||
	    (rc = check_str(&fs, OPLOG_F_DS, OPLOG_MAX_NAME, 1, &e->ds, rej)) != 0 ||
	    (rc = check_str(&fs, OPLOG_F_NODE, OPLOG_MAX_NAME, 1, &e->node, rej)) != 0)
		return rc;
	if ((rc = check_uint(&fs, OPLOG_F_SEQ, 1, OPLOG_MAX_SEQ, &e->seq, rej)) != 0 ||
	    (rc = check_uint(&fs, OPLOG_F_WALL, 0, INT64_MAX, &e->wall, rej)) != 0 ||
	    (rc = check_uint(&fs, OPLOG_F_LOGIC, 0, UINT32_MAX, &u, rej)) != 0)
		return rc;
	e->logic = (uint32_t)u;
	if ((rc = check_str(&fs, OPLOG_F_COL, OPLOG_MAX_NAME, 0, &e->col, rej)) != 0 ||
	    (rc = check_str(&fs, OPLOG_F_KEY, OPLOG_MAX_KEY, 0, &e->key, rej)) != 0 ||
	    (rc = check_op(&fs, &e->op, rej)) != 0 ||
	    (rc = check_data(&fs, e, rej)) != 0 ||
	    (rc = check_prev(&fs, e, rej)) != 0)
		return rc;
	if ((rc = check_present(&fs, OPLOG_F_HASH, rej)) != 0 ||
	    (rc = check_bin32(&fs, OPLOG_F_HASH, &e->hash, rej)) != 0)
		return rc;
	if (!(flags & OPLOG_DECODE_NOVERIFY))
		return verify_hash(e, rej);
	return 0;
}
