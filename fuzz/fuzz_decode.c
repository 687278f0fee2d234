/*
 * fuzz_decode.c: oplog_entry_decode(), the v1 decoder every message goes
 * through (intake/intake.c), on any bytes as one message.
 *
 * Beyond not crashing, leaking or reading outside the input, it checks
 * the decoder's promises: one verdict per input, and the same with or
 * without the hash check except for hash_mismatch; an accepted entry
 * points into the message, within the field limits; and it encodes back
 * to a message that decodes to the same entry.
 */
#include <string.h>

#include "oplog/entry.h"
#include "oplog/error.h"

#include "fuzz.h"

static int within(const void *p, size_t n, const uint8_t *data, size_t size)
{
	const uint8_t *b = p;

	return b >= data && n <= size && b - data <= (ptrdiff_t)(size - n);
}

static int slice_eq(const struct oplog_slice *a, const struct oplog_slice *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->ptr, b->ptr, a->len) == 0);
}

static int hash_eq(const uint8_t *a, const uint8_t *b)
{
	return (a == NULL && b == NULL) ||
	       (a != NULL && b != NULL && memcmp(a, b, OPLOG_HASH_LEN) == 0);
}

/* Field by field: an entry has padding that no decode writes. */
static int entry_eq(const struct oplog_entry *a, const struct oplog_entry *b)
{
	return slice_eq(&a->ds, &b->ds) && slice_eq(&a->node, &b->node) &&
	       slice_eq(&a->col, &b->col) && slice_eq(&a->key, &b->key) &&
	       slice_eq(&a->data, &b->data) && (a->data.ptr == NULL) == (b->data.ptr == NULL) &&
	       a->seq == b->seq && a->wall == b->wall && a->logic == b->logic &&
	       a->op == b->op && hash_eq(a->prev, b->prev) && hash_eq(a->hash, b->hash);
}

/* The checks of an accepted entry decoded from data[0..size). */
static void check_entry(const struct oplog_entry *e, const uint8_t *data, size_t size)
{
	FUZZ_CHECK(e->ds.len >= 1 && e->ds.len <= OPLOG_MAX_NAME);
	FUZZ_CHECK(e->node.len >= 1 && e->node.len <= OPLOG_MAX_NAME);
	FUZZ_CHECK(e->col.len <= OPLOG_MAX_NAME && e->key.len <= OPLOG_MAX_KEY);
	FUZZ_CHECK(e->data.len <= OPLOG_MAX_DATA);
	FUZZ_CHECK(within(e->ds.ptr, e->ds.len, data, size));
	FUZZ_CHECK(within(e->node.ptr, e->node.len, data, size));
	FUZZ_CHECK(e->col.len == 0 || within(e->col.ptr, e->col.len, data, size));
	FUZZ_CHECK(e->key.len == 0 || within(e->key.ptr, e->key.len, data, size));
	FUZZ_CHECK(e->data.len == 0 || within(e->data.ptr, e->data.len, data, size));
	FUZZ_CHECK(within(e->hash, OPLOG_HASH_LEN, data, size));
	FUZZ_CHECK(e->seq >= 1 && e->seq <= OPLOG_MAX_SEQ && e->wall <= INT64_MAX);
	FUZZ_CHECK((e->seq == 1) == (e->prev == NULL));
	FUZZ_CHECK(e->prev == NULL || within(e->prev, OPLOG_HASH_LEN, data, size));
	FUZZ_CHECK(e->op == OPLOG_OP_PUT || e->op == OPLOG_OP_DEL);
	FUZZ_CHECK(e->op == OPLOG_OP_PUT || e->data.ptr == NULL);
}

/* The checks of a rejection. */
static void check_reject(const struct oplog_reject *rej)
{
	FUZZ_CHECK(rej->reason > OPLOG_R_NONE && rej->reason < OPLOG_R__COUNT);
	FUZZ_CHECK(rej->reason != OPLOG_R_CLOCK_SKEW);  /* the applier's, not the decoder's */
	FUZZ_CHECK(rej->field >= OPLOG_F_NONE && rej->field < OPLOG_F__COUNT);
	FUZZ_CHECK(memchr(rej->detail, '\0', sizeof(rej->detail)) != NULL);
	FUZZ_CHECK(rej->detail[0] != '\0');
}

/* An accepted entry, encoded in the shortest forms, decodes to itself. */
static void check_roundtrip(const struct oplog_entry *e, int verified)
{
	struct oplog_entry again;
	struct oplog_reject rej;
	uint8_t *msg = NULL;
	size_t len = 0;
	int rc = oplog_entry_encode(e, &msg, &len);

	if (rc == OPLOG_ENOMEM)
		return;
	FUZZ_CHECK(rc == 0);
	rc = oplog_entry_decode(msg, len, len, verified ? 0 : OPLOG_DECODE_NOVERIFY, &again,
	                        &rej);
	if (rc != OPLOG_ENOMEM) {
		if (rc != 0)
			fprintf(stderr, "re-encoded entry rejected: %s\n", rej.detail);
		FUZZ_CHECK(rc == 0);
		FUZZ_CHECK(entry_eq(e, &again));
	}
	free(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oplog_entry e, raw;
	struct oplog_reject rej, rawrej;
	int rc, rawrc;

	rc = oplog_entry_decode(data, size, 0, 0, &e, &rej);
	rawrc = oplog_entry_decode(data, size, 0, OPLOG_DECODE_NOVERIFY, &raw, &rawrej);
	/* Only the unknown-key index allocates; OpenSSL is not expected to fail. */
	if (rc == OPLOG_ENOMEM || rawrc == OPLOG_ENOMEM)
		return 0;
	FUZZ_CHECK(rc == 0 || rc == OPLOG_EREJECT);
	FUZZ_CHECK(rawrc == 0 || rawrc == OPLOG_EREJECT);

	if (rawrc == 0) {
		FUZZ_CHECK(rawrej.reason == OPLOG_R_NONE);
		check_entry(&raw, data, size);
		check_roundtrip(&raw, 0);
	} else {
		check_reject(&rawrej);
	}
	if (rc == 0) {
		FUZZ_CHECK(rawrc == 0);
		FUZZ_CHECK(entry_eq(&e, &raw));
		check_roundtrip(&e, 1);
	} else {
		check_reject(&rej);
		/* The hash is checked last: any other verdict is the same. */
		if (rawrc == 0) {
			FUZZ_CHECK(rej.reason == OPLOG_R_HASH_MISMATCH);
		} else {
			FUZZ_CHECK(rej.reason == rawrej.reason && rej.field == rawrej.field);
			FUZZ_CHECK(strcmp(rej.detail, rawrej.detail) == 0);
		}
	}

	/* A limit below the size is too_large, whatever the bytes (0 would
	 * mean the default limit). */
	if (size > 1) {
		rc = oplog_entry_decode(data, size, size - 1, 0, &e, &rej);
		FUZZ_CHECK(rc == OPLOG_EREJECT && rej.reason == OPLOG_R_TOO_LARGE);
	}
	return 0;
}
