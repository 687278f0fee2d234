/*
 * store.c: opening the store, its meta, the name <-> id maps, and the
 * helpers every store file uses (LMDB errors, growing an array or the
 * map, node state records, HLC order, document keys).
 */
#define _GNU_SOURCE  /* fallocate(2): see reserve_map for why not posix_fallocate */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "oplog/error.h"
#include "oplog/log.h"
#include "store_int.h"

const char *const oplog_store__dbi_names[DBI__COUNT] = {
	"meta", "names", "ids", "log", "entries", "by_hlc", "by_node", "by_seq",
	"heads", "docs", "forks", "breaks", "offsets", "rejects",
	"counters", "lost", "replay", "blooms"
};

const unsigned oplog_store__dbi_flags[DBI__COUNT] = {
	[DBI_ENTRIES] = MDB_DUPSORT | MDB_DUPFIXED,
	[DBI_FORKS] = MDB_DUPSORT | MDB_DUPFIXED,
};

#define DEFAULT_MAP_SIZE   ((size_t)256 << 20)
#define DEFAULT_MAX_SIZE   ((size_t)64 << 30)
#define DEFAULT_REJECT_MAX ((size_t)64 << 10)

/* With writemap the map grows by at most this much at a time: its file
 * space is reserved (reserve_map), and doubling a map of many gigabytes
 * would hold as much disk again that the store does not use yet. */
#define WRITEMAP_GROW_MAX  ((size_t)1 << 30)

/* Space left below which a write that failed with EIO is taken for a full
 * disk (disk_full). */
#define DISK_FULL_SLACK    ((uint64_t)4 << 20)

int oplog_store__mdb_err(int rc, const char *what)
{
	if (rc == MDB_MAP_FULL)
		return oplog_error__set(OPLOG_EMAPFULL, "%s: MDB_MAP_FULL", what);
	if (rc == MDB_NOTFOUND)
		return oplog_error__set(OPLOG_ENOTFOUND, "%s: not found", what);
	if (rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_INVALID)
		return oplog_error__set(OPLOG_ECORRUPT, "%s: %s", what, mdb_strerror(rc));
	if (rc == MDB_TXN_FULL)
		return oplog_error__set(OPLOG_EINVAL, "%s: MDB_TXN_FULL: the batch dirties more pages "
		                        "than one LMDB transaction can hold; lower [apply] batch_size",
		                        what);
	if (rc == ENOMEM)
		return oplog_error__set(OPLOG_ENOMEM, "%s: %s", what, mdb_strerror(rc));
	return oplog_error__set(OPLOG_EIO, "%s: %s", what, mdb_strerror(rc));
}

/*
 * Whether err, from writing the store in dir, means the disk holding it is
 * out of space; *avail gets the bytes left there for an unprivileged
 * process (0 when statvfs fails). ENOSPC and EDQUOT say so themselves.
 * LMDB reports a short write, which is how a disk that fills up in the
 * middle of a commit shows, as EIO; but EIO is also what a failing disk
 * says. So EIO counts as a full disk only when less than DISK_FULL_SLACK
 * is left: the short write used up what there was, while a disk that
 * fails with room to spare keeps its EIO.
 */
static int disk_full(const char *dir, int err, uint64_t *avail)
{
	struct statvfs sv;
	int known;

	*avail = 0;
	if (err != ENOSPC && err != EDQUOT && err != EIO)
		return 0;
	if ((known = statvfs(dir, &sv) == 0))
		*avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	return err != EIO || (known && *avail < DISK_FULL_SLACK);
}

/* OPLOG_ENOSPC, its message naming the store in dir and what failed, when
 * err (an errno from LMDB or the system) means its disk is full; else 0. */
static int no_space(const char *dir, int err, const char *what, const char *why)
{
	uint64_t avail;

	if (!disk_full(dir, err, &avail))
		return 0;
	return oplog_error__set(OPLOG_ENOSPC, "the disk holding the store %s is out of space "
	                        "(%llu KiB left): %s: %s", dir,
	                        (unsigned long long)(avail >> 10), what, why);
}

int oplog_store__write_err(MDB_env *env, int rc, const char *what)
{
	const char *dir = NULL;
	int err;

	if (mdb_env_get_path(env, &dir) == 0 && dir &&
	    (err = no_space(dir, rc, what, mdb_strerror(rc))) != 0)
		return err;
	return oplog_store__mdb_err(rc, what);
}

/*
 * With MDB_WRITEMAP, LMDB sizes data.mdb to the map with ftruncate (a
 * sparse file) and writes pages through the map, so on a full disk a page
 * with no block behind it is a SIGBUS in the middle of a transaction, not
 * an error. So whenever the map is set or grown, the blocks of [from, to)
 * are reserved first. LMDB never writes past the map (a batch that needs
 * more gets MDB_MAP_FULL and the map grows again, through here), so a full
 * disk is reported at the growth, with nothing of the batch written.
 *
 * fallocate(2), not posix_fallocate: where the file system cannot reserve
 * space, glibc's posix_fallocate writes a zero into every block that reads
 * as zero instead, racing with another process that writes those pages;
 * here that case returns 1 and the caller decides (env_open opens the
 * store without MDB_WRITEMAP).
 *
 * A reservation that fails may keep the blocks it got (ext4 and XFS do,
 * tmpfs gives them back): they stay part of data.mdb and are used when
 * the map grows. The file is never cut here: another process may have a
 * larger map of it.
 * Returns 0, 1 (the file system cannot reserve), OPLOG_ENOSPC, OPLOG_EIO.
 */
static int reserve_map(MDB_env *env, size_t from, size_t to)
{
	const char *dir = NULL;
	char what[96];
	int fd, rc, err;

	if (to <= from)
		return 0;
	if ((rc = mdb_env_get_fd(env, &fd)) || (rc = mdb_env_get_path(env, &dir)))
		return oplog_store__mdb_err(rc, "mdb_env_get_fd");
	do
		rc = fallocate(fd, 0, (off_t)from, (off_t)(to - from));
	while (rc != 0 && errno == EINTR);
	if (rc == 0)
		return 0;
	if (errno == EOPNOTSUPP || errno == ENOSYS)
		return 1;
	err = errno;
	if (from == 0)
		snprintf(what, sizeof(what), "reserving the map's %zu MiB on disk "
		         "([store] writemap)", to >> 20);
	else
		snprintf(what, sizeof(what), "growing the map to %zu MiB, reserved on disk "
		         "(writemap)", to >> 20);
	if ((rc = no_space(dir, err, what, strerror(err))) != 0)
		return rc;
	return oplog_error__set(OPLOG_EIO, "fallocate %s/data.mdb: %s", dir, strerror(err));
}

int oplog_store__reserve(void *arrp, size_t *cap, size_t n, size_t elem, size_t first,
                         const char *who)
{
	void *arr, *p;
	size_t c;

	if (n < *cap)
		return 0;
	/* arrp points at a pointer of some object type: copied, not cast. */
	memcpy(&arr, arrp, sizeof(arr));
	c = *cap ? *cap * 2 : first;
	if (!(p = realloc(arr, c * elem)))
		return oplog_error__set(OPLOG_ENOMEM, "%s%sout of memory", who ? who : "",
		                        who ? ": " : "");
	memcpy(arrp, &p, sizeof(p));
	*cap = c;
	return 0;
}

int oplog_store__map_grow(MDB_env *env, size_t *map_size, size_t max_size, const char *who)
{
	unsigned flags = 0;
	size_t grown;
	char what[64];
	int rc;

	if (*map_size >= max_size)
		return OPLOG_EMAPFULL;
	grown = *map_size > max_size / 2 ? max_size : *map_size * 2;
	mdb_env_get_flags(env, &flags);
	if (flags & MDB_WRITEMAP) {
		if (grown - *map_size > WRITEMAP_GROW_MAX)
			grown = *map_size + WRITEMAP_GROW_MAX;
		if ((rc = reserve_map(env, *map_size, grown)) == 1)
			rc = oplog_error__set(OPLOG_EIO, "%sfallocate: the file system no longer "
			                      "reserves space", who ? who : "");
		if (rc)
			return rc;
	}
	if ((rc = mdb_env_set_mapsize(env, grown))) {
		snprintf(what, sizeof(what), "%smdb_env_set_mapsize", who ? who : "");
		return oplog_store__write_err(env, rc, what);
	}
	*map_size = grown;
	return 0;
}

int oplog_store__grow(struct oplog_store *s)
{
	/* No transaction is open here, as mdb_env_set_mapsize requires. A
	 * failure other than a full map is passed on too: the callers retry
	 * while this returns 0. */
	int rc = oplog_store__map_grow(s->env, &s->map_size, s->max_size, NULL);

	if (rc == OPLOG_EMAPFULL)
		return oplog_error__set(OPLOG_EMAPFULL, "store is full: the map reached "
		                        "[store] max_size (%zu MiB)", s->max_size >> 20);
	return rc;
}

int oplog_store__txn_begin(struct oplog_store *s, unsigned flags, MDB_txn **txn)
{
	int rc = mdb_txn_begin(s->env, NULL, flags, txn);

	if (rc == MDB_MAP_RESIZED) {
		/* Another process grew the map: adopt its size and try again. It
		 * reserved the new part, unless it is an oplogd from before the
		 * reservation: this one does it again (a no-op when done). */
		size_t before = s->map_size;
		unsigned env_flags = 0;

		if ((rc = mdb_env_set_mapsize(s->env, 0)) == 0) {
			MDB_envinfo info;
			int err;

			mdb_env_info(s->env, &info);
			s->map_size = info.me_mapsize;
			mdb_env_get_flags(s->env, &env_flags);
			if ((env_flags & MDB_WRITEMAP) &&
			    (err = reserve_map(s->env, before, s->map_size)) != 0)
				return err == 1 ? oplog_error__set(OPLOG_EIO, "fallocate: the file system "
				                                   "no longer reserves space") : err;
			rc = mdb_txn_begin(s->env, NULL, flags, txn);
		}
	}
	return rc ? oplog_store__mdb_err(rc, "mdb_txn_begin") : 0;
}

void oplog_store__node_state_encode(const struct node_state *ns, uint8_t out[NODE_STATE_LEN])
{
	uint8_t *p = out;

	p = put_u64(p, ns->head_seq);
	p = put_u64(p, ns->head_wall);
	p = put_u32(p, ns->head_logic);
	p = put_bytes(p, ns->head_hash, OPLOG_HASH_LEN);
	p = put_u64(p, ns->watermark);
	p = put_u64(p, ns->pruned);
	memset(p, 0, (size_t)(out + NODE_STATE_LEN - p));
}

int oplog_store__node_state_decode(struct node_state *ns, const MDB_val *v)
{
	const uint8_t *p = v->mv_data;

	if (v->mv_size != NODE_STATE_LEN)
		return oplog_error__set(OPLOG_ECORRUPT, "heads: record of %zu bytes, expected %d",
		                        v->mv_size, NODE_STATE_LEN);
	ns->head_seq = get_u64(p);
	ns->head_wall = get_u64(p + 8);
	ns->head_logic = get_u32(p + 16);
	memcpy(ns->head_hash, p + 20, OPLOG_HASH_LEN);
	ns->watermark = get_u64(p + 52);
	ns->pruned = get_u64(p + 60);
	return 0;
}

int oplog_store__node_state_get(struct oplog_store *s, MDB_txn *txn, uint32_t ds,
                                uint32_t nid, struct node_state *ns)
{
	uint8_t kb[8];
	MDB_val k = { 8, kb }, v;
	int rc;

	put_u32(put_u32(kb, ds), nid);
	rc = mdb_get(txn, s->dbi[DBI_HEADS], &k, &v);
	if (rc)
		return oplog_store__mdb_err(rc, "mdb_get(heads)");
	return oplog_store__node_state_decode(ns, &v);
}

int oplog_store__hlc_cmp(uint64_t wa, uint32_t la, struct oplog_slice na, const uint8_t *ha,
                         uint64_t wb, uint32_t lb, struct oplog_slice nb, const uint8_t *hb)
{
	size_t n;
	int c;

	if (wa != wb)
		return wa < wb ? -1 : 1;
	if (la != lb)
		return la < lb ? -1 : 1;
	n = na.len < nb.len ? na.len : nb.len;
	if (n && (c = memcmp(na.ptr, nb.ptr, n)) != 0)
		return c;
	if (na.len != nb.len)
		return na.len < nb.len ? -1 : 1;
	return memcmp(ha, hb, OPLOG_HASH_LEN);
}

int oplog_store__doc_sha(uint8_t *sha, struct oplog_slice col, struct oplog_slice key)
{
	uint8_t len[2];
	struct oplog_slice parts[3] = { { len, 2 }, col, key };

	put_u16(len, (uint16_t)col.len);
	return oplog_entry__sha256(parts, 3, sha);
}

int oplog_store__doc_key(uint8_t *key, uint32_t ds, struct oplog_slice col,
                         struct oplog_slice key_)
{
	uint8_t sha[OPLOG_HASH_LEN];
	int rc = oplog_store__doc_sha(sha, col, key_);

	if (rc)
		return rc;
	put_bytes(put_u32(key, ds), sha, DOC_HASH_LEN);
	return 0;
}

/* ---- name <-> id ---------------------------------------------------- */

static uint64_t name_hash(struct oplog_slice n)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (size_t i = 0; i < n.len; i++)
		h = (h ^ n.ptr[i]) * 1099511628211ULL;
	return h;
}

static int cache_grow_table(struct name_cache *c)
{
	uint32_t cap = c->table_cap ? c->table_cap * 2 : 64;
	uint32_t *t = calloc(cap, sizeof(*t));

	if (!t)
		return oplog_error__set(OPLOG_ENOMEM, "name cache: out of memory");
	for (uint32_t i = 0; i < c->table_cap; i++) {
		uint32_t id = c->table[i], j;
		if (!id)
			continue;
		j = (uint32_t)name_hash(c->by_id[id]) & (cap - 1);
		while (t[j])
			j = (j + 1) & (cap - 1);
		t[j] = id;
	}
	free(c->table);
	c->table = t;
	c->table_cap = cap;
	return 0;
}

static uint32_t cache_find(const struct name_cache *c, struct oplog_slice name)
{
	uint32_t j;

	if (!c->table_cap)
		return 0;
	j = (uint32_t)name_hash(name) & (c->table_cap - 1);
	for (; c->table[j]; j = (j + 1) & (c->table_cap - 1)) {
		struct oplog_slice n = c->by_id[c->table[j]];
		if (n.len == name.len && memcmp(n.ptr, name.ptr, n.len) == 0)
			return c->table[j];
	}
	return 0;
}

/* Remember id <-> name. The cache holds only ids that exist in LMDB (or in
 * the current write txn; see ids_rollback). */
static int cache_add(struct name_cache *c, uint32_t id, struct oplog_slice name)
{
	uint8_t *copy;
	uint32_t j;

	if (id >= c->cap_ids) {
		uint32_t cap = c->cap_ids ? c->cap_ids : 64;
		struct oplog_slice *b;
		while (cap <= id)
			cap *= 2;
		if (!(b = realloc(c->by_id, cap * sizeof(*b))))
			return oplog_error__set(OPLOG_ENOMEM, "name cache: out of memory");
		memset(b + c->cap_ids, 0, (cap - c->cap_ids) * sizeof(*b));
		c->by_id = b;
		c->cap_ids = cap;
	}
	if (c->by_id[id].ptr)
		return 0;
	if ((c->n_ids + 1) * 2 > c->table_cap && cache_grow_table(c))
		return OPLOG_ENOMEM;
	if (!(copy = malloc(name.len ? name.len : 1)))
		return oplog_error__set(OPLOG_ENOMEM, "name cache: out of memory");
	memcpy(copy, name.ptr, name.len);
	c->by_id[id] = (struct oplog_slice){ copy, name.len };
	j = (uint32_t)name_hash(name) & (c->table_cap - 1);
	while (c->table[j])
		j = (j + 1) & (c->table_cap - 1);
	c->table[j] = id;
	if (id >= c->n_ids)
		c->n_ids = id + 1;
	return 0;
}

static void cache_free(struct name_cache *c)
{
	for (uint32_t i = 0; i < c->cap_ids; i++)
		free((void *)c->by_id[i].ptr);
	free(c->by_id);
	free(c->table);
	memset(c, 0, sizeof(*c));
}

void oplog_store__ids_rollback(struct oplog_store *s)
{
	for (int k = 0; k < 2; k++) {
		struct name_cache *c = &s->names[k];
		uint32_t keep = c->first_new;

		if (!keep)
			continue;
		/* Drop every id the aborted txn created; rebuild the table. */
		for (uint32_t id = keep; id < c->n_ids; id++) {
			free((void *)c->by_id[id].ptr);
			c->by_id[id] = (struct oplog_slice){ NULL, 0 };
		}
		c->n_ids = keep;
		c->first_new = 0;
		memset(c->table, 0, c->table_cap * sizeof(*c->table));
		for (uint32_t id = 1; id < keep; id++) {
			uint32_t j;
			if (!c->by_id[id].ptr)
				continue;
			j = (uint32_t)name_hash(c->by_id[id]) & (c->table_cap - 1);
			while (c->table[j])
				j = (j + 1) & (c->table_cap - 1);
			c->table[j] = id;
		}
	}
}

void oplog_store__ids_commit(struct oplog_store *s)
{
	s->names[0].first_new = 0;
	s->names[1].first_new = 0;
}

static struct name_cache *cache_of(struct oplog_store *s, int kind)
{
	return &s->names[kind == KIND_DS ? 0 : 1];
}

int oplog_store__id_lookup(struct oplog_store *s, MDB_txn *txn, int kind,
                           struct oplog_slice name, uint32_t *id)
{
	struct name_cache *c = cache_of(s, kind);
	uint8_t kb[1 + 256];
	MDB_val k = { 1 + name.len, kb }, v;
	int rc;

	if ((*id = cache_find(c, name)) != 0)
		return 0;
	if (name.len > 255)
		return oplog_error__set(OPLOG_EINVAL, "name of %zu bytes is too long", name.len);
	kb[0] = (uint8_t)kind;
	memcpy(kb + 1, name.ptr, name.len);
	rc = mdb_get(txn, s->dbi[DBI_NAMES], &k, &v);
	if (rc == MDB_NOTFOUND)
		return OPLOG_ENOTFOUND;
	if (rc)
		return oplog_store__mdb_err(rc, "mdb_get(names)");
	if (v.mv_size != 4)
		return oplog_error__set(OPLOG_ECORRUPT, "names: id of %zu bytes", v.mv_size);
	*id = get_u32(v.mv_data);
	return cache_add(c, *id, name);
}

int oplog_store__id_get(struct oplog_store *s, MDB_txn *txn, int kind,
                        struct oplog_slice name, uint32_t *id)
{
	char ctr[10] = "next_id.?";
	uint8_t kb[1 + 256], ib[5], nb[4];
	MDB_val k, v;
	uint32_t next = 1;
	int rc = oplog_store__id_lookup(s, txn, kind, name, id);

	if (rc != OPLOG_ENOTFOUND)
		return rc;
	ctr[8] = (char)kind;
	k = (MDB_val){ 9, ctr };
	rc = mdb_get(txn, s->dbi[DBI_META], &k, &v);
	if (rc == 0 && v.mv_size == 4)
		next = get_u32(v.mv_data);
	else if (rc && rc != MDB_NOTFOUND)
		return oplog_store__mdb_err(rc, "mdb_get(meta next_id)");
	*id = next;
	put_u32(nb, next + 1);
	v = (MDB_val){ 4, nb };
	if ((rc = mdb_put(txn, s->dbi[DBI_META], &k, &v, 0)))
		return oplog_store__mdb_err(rc, "mdb_put(meta next_id)");
	kb[0] = (uint8_t)kind;
	memcpy(kb + 1, name.ptr, name.len);
	k = (MDB_val){ 1 + name.len, kb };
	v = (MDB_val){ 4, nb };
	put_u32(nb, next);
	if ((rc = mdb_put(txn, s->dbi[DBI_NAMES], &k, &v, MDB_NOOVERWRITE)))
		return oplog_store__mdb_err(rc, "mdb_put(names)");
	ib[0] = (uint8_t)kind;
	put_u32(ib + 1, next);
	k = (MDB_val){ 5, ib };
	v = (MDB_val){ name.len, (void *)name.ptr };
	if ((rc = mdb_put(txn, s->dbi[DBI_IDS], &k, &v, MDB_NOOVERWRITE)))
		return oplog_store__mdb_err(rc, "mdb_put(ids)");
	if (!cache_of(s, kind)->first_new)
		cache_of(s, kind)->first_new = next;
	return cache_add(cache_of(s, kind), next, name);
}

int oplog_store__id_name(struct oplog_store *s, MDB_txn *txn, int kind,
                         uint32_t id, struct oplog_slice *name)
{
	struct name_cache *c = cache_of(s, kind);
	uint8_t ib[5];
	MDB_val k = { 5, ib }, v;
	int rc;

	if (id < c->cap_ids && c->by_id[id].ptr) {
		*name = c->by_id[id];
		return 0;
	}
	ib[0] = (uint8_t)kind;
	put_u32(ib + 1, id);
	rc = mdb_get(txn, s->dbi[DBI_IDS], &k, &v);
	if (rc == MDB_NOTFOUND)
		return oplog_error__set(OPLOG_ECORRUPT, "ids: no name for %s id %u",
		                        kind == KIND_DS ? "dataset" : "node", id);
	if (rc)
		return oplog_store__mdb_err(rc, "mdb_get(ids)");
	if ((rc = cache_add(c, id, (struct oplog_slice){ v.mv_data, v.mv_size })))
		return rc;
	*name = c->by_id[id];
	return 0;
}

/* ---- open / close --------------------------------------------------- */

/* The schema recorded in meta: 0 when there is none (a new store). */
static int meta_schema(struct oplog_store *s, MDB_txn *txn, uint32_t *schema)
{
	MDB_val k = { 6, "schema" }, v;
	int rc = mdb_get(txn, s->dbi[DBI_META], &k, &v);

	*schema = 0;
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return oplog_store__mdb_err(rc, "mdb_get(meta schema)");
	if (v.mv_size != 4 || (*schema = get_u32(v.mv_data)) == 0)
		return oplog_error__set(OPLOG_ECORRUPT, "meta: bad schema record");
	return 0;
}

static int meta_init(struct oplog_store *s, MDB_txn *txn, uint32_t schema)
{
	uint8_t sb[4];
	MDB_val k = { 6, "schema" }, v;
	int rc;

	if (schema) {
		k = (MDB_val){ 8, "store_id" };
		if ((rc = mdb_get(txn, s->dbi[DBI_META], &k, &v)) || v.mv_size != OPLOG_STORE_ID_LEN)
			return oplog_error__set(OPLOG_ECORRUPT, "meta: no store id");
		memcpy(s->id, v.mv_data, OPLOG_STORE_ID_LEN);
		return 0;
	}
	if (s->flags & OPLOG_STORE_RDONLY)
		return oplog_error__set(OPLOG_ENOTFOUND, "not an oplogd store (no schema in meta)");
	if (getrandom(s->id, sizeof(s->id), 0) != (ssize_t)sizeof(s->id))
		return oplog_error__set(OPLOG_EIO, "getrandom: %s", strerror(errno));
	put_u32(sb, OPLOG_STORE_SCHEMA);
	v = (MDB_val){ 4, sb };
	if ((rc = mdb_put(txn, s->dbi[DBI_META], &k, &v, 0)))
		return oplog_store__mdb_err(rc, "mdb_put(meta schema)");
	k = (MDB_val){ 8, "store_id" };
	v = (MDB_val){ OPLOG_STORE_ID_LEN, s->id };
	if ((rc = mdb_put(txn, s->dbi[DBI_META], &k, &v, 0)))
		return oplog_store__mdb_err(rc, "mdb_put(meta store_id)");
	return 0;
}

/*
 * Create path and any missing parents, each with mode (mkdir -p). An
 * existing directory is fine. Returns 0, or OPLOG_EIO naming the part
 * that could not be made. path is not changed.
 */
static int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t n = strlen(path), i;

	if (n == 0)
		return oplog_error__set(OPLOG_EIO, "mkdir: the store path is empty");
	if (n >= sizeof(buf))
		return oplog_error__set(OPLOG_EIO, "mkdir %s: %s", path, strerror(ENAMETOOLONG));
	memcpy(buf, path, n + 1);
	/* Each parent in turn, then path itself; a leading "/" is no part. */
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		if (buf[i - 1] == '/')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, mode) != 0 && errno != EEXIST)
			return oplog_error__set(OPLOG_EIO, "mkdir %s: %s", buf, strerror(errno));
		buf[i] = path[i];
	}
	return 0;
}

/*
 * A data.mdb shorter than the pages its newest meta says are in use (a
 * truncated copy, a file cut by a full disk) would fault with SIGBUS on
 * the first read of a missing page, and a read-write open with
 * MDB_WRITEMAP would extend it with zeros first. So the length is checked
 * before the store's own open, through a read-only environment of its own.
 * A missing file is a new store: nothing to check.
 */
static int check_length(const char *path)
{
	char file[PATH_MAX + 16];
	MDB_env *env = NULL;
	MDB_envinfo info;
	MDB_stat st;
	struct stat fst;
	uint64_t need;
	int rc;

	snprintf(file, sizeof(file), "%s/data.mdb", path);
	if (access(file, F_OK) != 0)
		return 0;
	if ((rc = mdb_env_create(&env)) == 0 &&
	    (rc = mdb_env_open(env, path, MDB_RDONLY | MDB_NOTLS | MDB_NOLOCK, 0)) == 0 &&
	    (rc = mdb_env_info(env, &info)) == 0)
		rc = mdb_env_stat(env, &st);
	mdb_env_close(env);
	/* The length after the meta was read: a writer in another process
	 * only ever makes the file longer before it commits a meta that
	 * counts the new pages, so a file read first could look short. */
	if (rc || stat(file, &fst) != 0)
		return 0;  /* the store's own open reports it, in its usual words */
	need = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
	if ((uint64_t)fst.st_size < need)
		return oplog_error__set(OPLOG_ECORRUPT, "%s is damaged: it is %lld bytes, but its "
		                        "pages in use end at byte %llu (cut short?); restore it "
		                        "from a snapshot", file, (long long)fst.st_size,
		                        (unsigned long long)need);
	return 0;
}

/*
 * What LMDB writes first into the files of a new environment, each in one
 * go, must not run out of space halfway:
 *   - lock.mdb is mapped and its header and reader slots written through
 *     the map, so on a full disk a new lock file is a SIGBUS inside
 *     mdb_env_open, read-only or not. LOCK_RESERVE is LMDB's lock region
 *     for its default 126 readers.
 *   - data.mdb of a new store gets its two meta pages in one write; a
 *     disk that takes only the first leaves a file LMDB refuses for good
 *     (MDB_INVALID), even once there is room.
 * So the first `len` bytes of a file shorter than that are reserved before
 * mdb_env_open, with FALLOC_FL_KEEP_SIZE: the size is LMDB's to set, and
 * blocks past the end become the file's when it does. Only a file that
 * short is touched: no environment uses it yet, and closing a descriptor
 * of a lock file in use would drop this process's fcntl locks on it. A
 * file system that cannot reserve is left alone.
 * Returns 0 or OPLOG_ENOSPC.
 */
#define LOCK_RESERVE 8192
static int reserve_new(const char *path, const char *name, off_t len, unsigned mode)
{
	char file[PATH_MAX + 16], what[32];
	struct stat st;
	int fd, rc, err = 0;

	snprintf(file, sizeof(file), "%s/%s", path, name);
	if (stat(file, &st) == 0 && st.st_size >= len)
		return 0;
	if ((fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, mode)) < 0)
		return 0;  /* mdb_env_open says why, in its own words (or reads without it) */
	do
		rc = fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, len);
	while (rc != 0 && errno == EINTR);
	if (rc != 0)
		err = errno;
	close(fd);
	snprintf(what, sizeof(what), "reserving %s", name);
	return err ? no_space(path, err, what, strerror(err)) : 0;
}

/*
 * Create (read-write) or find (read-only) the directory, and open s's
 * environment there with the map at least as large as the file. *txn_flags
 * gets MDB_RDONLY for a read-only store. 0, OPLOG_ENOTFOUND (read-only and
 * no store), or an OPLOG_E* code; s->env is closed by oplog_store_close.
 */
static int env_open(struct oplog_store *s, const char *path, unsigned *txn_flags)
{
	unsigned env_flags = MDB_NOTLS;
	MDB_envinfo info;
	struct stat st;
	int rc, err;

	*txn_flags = 0;
	if (s->flags & OPLOG_STORE_RDONLY) {
		if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
			return oplog_error__set(OPLOG_ENOTFOUND, "no store at %s", path);
		env_flags |= MDB_RDONLY;
		*txn_flags = MDB_RDONLY;
	} else if ((rc = mkdir_p(path, oplog_store__dir_mode(s->mode)))) {
		/* Parents too, so that --store /new/tree/store just works. */
		return rc;
	}
	if ((rc = check_length(path)) ||
	    (rc = reserve_new(path, "lock.mdb", LOCK_RESERVE, s->mode)) ||
	    (!(s->flags & OPLOG_STORE_RDONLY) &&
	     (rc = reserve_new(path, "data.mdb", 2 * sysconf(_SC_PAGESIZE), s->mode))))
		return rc;
	if (s->flags & OPLOG_STORE_NOSYNC)
		env_flags |= MDB_NOSYNC;
	if ((s->flags & OPLOG_STORE_WRITEMAP) && !(s->flags & OPLOG_STORE_RDONLY)) {
		char file[PATH_MAX + 16];

		env_flags |= MDB_WRITEMAP;
		/* LMDB cuts the file to the map: never below the size another
		 * process may have mapped (nor below what this one reserved). */
		snprintf(file, sizeof(file), "%s/data.mdb", path);
		if (stat(file, &st) == 0 && (uint64_t)st.st_size > s->map_size)
			s->map_size = (size_t)st.st_size;
	}
	for (;;) {
		if ((rc = mdb_env_create(&s->env)) ||
		    (rc = mdb_env_set_maxdbs(s->env, DBI__COUNT + 4)) ||
		    (rc = mdb_env_set_mapsize(s->env, s->map_size)))
			return oplog_store__mdb_err(rc, "mdb_env_create");
		if ((rc = mdb_env_open(s->env, path, env_flags, s->mode))) {
			if (rc == ENOENT && (s->flags & OPLOG_STORE_RDONLY))
				return oplog_error__set(OPLOG_ENOTFOUND, "no store at %s", path);
			if ((err = no_space(path, rc, "mdb_env_open", mdb_strerror(rc))))
				return err;
			return oplog_error__set(OPLOG_EIO, "mdb_env_open %s: %s", path,
			                        mdb_strerror(rc));
		}
		/* An existing store may be larger than the configured initial size. */
		mdb_env_info(s->env, &info);
		s->map_size = info.me_mapsize;
		if (!(env_flags & MDB_WRITEMAP) || (rc = reserve_map(s->env, 0, s->map_size)) == 0)
			break;
		if (rc != 1)
			return rc;
		/* A file system that cannot reserve space (no fallocate: ext2/3
		 * files without extents, some network and FUSE file systems)
		 * would fault on a full disk with writemap: write(2) instead,
		 * which reports it. */
		oplog_log(OPLOG_LOG_WARN, "%s: the file system cannot reserve space for the map "
		          "(fallocate: %s): opened without [store] writemap, so that a full disk "
		          "is an error rather than a crash", path, strerror(EOPNOTSUPP));
		mdb_env_close(s->env);
		s->env = NULL;
		env_flags &= ~(unsigned)MDB_WRITEMAP;
	}
	if (s->max_size < s->map_size)
		s->max_size = s->map_size;
	return 0;
}

/* Open tree d in txn with flags: OPLOG_ENOTFOUND when the store has none. */
static int dbi_open(struct oplog_store *s, MDB_txn *txn, int d, unsigned flags,
                    const char *path)
{
	int rc = mdb_dbi_open(txn, oplog_store__dbi_names[d], flags, &s->dbi[d]);

	if (rc == MDB_NOTFOUND)
		return oplog_error__set(OPLOG_ENOTFOUND, "%s is not an oplogd store (no '%s' database)",
		                        path, oplog_store__dbi_names[d]);
	return rc ? oplog_store__mdb_err(rc, oplog_store__dbi_names[d]) : 0;
}

/*
 * Open every tree in txn (creating them unless txn_flags says read-only),
 * the schema first: an older store's trees have other flags. *schema gets
 * the stored one (0 for a new store). OPLOG_ESCHEMA with *old set for an
 * older schema, ESCHEMA for a newer one, ENOTFOUND when a tree is missing.
 */
static int dbis_open(struct oplog_store *s, MDB_txn *txn, unsigned txn_flags, const char *path,
                     uint32_t *schema, uint32_t *old)
{
	unsigned create = txn_flags ? 0 : MDB_CREATE;
	int rc;

	if ((rc = dbi_open(s, txn, DBI_META, create, path)) ||
	    (rc = meta_schema(s, txn, schema)))
		return rc;
	if (*schema > OPLOG_STORE_SCHEMA)
		return oplog_error__set(OPLOG_ESCHEMA, "store schema %u is newer than this oplogd's "
		                        "(%d): upgrade oplogd", *schema, OPLOG_STORE_SCHEMA);
	if (*schema && *schema < OPLOG_STORE_SCHEMA) {
		*old = *schema;
		return oplog_error__set(OPLOG_ESCHEMA, "%s has store schema %u, this oplogd writes %d: "
		                        "upgrade it with `oplogd migrate --store %s` (a read-write "
		                        "command such as apply or import also upgrades it)",
		                        path, *schema, OPLOG_STORE_SCHEMA, path);
	}
	for (int i = 0; i < DBI__COUNT; i++)
		if ((rc = dbi_open(s, txn, i, oplog_store__dbi_flags[i] | create, path)))
			return rc;
	return 0;
}

/*
 * Open once. A store of an older schema is left as it is: the return is
 * OPLOG_ESCHEMA with *old set to its schema, for oplog_store_open to
 * upgrade it.
 */
static int open_once(struct oplog_store **out, const struct oplog_store_opts *opts,
                     uint32_t *old)
{
	struct oplog_store *s = NULL;
	MDB_txn *txn = NULL;
	unsigned txn_flags;
	uint32_t schema = 0;
	int rc;

	*out = NULL;
	if (!opts->path || !*opts->path)
		return oplog_error__set(OPLOG_EINVAL, "store path is empty");
	if (!(s = calloc(1, sizeof(*s))))
		return oplog_error__set(OPLOG_ENOMEM, "out of memory");
	s->flags = opts->flags;
	s->map_size = opts->map_size ? opts->map_size : DEFAULT_MAP_SIZE;
	s->max_size = opts->max_size ? opts->max_size : DEFAULT_MAX_SIZE;
	if (s->max_size < s->map_size)
		s->max_size = s->map_size;
	s->reject_max = opts->reject_max_bytes ? opts->reject_max_bytes : DEFAULT_REJECT_MAX;
	s->rejects_max = opts->rejects_max;
	s->mode = opts->mode ? opts->mode & 0777 : 0600;

	if ((rc = env_open(s, opts->path, &txn_flags)) ||
	    (rc = oplog_store__txn_begin(s, txn_flags, &txn)) ||
	    (rc = dbis_open(s, txn, txn_flags, opts->path, &schema, old)) ||
	    (rc = meta_init(s, txn, schema)))
		goto done;
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc) {
		rc = oplog_store__write_err(s->env, rc, "mdb_txn_commit(open)");
		goto done;
	}
	*out = s;
	s = NULL;
done:
	if (txn)
		mdb_txn_abort(txn);
	oplog_store_close(s);
	return rc;
}

int oplog_store_open(struct oplog_store **out, const struct oplog_store_opts *opts)
{
	uint32_t old = 0;
	int rc = open_once(out, opts, &old);

	if (rc != OPLOG_ESCHEMA || !old || (opts->flags & OPLOG_STORE_RDONLY))
		return rc;
	if ((rc = oplog_store_migrate(opts, NULL)))
		return rc;
	return open_once(out, opts, &old);
}

void oplog_store_close(struct oplog_store *s)
{
	if (!s)
		return;
	if (s->env)
		mdb_env_close(s->env);
	cache_free(&s->names[0]);
	cache_free(&s->names[1]);
	free(s);
}

const uint8_t *oplog_store_id(const struct oplog_store *s)
{
	return s->id;
}

/* 0 when dir is missing or an empty directory; else OPLOG_EINVAL saying
 * why, checked before LMDB is asked so that the error names the directory
 * rather than a failed copy. */
static int dir_is_empty(const char *dir)
{
	struct dirent *d;
	DIR *dp = opendir(dir);
	int rc = 0;

	if (!dp) {
		if (errno == ENOENT)
			return 0;
		if (errno == ENOTDIR)
			return oplog_error__set(OPLOG_EINVAL, "%s is not a directory "
			                        "(a snapshot goes into a new or empty directory)", dir);
		return oplog_error__set(OPLOG_EIO, "%s: %s", dir, strerror(errno));
	}
	while ((d = readdir(dp)) != NULL) {
		if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0) {
			rc = oplog_error__set(OPLOG_EINVAL, "%s is not empty "
			                      "(a snapshot goes into a new or empty directory)", dir);
			break;
		}
	}
	closedir(dp);
	return rc;
}

int oplog_store_snapshot(struct oplog_store *s, const char *dir)
{
	int rc;

	char file[PATH_MAX + 16];

	if ((rc = dir_is_empty(dir)))
		return rc;
	if ((rc = mkdir_p(dir, oplog_store__dir_mode(s->mode))))
		return rc;
	if ((rc = mdb_env_copy2(s->env, dir, MDB_CP_COMPACT)))
		return oplog_error__set(OPLOG_EIO, "mdb_env_copy2 %s: %s", dir, mdb_strerror(rc));
	/* LMDB creates the copy with 0666 less the umask: give it the store's
	 * mode, as the documents in it are the store's. */
	snprintf(file, sizeof(file), "%s/data.mdb", dir);
	if (chmod(file, s->mode) != 0)
		return oplog_error__set(OPLOG_EIO, "chmod %s: %s", file, strerror(errno));
	return 0;
}
