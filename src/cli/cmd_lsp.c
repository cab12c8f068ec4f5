/* aetherd --lsp [--index]: opens the workspace (read-only without --index, so an editor's
 * server never takes the writer lock a running aetherd holds) and serves LSP on stdio. */
#include "cli/cli.h"
#include "lsp/lsp.h"

#include <stdio.h>
#include <unistd.h>

int cli_cmd_lsp(ae_workspace *unused, const cli_options *o)
{
    (void)unused;
    ae_workspace *ws;
    ae_error err;
    ae_open_options oo = {.readonly = !o->lsp_index};
    if (ae_workspace_open(o->workspace, &oo, &ws, &err) < 0) {
        fprintf(stderr, "aetherd: %s\n", err.message);
        return EXIT_RUNTIME;
    }
    size_t nw;
    const char *const *warnings = ae_workspace_warnings(ws, &nw);
    for (size_t i = 0; i < nw; i++)
        fprintf(stderr, "aetherd: warning: %s\n", warnings[i]);
    int rc = o->lsp_index ? cli_index_setup(ws, o) : 0;
    if (!rc) {
        lsp_run_options lo = {.in_fd = STDIN_FILENO,
                              .out_fd = STDOUT_FILENO,
                              .log = stderr,
                              .index = o->lsp_index,
                              .debounce_ms = o->debounce_ms,
                              .poll_ms = o->poll_ms,
                              .version = AE_VERSION};
        rc = lsp_run(ws, &lo);
    }
    ae_workspace_close(ws);
    return rc;
}
