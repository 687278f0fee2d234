/*
 * cmd_broker.c: `oplogd broker [--port P] [--partitions N] [--topic T]`: a
 * local Kafka-protocol broker for development, on librdkafka's mock
 * cluster. It prints its bootstrap address and runs until SIGINT/SIGTERM.
 *
 * What it is, honestly: one broker in this process, everything in memory
 * (gone when it stops), 5 MiB kept per partition (older messages are
 * deleted, read or not), no security, no persistence. For trying oplogd,
 * for demos and tests; never for production data.
 *
 * The 5 MiB (or 100000 produce batches) is fixed in librdkafka 2.0.2's
 * mock cluster (rdkafka_mock.c sets each partition's max_size when it
 * creates it; no topic config or mock API changes it), so the broker
 * cannot keep more per partition: it makes more partitions instead (16
 * by default, 80 MiB for the topic), says the limit when it starts, and
 * `gen --topic` warns when a partition gets more than that.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "cli.h"
#include "forward.h"
#include "oplog/kafka.h"

enum { OPT_PORT = CLI_OPT_CMD, OPT_PARTITIONS, OPT_TOPIC };

static const struct cli_option options[] = {
	{ "port", 'p', required_argument, "P", "also accept clients on 127.0.0.1:P (bootstrap)", OPT_PORT },
	{ "partitions", 0, required_argument, "N", "partitions of the topic (default 16; each keeps 5 MiB)", OPT_PARTITIONS },
	{ "topic", 't', required_argument, "T", "create topic T (default oplog); others are created on first use", OPT_TOPIC },
	CLI_OPTIONS_COMMON,
	CLI_OPTIONS_END
};

static const struct cli_spec spec = {
	"broker", NULL,
	"Prints the bootstrap address (HOST:PORT) on stdout, then serves until SIGINT\n"
	"or SIGTERM. It is librdkafka's mock cluster: one broker in this process,\n"
	"everything in memory and lost when it stops, no security. Each partition\n"
	"keeps only its last 5 MiB (or 100000 produce batches): older messages are\n"
	"deleted whether or not they were read, a limit fixed in the mock cluster.\n"
	"So a topic gets 16 partitions unless told, and `gen --topic` warns when one\n"
	"gets more. Topics created on first use get 4 partitions. For trying\n"
	"oplogd; not for production. The broker listens on a port of its own\n"
	"choosing: --port P adds a plain TCP relay on 127.0.0.1:P to it, enough for\n"
	"bootstrapping, since the broker then tells clients its own address.",
	options
};

struct broker_args {
	uint64_t    port, partitions;
	const char *topic;
};

static int on_option(void *ctx, const struct cli_option *opt, const char *arg)
{
	struct broker_args *a = ctx;
	uint64_t v;

	if (opt->id == OPT_TOPIC) {
		a->topic = arg;
		return 0;
	}
	if (cli_parse_uint(arg, &v) != 0)
		return cli_usage_error(&spec, "--%s: '%s' is not a whole number", opt->name, arg);
	if (opt->id == OPT_PORT && (v < 1 || v > 65535))
		return cli_usage_error(&spec, "--port: %s is not a port (1..65535)", arg);
	if (opt->id == OPT_PARTITIONS && (v < 1 || v > 1000))
		return cli_usage_error(&spec, "--partitions: %s is not 1..1000", arg);
	if (opt->id == OPT_PORT)
		a->port = v;
	else
		a->partitions = v;
	return 0;
}

int cmd_broker(int argc, char **argv)
{
	struct cli_common common;
	struct broker_args a = { 0, 16, "oplog" };
	struct oplog_config *cfg = NULL;
	rd_kafka_conf_t *conf = NULL;
	rd_kafka_t *rk = NULL;
	rd_kafka_mock_cluster_t *mc = NULL;
	struct cli_forward *fwd = NULL;
	sigset_t stop_sigs;
	char errstr[512];
	int first, rc, sig;

	rc = cli_parse(&spec, argc, argv, &common, on_option, &a, &first);
	if (rc != CLI_RUN)
		goto done;
	if ((rc = cli_load_config(&spec, &common, &cfg)) != CLI_RUN)
		goto done;
	if (first < argc) {
		rc = cli_usage_error(&spec, "unexpected operand '%s'", argv[first]);
		goto done;
	}
	/* Blocked before any thread starts, so every thread inherits the
	 * mask and the signals wait for sigwait() below. */
	sigemptyset(&stop_sigs);
	sigaddset(&stop_sigs, SIGINT);
	sigaddset(&stop_sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop_sigs, NULL);
	conf = rd_kafka_conf_new();
	rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
	if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr)))) {
		rc = cli_error(&spec, "%s", errstr);
		goto done;
	}
	conf = NULL;   /* rd_kafka_new took it */
	if (!(mc = rd_kafka_mock_cluster_new(rk, 1))) {
		rc = cli_error(&spec, "the mock cluster did not start");
		goto done;
	}
	if (rd_kafka_mock_topic_create(mc, a.topic, (int)a.partitions, 1)) {
		rc = cli_error(&spec, "creating topic %s failed", a.topic);
		goto done;
	}
	if (a.port && cli_forward_start(&fwd, (int)a.port, rd_kafka_mock_cluster_bootstraps(mc),
	                                errstr, sizeof(errstr))) {
		rc = cli_error(&spec, "--port %d: %s", (int)a.port, errstr);
		goto done;
	}
	if (a.port)
		printf("127.0.0.1:%d\n", (int)a.port);
	else
		printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);
	fprintf(stderr, "oplogd broker: topic %s with %d partitions. In memory only, for trying "
	        "oplogd (not for production). Each partition keeps its last %u MiB (or %u produce "
	        "batches): older messages are deleted, read or not, so topic %s holds at most "
	        "%llu MiB. Ctrl-C stops it.\n", a.topic, (int)a.partitions,
	        OPLOG_KAFKA_DEV_PARTITION_BYTES >> 20, OPLOG_KAFKA_DEV_PARTITION_BATCHES, a.topic,
	        (unsigned long long)a.partitions * (OPLOG_KAFKA_DEV_PARTITION_BYTES >> 20));
	sigwait(&stop_sigs, &sig);
	rc = CLI_EXIT_OK;
done:
	cli_forward_stop(fwd);
	if (mc)
		rd_kafka_mock_cluster_destroy(mc);
	if (rk)
		rd_kafka_destroy(rk);
	if (conf)
		rd_kafka_conf_destroy(conf);
	oplog_config_free(cfg);
	cli_common_free(&common);
	return rc;
}
