/*
 * oplog/config.h: oplogd's configuration, driven by one table of keys.
 *
 * Every key oplogd understands is one row of a static table (section,
 * name, type, default, bounds, help). The same table drives the INI file
 * parser, `--set section.key=value` overrides and `--dump-config`, so a key
 * cannot exist in one of them and be missing from another. Defaults are
 * written as text and go through the same parser as user values.
 *
 * [kafka] is different: its keys belong to librdkafka, so any key is
 * accepted unvalidated and kept in order with where it came from (file and
 * line), for the applier to hand to rd_kafka_conf_set() and to report
 * librdkafka's verdict against the right line.
 *
 * File syntax (libinih): `[section]`, `key = value`, comments start with
 * ';' or '#' at the start of a line, or with ';' after whitespace. Leading
 * whitespace is ignored (there are no continuation lines). A key given
 * twice keeps the last value. A line longer than libinih's buffer (198
 * bytes in Debian's build) is an error rather than being cut silently.
 *
 * Value syntax by type:
 *   string    any text, surrounding whitespace removed
 *   list      comma-separated non-empty items ("a, b")
 *   int       a decimal whole number within the key's bounds
 *   size      bytes: a number with an optional K, M or G suffix (x1024^n)
 *   duration  milliseconds: a number with an optional ms, s, m, h or d
 *             suffix; no suffix means milliseconds
 *   bool      true/false, yes/no, on/off, 1/0
 *   enum      one of the key's listed words
 *
 * Errors name the place and the key, e.g.
 *   "oplogd.conf:12: [store] map_size: bad size 'abc' (expected a number
 *    with optional K, M, G suffix)"
 *   "oplogd.conf:3: unknown key [apply] batchsize"
 *   "--set store.map_size: bad size 'abc' (...)"
 *
 * Threading: a loaded oplog_config is read-only for its users and may be
 * read from several threads at once; loading and setting need one thread.
 *
 * Ownership: strings returned by the getters are borrowed from the config
 * and valid until oplog_config_free() or until the same key is set again.
 */
#ifndef OPLOG_CONFIG_H
#define OPLOG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum oplog_config_type {
	OPLOG_CONFIG_STRING = 1,
	OPLOG_CONFIG_LIST,
	OPLOG_CONFIG_INT,
	OPLOG_CONFIG_SIZE,
	OPLOG_CONFIG_DURATION,
	OPLOG_CONFIG_BOOL,
	OPLOG_CONFIG_ENUM
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
};

/* A [kafka] property, in the order it was first given. */
struct oplog_config_kafka {
	const char *key;
	const char *value;
	const char *file;  /* the config file path, or "-X" / "--set" */
	int         line;  /* 1-based line in file; 0 for the command line */
};

struct oplog_config;

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

/*
 * Typed getters by full name ("store.path"). The name must be a table key
 * of the matching type; anything else is a programming error (asserted;
 * with NDEBUG the getters return "", 0 or false).
 *
 *   str:  STRING, ENUM or LIST (the list as written). Borrowed, never NULL.
 *   int:  INT.
 *   size: SIZE, in bytes.
 *   ms:   DURATION, in milliseconds.
 *   bool: BOOL.
 *   enum: ENUM, the index of the word in the key's values.
 *   list: LIST; *n is set to the item count; the array and its strings are
 *         borrowed, never NULL.
 */
const char *oplog_config_str(const struct oplog_config *cfg, const char *name);
int64_t     oplog_config_int(const struct oplog_config *cfg, const char *name);
uint64_t    oplog_config_size(const struct oplog_config *cfg, const char *name);
int64_t     oplog_config_ms(const struct oplog_config *cfg, const char *name);
bool        oplog_config_bool(const struct oplog_config *cfg, const char *name);
int         oplog_config_enum(const struct oplog_config *cfg, const char *name);
const char *const *oplog_config_list(const struct oplog_config *cfg,
                                     const char *name, size_t *n);

/* The [kafka] properties in order; *n is set to their count. Borrowed;
 * NULL when there are none. */
const struct oplog_config_kafka *oplog_config_kafka(const struct oplog_config *cfg,
                                                    size_t *n);

/*
 * Write the effective configuration to out as an INI file that loads back
 * to the same values: [kafka] first, then every table key in table order.
 * Returns 0, or OPLOG_EIO when writing fails.
 */
int oplog_config_dump(const struct oplog_config *cfg, FILE *out);

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
