/*
 * config.c: the key table and everything it drives (INI file, --set, -X,
 * --dump-config). Each value's text is parsed by config_parse.c. See
 * oplog/config.h for the syntax and the contract.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "oplog/config.h"
#include "oplog/error.h"

#include "config_int.h"



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

#define MODE(sec, name, def, help) \
	ROW(sec, name, OPLOG_CONFIG_MODE, unsigned, def, 0, 0777, NULL, help, NULL)

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
	STRING(store, path, "./data/replica-1", oplog_config__check_nonempty,
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
	INT(store, rejects_max, "100000", 0, INT64_C(1) << 40,
	    "rejected messages kept; above it the oldest go (the counters still count "
	    "every one); 0 = no limit"),
	MODE(store, mode, "0600",
	     "permission bits of the files of a new store (octal); its directory gets "
	     "x where r is set (0600: 0700)"),
	STRING(metrics, listen, "127.0.0.1:9464", oplog_config__check_listen,
	       "HOST:PORT of /metrics and /healthz; empty = off"),
	DURATION(metrics, health_grace, "30s", 1000, HOUR,
	         "/healthz turns 503 when, for this long, no partition has been assigned, "
	         "no broker has answered, or the apply loop has not reported"),
	INT(metrics, max_datasets, "1000", 0, 10000000,
	    "datasets given their own series on /metrics (the first in key order); "
	    "the rest are summed into one series with dataset_rest=\"true\"; 0 = none"),
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
	unsigned m;
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
	case OPLOG_CONFIG_MODE:
		m = (unsigned)v->num;
		memcpy(field, &m, sizeof(m));
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
		rc = oplog_config__parse_value(&keys[i], keys[i].def, &c->v[i]);
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
		oplog_config__value_clear(&c->v[i]);
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
	int rc = oplog_config__parse_value(&keys[index], text, &nv);

	if (rc == OPLOG_EINVAL) {
		snprintf(reason, sizeof(reason), "%s", oplog_error_last());
		return oplog_error__set(OPLOG_ECONFIG, "%s: %s", where, reason);
	}
	if (rc != 0)
		return rc;
	oplog_config__value_clear(&priv(cfg)->v[index]);
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
 * The syntax is the one libinih 55 accepted as oplogd used it, so that
 * every existing file loads the same: `[section]` (anything after the `]`
 * is ignored), `key = value` or `key: value` with whitespace trimmed
 * around both, whole-line comments starting with ';' or '#', inline
 * comments from a ';' that follows whitespace, a UTF-8 BOM at the start.
 * Leading whitespace is ignored, so there are no continuation lines. A NUL
 * byte ends its line, as it did when lines went through C strings.
 *
 * oplogd parses it itself because Debian's libinih cuts lines at 200
 * bytes (its buffer is fixed at build time), which a list of brokers
 * outgrows. A line may now be up to INI_MAX_LINE bytes; a longer one is an
 * error, read past without being held in memory.
 */
#define INI_MAX_LINE (1 << 20)

struct ini_src {
	struct oplog_config *cfg;
	FILE                *f;
	const char          *name;     /* for error messages and [kafka] origins */
	char                *buf;      /* the current line, NUL-terminated */
	size_t               cap;
	int                  line;     /* current line, 1-based */
	const char          *section;  /* a sections[] entry; NULL before the first */
};

/*
 * Read the next line into src->buf (never NULL) without its '\n'.
 * Returns 1 with *len set (INI_MAX_LINE + 1 when the line is longer than
 * the limit; only its first INI_MAX_LINE bytes are kept), 0 at the end of
 * the input, or OPLOG_EIO / OPLOG_ENOMEM with the message set.
 */
static int ini_read_line(struct ini_src *src, size_t *len)
{
	size_t n = 0;
	bool over = false, any = false;
	int c;

	while ((c = getc(src->f)) != EOF) {
		any = true;
		if (c == '\n')
			break;
		if (n == INI_MAX_LINE) {
			over = true;
			continue;
		}
		if (n + 1 >= src->cap) {
			size_t cap = 2 * src->cap;
			char *grown;

			if (cap > INI_MAX_LINE + 1)
				cap = INI_MAX_LINE + 1;
			grown = realloc(src->buf, cap);
			if (grown == NULL)
				return oplog_error__set(OPLOG_ENOMEM, "%s:%d: out of memory",
				                        src->name, src->line + 1);
			src->buf = grown;
			src->cap = cap;
		}
		src->buf[n++] = (char)c;
	}
	if (c == EOF && ferror(src->f))
		return oplog_error__set(OPLOG_EIO, "cannot read config %s: %s", src->name,
		                        strerror(errno ? errno : EIO));
	if (!any)
		return 0;
	src->buf[n] = '\0';
	src->line++;
	*len = over ? (size_t)INI_MAX_LINE + 1 : n;
	return 1;
}

/* The first char of s that is in chars (NULL: none is) or starts an
 * inline comment (a ';' after whitespace), or the terminating NUL. */
static char *ini_find(char *s, const char *chars)
{
	bool was_space = false;

	for (; *s; s++) {
		if (chars && strchr(chars, *s))
			break;
		if (was_space && *s == ';')
			break;
		was_space = isspace((unsigned char)*s);
	}
	return s;
}

/* s without whitespace at either end (in place: the end is cut with a NUL). */
static char *ini_trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static int ini_syntax_error(const struct ini_src *src)
{
	return oplog_error__set(OPLOG_ECONFIG, "%s:%d: syntax error (expected [section], "
	                        "key = value or a ; comment)", src->name, src->line);
}

/* A `[section]` line: p points at the '['. */
static int ini_section(struct ini_src *src, char *p)
{
	char *close = strchr(p + 1, ']');
	size_t i;

	if (close == NULL)
		return ini_syntax_error(src);
	*close = '\0';
	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		if (strcmp(sections[i], p + 1) == 0) {
			src->section = sections[i];
			return 0;
		}
	}
	/* Reported here, so that an empty unknown section is caught too. */
	return oplog_error__set(OPLOG_ECONFIG, "%s:%d: unknown section [%.63s]", src->name,
	                        src->line, p + 1);
}

/* A `key = value` pair of the current section. */
static int ini_pair(struct ini_src *src, const char *name, const char *value)
{
	char where[400];
	size_t index;
	int rc;

	if (src->section == NULL)
		return oplog_error__set(OPLOG_ECONFIG, "%s:%d: key %s is outside any [section]",
		                        src->name, src->line, name);
	if (strcmp(src->section, "kafka") == 0) {
		rc = kafka_put(src->cfg, name, value, src->name, src->line);
		if (rc != 0)
			oplog_error__set(rc, "%s:%d: out of memory", src->name, src->line);
		return rc;
	}
	if (find_key(src->section, name, &index) == NULL)
		return oplog_error__set(OPLOG_ECONFIG, "%s:%d: unknown key [%s] %s", src->name,
		                        src->line, src->section, name);
	snprintf(where, sizeof(where), "%s:%d: [%s] %s", src->name, src->line, src->section,
	         name);
	return set_key(src->cfg, index, value, where);
}

/* One line (NUL-terminated, without its '\n'): 0 or the error. */
static int ini_line(struct ini_src *src, char *p)
{
	char *end, *value;

	while (*p == ' ' || *p == '\t')
		p++;
	if (src->line == 1 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB &&
	    (unsigned char)p[2] == 0xBF)
		p += 3;
	p = ini_trim(p);
	if (*p == '\0' || *p == ';' || *p == '#')
		return 0;
	if (*p == '[')
		return ini_section(src, p);
	end = ini_find(p, "=:");
	if (*end != '=' && *end != ':')
		return ini_syntax_error(src);
	*end = '\0';
	value = end + 1;
	*ini_find(value, NULL) = '\0';
	return ini_pair(src, ini_trim(p), ini_trim(value));
}

int oplog_config__load_stream(struct oplog_config *cfg, FILE *f, const char *name)
{
	struct ini_src src;
	size_t len;
	int rc;

	memset(&src, 0, sizeof(src));
	src.cfg = cfg;
	src.f = f;
	src.name = name;
	src.cap = 256;
	if ((src.buf = malloc(src.cap)) == NULL)
		return oplog_error__set(OPLOG_ENOMEM, "%s: out of memory", name);
	while ((rc = ini_read_line(&src, &len)) == 1) {
		if (len > INI_MAX_LINE) {
			rc = oplog_error__set(OPLOG_ECONFIG, "%s:%d: line too long (the limit is "
			                      "%d bytes)", name, src.line, INI_MAX_LINE);
			break;
		}
		if ((rc = ini_line(&src, src.buf)) != 0)
			break;
	}
	free(src.buf);
	return rc;
}

int oplog_config_load_file(struct oplog_config *cfg, const char *path)
{
	FILE *f = fopen(path, "r");
	int rc;

	if (f == NULL)
		return oplog_error__set(OPLOG_EIO, "cannot read config %s: %s", path,
		                        strerror(errno));
	rc = oplog_config__load_stream(cfg, f, path);
	fclose(f);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The dump                                                            */

bool oplog_config_secret(const char *key)
{
	static const char *const ends[] = { "password", "secret", ".key.pem", "oauthbearer.config" };
	size_t n = strlen(key), i, e;

	for (i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		e = strlen(ends[i]);
		if (n >= e && strcmp(key + n - e, ends[i]) == 0)
			return true;
	}
	return false;
}

/*
 * What goes between "key =" and value in the dump: a space, except before
 * an empty value, and before a ';', which after a space would start a
 * comment and load back as an empty value.
 */
static const char *dump_gap(const char *value)
{
	return *value == '\0' || *value == ';' ? "" : " ";
}

int oplog_config_dump(const struct oplog_config *cfg, FILE *out, unsigned flags)
{
	const struct oplog_config_kafka *k;
	size_t s, i;

	fprintf(out, "; oplogd effective configuration\n");
	for (s = 0; s < sizeof(sections) / sizeof(sections[0]); s++) {
		fprintf(out, "\n[%s]\n", sections[s]);
		if (strcmp(sections[s], "kafka") == 0) {
			for (i = 0; i < cfg->kafka.n; i++) {
				k = &cfg->kafka.items[i];
				if (!(flags & OPLOG_CONFIG_DUMP_SECRETS) && oplog_config_secret(k->key))
					fprintf(out, "%s = (redacted)\n", k->key);
				else
					fprintf(out, "%s =%s%s\n", k->key, dump_gap(k->value), k->value);
			}
			continue;
		}
		for (i = 0; i < KEY_COUNT; i++)
			if (strcmp(keys[i].section, sections[s]) == 0)
				fprintf(out, "%s =%s%s\n", keys[i].name,
				        dump_gap(cpriv(cfg)->v[i].text), cpriv(cfg)->v[i].text);
	}
	if (fflush(out) != 0 || ferror(out))
		return oplog_error__set(OPLOG_EIO, "writing the configuration: %s",
		                        strerror(errno));
	return 0;
}
