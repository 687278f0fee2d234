/* util_render.c: the whole logical state of a store as text
 * (see util_store.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util_store.h"

/* ------------------------------------------------------------------ */
/* Rendering                                                           */

static void put_name(FILE *f, const uint8_t *p, size_t n)
{
	size_t i;

	fputc('"', f);
	for (i = 0; i < n; i++) {
		if (p[i] > 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
			fputc(p[i], f);
		else
			fprintf(f, "\\x%02x", p[i]);
	}
	fputc('"', f);
}

static void put_hex(FILE *f, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
}

static void put_hash(FILE *f, const uint8_t *h)
{
	if (h)
		put_hex(f, h, OPLOG_HASH_LEN);
	else
		fputc('-', f);
}

struct name_list {
	size_t   n, cap;
	uint8_t *names[4096];
	size_t   lens[4096];
};

static int name_collect_cb(struct oplog_slice name, void *arg)
{
	struct name_list *l = arg;
	uint8_t *p;

	if (l->n >= sizeof(l->names) / sizeof(l->names[0]))
		return OPLOG_ENOMEM;
	p = malloc(name.len + 1);
	if (!p)
		return OPLOG_ENOMEM;
	memcpy(p, name.ptr, name.len);
	l->names[l->n] = p;
	l->lens[l->n] = name.len;
	l->n++;
	return 0;
}

static void name_list_free(struct name_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->names[i]);
	l->n = 0;
}

static int render_entry_cb(const struct oplog_entry *e, const void *msg, size_t len, void *arg)
{
	FILE *f = arg;

	fputs("entry ", f);
	put_hash(f, e->hash);
	fputs(" node=", f);
	put_name(f, e->node.ptr, e->node.len);
	fprintf(f, " seq=%llu wall=%llu logic=%lu op=%s col=",
	        (unsigned long long)e->seq, (unsigned long long)e->wall,
	        (unsigned long)e->logic, e->op == OPLOG_OP_DEL ? "del" : "put");
	put_name(f, e->col.ptr, e->col.len);
	fputs(" key=", f);
	put_name(f, e->key.ptr, e->key.len);
	fputs(" prev=", f);
	put_hash(f, e->prev);
	fputs(" msg=", f);
	put_hex(f, msg, len);
	fputc('\n', f);
	return 0;
}

/* Second entry of a walk, for forward successors. */
struct walk {
	uint64_t count;
	uint8_t  second[OPLOG_HASH_LEN];
	uint8_t  last[OPLOG_HASH_LEN];
};

static int walk_cb(const struct oplog_entry *e, const void *msg, size_t len, void *arg)
{
	struct walk *w = arg;

	(void)msg; (void)len;
	if (w->count == 1)
		memcpy(w->second, e->hash, OPLOG_HASH_LEN);
	memcpy(w->last, e->hash, OPLOG_HASH_LEN);
	w->count++;
	return 0;
}

/* Prints one chain walk: "n=<count> end=<name> last=<hash>" or the code. */
static int render_walk(FILE *f, struct oplog_store *s, struct oplog_slice ds,
                       struct oplog_slice node, const uint8_t *from, int forward,
                       uint64_t limit, struct walk *w)
{
	enum oplog_chain_end end = OPLOG_CHAIN_LIMIT;
	int rc;

	memset(w, 0, sizeof(*w));
	rc = oplog_store_chain(s, ds, node, from, forward, limit, walk_cb, w, &end);
	if (rc == OPLOG_ENOTFOUND) {
		fputs("notfound", f);
		return 0;
	}
	if (rc)
		return rc;
	fprintf(f, "n=%llu end=%s last=", (unsigned long long)w->count,
	        oplog_chain_end_name(end));
	put_hash(f, w->count ? w->last : NULL);
	return 0;
}

/* What a get by hash found: the hash and the size of the message. */
struct got {
	uint8_t hash[OPLOG_HASH_LEN];
	size_t  len;
};

static int got_cb(const struct oplog_entry *e, const void *msg, size_t len, void *arg)
{
	struct got *g = arg;

	(void)msg;
	memcpy(g->hash, e->hash, OPLOG_HASH_LEN);
	g->len = len;
	return 0;
}

struct node_render {
	FILE             *f;
	struct name_list *names;
};

static int render_node_cb(const struct oplog_node_info *n, void *arg)
{
	struct node_render *c = arg;
	FILE *f = c->f;
	size_t i;
	int rc;

	fputs("node ", f);
	put_name(f, n->node.ptr, n->node.len);
	fprintf(f, " head=%llu/%llu/%lu/", (unsigned long long)n->head_seq,
	        (unsigned long long)n->head_wall, (unsigned long)n->head_logic);
	put_hash(f, n->head_hash);
	fprintf(f, " watermark=%llu pruned_through=%llu gaps=",
	        (unsigned long long)n->watermark, (unsigned long long)n->pruned_through);
	for (i = 0; i < n->n_gaps; i++)
		fprintf(f, "[%llu,%llu]", (unsigned long long)n->gaps[i][0],
		        (unsigned long long)n->gaps[i][1]);
	fputc('\n', f);
	rc = name_collect_cb(n->node, c->names);
	return rc;
}

static int render_doc_cb(const struct oplog_doc *d, void *arg)
{
	FILE *f = arg;

	fputs("doc col=", f);
	put_name(f, d->col.ptr, d->col.len);
	fputs(" key=", f);
	put_name(f, d->key.ptr, d->key.len);
	fprintf(f, " op=%s node=", d->op == OPLOG_OP_DEL ? "del" : "put");
	put_name(f, d->node.ptr, d->node.len);
	fprintf(f, " seq=%llu wall=%llu logic=%lu hash=", (unsigned long long)d->seq,
	        (unsigned long long)d->wall, (unsigned long)d->logic);
	put_hash(f, d->hash);
	fputs(" data=", f);
	if (d->data.ptr)
		put_hex(f, d->data.ptr, d->data.len);
	else
		fputs("null", f);
	fputc('\n', f);
	return 0;
}

static int render_fork_cb(struct oplog_slice node, uint64_t seq,
                          const uint8_t (*hashes)[OPLOG_HASH_LEN], size_t n, void *arg)
{
	FILE *f = arg;
	size_t i;

	fputs("fork node=", f);
	put_name(f, node.ptr, node.len);
	fprintf(f, " seq=%llu hashes=", (unsigned long long)seq);
	for (i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		put_hash(f, hashes[i]);
	}
	fputc('\n', f);
	return 0;
}

static int render_break_cb(struct oplog_slice node, uint64_t seq,
                           const uint8_t hash[OPLOG_HASH_LEN],
                           const uint8_t prev[OPLOG_HASH_LEN], void *arg)
{
	FILE *f = arg;

	fputs("break node=", f);
	put_name(f, node.ptr, node.len);
	fprintf(f, " seq=%llu hash=", (unsigned long long)seq);
	put_hash(f, hash);
	fputs(" prev=", f);
	put_hash(f, prev);
	fputc('\n', f);
	return 0;
}

/* One dataset. Queries never nest: LMDB allows one read txn per thread. */
static int render_ds(FILE *f, struct oplog_store *s, struct oplog_slice ds)
{
	struct util_list entries = { 0 };
	struct name_list *nodes = NULL;
	struct node_render nc;
	struct walk w;
	size_t i;
	int rc;

	nodes = calloc(1, sizeof(*nodes));
	if (!nodes)
		return OPLOG_ENOMEM;
	fputs("dataset ", f);
	put_name(f, ds.ptr, ds.len);
	fputc('\n', f);

	rc = oplog_store_scan(s, ds, NULL, 0, render_entry_cb, f);
	if (rc)
		goto done;
	rc = oplog_store_scan(s, ds, NULL, 0, util_list_cb, &entries);
	if (rc)
		goto done;
	/* Forward links: each entry's successor (smallest hash when forked). */
	for (i = 0; i < entries.n; i++) {
		struct oplog_slice node = { (const uint8_t *)entries.items[i].node,
		                            entries.items[i].node_len };
		fputs("next ", f);
		put_hash(f, entries.items[i].hash);
		fputc(' ', f);
		rc = render_walk(f, s, ds, node, entries.items[i].hash, 1, 2, &w);
		if (rc)
			goto done;
		fputs(" succ=", f);
		put_hash(f, w.count >= 2 ? w.second : NULL);
		/* The hash index finds the very entry the scan listed. */
		{
			struct got g;

			memset(&g, 0, sizeof(g));
			rc = oplog_store_get(s, ds, entries.items[i].hash, got_cb, &g);
			if (rc && rc != OPLOG_ENOTFOUND)
				goto done;
			fputs(" get=", f);
			if (rc) {
				fputs("notfound", f);
			} else {
				put_hash(f, g.hash);
				fprintf(f, "/%zu", g.len);
			}
			rc = 0;
		}
		fputc('\n', f);
	}

	nc.f = f;
	nc.names = nodes;
	rc = oplog_store_nodes(s, ds, render_node_cb, &nc);
	if (rc)
		goto done;
	for (i = 0; i < nodes->n; i++) {
		struct oplog_slice node = { nodes->names[i], nodes->lens[i] };
		struct util_list first = { 0 };

		fputs("chain ", f);
		put_name(f, node.ptr, node.len);
		fputs(" back ", f);
		rc = render_walk(f, s, ds, node, NULL, 0, 0, &w);
		if (rc)
			goto done;
		/* Forward from the smallest seq-1 hash, when seq 1 is present. */
		rc = oplog_store_scan_seq(s, ds, node, 1, 1, 1, util_list_cb, &first);
		if (rc) {
			util_list_free(&first);
			goto done;
		}
		fputs(" forward ", f);
		if (first.n)
			rc = render_walk(f, s, ds, node, first.items[0].hash, 1, 0, &w);
		else
			fputs("none", f);
		util_list_free(&first);
		if (rc)
			goto done;
		fputc('\n', f);
	}

	rc = oplog_store_docs(s, ds, render_doc_cb, f);
	if (rc)
		goto done;
	rc = oplog_store_forks(s, ds, render_fork_cb, f);
	if (rc)
		goto done;
	rc = oplog_store_breaks(s, ds, render_break_cb, f);
done:
	util_list_free(&entries);
	name_list_free(nodes);
	free(nodes);
	return rc;
}

char *util_store_render(struct oplog_store *s)
{
	struct name_list *dss = NULL;
	char *text = NULL;
	size_t len = 0, i;
	FILE *f = NULL;
	int rc = OPLOG_ENOMEM;

	dss = calloc(1, sizeof(*dss));
	f = open_memstream(&text, &len);
	if (!dss || !f)
		goto done;
	rc = oplog_store_datasets(s, name_collect_cb, dss);
	if (rc)
		goto done;
	fprintf(f, "datasets %zu\n", dss->n);
	for (i = 0; i < dss->n; i++) {
		struct oplog_slice ds = { dss->names[i], dss->lens[i] };

		rc = render_ds(f, s, ds);
		if (rc)
			goto done;
	}
done:
	if (f)
		fclose(f);
	if (dss) {
		name_list_free(dss);
		free(dss);
	}
	if (rc) {
		free(text);
		return NULL;
	}
	return text;
}

char *util_first_diff(const char *a, const char *b)
{
	size_t line = 1, i = 0, start = 0, ea, eb;
	char *out;
	int n;

	if (!a || !b)
		return strdup("(a render is NULL)");
	while (a[i] && a[i] == b[i]) {
		if (a[i] == '\n') {
			line++;
			start = i + 1;
		}
		i++;
	}
	if (!a[i] && !b[i])
		return strdup("(identical)");
	for (ea = start; a[ea] && a[ea] != '\n'; ea++)
		;
	for (eb = start; b[eb] && b[eb] != '\n'; eb++)
		;
	n = snprintf(NULL, 0, "line %zu:\n< %.*s\n> %.*s", line,
	             (int)(ea - start), a + start, (int)(eb - start), b + start);
	out = malloc((size_t)n + 1);
	if (out)
		snprintf(out, (size_t)n + 1, "line %zu:\n< %.*s\n> %.*s", line,
		         (int)(ea - start), a + start, (int)(eb - start), b + start);
	return out;
}
