/* util_entry.c: an entry builder of our own, written from wire-format-v1 alone,
 * independent of the codec the store links
 * (see util_store.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "util_store.h"

/* ------------------------------------------------------------------ */
/* Encoding: a growable buffer and the msgpack forms the format needs.  */

struct ubuf {
	uint8_t *p;
	size_t   len, cap;
	int      oom;
};

static void ub_put(struct ubuf *b, const void *d, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		uint8_t *p;

		while (cap < b->len + n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void ub_be(struct ubuf *b, uint64_t v, int bytes)
{
	uint8_t t[8];
	int i;

	for (i = 0; i < bytes; i++)
		t[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
	ub_put(b, t, (size_t)bytes);
}

static void mp_uint(struct ubuf *b, uint64_t v)
{
	uint8_t tag;

	if (v < 128) {
		ub_be(b, v, 1);
	} else if (v <= 0xff) {
		tag = 0xcc; ub_put(b, &tag, 1); ub_be(b, v, 1);
	} else if (v <= 0xffff) {
		tag = 0xcd; ub_put(b, &tag, 1); ub_be(b, v, 2);
	} else if (v <= 0xffffffffu) {
		tag = 0xce; ub_put(b, &tag, 1); ub_be(b, v, 4);
	} else {
		tag = 0xcf; ub_put(b, &tag, 1); ub_be(b, v, 8);
	}
}

/* Returns the offset of the string's bytes in the buffer. */
static size_t mp_str(struct ubuf *b, const uint8_t *s, size_t n)
{
	size_t off;

	if (n < 32) {
		ub_be(b, 0xa0 | n, 1);
	} else if (n <= 0xff) {
		ub_be(b, 0xd9, 1); ub_be(b, n, 1);
	} else if (n <= 0xffff) {
		ub_be(b, 0xda, 1); ub_be(b, n, 2);
	} else {
		ub_be(b, 0xdb, 1); ub_be(b, n, 4);
	}
	off = b->len;
	ub_put(b, s, n);
	return off;
}

static size_t mp_bin(struct ubuf *b, const uint8_t *s, size_t n)
{
	size_t off;

	if (n <= 0xff) {
		ub_be(b, 0xc4, 1); ub_be(b, n, 1);
	} else if (n <= 0xffff) {
		ub_be(b, 0xc5, 1); ub_be(b, n, 2);
	} else {
		ub_be(b, 0xc6, 1); ub_be(b, n, 4);
	}
	off = b->len;
	ub_put(b, s, n);
	return off;
}

static void mp_key(struct ubuf *b, const char *k)
{
	mp_str(b, (const uint8_t *)k, strlen(k));
}

/* SHA-256 of the wire-format-v1 preimage of *sp. 0 or -1. */
static int spec_hash(const struct util_spec *sp, uint8_t out[OPLOG_HASH_LEN])
{
	static const uint8_t zero[OPLOG_HASH_LEN];
	struct ubuf b = { 0 };
	unsigned int outlen = 0;
	int rc = -1;

	ub_put(&b, "oplog.v1", 8);
	ub_be(&b, sp->ds.len, 2);   ub_put(&b, sp->ds.ptr, sp->ds.len);
	ub_be(&b, sp->node.len, 2); ub_put(&b, sp->node.ptr, sp->node.len);
	ub_be(&b, sp->seq, 8);
	ub_be(&b, sp->wall, 8);
	ub_be(&b, sp->logic, 4);
	ub_be(&b, sp->col.len, 2);  ub_put(&b, sp->col.ptr, sp->col.len);
	ub_be(&b, sp->key.len, 2);  ub_put(&b, sp->key.ptr, sp->key.len);
	ub_be(&b, sp->op == OPLOG_OP_DEL ? 2 : 1, 1);
	if (sp->op == OPLOG_OP_DEL) {
		ub_be(&b, 0, 4);
	} else {
		ub_be(&b, sp->data.len, 4);
		ub_put(&b, sp->data.ptr, sp->data.len);
	}
	ub_put(&b, sp->prev ? sp->prev : zero, OPLOG_HASH_LEN);
	if (b.oom)
		goto done;
	if (EVP_Digest(b.p, b.len, out, &outlen, EVP_sha256(), NULL) != 1 ||
	    outlen != OPLOG_HASH_LEN)
		goto done;
	rc = 0;
done:
	free(b.p);
	return rc;
}

/* Encode *sp with `hash` in its hash field (see util_entry_make). */
static int entry_encode(struct util_entry *out, const struct util_spec *sp,
                        const uint8_t *hash)
{
	struct ubuf b = { 0 };
	size_t o_ds, o_node, o_col, o_key, o_hash, o_data = 0, o_prev = 0;
	int is_put = sp->op != OPLOG_OP_DEL;

	ub_be(&b, 0x80 | (10 + is_put + (sp->prev != NULL)), 1);
	mp_key(&b, "v");     mp_uint(&b, 1);
	mp_key(&b, "ds");    o_ds = mp_str(&b, sp->ds.ptr, sp->ds.len);
	mp_key(&b, "node");  o_node = mp_str(&b, sp->node.ptr, sp->node.len);
	mp_key(&b, "seq");   mp_uint(&b, sp->seq);
	mp_key(&b, "wall");  mp_uint(&b, sp->wall);
	mp_key(&b, "logic"); mp_uint(&b, sp->logic);
	mp_key(&b, "col");   o_col = mp_str(&b, sp->col.ptr, sp->col.len);
	mp_key(&b, "key");   o_key = mp_str(&b, sp->key.ptr, sp->key.len);
	mp_key(&b, "op");    mp_key(&b, is_put ? "put" : "del");
	mp_key(&b, "hash");  o_hash = mp_bin(&b, hash, OPLOG_HASH_LEN);
	if (is_put) {
		mp_key(&b, "data");
		o_data = mp_bin(&b, sp->data.ptr, sp->data.len);
	}
	if (sp->prev) {
		mp_key(&b, "prev");
		o_prev = mp_bin(&b, sp->prev, OPLOG_HASH_LEN);
	}
	if (b.oom) {
		free(b.p);
		return OPLOG_ENOMEM;
	}

	/* The view points into the finished buffer, as a decoded view would. */
	out->msg = b.p;
	out->len = b.len;
	out->e.ds.ptr = b.p + o_ds;     out->e.ds.len = sp->ds.len;
	out->e.node.ptr = b.p + o_node; out->e.node.len = sp->node.len;
	out->e.seq = sp->seq;
	out->e.wall = sp->wall;
	out->e.logic = sp->logic;
	out->e.col.ptr = b.p + o_col;   out->e.col.len = sp->col.len;
	out->e.key.ptr = b.p + o_key;   out->e.key.len = sp->key.len;
	out->e.op = is_put ? OPLOG_OP_PUT : OPLOG_OP_DEL;
	if (is_put) {
		out->e.data.ptr = b.p + o_data;
		out->e.data.len = sp->data.len;
	}
	out->e.prev = sp->prev ? b.p + o_prev : NULL;
	out->e.hash = b.p + o_hash;
	out->hash = out->e.hash;
	return 0;
}

int util_entry_make(struct util_entry *out, const struct util_spec *sp)
{
	uint8_t hash[OPLOG_HASH_LEN];

	memset(out, 0, sizeof(*out));
	if ((sp->seq == 1) != (sp->prev == NULL))
		return OPLOG_EINVAL;
	if (spec_hash(sp, hash) != 0)
		return OPLOG_ENOMEM;
	return entry_encode(out, sp, hash);
}

int util_entry_make_forged(struct util_entry *out, const struct util_spec *sp,
                           const uint8_t hash[OPLOG_HASH_LEN])
{
	memset(out, 0, sizeof(*out));
	if ((sp->seq == 1) != (sp->prev == NULL))
		return OPLOG_EINVAL;
	return entry_encode(out, sp, hash);
}

int util_doc_key(uint32_t ds_id, const char *col, const char *key,
                 uint8_t out[UTIL_DOC_KEY_LEN])
{
	struct ubuf b = { 0 };
	uint8_t sha[OPLOG_HASH_LEN];
	unsigned int outlen = 0;
	int rc = -1;

	ub_be(&b, strlen(col), 2);
	ub_put(&b, col, strlen(col));
	ub_put(&b, key, strlen(key));
	if (!b.oom && EVP_Digest(b.p, b.len, sha, &outlen, EVP_sha256(), NULL) == 1 &&
	    outlen == OPLOG_HASH_LEN) {
		memcpy(out + 4, sha, UTIL_DOC_KEY_LEN - 4);
		out[0] = (uint8_t)(ds_id >> 24);
		out[1] = (uint8_t)(ds_id >> 16);
		out[2] = (uint8_t)(ds_id >> 8);
		out[3] = (uint8_t)ds_id;
		rc = 0;
	}
	free(b.p);
	return rc;
}

int util_entry_build(struct util_entry *out, const char *ds, const char *node,
                     uint64_t seq, uint64_t wall, uint32_t logic,
                     const char *col, const char *key, enum oplog_op op,
                     const char *data, const uint8_t *prev)
{
	struct util_spec sp;

	memset(&sp, 0, sizeof(sp));
	sp.ds = util_sl(ds);
	sp.node = util_sl(node);
	sp.seq = seq;
	sp.wall = wall;
	sp.logic = logic;
	sp.col = util_sl(col);
	sp.key = util_sl(key);
	sp.op = op;
	if (op == OPLOG_OP_PUT)
		sp.data = util_sl(data ? data : "");
	sp.prev = prev;
	return util_entry_make(out, &sp);
}

void util_entry_free(struct util_entry *u)
{
	if (!u)
		return;
	free(u->msg);
	memset(u, 0, sizeof(*u));
}

void util_entries_free(struct util_entry *es, size_t n)
{
	size_t i;

	for (i = 0; es && i < n; i++)
		util_entry_free(&es[i]);
}

int util_chain_build(struct util_entry *out, size_t n, const char *ds,
                     const char *node, uint64_t first_seq, const uint8_t *prev,
                     uint64_t wall0)
{
	char key[32], data[32];
	size_t i;
	int rc = 0;

	for (i = 0; i < n; i++) {
		uint64_t seq = first_seq + i;

		snprintf(key, sizeof(key), "k%llu", (unsigned long long)seq);
		snprintf(data, sizeof(data), "d%llu", (unsigned long long)seq);
		rc = util_entry_build(&out[i], ds, node, seq, wall0 + 10 * seq, 0, "c", key,
		                      OPLOG_OP_PUT, data, i ? out[i - 1].hash : prev);
		if (rc) {
			util_entries_free(out, i);
			return rc;
		}
	}
	return 0;
}

int util_hlc_cmp(const struct oplog_entry *a, const struct oplog_entry *b)
{
	size_t n = a->node.len < b->node.len ? a->node.len : b->node.len;
	int c;

	if (a->wall != b->wall)
		return a->wall < b->wall ? -1 : 1;
	if (a->logic != b->logic)
		return a->logic < b->logic ? -1 : 1;
	c = n ? memcmp(a->node.ptr, b->node.ptr, n) : 0;
	if (c)
		return c < 0 ? -1 : 1;
	if (a->node.len != b->node.len)
		return a->node.len < b->node.len ? -1 : 1;
	c = memcmp(a->hash, b->hash, OPLOG_HASH_LEN);
	return c < 0 ? -1 : c > 0;
}
