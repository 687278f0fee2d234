/*
 * config_int.h: what core/config.c (the table and what it drives) and
 * core/config_parse.c (one value's text into its typed value) share.
 * Private to core/.
 */
#ifndef OPLOG_CONFIG_INT_H
#define OPLOG_CONFIG_INT_H

#include <stdint.h>

#include "oplog/config.h"

#define KiB (INT64_C(1) << 10)
#define MiB (INT64_C(1) << 20)
#define GiB (INT64_C(1) << 30)

#define SEC  INT64_C(1000)
#define MIN  (60 * SEC)
#define HOUR (60 * MIN)
#define DAY  (24 * HOUR)

/* What a key's field points into, and its text for --dump-config. */
struct value {
	char   *text;     /* as given, trimmed */
	int64_t num;      /* int, size, duration (ms), bool, enum index */
	char  **items;    /* list: pointers into itembuf */
	char   *itembuf;
	size_t  nitems;
};

/*
 * Parse text as key k into *out (zeroed first). Returns 0, or OPLOG_EINVAL
 * / OPLOG_ENOMEM with the bare reason in the error message ("bad size
 * ..."); the caller adds where. *out owns nothing on failure.
 */
int oplog_config__parse_value(const struct oplog_config_key *k, const char *text,
                              struct value *out);

/* Free what v owns and zero it. */
void oplog_config__value_clear(struct value *v);

/* The table's extra checks of string keys: [store] path is not empty,
 * [metrics] listen is HOST:PORT or empty. 0 or OPLOG_EINVAL. */
int oplog_config__check_nonempty(const char *text);
int oplog_config__check_listen(const char *text);

#endif
