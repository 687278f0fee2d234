/*
 * main.c: `oplogd COMMAND [options]`: find the command and run it.
 *
 * The only place that exits: commands return their exit code (cli.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <lmdb.h>
#include <msgpack.h>

#include "cli.h"
#include "oplog/version.h"

static void usage(FILE *out)
{
	const struct cli_command *cmds;
	size_t n, i;

	cmds = cli_commands(&n);
	fprintf(out,
	        "usage: oplogd COMMAND [options] [operands]\n"
	        "       oplogd COMMAND -h     help on one command\n"
	        "       oplogd --version\n"
	        "\ncommands:\n");
	for (i = 0; i < n; i++)
		fprintf(out, "  %-12s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(out,
	        "\nEvery command takes -c FILE, --store DIR, --set SECTION.KEY=VALUE,\n"
	        "-X PROP=VALUE, --dump-config and -h.\n"
	        "exit status: 0 ok, 1 the answer is no or problems were found, "
	        "2 usage, configuration or I/O error\n");
}

/* The versions of oplogd and of the libraries it runs with (not those it
 * was built against), since a bug report needs the running ones. */
static void version(void)
{
	int major, minor, patch;

	mdb_version(&major, &minor, &patch);
	printf("oplogd %s\n", OPLOG_VERSION);
	printf("lmdb %d.%d.%d\n", major, minor, patch);
	printf("librdkafka %s\n", rd_kafka_version_str());
	printf("msgpack-c %s\n", msgpack_version());
}

static int run(int argc, char **argv)
{
	const struct cli_command *cmds;
	size_t n, i;

	if (argc < 2) {
		fprintf(stderr, "oplogd: missing command (see oplogd -h)\n");
		return CLI_EXIT_ERROR;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		version();
		return CLI_EXIT_OK;
	}
	if (argv[1][0] == '-') {
		fprintf(stderr, "oplogd: unknown option '%s' (see oplogd -h)\n", argv[1]);
		return CLI_EXIT_ERROR;
	}
	cmds = cli_commands(&n);
	for (i = 0; i < n; i++)
		if (strcmp(cmds[i].name, argv[1]) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "oplogd: unknown command '%s' (see oplogd -h)\n", argv[1]);
	return CLI_EXIT_ERROR;
}

int main(int argc, char **argv)
{
	int rc = run(argc, argv);

	/* Output that did not reach its destination (a full disk, a closed
	 * pipe) must not end in exit 0. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "oplogd: write stdout: %s\n", strerror(errno ? errno : EIO));
		rc = CLI_EXIT_ERROR;
	}
	return rc;
}
