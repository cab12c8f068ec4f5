/* Retraining the learned embedding model outside the batch loop (model_retrain.c).
 *
 * A watcher on the lancedb backend leaves a due retrain ("auto" drift, "always") to a child
 * process that runs ae_ws_retrain on its own workspace handle, while the watcher's batches go
 * on embedding with the current model:
 *
 *   staging   (no lock)   train on the store's SIRs into .aether/retrain/models/<M>.bin, embed
 *                         every symbol with M into a vector table under .aether/retrain/vectors/
 *                         (out of the vector store's sight: its cross-table deletes and drops
 *                         never touch it, searches never see it)
 *   publish   (write.lock, like any writer; the watcher's batches wait for it)
 *                         CURRENT still the model it replaces, or give up (superseded);
 *                         catch up: symbols whose SIR changed since the staging read are
 *                         embedded again, removed ones deleted, so the table holds exactly the
 *                         store's current SIRs;  retrain/PUBLISHING = M;  the table renamed into
 *                         .aether/vectors/, the model file into .aether/models/;  CURRENT = M;
 *                         embedding_state re-keyed to M for every row the table holds at the
 *                         SIR's hash;  the old model's table and file dropped;  PUBLISHING gone.
 *
 * Crash safety (a SIGKILL anywhere, the child or the daemon that owns it):
 *   before the rename   CURRENT still names the old model, complete; the staging leftovers are
 *                       removed by the next retrain or watcher start (ae_ws_retrain_cleanup);
 *   rename .. CURRENT   a table of a model that is not CURRENT: the next pass drops it;
 *   CURRENT .. re-key   PUBLISHING names M: the next writer's model pass (which holds
 *                       write.lock, so the publisher is dead) re-keys from the table itself
 *                       (ae_ws_retrain_recover) instead of re-embedding every symbol. */
#ifndef AE_WORKSPACE_MODEL_RETRAIN_H
#define AE_WORKSPACE_MODEL_RETRAIN_H

#include "embed/embed_model.h"
#include "workspace/workspace.h"

#define AE_WS_RETRAIN_DIR "retrain"

typedef enum ae_ws_retrain_outcome {
    AE_WS_RETRAIN_PUBLISHED,  /* model is CURRENT, every symbol embedded with it */
    AE_WS_RETRAIN_UNCHANGED,  /* the store gave the model in use again: drift counters reset */
    AE_WS_RETRAIN_SUPERSEDED, /* another writer replaced the model meanwhile: nothing published */
} ae_ws_retrain_outcome;

typedef struct ae_ws_retrain_result {
    ae_ws_retrain_outcome outcome;
    char model[AE_EMBED_MODEL_NAME_MAX + 1]; /* the model trained */
    size_t symbols;                          /* embedded while staging */
    size_t caught_up_unlocked;               /* re-embedded before the publish: changed while
                                                staging */
    size_t caught_up, removed;               /* at publish: re-embedded, deleted */
    double train_s, embed_s, publish_s;
} ae_ws_retrain_result;

/* Retrains the model of the workspace at root, which must be from_model (CURRENT when the
 * retrain was asked for), staging and publishing as above.  Opens its own workspace handle;
 * meant for a child process (it takes .aether/retrain/lock: AE_EBUSY while another runs). */
int ae_ws_retrain(const char *root, const char *from_model, ae_ws_retrain_result *res,
                  ae_error *err);

/* Removes what a retrain that died left in .aether/retrain/ (a staging table and model), when
 * no retrain holds its lock; PUBLISHING is left for ae_ws_retrain_recover.  *removed (optional)
 * is set when there was something. */
int ae_ws_retrain_cleanup(const char *aether_dir, bool *removed, ae_error *err);

/* Called with write.lock held: finishes a publish cut short between CURRENT and the re-key
 * (retrain/PUBLISHING present).  Cheap (one stat) when there is none. */
int ae_ws_retrain_recover(ae_workspace *ws, ae_error *err);

#endif
