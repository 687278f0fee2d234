/* encode.c: an entry as a message, in the shortest msgpack forms. */
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "oplog/entry.h"
#include "oplog/error.h"

static int pack_cstr(msgpack_packer *pk, const char *k)
{
	size_t n = strlen(k);

	if (msgpack_pack_str(pk, n) != 0)
		return -1;
	return msgpack_pack_str_body(pk, k, n);
}

static int pack_str(msgpack_packer *pk, const char *k, const struct oplog_slice *s)
{
	if (pack_cstr(pk, k) != 0 || msgpack_pack_str(pk, s->len) != 0)
		return -1;
	return s->len == 0 ? 0 : msgpack_pack_str_body(pk, s->ptr, s->len);
}

static int pack_bin(msgpack_packer *pk, const char *k, const uint8_t *p, size_t n)
{
	if (pack_cstr(pk, k) != 0 || msgpack_pack_bin(pk, n) != 0)
		return -1;
	return n == 0 ? 0 : msgpack_pack_bin_body(pk, p, n);
}

static int pack_uint(msgpack_packer *pk, const char *k, uint64_t v)
{
	if (pack_cstr(pk, k) != 0)
		return -1;
	return msgpack_pack_uint64(pk, v);
}

int oplog_entry_encode(const struct oplog_entry *e, uint8_t **out, size_t *out_len)
{
	msgpack_sbuffer sb = { 0, NULL, 0 };
	msgpack_packer pk;
	int has_data = e->op == OPLOG_OP_PUT || e->data.ptr != NULL;
	int has_prev = e->prev != NULL;
	size_t cap;
	int rc = 0;

	if (e->op != OPLOG_OP_PUT && e->op != OPLOG_OP_DEL)
		return oplog_error__set(OPLOG_EINVAL, "encode: op %d is neither put "
		                        "nor del", (int)e->op);
	if (e->ds.len > UINT32_MAX || e->node.len > UINT32_MAX ||
	    e->col.len > UINT32_MAX || e->key.len > UINT32_MAX ||
	    e->data.len > UINT32_MAX)
		return oplog_error__set(OPLOG_EINVAL, "encode: a field is longer "
		                        "than msgpack allows");
	/* Room for the worst-case headers, so the buffer never grows. */
	cap = 192 + e->ds.len + e->node.len + e->col.len + e->key.len +
	      (has_data ? e->data.len : 0);
	sb.data = malloc(cap);
	if (sb.data == NULL) {
		rc = oplog_error__set(OPLOG_ENOMEM, "encode: %zu bytes", cap);
		goto done;
	}
	sb.alloc = cap;
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	if (msgpack_pack_map(&pk, 10 + (size_t)has_data + (size_t)has_prev) != 0 ||
	    pack_uint(&pk, "v", 1) != 0 ||
	    pack_str(&pk, "ds", &e->ds) != 0 ||
	    pack_str(&pk, "node", &e->node) != 0 ||
	    pack_uint(&pk, "seq", e->seq) != 0 ||
	    pack_uint(&pk, "wall", e->wall) != 0 ||
	    pack_uint(&pk, "logic", e->logic) != 0 ||
	    pack_str(&pk, "col", &e->col) != 0 ||
	    pack_str(&pk, "key", &e->key) != 0 ||
	    pack_cstr(&pk, "op") != 0 ||
	    pack_cstr(&pk, e->op == OPLOG_OP_PUT ? "put" : "del") != 0 ||
	    pack_bin(&pk, "hash", e->hash, e->hash != NULL ? OPLOG_HASH_LEN : 0) != 0 ||
	    (has_data && pack_bin(&pk, "data", e->data.ptr, e->data.len) != 0) ||
	    (has_prev && pack_bin(&pk, "prev", e->prev, OPLOG_HASH_LEN) != 0)) {
		rc = oplog_error__set(OPLOG_ENOMEM, "encode: out of memory");
		goto done;
	}
	*out = (uint8_t *)sb.data;
	*out_len = sb.size;
	sb.data = NULL;
done:
	free(sb.data);
	return rc;
}
