/* frame.c: where one message ends in a file of messages, by its framing. */
#include <string.h>

#include "oplog/entry.h"
#include "oplog/error.h"
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

int oplog_entry_framing_parse(const char *name, enum oplog_framing *out)
{
	if (strcmp(name, "stream") == 0)
		*out = OPLOG_FRAMING_STREAM;
	else if (strcmp(name, "lenpfx") == 0)
		*out = OPLOG_FRAMING_LENPFX;
	else
		return OPLOG_EINVAL;
	return 0;
}

int oplog_entry_frame_next(const uint8_t *buf, size_t len, size_t pos, enum oplog_framing f,
                           size_t *start, size_t *n, size_t *next, const char **why)
{
	size_t frame;

	if (f == OPLOG_FRAMING_STREAM) {
		if (oplog_entry_frame_end(buf, len, pos, next, why) != 0)
			return -1;
		*start = pos;
		*n = *next - pos;
		return 0;
	}
	if (len - pos < 4) {
		*why = "a truncated length prefix";
		return -1;
	}
	frame = (size_t)buf[pos] << 24 | (size_t)buf[pos + 1] << 16 |
	        (size_t)buf[pos + 2] << 8 | buf[pos + 3];
	if (frame > len - pos - 4) {
		*why = "a frame longer than the rest of the input";
		return -1;
	}
	*start = pos + 4;
	*n = frame;
	*next = pos + 4 + frame;
	return 0;
}
