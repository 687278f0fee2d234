/*
 * cmd_prune.c: `oplogd prune --dataset DS (--before WALL[:LOGIC] |
 * --older-than DURATION) [--batch N] [--dry-run] [--json]`: delete old entries that
 * sit at or below their node's watermark, in batches so that a running
 * applier is never stalled for long. Heads, watermarks, documents and
 * forks stay; entries above a gap stay, so the gap stays visible.
 */
#include <inttypes.h>
#include <string.h>

#include "cli_store.h"
#include "oplog/bytes.h"
#include "oplog/clock.h"
#include "oplog/error.h"
#include "oplog/json.h"

enum { OPT_BEFORE = CLI_OPT_CMD, OPT_OLDER, OPT_BATCH, OPT_DRY_RUN };

static const struct cli_option options[] = {
	CLI_OPTION_DATASET,
	{ "before", 0, required_argument, "WALL[:LOGIC]",
	  "prune entries at or before (WALL, LOGIC); WALL alone: any logic", OPT_BEFORE },
	{ "older-than", 0, required_argument, "DURATION",
	  "prune entries whose wall is older than now - DURATION (2w, 7d, 12h, 30m)", OPT_OLDER },
	{ "batch", 0, required_argument, "N",
	  "entries per write transaction (default [store] prune_batch)", OPT_BATCH },
	{ "dry-run", 0, no_argument, NULL,
	  "print the cutoff and what would be pruned; change nothing", OPT_DRY_RUN },
	CLI_OPTION_JSON,
	CLI_OPTIONS_COMMON,
	CLI_OPTIONS_END
};

static const struct cli_spec spec = {
	"prune", NULL,
	"Exactly one of --before and --older-than. DURATION takes ms, s, m, h, d or w\n"
	"(no suffix: milliseconds). --dry-run opens the store read-only and counts.\n"
	"--json: {\"pruned\",\"batches\",\"kept_gap\",\"cutoff\":{\"wall\",\"logic\"}};"
	" kept_gap\ncounts entries in range kept because they are above a gap. With\n"
	"--dry-run, \"dry_run\":true is added and pruned counts what would go.",
	options
};

struct prune_args {
	const char *before, *older;
	uint64_t    batch;
	int         dry_run;
};

static int on_option(void *ctx, const struct cli_option *opt, const char *arg)
{
	struct prune_args *a = ctx;

	switch (opt->id) {
	case OPT_BEFORE:
		a->before = arg;
		break;
	case OPT_OLDER:
		a->older = arg;
		break;
	case OPT_DRY_RUN:
		a->dry_run = 1;
		break;
	case OPT_BATCH:
		if (cli_parse_uint(arg, &a->batch) != 0 || a->batch == 0)
			return cli_usage_error(&spec, "--batch: expected a number above 0, got '%s'",
			                       arg);
		break;
	}
	return 0;
}

/*
 * The cutoff from the options: (wall, logic), inclusive. Returns 0, with
 * *none set when nothing can be old enough (a duration reaching before
 * 1970), or CLI_EXIT_ERROR after a usage error.
 */
static int cutoff_of(const struct prune_args *a, uint64_t *wall, uint32_t *logic,
                     int *none)
{
	uint64_t now, w;
	uint32_t l;
	int64_t ms;
	int has_logic;

	*none = 0;
	if ((a->before != NULL) == (a->older != NULL))
		return cli_usage_error(&spec, "give exactly one of --before and --older-than");
	if (a->before) {
		if (cli_parse_hlc(a->before, &w, &l, &has_logic) != 0)
			return cli_usage_error(&spec, "--before: expected WALL[:LOGIC], got '%s'",
			                       a->before);
		*wall = w;
		*logic = has_logic ? l : UINT32_MAX;
		return 0;
	}
	if (oplog_config__parse_duration(a->older, &ms) != 0 || ms < 0)
		return cli_usage_error(&spec, "--older-than: bad duration '%s' (e.g. 7d, 12h, 30m)",
		                       a->older);
	now = oplog_clock_wall_ms();
	/* Strictly older than now - DURATION: at or before the millisecond
	 * before it, any logic. */
	if ((uint64_t)ms >= now) {
		*none = 1;
		*wall = 0;
		*logic = 0;
		return 0;
	}
	*wall = now - (uint64_t)ms - 1;
	*logic = UINT32_MAX;
	return 0;
}

/* ms as "3d 4h", "12m 5s", "250ms": the two largest units, for people. */
static void fmt_ago(uint64_t ms, char *buf, size_t cap)
{
	static const struct { const char *sfx; uint64_t ms; } u[] = {
		{ "w", 604800000 }, { "d", 86400000 }, { "h", 3600000 }, { "m", 60000 },
		{ "s", 1000 },
	};
	size_t i;

	for (i = 0; i < sizeof(u) / sizeof(u[0]) && ms < u[i].ms; i++)
		;
	if (i == sizeof(u) / sizeof(u[0]))
		snprintf(buf, cap, "%" PRIu64 "ms", ms);
	else if (i + 1 < sizeof(u) / sizeof(u[0]) && ms % u[i].ms >= u[i + 1].ms)
		snprintf(buf, cap, "%" PRIu64 "%s %" PRIu64 "%s", ms / u[i].ms, u[i].sfx,
		         ms % u[i].ms / u[i + 1].ms, u[i + 1].sfx);
	else
		snprintf(buf, cap, "%" PRIu64 "%s", ms / u[i].ms, u[i].sfx);
}

/* --dry-run: the cutoff in human form and what a prune would do. */
static int dry_run(struct cli_store_cmd *c, const struct oplog_hlc *cut, int none)
{
	struct oplog_prune_stats st = { 0 };
	char iso[OPLOG_TIME_ISO_MAX], ago[64];
	uint64_t now = oplog_clock_wall_ms();
	int err = none ? 0 : oplog_store_prune_count(c->s, cli_slice(c->dataset), cut, &st);

	if (err)
		return cli_fail(&spec, err);
	if (c->common.json)
		return cli_answer_json(&spec, json_pack("{s:b,s:I,s:I,s:I,s:{s:I,s:I}}",
		                                        "dry_run", 1,
		                                        "pruned", (json_int_t)st.pruned,
		                                        "batches", (json_int_t)0,
		                                        "kept_gap", (json_int_t)st.kept_gap, "cutoff",
		                                        "wall", (json_int_t)cut->wall,
		                                        "logic", (json_int_t)cut->logic));
	if (none) {
		printf("dry run: the cutoff is before 1970: nothing is old enough; nothing changed\n");
		return CLI_EXIT_OK;
	}
	if (oplog_time_iso(cut->wall, iso) != 0)
		snprintf(iso, sizeof(iso), "%" PRIu64, cut->wall);
	if (cut->wall <= now)
		fmt_ago(now - cut->wall, ago, sizeof(ago));
	else
		snprintf(ago, sizeof(ago), "in the future");
	printf("dry run: cutoff %s (%s%s; wall %" PRIu64 ")\n", iso, ago,
	       cut->wall <= now ? " ago" : "", cut->wall);
	printf("would prune %" PRIu64 " entries of dataset %s; %" PRIu64
	       " in range kept above a gap; nothing changed\n", st.pruned, c->dataset, st.kept_gap);
	return CLI_EXIT_OK;
}

int cmd_prune(int argc, char **argv)
{
	struct cli_store_cmd c;
	struct prune_args a = { NULL, NULL, 0, 0 };
	struct oplog_prune_stats st = { 0 };
	struct oplog_hlc cut;
	uint64_t wall = 0, batch;
	uint8_t max_node[OPLOG_MAX_NAME], max_hash[OPLOG_HASH_LEN];
	uint32_t logic = 0;
	int err = 0, rc, none;

	/* The checks that need no store come first, so that a usage error
	 * does not create a store. */
	rc = cli_store_begin(&spec, argc, argv, &c, CLI_STORE_NEED_DS | CLI_STORE_NO_STORE,
	                     0, 0, on_option, &a);
	if (rc != CLI_RUN)
		goto done;
	if (cutoff_of(&a, &wall, &logic, &none) != 0) {
		rc = CLI_EXIT_ERROR;
		goto done;
	}
	if ((rc = cli_store_open(&spec, c.cfg, OPLOG_STORE_RDONLY, &c.s)) != CLI_RUN)
		goto done;
	/* A node and hash above every valid one: the cutoff then includes
	 * every entry at its (wall, logic), whatever the node. */
	memset(max_node, 0xff, sizeof(max_node));
	memset(max_hash, 0xff, sizeof(max_hash));
	cut.wall = wall;
	cut.logic = logic;
	cut.node.ptr = max_node;
	cut.node.len = sizeof(max_node);
	cut.hash = max_hash;
	if (a.dry_run) {
		rc = dry_run(&c, &cut, none);
		goto done;
	}
	/* The read-only open proved the store exists; prune needs a writer. */
	oplog_store_close(c.s);
	c.s = NULL;
	if ((rc = cli_store_open(&spec, c.cfg, 0, &c.s)) != CLI_RUN)
		goto done;
	batch = a.batch ? a.batch : (uint64_t)c.cfg->store.prune_batch;
	if (!none)
		err = oplog_store_prune(c.s, cli_slice(c.dataset), &cut, batch, &st);
	if (err) {
		rc = cli_error(&spec, "%s (%" PRIu64 " entries pruned in %" PRIu64
		               " committed batches before the failure)",
		               oplog_error_last(), st.pruned, st.batches);
		goto done;
	}
	if (!c.common.json) {
		printf("pruned %" PRIu64 " entries in %" PRIu64 " batches; kept %" PRIu64
		       " above a gap; cutoff %" PRIu64 ":%" PRIu32 "\n",
		       st.pruned, st.batches, st.kept_gap, wall, logic);
		rc = CLI_EXIT_OK;
		goto done;
	}
	rc = cli_answer_json(&spec, json_pack("{s:I,s:I,s:I,s:{s:I,s:I}}",
	                                      "pruned", (json_int_t)st.pruned,
	                                      "batches", (json_int_t)st.batches,
	                                      "kept_gap", (json_int_t)st.kept_gap, "cutoff",
	                                      "wall", (json_int_t)wall, "logic", (json_int_t)logic));
done:
	cli_store_end(&c);
	return rc;
}
