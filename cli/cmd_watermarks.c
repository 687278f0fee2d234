/*
 * cmd_watermarks.c: `oplogd watermarks --dataset DS [--json]`: the
 * dataset's vector clock. Per node the watermark W (seq 1..W all present
 * or pruned), the head's seq, and the missing ranges between them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli_store.h"
#include "oplog/error.h"
#include "oplog/json.h"

static const struct cli_spec spec = {
	"watermarks", NULL,
	"An unknown dataset has no nodes. GAPS lists the missing seqs below the\n"
	"head: 7 for one, 9-12 for a run, - for none.\n"
	"--json: [{\"node\",\"watermark\",\"head_seq\",\"gaps\":[[from,to],...],"
	"\"pruned_through\"}],\n"
	"sorted by node; gap ranges are inclusive.",
	cli_dataset_options
};

static int on_node(const struct oplog_node_info *n, void *arg)
{
	struct cli_list *o = arg;
	char *gaps = NULL;
	size_t i, len = 0;
	FILE *f;

	if (o->json)
		return cli_jlist_add(&o->items, oplog_json_watermark(n));
	cli_table_add_text(o->table, n->node.ptr, n->node.len);
	cli_table_add(o->table, "%" PRIu64, n->watermark);
	cli_table_add(o->table, "%" PRIu64, n->head_seq);
	cli_table_add(o->table, "%" PRIu64, n->pruned_through);
	/* One missing seq reads as itself, a run as FROM-TO. */
	if ((f = open_memstream(&gaps, &len)) == NULL)
		return oplog_error__set(OPLOG_ENOMEM, "watermarks: out of memory");
	if (n->n_gaps == 0)
		fputc('-', f);
	for (i = 0; i < n->n_gaps; i++) {
		fprintf(f, "%s%" PRIu64, i ? "," : "", n->gaps[i][0]);
		if (n->gaps[i][1] != n->gaps[i][0])
			fprintf(f, "-%" PRIu64, n->gaps[i][1]);
	}
	if (fclose(f) != 0) {
		free(gaps);
		return oplog_error__set(OPLOG_ENOMEM, "watermarks: out of memory");
	}
	cli_table_add(o->table, "%s", gaps);
	free(gaps);
	return cli_table_end_row(o->table);
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
