/*
 * cmd_datasets.c: `oplogd datasets [--json]`: every dataset in the store
 * with how many nodes it has and how many entries are stored for it.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli_store.h"
#include "oplog/error.h"
#include "oplog/json.h"

static const struct cli_spec spec = {
	"datasets", NULL,
	"Sorted by name. NODES counts the nodes with an entry or a head in the\n"
	"dataset; ENTRIES the entries stored now (pruned ones are not). Counting\n"
	"entries walks each dataset's index: linear in the entries, reading none.\n"
	"--json: [{\"dataset\",\"nodes\",\"entries\"}].",
	cli_json_options
};

/* The names, copied: a name callback's slice dies with its walk. */
struct names {
	char  **v;
	size_t  n, cap;
};

static int on_name(struct oplog_slice name, void *arg)
{
	struct names *ns = arg;
	char *copy;

	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? 2 * ns->cap : 16;
		char **v = realloc(ns->v, cap * sizeof(*v));
		if (!v)
			return oplog_error__set(OPLOG_ENOMEM, "datasets: out of memory");
		ns->v = v;
		ns->cap = cap;
	}
	if (!(copy = malloc(name.len + 1)))
		return oplog_error__set(OPLOG_ENOMEM, "datasets: out of memory");
	memcpy(copy, name.ptr, name.len);
	copy[name.len] = '\0';
	ns->v[ns->n++] = copy;
	return 0;
}

static int on_node(const struct oplog_node_info *n, void *arg)
{
	(void)n;
	(*(uint64_t *)arg)++;
	return 0;
}

int cmd_datasets(int argc, char **argv)
{
	struct cli_store_cmd c;
	struct names ns = { NULL, 0, 0 };
	uint64_t *nodes = NULL, *entries = NULL;
	json_t *doc = NULL;
	struct cli_table *t = NULL;
	int err, rc;

	rc = cli_store_begin(&spec, argc, argv, &c, CLI_STORE_RDONLY, 0, 0, NULL, NULL);
	if (rc != CLI_RUN)
		goto done;
	if ((err = oplog_store_datasets(c.s, on_name, &ns)) != 0) {
		rc = cli_fail(&spec, err);
		goto done;
	}
	nodes = calloc(ns.n + 1, sizeof(*nodes));
	entries = calloc(ns.n + 1, sizeof(*entries));
	if (!nodes || !entries) {
		rc = cli_error(&spec, "out of memory");
		goto done;
	}
	/* Node states are one record per node: cheap. Entries need a walk. */
	for (size_t i = 0; i < ns.n; i++) {
		if ((err = oplog_store_heads(c.s, cli_slice(ns.v[i]), on_node, &nodes[i])) ||
		    (err = oplog_store_dataset_entries(c.s, cli_slice(ns.v[i]), &entries[i]))) {
			rc = cli_fail(&spec, err);
			goto done;
		}
	}
	if (c.common.json) {
		if (!(doc = json_array()))
			goto oom;
		for (size_t i = 0; i < ns.n; i++)
			if (json_array_append_new(doc, json_pack("{s:o,s:I,s:I}", "dataset",
			                          oplog_json_text((const uint8_t *)ns.v[i],
			                                          strlen(ns.v[i])),
			                          "nodes", (json_int_t)nodes[i],
			                          "entries", (json_int_t)entries[i])) != 0)
				goto oom;
		rc = cli_answer_json(&spec, doc);
		doc = NULL;
		goto done;
	}
	if (!(t = cli_table_new(stdout, "DATASET NODES ENTRIES", 0)))
		goto oom;
	for (size_t i = 0; i < ns.n; i++) {
		cli_table_add_text(t, (const uint8_t *)ns.v[i], strlen(ns.v[i]));
		cli_table_add(t, "%" PRIu64, nodes[i]);
		cli_table_add(t, "%" PRIu64, entries[i]);
		cli_table_end_row(t);
	}
	rc = (err = cli_table_finish(t)) ? cli_fail(&spec, err) : CLI_EXIT_OK;
	goto done;
oom:
	rc = cli_error(&spec, "out of memory");
done:
	cli_table_free(t);
	json_decref(doc);
	for (size_t i = 0; i < ns.n; i++)
		free(ns.v[i]);
	free(ns.v);
	free(nodes);
	free(entries);
	cli_store_end(&c);
	return rc;
}
