/* hlc.c: the HLC order of entries. */
#include <string.h>

#include "oplog/entry.h"

int oplog_entry_hlc_cmp(const struct oplog_entry *a, const struct oplog_entry *b)
{
	size_t n;
	int c;

	if (a->wall != b->wall)
		return a->wall < b->wall ? -1 : 1;
	if (a->logic != b->logic)
		return a->logic < b->logic ? -1 : 1;
	n = a->node.len < b->node.len ? a->node.len : b->node.len;
	c = n == 0 ? 0 : memcmp(a->node.ptr, b->node.ptr, n);
	if (c != 0)
		return c < 0 ? -1 : 1;
	if (a->node.len != b->node.len)
		return a->node.len < b->node.len ? -1 : 1;
	if (a->hash == NULL || b->hash == NULL)
		return (a->hash != NULL) - (b->hash != NULL);
	c = memcmp(a->hash, b->hash, OPLOG_HASH_LEN);
	return c < 0 ? -1 : c > 0;
}
