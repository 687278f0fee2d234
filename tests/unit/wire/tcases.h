/*
 * tests/unit/wire/tcases.h: the wire codec's suite, one file per area.
 *
 * Each tests/unit/wire/<area>.c adds its TCases (one per test) to the
 * Suite it is given; check_wire.c collects them into one suite, "wire".
 * Test processes are single-threaded.
 */
#ifndef WIRE_TCASES_H
#define WIRE_TCASES_H

#include <check.h>

void wire_spec_tcases(Suite *s);       /* worked examples, views, hash, HLC order */
void wire_malformed_tcases(Suite *s);  /* size, truncation, keys, nesting, not_map */
void wire_reject_tcases(Suite *s);     /* reasons per field, order, names */
void wire_limits_tcases(Suite *s);     /* field sizes and integer ranges */
void wire_forms_tcases(Suite *s);      /* alternative msgpack forms */
void wire_roundtrip_tcases(Suite *s);  /* encode/decode round trips */
void wire_mutants_tcases(Suite *s);    /* mutants judged against msgpack-c */
void wire_bytes_tcases(Suite *s);      /* hex, UTF-8, ISO times */

#endif
