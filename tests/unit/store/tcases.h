/*
 * tests/unit/store/tcases.h: the store's suite, one file per area.
 *
 * Each tests/unit/store/<area>.c adds its TCases (one per behaviour, with
 * the fixtures of util_store_tcase) to the Suite it is given; check_store.c
 * collects them into one suite. Test processes are single-threaded.
 */
#ifndef STORE_TCASES_H
#define STORE_TCASES_H

#include <check.h>

void store_open_tcases(Suite *s);        /* builder, open, schema, snapshot */
void store_apply_tcases(Suite *s);       /* dedupe, head */
void store_hash_index_tcases(Suite *s);  /* hash_index */
void store_chain_tcases(Suite *s);       /* watermark, fork, chain_break, chain */
void store_documents_tcases(Suite *s);   /* documents, datasets */
void store_prune_tcases(Suite *s);       /* prune, prune_documents, below_boundary */
void store_verify_tcases(Suite *s);      /* verify */
void store_offsets_tcases(Suite *s);     /* offsets, rejects */
void store_scan_tcases(Suite *s);        /* scan */
void store_map_tcases(Suite *s);         /* map, concurrency */

#endif
