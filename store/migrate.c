/* migrate.c: placeholder until the schema 1 upgrade lands. */
#include "oplog/error.h"
#include "store_int.h"

int oplog_store_migrate(const struct oplog_store_opts *opts, struct oplog_migrate_stats *st)
{
	(void)st;
	return oplog_error__set(OPLOG_ESCHEMA, "%s: upgrading schema 1 is not built yet", opts->path);
}
