/* The embedder front end: provider registry, option checks, batching.
 *
 * 1. Providers are rows of one table (name + open function); a row with a NULL
 *    open function is a known provider that this build does not have yet, so the
 *    error says "not built yet" rather than "unknown".
 * 2. The front end splits any batch into provider-sized chunks, so providers
 *    never see more than batch_size texts and callers never think about it. */
#include "embed/embed_provider.h"

#include "util/err.h"
#include "util/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*provider_open_fn)(const ae_embed_options *o, ae_embedder *e, ae_error *err);

static const struct {
    const char *name;
    provider_open_fn open; /* NULL: known but not built yet */
} providers[] = {
    {"mock", embed_mock_open},   {"hash", embed_hash_open},
    {"ppmi", embed_ppmi_open},   {"openai_compat", embed_http_open},
    {"ollama", embed_http_open}, {"qwen3_local", embed_http_open},
};

#define N_PROVIDERS (sizeof providers / sizeof providers[0])

static int unknown_provider(const char *name, ae_error *err)
{
    char accepted[256] = "";
    size_t used = 0;
    for (size_t i = 0; i < N_PROVIDERS; i++) {
        int w = snprintf(accepted + used, sizeof accepted - used, "%s'%s'", i ? ", " : "",
                         providers[i].name);
        if (w < 0 || (size_t)w >= sizeof accepted - used) break;
        used += (size_t)w;
    }
    return ae_fail(err, AE_EINVAL, "unknown embedding provider '%s' (accepted: %s)", name,
                   accepted);
}

int ae_embedder_open(const ae_embed_options *o, ae_embedder **out, ae_error *err)
{
    AE_RETURN_IF(!o || !out, err, AE_EINVAL, "ae_embedder_open: options and out are required");
    *out = NULL;
    AE_RETURN_IF(!o->provider || !*o->provider, err, AE_EINVAL,
                 "embedding provider is not set (accepted: 'mock', 'hash', 'ppmi', "
                 "'openai_compat', 'ollama', 'qwen3_local')");
    AE_RETURN_IF(o->batch_size < 0, err, AE_EINVAL, "embedding batch_size must be positive, not %d",
                 o->batch_size);

    size_t i = 0;
    while (i < N_PROVIDERS && strcmp(providers[i].name, o->provider) != 0)
        i++;
    if (i == N_PROVIDERS) return unknown_provider(o->provider, err);
    AE_RETURN_IF(!providers[i].open, err, AE_EPROVIDER, "provider '%s' is not built yet",
                 o->provider);

    ae_embedder *e = calloc(1, sizeof *e);
    AE_RETURN_IF(!e, err, AE_ENOMEM, "out of memory opening embedder '%s'", o->provider);
    e->batch_size = o->batch_size ? (size_t)o->batch_size : AE_EMBED_DEFAULT_BATCH_SIZE;
    e->provider = ae_strdup(o->provider);
    int rc = 0;
    if (!e->provider) AE_FAIL(err, AE_ENOMEM, "out of memory opening embedder '%s'", o->provider);
    AE_CHECK(providers[i].open(o, e, err));
    *out = e;
    return 0;
cleanup:
    ae_embedder_close(e);
    return rc;
}

const char *ae_embedder_provider(const ae_embedder *e)
{
    return e ? e->provider : NULL;
}

const char *ae_embedder_model(const ae_embedder *e)
{
    return e ? e->model : NULL;
}

uint32_t ae_embedder_dim(const ae_embedder *e)
{
    return e ? e->dim : 0;
}

int ae_embedder_embed(ae_embedder *e, const char *const *texts, size_t n, float *out, ae_error *err)
{
    AE_RETURN_IF(!e, err, AE_EINVAL, "ae_embedder_embed: embedder is NULL");
    if (n == 0) return 0;
    AE_RETURN_IF(!texts || !out, err, AE_EINVAL, "ae_embedder_embed: texts and out are required");
    for (size_t i = 0; i < n; i++)
        AE_RETURN_IF(!texts[i], err, AE_EINVAL, "text %zu of %zu is NULL", i, n);
    for (size_t start = 0; start < n; start += e->batch_size) {
        size_t m = n - start < e->batch_size ? n - start : e->batch_size;
        int rc = e->ops->embed(e, texts + start, m, out + start * e->dim, err);
        if (rc < 0) return rc;
    }
    return 0;
}

void ae_embedder_close(ae_embedder *e)
{
    if (!e) return;
    if (e->ops && e->ops->close) e->ops->close(e);
    free(e->provider);
    free(e->model);
    free(e);
}

uint64_t embed_fnv1a64(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}
