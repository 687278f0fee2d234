/*
 * batch.c: the batch a writer fills (entries, rejects, offsets, cursors,
 * lost ranges) before oplog_store_apply writes it in one transaction.
 */
#include <stdlib.h>

#include "oplog/error.h"
#include "apply_int.h"

int oplog_batch_new(struct oplog_batch **out)
{
	if (!(*out = calloc(1, sizeof(**out))))
		return oplog_error__set(OPLOG_ENOMEM, "batch: out of memory");
	return 0;
}

void oplog_batch_clear(struct oplog_batch *b)
{
	for (size_t i = 0; i < b->n_rejs; i++) {
		free(b->rejs[i].source);
		free(b->rejs[i].raw);
	}
	for (size_t i = 0; i < b->n_offs; i++)
		free(b->offs[i].topic);
	for (size_t i = 0; i < b->n_lost; i++)
		free(b->lost[i].topic);
	b->n_ents = b->n_rejs = b->n_offs = b->n_lost = 0;
}

void oplog_batch_free(struct oplog_batch *b)
{
	if (!b)
		return;
	oplog_batch_clear(b);
	free(b->ents);
	free(b->rejs);
	free(b->offs);
	free(b->lost);
	free(b);
}

size_t oplog_batch_count(const struct oplog_batch *b)
{
	return b->n_ents + b->n_rejs;
}

int oplog_batch_empty(const struct oplog_batch *b)
{
	return b->n_ents + b->n_rejs + b->n_offs + b->n_lost == 0;
}

int oplog_batch_add(struct oplog_batch *b, const void *msg, size_t len,
                    const struct oplog_entry *e)
{
	if (oplog_store__reserve(&b->ents, &b->cap_ents, b->n_ents, sizeof(*b->ents), 64, "batch"))
		return OPLOG_ENOMEM;
	b->ents[b->n_ents++] = (struct batch_entry){ msg, len, *e };
	return 0;
}

int oplog_batch_reject(struct oplog_batch *b, const char *source,
                       const void *msg, size_t len, const struct oplog_reject *rej)
{
	struct batch_reject *r;

	if (oplog_store__reserve(&b->rejs, &b->cap_rejs, b->n_rejs, sizeof(*b->rejs), 64, "batch"))
		return OPLOG_ENOMEM;
	r = &b->rejs[b->n_rejs];
	*r = (struct batch_reject){ .size = len, .rej = *rej };
	/* The store keeps at most its reject_max_bytes of these; a batch copies
	 * no more than the largest message the applier accepts. */
	r->raw_len = len < (size_t)OPLOG_MAX_REJECT_COPY ? len : (size_t)OPLOG_MAX_REJECT_COPY;
	r->source = strdup(source ? source : "");
	r->raw = malloc(r->raw_len ? r->raw_len : 1);
	if (!r->source || !r->raw) {
		free(r->source);
		free(r->raw);
		return oplog_error__set(OPLOG_ENOMEM, "batch: out of memory");
	}
	if (r->raw_len)
		memcpy(r->raw, msg, r->raw_len);
	b->n_rejs++;
	return 0;
}

/* Set a live offset (cursor 0) or a replay cursor, replacing the same
 * kind's earlier one for the partition. */
static int batch_position(struct oplog_batch *b, int cursor, const char *topic,
                          int32_t partition, int64_t next, int64_t end)
{
	struct batch_offset *o;

	if (!topic || !*topic || strlen(topic) > 255 || partition < 0 || next < 0 || end < 0)
		return oplog_error__set(OPLOG_EINVAL, "batch: bad offset (%s, %d, %lld)",
		                        topic ? topic : "(null)", partition, (long long)next);
	for (size_t i = 0; i < b->n_offs; i++) {
		o = &b->offs[i];
		if (o->cursor == cursor && o->partition == partition && strcmp(o->topic, topic) == 0) {
			o->next = next;
			o->end = end;
			return 0;
		}
	}
	if (oplog_store__reserve(&b->offs, &b->cap_offs, b->n_offs, sizeof(*b->offs), 64, "batch"))
		return OPLOG_ENOMEM;
	o = &b->offs[b->n_offs];
	*o = (struct batch_offset){ strdup(topic), partition, next, end, cursor };
	if (!o->topic)
		return oplog_error__set(OPLOG_ENOMEM, "batch: out of memory");
	b->n_offs++;
	return 0;
}

int oplog_batch_offset(struct oplog_batch *b, const char *topic,
                       int32_t partition, int64_t next_offset)
{
	return batch_position(b, 0, topic, partition, next_offset, 0);
}

int oplog_batch_cursor(struct oplog_batch *b, const char *topic, int32_t partition,
                       int64_t next, int64_t end)
{
	return batch_position(b, 1, topic, partition, next, end);
}

int oplog_batch_lost(struct oplog_batch *b, const char *topic, int32_t partition,
                     int64_t from, int64_t to)
{
	struct batch_lost *l;
	int rc;

	if (from < 0 || to < 0)
		return oplog_error__set(OPLOG_EINVAL, "batch: bad lost range [%lld, %lld)",
		                        (long long)from, (long long)to);
	/* Checks topic and partition, and moves the partition on. */
	if ((rc = oplog_batch_offset(b, topic, partition, to)))
		return rc;
	if (oplog_store__reserve(&b->lost, &b->cap_lost, b->n_lost, sizeof(*b->lost), 64, "batch"))
		return OPLOG_ENOMEM;
	l = &b->lost[b->n_lost];
	if (!(l->topic = strdup(topic)))
		return oplog_error__set(OPLOG_ENOMEM, "batch: out of memory");
	l->partition = partition;
	l->from = from;
	l->to = to;
	b->n_lost++;
	return 0;
}
