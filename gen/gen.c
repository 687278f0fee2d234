/* gen.c: the deterministic synthetic oplog stream behind oplog/gen.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "oplog/entry.h"
#include "oplog/error.h"
#include "oplog/gen.h"

#define RECENT      64      /* valid messages kept as duplicate sources */
#define NAME_CAP    32
#define MAX_CHAINS  (1u << 24)

/* ---- PRNG ---------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void oplog_gen_rng_seed(struct oplog_gen_rng *r, uint64_t seed)
{
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t oplog_gen_rng_next(struct oplog_gen_rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

/* Rejection sampling keeps every value equally likely. */
uint64_t oplog_gen_rng_below(struct oplog_gen_rng *r, uint64_t n)
{
	uint64_t x, limit;

	if (n == 0)
		return 0;
	limit = UINT64_MAX - UINT64_MAX % n;
	do
		x = oplog_gen_rng_next(r);
	while (x >= limit);
	return x % n;
}

double oplog_gen_rng_unit(struct oplog_gen_rng *r)
{
	return (double)(oplog_gen_rng_next(r) >> 11) * 0x1.0p-53;
}

/* ---- state --------------------------------------------------------- */

/* One (dataset, node) chain: what its next entry continues from. */
struct chain {
	uint64_t seq;                    /* last seq issued; 0 before the first */
	uint8_t  hash[OPLOG_HASH_LEN];   /* hash of that entry */
	uint8_t  prev[OPLOG_HASH_LEN];   /* its prev, for forks of it */
	uint64_t wall;
	uint32_t logic;
};

struct held {
	uint8_t            *data;
	size_t              len;
	enum oplog_gen_kind kind;  /* VALID or FORK when it was made */
	uint64_t            due;   /* yield once this many messages are out */
	uint32_t            dataset;
};

struct oplog_gen {
	struct oplog_gen_opts o;
	struct oplog_gen_rng  rng;
	struct chain         *chains;
	uint64_t              now;        /* the stream's clock, Unix ms */
	uint64_t              generated;  /* made so far, held ones included */
	uint64_t              yielded;
	uint64_t              dropped;    /* made, never to be yielded (gap_rate) */
	struct held          *held;
	size_t                nheld;
	uint8_t              *recent[RECENT];
	size_t                recent_len[RECENT];
	uint32_t              recent_ds[RECENT];
	size_t                nrecent;
	uint8_t              *body;       /* data_size bytes, rewritten per put */
	uint8_t              *filler;     /* OPLOG_MAX_KEY + 1 bytes of 'x' */
};

/* Names and data one entry under construction borrows from. */
struct draft {
	struct oplog_entry e;
	uint8_t            hash[OPLOG_HASH_LEN];
	uint8_t            prev[OPLOG_HASH_LEN];
	char               ds[NAME_CAP], node[NAME_CAP], col[NAME_CAP], key[NAME_CAP];
	struct chain      *c;
	uint32_t           dataset;   /* the index in ds */
};

void oplog_gen_opts_init(struct oplog_gen_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->seed = 1;
	o->datasets = 1;
	o->nodes = 3;
	o->count = 1000;
	o->data_size = 64;
	o->cols = 4;
	o->keys = 64;
	o->del_rate = 0.1;
	o->late_window = 16;
	o->start_wall = OPLOG_GEN_BASE_WALL;
}

/* Each entry made moves the clock by 0, 1 or 2 ms, equally likely: mean
 * 1, variance 2/3. Duplicates make no entry, so counting every message
 * errs towards an earlier end, never a later one. */
uint64_t oplog_gen_start_for_end(const struct oplog_gen_opts *o, uint64_t end_ms)
{
	double made = (double)o->count;
	double var, sd = 1.0, span;
	int i;

	if (o->gap_rate > 0 && o->gap_rate < 1)
		made /= 1.0 - o->gap_rate;
	var = made * 2.0 / 3.0;
	for (i = 0; i < 64 && var > 0; i++)   /* Newton's square root, no libm */
		sd = (sd + var / sd) / 2.0;
	span = made + 6.0 * sd + 1.0;
	return span >= (double)end_ms ? 0 : end_ms - (uint64_t)span;
}

static int rate_ok(double r)
{
	return r >= 0.0 && r <= 1.0;
}

int oplog_gen_new(const struct oplog_gen_opts *o, struct oplog_gen **out)
{
	struct oplog_gen *g = NULL;
	uint64_t chains;
	int rc = 0;

	chains = (uint64_t)o->datasets * o->nodes;
	if (o->datasets == 0 || o->nodes == 0 || chains > MAX_CHAINS) {
		rc = oplog_error__set(OPLOG_EINVAL, "gen: datasets x nodes must be "
		                      "1..%u", MAX_CHAINS);
		goto done;
	}
	if (o->cols == 0 || o->keys == 0) {
		rc = oplog_error__set(OPLOG_EINVAL, "gen: cols and keys must be >= 1");
		goto done;
	}
	if (o->data_size > OPLOG_MAX_DATA) {
		rc = oplog_error__set(OPLOG_EINVAL, "gen: data_size %u is above %u",
		                      o->data_size, OPLOG_MAX_DATA);
		goto done;
	}
	if (!rate_ok(o->del_rate) || !rate_ok(o->dup_rate) ||
	    !rate_ok(o->late_rate) || !rate_ok(o->bad_rate) ||
	    !rate_ok(o->fork_rate) || !rate_ok(o->gap_rate) ||
	    o->dup_rate + o->bad_rate + o->fork_rate > 1.0) {
		rc = oplog_error__set(OPLOG_EINVAL, "gen: rates must be in 0..1 and "
		                      "dup + bad + fork must not exceed 1");
		goto done;
	}
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		goto nomem;
	g->o = *o;
	oplog_gen_rng_seed(&g->rng, o->seed);
	g->now = o->start_wall;
	g->chains = calloc((size_t)chains, sizeof(*g->chains));
	g->held = calloc(o->late_window > 0 ? o->late_window : 1, sizeof(*g->held));
	g->body = malloc(o->data_size > 0 ? o->data_size : 1);
	g->filler = malloc(OPLOG_MAX_KEY + 1);
	if (g->chains == NULL || g->held == NULL || g->body == NULL ||
	    g->filler == NULL)
		goto nomem;
	memset(g->filler, 'x', OPLOG_MAX_KEY + 1);
	*out = g;
	g = NULL;
	goto done;
nomem:
	rc = oplog_error__set(OPLOG_ENOMEM, "gen: out of memory");
done:
	oplog_gen_free(g);
	return rc;
}

void oplog_gen_free(struct oplog_gen *g)
{
	size_t i;

	if (g == NULL)
		return;
	for (i = 0; i < g->nheld; i++)
		free(g->held[i].data);
	for (i = 0; i < g->nrecent; i++)
		free(g->recent[i]);
	free(g->held);
	free(g->chains);
	free(g->body);
	free(g->filler);
	free(g);
}

/* ---- entries ------------------------------------------------------- */

static struct oplog_slice slice_of(const char *s)
{
	struct oplog_slice sl = { (const uint8_t *)s, strlen(s) };

	return sl;
}

/* Printable body bytes: 64 symbols, 6 random bits each. */
static void fill_body(struct oplog_gen *g, size_t n)
{
	static const char sym[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint64_t bits = 0;
	size_t i;
	int left = 0;

	for (i = 0; i < n; i++) {
		if (left < 6) {
			bits = oplog_gen_rng_next(&g->rng);
			left = 64;
		}
		g->body[i] = (uint8_t)sym[bits & 63];
		bits >>= 6;
		left -= 6;
	}
}

/*
 * Draft the next entry of a random chain, or (fork) a sibling of the
 * chain's last entry. The HLC follows the stream's clock, which moves
 * 0..2 ms per entry; logic counts entries of a node within one ms.
 * Nothing is committed: see commit().
 */
static int draft_entry(struct oplog_gen *g, struct draft *d, int fork)
{
	uint64_t ci = oplog_gen_rng_below(&g->rng, (uint64_t)g->o.datasets * g->o.nodes);
	struct chain *c = &g->chains[ci];
	struct oplog_entry *e = &d->e;
	int rc;

	memset(e, 0, sizeof(*e));
	d->c = c;
	d->dataset = (uint32_t)(ci / g->o.nodes);
	snprintf(d->ds, sizeof(d->ds), "ds-%u", (unsigned)(ci / g->o.nodes));
	snprintf(d->node, sizeof(d->node), "node-%u", (unsigned)(ci % g->o.nodes));
	snprintf(d->col, sizeof(d->col), "c%u",
	         (unsigned)oplog_gen_rng_below(&g->rng, g->o.cols));
	snprintf(d->key, sizeof(d->key), "k%u",
	         (unsigned)oplog_gen_rng_below(&g->rng, g->o.keys));
	e->ds = slice_of(d->ds);
	e->node = slice_of(d->node);
	e->col = slice_of(d->col);
	e->key = slice_of(d->key);

	g->now += oplog_gen_rng_below(&g->rng, 3);
	if (g->now > c->wall) {
		e->wall = g->now;
		e->logic = 0;
	} else {
		e->wall = c->wall;
		e->logic = c->logic + 1;
	}
	if (fork && c->seq > 0) {
		e->seq = c->seq;
		if (c->seq > 1) {
			memcpy(d->prev, c->prev, OPLOG_HASH_LEN);
			e->prev = d->prev;
		}
	} else {
		e->seq = c->seq + 1;
		if (c->seq > 0) {
			memcpy(d->prev, c->hash, OPLOG_HASH_LEN);
			e->prev = d->prev;
		}
	}
	if (oplog_gen_rng_unit(&g->rng) < g->o.del_rate) {
		e->op = OPLOG_OP_DEL;
	} else {
		e->op = OPLOG_OP_PUT;
		fill_body(g, g->o.data_size);
		e->data.ptr = g->body;
		e->data.len = g->o.data_size;
	}
	rc = oplog_entry_hash(e, d->hash);
	e->hash = d->hash;
	return rc;
}

/* The drafted entry is out: its chain continues from it (not for forks,
 * whose chain continues from the entry they forked). */
static void commit(struct draft *d, int fork)
{
	struct chain *c = d->c;

	if (!fork || c->seq == 0) {
		if (c->seq > 0)
			memcpy(c->prev, c->hash, OPLOG_HASH_LEN);
		memcpy(c->hash, d->hash, OPLOG_HASH_LEN);
		c->seq = d->e.seq;
	}
	c->wall = d->e.wall;
	c->logic = d->e.logic;
}

/* ---- invalid messages ---------------------------------------------- */

/* How an invalid message departs from its valid draft when packed. */
struct variant {
	enum oplog_field omit;      /* leave this field out */
	enum oplog_field mistype;   /* write this field with a wrong type */
	uint64_t         version;
	const char      *op;        /* op text instead of the entry's */
	int              dup_key;   /* write "seq" a second time */
	int              as_array;  /* an array of the same items */
};

static int pk_cstr(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);

	if (msgpack_pack_str(pk, n) != 0)
		return -1;
	return n == 0 ? 0 : msgpack_pack_str_body(pk, s, n);
}

static int pk_slice_str(msgpack_packer *pk, const struct oplog_slice *s)
{
	if (msgpack_pack_str(pk, s->len) != 0)
		return -1;
	return s->len == 0 ? 0 : msgpack_pack_str_body(pk, s->ptr, s->len);
}

static int pk_bin(msgpack_packer *pk, const uint8_t *p, size_t n)
{
	if (msgpack_pack_bin(pk, n) != 0)
		return -1;
	return n == 0 ? 0 : msgpack_pack_bin_body(pk, p, n);
}

static int pk_value(msgpack_packer *pk, const struct oplog_entry *e,
                    const struct variant *va, enum oplog_field f)
{
	if (f == va->mistype) {
		switch (f) {
		case OPLOG_F_V: case OPLOG_F_SEQ: case OPLOG_F_WALL: case OPLOG_F_LOGIC:
		case OPLOG_F_DATA: case OPLOG_F_PREV: case OPLOG_F_HASH:
			return pk_cstr(pk, "7");
		default:
			return msgpack_pack_uint64(pk, 7);
		}
	}
	switch (f) {
	case OPLOG_F_V:     return msgpack_pack_uint64(pk, va->version);
	case OPLOG_F_DS:    return pk_slice_str(pk, &e->ds);
	case OPLOG_F_NODE:  return pk_slice_str(pk, &e->node);
	case OPLOG_F_SEQ:   return msgpack_pack_uint64(pk, e->seq);
	case OPLOG_F_WALL:  return msgpack_pack_uint64(pk, e->wall);
	case OPLOG_F_LOGIC: return msgpack_pack_uint64(pk, e->logic);
	case OPLOG_F_COL:   return pk_slice_str(pk, &e->col);
	case OPLOG_F_KEY:   return pk_slice_str(pk, &e->key);
	case OPLOG_F_OP:
		return pk_cstr(pk, va->op != NULL ? va->op :
		               e->op == OPLOG_OP_PUT ? "put" : "del");
	case OPLOG_F_HASH:  return pk_bin(pk, e->hash, OPLOG_HASH_LEN);
	case OPLOG_F_DATA:  return pk_bin(pk, e->data.ptr, e->data.len);
	case OPLOG_F_PREV:  return pk_bin(pk, e->prev, OPLOG_HASH_LEN);
	default:            return -1;
	}
}

/* Pack *e in the encoder's key order, departing from it as *va says. */
static int pack_variant(const struct oplog_entry *e, const struct variant *va,
                        uint8_t **out, size_t *out_len)
{
	static const enum oplog_field order[] = {
		OPLOG_F_V, OPLOG_F_DS, OPLOG_F_NODE, OPLOG_F_SEQ, OPLOG_F_WALL,
		OPLOG_F_LOGIC, OPLOG_F_COL, OPLOG_F_KEY, OPLOG_F_OP, OPLOG_F_HASH,
		OPLOG_F_DATA, OPLOG_F_PREV
	};
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int present[OPLOG_F__COUNT];
	size_t i, n = 0;
	int rc = 0;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		enum oplog_field f = order[i];

		present[f] = f != va->omit &&
		             (f != OPLOG_F_DATA || e->op == OPLOG_OP_PUT ||
		              e->data.ptr != NULL) &&
		             (f != OPLOG_F_PREV || e->prev != NULL);
		n += (size_t)present[f];
	}
	n += (size_t)(va->dup_key != 0);
	if ((va->as_array ? msgpack_pack_array(&pk, 2 * n) :
	     msgpack_pack_map(&pk, n)) != 0)
		goto nomem;
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		enum oplog_field f = order[i];

		if (!present[f])
			continue;
		if (pk_cstr(&pk, oplog_field_name(f)) != 0 ||
		    pk_value(&pk, e, va, f) != 0)
			goto nomem;
	}
	if (va->dup_key &&
	    (pk_cstr(&pk, "seq") != 0 || msgpack_pack_uint64(&pk, e->seq) != 0))
		goto nomem;
	*out = (uint8_t *)sb.data;
	*out_len = sb.size;
	sb.data = NULL;
	goto done;
nomem:
	rc = oplog_error__set(OPLOG_ENOMEM, "gen: out of memory");
done:
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

enum bad_kind {
	BAD_TRUNCATED, BAD_TRAILING, BAD_DUP_KEY, BAD_NOT_MAP, BAD_VERSION,
	BAD_MISSING, BAD_TYPE, BAD_UTF8, BAD_SIZE, BAD_OP, BAD_PREV, BAD_HASH,
	BAD__COUNT
};

static enum oplog_field pick(struct oplog_gen *g, const enum oplog_field *f, size_t n)
{
	return f[oplog_gen_rng_below(&g->rng, n)];
}

/*
 * Give the draft d (or the variant va it is packed with) one defect of
 * this kind, and set the verdict the decoder must reach in m. Truncation
 * and trailing bytes are made after packing, by make_bad().
 *
 * Over 100 lines on purpose: one case per defect, each next to the
 * verdict it must produce, reads as the table it is; split up, a defect
 * and its verdict would sit in different functions.
 */
static void add_defect(struct oplog_gen *g, enum bad_kind kind, struct draft *d,
                       struct variant *va, struct oplog_gen_msg *m)
{
	static const enum oplog_field always[] = {
		OPLOG_F_DS, OPLOG_F_NODE, OPLOG_F_SEQ, OPLOG_F_WALL, OPLOG_F_LOGIC,
		OPLOG_F_COL, OPLOG_F_KEY, OPLOG_F_OP, OPLOG_F_HASH, OPLOG_F_DATA,
		OPLOG_F_PREV
	};
	static const uint8_t fake_prev[OPLOG_HASH_LEN] = { 1 };
	struct oplog_entry *e = &d->e;
	size_t nf;

	m->expect_field = OPLOG_F_NONE;
	switch (kind) {
	case BAD_TRUNCATED:
	case BAD_TRAILING:
	case BAD_DUP_KEY:
		m->expect = OPLOG_R_MALFORMED;
		va->dup_key = kind == BAD_DUP_KEY;
		break;
	case BAD_NOT_MAP:
		m->expect = OPLOG_R_NOT_MAP;
		va->as_array = 1;
		break;
	case BAD_VERSION:
		m->expect = OPLOG_R_BAD_VERSION;
		m->expect_field = OPLOG_F_V;
		va->version = 2 + oplog_gen_rng_below(&g->rng, 200);
		break;
	case BAD_MISSING:
		/* data only for a put; v and prev have reasons of their own */
		nf = e->op == OPLOG_OP_PUT ? 10 : 9;
		m->expect = OPLOG_R_MISSING_FIELD;
		m->expect_field = va->omit = pick(g, always, nf);
		break;
	case BAD_TYPE:
		nf = 9 + (e->op == OPLOG_OP_PUT);
		m->expect = OPLOG_R_BAD_TYPE;
		m->expect_field = va->mistype = pick(g, always, nf);
		if (e->prev != NULL && oplog_gen_rng_below(&g->rng, 8) == 0)
			m->expect_field = va->mistype = OPLOG_F_PREV;
		break;
	case BAD_UTF8:
		m->expect = OPLOG_R_BAD_TYPE;
		if (oplog_gen_rng_below(&g->rng, 2) == 0) {
			memcpy(d->ds, "ds-\xed\xa0\x80", 7);  /* a surrogate */
			e->ds.len = 6;
			m->expect_field = OPLOG_F_DS;
		} else {
			memcpy(d->node, "\xc0\xae", 3);       /* an overlong '.' */
			e->node.len = 2;
			m->expect_field = OPLOG_F_NODE;
		}
		break;
	case BAD_SIZE:
		m->expect = OPLOG_R_BAD_SIZE;
		switch (oplog_gen_rng_below(&g->rng, 4)) {
		case 0:
			e->ds.len = 0;
			m->expect_field = OPLOG_F_DS;
			break;
		case 1:
			e->col.ptr = g->filler;
			e->col.len = OPLOG_MAX_NAME + 1;
			m->expect_field = OPLOG_F_COL;
			break;
		case 2:
			e->key.ptr = g->filler;
			e->key.len = OPLOG_MAX_KEY + 1;
			m->expect_field = OPLOG_F_KEY;
			break;
		default:
			e->seq = 0;
			m->expect_field = OPLOG_F_SEQ;
			break;
		}
		break;
	case BAD_OP:
		m->expect = OPLOG_R_BAD_OP;
		if (e->op == OPLOG_OP_PUT && oplog_gen_rng_below(&g->rng, 2) == 0) {
			e->op = OPLOG_OP_DEL;   /* a del that still carries data */
			m->expect_field = OPLOG_F_DATA;
		} else {
			va->op = oplog_gen_rng_below(&g->rng, 2) ? "upd" : "PUT";
			m->expect_field = OPLOG_F_OP;
		}
		break;
	case BAD_PREV:
		m->expect = OPLOG_R_BAD_PREV;
		m->expect_field = OPLOG_F_PREV;
		if (e->prev != NULL)
			e->prev = NULL;
		else
			e->prev = fake_prev;
		break;
	default: /* BAD_HASH */
		m->expect = OPLOG_R_HASH_MISMATCH;
		m->expect_field = OPLOG_F_HASH;
		d->hash[oplog_gen_rng_below(&g->rng, OPLOG_HASH_LEN)] ^=
			(uint8_t)(1u << oplog_gen_rng_below(&g->rng, 8));
		break;
	}
}

/*
 * An invalid message made from a valid draft by exactly one defect, so
 * the decoder's verdict is known: earlier checks all pass by
 * construction. The chain does not advance.
 */
static int make_bad(struct oplog_gen *g, struct oplog_gen_msg *m)
{
	struct variant va = { OPLOG_F_NONE, OPLOG_F_NONE, 1, NULL, 0, 0 };
	struct draft d;
	uint8_t *msg = NULL, *grown;
	size_t len = 0;
	enum bad_kind kind;
	int rc;

	rc = draft_entry(g, &d, 0);
	if (rc != 0)
		goto done;
	kind = (enum bad_kind)oplog_gen_rng_below(&g->rng, BAD__COUNT);
	add_defect(g, kind, &d, &va, m);
	rc = pack_variant(&d.e, &va, &msg, &len);
	if (rc != 0)
		goto done;
	if (kind == BAD_TRUNCATED) {
		len = 1 + (size_t)oplog_gen_rng_below(&g->rng, len - 1);
	} else if (kind == BAD_TRAILING) {
		grown = realloc(msg, len + 1);
		if (grown == NULL) {
			rc = oplog_error__set(OPLOG_ENOMEM, "gen: out of memory");
			goto done;
		}
		msg = grown;
		msg[len++] = 0xc0;
	}
	m->data = msg;
	m->len = len;
	m->kind = OPLOG_GEN_BAD;
	m->dataset = d.dataset;
	msg = NULL;
done:
	free(msg);
	return rc;
}

/* ---- the stream ---------------------------------------------------- */

static uint8_t *copy_bytes(const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n > 0 ? n : 1);

	if (c != NULL && n > 0)
		memcpy(c, p, n);
	return c;
}

/* Keep a copy of a valid message as a future duplicate. */
static void remember(struct oplog_gen *g, const uint8_t *p, size_t n, uint32_t dataset)
{
	size_t slot;
	uint8_t *c = copy_bytes(p, n);

	if (c == NULL)
		return;   /* only lowers the choice of duplicates */
	if (g->nrecent < RECENT) {
		slot = g->nrecent++;
	} else {
		slot = (size_t)oplog_gen_rng_below(&g->rng, RECENT);
		free(g->recent[slot]);
	}
	g->recent[slot] = c;
	g->recent_len[slot] = n;
	g->recent_ds[slot] = dataset;
}

/* Make the next message, which may be one to hold back. */
static int make_message(struct oplog_gen *g, struct oplog_gen_msg *m)
{
	double r = oplog_gen_rng_unit(&g->rng);
	struct draft d;
	size_t i;
	int fork;
	int rc;

	memset(m, 0, sizeof(*m));
	if (r < g->o.bad_rate)
		return make_bad(g, m);
	r -= g->o.bad_rate;
	if (r < g->o.dup_rate && g->nrecent > 0) {
		i = (size_t)oplog_gen_rng_below(&g->rng, g->nrecent);
		m->data = copy_bytes(g->recent[i], g->recent_len[i]);
		if (m->data == NULL)
			return oplog_error__set(OPLOG_ENOMEM, "gen: out of memory");
		m->len = g->recent_len[i];
		m->kind = OPLOG_GEN_DUP;
		m->dataset = g->recent_ds[i];
		return 0;
	}
	fork = r >= g->o.dup_rate && r - g->o.dup_rate < g->o.fork_rate;
	rc = draft_entry(g, &d, fork);
	if (rc != 0)
		return rc;
	fork = fork && d.c->seq > 0;
	rc = oplog_entry_encode(&d.e, &m->data, &m->len);
	if (rc != 0)
		return rc;
	commit(&d, fork);
	m->kind = fork ? OPLOG_GEN_FORK : OPLOG_GEN_VALID;
	m->dataset = d.dataset;
	return 0;
}

/* The held message to yield now, or nheld when none is due. */
static size_t due_held(const struct oplog_gen *g)
{
	size_t i, best = g->nheld;
	int drain = g->generated >= g->o.count;

	for (i = 0; i < g->nheld; i++)
		if ((drain || g->held[i].due <= g->yielded) &&
		    (best == g->nheld || g->held[i].due < g->held[best].due))
			best = i;
	return best;
}

int oplog_gen_next(struct oplog_gen *g, struct oplog_gen_msg *m)
{
	struct oplog_gen_msg tmp;
	size_t i;
	int rc;

	for (;;) {
		if (g->yielded >= g->o.count)
			return OPLOG_ENOTFOUND;
		i = due_held(g);
		if (i < g->nheld) {
			memset(m, 0, sizeof(*m));
			m->data = g->held[i].data;
			m->len = g->held[i].len;
			m->kind = g->held[i].kind == OPLOG_GEN_FORK ? OPLOG_GEN_FORK
			                                            : OPLOG_GEN_LATE;
			m->late = 1;
			m->dataset = g->held[i].dataset;
			memmove(&g->held[i], &g->held[i + 1],
			        (g->nheld - i - 1) * sizeof(g->held[0]));
			g->nheld--;
			break;
		}
		rc = make_message(g, &tmp);
		if (rc != 0)
			return rc;
		g->generated++;
		/* Only with a gap rate: streams without one stay as they were. */
		if (g->o.gap_rate > 0 && tmp.kind == OPLOG_GEN_VALID &&
		    oplog_gen_rng_unit(&g->rng) < g->o.gap_rate) {
			free(tmp.data);
			g->dropped++;
			continue;
		}
		if ((tmp.kind == OPLOG_GEN_VALID || tmp.kind == OPLOG_GEN_FORK) &&
		    g->nheld < g->o.late_window &&
		    oplog_gen_rng_unit(&g->rng) < g->o.late_rate) {
			g->held[g->nheld].data = tmp.data;
			g->held[g->nheld].len = tmp.len;
			g->held[g->nheld].kind = tmp.kind;
			g->held[g->nheld].dataset = tmp.dataset;
			g->held[g->nheld].due = g->yielded + 1 +
				oplog_gen_rng_below(&g->rng, g->o.late_window);
			g->nheld++;
			continue;
		}
		*m = tmp;
		break;
	}
	if (m->kind != OPLOG_GEN_BAD && m->kind != OPLOG_GEN_DUP)
		remember(g, m->data, m->len, m->dataset);
	g->yielded++;
	return 0;
}

uint64_t oplog_gen_dropped(const struct oplog_gen *g)
{
	return g->dropped;
}
