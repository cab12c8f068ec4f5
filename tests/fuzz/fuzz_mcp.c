/* libFuzzer: MCP JSON-RPC framing and tool dispatch.  Each input is split into
 * lines and fed to one server instance, so sequences (initialize, then calls)
 * are explored; the backend is a small in-memory fake with one match and one
 * SIR.  Any error response is fine; a crash or leak is a bug. */
#include "mcp/jsonrpc.c"
#include "mcp/tools.c"

#include <stdint.h>

static int f_status(void *ctx, ae_status *out, ae_error *err)
{
    memset(out, 0, sizeof *out);
    out->store_present = true;
    out->symbol_count = 1;
    out->vector_backend = "lancedb";
    out->embedding_provider = "hash";
    out->embedding_model = "hash-v1";
    return 0;
}

static int f_get_sir(void *ctx, const char *id, char **json, char hash[65], ae_error *err)
{
    if (strcmp(id, "s1")) return ae_fail(err, AE_ENOTFOUND, "no SIR for symbol_id %s", id);
    *json = strdup("{\"confidence\":1.0,\"dependencies\":[],\"error_modes\":[],\"inputs\":[],"
                   "\"intent\":\"x\",\"outputs\":[],\"side_effects\":[]}");
    memset(hash, 'a', 64);
    hash[64] = '\0';
    return *json ? 0 : AE_ENOMEM;
}

static int f_search(void *ctx, const char *q, ae_search_mode mode, size_t limit,
                    ae_search_results **out, ae_error *err)
{
    ae_search_results *r = calloc(1, sizeof *r);
    if (!r) return AE_ENOMEM;
    r->mode_requested = r->mode_used = mode;
    r->matches = calloc(1, sizeof *r->matches);
    if (r->matches && q[0]) {
        ae_match *m = &r->matches[0];
        m->symbol_id = strdup("s1");
        m->qualified_name = strdup(q);
        m->file_path = strdup("a.c");
        m->language = strdup("c");
        m->kind = strdup("function");
        r->n = 1;
    }
    *out = r;
    return 0;
}

static void f_free(ae_search_results *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->matches[i].symbol_id);
        free(r->matches[i].qualified_name);
        free(r->matches[i].file_path);
        free(r->matches[i].language);
        free(r->matches[i].kind);
    }
    free(r->matches);
    free(r->fallback_reason);
    free(r);
}

static const char *f_path(void *ctx)
{
    return "/ws";
}

static const mcp_backend backend = {NULL,   f_status, f_get_sir, f_search,
                                    f_free, f_path,   f_path,    f_path};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mcp_server s;
    mcp_server_init(&s, &backend, "fuzz");
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char *resp = NULL;
        mcp_handle_line(&s, p, len, &resp);
        free(resp);
        p += len + (nl ? 1 : 0);
    }
    return 0;
}
