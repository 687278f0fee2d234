/*
 * status_page.c: the applier's status page at / and the same data at
 * /status.json (oplog/metrics.h), from one snapshot and the chart's
 * samples. The page is one self-contained HTML document: inline style, an
 * inline SVG chart, no script; it reloads itself every REFRESH_S seconds.
 * Names and texts come from the stream (dataset names are arbitrary
 * bytes), so every one is escaped: HTML metacharacters as entities, bytes
 * that are not UTF-8 or are control characters as \xNN.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "oplog/bytes.h"
#include "oplog/error.h"
#include "oplog/metrics.h"
#include "oplog/version.h"

#define REFRESH_S    5
#define MAX_GAP_ROWS 50    /* datasets with gaps listed on the page */
#define HOUR_MS      3600000

/* ---- text helpers ------------------------------------------------------ */

/* s[0..n) escaped for HTML text and attribute values. */
static void esc_n(FILE *f, const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t l = oplog_utf8_seq(s + i, n - i);

		if (l == 1 && (s[i] < 0x20 || s[i] == 0x7f))
			l = 0;   /* a control character: shown as its byte */
		if (l == 0) {
			fprintf(f, "<span class=\"raw\">\\x%02x</span>", s[i]);
			i++;
			continue;
		}
		if (l > 1) {
			fwrite(s + i, 1, l, f);
		} else {
			switch (s[i]) {
			case '&': fputs("&amp;", f); break;
			case '<': fputs("&lt;", f); break;
			case '>': fputs("&gt;", f); break;
			case '"': fputs("&quot;", f); break;
			case '\'': fputs("&#39;", f); break;
			default: fputc(s[i], f);
			}
		}
		i += l;
	}
}

static void esc(FILE *f, const char *s)
{
	if (s)
		esc_n(f, (const uint8_t *)s, strlen(s));
}

/* A JSON string from bytes that should be UTF-8: each byte that does not
 * start a valid sequence becomes U+FFFD (jansson refuses invalid UTF-8;
 * the same rule as the CLI's JSON). NULL on ENOMEM. */
static json_t *jtext(const uint8_t *s, size_t n)
{
	char *buf = malloc(3 * n + 1);
	size_t o = 0;
	json_t *j;

	if (!buf)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t l = oplog_utf8_seq(s + i, n - i);

		if (l == 0) {
			memcpy(buf + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		} else {
			memcpy(buf + o, s + i, l);
			o += l;
			i += l;
		}
	}
	j = json_stringn(buf, o);
	free(buf);
	return j;
}

static json_t *jstr(const char *s)
{
	return s ? jtext((const uint8_t *)s, strlen(s)) : json_null();
}

/* -1 (unknown, none) as null. */
static json_t *jopt(int64_t v)
{
	return v < 0 ? json_null() : json_integer(v);
}

/* A count with thin separators every three digits: "1 234 567". */
static void count_text(char *buf, size_t len, uint64_t v)
{
	char d[24];
	int n = snprintf(d, sizeof(d), "%" PRIu64, v);
	size_t o = 0;

	for (int i = 0; i < n && o + 4 < len; i++) {
		if (i && (n - i) % 3 == 0) {
			memcpy(buf + o, "\xe2\x80\x89", 3);   /* U+2009 thin space */
			o += 3;
		}
		buf[o++] = d[i];
	}
	buf[o] = 0;
}

/* A number of the chart's axis: "950", "12k", "3.5M". */
static void axis_text(char *buf, size_t len, double v)
{
	if (v >= 1e6)
		snprintf(buf, len, "%.3gM", v / 1e6);
	else if (v >= 1e4)
		snprintf(buf, len, "%.3gk", v / 1e3);
	else
		snprintf(buf, len, "%.4g", v);
}

/* The smallest 1, 2 or 5 times a power of ten at or above v (> 0). */
static double nice_max(double v)
{
	double p = 1;

	if (v <= 1)
		return 1;
	while (p * 10 <= v)
		p *= 10;
	return v <= p ? p : v <= 2 * p ? 2 * p : v <= 5 * p ? 5 * p : 10 * p;
}

/* Sum of the known lags and how many are unknown. */
static int64_t lag_sum(const struct oplog_metrics_snapshot *s, size_t *unknown)
{
	int64_t sum = 0;

	*unknown = 0;
	for (size_t i = 0; i < s->n_parts; i++) {
		if (s->parts[i].lag < 0)
			(*unknown)++;
		else
			sum += s->parts[i].lag;
	}
	return sum;
}

/* Datasets with a node with gaps, and those nodes. */
static size_t gap_datasets(const struct oplog_metrics_snapshot *s, uint64_t *nodes)
{
	size_t n = 0;

	*nodes = 0;
	for (size_t i = 0; i < s->n_datasets; i++) {
		n += s->datasets[i].with_gaps > 0;
		*nodes += s->datasets[i].with_gaps;
	}
	return n;
}

/* ---- the HTML page ------------------------------------------------------ */

static const char style[] =
	"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;"
	"background:#f4f5f7;color:#1d2430}"
	"header{background:#1f2d3d;color:#fff;padding:14px 24px;display:flex;"
	"align-items:center;gap:16px}"
	"header h1{font-size:20px;margin:0;font-weight:600}"
	"header .ver{color:#a9b8c9;font-weight:400}"
	".badge{padding:3px 10px;border-radius:10px;font-weight:600;font-size:13px}"
	".ok{background:#2e9d57;color:#fff}.bad{background:#c8382c;color:#fff}"
	"main{padding:4px 24px 24px}"
	".row{display:flex;flex-wrap:wrap;gap:8px 40px;align-items:flex-start}"
	"h2{font-size:15px;margin:20px 0 8px;color:#3a4a5c;text-transform:uppercase;"
	"letter-spacing:.04em}"
	"table{border-collapse:collapse;background:#fff;box-shadow:0 1px 2px #0002}"
	"th,td{padding:5px 12px;border-bottom:1px solid #e3e6ea;text-align:left;"
	"vertical-align:top}"
	"th{background:#e9edf2;font-weight:600;font-size:13px}"
	"td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
	"tfoot td{font-weight:600;background:#f7f8fa}"
	"table.info th{background:none;width:110px;color:#5a6b7d}"
	".lagging{color:#b35c00;font-weight:600}.unknown{color:#8a96a3}"
	".cards{display:grid;grid-template-columns:repeat(4,120px);gap:10px}"
	".card{background:#fff;box-shadow:0 1px 2px #0002;padding:8px 14px}"
	".card.warn b{color:#b35c00}"
	".card b{display:block;font-size:18px;font-variant-numeric:tabular-nums}"
	".card span{color:#5a6b7d;font-size:12px}"
	".charts{display:flex;flex-wrap:wrap;gap:16px}"
	"figure{margin:0;background:#fff;box-shadow:0 1px 2px #0002;padding:8px}"
	"figcaption{font-weight:600;font-size:13px;color:#3a4a5c;margin-bottom:4px}"
	"svg text{font-size:11px;fill:#5a6b7d}"
	".grid{stroke:#e3e6ea}.line{fill:none;stroke-width:2}"
	".lagline{stroke:#d9822b}.rateline{stroke:#2b6fd9}"
	".raw{color:#b0266e;font-family:monospace}"
	".detail{max-width:420px;word-break:break-word}"
	".muted{color:#6b7b8c;text-transform:none;letter-spacing:0;font-weight:400}"
	"footer{padding:12px 24px;color:#6b7b8c;font-size:12px}"
	"a{color:#2b6fd9}";

/* One chart: the points' value (lag, or rate when is_rate) over the last
 * hour ending at end_ms, as an SVG path; unknown lags break the line. */
static void svg_chart(FILE *f, const char *id, const char *caption, const char *cls,
                      const struct oplog_metrics_sample *v, size_t n, int is_rate,
                      int64_t end_ms)
{
	const double w = 560, h = 140, left = 52, top = 8, right = 10, bottom = 22;
	const double pw = w - left - right, ph = h - top - bottom;
	double max = 0, y;
	char lbl[32];
	int pen = 0, drawn = 0;

	for (size_t i = 0; i < n; i++) {
		double val = is_rate ? v[i].rate : (double)v[i].lag;

		if (val > max)
			max = val;
	}
	/* A count's axis has whole numbers at its five lines. */
	max = !is_rate && max < 4 ? 4 : nice_max(max);
	fprintf(f, "<figure id=\"%s\"><figcaption>%s</figcaption>"
	        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" height=\"%g\" "
	        "viewBox=\"0 0 %g %g\" role=\"img\" aria-label=\"%s\">",
	        id, caption, w, h, w, h, caption);
	for (int g = 0; g <= 4; g++) {
		y = top + ph - ph * g / 4;
		axis_text(lbl, sizeof(lbl), max * g / 4);
		fprintf(f, "<line class=\"grid\" x1=\"%g\" y1=\"%.1f\" x2=\"%g\" y2=\"%.1f\"/>"
		        "<text x=\"%g\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
		        left, y, w - right, y, left - 6, y + 4, lbl);
	}
	for (int m = 0; m < 60; m += 15)
		fprintf(f, "<text x=\"%.1f\" y=\"%g\" text-anchor=\"%s\">-%d min</text>",
		        left + pw * m / 60, h - 6, m ? "middle" : "start", 60 - m);
	fprintf(f, "<text x=\"%g\" y=\"%g\" text-anchor=\"end\">now</text>", w - right, h - 6);
	fprintf(f, "<path class=\"line %s\" d=\"", cls);
	for (size_t i = 0; i < n; i++) {
		int64_t age = end_ms - v[i].ms;
		double val = is_rate ? v[i].rate : (double)v[i].lag, x;

		if (age > HOUR_MS || (!is_rate && v[i].lag < 0)) {
			pen = 0;
			continue;
		}
		x = left + pw * (double)(HOUR_MS - (age < 0 ? 0 : age)) / HOUR_MS;
		y = top + ph - ph * val / max;
		fprintf(f, "%s%.1f %.1f", pen ? " L" : drawn ? " M" : "M", x, y);
		pen = drawn = 1;
	}
	fputs("\"/>", f);
	/* The newest point, so that a line of one point shows too. */
	if (n && (is_rate || v[n - 1].lag >= 0) && end_ms - v[n - 1].ms <= HOUR_MS) {
		double val = is_rate ? v[n - 1].rate : (double)v[n - 1].lag;
		int64_t age = end_ms - v[n - 1].ms;

		fprintf(f, "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\" "
		        "style=\"fill:%s\"/>", cls,
		        left + pw * (double)(HOUR_MS - (age < 0 ? 0 : age)) / HOUR_MS,
		        top + ph - ph * val / max, is_rate ? "#2b6fd9" : "#d9822b");
	}
	fputs("</svg></figure>", f);
}

/* A counter; warn: shown in the warning colour when not zero. */
static void card(FILE *f, const char *id, const char *label, uint64_t v, int warn)
{
	char buf[40];

	count_text(buf, sizeof(buf), v);
	fprintf(f, "<div class=\"card%s\" id=\"%s\"><b>%s</b><span>%s</span></div>",
	        warn && v ? " warn" : "", id, buf, label);
}

/* The whole page into f; a write error shows in ferror(f). */
/* The page's head and the header line with the health badge. */
static void html_header(FILE *f, int healthy, const char *why)
{
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	        "<meta http-equiv=\"refresh\" content=\"%d\">"
	        "<meta name=\"viewport\" content=\"width=device-width\">"
	        "<title>oplogd status</title><style>%s</style></head><body>",
	        REFRESH_S, style);
	fprintf(f, "<header><h1>oplogd <span class=\"ver\" id=\"version\">%s</span></h1>",
	        OPLOG_VERSION);
	if (healthy) {
		fputs("<span class=\"badge ok\" id=\"health\">healthy</span>", f);
	} else {
		fputs("<span class=\"badge bad\" id=\"health\">unhealthy: ", f);
		esc(f, why);
		fputs("</span>", f);
	}
	fputs("</header>", f);
}

/* What this applier is, and its counters since start. */
static void html_applier(FILE *f, const struct oplog_metrics_snapshot *s, int64_t now)
{
	char a[OPLOG_HUMAN_MAX];

	oplog_duration_human((uint64_t)(now > s->started_ms ? now - s->started_ms : 0), a);
	fprintf(f, "<div class=\"row\"><section><h2>Applier</h2><table class=\"info\" id=\"info\">"
	        "<tr><th>Uptime</th><td id=\"uptime\">%s</td></tr><tr><th>Store</th><td id=\"store\">",
	        a);
	esc(f, s->store_path);
	fputs("</td></tr><tr><th>Group</th><td id=\"group\">", f);
	esc(f, s->group);
	fputs("</td></tr><tr><th>Bootstrap</th><td id=\"bootstrap\">", f);
	esc(f, s->bootstrap);
	oplog_size_human(s->store_bytes, a);
	fprintf(f, "</td></tr><tr><th>Store size</th><td id=\"store-size\">%s</td></tr>", a);
	if (s->broker_error) {
		fputs("<tr><th>Last error</th><td id=\"broker-error\">", f);
		esc(f, s->broker_error);
		fputs("</td></tr>", f);
	}
	fputs("</table></section>", f);

	fputs("<section><h2>Since start</h2><div class=\"cards\">", f);
	card(f, "messages", "messages", s->st.intake.messages, 0);
	card(f, "applied", "applied", s->st.store.applied, 0);
	card(f, "duplicates", "duplicates", s->st.store.duplicates, 0);
	card(f, "late", "late", s->st.store.late, 0);
	card(f, "forks", "forks", s->st.store.forks, 1);
	card(f, "chain-breaks", "chain breaks", s->st.store.chain_breaks, 1);
	card(f, "rejected", "rejected", s->st.intake.rejected, 1);
	card(f, "batches", "store commits", s->st.intake.batches, 0);
	fputs("</div></section></div>", f);
}

/* The two charts over the last hour. */
static void html_charts(FILE *f, int64_t now, const struct oplog_metrics_sample *hist,
                        size_t n_hist, int64_t interval_ms)
{
	char a[OPLOG_HUMAN_MAX];
	int64_t end = n_hist ? hist[n_hist - 1].ms : now;

	oplog_duration_human((uint64_t)interval_ms, a);
	fprintf(f, "<h2>Last hour <span class=\"muted\">(a sample every %s)</span></h2>"
	        "<div class=\"charts\" id=\"charts\">", a);
	svg_chart(f, "chart-lag", "Lag (messages)", "lagline", hist, n_hist, 0, end);
	svg_chart(f, "chart-rate", "Apply rate (messages/s)", "rateline", hist, n_hist, 1, end);
	fputs("</div>", f);
}

/* One cell of an offset that may be unknown (-1). */
static void offset_cell(FILE *f, int64_t v)
{
	if (v >= 0)
		fprintf(f, "<td class=\"n\">%" PRId64 "</td>", v);
	else
		fputs("<td class=\"n unknown\">-</td>", f);
}

/* The partitions table, with the summed lag below it. */
static void html_partitions(FILE *f, const struct oplog_metrics_snapshot *s)
{
	size_t unknown;
	int64_t lag = lag_sum(s, &unknown);

	fprintf(f, "<div class=\"row\"><section><h2>Partitions</h2><table id=\"partitions\">"
	        "<thead><tr><th>Topic</th><th class=\"n\">Partition</th><th class=\"n\">High</th><th class=\"n\">Stored</th>"
	        "<th class=\"n\">Committed</th><th class=\"n\">Lag</th></tr></thead><tbody>");
	for (size_t i = 0; i < s->n_parts; i++) {
		const struct oplog_metrics_partition *p = &s->parts[i];

		fputs("<tr class=\"partition\"><td>", f);
		esc(f, p->topic);
		fprintf(f, "</td><td class=\"n\">%" PRId32 "</td>", p->partition);
		offset_cell(f, p->high);
		fprintf(f, "<td class=\"n\">%" PRId64 "</td>", p->stored);
		offset_cell(f, p->committed);
		if (p->lag >= 0)
			fprintf(f, "<td class=\"n lag%s\" data-lag=\"%" PRId64 "\">%" PRId64 "</td></tr>",
			        p->lag ? " lagging" : "", p->lag, p->lag);
		else
			fputs("<td class=\"n lag unknown\" data-lag=\"\">unknown</td></tr>", f);
	}
	if (!s->n_parts)
		fputs("<tr><td colspan=\"6\" class=\"muted\">no partition assigned</td></tr>", f);
	fprintf(f, "</tbody><tfoot><tr><td colspan=\"5\">%zu partition%s</td>"
	        "<td class=\"n\" id=\"lag-total\" data-lag=\"%" PRId64 "\">%" PRId64 "%s</td></tr>"
	        "</tfoot></table></section>",
	        s->n_parts, s->n_parts == 1 ? "" : "s", lag, lag,
	        unknown ? " + unknown" : "");
}

/* The datasets that have nodes with gaps (the first MAX_GAP_ROWS). */
static void html_gaps(FILE *f, const struct oplog_metrics_snapshot *s)
{
	char a[64];
	uint64_t gap_nodes;
	size_t n_gap = gap_datasets(s, &gap_nodes), shown = 0;

	count_text(a, sizeof(a), gap_nodes);
	fprintf(f, "<section><h2>Nodes with gaps</h2><p id=\"gaps-summary\">%s node%s with a "
	        "missing seq below the head, in %zu of %zu dataset%s.</p>", a, gap_nodes == 1 ? "" : "s",
	        n_gap, s->n_datasets, s->n_datasets == 1 ? "" : "s");
	if (n_gap) {
		fputs("<table id=\"gaps\"><thead><tr><th>Dataset</th><th class=\"n\">Nodes</th>"
		      "<th class=\"n\">With gaps</th></tr></thead><tbody>", f);
		for (size_t i = 0; i < s->n_datasets && shown < MAX_GAP_ROWS; i++) {
			const struct oplog_metrics_dataset *d = &s->datasets[i];

			if (!d->with_gaps)
				continue;
			shown++;
			fputs("<tr><td>", f);
			esc_n(f, d->name, d->name_len);
			fprintf(f, "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64
			        "</td></tr>", d->nodes, d->with_gaps);
		}
		fputs("</tbody>", f);
		if (shown < n_gap)
			fprintf(f, "<tfoot><tr><td colspan=\"3\">and %zu more (oplogd watermarks "
			        "lists them)</td></tr></tfoot>", n_gap - shown);
		fputs("</table>", f);
	}
	fputs("</section></div>", f);
}

/* The last rejects, newest first. */
static void html_rejects(FILE *f, const struct oplog_metrics_snapshot *s)
{
	char a[64], b[64];

	count_text(a, sizeof(a), s->rejects_kept);
	count_text(b, sizeof(b), s->st.intake.rejected);
	fprintf(f, "<h2>Last rejects</h2><p id=\"rejects-summary\">%s rejected since start; %s "
	        "kept in the store (oplogd rejects shows them).</p>", b, a);
	if (!s->n_rejects)
		return;
	fputs("<table id=\"rejects\"><thead><tr><th class=\"n\">ID</th><th>Stored (UTC)</th>"
	      "<th>Source</th><th>Reason</th><th>Field</th><th class=\"n\">Size</th>"
	      "<th>Detail</th></tr></thead><tbody>", f);
	for (size_t i = s->n_rejects; i-- > 0;) {
		const struct oplog_metrics_reject *r = &s->rejects[i];
		char t[OPLOG_TIME_ISO_MAX], size[OPLOG_HUMAN_MAX];

		if (oplog_time_iso(r->time_ms, t))
			snprintf(t, sizeof(t), "%" PRIu64, r->time_ms);
		oplog_size_human(r->size, size);
		fprintf(f, "<tr class=\"reject\"><td class=\"n\">%" PRIu64 "</td><td>%s</td><td>",
		        r->id, t);
		esc(f, r->source);
		fputs("</td><td>", f);
		esc(f, r->reason);
		fputs("</td><td>", f);
		esc(f, r->field);
		fprintf(f, "</td><td class=\"n\">%s</td><td class=\"detail\">", size);
		esc(f, r->detail);
		fputs("</td></tr>", f);
	}
	fputs("</tbody></table>", f);
}

static void html_body(FILE *f, const struct oplog_metrics_snapshot *s, int64_t now, int healthy,
                      const char *why, const struct oplog_metrics_sample *hist, size_t n_hist,
                      int64_t interval_ms)
{
	html_header(f, healthy, why);
	fputs("<main>", f);
	html_applier(f, s, now);
	html_charts(f, now, hist, n_hist, interval_ms);
	html_partitions(f, s);
	html_gaps(f, s);
	html_rejects(f, s);
	fprintf(f, "</main><footer>oplogd %s &middot; reloads every %d s &middot; "
	        "<a href=\"/status.json\">/status.json</a> &middot; <a href=\"/metrics\">/metrics</a>"
	        " &middot; <a href=\"/healthz\">/healthz</a></footer></body></html>\n",
	        OPLOG_VERSION, REFRESH_S);
}

int oplog_metrics_status_html(const struct oplog_metrics_snapshot *snap, int64_t now_ms,
                              int healthy, const char *why,
                              const struct oplog_metrics_sample *hist, size_t n_hist,
                              int64_t interval_ms, char **out, size_t *len)
{
	FILE *f;

	*out = NULL;
	*len = 0;
	if (!(f = open_memstream(out, len)))
		return oplog_error__set(OPLOG_ENOMEM, "out of memory");
	html_body(f, snap, now_ms, healthy, why, hist, n_hist, interval_ms);
	if (ferror(f)) {
		fclose(f);
		free(*out);
		*out = NULL;
		*len = 0;
		return oplog_error__set(OPLOG_ENOMEM, "out of memory");
	}
	if (fclose(f) != 0) {
		free(*out);
		*out = NULL;
		*len = 0;
		return oplog_error__set(OPLOG_ENOMEM, "out of memory");
	}
	return 0;
}

/* ---- /status.json --------------------------------------------------- */

/* The document, or NULL when memory ran out (the set_new calls take
 * their values, NULL included, so one check at the end is enough). */
/* Append to arr (stealing it; NULL marks a failure) and say whether it worked. */
static int append(json_t *arr, json_t *e)
{
	return arr && e && json_array_append_new(arr, e) == 0;
}

static json_t *status_totals(const struct oplog_metrics_snapshot *s)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
	                 "messages", (json_int_t)s->st.intake.messages,
	                 "applied", (json_int_t)s->st.store.applied,
	                 "duplicates", (json_int_t)s->st.store.duplicates,
	                 "late", (json_int_t)s->st.store.late,
	                 "forks", (json_int_t)s->st.store.forks,
	                 "chain_breaks", (json_int_t)s->st.store.chain_breaks,
	                 "rejected", (json_int_t)s->st.intake.rejected,
	                 "batches", (json_int_t)s->st.intake.batches,
	                 "store_bytes", (json_int_t)s->store_bytes,
	                 "rejects_kept", (json_int_t)s->rejects_kept);
}

static json_t *status_partitions(const struct oplog_metrics_snapshot *s)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < s->n_parts; i++) {
		const struct oplog_metrics_partition *p = &s->parts[i];

		if (!append(arr, json_pack("{s:o,s:i,s:o,s:I,s:o,s:o}", "topic", jstr(p->topic),
		                           "partition", (int)p->partition, "high", jopt(p->high),
		                           "stored", (json_int_t)p->stored,
		                           "committed", jopt(p->committed), "lag", jopt(p->lag)))) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static json_t *status_chart(const struct oplog_metrics_sample *hist, size_t n_hist, int64_t now,
                            int64_t interval_ms)
{
	int64_t end = n_hist ? hist[n_hist - 1].ms : now;
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < n_hist; i++) {
		if (!append(arr, json_pack("{s:f,s:o,s:f}",
		                           "age_s", (double)(end - hist[i].ms) / 1000.0,
		                           "lag", jopt(hist[i].lag), "rate", hist[i].rate))) {
			json_decref(arr);
			return NULL;
		}
	}
	return json_pack("{s:I,s:o}", "interval_s", (json_int_t)(interval_ms / 1000), "samples", arr);
}

static json_t *status_gaps(const struct oplog_metrics_snapshot *s)
{
	uint64_t gap_nodes;
	size_t n_gap = gap_datasets(s, &gap_nodes), shown = 0;
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < s->n_datasets && shown < MAX_GAP_ROWS; i++) {
		const struct oplog_metrics_dataset *d = &s->datasets[i];
		char *hex;
		int ok;

		if (!d->with_gaps)
			continue;
		shown++;
		if (!(hex = malloc(2 * d->name_len + 1))) {
			json_decref(arr);
			return NULL;
		}
		oplog_hex(d->name, d->name_len, hex);
		ok = append(arr, json_pack("{s:o,s:s,s:I,s:I}", "dataset", jtext(d->name, d->name_len),
		                           "dataset_hex", hex, "nodes", (json_int_t)d->nodes,
		                           "with_gaps", (json_int_t)d->with_gaps));
		free(hex);
		if (!ok) {
			json_decref(arr);
			return NULL;
		}
	}
	return json_pack("{s:I,s:I,s:I,s:o}", "nodes", (json_int_t)gap_nodes,
	                 "datasets", (json_int_t)n_gap, "datasets_total", (json_int_t)s->n_datasets,
	                 "listed", arr);
}

/* The last rejects, newest first. */
static json_t *status_rejects(const struct oplog_metrics_snapshot *s)
{
	json_t *arr = json_array();

	for (size_t i = s->n_rejects; arr && i-- > 0;) {
		const struct oplog_metrics_reject *r = &s->rejects[i];
		char t[OPLOG_TIME_ISO_MAX];

		if (!append(arr, json_pack("{s:I,s:I,s:o,s:o,s:o,s:o,s:I,s:o}",
		                           "id", (json_int_t)r->id, "time_ms", (json_int_t)r->time_ms,
		                           "time", oplog_time_iso(r->time_ms, t) ? json_null()
		                                                                 : json_string(t),
		                           "source", jstr(r->source), "reason", jstr(r->reason),
		                           "field", *r->field ? jstr(r->field) : json_null(),
		                           "size", (json_int_t)r->size, "detail", jstr(r->detail)))) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static json_t *status_doc(const struct oplog_metrics_snapshot *s, int64_t now, int healthy,
                          const char *why, const struct oplog_metrics_sample *hist,
                          size_t n_hist, int64_t interval_ms)
{
	size_t unknown;
	int64_t lag = lag_sum(s, &unknown);

	/* json_pack takes every "o" value, and fails on a NULL one. */
	return json_pack("{s:s,s:I,s:o,s:o,s:o,s:b,s:o,s:o,s:o,s:I,s:I,s:o,s:o,s:o,s:o}",
	                 "version", OPLOG_VERSION,
	                 "uptime_s", (json_int_t)((now - s->started_ms) / 1000),
	                 "store", jstr(s->store_path), "group", jstr(s->group),
	                 "bootstrap", jstr(s->bootstrap), "healthy", healthy,
	                 "why", jstr(healthy ? NULL : why), "broker_error", jstr(s->broker_error),
	                 "totals", status_totals(s), "lag", (json_int_t)lag,
	                 "lag_unknown", (json_int_t)unknown, "partitions", status_partitions(s),
	                 "chart", status_chart(hist, n_hist, now, interval_ms),
	                 "gaps", status_gaps(s), "rejects", status_rejects(s));
}

int oplog_metrics_status_json(const struct oplog_metrics_snapshot *snap, int64_t now_ms,
                              int healthy, const char *why,
                              const struct oplog_metrics_sample *hist, size_t n_hist,
                              int64_t interval_ms, char **out, size_t *len)
{
	json_t *doc = status_doc(snap, now_ms, healthy, why, hist, n_hist, interval_ms);

	*out = NULL;
	*len = 0;
	if (!doc || !(*out = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER))) {
		json_decref(doc);
		return oplog_error__set(OPLOG_ENOMEM, "out of memory");
	}
	json_decref(doc);
	*len = strlen(*out);
	return 0;
}
