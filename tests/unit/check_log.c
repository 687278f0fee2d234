/*
 * check_log.c: the logger's lines on stderr: timestamp, level and message,
 * or, when stderr is journald's stream (JOURNAL_STREAM names it), the
 * syslog priority first and no timestamp.
 */
#include <check.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oplog/log.h"

static char tmpdir[64], path[128], text[4096];
static int saved_fd = -1;

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_log.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/stderr", tmpdir);
	unsetenv("JOURNAL_STREAM");
}

static void teardown(void)
{
	unlink(path);
	rmdir(tmpdir);
	unsetenv("JOURNAL_STREAM");
	oplog_log_setup(OPLOG_LOG_INFO, OPLOG_LOG_TEXT);
}

/* stderr to a fresh file (path), as systemd would connect it. */
static void capture(void)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	fflush(stderr);
	saved_fd = dup(2);
	ck_assert_int_ge(saved_fd, 0);
	ck_assert_int_eq(dup2(fd, 2), 2);
	close(fd);
}

/* stderr back; the captured lines in text. */
static const char *captured(void)
{
	FILE *f;
	size_t n;

	fflush(stderr);
	ck_assert_int_eq(dup2(saved_fd, 2), 2);
	close(saved_fd);
	saved_fd = -1;
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

/* JOURNAL_STREAM naming the file stderr now is (dev_delta 1: another). */
static void journal_stream_is_stderr(int dev_delta)
{
	struct stat st;
	char v[64];

	ck_assert_int_eq(fstat(2, &st), 0);
	snprintf(v, sizeof(v), "%ju:%ju", (uintmax_t)st.st_dev + (uintmax_t)dev_delta,
	         (uintmax_t)st.st_ino);
	setenv("JOURNAL_STREAM", v, 1);
}

static void log_three(enum oplog_log_format format)
{
	oplog_log_setup(OPLOG_LOG_INFO, format);
	oplog_log(OPLOG_LOG_DEBUG, "not written");
	oplog_log(OPLOG_LOG_INFO, "started %d", 1);
	oplog_log(OPLOG_LOG_WARN, "kafka: down");
	oplog_log(OPLOG_LOG_ERROR, "failed");
}

START_TEST(test_log__plain_lines_have_a_timestamp)
{
	const char *t;

	capture();
	log_three(OPLOG_LOG_TEXT);
	t = captured();
	ck_assert_msg(strchr(t, '<') == NULL, "a priority without JOURNAL_STREAM: %s", t);
	ck_assert_msg(strstr(t, "Z info  started 1\n") != NULL, "%s", t);
	ck_assert_msg(strstr(t, "Z warn  kafka: down\n") != NULL, "%s", t);
	ck_assert_msg(strstr(t, "Z error failed\n") != NULL, "%s", t);
	ck_assert_msg(strncmp(t, "20", 2) == 0, "no timestamp first: %s", t);
}
END_TEST

START_TEST(test_log__journal_lines_carry_their_priority)
{
	const char *t;

	capture();
	journal_stream_is_stderr(0);
	log_three(OPLOG_LOG_TEXT);
	t = captured();
	ck_assert_str_eq(t, "<6>info  started 1\n<4>warn  kafka: down\n<3>error failed\n");
}
END_TEST

START_TEST(test_log__journal_debug_is_priority_7)
{
	capture();
	journal_stream_is_stderr(0);
	oplog_log_setup(OPLOG_LOG_DEBUG, OPLOG_LOG_TEXT);
	oplog_log(OPLOG_LOG_DEBUG, "consumed");
	ck_assert_str_eq(captured(), "<7>debug consumed\n");
}
END_TEST

START_TEST(test_log__journal_json_keeps_its_fields)
{
	const char *t;

	capture();
	journal_stream_is_stderr(0);
	oplog_log_setup(OPLOG_LOG_INFO, OPLOG_LOG_JSON);
	oplog_log(OPLOG_LOG_WARN, "kafka: down");
	t = captured();
	ck_assert_msg(strncmp(t, "<4>{\"ts\":\"20", 12) == 0, "%s", t);
	ck_assert_msg(strstr(t, "\"level\":\"warn\",\"msg\":\"kafka: down\"}\n") != NULL, "%s", t);
}
END_TEST

/* A stderr redirected away from the journal (another file) gets the
 * plain lines, and so does a JOURNAL_STREAM that is not DEV:INO. */
START_TEST(test_log__other_stream_gets_plain_lines)
{
	const char *t;

	capture();
	journal_stream_is_stderr(1);
	log_three(OPLOG_LOG_TEXT);
	t = captured();
	ck_assert_msg(strchr(t, '<') == NULL && strstr(t, "Z warn  kafka: down\n"), "%s", t);

	capture();
	setenv("JOURNAL_STREAM", "journal", 1);
	log_three(OPLOG_LOG_TEXT);
	t = captured();
	ck_assert_msg(strchr(t, '<') == NULL && strstr(t, "Z info  started 1\n"), "%s", t);
}
END_TEST

static void add(Suite *s, const char *name, const TTest *test)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test);
	suite_add_tcase(s, tc);
}

int main(void)
{
	Suite *s = suite_create("log");
	SRunner *sr;
	int failed;

	add(s, "plain", test_log__plain_lines_have_a_timestamp);
	add(s, "journal", test_log__journal_lines_carry_their_priority);
	add(s, "journal_debug", test_log__journal_debug_is_priority_7);
	add(s, "journal_json", test_log__journal_json_keeps_its_fields);
	add(s, "other_stream", test_log__other_stream_gets_plain_lines);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
