/*
 * offsets.c: the store's suite, Kafka offsets, lost ranges and rejects
 * stored with a batch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "util_store.h"
#include "store/tcases.h"

/* ------------------------------------------------------------------ */
/* Offsets and rejects                                                 */

struct off_seen {
	size_t n;
	char   line[8][64];
};

static int off_cb(const char *topic, int32_t partition, int64_t next, void *arg)
{
	struct off_seen *o = arg;

	if (o->n < 8)
		snprintf(o->line[o->n], sizeof(o->line[0]), "%s/%d=%lld", topic, (int)partition,
		         (long long)next);
	o->n++;
	return 0;
}

static int has_line(const struct off_seen *o, const char *line)
{
	size_t i;

	for (i = 0; i < o->n && i < 8; i++)
		if (strcmp(o->line[i], line) == 0)
			return 1;
	return 0;
}

START_TEST(test_offsets__stored_with_batch_and_replaced_by_later_batch)
{
	struct oplog_batch *b = NULL;
	struct util_entry c[2];
	struct off_seen o;
	int64_t next = -1;

	UTIL_OK(util_chain_build(c, 2, UTIL_DS, "n", 1, NULL, 1000));
	UTIL_RC(oplog_store_offset(util_s, "t1", 0, &next), OPLOG_ENOTFOUND);
	UTIL_OK(oplog_batch_new(&b));
	UTIL_OK(oplog_batch_add(b, c[0].msg, c[0].len, &c[0].e));
	UTIL_OK(oplog_batch_offset(b, "t1", 0, 10));
	UTIL_OK(oplog_batch_offset(b, "t1", 1, 20));
	UTIL_OK(oplog_batch_offset(b, "t2", 0, 5));
	/* A later call for the same partition in one batch replaces it. */
	UTIL_OK(oplog_batch_offset(b, "t1", 0, 12));
	UTIL_RC(oplog_batch_offset(b, "", 0, 1), OPLOG_EINVAL);
	UTIL_OK(oplog_store_apply(util_s, b, NULL));
	UTIL_OK(oplog_store_offset(util_s, "t1", 0, &next));
	UTIL_EQ(next, 12);
	UTIL_OK(oplog_store_offset(util_s, "t1", 1, &next));
	UTIL_EQ(next, 20);
	UTIL_RC(oplog_store_offset(util_s, "t1", 2, &next), OPLOG_ENOTFOUND);
	UTIL_RC(oplog_store_offset(util_s, "t", 0, &next), OPLOG_ENOTFOUND);

	oplog_batch_clear(b);
	UTIL_OK(oplog_batch_add(b, c[1].msg, c[1].len, &c[1].e));
	UTIL_OK(oplog_batch_offset(b, "t1", 0, 15));
	UTIL_OK(oplog_store_apply(util_s, b, NULL));
	memset(&o, 0, sizeof(o));
	UTIL_OK(oplog_store_offsets(util_s, off_cb, &o));
	UTIL_EQ(o.n, 3);
	UTIL_CHECK(has_line(&o, "t1/0=15"));
	UTIL_CHECK(has_line(&o, "t1/1=20"));
	UTIL_CHECK(has_line(&o, "t2/0=5"));

	/* Offsets survive a reopen. */
	util_reopen();
	UTIL_OK(oplog_store_offset(util_s, "t1", 0, &next));
	UTIL_EQ(next, 15);
	oplog_batch_free(b);
	util_entries_free(c, 2);
}
END_TEST

static int lost_cb(const struct oplog_lost *l, void *arg)
{
	struct off_seen *o = arg;

	if (o->n < 8)
		snprintf(o->line[o->n], sizeof(o->line[0]), "%s/%d:%lld-%lld", l->topic,
		         (int)l->partition, (long long)l->from, (long long)l->to);
	UTIL_CHECK(l->at_ms > 1500000000000ULL);
	o->n++;
	return 0;
}

START_TEST(test_offsets__lost_range_kept_and_moves_partition_on)
{
	struct oplog_batch *b = NULL;
	struct off_seen o = { 0 };
	int64_t next = -1;

	UTIL_OK(oplog_batch_new(&b));
	UTIL_CHECK(oplog_batch_empty(b));
	/* A lost range alone is a batch worth applying: it moves the offset. */
	UTIL_OK(oplog_batch_lost(b, "t", 2, 100, 250));
	UTIL_CHECK(!oplog_batch_empty(b));
	UTIL_EQ(oplog_batch_count(b), 0);
	UTIL_RC(oplog_batch_lost(b, "t", 2, -1, 5), OPLOG_EINVAL);
	UTIL_RC(oplog_batch_lost(b, "", 2, 1, 5), OPLOG_EINVAL);
	UTIL_OK(oplog_store_apply(util_s, b, NULL));
	UTIL_OK(oplog_store_offset(util_s, "t", 2, &next));
	UTIL_EQ(next, 250);

	/* Offsets that went backwards (from >= to); a later offset in the same
	 * batch wins over the range's end. */
	oplog_batch_clear(b);
	UTIL_CHECK(oplog_batch_empty(b));
	UTIL_OK(oplog_batch_lost(b, "t", 2, 900, 0));
	UTIL_OK(oplog_batch_offset(b, "t", 2, 7));
	UTIL_OK(oplog_store_apply(util_s, b, NULL));
	UTIL_OK(oplog_store_offset(util_s, "t", 2, &next));
	UTIL_EQ(next, 7);

	util_reopen();
	UTIL_OK(oplog_store_lost(util_s, lost_cb, &o));
	UTIL_EQ(o.n, 2);
	UTIL_STR_EQ(o.line[0], "t/2:100-250");
	UTIL_STR_EQ(o.line[1], "t/2:900-0");
	oplog_batch_free(b);
}
END_TEST

struct rej_seen {
	size_t  n;
	uint64_t id[8];
	struct oplog_reject_rec rec;  /* the first one, slices copied below */
	char    source[64], detail[64];
	uint8_t raw[64];
	size_t  raw_len;
};

static int rej_cb(const struct oplog_reject_rec *r, void *arg)
{
	struct rej_seen *s = arg;

	if (s->n < 8)
		s->id[s->n] = r->id;
	if (s->n == 0) {
		s->rec = *r;
		snprintf(s->source, sizeof(s->source), "%.*s", (int)r->source.len, (const char *)r->source.ptr);
		snprintf(s->detail, sizeof(s->detail), "%.*s", (int)r->detail.len, (const char *)r->detail.ptr);
		s->raw_len = r->raw.len;
		memcpy(s->raw, r->raw.ptr, r->raw.len < sizeof(s->raw) ? r->raw.len : sizeof(s->raw));
	}
	s->n++;
	return 0;
}

/* Open the fixture's store again with these reject limits (0: default). */
static void reopen_with_limits(size_t reject_max_bytes, uint64_t rejects_max)
{
	struct oplog_store_opts o;

	oplog_store_close(util_s);
	util_s = NULL;
	memset(&o, 0, sizeof(o));
	o.path = util_dir;
	o.reject_max_bytes = reject_max_bytes;
	o.rejects_max = rejects_max;
	UTIL_OK(oplog_store_open(&util_s, &o));
}

START_TEST(test_rejects__stored_truncated_with_size_and_counted)
{
	struct oplog_batch *b = NULL;
	struct oplog_reject rej;
	struct oplog_apply_stats st;
	struct oplog_stats s;
	struct rej_seen seen;
	uint8_t msg[100];
	size_t i;

	reopen_with_limits(16, 0);
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 7 + 1);
	memset(&rej, 0, sizeof(rej));
	rej.reason = OPLOG_R_BAD_TYPE;
	rej.field = OPLOG_F_SEQ;
	snprintf(rej.detail, sizeof(rej.detail), "seq is a str");
	UTIL_OK(oplog_batch_new(&b));
	UTIL_OK(oplog_batch_reject(b, "oplog/3/42", msg, sizeof(msg), &rej));
	rej.reason = OPLOG_R_MALFORMED;
	rej.field = OPLOG_F_NONE;
	UTIL_OK(oplog_batch_reject(b, "file:2", msg, 3, &rej));
	UTIL_OK(oplog_store_apply(util_s, b, &st));
	UTIL_EQ(st.rejected, 2);

	memset(&seen, 0, sizeof(seen));
	UTIL_OK(oplog_store_rejects(util_s, 0, rej_cb, &seen));
	UTIL_EQ(seen.n, 2);
	UTIL_STR_EQ(seen.source, "oplog/3/42");
	UTIL_STR_EQ(seen.detail, "seq is a str");
	UTIL_EQ(seen.rec.reason, OPLOG_R_BAD_TYPE);
	UTIL_EQ(seen.rec.field, OPLOG_F_SEQ);
	UTIL_EQ(seen.rec.size, 100);
	UTIL_EQ(seen.raw_len, 16);
	UTIL_CHECK(memcmp(seen.raw, msg, 16) == 0);
	UTIL_CHECK(seen.id[0] < seen.id[1]);

	s = util_stats();
	UTIL_EQ(s.rejected[OPLOG_R_BAD_TYPE], 1);
	UTIL_EQ(s.rejected[OPLOG_R_MALFORMED], 1);
	UTIL_EQ(s.rejected[OPLOG_R_HASH_MISMATCH], 0);
	UTIL_EQ(s.rejects_kept, 2);
	UTIL_EQ(s.entries, 0);
	oplog_batch_free(b);
}
END_TEST

START_TEST(test_rejects__limit_gives_newest_last)
{
	struct oplog_batch *b = NULL;
	struct oplog_reject rej;
	struct rej_seen all, last;
	char src[16];
	int i;

	memset(&rej, 0, sizeof(rej));
	rej.reason = OPLOG_R_NOT_MAP;
	UTIL_OK(oplog_batch_new(&b));
	for (i = 0; i < 5; i++) {
		snprintf(src, sizeof(src), "t/0/%d", i);
		UTIL_OK(oplog_batch_reject(b, src, "x", 1, &rej));
		UTIL_OK(oplog_store_apply(util_s, b, NULL));
		oplog_batch_clear(b);
	}
	memset(&all, 0, sizeof(all));
	memset(&last, 0, sizeof(last));
	UTIL_OK(oplog_store_rejects(util_s, 0, rej_cb, &all));
	UTIL_OK(oplog_store_rejects(util_s, 2, rej_cb, &last));
	UTIL_EQ(all.n, 5);
	UTIL_EQ(last.n, 2);
	UTIL_EQ(last.id[0], all.id[3]);
	UTIL_EQ(last.id[1], all.id[4]);
	UTIL_STR_EQ(last.source, "t/0/3");
	UTIL_EQ(util_stats().rejected[OPLOG_R_NOT_MAP], 5);
	oplog_batch_free(b);
}
END_TEST

/* Above rejects_max the oldest kept rejects go, batch by batch, while the
 * counters count every one; rejects_prune trims by hand. */
START_TEST(test_rejects__kept_up_to_rejects_max_oldest_first)
{
	struct oplog_batch *b = NULL;
	struct oplog_reject rej;
	struct rej_seen seen;
	uint64_t removed = 99;
	int i;

	reopen_with_limits(0, 5);
	memset(&rej, 0, sizeof(rej));
	rej.reason = OPLOG_R_NOT_MAP;
	UTIL_OK(oplog_batch_new(&b));
	for (i = 0; i < 8; i++)
		UTIL_OK(oplog_batch_reject(b, "t/0/0", "x", 1, &rej));
	UTIL_OK(oplog_store_apply(util_s, b, NULL));
	oplog_batch_clear(b);
	memset(&seen, 0, sizeof(seen));
	UTIL_OK(oplog_store_rejects(util_s, 0, rej_cb, &seen));
	UTIL_EQ(seen.n, 5);
	UTIL_EQ(seen.id[0], 4);
	UTIL_EQ(seen.id[4], 8);
	for (i = 0; i < 3; i++)
		UTIL_OK(oplog_batch_reject(b, "t/0/1", "x", 1, &rej));
	UTIL_OK(oplog_store_apply(util_s, b, NULL));
	memset(&seen, 0, sizeof(seen));
	UTIL_OK(oplog_store_rejects(util_s, 0, rej_cb, &seen));
	UTIL_EQ(seen.n, 5);
	UTIL_EQ(seen.id[0], 7);
	UTIL_EQ(seen.id[4], 11);
	UTIL_EQ(util_stats().rejected[OPLOG_R_NOT_MAP], 11);
	UTIL_EQ(util_stats().rejects_kept, 5);

	UTIL_OK(oplog_store_rejects_prune(util_s, 2, &removed));
	UTIL_EQ(removed, 3);
	memset(&seen, 0, sizeof(seen));
	UTIL_OK(oplog_store_rejects(util_s, 0, rej_cb, &seen));
	UTIL_EQ(seen.n, 2);
	UTIL_EQ(seen.id[0], 10);
	UTIL_OK(oplog_store_rejects_prune(util_s, 0, &removed));
	UTIL_EQ(removed, 2);
	UTIL_EQ(util_stats().rejects_kept, 0);
	UTIL_EQ(util_stats().rejected[OPLOG_R_NOT_MAP], 11);
	UTIL_CONSISTENT(util_s);
	oplog_batch_free(b);
}
END_TEST

/* ------------------------------------------------------------------ */

void store_offsets_tcases(Suite *s)
{
	TCase *t;

	t = util_store_tcase(s, "offsets", 10);
	tcase_add_test(t, test_offsets__stored_with_batch_and_replaced_by_later_batch);
	tcase_add_test(t, test_offsets__lost_range_kept_and_moves_partition_on);

	t = util_store_tcase(s, "rejects", 10);
	tcase_add_test(t, test_rejects__stored_truncated_with_size_and_counted);
	tcase_add_test(t, test_rejects__limit_gives_newest_last);
	tcase_add_test(t, test_rejects__kept_up_to_rejects_max_oldest_first);
}
