/*
 * config.c: the key table and everything it drives (INI file, --set, -X,
 * --dump-config). See oplog/config.h for the syntax and the contract.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include "oplog/config.h"
#include "oplog/error.h"

#define KiB (INT64_C(1) << 10)
#define MiB (INT64_C(1) << 20)
#define GiB (INT64_C(1) << 30)

#define SEC  INT64_C(1000)
#define MIN  (60 * SEC)
#define HOUR (60 * MIN)
#define DAY  (24 * HOUR)

static int check_nonempty(const char *text);
static int check_listen(const char *text);

/*
 * Row makers. A key's name is its field's name (SECTION.NAME in struct
 * oplog_config), and the comparison inside sizeof, never evaluated, makes
 * a field whose C type does not match the key's type a compile error.
 */
#define FIELD(sec, name, ctype) \
	(offsetof(struct oplog_config, sec.name) + \
	 0 * sizeof((ctype *)NULL == &((struct oplog_config *)NULL)->sec.name))
#define ROW(sec, name, type, ctype, def, min, max, values, help, check) \
	{ #sec, #name, type, def, min, max, values, help, check, FIELD(sec, name, ctype) }

#define STRING(sec, name, def, check, help) \
	ROW(sec, name, OPLOG_CONFIG_STRING, const char *, def, 0, 0, NULL, help, check)
#define LIST(sec, name, def, help) \
	ROW(sec, name, OPLOG_CONFIG_LIST, struct oplog_config_list, def, 0, 0, NULL, help, NULL)
#define INT(sec, name, def, min, max, help) \
	ROW(sec, name, OPLOG_CONFIG_INT, int64_t, def, min, max, NULL, help, NULL)
#define SIZE(sec, name, def, min, max, help) \
	ROW(sec, name, OPLOG_CONFIG_SIZE, uint64_t, def, min, max, NULL, help, NULL)
#define DURATION(sec, name, def, min, max, help) \
	ROW(sec, name, OPLOG_CONFIG_DURATION, int64_t, def, min, max, NULL, help, NULL)
#define BOOL(sec, name, def, help) \
	ROW(sec, name, OPLOG_CONFIG_BOOL, bool, def, 0, 0, NULL, help, NULL)
/* The words are in the order of the C enum's values, from 0. */
#define ENUM(sec, name, ctype, def, words, help) \
	ROW(sec, name, OPLOG_CONFIG_ENUM, ctype, def, 0, 0, words, help, NULL)

/* An enum field is written as an int (write_field()). */
_Static_assert(sizeof(enum oplog_fresh_start) == sizeof(int), "enum field size");
_Static_assert(sizeof(enum oplog_offset_lost) == sizeof(int), "enum field size");
_Static_assert(sizeof(enum oplog_log_level) == sizeof(int), "enum field size");
_Static_assert(sizeof(enum oplog_log_format) == sizeof(int), "enum field size");

/*
 * The table. Adding a key here and its field in oplog/config.h is all it
 * takes for the file, --set and --dump-config to know it;
 * config/oplogd.conf must document it too (the unit tests check that
 * every key appears there with its default).
 */
static const struct oplog_config_key keys[] = {
	LIST(apply, topics, "oplog",
	     "Kafka topics to consume, comma-separated"),
	INT(apply, batch_size, "200000", 1, 1000000,
	    "most messages taken in and not yet committed (the batch being written "
	    "and the one filling); a batch is due at half"),
	SIZE(apply, batch_bytes, "128M", 1, GiB,
	     "most message bytes taken in and not yet committed; a batch is due at half"),
	DURATION(apply, batch_ms, "1s", 0, HOUR,
	         "longest time a batch fills while more keeps arriving before it is "
	         "committed"),
	SIZE(apply, max_message_bytes, "2M", 1, 64 * MiB,
	     "larger messages are rejected as too_large"),
	DURATION(apply, clock_skew_ms, "0", 0, 365 * DAY,
	         "reject entries whose wall is further ahead of the local clock; 0 = off"),
	ENUM(apply, fresh_start, enum oplog_fresh_start, "earliest", "earliest|latest",
	     "where to start on a partition the store holds no offset for"),
	STRING(apply, dead_letter_topic, "", NULL,
	       "topic that gets a copy of every rejected message; empty = none"),
	DURATION(apply, commit_interval, "1s", 0, HOUR,
	         "how often offsets are committed to the Kafka group (the store keeps "
	         "its own with every batch)"),
	ENUM(apply, on_offset_lost, enum oplog_offset_lost, "continue", "continue|stop",
	     "a stored offset is gone from the broker: continue from the earliest "
	     "available one (and log the loss), or stop"),
	STRING(store, path, "./data/replica-1", check_nonempty,
	       "directory of the LMDB store"),
	SIZE(store, map_size, "256M", MiB, INT64_C(1) << 50,
	     "initial LMDB map size; it grows as needed up to max_size"),
	SIZE(store, max_size, "64G", MiB, INT64_C(1) << 50,
	     "the store never grows past this size (then applying stops)"),
	BOOL(store, writemap, "no",
	     "write through LMDB's memory map (MDB_WRITEMAP): one copy fewer per "
	     "dirty page, same durability; faster on some stores, slower on others "
	     "(see make bench)"),
	INT(store, prune_batch, "10000", 1, 10000000,
	    "most entries deleted in one write transaction when pruning"),
	SIZE(store, reject_max_bytes, "64K", 1, 64 * MiB,
	     "raw bytes kept of each rejected message (the rest is cut)"),
	STRING(metrics, listen, "127.0.0.1:9464", check_listen,
	       "HOST:PORT of /metrics and /healthz; empty = off"),
	ENUM(log, level, enum oplog_log_level, "info", "debug|info|warn|error",
	     "lowest level logged"),
	ENUM(log, format, enum oplog_log_format, "text", "text|json",
	     "log line format"),
	DURATION(log, progress_interval, "10s", 0, DAY,
	         "how often a progress line is logged; 0 = never"),
};

#define KEY_COUNT (sizeof(keys) / sizeof(keys[0]))

/* Sections in the order --dump-config writes them. */
static const char *const sections[] = { "kafka", "apply", "store", "metrics", "log" };

/* What a key's field points into, and its text for --dump-config. */
struct value {
	char   *text;     /* as given, trimmed */
	int64_t num;      /* int, size, duration (ms), bool, enum index */
	char  **items;    /* list: pointers into itembuf */
	char   *itembuf;
	size_t  nitems;
};

/* The config with the storage behind its fields; pub first, so that a
 * struct oplog_config pointer from oplog_config_new() is one of these. */
struct config {
	struct oplog_config        pub;
	struct value               v[KEY_COUNT];
	struct oplog_config_kafka *kafka;  /* pub.kafka.items */
	size_t                     capkafka;
};

static struct config *priv(struct oplog_config *cfg)
{
	return (struct config *)cfg;
}

static const struct config *cpriv(const struct oplog_config *cfg)
{
	return (const struct config *)cfg;
}

const struct oplog_config_key *oplog_config_keys(size_t *n)
{
	*n = KEY_COUNT;
	return keys;
}

/* ------------------------------------------------------------------ */
/* Value parsers                                                       */

/* Parse a run of decimal digits at *p into *out, advancing *p past all of
 * them. Returns 0, -1 when there is no digit (nothing changed), -2 when the
 * number does not fit int64 (*out unchanged). */
static int parse_digits(const char **p, int64_t *out)
{
	const char *s = *p;
	int64_t v = 0;
	int over = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		int d = *s - '0';
		if (v > (INT64_MAX - d) / 10)
			over = 1;
		else
			v = v * 10 + d;
	}
	*p = s;
	if (over)
		return -2;
	*out = v;
	return 0;
}

int oplog_config__parse_int(const char *text, int64_t *out)
{
	const char *p = text;
	int64_t v;
	int neg = 0, rc;

	if (*p == '-') {
		neg = 1;
		p++;
	}
	rc = parse_digits(&p, &v);
	if (rc == -1 || *p != '\0')
		return oplog_error__set(OPLOG_EINVAL,
		                        "bad integer '%s' (expected a whole number)", text);
	if (rc == -2)
		return oplog_error__set(OPLOG_EINVAL, "integer '%s' is too large", text);
	*out = neg ? -v : v;
	return 0;
}

/* Multiply a parsed number by its unit, refusing overflow. */
static int scale(int64_t v, int64_t unit, int64_t *out)
{
	if (v > INT64_MAX / unit)
		return -1;
	*out = v * unit;
	return 0;
}

int oplog_config__parse_size(const char *text, int64_t *out)
{
	const char *p = text;
	int64_t v, unit = 1;
	int rc = parse_digits(&p, &v);

	if (rc == -1)
		goto bad;
	switch (*p) {
	case '\0':           break;
	case 'K': case 'k': unit = KiB; p++; break;
	case 'M': case 'm': unit = MiB; p++; break;
	case 'G': case 'g': unit = GiB; p++; break;
	default: goto bad;
	}
	if (*p != '\0')
		goto bad;
	if (rc == -2 || scale(v, unit, &v) < 0)
		return oplog_error__set(OPLOG_EINVAL, "size '%s' is too large", text);
	*out = v;
	return 0;
bad:
	return oplog_error__set(OPLOG_EINVAL,
	                        "bad size '%s' (expected a number with optional K, M, G suffix)",
	                        text);
}

int oplog_config__parse_duration(const char *text, int64_t *out)
{
	const char *p = text;
	int64_t v, unit;
	int rc = parse_digits(&p, &v);

	if (rc == -1)
		goto bad;
	if (strcmp(p, "") == 0 || strcmp(p, "ms") == 0)
		unit = 1;
	else if (strcmp(p, "s") == 0)
		unit = SEC;
	else if (strcmp(p, "m") == 0)
		unit = MIN;
	else if (strcmp(p, "h") == 0)
		unit = HOUR;
	else if (strcmp(p, "d") == 0)
		unit = DAY;
	else
		goto bad;
	if (rc == -2 || scale(v, unit, &v) < 0)
		return oplog_error__set(OPLOG_EINVAL, "duration '%s' is too long", text);
	*out = v;
	return 0;
bad:
	return oplog_error__set(OPLOG_EINVAL,
	                        "bad duration '%s' (expected a number with optional "
	                        "ms, s, m, h, d suffix; none means ms)", text);
}

int oplog_config__parse_bool(const char *text, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(text, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(text, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return oplog_error__set(OPLOG_EINVAL,
	                        "bad boolean '%s' (expected true/false, yes/no, on/off or 1/0)",
	                        text);
}

/* The index of word in "a|b|c", or -1. */
static int enum_index(const char *values, const char *word)
{
	const char *p = values;
	size_t len = strlen(word);
	int i = 0;

	while (*p) {
		size_t n = strcspn(p, "|");
		if (n == len && strncmp(p, word, n) == 0)
			return i;
		p += n;
		if (*p == '|')
			p++;
		i++;
	}
	return -1;
}

static int check_nonempty(const char *text)
{
	if (*text == '\0')
		return oplog_error__set(OPLOG_EINVAL, "must not be empty");
	return 0;
}

/* "" (off) or HOST:PORT, HOST a name, an IPv4 address or [IPv6]. Only the
 * shape is checked here; resolving is the metrics server's. */
static int check_listen(const char *text)
{
	const char *colon = strrchr(text, ':');
	const char *p;
	int64_t port;

	if (*text == '\0')
		return 0;
	if (colon == NULL || colon == text)
		goto bad;
	if (text[0] == '[' && colon[-1] != ']')
		goto bad;
	p = colon + 1;
	if (parse_digits(&p, &port) != 0 || *p != '\0' || port < 1 || port > 65535)
		goto bad;
	return 0;
bad:
	return oplog_error__set(OPLOG_EINVAL,
	                        "bad address '%s' (expected HOST:PORT, or empty for off)", text);
}

/* Bounds written the way a user would write them: "64M", "1h", "1000". */
static void fmt_bound(const struct oplog_config_key *k, int64_t v, char *buf, size_t cap)
{
	static const struct { int64_t unit; const char *sfx; } sizes[] = {
		{ GiB, "G" }, { MiB, "M" }, { KiB, "K" },
	}, durs[] = {
		{ DAY, "d" }, { HOUR, "h" }, { MIN, "m" }, { SEC, "s" },
	};
	size_t i;

	if (v != 0 && k->type == OPLOG_CONFIG_SIZE) {
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			if (v % sizes[i].unit == 0) {
				snprintf(buf, cap, "%" PRId64 "%s", v / sizes[i].unit, sizes[i].sfx);
				return;
			}
		}
	}
	if (v != 0 && k->type == OPLOG_CONFIG_DURATION) {
		for (i = 0; i < sizeof(durs) / sizeof(durs[0]); i++) {
			if (v % durs[i].unit == 0) {
				snprintf(buf, cap, "%" PRId64 "%s", v / durs[i].unit, durs[i].sfx);
				return;
			}
		}
		snprintf(buf, cap, "%" PRId64 "ms", v);
		return;
	}
	snprintf(buf, cap, "%" PRId64, v);
}

static void value_clear(struct value *v)
{
	free(v->text);
	free(v->items);
	free(v->itembuf);
	memset(v, 0, sizeof(*v));
}

/* Split a comma-separated list into v->items. Every item must be
 * non-empty after trimming, so that "a,,b" is caught, not skipped. */
static int parse_list(const char *text, struct value *v)
{
	char *buf = NULL, *p, **items = NULL;
	const char *c;
	size_t n = 1, i = 0;
	int rc = OPLOG_ENOMEM;

	for (c = text; *c; c++)
		n += *c == ',';
	buf = strdup(text);
	items = calloc(n, sizeof(*items));
	if (buf == NULL || items == NULL) {
		rc = oplog_error__set(OPLOG_ENOMEM, "out of memory");
		goto done;
	}
	for (p = buf; i < n; i++) {
		char *end = p + strcspn(p, ","), *next = *end ? end + 1 : end;
		*end = '\0';
		while (isspace((unsigned char)*p))
			p++;
		while (end > p && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (*p == '\0') {
			rc = oplog_error__set(OPLOG_EINVAL,
			                      "bad list '%s' (expected comma-separated, non-empty names)",
			                      text);
			goto done;
		}
		items[i] = p;
		p = next;
	}
	v->items = items;
	v->itembuf = buf;
	v->nitems = n;
	items = NULL;
	buf = NULL;
	rc = 0;
done:
	free(items);
	free(buf);
	return rc;
}

/*
 * Parse text as key k into *out (zeroed first). Returns 0, or OPLOG_EINVAL
 * / OPLOG_ENOMEM with the bare reason in the error message ("bad size
 * ..."); the caller adds where. *out owns nothing on failure.
 */
static int parse_value(const struct oplog_config_key *k, const char *text, struct value *out)
{
	char lo[32], hi[32];
	bool b;
	int idx, rc;

	memset(out, 0, sizeof(*out));
	switch (k->type) {
	case OPLOG_CONFIG_STRING:
		rc = k->check ? k->check(text) : 0;
		break;
	case OPLOG_CONFIG_LIST:
		rc = parse_list(text, out);
		break;
	case OPLOG_CONFIG_INT:
		rc = oplog_config__parse_int(text, &out->num);
		break;
	case OPLOG_CONFIG_SIZE:
		rc = oplog_config__parse_size(text, &out->num);
		break;
	case OPLOG_CONFIG_DURATION:
		rc = oplog_config__parse_duration(text, &out->num);
		break;
	case OPLOG_CONFIG_BOOL:
		rc = oplog_config__parse_bool(text, &b);
		out->num = b;
		break;
	case OPLOG_CONFIG_ENUM:
		idx = enum_index(k->values, text);
		rc = 0;
		if (idx < 0) {
			char words[128], *w;
			snprintf(words, sizeof(words), "%s", k->values);
			for (w = words; (w = strchr(w, '|')) != NULL; )
				*w = '/';
			rc = oplog_error__set(OPLOG_EINVAL,
			                      "bad value '%s' (expected one of %s)", text, words);
		}
		out->num = idx;
		break;
	default:
		assert(!"config key of unknown type");
		rc = oplog_error__set(OPLOG_ERROR, "key of unknown type");
	}
	if (rc == 0 && (k->type == OPLOG_CONFIG_INT || k->type == OPLOG_CONFIG_SIZE ||
	                k->type == OPLOG_CONFIG_DURATION) &&
	    (out->num < k->min || out->num > k->max)) {
		fmt_bound(k, k->min, lo, sizeof(lo));
		fmt_bound(k, k->max, hi, sizeof(hi));
		rc = oplog_error__set(OPLOG_EINVAL, "'%s' is out of range (%s .. %s)",
		                      text, lo, hi);
	}
	if (rc == 0 && (out->text = strdup(text)) == NULL)
		rc = oplog_error__set(OPLOG_ENOMEM, "out of memory");
	if (rc != 0)
		value_clear(out);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The config object                                                   */

static const struct oplog_config_key *find_key(const char *section, const char *name,
                                               size_t *index)
{
	size_t i;

	for (i = 0; i < KEY_COUNT; i++) {
		if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0) {
			if (index)
				*index = i;
			return &keys[i];
		}
	}
	return NULL;
}

static bool known_section(const char *section)
{
	size_t i;

	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		if (strcmp(sections[i], section) == 0)
			return true;
	return false;
}

/*
 * Point key index's field at value v, which cfg owns from now on (the
 * caller cleared the value it replaces).
 */
static void write_field(struct config *c, size_t index, const struct value *v)
{
	const struct oplog_config_key *k = &keys[index];
	char *field = (char *)&c->pub + k->field;
	struct oplog_config_list list;
	const char *str;
	uint64_t u;
	bool b;
	int e;

	switch (k->type) {
	case OPLOG_CONFIG_STRING:
		str = v->text;
		memcpy(field, &str, sizeof(str));
		break;
	case OPLOG_CONFIG_LIST:
		list.items = (const char *const *)v->items;
		list.n = v->nitems;
		memcpy(field, &list, sizeof(list));
		break;
	case OPLOG_CONFIG_INT:
	case OPLOG_CONFIG_DURATION:
		memcpy(field, &v->num, sizeof(v->num));
		break;
	case OPLOG_CONFIG_SIZE:
		u = (uint64_t)v->num;
		memcpy(field, &u, sizeof(u));
		break;
	case OPLOG_CONFIG_BOOL:
		b = v->num != 0;
		memcpy(field, &b, sizeof(b));
		break;
	case OPLOG_CONFIG_ENUM:
		e = (int)v->num;
		memcpy(field, &e, sizeof(e));
		break;
	default:
		assert(!"config key of unknown type");
	}
}

int oplog_config_new(struct oplog_config **out)
{
	struct config *c;
	size_t i;
	int rc = 0;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return oplog_error__set(OPLOG_ENOMEM, "out of memory");
	for (i = 0; i < KEY_COUNT && rc == 0; i++) {
		rc = parse_value(&keys[i], keys[i].def, &c->v[i]);
		/* A default that fails its own key's parser is a table bug. */
		assert(rc != OPLOG_EINVAL);
		if (rc == 0)
			write_field(c, i, &c->v[i]);
	}
	if (rc != 0) {
		oplog_config_free(&c->pub);
		return rc;
	}
	*out = &c->pub;
	return 0;
}

void oplog_config_free(struct oplog_config *cfg)
{
	struct config *c;
	size_t i;

	if (cfg == NULL)
		return;
	c = priv(cfg);
	for (i = 0; i < KEY_COUNT; i++)
		value_clear(&c->v[i]);
	for (i = 0; i < cfg->kafka.n; i++) {
		free((char *)c->kafka[i].key);
		free((char *)c->kafka[i].value);
		free((char *)c->kafka[i].file);
	}
	free(c->kafka);
	free(c);
}

/*
 * Add or replace a [kafka] property. A repeated key keeps its first
 * position and takes the new value and origin, so that the last word wins
 * both in rd_kafka_conf_set() order and in --dump-config. cfg is unchanged
 * on failure.
 */
static int kafka_put(struct oplog_config *cfg, const char *key, const char *value,
                     const char *file, int line)
{
	struct config *c = priv(cfg);
	struct oplog_config_kafka *slot = NULL;
	char *k = NULL, *v = NULL, *f = NULL;
	size_t i;
	int rc = OPLOG_ENOMEM;

	for (i = 0; i < cfg->kafka.n; i++)
		if (strcmp(c->kafka[i].key, key) == 0)
			slot = &c->kafka[i];
	if (slot == NULL && cfg->kafka.n == c->capkafka) {
		size_t cap = c->capkafka ? 2 * c->capkafka : 8;
		struct oplog_config_kafka *grown = realloc(c->kafka, cap * sizeof(*grown));
		if (grown == NULL)
			goto done;
		c->kafka = grown;
		c->capkafka = cap;
		cfg->kafka.items = grown;
	}
	if ((k = strdup(key)) == NULL || (v = strdup(value)) == NULL ||
	    (f = strdup(file)) == NULL)
		goto done;
	if (slot == NULL) {
		slot = &c->kafka[cfg->kafka.n++];
		slot->key = k;
		k = NULL;
	} else {
		free((char *)slot->value);
		free((char *)slot->file);
	}
	slot->value = v;
	slot->file = f;
	slot->line = line;
	v = f = NULL;
	rc = 0;
done:
	free(k);
	free(v);
	free(f);
	if (rc != 0)
		oplog_error__set(rc, "out of memory");
	return rc;
}

/*
 * Set one key from text. where is the error prefix the caller built
 * ("path:12: [store] map_size" or "--set store.map_size"). cfg is
 * unchanged on failure.
 */
static int set_key(struct oplog_config *cfg, size_t index, const char *text,
                   const char *where)
{
	struct value nv;
	char reason[400];
	int rc = parse_value(&keys[index], text, &nv);

	if (rc == OPLOG_EINVAL) {
		snprintf(reason, sizeof(reason), "%s", oplog_error_last());
		return oplog_error__set(OPLOG_ECONFIG, "%s: %s", where, reason);
	}
	if (rc != 0)
		return rc;
	value_clear(&priv(cfg)->v[index]);
	priv(cfg)->v[index] = nv;
	write_field(priv(cfg), index, &priv(cfg)->v[index]);
	return 0;
}

int oplog_config_set(struct oplog_config *cfg, const char *name, const char *value,
                     const char *origin)
{
	char section[64], where[400];
	const char *dot = strchr(name, '.');
	const char *key;
	size_t len, index;

	snprintf(where, sizeof(where), "%s %s", origin, name);
	len = dot ? (size_t)(dot - name) : 0;
	if (dot == NULL || len == 0 || dot[1] == '\0')
		return oplog_error__set(OPLOG_ECONFIG, "%s: expected section.key", where);
	if (len >= sizeof(section))
		len = sizeof(section) - 1;
	memcpy(section, name, len);
	section[len] = '\0';
	key = dot + 1;
	if (strcmp(section, "kafka") == 0)
		return kafka_put(cfg, key, value, origin, 0);
	if (!known_section(section))
		return oplog_error__set(OPLOG_ECONFIG, "%s: unknown section [%s]", where, section);
	if (find_key(section, key, &index) == NULL)
		return oplog_error__set(OPLOG_ECONFIG, "%s: unknown key [%s] %s", where,
		                        section, key);
	return set_key(cfg, index, value, where);
}

/* Copy s[0..n) without surrounding whitespace into a new string. */
static char *trimmed_dup(const char *s, size_t n)
{
	char *out;

	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	out = malloc(n + 1);
	if (out) {
		memcpy(out, s, n);
		out[n] = '\0';
	}
	return out;
}

int oplog_config_override(struct oplog_config *cfg, const char *opt, const char *arg)
{
	const char *eq = strchr(arg, '=');
	bool kafka = strcmp(opt, "-X") == 0;
	char *name = NULL, *value = NULL;
	int rc;

	if (eq == NULL) {
		rc = oplog_error__set(OPLOG_ECONFIG, "%s %s: expected %s", opt, arg,
		                      kafka ? "prop=value" : "section.key=value");
		goto done;
	}
	/* A value is one INI line: --dump-config must print it back as one. */
	if (strpbrk(arg, "\r\n") != NULL) {
		rc = oplog_error__set(OPLOG_ECONFIG, "%s: a value may not contain a line break", opt);
		goto done;
	}
	name = trimmed_dup(arg, (size_t)(eq - arg));
	value = trimmed_dup(eq + 1, strlen(eq + 1));
	if (name == NULL || value == NULL) {
		rc = oplog_error__set(OPLOG_ENOMEM, "out of memory");
		goto done;
	}
	if (*name == '\0') {
		rc = oplog_error__set(OPLOG_ECONFIG, "%s %s: expected %s", opt, arg,
		                      kafka ? "prop=value" : "section.key=value");
		goto done;
	}
	if (kafka) {
		rc = kafka_put(cfg, name, value, opt, 0);
		goto done;
	}
	rc = oplog_config_set(cfg, name, value, opt);
done:
	free(value);
	free(name);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The INI file                                                        */

/*
 * libinih is read through our own line reader: Debian's build has no
 * INI_HANDLER_LINENO, so the reader counts lines for the handler; it also
 * refuses lines longer than inih's buffer (inih would cut them and parse
 * the rest as a new line), drops leading whitespace so that an indented
 * key is a key and not a continuation of the previous value, and sees
 * section headers, which inih does not report, to catch unknown sections
 * even when they are empty.
 */
struct ini_src {
	struct oplog_config *cfg;
	FILE                *f;
	const char          *path;
	char                *buf;       /* getline's buffer */
	size_t               cap;
	int                  line;      /* current line, 1-based */
	int                  read_errno;
	int                  err_line;  /* first error found by us, 0 = none */
	int                  err_rc;
	char                 err[512];
};

static void src_error(struct ini_src *src, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Keep the first error found while parsing, with path:line in front. */
static void src_error(struct ini_src *src, int rc, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	if (src->err_line != 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(src->err, sizeof(src->err), "%s:%d: %s", src->path, src->line, msg);
	src->err_line = src->line;
	src->err_rc = rc;
}

static char *ini_read(char *str, int num, void *stream)
{
	struct ini_src *src = stream;
	ssize_t n = getline(&src->buf, &src->cap, src->f);
	char *p, *end;

	if (n < 0) {
		if (ferror(src->f))
			src->read_errno = errno ? errno : EIO;
		return NULL;
	}
	src->line++;
	p = src->buf;
	end = p + n;
	while (end > p && (end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	if ((size_t)(end - p) + 2 > (size_t)num) {
		src_error(src, OPLOG_ECONFIG, "line too long (the limit is %d bytes)",
		          num - 2);
		p = end;  /* hand inih an empty line */
	} else if (*p == '[') {
		size_t len = strcspn(p + 1, "]");
		if (p[1 + len] == ']') {
			char section[64];
			snprintf(section, sizeof(section), "%.*s", (int)len, p + 1);
			if (!known_section(section))
				src_error(src, OPLOG_ECONFIG, "unknown section [%s]", section);
		}
	}
	snprintf(str, (size_t)num, "%s\n", p);
	return str;
}

static int on_ini_pair(void *user, const char *section, const char *name,
                       const char *value)
{
	struct ini_src *src = user;
	char where[400];
	size_t index;
	int rc;

	if (src->err_line != 0)
		return 1;  /* only the first error is reported */
	if (*section == '\0') {
		src_error(src, OPLOG_ECONFIG, "key %s is outside any [section]", name);
		return 0;
	}
	if (strcmp(section, "kafka") == 0) {
		rc = kafka_put(src->cfg, name, value, src->path, src->line);
		if (rc != 0)
			src_error(src, rc, "out of memory");
		return rc == 0;
	}
	if (!known_section(section)) {
		/* normally already reported by ini_read() at the header */
		src_error(src, OPLOG_ECONFIG, "unknown section [%s]", section);
		return 0;
	}
	if (find_key(section, name, &index) == NULL) {
		src_error(src, OPLOG_ECONFIG, "unknown key [%s] %s", section, name);
		return 0;
	}
	snprintf(where, sizeof(where), "%s:%d: [%s] %s", src->path, src->line, section, name);
	rc = set_key(src->cfg, index, value, where);
	if (rc != 0 && src->err_line == 0) {
		snprintf(src->err, sizeof(src->err), "%s", oplog_error_last());
		src->err_line = src->line;
		src->err_rc = rc;
	}
	return rc == 0;
}

int oplog_config_load_file(struct oplog_config *cfg, const char *path)
{
	struct ini_src src;
	int rc, bad;

	memset(&src, 0, sizeof(src));
	src.cfg = cfg;
	src.path = path;
	src.f = fopen(path, "r");
	if (src.f == NULL) {
		rc = oplog_error__set(OPLOG_EIO, "cannot read config %s: %s", path,
		                      strerror(errno));
		goto done;
	}
	bad = ini_parse_stream(ini_read, &src, on_ini_pair, &src);
	if (src.read_errno != 0) {
		rc = oplog_error__set(OPLOG_EIO, "cannot read config %s: %s", path,
		                      strerror(src.read_errno));
	} else if (bad < 0) {
		rc = oplog_error__set(OPLOG_ENOMEM, "%s: out of memory", path);
	} else if (bad > 0 && (src.err_line == 0 || bad < src.err_line)) {
		rc = oplog_error__set(OPLOG_ECONFIG,
		                      "%s:%d: syntax error (expected [section], key = value "
		                      "or a ; comment)", path, bad);
	} else if (src.err_line != 0) {
		rc = oplog_error__set(src.err_rc, "%s", src.err);
	} else {
		rc = 0;
	}
done:
	free(src.buf);
	if (src.f)
		fclose(src.f);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The dump                                                            */

int oplog_config_dump(const struct oplog_config *cfg, FILE *out)
{
	size_t s, i;

	fprintf(out, "; oplogd effective configuration\n");
	for (s = 0; s < sizeof(sections) / sizeof(sections[0]); s++) {
		fprintf(out, "\n[%s]\n", sections[s]);
		if (strcmp(sections[s], "kafka") == 0) {
			for (i = 0; i < cfg->kafka.n; i++)
				fprintf(out, "%s =%s%s\n", cfg->kafka.items[i].key,
				        *cfg->kafka.items[i].value ? " " : "", cfg->kafka.items[i].value);
			continue;
		}
		for (i = 0; i < KEY_COUNT; i++)
			if (strcmp(keys[i].section, sections[s]) == 0)
				fprintf(out, "%s =%s%s\n", keys[i].name,
				        *cpriv(cfg)->v[i].text ? " " : "", cpriv(cfg)->v[i].text);
	}
	if (fflush(out) != 0 || ferror(out))
		return oplog_error__set(OPLOG_EIO, "writing the configuration: %s",
		                        strerror(errno));
	return 0;
}
