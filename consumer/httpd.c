/*
 * httpd.c: the /metrics and /healthz endpoint and the pages published
 * beside them (oplog/httpd.h), on libmicrohttpd. The listening socket is
 * bound here, not by the library, so that a taken port or a bad address
 * gets its own clear error.
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "oplog/clock.h"
#include "oplog/error.h"
#include "oplog/httpd.h"

/* A page published at a path of its own. */
struct page {
	char   path[128];
	char   type[64];
	char  *body;
	size_t len;
};

struct oplog_httpd {
	struct MHD_Daemon *d;
	pthread_mutex_t    lock;    /* guards everything below */
	char              *page;
	size_t             len;
	int64_t            published_ms;
	int64_t            stale_ms;
	int                healthy;
	char               why[1024];
	struct page        pages[OPLOG_HTTPD_MAX_PAGES];  /* published at their own paths */
	size_t             n_pages;
};

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, char *body,
                               size_t len, const char *type)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	/* The response takes body and frees it. */
	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result respond_text(struct MHD_Connection *c, unsigned status, const char *text)
{
	char *body = strdup(text);

	return body ? respond(c, status, body, strlen(body), "text/plain; charset=utf-8") : MHD_NO;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version,
                              const char *upload, size_t *upload_len, void **state)
{
	struct oplog_httpd *m = cls;
	char health[1100], type[64], *page = NULL;
	size_t len = 0;
	unsigned status;

	(void)version;
	(void)upload;
	(void)upload_len;
	(void)state;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return respond_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
	if (strcmp(url, "/metrics") == 0) {
		pthread_mutex_lock(&m->lock);
		if (m->page && (page = malloc(m->len ? m->len : 1)) != NULL) {
			memcpy(page, m->page, m->len);
			len = m->len;
		}
		pthread_mutex_unlock(&m->lock);
		if (!page)
			return respond_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "no metrics yet\n");
		return respond(c, MHD_HTTP_OK, page, len, "text/plain; version=0.0.4; charset=utf-8");
	}
	if (strcmp(url, "/healthz") == 0) {
		pthread_mutex_lock(&m->lock);
		if (!m->page) {
			status = MHD_HTTP_SERVICE_UNAVAILABLE;
			snprintf(health, sizeof(health), "starting\n");
		} else if (oplog_clock_mono_ms() - m->published_ms > m->stale_ms) {
			status = MHD_HTTP_SERVICE_UNAVAILABLE;
			snprintf(health, sizeof(health), "stalled: no progress report for %lld ms\n",
			         (long long)(oplog_clock_mono_ms() - m->published_ms));
		} else if (!m->healthy) {
			status = MHD_HTTP_SERVICE_UNAVAILABLE;
			snprintf(health, sizeof(health), "unhealthy: %s\n", m->why);
		} else {
			status = MHD_HTTP_OK;
			snprintf(health, sizeof(health), "ok\n");
		}
		pthread_mutex_unlock(&m->lock);
		return respond_text(c, status, health);
	}
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->n_pages; i++) {
		const struct page *p = &m->pages[i];

		if (strcmp(url, p->path) != 0)
			continue;
		if ((page = malloc(p->len ? p->len : 1)) != NULL) {
			memcpy(page, p->body, p->len);
			len = p->len;
			snprintf(type, sizeof(type), "%s", p->type);
		}
		break;
	}
	pthread_mutex_unlock(&m->lock);
	if (page)
		return respond(c, MHD_HTTP_OK, page, len, type);
	return respond_text(c, MHD_HTTP_NOT_FOUND,
	                    "not found: try /, /status.json, /metrics or /healthz\n");
}

/* Resolve and bind listen ("HOST:PORT" or "[V6]:PORT"); *fd listening. */
static int bind_listen(const char *listen_addr, int *fd, int *v6)
{
	char host[256];
	const char *colon = strrchr(listen_addr, ':');
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *ai = NULL;
	size_t hl;
	int gai, s = -1, one = 1, rc;

	if (!colon || (size_t)(colon - listen_addr) >= sizeof(host))
		return oplog_error__set(OPLOG_ECONFIG, "[metrics] listen: bad address '%s'",
		                        listen_addr);
	hl = (size_t)(colon - listen_addr);
	memcpy(host, listen_addr, hl);
	host[hl] = 0;
	if (host[0] == '[' && hl >= 2 && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = 0;
	}
	if ((gai = getaddrinfo(host, colon + 1, &hints, &ai)) != 0)
		return oplog_error__set(OPLOG_ECONFIG, "[metrics] listen %s: %s", listen_addr,
		                        gai_strerror(gai));
	if ((s = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(s, ai->ai_addr, ai->ai_addrlen) != 0 || listen(s, 64) != 0) {
		rc = oplog_error__set(OPLOG_EIO, "[metrics] listen %s: %s", listen_addr,
		                      strerror(errno));
		if (s >= 0)
			close(s);
		goto done;
	}
	*fd = s;
	*v6 = ai->ai_family == AF_INET6;
	rc = 0;
done:
	freeaddrinfo(ai);
	return rc;
}

int oplog_httpd_start(struct oplog_httpd **out, const char *listen_addr, int64_t stale_ms)
{
	struct oplog_httpd *m;
	int fd = -1, v6 = 0, rc;

	*out = NULL;
	if (!(m = calloc(1, sizeof(*m))))
		return oplog_error__set(OPLOG_ENOMEM, "out of memory");
	pthread_mutex_init(&m->lock, NULL);
	m->stale_ms = stale_ms;
	if ((rc = bind_listen(listen_addr, &fd, &v6)))
		goto fail;
	m->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | (v6 ? MHD_USE_IPv6 : 0), 0,
	                        NULL, NULL, handle, m, MHD_OPTION_LISTEN_SOCKET, fd,
	                        MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
	if (!m->d) {
		close(fd);
		rc = oplog_error__set(OPLOG_EIO, "[metrics] listen %s: the HTTP server did not start",
		                      listen_addr);
		goto fail;
	}
	*out = m;
	return 0;
fail:
	pthread_mutex_destroy(&m->lock);
	free(m);
	return rc;
}

int oplog_httpd_publish(struct oplog_httpd *m, const char *text, size_t len,
                        int healthy, const char *why)
{
	char *page = malloc(len ? len : 1);

	if (!page)
		return oplog_error__set(OPLOG_ENOMEM, "out of memory");
	memcpy(page, text, len);
	pthread_mutex_lock(&m->lock);
	free(m->page);
	m->page = page;
	m->len = len;
	m->published_ms = oplog_clock_mono_ms();
	m->healthy = healthy;
	snprintf(m->why, sizeof(m->why), "%s", why ? why : "");
	pthread_mutex_unlock(&m->lock);
	return 0;
}

int oplog_httpd_publish_page(struct oplog_httpd *m, const char *path, const char *type,
                             const char *text, size_t len)
{
	struct page *p = NULL;
	char *body;

	if (strcmp(path, "/metrics") == 0 || strcmp(path, "/healthz") == 0 ||
	    strlen(path) >= sizeof(p->path) || strlen(type) >= sizeof(p->type))
		return oplog_error__set(OPLOG_EINVAL, "cannot publish a page at '%s'", path);
	if (!(body = malloc(len ? len : 1)))
		return oplog_error__set(OPLOG_ENOMEM, "out of memory");
	memcpy(body, text, len);
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->n_pages && !p; i++)
		if (strcmp(m->pages[i].path, path) == 0)
			p = &m->pages[i];
	if (!p && m->n_pages < OPLOG_HTTPD_MAX_PAGES) {
		p = &m->pages[m->n_pages++];
		snprintf(p->path, sizeof(p->path), "%s", path);
	}
	if (p) {
		free(p->body);
		p->body = body;
		p->len = len;
		snprintf(p->type, sizeof(p->type), "%s", type);
	}
	pthread_mutex_unlock(&m->lock);
	if (!p) {
		free(body);
		return oplog_error__set(OPLOG_EINVAL, "cannot publish '%s': already %d pages", path,
		                        OPLOG_HTTPD_MAX_PAGES);
	}
	return 0;
}

void oplog_httpd_stop(struct oplog_httpd *m)
{
	if (!m)
		return;
	if (m->d)
		MHD_stop_daemon(m->d);   /* joins its thread, closes the socket */
	pthread_mutex_destroy(&m->lock);
	free(m->page);
	for (size_t i = 0; i < m->n_pages; i++)
		free(m->pages[i].body);
	free(m);
}
