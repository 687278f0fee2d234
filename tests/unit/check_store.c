/*
 * check_store.c: the LMDB store against its contract, oplog/store.h and
 * apply-semantics. One suite, "store", gathered from the areas in
 * tests/unit/store/<area>.c, one TCase per behaviour. Entries come from
 * the test's own builder (util_store.c); state is read back through public
 * queries only, except where a test damages the LMDB files on purpose.
 */
#include <check.h>

#include "store/tcases.h"
#include "util_store.h"

int main(void)
{
	Suite *s = suite_create("store");

	store_open_tcases(s);
	store_apply_tcases(s);
	store_hash_index_tcases(s);
	store_chain_tcases(s);
	store_documents_tcases(s);
	store_prune_tcases(s);
	store_verify_tcases(s);
	store_offsets_tcases(s);
	store_scan_tcases(s);
	store_map_tcases(s);
	return util_suite_run(s);
}
