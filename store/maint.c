/*
 * maint.c: prune, deleting old entries in bounded batches of write
 * transactions, never above a node's watermark; and the count of what a
 * prune would delete, for --dry-run.
 */
#include <stdlib.h>

#include "oplog/error.h"
#include "store_int.h"

/* ---- prune ---------------------------------------------------------- */

/* Node states touched by one prune batch (few nodes per batch). */
struct touched {
	uint32_t          nid;
	struct node_state ns;
	int               dirty;
};

struct prune_batch {
	struct oplog_store *s;
	MDB_txn            *txn;
	uint32_t            ds;
	struct touched     *t;
	size_t              n, cap;
};

static struct touched *touched_get(struct prune_batch *pb, uint32_t nid, int *rc)
{
	for (size_t i = 0; i < pb->n; i++)
		if (pb->t[i].nid == nid)
			return &pb->t[i];
	if ((*rc = oplog_store__reserve(&pb->t, &pb->cap, pb->n, sizeof(*pb->t), 16, "prune")))
		return NULL;
	pb->t[pb->n] = (struct touched){ .nid = nid };
	if ((*rc = oplog_store__node_state_get(pb->s, pb->txn, pb->ds, nid, &pb->t[pb->n].ns)))
		return NULL;
	return &pb->t[pb->n++];
}

static int mdel(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t klen,
                const void *v, size_t vlen, const char *what)
{
	MDB_val key = { klen, (void *)k }, val = { vlen, (void *)v };
	int rc = mdb_del(txn, dbi, &key, v ? &val : NULL);

	return rc && rc != MDB_NOTFOUND ? oplog_store__mdb_err(rc, what) : 0;
}

/*
 * A document whose winner is the entry about to go keeps the winner's
 * data: copy it from the log into the doc record (log id 0).
 */
static int keep_doc_data(struct prune_batch *pb, const struct oplog_entry *e, uint64_t id)
{
	MDB_cursor *cur = NULL;
	uint8_t kb[DOC_KEY_LEN];
	MDB_val k = { sizeof(kb), kb }, v;
	int rc;

	if ((rc = oplog_store__doc_key(kb, pb->ds, e->col, e->key)))
		return rc;
	if ((rc = mdb_cursor_open(pb->txn, pb->s->dbi[DBI_DOCS], &cur)))
		return oplog_store__mdb_err(rc, "prune: mdb_cursor_open(docs)");
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
	if (rc == MDB_NOTFOUND) {
		rc = 0;   /* verify reports a missing document */
		goto done;
	}
	if (rc) {
		rc = oplog_store__mdb_err(rc, "prune: mdb_cursor_get(docs)");
		goto done;
	}
	/* A pointer to this entry's record: the data moves into the document. */
	if (v.mv_size == DOC_PTR_LEN && get_u64(v.mv_data) == id) {
		uint32_t nid;
		if ((rc = oplog_store__id_lookup(pb->s, pb->txn, KIND_NODE, e->node, &nid)) == 0)
			rc = oplog_store__doc_put(cur, kb, e, nid, 0, MDB_CURRENT);
	}
done:
	mdb_cursor_close(cur);
	return rc;
}

/* Delete entry e (log id `id`) from every path but by_hlc (the caller's
 * cursor). */
static int prune_entry(struct prune_batch *pb, const uint8_t *hlc_key, uint32_t nid, uint64_t id,
                       const struct oplog_entry *e)
{
	struct oplog_store *s = pb->s;
	uint8_t kb[KEY_MAX], ib[8];
	int rc;

	if ((rc = keep_doc_data(pb, e, id)))
		return rc;
	if ((rc = mdel(pb->txn, s->dbi[DBI_BY_SEQ], kb, key_seq(kb, pb->ds, nid, e->seq, e->hash),
	               NULL, 0, "prune: by_seq")))
		return rc;
	key_node_hlc(kb, pb->ds, nid, get_u64(hlc_key + 4), get_u32(hlc_key + 12), id);
	if ((rc = mdel(pb->txn, s->dbi[DBI_BY_NODE], kb, HLC_KEY_LEN, NULL, 0, "prune: by_node")))
		return rc;
	put_u64(ib, id);
	if ((rc = mdel(pb->txn, s->dbi[DBI_ENTRIES], kb,
	               key_entries(kb, log_epoch(id), pb->ds, e->hash), ib, 8, "prune: entries")))
		return rc;
	/* Last: e points into this record. */
	return mdel(pb->txn, s->dbi[DBI_LOG], kb, key_log(kb, id), NULL, 0, "prune: log");
}

/*
 * The entry of by_hlc key k (where cur is, at or before the cutoff):
 * pruned with all its records (0), or kept because it is above its node's
 * watermark, so that the gap stays visible (1). Either way kb holds k's
 * key afterwards, for the walk to go on from. Else an OPLOG_E* code.
 */
static int prune_at(struct prune_batch *pb, MDB_cursor *cur, const MDB_val *k, uint8_t *kb)
{
	const uint8_t *key = k->mv_data;
	struct touched *t;
	struct oplog_entry e;
	MDB_val msg;
	uint32_t nid;
	uint64_t seq, id;
	int rc;

	if (k->mv_size != HLC_KEY_LEN)
		return oplog_error__set(OPLOG_ECORRUPT, "by_hlc: key of %zu bytes", k->mv_size);
	nid = get_u32(key + 16);
	id = get_u64(key + 20);
	memcpy(kb, key, HLC_KEY_LEN);
	if ((rc = oplog_store__log_get(pb->s, pb->txn, id, &msg)) == OPLOG_ENOTFOUND)
		rc = oplog_error__set(OPLOG_ECORRUPT, "by_hlc: log record %llu is missing",
		                      (unsigned long long)id);
	if (rc || (rc = oplog_store__decode(&msg, &e)))
		return rc;
	seq = e.seq;
	if (!(t = touched_get(pb, nid, &rc)))
		return rc;
	if (seq > t->ns.watermark)
		return 1;
	if ((rc = prune_entry(pb, kb, nid, id, &e)))
		return rc;
	if ((rc = mdb_cursor_del(cur, 0)))
		return oplog_store__mdb_err(rc, "prune: mdb_cursor_del(by_hlc)");
	if (seq > t->ns.pruned)
		t->ns.pruned = seq;
	t->dirty = 1;
	return 0;
}

/* Write back the node states this batch changed. */
static int write_touched(struct prune_batch *pb)
{
	for (size_t i = 0; i < pb->n; i++) {
		uint8_t hk[8], hv[NODE_STATE_LEN];
		MDB_val key = { 8, hk }, val = { NODE_STATE_LEN, hv };
		int rc;

		if (!pb->t[i].dirty)
			continue;
		put_u32(put_u32(hk, pb->ds), pb->t[i].nid);
		oplog_store__node_state_encode(&pb->t[i].ns, hv);
		if ((rc = mdb_put(pb->txn, pb->s->dbi[DBI_HEADS], &key, &val, 0)))
			return oplog_store__mdb_err(rc, "prune: mdb_put(heads)");
	}
	return 0;
}

/*
 * One write transaction: delete up to `batch` prunable entries starting at
 * the by_hlc key in resume[0..*resume_len) (exclusive when it still exists).
 * Sets *done when the walk passed the cutoff or the dataset's end.
 */
static int prune_once(struct oplog_store *s, uint32_t ds, const uint8_t *cut,
                      uint64_t batch, uint8_t *resume, size_t *resume_len,
                      int *done, struct oplog_prune_stats *st)
{
	struct prune_batch pb = { .s = s, .ds = ds };
	struct oplog_prune_stats local = { 0 };
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	uint8_t kb[KEY_MAX];
	size_t klen = *resume_len;
	int rc;

	*done = 0;
	memcpy(kb, resume, klen);
	if ((rc = oplog_store__txn_begin(s, 0, &pb.txn)))
		goto done;
	if ((rc = mdb_cursor_open(pb.txn, s->dbi[DBI_BY_HLC], &cur))) {
		rc = oplog_store__mdb_err(rc, "mdb_cursor_open(by_hlc)");
		goto done;
	}
	k = (MDB_val){ klen, kb };
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == 0 && k.mv_size == klen && memcmp(k.mv_data, kb, klen) == 0 && klen > 4)
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);   /* kept last time */
	/* Kept entries count toward the bound too: a long run of entries above
	 * a gap must not hold the write lock any longer than deletions would. */
	while (local.pruned + local.kept_gap < batch) {
		if (rc == MDB_NOTFOUND || (rc == 0 && !key_has_prefix(&k, kb, 4))) {
			*done = 1;
			break;
		}
		if (rc) {
			rc = oplog_store__mdb_err(rc, "prune: by_hlc");
			goto done;
		}
		/* At or before the cutoff: (wall, logic) <= the cutoff's. */
		if (memcmp((const uint8_t *)k.mv_data + 4, cut, 12) > 0) {
			*done = 1;
			break;
		}
		if ((rc = prune_at(&pb, cur, &k, kb)) < 0)
			goto done;
		klen = HLC_KEY_LEN;
		if (rc == 1) {
			local.kept_gap++;
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
			continue;
		}
		local.pruned++;
		/* Re-seek: after a delete the cursor's position is the next key. */
		k = (MDB_val){ klen, kb };
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	}
	if ((rc = write_touched(&pb)))
		goto done;
	mdb_cursor_close(cur);
	cur = NULL;
	rc = mdb_txn_commit(pb.txn);
	pb.txn = NULL;
	if (rc) {
		rc = oplog_store__write_err(s->env, rc, "prune: mdb_txn_commit");
		goto done;
	}
	memcpy(resume, kb, klen);
	*resume_len = klen;
	st->pruned += local.pruned;
	st->kept_gap += local.kept_gap;
	st->batches++;
done:
	if (cur)
		mdb_cursor_close(cur);
	if (pb.txn)
		mdb_txn_abort(pb.txn);
	free(pb.t);
	return rc;
}

int oplog_store_prune(struct oplog_store *s, struct oplog_slice ds,
                      const struct oplog_hlc *cutoff, uint64_t batch,
                      struct oplog_prune_stats *st)
{
	struct oplog_prune_stats local;
	uint8_t resume[KEY_MAX], cut[12];
	size_t resume_len = 4;
	uint32_t dsid;
	MDB_txn *txn;
	int rc, done = 0;

	if (!st)
		st = &local;
	memset(st, 0, sizeof(*st));
	if (s->flags & OPLOG_STORE_RDONLY)
		return oplog_error__set(OPLOG_EINVAL, "the store is open read-only");
	if ((rc = oplog_store__txn_begin(s, MDB_RDONLY, &txn)))
		return rc;
	rc = oplog_store__id_lookup(s, txn, KIND_DS, ds, &dsid);
	mdb_txn_abort(txn);
	if (rc)
		return rc == OPLOG_ENOTFOUND ? 0 : rc;
	put_u32(resume, dsid);
	put_u32(put_u64(cut, cutoff->wall), cutoff->logic);
	while (!done) {
		rc = prune_once(s, dsid, cut, batch ? batch : 10000, resume, &resume_len, &done, st);
		if (rc == OPLOG_EMAPFULL && (rc = oplog_store__grow(s)) == 0)
			continue;
		if (rc)
			return rc;
	}
	return 0;
}

/* A node's watermark, looked up once per node during a count. */
struct wm {
	uint32_t nid;
	uint64_t watermark;
};

int oplog_store_prune_count(struct oplog_store *s, struct oplog_slice ds,
                            const struct oplog_hlc *cutoff, struct oplog_prune_stats *st)
{
	struct wm *w = NULL;
	size_t nw = 0, cap = 0;
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	uint8_t kb[4], cut[12];
	uint32_t dsid;
	int rc;

	memset(st, 0, sizeof(*st));
	if ((rc = oplog_store__txn_begin(s, MDB_RDONLY, &txn)))
		return rc;
	if ((rc = oplog_store__id_lookup(s, txn, KIND_DS, ds, &dsid))) {
		rc = rc == OPLOG_ENOTFOUND ? 0 : rc;
		goto done;
	}
	put_u32(kb, dsid);
	put_u32(put_u64(cut, cutoff->wall), cutoff->logic);
	if ((rc = mdb_cursor_open(txn, s->dbi[DBI_BY_HLC], &cur))) {
		rc = oplog_store__mdb_err(rc, "mdb_cursor_open(by_hlc)");
		goto done;
	}
	k = (MDB_val){ sizeof(kb), kb };
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *key = k.mv_data;
		struct oplog_entry e;
		MDB_val msg;
		uint32_t nid;
		size_t i;

		/* Past the dataset, or past the cutoff: prune's own stops. */
		if (!key_has_prefix(&k, kb, 4) || memcmp(key + 4, cut, 12) > 0)
			break;
		if (k.mv_size != HLC_KEY_LEN) {
			rc = oplog_error__set(OPLOG_ECORRUPT, "by_hlc: key of %zu bytes", k.mv_size);
			goto done;
		}
		nid = get_u32(key + 16);
		for (i = 0; i < nw && w[i].nid != nid; i++)
			;
		if (i == nw) {
			struct node_state ns;
			if ((rc = oplog_store__reserve(&w, &cap, nw, sizeof(*w), 16, "prune")) ||
			    (rc = oplog_store__node_state_get(s, txn, dsid, nid, &ns)))
				goto done;
			w[nw++] = (struct wm){ nid, ns.watermark };
		}
		if ((rc = oplog_store__log_get(s, txn, get_u64(key + 20), &msg)) == OPLOG_ENOTFOUND)
			rc = oplog_error__set(OPLOG_ECORRUPT, "by_hlc: log record %llu is missing",
			                      (unsigned long long)get_u64(key + 20));
		if (rc || (rc = oplog_store__decode(&msg, &e)))
			goto done;
		if (e.seq > w[i].watermark)
			st->kept_gap++;
		else
			st->pruned++;
	}
	if (rc == MDB_NOTFOUND)
		rc = 0;
	else if (rc > 0)
		rc = oplog_store__mdb_err(rc, "prune: by_hlc");
done:
	if (cur)
		mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	free(w);
	return rc;
}

int oplog_store_cursor_reset(struct oplog_store *s, const char *range)
{
	MDB_txn *txn = NULL;
	uint8_t kind = REPLAY_RANGE;
	MDB_val k = { 1, &kind }, v = { range ? strlen(range) : 0, (void *)range };
	int rc;

	if (s->flags & OPLOG_STORE_RDONLY)
		return oplog_error__set(OPLOG_EINVAL, "the store is open read-only");
	if ((rc = oplog_store__txn_begin(s, 0, &txn)))
		return rc;
	if ((rc = mdb_drop(txn, s->dbi[DBI_REPLAY], 0))) {
		rc = oplog_store__mdb_err(rc, "mdb_drop(replay)");
		goto done;
	}
	if (range && (rc = mdb_put(txn, s->dbi[DBI_REPLAY], &k, &v, 0))) {
		rc = oplog_store__mdb_err(rc, "mdb_put(replay)");
		goto done;
	}
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc)
		rc = oplog_store__write_err(s->env, rc, "mdb_txn_commit");
done:
	if (txn)
		mdb_txn_abort(txn);
	return rc;
}
