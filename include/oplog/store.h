/*
 * oplog/store.h: the LMDB oplog store (docs/STORE.md has the key layout).
 *
 * A store is one LMDB environment in a directory. It applies valid entries
 * by the rules of apply-semantics (dedupe by hash, heads by HLC, seq
 * watermarks and gaps, forks, chain breaks, last-writer-wins documents),
 * keeps rejected messages, and keeps "(topic, partition) -> next offset"
 * written in the same transaction as the entries those offsets cover. It
 * knows nothing else of Kafka.
 *
 * Threading: one oplog_store handle is used by one thread at a time.
 * Several processes may open the same store: one writer at a time (LMDB's
 * writer lock serialises them), any number of readers, and readers never
 * block the writer. Every query runs in its own read transaction.
 *
 * Ownership: everything a callback receives is borrowed and valid only
 * during that call (it points into LMDB's map); copy what must outlive it.
 */
#ifndef OPLOG_STORE_H
#define OPLOG_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "oplog/entry.h"

#define OPLOG_STORE_SCHEMA   2
#define OPLOG_MAX_REJECT_COPY (64u << 20)  /* most raw bytes a reject can keep */
#define OPLOG_STORE_ID_LEN   16

struct oplog_store;
struct oplog_batch;

/* Flags for oplog_store_opts.flags. */
#define OPLOG_STORE_RDONLY   0x1  /* open read-only; the store must exist */
#define OPLOG_STORE_NOSYNC   0x2  /* no fsync at commit (benchmarks, tests of speed only) */
#define OPLOG_STORE_WRITEMAP 0x4  /* LMDB MDB_WRITEMAP: write through the map; still durable.
                                     The map's file space is reserved on disk (at open and
                                     as it grows), so a full disk is OPLOG_ENOSPC, not a
                                     SIGBUS; a file system that cannot reserve (no
                                     fallocate) opens without it, with a warning. */

struct oplog_store_opts {
	const char *path;             /* directory; created if missing (unless RDONLY) */
	size_t      map_size;         /* initial map size; 0 = 256 MiB */
	size_t      max_size;         /* growth limit; 0 = 64 GiB */
	size_t      reject_max_bytes; /* raw bytes kept per reject; 0 = 64 KiB */
	uint64_t    rejects_max;      /* rejects kept: above it the oldest go
	                                 (the counters count every one);
	                                 0 = no limit */
	unsigned    mode;             /* permission bits of the files a new store
	                                 (or a snapshot) gets; its directory adds
	                                 x where r is set; 0 = 0600 (dir 0700) */
	unsigned    flags;
	/* Told, one line at a time, what an upgrade of an older store does
	 * (oplog_store_migrate); NULL = silent. */
	void      (*notice)(const char *line, void *arg);
	void       *notice_arg;
};

/*
 * Open or create the store at opts->path (a read-write open creates
 * missing parent directories too, mkdir -p). A new store gets schema
 * OPLOG_STORE_SCHEMA and a random store id, both written once to meta.
 * A read-write open of a store of an older schema upgrades it first
 * (oplog_store_migrate, telling opts->notice); a read-only open of one
 * fails with OPLOG_ESCHEMA and says how to upgrade it.
 * Returns 0 with *out set (caller closes with oplog_store_close), or
 * OPLOG_ESCHEMA (written by a newer schema, or older and read-only),
 * OPLOG_ENOTFOUND (RDONLY and no store), OPLOG_EBUSY (an upgrade is needed
 * while another process has the store open), OPLOG_ENOSPC (the disk
 * holding it is out of space: creating it, or with WRITEMAP reserving the
 * map), OPLOG_EIO, OPLOG_ENOMEM.
 * *out is NULL on failure.
 */
int oplog_store_open(struct oplog_store **out, const struct oplog_store_opts *opts);

/* What an upgrade did. */
struct oplog_migrate_stats {
	uint32_t from_schema;  /* 0 = the store was already current */
	uint64_t entries;      /* entries carried over */
	double   seconds;
};

/*
 * Upgrade the store at opts->path to OPLOG_STORE_SCHEMA. The new layout is
 * built in a new file beside the store and then renamed over it, so an
 * interruption leaves the old store as it was. Everything the store holds
 * survives: the store id, dataset and node ids, log ids, offsets, replay
 * cursors, lost ranges, rejects, counters, heads and pruned-through seqs.
 * No other process may have the store open. A current store is left
 * alone (st->from_schema 0). st may be NULL.
 * Returns 0, or OPLOG_EBUSY (the store is open elsewhere), OPLOG_ENOTFOUND
 * (no store), OPLOG_ESCHEMA (newer than this oplogd), OPLOG_ECORRUPT,
 * OPLOG_EIO, OPLOG_ENOMEM, OPLOG_EMAPFULL (max_size too small).
 */
int oplog_store_migrate(const struct oplog_store_opts *opts, struct oplog_migrate_stats *st);

/* Close the store. NULL is ignored. No transaction may be open. */
void oplog_store_close(struct oplog_store *s);

/* The store id (OPLOG_STORE_ID_LEN bytes), fixed for the store's life. */
const uint8_t *oplog_store_id(const struct oplog_store *s);

/* ------------------------------------------------------------------ */
/* Applying                                                            */

/*
 * A batch: valid entries, rejected messages and the offsets they cover,
 * applied together. The batch does NOT copy entries: the message bytes an
 * added entry borrows must stay alive and unchanged until the batch is
 * cleared or freed. Rejects and offsets are copied.
 */
int  oplog_batch_new(struct oplog_batch **out);    /* 0 or OPLOG_ENOMEM */
void oplog_batch_free(struct oplog_batch *b);      /* NULL is ignored */
void oplog_batch_clear(struct oplog_batch *b);     /* empty it, keep capacity */
size_t oplog_batch_count(const struct oplog_batch *b); /* entries + rejects */

/* Add a decoded entry; msg/len are the original message bytes it was
 * decoded from (stored verbatim). Returns 0 or OPLOG_ENOMEM. */
int oplog_batch_add(struct oplog_batch *b, const void *msg, size_t len,
                    const struct oplog_entry *e);

/* Add a rejected message. source names where it came from
 * ("topic/partition/offset" or "file:index"); the first reject_max_bytes
 * of msg are kept. Returns 0 or OPLOG_ENOMEM. */
int oplog_batch_reject(struct oplog_batch *b, const char *source,
                       const void *msg, size_t len,
                       const struct oplog_reject *rej);

/* Record that (topic, partition) is consumed up to next_offset (exclusive).
 * A later call for the same partition in one batch replaces the earlier
 * one. Returns 0 or OPLOG_ENOMEM / OPLOG_EINVAL (empty topic). */
int oplog_batch_offset(struct oplog_batch *b, const char *topic,
                       int32_t partition, int64_t next_offset);

/*
 * Record a replay cursor instead of the live offset: (topic, partition)
 * is replayed up to next (exclusive) of a range ending at end. Stored with
 * the batch, never touching oplog_store_offset's offsets. Returns 0 or
 * OPLOG_ENOMEM / OPLOG_EINVAL.
 */
int oplog_batch_cursor(struct oplog_batch *b, const char *topic, int32_t partition,
                       int64_t next, int64_t end);

/*
 * Record that offsets [from, to) of (topic, partition) were lost: the
 * broker deleted them before they were read. Stored with the batch (kept
 * for `stats` and `lag`); the partition's offset moves on to `to` unless
 * a later offset in the batch replaces it. from >= to records a partition
 * whose offsets went backwards (deleted and created again): the count of
 * lost messages is unknown there. Returns 0 or OPLOG_ENOMEM / OPLOG_EINVAL.
 */
int oplog_batch_lost(struct oplog_batch *b, const char *topic, int32_t partition,
                     int64_t from, int64_t to);

/* 1 when the batch holds nothing at all: no entries, rejects, offsets or
 * lost ranges. (oplog_batch_count counts only entries and rejects.) */
int oplog_batch_empty(const struct oplog_batch *b);

/* What applying a batch did. Counters of the same names are kept in the
 * store (oplog_store_stats). */
struct oplog_apply_stats {
	uint64_t applied;        /* new entries added to the oplog */
	uint64_t duplicates;
	uint64_t late;           /* added, but before the node's head */
	uint64_t forks;          /* new hashes at an already-taken (ds, node, seq) */
	uint64_t chain_breaks;   /* new chain-break records */
	uint64_t below_boundary; /* at or below pruned-through; documents only */
	uint64_t rejected;
};

/* Add every counter of *add to *sum. */
void oplog_apply_stats_add(struct oplog_apply_stats *sum, const struct oplog_apply_stats *add);

/*
 * Apply the whole batch in one write transaction: entries in batch order,
 * then rejects, counters and offsets. All or nothing. On MDB_MAP_FULL the
 * map is grown (doubling, up to max_size; with WRITEMAP by at most 1 GiB)
 * and the batch retried from the start. st may be NULL.
 * Returns 0, or OPLOG_EMAPFULL (max_size reached; nothing applied),
 * OPLOG_ENOSPC (the disk holding the store is out of space: the commit
 * failed, or with WRITEMAP growing the map did; nothing applied, the store
 * takes the batch again once there is room), OPLOG_EIO, OPLOG_ENOMEM,
 * OPLOG_EINVAL (read-only store).
 */
int oplog_store_apply(struct oplog_store *s, const struct oplog_batch *b,
                      struct oplog_apply_stats *st);

/* ------------------------------------------------------------------ */
/* Queries. Each runs in its own read transaction. A callback returning  */
/* non-zero stops the walk; the query then returns that value.          */

/* A position in HLC order: (wall, logic, node, hash). */
struct oplog_hlc {
	uint64_t           wall;
	uint32_t           logic;
	struct oplog_slice node;  /* empty = before every node at (wall, logic) */
	const uint8_t     *hash;  /* NULL = before every hash */
};

/* An entry as stored: the verbatim message and its decoded view. */
typedef int (*oplog_entry_cb)(const struct oplog_entry *e, const void *msg,
                              size_t len, void *arg);

/* Entry (ds, hash). Returns 0 after one callback, OPLOG_ENOTFOUND. */
int oplog_store_get(struct oplog_store *s, struct oplog_slice ds,
                    const uint8_t hash[OPLOG_HASH_LEN],
                    oplog_entry_cb cb, void *arg);

/* Entries of ds in HLC order, strictly after *after (NULL = from the
 * start), at most limit (0 = no limit). */
int oplog_store_scan(struct oplog_store *s, struct oplog_slice ds,
                     const struct oplog_hlc *after, uint64_t limit,
                     oplog_entry_cb cb, void *arg);

/* Entries of one node in HLC order strictly after *after (NULL = start). */
int oplog_store_scan_node(struct oplog_store *s, struct oplog_slice ds,
                          struct oplog_slice node, const struct oplog_hlc *after,
                          uint64_t limit, oplog_entry_cb cb, void *arg);

/* Entries of one node with from_seq <= seq <= to_seq, in seq order
 * (several per seq when the node forked, by hash). */
int oplog_store_scan_seq(struct oplog_store *s, struct oplog_slice ds,
                         struct oplog_slice node, uint64_t from_seq,
                         uint64_t to_seq, uint64_t limit,
                         oplog_entry_cb cb, void *arg);

/* Why a chain walk ended. */
enum oplog_chain_end {
	OPLOG_CHAIN_GENESIS = 0, /* reached seq 1 (backward) */
	OPLOG_CHAIN_PRUNED,      /* the next entry was pruned */
	OPLOG_CHAIN_GAP,         /* the next entry is missing */
	OPLOG_CHAIN_HEAD,        /* no entry links forward (forward) */
	OPLOG_CHAIN_LIMIT        /* limit reached */
};
const char *oplog_chain_end_name(enum oplog_chain_end end); /* "genesis" ... */

/*
 * Walk one node's chain from `from` backward through prev, or forward
 * through the forward links (where a node forked, forward follows the
 * smallest hash). With from NULL a backward walk starts at the node's
 * head and a forward walk at its lowest present seq. The start entry is
 * included. Forward, "head" means nothing links on from the last entry,
 * "pruned" that its seq+1 was pruned, and "gap" that its seq+1 is missing
 * below the head's seq.
 * Returns 0 with *end set, OPLOG_ENOTFOUND (no such node or start hash),
 * or a callback's non-zero value.
 */
int oplog_store_chain(struct oplog_store *s, struct oplog_slice ds,
                      struct oplog_slice node, const uint8_t *from,
                      int forward, uint64_t limit, oplog_entry_cb cb,
                      void *arg, enum oplog_chain_end *end);

/* One node's bookkeeping. Strings borrowed for the callback's duration. */
struct oplog_node_info {
	struct oplog_slice node;
	uint64_t head_seq;        /* 0 when the node has no head yet */
	uint64_t head_wall;
	uint32_t head_logic;
	uint8_t  head_hash[OPLOG_HASH_LEN];
	uint64_t watermark;       /* seq 1..watermark present or pruned */
	uint64_t pruned_through;  /* highest seq pruned; 0 = none */
	size_t   n_gaps;          /* missing ranges between watermark and head */
	const uint64_t (*gaps)[2];/* inclusive [from, to] ranges, ascending */
};
typedef int (*oplog_node_cb)(const struct oplog_node_info *n, void *arg);

/* Every node of ds, sorted by node name, with its gaps. */
int oplog_store_nodes(struct oplog_store *s, struct oplog_slice ds,
                      oplog_node_cb cb, void *arg);

/* The same without the gaps (n_gaps 0, gaps NULL), reading only the node
 * states: cheap enough to call often. A node has gaps exactly when its
 * watermark is below its head_seq. */
int oplog_store_heads(struct oplog_store *s, struct oplog_slice ds,
                      oplog_node_cb cb, void *arg);

/* Every dataset name, sorted. */
typedef int (*oplog_name_cb)(struct oplog_slice name, void *arg);
int oplog_store_datasets(struct oplog_store *s, oplog_name_cb cb, void *arg);

/* How many entries of ds are stored (pruned ones are not), counted over
 * the dataset's own index range in one read transaction: linear in the
 * dataset's entries, reading no entry. 0 for an unknown ds. Returns 0 or
 * an OPLOG_E* code. */
int oplog_store_dataset_entries(struct oplog_store *s, struct oplog_slice ds, uint64_t *entries);

/* A document's winner. data is {NULL,0} for a tombstone. */
struct oplog_doc {
	struct oplog_slice col, key, node, data;
	enum oplog_op op;
	uint64_t seq, wall;
	uint32_t logic;
	uint8_t  hash[OPLOG_HASH_LEN];
};
typedef int (*oplog_doc_cb)(const struct oplog_doc *d, void *arg);

/* Document (ds, col, key): 0 after one callback, or OPLOG_ENOTFOUND. */
int oplog_store_doc(struct oplog_store *s, struct oplog_slice ds,
                    struct oplog_slice col, struct oplog_slice key,
                    oplog_doc_cb cb, void *arg);

/* Every document of ds, in the store's (deterministic) key order. */
int oplog_store_docs(struct oplog_store *s, struct oplog_slice ds,
                     oplog_doc_cb cb, void *arg);

/* A fork: (node, seq) with its n distinct hashes (ascending). */
typedef int (*oplog_fork_cb)(struct oplog_slice node, uint64_t seq,
                             const uint8_t (*hashes)[OPLOG_HASH_LEN],
                             size_t n, void *arg);
int oplog_store_forks(struct oplog_store *s, struct oplog_slice ds,
                      oplog_fork_cb cb, void *arg);

/* A chain break: the entry (node, seq, hash) whose prev matches no present
 * entry at seq-1. */
typedef int (*oplog_break_cb)(struct oplog_slice node, uint64_t seq,
                              const uint8_t hash[OPLOG_HASH_LEN],
                              const uint8_t prev[OPLOG_HASH_LEN], void *arg);
int oplog_store_breaks(struct oplog_store *s, struct oplog_slice ds,
                       oplog_break_cb cb, void *arg);

/* Counters and sizes. */
struct oplog_stats {
	uint64_t entries, datasets, nodes;
	uint64_t applied, duplicates, late, forks, chain_breaks, below_boundary;
	uint64_t rejected[OPLOG_R__COUNT];  /* by reason */
	uint64_t rejects_kept;              /* reject records stored */
	uint64_t store_bytes;               /* pages in use x page size */
	uint64_t map_size;
};
int oplog_store_stats(struct oplog_store *s, struct oplog_stats *out);

/* Kafka offsets: next offset per (topic, partition). */
typedef int (*oplog_offset_cb)(const char *topic, int32_t partition,
                               int64_t next_offset, void *arg);
int oplog_store_offsets(struct oplog_store *s, oplog_offset_cb cb, void *arg);
/* 0 with *next_offset, or OPLOG_ENOTFOUND. */
int oplog_store_offset(struct oplog_store *s, const char *topic,
                       int32_t partition, int64_t *next_offset);

/* Lost offset ranges (oplog_batch_lost), in (topic, partition, from)
 * order. at_ms is when the loss was stored. */
struct oplog_lost {
	const char *topic;    /* valid during the callback only */
	int32_t     partition;
	int64_t     from, to; /* [from, to); from >= to: offsets went backwards */
	uint64_t    at_ms;
};
typedef int (*oplog_lost_cb)(const struct oplog_lost *l, void *arg);
int oplog_store_lost(struct oplog_store *s, oplog_lost_cb cb, void *arg);

/*
 * The replay cursor of (topic, partition): 0 with *next and *end, or
 * OPLOG_ENOTFOUND. The range it belongs to: 0 with the description
 * (NUL-terminated, truncated to cap) or OPLOG_ENOTFOUND.
 */
int oplog_store_cursor(struct oplog_store *s, const char *topic, int32_t partition,
                       int64_t *next, int64_t *end);
int oplog_store_cursor_range(struct oplog_store *s, char *buf, size_t cap);

/* Drop every cursor and the range; then, when range is not NULL, record
 * it as the range of a replay starting now. One write transaction.
 * Returns 0, OPLOG_EINVAL (read-only store) or OPLOG_EIO. */
int oplog_store_cursor_reset(struct oplog_store *s, const char *range);

/* A stored reject. */
struct oplog_reject_rec {
	uint64_t           id;        /* ascending in arrival order */
	uint64_t           time_ms;   /* when it was stored */
	struct oplog_slice source;
	enum oplog_reason  reason;
	enum oplog_field   field;
	struct oplog_slice detail;
	uint64_t           size;      /* original message size */
	struct oplog_slice raw;       /* the first reject_max_bytes bytes */
};
typedef int (*oplog_reject_cb)(const struct oplog_reject_rec *r, void *arg);
/* Newest last; limit 0 = all, else the last `limit`. */
int oplog_store_rejects(struct oplog_store *s, uint64_t limit,
                        oplog_reject_cb cb, void *arg);

/*
 * Delete the kept rejects but the newest keep, oldest first, in write
 * transactions of at most 10000 deletes each; the reject counters are
 * left as they are. *removed (may be NULL) gets how many went, also on
 * failure (those committed). Returns 0, or the store's error.
 */
int oplog_store_rejects_prune(struct oplog_store *s, uint64_t keep, uint64_t *removed);

/* ------------------------------------------------------------------ */
/* Maintenance                                                         */

struct oplog_prune_stats {
	uint64_t pruned;    /* entries removed */
	uint64_t batches;   /* write transactions committed */
	uint64_t kept_gap;  /* entries at/before cutoff kept because above a watermark */
};

/*
 * Delete the entries of ds at or before *cutoff in HLC order whose seq is
 * at or below their node's watermark, at most `batch` (0 = 10000) per write
 * transaction, and raise each node's pruned-through seq. The cutoff is a
 * (wall, logic) pair: its node and hash are ignored, and every entry at
 * exactly (wall, logic) counts as at the cutoff. Never moves heads,
 * watermarks, documents, forks or node ids. Returns 0 or OPLOG_EIO /
 * OPLOG_EMAPFULL / OPLOG_ENOSPC; batches committed before a failure stay
 * committed.
 */
int oplog_store_prune(struct oplog_store *s, struct oplog_slice ds,
                      const struct oplog_hlc *cutoff, uint64_t batch,
                      struct oplog_prune_stats *st);

/*
 * What oplog_store_prune would do with the same ds and cutoff, counted in
 * one read transaction and changing nothing: st->pruned entries would go,
 * st->kept_gap would stay above a gap, st->batches is 0. Works on a
 * read-only store. An unknown ds counts nothing. Returns 0, or
 * OPLOG_ECORRUPT / OPLOG_EIO / OPLOG_ENOMEM (st then partial).
 */
int oplog_store_prune_count(struct oplog_store *s, struct oplog_slice ds,
                            const struct oplog_hlc *cutoff, struct oplog_prune_stats *st);

/* A problem found by verify: a one-line description. */
typedef void (*oplog_problem_cb)(const char *problem, void *arg);

/*
 * Check every access path against the oplog and the derived state (heads,
 * watermarks, documents, forks, chain breaks, links) against what the
 * oplog implies. Calls cb per problem. Returns the number of problems
 * (>= 0), or a negative OPLOG_E* when the check itself failed.
 */
int64_t oplog_store_verify(struct oplog_store *s, oplog_problem_cb cb, void *arg);

/* Hot, compacted copy into the empty or new directory `dir` (LMDB's
 * mdb_env_copy2 with MDB_CP_COMPACT), created with its parents when
 * missing. Keeps node ids, offsets and the store id. Returns 0,
 * OPLOG_EINVAL (dir exists and is not empty, or is not a directory;
 * nothing written) or OPLOG_EIO. */
int oplog_store_snapshot(struct oplog_store *s, const char *dir);

#endif
