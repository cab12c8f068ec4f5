/* aether-mcp protocol layer.  What is unusual here:
 *
 * 1. One function, mcp_handle_line(), is the protocol: line in, line (or
 *    nothing) out.  The stdio loop only frames lines, so every protocol case
 *    is a unit test without a process.
 * 2. Reading is bounded: a line longer than max_line is never held in memory;
 *    the rest of it is read and dropped, the client gets -32600 with id null,
 *    and the next line is served normally.
 * 3. Errors split the MCP way: malformed JSON-RPC is a JSON-RPC error
 *    (-32700/-32600/-32601/-32602); a tool that fails or gets bad arguments
 *    answers a normal result with isError true, so the model can read it.
 * 4. Batches (JSON arrays) were dropped from MCP in 2025-06-18; they are
 *    rejected with one -32600 error rather than half-supported.
 * 5. The lifecycle is lenient: requests before initialize are served, since
 *    the server has no per-session state worth protecting; the spec puts the
 *    ordering duty on the client. */
#include "mcp/jsonrpc.h"

#include <string.h>

#include "util/err.h"
#include "util/json_type.h"
#include "util/mem.h"

static const char *const protocol_versions[] = {MCP_PROTOCOL_VERSION_LATEST, "2025-06-18",
                                                "2025-03-26", "2024-11-05"};

void mcp_server_init(mcp_server *s, const mcp_backend *be, const char *version)
{
    memset(s, 0, sizeof *s);
    s->backend = be;
    s->name = "aether-mcp";
    s->version = version ? version : "dev";
    s->max_line = MCP_DEFAULT_MAX_LINE;
    snprintf(s->protocol_version, sizeof s->protocol_version, "%s", MCP_PROTOCOL_VERSION_LATEST);
}

/* Serialises and frees msg; NULL when out of memory. */
static char *dump(json_t *msg)
{
    if (!msg) return NULL;
    char *s = json_dumps(msg, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
    json_decref(msg);
    return s;
}

/* id is borrowed (NULL means JSON null). */
static json_t *error_msg(json_t *id, int code, const char *message)
{
    return json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", id ? id : json_null(),
                     "error", "code", code, "message", message);
}

/* result is stolen. */
static json_t *result_msg(json_t *id, json_t *result)
{
    if (!result) return NULL;
    return json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id, "result", result);
}

static json_t *handle_initialize(mcp_server *s, json_t *id, json_t *params)
{
    char msg[160];
    json_t *pv = params ? json_object_get(params, "protocolVersion") : NULL;
    if (!json_is_string(pv)) {
        snprintf(msg, sizeof msg, "initialize: params.protocolVersion must be a string, not %s",
                 ae_json_type_name(pv));
        return error_msg(id, MCP_INVALID_PARAMS, msg);
    }
    /* The client's version when we speak it, else our newest (the client then
     * decides whether to go on). */
    const char *chosen = protocol_versions[0];
    for (size_t i = 0; i < sizeof protocol_versions / sizeof *protocol_versions; i++)
        if (!strcmp(json_string_value(pv), protocol_versions[i])) chosen = protocol_versions[i];
    snprintf(s->protocol_version, sizeof s->protocol_version, "%s", chosen);
    s->initialized = true;
    json_t *result =
        json_pack("{s:s, s:{s:{s:b}}, s:{s:s, s:s, s:s}, s:s}", "protocolVersion", chosen,
                  "capabilities", "tools", "listChanged", 0, "serverInfo", "name", s->name, "title",
                  "aether", "version", s->version, "instructions",
                  "aether indexes this workspace's symbols with structured summaries (SIR). "
                  "Use aether_symbol_lookup to find symbols by name, aether_search for lexical, "
                  "semantic or hybrid search, aether_get_sir for a symbol's summary, "
                  "aether_explain for the symbol at a file position, aether_symbol_timeline "
                  "and aether_why_changed for how its summary changed over time, and "
                  "aether_status to see whether the index is present and fresh.");
    return result_msg(id, result);
}

static json_t *handle_tools_call(mcp_server *s, json_t *id, json_t *params)
{
    char msg[AE_ERROR_MESSAGE_MAX + 64];
    json_t *name = params ? json_object_get(params, "name") : NULL;
    if (!json_is_string(name)) {
        snprintf(msg, sizeof msg, "tools/call: params.name must be a string, not %s",
                 ae_json_type_name(name));
        return error_msg(id, MCP_INVALID_PARAMS, msg);
    }
    json_t *args = json_object_get(params, "arguments");
    if (args && json_is_null(args)) args = NULL;
    if (args && !json_is_object(args)) {
        snprintf(msg, sizeof msg, "tools/call: params.arguments must be an object, not %s",
                 ae_json_type_name(args));
        return error_msg(id, MCP_INVALID_PARAMS, msg);
    }
    if (!s->backend) return error_msg(id, MCP_INTERNAL_ERROR, "no workspace backend");
    json_t *result = NULL;
    ae_error err;
    ae_error_clear(&err);
    if (mcp_tools_call(s->backend, json_string_value(name), args, &result, &err) ==
        MCP_CALL_UNKNOWN_TOOL)
        return error_msg(id, MCP_INVALID_PARAMS, err.message);
    if (!result) return error_msg(id, MCP_INTERNAL_ERROR, "out of memory");
    return result_msg(id, result);
}

/* One request (has a valid id) -> the response message. */
static json_t *dispatch(mcp_server *s, const char *method, json_t *id, json_t *params)
{
    if (!strcmp(method, "initialize")) return handle_initialize(s, id, params);
    if (!strcmp(method, "ping")) return result_msg(id, json_object());
    if (!strcmp(method, "tools/list")) return result_msg(id, mcp_tools_list());
    if (!strcmp(method, "tools/call")) return handle_tools_call(s, id, params);
    char msg[160];
    snprintf(msg, sizeof msg, "method not found: %.100s", method);
    return error_msg(id, MCP_METHOD_NOT_FOUND, msg);
}

/* Builds the response to one parsed message, or NULL for none.  *none is set
 * when NULL means "nothing to send" rather than "out of memory". */
static json_t *handle_message(mcp_server *s, json_t *msg, bool *none)
{
    *none = false;
    if (json_is_array(msg))
        return error_msg(NULL, MCP_INVALID_REQUEST,
                         "batch requests are not supported: send one JSON-RPC object per line");
    if (!json_is_object(msg)) {
        char text[96];
        snprintf(text, sizeof text, "a request must be a JSON object, not %s",
                 ae_json_type_name(msg));
        return error_msg(NULL, MCP_INVALID_REQUEST, text);
    }
    json_t *id = json_object_get(msg, "id");
    bool id_ok = json_is_string(id) || json_is_integer(id);
    json_t *method = json_object_get(msg, "method");
    json_t *version = json_object_get(msg, "jsonrpc");
    json_t *params = json_object_get(msg, "params");

    /* A response from the client (we never send requests) or a notification:
     * never answered, even when malformed. */
    if (!method && (json_object_get(msg, "result") || json_object_get(msg, "error"))) {
        *none = true;
        return NULL;
    }
    if (!id && json_is_string(method)) {
        *none = true; /* notifications/initialized, notifications/cancelled, ... */
        return NULL;
    }
    json_t *reply_id = id_ok ? id : NULL;
    if (!json_is_string(version) || strcmp(json_string_value(version), "2.0") != 0)
        return error_msg(reply_id, MCP_INVALID_REQUEST, "jsonrpc must be \"2.0\"");
    if (!id_ok) {
        char text[96];
        snprintf(text, sizeof text, "id must be a string or an integer, not %s",
                 ae_json_type_name(id));
        return error_msg(NULL, MCP_INVALID_REQUEST, text);
    }
    if (!json_is_string(method))
        return error_msg(id, MCP_INVALID_REQUEST,
                         method ? "method must be a string" : "method is missing");
    if (params && !json_is_object(params)) {
        char text[96];
        snprintf(text, sizeof text, "params must be an object, not %s", ae_json_type_name(params));
        return error_msg(id, MCP_INVALID_PARAMS, text);
    }
    return dispatch(s, json_string_value(method), id, params);
}

int mcp_handle_line(mcp_server *s, const char *line, size_t len, char **response)
{
    *response = NULL;
    if (len && line[len - 1] == '\r') len--;
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i == len) return 0; /* blank line */

    json_error_t jerr;
    json_t *msg = json_loadb(line, len, JSON_ALLOW_NUL | JSON_DECODE_ANY, &jerr);
    json_t *reply;
    if (!msg) {
        char text[JSON_ERROR_TEXT_LENGTH + 64];
        snprintf(text, sizeof text, "parse error at column %d: %s", jerr.column, jerr.text);
        reply = error_msg(NULL, MCP_PARSE_ERROR, text);
    } else {
        bool none;
        reply = handle_message(s, msg, &none);
        json_decref(msg);
        if (!reply && none) return 0;
    }
    if (!reply) reply = error_msg(NULL, MCP_INTERNAL_ERROR, "out of memory");
    *response = dump(reply);
    return *response ? 0 : AE_ENOMEM;
}

char *mcp_oversized_response(const mcp_server *s)
{
    char text[128];
    snprintf(text, sizeof text, "request exceeds the %zu-byte line limit and was discarded",
             s->max_line);
    return dump(error_msg(NULL, MCP_INVALID_REQUEST, text));
}

static int send_line(FILE *out, const char *resp)
{
    if (fputs(resp, out) == EOF || fputc('\n', out) == EOF || fflush(out) == EOF) return AE_EIO;
    return 0;
}

/* Handles a complete line and sends the response, if any. */
static int serve_line(mcp_server *s, ae_buf *line, FILE *out)
{
    char *resp = NULL;
    mcp_handle_line(s, line->data ? line->data : "", line->len, &resp);
    line->len = 0;
    if (!resp) return 0;
    int rc = send_line(out, resp);
    free(resp);
    return rc;
}

static int serve_oversized(mcp_server *s, FILE *out)
{
    char *resp = mcp_oversized_response(s);
    if (!resp) return 0;
    int rc = send_line(out, resp);
    free(resp);
    return rc;
}

int mcp_serve(mcp_server *s, FILE *in, FILE *out)
{
    size_t max = s->max_line < MCP_MIN_MAX_LINE ? MCP_MIN_MAX_LINE : s->max_line;
    ae_buf line = {0};
    bool oversized = false;
    int rc = 0;
    for (;;) {
        int c = getc_unlocked(in);
        if (c == EOF) {
            if (ferror(in)) {
                rc = AE_EIO;
            } else if (oversized) {
                rc = serve_oversized(s, out);
            } else if (line.len) {
                rc = serve_line(s, &line, out); /* a last line without a newline */
            }
            break;
        }
        if (c == '\n') {
            rc = oversized ? serve_oversized(s, out) : serve_line(s, &line, out);
            oversized = false;
            line.len = 0;
            if (rc < 0) break;
            continue;
        }
        if (oversized) continue;
        char ch = (char)c;
        /* A line we cannot hold (over the limit or out of memory) is dropped
         * the same way. */
        if (line.len >= max || ae_buf_append(&line, &ch, 1) < 0) {
            oversized = true;
            line.len = 0;
        }
    }
    ae_buf_free(&line);
    return rc;
}
