/*
 * oplog/config.h: oplogd's configuration, driven by one table of keys.
 *
 * Every key oplogd understands is one row of a static table (section,
 * name, type, default, bounds, help, field). The same table drives the INI
 * file parser, `--set section.key=value` overrides and `--dump-config`, so
 * a key cannot exist in one of them and be missing from another. Defaults are
 * written as text and go through the same parser as user values.
 *
 * [kafka] is different: its keys belong to librdkafka, so any key is
 * accepted unvalidated and kept in order with where it came from (file and
 * line) in cfg->kafka, for the applier to hand to rd_kafka_conf_set() and
 * to report librdkafka's verdict against the right line.
 *
 * File syntax (the one libinih 55 read, parsed by core/config.c):
 * `[section]`, `key = value` or `key: value`, comments start with ';' or
 * '#' at the start of a line, or with ';' after whitespace; a UTF-8 BOM
 * at the start is skipped. Leading whitespace is ignored (there are no
 * continuation lines). A key given twice keeps the last value. A line may
 * be up to 1 MiB long; a longer one is an error rather than being cut.
 *
 * Value syntax by type:
 *   string    any text, surrounding whitespace removed
 *   list      comma-separated non-empty items ("a, b")
 *   int       a decimal whole number within the key's bounds
 *   size      bytes: a number with an optional K, M or G suffix (x1024^n)
 *   duration  milliseconds: a number with an optional ms, s, m, h, d or w
 *             suffix; no suffix means milliseconds
 *   bool      true/false, yes/no, on/off, 1/0
 *   enum      one of the key's listed words
 *   mode      file permission bits in octal that let the owner read and
 *             write, 0600 .. 0777 ("0640")
 *
 * Errors name the place and the key, e.g.
 *   "oplogd.conf:12: [store] map_size: bad size 'abc' (expected a number
 *    with optional K, M, G suffix)"
 *   "oplogd.conf:3: unknown key [apply] batchsize"
 *   "--set store.map_size: bad size 'abc' (...)"
 *
 * Typed access: every table key is a field of struct oplog_config, in a
 * struct named after its section, with the key's name: [apply] batch_size
 * is cfg->apply.batch_size. A misspelt key does not compile. The field's
 * C type follows the key's type:
 *   string    const char *, never NULL
 *   list      struct oplog_config_list (items, n); n >= 1
 *   int       int64_t
 *   size      uint64_t, bytes
 *   duration  int64_t, milliseconds
 *   bool      bool
 *   enum      the key's own C enum, declared below (log.level and
 *             log.format use oplog/log.h's), whose values follow the order
 *             of the key's words
 *   mode      unsigned, the permission bits
 * Each table row carries its field's offset, so the file, --set and the
 * defaults all set a key by parsing its text and writing its field; the
 * text is kept for --dump-config.
 *
 * Adding a key [sec] name:
 *   1. A field `name` in struct oplog_config_sec below (the C type above;
 *      an enum key also declares its enum here).
 *   2. One row in the table in core/config.c with the macro of its type
 *      (STRING, LIST, INT, SIZE, DURATION, BOOL, ENUM): default as text,
 *      bounds, help. A row whose field's type does not match its macro
 *      fails to compile.
 *   3. The key, its default and its meaning in config/oplogd.conf.
 *   Callers then read cfg->sec.name.
 *
 * Threading: a loaded oplog_config is read-only for its users and may be
 * read from several threads at once; loading and setting need one thread.
 *
 * Ownership: the config owns every string and array its fields point to;
 * they stay valid until oplog_config_free() or until the same key is set
 * again. Fields are written only by this module: change a value with
 * oplog_config_set(), never by assigning the field, or --dump-config
 * would disagree with it.
 */
#ifndef OPLOG_CONFIG_H
#define OPLOG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "oplog/log.h"

enum oplog_config_type {
	OPLOG_CONFIG_STRING = 1,
	OPLOG_CONFIG_LIST,
	OPLOG_CONFIG_INT,
	OPLOG_CONFIG_SIZE,
	OPLOG_CONFIG_DURATION,
	OPLOG_CONFIG_BOOL,
	OPLOG_CONFIG_ENUM,
	OPLOG_CONFIG_MODE
};

/* One row of the key table. */
struct oplog_config_key {
	const char            *section;  /* "apply" */
	const char            *name;     /* "batch_size" */
	enum oplog_config_type type;
	const char            *def;      /* the default, as it would be written */
	int64_t                min, max; /* int, size (bytes), duration (ms) */
	const char            *values;   /* enum: the words, "earliest|latest" */
	const char            *help;     /* one line */
	/* Extra check of a string value beyond its type, or NULL: returns 0,
	 * or OPLOG_EINVAL with a message like the parsers' below. */
	int                  (*check)(const char *text);
	/* Where the value lives: offsetof(struct oplog_config, SECTION.NAME),
	 * a field of the C type of the key's type (see above). */
	size_t                 field;
};

/* A [kafka] property, in the order it was first given. */
struct oplog_config_kafka {
	const char *key;
	const char *value;
	const char *file;  /* the config file path, or "-X" / "--set" */
	int         line;  /* 1-based line in file; 0 for the command line */
};

/* apply.fresh_start: where a partition the store has no offset for starts. */
enum oplog_fresh_start {
	OPLOG_FRESH_START_EARLIEST = 0,
	OPLOG_FRESH_START_LATEST
};

/* apply.on_offset_lost: what a stored offset gone from the broker does. */
enum oplog_offset_lost {
	OPLOG_OFFSET_LOST_CONTINUE = 0,
	OPLOG_OFFSET_LOST_STOP
};

/* A list value: n >= 1 non-empty items, in the order written. */
struct oplog_config_list {
	const char *const *items;
	size_t             n;
};

/* The [kafka] properties in order; items is NULL when n is 0. */
struct oplog_config_kafka_list {
	const struct oplog_config_kafka *items;
	size_t                           n;
};

struct oplog_config_apply {
	struct oplog_config_list topics;
	int64_t                  batch_size;
	uint64_t                 batch_bytes;
	int64_t                  batch_ms;
	uint64_t                 max_message_bytes;
	int64_t                  clock_skew_ms;
	enum oplog_fresh_start   fresh_start;
	const char              *dead_letter_topic;  /* "" = none */
	int64_t                  commit_interval;
	enum oplog_offset_lost   on_offset_lost;
};

struct oplog_config_store {
	const char *path;
	uint64_t    map_size;
	uint64_t    max_size;
	bool        writemap;
	int64_t     prune_batch;
	uint64_t    reject_max_bytes;
	int64_t     rejects_max;  /* 0 = no limit */
	unsigned    mode;       /* new store files; directories add x to r */
};

struct oplog_config_metrics {
	const char *listen;        /* "" = off */
	int64_t     health_grace;  /* ms */
	int64_t     max_datasets;
};

struct oplog_config_log {
	enum oplog_log_level  level;
	enum oplog_log_format format;
	int64_t               progress_interval;
};

/*
 * The effective configuration. Made only by oplog_config_new(), which
 * keeps the storage the fields point into behind it: never copy it or
 * declare one.
 */
struct oplog_config {
	struct oplog_config_kafka_list kafka;
	struct oplog_config_apply      apply;
	struct oplog_config_store      store;
	struct oplog_config_metrics    metrics;
	struct oplog_config_log        log;
};

/* The key table: *n is set to its length. Static, never NULL. */
const struct oplog_config_key *oplog_config_keys(size_t *n);

/*
 * A new config holding every key's default and no [kafka] properties.
 * Returns 0 with *out set (caller frees with oplog_config_free()), or
 * OPLOG_ENOMEM with *out NULL.
 */
int oplog_config_new(struct oplog_config **out);

/* Free cfg and every string it handed out. NULL is ignored. */
void oplog_config_free(struct oplog_config *cfg);

/*
 * Read the INI file at path into cfg; keys it names replace their current
 * values, [kafka] properties are added (or replaced in place, keeping
 * their first position).
 *
 * Returns 0; OPLOG_EIO when the file cannot be opened or read; OPLOG_ECONFIG
 * for the first bad line (syntax, unknown section or key, key outside a
 * section, line too long, bad value), the message naming path:line. On
 * failure keys before the bad line may already be set: discard cfg.
 */
int oplog_config_load_file(struct oplog_config *cfg, const char *path);

/*
 * oplog_config_load_file() on an open stream, semi-private: for tests and
 * the fuzzer, which read from memory. name stands for the file in error
 * messages and as the origin of [kafka] properties; it is copied. f is
 * read to the first error or its end and stays the caller's to close.
 * Returns 0; OPLOG_EIO when reading fails; OPLOG_ECONFIG or OPLOG_ENOMEM
 * as oplog_config_load_file() does.
 */
int oplog_config__load_stream(struct oplog_config *cfg, FILE *f, const char *name);

/*
 * Set one key by its full name "section.key" ("kafka.PROP" adds a [kafka]
 * property). origin names the source for error messages and for [kafka]
 * properties (e.g. "--set", "--store", "-X"); it is copied.
 *
 * Returns 0, or OPLOG_ECONFIG ("ORIGIN section.key: bad size ...", unknown
 * section or key) leaving cfg unchanged, or OPLOG_ENOMEM.
 */
int oplog_config_set(struct oplog_config *cfg, const char *name,
                     const char *value, const char *origin);

/*
 * Apply a command-line override: opt "--set" with arg "section.key=value",
 * or opt "-X" with arg "prop=value" (a [kafka] property). Whitespace around
 * the name and the value is removed, as in the file.
 *
 * Returns 0, or OPLOG_ECONFIG ("--set foo: expected section.key=value", or
 * oplog_config_set()'s errors) leaving cfg unchanged, or OPLOG_ENOMEM.
 */
int oplog_config_override(struct oplog_config *cfg, const char *opt,
                          const char *arg);

/* oplog_config_dump() flags. */
#define OPLOG_CONFIG_DUMP_SECRETS 0x1  /* write secrets as they are */

/*
 * Is the [kafka] property key a secret (a password, a client secret, a
 * private key, an OAUTHBEARER config)? Its value is then never logged or
 * dumped as it is.
 */
bool oplog_config_secret(const char *key);

/*
 * Write the effective configuration to out as an INI file: [kafka] first,
 * then every table key in table order. It loads back to the same values,
 * except that the value of a secret [kafka] property is written as
 * "(redacted)" unless flags has OPLOG_CONFIG_DUMP_SECRETS.
 * Returns 0, or OPLOG_EIO when writing fails.
 */
int oplog_config_dump(const struct oplog_config *cfg, FILE *out, unsigned flags);

/*
 * The value parsers behind the table, semi-private: for oplog's own
 * modules and tests. Each returns 0 with *out set, or OPLOG_EINVAL with a
 * message such as "bad size 'abc' (expected ...)" and *out unchanged. They
 * do not check a key's bounds.
 */
int oplog_config__parse_int(const char *text, int64_t *out);
int oplog_config__parse_size(const char *text, int64_t *out);
int oplog_config__parse_duration(const char *text, int64_t *out);
int oplog_config__parse_bool(const char *text, bool *out);

#endif
