/* One batch of the index pipeline: extracted files (and removed ones) in, one meta.sqlite
 * transaction out.  Both the one-shot pass (index_run.c) and the watcher feed it:
 *
 *   ix_batch_open(&cfg, &b, err);
 *   for each changed file:  ix_batch_add_file(b, path, &st, syms, n, err);   (copies syms)
 *   for each deleted file:  ix_batch_remove_file(b, path, err);
 *   ix_batch_apply(b, err);   (may be called again after more adds: the batch restarts empty)
 *   ix_batch_close(b);
 *
 * apply = plan, generate, write:
 *   1. add_file decided which symbols need a SIR (reads only): content changed, no SIR yet,
 *      another provider's SIR, a stale row, or a SIR made from other source (source_hash);
 *   2. those SIRs are generated with sir_concurrency in flight, outside any transaction, so
 *      the writer lock is not held while a model thinks;
 *   3. one transaction writes the removals, the symbols, the SIRs (fresh) and failures (stale,
 *      previous SIR kept) in the order the files and symbols were added, so the store does not
 *      depend on the concurrency; then the SIR mirrors are written and the callbacks
 *      (sir_stored, sir_stale) run, only for what committed.
 * A file is written whole or not at all: when the provider stops the batch (sir_provider.h,
 * failure policy) the files with symbols not attempted are left out (the next pass sees them
 * as changed), the others are written, and apply returns the provider's error.  A file with a
 * stale symbol is recorded with mtime_ns = -1, so the next pass re-extracts it and retries. */
#ifndef AE_WORKSPACE_INDEX_BATCH_H
#define AE_WORKSPACE_INDEX_BATCH_H

#include "sir/sir_provider.h"
#include "symbols/symbol.h"
#include "workspace/workspace.h"

#define AE_INDEX_BATCH_FILES 256  /* files per transaction */
#define AE_INDEX_BATCH_JOBS  1024 /* SIRs to generate per transaction */

typedef struct ix_batch ix_batch;

typedef struct ix_batch_config {
    ae_workspace *ws;
    const ae_index_callbacks *cb; /* may be NULL */
    ae_index_stats *stats;        /* counters are added to */
    ae_sir_provider *sirp;        /* borrowed */
    int sir_concurrency;          /* 0: AE_SIR_CONCURRENCY_DEFAULT */
    const char *commit_hash;      /* git HEAD for new history rows; NULL outside git */
} ix_batch_config;

int ix_batch_open(const ix_batch_config *cfg, ix_batch **out, ae_error *err);
/* syms are borrowed for the call (copied).  st is the file's (mtime, size) taken BEFORE it was
 * read for extraction, recorded with its symbols: a write racing the extraction then leaves a
 * state that differs from the file's, so the next pass reads it again (a state taken after the
 * read could describe newer content than the symbols).  NULL: none known (not recorded: the
 * next pass reads the file again). */
int ix_batch_add_file(ix_batch *b, const char *rel_path, const ae_file_state *st,
                      const ae_symbol *syms, size_t n, ae_error *err);
int ix_batch_remove_file(ix_batch *b, const char *rel_path, ae_error *err);
/* True when the batch reached AE_INDEX_BATCH_FILES files or AE_INDEX_BATCH_JOBS SIRs. */
bool ix_batch_full(const ix_batch *b);
int ix_batch_apply(ix_batch *b, ae_error *err);
void ix_batch_close(ix_batch *b); /* accepts NULL; drops what was not applied */

#endif
