/*
 * cmd_dump.c: `oplogd dump [--json]`: the store's logical content as one
 * JSON document (oplog/dump.h), streamed. Equal stores dump to equal
 * bytes, so `diff` of two dumps is the convergence check.
 */
#include "cli_store.h"
#include "oplog/dump.h"

static const struct cli_spec spec = {
	"dump", NULL,
	"The output is JSON with or without --json (there is no table form), one\n"
	"element per line: {\"datasets\":[{\"name\",\"entries\",\"heads\",\"watermarks\",\n"
	"\"documents\",\"forks\",\"chain_breaks\"}]}, datasets by name, entries in HLC\n"
	"order. Keyed by names and hashes; offsets, counters, rejects and the store\n"
	"id are left out. Each section is read in its own transaction: for a\n"
	"point-in-time dump of a store being written, dump a snapshot.",
	cli_json_options
};

int cmd_dump(int argc, char **argv)
{
	struct cli_store_cmd c;
	int err, rc;

	rc = cli_store_begin(&spec, argc, argv, &c, CLI_STORE_RDONLY, 0, 0, NULL, NULL);
	if (rc != CLI_RUN)
		goto done;
	err = oplog_store_dump(c.s, stdout);
	rc = err ? cli_fail(&spec, err) : CLI_EXIT_OK;
done:
	cli_store_end(&c);
	return rc;
}
