/*
 * store_int.h: what the store's own files share (semi-private).
 * The key layout these helpers build is documented in docs/STORE.md.
 */
#ifndef OPLOG_STORE_INT_H
#define OPLOG_STORE_INT_H

#include <lmdb.h>
#include <string.h>

#include "oplog/store.h"

enum store_dbi {
	DBI_META, DBI_NAMES, DBI_IDS, DBI_LOG, DBI_ENTRIES, DBI_BY_HLC, DBI_BY_NODE,
	DBI_BY_SEQ, DBI_LINKS, DBI_HEADS, DBI_DOCS, DBI_FORKS, DBI_BREAKS,
	DBI_OFFSETS, DBI_REJECTS, DBI_COUNTERS, DBI_LOST, DBI_REPLAY, DBI__COUNT
};

extern const char *const oplog_store__dbi_names[DBI__COUNT];

#define KIND_DS   'd'

/* Record kinds in the replay DBI: a cursor per partition, the range. */
#define REPLAY_CURSOR 'c'
#define REPLAY_RANGE  'r'
#define KIND_NODE 'n'

/* Largest key we build: by_hlc = ds 4 + hlc 12 + escaped name 258 + hash 32. */
#define KEY_MAX 320

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
	unsigned      flags;
	struct name_cache names[2]; /* [0] datasets, [1] nodes */
};

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

/* Node name in by_hlc keys: 00 -> 00 FF, then 00 00, so memcmp order is
 * the bytewise, shorter-first order of the names. */
uint8_t *oplog_store__put_name(uint8_t *p, struct oplog_slice name);

/* Keys (docs/STORE.md). Each builder writes into buf and returns the
 * key's length; a NULL hash leaves it off, making a prefix. */

/* ds | hash: entries, links. */
static inline size_t key_hash(uint8_t *buf, uint32_t ds, const uint8_t *hash)
{ return (size_t)(put_bytes(put_u32(buf, ds), hash, OPLOG_HASH_LEN) - buf); }

/* ds | nid | seq [| hash]: by_seq, forks, breaks. */
static inline size_t key_seq(uint8_t *buf, uint32_t ds, uint32_t nid, uint64_t seq,
                             const uint8_t *hash)
{
	uint8_t *p = put_u64(put_u32(put_u32(buf, ds), nid), seq);
	return (size_t)((hash ? put_bytes(p, hash, OPLOG_HASH_LEN) : p) - buf);
}

/* ds | nid | wall | logic | hash: by_node. */
static inline size_t key_node_hlc(uint8_t *buf, uint32_t ds, uint32_t nid, uint64_t wall,
                                  uint32_t logic, const uint8_t *hash)
{
	uint8_t *p = put_u32(put_u64(put_u32(put_u32(buf, ds), nid), wall), logic);
	return (size_t)(put_bytes(p, hash, OPLOG_HASH_LEN) - buf);
}

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

/* ds | wall | logic | escaped node | hash: by_hlc (at most KEY_MAX). */
static inline size_t key_hlc(uint8_t *buf, uint32_t ds, uint64_t wall, uint32_t logic,
                             struct oplog_slice node, const uint8_t *hash)
{
	uint8_t *p = put_u32(put_u64(put_u32(buf, ds), wall), logic);
	return (size_t)(put_bytes(oplog_store__put_name(p, node), hash, OPLOG_HASH_LEN) - buf);
}

void oplog_store__node_state_encode(const struct node_state *ns, uint8_t out[NODE_STATE_LEN]);
int  oplog_store__node_state_decode(struct node_state *ns, const MDB_val *v);

/* LMDB failure -> OPLOG_E* with "what: mdb message" (MDB_MAP_FULL -> EMAPFULL). */
int oplog_store__mdb_err(int rc, const char *what);

/* Grow the map (doubling, up to max_size) with no txn open. 0, or
 * OPLOG_EMAPFULL when already at max_size. */
int oplog_store__grow(struct oplog_store *s);

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

/* SHA-256 over two parts, for document keys. */
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

/* The original message bytes of entry (ds, hash), borrowed from txn.
 * 0, OPLOG_ENOTFOUND, or OPLOG_ECORRUPT (the log record is missing). If
 * log_id is not NULL it receives the entry's log id. */
int oplog_store__entry_bytes(struct oplog_store *s, MDB_txn *txn, uint32_t ds,
                             const uint8_t *hash, MDB_val *msg, uint64_t *log_id);

/* Decode the stored entry (ds, hash) and pass it to cb. OPLOG_ENOTFOUND
 * when absent; OPLOG_ECORRUPT when the stored bytes do not decode. */
int oplog_store__emit(struct oplog_store *s, MDB_txn *txn, uint32_t ds,
                      const uint8_t *hash, oplog_entry_cb cb, void *arg);

#define DOC_HDR (8 + 4 + 4 + 8 + OPLOG_HASH_LEN + 1 + 2 + 2 + 4)

/* Parse a docs record; node is left empty (the caller resolves d->nid). */
struct doc_rec {
	struct oplog_doc d;
	uint32_t         nid;
};
int oplog_store__doc_parse(const MDB_val *v, struct doc_rec *r);

#endif
