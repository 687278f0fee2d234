/*
 * oplog/replay.h: `oplogd replay`, reading a range of a topic by manual
 * assignment to backfill the store, or to check it (verify).
 *
 * It never joins the group and never commits to it, and never changes the
 * store's live offsets: what it applies goes in under the normal rules
 * (duplicates are harmless), with a replay cursor per partition in the
 * same transaction. An interrupted replay resumes from the cursors when
 * run again with the same range; a finished one removes them.
 *
 * The range starts at the earliest offset, at an offset (the same for
 * every partition, clamped to what the broker has) or at the first
 * message at or after a time; it ends at the high watermarks taken when
 * the replay starts, or before the first message at or after a time.
 * Times need a broker that can look offsets up by timestamp (Kafka
 * 0.10.1+); otherwise it fails with OPLOG_EKAFKA saying so.
 *
 * Threading: one replay runs on one thread; *stop may be set from a
 * signal handler.
 */
#ifndef OPLOG_REPLAY_H
#define OPLOG_REPLAY_H

#include <signal.h>
#include <stdint.h>

#include "oplog/config.h"
#include "oplog/entry.h"
#include "oplog/store.h"

enum oplog_replay_from { OPLOG_REPLAY_EARLIEST, OPLOG_REPLAY_OFFSET, OPLOG_REPLAY_FROM_TIME };
enum oplog_replay_until { OPLOG_REPLAY_END, OPLOG_REPLAY_UNTIL_TIME };

struct oplog_replay_progress {
	uint64_t done, total;   /* messages of the range read, in all */
	double   rate;          /* messages/s since the start of this run */
	int64_t  elapsed_ms;
};

struct oplog_replay_opts {
	const char             *topic;      /* NULL: [apply] topics */
	enum oplog_replay_from  from;
	int64_t                 from_value; /* the offset, or Unix ms */
	enum oplog_replay_until until;
	int64_t                 until_ms;
	int                     verify;     /* read only: compare with the store */
	int                     restart;    /* discard a stored cursor first */
	size_t                  max_missing;/* missing hashes listed (verify) */
	int64_t                 progress_ms;/* how often progress is called */
	void                  (*progress)(const struct oplog_replay_progress *p, void *arg);
	void                   *arg;
};

/* An entry of the range missing from the store (verify). */
struct oplog_replay_missing {
	char    dataset[256];
	uint8_t hash[OPLOG_HASH_LEN];
};

struct oplog_replay_result {
	uint64_t total;      /* messages in the range */
	uint64_t resumed_at; /* of those, already replayed before this run */
	uint64_t read;       /* messages read in this run */
	uint64_t valid, rejected;
	uint64_t rejected_by[OPLOG_R__COUNT];
	struct oplog_apply_stats applied;  /* replay: what applying did */
	uint64_t present, missing, pruned; /* verify: valid messages by where their
	                                      entry is (a duplicate counts again) */
	struct oplog_replay_missing *missing_list;  /* the first max_missing entries */
	size_t   n_missing_list;
	int      resumed;    /* started from a stored cursor */
	int      complete;   /* the whole range was read */
	int64_t  elapsed_ms;
};

/*
 * Run the replay (or the verification) until the range is read or *stop
 * becomes non-zero. *r is filled in either case; free it with
 * oplog_replay_result_free. Returns 0 (r->complete says whether it
 * finished), OPLOG_ECONFIG, OPLOG_EKAFKA (broker unreachable, time
 * lookups unsupported, offsets gone), OPLOG_EINVAL (a stored cursor of a
 * different range: run with that range or with restart), or the store's
 * error.
 */
int oplog_replay_run(const struct oplog_config *cfg, struct oplog_store *s,
                     const struct oplog_replay_opts *o, const volatile sig_atomic_t *stop,
                     struct oplog_replay_result *r);

void oplog_replay_result_free(struct oplog_replay_result *r);

#endif
