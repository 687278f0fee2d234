/*
 * kafka.c: librdkafka clients from the [kafka] section (oplog/kafka.h).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "oplog/error.h"
#include "oplog/kafka.h"
#include "oplog/log.h"

/*
 * librdkafka's own log lines go through oplogd's logger. Its errors reach
 * oplogd as error events and results, which are reported (rate-limited)
 * where they matter, so its lines are debug detail; only configuration
 * warnings are shown by default.
 */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	enum oplog_log_level l = strcmp(fac, "CONFWARN") == 0 && level <= 4 ? OPLOG_LOG_WARN :
	                         OPLOG_LOG_DEBUG;

	if (oplog_log_enabled(l))
		oplog_log(l, "librdkafka %s %s: %s", rd_kafka_name(rk), fac, buf);
}

int oplog_kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value,
                         const char *file, int line)
{
	char errstr[512];

	if (rd_kafka_conf_set(conf, key, value, errstr, sizeof(errstr)) == RD_KAFKA_CONF_OK)
		return 0;
	if (line > 0)
		return oplog_error__set(OPLOG_ECONFIG, "%s:%d: [kafka] %s: %s", file, line, key, errstr);
	return oplog_error__set(OPLOG_ECONFIG, "%s %s: %s", file, key, errstr);
}

const char *oplog_kafka_get(const struct oplog_config *cfg, const char *key)
{
	size_t n = cfg->kafka.n;
	const struct oplog_config_kafka *k = cfg->kafka.items;
	const char *last = NULL;

	for (size_t i = 0; i < n; i++)
		if (strcmp(k[i].key, key) == 0)
			last = k[i].value;   /* the last setting wins, as in librdkafka */
	return last;
}

int oplog_kafka_has(const struct oplog_config *cfg, const char *key)
{
	return oplog_kafka_get(cfg, key) != NULL;
}

/* Properties only a consumer reads (CONFIGURATION.md, "C" column). */
static int consumer_only(const char *key)
{
	static const char *const exact[] = {
		"group.id", "group.instance.id", "partition.assignment.strategy",
		"session.timeout.ms", "heartbeat.interval.ms", "group.protocol.type",
		"coordinator.query.interval.ms", "max.poll.interval.ms", "enable.auto.commit",
		"auto.commit.interval.ms", "enable.auto.offset.store", "queued.min.messages",
		"queued.max.messages.kbytes", "enable.partition.eof", "check.crcs",
		"isolation.level", "auto.offset.reset", "offset.store.method",
		"consume.callback.max.messages", "allow.auto.create.topics",
	};

	if (strncmp(key, "fetch.", 6) == 0)
		return 1;
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (strcmp(key, exact[i]) == 0)
			return 1;
	return 0;
}

/* client.id "oplogd-HOST", so that group tools show which host owns a
 * partition (librdkafka's default is "rdkafka"). */
static int set_client_id(rd_kafka_conf_t *conf)
{
	char host[256] = "", id[300];

	if (gethostname(host, sizeof(host) - 1) != 0 || !*host)
		snprintf(host, sizeof(host), "unknown");
	snprintf(id, sizeof(id), "oplogd-%s", host);
	return oplog_kafka_conf_set(conf, "client.id", id, "oplogd", 0);
}

int oplog_kafka_conf(const struct oplog_config *cfg, int for_producer, rd_kafka_conf_t **out)
{
	size_t n = cfg->kafka.n;
	const struct oplog_config_kafka *k = cfg->kafka.items;
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	int rc = 0;

	rd_kafka_conf_set_log_cb(conf, on_log);
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (!for_producer || !consumer_only(k[i].key))
			rc = oplog_kafka_conf_set(conf, k[i].key, k[i].value, k[i].file, k[i].line);
	if (rc == 0 && !oplog_kafka_has(cfg, "client.id"))
		rc = set_client_id(conf);
	if (rc) {
		rd_kafka_conf_destroy(conf);
		return rc;
	}
	*out = conf;
	return 0;
}

int oplog_kafka_consumer_conf(const struct oplog_config *cfg, rd_kafka_conf_t **out)
{
	rd_kafka_conf_t *conf = NULL;
	int rc;

	if ((rc = oplog_kafka_conf(cfg, 0, &conf)))
		return rc;
	if ((rc = oplog_kafka_conf_set(conf, "enable.auto.commit", "false", "oplogd", 0)) ||
	    (rc = oplog_kafka_conf_set(conf, "enable.auto.offset.store", "false", "oplogd", 0)) ||
	    (rc = oplog_kafka_conf_set(conf, "enable.partition.eof", "true", "oplogd", 0)) ||
	    (rc = oplog_kafka_conf_set(conf, "auto.offset.reset", "error", "oplogd", 0))) {
		rd_kafka_conf_destroy(conf);
		return rc;
	}
	*out = conf;
	return 0;
}

int oplog_kafka_consumer(rd_kafka_conf_t **conf, rd_kafka_t **out)
{
	char errstr[512];

	if (!(*out = rd_kafka_new(RD_KAFKA_CONSUMER, *conf, errstr, sizeof(errstr))))
		return oplog_error__set(OPLOG_EKAFKA, "kafka consumer: %s", errstr);
	*conf = NULL;   /* rd_kafka_new took it */
	return 0;
}

int oplog_kafka_producer(const struct oplog_config *cfg,
                         void (*dr_cb)(rd_kafka_t *, const rd_kafka_message_t *, void *),
                         void *opaque, rd_kafka_t **out)
{
	rd_kafka_conf_t *conf = NULL;
	char errstr[512];
	int rc;

	if ((rc = oplog_kafka_conf(cfg, 1, &conf)))
		return rc;
	/* Keyless messages spread over the partitions one by one, not in
	 * sticky runs, unless the user says otherwise (keyed ones go where
	 * their key hashes to either way). */
	if (!oplog_kafka_has(cfg, "sticky.partitioning.linger.ms") &&
	    (rc = oplog_kafka_conf_set(conf, "sticky.partitioning.linger.ms", "0", "oplogd", 0))) {
		rd_kafka_conf_destroy(conf);
		return rc;
	}
	if (dr_cb)
		rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
	rd_kafka_conf_set_opaque(conf, opaque);
	if (!(*out = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr)))) {
		rd_kafka_conf_destroy(conf);
		return oplog_error__set(OPLOG_EKAFKA, "kafka producer: %s", errstr);
	}
	return 0;
}

int oplog_kafka_produce(rd_kafka_t *rk, const char *topic, const void *key, size_t key_len,
                        const void *msg, size_t len)
{
	rd_kafka_resp_err_t err;

	while ((err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
	                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
	                                RD_KAFKA_V_KEY((void *)key, key ? key_len : 0),
	                                RD_KAFKA_V_VALUE((void *)msg, len), RD_KAFKA_V_END)) ==
	       RD_KAFKA_RESP_ERR__QUEUE_FULL)
		rd_kafka_poll(rk, 100);
	if (err)
		return oplog_error__set(OPLOG_EKAFKA, "produce to %s: %s", topic, rd_kafka_err2str(err));
	rd_kafka_poll(rk, 0);
	return 0;
}

int oplog_kafka_flush(rd_kafka_t *rk, const char *topic, int timeout_ms)
{
	if (rd_kafka_flush(rk, timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return oplog_error__set(OPLOG_EKAFKA, "%s: %d messages still undelivered after %d s",
		                        topic, rd_kafka_outq_len(rk), timeout_ms / 1000);
	return 0;
}

void oplog_kafka__release_message(void *arg, void *held)
{
	(void)arg;
	rd_kafka_message_destroy(held);
}

/* The mock cluster names itself "mockCluster<hex>" (rdkafka_mock.c) in
 * every Metadata reply; no real broker uses that prefix by default. */
int oplog_kafka_dev_broker(rd_kafka_t *rk, int timeout_ms)
{
	char *id = rd_kafka_clusterid(rk, timeout_ms);
	int mock = id && !strncmp(id, "mockCluster", 11);

	if (id)
		rd_kafka_mem_free(rk, id);
	return mock;
}
