/* The unified SIR provider handle (see sir_provider.h).
 *
 * 1. "auto" means the offline static generator; a model is used only when named, so a fresh
 *    workspace never reaches for the network.
 * 2. The local generators keep their plain functions (provider.h); this file only gives all
 *    providers one open / generate / close shape so the pipeline has one call site.
 * 3. Batches run on plain threads, one HTTP handle per thread (a curl easy handle is not
 *    thread-safe; curl multi would need the retry logic of util/http.c rewritten as a state
 *    machine for no gain at these concurrencies).  Extra handles are opened on the calling
 *    thread before any worker starts and kept for the next batch. */
#include "sir/sir_provider.h"

#include "sir/provider.h"
#include "sir/sir_internal.h"
#include "util/err.h"
#include "util/mem.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { KIND_MOCK, KIND_STATIC, KIND_HTTP } kind;

struct ae_sir_provider {
    kind kind;
    char *name, *model;
    sir_http *http;
    /* HTTP: what opening another handle needs, and the handles of batch workers 1.. */
    ae_sir_provider_options opts;
    char *endpoint, *api_key_env;
    sir_http *workers[AE_SIR_CONCURRENCY_MAX];
    int n_workers;
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
    if (k == KIND_HTTP) {
        p->opts = *o;
        p->endpoint = o->endpoint ? ae_strdup(o->endpoint) : NULL;
        p->api_key_env = o->api_key_env ? ae_strdup(o->api_key_env) : NULL;
        if ((o->endpoint && !p->endpoint) || (o->api_key_env && !p->api_key_env))
            AE_FAIL(err, AE_ENOMEM, "out of memory opening SIR provider '%s'", name);
        p->opts.provider = p->name;
        p->opts.model = p->model;
        p->opts.endpoint = p->endpoint;
        p->opts.api_key_env = p->api_key_env;
    }
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

/* ---- batches ------------------------------------------------------------------------------ */

typedef struct batch {
    ae_sir_provider *p;
    const ae_symbol *const *syms;
    size_t n, next;
    ae_sir_outcome *out;
    size_t finished;
    const ae_sir_batch_options *o;
    int stop_after, failures_in_row;
    bool stop;
    int fatal_rc;   /* first non-provider error */
    ae_error fatal; /* its message */
    size_t last_failed;
    pthread_mutex_t mu;
} batch;

typedef struct worker {
    batch *b;
    sir_http *http; /* NULL for the local generators */
    bool caller;    /* the thread that called the batch: it reports progress */
} worker;

static void one_line(char *s)
{
    for (; *s; s++)
        if (*s == '\n' || *s == '\r' || *s == '\t') *s = ' ';
}

static int generate_with(ae_sir_provider *p, sir_http *http, const ae_symbol *sym, ae_sir *out,
                         ae_error *err)
{
    if (p->kind == KIND_HTTP) return sir_http_generate(http, sym, out, err);
    return ae_sir_provider_generate(p, sym, out, err);
}

static void *work(void *arg)
{
    worker *w = arg;
    batch *b = w->b;
    for (;;) {
        pthread_mutex_lock(&b->mu);
        size_t i = b->next;
        bool done = b->stop || i >= b->n;
        if (!done) b->next++;
        pthread_mutex_unlock(&b->mu);
        if (done) break;
        ae_sir_outcome *o = &b->out[i];
        ae_error e = {0};
        int rc = generate_with(b->p, w->http, b->syms[i], &o->sir, &e);
        if (rc < 0) {
            ae_sir_clear(&o->sir);
            snprintf(o->error, sizeof o->error, "%s", e.message[0] ? e.message : ae_strerror(rc));
            one_line(o->error);
        }
        pthread_mutex_lock(&b->mu);
        o->attempted = true;
        o->rc = rc;
        size_t finished = ++b->finished;
        if (rc == 0) {
            b->failures_in_row = 0;
        } else if (rc == AE_EPROVIDER) {
            b->last_failed = i;
            if (b->stop_after > 0 && ++b->failures_in_row >= b->stop_after) b->stop = true;
        } else if (!b->fatal_rc) {
            b->fatal_rc = rc;
            b->fatal = e;
            b->stop = true;
        }
        pthread_mutex_unlock(&b->mu);
        if (w->caller && b->o && b->o->progress) b->o->progress(b->o->progress_ctx, finished, b->n);
    }
    return NULL;
}

int ae_sir_provider_generate_batch(ae_sir_provider *p, const ae_symbol *const *syms, size_t n,
                                   const ae_sir_batch_options *o, ae_sir_outcome *out,
                                   ae_error *err)
{
    AE_RETURN_IF(!p || (n && (!syms || !out)), err, AE_EINVAL,
                 "ae_sir_provider_generate_batch: provider, symbols and outcomes are required");
    int conc = o && o->concurrency ? o->concurrency : AE_SIR_CONCURRENCY_DEFAULT;
    AE_RETURN_IF(conc < AE_SIR_CONCURRENCY_MIN || conc > AE_SIR_CONCURRENCY_MAX, err, AE_EINVAL,
                 "SIR concurrency must be between %d and %d, not %d", AE_SIR_CONCURRENCY_MIN,
                 AE_SIR_CONCURRENCY_MAX, conc);
    memset(out, 0, n * sizeof *out);
    if (!n) return 0;
    size_t nw = (size_t)conc < n ? (size_t)conc : n;
    /* Handles for workers 1..nw-1, opened here, before any thread runs. */
    while (p->kind == KIND_HTTP && (size_t)p->n_workers + 1 < nw) {
        sir_http *h;
        AE_TRY(sir_http_open(&p->opts, &h, err));
        p->workers[p->n_workers++] = h;
    }
    batch b = {.p = p,
               .syms = syms,
               .n = n,
               .out = out,
               .o = o,
               .stop_after = o && o->stop_after ? o->stop_after : AE_SIR_STOP_AFTER_DEFAULT};
    pthread_mutex_init(&b.mu, NULL);
    worker ws[AE_SIR_CONCURRENCY_MAX];
    pthread_t tids[AE_SIR_CONCURRENCY_MAX];
    size_t started = 0;
    for (size_t i = 0; i < nw; i++)
        ws[i] = (worker){.b = &b, .http = i == 0 ? p->http : p->workers[i - 1], .caller = i == 0};
    /* Worker 0 is this thread; a thread that cannot start leaves its share to the others. */
    for (size_t i = 1; i < nw; i++)
        if (pthread_create(&tids[started], NULL, work, &ws[i]) == 0) started++;
    work(&ws[0]);
    for (size_t i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    pthread_mutex_destroy(&b.mu);
    if (o && o->progress) o->progress(o->progress_ctx, b.finished, n);
    if (b.fatal_rc) return ae_fail(err, b.fatal_rc, "%s", b.fatal.message);
    if (b.stop)
        return ae_fail(err, AE_EPROVIDER,
                       "SIR provider %s failed for %d symbols in a row, stopping (%zu of %zu "
                       "symbols not attempted); last error: %s",
                       p->name, b.failures_in_row, n - b.next, n, out[b.last_failed].error);
    return 0;
}

void ae_sir_provider_close(ae_sir_provider *p)
{
    if (!p) return;
    sir_http_close(p->http);
    for (int i = 0; i < p->n_workers; i++)
        sir_http_close(p->workers[i]);
    free(p->endpoint);
    free(p->api_key_env);
    free(p->name);
    free(p->model);
    free(p);
}
