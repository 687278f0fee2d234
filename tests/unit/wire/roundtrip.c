/*
 * roundtrip.c: the wire codec's suite, encode then decode gives back the
 * entry, its hash and the same bytes, for random entries and for a generated
 * stream.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "oplog/entry.h"
#include "oplog/error.h"
#include "oplog/gen.h"
#include "wire/tcases.h"
#include "wire/util_wire.h"

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

void wire_roundtrip_tcases(Suite *s)
{
	WIRE_ADD_SLOW(s, test_codec__round_trips_random_entries);
	WIRE_ADD_SLOW(s, test_codec__round_trips_generated_stream);
}
