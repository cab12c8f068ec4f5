/* One incremental indexing pass, as a recipe of named steps:
 *   scan_files      list the workspace, compare (mtime, size) with the last run
 *   remove_files    drop symbols of files that disappeared
 *   extract_changed symbols of new/changed files, fed to an index batch (index_batch.h) that
 *                   generates the SIRs they need and writes each batch in one transaction
 *   model_prepare   a learned embedder ("ppmi") trains its model when due (model_train.h)
 *   sync_embeddings embed SIRs whose hash the active backend has not seen,
 *                   delete vectors of symbols that are gone
 *   model_settle    drop the vectors and files of replaced models
 * Notes:
 * 1. An unchanged file is not read at all; an unchanged symbol in a changed
 *    file keeps its SIR (content_hash equal) and its embedding (sir_hash equal).
 * 2. git HEAD is resolved once per pass, for the commit_hash of new SIR history rows.
 * 3. Embedding state is recorded only after the vector store committed, so a
 *    crash in between costs a re-embed, never a missing vector; EMBEDDING_STORED
 *    callbacks follow that commit. */
#include "workspace/workspace.h"

#include "sir/sir_provider.h"
#include "symbols/extract.h"
#include "symbols/files.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/fs.h"
#include "workspace/git_head.h"
#include "workspace/embed_sync.h"
#include "workspace/index_batch.h"
#include "workspace/model_train.h"
#include "workspace/write_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct run {
    ae_workspace *ws;
    const ae_index_callbacks *cb;
    ae_index_stats *stats;
    ae_error *err;
    ae_sir_provider *sirp;
    char commit_hash[AE_GIT_HASH_MAX + 1]; /* "" outside git */
    ix_batch *batch;
    size_t files_done, files_total;
    const ae_strlist *changed;   /* sorted: the files being extracted */
    const ae_file_state *states; /* their (mtime, size) before extraction */
    ae_ws_model_pass model;      /* the learned embedder's pass (model_train.h) */
    bool clean_at_start;         /* the store's record of a complete sync held (embed_sync.h) */
} run;

static void progress(run *r, const char *phase, size_t done, size_t total)
{
    if (!r->cb || !r->cb->progress) return;
    ae_index_progress p = {.phase = phase, .done = done, .total = total};
    r->cb->progress(r->cb->ctx, &p);
}

static int file_state(const char *root, const char *rel, ae_file_state *st, bool *exists)
{
    char *path = ae_path_join(root, rel);
    if (!path) return AE_ENOMEM;
    struct stat sb;
    *exists = stat(path, &sb) == 0;
    free(path);
    if (*exists) {
        st->mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
        st->size = (int64_t)sb.st_size;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int on_file(const char *rel_path, const char *language, ae_symbol *syms, size_t n, void *ctx)
{
    run *r = ctx;
    (void)language;
    if (r->ws->cancel && *r->ws->cancel)
        return ae_fail(r->err, AE_EBUSY, "indexing stopped (the batches written so far stay)");
    const char *const *hit =
        bsearch(&rel_path, r->changed->items, r->changed->len, sizeof *r->changed->items, cmp_str);
    const ae_file_state *st = hit ? &r->states[hit - (const char *const *)r->changed->items] : NULL;
    AE_TRY(ix_batch_add_file(r->batch, rel_path, st, syms, n, r->err));
    r->files_done++;
    progress(r, "symbols", r->files_done, r->files_total);
    if (ix_batch_full(r->batch)) AE_TRY(ix_batch_apply(r->batch, r->err));
    return 0;
}

/* Files holding a SIR from another provider or model than this run's: they are re-extracted
 * even when unchanged, so switching [inference] (or --inference-*) regenerates their SIRs. */
static int files_with_foreign_sirs(run *r, ae_strlist *out)
{
    sqlite3_stmt *st;
    AE_TRY(ae_meta_prepare(r->ws->meta,
                           "SELECT DISTINCT y.file_path FROM symbols y JOIN sir s ON s.id = y.id "
                           "WHERE s.provider <> ?1 OR s.model <> ?2 ORDER BY y.file_path",
                           &st, r->err));
    sqlite3_bind_text(st, 1, ae_sir_provider_name(r->sirp), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, ae_sir_provider_model(r->sirp), -1, SQLITE_STATIC);
    int s, rc = 0;
    while ((s = sqlite3_step(st)) == SQLITE_ROW)
        if (ae_strlist_push(out, (const char *)sqlite3_column_text(st, 0)) < 0) {
            rc = ae_fail(r->err, AE_ENOMEM, "out of memory");
            break;
        }
    sqlite3_finalize(st);
    if (rc == 0 && s != SQLITE_ROW && s != SQLITE_DONE)
        rc = ae_fail(r->err, AE_EIO, "meta.sqlite: list files with other SIR providers");
    /* ORDER BY uses SQLite's BINARY collation: bytewise, as strcmp. */
    return rc;
}

static int scan_and_extract(run *r)
{
    ae_workspace *ws = r->ws;
    ae_strlist files = {0}, stored = {0}, changed = {0}, foreign = {0};
    ae_file_state *states = NULL;
    size_t cap_states = 0;
    int rc = 0;
    progress(r, "scan", 0, 0);
    AE_CHECK(ae_workspace_list_files(ws->root, &files, r->err));
    AE_CHECK(ae_meta_file_list(ws->meta, &stored, r->err));
    if (!r->clean_at_start) AE_CHECK(files_with_foreign_sirs(r, &foreign));
    r->stats->files_seen = files.len;
    /* Both lists are sorted bytewise: one merge pass finds removed files. */
    size_t j = 0;
    for (size_t i = 0; i < stored.len; i++) {
        while (j < files.len && strcmp(files.items[j], stored.items[i]) < 0)
            j++;
        if (j < files.len && !strcmp(files.items[j], stored.items[i])) continue;
        AE_CHECK(ix_batch_remove_file(r->batch, stored.items[i], r->err));
    }
    AE_CHECK(ix_batch_apply(r->batch, r->err));
    for (size_t i = 0; i < files.len; i++) {
        ae_file_state now, before;
        bool exists, found;
        AE_CHECK(file_state(ws->root, files.items[i], &now, &exists));
        if (!exists) continue;
        AE_CHECK(ae_meta_file_get(ws->meta, files.items[i], &before, &found, r->err));
        if (found && before.mtime_ns == now.mtime_ns && before.size == now.size &&
            (!foreign.len ||
             !bsearch(&files.items[i], foreign.items, foreign.len, sizeof *foreign.items, cmp_str)))
            continue;
        if (changed.len == cap_states) {
            cap_states = cap_states ? cap_states * 2 : 64;
            ae_file_state *ns = ae_realloc_array(states, cap_states, sizeof *ns);
            if (!ns) AE_FAIL(r->err, AE_ENOMEM, "out of memory");
            states = ns;
        }
        states[changed.len] = now;
        if (ae_strlist_push(&changed, files.items[i]) < 0)
            AE_FAIL(r->err, AE_ENOMEM, "out of memory");
    }
    r->changed = &changed;
    r->states = states;
    r->stats->files_changed = changed.len;
    r->files_total = changed.len;
    if (changed.len) AE_CHECK(ae_symbols_extract(ws->root, &changed, on_file, r, r->err));
    AE_CHECK(ix_batch_apply(r->batch, r->err));
cleanup:
    ae_strlist_free(&files);
    ae_strlist_free(&stored);
    ae_strlist_free(&changed);
    ae_strlist_free(&foreign);
    free(states);
    r->changed = NULL;
    r->states = NULL;
    return rc;
}

/* The whole-store checks, unless the record of the last complete sync still stands (nothing
 * they look at was written since, this pass included: embed_sync.h); a pass that ran them
 * and found everything in place (no SIR failed) records it. */
static int sync_embeddings(run *r)
{
    ae_workspace *ws = r->ws;
    if (!ws->config.embeddings.enabled) return 0;
    char key[AE_WS_SYNC_KEY_MAX];
    ae_ws_sync_key(ws, ae_sir_provider_name(r->sirp), ae_sir_provider_model(r->sirp), key);
    if (ae_ws_sync_is_clean(ws, key)) return 0;
    AE_TRY(ae_ws_embed_prune(ws, NULL, r->stats, r->err));
    if (r->model.active && !r->model.has_model) return 0; /* no symbol to learn from yet */
    AE_TRY(ae_ws_embed_sync(ws, r->cb, NULL, r->stats, r->err));
    if (r->stats->sirs_failed) return 0; /* their old SIRs may be another provider's */
    ae_ws_sync_key(ws, ae_sir_provider_name(r->sirp), ae_sir_provider_model(r->sirp), key);
    return ae_ws_sync_mark_clean(ws, key, r->err);
}

static int index_locked(ae_workspace *ws, const ae_index_callbacks *cb, ae_index_stats *stats,
                        ae_error *err);

int ae_workspace_index(ae_workspace *ws, const ae_index_callbacks *cb, ae_index_stats *stats,
                       ae_error *err)
{
    ae_index_stats local;
    if (!stats) stats = &local;
    memset(stats, 0, sizeof *stats);
    ae_strlist_free(&ws->notices);
    AE_RETURN_IF(ws->readonly || !ws->meta, err, AE_EINVAL, "workspace %s was opened read-only",
                 ws->root);
    AE_TRY(ae_ws_write_begin(ws, err));
    int rc = index_locked(ws, cb, stats, err);
    ae_ws_write_end(ws);
    return rc;
}

static int index_locked(ae_workspace *ws, const ae_index_callbacks *cb, ae_index_stats *stats,
                        ae_error *err)
{
    double t0 = ae_mono_s();
    run r = {.ws = ws, .cb = cb, .stats = stats, .err = err};
    AE_TRY(ae_sir_provider_open(&ws->config, &r.sirp, err));
    ae_git_head(ws->root, r.commit_hash);
    ix_batch_config bc = {.ws = ws,
                          .cb = cb,
                          .stats = stats,
                          .sirp = r.sirp,
                          .sir_concurrency = ws->sir_concurrency,
                          .commit_hash = r.commit_hash[0] ? r.commit_hash : NULL};
    char key[AE_WS_SYNC_KEY_MAX];
    ae_ws_sync_key(ws, ae_sir_provider_name(r.sirp), ae_sir_provider_model(r.sirp), key);
    r.clean_at_start = ae_ws_sync_is_clean(ws, key); /* no SIR of another provider */
    int rc = ix_batch_open(&bc, &r.batch, err);
    if (rc == 0) rc = scan_and_extract(&r);
    ix_batch_close(r.batch);
    if (rc == 0) rc = ae_ws_model_prepare(ws, cb, &r.model, err);
    if (rc == 0) rc = sync_embeddings(&r);
    if (rc == 0) rc = ae_ws_model_settle(ws, &r.model, stats->embeddings_written, err);
    /* build or refresh the ANN index where due (cheap when not); a watcher does it itself,
     * in the background */
    if (rc == 0 && ws->config.embeddings.enabled && ws->vs && !ws->index_deferred)
        rc = ae_vs_rebuild_index(ws->vs, err);
    ae_sir_provider_close(r.sirp);
    if (stats->sirs_failed)
        ae_ws_notice(ws,
                     "SIR generation failed for %zu symbol%s: previous SIRs are kept and marked "
                     "stale, and are retried on the next pass",
                     stats->sirs_failed, stats->sirs_failed == 1 ? "" : "s");
    AE_TRY(rc);
    int64_t total = 0;
    AE_TRY(ae_meta_symbol_count(ws->meta, &total, err));
    stats->symbols_total = (size_t)total;
    stats->seconds = ae_mono_s() - t0;
    return 0;
}
