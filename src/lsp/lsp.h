/* aetherd --lsp: what src/cli calls (docs/LSP.md). */
#ifndef AE_LSP_LSP_H
#define AE_LSP_LSP_H

#include <aether/aether.h>
#include <stdbool.h>
#include <stdio.h>

typedef struct lsp_run_options {
    int in_fd, out_fd; /* the client: 0 and 1 */
    FILE *log;         /* aetherd's own messages (stderr); never the protocol stream */
    /* --lsp --index: the watcher (include/aether/watch.h) runs in the same process (ws
     * read-write): the initial incremental pass, then re-indexing of what changes */
    bool index;
    int debounce_ms, poll_ms; /* watcher options; 0: the library's defaults */
    const char *version;
} lsp_run_options;

/* Serves LSP on in_fd/out_fd until exit or EOF; with index, polls the client and the watcher
 * together (a batch runs between two messages; the client hears of each batch through
 * window/logMessage).  Returns the process exit status: 0 after
 * shutdown + exit, 1 for exit without shutdown, EOF without exit or a failure. */
int lsp_run(ae_workspace *ws, const lsp_run_options *o);

#endif
