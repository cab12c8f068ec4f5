/* The workspace writer lock: .aether/write.lock, flock(LOCK_EX), one writer of symbols, SIRs
 * and embeddings at a time (docs/ARCHITECTURE.md, "Watching").  Every writing entry point of
 * the library takes it for its duration: ae_workspace_index, ae_workspace_index_paths, the
 * admin writers (import, optimize, repair, migrate).  A writer that finds it held waits (up to
 * AE_WS_WRITE_WAIT_MS), so a one-shot run beside a watcher waits for the current batch
 * instead of failing; the watcher holds it only while a batch writes.
 *
 * Nested begin/end pairs are counted; the outermost end releases the vector tables' writer
 * locks too (they are otherwise held until close), so a long-lived handle holds no lock while
 * idle.  The outermost begin notices a learned embedding model that another writer replaced
 * meanwhile and reopens the embedder and the vector store. */
#ifndef AE_WORKSPACE_WRITE_LOCK_H
#define AE_WORKSPACE_WRITE_LOCK_H

#include "workspace/workspace.h"

#define AE_WS_WRITE_LOCK_FILE "write.lock"
#define AE_WS_WRITE_WAIT_MS   (10 * 60 * 1000)

/* AE_EBUSY "... is being written by pid N" after the wait, or at once when ws->cancel is set. */
int ae_ws_write_begin(ae_workspace *ws, ae_error *err);
void ae_ws_write_end(ae_workspace *ws);

#endif
