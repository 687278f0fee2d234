/*
 * applier_group.c: the applier's side of the consumer group
 * (oplog/applier.h): where each assigned partition starts, what happens
 * when partitions are revoked, and the offset commits that mirror the
 * store's offsets in the group. Runs on the applier's thread (the
 * rebalance and commit callbacks are served by its polls).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "applier_int.h"
#include "oplog/clock.h"
#include "oplog/error.h"
#include "oplog/lag.h"
#include "oplog/log.h"

/* ---- positioning ------------------------------------------------------ */

static const char *fresh_name(struct oplog_applier *a)
{
	return a->fresh_latest ? "latest" : "earliest";
}

/*
 * Record that topic/partition is applied up to next, in the filling
 * batch: the store gets it with that batch, like any consumed offset, and
 * the group when the batch is applied (on_applied).
 */
static void record_position(struct oplog_applier *a, const char *topic, int32_t partition,
                            int64_t next)
{
	if (oplog_batch_offset(oplog_intake_batch(a->in), topic, partition, next) == 0)
		oplog_applier__list_set(a->in_batch, topic, partition, next);
	else
		oplog_applier__transient(a, "recording a position", oplog_error_last());
}

/*
 * A partition with no position of its own starts fresh. Where the start
 * is already known, it is made concrete and recorded now: at the end for
 * fresh_start = latest, and at the end for an empty partition, which
 * otherwise would get no position (in the store or in the group) until
 * the fetcher reports its end, and none at all if apply stops before
 * that. Returns the offset to start at (logical when not known).
 */
static int64_t fresh_position(struct oplog_applier *a, const char *topic, int32_t partition)
{
	int64_t lo = -1, hi = -1;
	rd_kafka_resp_err_t err;

	err = rd_kafka_query_watermark_offsets(a->rk, topic, partition, &lo, &hi, 5000);
	if (err || hi < 0) {
		oplog_applier__transient(a, "watermarks", rd_kafka_err2str(err));
		return a->fresh_latest ? RD_KAFKA_OFFSET_END : RD_KAFKA_OFFSET_BEGINNING;
	}
	if (!a->fresh_latest && lo < hi)
		return RD_KAFKA_OFFSET_BEGINNING;
	record_position(a, topic, partition, hi);
	return hi;
}

/*
 * Set where each assigned partition starts, by the resume rule
 * (oplog_lag_resume, which `oplogd lag` measures from too). The group's
 * committed offsets are read only when some partition has no stored one.
 */
static void position(struct oplog_applier *a, rd_kafka_topic_partition_list_t *parts)
{
	rd_kafka_topic_partition_list_t *group = NULL;
	int need_group = 0;

	for (int i = 0; i < parts->cnt; i++) {
		rd_kafka_topic_partition_t *p = &parts->elems[i];

		if (oplog_store_offset(a->store, p->topic, p->partition, &p->offset) != 0) {
			p->offset = RD_KAFKA_OFFSET_INVALID;
			need_group = 1;
		}
	}
	if (need_group) {
		rd_kafka_resp_err_t err;

		group = rd_kafka_topic_partition_list_copy(parts);
		err = rd_kafka_committed(a->rk, group, 10000);
		if (err) {
			oplog_log(OPLOG_LOG_WARN, "reading the group's committed offsets failed: %s; "
			          "partitions without a stored offset start at %s",
			          rd_kafka_err2str(err), fresh_name(a));
			rd_kafka_topic_partition_list_destroy(group);
			group = NULL;
		}
	}
	for (int i = 0; i < parts->cnt; i++) {
		rd_kafka_topic_partition_t *p = &parts->elems[i], *g;
		struct oplog_resume r;

		g = group ? rd_kafka_topic_partition_list_find(group, p->topic, p->partition) : NULL;
		r = oplog_lag_resume(p->offset >= 0 ? p->offset : -1, g ? g->offset : -1,
		                     g && oplog_lag_by_store(g->metadata, g->metadata_size,
		                                             a->store_id), a->fresh_latest);
		p->offset = r.from == OPLOG_RESUME_LATEST || r.from == OPLOG_RESUME_EARLIEST ?
		            fresh_position(a, p->topic, p->partition) : r.offset;
		if (r.from == OPLOG_RESUME_STORE) {
			oplog_applier__list_set(a->applied, p->topic, p->partition, r.offset);
			/* The group may be behind the store (after a kill -9):
			 * the next commit brings it up to the store's position. */
			oplog_applier__list_set(a->to_commit, p->topic, p->partition, r.offset);
			oplog_log(OPLOG_LOG_INFO, "assigned %s/%" PRId32 ": from offset %" PRId64
			          " (the store's)", p->topic, p->partition, r.offset);
		} else if (r.from == OPLOG_RESUME_GROUP) {
			oplog_log(OPLOG_LOG_INFO, "assigned %s/%" PRId32 ": from offset %" PRId64
			          " (the group's, committed by this store)", p->topic, p->partition,
			          r.offset);
		} else {
			oplog_log(OPLOG_LOG_INFO, "assigned %s/%" PRId32 ": from %s (%s)", p->topic,
			          p->partition, fresh_name(a), r.why);
		}
	}
	if (group)
		rd_kafka_topic_partition_list_destroy(group);
}

/* ---- commits ------------------------------------------------------------ */

/*
 * The fetcher reached the end of a partition at offset `end`. With nothing
 * of it in either batch, everything below `end` is applied (or there was
 * nothing to apply, as in an empty partition): record `end` in the store
 * and then the group, so that lag tools show 0 there rather than
 * "unknown" or an old position.
 */
void oplog_applier__at_end(struct oplog_applier *a, const char *topic, int32_t partition,
                           int64_t end)
{
	const rd_kafka_topic_partition_t *done =
		rd_kafka_topic_partition_list_find(a->applied, topic, partition);

	if (end < 0 || rd_kafka_topic_partition_list_find(a->in_batch, topic, partition) ||
	    rd_kafka_topic_partition_list_find(a->in_flight, topic, partition) ||
	    (done && done->offset == end))
		return;
	record_position(a, topic, partition, end);
	oplog_applier__list_set(a->pos, topic, partition, end);
}

/*
 * Commit the applied offsets to the group, with the store id as metadata,
 * so that lag tools see the real position. Async in the loop; sync when
 * partitions are given up or the applier stops.
 */
void oplog_applier__commit(struct oplog_applier *a, int async)
{
	rd_kafka_resp_err_t err;

	a->last_commit = oplog_clock_mono_ms();
	if (a->to_commit->cnt == 0)
		return;
	for (int i = 0; i < a->to_commit->cnt; i++) {
		rd_kafka_topic_partition_t *p = &a->to_commit->elems[i];
		free(p->metadata);
		p->metadata = strdup(a->store_id);
		p->metadata_size = p->metadata ? strlen(a->store_id) : 0;
	}
	/* A failure is reported, and the offsets queued again, by on_commit. */
	err = rd_kafka_commit(a->rk, a->to_commit, async);
	if (!err)
		a->st.commits++;
	if (!err && !async)
		oplog_applier__committed(a, a->to_commit);
	if (!err || !async) {
		rd_kafka_topic_partition_list_destroy(a->to_commit);
		a->to_commit = rd_kafka_topic_partition_list_new(8);
	}
}

/* The group accepted offsets (those without an error of their own). */
void oplog_applier__committed(struct oplog_applier *a,
                              const rd_kafka_topic_partition_list_t *offsets)
{
	int any = 0;

	for (int i = 0; i < offsets->cnt; i++) {
		const rd_kafka_topic_partition_t *p = &offsets->elems[i];

		if (p->err || p->offset < 0 ||
		    !rd_kafka_topic_partition_list_find(a->pos, p->topic, p->partition))
			continue;
		oplog_applier__list_set(a->committed, p->topic, p->partition, p->offset);
		any = 1;
	}
	if (any)
		a->group_commit_ms = oplog_clock_mono_ms();
}

/* ---- callbacks --------------------------------------------------------- */

/* Assigned: each partition starts where the resume rule says (position). */
void oplog_applier__on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                                 rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	struct oplog_applier *a = opaque;
	int cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;

	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		rd_kafka_topic_partition_list_t *copy = rd_kafka_topic_partition_list_copy(parts);

		/* position() reads the store: not while the writer has it. */
		oplog_intake_settle(a->in);
		position(a, copy);
		for (int i = 0; i < copy->cnt; i++)
			oplog_applier__list_set(a->pos, copy->elems[i].topic, copy->elems[i].partition,
			         copy->elems[i].offset);
		if (cooperative)
			rd_kafka_error_destroy(rd_kafka_incremental_assign(rk, copy));
		else
			rd_kafka_assign(rk, copy);
		if (copy->cnt > 0)
			a->unassigned_ms = -1;
		rd_kafka_topic_partition_list_destroy(copy);
		return;
	}
	/*
	 * Revoked or lost: apply everything taken in first, the batch in flight
	 * and the filling one, and commit their offsets to the group, before
	 * the partitions go to another member (which starts from the store's
	 * offsets). Nothing of theirs stays behind to be applied later, so no
	 * offset goes backwards and nothing is read twice.
	 */
	a->st.revokes++;
	a->st.revoke_pending += oplog_intake_in_flight(a->in) + oplog_intake_filling(a->in);
	oplog_log(OPLOG_LOG_INFO, "partitions revoked (%d): applying the %zu messages taken in "
	          "(%zu in flight, %zu filling)", parts->cnt,
	          oplog_intake_in_flight(a->in) + oplog_intake_filling(a->in),
	          oplog_intake_in_flight(a->in), oplog_intake_filling(a->in));
	if (!a->fatal && oplog_intake_flush(a->in) == 0)
		oplog_applier__commit(a, 0);
	for (int i = 0; i < parts->cnt; i++) {
		const char *t = parts->elems[i].topic;
		int32_t part = parts->elems[i].partition;

		/* Another member may own them next: nothing of ours is due. */
		rd_kafka_topic_partition_list_del(a->pos, t, part);
		rd_kafka_topic_partition_list_del(a->applied, t, part);
		rd_kafka_topic_partition_list_del(a->to_commit, t, part);
		rd_kafka_topic_partition_list_del(a->in_batch, t, part);
		rd_kafka_topic_partition_list_del(a->in_flight, t, part);
		rd_kafka_topic_partition_list_del(a->committed, t, part);
	}
	if (a->pos->cnt == 0)
		a->unassigned_ms = oplog_clock_mono_ms();
	if (cooperative)
		rd_kafka_error_destroy(rd_kafka_incremental_unassign(rk, parts));
	else
		rd_kafka_assign(rk, NULL);
}

/* A commit refused because the group is rebalancing: the next assignment
 * commits the store's offsets anyway, and retrying meanwhile only makes
 * the client restart its rejoin. */
static int membership_err(rd_kafka_resp_err_t err)
{
	return err == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION ||
	       err == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID ||
	       err == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS ||
	       err == RD_KAFKA_RESP_ERR__STATE;
}

/*
 * The result of a group commit. Offsets that failed for a passing reason
 * (broker down, timeout) are due again, unless a later position of the
 * partition has been applied since (its own commit carries that one).
 */
void oplog_applier__on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                              rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
	struct oplog_applier *a = opaque;
	int failed = 0;

	(void)rk;
	if (err == RD_KAFKA_RESP_ERR__NO_OFFSET || !offsets)
		return;
	if (!err)
		oplog_applier__committed(a, offsets);
	for (int i = 0; i < offsets->cnt; i++) {
		const rd_kafka_topic_partition_t *p = &offsets->elems[i], *now;

		if (!err && !p->err)
			continue;
		failed++;
		if (membership_err(err ? err : p->err))
			continue;
		now = rd_kafka_topic_partition_list_find(a->applied, p->topic, p->partition);
		if (now && now->offset == p->offset &&
		    rd_kafka_topic_partition_list_find(a->pos, p->topic, p->partition) &&
		    !rd_kafka_topic_partition_list_find(a->to_commit, p->topic, p->partition))
			oplog_applier__list_set(a->to_commit, p->topic, p->partition, p->offset);
	}
	if (failed)
		oplog_applier__transient(a, "offset commit", rd_kafka_err2str(err ? err : offsets->elems[0].err));
}
