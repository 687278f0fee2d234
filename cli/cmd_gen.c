/*
 * cmd_gen.c: `oplogd gen --out FILE | --topic T [knobs]`: a synthetic,
 * valid stream of oplog entries (correct chains and hashes) with chosen
 * rates of duplicates, late arrivals, forks and bad messages, from a seed,
 * to a file or produced to a Kafka topic. The same options always give
 * the same messages in the same order.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "oplog/error.h"
#include "oplog/gen.h"
#include "oplog/kafka.h"

enum {
	OPT_OUT = CLI_OPT_CMD, OPT_TOPIC, OPT_FRAMING, OPT_DATASETS, OPT_NODES, OPT_COUNT,
	OPT_DATA_SIZE, OPT_KEYS, OPT_DUP, OPT_LATE, OPT_BAD, OPT_FORK, OPT_GAP, OPT_DEL, OPT_SEED
};

static const struct cli_option options[] = {
	{ "out", 'o', required_argument, "FILE", "write the stream to FILE (- = stdout)", OPT_OUT },
	{ "topic", 't', required_argument, "T", "produce each message to Kafka topic T ([kafka] of -c, -X)", OPT_TOPIC },
	{ "framing", 0, required_argument, "F", "stream (default: values back to back) or lenpfx (u32 big-endian length + bytes)", OPT_FRAMING },
	{ "datasets", 0, required_argument, "N", "datasets ds-0.. (default 1)", OPT_DATASETS },
	{ "nodes", 0, required_argument, "N", "nodes per dataset node-0.. (default 3)", OPT_NODES },
	{ "count", 'n', required_argument, "N", "messages in all (default 1000)", OPT_COUNT },
	{ "data-size", 0, required_argument, "N", "bytes of data per put (default 64)", OPT_DATA_SIZE },
	{ "keys", 0, required_argument, "N", "document keys per collection (default 64)", OPT_KEYS },
	{ "dup-rate", 0, required_argument, "R", "share of duplicate messages, 0..1", OPT_DUP },
	{ "late-rate", 0, required_argument, "R", "share of entries delivered late, 0..1", OPT_LATE },
	{ "bad-rate", 0, required_argument, "R", "share of invalid messages, 0..1", OPT_BAD },
	{ "fork-rate", 0, required_argument, "R", "share of entries that fork a chain, 0..1", OPT_FORK },
	{ "gap-rate", 0, required_argument, "R", "share of entries lost upstream (never sent), 0..1", OPT_GAP },
	{ "del-rate", 0, required_argument, "R", "share of deletes among new entries (default 0.1)", OPT_DEL },
	{ "seed", 0, required_argument, "S", "PRNG seed (default 1)", OPT_SEED },
	CLI_OPTIONS_COMMON,
	CLI_OPTIONS_END
};

static const struct cli_spec spec = {
	"gen", "--out FILE | --topic T",
	"Prints a one-line summary on stderr: messages by kind.\n"
	"Both framings match `import --framing`. --bad-rate needs --framing lenpfx: a\n"
	"malformed value cannot be split from the values after it in a plain stream.\n"
	"--topic produces keyless messages (spread over the partitions) with the\n"
	"[kafka] settings of -c FILE and -X, and exits 0 only when every message was\n"
	"delivered.",
	options
};

struct gen_args {
	struct oplog_gen_opts o;
	const char           *out, *topic;
	int                   stream;
	uint64_t              failed;        /* deliveries that failed */
	char                  failure[256];  /* the first one's reason */
};

static int parse_rate(const char *text, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(text, &end);
	return errno || end == text || *end || !isfinite(*out) || *out < 0 || *out > 1 ? -1 : 0;
}

static int on_option(void *ctx, const struct cli_option *opt, const char *arg)
{
	struct gen_args *a = ctx;
	uint64_t n = 0;
	double r = 0;

	switch (opt->id) {
	case OPT_OUT:
		a->out = arg;
		return 0;
	case OPT_TOPIC:
		a->topic = arg;
		return 0;
	case OPT_FRAMING:
		if (strcmp(arg, "lenpfx") && strcmp(arg, "stream"))
			return cli_usage_error(&spec, "--framing: '%s' is not lenpfx or stream", arg);
		a->stream = !strcmp(arg, "stream");
		return 0;
	case OPT_DUP: case OPT_LATE: case OPT_BAD: case OPT_FORK: case OPT_GAP: case OPT_DEL:
		if (parse_rate(arg, &r))
			return cli_usage_error(&spec, "--%s: '%s' is not a number from 0 to 1",
			                       opt->name, arg);
		switch (opt->id) {
		case OPT_DUP:  a->o.dup_rate = r; break;
		case OPT_LATE: a->o.late_rate = r; break;
		case OPT_BAD:  a->o.bad_rate = r; break;
		case OPT_FORK: a->o.fork_rate = r; break;
		case OPT_GAP:  a->o.gap_rate = r; break;
		default:       a->o.del_rate = r; break;
		}
		return 0;
	default:
		break;
	}
	if (cli_parse_uint(arg, &n) != 0)
		return cli_usage_error(&spec, "--%s: '%s' is not a whole number", opt->name, arg);
	if (opt->id != OPT_COUNT && opt->id != OPT_SEED && n > UINT32_MAX)
		return cli_usage_error(&spec, "--%s: %s is too large", opt->name, arg);
	switch (opt->id) {
	case OPT_DATASETS:  a->o.datasets = (uint32_t)n; break;
	case OPT_NODES:     a->o.nodes = (uint32_t)n; break;
	case OPT_COUNT:     a->o.count = n; break;
	case OPT_DATA_SIZE: a->o.data_size = (uint32_t)n; break;
	case OPT_KEYS:      a->o.keys = (uint32_t)n; break;
	case OPT_SEED:      a->o.seed = n; break;
	}
	return 0;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct gen_args *a = opaque;

	(void)rk;
	if (m->err && a->failed++ == 0)
		snprintf(a->failure, sizeof(a->failure), "%s", rd_kafka_err2str(m->err));
}

/* Wait for every delivery report; 0 when all were delivered. */
static int finish_produce(rd_kafka_t *rk, struct gen_args *a)
{
	int err = oplog_kafka_flush(rk, a->topic, 60000);

	if (err == 0 && a->failed)
		err = oplog_error__set(OPLOG_EKAFKA, "%s: %llu messages not delivered: %s", a->topic,
		                       (unsigned long long)a->failed, a->failure);
	return err;
}

int cmd_gen(int argc, char **argv)
{
	struct cli_common common;
	struct oplog_config *cfg = NULL;
	struct oplog_gen *g = NULL;
	struct gen_args a = { .stream = 1 };
	struct oplog_gen_msg m;
	uint64_t kinds[OPLOG_GEN_BAD + 1] = { 0 };
	FILE *out = NULL;
	rd_kafka_t *rk = NULL;
	int first, rc, err;

	oplog_gen_opts_init(&a.o);
	rc = cli_parse(&spec, argc, argv, &common, on_option, &a, &first);
	if (rc != CLI_RUN)
		goto done;
	if ((rc = cli_load_config(&spec, &common, &cfg)) != CLI_RUN)
		goto done;
	if (!a.out == !a.topic) {
		rc = cli_usage_error(&spec, "give one of --out FILE and --topic T");
		goto done;
	}
	if (first < argc) {
		rc = cli_usage_error(&spec, "unexpected operand '%s'", argv[first]);
		goto done;
	}
	if (a.out && a.stream && a.o.bad_rate > 0) {
		rc = cli_usage_error(&spec, "--bad-rate needs --framing lenpfx");
		goto done;
	}
	if ((err = oplog_gen_new(&a.o, &g))) {
		rc = cli_fail(&spec, err);
		goto done;
	}
	if (a.topic && (err = oplog_kafka_producer(cfg, on_delivery, &a, &rk))) {
		rc = cli_fail(&spec, err);
		goto done;
	}
	if (a.out && !(out = strcmp(a.out, "-") ? fopen(a.out, "wb") : stdout)) {
		rc = cli_error(&spec, "%s: %s", a.out, strerror(errno));
		goto done;
	}
	while ((err = oplog_gen_next(g, &m)) == 0) {
		uint8_t len[4] = { m.len >> 24, m.len >> 16, m.len >> 8, m.len };
		int bad = 0;

		if (rk)
			err = oplog_kafka_produce(rk, a.topic, m.data, m.len);
		else
			bad = (!a.stream && fwrite(len, 1, 4, out) != 4) ||
			      fwrite(m.data, 1, m.len, out) != m.len;
		kinds[m.kind]++;
		free(m.data);
		if (err)
			break;
		if (bad) {
			rc = cli_error(&spec, "%s: write failed: %s", a.out, strerror(errno));
			goto done;
		}
	}
	if (err == OPLOG_ENOTFOUND && rk)
		err = finish_produce(rk, &a);
	else if (err == OPLOG_ENOTFOUND)
		err = 0;
	if (err) {
		rc = cli_fail(&spec, err);
		goto done;
	}
	if (rk) {
		rc = CLI_EXIT_OK;
		goto summary;
	}
	err = out == stdout ? fflush(out) : fclose(out);
	if (out != stdout)
		out = NULL;
	if (err != 0) {
		rc = cli_error(&spec, "%s: %s", a.out, strerror(errno));
		goto done;
	}
	rc = CLI_EXIT_OK;
summary:
	fprintf(stderr, "gen: %llu messages: %llu valid, %llu late, %llu duplicates, "
	        "%llu forks, %llu bad\n", (unsigned long long)a.o.count,
	        (unsigned long long)kinds[OPLOG_GEN_VALID], (unsigned long long)kinds[OPLOG_GEN_LATE],
	        (unsigned long long)kinds[OPLOG_GEN_DUP], (unsigned long long)kinds[OPLOG_GEN_FORK],
	        (unsigned long long)kinds[OPLOG_GEN_BAD]);
	if (a.o.gap_rate > 0)
		fprintf(stderr, "gen: %llu entries lost upstream (never sent)\n",
		        (unsigned long long)oplog_gen_dropped(g));
done:
	if (out && out != stdout)
		fclose(out);
	if (rk)
		rd_kafka_destroy(rk);
	oplog_gen_free(g);
	oplog_config_free(cfg);
	cli_common_free(&common);
	return rc;
}
