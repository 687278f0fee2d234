/*
 * migrate.c: the upgrade of a schema-1 store to schema 2 (docs/STORE.md,
 * "Schema 1, and the upgrade").
 *
 * The old environment is read in one write transaction, held from start to
 * end and never committed: it is LMDB's writer lock, so no other writer
 * can change what is being copied. The new layout is built in
 * DIR/migrate.tmp/ without fsync, in bounded write transactions that grow
 * the map on MDB_MAP_FULL as apply does, then synced and renamed over
 * DIR/data.mdb. Until that rename the old store is untouched; after it the
 * store is complete in the new schema. So an interruption at any point
 * leaves a store that works (the old one, upgraded again by the next run,
 * which first removes what the interrupted one left in migrate.tmp/).
 *
 * What changes: log, entries, by_seq, by_hlc, by_node and docs are rebuilt
 * in the schema-2 format, links is dropped. Every other tree and every
 * meta record but the schema is copied byte for byte, so every id (store,
 * dataset, node, log) stays what it was.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "oplog/error.h"
#include "store_int.h"

#define MIG_TMP       "migrate.tmp"
#define MIG_FROM      1                      /* the only schema we upgrade from */
#define MIG_RECORDS   20000                  /* records per write txn of the new env */
#define MIG_BYTES     ((size_t)64 << 20)     /* bytes per write txn of the new env */
#define MIG_KEY_MAX   512                    /* LMDB's largest key is 511 bytes */
#define MIG_SWAP_WAIT_MS 2000                /* how long a reader may delay the swap */
#define V1_DOC_HDR    (8 + 4 + 4 + 8 + OPLOG_HASH_LEN + 1 + 2 + 2 + 4)
#define V1_HASH_KEY   (4 + OPLOG_HASH_LEN)   /* v1 entries: ds | hash */

#define DEFAULT_MAP_SIZE ((size_t)256 << 20)  /* as store.c */
#define DEFAULT_MAX_SIZE ((size_t)64 << 30)

/* Where a pass over one old tree stands: the next old key to read. */
struct pos {
	int      dbi;                 /* the tree (the same name in both schemas) */
	int      started, done;
	uint8_t  key[MIG_KEY_MAX];    /* first key not yet copied (inclusive) */
	size_t   len;
	uint64_t n;                   /* records written by the committed batches */
	uint64_t inline_docs;         /* docs pass: winners kept inline, likewise */
};

/* One (nid, id) of a by_hlc or by_node group, sorted before it is written. */
struct hlc_item {
	uint32_t nid;
	uint64_t id;
};

struct mig {
	const struct oplog_store_opts *opts;
	char        tmp[PATH_MAX];          /* DIR/migrate.tmp */
	int         lock_fd;                /* DIR/lock.mdb, to see other processes' locks */
	MDB_env    *old_env;
	MDB_txn    *old_txn;                /* write txn: the writer lock, never committed */
	MDB_dbi     old_dbi[DBI__COUNT];
	int         has_old[DBI__COUNT];    /* lost and replay came late in schema 1 */
	MDB_env    *env;                    /* the new environment */
	MDB_dbi     dbi[DBI__COUNT];
	size_t      map_size, max_size;
	uint32_t   *ds;                     /* datasets present in the old log, ascending */
	size_t      n_ds;
	struct hlc_item *group;             /* scratch for by_hlc / by_node groups */
	size_t      group_cap;
	uint64_t    inline_docs;            /* documents whose winner is not in the log */
};

static void notice(const struct mig *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void notice(const struct mig *m, const char *fmt, ...)
{
	char line[PATH_MAX + 512];
	va_list ap;

	if (!m->opts->notice)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	m->opts->notice(line, m->opts->notice_arg);
}

/* An LMDB failure of op on tree dbi of the new env. */
static int new_err(int rc, const char *op, int dbi)
{
	char what[64];

	snprintf(what, sizeof(what), "migrate: %s(%s)", op, oplog_store__dbi_names[dbi]);
	return oplog_store__mdb_err(rc, what);
}

static int read_err(int rc, int dbi)
{
	char what[48];

	snprintf(what, sizeof(what), "migrate: reading old %s", oplog_store__dbi_names[dbi]);
	return oplog_store__mdb_err(rc, what);
}

static int corrupt(int dbi, const char *what)
{
	return oplog_error__set(OPLOG_ECORRUPT, "migrate: schema-1 %s: %s; the store cannot be "
	                        "upgraded (check it with the oplogd that wrote it: verify)",
	                        oplog_store__dbi_names[dbi], what);
}

/* ---- files ---------------------------------------------------------- */

static int fsync_path(const char *path, int dir)
{
	int fd = open(path, dir ? O_RDONLY | O_DIRECTORY : O_RDONLY);
	int rc = 0;

	if (fd < 0)
		return oplog_error__set(OPLOG_EIO, "migrate: open %s: %s", path, strerror(errno));
	if (fsync(fd) != 0)
		rc = oplog_error__set(OPLOG_EIO, "migrate: fsync %s: %s", path, strerror(errno));
	close(fd);
	return rc;
}

/* Remove dir and the files in it (the temp dir holds an LMDB env's files
 * only). A missing dir is not an error. */
static int remove_dir(const char *dir)
{
	char path[PATH_MAX + 256];
	struct dirent *de;
	DIR *d = opendir(dir);
	int rc = 0;

	if (!d)
		return errno == ENOENT ? 0 : oplog_error__set(OPLOG_EIO, "migrate: opendir %s: %s",
		                                               dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) != 0 && errno != ENOENT) {
			rc = oplog_error__set(OPLOG_EIO, "migrate: unlink %s: %s", path, strerror(errno));
			break;
		}
	}
	closedir(d);
	if (rc == 0 && rmdir(dir) != 0 && errno != ENOENT)
		rc = oplog_error__set(OPLOG_EIO, "migrate: rmdir %s: %s", dir, strerror(errno));
	return rc;
}

/* ---- other processes ------------------------------------------------ */

/*
 * Does another process have the old env open? Every process that opens
 * an LMDB env holds a shared fcntl lock on byte 0 of its lock file, so a
 * write lock there that F_GETLK finds in conflict names another process
 * (our own locks never conflict with us). The reader table adds nothing
 * for other processes but is cleared of dead ones on the way.
 * 0 with *pid = 0 (alone) or the pid of one other process, or OPLOG_EIO.
 */
static int other_process(struct mig *m, pid_t *pid)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };

	*pid = 0;
	if (m->lock_fd < 0)
		return 0;
	if (fcntl(m->lock_fd, F_GETLK, &fl) != 0)
		return oplog_error__set(OPLOG_EIO, "migrate: fcntl(F_GETLK) on %s/lock.mdb: %s",
		                        m->opts->path, strerror(errno));
	if (fl.l_type != F_UNLCK)
		*pid = fl.l_pid > 0 ? fl.l_pid : -1;
	return 0;
}

/* An mdb_reader_list line: "pid thread txnid" (after a header line). */
static int reader_line(const char *line, void *arg)
{
	pid_t *pid = arg;
	int p;

	if (sscanf(line, " %d", &p) == 1 && p > 0 && *pid == 0)
		*pid = p;
	return 0;
}

static int busy(struct mig *m, pid_t pid)
{
	const char *dir = m->opts->path;

	return oplog_error__set(OPLOG_EBUSY, "%s is open in another process (pid %ld): stop every "
	                        "program using the store (oplogd apply, replay, ...) and run "
	                        "`oplogd migrate --store %s` again", dir, (long)pid, dir);
}

/* EBUSY when another process has the store open, or is reading it. */
static int check_alone(struct mig *m)
{
	pid_t pid = 0;
	int dead, rc;

	if ((rc = other_process(m, &pid)))
		return rc;
	if (pid)
		return busy(m, pid);
	mdb_reader_check(m->old_env, &dead);
	mdb_reader_list(m->old_env, reader_line, &pid);
	return pid ? busy(m, pid) : 0;
}

/* ---- the old environment -------------------------------------------- */

static unsigned v1_dbi_flags(int i)
{
	return i == DBI_FORKS ? MDB_DUPSORT | MDB_DUPFIXED : 0;
}

/* The schema in the old env's meta (read in its own read txn): 0 when
 * there is none. ENOTFOUND when the env is no oplogd store. */
static int old_schema(struct mig *m, uint32_t *schema)
{
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	MDB_val k = { 6, "schema" }, v;
	int rc;

	*schema = 0;
	if ((rc = mdb_txn_begin(m->old_env, NULL, MDB_RDONLY, &txn))) {
		rc = oplog_store__mdb_err(rc, "migrate: mdb_txn_begin");
		goto done;
	}
	rc = mdb_dbi_open(txn, oplog_store__dbi_names[DBI_META], 0, &dbi);
	if (rc == MDB_NOTFOUND) {
		rc = oplog_error__set(OPLOG_ENOTFOUND, "%s is not an oplogd store (no 'meta' database)",
		                      m->opts->path);
		goto done;
	}
	if (rc) {
		rc = oplog_store__mdb_err(rc, "migrate: meta");
		goto done;
	}
	rc = mdb_get(txn, dbi, &k, &v);
	if (rc == MDB_NOTFOUND) {
		rc = oplog_error__set(OPLOG_ENOTFOUND, "%s is not an oplogd store (no schema in meta)",
		                      m->opts->path);
		goto done;
	}
	if (rc) {
		rc = oplog_store__mdb_err(rc, "migrate: mdb_get(meta schema)");
		goto done;
	}
	if (v.mv_size != 4 || (*schema = get_u32(v.mv_data)) == 0) {
		rc = oplog_error__set(OPLOG_ECORRUPT, "meta: bad schema record");
		goto done;
	}
done:
	if (txn)
		mdb_txn_abort(txn);
	return rc;
}

/* Open the old env (its map as large as its file says) and its lock file. */
static int old_open(struct mig *m)
{
	const char *dir = m->opts->path;
	char path[PATH_MAX];
	struct stat st;
	int rc;

	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return oplog_error__set(OPLOG_ENOTFOUND, "no store at %s", dir);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (stat(path, &st) != 0)
		return oplog_error__set(OPLOG_ENOTFOUND, "no store at %s", dir);
	/* Opened before the env, closed after it: closing any descriptor of
	 * the lock file drops every fcntl lock this process has on it. */
	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	if ((m->lock_fd = open(path, O_RDWR | O_CLOEXEC)) < 0 && errno != ENOENT)
		return oplog_error__set(OPLOG_EIO, "migrate: open %s: %s", path, strerror(errno));
	if ((rc = mdb_env_create(&m->old_env)) ||
	    (rc = mdb_env_set_maxdbs(m->old_env, DBI__COUNT + 4)))
		return oplog_store__mdb_err(rc, "migrate: mdb_env_create");
	if ((rc = mdb_env_open(m->old_env, dir, MDB_NOTLS, 0644)))
		return oplog_error__set(OPLOG_EIO, "migrate: mdb_env_open %s: %s", dir,
		                        mdb_strerror(rc));
	if (m->lock_fd < 0 && (m->lock_fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
		return oplog_error__set(OPLOG_EIO, "migrate: open %s: %s", path, strerror(errno));
	return 0;
}

/* Take the writer lock and open the old trees in that transaction. */
static int old_begin(struct mig *m)
{
	int rc = mdb_txn_begin(m->old_env, NULL, 0, &m->old_txn);

	if (rc == MDB_MAP_RESIZED && (rc = mdb_env_set_mapsize(m->old_env, 0)) == 0)
		rc = mdb_txn_begin(m->old_env, NULL, 0, &m->old_txn);
	if (rc) {
		m->old_txn = NULL;
		return oplog_store__mdb_err(rc, "migrate: mdb_txn_begin(old store)");
	}
	for (int i = 0; i < DBI__COUNT; i++) {
		rc = mdb_dbi_open(m->old_txn, oplog_store__dbi_names[i], v1_dbi_flags(i),
		                  &m->old_dbi[i]);
		if (rc == MDB_NOTFOUND && (i == DBI_LOST || i == DBI_REPLAY))
			continue;   /* a store from before they existed: nothing to copy */
		if (rc == MDB_NOTFOUND && i == DBI_BLOOMS)
			continue;   /* schema 2 only: built by the first batch that ends an epoch */
		if (rc == MDB_NOTFOUND)
			return oplog_error__set(OPLOG_ECORRUPT, "%s is not a schema-1 oplogd store "
			                        "(no '%s' database)", m->opts->path,
			                        oplog_store__dbi_names[i]);
		if (rc)
			return read_err(rc, i);
		m->has_old[i] = 1;
	}
	return 0;
}

/* The log id of v1 entry (ds, hash): 0, or OPLOG_ENOTFOUND. */
static int old_entry_id(struct mig *m, uint32_t ds, const uint8_t *hash, uint64_t *id)
{
	uint8_t kb[V1_HASH_KEY];
	MDB_val k = { sizeof(kb), kb }, v;
	int rc;

	put_bytes(put_u32(kb, ds), hash, OPLOG_HASH_LEN);
	rc = mdb_get(m->old_txn, m->old_dbi[DBI_ENTRIES], &k, &v);
	if (rc == MDB_NOTFOUND)
		return OPLOG_ENOTFOUND;
	if (rc)
		return read_err(rc, DBI_ENTRIES);
	if (v.mv_size != 8 || (*id = get_u64(v.mv_data)) == 0)
		return corrupt(DBI_ENTRIES, "a log id that is not 8 bytes");
	return 0;
}

/* Like old_entry_id, for an index record that must name an entry. */
static int old_entry_id_of(struct mig *m, int dbi, uint32_t ds, const uint8_t *hash,
                           uint64_t *id)
{
	int rc = old_entry_id(m, ds, hash, id);

	return rc == OPLOG_ENOTFOUND ? corrupt(dbi, "a record names an entry that `entries` "
	                                       "does not hold") : rc;
}

/* The datasets that have log records: one seek per dataset. */
static int old_datasets(struct mig *m)
{
	MDB_cursor *cur = NULL;
	uint8_t kb[4];
	MDB_val k, v;
	size_t cap = 0;
	int rc;

	if ((rc = mdb_cursor_open(m->old_txn, m->old_dbi[DBI_LOG], &cur)))
		return read_err(rc, DBI_LOG);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)) {
		uint32_t ds;

		if (k.mv_size != 12) {
			rc = corrupt(DBI_LOG, "a key that is not ds | id");
			goto done;
		}
		ds = get_u32(k.mv_data);
		if (m->n_ds == cap) {
			void *p = realloc(m->ds, (cap = cap ? cap * 2 : 16) * sizeof(*m->ds));
			if (!p) {
				rc = oplog_error__set(OPLOG_ENOMEM, "migrate: out of memory");
				goto done;
			}
			m->ds = p;
		}
		m->ds[m->n_ds++] = ds;
		if (ds == UINT32_MAX)
			break;
		put_u32(kb, ds + 1);
		k = (MDB_val){ 4, kb };
	}
	rc = rc == 0 || rc == MDB_NOTFOUND ? 0 : read_err(rc, DBI_LOG);
done:
	mdb_cursor_close(cur);
	return rc;
}

/* ---- the new environment -------------------------------------------- */

static int new_open(struct mig *m)
{
	MDB_txn *txn = NULL;
	int rc;

	if (mkdir(m->tmp, 0755) != 0)
		return oplog_error__set(OPLOG_EIO, "migrate: mkdir %s: %s", m->tmp, strerror(errno));
	if ((rc = mdb_env_create(&m->env)) ||
	    (rc = mdb_env_set_maxdbs(m->env, DBI__COUNT + 4)) ||
	    (rc = mdb_env_set_mapsize(m->env, m->map_size)))
		return oplog_store__mdb_err(rc, "migrate: mdb_env_create(new)");
	/* No fsync while building: the file only counts once it is synced
	 * and renamed into place. */
	if ((rc = mdb_env_open(m->env, m->tmp, MDB_NOTLS | MDB_NOSYNC, 0644)))
		return oplog_error__set(OPLOG_EIO, "migrate: mdb_env_open %s: %s", m->tmp,
		                        mdb_strerror(rc));
	if ((rc = mdb_txn_begin(m->env, NULL, 0, &txn)))
		return oplog_store__mdb_err(rc, "migrate: mdb_txn_begin(new)");
	for (int i = 0; i < DBI__COUNT; i++) {
		if ((rc = mdb_dbi_open(txn, oplog_store__dbi_names[i],
		                       oplog_store__dbi_flags[i] | MDB_CREATE, &m->dbi[i]))) {
			mdb_txn_abort(txn);
			return oplog_store__mdb_err(rc, "migrate: mdb_dbi_open(new)");
		}
	}
	rc = mdb_txn_commit(txn);
	return rc ? oplog_store__mdb_err(rc, "migrate: mdb_txn_commit(new)") : 0;
}

/* Double the new env's map, up to max_size; no txn of it may be open. */
static int new_grow(struct mig *m)
{
	size_t grown;
	int rc;

	if (m->map_size >= m->max_size)
		return oplog_error__set(OPLOG_EMAPFULL, "migrate: the upgraded store does not fit in "
		                        "[store] max_size (%zu MiB); raise it and run again",
		                        m->max_size >> 20);
	grown = m->map_size > m->max_size / 2 ? m->max_size : m->map_size * 2;
	if ((rc = mdb_env_set_mapsize(m->env, grown)))
		return oplog_store__mdb_err(rc, "migrate: mdb_env_set_mapsize");
	m->map_size = grown;
	return 0;
}

/* ---- passes --------------------------------------------------------- */

/*
 * A pass copies one old tree into the new env, in batches: one write txn
 * of the new env each, bounded by MIG_RECORDS and MIG_BYTES so that none
 * grows past a bounded size. A batch writes what comes next from its
 * *p on and leaves *p at the first old key it did not write (done at the
 * end). run_pass commits each batch and moves on; on a full map it grows
 * the map and redoes the batch from where the last commit left it.
 */
struct batch {
	MDB_txn    *txn;
	MDB_cursor *out;        /* on the pass's tree of the new env */
	struct pos *p;
	size_t      records, bytes;
	size_t      group_n;    /* walk: records of the current group seen so far */
};

typedef int (*pass_fn)(struct mig *m, struct batch *bt);

static int batch_full(const struct batch *bt)
{
	return bt->records >= MIG_RECORDS || bt->bytes >= MIG_BYTES;
}

/* Count record k -> v into the batch's budget and the pass's total. */
static void batch_count(struct batch *bt, const MDB_val *k, const MDB_val *v)
{
	bt->records++;
	bt->bytes += k->mv_size + v->mv_size;
	bt->p->n++;
}

/*
 * Put k -> v into the pass's tree of the new env (flags as mdb_put's) and
 * count it. MDB_KEYEXIST is the old store's fault when `twice` says how
 * (ECORRUPT with that), else a failed put like any other.
 */
static int emit(struct batch *bt, MDB_val *k, MDB_val *v, unsigned flags, const char *twice)
{
	int rc = mdb_cursor_put(bt->out, k, v, flags);

	if (rc == MDB_KEYEXIST && twice)
		return corrupt(bt->p->dbi, twice);
	if (rc)
		return new_err(rc, "mdb_put", bt->p->dbi);
	batch_count(bt, k, v);
	return 0;
}

/* One batch of a pass in its own write txn of the new env: committed when
 * fn succeeds, else aborted (never reused). */
static int run_batch(struct mig *m, pass_fn fn, struct pos *p)
{
	struct batch bt = { .p = p };
	int rc;

	if ((rc = mdb_txn_begin(m->env, NULL, 0, &bt.txn))) {
		bt.txn = NULL;
		rc = oplog_store__mdb_err(rc, "migrate: mdb_txn_begin(new)");
		goto done;
	}
	if ((rc = mdb_cursor_open(bt.txn, m->dbi[p->dbi], &bt.out))) {
		bt.out = NULL;
		rc = new_err(rc, "mdb_cursor_open", p->dbi);
		goto done;
	}
	if ((rc = fn(m, &bt)))
		goto done;
	mdb_cursor_close(bt.out);
	bt.out = NULL;
	rc = mdb_txn_commit(bt.txn);
	bt.txn = NULL;   /* committed or, on failure, freed by LMDB */
	if (rc)
		rc = oplog_store__mdb_err(rc, "migrate: mdb_txn_commit(new)");
done:
	if (bt.out)
		mdb_cursor_close(bt.out);
	if (bt.txn)
		mdb_txn_abort(bt.txn);
	return rc;
}

static int run_pass(struct mig *m, pass_fn fn, int dbi, uint64_t *written)
{
	struct pos p = { .dbi = dbi }, next;
	int rc;

	while (!p.done) {
		next = p;
		rc = run_batch(m, fn, &next);
		if (rc == OPLOG_EMAPFULL && (rc = new_grow(m)) == 0)
			continue;
		if (rc)
			return rc;
		p = next;
	}
	if (written)
		*written = p.n;
	if (dbi == DBI_DOCS)
		m->inline_docs = p.inline_docs;
	return 0;
}

/* Position cur at p's next key: the first one, or where the last batch
 * stopped. */
static int pos_first(MDB_cursor *cur, struct pos *p, MDB_val *k, MDB_val *v)
{
	if (!p->started) {
		p->started = 1;
		return mdb_cursor_get(cur, k, v, MDB_FIRST);
	}
	*k = (MDB_val){ p->len, p->key };
	return mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
}

/* Stop the batch before key k: the next one starts there. */
static int pos_stop(struct pos *p, const MDB_val *k)
{
	if (k->mv_size > sizeof(p->key))
		return oplog_error__set(OPLOG_ECORRUPT, "migrate: a key of %zu bytes", k->mv_size);
	memcpy(p->key, k->mv_data, k->mv_size);
	p->len = k->mv_size;
	return 0;
}

static int pos_end(struct pos *p, int rc)
{
	if (rc != MDB_NOTFOUND)
		return read_err(rc, p->dbi);
	p->done = 1;
	return 0;
}

/* What a pass makes of one old record (k, v, borrowed from the old txn):
 * it writes the new record(s) with emit, or nothing to skip it. */
typedef int (*record_fn)(struct mig *m, struct batch *bt, const MDB_val *k, const MDB_val *v);

/* What a pass makes of a group once record_fn has seen all of it: the
 * key prefix its records share, bt->group_n of them. */
typedef int (*group_fn)(struct mig *m, struct batch *bt, const uint8_t *prefix);

/*
 * A batch of a pass that reads its old tree in key order (every pass but
 * log's merge): each record goes to fn until the batch is full. With
 * glen > 0, records whose keys share their first glen bytes are a group:
 * fn sees them all, then group writes them, and a batch ends only between
 * groups, so that a group is never split. A tree the old store does not
 * have (lost and replay came late in schema 1) has nothing to copy.
 */
static int walk(struct mig *m, struct batch *bt, record_fn fn, size_t glen, group_fn group)
{
	struct pos *p = bt->p;
	MDB_cursor *cur = NULL;
	uint8_t prefix[MIG_KEY_MAX];
	MDB_val k, v;
	int at, rc = 0;   /* at: the cursor's last move, 0 while it is on a record */

	if (!m->has_old[p->dbi]) {
		p->done = 1;
		return 0;
	}
	if ((rc = mdb_cursor_open(m->old_txn, m->old_dbi[p->dbi], &cur)))
		return read_err(rc, p->dbi);
	at = pos_first(cur, p, &k, &v);
	while (at == 0) {
		if (batch_full(bt)) {
			rc = pos_stop(p, &k);
			goto done;
		}
		if (k.mv_size < glen) {
			rc = corrupt(p->dbi, "a key too short");
			goto done;
		}
		memcpy(prefix, k.mv_data, glen);
		bt->group_n = 0;
		do {
			if ((rc = fn(m, bt, &k, &v)))
				goto done;
			bt->group_n++;
			at = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		} while (at == 0 && glen && key_has_prefix(&k, prefix, glen));
		if (at && at != MDB_NOTFOUND)
			break;
		if (group && (rc = group(m, bt, prefix)))
			goto done;
	}
	rc = pos_end(p, at);
done:
	mdb_cursor_close(cur);
	return rc;
}

/* A tree whose format did not change, byte for byte (meta without its
 * schema record, which is written last). Keys come in order: appended. */
static int copy_record(struct mig *m, struct batch *bt, const MDB_val *k, const MDB_val *v)
{
	int dbi = bt->p->dbi;
	MDB_val nk = *k, nv = *v;

	(void)m;
	if (dbi == DBI_META && k->mv_size == 6 && memcmp(k->mv_data, "schema", 6) == 0)
		return 0;
	return emit(bt, &nk, &nv, oplog_store__dbi_flags[dbi] & MDB_DUPSORT ? 0 : MDB_APPEND, NULL);
}

static int pass_copy(struct mig *m, struct batch *bt)
{
	return walk(m, bt, copy_record, 0, NULL);
}

/* One dataset's log cursor, moved by op: key->mv_data NULL once it has
 * left that dataset (nothing left to merge from it). */
static int log_move(struct mig *m, size_t i, MDB_cursor *cur, MDB_val *key, MDB_val *val,
                    MDB_cursor_op op)
{
	uint8_t kb[4];
	int rc = mdb_cursor_get(cur, key, val, op);

	put_u32(kb, m->ds[i]);
	if (rc == 0 && !key_has_prefix(key, kb, 4))
		rc = MDB_NOTFOUND;
	if (rc == MDB_NOTFOUND)
		key->mv_data = NULL;
	return rc && rc != MDB_NOTFOUND ? read_err(rc, DBI_LOG) : 0;
}

/*
 * log: v1 ds | id -> message becomes id -> message. Each dataset's ids
 * rise, so a merge of the datasets (one cursor each, datasets are few)
 * gives the ids in order, and every put is an append. p->key holds the
 * next id to copy.
 */
static int pass_log(struct mig *m, struct batch *bt)
{
	struct pos *p = bt->p;
	MDB_cursor **cur = NULL;
	MDB_val *key = NULL, *val = NULL;
	uint64_t from = p->started ? get_u64(p->key) : 0;
	uint8_t kb[12];
	int rc = 0;

	if (m->n_ds == 0) {
		p->done = 1;
		return 0;
	}
	cur = calloc(m->n_ds, sizeof(*cur));
	key = calloc(m->n_ds, sizeof(*key));
	val = calloc(m->n_ds, sizeof(*val));
	if (!cur || !key || !val) {
		rc = oplog_error__set(OPLOG_ENOMEM, "migrate: out of memory");
		goto done;
	}
	p->started = 1;
	for (size_t i = 0; i < m->n_ds; i++) {
		if ((rc = mdb_cursor_open(m->old_txn, m->old_dbi[DBI_LOG], &cur[i]))) {
			rc = read_err(rc, DBI_LOG);
			goto done;
		}
		put_u64(put_u32(kb, m->ds[i]), from);
		key[i] = (MDB_val){ 12, kb };
		if ((rc = log_move(m, i, cur[i], &key[i], &val[i], MDB_SET_RANGE)))
			goto done;
	}
	for (;;) {
		size_t at = m->n_ds;
		uint64_t id = 0;
		uint8_t ib[8];
		MDB_val k = { 8, ib };

		for (size_t i = 0; i < m->n_ds; i++) {
			uint64_t x;
			if (!key[i].mv_data)
				continue;
			if (key[i].mv_size != 12) {
				rc = corrupt(DBI_LOG, "a key that is not ds | id");
				goto done;
			}
			x = get_u64((uint8_t *)key[i].mv_data + 4);
			if (at == m->n_ds || x < id) {
				at = i;
				id = x;
			}
		}
		if (at == m->n_ds) {
			p->done = 1;
			break;
		}
		if (batch_full(bt)) {
			put_u64(p->key, id);
			p->len = 8;
			break;
		}
		key_log(ib, id);
		if ((rc = emit(bt, &k, &val[at], MDB_APPEND, "one log id under two datasets")) ||
		    (rc = log_move(m, at, cur[at], &key[at], &val[at], MDB_NEXT)))
			goto done;
	}
	rc = 0;
done:
	for (size_t i = 0; cur && i < m->n_ds; i++)
		if (cur[i])
			mdb_cursor_close(cur[i]);
	free(cur);
	free(key);
	free(val);
	return rc;
}

/* entries: v1 ds | hash -> id becomes epoch | ds | hash[0..8) -> id
 * (DUPSORT: inserted, not appended, as apply does). */
static int entries_record(struct mig *m, struct batch *bt, const MDB_val *k, const MDB_val *v)
{
	const uint8_t *key = k->mv_data;
	uint8_t kb[ENTRIES_KEY_LEN];
	MDB_val nk = { ENTRIES_KEY_LEN, kb }, nv = *v;
	uint64_t id;

	(void)m;
	if (k->mv_size != V1_HASH_KEY || v->mv_size != 8 || (id = get_u64(v->mv_data)) == 0)
		return corrupt(DBI_ENTRIES, "a record that is not ds | hash -> id");
	key_entries(kb, log_epoch(id), get_u32(key), key + 4);
	return emit(bt, &nk, &nv, 0, NULL);
}

static int pass_entries(struct mig *m, struct batch *bt)
{
	return walk(m, bt, entries_record, 0, NULL);
}

/* by_seq: the same key; the value gains the log id in front of the prev. */
static int by_seq_record(struct mig *m, struct batch *bt, const MDB_val *k, const MDB_val *v)
{
	const uint8_t *key = k->mv_data;
	uint8_t vb[SEQ_VAL_MIN + OPLOG_HASH_LEN];
	MDB_val nk = *k, nv = { SEQ_VAL_MIN + v->mv_size, vb };
	uint64_t id;
	int rc;

	if (k->mv_size != 16 + OPLOG_HASH_LEN || (v->mv_size != 0 && v->mv_size != OPLOG_HASH_LEN))
		return corrupt(DBI_BY_SEQ, "a record that is not ds | nid | seq | hash -> prev");
	if ((rc = old_entry_id_of(m, DBI_BY_SEQ, get_u32(key), key + 16, &id)))
		return rc;
	put_u64(vb, id);
	if (v->mv_size)
		memcpy(vb + SEQ_VAL_MIN, v->mv_data, OPLOG_HASH_LEN);
	return emit(bt, &nk, &nv, MDB_APPEND, NULL);
}

static int pass_by_seq(struct mig *m, struct batch *bt)
{
	return walk(m, bt, by_seq_record, 0, NULL);
}

static int hlc_item_cmp(const void *a, const void *b)
{
	const struct hlc_item *x = a, *y = b;

	if (x->nid != y->nid)
		return x->nid < y->nid ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int group_push(struct mig *m, size_t n, uint32_t nid, uint64_t id)
{
	if (n == m->group_cap) {
		size_t cap = m->group_cap ? m->group_cap * 2 : 64;
		void *g = realloc(m->group, cap * sizeof(*m->group));
		if (!g)
			return oplog_error__set(OPLOG_ENOMEM, "migrate: out of memory");
		m->group = g;
		m->group_cap = cap;
	}
	m->group[n] = (struct hlc_item){ nid, id };
	return 0;
}

/*
 * by_hlc (v1 ds | wall | logic | escaped name | hash -> nid | seq) and
 * by_node (v1 ds | nid | wall | logic | hash -> seq) become ds | wall |
 * logic | nid | id and ds | nid | wall | logic | id with empty values.
 * Both orders agree up to the instant; within one (same ds, wall, logic
 * and, for by_node, nid) they do not, so each such group is read whole
 * (hlc_record), then sorted and appended (hlc_group).
 */
static size_t hlc_glen(int dbi)
{
	return dbi == DBI_BY_NODE ? 20 : 16;   /* ds | [nid |] wall | logic */
}

static int hlc_record(struct mig *m, struct batch *bt, const MDB_val *k, const MDB_val *v)
{
	int dbi = bt->p->dbi, node = dbi == DBI_BY_NODE;
	const uint8_t *key = k->mv_data;
	uint64_t id;
	int rc;

	if (bt->group_n == 0 && k->mv_size < hlc_glen(dbi) + OPLOG_HASH_LEN)
		return corrupt(dbi, "a key too short");
	if (node ? (k->mv_size != 20 + OPLOG_HASH_LEN || v->mv_size != 8)
	         : (k->mv_size < 16 + 2 + OPLOG_HASH_LEN || v->mv_size != 12))
		return corrupt(dbi, "a record of the wrong size");
	if ((rc = old_entry_id_of(m, dbi, get_u32(key), key + k->mv_size - OPLOG_HASH_LEN, &id)))
		return rc;
	return group_push(m, bt->group_n, node ? get_u32(key + 4) : get_u32(v->mv_data), id);
}

static int hlc_group(struct mig *m, struct batch *bt, const uint8_t *prefix)
{
	int node = bt->p->dbi == DBI_BY_NODE;
	uint32_t ds = get_u32(prefix), nid = node ? get_u32(prefix + 4) : 0;
	uint64_t wall = get_u64(prefix + (node ? 8 : 4));
	uint32_t logic = get_u32(prefix + (node ? 16 : 12));
	uint8_t kb[HLC_KEY_LEN];
	MDB_val nk = { HLC_KEY_LEN, kb }, empty = { 0, NULL };
	int rc = 0;

	qsort(m->group, bt->group_n, sizeof(*m->group), hlc_item_cmp);
	for (size_t i = 0; i < bt->group_n && rc == 0; i++) {
		if (node)
			key_node_hlc(kb, ds, nid, wall, logic, m->group[i].id);
		else
			key_hlc(kb, ds, wall, logic, m->group[i].nid, m->group[i].id);
		rc = emit(bt, &nk, &empty, MDB_APPEND, "one entry indexed twice");
	}
	return rc;
}

static int pass_hlc(struct mig *m, struct batch *bt)
{
	return walk(m, bt, hlc_record, hlc_glen(bt->p->dbi), hlc_group);
}

/* A name from the old ids tree, borrowed from the old txn. */
static int old_name(struct mig *m, int kind, uint32_t id, struct oplog_slice *name)
{
	uint8_t kb[5];
	MDB_val k = { 5, kb }, v;
	int rc;

	kb[0] = (uint8_t)kind;
	put_u32(kb + 1, id);
	if ((rc = mdb_get(m->old_txn, m->old_dbi[DBI_IDS], &k, &v)))
		return rc == MDB_NOTFOUND ? corrupt(DBI_IDS, "no name for an id in use")
		                          : read_err(rc, DBI_IDS);
	*name = (struct oplog_slice){ v.mv_data, v.mv_size };
	return 0;
}

/*
 * docs: v1 keys ds | SHA-256(col, key) are cut to ds | its first
 * DOC_HASH_LEN bytes, which keeps their order. The record becomes the
 * winner's log id while the winner is in the log; a winner that is not
 * (pruned, or applied below the prune boundary) stays inline, data and
 * all. Two documents whose cut keys meet cannot both be kept: ECORRUPT.
 * The record is written by doc_put, as apply writes it; the batch counts
 * the old record, as doc_put does not hand back what it wrote.
 */
static int docs_record(struct mig *m, struct batch *bt, const MDB_val *k, const MDB_val *v)
{
	const uint8_t *r = v->mv_data;
	struct oplog_entry e;
	uint8_t kb[DOC_KEY_LEN];
	MDB_val nk = { DOC_KEY_LEN, kb }, nv;
	uint16_t cl, kl;
	uint32_t dl, ds, nid;
	uint64_t id;
	int rc;

	if (k->mv_size != 4 + OPLOG_HASH_LEN || v->mv_size < V1_DOC_HDR)
		return corrupt(DBI_DOCS, "a record too short");
	cl = get_u16(r + 57);
	kl = get_u16(r + 59);
	dl = get_u32(r + 61);
	if (v->mv_size != (size_t)V1_DOC_HDR + cl + kl + dl ||
	    (r[56] != OPLOG_OP_PUT && r[56] != OPLOG_OP_DEL))
		return corrupt(DBI_DOCS, "a malformed record");
	memset(&e, 0, sizeof(e));
	ds = get_u32(k->mv_data);
	nid = get_u32(r + 12);
	e.wall = get_u64(r);
	e.logic = get_u32(r + 8);
	e.seq = get_u64(r + 16);
	e.hash = r + 24;
	e.op = (enum oplog_op)r[56];
	e.col = (struct oplog_slice){ r + V1_DOC_HDR, cl };
	e.key = (struct oplog_slice){ r + V1_DOC_HDR + cl, kl };
	if (e.op == OPLOG_OP_PUT)
		e.data = (struct oplog_slice){ r + V1_DOC_HDR + cl + kl, dl };
	if ((rc = old_name(m, KIND_DS, ds, &e.ds)) ||
	    (rc = old_name(m, KIND_NODE, nid, &e.node)))
		return rc;
	rc = old_entry_id(m, ds, e.hash, &id);
	if (rc == OPLOG_ENOTFOUND) {
		id = 0;
		bt->p->inline_docs++;
	} else if (rc) {
		return rc;
	}
	memcpy(kb, k->mv_data, sizeof(kb));
	rc = mdb_get(bt->txn, m->dbi[DBI_DOCS], &nk, &nv);
	if (rc == 0)
		return corrupt(DBI_DOCS, "two documents whose key hashes share their first "
		               "bytes (the new key keeps fewer)");
	if (rc != MDB_NOTFOUND)
		return oplog_store__mdb_err(rc, "migrate: mdb_get(docs)");
	if ((rc = oplog_store__doc_put(bt->out, kb, &e, nid, id, MDB_APPEND)))
		return rc;
	batch_count(bt, k, v);
	return 0;
}

static int pass_docs(struct mig *m, struct batch *bt)
{
	return walk(m, bt, docs_record, 0, NULL);
}

/* The schema record, last: the new file is complete once it is there. */
static int pass_schema(struct mig *m, struct batch *bt)
{
	uint8_t sb[4];
	MDB_val k = { 6, "schema" }, v = { 4, sb };
	int rc;

	(void)m;
	put_u32(sb, OPLOG_STORE_SCHEMA);
	if ((rc = emit(bt, &k, &v, 0, NULL)))
		return rc;
	bt->p->done = 1;
	return 0;
}

/* Every tree of the new env, checking that each index holds one record
 * per entry. */
static int build(struct mig *m, uint64_t *entries)
{
	static const int verbatim[] = {
		DBI_META, DBI_NAMES, DBI_IDS, DBI_HEADS, DBI_FORKS, DBI_BREAKS, DBI_OFFSETS,
		DBI_REJECTS, DBI_COUNTERS, DBI_LOST, DBI_REPLAY
	};
	uint64_t n_log = 0, n_entries = 0, n_seq = 0, n_hlc = 0, n_node = 0;
	int rc;

	if ((rc = old_datasets(m)) ||
	    (rc = run_pass(m, pass_log, DBI_LOG, &n_log)) ||
	    (rc = run_pass(m, pass_entries, DBI_ENTRIES, &n_entries)) ||
	    (rc = run_pass(m, pass_by_seq, DBI_BY_SEQ, &n_seq)) ||
	    (rc = run_pass(m, pass_hlc, DBI_BY_HLC, &n_hlc)) ||
	    (rc = run_pass(m, pass_hlc, DBI_BY_NODE, &n_node)) ||
	    (rc = run_pass(m, pass_docs, DBI_DOCS, NULL)))
		return rc;
	for (size_t i = 0; i < sizeof(verbatim) / sizeof(verbatim[0]); i++)
		if ((rc = run_pass(m, pass_copy, verbatim[i], NULL)))
			return rc;
	if (n_entries != n_log || n_seq != n_log || n_hlc != n_log || n_node != n_log)
		return oplog_error__set(OPLOG_ECORRUPT, "migrate: the schema-1 store does not hold "
		                        "one index record per entry (log %llu, entries %llu, by_seq "
		                        "%llu, by_hlc %llu, by_node %llu); check it with the oplogd "
		                        "that wrote it (verify)", (unsigned long long)n_log,
		                        (unsigned long long)n_entries, (unsigned long long)n_seq,
		                        (unsigned long long)n_hlc, (unsigned long long)n_node);
	if ((rc = run_pass(m, pass_schema, DBI_META, NULL)))
		return rc;
	*entries = n_log;
	return 0;
}

/* ---- the swap ------------------------------------------------------- */

/*
 * Put the new file in place of the old one, while this process still
 * holds the old env's writer lock. A process that opened the store while
 * it was being built (and so saw schema 1) is waited for a moment, then
 * the swap is refused: it could still be writing to the old file.
 * The lock file goes too: it describes the old file's transactions, and
 * the next open creates a fresh one for the new file, while any process
 * left on the old file keeps its own pair and harms nothing.
 */
static int swap(struct mig *m)
{
	char from[PATH_MAX + 16], to[PATH_MAX + 16];
	const char *dir = m->opts->path;
	int rc;

	struct stat st;

	snprintf(from, sizeof(from), "%s/data.mdb", m->tmp);
	snprintf(to, sizeof(to), "%s/data.mdb", dir);
	/* The new file gets the old one's permissions. */
	if (stat(to, &st) != 0 || chmod(from, st.st_mode & 07777) != 0)
		return oplog_error__set(OPLOG_EIO, "migrate: chmod %s like %s: %s", from, to,
		                        strerror(errno));
	if ((rc = fsync_path(from, 0)) || (rc = fsync_path(m->tmp, 1)))
		return rc;
	for (int waited = 0;; waited += 50) {
		pid_t pid;
		if ((rc = other_process(m, &pid)))
			return rc;
		if (!pid)
			break;
		if (waited >= MIG_SWAP_WAIT_MS)
			return busy(m, pid);
		nanosleep(&(struct timespec){ 0, 50 * 1000000L }, NULL);
	}
	if (rename(from, to) != 0)
		return oplog_error__set(OPLOG_EIO, "migrate: rename %s to %s: %s", from, to,
		                        strerror(errno));
	snprintf(to, sizeof(to), "%s/lock.mdb", dir);
	if (unlink(to) != 0 && errno != ENOENT)
		return oplog_error__set(OPLOG_EIO, "migrate: unlink %s: %s", to, strerror(errno));
	return fsync_path(dir, 1);
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

int oplog_store_migrate(const struct oplog_store_opts *opts, struct oplog_migrate_stats *st)
{
	struct oplog_migrate_stats local;
	struct mig m = { .opts = opts, .lock_fd = -1 };
	struct timespec t0;
	MDB_stat ms;
	uint32_t schema = 0;
	uint64_t entries = 0;
	int rc, built = 0;

	if (!st)
		st = &local;
	memset(st, 0, sizeof(*st));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!opts->path || !*opts->path)
		return oplog_error__set(OPLOG_EINVAL, "store path is empty");
	if ((size_t)snprintf(m.tmp, sizeof(m.tmp), "%s/" MIG_TMP, opts->path) >= sizeof(m.tmp))
		return oplog_error__set(OPLOG_EINVAL, "store path is too long");
	if ((rc = old_open(&m)) || (rc = old_schema(&m, &schema)))
		goto done;
	if (schema > OPLOG_STORE_SCHEMA) {
		rc = oplog_error__set(OPLOG_ESCHEMA, "store schema %u is newer than this oplogd's "
		                      "(%d): upgrade oplogd", schema, OPLOG_STORE_SCHEMA);
		goto done;
	}
	if (schema == OPLOG_STORE_SCHEMA) {
		pid_t pid;
		/* Current. What a run interrupted after its swap left behind
		 * goes, unless someone else is here (it may be theirs). */
		if ((rc = other_process(&m, &pid)) == 0 && pid == 0)
			rc = remove_dir(m.tmp);
		goto done;
	}
	if (schema != MIG_FROM) {
		rc = oplog_error__set(OPLOG_ESCHEMA, "store schema %u cannot be upgraded by this "
		                      "oplogd (it upgrades schema %d)", schema, MIG_FROM);
		goto done;
	}

	/* Alone before taking the writer lock (a running writer would make
	 * us wait for it), and again once it is ours. */
	if ((rc = check_alone(&m)) || (rc = old_begin(&m)) || (rc = check_alone(&m)))
		goto done;
	if ((rc = mdb_stat(m.old_txn, m.old_dbi[DBI_ENTRIES], &ms))) {
		rc = read_err(rc, DBI_ENTRIES);
		goto done;
	}
	/* What an interrupted run left is ours to remove now. */
	if ((rc = remove_dir(m.tmp)))
		goto done;
	notice(&m, "upgrading store %s from schema %u to %d: %llu entries; the new layout is "
	       "built in %s and then replaces the old file", opts->path, schema,
	       OPLOG_STORE_SCHEMA, (unsigned long long)ms.ms_entries, m.tmp);

	/* The new map starts as a new store's would, and grows as apply's. */
	m.map_size = opts->map_size ? opts->map_size : DEFAULT_MAP_SIZE;
	m.max_size = opts->max_size ? opts->max_size : DEFAULT_MAX_SIZE;
	if (m.max_size < m.map_size)
		m.max_size = m.map_size;
	built = 1;
	if ((rc = new_open(&m)) || (rc = build(&m, &entries)))
		goto done;
	if ((rc = mdb_env_sync(m.env, 1))) {
		rc = oplog_store__mdb_err(rc, "migrate: mdb_env_sync");
		goto done;
	}
	mdb_env_close(m.env);
	m.env = NULL;
	if ((rc = swap(&m)))
		goto done;
	st->from_schema = schema;
	st->entries = entries;
done:
	if (m.env)
		mdb_env_close(m.env);
	if (m.old_txn)
		mdb_txn_abort(m.old_txn);
	if (m.old_env)
		mdb_env_close(m.old_env);
	if (m.lock_fd >= 0)
		close(m.lock_fd);
	/* The temp dir of a failed run goes too (after a crash, the next run
	 * removes it). Failing to remove it fails nothing, and must not
	 * replace the message of what did fail. */
	if (built) {
		char why[512];
		snprintf(why, sizeof(why), "%s", oplog_error_last());
		if (remove_dir(m.tmp) == 0 && rc == 0)
			(void)fsync_path(opts->path, 1);
		if (rc)
			oplog_error__set(rc, "%s", why);
		else
			oplog_error__clear();
	}
	free(m.ds);
	free(m.group);
	st->seconds = seconds_since(&t0);
	if (rc == 0 && st->from_schema)
		notice(&m, "upgraded store %s to schema %d: %llu entries carried over (%llu documents "
		       "keep their winner's data, no longer in the log) in %.2f s", opts->path,
		       OPLOG_STORE_SCHEMA, (unsigned long long)entries,
		       (unsigned long long)m.inline_docs, st->seconds);
	return rc;
}
