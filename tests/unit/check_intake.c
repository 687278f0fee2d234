/*
 * check_intake.c: the intake shared by apply, replay and import
 * (oplog/intake.h) on a real LMDB store, with its real writer thread:
 * the rule (entry or reject, with reason and source; the clock check),
 * that no message is dropped, when batches go to the writer (count,
 * bytes, idle, time; exactly N in fixed mode), how far input runs ahead
 * of the store, how long held bytes live, map growth and store failure.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oplog/clock.h"
#include "oplog/error.h"
#include "oplog/gen.h"
#include "oplog/intake.h"
#include "oplog/store.h"
#include "util_store.h"

/* What the callbacks saw. */
struct seen {
	size_t   batches;
	size_t   sizes[4096];      /* messages per applied batch, in order */
	size_t   handed[4096];     /* messages per handed batch, in order */
	size_t   n_handed;
	int      last_rc;
	size_t   released;         /* held things released so far */
	size_t   released_at[4096];/* `released` when each batch was reported */
	struct oplog_intake *in;
};

static void on_applied(void *arg, int rc, const struct oplog_apply_stats *st, double secs)
{
	struct seen *s = arg;

	(void)secs;
	s->last_rc = rc;
	if (rc)
		return;
	ck_assert_uint_lt(s->batches, 4096);
	s->released_at[s->batches] = s->released;
	s->sizes[s->batches++] = (size_t)(st->applied + st->duplicates + st->rejected);
}

static void on_handoff(void *arg)
{
	struct seen *s = arg;

	ck_assert_uint_lt(s->n_handed, 4096);
	s->handed[s->n_handed++] = oplog_intake_in_flight(s->in);
}

/* Held things here are malloc'd copies of the messages: freeing them
 * early would be a use after free under ASan. */
static void release(void *arg, void *held)
{
	struct seen *s = arg;

	s->released++;
	free(held);
}

static struct oplog_intake *new_intake(struct oplog_store *st, struct seen *s,
                                       size_t count, size_t bytes, int64_t ms, int fixed)
{
	struct oplog_intake_opts o = { 0 };
	struct oplog_intake *in;

	memset(s, 0, sizeof(*s));
	o.batch_count = count;
	o.batch_bytes = bytes;
	o.batch_ms = ms;
	o.fixed = fixed;
	o.arg = s;
	o.on_applied = on_applied;
	o.on_handoff = on_handoff;
	o.release = release;
	UTIL_OK(oplog_intake_new(&in, st, &o));
	s->in = in;
	return in;
}

static void *copy(const void *p, size_t n)
{
	void *c = malloc(n ? n : 1);

	ck_assert_ptr_nonnull(c);
	memcpy(c, p, n);
	return c;
}

/* Take a copy of msg, held by the intake when it is an entry. */
static int take_copy(struct oplog_intake *in, const void *msg, size_t len,
                     const struct oplog_source *src, struct oplog_reject *rej)
{
	void *c = copy(msg, len);
	int rc = oplog_intake_take(in, c, len, src, c, rej);

	if (rc)
		free(c);   /* a reject or a failure: still ours */
	return rc;
}

/* ---- the rule ---------------------------------------------------------- */

struct rejects {
	size_t n;
	char   source[8][64];
	enum oplog_reason reason[8];
};

static int reject_cb(const struct oplog_reject_rec *r, void *arg)
{
	struct rejects *rs = arg;

	if (rs->n < 8) {
		snprintf(rs->source[rs->n], sizeof(rs->source[0]), "%.*s", (int)r->source.len,
		         (const char *)r->source.ptr);
		rs->reason[rs->n] = r->reason;
	}
	rs->n++;
	return 0;
}

START_TEST(test_intake__bad_messages_become_rejects_with_reason_and_source)
{
	static const uint8_t not_map[] = { 0x93, 0x01, 0x02, 0x03 };
	struct oplog_intake_opts o = { 0 };
	struct oplog_intake *in;
	struct oplog_intake_stats is;
	struct util_entry ok, big;
	struct oplog_reject rej;
	struct rejects rs = { 0 };
	struct oplog_stats ss;
	uint8_t *flipped;
	char data[600];
	struct oplog_source kafka = { "oplog", 2, 10 }, file = { "in.bin", -1, 3 };

	memset(data, 'x', sizeof(data) - 1);
	data[sizeof(data) - 1] = '\0';
	UTIL_OK(util_entry_build(&ok, "ds", "n1", 1, 1000, 0, "c", "k", OPLOG_OP_PUT, "v", NULL));
	UTIL_OK(util_entry_build(&big, "ds", "n2", 1, 1000, 0, "c", "k", OPLOG_OP_PUT, data, NULL));
	flipped = copy(ok.msg, ok.len);
	flipped[ok.len - 1] ^= 0x01;

	o.max_message = 400;
	o.batch_count = 100;
	o.batch_ms = 1000;
	UTIL_OK(oplog_intake_new(&in, util_s, &o));

	UTIL_RC(oplog_intake_take(in, ok.msg, ok.len - 3, &kafka, NULL, &rej), OPLOG_EREJECT);
	ck_assert_int_eq(rej.reason, OPLOG_R_MALFORMED);
	kafka.pos++;
	UTIL_RC(oplog_intake_take(in, not_map, sizeof(not_map), &kafka, NULL, &rej), OPLOG_EREJECT);
	ck_assert_int_eq(rej.reason, OPLOG_R_NOT_MAP);
	UTIL_RC(oplog_intake_take(in, flipped, ok.len, &file, NULL, &rej), OPLOG_EREJECT);
	ck_assert_int_eq(rej.reason, OPLOG_R_HASH_MISMATCH);
	file.pos++;
	UTIL_RC(oplog_intake_take(in, big.msg, big.len, &file, NULL, &rej), OPLOG_EREJECT);
	ck_assert_int_eq(rej.reason, OPLOG_R_TOO_LARGE);
	UTIL_RC(oplog_intake_take(in, NULL, 0, &kafka, NULL, &rej), OPLOG_EREJECT);
	ck_assert_int_eq(rej.reason, OPLOG_R_MALFORMED);
	UTIL_OK(oplog_intake_take(in, ok.msg, ok.len, &kafka, NULL, &rej));
	UTIL_OK(oplog_intake_flush(in));

	oplog_intake_stats(in, &is);
	UTIL_EQ(is.messages, 6);
	UTIL_EQ(is.rejected, 5);
	UTIL_EQ(is.rejected_by[OPLOG_R_MALFORMED], 2);
	UTIL_EQ(is.rejected_by[OPLOG_R_NOT_MAP], 1);
	UTIL_EQ(is.rejected_by[OPLOG_R_HASH_MISMATCH], 1);
	UTIL_EQ(is.rejected_by[OPLOG_R_TOO_LARGE], 1);
	UTIL_EQ(is.batches, 1);
	oplog_intake_free(in);

	/* In the store: each reject with its reason and where it came from. */
	UTIL_OK(oplog_store_rejects(util_s, 0, reject_cb, &rs));
	UTIL_EQ(rs.n, 5);
	UTIL_STR_EQ(rs.source[0], "oplog/2/10");
	UTIL_STR_EQ(rs.source[1], "oplog/2/11");
	UTIL_STR_EQ(rs.source[2], "in.bin:3");
	UTIL_STR_EQ(rs.source[3], "in.bin:4");
	UTIL_STR_EQ(rs.source[4], "oplog/2/11");
	ck_assert_int_eq(rs.reason[3], OPLOG_R_TOO_LARGE);
	UTIL_OK(oplog_store_stats(util_s, &ss));
	UTIL_EQ(ss.entries, 1);
	UTIL_EQ(ss.rejected[OPLOG_R_MALFORMED], 2);
	UTIL_EQ(ss.rejected[OPLOG_R_TOO_LARGE], 1);
	free(flipped);
	util_entry_free(&ok);
	util_entry_free(&big);
}
END_TEST

/* The ne entries framed as f into buf, then the tail bytes (NULL when
 * ntail is 0). */
static size_t framed(uint8_t *buf, enum oplog_framing f, const struct util_entry *e,
                     size_t ne, const uint8_t *tail, size_t ntail)
{
	size_t pos = 0, i;

	for (i = 0; i < ne; i++) {
		if (f == OPLOG_FRAMING_LENPFX) {
			buf[pos++] = (uint8_t)(e[i].len >> 24);
			buf[pos++] = (uint8_t)(e[i].len >> 16);
			buf[pos++] = (uint8_t)(e[i].len >> 8);
			buf[pos++] = (uint8_t)e[i].len;
		}
		memcpy(buf + pos, e[i].msg, e[i].len);
		pos += e[i].len;
	}
	if (ntail > 0)
		memcpy(buf + pos, tail, ntail);
	return pos + ntail;
}

START_TEST(test_intake__framed_input_splits_and_keeps_an_unsplittable_rest)
{
	static const uint8_t c1[] = { 0xc1, 0x01, 0x02 };
	static const uint8_t short_prefix[] = { 0x00, 0x00 };
	static const uint8_t long_frame[] = { 0x00, 0x00, 0x01, 0x00, 0x80 };
	static const struct {
		enum oplog_framing f;
		const uint8_t     *tail;
		size_t             ntail;
		const char        *why;
	} cases[] = {
		{ OPLOG_FRAMING_STREAM, NULL, 0, NULL },
		{ OPLOG_FRAMING_STREAM, c1, sizeof(c1), "the reserved byte 0xc1" },
		{ OPLOG_FRAMING_LENPFX, NULL, 0, NULL },
		{ OPLOG_FRAMING_LENPFX, short_prefix, sizeof(short_prefix),
		  "a truncated length prefix" },
		{ OPLOG_FRAMING_LENPFX, long_frame, sizeof(long_frame),
		  "a frame longer than the rest of the input" },
	};
	struct util_entry e[2];
	struct oplog_intake_opts o = { 0 };
	struct oplog_intake *in;
	struct oplog_intake_cut cut;
	struct oplog_intake_stats is;
	struct rejects rs = { 0 };
	struct oplog_stats ss;
	uint8_t buf[1024];
	size_t i, len, rejects = 0;
	char name[32];

	UTIL_OK(util_entry_build(&e[0], "ds", "n1", 1, 1000, 0, "c", "k", OPLOG_OP_PUT, "a",
	                         NULL));
	UTIL_OK(util_entry_build(&e[1], "ds", "n1", 2, 1001, 0, "c", "k", OPLOG_OP_PUT, "b",
	                         e[0].hash));
	o.batch_count = 100;
	o.batch_ms = 1000;
	for (i = 0; i < UTIL_NELEM(cases); i++) {
		len = framed(buf, cases[i].f, e, 2, cases[i].tail, cases[i].ntail);
		snprintf(name, sizeof(name), "case-%zu", i);
		UTIL_OK(oplog_intake_new(&in, util_s, &o));
		UTIL_OK(oplog_intake_take_framed(in, name, buf, len, cases[i].f, &cut));
		UTIL_OK(oplog_intake_flush(in));
		oplog_intake_stats(in, &is);
		oplog_intake_free(in);
		if (cases[i].why == NULL) {
			UTIL_EQ(cut.skipped, 0);
			UTIL_EQ(is.messages, 2);
			UTIL_EQ(is.rejected, 0);
			continue;
		}
		rejects++;
		UTIL_EQ(cut.index, 2);
		UTIL_EQ(cut.skipped, cases[i].ntail);
		ck_assert_msg(strstr(cut.detail, cases[i].why) != NULL, "case %zu: detail '%s'", i,
		              cut.detail);
		UTIL_EQ(is.messages, 3);
		UTIL_EQ(is.rejected_by[OPLOG_R_MALFORMED], 1);
	}
	/* Both entries once (the later cases are duplicates); each rest one
	 * malformed reject, its source the message index it would start at. */
	UTIL_OK(oplog_store_stats(util_s, &ss));
	UTIL_EQ(ss.entries, 2);
	UTIL_EQ(ss.rejected[OPLOG_R_MALFORMED], rejects);
	UTIL_OK(oplog_store_rejects(util_s, 0, reject_cb, &rs));
	UTIL_EQ(rs.n, 3);
	UTIL_STR_EQ(rs.source[0], "case-1:2");
	UTIL_STR_EQ(rs.source[1], "case-3:2");
	UTIL_STR_EQ(rs.source[2], "case-4:2");
	util_entry_free(&e[0]);
	util_entry_free(&e[1]);
}
END_TEST

START_TEST(test_intake__clock_skew_rejects_only_entries_too_far_ahead)
{
	struct oplog_intake_opts o = { 0 };
	struct oplog_intake *in;
	struct oplog_intake_stats is;
	struct util_entry ahead, near, past;
	struct oplog_reject rej;
	struct oplog_entry e;
	struct oplog_source src = { "f", -1, 0 };
	uint64_t now = oplog_clock_wall_ms();

	UTIL_OK(util_entry_build(&ahead, "ds", "a", 1, now + 120000, 0, "c", "k", OPLOG_OP_PUT,
	                         "v", NULL));
	UTIL_OK(util_entry_build(&near, "ds", "b", 1, now + 10000, 0, "c", "k", OPLOG_OP_PUT,
	                         "v", NULL));
	UTIL_OK(util_entry_build(&past, "ds", "c", 1, now - 3600000, 0, "c", "k", OPLOG_OP_PUT,
	                         "v", NULL));
	o.skew_ms = 60000;
	o.batch_count = 10;
	o.batch_ms = 1000;
	UTIL_OK(oplog_intake_new(&in, util_s, &o));

	/* The rule alone counts nothing. */
	UTIL_RC(oplog_intake_check(in, ahead.msg, ahead.len, &e, &rej), OPLOG_EREJECT);
	ck_assert_int_eq(rej.reason, OPLOG_R_CLOCK_SKEW);
	ck_assert_int_eq(rej.field, OPLOG_F_WALL);
	ck_assert_msg(strstr(rej.detail, "ms ahead of the local clock (limit 60000 ms, "
	                     "[apply] clock_skew_ms)") != NULL, "%s", rej.detail);
	UTIL_OK(oplog_intake_check(in, near.msg, near.len, &e, &rej));
	oplog_intake_stats(in, &is);
	UTIL_EQ(is.messages, 0);

	UTIL_RC(oplog_intake_take(in, ahead.msg, ahead.len, &src, NULL, &rej), OPLOG_EREJECT);
	ck_assert_int_eq(rej.reason, OPLOG_R_CLOCK_SKEW);
	src.pos++;
	UTIL_OK(oplog_intake_take(in, near.msg, near.len, &src, NULL, &rej));
	src.pos++;
	UTIL_OK(oplog_intake_take(in, past.msg, past.len, &src, NULL, &rej));
	UTIL_OK(oplog_intake_flush(in));
	oplog_intake_stats(in, &is);
	UTIL_EQ(is.rejected_by[OPLOG_R_CLOCK_SKEW], 1);
	UTIL_EQ(util_entry_count(util_s), 2);
	oplog_intake_free(in);

	/* Off (0): the same entry is accepted. */
	o.skew_ms = 0;
	UTIL_OK(oplog_intake_new(&in, util_s, &o));
	UTIL_OK(oplog_intake_take(in, ahead.msg, ahead.len, &src, NULL, &rej));
	UTIL_OK(oplog_intake_flush(in));
	oplog_intake_free(in);
	UTIL_EQ(util_entry_count(util_s), 3);
	util_entry_free(&ahead);
	util_entry_free(&near);
	util_entry_free(&past);
}
END_TEST

/* A generated stream with duplicates, late entries, forks and bad
 * messages, through small adaptive batches: every message is counted
 * once, as an entry (applied or duplicate) or as a reject, and each bad
 * one with the reason the generator meant. */
START_TEST(test_intake__no_message_is_dropped)
{
	struct oplog_gen_opts go;
	struct oplog_gen *g;
	struct seen s;
	struct oplog_intake *in = new_intake(util_s, &s, 64, 4096, 1000, 0);
	struct oplog_intake_stats is;
	struct oplog_stats ss;
	uint64_t n = 3000, bad = 0, rejected = 0;

	oplog_gen_opts_init(&go);
	go.seed = 5;
	go.datasets = 2;
	go.nodes = 3;
	go.count = n;
	go.dup_rate = 0.05;
	go.late_rate = 0.1;
	go.fork_rate = 0.01;
	go.bad_rate = 0.05;
	UTIL_OK(oplog_gen_new(&go, &g));
	for (uint64_t i = 0; i < n; i++) {
		struct oplog_gen_msg m;
		struct oplog_source src = { "gen", -1, (int64_t)i };
		struct oplog_reject rej;
		int rc;

		UTIL_OK(oplog_gen_next(g, &m));
		rc = take_copy(in, m.data, m.len, &src, &rej);
		if (m.kind == OPLOG_GEN_BAD) {
			bad++;
			UTIL_RC(rc, OPLOG_EREJECT);
			ck_assert_int_eq(rej.reason, m.expect);
		} else {
			UTIL_OK(rc);
		}
		if (i % 7 == 0)
			UTIL_OK(oplog_intake_tick(in, i % 21 == 0));
		free(m.data);
	}
	oplog_gen_free(g);
	UTIL_OK(oplog_intake_flush(in));
	oplog_intake_stats(in, &is);
	UTIL_EQ(is.messages, n);
	UTIL_EQ(is.rejected, bad);
	UTIL_EQ(s.released, n - bad);
	oplog_intake_free(in);

	UTIL_OK(oplog_store_stats(util_s, &ss));
	for (int r = 0; r < OPLOG_R__COUNT; r++)
		rejected += ss.rejected[r];
	UTIL_EQ(rejected, bad);
	UTIL_EQ(ss.applied + ss.duplicates + rejected, n);
	UTIL_CONSISTENT(util_s);
}
END_TEST

/* ---- batches ------------------------------------------------------------ */

START_TEST(test_intake__fixed_batches_hold_exactly_n)
{
	struct util_entry es[50];
	struct seen s;
	struct oplog_intake *in = new_intake(util_s, &s, 7, 0, 0, 1);

	UTIL_OK(util_chain_build(es, 50, "ds", "n", 1, NULL, 1000));
	for (size_t i = 0; i < 50; i++) {
		struct oplog_source src = { "f", -1, (int64_t)i };
		UTIL_OK(take_copy(in, es[i].msg, es[i].len, &src, NULL));
		/* Neither idle nor the (zero) time window cuts a fixed batch. */
		UTIL_OK(oplog_intake_tick(in, 1));
	}
	UTIL_OK(oplog_intake_flush(in));
	oplog_intake_free(in);
	UTIL_EQ(s.batches, 8);
	for (size_t b = 0; b < 7; b++)
		UTIL_EQ(s.sizes[b], 7);
	UTIL_EQ(s.sizes[7], 1);
	UTIL_EQ(util_entry_count(util_s), 50);
	util_entries_free(es, 50);
}
END_TEST

/* Count and bytes bound every batch, and what was taken in but is not in
 * the store yet never passes them either (the crash bound). */
START_TEST(test_intake__adaptive_batches_stay_within_count_and_bytes)
{
	enum { N = 600, COUNT = 40, BYTES = 3000 };
	struct util_entry es[N];
	struct seen s;
	struct oplog_intake *in = new_intake(util_s, &s, COUNT, BYTES, 3600000, 0);
	size_t at = 0, applied_msgs;

	UTIL_OK(util_chain_build(es, N, "ds", "n", 1, NULL, 1000));
	for (size_t i = 0; i < N; i++) {
		struct oplog_source src = { "f", -1, (int64_t)i };
		UTIL_OK(take_copy(in, es[i].msg, es[i].len, &src, NULL));
		UTIL_OK(oplog_intake_tick(in, 0));
		applied_msgs = 0;
		for (size_t b = 0; b < s.batches; b++)
			applied_msgs += s.sizes[b];
		ck_assert_uint_le(i + 1 - applied_msgs, COUNT);
		ck_assert_uint_le(oplog_intake_filling(in) + oplog_intake_in_flight(in), COUNT);
	}
	UTIL_OK(oplog_intake_flush(in));
	oplog_intake_free(in);
	/* Every batch but the flushed last one stopped at half a limit, and
	 * took nothing more once it had reached one. */
	ck_assert_uint_gt(s.n_handed, 2);
	for (size_t h = 0; h < s.n_handed; h++) {
		size_t n = s.handed[h], bytes = 0;

		ck_assert_uint_le(n, COUNT);
		for (size_t k = at; k < at + n; k++)
			bytes += es[k].len;
		/* Due at half the limits, so that the next fills meanwhile. */
		if (h + 1 < s.n_handed)
			ck_assert_msg(2 * n >= COUNT || 2 * bytes >= BYTES,
			              "batch %zu: %zu messages, %zu bytes", h, n, bytes);
		ck_assert_msg(bytes - es[at + n - 1].len < BYTES, "batch %zu went on past %d bytes", h,
		              BYTES);
		at += n;
	}
	UTIL_EQ(at, N);
	UTIL_EQ(util_entry_count(util_s), N);
	util_entries_free(es, N);
}
END_TEST

/* Nothing more waiting: the batch goes at once. More keeps coming: it
 * goes when the time window closes. */
START_TEST(test_intake__idle_goes_at_once_and_a_busy_stream_after_the_window)
{
	struct util_entry es[3];
	struct seen s;
	struct oplog_intake *in = new_intake(util_s, &s, 1000, 1 << 20, 300, 0);
	struct oplog_intake_stats is;
	struct oplog_source src = { "f", -1, 0 };
	int64_t t0;

	UTIL_OK(util_chain_build(es, 3, "ds", "n", 1, NULL, 1000));
	ck_assert_int_eq(oplog_intake_wait_ms(in, 100), 100);   /* empty: block */
	UTIL_OK(take_copy(in, es[0].msg, es[0].len, &src, NULL));
	ck_assert_int_eq(oplog_intake_wait_ms(in, 100), 0);     /* ask: anything more? */
	UTIL_OK(oplog_intake_tick(in, 0));
	ck_assert_int_eq(oplog_intake_busy(in), 0);
	UTIL_OK(oplog_intake_tick(in, 1));
	ck_assert_int_eq(oplog_intake_busy(in), 1);
	UTIL_OK(oplog_intake_settle(in));
	oplog_intake_stats(in, &is);
	UTIL_EQ(is.handed[OPLOG_HANDOFF_IDLE], 1);
	UTIL_EQ(util_entry_count(util_s), 1);

	t0 = oplog_clock_mono_ms();
	src.pos++;
	UTIL_OK(take_copy(in, es[1].msg, es[1].len, &src, NULL));
	while (!oplog_intake_busy(in) && oplog_clock_mono_ms() - t0 < 5000) {
		usleep(5000);
		UTIL_OK(oplog_intake_tick(in, 0));
	}
	ck_assert_int_ge(oplog_clock_mono_ms() - t0, 300);
	UTIL_OK(oplog_intake_settle(in));
	oplog_intake_stats(in, &is);
	UTIL_EQ(is.handed[OPLOG_HANDOFF_TIME], 1);
	UTIL_EQ(is.batches, 2);
	oplog_intake_free(in);
	util_entries_free(es, 3);
}
END_TEST

/* A batch's held bytes are released after it is applied, not before; an
 * entry taken while the writer works joins the next batch. (Release frees
 * the message copy the batch borrows: an early free is a use after free.) */
START_TEST(test_intake__held_bytes_live_until_their_batch_is_applied)
{
	enum { N = 300 };
	struct util_entry es[N];
	struct seen s;
	struct oplog_intake *in = new_intake(util_s, &s, 25, 0, 3600000, 0);
	size_t sum = 0;

	UTIL_OK(util_chain_build(es, N, "ds", "n", 1, NULL, 1000));
	for (size_t i = 0; i < N; i++) {
		struct oplog_source src = { "f", -1, (int64_t)i };
		UTIL_OK(take_copy(in, es[i].msg, es[i].len, &src, NULL));
		UTIL_OK(oplog_intake_tick(in, 0));
	}
	UTIL_OK(oplog_intake_flush(in));
	for (size_t b = 0; b < s.batches; b++) {
		/* When batch b was reported, exactly the batches before it had
		 * been released. */
		UTIL_EQ(s.released_at[b], sum);
		sum += s.sizes[b];
	}
	UTIL_EQ(s.released, N);
	oplog_intake_free(in);
	UTIL_EQ(util_entry_count(util_s), N);
	util_entries_free(es, N);
}
END_TEST

/* ---- the store ---------------------------------------------------------- */

/* One batch larger than the initial map: the store grows it and applies
 * the batch again, its bytes still held. */
START_TEST(test_intake__map_full_grows_and_the_batch_is_applied)
{
	enum { N = 6000 };
	struct util_entry *es = calloc(N, sizeof(*es));
	struct oplog_store *small;
	struct oplog_stats ss;
	struct seen s;
	struct oplog_intake *in;
	char dir[4300];

	ck_assert_ptr_nonnull(es);
	util_subdir(dir, sizeof(dir), "small");
	UTIL_OK(util_store_open(&small, dir, 1 << 20, 256 << 20, 0));
	in = new_intake(small, &s, N, 0, 3600000, 1);
	UTIL_OK(util_chain_build(es, N, "ds", "n", 1, NULL, 1000));
	for (size_t i = 0; i < N; i++) {
		struct oplog_source src = { "f", -1, (int64_t)i };
		UTIL_OK(take_copy(in, es[i].msg, es[i].len, &src, NULL));
	}
	UTIL_OK(oplog_intake_flush(in));
	oplog_intake_free(in);
	UTIL_EQ(s.batches, 1);
	UTIL_OK(oplog_store_stats(small, &ss));
	UTIL_EQ(ss.entries, N);
	ck_assert_uint_gt(ss.map_size, 1 << 20);
	UTIL_CONSISTENT(small);
	oplog_store_close(small);
	util_entries_free(es, N);
	free(es);
}
END_TEST

/* The store refuses a batch: on_applied hears it, nothing of the batch is
 * applied, its held bytes are let go, and the intake refuses more. */
START_TEST(test_intake__a_store_failure_stops_the_intake)
{
	struct util_entry es[3];
	struct oplog_store *ro;
	struct seen s;
	struct oplog_intake *in;
	struct oplog_source src = { "f", -1, 0 };
	void *c;

	UTIL_OK(util_store_open(&ro, util_dir, 0, 0, OPLOG_STORE_RDONLY));
	in = new_intake(ro, &s, 10, 0, 1000, 0);
	UTIL_OK(util_chain_build(es, 3, "ds", "n", 1, NULL, 1000));
	UTIL_OK(take_copy(in, es[0].msg, es[0].len, &src, NULL));
	UTIL_RC(oplog_intake_flush(in), OPLOG_EINVAL);
	ck_assert_int_eq(s.last_rc, OPLOG_EINVAL);
	UTIL_EQ(s.released, 1);
	c = copy(es[1].msg, es[1].len);
	UTIL_RC(oplog_intake_take(in, c, es[1].len, &src, c, NULL), OPLOG_EINVAL);
	free(c);   /* refused: still ours */
	UTIL_RC(oplog_intake_tick(in, 1), OPLOG_EINVAL);
	oplog_intake_free(in);
	oplog_store_close(ro);
	UTIL_EQ(util_entry_count(util_s), 0);
	util_entries_free(es, 3);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("intake");
	const struct { const char *name; const TTest *test; } cases[] = {
		{ "reject", test_intake__bad_messages_become_rejects_with_reason_and_source },
		{ "clock", test_intake__clock_skew_rejects_only_entries_too_far_ahead },
		{ "no_drop", test_intake__no_message_is_dropped },
		{ "framed", test_intake__framed_input_splits_and_keeps_an_unsplittable_rest },
		{ "fixed", test_intake__fixed_batches_hold_exactly_n },
		{ "limits", test_intake__adaptive_batches_stay_within_count_and_bytes },
		{ "idle_time", test_intake__idle_goes_at_once_and_a_busy_stream_after_the_window },
		{ "held", test_intake__held_bytes_live_until_their_batch_is_applied },
		{ "map_full", test_intake__map_full_grows_and_the_batch_is_applied },
		{ "failure", test_intake__a_store_failure_stops_the_intake },
	};
	SRunner *sr;
	int failed;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		TCase *tc = tcase_create(cases[i].name);
		tcase_add_unchecked_fixture(tc, util_case_setup, util_case_teardown);
		tcase_add_checked_fixture(tc, util_setup, util_teardown);
		util_tcase_timeout(tc, 60);
		tcase_add_test(tc, cases[i].test);
		suite_add_tcase(su, tc);
	}
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
