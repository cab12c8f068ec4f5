/* Symbol extraction: ctags per batch, then one pass over each file's text.
 *
 * 1. ctags runs once per batch of AE_SYMBOLS_BATCH_FILES files (file list on stdin), never
 *    once per file; only one batch's tags are held at a time, so a workspace with 100K+
 *    symbols never sits in memory at once.
 * 2. ctags is told exactly which parsers to use (--options=NONE ignores user config, .h is
 *    C, .tsx is TypeScript), and paths go in as "./path" so a file named "--foo.c" is
 *    never read as an option.
 * 3. Each file is read once, after its batch's ctags run; a file that vanished in between
 *    is skipped.  Its tags are sorted by line so output order, and so which of two
 *    identical ids is kept (the first), is deterministic. */
#include "symbols/extract.h"

#include "symbols/files.h"
#include "symbols/internal.h"
#include "util/err.h"
#include "util/fs.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* ctags misses Rust `const` items; this regex finds the module-level ones. */
#define RUST_CONST_REGEX                                                                           \
    "--regex-Rust=/^(pub(\\([^)]*\\))?[[:space:]]+)?const[[:space:]]+([A-Za-z_][A-Za-z0-9_]*)"     \
    "[[:space:]]*:/\\3/C,constant,module-level constants/"

typedef struct tag_list {
    ctags_tag *items;
    size_t len, cap;
} tag_list;

typedef struct batch {
    const ae_strlist *files;
    size_t first, n; /* files[first .. first+n) */
    tag_list *tags;  /* per file of the batch */
    size_t cursor;   /* where the last tag's file was found */
    size_t malformed;
} batch;

static int tag_list_push(tag_list *l, ctags_tag *t)
{
    if (l->len == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        ctags_tag *items = ae_realloc_array(l->items, cap, sizeof *items);
        if (!items) return AE_ENOMEM;
        l->items = items;
        l->cap = cap;
    }
    l->items[l->len++] = *t;
    memset(t, 0, sizeof *t);
    return 0;
}

static void tag_list_free(tag_list *l)
{
    for (size_t i = 0; i < l->len; i++)
        ctags_tag_clear(&l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

static bool listable(const char *path)
{
    return ae_language_for_path(path) && !strchr(path, '\n') && !strchr(path, '\r');
}

/* Index within the batch of the file ctags calls `path`, or -1. */
static long find_file(batch *b, const char *path)
{
    if (strncmp(path, "./", 2) == 0) path += 2;
    for (size_t k = 0; k < b->n; k++) {
        size_t i = (b->cursor + k) % b->n;
        if (strcmp(b->files->items[b->first + i], path) == 0) {
            b->cursor = i;
            return (long)i;
        }
    }
    return -1;
}

static int on_ctags_line(const char *line, size_t len, void *ctx)
{
    batch *b = ctx;
    ctags_tag t;
    ae_error perr;
    int rc = ctags_parse_line(line, len, &t, &perr);
    if (rc == AE_ENOMEM) return rc;
    if (rc < 0) {
        b->malformed++; /* e.g. a file name that is not valid UTF-8: lose its tags only */
        return 0;
    }
    if (rc == 0) return 0;
    long i = find_file(b, t.path);
    if (i >= 0)
        rc = tag_list_push(&b->tags[i], &t);
    else
        rc = 0;
    ctags_tag_clear(&t);
    return rc;
}

static const char *ctags_program(void)
{
    const char *ctags = getenv("AE_CTAGS");
    return ctags && *ctags ? ctags : "ctags";
}

/* argv for one ctags run: the file list on stdin ("-L -"), or interactive mode (a JSON command
 * and the file's text on stdin) when `interactive`. */
#define CTAGS_ARGV(ctags, ...)                                                                     \
    {                                                                                              \
        ctags, "--options=NONE", "--output-format=json", "--fields=+nKSe", "--sort=no",            \
            "--languages=C,C++,Go,Java,JavaScript,Python,Rust,TypeScript", "--map-C++=-.h",        \
            "--map-C=+.h", "--map-TypeScript=+.tsx", "--map-TypeScript=+.mts",                     \
            "--map-TypeScript=+.cts", "--map-JavaScript=+.cjs", RUST_CONST_REGEX, __VA_ARGS__,     \
            NULL                                                                                   \
    }

/* The error for a ctags run that exited with `status`. */
static int ctags_failed(const char *ctags, int status, const ae_buf *errout, ae_error *err)
{
    /* the first stderr line that is not ctags' "--options=NONE" notice */
    const char *msg = errout->data ? errout->data : "";
    const char *notice = strstr(msg, "Notice: No options");
    if (notice == msg + strlen("ctags: ") || notice == msg) {
        const char *nl = strchr(msg, '\n');
        msg = nl ? nl + 1 : "";
    }
    int n = (int)strcspn(msg, "\n");
    return ae_fail(err, AE_EEXTERNAL, "%s exited with status %d%s%.*s", ctags, status,
                   n ? ": " : "", n, msg);
}

static int run_ctags(const char *root, batch *b, ae_error *err)
{
    const char *ctags = ctags_program();
    const char *argv[] = CTAGS_ARGV(ctags, "-L", "-", "-o", "-");
    ae_buf list = {0}, errout = {0};
    int rc = 0, status = 0;
    for (size_t i = 0; i < b->n; i++) {
        const char *p = b->files->items[b->first + i];
        if (listable(p) && ae_buf_printf(&list, "./%s\n", p) < 0) {
            rc = ae_fail(err, AE_ENOMEM, "out of memory building the ctags file list");
            goto cleanup;
        }
    }
    if (list.len == 0) goto cleanup;
    rc = proc_run(argv, root, list.data, list.len, '\n', on_ctags_line, b, &status, &errout, err);
    if (rc == AE_ENOMEM) ae_fail(err, rc, "out of memory reading ctags output");
    if (rc < 0) goto cleanup;
    if (status != 0) rc = ctags_failed(ctags, status, &errout, err);
cleanup:
    ae_buf_free(&list);
    ae_buf_free(&errout);
    return rc;
}

static int cmp_tag_line(const void *pa, const void *pb)
{
    const ctags_tag *a = pa, *b = pb;
    if (a->line != b->line) return a->line < b->line ? -1 : 1;
    int c = strcmp(a->name, b->name);
    if (c) return c;
    return strcmp(a->kind, b->kind);
}

/* Builds one symbol; 1 when built, 0 when the tag is not a symbol, <0 on error. */
static int build_symbol(const src_text *src, const char *rel, const char *lang, const ctags_tag *t,
                        ae_symbol *s)
{
    memset(s, 0, sizeof *s);
    if (t->line > src->nlines) return 0;
    size_t n;
    const char *l = src_line(src, t->line, &n);
    char *decl = ae_strndup(l, n);
    if (!decl) return AE_ENOMEM;
    const char *kind = ctags_normalize_kind(lang, t, decl);
    free(decl);
    if (!kind) return 0;

    int start = t->line;
    /* a C typedef's name follows the `}` of the type it names: keep the whole line */
    size_t col = strcmp(kind, "type_alias") == 0 ? 0 : span_start_col(src, start, t->name);
    int end = t->end ? t->end : span_end_line(src, lang, kind, start, col);
    if (end > src->nlines) end = src->nlines;
    if (end < start) end = start;
    s->start_line = start;
    s->end_line = end;
    s->language = ae_strdup(lang);
    s->file_path = ae_strdup(rel);
    s->kind = ae_strdup(kind);
    s->name = ae_strdup(t->name);
    s->qualified_name = ctags_qualified_name(lang, t);
    s->signature = span_signature(src, lang, kind, start, col, end);
    s->source = span_source(src, start, end);
    s->doc = span_doc(src, lang, kind, start, col, end);
    if (!s->language || !s->file_path || !s->kind || !s->name || !s->qualified_name ||
        !s->signature || !s->source) {
        ae_symbol_clear(s);
        return AE_ENOMEM;
    }
    int rc = ae_symbol_compute_ids(s);
    if (rc < 0) {
        ae_symbol_clear(s);
        return rc;
    }
    return 1;
}

typedef struct id_ref {
    const char *id;
    size_t index;
} id_ref;

static int cmp_id_ref(const void *pa, const void *pb)
{
    const id_ref *a = pa, *b = pb;
    int c = strcmp(a->id, b->id);
    if (c) return c;
    return a->index < b->index ? -1 : a->index > b->index;
}

/* Drops every symbol whose id an earlier symbol of the file already has; returns new n. */
static size_t drop_duplicate_ids(ae_symbol *syms, size_t n)
{
    if (n < 2) return n;
    id_ref *refs = ae_calloc_array(n, sizeof *refs);
    bool *drop = ae_calloc_array(n, sizeof *drop);
    if (!refs || !drop) { /* without memory to check, keep them all */
        free(refs);
        free(drop);
        return n;
    }
    for (size_t i = 0; i < n; i++)
        refs[i] = (id_ref){syms[i].id, i};
    qsort(refs, n, sizeof *refs, cmp_id_ref);
    for (size_t i = 1; i < n; i++)
        if (strcmp(refs[i].id, refs[i - 1].id) == 0) drop[refs[i].index] = true;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (drop[i]) {
            ae_symbol_clear(&syms[i]);
            continue;
        }
        if (k != i) syms[k] = syms[i];
        k++;
    }
    free(refs);
    free(drop);
    return k;
}

/* Builds the symbols of one file's text from its tags and hands them to fn. */
static int emit_text(const char *rel, const char *lang, const char *text, size_t len,
                     tag_list *tags, ae_file_symbols_fn fn, void *ctx, ae_error *err)
{
    int rc;
    src_text src;
    ae_symbol *syms = NULL;
    size_t n = 0;
    if ((rc = src_text_init(&src, text, len)) < 0)
        return ae_fail(err, rc, "out of memory indexing lines of %s", rel);
    if (tags->len) {
        qsort(tags->items, tags->len, sizeof *tags->items, cmp_tag_line);
        syms = ae_calloc_array(tags->len, sizeof *syms);
        if (!syms) {
            rc = ae_fail(err, AE_ENOMEM, "out of memory for %zu symbols of %s", tags->len, rel);
            goto cleanup;
        }
    }
    for (size_t i = 0; i < tags->len; i++) {
        rc = build_symbol(&src, rel, lang, &tags->items[i], &syms[n]);
        if (rc < 0) {
            ae_fail(err, rc, "out of memory building symbols of %s", rel);
            goto cleanup;
        }
        n += (size_t)rc;
    }
    n = drop_duplicate_ids(syms, n);
    rc = fn(rel, lang, syms, n, ctx);
    if (rc > 0) rc = 0;
    if (rc < 0 && err && err->code != rc)
        ae_fail(err, rc, "%s: the symbol callback failed: %s", rel, ae_strerror(rc));
cleanup:
    for (size_t i = 0; i < n; i++)
        ae_symbol_clear(&syms[i]);
    free(syms);
    src_text_free(&src);
    return rc;
}

static int emit_file(const char *root, const char *rel, tag_list *tags, ae_file_symbols_fn fn,
                     void *ctx, ae_error *err)
{
    const char *lang = ae_language_for_path(rel);
    if (!lang) return 0;
    char *full = ae_path_join(root, rel);
    if (!full) return ae_fail(err, AE_ENOMEM, "out of memory reading %s", rel);
    char *text = NULL;
    size_t len = 0;
    ae_error rerr;
    int rc = ae_read_file(full, &text, &len, &rerr);
    free(full);
    if (rc == AE_ENOMEM) return ae_fail(err, rc, "%s", rerr.message);
    if (rc < 0) return 0; /* vanished or unreadable since listing: skip it */
    rc = emit_text(rel, lang, text, len, tags, fn, ctx, err);
    free(text);
    return rc;
}

int ae_symbols_extract(const char *root, const ae_strlist *files, ae_file_symbols_fn fn, void *ctx,
                       ae_error *err)
{
    AE_RETURN_IF(!root || !files || !fn, err, AE_EINVAL,
                 "symbol extraction needs a root, a file list and a callback");
    int rc = 0;
    tag_list *tags = ae_calloc_array(AE_SYMBOLS_BATCH_FILES, sizeof *tags);
    if (!tags) return ae_fail(err, AE_ENOMEM, "out of memory for a ctags batch");
    for (size_t first = 0; first < files->len; first += AE_SYMBOLS_BATCH_FILES) {
        size_t n = files->len - first;
        if (n > AE_SYMBOLS_BATCH_FILES) n = AE_SYMBOLS_BATCH_FILES;
        batch b = {.files = files, .first = first, .n = n, .tags = tags};
        rc = run_ctags(root, &b, err);
        for (size_t i = 0; rc >= 0 && i < n; i++)
            if (listable(files->items[first + i]))
                rc = emit_file(root, files->items[first + i], &tags[i], fn, ctx, err);
        for (size_t i = 0; i < n; i++)
            tag_list_free(&tags[i]);
        if (rc < 0) break;
    }
    free(tags);
    return rc < 0 ? rc : 0;
}

/* ---- one file's text (an editor buffer) ------------------------------------------------ */

typedef struct text_batch {
    const char *rel;
    tag_list *tags;
} text_batch;

static int on_text_tag(const char *line, size_t len, void *ctx)
{
    text_batch *b = ctx;
    ctags_tag t;
    ae_error perr;
    int rc = ctags_parse_line(line, len, &t, &perr);
    if (rc == AE_ENOMEM) return rc;
    if (rc <= 0) return 0; /* the program and "completed" lines, or a malformed one */
    rc = strcmp(t.path, b->rel) == 0 ? tag_list_push(b->tags, &t) : 0;
    ctags_tag_clear(&t);
    return rc;
}

int ae_symbols_extract_text(const char *rel_path, const char *text, size_t len,
                            ae_file_symbols_fn fn, void *ctx, ae_error *err)
{
    AE_RETURN_IF(!rel_path || (!text && len) || !fn, err, AE_EINVAL,
                 "symbol extraction of a text needs a path, the text and a callback");
    const char *lang = ae_language_for_path(rel_path);
    if (!lang || strchr(rel_path, '\n') || strchr(rel_path, '\r')) return 0;
    json_t *cmd = json_pack("{s:s, s:s, s:I}", "command", "generate-tags", "filename", rel_path,
                            "size", (json_int_t)len);
    char *line = cmd ? json_dumps(cmd, JSON_COMPACT) : NULL;
    json_decref(cmd);
    if (!line) return ae_fail(err, AE_EINVAL, "%s: the path is not valid UTF-8", rel_path);
    ae_buf input = {0}, errout = {0};
    tag_list tags = {0};
    int rc = 0, status = 0;
    if (ae_buf_printf(&input, "%s\n", line) < 0 || (len && ae_buf_append(&input, text, len) < 0)) {
        rc = ae_fail(err, AE_ENOMEM, "out of memory for the text of %s", rel_path);
        goto cleanup;
    }
    const char *ctags = ctags_program();
    const char *argv[] = CTAGS_ARGV(ctags, "--_interactive", "-o", "-");
    text_batch b = {.rel = rel_path, .tags = &tags};
    rc = proc_run(argv, "/", input.data, input.len, '\n', on_text_tag, &b, &status, &errout, err);
    if (rc == AE_ENOMEM) ae_fail(err, rc, "out of memory reading ctags output");
    if (rc < 0) goto cleanup;
    if (status != 0) {
        rc = ctags_failed(ctags, status, &errout, err);
        goto cleanup;
    }
    rc = emit_text(rel_path, lang, text ? text : "", len, &tags, fn, ctx, err);
cleanup:
    free(line);
    ae_buf_free(&input);
    ae_buf_free(&errout);
    tag_list_free(&tags);
    return rc < 0 ? rc : 0;
}
