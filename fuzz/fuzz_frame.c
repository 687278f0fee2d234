/*
 * fuzz_frame.c: oplog_entry_frame_next(), which splits a file into
 * messages for import (intake/framed.c), on any bytes under both framings.
 *
 * Beyond not crashing or reading outside the input, it checks that every
 * message found lies inside the input and the split always moves forward,
 * that a failure says why, and (plain stream) that a value's end does not
 * depend on the bytes after it.
 */
#include <string.h>

#include "oplog/entry.h"

#include "fuzz.h"

static void split(const uint8_t *data, size_t size, enum oplog_framing f)
{
	size_t pos = 0, start, n, next, again;
	const char *why;

	while (pos < size) {
		why = NULL;
		if (oplog_entry_frame_next(data, size, pos, f, &start, &n, &next, &why) != 0) {
			FUZZ_CHECK(why != NULL && *why != '\0');
			return;
		}
		FUZZ_CHECK(start >= pos && start <= size && n <= size - start);
		FUZZ_CHECK(next == start + n && next > pos);
		if (f == OPLOG_FRAMING_STREAM) {
			uint8_t *copy;

			FUZZ_CHECK(start == pos && n > 0);
			/* The value alone, in a buffer of its exact size: the same end,
			 * and no read past it. */
			copy = malloc(next);
			if (copy == NULL)
				return;
			memcpy(copy, data, next);
			FUZZ_CHECK(oplog_entry_frame_end(copy, next, pos, &again, &why) == 0);
			FUZZ_CHECK(again == next);
			free(copy);
		} else {
			FUZZ_CHECK(start == pos + 4);
		}
		pos = next;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	split(data, size, OPLOG_FRAMING_STREAM);
	split(data, size, OPLOG_FRAMING_LENPFX);
	return 0;
}
