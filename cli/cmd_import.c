/*
 * cmd_import.c: `oplogd import --store DIR [--framing stream|lenpfx]
 * [--batch N] FILE...`.
 *
 * Applies messages from files as the daemon would from Kafka: each
 * message is decoded with [apply] max_message_bytes, checked against
 * [apply] clock_skew_ms, and goes into a batch as an entry or as a reject
 * whose source is "FILE:INDEX" (0-based message index in that file).
 * Batches of N (default [apply] batch_size) are applied in one write
 * transaction each; a batch that failed leaves the earlier ones applied.
 *
 * A batch borrows the message bytes of its entries, so each file is held
 * whole (mapped, or read when it is a pipe) until its last batch is
 * applied.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli_store.h"
#include "oplog/error.h"
#include "oplog/json.h"

enum { OPT_FRAMING = CLI_OPT_CMD, OPT_BATCH };

static const struct cli_option options[] = {
	{ "framing", 0, required_argument, "stream|lenpfx",
	  "how messages are delimited in FILE (default stream)", OPT_FRAMING },
	{ "batch", 0, required_argument, "N",
	  "messages per write transaction (default [apply] batch_size)", OPT_BATCH },
	CLI_OPTION_JSON,
	CLI_OPTIONS_COMMON,
	CLI_OPTIONS_END
};

static const struct cli_spec spec = {
	"import", "FILE...",
	"A FILE of - reads stdin. Framing: stream = concatenated msgpack values;\n"
	"lenpfx = u32 big-endian length + message bytes, so that broken messages\n"
	"can be stored too. Rejected messages are kept with source FILE:INDEX\n"
	"(see oplogd rejects). Where a stream cannot be split any further (a\n"
	"truncated value, the byte 0xc1), the rest of the file is one malformed\n"
	"reject and the skipped byte count is reported on stderr.\n"
	"--json: {\"messages\",\"applied\",\"duplicates\",\"late\",\"below_boundary\","
	"\"rejected\":{CODE:n}}.",
	options
};

struct import_args {
	int      lenpfx;
	uint64_t batch;   /* 0 = from the configuration */
};

static int on_option(void *ctx, const struct cli_option *opt, const char *arg)
{
	struct import_args *a = ctx;

	switch (opt->id) {
	case OPT_FRAMING:
		if (strcmp(arg, "stream") == 0)
			a->lenpfx = 0;
		else if (strcmp(arg, "lenpfx") == 0)
			a->lenpfx = 1;
		else
			return cli_usage_error(&spec, "--framing: expected stream or lenpfx, got '%s'",
			                       arg);
		return 0;
	case OPT_BATCH:
		if (cli_parse_uint(arg, &a->batch) != 0 || a->batch == 0 || a->batch > 10000000)
			return cli_usage_error(&spec, "--batch: expected 1..10000000, got '%s'", arg);
		return 0;
	}
	return 0;
}

struct importer {
	struct oplog_store      *s;
	struct oplog_batch      *b;
	size_t                   max_msg;
	uint64_t                 batch_n;
	int64_t                  skew_ms;   /* 0 = no clock check */
	uint64_t                 now_ms;
	uint64_t                 messages;
	uint64_t                 rejected[OPLOG_R__COUNT];
	struct oplog_apply_stats total;
};

/* Apply what the batch holds. On failure nothing of this batch is applied
 * and the message is in oplog_error_last(). */
static int flush(struct importer *im)
{
	struct oplog_apply_stats st = { 0 };
	int err;

	if (oplog_batch_count(im->b) == 0)
		return 0;
	if ((err = oplog_store_apply(im->s, im->b, &st)) != 0)
		return err;
	oplog_apply_stats_add(&im->total, &st);
	oplog_batch_clear(im->b);
	return 0;
}

static int reject(struct importer *im, const char *file, uint64_t index,
                  const uint8_t *msg, size_t len, const struct oplog_reject *rej)
{
	char source[4096];

	snprintf(source, sizeof(source), "%s:%" PRIu64, file, index);
	im->rejected[rej->reason]++;
	return oplog_batch_reject(im->b, source, msg, len, rej);
}

/* One message: decode, check the clock, batch it, apply a full batch. */
static int one(struct importer *im, const char *file, uint64_t index,
               const uint8_t *msg, size_t len)
{
	struct oplog_entry e;
	struct oplog_reject rej;
	int err;

	im->messages++;
	err = oplog_entry_decode(msg, len, im->max_msg, 0, &e, &rej);
	if (err == 0 && im->skew_ms > 0 && e.wall > im->now_ms &&
	    e.wall - im->now_ms > (uint64_t)im->skew_ms) {
		rej.reason = OPLOG_R_CLOCK_SKEW;
		rej.field = OPLOG_F_WALL;
		snprintf(rej.detail, sizeof(rej.detail),
		         "wall %" PRIu64 " is %" PRIu64 " ms ahead of the local clock "
		         "(limit %" PRId64 " ms, [apply] clock_skew_ms)",
		         e.wall, e.wall - im->now_ms, im->skew_ms);
		err = OPLOG_EREJECT;
	}
	if (err == 0)
		err = oplog_batch_add(im->b, msg, len, &e);
	else if (err == OPLOG_EREJECT)
		err = reject(im, file, index, msg, len, &rej);
	if (err == 0 && oplog_batch_count(im->b) >= im->batch_n)
		err = flush(im);
	return err;
}

/* The rest of a file from `pos` cannot be split into messages: one
 * malformed reject for all of it, and a word on stderr. */
static int unsplittable(struct importer *im, const char *file, uint64_t index,
                        const uint8_t *buf, size_t len, size_t pos, const char *why)
{
	struct oplog_reject rej = { OPLOG_R_MALFORMED, OPLOG_F_NONE, "" };

	snprintf(rej.detail, sizeof(rej.detail),
	         "cannot split the input at byte %zu (%s): %zu bytes skipped",
	         pos, why, len - pos);
	fprintf(stderr, "oplogd import: %s: message %" PRIu64 ": %s\n", file, index, rej.detail);
	im->messages++;
	return reject(im, file, index, buf + pos, len - pos, &rej);
}

static uint64_t be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | *p++;
	return v;
}


static int import_stream(struct importer *im, const char *file, const uint8_t *buf,
                         size_t len)
{
	uint64_t index = 0;
	size_t pos = 0, end;
	const char *why;
	int err;

	for (; pos < len; index++, pos = end) {
		if (oplog_entry_frame_end(buf, len, pos, &end, &why) != 0)
			return unsplittable(im, file, index, buf, len, pos, why);
		if ((err = one(im, file, index, buf + pos, end - pos)) != 0)
			return err;
	}
	return 0;
}

static int import_lenpfx(struct importer *im, const char *file, const uint8_t *buf,
                         size_t len)
{
	uint64_t index = 0, n;
	size_t pos = 0;
	int err;

	for (; pos < len; index++) {
		if (len - pos < 4)
			return unsplittable(im, file, index, buf, len, pos,
			                    "a truncated length prefix");
		n = be(buf + pos, 4);
		if (n > len - pos - 4)
			return unsplittable(im, file, index, buf, len, pos,
			                    "a frame longer than the rest of the input");
		if ((err = one(im, file, index, buf + pos + 4, (size_t)n)) != 0)
			return err;
		pos += 4 + (size_t)n;
	}
	return 0;
}

/* Map a regular file, or read a pipe or stdin whole. *mapped says which,
 * for the release. */
static int load(const char *path, uint8_t **buf, size_t *len, int *mapped)
{
	struct stat st;
	size_t total;
	int fd = -1, err;
	void *p;

	*buf = NULL;
	*mapped = 0;
	if (strcmp(path, "-") != 0) {
		if ((fd = open(path, O_RDONLY)) < 0)
			return oplog_error__set(OPLOG_EIO, "open %s: %s", path, strerror(errno));
		if (fstat(fd, &st) != 0) {
			err = oplog_error__set(OPLOG_EIO, "stat %s: %s", path, strerror(errno));
			close(fd);
			return err;
		}
		if (S_ISREG(st.st_mode)) {
			*len = (size_t)st.st_size;
			if (*len == 0) {
				close(fd);
				return 0;
			}
			p = mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0);
			err = p == MAP_FAILED
			      ? oplog_error__set(OPLOG_EIO, "mmap %s: %s", path, strerror(errno)) : 0;
			close(fd);
			if (err)
				return err;
			*buf = p;
			*mapped = 1;
			return 0;
		}
		close(fd);
	}
	return cli_read_input(path, SIZE_MAX - 1, buf, len, &total);
}

static void release(uint8_t *buf, size_t len, int mapped)
{
	if (mapped)
		munmap(buf, len);
	else
		free(buf);
}

static int print_summary(const struct importer *im, int json)
{
	json_t *doc;
	int r, err;

	if (!json) {
		printf("messages        %" PRIu64 "\n", im->messages);
		printf("applied         %" PRIu64 "\n", im->total.applied);
		printf("duplicates      %" PRIu64 "\n", im->total.duplicates);
		printf("late            %" PRIu64 "\n", im->total.late);
		printf("below_boundary  %" PRIu64 "\n", im->total.below_boundary);
		printf("rejected        %" PRIu64, im->total.rejected);
		for (r = OPLOG_R_NONE + 1; r < OPLOG_R__COUNT; r++)
			if (im->rejected[r])
				printf(" %s=%" PRIu64, oplog_reason_name((enum oplog_reason)r),
				       im->rejected[r]);
		putchar('\n');
		return fflush(stdout) == 0 ? 0 : oplog_error__set(OPLOG_EIO, "write stdout: %s",
		                                                   strerror(errno));
	}
	doc = json_pack("{s:I,s:I,s:I,s:I,s:I,s:o}",
	                "messages", (json_int_t)im->messages,
	                "applied", (json_int_t)im->total.applied,
	                "duplicates", (json_int_t)im->total.duplicates,
	                "late", (json_int_t)im->total.late,
	                "below_boundary", (json_int_t)im->total.below_boundary,
	                "rejected", oplog_json_reject_counts(im->rejected));
	if (!doc)
		return oplog_error__set(OPLOG_ENOMEM, "out of memory");
	err = cli_print_json(doc);
	json_decref(doc);
	return err;
}

int cmd_import(int argc, char **argv)
{
	struct cli_common common;
	struct oplog_config *cfg = NULL;
	struct import_args a = { 0, 0 };
	struct importer im;
	uint8_t *buf = NULL;
	size_t len = 0;
	int first, i, err, rc, mapped = 0;

	memset(&im, 0, sizeof(im));
	rc = cli_parse(&spec, argc, argv, &common, on_option, &a, &first);
	if (rc != CLI_RUN)
		goto done;
	if (first >= argc) {
		rc = cli_usage_error(&spec, "no input FILE");
		goto done;
	}
	rc = cli_load_config(&spec, &common, &cfg);
	if (rc != CLI_RUN)
		goto done;
	im.max_msg = (size_t)oplog_config_size(cfg, "apply.max_message_bytes");
	im.skew_ms = oplog_config_ms(cfg, "apply.clock_skew_ms");
	im.now_ms = (uint64_t)time(NULL) * 1000;
	im.batch_n = a.batch ? a.batch : (uint64_t)oplog_config_int(cfg, "apply.batch_size");
	/* A missing input is found before the store is created for nothing. */
	for (i = first; i < argc; i++)
		if (strcmp(argv[i], "-") != 0 && access(argv[i], R_OK) != 0) {
			rc = cli_error(&spec, "open %s: %s", argv[i], strerror(errno));
			goto done;
		}
	rc = cli_store_open(&spec, cfg, 0, &im.s);
	if (rc != CLI_RUN)
		goto done;
	if ((err = oplog_batch_new(&im.b)) != 0) {
		rc = cli_fail(&spec, err);
		goto done;
	}
	for (i = first; i < argc; i++) {
		if ((err = load(argv[i], &buf, &len, &mapped)) != 0) {
			rc = cli_fail(&spec, err);
			goto done;
		}
		err = a.lenpfx ? import_lenpfx(&im, argv[i], buf, len)
		               : import_stream(&im, argv[i], buf, len);
		/* The batch borrows from buf: apply it before letting buf go. */
		if (err == 0)
			err = flush(&im);
		if (err != 0) {
			rc = cli_error(&spec, "%s: %s (after %" PRIu64 " messages; earlier batches "
			               "stay applied)", argv[i], oplog_error_last(), im.messages);
			goto done;
		}
		release(buf, len, mapped);
		buf = NULL;
	}
	if ((err = print_summary(&im, common.json)) != 0) {
		rc = cli_fail(&spec, err);
		goto done;
	}
	rc = CLI_EXIT_OK;
done:
	oplog_batch_free(im.b);
	if (buf)
		release(buf, len, mapped);
	oplog_store_close(im.s);
	oplog_config_free(cfg);
	cli_common_free(&common);
	return rc;
}
