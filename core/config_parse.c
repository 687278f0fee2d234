/*
 * config_parse.c: one value's text made into its typed value, by the key
 * table's type and bounds (oplog/config.h lists the syntax of each type).
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "oplog/config.h"
#include "oplog/error.h"

#include "config_int.h"

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

/* A suffix and what it multiplies by, largest first. Sizes take their
 * suffix in either case; durations only in lower case. The last row is
 * the unit a bound is written in when no larger one divides it. */
struct unit {
	const char *sfx;
	int64_t     mult;
};

static const struct unit size_units[] = {
	{ "G", GiB }, { "M", MiB }, { "K", KiB }, { "", 1 },
};

static const struct unit duration_units[] = {
	{ "w", 7 * DAY }, { "d", DAY }, { "h", HOUR }, { "m", MIN }, { "s", SEC }, { "ms", 1 },
};

#define NUNITS(u) (sizeof(u) / sizeof((u)[0]))

/* How a kind of scaled number is parsed, and its errors' words. */
struct scaled {
	const struct unit *units;
	size_t             n;
	int                anycase;   /* suffixes in either case */
	const char        *too_big;   /* "size '%s' is too large" */
	const char        *bad;       /* "bad size '%s' (expected ...)" */
};

static const struct scaled sizes = {
	size_units, NUNITS(size_units), 1, "size '%s' is too large",
	"bad size '%s' (expected a number with optional K, M, G suffix)"
};

static const struct scaled durations = {
	duration_units, NUNITS(duration_units), 0, "duration '%s' is too long",
	"bad duration '%s' (expected a number with optional ms, s, m, h, d, w suffix; "
	"none means ms)"
};

/* A number with an optional suffix of kind k (none: 1). Returns 0 with
 * *out set, or OPLOG_EINVAL with k's message and *out unchanged. */
static int parse_scaled(const char *text, const struct scaled *k, int64_t *out)
{
	const char *p = text;
	int64_t v;
	int rc = parse_digits(&p, &v);
	size_t i;

	if (rc == -1)
		return oplog_error__set(OPLOG_EINVAL, k->bad, text);
	for (i = 0; i < k->n; i++) {
		if (k->anycase ? strcasecmp(p, k->units[i].sfx) == 0 :
		                 strcmp(p, k->units[i].sfx) == 0)
			break;
	}
	if (i == k->n && *p != '\0')
		return oplog_error__set(OPLOG_EINVAL, k->bad, text);
	if (rc == -2 || (i < k->n && v > INT64_MAX / k->units[i].mult))
		return oplog_error__set(OPLOG_EINVAL, k->too_big, text);
	*out = i < k->n ? v * k->units[i].mult : v;
	return 0;
}

int oplog_config__parse_size(const char *text, int64_t *out)
{
	return parse_scaled(text, &sizes, out);
}

int oplog_config__parse_duration(const char *text, int64_t *out)
{
	return parse_scaled(text, &durations, out);
}

/* Octal permission bits up to 0777 that let the owner read and write
 * (a store oplogd could not open again is no use). */
static int parse_mode(const char *text, int64_t *out)
{
	int64_t v = 0;
	const char *p = text;

	if (*p == '\0')
		goto bad;
	for (; *p; p++) {
		if (*p < '0' || *p > '7' || (v = v * 8 + (*p - '0')) > 0777)
			goto bad;
	}
	if ((v & 0600) != 0600)
		return oplog_error__set(OPLOG_EINVAL, "mode '%s' does not let the owner read "
		                        "and write (expected 0600 .. 0777)", text);
	*out = v;
	return 0;
bad:
	return oplog_error__set(OPLOG_EINVAL,
	                        "bad mode '%s' (expected octal permission bits, 0600 .. 0777)",
	                        text);
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

int oplog_config__check_nonempty(const char *text)
{
	if (*text == '\0')
		return oplog_error__set(OPLOG_EINVAL, "must not be empty");
	return 0;
}

/* "" (off) or HOST:PORT, HOST a name, an IPv4 address or [IPv6]. Only the
 * shape is checked here; resolving is the metrics server's. */
int oplog_config__check_listen(const char *text)
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
	const struct unit *units = NULL;
	size_t i, n = 0;

	if (k->type == OPLOG_CONFIG_SIZE) {
		units = size_units;
		n = NUNITS(size_units);
	} else if (k->type == OPLOG_CONFIG_DURATION) {
		units = duration_units;
		n = NUNITS(duration_units);
	}
	for (i = 0; i < n; i++) {
		if (v != 0 && v % units[i].mult == 0)
			break;
	}
	/* 0 is written bare; a duration no unit divides is in ms. */
	if (v == 0 || n == 0)
		snprintf(buf, cap, "%" PRId64, v);
	else
		snprintf(buf, cap, "%" PRId64 "%s", v / units[i < n ? i : n - 1].mult,
		         units[i < n ? i : n - 1].sfx);
}

void oplog_config__value_clear(struct value *v)
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
int oplog_config__parse_value(const struct oplog_config_key *k, const char *text, struct value *out)
{
	char lo[32], hi[32];
	bool b = false;  /* read below also when the parse failed */
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
	case OPLOG_CONFIG_MODE:
		rc = parse_mode(text, &out->num);
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
		oplog_config__value_clear(out);
	return rc;
}
