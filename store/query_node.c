/*
 * query_node.c: per-node state: heads, watermarks and gaps, forks and
 * chain breaks, each listed by node name.
 */
#include <stdlib.h>

#include "oplog/error.h"
#include "store_int.h"

/* ---- nodes ---------------------------------------------------------- */

struct node_row {
	uint32_t          nid;
	struct node_state ns;
	struct oplog_slice name;
};

struct rows {
	struct oplog_store *s;
	MDB_txn            *txn;
	void               *v;     /* array of rows */
	size_t              n, cap, elem;
};

/* A new row at the end of r: NULL when out of memory. */
static void *rows_push(struct rows *r)
{
	if (oplog_store__reserve(&r->v, &r->cap, r->n, r->elem, 16, NULL))
		return NULL;
	return (char *)r->v + r->elem * r->n++;
}

static int node_row_fn(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct rows *r = arg;
	struct node_row *row = rows_push(r);
	int rc;

	if (!row)
		return OPLOG_ENOMEM;   /* with oplog_store__reserve's message */
	if (k->mv_size != 8)
		return oplog_error__set(OPLOG_ECORRUPT, "heads: key of %zu bytes", k->mv_size);
	row->nid = get_u32((uint8_t *)k->mv_data + 4);
	if ((rc = oplog_store__node_state_decode(&row->ns, v)))
		return rc;
	return oplog_store__id_name(r->s, r->txn, KIND_NODE, row->nid, &row->name);
}

static int node_row_cmp(const void *a, const void *b)
{
	return slice_cmp(((const struct node_row *)a)->name, ((const struct node_row *)b)->name);
}

struct gap_ctx {
	uint64_t expect, head;
	uint64_t (*gaps)[2];
	size_t   n, cap;
};

static int gap_fn(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct gap_ctx *g = arg;
	uint64_t seq;

	(void)v;
	if (k->mv_size < 16)
		return oplog_error__set(OPLOG_ECORRUPT, "by_seq: key of %zu bytes", k->mv_size);
	seq = get_u64((uint8_t *)k->mv_data + 8);
	if (seq > g->head)
		return 1;
	if (seq > g->expect) {
		int rc = oplog_store__reserve(&g->gaps, &g->cap, g->n, sizeof(*g->gaps), 8, NULL);

		if (rc)
			return rc;
		g->gaps[g->n][0] = g->expect;
		g->gaps[g->n][1] = seq - 1;
		g->n++;
	}
	if (seq >= g->expect)
		g->expect = seq + 1;
	return 0;
}

/* Every node of ds; with_gaps walks by_seq above each watermark. */
static int nodes_walk(struct oplog_store *s, struct oplog_slice ds, int with_gaps,
                      oplog_node_cb cb, void *arg)
{
	struct rows r = { .s = s, .elem = sizeof(struct node_row) };
	struct gap_ctx g = { 0 };
	uint8_t kb[16];
	uint32_t dsid;
	int rc = oplog_store__walk_ds(s, ds, DBI_HEADS, node_row_fn, &r, &r.txn, &dsid);

	if (rc || !r.txn)
		goto done;
	if (r.n)
		qsort(r.v, r.n, r.elem, node_row_cmp);
	for (size_t i = 0; i < r.n; i++) {
		struct node_row *row = (struct node_row *)r.v + i;
		struct oplog_node_info info = {
			.node = row->name, .head_seq = row->ns.head_seq,
			.head_wall = row->ns.head_wall, .head_logic = row->ns.head_logic,
			.watermark = row->ns.watermark, .pruned_through = row->ns.pruned,
		};
		memcpy(info.head_hash, row->ns.head_hash, OPLOG_HASH_LEN);
		g.n = 0;
		g.expect = row->ns.watermark + 1;
		g.head = row->ns.head_seq;
		if (with_gaps && g.expect <= g.head) {
			key_seq(kb, dsid, row->nid, g.expect, NULL);
			/* The head's own seq is present, so every gap ends
			 * below a present seq and the walk sees them all. */
			rc = oplog_store__walk(s, r.txn, DBI_BY_SEQ, kb, 16, 8, gap_fn, &g);
			if (rc < 0)
				goto done;
		}
		info.n_gaps = g.n;
		info.gaps = (const uint64_t (*)[2])g.gaps;
		if ((rc = cb(&info, arg)))
			goto done;
	}
	rc = 0;
done:
	free(g.gaps);
	free(r.v);
	if (r.txn)
		mdb_txn_abort(r.txn);
	return rc;
}

int oplog_store_nodes(struct oplog_store *s, struct oplog_slice ds,
                      oplog_node_cb cb, void *arg)
{
	return nodes_walk(s, ds, 1, cb, arg);
}

int oplog_store_heads(struct oplog_store *s, struct oplog_slice ds,
                      oplog_node_cb cb, void *arg)
{
	return nodes_walk(s, ds, 0, cb, arg);
}

/* ---- forks and breaks ---------------------------------------------- */

/* Forks and breaks are keyed by node id; they are listed by node name. */
struct seq_row {
	struct oplog_slice name;
	uint64_t           seq;
	uint8_t            hash[OPLOG_HASH_LEN];
	uint8_t            prev[OPLOG_HASH_LEN];
};

static int seq_row_fn(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct rows *r = arg;
	const uint8_t *kb = k->mv_data;
	struct seq_row *row = rows_push(r);

	if (!row)
		return OPLOG_ENOMEM;   /* with oplog_store__reserve's message */
	if (k->mv_size < 16 || v->mv_size != OPLOG_HASH_LEN ||
	    (k->mv_size != 16 && k->mv_size != 16 + OPLOG_HASH_LEN))
		return oplog_error__set(OPLOG_ECORRUPT, "forks/breaks: malformed record");
	row->seq = get_u64(kb + 8);
	if (k->mv_size == 16 + OPLOG_HASH_LEN) {          /* breaks: hash in key */
		memcpy(row->hash, kb + 16, OPLOG_HASH_LEN);
		memcpy(row->prev, v->mv_data, OPLOG_HASH_LEN);
	} else {                                          /* forks: hash is the dup */
		memcpy(row->hash, v->mv_data, OPLOG_HASH_LEN);
	}
	return oplog_store__id_name(r->s, r->txn, KIND_NODE, get_u32(kb + 4), &row->name);
}

static int seq_row_cmp(const void *a, const void *b)
{
	const struct seq_row *x = a, *y = b;
	int c = slice_cmp(x->name, y->name);

	if (c)
		return c;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return memcmp(x->hash, y->hash, OPLOG_HASH_LEN);
}

static int collect_seq_rows(struct oplog_store *s, struct oplog_slice ds, int dbi, struct rows *r)
{
	int rc = oplog_store__walk_ds(s, ds, dbi, seq_row_fn, r, &r->txn, NULL);

	if (rc == 0 && r->n)
		qsort(r->v, r->n, r->elem, seq_row_cmp);
	return rc;
}

int oplog_store_forks(struct oplog_store *s, struct oplog_slice ds, oplog_fork_cb cb, void *arg)
{
	struct rows r = { .s = s, .elem = sizeof(struct seq_row) };
	uint8_t (*hashes)[OPLOG_HASH_LEN] = NULL;
	int rc = collect_seq_rows(s, ds, DBI_FORKS, &r);

	if (rc == 0 && r.n && !(hashes = malloc(r.n * OPLOG_HASH_LEN)))
		rc = oplog_error__set(OPLOG_ENOMEM, "out of memory");
	for (size_t i = 0, j; rc == 0 && i < r.n; i = j) {
		struct seq_row *row = (struct seq_row *)r.v;
		for (j = i; j < r.n && row[j].seq == row[i].seq && !slice_cmp(row[j].name, row[i].name); j++)
			memcpy(hashes[j - i], row[j].hash, OPLOG_HASH_LEN);
		rc = cb(row[i].name, row[i].seq, (const uint8_t (*)[OPLOG_HASH_LEN])hashes, j - i, arg);
	}
	free(hashes);
	free(r.v);
	if (r.txn)
		mdb_txn_abort(r.txn);
	return EMPTY_IF_UNKNOWN(rc);
}

int oplog_store_breaks(struct oplog_store *s, struct oplog_slice ds, oplog_break_cb cb, void *arg)
{
	struct rows r = { .s = s, .elem = sizeof(struct seq_row) };
	int rc = collect_seq_rows(s, ds, DBI_BREAKS, &r);

	for (size_t i = 0; rc == 0 && i < r.n; i++) {
		struct seq_row *row = (struct seq_row *)r.v + i;
		rc = cb(row->name, row->seq, row->hash, row->prev, arg);
	}
	free(r.v);
	if (r.txn)
		mdb_txn_abort(r.txn);
	return EMPTY_IF_UNKNOWN(rc);
}
