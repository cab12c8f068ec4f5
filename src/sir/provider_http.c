/* SIR generation by a chat model over HTTP: OpenAI-compatible chat completions and Ollama chat.
 *
 * 1. One prompt shape for both APIs: a system message fixing the reply to one JSON object with
 *    exactly the SIR keys, and a user message with the symbol (source cut to max_source bytes
 *    at a character boundary; invalid UTF-8 bytes become '?', since JSON requires UTF-8).
 * 2. The reply is the message content; a ```json fence or prose around the object is
 *    tolerated (the outermost {...} is taken), then ae_sir_from_json decides.  An invalid
 *    reply is asked for again (temperature 0 makes this mostly useful for flaky servers and
 *    sampling backends) up to max_attempts, then reported with the last reason.
 * 3. response_format {"type":"json_object"} is sent to OpenAI-compatible servers; one that
 *    answers HTTP 400 naming response_format gets the request again without it, and this
 *    handle stops sending it.  Ollama gets "format":"json" and "stream":false. */
#include "sir/sir_provider.h"

#include "sir/sir_internal.h"
#include "util/err.h"
#include "util/http.h"
#include "util/mem.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct sir_http {
    ae_http_client *http;
    char *url, *model, *provider;
    bool openai;
    bool no_response_format;
    int max_attempts;
    size_t max_source;
};

AE_STATIC char *sir_http_reply_json(const char *content);
AE_STATIC char *sir_http_user_prompt(const ae_symbol *sym, size_t max_source);

static const char SYSTEM_PROMPT[] =
    "You summarize one code symbol as a JSON object for a code search index. Reply with the "
    "JSON object only, no prose and no code fence, with exactly these keys:\n"
    "  \"intent\": string, one sentence saying what the symbol does (never empty)\n"
    "  \"inputs\": array of strings, the parameters or data it reads\n"
    "  \"outputs\": array of strings, what it returns or produces\n"
    "  \"side_effects\": array of strings, state it changes outside itself (I/O, globals)\n"
    "  \"dependencies\": array of strings, functions, types and modules it relies on\n"
    "  \"error_modes\": array of strings, how it can fail\n"
    "  \"confidence\": number between 0 and 1, how sure you are of this summary\n"
    "Use [] for an empty list. Do not add other keys.";

static int ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

static char *chat_url(const char *endpoint, bool openai)
{
    size_t n = strlen(endpoint);
    while (n > 0 && endpoint[n - 1] == '/')
        n--;
    int len = (int)n;
    if (openai) {
        if (ends_with(endpoint, n, "/chat/completions")) return ae_strndup(endpoint, n);
        if (ends_with(endpoint, n, "/v1"))
            return ae_asprintf("%.*s/chat/completions", len, endpoint);
        return ae_asprintf("%.*s/v1/chat/completions", len, endpoint);
    }
    if (ends_with(endpoint, n, "/api/chat")) return ae_strndup(endpoint, n);
    return ae_asprintf("%.*s/api/chat", len, endpoint);
}

/* Appends up to max bytes of s, cut at a character boundary, invalid bytes as '?'. */
static int append_utf8(ae_buf *b, const char *s, size_t max, bool *truncated)
{
    *truncated = false;
    size_t used = 0;
    while (*s) {
        size_t ok = sir_utf8_valid_prefix(s);
        if (used + ok > max) {
            /* Step back to a character start within the valid prefix. */
            ok = max - used;
            while (ok > 0 && ((unsigned char)s[ok] & 0xC0) == 0x80)
                ok--;
            *truncated = true;
        }
        if (ae_buf_append(b, s, ok) < 0) return AE_ENOMEM;
        used += ok;
        s += ok;
        if (*truncated) return 0;
        if (*s) { /* an invalid byte */
            if (used + 1 > max) {
                *truncated = true;
                return 0;
            }
            if (ae_buf_append(b, "?", 1) < 0) return AE_ENOMEM;
            used++;
            s++;
        }
    }
    return 0;
}

AE_STATIC char *sir_http_user_prompt(const ae_symbol *sym, size_t max_source)
{
    ae_buf b = {0};
    bool cut = false;
    const struct {
        const char *label, *value;
        size_t max;
    } fields[] = {
        {"Language: ", sym->language, 64},
        {"\nKind: ", sym->kind, 64},
        {"\nQualified name: ", sym->qualified_name, 1024},
        {"\nFile: ", sym->file_path, 1024},
        {"\nSignature: ", sym->signature, 4096},
        {"\nDoc comment: ", sym->doc, 4096},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (!fields[i].value) continue;
        if (ae_buf_puts(&b, fields[i].label) < 0 ||
            append_utf8(&b, fields[i].value, fields[i].max, &cut) < 0)
            goto oom;
    }
    if (ae_buf_printf(&b, "\nSource (lines %d-%d):\n```\n", sym->start_line, sym->end_line) < 0 ||
        append_utf8(&b, sym->source ? sym->source : "", max_source, &cut) < 0)
        goto oom;
    if (cut && ae_buf_printf(&b, "\n... (truncated to %zu bytes)", max_source) < 0) goto oom;
    if (ae_buf_puts(&b, "\n```\nReply with the SIR JSON object.") < 0) goto oom;
    return b.data;
oom:
    ae_buf_free(&b);
    return NULL;
}

/* The JSON object inside a model's reply: trims, drops a ``` fence, then takes the outermost
 * {...}.  Allocated; NULL when there is no object (or no memory). */
AE_STATIC char *sir_http_reply_json(const char *content)
{
    const char *a = strchr(content, '{');
    const char *z = strrchr(content, '}');
    if (!a || !z || z < a) return NULL;
    return ae_strndup(a, (size_t)(z - a + 1));
}

int sir_http_open(const ae_sir_provider_options *o, sir_http **out, ae_error *err)
{
    *out = NULL;
    const char *name = o->provider;
    bool openai = strcmp(name, "openai_compat") == 0;
    AE_RETURN_IF(!o->model || !*o->model, err, AE_ECONFIG,
                 "[inference] model is required for provider '%s' (e.g. model = \"%s\")", name,
                 openai ? "gpt-4o-mini" : "qwen2.5-coder:7b");
    const char *endpoint = o->endpoint && *o->endpoint ? o->endpoint : NULL;
    if (!endpoint && !openai) endpoint = AE_SIR_HTTP_OLLAMA_ENDPOINT;
    AE_RETURN_IF(!endpoint, err, AE_ECONFIG,
                 "[inference] endpoint is required for provider '%s' (e.g. endpoint = "
                 "\"http://127.0.0.1:8080\")",
                 name);
    AE_RETURN_IF(strncmp(endpoint, "http://", 7) != 0 && strncmp(endpoint, "https://", 8) != 0, err,
                 AE_ECONFIG, "[inference] endpoint '%s' must start with http:// or https://",
                 endpoint);
    AE_RETURN_IF(o->max_attempts < 0 || o->max_attempts > AE_SIR_HTTP_MAX_ATTEMPTS, err, AE_EINVAL,
                 "sir max_attempts must be between 1 and %d, not %d", AE_SIR_HTTP_MAX_ATTEMPTS,
                 o->max_attempts);
    AE_RETURN_IF(o->max_source && o->max_source < AE_SIR_HTTP_MIN_MAX_SOURCE, err, AE_EINVAL,
                 "sir max_source must be at least %d bytes, not %zu", AE_SIR_HTTP_MIN_MAX_SOURCE,
                 o->max_source);
    const char *key;
    AE_TRY(ae_http_api_key(o->api_key_env, "[inference]", &key, err));

    sir_http *h = calloc(1, sizeof *h);
    AE_RETURN_IF(!h, err, AE_ENOMEM, "out of memory opening SIR provider '%s'", name);
    int rc = 0;
    h->openai = openai;
    h->max_attempts = o->max_attempts ? o->max_attempts : AE_SIR_HTTP_DEFAULT_ATTEMPTS;
    h->max_source = o->max_source ? o->max_source : AE_SIR_HTTP_DEFAULT_MAX_SOURCE;
    h->url = chat_url(endpoint, openai);
    h->model = ae_strdup(o->model);
    h->provider = ae_strdup(name);
    if (!h->url || !h->model || !h->provider)
        AE_FAIL(err, AE_ENOMEM, "out of memory opening SIR provider '%s'", name);
    AE_CHECK(ae_http_client_new(NULL, key, &h->http, err));
    *out = h;
    return 0;
cleanup:
    sir_http_close(h);
    return rc;
}

void sir_http_close(sir_http *h)
{
    if (!h) return;
    ae_http_client_free(h->http);
    free(h->url);
    free(h->model);
    free(h->provider);
    free(h);
}

static char *request_body(sir_http *h, const char *user)
{
    json_t *req =
        json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}]}", "model", h->model, "messages", "role",
                  "system", "content", SYSTEM_PROMPT, "role", "user", "content", user);
    if (!req) return NULL;
    int bad = 0;
    if (h->openai) {
        bad |= json_object_set_new(req, "temperature", json_integer(0));
        if (!h->no_response_format)
            bad |= json_object_set_new(req, "response_format",
                                       json_pack("{s:s}", "type", "json_object"));
    } else {
        bad |= json_object_set_new(req, "format", json_string("json"));
        bad |= json_object_set_new(req, "stream", json_false());
        bad |= json_object_set_new(req, "options", json_pack("{s:i}", "temperature", 0));
    }
    char *body = bad ? NULL : json_dumps(req, JSON_COMPACT);
    json_decref(req);
    return body;
}

/* One chat round trip: *content is the reply text (allocated) or NULL with *why set when the
 * reply has the wrong shape (that is retryable).  Transport errors return < 0. */
static int chat_once(sir_http *h, const char *user, char **content, char *why, size_t why_cap,
                     ae_error *err)
{
    *content = NULL;
    for (;;) {
        char *body = request_body(h, user);
        AE_RETURN_IF(!body, err, AE_ENOMEM, "out of memory encoding a chat request");
        ae_http_response resp;
        int rc = ae_http_post_json(h->http, h->url, body, &resp, err);
        free(body);
        if (rc < 0 && resp.status == 400 && h->openai && !h->no_response_format && resp.body &&
            strstr(resp.body, "response_format")) {
            h->no_response_format = true;
            ae_http_response_free(&resp);
            continue;
        }
        if (rc < 0) {
            ae_http_response_free(&resp);
            return rc;
        }
        json_error_t jerr;
        json_t *root = json_loadb(resp.body, resp.len, 0, &jerr);
        ae_http_response_free(&resp);
        json_t *msg = h->openai
                          ? json_object_get(
                                json_object_get(json_array_get(json_object_get(root, "choices"), 0),
                                                "message"),
                                "content")
                          : json_object_get(json_object_get(root, "message"), "content");
        if (!root)
            snprintf(why, why_cap, "reply is not JSON: line %d: %s", jerr.line, jerr.text);
        else if (!json_is_string(msg))
            snprintf(why, why_cap, "reply has no %s",
                     h->openai ? "choices[0].message.content" : "message.content");
        else if (!(*content = ae_strdup(json_string_value(msg)))) {
            json_decref(root);
            return ae_fail(err, AE_ENOMEM, "out of memory reading a chat reply");
        }
        json_decref(root);
        return 0;
    }
}

int sir_http_generate(sir_http *h, const ae_symbol *sym, ae_sir *out, ae_error *err)
{
    AE_RETURN_IF(!out, err, AE_EINVAL, "http sir: no output record");
    memset(out, 0, sizeof *out);
    AE_RETURN_IF(!sym || !sym->qualified_name, err, AE_EINVAL, "http sir: symbol has no name");
    char *user = sir_http_user_prompt(sym, h->max_source);
    AE_RETURN_IF(!user, err, AE_ENOMEM, "out of memory building the prompt for %s",
                 sym->qualified_name);
    char why[AE_ERROR_MESSAGE_MAX] = "";
    int rc = 0;
    for (int attempt = 1; attempt <= h->max_attempts; attempt++) {
        char *content = NULL, *json = NULL;
        bool ok = false;
        rc = chat_once(h, user, &content, why, sizeof why, err);
        if (rc < 0) break;
        if (content && !(json = sir_http_reply_json(content)))
            snprintf(why, sizeof why, "reply contains no JSON object");
        if (json) {
            ae_error e2 = {0};
            rc = ae_sir_from_json(json, out, &e2);
            if (rc == 0) rc = ae_sir_validate(out, &e2);
            ok = rc == 0;
            if (!ok) {
                ae_sir_clear(out);
                snprintf(why, sizeof why, "%s", e2.message);
            }
        }
        free(json);
        free(content);
        if (ok) break;
        if (rc == AE_ENOMEM) {
            rc = ae_fail(err, AE_ENOMEM, "out of memory reading the SIR for %s",
                         sym->qualified_name);
            break;
        }
        rc = ae_fail(err, AE_EPROVIDER,
                     "model %s at %s gave no valid SIR for %s after %d attempt%s: %s", h->model,
                     h->url, sym->qualified_name, attempt, attempt == 1 ? "" : "s", why);
    }
    free(user);
    return rc;
}
