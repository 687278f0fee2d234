/*
 * oplog/kafka.h: librdkafka clients built from the [kafka] section, shared
 * by the applier, replay, lag and gen.
 *
 * Every [kafka] key goes to rd_kafka_conf_set as written, in file order;
 * librdkafka's refusal reaches the user as "FILE:LINE: [kafka] KEY: why".
 *
 * Ownership: a conf returned here is the caller's until rd_kafka_new takes
 * it (then set the pointer to NULL); a handle is the caller's to
 * rd_kafka_destroy.
 */
#ifndef OPLOG_KAFKA_H
#define OPLOG_KAFKA_H

#include <librdkafka/rdkafka.h>

#include "oplog/config.h"

/*
 * Set one property. file/line name where it came from (line 0: a setting
 * oplogd makes itself; file then names the component). Returns 0 or
 * OPLOG_ECONFIG with librdkafka's reason.
 */
int oplog_kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value,
                         const char *file, int line);

/* Is key set in [kafka]? */
int oplog_kafka_has(const struct oplog_config *cfg, const char *key);

/* The value of key in [kafka] (borrowed from cfg), or NULL when unset. */
const char *oplog_kafka_get(const struct oplog_config *cfg, const char *key);

/*
 * A new conf holding the [kafka] properties. With for_producer non-zero,
 * consumer-only properties (group.id, session.timeout.ms, fetch.*, ...)
 * are left out, so that one config file serves every client without
 * librdkafka's "consumer property ignored" warnings. librdkafka's log
 * lines go to oplog_log: configuration warnings at warn, the rest at
 * debug (its errors reach oplogd as events and results). Without a
 * client.id in [kafka], the client id is "oplogd-HOSTNAME", so that group
 * tools show which host owns a partition.
 * Returns 0 with *out set, or OPLOG_ECONFIG.
 */
int oplog_kafka_conf(const struct oplog_config *cfg, int for_producer, rd_kafka_conf_t **out);

/*
 * A conf for a consumer whose positions oplogd keeps (apply, replay,
 * lag): the [kafka] properties, then oplogd's own. The store keeps the
 * offsets and the group only mirrors them, so nothing is committed or
 * stored automatically; the end of a partition is an event; and
 * positions are always set explicitly, so auto.offset.reset = error (a
 * reset means data is gone). Returns 0 with *out set, or OPLOG_ECONFIG.
 */
int oplog_kafka_consumer_conf(const struct oplog_config *cfg, rd_kafka_conf_t **out);

/*
 * A consumer handle from *conf, which it takes on success (*conf is then
 * NULL); on failure *conf stays the caller's. Returns 0 with *out set, or
 * OPLOG_EKAFKA with librdkafka's reason.
 */
int oplog_kafka_consumer(rd_kafka_conf_t **conf, rd_kafka_t **out);

/*
 * A producer from [kafka] (keyless messages spread one by one: sticky
 * partitioning is off unless [kafka] sets it). dr_cb, when not NULL, gets each delivery
 * report (served by rd_kafka_poll/rd_kafka_flush) with opaque as its
 * opaque. Returns 0 with *out set, OPLOG_ECONFIG or OPLOG_EKAFKA.
 */
int oplog_kafka_producer(const struct oplog_config *cfg,
                         void (*dr_cb)(rd_kafka_t *, const rd_kafka_message_t *, void *),
                         void *opaque, rd_kafka_t **out);

/*
 * Produce one message (copied, and its key too) to topic, waiting while
 * the producer's local queue is full and serving delivery reports
 * meanwhile. key NULL sends a keyless message; a key picks the partition
 * by its hash (librdkafka's default partitioner), so one key keeps its
 * messages in order. Returns 0 (queued; its delivery report says whether
 * it arrived) or OPLOG_EKAFKA ("produce to TOPIC: why").
 */
int oplog_kafka_produce(rd_kafka_t *rk, const char *topic, const void *key, size_t key_len,
                        const void *msg, size_t len);

/*
 * What librdkafka 2.0.2's mock cluster (`oplogd broker`) keeps of each
 * partition: its log drops the oldest produce batches once it holds more
 * than 5 MiB or 100000 batches (rdkafka_mock.c, fixed; no topic config or
 * mock API changes it). */
#define OPLOG_KAFKA_DEV_PARTITION_BYTES   (5u * 1024 * 1024)
#define OPLOG_KAFKA_DEV_PARTITION_BATCHES 100000u

/*
 * 1 when rk's cluster is librdkafka's mock cluster (`oplogd broker`): its
 * advertised cluster id starts with "mockCluster". 0 for any other
 * cluster, or when none answered within timeout_ms.
 */
int oplog_kafka_dev_broker(rd_kafka_t *rk, int timeout_ms);

/*
 * Wait up to timeout_ms for the delivery report of every queued message.
 * Returns 0, or OPLOG_EKAFKA ("TOPIC: N messages still undelivered after
 * S s"). Whether each was delivered is for the delivery callback to say.
 */
int oplog_kafka_flush(rd_kafka_t *rk, const char *topic, int timeout_ms);

/* An intake release callback (oplog/intake.h) for messages held as
 * rd_kafka_message_t: destroys held. arg is unused. (Semi-private: the
 * applier's and replay's.) */
void oplog_kafka__release_message(void *arg, void *held);

#endif
