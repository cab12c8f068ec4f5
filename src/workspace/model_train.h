/* The learned embedding model's life in an indexing pass (model_train.c).
 *
 *   ae_workspace_index:  extract + SIR -> ae_ws_model_prepare -> embed -> ae_ws_model_settle
 *
 * prepare trains a model when the provider learns one ("ppmi") and there is
 * none, [embeddings] retrain says so, or the workspace drifted past the
 * thresholds below; a new model becomes CURRENT at once, so the embedding
 * pass that follows re-embeds every symbol (new model string = new vector
 * table).  settle, after an embedding pass that finished, drops the vector
 * tables and files of every other model and updates the drift counters. */
#ifndef AE_WORKSPACE_MODEL_TRAIN_H
#define AE_WORKSPACE_MODEL_TRAIN_H

#include "embed/embed_model.h"

#include <aether/aether.h>
#include <stdbool.h>
#include <stdint.h>

/* Retrain ("auto") once, since the model was rolled out, at least
 * AE_EMBED_DRIFT_MIN_SYMBOLS symbols were (re)embedded and either
 *   they number >= AE_EMBED_DRIFT_CHURN x the symbols trained on, or
 *   their out-of-vocabulary tokens >= AE_EMBED_DRIFT_OOV x the tokens trained on.
 * The minimum keeps a few edits in a small workspace from re-embedding it all. */
#define AE_EMBED_DRIFT_MIN_SYMBOLS 256
#define AE_EMBED_DRIFT_CHURN       0.5
#define AE_EMBED_DRIFT_OOV         0.05

/* State carried from prepare to settle within one pass. */
typedef struct ae_ws_model_pass {
    bool active;            /* the provider learns a model */
    bool rolled_out;        /* prepare made a new model current */
    bool has_model;         /* a model is loaded (none yet: nothing to embed with) */
    uint64_t tokens0, oov0; /* the embedder's token counters before the pass */
} ae_ws_model_pass;

/* With ws->retrain_deferred (a watcher on the lancedb backend) a retrain that the policy asks
 * for while a usable model exists is not run here: ws->retrain_wanted is set, the pass embeds
 * with the current model, and the watcher retrains in a child process (model_retrain.h).  A
 * missing or unusable model is still trained here (there is nothing to embed with). */
int ae_ws_model_prepare(ae_workspace *ws, const ae_index_callbacks *cb, ae_ws_model_pass *mp,
                        ae_error *err);
/* Trains a model on every symbol with a SIR into models_dir/<name>.bin (not made CURRENT);
 * name[0] stays '\0' when there is none.  Deterministic: the same symbols give the same name. */
int ae_ws_model_train(ae_workspace *ws, const char *models_dir, const ae_index_callbacks *cb,
                      char name[AE_EMBED_MODEL_NAME_MAX + 1], ae_error *err);
int ae_ws_model_settle(ae_workspace *ws, ae_ws_model_pass *mp, size_t embedded, ae_error *err);

#endif
