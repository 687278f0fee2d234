/*
 * util_store.h: helpers shared by the store's unit tests, in util_store.c
 * (fixtures, applying, the store suite's shorthands), util_entry.c (the
 * entry builder), util_query.c (reading back), util_render.c (the state as
 * text) and util_lmdb.c (direct LMDB access).
 *
 * Entries are built here from their fields with an encoder and a hash of
 * our own, written from wire-format-v1 alone, so that the store is tested
 * against the contract and not against the codec it links. Everything the
 * helpers read back goes through the public oplog/store.h queries only.
 *
 * Ownership: a util_entry owns its message; its view points into it and
 * dies with util_entry_free(). Strings returned as char * are malloc'd and
 * the caller frees them with free().
 *
 * Threading: test processes are single-threaded; the fixture state below
 * is a plain global (Check runs every test in its own process).
 */
#ifndef UTIL_STORE_H
#define UTIL_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <lmdb.h>

#include "oplog/bytes.h"
#include "oplog/entry.h"
#include "oplog/error.h"
#include "oplog/store.h"

/* ------------------------------------------------------------------ */
/* Assertions that name the expression and the store's last error.     */

#define UTIL_OK(expr) do { \
	int util_rc_ = (int)(expr); \
	ck_assert_msg(util_rc_ == 0, "%s returned %d (%s); last error: \"%s\"", \
	              #expr, util_rc_, oplog_strerror(util_rc_), oplog_error_last()); \
} while (0)

#define UTIL_RC(expr, want) do { \
	int util_rc_ = (int)(expr); \
	ck_assert_msg(util_rc_ == (want), "%s returned %d (%s), expected %s; last error: \"%s\"", \
	              #expr, util_rc_, oplog_strerror(util_rc_), #want, oplog_error_last()); \
} while (0)

#define UTIL_CHECK(cond) \
	ck_assert_msg((cond), "failed: %s; last error: \"%s\"", #cond, oplog_error_last())

#define UTIL_EQ(a, b) do { \
	unsigned long long util_a_ = (unsigned long long)(a); \
	unsigned long long util_b_ = (unsigned long long)(b); \
	ck_assert_msg(util_a_ == util_b_, "failed: %s == %s (%llu != %llu); last error: \"%s\"", \
	              #a, #b, util_a_, util_b_, oplog_error_last()); \
} while (0)

#define UTIL_STR_EQ(a, b) do { \
	const char *util_sa_ = (a), *util_sb_ = (b); \
	ck_assert_msg(strcmp(util_sa_, util_sb_) == 0, "failed: %s == %s (\"%s\" != \"%s\"); last error: \"%s\"", \
	              #a, #b, util_sa_, util_sb_, oplog_error_last()); \
} while (0)

#define UTIL_HASH_EQ(a, b) do { \
	char util_ha_[2 * OPLOG_HASH_LEN + 1], util_hb_[2 * OPLOG_HASH_LEN + 1]; \
	oplog_hex((a), OPLOG_HASH_LEN, util_ha_); \
	oplog_hex((b), OPLOG_HASH_LEN, util_hb_); \
	ck_assert_msg(memcmp((a), (b), OPLOG_HASH_LEN) == 0, "failed: %s == %s (%s != %s)", \
	              #a, #b, util_ha_, util_hb_); \
} while (0)

/* The store verifies with no problem; the problems are printed if not. */
#define UTIL_CONSISTENT(s) do { \
	char *util_p_ = NULL; \
	int64_t util_n_ = util_verify((s), &util_p_); \
	ck_assert_msg(util_n_ == 0, "verify(%s) = %lld, problems:\n%s\nlast error: \"%s\"", \
	              #s, (long long)util_n_, util_p_ ? util_p_ : "(none)", oplog_error_last()); \
	free(util_p_); \
} while (0)

/* A slice over a C string. */
struct oplog_slice util_sl(const char *s);

/* Set a Check timeout of secs, scaled for sanitizer builds, and never
 * below CK_DEFAULT_TIMEOUT when the environment asks for more. */
void util_tcase_timeout(TCase *tc, double secs);

/* ------------------------------------------------------------------ */
/* Entries                                                             */

/* What an entry is made of. Slices are read during util_entry_make only. */
struct util_spec {
	struct oplog_slice ds, node;
	uint64_t           seq, wall;
	uint32_t           logic;
	struct oplog_slice col, key;
	enum oplog_op      op;
	struct oplog_slice data;   /* put only */
	const uint8_t     *prev;   /* OPLOG_HASH_LEN bytes; NULL for seq 1 */
};

/* A valid message and its view, which points into msg. */
struct util_entry {
	uint8_t           *msg;
	size_t             len;
	struct oplog_entry e;
	const uint8_t     *hash;   /* == e.hash */
};

/*
 * Encode *sp as a valid wire-format-v1 message (shortest msgpack forms,
 * keys in the order of the spec's worked examples) with its SHA-256 hash.
 * Returns 0, OPLOG_EINVAL (prev missing on seq > 1 or given on seq 1) or
 * OPLOG_ENOMEM. Free with util_entry_free().
 */
int util_entry_make(struct util_entry *out, const struct util_spec *sp);

/*
 * util_entry_make with `hash` written in the hash field instead of the
 * message's own hash: a message the intake would reject (hash_mismatch).
 * The store does not recompute hashes on apply, so this lets a test
 * choose hashes, e.g. two that share the 8 bytes the hash index keys on.
 * Returns as util_entry_make.
 */
int util_entry_make_forged(struct util_entry *out, const struct util_spec *sp,
                           const uint8_t hash[OPLOG_HASH_LEN]);

/* util_entry_make from C strings. data is a C string for a put (NULL =
 * empty body) and ignored for a del. */
int util_entry_build(struct util_entry *out, const char *ds, const char *node,
                     uint64_t seq, uint64_t wall, uint32_t logic,
                     const char *col, const char *key, enum oplog_op op,
                     const char *data, const uint8_t *prev);

void util_entry_free(struct util_entry *u);   /* NULL-safe, idempotent */
void util_entries_free(struct util_entry *es, size_t n);

/*
 * n entries of one node, seq first_seq.. chained through prev (the first
 * one's prev is `prev`, NULL when first_seq is 1): wall = wall0 + 10 * seq,
 * logic 0, col "c", key "k<seq>", put data "d<seq>". 0 or an error; on
 * error nothing is left allocated.
 */
int util_chain_build(struct util_entry *out, size_t n, const char *ds,
                     const char *node, uint64_t first_seq, const uint8_t *prev,
                     uint64_t wall0);

/* HLC order of wire-format-v1, written from the spec: <0, 0, >0. */
int util_hlc_cmp(const struct oplog_entry *a, const struct oplog_entry *b);

/* ------------------------------------------------------------------ */
/* Fixture: a fresh store in a mkdtemp directory per test.              */

/*
 * util_base is the test's mkdtemp directory; the store is util_dir =
 * util_base/store, and any other directory a test needs goes under
 * util_base too. Each test's util_base lies inside one directory per
 * TCase, made and removed by the unchecked fixture in the parent process,
 * because a failed assertion ends a forked test with _exit() and skips
 * its teardown.
 */
extern char                util_base[4096];
extern char                util_dir[4200];
extern struct oplog_store *util_s;

void util_case_setup(void);     /* unchecked: the TCase's directory */
void util_case_teardown(void);  /* unchecked: removes it, leftovers included */
void util_setup(void);      /* creates util_base, opens util_s at util_dir */
void util_teardown(void);   /* closes util_s, removes util_base */
/* A TCase named name, added to s, with the fixtures above (a directory
 * per TCase, a fresh store per test) and a timeout of secs as
 * util_tcase_timeout sets it. */
TCase *util_store_tcase(Suite *s, const char *name, double secs);
/* Run every test of s (CK_ENV says how much is printed) and free it:
 * EXIT_SUCCESS when none failed, else EXIT_FAILURE, for main's return. */
int util_suite_run(Suite *s);
/* Close util_s, delete the store and open a new, empty one at util_dir. */
void util_store_reset(void);
/* util_base/name into buf (not created). */
void util_subdir(char *buf, size_t cap, const char *name);

/* Create a fresh directory into buf, inside the TCase's directory when
 * there is one, else under $TMPDIR (or /tmp). 0 or -1. */
int util_tmpdir(char *buf, size_t cap);
/* Remove a directory tree. 0 or -1. */
int util_rmtree(const char *dir);

int util_store_open(struct oplog_store **out, const char *dir,
                    size_t map_size, size_t max_size, unsigned flags);

/* ------------------------------------------------------------------ */
/* Applying                                                            */

/* Apply entries as one batch (offsets none). Returns the store's code. */
int util_apply(struct oplog_store *s, struct util_entry *const *es, size_t n,
               struct oplog_apply_stats *st);
int util_apply_array(struct oplog_store *s, const struct util_entry *es, size_t n,
                     struct oplog_apply_stats *st);
int util_apply_one(struct oplog_store *s, const struct util_entry *u,
                   struct oplog_apply_stats *st);

/* ------------------------------------------------------------------ */
/* Reading back through the public queries                             */

uint64_t util_entry_count(struct oplog_store *s);  /* stats.entries; UINT64_MAX on error */

struct util_node {
	uint64_t head_seq, head_wall;
	uint32_t head_logic;
	uint8_t  head_hash[OPLOG_HASH_LEN];
	uint64_t watermark, pruned_through;
	size_t   n_gaps;
	uint64_t gaps[32][2];
};
/* The node's info: 0, OPLOG_ENOTFOUND, or the store's error. */
int util_node_get(struct oplog_store *s, const char *ds, const char *node,
                  struct util_node *out);
/* Gaps as "[3,4][7,8]" (or "" for none) into buf. */
void util_gaps_str(const struct util_node *n, char *buf, size_t cap);

struct util_doc {
	enum oplog_op op;
	char     node[OPLOG_MAX_NAME + 1];
	uint64_t seq, wall;
	uint32_t logic;
	uint8_t  hash[OPLOG_HASH_LEN];
	int      data_null;           /* data.ptr == NULL */
	size_t   data_len;
	char     data[256];           /* first bytes, NUL-terminated */
};
int util_doc_get(struct oplog_store *s, const char *ds, const char *col,
                 const char *key, struct util_doc *out);

/* A list of entries as a query returned them. */
struct util_item {
	uint8_t  hash[OPLOG_HASH_LEN];
	uint64_t seq, wall;
	uint32_t logic;
	char     node[OPLOG_MAX_NAME + 1];
	size_t   node_len;
};
struct util_list {
	size_t            n, cap;
	struct util_item *items;
};
/* An oplog_entry_cb appending to the struct util_list in arg. */
int  util_list_cb(const struct oplog_entry *e, const void *msg, size_t len, void *arg);
/* An oplog_entry_cb copying the message into the struct util_entry in
 * arg: msg malloc'd (the caller frees it) and len; only those are set.
 * For a query that calls it once (a get, or a scan of limit 1): a second
 * call would replace the first copy without freeing it. OPLOG_ENOMEM. */
int  util_msg_copy_cb(const struct oplog_entry *e, const void *msg, size_t len, void *arg);
void util_list_free(struct util_list *l);
/* Index of hash in l, or -1. */
long util_list_find(const struct util_list *l, const uint8_t *hash);

struct util_fork {
	char     node[OPLOG_MAX_NAME + 1];
	uint64_t seq;
	size_t   n;
	uint8_t  hashes[8][OPLOG_HASH_LEN];
};
/* Up to cap forks of ds into out; *n gets the number listed. */
int util_forks(struct oplog_store *s, const char *ds, struct util_fork *out,
               size_t cap, size_t *n);

struct util_break {
	char     node[OPLOG_MAX_NAME + 1];
	uint64_t seq;
	uint8_t  hash[OPLOG_HASH_LEN], prev[OPLOG_HASH_LEN];
};
int util_breaks(struct oplog_store *s, const char *ds, struct util_break *out,
                size_t cap, size_t *n);

/*
 * Run verify; return its result and, when problems is not NULL, every
 * problem line joined by '\n' (caller frees; NULL when none).
 */
int64_t util_verify(struct oplog_store *s, char **problems);

/*
 * The store's whole logical state as text, through public queries only:
 * per dataset (sorted) every entry in HLC order with its message, what a
 * get of its hash finds, and its forward successor, every node's head, watermark, pruned-through, gaps
 * and its backward and forward chain walks, every document, fork and
 * chain break. Counters, offsets, rejects and ids are left out, so equal
 * logical content renders to equal bytes. Returns a malloc'd string, or
 * NULL with the cause in oplog_error_last() (or on ENOMEM).
 */
char *util_store_render(struct oplog_store *s);

/* First differing line of a and b, for failure messages (malloc'd). */
char *util_first_diff(const char *a, const char *b);

/* ------------------------------------------------------------------ */
/* Shorthands of the store's suite (tests/unit/store/), on util_s.     */

#define UTIL_NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The dataset the store's tests write to unless they need another. */
#define UTIL_DS "shop"

/* util_entry_build in column "c", asserting that it succeeds. */
void util_mk(struct util_entry *u, const char *ds, const char *node, uint64_t seq,
             uint64_t wall, uint32_t logic, const char *key, enum oplog_op op,
             const char *data, const uint8_t *prev);
/* Apply u alone to util_s, asserting that it succeeds; st may be NULL. */
void util_apply1(const struct util_entry *u, struct oplog_apply_stats *st);

/* The bytewise smaller or greater of two hashes: a or b itself. */
const uint8_t *util_hash_min(const uint8_t *a, const uint8_t *b);
const uint8_t *util_hash_max(const uint8_t *a, const uint8_t *b);

/* The store's counters, asserting that stats succeeds. */
struct oplog_stats util_stats_of(struct oplog_store *s);
struct oplog_stats util_stats(void);   /* of util_s */
/* Close util_s and reopen it (same directory, defaults). */
void util_reopen(void);

/*
 * A store with something of everything in util_s: two datasets, gaps, a
 * fork, a chain break, dels, documents contested across nodes.
 */
void util_fill_rich(void);

/* Number of documents of ds in util_s, asserting that the scan succeeds. */
size_t util_doc_total(const char *ds);
/* An oplog_name_cb appending "name;" to the char[256] in arg: -100 when
 * it would not fit. */
int util_name_list_cb(struct oplog_slice name, void *arg);
/* An oplog_entry_cb that stops the query with 77 on its second call,
 * counting calls in the int in arg. */
int util_stop_cb(const struct oplog_entry *e, const void *msg, size_t len, void *arg);
/* Walk node's chain in UTIL_DS of util_s from `from` (forward or not, up
 * to limit entries) and render it "seq,seq,...,end" into out. */
void util_walk(const char *node, const uint8_t *from, int forward, uint64_t limit,
               char *out, size_t cap);

/* ------------------------------------------------------------------ */
/* Direct LMDB access, to damage a closed store on purpose.             */

/* Open the store's environment (maxdbs 32). 0 or an MDB error code. */
int util_lmdb_open(const char *dir, MDB_env **env);
/* Delete the first record of DBI name. 0 or an MDB error code. */
int util_lmdb_del_first(const char *dir, const char *name);
/* XOR mask into byte `off` of the value of DBI name's first record that
 * has that byte. */
int util_lmdb_flip_first(const char *dir, const char *name, size_t off, uint8_t mask);
/* Put key -> val into DBI name (in a DUPSORT DBI: one more duplicate). */
int util_lmdb_put(const char *dir, const char *name, const void *key, size_t klen,
                  const void *val, size_t vlen);
/* Read key of DBI name into buf (cap); *vlen gets the full length. */
int util_lmdb_get(const char *dir, const char *name, const void *key, size_t klen,
                  void *buf, size_t cap, size_t *vlen);
/* The n-th record (from 0, each duplicate counted) of DBI name in key
 * order: key and value copied into kbuf and vbuf (at most kcap and vcap
 * bytes), their full lengths into *klen and *vlen. 0, MDB_NOTFOUND when
 * there are no more than n records, or an MDB error code. */
int util_lmdb_nth(const char *dir, const char *name, size_t n, void *kbuf, size_t kcap,
                  size_t *klen, void *vbuf, size_t vcap, size_t *vlen);
/* Delete key from DBI name: every duplicate, or with val only that one. */
int util_lmdb_del(const char *dir, const char *name, const void *key, size_t klen,
                  const void *val, size_t vlen);

/* The docs key of (col, key) in the dataset with id ds_id, built as
 * docs/STORE.md says: ds u32 | the first 16 bytes of SHA-256(u16 len(col)
 * | col | key). 0 or -1. */
#define UTIL_DOC_KEY_LEN 20
int util_doc_key(uint32_t ds_id, const char *col, const char *key,
                 uint8_t out[UTIL_DOC_KEY_LEN]);

#endif
