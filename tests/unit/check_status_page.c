/*
 * check_status_page.c: the status page and /status.json
 * (oplog_metrics_status_html, oplog_metrics_status_json) from hand-made
 * snapshots: what they show, escaping of names from the stream, the chart.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "oplog/metrics.h"
#include "oplog/version.h"

/* A dataset named with HTML metacharacters and a byte that is not UTF-8,
 * a topic with '&', a reject whose detail holds a tag. */
static struct oplog_metrics_partition parts[] = {
	{ "t&p", 0, 5, 100, 105, 100 },
	{ "t&p", 1, -1, -1, -1, 7 },
};
static struct oplog_metrics_dataset datasets[] = {
	{ (uint8_t *)"<b>x\xff\"", 6, 4, 2, 0 },
	{ (uint8_t *)"clean", 5, 3, 0, 0 },
};
static struct oplog_metrics_reject rejects[] = {
	{ 1, 1700000000000, 10, "t&p/0/3", "malformed", "", "old" },
	{ 2, 1700000001000, 20, "t&p/0/9", "bad_type", "seq", "<script>alert(1)</script>" },
};

static struct oplog_metrics_snapshot snapshot(void)
{
	struct oplog_metrics_snapshot s;

	memset(&s, 0, sizeof(s));
	s.parts = parts;
	s.n_parts = 2;
	s.datasets = datasets;
	s.n_datasets = 2;
	s.rejects = rejects;
	s.n_rejects = 2;
	s.started_ms = 1000;
	s.taken_ms = 61000;
	s.store_path = "/var/lib/oplogd/<store>";
	s.group = "g";
	s.st.intake.messages = 1234;
	s.st.intake.rejected = 2;
	s.rejects_kept = 2;
	return s;
}

static char *html(const struct oplog_metrics_snapshot *s, const struct oplog_metrics_sample *h,
                  size_t n)
{
	char *out = NULL;
	size_t len = 0;

	ck_assert_int_eq(oplog_metrics_status_html(s, 61000, 0, "stalled <loop>", h, n, 10000, &out,
	                                           &len), 0);
	ck_assert_uint_eq(strlen(out), len);
	return out;
}

START_TEST(test_status__html_escapes_every_name_and_text)
{
	struct oplog_metrics_snapshot s = snapshot();
	char *page = html(&s, NULL, 0);

	ck_assert_ptr_nonnull(strstr(page, "&lt;b&gt;x<span class=\"raw\">\\xff</span>&quot;"));
	ck_assert_ptr_null(strstr(page, "<b>x"));
	ck_assert_ptr_nonnull(strstr(page, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	ck_assert_ptr_null(strstr(page, "<script"));
	ck_assert_ptr_nonnull(strstr(page, "t&amp;p"));
	ck_assert_ptr_nonnull(strstr(page, "/var/lib/oplogd/&lt;store&gt;"));
	ck_assert_ptr_nonnull(strstr(page, "unhealthy: stalled &lt;loop&gt;"));
	free(page);
}
END_TEST

START_TEST(test_status__html_shows_partitions_gaps_and_rejects_newest_first)
{
	struct oplog_metrics_snapshot s = snapshot();
	char *page = html(&s, NULL, 0), *newer, *older;

	ck_assert_ptr_nonnull(strstr(page, "id=\"version\">" OPLOG_VERSION "<"));
	ck_assert_ptr_nonnull(strstr(page, "<td class=\"n\">105</td><td class=\"n\">100</td>"
	                                   "<td class=\"n\">100</td><td class=\"n lag lagging\" "
	                                   "data-lag=\"5\">5</td>"));
	ck_assert_ptr_nonnull(strstr(page, "data-lag=\"\">unknown</td>"));
	ck_assert_ptr_nonnull(strstr(page, "id=\"lag-total\" data-lag=\"5\">5 + unknown<"));
	/* Only the dataset with gaps is listed. */
	ck_assert_ptr_null(strstr(page, ">clean<"));
	ck_assert_ptr_nonnull(strstr(page, "2 nodes with a missing seq below the head, in 1 of 2"));
	newer = strstr(page, "<tr class=\"reject\"><td class=\"n\">2</td>");
	older = strstr(page, "<tr class=\"reject\"><td class=\"n\">1</td>");
	ck_assert_ptr_nonnull(newer);
	ck_assert_ptr_nonnull(older);
	ck_assert(newer < older);
	ck_assert_ptr_nonnull(strstr(page, "2023-11-14T22:13:21.000Z"));
	free(page);
}
END_TEST

/* The path of the chart with id, as drawn. */
static char *path_of(const char *page, const char *id)
{
	const char *fig = strstr(page, id), *d, *end;

	ck_assert_ptr_nonnull(fig);
	d = strstr(fig, "d=\"");
	ck_assert_ptr_nonnull(d);
	d += 3;
	end = strchr(d, '"');
	return strndup(d, (size_t)(end - d));
}

START_TEST(test_status__chart_breaks_at_unknown_lag_and_keeps_an_hour)
{
	struct oplog_metrics_snapshot s = snapshot();
	/* Ends at 4 000 000: the first is more than an hour before. */
	struct oplog_metrics_sample h[] = {
		{ 300000, 50, 1 }, { 3000000, 40, 2 }, { 3010000, 30, 3 },
		{ 3020000, -1, 4 }, { 3990000, 20, 5 }, { 4000000, 0, 10 },
	};
	char *page = html(&s, h, 6), *lag = path_of(page, "\"chart-lag\""),
	     *rate = path_of(page, "\"chart-rate\"");

	/* Lag: two runs of two points, split where it was unknown. */
	ck_assert_int_eq(lag[0], 'M');
	ck_assert_ptr_nonnull(strstr(lag, " M"));
	ck_assert_ptr_null(strstr(strstr(lag, " M") + 2, " M"));
	ck_assert_ptr_nonnull(strstr(lag, " L"));
	/* Rate: one run of the five points within the hour; the newest at
	 * the right end (x = 550), the highest at the top (y = 8). */
	ck_assert_ptr_null(strstr(rate, " M"));
	ck_assert_str_eq(rate + strlen(rate) - 9, "550.0 8.0");
	free(lag);
	free(rate);
	free(page);
}
END_TEST

START_TEST(test_status__json_carries_the_same_data)
{
	struct oplog_metrics_snapshot s = snapshot();
	struct oplog_metrics_sample h[] = { { 50000, -1, 0 }, { 60000, 5, 12.5 } };
	char *out = NULL;
	size_t len = 0;
	json_t *doc, *p1, *r0, *g0;
	json_error_t e;

	ck_assert_int_eq(oplog_metrics_status_json(&s, 61000, 1, NULL, h, 2, 10000, &out, &len), 0);
	doc = json_loadb(out, len, 0, &e);
	ck_assert_msg(doc != NULL, "%s: %s", e.text, out);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "version")), OPLOG_VERSION);
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "uptime_s")), 60);
	ck_assert(json_is_true(json_object_get(doc, "healthy")));
	ck_assert(json_is_null(json_object_get(doc, "why")));
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "lag")), 5);
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "lag_unknown")), 1);
	p1 = json_array_get(json_object_get(doc, "partitions"), 1);
	ck_assert(json_is_null(json_object_get(p1, "lag")));
	ck_assert(json_is_null(json_object_get(p1, "high")));
	ck_assert_int_eq(json_integer_value(json_object_get(p1, "stored")), 7);
	g0 = json_array_get(json_object_get(json_object_get(doc, "gaps"), "listed"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(g0, "dataset")), "<b>x\xef\xbf\xbd\"");
	ck_assert_str_eq(json_string_value(json_object_get(g0, "dataset_hex")), "3c623e78ff22");
	ck_assert_uint_eq(json_array_size(json_object_get(json_object_get(doc, "gaps"), "listed")),
	                  1);
	r0 = json_array_get(json_object_get(doc, "rejects"), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(r0, "id")), 2);
	ck_assert_str_eq(json_string_value(json_object_get(r0, "field")), "seq");
	ck_assert(json_is_null(json_object_get(json_array_get(json_object_get(doc, "rejects"), 1),
	                                       "field")));
	ck_assert(json_is_null(json_object_get(
		json_array_get(json_object_get(json_object_get(doc, "chart"), "samples"), 0), "lag")));
	json_decref(doc);
	free(out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("status_page");
	TCase *t = tcase_create("render");
	SRunner *sr;
	int failed;

	tcase_add_test(t, test_status__html_escapes_every_name_and_text);
	tcase_add_test(t, test_status__html_shows_partitions_gaps_and_rejects_newest_first);
	tcase_add_test(t, test_status__chart_breaks_at_unknown_lag_and_keeps_an_hour);
	tcase_add_test(t, test_status__json_carries_the_same_data);
	suite_add_tcase(s, t);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
