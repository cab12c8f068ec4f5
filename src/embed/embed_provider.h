/* The seam between ae_embedder and its providers (private to src/embed/).
 *
 * A provider is one entry in the registry in embed.c: a name and an open
 * function.  Open fills the common fields of *e (model, dim, ops, impl); the
 * front end owns the struct, the provider string and the batching loop, and
 * calls ops->embed with at most batch_size texts at a time. */
#ifndef AE_EMBED_PROVIDER_H
#define AE_EMBED_PROVIDER_H

#include "embed/embed.h"

typedef struct ae_embedder_ops {
    /* Embeds n texts (n <= batch_size) into out[0 .. n*dim). */
    int (*embed)(ae_embedder *e, const char *const *texts, size_t n, float *out, ae_error *err);
    /* Frees impl; may be NULL when impl needs no cleanup. */
    void (*close)(ae_embedder *e);
} ae_embedder_ops;

struct ae_embedder {
    const ae_embedder_ops *ops;
    char *provider; /* owned */
    char *model;    /* owned */
    uint32_t dim;
    size_t batch_size;
    void *impl; /* provider state */
};

/* Each fills e->model (allocated), e->dim, e->ops and e->impl from o. */
int embed_mock_open(const ae_embed_options *o, ae_embedder *e, ae_error *err);
int embed_hash_open(const ae_embed_options *o, ae_embedder *e, ae_error *err);
/* embed_http.c: "openai_compat", "ollama", "qwen3_local" (an alias of ollama). */
int embed_http_open(const ae_embed_options *o, ae_embedder *e, ae_error *err);
int embed_ppmi_open(const ae_embed_options *o, ae_embedder *e, ae_error *err);

/* Exposed for tests and the reference comparison. */
uint64_t embed_fnv1a64(const void *p, size_t n);
void embed_mock_vector(const char *text, float out[AE_EMBED_MOCK_DIM]);
void embed_hash_vector(const char *text, uint32_t dim, float *out);

#endif
