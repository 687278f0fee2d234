/*
 * oplog/dump.h: the store's logical content as one JSON document.
 *
 * Two stores that hold the same logical content dump to the same bytes,
 * whatever order or batch split their entries arrived in: everything is
 * keyed by names and hashes, never by internal ids, and offsets, counters,
 * rejects (which carry arrival times), the store id and sizes are left
 * out. This is what `oplogd dump` prints and what convergence tests diff.
 *
 * The document (one element per line, so that `diff` is readable):
 *
 *   {"datasets":[
 *   {"name":DS,
 *   "entries":[ENTRY,...],          every entry, HLC order, `decode` form
 *   "heads":[HEAD,...],             by node; nodes without a head left out
 *   "watermarks":[WM,...],          by node, with "gaps" and "pruned_through"
 *   "documents":[DOC,...],          {"col","key","op","node","seq",...}
 *   "forks":[{"node","seq","hashes"}...],
 *   "chain_breaks":[{"node","seq","hash","prev"}...]}
 *   ]}
 *
 * Element shapes are those of oplog/json.h. Datasets come sorted by name,
 * documents in oplog_store_docs()'s key order, which depends only on
 * (col, key).
 *
 * Only public oplog/store.h queries are used, each in its own read
 * transaction: a dump taken while a writer runs is per-section consistent,
 * not a point-in-time image; dump a snapshot for that.
 *
 * Threading: as for the store handle (one thread at a time).
 */
#ifndef OPLOG_DUMP_H
#define OPLOG_DUMP_H

#include <stdio.h>

#include "oplog/store.h"

/*
 * Write the dump of s to out, streaming: memory use is bounded by the
 * largest single element and the list of dataset names, not by the store.
 * Returns 0, or OPLOG_EIO (writing to out failed, or a store read failed),
 * OPLOG_ENOMEM, or another negative OPLOG_E* from a store query; the
 * message is in oplog_error_last(). On failure out holds a truncated,
 * invalid document.
 */
int oplog_store_dump(struct oplog_store *s, FILE *out);

#endif
