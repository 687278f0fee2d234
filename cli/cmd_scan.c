/*
 * cmd_scan.c: `oplogd scan --dataset DS [--node N] [--after WALL[:LOGIC]]
 * [--limit N] [--json]`: entries in HLC order, streamed, so a scan of a
 * whole dataset needs memory for one entry only.
 */
#include <inttypes.h>
#include <stdio.h>

#include "cli_store.h"
#include "oplog/error.h"
#include "oplog/json.h"

enum { OPT_AFTER = CLI_OPT_CMD };

static const struct cli_option options[] = {
	CLI_OPTION_DATASET,
	CLI_OPTION_NODE,
	{ "after", 0, required_argument, "WALL[:LOGIC]",
	  "only entries strictly after every entry at (WALL, LOGIC)", OPT_AFTER },
	CLI_OPTION_LIMIT,
	CLI_OPTION_JSON,
	CLI_OPTIONS_COMMON,
	CLI_OPTIONS_END
};

static const struct cli_spec spec = {
	"scan", NULL,
	"--after WALL alone skips every entry at WALL, whatever its logic. To page,\n"
	"pass the last entry's WALL:LOGIC; entries sharing it with the last one\n"
	"are skipped too, so page with a limit above the entries per HLC tick.\n"
	"WALL is the HLC wall clock in Unix ms, TIME the same in UTC. Columns stay\n"
	"aligned over the first 4096 rows; a wider cell after them shifts its line.\n"
	"--json: [ENTRY,...] in HLC order, each in the `get` form.",
	options
};

struct scan_args {
	const char *after;
};

static int on_option(void *ctx, const struct cli_option *opt, const char *arg)
{
	struct scan_args *a = ctx;

	if (opt->id == OPT_AFTER)
		a->after = arg;
	return 0;
}

struct out {
	int               json;
	struct cli_jlist  list;
	struct cli_table *table;  /* text output */
};

static int on_entry(const struct oplog_entry *e, const void *msg, size_t len, void *arg)
{
	struct out *o = arg;

	(void)msg;
	(void)len;
	if (o->json)
		return cli_jlist_add(&o->list, oplog_json_entry(e));
	cli_table_add(o->table, "%" PRIu64, e->wall);
	cli_table_add(o->table, "%" PRIu32, e->logic);
	cli_table_add_time(o->table, e->wall);
	cli_table_add_text(o->table, e->node.ptr, e->node.len);
	cli_table_add(o->table, "%" PRIu64, e->seq);
	cli_table_add(o->table, "%s", e->op == OPLOG_OP_DEL ? "del" : "put");
	cli_table_add_text(o->table, e->col.ptr, e->col.len);
	cli_table_add_text(o->table, e->key.ptr, e->key.len);
	cli_table_add_hex(o->table, e->hash, OPLOG_HASH_LEN);
	return cli_table_end_row(o->table);
}

/*
 * The store's position "strictly after every entry at (wall, logic)":
 * (wall, logic + 1) with an empty node, which sorts before every node, or
 * the next wall when logic is the last one or was not given. Returns 0
 * with *pos, or 1 when nothing can follow (an empty answer).
 */
static int position_after(uint64_t wall, uint32_t logic, int has_logic,
                          struct oplog_hlc *pos)
{
	pos->node.ptr = NULL;
	pos->node.len = 0;
	pos->hash = NULL;
	if (has_logic && logic < UINT32_MAX) {
		pos->wall = wall;
		pos->logic = logic + 1;
		return 0;
	}
	if (wall == UINT64_MAX)
		return 1;
	pos->wall = wall + 1;
	pos->logic = 0;
	return 0;
}

int cmd_scan(int argc, char **argv)
{
	struct cli_store_cmd c;
	struct scan_args a = { NULL };
	struct oplog_hlc after, *ap = NULL;
	struct out o = { 0 };
	uint64_t wall;
	uint32_t logic;
	int has_logic, empty = 0, err = 0, rc;

	rc = cli_store_begin(&spec, argc, argv, &c, CLI_STORE_RDONLY | CLI_STORE_NEED_DS,
	                     0, 0, on_option, &a);
	if (rc != CLI_RUN)
		goto done;
	if (a.after) {
		if (cli_parse_hlc(a.after, &wall, &logic, &has_logic) != 0) {
			rc = cli_usage_error(&spec, "--after: expected WALL[:LOGIC], got '%s'", a.after);
			goto done;
		}
		empty = position_after(wall, logic, has_logic, &after);
		ap = &after;
	}
	o.json = c.common.json;
	cli_jlist_begin(&o.list, stdout, "[");
	if (!o.json && (o.table = cli_table_new(stdout, "WALL LOGIC TIME NODE SEQ OP COL KEY HASH",
	                                          0)) == NULL) {
		rc = cli_fail(&spec, OPLOG_ENOMEM);
		goto done;
	}
	if (!empty && c.node)
		err = oplog_store_scan_node(c.s, cli_slice(c.dataset), cli_slice(c.node), ap,
		                            c.limit, on_entry, &o);
	else if (!empty)
		err = oplog_store_scan(c.s, cli_slice(c.dataset), ap, c.limit, on_entry, &o);
	/* An unknown node has no entries. */
	if (err == OPLOG_ENOTFOUND)
		err = 0;
	if (err == 0 && o.table)
		err = cli_table_finish(o.table);
	rc = cli_jlist_finish(&spec, &o.list, o.json, err);
done:
	cli_table_free(o.table);
	cli_store_end(&c);
	return rc;
}
