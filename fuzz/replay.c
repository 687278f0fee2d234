/*
 * replay.c: run a fuzz target over files, without libFuzzer: each FILE
 * argument is one input, each DIR argument gives one input per file in
 * it. Prints how many inputs ran; a broken check aborts. make test runs
 * every target this way over its seed corpus, and it replays a crash
 * found by make fuzz in a plain build.
 */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Run the target on the file at path. 0, or -1 with a message on stderr. */
static int run_file(const char *path)
{
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, n;
	FILE *f = fopen(path, "rb");
	int rc = -1;

	if (f == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (len == cap) {
			uint8_t *grown = realloc(buf, cap ? 2 * cap : 4096);
			if (grown == NULL) {
				fprintf(stderr, "replay: %s: out of memory\n", path);
				goto done;
			}
			buf = grown;
			cap = cap ? 2 * cap : 4096;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "replay: %s: read error\n", path);
		goto done;
	}
	/* An exact-size copy, so that a read past the input can be caught. */
	{
		uint8_t *exact = malloc(len ? len : 1);
		if (exact == NULL) {
			fprintf(stderr, "replay: %s: out of memory\n", path);
			goto done;
		}
		memcpy(exact, buf, len);
		LLVMFuzzerTestOneInput(exact, len);
		free(exact);
	}
	rc = 0;
done:
	free(buf);
	fclose(f);
	return rc;
}

int main(int argc, char **argv)
{
	unsigned long count = 0;
	struct stat st;
	char path[4096];
	int i;

	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			return 2;
		}
		if (S_ISDIR(st.st_mode)) {
			DIR *d = opendir(argv[i]);
			struct dirent *de;

			if (d == NULL) {
				fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
				return 2;
			}
			while ((de = readdir(d)) != NULL) {
				if (de->d_name[0] == '.')
					continue;
				snprintf(path, sizeof(path), "%s/%s", argv[i], de->d_name);
				if (run_file(path) != 0) {
					closedir(d);
					return 2;
				}
				count++;
			}
			closedir(d);
		} else {
			if (run_file(argv[i]) != 0)
				return 2;
			count++;
		}
	}
	printf("replay: %lu inputs\n", count);
	return 0;
}
