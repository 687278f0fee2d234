/*
 * cmd_replay.c: `oplogd replay -c FILE [--topic T] [--from earliest|OFFSET|@MS]
 * [--until end|@MS] [--verify] [--restart] [--json]`: backfill the store
 * from a range of a topic, or check the store against it (parity report).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_store.h"
#include "oplog/bytes.h"
#include "oplog/error.h"
#include "oplog/json.h"
#include "oplog/replay.h"

enum { OPT_TOPIC = CLI_OPT_CMD, OPT_FROM, OPT_UNTIL, OPT_VERIFY, OPT_RESTART, OPT_MISSING };

static const struct cli_option options[] = {
	{ "topic", 't', required_argument, "T", "replay topic T (default: [apply] topics)", OPT_TOPIC },
	{ "from", 0, required_argument, "WHERE", "earliest (default), an OFFSET, or @MS (Unix ms)", OPT_FROM },
	{ "until", 0, required_argument, "WHEN", "end (default: the high watermarks at start) or @MS", OPT_UNTIL },
	{ "verify", 0, no_argument, NULL, "read only: report what of the range the store lacks", OPT_VERIFY },
	{ "restart", 0, no_argument, NULL, "discard the cursor of an unfinished replay", OPT_RESTART },
	{ "missing", 0, required_argument, "N", "--verify lists the first N missing hashes (default 10)", OPT_MISSING },
	CLI_OPTION_JSON,
	CLI_OPTIONS_COMMON,
	CLI_OPTIONS_END
};

static const struct cli_spec spec = {
	"replay", NULL,
	"Reads the range by manual assignment: never joins the group, never moves the\n"
	"group's or the store's live offsets. Applies under the normal rules, so\n"
	"overlapping replays are harmless. A cursor in the store lets an interrupted\n"
	"replay resume when run again with the same range. Progress goes to stderr\n"
	"(a bar on a terminal, else a line every 5 s). It ends with a text report on\n"
	"stdout, or with --json a JSON summary instead: {\"verify\",\"complete\",\n"
	"\"resumed\",\"total\",\"resumed_at\",\"read\",\"valid\",\"rejected\":{CODE:n},\n"
	"\"elapsed_ms\",\"rate\"} and \"applied\",\"duplicates\",\"late\",\"forks\", or with\n"
	"--verify \"present\",\"missing\",\"pruned\",\"missing_hashes\":[{\"dataset\",\"hash\"}].\n"
	"Exit 0 done; 1 --verify found entries missing from the store; 2 usage or\n"
	"error; 3 interrupted (run again to resume).",
	options
};

struct replay_args {
	struct oplog_replay_opts o;
	int                      tty;
};

static int parse_ms(const char *arg, int64_t *out)
{
	uint64_t v;

	if (arg[0] != '@' || cli_parse_uint(arg + 1, &v) != 0 || v > INT64_MAX)
		return -1;
	*out = (int64_t)v;
	return 0;
}

static int on_option(void *ctx, const struct cli_option *opt, const char *arg)
{
	struct replay_args *a = ctx;
	uint64_t v;

	switch (opt->id) {
	case OPT_TOPIC:
		a->o.topic = arg;
		break;
	case OPT_FROM:
		if (strcmp(arg, "earliest") == 0) {
			a->o.from = OPLOG_REPLAY_EARLIEST;
		} else if (parse_ms(arg, &a->o.from_value) == 0) {
			a->o.from = OPLOG_REPLAY_FROM_TIME;
		} else if (cli_parse_uint(arg, &v) == 0 && v <= INT64_MAX) {
			a->o.from = OPLOG_REPLAY_OFFSET;
			a->o.from_value = (int64_t)v;
		} else {
			return cli_usage_error(&spec, "--from: '%s' is not earliest, an offset or @MS",
			                       arg);
		}
		break;
	case OPT_UNTIL:
		if (strcmp(arg, "end") == 0)
			a->o.until = OPLOG_REPLAY_END;
		else if (parse_ms(arg, &a->o.until_ms) == 0)
			a->o.until = OPLOG_REPLAY_UNTIL_TIME;
		else
			return cli_usage_error(&spec, "--until: '%s' is not end or @MS", arg);
		break;
	case OPT_VERIFY:
		a->o.verify = 1;
		break;
	case OPT_RESTART:
		a->o.restart = 1;
		break;
	case OPT_MISSING:
		if (cli_parse_uint(arg, &v) != 0 || v > 1000000)
			return cli_usage_error(&spec, "--missing: '%s' is not a number up to 1000000",
			                       arg);
		a->o.max_missing = (size_t)v;
		break;
	}
	return 0;
}

static void show_progress(const struct oplog_replay_progress *p, void *arg)
{
	const struct replay_args *a = arg;
	double pct = p->total ? 100.0 * (double)p->done / (double)p->total : 100.0;
	double eta = p->rate > 0 && p->total > p->done ? (double)(p->total - p->done) / p->rate : 0;
	char bar[31];
	int fill;

	pct = pct < 0 ? 0 : pct > 100 ? 100 : pct;
	fill = (int)(pct * 30 / 100);

	if (!a->tty) {
		fprintf(stderr, "replay: %" PRIu64 "/%" PRIu64 " messages (%.1f%%), %.0f/s, ETA %.0fs\n",
		        p->done, p->total, pct, p->rate, eta);
		return;
	}
	memset(bar, '#', (size_t)fill);
	memset(bar + fill, '.', (size_t)(30 - fill));
	bar[30] = 0;
	fprintf(stderr, "\r[%s] %5.1f%% %" PRIu64 "/%" PRIu64 " msgs %.0f/s ETA %.0fs   ", bar, pct,
	        p->done, p->total, p->rate, eta);
}

static json_t *summary(const struct replay_args *a, const struct oplog_replay_result *r)
{
	json_t *doc, *missing;
	double rate = r->elapsed_ms > 0 ? (double)r->read * 1000.0 / (double)r->elapsed_ms : 0;

	doc = json_pack("{s:b,s:b,s:b,s:I,s:I,s:I,s:I,s:o,s:I,s:f}", "verify", a->o.verify,
	                "complete", r->complete, "resumed", r->resumed,
	                "total", (json_int_t)r->total, "resumed_at", (json_int_t)r->resumed_at,
	                "read", (json_int_t)r->read, "valid", (json_int_t)r->valid,
	                "rejected", oplog_json_reject_counts(r->rejected_by),
	                "elapsed_ms", (json_int_t)r->elapsed_ms, "rate", rate);
	if (!doc)
		return NULL;
	if (!a->o.verify) {
		json_object_set_new(doc, "applied", json_integer((json_int_t)r->applied.applied));
		json_object_set_new(doc, "duplicates", json_integer((json_int_t)r->applied.duplicates));
		json_object_set_new(doc, "late", json_integer((json_int_t)r->applied.late));
		json_object_set_new(doc, "forks", json_integer((json_int_t)r->applied.forks));
		return doc;
	}
	json_object_set_new(doc, "present", json_integer((json_int_t)r->present));
	json_object_set_new(doc, "missing", json_integer((json_int_t)r->missing));
	json_object_set_new(doc, "pruned", json_integer((json_int_t)r->pruned));
	missing = json_array();
	for (size_t i = 0; missing && i < r->n_missing_list; i++)
		json_array_append_new(missing, json_pack("{s:s,s:o}", "dataset",
		                      r->missing_list[i].dataset, "hash",
		                      oplog_json_hex(r->missing_list[i].hash, OPLOG_HASH_LEN)));
	json_object_set_new(doc, "missing_hashes", missing);
	return doc;
}

static void report_text(const struct replay_args *a, const struct oplog_replay_result *r)
{
	char took[OPLOG_HUMAN_MAX];
	double rate = r->elapsed_ms > 0 ? (double)r->read * 1000.0 / (double)r->elapsed_ms : 0;
	uint64_t rej = 0;

	for (int i = 0; i < OPLOG_R__COUNT; i++)
		rej += r->rejected_by[i];
	oplog_duration_human(r->elapsed_ms > 0 ? (uint64_t)r->elapsed_ms : 0, took);
	if (!a->o.verify) {
		printf("replay %s: %" PRIu64 " messages read of %" PRIu64 " (%" PRIu64 " before a "
		       "resume), %" PRIu64 " applied, %" PRIu64 " duplicates, %" PRIu64 " late, %"
		       PRIu64 " forks, %" PRIu64 " rejected\n",
		       r->complete ? "done" : "interrupted", r->read, r->total, r->resumed_at,
		       r->applied.applied, r->applied.duplicates, r->applied.late, r->applied.forks,
		       rej);
		printf("took %s (%.0f messages/s)\n", took, rate);
		return;
	}
	printf("parity: %" PRIu64 " messages read, %" PRIu64 " valid, %" PRIu64 " present, %"
	       PRIu64 " missing, %" PRIu64 " pruned, %" PRIu64 " rejects\n", r->read, r->valid,
	       r->present, r->missing, r->pruned, rej);
	printf("took %s (%.0f messages/s)\n", took, rate);
	for (size_t i = 0; i < r->n_missing_list; i++) {
		printf("missing %s ", r->missing_list[i].dataset);
		cli_print_hex(stdout, r->missing_list[i].hash, OPLOG_HASH_LEN);
		printf("\n");
	}
	if (r->missing > r->n_missing_list)
		printf("... and %" PRIu64 " more\n", r->missing - r->n_missing_list);
}

int cmd_replay(int argc, char **argv)
{
	struct cli_store_cmd c;
	struct replay_args a = { .o = { .max_missing = 10 } };
	struct oplog_replay_result r = { 0 };
	json_t *doc = NULL;
	int err, rc, verify = 0;

	for (int i = 1; i < argc; i++)   /* the store is opened before options are acted on */
		verify |= strcmp(argv[i], "--verify") == 0;
	rc = cli_store_begin(&spec, argc, argv, &c, verify ? CLI_STORE_RDONLY : 0, 0, 0,
	                     on_option, &a);
	if (rc != CLI_RUN)
		goto done;
	a.tty = isatty(STDERR_FILENO);
	a.o.progress = show_progress;
	a.o.arg = &a;
	a.o.progress_ms = a.tty ? 200 : 5000;
	err = oplog_replay_run(c.cfg, c.s, &a.o, cli_catch_stop(), &r);
	if (a.tty)
		fputc('\n', stderr);
	if (err) {
		rc = cli_fail(&spec, err);
		goto done;
	}
	if (!(doc = summary(&a, &r))) {
		rc = cli_fail(&spec, OPLOG_ENOMEM);
		goto done;
	}
	if (!c.common.json)
		report_text(&a, &r);
	if (c.common.json ? cli_print_json(doc) != 0
	                  : fflush(stdout) != 0 || ferror(stdout)) {
		rc = cli_fail(&spec, OPLOG_EIO);
		goto done;
	}
	rc = !r.complete ? 3 : r.missing ? CLI_EXIT_NO : CLI_EXIT_OK;
done:
	json_decref(doc);
	oplog_replay_result_free(&r);
	cli_store_end(&c);
	return rc;
}
