/*
 * migrate.c: the upgrade of a schema-1 store to schema 2 (docs/STORE.md,
 * "Schema 1, and the upgrade"): the checks, both environments and the
 * swap. The copy of the trees is migrate_copy.c.
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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "oplog/clock.h"
#include "oplog/error.h"
#include "migrate_int.h"

#define MIG_TMP       "migrate.tmp"
#define MIG_FROM      1                      /* the only schema we upgrade from */
#define MIG_SWAP_WAIT_MS 2000                /* how long a reader may delay the swap */

#define DEFAULT_MAP_SIZE ((size_t)256 << 20)  /* as store.c */
#define DEFAULT_MAX_SIZE ((size_t)64 << 30)

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

int oplog_store__migrate_read_err(int rc, int dbi)
{
	char what[48];

	snprintf(what, sizeof(what), "migrate: reading old %s", oplog_store__dbi_names[dbi]);
	return oplog_store__mdb_err(rc, what);
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
	const char *missing = "'meta' database", *what = "migrate: meta";
	int rc;

	*schema = 0;
	if ((rc = mdb_txn_begin(m->old_env, NULL, MDB_RDONLY, &txn))) {
		rc = oplog_store__mdb_err(rc, "migrate: mdb_txn_begin");
		goto done;
	}
	if ((rc = mdb_dbi_open(txn, oplog_store__dbi_names[DBI_META], 0, &dbi)) == 0) {
		missing = "schema in meta";
		what = "migrate: mdb_get(meta schema)";
		rc = mdb_get(txn, dbi, &k, &v);
	}
	if (rc == MDB_NOTFOUND)
		rc = oplog_error__set(OPLOG_ENOTFOUND, "%s is not an oplogd store (no %s)",
		                      m->opts->path, missing);
	else if (rc)
		rc = oplog_store__mdb_err(rc, what);
	else if (v.mv_size != 4 || (*schema = get_u32(v.mv_data)) == 0)
		rc = oplog_error__set(OPLOG_ECORRUPT, "meta: bad schema record");
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
			return oplog_store__migrate_read_err(rc, i);
		m->has_old[i] = 1;
	}
	return 0;
}

/* ---- the new environment -------------------------------------------- */

static int new_open(struct mig *m)
{
	MDB_txn *txn = NULL;
	int rc;

	if (mkdir(m->tmp, 0700) != 0)
		return oplog_error__set(OPLOG_EIO, "migrate: mkdir %s: %s", m->tmp, strerror(errno));
	if ((rc = mdb_env_create(&m->env)) ||
	    (rc = mdb_env_set_maxdbs(m->env, DBI__COUNT + 4)) ||
	    (rc = mdb_env_set_mapsize(m->env, m->map_size)))
		return oplog_store__mdb_err(rc, "migrate: mdb_env_create(new)");
	/* No fsync while building: the file only counts once it is synced
	 * and renamed into place. */
	if ((rc = mdb_env_open(m->env, m->tmp, MDB_NOTLS | MDB_NOSYNC, 0600)))
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

/*
 * Is this store one to upgrade? 1 for schema MIG_FROM; 0 for a current
 * one, after removing what a run interrupted after its swap left, unless
 * another process is here (it may be theirs); else ESCHEMA, or the
 * failure to look or remove.
 */
static int wants_upgrade(struct mig *m, uint32_t schema)
{
	pid_t pid;
	int rc;

	if (schema > OPLOG_STORE_SCHEMA)
		return oplog_error__set(OPLOG_ESCHEMA, "store schema %u is newer than this oplogd's "
		                        "(%d): upgrade oplogd", schema, OPLOG_STORE_SCHEMA);
	if (schema == OPLOG_STORE_SCHEMA) {
		if ((rc = other_process(m, &pid)) == 0 && pid == 0)
			rc = remove_dir(m->tmp);
		return rc;
	}
	if (schema != MIG_FROM)
		return oplog_error__set(OPLOG_ESCHEMA, "store schema %u cannot be upgraded by this "
		                        "oplogd (it upgrades schema %d)", schema, MIG_FROM);
	return 1;
}

/*
 * The upgrade proper, from the writer lock to the swap: 0 with *entries,
 * or an OPLOG_E* code. *built is set once migrate.tmp may hold this
 * run's files, for finish to remove them.
 */
static int upgrade(struct mig *m, uint32_t schema, uint64_t *entries, int *built)
{
	const struct oplog_store_opts *opts = m->opts;
	MDB_stat ms;
	int rc;

	/* Alone before taking the writer lock (a running writer would make
	 * us wait for it), and again once it is ours. */
	if ((rc = check_alone(m)) || (rc = old_begin(m)) || (rc = check_alone(m)))
		return rc;
	if ((rc = mdb_stat(m->old_txn, m->old_dbi[DBI_ENTRIES], &ms)))
		return oplog_store__migrate_read_err(rc, DBI_ENTRIES);
	/* What an interrupted run left is ours to remove now. */
	if ((rc = remove_dir(m->tmp)))
		return rc;
	notice(m, "upgrading store %s from schema %u to %d: %llu entries; the new layout is "
	       "built in %s and then replaces the old file", opts->path, schema,
	       OPLOG_STORE_SCHEMA, (unsigned long long)ms.ms_entries, m->tmp);

	/* The new map starts as a new store's would, and grows as apply's. */
	m->map_size = opts->map_size ? opts->map_size : DEFAULT_MAP_SIZE;
	m->max_size = opts->max_size ? opts->max_size : DEFAULT_MAX_SIZE;
	if (m->max_size < m->map_size)
		m->max_size = m->map_size;
	*built = 1;
	if ((rc = new_open(m)) || (rc = oplog_store__migrate_build(m, entries)))
		return rc;
	if ((rc = mdb_env_sync(m->env, 1)))
		return oplog_store__mdb_err(rc, "migrate: mdb_env_sync");
	mdb_env_close(m->env);
	m->env = NULL;
	return swap(m);
}

/*
 * Close both environments and free m's arrays. The temp dir of a failed
 * run goes too (after a crash, the next run removes it). Failing to
 * remove it fails nothing, and must not replace the message of what did
 * fail. Returns rc.
 */
static int finish(struct mig *m, int rc, int built)
{
	if (m->env)
		mdb_env_close(m->env);
	if (m->old_txn)
		mdb_txn_abort(m->old_txn);
	if (m->old_env)
		mdb_env_close(m->old_env);
	if (m->lock_fd >= 0)
		close(m->lock_fd);
	if (built) {
		char why[512];
		snprintf(why, sizeof(why), "%s", oplog_error_last());
		if (remove_dir(m->tmp) == 0 && rc == 0)
			(void)fsync_path(m->opts->path, 1);
		if (rc)
			oplog_error__set(rc, "%s", why);
	}
	free(m->ds);
	free(m->group);
	return rc;
}

int oplog_store_migrate(const struct oplog_store_opts *opts, struct oplog_migrate_stats *st)
{
	struct oplog_migrate_stats local;
	struct mig m = { .opts = opts, .lock_fd = -1 };
	double t0 = oplog_clock_mono_secs();
	uint32_t schema = 0;
	uint64_t entries = 0;
	int rc, built = 0;

	if (!st)
		st = &local;
	memset(st, 0, sizeof(*st));
	if (!opts->path || !*opts->path)
		return oplog_error__set(OPLOG_EINVAL, "store path is empty");
	if ((size_t)snprintf(m.tmp, sizeof(m.tmp), "%s/" MIG_TMP, opts->path) >= sizeof(m.tmp))
		return oplog_error__set(OPLOG_EINVAL, "store path is too long");
	if ((rc = old_open(&m)) == 0 && (rc = old_schema(&m, &schema)) == 0 &&
	    (rc = wants_upgrade(&m, schema)) == 1 &&
	    (rc = upgrade(&m, schema, &entries, &built)) == 0) {
		st->from_schema = schema;
		st->entries = entries;
	}
	rc = finish(&m, rc, built);
	st->seconds = oplog_clock_mono_secs() - t0;
	if (rc == 0 && st->from_schema)
		notice(&m, "upgraded store %s to schema %d: %llu entries carried over (%llu documents "
		       "keep their winner's data, no longer in the log) in %.2f s", opts->path,
		       OPLOG_STORE_SCHEMA, (unsigned long long)entries,
		       (unsigned long long)m.inline_docs, st->seconds);
	return rc;
}
