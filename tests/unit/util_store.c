/* util_store.c: fixtures, an independent entry builder and a state renderer
 * for the store's unit tests (see util_store.h). */
#include <errno.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "util_store.h"

/* The TCase's directory (see util_case_setup), inherited by forked tests. */
static char         case_base[4096];
char                util_base[4096];
char                util_dir[4200];
struct oplog_store *util_s;

struct oplog_slice util_sl(const char *s)
{
	struct oplog_slice sl = { (const uint8_t *)s, s ? strlen(s) : 0 };
	return sl;
}

void util_hex(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

void util_tcase_timeout(TCase *tc, double secs)
{
	const char *env = getenv("CK_DEFAULT_TIMEOUT");
	double t = secs;

#if defined(__SANITIZE_ADDRESS__)
	/* ASan and UBSan make the store about three times slower. */
	t *= 3;
#endif
	if (env && *env) {
		double d = strtod(env, NULL);
		if (d > t)
			t = d;
	}
	tcase_set_timeout(tc, t);
}

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

/* ------------------------------------------------------------------ */
/* Fixture                                                             */

int util_tmpdir(char *buf, size_t cap)
{
	const char *base = case_base[0] ? case_base : getenv("TMPDIR");
	int n;

	if (!base || !*base)
		base = "/tmp";
	n = snprintf(buf, cap, "%s/oplog-test-XXXXXX", base);
	if (n < 0 || (size_t)n >= cap)
		return -1;
	return mkdtemp(buf) ? 0 : -1;
}

int util_rmtree(const char *dir)
{
	struct dirent *de;
	struct stat sb;
	char path[4096];
	DIR *d;
	int rc = 0;

	if (!dir || !*dir)
		return 0;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path)) {
			rc = -1;
			continue;
		}
		if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			if (util_rmtree(path) != 0)
				rc = -1;
		} else if (unlink(path) != 0) {
			rc = -1;
		}
	}
	closedir(d);
	if (rmdir(dir) != 0)
		rc = -1;
	return rc;
}

int util_store_open(struct oplog_store **out, const char *dir,
                    size_t map_size, size_t max_size, unsigned flags)
{
	struct oplog_store_opts o;

	memset(&o, 0, sizeof(o));
	o.path = dir;
	o.map_size = map_size;
	o.max_size = max_size;
	o.flags = flags;
	return oplog_store_open(out, &o);
}

void util_case_setup(void)
{
	const char *base = getenv("TMPDIR");

	if (!base || !*base)
		base = "/tmp";
	snprintf(case_base, sizeof(case_base), "%s/oplog-test-XXXXXX", base);
	if (!mkdtemp(case_base))
		case_base[0] = '\0';
}

void util_case_teardown(void)
{
	if (case_base[0])
		util_rmtree(case_base);
	case_base[0] = '\0';
}

void util_setup(void)
{
	int rc;

	util_s = NULL;
	ck_assert_msg(util_tmpdir(util_base, sizeof(util_base)) == 0,
	              "mkdtemp: %s", strerror(errno));
	snprintf(util_dir, sizeof(util_dir), "%s/store", util_base);
	rc = util_store_open(&util_s, util_dir, 0, 0, 0);
	ck_assert_msg(rc == 0, "oplog_store_open(%s) = %d (%s): %s", util_dir, rc,
	              oplog_strerror(rc), oplog_error_last());
}

void util_teardown(void)
{
	oplog_store_close(util_s);
	util_s = NULL;
	util_rmtree(util_base);
	util_base[0] = '\0';
	util_dir[0] = '\0';
}

TCase *util_store_tcase(Suite *s, const char *name, double secs)
{
	TCase *t = tcase_create(name);

	tcase_add_unchecked_fixture(t, util_case_setup, util_case_teardown);
	tcase_add_checked_fixture(t, util_setup, util_teardown);
	util_tcase_timeout(t, secs);
	suite_add_tcase(s, t);
	return t;
}

int util_suite_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

void util_store_reset(void)
{
	int rc;

	oplog_store_close(util_s);
	util_s = NULL;
	util_rmtree(util_dir);
	rc = util_store_open(&util_s, util_dir, 0, 0, 0);
	ck_assert_msg(rc == 0, "oplog_store_open(%s) = %d (%s): %s", util_dir, rc,
	              oplog_strerror(rc), oplog_error_last());
}

void util_subdir(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", util_base, name);
}

/* ------------------------------------------------------------------ */
/* Applying                                                            */

int util_apply(struct oplog_store *s, struct util_entry *const *es, size_t n,
               struct oplog_apply_stats *st)
{
	struct oplog_batch *b = NULL;
	size_t i;
	int rc;

	rc = oplog_batch_new(&b);
	if (rc)
		goto done;
	for (i = 0; i < n; i++) {
		rc = oplog_batch_add(b, es[i]->msg, es[i]->len, &es[i]->e);
		if (rc)
			goto done;
	}
	rc = oplog_store_apply(s, b, st);
done:
	oplog_batch_free(b);
	return rc;
}

int util_apply_array(struct oplog_store *s, const struct util_entry *es, size_t n,
                     struct oplog_apply_stats *st)
{
	struct oplog_batch *b = NULL;
	size_t i;
	int rc;

	rc = oplog_batch_new(&b);
	if (rc)
		goto done;
	for (i = 0; i < n; i++) {
		rc = oplog_batch_add(b, es[i].msg, es[i].len, &es[i].e);
		if (rc)
			goto done;
	}
	rc = oplog_store_apply(s, b, st);
done:
	oplog_batch_free(b);
	return rc;
}

int util_apply_one(struct oplog_store *s, const struct util_entry *u,
                   struct oplog_apply_stats *st)
{
	return util_apply_array(s, u, 1, st);
}

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

/* ------------------------------------------------------------------ */
/* Direct LMDB access                                                  */

int util_lmdb_open(const char *dir, MDB_env **env)
{
	int rc;

	*env = NULL;
	rc = mdb_env_create(env);
	if (rc)
		return rc;
	rc = mdb_env_set_maxdbs(*env, 32);
	if (!rc)
		rc = mdb_env_open(*env, dir, 0, 0664);
	if (rc) {
		mdb_env_close(*env);
		*env = NULL;
	}
	return rc;
}

/* Open env, a write txn and DBI name. */
static int lmdb_begin(const char *dir, const char *name, MDB_env **env,
                      MDB_txn **txn, MDB_dbi *dbi)
{
	int rc = util_lmdb_open(dir, env);

	*txn = NULL;
	if (rc)
		return rc;
	rc = mdb_txn_begin(*env, NULL, 0, txn);
	if (!rc)
		rc = mdb_dbi_open(*txn, name, 0, dbi);
	if (rc) {
		if (*txn)
			mdb_txn_abort(*txn);
		*txn = NULL;
		mdb_env_close(*env);
		*env = NULL;
	}
	return rc;
}

static int lmdb_end(MDB_env *env, MDB_txn *txn, int rc)
{
	if (txn) {
		if (rc)
			mdb_txn_abort(txn);
		else
			rc = mdb_txn_commit(txn);
	}
	mdb_env_close(env);
	return rc;
}

int util_lmdb_del_first(const char *dir, const char *name)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int rc = lmdb_begin(dir, name, &env, &txn, &dbi);

	if (rc)
		return rc;
	rc = mdb_cursor_open(txn, dbi, &cur);
	if (!rc)
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	if (!rc)
		rc = mdb_cursor_del(cur, 0);
	if (cur)
		mdb_cursor_close(cur);
	return lmdb_end(env, txn, rc);
}

int util_lmdb_flip_first(const char *dir, const char *name, size_t off, uint8_t mask)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *cur = NULL;
	MDB_val k, v, nv;
	uint8_t *copy = NULL, *kcopy = NULL;
	int rc = lmdb_begin(dir, name, &env, &txn, &dbi);

	if (rc)
		return rc;
	rc = mdb_cursor_open(txn, dbi, &cur);
	if (!rc)
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (!rc && off >= v.mv_size)
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	if (rc == MDB_NOTFOUND)
		rc = EINVAL;
	if (!rc) {
		/* Values live in the map: copy before writing over them. */
		copy = malloc(v.mv_size);
		kcopy = malloc(k.mv_size);
		if (!copy || !kcopy) {
			rc = ENOMEM;
		} else {
			memcpy(copy, v.mv_data, v.mv_size);
			memcpy(kcopy, k.mv_data, k.mv_size);
			copy[off] ^= mask;
			nv.mv_data = copy;
			nv.mv_size = v.mv_size;
			k.mv_data = kcopy;
			mdb_cursor_close(cur);
			cur = NULL;
			rc = mdb_put(txn, dbi, &k, &nv, 0);
		}
	}
	if (cur)
		mdb_cursor_close(cur);
	rc = lmdb_end(env, txn, rc);
	free(copy);
	free(kcopy);
	return rc;
}

int util_lmdb_put(const char *dir, const char *name, const void *key, size_t klen,
                  const void *val, size_t vlen)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	int rc = lmdb_begin(dir, name, &env, &txn, &dbi);

	if (rc)
		return rc;
	rc = mdb_put(txn, dbi, &k, &v, 0);
	return lmdb_end(env, txn, rc);
}

int util_lmdb_get(const char *dir, const char *name, const void *key, size_t klen,
                  void *buf, size_t cap, size_t *vlen)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { klen, (void *)key }, v;
	int rc = lmdb_begin(dir, name, &env, &txn, &dbi);

	if (rc)
		return rc;
	rc = mdb_get(txn, dbi, &k, &v);
	if (!rc) {
		*vlen = v.mv_size;
		memcpy(buf, v.mv_data, v.mv_size < cap ? v.mv_size : cap);
	}
	/* Nothing written: abort rather than commit. */
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return rc;
}

int util_lmdb_nth(const char *dir, const char *name, size_t n, void *kbuf, size_t kcap,
                  size_t *klen, void *vbuf, size_t vcap, size_t *vlen)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	size_t i;
	int rc = lmdb_begin(dir, name, &env, &txn, &dbi);

	if (rc)
		return rc;
	rc = mdb_cursor_open(txn, dbi, &cur);
	if (!rc)
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	for (i = 0; !rc && i < n; i++)
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	if (!rc) {
		*klen = k.mv_size;
		*vlen = v.mv_size;
		memcpy(kbuf, k.mv_data, k.mv_size < kcap ? k.mv_size : kcap);
		memcpy(vbuf, v.mv_data, v.mv_size < vcap ? v.mv_size : vcap);
	}
	if (cur)
		mdb_cursor_close(cur);
	/* Nothing written: abort rather than commit. */
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return rc;
}

int util_lmdb_del(const char *dir, const char *name, const void *key, size_t klen,
                  const void *val, size_t vlen)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	int rc = lmdb_begin(dir, name, &env, &txn, &dbi);

	if (rc)
		return rc;
	rc = mdb_del(txn, dbi, &k, val ? &v : NULL);
	return lmdb_end(env, txn, rc);
}

/* ------------------------------------------------------------------ */
/* Shorthands of the store's suite                                     */

void util_mk(struct util_entry *u, const char *ds, const char *node, uint64_t seq,
             uint64_t wall, uint32_t logic, const char *key, enum oplog_op op,
             const char *data, const uint8_t *prev)
{
	UTIL_OK(util_entry_build(u, ds, node, seq, wall, logic, "c", key, op, data, prev));
}

void util_apply1(const struct util_entry *u, struct oplog_apply_stats *st)
{
	struct oplog_apply_stats local;

	UTIL_OK(util_apply_one(util_s, u, st ? st : &local));
}

const uint8_t *util_hash_min(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, OPLOG_HASH_LEN) < 0 ? a : b;
}

const uint8_t *util_hash_max(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, OPLOG_HASH_LEN) > 0 ? a : b;
}

struct oplog_stats util_stats_of(struct oplog_store *s)
{
	struct oplog_stats st;

	memset(&st, 0, sizeof(st));
	UTIL_OK(oplog_store_stats(s, &st));
	return st;
}

struct oplog_stats util_stats(void)
{
	return util_stats_of(util_s);
}

void util_reopen(void)
{
	oplog_store_close(util_s);
	util_s = NULL;
	UTIL_OK(util_store_open(&util_s, util_dir, 0, 0, 0));
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

void util_fill_rich(void)
{
	struct util_entry a[6], b[4], f, brk, del, x;
	uint8_t wrong[OPLOG_HASH_LEN];

	memset(wrong, 0x77, sizeof(wrong));
	UTIL_OK(util_chain_build(a, 6, UTIL_DS, "a", 1, NULL, 1000));
	UTIL_OK(util_chain_build(b, 4, UTIL_DS, "b", 1, NULL, 1003));
	util_mk(&f, UTIL_DS, "a", 3, 1031, 0, "k3", OPLOG_OP_PUT, "fork", a[1].hash);
	util_mk(&brk, UTIL_DS, "b", 5, 1060, 0, "k5", OPLOG_OP_PUT, "brk", wrong);
	util_mk(&del, UTIL_DS, "b", 6, 1070, 0, "k1", OPLOG_OP_DEL, NULL, brk.hash);
	UTIL_OK(util_entry_build(&x, "other", "a", 1, 1, 0, "c", "k1", OPLOG_OP_PUT, "x", NULL));
	UTIL_OK(util_apply_array(util_s, a, 6, NULL));
	util_apply1(&b[0], NULL);
	util_apply1(&b[2], NULL);
	util_apply1(&b[3], NULL);
	util_apply1(&f, NULL);
	util_apply1(&brk, NULL);
	util_apply1(&del, NULL);
	util_apply1(&x, NULL);
	util_entries_free(a, 6);
	util_entries_free(b, 4);
	util_entry_free(&f);
	util_entry_free(&brk);
	util_entry_free(&del);
	util_entry_free(&x);
}

int util_stop_cb(const struct oplog_entry *e, const void *msg, size_t len, void *arg)
{
	int *n = arg;

	(void)e; (void)msg; (void)len;
	return ++*n == 2 ? 77 : 0;
}
