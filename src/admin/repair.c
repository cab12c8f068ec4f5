/* Repair (`aetherd --repair`): fixes what fsck found without losing data.  What is unusual:
 * 1. Every fix goes through the same code the writers use (table cleanup,
 *    ae_vs_rebuild_index, ae_vs_delete, the index run's embedding sync), so a
 *    repair interrupted by a crash leaves the same states a crashed writer
 *    does, and fsck's invariants hold at every point.
 * 2. Nothing committed is removed: cleanup only drops files no retained
 *    manifest references; an index is rebuilt from the table, never the other
 *    way; vectors are deleted only when no symbol exists for them.
 * 3. Missing vectors are re-made by clearing their embedding_state rows and
 *    running one ordinary index pass, which embeds every SIR whose state row
 *    is absent (and prunes vectors of deleted symbols).
 * 4. Damaged table files go first (ae_table_repair: quarantine, one commit
 *    of the newest intact version without them).  The rows they held are
 *    the lancedb embedding_state rows the table no longer has; each is
 *    rewritten from sir_embeddings when that copy has the same sir_hash (the
 *    other backend's current copy), else its state row is cleared so the
 *    index pass re-embeds the symbol's SIR; a row with neither (an imported
 *    vector of a non-symbol) is reported lost by id.  Then the checks run
 *    again and the usual repairs work from that second report. */
#include <aether/admin.h>

#include "meta/sqlite_err.h"
#include "store/sqlite_floats.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/mem.h"
#include "vectors/table.h"

#include <aether/vector_store.h>
#include "workspace/workspace.h"
#include "workspace/write_lock.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void action(ae_repair_report *rep, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void action(ae_repair_report *rep, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) >= 0) ae_strlist_push_owned(&rep->actions, s);
    va_end(ap);
}

static bool in_strlist(const ae_strlist *l, const char *s)
{
    for (size_t i = 0; i < l->len; i++)
        if (!strcmp(l->items[i], s)) return true;
    return false;
}

static int cleanup_tables(ae_workspace *ws, const ae_fsck_report *cur, ae_repair_report *rep,
                          ae_error *err)
{
    /* The workspace's own store handle may hold table locks: release it. */
    ae_vs_close(ws->vs);
    ws->vs = NULL;
    for (size_t i = 0; i < cur->n_tables; i++) {
        const char *name = cur->tables[i].name;
        char *dir = ae_path_join(ws->vectors_dir, name);
        if (!dir) return ae_fail(err, AE_ENOMEM, "out of memory");
        ae_table *t = NULL;
        size_t removed = 0;
        int rc = ae_table_open_dir(dir, NULL, &t, err);
        free(dir);
        if (rc == 0) rc = ae_table_cleanup(t, &removed, err);
        ae_table_close(t);
        if (rc < 0) {
            ae_err_prefix(err, "cleanup of table %s: ", name);
            return rc;
        }
        if (removed) action(rep, "table %s: removed %zu unreferenced files", name, removed);
        rep->orphan_files_removed += removed;
    }
    return 0;
}

static bool index_needs_rebuild(const ae_fsck_table *t, double min_recall)
{
    return t->index_damaged || (t->recall_queries && t->recall < min_recall);
}

static int rebuild_indexes(ae_workspace *ws, const ae_fsck_report *cur, ae_repair_report *rep,
                           double min_recall, ae_error *err)
{
    size_t due = 0;
    for (size_t i = 0; i < cur->n_tables; i++)
        if (index_needs_rebuild(&cur->tables[i], min_recall)) {
            action(rep, "table %s: index is damaged or below recall; rebuilding it from the table",
                   cur->tables[i].name);
            due++;
        }
    if (!due) return 0;
    ae_vector_store *vs;
    AE_TRY(ae_ws_vector_store(ws, &vs, err));
    AE_TRY(ae_vs_rebuild_index(vs, err));
    rep->indexes_rebuilt = due;
    return 0;
}

/* Vectors nobody will prune (X3): delete them from the store. */
static int prune_untracked(ae_workspace *ws, const ae_fsck_report *cur, ae_repair_report *rep,
                           ae_error *err)
{
    const ae_strlist *ids = &cur->untracked_ids;
    if (!ids->len) return 0;
    ae_vector_store *vs;
    AE_TRY(ae_ws_vector_store(ws, &vs, err));
    AE_TRY(ae_vs_delete(vs, (const char *const *)ids->items, ids->len, err));
    rep->pruned += ids->len;
    action(rep, "removed %zu embeddings of deleted symbols from the %s backend", ids->len,
           ws->backend_name);
    return 0;
}

/* Vectors missing or stale (X1/X2): forget the state so the index run
 * re-embeds them. */
static int clear_state(ae_workspace *ws, const ae_fsck_report *cur, ae_repair_report *rep,
                       ae_error *err)
{
    const ae_strlist *ids = &cur->missing_ids;
    if (!ids->len) return 0;
    AE_TRY(ae_meta_begin(ws->meta, err));
    for (size_t i = 0; i < ids->len; i++) {
        int rc = ae_meta_embedded_delete(ws->meta, ws->backend_name, ids->items[i], err);
        if (rc < 0) {
            ae_meta_rollback(ws->meta);
            return rc;
        }
    }
    AE_TRY(ae_meta_commit(ws->meta, err));
    rep->reembedded = ids->len;
    action(rep, "cleared embedding_state of %zu symbols whose vectors were missing or stale",
           ids->len);
    return 0;
}

/* Note 4, first half: every table with a problem gets ae_table_repair. */
static int repair_tables(ae_workspace *ws, ae_repair_report *rep, ae_error *err)
{
    ae_vs_close(ws->vs); /* it may hold table locks */
    ws->vs = NULL;
    for (size_t i = 0; i < rep->before.n_tables; i++) {
        const ae_fsck_table *ft = &rep->before.tables[i];
        if (!ft->problems.len) continue;
        char *dir = ae_path_join(ws->vectors_dir, ft->name);
        if (!dir) return ae_fail(err, AE_ENOMEM, "out of memory");
        ae_strlist lines = {0};
        ae_table_repair_report tr = {.actions = &lines};
        int rc = ae_table_repair(dir, &tr, err);
        free(dir);
        for (size_t l = 0; l < lines.len; l++)
            action(rep, "table %s: %s", ft->name, lines.items[l]);
        ae_strlist_free(&lines);
        if (rc < 0) return rc;
        rep->files_quarantined += tr.files_quarantined;
        rep->rows_dropped += (size_t)tr.rows_dropped;
        rep->versions_lost += (size_t)tr.versions_lost;
        if (tr.files_quarantined)
            action(rep, "table %s: %zu damaged files quarantined in %s/%s/quarantine/", ft->name,
                   tr.files_quarantined, ws->vectors_dir, ft->name);
    }
    return 0;
}

typedef struct id_set {
    ae_strlist ids;
} id_set;

static int collect_id(const ae_vs_record *rec, void *ctx)
{
    id_set *s = ctx;
    return ae_strlist_push(&s->ids, rec->symbol_id) < 0 ? AE_ENOMEM : 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool has_id(const id_set *s, const char *id)
{
    return s->ids.len &&
           bsearch(&id, s->ids.items, s->ids.len, sizeof *s->ids.items, cmp_str) != NULL;
}

/* A lost row's sir_embeddings copy, when it is the same embedding (same
 * sir_hash, provider and model): *vec allocated. */
static int sqlite_copy(sqlite3_stmt *q, const char *id, const char *hash, const char *provider,
                       const char *model, float **vec, uint32_t *dim, int64_t *updated)
{
    *vec = NULL;
    sqlite3_reset(q);
    sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_ROW) return 0;
    const char *h = (const char *)sqlite3_column_text(q, 0);
    const char *p = (const char *)sqlite3_column_text(q, 1);
    const char *m = (const char *)sqlite3_column_text(q, 2);
    sqlite3_int64 d = sqlite3_column_int64(q, 3);
    const char *json = (const char *)sqlite3_column_text(q, 4);
    if (!h || !p || !m || !json || strcmp(h, hash) || strcmp(p, provider) || strcmp(m, model) ||
        d <= 0 || d > AE_MAX_DIM)
        return 0;
    float *v = ae_calloc_array((size_t)d, sizeof *v);
    if (!v) return AE_ENOMEM;
    if (ae_sqlite_parse_floats(json, v, (uint32_t)d) < 0) {
        free(v);
        return 0;
    }
    *vec = v;
    *dim = (uint32_t)d;
    *updated = sqlite3_column_int64(q, 5);
    return 1;
}

typedef struct lost_row {
    char *id, *hash, *provider, *model;
    bool symbol; /* has a current SIR: the index pass can re-embed it */
} lost_row;

/* Note 4, second half: the rows the quarantined files held. */
static int restore_rows(ae_workspace *ws, ae_repair_report *rep, ae_error *err)
{
    sqlite3 *db = ae_meta_db(ws->meta);
    ae_vector_store *lance = NULL;
    AE_TRY(ae_vs_open_table(ws->vectors_dir, &lance, err));
    id_set have = {0};
    lost_row *lost = NULL;
    size_t n_lost = 0;
    ae_vs_record *recs = NULL;
    float **vecs = NULL;
    size_t n_recs = 0;
    sqlite3_stmt *st = NULL, *q = NULL;
    ae_strlist gone = {0};
    int rc = ae_vs_iterate(lance, collect_id, &have, err);
    if (rc == AE_ENOMEM) AE_FAIL(err, AE_ENOMEM, "out of memory");
    if (rc < 0) goto cleanup;
    if (have.ids.len) qsort(have.ids.items, have.ids.len, sizeof *have.ids.items, cmp_str);
    if (sqlite3_prepare_v2(db,
                           "SELECT e.symbol_id, e.sir_hash, e.provider, e.model, "
                           "EXISTS (SELECT 1 FROM symbols y JOIN sir s ON s.id = y.id "
                           "WHERE y.id = e.symbol_id AND s.sir_json IS NOT NULL) "
                           "FROM embedding_state e WHERE e.backend = 'lancedb'",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = ae_sqlite_fail(db, err, "%s: read embedding_state", ws->meta_path);
        goto cleanup;
    }
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        if (!id || has_id(&have, id)) continue;
        lost_row *l = ae_realloc_array(lost, n_lost + 1, sizeof *l);
        if (!l) AE_FAIL(err, AE_ENOMEM, "out of memory");
        lost = l;
        const char *h = (const char *)sqlite3_column_text(st, 1);
        const char *p = (const char *)sqlite3_column_text(st, 2);
        const char *m = (const char *)sqlite3_column_text(st, 3);
        lost[n_lost] = (lost_row){ae_strdup(id), ae_strdup(h ? h : ""), ae_strdup(p ? p : ""),
                                  ae_strdup(m ? m : ""), sqlite3_column_int(st, 4) != 0};
        n_lost++;
        if (!lost[n_lost - 1].id || !lost[n_lost - 1].hash || !lost[n_lost - 1].provider ||
            !lost[n_lost - 1].model)
            AE_FAIL(err, AE_ENOMEM, "out of memory");
    }
    if (step != SQLITE_DONE) {
        rc = ae_sqlite_fail(db, err, "%s: read embedding_state", ws->meta_path);
        goto cleanup;
    }
    if (!n_lost) goto cleanup;
    bool legacy = sqlite3_prepare_v2(db,
                                     "SELECT sir_hash, provider, model, embedding_dim, "
                                     "embedding_json, updated_at FROM sir_embeddings "
                                     "WHERE symbol_id = ?1",
                                     -1, &q, NULL) == SQLITE_OK;
    recs = ae_calloc_array(n_lost, sizeof *recs);
    vecs = ae_calloc_array(n_lost, sizeof *vecs);
    if (!recs || !vecs) AE_FAIL(err, AE_ENOMEM, "out of memory");
    size_t reembed = 0, nolost = 0;
    for (size_t i = 0; i < n_lost; i++) {
        lost_row *l = &lost[i];
        uint32_t dim = 0;
        int64_t updated = 0;
        int got = legacy ? sqlite_copy(q, l->id, l->hash, l->provider, l->model, &vecs[n_recs],
                                       &dim, &updated)
                         : 0;
        if (got < 0) AE_FAIL(err, AE_ENOMEM, "out of memory");
        if (got) {
            recs[n_recs] = (ae_vs_record){.symbol_id = l->id,
                                          .sir_hash = l->hash,
                                          .provider = l->provider,
                                          .model = l->model,
                                          .embedding = vecs[n_recs],
                                          .dim = dim,
                                          .updated_at = updated > 0 ? updated : 0};
            n_recs++;
            continue;
        }
        /* no copy: forget the promise; the index pass re-embeds a symbol */
        if (ae_strlist_push(&gone, l->id) < 0) AE_FAIL(err, AE_ENOMEM, "out of memory");
        if (l->symbol)
            reembed++;
        else
            nolost++;
    }
    if (n_recs) {
        AE_CHECK(ae_vs_upsert(lance, recs, n_recs, err));
        rep->rows_from_copy += n_recs;
        action(rep, "rewrote %zu rows from the sqlite backend's current copy (same sir_hash)",
               n_recs);
    }
    if (gone.len) {
        AE_CHECK(ae_meta_begin(ws->meta, err));
        for (size_t i = 0; i < gone.len && rc == 0; i++)
            rc = ae_meta_embedded_delete(ws->meta, "lancedb", gone.items[i], err);
        if (rc < 0) {
            ae_meta_rollback(ws->meta);
            goto cleanup;
        }
        AE_CHECK(ae_meta_commit(ws->meta, err));
    }
    if (reembed) {
        rep->rows_reembedded += reembed;
        action(rep, "%zu rows have no other copy: re-embedding them from their current SIRs%s",
               reembed,
               strcmp(ws->config.embeddings.vector_backend, "lancedb")
                   ? " at the next switch to lancedb"
                   : "");
    }
    if (nolost) {
        rep->rows_lost += nolost;
        char ids[400] = "";
        size_t shown = 0;
        for (size_t i = 0; i < n_lost && shown < 5; i++) {
            if (lost[i].symbol || !in_strlist(&gone, lost[i].id)) continue;
            size_t len = strlen(ids);
            snprintf(ids + len, sizeof ids - len, "%s%s", shown ? ", " : "", lost[i].id);
            shown++;
        }
        action(rep,
               "%zu rows are lost: no symbol of the workspace and no other copy (imported "
               "embeddings? import them again): %s%s",
               nolost, ids, nolost > shown ? ", ..." : "");
    }
cleanup:
    sqlite3_finalize(st);
    sqlite3_finalize(q);
    for (size_t i = 0; i < n_lost; i++) {
        free(lost[i].id);
        free(lost[i].hash);
        free(lost[i].provider);
        free(lost[i].model);
    }
    free(lost);
    for (size_t i = 0; vecs && i < n_recs; i++)
        free(vecs[i]);
    free(vecs);
    free(recs);
    ae_strlist_free(&gone);
    ae_strlist_free(&have.ids);
    ae_vs_close(lance);
    return rc;
}

static int repair_locked(ae_workspace *ws, const ae_fsck_opts *opts, ae_repair_report *rep,
                         ae_error *err);

/* Under the workspace writer lock (workspace/write_lock.h): beside a watcher it waits for the
 * current batch. */
int ae_workspace_repair(ae_workspace *ws, const ae_fsck_opts *opts, ae_repair_report *rep,
                        ae_error *err)
{
    memset(rep, 0, sizeof *rep);
    AE_RETURN_IF(ws->readonly || !ws->meta, err, AE_EINVAL,
                 "repair needs workspace %s opened read-write", ws->root);
    AE_TRY(ae_ws_write_begin(ws, err));
    int rc = repair_locked(ws, opts, rep, err);
    ae_ws_write_end(ws);
    return rc;
}

static int repair_locked(ae_workspace *ws, const ae_fsck_opts *opts, ae_repair_report *rep,
                         ae_error *err)
{
    double min_recall = opts ? opts->min_recall : 0;
    AE_TRY(ae_workspace_fsck(ws, opts, &rep->before, err));
    AE_RETURN_IF(!rep->before.sqlite_ok, err, AE_ECORRUPT,
                 "meta.sqlite fails integrity_check (%s); restore it from a backup: repair "
                 "does not rewrite the metadata store",
                 rep->before.sqlite_result);
    AE_TRY(repair_tables(ws, rep, err));
    ae_fsck_report mid = {0};
    const ae_fsck_report *cur = &rep->before;
    int rc = 0;
    if (rep->files_quarantined) {
        AE_CHECK(restore_rows(ws, rep, err));
        AE_CHECK(ae_workspace_fsck(ws, opts, &mid, err));
        cur = &mid;
    }
    AE_CHECK(cleanup_tables(ws, cur, rep, err));
    AE_CHECK(rebuild_indexes(ws, cur, rep, min_recall, err));
    AE_CHECK(prune_untracked(ws, cur, rep, err));
    AE_CHECK(clear_state(ws, cur, rep, err));
    /* One ordinary pass: embeds every SIR without a current embedding and
     * prunes vectors whose symbols are gone. */
    ae_index_stats st;
    AE_CHECK(ae_workspace_index(ws, NULL, &st, err));
    rep->embeddings_written = st.embeddings_written;
    rep->pruned += st.embeddings_deleted;
    if (st.embeddings_written)
        action(rep, "embedded %zu SIRs that had no current vector", st.embeddings_written);
    if (st.embeddings_deleted)
        action(rep, "pruned %zu vectors of deleted symbols", st.embeddings_deleted);
    rc = ae_workspace_fsck(ws, opts, &rep->after, err);
cleanup:
    ae_fsck_report_free(&mid);
    return rc;
}

void ae_repair_report_free(ae_repair_report *rep)
{
    if (!rep) return;
    ae_strlist_free(&rep->actions);
    ae_fsck_report_free(&rep->before);
    ae_fsck_report_free(&rep->after);
}
