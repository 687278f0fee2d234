/*
 * wire/mp.h: a strict msgpack reader for the wire-format decoder
 * (semi-private: wire/ only).
 *
 * It reads values in place: strings, binaries and ext payloads are
 * pointers into the caller's buffer, nothing is allocated, and no count
 * taken from the input is trusted to size anything. Every read is bounds
 * checked against the buffer; a value that does not fit is "truncated".
 * Container nesting is limited to OPLOG_MAX_DEPTH levels, counting the
 * outermost value as level 1, so hostile nesting costs a fixed, small
 * stack. The reserved byte 0xc1 is an error. Ext payloads (timestamps
 * included) are opaque: only their length is checked.
 *
 * Errors: functions return 0 or -1. On -1 the reader's position is
 * unspecified and, when the reader has an error buffer, it holds a
 * NUL-terminated sentence naming the problem and its byte offset.
 *
 * Threading: a reader is plain data on the caller's stack; reentrant.
 */
#ifndef OPLOG_WIRE_MP_H
#define OPLOG_WIRE_MP_H

#include <stddef.h>
#include <stdint.h>

enum oplog_mp_type {
	OPLOG_MP_NIL = 0,
	OPLOG_MP_BOOL,
	OPLOG_MP_INT,     /* every width, signed or unsigned form */
	OPLOG_MP_FLOAT,
	OPLOG_MP_STR,
	OPLOG_MP_BIN,
	OPLOG_MP_ARRAY,
	OPLOG_MP_MAP,
	OPLOG_MP_EXT
};

/* One value's header as read; payload pointers borrow from the buffer. */
struct oplog_mp_val {
	enum oplog_mp_type type;
	int                neg;  /* INT: 1 when the value is below zero */
	uint64_t           u;    /* INT: the value (two's complement when neg);
	                            BOOL: 0 or 1; ARRAY: items; MAP: pairs */
	const uint8_t     *ptr;  /* STR, BIN, EXT: the payload */
	size_t             len;  /* STR, BIN, EXT: payload bytes */
	size_t             off;  /* offset of the value's first byte */
};

struct oplog_mp_reader {
	const uint8_t *buf;
	size_t         len;
	size_t         pos;     /* next byte to read */
	char          *err;     /* detail on failure, or NULL for none */
	size_t         errcap;
};

/*
 * Read one value's header (and, for scalars, strings, binaries and ext,
 * its whole body) at r->pos into *v and advance past it. A container's
 * items are NOT read: follow with oplog_mp__skip_items() to validate them.
 * Returns 0, or -1 on truncation or the reserved byte 0xc1.
 */
int oplog_mp__read(struct oplog_mp_reader *r, struct oplog_mp_val *v);

/*
 * Advance r past one whole value, its items included, at any nesting
 * depth: only headers are read and the items still due are counted, so
 * depth costs no stack and no count from the input sizes anything.
 * Returns 0, or -1 when the value does not fit the buffer or holds the
 * byte 0xc1 (then buf[v->off] is 0xc1, or v->off is r->len or the
 * truncated value's offset).
 */
int oplog_mp__value_end(struct oplog_mp_reader *r, struct oplog_mp_val *v);

/*
 * Read and validate `items` consecutive values (for a map: 2 x pairs)
 * that are the items of a container at nesting level `level`. Nested
 * containers are walked iteratively; one deeper than OPLOG_MAX_DEPTH is
 * an error. Returns 0 with r->pos after the last item, or -1.
 */
int oplog_mp__skip_items(struct oplog_mp_reader *r, uint64_t items,
                         unsigned level);

/* A short lowercase name for a value type ("str", "int"). Never NULL. */
const char *oplog_mp__type_name(enum oplog_mp_type t);

#endif
