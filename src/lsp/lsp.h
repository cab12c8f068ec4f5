/* aetherd --lsp: what src/cli calls (docs/LSP.md). */
#ifndef AE_LSP_LSP_H
#define AE_LSP_LSP_H

#include <aether/aether.h>
#include <stdbool.h>
#include <stdio.h>

typedef struct lsp_run_options {
    int in_fd, out_fd; /* the client: 0 and 1 */
    FILE *log;         /* aetherd's own messages (stderr); never the protocol stream */
    /* --lsp --index: index the workspace in the same process (ws read-write) */
    bool index;
    const char *version;
} lsp_run_options;

/* Serves LSP on in_fd/out_fd until exit or EOF.  Returns the process exit status: 0 after
 * shutdown + exit, 1 for exit without shutdown, EOF without exit or a failure. */
int lsp_run(ae_workspace *ws, const lsp_run_options *o);

#endif
