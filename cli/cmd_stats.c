/*
 * cmd_stats.c: `oplogd stats [--json]`: the store's counters and sizes.
 * Counters count events since the store was created (a duplicate imported
 * twice counts twice); entries, datasets and nodes are what is there now.
 */
#include <inttypes.h>

#include "cli_store.h"
#include "oplog/error.h"
#include "oplog/json.h"

static const struct cli_option options[] = {
	CLI_OPTION_JSON,
	CLI_OPTIONS_COMMON,
	CLI_OPTIONS_END
};

static const struct cli_spec spec = {
	"stats", NULL,
	"--json: {\"entries\",\"datasets\",\"nodes\",\"duplicates\",\"late\",\"forks\","
	"\"chain_breaks\",\n\"below_boundary\",\"rejected\":{CODE:n},\"store_bytes\","
	"\"applied\",\"rejects_kept\",\"map_size\",\n\"store_id\"}; rejected lists the "
	"reasons seen.",
	options
};

static json_t *stats_json(const struct oplog_stats *st, const uint8_t *id)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:I,s:I,s:I,s:I,s:o}",
	                 "entries", (json_int_t)st->entries,
	                 "datasets", (json_int_t)st->datasets,
	                 "nodes", (json_int_t)st->nodes,
	                 "duplicates", (json_int_t)st->duplicates,
	                 "late", (json_int_t)st->late,
	                 "forks", (json_int_t)st->forks,
	                 "chain_breaks", (json_int_t)st->chain_breaks,
	                 "below_boundary", (json_int_t)st->below_boundary,
	                 "rejected", oplog_json_reject_counts(st->rejected),
	                 "store_bytes", (json_int_t)st->store_bytes,
	                 "applied", (json_int_t)st->applied,
	                 "rejects_kept", (json_int_t)st->rejects_kept,
	                 "map_size", (json_int_t)st->map_size,
	                 "store_id", oplog_json_hex(id, OPLOG_STORE_ID_LEN));
}

static void stats_text(const struct oplog_stats *st, const uint8_t *id)
{
	uint64_t total = 0;
	int r;

	for (r = OPLOG_R_NONE + 1; r < OPLOG_R__COUNT; r++)
		total += st->rejected[r];
	printf("store_id        ");
	cli_print_hex(stdout, id, OPLOG_STORE_ID_LEN);
	printf("\nentries         %" PRIu64 "\n", st->entries);
	printf("datasets        %" PRIu64 "\n", st->datasets);
	printf("nodes           %" PRIu64 "\n", st->nodes);
	printf("applied         %" PRIu64 "\n", st->applied);
	printf("duplicates      %" PRIu64 "\n", st->duplicates);
	printf("late            %" PRIu64 "\n", st->late);
	printf("forks           %" PRIu64 "\n", st->forks);
	printf("chain_breaks    %" PRIu64 "\n", st->chain_breaks);
	printf("below_boundary  %" PRIu64 "\n", st->below_boundary);
	printf("rejected        %" PRIu64, total);
	for (r = OPLOG_R_NONE + 1; r < OPLOG_R__COUNT; r++)
		if (st->rejected[r])
			printf(" %s=%" PRIu64, oplog_reason_name((enum oplog_reason)r),
			       st->rejected[r]);
	printf("\nrejects_kept    %" PRIu64 "\n", st->rejects_kept);
	printf("store_bytes     %" PRIu64 "\n", st->store_bytes);
	printf("map_size        %" PRIu64 "\n", st->map_size);
}

int cmd_stats(int argc, char **argv)
{
	struct cli_store_cmd c;
	struct oplog_stats st;
	json_t *doc = NULL;
	int err, rc;

	rc = cli_store_begin(&spec, argc, argv, &c, CLI_STORE_RDONLY, 0, 0, NULL, NULL);
	if (rc != CLI_RUN)
		goto done;
	if ((err = oplog_store_stats(c.s, &st)) != 0) {
		rc = cli_fail(&spec, err);
		goto done;
	}
	if (!c.common.json) {
		stats_text(&st, oplog_store_id(c.s));
		rc = CLI_EXIT_OK;
		goto done;
	}
	if ((doc = stats_json(&st, oplog_store_id(c.s))) == NULL) {
		rc = cli_error(&spec, "out of memory");
		goto done;
	}
	rc = cli_print_json(doc) ? cli_fail(&spec, OPLOG_EIO) : CLI_EXIT_OK;
done:
	json_decref(doc);
	cli_store_end(&c);
	return rc;
}
