/* Moving embeddings between the two VectorStore backends (internal).
 *
 *   first run   sqlite -> lancedb: every legacy sir_embeddings row is copied
 *               into its (provider, model, dim) table, then the marker
 *               .aether/vectors/.sqlite_migrated_v1 is written (fsync'd).
 *   on switch   whenever a backend is opened read-write as the active one,
 *               current embeddings (sir_hash equal to sir.sir_hash) that the
 *               other backend holds and the active one lacks are copied over.
 *
 * The difference is found with SQL over meta.sqlite (embedding_state, sir,
 * sir_embeddings), never by scanning both stores.  SQLite rows are never
 * deleted here.  See docs/MIGRATION.md for the invariant and the test hooks. */
#ifndef AE_STORE_MIGRATE_H
#define AE_STORE_MIGRATE_H

#include "meta/meta.h"

#include <aether/error.h>
#include <aether/vector_store.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AE_MIGRATE_MARKER        ".sqlite_migrated_v1" /* the reference tool's name */
#define AE_MIGRATE_DEFAULT_BATCH 4096
#define AE_MIGRATE_MIN_BATCH     1
#define AE_MIGRATE_MAX_BATCH     65536
#define AE_MIGRATE_REPORT_IDS    20 /* malformed rows listed by id; the rest are counted */

/* rows done out of total; called after each committed batch. */
typedef void (*ae_migrate_progress_fn)(void *ctx, size_t done, size_t total);

typedef struct ae_migrate_opts {
    size_t batch_rows; /* 0: AE_MIGRATE_DEFAULT_BATCH (test builds: $AE_MIGRATE_BATCH_ROWS) */
    ae_migrate_progress_fn progress;
    void *progress_ctx;
} ae_migrate_opts;

typedef struct ae_migrate_table {
    char *provider, *model;
    uint32_t dim;
    size_t rows; /* rows written into this table */
} ae_migrate_table;

typedef struct ae_migrate_bad {
    char *symbol_id; /* "" for an empty or NULL id */
    char *reason;    /* "expected 768 values (embedding_dim), found 384" */
} ae_migrate_bad;

/* Filled by the calls below (zero it first; several calls may add to one
 * report); free with ae_migrate_report_free. */
typedef struct ae_migrate_report {
    const char *from, *to; /* "sqlite" / "lancedb" (static strings) */
    size_t rows_read;      /* candidate rows examined */
    size_t rows_migrated;  /* rows written and recorded in embedding_state */
    size_t rows_malformed; /* skipped; the first AE_MIGRATE_REPORT_IDS are in bad[] */
    size_t rows_missing;   /* embedding_state promised a row the source lacked */
    size_t rows_pruned;    /* vectors of symbols that no longer exist, deleted */
    size_t rows_newer;     /* legacy rows left alone: lancedb holds a newer embedding */
    ae_migrate_table *tables;
    size_t n_tables;
    ae_migrate_bad *bad;
    size_t n_bad;
    bool marker_written;
    double seconds;
} ae_migrate_report;

void ae_migrate_report_free(ae_migrate_report *r);

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
int ae_migrate_sqlite_to_lancedb(ae_meta *meta, ae_vector_store *lance, const char *vectors_dir,
                                 bool all_rows, const ae_migrate_opts *opts, ae_migrate_report *rep,
                                 ae_error *err);

/* lancedb -> sqlite: current rows embedding_state says lancedb holds and
 * sir_embeddings lacks, read from lance (one pass over it per page of
 * candidate ids) and upserted into sqlite_vs, recording embedding_state
 * (backend 'sqlite').  A promised row lancedb does not have is counted in
 * rows_missing and its stale embedding_state row removed, so the next index
 * run embeds it again. */
int ae_migrate_lancedb_to_sqlite(ae_meta *meta, ae_vector_store *lance, ae_vector_store *sqlite_vs,
                                 const ae_migrate_opts *opts, ae_migrate_report *rep,
                                 ae_error *err);

/* Deletes lancedb vectors whose symbol no longer exists.  Cheap when there are
 * none: it scans the store only when it holds more rows than
 * embedding_state(lancedb) records. */
int ae_migrate_prune_lancedb(ae_meta *meta, ae_vector_store *lance, size_t *pruned, ae_error *err);

bool ae_migrate_marker_present(const char *vectors_dir);
/* Writes the marker atomically (temp file, fsync, rename); creates vectors_dir. */
int ae_migrate_write_marker(const char *vectors_dir, const ae_migrate_report *rep, ae_error *err);

/* Rows in sir_embeddings (0 when the table does not exist). */
int ae_migrate_legacy_rows(ae_meta *meta, int64_t *n, ae_error *err);
/* Current embeddings the backend `active` ("lancedb" or "sqlite") lacks and
 * the other holds: what the switch sync would copy. */
int ae_migrate_pending(ae_meta *meta, const char *active, int64_t *n, ae_error *err);

/* ---- workspace level (src/store/migrate_ws.c) ---------------------------- */

typedef struct ae_workspace ae_workspace;

/* Progress callback used by migrations that run implicitly (when
 * ae_ws_vector_store opens a backend); process-wide, NULL to clear. */
void ae_migrate_set_progress(ae_migrate_progress_fn fn, void *ctx);

/* Called by ae_ws_vector_store right after it opened the configured backend
 * into ws->vs.  Read-write: first-run migration (marker absent), switch sync,
 * orphan pruning; a summary goes to the workspace notices.  Read-only: writes
 * nothing; when the configured backend is incomplete (no marker while legacy
 * rows exist, or a sync pending) it replaces ws->vs with the other backend
 * for this process and adds a notice saying why. */
int ae_migrate_on_open(ae_workspace *ws, ae_error *err);

/* The explicit command (aetherd --migrate-vectors): runs the sqlite ->
 * lancedb migration of every row, ignoring the marker, prunes orphans and
 * writes the marker.  The workspace must be open read-write. */
int ae_migrate_workspace(ae_workspace *ws, const ae_migrate_opts *opts, ae_migrate_report *rep,
                         ae_error *err);

#endif
