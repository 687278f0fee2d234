/*
 * oplog/intake.h: the one way messages reach the store, for `apply` and
 * `replay` (messages from Kafka) and `import` (messages from files).
 *
 * The rule, the same for every source: a message is decoded in place with
 * oplog_entry_decode ([apply] max_message_bytes, hash verified), then its
 * wall is checked against the local clock ([apply] clock_skew_ms, when
 * set). A valid entry joins the filling batch, which borrows the message
 * bytes; anything else joins it as a reject (its bytes copied) whose source
 * is "topic/partition/offset" or "FILE:INDEX", counted by reason. No
 * message is dropped: each one is an entry or a reject of the batch.
 *
 * The pipeline: two batches. The caller's thread (the intake thread:
 * poll or read, then decode) fills one while a writer thread applies the
 * other with oplog_store_apply (one LMDB write transaction, durable
 * commit). The filling batch is handed to the writer when it is due and
 * the writer is free. It is due when
 *   - the caller says nothing more is waiting (oplog_intake_tick idle), or
 *   - it holds half of batch_count messages or of batch_bytes message
 *     bytes (with `fixed`: all of batch_count), or
 *   - its first message has waited batch_ms.
 * A due batch keeps filling while the writer is busy (group commit), until
 * it and the batch being applied hold batch_count messages / batch_bytes
 * together; then oplog_intake_room (or the next oplog_intake_take) waits
 * for the writer. With `fixed`, a batch is handed over at exactly
 * batch_count messages of its own, or by oplog_intake_flush, and nothing
 * else.
 *
 * Crash bound: what was taken in but is not in the store yet (the batch
 * being applied plus the batch filling) is at most batch_count messages
 * (and less than batch_bytes + the largest message bytes); with `fixed`,
 * 2 x batch_count.
 *
 * Threading: every function is called from one thread, the intake thread,
 * and every callback runs there too, from inside these calls, except
 * `wake`. The store belongs to the writer while a batch is in flight: the
 * intake thread may use it only while oplog_intake_busy() is 0 (after
 * oplog_intake_settle or oplog_intake_flush), and inside on_applied (the
 * writer is done with the batch by then, though busy() still says 1).
 *
 * Ownership: the intake borrows the store; it must outlive the intake.
 * What a batch holds (held) is released through the release callback once
 * the batch is applied or given up, never earlier.
 */
#ifndef OPLOG_INTAKE_H
#define OPLOG_INTAKE_H

#include <stddef.h>
#include <stdint.h>

#include "oplog/config.h"
#include "oplog/entry.h"
#include "oplog/store.h"

struct oplog_intake;

/* Where a message came from; only a reject's source is built from it. */
struct oplog_source {
	const char *name;       /* the topic, or the file */
	int32_t     partition;  /* Kafka: the partition; < 0: a file */
	int64_t     pos;        /* Kafka: the offset; a file: the 0-based message index */
};

/* Why a batch went to the writer (oplog_intake_stats.handed). */
enum oplog_handoff {
	OPLOG_HANDOFF_IDLE = 0,  /* nothing more was waiting */
	OPLOG_HANDOFF_COUNT,     /* batch_count messages */
	OPLOG_HANDOFF_BYTES,     /* batch_bytes message bytes */
	OPLOG_HANDOFF_TIME,      /* batch_ms */
	OPLOG_HANDOFF_FLUSH,     /* oplog_intake_flush */
	OPLOG_HANDOFF__COUNT
};

struct oplog_intake_opts {
	size_t  max_message;  /* [apply] max_message_bytes; 0 = OPLOG_DEFAULT_MAX_MSG */
	int64_t skew_ms;      /* [apply] clock_skew_ms; 0 = no clock check */
	size_t  batch_count;  /* [apply] batch_size; >= 1 */
	size_t  batch_bytes;  /* [apply] batch_bytes; 0 = no byte limit */
	int64_t batch_ms;     /* [apply] batch_ms */
	int     fixed;        /* exactly batch_count messages per batch */
	void   *arg;          /* every callback's first argument */
	/* A held thing is no longer borrowed (its batch was applied or given
	 * up). NULL when nothing is ever held. */
	void  (*release)(void *arg, void *held);
	/* The filling batch went to the writer. May be NULL. */
	void  (*on_handoff)(void *arg);
	/* The batch in flight is finished: rc 0 with st (what applying did)
	 * and secs (apply and commit), or a store error with its message in
	 * oplog_error_last(); then nothing of the batch is applied and the
	 * intake refuses more. The writer is idle during the call. May be NULL. */
	void  (*on_applied)(void *arg, int rc, const struct oplog_apply_stats *st, double secs);
	/* On the WRITER thread, after a batch: interrupt the intake thread's
	 * blocking read so that it calls oplog_intake_tick (e.g.
	 * rd_kafka_queue_yield). May be NULL. */
	void  (*wake)(void *arg);
};

/* What the intake has done since it started. */
struct oplog_intake_stats {
	uint64_t messages;                    /* taken in: entries and rejects */
	uint64_t rejected;                    /* of those, rejects */
	uint64_t rejected_by[OPLOG_R__COUNT]; /* by reason */
	uint64_t batches;                     /* applied by the writer */
	uint64_t handed[OPLOG_HANDOFF__COUNT];/* batches handed over, by why */
};

/* o from cfg: [apply] max_message_bytes, clock_skew_ms, batch_size,
 * batch_bytes, batch_ms; adaptive, no callbacks. */
void oplog_intake_opts_from_config(struct oplog_intake_opts *o, const struct oplog_config *cfg);

/*
 * An empty intake on store s, with its writer thread running.
 * Returns 0 with *out set (free with oplog_intake_free), OPLOG_ENOMEM, or
 * OPLOG_ERROR (the thread could not be started). *out is NULL on failure.
 */
int oplog_intake_new(struct oplog_intake **out, struct oplog_store *s,
                     const struct oplog_intake_opts *o);

/*
 * Stop the writer (a batch in flight is finished first, without calling
 * on_applied), release everything held and free in. The filling batch is
 * given up: call oplog_intake_flush first to apply it. NULL is ignored.
 */
void oplog_intake_free(struct oplog_intake *in);

/*
 * The rule alone: decode msg (NULL with len 0 is an empty message) and
 * check its clock, without batching or counting anything (replay
 * --verify). Returns 0 with *e (borrowing msg), OPLOG_EREJECT with *rej,
 * or OPLOG_ENOMEM.
 */
int oplog_intake_check(const struct oplog_intake *in, const void *msg, size_t len,
                       struct oplog_entry *e, struct oplog_reject *rej);

/*
 * Take one message into the filling batch. When the batch is full, first
 * hand it to the writer, waiting for the batch before it to finish.
 * Returns
 *   0              an entry: the batch borrows msg; held (may be NULL) is
 *                  now the intake's, released after the batch is applied;
 *   OPLOG_EREJECT  a reject (rej says why, when not NULL); msg and held
 *                  stay the caller's;
 *   or the store's failure of an earlier batch, OPLOG_ENOMEM: nothing
 *   taken, held stays the caller's.
 * The batch the message joined stays the filling batch until the next
 * oplog_intake_* call: add its offset or cursor (oplog_intake_batch) now.
 */
int oplog_intake_take(struct oplog_intake *in, const void *msg, size_t len,
                      const struct oplog_source *src, void *held, struct oplog_reject *rej);

/* Add a reject decided by the caller (e.g. input that cannot be split
 * into messages); counted like the intake's own. 0, or as oplog_intake_take. */
int oplog_intake_reject(struct oplog_intake *in, const void *msg, size_t len,
                        const struct oplog_source *src, const struct oplog_reject *rej);

/* Where a buffer of framed messages stopped being splittable. */
struct oplog_intake_cut {
	uint64_t index;        /* the message index the rest would start at */
	size_t   skipped;      /* bytes taken as one malformed reject; 0: none */
	char     detail[160];  /* that reject's detail ("" when none) */
};

/*
 * Take every message of buf[0..len), framed as f, in order, each with the
 * source "name:INDEX" (INDEX 0-based), as oplog_intake_take does. Where
 * the rest of buf cannot be split into messages it is taken as one
 * malformed reject, and *cut says where and how much (cut->skipped > 0);
 * nothing after it can be trusted. The batches borrow buf until
 * oplog_intake_flush() (or oplog_intake_free()) returns.
 *
 * Returns 0, or oplog_intake_take's failures: the messages before the
 * failing one stay taken. *cut is set either way (cut->skipped > 0 also
 * when keeping that reject is what failed).
 */
int oplog_intake_take_framed(struct oplog_intake *in, const char *name, const uint8_t *buf,
                             size_t len, enum oplog_framing f, struct oplog_intake_cut *cut);

/*
 * The filling batch, for the offsets, cursors and lost ranges that go with
 * its messages (oplog_batch_offset, ...). Calling it starts the batch's
 * time window if it was empty. Borrowed; valid until the next
 * oplog_intake_* call.
 */
struct oplog_batch *oplog_intake_batch(struct oplog_intake *in);

/*
 * Make room for one more message: hand a full filling batch to the writer,
 * first waiting for the batch in flight. A loop that polls calls this
 * before each poll, so that no message is read that cannot join a batch
 * at once: the crash bound is then exactly batch_count messages read
 * (2 x batch_count with `fixed`).
 * Returns 0, or the store's failure.
 */
int oplog_intake_room(struct oplog_intake *in);

/*
 * Take note of a finished batch (on_applied) and hand the filling batch
 * over if it is due; idle non-zero says nothing more is waiting right now.
 * Never waits. Returns 0, or the store's failure (see on_applied).
 */
int oplog_intake_tick(struct oplog_intake *in, int idle);

/*
 * How long the intake thread may block waiting for input before calling
 * oplog_intake_tick: 0 when a batch is due-if-idle and the writer is free,
 * else at most max_ms (the writer's `wake` cuts it short).
 */
int64_t oplog_intake_wait_ms(const struct oplog_intake *in, int64_t max_ms);

/* Wait for the batch in flight, if any (on_applied runs). Then the store
 * is the intake thread's until the next take, tick or flush. */
int oplog_intake_settle(struct oplog_intake *in);

/* Apply everything taken in: wait for the batch in flight, hand over the
 * filling one and wait for it too. Returns 0, or the store's failure. */
int oplog_intake_flush(struct oplog_intake *in);

/* 1 while a batch is in flight (the store is the writer's). */
int oplog_intake_busy(const struct oplog_intake *in);

/* Messages in the filling batch and in the batch in flight. */
size_t oplog_intake_filling(const struct oplog_intake *in);
size_t oplog_intake_in_flight(const struct oplog_intake *in);

/* Copy the counters into *out. */
void oplog_intake_stats(const struct oplog_intake *in, struct oplog_intake_stats *out);

#endif
