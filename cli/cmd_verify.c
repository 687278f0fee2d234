/*
 * cmd_verify.c: `oplogd verify [--json]`: check every access path and all
 * derived state against the oplog. Exit 0 when consistent, 1 with the
 * list of problems, 2 when the store cannot be read (a damaged file
 * included).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_store.h"
#include "oplog/error.h"
#include "oplog/json.h"

static const struct cli_spec spec = {
	"verify", NULL,
	"Without --json: one problem per line, then \"consistent\" or \"N problems\".\n"
	"A store so damaged that reading it crashes is reported as damaged (exit 2).\n"
	"Exit 0 consistent; 1 problems found; 2 usage error or a damaged store.\n"
	"--json: {\"problems\":[TEXT,...],\"consistent\":true|false}.",
	cli_json_options
};

struct out {
	int              json;
	struct cli_jlist list;
	int              err;   /* the first output failure */
};

/* The callback cannot fail the walk, so an output error is kept for the
 * end; later problems are then dropped. */
static void on_problem(const char *problem, void *arg)
{
	struct out *o = arg;

	if (o->err)
		return;
	if (o->json) {
		o->err = cli_jlist_add(&o->list, oplog_json_text((const uint8_t *)problem,
		                                                 strlen(problem)));
		return;
	}
	cli_print_text(stdout, (const uint8_t *)problem, strlen(problem));
	putchar('\n');
}

static int verify(int argc, char **argv)
{
	struct cli_store_cmd c;
	struct out o = { 0 };
	int64_t n;
	int err = 0, rc;

	rc = cli_store_begin(&spec, argc, argv, &c, CLI_STORE_RDONLY, 0, 0, NULL, NULL);
	if (rc != CLI_RUN)
		goto done;
	o.json = c.common.json;
	/* "consistent" comes first in the JSON, but is known last: print
	 * problems as they come and say it at the end instead. */
	cli_jlist_begin(&o.list, stdout, "{\"problems\":[");
	n = oplog_store_verify(c.s, on_problem, &o);
	if (n < 0) {
		rc = cli_fail(&spec, (int)n);
		goto done;
	}
	if (o.err) {
		rc = cli_fail(&spec, o.err);
		goto done;
	}
	if (o.json) {
		err = cli_jlist_close(&o.list, n ? "],\"consistent\":false}"
		                                 : "],\"consistent\":true}");
		if (err == 0)
			err = cli_json_end(stdout);
	} else if (n == 0) {
		puts("consistent");
	} else {
		printf("%" PRId64 " problem%s\n", n, n == 1 ? "" : "s");
	}
	if (err) {
		rc = cli_fail(&spec, err);
		goto done;
	}
	rc = n ? CLI_EXIT_NO : CLI_EXIT_OK;
done:
	cli_store_end(&c);
	return rc;
}

/*
 * Damaged pages can make LMDB itself read out of bounds: bit flips in a
 * data.mdb crash its page walk with SIGSEGV. So the walk runs in a child
 * process (which opens the store itself: an LMDB environment must not
 * cross a fork), and a child killed by a signal is reported as a damaged
 * store, exit 2, instead of taking the command down with it.
 */
int cmd_verify(int argc, char **argv)
{
	pid_t pid;
	int status;

	fflush(NULL);
	if ((pid = fork()) < 0)
		return cli_error(&spec, "fork: %s", strerror(errno));
	if (pid == 0) {
		int rc = verify(argc, argv);

		fflush(NULL);
		_exit(rc);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return cli_error(&spec, "waitpid: %s", strerror(errno));
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return cli_error(&spec, "the store is damaged: reading it crashed with signal %d (%s); "
	                 "restore it from a snapshot", WTERMSIG(status),
	                 strsignal(WTERMSIG(status)));
}
