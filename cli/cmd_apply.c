/*
 * cmd_apply.c: `oplogd apply -c FILE [-X prop=value]... [--set s.k=v]...`:
 * run as the replica applier until SIGINT or SIGTERM; SIGHUP reloads
 * the keys that can change while it runs.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_store.h"
#include "oplog/applier.h"
#include "oplog/error.h"
#include "oplog/kafka.h"
#include "oplog/log.h"
#include "oplog/version.h"

static const struct cli_option options[] = {
	CLI_OPTIONS_COMMON,
	CLI_OPTIONS_END
};

static const struct cli_spec spec = {
	"apply", NULL,
	"Consumes [apply] topics in the group [kafka] group.id and applies every entry\n"
	"to the store; each batch is one store transaction with its offsets. SIGINT,\n"
	"SIGTERM finish the batch, commit the store and the group, and exit\n"
	"0. SIGHUP reloads the configuration (the -c file, then -X and --set): [log]\n"
	"level, format and progress_interval take effect at once; any other key that\n"
	"changed is named in a warning and keeps its value until a restart. Logs go\n"
	"to stderr, so there is no log file to reopen. A fatal\n"
	"condition (bad configuration, failed authentication, a broker certificate\n"
	"the configured CA does not accept, store failure) exits 2 with one line on\n"
	"stderr. An unreachable broker is not fatal: it is retried, and /healthz\n"
	"turns 503 after [metrics] health_grace.\n"
	"Exit 0 after SIGINT or SIGTERM; 2 usage error or a fatal condition.",
	options
};

/* Keys a reload applies while running (oplog_applier_set_reload). */
static const char *const reloadable[] = { "log.level", "log.format", "log.progress_interval" };

/* One "section.key = value" line of a dump per key, in *lines (each
 * malloc'd). */
static int dump_lines(const struct oplog_config *cfg, char **text, char ***lines, size_t *n)
{
	char section[64] = "", *line, *save = NULL;
	size_t len = 0, cap = 0;
	FILE *f = open_memstream(text, &len);

	*lines = NULL;
	*n = 0;
	if (!f)
		return OPLOG_ENOMEM;
	if (oplog_config_dump(cfg, f, OPLOG_CONFIG_DUMP_SECRETS) != 0) {
		fclose(f);
		return OPLOG_EIO;
	}
	if (fclose(f) != 0)
		return OPLOG_ENOMEM;
	for (line = strtok_r(*text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t size;
		char *key;

		if (*line == '[') {
			snprintf(section, sizeof(section), "%.*s", (int)strcspn(line + 1, "]"), line + 1);
			continue;
		}
		if (*line == ';' || *line == '#')
			continue;
		if (*n == cap) {
			char **v = realloc(*lines, (cap = cap ? 2 * cap : 64) * sizeof(*v));
			if (!v)
				return OPLOG_ENOMEM;
			*lines = v;
		}
		size = strlen(section) + strlen(line) + 2;
		if (!(key = malloc(size)))
			return OPLOG_ENOMEM;
		snprintf(key, size, "%s.%s", section, line);
		(*lines)[(*n)++] = key;
	}
	return 0;
}

/* The key of a "section.key = value" line. */
static size_t key_len(const char *line)
{
	return strcspn(line, " =");
}

/* The line of lines[0..n) for the key of line, or NULL. */
static const char *find_key(char **lines, size_t n, const char *line)
{
	size_t k = key_len(line);

	for (size_t i = 0; i < n; i++)
		if (key_len(lines[i]) == k && strncmp(lines[i], line, k) == 0)
			return lines[i];
	return NULL;
}

/* Append the key of line to list[0..cap), comma-separated. */
static void add_key(char *list, size_t cap, const char *line)
{
	size_t used = strlen(list);

	snprintf(list + used, cap - used, "%s%.*s", used ? ", " : "", (int)key_len(line), line);
}

static int is_reloadable(const char *line)
{
	for (size_t i = 0; i < sizeof(reloadable) / sizeof(reloadable[0]); i++)
		if (key_len(line) == strlen(reloadable[i]) &&
		    strncmp(line, reloadable[i], key_len(line)) == 0)
			return 1;
	return 0;
}

/* Log which keys differ between the running configuration and the new
 * one: those applied, and those that wait for a restart (names only:
 * values may be secrets). */
static void log_changes(const struct oplog_config *old, const struct oplog_config *new)
{
	char *t_old = NULL, *t_new = NULL, **l_old = NULL, **l_new = NULL;
	char applied[512] = "", restart[1024] = "";
	size_t n_old = 0, n_new = 0;

	if (dump_lines(old, &t_old, &l_old, &n_old) || dump_lines(new, &t_new, &l_new, &n_new)) {
		oplog_log(OPLOG_LOG_WARN, "reload: cannot compare the configurations: out of memory");
		goto done;
	}
	/* Keys set anew or changed, then keys no longer set. */
	for (size_t i = 0; i < n_new + n_old; i++) {
		const char *line = i < n_new ? l_new[i] : l_old[i - n_new];
		const char *was = i < n_new ? find_key(l_old, n_old, line) : NULL;

		if (i < n_new ? was && strcmp(was, line) == 0 : find_key(l_new, n_new, line) != NULL)
			continue;
		if (is_reloadable(line))
			add_key(applied, sizeof(applied), line);
		else
			add_key(restart, sizeof(restart), line);
	}
	oplog_log(OPLOG_LOG_INFO, "reload: %s", *applied ? applied : "no reloadable key changed");
	if (*restart)
		oplog_log(OPLOG_LOG_WARN, "reload: changed, kept until a restart: %s", restart);
done:
	for (size_t i = 0; i < n_old; i++)
		free(l_old[i]);
	for (size_t i = 0; i < n_new; i++)
		free(l_new[i]);
	free(l_old);
	free(l_new);
	free(t_old);
	free(t_new);
}

/* One info line at start that says what this process is and where it
 * reads and writes, so a log shows which run its lines belong to. */
static void log_banner(const struct oplog_config *cfg)
{
	char topics[512] = "";
	const char *group = oplog_kafka_get(cfg, "group.id");

	for (size_t i = 0, used = 0; i < cfg->apply.topics.n && used < sizeof(topics); i++)
		used += (size_t)snprintf(topics + used, sizeof(topics) - used, "%s%s", i ? "," : "",
		                         cfg->apply.topics.items[i]);
	oplog_log(OPLOG_LOG_INFO, "oplogd %s apply: store %s, group %s, topics %s, metrics %s",
	          OPLOG_VERSION, cfg->store.path, group ? group : "-", topics,
	          *cfg->metrics.listen ? cfg->metrics.listen : "off");
}

/* oplog_applier_reload_fn: the configuration loaded again, as at start. */
static int reload_config(void *arg, struct oplog_config **out)
{
	struct cli_store_cmd *c = arg;
	int err = cli_config_from(&c->common, out);

	if (err == 0)
		log_changes(c->cfg, *out);
	return err;
}

int cmd_apply(int argc, char **argv)
{
	struct cli_store_cmd c;
	struct oplog_applier *a = NULL;
	const volatile sig_atomic_t *stop;
	int err, rc;

	rc = cli_store_begin(&spec, argc, argv, &c, 0, 0, 0, NULL, NULL);
	if (rc != CLI_RUN)
		goto done;
	if ((err = oplog_applier_new(&a, c.cfg, c.s))) {
		rc = cli_fail(&spec, err);
		goto done;
	}
	log_banner(c.cfg);
	/* SIGHUP reloads (after cli_catch_stop, which makes it stop). */
	stop = cli_catch_stop();
	oplog_applier_set_reload(a, cli_catch_reload(), reload_config, &c);
	err = oplog_applier_run(a, stop);
	rc = err ? cli_fail(&spec, err) : CLI_EXIT_OK;
done:
	oplog_applier_free(a);
	cli_store_end(&c);
	return rc;
}
