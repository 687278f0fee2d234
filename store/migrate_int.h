/*
 * migrate_int.h: what the two halves of the schema-1 upgrade share
 * (semi-private): migrate.c opens, checks and swaps; migrate_copy.c
 * copies the old trees into the new environment.
 */
#ifndef OPLOG_MIGRATE_INT_H
#define OPLOG_MIGRATE_INT_H

#include <limits.h>

#include "store_int.h"

struct hlc_item;   /* migrate_copy.c */

struct mig {
	const struct oplog_store_opts *opts;
	char        tmp[PATH_MAX];          /* DIR/migrate.tmp */
	int         lock_fd;                /* DIR/lock.mdb, to see other processes' locks */
	MDB_env    *old_env;
	MDB_txn    *old_txn;                /* write txn: the writer lock, never committed */
	MDB_dbi     old_dbi[DBI__COUNT];
	int         has_old[DBI__COUNT];    /* lost and replay came late in schema 1 */
	MDB_env    *env;                    /* the new environment */
	MDB_dbi     dbi[DBI__COUNT];
	size_t      map_size, max_size;
	uint32_t   *ds;                     /* datasets present in the old log, ascending */
	size_t      n_ds;
	struct hlc_item *group;             /* scratch for by_hlc / by_node groups */
	size_t      group_cap;
	uint64_t    inline_docs;            /* documents whose winner is not in the log */
};

/* A failure reading tree dbi of the old env: OPLOG_E* with the message. */
int oplog_store__migrate_read_err(int rc, int dbi);

/*
 * Every tree of the new env (opened in m->env, m->dbi), from the old one
 * read in m->old_txn, checking that each index holds one record per
 * entry; the schema record last. 0 with *entries (the log's records), or
 * an OPLOG_E* code (ECORRUPT when the old store breaks its own rules,
 * EMAPFULL when the new one outgrows max_size). m->ds, m->group and
 * m->inline_docs are set on the way; the caller frees m->ds and m->group.
 */
int oplog_store__migrate_build(struct mig *m, uint64_t *entries);

#endif
