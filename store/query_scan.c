/*
 * query_scan.c: entries in order: by HLC (a dataset, or one node of it),
 * by seq, and along a node's chain.
 */
#include <stdlib.h>

#include "oplog/error.h"
#include "store_int.h"

/* One entry of an HLC tie group, decoded. */
struct tie {
	MDB_val            msg;
	struct oplog_entry e;
};

static int tie_cmp(const void *x, const void *y)
{
	const struct tie *a = x, *b = y;
	int c = slice_cmp(a->e.node, b->e.node);

	return c ? c : memcmp(a->e.hash, b->e.hash, OPLOG_HASH_LEN);
}

/*
 * A walk of by_hlc or by_node in HLC order. Keys end in `wall | logic |
 * (nid |) id`; entries with the same key prefix up to `group` bytes tie
 * on (wall, logic) and are put in (node name, hash) order here, since the
 * keys hold neither.
 */
struct scan_ctx {
	struct oplog_store *s;
	MDB_txn            *txn;
	uint32_t            ds;
	const struct oplog_hlc *after;  /* emit only entries strictly after it */
	size_t              group;      /* bytes that make a tie group */
	uint64_t            limit, n;
	uint64_t            to_seq;     /* by_seq scans: the last seq */
	int                 stopped;    /* the scan itself ended the walk */
	oplog_entry_cb      cb;
	void               *arg;
	struct tie         *ties;
	size_t              n_ties, cap_ties;
	uint8_t             gkey[KEY_MAX];
};

/* Is e strictly after c->after? Only asked within after's (wall, logic). */
static int after_pos(const struct scan_ctx *c, const struct oplog_entry *e)
{
	const struct oplog_hlc *a = c->after;
	int d;

	if (!a || e->wall != a->wall || e->logic != a->logic)
		return !a || e->wall > a->wall || (e->wall == a->wall && e->logic > a->logic);
	if (!a->node.len)
		return 1;
	if ((d = slice_cmp(e->node, a->node)) != 0)
		return d > 0;
	return !a->hash || memcmp(e->hash, a->hash, OPLOG_HASH_LEN) > 0;
}

static int emit_one(struct scan_ctx *c, const struct tie *t)
{
	if (!after_pos(c, &t->e))
		return 0;
	if (c->limit && c->n >= c->limit) {
		c->stopped = 1;
		return 1;
	}
	c->n++;
	return c->cb(&t->e, t->msg.mv_data, t->msg.mv_size, c->arg);
}

/* Emit the gathered tie group in order. */
static int ties_flush(struct scan_ctx *c)
{
	int rc = 0;

	if (c->n_ties > 1)
		qsort(c->ties, c->n_ties, sizeof(*c->ties), tie_cmp);
	for (size_t i = 0; i < c->n_ties && rc == 0; i++)
		rc = emit_one(c, &c->ties[i]);
	c->n_ties = 0;
	return rc;
}

static int hlc_fn(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct scan_ctx *c = arg;
	struct tie *t;
	int rc;

	(void)v;
	if (k->mv_size != HLC_KEY_LEN)
		return oplog_error__set(OPLOG_ECORRUPT, "HLC index key of %zu bytes", k->mv_size);
	if (c->n_ties && memcmp(k->mv_data, c->gkey, c->group) != 0 && (rc = ties_flush(c)))
		return rc;
	if ((rc = oplog_store__reserve(&c->ties, &c->cap_ties, c->n_ties, sizeof(*c->ties), 16,
	                               "scan")))
		return rc;
	memcpy(c->gkey, k->mv_data, c->group);
	t = &c->ties[c->n_ties];
	rc = oplog_store__log_get(c->s, c->txn, get_u64((uint8_t *)k->mv_data + HLC_KEY_LEN - 8),
	                          &t->msg);
	if (rc == OPLOG_ENOTFOUND)
		return oplog_error__set(OPLOG_ECORRUPT, "an HLC index points at a missing entry");
	if (rc || (rc = oplog_store__decode(&t->msg, &t->e)))
		return rc;
	c->n_ties++;
	return 0;
}

/* Walk dbi from start[0..slen) while keys begin with start[0..plen). */
static int hlc_walk(struct scan_ctx *c, int dbi, const uint8_t *start, size_t slen, size_t plen)
{
	int rc = oplog_store__walk(c->s, c->txn, dbi, start, slen, plen, hlc_fn, c);

	if (rc == 0)
		rc = ties_flush(c);
	free(c->ties);
	/* The scan's own stop is not an error; a callback's non-zero is returned. */
	return c->stopped ? 0 : rc;
}

int oplog_store_scan(struct oplog_store *s, struct oplog_slice ds,
                     const struct oplog_hlc *after, uint64_t limit,
                     oplog_entry_cb cb, void *arg)
{
	struct scan_ctx c = { .s = s, .limit = limit, .cb = cb, .arg = arg, .after = after,
	                      .group = 16 };
	uint8_t kb[16], *p;
	int rc = oplog_store__begin_ds(s, ds, &c.txn, &c.ds);

	if (rc)
		return EMPTY_IF_UNKNOWN(rc);
	if (after && after->node.len > OPLOG_MAX_NAME) {
		mdb_txn_abort(c.txn);
		return oplog_error__set(OPLOG_EINVAL, "scan: node name of %zu bytes", after->node.len);
	}
	p = put_u32(kb, c.ds);
	if (after)
		p = put_u32(put_u64(p, after->wall), after->logic);
	rc = hlc_walk(&c, DBI_BY_HLC, kb, (size_t)(p - kb), 4);
	mdb_txn_abort(c.txn);
	return rc;
}

int oplog_store_scan_node(struct oplog_store *s, struct oplog_slice ds,
                          struct oplog_slice node, const struct oplog_hlc *after,
                          uint64_t limit, oplog_entry_cb cb, void *arg)
{
	struct scan_ctx c = { .s = s, .limit = limit, .cb = cb, .arg = arg, .group = 20 };
	struct oplog_hlc at;
	uint8_t kb[20], *p;
	uint32_t nid;
	int rc = oplog_store__begin_ds(s, ds, &c.txn, &c.ds);

	if (rc)
		return EMPTY_IF_UNKNOWN(rc);
	if ((rc = oplog_store__id_lookup(s, c.txn, KIND_NODE, node, &nid)))
		goto done;
	p = put_u32(put_u32(kb, c.ds), nid);
	if (after) {
		/* Within one node only the hash breaks a tie. */
		at = (struct oplog_hlc){ after->wall, after->logic, node, after->hash };
		c.after = &at;
		p = put_u32(put_u64(p, after->wall), after->logic);
	}
	rc = hlc_walk(&c, DBI_BY_NODE, kb, (size_t)(p - kb), 8);
done:
	mdb_txn_abort(c.txn);
	return EMPTY_IF_UNKNOWN(rc);
}

/* by_seq scans: keys ds | nid | seq | hash, in seq then hash order. */
static int seq_fn(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct scan_ctx *c = arg;

	if (k->mv_size != 16 + OPLOG_HASH_LEN || v->mv_size < SEQ_VAL_MIN)
		return oplog_error__set(OPLOG_ECORRUPT, "by_seq: malformed record");
	if (get_u64((uint8_t *)k->mv_data + 8) > c->to_seq || (c->limit && c->n >= c->limit)) {
		c->stopped = 1;
		return 1;
	}
	c->n++;
	return oplog_store__emit_id(c->s, c->txn, get_u64(v->mv_data), c->cb, c->arg);
}

int oplog_store_scan_seq(struct oplog_store *s, struct oplog_slice ds,
                         struct oplog_slice node, uint64_t from_seq, uint64_t to_seq,
                         uint64_t limit, oplog_entry_cb cb, void *arg)
{
	struct scan_ctx c = { .s = s, .limit = limit, .cb = cb, .arg = arg, .to_seq = to_seq };
	uint8_t kb[16];
	uint32_t nid;
	int rc = oplog_store__begin_ds(s, ds, &c.txn, &c.ds);

	if (rc)
		return EMPTY_IF_UNKNOWN(rc);
	if ((rc = oplog_store__id_lookup(s, c.txn, KIND_NODE, node, &nid)) == 0) {
		key_seq(kb, c.ds, nid, from_seq, NULL);
		rc = oplog_store__walk(s, c.txn, DBI_BY_SEQ, kb, 16, 8, seq_fn, &c);
		rc = c.stopped ? 0 : rc;
	}
	mdb_txn_abort(c.txn);
	return EMPTY_IF_UNKNOWN(rc);
}

/* ---- chains --------------------------------------------------------- */

const char *oplog_chain_end_name(enum oplog_chain_end end)
{
	static const char *const names[] = { "genesis", "pruned", "gap", "head", "limit" };

	return (unsigned)end < sizeof(names) / sizeof(names[0]) ? names[end] : "?";
}

/* One step of a walk: the current entry's seq, prev and hash, copied out
 * of the map, and the caller's callback. */
struct chain_step {
	oplog_entry_cb cb;
	void          *arg;
	uint64_t       seq;
	int            has_prev;
	uint8_t        prev[OPLOG_HASH_LEN];
	uint8_t        hash[OPLOG_HASH_LEN];
	struct oplog_slice node;
	int            other_node;
};

static int chain_fn(const struct oplog_entry *e, const void *msg, size_t len, void *arg)
{
	struct chain_step *st = arg;

	if (e->node.len != st->node.len || memcmp(e->node.ptr, st->node.ptr, e->node.len)) {
		st->other_node = 1;
		return 0;
	}
	st->seq = e->seq;
	st->has_prev = e->prev != NULL;
	if (e->prev)
		memcpy(st->prev, e->prev, OPLOG_HASH_LEN);
	memcpy(st->hash, e->hash, OPLOG_HASH_LEN);
	return st->cb(e, msg, len, st->arg);
}

/*
 * The forward link from (seq, hash): the node's smallest hash at seq+1
 * whose prev is `hash`, read from by_seq. 0 with *id and out[] set,
 * OPLOG_ENOTFOUND when none links on; *next_present says whether seq+1
 * holds anything at all.
 */
static int next_link(struct oplog_store *s, MDB_txn *txn, uint32_t ds, uint32_t nid,
                     const uint8_t *hash, uint64_t seq, uint8_t *out, uint64_t *id,
                     int *next_present)
{
	MDB_cursor *cur = NULL;
	uint8_t kb[16];
	MDB_val k = { 16, kb }, v;
	int rc;

	*next_present = 0;
	key_seq(kb, ds, nid, seq + 1, NULL);
	if ((rc = mdb_cursor_open(txn, s->dbi[DBI_BY_SEQ], &cur)))
		return oplog_store__mdb_err(rc, "mdb_cursor_open(by_seq)");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	     rc == 0 && key_has_prefix(&k, kb, 16);
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		*next_present = 1;
		if (k.mv_size != 16 + OPLOG_HASH_LEN || v.mv_size < SEQ_VAL_MIN) {
			rc = oplog_error__set(OPLOG_ECORRUPT, "by_seq: malformed record");
			goto done;
		}
		if (v.mv_size == SEQ_VAL_MIN + OPLOG_HASH_LEN &&
		    memcmp((uint8_t *)v.mv_data + SEQ_VAL_MIN, hash, OPLOG_HASH_LEN) == 0) {
			memcpy(out, (uint8_t *)k.mv_data + 16, OPLOG_HASH_LEN);
			*id = get_u64(v.mv_data);
			rc = 0;
			goto done;
		}
	}
	rc = rc == 0 || rc == MDB_NOTFOUND ? OPLOG_ENOTFOUND
	                                   : oplog_store__mdb_err(rc, "mdb_cursor_get(by_seq)");
done:
	mdb_cursor_close(cur);
	return rc;
}

/* The first present entry of a node (lowest seq, smallest hash). */
static int first_entry(struct oplog_store *s, MDB_txn *txn, uint32_t ds, uint32_t nid,
                       uint8_t *out, uint64_t *id)
{
	uint8_t kb[8];
	MDB_cursor *cur;
	MDB_val k = { 8, kb }, v;
	int rc;

	put_u32(put_u32(kb, ds), nid);
	if ((rc = mdb_cursor_open(txn, s->dbi[DBI_BY_SEQ], &cur)))
		return oplog_store__mdb_err(rc, "mdb_cursor_open(by_seq)");
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == 0 && key_has_prefix(&k, kb, 8) && k.mv_size == 16 + OPLOG_HASH_LEN &&
	    v.mv_size >= SEQ_VAL_MIN) {
		memcpy(out, (uint8_t *)k.mv_data + 16, OPLOG_HASH_LEN);
		*id = get_u64(v.mv_data);
	} else {
		rc = rc && rc != MDB_NOTFOUND ? oplog_store__mdb_err(rc, "by_seq") : OPLOG_ENOTFOUND;
	}
	mdb_cursor_close(cur);
	return rc;
}

/*
 * Emit the entry with hash `cur`: through by_seq at (nid, seq) when the
 * walk knows where it should be (id 0: not looked up yet), else through
 * the hash index, which finds it wherever it is, as a chain's prev may
 * name an entry at another seq.
 */
static int chain_emit(struct oplog_store *s, MDB_txn *txn, uint32_t ds, uint32_t nid,
                      uint64_t seq, const uint8_t *cur, uint64_t id, struct chain_step *st)
{
	if (!id && seq && oplog_store__seq_get(s, txn, ds, nid, seq, cur, &id, NULL) != 0)
		id = 0;
	if (id)
		return oplog_store__emit_id(s, txn, id, chain_fn, st);
	return oplog_store__emit(s, txn, ds, cur, chain_fn, st);
}

int oplog_store_chain(struct oplog_store *s, struct oplog_slice ds,
                      struct oplog_slice node, const uint8_t *from, int forward,
                      uint64_t limit, oplog_entry_cb cb, void *arg,
                      enum oplog_chain_end *end)
{
	struct chain_step st = { .cb = cb, .arg = arg, .node = node };
	struct node_state ns;
	MDB_txn *txn = NULL;
	uint8_t cur[OPLOG_HASH_LEN];
	uint64_t id = 0, at = 0;   /* cur's log id and seq, where known */
	uint32_t dsid, nid;
	uint64_t n = 0;
	int rc;

	*end = OPLOG_CHAIN_GAP;
	if ((rc = oplog_store__begin_ds(s, ds, &txn, &dsid)))
		return rc;
	if ((rc = oplog_store__id_lookup(s, txn, KIND_NODE, node, &nid)) ||
	    (rc = oplog_store__node_state_get(s, txn, dsid, nid, &ns)))
		goto done;
	if (from) {
		memcpy(cur, from, OPLOG_HASH_LEN);
	} else if (!forward) {
		memcpy(cur, ns.head_hash, OPLOG_HASH_LEN);
		at = ns.head_seq;
	} else if ((rc = first_entry(s, txn, dsid, nid, cur, &id)) == OPLOG_ENOTFOUND) {
		*end = OPLOG_CHAIN_PRUNED;
		rc = 0;
		goto done;
	} else if (rc) {
		goto done;
	}

	for (;;) {
		int next_present;

		if (limit && n == limit) {
			*end = OPLOG_CHAIN_LIMIT;
			break;
		}
		st.other_node = 0;
		rc = chain_emit(s, txn, dsid, nid, at, cur, id, &st);
		if (rc == OPLOG_ENOTFOUND && n == 0 && from) {
			oplog_error__set(OPLOG_ENOTFOUND, "no entry with that hash");
			goto done;
		}
		if (rc == OPLOG_ENOTFOUND || (rc == 0 && st.other_node)) {
			if (rc == 0 && n == 0) {
				rc = oplog_error__set(OPLOG_ENOTFOUND, "that entry belongs to another node");
				goto done;
			}
			/* The expected entry is not there: pruned, or never seen. */
			uint64_t want = n == 0 ? ns.head_seq : (forward ? st.seq + 1 : st.seq - 1);
			*end = want <= ns.pruned ? OPLOG_CHAIN_PRUNED : OPLOG_CHAIN_GAP;
			rc = 0;
			break;
		}
		if (rc)
			goto done;
		n++;
		if (!forward) {
			if (!st.has_prev) {
				*end = OPLOG_CHAIN_GENESIS;
				break;
			}
			memcpy(cur, st.prev, OPLOG_HASH_LEN);
			at = st.seq - 1;
			id = 0;
			continue;
		}
		rc = next_link(s, txn, dsid, nid, st.hash, st.seq, cur, &id, &next_present);
		if (rc == OPLOG_ENOTFOUND) {
			/* Nothing links forward. A missing seq+1 below the head is a
			 * gap; otherwise this branch of the chain ends here. */
			if (next_present)
				*end = OPLOG_CHAIN_HEAD;
			else if (st.seq + 1 <= ns.pruned)
				*end = OPLOG_CHAIN_PRUNED;
			else
				*end = st.seq < ns.head_seq ? OPLOG_CHAIN_GAP : OPLOG_CHAIN_HEAD;
			rc = 0;
			break;
		}
		if (rc)
			goto done;
		at = st.seq + 1;
	}
done:
	if (txn)
		mdb_txn_abort(txn);
	return rc;
}
