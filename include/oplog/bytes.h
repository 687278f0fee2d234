/*
 * oplog/bytes.h: bytes as text: hex, base64, UTF-8 checks, UTC times, and
 * durations and sizes for people to read.
 *
 * One implementation of each, shared by the codec's details, the logger,
 * the JSON renderings and the CLI, so that a hash or a time reads the same
 * wherever oplogd shows it.
 *
 * Ownership: nothing is allocated. Every output goes into a buffer the
 * caller owns, sized as each function says; inputs are only read.
 *
 * Threading: reentrant; no shared state.
 */
#ifndef OPLOG_BYTES_H
#define OPLOG_BYTES_H

#include <stddef.h>
#include <stdint.h>

/* ---- hex ----------------------------------------------------------- */

/* Lowercase hex of n bytes into out (2n+1 bytes, NUL-terminated). */
void oplog_hex(const uint8_t *in, size_t n, char *out);

/* Parse hex, a NUL-terminated string of exactly 2n hex digits (either
 * case), into out. Returns 0, or OPLOG_EINVAL (message in
 * oplog_error_last()) with out untouched. */
int oplog_unhex(const char *hex, uint8_t *out, size_t n);

/* ---- base64 -------------------------------------------------------- */

/* Length of the standard base64 text for n bytes, without the NUL. */
size_t oplog_base64_len(size_t n);

/* Standard base64 (RFC 4648, with '=' padding) of n bytes into out, which
 * must hold oplog_base64_len(n) + 1 bytes; NUL-terminated. Returns the
 * text length. Encoding whole multiples of 3 bytes at a time gives the
 * same text as encoding the whole at once. */
size_t oplog_base64(const uint8_t *in, size_t n, char *out);

/* ---- UTF-8 --------------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence starting at p (n >= 1 bytes
 * available), or 0 when p[0] does not start one (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF). */
size_t oplog_utf8_seq(const uint8_t *p, size_t n);

/* Length of the longest well-formed UTF-8 prefix of p[0..n): n when all
 * of it is valid, else the offset of the first byte that breaks it. */
size_t oplog_utf8_span(const uint8_t *p, size_t n);

/* ---- time ---------------------------------------------------------- */

/* Buffer size for oplog_time_iso(), NUL included: enough for any year a
 * uint64_t of milliseconds reaches. */
#define OPLOG_TIME_ISO_MAX 32

/*
 * Milliseconds since the Unix epoch as UTC ISO-8601 with milliseconds,
 * "2026-11-30T11:47:04.123Z", into out (NUL-terminated). Years past 9999
 * take more digits; callers that want a four-digit year bound ms first.
 * Returns 0, or OPLOG_EINVAL with out set to "" when the C library cannot
 * break the time down. Sets no error message, so the logger can stamp a
 * line without disturbing oplog_error_last().
 */
int oplog_time_iso(uint64_t ms, char out[OPLOG_TIME_ISO_MAX]);

/* ---- for people ---------------------------------------------------- */

/* Buffer size for oplog_duration_human() and oplog_size_human(), NUL
 * included: enough for UINT64_MAX in either, and for two 20-digit numbers
 * with their units, which is what the compiler's format check assumes. */
#define OPLOG_HUMAN_MAX 48

/*
 * A duration in milliseconds as its two largest units, the second left
 * out when zero: "850ms", "42s", "3m 7s", "6h 12m", "374d 2h". Days do
 * not roll into weeks, so day counts compare at a glance.
 * Truncates rather than rounds, so a lag never reads as smaller units'
 * worth more than it is. Writes a NUL-terminated string into out.
 */
void oplog_duration_human(uint64_t ms, char out[OPLOG_HUMAN_MAX]);

/*
 * A byte count in binary units: "512 B", "1.5 KiB", "120.0 MiB", "2.0 GiB",
 * up to EiB; one decimal, truncated, so a size never reads as more than it
 * is. Writes a NUL-terminated string into out.
 */
void oplog_size_human(uint64_t bytes, char out[OPLOG_HUMAN_MAX]);

#endif
