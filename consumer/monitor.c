/*
 * monitor.c: the applier's monitor thread. The apply loop posts a
 * snapshot once a second (oplog_monitor__post, a copy of a few hundred
 * bytes per partition); this thread renders the metrics page and the
 * status page (HTML and JSON) from the latest one, judges health, and
 * publishes them to the HTTP endpoint. It also keeps the status page's
 * chart: a sample of lag and rate every SAMPLE_MS for the last hour.
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

/* The chart's samples: one every SAMPLE_MS, an hour of them. */
#define SAMPLE_MS 10000
#define SAMPLES   360

/* A snapshot with everything it points to owned. */
struct owned {
	struct oplog_metrics_snapshot  snap;
	struct oplog_metrics_partition *parts;
	struct oplog_metrics_dataset   *datasets;
	struct oplog_metrics_reject     rejects[OPLOG_METRICS_REJECTS];
	char failure[512], broker_error[512], bootstrap[1024], store_path[4096], group[256];
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
	/* The chart's ring (the thread's own): hist_n samples ending before
	 * hist_next, and the message count at the newest. */
	struct oplog_metrics_sample hist[SAMPLES];
	size_t              hist_next, hist_n;
	uint64_t            hist_messages;
	struct oplog_metrics_sample points[SAMPLES + 1];  /* the chart, as last drawn */
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
	dst->snap.store_path = src->snap.store_path ? dst->store_path : NULL;
	dst->snap.group = src->snap.group ? dst->group : NULL;
	dst->snap.rejects = dst->rejects;
	memset(src, 0, sizeof(*src));
}

/* The current snapshot as a chart point: its lag and the rate of
 * messages since the newest sample (since the start for the first). */
static struct oplog_metrics_sample sample_of(const struct oplog_monitor *m)
{
	const struct oplog_metrics_snapshot *s = &m->current.snap;
	struct oplog_metrics_sample p = { s->taken_ms, -1, 0 };
	int64_t since = s->started_ms;
	uint64_t base = 0;
	int known = 0;

	for (size_t i = 0; i < s->n_parts; i++) {
		if (s->parts[i].lag < 0)
			continue;
		p.lag = known++ ? p.lag + s->parts[i].lag : s->parts[i].lag;
	}
	if (m->hist_n) {
		since = m->hist[(m->hist_next + SAMPLES - 1) % SAMPLES].ms;
		base = m->hist_messages;
	}
	if (s->taken_ms > since && s->st.intake.messages >= base)
		p.rate = (double)(s->st.intake.messages - base) * 1000.0 /
		         (double)(s->taken_ms - since);
	return p;
}

/* The chart's points, oldest first, into v (SAMPLES + 1): the ring, then
 * the current snapshot when it is newer than the ring's newest. Adds the
 * current one to the ring first when SAMPLE_MS have passed. */
static size_t chart(struct oplog_monitor *m, struct oplog_metrics_sample *v)
{
	struct oplog_metrics_sample now = sample_of(m);
	size_t n = 0, first = (m->hist_next + SAMPLES - m->hist_n) % SAMPLES;

	if (!m->hist_n || now.ms - m->hist[(m->hist_next + SAMPLES - 1) % SAMPLES].ms >= SAMPLE_MS) {
		m->hist[m->hist_next] = now;
		m->hist_next = (m->hist_next + 1) % SAMPLES;
		if (m->hist_n < SAMPLES)
			m->hist_n++;
		else
			first = (first + 1) % SAMPLES;
		m->hist_messages = m->current.snap.st.intake.messages;
	}
	for (size_t i = 0; i < m->hist_n; i++)
		v[n++] = m->hist[(first + i) % SAMPLES];
	if (n && now.ms > v[n - 1].ms)
		v[n++] = now;
	return n;
}

/* Render and publish the current snapshot: the metrics page with the
 * health verdict, then the status page and its JSON. */
static void publish(struct oplog_monitor *m)
{
	int64_t now = oplog_clock_mono_ms();
	char *page = NULL, why[1200];
	size_t len = 0, n;
	int healthy = oplog_metrics_health(&m->current.snap, now, m->grace_ms, why, sizeof(why));

	if (oplog_metrics_page(&m->current.snap, now, &page, &len) == 0)
		oplog_httpd_publish(m->httpd, page, len, healthy, healthy ? NULL : why);
	free(page);
	page = NULL;
	n = chart(m, m->points);
	if (oplog_metrics_status_html(&m->current.snap, now, healthy, healthy ? NULL : why, m->points,
	                              n, SAMPLE_MS, &page, &len) == 0)
		oplog_httpd_publish_page(m->httpd, "/", "text/html; charset=utf-8", page, len);
	free(page);
	page = NULL;
	if (oplog_metrics_status_json(&m->current.snap, now, healthy, healthy ? NULL : why, m->points,
	                              n, SAMPLE_MS, &page, &len) == 0)
		oplog_httpd_publish_page(m->httpd, "/status.json", "application/json", page, len);
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
	o.snap.store_path = keep(o.store_path, sizeof(o.store_path), snap->store_path);
	o.snap.group = keep(o.group, sizeof(o.group), snap->group);
	o.snap.n_rejects = snap->n_rejects < OPLOG_METRICS_REJECTS ? snap->n_rejects
	                                                           : OPLOG_METRICS_REJECTS;
	if (o.snap.n_rejects)
		memcpy(o.rejects, snap->rejects, o.snap.n_rejects * sizeof(*o.rejects));

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
	m->pending.snap.store_path = o.snap.store_path ? m->pending.store_path : NULL;
	m->pending.snap.group = o.snap.group ? m->pending.group : NULL;
	m->pending.snap.rejects = m->pending.rejects;
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
