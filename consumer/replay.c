/*
 * replay.c: read a range of a topic by manual assignment into the store,
 * or compare it with the store (oplog/replay.h).
 *
 * Messages go through the intake (oplog/intake.h) as apply's do: this
 * thread polls and fills a batch while the writer thread applies the one
 * before, each with a cursor per partition instead of live offsets.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "oplog/bytes.h"
#include "oplog/clock.h"
#include "oplog/error.h"
#include "oplog/intake.h"
#include "oplog/kafka.h"
#include "oplog/lag.h"
#include "oplog/log.h"
#include "oplog/replay.h"

/* One partition of the range: [start, end), read up to next. */
struct part {
	char    topic[256];
	int32_t partition;
	int64_t first;   /* where the range starts (before any resume) */
	int64_t start;   /* where this run starts */
	int64_t end;
	int64_t next;
};

/* A node's pruned-through seq, to tell pruned entries from missing ones. */
struct pruned {
	char     ds[256];
	char     node[256];
	uint64_t through;
};

struct replay {
	const struct oplog_config      *cfg;
	struct oplog_store             *store;
	const struct oplog_replay_opts *o;
	struct oplog_replay_result     *r;
	rd_kafka_t                     *rk;
	rd_kafka_queue_t               *q;        /* the consumer queue, to cut a poll short */
	struct part                    *parts;
	size_t                          n_parts;
	struct oplog_intake            *in;
	struct pruned                  *pruned;   /* verify: loaded once */
	size_t                          n_pruned;
	int                             pruned_loaded;
	int64_t                         started, last_progress, last_err_log;
};

static struct part *find_part(struct replay *rp, const char *topic, int32_t partition)
{
	for (size_t i = 0; i < rp->n_parts; i++)
		if (rp->parts[i].partition == partition && strcmp(rp->parts[i].topic, topic) == 0)
			return &rp->parts[i];
	return NULL;
}

static int all_done(const struct replay *rp)
{
	for (size_t i = 0; i < rp->n_parts; i++)
		if (rp->parts[i].next < rp->parts[i].end)
			return 0;
	return 1;
}

/* "topics=a,b from=earliest until=end": what makes two replays the same. */
static void describe(const struct replay *rp, char *buf, size_t cap)
{
	const struct oplog_replay_opts *o = rp->o;
	char from[40], until[40];
	size_t len;

	if (o->from == OPLOG_REPLAY_EARLIEST)
		snprintf(from, sizeof(from), "earliest");
	else
		snprintf(from, sizeof(from), "%s%" PRId64, o->from == OPLOG_REPLAY_FROM_TIME ? "@" : "",
		         o->from_value);
	if (o->until == OPLOG_REPLAY_END)
		snprintf(until, sizeof(until), "end");
	else
		snprintf(until, sizeof(until), "@%" PRId64, o->until_ms);
	len = (size_t)snprintf(buf, cap, "topics=");
	if (o->topic) {
		len += (size_t)snprintf(buf + len, len < cap ? cap - len : 0, "%s", o->topic);
	} else {
		size_t n = rp->cfg->apply.topics.n;
		const char *const *t = rp->cfg->apply.topics.items;
		for (size_t i = 0; i < n; i++)
			len += (size_t)snprintf(buf + len, len < cap ? cap - len : 0, "%s%s",
			                        i ? "," : "", t[i]);
	}
	snprintf(buf + len, len < cap ? cap - len : 0, " from=%s until=%s", from, until);
}

/*
 * Can the client look offsets up by time? Not when it is told the broker
 * is older than 0.10.1 instead of asking it (api.version.request=false):
 * it would then send the old ListOffsets request, whose "time" only picks
 * log segments, and answer quietly with the wrong offsets.
 */
static int time_lookup_possible(rd_kafka_t *rk, char *why, size_t cap)
{
	const rd_kafka_conf_t *conf = rd_kafka_conf(rk);
	char ask[16] = "true", fallback[32] = "0.10.0";
	size_t n = sizeof(ask);
	int v[4] = { 0 };

	rd_kafka_conf_get(conf, "api.version.request", ask, &n);
	n = sizeof(fallback);
	rd_kafka_conf_get(conf, "broker.version.fallback", fallback, &n);
	if (strcmp(ask, "false") != 0)
		return 1;
	sscanf(fallback, "%d.%d.%d.%d", &v[0], &v[1], &v[2], &v[3]);
	if (v[0] > 0 || v[1] > 10 || (v[1] == 10 && v[2] >= 1))
		return 1;
	snprintf(why, cap, "broker.version.fallback %s with api.version.request=false", fallback);
	return 0;
}

/* Offsets of the first messages at or after ms, per partition (-1: none). */
static int offsets_at(struct replay *rp, int64_t ms, const char *what, int64_t *out)
{
	rd_kafka_topic_partition_list_t *l;
	rd_kafka_resp_err_t err;
	char why[128];
	int rc = 0;

	if (!time_lookup_possible(rp->rk, why, sizeof(why)))
		return oplog_error__set(OPLOG_EKAFKA, "%s @%" PRId64 ": the broker cannot look up "
		                        "offsets by time (Kafka 0.10.1 or later is needed; %s)",
		                        what, ms, why);
	l = rd_kafka_topic_partition_list_new((int)rp->n_parts);

	for (size_t i = 0; i < rp->n_parts; i++)
		rd_kafka_topic_partition_list_add(l, rp->parts[i].topic,
		                                  rp->parts[i].partition)->offset = ms;
	err = rd_kafka_offsets_for_times(rp->rk, l, 10000);
	for (int i = 0; !err && i < l->cnt; i++)
		err = l->elems[i].err;
	if (err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE ||
	    err == RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION ||
	    err == RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT ||
	    err == RD_KAFKA_RESP_ERR_INVALID_REQUEST)
		rc = oplog_error__set(OPLOG_EKAFKA, "%s @%" PRId64 ": the broker cannot look up "
		                      "offsets by time (Kafka 0.10.1 or later with message "
		                      "timestamps is needed): %s", what, ms, rd_kafka_err2str(err));
	else if (err)
		rc = oplog_error__set(OPLOG_EKAFKA, "%s @%" PRId64 ": looking up offsets by time: %s",
		                      what, ms, rd_kafka_err2str(err));
	for (size_t i = 0; rc == 0 && i < rp->n_parts; i++) {
		const rd_kafka_topic_partition_t *e =
			rd_kafka_topic_partition_list_find(l, rp->parts[i].topic, rp->parts[i].partition);
		out[i] = e ? e->offset : -1;
	}
	rd_kafka_topic_partition_list_destroy(l);
	return rc;
}

/*
 * A time lookup that found no message at or after ms (offset -1: every
 * message is older, or the partition is empty, or the broker does not
 * really look up: librdkafka's mock cluster answers -1 to every time) is
 * not an error, but it is rarely what was meant: say so, once for all
 * such partitions. (A 0.9 broker, whose messages carry no timestamps, is
 * refused before the lookup: offsets_at.)
 */
static void warn_unfound(const struct replay *rp, const char *what, int used, int64_t ms,
                         const int64_t *offs, const char *then)
{
	char iso[OPLOG_TIME_ISO_MAX];
	size_t none = 0, first = 0;

	if (!used)
		return;
	for (size_t i = rp->n_parts; i-- > 0;)
		if (offs[i] < 0) {
			none++;
			first = i;
		}
	if (!none)
		return;
	if (oplog_time_iso((uint64_t)ms, iso) != 0)
		iso[0] = '\0';
	oplog_log(OPLOG_LOG_WARN, "%s @%" PRId64 " (%s): %zu of %zu partitions (first %s/%" PRId32
	          ") have no message at or after that time, so %s; either their messages are all "
	          "older, or the broker cannot look offsets up by time and answers none "
	          "(librdkafka's mock cluster, oplogd broker, always does)", what, ms, iso, none,
	          rp->n_parts, rp->parts[first].topic, rp->parts[first].partition, then);
}

/* The range of every partition from the options and the watermarks. */
static int compute_range(struct replay *rp, const struct oplog_kafka_partition *kp)
{
	int64_t *from = calloc(rp->n_parts + 1, sizeof(*from));
	int64_t *until = calloc(rp->n_parts + 1, sizeof(*until));
	int rc = 0;

	if (!from || !until) {
		rc = oplog_error__set(OPLOG_ENOMEM, "out of memory");
		goto done;
	}
	if (rp->o->from == OPLOG_REPLAY_FROM_TIME &&
	    (rc = offsets_at(rp, rp->o->from_value, "--from", from)))
		goto done;
	if (rp->o->until == OPLOG_REPLAY_UNTIL_TIME &&
	    (rc = offsets_at(rp, rp->o->until_ms, "--until", until)))
		goto done;
	warn_unfound(rp, "--from", rp->o->from == OPLOG_REPLAY_FROM_TIME, rp->o->from_value, from,
	             "nothing is read there");
	warn_unfound(rp, "--until", rp->o->until == OPLOG_REPLAY_UNTIL_TIME, rp->o->until_ms, until,
	             "read to the end");
	for (size_t i = 0; i < rp->n_parts; i++) {
		struct part *p = &rp->parts[i];
		int64_t start = kp[i].low, end = kp[i].high;

		if (rp->o->from == OPLOG_REPLAY_OFFSET)
			start = rp->o->from_value;
		else if (rp->o->from == OPLOG_REPLAY_FROM_TIME)
			start = from[i] >= 0 ? from[i] : kp[i].high;
		if (rp->o->until == OPLOG_REPLAY_UNTIL_TIME && until[i] >= 0)
			end = until[i];
		if (start < kp[i].low)
			start = kp[i].low;
		if (end > kp[i].high)
			end = kp[i].high;
		if (start > end)
			start = end;
		p->first = p->start = p->next = start;
		p->end = end;
	}
done:
	free(from);
	free(until);
	return rc;
}

/*
 * Where to start: a stored cursor of the same range resumes; one of a
 * different range is an error unless restart; otherwise the range is
 * computed now and its cursors stored before anything is read.
 */
static int position(struct replay *rp, const struct oplog_kafka_partition *kp)
{
	char want[1024], have[1024];
	int rc, found = 0;

	describe(rp, want, sizeof(want));
	if (!rp->o->verify && !rp->o->restart &&
	    (rc = oplog_store_cursor_range(rp->store, have, sizeof(have))) != OPLOG_ENOTFOUND) {
		if (rc)
			return rc;
		if (strcmp(have, want) != 0)
			return oplog_error__set(OPLOG_EINVAL, "the store holds the cursor of an "
			                        "unfinished replay of %s; run that range again to finish "
			                        "it, or use --restart to discard it", have);
		for (size_t i = 0; i < rp->n_parts; i++) {
			struct part *p = &rp->parts[i];
			int64_t next, end;

			if ((rc = oplog_store_cursor(rp->store, p->topic, p->partition, &next, &end)) ==
			    OPLOG_ENOTFOUND)
				continue;
			if (rc)
				return rc;
			p->start = p->next = next;
			p->end = end;
			found++;
		}
		/* The range was recorded but its cursors were not: start over. */
		if (found == (int)rp->n_parts) {
			rp->r->resumed = 1;
			/* The range's first offset is not kept: count from the
			 * earliest offset there is (only "total" depends on it). */
			for (size_t i = 0; i < rp->n_parts; i++)
				rp->parts[i].first = kp[i].low < rp->parts[i].start ? kp[i].low :
				                     rp->parts[i].start;
			return 0;
		}
	}
	if ((rc = compute_range(rp, kp)))
		return rc;
	if (rp->o->verify)
		return 0;
	/* Nothing is in flight yet: the store is this thread's. */
	if ((rc = oplog_store_cursor_reset(rp->store, want)))
		return rc;
	for (size_t i = 0; i < rp->n_parts; i++)
		if ((rc = oplog_batch_cursor(oplog_intake_batch(rp->in), rp->parts[i].topic,
		                             rp->parts[i].partition, rp->parts[i].next,
		                             rp->parts[i].end)))
			return rc;
	return oplog_intake_flush(rp->in);
}

/* A batch is applied: count what applying did. (A failure comes back
 * from the intake call that noticed it.) */
static void on_applied(void *arg, int rc, const struct oplog_apply_stats *as, double secs)
{
	struct replay *rp = arg;

	(void)secs;
	if (rc == 0)
		oplog_apply_stats_add(&rp->r->applied, as);
}

/* On the writer's thread: a batch is done, cut the poll short. */
static void wake(void *arg)
{
	struct replay *rp = arg;

	rd_kafka_queue_yield(rp->q);
}

struct pruned_ctx {
	struct replay     *rp;
	struct oplog_slice ds;
};

static int pruned_node(const struct oplog_node_info *n, void *arg)
{
	struct pruned_ctx *x = arg;
	struct replay *rp = x->rp;
	struct pruned *p;

	if (!n->pruned_through)
		return 0;
	if (!(p = realloc(rp->pruned, (rp->n_pruned + 1) * sizeof(*p))))
		return oplog_error__set(OPLOG_ENOMEM, "out of memory");
	rp->pruned = p;
	p += rp->n_pruned++;
	snprintf(p->ds, sizeof(p->ds), "%.*s", (int)x->ds.len, (const char *)x->ds.ptr);
	snprintf(p->node, sizeof(p->node), "%.*s", (int)n->node.len, (const char *)n->node.ptr);
	p->through = n->pruned_through;
	return 0;
}

static int pruned_ds(struct oplog_slice ds, void *arg)
{
	struct pruned_ctx x = { arg, ds };

	return oplog_store_heads(x.rp->store, ds, pruned_node, &x);
}

/* Was e's seq pruned from its node? */
static int was_pruned(struct replay *rp, const struct oplog_entry *e, int *rc)
{
	*rc = 0;
	if (!rp->pruned_loaded) {
		rp->pruned_loaded = 1;
		if ((*rc = oplog_store_datasets(rp->store, pruned_ds, rp)))
			return 0;
	}
	for (size_t i = 0; i < rp->n_pruned; i++) {
		const struct pruned *p = &rp->pruned[i];
		if (strlen(p->ds) == e->ds.len && memcmp(p->ds, e->ds.ptr, e->ds.len) == 0 &&
		    strlen(p->node) == e->node.len && memcmp(p->node, e->node.ptr, e->node.len) == 0)
			return e->seq <= p->through;
	}
	return 0;
}

static int found_cb(const struct oplog_entry *e, const void *msg, size_t len, void *arg)
{
	(void)e;
	(void)msg;
	(void)len;
	(void)arg;
	return 0;
}

/* Verify one message: valid by the intake's rule? in the store? Nothing
 * is ever in flight while verifying: the store is this thread's. */
static int check(struct replay *rp, rd_kafka_message_t *rkm)
{
	struct oplog_replay_result *r = rp->r;
	struct oplog_entry e;
	struct oplog_reject rej;
	int rc;

	rc = oplog_intake_check(rp->in, rkm->payload, rkm->len, &e, &rej);
	if (rc == OPLOG_EREJECT) {
		r->rejected++;
		if ((unsigned)rej.reason < OPLOG_R__COUNT)
			r->rejected_by[rej.reason]++;
		return 0;
	}
	if (rc)
		return rc;
	r->valid++;
	rc = oplog_store_get(rp->store, e.ds, e.hash, found_cb, NULL);
	if (rc == 0) {
		r->present++;
		return 0;
	}
	if (rc != OPLOG_ENOTFOUND)
		return rc;
	if (was_pruned(rp, &e, &rc)) {
		r->pruned++;
		return 0;
	}
	if (rc)
		return rc;
	r->missing++;
	for (size_t i = 0; i < r->n_missing_list; i++)   /* list each entry once */
		if (memcmp(r->missing_list[i].hash, e.hash, OPLOG_HASH_LEN) == 0)
			return 0;
	if (r->n_missing_list < rp->o->max_missing) {
		struct oplog_replay_missing *m = &r->missing_list[r->n_missing_list++];
		snprintf(m->dataset, sizeof(m->dataset), "%.*s", (int)e.ds.len,
		         (const char *)e.ds.ptr);
		memcpy(m->hash, e.hash, OPLOG_HASH_LEN);
	}
	return 0;
}

/* One polled message or event. Consumes rkm. */
static int take(struct replay *rp, rd_kafka_message_t *rkm)
{
	const char *topic = rd_kafka_topic_name(rkm->rkt);
	struct part *p = find_part(rp, topic, rkm->partition);
	struct oplog_source src = { topic, rkm->partition, rkm->offset };
	int rc = 0;

	if (rkm->err) {
		if (rkm->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET ||
		    rkm->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE)
			rc = oplog_error__set(OPLOG_EKAFKA, "%s/%" PRId32 ": offset %" PRId64 " is no "
			                      "longer on the broker (%s); replay a range that is",
			                      topic, rkm->partition, rkm->offset,
			                      rd_kafka_message_errstr(rkm));
		else if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF && p && rkm->offset >= p->end)
			p->next = p->end;   /* the range ends in records that are not messages */
		else if (rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF &&
		         oplog_clock_mono_ms() - rp->last_err_log >= 1000) {
			rp->last_err_log = oplog_clock_mono_ms();
			oplog_log(OPLOG_LOG_WARN, "kafka: %s (retrying)", rd_kafka_message_errstr(rkm));
		}
		rd_kafka_message_destroy(rkm);
		return rc;
	}
	if (p && rkm->offset >= p->end)
		p->next = p->end;   /* past the range: whatever was below is read */
	if (!p || rkm->offset < p->next || rkm->offset >= p->end) {
		rd_kafka_message_destroy(rkm);   /* outside the range, or seen */
		return 0;
	}
	p->next = rkm->offset + 1;
	rp->r->read++;
	if (rp->o->verify) {
		rc = check(rp, rkm);
		rd_kafka_message_destroy(rkm);
		return rc;
	}
	rc = oplog_intake_take(rp->in, rkm->payload, rkm->len, &src, rkm, NULL);
	if (rc) {
		rd_kafka_message_destroy(rkm);   /* a reject is copied; else a failure */
		if (rc != OPLOG_EREJECT)
			return rc;
	}
	/* Its batch is still the filling one: the cursor goes with it. */
	return oplog_batch_cursor(oplog_intake_batch(rp->in), p->topic, p->partition, p->next,
	                          p->end);
}

static void progress(struct replay *rp, int force)
{
	struct oplog_replay_progress pr = { 0 };
	int64_t now = oplog_clock_mono_ms();

	if (!rp->o->progress || (!force && now - rp->last_progress < rp->o->progress_ms))
		return;
	rp->last_progress = now;
	for (size_t i = 0; i < rp->n_parts; i++) {
		pr.done += (uint64_t)(rp->parts[i].next - rp->parts[i].first);
		pr.total += (uint64_t)(rp->parts[i].end - rp->parts[i].first);
	}
	pr.elapsed_ms = now - rp->started;
	pr.rate = pr.elapsed_ms > 0 ? (double)rp->r->read * 1000.0 / (double)pr.elapsed_ms : 0;
	rp->o->progress(&pr, rp->o->arg);
}

static int consume(struct replay *rp, const volatile sig_atomic_t *stop)
{
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)rp->n_parts);
	rd_kafka_resp_err_t err;
	int rc = 0;

	for (size_t i = 0; i < rp->n_parts; i++)
		if (rp->parts[i].next < rp->parts[i].end)
			rd_kafka_topic_partition_list_add(l, rp->parts[i].topic,
			                                  rp->parts[i].partition)->offset = rp->parts[i].next;
	err = rd_kafka_assign(rp->rk, l);
	rd_kafka_topic_partition_list_destroy(l);
	if (err)
		return oplog_error__set(OPLOG_EKAFKA, "assign: %s", rd_kafka_err2str(err));
	while (rc == 0 && !*stop && !all_done(rp)) {
		rd_kafka_message_t *rkm;

		if ((rc = oplog_intake_room(rp->in)))
			break;
		if ((rkm = rd_kafka_consumer_poll(rp->rk, (int)oplog_intake_wait_ms(rp->in, 100))))
			rc = take(rp, rkm);
		if (rc == 0)
			rc = oplog_intake_tick(rp->in, rkm == NULL);
		progress(rp, 0);
	}
	/* Done or interrupted: what was read is applied, with its cursors. */
	if (rc == 0)
		rc = oplog_intake_flush(rp->in);
	rd_kafka_assign(rp->rk, NULL);
	return rc;
}

static int new_consumer(struct replay *rp)
{
	rd_kafka_conf_t *conf = NULL;
	int rc;

	/* Manual assignment never joins a group, and nothing is committed;
	 * librdkafka still wants a group id for assign(), so it gets one of
	 * its own rather than the replica's. */
	if ((rc = oplog_kafka_consumer_conf(rp->cfg, &conf)))
		return rc;
	if ((rc = oplog_kafka_conf_set(conf, "group.id", "oplogd-replay", "oplogd", 0)) ||
	    (rc = oplog_kafka_consumer(&conf, &rp->rk))) {
		rd_kafka_conf_destroy(conf);
		return rc;
	}
	rd_kafka_poll_set_consumer(rp->rk);
	rp->q = rd_kafka_queue_get_consumer(rp->rk);
	return 0;
}

int oplog_replay_run(const struct oplog_config *cfg, struct oplog_store *s,
                     const struct oplog_replay_opts *o, const volatile sig_atomic_t *stop,
                     struct oplog_replay_result *r)
{
	struct replay rp = { .cfg = cfg, .store = s, .o = o, .r = r };
	struct oplog_kafka_partition *kp = NULL;
	struct oplog_intake_opts io;
	struct oplog_intake_stats is = { 0 };
	int rc;

	memset(r, 0, sizeof(*r));
	rp.started = rp.last_progress = oplog_clock_mono_ms();
	if (o->verify && o->max_missing &&
	    !(r->missing_list = calloc(o->max_missing, sizeof(*r->missing_list)))) {
		rc = oplog_error__set(OPLOG_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = oplog_lag_partitions(cfg, o->topic, 0, NULL, 10000, &kp, &rp.n_parts)) ||
	    (rc = new_consumer(&rp)))
		goto done;
	oplog_intake_opts_from_config(&io, cfg);
	io.arg = &rp;
	io.release = oplog_kafka__release_message;
	io.on_applied = on_applied;
	io.wake = wake;
	if ((rc = oplog_intake_new(&rp.in, s, &io)))
		goto done;
	if (!(rp.parts = calloc(rp.n_parts + 1, sizeof(*rp.parts)))) {
		rc = oplog_error__set(OPLOG_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < rp.n_parts; i++) {
		snprintf(rp.parts[i].topic, sizeof(rp.parts[i].topic), "%s", kp[i].topic);
		rp.parts[i].partition = kp[i].partition;
	}
	if ((rc = position(&rp, kp)))
		goto done;
	for (size_t i = 0; i < rp.n_parts; i++) {
		r->total += (uint64_t)(rp.parts[i].end - rp.parts[i].first);
		r->resumed_at += (uint64_t)(rp.parts[i].start - rp.parts[i].first);
	}
	progress(&rp, 1);
	if ((rc = consume(&rp, stop)))
		goto done;
	r->complete = all_done(&rp);
	progress(&rp, 1);
	if (r->complete && !o->verify)
		rc = oplog_store_cursor_reset(s, NULL);
done:
	if (rp.in)
		oplog_intake_stats(rp.in, &is);
	r->valid += o->verify ? 0 : is.messages - is.rejected;
	if (!o->verify) {
		r->rejected = is.rejected;
		memcpy(r->rejected_by, is.rejected_by, sizeof(r->rejected_by));
	}
	r->elapsed_ms = oplog_clock_mono_ms() - rp.started;
	/* The writer stops and the held messages go before the handle. */
	oplog_intake_free(rp.in);
	if (rp.q)
		rd_kafka_queue_destroy(rp.q);
	if (rp.rk) {
		rd_kafka_consumer_close(rp.rk);
		rd_kafka_destroy(rp.rk);
	}
	free(rp.parts);
	free(rp.pruned);
	oplog_lag_free(kp);
	return rc;
}

void oplog_replay_result_free(struct oplog_replay_result *r)
{
	free(r->missing_list);
	r->missing_list = NULL;
	r->n_missing_list = 0;
}
