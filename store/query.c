/*
 * query.c: the reads every query shares (walks, log records, an entry by
 * hash, doc records) and the single lookups: an entry, the datasets, a
 * document. The other queries are query_scan.c (entries in order),
 * query_node.c (per-node state) and query_state.c (bookkeeping).
 *
 * Every query runs in its own read transaction, so it sees one committed
 * state and never blocks a writer.
 */
#include "oplog/error.h"
#include "store_int.h"

int oplog_store__walk(struct oplog_store *s, MDB_txn *txn, int dbi,
                      const uint8_t *start, size_t slen, size_t plen,
                      oplog_store__walk_fn fn, void *arg)
{
	MDB_cursor *cur = NULL;
	MDB_val k = { slen, (void *)start }, v;
	int rc, op = slen ? MDB_SET_RANGE : MDB_FIRST;

	if ((rc = mdb_cursor_open(txn, s->dbi[dbi], &cur)))
		return oplog_store__mdb_err(rc, "mdb_cursor_open");
	for (rc = mdb_cursor_get(cur, &k, &v, op); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (!key_has_prefix(&k, start, plen))
			break;
		if ((rc = fn(&k, &v, arg)) != 0)
			goto done;
	}
	if (rc == MDB_NOTFOUND || rc == 0)
		rc = 0;
	else
		rc = oplog_store__mdb_err(rc, oplog_store__dbi_names[dbi]);
done:
	mdb_cursor_close(cur);
	return rc;
}

int oplog_store__log_get(struct oplog_store *s, MDB_txn *txn, uint64_t id, MDB_val *msg)
{
	uint8_t kb[8];
	MDB_val k = { key_log(kb, id), kb };
	int rc = mdb_get(txn, s->dbi[DBI_LOG], &k, msg);

	if (rc == MDB_NOTFOUND)
		return OPLOG_ENOTFOUND;
	return rc ? oplog_store__mdb_err(rc, "mdb_get(log)") : 0;
}

int oplog_store__decode(const MDB_val *msg, struct oplog_entry *e)
{
	struct oplog_reject rej;

	if (oplog_entry_decode(msg->mv_data, msg->mv_size, msg->mv_size, OPLOG_DECODE_NOVERIFY,
	                       e, &rej))
		return oplog_error__set(OPLOG_ECORRUPT, "log: stored message does not decode: %s",
		                        rej.detail);
	return 0;
}

/* Does the stored message `msg` carry (ds name, hash)? */
static int msg_is(struct oplog_store *s, MDB_txn *txn, const MDB_val *msg, uint32_t ds,
                  const uint8_t *hash, int *yes)
{
	struct oplog_entry e;
	struct oplog_slice name;
	int rc;

	*yes = 0;
	if ((rc = oplog_store__decode(msg, &e)))
		return rc;
	if (memcmp(e.hash, hash, OPLOG_HASH_LEN) != 0)
		return 0;
	if ((rc = oplog_store__id_name(s, txn, KIND_DS, ds, &name)))
		return rc;
	*yes = slice_cmp(name, e.ds) == 0;
	return 0;
}

/* The original message bytes of entry (ds, hash), borrowed from txn,
 * found through `entries` (each epoch, newest first; a shared hash prefix
 * is resolved against the message). 0, OPLOG_ENOTFOUND, or OPLOG_ECORRUPT
 * (an index points at a missing log record). */
static int entry_bytes(struct oplog_store *s, MDB_txn *txn, uint32_t ds, const uint8_t *hash,
                       MDB_val *msg)
{
	MDB_cursor *cur = NULL, *fcur = NULL;
	uint8_t kb[ENTRIES_KEY_LEN];
	MDB_val k, v, fk, f;
	uint64_t next = 1;
	int64_t epoch;
	int rc, yes, frc;

	/* Epochs exist up to the one of the last id handed out. */
	k = (MDB_val){ sizeof("next_id.log") - 1, "next_id.log" };
	rc = mdb_get(txn, s->dbi[DBI_META], &k, &v);
	if (rc == 0 && v.mv_size == 8)
		next = get_u64(v.mv_data);
	else if (rc && rc != MDB_NOTFOUND)
		return oplog_store__mdb_err(rc, "mdb_get(meta next_id.log)");
	if ((rc = mdb_cursor_open(txn, s->dbi[DBI_ENTRIES], &cur)) ||
	    (rc = mdb_cursor_open(txn, s->dbi[DBI_BLOOMS], &fcur))) {
		rc = oplog_store__mdb_err(rc, "mdb_cursor_open");
		goto done;
	}
	/* The filters, newest first, walked beside the epochs. */
	frc = mdb_cursor_get(fcur, &fk, &f, MDB_LAST);
	for (epoch = log_epoch(next ? next - 1 : 0); epoch >= 0; epoch--) {
		while (frc == 0 && fk.mv_size == 4 && get_u32(fk.mv_data) > (uint32_t)epoch)
			frc = mdb_cursor_get(fcur, &fk, &f, MDB_PREV);
		if (frc && frc != MDB_NOTFOUND) {
			rc = oplog_store__mdb_err(frc, "mdb_cursor_get(blooms)");
			goto done;
		}
		/* A completed epoch's filter rules most of them out. */
		if (frc == 0 && fk.mv_size == 4 && get_u32(fk.mv_data) == (uint32_t)epoch &&
		    !oplog_store__bloom_test(&f, ds, hash))
			continue;
		k = (MDB_val){ key_entries(kb, (uint32_t)epoch, ds, hash), kb };
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY); rc == 0;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP)) {
			uint64_t id;

			if (v.mv_size != 8) {
				rc = oplog_error__set(OPLOG_ECORRUPT, "entries: log id of %zu bytes",
				                      v.mv_size);
				goto done;
			}
			id = get_u64(v.mv_data);
			if ((rc = oplog_store__log_get(s, txn, id, msg))) {
				if (rc == OPLOG_ENOTFOUND)
					rc = oplog_error__set(OPLOG_ECORRUPT, "log: record %llu of an "
					                      "entry is missing", (unsigned long long)id);
				goto done;
			}
			/* 8 bytes of the hash may be shared: the message decides. */
			if ((rc = msg_is(s, txn, msg, ds, hash, &yes)))
				goto done;
			if (yes)
				goto done;
		}
		if (rc != MDB_NOTFOUND) {
			rc = oplog_store__mdb_err(rc, "mdb_cursor_get(entries)");
			goto done;
		}
	}
	rc = OPLOG_ENOTFOUND;
done:
	if (cur)
		mdb_cursor_close(cur);
	if (fcur)
		mdb_cursor_close(fcur);
	return rc;
}

int oplog_store__seq_get(struct oplog_store *s, MDB_txn *txn, uint32_t ds, uint32_t nid,
                         uint64_t seq, const uint8_t *hash, uint64_t *log_id,
                         const uint8_t **prev)
{
	uint8_t kb[KEY_MAX];
	MDB_val k = { key_seq(kb, ds, nid, seq, hash), kb }, v;
	int rc = mdb_get(txn, s->dbi[DBI_BY_SEQ], &k, &v);

	if (rc == MDB_NOTFOUND)
		return OPLOG_ENOTFOUND;
	if (rc)
		return oplog_store__mdb_err(rc, "mdb_get(by_seq)");
	if (v.mv_size != SEQ_VAL_MIN && v.mv_size != SEQ_VAL_MIN + OPLOG_HASH_LEN)
		return oplog_error__set(OPLOG_ECORRUPT, "by_seq: value of %zu bytes", v.mv_size);
	if (log_id)
		*log_id = get_u64(v.mv_data);
	if (prev)
		*prev = v.mv_size > SEQ_VAL_MIN ? (uint8_t *)v.mv_data + SEQ_VAL_MIN : NULL;
	return 0;
}

int oplog_store__emit(struct oplog_store *s, MDB_txn *txn, uint32_t ds,
                      const uint8_t *hash, oplog_entry_cb cb, void *arg)
{
	MDB_val v;
	struct oplog_entry e;
	int rc;

	if ((rc = entry_bytes(s, txn, ds, hash, &v)) ||
	    (rc = oplog_store__decode(&v, &e)))
		return rc;
	return cb(&e, v.mv_data, v.mv_size, arg);
}

int oplog_store__emit_id(struct oplog_store *s, MDB_txn *txn, uint64_t id,
                         oplog_entry_cb cb, void *arg)
{
	MDB_val v;
	struct oplog_entry e;
	int rc = oplog_store__log_get(s, txn, id, &v);

	if (rc == OPLOG_ENOTFOUND)
		return oplog_error__set(OPLOG_ECORRUPT, "an index points at log record %llu, "
		                        "which is missing", (unsigned long long)id);
	if (rc || (rc = oplog_store__decode(&v, &e)))
		return rc;
	return cb(&e, v.mv_data, v.mv_size, arg);
}

int oplog_store__doc_read(struct oplog_store *s, MDB_txn *txn, const MDB_val *v,
                          struct doc_rec *r)
{
	const uint8_t *p = v->mv_data;
	struct oplog_entry e;
	MDB_val msg;
	uint16_t cl, kl;
	uint32_t dl;
	int rc;

	memset(r, 0, sizeof(*r));
	if (v->mv_size == DOC_PTR_LEN) {
		/* A pointer: the winner is in the log. */
		r->log_id = get_u64(p);
		if ((rc = oplog_store__log_get(s, txn, r->log_id, &msg)) == OPLOG_ENOTFOUND)
			return oplog_error__set(OPLOG_ECORRUPT, "docs: the record names %llu, a log "
			                        "id with no record", (unsigned long long)r->log_id);
		if (rc || (rc = oplog_store__decode(&msg, &e)))
			return rc;
		if (e.wall != get_u64(p + 8) || e.logic != get_u32(p + 16))
			return oplog_error__set(OPLOG_ECORRUPT, "docs: the record names %llu, an entry "
			                        "of another wall/logic", (unsigned long long)r->log_id);
		if ((rc = oplog_store__id_lookup(s, txn, KIND_NODE, e.node, &r->nid)) == OPLOG_ENOTFOUND)
			return oplog_error__set(OPLOG_ECORRUPT, "docs: the winner's node has no id");
		if (rc)
			return rc;
		r->d = (struct oplog_doc){ .col = e.col, .key = e.key, .node = e.node, .op = e.op,
		                           .seq = e.seq, .wall = e.wall, .logic = e.logic };
		if (e.op == OPLOG_OP_PUT)
			r->d.data = e.data;
		memcpy(r->d.hash, e.hash, OPLOG_HASH_LEN);
		return 0;
	}
	if (v->mv_size < DOC_HDR)
		goto bad;
	cl = get_u16(p + 57);
	kl = get_u16(p + 59);
	dl = get_u32(p + 61);
	if (v->mv_size != (size_t)DOC_HDR + cl + kl + dl || get_u64(p + 65) != 0 ||
	    (p[56] != OPLOG_OP_PUT && p[56] != OPLOG_OP_DEL))
		goto bad;
	r->d.wall = get_u64(p);
	r->d.logic = get_u32(p + 8);
	r->nid = get_u32(p + 12);
	r->d.seq = get_u64(p + 16);
	memcpy(r->d.hash, p + 24, OPLOG_HASH_LEN);
	r->d.op = p[56];
	r->d.col = (struct oplog_slice){ p + DOC_HDR, cl };
	r->d.key = (struct oplog_slice){ p + DOC_HDR + cl, kl };
	if (r->d.op == OPLOG_OP_PUT)
		r->d.data = (struct oplog_slice){ p + DOC_HDR + cl + kl, dl };
	return oplog_store__id_name(s, txn, KIND_NODE, r->nid, &r->d.node);
bad:
	return oplog_error__set(OPLOG_ECORRUPT, "docs: malformed record of %zu bytes", v->mv_size);
}

int oplog_store__begin_ds(struct oplog_store *s, struct oplog_slice ds, MDB_txn **txn,
                          uint32_t *dsid)
{
	int rc;

	*txn = NULL;
	if ((rc = oplog_store__txn_begin(s, MDB_RDONLY, txn)))
		return rc;
	if ((rc = oplog_store__id_lookup(s, *txn, KIND_DS, ds, dsid))) {
		mdb_txn_abort(*txn);
		*txn = NULL;
	}
	return rc;
}

int oplog_store__walk_ds(struct oplog_store *s, struct oplog_slice ds, int dbi,
                         oplog_store__walk_fn fn, void *arg, MDB_txn **txn, uint32_t *dsid)
{
	uint8_t kb[4];
	uint32_t id;
	int rc = oplog_store__begin_ds(s, ds, txn, &id);

	if (rc)
		return EMPTY_IF_UNKNOWN(rc);
	if (dsid)
		*dsid = id;
	put_u32(kb, id);
	return oplog_store__walk(s, *txn, dbi, kb, 4, 4, fn, arg);
}

int oplog_store_get(struct oplog_store *s, struct oplog_slice ds,
                    const uint8_t hash[OPLOG_HASH_LEN], oplog_entry_cb cb, void *arg)
{
	MDB_txn *txn;
	uint32_t dsid;
	int rc = oplog_store__begin_ds(s, ds, &txn, &dsid);

	if (rc)
		return rc;
	rc = oplog_store__emit(s, txn, dsid, hash, cb, arg);
	mdb_txn_abort(txn);
	return rc;
}

/* ---- datasets and documents ---------------------------------------- */

struct name_walk {
	oplog_name_cb cb;
	void         *arg;
};

static int dataset_fn(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct name_walk *w = arg;

	(void)v;
	return w->cb((struct oplog_slice){ (uint8_t *)k->mv_data + 1, k->mv_size - 1 }, w->arg);
}

int oplog_store_datasets(struct oplog_store *s, oplog_name_cb cb, void *arg)
{
	struct name_walk w = { cb, arg };
	uint8_t kind = KIND_DS;
	MDB_txn *txn;
	int rc = oplog_store__txn_begin(s, MDB_RDONLY, &txn);

	if (rc)
		return rc;
	rc = oplog_store__walk(s, txn, DBI_NAMES, &kind, 1, 1, dataset_fn, &w);
	mdb_txn_abort(txn);
	return rc;
}

static int count_fn(const MDB_val *k, const MDB_val *v, void *arg)
{
	(void)k;
	(void)v;
	(*(uint64_t *)arg)++;
	return 0;
}

int oplog_store_dataset_entries(struct oplog_store *s, struct oplog_slice ds, uint64_t *entries)
{
	MDB_txn *txn = NULL;
	int rc;

	/* by_hlc has one key per stored entry of the dataset, under its id:
	 * a key-only walk of that range, no log record read. */
	*entries = 0;
	rc = oplog_store__walk_ds(s, ds, DBI_BY_HLC, count_fn, entries, &txn, NULL);
	if (txn)
		mdb_txn_abort(txn);
	return rc;
}

struct doc_walk {
	struct oplog_store *s;
	MDB_txn            *txn;
	oplog_doc_cb        cb;
	void               *arg;
};

static int doc_fn(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct doc_walk *w = arg;
	struct doc_rec r;
	int rc;

	(void)k;
	if ((rc = oplog_store__doc_read(w->s, w->txn, v, &r)))
		return rc;
	return w->cb(&r.d, w->arg);
}

int oplog_store_doc(struct oplog_store *s, struct oplog_slice ds, struct oplog_slice col,
                    struct oplog_slice key, oplog_doc_cb cb, void *arg)
{
	struct doc_walk w = { .s = s, .cb = cb, .arg = arg };
	uint8_t kb[DOC_KEY_LEN];
	MDB_val k = { sizeof(kb), kb }, v;
	struct doc_rec r;
	uint32_t dsid;
	int rc = oplog_store__begin_ds(s, ds, &w.txn, &dsid);

	if (rc)
		return rc;
	if ((rc = oplog_store__doc_key(kb, dsid, col, key)))
		goto done;
	if ((rc = mdb_get(w.txn, s->dbi[DBI_DOCS], &k, &v))) {
		rc = rc == MDB_NOTFOUND ? OPLOG_ENOTFOUND : oplog_store__mdb_err(rc, "mdb_get(docs)");
		goto done;
	}
	if ((rc = oplog_store__doc_read(s, w.txn, &v, &r)))
		goto done;
	if (slice_cmp(r.d.col, col) || slice_cmp(r.d.key, key)) {
		rc = OPLOG_ENOTFOUND;   /* a different document shares the key hash */
		goto done;
	}
	rc = doc_fn(&k, &v, &w);
done:
	mdb_txn_abort(w.txn);
	return rc;
}

int oplog_store_docs(struct oplog_store *s, struct oplog_slice ds, oplog_doc_cb cb, void *arg)
{
	struct doc_walk w = { .s = s, .cb = cb, .arg = arg };
	int rc = oplog_store__walk_ds(s, ds, DBI_DOCS, doc_fn, &w, &w.txn, NULL);

	if (w.txn)
		mdb_txn_abort(w.txn);
	return rc;
}
