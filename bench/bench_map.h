/*
 * bench_map.h: mapping a stream file read-only, and reading a count from
 * the command line, for the benchmark programs (each a single .c file;
 * this header is theirs, not the library's).
 */
#ifndef OPLOG_BENCH_MAP_H
#define OPLOG_BENCH_MAP_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * A positive whole number named `what` from text: 0 with *out set, or -1
 * after "PROG: WHAT must be a positive integer, not 'TEXT'" on stderr.
 */
static inline int bench_count(const char *prog, const char *what, const char *text,
                              uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(text, &end, 10);
	if (errno || *end || *out == 0) {
		fprintf(stderr, "%s: %s must be a positive integer, not '%s'\n", prog, what, text);
		return -1;
	}
	return 0;
}

/*
 * Map `path` read-only: 0 with *buf and *len set (NULL and 0 for an empty
 * file), or -1 with the cause on stderr, prefixed with `prog`. The caller
 * unmaps *buf with munmap(*buf, *len), or keeps it for the process's life.
 */
static inline int bench_map(const char *prog, const char *path, const uint8_t **buf,
                            size_t *len)
{
	struct stat st;
	void *p;
	int fd, rc = -1;

	*buf = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY)) < 0 || fstat(fd, &st) != 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		goto done;
	}
	if (st.st_size == 0) {
		rc = 0;
		goto done;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "%s: mmap %s: %s\n", prog, path, strerror(errno));
		goto done;
	}
	*buf = p;
	*len = (size_t)st.st_size;
	rc = 0;
done:
	if (fd >= 0)
		close(fd);
	return rc;
}

#endif
