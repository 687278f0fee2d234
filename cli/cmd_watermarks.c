/*
 * cmd_watermarks.c: `oplogd watermarks --dataset DS [--json]`: the
 * dataset's vector clock. Per node the watermark W (seq 1..W all present
 * or pruned), the head's seq, and the missing ranges between them.
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
	"watermarks", NULL,
	"An unknown dataset has no nodes.\n"
	"--json: [{\"node\",\"watermark\",\"head_seq\",\"gaps\":[[from,to],...],"
	"\"pruned_through\"}],\n"
	"sorted by node; gap ranges are inclusive.",
	options
};

struct out {
	int              json;
	struct cli_jlist list;
};

static int on_node(const struct oplog_node_info *n, void *arg)
{
	struct out *o = arg;
	size_t i;

	if (o->json)
		return cli_jlist_add(&o->list, oplog_json_watermark(n));
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

int cmd_watermarks(int argc, char **argv)
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
		puts("NODE WATERMARK HEAD_SEQ PRUNED_THROUGH GAPS");
	err = oplog_store_nodes(c.s, cli_slice(c.dataset), on_node, &o);
	rc = cli_jlist_finish(&spec, &o.list, o.json, err);
done:
	cli_store_end(&c);
	return rc;
}
