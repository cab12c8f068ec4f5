/* Opening a workspace: paths, config, meta store; the vector store and the
 * embedder are opened lazily so lexical search never pays for them. */
#include "workspace/workspace.h"

#include "embed/embed.h"
#include "store/migrate.h"
#include "store/table_index_policy.h"
#include "util/err.h"
#include "util/fs.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void ae_ws_notice(ae_workspace *ws, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) >= 0) ae_strlist_push_owned(&ws->notices, s);
    va_end(ap);
}

int ae_workspace_open(const char *dir, const ae_open_options *opts, ae_workspace **out,
                      ae_error *err)
{
    *out = NULL;
    char resolved[PATH_MAX];
    if (!realpath(dir, resolved)) return ae_fail_errno(err, errno, "workspace %s", dir);
    if (!ae_is_dir(resolved))
        return ae_fail(err, AE_EINVAL, "workspace %s is not a directory", dir);
    ae_workspace *ws = calloc(1, sizeof *ws);
    if (!ws) return ae_fail(err, AE_ENOMEM, "out of memory");
    int rc = 0;
    ae_config_init_defaults(&ws->config);
    ws->readonly = opts && opts->readonly;
    ws->write_fd = -1;
    ws->root = ae_strdup(resolved);
    ws->aether_dir = ae_path_join(resolved, ".aether");
    ws->config_path = ae_path_join(ws->aether_dir, "config.toml");
    ws->meta_path = ae_path_join(ws->aether_dir, "meta.sqlite");
    ws->sir_dir = ae_path_join(ws->aether_dir, "sir");
    ws->vectors_dir = ae_path_join(ws->aether_dir, "vectors");
    if (!ws->root || !ws->aether_dir || !ws->config_path || !ws->meta_path || !ws->sir_dir ||
        !ws->vectors_dir)
        AE_FAIL(err, AE_ENOMEM, "out of memory");
    if (!ws->readonly) {
        AE_CHECK(ae_mkdirs(ws->aether_dir, err));
        /* A read-only workspace (media, mount or permissions) still serves
         * searches; writing needs .aether/ writable: say so up front. */
        if (access(ws->aether_dir, W_OK) != 0)
            AE_FAIL(err, AE_EIO,
                    "cannot write to %s: %s; the workspace can be searched but not indexed or "
                    "changed until it is writable",
                    ws->aether_dir, strerror(errno));
        AE_CHECK(ae_config_write_default(ws->config_path, err));
    }
    ae_config_free(&ws->config);
    AE_CHECK(ae_config_load(ws->config_path, &ws->config, err));
    ws->store_present = ae_path_exists(ws->meta_path);
    if (!ws->readonly || ws->store_present) {
        AE_CHECK(ae_meta_open(ws->meta_path, ws->readonly, &ws->meta, err));
        ws->store_present = true;
    }
    *out = ws;
    return 0;
cleanup:
    ae_workspace_close(ws);
    return rc;
}

void ae_workspace_close(ae_workspace *ws)
{
    if (!ws) return;
    ae_vs_close(ws->vs);
    if (ws->write_fd >= 0) close(ws->write_fd); /* releases the writer lock */
    ae_embedder_close(ws->embedder);
    ae_meta_close(ws->meta);
    ae_config_free(&ws->config);
    ae_strlist_free(&ws->notices);
    free(ws->root);
    free(ws->aether_dir);
    free(ws->config_path);
    free(ws->meta_path);
    free(ws->sir_dir);
    free(ws->vectors_dir);
    free(ws);
}

const char *const *ae_workspace_warnings(const ae_workspace *ws, size_t *n)
{
    *n = ws->config.warnings.len;
    return (const char *const *)ws->config.warnings.items;
}

const char *const *ae_workspace_notices(const ae_workspace *ws, size_t *n)
{
    *n = ws->notices.len;
    return (const char *const *)ws->notices.items;
}

int ae_ws_embedder(ae_workspace *ws, ae_embedder **out, ae_error *err)
{
    if (!ws->embedder) {
        const ae_config *c = &ws->config;
        char *models = ae_path_join(ws->aether_dir, "models");
        AE_RETURN_IF(!models, err, AE_ENOMEM, "out of memory");
        ae_embed_options o = {
            .provider = c->embeddings.provider,
            .model = c->embeddings.model,
            .dim = c->embeddings.dim,
            .endpoint = c->embeddings.endpoint,
            .api_key_env = c->embeddings.api_key_env,
            .batch_size = c->embeddings.batch_size,
            .model_dir = models,           /* learned providers ("ppmi") */
            .verify_model = !ws->readonly, /* the indexer checks every byte */
        };
        int rc = ae_embedder_open(&o, &ws->embedder, err);
        free(models);
        AE_TRY(rc);
    }
    *out = ws->embedder;
    return 0;
}

/* The configured backend, opened on first use. */
int ae_ws_vector_store(ae_workspace *ws, ae_vector_store **out, ae_error *err)
{
    if (!ws->vs) {
        AE_RETURN_IF(!ws->meta, err, AE_ENOTFOUND, "local store not initialized");
        if (!strcmp(ws->config.embeddings.vector_backend, "lancedb")) {
            AE_TRY(ae_vs_open_table(ws->vectors_dir, &ws->vs, err));
            ws->backend_name = "lancedb";
            /* the config's [search] target_recall, validated by the config */
            int trc = ae_tables_set_target_recall(ws->vs, ws->config.search.target_recall, err);
            /* [search] index_build_memory_mb (validated by the config): the
             * budget is the process's, as one process serves one workspace */
            ae_table_set_index_build_budget((size_t)ws->config.search.index_build_memory_mb << 20);
            if (trc < 0) {
                ae_vs_close(ws->vs);
                ws->vs = NULL;
                return trc;
            }
        } else {
            AE_TRY(ae_vs_open_sqlite(ws->meta_path, &ws->vs, err));
            ws->backend_name = "sqlite";
        }
        /* once per handle: first-run migration / switch sync (read-write),
         * or a fallback to the complete backend (read-only); migrate.h */
        int rc = ae_migrate_on_open(ws, err);
        if (rc < 0) {
            ae_vs_close(ws->vs);
            ws->vs = NULL;
            ws->backend_name = NULL;
            return rc;
        }
    }
    *out = ws->vs;
    return 0;
}
