/*
 * writer.h: the thread that applies one batch at a time to the store, so
 * that the intake can fill the next one meanwhile (semi-private to
 * consumer/; the pipeline is described in oplog/intake.h).
 *
 * Threading: start, submit, done and stop are called from one thread (the
 * intake's); oplog_store_apply runs on the writer's own thread, and the
 * store is the writer's from submit until done returns 1.
 *
 * Ownership: a submitted batch is borrowed until done returns 1 for it;
 * it (and the message bytes it borrows) must stay unchanged until then.
 */
#ifndef OPLOG_CONSUMER_WRITER_H
#define OPLOG_CONSUMER_WRITER_H

#include "oplog/store.h"

struct oplog_writer;

/* What applying a submitted batch gave. */
struct oplog_writer_result {
	int                      rc;       /* oplog_store_apply's */
	char                     msg[512]; /* its oplog_error_last() when rc != 0 */
	struct oplog_apply_stats st;
	double                   secs;     /* apply and commit, wall clock */
};

/*
 * Start the thread for store s. wake(arg), when not NULL, is called on the
 * writer's thread after each batch. Returns 0 with *out set, OPLOG_ENOMEM,
 * or OPLOG_ERROR (pthread_create failed); *out is NULL on failure.
 */
int oplog_writer__start(struct oplog_writer **out, struct oplog_store *s,
                        void (*wake)(void *arg), void *arg);

/* Finish the batch in flight (its result is dropped), join, free. NULL is
 * ignored. */
void oplog_writer__stop(struct oplog_writer *w);

/* Hand b to the thread. The writer must be idle: nothing submitted, or
 * done() has returned 1 for the last batch. */
void oplog_writer__submit(struct oplog_writer *w, const struct oplog_batch *b);

/* Is the submitted batch finished? 1 with *res filled (the writer is idle
 * again), 0 when it is still being applied (only without block) or when
 * nothing was submitted. */
int oplog_writer__done(struct oplog_writer *w, int block, struct oplog_writer_result *res);

#endif
