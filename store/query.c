/*
 * query.c: the store's read side. Every query runs in its own read
 * transaction, so it sees one committed state and never blocks a writer.
 */
#include <stdio.h>
#include <stdlib.h>

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
	*yes = name.len == e.ds.len && memcmp(name.ptr, e.ds.ptr, name.len) == 0;
	return 0;
}

int oplog_store__entry_bytes(struct oplog_store *s, MDB_txn *txn, uint32_t ds,
                             const uint8_t *hash, MDB_val *msg, uint64_t *log_id)
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
			if (yes) {
				if (log_id)
					*log_id = id;
				goto done;
			}
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

	if ((rc = oplog_store__entry_bytes(s, txn, ds, hash, &v, NULL)) ||
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

/* Begin a read txn and resolve a dataset name. ENOTFOUND when unknown. */
static int begin_ds(struct oplog_store *s, struct oplog_slice ds, MDB_txn **txn, uint32_t *dsid)
{
	int rc = oplog_store__txn_begin(s, MDB_RDONLY, txn);

	if (rc)
		return rc;
	if ((rc = oplog_store__id_lookup(s, *txn, KIND_DS, ds, dsid))) {
		mdb_txn_abort(*txn);
		*txn = NULL;
	}
	return rc;
}

/* Lists of an unknown dataset are empty, not an error. */
#define EMPTY_IF_UNKNOWN(rc) ((rc) == OPLOG_ENOTFOUND ? 0 : (rc))

int oplog_store_get(struct oplog_store *s, struct oplog_slice ds,
                    const uint8_t hash[OPLOG_HASH_LEN], oplog_entry_cb cb, void *arg)
{
	MDB_txn *txn;
	uint32_t dsid;
	int rc = begin_ds(s, ds, &txn, &dsid);

	if (rc)
		return rc;
	rc = oplog_store__emit(s, txn, dsid, hash, cb, arg);
	mdb_txn_abort(txn);
	return rc;
}

/* ---- scans ---------------------------------------------------------- */

/* Node names order bytewise, shorter first. */
static int slice_cmp(struct oplog_slice a, struct oplog_slice b)
{
	size_t n = a.len < b.len ? a.len : b.len;
	int c = n ? memcmp(a.ptr, b.ptr, n) : 0;

	return c ? c : (a.len > b.len) - (a.len < b.len);
}

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
	if (c->n_ties == c->cap_ties) {
		size_t cap = c->cap_ties ? c->cap_ties * 2 : 16;
		void *p = realloc(c->ties, cap * sizeof(*c->ties));
		if (!p)
			return oplog_error__set(OPLOG_ENOMEM, "scan: out of memory");
		c->ties = p;
		c->cap_ties = cap;
	}
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
	int rc = begin_ds(s, ds, &c.txn, &c.ds);

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
	int rc = begin_ds(s, ds, &c.txn, &c.ds);

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
	int rc = begin_ds(s, ds, &c.txn, &c.ds);

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
	int rc;

	if (!id && seq && oplog_store__seq_get(s, txn, ds, nid, seq, cur, &id, NULL) != 0)
		id = 0;
	if (id)
		return oplog_store__emit_id(s, txn, id, chain_fn, st);
	rc = oplog_store__emit(s, txn, ds, cur, chain_fn, st);
	return rc;
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
	if ((rc = begin_ds(s, ds, &txn, &dsid)))
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

/* ---- nodes, datasets, documents, forks, breaks ---------------------- */

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

static void *rows_push(struct rows *r)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		void *p = realloc(r->v, cap * r->elem);
		if (!p)
			return NULL;
		r->v = p;
		r->cap = cap;
	}
	return (char *)r->v + r->elem * r->n++;
}

static int node_row_fn(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct rows *r = arg;
	struct node_row *row = rows_push(r);
	int rc;

	if (!row)
		return oplog_error__set(OPLOG_ENOMEM, "out of memory");
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
		if (g->n == g->cap) {
			size_t cap = g->cap ? g->cap * 2 : 8;
			void *p = realloc(g->gaps, cap * sizeof(*g->gaps));
			if (!p)
				return oplog_error__set(OPLOG_ENOMEM, "out of memory");
			g->gaps = p;
			g->cap = cap;
		}
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
	int rc = begin_ds(s, ds, &r.txn, &dsid);

	if (rc)
		return EMPTY_IF_UNKNOWN(rc);
	put_u32(kb, dsid);
	if ((rc = oplog_store__walk(s, r.txn, DBI_HEADS, kb, 4, 4, node_row_fn, &r)))
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
	int rc = begin_ds(s, ds, &w.txn, &dsid);

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
	uint8_t kb[4];
	uint32_t dsid;
	int rc = begin_ds(s, ds, &w.txn, &dsid);

	if (rc)
		return EMPTY_IF_UNKNOWN(rc);
	put_u32(kb, dsid);
	rc = oplog_store__walk(s, w.txn, DBI_DOCS, kb, 4, 4, doc_fn, &w);
	mdb_txn_abort(w.txn);
	return rc;
}

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
		return oplog_error__set(OPLOG_ENOMEM, "out of memory");
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
	uint8_t kb[4];
	uint32_t dsid;
	int rc = begin_ds(s, ds, &r->txn, &dsid);

	if (rc)
		return rc;
	put_u32(kb, dsid);
	if ((rc = oplog_store__walk(s, r->txn, dbi, kb, 4, 4, seq_row_fn, r)) == 0 && r->n)
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

/* ---- stats, offsets, rejects ---------------------------------------- */

static uint64_t counter(struct oplog_store *s, MDB_txn *txn, const char *name)
{
	MDB_val k = { strlen(name), (void *)name }, v;

	if (mdb_get(txn, s->dbi[DBI_COUNTERS], &k, &v) || v.mv_size != 8)
		return 0;
	return get_u64(v.mv_data);
}

static uint64_t next_id(struct oplog_store *s, MDB_txn *txn, int kind)
{
	char name[10] = "next_id.?";
	MDB_val k = { 9, name }, v;

	name[8] = (char)kind;
	if (mdb_get(txn, s->dbi[DBI_META], &k, &v) || v.mv_size != 4)
		return 1;
	return get_u32(v.mv_data);
}

int oplog_store_stats(struct oplog_store *s, struct oplog_stats *out)
{
	MDB_txn *txn;
	MDB_stat st;
	MDB_envinfo info;
	char name[64];
	int rc = oplog_store__txn_begin(s, MDB_RDONLY, &txn);

	memset(out, 0, sizeof(*out));
	if (rc)
		return rc;
	if ((rc = mdb_stat(txn, s->dbi[DBI_BY_SEQ], &st)) == 0)
		out->entries = st.ms_entries;
	if (rc == 0 && (rc = mdb_stat(txn, s->dbi[DBI_REJECTS], &st)) == 0)
		out->rejects_kept = st.ms_entries;
	if (rc) {
		mdb_txn_abort(txn);
		return oplog_store__mdb_err(rc, "mdb_stat");
	}
	out->datasets = next_id(s, txn, KIND_DS) - 1;
	out->nodes = next_id(s, txn, KIND_NODE) - 1;
	out->applied = counter(s, txn, CTR_APPLIED);
	out->duplicates = counter(s, txn, CTR_DUPLICATES);
	out->late = counter(s, txn, CTR_LATE);
	out->forks = counter(s, txn, CTR_FORKS);
	out->chain_breaks = counter(s, txn, CTR_CHAIN_BREAKS);
	out->below_boundary = counter(s, txn, CTR_BELOW_BOUNDARY);
	for (int r = 1; r < OPLOG_R__COUNT; r++) {
		snprintf(name, sizeof(name), CTR_REJECTED "%s", oplog_reason_name(r));
		out->rejected[r] = counter(s, txn, name);
	}
	mdb_env_info(s->env, &info);
	mdb_env_stat(s->env, &st);
	out->store_bytes = (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
	out->map_size = info.me_mapsize;
	mdb_txn_abort(txn);
	return 0;
}

struct offset_walk {
	oplog_offset_cb cb;
	void           *arg;
};

static int offset_fn(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct offset_walk *w = arg;
	const uint8_t *kb = k->mv_data;
	char topic[256];
	size_t tl = k->mv_size - 5;

	if (k->mv_size < 6 || tl >= sizeof(topic) || kb[tl] != 0 || v->mv_size != 8)
		return oplog_error__set(OPLOG_ECORRUPT, "offsets: malformed record");
	memcpy(topic, kb, tl);
	topic[tl] = 0;
	return w->cb(topic, (int32_t)get_u32(kb + tl + 1), (int64_t)get_u64(v->mv_data), w->arg);
}

/* Every record of one DBI, in key order, in a read transaction of its own. */
static int walk_all(struct oplog_store *s, int dbi, oplog_store__walk_fn fn, void *arg)
{
	MDB_txn *txn;
	int rc = oplog_store__txn_begin(s, MDB_RDONLY, &txn);

	if (rc)
		return rc;
	rc = oplog_store__walk(s, txn, dbi, NULL, 0, 0, fn, arg);
	mdb_txn_abort(txn);
	return rc;
}

int oplog_store_offsets(struct oplog_store *s, oplog_offset_cb cb, void *arg)
{
	struct offset_walk w = { cb, arg };

	return walk_all(s, DBI_OFFSETS, offset_fn, &w);
}

int oplog_store_offset(struct oplog_store *s, const char *topic, int32_t partition,
                       int64_t *next_offset)
{
	uint8_t kb[KEY_OFFSET_MAX];
	MDB_val k = { 0, kb }, v;
	MDB_txn *txn;
	int rc;

	if (strlen(topic) > 255)
		return oplog_error__set(OPLOG_EINVAL, "topic name too long");
	k.mv_size = key_offset(kb, topic, partition);
	if ((rc = oplog_store__txn_begin(s, MDB_RDONLY, &txn)))
		return rc;
	rc = mdb_get(txn, s->dbi[DBI_OFFSETS], &k, &v);
	if (rc == 0 && v.mv_size == 8)
		*next_offset = (int64_t)get_u64(v.mv_data);
	else
		rc = rc == MDB_NOTFOUND ? OPLOG_ENOTFOUND : oplog_store__mdb_err(rc ? rc : MDB_CORRUPTED, "offsets");
	mdb_txn_abort(txn);
	return rc;
}

struct lost_walk {
	oplog_lost_cb cb;
	void         *arg;
};

static int lost_fn(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct lost_walk *w = arg;
	const uint8_t *kb = k->mv_data;
	char topic[256];
	struct oplog_lost l;
	size_t tl = k->mv_size - 13;

	if (k->mv_size < 14 || tl >= sizeof(topic) || kb[tl] != 0 || v->mv_size != 16)
		return oplog_error__set(OPLOG_ECORRUPT, "lost: malformed record");
	memcpy(topic, kb, tl);
	topic[tl] = 0;
	l.topic = topic;
	l.partition = (int32_t)get_u32(kb + tl + 1);
	l.from = (int64_t)get_u64(kb + tl + 5);
	l.to = (int64_t)get_u64(v->mv_data);
	l.at_ms = get_u64((const uint8_t *)v->mv_data + 8);
	return w->cb(&l, w->arg);
}

int oplog_store_lost(struct oplog_store *s, oplog_lost_cb cb, void *arg)
{
	struct lost_walk w = { cb, arg };

	return walk_all(s, DBI_LOST, lost_fn, &w);
}

int oplog_store_rejects(struct oplog_store *s, uint64_t limit, oplog_reject_cb cb, void *arg)
{
	MDB_txn *txn;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int rc = oplog_store__txn_begin(s, MDB_RDONLY, &txn);

	if (rc)
		return rc;
	if ((rc = mdb_cursor_open(txn, s->dbi[DBI_REJECTS], &cur))) {
		rc = oplog_store__mdb_err(rc, "mdb_cursor_open(rejects)");
		goto done;
	}
	/* Step back `limit` records from the newest, then read forward. */
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	for (uint64_t i = 1; rc == 0 && (!limit || i < limit); i++) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
		if (rc == MDB_NOTFOUND) {
			rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
			break;
		}
	}
	for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *p = v.mv_data;
		struct oplog_reject_rec r;
		uint16_t sl, dl;

		if (v.mv_size < 22 || k.mv_size != 8)
			goto bad;
		sl = get_u16(p + 10);
		dl = get_u16(p + 12);
		if (v.mv_size < 22u + sl + dl)
			goto bad;
		r = (struct oplog_reject_rec){
			.id = get_u64(k.mv_data), .time_ms = get_u64(p),
			.reason = p[8], .field = p[9], .size = get_u64(p + 14),
			.source = { p + 22, sl }, .detail = { p + 22 + sl, dl },
			.raw = { p + 22 + sl + dl, v.mv_size - 22 - sl - dl },
		};
		if ((rc = cb(&r, arg)))
			goto done;
	}
	rc = rc == MDB_NOTFOUND ? 0 : oplog_store__mdb_err(rc, "rejects");
	goto done;
bad:
	rc = oplog_error__set(OPLOG_ECORRUPT, "rejects: malformed record");
done:
	if (cur)
		mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rc;
}

/* One record of the replay DBI, copied out: 0, OPLOG_ENOTFOUND or EIO. */
static int replay_get(struct oplog_store *s, const uint8_t *key, size_t klen, void *out,
                      size_t cap, size_t *len)
{
	MDB_val k = { klen, (void *)key }, v;
	MDB_txn *txn;
	int rc = oplog_store__txn_begin(s, MDB_RDONLY, &txn);

	if (rc)
		return rc;
	rc = mdb_get(txn, s->dbi[DBI_REPLAY], &k, &v);
	if (rc == 0) {
		*len = v.mv_size < cap ? v.mv_size : cap;
		memcpy(out, v.mv_data, *len);
	} else {
		rc = rc == MDB_NOTFOUND ? OPLOG_ENOTFOUND : oplog_store__mdb_err(rc, "replay");
	}
	mdb_txn_abort(txn);
	return rc;
}

int oplog_store_cursor(struct oplog_store *s, const char *topic, int32_t partition,
                       int64_t *next, int64_t *end)
{
	uint8_t kb[1 + KEY_OFFSET_MAX], vb[16];
	size_t len = 0;
	int rc;

	if (strlen(topic) > 255)
		return oplog_error__set(OPLOG_EINVAL, "topic name too long");
	kb[0] = REPLAY_CURSOR;
	if ((rc = replay_get(s, kb, 1 + key_offset(kb + 1, topic, partition), vb, 16, &len)))
		return rc;
	if (len != 16)
		return oplog_error__set(OPLOG_ECORRUPT, "replay: malformed cursor");
	*next = (int64_t)get_u64(vb);
	*end = (int64_t)get_u64(vb + 8);
	return 0;
}

int oplog_store_cursor_range(struct oplog_store *s, char *buf, size_t cap)
{
	uint8_t kind = REPLAY_RANGE;
	size_t len = 0;
	int rc;

	if (cap == 0)
		return oplog_error__set(OPLOG_EINVAL, "no room");
	if ((rc = replay_get(s, &kind, 1, buf, cap - 1, &len)))
		return rc;
	buf[len] = 0;
	return 0;
}
