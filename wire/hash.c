/* hash.c: the hash preimage and its SHA-256, with one digest context per thread. */
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>

#include "oplog/entry.h"
#include "oplog/error.h"

/*
 * Where preimage bytes go: copied into a caller's buffer (counting the
 * full length even past its capacity), or batched into a small buffer
 * that is fed to a digest. Bulk data bypasses the batch, so the document
 * body is hashed in place, never copied.
 */
struct pre_out {
	uint8_t    *buf;
	size_t      cap;
	size_t      n;      /* copy: logical length; digest: batched bytes */
	EVP_MD_CTX *ctx;    /* NULL in copy mode */
	int         failed;
};

static void pre_flush(struct pre_out *o)
{
	if (o->ctx != NULL && o->n > 0) {
		if (EVP_DigestUpdate(o->ctx, o->buf, o->n) != 1)
			o->failed = 1;
		o->n = 0;
	}
}

static void pre_put(struct pre_out *o, const void *p, size_t n)
{
	size_t k;

	if (n == 0)
		return;
	if (o->ctx == NULL) {
		if (o->n < o->cap) {
			k = o->cap - o->n < n ? o->cap - o->n : n;
			memcpy(o->buf + o->n, p, k);
		}
		o->n += n;
		return;
	}
	if (n > o->cap - o->n) {
		pre_flush(o);
		if (n > o->cap) {
			if (EVP_DigestUpdate(o->ctx, p, n) != 1)
				o->failed = 1;
			return;
		}
	}
	memcpy(o->buf + o->n, p, n);
	o->n += n;
}

/* Bulk bytes: in digest mode, hashed straight from where they are. */
static void pre_put_bulk(struct pre_out *o, const void *p, size_t n)
{
	if (o->ctx == NULL || n == 0) {
		pre_put(o, p, n);
		return;
	}
	pre_flush(o);
	if (EVP_DigestUpdate(o->ctx, p, n) != 1)
		o->failed = 1;
}

static void pre_be(struct pre_out *o, uint64_t v, unsigned bytes)
{
	uint8_t b[8];
	unsigned i;

	for (i = 0; i < bytes; i++)
		b[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
	pre_put(o, b, bytes);
}

static void pre_str16(struct pre_out *o, const struct oplog_slice *s)
{
	pre_be(o, s->len, 2);
	pre_put(o, s->ptr, s->len);
}

static void preimage_emit(const struct oplog_entry *e, struct pre_out *o)
{
	static const uint8_t zero[OPLOG_HASH_LEN];
	int put = e->op != OPLOG_OP_DEL;

	pre_put(o, "oplog.v1", 8);
	pre_str16(o, &e->ds);
	pre_str16(o, &e->node);
	pre_be(o, e->seq, 8);
	pre_be(o, e->wall, 8);
	pre_be(o, e->logic, 4);
	pre_str16(o, &e->col);
	pre_str16(o, &e->key);
	pre_be(o, (uint64_t)e->op, 1);
	pre_be(o, put ? e->data.len : 0, 4);
	if (put)
		pre_put_bulk(o, e->data.ptr, e->data.len);
	pre_put(o, e->prev != NULL ? e->prev : zero, OPLOG_HASH_LEN);
}

size_t oplog_entry_preimage(const struct oplog_entry *e, uint8_t *buf, size_t cap)
{
	struct pre_out o = { buf, cap, 0, NULL, 0 };

	preimage_emit(e, &o);
	return o.n;
}

static pthread_once_t hash_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256;
static pthread_key_t ctx_key;
static int ctx_key_ok;
static _Thread_local EVP_MD_CTX *thread_ctx;

static void free_thread_ctx(void *ctx)
{
	EVP_MD_CTX_free(ctx);
}

/* Fetch the digest once per process: an explicit fetch skips the
 * per-call provider lookup that EVP_sha256() implies. */
static void hash_init(void)
{
	sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	ctx_key_ok = pthread_key_create(&ctx_key, free_thread_ctx) == 0;
}

/* This thread's digest context; the key's destructor frees it when the
 * thread exits. NULL (with the error message set) if OpenSSL fails. */
static EVP_MD_CTX *hash_ctx(void)
{
	EVP_MD_CTX *ctx;

	if (thread_ctx != NULL)
		return thread_ctx;
	pthread_once(&hash_once, hash_init);
	if (sha256 == NULL) {
		oplog_error__set(OPLOG_ERROR, "EVP_MD_fetch(SHA256) failed");
		return NULL;
	}
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL) {
		oplog_error__set(OPLOG_ERROR, "EVP_MD_CTX_new failed");
		return NULL;
	}
	if (ctx_key_ok)
		pthread_setspecific(ctx_key, ctx);
	thread_ctx = ctx;
	return ctx;
}

int oplog_entry__sha256(const struct oplog_slice *parts, size_t n, uint8_t out[OPLOG_HASH_LEN])
{
	EVP_MD_CTX *ctx = hash_ctx();
	unsigned int len = 0;

	if (ctx == NULL)
		return OPLOG_ERROR;
	if (EVP_DigestInit_ex2(ctx, sha256, NULL) != 1)
		return oplog_error__set(OPLOG_ERROR, "EVP_DigestInit_ex2 failed");
	for (size_t i = 0; i < n; i++)
		if (parts[i].len && EVP_DigestUpdate(ctx, parts[i].ptr, parts[i].len) != 1)
			return oplog_error__set(OPLOG_ERROR, "EVP_DigestUpdate failed");
	if (EVP_DigestFinal_ex(ctx, out, &len) != 1)
		return oplog_error__set(OPLOG_ERROR, "EVP_DigestFinal_ex failed");
	return 0;
}

int oplog_entry_hash(const struct oplog_entry *e, uint8_t out[OPLOG_HASH_LEN])
{
	uint8_t batch[1536];
	struct pre_out o = { batch, sizeof(batch), 0, NULL, 0 };
	unsigned int n = 0;

	if (e->ds.len > UINT16_MAX || e->node.len > UINT16_MAX ||
	    e->col.len > UINT16_MAX || e->key.len > UINT16_MAX ||
	    e->data.len > UINT32_MAX)
		return oplog_error__set(OPLOG_EINVAL, "hash: a field is too long "
		                        "for its length prefix");
	o.ctx = hash_ctx();
	if (o.ctx == NULL)
		return OPLOG_ERROR;
	if (EVP_DigestInit_ex2(o.ctx, sha256, NULL) != 1)
		return oplog_error__set(OPLOG_ERROR, "EVP_DigestInit_ex2 failed");
	preimage_emit(e, &o);
	pre_flush(&o);
	if (o.failed)
		return oplog_error__set(OPLOG_ERROR, "EVP_DigestUpdate failed");
	if (EVP_DigestFinal_ex(o.ctx, out, &n) != 1 || n != OPLOG_HASH_LEN)
		return oplog_error__set(OPLOG_ERROR, "EVP_DigestFinal_ex failed");
	return 0;
}
