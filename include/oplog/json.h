/*
 * oplog/json.h: JSON renderings of entries and store records (jansson).
 *
 * One place decides how oplogd shows its data as JSON, so that `decode`,
 * `get`, `scan`, `dump` and the other inspection commands agree field by
 * field. Shapes follow docs/cli.md: hashes are lowercase hex, bytes are
 * standard base64 (RFC 4648, with padding), integers are JSON numbers, and
 * fields are inserted in a fixed order so that JSON_PRESERVE_ORDER output
 * is stable.
 *
 * Text that the wire format does not promise to be UTF-8 (col, key, and
 * anything read back from a reject record) goes through oplog_json_text():
 * valid UTF-8 is kept as is, each byte that does not start a valid UTF-8
 * sequence becomes U+FFFD. jansson refuses invalid UTF-8, and JSON has no
 * way to carry raw bytes in a string, so the rendering is lossy for such
 * bytes only; the verbatim bytes stay in the store (see `get`/`dump`
 * "data" for bodies, which are always base64 and lossless).
 *
 * Ownership: every function returning json_t * returns a NEW reference
 * (caller releases it with json_decref()), or NULL when memory ran out
 * (OPLOG_ENOMEM in oplog_error_last()). Functions taking a json_t * object
 * to fill add fields to it and never steal the caller's reference.
 * Inputs are only read, never kept.
 *
 * Threading: reentrant; no shared state.
 */
#ifndef OPLOG_JSON_H
#define OPLOG_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "oplog/entry.h"
#include "oplog/store.h"

/* Flags for json_dumpf()/json_dumps() wherever oplogd prints a document:
 * fields in insertion order, which the functions below fix. */
#define OPLOG_JSON_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER)

/* ------------------------------------------------------------------ */
/* Encoding helpers                                                    */

/* A JSON string with the lowercase hex of n bytes. NULL on ENOMEM. */
json_t *oplog_json_hex(const uint8_t *in, size_t n);

/* A JSON string with the standard base64 of n bytes (n may be 0: "").
 * NULL on ENOMEM. */
json_t *oplog_json_base64(const uint8_t *in, size_t n);

/* A JSON string from bytes that should be UTF-8: valid sequences are kept,
 * every other byte becomes U+FFFD (see the top of this file). Embedded
 * NUL bytes are valid UTF-8 and are kept (printed as \u0000).
 * NULL on ENOMEM. */
json_t *oplog_json_text(const uint8_t *in, size_t n);

/* ------------------------------------------------------------------ */
/* Entries                                                             */

/*
 * Add the `decode` fields of *e to obj, in this order:
 * "ds","node","seq","wall","logic","col","key","op","data","prev","hash".
 * data is base64 for a put (possibly ""), null for a del; prev is hex or
 * null on seq 1. The caller may have put fields first (decode puts
 * "ok":true there). Returns 0, or OPLOG_ENOMEM (obj may then hold some of
 * the fields; the caller discards it).
 */
int oplog_json_entry_into(json_t *obj, const struct oplog_entry *e);

/* A new object with the fields of oplog_json_entry_into() and no "ok":
 * the form of `get`, `scan`, `chain` and `dump` entries. NULL on ENOMEM. */
json_t *oplog_json_entry(const struct oplog_entry *e);

/* ------------------------------------------------------------------ */
/* Store records (the shapes of the inspection commands)               */

/* `heads` element: {"node","seq","wall","logic","hash"}. NULL on ENOMEM. */
json_t *oplog_json_head(const struct oplog_node_info *n);

/* `watermarks` element: {"node","watermark","head_seq","gaps":[[from,to]...],
 * "pruned_through"}. NULL on ENOMEM. */
json_t *oplog_json_watermark(const struct oplog_node_info *n);

/* Add the `doc` fields of *d to obj: "op","node","seq","wall","logic",
 * "hash","data" (data base64, null for a tombstone). Returns 0 or
 * OPLOG_ENOMEM. */
int oplog_json_doc_into(json_t *obj, const struct oplog_doc *d);

/* A document as `dump` lists it: {"col","key"} then the fields of
 * oplog_json_doc_into(). NULL on ENOMEM. */
json_t *oplog_json_doc(const struct oplog_doc *d);

/* `forks` element: {"node","seq","hashes":[hex...]}. NULL on ENOMEM. */
json_t *oplog_json_fork(struct oplog_slice node, uint64_t seq,
                        const uint8_t (*hashes)[OPLOG_HASH_LEN], size_t n);

/* A chain break: {"node","seq","hash","prev"}. NULL on ENOMEM. */
json_t *oplog_json_break(struct oplog_slice node, uint64_t seq,
                         const uint8_t hash[OPLOG_HASH_LEN],
                         const uint8_t prev[OPLOG_HASH_LEN]);

/* `rejects` element: {"id","time_ms","source","reason","field","detail",
 * "size"}; field is null when none applies. NULL on ENOMEM. */
json_t *oplog_json_reject(const struct oplog_reject_rec *r);

/* {CODE: n, ...} for every reason with a non-zero count, in the reason
 * table's order. counts has OPLOG_R__COUNT elements. NULL on ENOMEM. */
json_t *oplog_json_reject_counts(const uint64_t counts[OPLOG_R__COUNT]);

#endif
