/* One incremental indexing pass, as a recipe of named steps:
 *   scan_files      list the workspace, compare (mtime, size) with the last run
 *   remove_files    drop symbols of files that disappeared
 *   extract_changed symbols of new/changed files -> SIR for changed content
 *   model_prepare   a learned embedder ("ppmi") trains its model when due (model_train.h)
 *   sync_embeddings embed SIRs whose hash the active backend has not seen,
 *                   delete vectors of symbols that are gone
 *   model_settle    drop the vectors and files of replaced models
 * Notes:
 * 1. An unchanged file is not read at all; an unchanged symbol in a changed
 *    file keeps its SIR (content_hash equal) and its embedding (sir_hash equal).
 * 2. meta.sqlite writes happen in batched transactions (one per file batch).
 * 3. Embedding state is recorded only after the vector store committed, so a
 *    crash in between costs a re-embed, never a missing vector. */
#include "workspace/workspace.h"

#include "embed/embed.h"
#include "embed/embed_text.h"
#include "sir/sir_provider.h"
#include "sir/sir.h"
#include "symbols/extract.h"
#include "symbols/files.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/fs.h"
#include "workspace/model_train.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FILES_PER_TXN   256
#define VS_UPSERT_BATCH 4096

typedef struct run {
    ae_workspace *ws;
    const ae_index_callbacks *cb;
    ae_index_stats *stats;
    ae_error *err;
    const char *sir_provider, *sir_model;
    ae_sir_provider *sirp;
    size_t files_in_txn;
    size_t files_done, files_total;
    bool in_txn;
    bool sir_dir_ready;
    /* Effects outside meta.sqlite wait for the transaction: SIR mirrors to
     * write (id, json, hash), mirrors to remove.  Applied after the commit,
     * dropped on rollback, so a mirror never shows an uncommitted SIR. */
    ae_strlist pend_ids, pend_json, pend_hash, pend_gone;
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

static int txn_begin(run *r)
{
    if (r->in_txn) return 0;
    AE_TRY(ae_meta_begin(r->ws->meta, r->err));
    r->in_txn = true;
    return 0;
}

static void pending_drop(run *r)
{
    ae_strlist_free(&r->pend_ids);
    ae_strlist_free(&r->pend_json);
    ae_strlist_free(&r->pend_hash);
    ae_strlist_free(&r->pend_gone);
}

static int mirror_write(run *r, const char *id, const char *json);
static void mirror_remove(run *r, const char *id);

/* After a commit: the mirrors and SIR_STORED notifications of what it wrote. */
static int pending_apply(run *r)
{
    int rc = 0;
    for (size_t i = 0; i < r->pend_ids.len && rc == 0; i++) {
        rc = mirror_write(r, r->pend_ids.items[i], r->pend_json.items[i]);
        if (rc == 0 && r->cb && r->cb->sir_stored)
            r->cb->sir_stored(r->cb->ctx, r->pend_ids.items[i], r->pend_hash.items[i],
                              r->sir_provider);
    }
    for (size_t i = 0; i < r->pend_gone.len; i++)
        mirror_remove(r, r->pend_gone.items[i]);
    pending_drop(r);
    return rc;
}

static int txn_commit(run *r)
{
    if (!r->in_txn) return 0;
    r->in_txn = false;
    r->files_in_txn = 0;
    int rc = ae_meta_commit(r->ws->meta, r->err);
    if (rc < 0) {
        pending_drop(r);
        return rc;
    }
    return pending_apply(r);
}

static void mirror_remove(run *r, const char *id)
{
    char name[AE_BLAKE3_HEX_LEN + 8];
    snprintf(name, sizeof name, "%s.json", id);
    char *p = ae_path_join(r->ws->sir_dir, name);
    if (p) unlink(p);
    free(p);
}

static int mirror_write(run *r, const char *id, const char *json)
{
    if (!r->ws->config.storage.mirror_sir_files) return 0;
    if (!r->sir_dir_ready) {
        AE_TRY(ae_mkdirs(r->ws->sir_dir, r->err));
        r->sir_dir_ready = true;
    }
    char name[AE_BLAKE3_HEX_LEN + 8];
    snprintf(name, sizeof name, "%s.json", id);
    char *p = ae_path_join(r->ws->sir_dir, name);
    if (!p) return ae_fail(r->err, AE_ENOMEM, "out of memory");
    FILE *f = fopen(p, "w");
    int rc = 0;
    if (!f || fputs(json, f) < 0 || fputc('\n', f) < 0)
        rc = ae_fail_errno(r->err, errno, "write %s", p);
    if (f && fclose(f) != 0 && rc == 0) rc = ae_fail_errno(r->err, errno, "write %s", p);
    free(p);
    return rc;
}

static int delete_symbol(run *r, const char *id)
{
    AE_TRY(ae_meta_symbol_delete(r->ws->meta, id, r->err));
    if (ae_strlist_push(&r->pend_gone, id) < 0) return ae_fail(r->err, AE_ENOMEM, "out of memory");
    r->stats->symbols_removed++;
    return 0;
}

/* SIR for one symbol whose content changed (or that has none yet). */
static int refresh_sir(run *r, const ae_symbol *s)
{
    ae_sir sir = {0};
    char *json = NULL;
    int rc = 0;
    AE_CHECK(ae_sir_provider_generate(r->sirp, s, &sir, r->err));
    AE_CHECK(ae_sir_canonical_json(&sir, &json, r->err));
    char hash[AE_BLAKE3_HEX_LEN + 1];
    blake3_hex(json, strlen(json), hash);
    bool changed = false;
    AE_CHECK(ae_meta_sir_put(r->ws->meta, s->id, hash, r->sir_provider, r->sir_model, json,
                             ae_now_ms(), &changed, r->err));
    if (changed) {
        r->stats->sirs_written++;
        if (ae_strlist_push(&r->pend_ids, s->id) < 0 || ae_strlist_push(&r->pend_json, json) < 0 ||
            ae_strlist_push(&r->pend_hash, hash) < 0)
            AE_FAIL(r->err, AE_ENOMEM, "out of memory");
    }
cleanup:
    free(json);
    ae_sir_clear(&sir);
    return rc;
}

/* A SIR from this run's provider exists (switching providers regenerates). */
static bool has_sir(run *r, const char *id)
{
    sqlite3_stmt *st;
    if (ae_meta_prepare(r->ws->meta, "SELECT 1 FROM sir WHERE id = ? AND provider = ?", &st, NULL) <
        0)
        return false;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->sir_provider, -1, SQLITE_STATIC);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(((const ae_symbol *)a)->id, ((const ae_symbol *)b)->id);
}

static int on_file(const char *rel_path, const char *language, ae_symbol *syms, size_t n, void *ctx)
{
    run *r = ctx;
    (void)language;
    AE_TRY(txn_begin(r));
    ae_strlist old = {0};
    int rc = 0;
    AE_CHECK(ae_meta_symbol_ids_for_file(r->ws->meta, rel_path, &old, r->err));
    int64_t now = ae_now_ms();
    for (size_t i = 0; i < n; i++) {
        bool content_changed = false;
        AE_CHECK(ae_meta_symbol_upsert(r->ws->meta, &syms[i], now, &content_changed, r->err));
        if (content_changed || !has_sir(r, syms[i].id)) AE_CHECK(refresh_sir(r, &syms[i]));
    }
    /* Symbols of this file that are gone (renamed, signature changed, deleted). */
    if (n > 1) qsort(syms, n, sizeof *syms, cmp_id);
    for (size_t i = 0; i < old.len; i++) {
        ae_symbol key = {0};
        snprintf(key.id, sizeof key.id, "%s", old.items[i]);
        if (!n || !bsearch(&key, syms, n, sizeof *syms, cmp_id))
            AE_CHECK(delete_symbol(r, old.items[i]));
    }
    ae_file_state st;
    bool exists;
    AE_CHECK(file_state(r->ws->root, rel_path, &st, &exists));
    if (exists) AE_CHECK(ae_meta_file_put(r->ws->meta, rel_path, &st, r->err));
    r->stats->symbols_total += n;
    r->files_done++;
    progress(r, "symbols", r->files_done, r->files_total);
    if (++r->files_in_txn >= FILES_PER_TXN) AE_CHECK(txn_commit(r));
cleanup:
    ae_strlist_free(&old);
    return rc;
}

static int remove_file(run *r, const char *rel_path)
{
    ae_strlist ids = {0};
    int rc = 0;
    AE_CHECK(ae_meta_symbol_ids_for_file(r->ws->meta, rel_path, &ids, r->err));
    for (size_t i = 0; i < ids.len; i++)
        AE_CHECK(delete_symbol(r, ids.items[i]));
    AE_CHECK(ae_meta_file_delete(r->ws->meta, rel_path, r->err));
    r->stats->files_removed++;
cleanup:
    ae_strlist_free(&ids);
    return rc;
}

static int scan_and_extract(run *r)
{
    ae_workspace *ws = r->ws;
    ae_strlist files = {0}, stored = {0}, changed = {0};
    int rc = 0;
    progress(r, "scan", 0, 0);
    AE_CHECK(ae_workspace_list_files(ws->root, &files, r->err));
    AE_CHECK(ae_meta_file_list(ws->meta, &stored, r->err));
    r->stats->files_seen = files.len;
    /* Both lists are sorted bytewise: one merge pass finds removed files. */
    size_t j = 0;
    AE_CHECK(txn_begin(r));
    for (size_t i = 0; i < stored.len; i++) {
        while (j < files.len && strcmp(files.items[j], stored.items[i]) < 0)
            j++;
        if (j < files.len && !strcmp(files.items[j], stored.items[i])) continue;
        AE_CHECK(remove_file(r, stored.items[i]));
    }
    AE_CHECK(txn_commit(r));
    for (size_t i = 0; i < files.len; i++) {
        ae_file_state now, before;
        bool exists, found;
        AE_CHECK(file_state(ws->root, files.items[i], &now, &exists));
        if (!exists) continue;
        AE_CHECK(ae_meta_file_get(ws->meta, files.items[i], &before, &found, r->err));
        if (found && before.mtime_ns == now.mtime_ns && before.size == now.size) continue;
        if (ae_strlist_push(&changed, files.items[i]) < 0)
            AE_FAIL(r->err, AE_ENOMEM, "out of memory");
    }
    r->stats->files_changed = changed.len;
    r->files_total = changed.len;
    if (changed.len) AE_CHECK(ae_symbols_extract(ws->root, &changed, on_file, r, r->err));
    AE_CHECK(txn_commit(r));
cleanup:
    if (r->in_txn) {
        ae_meta_rollback(ws->meta);
        r->in_txn = false;
    }
    pending_drop(r);
    ae_strlist_free(&files);
    ae_strlist_free(&stored);
    ae_strlist_free(&changed);
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
                           "WHERE e.symbol_id IS NULL OR e.sir_hash <> s.sir_hash "
                           "OR e.provider <> ?2 OR e.model <> ?3",
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
            "OR e.model <> ?3) AND s.id > ?4 ORDER BY s.id LIMIT ?5",
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
    r.sir_provider = ae_sir_provider_name(r.sirp);
    r.sir_model = ae_sir_provider_model(r.sirp);
    int rc = scan_and_extract(&r);
    if (rc == 0) rc = ae_ws_model_prepare(ws, cb, &r.model, err);
    if (rc == 0) rc = sync_embeddings(&r);
    if (rc == 0) rc = ae_ws_model_settle(ws, &r.model, stats->embeddings_written, err);
    /* build or refresh the ANN index where due (cheap when not) */
    if (rc == 0 && ws->config.embeddings.enabled && ws->vs) rc = ae_vs_rebuild_index(ws->vs, err);
    ae_sir_provider_close(r.sirp);
    AE_TRY(rc);
    int64_t total = 0;
    AE_TRY(ae_meta_symbol_count(ws->meta, &total, err));
    stats->symbols_total = (size_t)total;
    stats->seconds = ae_mono_s() - t0;
    return 0;
}
