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
	"metadata is this store's id (BY_STORE in the table). Per node: head seq,\n"
	"watermark, the number of gap ranges below the head, the head's wall clock\n"
	"(HEAD_TIME, UTC) and the time since the node's newest entry (SINCE_HEAD:\n"
	"the local clock minus the head's wall, e.g. 6h 12m). A node that stopped\n"
	"writing reads as far behind as one whose entries do not arrive; a large\n"
	"SINCE_HEAD says to look, not that entries are missing.\n"
	"--json: {\"partitions\":[{\"topic\",\"partition\",\"low\",\"high\",\"stored\",\n"
	"\"committed\",\"committed_by_store\",\"lag\"}],\"nodes\":[{\"dataset\",\"node\",\n"
	"\"head_seq\",\"watermark\",\"gaps\",\"time_lag_ms\",\"head_wall\"}],\"total_lag\",\n"
	"\"lost_offsets\",\"lost_messages\"}; stored and committed are null when absent;\n"
	"time_lag_ms is SINCE_HEAD in ms, head_wall the head's wall in Unix ms.\n"
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

	return json_array_append_new(x->arr, json_pack("{s:o,s:o,s:I,s:I,s:I,s:o,s:o}",
	                             "dataset", oplog_json_text(x->ds.ptr, x->ds.len),
	                             "node", oplog_json_text(n->node.ptr, n->node.len),
	                             "head_seq", (json_int_t)n->head_seq,
	                             "watermark", (json_int_t)n->watermark,
	                             "gaps", (json_int_t)n->n_gaps,
	                             "time_lag_ms", n->head_seq ? json_integer(tl) : json_null(),
	                             "head_wall", n->head_seq ? json_integer((json_int_t)n->head_wall)
	                                                      : json_null()))
	       ? OPLOG_ENOMEM : 0;
}

static int dataset_fn(struct oplog_slice ds, void *arg)
{
	struct nodes_ctx *x = arg;

	x->ds = ds;
	return oplog_store_nodes(x->s, ds, node_fn, x);
}

/* A JSON integer as text, "-" for null. */
static void add_int(struct cli_table *t, const json_t *v)
{
	if (json_is_integer(v))
		cli_table_add(t, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else
		cli_table_add(t, "-");
}

/* A name from the store, escaped as the other tables escape it: a space
 * or a newline in it must not break the columns. */
static void add_name(struct cli_table *t, const json_t *v)
{
	const char *s = json_string_value(v);

	cli_table_add_text(t, (const uint8_t *)(s ? s : ""), s ? strlen(s) : 0);
}

/* The partitions table, when the broker answered. */
static void partitions_text(struct cli_table *t, const json_t *parts)
{
	const json_t *v;
	size_t i;

	json_array_foreach(parts, i, v) {
		cli_table_add(t, "%s/%d", json_string_value(json_object_get(v, "topic")),
		              (int)json_integer_value(json_object_get(v, "partition")));
		add_int(t, json_object_get(v, "high"));
		add_int(t, json_object_get(v, "stored"));
		add_int(t, json_object_get(v, "committed"));
		cli_table_add(t, "%s", json_is_true(json_object_get(v, "committed_by_store"))
		              ? "yes" : "no");
		add_int(t, json_object_get(v, "lag"));
		cli_table_end_row(t);
	}
}

/* The nodes table: how long since each node's newest entry, as a
 * duration a person reads at a glance and as the head's UTC time. */
static void nodes_text(struct cli_table *t, const json_t *nodes)
{
	char since[OPLOG_HUMAN_MAX];
	const json_t *v, *tl, *wall;
	size_t i;

	json_array_foreach(nodes, i, v) {
		tl = json_object_get(v, "time_lag_ms");
		wall = json_object_get(v, "head_wall");
		add_name(t, json_object_get(v, "dataset"));
		add_name(t, json_object_get(v, "node"));
		add_int(t, json_object_get(v, "head_seq"));
		add_int(t, json_object_get(v, "watermark"));
		add_int(t, json_object_get(v, "gaps"));
		if (json_is_integer(wall))
			cli_table_add_time(t, (uint64_t)json_integer_value(wall));
		else
			cli_table_add(t, "-");
		if (json_is_integer(tl)) {
			oplog_duration_human((uint64_t)json_integer_value(tl), since);
			cli_table_add(t, "%s", since);
		} else {
			cli_table_add(t, "-");
		}
		cli_table_end_row(t);
	}
}

/* The text form of doc; returns 0 or a table's failure. */
static int print_text(const json_t *doc)
{
	struct cli_table *t = NULL;
	int err = 0;

	if (!json_is_array(json_object_get(doc, "partitions"))) {
		printf("partitions: unknown (%s)\n", json_string_value(json_object_get(doc, "error")));
	} else {
		if (!(t = cli_table_new(stdout, "PARTITION HIGH STORED COMMITTED BY_STORE LAG", 0)))
			return OPLOG_ENOMEM;
		partitions_text(t, json_object_get(doc, "partitions"));
		err = cli_table_finish(t);
		cli_table_free(t);
		if (err)
			return err;
	}
	putchar('\n');
	if (!(t = cli_table_new(stdout, "DATASET NODE HEAD_SEQ WATERMARK GAPS HEAD_TIME SINCE_HEAD",
	                        0)))
		return OPLOG_ENOMEM;
	nodes_text(t, json_object_get(doc, "nodes"));
	err = cli_table_finish(t);
	cli_table_free(t);
	if (err)
		return err;
	if (json_is_integer(json_object_get(doc, "total_lag")))
		printf("\ntotal_lag %" JSON_INTEGER_FORMAT "\n",
		       json_integer_value(json_object_get(doc, "total_lag")));
	else
		printf("\ntotal_lag unknown\n");
	printf("lost_messages %" JSON_INTEGER_FORMAT "\n",
	       json_integer_value(json_object_get(doc, "lost_messages")));
	return 0;
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
	if (!c.common.json && (err = print_text(doc)) != 0) {
		rc = cli_fail(&spec, err);
		goto done;
	}
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
