/* util_query.c: reading a store back through the public queries only
 * (see util_store.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util_store.h"

/* ------------------------------------------------------------------ */
/* Reading back                                                        */

uint64_t util_entry_count(struct oplog_store *s)
{
	struct oplog_stats st;

	if (oplog_store_stats(s, &st) != 0)
		return UINT64_MAX;
	return st.entries;
}

struct node_find {
	struct oplog_slice name;
	struct util_node  *out;
	int                found;
};

static int node_find_cb(const struct oplog_node_info *n, void *arg)
{
	struct node_find *f = arg;
	size_t i;

	if (n->node.len != f->name.len || memcmp(n->node.ptr, f->name.ptr, f->name.len) != 0)
		return 0;
	f->found = 1;
	f->out->head_seq = n->head_seq;
	f->out->head_wall = n->head_wall;
	f->out->head_logic = n->head_logic;
	memcpy(f->out->head_hash, n->head_hash, OPLOG_HASH_LEN);
	f->out->watermark = n->watermark;
	f->out->pruned_through = n->pruned_through;
	f->out->n_gaps = n->n_gaps;
	for (i = 0; i < n->n_gaps && i < 32; i++) {
		f->out->gaps[i][0] = n->gaps[i][0];
		f->out->gaps[i][1] = n->gaps[i][1];
	}
	return 0;
}

int util_node_get(struct oplog_store *s, const char *ds, const char *node,
                  struct util_node *out)
{
	struct node_find f;
	int rc;

	memset(out, 0, sizeof(*out));
	f.name = util_sl(node);
	f.out = out;
	f.found = 0;
	rc = oplog_store_nodes(s, util_sl(ds), node_find_cb, &f);
	if (rc)
		return rc;
	return f.found ? 0 : OPLOG_ENOTFOUND;
}

void util_gaps_str(const struct util_node *n, char *buf, size_t cap)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < n->n_gaps && i < 32 && used < cap; i++) {
		int w = snprintf(buf + used, cap - used, "[%llu,%llu]",
		                 (unsigned long long)n->gaps[i][0],
		                 (unsigned long long)n->gaps[i][1]);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

static int doc_copy_cb(const struct oplog_doc *d, void *arg)
{
	struct util_doc *out = arg;
	size_t n;

	out->op = d->op;
	n = d->node.len < OPLOG_MAX_NAME ? d->node.len : OPLOG_MAX_NAME;
	memcpy(out->node, d->node.ptr, n);
	out->node[n] = '\0';
	out->seq = d->seq;
	out->wall = d->wall;
	out->logic = d->logic;
	memcpy(out->hash, d->hash, OPLOG_HASH_LEN);
	out->data_null = d->data.ptr == NULL;
	out->data_len = d->data.len;
	n = d->data.len < sizeof(out->data) - 1 ? d->data.len : sizeof(out->data) - 1;
	if (n)
		memcpy(out->data, d->data.ptr, n);
	out->data[n] = '\0';
	return 0;
}

int util_doc_get(struct oplog_store *s, const char *ds, const char *col,
                 const char *key, struct util_doc *out)
{
	memset(out, 0, sizeof(*out));
	return oplog_store_doc(s, util_sl(ds), util_sl(col), util_sl(key), doc_copy_cb, out);
}

int util_list_cb(const struct oplog_entry *e, const void *msg, size_t len, void *arg)
{
	struct util_list *l = arg;
	struct util_item *it;

	(void)msg; (void)len;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct util_item *p = realloc(l->items, cap * sizeof(*p));
		if (!p)
			return OPLOG_ENOMEM;
		l->items = p;
		l->cap = cap;
	}
	it = &l->items[l->n++];
	memset(it, 0, sizeof(*it));
	memcpy(it->hash, e->hash, OPLOG_HASH_LEN);
	it->seq = e->seq;
	it->wall = e->wall;
	it->logic = e->logic;
	it->node_len = e->node.len < OPLOG_MAX_NAME ? e->node.len : OPLOG_MAX_NAME;
	memcpy(it->node, e->node.ptr, it->node_len);
	return 0;
}

int util_msg_copy_cb(const struct oplog_entry *e, const void *msg, size_t len, void *arg)
{
	struct util_entry *out = arg;

	(void)e;
	out->msg = malloc(len);
	if (!out->msg)
		return OPLOG_ENOMEM;
	memcpy(out->msg, msg, len);
	out->len = len;
	return 0;
}

void util_list_free(struct util_list *l)
{
	free(l->items);
	memset(l, 0, sizeof(*l));
}

long util_list_find(const struct util_list *l, const uint8_t *hash)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (memcmp(l->items[i].hash, hash, OPLOG_HASH_LEN) == 0)
			return (long)i;
	return -1;
}

struct fork_collect {
	struct util_fork *out;
	size_t            cap, n;
};

static int fork_collect_cb(struct oplog_slice node, uint64_t seq,
                           const uint8_t (*hashes)[OPLOG_HASH_LEN], size_t n, void *arg)
{
	struct fork_collect *c = arg;
	struct util_fork *f;
	size_t i, nl;

	if (c->n < c->cap) {
		f = &c->out[c->n];
		memset(f, 0, sizeof(*f));
		nl = node.len < OPLOG_MAX_NAME ? node.len : OPLOG_MAX_NAME;
		memcpy(f->node, node.ptr, nl);
		f->seq = seq;
		f->n = n;
		for (i = 0; i < n && i < 8; i++)
			memcpy(f->hashes[i], hashes[i], OPLOG_HASH_LEN);
	}
	c->n++;
	return 0;
}

int util_forks(struct oplog_store *s, const char *ds, struct util_fork *out,
               size_t cap, size_t *n)
{
	struct fork_collect c = { out, cap, 0 };
	int rc = oplog_store_forks(s, util_sl(ds), fork_collect_cb, &c);

	*n = c.n;
	return rc;
}

struct break_collect {
	struct util_break *out;
	size_t             cap, n;
};

static int break_collect_cb(struct oplog_slice node, uint64_t seq,
                            const uint8_t hash[OPLOG_HASH_LEN],
                            const uint8_t prev[OPLOG_HASH_LEN], void *arg)
{
	struct break_collect *c = arg;
	struct util_break *b;
	size_t nl;

	if (c->n < c->cap) {
		b = &c->out[c->n];
		memset(b, 0, sizeof(*b));
		nl = node.len < OPLOG_MAX_NAME ? node.len : OPLOG_MAX_NAME;
		memcpy(b->node, node.ptr, nl);
		b->seq = seq;
		memcpy(b->hash, hash, OPLOG_HASH_LEN);
		memcpy(b->prev, prev, OPLOG_HASH_LEN);
	}
	c->n++;
	return 0;
}

int util_breaks(struct oplog_store *s, const char *ds, struct util_break *out,
                size_t cap, size_t *n)
{
	struct break_collect c = { out, cap, 0 };
	int rc = oplog_store_breaks(s, util_sl(ds), break_collect_cb, &c);

	*n = c.n;
	return rc;
}

static void problem_cb(const char *problem, void *arg)
{
	FILE *f = arg;

	if (f)
		fprintf(f, "%s\n", problem);
}

int64_t util_verify(struct oplog_store *s, char **problems)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = NULL;
	int64_t n;

	if (problems) {
		*problems = NULL;
		f = open_memstream(&text, &len);
	}
	n = oplog_store_verify(s, problem_cb, f);
	if (f) {
		fclose(f);
		if (len)
			*problems = text;
		else
			free(text);
	}
	return n;
}

struct doc_count {
	size_t n;
};

static int doc_count_cb(const struct oplog_doc *d, void *arg)
{
	struct doc_count *c = arg;

	(void)d;
	c->n++;
	return 0;
}

size_t util_doc_total(const char *ds)
{
	struct doc_count c = { 0 };

	UTIL_OK(oplog_store_docs(util_s, util_sl(ds), doc_count_cb, &c));
	return c.n;
}

int util_name_list_cb(struct oplog_slice name, void *arg)
{
	char *out = arg;
	size_t used = strlen(out);

	if (used + name.len + 2 > 256)
		return -100;
	memcpy(out + used, name.ptr, name.len);
	out[used + name.len] = ';';
	out[used + name.len + 1] = '\0';
	return 0;
}

struct walk_rec {
	size_t   n;
	uint64_t seq[64];
};

static int walk_rec_cb(const struct oplog_entry *e, const void *msg, size_t len, void *arg)
{
	struct walk_rec *w = arg;

	(void)msg; (void)len;
	if (w->n < 64)
		w->seq[w->n] = e->seq;
	w->n++;
	return 0;
}

static void walk_str(const struct walk_rec *w, enum oplog_chain_end end, char *out, size_t cap)
{
	const char *name;
	size_t i, used = 0;

	out[0] = '\0';
	for (i = 0; i < w->n && i < 64; i++)
		used += (size_t)snprintf(out + used, cap - used, "%llu,", (unsigned long long)w->seq[i]);
	name = oplog_chain_end_name(end);
	snprintf(out + used, cap - used, "%s", name ? name : "(no end)");
}

void util_walk(const char *node, const uint8_t *from, int forward, uint64_t limit,
               char *out, size_t cap)
{
	struct walk_rec w;
	enum oplog_chain_end end = (enum oplog_chain_end)-1;

	memset(&w, 0, sizeof(w));
	UTIL_OK(oplog_store_chain(util_s, util_sl(UTIL_DS), util_sl(node), from, forward, limit,
	                          walk_rec_cb, &w, &end));
	walk_str(&w, end, out, cap);
}

int util_stop_cb(const struct oplog_entry *e, const void *msg, size_t len, void *arg)
{
	int *n = arg;

	(void)e; (void)msg; (void)len;
	return ++*n == 2 ? 77 : 0;
}
