/* cli.c: option parsing, configuration and output shared by the commands. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "oplog/bytes.h"
#include "oplog/error.h"
#include "oplog/json.h"
#include "oplog/log.h"

/* More options than any command needs; checked when building getopt's
 * table so that a long table fails loudly, not by truncation. */
#define MAX_OPTIONS 64

static const struct cli_command commands[] = {
#define CLI_COMMAND_ROW(name, summary) { #name, cmd_##name, summary },
	CLI_COMMANDS(CLI_COMMAND_ROW)
#undef CLI_COMMAND_ROW
};

const struct cli_command *cli_commands(size_t *n)
{
	*n = sizeof(commands) / sizeof(commands[0]);
	return commands;
}

static const char *summary_of(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return commands[i].summary;
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Messages                                                            */

static void vline(const struct cli_spec *spec, int see_help, const char *fmt, va_list ap)
{
	char msg[1024], *nl;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* One line, always: a message from a file or librdkafka may hold a
	 * newline, and scripts read the first line of stderr. */
	while ((nl = strpbrk(msg, "\r\n")) != NULL)
		*nl = ' ';
	if (see_help)
		fprintf(stderr, "oplogd %s: %s (see oplogd %s -h)\n", spec->name, msg, spec->name);
	else
		fprintf(stderr, "oplogd %s: %s\n", spec->name, msg);
}

int cli_usage_error(const struct cli_spec *spec, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline(spec, 1, fmt, ap);
	va_end(ap);
	return CLI_EXIT_ERROR;
}

int cli_error(const struct cli_spec *spec, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline(spec, 0, fmt, ap);
	va_end(ap);
	return CLI_EXIT_ERROR;
}

int cli_fail(const struct cli_spec *spec, int err)
{
	const char *msg = oplog_error_last();

	return cli_error(spec, "%s", *msg ? msg : oplog_strerror(err));
}

/* ------------------------------------------------------------------ */
/* Options                                                             */

void cli_help(const struct cli_spec *spec, FILE *out)
{
	const struct cli_option *o;
	const char *summary = summary_of(spec->name);

	fprintf(out, "usage: oplogd %s [options]%s%s\n", spec->name,
	        spec->operands ? " " : "", spec->operands ? spec->operands : "");
	if (summary)
		fprintf(out, "\n%c%s.\n", toupper((unsigned char)summary[0]), summary + 1);
	if (spec->about)
		fprintf(out, "\n%s\n", spec->about);
	fprintf(out, "\noptions:\n");
	for (o = spec->options; o->name || o->short_name; o++) {
		char left[80];
		int n;

		if (o->short_name && o->name)
			n = snprintf(left, sizeof(left), "-%c, --%s", o->short_name, o->name);
		else if (o->short_name)
			n = snprintf(left, sizeof(left), "-%c", o->short_name);
		else
			n = snprintf(left, sizeof(left), "    --%s", o->name);
		if (o->metavar && n >= 0 && (size_t)n < sizeof(left))
			snprintf(left + n, sizeof(left) - (size_t)n, " %s", o->metavar);
		if (strlen(left) <= 28)
			fprintf(out, "  %-28s  %s\n", left, o->help);
		else
			fprintf(out, "  %s\n  %-28s  %s\n", left, "", o->help);
	}
	/* A command that can end otherwise than 0 or 2 lists its exit codes in
	 * its about, on a line of their own starting "Exit "; the others end
	 * as every command can. */
	if (spec->about == NULL || (strncmp(spec->about, "Exit ", 5) != 0 &&
	                            strstr(spec->about, "\nExit ") == NULL))
		fprintf(out, "\nExit 0 done; 2 usage, configuration or I/O error.\n");
}

static const struct cli_option *option_by_id(const struct cli_spec *spec, int id)
{
	const struct cli_option *o;

	for (o = spec->options; o->name || o->short_name; o++)
		if (o->id == id)
			return o;
	return NULL;
}

/* getopt_long returns a short option's letter rather than its id. */
static int option_id(const struct cli_spec *spec, int ret)
{
	const struct cli_option *o;

	for (o = spec->options; o->name || o->short_name; o++)
		if (o->short_name != 0 && o->short_name == ret)
			return o->id;
	return ret;
}

/* The usage error for what getopt_long refused at argv[optind - 1]. */
static int bad_option(const struct cli_spec *spec, int ret, char **argv, int argc)
{
	const char *word = optind - 1 < argc && optind >= 1 ? argv[optind - 1] : "";
	const struct cli_option *o = optopt ? option_by_id(spec, optopt) : NULL;
	int is_long = strncmp(word, "--", 2) == 0;
	size_t len = strcspn(word, "=");

	if (ret == ':') {
		if (is_long)
			return cli_usage_error(spec, "option '%.*s' needs an argument", (int)len, word);
		return cli_usage_error(spec, "option '-%c' needs an argument", optopt);
	}
	if (is_long && o != NULL && o->has_arg == no_argument && word[len] == '=')
		return cli_usage_error(spec, "option '%.*s' takes no argument", (int)len, word);
	if (is_long)
		return cli_usage_error(spec, "unknown option '%.*s'", (int)len, word);
	return cli_usage_error(spec, "unknown option '-%c'", optopt ? optopt : '?');
}

int cli_parse(const struct cli_spec *spec, int argc, char **argv,
              struct cli_common *common, cli_option_fn fn, void *ctx, int *first)
{
	struct option longopts[MAX_OPTIONS + 1];
	char shortopts[3 * MAX_OPTIONS + 2];
	const struct cli_option *o;
	size_t nlong = 0, ns = 0, count = 0;
	int ret, rc = CLI_RUN;

	memset(common, 0, sizeof(*common));
	memset(longopts, 0, sizeof(longopts));
	shortopts[ns++] = ':';  /* tell a missing argument from an unknown option */
	for (o = spec->options; o->name || o->short_name; o++) {
		if (++count > MAX_OPTIONS)
			return cli_error(spec, "internal error: more than %d options", MAX_OPTIONS);
		if (o->name) {
			longopts[nlong].name = o->name;
			longopts[nlong].has_arg = o->has_arg;
			longopts[nlong].val = o->id;
			nlong++;
		}
		if (o->short_name) {
			shortopts[ns++] = (char)o->short_name;
			if (o->has_arg == required_argument)
				shortopts[ns++] = ':';
		}
	}
	shortopts[ns] = '\0';
	/* Every override takes one argv word at least. */
	common->overrides = calloc((size_t)argc + 1, sizeof(*common->overrides));
	if (common->overrides == NULL)
		return cli_error(spec, "out of memory");

	opterr = 0;
	optind = 0;  /* glibc: a full reset, for a second parse in one process */
	while (rc == CLI_RUN && (ret = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (ret != '?' && ret != ':')
			ret = option_id(spec, ret);
		switch (ret) {
		case '?':
		case ':':
			rc = bad_option(spec, ret, argv, argc);
			break;
		case CLI_OPT_HELP:
			cli_help(spec, stdout);
			rc = CLI_EXIT_OK;
			break;
		case CLI_OPT_CONFIG:
			common->config_path = optarg;
			break;
		case CLI_OPT_JSON:
			common->json = 1;
			break;
		case CLI_OPT_DUMP_CONFIG:
			common->dump_config = 1;
			break;
		case CLI_OPT_SHOW_SECRETS:
			common->show_secrets = 1;
			break;
		case CLI_OPT_SET:
		case CLI_OPT_KAFKA:
		case CLI_OPT_STORE:
			common->overrides[common->noverrides].id = ret;
			common->overrides[common->noverrides].arg = optarg;
			common->noverrides++;
			break;
		default:
			o = option_by_id(spec, ret);
			if (o == NULL || fn == NULL)
				rc = cli_error(spec, "internal error: option id %d has no handler", ret);
			else if ((ret = fn(ctx, o, o->has_arg == no_argument ? NULL : optarg)) != 0)
				rc = ret;
		}
	}
	*first = optind;
	return rc;
}

void cli_common_free(struct cli_common *common)
{
	free(common->overrides);
	common->overrides = NULL;
	common->noverrides = 0;
}

int cli_config_from(const struct cli_common *common, struct oplog_config **out)
{
	struct oplog_config *cfg = NULL;
	size_t i;
	int err;

	*out = NULL;
	err = oplog_config_new(&cfg);
	if (err == 0 && common->config_path)
		err = oplog_config_load_file(cfg, common->config_path);
	for (i = 0; err == 0 && i < common->noverrides; i++) {
		const struct cli_override *ov = &common->overrides[i];
		if (ov->id == CLI_OPT_STORE)
			err = oplog_config_set(cfg, "store.path", ov->arg, "--store");
		else
			err = oplog_config_override(cfg, ov->id == CLI_OPT_KAFKA ? "-X" : "--set",
			                            ov->arg);
	}
	if (err != 0) {
		oplog_config_free(cfg);
		return err;
	}
	*out = cfg;
	return 0;
}

int cli_load_config(const struct cli_spec *spec, const struct cli_common *common,
                    struct oplog_config **out)
{
	struct oplog_config *cfg = NULL;
	int err, rc = CLI_EXIT_ERROR;

	*out = NULL;
	if ((err = cli_config_from(common, &cfg)) != 0) {
		rc = cli_fail(spec, err);
		goto done;
	}
	if (common->dump_config) {
		unsigned how = common->show_secrets ? OPLOG_CONFIG_DUMP_SECRETS : 0;

		rc = oplog_config_dump(cfg, stdout, how) == 0 ? CLI_EXIT_OK : cli_fail(spec, OPLOG_EIO);
		goto done;
	}
	oplog_log_setup_from(cfg);
	*out = cfg;
	cfg = NULL;
	rc = CLI_RUN;
done:
	oplog_config_free(cfg);
	return rc;
}

int cli_parse_uint(const char *text, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = text;

	if (*p == '\0')
		return OPLOG_EINVAL;
	for (; *p; p++) {
		if (*p < '0' || *p > '9' || v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return OPLOG_EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*out = v;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Input and output                                                    */

int cli_read_input(const char *path, size_t max, uint8_t **buf, size_t *len, size_t *total)
{
	int use_stdin = path == NULL || strcmp(path, "-") == 0;
	const char *name = use_stdin ? "stdin" : path;
	size_t keep = max < SIZE_MAX ? max + 1 : max;
	size_t cap = 0, n = 0, sum = 0;
	uint8_t *b = NULL, scratch[16384];
	FILE *f = use_stdin ? stdin : fopen(path, "rb");
	int rc;

	*buf = NULL;
	if (f == NULL) {
		rc = oplog_error__set(OPLOG_EIO, "read %s: %s", name, strerror(errno));
		goto done;
	}
	for (;;) {
		size_t got, want;
		uint8_t *dst;

		if (n < keep && n == cap) {
			size_t ncap = cap ? 2 * cap : 65536;
			uint8_t *grown;
			if (ncap > keep)
				ncap = keep;
			grown = realloc(b, ncap);
			if (grown == NULL) {
				rc = oplog_error__set(OPLOG_ENOMEM, "read %s: out of memory", name);
				goto done;
			}
			b = grown;
			cap = ncap;
		}
		/* Past what is kept, read into scratch only to count the rest. */
		dst = n < keep ? b + n : scratch;
		want = n < keep ? cap - n : sizeof(scratch);
		got = fread(dst, 1, want, f);
		if (n < keep)
			n += got;
		sum += got;
		if (got < want) {
			if (ferror(f)) {
				rc = oplog_error__set(OPLOG_EIO, "read %s: %s", name, strerror(errno));
				goto done;
			}
			break;
		}
	}
	if (b == NULL && (b = malloc(1)) == NULL) {
		rc = oplog_error__set(OPLOG_ENOMEM, "read %s: out of memory", name);
		goto done;
	}
	*buf = b;
	*len = n;
	*total = sum;
	b = NULL;
	rc = 0;
done:
	free(b);
	if (f && !use_stdin)
		fclose(f);
	return rc;
}

int cli_print_json(const json_t *doc)
{
	if (json_dumpf(doc, stdout, OPLOG_JSON_FLAGS | JSON_ENCODE_ANY) != 0 || fputc('\n', stdout) == EOF ||
	    fflush(stdout) != 0)
		return oplog_error__set(OPLOG_EIO, "write stdout: %s", strerror(errno));
	return 0;
}

/* Set by on_stop_signal(), read by the command's run loop. */
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

const volatile sig_atomic_t *cli_catch_stop(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A closed terminal or a reload by habit must not kill a run
	 * mid-batch: SIGHUP stops it cleanly too. */
	sigaction(SIGHUP, &sa, NULL);
	return &stop_requested;
}

/* Counted by on_reload_signal(), read by the applier's run loop. */
static volatile sig_atomic_t reloads_requested;

static void on_reload_signal(int sig)
{
	(void)sig;
	reloads_requested++;
}

const volatile sig_atomic_t *cli_catch_reload(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_reload_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	return &reloads_requested;
}

int cli_answer_json(const struct cli_spec *spec, json_t *doc)
{
	int rc;

	if (doc == NULL)
		return cli_error(spec, "out of memory");
	rc = cli_print_json(doc) ? cli_fail(spec, OPLOG_EIO) : CLI_EXIT_OK;
	json_decref(doc);
	return rc;
}

const struct cli_option cli_json_options[] = {
	CLI_OPTION_JSON,
	CLI_OPTIONS_COMMON,
	CLI_OPTIONS_END
};

void cli_print_text(FILE *out, const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t len = oplog_utf8_seq(p + i, n - i);

		if (len == 1 && p[i] == '\\')
			fputs("\\\\", out);
		else if (len == 1 && p[i] == '\n')
			fputs("\\n", out);
		else if (len == 1 && p[i] == '\t')
			fputs("\\t", out);
		else if (len == 0 || (len == 1 && (p[i] < 0x20 || p[i] == 0x7f)))
			fprintf(out, "\\x%02x", p[i]);
		else if (len == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0)
			fprintf(out, "\\xc2\\x%02x", p[i + 1]);  /* C1 controls */
		else
			fwrite(p + i, 1, len, out);
		i += len ? len : 1;
	}
}

void cli_print_hex(FILE *out, const uint8_t *p, size_t n)
{
	char text[2 * 64 + 1];
	size_t piece;

	for (; n > 0; p += piece, n -= piece) {
		piece = n < 64 ? n : 64;
		oplog_hex(p, piece, text);
		fputs(text, out);
	}
}

/* Base64 in pieces of a multiple of 3 bytes, which encode exactly as the
 * whole does, so a 1 MiB body needs no 1.4 MiB buffer. */
void cli_print_base64(FILE *out, const uint8_t *p, size_t n)
{
	char text[1024 + 1];

	while (n > 0) {
		size_t piece = n < 768 ? n : 768;
		oplog_base64(p, piece, text);
		fputs(text, out);
		p += piece;
		n -= piece;
	}
}

static void print_field(FILE *out, const char *name, struct oplog_slice s)
{
	fprintf(out, "%-6s ", name);
	cli_print_text(out, s.ptr, s.len);
	fputc('\n', out);
}

void cli_print_entry(FILE *out, const struct oplog_entry *e)
{
	char iso[OPLOG_TIME_ISO_MAX], when[OPLOG_TIME_ISO_MAX + 3] = "";

	if (e->wall / 1000 <= (uint64_t)253402300799 && oplog_time_iso(e->wall, iso) == 0)
		snprintf(when, sizeof(when), " (%s)", iso);
	print_field(out, "ds:", e->ds);
	print_field(out, "node:", e->node);
	fprintf(out, "%-6s %" PRIu64 "\n", "seq:", e->seq);
	fprintf(out, "%-6s %" PRIu64 "%s\n", "wall:", e->wall, when);
	fprintf(out, "%-6s %" PRIu32 "\n", "logic:", e->logic);
	print_field(out, "col:", e->col);
	print_field(out, "key:", e->key);
	fprintf(out, "%-6s %s\n", "op:", e->op == OPLOG_OP_PUT ? "put" : "del");
	if (e->op == OPLOG_OP_PUT) {
		fprintf(out, "%-6s %zu bytes", "data:", e->data.len);
		if (e->data.len > 0)
			fputs(", base64 ", out);
		cli_print_base64(out, e->data.ptr, e->data.len);
		fputc('\n', out);
	} else {
		fprintf(out, "%-6s -\n", "data:");
	}
	fprintf(out, "%-6s ", "prev:");
	if (e->prev)
		cli_print_hex(out, e->prev, OPLOG_HASH_LEN);
	else
		fputc('-', out);
	fprintf(out, "\n%-6s ", "hash:");
	cli_print_hex(out, e->hash, OPLOG_HASH_LEN);
	fputc('\n', out);
}
