/*
 * map.c: the store's suite, the map: growth, map full, and several
 * processes reading and writing one store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "util_store.h"
#include "store/tcases.h"

/* ------------------------------------------------------------------ */
/* Map growth and map full                                             */

#define BIG_BODY (16u << 10)

static struct util_entry *big_chain_ds(const char *ds, const char *node, size_t n,
                                       uint64_t first_seq, const uint8_t *prev)
{
	struct util_entry *es = calloc(n, sizeof(*es));
	struct util_spec sp;
	uint8_t *body = malloc(BIG_BODY);
	size_t i, j;
	uint64_t x = 0x9e3779b97f4a7c15ull ^ first_seq;

	UTIL_CHECK(es && body);
	for (i = 0; i < n; i++) {
		char key[32];

		/* Incompressible bodies, so that sizes are what they seem. */
		for (j = 0; j < BIG_BODY; j++) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			body[j] = (uint8_t)x;
		}
		snprintf(key, sizeof(key), "big%zu", (size_t)(first_seq + i));
		memset(&sp, 0, sizeof(sp));
		sp.ds = util_sl(ds);
		sp.node = util_sl(node);
		sp.seq = first_seq + i;
		sp.wall = 1000 + sp.seq;
		sp.col = util_sl("c");
		sp.key = util_sl(key);
		sp.op = OPLOG_OP_PUT;
		sp.data.ptr = body;
		sp.data.len = BIG_BODY;
		sp.prev = i ? es[i - 1].hash : prev;
		UTIL_OK(util_entry_make(&es[i], &sp));
	}
	free(body);
	return es;
}

static struct util_entry *big_chain(const char *node, size_t n, uint64_t first_seq,
                                    const uint8_t *prev)
{
	return big_chain_ds(UTIL_DS, node, n, first_seq, prev);
}

START_TEST(test_map__grows_from_1mib_for_20mib_of_entries)
{
	struct util_entry *a, *b;
	struct oplog_apply_stats st;
	struct oplog_stats s;
	size_t n = 640;   /* 640 x 16 KiB = 10 MiB per batch */

	oplog_store_close(util_s);
	util_s = NULL;
	UTIL_OK(util_store_open(&util_s, util_dir, 1u << 20, 256u << 20, OPLOG_STORE_NOSYNC));
	s = util_stats();
	UTIL_CHECK(s.map_size <= (2u << 20));
	a = big_chain("n", n, 1, NULL);
	b = big_chain("n", n, n + 1, a[n - 1].hash);
	UTIL_OK(util_apply_array(util_s, a, n, &st));
	UTIL_EQ(st.applied, n);
	UTIL_OK(util_apply_array(util_s, b, n, &st));
	UTIL_EQ(st.applied, n);
	s = util_stats();
	UTIL_EQ(s.entries, 2 * n);
	/* Retries after growing count nothing twice. */
	UTIL_EQ(s.applied, 2 * n);
	UTIL_EQ(s.late, 0);
	UTIL_EQ(s.duplicates, 0);
	UTIL_CHECK(s.map_size >= (20u << 20));
	UTIL_CHECK(s.store_bytes >= (20u << 20));
	{
		struct util_node nd;

		UTIL_OK(util_node_get(util_s, UTIL_DS, "n", &nd));
		UTIL_EQ(nd.watermark, 2 * n);
	}
	UTIL_CONSISTENT(util_s);
	util_reopen();
	UTIL_EQ(util_stats().entries, 2 * n);
	util_entries_free(a, n);
	util_entries_free(b, n);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_map__full_batch_applies_nothing_and_store_goes_on)
{
	struct util_entry *small, *big, *after;
	struct oplog_batch *bt = NULL;
	struct oplog_apply_stats st;
	int64_t next = 0;
	char *before, *now;
	struct oplog_stats s0, s1;
	size_t nbig = 256;   /* 4 MiB: more than max_size */

	oplog_store_close(util_s);
	util_s = NULL;
	UTIL_OK(util_store_open(&util_s, util_dir, 1u << 20, 2u << 20, 0));
	small = big_chain("n", 5, 1, NULL);
	/* Names first seen in the failed batch: their ids must not survive. */
	big = big_chain_ds("fresh", "new-node", nbig, 1, NULL);
	after = big_chain_ds("fresh", "new-node", 5, 1, NULL);

	UTIL_OK(oplog_batch_new(&bt));
	for (size_t i = 0; i < 5; i++)
		UTIL_OK(oplog_batch_add(bt, small[i].msg, small[i].len, &small[i].e));
	UTIL_OK(oplog_batch_offset(bt, "t", 0, 5));
	UTIL_OK(oplog_store_apply(util_s, bt, &st));
	before = util_store_render(util_s);
	UTIL_CHECK(before != NULL);

	oplog_batch_clear(bt);
	for (size_t i = 0; i < nbig; i++)
		UTIL_OK(oplog_batch_add(bt, big[i].msg, big[i].len, &big[i].e));
	UTIL_OK(oplog_batch_offset(bt, "t", 0, 999));
	{
		struct oplog_reject rej;

		memset(&rej, 0, sizeof(rej));
		rej.reason = OPLOG_R_MALFORMED;
		UTIL_OK(oplog_batch_reject(bt, "t/0/7", "junk", 4, &rej));
	}
	s0 = util_stats();
	UTIL_RC(oplog_store_apply(util_s, bt, &st), OPLOG_EMAPFULL);
	s1 = util_stats();
	UTIL_EQ(s1.entries, 5);
	UTIL_EQ(s1.datasets, 1);
	UTIL_EQ(s1.nodes, s0.nodes);
	UTIL_EQ(s1.applied, s0.applied);
	UTIL_EQ(s1.rejects_kept, 0);
	UTIL_EQ(s1.rejected[OPLOG_R_MALFORMED], 0);
	UTIL_OK(oplog_store_offset(util_s, "t", 0, &next));
	UTIL_EQ(next, 5);
	now = util_store_render(util_s);
	UTIL_CHECK(now != NULL);
	ck_assert_msg(strcmp(before, now) == 0, "state changed by a failed batch: %s",
	              util_first_diff(before, now));
	free(now);

	/* The store still takes a batch that fits. */
	oplog_batch_clear(bt);
	for (size_t i = 0; i < 5; i++)
		UTIL_OK(oplog_batch_add(bt, after[i].msg, after[i].len, &after[i].e));
	UTIL_OK(oplog_batch_offset(bt, "t", 0, 10));
	UTIL_OK(oplog_store_apply(util_s, bt, &st));
	UTIL_EQ(st.applied, 5);
	UTIL_EQ(util_stats().entries, 10);
	UTIL_EQ(util_stats().datasets, 2);
	{
		struct util_node nd;

		UTIL_OK(util_node_get(util_s, "fresh", "new-node", &nd));
		UTIL_EQ(nd.head_seq, 5);
		UTIL_EQ(nd.watermark, 5);
		UTIL_RC(util_node_get(util_s, UTIL_DS, "new-node", &nd), OPLOG_ENOTFOUND);
	}
	UTIL_OK(oplog_store_offset(util_s, "t", 0, &next));
	UTIL_EQ(next, 10);
	UTIL_CONSISTENT(util_s);

	free(before);
	oplog_batch_free(bt);
	util_entries_free(small, 5);
	util_entries_free(big, nbig);
	util_entries_free(after, 5);
	free(small);
	free(big);
	free(after);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Reading while another process writes                                */

#define RW_BATCHES 40
#define RW_PER     100

static int count_cb(const struct oplog_entry *e, const void *msg, size_t len, void *arg)
{
	(void)e; (void)msg; (void)len;
	(*(uint64_t *)arg)++;
	return 0;
}

static int count_node_cb(const struct oplog_node_info *n, void *arg)
{
	(void)n;
	(*(uint64_t *)arg)++;
	return 0;
}

/* The writer: RW_BATCHES batches of RW_PER entries over 4 nodes. */
static void rw_child(int ready_fd)
{
	static const char *nodes[4] = { "w0", "w1", "w2", "w3" };
	struct util_entry *es = calloc(RW_BATCHES * RW_PER, sizeof(*es));
	struct oplog_store *s = NULL;
	size_t b, i;
	int rc = 0;
	char c = 'r';

	if (!es || util_store_open(&s, util_dir, 0, 0, 0) != 0)
		_exit(10);
	for (i = 0; i < 4 && rc == 0; i++)
		rc = util_chain_build(&es[i * (RW_BATCHES * RW_PER / 4)], RW_BATCHES * RW_PER / 4,
		                      UTIL_DS, nodes[i], 1, NULL, 1000 + i);
	if (rc)
		_exit(11);
	if (write(ready_fd, &c, 1) != 1)
		_exit(12);
	close(ready_fd);
	for (b = 0; b < RW_BATCHES; b++) {
		struct util_entry *batch[RW_PER];

		/* Interleave the nodes so every batch touches all four. */
		for (i = 0; i < RW_PER; i++) {
			size_t k = b * RW_PER + i;
			batch[i] = &es[(k % 4) * (RW_BATCHES * RW_PER / 4) + k / 4];
		}
		if (util_apply(s, batch, RW_PER, NULL) != 0)
			_exit(13);
	}
	oplog_store_close(s);
	util_entries_free(es, RW_BATCHES * RW_PER);
	free(es);
	_exit(0);
}

START_TEST(test_read__while_another_process_writes)
{
	struct oplog_store *r = NULL;
	int fds[2], status = 0;
	uint64_t prev = 0, reads = 0;
	pid_t pid;
	char c;

	oplog_store_close(util_s);
	util_s = NULL;
	UTIL_CHECK(pipe(fds) == 0);
	pid = fork();
	UTIL_CHECK(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		rw_child(fds[1]);
	}
	close(fds[1]);
	UTIL_CHECK(read(fds[0], &c, 1) == 1);
	close(fds[0]);
	UTIL_OK(util_store_open(&r, util_dir, 0, 0, 0));
	for (;;) {
		uint64_t n = 0, nodes = 0;
		struct oplog_stats st;
		pid_t w = waitpid(pid, &status, WNOHANG);

		UTIL_OK(oplog_store_scan(r, util_sl(UTIL_DS), NULL, 0, count_cb, &n));
		/* A batch is all or nothing, also to a reader. */
		ck_assert_msg(n % RW_PER == 0, "reader saw %llu entries: part of a batch",
		              (unsigned long long)n);
		UTIL_CHECK(n >= prev);
		prev = n;
		UTIL_OK(oplog_store_stats(r, &st));
		UTIL_CHECK(st.entries >= n);
		UTIL_OK(oplog_store_nodes(r, util_sl(UTIL_DS), count_node_cb, &nodes));
		UTIL_CHECK(nodes <= 4);
		if (reads % 8 == 0)
			UTIL_CONSISTENT(r);
		reads++;
		if (w == pid)
			break;
		UTIL_CHECK(w == 0);
	}
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer exit status %d", status);
	UTIL_EQ(util_entry_count(r), RW_BATCHES * RW_PER);
	UTIL_CONSISTENT(r);
	oplog_store_close(r);
}
END_TEST

/* In a forked writer: apply es[0..n) to s `per` entries a batch (n a
 * multiple of per), close s and free es; _exit(code) if a batch fails. */
static void child_apply_close(struct oplog_store *s, struct util_entry *es, size_t n,
                              size_t per, int code)
{
	size_t i;

	for (i = 0; i < n; i += per)
		if (util_apply_array(s, es + i, per, NULL) != 0)
			_exit(code);
	oplog_store_close(s);
	util_entries_free(es, n);
	free(es);
}

/* Two processes that both write, each growing the map in turn. */
static void grow_writer(const char *node, int go_fd, int done_fd)
{
	struct util_entry *es;
	struct oplog_store *s = NULL;
	size_t n = 120;
	char c;

	es = big_chain(node, n, 1, NULL);
	if (util_store_open(&s, util_dir, 1u << 20, 256u << 20, OPLOG_STORE_NOSYNC) != 0)
		_exit(20);
	if (read(go_fd, &c, 1) != 1)
		_exit(21);
	/* Small batches, so that both writers interleave and both grow. */
	child_apply_close(s, es, n, 4, 22);
	c = 'd';
	if (write(done_fd, &c, 1) != 1)
		_exit(23);
	_exit(0);
}

START_TEST(test_apply__two_writer_processes_both_growing_the_map)
{
	int go[2], done[2], status, k;
	pid_t pid[2];
	static const char *nodes[2] = { "p", "q" };
	char c = 'g';

	oplog_store_close(util_s);
	util_s = NULL;
	UTIL_CHECK(pipe(go) == 0 && pipe(done) == 0);
	for (k = 0; k < 2; k++) {
		pid[k] = fork();
		UTIL_CHECK(pid[k] >= 0);
		if (pid[k] == 0) {
			close(go[1]);
			close(done[0]);
			grow_writer(nodes[k], go[0], done[1]);
		}
	}
	close(go[0]);
	close(done[1]);
	UTIL_CHECK(write(go[1], &c, 1) == 1 && write(go[1], &c, 1) == 1);
	close(go[1]);
	for (k = 0; k < 2; k++) {
		UTIL_CHECK(waitpid(pid[k], &status, 0) == pid[k]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		              "writer %d ended with status %d", k, status);
	}
	close(done[0]);
	UTIL_OK(util_store_open(&util_s, util_dir, 0, 0, 0));
	UTIL_EQ(util_stats().entries, 240);
	UTIL_CONSISTENT(util_s);
}
END_TEST

/* A read-only reader opened on a small map while the writer grows it. */
START_TEST(test_read__rdonly_reader_follows_map_growth)
{
	struct oplog_store *r = NULL;
	struct util_entry *es;
	int fds[2], status = 0;
	size_t n = 400;
	uint64_t seen = 0, prev = 0;
	pid_t pid;
	char c;

	oplog_store_close(util_s);
	util_s = NULL;
	/* The store exists, at 1 MiB, before either process opens it. */
	UTIL_OK(util_store_open(&util_s, util_dir, 1u << 20, 256u << 20, 0));
	oplog_store_close(util_s);
	util_s = NULL;
	UTIL_CHECK(pipe(fds) == 0);
	pid = fork();
	UTIL_CHECK(pid >= 0);
	if (pid == 0) {
		struct oplog_store *w = NULL;

		close(fds[0]);
		es = big_chain("g", n, 1, NULL);
		if (util_store_open(&w, util_dir, 1u << 20, 256u << 20, OPLOG_STORE_NOSYNC) != 0)
			_exit(30);
		c = 'r';
		if (write(fds[1], &c, 1) != 1)
			_exit(31);
		child_apply_close(w, es, n, 10, 32);
		_exit(0);
	}
	close(fds[1]);
	UTIL_CHECK(read(fds[0], &c, 1) == 1);
	close(fds[0]);
	UTIL_OK(util_store_open(&r, util_dir, 1u << 20, 0, OPLOG_STORE_RDONLY));
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		seen = 0;
		UTIL_OK(oplog_store_scan(r, util_sl(UTIL_DS), NULL, 0, count_cb, &seen));
		UTIL_CHECK(seen % 10 == 0 && seen >= prev);
		prev = seen;
		if (w == pid)
			break;
		UTIL_CHECK(w == 0);
	}
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer exit status %d", status);
	UTIL_EQ(seen, n);
	UTIL_CHECK(util_stats_of(r).map_size >= (n * BIG_BODY));
	UTIL_CONSISTENT(r);
	oplog_store_close(r);
}
END_TEST

/* ------------------------------------------------------------------ */

void store_map_tcases(Suite *s)
{
	TCase *t;

	t = util_store_tcase(s, "map", 30);
	tcase_add_test(t, test_map__grows_from_1mib_for_20mib_of_entries);
	tcase_add_test(t, test_map__full_batch_applies_nothing_and_store_goes_on);

	t = util_store_tcase(s, "concurrency", 30);
	tcase_add_test(t, test_read__while_another_process_writes);
	tcase_add_test(t, test_read__rdonly_reader_follows_map_growth);
	tcase_add_test(t, test_apply__two_writer_processes_both_growing_the_map);
}
