/* aether-mcp protocol: one request line in, one response line (or none) out,
 * against a fake workspace backend.  The server sources are compiled into this
 * test (they live in the aether-mcp program, not in libaether). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp/jsonrpc.c"
#include "mcp/tools.c"

/* ---- a fake workspace --------------------------------------------------- */

#define SIR_ID   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SIR_HASH "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define STALE_ID "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

typedef struct fake {
    int search_calls;
    ae_search_mode last_mode;
    size_t last_limit;
    char last_query[64];
    char last_language[32], last_path_prefix[32], last_kind[32];
    bool fail_search, corrupt_sir;
} fake;

static fake F;

static int fake_status(void *ctx, ae_status *out, ae_error *err)
{
    memset(out, 0, sizeof *out);
    out->store_present = true;
    out->symbol_count = 12;
    out->sir_count = 11;
    out->vector_backend = "lancedb";
    out->embeddings_enabled = true;
    out->embedding_provider = "hash";
    out->embedding_model = NULL;
    out->vector_rows = -1;
    snprintf(out->index_state, sizeof out->index_state, "exact (no index)");
    return 0;
}

static int fake_get_sir(void *ctx, const char *id, ae_sir_info **out, ae_error *err)
{
    bool stale_only = !strcmp(id, STALE_ID);
    if (strcmp(id, SIR_ID) != 0 && !stale_only)
        return ae_fail(err, AE_ENOTFOUND, "symbol %s has no sir", id);
    ae_sir_info *s = calloc(1, sizeof *s);
    snprintf(s->symbol_id, sizeof s->symbol_id, "%s", id);
    s->provider = strdup("ollama");
    s->model = strdup("m");
    if (stale_only) { /* its first generation failed */
        snprintf(s->sir_status, sizeof s->sir_status, "stale");
        s->last_error = strdup("HTTP 500");
        s->last_attempt_at = 1700000000;
    } else {
        s->has_sir = true;
        s->sir_json =
            strdup(F.corrupt_sir ? "{\"intent\":" : "{\"confidence\":0.5,\"intent\":\"parse\"}");
        memcpy(s->sir_hash, SIR_HASH, 65);
        s->sir_version = 1;
        snprintf(s->sir_status, sizeof s->sir_status, "fresh");
        s->last_attempt_at = 1700000001;
    }
    *out = s;
    return 0;
}

static int fake_search(void *ctx, const char *query, ae_search_mode mode, size_t limit,
                       const ae_search_filter *filter, ae_search_results **out, ae_error *err)
{
    F.search_calls++;
    snprintf(F.last_language, sizeof F.last_language, "%s",
             filter && filter->language ? filter->language : "");
    snprintf(F.last_path_prefix, sizeof F.last_path_prefix, "%s",
             filter && filter->path_prefix ? filter->path_prefix : "");
    snprintf(F.last_kind, sizeof F.last_kind, "%s", filter && filter->kind ? filter->kind : "");
    F.last_mode = mode;
    F.last_limit = limit;
    snprintf(F.last_query, sizeof F.last_query, "%s", query);
    if (F.fail_search) return ae_fail(err, AE_EIO, "meta.sqlite: disk I/O error");
    ae_search_results *r = calloc(1, sizeof *r);
    r->mode_requested = mode;
    r->mode_used = mode == AE_SEARCH_HYBRID ? AE_SEARCH_LEXICAL : mode;
    if (mode == AE_SEARCH_HYBRID) r->fallback_reason = strdup("embeddings are disabled");
    r->n = 2;
    r->matches = calloc(2, sizeof *r->matches);
    for (size_t i = 0; i < 2; i++) {
        ae_match *m = &r->matches[i];
        m->symbol_id = strdup(i ? "b2" : "a1");
        m->qualified_name = strdup(i ? "config::parseConfig" : "parseConfig");
        m->file_path = strdup(i ? "src/config.rs" : "src/app.ts");
        m->language = strdup(i ? "rust" : "typescript");
        m->kind = strdup("function");
        m->has_semantic_score = mode == AE_SEARCH_SEMANTIC;
        m->semantic_score = 0.75 - 0.25 * (double)i;
    }
    *out = r;
    return 0;
}

static void fake_free(ae_search_results *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) {
        ae_match *m = &r->matches[i];
        free(m->symbol_id), free(m->qualified_name), free(m->file_path), free(m->language),
            free(m->kind);
    }
    free(r->matches);
    free(r->fallback_reason);
    free(r);
}

static const char *fake_root(void *ctx)
{
    return "/ws";
}
static const char *fake_meta(void *ctx)
{
    return "/ws/.aether/meta.sqlite";
}
static const char *fake_sir_dir(void *ctx)
{
    return "/ws/.aether/sir";
}

/* explain/timeline/why_changed stay NULL here: their answers are tested through the SDK
 * client on a real workspace (tests/mcp/history_test.mjs); the fuzz target fakes them. */
static const mcp_backend fake_backend = {NULL,      fake_status, fake_get_sir, fake_search,
                                         fake_free, fake_root,   fake_meta,    fake_sir_dir,
                                         NULL,      NULL,        NULL,         NULL};

static mcp_server S;

static int setup(void **state)
{
    memset(&F, 0, sizeof F);
    mcp_server_init(&S, &fake_backend, "1.2.3");
    return 0;
}

/* ---- helpers ------------------------------------------------------------ */

/* Sends a line; returns the parsed response (NULL when there was none). */
static json_t *rpc(const char *line)
{
    char *resp = NULL;
    assert_int_equal(mcp_handle_line(&S, line, strlen(line), &resp), 0);
    if (!resp) return NULL;
    assert_null(strchr(resp, '\n')); /* one line per message */
    json_error_t jerr;
    json_t *j = json_loads(resp, 0, &jerr);
    if (!j) fail_msg("response is not JSON: %s", resp);
    free(resp);
    assert_string_equal(json_string_value(json_object_get(j, "jsonrpc")), "2.0");
    return j;
}

/* Asserts an error response with code and a message containing `part`. */
static void assert_error(json_t *r, int code, const char *part)
{
    assert_non_null(r);
    json_t *e = json_object_get(r, "error");
    if (!e) fail_msg("expected error %d, got %s", code, json_dumps(r, 0));
    assert_int_equal(json_integer_value(json_object_get(e, "code")), code);
    const char *msg = json_string_value(json_object_get(e, "message"));
    assert_non_null(msg);
    if (!strstr(msg, part)) fail_msg("message '%s' lacks '%s'", msg, part);
    assert_null(json_object_get(r, "result"));
}

static json_t *result_of(json_t *r)
{
    json_t *res = json_object_get(r, "result");
    if (!res) fail_msg("expected a result, got %s", json_dumps(r, 0));
    return res;
}

/* Calls a tool; returns the response, checks the text/structured duality. */
static json_t *call(const char *tool, const char *args_json)
{
    char line[1024];
    snprintf(line, sizeof line,
             "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"%s\","
             "\"arguments\":%s}}",
             tool, args_json);
    json_t *r = rpc(line);
    json_t *res = result_of(r);
    json_t *content = json_object_get(res, "content");
    assert_int_equal(json_array_size(content), 1);
    json_t *c0 = json_array_get(content, 0);
    assert_string_equal(json_string_value(json_object_get(c0, "type")), "text");
    assert_non_null(json_string_value(json_object_get(c0, "text")));
    json_t *sc = json_object_get(res, "structuredContent");
    if (json_is_true(json_object_get(res, "isError"))) {
        assert_null(sc);
    } else {
        assert_true(json_is_false(json_object_get(res, "isError")));
        json_t *parsed = json_loads(json_string_value(json_object_get(c0, "text")), 0, NULL);
        assert_true(json_equal(parsed, sc));
        json_decref(parsed);
    }
    return r;
}

static json_t *structured(json_t *r)
{
    return json_object_get(result_of(r), "structuredContent");
}

/* Asserts an isError tool result whose text contains `part`. */
static void assert_tool_error(json_t *r, const char *part)
{
    json_t *res = result_of(r);
    if (!json_is_true(json_object_get(res, "isError")))
        fail_msg("expected isError, got %s", json_dumps(r, 0));
    const char *text = json_string_value(
        json_object_get(json_array_get(json_object_get(res, "content"), 0), "text"));
    if (!strstr(text, part)) fail_msg("tool error '%s' lacks '%s'", text, part);
}

/* ---- lifecycle ---------------------------------------------------------- */

static void test_initialize(void **state)
{
    json_t *r = rpc("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
                    "\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},"
                    "\"clientInfo\":{\"name\":\"t\",\"version\":\"0\"}}}");
    assert_int_equal(json_integer_value(json_object_get(r, "id")), 1);
    json_t *res = result_of(r);
    assert_string_equal(json_string_value(json_object_get(res, "protocolVersion")), "2025-06-18");
    json_t *tools = json_object_get(json_object_get(res, "capabilities"), "tools");
    assert_true(json_is_object(tools));
    json_t *info = json_object_get(res, "serverInfo");
    assert_string_equal(json_string_value(json_object_get(info, "name")), "aether-mcp");
    assert_string_equal(json_string_value(json_object_get(info, "version")), "1.2.3");
    assert_true(S.initialized);
    json_decref(r);

    /* An unknown version gets our newest; a string id comes back as a string. */
    r = rpc("{\"jsonrpc\":\"2.0\",\"id\":\"init-2\",\"method\":\"initialize\",\"params\":{"
            "\"protocolVersion\":\"1999-01-01\"}}");
    assert_string_equal(json_string_value(json_object_get(r, "id")), "init-2");
    assert_string_equal(json_string_value(json_object_get(result_of(r), "protocolVersion")),
                        MCP_PROTOCOL_VERSION_LATEST);
    json_decref(r);

    r = rpc("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"initialize\",\"params\":{}}");
    assert_error(r, MCP_INVALID_PARAMS, "protocolVersion must be a string, not missing");
    assert_int_equal(json_integer_value(json_object_get(r, "id")), 3);
    json_decref(r);
    r = rpc("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"initialize\"}");
    assert_error(r, MCP_INVALID_PARAMS, "protocolVersion");
    json_decref(r);
}

static void test_ping(void **state)
{
    json_t *r = rpc("{\"jsonrpc\":\"2.0\",\"id\":42,\"method\":\"ping\"}");
    assert_int_equal(json_integer_value(json_object_get(r, "id")), 42);
    assert_true(json_is_object(result_of(r)));
    assert_int_equal(json_object_size(result_of(r)), 0);
    json_decref(r);
    /* CRLF framing is tolerated. */
    r = rpc("{\"jsonrpc\":\"2.0\",\"id\":43,\"method\":\"ping\"}\r");
    assert_int_equal(json_integer_value(json_object_get(r, "id")), 43);
    json_decref(r);
}

static void test_notifications_get_no_response(void **state)
{
    assert_null(rpc("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}"));
    assert_null(rpc("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
                    "\"params\":{\"requestId\":1}}"));
    assert_null(rpc("{\"jsonrpc\":\"2.0\",\"method\":\"no/such/notification\"}"));
    /* A response from the client, and blank lines: nothing either. */
    assert_null(rpc("{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{}}"));
    assert_null(rpc(""));
    assert_null(rpc("   \r"));
}

static void test_unknown_method(void **state)
{
    json_t *r = rpc("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"resources/list\"}");
    assert_error(r, MCP_METHOD_NOT_FOUND, "method not found: resources/list");
    assert_int_equal(json_integer_value(json_object_get(r, "id")), 9);
    json_decref(r);
}

static void test_malformed_json(void **state)
{
    const char *bad[] = {"{", "{\"jsonrpc\":\"2.0\",\"id\":1,", "not json", "{\"a\":1}}",
                         "\xff\xfe{}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_t *r = rpc(bad[i]);
        assert_error(r, MCP_PARSE_ERROR, "parse error at column");
        assert_true(json_is_null(json_object_get(r, "id")));
        json_decref(r);
    }
    /* The server keeps serving. */
    json_t *r = rpc("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}");
    assert_non_null(result_of(r));
    json_decref(r);
}

static void test_invalid_requests(void **state)
{
    struct {
        const char *line, *part;
        int code;
        bool id_null;
    } cases[] = {
        {"[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", "batch", MCP_INVALID_REQUEST, 1},
        {"42", "must be a JSON object, not an integer", MCP_INVALID_REQUEST, 1},
        {"{\"id\":1,\"method\":\"ping\"}", "jsonrpc must be", MCP_INVALID_REQUEST, 0},
        {"{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}", "jsonrpc must be",
         MCP_INVALID_REQUEST, 0},
        {"{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}",
         "id must be a string or an integer, not null", MCP_INVALID_REQUEST, 1},
        {"{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}", "not an object",
         MCP_INVALID_REQUEST, 1},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}", "method must be a string",
         MCP_INVALID_REQUEST, 0},
        {"{\"jsonrpc\":\"2.0\",\"id\":1}", "method is missing", MCP_INVALID_REQUEST, 0},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":[1]}",
         "params must be an object, not an array", MCP_INVALID_PARAMS, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_t *r = rpc(cases[i].line);
        assert_error(r, cases[i].code, cases[i].part);
        if (cases[i].id_null)
            assert_true(json_is_null(json_object_get(r, "id")));
        else
            assert_int_equal(json_integer_value(json_object_get(r, "id")), 1);
        json_decref(r);
    }
}

/* ---- tools/list --------------------------------------------------------- */

static void test_tools_list(void **state)
{
    json_t *r = rpc("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\",\"params\":{}}");
    json_t *tools = json_object_get(result_of(r), "tools");
    assert_int_equal(json_array_size(tools), MCP_TOOL_COUNT);
    const char *names[MCP_TOOL_COUNT] = {
        "aether_status",  "aether_symbol_lookup",   "aether_search",      "aether_get_sir",
        "aether_explain", "aether_symbol_timeline", "aether_why_changed", "aether_verify"};
    const char *required[MCP_TOOL_COUNT] = {NULL,        "query",     "query",     "symbol_id",
                                            "file_path", "symbol_id", "symbol_id", NULL};
    for (size_t i = 0; i < MCP_TOOL_COUNT; i++) {
        json_t *t = json_array_get(tools, i);
        assert_string_equal(json_string_value(json_object_get(t, "name")), names[i]);
        assert_true(strlen(json_string_value(json_object_get(t, "description"))) > 20);
        json_t *in = json_object_get(t, "inputSchema");
        assert_string_equal(json_string_value(json_object_get(in, "type")), "object");
        assert_true(json_is_false(json_object_get(in, "additionalProperties")));
        json_t *req = json_object_get(in, "required");
        if (required[i]) {
            assert_int_equal(json_array_size(req), i == 4 ? 3 : 1); /* explain: file, line, col */
            assert_string_equal(json_string_value(json_array_get(req, 0)), required[i]);
        } else {
            assert_null(req);
        }
        json_t *out = json_object_get(t, "outputSchema");
        assert_string_equal(json_string_value(json_object_get(out, "type")), "object");
        /* every tool reads only, but aether_verify runs commands */
        assert_true(
            json_is_boolean(json_object_get(json_object_get(t, "annotations"), "readOnlyHint")) &&
            json_is_true(json_object_get(json_object_get(t, "annotations"), "readOnlyHint")) ==
                (i != 7));
    }
    json_t *props =
        json_object_get(json_object_get(json_array_get(tools, 2), "inputSchema"), "properties");
    json_t *limit = json_object_get(props, "limit");
    assert_string_equal(json_string_value(json_object_get(limit, "type")), "integer");
    assert_null(json_object_get(limit, "minimum")); /* clamped, not refused */
    assert_int_equal(json_integer_value(json_object_get(limit, "default")), 20);
    json_t *modes = json_object_get(json_object_get(props, "mode"), "enum");
    assert_int_equal(json_array_size(modes), 3);
    assert_string_equal(json_string_value(json_array_get(modes, 2)), "hybrid");
    /* lookup has no mode */
    assert_null(json_object_get(
        json_object_get(json_object_get(json_array_get(tools, 1), "inputSchema"), "properties"),
        "mode"));
    json_decref(r);
}

/* ---- tools/call --------------------------------------------------------- */

static void test_call_protocol_errors(void **state)
{
    json_t *r = rpc("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{"
                    "\"name\":\"aether_nope\",\"arguments\":{}}}");
    assert_error(r, MCP_INVALID_PARAMS, "unknown tool: aether_nope");
    json_decref(r);
    r = rpc("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{}}");
    assert_error(r, MCP_INVALID_PARAMS, "params.name must be a string, not missing");
    json_decref(r);
    r = rpc("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{"
            "\"name\":\"aether_search\",\"arguments\":\"parse\"}}");
    assert_error(r, MCP_INVALID_PARAMS, "params.arguments must be an object, not a string");
    json_decref(r);
    assert_int_equal(F.search_calls, 0);
}

static void test_call_status(void **state)
{
    json_t *r = call("aether_status", "{}");
    json_t *sc = structured(r);
    assert_int_equal(json_integer_value(json_object_get(sc, "schema_version")), 1);
    json_int_t at = json_integer_value(json_object_get(sc, "generated_at"));
    assert_true(at > 1700000000LL && at < 100000000000LL); /* unix seconds */
    assert_string_equal(json_string_value(json_object_get(sc, "workspace")), "/ws");
    assert_string_equal(json_string_value(json_object_get(sc, "sqlite_path")),
                        "/ws/.aether/meta.sqlite");
    assert_string_equal(json_string_value(json_object_get(sc, "sir_dir")), "/ws/.aether/sir");
    assert_true(json_is_true(json_object_get(sc, "store_present")));
    assert_int_equal(json_integer_value(json_object_get(sc, "symbol_count")), 12);
    assert_int_equal(json_integer_value(json_object_get(sc, "sir_count")), 11);
    assert_string_equal(json_string_value(json_object_get(sc, "vector_backend")), "lancedb");
    assert_true(json_is_null(json_object_get(sc, "vector_rows")));
    assert_string_equal(json_string_value(json_object_get(sc, "index_state")), "exact (no index)");
    assert_string_equal(json_string_value(json_object_get(sc, "embedding_provider")), "hash");
    assert_true(json_is_null(json_object_get(sc, "embedding_model")));
    assert_int_equal(json_object_size(sc), 14);
    json_decref(r);
    /* Arguments missing entirely are an empty object; unknown ones are refused. */
    r = rpc("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{"
            "\"name\":\"aether_status\"}}");
    assert_true(json_is_false(json_object_get(result_of(r), "isError")));
    json_decref(r);
    r = call("aether_status", "{\"verbose\":true}");
    assert_tool_error(r, "aether_status: unknown argument 'verbose' (accepted: none)");
    json_decref(r);
}

static void test_call_lookup(void **state)
{
    json_t *r = call("aether_symbol_lookup", "{\"query\":\"parseConfig\"}");
    json_t *sc = structured(r);
    assert_string_equal(json_string_value(json_object_get(sc, "query")), "parseConfig");
    assert_int_equal(json_integer_value(json_object_get(sc, "limit")), 20);
    assert_string_equal(json_string_value(json_object_get(sc, "mode_requested")), "lexical");
    assert_string_equal(json_string_value(json_object_get(sc, "mode_used")), "lexical");
    assert_true(json_is_null(json_object_get(sc, "fallback_reason")));
    assert_int_equal(json_integer_value(json_object_get(sc, "result_count")), 2);
    json_t *m0 = json_array_get(json_object_get(sc, "matches"), 0);
    assert_string_equal(json_string_value(json_object_get(m0, "symbol_id")), "a1");
    assert_string_equal(json_string_value(json_object_get(m0, "qualified_name")), "parseConfig");
    assert_string_equal(json_string_value(json_object_get(m0, "file_path")), "src/app.ts");
    assert_string_equal(json_string_value(json_object_get(m0, "language")), "typescript");
    assert_string_equal(json_string_value(json_object_get(m0, "kind")), "function");
    assert_true(json_is_null(json_object_get(m0, "semantic_score")));
    assert_int_equal(json_object_size(m0), 6);
    assert_int_equal(F.last_mode, AE_SEARCH_LEXICAL);
    assert_int_equal(F.last_limit, 20);
    json_decref(r);

    /* Lookup is lexical only: it has no mode argument. */
    r = call("aether_symbol_lookup", "{\"query\":\"x\",\"mode\":\"semantic\"}");
    assert_tool_error(r, "unknown argument 'mode' (accepted: query, limit)");
    json_decref(r);
}

static void test_call_search_modes(void **state)
{
    json_t *r = call("aether_search", "{\"query\":\"parse config\",\"mode\":\"semantic\","
                                      "\"limit\":5}");
    json_t *sc = structured(r);
    assert_string_equal(json_string_value(json_object_get(sc, "mode_used")), "semantic");
    assert_int_equal(json_integer_value(json_object_get(sc, "limit")), 5);
    json_t *m1 = json_array_get(json_object_get(sc, "matches"), 1);
    assert_true(json_real_value(json_object_get(m1, "semantic_score")) == 0.5);
    assert_int_equal(F.last_limit, 5);
    assert_string_equal(F.last_query, "parse config");
    json_decref(r);

    r = call("aether_search", "{\"query\":\"q\",\"mode\":\"hybrid\",\"limit\":20.0}");
    sc = structured(r);
    assert_string_equal(json_string_value(json_object_get(sc, "mode_requested")), "hybrid");
    assert_string_equal(json_string_value(json_object_get(sc, "mode_used")), "lexical");
    assert_string_equal(json_string_value(json_object_get(sc, "fallback_reason")),
                        "embeddings are disabled");
    json_decref(r);

    /* limits outside 1..100 are clamped (the reference's rule), not refused */
    const struct {
        const char *limit;
        size_t want;
    } clamp[] = {{"0", 1}, {"-9223372036854775807", 1}, {"101", 100}, {"1e9", 100}, {"7.0", 7}};
    for (size_t i = 0; i < sizeof clamp / sizeof *clamp; i++) {
        char args[96];
        snprintf(args, sizeof args, "{\"query\":\"q\",\"limit\":%s}", clamp[i].limit);
        r = call("aether_search", args);
        sc = structured(r);
        assert_int_equal(json_integer_value(json_object_get(sc, "limit")), clamp[i].want);
        assert_int_equal(F.last_limit, clamp[i].want);
        json_decref(r);
    }

    r = call("aether_search", "{\"query\":\"q\"}");
    assert_string_equal(json_string_value(json_object_get(structured(r), "mode_used")), "lexical");
    assert_string_equal(F.last_language, "");
    json_decref(r);

    /* the filters reach the workspace call */
    r = call("aether_search", "{\"query\":\"q\",\"language\":\"rust\",\"path_prefix\":"
                              "\"src/\",\"kind\":\"function\"}");
    assert_false(json_is_true(json_object_get(r, "isError")));
    assert_string_equal(F.last_language, "rust");
    assert_string_equal(F.last_path_prefix, "src/");
    assert_string_equal(F.last_kind, "function");
    json_decref(r);
}

static void test_call_bad_arguments(void **state)
{
    struct {
        const char *tool, *args, *part;
    } cases[] = {
        {"aether_search", "{}", "aether_search: missing required argument 'query'"},
        {"aether_search", "{\"query\":7}", "argument 'query' must be a string, not an integer"},
        {"aether_search", "{\"query\":null}", "must be a string, not null"},
        {"aether_search", "{\"query\":\"q\",\"limit\":\"5\"}",
         "argument 'limit' must be an integer from 1 to 100, not a string"},
        {"aether_search", "{\"query\":\"q\",\"limit\":2.5}", "not a number"},
        {"aether_explain", "{\"file_path\":\"a.c\",\"line\":0,\"column\":1}",
         "aether_explain: argument 'line' must be 1 or more (lines are 1-based), not 0"},
        {"aether_explain", "{\"file_path\":\"a.c\",\"line\":1,\"column\":-4}",
         "argument 'column' must be 1 or more (columns are 1-based), not -4"},
        {"aether_explain", "{\"file_path\":\"a.c\",\"line\":true,\"column\":1}",
         "argument 'line' must be an integer, not a boolean"},
        {"aether_explain", "{\"file_path\":\"a.c\",\"line\":3000000000,\"column\":1}",
         "argument 'line' is too large"},
        {"aether_explain", "{\"line\":1,\"column\":1}", "missing required argument 'file_path'"},
        {"aether_symbol_timeline", "{\"symbol_id\":\"s1\",\"limit\":[]}",
         "argument 'limit' must be an integer from 1 to 1000, not an array"},
        {"aether_why_changed",
         "{\"symbol_id\":\"s1\",\"from_version\":1,\"to_version\":2,\"from_created_at\":1,"
         "\"to_created_at\":2}",
         "not both (got from_version and from_created_at)"},
        {"aether_why_changed", "{\"symbol_id\":\"s1\",\"to_version\":2}",
         "argument 'to_version' needs 'from_version' too"},
        {"aether_why_changed", "{\"symbol_id\":\"s1\",\"from_created_at\":-1,\"to_created_at\":2}",
         "argument 'from_created_at' must be 0 or more, not -1"},
        {"aether_verify", "{\"commands\":\"make\"}",
         "argument 'commands' must be an array of strings, not a string"},
        {"aether_verify", "{\"commands\":[\"a\",3]}",
         "'commands' item 2 must be a string, not an integer"},
        {"aether_verify", "{\"mode\":\"vm\"}",
         "'mode' must be \"host\", \"container\" or \"microvm\""},
        {"aether_verify", "{\"fallback_to_host_on_unavailable\":1}",
         "'fallback_to_host_on_unavailable' must be a boolean, not an integer"},
        {"aether_why_changed", "{\"symbol_id\":\"s1\",\"version\":2}",
         "unknown argument 'version' (accepted: symbol_id, from_version, to_version, "
         "from_created_at, to_created_at)"},
        {"aether_search", "{\"query\":\"q\",\"mode\":\"fuzzy\"}",
         "'mode' must be \"lexical\", \"semantic\" or \"hybrid\", not \"fuzzy\""},
        {"aether_search", "{\"query\":\"q\",\"mode\":[]}", "'mode' must be a string, not an array"},
        {"aether_search", "{\"query\":\"q\",\"top_k\":3}",
         "unknown argument 'top_k' (accepted: query, limit, mode, language, path_prefix, kind)"},
        {"aether_search", "{\"query\":\"q\",\"language\":3}",
         "argument 'language' must be a string, not an integer"},
        {"aether_search", "{\"query\":\"q\",\"path_prefix\":[]}",
         "argument 'path_prefix' must be a string, not an array"},
        {"aether_search", "{\"query\":\"q\",\"kind\":null}",
         "argument 'kind' must be a string, not null"},
        {"aether_symbol_lookup", "{\"query\":\"q\",\"language\":\"c\"}",
         "unknown argument 'language' (accepted: query, limit)"},
        {"aether_symbol_lookup", "{\"query\":true}", "must be a string, not a boolean"},
        {"aether_get_sir", "{}", "missing required argument 'symbol_id'"},
        {"aether_get_sir", "{\"symbol_id\":1.5}", "must be a string, not a number"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_t *r = call(cases[i].tool, cases[i].args);
        assert_tool_error(r, cases[i].part);
        json_decref(r);
    }
    assert_int_equal(F.search_calls, 0); /* nothing reached the workspace */
    /* good arguments reach the backend; one without the call says so */
    json_t *r = call("aether_why_changed", "{\"symbol_id\":\"s1\"}");
    assert_tool_error(r, "aether_why_changed: not available in this server");
    json_decref(r);
}

static void test_call_workspace_failure(void **state)
{
    F.fail_search = true;
    json_t *r = call("aether_search", "{\"query\":\"q\"}");
    assert_tool_error(r, "aether_search: meta.sqlite: disk I/O error");
    json_decref(r);
}

static void test_call_get_sir(void **state)
{
    json_t *r = call("aether_get_sir", "{\"symbol_id\":\"" SIR_ID "\"}");
    json_t *sc = structured(r);
    assert_string_equal(json_string_value(json_object_get(sc, "symbol_id")), SIR_ID);
    assert_string_equal(json_string_value(json_object_get(sc, "sir_hash")), SIR_HASH);
    assert_string_equal(json_string_value(json_object_get(json_object_get(sc, "sir"), "intent")),
                        "parse");
    assert_string_equal(json_string_value(json_object_get(sc, "sir_json")),
                        "{\"confidence\":0.5,\"intent\":\"parse\"}");
    assert_true(json_is_true(json_object_get(sc, "found")));
    assert_string_equal(json_string_value(json_object_get(sc, "sir_status")), "fresh");
    assert_true(json_is_null(json_object_get(sc, "last_error")));
    assert_int_equal(json_integer_value(json_object_get(sc, "last_attempt_at")), 1700000001);
    json_decref(r);

    /* a symbol whose first generation failed: not found, with the reason */
    r = call("aether_get_sir", "{\"symbol_id\":\"" STALE_ID "\"}");
    sc = structured(r);
    assert_true(json_is_false(json_object_get(sc, "found")));
    assert_true(json_is_null(json_object_get(sc, "sir")));
    assert_string_equal(json_string_value(json_object_get(sc, "sir_json")), "");
    assert_string_equal(json_string_value(json_object_get(sc, "sir_hash")), "");
    assert_string_equal(json_string_value(json_object_get(sc, "sir_status")), "stale");
    assert_string_equal(json_string_value(json_object_get(sc, "last_error")), "HTTP 500");
    assert_int_equal(json_integer_value(json_object_get(sc, "last_attempt_at")), 1700000000);
    json_decref(r);

    r = call("aether_get_sir", "{\"symbol_id\":\"deadbeef\"}");
    assert_tool_error(r, "no SIR for symbol_id 'deadbeef'");
    json_decref(r);

    F.corrupt_sir = true;
    r = call("aether_get_sir", "{\"symbol_id\":\"" SIR_ID "\"}");
    assert_tool_error(r, "is not a JSON object");
    json_decref(r);
}

/* ---- the stdio loop ----------------------------------------------------- */

/* Runs mcp_serve over `input`; returns the output (caller frees). */
static char *serve(const char *input, size_t len, size_t max_line)
{
    FILE *in = fmemopen((void *)input, len, "r");
    char *out_buf = NULL;
    size_t out_len = 0;
    FILE *out = open_memstream(&out_buf, &out_len);
    assert_non_null(in);
    assert_non_null(out);
    S.max_line = max_line;
    assert_int_equal(mcp_serve(&S, in, out), 0);
    fclose(in);
    fclose(out);
    return out_buf;
}

static void test_serve_lines(void **state)
{
    const char *input = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n"
                        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n"
                        "\n"
                        "garbage\n"
                        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}"; /* no newline */
    char *out = serve(input, strlen(input), MCP_DEFAULT_MAX_LINE);
    assert_string_equal(out, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n"
                             "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,"
                             "\"message\":\"parse error at column 7: invalid token near "
                             "'garbage'\"}}\n"
                             "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{}}\n");
    free(out);
}

static void test_serve_oversized(void **state)
{
    /* A 5000-byte request with a 1000-byte limit, then a normal one. */
    char input[6000];
    size_t n = 0;
    n += (size_t)snprintf(input, sizeof input,
                          "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\","
                          "\"params\":{\"pad\":\"");
    memset(input + n, 'x', 5000);
    n += 5000;
    n += (size_t)snprintf(input + n, sizeof input - n,
                          "\"}}\n{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}\n");
    char *out = serve(input, n, 1000);
    assert_string_equal(out, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,"
                             "\"message\":\"request exceeds the 1000-byte line limit and was "
                             "discarded\"}}\n"
                             "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{}}\n");
    free(out);
    /* At exactly the limit it is served. */
    const char *ping = "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"}\n";
    out = serve(ping, strlen(ping), strlen(ping) - 1);
    assert_string_equal(out, "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{}}\n");
    free(out);
    /* An oversized last line without a newline still gets its error. */
    out = serve(input, 3000, 1000);
    assert_non_null(strstr(out, "-32600"));
    free(out);
}

/* Mutated valid requests (flipped, dropped, duplicated bytes): every line gets
 * nothing or one well-formed JSON-RPC message, and ASan sees no fault. */
static void test_mutated_requests(void **state)
{
    const char *seeds[] = {
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
        "\"protocolVersion\":\"2025-06-18\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":"
        "\"aether_search\",\"arguments\":{\"query\":\"parse\",\"limit\":5,\"mode\":\"hybrid\"}}}",
        "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"tools/call\",\"params\":{\"name\":"
        "\"aether_get_sir\",\"arguments\":{\"symbol_id\":\"" SIR_ID "\"}}}",
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/list\"}",
    };
    const char alphabet[] = "{}[]\":,0123456789-.eEtrufalsn\\ \x00\xff";
    unsigned seed = 12345;
    int answered = 0;
    for (int iter = 0; iter < 4000; iter++) {
        const char *src = seeds[iter % 4];
        char line[512];
        size_t n = strlen(src);
        memcpy(line, src, n);
        int edits = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 4;
        for (int e = 0; e < edits && n > 2 && n < sizeof line - 2; e++) {
            seed = seed * 1103515245u + 12345u;
            size_t pos = (seed >> 8) % n;
            char c = alphabet[(seed >> 20) % (sizeof alphabet - 1)];
            switch ((seed >> 4) % 3) {
            case 0:
                line[pos] = c;
                break;
            case 1:
                memmove(line + pos, line + pos + 1, n - pos - 1), n--;
                break;
            default:
                memmove(line + pos + 1, line + pos, n - pos), line[pos] = c, n++;
                break;
            }
        }
        char *resp = NULL;
        assert_int_equal(mcp_handle_line(&S, line, n, &resp), 0);
        if (!resp) continue;
        json_t *j = json_loads(resp, 0, NULL);
        if (!j) fail_msg("not JSON: %s", resp);
        assert_string_equal(json_string_value(json_object_get(j, "jsonrpc")), "2.0");
        assert_true(json_object_get(j, "result") != NULL || json_object_get(j, "error") != NULL);
        json_t *id = json_object_get(j, "id");
        assert_true(json_is_null(id) || json_is_integer(id) || json_is_string(id));
        answered++;
        json_decref(j);
        free(resp);
    }
    assert_true(answered > 3000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_initialize, setup),
        cmocka_unit_test_setup(test_ping, setup),
        cmocka_unit_test_setup(test_notifications_get_no_response, setup),
        cmocka_unit_test_setup(test_unknown_method, setup),
        cmocka_unit_test_setup(test_malformed_json, setup),
        cmocka_unit_test_setup(test_invalid_requests, setup),
        cmocka_unit_test_setup(test_tools_list, setup),
        cmocka_unit_test_setup(test_call_protocol_errors, setup),
        cmocka_unit_test_setup(test_call_status, setup),
        cmocka_unit_test_setup(test_call_lookup, setup),
        cmocka_unit_test_setup(test_call_search_modes, setup),
        cmocka_unit_test_setup(test_call_bad_arguments, setup),
        cmocka_unit_test_setup(test_call_workspace_failure, setup),
        cmocka_unit_test_setup(test_call_get_sir, setup),
        cmocka_unit_test_setup(test_serve_lines, setup),
        cmocka_unit_test_setup(test_serve_oversized, setup),
        cmocka_unit_test_setup(test_mutated_requests, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
