/* libaether store administration: what `aetherd` offers beyond index and
 * search, for any front end (aetherd, aether-mcp, an LSP server, a library
 * user).  Bring your own vectors (import/export JSON Lines), vector table
 * status, optimize, the store check (fsck), repair, and the legacy-vector
 * migration.
 *
 * Same contract as aether.h: every call returns 0 or a negative AE_E* code
 * with err filled; nothing prints.  Reports are filled by the callee (zero
 * them first where it says so) and freed with their _free function; strings
 * inside are owned by the report. */
#ifndef AETHER_ADMIN_H
#define AETHER_ADMIN_H

#include <aether/aether.h>
#include <aether/strlist.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AE_ADMIN_NAME_MAX 128 /* table, provider and model names, with the NUL */

/* ---- import / export: JSON Lines through the active VectorStore ----------
 * One object per line: {"symbol_id","sir_hash","provider","model",
 * "embedding":[...]} (an optional "updated_at" integer is kept). */

#define AE_IMPORT_BAD_LINES_KEPT 100

typedef struct ae_import_bad_line {
    size_t line; /* 1-based */
    char message[200];
} ae_import_bad_line;

typedef struct ae_import_report {
    char backend[16]; /* "lancedb" or "sqlite": where the vectors went */
    size_t lines, imported, bad;
    ae_import_bad_line bad_lines[AE_IMPORT_BAD_LINES_KEPT]; /* the first ones */
} ae_import_report;

/* Imports every good line of `in` in batches into the active backend and
 * records each committed batch in meta.sqlite (ws read-write).  Bad lines are
 * reported in rep, not fatal.  Negative only when the store itself fails
 * (rep->imported rows stay committed). */
int ae_workspace_import_embeddings(ae_workspace *ws, FILE *in, ae_import_report *rep,
                                   ae_error *err);

typedef struct ae_export_report {
    char backend[16];
    size_t rows; /* lines written */
} ae_export_report;

/* Writes every stored embedding of the active backend to `out`, one line each. */
int ae_workspace_export_embeddings(ae_workspace *ws, FILE *out, ae_export_report *rep,
                                   ae_error *err);

/* ---- vector tables --------------------------------------------------------- */

typedef struct ae_vector_table_info {
    char name[AE_ADMIN_NAME_MAX];
    char provider[AE_ADMIN_NAME_MAX];
    char model[AE_ADMIN_NAME_MAX];
    uint32_t dim;
    uint64_t version; /* 0 = nothing committed yet */
    uint64_t rows_live;
    uint64_t rows_deleted;    /* still stored, dropped by the next optimize */
    size_t fragments;         /* data files */
    size_t versions_retained; /* manifests on disk */
    bool has_index;           /* an IVF-PQ index */
    uint64_t index_rows;      /* rows the index covers */
    /* What the index build measured (docs/FORMAT.md, "Measured recall"):
     * recall@index_recall_k on index_recall_sample of the table's own rows
     * against the exact scan, at the nprobe / refine searches use by default.
     * index_recall < 0: not measured (older index, or a small table). */
    double index_recall;
    double index_target_recall;
    uint32_t index_recall_k, index_recall_sample, index_nprobe, index_refine;
} ae_vector_table_info;

typedef struct ae_vector_status {
    const char *vector_backend;   /* configured: "lancedb" or "sqlite" (borrowed from ws) */
    const char *vectors_dir;      /* .aether/vectors (borrowed from ws) */
    ae_vector_table_info *tables; /* sorted by name; owned */
    size_t n_tables;
} ae_vector_status;

/* The native tables under .aether/vectors/ (whatever backend is active; a
 * missing directory gives none).  Free with ae_vector_status_free. */
int ae_workspace_vector_status(ae_workspace *ws, ae_vector_status *out, ae_error *err);
void ae_vector_status_free(ae_vector_status *s);

/* Compacts every vector table, drops old versions, then (backend "lancedb")
 * rebuilds the ANN index where one is due.  Takes each table's writer lock:
 * AE_EBUSY while another writer holds it. */
int ae_workspace_optimize(ae_workspace *ws, ae_error *err);

/* The directory name of the table for (provider, model, dim). */
void ae_vector_table_name(const char *provider, const char *model, uint32_t dim,
                          char out[AE_ADMIN_NAME_MAX]);

/* ---- the store check (fsck) and repair ------------------------------------
 * fsck: meta.sqlite integrity, every vector table (checksums, manifests,
 * counts), each ANN index's recall against an exact scan, and the cross-store
 * invariants between meta.sqlite and the active backend (X1..X3 in
 * docs/RELIABILITY.md).  Work the next index run does anyway (SIRs not yet
 * embedded, vectors of deleted symbols not yet pruned) is pending, not a
 * problem, so the check passes after a crash at any point. */

#define AE_FSCK_DEFAULT_QUERIES 32 /* index recall: queries sampled per table */
#define AE_FSCK_MIN_QUERIES     1
#define AE_FSCK_MAX_QUERIES     1000
#define AE_FSCK_DEFAULT_K       10
#define AE_FSCK_PROBLEMS_KEPT   100 /* messages kept; the counts cover all */

typedef struct ae_fsck_opts {
    size_t queries;    /* 0 = default */
    size_t k;          /* 0 = default */
    double min_recall; /* index recall below this is a problem; 0 = report only */
} ae_fsck_opts;

typedef struct ae_fsck_table {
    char name[AE_ADMIN_NAME_MAX];
    char provider[AE_ADMIN_NAME_MAX];
    char model[AE_ADMIN_NAME_MAX];
    uint32_t dim;
    uint64_t latest_version; /* newest valid version, 0 if none */
    uint64_t rows_live;      /* in that version */
    size_t versions_checked, files_checked;
    ae_strlist problems; /* one message per problem, each naming its file */
    bool has_index;
    bool index_damaged;    /* a problem names an index file */
    size_t recall_queries; /* queries run against index and exact scan */
    double recall;         /* mean recall@k of the index; 1.0 without an index */
    /* The figure the index build recorded (ae_vector_table_info.index_recall):
     * < 0 when it recorded none. */
    double recorded_recall;
    uint32_t recorded_nprobe, recorded_refine, recorded_sample;
} ae_fsck_table;

typedef struct ae_fsck_report {
    /* meta.sqlite */
    bool sqlite_present;
    bool sqlite_ok;
    char sqlite_result[256]; /* "ok", the first integrity_check line, or "absent" */
    /* vector tables (the native backend's directory, whatever is active) */
    ae_fsck_table *tables;
    size_t n_tables;
    size_t table_problems;
    /* cross-store, for the active backend */
    char backend[16];
    bool cross_checked;       /* false when there is no meta store */
    size_t sirs_current;      /* SIRs of existing symbols */
    size_t sirs_embedded;     /* ...whose embedding carries the current sir_hash */
    size_t sirs_pending;      /* ...the next index run embeds */
    size_t state_rows;        /* embedding_state rows of the backend */
    size_t store_rows;        /* live rows in the backend */
    size_t prune_pending;     /* vectors of deleted symbols the next run removes */
    size_t cross_problems;    /* violations of X1..X3 */
    ae_strlist missing_ids;   /* X1/X2 violations: repair re-embeds these */
    ae_strlist untracked_ids; /* X3 violations: store rows nobody will prune */
    /* every problem, one message each (the first AE_FSCK_PROBLEMS_KEPT) */
    ae_strlist problems;
    size_t n_problems; /* total: sqlite + tables + index + cross-store */
} ae_fsck_report;

/* Runs every check (ws may be read-only).  Returns 0 when the checks ran
 * (rep->n_problems says whether they passed), negative only when they could
 * not run.  Free rep with ae_fsck_report_free in both cases. */
int ae_workspace_fsck(ae_workspace *ws, const ae_fsck_opts *opts, ae_fsck_report *rep,
                      ae_error *err);
void ae_fsck_report_free(ae_fsck_report *rep);

typedef struct ae_repair_report {
    size_t orphan_files_removed; /* unreferenced files dropped from tables */
    size_t indexes_rebuilt;      /* tables whose index was rebuilt */
    size_t reembedded;           /* state rows cleared so their SIRs re-embed */
    size_t pruned;               /* store rows of deleted symbols removed */
    size_t embeddings_written;   /* by the index run that followed */
    /* damaged vector table files (fragments, deletion files, manifests,
     * index files): moved to <table>/quarantine/ with a note */
    size_t files_quarantined;
    size_t rows_dropped;    /* live rows the damaged files held, to rewrite: */
    size_t rows_from_copy;  /* ...rewritten from the other backend's current copy */
    size_t rows_reembedded; /* ...re-embedded from their symbols' current SIRs */
    size_t rows_lost;       /* ...with neither (imported rows of non-symbols) */
    size_t versions_lost;   /* commits whose manifest was damaged (newer than the fallback) */
    ae_strlist actions;     /* one readable line per action */
    ae_fsck_report before, after;
} ae_repair_report;

/* Fixes what can be fixed without loss (ws read-write, else AE_EINVAL):
 * damaged table files (quarantined; the newest intact version minus them is
 * committed; their live rows are rewritten from the other backend's copy
 * when it is current, else re-embedded from the symbols' SIRs), unreferenced
 * table files, an index a table check names or whose recall is below
 * opts->min_recall, missing vectors (re-embedded), vectors of deleted
 * symbols (pruned); then checks again.  Never deletes a damaged file (it is
 * moved aside) nor an intact committed version's files.  Free rep with
 * ae_repair_report_free in every case. */
int ae_workspace_repair(ae_workspace *ws, const ae_fsck_opts *opts, ae_repair_report *rep,
                        ae_error *err);
void ae_repair_report_free(ae_repair_report *rep);

/* ---- legacy vectors: sqlite sir_embeddings -> the native tables ---------- */

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

/* Zero it before the first call (several calls may add to one report); free
 * with ae_migrate_report_free. */
typedef struct ae_migrate_report {
    const char *from, *to; /* "sqlite" / "lancedb" (static strings) */
    size_t rows_read;      /* candidate rows examined */
    size_t rows_migrated;  /* rows written and recorded in embedding_state */
    size_t rows_malformed; /* skipped; the first AE_MIGRATE_REPORT_IDS are in bad[] */
    size_t rows_missing;   /* embedding_state promised a row the source lacked */
    size_t rows_pruned;    /* vectors of symbols that no longer exist, deleted */
    size_t rows_newer;     /* legacy rows left alone: lancedb holds a newer embedding */
    size_t rows_deleted;   /* switch sync: rows the other backend deleted while it was active */
    ae_migrate_table *tables;
    size_t n_tables;
    ae_migrate_bad *bad;
    size_t n_bad;
    bool marker_written;
    double seconds;
} ae_migrate_report;

void ae_migrate_report_free(ae_migrate_report *r);

/* `aetherd --migrate-vectors`: copies every legacy sir_embeddings row into
 * the native tables (again, ignoring the first-run marker), prunes vectors of
 * deleted symbols and writes the marker.  ws read-write, else AE_EINVAL. */
int ae_workspace_migrate_vectors(ae_workspace *ws, const ae_migrate_opts *opts,
                                 ae_migrate_report *rep, ae_error *err);

/* Progress of migrations that run implicitly (when a workspace opens its
 * vector store read-write for the first time); process-wide, NULL to clear. */
void ae_migrate_set_progress(ae_migrate_progress_fn fn, void *ctx);

#ifdef __cplusplus
}
#endif
#endif
