/* The learned embedder's model: training, embedding, file (private to src/embed/).
 *
 * A model maps sub-tokens to dense vectors learned from the workspace's own
 * symbols: document-level co-occurrence counts -> PPMI -> truncated SVD
 * (ppmi_train.c, ppmi_svd.c).  A text embeds as the weighted sum of its
 * tokens' vectors, minus the corpus' common direction, concatenated with a
 * small signed feature-hashed part that keeps exact-token matching for words
 * the vocabulary does not have (ppmi_embed.c).  The file format is in
 * ppmi_model.c and docs/FORMAT.md. */
#ifndef AE_EMBED_PPMI_H
#define AE_EMBED_PPMI_H

#include <aether/error.h>
#include <stddef.h>
#include <stdint.h>

/* Training parameters; every one is recorded in the model file. */
typedef struct ppmi_params {
    uint32_t dim;            /* output dimension = dense + hashed */
    uint32_t hashed;         /* dimensions of the hashed part (0: none) */
    uint32_t min_df;         /* tokens in fewer symbols are out of vocabulary */
    uint32_t max_vocab;      /* vocabulary cap (most frequent by df) */
    uint32_t max_doc_tokens; /* distinct vocabulary tokens per symbol that co-occur */
    uint32_t power_iters;    /* randomized SVD power iterations */
    uint64_t seed;           /* randomized SVD test matrix */
    float cds;               /* context distribution smoothing exponent (0.75) */
    float eig_power;         /* token vector = U * |lambda|^eig_power */
    float shift;             /* PPMI shift: max(PMI - log(shift), 0) */
    float hashed_weight;     /* weight of the hashed part relative to the dense one */
    uint32_t remove_common;  /* dense directions removed (0 or 1) */
    uint64_t pair_budget;    /* max distinct co-occurring pairs held while counting */
} ppmi_params;

void ppmi_params_default(ppmi_params *p);

typedef struct ppmi_model ppmi_model;

/* Training: add one document per symbol, then finish. */
typedef struct ppmi_trainer ppmi_trainer;
int ppmi_trainer_new(const ppmi_params *p, ppmi_trainer **out, ae_error *err);
int ppmi_trainer_add(ppmi_trainer *t, const char *text, size_t len, ae_error *err);
/* Builds the model; the trainer can only be freed afterwards. */
int ppmi_trainer_finish(ppmi_trainer *t, ppmi_model **out, ae_error *err);
void ppmi_trainer_free(ppmi_trainer *t);
size_t ppmi_trainer_docs(const ppmi_trainer *t);

/* out[0..dim) = the unit-length embedding of text (all zeros when it has no
 * token at all).  Thread-safe: the model is read-only.  Fails only on memory. */
int ppmi_embed(const ppmi_model *m, const char *text, size_t len, float *out, ae_error *err);

/* Like ppmi_embed; also counts the text's tokens and those outside the vocabulary. */
int ppmi_embed_counted(const ppmi_model *m, const char *text, size_t len, float *out,
                       uint64_t *tokens, uint64_t *oov, ae_error *err);

uint32_t ppmi_model_dim(const ppmi_model *m);
/* What the model was trained on: symbols, token occurrences, those outside the vocabulary. */
void ppmi_model_stats(const ppmi_model *m, uint64_t *symbols, uint64_t *tokens, uint64_t *oov);
uint32_t ppmi_model_vocab(const ppmi_model *m);
/* Content hash of the model (BLAKE3 hex of the payload); names the model. */
const char *ppmi_model_hash(const ppmi_model *m);
/* Token lookup: vocabulary index or -1. */
int64_t ppmi_model_lookup(const ppmi_model *m, const char *tok, size_t len);

/* File I/O (ppmi_model.c).  Save writes path atomically (temp + fsync +
 * rename).  Load maps the file; verify_all checks the checksum of the vectors
 * too (else header and vocabulary only, so a search process touches few pages). */
int ppmi_model_save(const ppmi_model *m, const char *path, ae_error *err);
int ppmi_model_load(const char *path, int verify_all, ppmi_model **out, ae_error *err);
void ppmi_model_free(ppmi_model *m);

#endif
