/*
 * cmd_get.c: `oplogd get --dataset DS HASH [--json]`: one entry by hash,
 * in the `decode` form (without "ok"). Exit 1 when the dataset has no
 * such entry (never seen, or pruned).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli_store.h"
#include "oplog/error.h"
#include "oplog/json.h"

static const struct cli_spec spec = {
	"get", "HASH",
	"HASH is the entry's 64-digit hex hash. Exit 1 when not found; with --json\n"
	"the output is then null.\n"
	"Exit 0 found; 1 not found; 2 usage or store error.\n"
	"--json: {\"ds\",\"node\",\"seq\",\"wall\",\"logic\",\"col\",\"key\",\"op\","
	"\"data\",\"prev\",\"hash\"}.",
	cli_dataset_options
};

struct out {
	int     json;
	json_t *doc;
};

static int on_entry(const struct oplog_entry *e, const void *msg, size_t len, void *arg)
{
	struct out *o = arg;

	(void)msg;
	(void)len;
	if (!o->json) {
		cli_print_entry(stdout, e);
		return 0;
	}
	if ((o->doc = oplog_json_entry(e)) == NULL)
		return OPLOG_ENOMEM;
	return 0;
}

int cmd_get(int argc, char **argv)
{
	struct cli_store_cmd c;
	struct out o = { 0, NULL };
	uint8_t hash[OPLOG_HASH_LEN];
	int err, rc;

	rc = cli_store_begin(&spec, argc, argv, &c, CLI_STORE_RDONLY | CLI_STORE_NEED_DS,
	                     1, 1, NULL, NULL);
	if (rc != CLI_RUN)
		goto done;
	if (cli_parse_hash(argv[c.first], hash) != 0) {
		rc = cli_usage_error(&spec, "HASH: expected 64 hex digits, got '%s'", argv[c.first]);
		goto done;
	}
	o.json = c.common.json;
	err = oplog_store_get(c.s, cli_slice(c.dataset), hash, on_entry, &o);
	if (err == OPLOG_ENOTFOUND) {
		fprintf(stderr, "oplogd get: no entry %s in dataset %s\n", argv[c.first],
		        c.dataset);
		if (o.json && (puts("null") < 0 || fflush(stdout) != 0)) {
			rc = cli_error(&spec, "write stdout: %s", strerror(errno));
			goto done;
		}
		rc = CLI_EXIT_NO;
		goto done;
	}
	if (err == 0 && o.json && cli_print_json(o.doc) != 0)
		err = OPLOG_EIO;
	rc = err ? cli_fail(&spec, err) : CLI_EXIT_OK;
done:
	json_decref(o.doc);
	cli_store_end(&c);
	return rc;
}
