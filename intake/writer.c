/*
 * writer.c: one thread applying submitted batches (intake/writer.h).
 */
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oplog/clock.h"
#include "oplog/error.h"
#include "writer.h"

struct oplog_writer {
	struct oplog_store       *store;
	void                    (*wake)(void *arg);
	void                     *arg;
	pthread_t                 thread;
	pthread_mutex_t           mu;
	pthread_cond_t            cv;
	/* Under mu. */
	const struct oplog_batch *batch;     /* submitted, not yet finished */
	int                       finished;  /* batch applied; res holds the result */
	int                       quit;
	struct oplog_writer_result res;
};

/* Apply each submitted batch; leave when told to and nothing is pending. */
static void *run(void *arg)
{
	struct oplog_writer *w = arg;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct oplog_writer_result res = { 0 };
		const struct oplog_batch *b;
		double t0;

		while ((!w->batch || w->finished) && !w->quit)
			pthread_cond_wait(&w->cv, &w->mu);
		if (!w->batch || w->finished)
			break;   /* quit, nothing pending */
		b = w->batch;
		pthread_mutex_unlock(&w->mu);

		t0 = oplog_clock_mono_secs();
		res.rc = oplog_store_apply(w->store, b, &res.st);
		res.secs = oplog_clock_mono_secs() - t0;
		if (res.rc)
			snprintf(res.msg, sizeof(res.msg), "%s", oplog_error_last());

		pthread_mutex_lock(&w->mu);
		w->res = res;
		w->finished = 1;
		pthread_cond_broadcast(&w->cv);
		if (w->wake) {
			pthread_mutex_unlock(&w->mu);
			w->wake(w->arg);
			pthread_mutex_lock(&w->mu);
		}
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int oplog_writer__start(struct oplog_writer **out, struct oplog_store *s,
                        void (*wake)(void *arg), void *arg)
{
	struct oplog_writer *w = NULL;
	int rc, err;

	*out = NULL;
	if (!(w = calloc(1, sizeof(*w)))) {
		rc = oplog_error__set(OPLOG_ENOMEM, "out of memory");
		goto done;
	}
	w->store = s;
	w->wake = wake;
	w->arg = arg;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if ((err = pthread_create(&w->thread, NULL, run, w)) != 0) {
		rc = oplog_error__set(OPLOG_ERROR, "starting the store writer thread: %s",
		                      strerror(err));
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		goto done;
	}
	*out = w;
	w = NULL;
	rc = 0;
done:
	free(w);
	return rc;
}

void oplog_writer__stop(struct oplog_writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->quit = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

void oplog_writer__submit(struct oplog_writer *w, const struct oplog_batch *b)
{
	pthread_mutex_lock(&w->mu);
	assert(!w->batch);
	w->batch = b;
	w->finished = 0;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

int oplog_writer__done(struct oplog_writer *w, int block, struct oplog_writer_result *res)
{
	int done = 0;

	pthread_mutex_lock(&w->mu);
	if (w->batch) {
		while (block && !w->finished)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->finished) {
			*res = w->res;
			w->batch = NULL;
			w->finished = 0;
			done = 1;
		}
	}
	pthread_mutex_unlock(&w->mu);
	return done;
}
