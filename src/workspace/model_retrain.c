/* Retraining the learned embedding model in a child process (model_retrain.h).
 * Notes:
 * 1. The staging table is written with the table API (ae_table_*), never through a
 *    VectorStore: the store's upsert deletes the same ids from every other table (note 3 of
 *    src/store/table_backend.c), which would empty the table the watcher's batches and the
 *    searches still use.  Outside .aether/vectors/ no store lists it, so their drops and
 *    deletes never reach it either.
 * 2. The staging read is paged by id, each page its own read transaction (a long one would
 *    keep the WAL from being checkpointed for minutes): a SIR that changes between pages is
 *    embedded at the hash read with it, and the catch-up compares hashes, so no page needs to
 *    see the state another saw.
 * 3. The re-key reads the (id, sir_hash) pairs from the published table itself and claims a
 *    row only where the SIR still has that hash, so embedding_state never claims a vector the
 *    table lacks, whoever wrote in between (the recovery relies on it).
 * 4. The child never sees its parent's SQLite connection: the watcher closes meta.sqlite
 *    around the fork (SQLite's per-process lock bookkeeping must not be inherited), and this
 *    opens a workspace handle of its own. */
#include "workspace/model_retrain.h"

#include "embed/embed.h"
#include "embed/embed_text.h"
#include "meta/sqlite_err.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/fs.h"
#include "vectors/table.h"
#include "workspace/model_train.h"
#include "workspace/write_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PAGE_ROWS        4096
#define CATCH_UP_ROUNDS  3 /* unlocked catch-ups before the publish, while much changed */
#define PUBLISH_ATTEMPTS 8 /* publishes given up for an unlocked catch-up, then it takes all */
#define LOCK_FILE        "lock"
#define PUBLISHING_FILE  "PUBLISHING"
#define BACKEND          "lancedb" /* the only backend retrained in the background */

/* The SIRs that have an embedding (embed_sync.c's condition, without the state). */
#define CURRENT_SIRS                                                                               \
    "FROM sir s JOIN symbols y ON y.id = s.id WHERE s.sir_json IS NOT NULL AND s.sir_hash <> '' "
#define ROW_COLS "s.id, s.sir_hash, s.sir_json, y.qualified_name, y.signature, y.name, y.file_path "

typedef struct paths {
    char *dir, *lock, *models, *vectors, *publishing, *ws_models;
} paths;

static void paths_free(paths *p)
{
    free(p->dir);
    free(p->lock);
    free(p->models);
    free(p->vectors);
    free(p->publishing);
    free(p->ws_models);
}

static int paths_make(const char *aether_dir, paths *p, ae_error *err)
{
    memset(p, 0, sizeof *p);
    p->dir = ae_path_join(aether_dir, AE_WS_RETRAIN_DIR);
    p->ws_models = ae_path_join(aether_dir, "models");
    if (p->dir) {
        p->lock = ae_path_join(p->dir, LOCK_FILE);
        p->models = ae_path_join(p->dir, "models");
        p->vectors = ae_path_join(p->dir, "vectors");
        p->publishing = ae_path_join(p->dir, PUBLISHING_FILE);
    }
    if (!p->dir || !p->lock || !p->models || !p->vectors || !p->publishing || !p->ws_models) {
        paths_free(p);
        return ae_fail(err, AE_ENOMEM, "out of memory");
    }
    return 0;
}

/* The staging lock: held by a running retrain for its whole life (flock: released by the
 * kernel when it dies).  *fd -1 and no error when another process holds it and !wait. */
static int lock_staging(const paths *p, int *fd, ae_error *err)
{
    *fd = -1;
    AE_TRY(ae_mkdirs(p->dir, err));
    int f = open(p->lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (f < 0) return ae_fail_errno(err, errno, "open %s", p->lock);
    if (flock(f, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        close(f);
        if (e == EWOULDBLOCK) return 0;
        return ae_fail_errno(err, e, "lock %s", p->lock);
    }
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    if (ftruncate(f, 0) < 0 || pwrite(f, buf, (size_t)n, 0) != n) {
        /* the pid is a hint for messages only */
    }
    *fd = f;
    return 0;
}

static int clear_staging(const paths *p, ae_error *err)
{
    AE_TRY(ae_remove_tree(p->models, err));
    return ae_remove_tree(p->vectors, err);
}

int ae_ws_retrain_cleanup(const char *aether_dir, bool *removed, ae_error *err)
{
    if (removed) *removed = false;
    paths p;
    AE_TRY(paths_make(aether_dir, &p, err));
    int rc = 0, fd = -1;
    if (!ae_is_dir(p.dir)) goto cleanup;
    AE_CHECK(lock_staging(&p, &fd, err));
    if (fd < 0) goto cleanup; /* a live retrain */
    if (removed) *removed = ae_path_exists(p.models) || ae_path_exists(p.vectors);
    rc = clear_staging(&p, err);
cleanup:
    if (fd >= 0) close(fd);
    paths_free(&p);
    return rc;
}

#ifdef AE_TESTING
/* AE_RETRAIN_STAGE_DELAY_MS / AE_RETRAIN_PUBLISH_DELAY_MS (test builds, docs/TESTING.md): a
 * pause after staging (saves and kills during a long retrain) and one between CURRENT and the
 * re-key (a kill there: the recovery). */
static void delay_hook(const char *name)
{
    const char *e = getenv(name);
    long ms = e && *e ? strtol(e, NULL, 10) : 0;
    if (ms > 0) {
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
        }
    }
}
#define DELAY_HOOK(name) delay_hook(name)
#else
#define DELAY_HOOK(name) ((void)0)
#endif

/* ---- staging -------------------------------------------------------------------------------- */

typedef struct stage {
    ae_workspace *ws;
    ae_embedder *em;
    ae_table *t;
    ae_strlist ids, hashes, texts; /* the page being embedded */
    ae_buf text;
    ae_error *err;
} stage;

static void page_clear(stage *s)
{
    ae_strlist_free(&s->ids);
    ae_strlist_free(&s->hashes);
    ae_strlist_free(&s->texts);
}

/* Queues a row of ROW_COLS. */
static int queue_row(stage *s, sqlite3_stmt *st)
{
    ae_embed_symbol sym = {.sir_json = (const char *)sqlite3_column_text(st, 2),
                           .qualified_name = (const char *)sqlite3_column_text(st, 3),
                           .signature = (const char *)sqlite3_column_text(st, 4),
                           .name = (const char *)sqlite3_column_text(st, 5),
                           .file_path = (const char *)sqlite3_column_text(st, 6)};
    if (ae_embed_symbol_text(ae_embedder_provider(s->em), &sym, &s->text) < 0 ||
        ae_strlist_push(&s->ids, (const char *)sqlite3_column_text(st, 0)) < 0 ||
        ae_strlist_push(&s->hashes, (const char *)sqlite3_column_text(st, 1)) < 0 ||
        ae_strlist_push(&s->texts, s->text.data) < 0)
        return ae_fail(s->err, AE_ENOMEM, "out of memory");
    return 0;
}

/* Embeds the page and writes it into the staging table (one commit). */
static int flush(stage *s)
{
    size_t n = s->ids.len;
    if (!n) return 0;
    uint32_t dim = ae_embedder_dim(s->em);
    size_t batch = s->ws->config.embeddings.batch_size > 0
                       ? (size_t)s->ws->config.embeddings.batch_size
                       : AE_EMBED_DEFAULT_BATCH_SIZE;
    float *vecs = ae_calloc_array(n, (size_t)dim * sizeof(float));
    ae_vs_record *recs = ae_calloc_array(n, sizeof *recs);
    int rc = 0;
    if (!vecs || !recs)
        AE_FAIL(s->err, AE_ENOMEM, "cannot allocate %zu embeddings of dim %u", n, dim);
    for (size_t i = 0; i < n; i += batch) {
        size_t m = n - i < batch ? n - i : batch;
        AE_CHECK(ae_embedder_embed(s->em, (const char *const *)s->texts.items + i, m,
                                   vecs + i * dim, s->err));
    }
    int64_t now = ae_now_ms();
    for (size_t i = 0; i < n; i++)
        recs[i] = (ae_vs_record){.symbol_id = s->ids.items[i],
                                 .sir_hash = s->hashes.items[i],
                                 .provider = ae_embedder_provider(s->em),
                                 .model = ae_embedder_model(s->em),
                                 .embedding = vecs + i * dim,
                                 .dim = dim,
                                 .updated_at = now};
    AE_CHECK(ae_table_upsert(s->t, recs, n, s->err));
cleanup:
    free(vecs);
    free(recs);
    page_clear(s);
    return rc;
}

/* Every current SIR embedded into the staging table; (id, sir_hash) of each, in id order. */
static int stage_all(stage *s, ae_strlist *have_ids, ae_strlist *have_hashes)
{
    char *last = ae_strdup("");
    int rc = 0;
    if (!last) return ae_fail(s->err, AE_ENOMEM, "out of memory");
    for (;;) {
        sqlite3_stmt *st;
        AE_CHECK(ae_meta_prepare(s->ws->meta,
                                 "SELECT " ROW_COLS CURRENT_SIRS "AND s.id > ?1 ORDER BY s.id "
                                 "LIMIT ?2",
                                 &st, s->err));
        sqlite3_bind_text(st, 1, last, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 2, PAGE_ROWS);
        int step = SQLITE_DONE;
        while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
            rc = queue_row(s, st);
            if (rc == 0 && (ae_strlist_push(have_ids, s->ids.items[s->ids.len - 1]) < 0 ||
                            ae_strlist_push(have_hashes, s->hashes.items[s->hashes.len - 1]) < 0))
                rc = ae_fail(s->err, AE_ENOMEM, "out of memory");
        }
        if (rc == 0 && step != SQLITE_DONE)
            rc = ae_fail(s->err, AE_EIO, "reading SIRs to embed: %s",
                         sqlite3_errmsg(ae_meta_db(s->ws->meta)));
        sqlite3_finalize(st);
        if (rc < 0) goto cleanup;
        size_t got = s->ids.len;
        if (!got) break;
        free(last);
        last = ae_strdup(s->ids.items[got - 1]);
        if (!last) AE_FAIL(s->err, AE_ENOMEM, "out of memory");
        AE_CHECK(flush(s));
        if (got < PAGE_ROWS) break;
    }
cleanup:
    free(last);
    return rc;
}

/* ---- publish -------------------------------------------------------------------------------- */

/* Under write.lock: what changed since the staging read goes into the staging table too. */
/* More than limit to do: nothing done, 1 returned (the publish lets go of write.lock and
 * catches up without it first). */
static int catch_up(stage *s, ae_strlist *have_ids, ae_strlist *have_hashes,
                    ae_ws_retrain_result *res, size_t limit)
{
    ae_strlist stale = {0}, gone = {0}, now_ids = {0}, now_hashes = {0};
    sqlite3_stmt *st = NULL;
    int rc = 0, step = SQLITE_DONE;
    AE_CHECK(ae_meta_prepare(s->ws->meta, "SELECT s.id, s.sir_hash " CURRENT_SIRS "ORDER BY s.id",
                             &st, s->err));
    size_t j = 0;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        const char *hash = (const char *)sqlite3_column_text(st, 1);
        if (ae_strlist_push(&now_ids, id) < 0 || ae_strlist_push(&now_hashes, hash) < 0) {
            rc = AE_ENOMEM;
            break;
        }
        /* both lists in SQLite's BINARY order, which is strcmp's */
        while (rc == 0 && j < have_ids->len && strcmp(have_ids->items[j], id) < 0)
            rc = ae_strlist_push(&gone, have_ids->items[j++]);
        if (rc < 0) break;
        if (j < have_ids->len && !strcmp(have_ids->items[j], id)) {
            if (strcmp(have_hashes->items[j], hash) != 0) rc = ae_strlist_push(&stale, id);
            j++;
        } else {
            rc = ae_strlist_push(&stale, id);
        }
    }
    while (rc == 0 && j < have_ids->len)
        rc = ae_strlist_push(&gone, have_ids->items[j++]);
    if (rc < 0) AE_FAIL(s->err, AE_ENOMEM, "out of memory");
    if (step != SQLITE_DONE)
        AE_FAIL(s->err, AE_EIO, "reading SIRs: %s", sqlite3_errmsg(ae_meta_db(s->ws->meta)));
    sqlite3_finalize(st);
    st = NULL;
    if (stale.len + gone.len > limit) {
        rc = 1;
        goto cleanup;
    }
    if (stale.len) {
        AE_CHECK(ae_meta_prepare(s->ws->meta, "SELECT " ROW_COLS CURRENT_SIRS "AND s.id = ?1", &st,
                                 s->err));
        for (size_t i = 0; i < stale.len; i++) {
            sqlite3_reset(st);
            sqlite3_bind_text(st, 1, stale.items[i], -1, SQLITE_STATIC);
            if (sqlite3_step(st) == SQLITE_ROW) AE_CHECK(queue_row(s, st));
            if (s->ids.len >= PAGE_ROWS) AE_CHECK(flush(s));
        }
        AE_CHECK(flush(s));
    }
    if (gone.len)
        AE_CHECK(ae_table_delete(s->t, (const char *const *)gone.items, gone.len, NULL, s->err));
    res->caught_up = stale.len;
    res->removed = gone.len;
    /* the table now holds what the query read */
    ae_strlist_free(have_ids);
    ae_strlist_free(have_hashes);
    *have_ids = now_ids;
    *have_hashes = now_hashes;
    now_ids = (ae_strlist){0};
    now_hashes = (ae_strlist){0};
cleanup:
    sqlite3_finalize(st);
    ae_strlist_free(&stale);
    ae_strlist_free(&gone);
    ae_strlist_free(&now_ids);
    ae_strlist_free(&now_hashes);
    return rc;
}

typedef struct rekey_ctx {
    sqlite3_stmt *st;
    size_t n;
} rekey_ctx;

static int rekey_row(const ae_vs_record *rec, void *ctx)
{
    rekey_ctx *k = ctx;
    sqlite3_reset(k->st);
    sqlite3_bind_text(k->st, 1, BACKEND, -1, SQLITE_STATIC);
    sqlite3_bind_text(k->st, 2, rec->symbol_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(k->st, 3, rec->sir_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(k->st, 4, rec->provider, -1, SQLITE_STATIC);
    sqlite3_bind_text(k->st, 5, rec->model, -1, SQLITE_STATIC);
    if (sqlite3_step(k->st) != SQLITE_DONE) return AE_EIO;
    k->n += (size_t)sqlite3_changes(sqlite3_db_handle(k->st));
    return 0;
}

/* Note 3: embedding_state claims exactly the rows of the table at table_dir whose SIR still
 * has their hash; one transaction. */
static int rekey(ae_workspace *ws, const char *table_dir, size_t *claimed, ae_error *err)
{
    ae_table *t = NULL;
    rekey_ctx k = {0};
    int rc = 0;
    AE_CHECK(ae_table_open_dir(table_dir, NULL, &t, err));
    AE_CHECK(ae_meta_prepare(ws->meta,
                             "INSERT OR REPLACE INTO embedding_state(backend, symbol_id, sir_hash, "
                             "provider, model) SELECT ?1, ?2, ?3, ?4, ?5 "
                             "WHERE EXISTS (SELECT 1 FROM sir WHERE id = ?2 AND sir_hash = ?3)",
                             &k.st, err));
    AE_CHECK(ae_meta_begin(ws->meta, err));
    rc = ae_table_iterate(t, rekey_row, &k, err);
    if (rc == AE_EIO)
        rc = ae_sqlite_fail(ae_meta_db(ws->meta), err, "%s: record embedding state", ws->meta_path);
    if (rc < 0) {
        ae_meta_rollback(ws->meta);
        goto cleanup;
    }
    AE_CHECK(ae_meta_commit(ws->meta, err));
    if (claimed) *claimed = k.n;
cleanup:
    sqlite3_finalize(k.st);
    ae_table_close(t);
    return rc;
}

/* Renames src over nothing at dst (a leftover table of that name is dropped first), durably. */
static int move_table(ae_workspace *ws, const char *src, const char *name, ae_error *err)
{
    AE_TRY(ae_mkdirs(ws->vectors_dir, err));
    char *dst = ae_path_join(ws->vectors_dir, name);
    AE_RETURN_IF(!dst, err, AE_ENOMEM, "out of memory");
    int rc = 0;
    if (ae_path_exists(dst)) AE_CHECK(ae_table_drop(ws->vectors_dir, name, err));
    if (rename(src, dst) < 0)
        AE_FAIL(err, ae_code_from_errno(errno), "rename %s to %s: %s", src, dst, strerror(errno));
    if (ae_sync_parent(dst) < 0) AE_FAIL(err, AE_EIO, "fsync %s", ws->vectors_dir);
cleanup:
    free(dst);
    return rc;
}

static int move_model(const paths *p, const char *name, ae_error *err)
{
    char file[AE_EMBED_MODEL_NAME_MAX + 8];
    snprintf(file, sizeof file, "%s.bin", name);
    char *src = ae_path_join(p->models, file), *dst = ae_path_join(p->ws_models, file);
    int rc = 0;
    if (!src || !dst) AE_FAIL(err, AE_ENOMEM, "out of memory");
    AE_CHECK(ae_mkdirs(p->ws_models, err));
    if (rename(src, dst) < 0)
        AE_FAIL(err, ae_code_from_errno(errno), "rename %s to %s: %s", src, dst, strerror(errno));
    if (ae_sync_parent(dst) < 0) AE_FAIL(err, AE_EIO, "fsync %s", p->ws_models);
cleanup:
    free(src);
    free(dst);
    return rc;
}

static int publish(stage *s, const paths *p, const char *from, ae_strlist *have_ids,
                   ae_strlist *have_hashes, size_t limit, ae_ws_retrain_result *res, ae_error *err)
{
    ae_workspace *ws = s->ws;
    const char *provider = ae_embedder_provider(s->em), *model = ae_embedder_model(s->em);
    char cur[AE_EMBED_MODEL_NAME_MAX + 1];
    ae_error e2;
    if (ae_embed_model_current(p->ws_models, AE_EMBED_MODEL_CURRENT, cur, &e2) < 0 ||
        strcmp(cur, from) != 0) {
        res->outcome = AE_WS_RETRAIN_SUPERSEDED;
        return 0;
    }
    uint64_t tok0 = 0, oov0 = 0, tok1 = 0, oov1 = 0;
    ae_embedder_token_stats(s->em, &tok0, &oov0);
    int c = catch_up(s, have_ids, have_hashes, res, limit);
    if (c != 0) return c; /* 1: too much changed to embed under the lock */
    ae_embedder_token_stats(s->em, &tok1, &oov1);
    char name[AE_TABLE_NAME_MAX];
    ae_table_name(provider, model, ae_embedder_dim(s->em), name);
    ae_table_close(s->t); /* its writer lock too */
    s->t = NULL;
    char *src = ae_path_join(p->vectors, name);
    char line[AE_EMBED_MODEL_NAME_MAX + 2];
    snprintf(line, sizeof line, "%s\n", model);
    int rc = 0;
    if (!src) AE_FAIL(err, AE_ENOMEM, "out of memory");
    AE_CHECK(ae_write_file_atomic(p->publishing, line, strlen(line), err));
    AE_CHECK(move_table(ws, src, name, err));
    AE_CHECK(move_model(p, model, err));
    AE_CHECK(ae_embed_model_set(p->ws_models, AE_EMBED_MODEL_CURRENT, model, err));
    DELAY_HOOK("AE_RETRAIN_PUBLISH_DELAY_MS");
    free(src);
    src = ae_path_join(ws->vectors_dir, name);
    if (!src) AE_FAIL(err, AE_ENOMEM, "out of memory");
    AE_CHECK(rekey(ws, src, NULL, err));
    /* drift since the roll-out: what the catch-up embedded */
    ae_embed_drift d = {res->caught_up, tok1 - tok0, oov1 - oov0};
    AE_CHECK(ae_embed_drift_write(p->ws_models, model, &d, err));
    /* the old model's table and file go, as after an inline roll-out (model_settle) */
    ae_vector_store *vs = NULL;
    AE_CHECK(ae_vs_open_table(ws->vectors_dir, &vs, err));
    rc = ae_vs_drop_models_except(vs, provider, model, NULL, err);
    ae_vs_close(vs);
    if (rc < 0) goto cleanup;
    const char *keep[] = {model};
    AE_CHECK(ae_embed_model_gc(p->ws_models, keep, 1, err));
    if (unlink(p->publishing) < 0 && errno != ENOENT)
        AE_FAIL(err, ae_code_from_errno(errno), "remove %s: %s", p->publishing, strerror(errno));
    res->outcome = AE_WS_RETRAIN_PUBLISHED;
cleanup:
    free(src);
    return rc;
}

/* The same data gave the model in use: its drift counters restart (as an inline retrain). */
static int keep_model(ae_workspace *ws, const paths *p, const char *from, ae_ws_retrain_result *res,
                      ae_error *err)
{
    AE_TRY(ae_ws_write_begin(ws, err));
    char cur[AE_EMBED_MODEL_NAME_MAX + 1];
    ae_error e2;
    int rc = 0;
    res->outcome = AE_WS_RETRAIN_SUPERSEDED;
    if (ae_embed_model_current(p->ws_models, AE_EMBED_MODEL_CURRENT, cur, &e2) == 0 &&
        !strcmp(cur, from)) {
        ae_embed_drift zero = {0};
        rc = ae_embed_drift_write(p->ws_models, from, &zero, err);
        res->outcome = AE_WS_RETRAIN_UNCHANGED;
    }
    ae_ws_write_end(ws);
    return rc;
}

int ae_ws_retrain(const char *root, const char *from_model, ae_ws_retrain_result *res,
                  ae_error *err)
{
    memset(res, 0, sizeof *res);
    AE_RETURN_IF(!root || !from_model || ae_embed_model_check_name(from_model, err) < 0, err,
                 AE_EINVAL, "ae_ws_retrain: a workspace and the model to replace are needed");
    ae_workspace *ws = NULL;
    ae_open_options oo = {0};
    AE_TRY(ae_workspace_open(root, &oo, &ws, err));
    paths p = {0};
    stage s = {.ws = ws, .err = err};
    ae_strlist have_ids = {0}, have_hashes = {0};
    int rc = 0, fd = -1;
    bool staged = false;
    const char *provider = ws->config.embeddings.provider;
    if (!ws->config.embeddings.enabled || !ae_embed_provider_learns(provider))
        AE_FAIL(err, AE_EINVAL, "embedding provider %s learns no model", provider);
    AE_CHECK(paths_make(ws->aether_dir, &p, err));
    AE_CHECK(lock_staging(&p, &fd, err));
    if (fd < 0) AE_FAIL(err, AE_EBUSY, "another retrain of %s runs (%s)", root, p.lock);
    AE_CHECK(clear_staging(&p, err));
    staged = true;
    double t0 = ae_mono_s();
    AE_CHECK(ae_ws_model_train(ws, p.models, NULL, res->model, err));
    res->train_s = ae_mono_s() - t0;
    if (!res->model[0] || !strcmp(res->model, from_model)) {
        if (!res->model[0]) snprintf(res->model, sizeof res->model, "%s", from_model);
        rc = keep_model(ws, &p, from_model, res, err);
        goto cleanup;
    }
    ae_embed_options o = {.provider = provider,
                          .model = res->model,
                          .batch_size = ws->config.embeddings.batch_size,
                          .model_dir = p.models,
                          .verify_model = true};
    AE_CHECK(ae_embedder_open(&o, &s.em, err));
    AE_CHECK(
        ae_table_open(p.vectors, provider, res->model, ae_embedder_dim(s.em), 1, NULL, &s.t, err));
    t0 = ae_mono_s();
    AE_CHECK(stage_all(&s, &have_ids, &have_hashes));
    res->symbols = have_ids.len;
    res->embed_s = ae_mono_s() - t0;
    /* what changed while staging, caught up before the lock while it is much, so the publish
     * (which the batches wait for) has little left to embed */
    for (int round = 0; round < CATCH_UP_ROUNDS; round++) {
        ae_ws_retrain_result r2 = {0};
        AE_CHECK(catch_up(&s, &have_ids, &have_hashes, &r2, SIZE_MAX));
        res->caught_up_unlocked += r2.caught_up;
        if (r2.caught_up + r2.removed < PAGE_ROWS) break;
    }
    ae_table_unlock(s.t); /* nobody else writes it; the publish takes it again */
    DELAY_HOOK("AE_RETRAIN_STAGE_DELAY_MS");
    /* the publish embeds at most a page under write.lock (the batches wait for it): while a
     * storm goes on and more changed, it lets go and catches up outside the lock again */
    for (int attempt = 0;; attempt++) {
        t0 = ae_mono_s();
        AE_CHECK(ae_ws_write_begin(ws, err));
        rc = publish(&s, &p, from_model, &have_ids, &have_hashes,
                     attempt < PUBLISH_ATTEMPTS ? PAGE_ROWS : SIZE_MAX, res, err);
        ae_ws_write_end(ws);
        res->publish_s = ae_mono_s() - t0;
        if (rc != 1) break;
        ae_ws_retrain_result r2 = {0};
        AE_CHECK(catch_up(&s, &have_ids, &have_hashes, &r2, SIZE_MAX));
        res->caught_up_unlocked += r2.caught_up;
        ae_table_unlock(s.t);
    }
cleanup:
    ae_table_close(s.t);
    page_clear(&s);
    ae_buf_free(&s.text);
    ae_embedder_close(s.em);
    ae_strlist_free(&have_ids);
    ae_strlist_free(&have_hashes);
    if (staged) {
        ae_error ignored;
        clear_staging(&p, &ignored); /* what is left of it: nothing after a publish */
    }
    if (fd >= 0) close(fd);
    paths_free(&p);
    ae_workspace_close(ws);
    return rc;
}

int ae_ws_retrain_recover(ae_workspace *ws, ae_error *err)
{
    paths p;
    AE_TRY(paths_make(ws->aether_dir, &p, err));
    int rc = 0;
    char *text = NULL;
    size_t len = 0;
    if (!ae_path_exists(p.publishing)) goto cleanup;
    /* we hold write.lock, which its publisher held while the file existed: it is dead */
    char name[AE_EMBED_MODEL_NAME_MAX + 1] = "", cur[AE_EMBED_MODEL_NAME_MAX + 1] = "";
    ae_error e2;
    if (ae_read_file(p.publishing, &text, &len, &e2) == 0) {
        size_t n = strcspn(text, "\n");
        if (n <= AE_EMBED_MODEL_NAME_MAX) {
            memcpy(name, text, n);
            name[n] = '\0';
        }
    }
    ae_embed_model_info info;
    if (name[0] && ae_embed_model_check_name(name, &e2) == 0 &&
        ae_embed_model_current(p.ws_models, AE_EMBED_MODEL_CURRENT, cur, &e2) == 0 &&
        !strcmp(cur, name) && ae_embed_model_info_read(p.ws_models, name, &info, &e2) == 0) {
        char tname[AE_TABLE_NAME_MAX];
        ae_table_name(ws->config.embeddings.provider, name, info.dim, tname);
        char *dir = ae_path_join(ws->vectors_dir, tname);
        if (!dir) AE_FAIL(err, AE_ENOMEM, "out of memory");
        size_t claimed = 0;
        rc = ae_is_dir(dir) ? rekey(ws, dir, &claimed, err) : 0;
        free(dir);
        if (rc < 0) goto cleanup;
        ae_ws_notice(ws,
                     "embedding model %s: finished its interrupted roll-out (%zu embeddings "
                     "recorded)",
                     name, claimed);
    }
    /* otherwise CURRENT never named it: the next settle drops its table */
    if (unlink(p.publishing) < 0 && errno != ENOENT)
        AE_FAIL(err, ae_code_from_errno(errno), "remove %s: %s", p.publishing, strerror(errno));
cleanup:
    free(text);
    paths_free(&p);
    return rc;
}
