/*
 * cmd_decode.c: `oplogd decode [--json] [FILE|-]`.
 *
 * The whole input is ONE message value, exactly as it would arrive in a
 * Kafka message, and gets the applier's verdict: the entry (exit 0) or the
 * rejection reason with its field (exit 1). The size limit is the
 * applier's too ([apply] max_message_bytes), so a message decode accepts
 * is one `apply` accepts, clock skew aside.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "oplog/error.h"
#include "oplog/json.h"

static const struct cli_spec spec = {
	"decode", "[FILE|-]",
	"Reads FILE, or stdin when FILE is - or absent. Valid: the entry's fields,\n"
	"exit 0. Invalid: the reason code, the field and a detail, exit 1.\n"
	"Exit 0 valid; 1 rejected; 2 usage or I/O error.\n"
	"--json: {\"ok\":true,\"ds\",\"node\",\"seq\",\"wall\",\"logic\",\"col\",\"key\","
	"\"op\",\"data\",\"prev\",\"hash\"}\n"
	"    or {\"ok\":false,\"reason\",\"field\",\"detail\"}.",
	cli_json_options
};

/* {"ok":true, the entry's fields}. NULL on ENOMEM. */
static json_t *valid_json(const struct oplog_entry *e)
{
	json_t *doc = json_object();

	if (doc == NULL || json_object_set_new(doc, "ok", json_true()) != 0 ||
	    oplog_json_entry_into(doc, e) != 0) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

/* {"ok":false,"reason","field","detail"}. NULL on ENOMEM. */
static json_t *reject_json(const struct oplog_reject *rej)
{
	const char *field = oplog_field_name(rej->field);
	json_t *doc = json_object();
	int err = doc == NULL;

	err = err || json_object_set_new(doc, "ok", json_false()) != 0;
	err = err || json_object_set_new(doc, "reason",
	                                 json_string(oplog_reason_name(rej->reason))) != 0;
	err = err || json_object_set_new(doc, "field",
	                                 field ? json_string(field) : json_null()) != 0;
	err = err || json_object_set_new(doc, "detail",
	                                 oplog_json_text((const uint8_t *)rej->detail,
	                                                 strlen(rej->detail))) != 0;
	if (err) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

static void reject_text(const struct oplog_reject *rej)
{
	const char *field = oplog_field_name(rej->field);

	printf("rejected: reason=%s field=%s detail=", oplog_reason_name(rej->reason),
	       field ? field : "-");
	cli_print_text(stdout, (const uint8_t *)rej->detail, strlen(rej->detail));
	putchar('\n');
}

int cmd_decode(int argc, char **argv)
{
	struct cli_common common;
	struct oplog_config *cfg = NULL;
	struct oplog_entry e;
	struct oplog_reject rej;
	const char *path;
	uint8_t *buf = NULL;
	json_t *doc = NULL;
	size_t max, len, total;
	int first, err, rc;

	rc = cli_parse(&spec, argc, argv, &common, NULL, NULL, &first);
	if (rc != CLI_RUN)
		goto done;
	if (argc - first > 1) {
		rc = cli_usage_error(&spec, "one input only, got '%s' and '%s'",
		                     argv[first], argv[first + 1]);
		goto done;
	}
	path = first < argc ? argv[first] : "-";
	rc = cli_load_config(&spec, &common, &cfg);
	if (rc != CLI_RUN)
		goto done;
	max = (size_t)cfg->apply.max_message_bytes;
	err = cli_read_input(path, max, &buf, &len, &total);
	if (err != 0) {
		rc = cli_fail(&spec, err);
		goto done;
	}
	err = oplog_entry_decode(buf, len, max, 0, &e, &rej);
	if (err != 0 && err != OPLOG_EREJECT) {
		rc = cli_fail(&spec, err);
		goto done;
	}
	/* Only max + 1 bytes were kept; the true size is total. */
	if (err == OPLOG_EREJECT && rej.reason == OPLOG_R_TOO_LARGE)
		snprintf(rej.detail, sizeof(rej.detail),
		         "message is %zu bytes, over the limit of %zu ([apply] max_message_bytes)",
		         total, max);
	if (common.json) {
		doc = err == 0 ? valid_json(&e) : reject_json(&rej);
		if (doc == NULL) {
			rc = cli_error(&spec, "out of memory");
			goto done;
		}
		if (cli_print_json(doc) != 0) {
			rc = cli_fail(&spec, OPLOG_EIO);
			goto done;
		}
	} else if (err == 0) {
		cli_print_entry(stdout, &e);
	} else {
		reject_text(&rej);
	}
	rc = err == 0 ? CLI_EXIT_OK : CLI_EXIT_NO;
done:
	json_decref(doc);
	free(buf);
	oplog_config_free(cfg);
	cli_common_free(&common);
	return rc;
}
