/*
 * verify.c: check every access path against the oplog, and every derived
 * record (heads, watermarks, documents, forks, chain breaks, links)
 * against what the oplog implies. One read transaction, so a verify of a
 * live store sees one committed state.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "oplog/error.h"
#include "store_int.h"

struct verify {
	struct oplog_store *s;
	MDB_txn            *txn;
	MDB_cursor         *seq_cur;
	oplog_problem_cb    cb;
	void               *arg;
	int64_t             problems;
	uint64_t            n_entries, n_with_prev;
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
		if (v->group_n == v->group_cap) {
			size_t cap = v->group_cap ? v->group_cap * 2 : 8;
			void *p = realloc(v->group, cap * OPLOG_HASH_LEN);
			if (!p)
				return oplog_error__set(OPLOG_ENOMEM, "verify: out of memory");
			v->group = p;
			v->group_cap = cap;
		}
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

/* Pass 1: each stored entry is valid and reachable through every path. */
static int check_entry(const MDB_val *k, const MDB_val *val, void *arg)
{
	struct verify *v = arg;
	struct oplog_store *s = v->s;
	const uint8_t *hash = (uint8_t *)k->mv_data + 4;
	uint32_t ds = get_u32(k->mv_data), nid;
	struct oplog_entry e;
	struct oplog_reject rej;
	struct oplog_slice dsname;
	struct node_state ns;
	uint8_t kb[KEY_MAX], *p;
	char en[96];
	MDB_val got;
	int rc;

	(void)val;
	v->n_entries++;
	if (k->mv_size != 4 + OPLOG_HASH_LEN) {
		problem(v, "entries: key of %zu bytes", k->mv_size);
		return 0;
	}
	ename(en, ds, hash);
	if ((rc = oplog_store__entry_bytes(s, v->txn, ds, hash, &got, NULL))) {
		if (rc != OPLOG_ECORRUPT)
			return rc;
		problem(v, "log: %s: %s", en, oplog_error_last());
		return 0;
	}
	if (oplog_entry_decode(got.mv_data, got.mv_size, got.mv_size, 0, &e, &rej)) {
		problem(v, "entries: %s does not decode: %s %s", en,
		        oplog_reason_name(rej.reason), rej.detail);
		return 0;
	}
	if (memcmp(e.hash, hash, OPLOG_HASH_LEN))
		problem(v, "entries: %s is stored under another entry's hash", en);
	if ((rc = oplog_store__id_name(s, v->txn, KIND_DS, ds, &dsname)) == OPLOG_ECORRUPT) {
		problem(v, "ids: dataset id %u of %s has no name", ds, en);
		return 0;
	}
	if (rc)
		return rc;
	if (dsname.len != e.ds.len || memcmp(dsname.ptr, e.ds.ptr, e.ds.len))
		problem(v, "entries: %s is stored under dataset id %u of another name", en, ds);
	rc = oplog_store__id_lookup(s, v->txn, KIND_NODE, e.node, &nid);
	if (rc == OPLOG_ENOTFOUND) {
		problem(v, "names: node of %s has no id", en);
		return 0;
	}
	if (rc)
		return rc;
	if (e.prev)
		v->n_with_prev++;

	p = kb + key_hlc(kb, ds, e.wall, e.logic, e.node, e.hash);
	if ((rc = exists(v, DBI_BY_HLC, kb, (size_t)(p - kb), &got)) < 0)
		return rc;
	if (!rc || got.mv_size != 12 || get_u32(got.mv_data) != nid ||
	    get_u64((uint8_t *)got.mv_data + 4) != e.seq)
		problem(v, "by_hlc: %s (seq %llu) missing or wrong", en, (unsigned long long)e.seq);

	p = kb + key_node_hlc(kb, ds, nid, e.wall, e.logic, e.hash);
	if ((rc = exists(v, DBI_BY_NODE, kb, (size_t)(p - kb), &got)) < 0)
		return rc;
	if (!rc || got.mv_size != 8 || get_u64(got.mv_data) != e.seq)
		problem(v, "by_node: %s missing or wrong", en);

	p = kb + key_seq(kb, ds, nid, e.seq, e.hash);
	if ((rc = exists(v, DBI_BY_SEQ, kb, (size_t)(p - kb), &got)) < 0)
		return rc;
	if (!rc || got.mv_size != (e.prev ? OPLOG_HASH_LEN : 0) ||
	    (e.prev && memcmp(got.mv_data, e.prev, OPLOG_HASH_LEN)))
		problem(v, "by_seq: %s missing or wrong", en);

	if (e.prev) {
		MDB_cursor *cur;
		MDB_val lk = { 4 + OPLOG_HASH_LEN, kb }, lv = { OPLOG_HASH_LEN, (void *)e.hash };
		key_hash(kb, ds, e.prev);
		if ((rc = mdb_cursor_open(v->txn, s->dbi[DBI_LINKS], &cur)))
			return oplog_store__mdb_err(rc, "links");
		rc = mdb_cursor_get(cur, &lk, &lv, MDB_GET_BOTH);
		mdb_cursor_close(cur);
		if (rc == MDB_NOTFOUND)
			problem(v, "links: forward link to %s missing", en);
		else if (rc)
			return oplog_store__mdb_err(rc, "links");
	}

	/* Head: at or after every entry of its node. */
	rc = oplog_store__node_state_get(s, v->txn, ds, nid, &ns);
	if (rc == OPLOG_ENOTFOUND) {
		problem(v, "heads: no head for the node of %s", en);
		memset(&ns, 0, sizeof(ns));
	} else if (rc) {
		return rc;
	} else if (oplog_store__hlc_cmp(e.wall, e.logic, e.node, e.hash,
	                                ns.head_wall, ns.head_logic, e.node, ns.head_hash) > 0) {
		problem(v, "heads: %s is after its node's head (seq %llu)", en,
		        (unsigned long long)ns.head_seq);
	}

	/* Document: its winner is at or after this entry. */
	if ((rc = oplog_store__doc_key(kb, ds, e.col, e.key)))
		return rc;
	if ((rc = exists(v, DBI_DOCS, kb, 4 + OPLOG_HASH_LEN, &got)) < 0)
		return rc;
	if (!rc) {
		problem(v, "docs: no document for %s", en);
	} else {
		struct doc_rec d;
		if (oplog_store__doc_parse(&got, &d) ||
		    (rc = oplog_store__id_name(s, v->txn, KIND_NODE, d.nid, &d.d.node)))
			problem(v, "docs: record for %s is malformed", en);
		else if (oplog_store__hlc_cmp(e.wall, e.logic, e.node, e.hash, d.d.wall,
		                              d.d.logic, d.d.node, d.d.hash) > 0)
			problem(v, "docs: %s is later than its document's winner", en);
	}

	/* Chain break: recorded exactly when prev matches nothing at seq-1.
	 * Once seq-1 was pruned (even in part) the record is history. */
	if (e.prev && e.seq - 1 > ns.pruned) {
		int present;
		if ((rc = load_group(v, ds, nid, e.seq - 1)))
			return rc;
		p = kb + key_seq(kb, ds, nid, e.seq, e.hash);
		if ((present = exists(v, DBI_BREAKS, kb, (size_t)(p - kb), NULL)) < 0)
			return present;
		if (v->group_n && !in_group(v, e.prev) && !present)
			problem(v, "breaks: %s does not chain to seq %llu but no break is recorded",
			        en, (unsigned long long)e.seq - 1);
		if (v->group_n && in_group(v, e.prev) && present)
			problem(v, "breaks: %s is recorded as a break but chains correctly", en);
	}

	/* Fork: recorded when the seq has several hashes. */
	if ((rc = load_group(v, ds, nid, e.seq)))
		return rc;
	if (v->group_n > 1) {
		MDB_cursor *cur;
		MDB_val fk = { 16, kb }, fv = { OPLOG_HASH_LEN, (void *)e.hash };
		key_seq(kb, ds, nid, e.seq, NULL);
		if ((rc = mdb_cursor_open(v->txn, s->dbi[DBI_FORKS], &cur)))
			return oplog_store__mdb_err(rc, "forks");
		rc = mdb_cursor_get(cur, &fk, &fv, MDB_GET_BOTH);
		mdb_cursor_close(cur);
		if (rc == MDB_NOTFOUND)
			problem(v, "forks: %s shares its seq with another hash but no fork is recorded", en);
		else if (rc)
			return oplog_store__mdb_err(rc, "forks");
	}
	return 0;
}

/* Pass 2: every index record points at a stored entry. */
struct index_check {
	struct verify *v;
	int            dbi;
	uint64_t       n;
};

static int check_index(const MDB_val *k, const MDB_val *val, void *arg)
{
	struct index_check *c = arg;
	const uint8_t *kb = k->mv_data;
	const uint8_t *hash = c->dbi == DBI_LINKS ? val->mv_data : kb + k->mv_size - OPLOG_HASH_LEN;
	uint8_t ek[4 + OPLOG_HASH_LEN];
	MDB_val got;
	int rc;

	c->n++;
	if (k->mv_size < 4 + OPLOG_HASH_LEN) {
		problem(c->v, "%s: key of %zu bytes", oplog_store__dbi_names[c->dbi], k->mv_size);
		return 0;
	}
	key_hash(ek, get_u32(kb), hash);
	if ((rc = exists(c->v, DBI_ENTRIES, ek, sizeof(ek), &got)) < 0)
		return rc;
	if (!rc) {
		char en[96];
		problem(c->v, "%s: points at %s, which is not in the oplog",
		        oplog_store__dbi_names[c->dbi], ename(en, get_u32(kb), hash));
	}
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
		struct oplog_reject rej;
		MDB_val msg;

		rc = oplog_store__entry_bytes(v->s, v->txn, ds, ns.head_hash, &msg, NULL);
		if (rc && rc != OPLOG_ENOTFOUND)
			return rc;
		head_present = rc == 0;
		if (head_present &&
		    (oplog_entry_decode(msg.mv_data, msg.mv_size, msg.mv_size,
		                        OPLOG_DECODE_NOVERIFY, &e, &rej) ||
		     e.seq != ns.head_seq || e.wall != ns.head_wall || e.logic != ns.head_logic))
			problem(v, "heads: ds#%u node#%u: head seq/wall/logic differ from its entry",
			        ds, nid);
	}
	if (!head_present && ns.head_seq > ns.pruned)
		problem(v, "heads: ds#%u node#%u: head seq %llu is neither present nor pruned",
		        ds, nid, (unsigned long long)ns.head_seq);
	put_u32(put_u32(kb, ds), nid + 1);
	if ((rc = mdb_cursor_open(v->txn, v->s->dbi[DBI_BY_NODE], &cur)))
		return oplog_store__mdb_err(rc, "by_node");
	hk = (MDB_val){ 8, kb };
	rc = mdb_cursor_get(cur, &hk, &hv, MDB_SET_RANGE);
	rc = rc == 0 ? mdb_cursor_get(cur, &hk, &hv, MDB_PREV) : mdb_cursor_get(cur, &hk, &hv, MDB_LAST);
	put_u32(put_u32(kb, ds), nid);
	if (rc == 0 && key_has_prefix(&hk, kb, 8) && hk.mv_size == 8 + 12 + OPLOG_HASH_LEN &&
	    head_present && memcmp((uint8_t *)hk.mv_data + 20, ns.head_hash, OPLOG_HASH_LEN))
		problem(v, "heads: ds#%u node#%u: head is not the node's latest entry", ds, nid);
	mdb_cursor_close(cur);
	return 0;
}

/* Pass 4: each document's winner is present and equal, or was pruned. */
static int check_doc(const MDB_val *k, const MDB_val *val, void *arg)
{
	struct verify *v = arg;
	uint32_t ds = get_u32(k->mv_data);
	struct doc_rec d;
	struct oplog_entry e;
	struct oplog_reject rej;
	struct node_state ns;
	uint8_t kb[4 + OPLOG_HASH_LEN];
	char en[96];
	MDB_val got;
	int rc;

	if (oplog_store__doc_parse(val, &d)) {
		problem(v, "docs: malformed record in ds#%u", ds);
		return 0;
	}
	ename(en, ds, d.d.hash);
	if ((rc = oplog_store__doc_key(kb, ds, d.d.col, d.d.key)))
		return rc;
	if (memcmp(kb, k->mv_data, sizeof(kb)))
		problem(v, "docs: winner %s is filed under another document's key", en);
	rc = oplog_store__entry_bytes(v->s, v->txn, ds, d.d.hash, &got, NULL);
	if (rc && rc != OPLOG_ENOTFOUND)
		return rc;
	if (rc == 0) {
		if (oplog_entry_decode(got.mv_data, got.mv_size, got.mv_size, OPLOG_DECODE_NOVERIFY,
		                       &e, &rej) == 0 &&
		    (e.seq != d.d.seq || e.wall != d.d.wall || e.logic != d.d.logic ||
		     e.op != d.d.op || e.data.len != d.d.data.len ||
		     (e.data.len && memcmp(e.data.ptr, d.d.data.ptr, e.data.len))))
			problem(v, "docs: winner %s differs from the stored entry", en);
		return 0;
	}
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
	struct oplog_entry e;
	struct oplog_reject rej;
	struct node_state ns;
	char en[96];
	MDB_val msg;
	int rc;

	ename(en, ds, hash);
	rc = oplog_store__entry_bytes(v->s, v->txn, ds, hash, &msg, NULL);
	if (rc == 0) {
		if (oplog_entry_decode(msg.mv_data, msg.mv_size, msg.mv_size,
		                       OPLOG_DECODE_NOVERIFY, &e, &rej) ||
		    e.seq != seq || (prev && (!e.prev || memcmp(e.prev, prev, OPLOG_HASH_LEN))))
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
	static const int indexes[] = { DBI_BY_HLC, DBI_BY_NODE, DBI_BY_SEQ, DBI_LINKS };
	struct verify v = { .s = s, .cb = cb, .arg = arg };
	int rc;

	if ((rc = oplog_store__txn_begin(s, MDB_RDONLY, &v.txn)))
		return rc;
	if ((rc = mdb_cursor_open(v.txn, s->dbi[DBI_BY_SEQ], &v.seq_cur))) {
		rc = oplog_store__mdb_err(rc, "by_seq");
		goto done;
	}
	if ((rc = oplog_store__walk(s, v.txn, DBI_ENTRIES, NULL, 0, 0, check_entry, &v)))
		goto done;
	for (size_t i = 0; i < sizeof(indexes) / sizeof(indexes[0]); i++) {
		struct index_check c = { .v = &v, .dbi = indexes[i] };
		uint64_t want = indexes[i] == DBI_LINKS ? v.n_with_prev : v.n_entries;
		if ((rc = oplog_store__walk(s, v.txn, indexes[i], NULL, 0, 0, check_index, &c)))
			goto done;
		if (c.n != want)
			problem(&v, "%s: %llu records for %llu entries", oplog_store__dbi_names[indexes[i]],
			        (unsigned long long)c.n, (unsigned long long)want);
	}
	{
		MDB_stat st;
		if ((rc = mdb_stat(v.txn, s->dbi[DBI_LOG], &st))) {
			rc = oplog_store__mdb_err(rc, "mdb_stat(log)");
			goto done;
		}
		if (st.ms_entries != v.n_entries)
			problem(&v, "log: %llu records for %llu entries",
			        (unsigned long long)st.ms_entries, (unsigned long long)v.n_entries);
	}
	if ((rc = oplog_store__walk(s, v.txn, DBI_HEADS, NULL, 0, 0, check_node, &v)) ||
	    (rc = oplog_store__walk(s, v.txn, DBI_DOCS, NULL, 0, 0, check_doc, &v)) ||
	    (rc = oplog_store__walk(s, v.txn, DBI_BREAKS, NULL, 0, 0, check_break, &v)) ||
	    (rc = oplog_store__walk(s, v.txn, DBI_FORKS, NULL, 0, 0, check_fork, &v)) ||
	    (rc = oplog_store__walk(s, v.txn, DBI_NAMES, NULL, 0, 0, check_name, &v)))
		goto done;
done:
	if (v.seq_cur)
		mdb_cursor_close(v.seq_cur);
	mdb_txn_abort(v.txn);
	free(v.group);
	return rc ? rc : v.problems;
}
