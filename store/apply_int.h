/*
 * apply_int.h: what batch.c, apply.c and apply_doc.c share (semi-private):
 * a batch's contents, and the table of a batch's document candidates.
 */
#ifndef OPLOG_APPLY_INT_H
#define OPLOG_APPLY_INT_H

#include "store_int.h"

struct batch_entry {
	const uint8_t     *msg;
	size_t             len;
	struct oplog_entry e;
};

struct batch_reject {
	char               *source;
	uint8_t            *raw;      /* first reject_max bytes, copied */
	size_t              raw_len;
	size_t              size;
	struct oplog_reject rej;
};

struct batch_offset {
	char   *topic;
	int32_t partition;
	int64_t next;
	int64_t end;      /* cursors only */
	int     cursor;   /* a replay cursor, not the live offset */
};

struct batch_lost {
	char   *topic;
	int32_t partition;
	int64_t from, to;
};

struct oplog_batch {
	struct batch_entry  *ents;
	size_t               n_ents, cap_ents;
	struct batch_reject *rejs;
	size_t               n_rejs, cap_rejs;
	struct batch_offset *offs;
	size_t               n_offs, cap_offs;
	struct batch_lost   *lost;
	size_t               n_lost, cap_lost;
};

/* A document's best candidate in this batch (rule 6 only needs the last
 * writer, so each document is looked up and written once per batch). */
struct doc_cand {
	uint8_t                   key[DOC_KEY_LEN];
	uint64_t                  check; /* 8 more bytes of the document's SHA-256 */
	uint64_t                  wall;  /* e's, so most comparisons stay in the table */
	uint32_t                  logic;
	uint32_t                  nid;
	const struct oplog_entry *e;
	uint64_t                  id;    /* its log id; 0 = not in the log (below boundary) */
};

/* The candidates of one batch: open addressing on key. */
struct doc_table {
	struct doc_cand *docs;
	size_t           n, cap;
};

/* Size t for a batch of n entries (one slot in two used): 0, or
 * OPLOG_ENOMEM. The caller frees t->docs. */
int oplog_store__docs_init(struct doc_table *t, size_t n);

/* Rule 6, first half: e (log id `id`, 0 when below the prune boundary)
 * becomes its document's candidate in t when it is later than the one
 * there. 0, OPLOG_ENOMEM, or OPLOG_ECORRUPT (a key hash collision). e is
 * borrowed until t is written. */
int oplog_store__doc_candidate(struct doc_table *t, uint32_t ds, uint32_t nid, uint64_t id,
                               const struct oplog_entry *e);

/* Rule 6, second half: each candidate of t against the stored winner, in
 * key order through one cursor of txn. 0 or an OPLOG_E* code. Sorts
 * t->docs in place: t takes no more candidates after this. */
int oplog_store__docs_write(struct oplog_store *s, MDB_txn *txn, struct doc_table *t);

#endif
