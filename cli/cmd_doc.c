/*
 * cmd_doc.c: `oplogd doc --dataset DS --col C --key K [--json]`: a
 * document's last-writer-wins winner. A tombstone is found (op del, data
 * null); only a document never written is not found (exit 1).
 */
#include <inttypes.h>

#include "cli_store.h"
#include "oplog/error.h"
#include "oplog/json.h"

enum { OPT_COL = CLI_OPT_CMD, OPT_KEY };

static const struct cli_option options[] = {
	CLI_OPTION_DATASET,
	{ "col", 0, required_argument, "C", "the collection (required)", OPT_COL },
	{ "key", 0, required_argument, "K", "the document key (required)", OPT_KEY },
	CLI_OPTION_JSON,
	CLI_OPTIONS_COMMON,
	CLI_OPTIONS_END
};

static const struct cli_spec spec = {
	"doc", NULL,
	"A del leaves a tombstone: the document exists, with op del.\n"
	"Exit 0 the document exists; 1 it was never written; 2 usage or store error.\n"
	"--json: {\"found\",\"op\",\"node\",\"seq\",\"wall\",\"logic\",\"hash\",\"data\"};"
	" data is base64,\nnull for a tombstone; every field but found is null when "
	"not found.",
	options
};

struct doc_args {
	const char *col, *key;
};

static int on_option(void *ctx, const struct cli_option *opt, const char *arg)
{
	struct doc_args *a = ctx;

	if (opt->id == OPT_COL)
		a->col = arg;
	else if (opt->id == OPT_KEY)
		a->key = arg;
	return 0;
}

static json_t *found_json(const struct oplog_doc *d)
{
	json_t *doc = json_object();

	if (doc == NULL || json_object_set_new(doc, "found", json_true()) != 0 ||
	    oplog_json_doc_into(doc, d) != 0) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

static json_t *not_found_json(void)
{
	return json_pack("{s:b,s:n,s:n,s:n,s:n,s:n,s:n,s:n}", "found", 0, "op", "node",
	                 "seq", "wall", "logic", "hash", "data");
}

static void print_text(const struct oplog_doc *d)
{
	printf("op:    %s\nnode:  ", d->op == OPLOG_OP_DEL ? "del" : "put");
	cli_print_text(stdout, d->node.ptr, d->node.len);
	printf("\nseq:   %" PRIu64 "\nwall:  %" PRIu64 "\nlogic: %" PRIu32 "\nhash:  ",
	       d->seq, d->wall, d->logic);
	cli_print_hex(stdout, d->hash, OPLOG_HASH_LEN);
	if (d->op == OPLOG_OP_DEL) {
		fputs("\ndata:  - (tombstone)\n", stdout);
		return;
	}
	printf("\ndata:  %zu bytes%s", d->data.len, d->data.len ? ", base64 " : "");
	cli_print_base64(stdout, d->data.ptr, d->data.len);
	putchar('\n');
}

struct out {
	int     json;
	json_t *doc;
};

static int on_doc(const struct oplog_doc *d, void *arg)
{
	struct out *o = arg;

	if (!o->json) {
		print_text(d);
		return 0;
	}
	/* Built inside the callback: d is borrowed from the read txn. */
	if ((o->doc = found_json(d)) == NULL)
		return oplog_error__set(OPLOG_ENOMEM, "out of memory");
	return 0;
}

int cmd_doc(int argc, char **argv)
{
	struct cli_store_cmd c;
	struct doc_args a = { NULL, NULL };
	struct out o = { 0, NULL };
	int err, rc;

	rc = cli_store_begin(&spec, argc, argv, &c, CLI_STORE_RDONLY | CLI_STORE_NEED_DS,
	                     0, 0, on_option, &a);
	if (rc != CLI_RUN)
		goto done;
	if (a.col == NULL || a.key == NULL) {
		rc = cli_usage_error(&spec, "--col C and --key K are required");
		goto done;
	}
	o.json = c.common.json;
	err = oplog_store_doc(c.s, cli_slice(c.dataset), cli_slice(a.col), cli_slice(a.key),
	                      on_doc, &o);
	if (err != 0 && err != OPLOG_ENOTFOUND) {
		rc = cli_fail(&spec, err);
		goto done;
	}
	if (o.json) {
		if (err == OPLOG_ENOTFOUND && (o.doc = not_found_json()) == NULL) {
			rc = cli_error(&spec, "out of memory");
			goto done;
		}
		if (cli_print_json(o.doc) != 0) {
			rc = cli_fail(&spec, OPLOG_EIO);
			goto done;
		}
	} else if (err == OPLOG_ENOTFOUND) {
		puts("not found");
	}
	rc = err == 0 ? CLI_EXIT_OK : CLI_EXIT_NO;
done:
	json_decref(o.doc);
	cli_store_end(&c);
	return rc;
}
