/*
 * oplog/error.h: error codes and the per-thread error message.
 *
 * Every library function returns int: 0 on success, a negative OPLOG_E*
 * code on failure. A few codes are expected outcomes rather than faults
 * (OPLOG_ENOTFOUND, OPLOG_EREJECT, OPLOG_EMAPFULL). When a function fails
 * it also leaves a human-readable message, naming the cause, in a buffer
 * private to the calling thread; oplog_error_last() returns it.
 *
 * Threading: the message buffer is thread-local; no locking is needed.
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
	OPLOG_EBUSY     = -12  /* another process holds what this needs alone */
};

/*
 * The message of the last failure on this thread, never NULL ("" when none).
 * Borrowed: valid until the next oplog call on this thread sets a new one.
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

/* Clear this thread's message. */
void oplog_error__clear(void);

#endif
