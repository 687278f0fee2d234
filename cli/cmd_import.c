/*
 * cmd_import.c: `oplogd import --store DIR [--framing stream|lenpfx]
 * [--batch N] FILE...`.
 *
 * Applies messages from files through the same intake as the daemon's
 * from Kafka (oplog/intake.h): decoded with [apply] max_message_bytes,
 * checked against [apply] clock_skew_ms, into a batch as an entry or as a
 * reject whose source is "FILE:INDEX" (0-based message index in that
 * file; oplog_intake_take_framed). This thread splits and decodes while the writer thread applies
 * the batch before. Batches follow [apply] batch_size, batch_bytes and
 * batch_ms; with --batch N each holds exactly N messages (the last of a
 * file fewer). A batch that failed leaves the earlier ones applied.
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
#include <unistd.h>

#include "cli_store.h"
#include "oplog/error.h"
#include "oplog/intake.h"
#include "oplog/json.h"

enum { OPT_FRAMING = CLI_OPT_CMD, OPT_BATCH };

static const struct cli_option options[] = {
	{ "framing", 0, required_argument, "stream|lenpfx",
	  "how messages are delimited in FILE (default stream)", OPT_FRAMING },
	{ "batch", 0, required_argument, "N",
	  "exactly N messages per write transaction (default: adaptive, see [apply])",
	  OPT_BATCH },
	CLI_OPTION_JSON,
	CLI_OPTIONS_COMMON,
	CLI_OPTIONS_END
};

static const struct cli_spec spec = {
	"import", "FILE...",
	"A FILE of - reads stdin. Framing: stream = concatenated msgpack values;\n"
	"lenpfx = u32 big-endian length + message bytes, so that broken messages\n"
	"can be stored too. Rejected messages are kept with source FILE:INDEX\n"
	"(see oplogd rejects). Where a FILE cannot be split any further (a\n"
	"truncated value, the byte 0xc1, a bad length prefix), the rest of it is\n"
	"one malformed reject, stderr says from which byte offset and how many\n"
	"bytes were skipped, and the exit code is 1: messages after the damage\n"
	"are not read.\n"
	"Exit 0 every FILE read to its end; 1 a FILE damaged past splitting; 2 usage,\n"
	"configuration or I/O error.\n"
	"Without --batch, a write transaction ends at [apply] batch_size messages,\n"
	"batch_bytes message bytes or batch_ms, whichever comes first, or at the\n"
	"end of a FILE; the next batch is decoded while one is written.\n"
	"--json: {\"messages\",\"applied\",\"duplicates\",\"late\",\"below_boundary\","
	"\"rejected\":{CODE:n}}.",
	options
};

struct import_args {
	enum oplog_framing framing;
	uint64_t           batch;    /* 0 = from the configuration */
};

static int on_option(void *ctx, const struct cli_option *opt, const char *arg)
{
	struct import_args *a = ctx;

	switch (opt->id) {
	case OPT_FRAMING:
		if (oplog_entry_framing_parse(arg, &a->framing) != 0)
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
	struct oplog_intake     *in;
	struct oplog_apply_stats total;
};

/* A batch is applied: count what applying did. (A failure comes back
 * from the intake call that noticed it.) */
static void on_applied(void *arg, int rc, const struct oplog_apply_stats *st, double secs)
{
	struct importer *im = arg;

	(void)secs;
	if (rc == 0)
		oplog_apply_stats_add(&im->total, st);
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
	struct oplog_intake_stats is;
	json_t *doc;
	int r, err;

	oplog_intake_stats(im->in, &is);
	if (!json) {
		printf("messages        %" PRIu64 "\n", is.messages);
		printf("applied         %" PRIu64 "\n", im->total.applied);
		printf("duplicates      %" PRIu64 "\n", im->total.duplicates);
		printf("late            %" PRIu64 "\n", im->total.late);
		printf("below_boundary  %" PRIu64 "\n", im->total.below_boundary);
		printf("rejected        %" PRIu64, im->total.rejected);
		for (r = OPLOG_R_NONE + 1; r < OPLOG_R__COUNT; r++)
			if (is.rejected_by[r])
				printf(" %s=%" PRIu64, oplog_reason_name((enum oplog_reason)r),
				       is.rejected_by[r]);
		putchar('\n');
		return fflush(stdout) == 0 ? 0 : oplog_error__set(OPLOG_EIO, "write stdout: %s",
		                                                   strerror(errno));
	}
	doc = json_pack("{s:I,s:I,s:I,s:I,s:I,s:o}",
	                "messages", (json_int_t)is.messages,
	                "applied", (json_int_t)im->total.applied,
	                "duplicates", (json_int_t)im->total.duplicates,
	                "late", (json_int_t)im->total.late,
	                "below_boundary", (json_int_t)im->total.below_boundary,
	                "rejected", oplog_json_reject_counts(is.rejected_by));
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
	struct import_args a = { OPLOG_FRAMING_STREAM, 0 };
	struct oplog_intake_cut cut;
	struct importer im;
	struct oplog_intake_opts io;
	struct oplog_intake_stats is;
	struct oplog_store *s = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	int first, i, err, rc, mapped = 0, damaged = 0;

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
	oplog_intake_opts_from_config(&io, cfg);
	if (a.batch) {
		io.batch_count = (size_t)a.batch;
		io.fixed = 1;
	}
	io.arg = &im;
	io.on_applied = on_applied;
	/* A missing input is found before the store is created for nothing. */
	for (i = first; i < argc; i++)
		if (strcmp(argv[i], "-") != 0 && access(argv[i], R_OK) != 0) {
			rc = cli_error(&spec, "open %s: %s", argv[i], strerror(errno));
			goto done;
		}
	rc = cli_store_open(&spec, cfg, 0, &s);
	if (rc != CLI_RUN)
		goto done;
	if ((err = oplog_intake_new(&im.in, s, &io)) != 0) {
		rc = cli_fail(&spec, err);
		goto done;
	}
	for (i = first; i < argc; i++) {
		if ((err = load(argv[i], &buf, &len, &mapped)) != 0) {
			rc = cli_fail(&spec, err);
			goto done;
		}
		err = oplog_intake_take_framed(im.in, argv[i], buf, len, a.framing, &cut);
		if (cut.skipped > 0) {
			damaged++;
			fprintf(stderr, "oplogd import: %s: message %" PRIu64 ": %s\n", argv[i],
			        cut.index, cut.detail);
		}
		/* The batches borrow from buf: apply them before letting buf go. */
		if (err == 0)
			err = oplog_intake_flush(im.in);
		if (err != 0) {
			oplog_intake_stats(im.in, &is);
			rc = cli_error(&spec, "%s: %s (after %" PRIu64 " messages; earlier batches "
			               "stay applied)", argv[i], oplog_error_last(), is.messages);
			goto done;
		}
		release(buf, len, mapped);
		buf = NULL;
	}
	if ((err = print_summary(&im, common.json)) != 0) {
		rc = cli_fail(&spec, err);
		goto done;
	}
	rc = damaged ? CLI_EXIT_NO : CLI_EXIT_OK;
done:
	/* The writer first: a batch in flight may still borrow from buf. */
	oplog_intake_free(im.in);
	if (buf)
		release(buf, len, mapped);
	oplog_store_close(s);
	oplog_config_free(cfg);
	cli_common_free(&common);
	return rc;
}
