/* POST-JSON over libcurl with bounded retries (see http.h for the contract).
 *
 * 1. curl_global_init runs once under pthread_once; handles use CURLOPT_NOSIGNAL so timeouts
 *    never raise SIGALRM in the host program.
 * 2. The response is capped in the write callback (returning short aborts the transfer), so a
 *    runaway server cannot make us allocate without bound.
 * 3. Loopback is never proxied: a local Ollama behind a corporate http_proxy still works.
 *    The user's no_proxy list is kept and loopback appended to it.
 * 4. The key lives in one curl_slist header and in a copy that is wiped on free; error
 *    messages are built from the URL, status and a redacted body prefix only.
 * 5. libcurl is opened with dlopen by the first client, not linked: most processes (every
 *    search with an offline embedder) never speak HTTP, and linking libcurl and its ~25
 *    dependencies cost each process ~6 ms of CPU at start-up (docs/BENCHMARKS.md,
 *    "Fresh process").  The header gives the types and constants only. */
#include "util/http.h"

#include "util/err.h"
#include "util/mem.h"

#define CURL_DISABLE_TYPECHECK 1 /* calls go through the table below */
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BODY_SNIPPET 200

struct ae_http_client {
    CURL *curl;
    struct curl_slist *headers;
    char *api_key;
    char *noproxy;
    ae_http_options o;
    ae_http_stats stats;
};

#define CURL_SONAME "libcurl.so.4"

/* The libcurl functions used here, resolved at the first client (note 5). */
static struct {
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *);
    void (*easy_reset)(CURL *);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    const char *(*easy_strerror)(CURLcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
} cu;

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_OK;
static char load_error[256]; /* "" = loaded */

static void global_init(void)
{
    void *h = dlopen(CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        snprintf(load_error, sizeof load_error,
                 "cannot load %s (%s); install libcurl (Debian: libcurl4)", CURL_SONAME,
                 why ? why : "unknown reason");
        return;
    }
    static const char *const names[] = {
        "curl_global_init",  "curl_easy_init",     "curl_easy_cleanup", "curl_easy_reset",
        "curl_easy_setopt",  "curl_easy_perform",  "curl_easy_getinfo", "curl_easy_strerror",
        "curl_slist_append", "curl_slist_free_all"};
    void *p[sizeof names / sizeof *names];
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        p[i] = dlsym(h, names[i]);
        if (!p[i]) {
            snprintf(load_error, sizeof load_error, "%s has no symbol %s", CURL_SONAME, names[i]);
            return;
        }
    }
    /* object pointers from dlsym into function pointers: memcpy, as C11 has no such cast */
    memcpy(&cu.global_init, &p[0], sizeof p[0]);
    memcpy(&cu.easy_init, &p[1], sizeof p[1]);
    memcpy(&cu.easy_cleanup, &p[2], sizeof p[2]);
    memcpy(&cu.easy_reset, &p[3], sizeof p[3]);
    memcpy(&cu.easy_setopt, &p[4], sizeof p[4]);
    memcpy(&cu.easy_perform, &p[5], sizeof p[5]);
    memcpy(&cu.easy_getinfo, &p[6], sizeof p[6]);
    memcpy(&cu.easy_strerror, &p[7], sizeof p[7]);
    memcpy(&cu.slist_append, &p[8], sizeof p[8]);
    memcpy(&cu.slist_free_all, &p[9], sizeof p[9]);
    global_rc = cu.global_init(CURL_GLOBAL_DEFAULT);
}

static long env_long(const char *name, long def, long min, long max)
{
    const char *v = getenv(name);
    if (!v || !*v) return def;
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || *end || x < min || x > max) return def;
    return x;
}

static void resolve_options(const ae_http_options *in, ae_http_options *o)
{
    ae_http_options z = {.retries = -1};
    if (!in) in = &z;
    *o = *in;
    if (o->connect_timeout_ms <= 0)
        o->connect_timeout_ms =
            env_long("AE_HTTP_CONNECT_TIMEOUT_MS", AE_HTTP_DEFAULT_CONNECT_TIMEOUT_MS, 1, 3600000);
    if (o->timeout_ms <= 0)
        o->timeout_ms = env_long("AE_HTTP_TIMEOUT_MS", AE_HTTP_DEFAULT_TIMEOUT_MS, 1, 86400000);
    if (o->retries < 0)
        o->retries =
            (int)env_long("AE_HTTP_RETRIES", AE_HTTP_DEFAULT_RETRIES, 0, AE_HTTP_MAX_RETRIES);
    if (o->retries > AE_HTTP_MAX_RETRIES) o->retries = AE_HTTP_MAX_RETRIES;
    if (o->backoff_ms <= 0)
        o->backoff_ms = env_long("AE_HTTP_BACKOFF_MS", AE_HTTP_DEFAULT_BACKOFF_MS, 1, 600000);
    if (o->max_retry_after_s <= 0) o->max_retry_after_s = AE_HTTP_DEFAULT_MAX_RETRY_AFTER_S;
    if (o->max_response == 0) o->max_response = AE_HTTP_DEFAULT_MAX_RESPONSE;
}

static char *build_noproxy(void)
{
    const char *user = getenv("no_proxy");
    if (!user || !*user) user = getenv("NO_PROXY");
    if (user && *user) return ae_asprintf("%s,127.0.0.1,localhost,::1", user);
    return ae_strdup("127.0.0.1,localhost,::1");
}

int ae_http_client_new(const ae_http_options *o, const char *api_key, ae_http_client **out,
                       ae_error *err)
{
    AE_RETURN_IF(!out, err, AE_EINVAL, "ae_http_client_new: out is required");
    *out = NULL;
    pthread_once(&global_once, global_init);
    AE_RETURN_IF(load_error[0], err, AE_EPROVIDER, "%s", load_error);
    AE_RETURN_IF(global_rc != CURLE_OK, err, AE_EPROVIDER, "libcurl init failed: %s",
                 cu.easy_strerror(global_rc));
    ae_http_client *c = calloc(1, sizeof *c);
    AE_RETURN_IF(!c, err, AE_ENOMEM, "out of memory creating an http client");
    int rc = 0;
    resolve_options(o, &c->o);
    c->curl = cu.easy_init();
    if (!c->curl) AE_FAIL(err, AE_EPROVIDER, "libcurl: cannot create a handle");
    c->noproxy = build_noproxy();
    if (!c->noproxy) AE_FAIL(err, AE_ENOMEM, "out of memory creating an http client");
    struct curl_slist *h = cu.slist_append(NULL, "Content-Type: application/json");
    if (h) c->headers = h, h = cu.slist_append(c->headers, "Accept: application/json");
    if (h) c->headers = h, h = cu.slist_append(c->headers, "Expect:");
    if (h && api_key && *api_key) {
        char *line = ae_asprintf("Authorization: Bearer %s", api_key);
        c->api_key = ae_strdup(api_key);
        if (!line || !c->api_key) {
            free(line);
            AE_FAIL(err, AE_ENOMEM, "out of memory creating an http client");
        }
        h = cu.slist_append(c->headers, line);
        memset(line, 0, strlen(line));
        free(line);
    }
    if (!h) AE_FAIL(err, AE_ENOMEM, "out of memory creating an http client");
    c->headers = h;
    *out = c;
    return 0;
cleanup:
    ae_http_client_free(c);
    return rc;
}

void ae_http_client_free(ae_http_client *c)
{
    if (!c) return;
    if (c->curl) cu.easy_cleanup(c->curl);
    /* The Authorization line is inside the slist; wipe every header before freeing. */
    for (struct curl_slist *s = c->headers; s; s = s->next)
        if (s->data) memset(s->data, 0, strlen(s->data));
    cu.slist_free_all(c->headers);
    if (c->api_key) memset(c->api_key, 0, strlen(c->api_key));
    free(c->api_key);
    free(c->noproxy);
    free(c);
}

const ae_http_stats *ae_http_client_stats(const ae_http_client *c)
{
    return c ? &c->stats : NULL;
}

void ae_http_response_free(ae_http_response *r)
{
    if (!r) return;
    free(r->body);
    memset(r, 0, sizeof *r);
}

typedef struct sink {
    ae_buf buf;
    size_t cap;
    int overflow, nomem;
} sink;

static size_t on_data(char *p, size_t size, size_t nmemb, void *ud)
{
    sink *s = ud;
    size_t n = size * nmemb;
    if (s->buf.len + n > s->cap) {
        s->overflow = 1;
        return 0;
    }
    if (ae_buf_append(&s->buf, p, n) < 0) {
        s->nomem = 1;
        return 0;
    }
    return n;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int transient_curl(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_COULDNT_RESOLVE_HOST:
        return 1;
    default:
        return 0;
    }
}

/* A printable, key-free prefix of a response body for error messages. */
static void snippet(const ae_http_client *c, const char *body, size_t len, char *out, size_t cap)
{
    out[0] = 0;
    if (!body || !len) return;
    char *copy = ae_strndup(body, len);
    if (!copy) return;
    if (c->api_key && *c->api_key) {
        size_t kl = strlen(c->api_key);
        char *hit;
        while ((hit = strstr(copy, c->api_key)) != NULL) {
            /* Same length or shorter, so it fits in place. */
            static const char red[] = "[redacted]";
            size_t rl = kl < sizeof red - 1 ? kl : sizeof red - 1;
            memcpy(hit, red, rl);
            memmove(hit + rl, hit + kl, strlen(hit + kl) + 1);
        }
    }
    size_t i = 0, j = 0;
    for (; copy[i] && j + 4 < cap; i++) {
        unsigned char ch = (unsigned char)copy[i];
        out[j++] = (ch < 0x20 || ch == 0x7f) ? ' ' : (char)ch;
    }
    if (copy[i]) memcpy(out + j, "...", 3), j += 3;
    out[j] = 0;
    free(copy);
}

int ae_http_post_json(ae_http_client *c, const char *url, const char *body, ae_http_response *resp,
                      ae_error *err)
{
    AE_RETURN_IF(!c || !url || !body || !resp, err, AE_EINVAL,
                 "ae_http_post_json: client, url, body and resp are required");
    memset(resp, 0, sizeof *resp);
    c->stats.requests++;
    CURL *h = c->curl;
    char curl_msg[CURL_ERROR_SIZE];
    long backoff = c->o.backoff_ms;
    int attempts = 0;
    for (;;) {
        sink s = {.cap = c->o.max_response};
        curl_msg[0] = 0;
        cu.easy_reset(h);
        cu.easy_setopt(h, CURLOPT_URL, url);
        cu.easy_setopt(h, CURLOPT_POST, 1L);
        cu.easy_setopt(h, CURLOPT_POSTFIELDS, body);
        cu.easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
        cu.easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);
        cu.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
        cu.easy_setopt(h, CURLOPT_WRITEDATA, &s);
        cu.easy_setopt(h, CURLOPT_ERRORBUFFER, curl_msg);
        cu.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        cu.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->o.connect_timeout_ms);
        cu.easy_setopt(h, CURLOPT_TIMEOUT_MS, c->o.timeout_ms);
        cu.easy_setopt(h, CURLOPT_NOPROXY, c->noproxy);
        cu.easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
        cu.easy_setopt(h, CURLOPT_USERAGENT, "aether");
#if LIBCURL_VERSION_NUM >= 0x075500
        cu.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
        cu.easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
        CURLcode cc = cu.easy_perform(h);
        attempts++;
        c->stats.attempts++;
        if (attempts > 1) c->stats.retries++;
        long status = 0;
        cu.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        free(resp->body);
        resp->status = status;
        resp->len = s.buf.len;
        resp->body = s.buf.data ? s.buf.data : ae_strdup("");
        if (!resp->body) return ae_fail(err, AE_ENOMEM, "out of memory reading %s", url);

        if (s.nomem) return ae_fail(err, AE_ENOMEM, "out of memory reading the reply of %s", url);
        if (s.overflow)
            return ae_fail(err, AE_EPROVIDER, "%s: response larger than %zu bytes", url,
                           c->o.max_response);
        if (cc == CURLE_OK && status >= 200 && status < 300) return 0;

        int transient = cc != CURLE_OK ? transient_curl(cc) : (status == 429 || status >= 500);
        long wait = backoff;
        curl_off_t retry_after = -1;
#if LIBCURL_VERSION_NUM >= 0x074200 /* CURLINFO_RETRY_AFTER: 7.66.0 */
        if (cc == CURLE_OK && cu.easy_getinfo(h, CURLINFO_RETRY_AFTER, &retry_after) != CURLE_OK)
            retry_after = -1;
#endif
        if (retry_after > 0) {
            if (retry_after > c->o.max_retry_after_s)
                transient = 0; /* the server asks for longer than we wait: report it */
            else
                wait = (long)retry_after * 1000;
        }
        if (transient && attempts <= c->o.retries) {
            sleep_ms(wait);
            backoff = backoff * 2 > AE_HTTP_MAX_BACKOFF_MS ? AE_HTTP_MAX_BACKOFF_MS : backoff * 2;
            continue;
        }

        char snip[BODY_SNIPPET + 8];
        snippet(c, resp->body, resp->len, snip, sizeof snip);
        const char *tries = attempts == 1 ? "attempt" : "attempts";
        if (cc != CURLE_OK)
            return ae_fail(err, AE_EPROVIDER, "POST %s failed after %d %s: %s%s%s", url, attempts,
                           tries, cu.easy_strerror(cc), curl_msg[0] ? ": " : "", curl_msg);
        if (retry_after > c->o.max_retry_after_s)
            return ae_fail(err, AE_EPROVIDER,
                           "POST %s: HTTP %ld after %d %s; the server asks to retry after %ld s "
                           "(more than %ld s): %s",
                           url, status, attempts, tries, (long)retry_after, c->o.max_retry_after_s,
                           snip);
        const char *hint = "";
        if (status == 401 || status == 403) hint = " (check the key named by api_key_env)";
        if (status == 404) hint = " (check endpoint and model)";
        return ae_fail(err, AE_EPROVIDER, "POST %s: HTTP %ld after %d %s%s: %s", url, status,
                       attempts, tries, hint, snip[0] ? snip : "(empty body)");
    }
}

int ae_http_api_key(const char *env_name, const char *what, const char **key, ae_error *err)
{
    *key = NULL;
    if (!env_name || !*env_name) return 0;
    const char *v = getenv(env_name);
    AE_RETURN_IF(!v || !*v, err, AE_ECONFIG,
                 "%s api_key_env names the environment variable %s, which is not set",
                 what ? what : "provider", env_name);
    *key = v;
    return 0;
}
