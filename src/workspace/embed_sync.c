/* Embedding sync and pruning (embed_sync.h).
 * Notes:
 * 1. The whole-store sync pages through stale SIRs by id, VS_UPSERT_BATCH at a time, so memory
 *    stays bounded at any size; the id-list form looks each id up by primary key.
 * 2. Embedding state is recorded only after the vector store committed; EMBEDDING_STORED
 *    callbacks follow that commit. */
#include "workspace/embed_sync.h"

#include "embed/embed.h"
#include "embed/embed_text.h"
#include "meta/sqlite_err.h"
#include "util/clock.h"
#include "util/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VS_UPSERT_BATCH 4096

/* The condition "this SIR's embedding is missing or out of date" (?1 backend, ?2 provider,
 * ?3 model). */
#define STALE_EMBEDDING                                                                            \
    "(e.symbol_id IS NULL OR e.sir_hash <> s.sir_hash OR e.provider <> ?2 OR e.model <> ?3) "      \
    "AND s.sir_json IS NOT NULL AND s.sir_hash <> ''"
#define STALE_SELECT                                                                               \
    "SELECT s.id, s.sir_hash, s.sir_json, y.qualified_name, y.signature, y.name, y.file_path "     \
    "FROM sir s JOIN symbols y ON y.id = s.id "                                                    \
    "LEFT JOIN embedding_state e ON e.backend = ?1 AND e.symbol_id = s.id WHERE " STALE_EMBEDDING

typedef struct sync_run {
    ae_workspace *ws;
    const ae_index_callbacks *cb;
    ae_index_stats *stats;
    ae_error *err;
    ae_embedder *em;
    ae_vector_store *vs;
    ae_strlist ids, hashes, texts; /* pending */
    ae_buf text;
} sync_run;

static void pending_clear(sync_run *r)
{
    ae_strlist_free(&r->ids);
    ae_strlist_free(&r->hashes);
    ae_strlist_free(&r->texts);
}

static void progress(sync_run *r, size_t done, size_t total)
{
    if (!r->cb || !r->cb->progress) return;
    ae_index_progress p = {.phase = "embed", .done = done, .total = total};
    r->cb->progress(r->cb->ctx, &p);
}

static int flush(sync_run *r)
{
    if (!r->ids.len) return 0;
    ae_embedder *em = r->em;
    uint32_t dim = ae_embedder_dim(em);
    size_t n = r->ids.len, batch = (size_t)r->ws->config.embeddings.batch_size;
    float *vecs = ae_calloc_array(n, (size_t)dim * sizeof(float));
    ae_vs_record *recs = ae_calloc_array(n, sizeof *recs);
    int rc = 0;
    if (!vecs || !recs)
        AE_FAIL(r->err, AE_ENOMEM, "cannot allocate %zu embeddings of dim %u", n, dim);
    for (size_t i = 0; i < n; i += batch) {
        size_t m = n - i < batch ? n - i : batch;
        AE_CHECK(ae_embedder_embed(em, (const char *const *)r->texts.items + i, m, vecs + i * dim,
                                   r->err));
    }
    int64_t now = ae_now_ms();
    for (size_t i = 0; i < n; i++)
        recs[i] = (ae_vs_record){.symbol_id = r->ids.items[i],
                                 .sir_hash = r->hashes.items[i],
                                 .provider = ae_embedder_provider(em),
                                 .model = ae_embedder_model(em),
                                 .embedding = vecs + i * dim,
                                 .dim = dim,
                                 .updated_at = now};
    AE_CHECK(ae_vs_upsert(r->vs, recs, n, r->err));
    AE_CHECK(ae_meta_begin(r->ws->meta, r->err));
    for (size_t i = 0; i < n; i++) {
        rc = ae_meta_embedded_put(r->ws->meta, r->ws->backend_name, r->ids.items[i],
                                  r->hashes.items[i], ae_embedder_provider(em),
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
            r->cb->embedding_stored(r->cb->ctx, r->ids.items[i], ae_embedder_provider(em),
                                    ae_embedder_model(em));
cleanup:
    free(vecs);
    free(recs);
    pending_clear(r);
    return rc;
}

/* Queues the row of a STALE_SELECT statement. */
static int queue_row(sync_run *r, sqlite3_stmt *st)
{
    ae_embed_symbol sym = {.sir_json = (const char *)sqlite3_column_text(st, 2),
                           .qualified_name = (const char *)sqlite3_column_text(st, 3),
                           .signature = (const char *)sqlite3_column_text(st, 4),
                           .name = (const char *)sqlite3_column_text(st, 5),
                           .file_path = (const char *)sqlite3_column_text(st, 6)};
    if (ae_embed_symbol_text(ae_embedder_provider(r->em), &sym, &r->text) < 0 ||
        ae_strlist_push(&r->ids, (const char *)sqlite3_column_text(st, 0)) < 0 ||
        ae_strlist_push(&r->hashes, (const char *)sqlite3_column_text(st, 1)) < 0 ||
        ae_strlist_push(&r->texts, r->text.data) < 0)
        return ae_fail(r->err, AE_ENOMEM, "out of memory");
    return 0;
}

static void bind_key(sync_run *r, sqlite3_stmt *st)
{
    sqlite3_bind_text(st, 1, r->ws->backend_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, ae_embedder_provider(r->em), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, ae_embedder_model(r->em), -1, SQLITE_STATIC);
}

static int count_stale(sync_run *r, int64_t *out)
{
    sqlite3_stmt *st;
    AE_TRY(ae_meta_prepare(r->ws->meta,
                           "SELECT COUNT(*) FROM sir s JOIN symbols y ON y.id = s.id "
                           "LEFT JOIN embedding_state e ON e.backend = ?1 AND e.symbol_id = s.id "
                           "WHERE " STALE_EMBEDDING,
                           &st, r->err));
    bind_key(r, st);
    *out = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return 0;
}

static int sync_all(sync_run *r)
{
    int64_t total;
    AE_TRY(count_stale(r, &total));
    if (!total) return 0;
    char last[AE_BLAKE3_HEX_LEN + 1] = "";
    size_t done = 0;
    for (;;) {
        sqlite3_stmt *st;
        AE_TRY(ae_meta_prepare(r->ws->meta, STALE_SELECT " AND s.id > ?4 ORDER BY s.id LIMIT ?5",
                               &st, r->err));
        bind_key(r, st);
        sqlite3_bind_text(st, 4, last, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 5, VS_UPSERT_BATCH);
        int rc = 0;
        while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
            rc = queue_row(r, st);
            snprintf(last, sizeof last, "%s", (const char *)sqlite3_column_text(st, 0));
        }
        sqlite3_finalize(st);
        AE_TRY(rc);
        size_t got = r->ids.len;
        if (!got) break;
        AE_TRY(flush(r));
        done += got;
        progress(r, done, (size_t)total);
        if (got < VS_UPSERT_BATCH) break;
    }
    return 0;
}

static int sync_ids(sync_run *r, const ae_strlist *ids)
{
    sqlite3_stmt *st;
    AE_TRY(ae_meta_prepare(r->ws->meta, STALE_SELECT " AND s.id = ?4", &st, r->err));
    int rc = 0;
    size_t done = 0;
    for (size_t i = 0; i < ids->len && rc == 0; i++) {
        sqlite3_reset(st);
        bind_key(r, st);
        sqlite3_bind_text(st, 4, ids->items[i], -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) rc = queue_row(r, st);
        if (rc == 0 && r->ids.len >= VS_UPSERT_BATCH) {
            done += r->ids.len;
            rc = flush(r);
            progress(r, done, ids->len);
        }
    }
    sqlite3_finalize(st);
    AE_TRY(rc);
    done += r->ids.len;
    AE_TRY(flush(r));
    if (done) progress(r, done, done);
    return 0;
}

int ae_ws_embed_sync(ae_workspace *ws, const ae_index_callbacks *cb, const ae_strlist *ids,
                     ae_index_stats *stats, ae_error *err)
{
    if (!ws->config.embeddings.enabled) return 0;
    sync_run r = {.ws = ws, .cb = cb, .stats = stats, .err = err};
    AE_TRY(ae_ws_vector_store(ws, &r.vs, err));
    AE_TRY(ae_ws_embedder(ws, &r.em, err));
    int rc = ids ? sync_ids(&r, ids) : sync_all(&r);
    pending_clear(&r);
    ae_buf_free(&r.text);
    return rc;
}

int ae_ws_embed_prune(ae_workspace *ws, const ae_strlist *ids, ae_index_stats *stats, ae_error *err)
{
    if (!ws->config.embeddings.enabled) return 0;
    if (ids && !ids->len) return 0;
    ae_vector_store *vs;
    AE_TRY(ae_ws_vector_store(ws, &vs, err));
    sqlite3_stmt *st;
    AE_TRY(ae_meta_prepare(ws->meta,
                           ids ? "SELECT e.symbol_id FROM embedding_state e WHERE e.backend = ?1 "
                                 "AND e.symbol_id = ?2 AND NOT EXISTS "
                                 "(SELECT 1 FROM symbols s WHERE s.id = e.symbol_id)"
                               : "SELECT e.symbol_id FROM embedding_state e LEFT JOIN symbols s "
                                 "ON s.id = e.symbol_id WHERE e.backend = ?1 AND s.id IS NULL",
                           &st, err));
    ae_strlist gone = {0};
    int rc = 0;
    for (size_t i = 0; rc == 0 && (ids ? i < ids->len : i == 0); i++) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, ws->backend_name, -1, SQLITE_STATIC);
        if (ids) sqlite3_bind_text(st, 2, ids->items[i], -1, SQLITE_STATIC);
        while (rc == 0 && sqlite3_step(st) == SQLITE_ROW)
            if (ae_strlist_push(&gone, (const char *)sqlite3_column_text(st, 0)) < 0)
                rc = ae_fail(err, AE_ENOMEM, "out of memory");
    }
    sqlite3_finalize(st);
    if (rc < 0 || !gone.len) goto cleanup;
    /* State first, then the store (embed_sync.h). */
    AE_CHECK(ae_meta_begin(ws->meta, err));
    for (size_t i = 0; i < gone.len; i++) {
        rc = ae_meta_embedded_delete(ws->meta, ws->backend_name, gone.items[i], err);
        if (rc < 0) {
            ae_meta_rollback(ws->meta);
            goto cleanup;
        }
    }
    AE_CHECK(ae_meta_commit(ws->meta, err));
    AE_CHECK(ae_vs_delete(vs, (const char *const *)gone.items, gone.len, err));
    stats->embeddings_deleted += gone.len;
cleanup:
    ae_strlist_free(&gone);
    return rc;
}

void ae_ws_sync_key(ae_workspace *ws, const char *sir_provider, const char *sir_model,
                    char key[AE_WS_SYNC_KEY_MAX])
{
    key[0] = '\0';
    ae_embedder *em;
    ae_error ignored;
    if (!ws->config.embeddings.enabled || !ws->meta || ae_ws_embedder(ws, &em, &ignored) < 0)
        return;
    int n = snprintf(key, AE_WS_SYNC_KEY_MAX, "v1\t%s\t%s\t%s\t%s\t%s",
                     ws->config.embeddings.vector_backend, ae_embedder_provider(em),
                     ae_embedder_model(em), sir_provider ? sir_provider : "",
                     sir_model ? sir_model : "");
    if (n < 0 || n >= AE_WS_SYNC_KEY_MAX) key[0] = '\0'; /* too long to compare: never clean */
}

bool ae_ws_sync_is_clean(ae_workspace *ws, const char *key)
{
    if (!key || !key[0] || !ws->meta) return false;
    sqlite3_stmt *st;
    if (ae_meta_prepare(ws->meta,
                        "SELECT value FROM aether_c_meta WHERE key = '" AE_WS_SYNC_CLEAN_KEY "'",
                        &st, NULL) < 0)
        return false;
    bool same = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) &&
                !strcmp((const char *)sqlite3_column_text(st, 0), key);
    sqlite3_finalize(st);
    return same;
}

int ae_ws_sync_mark_clean(ae_workspace *ws, const char *key, ae_error *err)
{
    sqlite3_stmt *st;
    AE_TRY(ae_meta_prepare(ws->meta,
                           key && key[0]
                               ? "INSERT OR REPLACE INTO aether_c_meta(key, value) "
                                 "VALUES ('" AE_WS_SYNC_CLEAN_KEY "', ?1)"
                               : "DELETE FROM aether_c_meta WHERE key = '" AE_WS_SYNC_CLEAN_KEY "'",
                           &st, err));
    if (key && key[0]) sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE
                 ? 0
                 : ae_sqlite_fail(ae_meta_db(ws->meta), err, "%s: record the embedding sync",
                                  ws->meta_path);
    sqlite3_finalize(st);
    return rc;
}
