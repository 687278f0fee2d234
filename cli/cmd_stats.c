/*
 * cmd_stats.c: `oplogd stats [--json]`: the store's counters and sizes.
 * Counters count events since the store was created (a duplicate imported
 * twice counts twice); entries, datasets and nodes are what is there now.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli_store.h"
#include "oplog/bytes.h"
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
	"the store read them (messages null: the partition's offsets went backwards).\n"
	"Text: one name and value a line; store_bytes and map_size in binary units\n"
	"with the exact bytes in parentheses.",
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

/* A counter's row. */
static void row_count(struct cli_table *t, const char *name, uint64_t v)
{
	cli_table_add(t, "%s", name);
	cli_table_add(t, "%" PRIu64, v);
	cli_table_end_row(t);
}

/* A size's row: binary units for people, the exact bytes for scripts. */
static void row_size(struct cli_table *t, const char *name, uint64_t v)
{
	char human[OPLOG_HUMAN_MAX];

	oplog_size_human(v, human);
	cli_table_add(t, "%s", name);
	cli_table_add(t, "%s (%" PRIu64 ")", human, v);
	cli_table_end_row(t);
}

/* The name/value list; returns 0 or the table's failure. */
static int stats_text(const struct oplog_stats *st, const uint8_t *id,
                      const json_t *offsets, const json_t *lost)
{
	char hex[2 * OPLOG_STORE_ID_LEN + 1], *by = NULL;
	struct cli_table *t = cli_table_new(stdout, "NAME VALUE", CLI_TABLE_NO_HEADER);
	size_t i, len = 0;
	json_t *o;
	uint64_t total = 0;
	FILE *f = NULL;
	int r, err;

	if (t == NULL || (f = open_memstream(&by, &len)) == NULL) {
		err = oplog_error__set(OPLOG_ENOMEM, "stats: out of memory");
		goto done;
	}
	for (r = OPLOG_R_NONE + 1; r < OPLOG_R__COUNT; r++) {
		total += st->rejected[r];
		if (st->rejected[r])
			fprintf(f, " %s=%" PRIu64, oplog_reason_name((enum oplog_reason)r),
			        st->rejected[r]);
	}
	if (fclose(f) != 0) {
		f = NULL;
		err = oplog_error__set(OPLOG_ENOMEM, "stats: out of memory");
		goto done;
	}
	f = NULL;
	oplog_hex(id, OPLOG_STORE_ID_LEN, hex);
	cli_table_add(t, "store_id");
	cli_table_add(t, "%s", hex);
	cli_table_end_row(t);
	row_count(t, "entries", st->entries);
	row_count(t, "datasets", st->datasets);
	row_count(t, "nodes", st->nodes);
	row_count(t, "applied", st->applied);
	row_count(t, "duplicates", st->duplicates);
	row_count(t, "late", st->late);
	row_count(t, "forks", st->forks);
	row_count(t, "chain_breaks", st->chain_breaks);
	row_count(t, "below_boundary", st->below_boundary);
	cli_table_add(t, "rejected");
	cli_table_add(t, "%" PRIu64 "%s", total, by);
	cli_table_end_row(t);
	row_count(t, "rejects_kept", st->rejects_kept);
	row_size(t, "store_bytes", st->store_bytes);
	row_size(t, "map_size", st->map_size);
	json_array_foreach(offsets, i, o) {
		cli_table_add(t, "offset");
		cli_table_add(t, "%s/%d next %" JSON_INTEGER_FORMAT,
		              json_string_value(json_object_get(o, "topic")),
		              (int)json_integer_value(json_object_get(o, "partition")),
		              json_integer_value(json_object_get(o, "next")));
		cli_table_end_row(t);
	}
	cli_table_add(t, "lost_messages");
	cli_table_add(t, "%" JSON_INTEGER_FORMAT, cli_lost_messages(lost));
	cli_table_end_row(t);
	json_array_foreach(lost, i, o) {
		cli_table_add(t, "lost");
		cli_table_add(t, "%s/%d offsets %" JSON_INTEGER_FORMAT " .. %" JSON_INTEGER_FORMAT "%s",
		              json_string_value(json_object_get(o, "topic")),
		              (int)json_integer_value(json_object_get(o, "partition")),
		              json_integer_value(json_object_get(o, "from")),
		              json_integer_value(json_object_get(o, "to")),
		              json_is_null(json_object_get(o, "messages"))
		              ? " (offsets went backwards)" : "");
		cli_table_end_row(t);
	}
	err = cli_table_finish(t);
done:
	if (f)
		fclose(f);
	free(by);
	cli_table_free(t);
	return err;
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
		err = stats_text(&st, oplog_store_id(c.s), offsets, lost);
		rc = err ? cli_fail(&spec, err) : CLI_EXIT_OK;
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
