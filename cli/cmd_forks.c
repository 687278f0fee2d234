/*
 * cmd_forks.c: `oplogd forks --dataset DS [--json]`: every (node, seq)
 * that has more than one distinct hash, a sign of a faulty or cloned node.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "cli_store.h"
#include "oplog/bytes.h"
#include "oplog/error.h"
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
	char *all, *at;
	size_t i;
	int rc;

	if (o->json)
		return cli_jlist_add(&o->items, oplog_json_fork(node, seq, hashes, n));
	cli_table_add_text(o->table, node.ptr, node.len);
	cli_table_add(o->table, "%" PRIu64, seq);
	/* The hashes as one cell, comma-separated: n hex hashes, n - 1 commas
	 * and the NUL oplog_hex writes. */
	if ((all = malloc(n * (2 * OPLOG_HASH_LEN + 1) + 1)) == NULL)
		return oplog_error__set(OPLOG_ENOMEM, "forks: out of memory");
	all[0] = '\0';
	for (i = 0, at = all; i < n; i++) {
		if (i)
			*at++ = ',';
		oplog_hex(hashes[i], OPLOG_HASH_LEN, at);
		at += 2 * OPLOG_HASH_LEN;
	}
	rc = cli_table_add(o->table, "%s", all);
	free(all);
	return rc ? rc : cli_table_end_row(o->table);
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
