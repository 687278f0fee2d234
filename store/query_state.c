/*
 * query_state.c: the store's bookkeeping: counters and sizes (stats),
 * Kafka offsets, lost ranges, kept rejects, replay cursors.
 */
#include <stdio.h>

#include "oplog/error.h"
#include "store_int.h"

static uint64_t counter(struct oplog_store *s, MDB_txn *txn, const char *name)
{
	MDB_val k = { strlen(name), (void *)name }, v;

	if (mdb_get(txn, s->dbi[DBI_COUNTERS], &k, &v) || v.mv_size != 8)
		return 0;
	return get_u64(v.mv_data);
}

static uint64_t next_id(struct oplog_store *s, MDB_txn *txn, int kind)
{
	char name[10] = "next_id.?";
	MDB_val k = { 9, name }, v;

	name[8] = (char)kind;
	if (mdb_get(txn, s->dbi[DBI_META], &k, &v) || v.mv_size != 4)
		return 1;
	return get_u32(v.mv_data);
}

int oplog_store_stats(struct oplog_store *s, struct oplog_stats *out)
{
	MDB_txn *txn;
	MDB_stat st;
	MDB_envinfo info;
	char name[64];
	int rc = oplog_store__txn_begin(s, MDB_RDONLY, &txn);

	memset(out, 0, sizeof(*out));
	if (rc)
		return rc;
	if ((rc = mdb_stat(txn, s->dbi[DBI_BY_SEQ], &st)) == 0)
		out->entries = st.ms_entries;
	if (rc == 0 && (rc = mdb_stat(txn, s->dbi[DBI_REJECTS], &st)) == 0)
		out->rejects_kept = st.ms_entries;
	if (rc) {
		mdb_txn_abort(txn);
		return oplog_store__mdb_err(rc, "mdb_stat");
	}
	out->datasets = next_id(s, txn, KIND_DS) - 1;
	out->nodes = next_id(s, txn, KIND_NODE) - 1;
	out->applied = counter(s, txn, CTR_APPLIED);
	out->duplicates = counter(s, txn, CTR_DUPLICATES);
	out->late = counter(s, txn, CTR_LATE);
	out->forks = counter(s, txn, CTR_FORKS);
	out->chain_breaks = counter(s, txn, CTR_CHAIN_BREAKS);
	out->below_boundary = counter(s, txn, CTR_BELOW_BOUNDARY);
	for (int r = 1; r < OPLOG_R__COUNT; r++) {
		snprintf(name, sizeof(name), CTR_REJECTED "%s", oplog_reason_name(r));
		out->rejected[r] = counter(s, txn, name);
	}
	mdb_env_info(s->env, &info);
	mdb_env_stat(s->env, &st);
	out->store_bytes = (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
	out->map_size = info.me_mapsize;
	mdb_txn_abort(txn);
	return 0;
}

struct offset_walk {
	oplog_offset_cb cb;
	void           *arg;
};

/* The topic and partition of key k: topic | 0x00 | partition, then
 * `tail` more bytes (key_offset). 0, or -1 when k is not such a key. */
static int topic_key(const MDB_val *k, size_t tail, char topic[256], int32_t *partition)
{
	const uint8_t *kb = k->mv_data;
	size_t tl = k->mv_size - 5 - tail;

	if (k->mv_size < 6 + tail || tl >= 256 || kb[tl] != 0)
		return -1;
	memcpy(topic, kb, tl);
	topic[tl] = 0;
	*partition = (int32_t)get_u32(kb + tl + 1);
	return 0;
}

static int offset_fn(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct offset_walk *w = arg;
	char topic[256];
	int32_t partition;

	if (topic_key(k, 0, topic, &partition) || v->mv_size != 8)
		return oplog_error__set(OPLOG_ECORRUPT, "offsets: malformed record");
	return w->cb(topic, partition, (int64_t)get_u64(v->mv_data), w->arg);
}

/* Every record of one DBI, in key order, in a read transaction of its own. */
static int walk_all(struct oplog_store *s, int dbi, oplog_store__walk_fn fn, void *arg)
{
	MDB_txn *txn;
	int rc = oplog_store__txn_begin(s, MDB_RDONLY, &txn);

	if (rc)
		return rc;
	rc = oplog_store__walk(s, txn, dbi, NULL, 0, 0, fn, arg);
	mdb_txn_abort(txn);
	return rc;
}

int oplog_store_offsets(struct oplog_store *s, oplog_offset_cb cb, void *arg)
{
	struct offset_walk w = { cb, arg };

	return walk_all(s, DBI_OFFSETS, offset_fn, &w);
}

int oplog_store_offset(struct oplog_store *s, const char *topic, int32_t partition,
                       int64_t *next_offset)
{
	uint8_t kb[KEY_OFFSET_MAX];
	MDB_val k = { 0, kb }, v;
	MDB_txn *txn;
	int rc;

	if (strlen(topic) > 255)
		return oplog_error__set(OPLOG_EINVAL, "topic name too long");
	k.mv_size = key_offset(kb, topic, partition);
	if ((rc = oplog_store__txn_begin(s, MDB_RDONLY, &txn)))
		return rc;
	rc = mdb_get(txn, s->dbi[DBI_OFFSETS], &k, &v);
	if (rc == 0 && v.mv_size == 8)
		*next_offset = (int64_t)get_u64(v.mv_data);
	else
		rc = rc == MDB_NOTFOUND ? OPLOG_ENOTFOUND : oplog_store__mdb_err(rc ? rc : MDB_CORRUPTED, "offsets");
	mdb_txn_abort(txn);
	return rc;
}

struct lost_walk {
	oplog_lost_cb cb;
	void         *arg;
};

static int lost_fn(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct lost_walk *w = arg;
	char topic[256];
	struct oplog_lost l;

	if (topic_key(k, 8, topic, &l.partition) || v->mv_size != 16)
		return oplog_error__set(OPLOG_ECORRUPT, "lost: malformed record");
	l.topic = topic;
	l.from = (int64_t)get_u64((const uint8_t *)k->mv_data + k->mv_size - 8);
	l.to = (int64_t)get_u64(v->mv_data);
	l.at_ms = get_u64((const uint8_t *)v->mv_data + 8);
	return w->cb(&l, w->arg);
}

int oplog_store_lost(struct oplog_store *s, oplog_lost_cb cb, void *arg)
{
	struct lost_walk w = { cb, arg };

	return walk_all(s, DBI_LOST, lost_fn, &w);
}

int oplog_store_rejects(struct oplog_store *s, uint64_t limit, oplog_reject_cb cb, void *arg)
{
	MDB_txn *txn;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int rc = oplog_store__txn_begin(s, MDB_RDONLY, &txn);

	if (rc)
		return rc;
	if ((rc = mdb_cursor_open(txn, s->dbi[DBI_REJECTS], &cur))) {
		rc = oplog_store__mdb_err(rc, "mdb_cursor_open(rejects)");
		goto done;
	}
	/* Step back `limit` records from the newest, then read forward. */
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	for (uint64_t i = 1; rc == 0 && (!limit || i < limit); i++) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
		if (rc == MDB_NOTFOUND) {
			rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
			break;
		}
	}
	for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *p = v.mv_data;
		struct oplog_reject_rec r;
		uint16_t sl, dl;

		if (v.mv_size < 22 || k.mv_size != 8)
			goto bad;
		sl = get_u16(p + 10);
		dl = get_u16(p + 12);
		if (v.mv_size < 22u + sl + dl)
			goto bad;
		r = (struct oplog_reject_rec){
			.id = get_u64(k.mv_data), .time_ms = get_u64(p),
			.reason = p[8], .field = p[9], .size = get_u64(p + 14),
			.source = { p + 22, sl }, .detail = { p + 22 + sl, dl },
			.raw = { p + 22 + sl + dl, v.mv_size - 22 - sl - dl },
		};
		if ((rc = cb(&r, arg)))
			goto done;
	}
	rc = rc == MDB_NOTFOUND ? 0 : oplog_store__mdb_err(rc, "rejects");
	goto done;
bad:
	rc = oplog_error__set(OPLOG_ECORRUPT, "rejects: malformed record");
done:
	if (cur)
		mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rc;
}

/* One record of the replay DBI, copied out: 0, OPLOG_ENOTFOUND or EIO. */
static int replay_get(struct oplog_store *s, const uint8_t *key, size_t klen, void *out,
                      size_t cap, size_t *len)
{
	MDB_val k = { klen, (void *)key }, v;
	MDB_txn *txn;
	int rc = oplog_store__txn_begin(s, MDB_RDONLY, &txn);

	if (rc)
		return rc;
	rc = mdb_get(txn, s->dbi[DBI_REPLAY], &k, &v);
	if (rc == 0) {
		*len = v.mv_size < cap ? v.mv_size : cap;
		memcpy(out, v.mv_data, *len);
	} else {
		rc = rc == MDB_NOTFOUND ? OPLOG_ENOTFOUND : oplog_store__mdb_err(rc, "replay");
	}
	mdb_txn_abort(txn);
	return rc;
}

int oplog_store_cursor(struct oplog_store *s, const char *topic, int32_t partition,
                       int64_t *next, int64_t *end)
{
	uint8_t kb[1 + KEY_OFFSET_MAX], vb[16];
	size_t len = 0;
	int rc;

	if (strlen(topic) > 255)
		return oplog_error__set(OPLOG_EINVAL, "topic name too long");
	kb[0] = REPLAY_CURSOR;
	if ((rc = replay_get(s, kb, 1 + key_offset(kb + 1, topic, partition), vb, 16, &len)))
		return rc;
	if (len != 16)
		return oplog_error__set(OPLOG_ECORRUPT, "replay: malformed cursor");
	*next = (int64_t)get_u64(vb);
	*end = (int64_t)get_u64(vb + 8);
	return 0;
}

int oplog_store_cursor_range(struct oplog_store *s, char *buf, size_t cap)
{
	uint8_t kind = REPLAY_RANGE;
	size_t len = 0;
	int rc;

	if (cap == 0)
		return oplog_error__set(OPLOG_EINVAL, "no room");
	if ((rc = replay_get(s, &kind, 1, buf, cap - 1, &len)))
		return rc;
	buf[len] = 0;
	return 0;
}

int oplog_store__rejects_trim(struct oplog_store *s, MDB_txn *txn, uint64_t keep,
                              uint64_t limit, uint64_t *removed)
{
	MDB_cursor *cur = NULL;
	MDB_stat st;
	MDB_val k, v;
	uint64_t n = 0, over;
	int rc;

	if ((rc = mdb_stat(txn, s->dbi[DBI_REJECTS], &st)))
		return oplog_store__mdb_err(rc, "mdb_stat(rejects)");
	over = st.ms_entries > keep ? st.ms_entries - keep : 0;
	if (limit && over > limit)
		over = limit;
	if (over && (rc = mdb_cursor_open(txn, s->dbi[DBI_REJECTS], &cur)))
		return oplog_store__mdb_err(rc, "mdb_cursor_open(rejects)");
	for (; n < over; n++) {
		if ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) ||
		    (rc = mdb_cursor_del(cur, 0))) {
			rc = oplog_store__mdb_err(rc, "mdb_cursor_del(rejects)");
			break;
		}
	}
	if (cur)
		mdb_cursor_close(cur);
	if (removed)
		*removed = n;
	return rc;
}

int oplog_store_rejects_prune(struct oplog_store *s, uint64_t keep, uint64_t *removed)
{
	MDB_txn *txn = NULL;
	uint64_t n, total = 0;
	int rc;

	do {
		n = 0;
		if ((rc = oplog_store__txn_begin(s, 0, &txn)) ||
		    (rc = oplog_store__rejects_trim(s, txn, keep, 10000, &n)))
			break;
		rc = mdb_txn_commit(txn);
		txn = NULL;
		if (rc) {
			rc = oplog_store__mdb_err(rc, "mdb_txn_commit(rejects prune)");
			break;
		}
		total += n;
	} while (n == 10000);
	if (txn)
		mdb_txn_abort(txn);
	if (removed)
		*removed = total;
	return rc;
}
