/*
 * fuzz_ini.c: the configuration file parser (oplog_config__load_stream(),
 * behind oplog_config_load_file()) on any bytes as a file.
 *
 * Beyond not crashing or leaking, it checks that a failure names its
 * source and line, and that a file that loads dumps to one that loads
 * back to the same configuration (--dump-config's promise).
 */
#include <string.h>

#include "oplog/config.h"
#include "oplog/error.h"

#include "fuzz.h"

/* The dump of cfg (secrets included), or NULL when out of memory. */
static char *dump(const struct oplog_config *cfg, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (f == NULL)
		return NULL;
	FUZZ_CHECK(oplog_config_dump(cfg, f, OPLOG_CONFIG_DUMP_SECRETS) == 0);
	fclose(f);
	return buf;
}

/* Load text[0..len) into a new config: the code, *out set when 0. */
static int load(const void *text, size_t len, struct oplog_config **out)
{
	static const char empty[1];
	struct oplog_config *cfg = NULL;
	FILE *f;
	int rc;

	*out = NULL;
	if (oplog_config_new(&cfg) != 0)
		return OPLOG_ENOMEM;
	f = fmemopen((void *)(len ? text : empty), len, "r");
	if (f == NULL) {
		oplog_config_free(cfg);
		return OPLOG_ENOMEM;
	}
	rc = oplog_config__load_stream(cfg, f, "fuzz.conf");
	fclose(f);
	if (rc == 0)
		*out = cfg;
	else
		oplog_config_free(cfg);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oplog_config *cfg, *again;
	char *first, *second;
	size_t len1 = 0, len2 = 0;
	int rc = load(data, size, &cfg);

	if (rc == OPLOG_ENOMEM)
		return 0;
	if (rc != 0) {
		FUZZ_CHECK(rc == OPLOG_ECONFIG);
		FUZZ_CHECK(strncmp(oplog_error_last(), "fuzz.conf:", 10) == 0);
		return 0;
	}
	first = dump(cfg, &len1);
	oplog_config_free(cfg);
	if (first == NULL)
		return 0;
	rc = load(first, len1, &again);
	if (rc != 0)
		fprintf(stderr, "the dump does not load: %s\n", oplog_error_last());
	FUZZ_CHECK(rc == 0 || rc == OPLOG_ENOMEM);
	if (rc == 0) {
		second = dump(again, &len2);
		oplog_config_free(again);
		if (second && (len1 != len2 || memcmp(first, second, len1) != 0))
			fprintf(stderr, "the dump:\n%s\nloads back as:\n%s\n", first, second);
		FUZZ_CHECK(second == NULL || (len1 == len2 && memcmp(first, second, len1) == 0));
		free(second);
	}
	free(first);
	return 0;
}
