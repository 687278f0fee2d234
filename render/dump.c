/* dump.c: the store's logical content as one streamed JSON document. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "oplog/dump.h"
#include "oplog/error.h"
#include "oplog/json.h"

/* Where a section's elements go, and whether one was written already. */
struct sink {
	FILE  *out;
	size_t n;
};

static int write_err(void)
{
	return oplog_error__set(OPLOG_EIO, "dump: write: %s", strerror(errno));
}

static int put_raw(struct sink *k, const char *text)
{
	return fputs(text, k->out) < 0 ? write_err() : 0;
}

/* Write one element of the current array on its own line, taking j
 * (NULL = ENOMEM). */
static int put_elem(struct sink *k, json_t *j)
{
	int rc = 0;

	if (!j)
		return OPLOG_ENOMEM;
	if (fputs(k->n++ ? ",\n" : "\n", k->out) < 0)
		rc = write_err();
	else if (json_dumpf(j, k->out, OPLOG_JSON_FLAGS) != 0)
		rc = write_err();
	json_decref(j);
	return rc;
}

static int on_entry(const struct oplog_entry *e, const void *msg, size_t len,
                    void *arg)
{
	(void)msg;
	(void)len;
	return put_elem(arg, oplog_json_entry(e));
}

static int on_head(const struct oplog_node_info *n, void *arg)
{
	/* A node known only through below-boundary entries has no head. */
	if (n->head_seq == 0)
		return 0;
	return put_elem(arg, oplog_json_head(n));
}

static int on_watermark(const struct oplog_node_info *n, void *arg)
{
	return put_elem(arg, oplog_json_watermark(n));
}

static int on_doc(const struct oplog_doc *d, void *arg)
{
	return put_elem(arg, oplog_json_doc(d));
}

static int on_fork(struct oplog_slice node, uint64_t seq,
                   const uint8_t (*hashes)[OPLOG_HASH_LEN], size_t n,
                   void *arg)
{
	return put_elem(arg, oplog_json_fork(node, seq, hashes, n));
}

static int on_break(struct oplog_slice node, uint64_t seq,
                    const uint8_t hash[OPLOG_HASH_LEN],
                    const uint8_t prev[OPLOG_HASH_LEN], void *arg)
{
	return put_elem(arg, oplog_json_break(node, seq, hash, prev));
}

static int walk_entries(struct oplog_store *s, struct oplog_slice ds, struct sink *k)
{
	return oplog_store_scan(s, ds, NULL, 0, on_entry, k);
}

static int walk_heads(struct oplog_store *s, struct oplog_slice ds, struct sink *k)
{
	return oplog_store_nodes(s, ds, on_head, k);
}

static int walk_watermarks(struct oplog_store *s, struct oplog_slice ds, struct sink *k)
{
	return oplog_store_nodes(s, ds, on_watermark, k);
}

static int walk_docs(struct oplog_store *s, struct oplog_slice ds, struct sink *k)
{
	return oplog_store_docs(s, ds, on_doc, k);
}

static int walk_forks(struct oplog_store *s, struct oplog_slice ds, struct sink *k)
{
	return oplog_store_forks(s, ds, on_fork, k);
}

static int walk_breaks(struct oplog_store *s, struct oplog_slice ds, struct sink *k)
{
	return oplog_store_breaks(s, ds, on_break, k);
}

/* A dataset's sections in the order dump.h lists them: each is `"name":[`
 * on a line of its own, then one element a line. Adding a section: a walk
 * and a row here, and its line in dump.h. */
static const struct section {
	const char *name;
	int       (*walk)(struct oplog_store *s, struct oplog_slice ds, struct sink *k);
} sections[] = {
	{ "entries", walk_entries },
	{ "heads", walk_heads },
	{ "watermarks", walk_watermarks },
	{ "documents", walk_docs },
	{ "forks", walk_forks },
	{ "chain_breaks", walk_breaks },
};

/* Dataset names, copied out of the walk: the per-dataset queries must not
 * run inside it (one read transaction per thread at a time in LMDB). */
struct names {
	struct oplog_slice *v;
	size_t n, cap;
};

static int on_dataset(struct oplog_slice name, void *arg)
{
	struct names *ns = arg;
	uint8_t *copy;

	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? 2 * ns->cap : 16;
		struct oplog_slice *v = realloc(ns->v, cap * sizeof(*v));

		if (!v)
			return oplog_error__set(OPLOG_ENOMEM, "dump: out of memory");
		ns->v = v;
		ns->cap = cap;
	}
	if (!(copy = malloc(name.len ? name.len : 1)))
		return oplog_error__set(OPLOG_ENOMEM, "dump: out of memory");
	memcpy(copy, name.ptr, name.len);
	ns->v[ns->n].ptr = copy;
	ns->v[ns->n].len = name.len;
	ns->n++;
	return 0;
}

/* One dataset's object, sections in the order dump.h lists them. */
static int dump_dataset(struct oplog_store *s, struct oplog_slice ds,
                        struct sink *k)
{
	json_t *name = oplog_json_text(ds.ptr, ds.len);
	size_t i;
	int rc = 0;

	if (!name)
		return OPLOG_ENOMEM;
	if (fputs("{\"name\":", k->out) < 0 ||
	    json_dumpf(name, k->out, OPLOG_JSON_FLAGS | JSON_ENCODE_ANY) != 0 ||
	    fputs(",\n", k->out) < 0)
		rc = write_err();
	json_decref(name);
	if (rc)
		return rc;

	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		k->n = 0;
		if (fprintf(k->out, "%s\"%s\":[", i ? ",\n" : "", sections[i].name) < 0)
			return write_err();
		if ((rc = sections[i].walk(s, ds, k)) != 0 ||
		    (rc = put_raw(k, k->n ? "\n]" : "]")) != 0)
			return rc;
	}
	return put_raw(k, "}");
}

int oplog_store_dump(struct oplog_store *s, FILE *out)
{
	struct names ns = { NULL, 0, 0 };
	struct sink k = { out, 0 };
	size_t i;
	int rc;

	if ((rc = oplog_store_datasets(s, on_dataset, &ns)) != 0)
		goto done;
	if ((rc = put_raw(&k, "{\"datasets\":[\n")) != 0)
		goto done;
	for (i = 0; i < ns.n; i++) {
		if (i && (rc = put_raw(&k, ",\n")) != 0)
			goto done;
		if ((rc = dump_dataset(s, ns.v[i], &k)) != 0)
			goto done;
	}
	if ((rc = put_raw(&k, ns.n ? "\n]}\n" : "]}\n")) != 0)
		goto done;
	if (fflush(out) != 0 || ferror(out))
		rc = write_err();
done:
	for (i = 0; i < ns.n; i++)
		free((void *)ns.v[i].ptr);
	free(ns.v);
	return rc;
}
