/*
 * monitor.c: the applier's monitor thread. The apply loop posts a
 * snapshot once a second (oplog_monitor__post, a copy of a few hundred
 * bytes per partition); this thread renders the metrics page from the
 * latest one, judges health, and publishes both to the HTTP endpoint.
 * Rendering a page of many datasets takes tens of milliseconds, which the
 * apply loop never spends.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "applier_int.h"
#include "oplog/clock.h"
#include "oplog/error.h"
#include "oplog/log.h"

/* A snapshot with everything it points to owned. */
struct owned {
	struct oplog_metrics_snapshot  snap;
	struct oplog_metrics_partition *parts;
	struct oplog_metrics_dataset   *datasets;
	char failure[512], broker_error[512], bootstrap[1024];
};

struct oplog_monitor {
	pthread_t           thread;
	pthread_mutex_t     lock;      /* guards pending, has_pending, stop */
	pthread_cond_t      wake;
	struct oplog_httpd *httpd;     /* borrowed */
	int64_t             grace_ms;
	struct owned        pending;   /* the latest post, not yet taken */
	int                 has_pending, stop;
	struct owned        current;   /* the thread's own */
};

static void owned_clear(struct owned *o)
{
	free(o->parts);
	oplog_metrics_datasets_free(o->datasets, o->snap.n_datasets);
	memset(o, 0, sizeof(*o));
}

static const char *keep(char *dst, size_t cap, const char *src)
{
	if (!src)
		return NULL;
	snprintf(dst, cap, "%s", src);
	return dst;
}

/* Move src's parts and strings into dst; the datasets too when src has
 * them, else dst keeps its own. */
static void owned_move(struct owned *dst, struct owned *src)
{
	struct oplog_metrics_dataset *ds = dst->datasets;
	size_t n_ds = dst->snap.n_datasets;

	free(dst->parts);
	if (src->datasets) {
		oplog_metrics_datasets_free(ds, n_ds);
		ds = src->datasets;
		n_ds = src->snap.n_datasets;
	}
	memcpy(dst, src, sizeof(*dst));
	dst->datasets = ds;
	dst->snap.datasets = ds;
	dst->snap.n_datasets = n_ds;
	dst->snap.parts = dst->parts;
	dst->snap.failure = src->snap.failure ? dst->failure : NULL;
	dst->snap.broker_error = src->snap.broker_error ? dst->broker_error : NULL;
	dst->snap.bootstrap = src->snap.bootstrap ? dst->bootstrap : NULL;
	memset(src, 0, sizeof(*src));
}

/* Render and publish the current snapshot. */
static void publish(struct oplog_monitor *m)
{
	int64_t now = oplog_clock_mono_ms();
	char *page = NULL, why[1200];
	size_t len = 0;
	int healthy = oplog_metrics_health(&m->current.snap, now, m->grace_ms, why, sizeof(why));

	if (oplog_metrics_page(&m->current.snap, now, &page, &len) == 0)
		oplog_httpd_publish(m->httpd, page, len, healthy, healthy ? NULL : why);
	free(page);
}

static void *run(void *arg)
{
	struct oplog_monitor *m = arg;
	struct timespec until;

	pthread_mutex_lock(&m->lock);
	while (!m->stop) {
		if (m->has_pending) {
			owned_move(&m->current, &m->pending);
			m->has_pending = 0;
		}
		if (m->current.snap.taken_ms > 0) {
			pthread_mutex_unlock(&m->lock);
			publish(m);
			pthread_mutex_lock(&m->lock);
		}
		/* Once a second, or at once for a post that ends the run. */
		oplog_clock_deadline(&until, 1000);
		while (!m->stop && !(m->has_pending && m->pending.snap.failure) &&
		       pthread_cond_timedwait(&m->wake, &m->lock, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

int oplog_monitor__start(struct oplog_monitor **out, struct oplog_httpd *httpd, int64_t grace_ms)
{
	struct oplog_monitor *m;
	int err;

	*out = NULL;
	if (!(m = calloc(1, sizeof(*m))))
		return oplog_error__set(OPLOG_ENOMEM, "out of memory");
	m->httpd = httpd;
	m->grace_ms = grace_ms;
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->wake, NULL);
	if ((err = pthread_create(&m->thread, NULL, run, m)) != 0) {
		pthread_cond_destroy(&m->wake);
		pthread_mutex_destroy(&m->lock);
		free(m);
		return oplog_error__set(OPLOG_ENOMEM, "the metrics thread: %s", strerror(err));
	}
	*out = m;
	return 0;
}

int oplog_monitor__post(struct oplog_monitor *m, const struct oplog_metrics_snapshot *snap,
                        struct oplog_metrics_dataset *datasets, size_t n_datasets)
{
	struct owned o;

	memset(&o, 0, sizeof(o));
	o.snap = *snap;
	if (snap->n_parts &&
	    !(o.parts = malloc(snap->n_parts * sizeof(*o.parts)))) {
		oplog_metrics_datasets_free(datasets, n_datasets);
		return oplog_error__set(OPLOG_ENOMEM, "out of memory");
	}
	if (snap->n_parts)
		memcpy(o.parts, snap->parts, snap->n_parts * sizeof(*o.parts));
	o.snap.parts = o.parts;
	o.datasets = datasets;
	o.snap.datasets = datasets;
	o.snap.n_datasets = n_datasets;
	o.snap.failure = keep(o.failure, sizeof(o.failure), snap->failure);
	o.snap.broker_error = keep(o.broker_error, sizeof(o.broker_error), snap->broker_error);
	o.snap.bootstrap = keep(o.bootstrap, sizeof(o.bootstrap), snap->bootstrap);

	pthread_mutex_lock(&m->lock);
	if (m->has_pending && !o.datasets && m->pending.datasets) {
		/* The unrendered post's datasets are the newest read. */
		o.datasets = m->pending.datasets;
		o.snap.datasets = o.datasets;
		o.snap.n_datasets = m->pending.snap.n_datasets;
		m->pending.datasets = NULL;
	}
	owned_clear(&m->pending);
	memcpy(&m->pending, &o, sizeof(o));
	m->pending.snap.parts = m->pending.parts;
	m->pending.snap.failure = o.snap.failure ? m->pending.failure : NULL;
	m->pending.snap.broker_error = o.snap.broker_error ? m->pending.broker_error : NULL;
	m->pending.snap.bootstrap = o.snap.bootstrap ? m->pending.bootstrap : NULL;
	m->has_pending = 1;
	pthread_cond_signal(&m->wake);
	pthread_mutex_unlock(&m->lock);
	return 0;
}

void oplog_monitor__stop(struct oplog_monitor *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	m->stop = 1;
	pthread_cond_signal(&m->wake);
	pthread_mutex_unlock(&m->lock);
	pthread_join(m->thread, NULL);
	/* What was posted last is published, so the final state is seen. */
	if (m->has_pending)
		owned_move(&m->current, &m->pending);
	if (m->current.snap.taken_ms > 0)
		publish(m);
	owned_clear(&m->pending);
	owned_clear(&m->current);
	pthread_cond_destroy(&m->wake);
	pthread_mutex_destroy(&m->lock);
	free(m);
}
