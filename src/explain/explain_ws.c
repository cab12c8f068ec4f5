/* The workspace side of include/aether/explain.h: symbols of a file, a SIR row with its status,
 * a symbol's history, read from meta.sqlite.  What is unusual here:
 *
 * 1. The SIR status columns (sir_status, last_error, last_attempt_at) are read when the store
 *    has them; a store without them (written before SIR status existed) reads as fresh with
 *    last_attempt_at = updated_at, the same rule the status migration applies.
 * 2. A read-only workspace without a store answers "not found" everywhere, never an error:
 *    an agent asking before the first index run gets found false. */
#include <aether/explain.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/mem.h"
#include "workspace/workspace.h"

static char *col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    return s ? ae_strdup((const char *)s) : NULL;
}

static int sql_prep(ae_workspace *ws, const char *sql, sqlite3_stmt **st, ae_error *err)
{
    return ae_meta_prepare(ws->meta, sql, st, err);
}

static int step_fail(ae_workspace *ws, sqlite3_stmt *st, const char *what, ae_error *err)
{
    sqlite3_finalize(st);
    return ae_fail(err, AE_EIO, "%s: %s: %s", ws->meta_path, what,
                   sqlite3_errmsg(ae_meta_db(ws->meta)));
}

/* ---- history ------------------------------------------------------------ */

static int load_history(ae_workspace *ws, const char *id, size_t limit, ae_sir_timeline **out,
                        ae_error *err)
{
    *out = NULL;
    ae_sir_timeline *t = calloc(1, sizeof *t);
    if (!t) return ae_fail(err, AE_ENOMEM, "SIR timeline");
    if (!ws->meta || !id || !*id) {
        *out = t;
        return 0;
    }
    sqlite3_stmt *st;
    int rc = sql_prep(ws, "SELECT COUNT(*) FROM sir_history WHERE symbol_id = ?", &st, err);
    if (rc < 0) goto fail;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = step_fail(ws, st, "count SIR history", err);
        goto fail;
    }
    t->total = (size_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    size_t skip = t->total > limit ? t->total - limit : 0;
    rc = sql_prep(ws,
                  "SELECT version, sir_hash, provider, model, created_at, commit_hash, sir_json "
                  "FROM sir_history WHERE symbol_id = ? ORDER BY version LIMIT -1 OFFSET ?",
                  &st, err);
    if (rc < 0) goto fail;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)skip);
    t->entries = ae_calloc_array(t->total - skip + 1, sizeof *t->entries);
    if (!t->entries) {
        sqlite3_finalize(st);
        rc = ae_fail(err, AE_ENOMEM, "SIR timeline of %zu versions", t->total - skip);
        goto fail;
    }
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW && t->n < t->total - skip) {
        ae_sir_entry *e = &t->entries[t->n++];
        e->version = sqlite3_column_int64(st, 0);
        const unsigned char *h = sqlite3_column_text(st, 1);
        snprintf(e->sir_hash, sizeof e->sir_hash, "%s", h ? (const char *)h : "");
        e->provider = col_dup(st, 2);
        e->model = col_dup(st, 3);
        e->created_at = sqlite3_column_int64(st, 4);
        e->commit_hash = col_dup(st, 5);
        e->sir_json = col_dup(st, 6);
        if (!e->provider || !e->model || !e->sir_json) {
            sqlite3_finalize(st);
            rc = ae_fail(err, AE_ENOMEM, "SIR timeline");
            goto fail;
        }
    }
    if (s != SQLITE_ROW && s != SQLITE_DONE) {
        rc = step_fail(ws, st, "read SIR history", err);
        goto fail;
    }
    sqlite3_finalize(st);
    *out = t;
    return 0;
fail:
    ae_sir_timeline_free(t);
    return rc;
}

int ae_workspace_sir_timeline(ae_workspace *ws, const char *symbol_id, size_t limit,
                              ae_sir_timeline **out, ae_error *err)
{
    if (limit < AE_TIMELINE_LIMIT_MIN) limit = AE_TIMELINE_LIMIT_MIN;
    if (limit > AE_TIMELINE_LIMIT_MAX) limit = AE_TIMELINE_LIMIT_MAX;
    return load_history(ws, symbol_id, limit, out, err);
}

int ae_workspace_why_changed(ae_workspace *ws, const char *symbol_id, const ae_why_selector *sel,
                             ae_why_changed **out, ae_error *err)
{
    ae_sir_timeline *h;
    AE_TRY(load_history(ws, symbol_id, SIZE_MAX, &h, err));
    int rc = ae_why_changed_compute(h, sel, out, err);
    ae_sir_timeline_free(h);
    return rc;
}

/* ---- the SIR row -------------------------------------------------------- */

static int load_sir(ae_workspace *ws, ae_explain_result *x, ae_error *err)
{
    if (!ws->meta) return 0;
    sqlite3_stmt *st;
    sqlite3 *db = ae_meta_db(ws->meta);
    bool with_status =
        sqlite3_prepare_v2(db,
                           "SELECT sir_json, sir_hash, sir_status, last_error, last_attempt_at "
                           "FROM sir WHERE id = ?",
                           -1, &st, NULL) == SQLITE_OK;
    if (!with_status)
        AE_TRY(sql_prep(ws,
                        "SELECT sir_json, sir_hash, 'fresh', NULL, updated_at / 1000 FROM sir "
                        "WHERE id = ?",
                        &st, err));
    sqlite3_bind_text(st, 1, x->symbol_id, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    if (s == SQLITE_DONE) {
        sqlite3_finalize(st);
        return 0;
    }
    if (s != SQLITE_ROW) return step_fail(ws, st, "read SIR", err);
    const unsigned char *hash = sqlite3_column_text(st, 1);
    x->has_sir = sqlite3_column_type(st, 0) != SQLITE_NULL && hash && *hash;
    x->sir_json = x->has_sir ? col_dup(st, 0) : NULL;
    const unsigned char *status = sqlite3_column_text(st, 2);
    snprintf(x->sir_status, sizeof x->sir_status, "%s",
             status && !strcmp((const char *)status, "stale") ? "stale" : "fresh");
    x->last_error = col_dup(st, 3);
    x->last_attempt_at = sqlite3_column_int64(st, 4);
    sqlite3_finalize(st);
    if (x->has_sir && !x->sir_json) return ae_fail(err, AE_ENOMEM, "SIR of %s", x->symbol_id);
    if (strcmp(x->sir_status, "stale") != 0) {
        free(x->last_error);
        x->last_error = NULL;
    }
    return 0;
}

static int finish(ae_workspace *ws, ae_explain_result *x, ae_error *err)
{
    AE_TRY(load_sir(ws, x, err));
    AE_TRY(ae_hover_markdown(x->qualified_name, x->has_sir ? x->sir_json : NULL,
                             !strcmp(x->sir_status, "stale"), x->last_error, &x->hover_markdown,
                             err));
    ae_sir_timeline *t;
    AE_TRY(load_history(ws, x->symbol_id, 2, &t, err));
    int rc = ae_history_hint(t, &x->history_hint, err);
    ae_sir_timeline_free(t);
    return rc;
}

void ae_explain_result_free(ae_explain_result *x)
{
    if (!x) return;
    free(x->file_path);
    free(x->qualified_name);
    free(x->sir_json);
    free(x->last_error);
    free(x->hover_markdown);
    free(x->history_hint);
    free(x);
}

int ae_workspace_explain_symbol(ae_workspace *ws, const char *symbol_id, const char *qualified_name,
                                ae_explain_result **out, ae_error *err)
{
    *out = NULL;
    ae_explain_result *x = calloc(1, sizeof *x);
    if (!x) return ae_fail(err, AE_ENOMEM, "explain answer");
    snprintf(x->symbol_id, sizeof x->symbol_id, "%s", symbol_id);
    x->qualified_name = ae_strdup(qualified_name);
    x->found = true;
    int rc = x->qualified_name ? finish(ws, x, err) : ae_fail(err, AE_ENOMEM, "explain");
    if (rc < 0) {
        ae_explain_result_free(x);
        return rc;
    }
    *out = x;
    return 0;
}

/* ---- a position --------------------------------------------------------- */

/* "./a/b", "/root/a/b" and "a//b" -> "a/b". */
static char *relative_path(const ae_workspace *ws, const char *path)
{
    size_t rl = strlen(ws->root);
    if (!strncmp(path, ws->root, rl) && path[rl] == '/') path += rl + 1;
    ae_buf b = {0};
    while (*path) {
        while (*path == '/')
            path++;
        if (path[0] == '.' && (path[1] == '/' || !path[1])) {
            path++;
            continue;
        }
        const char *e = strchr(path, '/');
        size_t n = e ? (size_t)(e - path) : strlen(path);
        if (n && (ae_buf_printf(&b, "%s%.*s", b.len ? "/" : "", (int)n, path) < 0)) {
            ae_buf_free(&b);
            return NULL;
        }
        path += n;
    }
    return b.data ? b.data : ae_strdup("");
}

typedef struct span_row {
    char *id, *qname;
} span_row;

int ae_workspace_explain(ae_workspace *ws, const char *file_path, ae_position pos,
                         ae_explain_result **out, ae_error *err)
{
    *out = NULL;
    AE_RETURN_IF(pos.line < 1, err, AE_EINVAL, "line must be 1 or more (1-based), not %d",
                 pos.line);
    AE_RETURN_IF(pos.column < 1, err, AE_EINVAL, "column must be 1 or more (1-based), not %d",
                 pos.column);
    ae_explain_result *x = calloc(1, sizeof *x);
    if (!x) return ae_fail(err, AE_ENOMEM, "explain answer");
    x->position = pos;
    x->file_path = relative_path(ws, file_path);
    int rc = 0;
    span_row *rows = NULL;
    ae_symbol_span *spans = NULL;
    size_t n = 0, cap = 0;
    sqlite3_stmt *st = NULL;
    if (!x->file_path) AE_FAIL(err, AE_ENOMEM, "explain");
    if (!ws->meta) goto done;
    AE_CHECK(sql_prep(ws,
                      "SELECT id, qualified_name, start_line, end_line FROM symbols "
                      "WHERE file_path = ? AND start_line IS NOT NULL AND end_line IS NOT NULL "
                      "AND start_line <= ? AND end_line >= ? ORDER BY start_line, id",
                      &st, err));
    sqlite3_bind_text(st, 1, x->file_path, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, pos.line);
    sqlite3_bind_int(st, 3, pos.line);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            span_row *r2 = ae_realloc_array(rows, cap, sizeof *rows);
            if (r2) rows = r2;
            ae_symbol_span *s2 = r2 ? ae_realloc_array(spans, cap, sizeof *spans) : NULL;
            if (s2) spans = s2;
            if (!r2 || !s2) AE_FAIL(err, AE_ENOMEM, "symbols of %s", x->file_path);
        }
        rows[n].id = col_dup(st, 0);
        rows[n].qname = col_dup(st, 1);
        spans[n] = ae_span_of_lines(rows[n].id, rows[n].qname, sqlite3_column_int(st, 2),
                                    sqlite3_column_int(st, 3));
        n++;
        if (!rows[n - 1].id || !rows[n - 1].qname)
            AE_FAIL(err, AE_ENOMEM, "symbols of %s", x->file_path);
    }
    if (s != SQLITE_DONE) {
        rc = step_fail(ws, st, "read symbols", err);
        st = NULL;
        goto cleanup;
    }
    long pick = ae_span_pick(spans, n, pos);
    if (pick >= 0) {
        x->found = true;
        snprintf(x->symbol_id, sizeof x->symbol_id, "%s", rows[pick].id);
        x->qualified_name = ae_strdup(rows[pick].qname);
        x->start_line = spans[pick].start_line;
        x->end_line = spans[pick].end_line - 1;
        if (!x->qualified_name) AE_FAIL(err, AE_ENOMEM, "explain");
        AE_CHECK(finish(ws, x, err));
    }
done:
cleanup:
    if (st) sqlite3_finalize(st);
    for (size_t i = 0; i < n; i++) {
        free(rows[i].id);
        free(rows[i].qname);
    }
    free(rows);
    free(spans);
    if (rc < 0) {
        ae_explain_result_free(x);
        return rc;
    }
    *out = x;
    return 0;
}

int ae_workspace_symbol_location(ae_workspace *ws, const char *symbol_id, char **file_path,
                                 int *start_line, int *end_line, ae_error *err)
{
    *file_path = NULL;
    AE_RETURN_IF(!ws->meta || !symbol_id, err, AE_ENOTFOUND, "no symbol %s (no store)",
                 symbol_id ? symbol_id : "(null)");
    sqlite3_stmt *st;
    AE_TRY(sql_prep(ws,
                    "SELECT file_path, start_line, end_line FROM symbols WHERE id = ? AND "
                    "start_line IS NOT NULL AND end_line IS NOT NULL",
                    &st, err));
    sqlite3_bind_text(st, 1, symbol_id, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    if (s == SQLITE_DONE) {
        sqlite3_finalize(st);
        return ae_fail(err, AE_ENOTFOUND, "no symbol %s", symbol_id);
    }
    if (s != SQLITE_ROW) return step_fail(ws, st, "read a symbol", err);
    *file_path = col_dup(st, 0);
    *start_line = sqlite3_column_int(st, 1);
    *end_line = sqlite3_column_int(st, 2);
    sqlite3_finalize(st);
    return *file_path ? 0 : ae_fail(err, AE_ENOMEM, "symbol %s", symbol_id);
}
