/* The VectorStore front door: thin wrappers over a backend's ops table.
 *
 * 1. Argument checks that do not depend on the backend (NULL handles, a bad
 *    query vector) live here, so backends can assume sane calls.
 * 2. Record validation stays in the backends (ae_vs_validate_records), since
 *    migration and tests may call ops directly.
 * 3. ae_vs_close owns the ae_vector_store struct itself: a backend's open
 *    allocates it with malloc, its ops->close frees only the backend state. */
#include <aether/vector_store.h>

#include "vectors/vs_validate.h"
#include "util/err.h"

#include <stdlib.h>

#define CHECK_VS(vs, err)                                                                          \
    AE_RETURN_IF(!(vs) || !(vs)->ops, err, AE_EINVAL, "vector store handle is NULL")

void ae_vs_close(ae_vector_store *vs)
{
    if (!vs) return;
    if (vs->ops && vs->ops->close) vs->ops->close(vs->backend);
    free(vs);
}

int ae_vs_upsert(ae_vector_store *vs, const ae_vs_record *recs, size_t n, ae_error *err)
{
    CHECK_VS(vs, err);
    if (n == 0) return 0;
    AE_RETURN_IF(!recs, err, AE_EINVAL, "%zu records passed as NULL", n);
    return vs->ops->upsert(vs->backend, recs, n, err);
}

int ae_vs_delete(ae_vector_store *vs, const char *const *ids, size_t n, ae_error *err)
{
    CHECK_VS(vs, err);
    if (n == 0) return 0;
    AE_RETURN_IF(!ids, err, AE_EINVAL, "%zu ids passed as NULL", n);
    for (size_t i = 0; i < n; i++)
        AE_RETURN_IF(!ids[i], err, AE_EINVAL, "id %zu of %zu is NULL", i, n);
    return vs->ops->delete_ids(vs->backend, ids, n, err);
}

int ae_vs_search(ae_vector_store *vs, const float *query, uint32_t dim, const char *provider,
                 const char *model, size_t limit, const ae_vs_search_opts *opts, ae_vs_hit **hits,
                 size_t *n_hits, ae_error *err)
{
    CHECK_VS(vs, err);
    AE_RETURN_IF(!hits || !n_hits, err, AE_EINVAL, "search needs somewhere to put its hits");
    *hits = NULL;
    *n_hits = 0;
    AE_TRY(ae_vs_validate_query(query, dim, provider, model, err));
    return vs->ops->search_nearest(vs->backend, query, dim, provider, model, limit, opts, hits,
                                   n_hits, err);
}

int ae_vs_rebuild_index(ae_vector_store *vs, ae_error *err)
{
    CHECK_VS(vs, err);
    return vs->ops->rebuild_index(vs->backend, err);
}

int ae_vs_count(ae_vector_store *vs, const char *provider, const char *model, size_t *out,
                ae_error *err)
{
    CHECK_VS(vs, err);
    AE_RETURN_IF(!out, err, AE_EINVAL, "count needs somewhere to put its result");
    *out = 0;
    return vs->ops->count(vs->backend, provider, model, out, err);
}

int ae_vs_drop_models_except(ae_vector_store *vs, const char *provider, const char *keep_model,
                             size_t *dropped, ae_error *err)
{
    size_t local = 0;
    if (!dropped) dropped = &local;
    *dropped = 0;
    CHECK_VS(vs, err);
    AE_RETURN_IF(!provider || !*provider || !keep_model || !*keep_model, err, AE_EINVAL,
                 "dropping old models needs a provider and the model to keep");
    if (!vs->ops->drop_models_except) return 0;
    return vs->ops->drop_models_except(vs->backend, provider, keep_model, dropped, err);
}

int ae_vs_drop_empty_except(ae_vector_store *vs, const char *keep_provider, const char *keep_model,
                            size_t *dropped, ae_error *err)
{
    size_t local = 0;
    if (!dropped) dropped = &local;
    *dropped = 0;
    CHECK_VS(vs, err);
    AE_RETURN_IF(!keep_provider || !*keep_provider || !keep_model || !*keep_model, err, AE_EINVAL,
                 "dropping empty tables needs the provider and model to keep");
    if (!vs->ops->drop_empty_except) return 0;
    return vs->ops->drop_empty_except(vs->backend, keep_provider, keep_model, dropped, err);
}

int ae_vs_iterate(ae_vector_store *vs, ae_vs_row_fn fn, void *ctx, ae_error *err)
{
    CHECK_VS(vs, err);
    AE_RETURN_IF(!fn, err, AE_EINVAL, "iterate needs a callback");
    return vs->ops->iterate(vs->backend, fn, ctx, err);
}
