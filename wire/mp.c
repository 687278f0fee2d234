/* mp.c: the strict in-place msgpack reader behind the wire-format decoder. */
#include <stdarg.h>
#include <stdio.h>

#include "oplog/entry.h"
#include "mp.h"

static uint64_t be16(const uint8_t *p)
{
	return (uint64_t)p[0] << 8 | p[1];
}

static uint64_t be32(const uint8_t *p)
{
	return (uint64_t)p[0] << 24 | (uint64_t)p[1] << 16 |
	       (uint64_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
	return be32(p) << 32 | be32(p + 4);
}

/* Errors are the rare path: format only here, and only when asked to. */
__attribute__((format(printf, 2, 3)))
static int fail(struct oplog_mp_reader *r, const char *fmt, ...)
{
	va_list ap;

	if (r->err != NULL && r->errcap > 0) {
		va_start(ap, fmt);
		vsnprintf(r->err, r->errcap, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int fail_short(struct oplog_mp_reader *r, const char *what,
                      size_t off, size_t need, size_t left)
{
	return fail(r, "truncated: %s at offset %zu needs %zu bytes, %zu left",
	            what, off, need, left);
}

/*
 * Sizes of the fixed-width formats, indexed by (byte - 0xc0); 0 marks a
 * format that is not fixed-width here (length-prefixed or reserved).
 */
static const uint8_t fixed_size[0x20] = {
	[0x00] = 1, [0x02] = 1, [0x03] = 1,            /* nil, false, true */
	[0x0a] = 5, [0x0b] = 9,                        /* float32, float64 */
	[0x0c] = 2, [0x0d] = 3, [0x0e] = 5, [0x0f] = 9, /* uint8..64 */
	[0x10] = 2, [0x11] = 3, [0x12] = 5, [0x13] = 9, /* int8..64 */
	[0x14] = 3, [0x15] = 4, [0x16] = 6, [0x17] = 10, [0x18] = 18 /* fixext */
};

static const char *const format_name[0x20] = {
	"nil", "reserved byte 0xc1", "false", "true",
	"bin8", "bin16", "bin32", "ext8", "ext16", "ext32",
	"float32", "float64", "uint8", "uint16", "uint32", "uint64",
	"int8", "int16", "int32", "int64",
	"fixext1", "fixext2", "fixext4", "fixext8", "fixext16",
	"str8", "str16", "str32", "array16", "array32", "map16", "map32"
};

/* The length-prefixed formats: a header of `hdr` bytes whose last
 * `lenb` bytes before any ext type byte give the payload length. */
static int read_prefixed(struct oplog_mp_reader *r, struct oplog_mp_val *v,
                         enum oplog_mp_type type, size_t lenb, size_t hdr,
                         const char *name)
{
	const uint8_t *p = r->buf + r->pos;
	size_t left = r->len - r->pos;
	uint64_t n;
	char what[32];

	if (left < hdr) {
		snprintf(what, sizeof(what), "%s header", name);
		return fail_short(r, what, r->pos, hdr, left);
	}
	n = lenb == 1 ? p[1] : lenb == 2 ? be16(p + 1) : be32(p + 1);
	if (type == OPLOG_MP_ARRAY || type == OPLOG_MP_MAP) {
		v->type = type;
		v->neg = 0;
		v->u = n;
		r->pos += hdr;
		return 0;
	}
	if (n > left - hdr)
		return fail_short(r, name, r->pos, hdr + (size_t)n, left);
	v->type = type;
	v->neg = 0;
	v->u = 0;
	v->ptr = p + hdr;
	v->len = (size_t)n;
	r->pos += hdr + (size_t)n;
	return 0;
}

/* A value of fixed size need at p (nil, bool, float, int, fixext), whose
 * bytes are all present: its type and value into *v. */
static void read_fixed(const uint8_t *p, size_t need, struct oplog_mp_val *v)
{
	uint8_t b = p[0];

	v->neg = 0;
	v->len = 0;
	switch (b) {
	case 0xc0: v->type = OPLOG_MP_NIL;  v->u = 0; break;
	case 0xc2: v->type = OPLOG_MP_BOOL; v->u = 0; break;
	case 0xc3: v->type = OPLOG_MP_BOOL; v->u = 1; break;
	case 0xca: case 0xcb: v->type = OPLOG_MP_FLOAT; v->u = 0; break;
	case 0xcc: v->type = OPLOG_MP_INT; v->u = p[1]; break;
	case 0xcd: v->type = OPLOG_MP_INT; v->u = be16(p + 1); break;
	case 0xce: v->type = OPLOG_MP_INT; v->u = be32(p + 1); break;
	case 0xcf: v->type = OPLOG_MP_INT; v->u = be64(p + 1); break;
	case 0xd0:
		v->type = OPLOG_MP_INT;
		v->u = (uint64_t)(int64_t)(int8_t)p[1];
		break;
	case 0xd1:
		v->type = OPLOG_MP_INT;
		v->u = (uint64_t)(int64_t)(int16_t)(uint16_t)be16(p + 1);
		break;
	case 0xd2:
		v->type = OPLOG_MP_INT;
		v->u = (uint64_t)(int64_t)(int32_t)(uint32_t)be32(p + 1);
		break;
	case 0xd3:
		v->type = OPLOG_MP_INT;
		v->u = be64(p + 1);
		break;
	default: /* fixext1..16: type byte, then the payload */
		v->type = OPLOG_MP_EXT;
		v->u = 0;
		v->ptr = p + 2;
		v->len = need - 2;
		break;
	}
	/* The signed forms carry their sign in the top bit. */
	if (b >= 0xd0 && b <= 0xd3)
		v->neg = (v->u >> 63) != 0;
}

/* oplog_mp__read's body, inlined into the walks below: they read a header
 * per value, and a call per header shows in an import's profile. */
static inline int read_value(struct oplog_mp_reader *r, struct oplog_mp_val *v)
{
	const uint8_t *p;
	size_t left = r->len - r->pos;
	size_t need;
	uint8_t b;

	v->off = r->pos;
	if (left == 0)
		return fail(r, "truncated: the input ends at offset %zu where a "
		            "value should start", r->pos);
	p = r->buf + r->pos;
	b = p[0];
	if (b <= 0x7f) {
		v->type = OPLOG_MP_INT;
		v->neg = 0;
		v->u = b;
		r->pos++;
		return 0;
	}
	if (b >= 0xe0) {
		v->type = OPLOG_MP_INT;
		v->neg = 1;
		v->u = (uint64_t)(int64_t)(int8_t)b;
		r->pos++;
		return 0;
	}
	if (b <= 0x9f) {
		v->type = b <= 0x8f ? OPLOG_MP_MAP : OPLOG_MP_ARRAY;
		v->neg = 0;
		v->u = b & 0x0f;
		r->pos++;
		return 0;
	}
	if (b <= 0xbf) {
		need = 1 + (size_t)(b & 0x1f);
		if (need > left)
			return fail_short(r, "fixstr", r->pos, need, left);
		v->type = OPLOG_MP_STR;
		v->neg = 0;
		v->u = 0;
		v->ptr = p + 1;
		v->len = need - 1;
		r->pos += need;
		return 0;
	}
	if (b == 0xc1)
		return fail(r, "reserved byte 0xc1 at offset %zu", r->pos);

	need = fixed_size[b - 0xc0];
	if (need > 0) {
		if (need > left)
			return fail_short(r, format_name[b - 0xc0], r->pos, need, left);
		read_fixed(p, need, v);
		r->pos += need;
		return 0;
	}

	switch (b) {
	case 0xc4: return read_prefixed(r, v, OPLOG_MP_BIN, 1, 2, "bin8");
	case 0xc5: return read_prefixed(r, v, OPLOG_MP_BIN, 2, 3, "bin16");
	case 0xc6: return read_prefixed(r, v, OPLOG_MP_BIN, 4, 5, "bin32");
	case 0xc7: return read_prefixed(r, v, OPLOG_MP_EXT, 1, 3, "ext8");
	case 0xc8: return read_prefixed(r, v, OPLOG_MP_EXT, 2, 4, "ext16");
	case 0xc9: return read_prefixed(r, v, OPLOG_MP_EXT, 4, 6, "ext32");
	case 0xd9: return read_prefixed(r, v, OPLOG_MP_STR, 1, 2, "str8");
	case 0xda: return read_prefixed(r, v, OPLOG_MP_STR, 2, 3, "str16");
	case 0xdb: return read_prefixed(r, v, OPLOG_MP_STR, 4, 5, "str32");
	case 0xdc: return read_prefixed(r, v, OPLOG_MP_ARRAY, 2, 3, "array16");
	case 0xdd: return read_prefixed(r, v, OPLOG_MP_ARRAY, 4, 5, "array32");
	case 0xde: return read_prefixed(r, v, OPLOG_MP_MAP, 2, 3, "map16");
	default:   return read_prefixed(r, v, OPLOG_MP_MAP, 4, 5, "map32");
	}
}

int oplog_mp__read(struct oplog_mp_reader *r, struct oplog_mp_val *v)
{
	return read_value(r, v);
}

int oplog_mp__value_end(struct oplog_mp_reader *r, struct oplog_mp_val *v)
{
	uint64_t due = 1;

	while (due > 0) {
		/* Every value due takes one byte at least. */
		if (due > r->len - r->pos) {
			v->off = r->len;
			return -1;
		}
		due--;
		if (read_value(r, v) < 0)
			return -1;
		if (v->type == OPLOG_MP_ARRAY)
			due += v->u;
		else if (v->type == OPLOG_MP_MAP)
			due += 2 * v->u;
	}
	return 0;
}

/*
 * Walk iteratively with one counter per open container, so the cost is
 * a fixed stack whatever the input claims, and every claimed item must
 * really be present (each takes at least one byte, so a count larger
 * than the input fails at the end of the buffer, in time linear in it).
 */
int oplog_mp__skip_items(struct oplog_mp_reader *r, uint64_t items,
                         unsigned level)
{
	uint64_t left[OPLOG_MAX_DEPTH + 1];
	unsigned top = 0;
	unsigned vlevel;
	struct oplog_mp_val v;

	left[0] = items;
	for (;;) {
		if (left[top] == 0) {
			if (top == 0)
				return 0;
			top--;
			continue;
		}
		left[top]--;
		if (read_value(r, &v) < 0)
			return -1;
		if (v.type != OPLOG_MP_ARRAY && v.type != OPLOG_MP_MAP)
			continue;
		vlevel = level + top + 1;
		if (vlevel > OPLOG_MAX_DEPTH)
			return fail(r, "too deep: the %s at offset %zu is at nesting "
			            "level %u; the limit is %d",
			            oplog_mp__type_name(v.type), v.off, vlevel,
			            OPLOG_MAX_DEPTH);
		left[++top] = v.type == OPLOG_MP_MAP ? 2 * v.u : v.u;
	}
}

const char *oplog_mp__type_name(enum oplog_mp_type t)
{
	switch (t) {
	case OPLOG_MP_NIL:   return "nil";
	case OPLOG_MP_BOOL:  return "bool";
	case OPLOG_MP_INT:   return "int";
	case OPLOG_MP_FLOAT: return "float";
	case OPLOG_MP_STR:   return "str";
	case OPLOG_MP_BIN:   return "bin";
	case OPLOG_MP_ARRAY: return "array";
	case OPLOG_MP_MAP:   return "map";
	case OPLOG_MP_EXT:   return "ext";
	}
	return "unknown";
}
