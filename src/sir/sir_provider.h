/* One handle for every SIR generator: "mock", "static" (also "auto") and the HTTP models
 * ("openai_compat", "ollama", "qwen3_local").  The pipeline opens one per run, asks it for the
 * name and model it stores next to each SIR, and calls generate per changed symbol.
 *
 * HTTP providers (provider_http.c) send the symbol (language, kind, qualified name, file,
 * signature, source truncated to max_source bytes) to a chat endpoint asking for the SIR JSON,
 * and accept only a reply that ae_sir_from_json validates (intent non-blank, lists of strings,
 * confidence in [0, 1]).  A bad reply is asked for again, up to max_attempts in all, then
 * reported as AE_EPROVIDER; it is never returned as a record.  Transport retries (429, 5xx,
 * timeouts) happen below, in util/http.c. */
#ifndef AE_SIR_SIR_PROVIDER_H
#define AE_SIR_SIR_PROVIDER_H

#include "config/config.h"
#include "sir/sir.h"
#include "symbols/symbol.h"

#include <aether/error.h>
#include <stdbool.h>
#include <stddef.h>

#define AE_SIR_HTTP_DEFAULT_ATTEMPTS   3
#define AE_SIR_HTTP_MAX_ATTEMPTS       10
#define AE_SIR_HTTP_DEFAULT_MAX_SOURCE 12000 /* bytes of source in a prompt */
#define AE_SIR_HTTP_MIN_MAX_SOURCE     256
#define AE_SIR_HTTP_OLLAMA_ENDPOINT    "http://127.0.0.1:11434"

typedef struct ae_sir_provider ae_sir_provider;

typedef struct ae_sir_provider_options {
    const char *provider; /* auto | static | mock | openai_compat | ollama | qwen3_local */
    const char *model;    /* required for HTTP providers */
    const char *endpoint; /* openai_compat: required; ollama: default AE_SIR_HTTP_OLLAMA_ENDPOINT */
    const char *api_key_env; /* name of the env var holding the key; NULL: no key */
    int max_attempts;        /* 0: AE_SIR_HTTP_DEFAULT_ATTEMPTS (valid-reply attempts) */
    size_t max_source;       /* 0: AE_SIR_HTTP_DEFAULT_MAX_SOURCE */
} ae_sir_provider_options;

/* From the [inference] section.  Unknown provider -> AE_ECONFIG naming the accepted values;
 * an HTTP provider without a model (or openai_compat without an endpoint) -> AE_ECONFIG.
 * Opening sends nothing over the network.  Close with ae_sir_provider_close. */
int ae_sir_provider_open(const ae_config *c, ae_sir_provider **out, ae_error *err);
int ae_sir_provider_open_options(const ae_sir_provider_options *o, ae_sir_provider **out,
                                 ae_error *err);

/* What the pipeline stores with each SIR: name is "mock", "static" ("auto" opens "static"),
 * or the configured HTTP provider name; model is "mock", "static-v1" or the configured model.
 * Borrowed until close. */
const char *ae_sir_provider_name(const ae_sir_provider *p);
const char *ae_sir_provider_model(const ae_sir_provider *p);

/* Fills a zeroed *out (caller frees with ae_sir_clear, also after a failure, when it is
 * empty).  The symbol is borrowed. */
int ae_sir_provider_generate(ae_sir_provider *p, const ae_symbol *sym, ae_sir *out, ae_error *err);

/* Many symbols at once, with up to `concurrency` generations in flight (threads; each has
 * its own HTTP connection, the local generators are pure).  out[i] always belongs to syms[i],
 * whatever the order in which generations finish, so what the caller writes from out[] does
 * not depend on the concurrency.
 *
 * Failure policy: a provider failure for one symbol (AE_EPROVIDER: the model gave no valid SIR,
 * or the transport failed after its retries) is recorded in out[i] and the others go on.
 * stop_after such failures in a row (in completion order, with no success between) mean the
 * provider itself is failing (endpoint down, model missing, key rejected): the batch stops,
 * the remaining symbols are not attempted, and the call returns AE_EPROVIDER with the count
 * and the last error.  Any other error (out of memory) stops the batch and is returned. */
#define AE_SIR_CONCURRENCY_DEFAULT 2
#define AE_SIR_CONCURRENCY_MIN     1
#define AE_SIR_CONCURRENCY_MAX     64
#define AE_SIR_STOP_AFTER_DEFAULT  5

typedef struct ae_sir_batch_options {
    int concurrency; /* 0: AE_SIR_CONCURRENCY_DEFAULT; else 1..AE_SIR_CONCURRENCY_MAX */
    int stop_after;  /* 0: AE_SIR_STOP_AFTER_DEFAULT; < 0: never stop */
    /* Generations finished so far; called on the calling thread only (never concurrently),
     * after each of its own generations and once at the end.  May be NULL. */
    void (*progress)(void *ctx, size_t done, size_t total);
    void *progress_ctx;
} ae_sir_batch_options;

typedef struct ae_sir_outcome {
    bool attempted;                   /* false: the batch stopped before this symbol */
    int rc;                           /* 0: sir holds the record; < 0: error says why */
    ae_sir sir;                       /* caller frees with ae_sir_clear (always safe) */
    char error[AE_ERROR_MESSAGE_MAX]; /* one line */
} ae_sir_outcome;

/* out[0..n-1] are filled (zeroed first).  Returns 0 when every symbol was attempted (some may
 * have failed: see out[i].rc), or < 0 as above. */
int ae_sir_provider_generate_batch(ae_sir_provider *p, const ae_symbol *const *syms, size_t n,
                                   const ae_sir_batch_options *o, ae_sir_outcome *out,
                                   ae_error *err);

/* Accepts NULL. */
void ae_sir_provider_close(ae_sir_provider *p);

#endif
