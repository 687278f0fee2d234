/*
 * table.c: aligned text tables for the commands' text output (cli.h).
 *
 * Rows are held until the table ends, so that each column can be as wide
 * as its widest cell, then printed left-aligned: every column of every
 * line starts at the same offset, for eyes and for `awk` alike. A scan of
 * millions of entries must not hold them all, so past CLI_TABLE_BATCH rows
 * the widths are fixed from the first batch and later rows are printed as
 * they come; a later cell wider than its column pushes the rest of that
 * one line right.
 *
 * Padding by hand rather than with libsmartcols: that library holds the
 * whole table until it prints (no bounded-memory streaming for scan), and
 * the cells are already escaped to printable UTF-8 by cli_print_text, so
 * what is left is counting characters.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "oplog/bytes.h"
#include "oplog/error.h"

#define CLI_TABLE_GAP 2  /* spaces between columns */

struct cli_table {
	FILE   *out;
	int     flags;
	size_t  ncols;
	char  **names;     /* the header's column names */
	size_t *width;     /* per column, in characters */
	char  **cells;     /* nrows * ncols held cells, row-major */
	size_t  nrows, cap;
	size_t  ncur;      /* cells added to the row being built */
	int     streaming; /* widths fixed, header printed */
	int     err;       /* first failure, reported by finish */
};

/* Characters on a terminal: UTF-8 code points, continuation bytes not
 * counted. East Asian wide characters count one; names are mostly ASCII. */
static size_t text_width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

struct cli_table *cli_table_new(FILE *out, const char *header, int flags)
{
	struct cli_table *t = calloc(1, sizeof(*t));
	const char *p = header;
	size_t i;

	if (t == NULL)
		return NULL;
	t->out = out;
	t->flags = flags;
	t->ncols = 1;
	for (; *p; p++)
		t->ncols += *p == ' ';
	t->names = calloc(t->ncols, sizeof(*t->names));
	t->width = calloc(t->ncols, sizeof(*t->width));
	if (t->names == NULL || t->width == NULL)
		goto fail;
	for (i = 0, p = header; i < t->ncols; i++) {
		size_t len = strcspn(p, " ");

		if ((t->names[i] = strndup(p, len)) == NULL)
			goto fail;
		if (!(flags & CLI_TABLE_NO_HEADER))
			t->width[i] = text_width(t->names[i]);
		p += len + (p[len] == ' ');
	}
	return t;
fail:
	cli_table_free(t);
	return NULL;
}

static void print_row(struct cli_table *t, char *const *row)
{
	size_t i, w;

	for (i = 0; i < t->ncols; i++) {
		fputs(row[i], t->out);
		if (i + 1 == t->ncols)
			break;
		for (w = text_width(row[i]); w < t->width[i] + CLI_TABLE_GAP; w++)
			fputc(' ', t->out);
	}
	fputc('\n', t->out);
}

/* Print and drop the held rows; the first time, fix the widths and print
 * the header. */
static void flush_rows(struct cli_table *t)
{
	size_t r, i;

	if (!t->streaming) {
		for (r = 0; r < t->nrows; r++)
			for (i = 0; i < t->ncols; i++) {
				size_t w = text_width(t->cells[r * t->ncols + i]);

				if (w > t->width[i])
					t->width[i] = w;
			}
		if (!(t->flags & CLI_TABLE_NO_HEADER))
			print_row(t, t->names);
		t->streaming = 1;
	}
	for (r = 0; r < t->nrows; r++) {
		print_row(t, t->cells + r * t->ncols);
		for (i = 0; i < t->ncols; i++)
			free(t->cells[r * t->ncols + i]);
	}
	t->nrows = 0;
}

/* Take cell (malloc'd, or NULL after a failed allocation) as the next
 * cell of the current row. */
static int add_cell(struct cli_table *t, char *cell)
{
	size_t at;

	if (t->err) {
		free(cell);
		return t->err;
	}
	if (cell == NULL) {
		t->err = t->err ? t->err : oplog_error__set(OPLOG_ENOMEM, "table: out of memory");
		return t->err;
	}
	if (t->ncur == t->ncols) {   /* more cells than columns: a caller's bug */
		free(cell);
		t->err = t->err ? t->err : oplog_error__set(OPLOG_EINVAL, "table: more cells than "
		                                            "the %zu columns", t->ncols);
		return t->err;
	}
	if (t->ncur == 0 && t->nrows == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		char **cells = realloc(t->cells, cap * t->ncols * sizeof(*cells));

		if (cells == NULL) {
			free(cell);
			t->err = t->err ? t->err : oplog_error__set(OPLOG_ENOMEM, "table: out of memory");
			return t->err;
		}
		t->cells = cells;
		t->cap = cap;
	}
	at = t->nrows * t->ncols + t->ncur++;
	t->cells[at] = cell;
	return 0;
}

int cli_table_add(struct cli_table *t, const char *fmt, ...)
{
	va_list ap, again;
	char *cell = NULL;
	int n;

	va_start(ap, fmt);
	va_copy(again, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	if (n >= 0 && (cell = malloc((size_t)n + 1)) != NULL)
		vsnprintf(cell, (size_t)n + 1, fmt, again);
	va_end(again);
	va_end(ap);
	return add_cell(t, cell);
}

/* A cell written by fn to a memory stream (cli_print_text, cli_print_hex). */
static int add_printed(struct cli_table *t, void (*fn)(FILE *, const uint8_t *, size_t),
                       const uint8_t *p, size_t n)
{
	char *cell = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&cell, &len);

	if (f == NULL)
		return add_cell(t, NULL);
	fn(f, p, n);
	if (fclose(f) != 0) {
		free(cell);
		cell = NULL;
	}
	return add_cell(t, cell);
}

int cli_table_add_text(struct cli_table *t, const uint8_t *p, size_t n)
{
	/* An empty name would leave a hole that shifts awk's fields. */
	if (n == 0)
		return cli_table_add(t, "\"\"");
	return add_printed(t, cli_print_text, p, n);
}

int cli_table_add_hex(struct cli_table *t, const uint8_t *p, size_t n)
{
	return add_printed(t, cli_print_hex, p, n);
}

int cli_table_add_time(struct cli_table *t, uint64_t ms)
{
	char iso[OPLOG_TIME_ISO_MAX];

	/* Past year 9999 a wall is a producer's bug, not a time. */
	if (ms / 1000 > (uint64_t)253402300799 || oplog_time_iso(ms, iso) != 0)
		return cli_table_add(t, "-");
	return cli_table_add(t, "%s", iso);
}

int cli_table_end_row(struct cli_table *t)
{
	while (t->ncur < t->ncols && t->err == 0)
		add_cell(t, strdup("-"));
	if (t->err) {
		/* Drop the partial row. */
		for (size_t i = 0; i < t->ncur; i++)
			free(t->cells[t->nrows * t->ncols + i]);
		t->ncur = 0;
		return t->err;
	}
	t->ncur = 0;
	t->nrows++;
	if (t->nrows == CLI_TABLE_BATCH || t->streaming)
		flush_rows(t);
	return 0;
}

int cli_table_finish(struct cli_table *t)
{
	if (t->err)
		return t->err;
	flush_rows(t);
	if (fflush(t->out) != 0 || ferror(t->out))
		return oplog_error__set(OPLOG_EIO, "write stdout: %s", strerror(errno ? errno : EIO));
	return 0;
}

void cli_table_free(struct cli_table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nrows * t->ncols + t->ncur && t->cells; i++)
		free(t->cells[i]);
	for (i = 0; t->names && i < t->ncols; i++)
		free(t->names[i]);
	free(t->names);
	free(t->width);
	free(t->cells);
	free(t);
}
