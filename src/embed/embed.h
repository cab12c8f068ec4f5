/* Embedding providers: a batch of texts in, one float32 vector per text out.
 *
 * Providers:
 *   "mock" - model "mock-64d", 64 dimensions; token hashing exactly as the
 *            reference tool, so vectors written by either are interchangeable.
 *   "hash" - model "hash-v1"; identifier-aware signed
 *            feature hashing (sub-words, whole identifiers, trigrams) into
 *            `dim` dimensions (default 384).
 *   "ppmi" - model "ppmi-<dim>-<hash8>", the offline default; embeddings
 *            learned from the workspace's own symbols (PPMI + truncated SVD),
 *            model file under .aether/models (src/embed/embed_ppmi.c).
 *   "openai_compat" | "ollama" | "qwen3_local" - HTTP providers (src/embed/embed_http.c)
 *            (AE_EPROVIDER); they plug into the registry in embed.c.
 *
 * Ownership: an ae_embedder owns copies of every option string.  ae_embedder_embed
 * writes n * dim floats into the caller's `out`. */
#ifndef AE_EMBED_EMBED_H
#define AE_EMBED_EMBED_H

#include <aether/error.h>
#include <aether/vector_store.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AE_EMBED_MOCK_MODEL "mock-64d"
#define AE_EMBED_MOCK_DIM   64
#define AE_EMBED_HASH_MODEL "hash-v1"

#define AE_EMBED_HASH_DEFAULT_DIM 384
#define AE_EMBED_HASH_MIN_DIM     8

#define AE_EMBED_DEFAULT_BATCH_SIZE 64

typedef struct ae_embedder ae_embedder;

typedef struct ae_embed_options {
    const char *provider;    /* required */
    const char *model;       /* NULL or "": the provider's default */
    int dim;                 /* 0: the provider's default; ignored by "mock" (always 64) */
    const char *endpoint;    /* HTTP providers only */
    const char *api_key_env; /* HTTP providers only: name of the env var holding the key */
    int batch_size;          /* 0: AE_EMBED_DEFAULT_BATCH_SIZE; local providers ignore it */
    const char *model_dir;   /* "ppmi" only: the workspace's .aether/models */
    bool verify_model;       /* "ppmi" only: check every section checksum (the indexer) */
} ae_embed_options;

/* Opens a provider.  Unknown provider -> AE_EINVAL naming the accepted values;
 * a known provider that is not built -> AE_EPROVIDER.  Close with ae_embedder_close. */
int ae_embedder_open(const ae_embed_options *o, ae_embedder **out, ae_error *err);

/* Borrowed strings, valid until ae_embedder_close. */
const char *ae_embedder_provider(const ae_embedder *e);
const char *ae_embedder_model(const ae_embedder *e);
uint32_t ae_embedder_dim(const ae_embedder *e);

/* Embeds texts[0..n) into out[0 .. n*dim); out is caller-allocated.  NULL
 * texts are an error (AE_EINVAL naming the index). */
int ae_embedder_embed(ae_embedder *e, const char *const *texts, size_t n, float *out,
                      ae_error *err);

/* Accepts NULL. */
void ae_embedder_close(ae_embedder *e);

/* "ppmi" only: tokens embedded since open and how many the vocabulary did not
 * have (drift accounting).  AE_EINVAL for other providers. */
int ae_embedder_token_stats(const ae_embedder *e, uint64_t *tokens, uint64_t *oov);

#endif
