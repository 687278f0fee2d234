/*
 * cmd_heads.c: `oplogd heads --dataset DS [--json]`: each node's head,
 * the greatest entry of that node in HLC order, sorted by node.
 */
#include <inttypes.h>

#include "cli_store.h"
#include "oplog/json.h"

static const struct cli_spec spec = {
	"heads", NULL,
	"Nodes known only through entries below the prune boundary have no head\n"
	"and are left out; an unknown dataset has no heads.\n"
	"--json: [{\"node\",\"seq\",\"wall\",\"logic\",\"hash\"}], sorted by node.",
	cli_dataset_options
};

static int on_node(const struct oplog_node_info *n, void *arg)
{
	struct cli_list *o = arg;

	if (n->head_seq == 0)
		return 0;
	if (o->json)
		return cli_jlist_add(&o->items, oplog_json_head(n));
	cli_print_text(stdout, n->node.ptr, n->node.len);
	printf(" %" PRIu64 " %" PRIu64 " %" PRIu32 " ", n->head_seq, n->head_wall,
	       n->head_logic);
	cli_print_hex(stdout, n->head_hash, OPLOG_HASH_LEN);
	putchar('\n');
	return 0;
}

static int walk(struct cli_store_cmd *c, struct cli_list *l)
{
	return oplog_store_nodes(c->s, cli_slice(c->dataset), on_node, l);
}

int cmd_heads(int argc, char **argv)
{
	return cli_store_list(&spec, argc, argv, CLI_STORE_RDONLY | CLI_STORE_NEED_DS,
	                      "NODE SEQ WALL LOGIC HASH", walk);
}
