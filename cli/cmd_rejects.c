/*
 * cmd_rejects.c: `oplogd rejects [--limit N] [--json]`: the rejected
 * messages the store kept, oldest first: where each came from, why it was
 * rejected, and its size. `--prune [--keep N]` deletes all but the newest
 * N of them. `--raw ID` writes one reject's kept bytes to stdout.
 */
#include <inttypes.h>
#include <stdio.h>

#include "cli_store.h"
#include "oplog/bytes.h"
#include "oplog/error.h"
#include "oplog/json.h"

enum { OPT_PRUNE = CLI_OPT_CMD, OPT_KEEP, OPT_RAW };

static const struct cli_option options[] = {
	{ "limit", 0, required_argument, "N", "only the newest N (0 = all)", CLI_OPT_LIMIT },
	{ "prune", 0, no_argument, NULL, "delete the kept rejects (all but --keep N)", OPT_PRUNE },
	{ "keep", 0, required_argument, "N", "with --prune: keep the newest N (default 0)",
	  OPT_KEEP },
	{ "raw", 0, required_argument, "ID",
	  "write the kept bytes of reject ID to stdout (for oplogd decode)", OPT_RAW },
	CLI_OPTION_JSON,
	CLI_OPTIONS_COMMON,
	CLI_OPTIONS_END
};

static const struct cli_spec spec = {
	"rejects", NULL,
	"Oldest first. TIME is when it was rejected, in UTC; TIME_MS the same in\n"
	"Unix ms; SIZE the message's length in bytes. The raw bytes are kept too\n"
	"(the first [store]\n"
	"reject_max_bytes of each message). At most [store] rejects_max are kept;\n"
	"the counters (oplogd stats) count every reject, kept or not.\n"
	"--prune opens the store read-write and prints how many went.\n"
	"--json: [{\"id\",\"time_ms\",\"source\",\"reason\",\"field\",\"detail\","
	"\"size\"}]; field is null when\nno field applies. --prune --json: {\"pruned\"}.\n"
	"--raw ID: the bytes as kept, nothing else; exit 1 when there is no reject ID;\n"
	"a message longer than reject_max_bytes was cut, and a warning on stderr says so.",
	options
};

static int on_reject(const struct oplog_reject_rec *r, void *arg)
{
	struct cli_list *o = arg;
	const char *reason = oplog_reason_name(r->reason);
	const char *field = oplog_field_name(r->field);

	if (o->json)
		return cli_jlist_add(&o->items, oplog_json_reject(r));
	cli_table_add(o->table, "%" PRIu64, r->id);
	cli_table_add_time(o->table, r->time_ms);
	cli_table_add(o->table, "%" PRIu64, r->time_ms);
	cli_table_add_text(o->table, r->source.ptr, r->source.len);
	cli_table_add(o->table, "%s", reason ? reason : "-");
	cli_table_add(o->table, "%s", field ? field : "-");
	cli_table_add(o->table, "%" PRIu64, r->size);
	if (r->detail.len)
		cli_table_add_text(o->table, r->detail.ptr, r->detail.len);
	return cli_table_end_row(o->table);
}

static int walk(struct cli_store_cmd *c, struct cli_list *l)
{
	return oplog_store_rejects(c->s, c->limit, on_reject, l);
}

struct rejects_args {
	int      prune, keep_set, raw_set;
	uint64_t keep, raw;
};

static int on_option(void *ctx, const struct cli_option *opt, const char *arg)
{
	struct rejects_args *a = ctx;

	if (opt->id == OPT_PRUNE) {
		a->prune = 1;
	} else if (opt->id == OPT_KEEP) {
		if (cli_parse_uint(arg, &a->keep) != 0)
			return cli_usage_error(&spec, "--keep: '%s' is not a whole number", arg);
		a->keep_set = 1;
	} else if (opt->id == OPT_RAW) {
		if (cli_parse_uint(arg, &a->raw) != 0)
			return cli_usage_error(&spec, "--raw: expected a reject ID, got '%s'", arg);
		a->raw_set = 1;
	}
	return 0;
}

/* What --raw looks for and what it found. */
struct raw_find {
	uint64_t id;
	int      found, write_failed;
	uint64_t size, kept;
};

/* oplog_reject_cb: write the raw bytes of the reject sought and stop. */
static int on_raw(const struct oplog_reject_rec *r, void *arg)
{
	struct raw_find *f = arg;

	if (r->id != f->id)
		return 0;
	f->found = 1;
	f->size = r->size;
	f->kept = r->raw.len;
	if (r->raw.len && fwrite(r->raw.ptr, 1, r->raw.len, stdout) != r->raw.len)
		f->write_failed = 1;
	return 1;
}

/* --raw ID: the rejects are few (rejects_max) and kept in id order, so a
 * walk that stops at the one sought is enough. */
static int raw(struct cli_store_cmd *c, uint64_t id)
{
	struct raw_find f = { id, 0, 0, 0, 0 };
	int err = oplog_store_rejects(c->s, 0, on_raw, &f);

	if (err < 0)
		return cli_fail(&spec, err);
	if (!f.found) {
		cli_error(&spec, "no reject %" PRIu64 " (see oplogd rejects)", id);
		return CLI_EXIT_NO;
	}
	if (f.write_failed || fflush(stdout) != 0)
		return cli_error(&spec, "writing to stdout failed");
	if (f.kept < f.size)
		fprintf(stderr, "oplogd rejects: warning: reject %" PRIu64 " kept %" PRIu64
		        " of its %" PRIu64 " bytes ([store] reject_max_bytes)\n", id, f.kept, f.size);
	return CLI_EXIT_OK;
}

static int prune(struct cli_store_cmd *c, const struct rejects_args *a)
{
	uint64_t removed = 0;
	int err = oplog_store_rejects_prune(c->s, a->keep, &removed);

	if (err)
		return cli_error(&spec, "%s (%" PRIu64 " rejects deleted before the failure)",
		                 oplog_error_last(), removed);
	if (c->common.json)
		return cli_answer_json(&spec, json_pack("{s:I}", "pruned", (json_int_t)removed));
	printf("pruned %" PRIu64 " rejects; at most %" PRIu64 " kept\n", removed, a->keep);
	return CLI_EXIT_OK;
}

int cmd_rejects(int argc, char **argv)
{
	struct cli_store_cmd c;
	struct rejects_args a = { 0, 0, 0, 0, 0 };
	int rc;

	rc = cli_store_begin(&spec, argc, argv, &c, CLI_STORE_NO_STORE, 0, 0, on_option, &a);
	if (rc != CLI_RUN)
		goto done;
	if (a.keep_set && !a.prune) {
		rc = cli_usage_error(&spec, "--keep goes with --prune");
		goto done;
	}
	if (a.raw_set && (a.prune || a.keep_set || c.limit || c.common.json)) {
		rc = cli_usage_error(&spec, "--raw goes alone (no --prune, --keep, --limit, --json)");
		goto done;
	}
	if (a.prune && c.limit) {
		rc = cli_usage_error(&spec, "--limit lists rejects; it does not go with --prune");
		goto done;
	}
	rc = cli_store_open(&spec, c.cfg, a.prune ? 0 : OPLOG_STORE_RDONLY, &c.s);
	if (rc != CLI_RUN)
		goto done;
	if (a.raw_set)
		rc = raw(&c, a.raw);
	else
		rc = a.prune ? prune(&c, &a)
		             : cli_store_list_run(&spec, &c, "ID TIME TIME_MS SOURCE REASON FIELD SIZE DETAIL",
		                                  walk);
done:
	cli_store_end(&c);
	return rc;
}
