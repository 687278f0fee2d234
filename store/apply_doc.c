/*
 * apply_doc.c: rule 6 of apply-semantics, the documents' winners: each
 * batch keeps the latest candidate per document and writes it once,
 * against the stored winner (docs/STORE.md, "docs").
 */
#include <stdlib.h>

#include "oplog/error.h"
#include "apply_int.h"

int oplog_store__doc_put(MDB_cursor *cur, const uint8_t *kb, const struct oplog_entry *e,
                         uint32_t nid, uint64_t id, unsigned flags)
{
	MDB_val k = { DOC_KEY_LEN, (void *)kb }, v;
	uint8_t *p;
	int rc;

	v.mv_size = id ? DOC_PTR_LEN : DOC_HDR + e->col.len + e->key.len + e->data.len;
	if ((rc = mdb_cursor_put(cur, &k, &v, flags | MDB_RESERVE)))
		return oplog_store__mdb_err(rc, "mdb_cursor_put(docs)");
	p = v.mv_data;
	if (id) {
		put_u32(put_u64(put_u64(p, id), e->wall), e->logic);
		return 0;
	}
	p = put_u64(p, e->wall);
	p = put_u32(p, e->logic);
	p = put_u32(p, nid);
	p = put_u64(p, e->seq);
	p = put_bytes(p, e->hash, OPLOG_HASH_LEN);
	*p++ = (uint8_t)e->op;
	p = put_u16(p, (uint16_t)e->col.len);
	p = put_u16(p, (uint16_t)e->key.len);
	p = put_u32(p, (uint32_t)e->data.len);
	p = put_u64(p, 0);
	p = put_bytes(p, e->col.ptr, e->col.len);
	p = put_bytes(p, e->key.ptr, e->key.len);
	if (e->data.len)
		put_bytes(p, e->data.ptr, e->data.len);
	return 0;
}

static int doc_later(const struct oplog_entry *e, const struct oplog_entry *w)
{
	return oplog_store__hlc_cmp(e->wall, e->logic, e->node, e->hash,
	                            w->wall, w->logic, w->node, w->hash) > 0;
}

static size_t doc_slot(const uint8_t *key, size_t cap)
{
	return (size_t)get_u64(key + 4) & (cap - 1);   /* the key holds a SHA-256 */
}

int oplog_store__docs_init(struct doc_table *t, size_t n)
{
	for (t->cap = 1024; t->cap < 2 * n; t->cap *= 2)
		;
	t->n = 0;
	if (!(t->docs = calloc(t->cap, sizeof(*t->docs))))
		return oplog_error__set(OPLOG_ENOMEM, "apply: out of memory");
	return 0;
}

int oplog_store__doc_candidate(struct doc_table *t, uint32_t ds, uint32_t nid, uint64_t id,
                               const struct oplog_entry *e)
{
	uint8_t sha[OPLOG_HASH_LEN];
	struct doc_cand *c, cand;
	size_t j;
	int rc;

	if ((rc = oplog_store__doc_sha(sha, e->col, e->key)))
		return rc;
	cand = (struct doc_cand){ .check = get_u64(sha + DOC_HASH_LEN), .wall = e->wall,
	                          .logic = e->logic, .nid = nid, .e = e, .id = id };
	put_bytes(put_u32(cand.key, ds), sha, DOC_HASH_LEN);
	if ((t->n + 1) * 2 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024;
		struct doc_cand *nt = calloc(cap, sizeof(*nt));
		if (!nt)
			return oplog_error__set(OPLOG_ENOMEM, "apply: out of memory");
		for (size_t i = 0; i < t->cap; i++) {
			if (!t->docs[i].e)
				continue;
			for (j = doc_slot(t->docs[i].key, cap); nt[j].e; j = (j + 1) & (cap - 1))
				;
			nt[j] = t->docs[i];
		}
		free(t->docs);
		t->docs = nt;
		t->cap = cap;
	}
	for (j = doc_slot(cand.key, t->cap); (c = &t->docs[j])->e;
	     j = (j + 1) & (t->cap - 1)) {
		if (memcmp(c->key, cand.key, DOC_KEY_LEN) != 0)
			continue;
		/* 20 bytes of SHA-256 name the document; the stored winner's
		 * col and key are compared in oplog_store__docs_write. */
		if (c->check != cand.check)
			return oplog_error__set(OPLOG_ECORRUPT, "docs: key hash collision");
		if (cand.wall > c->wall || (cand.wall == c->wall &&
		    (cand.logic > c->logic || (cand.logic == c->logic && doc_later(e, c->e)))))
			*c = cand;
		return 0;
	}
	*c = cand;
	t->n++;
	return 0;
}

static int doc_cand_cmp(const void *x, const void *y)
{
	const struct doc_cand *a = x, *b = y;

	return memcmp(a->key, b->key, sizeof(a->key));
}

int oplog_store__docs_write(struct oplog_store *s, MDB_txn *txn, struct doc_table *t)
{
	MDB_cursor *cur = NULL;
	int rc = 0;

	if (!t->n)
		return 0;
	for (size_t i = 0, j = 0; i < t->cap; i++)
		if (t->docs[i].e)
			t->docs[j++] = t->docs[i];
	qsort(t->docs, t->n, sizeof(*t->docs), doc_cand_cmp);
	if ((rc = mdb_cursor_open(txn, s->dbi[DBI_DOCS], &cur)))
		return oplog_store__mdb_err(rc, "mdb_cursor_open(docs)");
	for (size_t i = 0; i < t->n; i++) {
		const struct doc_cand *c = &t->docs[i];
		MDB_val k = { sizeof(c->key), (void *)c->key }, v;
		unsigned flags = 0;

		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
		if (rc == 0 && v.mv_size == DOC_PTR_LEN &&
		    (get_u64((uint8_t *)v.mv_data + 8) != c->wall ||
		     get_u32((uint8_t *)v.mv_data + 16) != c->logic)) {
			/* The winner's (wall, logic) decides: no need to read it.
			 * 16 bytes of SHA-256 name the document. */
			uint64_t ww = get_u64((uint8_t *)v.mv_data + 8);
			uint32_t wl = get_u32((uint8_t *)v.mv_data + 16);

			if (c->wall < ww || (c->wall == ww && c->logic < wl))
				continue;
			flags = MDB_CURRENT;
		} else if (rc == 0) {
			struct doc_rec w;
			struct oplog_entry we;

			if ((rc = oplog_store__doc_read(s, txn, &v, &w)))
				goto done;
			if (slice_cmp(c->e->col, w.d.col) || slice_cmp(c->e->key, w.d.key)) {
				rc = oplog_error__set(OPLOG_ECORRUPT, "docs: key hash collision");
				goto done;
			}
			we = (struct oplog_entry){ .wall = w.d.wall, .logic = w.d.logic,
			                           .node = w.d.node };
			we.hash = w.d.hash;
			if (!doc_later(c->e, &we))
				continue;
			flags = MDB_CURRENT;
		} else if (rc != MDB_NOTFOUND) {
			rc = oplog_store__mdb_err(rc, "mdb_cursor_get(docs)");
			goto done;
		}
		if ((rc = oplog_store__doc_put(cur, c->key, c->e, c->nid, c->id, flags)))
			goto done;
	}
	rc = 0;
done:
	mdb_cursor_close(cur);
	return rc;
}
