/*
 * cli.h: what every `oplogd COMMAND` shares: the command table, option
 * parsing from one table that also prints the help, the common options
 * and the configuration they build, and output helpers.
 *
 * Adding a command `oplogd foo`:
 *   1. Add one line to CLI_COMMANDS below, where it should appear in
 *      `oplogd -h`:   X(foo, "one-line summary") \
 *      (every line of the macro but the last ends with a backslash).
 *   2. Write cli/cmd_foo.c defining `int cmd_foo(int argc, char **argv)`
 *      (argv[0] is "foo"; return the exit code, never call exit()). The
 *      Makefile builds every .c file in cli/ into the binary by itself.
 *
 * A command reads like this (cmd_decode.c is a complete one):
 *
 *   enum { OPT_LIMIT = CLI_OPT_CMD };
 *   static const struct cli_option options[] = {
 *       { "limit", 'n', required_argument, "N", "print at most N entries", OPT_LIMIT },
 *       CLI_OPTION_JSON,
 *       CLI_OPTIONS_COMMON,
 *       CLI_OPTIONS_END
 *   };
 *   static const struct cli_spec spec = { "foo", "[FILE]", NULL, options };
 *
 *   static int on_option(void *ctx, const struct cli_option *opt, const char *arg)
 *   {
 *       struct foo_args *a = ctx;
 *       if (opt->id == OPT_LIMIT && cli_parse_uint(arg, &a->limit) != 0)
 *           return cli_usage_error(&spec, "--limit: bad number '%s'", arg);
 *       return 0;
 *   }
 *
 *   int cmd_foo(int argc, char **argv)
 *   {
 *       struct cli_common common;
 *       struct oplog_config *cfg = NULL;
 *       struct foo_args a = { 0 };
 *       int first, rc;
 *
 *       rc = cli_parse(&spec, argc, argv, &common, on_option, &a, &first);
 *       if (rc != CLI_RUN)
 *           goto done;
 *       rc = cli_load_config(&spec, &common, &cfg);
 *       if (rc != CLI_RUN)
 *           goto done;
 *       ... work; on failure: rc = cli_fail(&spec, err); goto done;
 *       rc = CLI_EXIT_OK;
 *   done:
 *       oplog_config_free(cfg);
 *       cli_common_free(&common);
 *       return rc;
 *   }
 *
 * Conventions (cli.md): -h prints the help on stdout
 * and exits 0; a usage error is one line on stderr and exits 2; exit 1
 * means the answer is "no" or problems were found; --json prints one JSON
 * document (jansson, OPLOG_JSON_FLAGS, one line) and nothing else on
 * stdout. Errors go to stderr as "oplogd NAME: message".
 */
#ifndef OPLOG_CLI_H
#define OPLOG_CLI_H

#include <getopt.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "oplog/config.h"
#include "oplog/entry.h"

/* The commands, in `oplogd -h` order: X(name, summary). */
#define CLI_COMMANDS(X) \
	X(decode, "decode one message value and show the entry or why it is rejected") \
	X(encode, "make one entry in get --json's form into message bytes") \
	X(import, "apply messages from files to the store") \
	X(datasets, "each dataset with its node and entry counts") \
	X(heads, "each node's head in a dataset") \
	X(watermarks, "each node's watermark and seq gaps in a dataset") \
	X(doc, "a document's current winner") \
	X(get, "one entry by hash") \
	X(scan, "entries of a dataset or node in HLC order") \
	X(chain, "walk one node's hash chain") \
	X(forks, "sequence numbers with more than one entry") \
	X(stats, "the store's counters and sizes") \
	X(dump, "the store's logical content as one JSON document") \
	X(verify, "check the store's indexes and derived state") \
	X(prune, "delete old entries below the watermarks") \
	X(snapshot, "a consistent, compacted copy of the store") \
	X(migrate, "upgrade a store written by an older oplogd to this one's schema") \
	X(rejects, "the rejected messages kept in the store") \
	X(man, "print the manual page of oplogd (1) or oplogd.conf (5) as roff") \
	X(gen, "write a synthetic oplog stream to a file or a topic") \
	X(apply, "run as the Kafka replica applier until SIGINT or SIGTERM") \
	X(lag, "how far the store is behind its topics, per partition and node") \
	X(replay, "backfill the store from a range of a topic, or check it (--verify)") \
	X(broker, "a local Kafka-protocol broker for development (in memory)")

#define CLI_DECLARE_COMMAND(name, summary) int cmd_##name(int argc, char **argv);
CLI_COMMANDS(CLI_DECLARE_COMMAND)
#undef CLI_DECLARE_COMMAND

/* Exit codes (cli.md). */
enum cli_exit {
	CLI_EXIT_OK    = 0,  /* done; the answer is yes */
	CLI_EXIT_NO    = 1,  /* the answer is "no", or problems were found */
	CLI_EXIT_ERROR = 2   /* usage, configuration or I/O error */
};

/* Returned by cli_parse() and cli_load_config() when the command should go
 * on; any other value is the exit code to return now. */
#define CLI_RUN (-1)

struct cli_command {
	const char *name;
	int       (*fn)(int argc, char **argv);
	const char *summary;
};

/* The command table (CLI_COMMANDS); *n is set to its length. Static. */
const struct cli_command *cli_commands(size_t *n);

/* One command-line option; a table of them drives getopt_long and -h. */
struct cli_option {
	const char *name;        /* long name without "--", or NULL */
	int         short_name;  /* short letter, or 0 */
	int         has_arg;     /* no_argument or required_argument */
	const char *metavar;     /* the argument in the help ("FILE"), or NULL */
	const char *help;        /* one line */
	int         id;          /* what the option callback sees: by convention
	                            the short letter, else CLI_OPT_* or a
	                            command's own from CLI_OPT_CMD up */
};

/* Ids of the options cli_parse() handles itself. */
enum {
	CLI_OPT_CONFIG = 'c',
	CLI_OPT_KAFKA  = 'X',
	CLI_OPT_HELP   = 'h',
	CLI_OPT_STORE  = 0x100,
	CLI_OPT_SET,
	CLI_OPT_DUMP_CONFIG,
	CLI_OPT_SHOW_SECRETS,
	CLI_OPT_JSON,
	CLI_OPT_CMD    = 0x200   /* first id free for a command's own options */
};

/* The options every command takes. */
#define CLI_OPTIONS_COMMON \
	{ "config", 'c', required_argument, "FILE", \
	  "read the configuration from FILE (INI)", CLI_OPT_CONFIG }, \
	{ "store", 0, required_argument, "DIR", \
	  "the store directory (overrides [store] path)", CLI_OPT_STORE }, \
	{ "set", 0, required_argument, "SECTION.KEY=VALUE", \
	  "set a configuration key (wins over the file)", CLI_OPT_SET }, \
	{ NULL, 'X', required_argument, "PROP=VALUE", \
	  "set a librdkafka property, as [kafka] PROP = VALUE", CLI_OPT_KAFKA }, \
	{ "dump-config", 0, no_argument, NULL, \
	  "print the effective configuration as INI and exit", CLI_OPT_DUMP_CONFIG }, \
	{ "show-secrets", 0, no_argument, NULL, \
	  "--dump-config prints passwords and keys instead of (redacted)", \
	  CLI_OPT_SHOW_SECRETS }, \
	{ "help", 'h', no_argument, NULL, "print this help and exit", CLI_OPT_HELP }

/* --json, for the commands that have a JSON form. */
#define CLI_OPTION_JSON \
	{ "json", 0, no_argument, NULL, "print one JSON document", CLI_OPT_JSON }

#define CLI_OPTIONS_END { NULL, 0, 0, NULL, NULL, 0 }

/* A command's description for parsing and for -h. */
struct cli_spec {
	const char              *name;     /* "decode" */
	const char              *operands; /* after [options] in the usage: "[FILE|-]" */
	const char              *about;    /* more text for -h, or NULL */
	const struct cli_option *options;  /* ends with CLI_OPTIONS_END */
};

/* What the common options asked for. argv strings are borrowed. */
struct cli_override {
	int         id;   /* CLI_OPT_SET, CLI_OPT_KAFKA or CLI_OPT_STORE */
	const char *arg;
};

struct cli_common {
	const char          *config_path;  /* -c, or NULL: defaults only */
	int                  json;         /* --json given */
	int                  dump_config;  /* --dump-config given */
	int                  show_secrets; /* --show-secrets given */
	struct cli_override *overrides;    /* in command-line order */
	size_t               noverrides;
};

/*
 * Called for each option that is not a common one; arg is NULL for
 * options without an argument. Returns 0 to go on, or an exit code (after
 * printing a usage error with cli_usage_error()).
 */
typedef int (*cli_option_fn)(void *ctx, const struct cli_option *opt, const char *arg);

/*
 * Parse argv (argv[0] is the command name) with getopt_long from
 * spec->options. Options and operands may be mixed; "--" ends options.
 * Common options fill *common; others go to fn (which may be NULL when
 * the command has none). On CLI_RUN, *first is the index of the first
 * operand in the (permuted) argv.
 *
 * Returns CLI_RUN; CLI_EXIT_OK after -h (help printed on stdout); or
 * CLI_EXIT_ERROR after a usage error (one line on stderr) or whatever fn
 * returned. *common is always initialised: release it with
 * cli_common_free() whatever this returns.
 */
int cli_parse(const struct cli_spec *spec, int argc, char **argv,
              struct cli_common *common, cli_option_fn fn, void *ctx, int *first);

/* Free what cli_parse() allocated in *common. */
void cli_common_free(struct cli_common *common);

/*
 * The configuration common names: defaults, the -c file, then -X, --set
 * and --store in command-line order. Returns 0 with *out set (free with
 * oplog_config_free), or the OPLOG_E* of the first failure, with the
 * message in oplog_error_last() and *out NULL. Prints nothing.
 */
int cli_config_from(const struct cli_common *common, struct oplog_config **out);

/*
 * Build the configuration: defaults, then the -c file, then --set, -X and
 * --store in command-line order, so that the command line wins. The
 * logger takes its [log] settings from it here, the one place every
 * command sets up logging.
 *
 * Returns CLI_RUN with *out set (caller frees with oplog_config_free());
 * CLI_EXIT_OK with *out NULL after --dump-config printed it; or
 * CLI_EXIT_ERROR with *out NULL after printing the error (it names
 * file:line and key) on stderr.
 */
int cli_load_config(const struct cli_spec *spec, const struct cli_common *common,
                    struct oplog_config **out);

/* Print the help of spec to out: usage line, summary, about, options. */
void cli_help(const struct cli_spec *spec, FILE *out);

/* Print "oplogd NAME: message (see oplogd NAME -h)" as one line on stderr.
 * Returns CLI_EXIT_ERROR. */
int cli_usage_error(const struct cli_spec *spec, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Print "oplogd NAME: message" as one line on stderr. Returns
 * CLI_EXIT_ERROR. */
int cli_error(const struct cli_spec *spec, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Report a failed library call: "oplogd NAME: <oplog_error_last()>", or the
 * code's name when there is no message. Returns CLI_EXIT_ERROR. */
int cli_fail(const struct cli_spec *spec, int err);

/* Parse a whole unsigned decimal number. Returns 0 with *out set, or
 * OPLOG_EINVAL (*out unchanged). For a command's numeric options. */
int cli_parse_uint(const char *text, uint64_t *out);

/*
 * Read all of path ("-" or NULL: stdin) and keep at most max + 1 bytes:
 * enough to tell that the input is over max without holding it. *total is
 * the whole input's length, even past what is kept.
 *
 * Returns 0 with *buf (caller frees with free(); never NULL, even for an
 * empty input), *len and *total set; or OPLOG_EIO ("read PATH: ...") or
 * OPLOG_ENOMEM, with *buf NULL.
 */
int cli_read_input(const char *path, size_t max, uint8_t **buf, size_t *len,
                   size_t *total);

/*
 * Catch SIGINT, SIGTERM and SIGHUP from now on: each sets the flag
 * returned, which a run loop (apply, replay) polls to finish its batch and
 * stop (apply then makes SIGHUP a reload: cli_catch_reload). The handler
 * only sets the flag. Returns the flag, never NULL.
 */
const volatile sig_atomic_t *cli_catch_stop(void);

/*
 * Make SIGHUP ask for a reload instead (after cli_catch_stop): the handler
 * increments the counter returned, which the run loop compares with what
 * it last saw. Returns the counter, never NULL.
 */
const volatile sig_atomic_t *cli_catch_reload(void);

/*
 * Print doc on stdout as one line (OPLOG_JSON_FLAGS) and a newline, and
 * flush. Does not take doc's reference. Returns 0, or OPLOG_EIO when
 * stdout fails.
 */
int cli_print_json(const json_t *doc);

/*
 * A command's JSON answer: print doc as cli_print_json() does and take its
 * reference. doc NULL means building it ran out of memory. Returns the
 * exit code: CLI_EXIT_OK, or CLI_EXIT_ERROR after one line on stderr.
 */
int cli_answer_json(const struct cli_spec *spec, json_t *doc);

/* The options of a command with --json and nothing of its own. */
extern const struct cli_option cli_json_options[];

/*
 * Print bytes that should be text for a person to read: valid UTF-8 as
 * is, except control characters; those, backslash and every byte that is
 * not valid UTF-8 are written as \\, \n, \t or \xNN, so that the output is
 * unambiguous and safe for a terminal.
 */
void cli_print_text(FILE *out, const uint8_t *p, size_t n);

/* Print n bytes as lowercase hex. */
void cli_print_hex(FILE *out, const uint8_t *p, size_t n);

/* Print n bytes as standard base64, in pieces, so a 1 MiB body needs no
 * 1.4 MiB buffer. */
void cli_print_base64(FILE *out, const uint8_t *p, size_t n);

/*
 * Print the table form of an entry, one "field: value" line per field in
 * decode's order; data is its length and base64, prev "-" on seq 1, wall
 * also as UTC time. Write errors are left to the caller's final check.
 */
void cli_print_entry(FILE *out, const struct oplog_entry *e);

/* ---- aligned tables (table.c) -------------------------------------- */

/*
 * A text table for people and for awk: left-aligned columns, every
 * column starting at the same offset on every line, two spaces between
 * them, no trailing spaces, "-" for a missing value. Rows are held and
 * printed at the end, or, past CLI_TABLE_BATCH rows, as they come with the
 * widths of the first batch (a scan of millions of entries holds one batch).
 *
 * Build a row with the cli_table_add*() calls, one per column in order,
 * then cli_table_end_row(). The add calls never fail loudly: the first
 * failure is kept, later calls do nothing, and cli_table_end_row() and
 * cli_table_finish() return it (OPLOG_ENOMEM, or OPLOG_EINVAL for more
 * cells than columns), message in oplog_error_last().
 */
struct cli_table;

#define CLI_TABLE_BATCH 4096

/* Flags of cli_table_new(). */
#define CLI_TABLE_NO_HEADER 0x1  /* name/value lists: the names only count
                                    the columns */

/* A table on out with the columns named in header, separated by single
 * spaces ("NODE SEQ HASH"); header is copied. Returns the table (free with
 * cli_table_free()), or NULL when out of memory. */
struct cli_table *cli_table_new(FILE *out, const char *header, int flags);

/* The next cell: printf-formatted; bytes escaped by cli_print_text (empty
 * as ""); lowercase hex; a UTC ISO-8601 time ("-" past year 9999). Return
 * 0 or the table's first failure. */
int cli_table_add(struct cli_table *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int cli_table_add_text(struct cli_table *t, const uint8_t *p, size_t n);
int cli_table_add_hex(struct cli_table *t, const uint8_t *p, size_t n);
int cli_table_add_time(struct cli_table *t, uint64_t ms);

/* End the row (missing cells read "-"). Returns 0 or the first failure. */
int cli_table_end_row(struct cli_table *t);

/* Print what is held (the header with the first rows, even when there
 * are none) and flush. Returns 0, the first failure, or OPLOG_EIO when out
 * fails. */
int cli_table_finish(struct cli_table *t);

/* Free t and the rows it still holds, unprinted. NULL is ignored. */
void cli_table_free(struct cli_table *t);

#endif
