/*
 * cmd_heads.c: `oplogd heads --dataset DS [--json]`: each node's head,
 * the greatest entry of that node in HLC order, sorted by node.
 */
#include <inttypes.h>

#include "cli_store.h"
#include "oplog/json.h"

static const struct cli_option options[] = {
	CLI_OPTION_DATASET,
	CLI_OPTION_JSON,
	CLI_OPTIONS_COMMON,
	CLI_OPTIONS_END
};

static const struct cli_spec spec = {
	"heads", NULL,
	"Nodes known only through entries below the prune boundary have no head\n"
	"and are left out; an unknown dataset has no heads.\n"
	"--json: [{\"node\",\"seq\",\"wall\",\"logic\",\"hash\"}], sorted by node.",
	options
};

struct out {
	int              json;
	struct cli_jlist list;
};

static int on_node(const struct oplog_node_info *n, void *arg)
{
	struct out *o = arg;

	if (n->head_seq == 0)
		return 0;
	if (o->json)
		return cli_jlist_add(&o->list, oplog_json_head(n));
	cli_print_text(stdout, n->node.ptr, n->node.len);
	printf(" %" PRIu64 " %" PRIu64 " %" PRIu32 " ", n->head_seq, n->head_wall,
	       n->head_logic);
	cli_print_hex(stdout, n->head_hash, OPLOG_HASH_LEN);
	putchar('\n');
	return 0;
}

int cmd_heads(int argc, char **argv)
{
	struct cli_store_cmd c;
	struct out o;
	int err, rc;

	rc = cli_store_begin(&spec, argc, argv, &c, CLI_STORE_RDONLY | CLI_STORE_NEED_DS,
	                     0, 0, NULL, NULL);
	if (rc != CLI_RUN)
		goto done;
	o.json = c.common.json;
	cli_jlist_begin(&o.list, stdout, "[");
	if (!o.json)
		puts("NODE SEQ WALL LOGIC HASH");
	err = oplog_store_nodes(c.s, cli_slice(c.dataset), on_node, &o);
	rc = cli_jlist_finish(&spec, &o.list, o.json, err);
done:
	cli_store_end(&c);
	return rc;
}
