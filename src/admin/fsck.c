/* The store check (`aetherd --fsck`, ae_workspace_fsck in aether/admin.h):
 * SQLite integrity, every vector table, each ANN index against an exact scan,
 * and the cross-store invariants between meta.sqlite and the active backend.
 *
 * The cross-store invariants follow from the pipeline's write order (the
 * store commits first, embedding_state second; deletes go store first, state
 * second), so they hold at every crash point:
 *   X1. an embedding_state row of the active backend whose symbol exists has
 *       a row for that symbol_id in the store (provider/model as recorded);
 *   X2. when the state's sir_hash equals the current SIR's, the store row
 *       carries that sir_hash too;
 *   X3. every store row either belongs to an existing symbol or is still
 *       recorded in embedding_state (so the next index run prunes it).
 *
 * What is unusual here:
 * 1. One pass over the active store (ae_vs_iterate) collects every row's
 *    (symbol_id, sir_hash, provider, model) into a sorted array, so the
 *    cross-store checks are binary searches, not a query per row; the same
 *    pass keeps a few stored vectors per table as recall queries.
 * 2. Index recall compares the index's top-k with an exact scan through the
 *    same VectorStore call (opts.exact), so it measures what users get.
 * 3. Crash states the pipeline's write order allows (state lagging the store,
 *    vectors of deleted symbols awaiting prune) are "pending", not problems:
 *    fsck must pass after a kill at any point (invariants X1..X3 below). */
#include <aether/admin.h>

#include "meta/sqlite_err.h"
#include "store/tables_admin.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/mem.h"
#include "vectors/table.h"
#include "workspace/workspace.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct row {
    char id[AE_SYMBOL_ID_MAX + 1];
    char *hash, *provider, *model;
    uint32_t dim;
} row;

typedef struct sample {
    size_t table; /* index into rep->tables */
    float *vec;   /* owned */
} sample;

typedef struct scan {
    ae_fsck_report *rep;
    row *rows;
    size_t n, cap;
    sample *samples;
    size_t n_samples, cap_samples;
    size_t *per_table; /* samples taken per table */
    size_t queries;
    int oom;
} scan;

static void problem(ae_fsck_report *rep, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void problem(ae_fsck_report *rep, const char *fmt, ...)
{
    rep->n_problems++;
    if (rep->problems.len >= AE_FSCK_PROBLEMS_KEPT) return;
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) >= 0) ae_strlist_push_owned(&rep->problems, s);
    va_end(ap);
}

static void check_sqlite(ae_workspace *ws, ae_fsck_report *rep)
{
    rep->sqlite_present = ws->meta != NULL;
    if (!ws->meta) {
        rep->sqlite_ok = true;
        snprintf(rep->sqlite_result, sizeof rep->sqlite_result, "absent");
        return;
    }
    sqlite3_stmt *st = NULL;
    const char *res = NULL;
    if (sqlite3_prepare_v2(ae_meta_db(ws->meta), "PRAGMA integrity_check", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        res = (const char *)sqlite3_column_text(st, 0);
    snprintf(rep->sqlite_result, sizeof rep->sqlite_result, "%s",
             res ? res : sqlite3_errmsg(ae_meta_db(ws->meta)));
    /* res dies with the statement: decide from the copy. */
    rep->sqlite_ok = res && !strcmp(rep->sqlite_result, "ok");
    sqlite3_finalize(st);
    if (!rep->sqlite_ok) problem(rep, "meta.sqlite: integrity_check: %s", rep->sqlite_result);
}

/* The status of every table; one that does not open (a damaged file its
 * snapshot needs) gets its key from the marker and is checked all the same. */
static int tables_status(const char *vectors_dir, ae_table_status **out, size_t *n, ae_error *err)
{
    *out = NULL;
    *n = 0;
    ae_strlist names = {0};
    AE_TRY(ae_tables_list(vectors_dir, &names, err));
    ae_table_status *st = ae_calloc_array(names.len + 1, sizeof *st);
    int rc = 0;
    if (!st) AE_FAIL(err, AE_ENOMEM, "out of memory");
    for (size_t i = 0; i < names.len; i++) {
        char *dir = ae_path_join(vectors_dir, names.items[i]);
        if (!dir) AE_FAIL(err, AE_ENOMEM, "out of memory");
        ae_table *t = NULL;
        ae_error e;
        int r = ae_table_open_dir(dir, NULL, &t, &e);
        if (r == 0) r = ae_table_status_get(t, &st[*n], &e);
        ae_table_close(t);
        if (r < 0) {
            char *p = NULL, *m = NULL;
            uint32_t d = 0;
            memset(&st[*n], 0, sizeof st[*n]);
            r = ae_table_read_key(dir, &p, &m, &d, &e);
            if (r == 0) {
                snprintf(st[*n].name, sizeof st[*n].name, "%s", names.items[i]);
                snprintf(st[*n].provider, sizeof st[*n].provider, "%s", p);
                snprintf(st[*n].model, sizeof st[*n].model, "%s", m);
                st[*n].dim = d;
            }
            free(p);
            free(m);
        }
        free(dir);
        if (r == AE_ENOMEM) AE_FAIL(err, AE_ENOMEM, "out of memory");
        if (r == 0) (*n)++;
    }
    *out = st;
    st = NULL;
cleanup:
    free(st);
    ae_strlist_free(&names);
    return rc;
}

static int check_tables(ae_workspace *ws, ae_fsck_report *rep, ae_error *err)
{
    ae_table_status *st = NULL;
    size_t n = 0;
    AE_TRY(tables_status(ws->vectors_dir, &st, &n, err));
    int rc = 0;
    rep->tables = ae_calloc_array(n + 1, sizeof *rep->tables);
    if (!rep->tables) AE_FAIL(err, AE_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        ae_fsck_table *t = &rep->tables[i];
        snprintf(t->name, sizeof t->name, "%s", st[i].name);
        snprintf(t->provider, sizeof t->provider, "%s", st[i].provider);
        snprintf(t->model, sizeof t->model, "%s", st[i].model);
        t->dim = st[i].dim;
        t->has_index = st[i].has_index;
        t->recall = 1.0;
        const ae_index_tuned *tu = &st[i].index_tuned;
        t->recorded_recall = tu->set ? tu->recall : -1;
        t->recorded_nprobe = tu->nprobe;
        t->recorded_refine = tu->refine;
        t->recorded_sample = tu->sample;
        char *dir = ae_path_join(ws->vectors_dir, st[i].name);
        if (!dir) AE_FAIL(err, AE_ENOMEM, "out of memory");
        ae_table_fsck_report tr = {0};
        rc = ae_table_fsck(dir, &tr, err);
        free(dir);
        if (rc < 0) goto cleanup;
        rep->n_tables = i + 1;
        t->latest_version = tr.latest_version;
        t->rows_live = tr.rows_live;
        t->versions_checked = tr.versions_checked;
        t->files_checked = tr.files_checked;
        rep->table_problems += tr.n_problems;
        for (size_t p = 0; p < tr.n_problems; p++) {
            const ae_table_fsck_problem *vp = &tr.problems[p];
            if (vp->file && !strncmp(vp->file, "index/", 6)) t->index_damaged = true;
            problem(rep, "table %s: %s", t->name, vp->message);
            if (ae_strlist_push(&t->problems, vp->message) < 0) rc = AE_ENOMEM;
        }
        ae_table_fsck_report_free(&tr);
        if (rc < 0) AE_FAIL(err, rc, "out of memory");
    }
cleanup:
    free(st);
    return rc;
}

static int find_table(const ae_fsck_report *rep, const char *provider, const char *model,
                      uint32_t dim)
{
    for (size_t i = 0; i < rep->n_tables; i++)
        if (rep->tables[i].dim == dim && !strcmp(rep->tables[i].provider, provider) &&
            !strcmp(rep->tables[i].model, model))
            return (int)i;
    return -1;
}

static int collect_row(const ae_vs_record *rec, void *ctx)
{
    scan *s = ctx;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        row *r = ae_realloc_array(s->rows, cap, sizeof *r);
        if (!r) return s->oom = 1;
        s->rows = r;
        s->cap = cap;
    }
    row *r = &s->rows[s->n];
    snprintf(r->id, sizeof r->id, "%s", rec->symbol_id);
    r->hash = ae_strdup(rec->sir_hash ? rec->sir_hash : "");
    r->provider = ae_strdup(rec->provider ? rec->provider : "");
    r->model = ae_strdup(rec->model ? rec->model : "");
    r->dim = rec->dim;
    s->n++;
    if (!r->hash || !r->provider || !r->model) return s->oom = 1;
    int t = find_table(s->rep, r->provider, r->model, r->dim);
    if (t < 0 || !s->rep->tables[t].has_index || s->per_table[t] >= s->queries) return 0;
    if (s->n_samples == s->cap_samples) {
        size_t cap = s->cap_samples ? s->cap_samples * 2 : 64;
        sample *p = ae_realloc_array(s->samples, cap, sizeof *p);
        if (!p) return s->oom = 1;
        s->samples = p;
        s->cap_samples = cap;
    }
    float *v = ae_calloc_array(rec->dim ? rec->dim : 1, sizeof *v);
    if (!v) return s->oom = 1;
    memcpy(v, rec->embedding, (size_t)rec->dim * sizeof *v);
    s->samples[s->n_samples++] = (sample){.table = (size_t)t, .vec = v};
    s->per_table[t]++;
    return 0;
}

static int cmp_row(const void *a, const void *b)
{
    const row *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    if (c) return c;
    c = strcmp(x->provider, y->provider);
    return c ? c : strcmp(x->model, y->model);
}

/* The store row of id for provider/model (either NULL = any). */
static const row *lookup(const scan *s, const char *id, const char *provider, const char *model)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(s->rows[mid].id, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < s->n && !strcmp(s->rows[i].id, id); i++)
        if ((!provider || !strcmp(s->rows[i].provider, provider)) &&
            (!model || !strcmp(s->rows[i].model, model)))
            return &s->rows[i];
    return NULL;
}

static void scan_free(scan *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->rows[i].hash);
        free(s->rows[i].provider);
        free(s->rows[i].model);
    }
    free(s->rows);
    for (size_t i = 0; i < s->n_samples; i++)
        free(s->samples[i].vec);
    free(s->samples);
    free(s->per_table);
}

static int check_recall(ae_vector_store *vs, ae_fsck_report *rep, scan *s, size_t k, double min,
                        ae_error *err)
{
    double *sum = ae_calloc_array(rep->n_tables + 1, sizeof *sum);
    if (!sum) return ae_fail(err, AE_ENOMEM, "out of memory");
    for (size_t i = 0; i < s->n_samples; i++) {
        ae_fsck_table *t = &rep->tables[s->samples[i].table];
        ae_vs_hit *ex = NULL, *ix = NULL;
        size_t nex = 0, nix = 0;
        ae_vs_search_opts exact = {.exact = 1}, dflt = {0};
        ae_error e1, e2;
        int r1 = ae_vs_search(vs, s->samples[i].vec, t->dim, t->provider, t->model, k, &exact, &ex,
                              &nex, &e1);
        int r2 = ae_vs_search(vs, s->samples[i].vec, t->dim, t->provider, t->model, k, &dflt, &ix,
                              &nix, &e2);
        if (r1 < 0 || r2 < 0) {
            problem(rep, "table %s: %s search failed: %s", t->name, r1 < 0 ? "exact" : "index",
                    r1 < 0 ? e1.message : e2.message);
        } else {
            size_t found = 0;
            for (size_t a = 0; a < nex; a++)
                for (size_t b = 0; b < nix; b++)
                    if (!strcmp(ex[a].symbol_id, ix[b].symbol_id)) {
                        found++;
                        break;
                    }
            sum[s->samples[i].table] += nex ? (double)found / (double)nex : 1.0;
            t->recall_queries++;
        }
        free(ex);
        free(ix);
    }
    for (size_t i = 0; i < rep->n_tables; i++) {
        ae_fsck_table *t = &rep->tables[i];
        if (!t->recall_queries) continue;
        t->recall = sum[i] / (double)t->recall_queries;
        if (t->recall < min)
            problem(rep,
                    "table %s: index recall@%zu is %.3f over %zu queries, below %.3f "
                    "(--repair rebuilds the index)",
                    t->name, k, t->recall, t->recall_queries, min);
    }
    free(sum);
    return 0;
}

static void cross(ae_fsck_report *rep, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cross(ae_fsck_report *rep, const char *fmt, ...)
{
    rep->cross_problems++;
    rep->n_problems++;
    if (rep->problems.len >= AE_FSCK_PROBLEMS_KEPT) return;
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) >= 0) ae_strlist_push_owned(&rep->problems, s);
    va_end(ap);
}

static int sql_fail(ae_workspace *ws, ae_error *err, const char *what)
{
    return ae_sqlite_fail(ae_meta_db(ws->meta), err, "%s: %s", ws->meta_path, what);
}

static const char *col(sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    return s ? s : "";
}

static bool table_exists(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", -1, &st,
                           NULL) != SQLITE_OK)
        return false;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    bool yes = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return yes;
}

/* X1, X2 and the pending counts, from embedding_state joined with sir/symbols. */
static int check_state(ae_workspace *ws, ae_fsck_report *rep, const scan *s, ae_error *err)
{
    sqlite3 *db = ae_meta_db(ws->meta);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(
            db,
            "SELECT s.id, s.sir_hash, e.sir_hash, e.provider, e.model "
            "FROM sir s JOIN symbols y ON y.id = s.id "
            "LEFT JOIN embedding_state e ON e.backend = ?1 AND e.symbol_id = s.id "
            "WHERE s.sir_json IS NOT NULL AND s.sir_hash <> ''", /* not a placeholder */
            -1, &st, NULL) != SQLITE_OK)
        return sql_fail(ws, err, "read sir and embedding_state");
    sqlite3_bind_text(st, 1, rep->backend, -1, SQLITE_STATIC);
    int step, rc = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = col(st, 0), *h_sir = col(st, 1);
        rep->sirs_current++;
        if (sqlite3_column_type(st, 2) == SQLITE_NULL) {
            rep->sirs_pending++;
            continue;
        }
        const char *h_state = col(st, 2);
        const row *r = lookup(s, id, col(st, 3), col(st, 4));
        if (!r) {
            cross(rep,
                  "symbol %s: embedding_state records a %s/%s embedding in the %s backend, "
                  "but the store has no row for it",
                  id, col(st, 3), col(st, 4), rep->backend);
            if (ae_strlist_push(&rep->missing_ids, id) < 0) rc = AE_ENOMEM;
        } else if (strcmp(h_state, h_sir)) {
            rep->sirs_pending++; /* state lags the SIR: the next run re-embeds */
        } else if (strcmp(r->hash, h_sir)) {
            cross(rep,
                  "symbol %s: the stored embedding is of sir_hash %.12s, the current SIR and "
                  "embedding_state say %.12s",
                  id, r->hash, h_sir);
            if (ae_strlist_push(&rep->missing_ids, id) < 0) rc = AE_ENOMEM;
        } else {
            rep->sirs_embedded++;
        }
        if (rc < 0) break;
    }
    sqlite3_finalize(st);
    if (rc < 0) return ae_fail(err, rc, "out of memory");
    if (step != SQLITE_DONE) return sql_fail(ws, err, "read sir and embedding_state");
    if (sqlite3_prepare_v2(db,
                           "SELECT COUNT(*), COALESCE(SUM(y.id IS NULL), 0) FROM embedding_state "
                           "e LEFT JOIN symbols y ON y.id = e.symbol_id WHERE e.backend = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return sql_fail(ws, err, "count embedding_state");
    sqlite3_bind_text(st, 1, rep->backend, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        rep->state_rows = (size_t)sqlite3_column_int64(st, 0);
        rep->prune_pending = (size_t)sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    return 0;
}

/* X3: every store row has a symbol or a state row that will prune it.  A row
 * with neither is left by a crash between the pipeline's two prune steps
 * (state first, then store): it is pending, not a problem -- search skips
 * ids without a symbol, and the next read-write open removes it
 * (ae_migrate_prune_table) -- and --repair removes it at once. */
static int check_store_rows(ae_workspace *ws, ae_fsck_report *rep, const scan *s, ae_error *err)
{
    sqlite3 *db = ae_meta_db(ws->meta);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT (SELECT COUNT(*) FROM symbols WHERE id = ?1), (SELECT COUNT(*) "
                           "FROM embedding_state WHERE backend = ?2 AND symbol_id = ?1)",
                           -1, &st, NULL) != SQLITE_OK)
        return sql_fail(ws, err, "look up symbols");
    int rc = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (i > 0 && !strcmp(s->rows[i].id, s->rows[i - 1].id)) continue;
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, s->rows[i].id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, rep->backend, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW) {
            rc = sql_fail(ws, err, "look up symbols");
            break;
        }
        if (sqlite3_column_int64(st, 0) || sqlite3_column_int64(st, 1)) continue;
        rep->prune_pending++;
        if (ae_strlist_push(&rep->untracked_ids, s->rows[i].id) < 0) {
            rc = ae_fail(err, AE_ENOMEM, "out of memory");
            break;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

int ae_workspace_fsck(ae_workspace *ws, const ae_fsck_opts *opts, ae_fsck_report *rep,
                      ae_error *err)
{
    memset(rep, 0, sizeof *rep);
    ae_fsck_opts o = opts ? *opts : (ae_fsck_opts){0};
    if (!o.queries) o.queries = AE_FSCK_DEFAULT_QUERIES;
    if (o.queries > AE_FSCK_MAX_QUERIES) o.queries = AE_FSCK_MAX_QUERIES;
    if (!o.k) o.k = AE_FSCK_DEFAULT_K;
    check_sqlite(ws, rep);
    AE_TRY(check_tables(ws, rep, err));

    int rc = 0;
    scan s = {.rep = rep, .queries = o.queries};
    ae_vector_store *vs = NULL;
    if (!ws->meta) return 0; /* no store: nothing to cross-check */
    rc = ae_ws_vector_store(ws, &vs, err);
    if (rc == AE_ENOMEM) return rc;
    if (rc < 0) {
        /* e.g. a damaged table file the store's first use needs: the table
         * check above names it; the cross-store check needs the store. */
        problem(rep, "%s backend: cannot open the store: %s", ws->config.embeddings.vector_backend,
                err->message);
        return 0;
    }
    snprintf(rep->backend, sizeof rep->backend, "%s", ws->backend_name);
    s.per_table = ae_calloc_array(rep->n_tables + 1, sizeof *s.per_table);
    if (!s.per_table) AE_FAIL(err, AE_ENOMEM, "out of memory");
    rc = ae_vs_iterate(vs, collect_row, &s, err);
    if (s.oom) AE_FAIL(err, AE_ENOMEM, "out of memory reading the %s backend", rep->backend);
    if (rc < 0) {
        /* A store that cannot be read is a finding, not a reason to stop. */
        problem(rep, "%s backend: cannot read every row: %s", rep->backend, err->message);
        rc = 0;
        goto cleanup;
    }
    rc = 0;
    rep->store_rows = s.n;
    size_t counted = 0;
    if (ae_vs_count(vs, NULL, NULL, &counted, err) == 0 && counted != s.n)
        problem(rep, "%s backend: count says %zu rows, iterating found %zu", rep->backend, counted,
                s.n);
    if (s.n) qsort(s.rows, s.n, sizeof *s.rows, cmp_row);
    AE_CHECK(check_recall(vs, rep, &s, o.k, o.min_recall, err));
    if (ws->meta && table_exists(ae_meta_db(ws->meta), "embedding_state")) {
        rep->cross_checked = true;
        AE_CHECK(check_state(ws, rep, &s, err));
        AE_CHECK(check_store_rows(ws, rep, &s, err));
    }
cleanup:
    scan_free(&s);
    return rc;
}

void ae_fsck_report_free(ae_fsck_report *rep)
{
    if (!rep) return;
    for (size_t i = 0; i < rep->n_tables; i++)
        ae_strlist_free(&rep->tables[i].problems);
    free(rep->tables);
    ae_strlist_free(&rep->missing_ids);
    ae_strlist_free(&rep->untracked_ids);
    ae_strlist_free(&rep->problems);
    memset(rep, 0, sizeof *rep);
}
