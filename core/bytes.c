/* bytes.c: bytes as text (oplog/bytes.h): hex, base64, UTF-8, UTC times,
 * human durations and sizes. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "oplog/bytes.h"
#include "oplog/error.h"

/* ---- hex ----------------------------------------------------------- */

void oplog_hex(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Reads no further than the first non-digit, so a short string is
 * rejected without reading past its NUL. out is untouched on failure. */
int oplog_unhex(const char *hex, uint8_t *out, size_t n)
{
	size_t i;
	int hi, lo;

	if (hex == NULL)
		return oplog_error__set(OPLOG_EINVAL, "hex: no string");
	for (i = 0; i < 2 * n; i++)
		if (nibble(hex[i]) < 0)
			return oplog_error__set(OPLOG_EINVAL, "hex: expected %zu hex "
			                        "digits, found a non-digit at %zu",
			                        2 * n, i);
	if (hex[2 * n] != '\0')
		return oplog_error__set(OPLOG_EINVAL, "hex: expected %zu hex digits, "
		                        "the string is longer", 2 * n);
	for (i = 0; i < n; i++) {
		hi = nibble(hex[2 * i]);
		lo = nibble(hex[2 * i + 1]);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* ---- base64 -------------------------------------------------------- */

size_t oplog_base64_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

size_t oplog_base64(const uint8_t *in, size_t n, char *out)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i = 0, o = 0;

	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = tab[v >> 6 & 63];
		out[o++] = tab[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = tab[v >> 6 & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

/* ---- UTF-8 --------------------------------------------------------- */

size_t oplog_utf8_seq(const uint8_t *p, size_t n)
{
	uint8_t c = p[0], lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	if (c == 0xe0)
		lo = 0xa0;   /* overlong below U+0800 */
	else if (c == 0xed)
		hi = 0x9f;   /* U+D800..DFFF surrogates */
	else if (c == 0xf0)
		lo = 0x90;   /* overlong below U+10000 */
	else if (c == 0xf4)
		hi = 0x8f;   /* above U+10FFFF */
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

size_t oplog_utf8_span(const uint8_t *p, size_t n)
{
	size_t i = 0, len;

	while (i < n) {
		/* Names and keys are mostly ASCII: skip it 8 bytes at a time. */
		while (n - i >= 8) {
			uint64_t w;

			memcpy(&w, p + i, 8);
			if (w & UINT64_C(0x8080808080808080))
				break;
			i += 8;
		}
		if (i == n)
			break;
		if ((len = oplog_utf8_seq(p + i, n - i)) == 0)
			return i;
		i += len;
	}
	return n;
}

/* ---- time ---------------------------------------------------------- */

int oplog_time_iso(uint64_t ms, char out[OPLOG_TIME_ISO_MAX])
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	int n;

	out[0] = '\0';
	if (gmtime_r(&secs, &tm) == NULL)
		return OPLOG_EINVAL;
	n = snprintf(out, OPLOG_TIME_ISO_MAX, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
	             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	             tm.tm_min, tm.tm_sec, (unsigned)(ms % 1000));
	if (n < 0 || n >= OPLOG_TIME_ISO_MAX) {
		out[0] = '\0';
		return OPLOG_EINVAL;
	}
	return 0;
}

/* ---- for people ---------------------------------------------------- */

void oplog_duration_human(uint64_t ms, char out[OPLOG_HUMAN_MAX])
{
	/* Largest first; each with its length in ms. */
	static const struct { const char *name; uint64_t ms; } units[] = {
		{ "d", 86400000 }, { "h", 3600000 }, { "m", 60000 }, { "s", 1000 }
	};
	size_t i;
	uint64_t big, rest;

	if (ms < 1000) {
		snprintf(out, OPLOG_HUMAN_MAX, "%ums", (unsigned)ms);
		return;
	}
	for (i = 0; ms < units[i].ms; i++)
		;
	big = ms / units[i].ms;
	/* Seconds come last: below them, milliseconds are noise. */
	rest = i + 1 < sizeof(units) / sizeof(units[0])
	       ? ms % units[i].ms / units[i + 1].ms : 0;
	if (rest)
		snprintf(out, OPLOG_HUMAN_MAX, "%llu%s %llu%s", (unsigned long long)big,
		         units[i].name, (unsigned long long)rest, units[i + 1].name);
	else
		snprintf(out, OPLOG_HUMAN_MAX, "%llu%s", (unsigned long long)big, units[i].name);
}

void oplog_size_human(uint64_t bytes, char out[OPLOG_HUMAN_MAX])
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	uint64_t whole = bytes, tenths;
	size_t i = 0;

	if (bytes < 1024) {
		snprintf(out, OPLOG_HUMAN_MAX, "%u B", (unsigned)bytes);
		return;
	}
	/* Divide down to the unit, keeping the remainder of the last step
	 * for the decimal. */
	whole = bytes >> 10;
	tenths = (bytes & 1023) * 10 / 1024;
	while (whole >= 1024 && i + 1 < sizeof(units) / sizeof(units[0])) {
		tenths = (whole & 1023) * 10 / 1024;
		whole >>= 10;
		i++;
	}
	snprintf(out, OPLOG_HUMAN_MAX, "%llu.%u %s", (unsigned long long)whole,
	         (unsigned)tenths, units[i]);
}
