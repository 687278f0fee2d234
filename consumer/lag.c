/*
 * lag.c: partitions, watermarks and the group's committed offsets
 * (oplog/lag.h), read without joining the group.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "oplog/error.h"
#include "oplog/kafka.h"
#include "oplog/lag.h"

/*
 * The last error the client reported, as " (REASON)", or "": a request's
 * result only says that it failed ("Broker transport failure"), the
 * client's error events say why (a refused connection, a TLS certificate
 * not trusted). "All brokers are down" says neither and is skipped.
 */
struct last_error {
	char text[400];
};

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct last_error *e = opaque;

	(void)rk;
	if (err != RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
		snprintf(e->text, sizeof(e->text), " (%s)", reason);
}

/* Serves the error events queued while a request blocked. */
static const char *why(rd_kafka_t *rk)
{
	rd_kafka_poll(rk, 0);
	return ((struct last_error *)rd_kafka_opaque(rk))->text;
}

/* Append the partitions of one topic, from the broker's metadata. */
static int topic_partitions(rd_kafka_t *rk, const char *name, int timeout_ms,
                            rd_kafka_topic_partition_list_t *list)
{
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, name, NULL);
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t err;
	int rc = 0;

	if (!rkt)
		return oplog_error__set(OPLOG_EKAFKA, "topic %s: %s", name,
		                        rd_kafka_err2str(rd_kafka_last_error()));
	err = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
	if (err)
		rc = oplog_error__set(OPLOG_EKAFKA, "metadata for topic %s: %s%s", name,
		                      rd_kafka_err2str(err), why(rk));
	else if (md->topic_cnt != 1 || md->topics[0].err || md->topics[0].partition_cnt == 0)
		rc = oplog_error__set(OPLOG_ENOTFOUND, "topic %s: %s", name,
		                      md->topic_cnt == 1 && md->topics[0].err ?
		                      rd_kafka_err2str(md->topics[0].err) : "no partitions");
	for (int i = 0; rc == 0 && i < md->topics[0].partition_cnt; i++)
		rd_kafka_topic_partition_list_add(list, name, md->topics[0].partitions[i].id);
	if (md)
		rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(rkt);
	return rc;
}

int oplog_lag_partitions(const struct oplog_config *cfg, const char *topic, int group,
                         const char *store_id, int timeout_ms,
                         struct oplog_kafka_partition **out, size_t *n)
{
	rd_kafka_conf_t *conf = NULL;
	rd_kafka_t *rk = NULL;
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(8);
	struct oplog_kafka_partition *res = NULL;
	struct last_error last = { "" };
	const char *const *names = &topic;
	size_t n_names = 1;
	int rc;

	*out = NULL;
	*n = 0;
	if (!topic) {
		names = cfg->apply.topics.items;
		n_names = cfg->apply.topics.n;
	}
	if (group && !oplog_kafka_has(cfg, "group.id")) {
		rc = oplog_error__set(OPLOG_ECONFIG, "[kafka] group.id is required");
		goto done;
	}
	if ((rc = oplog_kafka_consumer_conf(cfg, &conf)))
		goto done;
	rd_kafka_conf_set_error_cb(conf, on_error);
	rd_kafka_conf_set_opaque(conf, &last);
	if ((rc = oplog_kafka_consumer(&conf, &rk)))
		goto done;
	for (size_t i = 0; i < n_names; i++)
		if ((rc = topic_partitions(rk, names[i], timeout_ms, list)))
			goto done;
	rd_kafka_topic_partition_list_sort(list, NULL, NULL);
	if (group) {
		rd_kafka_resp_err_t err = rd_kafka_committed(rk, list, timeout_ms);
		if (err) {
			rc = oplog_error__set(OPLOG_EKAFKA, "the group's committed offsets: %s%s",
			                      rd_kafka_err2str(err), why(rk));
			goto done;
		}
	}
	if (!(res = calloc((size_t)list->cnt + 1, sizeof(*res)))) {
		rc = oplog_error__set(OPLOG_ENOMEM, "out of memory");
		goto done;
	}
	for (int i = 0; i < list->cnt; i++) {
		const rd_kafka_topic_partition_t *p = &list->elems[i];
		struct oplog_kafka_partition *r = &res[i];
		rd_kafka_resp_err_t err;

		snprintf(r->topic, sizeof(r->topic), "%s", p->topic);
		r->partition = p->partition;
		r->committed = group && p->offset >= 0 ? p->offset : -1;
		r->committed_by_store = r->committed >= 0 &&
		                        oplog_lag_by_store(p->metadata, p->metadata_size, store_id);
		err = rd_kafka_query_watermark_offsets(rk, p->topic, p->partition, &r->low,
		                                       &r->high, timeout_ms);
		if (err) {
			rc = oplog_error__set(OPLOG_EKAFKA, "watermarks of %s/%d: %s%s", p->topic,
			                      (int)p->partition, rd_kafka_err2str(err), why(rk));
			goto done;
		}
	}
	*n = (size_t)list->cnt;
	*out = res;
	res = NULL;
	rc = 0;
done:
	free(res);
	rd_kafka_topic_partition_list_destroy(list);
	if (conf)
		rd_kafka_conf_destroy(conf);
	if (rk)
		rd_kafka_destroy(rk);
	return rc;
}

void oplog_lag_free(struct oplog_kafka_partition *p)
{
	free(p);
}

int oplog_lag_by_store(const void *meta, size_t len, const char *store_id)
{
	return store_id && meta && len == strlen(store_id) && memcmp(meta, store_id, len) == 0;
}

struct oplog_resume oplog_lag_resume(int64_t stored, int64_t committed, int by_store,
                                     int fresh_latest)
{
	struct oplog_resume r = { fresh_latest ? OPLOG_RESUME_LATEST : OPLOG_RESUME_EARLIEST, -1,
	                          "no stored or group offset" };

	if (stored >= 0)
		return (struct oplog_resume){ OPLOG_RESUME_STORE, stored, NULL };
	if (committed >= 0 && by_store)
		return (struct oplog_resume){ OPLOG_RESUME_GROUP, committed, NULL };
	if (committed >= 0)
		r.why = "the group's offset was committed by another store";
	return r;
}
