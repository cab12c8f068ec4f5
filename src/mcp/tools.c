/* aether-mcp tools.  What is unusual here:
 *
 * 1. Each tool's inputSchema is the contract the handler enforces by hand
 *    (jansson has no validator): unknown keys are refused (additionalProperties
 *    false), types and ranges are checked, and every failure names the tool,
 *    the argument and what was given.
 * 2. Bad arguments and workspace failures are tool results with isError true
 *    (the 2025-11-25 spec: the model should see them and correct itself); only
 *    an unknown tool name is a JSON-RPC error, raised by the caller.
 * 3. Every successful result carries the same object twice: as
 *    structuredContent (checked by clients against outputSchema) and as its
 *    JSON text in content[0], for clients that only read text.
 * 4. Match objects are field-for-field the CLI's `--output json` matches, so
 *    an agent sees the same data through either door. */
#include "mcp/tools.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "util/clock.h"
#include "util/err.h"
#include "util/json_type.h"

typedef json_t *(*tool_fn)(const mcp_backend *be, json_t *args);

typedef struct tool_def {
    const char *name, *title, *description;
    const char *const *args; /* accepted argument names, NULL-terminated */
    json_t *(*input_schema)(void);
    json_t *(*output_schema)(void);
    tool_fn run;
} tool_def;

static const char *mode_name(ae_search_mode m)
{
    switch (m) {
    case AE_SEARCH_LEXICAL:
        return "lexical";
    case AE_SEARCH_SEMANTIC:
        return "semantic";
    case AE_SEARCH_HYBRID:
        return "hybrid";
    }
    return "lexical";
}

/* ---- results ------------------------------------------------------------ */

static json_t *text_content(const char *text)
{
    return json_pack("[{s:s, s:s}]", "type", "text", "text", text);
}

/* {"content": [text], "isError": true}; the message is formatted. */
static json_t *tool_error(const char *fmt, ...) AE_PRINTF(1, 2);
static json_t *tool_error(const char *fmt, ...)
{
    char msg[AE_ERROR_MESSAGE_MAX + 128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return json_pack("{s:o, s:b}", "content", text_content(msg), "isError", 1);
}

/* Steals obj. */
static json_t *tool_ok(json_t *obj)
{
    if (!obj) return NULL;
    char *text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
    if (!text) {
        json_decref(obj);
        return NULL;
    }
    json_t *r = json_pack("{s:o, s:o, s:b}", "content", text_content(text), "structuredContent",
                          obj, "isError", 0);
    free(text);
    return r;
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* ---- argument checks ---------------------------------------------------- */

/* Each returns NULL when the argument is fine, or the isError result. */

static json_t *check_known(const tool_def *t, json_t *args)
{
    const char *key;
    json_t *v;
    json_object_foreach(args, key, v)
    {
        bool known = false;
        for (const char *const *a = t->args; *a; a++)
            if (!strcmp(key, *a)) known = true;
        if (known) continue;
        char accepted[128] = "";
        size_t used = 0;
        for (const char *const *a = t->args; *a && used < sizeof accepted; a++)
            used += (size_t)snprintf(accepted + used, sizeof accepted - used, "%s%s",
                                     a == t->args ? "" : ", ", *a);
        return tool_error("%s: unknown argument '%.64s' (accepted: %s)", t->name, key,
                          *t->args ? accepted : "none");
    }
    return NULL;
}

static json_t *get_string(const char *tool, json_t *args, const char *key, bool required,
                          const char **out)
{
    json_t *v = json_object_get(args, key);
    *out = NULL;
    if (!v) return required ? tool_error("%s: missing required argument '%s'", tool, key) : NULL;
    if (!json_is_string(v))
        return tool_error("%s: argument '%s' must be a string, not %s", tool, key,
                          ae_json_type_name(v));
    *out = json_string_value(v);
    return NULL;
}

/* limit: an integer (20.0 counts, JSON Schema's rule), clamped to min..max as the reference
 * does; only a value that is not an integer is an error. */
static json_t *get_limit_in(const char *tool, json_t *args, int def, int min, int max, size_t *out)
{
    json_t *v = json_object_get(args, "limit");
    *out = (size_t)def;
    if (!v) return NULL;
    double d;
    if (json_is_integer(v))
        d = (double)json_integer_value(v);
    else if (json_is_real(v) && isfinite(json_real_value(v)) &&
             json_real_value(v) == floor(json_real_value(v)))
        d = json_real_value(v);
    else
        return tool_error("%s: argument 'limit' must be an integer from %d to %d, not %s", tool,
                          min, max, ae_json_type_name(v));
    *out = d < min ? (size_t)min : d > max ? (size_t)max : (size_t)d;
    return NULL;
}

static json_t *get_limit(const char *tool, json_t *args, size_t *out)
{
    return get_limit_in(tool, args, AE_SEARCH_LIMIT_DEFAULT, AE_SEARCH_LIMIT_MIN,
                        AE_SEARCH_LIMIT_MAX, out);
}

/* An integer argument of at least min; *present tells whether it was given. */
static json_t *get_int(const char *tool, json_t *args, const char *key, bool required, int64_t min,
                       const char *unit, int64_t *out, bool *present)
{
    json_t *v = json_object_get(args, key);
    *out = 0;
    *present = v != NULL;
    if (!v) return required ? tool_error("%s: missing required argument '%s'", tool, key) : NULL;
    int64_t x;
    if (json_is_integer(v))
        x = json_integer_value(v);
    else if (json_is_real(v) && isfinite(json_real_value(v)) &&
             json_real_value(v) == floor(json_real_value(v)) && fabs(json_real_value(v)) < 9.0e15)
        x = (int64_t)json_real_value(v);
    else
        return tool_error("%s: argument '%s' must be an integer, not %s", tool, key,
                          ae_json_type_name(v));
    if (x < min)
        return tool_error("%s: argument '%s' must be %lld or more%s, not %lld", tool, key,
                          (long long)min, unit, (long long)x);
    *out = x;
    return NULL;
}

static json_t *get_mode(const char *tool, json_t *args, ae_search_mode *out)
{
    const char *s;
    *out = AE_SEARCH_LEXICAL;
    json_t *bad = get_string(tool, args, "mode", false, &s);
    if (bad || !s) return bad;
    if (!strcmp(s, "lexical"))
        *out = AE_SEARCH_LEXICAL;
    else if (!strcmp(s, "semantic"))
        *out = AE_SEARCH_SEMANTIC;
    else if (!strcmp(s, "hybrid"))
        *out = AE_SEARCH_HYBRID;
    else
        return tool_error("%s: argument 'mode' must be \"lexical\", \"semantic\" or \"hybrid\", "
                          "not \"%.64s\"",
                          tool, s);
    return NULL;
}

/* ---- schemas ------------------------------------------------------------ */

static json_t *query_prop(void)
{
    return json_pack("{s:s, s:s}", "type", "string", "description",
                     "Text to match: a symbol name or part of one for lexical search, "
                     "a natural-language description for semantic search.");
}

static json_t *limit_prop(void)
{
    return json_pack("{s:s, s:i, s:s}", "type", "integer", "default", AE_SEARCH_LIMIT_DEFAULT,
                     "description",
                     "Maximum number of matches; values outside 1..100 are clamped to it.");
}

static json_t *object_schema(json_t *props, json_t *required)
{
    json_t *s = json_pack("{s:s, s:o}", "type", "object", "properties", props);
    if (s && required) json_object_set_new(s, "required", required);
    if (s) json_object_set_new(s, "additionalProperties", json_false());
    return s;
}

static json_t *status_input(void)
{
    return object_schema(json_object(), NULL);
}

static json_t *lookup_input(void)
{
    return object_schema(json_pack("{s:o, s:o}", "query", query_prop(), "limit", limit_prop()),
                         json_pack("[s]", "query"));
}

static json_t *search_input(void)
{
    json_t *mode = json_pack("{s:s, s:[s,s,s], s:s, s:s}", "type", "string", "enum", "lexical",
                             "semantic", "hybrid", "default", "lexical", "description",
                             "lexical: name match; semantic: nearest SIR embeddings; hybrid: "
                             "both, fused by rank. Semantic and hybrid fall back to lexical "
                             "(with fallback_reason) when embeddings are unavailable.");
    return object_schema(
        json_pack("{s:o, s:o, s:o, s:{s:s, s:s}, s:{s:s, s:s}, s:{s:s, s:s}}", "query",
                  query_prop(), "limit", limit_prop(), "mode", mode, "language", "type", "string",
                  "description", "Only symbols of this language (python, c, typescript, ...).",
                  "path_prefix", "type", "string", "description",
                  "Only symbols whose workspace-relative file path starts with this.", "kind",
                  "type", "string", "description",
                  "Only symbols of this kind (function, method, class, struct, ...)."),
        json_pack("[s]", "query"));
}

static json_t *get_sir_input(void)
{
    return object_schema(json_pack("{s:{s:s, s:s}}", "symbol_id", "type", "string", "description",
                                   "A symbol_id (64 hex digits) from aether_symbol_lookup or "
                                   "aether_search."),
                         json_pack("[s]", "symbol_id"));
}

static json_t *typed(const char *type)
{
    return json_pack("{s:s}", "type", type);
}

static json_t *nullable(const char *type)
{
    return json_pack("{s:[s,s]}", "type", type, "null");
}

/* Output schemas list every field as required but leave additionalProperties
 * open, so fields can be added later without breaking clients. */
static json_t *output_schema(json_t *props)
{
    json_t *req = json_array();
    const char *key;
    json_t *v;
    json_object_foreach(props, key, v) json_array_append_new(req, json_string(key));
    return json_pack("{s:s, s:o, s:o}", "type", "object", "properties", props, "required", req);
}

static json_t *status_output(void)
{
    return output_schema(json_pack(
        "{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "schema_version",
        typed("integer"), "generated_at", typed("integer"), "workspace", typed("string"),
        "store_present", typed("boolean"), "sqlite_path", typed("string"), "sir_dir",
        typed("string"), "symbol_count", typed("integer"), "sir_count", typed("integer"),
        "vector_backend", typed("string"), "vector_rows", nullable("integer"), "index_state",
        typed("string"), "embeddings_enabled", typed("boolean"), "embedding_provider",
        nullable("string"), "embedding_model", nullable("string")));
}

static json_t *search_output(void)
{
    json_t *mode =
        json_pack("{s:s, s:[s,s,s]}", "type", "string", "enum", "lexical", "semantic", "hybrid");
    json_t *match = output_schema(
        json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "symbol_id", typed("string"), "qualified_name",
                  typed("string"), "file_path", typed("string"), "language", typed("string"),
                  "kind", typed("string"), "semantic_score", nullable("number")));
    return output_schema(json_pack("{s:o, s:o, s:O, s:o, s:o, s:o, s:{s:s, s:o}}", "query",
                                   typed("string"), "limit", typed("integer"), "mode_requested",
                                   mode, "mode_used", mode, "fallback_reason", nullable("string"),
                                   "result_count", typed("integer"), "matches", "type", "array",
                                   "items", match));
}

static json_t *get_sir_output(void)
{
    return output_schema(json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "found",
                                   typed("boolean"), "symbol_id", typed("string"), "sir_hash",
                                   typed("string"), "sir", nullable("object"), "sir_json",
                                   typed("string"), "sir_status", nullable("string"), "last_error",
                                   nullable("string"), "last_attempt_at", nullable("integer")));
}

/* ---- handlers ----------------------------------------------------------- */

static json_t *run_status(const mcp_backend *be, json_t *args)
{
    ae_status st;
    ae_error err;
    memset(&st, 0, sizeof st);
    ae_error_clear(&err);
    if (be->status(be->ctx, &st, &err) < 0) return tool_error("aether_status: %s", err.message);
    json_t *o = json_object();
    if (!o) return NULL;
    json_object_set_new(o, "schema_version", json_integer(1));
    json_object_set_new(o, "generated_at", json_integer(ae_now_ms() / 1000)); /* unix seconds */
    json_object_set_new(o, "workspace", json_string(be->root(be->ctx)));
    json_object_set_new(o, "store_present", json_boolean(st.store_present));
    json_object_set_new(o, "sqlite_path", json_string(be->meta_path(be->ctx)));
    json_object_set_new(o, "sir_dir", json_string(be->sir_dir(be->ctx)));
    json_object_set_new(o, "symbol_count", json_integer(st.symbol_count));
    json_object_set_new(o, "sir_count", json_integer(st.sir_count));
    json_object_set_new(o, "vector_backend",
                        json_string(st.vector_backend ? st.vector_backend : "unknown"));
    json_object_set_new(o, "vector_rows",
                        st.vector_rows < 0 ? json_null() : json_integer(st.vector_rows));
    json_object_set_new(o, "index_state", json_string(st.index_state));
    json_object_set_new(o, "embeddings_enabled", json_boolean(st.embeddings_enabled));
    json_object_set_new(o, "embedding_provider", str_or_null(st.embedding_provider));
    json_object_set_new(o, "embedding_model", str_or_null(st.embedding_model));
    return tool_ok(o);
}

static json_t *match_json(const ae_match *m)
{
    json_t *score = m->has_semantic_score && isfinite(m->semantic_score)
                        ? json_real(m->semantic_score)
                        : json_null();
    return json_pack("{s:s?, s:s?, s:s?, s:s?, s:s?, s:o}", "symbol_id", m->symbol_id,
                     "qualified_name", m->qualified_name, "file_path", m->file_path, "language",
                     m->language, "kind", m->kind, "semantic_score", score);
}

static json_t *search_common(const mcp_backend *be, const char *tool, json_t *args,
                             bool lexical_only)
{
    const char *query;
    size_t limit;
    ae_search_mode mode = AE_SEARCH_LEXICAL;
    json_t *bad = get_string(tool, args, "query", true, &query);
    if (!bad) bad = get_limit(tool, args, &limit);
    if (!bad && !lexical_only) bad = get_mode(tool, args, &mode);
    ae_search_filter filter = {0};
    if (!bad && !lexical_only) bad = get_string(tool, args, "language", false, &filter.language);
    if (!bad && !lexical_only)
        bad = get_string(tool, args, "path_prefix", false, &filter.path_prefix);
    if (!bad && !lexical_only) bad = get_string(tool, args, "kind", false, &filter.kind);
    if (bad) return bad;

    ae_search_results *r = NULL;
    ae_error err;
    ae_error_clear(&err);
    if (be->search(be->ctx, query, mode, limit, lexical_only ? NULL : &filter, &r, &err) < 0)
        return tool_error("%s: %s", tool, err.message);
    json_t *matches = json_array();
    for (size_t i = 0; matches && i < r->n; i++) {
        json_t *m = match_json(&r->matches[i]);
        if (!m || json_array_append_new(matches, m) < 0) {
            json_decref(matches);
            matches = NULL;
        }
    }
    json_t *o = matches
                    ? json_pack("{s:s, s:I, s:s, s:s, s:o, s:I, s:o}", "query", query, "limit",
                                (json_int_t)limit, "mode_requested", mode_name(r->mode_requested),
                                "mode_used", mode_name(r->mode_used), "fallback_reason",
                                str_or_null(r->fallback_reason), "result_count", (json_int_t)r->n,
                                "matches", matches)
                    : NULL;
    be->results_free(r);
    return tool_ok(o);
}

static json_t *run_lookup(const mcp_backend *be, json_t *args)
{
    return search_common(be, "aether_symbol_lookup", args, true);
}

static json_t *run_search(const mcp_backend *be, json_t *args)
{
    return search_common(be, "aether_search", args, false);
}

/* Reference-contract section 6: found, symbol_id, sir, sir_json, sir_hash and the status
 * (sir_status, last_error, last_attempt_at).  A row whose first generation failed has no SIR:
 * found false with the status saying why.  A symbol without any row is a tool error naming
 * where ids come from. */
static json_t *run_get_sir(const mcp_backend *be, json_t *args)
{
    const char *id;
    json_t *bad = get_string("aether_get_sir", args, "symbol_id", true, &id);
    if (bad) return bad;
    ae_sir_info *info = NULL;
    ae_error err;
    ae_error_clear(&err);
    int rc = be->get_sir(be->ctx, id, &info, &err);
    if (rc == AE_ENOTFOUND)
        return tool_error("aether_get_sir: no SIR for symbol_id '%.80s' (%s); find ids with "
                          "aether_symbol_lookup",
                          id, err.message);
    if (rc < 0) return tool_error("aether_get_sir: %s", err.message);
    json_t *sir = json_null(), *out;
    json_error_t jerr;
    if (info->has_sir) sir = json_loads(info->sir_json, 0, &jerr); /* json_is_object is a macro */
    if (info->has_sir && !json_is_object(sir)) {
        out = tool_error("aether_get_sir: the stored SIR of %.80s is not a JSON object: %s", id,
                         sir ? "wrong type" : jerr.text);
        json_decref(sir);
        ae_sir_info_free(info);
        return out;
    }
    out = tool_ok(
        json_pack("{s:b, s:s, s:o, s:s, s:s, s:s, s:o, s:o}", "found", info->has_sir, "symbol_id",
                  id, "sir", sir, "sir_json", info->has_sir ? info->sir_json : "", "sir_hash",
                  info->sir_hash, "sir_status", info->sir_status, "last_error",
                  info->last_error ? json_string(info->last_error) : json_null(), "last_attempt_at",
                  info->last_attempt_at > 0 ? json_integer(info->last_attempt_at) : json_null()));
    ae_sir_info_free(info);
    return out;
}

/* ---- explain, timeline, why-changed ------------------------------------- */

static json_t *symbol_id_prop(void)
{
    return json_pack("{s:s, s:s}", "type", "string", "description",
                     "A symbol_id (64 hex digits) from aether_symbol_lookup, aether_search or "
                     "aether_explain; an empty one answers found false.");
}

static json_t *int_prop(int min, const char *description)
{
    return json_pack("{s:s, s:i, s:s}", "type", "integer", "minimum", min, "description",
                     description);
}

static json_t *explain_input(void)
{
    return object_schema(
        json_pack("{s:{s:s, s:s}, s:o, s:o}", "file_path", "type", "string", "description",
                  "The file, relative to the workspace root (or absolute under it).", "line",
                  int_prop(1, "1-based line."), "column",
                  int_prop(1, "1-based column, in characters.")),
        json_pack("[s,s,s]", "file_path", "line", "column"));
}

static json_t *timeline_input(void)
{
    json_t *limit =
        json_pack("{s:s, s:i, s:s}", "type", "integer", "default", AE_TIMELINE_LIMIT_DEFAULT,
                  "description", "How many of the latest versions to return (clamped to 1..1000).");
    return object_schema(json_pack("{s:o, s:o}", "symbol_id", symbol_id_prop(), "limit", limit),
                         json_pack("[s]", "symbol_id"));
}

static json_t *why_input(void)
{
    return object_schema(
        json_pack("{s:o, s:o, s:o, s:o, s:o}", "symbol_id", symbol_id_prop(), "from_version",
                  int_prop(1, "Compare this version (with to_version)."), "to_version",
                  int_prop(1, "... to this one."), "from_created_at",
                  int_prop(0, "Compare the latest version at or before this created_at (unix "
                              "milliseconds, as in aether_symbol_timeline; with "
                              "to_created_at)."),
                  "to_created_at",
                  int_prop(0, "... to the latest at or before this one. Without either pair "
                              "the latest two versions are compared.")),
        json_pack("[s]", "symbol_id"));
}

static json_t *entry_schema(void)
{
    return output_schema(json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "version", typed("integer"),
                                   "sir_hash", typed("string"), "provider", typed("string"),
                                   "model", typed("string"), "created_at", typed("integer"),
                                   "commit_hash", nullable("string")));
}

static json_t *explain_output(void)
{
    return output_schema(json_pack(
        "{s:o, s:o, s:{s:s, s:{s:o, s:o}}, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "found",
        typed("boolean"), "file_path", typed("string"), "position", "type", "object", "properties",
        "line", typed("integer"), "column", typed("integer"), "symbol_id", nullable("string"),
        "qualified_name", nullable("string"), "hover_markdown", nullable("string"), "sir",
        nullable("object"), "sir_status", nullable("string"), "last_error", nullable("string"),
        "last_attempt_at", nullable("integer"), "history_hint", nullable("string")));
}

static json_t *timeline_output(void)
{
    return output_schema(json_pack("{s:o, s:o, s:o, s:o, s:{s:s, s:o}}", "symbol_id",
                                   typed("string"), "limit", typed("integer"), "found",
                                   typed("boolean"), "result_count", typed("integer"), "timeline",
                                   "type", "array", "items", entry_schema()));
}

static json_t *why_output(void)
{
    json_t *end = entry_schema();
    json_object_set_new(end, "type", json_pack("[s,s]", "object", "null"));
    json_t *reason = json_pack("{s:[s,s], s:[s,s,s,n]}", "type", "string", "null", "enum",
                               "no_history", "single_version_only", "selector_not_found");
    json_t *mode =
        json_pack("{s:s, s:[s,s,s]}", "type", "string", "enum", "auto", "version", "timestamp");
    json_t *list = json_pack("{s:s, s:{s:s}}", "type", "array", "items", "type", "string");
    return output_schema(json_pack(
        "{s:o, s:o, s:o, s:o, s:O, s:o, s:o, s:o, s:O, s:O, s:o}", "symbol_id", typed("string"),
        "found", typed("boolean"), "reason", reason, "selector_mode", mode, "from", end, "to", end,
        "prior_summary", nullable("string"), "current_summary", nullable("string"), "fields_added",
        list, "fields_removed", list, "fields_modified", list));
}

static json_t *sir_or_null(const char *tool, const char *sir_json)
{
    if (!sir_json) return json_null();
    json_t *sir = json_loads(sir_json, 0, NULL);
    if (json_is_object(sir)) return sir;
    json_decref(sir);
    (void)tool;
    return json_null();
}

static json_t *unavailable(const char *tool)
{
    return tool_error("%s: not available in this server", tool);
}

static json_t *run_explain(const mcp_backend *be, json_t *args)
{
    const char *tool = "aether_explain", *path;
    int64_t line, column;
    bool given;
    json_t *bad = get_string(tool, args, "file_path", true, &path);
    if (!bad) bad = get_int(tool, args, "line", true, 1, " (lines are 1-based)", &line, &given);
    if (!bad)
        bad = get_int(tool, args, "column", true, 1, " (columns are 1-based)", &column, &given);
    if (!bad && (line > INT32_MAX || column > INT32_MAX))
        bad = tool_error("%s: argument '%s' is too large", tool,
                         line > INT32_MAX ? "line" : "column");
    if (bad) return bad;
    if (!be->explain) return unavailable(tool);
    ae_explain_result *x = NULL;
    ae_error err;
    ae_error_clear(&err);
    ae_position pos = {(int)line, (int)column};
    if (be->explain(be->ctx, path, pos, &x, &err) < 0)
        return tool_error("%s: %s", tool, err.message);
    bool row = x->found && x->sir_status[0];
    json_t *o =
        json_pack("{s:b, s:s, s:{s:i, s:i}, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "found", x->found,
                  "file_path", x->file_path, "position", "line", pos.line, "column", pos.column,
                  "symbol_id", x->found ? json_string(x->symbol_id) : json_null(), "qualified_name",
                  str_or_null(x->qualified_name), "hover_markdown", str_or_null(x->hover_markdown),
                  "sir", sir_or_null(tool, x->has_sir ? x->sir_json : NULL), "sir_status",
                  row ? json_string(x->sir_status) : json_null(), "last_error",
                  str_or_null(x->last_error), "last_attempt_at",
                  row && x->last_attempt_at > 0 ? json_integer(x->last_attempt_at) : json_null());
    if (o) {
        json_object_set_new(o, "history_hint", str_or_null(x->history_hint));
        if (x->found) {
            json_object_set_new(o, "start_line", json_integer(x->start_line));
            json_object_set_new(o, "end_line", json_integer(x->end_line));
        }
    }
    ae_explain_result_free(x);
    return tool_ok(o);
}

static json_t *entry_json(const ae_sir_entry *e)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:I, s:o}", "version", (json_int_t)e->version,
                     "sir_hash", e->sir_hash, "provider", e->provider ? e->provider : "", "model",
                     e->model ? e->model : "", "created_at", (json_int_t)e->created_at,
                     "commit_hash", str_or_null(e->commit_hash));
}

static json_t *run_timeline(const mcp_backend *be, json_t *args)
{
    const char *tool = "aether_symbol_timeline", *id;
    size_t limit;
    json_t *bad = get_string(tool, args, "symbol_id", true, &id);
    if (!bad)
        bad = get_limit_in(tool, args, AE_TIMELINE_LIMIT_DEFAULT, AE_TIMELINE_LIMIT_MIN,
                           AE_TIMELINE_LIMIT_MAX, &limit);
    if (bad) return bad;
    if (!be->timeline) return unavailable(tool);
    ae_sir_timeline *t = NULL;
    ae_error err;
    ae_error_clear(&err);
    if (be->timeline(be->ctx, id, limit, &t, &err) < 0)
        return tool_error("%s: %s", tool, err.message);
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < t->n; i++)
        if (json_array_append_new(arr, entry_json(&t->entries[i])) < 0) {
            json_decref(arr);
            arr = NULL;
        }
    json_t *o =
        arr ? json_pack("{s:s, s:I, s:b, s:I, s:o}", "symbol_id", id, "limit", (json_int_t)limit,
                        "found", t->n > 0, "result_count", (json_int_t)t->n, "timeline", arr)
            : NULL;
    ae_sir_timeline_free(t);
    return tool_ok(o);
}

static json_t *list_json(const ae_strlist *l)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < l->len; i++)
        json_array_append_new(a, json_string(l->items[i]));
    return a;
}

static json_t *run_why_changed(const mcp_backend *be, json_t *args)
{
    const char *tool = "aether_why_changed", *id;
    int64_t v[4];
    bool given[4];
    static const char *const keys[4] = {"from_version", "to_version", "from_created_at",
                                        "to_created_at"};
    json_t *bad = get_string(tool, args, "symbol_id", true, &id);
    for (int i = 0; i < 4 && !bad; i++)
        bad = get_int(tool, args, keys[i], false, i < 2 ? 1 : 0, "", &v[i], &given[i]);
    if (bad) return bad;
    bool by_version = given[0] || given[1], by_time = given[2] || given[3];
    if (by_version && by_time)
        return tool_error("%s: give either from_version and to_version or from_created_at and "
                          "to_created_at, not both (got %s and %s)",
                          tool, given[0] ? "from_version" : "to_version",
                          given[2] ? "from_created_at" : "to_created_at");
    for (int i = 0; i < 4; i += 2)
        if (given[i] != given[i + 1])
            return tool_error("%s: argument '%s' needs '%s' too", tool, keys[given[i] ? i : i + 1],
                              keys[given[i] ? i + 1 : i]);
    ae_why_selector sel = {AE_WHY_AUTO, 0, 0};
    if (by_version) sel = (ae_why_selector){AE_WHY_VERSION, v[0], v[1]};
    if (by_time) sel = (ae_why_selector){AE_WHY_TIMESTAMP, v[2], v[3]};
    if (!be->why_changed) return unavailable(tool);
    ae_why_changed *w = NULL;
    ae_error err;
    ae_error_clear(&err);
    if (be->why_changed(be->ctx, id, &sel, &w, &err) < 0)
        return tool_error("%s: %s", tool, err.message);
    json_t *o =
        json_pack("{s:s, s:b, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "symbol_id", id,
                  "found", w->found, "reason", str_or_null(w->reason), "selector_mode",
                  ae_why_mode_name(w->mode), "from", w->found ? entry_json(&w->from) : json_null(),
                  "to", w->found ? entry_json(&w->to) : json_null(), "prior_summary",
                  str_or_null(w->prior_summary), "current_summary", str_or_null(w->current_summary),
                  "fields_added", list_json(&w->fields_added), "fields_removed",
                  list_json(&w->fields_removed), "fields_modified", list_json(&w->fields_modified));
    ae_why_changed_free(w);
    return tool_ok(o);
}

/* ---- verify ------------------------------------------------------------- */

static json_t *verify_input(void)
{
    json_t *mode =
        json_pack("{s:s, s:[s,s,s], s:s}", "type", "string", "enum", "host", "container", "microvm",
                  "description", "Where to run (default: [verify] mode of the config).");
    return object_schema(
        json_pack("{s:{s:s, s:{s:s}, s:s}, s:o, s:{s:s, s:s}, s:{s:s, s:s}}", "commands", "type",
                  "array", "items", "type", "string", "description",
                  "Commands to run, each on the [verify] allow-list (default: the whole list).",
                  "mode", mode, "fallback_to_host_on_unavailable", "type", "boolean", "description",
                  "Run on the host when the container or microvm is unavailable.",
                  "fallback_to_container_on_unavailable", "type", "boolean", "description",
                  "Run in a container when the microvm is unavailable."),
        NULL);
}

static json_t *verify_output(void)
{
    json_t *res = output_schema(json_pack(
        "{s:o, s:o, s:o, s:o, s:o}", "command", typed("string"), "exit_code", nullable("integer"),
        "stdout", typed("string"), "stderr", typed("string"), "passed", typed("boolean")));
    json_t *strs = json_pack("{s:s, s:{s:s}}", "type", "array", "items", "type", "string");
    return output_schema(json_pack(
        "{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:O, s:o, s:o, s:o, s:{s:s, s:o}}", "schema_version",
        typed("integer"), "workspace", typed("string"), "mode", typed("string"), "mode_requested",
        typed("string"), "mode_used", nullable("string"), "fallback_reason", nullable("string"),
        "allowlisted_commands", strs, "requested_commands", strs, "passed", typed("boolean"),
        "error", nullable("string"), "result_count", typed("integer"), "results", "type", "array",
        "items", res));
}

static json_t *get_bool(const char *tool, json_t *args, const char *key, int *out)
{
    json_t *v = json_object_get(args, key);
    *out = -1;
    if (!v) return NULL;
    if (!json_is_boolean(v))
        return tool_error("%s: argument '%s' must be a boolean, not %s", tool, key,
                          ae_json_type_name(v));
    *out = json_is_true(v);
    return NULL;
}

static json_t *run_verify(const mcp_backend *be, json_t *args)
{
    const char *tool = "aether_verify", *mode = NULL;
    ae_verify_request rq = {NULL, 0, NULL, -1, -1};
    json_t *bad = get_string(tool, args, "mode", false, &mode);
    if (!bad && mode && strcmp(mode, "host") && strcmp(mode, "container") &&
        strcmp(mode, "microvm"))
        bad = tool_error("%s: argument 'mode' must be \"host\", \"container\" or \"microvm\", "
                         "not \"%.64s\"",
                         tool, mode);
    if (!bad) bad = get_bool(tool, args, "fallback_to_host_on_unavailable", &rq.fallback_host);
    if (!bad)
        bad = get_bool(tool, args, "fallback_to_container_on_unavailable", &rq.fallback_container);
    json_t *cmds = json_object_get(args, "commands");
    const char *list[64];
    if (!bad && cmds) {
        if (!json_is_array(cmds))
            bad = tool_error("%s: argument 'commands' must be an array of strings, not %s", tool,
                             ae_json_type_name(cmds));
        else if (json_array_size(cmds) > 64)
            bad = tool_error("%s: argument 'commands' has %zu items; at most 64", tool,
                             json_array_size(cmds));
        for (size_t i = 0; !bad && i < json_array_size(cmds); i++) {
            json_t *c = json_array_get(cmds, i);
            if (!json_is_string(c))
                bad = tool_error("%s: argument 'commands' item %zu must be a string, not %s", tool,
                                 i + 1, ae_json_type_name(c));
            else
                list[rq.n_commands++] = json_string_value(c);
        }
        rq.commands = list;
    }
    if (bad) return bad;
    rq.mode = mode;
    if (!be->verify) return unavailable(tool);
    ae_verify_result *r = NULL;
    ae_error err;
    ae_error_clear(&err);
    if (be->verify(be->ctx, &rq, &r, &err) < 0) return tool_error("%s: %s", tool, err.message);
    char *text = ae_verify_result_json(r);
    ae_verify_result_free(r);
    json_t *o = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    return tool_ok(o);
}

/* ---- the table ---------------------------------------------------------- */

static const char *const no_args[] = {NULL};
static const char *const lookup_args[] = {"query", "limit", NULL};
static const char *const search_args[] = {"query",       "limit", "mode", "language",
                                          "path_prefix", "kind",  NULL};
static const char *const get_sir_args[] = {"symbol_id", NULL};
static const char *const explain_args[] = {"file_path", "line", "column", NULL};
static const char *const timeline_args[] = {"symbol_id", "limit", NULL};
static const char *const verify_args[] = {"commands", "mode", "fallback_to_host_on_unavailable",
                                          "fallback_to_container_on_unavailable", NULL};
static const char *const why_args[] = {"symbol_id",       "from_version",  "to_version",
                                       "from_created_at", "to_created_at", NULL};

static const tool_def tool_defs[MCP_TOOL_COUNT] = {
    {"aether_status", "Workspace index status",
     "Reports whether this workspace has an aether index and how big and fresh it is: symbol "
     "and SIR counts, store paths, the vector backend and its row count, the ANN index state, "
     "and the embedding provider.",
     no_args, status_input, status_output, run_status},
    {"aether_symbol_lookup", "Look up symbols by name",
     "Finds symbols whose qualified name contains the query (exact names first, then "
     "prefixes, then substrings). Lexical only; returns symbol ids for aether_get_sir.",
     lookup_args, lookup_input, search_output, run_lookup},
    {"aether_search", "Search symbols",
     "Searches the workspace's symbols lexically (by name), semantically (by meaning, over "
     "the SIR embeddings) or both (hybrid). Reports the mode actually used and why it fell "
     "back, if it did.",
     search_args, search_input, search_output, run_search},
    {"aether_get_sir", "Get a symbol's SIR",
     "Returns the stored SIR (structured summary: intent, inputs, outputs, side effects, "
     "dependencies, error modes, confidence) of one symbol, parsed and as canonical JSON.",
     get_sir_args, get_sir_input, get_sir_output, run_get_sir},
    {"aether_explain", "Explain the symbol at a position",
     "Finds the innermost symbol at a 1-based line and column of a file and returns its SIR, "
     "its status (fresh or stale, with the last error) and the hover Markdown an editor shows.",
     explain_args, explain_input, explain_output, run_explain},
    {"aether_symbol_timeline", "A symbol's SIR history",
     "Lists the recorded SIR versions of a symbol, oldest first (the last `limit` of them): "
     "version, hash, provider, model, when, and the git commit it was written at.",
     timeline_args, timeline_input, timeline_output, run_timeline},
    {"aether_why_changed", "Why a symbol's SIR changed",
     "Compares two SIR versions of a symbol (the latest two, two version numbers, or the "
     "versions current at two times) and names the fields added, removed and modified, with "
     "both intents.",
     why_args, why_input, why_output, run_why_changed},
    {"aether_verify", "Run the workspace's check commands",
     "Runs the verification commands allow-listed in the workspace's [verify] config (tests, "
     "linters) on the host or in a container, each with a timeout and an output cap; stops "
     "at the first failure. Commands not on the allow-list are refused without running "
     "anything.",
     verify_args, verify_input, verify_output, run_verify},
};

json_t *mcp_tools_list(void)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < MCP_TOOL_COUNT; i++) {
        const tool_def *t = &tool_defs[i];
        json_t *o =
            json_pack("{s:s, s:s, s:s, s:o, s:o, s:{s:b, s:b, s:b}}", "name", t->name, "title",
                      t->title, "description", t->description, "inputSchema", t->input_schema(),
                      "outputSchema", t->output_schema(), "annotations", "readOnlyHint",
                      t->run != run_verify, "destructiveHint", 0, "openWorldHint", 0);
        if (!o || json_array_append_new(arr, o) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr ? json_pack("{s:o}", "tools", arr) : NULL;
}

mcp_call_status mcp_tools_call(const mcp_backend *be, const char *name, json_t *args,
                               json_t **result, ae_error *err)
{
    *result = NULL;
    for (size_t i = 0; i < MCP_TOOL_COUNT; i++) {
        const tool_def *t = &tool_defs[i];
        if (strcmp(name, t->name) != 0) continue;
        json_t *empty = NULL;
        if (!args) args = empty = json_object();
        json_t *bad = args ? check_known(t, args) : NULL;
        *result = bad ? bad : args ? t->run(be, args) : NULL;
        json_decref(empty);
        return MCP_CALL_OK;
    }
    char names[512] = "";
    size_t used = 0;
    for (size_t i = 0; i < MCP_TOOL_COUNT && used < sizeof names; i++)
        used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                                 tool_defs[i].name);
    ae_fail(err, AE_ENOTFOUND, "unknown tool: %.100s (tools: %s)", name, names);
    return MCP_CALL_UNKNOWN_TOOL;
}
