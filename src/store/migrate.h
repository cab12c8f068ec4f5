/* Moving embeddings between the two VectorStore backends (internal).
 *
 *   first run   sqlite -> lancedb: every legacy sir_embeddings row is copied
 *               into its (provider, model, dim) table, then the marker
 *               .aether/vectors/.sqlite_migrated_v1 is written (fsync'd).
 *   on switch   whenever a backend is opened read-write as the active one,
 *               every embedding the other backend holds (current for its
 *               symbol, or tracked in its embedding_state: imported rows of
 *               non-symbols too) that the active one lacks is copied over;
 *               right after a switch, rows the other backend deleted leave.
 *
 * The difference is found with SQL over meta.sqlite (embedding_state, sir,
 * sir_embeddings), never by scanning both stores.  SQLite rows are never
 * deleted here.  See docs/MIGRATION.md for the invariant and the test hooks. */
#ifndef AE_STORE_MIGRATE_H
#define AE_STORE_MIGRATE_H

#include "meta/meta.h"

#include <aether/admin.h>
#include <aether/error.h>
#include <aether/vector_store.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AE_MIGRATE_MARKER ".sqlite_migrated_v1" /* the reference tool's name */
/* ae_migrate_opts, ae_migrate_report and the batch limits are public
 * (include/aether/admin.h). */

/* Crash-test hook, process-global: the next migrations raise SIGKILL right
 * after their k-th committed batch (0 = never, the default).  Test builds
 * also honour AE_MIGRATE_KILL_AFTER_BATCH=k when this was not called. */
void ae_migrate_set_kill_after_batch(long k);

/* sqlite -> lancedb.  all_rows: every sir_embeddings row (the first-run
 * migration; afterwards the marker is written into vectors_dir).  Otherwise
 * only current rows that embedding_state says lancedb lacks (the switch sync;
 * no marker).  Each batch is one upsert (one commit per table), then one meta
 * transaction recording embedding_state(backend 'lancedb').  Malformed rows
 * are skipped and reported, never fatal. */
int ae_migrate_sqlite_to_table(ae_meta *meta, ae_vector_store *lance, const char *vectors_dir,
                               bool all_rows, const ae_migrate_opts *opts, ae_migrate_report *rep,
                               ae_error *err);

/* lancedb -> sqlite: current rows embedding_state says lancedb holds and
 * sir_embeddings lacks, read from lance (one pass over it per page of
 * candidate ids) and upserted into sqlite_vs, recording embedding_state
 * (backend 'sqlite').  A promised row lancedb does not have is counted in
 * rows_missing and its stale embedding_state row removed, so the next index
 * run embeds it again. */
int ae_migrate_table_to_sqlite(ae_meta *meta, ae_vector_store *lance, ae_vector_store *sqlite_vs,
                               const ae_migrate_opts *opts, ae_migrate_report *rep, ae_error *err);

/* Right after a switch (the previous read-write open used the other
 * backend): the same, but carrying every row the other backend tracks in
 * embedding_state or holds current -- imported rows of ids that are not
 * symbols included -- that the target lacks or holds with another sir_hash,
 * provider or model (never a stale row over a current one). */
int ae_migrate_switch_to_table(ae_meta *meta, ae_vector_store *lance, const ae_migrate_opts *opts,
                               ae_migrate_report *rep, ae_error *err);
int ae_migrate_switch_to_sqlite(ae_meta *meta, ae_vector_store *lance, ae_vector_store *sqlite_vs,
                                const ae_migrate_opts *opts, ae_migrate_report *rep, ae_error *err);

/* After a switch from backend `from` to `to` (the last read-write open
 * used `from`): the rows `to`'s embedding_state tracks and `from`'s does not
 * were deleted while `from` was active; they leave `to` too (state rows
 * first, then the store).  *deleted counts them. */
int ae_migrate_mirror_deletes(ae_meta *meta, const char *from, const char *to,
                              ae_vector_store *to_vs, size_t *deleted, ae_error *err);

/* Deletes lancedb vectors whose symbol no longer exists.  Cheap when there are
 * none: it scans the store only when it holds more rows than
 * embedding_state(lancedb) records. */
int ae_migrate_prune_table(ae_meta *meta, ae_vector_store *lance, size_t *pruned, ae_error *err);

bool ae_migrate_marker_present(const char *vectors_dir);
/* Writes the marker atomically (temp file, fsync, rename); creates vectors_dir. */
int ae_migrate_write_marker(const char *vectors_dir, const ae_migrate_report *rep, ae_error *err);

/* Rows in sir_embeddings (0 when the table does not exist). */
int ae_migrate_legacy_rows(ae_meta *meta, int64_t *n, ae_error *err);
/* Current embeddings the backend `active` ("lancedb" or "sqlite") lacks and
 * the other holds: what the switch sync would copy. */
int ae_migrate_pending(ae_meta *meta, const char *active, int64_t *n, ae_error *err);

/* The workspace-level policy (what opening a backend migrates) is
 * src/workspace/migrate_ws.c. */

#endif
