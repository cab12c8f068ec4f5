/* Private to src/symbols/: the ctags JSON line parser, the child-process runner, and the
 * source-text analysis (end lines, signatures, doc comments) the extractor assembles. */
#ifndef AE_SYMBOLS_INTERNAL_H
#define AE_SYMBOLS_INTERNAL_H

#include "util/mem.h"

#include <aether/error.h>
#include <stdbool.h>
#include <stddef.h>

/* ---- ctags_json.c ---------------------------------------------------------------------- */

/* One tag line of `ctags --output-format=json`; strings owned, NULL when absent. */
typedef struct ctags_tag {
    char *name, *path, *kind, *scope, *scope_kind, *signature;
    int line; /* 1-based, > 0 */
    int end;  /* 1-based end line, 0 when ctags did not report one */
} ctags_tag;

/* Parses one line (no newline needed, need not be NUL-terminated).  Returns 1 and fills *out
 * for a tag, 0 for lines that carry no tag (pseudo tags, blank lines), AE_ECORRUPT for
 * malformed JSON or a tag without name/path/kind/line.  *out is zeroed first. */
int ctags_parse_line(const char *line, size_t len, ctags_tag *out, ae_error *err);
void ctags_tag_clear(ctags_tag *t);

/* Our kind for a ctags tag in a language, or NULL when the tag is not kept (locals, fields,
 * enum members, imports, ...).  decl is the text of the tag's first line (may be NULL); it
 * tells a JS/TS `const f = () => {}` (a function) from a plain constant. */
const char *ctags_normalize_kind(const char *language, const ctags_tag *t, const char *decl);

/* The tag's enclosing scopes joined with "::" then its name (allocated). */
char *ctags_qualified_name(const char *language, const ctags_tag *t);

/* ---- proc.c ---------------------------------------------------------------------------- */

/* Receives each delimiter-terminated record of the child's stdout (without the delimiter;
 * a final unterminated record is delivered too).  A negative return kills the child. */
typedef int (*proc_record_fn)(const char *rec, size_t len, void *ctx);

/* Runs argv[0] (PATH lookup) in cwd with `input` on its stdin, streaming stdout records to
 * on_record and collecting up to 4 KiB of stderr.  Returns 0 when the child ran to the end,
 * with its exit status in *status (128 + signal number when killed by a signal);
 * AE_EEXTERNAL when it could not be started; the callback's code when it aborted. */
int proc_run(const char *const argv[], const char *cwd, const char *input, size_t input_len,
             char delim, proc_record_fn on_record, void *ctx, int *status, ae_buf *errout,
             ae_error *err);

/* ---- span.c ---------------------------------------------------------------------------- */

/* A source file split into lines; lines are 1-based in the API. */
typedef struct src_text {
    const char *text; /* borrowed */
    size_t len;
    size_t *off; /* off[i] = byte offset of line i+1; off[nlines] = len (sentinel) */
    int nlines;
} src_text;

int src_text_init(src_text *s, const char *text, size_t len);
void src_text_free(src_text *s);
/* Line `line` without its newline: pointer and length. */
const char *src_line(const src_text *s, int line, size_t *len);

/* Byte column on `line` where the declaration naming `name` starts: 0, or just after the last
 * `{`, `}` or `;` before the name when several declarations share the line. */
size_t span_start_col(const src_text *s, int line, const char *name);
/* Derives an end line for a symbol starting at line `start`, column `col`, when ctags gave
 * none: braces for brace languages, indentation for Python.  Returns a line in
 * [start, nlines]. */
int span_end_line(const src_text *s, const char *language, const char *kind, int start, size_t col);
/* The declaration text from (start, col) up to the body (see symbol.h); allocated. */
char *span_signature(const src_text *s, const char *language, const char *kind, int start,
                     size_t col, int end);
/* Lines start..end inclusive, allocated. */
char *span_source(const src_text *s, int start, int end);
/* Doc comment above `start` or the Python docstring; allocated, NULL when none. */
char *span_doc(const src_text *s, const char *language, const char *kind, int start, size_t col,
               int end);

#endif
