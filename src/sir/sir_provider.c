/* The unified SIR provider handle (see sir_provider.h).
 *
 * 1. "auto" means the offline static generator; a model is used only when named, so a fresh
 *    workspace never reaches for the network.
 * 2. The local generators keep their plain functions (provider.h); this file only gives all
 *    providers one open / generate / close shape so the pipeline has one call site. */
#include "sir/sir_provider.h"

#include "sir/provider.h"
#include "sir/sir_internal.h"
#include "util/err.h"
#include "util/mem.h"

#include <stdlib.h>
#include <string.h>

typedef enum { KIND_MOCK, KIND_STATIC, KIND_HTTP } kind;

struct ae_sir_provider {
    kind kind;
    char *name, *model;
    sir_http *http;
};

#define ACCEPTED "'auto', 'static', 'mock', 'openai_compat', 'ollama', 'qwen3_local'"

int ae_sir_provider_open_options(const ae_sir_provider_options *o, ae_sir_provider **out,
                                 ae_error *err)
{
    AE_RETURN_IF(!o || !out, err, AE_EINVAL, "ae_sir_provider_open: options and out are required");
    *out = NULL;
    const char *name = o->provider && *o->provider ? o->provider : "auto";
    kind k;
    const char *model = NULL;
    if (!strcmp(name, "auto") || !strcmp(name, "static")) {
        k = KIND_STATIC;
        name = "static";
        model = "static-v1";
    } else if (!strcmp(name, "mock")) {
        k = KIND_MOCK;
        model = "mock";
    } else if (!strcmp(name, "openai_compat") || !strcmp(name, "ollama") ||
               !strcmp(name, "qwen3_local")) {
        k = KIND_HTTP;
        model = o->model;
    } else {
        return ae_fail(err, AE_ECONFIG, "unknown SIR provider '%s' (accepted: " ACCEPTED ")", name);
    }
    ae_sir_provider *p = calloc(1, sizeof *p);
    AE_RETURN_IF(!p, err, AE_ENOMEM, "out of memory opening SIR provider '%s'", name);
    int rc = 0;
    p->kind = k;
    if (k == KIND_HTTP) {
        ae_sir_provider_options h = *o;
        h.provider = name;
        AE_CHECK(sir_http_open(&h, &p->http, err));
    }
    p->name = ae_strdup(name);
    p->model = ae_strdup(model);
    if (!p->name || !p->model)
        AE_FAIL(err, AE_ENOMEM, "out of memory opening SIR provider '%s'", name);
    *out = p;
    return 0;
cleanup:
    ae_sir_provider_close(p);
    return rc;
}

int ae_sir_provider_open(const ae_config *c, ae_sir_provider **out, ae_error *err)
{
    AE_RETURN_IF(!c, err, AE_EINVAL, "ae_sir_provider_open: config is required");
    ae_sir_provider_options o = {
        .provider = c->inference.provider,
        .model = c->inference.model,
        .endpoint = c->inference.endpoint,
        .api_key_env = c->inference.api_key_env,
    };
    return ae_sir_provider_open_options(&o, out, err);
}

const char *ae_sir_provider_name(const ae_sir_provider *p)
{
    return p ? p->name : NULL;
}

const char *ae_sir_provider_model(const ae_sir_provider *p)
{
    return p ? p->model : NULL;
}

int ae_sir_provider_generate(ae_sir_provider *p, const ae_symbol *sym, ae_sir *out, ae_error *err)
{
    AE_RETURN_IF(!p, err, AE_EINVAL, "ae_sir_provider_generate: provider is NULL");
    switch (p->kind) {
    case KIND_MOCK:
        return ae_sir_generate_mock(sym, out, err);
    case KIND_STATIC:
        return ae_sir_generate_static(sym, out, err);
    case KIND_HTTP:
        return sir_http_generate(p->http, sym, out, err);
    }
    return ae_fail(err, AE_EINVAL, "ae_sir_provider_generate: bad provider kind");
}

void ae_sir_provider_close(ae_sir_provider *p)
{
    if (!p) return;
    sir_http_close(p->http);
    free(p->name);
    free(p->model);
    free(p);
}
