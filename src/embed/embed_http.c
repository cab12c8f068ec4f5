/* HTTP embedding providers: "openai_compat", "ollama" and its alias "qwen3_local".
 *
 * 1. The dimension is learned, not configured: open sends one short probe text, and its
 *    vector's length becomes e->dim (callers size their buffers from ae_embedder_dim before
 *    the first embed).  Every later vector must have that length, or the call fails with
 *    "endpoint X returned 512 dimensions, expected 768"; nothing partial is returned.
 * 2. Three wire formats, chosen from provider and endpoint:
 *      openai_compat  POST {endpoint}/v1/embeddings {"model","input":[..]} -> data[i].embedding,
 *                     placed by data[i].index (servers may reorder)
 *      ollama         POST {endpoint}/api/embed {"model","input":[..]} -> embeddings[i]
 *      ollama, endpoint ending in /api/embeddings (the older single-text API): one
 *                     {"model","prompt"} per text; the vector is read from embedding,
 *                     data[0].embedding, embeddings[0] or vector, as the reference tool does.
 * 3. Every number must be finite and fit a float32; JSON has no NaN literal, so a server
 *    that prints one fails as malformed JSON, which is also an error.
 * 4. The API key comes from the variable named by api_key_env and only ever reaches the
 *    Authorization header (util/http.c keeps it out of messages). */
#include "embed/embed_provider.h"

#include "util/err.h"
#include "util/http.h"
#include "util/mem.h"

#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define OLLAMA_DEFAULT_ENDPOINT "http://127.0.0.1:11434"
#define PROBE_TEXT              "aether embedding dimension probe"

typedef enum { API_OPENAI, API_OLLAMA, API_OLLAMA_SINGLE } api_kind;

typedef struct http_impl {
    ae_http_client *http;
    char *url;
    api_kind api;
} http_impl;

static int ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* The request URL for an endpoint: a base URL gets the API path appended; an endpoint that
 * already names the path is used as is. */
static char *request_url(const char *endpoint, api_kind *api)
{
    size_t n = strlen(endpoint);
    while (n > 0 && endpoint[n - 1] == '/')
        n--;
    int len = (int)n;
    if (*api == API_OPENAI) {
        if (ends_with(endpoint, n, "/embeddings")) return ae_strndup(endpoint, n);
        if (ends_with(endpoint, n, "/v1")) return ae_asprintf("%.*s/embeddings", len, endpoint);
        return ae_asprintf("%.*s/v1/embeddings", len, endpoint);
    }
    if (ends_with(endpoint, n, "/api/embeddings")) {
        *api = API_OLLAMA_SINGLE;
        return ae_strndup(endpoint, n);
    }
    if (ends_with(endpoint, n, "/api/embed")) return ae_strndup(endpoint, n);
    return ae_asprintf("%.*s/api/embed", len, endpoint);
}

/* Reads one vector.  *dim == 0: learn it.  out may be NULL (the probe). */
static int read_vector(const http_impl *h, json_t *arr, size_t idx, uint32_t *dim, float *out,
                       ae_error *err)
{
    AE_RETURN_IF(!json_is_array(arr), err, AE_EPROVIDER,
                 "endpoint %s: embedding %zu is not an array of numbers", h->url, idx);
    size_t n = json_array_size(arr);
    AE_RETURN_IF(n == 0, err, AE_EPROVIDER, "endpoint %s returned an empty embedding (text %zu)",
                 h->url, idx);
    AE_RETURN_IF(n > UINT32_MAX / 2, err, AE_EPROVIDER,
                 "endpoint %s returned %zu dimensions (too many)", h->url, n);
    if (*dim == 0) *dim = (uint32_t)n;
    AE_RETURN_IF(n != *dim, err, AE_EPROVIDER,
                 "endpoint %s returned %zu dimensions, expected %u (text %zu)", h->url, n, *dim,
                 idx);
    for (size_t j = 0; j < n; j++) {
        json_t *v = json_array_get(arr, j);
        AE_RETURN_IF(!json_is_number(v), err, AE_EPROVIDER,
                     "endpoint %s: dimension %zu of embedding %zu is not a number", h->url, j, idx);
        double x = json_number_value(v);
        AE_RETURN_IF(!isfinite(x) || fabs(x) > FLT_MAX, err, AE_EPROVIDER,
                     "endpoint %s: dimension %zu of embedding %zu is not a finite float (%g)",
                     h->url, j, idx, x);
        if (out) out[j] = (float)x;
    }
    return 0;
}

/* The vector of a single-text reply: embedding | data[0].embedding | embeddings[0] | vector. */
static json_t *single_vector(json_t *root)
{
    json_t *v = json_object_get(root, "embedding");
    if (v) return v;
    v = json_object_get(json_array_get(json_object_get(root, "data"), 0), "embedding");
    if (v) return v;
    v = json_array_get(json_object_get(root, "embeddings"), 0);
    if (v) return v;
    return json_object_get(root, "vector");
}

static int post(http_impl *h, json_t *req, json_t **root, ae_error *err)
{
    *root = NULL;
    char *body = json_dumps(req, JSON_COMPACT);
    AE_RETURN_IF(!body, err, AE_ENOMEM, "out of memory encoding an embedding request");
    ae_http_response resp;
    int rc = ae_http_post_json(h->http, h->url, body, &resp, err);
    free(body);
    if (rc == 0) {
        json_error_t jerr;
        *root = json_loadb(resp.body, resp.len, 0, &jerr);
        if (!*root)
            rc = ae_fail(err, AE_EPROVIDER, "endpoint %s returned malformed JSON: line %d: %s",
                         h->url, jerr.line, jerr.text);
        else if (!json_is_object(*root)) {
            json_decref(*root);
            *root = NULL;
            rc = ae_fail(err, AE_EPROVIDER, "endpoint %s returned JSON that is not an object",
                         h->url);
        }
    }
    ae_http_response_free(&resp);
    return rc;
}

static json_t *request_for(const char *model, const char *key, json_t *input)
{
    json_t *req = json_object();
    if (!req || !input || json_object_set_new(req, "model", json_string(model)) < 0 ||
        json_object_set_new(req, key, input) < 0) {
        json_decref(req);
        return NULL;
    }
    return req;
}

static int embed_single(ae_embedder *e, const char *const *texts, size_t n, uint32_t *dim,
                        float *out, ae_error *err)
{
    http_impl *h = e->impl;
    for (size_t i = 0; i < n; i++) {
        json_t *req = request_for(e->model, "prompt", json_string(texts[i]));
        AE_RETURN_IF(!req, err, AE_ENOMEM, "out of memory encoding an embedding request");
        json_t *root;
        int rc = post(h, req, &root, err);
        json_decref(req);
        if (rc < 0) return rc;
        json_t *v = single_vector(root);
        if (!v)
            rc = ae_fail(err, AE_EPROVIDER,
                         "endpoint %s: reply has no embedding, data[0].embedding, embeddings[0] "
                         "or vector",
                         h->url);
        else
            rc = read_vector(h, v, i, dim, out ? out + i * (size_t)*dim : NULL, err);
        json_decref(root);
        if (rc < 0) return rc;
    }
    return 0;
}

static int embed_batch(ae_embedder *e, const char *const *texts, size_t n, uint32_t *dim,
                       float *out, ae_error *err)
{
    http_impl *h = e->impl;
    json_t *input = json_array();
    for (size_t i = 0; input && i < n; i++)
        if (json_array_append_new(input, json_string(texts[i])) < 0) {
            json_decref(input);
            input = NULL;
        }
    json_t *req = request_for(e->model, "input", input);
    AE_RETURN_IF(!req, err, AE_ENOMEM, "out of memory encoding an embedding request");
    json_t *root = NULL;
    unsigned char *seen = NULL;
    int rc = 0;
    AE_CHECK(post(h, req, &root, err));
    if (h->api == API_OLLAMA) {
        json_t *embs = json_object_get(root, "embeddings");
        if (!json_is_array(embs))
            AE_FAIL(err, AE_EPROVIDER, "endpoint %s: reply has no \"embeddings\" array", h->url);
        if (json_array_size(embs) != n)
            AE_FAIL(err, AE_EPROVIDER, "endpoint %s returned %zu embeddings for %zu texts", h->url,
                    json_array_size(embs), n);
        for (size_t i = 0; i < n; i++)
            AE_CHECK(read_vector(h, json_array_get(embs, i), i, dim,
                                 out ? out + i * (size_t)*dim : NULL, err));
    } else {
        json_t *data = json_object_get(root, "data");
        if (!json_is_array(data))
            AE_FAIL(err, AE_EPROVIDER, "endpoint %s: reply has no \"data\" array", h->url);
        if (json_array_size(data) != n)
            AE_FAIL(err, AE_EPROVIDER, "endpoint %s returned %zu embeddings for %zu texts", h->url,
                    json_array_size(data), n);
        seen = calloc(n, 1);
        if (!seen) AE_FAIL(err, AE_ENOMEM, "out of memory reading embeddings");
        for (size_t i = 0; i < n; i++) {
            json_t *item = json_array_get(data, i);
            json_t *jidx = json_object_get(item, "index");
            size_t at = i;
            if (jidx) {
                json_int_t x = json_is_integer(jidx) ? json_integer_value(jidx) : -1;
                if (x < 0 || (size_t)x >= n)
                    AE_FAIL(err, AE_EPROVIDER, "endpoint %s: data[%zu].index is not in 0..%zu",
                            h->url, i, n - 1);
                at = (size_t)x;
            }
            if (seen[at])
                AE_FAIL(err, AE_EPROVIDER, "endpoint %s: index %zu appears twice in data", h->url,
                        at);
            seen[at] = 1;
            json_t *v = json_object_get(item, "embedding");
            if (!v)
                AE_FAIL(err, AE_EPROVIDER, "endpoint %s: data[%zu] has no \"embedding\"", h->url,
                        i);
            AE_CHECK(read_vector(h, v, at, dim, out ? out + at * (size_t)*dim : NULL, err));
        }
    }
cleanup:
    free(seen);
    json_decref(root);
    json_decref(req);
    return rc;
}

static int embed_any(ae_embedder *e, const char *const *texts, size_t n, uint32_t *dim, float *out,
                     ae_error *err)
{
    http_impl *h = e->impl;
    if (h->api == API_OLLAMA_SINGLE) return embed_single(e, texts, n, dim, out, err);
    return embed_batch(e, texts, n, dim, out, err);
}

static int http_embed(ae_embedder *e, const char *const *texts, size_t n, float *out, ae_error *err)
{
    uint32_t dim = e->dim;
    return embed_any(e, texts, n, &dim, out, err);
}

static void http_close(ae_embedder *e)
{
    http_impl *h = e->impl;
    if (!h) return;
    ae_http_client_free(h->http);
    free(h->url);
    free(h);
    e->impl = NULL;
}

static const ae_embedder_ops http_ops = {http_embed, http_close};

int embed_http_open(const ae_embed_options *o, ae_embedder *e, ae_error *err)
{
    const char *name = o->provider;
    api_kind api = strcmp(name, "openai_compat") == 0 ? API_OPENAI : API_OLLAMA;
    AE_RETURN_IF(!o->model || !*o->model, err, AE_ECONFIG,
                 "[embeddings] model is required for provider '%s' (e.g. model = \"%s\")", name,
                 api == API_OPENAI ? "text-embedding-3-small" : "nomic-embed-text");
    const char *endpoint = o->endpoint && *o->endpoint ? o->endpoint : NULL;
    if (!endpoint && api == API_OLLAMA) endpoint = OLLAMA_DEFAULT_ENDPOINT;
    AE_RETURN_IF(!endpoint, err, AE_ECONFIG,
                 "[embeddings] endpoint is required for provider '%s' (e.g. endpoint = "
                 "\"http://127.0.0.1:8080\")",
                 name);
    AE_RETURN_IF(strncmp(endpoint, "http://", 7) != 0 && strncmp(endpoint, "https://", 8) != 0, err,
                 AE_ECONFIG, "[embeddings] endpoint '%s' must start with http:// or https://",
                 endpoint);
    const char *key;
    AE_TRY(ae_http_api_key(o->api_key_env, "[embeddings]", &key, err));

    http_impl *h = calloc(1, sizeof *h);
    AE_RETURN_IF(!h, err, AE_ENOMEM, "out of memory opening provider '%s'", name);
    e->impl = h;
    e->ops = &http_ops;
    h->api = api;
    h->url = request_url(endpoint, &h->api);
    e->model = ae_strdup(o->model);
    AE_RETURN_IF(!h->url || !e->model, err, AE_ENOMEM, "out of memory opening provider '%s'", name);
    AE_TRY(ae_http_client_new(NULL, key, &h->http, err));

    /* The probe: the first response fixes the dimension. */
    const char *probe[] = {PROBE_TEXT};
    uint32_t dim = 0;
    int rc = embed_any(e, probe, 1, &dim, NULL, err);
    if (rc < 0 && !err) return rc;
    if (rc < 0) return ae_err_prefix(err, "provider '%s' (model %s): ", name, o->model);
    e->dim = dim;
    return 0;
}
