/*
 * framed.c: a buffer of framed messages (a file for import) into the
 * intake, message by message, with the source "NAME:INDEX".
 */
#include <stdio.h>
#include <string.h>

#include "oplog/error.h"
#include "oplog/intake.h"

int oplog_intake_take_framed(struct oplog_intake *in, const char *name, const uint8_t *buf,
                             size_t len, enum oplog_framing f, struct oplog_intake_cut *cut)
{
	struct oplog_source src = { name, -1, 0 };
	struct oplog_reject rej = { OPLOG_R_MALFORMED, OPLOG_F_NONE, "" };
	size_t pos = 0, start, n, next;
	uint64_t index;
	const char *why;
	int err;

	memset(cut, 0, sizeof(*cut));
	for (index = 0; pos < len; index++, pos = next) {
		src.pos = (int64_t)index;
		if (oplog_entry_frame_next(buf, len, pos, f, &start, &n, &next, &why) != 0) {
			snprintf(rej.detail, sizeof(rej.detail),
			         "cannot split the input at byte %zu (%s): %zu bytes skipped",
			         pos, why, len - pos);
			cut->index = index;
			cut->skipped = len - pos;
			memcpy(cut->detail, rej.detail, sizeof(cut->detail));
			return oplog_intake_reject(in, buf + pos, len - pos, &src, &rej);
		}
		err = oplog_intake_take(in, buf + start, n, &src, NULL, NULL);
		if (err != 0 && err != OPLOG_EREJECT)
			return err;
	}
	return 0;
}
