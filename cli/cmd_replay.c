/*
 * cmd_replay.c: `oplogd replay -c FILE [--topic T] [--from earliest|OFFSET|TIME]
 * [--until end|TIME] [--verify] [--restart] [--json]`: backfill the store
 * from a range of a topic, or check the store against it (parity report).
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli_store.h"
#include "oplog/bytes.h"
#include "oplog/clock.h"
#include "oplog/error.h"
#include "oplog/json.h"
#include "oplog/replay.h"

enum { OPT_TOPIC = CLI_OPT_CMD, OPT_FROM, OPT_UNTIL, OPT_VERIFY, OPT_RESTART, OPT_MISSING };

static const struct cli_option options[] = {
	{ "topic", 't', required_argument, "T", "replay topic T (default: [apply] topics)", OPT_TOPIC },
	{ "from", 0, required_argument, "WHERE", "earliest (default), an OFFSET, or a TIME", OPT_FROM },
	{ "until", 0, required_argument, "WHEN", "end (default: the high watermarks at start) or a TIME", OPT_UNTIL },
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
	"TIME is @MS (Unix ms), ISO 8601 UTC (2026-11-30T12:00:00Z, optional .mmm, or\n"
	"an offset +01:00 for Z) or relative to now (-1h, -30m, -2d: DURATION before).\n"
	"A partition with no message at or after a --from time is read from its end\n"
	"(nothing), one with none at or after an --until time to its end; both are\n"
	"warned about. Time lookups need Kafka 0.10.1 or later with message timestamps.\n"
	"A relative time is fixed at start: to resume, give the @MS the range names.\n"
	"Exit 0 done; 1 --verify found entries missing from the store; 2 usage or\n"
	"error; 3 interrupted (run again to resume).",
	options
};

struct replay_args {
	struct oplog_replay_opts o;
	int                      tty;
};

/* n digits at *p as a number, advancing *p; -1 when they are not all
 * digits. */
static int digits(const char **p, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (**p - '0');
	}
	return v;
}

/* ISO 8601 "YYYY-MM-DDTHH:MM:SS[.fff]" then "Z" or "+HH:MM"/"-HH:MM" (a
 * space for the T too), as Unix ms. Returns 0, or -1 (*out unchanged). */
static int parse_iso(const char *arg, int64_t *out)
{
	const char *p = arg;
	struct tm tm = { 0 };
	int y, mo, d, h, mi, sec, ms = 0, off = 0;
	time_t t;

	if ((y = digits(&p, 4)) < 0 || *p++ != '-' || (mo = digits(&p, 2)) < 1 || mo > 12 ||
	    *p++ != '-' || (d = digits(&p, 2)) < 1 || d > 31)
		return -1;
	if (*p != 'T' && *p != ' ')
		return -1;
	p++;
	if ((h = digits(&p, 2)) < 0 || h > 23 || *p++ != ':' ||
	    (mi = digits(&p, 2)) < 0 || mi > 59 || *p++ != ':' ||
	    (sec = digits(&p, 2)) < 0 || sec > 60)
		return -1;
	if (*p == '.') {
		int scale = 100;
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		for (; isdigit((unsigned char)*p); p++, scale /= 10)
			ms += scale * (*p - '0');
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om;
		if ((oh = digits(&p, 2)) < 0 || oh > 23 || *p++ != ':' || (om = digits(&p, 2)) < 0 ||
		    om > 59)
			return -1;
		off = sign * (oh * 60 + om) * 60;
	} else {
		return -1;   /* no zone: local time would be a guess */
	}
	if (*p != '\0')
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if ((t = timegm(&tm)) == (time_t)-1 || tm.tm_mday != d || (int64_t)t - off < 0)
		return -1;   /* 31 February and the like move the day */
	*out = ((int64_t)t - off) * 1000 + ms;
	return 0;
}

/* A TIME: @MS, ISO 8601, or -DURATION before now. Returns 0 or -1. */
static int parse_ms(const char *arg, int64_t *out)
{
	uint64_t v, now;
	int64_t ago;

	if (arg[0] == '@') {
		if (cli_parse_uint(arg + 1, &v) != 0 || v > INT64_MAX)
			return -1;
		*out = (int64_t)v;
		return 0;
	}
	if (arg[0] == '-') {
		if (oplog_config__parse_duration(arg + 1, &ago) != 0)
			return -1;
		now = oplog_clock_wall_ms();
		*out = (uint64_t)ago >= now ? 0 : (int64_t)(now - (uint64_t)ago);
		return 0;
	}
	return parse_iso(arg, out);
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
			return cli_usage_error(&spec, "--from: '%s' is not earliest, an offset or a time "
			                       "(@MS, 2026-11-30T12:00:00Z, -1h)", arg);
		}
		break;
	case OPT_UNTIL:
		if (strcmp(arg, "end") == 0)
			a->o.until = OPLOG_REPLAY_END;
		else if (parse_ms(arg, &a->o.until_ms) == 0)
			a->o.until = OPLOG_REPLAY_UNTIL_TIME;
		else
			return cli_usage_error(&spec, "--until: '%s' is not end or a time (@MS, "
			                       "2026-11-30T12:00:00Z, -1h)", arg);
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
