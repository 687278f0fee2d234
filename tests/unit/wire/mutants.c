/*
 * mutants.c: the wire codec's suite, every mutant of valid and generated
 * messages gets exactly one verdict, and msgpack-c, an independent parser,
 * agrees with it.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <msgpack.h>

#include "oplog/entry.h"
#include "oplog/error.h"
#include "oplog/gen.h"
#include "wire/tcases.h"
#include "wire/util_wire.h"

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

void wire_mutants_tcases(Suite *s)
{
	WIRE_ADD_SLOW(s, test_decode__mutants_get_one_verdict_that_msgpack_c_agrees_with);
}
