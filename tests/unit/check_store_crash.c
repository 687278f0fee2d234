/*
 * check_store_crash.c: a writer killed with SIGKILL in the middle of a
 * large batch loses that batch and nothing else.
 *
 * A child process applies a few committed batches, reporting each commit
 * on a pipe, then starts one very large batch; the parent kills it at a
 * fixed delay after it reports the start. The reopened store must hold
 * exactly the committed batches (entries and offsets), verify clean, and
 * take new batches.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "util_store.h"

#define DS          "crash"
#define NODE        "n"
#define COMMITTED   4        /* batches committed before the big one */
#define PER_BATCH   500
#define BIG         1000000  /* entries in the batch that gets killed */
#define MSG_START   'S'
#define MSG_DONE    'D'

/* Kill points, in ms after the child says the big apply has started. */
static const int kill_ms[3] = { 5, 120, 400 };

/*
 * Entries seq first..first+n-1 of NODE, chained from prev. Keys repeat
 * over 64 documents so that the big batch stays mostly oplog, not docs.
 */
static int build(struct util_entry *out, size_t n, uint64_t first, const uint8_t *prev)
{
	char key[16], data[32];
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		uint64_t seq = first + i;

		snprintf(key, sizeof(key), "k%u", (unsigned)(seq % 64));
		snprintf(data, sizeof(data), "payload-%llu", (unsigned long long)seq);
		rc = util_entry_build(&out[i], DS, NODE, seq, 1000000 + seq, 0, "c", key,
		                      OPLOG_OP_PUT, data, i ? out[i - 1].hash : prev);
		if (rc)
			return rc;
	}
	return 0;
}

static int apply_batch(struct oplog_store *s, struct util_entry *es, size_t n,
                       int64_t next_offset)
{
	struct oplog_batch *b = NULL;
	size_t i;
	int rc = oplog_batch_new(&b);

	for (i = 0; rc == 0 && i < n; i++)
		rc = oplog_batch_add(b, es[i].msg, es[i].len, &es[i].e);
	if (rc == 0)
		rc = oplog_batch_offset(b, "oplog", 0, next_offset);
	if (rc == 0)
		rc = oplog_store_apply(s, b, NULL);
	oplog_batch_free(b);
	return rc;
}

/* The store's write mode in loop run _i: plain, then MDB_WRITEMAP. */
#define MODE_FLAGS(i) ((i) >= 3 ? OPLOG_STORE_WRITEMAP : 0u)

/* The writer. Never returns; exit codes >= 10 name what failed. */
static void writer(int fd, unsigned flags)
{
	struct util_entry *es = calloc((size_t)COMMITTED * PER_BATCH + BIG, sizeof(*es));
	struct oplog_store *s = NULL;
	size_t total = (size_t)COMMITTED * PER_BATCH;
	char c;
	int i;

	if (!es || util_store_open(&s, util_dir, 0, 0, flags) != 0)
		_exit(10);
	if (build(es, total, 1, NULL) != 0)
		_exit(11);
	for (i = 0; i < COMMITTED; i++) {
		if (apply_batch(s, es + (size_t)i * PER_BATCH, PER_BATCH,
		                (int64_t)(i + 1) * PER_BATCH) != 0)
			_exit(12);
		c = (char)('1' + i);
		if (write(fd, &c, 1) != 1)
			_exit(13);
	}
	if (build(es + total, BIG, total + 1, es[total - 1].hash) != 0)
		_exit(14);
	c = MSG_START;
	if (write(fd, &c, 1) != 1)
		_exit(15);
	if (apply_batch(s, es + total, BIG, (int64_t)(total + BIG)) != 0)
		_exit(16);
	c = MSG_DONE;
	if (write(fd, &c, 1) != 1)
		_exit(17);
	/* Wait for the kill; exiting would look like a too-late kill point. */
	for (;;)
		pause();
}

/* Read one byte from fd within timeout_ms: the byte, or -1. */
static int read_byte(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	if (read(fd, &c, 1) != 1)
		return -1;
	return (unsigned char)c;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

START_TEST(test_crash__kill_during_large_batch_keeps_only_committed_batches)
{
	const uint64_t committed = (uint64_t)COMMITTED * PER_BATCH;
	struct util_entry more[100];
	struct util_node n;
	int fds[2], status = 0, i, b;
	int64_t next = 0;
	pid_t pid;

	oplog_store_close(util_s);
	util_s = NULL;
	ck_assert(pipe(fds) == 0);
	pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		writer(fds[1], MODE_FLAGS(_i));
	}
	close(fds[1]);
	for (i = 0; i < COMMITTED; i++) {
		b = read_byte(fds[0], 60000);
		ck_assert_msg(b == '1' + i, "writer reported %d for batch %d", b, i + 1);
	}
	b = read_byte(fds[0], 60000);
	ck_assert_msg(b == MSG_START, "writer reported %d instead of the start", b);
	sleep_ms(kill_ms[_i % 3]);
	ck_assert(kill(pid, SIGKILL) == 0);
	ck_assert(waitpid(pid, &status, 0) == pid);
	b = read_byte(fds[0], 0);
	close(fds[0]);
	ck_assert_msg(b != MSG_DONE, "the big batch committed before the kill at %d ms: "
	              "the kill point is too late for this machine", kill_ms[_i % 3]);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	              "writer ended with status %d, not by the kill", status);

	/* Exactly the committed batches, their offset, a clean store. */
	UTIL_OK(util_store_open(&util_s, util_dir, 0, 0, MODE_FLAGS(_i)));
	UTIL_EQ(util_entry_count(util_s), committed);
	UTIL_OK(oplog_store_offset(util_s, "oplog", 0, &next));
	UTIL_EQ(next, committed);
	UTIL_OK(util_node_get(util_s, DS, NODE, &n));
	UTIL_EQ(n.head_seq, committed);
	UTIL_EQ(n.watermark, committed);
	UTIL_CONSISTENT(util_s);

	/* And the store goes on where the committed batches ended. */
	{
		struct util_list l = { 0 };

		UTIL_OK(oplog_store_scan_seq(util_s, util_sl(DS), util_sl(NODE), committed, committed,
		                             1, util_list_cb, &l));
		UTIL_EQ(l.n, 1);
		memset(more, 0, sizeof(more));
		UTIL_OK(build(more, 100, committed + 1, l.items[0].hash));
		util_list_free(&l);
	}
	UTIL_OK(apply_batch(util_s, more, 100, (int64_t)committed + 100));
	UTIL_EQ(util_entry_count(util_s), committed + 100);
	UTIL_OK(util_node_get(util_s, DS, NODE, &n));
	UTIL_EQ(n.watermark, committed + 100);
	UTIL_OK(oplog_store_offset(util_s, "oplog", 0, &next));
	UTIL_EQ(next, committed + 100);
	UTIL_CONSISTENT(util_s);
	util_entries_free(more, 100);
}
END_TEST

static Suite *crash_suite(void)
{
	Suite *s = suite_create("store_crash");
	TCase *t = util_store_tcase(s, "kill9", 60);

	tcase_add_loop_test(t, test_crash__kill_during_large_batch_keeps_only_committed_batches,
	                    0, 6);
	return s;
}

int main(void)
{
	return util_suite_run(crash_suite());
}
