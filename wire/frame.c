/* frame.c: where one message ends in a file of messages, by its framing. */
#include <string.h>

#include "oplog/entry.h"
#include "oplog/error.h"
#include "mp.h"

/* The value's end is the msgpack reader's (oplog_mp__value_end); its two
 * failures are the two reported here: a value that does not fit the
 * buffer, or the byte 0xc1 that no encoder writes. */
int oplog_entry_frame_end(const uint8_t *buf, size_t len, size_t pos, size_t *end,
                          const char **why)
{
	struct oplog_mp_reader r = { buf, len, pos, NULL, 0 };
	struct oplog_mp_val v;

	if (oplog_mp__value_end(&r, &v) < 0) {
		*why = v.off < len && buf[v.off] == 0xc1 ? "the reserved byte 0xc1"
		                                          : "a truncated value";
		return -1;
	}
	*end = r.pos;
	return 0;
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
