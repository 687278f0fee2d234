/*
 * migrate_copy.c: the schema-1 upgrade's copy of every old tree into the
 * new environment (docs/STORE.md, "Schema 1, and the upgrade"), in
 * bounded write transactions; migrate.c opens both environments around it.
 */
#include <stdio.h>
#include <stdlib.h>

#include "oplog/error.h"
#include "migrate_int.h"

#define MIG_RECORDS   20000                  /* records per write txn of the new env */
#define MIG_BYTES     ((size_t)64 << 20)     /* bytes per write txn of the new env */
#define MIG_KEY_MAX   512                    /* LMDB's largest key is 511 bytes */
#define V1_DOC_HDR    (8 + 4 + 4 + 8 + OPLOG_HASH_LEN + 1 + 2 + 2 + 4)
#define V1_HASH_KEY   (4 + OPLOG_HASH_LEN)   /* v1 entries: ds | hash */

/* Where a pass over one old tree stands: the next old key to read. */
struct pos {
	int      dbi;                 /* the tree (the same name in both schemas) */
	int      started, done;
	uint8_t  key[MIG_KEY_MAX];    /* first key not yet copied (inclusive) */
	size_t   len;
	uint64_t n;                   /* records written by the committed batches */
	uint64_t inline_docs;         /* docs pass: winners kept inline, likewise */
};

/* One (nid, id) of a by_hlc or by_node group, sorted before it is written. */
struct hlc_item {
	uint32_t nid;
	uint64_t id;
};

/* An LMDB failure of op on tree dbi of the new env. */
static int new_err(int rc, const char *op, int dbi)
{
	char what[64];

	snprintf(what, sizeof(what), "migrate: %s(%s)", op, oplog_store__dbi_names[dbi]);
	return oplog_store__mdb_err(rc, what);
}

static int corrupt(int dbi, const char *what)
{
	return oplog_error__set(OPLOG_ECORRUPT, "migrate: schema-1 %s: %s; the store cannot be "
	                        "upgraded (check it with the oplogd that wrote it: verify)",
	                        oplog_store__dbi_names[dbi], what);
}

/* ---- the old store's indexes ---------------------------------------- */

/* The log id of v1 entry (ds, hash): 0, or OPLOG_ENOTFOUND. */
static int old_entry_id(struct mig *m, uint32_t ds, const uint8_t *hash, uint64_t *id)
{
	uint8_t kb[V1_HASH_KEY];
	MDB_val k = { sizeof(kb), kb }, v;
	int rc;

	put_bytes(put_u32(kb, ds), hash, OPLOG_HASH_LEN);
	rc = mdb_get(m->old_txn, m->old_dbi[DBI_ENTRIES], &k, &v);
	if (rc == MDB_NOTFOUND)
		return OPLOG_ENOTFOUND;
	if (rc)
		return oplog_store__migrate_read_err(rc, DBI_ENTRIES);
	if (v.mv_size != 8 || (*id = get_u64(v.mv_data)) == 0)
		return corrupt(DBI_ENTRIES, "a log id that is not 8 bytes");
	return 0;
}

/* Like old_entry_id, for an index record that must name an entry. */
static int old_entry_id_of(struct mig *m, int dbi, uint32_t ds, const uint8_t *hash,
                           uint64_t *id)
{
	int rc = old_entry_id(m, ds, hash, id);

	return rc == OPLOG_ENOTFOUND ? corrupt(dbi, "a record names an entry that `entries` "
	                                       "does not hold") : rc;
}

/* The datasets that have log records: one seek per dataset. */
static int old_datasets(struct mig *m)
{
	MDB_cursor *cur = NULL;
	uint8_t kb[4];
	MDB_val k, v;
	size_t cap = 0;
	int rc;

	if ((rc = mdb_cursor_open(m->old_txn, m->old_dbi[DBI_LOG], &cur)))
		return oplog_store__migrate_read_err(rc, DBI_LOG);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)) {
		uint32_t ds;

		if (k.mv_size != 12) {
			rc = corrupt(DBI_LOG, "a key that is not ds | id");
			goto done;
		}
		ds = get_u32(k.mv_data);
		if (m->n_ds == cap) {
			void *p = realloc(m->ds, (cap = cap ? cap * 2 : 16) * sizeof(*m->ds));
			if (!p) {
				rc = oplog_error__set(OPLOG_ENOMEM, "migrate: out of memory");
				goto done;
			}
			m->ds = p;
		}
		m->ds[m->n_ds++] = ds;
		if (ds == UINT32_MAX)
			break;
		put_u32(kb, ds + 1);
		k = (MDB_val){ 4, kb };
	}
	rc = rc == 0 || rc == MDB_NOTFOUND ? 0 : oplog_store__migrate_read_err(rc, DBI_LOG);
done:
	mdb_cursor_close(cur);
	return rc;
}

/* Double the new env's map, up to max_size; no txn of it may be open. */
static int new_grow(struct mig *m)
{
	int rc = oplog_store__map_grow(m->env, &m->map_size, m->max_size, "migrate: ");

	if (rc == OPLOG_EMAPFULL)
		return oplog_error__set(OPLOG_EMAPFULL, "migrate: the upgraded store does not fit in "
		                        "[store] max_size (%zu MiB); raise it and run again",
		                        m->max_size >> 20);
	return rc;
}

/* ---- passes --------------------------------------------------------- */

/*
 * A pass copies one old tree into the new env, in batches: one write txn
 * of the new env each, bounded by MIG_RECORDS and MIG_BYTES so that none
 * grows past a bounded size. A batch writes what comes next from its
 * *p on and leaves *p at the first old key it did not write (done at the
 * end). run_pass commits each batch and moves on; on a full map it grows
 * the map and redoes the batch from where the last commit left it.
 */
struct batch {
	MDB_txn    *txn;
	MDB_cursor *out;        /* on the pass's tree of the new env */
	struct pos *p;
	size_t      records, bytes;
	size_t      group_n;    /* walk: records of the current group seen so far */
};

/* What a pass makes of one old record (k, v, borrowed from the old txn):
 * it writes the new record(s) with emit, or nothing to skip it. */
typedef int (*record_fn)(struct mig *m, struct batch *bt, const MDB_val *k, const MDB_val *v);

/* What a pass makes of a group once record_fn has seen all of it: the
 * key prefix its records share, bt->group_n of them. */
typedef int (*group_fn)(struct mig *m, struct batch *bt, const uint8_t *prefix);

/* How a pass reads its old tree: `whole` writes a batch its own way (the
 * log's merge, the schema record); else walk() hands each record to
 * `record` and, with glen > 0, each group to `group`. */
struct pass {
	int     (*whole)(struct mig *m, struct batch *bt);
	record_fn record;
	size_t    glen;
	group_fn  group;
};

static int walk(struct mig *m, struct batch *bt, record_fn fn, size_t glen, group_fn group);

static int batch_full(const struct batch *bt)
{
	return bt->records >= MIG_RECORDS || bt->bytes >= MIG_BYTES;
}

/* Count record k -> v into the batch's budget and the pass's total. */
static void batch_count(struct batch *bt, const MDB_val *k, const MDB_val *v)
{
	bt->records++;
	bt->bytes += k->mv_size + v->mv_size;
	bt->p->n++;
}

/*
 * Put k -> v into the pass's tree of the new env (flags as mdb_put's) and
 * count it. MDB_KEYEXIST is the old store's fault when `twice` says how
 * (ECORRUPT with that), else a failed put like any other.
 */
static int emit(struct batch *bt, MDB_val *k, MDB_val *v, unsigned flags, const char *twice)
{
	int rc = mdb_cursor_put(bt->out, k, v, flags);

	if (rc == MDB_KEYEXIST && twice)
		return corrupt(bt->p->dbi, twice);
	if (rc)
		return new_err(rc, "mdb_put", bt->p->dbi);
	batch_count(bt, k, v);
	return 0;
}

/* One batch of a pass in its own write txn of the new env: committed when
 * the pass's batch succeeds, else aborted (never reused). */
static int run_batch(struct mig *m, const struct pass *ps, struct pos *p)
{
	struct batch bt = { .p = p };
	int rc;

	if ((rc = mdb_txn_begin(m->env, NULL, 0, &bt.txn))) {
		bt.txn = NULL;
		rc = oplog_store__mdb_err(rc, "migrate: mdb_txn_begin(new)");
		goto done;
	}
	if ((rc = mdb_cursor_open(bt.txn, m->dbi[p->dbi], &bt.out))) {
		bt.out = NULL;
		rc = new_err(rc, "mdb_cursor_open", p->dbi);
		goto done;
	}
	rc = ps->whole ? ps->whole(m, &bt) : walk(m, &bt, ps->record, ps->glen, ps->group);
	if (rc)
		goto done;
	mdb_cursor_close(bt.out);
	bt.out = NULL;
	rc = mdb_txn_commit(bt.txn);
	bt.txn = NULL;   /* committed or, on failure, freed by LMDB */
	if (rc)
		rc = oplog_store__mdb_err(rc, "migrate: mdb_txn_commit(new)");
done:
	if (bt.out)
		mdb_cursor_close(bt.out);
	if (bt.txn)
		mdb_txn_abort(bt.txn);
	return rc;
}

static int run_pass(struct mig *m, const struct pass *ps, int dbi, uint64_t *written)
{
	struct pos p = { .dbi = dbi }, next;
	int rc;

	while (!p.done) {
		next = p;
		rc = run_batch(m, ps, &next);
		if (rc == OPLOG_EMAPFULL && (rc = new_grow(m)) == 0)
			continue;
		if (rc)
			return rc;
		p = next;
	}
	if (written)
		*written = p.n;
	if (dbi == DBI_DOCS)
		m->inline_docs = p.inline_docs;
	return 0;
}

/* Position cur at p's next key: the first one, or where the last batch
 * stopped. */
static int pos_first(MDB_cursor *cur, struct pos *p, MDB_val *k, MDB_val *v)
{
	if (!p->started) {
		p->started = 1;
		return mdb_cursor_get(cur, k, v, MDB_FIRST);
	}
	*k = (MDB_val){ p->len, p->key };
	return mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
}

/* Stop the batch before key k: the next one starts there. */
static int pos_stop(struct pos *p, const MDB_val *k)
{
	if (k->mv_size > sizeof(p->key))
		return oplog_error__set(OPLOG_ECORRUPT, "migrate: a key of %zu bytes", k->mv_size);
	memcpy(p->key, k->mv_data, k->mv_size);
	p->len = k->mv_size;
	return 0;
}

static int pos_end(struct pos *p, int rc)
{
	if (rc != MDB_NOTFOUND)
		return oplog_store__migrate_read_err(rc, p->dbi);
	p->done = 1;
	return 0;
}

/*
 * A batch of a pass that reads its old tree in key order (every pass but
 * log's merge): each record goes to fn until the batch is full. With
 * glen > 0, records whose keys share their first glen bytes are a group:
 * fn sees them all, then group writes them, and a batch ends only between
 * groups, so that a group is never split. A tree the old store does not
 * have (lost and replay came late in schema 1) has nothing to copy.
 */
static int walk(struct mig *m, struct batch *bt, record_fn fn, size_t glen, group_fn group)
{
	struct pos *p = bt->p;
	MDB_cursor *cur = NULL;
	uint8_t prefix[MIG_KEY_MAX];
	MDB_val k, v;
	int at, rc = 0;   /* at: the cursor's last move, 0 while it is on a record */

	if (!m->has_old[p->dbi]) {
		p->done = 1;
		return 0;
	}
	if ((rc = mdb_cursor_open(m->old_txn, m->old_dbi[p->dbi], &cur)))
		return oplog_store__migrate_read_err(rc, p->dbi);
	at = pos_first(cur, p, &k, &v);
	while (at == 0) {
		if (batch_full(bt)) {
			rc = pos_stop(p, &k);
			goto done;
		}
		if (k.mv_size < glen) {
			rc = corrupt(p->dbi, "a key too short");
			goto done;
		}
		memcpy(prefix, k.mv_data, glen);
		bt->group_n = 0;
		do {
			if ((rc = fn(m, bt, &k, &v)))
				goto done;
			bt->group_n++;
			at = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		} while (at == 0 && glen && key_has_prefix(&k, prefix, glen));
		if (at && at != MDB_NOTFOUND)
			break;
		if (group && (rc = group(m, bt, prefix)))
			goto done;
	}
	rc = pos_end(p, at);
done:
	mdb_cursor_close(cur);
	return rc;
}

/* A tree whose format did not change, byte for byte (meta without its
 * schema record, which is written last). Keys come in order: appended. */
static int copy_record(struct mig *m, struct batch *bt, const MDB_val *k, const MDB_val *v)
{
	int dbi = bt->p->dbi;
	MDB_val nk = *k, nv = *v;

	(void)m;
	if (dbi == DBI_META && k->mv_size == 6 && memcmp(k->mv_data, "schema", 6) == 0)
		return 0;
	return emit(bt, &nk, &nv, oplog_store__dbi_flags[dbi] & MDB_DUPSORT ? 0 : MDB_APPEND, NULL);
}

/* One dataset's log cursor, moved by op: key->mv_data NULL once it has
 * left that dataset (nothing left to merge from it). */
static int log_move(struct mig *m, size_t i, MDB_cursor *cur, MDB_val *key, MDB_val *val,
                    MDB_cursor_op op)
{
	uint8_t kb[4];
	int rc = mdb_cursor_get(cur, key, val, op);

	put_u32(kb, m->ds[i]);
	if (rc == 0 && !key_has_prefix(key, kb, 4))
		rc = MDB_NOTFOUND;
	if (rc == MDB_NOTFOUND)
		key->mv_data = NULL;
	return rc && rc != MDB_NOTFOUND ? oplog_store__migrate_read_err(rc, DBI_LOG) : 0;
}

/*
 * log: v1 ds | id -> message becomes id -> message. Each dataset's ids
 * rise, so a merge of the datasets (one cursor each, datasets are few)
 * gives the ids in order, and every put is an append. p->key holds the
 * next id to copy.
 */
static int pass_log(struct mig *m, struct batch *bt)
{
	struct pos *p = bt->p;
	MDB_cursor **cur = NULL;
	MDB_val *key = NULL, *val = NULL;
	uint64_t from = p->started ? get_u64(p->key) : 0;
	uint8_t kb[12];
	int rc = 0;

	if (m->n_ds == 0) {
		p->done = 1;
		return 0;
	}
	cur = calloc(m->n_ds, sizeof(*cur));
	key = calloc(m->n_ds, sizeof(*key));
	val = calloc(m->n_ds, sizeof(*val));
	if (!cur || !key || !val) {
		rc = oplog_error__set(OPLOG_ENOMEM, "migrate: out of memory");
		goto done;
	}
	p->started = 1;
	for (size_t i = 0; i < m->n_ds; i++) {
		if ((rc = mdb_cursor_open(m->old_txn, m->old_dbi[DBI_LOG], &cur[i]))) {
			rc = oplog_store__migrate_read_err(rc, DBI_LOG);
			goto done;
		}
		put_u64(put_u32(kb, m->ds[i]), from);
		key[i] = (MDB_val){ 12, kb };
		if ((rc = log_move(m, i, cur[i], &key[i], &val[i], MDB_SET_RANGE)))
			goto done;
	}
	for (;;) {
		size_t at = m->n_ds;
		uint64_t id = 0;
		uint8_t ib[8];
		MDB_val k = { 8, ib };

		for (size_t i = 0; i < m->n_ds; i++) {
			uint64_t x;
			if (!key[i].mv_data)
				continue;
			if (key[i].mv_size != 12) {
				rc = corrupt(DBI_LOG, "a key that is not ds | id");
				goto done;
			}
			x = get_u64((uint8_t *)key[i].mv_data + 4);
			if (at == m->n_ds || x < id) {
				at = i;
				id = x;
			}
		}
		if (at == m->n_ds) {
			p->done = 1;
			break;
		}
		if (batch_full(bt)) {
			put_u64(p->key, id);
			p->len = 8;
			break;
		}
		key_log(ib, id);
		if ((rc = emit(bt, &k, &val[at], MDB_APPEND, "one log id under two datasets")) ||
		    (rc = log_move(m, at, cur[at], &key[at], &val[at], MDB_NEXT)))
			goto done;
	}
	rc = 0;
done:
	for (size_t i = 0; cur && i < m->n_ds; i++)
		if (cur[i])
			mdb_cursor_close(cur[i]);
	free(cur);
	free(key);
	free(val);
	return rc;
}

/* entries: v1 ds | hash -> id becomes epoch | ds | hash[0..8) -> id
 * (DUPSORT: inserted, not appended, as apply does). */
static int entries_record(struct mig *m, struct batch *bt, const MDB_val *k, const MDB_val *v)
{
	const uint8_t *key = k->mv_data;
	uint8_t kb[ENTRIES_KEY_LEN];
	MDB_val nk = { ENTRIES_KEY_LEN, kb }, nv = *v;
	uint64_t id;

	(void)m;
	if (k->mv_size != V1_HASH_KEY || v->mv_size != 8 || (id = get_u64(v->mv_data)) == 0)
		return corrupt(DBI_ENTRIES, "a record that is not ds | hash -> id");
	key_entries(kb, log_epoch(id), get_u32(key), key + 4);
	return emit(bt, &nk, &nv, 0, NULL);
}

/* by_seq: the same key; the value gains the log id in front of the prev. */
static int by_seq_record(struct mig *m, struct batch *bt, const MDB_val *k, const MDB_val *v)
{
	const uint8_t *key = k->mv_data;
	uint8_t vb[SEQ_VAL_MIN + OPLOG_HASH_LEN];
	MDB_val nk = *k, nv = { SEQ_VAL_MIN + v->mv_size, vb };
	uint64_t id;
	int rc;

	if (k->mv_size != 16 + OPLOG_HASH_LEN || (v->mv_size != 0 && v->mv_size != OPLOG_HASH_LEN))
		return corrupt(DBI_BY_SEQ, "a record that is not ds | nid | seq | hash -> prev");
	if ((rc = old_entry_id_of(m, DBI_BY_SEQ, get_u32(key), key + 16, &id)))
		return rc;
	put_u64(vb, id);
	if (v->mv_size)
		memcpy(vb + SEQ_VAL_MIN, v->mv_data, OPLOG_HASH_LEN);
	return emit(bt, &nk, &nv, MDB_APPEND, NULL);
}

static int hlc_item_cmp(const void *a, const void *b)
{
	const struct hlc_item *x = a, *y = b;

	if (x->nid != y->nid)
		return x->nid < y->nid ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int group_push(struct mig *m, size_t n, uint32_t nid, uint64_t id)
{
	int rc = oplog_store__reserve(&m->group, &m->group_cap, n, sizeof(*m->group), 64,
	                              "migrate");

	if (rc)
		return rc;
	m->group[n] = (struct hlc_item){ nid, id };
	return 0;
}

/*
 * by_hlc (v1 ds | wall | logic | escaped name | hash -> nid | seq) and
 * by_node (v1 ds | nid | wall | logic | hash -> seq) become ds | wall |
 * logic | nid | id and ds | nid | wall | logic | id with empty values.
 * Both orders agree up to the instant; within one (same ds, wall, logic
 * and, for by_node, nid) they do not, so each such group is read whole
 * (hlc_record), then sorted and appended (hlc_group).
 */
static size_t hlc_glen(int dbi)
{
	return dbi == DBI_BY_NODE ? 20 : 16;   /* ds | [nid |] wall | logic */
}

static int hlc_record(struct mig *m, struct batch *bt, const MDB_val *k, const MDB_val *v)
{
	int dbi = bt->p->dbi, node = dbi == DBI_BY_NODE;
	const uint8_t *key = k->mv_data;
	uint64_t id;
	int rc;

	if (bt->group_n == 0 && k->mv_size < hlc_glen(dbi) + OPLOG_HASH_LEN)
		return corrupt(dbi, "a key too short");
	if (node ? (k->mv_size != 20 + OPLOG_HASH_LEN || v->mv_size != 8)
	         : (k->mv_size < 16 + 2 + OPLOG_HASH_LEN || v->mv_size != 12))
		return corrupt(dbi, "a record of the wrong size");
	if ((rc = old_entry_id_of(m, dbi, get_u32(key), key + k->mv_size - OPLOG_HASH_LEN, &id)))
		return rc;
	return group_push(m, bt->group_n, node ? get_u32(key + 4) : get_u32(v->mv_data), id);
}

static int hlc_group(struct mig *m, struct batch *bt, const uint8_t *prefix)
{
	int node = bt->p->dbi == DBI_BY_NODE;
	uint32_t ds = get_u32(prefix), nid = node ? get_u32(prefix + 4) : 0;
	uint64_t wall = get_u64(prefix + (node ? 8 : 4));
	uint32_t logic = get_u32(prefix + (node ? 16 : 12));
	uint8_t kb[HLC_KEY_LEN];
	MDB_val nk = { HLC_KEY_LEN, kb }, empty = { 0, NULL };
	int rc = 0;

	qsort(m->group, bt->group_n, sizeof(*m->group), hlc_item_cmp);
	for (size_t i = 0; i < bt->group_n && rc == 0; i++) {
		if (node)
			key_node_hlc(kb, ds, nid, wall, logic, m->group[i].id);
		else
			key_hlc(kb, ds, wall, logic, m->group[i].nid, m->group[i].id);
		rc = emit(bt, &nk, &empty, MDB_APPEND, "one entry indexed twice");
	}
	return rc;
}

/* A name from the old ids tree, borrowed from the old txn. */
static int old_name(struct mig *m, int kind, uint32_t id, struct oplog_slice *name)
{
	uint8_t kb[5];
	MDB_val k = { 5, kb }, v;
	int rc;

	kb[0] = (uint8_t)kind;
	put_u32(kb + 1, id);
	if ((rc = mdb_get(m->old_txn, m->old_dbi[DBI_IDS], &k, &v)))
		return rc == MDB_NOTFOUND ? corrupt(DBI_IDS, "no name for an id in use")
		                          : oplog_store__migrate_read_err(rc, DBI_IDS);
	*name = (struct oplog_slice){ v.mv_data, v.mv_size };
	return 0;
}

/*
 * docs: v1 keys ds | SHA-256(col, key) are cut to ds | its first
 * DOC_HASH_LEN bytes, which keeps their order. The record becomes the
 * winner's log id while the winner is in the log; a winner that is not
 * (pruned, or applied below the prune boundary) stays inline, data and
 * all. Two documents whose cut keys meet cannot both be kept: ECORRUPT.
 * The record is written by doc_put, as apply writes it; the batch counts
 * the old record, as doc_put does not hand back what it wrote.
 */
static int docs_record(struct mig *m, struct batch *bt, const MDB_val *k, const MDB_val *v)
{
	const uint8_t *r = v->mv_data;
	struct oplog_entry e;
	uint8_t kb[DOC_KEY_LEN];
	MDB_val nk = { DOC_KEY_LEN, kb }, nv;
	uint16_t cl, kl;
	uint32_t dl, ds, nid;
	uint64_t id;
	int rc;

	if (k->mv_size != 4 + OPLOG_HASH_LEN || v->mv_size < V1_DOC_HDR)
		return corrupt(DBI_DOCS, "a record too short");
	cl = get_u16(r + 57);
	kl = get_u16(r + 59);
	dl = get_u32(r + 61);
	if (v->mv_size != (size_t)V1_DOC_HDR + cl + kl + dl ||
	    (r[56] != OPLOG_OP_PUT && r[56] != OPLOG_OP_DEL))
		return corrupt(DBI_DOCS, "a malformed record");
	memset(&e, 0, sizeof(e));
	ds = get_u32(k->mv_data);
	nid = get_u32(r + 12);
	e.wall = get_u64(r);
	e.logic = get_u32(r + 8);
	e.seq = get_u64(r + 16);
	e.hash = r + 24;
	e.op = (enum oplog_op)r[56];
	e.col = (struct oplog_slice){ r + V1_DOC_HDR, cl };
	e.key = (struct oplog_slice){ r + V1_DOC_HDR + cl, kl };
	if (e.op == OPLOG_OP_PUT)
		e.data = (struct oplog_slice){ r + V1_DOC_HDR + cl + kl, dl };
	if ((rc = old_name(m, KIND_DS, ds, &e.ds)) ||
	    (rc = old_name(m, KIND_NODE, nid, &e.node)))
		return rc;
	rc = old_entry_id(m, ds, e.hash, &id);
	if (rc == OPLOG_ENOTFOUND) {
		id = 0;
		bt->p->inline_docs++;
	} else if (rc) {
		return rc;
	}
	memcpy(kb, k->mv_data, sizeof(kb));
	rc = mdb_get(bt->txn, m->dbi[DBI_DOCS], &nk, &nv);
	if (rc == 0)
		return corrupt(DBI_DOCS, "two documents whose key hashes share their first "
		               "bytes (the new key keeps fewer)");
	if (rc != MDB_NOTFOUND)
		return oplog_store__mdb_err(rc, "migrate: mdb_get(docs)");
	if ((rc = oplog_store__doc_put(bt->out, kb, &e, nid, id, MDB_APPEND)))
		return rc;
	batch_count(bt, k, v);
	return 0;
}

/* The schema record, last: the new file is complete once it is there. */
static int pass_schema(struct mig *m, struct batch *bt)
{
	uint8_t sb[4];
	MDB_val k = { 6, "schema" }, v = { 4, sb };
	int rc;

	(void)m;
	put_u32(sb, OPLOG_STORE_SCHEMA);
	if ((rc = emit(bt, &k, &v, 0, NULL)))
		return rc;
	bt->p->done = 1;
	return 0;
}

/* Every tree of the new env (migrate_int.h). */
int oplog_store__migrate_build(struct mig *m, uint64_t *entries)
{
	static const int verbatim[] = {
		DBI_META, DBI_NAMES, DBI_IDS, DBI_HEADS, DBI_FORKS, DBI_BREAKS, DBI_OFFSETS,
		DBI_REJECTS, DBI_COUNTERS, DBI_LOST, DBI_REPLAY
	};
	const struct pass log_pass = { .whole = pass_log }, schema_pass = { .whole = pass_schema },
		entries_pass = { .record = entries_record }, seq_pass = { .record = by_seq_record },
		hlc_pass = { .record = hlc_record, .glen = hlc_glen(DBI_BY_HLC), .group = hlc_group },
		node_pass = { .record = hlc_record, .glen = hlc_glen(DBI_BY_NODE), .group = hlc_group },
		docs_pass = { .record = docs_record }, copy_pass = { .record = copy_record };
	uint64_t n_log = 0, n_entries = 0, n_seq = 0, n_hlc = 0, n_node = 0;
	int rc;

	if ((rc = old_datasets(m)) ||
	    (rc = run_pass(m, &log_pass, DBI_LOG, &n_log)) ||
	    (rc = run_pass(m, &entries_pass, DBI_ENTRIES, &n_entries)) ||
	    (rc = run_pass(m, &seq_pass, DBI_BY_SEQ, &n_seq)) ||
	    (rc = run_pass(m, &hlc_pass, DBI_BY_HLC, &n_hlc)) ||
	    (rc = run_pass(m, &node_pass, DBI_BY_NODE, &n_node)) ||
	    (rc = run_pass(m, &docs_pass, DBI_DOCS, NULL)))
		return rc;
	for (size_t i = 0; i < sizeof(verbatim) / sizeof(verbatim[0]); i++)
		if ((rc = run_pass(m, &copy_pass, verbatim[i], NULL)))
			return rc;
	if (n_entries != n_log || n_seq != n_log || n_hlc != n_log || n_node != n_log)
		return oplog_error__set(OPLOG_ECORRUPT, "migrate: the schema-1 store does not hold "
		                        "one index record per entry (log %llu, entries %llu, by_seq "
		                        "%llu, by_hlc %llu, by_node %llu); check it with the oplogd "
		                        "that wrote it (verify)", (unsigned long long)n_log,
		                        (unsigned long long)n_entries, (unsigned long long)n_seq,
		                        (unsigned long long)n_hlc, (unsigned long long)n_node);
	if ((rc = run_pass(m, &schema_pass, DBI_META, NULL)))
		return rc;
	*entries = n_log;
	return 0;
}
