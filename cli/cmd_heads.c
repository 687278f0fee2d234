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
	"and are left out; an unknown dataset has no heads. WALL is the head's\n"
	"HLC wall clock in Unix ms, TIME the same in UTC.\n"
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
	cli_table_add_text(o->table, n->node.ptr, n->node.len);
	cli_table_add(o->table, "%" PRIu64, n->head_seq);
	cli_table_add(o->table, "%" PRIu64, n->head_wall);
	cli_table_add(o->table, "%" PRIu32, n->head_logic);
	cli_table_add_time(o->table, n->head_wall);
	cli_table_add_hex(o->table, n->head_hash, OPLOG_HASH_LEN);
	return cli_table_end_row(o->table);
}

static int walk(struct cli_store_cmd *c, struct cli_list *l)
{
	return oplog_store_nodes(c->s, cli_slice(c->dataset), on_node, l);
}

int cmd_heads(int argc, char **argv)
{
	return cli_store_list(&spec, argc, argv, CLI_STORE_RDONLY | CLI_STORE_NEED_DS,
	                      "NODE SEQ WALL LOGIC TIME HASH", walk);
}
