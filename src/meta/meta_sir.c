/* SIR status and history in meta.sqlite (see meta_sir.h).  Notes:
 * 1. The columns keep the reference tool's names and meaning (sir_status, last_error,
 *    last_attempt_at in unix seconds), so either tool reads the other's rows; source_hash is
 *    ours: the content_hash the SIR was generated from, which lets the pipeline tell an
 *    outdated SIR from a current one without trusting the order of earlier writes.
 * 2. History continues from the highest version ever written for an id, so a symbol that
 *    disappears and comes back never reuses a version number; a placeholder row has version 0.
 * 3. Every function here runs inside the caller's transaction and never begins one. */
#include "meta/meta_sir.h"

#include "meta/meta_fts.h"
#include "meta/sqlite_err.h"
#include "util/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const sir_columns[][2] = {
    {"sir_status", "TEXT NOT NULL DEFAULT 'fresh'"},
    {"last_error", "TEXT"},
    {"last_attempt_at", "INTEGER NOT NULL DEFAULT 0"},
    {"source_hash", "TEXT"},
};

static int fail_sql(ae_meta *m, ae_error *err, const char *what)
{
    return ae_sqlite_fail(ae_meta_db(m), err, "meta.sqlite: %s", what);
}

static void bind_str(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/* Steps a statement that returns no rows, then finalizes it. */
static int run_done(ae_meta *m, sqlite3_stmt *st, ae_error *err, const char *what)
{
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail_sql(m, err, what);
    sqlite3_finalize(st);
    return rc;
}

static int column_exists(ae_meta *m, const char *column, bool *out, ae_error *err)
{
    sqlite3_stmt *st;
    AE_TRY(ae_meta_prepare(m, "SELECT 1 FROM pragma_table_info('sir') WHERE name = ?", &st, err));
    bind_str(st, 1, column);
    int s = sqlite3_step(st);
    *out = s == SQLITE_ROW;
    sqlite3_finalize(st);
    return s == SQLITE_ROW || s == SQLITE_DONE ? 0 : fail_sql(m, err, "read sir columns");
}

int meta_sir_migrate(ae_meta *m, ae_error *err)
{
    bool added = false;
    for (size_t i = 0; i < sizeof sir_columns / sizeof *sir_columns; i++) {
        bool present;
        AE_TRY(column_exists(m, sir_columns[i][0], &present, err));
        if (present) continue;
        char sql[160];
        snprintf(sql, sizeof sql, "ALTER TABLE sir ADD COLUMN %s %s", sir_columns[i][0],
                 sir_columns[i][1]);
        AE_TRY(ae_meta_exec(m, sql, err));
        added = true;
    }
    /* Rows written before the columns existed were fresh when written. */
    if (added)
        AE_TRY(ae_meta_exec(m,
                            "UPDATE sir SET last_attempt_at = updated_at / 1000 "
                            "WHERE last_attempt_at = 0 AND updated_at > 0",
                            err));
    return ae_meta_exec(m,
                        "INSERT OR REPLACE INTO aether_c_meta(key, value) "
                        "VALUES ('sir_status_columns', '1')",
                        err);
}

int ae_meta_sir_state_get(ae_meta *m, const char *id, const char *content_hash,
                          ae_meta_sir_state *out, ae_error *err)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st;
    /* One row always: the symbol's stored content_hash (NULL when new) and the SIR row's state
     * (NULLs when it has none). */
    AE_TRY(ae_meta_prepare(m,
                           "SELECT (SELECT content_hash FROM symbols WHERE id = ?1), s.id IS NOT "
                           "NULL, s.sir_json IS NOT NULL AND s.sir_hash <> '', "
                           "s.sir_status = 'stale', s.source_hash IS NULL OR s.source_hash = ?2, "
                           "s.provider, s.model FROM (SELECT 1) LEFT JOIN sir s ON s.id = ?1",
                           &st, err));
    bind_str(st, 1, id);
    bind_str(st, 2, content_hash ? content_hash : "");
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        const char *stored = (const char *)sqlite3_column_text(st, 0);
        out->symbol_same = stored && content_hash && !strcmp(stored, content_hash);
        out->row = sqlite3_column_int(st, 1) != 0;
        if (out->row) {
            out->present = sqlite3_column_int(st, 2) != 0;
            out->stale = sqlite3_column_int(st, 3) != 0;
            out->same_source = sqlite3_column_int(st, 4) != 0;
            const char *p = (const char *)sqlite3_column_text(st, 5);
            snprintf(out->provider, sizeof out->provider, "%s", p ? p : "");
            const char *md = (const char *)sqlite3_column_text(st, 6);
            snprintf(out->model, sizeof out->model, "%s", md ? md : "");
        }
    }
    sqlite3_finalize(st);
    return s == SQLITE_ROW ? 0 : fail_sql(m, err, "read sir state");
}

int ae_meta_sir_store(ae_meta *m, const ae_meta_sir_write *w, bool *changed, ae_error *err)
{
    sqlite3_stmt *st;
    int64_t attempt_s = w->now_ms / 1000;
    AE_TRY(ae_meta_prepare(m, "SELECT sir_hash, sir_version FROM sir WHERE id = ?", &st, err));
    bind_str(st, 1, w->id);
    int64_t version = 0;
    *changed = true;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *old = (const char *)sqlite3_column_text(st, 0);
        *changed = !old || strcmp(old, w->sir_hash) != 0;
        version = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    if (!*changed) {
        /* The same SIR again: the row is current, whatever an earlier failure said. */
        AE_TRY(ae_meta_prepare(m,
                               "UPDATE sir SET sir_status = 'fresh', last_error = NULL, "
                               "last_attempt_at = ?2, source_hash = ?3 WHERE id = ?1",
                               &st, err));
        bind_str(st, 1, w->id);
        sqlite3_bind_int64(st, 2, attempt_s);
        bind_str(st, 3, w->source_hash);
        return run_done(m, st, err, "refresh sir status");
    }
    AE_TRY(ae_meta_prepare(
        m, "SELECT COALESCE(MAX(version), 0) FROM sir_history WHERE symbol_id = ?", &st, err));
    bind_str(st, 1, w->id);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) > version)
        version = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    version++;
    AE_TRY(ae_meta_prepare(m,
                           "INSERT OR REPLACE INTO sir(id, sir_hash, sir_version, provider, model, "
                           "updated_at, sir_json, sir_status, last_error, last_attempt_at, "
                           "source_hash) VALUES (?,?,?,?,?,?,?,'fresh',NULL,?,?)",
                           &st, err));
    bind_str(st, 1, w->id);
    bind_str(st, 2, w->sir_hash);
    sqlite3_bind_int64(st, 3, version);
    bind_str(st, 4, w->provider);
    bind_str(st, 5, w->model);
    sqlite3_bind_int64(st, 6, w->now_ms);
    bind_str(st, 7, w->sir_json);
    sqlite3_bind_int64(st, 8, attempt_s);
    bind_str(st, 9, w->source_hash);
    AE_TRY(run_done(m, st, err, "store sir"));
    AE_TRY(ae_meta_fts_sir(m, w->id, w->sir_json, err)); /* the lexical index's SIR text */
    /* The history row is the current row just written, copied, not re-bound. */
    AE_TRY(ae_meta_prepare(m,
                           "INSERT OR REPLACE INTO sir_history(symbol_id, version, sir_hash, "
                           "provider, model, created_at, sir_json, commit_hash) SELECT id, "
                           "sir_version, sir_hash, provider, model, updated_at, sir_json, ?2 "
                           "FROM sir WHERE id = ?1",
                           &st, err));
    bind_str(st, 1, w->id);
    bind_str(st, 2, w->commit_hash);
    return run_done(m, st, err, "store sir history");
}

int ae_meta_sir_mark_stale(ae_meta *m, const char *id, const char *provider, const char *model,
                           const char *error, int64_t now_ms, ae_error *err)
{
    sqlite3_stmt *st;
    /* An existing row keeps its SIR, version, provider and model; a new one is a placeholder
     * (no SIR, version 0) naming the provider that failed. */
    AE_TRY(
        ae_meta_prepare(m,
                        "INSERT INTO sir(id, sir_hash, sir_version, provider, model, updated_at, "
                        "sir_json, sir_status, last_error, last_attempt_at) "
                        "VALUES (?1, '', 0, ?2, ?3, 0, NULL, 'stale', ?4, ?5) "
                        "ON CONFLICT(id) DO UPDATE SET sir_status = 'stale', "
                        "last_error = excluded.last_error, "
                        "last_attempt_at = excluded.last_attempt_at",
                        &st, err));
    bind_str(st, 1, id);
    bind_str(st, 2, provider);
    bind_str(st, 3, model);
    bind_str(st, 4, error ? error : "");
    sqlite3_bind_int64(st, 5, now_ms / 1000);
    return run_done(m, st, err, "mark sir stale");
}

static char *dup_col(sqlite3_stmt *st, int i, bool *oom)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    if (!s) return NULL;
    char *d = strdup(s);
    if (!d) *oom = true;
    return d;
}

static void copy_hash(char dst[65], sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    snprintf(dst, 65, "%s", s ? s : "");
}

void ae_sir_info_free(ae_sir_info *s)
{
    if (!s) return;
    free(s->sir_json);
    free(s->provider);
    free(s->model);
    free(s->last_error);
    free(s);
}

int ae_meta_sir_info(ae_meta *m, const char *id, ae_sir_info **out, ae_error *err)
{
    *out = NULL;
    sqlite3_stmt *st;
    AE_TRY(ae_meta_prepare(m,
                           "SELECT " AE_META_SIR_PRESENT ", sir_json, sir_hash, sir_version, "
                           "provider, model, updated_at, sir_status, last_error, last_attempt_at "
                           "FROM sir WHERE id = ?",
                           &st, err));
    bind_str(st, 1, id);
    int s = sqlite3_step(st);
    if (s != SQLITE_ROW) {
        sqlite3_finalize(st);
        return s == SQLITE_DONE ? 0 : fail_sql(m, err, "read sir");
    }
    ae_sir_info *r = calloc(1, sizeof *r);
    bool oom = !r;
    if (r) {
        snprintf(r->symbol_id, sizeof r->symbol_id, "%s", id);
        r->has_sir = sqlite3_column_int(st, 0) != 0;
        if (r->has_sir) {
            r->sir_json = dup_col(st, 1, &oom);
            copy_hash(r->sir_hash, st, 2);
            r->sir_version = sqlite3_column_int64(st, 3);
            r->updated_at = sqlite3_column_int64(st, 6);
        }
        r->provider = dup_col(st, 4, &oom);
        r->model = dup_col(st, 5, &oom);
        const char *status = (const char *)sqlite3_column_text(st, 7);
        snprintf(r->sir_status, sizeof r->sir_status, "%s",
                 status && !strcmp(status, AE_SIR_STATUS_STALE) ? AE_SIR_STATUS_STALE
                                                                : AE_SIR_STATUS_FRESH);
        r->last_error = dup_col(st, 8, &oom);
        if (r->last_error && !*r->last_error) {
            free(r->last_error);
            r->last_error = NULL;
        }
        r->last_attempt_at = sqlite3_column_int64(st, 9);
    }
    sqlite3_finalize(st);
    if (oom) {
        ae_sir_info_free(r);
        return ae_fail(err, AE_ENOMEM, "out of memory reading the SIR of %s", id);
    }
    *out = r;
    return 0;
}

void ae_sir_history_free(ae_sir_history *h)
{
    if (!h) return;
    for (size_t i = 0; i < h->n; i++) {
        free(h->versions[i].provider);
        free(h->versions[i].model);
        free(h->versions[i].commit_hash);
        free(h->versions[i].sir_json);
    }
    free(h->versions);
    free(h);
}

int ae_meta_sir_history(ae_meta *m, const char *id, ae_sir_history **out, ae_error *err)
{
    *out = NULL;
    ae_sir_history *h = calloc(1, sizeof *h);
    AE_RETURN_IF(!h, err, AE_ENOMEM, "out of memory reading the SIR history of %s", id);
    sqlite3_stmt *st;
    int rc = ae_meta_prepare(m,
                             "SELECT version, sir_hash, provider, model, created_at, commit_hash, "
                             "sir_json FROM sir_history WHERE symbol_id = ? ORDER BY version",
                             &st, err);
    if (rc < 0) {
        free(h);
        return rc;
    }
    bind_str(st, 1, id);
    size_t cap = 0;
    bool oom = false;
    int s = SQLITE_DONE;
    while (!oom && (s = sqlite3_step(st)) == SQLITE_ROW) {
        if (h->n == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            ae_sir_version *nv = realloc(h->versions, ncap * sizeof *nv);
            if (!nv) {
                oom = true;
                break;
            }
            h->versions = nv;
            cap = ncap;
        }
        ae_sir_version *v = &h->versions[h->n++];
        memset(v, 0, sizeof *v);
        v->version = sqlite3_column_int64(st, 0);
        copy_hash(v->sir_hash, st, 1);
        v->provider = dup_col(st, 2, &oom);
        v->model = dup_col(st, 3, &oom);
        v->created_at = sqlite3_column_int64(st, 4);
        v->commit_hash = dup_col(st, 5, &oom);
        v->sir_json = dup_col(st, 6, &oom);
    }
    sqlite3_finalize(st);
    if (oom)
        rc = ae_fail(err, AE_ENOMEM, "out of memory reading the SIR history of %s", id);
    else if (s != SQLITE_DONE)
        rc = fail_sql(m, err, "read sir history");
    if (rc < 0) {
        ae_sir_history_free(h);
        return rc;
    }
    *out = h;
    return 0;
}
