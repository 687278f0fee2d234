/*
 * cli_store.h: what the store commands (import, heads, scan, ...) share on
 * top of cli.h: opening the store the configuration names, the options
 * and operand parsers they have in common, and streamed JSON arrays for
 * answers too large to build in memory.
 *
 * Read commands open the store read-only (OPLOG_STORE_RDONLY): they work
 * while a daemon or an import writes, each query seeing one committed
 * state, and they never create a store by accident.
 */
#ifndef OPLOG_CLI_STORE_H
#define OPLOG_CLI_STORE_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "cli.h"
#include "oplog/store.h"

/* Option ids shared by the store commands; a command's own options start
 * at CLI_OPT_CMD, these well above it. */
enum {
	CLI_OPT_DATASET = CLI_OPT_CMD + 0x80,
	CLI_OPT_NODE,
	CLI_OPT_LIMIT
};

#define CLI_OPTION_DATASET \
	{ "dataset", 0, required_argument, "DS", "the dataset (required)", CLI_OPT_DATASET }

#define CLI_OPTION_NODE \
	{ "node", 0, required_argument, "NODE", "only this node's entries", CLI_OPT_NODE }

#define CLI_OPTION_LIMIT \
	{ "limit", 0, required_argument, "N", "at most N results (0 = no limit)", CLI_OPT_LIMIT }

/* A store command's state from start to end: what the shared options
 * asked for, the configuration and the open store. */
struct cli_store_cmd {
	struct cli_common    common;
	struct oplog_config *cfg;
	struct oplog_store  *s;
	const char          *dataset;  /* --dataset, or NULL */
	const char          *node;     /* --node, or NULL */
	uint64_t             limit;    /* --limit, 0 when absent */
	int                  first;    /* index of the first operand in argv */
	int                  noperands;
};

/* What cli_store_begin() checks and how it opens the store. */
#define CLI_STORE_RDONLY      0x1  /* open with OPLOG_STORE_RDONLY */
#define CLI_STORE_NEED_DS     0x2  /* --dataset is required */
#define CLI_STORE_NO_STORE    0x4  /* parse and configure only */

/*
 * The start every store command shares: parse argv (CLI_OPT_DATASET,
 * CLI_OPT_NODE and CLI_OPT_LIMIT are handled here, other options go to
 * fn), check that there are min..max operands (max < 0: no limit) and the
 * required --dataset (usage errors, exit 2), load the configuration and
 * open the store. Returns CLI_RUN, or the exit code to return after
 * cli_store_end() (help printed, or an error on stderr).
 */
int cli_store_begin(const struct cli_spec *spec, int argc, char **argv,
                    struct cli_store_cmd *c, unsigned flags, int min, int max,
                    cli_option_fn fn, void *ctx);

/* Release what cli_store_begin() set up; safe after any return of it. */
void cli_store_end(struct cli_store_cmd *c);

/*
 * Open the store of [store] path with the [store] sizes from cfg. flags is
 * 0 (read-write, created when missing) or OPLOG_STORE_RDONLY.
 * Returns CLI_RUN with *out set (caller closes it with oplog_store_close),
 * or CLI_EXIT_ERROR with *out NULL after one line on stderr: "no store at
 * PATH" for a read-only open of a missing store, else the library's error.
 */
int cli_store_open(const struct cli_spec *spec, const struct oplog_config *cfg,
                   unsigned flags, struct oplog_store **out);

/*
 * The store options of cfg ([store] path and sizes) for an open with
 * flags 0 (read-write: also [store] writemap, and an upgrade of an older
 * store logged through oplog/log.h) or OPLOG_STORE_RDONLY. opts->path is
 * borrowed from cfg. Returns CLI_RUN, or CLI_EXIT_ERROR after one line on
 * stderr (no path, sizes that contradict each other).
 */
int cli_store_opts(const struct cli_spec *spec, const struct oplog_config *cfg,
                   unsigned flags, struct oplog_store_opts *opts);

/* A NUL-terminated string as a borrowed slice. */
struct oplog_slice cli_slice(const char *s);

/*
 * Parse "WALL" or "WALL:LOGIC" (decimal; LOGIC < 2^32). Returns 0 with
 * *wall, *logic (0 when absent) and *has_logic set, or OPLOG_EINVAL.
 */
int cli_parse_hlc(const char *text, uint64_t *wall, uint32_t *logic, int *has_logic);

/* Parse a 64-digit hex hash (either case). Returns 0 or OPLOG_EINVAL. */
int cli_parse_hash(const char *text, uint8_t out[OPLOG_HASH_LEN]);

/* A one-line JSON array (or any text around one) written element by
 * element, so that a scan of millions of entries needs no more memory than
 * one entry. The opening text is written with the first element or at the
 * end, so that a command failing before any output prints nothing. */
struct cli_jlist {
	FILE       *out;
	const char *open;  /* "[" or e.g. "{\"entries\":[" */
	size_t      n;
	int         opened;
};

/* Start a list on out; open is borrowed (a literal). */
void cli_jlist_begin(struct cli_jlist *l, FILE *out, const char *open);

/* Append item, taking its reference (NULL: ENOMEM, nothing written).
 * Returns 0, OPLOG_ENOMEM or OPLOG_EIO. */
int cli_jlist_add(struct cli_jlist *l, json_t *item);

/* Write the opening if still due, then close (e.g. "]" or "],\"ends\":"),
 * without a newline. Returns 0 or OPLOG_EIO. */
int cli_jlist_close(struct cli_jlist *l, const char *close);

/* End the document: a newline and a flush. Returns 0 or OPLOG_EIO. */
int cli_json_end(FILE *out);

/* How a list command ends: after a walk that returned err, close the list
 * with "]" and end the document (when json), or report the failure.
 * Returns the command's exit code. */
int cli_jlist_finish(const struct cli_spec *spec, struct cli_jlist *l, int json, int err);

/* The options of a command over one dataset and nothing else: --dataset,
 * --json and the common ones (heads, watermarks, forks, get). */
extern const struct cli_option cli_dataset_options[];

/* What a list command's callbacks write to: a JSON array element by
 * element (--json), or text lines on stdout. */
struct cli_list {
	int               json;
	struct cli_jlist  items;
	struct cli_table *table;  /* the text table, when not json */
};

/* A list command's walk over the open store: one store iteration with l as
 * the callback argument. Returns 0 or the iteration's error. */
typedef int (*cli_list_walk)(struct cli_store_cmd *c, struct cli_list *l);

/*
 * The whole run of a list command (heads, watermarks, forks, rejects):
 * cli_store_begin() with flags and no operands, the walk, then
 * cli_jlist_finish(). Without --json the walk fills l->table, an aligned
 * table with the columns named in header, printed at the end. Returns the
 * exit code.
 */
int cli_store_list(const struct cli_spec *spec, int argc, char **argv, unsigned flags,
                   const char *header, cli_list_walk walk);

/* The list part of cli_store_list() on a store command already begun
 * (c->s open): header, walk, finish. Returns the exit code. */
int cli_store_list_run(const struct cli_spec *spec, struct cli_store_cmd *c,
                       const char *header, cli_list_walk walk);

/* The store's lost offset ranges as a new JSON array (*out, caller
 * decrefs, also on failure): [{"topic","partition","from","to","messages",
 * "at_ms"}], messages null where the offsets went backwards. Returns 0,
 * OPLOG_ENOMEM or the store's error. */
int cli_lost_json(struct oplog_store *s, json_t **out);

/* The sum of "messages" over such an array. */
json_int_t cli_lost_messages(const json_t *lost);

/* The text form of one entry on one line, for lists (scan, chain):
 * "WALL LOGIC NODE SEQ OP COL KEY HASH", names escaped by cli_print_text. */
void cli_print_entry_line(FILE *out, const struct oplog_entry *e);

/* The header line matching cli_print_entry_line(). */
void cli_print_entry_header(FILE *out);


#endif
