/*
 * forms.c: the wire codec's suite, every valid msgpack form of the same
 * entry (integer, str, bin and map widths, nil for absent fields, unknown
 * keys, any key order) decodes to the same fields.
 */
#include <string.h>

#include <check.h>

#include "oplog/entry.h"
#include "oplog/error.h"
#include "oplog/gen.h"
#include "wire/tcases.h"
#include "wire/util_wire.h"

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

void wire_forms_tcases(Suite *s)
{
	WIRE_ADD(s, test_decode__accepts_every_valid_form);
}
