/*
 * store_int.h: what the store's own files share (semi-private).
 * The key layout these helpers build is documented in docs/STORE.md.
 */
#ifndef OPLOG_STORE_INT_H
#define OPLOG_STORE_INT_H

#include <lmdb.h>
#include <string.h>

#include "oplog/store.h"

/*
 * The trees (DBIs). Adding a tree `foo`:
 *   1. Here: DBI_FOO before DBI__COUNT, and its key builder below with the
 *      others (key_foo, writing big-endian fixed-width fields so that
 *      LMDB's byte order is the order queries want).
 *   2. store.c: its name in oplog_store__dbi_names and its mdb_dbi_open
 *      flags in oplog_store__dbi_flags. A read-write open creates it; a
 *      read-only open of a store written before it fails (ENOTFOUND), so
 *      a tree that existing stores lack comes with a schema bump
 *      (OPLOG_STORE_SCHEMA) and an upgrade: migrate.c's old_begin says
 *      which trees an old store may lack, and
 *      oplog_store__migrate_build (migrate_copy.c) copies (its `verbatim`
 *      list) or rebuilds each tree.
 *   3. Writes: apply.c, in the batch's transaction (apply_entry for a
 *      record per entry, apply_once for one per batch; apply_doc.c for
 *      documents). Records derived from entries keep apply's order-free
 *      rules: the same set of entries gives the same records whatever
 *      order they came in.
 *   4. Prune (maint.c prune_entry): delete the tree's records of a pruned
 *      entry, or say in docs/STORE.md why they stay (forks and breaks
 *      stay as history).
 *   5. verify.c: check each record against the oplog (check_entry_* for
 *      records per entry, a pass of its own for the others).
 *   6. Reads: a query in the file of its concern (query.c shared reads
 *      and single lookups, query_scan.c entries in order, query_node.c
 *      per-node state, query_state.c bookkeeping), declared in
 *      include/oplog/store.h with its ownership and errors.
 *   7. docs/STORE.md: a row in the table (key, value, who uses it) and,
 *      if it is not obvious, a "Why" section.
 *   8. tests/unit: apply, prune, verify and the query, and a damaged record
 *      that verify must report.
 */
enum store_dbi {
	DBI_META, DBI_NAMES, DBI_IDS, DBI_LOG, DBI_ENTRIES, DBI_BY_HLC, DBI_BY_NODE,
	DBI_BY_SEQ, DBI_HEADS, DBI_DOCS, DBI_FORKS, DBI_BREAKS,
	DBI_OFFSETS, DBI_REJECTS, DBI_COUNTERS, DBI_LOST, DBI_REPLAY, DBI_BLOOMS, DBI__COUNT
};

extern const char *const oplog_store__dbi_names[DBI__COUNT];
extern const unsigned oplog_store__dbi_flags[DBI__COUNT]; /* for mdb_dbi_open */

#define KIND_DS   'd'

/* Record kinds in the replay DBI: a cursor per partition, the range. */
#define REPLAY_CURSOR 'c'
#define REPLAY_RANGE  'r'
#define KIND_NODE 'n'

/* Largest key we build: by_seq = ds 4 + nid 4 + seq 8 + hash 32. */
#define KEY_MAX 64

/* `entries` is split into epochs of 2^EPOCH_SHIFT log ids, keyed by the
 * first HASH_KEY_LEN bytes of the hash (docs/STORE.md). */
#define EPOCH_SHIFT  18
#define HASH_KEY_LEN 8
#define ENTRIES_KEY_LEN (4 + 4 + HASH_KEY_LEN)
/* by_hlc and by_node keys: ds | (wall | logic | nid) or (nid | wall | logic) | id. */
#define HLC_KEY_LEN 28

/* Per-kind id <-> name cache. Ids are dense from 1 and never reused, so an
 * array indexed by id is enough; name -> id is an open-addressing table. */
struct name_cache {
	struct oplog_slice *by_id;  /* by_id[id]: malloc'd copy of the name */
	uint32_t            n_ids;  /* valid ids are 1 .. n_ids - 1 */
	uint32_t            cap_ids;
	uint32_t           *table;  /* ids; 0 = empty slot */
	uint32_t            table_cap;
	uint32_t            first_new; /* first id the open write txn created; 0 = none */
};

struct oplog_store {
	MDB_env      *env;
	MDB_dbi       dbi[DBI__COUNT];
	uint8_t       id[OPLOG_STORE_ID_LEN];
	size_t        map_size;
	size_t        max_size;
	size_t        reject_max;
	uint64_t      rejects_max; /* rejects kept; 0 = no limit */
	unsigned      mode;       /* new files' permission bits (opts->mode) */
	unsigned      flags;
	struct name_cache names[2]; /* [0] datasets, [1] nodes */
};

/* Delete the oldest rejects in txn until at most keep remain, at most
 * limit of them (0: no limit). *removed gets how many. */
int oplog_store__rejects_trim(struct oplog_store *s, MDB_txn *txn, uint64_t keep,
                              uint64_t limit, uint64_t *removed);

/* The permission bits of a directory holding files of mode: x added
 * wherever r is set (0600: 0700, 0640: 0750). */
static inline unsigned oplog_store__dir_mode(unsigned mode)
{
	return mode | (mode & 0444) >> 2;
}

/* The node state record kept in `heads`. */
struct node_state {
	uint64_t head_seq, head_wall;
	uint32_t head_logic;
	uint8_t  head_hash[OPLOG_HASH_LEN];
	uint64_t watermark, pruned;
};
#define NODE_STATE_LEN 80

/* Big-endian fixed-width integers. */
static inline uint8_t *put_u16(uint8_t *p, uint16_t v)
{ p[0] = v >> 8; p[1] = v; return p + 2; }
static inline uint8_t *put_u32(uint8_t *p, uint32_t v)
{ p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; return p + 4; }
static inline uint8_t *put_u64(uint8_t *p, uint64_t v)
{ p = put_u32(p, (uint32_t)(v >> 32)); return put_u32(p, (uint32_t)v); }
static inline uint16_t get_u16(const uint8_t *p)
{ return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t get_u32(const uint8_t *p)
{ return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static inline uint64_t get_u64(const uint8_t *p)
{ return (uint64_t)get_u32(p) << 32 | get_u32(p + 4); }

static inline uint8_t *put_bytes(uint8_t *p, const void *src, size_t n)
{ memcpy(p, src, n); return p + n; }

/* Keys (docs/STORE.md). Each builder writes into buf and returns the
 * key's length. */

/* id: log. */
static inline size_t key_log(uint8_t *buf, uint64_t id)
{ put_u64(buf, id); return 8; }

/* epoch | ds | first bytes of hash: entries. */
static inline size_t key_entries(uint8_t *buf, uint32_t epoch, uint32_t ds, const uint8_t *hash)
{ return (size_t)(put_bytes(put_u32(put_u32(buf, epoch), ds), hash, HASH_KEY_LEN) - buf); }

static inline uint32_t log_epoch(uint64_t id)
{ return (uint32_t)(id >> EPOCH_SHIFT); }

/* ds | nid | seq [| hash]: by_seq, forks, breaks. A NULL hash leaves it
 * off, making a prefix. */
static inline size_t key_seq(uint8_t *buf, uint32_t ds, uint32_t nid, uint64_t seq,
                             const uint8_t *hash)
{
	uint8_t *p = put_u64(put_u32(put_u32(buf, ds), nid), seq);
	return (size_t)((hash ? put_bytes(p, hash, OPLOG_HASH_LEN) : p) - buf);
}

/* ds | wall | logic | nid | id: by_hlc. */
static inline size_t key_hlc(uint8_t *buf, uint32_t ds, uint64_t wall, uint32_t logic,
                             uint32_t nid, uint64_t id)
{ return (size_t)(put_u64(put_u32(put_u32(put_u64(put_u32(buf, ds), wall), logic), nid), id) - buf); }

/* ds | nid | wall | logic | id: by_node. */
static inline size_t key_node_hlc(uint8_t *buf, uint32_t ds, uint32_t nid, uint64_t wall,
                                  uint32_t logic, uint64_t id)
{ return (size_t)(put_u64(put_u32(put_u64(put_u32(put_u32(buf, ds), nid), wall), logic), id) - buf); }

/* The filter of a completed epoch of `entries` (store/bloom.c). */
/* Build the filter of every completed epoch (below log_epoch(next_log))
 * that has none yet, newest first. 0 or an OPLOG_E* code. */
int oplog_store__bloom_update(struct oplog_store *s, MDB_txn *txn, uint64_t next_log);
/* The filter of `epoch`, borrowed from txn: 0, or OPLOG_ENOTFOUND. */
int oplog_store__bloom_get(struct oplog_store *s, MDB_txn *txn, uint32_t epoch, MDB_val *f);
/* May filter f hold (ds, hash prefix)? 0 = certainly not, 1 = maybe. */
int oplog_store__bloom_test(const MDB_val *f, uint32_t ds, const uint8_t *h8);

/* by_seq value: id | prev (absent at seq 1). */
#define SEQ_VAL_MIN 8

/* topic | 0x00 | partition: offsets, and the prefix of lost. The topic
 * is at most 255 bytes (checked by the caller). */
#define KEY_OFFSET_MAX (255 + 5)
static inline size_t key_offset(uint8_t *buf, const char *topic, int32_t partition)
{
	size_t tl = strlen(topic);

	memcpy(buf, topic, tl);
	buf[tl] = 0;
	return (size_t)(put_u32(buf + tl + 1, (uint32_t)partition) - buf);
}

void oplog_store__node_state_encode(const struct node_state *ns, uint8_t out[NODE_STATE_LEN]);
int  oplog_store__node_state_decode(struct node_state *ns, const MDB_val *v);

/* LMDB failure -> OPLOG_E* with "what: mdb message" (MDB_MAP_FULL -> EMAPFULL). */
int oplog_store__mdb_err(int rc, const char *what);

/* The same for a failed write to env's files (a commit, a sync): OPLOG_ENOSPC
 * naming the store when its disk is out of space (an EIO counts when the
 * disk has next to nothing left: store.c, disk_full). */
int oplog_store__write_err(MDB_env *env, int rc, const char *what);

/* Grow the map (doubling, up to max_size) with no txn open. 0, or
 * OPLOG_EMAPFULL when already at max_size, or OPLOG_ENOSPC when writemap
 * cannot reserve the new part of the file. */
int oplog_store__grow(struct oplog_store *s);

/* The same for any env: *map_size doubles, up to max_size (with
 * MDB_WRITEMAP by at most 1 GiB, the new part reserved on disk). 0, or
 * OPLOG_EMAPFULL with no message when already at max_size (the caller
 * says what is full), or the LMDB failure, its message prefixed by who. */
int oplog_store__map_grow(MDB_env *env, size_t *map_size, size_t max_size, const char *who);

/*
 * Make room for item n of the array *arrp points at (*cap items of elem
 * bytes): once n reaches *cap, *cap doubles (from `first`) and the array
 * is reallocated. 0, or OPLOG_ENOMEM with "who: out of memory" (the array
 * and *cap unchanged). arrp is the address of the array's pointer.
 */
int oplog_store__reserve(void *arrp, size_t *cap, size_t n, size_t elem, size_t first,
                         const char *who);

/* Begin a transaction, adopting a map grown by another process. */
int oplog_store__txn_begin(struct oplog_store *s, unsigned flags, MDB_txn **txn);

/* Name <-> id. lookup: 0 or OPLOG_ENOTFOUND. get_id creates (write txn). */
int oplog_store__id_lookup(struct oplog_store *s, MDB_txn *txn, int kind,
                           struct oplog_slice name, uint32_t *id);
int oplog_store__id_get(struct oplog_store *s, MDB_txn *txn, int kind,
                        struct oplog_slice name, uint32_t *id);
int oplog_store__id_name(struct oplog_store *s, MDB_txn *txn, int kind,
                         uint32_t id, struct oplog_slice *name);
/* Forget ids handed out by an aborted transaction / accept them on commit. */
void oplog_store__ids_rollback(struct oplog_store *s);
void oplog_store__ids_commit(struct oplog_store *s);

int oplog_store__node_state_get(struct oplog_store *s, MDB_txn *txn, uint32_t ds,
                                uint32_t nid, struct node_state *ns);

/* Document key: ds | the first DOC_HASH_LEN bytes of SHA-256(u16 len(col)
 * | col | key). */
#define DOC_HASH_LEN 16
#define DOC_KEY_LEN  (4 + DOC_HASH_LEN)
int oplog_store__doc_sha(uint8_t *sha, struct oplog_slice col, struct oplog_slice key);
int oplog_store__doc_key(uint8_t *key, uint32_t ds, struct oplog_slice col,
                         struct oplog_slice key_);

/* HLC order of two (wall, logic, node, hash) tuples. */
int oplog_store__hlc_cmp(uint64_t wa, uint32_t la, struct oplog_slice na, const uint8_t *ha,
                         uint64_t wb, uint32_t lb, struct oplog_slice nb, const uint8_t *hb);

/* Does key k (of at least n bytes) start with prefix p? */
static inline int key_has_prefix(const MDB_val *k, const uint8_t *p, size_t n)
{ return k->mv_size >= n && (n == 0 || memcmp(k->mv_data, p, n) == 0); }

/* Counter names kept in `counters`. */
#define CTR_APPLIED        "applied"
#define CTR_DUPLICATES     "duplicates"
#define CTR_LATE           "late"
#define CTR_FORKS          "forks"
#define CTR_CHAIN_BREAKS   "chain_breaks"
#define CTR_BELOW_BOUNDARY "below_boundary"
#define CTR_REJECTED       "rejected."  /* + reason name */


/* Walk `dbi` from the first key >= start[0..slen) while keys begin with
 * start[0..plen). fn's non-zero return stops the walk and is returned. */
typedef int (*oplog_store__walk_fn)(const MDB_val *k, const MDB_val *v, void *arg);
int oplog_store__walk(struct oplog_store *s, MDB_txn *txn, int dbi,
                      const uint8_t *start, size_t slen, size_t plen,
                      oplog_store__walk_fn fn, void *arg);

/* Begin a read txn (*txn, the caller aborts it) and resolve dataset ds
 * (*dsid): 0, or OPLOG_ENOTFOUND when the dataset is unknown, or an
 * LMDB failure; on failure no txn is left open. */
int oplog_store__begin_ds(struct oplog_store *s, struct oplog_slice ds, MDB_txn **txn,
                          uint32_t *dsid);

/* Lists of an unknown dataset are empty, not an error. */
#define EMPTY_IF_UNKNOWN(rc) ((rc) == OPLOG_ENOTFOUND ? 0 : (rc))

/* Begin a read txn, resolve ds (*dsid, when not NULL) and walk dbi's
 * records of it (keys that start with its id) with fn, as
 * oplog_store__walk. 0 with *txn NULL when ds is unknown (an empty list).
 * Otherwise *txn stays open, even on failure, for the caller to abort
 * after it is done with what fn kept (borrowed from the txn). */
int oplog_store__walk_ds(struct oplog_store *s, struct oplog_slice ds, int dbi,
                         oplog_store__walk_fn fn, void *arg, MDB_txn **txn, uint32_t *dsid);

/* Names (nodes, collections, keys) order bytewise, shorter first. */
static inline int slice_cmp(struct oplog_slice a, struct oplog_slice b)
{
	size_t n = a.len < b.len ? a.len : b.len;
	int c = n ? memcmp(a.ptr, b.ptr, n) : 0;

	return c ? c : (a.len > b.len) - (a.len < b.len);
}

/* The message stored under log id `id`, borrowed from txn: 0, or
 * OPLOG_ENOTFOUND (no such record). */
int oplog_store__log_get(struct oplog_store *s, MDB_txn *txn, uint64_t id, MDB_val *msg);

/* Decode a stored message without verifying its hash (it was verified
 * before it was stored). OPLOG_ECORRUPT when it does not decode. */
int oplog_store__decode(const MDB_val *msg, struct oplog_entry *e);

/* The entry (ds, nid, seq, hash) through its by_seq record: 0 with *log_id
 * (and *prev pointing into the map, NULL at seq 1, when prev is not
 * NULL), or OPLOG_ENOTFOUND. */
int oplog_store__seq_get(struct oplog_store *s, MDB_txn *txn, uint32_t ds, uint32_t nid,
                         uint64_t seq, const uint8_t *hash, uint64_t *log_id,
                         const uint8_t **prev);

/* Decode the stored entry (ds, hash) and pass it to cb. OPLOG_ENOTFOUND
 * when absent; OPLOG_ECORRUPT when the stored bytes do not decode. */
int oplog_store__emit(struct oplog_store *s, MDB_txn *txn, uint32_t ds,
                      const uint8_t *hash, oplog_entry_cb cb, void *arg);

/* The same for the entry under log id `id`: OPLOG_ECORRUPT when missing
 * (only indexes name log ids). */
int oplog_store__emit_id(struct oplog_store *s, MDB_txn *txn, uint64_t id,
                         oplog_entry_cb cb, void *arg);

/* Doc record: while the winner is in the log, its log id, wall and logic
 * (DOC_PTR_LEN bytes); once it was pruned (or for a winner below the
 * prune boundary), the whole winner inline: wall | logic | nid | seq |
 * hash | op | len(col) | len(key) | len(data) | 0 u64 | col | key | data. */
#define DOC_PTR_LEN (8 + 8 + 4)
#define DOC_HDR (8 + 4 + 4 + 8 + OPLOG_HASH_LEN + 1 + 2 + 2 + 4 + 8)

/* A document's winner, read from either form of the record. */
struct doc_rec {
	struct oplog_doc d;        /* borrowed from the txn */
	uint32_t         nid;
	uint64_t         log_id;   /* 0 = inline */
};

/* Read the doc record v: 0, or OPLOG_ECORRUPT (malformed, or it points at
 * a missing log record). */
int oplog_store__doc_read(struct oplog_store *s, MDB_txn *txn, const MDB_val *v,
                          struct doc_rec *r);

/* Write the doc record for winner e at key kb through cursor cur with put
 * flags (MDB_CURRENT to replace): a pointer to log id `id`, or with id 0
 * the winner inline. */
int oplog_store__doc_put(MDB_cursor *cur, const uint8_t *kb, const struct oplog_entry *e,
                         uint32_t nid, uint64_t id, unsigned flags);

#endif
