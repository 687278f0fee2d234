/* json.c: JSON renderings of entries and store records (oplog/json.h). */
#include <stdlib.h>
#include <string.h>

#include "oplog/bytes.h"
#include "oplog/error.h"
#include "oplog/json.h"

static json_t *nomem(void)
{
	oplog_error__set(OPLOG_ENOMEM, "json: out of memory");
	return NULL;
}

json_t *oplog_json_hex(const uint8_t *in, size_t n)
{
	char small[2 * OPLOG_HASH_LEN + 1];
	char *buf = small;
	json_t *j;

	/* Hashes are the common case and fit on the stack. */
	if (n > OPLOG_HASH_LEN && !(buf = malloc(2 * n + 1)))
		return nomem();
	oplog_hex(in, n, buf);
	j = json_stringn_nocheck(buf, 2 * n);
	if (buf != small)
		free(buf);
	return j ? j : nomem();
}

json_t *oplog_json_base64(const uint8_t *in, size_t n)
{
	char *buf;
	size_t len;
	json_t *j;

	if (!(buf = malloc(oplog_base64_len(n) + 1)))
		return nomem();
	len = oplog_base64(in, n, buf);
	j = json_stringn_nocheck(buf, len);
	free(buf);
	return j ? j : nomem();
}

json_t *oplog_json_text(const uint8_t *in, size_t n)
{
	static const char fffd[3] = { (char)0xEF, (char)0xBF, (char)0xBD };
	size_t i = 0, o = 0, len;
	char *buf = NULL;
	json_t *j;

	/* Fast path: most names are valid UTF-8 and need no copy. */
	i = oplog_utf8_span(in, n);
	if (i == n) {
		j = json_stringn_nocheck((const char *)in, n);
		return j ? j : nomem();
	}

	/* Each replaced byte grows to 3 bytes at most. */
	if (!(buf = malloc(3 * n)))
		return nomem();
	memcpy(buf, in, i);
	o = i;
	while (i < n) {
		len = oplog_utf8_seq(in + i, n - i);
		if (len) {
			memcpy(buf + o, in + i, len);
			o += len;
			i += len;
		} else {
			memcpy(buf + o, fffd, 3);
			o += 3;
			i++;
		}
	}
	j = json_stringn_nocheck(buf, o);
	free(buf);
	return j ? j : nomem();
}

/*
 * Set obj[key] = v, taking v. A NULL v (a failed constructor) or a failed
 * set is ENOMEM; building goes on so that callers check once at the end.
 */
static void put(json_t *obj, const char *key, json_t *v, int *err)
{
	if (!v || json_object_set_new_nocheck(obj, key, v) != 0)
		*err = OPLOG_ENOMEM;
}

static json_t *jint(uint64_t v)
{
	/* Every integer oplogd prints (seq, wall < 2^63, counters) fits. */
	return json_integer((json_int_t)v);
}

static json_t *jslice(struct oplog_slice s)
{
	return oplog_json_text(s.ptr, s.len);
}

static const char *op_name(enum oplog_op op)
{
	return op == OPLOG_OP_DEL ? "del" : "put";
}

int oplog_json_entry_into(json_t *obj, const struct oplog_entry *e)
{
	int err = 0;

	put(obj, "ds", jslice(e->ds), &err);
	put(obj, "node", jslice(e->node), &err);
	put(obj, "seq", jint(e->seq), &err);
	put(obj, "wall", jint(e->wall), &err);
	put(obj, "logic", jint(e->logic), &err);
	put(obj, "col", jslice(e->col), &err);
	put(obj, "key", jslice(e->key), &err);
	put(obj, "op", json_string(op_name(e->op)), &err);
	put(obj, "data", e->op == OPLOG_OP_PUT
	    ? oplog_json_base64(e->data.ptr, e->data.len) : json_null(), &err);
	put(obj, "prev", e->prev ? oplog_json_hex(e->prev, OPLOG_HASH_LEN)
	    : json_null(), &err);
	put(obj, "hash", oplog_json_hex(e->hash, OPLOG_HASH_LEN), &err);
	if (err)
		return oplog_error__set(OPLOG_ENOMEM, "json: out of memory");
	return 0;
}

json_t *oplog_json_entry(const struct oplog_entry *e)
{
	json_t *obj = json_object();

	if (!obj)
		return nomem();
	if (oplog_json_entry_into(obj, e) != 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

/* Finish a builder: the object, or NULL with ENOMEM set. */
static json_t *done(json_t *obj, int err)
{
	if (err) {
		json_decref(obj);
		return nomem();
	}
	return obj;
}

json_t *oplog_json_head(const struct oplog_node_info *n)
{
	json_t *obj = json_object();
	int err = 0;

	if (!obj)
		return nomem();
	put(obj, "node", jslice(n->node), &err);
	put(obj, "seq", jint(n->head_seq), &err);
	put(obj, "wall", jint(n->head_wall), &err);
	put(obj, "logic", jint(n->head_logic), &err);
	put(obj, "hash", oplog_json_hex(n->head_hash, OPLOG_HASH_LEN), &err);
	return done(obj, err);
}

json_t *oplog_json_watermark(const struct oplog_node_info *n)
{
	json_t *obj = json_object(), *gaps = json_array();
	int err = 0;
	size_t i;

	if (!obj || !gaps) {
		json_decref(obj);
		json_decref(gaps);
		return nomem();
	}
	/* json_array_append_new() takes the value even when it fails, so a
	 * range appended to gaps first is freed with gaps on any error. */
	for (i = 0; i < n->n_gaps && !err; i++) {
		json_t *r = json_array();

		if (!r || json_array_append_new(gaps, r) != 0 ||
		    json_array_append_new(r, jint(n->gaps[i][0])) != 0 ||
		    json_array_append_new(r, jint(n->gaps[i][1])) != 0)
			err = OPLOG_ENOMEM;
	}
	put(obj, "node", jslice(n->node), &err);
	put(obj, "watermark", jint(n->watermark), &err);
	put(obj, "head_seq", jint(n->head_seq), &err);
	put(obj, "gaps", gaps, &err);
	put(obj, "pruned_through", jint(n->pruned_through), &err);
	return done(obj, err);
}

int oplog_json_doc_into(json_t *obj, const struct oplog_doc *d)
{
	int err = 0;

	put(obj, "op", json_string(op_name(d->op)), &err);
	put(obj, "node", jslice(d->node), &err);
	put(obj, "seq", jint(d->seq), &err);
	put(obj, "wall", jint(d->wall), &err);
	put(obj, "logic", jint(d->logic), &err);
	put(obj, "hash", oplog_json_hex(d->hash, OPLOG_HASH_LEN), &err);
	put(obj, "data", d->op == OPLOG_OP_PUT
	    ? oplog_json_base64(d->data.ptr, d->data.len) : json_null(), &err);
	if (err)
		return oplog_error__set(OPLOG_ENOMEM, "json: out of memory");
	return 0;
}

json_t *oplog_json_doc(const struct oplog_doc *d)
{
	json_t *obj = json_object();
	int err = 0;

	if (!obj)
		return nomem();
	put(obj, "col", jslice(d->col), &err);
	put(obj, "key", jslice(d->key), &err);
	if (!err && oplog_json_doc_into(obj, d) != 0)
		err = OPLOG_ENOMEM;
	return done(obj, err);
}

json_t *oplog_json_fork(struct oplog_slice node, uint64_t seq,
                        const uint8_t (*hashes)[OPLOG_HASH_LEN], size_t n)
{
	json_t *obj = json_object(), *arr = json_array();
	int err = 0;
	size_t i;

	if (!obj || !arr) {
		json_decref(obj);
		json_decref(arr);
		return nomem();
	}
	for (i = 0; i < n && !err; i++)
		if (json_array_append_new(arr, oplog_json_hex(hashes[i],
		                          OPLOG_HASH_LEN)) != 0)
			err = OPLOG_ENOMEM;
	put(obj, "node", jslice(node), &err);
	put(obj, "seq", jint(seq), &err);
	put(obj, "hashes", arr, &err);
	return done(obj, err);
}

json_t *oplog_json_break(struct oplog_slice node, uint64_t seq,
                         const uint8_t hash[OPLOG_HASH_LEN],
                         const uint8_t prev[OPLOG_HASH_LEN])
{
	json_t *obj = json_object();
	int err = 0;

	if (!obj)
		return nomem();
	put(obj, "node", jslice(node), &err);
	put(obj, "seq", jint(seq), &err);
	put(obj, "hash", oplog_json_hex(hash, OPLOG_HASH_LEN), &err);
	put(obj, "prev", oplog_json_hex(prev, OPLOG_HASH_LEN), &err);
	return done(obj, err);
}

json_t *oplog_json_reject(const struct oplog_reject_rec *r)
{
	json_t *obj = json_object();
	const char *reason = oplog_reason_name(r->reason);
	const char *field = oplog_field_name(r->field);
	int err = 0;

	if (!obj)
		return nomem();
	put(obj, "id", jint(r->id), &err);
	put(obj, "time_ms", jint(r->time_ms), &err);
	put(obj, "source", jslice(r->source), &err);
	put(obj, "reason", reason ? json_string(reason) : json_null(), &err);
	put(obj, "field", field ? json_string(field) : json_null(), &err);
	put(obj, "detail", jslice(r->detail), &err);
	put(obj, "size", jint(r->size), &err);
	return done(obj, err);
}

json_t *oplog_json_reject_counts(const uint64_t counts[OPLOG_R__COUNT])
{
	json_t *obj = json_object();
	int err = 0;
	int r;

	if (!obj)
		return nomem();
	for (r = OPLOG_R_NONE + 1; r < OPLOG_R__COUNT; r++)
		if (counts[r])
			put(obj, oplog_reason_name((enum oplog_reason)r),
			    jint(counts[r]), &err);
	return done(obj, err);
}
