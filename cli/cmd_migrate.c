/*
 * cmd_migrate.c: `oplogd migrate`: upgrade the store to this oplogd's
 * schema (oplog_store_migrate), or say that it is current. A read-write
 * command (apply, import, replay, prune) upgrades it too, on open; this
 * command does it alone, and says what it did.
 */
#include <stdio.h>
#include <string.h>

#include "cli_store.h"
#include "oplog/error.h"
#include "oplog/json.h"

static const struct cli_spec spec = {
	"migrate", NULL,
	"The new layout is built in DIR/migrate.tmp and then replaces the old file,\n"
	"so an interrupted upgrade leaves the old store as it was (run it again).\n"
	"Everything the store holds is kept: its id, dataset and node ids, offsets,\n"
	"replay cursors, lost ranges, rejects and counters. No other program may have\n"
	"the store open. Progress is logged on stderr.\n"
	"--json: {\"store\",\"from_schema\",\"schema\",\"entries\",\"seconds\"};\n"
	"from_schema is 0 when the store was already current.",
	cli_json_options
};

int cmd_migrate(int argc, char **argv)
{
	struct cli_store_cmd c;
	struct oplog_store_opts opts;
	struct oplog_migrate_stats st;
	json_t *doc = NULL;
	int err, rc;

	rc = cli_store_begin(&spec, argc, argv, &c, CLI_STORE_NO_STORE, 0, 0, NULL, NULL);
	if (rc != CLI_RUN)
		goto done;
	if ((rc = cli_store_opts(&spec, c.cfg, 0, &opts)) != CLI_RUN)
		goto done;
	err = oplog_store_migrate(&opts, &st);
	if (err == OPLOG_ENOTFOUND) {
		rc = cli_error(&spec, "no store at %s", opts.path);
		goto done;
	}
	if (err != 0) {
		rc = cli_fail(&spec, err);
		goto done;
	}
	if (!c.common.json) {
		if (st.from_schema)
			printf("upgraded %s from schema %u to %d: %llu entries in %.2f s\n", opts.path,
			       st.from_schema, OPLOG_STORE_SCHEMA, (unsigned long long)st.entries,
			       st.seconds);
		else
			printf("%s is at schema %d already: nothing to do\n", opts.path,
			       OPLOG_STORE_SCHEMA);
		rc = CLI_EXIT_OK;
		goto done;
	}
	doc = json_pack("{s:o,s:i,s:i,s:I,s:f}",
	                "store", oplog_json_text((const uint8_t *)opts.path, strlen(opts.path)),
	                "from_schema", (int)st.from_schema, "schema", OPLOG_STORE_SCHEMA,
	                "entries", (json_int_t)st.entries, "seconds", st.seconds);
	if (!doc) {
		rc = cli_error(&spec, "out of memory");
		goto done;
	}
	/* Seconds to six digits, not seventeen. */
	if (json_dumpf(doc, stdout, OPLOG_JSON_FLAGS | JSON_REAL_PRECISION(6)) != 0 ||
	    cli_json_end(stdout) != 0) {
		rc = cli_fail(&spec, OPLOG_EIO);
		goto done;
	}
	rc = CLI_EXIT_OK;
done:
	json_decref(doc);
	cli_store_end(&c);
	return rc;
}
