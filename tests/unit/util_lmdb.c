/* util_lmdb.c: direct LMDB access, to damage a closed store on purpose
 * (see util_store.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util_store.h"

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
