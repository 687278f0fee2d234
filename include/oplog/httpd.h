/*
 * oplog/httpd.h: the HTTP endpoint behind [metrics] listen.
 *
 * Serves GET /metrics (Prometheus text format 0.0.4), GET /healthz and
 * the pages published at other paths (the status page at / and
 * /status.json) from libmicrohttpd's own thread. The endpoint renders nothing itself:
 * its owner publishes a complete page from time to time
 * (oplog_httpd_publish; oplog/metrics.h renders the applier's) and each
 * request gets a copy of the latest one.
 * /healthz answers 200 "ok" while pages keep coming and the owner says it
 * is healthy; 503 with the reason otherwise (no page for longer than the
 * staleness limit given at start, or an unhealthy publish).
 *
 * Threading: publish may be called from any one thread while requests
 * are served; stop joins the server thread.
 *
 * Ownership: the endpoint copies what is published; the caller keeps its
 * buffer.
 */
#ifndef OPLOG_HTTPD_H
#define OPLOG_HTTPD_H

#include <stddef.h>
#include <stdint.h>

struct oplog_httpd;

/*
 * Listen on listen ("HOST:PORT", HOST a name, an IPv4 address or
 * [IPv6]). /healthz turns 503 when no page was published for stale_ms.
 * Returns 0 with *out set (stop with oplog_httpd_stop), OPLOG_ECONFIG
 * (the address does not resolve), OPLOG_EIO (cannot listen: the message
 * says why, e.g. the port is taken) or OPLOG_ENOMEM.
 */
int oplog_httpd_start(struct oplog_httpd **out, const char *listen, int64_t stale_ms);

/*
 * Replace the page served at /metrics with text[0..len), and set the
 * health /healthz reports: healthy non-zero, or zero with why (copied;
 * NULL for no reason). Returns 0 or OPLOG_ENOMEM (the old page stays).
 */
int oplog_httpd_publish(struct oplog_httpd *m, const char *text, size_t len,
                        int healthy, const char *why);

/* Paths besides /metrics and /healthz that can be published. */
#define OPLOG_HTTPD_MAX_PAGES 8

/*
 * Serve text[0..len) at path (e.g. "/" or "/status.json", matched
 * exactly) with Content-Type type, replacing what was published there.
 * Returns 0, OPLOG_EINVAL (path is /metrics or /healthz, or would be one
 * more than OPLOG_HTTPD_MAX_PAGES paths) or OPLOG_ENOMEM (the old page
 * stays).
 */
int oplog_httpd_publish_page(struct oplog_httpd *m, const char *path, const char *type,
                             const char *text, size_t len);

/* Stop serving and free m. NULL is ignored. */
void oplog_httpd_stop(struct oplog_httpd *m);

#endif
