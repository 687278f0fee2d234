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
	"\"applied\",\"rejects_kept\",\"map_size\",\n\"store_id\",\"offsets\":[{\"topic\",\"partition\",\"next\"}],\n"
	"\"lost_offsets\":[{\"topic\",\"partition\",\"from\",\"to\",\"messages\",\"at_ms\"}],\"lost_messages\"};\n"
	"rejected lists the reasons seen. offsets are the Kafka positions the store\n"
	"resumes from. lost_offsets are ranges [from, to) the broker deleted before\n"
	"the store read them (messages null: the partition's offsets went backwards).",
	options
};

static int offset_fn(const char *topic, int32_t partition, int64_t next, void *arg)
{
	return json_array_append_new(arg, json_pack("{s:s,s:i,s:I}", "topic", topic,
	                                            "partition", (int)partition,
	                                            "next", (json_int_t)next))
	       ? OPLOG_ENOMEM : 0;
}

/* The store's offsets and lost ranges as JSON arrays. */
static int positions(struct oplog_store *s, json_t **offsets, json_t **lost)
{
	int rc;

	if (!(*offsets = json_array()))
		return OPLOG_ENOMEM;
	if ((rc = oplog_store_offsets(s, offset_fn, *offsets)))
		return rc;
	return cli_lost_json(s, lost);
}

static json_t *stats_json(const struct oplog_stats *st, const uint8_t *id,
                          json_t *offsets, json_t *lost)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:I,s:I,s:I,s:I,s:o,s:O,s:O,s:I}",
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
	                 "store_id", oplog_json_hex(id, OPLOG_STORE_ID_LEN),
	                 "offsets", offsets, "lost_offsets", lost,
	                 "lost_messages", cli_lost_messages(lost));
}

static void stats_text(const struct oplog_stats *st, const uint8_t *id,
                       const json_t *offsets, const json_t *lost)
{
	size_t i;
	json_t *o;

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
	json_array_foreach(offsets, i, o)
		printf("offset          %s/%d next %" JSON_INTEGER_FORMAT "\n",
		       json_string_value(json_object_get(o, "topic")),
		       (int)json_integer_value(json_object_get(o, "partition")),
		       json_integer_value(json_object_get(o, "next")));
	printf("lost_messages   %" JSON_INTEGER_FORMAT "\n", cli_lost_messages(lost));
	json_array_foreach(lost, i, o) {
		printf("lost            %s/%d offsets %" JSON_INTEGER_FORMAT " .. %" JSON_INTEGER_FORMAT,
		       json_string_value(json_object_get(o, "topic")),
		       (int)json_integer_value(json_object_get(o, "partition")),
		       json_integer_value(json_object_get(o, "from")),
		       json_integer_value(json_object_get(o, "to")));
		if (json_is_null(json_object_get(o, "messages")))
			printf(" (offsets went backwards)");
		printf("\n");
	}
}

int cmd_stats(int argc, char **argv)
{
	struct cli_store_cmd c;
	struct oplog_stats st;
	json_t *doc = NULL, *offsets = NULL, *lost = NULL;
	int err, rc;

	rc = cli_store_begin(&spec, argc, argv, &c, CLI_STORE_RDONLY, 0, 0, NULL, NULL);
	if (rc != CLI_RUN)
		goto done;
	if ((err = oplog_store_stats(c.s, &st)) != 0 ||
	    (err = positions(c.s, &offsets, &lost)) != 0) {
		rc = cli_fail(&spec, err);
		goto done;
	}
	if (!c.common.json) {
		stats_text(&st, oplog_store_id(c.s), offsets, lost);
		rc = CLI_EXIT_OK;
		goto done;
	}
	if ((doc = stats_json(&st, oplog_store_id(c.s), offsets, lost)) == NULL) {
		rc = cli_error(&spec, "out of memory");
		goto done;
	}
	rc = cli_print_json(doc) ? cli_fail(&spec, OPLOG_EIO) : CLI_EXIT_OK;
done:
	json_decref(doc);
	json_decref(offsets);
	json_decref(lost);
	cli_store_end(&c);
	return rc;
}
