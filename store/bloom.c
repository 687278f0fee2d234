/*
 * bloom.c: a filter per completed epoch of `entries` (docs/STORE.md), so
 * that a get by hash probes only the epochs that may hold the hash.
 *
 * An epoch is complete once the log id counter has passed its last id:
 * nothing is ever added to it again (prune only removes), so its filter is
 * built once, from its `entries` records, in the transaction that moves the
 * counter past it, and never changes. A filter tells "maybe" or "no" for
 * (ds, first 8 bytes of the hash); "no" is exact. An epoch without a filter
 * (the current one; a store upgraded from schema 1 until its next epoch
 * completes) is simply probed.
 *
 * Layout: 2^22 bits (512 KiB) per epoch, 16 per entry at the epoch's
 * 2^18 entries, in blocks of 512 bits (one cache line): a key picks a
 * block and BLOOM_K bits in it. About 0.1% false positives when full.
 */
#include <stdio.h>
#include <stdlib.h>

#include "oplog/error.h"
#include "store_int.h"

#define BLOOM_BYTES      ((size_t)1 << 19)
#define BLOOM_BLOCK      64                      /* bytes: 512 bits */
#define BLOOM_BLOCKS     (BLOOM_BYTES / BLOOM_BLOCK)
#define BLOOM_K          6

/* splitmix64's finaliser: the hash prefix is uniform already, this mixes
 * the dataset in and gives a second word of bits. */
static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* The block and the K bit positions (0..511) of (ds, hash prefix). */
static size_t bloom_pos(uint32_t ds, const uint8_t *h8, unsigned bits[BLOOM_K])
{
	uint64_t a = mix(get_u64(h8) ^ ((uint64_t)ds << 32 | ds));
	uint64_t b = mix(a);

	for (int i = 0; i < BLOOM_K; i++)
		bits[i] = (unsigned)(b >> (9 * i)) & 511;
	return (size_t)(a % BLOOM_BLOCKS);
}

static void bloom_set(uint8_t *f, uint32_t ds, const uint8_t *h8)
{
	unsigned bits[BLOOM_K];
	uint8_t *blk = f + bloom_pos(ds, h8, bits) * BLOOM_BLOCK;

	for (int i = 0; i < BLOOM_K; i++)
		blk[bits[i] >> 3] |= (uint8_t)(1u << (bits[i] & 7));
}

int oplog_store__bloom_test(const MDB_val *f, uint32_t ds, const uint8_t *h8)
{
	unsigned bits[BLOOM_K];
	const uint8_t *blk;

	if (f->mv_size != BLOOM_BYTES)
		return 1;   /* not one of ours: no filtering */
	blk = (const uint8_t *)f->mv_data + bloom_pos(ds, h8, bits) * BLOOM_BLOCK;
	for (int i = 0; i < BLOOM_K; i++)
		if (!(blk[bits[i] >> 3] & (1u << (bits[i] & 7))))
			return 0;
	return 1;
}

int oplog_store__bloom_get(struct oplog_store *s, MDB_txn *txn, uint32_t epoch, MDB_val *f)
{
	uint8_t kb[4];
	MDB_val k = { 4, kb };
	int rc;

	put_u32(kb, epoch);
	rc = mdb_get(txn, s->dbi[DBI_BLOOMS], &k, f);
	if (rc == MDB_NOTFOUND)
		return OPLOG_ENOTFOUND;
	return rc ? oplog_store__mdb_err(rc, "mdb_get(blooms)") : 0;
}

/* Build the filter of `epoch` from its entries records. */
static int bloom_build(struct oplog_store *s, MDB_txn *txn, uint32_t epoch)
{
	MDB_cursor *cur = NULL;
	uint8_t kb[4];
	MDB_val k = { 4, kb }, v, fk = { 4, kb }, fv = { BLOOM_BYTES, NULL };
	int rc;

	put_u32(kb, epoch);
	if ((rc = mdb_put(txn, s->dbi[DBI_BLOOMS], &fk, &fv, MDB_RESERVE)))
		return oplog_store__mdb_err(rc, "mdb_put(blooms)");
	memset(fv.mv_data, 0, BLOOM_BYTES);
	if ((rc = mdb_cursor_open(txn, s->dbi[DBI_ENTRIES], &cur)))
		return oplog_store__mdb_err(rc, "mdb_cursor_open(entries)");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	     rc == 0 && key_has_prefix(&k, kb, 4);
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_NODUP)) {
		if (k.mv_size != ENTRIES_KEY_LEN) {
			rc = oplog_error__set(OPLOG_ECORRUPT, "entries: key of %zu bytes", k.mv_size);
			goto done;
		}
		bloom_set(fv.mv_data, get_u32((uint8_t *)k.mv_data + 4), (uint8_t *)k.mv_data + 8);
	}
	rc = rc == 0 || rc == MDB_NOTFOUND ? 0 : oplog_store__mdb_err(rc, "mdb_cursor_get(entries)");
done:
	mdb_cursor_close(cur);
	return rc;
}

int oplog_store__bloom_update(struct oplog_store *s, MDB_txn *txn, uint64_t next_log)
{
	uint32_t current = log_epoch(next_log);
	MDB_val f;
	int rc;

	for (uint32_t e = current; e-- > 0;) {
		rc = oplog_store__bloom_get(s, txn, e, &f);
		if (rc == 0)
			break;   /* filters are built in order: the older ones are there */
		if (rc != OPLOG_ENOTFOUND || (rc = bloom_build(s, txn, e)))
			return rc;
	}
	return 0;
}
