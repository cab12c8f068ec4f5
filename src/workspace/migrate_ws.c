/* Migration policy for a workspace: what happens when a backend is opened.
 * 1. Read-write open of lancedb: first-run migration while the marker is
 *    absent (every legacy row, then the marker), else the sync of current
 *    rows sqlite has and lancedb lacks; then orphan pruning.
 * 2. Read-write open of sqlite: the sync from lancedb, when a vectors
 *    directory exists.
 * 1+2. Right after a switch (aether_c_meta says the previous read-write
 *    open used the other backend) the sync carries every row the other
 *    backend tracks -- imported rows of non-symbols too -- and mirrors the
 *    deletions it made (migrate.h).
 * 3. Read-only open (search, MCP): never writes.  If the configured backend
 *    is incomplete -- lancedb with no marker while legacy rows exist, or a
 *    sync pending in either direction -- this process uses the other backend
 *    and says so in a notice; the next read-write open completes the sync.
 *    A failed check only costs the fallback, never the search. */
#include "workspace/workspace.h"

#include "meta/sqlite_err.h"
#include "store/migrate.h"
#include "util/err.h"
#include "util/fs.h"
#include "workspace/write_lock.h"

#include <aether/admin.h>

#include <stdlib.h>
#include <string.h>

static ae_migrate_progress_fn g_progress;
static void *g_progress_ctx;

void ae_migrate_set_progress(ae_migrate_progress_fn fn, void *ctx)
{
    g_progress = fn;
    g_progress_ctx = ctx;
}

static void notice_report(ae_workspace *ws, const char *what, const ae_migrate_report *r)
{
    if (!r->rows_migrated && !r->rows_malformed && !r->rows_missing && !r->rows_pruned &&
        !r->rows_deleted)
        return;
    ae_ws_notice(ws,
                 "%s: copied %zu embeddings from %s to %s in %.2fs; %zu deleted there removed "
                 "here; %zu malformed rows skipped, %zu missing, %zu orphans pruned",
                 what, r->rows_migrated, r->from ? r->from : "sqlite", r->to ? r->to : "lancedb",
                 r->seconds, r->rows_deleted, r->rows_malformed, r->rows_missing, r->rows_pruned);
    for (size_t i = 0; i < r->n_bad; i++)
        ae_ws_notice(ws, "%s: skipped malformed row symbol_id=%s: %s", what,
                     *r->bad[i].symbol_id ? r->bad[i].symbol_id : "(empty)", r->bad[i].reason);
    if (r->rows_malformed > r->n_bad)
        ae_ws_notice(ws, "%s: and %zu more malformed rows (aetherd --migrate-vectors lists them)",
                     what, r->rows_malformed - r->n_bad);
}

/* aether_c_meta key naming the backend the last read-write open synced;
 * readers trust it instead of running the difference query (0.2 s at 100K
 * rows).  Only the active backend is written between two read-write opens. */
#define SYNCED_KEY "vector_backend_synced"

static bool synced_is(ae_workspace *ws, const char *backend)
{
    sqlite3_stmt *st;
    if (ae_meta_prepare(ws->meta, "SELECT value FROM aether_c_meta WHERE key = '" SYNCED_KEY "'",
                        &st, NULL) < 0)
        return false;
    bool same = sqlite3_step(st) == SQLITE_ROW &&
                !strcmp((const char *)sqlite3_column_text(st, 0), backend);
    sqlite3_finalize(st);
    return same;
}

static int set_synced(ae_workspace *ws, const char *backend, ae_error *err)
{
    sqlite3_stmt *st;
    AE_TRY(ae_meta_prepare(
        ws->meta, "INSERT OR REPLACE INTO aether_c_meta(key, value) VALUES ('" SYNCED_KEY "', ?1)",
        &st, err));
    sqlite3_bind_text(st, 1, backend, -1, SQLITE_STATIC);
    int rc =
        sqlite3_step(st) == SQLITE_DONE
            ? 0
            : ae_sqlite_fail(ae_meta_db(ws->meta), err, "%s: record synced backend", ws->meta_path);
    sqlite3_finalize(st);
    return rc;
}

/* Read-only: pick the backend that holds the current embeddings. */
static void readonly_choice(ae_workspace *ws)
{
    bool lance = !strcmp(ws->backend_name, "lancedb");
    ae_error e;
    int64_t n = 0;
    const char *why = NULL;
    bool marker = !lance || ae_migrate_marker_present(ws->vectors_dir);
    if (marker && synced_is(ws, ws->backend_name)) return;
    if (!marker) {
        if (ae_migrate_legacy_rows(ws->meta, &n, &e) == 0 && n > 0)
            why = "the legacy embeddings have not been migrated to lancedb yet";
    } else if (lance || ae_is_dir(ws->vectors_dir)) {
        if (ae_migrate_pending(ws->meta, ws->backend_name, &n, &e) == 0 && n > 0)
            why = "a backend switch has not been synced yet";
    }
    if (!why) return;
    ae_vector_store *other = NULL;
    int rc = lance ? ae_vs_open_sqlite(ws->meta_path, &other, &e)
                   : ae_vs_open_table(ws->vectors_dir, &other, &e);
    if (rc < 0) {
        ae_ws_notice(ws, "vector backend %s lacks %lld current embeddings (%s) and %s: %s",
                     ws->backend_name, (long long)n, why, lance ? "sqlite" : "lancedb", e.message);
        return;
    }
    ae_ws_notice(ws,
                 "vector backend %s lacks %lld current embeddings (%s); searching %s instead "
                 "until the next `aetherd --index-once` or `--migrate-vectors`",
                 ws->backend_name, (long long)n, why, lance ? "sqlite" : "lancedb");
    ae_vs_close(ws->vs);
    ws->vs = other;
    ws->backend_name = lance ? "sqlite" : "lancedb";
}

int ae_migrate_on_open(ae_workspace *ws, ae_error *err)
{
    if (!ws->vs || !ws->meta) return 0;
    if (ws->readonly) {
        readonly_choice(ws);
        return 0;
    }
    ae_migrate_opts o = {.progress = g_progress, .progress_ctx = g_progress_ctx};
    ae_migrate_report rep = {0};
    int rc = 0;
    bool lance = !strcmp(ws->backend_name, "lancedb");
    const char *other = lance ? "sqlite" : "lancedb";
    /* The last read-write open used the other backend: this is a switch, so
     * what it deleted meanwhile leaves this one too. */
    bool switched = synced_is(ws, other);
    if (lance) {
        bool first = !ae_migrate_marker_present(ws->vectors_dir);
        if (switched && !first) {
            AE_CHECK(ae_migrate_switch_to_table(ws->meta, ws->vs, &o, &rep, err));
            AE_CHECK(ae_migrate_mirror_deletes(ws->meta, other, ws->backend_name, ws->vs,
                                               &rep.rows_deleted, err));
        } else {
            AE_CHECK(ae_migrate_sqlite_to_table(ws->meta, ws->vs, ws->vectors_dir, first, &o, &rep,
                                                err));
        }
        AE_CHECK(ae_migrate_prune_table(ws->meta, ws->vs, &rep.rows_pruned, err));
        notice_report(ws, first ? "migration" : "backend sync", &rep);
    } else if (ae_is_dir(ws->vectors_dir)) {
        ae_vector_store *lv = NULL;
        AE_CHECK(ae_vs_open_table(ws->vectors_dir, &lv, err));
        rc = switched ? ae_migrate_switch_to_sqlite(ws->meta, lv, ws->vs, &o, &rep, err)
                      : ae_migrate_table_to_sqlite(ws->meta, lv, ws->vs, &o, &rep, err);
        ae_vs_close(lv);
        if (rc < 0) goto cleanup;
        if (switched)
            AE_CHECK(ae_migrate_mirror_deletes(ws->meta, other, ws->backend_name, ws->vs,
                                               &rep.rows_deleted, err));
        notice_report(ws, "backend sync", &rep);
    }
    AE_CHECK(set_synced(ws, ws->backend_name, err));
cleanup:
    if (rc < 0) ae_err_prefix(err, "migrating embeddings to the %s backend: ", ws->backend_name);
    ae_migrate_report_free(&rep);
    return rc;
}

static int migrate_locked(ae_workspace *ws, const ae_migrate_opts *opts, ae_migrate_report *rep,
                          ae_error *err);

int ae_workspace_migrate_vectors(ae_workspace *ws, const ae_migrate_opts *opts,
                                 ae_migrate_report *rep, ae_error *err)
{
    AE_RETURN_IF(ws->readonly || !ws->meta, err, AE_EINVAL,
                 "workspace %s must be open read-write to migrate", ws->root);
    AE_TRY(ae_ws_write_begin(ws, err));
    int rc = migrate_locked(ws, opts, rep, err);
    ae_ws_write_end(ws);
    return rc;
}

static int migrate_locked(ae_workspace *ws, const ae_migrate_opts *opts, ae_migrate_report *rep,
                          ae_error *err)
{
    ae_vector_store *lance = NULL;
    bool own = !(ws->vs && !strcmp(ws->backend_name, "lancedb"));
    if (own)
        AE_TRY(ae_vs_open_table(ws->vectors_dir, &lance, err));
    else
        lance = ws->vs;
    int rc = ae_migrate_sqlite_to_table(ws->meta, lance, ws->vectors_dir, true, opts, rep, err);
    if (rc == 0) rc = ae_migrate_prune_table(ws->meta, lance, &rep->rows_pruned, err);
    if (own) ae_vs_close(lance);
    return rc;
}
