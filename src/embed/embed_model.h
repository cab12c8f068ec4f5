/* Learned embedding models as workspace data (.aether/models/).
 *
 *   .aether/models/ppmi-256-1a2b3c4d.bin   a model file (format: ppmi_model.c, docs/FORMAT.md)
 *   .aether/models/CURRENT                 name of the model search uses ("ppmi-256-1a2b3c4d\n")
 *   .aether/models/NEXT                    name of a model being rolled out (the indexer
 *                                          embeds with it; search keeps CURRENT until done)
 *   .aether/models/<name>.drift            counts since the model was rolled out (drift)
 *
 * Lifecycle (driven by src/workspace/embed_model.c):
 *   train -> write <name>.bin -> NEXT = name -> re-embed every symbol ->
 *   CURRENT = name, NEXT removed -> drop the old model's vector table and file.
 * A crash anywhere leaves CURRENT naming a complete table, or NEXT naming a
 * model to finish rolling out on the next run. */
#ifndef AE_EMBED_EMBED_MODEL_H
#define AE_EMBED_EMBED_MODEL_H

#include <aether/error.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AE_EMBED_MODEL_NAME_MAX 63
#define AE_EMBED_MODEL_CURRENT  "CURRENT"
#define AE_EMBED_MODEL_NEXT     "NEXT"

/* Providers that learn a model from the workspace ("ppmi"). */
bool ae_embed_provider_learns(const char *provider);

/* "ppmi-<dim>-<first 8 hex of hash>" into out. */
void ae_embed_model_name(uint32_t dim, const char *hash, char out[AE_EMBED_MODEL_NAME_MAX + 1]);
/* 0 when name looks like a model name (so it is safe as a file name), else AE_EINVAL. */
int ae_embed_model_check_name(const char *name, ae_error *err);

/* Reads dir/which (CURRENT or NEXT) into out.  AE_ENOTFOUND when absent;
 * AE_ECORRUPT when it does not hold a model name. */
int ae_embed_model_current(const char *dir, const char *which,
                           char out[AE_EMBED_MODEL_NAME_MAX + 1], ae_error *err);
/* Writes dir/which atomically; name NULL removes it (missing is fine). */
int ae_embed_model_set(const char *dir, const char *which, const char *name, ae_error *err);
/* Removes model files (and their .drift) in dir whose name is not in keep. */
int ae_embed_model_gc(const char *dir, const char *const *keep, size_t n_keep, ae_error *err);

/* What a model file says about its training data (header only). */
typedef struct ae_embed_model_info {
    uint32_t dim, vocab;
    uint64_t symbols, tokens, oov_tokens; /* trained on; tokens outside the vocabulary */
} ae_embed_model_info;
int ae_embed_model_info_read(const char *dir, const char *name, ae_embed_model_info *out,
                             ae_error *err);

/* Drift counters since roll-out: symbols embedded, their tokens, how many of
 * those the vocabulary did not have.  Missing file: zeros. */
typedef struct ae_embed_drift {
    uint64_t symbols, tokens, oov_tokens;
} ae_embed_drift;
int ae_embed_drift_read(const char *dir, const char *name, ae_embed_drift *out, ae_error *err);
int ae_embed_drift_write(const char *dir, const char *name, const ae_embed_drift *d, ae_error *err);

/* Training: one text per symbol (ae_embed_symbol_text), in a fixed order. */
typedef struct ae_embed_trainer ae_embed_trainer;
int ae_embed_trainer_open(const char *provider, ae_embed_trainer **out, ae_error *err);
int ae_embed_trainer_add(ae_embed_trainer *t, const char *text, ae_error *err);
/* Trains and writes dir/<name>.bin (dir is created); name receives the
 * model's name.  An identical model already on disk is left as it is. */
int ae_embed_trainer_finish(ae_embed_trainer *t, const char *dir,
                            char name[AE_EMBED_MODEL_NAME_MAX + 1], ae_error *err);
void ae_embed_trainer_close(ae_embed_trainer *t);

#endif
