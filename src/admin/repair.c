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
 *    is absent (and prunes vectors of deleted symbols). */
#include <aether/admin.h>

#include "util/err.h"
#include "util/fs.h"
#include "util/mem.h"
#include "vectors/table.h"
#include "workspace/workspace.h"

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

static int cleanup_tables(ae_workspace *ws, ae_repair_report *rep, ae_error *err)
{
    /* The workspace's own store handle may hold table locks: release it. */
    ae_vs_close(ws->vs);
    ws->vs = NULL;
    for (size_t i = 0; i < rep->before.n_tables; i++) {
        const char *name = rep->before.tables[i].name;
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

static int rebuild_indexes(ae_workspace *ws, ae_repair_report *rep, double min_recall,
                           ae_error *err)
{
    size_t due = 0;
    for (size_t i = 0; i < rep->before.n_tables; i++)
        if (index_needs_rebuild(&rep->before.tables[i], min_recall)) {
            action(rep, "table %s: index is damaged or below recall; rebuilding it from the table",
                   rep->before.tables[i].name);
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
static int prune_untracked(ae_workspace *ws, ae_repair_report *rep, ae_error *err)
{
    const ae_strlist *ids = &rep->before.untracked_ids;
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
static int clear_state(ae_workspace *ws, ae_repair_report *rep, ae_error *err)
{
    const ae_strlist *ids = &rep->before.missing_ids;
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

int ae_workspace_repair(ae_workspace *ws, const ae_fsck_opts *opts, ae_repair_report *rep,
                        ae_error *err)
{
    memset(rep, 0, sizeof *rep);
    AE_RETURN_IF(ws->readonly || !ws->meta, err, AE_EINVAL,
                 "repair needs workspace %s opened read-write", ws->root);
    double min_recall = opts ? opts->min_recall : 0;
    AE_TRY(ae_workspace_fsck(ws, opts, &rep->before, err));
    AE_RETURN_IF(!rep->before.sqlite_ok, err, AE_ECORRUPT,
                 "meta.sqlite fails integrity_check (%s); restore it from a backup: repair "
                 "does not rewrite the metadata store",
                 rep->before.sqlite_result);
    AE_TRY(cleanup_tables(ws, rep, err));
    AE_TRY(rebuild_indexes(ws, rep, min_recall, err));
    AE_TRY(prune_untracked(ws, rep, err));
    AE_TRY(clear_state(ws, rep, err));
    /* One ordinary pass: embeds every SIR without a current embedding and
     * prunes vectors whose symbols are gone. */
    ae_index_stats st;
    AE_TRY(ae_workspace_index(ws, NULL, &st, err));
    rep->embeddings_written = st.embeddings_written;
    rep->pruned += st.embeddings_deleted;
    if (st.embeddings_written)
        action(rep, "embedded %zu SIRs that had no current vector", st.embeddings_written);
    if (st.embeddings_deleted)
        action(rep, "pruned %zu vectors of deleted symbols", st.embeddings_deleted);
    return ae_workspace_fsck(ws, opts, &rep->after, err);
}

void ae_repair_report_free(ae_repair_report *rep)
{
    if (!rep) return;
    ae_strlist_free(&rep->actions);
    ae_fsck_report_free(&rep->before);
    ae_fsck_report_free(&rep->after);
}
