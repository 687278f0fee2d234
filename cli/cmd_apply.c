/*
 * cmd_apply.c: `oplogd apply -c FILE [-X prop=value]... [--set s.k=v]...`:
 * run as the replica applier until SIGINT, SIGTERM or SIGHUP.
 */

#include "cli_store.h"
#include "oplog/applier.h"
#include "oplog/error.h"

static const struct cli_option options[] = {
	CLI_OPTIONS_COMMON,
	CLI_OPTIONS_END
};

static const struct cli_spec spec = {
	"apply", NULL,
	"Consumes [apply] topics in the group [kafka] group.id and applies every entry\n"
	"to the store; each batch is one store transaction with its offsets. SIGINT,\n"
	"SIGTERM or SIGHUP finish the batch, commit the store and the group, and exit\n"
	"0 (SIGHUP reloads nothing: restart to change the configuration). A fatal\n"
	"condition (bad configuration, failed authentication, a broker certificate\n"
	"the configured CA does not accept, store failure) exits 2 with one line on\n"
	"stderr. An unreachable broker is not fatal: it is retried, and /healthz\n"
	"turns 503 after [metrics] health_grace.",
	options
};

int cmd_apply(int argc, char **argv)
{
	struct cli_store_cmd c;
	struct oplog_applier *a = NULL;
	int err, rc;

	rc = cli_store_begin(&spec, argc, argv, &c, 0, 0, 0, NULL, NULL);
	if (rc != CLI_RUN)
		goto done;
	if ((err = oplog_applier_new(&a, c.cfg, c.s))) {
		rc = cli_fail(&spec, err);
		goto done;
	}
	err = oplog_applier_run(a, cli_catch_stop());
	rc = err ? cli_fail(&spec, err) : CLI_EXIT_OK;
done:
	oplog_applier_free(a);
	cli_store_end(&c);
	return rc;
}
