/*
 * cmd_forks.c: `oplogd forks --dataset DS [--json]`: every (node, seq)
 * that has more than one distinct hash, a sign of a faulty or cloned node.
 */
#include <inttypes.h>

#include "cli_store.h"
#include "oplog/json.h"

static const struct cli_spec spec = {
	"forks", NULL,
	"--json: [{\"node\",\"seq\",\"hashes\":[HASH,...]}], by node then seq; hashes\n"
	"ascending.",
	cli_dataset_options
};

static int on_fork(struct oplog_slice node, uint64_t seq,
                   const uint8_t (*hashes)[OPLOG_HASH_LEN], size_t n, void *arg)
{
	struct cli_list *o = arg;
	size_t i;

	if (o->json)
		return cli_jlist_add(&o->items, oplog_json_fork(node, seq, hashes, n));
	cli_print_text(stdout, node.ptr, node.len);
	printf(" %" PRIu64, seq);
	for (i = 0; i < n; i++) {
		putchar(i ? ',' : ' ');
		cli_print_hex(stdout, hashes[i], OPLOG_HASH_LEN);
	}
	putchar('\n');
	return 0;
}

static int walk(struct cli_store_cmd *c, struct cli_list *l)
{
	return oplog_store_forks(c->s, cli_slice(c->dataset), on_fork, l);
}

int cmd_forks(int argc, char **argv)
{
	return cli_store_list(&spec, argc, argv, CLI_STORE_RDONLY | CLI_STORE_NEED_DS,
	                      "NODE SEQ HASHES", walk);
}
