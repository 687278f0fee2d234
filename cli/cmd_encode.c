/*
 * cmd_encode.c: `oplogd encode [FILE|-]`: one entry in `get --json`'s
 * form made into the message a producer sends: the hash computed, the
 * msgpack bytes written to stdout. The inverse of `decode`.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "oplog/bytes.h"
#include "oplog/error.h"

static const struct cli_option options[] = {
	CLI_OPTIONS_COMMON,
	CLI_OPTIONS_END
};

static const struct cli_spec spec = {
	"encode", "[FILE|-]",
	"Reads one JSON object from FILE, or stdin when FILE is - or absent:\n"
	"{\"ds\",\"node\",\"seq\",\"wall\",\"logic\",\"col\",\"key\",\"op\":\"put\"|\"del\",\n"
	"\"data\": base64 (put) or null (del), \"prev\": 64 hex digits or null (seq 1)}.\n"
	"\"hash\" may be present and is ignored: it is computed. Writes the message\n"
	"bytes to stdout (not to a terminal), ready for `oplogd decode` or a\n"
	"producer. The entry must be valid as `decode` judges it; else exit 2 says\n"
	"why and nothing is written. Names are taken as UTF-8 text: a name that is\n"
	"not valid UTF-8 is shown by get --json with U+FFFD and cannot come back.",
	options
};

/* Most JSON text read: base64 of the largest message [apply]
 * max_message_bytes lets through, with room for the other fields. */
static size_t max_json(const struct oplog_config *cfg)
{
	return 4 * ((size_t)cfg->apply.max_message_bytes / 3 + 1) + 65536;
}

/* The value of a base64 digit, or -1. */
static int b64_digit(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Standard base64 with '=' padding (what get --json writes) into out,
 * which holds at least n / 4 * 3 bytes. Returns the length, or -1 when
 * text is not base64. */
static long unbase64(const char *text, size_t n, uint8_t *out)
{
	size_t i, o = 0, pad = 0;

	if (n % 4 != 0)
		return -1;
	if (n && text[n - 1] == '=')
		pad = n >= 2 && text[n - 2] == '=' ? 2 : 1;
	for (i = 0; i < n; i += 4) {
		int d[4];
		for (int j = 0; j < 4; j++) {
			int last = i + 4 == n;
			if (last && j >= 4 - (int)pad)
				d[j] = 0;
			else if ((d[j] = b64_digit((unsigned char)text[i + j])) < 0)
				return -1;
		}
		out[o++] = (uint8_t)(d[0] << 2 | d[1] >> 4);
		out[o++] = (uint8_t)(d[1] << 4 | d[2] >> 2);
		out[o++] = (uint8_t)(d[2] << 6 | d[3]);
	}
	return (long)(o - pad);
}

/* A string field as a slice borrowed from doc. Returns 0, or -1 after
 * printing which field is wrong. */
static int text_field(json_t *doc, const char *name, struct oplog_slice *out)
{
	json_t *v = json_object_get(doc, name);

	if (!json_is_string(v)) {
		cli_error(&spec, "\"%s\" must be a string", name);
		return -1;
	}
	out->ptr = (const uint8_t *)json_string_value(v);
	out->len = json_string_length(v);
	return 0;
}

/* A whole number field in [0, max]. Returns 0, or -1 after printing. */
static int int_field(json_t *doc, const char *name, uint64_t max, uint64_t *out)
{
	json_t *v = json_object_get(doc, name);

	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max) {
		cli_error(&spec, "\"%s\" must be a whole number from 0 to %" PRIu64, name, max);
		return -1;
	}
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/* Build *e from doc. data gets the decoded body (caller frees); prev
 * holds the previous hash. Returns 0, or -1 after printing the problem. */
static int entry_of(json_t *doc, struct oplog_entry *e, uint8_t **data,
                    uint8_t prev[OPLOG_HASH_LEN])
{
	static const char *const known[] = {
		"ds", "node", "seq", "wall", "logic", "col", "key", "op", "data", "prev", "hash"
	};
	const char *k, *op;
	json_t *v, *jdata, *jprev;
	uint64_t seq, wall, logic;

	if (!json_is_object(doc)) {
		cli_error(&spec, "expected one JSON object, as get --json prints");
		return -1;
	}
	json_object_foreach(doc, k, v) {
		size_t i;
		for (i = 0; i < sizeof(known) / sizeof(known[0]) && strcmp(k, known[i]) != 0; i++)
			;
		if (i == sizeof(known) / sizeof(known[0])) {
			cli_error(&spec, "unknown field \"%s\"", k);
			return -1;
		}
	}
	memset(e, 0, sizeof(*e));
	if (text_field(doc, "ds", &e->ds) || text_field(doc, "node", &e->node) ||
	    text_field(doc, "col", &e->col) || text_field(doc, "key", &e->key) ||
	    int_field(doc, "seq", UINT64_MAX >> 1, &seq) ||
	    int_field(doc, "wall", UINT64_MAX >> 1, &wall) ||
	    int_field(doc, "logic", UINT32_MAX, &logic))
		return -1;
	e->seq = seq;
	e->wall = wall;
	e->logic = (uint32_t)logic;
	op = json_string_value(json_object_get(doc, "op"));
	if (op && strcmp(op, "put") == 0) {
		e->op = OPLOG_OP_PUT;
	} else if (op && strcmp(op, "del") == 0) {
		e->op = OPLOG_OP_DEL;
	} else {
		cli_error(&spec, "\"op\" must be \"put\" or \"del\"");
		return -1;
	}
	jdata = json_object_get(doc, "data");
	if (e->op == OPLOG_OP_PUT) {
		const char *t = json_string_value(jdata);
		size_t n = t ? json_string_length(jdata) : 0;
		long len;

		if (!t) {
			cli_error(&spec, "\"data\" of a put must be a base64 string");
			return -1;
		}
		if (!(*data = malloc(n / 4 * 3 + 1))) {
			cli_error(&spec, "out of memory");
			return -1;
		}
		if ((len = unbase64(t, n, *data)) < 0) {
			cli_error(&spec, "\"data\" is not standard base64 (A-Z a-z 0-9 + /, '=' padding)");
			return -1;
		}
		e->data.ptr = *data;
		e->data.len = (size_t)len;
	} else if (jdata && !json_is_null(jdata)) {
		cli_error(&spec, "\"data\" of a del must be null or absent");
		return -1;
	}
	jprev = json_object_get(doc, "prev");
	if (jprev && !json_is_null(jprev)) {
		const char *t = json_string_value(jprev);
		if (!t || strlen(t) != 2 * OPLOG_HASH_LEN || oplog_unhex(t, prev, OPLOG_HASH_LEN)) {
			cli_error(&spec, "\"prev\" must be 64 hex digits or null");
			return -1;
		}
		e->prev = prev;
	}
	return 0;
}

int cmd_encode(int argc, char **argv)
{
	struct cli_common common;
	struct oplog_config *cfg = NULL;
	struct oplog_entry e, check;
	struct oplog_reject rej;
	uint8_t *buf = NULL, *data = NULL, *msg = NULL, hash[OPLOG_HASH_LEN], prev[OPLOG_HASH_LEN];
	size_t len, total, msg_len, max;
	const char *path;
	json_error_t jerr;
	json_t *doc = NULL;
	int first, err, rc;

	rc = cli_parse(&spec, argc, argv, &common, NULL, NULL, &first);
	if (rc != CLI_RUN)
		goto done;
	if (argc - first > 1) {
		rc = cli_usage_error(&spec, "expected at most one FILE");
		goto done;
	}
	rc = cli_load_config(&spec, &common, &cfg);
	if (rc != CLI_RUN)
		goto done;
	path = first < argc ? argv[first] : "-";
	max = max_json(cfg);
	if ((err = cli_read_input(path, max, &buf, &len, &total)) != 0) {
		rc = cli_fail(&spec, err);
		goto done;
	}
	if (total > max) {
		rc = cli_error(&spec, "input is %zu bytes, over the limit of %zu for [apply] "
		               "max_message_bytes", total, max);
		goto done;
	}
	if (!(doc = json_loadb((const char *)buf, len, JSON_ALLOW_NUL, &jerr))) {
		rc = cli_error(&spec, "%s: line %d: %s", strcmp(path, "-") ? path : "stdin",
		               jerr.line, jerr.text);
		goto done;
	}
	rc = CLI_EXIT_ERROR;
	if (entry_of(doc, &e, &data, prev) != 0)
		goto done;
	if ((err = oplog_entry_hash(&e, hash)) != 0) {
		rc = cli_fail(&spec, err);
		goto done;
	}
	e.hash = hash;
	if ((err = oplog_entry_encode(&e, &msg, &msg_len)) != 0) {
		rc = cli_fail(&spec, err);
		goto done;
	}
	/* What decode (and so the applier) would say of it: a producer should
	 * never be handed bytes the store rejects. */
	if (oplog_entry_decode(msg, msg_len, (size_t)cfg->apply.max_message_bytes, 0, &check,
	                       &rej) != 0) {
		rc = cli_error(&spec, "the entry would be rejected: %s%s%s: %s",
		               oplog_reason_name(rej.reason), rej.field ? " " : "",
		               rej.field ? oplog_field_name(rej.field) : "", rej.detail);
		goto done;
	}
	if (isatty(STDOUT_FILENO)) {
		rc = cli_error(&spec, "stdout is a terminal; redirect it to a file or a pipe");
		goto done;
	}
	if (fwrite(msg, 1, msg_len, stdout) != msg_len || fflush(stdout) != 0) {
		rc = cli_error(&spec, "writing to stdout failed");
		goto done;
	}
	rc = CLI_EXIT_OK;
done:
	json_decref(doc);
	free(msg);
	free(data);
	free(buf);
	oplog_config_free(cfg);
	cli_common_free(&common);
	return rc;
}
