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

#include "embed/embed.h"
#include "embed/embed_text.h"
#include "sir/sir_provider.h"
#include "symbols/extract.h"
#include "symbols/files.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/fs.h"
#include "workspace/git_head.h"
#include "workspace/index_batch.h"
#include "workspace/model_train.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define VS_UPSERT_BATCH 4096

typedef struct run {
    ae_workspace *ws;
    const ae_index_callbacks *cb;
    ae_index_stats *stats;
    ae_error *err;
    ae_sir_provider *sirp;
    char commit_hash[AE_GIT_HASH_MAX + 1]; /* "" outside git */
    ix_batch *batch;
    size_t files_done, files_total;
    ae_ws_model_pass model; /* the learned embedder's pass (model_train.h) */
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

static int on_file(const char *rel_path, const char *language, ae_symbol *syms, size_t n, void *ctx)
{
    run *r = ctx;
    (void)language;
    AE_TRY(ix_batch_add_file(r->batch, rel_path, syms, n, r->err));
    r->files_done++;
    progress(r, "symbols", r->files_done, r->files_total);
    if (ix_batch_full(r->batch)) AE_TRY(ix_batch_apply(r->batch, r->err));
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
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
    int rc = 0;
    progress(r, "scan", 0, 0);
    AE_CHECK(ae_workspace_list_files(ws->root, &files, r->err));
    AE_CHECK(ae_meta_file_list(ws->meta, &stored, r->err));
    AE_CHECK(files_with_foreign_sirs(r, &foreign));
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
        if (ae_strlist_push(&changed, files.items[i]) < 0)
            AE_FAIL(r->err, AE_ENOMEM, "out of memory");
    }
    r->stats->files_changed = changed.len;
    r->files_total = changed.len;
    if (changed.len) AE_CHECK(ae_symbols_extract(ws->root, &changed, on_file, r, r->err));
    AE_CHECK(ix_batch_apply(r->batch, r->err));
cleanup:
    ae_strlist_free(&files);
    ae_strlist_free(&stored);
    ae_strlist_free(&changed);
    ae_strlist_free(&foreign);
    return rc;
}

/* A batch of SIRs to embed and store. */
typedef struct pending {
    ae_strlist ids, hashes, texts;
} pending;

static void pending_clear(pending *p)
{
    ae_strlist_free(&p->ids);
    ae_strlist_free(&p->hashes);
    ae_strlist_free(&p->texts);
}

static int flush_embeddings(run *r, ae_embedder *em, ae_vector_store *vs, pending *p)
{
    if (!p->ids.len) return 0;
    uint32_t dim = ae_embedder_dim(em);
    size_t n = p->ids.len, batch = (size_t)r->ws->config.embeddings.batch_size;
    float *vecs = ae_calloc_array(n, (size_t)dim * sizeof(float));
    ae_vs_record *recs = ae_calloc_array(n, sizeof *recs);
    int rc = 0;
    if (!vecs || !recs)
        AE_FAIL(r->err, AE_ENOMEM, "cannot allocate %zu embeddings of dim %u", n, dim);
    for (size_t i = 0; i < n; i += batch) {
        size_t m = n - i < batch ? n - i : batch;
        AE_CHECK(ae_embedder_embed(em, (const char *const *)p->texts.items + i, m, vecs + i * dim,
                                   r->err));
    }
    int64_t now = ae_now_ms();
    for (size_t i = 0; i < n; i++)
        recs[i] = (ae_vs_record){.symbol_id = p->ids.items[i],
                                 .sir_hash = p->hashes.items[i],
                                 .provider = ae_embedder_provider(em),
                                 .model = ae_embedder_model(em),
                                 .embedding = vecs + i * dim,
                                 .dim = dim,
                                 .updated_at = now};
    AE_CHECK(ae_vs_upsert(vs, recs, n, r->err));
    AE_CHECK(ae_meta_begin(r->ws->meta, r->err));
    for (size_t i = 0; i < n; i++) {
        rc = ae_meta_embedded_put(r->ws->meta, r->ws->backend_name, p->ids.items[i],
                                  p->hashes.items[i], ae_embedder_provider(em),
                                  ae_embedder_model(em), r->err);
        if (rc < 0) {
            ae_meta_rollback(r->ws->meta);
            goto cleanup;
        }
    }
    AE_CHECK(ae_meta_commit(r->ws->meta, r->err));
    r->stats->embeddings_written += n;
    if (r->cb && r->cb->embedding_stored)
        for (size_t i = 0; i < n; i++)
            r->cb->embedding_stored(r->cb->ctx, p->ids.items[i], ae_embedder_provider(em),
                                    ae_embedder_model(em));
cleanup:
    free(vecs);
    free(recs);
    pending_clear(p);
    return rc;
}

/* Vectors of symbols that no longer exist: delete from the store, then the state. */
static int prune_embeddings(run *r, ae_vector_store *vs)
{
    sqlite3_stmt *st;
    AE_TRY(ae_meta_prepare(r->ws->meta,
                           "SELECT e.symbol_id FROM embedding_state e LEFT JOIN symbols s "
                           "ON s.id = e.symbol_id WHERE e.backend = ? AND s.id IS NULL",
                           &st, r->err));
    sqlite3_bind_text(st, 1, r->ws->backend_name, -1, SQLITE_STATIC);
    ae_strlist gone = {0};
    int rc = 0;
    while (sqlite3_step(st) == SQLITE_ROW)
        if (ae_strlist_push(&gone, (const char *)sqlite3_column_text(st, 0)) < 0) {
            sqlite3_finalize(st);
            AE_FAIL(r->err, AE_ENOMEM, "out of memory");
        }
    sqlite3_finalize(st);
    if (!gone.len) goto cleanup;
    /* State first, then the store: a crash in between leaves an untracked
     * vector (removed when the store is next opened read-write), never a
     * state row that claims a vector the store no longer has. */
    AE_CHECK(ae_meta_begin(r->ws->meta, r->err));
    for (size_t i = 0; i < gone.len; i++) {
        rc = ae_meta_embedded_delete(r->ws->meta, r->ws->backend_name, gone.items[i], r->err);
        if (rc < 0) {
            ae_meta_rollback(r->ws->meta);
            goto cleanup;
        }
    }
    AE_CHECK(ae_meta_commit(r->ws->meta, r->err));
    AE_CHECK(ae_vs_delete(vs, (const char *const *)gone.items, gone.len, r->err));
    r->stats->embeddings_deleted += gone.len;
cleanup:
    ae_strlist_free(&gone);
    return rc;
}

static int count_stale(run *r, ae_embedder *em, int64_t *out)
{
    sqlite3_stmt *st;
    AE_TRY(ae_meta_prepare(r->ws->meta,
                           "SELECT COUNT(*) FROM sir s JOIN symbols y ON y.id = s.id "
                           "LEFT JOIN embedding_state e ON e.backend = ?1 AND e.symbol_id = s.id "
                           "WHERE (e.symbol_id IS NULL OR e.sir_hash <> s.sir_hash "
                           "OR e.provider <> ?2 OR e.model <> ?3) "
                           "AND s.sir_json IS NOT NULL AND s.sir_hash <> ''",
                           &st, r->err));
    sqlite3_bind_text(st, 1, r->ws->backend_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, ae_embedder_provider(em), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, ae_embedder_model(em), -1, SQLITE_STATIC);
    *out = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return 0;
}

static int sync_embeddings(run *r)
{
    ae_workspace *ws = r->ws;
    if (!ws->config.embeddings.enabled) return 0;
    ae_embedder *em;
    ae_vector_store *vs;
    AE_TRY(ae_ws_vector_store(ws, &vs, r->err));
    AE_TRY(prune_embeddings(r, vs));
    if (r->model.active && !r->model.has_model) return 0; /* no symbol to learn from yet */
    AE_TRY(ae_ws_embedder(ws, &em, r->err));
    int64_t total;
    AE_TRY(count_stale(r, em, &total));
    if (!total) return 0;
    /* Page through stale SIRs by id so memory stays bounded at any size. */
    pending p = {0};
    ae_buf text = {0};
    char last[AE_BLAKE3_HEX_LEN + 1] = "";
    size_t done = 0;
    int rc = 0;
    for (;;) {
        sqlite3_stmt *st;
        AE_CHECK(ae_meta_prepare(
            ws->meta,
            "SELECT s.id, s.sir_hash, s.sir_json, y.qualified_name, y.signature, y.name, "
            "y.file_path "
            "FROM sir s JOIN symbols y ON y.id = s.id "
            "LEFT JOIN embedding_state e ON e.backend = ?1 AND e.symbol_id = s.id "
            "WHERE (e.symbol_id IS NULL OR e.sir_hash <> s.sir_hash OR e.provider <> ?2 "
            "OR e.model <> ?3) AND s.sir_json IS NOT NULL AND s.sir_hash <> '' "
            "AND s.id > ?4 ORDER BY s.id LIMIT ?5",
            &st, r->err));
        sqlite3_bind_text(st, 1, ws->backend_name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, ae_embedder_provider(em), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, ae_embedder_model(em), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, last, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 5, VS_UPSERT_BATCH);
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *id = (const char *)sqlite3_column_text(st, 0);
            /* what the provider reads: the SIR JSON, or more (embed_text.h) */
            ae_embed_symbol sym = {.sir_json = (const char *)sqlite3_column_text(st, 2),
                                   .qualified_name = (const char *)sqlite3_column_text(st, 3),
                                   .signature = (const char *)sqlite3_column_text(st, 4),
                                   .name = (const char *)sqlite3_column_text(st, 5),
                                   .file_path = (const char *)sqlite3_column_text(st, 6)};
            if (ae_embed_symbol_text(ae_embedder_provider(em), &sym, &text) < 0 ||
                ae_strlist_push(&p.ids, id) < 0 ||
                ae_strlist_push(&p.hashes, (const char *)sqlite3_column_text(st, 1)) < 0 ||
                ae_strlist_push(&p.texts, text.data) < 0) {
                sqlite3_finalize(st);
                AE_FAIL(r->err, AE_ENOMEM, "out of memory");
            }
            snprintf(last, sizeof last, "%s", id);
        }
        sqlite3_finalize(st);
        size_t got = p.ids.len;
        if (!got) break;
        AE_CHECK(flush_embeddings(r, em, vs, &p));
        done += got;
        progress(r, "embed", done, (size_t)total);
        if (got < VS_UPSERT_BATCH) break;
    }
cleanup:
    pending_clear(&p);
    ae_buf_free(&text);
    return rc;
}

int ae_workspace_index(ae_workspace *ws, const ae_index_callbacks *cb, ae_index_stats *stats,
                       ae_error *err)
{
    ae_index_stats local;
    if (!stats) stats = &local;
    memset(stats, 0, sizeof *stats);
    ae_strlist_free(&ws->notices);
    AE_RETURN_IF(ws->readonly || !ws->meta, err, AE_EINVAL, "workspace %s was opened read-only",
                 ws->root);
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
    int rc = ix_batch_open(&bc, &r.batch, err);
    if (rc == 0) rc = scan_and_extract(&r);
    ix_batch_close(r.batch);
    if (rc == 0) rc = ae_ws_model_prepare(ws, cb, &r.model, err);
    if (rc == 0) rc = sync_embeddings(&r);
    if (rc == 0) rc = ae_ws_model_settle(ws, &r.model, stats->embeddings_written, err);
    /* build or refresh the ANN index where due (cheap when not) */
    if (rc == 0 && ws->config.embeddings.enabled && ws->vs) rc = ae_vs_rebuild_index(ws->vs, err);
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
