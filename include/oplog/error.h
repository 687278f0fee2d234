/*
 * oplog/error.h: error codes and the per-thread error message.
 *
 * Every library function returns int: 0 on success, a negative OPLOG_E*
 * code on failure. A few codes are expected outcomes rather than faults
 * (OPLOG_ENOTFOUND, OPLOG_EREJECT, OPLOG_EMAPFULL). A failure that is a
 * fault also leaves a human-readable message, naming the cause, in a
 * buffer private to the calling thread; oplog_error_last() returns it.
 *
 * When the message describes a return value, and when it is stale:
 *   - Only oplog_error__set() writes it; nothing ever clears it. Success
 *     leaves the previous failure's message in place, including one the
 *     call itself set and then recovered from (oplog_store_apply growing
 *     a full map, oplog_store_migrate failing to remove its temp dir).
 *   - It names the cause of a call's failure only when read right after
 *     that call returned a negative code, on the same thread, before any
 *     other oplog call.
 *   - An expected outcome may return without a message: OPLOG_ENOTFOUND
 *     from a lookup (oplog_store_get, oplog_store_offset, ...) leaves
 *     whatever was there before.
 *   - A non-zero return a caller's callback chose is passed back as it
 *     is, with the message the callback left (or an older one).
 *   - Messages longer than 511 bytes are cut.
 *
 * Threading: the message buffer is thread-local; no locking is needed.
 * A message set on one thread (the writer thread, say) is not visible on
 * another: the thread that reports it must copy it across.
 */
#ifndef OPLOG_ERROR_H
#define OPLOG_ERROR_H

enum oplog_error {
	OPLOG_OK        = 0,
	OPLOG_ERROR     = -1,  /* unclassified failure; see oplog_error_last() */
	OPLOG_ENOMEM    = -2,  /* allocation failed */
	OPLOG_EINVAL    = -3,  /* bad argument or bad value from the user */
	OPLOG_ENOTFOUND = -4,  /* expected: the thing looked up is absent */
	OPLOG_EREJECT   = -5,  /* expected: a message failed wire-format checks */
	OPLOG_EMAPFULL  = -6,  /* expected: the store reached [store] max_size */
	OPLOG_EIO       = -7,  /* file system or LMDB I/O failure */
	OPLOG_ESCHEMA   = -8,  /* the store's schema is not this oplogd's */
	OPLOG_ECONFIG   = -9,  /* bad configuration (file, line and key in the message) */
	OPLOG_EKAFKA    = -10, /* a fatal Kafka client condition */
	OPLOG_ECORRUPT  = -11, /* stored data is not what oplogd wrote */
	OPLOG_EBUSY     = -12, /* another process holds what this needs alone */
	OPLOG_ENOSPC    = -13  /* the disk holding the store is out of space */
};

/*
 * The message this thread's most recent oplog_error__set() left, never
 * NULL ("" when there was none yet). See above for when it belongs to the
 * last return. Borrowed: the buffer lives as long as the thread, and its
 * text changes with the next failing oplog call on this thread, so copy it
 * before making another call (in particular, never pass it straight back
 * to oplog_error__set()).
 */
const char *oplog_error_last(void);

/* A short constant name for an OPLOG_E* code ("ENOTFOUND"). Never NULL. */
const char *oplog_strerror(int err);

/*
 * Set this thread's message (printf format) and return err, so that a
 * failure path reads `return oplog_error__set(OPLOG_EIO, "open %s: %s", ...)`.
 * Semi-private: for oplog's own modules.
 */
int oplog_error__set(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
