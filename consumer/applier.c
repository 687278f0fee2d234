/*
 * applier.c: the consumer loop behind `oplogd apply` (oplog/applier.h).
 *
 * This thread polls and decodes into the filling batch (oplog/intake.h)
 * while the intake's writer thread applies the batch before it, with its
 * offsets, in one store transaction; only once that is committed are the
 * offsets due for the group. Messages of valid entries are held (not
 * copied) until their batch is applied, because the batch borrows their
 * bytes. Every librdkafka call, the rebalance callback included, runs on
 * this thread.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <librdkafka/rdkafka.h>

#include "applier_int.h"
#include "notify.h"
#include "oplog/bytes.h"
#include "oplog/clock.h"
#include "oplog/error.h"
#include "oplog/kafka.h"
#include "oplog/log.h"

/* Stop the run with err; the first fatal condition wins. */
static void set_fatal(struct oplog_applier *a, int err, const char *msg)
{
	if (a->fatal)
		return;
	a->fatal = err;
	snprintf(a->fatal_msg, sizeof(a->fatal_msg), "%s", msg);
}

static void post(struct oplog_applier *a, int store_free);

/* ---- batches -------------------------------------------------------------- */

static void list_free(rd_kafka_topic_partition_list_t *list)
{
	if (list)
		rd_kafka_topic_partition_list_destroy(list);
}

/* The filling batch went to the writer: its offsets are in flight. */
static void on_handoff(void *arg)
{
	struct oplog_applier *a = arg;

	rd_kafka_topic_partition_list_destroy(a->in_flight);
	a->in_flight = a->in_batch;
	a->in_batch = rd_kafka_topic_partition_list_new(8);
	a->flight_msgs = oplog_intake_in_flight(a->in);
}

/* At most one fork line per this many ms: a forking producer can make
 * thousands a second, and each is in the store (`forks`) anyway. */
#define FORK_LOG_MS 10000

/* Say that forks or chain breaks were stored, with the counts since the
 * last such line: at once after a quiet spell, then at most once per
 * FORK_LOG_MS; force (at stop) says what is left. */
static void log_forks(struct oplog_applier *a, int force)
{
	int64_t now = oplog_clock_mono_ms();

	if (a->forks_unlogged == 0 && a->breaks_unlogged == 0)
		return;
	if (!force && a->last_fork_log && now - a->last_fork_log < FORK_LOG_MS)
		return;
	oplog_log(OPLOG_LOG_WARN, "%" PRIu64 " forks and %" PRIu64 " chain breaks stored since "
	          "the last such line (see `oplogd forks`; one line per %ds at most)",
	          a->forks_unlogged, a->breaks_unlogged, FORK_LOG_MS / 1000);
	a->forks_unlogged = a->breaks_unlogged = 0;
	a->last_fork_log = now;
}

/*
 * The batch in flight is finished. Committed: its offsets are due for the
 * group commit. Failed: that is fatal; nothing of the batch is applied and
 * the group is not told, so a restart resumes from the store's offsets.
 * The writer is idle here, so this is where the store is read for the
 * metrics page while batches keep coming.
 */
static void on_applied(void *arg, int rc, const struct oplog_apply_stats *as, double secs)
{
	struct oplog_applier *a = arg;

	a->st.commit_hist[oplog_metrics_commit_bucket(secs)]++;
	a->st.commit_sum += secs;
	if (rc) {
		char msg[400];
		snprintf(msg, sizeof(msg), "applying a batch of %zu messages failed: %s",
		         a->flight_msgs, oplog_error_last());
		set_fatal(a, rc, msg);
		return;
	}
	oplog_apply_stats_add(&a->st.store, as);
	a->forks_unlogged += as->forks;
	a->breaks_unlogged += as->chain_breaks;
	log_forks(a, 0);
	for (int i = 0; i < a->in_flight->cnt; i++) {
		rd_kafka_topic_partition_t *p = &a->in_flight->elems[i];
		oplog_applier__list_set(a->to_commit, p->topic, p->partition, p->offset);
		oplog_applier__list_set(a->applied, p->topic, p->partition, p->offset);
	}
	rd_kafka_topic_partition_list_destroy(a->in_flight);
	a->in_flight = rd_kafka_topic_partition_list_new(8);
	a->flight_msgs = 0;
	a->store_commit_ms = oplog_clock_mono_ms();
	/* Under steady load the writer is rarely idle when the loop posts:
	 * the store is read here, between two batches, when it is due. */
	if (a->monitor && a->store_commit_ms >= a->store_due)
		post(a, 1);
}

/* On the writer's thread: a batch is done, cut the poll short. */
static void wake(void *arg)
{
	struct oplog_applier *a = arg;

	rd_kafka_queue_yield(a->q);
}

/* ---- errors ----------------------------------------------------------------- */

/* Log transient errors at most once a second, counting the rest. */
void oplog_applier__transient(struct oplog_applier *a, const char *what, const char *reason)
{
	int64_t now = oplog_clock_mono_ms();

	a->st.kafka_errors++;
	snprintf(a->broker_error, sizeof(a->broker_error), "%s: %s", what, reason);
	if (now - a->last_err_log < 1000) {
		a->errs_suppressed++;
		return;
	}
	oplog_log(OPLOG_LOG_WARN, "kafka: %s: %s (retrying; %" PRIu64 " more since the last "
	          "line)", what, reason, a->errs_suppressed);
	a->errs_suppressed = 0;
	a->last_err_log = now;
}

/*
 * A TLS handshake failed over a certificate: the broker's was refused
 * (not signed by a CA in ssl.ca.location, or not naming the host), or the
 * broker refused ours. That is configuration, not a passing condition:
 * librdkafka reads its CAs and keys once, when the client is made, so no
 * retry succeeds until the broker's certificate or oplogd's configuration
 * changes, and the latter needs a restart anyway. So it is fatal at any
 * time, not only before a first broker was reached: a broker that later
 * presents a certificate we refuse would otherwise stall its partitions
 * behind rate-limited warnings. Other handshake failures (under OpenSSL 3
 * a peer closing mid-handshake is an SSL error, "unexpected eof") are
 * retried like any lost connection.
 */
static int tls_refused(int err, const char *reason)
{
	return err == RD_KAFKA_RESP_ERR__SSL && strstr(reason, "certificate") != NULL;
}

/* One line naming the broker (librdkafka's reason starts with its name),
 * what to check, and librdkafka's reason. */
static void tls_fatal(struct oplog_applier *a, const char *reason)
{
	const char *sep = strstr(reason, ": ");
	const char *why = sep ? sep + 2 : reason;
	int name_len = sep ? (int)(sep - reason) : 0;
	const char *check = strstr(why, "verif") ?
	                    "check [kafka] ssl.ca.location: it must hold the CA that signed the "
	                    "broker's certificate, which must name the broker's host" :
	                    "check the [kafka] ssl.* settings against the broker's";
	char msg[512];

	snprintf(msg, sizeof(msg), "kafka: TLS handshake with %s%.*s failed (%s): %s",
	         sep ? "broker " : "a broker", name_len, reason, check, why);
	set_fatal(a, OPLOG_EKAFKA, msg);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct oplog_applier *a = opaque;
	char msg[512];

	if (err == RD_KAFKA_RESP_ERR__FATAL) {
		char fatal[256];
		rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
		snprintf(msg, sizeof(msg), "kafka: fatal: %s", fatal);
		set_fatal(a, OPLOG_EKAFKA, msg);
	} else if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION ||
	           err == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED ||
	           err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
	           err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED) {
		snprintf(msg, sizeof(msg), "kafka: %s", reason);
		set_fatal(a, OPLOG_EKAFKA, msg);
	} else if (tls_refused(err, reason)) {
		tls_fatal(a, reason);
	} else {
		oplog_applier__transient(a, rd_kafka_err2name(err), reason);
	}
}

/*
 * librdkafka's statistics (every second): the newest reply any broker
 * that is up has sent, from its "rxidle" (microseconds since the last
 * bytes received on its connection). Fetches are answered at least every
 * fetch.wait.max.ms even with nothing new, so a quiet but reachable
 * cluster keeps this fresh; an unreachable one lets it age, which is what
 * /healthz and the lag's "unknown" go by.
 */
static int on_stats(rd_kafka_t *rk, char *text, size_t len, void *opaque)
{
	struct oplog_applier *a = opaque;
	int64_t now = oplog_clock_mono_ms();
	json_t *doc = json_loadb(text, len, 0, NULL), *b;
	const char *name;

	(void)rk;
	json_object_foreach(json_object_get(doc, "brokers"), name, b) {
		const char *state = json_string_value(json_object_get(b, "state"));
		json_int_t idle = json_integer_value(json_object_get(b, "rxidle"));

		if (state && strcmp(state, "UP") == 0 && json_is_integer(json_object_get(b, "rxidle")) &&
		    idle >= 0 && now - idle / 1000 > a->reply_ms)
			a->reply_ms = now - idle / 1000;
	}
	json_decref(doc);
	return 0;   /* librdkafka frees text */
}

/* ---- messages ----------------------------------------------------------- */

static void dead_letter(struct oplog_applier *a, const rd_kafka_message_t *rkm)
{
	rd_kafka_resp_err_t err;

	if (!a->dlq)
		return;
	err = rd_kafka_producev(a->dlq, RD_KAFKA_V_TOPIC(a->dlq_topic),
	                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
	                        RD_KAFKA_V_VALUE(rkm->payload, rkm->len),
	                        RD_KAFKA_V_KEY(rkm->key, rkm->key_len), RD_KAFKA_V_END);
	if (err)
		oplog_applier__transient(a, "dead letter", rd_kafka_err2str(err));
}

/*
 * Restart one assigned partition at offset. A partition whose fetch has
 * failed cannot be seeked, so it is assigned anew: alone under the
 * cooperative protocol, or, under the eager one, the whole assignment
 * again, every other partition at the next offset not yet seen.
 */
static void restart_at(struct oplog_applier *a, const char *topic, int32_t partition,
                       int64_t offset)
{
	rd_kafka_topic_partition_list_t *one = rd_kafka_topic_partition_list_new(1);
	rd_kafka_error_t *e = NULL;
	rd_kafka_resp_err_t err = 0;

	oplog_applier__list_set(one, topic, partition, offset);
	oplog_applier__list_set(a->pos, topic, partition, offset);
	if (strcmp(rd_kafka_rebalance_protocol(a->rk), "COOPERATIVE") == 0) {
		if (!(e = rd_kafka_incremental_unassign(a->rk, one)))
			e = rd_kafka_incremental_assign(a->rk, one);
	} else {
		err = rd_kafka_assign(a->rk, a->pos);
	}
	if (e || err)
		oplog_applier__transient(a, "assign", e ? rd_kafka_error_string(e) : rd_kafka_err2str(err));
	if (e)
		rd_kafka_error_destroy(e);
	rd_kafka_topic_partition_list_destroy(one);
}

/*
 * A stored offset is gone from the broker: go on from the earliest
 * available offset, recording the lost range in the store with the next
 * batch, or stop, as configured.
 */
static void offset_lost(struct oplog_applier *a, rd_kafka_message_t *rkm)
{
	const char *topic = rd_kafka_topic_name(rkm->rkt);
	int64_t lo = 0, hi = 0;
	char msg[400];
	int rc;

	snprintf(msg, sizeof(msg), "%s/%" PRId32 ": offset %" PRId64 " is no longer on the "
	         "broker (%s)", topic, rkm->partition, rkm->offset, rd_kafka_message_errstr(rkm));
	/* Without the watermarks nothing can be decided: fetch the same
	 * offset again, which brings this back until the broker answers. */
	if (rd_kafka_query_watermark_offsets(a->rk, topic, rkm->partition, &lo, &hi, 10000)) {
		oplog_applier__transient(a, "watermarks", msg);
		if (rkm->offset >= 0)
			restart_at(a, topic, rkm->partition, rkm->offset);
		return;
	}
	/* A leader that is behind can refuse an offset it has after all
	 * (librdkafka 2.0.2 does not validate positions): nothing is lost. */
	if (rkm->offset >= lo && rkm->offset <= hi) {
		oplog_applier__transient(a, "offset out of range", msg);
		restart_at(a, topic, rkm->partition, rkm->offset);
		return;
	}
	a->st.offset_resets++;
	if (a->stop_on_lost) {
		set_fatal(a, OPLOG_EKAFKA, msg);
		return;
	}
	if (rkm->offset >= 0 && rkm->offset < lo)
		oplog_log(OPLOG_LOG_WARN, "%s; offsets %" PRId64 " to %" PRId64 " (%" PRId64
		          " messages) are lost, continuing from the earliest available, %" PRId64,
		          msg, rkm->offset, lo - 1, lo - rkm->offset, lo);
	else
		oplog_log(OPLOG_LOG_WARN, "%s; the partition's offsets went backwards (deleted and "
		          "created again?), continuing from the earliest available, %" PRId64, msg, lo);
	if (rkm->offset >= 0) {
		if ((rc = oplog_batch_lost(oplog_intake_batch(a->in), topic, rkm->partition,
		                           rkm->offset, lo))) {
			set_fatal(a, rc, oplog_error_last());
			return;
		}
		oplog_applier__list_set(a->in_batch, topic, rkm->partition, lo);
	}
	restart_at(a, topic, rkm->partition, lo);
}

/* Take one polled message: the message into the filling batch, its offset
 * with it, or an error to handle. Consumes rkm. */
static void take(struct oplog_applier *a, rd_kafka_message_t *rkm)
{
	const char *topic = rd_kafka_topic_name(rkm->rkt);
	int32_t partition = rkm->partition;
	int64_t next = rkm->offset + 1;
	struct oplog_source src = { topic, partition, rkm->offset };
	int rc, rejected = 0;

	if (rkm->err) {
		if (rkm->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET ||
		    rkm->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE)
			offset_lost(a, rkm);
		else if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
			oplog_applier__at_end(a, topic, partition, rkm->offset);
		else
			oplog_applier__transient(a, rd_kafka_err2name(rkm->err), rd_kafka_message_errstr(rkm));
		rd_kafka_message_destroy(rkm);
		return;
	}
	oplog_log(OPLOG_LOG_DEBUG, "consumed %s/%" PRId32 "/%" PRId64, topic, partition,
	          rkm->offset);
	rc = oplog_intake_take(a->in, rkm->payload, rkm->len, &src, rkm, NULL);
	if (rc == OPLOG_EREJECT) {
		rejected = 1;
		dead_letter(a, rkm);
	} else if (rc) {
		rd_kafka_message_destroy(rkm);
		set_fatal(a, rc, oplog_error_last());
		return;
	}
	/* Its batch is still the filling one. The topic name belongs to the
	 * message, which is alive until then either way. */
	if ((rc = oplog_batch_offset(oplog_intake_batch(a->in), topic, partition, next)) == 0) {
		oplog_applier__list_set(a->in_batch, topic, partition, next);
		oplog_applier__list_set(a->pos, topic, partition, next);
	}
	if (rejected)
		rd_kafka_message_destroy(rkm);
	if (rc)
		set_fatal(a, rc, oplog_error_last());
}

/* ---- metrics and progress ------------------------------------------------ */

/*
 * The lag of every assigned partition: its high watermark, as the fetcher
 * last saw it, minus the next offset the store holds; unknown (-1) when
 * no watermark has been seen or no broker has replied within the health
 * grace (the watermark is stale then). Kept in a->lags with the high
 * watermark, the store's next offset and the offset the group last
 * accepted, summed in a->lag over the known ones, and the
 * unknown ones counted in a->lag_unknown.
 */
static void partition_lag(struct oplog_applier *a, int64_t now)
{
	a->lag = 0;
	a->lag_unknown = 0;
	a->n_lags = 0;
	for (int i = 0; i < a->pos->cnt; i++) {
		const rd_kafka_topic_partition_t *p = &a->pos->elems[i], *done, *c;
		struct oplog_metrics_partition *m;
		int64_t lo = -1, hi = -1, next;

		if (rd_kafka_get_watermark_offsets(a->rk, p->topic, p->partition, &lo, &hi) != 0)
			hi = -1;   /* not fetched from yet */
		done = rd_kafka_topic_partition_list_find(a->applied, p->topic, p->partition);
		next = done ? done->offset : lo > 0 ? lo : 0;
		if (a->n_lags == a->cap_lags) {
			size_t cap = a->cap_lags ? 2 * a->cap_lags : 16;
			struct oplog_metrics_partition *v = realloc(a->lags, cap * sizeof(*v));
			if (!v) {
				a->lag_unknown++;   /* the page goes without it */
				continue;
			}
			a->lags = v;
			a->cap_lags = cap;
		}
		m = &a->lags[a->n_lags++];
		snprintf(m->topic, sizeof(m->topic), "%s", p->topic);
		m->partition = p->partition;
		m->high = hi;
		m->stored = next;
		m->lag = -1;
		if (oplog_metrics_lag_known(hi, a->reply_ms, now, a->grace_ms)) {
			m->lag = hi > next ? hi - next : 0;
			a->lag += m->lag;
		} else {
			a->lag_unknown++;
		}
		c = rd_kafka_topic_partition_list_find(a->committed, p->topic, p->partition);
		m->committed = c ? c->offset : -1;
	}
}

/* Keep one of the last rejects for the status page. */
static int reject_fn(const struct oplog_reject_rec *r, void *arg)
{
	struct oplog_applier *a = arg;
	struct oplog_metrics_reject *m;
	const char *reason = oplog_reason_name(r->reason), *field = oplog_field_name(r->field);

	if (a->n_rejects == OPLOG_METRICS_REJECTS)
		return 0;
	m = &a->rejects[a->n_rejects++];
	m->id = r->id;
	m->time_ms = r->time_ms;
	m->size = r->size;
	snprintf(m->source, sizeof(m->source), "%.*s", (int)r->source.len,
	         (const char *)r->source.ptr);
	snprintf(m->reason, sizeof(m->reason), "%s", reason ? reason : "");
	snprintf(m->field, sizeof(m->field), "%s", field ? field : "");
	snprintf(m->detail, sizeof(m->detail), "%.*s", (int)r->detail.len,
	         (const char *)r->detail.ptr);
	return 0;
}

/*
 * Read the per-dataset gauges, the store's sizes and the last rejects for
 * the pages to come
 * (*v, *n: the datasets, or NULL). Reads the store: only while the writer
 * does not have it. A read costs about a millisecond per thousand
 * datasets, so the next one is due after fifty times what this one took
 * (at least a second): the apply loop spends at most 2% of its time here.
 */
static void read_store(struct oplog_applier *a, int64_t now,
                       struct oplog_metrics_dataset **v, size_t *n)
{
	struct oplog_stats st;
	int64_t took;

	/* On a failure, what was read before it is shown. */
	if (oplog_metrics_datasets(a->store, v, n))
		oplog_log(OPLOG_LOG_WARN, "metrics: reading node states: %s", oplog_error_last());
	if (oplog_store_stats(a->store, &st) == 0) {
		a->store_bytes = st.store_bytes;
		a->rejects_kept = st.rejects_kept;
	}
	a->n_rejects = 0;
	if (oplog_store_rejects(a->store, OPLOG_METRICS_REJECTS, reject_fn, a))
		oplog_log(OPLOG_LOG_WARN, "metrics: reading rejects: %s", oplog_error_last());
	took = oplog_clock_mono_ms() - now;
	a->store_due = now + (took * 50 > 1000 ? took * 50 : 1000);
}

/* Take the snapshot and post it to the monitor thread, which renders
 * the page and judges health (monitor.c). The store is read when due and
 * free: the writer idle, or store_free when the caller knows it is. */
static void post(struct oplog_applier *a, int store_free)
{
	struct oplog_metrics_snapshot snap;
	struct oplog_metrics_dataset *v = NULL;
	int64_t now = oplog_clock_mono_ms();
	size_t n = 0;

	a->last_post = now;
	if ((store_free || !oplog_intake_busy(a->in)) && now >= a->store_due)
		read_store(a, now, &v, &n);
	partition_lag(a, now);
	memset(&snap, 0, sizeof(snap));
	oplog_applier_stats(a, &snap.st);
	snap.parts = a->lags;
	snap.n_parts = a->n_lags;
	snap.max_datasets = a->max_datasets;
	snap.started_ms = a->started_ms;
	snap.taken_ms = now;
	snap.unassigned_ms = a->unassigned_ms;
	snap.reply_ms = a->reply_ms;
	snap.store_commit_ms = a->store_commit_ms;
	snap.group_commit_ms = a->group_commit_ms;
	snap.store_bytes = a->store_bytes;
	snap.rejects_kept = a->rejects_kept;
	snap.failure = a->fatal ? a->fatal_msg : NULL;
	snap.broker_error = *a->broker_error ? a->broker_error : NULL;
	snap.bootstrap = oplog_kafka_get(a->cfg, "bootstrap.servers");
	snap.store_path = a->cfg->store.path;
	snap.group = oplog_kafka_get(a->cfg, "group.id");
	snap.rejects = a->rejects;
	snap.n_rejects = a->n_rejects;
	oplog_monitor__post(a->monitor, &snap, v, n);
}

/* The progress line's lag: a number only when every partition's is known. */
static void lag_text(const struct oplog_applier *a, char *buf, size_t len)
{
	if (a->n_lags == 0 && a->lag_unknown == 0)
		snprintf(buf, len, "lag unknown (no partition assigned)");
	else if (a->lag_unknown)
		snprintf(buf, len, "lag unknown (%d of %zu partitions without a current high "
		         "watermark)", a->lag_unknown, a->n_lags);
	else
		snprintf(buf, len, "lag %" PRId64, a->lag);
}

static void progress(struct oplog_applier *a)
{
	int64_t now = oplog_clock_mono_ms(), dt = now - a->last_progress;
	struct oplog_applier_stats st;
	const struct oplog_intake_stats *is = &st.intake;
	char lag[120];

	if (a->monitor && now - a->last_post >= 1000)
		post(a, 0);
	/* systemd's STATUS=: once a second, whatever progress_interval is. */
	if (oplog_notify__status_due(now)) {
		if (!a->monitor)
			partition_lag(a, now);
		lag_text(a, lag, sizeof(lag));
		oplog_notify__status(now, a->st.store.applied, lag);
	}
	if (a->progress_ms <= 0 || dt < a->progress_ms)
		return;
	if (!a->monitor)
		partition_lag(a, now);
	lag_text(a, lag, sizeof(lag));
	oplog_applier_stats(a, &st);
	oplog_log(OPLOG_LOG_INFO, "progress: %" PRIu64 " messages, %" PRIu64 " applied (%.0f/s), "
	          "%s, %" PRIu64 " duplicates, %" PRIu64 " late, %" PRIu64 " rejected, %"
	          PRIu64 " batches (%" PRIu64 " idle, %" PRIu64 " full, %" PRIu64 " timed), %" PRIu64
	          " commits", is->messages, st.store.applied,
	          (double)(st.store.applied - a->progress_applied) * 1000.0 / (double)(dt ? dt : 1),
	          lag, st.store.duplicates, st.store.late, is->rejected, is->batches,
	          is->handed[OPLOG_HANDOFF_IDLE],
	          is->handed[OPLOG_HANDOFF_COUNT] + is->handed[OPLOG_HANDOFF_BYTES],
	          is->handed[OPLOG_HANDOFF_TIME], st.commits);
	a->progress_applied = st.store.applied;
	a->last_progress = now;
}

/* A reload was asked for: take the reloadable keys from a fresh load. */
static void reload(struct oplog_applier *a)
{
	struct oplog_config *cfg = NULL;

	a->reload_seen = *a->reload_count;
	if (a->reload_fn(a->reload_arg, &cfg) != 0) {
		oplog_log(OPLOG_LOG_WARN, "reload: the configuration is unchanged: %s",
		          oplog_error_last());
		return;
	}
	oplog_log_setup_from(cfg);
	a->progress_ms = cfg->log.progress_interval;
	oplog_config_free(cfg);
}

void oplog_applier_set_reload(struct oplog_applier *a, const volatile sig_atomic_t *count,
                              oplog_applier_reload_fn fn, void *arg)
{
	a->reload_count = count;
	a->reload_seen = *count;
	a->reload_fn = fn;
	a->reload_arg = arg;
}

/*
 * The loop. A poll that returns nothing means nothing more is waiting: the
 * filling batch then goes to the writer if it is free (else as soon as it
 * is: the writer's wake cuts the next poll short). While the writer works,
 * polls block for at most 100 ms, so commits, progress and the metrics
 * page keep their pace; with both batches full, the loop waits for the
 * writer before it polls again.
 */
int oplog_applier_run(struct oplog_applier *a, const volatile sig_atomic_t *stop)
{
	struct oplog_intake_stats is;

	a->last_commit = a->last_progress = oplog_clock_mono_ms();
	if (a->monitor)
		post(a, 0);
	/* The store is open and the consumer subscribed. */
	oplog_notify__ready(a->last_progress, "subscribed, waiting for partitions");
	while (!*stop && !a->fatal) {
		rd_kafka_message_t *rkm;
		int64_t wait;

		/* Nothing is polled that cannot join a batch at once. (A
		 * failure reaches on_applied, which makes it fatal.) */
		if (oplog_intake_room(a->in))
			break;
		wait = oplog_intake_wait_ms(a->in, 100);
		if ((rkm = rd_kafka_consumer_poll(a->rk, (int)wait)) != NULL)
			take(a, rkm);
		/* A failure has reached on_applied, which made it fatal. */
		if (!a->fatal)
			oplog_intake_tick(a->in, rkm == NULL);
		if (oplog_clock_mono_ms() - a->last_commit >= a->commit_ms)
			oplog_applier__commit(a, 1);
		if (a->dlq)
			rd_kafka_poll(a->dlq, 0);
		if (a->reload_count && *a->reload_count != a->reload_seen)
			reload(a);
		progress(a);
		/* Fed only from here: a loop that stops turning is restarted. */
		oplog_notify__watchdog(oplog_clock_mono_ms());
	}
	oplog_notify__stopping(a->fatal ? a->fatal_msg : NULL);
	/* Stopping: the batches first, then the group, then the consumer. */
	if (!a->fatal && oplog_intake_flush(a->in) == 0)
		oplog_applier__commit(a, 0);
	log_forks(a, 1);
	if (a->dlq)
		rd_kafka_flush(a->dlq, 10000);
	rd_kafka_consumer_close(a->rk);
	if (a->monitor)
		post(a, 0);   /* /healthz shows the failure while the process ends */
	if (a->fatal) {
		oplog_log(OPLOG_LOG_ERROR, "%s", a->fatal_msg);
		return oplog_error__set(a->fatal, "%s", a->fatal_msg);
	}
	oplog_intake_stats(a->in, &is);
	oplog_log(OPLOG_LOG_INFO, "stopped: %" PRIu64 " messages, %" PRIu64 " applied, %" PRIu64
	          " rejected, %" PRIu64 " batches", is.messages, a->st.store.applied, is.rejected,
	          is.batches);
	return 0;
}

/* ---- setup ---------------------------------------------------------------- */

int oplog_applier_new(struct oplog_applier **out, const struct oplog_config *cfg,
                      struct oplog_store *store)
{
	struct oplog_applier *a = NULL;
	rd_kafka_conf_t *conf = NULL;
	rd_kafka_topic_partition_list_t *topics = NULL;
	struct oplog_intake_opts io;
	const char *const *names, *listen_addr;
	size_t n_names;
	rd_kafka_resp_err_t err;
	int rc;

	*out = NULL;
	if (!oplog_kafka_has(cfg, "group.id"))
		return oplog_error__set(OPLOG_ECONFIG, "[kafka] group.id is required for apply");
	if (!(a = calloc(1, sizeof(*a))))
		return oplog_error__set(OPLOG_ENOMEM, "out of memory");
	a->cfg = cfg;
	a->store = store;
	oplog_hex(oplog_store_id(store), OPLOG_STORE_ID_LEN, a->store_id);
	a->commit_ms = cfg->apply.commit_interval;
	a->progress_ms = cfg->log.progress_interval;
	a->fresh_latest = cfg->apply.fresh_start == OPLOG_FRESH_START_LATEST;
	a->stop_on_lost = cfg->apply.on_offset_lost == OPLOG_OFFSET_LOST_STOP;
	a->dlq_topic = cfg->apply.dead_letter_topic;
	a->in_batch = rd_kafka_topic_partition_list_new(8);
	a->in_flight = rd_kafka_topic_partition_list_new(8);
	a->to_commit = rd_kafka_topic_partition_list_new(8);
	a->pos = rd_kafka_topic_partition_list_new(8);
	a->applied = rd_kafka_topic_partition_list_new(8);
	a->committed = rd_kafka_topic_partition_list_new(8);
	a->grace_ms = cfg->metrics.health_grace;
	a->max_datasets = (size_t)cfg->metrics.max_datasets;
	a->started_ms = a->unassigned_ms = oplog_clock_mono_ms();
	a->reply_ms = a->store_commit_ms = a->group_commit_ms = -1;

	if ((rc = oplog_kafka_consumer_conf(cfg, &conf)))
		goto done;
	/* Eager assignment unless the user chose otherwise: the cooperative
	 * assignor has known bugs in librdkafka 2.0. */
	if (!oplog_kafka_has(cfg, "partition.assignment.strategy") &&
	    (rc = oplog_kafka_conf_set(conf, "partition.assignment.strategy", "range,roundrobin",
	                               "oplogd", 0)))
		goto done;
	rd_kafka_conf_set_opaque(conf, a);
	rd_kafka_conf_set_rebalance_cb(conf, oplog_applier__on_rebalance);
	rd_kafka_conf_set_error_cb(conf, on_error);
	rd_kafka_conf_set_stats_cb(conf, on_stats);
	/* The statistics say when a broker last replied (on_stats), which
	 * health and the lag's "unknown" go by: a second apart whatever
	 * [kafka] says, since oplogd shows them nowhere else. */
	if ((rc = oplog_kafka_conf_set(conf, "statistics.interval.ms", "1000", "oplogd", 0)))
		goto done;
	rd_kafka_conf_set_offset_commit_cb(conf, oplog_applier__on_commit);
	if ((rc = oplog_kafka_consumer(&conf, &a->rk)))
		goto done;
	rd_kafka_poll_set_consumer(a->rk);
	a->q = rd_kafka_queue_get_consumer(a->rk);

	oplog_intake_opts_from_config(&io, cfg);
	io.arg = a;
	io.release = oplog_kafka__release_message;
	io.on_handoff = on_handoff;
	io.on_applied = on_applied;
	io.wake = wake;
	if ((rc = oplog_intake_new(&a->in, store, &io)))
		goto done;

	if (*a->dlq_topic && (rc = oplog_kafka_producer(cfg, NULL, NULL, &a->dlq)))
		goto done;
	listen_addr = cfg->metrics.listen;
	/* The endpoint's own staleness limit catches a dead monitor thread;
	 * the monitor judges the apply loop (oplog_metrics_health). */
	if (*listen_addr && ((rc = oplog_httpd_start(&a->httpd, listen_addr, a->grace_ms)) ||
	                     (rc = oplog_monitor__start(&a->monitor, a->httpd, a->grace_ms))))
		goto done;

	names = cfg->apply.topics.items;
	n_names = cfg->apply.topics.n;
	topics = rd_kafka_topic_partition_list_new((int)n_names);
	for (size_t i = 0; i < n_names; i++)
		rd_kafka_topic_partition_list_add(topics, names[i], RD_KAFKA_PARTITION_UA);
	if ((err = rd_kafka_subscribe(a->rk, topics))) {
		rc = oplog_error__set(OPLOG_EKAFKA, "subscribe: %s", rd_kafka_err2str(err));
		goto done;
	}
	*out = a;
	a = NULL;
	rc = 0;
done:
	if (topics)
		rd_kafka_topic_partition_list_destroy(topics);
	if (conf)
		rd_kafka_conf_destroy(conf);
	oplog_applier_free(a);
	return rc;
}

void oplog_applier_stats(const struct oplog_applier *a, struct oplog_applier_stats *out)
{
	*out = a->st;
	oplog_intake_stats(a->in, &out->intake);
}

void oplog_applier_free(struct oplog_applier *a)
{
	if (!a)
		return;
	/* The writer stops and the held messages go before the handle. */
	oplog_intake_free(a->in);
	if (a->q)
		rd_kafka_queue_destroy(a->q);
	if (a->rk)
		rd_kafka_destroy(a->rk);
	if (a->dlq)
		rd_kafka_destroy(a->dlq);
	list_free(a->in_batch);
	list_free(a->in_flight);
	list_free(a->to_commit);
	list_free(a->pos);
	list_free(a->applied);
	oplog_monitor__stop(a->monitor);
	oplog_httpd_stop(a->httpd);
	list_free(a->committed);
	free(a->lags);
	free(a);
}
