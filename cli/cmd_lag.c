/*
 * cmd_lag.c: `oplogd lag -c FILE [--json] [--max-lag N]`: how far the
 * store is behind the broker, per partition of the [apply] topics, and how
 * current each node is, per dataset. Reads the store read-only and asks
 * the broker without joining the group, so it works while apply runs.
 */
#include <inttypes.h>
#include <string.h>

#include "cli_store.h"
#include "oplog/bytes.h"
#include "oplog/clock.h"
#include "oplog/error.h"
#include "oplog/json.h"
#include "oplog/kafka.h"
#include "oplog/lag.h"

enum { OPT_MAX_LAG = CLI_OPT_CMD, OPT_TIMEOUT };

static const struct cli_option options[] = {
	CLI_OPTION_JSON,
	{ "max-lag", 0, required_argument, "N", "exit 1 when total_lag > N", OPT_MAX_LAG },
	{ "timeout", 0, required_argument, "DURATION",
	  "give up on the broker after DURATION per request (default 10s; ms, s, m)", OPT_TIMEOUT },
	CLI_OPTIONS_COMMON,
	CLI_OPTIONS_END
};

static const struct cli_spec spec = {
	"lag", NULL,
	"A partition's lag is its high watermark minus the offset the applier would\n"
	"resume from: the store's (\"stored\"); without one, the group's when this\n"
	"store committed it; else the start [apply] fresh_start names. \"committed\" is\n"
	"the group's offset as lag tools see it, \"committed_by_store\" whether its\n"
	"metadata is this store's id. Per node: head seq, watermark, the number of\n"
	"gap ranges below the head, and the local clock minus the head's wall.\n"
	"--json: {\"partitions\":[{\"topic\",\"partition\",\"low\",\"high\",\"stored\",\n"
	"\"committed\",\"committed_by_store\",\"lag\"}],\"nodes\":[{\"dataset\",\"node\",\n"
	"\"head_seq\",\"watermark\",\"gaps\",\"time_lag_ms\"}],\"total_lag\",\"lost_offsets\",\n"
	"\"lost_messages\"}; stored and committed are null when absent.\n"
	"When the broker cannot be asked, the nodes (which need only the store) are\n"
	"still printed, the partitions and total_lag are unknown (null, with an\n"
	"\"error\" naming bootstrap.servers), and the exit is 2.\n"
	"Exit 0; 1 when --max-lag is given and exceeded; 2 on errors.",
	options
};

struct lag_args {
	uint64_t max_lag;
	int      has_max;
	int64_t  timeout_ms;
};

static int on_option(void *ctx, const struct cli_option *opt, const char *arg)
{
	struct lag_args *a = ctx;

	if (opt->id == OPT_MAX_LAG) {
		if (cli_parse_uint(arg, &a->max_lag) != 0)
			return cli_usage_error(&spec, "--max-lag: '%s' is not a whole number", arg);
		a->has_max = 1;
	} else if (opt->id == OPT_TIMEOUT) {
		if (oplog_config__parse_duration(arg, &a->timeout_ms) != 0 || a->timeout_ms <= 0 ||
		    a->timeout_ms > INT32_MAX)
			return cli_usage_error(&spec, "--timeout: bad duration '%s' (e.g. 500ms, 10s, 1m)",
			                       arg);
	}
	return 0;
}

static json_t *nullable(int64_t v)
{
	return v >= 0 ? json_integer(v) : json_null();
}

/* The partitions array; *total gets the summed lag. */
static int partitions_json(struct cli_store_cmd *c, const struct oplog_kafka_partition *p,
                           size_t n, json_t *arr, int64_t *total)
{
	int latest = c->cfg->apply.fresh_start == OPLOG_FRESH_START_LATEST;

	*total = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t stored = -1, from, lag;
		struct oplog_resume r;
		int rc = oplog_store_offset(c->s, p[i].topic, p[i].partition, &stored);

		if (rc && rc != OPLOG_ENOTFOUND)
			return rc;
		/* The applier's rule (oplog_lag_resume); its fresh starts are
		 * the watermarks it would resolve them to. */
		r = oplog_lag_resume(stored, p[i].committed, p[i].committed_by_store, latest);
		from = r.from == OPLOG_RESUME_LATEST ? p[i].high :
		       r.from == OPLOG_RESUME_EARLIEST ? p[i].low : r.offset;
		lag = p[i].high > from ? p[i].high - from : 0;
		*total += lag;
		if (json_array_append_new(arr, json_pack("{s:s,s:i,s:I,s:I,s:o,s:o,s:b,s:I}",
		                          "topic", p[i].topic, "partition", (int)p[i].partition,
		                          "low", (json_int_t)p[i].low, "high", (json_int_t)p[i].high,
		                          "stored", nullable(stored), "committed",
		                          nullable(p[i].committed), "committed_by_store",
		                          p[i].committed_by_store, "lag", (json_int_t)lag)))
			return OPLOG_ENOMEM;
	}
	return 0;
}

struct nodes_ctx {
	struct oplog_store *s;
	json_t             *arr;
	struct oplog_slice  ds;
	int64_t             now_ms;
};

static int node_fn(const struct oplog_node_info *n, void *arg)
{
	struct nodes_ctx *x = arg;
	int64_t tl = (int64_t)n->head_wall < x->now_ms ? x->now_ms - (int64_t)n->head_wall : 0;

	return json_array_append_new(x->arr, json_pack("{s:o,s:o,s:I,s:I,s:I,s:o}",
	                             "dataset", oplog_json_text(x->ds.ptr, x->ds.len),
	                             "node", oplog_json_text(n->node.ptr, n->node.len),
	                             "head_seq", (json_int_t)n->head_seq,
	                             "watermark", (json_int_t)n->watermark,
	                             "gaps", (json_int_t)n->n_gaps,
	                             "time_lag_ms", n->head_seq ? json_integer(tl) : json_null()))
	       ? OPLOG_ENOMEM : 0;
}

static int dataset_fn(struct oplog_slice ds, void *arg)
{
	struct nodes_ctx *x = arg;

	x->ds = ds;
	return oplog_store_nodes(x->s, ds, node_fn, x);
}

static void print_text(const json_t *doc)
{
	const json_t *v;
	size_t i;

	if (!json_is_array(json_object_get(doc, "partitions"))) {
		printf("partitions: unknown (%s)\n", json_string_value(json_object_get(doc, "error")));
		goto nodes;
	}
	printf("%-24s %12s %12s %12s %s %10s\n", "PARTITION", "HIGH", "STORED", "COMMITTED", " ",
	       "LAG");
	json_array_foreach(json_object_get(doc, "partitions"), i, v) {
		char name[300], stored[24] = "-", committed[24] = "-";
		const json_t *s = json_object_get(v, "stored"), *c = json_object_get(v, "committed");

		snprintf(name, sizeof(name), "%s/%d", json_string_value(json_object_get(v, "topic")),
		         (int)json_integer_value(json_object_get(v, "partition")));
		if (json_is_integer(s))
			snprintf(stored, sizeof(stored), "%" JSON_INTEGER_FORMAT, json_integer_value(s));
		if (json_is_integer(c))
			snprintf(committed, sizeof(committed), "%" JSON_INTEGER_FORMAT,
			         json_integer_value(c));
		printf("%-24s %12" JSON_INTEGER_FORMAT " %12s %12s %s %10" JSON_INTEGER_FORMAT "\n",
		       name, json_integer_value(json_object_get(v, "high")), stored, committed,
		       json_is_true(json_object_get(v, "committed_by_store")) ? "*" : " ",
		       json_integer_value(json_object_get(v, "lag")));
	}
	printf("(* = committed by this store)\n");
nodes:
	printf("\n%-16s %-16s %12s %12s %6s %14s\n", "DATASET",
	       "NODE", "HEAD_SEQ", "WATERMARK", "GAPS", "TIME_LAG_MS");
	json_array_foreach(json_object_get(doc, "nodes"), i, v) {
		const json_t *tl = json_object_get(v, "time_lag_ms");

		printf("%-16s %-16s %12" JSON_INTEGER_FORMAT " %12" JSON_INTEGER_FORMAT " %6"
		       JSON_INTEGER_FORMAT " %14" JSON_INTEGER_FORMAT "\n",
		       json_string_value(json_object_get(v, "dataset")),
		       json_string_value(json_object_get(v, "node")),
		       json_integer_value(json_object_get(v, "head_seq")),
		       json_integer_value(json_object_get(v, "watermark")),
		       json_integer_value(json_object_get(v, "gaps")),
		       json_is_integer(tl) ? json_integer_value(tl) : (json_int_t)-1);
	}
	if (json_is_integer(json_object_get(doc, "total_lag")))
		printf("\ntotal_lag %" JSON_INTEGER_FORMAT "\n",
		       json_integer_value(json_object_get(doc, "total_lag")));
	else
		printf("\ntotal_lag unknown\n");
	printf("lost_messages %" JSON_INTEGER_FORMAT "\n",
	       json_integer_value(json_object_get(doc, "lost_messages")));
}

/*
 * The broker's side: the partitions array and *total, or, when the broker
 * cannot be asked, a JSON null and the error text in why (naming the
 * bootstrap servers) with OPLOG_EKAFKA. Other errors are returned as they
 * are.
 */
static int broker_side(struct cli_store_cmd *c, const struct lag_args *a, const char *id,
                       json_t **arr, int64_t *total, char *why, size_t len)
{
	struct oplog_kafka_partition *parts = NULL;
	const char *servers = oplog_kafka_get(c->cfg, "bootstrap.servers");
	size_t n = 0;
	int err;

	err = oplog_lag_partitions(c->cfg, NULL, 1, id, (int)a->timeout_ms, &parts, &n);
	if (err == OPLOG_EKAFKA) {
		snprintf(why, len, "cannot ask the broker (bootstrap.servers %s, --timeout %" PRId64
		         " ms): %s", servers ? servers : "unset", a->timeout_ms, oplog_error_last());
		*arr = json_null();
		return err;
	}
	if (err == 0 && !(*arr = json_array()))
		err = OPLOG_ENOMEM;
	if (err == 0)
		err = partitions_json(c, parts, n, *arr, total);
	oplog_lag_free(parts);
	return err;
}

int cmd_lag(int argc, char **argv)
{
	struct cli_store_cmd c;
	struct lag_args a = { .timeout_ms = 10000 };
	char id[2 * OPLOG_STORE_ID_LEN + 1], why[1024] = "";
	json_t *doc = NULL, *arr = NULL, *nodes = NULL, *lost = NULL;
	struct nodes_ctx x = { 0 };
	int64_t total = 0;
	int err, kerr, rc;

	rc = cli_store_begin(&spec, argc, argv, &c, CLI_STORE_RDONLY, 0, 0, on_option, &a);
	if (rc != CLI_RUN)
		goto done;
	oplog_hex(oplog_store_id(c.s), OPLOG_STORE_ID_LEN, id);
	if (!(nodes = json_array())) {
		rc = cli_fail(&spec, OPLOG_ENOMEM);
		goto done;
	}
	x.s = c.s;
	x.arr = nodes;
	x.now_ms = (int64_t)oplog_clock_wall_ms();
	/* An unreachable broker still leaves the store's side to print. */
	kerr = broker_side(&c, &a, id, &arr, &total, why, sizeof(why));
	if ((kerr && kerr != OPLOG_EKAFKA && (err = kerr)) ||
	    (err = oplog_store_datasets(c.s, dataset_fn, &x)) ||
	    (err = cli_lost_json(c.s, &lost))) {
		rc = cli_fail(&spec, err);
		goto done;
	}
	doc = json_pack("{s:O,s:O,s:o,s:O,s:I}", "partitions", arr, "nodes", nodes,
	                "total_lag", kerr ? json_null() : json_integer(total), "lost_offsets", lost,
	                "lost_messages", cli_lost_messages(lost));
	if (doc && kerr && json_object_set_new(doc, "error", json_string(why))) {
		json_decref(doc);
		doc = NULL;
	}
	if (!doc) {
		rc = cli_fail(&spec, OPLOG_ENOMEM);
		goto done;
	}
	if (c.common.json && cli_print_json(doc)) {
		rc = cli_fail(&spec, OPLOG_EIO);
		goto done;
	}
	if (!c.common.json)
		print_text(doc);
	if (kerr)
		rc = cli_error(&spec, "%s", why);
	else
		rc = a.has_max && (uint64_t)total > a.max_lag ? CLI_EXIT_NO : CLI_EXIT_OK;
done:
	json_decref(doc);
	json_decref(arr);
	json_decref(nodes);
	json_decref(lost);
	cli_store_end(&c);
	return rc;
}
