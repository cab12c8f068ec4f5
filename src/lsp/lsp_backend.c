/* The LSP server's backend over libaether: every call is one public call on the workspace. */
#include "lsp/lsp_backend.h"

#include <aether/explain.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/fs.h"
#include "util/mem.h"

static int be_relpath(void *ctx, const char *abs_path, char **rel, ae_error *err)
{
    return ae_workspace_relpath(ctx, abs_path, rel, err);
}

static char *be_abspath(void *ctx, const char *rel)
{
    return ae_path_join(ae_workspace_root(ctx), rel);
}

static int be_read_file(void *ctx, const char *rel, char **text, size_t *len, ae_error *err)
{
    char *path = ae_path_join(ae_workspace_root(ctx), rel);
    if (!path) return ae_fail(err, AE_ENOMEM, "path of %s", rel);
    int rc = ae_read_file(path, text, len, err);
    free(path);
    return rc;
}

static int be_symbols(void *ctx, const char *rel, const char *text, size_t len,
                      ae_doc_symbols **out, ae_error *err)
{
    (void)ctx;
    return ae_buffer_symbols(rel, text, len, out, err);
}

static int be_explain(void *ctx, const ae_doc_symbols *syms, ae_position pos,
                      ae_explain_result **out, ae_error *err)
{
    return ae_workspace_explain_buffer(ctx, syms, pos, out, err);
}

static int be_search(void *ctx, const char *query, ae_search_mode mode, size_t limit,
                     ae_search_results **out, ae_error *err)
{
    return ae_search_ex(ctx, query, mode, limit, NULL, out, err);
}

static int be_locate(void *ctx, const char *id, char **file, int *start, int *end, ae_error *err)
{
    return ae_workspace_symbol_location(ctx, id, file, start, end, err);
}

lsp_backend lsp_workspace_backend(ae_workspace *ws)
{
    lsp_backend b = {
        .ctx = ws,
        .relpath = be_relpath,
        .abspath = be_abspath,
        .read_file = be_read_file,
        .symbols = be_symbols,
        .explain = be_explain,
        .search = be_search,
        .locate = be_locate,
    };
    return b;
}
