/*
 * apply.c: applying a batch by the rules of apply-semantics (the
 * documents' rule 6 is apply_doc.c, the batch itself batch.c).
 *
 * One batch is one LMDB write transaction: entries in batch order, then
 * rejects, counters and offsets. Any failure aborts the whole transaction,
 * so a batch is applied completely or not at all.
 */
#include <stdio.h>
#include <stdlib.h>

#include "oplog/clock.h"
#include "oplog/error.h"
#include "apply_int.h"

/* ---- applying ------------------------------------------------------- */

/* The entries present at one (ds, node, seq), from by_seq. */
struct seq_group {
	size_t   n, cap;
	uint8_t (*hash)[OPLOG_HASH_LEN];
	uint8_t (*prev)[OPLOG_HASH_LEN];  /* zeroes at seq 1 */
};

/* A node state read or changed by this batch; written once before commit. */
struct ns_slot {
	uint32_t          ds, nid;
	int               exists, dirty;
	struct node_state ns;
};

/*
 * Keys of one tree that nothing reads while the batch is applied: kept
 * here, sorted, and put in order through one cursor at the end, so that
 * consecutive puts land on the same pages.
 */
struct pending {
	uint8_t *rec;          /* n records of klen + vlen bytes */
	size_t   n, cap;
	size_t   klen, vlen;
};

struct apply {
	struct oplog_store      *s;
	MDB_txn                 *txn;
	MDB_cursor              *seq_cur;
	MDB_cursor              *log_cur;
	struct pending           hlc, node, ents;
	struct doc_table         docs;
	struct oplog_apply_stats st;
	struct seq_group         before, here, after;  /* seq-1, seq, seq+1 */
	struct ns_slot          *slots;
	size_t                   n_slots, cap_slots;
	uint32_t                *slot_tab;  /* slot index + 1; 0 = empty */
	size_t                   tab_cap;
	uint64_t                 next_log;  /* log id of the next new entry */
};

static int put(struct apply *a, int dbi, const void *k, size_t klen,
               const void *v, size_t vlen, unsigned flags)
{
	MDB_val key = { klen, (void *)k }, val = { vlen, (void *)v };
	int rc = mdb_put(a->txn, a->s->dbi[dbi], &key, &val, flags);

	if (rc && !(rc == MDB_KEYEXIST && (flags & (MDB_NOOVERWRITE | MDB_NODUPDATA)))) {
		char what[32];
		snprintf(what, sizeof(what), "mdb_put(%s)", oplog_store__dbi_names[dbi]);
		return oplog_store__mdb_err(rc, what);
	}
	return 0;
}

static size_t slot_hash(uint32_t ds, uint32_t nid, size_t cap)
{
	return (size_t)(((uint64_t)ds << 32 | nid) * 0x9E3779B97F4A7C15ULL >> 32) & (cap - 1);
}

/* Enter slot i in the table (which has room: at most half full). */
static void slot_index(struct apply *a, size_t i)
{
	size_t j = slot_hash(a->slots[i].ds, a->slots[i].nid, a->tab_cap);

	while (a->slot_tab[j])
		j = (j + 1) & (a->tab_cap - 1);
	a->slot_tab[j] = (uint32_t)i + 1;
}

/* The batch's copy of (ds, nid)'s node state, loaded on first use. */
static struct ns_slot *ns_slot(struct apply *a, uint32_t ds, uint32_t nid, int *rc)
{
	struct ns_slot *sl;
	size_t j;

	if (a->tab_cap) {
		for (j = slot_hash(ds, nid, a->tab_cap); a->slot_tab[j]; j = (j + 1) & (a->tab_cap - 1)) {
			sl = &a->slots[a->slot_tab[j] - 1];
			if (sl->ds == ds && sl->nid == nid)
				return sl;
		}
	}
	if (a->n_slots == a->cap_slots || (a->n_slots + 1) * 2 > a->tab_cap) {
		size_t cap = a->cap_slots ? a->cap_slots * 2 : 64;
		void *p = realloc(a->slots, cap * sizeof(*a->slots));
		void *t = p ? calloc(cap * 2, sizeof(*a->slot_tab)) : NULL;
		if (p)
			a->slots = p;
		if (!t) {
			*rc = oplog_error__set(OPLOG_ENOMEM, "apply: out of memory");
			return NULL;
		}
		free(a->slot_tab);
		a->slot_tab = t;
		a->cap_slots = cap;
		a->tab_cap = cap * 2;
		for (size_t i = 0; i < a->n_slots; i++)
			slot_index(a, i);
	}
	sl = &a->slots[a->n_slots];
	*sl = (struct ns_slot){ .ds = ds, .nid = nid };
	*rc = oplog_store__node_state_get(a->s, a->txn, ds, nid, &sl->ns);
	if (*rc == OPLOG_ENOTFOUND)
		memset(&sl->ns, 0, sizeof(sl->ns));
	else if (*rc)
		return NULL;
	sl->exists = *rc == 0;
	*rc = 0;
	slot_index(a, a->n_slots++);
	return sl;
}

static int write_node_states(struct apply *a)
{
	uint8_t kb[8], vb[NODE_STATE_LEN];
	int rc;

	for (size_t i = 0; i < a->n_slots; i++) {
		if (!a->slots[i].dirty)
			continue;
		put_u32(put_u32(kb, a->slots[i].ds), a->slots[i].nid);
		oplog_store__node_state_encode(&a->slots[i].ns, vb);
		if ((rc = put(a, DBI_HEADS, kb, 8, vb, NODE_STATE_LEN, 0)))
			return rc;
	}
	return 0;
}

/* prev is the by_seq value: id | prev (absent at seq 1). */
static int group_push(struct seq_group *g, const uint8_t *hash, const MDB_val *prev)
{
	size_t hcap = g->cap, pcap = g->cap;
	int rc;

	/* Both arrays grow together; g->cap moves once both have. */
	if ((rc = oplog_store__reserve(&g->hash, &hcap, g->n, OPLOG_HASH_LEN, 8, "apply")) ||
	    (rc = oplog_store__reserve(&g->prev, &pcap, g->n, OPLOG_HASH_LEN, 8, "apply")))
		return rc;
	g->cap = hcap;
	memcpy(g->hash[g->n], hash, OPLOG_HASH_LEN);
	if (prev->mv_size == SEQ_VAL_MIN + OPLOG_HASH_LEN)
		memcpy(g->prev[g->n], (uint8_t *)prev->mv_data + SEQ_VAL_MIN, OPLOG_HASH_LEN);
	else
		memset(g->prev[g->n], 0, OPLOG_HASH_LEN);
	g->n++;
	return 0;
}

static int group_has(const struct seq_group *g, const uint8_t *hash)
{
	for (size_t i = 0; i < g->n; i++)
		if (memcmp(g->hash[i], hash, OPLOG_HASH_LEN) == 0)
			return 1;
	return 0;
}

/*
 * One cursor pass over by_seq from (ds, nid, seq-1) to (ds, nid, seq+1):
 * the entries at seq-1, seq and seq+1, into a->before, here and after.
 */
static int load_neighbours(struct apply *a, uint32_t ds, uint32_t nid, uint64_t seq)
{
	uint8_t kb[16];
	MDB_val k = { 16, kb }, v;
	int rc;

	a->before.n = a->here.n = a->after.n = 0;
	key_seq(kb, ds, nid, seq - 1, NULL);
	for (rc = mdb_cursor_get(a->seq_cur, &k, &v, MDB_SET_RANGE);
	     rc == 0 && key_has_prefix(&k, kb, 8);
	     rc = mdb_cursor_get(a->seq_cur, &k, &v, MDB_NEXT)) {
		uint64_t at = get_u64((uint8_t *)k.mv_data + 8);
		const uint8_t *hash = (uint8_t *)k.mv_data + 16;

		if (at == seq - 1)
			rc = group_push(&a->before, hash, &v);
		else if (at == seq)
			rc = group_push(&a->here, hash, &v);
		else if (at == seq + 1 && seq < OPLOG_MAX_SEQ)
			rc = group_push(&a->after, hash, &v);
		else
			break;
		if (rc)
			return rc;
	}
	if (rc && rc != MDB_NOTFOUND)
		return oplog_store__mdb_err(rc, "mdb_cursor_get(by_seq)");
	return 0;
}

static int seq_present(struct apply *a, uint32_t ds, uint32_t nid, uint64_t seq)
{
	uint8_t kb[16];
	MDB_val k = { 16, kb }, v;
	int rc;

	key_seq(kb, ds, nid, seq, NULL);
	rc = mdb_cursor_get(a->seq_cur, &k, &v, MDB_SET_RANGE);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return oplog_store__mdb_err(rc, "mdb_cursor_get(by_seq)");
	return key_has_prefix(&k, kb, 16);
}

/* Set or clear the chain-break record of an entry already in the oplog. */
static int set_break(struct apply *a, uint32_t ds, uint32_t nid, uint64_t seq,
                     const uint8_t *hash, const uint8_t *prev, int is_break)
{
	uint8_t kb[48];
	MDB_val k = { 48, kb }, v;
	int rc;

	key_seq(kb, ds, nid, seq, hash);
	rc = mdb_get(a->txn, a->s->dbi[DBI_BREAKS], &k, &v);
	if (rc && rc != MDB_NOTFOUND)
		return oplog_store__mdb_err(rc, "mdb_get(breaks)");
	if (is_break && rc == MDB_NOTFOUND) {
		a->st.chain_breaks++;
		return put(a, DBI_BREAKS, kb, 48, prev, OPLOG_HASH_LEN, 0);
	}
	if (!is_break && rc == 0 && (rc = mdb_del(a->txn, a->s->dbi[DBI_BREAKS], &k, NULL)))
		return oplog_store__mdb_err(rc, "mdb_del(breaks)");
	return 0;
}

/*
 * Rule 5 after e was added (a->here includes it): forks at e.seq, chain breaks for e against
 * seq-1 and for the entries at seq+1, then the watermark. A break is
 * recomputed from what is present, so the set of recorded breaks does not
 * depend on arrival order.
 */
static int seq_bookkeeping(struct apply *a, uint32_t ds, uint32_t nid,
                           const struct oplog_entry *e, struct node_state *ns)
{
	uint8_t kb[16];
	int rc;

	/* a->before, here (with e) and after were loaded by apply_entry. */
	if (a->here.n > 1) {
		key_seq(kb, ds, nid, e->seq, NULL);
		for (size_t i = 0; i < a->here.n; i++)
			if ((rc = put(a, DBI_FORKS, kb, 16, a->here.hash[i], OPLOG_HASH_LEN, MDB_NODUPDATA)))
				return rc;
		a->st.forks++;
	}
	for (size_t i = 0; i < a->after.n; i++)
		if ((rc = set_break(a, ds, nid, e->seq + 1, a->after.hash[i], a->after.prev[i],
		                    !group_has(&a->here, a->after.prev[i]))))
			return rc;
	/* e is new, so it has no break record yet: add one if needed. */
	if (e->prev && a->before.n && !group_has(&a->before, e->prev)) {
		uint8_t bk[48];
		key_seq(bk, ds, nid, e->seq, e->hash);
		if ((rc = put(a, DBI_BREAKS, bk, 48, e->prev, OPLOG_HASH_LEN, 0)))
			return rc;
		a->st.chain_breaks++;
	}

	if (e->seq == ns->watermark + 1) {
		uint64_t w = e->seq;
		if (a->after.n) {
			w++;
			while (w < OPLOG_MAX_SEQ && (rc = seq_present(a, ds, nid, w + 1)) == 1)
				w++;
			if (rc < 0)
				return rc;
		}
		ns->watermark = w;
	}
	return 0;
}

/* ---- sorted puts ---------------------------------------------------- */

static int pending_add(struct pending *pd, const uint8_t *k, const void *v)
{
	size_t rl = pd->klen + pd->vlen;

	int rc;

	if ((rc = oplog_store__reserve(&pd->rec, &pd->cap, pd->n, rl, 4096, "apply")))
		return rc;
	memcpy(pd->rec + pd->n * rl, k, pd->klen);
	if (pd->vlen)
		memcpy(pd->rec + pd->n * rl + pd->klen, v, pd->vlen);
	pd->n++;
	return 0;
}

/* Byte order of two records of sort_len bytes, a word at a time: the
 * keys are short and qsort calls this some n log n times per batch. */
static size_t sort_len; /* qsort has no argument: the record length */
static int rec_cmp(const void *x, const void *y)
{
	const uint8_t *a = x, *b = y;
	size_t i = 0;

	for (; i + 8 <= sort_len; i += 8) {
		uint64_t u = get_u64(a + i), v = get_u64(b + i);
		if (u != v)
			return u < v ? -1 : 1;
	}
	return memcmp(a + i, b + i, sort_len - i);
}

/* Put every pending record into dbi in key order. Once a key is above
 * the tree's last one, the rest are appended without a search. */
static int pending_flush(struct apply *a, int dbi, struct pending *pd)
{
	size_t rl = pd->klen + pd->vlen;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	uint8_t last[KEY_MAX];
	int rc, append = 0;

	if (!pd->n)
		return 0;
	sort_len = rl;
	qsort(pd->rec, pd->n, rl, rec_cmp);
	if ((rc = mdb_cursor_open(a->txn, a->s->dbi[dbi], &cur)))
		return oplog_store__mdb_err(rc, "mdb_cursor_open");
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	if (rc == MDB_NOTFOUND)
		append = 1;
	else if (rc)
		goto fail;
	else if (k.mv_size == pd->klen)
		memcpy(last, k.mv_data, pd->klen);
	else
		memset(last, 0xff, pd->klen);   /* not ours: never append */
	for (size_t i = 0; i < pd->n; i++) {
		uint8_t *r = pd->rec + i * rl;
		unsigned flags;

		if (!append && memcmp(r, last, pd->klen) > 0)
			append = 1;
		k = (MDB_val){ pd->klen, r };
		v = (MDB_val){ pd->vlen, r + pd->klen };
		/* MDB_APPEND wants a key above the tree's last one: a key equal to
		 * the one just put (entries sharing a hash prefix) is one more
		 * duplicate of it, put the ordinary way. */
		flags = append && !(i && memcmp(r, r - rl, pd->klen) == 0) ? MDB_APPEND : 0;
		if ((rc = mdb_cursor_put(cur, &k, &v, flags)))
			goto fail;
	}
	mdb_cursor_close(cur);
	return 0;
fail:
	mdb_cursor_close(cur);
	{
		char what[48];
		snprintf(what, sizeof(what), "mdb_cursor_put(%s)", oplog_store__dbi_names[dbi]);
		return oplog_store__mdb_err(rc, what);
	}
}

/*
 * Rule 3 for a new entry: its by_seq record (the cursor is where
 * load_neighbours left it), its bytes at the end of the log under the
 * next log id (*id), and the keys of by_hlc, by_node and entries, which
 * are put in key order before the batch commits.
 */
static int log_entry(struct apply *a, const struct batch_entry *be, uint32_t ds, uint32_t nid,
                     uint64_t *id)
{
	const struct oplog_entry *e = &be->e;
	uint8_t kb[KEY_MAX], vb[SEQ_VAL_MIN + OPLOG_HASH_LEN];
	MDB_val k, v;
	int rc;

	*id = a->next_log;
	k = (MDB_val){ key_seq(kb, ds, nid, e->seq, e->hash), kb };
	put_u64(vb, *id);
	if (e->prev)
		memcpy(vb + SEQ_VAL_MIN, e->prev, OPLOG_HASH_LEN);
	v = (MDB_val){ SEQ_VAL_MIN + (e->prev ? OPLOG_HASH_LEN : 0), vb };
	if ((rc = mdb_cursor_put(a->seq_cur, &k, &v, MDB_NOOVERWRITE)))
		return rc == MDB_KEYEXIST
			? oplog_error__set(OPLOG_ECORRUPT, "by_seq: the entry is there but was not read")
			: oplog_store__mdb_err(rc, "mdb_cursor_put(by_seq)");
	if ((rc = group_push(&a->here, e->hash, &v)))
		return rc;

	/* The bytes go to the end of the log; the other paths name the id. */
	k = (MDB_val){ key_log(kb, *id), kb };
	v = (MDB_val){ be->len, (void *)be->msg };
	rc = mdb_cursor_put(a->log_cur, &k, &v, MDB_APPEND);
	if (rc == MDB_KEYEXIST)
		return oplog_error__set(OPLOG_ECORRUPT, "log: id %llu is not past the log's end "
		                        "(meta next_id.log is behind)", (unsigned long long)*id);
	if (rc)
		return oplog_store__mdb_err(rc, "mdb_cursor_put(log)");
	a->next_log++;

	key_hlc(kb, ds, e->wall, e->logic, nid, *id);
	if ((rc = pending_add(&a->hlc, kb, NULL)))
		return rc;
	key_node_hlc(kb, ds, nid, e->wall, e->logic, *id);
	if ((rc = pending_add(&a->node, kb, NULL)))
		return rc;
	key_entries(kb, log_epoch(*id), ds, e->hash);
	put_u64(vb, *id);
	return pending_add(&a->ents, kb, vb);
}

static int apply_entry(struct apply *a, const struct batch_entry *be)
{
	const struct oplog_entry *e = &be->e;
	struct oplog_store *s = a->s;
	struct ns_slot *sl;
	uint64_t id;
	uint32_t ds, nid;
	int rc;

	if ((rc = oplog_store__id_get(s, a->txn, KIND_DS, e->ds, &ds)) ||
	    (rc = oplog_store__id_get(s, a->txn, KIND_NODE, e->node, &nid)))
		return rc;
	if (!(sl = ns_slot(a, ds, nid, &rc)))
		return rc;

	/* 1-2. At or below the prune boundary: a duplicate, or documents only. */
	if (sl->exists && e->seq <= sl->ns.pruned) {
		rc = oplog_store__seq_get(s, a->txn, ds, nid, e->seq, e->hash, NULL, NULL);
		if (rc == 0) {
			a->st.duplicates++;
			return 0;
		}
		if (rc != OPLOG_ENOTFOUND)
			return rc;
		a->st.below_boundary++;
		return oplog_store__doc_candidate(&a->docs, ds, nid, 0, e);
	}

	/* 1, 3. Into the oplog. The hash covers (ds, node, seq) and was
	 * verified, so the exact by_seq key names the entry: present means a
	 * duplicate. One cursor pass reads seq-1, seq and seq+1 (rule 5
	 * needs them too) and leaves the cursor where the put goes. */
	if ((rc = load_neighbours(a, ds, nid, e->seq)))
		return rc;
	if (group_has(&a->here, e->hash)) {
		a->st.duplicates++;
		return 0;
	}
	if ((rc = log_entry(a, be, ds, nid, &id)))
		return rc;
	a->st.applied++;

	/* 4. Head. */
	if (sl->exists && oplog_store__hlc_cmp(e->wall, e->logic, e->node, e->hash,
	                                       sl->ns.head_wall, sl->ns.head_logic,
	                                       e->node, sl->ns.head_hash) < 0) {
		a->st.late++;
	} else {
		sl->ns.head_seq = e->seq;
		sl->ns.head_wall = e->wall;
		sl->ns.head_logic = e->logic;
		memcpy(sl->ns.head_hash, e->hash, OPLOG_HASH_LEN);
	}
	sl->exists = sl->dirty = 1;

	/* 5. Forks, chain breaks, watermark. */
	if ((rc = seq_bookkeeping(a, ds, nid, e, &sl->ns)))
		return rc;

	/* 6. Document. */
	return oplog_store__doc_candidate(&a->docs, ds, nid, id, e);
}

/* Log ids come from a counter in meta, read once per batch and written
 * back with it, so they are never reused. */
static int next_log_id(struct apply *a, int save)
{
	MDB_val k = { sizeof("next_id.log") - 1, "next_id.log" }, v;
	uint8_t b[8];
	int rc;

	if (save) {
		put_u64(b, a->next_log);
		return put(a, DBI_META, k.mv_data, k.mv_size, b, 8, 0);
	}
	a->next_log = 1;
	rc = mdb_get(a->txn, a->s->dbi[DBI_META], &k, &v);
	if (rc == 0 && v.mv_size == 8)
		a->next_log = get_u64(v.mv_data);
	else if (rc && rc != MDB_NOTFOUND)
		return oplog_store__mdb_err(rc, "mdb_get(meta next_id.log)");
	return 0;
}

static int add_counter(struct apply *a, const char *name, uint64_t n)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	uint8_t vb[8];
	int rc;

	if (!n)
		return 0;
	rc = mdb_get(a->txn, a->s->dbi[DBI_COUNTERS], &k, &v);
	if (rc == 0 && v.mv_size == 8)
		n += get_u64(v.mv_data);
	else if (rc && rc != MDB_NOTFOUND)
		return oplog_store__mdb_err(rc, "mdb_get(counters)");
	put_u64(vb, n);
	return put(a, DBI_COUNTERS, name, strlen(name), vb, 8, 0);
}

static int store_rejects(struct apply *a, const struct oplog_batch *b,
                         uint64_t *by_reason)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	uint64_t id = 1, now;
	int rc;

	if (!b->n_rejs)
		return 0;
	if ((rc = mdb_cursor_open(a->txn, a->s->dbi[DBI_REJECTS], &cur)))
		return oplog_store__mdb_err(rc, "mdb_cursor_open(rejects)");
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	if (rc == 0 && k.mv_size == 8)
		id = get_u64(k.mv_data) + 1;
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND)
		return oplog_store__mdb_err(rc, "mdb_cursor_get(rejects)");

	now = oplog_clock_wall_ms();
	for (size_t i = 0; i < b->n_rejs; i++, id++) {
		const struct batch_reject *r = &b->rejs[i];
		size_t src = strlen(r->source), det = strlen(r->rej.detail);
		size_t raw = r->raw_len < a->s->reject_max ? r->raw_len : a->s->reject_max;
		uint8_t kb[8], *p;

		if (src > UINT16_MAX)
			src = UINT16_MAX;
		put_u64(kb, id);
		k = (MDB_val){ 8, kb };
		v.mv_size = 8 + 1 + 1 + 2 + 2 + 8 + src + det + raw;
		if ((rc = mdb_put(a->txn, a->s->dbi[DBI_REJECTS], &k, &v, MDB_RESERVE | MDB_APPEND)))
			return oplog_store__mdb_err(rc, "mdb_put(rejects)");
		p = v.mv_data;
		p = put_u64(p, now);
		*p++ = (uint8_t)r->rej.reason;
		*p++ = (uint8_t)r->rej.field;
		p = put_u16(p, (uint16_t)src);
		p = put_u16(p, (uint16_t)det);
		p = put_u64(p, r->size);
		p = put_bytes(p, r->source, src);
		p = put_bytes(p, r->rej.detail, det);
		if (raw)
			put_bytes(p, r->raw, raw);
		if ((unsigned)r->rej.reason < OPLOG_R__COUNT)
			by_reason[r->rej.reason]++;
		a->st.rejected++;
	}
	/* Bounded growth: above [store] rejects_max the oldest kept go; the
	 * counters above have counted every one. A store that holds far more
	 * (kept before the limit existed) drains 10000 a batch beyond what
	 * the batch added, so no one transaction deletes millions. */
	return a->s->rejects_max ?
	       oplog_store__rejects_trim(a->s, a->txn, a->s->rejects_max, b->n_rejs + 10000, NULL) :
	       0;
}

static int store_offsets(struct apply *a, const struct oplog_batch *b)
{
	uint8_t kb[1 + KEY_OFFSET_MAX + 8], vb[16];
	int rc;

	for (size_t i = 0; i < b->n_offs; i++) {
		const struct batch_offset *o = &b->offs[i];

		put_u64(put_u64(vb, (uint64_t)o->next), (uint64_t)o->end);
		if (o->cursor) {
			kb[0] = REPLAY_CURSOR;
			rc = put(a, DBI_REPLAY, kb, 1 + key_offset(kb + 1, o->topic, o->partition),
			         vb, 16, 0);
		} else {
			rc = put(a, DBI_OFFSETS, kb, key_offset(kb, o->topic, o->partition), vb, 8, 0);
		}
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < b->n_lost; i++) {
		const struct batch_lost *l = &b->lost[i];
		size_t kl = key_offset(kb, l->topic, l->partition);

		put_u64(kb + kl, (uint64_t)l->from);
		put_u64(put_u64(vb, (uint64_t)l->to), oplog_clock_wall_ms());
		if ((rc = put(a, DBI_LOST, kb, kl + 8, vb, 16, 0)))
			return rc;
	}
	return 0;
}

static int apply_once(struct oplog_store *s, const struct oplog_batch *b,
                      struct oplog_apply_stats *st)
{
	struct apply a = {
		.s = s,
		.hlc = { .klen = HLC_KEY_LEN },
		.node = { .klen = HLC_KEY_LEN },
		.ents = { .klen = ENTRIES_KEY_LEN, .vlen = 8 },
	};
	uint64_t by_reason[OPLOG_R__COUNT] = { 0 }, first_log;
	char name[64];
	int rc;

	if ((rc = oplog_store__txn_begin(s, 0, &a.txn)))
		goto done;
	if ((rc = mdb_cursor_open(a.txn, s->dbi[DBI_BY_SEQ], &a.seq_cur)) ||
	    (rc = mdb_cursor_open(a.txn, s->dbi[DBI_LOG], &a.log_cur))) {
		rc = oplog_store__mdb_err(rc, "mdb_cursor_open");
		goto done;
	}
	if ((rc = next_log_id(&a, 0)))
		goto done;
	first_log = a.next_log;
	if ((rc = oplog_store__docs_init(&a.docs, b->n_ents)))
		goto done;
	for (size_t i = 0; i < b->n_ents; i++)
		if ((rc = apply_entry(&a, &b->ents[i])))
			goto done;
	if ((rc = pending_flush(&a, DBI_BY_HLC, &a.hlc)) ||
	    (rc = pending_flush(&a, DBI_BY_NODE, &a.node)) ||
	    (rc = pending_flush(&a, DBI_ENTRIES, &a.ents)) ||
	    (log_epoch(a.next_log) != log_epoch(first_log) &&
	     (rc = oplog_store__bloom_update(s, a.txn, a.next_log))) ||
	    (rc = oplog_store__docs_write(s, a.txn, &a.docs)) ||
	    (rc = write_node_states(&a)) ||
	    (rc = next_log_id(&a, 1)) ||
	    (rc = store_rejects(&a, b, by_reason)) ||
	    (rc = store_offsets(&a, b)) ||
	    (rc = add_counter(&a, CTR_APPLIED, a.st.applied)) ||
	    (rc = add_counter(&a, CTR_DUPLICATES, a.st.duplicates)) ||
	    (rc = add_counter(&a, CTR_LATE, a.st.late)) ||
	    (rc = add_counter(&a, CTR_FORKS, a.st.forks)) ||
	    (rc = add_counter(&a, CTR_CHAIN_BREAKS, a.st.chain_breaks)) ||
	    (rc = add_counter(&a, CTR_BELOW_BOUNDARY, a.st.below_boundary)))
		goto done;
	for (int r = 1; r < OPLOG_R__COUNT; r++) {
		snprintf(name, sizeof(name), CTR_REJECTED "%s", oplog_reason_name(r));
		if ((rc = add_counter(&a, name, by_reason[r])))
			goto done;
	}
	mdb_cursor_close(a.seq_cur);
	mdb_cursor_close(a.log_cur);
	a.seq_cur = a.log_cur = NULL;
	rc = mdb_txn_commit(a.txn);
	a.txn = NULL;   /* committed or, on failure, already freed by LMDB */
	if (rc) {
		oplog_store__ids_rollback(s);
		rc = oplog_store__write_err(s->env, rc, "mdb_txn_commit");
		goto done;
	}
	oplog_store__ids_commit(s);
	if (st)
		*st = a.st;
done:
	if (a.seq_cur)
		mdb_cursor_close(a.seq_cur);
	if (a.log_cur)
		mdb_cursor_close(a.log_cur);
	if (a.txn) {
		mdb_txn_abort(a.txn);
		oplog_store__ids_rollback(s);
	}
	free(a.before.hash);
	free(a.before.prev);
	free(a.here.hash);
	free(a.here.prev);
	free(a.after.hash);
	free(a.after.prev);
	free(a.slots);
	free(a.slot_tab);
	free(a.hlc.rec);
	free(a.node.rec);
	free(a.ents.rec);
	free(a.docs.docs);
	return rc;
}

int oplog_store_apply(struct oplog_store *s, const struct oplog_batch *b,
                      struct oplog_apply_stats *st)
{
	int rc;

	if (st)
		memset(st, 0, sizeof(*st));
	if (s->flags & OPLOG_STORE_RDONLY)
		return oplog_error__set(OPLOG_EINVAL, "the store is open read-only");
	while ((rc = apply_once(s, b, st)) == OPLOG_EMAPFULL) {
		char why[256];

		if ((rc = oplog_store__grow(s)) == 0)
			continue;
		/* Copy first: the message is about to be rewritten. */
		snprintf(why, sizeof(why), "%s", oplog_error_last());
		return oplog_error__set(rc, "%s; the batch of %zu messages was not applied",
		                        why, oplog_batch_count(b));
	}
	return rc;
}

void oplog_apply_stats_add(struct oplog_apply_stats *sum, const struct oplog_apply_stats *add)
{
	sum->applied += add->applied;
	sum->duplicates += add->duplicates;
	sum->late += add->late;
	sum->forks += add->forks;
	sum->chain_breaks += add->chain_breaks;
	sum->below_boundary += add->below_boundary;
	sum->rejected += add->rejected;
}
