/*
 * check_wire.c: the wire-format-v1 codec against the spec, its edges and
 * msgpack-c as an independent judge of mutated messages. One suite,
 * "wire", gathered from the areas in tests/unit/wire/<area>.c, one TCase
 * per test; the shared builders are in tests/unit/wire/util_wire.c.
 */
#include <check.h>

#include "wire/tcases.h"

int main(void)
{
	Suite *s = suite_create("wire");
	SRunner *sr;
	int failed;

	wire_spec_tcases(s);
	wire_malformed_tcases(s);
	wire_reject_tcases(s);
	wire_limits_tcases(s);
	wire_forms_tcases(s);
	wire_roundtrip_tcases(s);
	wire_mutants_tcases(s);
	wire_bytes_tcases(s);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
