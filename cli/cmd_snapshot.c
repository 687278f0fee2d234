/*
 * cmd_snapshot.c: `oplogd snapshot DIR`: a consistent, compacted copy of
 * the store, taken in one read transaction while writers go on. The copy
 * keeps node ids, offsets and the store id, so `apply` on it resumes
 * where the original was when the copy began.
 */
#include <stdio.h>
#include <string.h>

#include "cli_store.h"
#include "oplog/error.h"
#include "oplog/json.h"

static const struct cli_spec spec = {
	"snapshot", "DIR",
	"DIR must be new or empty; it is created when missing.\n"
	"--json: {\"snapshot\":DIR}.",
	cli_json_options
};

int cmd_snapshot(int argc, char **argv)
{
	struct cli_store_cmd c;
	const char *dir;
	int err, rc;

	rc = cli_store_begin(&spec, argc, argv, &c, CLI_STORE_RDONLY, 1, 1, NULL, NULL);
	if (rc != CLI_RUN)
		goto done;
	dir = argv[c.first];
	if ((err = oplog_store_snapshot(c.s, dir)) != 0) {
		rc = cli_fail(&spec, err);
		goto done;
	}
	if (!c.common.json) {
		printf("snapshot written to %s\n", dir);
		rc = CLI_EXIT_OK;
		goto done;
	}
	rc = cli_answer_json(&spec, json_pack("{s:o}", "snapshot",
	                                      oplog_json_text((const uint8_t *)dir, strlen(dir))));
done:
	cli_store_end(&c);
	return rc;
}
