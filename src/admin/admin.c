/* Store administration behind include/aether/admin.h: JSON Lines import and
 * export through the active VectorStore, vector table status, optimize and
 * the table naming.  The store check and repair are fsck.c and repair.c; the
 * migration command is ae_workspace_migrate_vectors (workspace/migrate_ws.c). */
#include <aether/admin.h>

#include "store/jsonl.h"
#include "store/tables_admin.h"
#include "util/err.h"
#include "vectors/table.h"
#include "workspace/workspace.h"
#include "workspace/write_lock.h"

#include <stdlib.h>
#include <string.h>

/* Imported vectors replace the symbol's embedding in the active backend (one
 * embedding per symbol, as in the legacy table); record that, so the indexer
 * knows what the backend holds. */
static int record_imported(void *ctx, const ae_vs_record *recs, size_t n, ae_error *err)
{
    ae_workspace *ws = ctx;
    AE_TRY(ae_meta_begin(ws->meta, err));
    for (size_t i = 0; i < n; i++) {
        int rc = ae_meta_embedded_put(ws->meta, ws->backend_name, recs[i].symbol_id,
                                      recs[i].sir_hash, recs[i].provider, recs[i].model, err);
        if (rc < 0) {
            ae_meta_rollback(ws->meta);
            return rc;
        }
    }
    return ae_meta_commit(ws->meta, err);
}

static int import_locked(ae_workspace *ws, FILE *in, ae_import_report *rep, ae_error *err);

/* The writers take the workspace writer lock (workspace/write_lock.h): beside a watcher they
 * wait for its current batch. */
int ae_workspace_import_embeddings(ae_workspace *ws, FILE *in, ae_import_report *rep, ae_error *err)
{
    memset(rep, 0, sizeof *rep);
    AE_RETURN_IF(ws->readonly || !ws->meta, err, AE_EINVAL,
                 "workspace %s must be open read-write to import embeddings", ws->root);
    AE_TRY(ae_ws_write_begin(ws, err));
    int rc = import_locked(ws, in, rep, err);
    ae_ws_write_end(ws);
    return rc;
}

static int import_locked(ae_workspace *ws, FILE *in, ae_import_report *rep, ae_error *err)
{
    ae_vector_store *vs;
    AE_TRY(ae_ws_vector_store(ws, &vs, err));
    snprintf(rep->backend, sizeof rep->backend, "%s", ws->backend_name);
    ae_jsonl_report *jr = calloc(1, sizeof *jr);
    if (!jr) return ae_fail(err, AE_ENOMEM, "out of memory");
    int rc = ae_jsonl_import(vs, in, record_imported, ws, jr, err);
    rep->lines = jr->lines;
    rep->imported = jr->imported;
    rep->bad = jr->bad;
    for (size_t i = 0; i < jr->bad && i < AE_IMPORT_BAD_LINES_KEPT; i++) {
        rep->bad_lines[i].line = jr->bad_lines[i].line;
        snprintf(rep->bad_lines[i].message, sizeof rep->bad_lines[i].message, "%s",
                 jr->bad_lines[i].message);
    }
    free(jr);
    return rc;
}

int ae_workspace_export_embeddings(ae_workspace *ws, FILE *out, ae_export_report *rep,
                                   ae_error *err)
{
    memset(rep, 0, sizeof *rep);
    ae_vector_store *vs;
    AE_TRY(ae_ws_vector_store(ws, &vs, err));
    snprintf(rep->backend, sizeof rep->backend, "%s", ws->backend_name);
    return ae_jsonl_export(vs, out, &rep->rows, err);
}

int ae_workspace_vector_status(ae_workspace *ws, ae_vector_status *out, ae_error *err)
{
    memset(out, 0, sizeof *out);
    out->vector_backend = ws->config.embeddings.vector_backend;
    out->vectors_dir = ws->vectors_dir;
    ae_table_status *st = NULL;
    size_t n = 0;
    AE_TRY(ae_tables_status(ws->vectors_dir, &st, &n, err));
    out->tables = calloc(n ? n : 1, sizeof *out->tables);
    if (!out->tables) {
        free(st);
        return ae_fail(err, AE_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        ae_vector_table_info *t = &out->tables[i];
        snprintf(t->name, sizeof t->name, "%s", st[i].name);
        snprintf(t->provider, sizeof t->provider, "%s", st[i].provider);
        snprintf(t->model, sizeof t->model, "%s", st[i].model);
        t->dim = st[i].dim;
        t->version = st[i].version;
        t->rows_live = st[i].rows_live;
        t->rows_deleted = st[i].rows_deleted;
        t->fragments = st[i].fragments;
        t->versions_retained = st[i].versions_retained;
        t->has_index = st[i].has_index != 0;
        t->index_rows = st[i].index_rows;
        const ae_index_tuned *tu = &st[i].index_tuned;
        t->index_recall = tu->set ? tu->recall : -1;
        t->index_target_recall = tu->set ? tu->target : 0;
        t->index_recall_k = tu->k;
        t->index_recall_sample = tu->sample;
        t->index_nprobe = tu->nprobe;
        t->index_refine = tu->refine;
    }
    out->n_tables = n;
    free(st);
    return 0;
}

void ae_vector_status_free(ae_vector_status *s)
{
    if (!s) return;
    free(s->tables);
    s->tables = NULL;
    s->n_tables = 0;
}

static int optimize_locked(ae_workspace *ws, ae_error *err);

int ae_workspace_optimize(ae_workspace *ws, ae_error *err)
{
    AE_RETURN_IF(ws->readonly, err, AE_EINVAL, "workspace %s must be open read-write to optimize",
                 ws->root);
    AE_TRY(ae_ws_write_begin(ws, err));
    int rc = optimize_locked(ws, err);
    ae_ws_write_end(ws);
    return rc;
}

static int optimize_locked(ae_workspace *ws, ae_error *err)
{
    AE_TRY(ae_tables_optimize(ws->vectors_dir, NULL, err));
    if (strcmp(ws->config.embeddings.vector_backend, "lancedb") != 0) return 0;
    /* Rebuild the ANN index over the compacted tables where one is due. */
    ae_vector_store *vs;
    AE_TRY(ae_ws_vector_store(ws, &vs, err));
    int rc = ae_vs_rebuild_index(vs, err);
    if (rc < 0) ae_err_prefix(err, "index rebuild: ");
    return rc;
}

void ae_vector_table_name(const char *provider, const char *model, uint32_t dim,
                          char out[AE_ADMIN_NAME_MAX])
{
    _Static_assert(AE_ADMIN_NAME_MAX == AE_TABLE_NAME_MAX, "public and table name sizes");
    ae_table_name(provider, model, dim, out);
}
