/*
 * cmd_chain.c: `oplogd chain --dataset DS --node N [--from HASH]
 * [--forward] [--limit N] [--json]`: walk one node's hash chain and say
 * why the walk ended.
 */
#include <stdio.h>

#include "cli_store.h"
#include "oplog/error.h"
#include "oplog/json.h"

enum { OPT_FROM = CLI_OPT_CMD, OPT_FORWARD };

static const struct cli_option options[] = {
	CLI_OPTION_DATASET,
	{ "node", 0, required_argument, "NODE", "the node whose chain to walk (required)",
	  CLI_OPT_NODE },
	{ "from", 0, required_argument, "HASH",
	  "start at this entry (default: the head; with --forward the first entry)",
	  OPT_FROM },
	{ "forward", 0, no_argument, NULL,
	  "walk towards the head through forward links (smallest hash at a fork)",
	  OPT_FORWARD },
	CLI_OPTION_LIMIT,
	CLI_OPTION_JSON,
	CLI_OPTIONS_COMMON,
	CLI_OPTIONS_END
};

static const struct cli_spec spec = {
	"chain", NULL,
	"Backward by default, through each entry's prev. The start entry is\n"
	"included. The walk ends at genesis (seq 1), pruned (the next entry was\n"
	"pruned), gap (it is missing), head (forward: nothing links on) or limit.\n"
	"Exit 0; 1 when the node or the start hash is unknown; 2 usage or error.\n"
	"--json: {\"entries\":[ENTRY,...],\"ends\":\"genesis\"|\"pruned\"|\"gap\"|"
	"\"head\"|\"limit\"}.",
	options
};

struct chain_args {
	const char *from;
	int         forward;
};

static int on_option(void *ctx, const struct cli_option *opt, const char *arg)
{
	struct chain_args *a = ctx;

	if (opt->id == OPT_FROM)
		a->from = arg;
	else if (opt->id == OPT_FORWARD)
		a->forward = 1;
	return 0;
}

struct out {
	int              json;
	struct cli_jlist list;
	uint64_t         n;     /* entries shown */
};

static int on_entry(const struct oplog_entry *e, const void *msg, size_t len, void *arg)
{
	struct out *o = arg;

	(void)msg;
	(void)len;
	if (o->n++ == 0 && !o->json)
		cli_print_entry_header(stdout);
	if (o->json)
		return cli_jlist_add(&o->list, oplog_json_entry(e));
	cli_print_entry_line(stdout, e);
	return 0;
}

int cmd_chain(int argc, char **argv)
{
	struct cli_store_cmd c;
	struct chain_args a = { NULL, 0 };
	enum oplog_chain_end end = OPLOG_CHAIN_GAP;
	uint8_t from[OPLOG_HASH_LEN];
	struct out o;
	int err, rc;

	rc = cli_store_begin(&spec, argc, argv, &c, CLI_STORE_RDONLY | CLI_STORE_NEED_DS,
	                     0, 0, on_option, &a);
	if (rc != CLI_RUN)
		goto done;
	if (c.node == NULL) {
		rc = cli_usage_error(&spec, "--node NODE is required");
		goto done;
	}
	if (a.from && cli_parse_hash(a.from, from) != 0) {
		rc = cli_usage_error(&spec, "--from: expected 64 hex digits, got '%s'", a.from);
		goto done;
	}
	o.json = c.common.json;
	o.n = 0;
	cli_jlist_begin(&o.list, stdout, "{\"entries\":[");
	err = oplog_store_chain(c.s, cli_slice(c.dataset), cli_slice(c.node),
	                        a.from ? from : NULL, a.forward, c.limit, on_entry, &o, &end);
	if (err == OPLOG_ENOTFOUND && o.n == 0) {
		/* Nothing printed yet: the answer is a plain no (and, with
		 * --json, still one document). */
		fprintf(stderr, "oplogd chain: %s\n", a.from ? "no entry of that node with that hash"
		                                             : "no such node in that dataset");
		if (o.json && (fputs("{\"entries\":[],\"ends\":null}", stdout) < 0 ||
		               cli_json_end(stdout) != 0)) {
			rc = cli_fail(&spec, OPLOG_EIO);
			goto done;
		}
		rc = CLI_EXIT_NO;
		goto done;
	}
	if (err == 0 && o.json) {
		if ((err = cli_jlist_close(&o.list, "],\"ends\":\"")) == 0 &&
		    fputs(oplog_chain_end_name(end), stdout) >= 0 && fputs("\"}", stdout) >= 0)
			err = cli_json_end(stdout);
		else if (err == 0)
			err = oplog_error__set(OPLOG_EIO, "write stdout");
	} else if (err == 0) {
		printf("ends: %s\n", oplog_chain_end_name(end));
	}
	rc = err ? cli_fail(&spec, err) : CLI_EXIT_OK;
done:
	cli_store_end(&c);
	return rc;
}
