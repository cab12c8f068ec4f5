/* A fake LSP backend for tests/unit/test_lsp.c and tests/fuzz/fuzz_lsp.c: the workspace is
 * "/ws"; a file's symbols are its lines "def NAME" (to the next line that starts with a letter)
 * and "    def NAME" (to the next line that is not deeper), so nesting, spans and positions
 * run through the real server code without ctags or a store.  A symbol whose name starts
 * with 'n' has no SIR, 's' a stale one; "/ws/disk.py" exists on "disk". */
#ifndef AE_TESTS_LSP_FAKE_H
#define AE_TESTS_LSP_FAKE_H

#include <aether/explain.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lsp/server.h"

#define FAKE_DISK_TEXT "def on_disk():\n    return 1\n"

static int fake_relpath(void *ctx, const char *abs, char **rel, ae_error *err)
{
    (void)ctx;
    if (strncmp(abs, "/ws/", 4) || !abs[4]) return ae_fail(err, AE_EINVAL, "%s is outside", abs);
    *rel = strdup(abs + 4);
    return *rel ? 0 : AE_ENOMEM;
}

static char *fake_abspath(void *ctx, const char *rel)
{
    (void)ctx;
    char *p = malloc(strlen(rel) + 5);
    if (p) sprintf(p, "/ws/%s", rel);
    return p;
}

static int fake_read_file(void *ctx, const char *rel, char **text, size_t *len, ae_error *err)
{
    (void)ctx;
    if (strcmp(rel, "disk.py")) return ae_fail(err, AE_ENOTFOUND, "%s: no such file", rel);
    *text = strdup(FAKE_DISK_TEXT);
    *len = strlen(FAKE_DISK_TEXT);
    return *text ? 0 : AE_ENOMEM;
}

static int fake_symbols(void *ctx, const char *rel, const char *text, size_t len,
                        ae_doc_symbols **out, ae_error *err)
{
    (void)ctx;
    ae_doc_symbols *d = calloc(1, sizeof *d);
    if (!d || !(d->file_path = strdup(rel))) {
        free(d);
        return ae_fail(err, AE_ENOMEM, "fake symbols");
    }
    d->language = "python";
    size_t cap = 0;
    int line = 1, depth_of_top = -1;
    long top = -1;
    for (size_t off = 0; off < len; line++) {
        const char *l = text + off;
        const char *nl = memchr(l, '\n', len - off);
        size_t n = nl ? (size_t)(nl - l) : len - off;
        off += n + (nl ? 1 : 0);
        int indent = 0;
        while ((size_t)indent < n && l[indent] == ' ')
            indent++;
        /* close spans: a line at depth <= a symbol's ends it (blank lines do not) */
        if ((size_t)indent < n) {
            for (size_t i = 0; i < d->n; i++) {
                ae_doc_symbol *s = &d->items[i];
                int sdepth = s->parent >= 0 ? 4 : 0;
                if (s->end_line == 0 && indent <= sdepth && s->start_line < line)
                    s->end_line = line - 1;
            }
        }
        if (n - (size_t)indent > 4 && !strncmp(l + indent, "def ", 4) &&
            (indent == 0 || indent == 4)) {
            size_t k = (size_t)indent + 4, e = k;
            while (e < n && e - k < 40 && l[e] != '(' && l[e] != ':' && l[e] != ' ')
                e++;
            if (e == k) continue;
            if (d->n == cap) {
                cap = cap ? cap * 2 : 4;
                ae_doc_symbol *items = realloc(d->items, cap * sizeof *items);
                if (!items) goto oom;
                d->items = items;
            }
            ae_doc_symbol *s = &d->items[d->n];
            memset(s, 0, sizeof *s);
            s->name = strndup(l + k, e - k);
            s->kind = strdup(indent ? "method" : "function");
            s->parent = indent && top >= 0 ? top : -1;
            s->qualified_name = s->parent >= 0 ? malloc(strlen(d->items[top].name) + (e - k) + 3)
                                               : strndup(l + k, e - k);
            d->n++;
            if (!s->name || !s->kind || !s->qualified_name) goto oom;
            if (s->parent >= 0) sprintf(s->qualified_name, "%s::%s", d->items[top].name, s->name);
            snprintf(s->symbol_id, sizeof s->symbol_id, "sym:%s", s->qualified_name);
            s->start_line = line;
            s->name_column = indent + 5;
            if (!indent) top = (long)d->n - 1, depth_of_top = 0;
        }
    }
    (void)depth_of_top;
    for (size_t i = 0; i < d->n; i++)
        if (!d->items[i].end_line)
            d->items[i].end_line =
                line - 1 > d->items[i].start_line ? line - 1 : d->items[i].start_line;
    *out = d;
    return 0;
oom:
    ae_doc_symbols_free(d);
    return ae_fail(err, AE_ENOMEM, "fake symbols");
}

static int fake_explain(void *ctx, const ae_doc_symbols *syms, ae_position pos,
                        ae_explain_result **out, ae_error *err)
{
    (void)ctx;
    ae_explain_result *x = calloc(1, sizeof *x);
    if (!x) return AE_ENOMEM;
    x->position = pos;
    x->file_path = strdup(syms->file_path);
    ae_symbol_span spans[64];
    size_t n = syms->n < 64 ? syms->n : 64;
    for (size_t i = 0; i < n; i++)
        spans[i] = ae_span_of_lines(syms->items[i].symbol_id, syms->items[i].qualified_name,
                                    syms->items[i].start_line, syms->items[i].end_line);
    long pick = ae_span_pick(spans, n, pos);
    int rc = 0;
    if (pick >= 0) {
        const ae_doc_symbol *s = &syms->items[pick];
        x->found = true;
        snprintf(x->symbol_id, sizeof x->symbol_id, "%s", s->symbol_id);
        x->qualified_name = strdup(s->qualified_name);
        x->start_line = s->start_line;
        x->end_line = s->end_line;
        bool stale = s->name[0] == 's';
        x->has_sir = s->name[0] != 'n';
        x->sir_json = x->has_sir
                          ? strdup("{\"confidence\":0.5,\"intent\":\"Fake.\",\"inputs\":[\"a\"]}")
                          : NULL;
        snprintf(x->sir_status, sizeof x->sir_status, "%s", stale ? "stale" : "fresh");
        if (stale) x->last_error = strdup("boom");
        rc = ae_hover_markdown(s->qualified_name, x->sir_json, stale, x->last_error,
                               &x->hover_markdown, err);
        if (rc == 0 && x->has_sir)
            x->history_hint = strdup("> AETHER WHY: only one recorded SIR version.");
    }
    if (rc < 0) {
        ae_explain_result_free(x);
        return rc;
    }
    *out = x;
    return 0;
}

static int fake_search(void *ctx, const char *query, ae_search_mode mode, size_t limit,
                       ae_search_results **out, ae_error *err)
{
    (void)ctx, (void)limit, (void)err;
    ae_search_results *r = calloc(1, sizeof *r);
    if (!r) return AE_ENOMEM;
    r->mode_requested = r->mode_used = mode;
    r->matches = calloc(1, sizeof *r->matches);
    if (r->matches && strcmp(query, "none")) {
        ae_match *m = &r->matches[0];
        m->symbol_id = malloc(strlen(query) + 5);
        if (m->symbol_id) sprintf(m->symbol_id, "sym:%s", query);
        m->qualified_name = strdup(query);
        m->file_path = strdup("disk.py");
        m->language = strdup("python");
        m->kind = strdup("function");
        r->n = 1;
    }
    *out = r;
    return 0;
}

static int fake_locate(void *ctx, const char *id, char **file, int *start, int *end, ae_error *err)
{
    (void)ctx;
    if (strncmp(id, "sym:", 4) || !strcmp(id, "sym:gone"))
        return ae_fail(err, AE_ENOTFOUND, "no symbol %s", id);
    *file = strdup("disk.py");
    *start = 1;
    *end = 2;
    return *file ? 0 : AE_ENOMEM;
}

static const lsp_backend fake_backend = {
    .ctx = NULL,
    .relpath = fake_relpath,
    .abspath = fake_abspath,
    .read_file = fake_read_file,
    .symbols = fake_symbols,
    .explain = fake_explain,
    .search = fake_search,
    .locate = fake_locate,
};

#endif
