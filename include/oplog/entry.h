/*
 * oplog/entry.h: the wire-format-v1 codec (docs/FORMAT.md).
 *
 * Decoding is zero-copy: an oplog_entry is a view whose strings and byte
 * fields point into the message buffer it was decoded from. The view is
 * valid exactly as long as that buffer is alive and unchanged; copy what
 * must outlive it. The decoder never reads outside [msg, msg+len), and
 * gives every input exactly one verdict: valid, or one rejection reason
 * with its field. It allocates nothing, except a temporary index (freed
 * before it returns) for a message with more than 16 unknown keys, to
 * find repeated keys in O(n log n) whatever the input.
 *
 * Threading: every function is reentrant. Hashing uses a per-thread
 * OpenSSL digest context, created on first use.
 */
#ifndef OPLOG_ENTRY_H
#define OPLOG_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#define OPLOG_HASH_LEN        32
#define OPLOG_MAX_NAME        128          /* ds, node, col: 1..128 bytes */
#define OPLOG_MAX_KEY         1024         /* key: 1..1024 bytes */
#define OPLOG_MAX_DATA        (1u << 20)   /* data: 0..1 MiB */
#define OPLOG_DEFAULT_MAX_MSG (2u << 20)   /* default message size limit */
#define OPLOG_MAX_SEQ         INT64_MAX    /* seq: 1..2^63-1 */
#define OPLOG_MAX_DEPTH       64           /* deepest nesting in ignored keys */

enum oplog_op {
	OPLOG_OP_PUT = 1,
	OPLOG_OP_DEL = 2
};

/* A borrowed run of bytes. Not NUL-terminated. */
struct oplog_slice {
	const uint8_t *ptr;
	size_t         len;
};

/*
 * A decoded entry. Every pointer is borrowed from the decoded message
 * (or, for an entry built to be encoded, from whatever the caller set).
 */
struct oplog_entry {
	struct oplog_slice ds;
	struct oplog_slice node;
	uint64_t           seq;
	uint64_t           wall;
	uint32_t           logic;
	struct oplog_slice col;
	struct oplog_slice key;
	enum oplog_op      op;
	struct oplog_slice data;   /* put: the body (may be empty); del: {NULL, 0} */
	const uint8_t     *prev;   /* OPLOG_HASH_LEN bytes; NULL when seq == 1 */
	const uint8_t     *hash;   /* OPLOG_HASH_LEN bytes */
};

/* Rejection reasons, in wire-format-v1's table order. Names are stable. */
enum oplog_reason {
	OPLOG_R_NONE = 0,
	OPLOG_R_TOO_LARGE,
	OPLOG_R_MALFORMED,
	OPLOG_R_NOT_MAP,
	OPLOG_R_BAD_VERSION,
	OPLOG_R_MISSING_FIELD,
	OPLOG_R_BAD_TYPE,
	OPLOG_R_BAD_SIZE,
	OPLOG_R_BAD_OP,
	OPLOG_R_BAD_PREV,
	OPLOG_R_HASH_MISMATCH,
	OPLOG_R_CLOCK_SKEW,
	OPLOG_R__COUNT
};

/* Wire fields, in wire-format-v1's field-table order. */
enum oplog_field {
	OPLOG_F_NONE = 0,
	OPLOG_F_V,
	OPLOG_F_DS,
	OPLOG_F_NODE,
	OPLOG_F_SEQ,
	OPLOG_F_WALL,
	OPLOG_F_LOGIC,
	OPLOG_F_COL,
	OPLOG_F_KEY,
	OPLOG_F_OP,
	OPLOG_F_DATA,
	OPLOG_F_PREV,
	OPLOG_F_HASH,
	OPLOG_F__COUNT
};

/* Why a message was rejected: one reason, the field it concerns, a detail. */
struct oplog_reject {
	enum oplog_reason reason;
	enum oplog_field  field;        /* OPLOG_F_NONE when no field applies */
	char              detail[160];  /* human-readable, NUL-terminated */
};

/* Flags for oplog_entry_decode(). */
#define OPLOG_DECODE_NOVERIFY 0x1  /* skip the hash check (bytes already verified) */

/*
 * Decode one message value into *e.
 *
 * Checks run in the spec's order and the first failure wins: too_large
 * (len > max_len; 0 means OPLOG_DEFAULT_MAX_MSG), malformed, not_map, then
 * each field for presence, type and size, then hash_mismatch (unless
 * OPLOG_DECODE_NOVERIFY). clock_skew is not the decoder's: the applier
 * checks it.
 *
 * Returns 0 with *e filled (and *rej, when given, set to OPLOG_R_NONE), or
 * OPLOG_EREJECT with *rej filled (when rej is not NULL; the same text is in
 * oplog_error_last()) and *e unspecified. Fails otherwise only when the
 * message cannot be judged: OPLOG_ENOMEM (the unknown-key index above) or
 * OPLOG_ERROR (OpenSSL failed while verifying). *e borrows from msg.
 */
int oplog_entry_decode(const void *msg, size_t len, size_t max_len,
                       unsigned flags, struct oplog_entry *e,
                       struct oplog_reject *rej);

/*
 * Write the hash preimage of *e into buf (capacity cap) and return its
 * full length, which may exceed cap (then nothing past cap is written).
 * A del contributes no data; a NULL prev counts as 32 zero bytes. The
 * string lengths must fit their u16 prefixes, as decoded entries do.
 */
size_t oplog_entry_preimage(const struct oplog_entry *e, uint8_t *buf, size_t cap);

/* Compute SHA-256 of *e's preimage into out. Returns 0, OPLOG_EINVAL if a
 * length does not fit its preimage prefix, or OPLOG_ERROR if OpenSSL fails
 * (message in oplog_error_last()). */
int oplog_entry_hash(const struct oplog_entry *e, uint8_t out[OPLOG_HASH_LEN]);

/*
 * Encode *e as a message value in the shortest msgpack forms, keys in the
 * order v ds node seq wall logic col key op hash data prev (data for a put,
 * or whenever data.ptr is set; prev whenever it is not NULL). Field values
 * are written as given, limits unchecked, so tests can build invalid
 * messages; e->hash is written as given; compute it first with
 * oplog_entry_hash() for a valid message.
 *
 * Returns 0 with *out (caller frees with free()) and *out_len set,
 * OPLOG_EINVAL if e->op is neither put nor del, or OPLOG_ENOMEM.
 */
int oplog_entry_encode(const struct oplog_entry *e, uint8_t **out, size_t *out_len);

/* SHA-256 over n parts laid end to end, with this thread's digest
 * context. Semi-private: for oplog's own modules. 0 or OPLOG_ERROR. */
int oplog_entry__sha256(const struct oplog_slice *parts, size_t n,
                        uint8_t out[OPLOG_HASH_LEN]);

/* Stable names: "bad_type", "ds". NULL for OPLOG_R_NONE / OPLOG_F_NONE. */
const char *oplog_reason_name(enum oplog_reason r);
const char *oplog_field_name(enum oplog_field f);

/* The reason with this stable name, or OPLOG_R_NONE. */
enum oplog_reason oplog_reason_from_name(const char *name);

/* HLC order: <0, 0, >0 as a is before, the same as, after b
 * (wall, logic, node bytewise with the shorter first, then hash). */
int oplog_entry_hlc_cmp(const struct oplog_entry *a, const struct oplog_entry *b);

/*
 * Where the msgpack value starting at buf[pos] ends, for splitting a
 * stream of values laid back to back. Only framing is read: any nesting
 * depth costs no stack or memory and no count from the input sizes
 * anything; whether the value is a valid entry is oplog_entry_decode's
 * business. Returns 0 with *end set, or -1 with *why (a static string:
 * a truncated value, or the reserved byte 0xc1, after which nothing in
 * the stream can be trusted).
 */
int oplog_entry_frame_end(const uint8_t *buf, size_t len, size_t pos, size_t *end,
                          const char **why);

/* How messages are laid out one after another in a file (import, gen). */
enum oplog_framing {
	OPLOG_FRAMING_STREAM = 0,  /* msgpack values back to back */
	OPLOG_FRAMING_LENPFX       /* u32 big-endian length, then the message */
};

/* The framing named "stream" or "lenpfx": 0 with *out set, or OPLOG_EINVAL
 * (no message set; the caller names the option). */
int oplog_entry_framing_parse(const char *name, enum oplog_framing *out);

/*
 * The message at buf[pos..len) under framing f: its bytes are
 * buf[*start .. *start + *n) and the next message starts at *next.
 * Returns 0, or -1 with *why (a static string) when the rest cannot be
 * split into messages: a truncated value or the reserved byte 0xc1
 * (stream), a truncated length prefix or a frame longer than the rest of
 * the input (lenpfx). Nothing is decoded.
 */
int oplog_entry_frame_next(const uint8_t *buf, size_t len, size_t pos, enum oplog_framing f,
                           size_t *start, size_t *n, size_t *next, const char **why);

#endif
