/* aether-mcp tools: schemas, argument checks and handlers.
 *
 * The handlers reach the workspace only through mcp_backend, a table of
 * function pointers that main.c fills with the libaether calls.  Tests fill it
 * with fakes, so the whole protocol runs without a process or a store. */
#ifndef AE_MCP_TOOLS_H
#define AE_MCP_TOOLS_H

#include <aether/aether.h>
#include <aether/checks.h>
#include <aether/explain.h>
#include <aether/sir.h>
#include <jansson.h>

typedef struct mcp_backend {
    void *ctx;
    int (*status)(void *ctx, ae_status *out, ae_error *err);
    /* The SIR row with its status (the tools free it with ae_sir_info_free); AE_ENOTFOUND
     * when the symbol has no row. */
    int (*get_sir)(void *ctx, const char *symbol_id, ae_sir_info **out, ae_error *err);
    /* filter: aether_search's language / path_prefix / kind (NULL fields: any). */
    int (*search)(void *ctx, const char *query, ae_search_mode mode, size_t limit,
                  const ae_search_filter *filter, ae_search_results **out, ae_error *err);
    void (*results_free)(ae_search_results *r);
    /* Paths reported by aether_status (borrowed). */
    const char *(*root)(void *ctx);
    const char *(*meta_path)(void *ctx);
    const char *(*sir_dir)(void *ctx);
    /* aether_explain / aether_symbol_timeline / aether_why_changed (include/aether/explain.h);
     * the tools free the answers.  NULL: the tool answers that it is unavailable. */
    int (*explain)(void *ctx, const char *file_path, ae_position pos, ae_explain_result **out,
                   ae_error *err);
    int (*timeline)(void *ctx, const char *symbol_id, size_t limit, ae_sir_timeline **out,
                    ae_error *err);
    int (*why_changed)(void *ctx, const char *symbol_id, const ae_why_selector *sel,
                       ae_why_changed **out, ae_error *err);
    /* aether_verify (include/aether/checks.h); the tools free the result. */
    int (*verify)(void *ctx, const ae_verify_request *rq, ae_verify_result **out, ae_error *err);
} mcp_backend;

#define MCP_TOOL_COUNT 8

/* The tools/list result {"tools": [...]}: a new reference. */
json_t *mcp_tools_list(void);

/* Outcome of tools/call. */
typedef enum mcp_call_status {
    MCP_CALL_OK,           /* *result is a CallToolResult (possibly isError true) */
    MCP_CALL_UNKNOWN_TOOL, /* a protocol error (-32602); message in err */
} mcp_call_status;

/* Runs tool `name` with `args` (an object or NULL) and builds the CallToolResult:
 * {"content": [{"type": "text", "text": <json>}], "structuredContent": {...},
 * "isError": false}, or isError true with the message as text when the
 * arguments are wrong or the workspace call fails.  *result is a new reference.
 * Returns MCP_CALL_UNKNOWN_TOOL (and no result) for a tool that does not exist. */
mcp_call_status mcp_tools_call(const mcp_backend *be, const char *name, json_t *args,
                               json_t **result, ae_error *err);

#endif
