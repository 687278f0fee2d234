/*
 * cmd_watermarks.c: `oplogd watermarks --dataset DS [--json]`: the
 * dataset's vector clock. Per node the watermark W (seq 1..W all present
 * or pruned), the head's seq, and the missing ranges between them.
 */
#include <inttypes.h>

#include "cli_store.h"
#include "oplog/json.h"

static const struct cli_spec spec = {
	"watermarks", NULL,
	"An unknown dataset has no nodes.\n"
	"--json: [{\"node\",\"watermark\",\"head_seq\",\"gaps\":[[from,to],...],"
	"\"pruned_through\"}],\n"
	"sorted by node; gap ranges are inclusive.",
	cli_dataset_options
};

static int on_node(const struct oplog_node_info *n, void *arg)
{
	struct cli_list *o = arg;
	size_t i;

	if (o->json)
		return cli_jlist_add(&o->items, oplog_json_watermark(n));
	cli_print_text(stdout, n->node.ptr, n->node.len);
	printf(" %" PRIu64 " %" PRIu64 " %" PRIu64 " ", n->watermark, n->head_seq,
	       n->pruned_through);
	if (n->n_gaps == 0)
		putchar('-');
	for (i = 0; i < n->n_gaps; i++)
		printf("%s%" PRIu64 "-%" PRIu64, i ? "," : "", n->gaps[i][0], n->gaps[i][1]);
	putchar('\n');
	return 0;
}

static int walk(struct cli_store_cmd *c, struct cli_list *l)
{
	return oplog_store_nodes(c->s, cli_slice(c->dataset), on_node, l);
}

int cmd_watermarks(int argc, char **argv)
{
	return cli_store_list(&spec, argc, argv, CLI_STORE_RDONLY | CLI_STORE_NEED_DS,
	                      "NODE WATERMARK HEAD_SEQ PRUNED_THROUGH GAPS", walk);
}
