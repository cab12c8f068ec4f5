/* Explaining an editor's buffer (include/aether/explain.h, "an editor's buffer").  What is
 * unusual here:
 *
 * 1. A buffer's symbols are extracted exactly as the indexer extracts a file's (the same ctags
 *    flags, spans, signatures and ids; ctags reads the text on stdin), so a symbol whose
 *    signature the user has not touched keeps its stored id and its SIR, while the lines it
 *    spans follow the unsaved text.
 * 2. The outline's parent of a symbol is the smallest other symbol whose lines strictly
 *    enclose its own; two symbols on the very same lines are siblings, never each other's
 *    parent, so the outline is a tree whatever ctags reports. */
#include <aether/explain.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/extract.h"
#include "symbols/files.h"
#include "util/err.h"
#include "util/mem.h"
#include "workspace/workspace.h"

void ae_doc_symbols_free(ae_doc_symbols *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->items[i].name);
        free(s->items[i].qualified_name);
        free(s->items[i].kind);
    }
    free(s->items);
    free(s->file_path);
    free(s);
}

static bool ident_char(char c)
{
    return c == '_' || c == '$' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z') || (unsigned char)c >= 0x80;
}

/* 1-based code-point column of the first whole-word `name` on line `line` of text; 1 when
 * it is not there. */
static int name_column(const char *text, size_t len, int line, const char *name)
{
    size_t off = 0;
    for (int l = 1; l < line && off < len; off++)
        if (text[off] == '\n') l++;
    size_t end = off;
    while (end < len && text[end] != '\n')
        end++;
    size_t nl = strlen(name);
    if (!nl) return 1;
    for (size_t i = off; i + nl <= end; i++) {
        if (memcmp(text + i, name, nl) != 0) continue;
        if (i > off && ident_char(text[i - 1])) continue;
        if (i + nl < end && ident_char(text[i + nl])) continue;
        int col = 1;
        for (size_t k = off; k < i; k++)
            if (((unsigned char)text[k] & 0xC0) != 0x80) col++;
        return col;
    }
    return 1;
}

typedef struct collect_ctx {
    ae_doc_symbols *out;
    const char *text;
    size_t len;
} collect_ctx;

static int collect(const char *rel, const char *language, ae_symbol *syms, size_t n, void *vctx)
{
    collect_ctx *c = vctx;
    ae_doc_symbols *d = c->out;
    (void)rel, (void)language;
    if (!n) return 0;
    d->items = ae_calloc_array(n, sizeof *d->items);
    if (!d->items) return AE_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        ae_doc_symbol *o = &d->items[i];
        snprintf(o->symbol_id, sizeof o->symbol_id, "%s", syms[i].id);
        o->name = ae_strdup(syms[i].name);
        o->qualified_name = ae_strdup(syms[i].qualified_name);
        o->kind = ae_strdup(syms[i].kind);
        o->start_line = syms[i].start_line;
        o->end_line = syms[i].end_line;
        o->parent = -1;
        d->n = i + 1;
        if (!o->name || !o->qualified_name || !o->kind) return AE_ENOMEM;
        o->name_column = name_column(c->text, c->len, o->start_line, o->name);
    }
    return 0;
}

static void link_parents(ae_doc_symbols *d)
{
    for (size_t i = 0; i < d->n; i++) {
        ae_doc_symbol *s = &d->items[i];
        long best = -1;
        int best_lines = INT_MAX;
        for (size_t j = 0; j < d->n; j++) {
            const ae_doc_symbol *p = &d->items[j];
            if (j == i || p->start_line > s->start_line || p->end_line < s->end_line) continue;
            if (p->start_line == s->start_line && p->end_line == s->end_line) continue;
            int lines = p->end_line - p->start_line;
            if (lines < best_lines) {
                best = (long)j;
                best_lines = lines;
            }
        }
        s->parent = best;
    }
}

int ae_buffer_symbols(const char *file_path, const char *text, size_t len, ae_doc_symbols **out,
                      ae_error *err)
{
    *out = NULL;
    AE_RETURN_IF(!file_path || !*file_path, err, AE_EINVAL, "a buffer needs its file path");
    ae_doc_symbols *d = calloc(1, sizeof *d);
    if (!d) return ae_fail(err, AE_ENOMEM, "symbols of %s", file_path);
    d->file_path = ae_strdup(file_path);
    if (!d->file_path) {
        free(d);
        return ae_fail(err, AE_ENOMEM, "symbols of %s", file_path);
    }
    d->language = ae_language_for_path(file_path); /* static storage */
    collect_ctx c = {.out = d, .text = text ? text : "", .len = text ? len : 0};
    int rc = ae_symbols_extract_text(file_path, c.text, c.len, collect, &c, err);
    if (rc == AE_ENOMEM && (!err || err->code != AE_ENOMEM))
        ae_fail(err, rc, "out of memory for the symbols of %s", file_path);
    if (rc < 0) {
        ae_doc_symbols_free(d);
        return rc;
    }
    link_parents(d);
    *out = d;
    return 0;
}

int ae_workspace_explain_buffer(ae_workspace *ws, const ae_doc_symbols *syms, ae_position pos,
                                ae_explain_result **out, ae_error *err)
{
    *out = NULL;
    AE_RETURN_IF(pos.line < 1, err, AE_EINVAL, "line must be 1 or more (1-based), not %d",
                 pos.line);
    AE_RETURN_IF(pos.column < 1, err, AE_EINVAL, "column must be 1 or more (1-based), not %d",
                 pos.column);
    ae_symbol_span *spans = syms->n ? ae_calloc_array(syms->n, sizeof *spans) : NULL;
    if (syms->n && !spans) return ae_fail(err, AE_ENOMEM, "spans of %s", syms->file_path);
    for (size_t i = 0; i < syms->n; i++)
        spans[i] = ae_span_of_lines(syms->items[i].symbol_id, syms->items[i].qualified_name,
                                    syms->items[i].start_line, syms->items[i].end_line);
    long pick = ae_span_pick(spans, syms->n, pos);
    free(spans);
    ae_explain_result *x = NULL;
    int rc;
    if (pick >= 0) {
        const ae_doc_symbol *s = &syms->items[pick];
        rc = ae_workspace_explain_symbol(ws, s->symbol_id, s->qualified_name, &x, err);
        if (rc < 0) return rc;
        x->start_line = s->start_line;
        x->end_line = s->end_line;
    } else {
        x = calloc(1, sizeof *x);
        if (!x) return ae_fail(err, AE_ENOMEM, "explain answer");
    }
    x->position = pos;
    x->file_path = ae_strdup(syms->file_path);
    if (!x->file_path) {
        ae_explain_result_free(x);
        return ae_fail(err, AE_ENOMEM, "explain answer");
    }
    *out = x;
    return 0;
}

char *ae_explain_hover_text(const ae_explain_result *x)
{
    if (!x || !x->found || !x->hover_markdown) return NULL;
    if (x->has_sir && x->history_hint)
        return ae_asprintf("%s\n\n%s", x->hover_markdown, x->history_hint);
    return ae_strdup(x->hover_markdown);
}

/* ---- paths -------------------------------------------------------------- */

/* Lexically normalized absolute path: no empty, "." or ".." components. */
static char *normalize(const char *path)
{
    size_t n = strlen(path);
    char *o = malloc(n + 2);
    if (!o) return NULL;
    size_t len = 0;
    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        const char *e = strchr(p, '/');
        size_t k = e ? (size_t)(e - p) : strlen(p);
        if (k == 1 && p[0] == '.') {
        } else if (k == 2 && p[0] == '.' && p[1] == '.') {
            while (len && o[len - 1] != '/')
                len--;
            if (len) len--;
        } else if (k) {
            o[len++] = '/';
            memcpy(o + len, p, k);
            len += k;
        }
        p += k;
    }
    if (!len) o[len++] = '/';
    o[len] = '\0';
    return o;
}

/* root-relative part of an absolute normalized path, or NULL. */
static const char *under(const char *root, const char *path)
{
    size_t rl = strlen(root);
    if (rl == 1 && root[0] == '/') return path[1] ? path + 1 : NULL;
    if (strncmp(path, root, rl) || path[rl] != '/' || !path[rl + 1]) return NULL;
    return path + rl + 1;
}

int ae_workspace_relpath(const ae_workspace *ws, const char *abs_path, char **out, ae_error *err)
{
    *out = NULL;
    AE_RETURN_IF(!abs_path || abs_path[0] != '/', err, AE_EINVAL, "%s is not an absolute path",
                 abs_path ? abs_path : "(null)");
    char *norm = normalize(abs_path);
    if (!norm) return ae_fail(err, AE_ENOMEM, "path %s", abs_path);
    const char *rel = under(ws->root, norm);
    char *real = NULL;
    if (!rel) {
        /* through a symlink: the real directory, then the file's name */
        char *slash = strrchr(norm, '/');
        *slash = '\0';
        char dir[PATH_MAX];
        if (realpath(*norm ? norm : "/", dir)) {
            real = ae_asprintf("%s/%s", strcmp(dir, "/") ? dir : "", slash + 1);
            if (!real) {
                free(norm);
                return ae_fail(err, AE_ENOMEM, "path %s", abs_path);
            }
            rel = under(ws->root, real);
        }
    }
    int rc = 0;
    if (!rel)
        rc = ae_fail(err, AE_EINVAL, "%s is outside the workspace %s", abs_path, ws->root);
    else if (!(*out = ae_strdup(rel)))
        rc = ae_fail(err, AE_ENOMEM, "path %s", abs_path);
    free(real);
    free(norm);
    return rc;
}
