/* frame.c: where one msgpack value ends in a stream of values back to back. */
#include "oplog/entry.h"
#include "mp.h"

/*
 * Reads headers only, with the strict reader's oplog_mp__read(), which
 * stops short of a container's items; the items still due are counted
 * here instead of walked, so any nesting depth costs no stack and no
 * memory, and a count taken from the input sizes nothing. The reader's
 * own failures are the two this function reports: a value that does not
 * fit the buffer, or the byte 0xc1 that no encoder writes.
 */
int oplog_entry_frame_end(const uint8_t *buf, size_t len, size_t pos, size_t *end,
                          const char **why)
{
	struct oplog_mp_reader r = { buf, len, pos, NULL, 0 };
	struct oplog_mp_val v;
	uint64_t due = 1;

	while (due > 0) {
		/* Every value due takes one byte at least. */
		if (due > len - r.pos)
			goto truncated;
		due--;
		if (oplog_mp__read(&r, &v) < 0) {
			if (buf[v.off] != 0xc1)
				goto truncated;
			*why = "the reserved byte 0xc1";
			return -1;
		}
		if (v.type == OPLOG_MP_ARRAY)
			due += v.u;
		else if (v.type == OPLOG_MP_MAP)
			due += 2 * v.u;
	}
	*end = r.pos;
	return 0;
truncated:
	*why = "a truncated value";
	return -1;
}
