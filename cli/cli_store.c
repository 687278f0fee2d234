/* cli_store.c: store opening, parsers and streamed JSON for the store commands. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "cli_store.h"
#include "oplog/bytes.h"
#include "oplog/error.h"
#include "oplog/json.h"
#include "oplog/log.h"

/* An upgrade of the store (oplog_store_migrate) is logged line by line,
 * with the [log] settings of the command's configuration. */
static void store_notice(const char *line, void *arg)
{
	(void)arg;
	oplog_log(OPLOG_LOG_INFO, "%s", line);
}

int cli_store_opts(const struct cli_spec *spec, const struct oplog_config *cfg,
                   unsigned flags, struct oplog_store_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->path = cfg->store.path;
	opts->map_size = (size_t)cfg->store.map_size;
	opts->max_size = (size_t)cfg->store.max_size;
	opts->reject_max_bytes = (size_t)cfg->store.reject_max_bytes;
	opts->mode = cfg->store.mode;
	opts->rejects_max = (uint64_t)cfg->store.rejects_max;
	opts->flags = flags;
	if (!(flags & OPLOG_STORE_RDONLY)) {
		if (cfg->store.writemap)
			opts->flags |= OPLOG_STORE_WRITEMAP;
		opts->notice = store_notice;
	}
	if (*opts->path == '\0')
		return cli_error(spec, "no store path: give --store DIR or [store] path");
	if (opts->max_size < opts->map_size)
		return cli_error(spec, "[store] max_size (%zu MiB) is below [store] map_size (%zu MiB)",
		                 opts->max_size >> 20, opts->map_size >> 20);
	return CLI_RUN;
}

int cli_store_open(const struct cli_spec *spec, const struct oplog_config *cfg,
                   unsigned flags, struct oplog_store **out)
{
	struct oplog_store_opts opts;
	int err;

	*out = NULL;
	if ((err = cli_store_opts(spec, cfg, flags, &opts)) != CLI_RUN)
		return err;
	err = oplog_store_open(out, &opts);
	if (err == OPLOG_ENOTFOUND && (flags & OPLOG_STORE_RDONLY))
		return cli_error(spec, "no store at %s", opts.path);
	if (err != 0)
		return cli_fail(spec, err);
	return CLI_RUN;
}

/* Options shared by the store commands, then the command's own. */
struct begin_ctx {
	const struct cli_spec *spec;
	struct cli_store_cmd  *c;
	cli_option_fn          fn;
	void                  *ctx;
};

static int begin_option(void *arg, const struct cli_option *opt, const char *val)
{
	struct begin_ctx *b = arg;

	switch (opt->id) {
	case CLI_OPT_DATASET:
		b->c->dataset = val;
		return 0;
	case CLI_OPT_NODE:
		b->c->node = val;
		return 0;
	case CLI_OPT_LIMIT:
		if (cli_parse_uint(val, &b->c->limit) != 0)
			return cli_usage_error(b->spec, "--limit: bad number '%s'", val);
		return 0;
	}
	if (b->fn == NULL)
		return cli_error(b->spec, "internal error: option id %d has no handler", opt->id);
	return b->fn(b->ctx, opt, val);
}

int cli_store_begin(const struct cli_spec *spec, int argc, char **argv,
                    struct cli_store_cmd *c, unsigned flags, int min, int max,
                    cli_option_fn fn, void *ctx)
{
	struct begin_ctx b = { spec, c, fn, ctx };
	int rc;

	memset(c, 0, sizeof(*c));
	rc = cli_parse(spec, argc, argv, &c->common, begin_option, &b, &c->first);
	if (rc != CLI_RUN)
		return rc;
	c->noperands = argc - c->first;
	if (max >= 0 && c->noperands > max)
		return cli_usage_error(spec, "unexpected operand '%s'", argv[c->first + max]);
	if (c->noperands < min)
		return cli_usage_error(spec, "missing operand %s", spec->operands);
	if ((flags & CLI_STORE_NEED_DS) && c->dataset == NULL)
		return cli_usage_error(spec, "--dataset DS is required");
	rc = cli_load_config(spec, &c->common, &c->cfg);
	if (rc != CLI_RUN || (flags & CLI_STORE_NO_STORE))
		return rc;
	return cli_store_open(spec, c->cfg, flags & CLI_STORE_RDONLY ? OPLOG_STORE_RDONLY : 0,
	                      &c->s);
}

void cli_store_end(struct cli_store_cmd *c)
{
	oplog_store_close(c->s);
	c->s = NULL;
	oplog_config_free(c->cfg);
	c->cfg = NULL;
	cli_common_free(&c->common);
}

struct oplog_slice cli_slice(const char *s)
{
	struct oplog_slice sl = { (const uint8_t *)s, strlen(s) };

	return sl;
}

int cli_parse_hlc(const char *text, uint64_t *wall, uint32_t *logic, int *has_logic)
{
	const char *colon = strchr(text, ':');
	char wbuf[32];
	uint64_t w, l = 0;
	size_t wlen = colon ? (size_t)(colon - text) : strlen(text);

	if (wlen == 0 || wlen >= sizeof(wbuf))
		return OPLOG_EINVAL;
	memcpy(wbuf, text, wlen);
	wbuf[wlen] = '\0';
	if (cli_parse_uint(wbuf, &w) != 0)
		return OPLOG_EINVAL;
	if (colon && (cli_parse_uint(colon + 1, &l) != 0 || l > UINT32_MAX))
		return OPLOG_EINVAL;
	*wall = w;
	*logic = (uint32_t)l;
	*has_logic = colon != NULL;
	return 0;
}

int cli_parse_hash(const char *text, uint8_t out[OPLOG_HASH_LEN])
{
	if (strlen(text) != 2 * OPLOG_HASH_LEN)
		return OPLOG_EINVAL;
	return oplog_unhex(text, out, OPLOG_HASH_LEN) == 0 ? 0 : OPLOG_EINVAL;
}

static int write_err(void)
{
	return oplog_error__set(OPLOG_EIO, "write stdout: %s", strerror(errno ? errno : EIO));
}

void cli_jlist_begin(struct cli_jlist *l, FILE *out, const char *open)
{
	l->out = out;
	l->open = open;
	l->n = 0;
	l->opened = 0;
}

int cli_jlist_add(struct cli_jlist *l, json_t *item)
{
	int rc = 0;

	if (item == NULL)
		return OPLOG_ENOMEM;
	if (!l->opened && fputs(l->open, l->out) < 0)
		rc = write_err();
	else if (l->n && fputc(',', l->out) == EOF)
		rc = write_err();
	else if (json_dumpf(item, l->out, OPLOG_JSON_FLAGS) != 0)
		rc = write_err();
	l->opened = 1;
	l->n++;
	json_decref(item);
	return rc;
}

int cli_jlist_close(struct cli_jlist *l, const char *close)
{
	if (!l->opened && fputs(l->open, l->out) < 0)
		return write_err();
	l->opened = 1;
	return fputs(close, l->out) < 0 ? write_err() : 0;
}

int cli_json_end(FILE *out)
{
	if (fputc('\n', out) == EOF || fflush(out) != 0 || ferror(out))
		return write_err();
	return 0;
}

void cli_print_entry_header(FILE *out)
{
	fputs("WALL LOGIC NODE SEQ OP COL KEY HASH\n", out);
}

void cli_print_entry_line(FILE *out, const struct oplog_entry *e)
{
	fprintf(out, "%" PRIu64 " %" PRIu32 " ", e->wall, e->logic);
	cli_print_text(out, e->node.ptr, e->node.len);
	fprintf(out, " %" PRIu64 " %s ", e->seq, e->op == OPLOG_OP_DEL ? "del" : "put");
	cli_print_text(out, e->col.ptr, e->col.len);
	fputc(' ', out);
	cli_print_text(out, e->key.ptr, e->key.len);
	fputc(' ', out);
	cli_print_hex(out, e->hash, OPLOG_HASH_LEN);
	fputc('\n', out);
}

int cli_jlist_finish(const struct cli_spec *spec, struct cli_jlist *l, int json, int err)
{
	if (err == 0 && json && (err = cli_jlist_close(l, "]")) == 0)
		err = cli_json_end(stdout);
	return err ? cli_fail(spec, err) : CLI_EXIT_OK;
}

const struct cli_option cli_dataset_options[] = {
	CLI_OPTION_DATASET,
	CLI_OPTION_JSON,
	CLI_OPTIONS_COMMON,
	CLI_OPTIONS_END
};

int cli_store_list(const struct cli_spec *spec, int argc, char **argv, unsigned flags,
                   const char *header, cli_list_walk walk)
{
	struct cli_store_cmd c;
	int rc;

	rc = cli_store_begin(spec, argc, argv, &c, flags, 0, 0, NULL, NULL);
	if (rc == CLI_RUN)
		rc = cli_store_list_run(spec, &c, header, walk);
	cli_store_end(&c);
	return rc;
}

int cli_store_list_run(const struct cli_spec *spec, struct cli_store_cmd *c,
                       const char *header, cli_list_walk walk)
{
	struct cli_list l;
	int err;

	l.json = c->common.json;
	l.table = NULL;
	cli_jlist_begin(&l.items, stdout, "[");
	if (!l.json && (l.table = cli_table_new(stdout, header, 0)) == NULL)
		return cli_fail(spec, OPLOG_ENOMEM);
	err = walk(c, &l);
	if (err == 0 && l.table)
		err = cli_table_finish(l.table);
	cli_table_free(l.table);
	return cli_jlist_finish(spec, &l.items, l.json, err);
}

static int lost_fn(const struct oplog_lost *l, void *arg)
{
	json_t *n = l->to > l->from ? json_integer(l->to - l->from) : json_null();

	return json_array_append_new(arg, json_pack("{s:s,s:i,s:I,s:I,s:o,s:I}",
	                                            "topic", l->topic,
	                                            "partition", (int)l->partition,
	                                            "from", (json_int_t)l->from,
	                                            "to", (json_int_t)l->to, "messages", n,
	                                            "at_ms", (json_int_t)l->at_ms))
	       ? OPLOG_ENOMEM : 0;
}

int cli_lost_json(struct oplog_store *s, json_t **out)
{
	if (!(*out = json_array()))
		return OPLOG_ENOMEM;
	return oplog_store_lost(s, lost_fn, *out);
}

json_int_t cli_lost_messages(const json_t *lost)
{
	json_int_t n = 0;
	size_t i;
	json_t *l;

	json_array_foreach(lost, i, l)
		n += json_integer_value(json_object_get(l, "messages"));
	return n;
}
