/* Workspace status and SIR lookup for the CLI and the MCP server. */
#include "workspace/workspace.h"

#include "store/table_index_policy.h"
#include "util/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ae_workspace_root(const ae_workspace *ws)
{
    return ws->root;
}

const char *ae_workspace_meta_path(const ae_workspace *ws)
{
    return ws->meta_path;
}

const char *ae_workspace_sir_dir(const ae_workspace *ws)
{
    return ws->sir_dir;
}

int ae_workspace_status(ae_workspace *ws, ae_status *out, ae_error *err)
{
    memset(out, 0, sizeof *out);
    out->store_present = ws->meta != NULL;
    out->vector_backend = ws->config.embeddings.vector_backend;
    out->embeddings_enabled = ws->config.embeddings.enabled;
    out->embedding_provider = ws->config.embeddings.provider;
    out->embedding_model = ws->config.embeddings.model ? ws->config.embeddings.model : "";
    out->vector_rows = -1;
    snprintf(out->index_state, sizeof out->index_state, "none");
    if (!ws->meta) return 0;
    AE_TRY(ae_meta_symbol_count(ws->meta, &out->symbol_count, err));
    AE_TRY(ae_meta_sir_count(ws->meta, &out->sir_count, err));
    ae_vector_store *vs;
    ae_error e2;
    size_t rows;
    if (ae_ws_vector_store(ws, &vs, &e2) == 0 && ae_vs_count(vs, NULL, NULL, &rows, &e2) == 0) {
        out->vector_rows = (int64_t)rows;
        snprintf(out->index_state, sizeof out->index_state, "exact scan");
        /* the table of the configured provider/model: "ivfpq nlist=N, rows
         * covered R, unindexed U" or why it is exact (table_index_policy.h) */
        if (!strcmp(ws->backend_name, "lancedb") &&
            ae_table_index_state(ws->vectors_dir, ws->config.embeddings.provider,
                                 ws->config.embeddings.model, out->index_state,
                                 sizeof out->index_state, &e2) < 0)
            snprintf(out->index_state, sizeof out->index_state, "exact scan (%.70s)", e2.message);
        else if (!strcmp(out->index_state, "no vectors") && rows > 0) /* another naming */
            ae_table_index_state(ws->vectors_dir, NULL, NULL, out->index_state,
                                 sizeof out->index_state, &e2);
    }
    return 0;
}

int ae_workspace_get_sir(ae_workspace *ws, const char *symbol_id, char **sir_json,
                         char sir_hash[65], ae_error *err)
{
    *sir_json = NULL;
    AE_RETURN_IF(!ws->meta, err, AE_ENOTFOUND, "local store not initialized");
    bool found;
    AE_TRY(ae_meta_sir_get(ws->meta, symbol_id, sir_json, sir_hash, &found, err));
    AE_RETURN_IF(!found, err, AE_ENOTFOUND, "no SIR for symbol_id %s", symbol_id);
    return 0;
}
