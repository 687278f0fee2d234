/* util_store.c: the store's test fixtures (a fresh store per test),
 * applying entries and the store suite's shorthands (see util_store.h).
 * The entry builder is in util_entry.c, the read-back queries in
 * util_query.c, the state renderer in util_render.c and direct LMDB
 * access in util_lmdb.c. */
#include <errno.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util_store.h"

/* The TCase's directory (see util_case_setup), inherited by forked tests. */
static char         case_base[4096];
char                util_base[4096];
char                util_dir[4200];
struct oplog_store *util_s;

struct oplog_slice util_sl(const char *s)
{
	struct oplog_slice sl = { (const uint8_t *)s, s ? strlen(s) : 0 };
	return sl;
}

void util_tcase_timeout(TCase *tc, double secs)
{
	const char *env = getenv("CK_DEFAULT_TIMEOUT");
	double t = secs;

#if defined(__SANITIZE_ADDRESS__)
	/* ASan and UBSan make the store about three times slower. */
	t *= 3;
#endif
	if (env && *env) {
		double d = strtod(env, NULL);
		if (d > t)
			t = d;
	}
	tcase_set_timeout(tc, t);
}

/* ------------------------------------------------------------------ */
/* Fixture                                                             */

int util_tmpdir(char *buf, size_t cap)
{
	const char *base = case_base[0] ? case_base : getenv("TMPDIR");
	int n;

	if (!base || !*base)
		base = "/tmp";
	n = snprintf(buf, cap, "%s/oplog-test-XXXXXX", base);
	if (n < 0 || (size_t)n >= cap)
		return -1;
	return mkdtemp(buf) ? 0 : -1;
}

int util_rmtree(const char *dir)
{
	struct dirent *de;
	struct stat sb;
	char path[4096];
	DIR *d;
	int rc = 0;

	if (!dir || !*dir)
		return 0;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path)) {
			rc = -1;
			continue;
		}
		if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			if (util_rmtree(path) != 0)
				rc = -1;
		} else if (unlink(path) != 0) {
			rc = -1;
		}
	}
	closedir(d);
	if (rmdir(dir) != 0)
		rc = -1;
	return rc;
}

int util_store_open(struct oplog_store **out, const char *dir,
                    size_t map_size, size_t max_size, unsigned flags)
{
	struct oplog_store_opts o;

	memset(&o, 0, sizeof(o));
	o.path = dir;
	o.map_size = map_size;
	o.max_size = max_size;
	o.flags = flags;
	return oplog_store_open(out, &o);
}

void util_case_setup(void)
{
	const char *base = getenv("TMPDIR");

	if (!base || !*base)
		base = "/tmp";
	snprintf(case_base, sizeof(case_base), "%s/oplog-test-XXXXXX", base);
	if (!mkdtemp(case_base))
		case_base[0] = '\0';
}

void util_case_teardown(void)
{
	if (case_base[0])
		util_rmtree(case_base);
	case_base[0] = '\0';
}

void util_setup(void)
{
	int rc;

	util_s = NULL;
	ck_assert_msg(util_tmpdir(util_base, sizeof(util_base)) == 0,
	              "mkdtemp: %s", strerror(errno));
	snprintf(util_dir, sizeof(util_dir), "%s/store", util_base);
	rc = util_store_open(&util_s, util_dir, 0, 0, 0);
	ck_assert_msg(rc == 0, "oplog_store_open(%s) = %d (%s): %s", util_dir, rc,
	              oplog_strerror(rc), oplog_error_last());
}

void util_teardown(void)
{
	oplog_store_close(util_s);
	util_s = NULL;
	util_rmtree(util_base);
	util_base[0] = '\0';
	util_dir[0] = '\0';
}

TCase *util_store_tcase(Suite *s, const char *name, double secs)
{
	TCase *t = tcase_create(name);

	tcase_add_unchecked_fixture(t, util_case_setup, util_case_teardown);
	tcase_add_checked_fixture(t, util_setup, util_teardown);
	util_tcase_timeout(t, secs);
	suite_add_tcase(s, t);
	return t;
}

int util_suite_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

void util_store_reset(void)
{
	int rc;

	oplog_store_close(util_s);
	util_s = NULL;
	util_rmtree(util_dir);
	rc = util_store_open(&util_s, util_dir, 0, 0, 0);
	ck_assert_msg(rc == 0, "oplog_store_open(%s) = %d (%s): %s", util_dir, rc,
	              oplog_strerror(rc), oplog_error_last());
}

void util_subdir(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", util_base, name);
}

/* ------------------------------------------------------------------ */
/* Applying                                                            */

/* Apply n entries as one batch: ptrs[i] when ptrs is given, else &arr[i]. */
static int apply_batch(struct oplog_store *s, struct util_entry *const *ptrs,
                       const struct util_entry *arr, size_t n, struct oplog_apply_stats *st)
{
	struct oplog_batch *b = NULL;
	const struct util_entry *u;
	size_t i;
	int rc;

	rc = oplog_batch_new(&b);
	if (rc)
		goto done;
	for (i = 0; i < n; i++) {
		u = ptrs ? ptrs[i] : &arr[i];
		rc = oplog_batch_add(b, u->msg, u->len, &u->e);
		if (rc)
			goto done;
	}
	rc = oplog_store_apply(s, b, st);
done:
	oplog_batch_free(b);
	return rc;
}

int util_apply(struct oplog_store *s, struct util_entry *const *es, size_t n,
               struct oplog_apply_stats *st)
{
	return apply_batch(s, es, NULL, n, st);
}

int util_apply_array(struct oplog_store *s, const struct util_entry *es, size_t n,
                     struct oplog_apply_stats *st)
{
	return apply_batch(s, NULL, es, n, st);
}

int util_apply_one(struct oplog_store *s, const struct util_entry *u,
                   struct oplog_apply_stats *st)
{
	return util_apply_array(s, u, 1, st);
}

/* ------------------------------------------------------------------ */
/* Shorthands of the store's suite                                     */

void util_mk(struct util_entry *u, const char *ds, const char *node, uint64_t seq,
             uint64_t wall, uint32_t logic, const char *key, enum oplog_op op,
             const char *data, const uint8_t *prev)
{
	UTIL_OK(util_entry_build(u, ds, node, seq, wall, logic, "c", key, op, data, prev));
}

void util_apply1(const struct util_entry *u, struct oplog_apply_stats *st)
{
	struct oplog_apply_stats local;

	UTIL_OK(util_apply_one(util_s, u, st ? st : &local));
}

const uint8_t *util_hash_min(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, OPLOG_HASH_LEN) < 0 ? a : b;
}

const uint8_t *util_hash_max(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, OPLOG_HASH_LEN) > 0 ? a : b;
}

struct oplog_stats util_stats_of(struct oplog_store *s)
{
	struct oplog_stats st;

	memset(&st, 0, sizeof(st));
	UTIL_OK(oplog_store_stats(s, &st));
	return st;
}

struct oplog_stats util_stats(void)
{
	return util_stats_of(util_s);
}

void util_reopen(void)
{
	oplog_store_close(util_s);
	util_s = NULL;
	UTIL_OK(util_store_open(&util_s, util_dir, 0, 0, 0));
}

/* Node "a": seq 1..6; node "b": seq 1, 3, 4 (a gap at 2), a chain break at
 * 5 and a del at 6; a fork at a's seq 3; dataset "other" with one entry. */
void util_fill_rich(void)
{
	struct util_entry a[6], b[4], f, brk, del, x;
	uint8_t wrong[OPLOG_HASH_LEN];

	memset(wrong, 0x77, sizeof(wrong));
	UTIL_OK(util_chain_build(a, 6, UTIL_DS, "a", 1, NULL, 1000));
	UTIL_OK(util_chain_build(b, 4, UTIL_DS, "b", 1, NULL, 1003));
	util_mk(&f, UTIL_DS, "a", 3, 1031, 0, "k3", OPLOG_OP_PUT, "fork", a[1].hash);
	util_mk(&brk, UTIL_DS, "b", 5, 1060, 0, "k5", OPLOG_OP_PUT, "brk", wrong);
	util_mk(&del, UTIL_DS, "b", 6, 1070, 0, "k1", OPLOG_OP_DEL, NULL, brk.hash);
	UTIL_OK(util_entry_build(&x, "other", "a", 1, 1, 0, "c", "k1", OPLOG_OP_PUT, "x", NULL));
	UTIL_OK(util_apply_array(util_s, a, 6, NULL));
	util_apply1(&b[0], NULL);
	util_apply1(&b[2], NULL);
	util_apply1(&b[3], NULL);
	util_apply1(&f, NULL);
	util_apply1(&brk, NULL);
	util_apply1(&del, NULL);
	util_apply1(&x, NULL);
	util_entries_free(a, 6);
	util_entries_free(b, 4);
	util_entry_free(&f);
	util_entry_free(&brk);
	util_entry_free(&del);
	util_entry_free(&x);
}
