/*
 * intake.c: decode polled messages into a batch (consumer/intake.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "intake.h"
#include "oplog/error.h"
#include "oplog/log.h"

int64_t oplog_intake__now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int oplog_intake__init(struct oplog_intake *in, const struct oplog_config *cfg)
{
	*in = (struct oplog_intake){ 0 };
	in->max_msg = (size_t)oplog_config_size(cfg, "apply.max_message_bytes");
	in->skew_ms = oplog_config_ms(cfg, "apply.clock_skew_ms");
	return oplog_batch_new(&in->batch);
}

void oplog_intake__clear(struct oplog_intake *in)
{
	oplog_batch_clear(in->batch);
	for (size_t i = 0; i < in->n_held; i++)
		rd_kafka_message_destroy(in->held[i]);
	in->n_held = 0;
}

void oplog_intake__fini(struct oplog_intake *in)
{
	if (in->batch)
		oplog_intake__clear(in);
	oplog_batch_free(in->batch);
	free(in->held);
	in->batch = NULL;
	in->held = NULL;
}

void oplog_intake__touch(struct oplog_intake *in)
{
	if (oplog_batch_empty(in->batch))
		in->batch_start = oplog_intake__now_ms();
}

static int hold(struct oplog_intake *in, rd_kafka_message_t *rkm)
{
	if (in->n_held == in->cap_held) {
		size_t cap = in->cap_held ? in->cap_held * 2 : 1024;
		void *p = realloc(in->held, cap * sizeof(*in->held));
		if (!p)
			return oplog_error__set(OPLOG_ENOMEM, "out of memory");
		in->held = p;
		in->cap_held = cap;
	}
	in->held[in->n_held++] = rkm;
	return 0;
}

int oplog_intake__take(struct oplog_intake *in, rd_kafka_message_t *rkm, int *rejected,
                       void (*on_reject)(void *arg, const rd_kafka_message_t *rkm),
                       void *arg)
{
	static const uint8_t empty[1];
	const void *payload = rkm->payload ? rkm->payload : empty;
	const char *topic = rd_kafka_topic_name(rkm->rkt);
	struct oplog_entry e;
	struct oplog_reject rej;
	char source[300];
	int rc;

	in->messages++;
	oplog_log(OPLOG_LOG_DEBUG, "consumed %s/%" PRId32 "/%" PRId64, topic, rkm->partition,
	          rkm->offset);
	oplog_intake__touch(in);
	*rejected = 0;
	rc = oplog_entry_decode(payload, rkm->len, in->max_msg, 0, &e, &rej);
	if (rc == 0 && in->skew_ms > 0 && e.wall > (uint64_t)(wall_ms() + in->skew_ms)) {
		rej = (struct oplog_reject){ .reason = OPLOG_R_CLOCK_SKEW, .field = OPLOG_F_WALL };
		snprintf(rej.detail, sizeof(rej.detail), "wall %" PRIu64 " is more than %" PRId64
		         " ms ahead of the local clock", e.wall, in->skew_ms);
		rc = OPLOG_EREJECT;
	}
	if (rc == 0) {
		/* Held first: the batch must never point into a freed message. */
		if ((rc = hold(in, rkm)) != 0) {
			rd_kafka_message_destroy(rkm);
			return rc;
		}
		if ((rc = oplog_batch_add(in->batch, payload, rkm->len, &e)) != 0)
			rd_kafka_message_destroy(in->held[--in->n_held]);
		return rc;
	}
	if (rc == OPLOG_EREJECT) {
		snprintf(source, sizeof(source), "%s/%" PRId32 "/%" PRId64, topic, rkm->partition,
		         rkm->offset);
		*rejected = 1;
		in->rejected++;
		if ((unsigned)rej.reason < OPLOG_R__COUNT)
			in->rejected_by[rej.reason]++;
		oplog_log(OPLOG_LOG_DEBUG, "rejected %s: %s %s", source,
		          oplog_reason_name(rej.reason), rej.detail);
		if (on_reject)
			on_reject(arg, rkm);
		rc = oplog_batch_reject(in->batch, source, payload, rkm->len, &rej);
	}
	rd_kafka_message_destroy(rkm);
	return rc;
}
