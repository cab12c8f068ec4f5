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

static int f_get_sir(void *ctx, const char *id, ae_sir_info **out, ae_error *err)
{
    if (strcmp(id, "s1")) return ae_fail(err, AE_ENOTFOUND, "no SIR for symbol_id %s", id);
    ae_sir_info *s = calloc(1, sizeof *s);
    if (!s) return AE_ENOMEM;
    strcpy(s->symbol_id, "s1");
    s->has_sir = true;
    s->sir_json = strdup("{\"confidence\":1.0,\"dependencies\":[],\"error_modes\":[],\"inputs\":[],"
                         "\"intent\":\"x\",\"outputs\":[],\"side_effects\":[]}");
    memset(s->sir_hash, 'a', 64);
    s->sir_version = 1;
    s->provider = strdup("static");
    s->model = strdup("static-v1");
    strcpy(s->sir_status, "fresh");
    if (!s->sir_json || !s->provider || !s->model) {
        ae_sir_info_free(s);
        return AE_ENOMEM;
    }
    *out = s;
    return 0;
}

static int f_search(void *ctx, const char *q, ae_search_mode mode, size_t limit,
                    const ae_search_filter *filter, ae_search_results **out, ae_error *err)
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

/* explain: symbol "s1" spans lines 1..3 of a.c (with a SIR, stale on line 2); the history of
 * "s1" has two versions, so why-changed runs the real comparison on every selector. */
static const char F_SIR[] = "{\"confidence\":0.5,\"intent\":\"x\",\"inputs\":[\"a\"]}";

static int f_explain(void *ctx, const char *path, ae_position pos, ae_explain_result **out,
                     ae_error *err)
{
    ae_explain_result *x = calloc(1, sizeof *x);
    if (!x) return AE_ENOMEM;
    x->file_path = strdup(path);
    x->position = pos;
    if (!strcmp(path, "a.c") && pos.line <= 3) {
        x->found = true;
        strcpy(x->symbol_id, "s1");
        x->qualified_name = strdup("f");
        x->has_sir = true;
        x->sir_json = strdup(F_SIR);
        strcpy(x->sir_status, pos.line == 2 ? "stale" : "fresh");
        if (pos.line == 2) x->last_error = strdup("boom");
        ae_hover_markdown("f", F_SIR, pos.line == 2, x->last_error, &x->hover_markdown, err);
    }
    *out = x;
    return 0;
}

static ae_sir_entry f_entries[2] = {
    {1, "", (char *)"p", (char *)"m", 1000, NULL, (char *)F_SIR},
    {2, "", (char *)"p", (char *)"m", 2000, (char *)"c0ffee", (char *)"{\"intent\":\"y\"}"},
};

static int f_timeline(void *ctx, const char *id, size_t limit, ae_sir_timeline **out, ae_error *err)
{
    ae_sir_timeline *t = calloc(1, sizeof *t);
    if (!t) return AE_ENOMEM;
    *out = t;
    if (strcmp(id, "s1")) return 0;
    size_t n = limit < 2 ? limit : 2;
    t->entries = calloc(2, sizeof *t->entries);
    if (!t->entries) return 0;
    for (size_t i = 0; i < n; i++) {
        ae_sir_entry *e = &t->entries[i];
        *e = f_entries[2 - n + i];
        e->provider = strdup(e->provider);
        e->model = strdup(e->model);
        e->sir_json = strdup(e->sir_json);
        e->commit_hash = e->commit_hash ? strdup(e->commit_hash) : NULL;
        t->n++;
    }
    t->total = 2;
    return 0;
}

static int f_why(void *ctx, const char *id, const ae_why_selector *sel, ae_why_changed **out,
                 ae_error *err)
{
    ae_sir_timeline h = {f_entries, strcmp(id, "s1") ? 0 : 2, 2};
    return ae_why_changed_compute(&h, sel, out, err);
}

static const mcp_backend backend = {NULL,   f_status, f_get_sir, f_search,   f_free, f_path,
                                    f_path, f_path,   f_explain, f_timeline, f_why,  NULL};

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
