/*
 * cmd_forks.c: `oplogd forks --dataset DS [--json]`: every (node, seq)
 * that has more than one distinct hash, a sign of a faulty or cloned node.
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
	"forks", NULL,
	"--json: [{\"node\",\"seq\",\"hashes\":[HASH,...]}], by node then seq; hashes\n"
	"ascending.",
	options
};

struct out {
	int              json;
	struct cli_jlist list;
};

static int on_fork(struct oplog_slice node, uint64_t seq,
                   const uint8_t (*hashes)[OPLOG_HASH_LEN], size_t n, void *arg)
{
	struct out *o = arg;
	size_t i;

	if (o->json)
		return cli_jlist_add(&o->list, oplog_json_fork(node, seq, hashes, n));
	cli_print_text(stdout, node.ptr, node.len);
	printf(" %" PRIu64, seq);
	for (i = 0; i < n; i++) {
		putchar(i ? ',' : ' ');
		cli_print_hex(stdout, hashes[i], OPLOG_HASH_LEN);
	}
	putchar('\n');
	return 0;
}

int cmd_forks(int argc, char **argv)
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
		puts("NODE SEQ HASHES");
	err = oplog_store_forks(c.s, cli_slice(c.dataset), on_fork, &o);
	rc = cli_jlist_finish(&spec, &o.list, o.json, err);
done:
	cli_store_end(&c);
	return rc;
}
