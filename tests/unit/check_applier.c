/*
 * check_applier.c: the Kafka applier against librdkafka's mock cluster
 * (a Kafka-protocol broker set on loopback TCP, in this process), with a
 * real LMDB store on disk.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "oplog/applier.h"
#include "oplog/config.h"
#include "oplog/dump.h"
#include "oplog/error.h"
#include "oplog/gen.h"
#include "oplog/kafka.h"
#include "oplog/lag.h"
#include "oplog/log.h"
#include "oplog/metrics.h"
#include "oplog/version.h"
#include "oplog/store.h"
#include "util_store.h"

extern char **environ;

#define TOPIC      "oplog"
#define PARTITIONS 3

static rd_kafka_t *host;                 /* owns the mock cluster */
static rd_kafka_mock_cluster_t *mc;
static char bootstraps[256];
static char base[512];

static void setup(void)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[256];

	ck_assert(rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof(errstr)) == 0);
	host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	ck_assert_msg(host != NULL, "%s", errstr);
	mc = rd_kafka_mock_cluster_new(host, 3);
	ck_assert(mc != NULL);
	snprintf(bootstraps, sizeof(bootstraps), "%s", rd_kafka_mock_cluster_bootstraps(mc));
	ck_assert(rd_kafka_mock_topic_create(mc, TOPIC, PARTITIONS, 1) == 0);
	ck_assert(util_tmpdir(base, sizeof(base)) == 0);
	oplog_log_setup(getenv("APPLIER_LOG") ? OPLOG_LOG_DEBUG : OPLOG_LOG_WARN, 0);
}

static void teardown(void)
{
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(host);
	util_rmtree(base);
}

/* A generated stream with duplicates, late arrivals, forks and bad ones. */
static struct oplog_gen_msg *make_stream(uint64_t seed, size_t n, size_t *bad)
{
	struct oplog_gen_opts o;
	struct oplog_gen *g;
	struct oplog_gen_msg *ms = calloc(n, sizeof(*ms));

	oplog_gen_opts_init(&o);
	o.seed = seed;
	o.datasets = 2;
	o.nodes = 3;
	o.count = n;
	o.dup_rate = 0.05;
	o.late_rate = 0.1;
	o.bad_rate = 0.02;
	o.fork_rate = 0.01;
	ck_assert(ms != NULL && oplog_gen_new(&o, &g) == 0);
	*bad = 0;
	for (size_t i = 0; i < n; i++) {
		ck_assert(oplog_gen_next(g, &ms[i]) == 0);
		*bad += ms[i].kind == OPLOG_GEN_BAD;
	}
	oplog_gen_free(g);
	return ms;
}

static void free_stream(struct oplog_gen_msg *ms, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ms[i].data);
	free(ms);
}

/* Produce the stream to TOPIC, spread over its partitions. */
static void produce(const struct oplog_gen_msg *ms, size_t n)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[256];
	rd_kafka_t *p;

	ck_assert(rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, errstr,
	                            sizeof(errstr)) == 0);
	/* Its own reconnect messages while a broker is down are expected. */
	ck_assert(rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof(errstr)) == 0);
	p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	ck_assert_msg(p != NULL, "%s", errstr);
	for (size_t i = 0; i < n; i++) {
		rd_kafka_resp_err_t err;
		while ((err = rd_kafka_producev(p, RD_KAFKA_V_TOPIC(TOPIC),
		                                RD_KAFKA_V_PARTITION((int32_t)(i % PARTITIONS)),
		                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
		                                RD_KAFKA_V_VALUE(ms[i].data, ms[i].len),
		                                RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
			rd_kafka_poll(p, 10);
		ck_assert_msg(err == 0, "produce: %s", rd_kafka_err2str(err));
	}
	ck_assert(rd_kafka_flush(p, 30000) == 0);
	rd_kafka_destroy(p);
}

static struct oplog_config *config(const char *group)
{
	struct oplog_config *cfg;

	ck_assert(oplog_config_new(&cfg) == 0);
	ck_assert(oplog_config_set(cfg, "kafka.bootstrap.servers", bootstraps, "test") == 0);
	ck_assert(oplog_config_set(cfg, "kafka.group.id", group, "test") == 0);
	ck_assert(oplog_config_set(cfg, "kafka.log_level", "0", "test") == 0);
	/* A short session, so a group member that left is forgotten quickly. */
	ck_assert(oplog_config_set(cfg, "kafka.session.timeout.ms", "6000", "test") == 0);
	ck_assert(oplog_config_set(cfg, "kafka.heartbeat.interval.ms", "500", "test") == 0);
	ck_assert(oplog_config_set(cfg, "apply.topics", TOPIC, "test") == 0);
	ck_assert(oplog_config_set(cfg, "apply.batch_size", "200", "test") == 0);
	ck_assert(oplog_config_set(cfg, "apply.batch_ms", "20", "test") == 0);
	ck_assert(oplog_config_set(cfg, "apply.commit_interval", "100", "test") == 0);
	/* Several appliers run at once here: no endpoint on a fixed port. */
	ck_assert(oplog_config_set(cfg, "metrics.listen", "", "test") == 0);
	return cfg;
}

struct runner {
	struct oplog_applier          *a;
	volatile sig_atomic_t          stop;
	int                            rc;
	pthread_t                      thread;
};

static void *run_thread(void *arg)
{
	struct runner *r = arg;

	r->rc = oplog_applier_run(r->a, &r->stop);
	return NULL;
}

static int offsets_of(const char *topic, int32_t partition, int64_t next, void *arg)
{
	(void)topic;
	if (partition >= 0 && partition < PARTITIONS)
		((int64_t *)arg)[partition] = next;
	return 0;
}

/* `check_applier offsets DIR`: print the store's next offset per
 * partition, one line each ("0 0 0" when there is no store yet). */
static int print_offsets(const char *dir)
{
	int64_t v[PARTITIONS] = { 0 };
	struct oplog_store *s;

	if (util_store_open(&s, dir, 0, 0, OPLOG_STORE_RDONLY) == 0) {
		if (oplog_store_offsets(s, offsets_of, v) != 0)
			return 1;
		oplog_store_close(s);
	}
	for (int p = 0; p < PARTITIONS; p++)
		printf("%lld\n", (long long)v[p]);
	return fflush(stdout) == 0 ? 0 : 1;
}

/*
 * The store's next offset per partition (0 where it has none, or no
 * store yet), read by this program run again as another process. Not in
 * this one: LMDB must not have one environment open twice in a process
 * while an applier writes to it (a second open resets the shared lock
 * table under the running writer, and closing it drops the first one's
 * locks). Nor in a forked child, with the applier's threads running.
 */
static void store_offsets(const char *dir, int64_t out[PARTITIONS])
{
	char *argv[] = { "check_applier", "offsets", (char *)dir, NULL };
	posix_spawn_file_actions_t fa;
	int fd[2], status;
	pid_t pid;
	FILE *f;

	ck_assert(pipe(fd) == 0);
	ck_assert(posix_spawn_file_actions_init(&fa) == 0);
	ck_assert(posix_spawn_file_actions_adddup2(&fa, fd[1], 1) == 0);
	ck_assert(posix_spawn_file_actions_addclose(&fa, fd[0]) == 0);
	ck_assert(posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, environ) == 0);
	posix_spawn_file_actions_destroy(&fa);
	close(fd[1]);
	ck_assert((f = fdopen(fd[0], "r")) != NULL);
	for (int p = 0; p < PARTITIONS; p++) {
		long long v = -1;
		ck_assert_msg(fscanf(f, "%lld", &v) == 1, "reading the offsets of %s", dir);
		out[p] = v;
	}
	fclose(f);
	ck_assert(waitpid(pid, &status, 0) == pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* The sum of the store's next offsets: messages it has taken in, since
 * every partition here starts at offset 0. */
static int64_t consumed(const char *dir)
{
	int64_t o[PARTITIONS], sum = 0;

	store_offsets(dir, o);
	for (int p = 0; p < PARTITIONS; p++)
		sum += o[p];
	return sum;
}

/* Start an applier on dir in a thread; stop it with stop_runner(). */
static void start_runner(struct runner *r, const char *dir, const char *group,
                         struct oplog_config **cfg, struct oplog_store **s)
{
	*cfg = config(group);
	UTIL_OK(util_store_open(s, dir, 0, 0, 0));
	UTIL_OK(oplog_applier_new(&r->a, *cfg, *s));
	r->stop = 0;
	ck_assert(pthread_create(&r->thread, NULL, run_thread, r) == 0);
}

/* Stop it the way SIGTERM does; it must end cleanly. Returns its stats. */
static struct oplog_applier_stats stop_runner(struct runner *r, struct oplog_config *cfg,
                                              struct oplog_store *s)
{
	struct oplog_applier_stats st;

	r->stop = 1;
	ck_assert(pthread_join(r->thread, NULL) == 0);
	ck_assert_msg(r->rc == 0, "the applier failed: %s", oplog_error_last());
	oplog_applier_stats(r->a, &st);
	oplog_applier_free(r->a);
	oplog_store_close(s);
	oplog_config_free(cfg);
	return st;
}

/* Wait until the store has taken in at least `want` messages. */
static int wait_consumed(const char *dir, int64_t want, int secs)
{
	time_t deadline = time(NULL) + secs;

	while (consumed(dir) < want && time(NULL) < deadline)
		usleep(50 * 1000);
	return consumed(dir) >= want;
}

/* Run an applier on dir until the store has taken in `want` messages,
 * then stop it. Exactly `want`: nothing read twice. Returns its stats. */
static struct oplog_applier_stats run_until(const char *dir, const char *group, int64_t want)
{
	struct oplog_config *cfg;
	struct oplog_store *s;
	struct runner r;
	struct oplog_applier_stats st;

	start_runner(&r, dir, group, &cfg, &s);
	wait_consumed(dir, want, 60);
	st = stop_runner(&r, cfg, s);
	ck_assert_msg(consumed(dir) == want, "the store took in %lld messages, expected %lld",
	              (long long)consumed(dir), (long long)want);
	return st;
}

/* The store's dump, as a malloc'd string. */
static char *dump_of(const char *dir)
{
	struct oplog_store *s;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert(f != NULL);
	UTIL_OK(util_store_open(&s, dir, 0, 0, OPLOG_STORE_RDONLY));
	UTIL_OK(oplog_store_dump(s, f));
	oplog_store_close(s);
	fclose(f);
	return buf;
}

/* The same messages applied straight to a store, in one order. */
static void reference_store(const char *dir, const struct oplog_gen_msg *ms, size_t n)
{
	struct oplog_store *s;
	struct oplog_batch *b;

	UTIL_OK(util_store_open(&s, dir, 0, 0, 0));
	UTIL_OK(oplog_batch_new(&b));
	for (size_t i = 0; i < n; i++) {
		struct oplog_entry e;
		struct oplog_reject rej;
		if (oplog_entry_decode(ms[i].data, ms[i].len, 0, 0, &e, &rej) == 0)
			UTIL_OK(oplog_batch_add(b, ms[i].data, ms[i].len, &e));
	}
	UTIL_OK(oplog_store_apply(s, b, NULL));
	oplog_batch_free(b);
	oplog_store_close(s);
}

/* The store in dir must equal a direct import of the same messages. */
static void assert_same_as_direct_import(const char *dir, const struct oplog_gen_msg *ms,
                                         size_t n)
{
	char ref[600], *got, *want;

	snprintf(ref, sizeof(ref), "%s/reference", base);
	reference_store(ref, ms, n);
	got = dump_of(dir);
	want = dump_of(ref);
	ck_assert_msg(strcmp(got, want) == 0, "%s differs from a direct import", dir);
	free(got);
	free(want);
}

START_TEST(test_applier__stream_with_dups_late_and_bad_applies_exactly)
{
	size_t n = 3000, bad;
	struct oplog_gen_msg *ms = make_stream(11, n, &bad);
	char dir[600];
	struct oplog_applier_stats st;
	struct oplog_store *s;
	struct oplog_stats ss;

	snprintf(dir, sizeof(dir), "%s/replica", base);
	produce(ms, n);
	st = run_until(dir, "g1", (int64_t)n);
	ck_assert_uint_eq(st.intake.messages, n);
	ck_assert_uint_eq(st.intake.rejected, bad);
	ck_assert(st.commits > 0);

	assert_same_as_direct_import(dir, ms, n);
	UTIL_OK(util_store_open(&s, dir, 0, 0, OPLOG_STORE_RDONLY));
	UTIL_OK(oplog_store_stats(s, &ss));
	ck_assert_uint_eq(ss.rejects_kept, bad);
	ck_assert_int_eq(oplog_store_verify(s, NULL, NULL), 0);
	oplog_store_close(s);
	free_stream(ms, n);
}
END_TEST

START_TEST(test_applier__restart_resumes_from_the_store_without_rereading)
{
	size_t n = 1200, bad;
	struct oplog_gen_msg *ms = make_stream(12, 2 * n, &bad);
	struct oplog_applier_stats st;
	char dir[600];

	snprintf(dir, sizeof(dir), "%s/replica", base);
	produce(ms, n);
	st = run_until(dir, "g2", (int64_t)n);
	ck_assert_uint_eq(st.intake.messages, n);

	/* Stopped; more arrives; the second run reads only the new part. */
	produce(ms + n, n);
	st = run_until(dir, "g2", (int64_t)(2 * n));
	ck_assert_uint_eq(st.intake.messages, n);
	free_stream(ms, 2 * n);
}
END_TEST

START_TEST(test_applier__new_store_does_not_inherit_the_groups_position)
{
	size_t n = 900, bad;
	struct oplog_gen_msg *ms = make_stream(13, n, &bad);
	struct oplog_applier_stats st;
	char a[600], b[600], *da, *db;

	snprintf(a, sizeof(a), "%s/a", base);
	snprintf(b, sizeof(b), "%s/b", base);
	produce(ms, n);
	st = run_until(a, "g3", (int64_t)n);
	ck_assert_uint_eq(st.intake.messages, n);

	/* Same group, other store: the group's commit carries store a's id,
	 * so store b starts from the earliest offset and reads everything. */
	st = run_until(b, "g3", (int64_t)n);
	ck_assert_uint_eq(st.intake.messages, n);
	da = dump_of(a);
	db = dump_of(b);
	ck_assert_str_eq(da, db);
	free(da);
	free(db);
	free_stream(ms, n);
}
END_TEST

/* Kafka protocol API keys (stable across versions) for fault injection. */
enum { API_FETCH = 1, API_OFFSET_COMMIT = 8, API_JOIN_GROUP = 11, API_HEARTBEAT = 12 };

START_TEST(test_applier__faults_leave_the_store_exact)
{
	size_t n = 2400, bad;
	struct oplog_gen_msg *ms = make_stream(14, n, &bad);
	struct oplog_config *cfg;
	struct oplog_store *s;
	struct runner r;
	char dir[600];

	snprintf(dir, sizeof(dir), "%s/replica", base);
	rd_kafka_mock_push_request_errors(mc, API_JOIN_GROUP, 2,
	                                  RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
	                                  RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS);
	produce(ms, n / 2);
	start_runner(&r, dir, "g4", &cfg, &s);
	ck_assert(wait_consumed(dir, (int64_t)(n / 4), 60));

	/* Errors on every path the applier uses, and a broker gone for 2 s. */
	rd_kafka_mock_push_request_errors(mc, API_FETCH, 3,
	                                  RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
	                                  RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
	                                  RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
	rd_kafka_mock_push_request_errors(mc, API_OFFSET_COMMIT, 2,
	                                  RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
	                                  RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE);
	rd_kafka_mock_push_request_errors(mc, API_HEARTBEAT, 2,
	                                  RD_KAFKA_RESP_ERR_NOT_COORDINATOR,
	                                  RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
	/* The applier runs into the dead broker; the producer here waits
	 * until it is back. */
	rd_kafka_mock_broker_set_down(mc, 1);
	sleep(2);
	rd_kafka_mock_broker_set_up(mc, 1);
	produce(ms + n / 2, n - n / 2);

	ck_assert_msg(wait_consumed(dir, (int64_t)n, 90), "the store took in %lld of %zu",
	              (long long)consumed(dir), n);
	stop_runner(&r, cfg, s);
	ck_assert_int_eq(consumed(dir), (int64_t)n);
	assert_same_as_direct_import(dir, ms, n);
	free_stream(ms, n);
}
END_TEST

START_TEST(test_applier__two_appliers_split_then_one_takes_over)
{
	size_t n = 1800, bad;
	struct oplog_gen_msg *ms = make_stream(15, n, &bad);
	struct oplog_config *ca, *cb;
	struct oplog_store *sa, *sb;
	struct runner ra, rb;
	char a[600], b[600];

	snprintf(a, sizeof(a), "%s/a", base);
	snprintf(b, sizeof(b), "%s/b", base);
	produce(ms, n);
	start_runner(&ra, a, "g5", &ca, &sa);
	start_runner(&rb, b, "g5", &cb, &sb);
	ck_assert(wait_consumed(a, 1, 60) || wait_consumed(b, 1, 1));

	/* Both working: between them the whole topic, each only a part. */
	{
		time_t deadline = time(NULL) + 60;
		while (consumed(a) + consumed(b) < (int64_t)n && time(NULL) < deadline)
			usleep(50 * 1000);
	}
	ck_assert_int_eq(consumed(a) + consumed(b), (int64_t)n);
	ck_assert(consumed(a) > 0 && consumed(b) > 0);

	/* a leaves: b gets its partitions. The group's offsets for them carry
	 * a's store id, so b reads them from the start: nothing is lost. */
	stop_runner(&ra, ca, sa);
	ck_assert_msg(wait_consumed(b, (int64_t)n, 90), "b took in %lld of %zu",
	              (long long)consumed(b), n);
	stop_runner(&rb, cb, sb);
	ck_assert_int_eq(consumed(b), (int64_t)n);
	assert_same_as_direct_import(b, ms, n);
	free_stream(ms, n);
}
END_TEST

/* Give the store in dir a position of `next` on partition 0. */
static void seed_offset(const char *dir, int64_t next)
{
	struct oplog_store *s;
	struct oplog_batch *b;

	UTIL_OK(util_store_open(&s, dir, 0, 0, 0));
	UTIL_OK(oplog_batch_new(&b));
	UTIL_OK(oplog_batch_offset(b, TOPIC, 0, next));
	UTIL_OK(oplog_store_apply(s, b, NULL));
	oplog_batch_free(b);
	oplog_store_close(s);
}

struct lost_seen {
	size_t            n;
	struct oplog_lost first;   /* topic not kept */
};

static int see_lost(const struct oplog_lost *l, void *arg)
{
	struct lost_seen *ls = arg;

	if (ls->n++ == 0) {
		ls->first = *l;
		ls->first.topic = NULL;
	}
	return 0;
}

/* The lost ranges recorded in dir: how many, and the first. */
static struct lost_seen lost_of(const char *dir)
{
	struct lost_seen ls = { 0 };
	struct oplog_store *s;

	UTIL_OK(util_store_open(&s, dir, 0, 0, OPLOG_STORE_RDONLY));
	UTIL_OK(oplog_store_lost(s, see_lost, &ls));
	oplog_store_close(s);
	return ls;
}

/*
 * The store's position on partition 0 (5000) is past what the broker has
 * (offsets went backwards: the topic was deleted and created again). With
 * on_offset_lost = continue the applier records the loss, reads the
 * partition from its earliest offset, and the store ends exact.
 */
START_TEST(test_applier__lost_offsets_are_recorded_then_read_from_earliest)
{
	size_t n = 600, bad;
	struct oplog_gen_msg *ms = make_stream(16, n, &bad);
	struct oplog_config *cfg;
	struct oplog_store *s;
	struct runner r;
	struct oplog_applier_stats st;
	struct lost_seen ls;
	char dir[600];
	time_t deadline;

	snprintf(dir, sizeof(dir), "%s/replica", base);
	produce(ms, n);
	seed_offset(dir, 5000);
	start_runner(&r, dir, "g6", &cfg, &s);
	deadline = time(NULL) + 60;
	while (consumed(dir) != (int64_t)n && time(NULL) < deadline)
		usleep(50 * 1000);
	st = stop_runner(&r, cfg, s);
	ck_assert_int_eq(consumed(dir), (int64_t)n);
	ck_assert_uint_eq(st.offset_resets, 1);
	ck_assert_uint_eq(st.intake.messages, n);
	ls = lost_of(dir);
	ck_assert_uint_eq(ls.n, 1);
	ck_assert_int_eq(ls.first.partition, 0);
	ck_assert_int_eq(ls.first.from, 5000);
	ck_assert_int_eq(ls.first.to, 0);
	assert_same_as_direct_import(dir, ms, n);
	free_stream(ms, n);
}
END_TEST

/* With on_offset_lost = stop the same condition ends the run with an
 * error, and the store keeps its position and records nothing. */
START_TEST(test_applier__lost_offsets_stop_when_configured)
{
	size_t n = 300, bad;
	struct oplog_gen_msg *ms = make_stream(17, n, &bad);
	struct oplog_config *cfg = config("g7");
	struct oplog_store *s;
	struct oplog_applier *a;
	volatile sig_atomic_t stop = 0;
	int64_t next = -1;
	char dir[600];

	snprintf(dir, sizeof(dir), "%s/replica", base);
	produce(ms, n);
	seed_offset(dir, 5000);
	UTIL_OK(oplog_config_set(cfg, "apply.on_offset_lost", "stop", "test"));
	UTIL_OK(util_store_open(&s, dir, 0, 0, 0));
	UTIL_OK(oplog_applier_new(&a, cfg, s));
	ck_assert_int_eq(oplog_applier_run(a, &stop), OPLOG_EKAFKA);
	ck_assert_msg(strstr(oplog_error_last(), "oplog/0: offset 5000 is no longer") != NULL,
	              "%s", oplog_error_last());
	oplog_applier_free(a);
	UTIL_OK(oplog_store_offset(s, TOPIC, 0, &next));
	ck_assert_int_eq(next, 5000);
	oplog_store_close(s);
	oplog_config_free(cfg);
	ck_assert_uint_eq(lost_of(dir).n, 0);
	free_stream(ms, n);
}
END_TEST

/* Produce one message to partition p and wait for the delivery. */
static void produce_one(rd_kafka_t *p, const struct oplog_gen_msg *m, int32_t partition)
{
	ck_assert(rd_kafka_producev(p, RD_KAFKA_V_TOPIC(TOPIC), RD_KAFKA_V_PARTITION(partition),
	                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
	                            RD_KAFKA_V_VALUE(m->data, m->len), RD_KAFKA_V_END) == 0);
	ck_assert(rd_kafka_flush(p, 10000) == 0);
}

static rd_kafka_t *new_producer(void)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[256];
	rd_kafka_t *p;

	ck_assert(rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, errstr,
	                            sizeof(errstr)) == 0);
	ck_assert(rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof(errstr)) == 0);
	ck_assert(rd_kafka_conf_set(conf, "linger.ms", "0", errstr, sizeof(errstr)) == 0);
	p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	ck_assert_msg(p != NULL, "%s", errstr);
	return p;
}

/*
 * A quiet stream: under a long time window (batch_ms 10 s) an entry that
 * arrives alone is applied at once, since nothing more is waiting: well
 * within batch_ms, and in fact within a few hundred milliseconds here.
 */
START_TEST(test_applier__an_entry_on_an_idle_stream_is_applied_at_once)
{
	const int64_t batch_ms = 10000;
	size_t n = 4, bad;
	struct oplog_gen_msg *ms = make_stream(18, 50, &bad);
	struct oplog_config *cfg = config("g8");
	struct oplog_store *s;
	struct runner r;
	rd_kafka_t *p = new_producer();
	char dir[600], v[32];
	size_t sent = 0;

	snprintf(dir, sizeof(dir), "%s/replica", base);
	snprintf(v, sizeof(v), "%lld", (long long)batch_ms);
	UTIL_OK(oplog_config_set(cfg, "apply.batch_ms", v, "test"));
	UTIL_OK(oplog_config_set(cfg, "apply.batch_size", "100000", "test"));
	UTIL_OK(util_store_open(&s, dir, 0, 0, 0));
	UTIL_OK(oplog_applier_new(&r.a, cfg, s));
	r.stop = 0;
	ck_assert(pthread_create(&r.thread, NULL, run_thread, &r) == 0);

	/* The first one also waits for the group to assign the partitions. */
	produce_one(p, &ms[sent++], 0);
	ck_assert_msg(wait_consumed(dir, 1, 60), "the first entry was not applied");
	for (size_t i = 0; i < n; i++) {
		struct timespec t0, t1;
		int64_t ms_taken;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		produce_one(p, &ms[sent], (int32_t)(i % PARTITIONS));
		sent++;
		while (consumed(dir) < (int64_t)sent) {
			clock_gettime(CLOCK_MONOTONIC, &t1);
			ck_assert_msg((t1.tv_sec - t0.tv_sec) * 1000 < batch_ms,
			              "entry %zu not applied within batch_ms", sent);
			usleep(5 * 1000);
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms_taken = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		ck_assert_msg(ms_taken < batch_ms / 4, "entry %zu took %lld ms: the window, not "
		              "the idle stream, ended its batch", sent, (long long)ms_taken);
	}
	r.stop = 1;
	ck_assert(pthread_join(r.thread, NULL) == 0);
	ck_assert_msg(r.rc == 0, "the applier failed: %s", oplog_error_last());
	oplog_applier_free(r.a);
	oplog_store_close(s);
	oplog_config_free(cfg);
	rd_kafka_destroy(p);
	free_stream(ms, 50);
}
END_TEST

/* Read a store's offsets over and over while appliers run: per partition
 * they must never go back. */
struct watcher {
	const char           *dir;
	volatile int          stop;
	int64_t               last[PARTITIONS];
	int                   backwards;   /* partition + 1 of a step back */
	int64_t               from, to;
	size_t                reads;
	pthread_t             thread;
};

static void *watch_thread(void *arg)
{
	struct watcher *w = arg;

	while (!w->stop) {
		int64_t now[PARTITIONS];

		store_offsets(w->dir, now);
		for (int p = 0; p < PARTITIONS; p++) {
			if (now[p] < w->last[p] && !w->backwards) {
				w->backwards = p + 1;
				w->from = w->last[p];
				w->to = now[p];
			}
			w->last[p] = now[p];
		}
		w->reads++;
		usleep(10 * 1000);
	}
	return NULL;
}

/*
 * A rebalance while applier a works through a backlog under a long time
 * window (batch_ms 30 s; small batches, so that a is bound by its store
 * commits and always holds a batch in flight and a full one behind it).
 * b joins the group, so a's partitions are revoked, and leaves again
 * later. a must apply everything it took in before letting partitions go:
 * its store holds exactly what it took in (nothing lost, nothing read or
 * applied twice) and its offsets, read all along, never go back. b reads
 * what it gets from the start (a's group commits name a's store), so its
 * store holds exactly what it took in too.
 */
START_TEST(test_applier__a_rebalance_applies_both_batches_first)
{
	size_t n = 36000, bad;   /* 8000 a partition: the mock keeps them all */
	struct oplog_gen_msg *ms = make_stream(19, n, &bad);
	struct oplog_config *ca = config("g9"), *cb;
	struct oplog_store *sa, *sb;
	struct runner ra, rb;
	struct oplog_applier_stats sta, stb;
	struct watcher w = { 0 };
	int64_t oa[PARTITIONS];
	char a[600], b[600];
	time_t deadline;

	snprintf(a, sizeof(a), "%s/a", base);
	snprintf(b, sizeof(b), "%s/b", base);
	UTIL_OK(oplog_config_set(ca, "apply.batch_ms", "30s", "test"));
	UTIL_OK(oplog_config_set(ca, "apply.batch_size", "10", "test"));
	produce(ms, n);
	UTIL_OK(util_store_open(&sa, a, 0, 0, 0));
	UTIL_OK(oplog_applier_new(&ra.a, ca, sa));
	ra.stop = 0;
	ck_assert(pthread_create(&ra.thread, NULL, run_thread, &ra) == 0);
	w.dir = a;
	ck_assert(pthread_create(&w.thread, NULL, watch_thread, &w) == 0);
	ck_assert(wait_consumed(a, 1000, 60));

	start_runner(&rb, b, "g9", &cb, &sb);
	ck_assert_msg(wait_consumed(b, 1, 60), "b never got a partition");
	stb = stop_runner(&rb, cb, sb);

	/* a alone again: it ends with every partition, at its end. */
	for (deadline = time(NULL) + 120; time(NULL) < deadline; usleep(50 * 1000)) {
		store_offsets(a, oa);
		if (oa[0] + oa[1] + oa[2] >= (int64_t)n)
			break;
	}
	w.stop = 1;
	ck_assert(pthread_join(w.thread, NULL) == 0);
	ra.stop = 1;
	ck_assert(pthread_join(ra.thread, NULL) == 0);
	ck_assert_msg(ra.rc == 0, "a failed: %s", oplog_error_last());
	oplog_applier_stats(ra.a, &sta);
	oplog_applier_free(ra.a);
	oplog_store_close(sa);
	oplog_config_free(ca);

	ck_assert_msg(!w.backwards, "a's offset on partition %d went back from %lld to %lld",
	              w.backwards - 1, (long long)w.from, (long long)w.to);
	ck_assert(w.reads > 10);
	/* a's partitions were revoked (b joining, b leaving, a stopping)
	 * while it held messages not yet applied. */
	ck_assert_uint_eq(sta.offset_resets, 0);
	ck_assert_uint_ge(sta.revokes, 2);
	ck_assert_msg(sta.revoke_pending > 0, "a held nothing unapplied at any of its %llu "
	              "revokes: the case under test did not happen",
	              (unsigned long long)sta.revokes);
	/* Exactly what each took in is in its store. */
	ck_assert_int_eq(consumed(a), (int64_t)sta.intake.messages);
	ck_assert_int_eq(consumed(b), (int64_t)stb.intake.messages);
	store_offsets(a, oa);
	ck_assert_int_eq(oa[0] + oa[1] + oa[2], (int64_t)n);
	assert_same_as_direct_import(a, ms, n);
	free_stream(ms, n);
}
END_TEST

/* ---- the resume rule and the page, without a broker ------------------------- */

START_TEST(test_applier__resume_rule_prefers_the_store_then_its_own_group_offset)
{
	struct oplog_resume r;

	r = oplog_lag_resume(7, 9, 1, 0);
	ck_assert_int_eq(r.from, OPLOG_RESUME_STORE);
	ck_assert_int_eq(r.offset, 7);
	r = oplog_lag_resume(-1, 9, 1, 1);
	ck_assert_int_eq(r.from, OPLOG_RESUME_GROUP);
	ck_assert_int_eq(r.offset, 9);
	r = oplog_lag_resume(-1, 9, 0, 0);
	ck_assert_int_eq(r.from, OPLOG_RESUME_EARLIEST);
	ck_assert_str_eq(r.why, "the group's offset was committed by another store");
	r = oplog_lag_resume(-1, -1, 0, 1);
	ck_assert_int_eq(r.from, OPLOG_RESUME_LATEST);
	ck_assert_str_eq(r.why, "no stored or group offset");
	ck_assert(oplog_lag_by_store("ab12", 4, "ab12"));
	ck_assert(!oplog_lag_by_store("ab12", 4, "ab13"));
	ck_assert(!oplog_lag_by_store("ab1", 3, "ab12"));
	ck_assert(!oplog_lag_by_store(NULL, 0, "ab12"));
	ck_assert(!oplog_lag_by_store("ab12", 4, NULL));
}
END_TEST

/* Every client says which host it runs on, unless [kafka] names it. */
START_TEST(test_applier__clients_are_named_after_the_host)
{
	struct oplog_config *cfg;
	rd_kafka_conf_t *conf = NULL;
	char host[256] = "", want[300], got[300];
	size_t len;

	ck_assert_int_eq(gethostname(host, sizeof(host) - 1), 0);
	snprintf(want, sizeof(want), "oplogd-%s", host);
	ck_assert(oplog_config_new(&cfg) == 0);
	for (int producer = 0; producer <= 1; producer++) {
		ck_assert_int_eq(oplog_kafka_conf(cfg, producer, &conf), 0);
		len = sizeof(got);
		ck_assert(rd_kafka_conf_get(conf, "client.id", got, &len) == RD_KAFKA_CONF_OK);
		ck_assert_str_eq(got, want);
		rd_kafka_conf_destroy(conf);
	}
	ck_assert(oplog_config_set(cfg, "kafka.client.id", "mine", "test") == 0);
	ck_assert_int_eq(oplog_kafka_consumer_conf(cfg, &conf), 0);
	len = sizeof(got);
	ck_assert(rd_kafka_conf_get(conf, "client.id", got, &len) == RD_KAFKA_CONF_OK);
	ck_assert_str_eq(got, "mine");
	rd_kafka_conf_destroy(conf);
	oplog_config_free(cfg);
}
END_TEST

START_TEST(test_applier__metrics_page_renders_the_snapshot)
{
	static const struct oplog_metrics_partition parts[] = { { "oplog", 1, 42, 7, 49, 7 },
	                                                        { "oplog", 2, -1, -1, -1, 0 } };
	struct oplog_metrics_dataset ds = { (uint8_t *)"d\"q\n", 4, 3, 1, 1500 };
	struct oplog_metrics_snapshot snap = { .parts = parts, .n_parts = 2,
	                                       .datasets = &ds, .n_datasets = 1,
	                                       .max_datasets = 10, .reply_ms = 9000,
	                                       .store_commit_ms = -1, .group_commit_ms = 1000,
	                                       .store_bytes = 4096, .rejects_kept = 5 };
	char *page = NULL;
	size_t len = 0;

	snap.st.intake.messages = 10;
	snap.st.intake.rejected_by[OPLOG_R_MALFORMED] = 2;
	snap.st.intake.batches = 2;
	snap.st.store.applied = 8;
	snap.st.commit_hist[oplog_metrics_commit_bucket(0.003)]++;
	snap.st.commit_hist[oplog_metrics_commit_bucket(60)]++;
	snap.st.commit_sum = 60.003;
	ck_assert_int_eq(oplog_metrics_page(&snap, 10500, &page, &len), 0);
	ck_assert_uint_eq(strlen(page), len);
	ck_assert_ptr_nonnull(strstr(page, "# HELP oplogd_messages_total Messages consumed from "
	                             "Kafka, valid or not.\n# TYPE oplogd_messages_total counter\n"
	                             "oplogd_messages_total 10\n"));
	ck_assert_ptr_nonnull(strstr(page, "\noplogd_applied_total 8\n"));
	ck_assert_ptr_nonnull(strstr(page, "\noplogd_rejected_total{reason=\"malformed\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(page, "\noplogd_batches_total 2\n"));
	ck_assert_ptr_nonnull(strstr(page, "\noplogd_partition_lag{topic=\"oplog\",partition=\"1\"} "
	                             "42\n"));
	/* An unknown lag is NaN, never 0; no committed offset, no series. */
	ck_assert_ptr_nonnull(strstr(page, "\noplogd_partition_lag{topic=\"oplog\",partition=\"2\"} "
	                             "NaN\n"));
	ck_assert_ptr_nonnull(strstr(page, "\noplogd_committed_offset{topic=\"oplog\","
	                             "partition=\"1\"} 7\n"));
	ck_assert_ptr_null(strstr(page, "oplogd_committed_offset{topic=\"oplog\",partition=\"2\"}"));
	ck_assert_ptr_nonnull(strstr(page, "\noplogd_assigned_partitions 2\n"));
	ck_assert_ptr_nonnull(strstr(page, "\noplogd_seconds_since_broker_reply 1.500\n"));
	ck_assert_ptr_nonnull(strstr(page, "\noplogd_seconds_since_store_commit +Inf\n"));
	ck_assert_ptr_nonnull(strstr(page, "\noplogd_seconds_since_group_commit 9.500\n"));
	ck_assert_ptr_nonnull(strstr(page, "\noplogd_store_bytes 4096\n"));
	ck_assert_ptr_nonnull(strstr(page, "\noplogd_rejects_kept 5\n"));
	ck_assert_ptr_nonnull(strstr(page, "\noplogd_datasets 1\n"));
	ck_assert_ptr_nonnull(strstr(page, "\noplogd_build_info{version=\"" OPLOG_VERSION "\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(page, "\noplogd_nodes{dataset=\"d\\\"q\\n\"} 3\n"));
	ck_assert_ptr_nonnull(strstr(page, "\noplogd_nodes_with_gaps{dataset=\"d\\\"q\\n\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(page, "\noplogd_last_entry_wall_seconds{dataset=\"d\\\"q\\n\"} "
	                             "1.500\n"));
	ck_assert_ptr_nonnull(strstr(page, "\noplogd_batch_commit_seconds_bucket{le=\"0.0025\"} 0\n"
	                             "oplogd_batch_commit_seconds_bucket{le=\"0.005\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(page, "\noplogd_batch_commit_seconds_bucket{le=\"10\"} 1\n"
	                             "oplogd_batch_commit_seconds_bucket{le=\"+Inf\"} 2\n"
	                             "oplogd_batch_commit_seconds_sum 60.003000\n"
	                             "oplogd_batch_commit_seconds_count 2\n"));
	free(page);
}
END_TEST

/* Past max_datasets, datasets are summed into one series. */
START_TEST(test_applier__metrics_page_caps_the_dataset_series)
{
	struct oplog_metrics_dataset ds[3] = { { (uint8_t *)"a", 1, 2, 0, 1000 },
	                                       { (uint8_t *)"b", 1, 3, 1, 5000 },
	                                       { (uint8_t *)"c", 1, 4, 2, 3000 } };
	struct oplog_metrics_snapshot snap = { .datasets = ds, .n_datasets = 3, .max_datasets = 1,
	                                       .reply_ms = -1, .store_commit_ms = -1,
	                                       .group_commit_ms = -1 };
	char *page = NULL;
	size_t len = 0;

	ck_assert_int_eq(oplog_metrics_page(&snap, 0, &page, &len), 0);
	ck_assert_ptr_nonnull(strstr(page, "\noplogd_nodes{dataset=\"a\"} 2\n"
	                             "oplogd_nodes{dataset_rest=\"true\"} 7\n"));
	ck_assert_ptr_nonnull(strstr(page, "\noplogd_nodes_with_gaps{dataset_rest=\"true\"} 3\n"));
	ck_assert_ptr_nonnull(strstr(page, "\noplogd_last_entry_wall_seconds{dataset_rest=\"true\"} "
	                             "5.000\n"));
	ck_assert_ptr_null(strstr(page, "dataset=\"b\""));
	ck_assert_ptr_nonnull(strstr(page, "\noplogd_datasets 3\n"));
	ck_assert_ptr_nonnull(strstr(page, "\noplogd_seconds_since_broker_reply +Inf\n"));
	free(page);
	/* 0: only the sum. */
	snap.max_datasets = 0;
	ck_assert_int_eq(oplog_metrics_page(&snap, 0, &page, &len), 0);
	ck_assert_ptr_null(strstr(page, "dataset=\"a\""));
	ck_assert_ptr_nonnull(strstr(page, "\noplogd_nodes{dataset_rest=\"true\"} 9\n"));
	free(page);
}
END_TEST

/* Each reason /healthz turns 503 for, in its order, and the all-clear. */
START_TEST(test_applier__health_says_why)
{
	struct oplog_metrics_snapshot s = { .started_ms = 0, .taken_ms = 100000,
	                                    .unassigned_ms = -1, .reply_ms = 99000,
	                                    .bootstrap = "h1:9092,h2:9092" };
	char why[600];

	ck_assert_int_eq(oplog_metrics_health(&s, 100500, 30000, why, sizeof(why)), 1);
	/* Assigned nothing: healthy within the grace, not after. */
	s.unassigned_ms = 80000;
	ck_assert_int_eq(oplog_metrics_health(&s, 100500, 30000, why, sizeof(why)), 1);
	s.unassigned_ms = 60000;
	ck_assert_int_eq(oplog_metrics_health(&s, 100500, 30000, why, sizeof(why)), 0);
	ck_assert_str_eq(why, "no partition assigned for 40 s");
	/* No broker reply for longer than the grace: named, with the error. */
	s.reply_ms = 60000;
	s.broker_error = "BrokerTransportFailure: connection refused";
	ck_assert_int_eq(oplog_metrics_health(&s, 100500, 30000, why, sizeof(why)), 0);
	ck_assert_str_eq(why, "no broker has answered for 40 s (bootstrap.servers h1:9092,h2:9092); "
	                 "last error: BrokerTransportFailure: connection refused");
	/* Never any reply: counted from the start. */
	s.reply_ms = -1;
	ck_assert_int_eq(oplog_metrics_health(&s, 100500, 30000, why, sizeof(why)), 0);
	ck_assert_ptr_nonnull(strstr(why, "no broker has answered since the start, 100 s"));
	s.started_ms = 90000;
	s.unassigned_ms = -1;
	ck_assert_int_eq(oplog_metrics_health(&s, 100500, 30000, why, sizeof(why)), 1);
	/* A loop that stopped reporting. */
	s.taken_ms = 60000;
	ck_assert_int_eq(oplog_metrics_health(&s, 100500, 30000, why, sizeof(why)), 0);
	ck_assert_str_eq(why, "stalled: the apply loop has not reported for 40 s");
	/* A failure wins over everything. */
	s.failure = "applying a batch of 3 messages failed: disk full";
	ck_assert_int_eq(oplog_metrics_health(&s, 100500, 30000, why, sizeof(why)), 0);
	ck_assert_str_eq(why, "stopping: applying a batch of 3 messages failed: disk full");
	/* The lag is known only with a watermark and a recent reply. */
	ck_assert(oplog_metrics_lag_known(10, 1000, 2000, 30000));
	ck_assert(!oplog_metrics_lag_known(-1, 1000, 2000, 30000));
	ck_assert(!oplog_metrics_lag_known(10, -1, 2000, 30000));
	ck_assert(!oplog_metrics_lag_known(10, 1000, 40000, 30000));
}
END_TEST

int main(int argc, char **argv)
{
	Suite *s;
	TCase *t;
	SRunner *sr;
	int failed;

	if (argc == 3 && strcmp(argv[1], "offsets") == 0)
		return print_offsets(argv[2]);
	s = suite_create("applier");
	t = tcase_create("mock_cluster");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 120);
	tcase_add_test(t, test_applier__stream_with_dups_late_and_bad_applies_exactly);
	tcase_add_test(t, test_applier__restart_resumes_from_the_store_without_rereading);
	tcase_add_test(t, test_applier__new_store_does_not_inherit_the_groups_position);
	tcase_add_test(t, test_applier__faults_leave_the_store_exact);
	tcase_add_test(t, test_applier__two_appliers_split_then_one_takes_over);
	tcase_add_test(t, test_applier__lost_offsets_are_recorded_then_read_from_earliest);
	tcase_add_test(t, test_applier__lost_offsets_stop_when_configured);
	tcase_add_test(t, test_applier__an_entry_on_an_idle_stream_is_applied_at_once);
	tcase_add_test(t, test_applier__a_rebalance_applies_both_batches_first);
	suite_add_tcase(s, t);
	t = tcase_create("offline");
	tcase_add_test(t, test_applier__resume_rule_prefers_the_store_then_its_own_group_offset);
	tcase_add_test(t, test_applier__metrics_page_renders_the_snapshot);
	tcase_add_test(t, test_applier__metrics_page_caps_the_dataset_series);
	tcase_add_test(t, test_applier__health_says_why);
	tcase_add_test(t, test_applier__clients_are_named_after_the_host);
	suite_add_tcase(s, t);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
