/*
 * bench_append: the LMDB ceiling for an import, as `make bench` reports it.
 *
 *   bench_append DIR BATCH FILE...
 *
 * Appends every message of the lenpfx FILEs (u32 big-endian length +
 * bytes), in order, to one tree of a new LMDB environment in DIR: key =
 * the message's index (u64 big-endian), value = its bytes, put with
 * MDB_APPEND. BATCH messages per write transaction. The environment is
 * set up as a store's with default settings: no flags but MDB_NOTLS (so
 * each commit is durable, fsync included), a 256 MiB map doubled on
 * MDB_MAP_FULL up to 64 GiB, the batch then redone in a new transaction.
 * No decoding, no hashing, no indexes: what LMDB alone costs for the same
 * bytes and commits, the most any store layout could get.
 *
 * Prints one line of JSON: {"messages","txns","map_grows","seconds"},
 * seconds from the first transaction to the last commit (the caller may
 * time the whole process instead). Exits 1 when a put or commit fails, 2
 * on usage or setup failure (unreadable file, bad framing, DIR exists).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "bench_map.h"
#include "oplog/clock.h"

#define MAP_START ((size_t)256 << 20)
#define MAP_MAX   ((size_t)64 << 30)

struct input {
	const uint8_t *buf;   /* mapped read-only; unmapped with munmap */
	size_t         len;
};

/*
 * Put messages from *pos on, at most `batch`, in one write transaction,
 * keys counting on from *index. On success *pos and *index move past what
 * was committed. MDB_MAP_FULL is returned as such, with nothing of the
 * batch committed and *pos, *index unchanged. -1 is a framing error.
 */
static int put_batch(MDB_env *env, MDB_dbi dbi, const struct input *in, size_t *pos,
                     uint64_t *index, uint64_t batch)
{
	MDB_txn *txn = NULL;
	size_t p = *pos;
	uint64_t i = *index, n = 0;
	uint8_t key[8];
	int rc;

	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
		goto done;
	for (; n < batch && p < in->len; n++, i++) {
		const uint8_t *b = in->buf + p;
		size_t len;
		MDB_val k = { sizeof(key), key }, v;

		if (in->len - p < 4) {
			rc = -1;
			goto done;
		}
		len = (size_t)b[0] << 24 | (size_t)b[1] << 16 | (size_t)b[2] << 8 | b[3];
		if (len > in->len - p - 4) {
			rc = -1;
			goto done;
		}
		for (int q = 0; q < 8; q++)
			key[q] = (uint8_t)(i >> (56 - 8 * q));
		v.mv_size = len;
		v.mv_data = (void *)(b + 4);
		if ((rc = mdb_put(txn, dbi, &k, &v, MDB_APPEND)) != 0)
			goto done;
		p += 4 + len;
	}
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc == 0) {
		*pos = p;
		*index = i;
	}
done:
	if (txn)
		mdb_txn_abort(txn);
	return rc;
}

int main(int argc, char **argv)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	struct input in = { NULL, 0 };
	size_t map = MAP_START;
	uint64_t batch, index = 0, txns = 0, grows = 0;
	double t0, t1;
	int rc = 2, mrc;

	if (argc < 4) {
		fprintf(stderr, "usage: bench_append DIR BATCH FILE...\n");
		return 2;
	}
	if (bench_count("bench_append", "BATCH", argv[2], &batch) != 0)
		return 2;
	if (mkdir(argv[1], 0755) != 0) {
		fprintf(stderr, "bench_append: mkdir %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	if ((mrc = mdb_env_create(&env)) || (mrc = mdb_env_set_mapsize(env, map)) ||
	    (mrc = mdb_env_open(env, argv[1], MDB_NOTLS, 0644)) ||
	    (mrc = mdb_txn_begin(env, NULL, 0, &txn)) ||
	    (mrc = mdb_dbi_open(txn, NULL, 0, &dbi)) || (mrc = mdb_txn_commit(txn))) {
		txn = NULL;
		fprintf(stderr, "bench_append: LMDB setup in %s: %s\n", argv[1], mdb_strerror(mrc));
		goto done;
	}
	txn = NULL;

	t0 = oplog_clock_mono_secs();
	for (int f = 3; f < argc; f++) {
		size_t pos = 0;

		if (bench_map("bench_append", argv[f], &in.buf, &in.len) != 0)
			goto done;
		while (pos < in.len) {
			mrc = put_batch(env, dbi, &in, &pos, &index, batch);
			if (mrc == MDB_MAP_FULL && map < MAP_MAX) {
				map = map > MAP_MAX / 2 ? MAP_MAX : map * 2;
				if ((mrc = mdb_env_set_mapsize(env, map)) != 0) {
					fprintf(stderr, "bench_append: mdb_env_set_mapsize: %s\n",
					        mdb_strerror(mrc));
					rc = 1;
					goto done;
				}
				grows++;
				continue;
			}
			if (mrc == -1) {
				fprintf(stderr, "bench_append: %s: bad length prefix at byte %zu\n",
				        argv[f], pos);
				goto done;
			}
			if (mrc != 0) {
				fprintf(stderr, "bench_append: %s: put or commit after %llu messages: %s\n",
				        argv[f], (unsigned long long)index, mdb_strerror(mrc));
				rc = 1;
				goto done;
			}
			txns++;
		}
		if (in.buf)
			munmap((void *)in.buf, in.len);
		in.buf = NULL;
	}
	t1 = oplog_clock_mono_secs();
	printf("{\"messages\":%llu,\"txns\":%llu,\"map_grows\":%llu,\"seconds\":%.3f}\n",
	       (unsigned long long)index, (unsigned long long)txns,
	       (unsigned long long)grows, t1 - t0);
	rc = fflush(stdout) == 0 ? 0 : 2;
done:
	if (in.buf)
		munmap((void *)in.buf, in.len);
	if (env)
		mdb_env_close(env);
	return rc;
}
