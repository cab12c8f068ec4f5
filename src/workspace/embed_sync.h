/* Embedding the SIRs that changed and pruning the vectors of symbols that are gone, for the
 * whole store (the one-shot pass) or for a list of symbol ids (a watch batch, which must not
 * pay for a scan of every SIR).  Both keep the same order of effects:
 *   embed -> the vector store commits -> embedding_state rows -> EMBEDDING_STORED callbacks;
 *   prune: embedding_state rows deleted -> the vector store deletes.
 * A crash between two steps costs a re-embed or leaves an untracked vector (removed when the
 * store is next opened read-write), never a state row claiming a vector the store lacks. */
#ifndef AE_WORKSPACE_EMBED_SYNC_H
#define AE_WORKSPACE_EMBED_SYNC_H

#include "util/mem.h"
#include "workspace/workspace.h"

/* Deletes the vectors (and embedding_state rows) of symbols that no longer exist: all of them
 * (ids NULL) or those among ids.  Adds to stats->embeddings_deleted. */
int ae_ws_embed_prune(ae_workspace *ws, const ae_strlist *ids, ae_index_stats *stats,
                      ae_error *err);

/* Embeds every current SIR whose embedding the active backend lacks or holds for another
 * sir_hash, provider or model: all of them (ids NULL) or those among ids.  Adds to
 * stats->embeddings_written; progress phase "embed". */
int ae_ws_embed_sync(ae_workspace *ws, const ae_index_callbacks *cb, const ae_strlist *ids,
                     ae_index_stats *stats, ae_error *err);

#endif
