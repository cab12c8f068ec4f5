/* Training, rolling out and retiring the learned embedding model (model_train.h).
 *
 * 1. The model is trained from every symbol that has a SIR, in symbol-id
 *    order, reading exactly the text the embedder will read
 *    (ae_embed_symbol_text).  Training is deterministic, so retraining an
 *    unchanged workspace yields the same model name and re-embeds nothing.
 * 2. Order of effects, each step safe to crash after:
 *      <name>.bin written (temp + fsync + rename) -> CURRENT = name ->
 *      every symbol re-embedded (the embedding pass: new model string) ->
 *      other models' vector tables dropped -> their files removed.
 *    A crash before the drop leaves CURRENT naming the new model, whose
 *    missing rows the next pass embeds before dropping the old table.
 * 3. A model that cannot be used (missing, corrupt, another format or
 *    tokenizer version) is retrained, with a notice saying why. */
#include "workspace/model_train.h"

#include "embed/embed.h"
#include "embed/embed_model.h"
#include "embed/embed_text.h"
#include "util/err.h"
#include "util/fs.h"
#include "workspace/model_retrain.h"
#include "workspace/workspace.h"

#include <stdlib.h>
#include <string.h>

#define TRAIN_PROGRESS_EVERY 4096

static void progress(const ae_index_callbacks *cb, const char *phase, size_t done, size_t total)
{
    if (!cb || !cb->progress) return;
    ae_index_progress p = {.phase = phase, .done = done, .total = total};
    cb->progress(cb->ctx, &p);
}

static int count_training_rows(ae_workspace *ws, int64_t *out, ae_error *err)
{
    sqlite3_stmt *st;
    AE_TRY(ae_meta_prepare(ws->meta, "SELECT COUNT(*) FROM sir s JOIN symbols y ON y.id = s.id",
                           &st, err));
    *out = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return 0;
}

int ae_ws_model_train(ae_workspace *ws, const char *models, const ae_index_callbacks *cb,
                      char name[AE_EMBED_MODEL_NAME_MAX + 1], ae_error *err)
{
    const char *provider = ws->config.embeddings.provider;
    name[0] = '\0';
    int64_t total = 0;
    AE_TRY(count_training_rows(ws, &total, err));
    if (total == 0) return 0;
    ae_embed_trainer *t = NULL;
    sqlite3_stmt *st = NULL;
    ae_buf text = {0};
    int rc = 0;
    AE_CHECK(ae_embed_trainer_open(provider, &t, err));
    AE_CHECK(ae_meta_prepare(ws->meta,
                             "SELECT y.qualified_name, y.signature, s.sir_json, y.name, "
                             "y.file_path FROM sir s JOIN symbols y ON y.id = s.id ORDER BY s.id",
                             &st, err));
    size_t done = 0;
    progress(cb, "train", 0, (size_t)total);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        ae_embed_symbol sym = {.qualified_name = (const char *)sqlite3_column_text(st, 0),
                               .signature = (const char *)sqlite3_column_text(st, 1),
                               .sir_json = (const char *)sqlite3_column_text(st, 2),
                               .name = (const char *)sqlite3_column_text(st, 3),
                               .file_path = (const char *)sqlite3_column_text(st, 4)};
        if (ae_embed_symbol_text(provider, &sym, &text) < 0)
            AE_FAIL(err, AE_ENOMEM, "out of memory reading training symbols");
        AE_CHECK(ae_embed_trainer_add(t, text.data, err));
        if (++done % TRAIN_PROGRESS_EVERY == 0) progress(cb, "train", done, (size_t)total);
    }
    if (s != SQLITE_DONE)
        AE_FAIL(err, AE_EIO, "reading training symbols: %s", sqlite3_errmsg(ae_meta_db(ws->meta)));
    sqlite3_finalize(st);
    st = NULL;
    progress(cb, "train", done, (size_t)total);
    AE_CHECK(ae_embed_trainer_finish(t, models, name, err));
cleanup:
    sqlite3_finalize(st);
    ae_buf_free(&text);
    ae_embed_trainer_close(t);
    return rc;
}

/* Has the workspace drifted from the current model (model_train.h)? */
static int drifted(const char *models, const char *cur, bool *out, ae_error *err)
{
    ae_embed_model_info info;
    ae_embed_drift d;
    *out = false;
    AE_TRY(ae_embed_model_info_read(models, cur, &info, err));
    if (ae_embed_drift_read(models, cur, &d, NULL) < 0) memset(&d, 0, sizeof d); /* recount */
    *out = d.symbols >= AE_EMBED_DRIFT_MIN_SYMBOLS &&
           ((double)d.symbols >= AE_EMBED_DRIFT_CHURN * (double)info.symbols ||
            (double)d.oov_tokens >= AE_EMBED_DRIFT_OOV * (double)info.tokens);
    return 0;
}

static void drop_embedder(ae_workspace *ws)
{
    ae_embedder_close(ws->embedder);
    ws->embedder = NULL;
}

int ae_ws_model_prepare(ae_workspace *ws, const ae_index_callbacks *cb, ae_ws_model_pass *mp,
                        ae_error *err)
{
    memset(mp, 0, sizeof *mp);
    const char *provider = ws->config.embeddings.provider;
    if (!ws->config.embeddings.enabled || !ae_embed_provider_learns(provider)) return 0;
    mp->active = true;
    AE_TRY(ae_ws_retrain_recover(ws, err)); /* a background publish cut short (model_retrain.h) */
    const char *policy = ws->config.embeddings.retrain ? ws->config.embeddings.retrain : "auto";
    char *models = ae_path_join(ws->aether_dir, "models");
    AE_RETURN_IF(!models, err, AE_ENOMEM, "out of memory");
    char cur[AE_EMBED_MODEL_NAME_MAX + 1] = "", name[AE_EMBED_MODEL_NAME_MAX + 1] = "";
    ae_embedder *em = NULL;
    ae_error e2;
    int rc = 0;
    bool need = false;
    if (ae_embed_model_current(models, AE_EMBED_MODEL_CURRENT, cur, &e2) < 0) {
        if (e2.code != AE_ENOTFOUND)
            ae_ws_notice(ws, "embedding model: %s; retraining", e2.message);
        cur[0] = '\0';
        need = true;
    } else if (ae_ws_embedder(ws, &em, &e2) < 0) {
        ae_ws_notice(ws, "embedding model %s cannot be used (%s); retraining", cur, e2.message);
        need = true;
    } else if (!strcmp(policy, "always")) {
        need = true;
    } else if (!strcmp(policy, "auto")) {
        AE_CHECK(drifted(models, cur, &need, err));
        if (need && !ws->retrain_deferred)
            ae_ws_notice(ws, "embedding model %s: the workspace drifted from it; retraining", cur);
    }
    if (need && cur[0] && em && ws->retrain_deferred) {
        /* a usable model: embed with it, the watcher retrains in the background */
        ws->retrain_wanted = true;
        need = false;
    }
    if (need) {
        AE_CHECK(ae_ws_model_train(ws, models, cb, name, err));
        if (name[0] && strcmp(name, cur) != 0) {
            drop_embedder(ws);
            AE_CHECK(ae_embed_model_set(models, AE_EMBED_MODEL_CURRENT, name, err));
            mp->rolled_out = true;
            ae_embed_model_info info;
            if (ae_embed_model_info_read(models, name, &info, NULL) == 0)
                ae_ws_notice(ws,
                             "embedding model %s trained on %llu symbols (%u tokens); "
                             "re-embedding every symbol",
                             name, (unsigned long long)info.symbols, info.vocab);
        } else if (name[0]) {
            /* the same data gave the same model: nothing to re-embed, counters restart */
            ae_embed_drift zero = {0};
            AE_CHECK(ae_embed_drift_write(models, name, &zero, err));
        }
    }
    if (!name[0] && need) goto cleanup; /* nothing to train on yet: no model, no vectors */
    AE_CHECK(ae_ws_embedder(ws, &em, err));
    ae_embedder_token_stats(em, &mp->tokens0, &mp->oov0);
    mp->has_model = true;
cleanup:
    free(models);
    return rc;
}

/* A switch of provider re-embeds every symbol into the new provider's table,
 * which leaves the old one without a live row: it goes, as a replaced model's does.
 * Without an embedder (a learned model not trained yet) there is nothing to compare. */
static int drop_emptied_tables(ae_workspace *ws, ae_error *err)
{
    if (!ws->config.embeddings.enabled) return 0;
    ae_embedder *em;
    ae_error ignored;
    if (ae_ws_embedder(ws, &em, &ignored) < 0) return 0;
    ae_vector_store *vs;
    AE_TRY(ae_ws_vector_store(ws, &vs, err));
    size_t dropped = 0;
    AE_TRY(ae_vs_drop_empty_except(vs, ae_embedder_provider(em), ae_embedder_model(em), &dropped,
                                   err));
    if (dropped)
        ae_ws_notice(ws, "dropped %zu vector table%s left empty by a change of embedding provider",
                     dropped, dropped == 1 ? "" : "s");
    return 0;
}

int ae_ws_model_settle(ae_workspace *ws, ae_ws_model_pass *mp, size_t embedded, ae_error *err)
{
    if (!mp->active) return drop_emptied_tables(ws, err);
    char *models = ae_path_join(ws->aether_dir, "models");
    AE_RETURN_IF(!models, err, AE_ENOMEM, "out of memory");
    char cur[AE_EMBED_MODEL_NAME_MAX + 1];
    ae_error e2;
    int rc = 0;
    if (ae_embed_model_current(models, AE_EMBED_MODEL_CURRENT, cur, &e2) < 0) goto cleanup;
    ae_vector_store *vs;
    AE_CHECK(ae_ws_vector_store(ws, &vs, err));
    size_t dropped = 0;
    AE_CHECK(ae_vs_drop_models_except(vs, ws->config.embeddings.provider, cur, &dropped, err));
    if (dropped)
        ae_ws_notice(ws, "dropped the vectors of %zu replaced embedding model(s)", dropped);
    AE_CHECK(drop_emptied_tables(ws, err));
    const char *keep[] = {cur};
    AE_CHECK(ae_embed_model_gc(models, keep, 1, err));
    ae_embed_drift d = {0};
    if (!mp->rolled_out) {
        if (!embedded) goto cleanup;
        if (ae_embed_drift_read(models, cur, &d, NULL) < 0) memset(&d, 0, sizeof d);
        uint64_t tokens = 0, oov = 0;
        if (ws->embedder) ae_embedder_token_stats(ws->embedder, &tokens, &oov);
        d.symbols += embedded;
        d.tokens += tokens - mp->tokens0;
        d.oov_tokens += oov - mp->oov0;
    }
    AE_CHECK(ae_embed_drift_write(models, cur, &d, err));
    /* a watcher retrains in the background: as soon as the pass that crossed the threshold
     * ends, not at the next save's */
    if (ws->retrain_deferred && !mp->rolled_out) {
        const char *policy = ws->config.embeddings.retrain ? ws->config.embeddings.retrain : "auto";
        bool due = !strcmp(policy, "always");
        if (!strcmp(policy, "auto")) AE_CHECK(drifted(models, cur, &due, err));
        if (due) ws->retrain_wanted = true;
    }
cleanup:
    free(models);
    return rc;
}
