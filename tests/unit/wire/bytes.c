/*
 * bytes.c: the wire codec's suite, the byte helpers of oplog/bytes.h the
 * codec relies on: hex, UTF-8 spans and ISO-8601 times, and the human
 * durations and sizes the CLI prints.
 */
#include <stdint.h>
#include <string.h>

#include <check.h>

#include "oplog/bytes.h"
#include "oplog/error.h"
#include "wire/tcases.h"
#include "wire/util_wire.h"

START_TEST(test_hex__round_trips_and_rejects_bad_digits)
{
	uint8_t in[4] = { 0x00, 0x7f, 0xab, 0xff }, out[4];
	char hex[9];

	oplog_hex(in, 4, hex);
	ck_assert_str_eq(hex, "007fabff");
	ck_assert_int_eq(oplog_unhex(hex, out, 4), 0);
	ck_assert_mem_eq(out, in, 4);
	ck_assert_int_eq(oplog_unhex("007FABFF", out, 4), 0);
	ck_assert_mem_eq(out, in, 4);
	memset(out, 0x11, sizeof(out));
	ck_assert_int_eq(oplog_unhex("007fabf", out, 4), OPLOG_EINVAL);
	ck_assert_int_eq(oplog_unhex("007fabfff", out, 4), OPLOG_EINVAL);
	ck_assert_int_eq(oplog_unhex("007fabfg", out, 4), OPLOG_EINVAL);
	ck_assert_int_eq(oplog_unhex(" 07fabff", out, 4), OPLOG_EINVAL);
	ck_assert_int_eq(oplog_unhex(NULL, out, 4), OPLOG_EINVAL);
	ck_assert_uint_eq(out[0], 0x11);             /* untouched on failure */
	ck_assert_int_eq(oplog_unhex("", out, 0), 0);
	oplog_hex(in, 0, hex);
	ck_assert_str_eq(hex, "");
}
END_TEST

START_TEST(test_utf8__span_stops_at_the_first_bad_byte)
{
	static const struct { const char *s; size_t span; } cases[] = {
		{ "", 0 },
		{ "abc", 3 },
		{ "a\xc3\xa9" "b", 4 },          /* U+00E9 */
		{ "\xf0\x9f\x98\x80!", 5 },     /* U+1F600 */
		{ "ab\xc3", 2 },                 /* cut short */
		{ "x\xc0\xaf", 1 },              /* overlong */
		{ "x\xe0\x80\x80", 1 },          /* overlong below U+0800 */
		{ "\xed\xa0\x80", 0 },           /* surrogate */
		{ "\xf4\x90\x80\x80", 0 },       /* above U+10FFFF */
		{ "ok\x80", 2 },                 /* lone continuation */
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(oplog_utf8_span((const uint8_t *)cases[i].s,
		                              strlen(cases[i].s)) == cases[i].span,
		              "case %zu", i);
}
END_TEST

START_TEST(test_time_iso__formats_utc_milliseconds)
{
	char iso[OPLOG_TIME_ISO_MAX];

	ck_assert_int_eq(oplog_time_iso(0, iso), 0);
	ck_assert_str_eq(iso, "1970-01-01T00:00:00.000Z");
	ck_assert_int_eq(oplog_time_iso(1764503224123u, iso), 0);
	ck_assert_str_eq(iso, "2025-11-30T11:47:04.123Z");
	ck_assert_int_eq(oplog_time_iso(951782400000u + 86399999u, iso), 0);
	ck_assert_str_eq(iso, "2000-02-29T23:59:59.999Z");
	ck_assert_int_eq(oplog_time_iso(253402300799999u, iso), 0);
	ck_assert_str_eq(iso, "9999-12-31T23:59:59.999Z");
	ck_assert_int_eq(oplog_time_iso(253402300800000u, iso), 0);
	ck_assert_str_eq(iso, "10000-01-01T00:00:00.000Z");
	/* The largest input still fits the buffer. */
	ck_assert_int_eq(oplog_time_iso(UINT64_MAX, iso), 0);
	ck_assert_uint_lt(strlen(iso), OPLOG_TIME_ISO_MAX);
	ck_assert_str_eq(iso + strlen(iso) - 5, ".615Z");
}
END_TEST

START_TEST(test_duration_human__two_largest_units_truncated)
{
	char buf[OPLOG_HUMAN_MAX];
	static const struct { uint64_t ms; const char *want; } cases[] = {
		{ 0, "0ms" }, { 999, "999ms" }, { 1000, "1s" }, { 1999, "1s" },
		{ 59999, "59s" }, { 60000, "1m" }, { 187000, "3m 7s" },
		{ 3600000, "1h" }, { 22320000, "6h 12m" }, { 22379999, "6h 12m" },
		{ 86400000, "1d" }, { 90000000, "1d 1h" },
		/* The demo's 32322713994 ms is 374 days. */
		{ 32322713994u, "374d 2h" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		oplog_duration_human(cases[i].ms, buf);
		ck_assert_str_eq(buf, cases[i].want);
	}
	/* The largest input fits the buffer. */
	oplog_duration_human(UINT64_MAX, buf);
	ck_assert_uint_lt(strlen(buf), OPLOG_HUMAN_MAX);
	ck_assert_str_eq(buf, "213503982334d 14h");
}
END_TEST

START_TEST(test_size_human__binary_units_one_decimal)
{
	char buf[OPLOG_HUMAN_MAX];
	static const struct { uint64_t n; const char *want; } cases[] = {
		{ 0, "0 B" }, { 1023, "1023 B" }, { 1024, "1.0 KiB" }, { 1536, "1.5 KiB" },
		{ 2047, "1.9 KiB" }, { 1048575, "1023.9 KiB" }, { 1048576, "1.0 MiB" },
		{ 125829120, "120.0 MiB" }, { 2147483648u, "2.0 GiB" },
		{ UINT64_C(1) << 40, "1.0 TiB" }, { UINT64_C(1) << 60, "1.0 EiB" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		oplog_size_human(cases[i].n, buf);
		ck_assert_str_eq(buf, cases[i].want);
	}
	oplog_size_human(UINT64_MAX, buf);
	ck_assert_str_eq(buf, "15.9 EiB");
}
END_TEST

void wire_bytes_tcases(Suite *s)
{
	WIRE_ADD(s, test_hex__round_trips_and_rejects_bad_digits);
	WIRE_ADD(s, test_utf8__span_stops_at_the_first_bad_byte);
	WIRE_ADD(s, test_time_iso__formats_utc_milliseconds);
	WIRE_ADD(s, test_duration_human__two_largest_units_truncated);
	WIRE_ADD(s, test_size_human__binary_units_one_decimal);
}
