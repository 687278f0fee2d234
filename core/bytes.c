/* bytes.c: lowercase hex for hashes in details, logs and the CLI. */
#include <stddef.h>
#include <stdint.h>

#include "oplog/entry.h"
#include "oplog/error.h"

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
