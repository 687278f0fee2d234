/*
 * cmd_man.c: `oplogd man 1|5`: the manual pages oplogd.1 and oplogd.conf.5
 * as roff on stdout, made from the tables the program itself runs on, so
 * that the installed pages cannot drift from the program.
 *
 * Section 1 takes the commands from CLI_COMMANDS and each command's
 * options from its own `-h` (cli_help() prints the command's option
 * table); the options every command takes come straight from
 * CLI_OPTIONS_COMMON. Section 5 takes every key, its type, default,
 * bounds and help from oplog_config_keys(). The Makefile runs it at build
 * time into build/man/.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "oplog/config.h"
#include "oplog/version.h"

static const struct cli_option man_options[] = {
	{ "help", 'h', no_argument, NULL, "print this help and exit", CLI_OPT_HELP },
	CLI_OPTIONS_END
};
static const struct cli_spec spec = {
	"man", "1|5",
	"Prints the manual page oplogd(1) (SECTION 1) or oplogd.conf(5) (5) as\n"
	"roff on stdout, made from the command and configuration tables.\n"
	"Read one with: oplogd man 1 | man -l -",
	man_options
};

static const struct cli_option common_options[] = {
	CLI_OPTIONS_COMMON,
	CLI_OPTIONS_END
};

/* Write text escaped for roff: a backslash is \e and a minus \-, and a
 * line that would start with a control character ('.' or '\'') starts
 * with \& instead. A comma or slash may end an output line (\:), so that
 * a long JSON or path in the help breaks instead of overflowing. */
static void roff_text(FILE *out, const char *p, size_t n)
{
	size_t i;

	if (n > 0 && (p[0] == '.' || p[0] == '\''))
		fputs("\\&", out);
	for (i = 0; i < n; i++) {
		if (p[i] == '\\')
			fputs("\\e", out);
		else if (p[i] == '-')
			fputs("\\-", out);
		else if (p[i] == ',' || p[i] == '/')
			fprintf(out, "%c\\:", p[i]);
		else
			fputc(p[i], out);
	}
}

static void roff_line(FILE *out, const char *s)
{
	roff_text(out, s, strlen(s));
	fputc('\n', out);
}

/* An option's term as cli_help() writes it: "-c, --config FILE". */
static void option_term(const struct cli_option *o, char *buf, size_t size)
{
	int n;

	if (o->short_name && o->name)
		n = snprintf(buf, size, "-%c, --%s", o->short_name, o->name);
	else if (o->short_name)
		n = snprintf(buf, size, "-%c", o->short_name);
	else
		n = snprintf(buf, size, "--%s", o->name);
	if (o->metavar && n >= 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, " %s", o->metavar);
}

static int is_common_term(const char *term)
{
	const struct cli_option *o;
	char buf[128];

	for (o = common_options; o->name || o->short_name; o++) {
		option_term(o, buf, sizeof(buf));
		if (strcmp(buf, term) == 0)
			return 1;
	}
	return 0;
}

static void roff_option(FILE *out, const char *term, const char *help)
{
	fputs(".TP\n.B ", out);
	roff_line(out, term);
	roff_line(out, help);
}

/*
 * Run `oplogd NAME -h` with stdout going to a temporary file and return
 * that file, rewound (caller closes), or NULL with errno set. The help is
 * what cli_help() prints from the command's option table.
 */
static FILE *capture_help(const struct cli_command *cmd)
{
	char name[64], help[] = "-h";
	char *argv[3] = { name, help, NULL };
	FILE *tmp = tmpfile();
	int saved = -1, rc, ok = 0;

	if (tmp == NULL)
		goto done;
	snprintf(name, sizeof(name), "%s", cmd->name);
	fflush(stdout);
	if ((saved = dup(STDOUT_FILENO)) < 0 || dup2(fileno(tmp), STDOUT_FILENO) < 0)
		goto done;
	rc = cmd->fn(2, argv);
	fflush(stdout);
	if (dup2(saved, STDOUT_FILENO) < 0)
		goto done;
	if (rc != CLI_EXIT_OK) {
		errno = EINVAL;
		goto done;
	}
	ok = fseek(tmp, 0, SEEK_SET) == 0;
done:
	if (saved >= 0)
		close(saved);
	if (!ok && tmp != NULL) {
		fclose(tmp);
		tmp = NULL;
	}
	return tmp;
}

/*
 * One command's subsection from its -h. The usage line becomes the
 * synopsis; in the "options:" block, a line whose text starts with '-' is
 * an option (its help after the column gap, or on the next line when the
 * term is long), and the common options are left to their own section;
 * the rest is prose, with a line of its own kept where the help indents
 * it or ends a heading with ':'.
 */
static int man_command(FILE *out, const struct cli_command *cmd)
{
	FILE *h = capture_help(cmd);
	char *line = NULL, term[256] = "";
	size_t cap = 0;
	ssize_t len;
	int in_options = 0, pending = 0;

	if (h == NULL)
		return -1;
	fprintf(out, ".SS %s\n", cmd->name);
	while ((len = getline(&line, &cap, h)) >= 0) {
		char *s = line, *gap;

		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		while (*s == ' ')
			s++;
		if (strncmp(line, "usage: ", 7) == 0) {
			fputs(".B ", out);
			roff_line(out, line + 7);
			continue;
		}
		if (*s == '\0') {
			in_options = 0;
			if (pending)
				roff_option(out, term, "");
			pending = 0;
			fputs(".PP\n", out);
			continue;
		}
		if (strcmp(line, "options:") == 0) {
			in_options = 1;
			continue;
		}
		if (in_options && pending) {
			pending = 0;
			if (!is_common_term(term))
				roff_option(out, term, s);
			continue;
		}
		if (in_options && *s == '-') {
			gap = strstr(s, "  ");
			if (gap == NULL) {
				snprintf(term, sizeof(term), "%s", s);
				pending = 1;
				continue;
			}
			snprintf(term, sizeof(term), "%.*s", (int)(gap - s), s);
			while (*gap == ' ')
				gap++;
			if (!is_common_term(term))
				roff_option(out, term, gap);
			continue;
		}
		if (s != line || (len > 0 && line[len - 1] == ':'))
			fputs(".br\n", out);
		roff_line(out, s);
	}
	if (pending && !is_common_term(term))
		roff_option(out, term, "");
	free(line);
	fclose(h);
	return 0;
}

static int man_1(FILE *out)
{
	const struct cli_command *cmds;
	const struct cli_option *o;
	size_t n, i;

	cmds = cli_commands(&n);
	fprintf(out, ".TH OPLOGD 1 \"\" \"oplogd %s\" \"User Commands\"\n"
	        ".ad l\n.nh\n", OPLOG_VERSION);
	fputs(".SH NAME\noplogd \\- replicate an oplog stream from Kafka into an LMDB store\n"
	      ".SH SYNOPSIS\n.B oplogd\n.I COMMAND\n[options] [operands]\n.br\n"
	      ".B oplogd\n.I COMMAND\n\\-h\n.br\n.B oplogd \\-\\-version\n"
	      ".SH DESCRIPTION\n"
	      "oplogd consumes a replication stream of msgpack entries from Kafka\n"
	      "and applies it to an LMDB store, which the other commands query,\n"
	      "check and maintain. Run as a service, it is\n.B oplogd apply\n"
	      "under systemd (oplogd.service).\n"
	      ".SH COMMANDS\n", out);
	for (i = 0; i < n; i++) {
		fputs(".TP\n.B ", out);
		roff_line(out, cmds[i].name);
		roff_line(out, cmds[i].summary);
	}
	fputs(".SH COMMON OPTIONS\nEvery command takes these options.\n", out);
	for (o = common_options; o->name || o->short_name; o++) {
		char buf[128];

		option_term(o, buf, sizeof(buf));
		roff_option(out, buf, o->help);
	}
	fputs(".SH COMMAND DETAILS\n", out);
	for (i = 0; i < n; i++) {
		if (strcmp(cmds[i].name, "man") == 0)
			continue;
		if (man_command(out, &cmds[i]) != 0)
			return cli_error(&spec, "capture `oplogd %s -h`: %s", cmds[i].name,
			                 strerror(errno));
	}
	fputs(".SH EXIT STATUS\n"
	      ".TP\n.B 0\nDone; the answer is yes.\n"
	      ".TP\n.B 1\nThe answer is no, or problems were found.\n"
	      ".TP\n.B 2\nUsage, configuration or I/O error.\n"
	      ".PP\nA command's own \\-h lists any other code it gives.\n"
	      ".SH FILES\n"
	      ".TP\n.I /etc/oplogd/oplogd.conf\n"
	      "The configuration oplogd.service starts apply with (under PREFIX/etc when\n"
	      "installed elsewhere than /usr); see\n.BR oplogd.conf (5).\n"
	      ".TP\n.I /var/lib/oplogd\nThe store of oplogd.service.\n"
	      ".SH SEE ALSO\n.BR oplogd.conf (5),\n.BR systemd.service (5)\n", out);
	return CLI_EXIT_OK;
}

static const char *type_name(enum oplog_config_type t)
{
	switch (t) {
	case OPLOG_CONFIG_STRING:   return "string";
	case OPLOG_CONFIG_LIST:     return "list";
	case OPLOG_CONFIG_INT:      return "integer";
	case OPLOG_CONFIG_SIZE:     return "size";
	case OPLOG_CONFIG_DURATION: return "duration";
	case OPLOG_CONFIG_BOOL:     return "boolean";
	case OPLOG_CONFIG_ENUM:     return "one of";
	case OPLOG_CONFIG_MODE:     return "octal mode";
	}
	return "value";
}

static int man_5(FILE *out)
{
	const struct oplog_config_key *keys;
	const char *section = "";
	size_t n, i;

	keys = oplog_config_keys(&n);
	fprintf(out, ".TH OPLOGD.CONF 5 \"\" \"oplogd %s\" \"File Formats\"\n"
	        ".ad l\n.nh\n", OPLOG_VERSION);
	fputs(".SH NAME\noplogd.conf \\- configuration of oplogd\n"
	      ".SH SYNOPSIS\n.I /etc/oplogd/oplogd.conf\n"
	      ".SH DESCRIPTION\n"
	      "An INI file read by every\n.BR oplogd (1)\ncommand given\n.BR \"\\-c FILE\" .\n"
	      "Lines are\n.B [section]\nor\n.BR \"key = value\" ;\n"
	      "a line starting with ; or # is a comment, and so is the rest of a line\n"
	      "after whitespace and ;.\n"
	      "A key given twice keeps the last value; an unknown section or key, or a\n"
	      "bad value, is an error naming the file and line.\n"
	      "On the command line,\n.B \\-\\-set section.key=value\n"
	      "overrides any key and\n.B \\-X prop=value\nany [kafka] property;\n"
	      ".B \\-\\-dump\\-config\nprints the effective configuration.\n"
	      ".PP\nValues by type: a size takes a K, M or G suffix (1024\\-based; none =\n"
	      "bytes); a duration takes ms, s, m, h or d (none = milliseconds); a boolean\n"
	      "is true/false, yes/no, on/off or 1/0; a list is comma\\-separated.\n"
	      ".SH SECTIONS\n"
	      ".SS [kafka]\n"
	      "Every key is a librdkafka property, passed as is to the client\n"
	      "(bootstrap.servers, group.id, security.protocol, ...); librdkafka's\n"
	      "verdict on a bad one names the file and line.\n", out);
	for (i = 0; i < n; i++) {
		const struct oplog_config_key *k = &keys[i];

		if (strcmp(k->section, section) != 0) {
			section = k->section;
			fprintf(out, ".SS [%s]\n", section);
		}
		fputs(".TP\n.B ", out);
		roff_line(out, k->name);
		roff_line(out, k->help);
		fputs(".br\n", out);
		fprintf(out, "%s", type_name(k->type));
		if (k->type == OPLOG_CONFIG_ENUM && k->values) {
			fputc(' ', out);
			roff_text(out, k->values, strlen(k->values));
		} else if (k->type == OPLOG_CONFIG_INT && k->min < k->max) {
			fprintf(out, " %" PRId64 " .. %" PRId64, k->min, k->max);
		}
		fputs("; default: ", out);
		if (k->def && *k->def)
			roff_text(out, k->def, strlen(k->def));
		else
			fputs("(empty)", out);
		fputc('\n', out);
	}
	fputs(".SH FILES\n"
	      ".TP\n.I /etc/oplogd/oplogd.conf\n"
	      "The example installed with oplogd: every key with its default and\n"
	      "meaning (PREFIX/etc/oplogd/oplogd.conf when installed elsewhere than\n"
	      "/usr). An existing file is never overwritten by an install.\n"
	      ".SH SEE ALSO\n.BR oplogd (1)\n", out);
	return CLI_EXIT_OK;
}

int cmd_man(int argc, char **argv)
{
	struct cli_common common;
	int first, rc;

	rc = cli_parse(&spec, argc, argv, &common, NULL, NULL, &first);
	if (rc != CLI_RUN)
		goto done;
	if (argc - first != 1) {
		rc = cli_usage_error(&spec, "expected one SECTION, 1 or 5");
		goto done;
	}
	if (strcmp(argv[first], "1") == 0)
		rc = man_1(stdout);
	else if (strcmp(argv[first], "5") == 0)
		rc = man_5(stdout);
	else
		rc = cli_usage_error(&spec, "no manual page in section '%s' (1 or 5)", argv[first]);
done:
	cli_common_free(&common);
	return rc;
}
