/*
 * check_config.c: the configuration table and what it drives: defaults,
 * the INI file, value types and bounds, errors naming file:line and key,
 * --set and -X overrides, [kafka] passthrough, --dump-config, and the
 * example config/oplogd.conf.
 *
 * Run from the project root (make unit does); OPLOG_SRCDIR overrides where
 * config/oplogd.conf is looked for.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "oplog/config.h"
#include "oplog/error.h"

#define OK(expr) do { \
	int rc_ = (expr); \
	ck_assert_msg(rc_ == 0, "%s returned %d (%s); last error: \"%s\"", #expr, rc_, \
	              oplog_strerror(rc_), oplog_error_last()); \
} while (0)

#define FAILS(expr, want) do { \
	int rc_ = (expr); \
	ck_assert_msg(rc_ == (want), "%s returned %d (%s), expected %s; last error: \"%s\"", \
	              #expr, rc_, oplog_strerror(rc_), #want, oplog_error_last()); \
} while (0)

/* The last error is exactly the text formatted from fmt. */
#define ERR_IS(...) do { \
	char want_[1024]; \
	snprintf(want_, sizeof(want_), __VA_ARGS__); \
	ck_assert_str_eq(oplog_error_last(), want_); \
} while (0)

#define KiB 1024LL
#define MiB (1024LL * KiB)
#define GiB (1024LL * MiB)

static char tmpdir[256];
static char confpath[300];
static struct oplog_config *cfg;

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_config.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(confpath, sizeof(confpath), "%s/oplogd.conf", tmpdir);
	OK(oplog_config_new(&cfg));
}

static void teardown(void)
{
	oplog_config_free(cfg);
	cfg = NULL;
	unlink(confpath);
	rmdir(tmpdir);
}

/* Write text as the test's config file and return its path. */
static const char *conf(const char *text)
{
	FILE *f = fopen(confpath, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
	return confpath;
}

/* Load text as a config file into the fixture's cfg; return the code. */
static int load(const char *text)
{
	return oplog_config_load_file(cfg, conf(text));
}

/* Set one key through --set; return the code. */
static int set(const char *name, const char *value)
{
	return oplog_config_set(cfg, name, value, "--set");
}

/*
 * The text of key "section.key" as --dump-config writes it for c (what
 * was given, trimmed), in a static buffer; fails the test when the dump
 * has no such key.
 */
static const char *text_of(const struct oplog_config *c, const char *name)
{
	static char value[512];
	char section[64], want_section[80], want_key[80], *buf = NULL, *line, *save;
	const char *dot = strchr(name, '.');
	size_t len = 0;
	FILE *f;
	int in_section = 0, found = 0;

	ck_assert_ptr_nonnull(dot);
	snprintf(section, sizeof(section), "%.*s", (int)(dot - name), name);
	snprintf(want_section, sizeof(want_section), "[%s]", section);
	snprintf(want_key, sizeof(want_key), "%s =", dot + 1);
	f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	OK(oplog_config_dump(c, f, OPLOG_CONFIG_DUMP_SECRETS));
	ck_assert_int_eq(fclose(f), 0);
	for (line = strtok_r(buf, "\n", &save); line && !found;
	     line = strtok_r(NULL, "\n", &save)) {
		if (*line == '[')
			in_section = strcmp(line, want_section) == 0;
		else if (in_section && strncmp(line, want_key, strlen(want_key)) == 0) {
			const char *v = line + strlen(want_key);
			snprintf(value, sizeof(value), "%s", *v == ' ' ? v + 1 : v);
			found = 1;
		}
	}
	free(buf);
	ck_assert_msg(found, "--dump-config has no %s", name);
	return value;
}

/* ------------------------------------------------------------------ */

START_TEST(test_config__defaults_match_the_table)
{
	const struct oplog_config_key *keys;
	size_t n, i;

	keys = oplog_config_keys(&n);
	ck_assert_uint_eq(n, 24);
	for (i = 0; i < n; i++) {
		char name[128];
		snprintf(name, sizeof(name), "%s.%s", keys[i].section, keys[i].name);
		if (keys[i].type == OPLOG_CONFIG_STRING || keys[i].type == OPLOG_CONFIG_ENUM ||
		    keys[i].type == OPLOG_CONFIG_LIST)
			ck_assert_str_eq(text_of(cfg, name), keys[i].def);
		ck_assert_msg(keys[i].help && *keys[i].help, "%s has no help", name);
	}
	ck_assert_uint_eq(cfg->apply.topics.n, 1);
	ck_assert_str_eq(cfg->apply.topics.items[0], "oplog");
	ck_assert_int_eq(cfg->apply.batch_size, 200000);
	ck_assert_uint_eq(cfg->apply.batch_bytes, 128 * MiB);
	ck_assert_int_eq(cfg->apply.batch_ms, 1000);
	ck_assert_uint_eq(cfg->apply.max_message_bytes, 2 * MiB);
	ck_assert_int_eq(cfg->apply.clock_skew_ms, 0);
	ck_assert_str_eq(text_of(cfg, "apply.fresh_start"), "earliest");
	ck_assert_int_eq(cfg->apply.fresh_start, OPLOG_FRESH_START_EARLIEST);
	ck_assert_str_eq(cfg->apply.dead_letter_topic, "");
	ck_assert_int_eq(cfg->apply.commit_interval, 1000);
	ck_assert_str_eq(text_of(cfg, "apply.on_offset_lost"), "continue");
	ck_assert_int_eq(cfg->apply.on_offset_lost, OPLOG_OFFSET_LOST_CONTINUE);
	ck_assert_str_eq(cfg->store.path, "./data/replica-1");
	ck_assert_uint_eq(cfg->store.map_size, 256 * MiB);
	ck_assert_uint_eq(cfg->store.max_size, 64 * GiB);
	ck_assert(!cfg->store.writemap);
	ck_assert_int_eq(cfg->store.prune_batch, 10000);
	ck_assert_uint_eq(cfg->store.reject_max_bytes, 64 * KiB);
	ck_assert_int_eq(cfg->store.rejects_max, 100000);
	ck_assert_uint_eq(cfg->store.mode, 0600);
	ck_assert_str_eq(text_of(cfg, "store.mode"), "0600");
	ck_assert_str_eq(cfg->metrics.listen, "127.0.0.1:9464");
	ck_assert_str_eq(text_of(cfg, "log.level"), "info");
	ck_assert_int_eq(cfg->log.level, OPLOG_LOG_INFO);
	ck_assert_str_eq(text_of(cfg, "log.format"), "text");
	ck_assert_int_eq(cfg->log.format, OPLOG_LOG_TEXT);
	ck_assert_int_eq(cfg->log.progress_interval, 10000);
	ck_assert_uint_eq(cfg->kafka.n, 0);
	ck_assert_ptr_null(cfg->kafka.items);
}
END_TEST

/* Each row names its own field: no two keys share one, each lies within
 * the struct beside the kafka list, and setting a key writes it; an enum
 * key's field takes the position of the word given. */
START_TEST(test_config__rows_bind_distinct_fields)
{
	const struct oplog_config_key *keys;
	size_t n, i, j;

	keys = oplog_config_keys(&n);
	for (i = 0; i < n; i++) {
		char name[128];
		snprintf(name, sizeof(name), "%s.%s", keys[i].section, keys[i].name);
		ck_assert_msg(keys[i].field >= sizeof(cfg->kafka) &&
		              keys[i].field < sizeof(struct oplog_config),
		              "%s: field offset %zu", name, keys[i].field);
		for (j = 0; j < i; j++)
			ck_assert_msg(keys[i].field != keys[j].field, "%s and %s.%s share a field",
			              name, keys[j].section, keys[j].name);
		if (strcmp(name, "store.prune_batch") == 0) {
			int64_t v;
			OK(set(name, "77"));
			memcpy(&v, (const char *)cfg + keys[i].field, sizeof(v));
			ck_assert_int_eq(v, 77);
		}
		if (keys[i].type == OPLOG_CONFIG_ENUM) {
			char words[128], *w, *save;
			int index = 0, v;
			snprintf(words, sizeof(words), "%s", keys[i].values);
			for (w = strtok_r(words, "|", &save); w; w = strtok_r(NULL, "|", &save)) {
				OK(set(name, w));
				memcpy(&v, (const char *)cfg + keys[i].field, sizeof(v));
				ck_assert_msg(v == index, "%s = %s gave %d", name, w, v);
				index++;
			}
		}
	}
}
END_TEST

START_TEST(test_config__file_sets_values)
{
	OK(load("; a comment\n"
	        "# another comment\n"
	        "\n"
	        "[apply]\n"
	        "batch_size = 500   ; inline comment\n"
	        "  batch_ms=2s\n"
	        "\ttopics = a, b ,c\n"
	        "[store]\r\n"
	        "path = /var/lib/oplogd\r\n"
	        "map_size = 1G\n"
	        "map_size = 2G\n"
	        "[log]\n"
	        "level = debug\n"));
	ck_assert_int_eq(cfg->apply.batch_size, 500);
	/* indented lines are keys, not continuations of the line before */
	ck_assert_int_eq(cfg->apply.batch_ms, 2000);
	ck_assert_str_eq(text_of(cfg, "apply.topics"), "a, b ,c");
	ck_assert_str_eq(cfg->store.path, "/var/lib/oplogd");
	/* a repeated key keeps the last value */
	ck_assert_uint_eq(cfg->store.map_size, 2 * GiB);
	ck_assert_str_eq(text_of(cfg, "log.level"), "debug");
	ck_assert_int_eq(cfg->log.level, OPLOG_LOG_DEBUG);
	/* keys the file leaves out keep their defaults */
	ck_assert_uint_eq(cfg->store.max_size, 64 * GiB);
}
END_TEST

START_TEST(test_config__missing_file_is_eio)
{
	char path[400];

	snprintf(path, sizeof(path), "%s/absent.conf", tmpdir);
	FAILS(oplog_config_load_file(cfg, path), OPLOG_EIO);
	ERR_IS("cannot read config %s: No such file or directory", path);
}
END_TEST

START_TEST(test_config__int_parsing_and_bounds)
{
	int64_t v = 7;

	OK(set("apply.batch_size", "1"));
	ck_assert_int_eq(cfg->apply.batch_size, 1);
	OK(set("apply.batch_size", "1000000"));
	ck_assert_int_eq(cfg->apply.batch_size, 1000000);
	FAILS(set("apply.batch_size", "0"), OPLOG_ECONFIG);
	ERR_IS("--set apply.batch_size: '0' is out of range (1 .. 1000000)");
	FAILS(set("apply.batch_size", "1000001"), OPLOG_ECONFIG);
	FAILS(set("apply.batch_size", "-5"), OPLOG_ECONFIG);
	FAILS(set("apply.batch_size", "12x"), OPLOG_ECONFIG);
	ERR_IS("--set apply.batch_size: bad integer '12x' (expected a whole number)");
	FAILS(set("apply.batch_size", ""), OPLOG_ECONFIG);
	FAILS(set("apply.batch_size", "99999999999999999999"), OPLOG_ECONFIG);
	ERR_IS("--set apply.batch_size: integer '99999999999999999999' is too large");
	/* a failed set leaves the value as it was */
	ck_assert_int_eq(cfg->apply.batch_size, 1000000);

	OK(oplog_config__parse_int("-42", &v));
	ck_assert_int_eq(v, -42);
	OK(oplog_config__parse_int("9223372036854775807", &v));
	ck_assert_int_eq(v, INT64_MAX);
	FAILS(oplog_config__parse_int("9223372036854775808", &v), OPLOG_EINVAL);
	FAILS(oplog_config__parse_int(" 1", &v), OPLOG_EINVAL);
	FAILS(oplog_config__parse_int("-", &v), OPLOG_EINVAL);
	ck_assert_int_eq(v, INT64_MAX);
}
END_TEST

START_TEST(test_config__size_suffixes_and_bounds)
{
	static const struct { const char *text; int64_t bytes; } good[] = {
		{ "0", 0 }, { "512", 512 }, { "64K", 64 * KiB }, { "64k", 64 * KiB },
		{ "3M", 3 * MiB }, { "2G", 2 * GiB }, { "8589934591G", 8589934591LL * GiB },
	};
	static const char *const bad[] = { "", "abc", "1T", "1KB", "1.5M", "-1", "M", "1 M" };
	int64_t v;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = -1;
		OK(oplog_config__parse_size(good[i].text, &v));
		ck_assert_msg(v == good[i].bytes, "%s gave %lld", good[i].text, (long long)v);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(oplog_config__parse_size(bad[i], &v) == OPLOG_EINVAL,
		              "'%s' was accepted", bad[i]);
	FAILS(oplog_config__parse_size("8589934592G", &v), OPLOG_EINVAL);
	ERR_IS("size '8589934592G' is too large");

	OK(set("apply.max_message_bytes", "64M"));
	ck_assert_uint_eq(cfg->apply.max_message_bytes, 64 * MiB);
	OK(set("apply.max_message_bytes", "1"));
	ck_assert_uint_eq(cfg->apply.max_message_bytes, 1);
	FAILS(set("apply.max_message_bytes", "65537K"), OPLOG_ECONFIG);
	ERR_IS("--set apply.max_message_bytes: '65537K' is out of range (1 .. 64M)");
	FAILS(set("apply.max_message_bytes", "0"), OPLOG_ECONFIG);
	FAILS(set("store.map_size", "abc"), OPLOG_ECONFIG);
	ERR_IS("--set store.map_size: bad size 'abc' (expected a number with optional K, M, G suffix)");
	FAILS(set("store.map_size", "1023K"), OPLOG_ECONFIG);
	ERR_IS("--set store.map_size: '1023K' is out of range (1M .. 1048576G)");
	OK(set("apply.batch_bytes", "1G"));
	ck_assert_uint_eq(cfg->apply.batch_bytes, GiB);
	FAILS(set("apply.batch_bytes", "1025M"), OPLOG_ECONFIG);
	ERR_IS("--set apply.batch_bytes: '1025M' is out of range (1 .. 1G)");
	FAILS(set("apply.batch_bytes", "0"), OPLOG_ECONFIG);
}
END_TEST

START_TEST(test_config__duration_suffixes_and_bounds)
{
	static const struct { const char *text; int64_t ms; } good[] = {
		{ "0", 0 }, { "1500", 1500 }, { "250ms", 250 }, { "3s", 3000 },
		{ "2m", 120000 }, { "1h", 3600000 }, { "7d", 7 * 86400000LL },
		{ "2w", 14 * 86400000LL }, { "0w", 0 },
	};
	static const char *const bad[] = { "", "s", "1x", "1 s", "1S", "1.5s", "-1s", "1sec", "1W", "1wk" };
	int64_t v;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = -1;
		OK(oplog_config__parse_duration(good[i].text, &v));
		ck_assert_msg(v == good[i].ms, "%s gave %lld", good[i].text, (long long)v);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(oplog_config__parse_duration(bad[i], &v) == OPLOG_EINVAL,
		              "'%s' was accepted", bad[i]);
	FAILS(oplog_config__parse_duration("106751991168d", &v), OPLOG_EINVAL);
	ERR_IS("duration '106751991168d' is too long");

	OK(set("apply.clock_skew_ms", "5000"));
	ck_assert_int_eq(cfg->apply.clock_skew_ms, 5000);
	OK(set("apply.batch_ms", "1h"));
	ck_assert_int_eq(cfg->apply.batch_ms, 3600000);
	FAILS(set("apply.batch_ms", "61m"), OPLOG_ECONFIG);
	ERR_IS("--set apply.batch_ms: '61m' is out of range (0 .. 1h)");
	FAILS(set("log.progress_interval", "soon"), OPLOG_ECONFIG);
	ERR_IS("--set log.progress_interval: bad duration 'soon' (expected a number with "
	       "optional ms, s, m, h, d, w suffix; none means ms)");
	ck_assert_int_eq(cfg->log.progress_interval, 10000);
}
END_TEST

START_TEST(test_config__bool_words)
{
	static const char *const yes[] = { "true", "yes", "on", "1", "TRUE", "Yes" };
	static const char *const no[] = { "false", "no", "off", "0", "False", "OFF" };
	static const char *const bad[] = { "", "2", "y", "enable", "truee" };
	bool b;
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		b = false;
		OK(oplog_config__parse_bool(yes[i], &b));
		ck_assert_msg(b, "%s is not true", yes[i]);
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		b = true;
		OK(oplog_config__parse_bool(no[i], &b));
		ck_assert_msg(!b, "%s is not false", no[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b = true;
		ck_assert_msg(oplog_config__parse_bool(bad[i], &b) == OPLOG_EINVAL,
		              "'%s' was accepted", bad[i]);
		ck_assert(b);
	}
	ERR_IS("bad boolean 'truee' (expected true/false, yes/no, on/off or 1/0)");
}
END_TEST

START_TEST(test_config__enum_words)
{
	OK(set("apply.fresh_start", "latest"));
	ck_assert_int_eq(cfg->apply.fresh_start, OPLOG_FRESH_START_LATEST);
	ck_assert_str_eq(text_of(cfg, "apply.fresh_start"), "latest");
	OK(set("apply.on_offset_lost", "stop"));
	ck_assert_int_eq(cfg->apply.on_offset_lost, OPLOG_OFFSET_LOST_STOP);
	OK(set("log.format", "json"));
	ck_assert_int_eq(cfg->log.format, OPLOG_LOG_JSON);
	OK(set("log.level", "error"));
	ck_assert_int_eq(cfg->log.level, OPLOG_LOG_ERROR);
	FAILS(set("log.level", "verbose"), OPLOG_ECONFIG);
	ERR_IS("--set log.level: bad value 'verbose' (expected one of debug/info/warn/error)");
	/* words are exact: no prefixes, no case folding */
	FAILS(set("log.level", "err"), OPLOG_ECONFIG);
	FAILS(set("log.format", "JSON"), OPLOG_ECONFIG);
	ck_assert_str_eq(text_of(cfg, "log.level"), "error");
	ck_assert_int_eq(cfg->log.level, OPLOG_LOG_ERROR);
}
END_TEST

/* File modes are octal, at most 0777, and let the owner read and write. */
START_TEST(test_config__mode_is_octal_and_owner_rw)
{
	static const char *const bad[] = { "", "abc", "0800", "1777", "06 40", "-0600" };
	size_t i;

	OK(set("store.mode", "0640"));
	ck_assert_uint_eq(cfg->store.mode, 0640);
	OK(set("store.mode", "777"));
	ck_assert_uint_eq(cfg->store.mode, 0777);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(set("store.mode", bad[i]) == OPLOG_ECONFIG, "'%s' was accepted",
		              bad[i]);
	ERR_IS("--set store.mode: bad mode '-0600' (expected octal permission bits, "
	       "0600 .. 0777)");
	FAILS(set("store.mode", "0400"), OPLOG_ECONFIG);
	ERR_IS("--set store.mode: mode '0400' does not let the owner read and write "
	       "(expected 0600 .. 0777)");
	ck_assert_uint_eq(cfg->store.mode, 0777);
}
END_TEST

/* A dump hides secret [kafka] values unless asked, and only those. */
START_TEST(test_config__dump_redacts_secrets)
{
	static const char *const secret[] = {
		"sasl.password", "ssl.key.password", "ssl.keystore.password",
		"sasl.oauthbearer.client.secret", "ssl.key.pem", "sasl.oauthbearer.config"
	};
	static const char *const plain[] = {
		"bootstrap.servers", "sasl.username", "ssl.ca.location", "ssl.certificate.pem",
		"client.id"
	};
	char *text = NULL;
	size_t len = 0, i;
	FILE *f;

	for (i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
		ck_assert_msg(oplog_config_secret(secret[i]), "%s is not a secret", secret[i]);
	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		ck_assert_msg(!oplog_config_secret(plain[i]), "%s is a secret", plain[i]);
	OK(oplog_config_override(cfg, "-X", "sasl.password=hunter2"));
	OK(oplog_config_override(cfg, "-X", "sasl.username=alice"));
	ck_assert_ptr_nonnull(f = open_memstream(&text, &len));
	OK(oplog_config_dump(cfg, f, 0));
	fclose(f);
	ck_assert_ptr_null(strstr(text, "hunter2"));
	ck_assert_ptr_nonnull(strstr(text, "sasl.password = (redacted)\n"));
	ck_assert_ptr_nonnull(strstr(text, "sasl.username = alice\n"));
	free(text);
	text = NULL;
	ck_assert_ptr_nonnull(f = open_memstream(&text, &len));
	OK(oplog_config_dump(cfg, f, OPLOG_CONFIG_DUMP_SECRETS));
	fclose(f);
	ck_assert_ptr_nonnull(strstr(text, "sasl.password = hunter2\n"));
	free(text);
}
END_TEST

START_TEST(test_config__list_items)
{
	OK(set("apply.topics", " a ,b,  c.d-e "));
	ck_assert_uint_eq(cfg->apply.topics.n, 3);
	ck_assert_str_eq(cfg->apply.topics.items[0], "a");
	ck_assert_str_eq(cfg->apply.topics.items[1], "b");
	ck_assert_str_eq(cfg->apply.topics.items[2], "c.d-e");
	FAILS(set("apply.topics", "a,,b"), OPLOG_ECONFIG);
	ERR_IS("--set apply.topics: bad list 'a,,b' (expected comma-separated, non-empty names)");
	FAILS(set("apply.topics", ""), OPLOG_ECONFIG);
	FAILS(set("apply.topics", "a,"), OPLOG_ECONFIG);
	ck_assert_uint_eq(cfg->apply.topics.n, 3);
	ck_assert_str_eq(cfg->apply.topics.items[2], "c.d-e");
}
END_TEST

START_TEST(test_config__string_checks)
{
	OK(set("metrics.listen", ""));
	ck_assert_str_eq(cfg->metrics.listen, "");
	OK(set("metrics.listen", "[::1]:9000"));
	OK(set("metrics.listen", "localhost:1"));
	FAILS(set("metrics.listen", "localhost"), OPLOG_ECONFIG);
	ERR_IS("--set metrics.listen: bad address 'localhost' (expected HOST:PORT, or empty for off)");
	FAILS(set("metrics.listen", "host:70000"), OPLOG_ECONFIG);
	FAILS(set("metrics.listen", ":80"), OPLOG_ECONFIG);
	FAILS(set("store.path", ""), OPLOG_ECONFIG);
	ERR_IS("--set store.path: must not be empty");
	OK(set("apply.dead_letter_topic", "oplog.dead"));
	ck_assert_str_eq(cfg->apply.dead_letter_topic, "oplog.dead");
}
END_TEST

START_TEST(test_config__bad_value_names_file_line_and_key)
{
	FAILS(load("[apply]\nbatch_size = 5\n\n[store]\n\n\n; c\n\n\n\n\nmap_size = abc\n"),
	      OPLOG_ECONFIG);
	ERR_IS("%s:12: [store] map_size: bad size 'abc' (expected a number with optional "
	       "K, M, G suffix)", confpath);
}
END_TEST

START_TEST(test_config__unknown_key_names_file_and_line)
{
	FAILS(load("; header\n[apply]\nbatchsize = 5\n"), OPLOG_ECONFIG);
	ERR_IS("%s:3: unknown key [apply] batchsize", confpath);
}
END_TEST

START_TEST(test_config__unknown_section_names_file_and_line)
{
	FAILS(load("[apply]\nbatch_size = 5\n[foo]\nbar = 1\n"), OPLOG_ECONFIG);
	ERR_IS("%s:3: unknown section [foo]", confpath);
	/* caught even when empty: the section's keys cannot report it */
	FAILS(load("[log]\n[foo]\n"), OPLOG_ECONFIG);
	ERR_IS("%s:2: unknown section [foo]", confpath);
}
END_TEST

START_TEST(test_config__syntax_errors_name_the_line)
{
	FAILS(load("x = 1\n"), OPLOG_ECONFIG);
	ERR_IS("%s:1: key x is outside any [section]", confpath);
	FAILS(load("[log]\nlevel = info\nlevel\n"), OPLOG_ECONFIG);
	ERR_IS("%s:3: syntax error (expected [section], key = value or a ; comment)", confpath);
	FAILS(load("[log]\n[store\n"), OPLOG_ECONFIG);
	ERR_IS("%s:2: syntax error (expected [section], key = value or a ; comment)", confpath);
}
END_TEST

/* A config file of one [kafka] line `bootstrap.servers = ` and n bytes of
 * host:port list, in a new buffer the caller frees; the list in *list. */
static char *servers_conf(size_t n, char **list)
{
	static const char head[] = "[kafka]\nbootstrap.servers = ";
	char *text, *p;
	size_t i = 0;
	int b = 0;

	*list = malloc(n + 1);
	ck_assert_ptr_nonnull(*list);
	while (i < n) {
		char host[80];
		int len = snprintf(host, sizeof(host), "%skafka-broker-%d.prod.eu-west-1.example.internal:9092",
		                   i ? "," : "", ++b);
		memcpy(*list + i, host, (size_t)len > n - i ? n - i : (size_t)len);
		i += (size_t)len > n - i ? n - i : (size_t)len;
	}
	(*list)[n] = '\0';
	text = malloc(sizeof(head) + n + 2);
	ck_assert_ptr_nonnull(text);
	p = text + sprintf(text, "%s%s\n", head, *list);
	ck_assert_uint_eq((size_t)(p - text), sizeof(head) - 1 + n + 1);
	return text;
}

/* The dump of c, in a new string the caller frees. */
static char *dump_of(const struct oplog_config *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	OK(oplog_config_dump(c, f, OPLOG_CONFIG_DUMP_SECRETS));
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

/* Six brokers do not fit in 198 bytes: the list must load whole and dump
 * back as one line, and so must a 64 KiB one. */
START_TEST(test_config__long_broker_list_loads_and_dumps)
{
	static const size_t sizes[] = { 6 * 52 - 1, 64 * 1024 };
	char *text, *list, *dump, *line;
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		text = servers_conf(sizes[i], &list);
		if (i == 0) {
			ck_assert_ptr_nonnull(strstr(list, "kafka-broker-6."));
			ck_assert_ptr_null(strstr(list, "kafka-broker-7."));
			ck_assert_uint_gt(strlen(list), 198);
		}
		OK(load(text));
		ck_assert_uint_eq(cfg->kafka.n, 1);
		ck_assert_str_eq(cfg->kafka.items[0].value, list);
		ck_assert_int_eq(cfg->kafka.items[0].line, 2);
		dump = dump_of(cfg);
		line = malloc(strlen(list) + 64);
		ck_assert_ptr_nonnull(line);
		sprintf(line, "\n[kafka]\nbootstrap.servers = %s\n", list);
		ck_assert_ptr_nonnull(strstr(dump, line));
		free(line);
		free(dump);
		free(list);
		free(text);
	}
}
END_TEST

/* A line over 1 MiB is refused by number, not cut; one at the limit is
 * whole. */
START_TEST(test_config__long_line_is_an_error_not_cut)
{
	const size_t limit = 1024 * 1024;
	size_t pre = strlen("path = /");
	char *text = malloc(limit + 64);

	ck_assert_ptr_nonnull(text);
	strcpy(text, "[store]\npath = /");
	memset(text + strlen(text), 'x', limit + 1 - pre);
	strcpy(text + 8 + limit + 1, "\nmap_size = 1G\n");
	FAILS(load(text), OPLOG_ECONFIG);
	ERR_IS("%s:2: line too long (the limit is 1048576 bytes)", confpath);
	ck_assert_str_eq(cfg->store.path, "./data/replica-1");
	/* and one at the limit is whole */
	strcpy(text + 8 + limit, "\nmap_size = 1G\n");
	OK(load(text));
	ck_assert_uint_eq(strlen(cfg->store.path), limit - pre + 1);
	ck_assert_uint_eq(cfg->store.map_size, GiB);
	free(text);
}
END_TEST

/*
 * The syntax libinih 55 accepted, case by case: each file loads as it did
 * (want NULL) or fails with the same message (want, after "path:").
 * kafka: the [kafka] property k's value afterwards, when given.
 */
static const struct {
	const char *text, *want, *kafka;
} syntax_cases[] = {
	{ "\xEF\xBB\xBF[kafka]\nk = v\n", NULL, "v" },
	{ "\xEF\xBB\xBF; c\n[kafka]\nk=v\n", NULL, "v" },
	{ "[kafka]\nk: v\n", NULL, "v" },
	{ "[kafka]\nk = a = b\n", NULL, "a = b" },
	{ "[kafka]\nk: a = b\n", NULL, "a = b" },
	{ "[kafka]\nk = http://h:1\n", NULL, "http://h:1" },
	{ "[kafka] ; brokers\nk = v ; why\n", NULL, "v" },
	{ "[kafka]\nk = a;b\n", NULL, "a;b" },
	{ "[kafka]\nk =;b\n", NULL, ";b" },
	{ "[kafka]\nk = a\t;b\n", NULL, "a" },
	{ "[kafka]\nk = # not a comment\n", NULL, "# not a comment" },
	{ "[kafka]\nk =\n", NULL, "" },
	{ "[kafka]\nk = ; only a comment\n", NULL, "" },
	{ "[kafka]junk\nk = v", NULL, "v" },
	{ "; c\n# c\n  ; c\n\t# c\n\n[kafka]\n k\t=\tv \n", NULL, "v" },
	{ "[kafka]\r\nk = v\r\n", NULL, "v" },
	{ "[kafka]\nk ; = v\n", "2: syntax error (expected [section], key = value or a ; comment)", NULL },
	{ "[kafka]\nk\n", "2: syntax error (expected [section], key = value or a ; comment)", NULL },
	{ "[kafka\n", "1: syntax error (expected [section], key = value or a ; comment)", NULL },
	{ "; c\n#c\nk = v\n", "3: key k is outside any [section]", NULL },
	{ "\xEF\xBB\xBFk = v\n", "1: key k is outside any [section]", NULL },
	{ "[log]\n[foo] ; x\n", "2: unknown section [foo]", NULL },
	{ "[ log ]\n", "1: unknown section [ log ]", NULL },
	{ "[]\n", "1: unknown section []", NULL },
	{ "[log ; x]\n", "1: unknown section [log ; x]", NULL },
	{ "[log]\n= x\n", "2: unknown key [log] ", NULL },
	{ "[log]\nlevel = warn\nlevel = loud\n", "3: [log] level: bad value 'loud' "
	  "(expected one of debug/info/warn/error)", NULL },
};

START_TEST(test_config__syntax_as_before)
{
	const char *text = syntax_cases[_i].text, *want = syntax_cases[_i].want;
	char msg[1024];
	size_t j;
	int rc = load(text);

	if (want == NULL) {
		ck_assert_msg(rc == 0, "case %d: %s", _i, oplog_error_last());
	} else {
		snprintf(msg, sizeof(msg), "%s:%s", confpath, want);
		ck_assert_msg(rc == OPLOG_ECONFIG, "case %d returned %d", _i, rc);
		ck_assert_str_eq(oplog_error_last(), msg);
	}
	if (syntax_cases[_i].kafka) {
		for (j = 0; j < cfg->kafka.n; j++)
			if (strcmp(cfg->kafka.items[j].key, "k") == 0)
				break;
		ck_assert_msg(j < cfg->kafka.n, "case %d: no [kafka] k", _i);
		ck_assert_str_eq(cfg->kafka.items[j].value, syntax_cases[_i].kafka);
	}
}
END_TEST

/*
 * Where libinih differed from its documented syntax, the file now keeps to
 * it: a line starting with \r, \v or \f was a continuation that replaced
 * the key before's value (only ' ' and '\t' were stripped for it), and a
 * BOM hid an unknown section on line 1 until one of its keys.
 */
START_TEST(test_config__whitespace_never_continues_a_line)
{
	OK(load("[kafka]\nk = v\n\rx = 1\n\vy = 2\n"));
	ck_assert_uint_eq(cfg->kafka.n, 3);
	ck_assert_str_eq(cfg->kafka.items[0].value, "v");
	ck_assert_str_eq(cfg->kafka.items[1].key, "x");
	ck_assert_str_eq(cfg->kafka.items[2].key, "y");
	FAILS(load("[kafka]\nk = v\n\fmore\n"), OPLOG_ECONFIG);
	ERR_IS("%s:3: syntax error (expected [section], key = value or a ; comment)", confpath);
	FAILS(load("\xEF\xBB\xBF[foo]\n"), OPLOG_ECONFIG);
	ERR_IS("%s:1: unknown section [foo]", confpath);
}
END_TEST

/* The parser reads any stream, named as the caller says (the fuzzer's
 * way in). */
START_TEST(test_config__stream_names_its_source)
{
	static const char text[] = "[kafka]\nk = v\n[apply]\nbatchsize = 1\n";
	FILE *f = fmemopen((void *)text, sizeof(text) - 1, "r");

	ck_assert_ptr_nonnull(f);
	FAILS(oplog_config__load_stream(cfg, f, "<memory>"), OPLOG_ECONFIG);
	ERR_IS("<memory>:4: unknown key [apply] batchsize");
	ck_assert_str_eq(cfg->kafka.items[0].file, "<memory>");
	ck_assert_int_eq(cfg->kafka.items[0].line, 2);
	fclose(f);
}
END_TEST

START_TEST(test_config__first_error_wins)
{
	FAILS(load("[apply]\nbatch_size = 0\nnope = 1\n[foo]\n"), OPLOG_ECONFIG);
	ERR_IS("%s:2: [apply] batch_size: '0' is out of range (1 .. 1000000)", confpath);
	FAILS(load("[apply]\nbroken line\nnope = 1\n"), OPLOG_ECONFIG);
	ERR_IS("%s:2: syntax error (expected [section], key = value or a ; comment)", confpath);
}
END_TEST

START_TEST(test_config__command_line_wins_over_file)
{
	const struct oplog_config_kafka *k;

	OK(load("[kafka]\nbootstrap.servers = file:9092\ngroup.id = g\n"
	        "[store]\npath = /from/file\n[apply]\nbatch_size = 7\n"));
	OK(oplog_config_override(cfg, "--set", "store.path = /from/set"));
	OK(oplog_config_override(cfg, "--set", "apply.batch_size=9"));
	OK(oplog_config_override(cfg, "-X", "bootstrap.servers=cli:9092"));
	OK(oplog_config_override(cfg, "--set", "kafka.client.id=c1"));
	ck_assert_str_eq(cfg->store.path, "/from/set");
	ck_assert_int_eq(cfg->apply.batch_size, 9);
	k = cfg->kafka.items;
	ck_assert_uint_eq(cfg->kafka.n, 3);
	/* the overridden property keeps its place and takes the new origin */
	ck_assert_str_eq(k[0].key, "bootstrap.servers");
	ck_assert_str_eq(k[0].value, "cli:9092");
	ck_assert_str_eq(k[0].file, "-X");
	ck_assert_int_eq(k[0].line, 0);
	ck_assert_str_eq(k[1].key, "group.id");
	ck_assert_str_eq(k[1].file, confpath);
	ck_assert_int_eq(k[1].line, 3);
	ck_assert_str_eq(k[2].key, "client.id");
	ck_assert_str_eq(k[2].value, "c1");
	ck_assert_str_eq(k[2].file, "--set");
}
END_TEST

START_TEST(test_config__override_errors)
{
	FAILS(oplog_config_override(cfg, "--set", "store.path"), OPLOG_ECONFIG);
	ERR_IS("--set store.path: expected section.key=value");
	FAILS(oplog_config_override(cfg, "--set", "=x"), OPLOG_ECONFIG);
	FAILS(oplog_config_override(cfg, "--set", "path=x"), OPLOG_ECONFIG);
	ERR_IS("--set path: expected section.key");
	FAILS(oplog_config_override(cfg, "--set", "foo.bar=1"), OPLOG_ECONFIG);
	ERR_IS("--set foo.bar: unknown section [foo]");
	FAILS(oplog_config_override(cfg, "--set", "apply.batchsize=1"), OPLOG_ECONFIG);
	ERR_IS("--set apply.batchsize: unknown key [apply] batchsize");
	FAILS(oplog_config_override(cfg, "--set", "store.map_size=abc"), OPLOG_ECONFIG);
	ERR_IS("--set store.map_size: bad size 'abc' (expected a number with optional K, M, G suffix)");
	FAILS(oplog_config_override(cfg, "-X", "bootstrap.servers"), OPLOG_ECONFIG);
	ERR_IS("-X bootstrap.servers: expected prop=value");
	FAILS(oplog_config_set(cfg, "store.path", "", "--store"), OPLOG_ECONFIG);
	ERR_IS("--store store.path: must not be empty");
	/* A line break would let a value inject lines into --dump-config. */
	FAILS(oplog_config_override(cfg, "--set", "store.path=/x\n[store]\npath=/etc"), OPLOG_ECONFIG);
	ERR_IS("--set: a value may not contain a line break");
	FAILS(oplog_config_override(cfg, "-X", "sasl.password=a\rb"), OPLOG_ECONFIG);
	ERR_IS("-X: a value may not contain a line break");
}
END_TEST

START_TEST(test_config__kafka_keeps_order_and_lines)
{
	const struct oplog_config_kafka *k;

	OK(load("[kafka]\n"
	        "bootstrap.servers = b1:9092,b2:9092\n"
	        "; any key at all: librdkafka judges them\n"
	        "no.such.property = whatever\n"
	        "security.protocol = SASL_SSL\n"
	        "[apply]\n"
	        "batch_size = 3\n"
	        "[kafka]\n"
	        "sasl.password = a;b\n"
	        "bootstrap.servers = b3:9092\n"
	        "empty.value =\n"));
	k = cfg->kafka.items;
	ck_assert_uint_eq(cfg->kafka.n, 5);
	ck_assert_str_eq(k[0].key, "bootstrap.servers");
	ck_assert_str_eq(k[0].value, "b3:9092");  /* last value, first place */
	ck_assert_int_eq(k[0].line, 10);
	ck_assert_str_eq(k[1].key, "no.such.property");
	ck_assert_str_eq(k[1].value, "whatever");
	ck_assert_int_eq(k[1].line, 4);
	ck_assert_str_eq(k[2].key, "security.protocol");
	ck_assert_int_eq(k[2].line, 5);
	ck_assert_str_eq(k[3].key, "sasl.password");
	ck_assert_str_eq(k[3].value, "a;b");      /* ';' only starts a comment after a space */
	ck_assert_int_eq(k[3].line, 9);
	ck_assert_str_eq(k[4].key, "empty.value");
	ck_assert_str_eq(k[4].value, "");
	ck_assert_int_eq(k[4].line, 11);
	ck_assert_str_eq(k[4].file, confpath);
}
END_TEST

START_TEST(test_config__dump_loads_back_the_same)
{
	char first[4096], second[4096];
	size_t n1, n2;
	struct oplog_config *again = NULL;
	FILE *f;

	OK(load("[kafka]\nbootstrap.servers = h:1\n[apply]\ntopics = x, y\nbatch_ms = 2s\n"
	        "dead_letter_topic =\n[log]\nformat = json\n"));
	f = fopen(confpath, "w");
	ck_assert_ptr_nonnull(f);
	OK(oplog_config_dump(cfg, f, OPLOG_CONFIG_DUMP_SECRETS));
	ck_assert_int_eq(fclose(f), 0);

	f = fopen(confpath, "r");
	ck_assert_ptr_nonnull(f);
	n1 = fread(first, 1, sizeof(first) - 1, f);
	first[n1] = '\0';
	fclose(f);
	ck_assert_ptr_nonnull(strstr(first, "\n[kafka]\nbootstrap.servers = h:1\n"));
	ck_assert_ptr_nonnull(strstr(first, "\nbatch_ms = 2s\n"));
	ck_assert_ptr_nonnull(strstr(first, "\nformat = json\n"));

	OK(oplog_config_new(&again));
	OK(oplog_config_load_file(again, confpath));
	ck_assert_str_eq(text_of(again, "apply.topics"), "x, y");
	ck_assert_int_eq(again->apply.batch_ms, 2000);
	f = fopen(confpath, "w+");
	ck_assert_ptr_nonnull(f);
	OK(oplog_config_dump(again, f, OPLOG_CONFIG_DUMP_SECRETS));
	rewind(f);
	n2 = fread(second, 1, sizeof(second) - 1, f);
	second[n2] = '\0';
	fclose(f);
	oplog_config_free(again);
	ck_assert_str_eq(first, second);
}
END_TEST

/* A value that starts with ';' (no space before it in the file, so not a
 * comment) is dumped without the space that would make it one. */
START_TEST(test_config__dump_keeps_a_leading_semicolon)
{
	struct oplog_config *again = NULL;
	char *first, *second;
	FILE *f;

	OK(load("[kafka]\nsasl.password =;secret\n[apply]\ndead_letter_topic =;t\n"));
	ck_assert_str_eq(cfg->kafka.items[0].value, ";secret");
	first = dump_of(cfg);
	ck_assert_ptr_nonnull(strstr(first, "\nsasl.password =;secret\n"));
	f = fopen(confpath, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(first, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	OK(oplog_config_new(&again));
	OK(oplog_config_load_file(again, confpath));
	ck_assert_str_eq(again->kafka.items[0].value, ";secret");
	ck_assert_str_eq(again->apply.dead_letter_topic, ";t");
	second = dump_of(again);
	ck_assert_str_eq(first, second);
	free(second);
	free(first);
	oplog_config_free(again);
}
END_TEST

/* The [apply] section as the release before batch_bytes wrote it: every
 * key still loads and keeps its meaning; the new key takes its default. */
START_TEST(test_config__previous_release_file_still_loads)
{
	OK(load("[apply]\n"
	        "topics = oplog\n"
	        "batch_size = 10000\n"
	        "batch_ms = 50ms\n"
	        "max_message_bytes = 2M\n"
	        "clock_skew_ms = 0\n"
	        "fresh_start = earliest\n"
	        "dead_letter_topic =\n"
	        "commit_interval = 1s\n"
	        "on_offset_lost = continue\n"));
	ck_assert_int_eq(cfg->apply.batch_size, 10000);
	ck_assert_int_eq(cfg->apply.batch_ms, 50);
	ck_assert_uint_eq(cfg->apply.batch_bytes, 128 * MiB);
}
END_TEST

START_TEST(test_config__example_file_loads_with_documented_defaults)
{
	const char *top = getenv("OPLOG_SRCDIR");
	const struct oplog_config_key *keys;
	const struct oplog_config_kafka *k;
	char path[4096], text[16384], needle[256];
	size_t n, i, len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/config/oplogd.conf", top && *top ? top : ".");
	OK(oplog_config_load_file(cfg, path));
	k = cfg->kafka.items;
	ck_assert_uint_eq(cfg->kafka.n, 2);
	ck_assert_str_eq(k[0].key, "bootstrap.servers");
	ck_assert_str_eq(k[1].key, "group.id");

	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	len = fread(text, 1, sizeof(text) - 1, f);
	text[len] = '\0';
	fclose(f);
	ck_assert_uint_lt(len, sizeof(text) - 1);

	/* Every key is written out with its default, so the documentation and
	 * the table cannot drift apart unnoticed. */
	keys = oplog_config_keys(&n);
	for (i = 0; i < n; i++) {
		char name[128];
		snprintf(name, sizeof(name), "%s.%s", keys[i].section, keys[i].name);
		snprintf(needle, sizeof(needle), "\n%s =%s%s\n", keys[i].name,
		         *keys[i].def ? " " : "", keys[i].def);
		ck_assert_msg(strstr(text, needle) != NULL,
		              "config/oplogd.conf does not show \"%s = %s\"", name, keys[i].def);
		if (keys[i].type == OPLOG_CONFIG_STRING || keys[i].type == OPLOG_CONFIG_ENUM ||
		    keys[i].type == OPLOG_CONFIG_LIST)
			ck_assert_str_eq(text_of(cfg, name), keys[i].def);
	}
	ck_assert_uint_eq(cfg->store.map_size, 256 * MiB);
	ck_assert_int_eq(cfg->apply.batch_ms, 1000);
}
END_TEST

/* ------------------------------------------------------------------ */

static void add(Suite *s, const char *name, const TTest *test)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test);
	suite_add_tcase(s, tc);
}

static void add_loop(Suite *s, const char *name, const TTest *test, int n)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test, 0, n);
	suite_add_tcase(s, tc);
}

int main(void)
{
	Suite *s = suite_create("config");
	SRunner *sr;
	int failed;

	add(s, "defaults", test_config__defaults_match_the_table);
	add(s, "fields", test_config__rows_bind_distinct_fields);
	add(s, "file", test_config__file_sets_values);
	add(s, "missing_file", test_config__missing_file_is_eio);
	add(s, "int", test_config__int_parsing_and_bounds);
	add(s, "size", test_config__size_suffixes_and_bounds);
	add(s, "duration", test_config__duration_suffixes_and_bounds);
	add(s, "bool", test_config__bool_words);
	add(s, "enum", test_config__enum_words);
	add(s, "mode", test_config__mode_is_octal_and_owner_rw);
	add(s, "secrets", test_config__dump_redacts_secrets);
	add(s, "list", test_config__list_items);
	add(s, "string_checks", test_config__string_checks);
	add(s, "bad_value", test_config__bad_value_names_file_line_and_key);
	add(s, "unknown_key", test_config__unknown_key_names_file_and_line);
	add(s, "unknown_section", test_config__unknown_section_names_file_and_line);
	add(s, "syntax", test_config__syntax_errors_name_the_line);
	add(s, "long_line", test_config__long_line_is_an_error_not_cut);
	add(s, "long_broker_list", test_config__long_broker_list_loads_and_dumps);
	add_loop(s, "syntax_as_before", test_config__syntax_as_before,
	         (int)(sizeof(syntax_cases) / sizeof(syntax_cases[0])));
	add(s, "no_continuation", test_config__whitespace_never_continues_a_line);
	add(s, "stream", test_config__stream_names_its_source);
	add(s, "first_error", test_config__first_error_wins);
	add(s, "precedence", test_config__command_line_wins_over_file);
	add(s, "override_errors", test_config__override_errors);
	add(s, "kafka", test_config__kafka_keeps_order_and_lines);
	add(s, "dump", test_config__dump_loads_back_the_same);
	add(s, "dump_semicolon", test_config__dump_keeps_a_leading_semicolon);
	add(s, "previous_release", test_config__previous_release_file_still_loads);
	add(s, "example", test_config__example_file_loads_with_documented_defaults);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
