/*
 * fuzz.h: what the fuzz targets share. Each fuzz_<name>.c defines
 * LLVMFuzzerTestOneInput() over one entry point; libFuzzer drives it
 * (make fuzz), or replay.c runs it over given files (make test).
 */
#ifndef OPLOG_FUZZ_H
#define OPLOG_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken promise of the code under test: say which, then crash so that
 * the fuzzer keeps the input. */
#define FUZZ_CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

#endif
