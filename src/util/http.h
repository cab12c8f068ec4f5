/* A small HTTP client for the model providers: POST a JSON body, get a JSON body back.
 *
 * One ae_http_client wraps one libcurl easy handle (connections are reused across calls).
 * Every call is bounded: a connect timeout, a total timeout, a response size cap, and at most
 * 1 + retries attempts.  Retried: HTTP 429, 5xx, connection failures and timeouts, with
 * exponential backoff (backoff_ms, 2x per attempt, capped at AE_HTTP_MAX_BACKOFF_MS); a
 * Retry-After of at most max_retry_after_s seconds replaces the backoff, a longer one ends
 * the retries.  Other statuses (400, 401, 404 ...) are not retried.
 *
 * Errors are AE_EPROVIDER naming the URL, the HTTP status or the transport failure, the
 * number of attempts and the start of the response body.  The API key is sent only in the
 * Authorization header; it is never part of an error message (a body that echoes it has it
 * replaced by "[redacted]").
 *
 * A client is not thread-safe: use one per thread.
 *
 * Environment overrides (for tests and slow hosts; values in milliseconds or counts):
 *   AE_HTTP_CONNECT_TIMEOUT_MS, AE_HTTP_TIMEOUT_MS, AE_HTTP_RETRIES, AE_HTTP_BACKOFF_MS. */
#ifndef AE_UTIL_HTTP_H
#define AE_UTIL_HTTP_H

#include <aether/error.h>
#include <stddef.h>

#define AE_HTTP_DEFAULT_CONNECT_TIMEOUT_MS 5000
#define AE_HTTP_DEFAULT_TIMEOUT_MS         60000
#define AE_HTTP_DEFAULT_RETRIES            3
#define AE_HTTP_MAX_RETRIES                10
#define AE_HTTP_DEFAULT_BACKOFF_MS         500
#define AE_HTTP_MAX_BACKOFF_MS             8000
#define AE_HTTP_DEFAULT_MAX_RETRY_AFTER_S  10
#define AE_HTTP_DEFAULT_MAX_RESPONSE       (64u << 20)

typedef struct ae_http_options {
    long connect_timeout_ms; /* 0: default (or env) */
    long timeout_ms;         /* 0: default (or env); whole request, per attempt */
    int retries;             /* -1: default (or env); 0..AE_HTTP_MAX_RETRIES */
    long backoff_ms;         /* 0: default (or env) */
    long max_retry_after_s;  /* 0: default */
    size_t max_response;     /* 0: default */
} ae_http_options;

/* Counters for tests and progress output. */
typedef struct ae_http_stats {
    unsigned long requests; /* calls to ae_http_post_json */
    unsigned long attempts; /* HTTP attempts, including retries */
    unsigned long retries;  /* attempts after the first of a call */
} ae_http_stats;

typedef struct ae_http_response {
    long status; /* last HTTP status; 0 when no response arrived */
    char *body;  /* NUL-terminated; caller frees with ae_http_response_free */
    size_t len;
} ae_http_response;

typedef struct ae_http_client ae_http_client;

/* o may be NULL (all defaults).  api_key may be NULL (no Authorization header); it is copied
 * and wiped on free.  Close with ae_http_client_free. */
int ae_http_client_new(const ae_http_options *o, const char *api_key, ae_http_client **out,
                       ae_error *err);
void ae_http_client_free(ae_http_client *c);

/* POSTs body (application/json) to url.  Returns 0 for a 2xx response with *resp filled;
 * otherwise AE_EPROVIDER (or AE_ENOMEM) and *resp holds the last status and body (freed by
 * ae_http_response_free either way). */
int ae_http_post_json(ae_http_client *c, const char *url, const char *body, ae_http_response *resp,
                      ae_error *err);
void ae_http_response_free(ae_http_response *r);

const ae_http_stats *ae_http_client_stats(const ae_http_client *c);

/* Resolves the key named by an api_key_env setting: env_name NULL or "" -> *key = NULL;
 * a named variable that is unset or empty -> AE_ECONFIG naming the variable (never a value).
 * *key is borrowed from the environment. */
int ae_http_api_key(const char *env_name, const char *what, const char **key, ae_error *err);

#endif
