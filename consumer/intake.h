/*
 * intake.h: what the applier and replay share between polling a message
 * and applying a batch (semi-private to consumer/).
 *
 * A message is decoded in place; a valid entry goes into the batch and the
 * message is held (the batch borrows its bytes) until the batch is
 * applied; a rejected one goes into the batch as a reject, with source
 * "topic/partition/offset", and is counted by reason. Offsets are the
 * caller's business: live offsets for the applier, cursors for replay.
 *
 * Threading: one intake belongs to one thread.
 */
#ifndef OPLOG_CONSUMER_INTAKE_H
#define OPLOG_CONSUMER_INTAKE_H

#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "oplog/config.h"
#include "oplog/entry.h"
#include "oplog/store.h"

struct oplog_intake {
	struct oplog_batch  *batch;
	rd_kafka_message_t **held;        /* messages the batch borrows from */
	size_t               n_held, cap_held;
	size_t               max_msg;     /* [apply] max_message_bytes */
	int64_t              skew_ms;     /* [apply] clock_skew_ms; 0 = off */
	int64_t              batch_start; /* monotonic ms when the batch stopped being empty */
	uint64_t             messages, rejected;
	uint64_t             rejected_by[OPLOG_R__COUNT];
};

/* Settings from cfg, an empty batch. 0 or OPLOG_ENOMEM. */
int oplog_intake__init(struct oplog_intake *in, const struct oplog_config *cfg);

/* Free everything, held messages included. */
void oplog_intake__fini(struct oplog_intake *in);

/* Monotonic milliseconds. */
int64_t oplog_intake__now_ms(void);

/* Note that the batch is about to receive something: its time starts
 * when it was empty. */
void oplog_intake__touch(struct oplog_intake *in);

/*
 * Decode rkm (a message, not an error event) into the batch. *rejected
 * is set when it was rejected; on_reject, when not NULL, sees it first
 * (the dead-letter copy). Takes ownership of rkm in every case.
 * Returns 0 or OPLOG_ENOMEM.
 */
int oplog_intake__take(struct oplog_intake *in, rd_kafka_message_t *rkm, int *rejected,
                       void (*on_reject)(void *arg, const rd_kafka_message_t *rkm),
                       void *arg);

/* After the batch was applied (or given up): clear it and destroy the
 * held messages. */
void oplog_intake__clear(struct oplog_intake *in);

#endif
