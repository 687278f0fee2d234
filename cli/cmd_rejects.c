/*
 * cmd_rejects.c: `oplogd rejects [--limit N] [--json]`: the rejected
 * messages the store kept, oldest first: where each came from, why it was
 * rejected, and its size.
 */
#include <inttypes.h>

#include "cli_store.h"
#include "oplog/bytes.h"
#include "oplog/error.h"
#include "oplog/json.h"

static const struct cli_option options[] = {
	{ "limit", 0, required_argument, "N", "only the newest N (0 = all)", CLI_OPT_LIMIT },
	CLI_OPTION_JSON,
	CLI_OPTIONS_COMMON,
	CLI_OPTIONS_END
};

static const struct cli_spec spec = {
	"rejects", NULL,
	"Oldest first. The raw bytes are kept too (the first [store]\n"
	"reject_max_bytes of each message).\n"
	"--json: [{\"id\",\"time_ms\",\"source\",\"reason\",\"field\",\"detail\","
	"\"size\"}]; field is null when\nno field applies.",
	options
};

static void print_time(uint64_t ms)
{
	char iso[OPLOG_TIME_ISO_MAX];

	if (oplog_time_iso(ms, iso) != 0) {
		printf("%" PRIu64, ms);
		return;
	}
	fputs(iso, stdout);
}

static int on_reject(const struct oplog_reject_rec *r, void *arg)
{
	struct cli_list *o = arg;
	const char *reason = oplog_reason_name(r->reason);
	const char *field = oplog_field_name(r->field);

	if (o->json)
		return cli_jlist_add(&o->items, oplog_json_reject(r));
	printf("%" PRIu64 " ", r->id);
	print_time(r->time_ms);
	putchar(' ');
	cli_print_text(stdout, r->source.ptr, r->source.len);
	printf(" %s %s %" PRIu64 " ", reason ? reason : "-", field ? field : "-", r->size);
	cli_print_text(stdout, r->detail.ptr, r->detail.len);
	putchar('\n');
	return 0;
}

static int walk(struct cli_store_cmd *c, struct cli_list *l)
{
	return oplog_store_rejects(c->s, c->limit, on_reject, l);
}

int cmd_rejects(int argc, char **argv)
{
	return cli_store_list(&spec, argc, argv, CLI_STORE_RDONLY,
	                      "ID TIME SOURCE REASON FIELD SIZE DETAIL", walk);
}
