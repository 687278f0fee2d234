/*
 * intake.c: messages into batches, batches to the writer (oplog/intake.h).
 *
 * Two slots: `fill` takes messages on the intake thread, `flight` is the
 * batch the writer thread applies (NULL while none is submitted). A slot
 * keeps what its batch borrows from (held) until the batch is finished.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oplog/clock.h"
#include "oplog/error.h"
#include "oplog/intake.h"
#include "oplog/log.h"
#include "writer.h"

struct slot {
	struct oplog_batch *batch;
	void              **held;      /* released once the batch is finished */
	size_t              n_held, cap_held;
	size_t              count;     /* messages: entries and rejects */
	size_t              bytes;     /* their message bytes */
	int64_t             start_ms;  /* when the batch stopped being empty */
};

struct oplog_intake {
	struct oplog_intake_opts  o;
	struct oplog_writer      *writer;
	struct slot               slots[2];
	struct slot              *fill;
	struct slot              *flight;
	int                       failed;          /* a store failure; sticky */
	char                      failed_msg[512];
	struct oplog_intake_stats st;
};

void oplog_intake_opts_from_config(struct oplog_intake_opts *o, const struct oplog_config *cfg)
{
	*o = (struct oplog_intake_opts){ 0 };
	o->max_message = (size_t)cfg->apply.max_message_bytes;
	o->skew_ms = cfg->apply.clock_skew_ms;
	o->batch_count = (size_t)cfg->apply.batch_size;
	o->batch_bytes = (size_t)cfg->apply.batch_bytes;
	o->batch_ms = cfg->apply.batch_ms;
}

/* Empty the slot and let go of what its batch borrowed. */
static void slot_clear(struct oplog_intake *in, struct slot *sl)
{
	oplog_batch_clear(sl->batch);
	for (size_t i = 0; in->o.release && i < sl->n_held; i++)
		in->o.release(in->o.arg, sl->held[i]);
	sl->n_held = 0;
	sl->count = sl->bytes = 0;
}

/* The sticky failure, as this thread's error. */
static int failure(const struct oplog_intake *in)
{
	if (!in->failed)
		return 0;
	return oplog_error__set(in->failed, "%s", in->failed_msg);
}

int oplog_intake_new(struct oplog_intake **out, struct oplog_store *s,
                     const struct oplog_intake_opts *o)
{
	struct oplog_intake *in;
	int rc;

	*out = NULL;
	if (!(in = calloc(1, sizeof(*in))))
		return oplog_error__set(OPLOG_ENOMEM, "out of memory");
	in->o = *o;
	if (in->o.batch_count == 0)
		in->o.batch_count = 1;
	in->fill = &in->slots[0];
	if ((rc = oplog_batch_new(&in->slots[0].batch)) ||
	    (rc = oplog_batch_new(&in->slots[1].batch)) ||
	    (rc = oplog_writer__start(&in->writer, s, o->wake, o->arg)))
		goto done;
	*out = in;
	in = NULL;
done:
	oplog_intake_free(in);
	return rc;
}

void oplog_intake_free(struct oplog_intake *in)
{
	if (!in)
		return;
	/* First the thread: the batch in flight still borrows its messages. */
	oplog_writer__stop(in->writer);
	for (int i = 0; i < 2; i++) {
		struct slot *sl = &in->slots[i];
		if (sl->batch)
			slot_clear(in, sl);
		oplog_batch_free(sl->batch);
		free(sl->held);
	}
	free(in);
}

/*
 * Take note of the batch in flight once it is finished (waiting for it
 * with block): count it, tell the owner, then release what it held.
 * Returns the sticky failure, if any (including this batch's).
 */
static int reap(struct oplog_intake *in, int block)
{
	struct oplog_writer_result res;

	if (!in->flight || !oplog_writer__done(in->writer, block, &res))
		return failure(in);
	if (res.rc) {
		in->failed = res.rc;
		snprintf(in->failed_msg, sizeof(in->failed_msg), "%s", res.msg);
		oplog_error__set(res.rc, "%s", res.msg);
	} else {
		in->st.batches++;
	}
	if (in->o.on_applied)
		in->o.on_applied(in->o.arg, res.rc, &res.st, res.secs);
	slot_clear(in, in->flight);
	in->flight = NULL;
	return failure(in);
}

/* Hand the filling batch to the (idle) writer; the other slot, empty,
 * becomes the filling one. */
static void handoff(struct oplog_intake *in, enum oplog_handoff why)
{
	struct slot *next = in->fill == &in->slots[0] ? &in->slots[1] : &in->slots[0];

	in->flight = in->fill;
	in->fill = next;
	in->st.handed[why]++;
	if (in->o.on_handoff)
		in->o.on_handoff(in->o.arg);
	oplog_writer__submit(in->writer, in->flight->batch);
}

/*
 * Messages and bytes that count against the limits. Adaptive batches
 * share them with the batch in flight, so that what is taken in and not
 * yet stored never passes batch_count (the crash bound), and each is due
 * at half of them, so that one fills while the other is written; a fixed
 * batch holds exactly batch_count of its own.
 */
static size_t held_count(const struct oplog_intake *in)
{
	return in->fill->count + (in->flight && !in->o.fixed ? in->flight->count : 0);
}

static size_t held_bytes(const struct oplog_intake *in)
{
	return in->fill->bytes + (in->flight && !in->o.fixed ? in->flight->bytes : 0);
}

/* The filling batch cannot take another message. */
static int full(const struct oplog_intake *in)
{
	return held_count(in) >= in->o.batch_count ||
	       (!in->o.fixed && in->o.batch_bytes && held_bytes(in) >= in->o.batch_bytes);
}

/* Why the filling batch should go to the writer now, or -1. */
static int due(const struct oplog_intake *in, int idle)
{
	const struct slot *f = in->fill;

	if (oplog_batch_empty(f->batch))
		return -1;
	if (in->o.fixed)
		return f->count >= in->o.batch_count ? OPLOG_HANDOFF_COUNT : -1;
	/* Half the limits: the next batch fills in the other half while this
	 * one is written. */
	if (held_count(in) >= in->o.batch_count || 2 * f->count >= in->o.batch_count)
		return OPLOG_HANDOFF_COUNT;
	if (in->o.batch_bytes &&
	    (held_bytes(in) >= in->o.batch_bytes || 2 * f->bytes >= in->o.batch_bytes))
		return OPLOG_HANDOFF_BYTES;
	if (idle)
		return OPLOG_HANDOFF_IDLE;
	if (oplog_clock_mono_ms() - f->start_ms >= in->o.batch_ms)
		return OPLOG_HANDOFF_TIME;
	return -1;
}

/*
 * Before a message joins: when the two batches hold all the limits allow,
 * wait for the one in flight (the filling one then has the room to
 * itself); then hand the filling batch over if it is due and the writer is
 * free. Leaves room for one message, or returns the store's failure.
 */
static int make_room(struct oplog_intake *in)
{
	int rc, why;

	if ((rc = reap(in, 0)))
		return rc;
	if (in->flight && full(in) && (rc = reap(in, 1)))
		return rc;
	if (in->flight || (why = due(in, 0)) < 0)
		return 0;
	handoff(in, (enum oplog_handoff)why);
	return 0;
}

/* The batch is about to receive something: its time starts when empty. */
static struct slot *touch(struct oplog_intake *in)
{
	if (oplog_batch_empty(in->fill->batch))
		in->fill->start_ms = oplog_clock_mono_ms();
	return in->fill;
}

static int hold(struct slot *sl, void *held)
{
	if (sl->n_held == sl->cap_held) {
		size_t cap = sl->cap_held ? sl->cap_held * 2 : 1024;
		void *p = realloc(sl->held, cap * sizeof(*sl->held));
		if (!p)
			return oplog_error__set(OPLOG_ENOMEM, "out of memory");
		sl->held = p;
		sl->cap_held = cap;
	}
	sl->held[sl->n_held++] = held;
	return 0;
}

/*
 * The clock rule: a wall further ahead of the local clock than skew_ms.
 * The one skew check, whichever way a message arrives (apply, replay,
 * import), so that a stored reject reads the same for all of them.
 */
static int check_clock(const struct oplog_intake *in, const struct oplog_entry *e,
                       struct oplog_reject *rej)
{
	uint64_t now = oplog_clock_wall_ms();

	if (e->wall <= now || e->wall - now <= (uint64_t)in->o.skew_ms)
		return 0;
	*rej = (struct oplog_reject){ .reason = OPLOG_R_CLOCK_SKEW, .field = OPLOG_F_WALL };
	snprintf(rej->detail, sizeof(rej->detail), "wall %" PRIu64 " is %" PRIu64 " ms ahead of "
	         "the local clock (limit %" PRId64 " ms, [apply] clock_skew_ms)", e->wall,
	         e->wall - now, in->o.skew_ms);
	return OPLOG_EREJECT;
}

/* Into the filling batch as a reject, counted by reason. */
static int add_reject(struct oplog_intake *in, const void *msg, size_t len,
                      const struct oplog_source *src, const struct oplog_reject *rej)
{
	struct slot *f = touch(in);
	char source[4400];
	int rc;

	if (src->partition >= 0)
		snprintf(source, sizeof(source), "%s/%" PRId32 "/%" PRId64, src->name,
		         src->partition, src->pos);
	else
		snprintf(source, sizeof(source), "%s:%" PRId64, src->name, src->pos);
	if ((rc = oplog_batch_reject(f->batch, source, msg, len, rej)))
		return rc;
	f->count++;
	f->bytes += len;
	in->st.messages++;
	in->st.rejected++;
	if ((unsigned)rej->reason < OPLOG_R__COUNT)
		in->st.rejected_by[rej->reason]++;
	oplog_log(OPLOG_LOG_DEBUG, "rejected %s: %s %s", source, oplog_reason_name(rej->reason),
	          rej->detail);
	return 0;
}

int oplog_intake_check(const struct oplog_intake *in, const void *msg, size_t len,
                       struct oplog_entry *e, struct oplog_reject *rej)
{
	static const uint8_t empty[1];
	int rc;

	rc = oplog_entry_decode(msg ? msg : empty, len, in->o.max_message, 0, e, rej);
	if (rc == 0 && in->o.skew_ms > 0)
		rc = check_clock(in, e, rej);
	return rc;
}

int oplog_intake_take(struct oplog_intake *in, const void *msg, size_t len,
                      const struct oplog_source *src, void *held, struct oplog_reject *rej_out)
{
	static const uint8_t empty[1];
	struct oplog_entry e;
	struct oplog_reject rej;
	struct slot *f;
	int rc;

	if ((rc = make_room(in)))
		return rc;
	if (!msg)
		msg = empty;
	rc = oplog_intake_check(in, msg, len, &e, &rej);
	if (rc == OPLOG_EREJECT) {
		if (rej_out)
			*rej_out = rej;
		rc = add_reject(in, msg, len, src, &rej);
		return rc ? rc : OPLOG_EREJECT;
	}
	if (rc)
		return rc;
	f = touch(in);
	/* Held first: the batch must never point into something released. */
	if (held && (rc = hold(f, held)))
		return rc;
	if ((rc = oplog_batch_add(f->batch, msg, len, &e))) {
		if (held)
			f->n_held--;   /* still the caller's */
		return rc;
	}
	f->count++;
	f->bytes += len;
	in->st.messages++;
	return 0;
}

int oplog_intake_reject(struct oplog_intake *in, const void *msg, size_t len,
                        const struct oplog_source *src, const struct oplog_reject *rej)
{
	int rc;

	if ((rc = make_room(in)))
		return rc;
	return add_reject(in, msg, len, src, rej);
}

int oplog_intake_room(struct oplog_intake *in)
{
	return make_room(in);
}

struct oplog_batch *oplog_intake_batch(struct oplog_intake *in)
{
	return touch(in)->batch;
}

int oplog_intake_tick(struct oplog_intake *in, int idle)
{
	int rc, why;

	if ((rc = reap(in, 0)))
		return rc;
	if (!in->flight && (why = due(in, idle)) >= 0)
		handoff(in, (enum oplog_handoff)why);
	return 0;
}

int64_t oplog_intake_wait_ms(const struct oplog_intake *in, int64_t max_ms)
{
	if (in->failed)
		return 0;
	if (!in->flight && !in->o.fixed && !oplog_batch_empty(in->fill->batch))
		return 0;
	return max_ms;
}

int oplog_intake_settle(struct oplog_intake *in)
{
	return reap(in, 1);
}

int oplog_intake_flush(struct oplog_intake *in)
{
	int rc;

	if ((rc = reap(in, 1)))
		return rc;
	if (!oplog_batch_empty(in->fill->batch))
		handoff(in, OPLOG_HANDOFF_FLUSH);
	return reap(in, 1);
}

int oplog_intake_busy(const struct oplog_intake *in)
{
	return in->flight != NULL;
}

size_t oplog_intake_filling(const struct oplog_intake *in)
{
	return in->fill->count;
}

size_t oplog_intake_in_flight(const struct oplog_intake *in)
{
	return in->flight ? in->flight->count : 0;
}

void oplog_intake_stats(const struct oplog_intake *in, struct oplog_intake_stats *out)
{
	*out = in->st;
}
