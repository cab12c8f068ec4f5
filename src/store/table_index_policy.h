/* The IVF-PQ index of the "lancedb" backend's tables: when a table gets one,
 * when it is refreshed, and how its state is described.  The search path
 * itself is behind the VectorStore interface (table_backend.c); this header
 * is for the CLI, the workspace status and tests.  See docs/FORMAT.md,
 * "Index in the table". */
#ifndef AE_STORE_TABLE_INDEX_POLICY_H
#define AE_STORE_TABLE_INDEX_POLICY_H

#include <aether/error.h>
#include <aether/vector_store.h>
#include <stdbool.h>
#include <stddef.h>

/* A table gets an index once it holds this many live rows; below, the exact
 * scan is as fast (AE_IVFPQ_EXACT_BELOW_ROWS, docs/BENCHMARKS.md).
 * ae_table_set_index_min_rows overrides it (tests, benchmarks); in test
 * builds (AE_TESTING) so does the environment variable AETHER_INDEX_MIN_ROWS,
 * for the shell tests.  Values below AE_IVFPQ_MIN_ROWS are raised to it. */
#define AE_TABLE_INDEX_ENV "AETHER_INDEX_MIN_ROWS"
/* An index is rebuilt when the rows it does not serve -- appended since the
 * build (scanned exactly) plus deleted (dead weight in its lists) -- exceed
 * this percentage of the live rows, or the threshold itself (a tail that
 * big costs as much to scan as a table that would get an index). */
#define AE_TABLE_REINDEX_PERCENT 20
/* Index files up to this size get the full check (every section's BLAKE3,
 * every row id) when a handle first maps them, unless the file still has the
 * identity its publisher recorded after checking it in full (the manifest's
 * "verified" stamp: ae_table_index_unchanged_since_verify); larger ones get
 * the cheap checks (header checksum, bounds, size against the manifest) so a
 * fresh process answers at once, and the full one from `aetherd --fsck`. */
#define AE_TABLE_INDEX_CHECK_ON_OPEN_BYTES ((size_t)64 << 20)

/* An index build measures the recall@10 of its index on a sample of the
 * table's own rows and keeps the cheapest setting, no cheaper than the
 * defaults, whose measured recall (less two standard errors) reaches this
 * target; searches that pass no nprobe / refine use it (table_tune.h). */
#define AE_TABLE_DEFAULT_TARGET_RECALL 0.95
/* The target of this process's builds; 0 restores the default; values are
 * clamped to [0.5, 0.999]. */
void ae_table_set_target_recall(double target);
double ae_table_target_recall(void);
/* The target of the builds of one store (a "lancedb" one), which wins over
 * the process's: the workspace passes its config's [search] target_recall.
 * 0 < target < 1, else AE_EINVAL.  A build due on that store tunes for it;
 * an index that is not due but was tuned for another target (or never) is
 * measured again and its record republished, without a rebuild, by the
 * store's next index pass (ae_vs_rebuild_index, ae_tables_build_indexes). */
int ae_tables_set_target_recall(ae_vector_store *vs, double target, ae_error *err);

/* The heap one index build may use: AE_IVFPQ_DEFAULT_BUILD_BUDGET (2 GiB)
 * unless set.  A build that would need more (ae_ivfpq_build_memory) fails
 * before it allocates, with AE_ENOMEM naming what it needs and the budget;
 * the table keeps answering from its old index or the exact scan.
 * Process-global like the settings around it; 0 restores the default. */
void ae_table_set_index_build_budget(size_t bytes);
size_t ae_table_index_build_budget(void);

/* The effective threshold (the override applied). */
size_t ae_table_index_min_rows(void);
/* Process-global override of the threshold; 0 restores the default. */
void ae_table_set_index_min_rows(size_t rows);

/* Builds the index of every table of vs (a "lancedb" store) that is due, or
 * with force of every table at or above the threshold.  The plain
 * ae_vs_rebuild_index is this without force.  AE_EINVAL for another backend. */
int ae_tables_build_indexes(ae_vector_store *vs, bool force, ae_error *err);
/* Whether ae_vs_rebuild_index would build an index now (some table of vs is due), without
 * building: a caller can then build on a handle of its own (the watcher does it in a child
 * process) while vs goes on writing.  AE_EINVAL for another backend. */
int ae_tables_index_due(ae_vector_store *vs, bool *due, ae_error *err);

/* One line on the index of the largest table of (provider, model) in
 * vectors_dir (NULL or "" match any): "ivfpq nlist=245, rows covered 60000,
 * unindexed 12", "exact (1200 rows, index from 20000)", "exact (no index
 * yet, 61000 rows)", "exact (index unusable: ...)", "no vectors". */
int ae_table_index_state(const char *vectors_dir, const char *provider, const char *model,
                         char *out, size_t cap, ae_error *err);

#endif
