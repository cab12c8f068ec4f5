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

/* The record of a complete sync (docs/ARCHITECTURE.md, "Watching": restarts).  After a
 * whole-store check found nothing to embed or prune and no SIR of another provider, the pass
 * records aether_c_meta(key = AE_WS_SYNC_CLEAN_KEY) = the key below; triggers on sir, symbols
 * and embedding_state (src/meta/meta.c) delete that row in the transaction of any write to
 * them, by any writer, so while the row is there with the same key nothing the checks look at
 * has changed and the next pass may skip them.  A crash or another writer in between leaves
 * no row: the checks run. */
#define AE_WS_SYNC_CLEAN_KEY "embed_sync_clean"
#define AE_WS_SYNC_KEY_MAX   512

/* "v1 <backend> <embedding provider> <model> <SIR provider> <model>" (tabs) for this
 * workspace's active embedder and the given SIR provider; key[0] = '\0' when there is none to
 * compare (embeddings off, no model yet). */
void ae_ws_sync_key(ae_workspace *ws, const char *sir_provider, const char *sir_model,
                    char key[AE_WS_SYNC_KEY_MAX]);
/* Is the recorded key equal to key (and key non-empty)?  Errors read as "no". */
bool ae_ws_sync_is_clean(ae_workspace *ws, const char *key);
/* Records key (its own transaction); key "" removes the record. */
int ae_ws_sync_mark_clean(ae_workspace *ws, const char *key, ae_error *err);

#endif
