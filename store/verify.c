/*
 * verify.c: check every access path against the oplog, and every derived
 * record (heads, watermarks, documents, forks, chain breaks, and the
 * forward links read from by_seq)
 * against what the oplog implies. One read transaction, so a verify of a
 * live store sees one committed state.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "oplog/bytes.h"
#include "oplog/error.h"
#include "store_int.h"

struct verify {
	struct oplog_store *s;
	MDB_txn            *txn;
	MDB_cursor         *seq_cur;
	oplog_problem_cb    cb;
	void               *arg;
	int64_t             problems;
	uint64_t            n_entries;
	uint64_t            next_log;   /* meta next_id.log */
	uint8_t             (*group)[OPLOG_HASH_LEN];
	size_t              group_n, group_cap;
};

static void problem(struct verify *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void problem(struct verify *v, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	v->problems++;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (v->cb)
		v->cb(line, v->arg);
}

/* "<ds id>/<hash hex>" names an entry in problem lines. */
static const char *ename(char *buf, uint32_t ds, const uint8_t *hash)
{
	char hex[2 * OPLOG_HASH_LEN + 1];

	oplog_hex(hash, OPLOG_HASH_LEN, hex);
	snprintf(buf, 96, "ds#%u/%s", ds, hex);
	return buf;
}

static int exists(struct verify *v, int dbi, const uint8_t *k, size_t klen, MDB_val *out)
{
	MDB_val key = { klen, (void *)k }, val;
	int rc = mdb_get(v->txn, v->s->dbi[dbi], &key, &val);

	if (rc == 0 && out)
		*out = val;
	if (rc && rc != MDB_NOTFOUND)
		return oplog_store__mdb_err(rc, oplog_store__dbi_names[dbi]);
	return rc == 0;
}

/* The hashes present at (ds, nid, seq), into v->group. */
static int load_group(struct verify *v, uint32_t ds, uint32_t nid, uint64_t seq)
{
	uint8_t kb[16];
	MDB_val k = { 16, kb }, val;
	int rc;

	v->group_n = 0;
	key_seq(kb, ds, nid, seq, NULL);
	for (rc = mdb_cursor_get(v->seq_cur, &k, &val, MDB_SET_RANGE);
	     rc == 0 && key_has_prefix(&k, kb, 16);
	     rc = mdb_cursor_get(v->seq_cur, &k, &val, MDB_NEXT)) {
		if ((rc = oplog_store__reserve(&v->group, &v->group_cap, v->group_n,
		                               OPLOG_HASH_LEN, 8, "verify")))
			return rc;
		memcpy(v->group[v->group_n++], (uint8_t *)k.mv_data + 16, OPLOG_HASH_LEN);
	}
	return rc && rc != MDB_NOTFOUND ? oplog_store__mdb_err(rc, "by_seq") : 0;
}

static int in_group(struct verify *v, const uint8_t *hash)
{
	for (size_t i = 0; i < v->group_n; i++)
		if (!memcmp(v->group[i], hash, OPLOG_HASH_LEN))
			return 1;
	return 0;
}

/* Does the DUPSORT tree dbi hold exactly the pair (k, val)? 1, 0 or an
 * OPLOG_E* code. */
static int exists_dup(struct verify *v, int dbi, MDB_val *k, MDB_val *val)
{
	MDB_cursor *cur;
	int rc;

	if ((rc = mdb_cursor_open(v->txn, v->s->dbi[dbi], &cur)))
		return oplog_store__mdb_err(rc, oplog_store__dbi_names[dbi]);
	rc = mdb_cursor_get(cur, k, val, MDB_GET_BOTH);
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND)
		return oplog_store__mdb_err(rc, oplog_store__dbi_names[dbi]);
	return rc == 0;
}

/* The entry en's id `id` of kind names its own `want`: a problem when the
 * id has no name (1: checking the entry stops there) or another one (0).
 * Else an OPLOG_E* code. */
static int check_entry_name(struct verify *v, int kind, uint32_t id,
                            struct oplog_slice want, const char *en)
{
	const char *what = kind == KIND_DS ? "dataset" : "node";
	struct oplog_slice name;
	int rc = oplog_store__id_name(v->s, v->txn, kind, id, &name);

	if (rc == OPLOG_ECORRUPT) {
		problem(v, "ids: %s id %u of %s has no name", what, id, en);
		return 1;
	}
	if (rc)
		return rc;
	if (slice_cmp(name, want))
		problem(v, "by_seq: %s is stored under %s id %u of another name", en, what, id);
	return 0;
}

/* The entry's other paths: by_hlc, by_node and the hash index. */
static int check_entry_paths(struct verify *v, uint32_t ds, uint32_t nid, uint64_t id,
                             const struct oplog_entry *e, const char *en)
{
	uint8_t kb[KEY_MAX], ib[8];
	MDB_val ek, ev = { 8, ib };
	int rc;

	if ((rc = exists(v, DBI_BY_HLC, kb, key_hlc(kb, ds, e->wall, e->logic, nid, id), NULL)) < 0)
		return rc;
	if (!rc)
		problem(v, "by_hlc: %s (seq %llu) missing", en, (unsigned long long)e->seq);
	if ((rc = exists(v, DBI_BY_NODE, kb, key_node_hlc(kb, ds, nid, e->wall, e->logic, id),
	                 NULL)) < 0)
		return rc;
	if (!rc)
		problem(v, "by_node: %s missing", en);
	ek = (MDB_val){ key_entries(kb, log_epoch(id), ds, e->hash), kb };
	put_u64(ib, id);
	if ((rc = exists_dup(v, DBI_ENTRIES, &ek, &ev)) < 0)
		return rc;
	if (!rc)
		problem(v, "entries: %s missing from the hash index", en);
	return 0;
}

/* Head: at or after every entry of its node. *ns gets the node's state
 * (zeroes when it has none). */
static int check_entry_head(struct verify *v, uint32_t ds, uint32_t nid,
                            const struct oplog_entry *e, const char *en,
                            struct node_state *ns)
{
	int rc = oplog_store__node_state_get(v->s, v->txn, ds, nid, ns);

	if (rc == OPLOG_ENOTFOUND) {
		problem(v, "heads: no head for the node of %s", en);
		memset(ns, 0, sizeof(*ns));
	} else if (rc) {
		return rc;
	} else if (oplog_store__hlc_cmp(e->wall, e->logic, e->node, e->hash,
	                                ns->head_wall, ns->head_logic, e->node, ns->head_hash) > 0) {
		problem(v, "heads: %s is after its node's head (seq %llu)", en,
		        (unsigned long long)ns->head_seq);
	}
	return 0;
}

/* Document: its winner is at or after this entry. */
static int check_entry_doc(struct verify *v, uint32_t ds, const struct oplog_entry *e,
                           const char *en)
{
	uint8_t kb[DOC_KEY_LEN];
	struct doc_rec d;
	MDB_val got;
	int rc;

	if ((rc = oplog_store__doc_key(kb, ds, e->col, e->key)))
		return rc;
	if ((rc = exists(v, DBI_DOCS, kb, DOC_KEY_LEN, &got)) < 0)
		return rc;
	if (!rc)
		problem(v, "docs: no document for %s", en);
	else if (oplog_store__doc_read(v->s, v->txn, &got, &d))
		problem(v, "docs: record for %s: %s", en, oplog_error_last());
	else if (oplog_store__hlc_cmp(e->wall, e->logic, e->node, e->hash, d.d.wall,
	                              d.d.logic, d.d.node, d.d.hash) > 0)
		problem(v, "docs: %s is later than its document's winner", en);
	return 0;
}

/* Chain break and fork records at the entry's seq. */
static int check_entry_seqs(struct verify *v, uint32_t ds, uint32_t nid,
                            const struct oplog_entry *e, const struct node_state *ns,
                            const char *en)
{
	uint8_t kb[KEY_MAX];
	MDB_val fk = { 16, kb }, fv = { OPLOG_HASH_LEN, (void *)e->hash };
	int rc;

	/* Chain break: recorded exactly when prev matches nothing at seq-1.
	 * Once seq-1 was pruned (even in part) the record is history. */
	if (e->prev && e->seq - 1 > ns->pruned) {
		int present;
		if ((rc = load_group(v, ds, nid, e->seq - 1)))
			return rc;
		if ((present = exists(v, DBI_BREAKS, kb, key_seq(kb, ds, nid, e->seq, e->hash),
		                      NULL)) < 0)
			return present;
		if (v->group_n && !in_group(v, e->prev) && !present)
			problem(v, "breaks: %s does not chain to seq %llu but no break is recorded",
			        en, (unsigned long long)e->seq - 1);
		if (v->group_n && in_group(v, e->prev) && present)
			problem(v, "breaks: %s is recorded as a break but chains correctly", en);
	}

	/* Fork: recorded when the seq has several hashes. */
	if ((rc = load_group(v, ds, nid, e->seq)))
		return rc;
	if (v->group_n <= 1)
		return 0;
	key_seq(kb, ds, nid, e->seq, NULL);
	if ((rc = exists_dup(v, DBI_FORKS, &fk, &fv)) < 0)
		return rc;
	if (!rc)
		problem(v, "forks: %s shares its seq with another hash but no fork is recorded", en);
	return 0;
}

/* Pass 1: each entry (by_seq is the oplog's key) is stored, valid, and
 * reachable through every path. */
static int check_entry(const MDB_val *k, const MDB_val *val, void *arg)
{
	struct verify *v = arg;
	const uint8_t *kb = k->mv_data, *hash = kb + 16;
	uint32_t ds = get_u32(kb), nid = get_u32(kb + 4);
	uint64_t seq = get_u64(kb + 8), id;
	struct oplog_entry e;
	struct oplog_reject rej;
	struct node_state ns;
	char en[96];
	MDB_val got;
	int rc;

	v->n_entries++;
	if (k->mv_size != 16 + OPLOG_HASH_LEN ||
	    (val->mv_size != SEQ_VAL_MIN && val->mv_size != SEQ_VAL_MIN + OPLOG_HASH_LEN)) {
		problem(v, "by_seq: malformed record (key %zu, value %zu bytes)", k->mv_size,
		        val->mv_size);
		return 0;
	}
	id = get_u64(val->mv_data);
	ename(en, ds, hash);
	if ((rc = oplog_store__log_get(v->s, v->txn, id, &got)) == OPLOG_ENOTFOUND) {
		problem(v, "by_seq: %s names log record %llu, which is missing", en,
		        (unsigned long long)id);
		return 0;
	}
	if (rc)
		return rc;
	if (oplog_entry_decode(got.mv_data, got.mv_size, got.mv_size, 0, &e, &rej)) {
		problem(v, "log: %s (record %llu) does not decode: %s %s", en,
		        (unsigned long long)id, oplog_reason_name(rej.reason), rej.detail);
		return 0;
	}
	if (memcmp(e.hash, hash, OPLOG_HASH_LEN) || e.seq != seq)
		problem(v, "by_seq: %s names log record %llu of another entry", en,
		        (unsigned long long)id);
	/* The link rule: forward links are read from by_seq's prev. */
	if ((val->mv_size > SEQ_VAL_MIN) != (e.prev != NULL) ||
	    (e.prev && memcmp((uint8_t *)val->mv_data + SEQ_VAL_MIN, e.prev, OPLOG_HASH_LEN)))
		problem(v, "by_seq: the prev of %s is not its entry's (forward links are wrong)", en);
	if ((rc = check_entry_name(v, KIND_DS, ds, e.ds, en)) ||
	    (rc = check_entry_name(v, KIND_NODE, nid, e.node, en)))
		return rc < 0 ? rc : 0;
	if ((rc = check_entry_paths(v, ds, nid, id, &e, en)) ||
	    (rc = check_entry_head(v, ds, nid, &e, en, &ns)) ||
	    (rc = check_entry_doc(v, ds, &e, en)))
		return rc;
	return check_entry_seqs(v, ds, nid, &e, &ns, en);
}

/* Pass 2: every index record points at a stored entry. */
struct index_check {
	struct verify *v;
	int            dbi;
	uint64_t       n;
};

/* The entry an index record names: its log record is there, and by_seq
 * holds it under the same id. */
static int index_target(struct index_check *c, uint32_t ds, uint32_t nid, uint64_t id,
                        const uint8_t *hash8, const char *what)
{
	struct oplog_entry e;
	MDB_val msg;
	uint64_t got;
	int rc = oplog_store__log_get(c->v->s, c->v->txn, id, &msg);

	if (rc == OPLOG_ENOTFOUND) {
		problem(c->v, "%s: points at log record %llu, which is missing", what,
		        (unsigned long long)id);
		return 0;
	}
	if (rc)
		return rc;
	if (oplog_store__decode(&msg, &e)) {
		problem(c->v, "%s: log record %llu does not decode", what, (unsigned long long)id);
		return 0;
	}
	if (!nid && (rc = oplog_store__id_lookup(c->v->s, c->v->txn, KIND_NODE, e.node, &nid)) &&
	    rc != OPLOG_ENOTFOUND)
		return rc;
	rc = oplog_store__seq_get(c->v->s, c->v->txn, ds, nid, e.seq, e.hash, &got, NULL);
	if (rc && rc != OPLOG_ENOTFOUND)
		return rc;
	if (rc)
		problem(c->v, "%s: log record %llu is not in the oplog (no by_seq record)", what,
		        (unsigned long long)id);
	else if (got != id || (hash8 && memcmp(hash8, e.hash, HASH_KEY_LEN)))
		problem(c->v, "%s: record for log id %llu does not match the oplog", what,
		        (unsigned long long)id);
	return 0;
}

/* A log record is the entry that by_seq names by this id; pass 1 checks
 * the record itself. */
static int log_named(struct index_check *c, uint64_t id, const MDB_val *msg)
{
	struct oplog_entry e;
	uint32_t ds, nid;
	uint64_t got = 0;
	int rc;

	if (oplog_store__decode(msg, &e))
		return 0;
	if ((rc = oplog_store__id_lookup(c->v->s, c->v->txn, KIND_DS, e.ds, &ds)) == 0 &&
	    (rc = oplog_store__id_lookup(c->v->s, c->v->txn, KIND_NODE, e.node, &nid)) == 0)
		rc = oplog_store__seq_get(c->v->s, c->v->txn, ds, nid, e.seq, e.hash, &got, NULL);
	if (rc && rc != OPLOG_ENOTFOUND)
		return rc;
	if (rc || got != id)
		problem(c->v, "log: record %llu is named by no by_seq record",
		        (unsigned long long)id);
	return 0;
}

static int check_index(const MDB_val *k, const MDB_val *val, void *arg)
{
	struct index_check *c = arg;
	const uint8_t *kb = k->mv_data;
	const char *what = oplog_store__dbi_names[c->dbi];

	c->n++;
	switch (c->dbi) {
	case DBI_BY_HLC:
		if (k->mv_size != HLC_KEY_LEN)
			break;
		return index_target(c, get_u32(kb), get_u32(kb + 16), get_u64(kb + 20), NULL, what);
	case DBI_BY_NODE:
		if (k->mv_size != HLC_KEY_LEN)
			break;
		return index_target(c, get_u32(kb), get_u32(kb + 4), get_u64(kb + 20), NULL, what);
	case DBI_ENTRIES:
		if (k->mv_size != ENTRIES_KEY_LEN || val->mv_size != 8)
			break;
		if (get_u32(kb) != log_epoch(get_u64(val->mv_data)))
			problem(c->v, "entries: log id %llu filed under epoch %u",
			        (unsigned long long)get_u64(val->mv_data), get_u32(kb));
		{
			/* The epoch's filter, where it has one, must not rule it out. */
			MDB_val f;
			int rc = oplog_store__bloom_get(c->v->s, c->v->txn, get_u32(kb), &f);

			if (rc && rc != OPLOG_ENOTFOUND)
				return rc;
			if (rc == 0 && !oplog_store__bloom_test(&f, get_u32(kb + 4), kb + 8))
				problem(c->v, "blooms: the filter of epoch %u rules out log id %llu",
				        get_u32(kb), (unsigned long long)get_u64(val->mv_data));
		}
		return index_target(c, get_u32(kb + 4), 0, get_u64(val->mv_data), kb + 8, what);
	case DBI_LOG:
		if (k->mv_size != 8)
			break;
		return log_named(c, get_u64(kb), val);
	}
	problem(c->v, "%s: malformed record (key of %zu bytes)", what, k->mv_size);
	return 0;
}

/* Pass 3: each node's head and watermark are what its entries imply. */
static int check_node(const MDB_val *k, const MDB_val *val, void *arg)
{
	struct verify *v = arg;
	uint32_t ds = get_u32(k->mv_data), nid = get_u32((uint8_t *)k->mv_data + 4);
	struct node_state ns;
	uint8_t kb[48];
	MDB_cursor *cur;
	MDB_val hk, hv;
	int rc, head_present;

	if (oplog_store__node_state_decode(&ns, val)) {
		problem(v, "heads: ds#%u node#%u: malformed record", ds, nid);
		return 0;
	}
	if (ns.watermark < ns.pruned)
		problem(v, "heads: ds#%u node#%u: watermark %llu below pruned-through %llu", ds, nid,
		        (unsigned long long)ns.watermark, (unsigned long long)ns.pruned);
	for (uint64_t seq = ns.pruned + 1; seq <= ns.watermark + 1; seq++) {
		if ((rc = load_group(v, ds, nid, seq)))
			return rc;
		if (seq <= ns.watermark && !v->group_n) {
			problem(v, "heads: ds#%u node#%u: watermark %llu but seq %llu is missing", ds,
			        nid, (unsigned long long)ns.watermark, (unsigned long long)seq);
			break;
		}
		if (seq == ns.watermark + 1 && v->group_n)
			problem(v, "heads: ds#%u node#%u: watermark %llu could advance to %llu", ds,
			        nid, (unsigned long long)ns.watermark, (unsigned long long)seq);
	}

	/* The node's greatest present entry in HLC order is its head. */
	{
		struct oplog_entry e;
		MDB_val msg;
		uint64_t id;

		rc = oplog_store__seq_get(v->s, v->txn, ds, nid, ns.head_seq, ns.head_hash, &id, NULL);
		if (rc && rc != OPLOG_ENOTFOUND)
			return rc;
		head_present = rc == 0;
		if (head_present && (oplog_store__log_get(v->s, v->txn, id, &msg) ||
		                     oplog_store__decode(&msg, &e) ||
		                     e.wall != ns.head_wall || e.logic != ns.head_logic))
			problem(v, "heads: ds#%u node#%u: head seq/wall/logic differ from its entry",
			        ds, nid);
	}
	if (!head_present && ns.head_seq > ns.pruned)
		problem(v, "heads: ds#%u node#%u: head seq %llu is neither present nor pruned",
		        ds, nid, (unsigned long long)ns.head_seq);
	/* The last (wall, logic) of by_node holds the head, with the greatest
	 * hash of that tie. */
	put_u32(put_u32(kb, ds), nid + 1);
	if ((rc = mdb_cursor_open(v->txn, v->s->dbi[DBI_BY_NODE], &cur)))
		return oplog_store__mdb_err(rc, "by_node");
	hk = (MDB_val){ 8, kb };
	rc = mdb_cursor_get(cur, &hk, &hv, MDB_SET_RANGE);
	rc = rc == 0 ? mdb_cursor_get(cur, &hk, &hv, MDB_PREV) : mdb_cursor_get(cur, &hk, &hv, MDB_LAST);
	put_u32(put_u32(kb, ds), nid);
	if (head_present && rc == 0 && key_has_prefix(&hk, kb, 8) && hk.mv_size == HLC_KEY_LEN) {
		uint8_t top[20];
		int latest = 1;

		memcpy(top, hk.mv_data, 20);
		if (get_u64(top + 8) != ns.head_wall || get_u32(top + 16) != ns.head_logic)
			latest = 0;
		for (; latest && rc == 0 && key_has_prefix(&hk, top, 20);
		     rc = mdb_cursor_get(cur, &hk, &hv, MDB_PREV)) {
			struct oplog_entry e;
			MDB_val msg;

			if (oplog_store__log_get(v->s, v->txn, get_u64((uint8_t *)hk.mv_data + 20), &msg) ||
			    oplog_store__decode(&msg, &e))
				break;   /* pass 2 reports it */
			if (memcmp(e.hash, ns.head_hash, OPLOG_HASH_LEN) > 0)
				latest = 0;
		}
		if (!latest)
			problem(v, "heads: ds#%u node#%u: head is not the node's latest entry", ds, nid);
	}
	mdb_cursor_close(cur);
	return 0;
}

/* Pass 4: each document's winner is present (and the record points at
 * its log record) or was pruned (and the record holds it inline). */
static int check_doc(const MDB_val *k, const MDB_val *val, void *arg)
{
	struct verify *v = arg;
	uint32_t ds = get_u32(k->mv_data);
	struct doc_rec d;
	struct node_state ns;
	uint8_t kb[DOC_KEY_LEN];
	char en[96];
	uint64_t id;
	int rc;

	if (k->mv_size != DOC_KEY_LEN) {
		problem(v, "docs: key of %zu bytes in ds#%u", k->mv_size, ds);
		return 0;
	}
	if (oplog_store__doc_read(v->s, v->txn, val, &d)) {
		problem(v, "docs: ds#%u: %s", ds, oplog_error_last());
		return 0;
	}
	ename(en, ds, d.d.hash);
	if ((rc = oplog_store__doc_key(kb, ds, d.d.col, d.d.key)))
		return rc;
	if (memcmp(kb, k->mv_data, sizeof(kb))) {
		if (d.log_id)
			problem(v, "docs: the record names %llu, the log record of %s, an entry of "
			        "another document", (unsigned long long)d.log_id, en);
		else
			problem(v, "docs: winner %s is filed under another document's key", en);
	}
	rc = oplog_store__seq_get(v->s, v->txn, ds, d.nid, d.d.seq, d.d.hash, &id, NULL);
	if (rc && rc != OPLOG_ENOTFOUND)
		return rc;
	if (rc == 0) {
		if (d.log_id != id)
			problem(v, "docs: winner %s is log record %llu, the document holds %s %llu", en,
			        (unsigned long long)id, d.log_id ? "a pointer to" : "a copy, not",
			        (unsigned long long)(d.log_id ? d.log_id : id));
		return 0;
	}
	if (d.log_id)
		problem(v, "docs: winner %s (log record %llu) is not in the oplog", en,
		        (unsigned long long)d.log_id);
	rc = oplog_store__node_state_get(v->s, v->txn, ds, d.nid, &ns);
	if (rc && rc != OPLOG_ENOTFOUND)
		return rc;
	if (rc || d.d.seq > ns.pruned)
		problem(v, "docs: winner %s is neither in the oplog nor pruned", en);
	return 0;
}

/* Pass 5: forks and chain breaks name entries that are present (with the
 * recorded seq and prev) or were pruned. */
static int check_seq_record(struct verify *v, const MDB_val *k, const uint8_t *hash,
                            const uint8_t *prev, const char *what)
{
	const uint8_t *kb = k->mv_data;
	uint32_t ds = get_u32(kb), nid = get_u32(kb + 4);
	uint64_t seq = get_u64(kb + 8);
	const uint8_t *have_prev;
	struct node_state ns;
	char en[96];
	int rc;

	ename(en, ds, hash);
	rc = oplog_store__seq_get(v->s, v->txn, ds, nid, seq, hash, NULL, &have_prev);
	if (rc == 0) {
		if (prev && (!have_prev || memcmp(have_prev, prev, OPLOG_HASH_LEN)))
			problem(v, "%s: record of %s does not match the entry", what, en);
		return 0;
	}
	if (rc != OPLOG_ENOTFOUND)
		return rc;
	rc = oplog_store__node_state_get(v->s, v->txn, ds, nid, &ns);
	if (rc && rc != OPLOG_ENOTFOUND)
		return rc;
	if (rc || seq > ns.pruned)
		problem(v, "%s: %s is neither in the oplog nor pruned", what, en);
	return 0;
}

static int check_break(const MDB_val *k, const MDB_val *val, void *arg)
{
	struct verify *v = arg;

	if (k->mv_size != 16 + OPLOG_HASH_LEN || val->mv_size != OPLOG_HASH_LEN) {
		problem(v, "breaks: malformed record");
		return 0;
	}
	return check_seq_record(v, k, (uint8_t *)k->mv_data + 16, val->mv_data, "breaks");
}

static int check_fork(const MDB_val *k, const MDB_val *val, void *arg)
{
	struct verify *v = arg;

	if (k->mv_size != 16 || val->mv_size != OPLOG_HASH_LEN) {
		problem(v, "forks: malformed record");
		return 0;
	}
	return check_seq_record(v, k, val->mv_data, NULL, "forks");
}

/* Pass 7: a filter exists only for a completed epoch. */
static int check_bloom(const MDB_val *k, const MDB_val *val, void *arg)
{
	struct verify *v = arg;

	(void)val;
	if (k->mv_size != 4)
		problem(v, "blooms: key of %zu bytes", k->mv_size);
	else if (get_u32(k->mv_data) >= log_epoch(v->next_log))
		problem(v, "blooms: a filter for epoch %u, which is not complete",
		        get_u32(k->mv_data));
	return 0;
}

/* Pass 6: names and ids map both ways, below the id counters. */
static int check_name(const MDB_val *k, const MDB_val *val, void *arg)
{
	struct verify *v = arg;
	const uint8_t *kb = k->mv_data;
	uint8_t ib[5];
	MDB_val name;
	int rc;

	if (k->mv_size < 2 || val->mv_size != 4) {
		problem(v, "names: malformed record");
		return 0;
	}
	ib[0] = kb[0];
	memcpy(ib + 1, val->mv_data, 4);
	if ((rc = exists(v, DBI_IDS, ib, 5, &name)) < 0)
		return rc;
	if (!rc || name.mv_size != k->mv_size - 1 || memcmp(name.mv_data, kb + 1, name.mv_size))
		problem(v, "ids: %s id %u does not map back to its name",
		        kb[0] == KIND_DS ? "dataset" : "node", get_u32(val->mv_data));
	return 0;
}

int64_t oplog_store_verify(struct oplog_store *s, oplog_problem_cb cb, void *arg)
{
	static const int indexes[] = { DBI_BY_HLC, DBI_BY_NODE, DBI_ENTRIES, DBI_LOG };
	struct verify v = { .s = s, .cb = cb, .arg = arg };
	int rc;

	if ((rc = oplog_store__txn_begin(s, MDB_RDONLY, &v.txn)))
		return rc;
	if ((rc = mdb_cursor_open(v.txn, s->dbi[DBI_BY_SEQ], &v.seq_cur))) {
		rc = oplog_store__mdb_err(rc, "by_seq");
		goto done;
	}
	if ((rc = oplog_store__walk(s, v.txn, DBI_BY_SEQ, NULL, 0, 0, check_entry, &v)))
		goto done;
	for (size_t i = 0; i < sizeof(indexes) / sizeof(indexes[0]); i++) {
		struct index_check c = { .v = &v, .dbi = indexes[i] };
		uint64_t want = v.n_entries;
		if ((rc = oplog_store__walk(s, v.txn, indexes[i], NULL, 0, 0, check_index, &c)))
			goto done;
		if (c.n != want)
			problem(&v, "%s: %llu records for %llu entries", oplog_store__dbi_names[indexes[i]],
			        (unsigned long long)c.n, (unsigned long long)want);
	}
	if ((rc = oplog_store__walk(s, v.txn, DBI_HEADS, NULL, 0, 0, check_node, &v)) ||
	    (rc = oplog_store__walk(s, v.txn, DBI_DOCS, NULL, 0, 0, check_doc, &v)) ||
	    (rc = oplog_store__walk(s, v.txn, DBI_BREAKS, NULL, 0, 0, check_break, &v)) ||
	    (rc = oplog_store__walk(s, v.txn, DBI_FORKS, NULL, 0, 0, check_fork, &v)) ||
	    (rc = oplog_store__walk(s, v.txn, DBI_NAMES, NULL, 0, 0, check_name, &v)))
		goto done;
	{
		MDB_val k = { sizeof("next_id.log") - 1, "next_id.log" }, val;
		rc = mdb_get(v.txn, s->dbi[DBI_META], &k, &val);
		v.next_log = rc == 0 && val.mv_size == 8 ? get_u64(val.mv_data) : 1;
		if ((rc = oplog_store__walk(s, v.txn, DBI_BLOOMS, NULL, 0, 0, check_bloom, &v)))
			goto done;
	}
done:
	if (v.seq_cur)
		mdb_cursor_close(v.seq_cur);
	mdb_txn_abort(v.txn);
	free(v.group);
	return rc ? rc : v.problems;
}
