/*
 * cmd_gen.c: `oplogd gen --out FILE | --topic T [knobs]`: a synthetic,
 * valid stream of oplog entries (correct chains and hashes) with chosen
 * rates of duplicates, late arrivals, forks and bad messages, from a seed,
 * to a file or produced to a Kafka topic, keyed by dataset. The same
 * options (--start included) always give the same messages in the same
 * order.
 *
 * The start time: --out keeps the fixed OPLOG_GEN_BASE_WALL unless
 * --start is given, because tests, fixtures and benchmarks compare its
 * bytes across runs; --topic feeds a live replica, whose lag and late
 * counts only mean something when the walls end near now, so it ends
 * them at the current time unless --start is given.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "oplog/clock.h"
#include "oplog/error.h"
#include "oplog/gen.h"
#include "oplog/kafka.h"

enum {
	OPT_OUT = CLI_OPT_CMD, OPT_TOPIC, OPT_FRAMING, OPT_DATASETS, OPT_NODES, OPT_COUNT,
	OPT_DATA_SIZE, OPT_KEYS, OPT_DUP, OPT_LATE, OPT_BAD, OPT_FORK, OPT_GAP, OPT_DEL, OPT_SEED,
	OPT_START, OPT_KEY
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
	{ "key", 0, required_argument, "K", "--topic: dataset (default: the message's ds-N) or none (keyless, spread one by one)", OPT_KEY },
	{ "start", 0, required_argument, "MS|ISO", "the first wall: Unix ms or YYYY-MM-DDTHH:MM:SS[.mmm]Z (default: --out 2025-11-21T04:40:00Z, --topic so the last is now)", OPT_START },
	CLI_OPTIONS_COMMON,
	CLI_OPTIONS_END
};

static const struct cli_spec spec = {
	"gen", "--out FILE | --topic T",
	"Prints a one-line summary on stderr: messages by kind.\n"
	"Both framings match `import --framing`. --bad-rate needs --framing lenpfx: a\n"
	"malformed value cannot be split from the values after it in a plain stream.\n"
	"--topic produces each message with its dataset (ds-N) as the Kafka key, so\n"
	"a dataset stays in one partition and in order (--key none: keyless, spread\n"
	"over the partitions, so a node's entries arrive out of order), with the\n"
	"[kafka] settings of -c FILE and -X, and exits 0 only when every message\n"
	"was delivered. On the dev broker (`oplogd broker`) it warns when a\n"
	"partition gets more than the 5 MiB the broker keeps of it (estimated from\n"
	"uncompressed message sizes).\n"
	"The walls rise 0..2 ms per entry from --start; the same options and --start\n"
	"give the same bytes.",
	options
};

struct gen_args {
	struct oplog_gen_opts o;
	const char           *out, *topic;
	int                   stream;
	int                   has_start;     /* --start given */
	int                   keyless;       /* --key none */
	uint64_t              failed;        /* deliveries that failed */
	char                  failure[256];  /* the first one's reason */
	int                   dev;           /* the topic is on the dev broker */
	uint64_t             *part_bytes;    /* dev: bytes delivered per partition */
	size_t                nparts;
	uint64_t              parts_over;    /* dev: partitions past its limit */
};

/*
 * --start: Unix ms, or an ISO 8601 UTC time with seconds, an optional
 * fraction of 1 to 3 digits and a Z. Returns 0 with *out set, or -1 when
 * the text is neither.
 */
static int parse_start(const char *text, uint64_t *out)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, ms = 0, n = 0, n2 = 0;
	time_t t;

	if (cli_parse_uint(text, out) == 0)
		return 0;
	if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
	    n != 19)
		return -1;
	if (text[n] == '.') {   /* .5, .25 and .125 are 500, 250 and 125 ms */
		if (sscanf(text + n, ".%3d%n", &ms, &n2) != 1 || n2 < 2 || text[n + 1] < '0' ||
		    text[n + 1] > '9')
			return -1;
		ms *= n2 == 2 ? 100 : n2 == 3 ? 10 : 1;
		n += n2;
	}
	if (strcmp(text + n, "Z") || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    h > 23 || mi > 59 || sec > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if ((t = timegm(&tm)) == (time_t)-1 || tm.tm_mday != d)
		return -1;   /* tm_mday moves on a day the month lacks: 02-30 */
	*out = (uint64_t)t * 1000 + (uint64_t)ms;
	return 0;
}

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
	case OPT_KEY:
		if (strcmp(arg, "dataset") && strcmp(arg, "none"))
			return cli_usage_error(&spec, "--key: '%s' is not dataset or none", arg);
		a->keyless = !strcmp(arg, "none");
		return 0;
	case OPT_START:
		if (parse_start(arg, &a->o.start_wall))
			return cli_usage_error(&spec, "--start: '%s' is not Unix ms or "
			                       "YYYY-MM-DDTHH:MM:SS[.mmm]Z", arg);
		a->has_start = 1;
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

/*
 * On the dev broker, count what each partition got: the message, its key
 * and 20 bytes of record and batch framing, as the broker stores it unless
 * compressed (measured: 100000 messages of 64-byte data into one partition
 * leave the last 21676, about 242 bytes each, while the values and keys
 * take about 224). A little early rather than late. A partition that passes the broker's limit is reported
 * once, when it does: from then on its oldest messages are being deleted.
 */
static void count_dev_bytes(struct gen_args *a, const rd_kafka_message_t *m)
{
	size_t p = (size_t)m->partition;
	uint64_t before;

	if (m->partition < 0 || p >= 100000)
		return;
	if (p >= a->nparts) {
		size_t n = p + 1 > 2 * a->nparts ? p + 1 : 2 * a->nparts;
		uint64_t *grown = realloc(a->part_bytes, n * sizeof(*grown));

		if (!grown)
			return;   /* only a warning is lost */
		memset(grown + a->nparts, 0, (n - a->nparts) * sizeof(*grown));
		a->part_bytes = grown;
		a->nparts = n;
	}
	before = a->part_bytes[p];
	a->part_bytes[p] += m->len + m->key_len + 20;
	if (before <= OPLOG_KAFKA_DEV_PARTITION_BYTES &&
	    a->part_bytes[p] > OPLOG_KAFKA_DEV_PARTITION_BYTES) {
		a->parts_over++;
		fprintf(stderr, "gen: warning: partition %d of %s got more than the %u MiB the dev "
		        "broker keeps of a partition: it deletes the oldest messages, and apply "
		        "loses those it has not read yet (use `oplogd broker --partitions N` with "
		        "more partitions and --datasets, or fewer messages)\n", (int)m->partition,
		        a->topic, OPLOG_KAFKA_DEV_PARTITION_BYTES >> 20);
	}
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct gen_args *a = opaque;

	(void)rk;
	if (m->err && a->failed++ == 0)
		snprintf(a->failure, sizeof(a->failure), "%s", rd_kafka_err2str(m->err));
	if (!m->err && a->dev)
		count_dev_bytes(a, m);
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

/* What the options say together; CLI_RUN or the usage error's exit. */
static int check_args(const struct gen_args *a, const char *operand)
{
	if (!a->out == !a->topic)
		return cli_usage_error(&spec, "give one of --out FILE and --topic T");
	if (operand)
		return cli_usage_error(&spec, "unexpected operand '%s'", operand);
	if (a->out && a->stream && a->o.bad_rate > 0)
		return cli_usage_error(&spec, "--bad-rate needs --framing lenpfx");
	return CLI_RUN;
}

/* The summary lines on stderr: messages by kind, entries lost upstream,
 * and the dev broker's limit when some partition went past it. */
static void print_summary(const struct gen_args *a, struct oplog_gen *g, const uint64_t *kinds)
{
	fprintf(stderr, "gen: %llu messages: %llu valid, %llu late, %llu duplicates, "
	        "%llu forks, %llu bad\n", (unsigned long long)a->o.count,
	        (unsigned long long)kinds[OPLOG_GEN_VALID], (unsigned long long)kinds[OPLOG_GEN_LATE],
	        (unsigned long long)kinds[OPLOG_GEN_DUP], (unsigned long long)kinds[OPLOG_GEN_FORK],
	        (unsigned long long)kinds[OPLOG_GEN_BAD]);
	if (a->o.gap_rate > 0)
		fprintf(stderr, "gen: %llu entries lost upstream (never sent)\n",
		        (unsigned long long)oplog_gen_dropped(g));
	if (a->parts_over)
		fprintf(stderr, "gen: warning: %llu partitions of %s got more than the dev broker "
		        "keeps (%u MiB each): their oldest messages are gone\n",
		        (unsigned long long)a->parts_over, a->topic,
		        OPLOG_KAFKA_DEV_PARTITION_BYTES >> 20);
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
	if ((rc = check_args(&a, first < argc ? argv[first] : NULL)) != CLI_RUN)
		goto done;
	if (a.topic && !a.has_start)
		a.o.start_wall = oplog_gen_start_for_end(&a.o, oplog_clock_wall_ms());
	if ((err = oplog_gen_new(&a.o, &g))) {
		rc = cli_fail(&spec, err);
		goto done;
	}
	if (a.topic && (err = oplog_kafka_producer(cfg, on_delivery, &a, &rk))) {
		rc = cli_fail(&spec, err);
		goto done;
	}
	/* Asked once, before the first message: a cluster that does not
	 * answer in time is taken for a real one (no warnings). */
	if (rk)
		a.dev = oplog_kafka_dev_broker(rk, 5000);
	if (a.out && !(out = strcmp(a.out, "-") ? fopen(a.out, "wb") : stdout)) {
		rc = cli_error(&spec, "%s: %s", a.out, strerror(errno));
		goto done;
	}
	while ((err = oplog_gen_next(g, &m)) == 0) {
		uint8_t len[4] = { m.len >> 24, m.len >> 16, m.len >> 8, m.len };
		int bad = 0;

		if (rk) {
			char key[16];
			int klen = snprintf(key, sizeof(key), "ds-%u", (unsigned)m.dataset);

			err = oplog_kafka_produce(rk, a.topic, a.keyless ? NULL : key, (size_t)klen,
			                          m.data, m.len);
		} else
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
	print_summary(&a, g, kinds);
done:
	free(a.part_bytes);
	if (out && out != stdout)
		fclose(out);
	if (rk)
		rd_kafka_destroy(rk);
	oplog_gen_free(g);
	oplog_config_free(cfg);
	cli_common_free(&common);
	return rc;
}
