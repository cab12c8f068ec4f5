/* Whole-workspace verification (`aetherd --verify`) and repair
 * (`aetherd --repair`): SQLite integrity, every vector table, each ANN index
 * against an exact scan, and the cross-store invariants between meta.sqlite
 * and the active vector backend.
 *
 * The cross-store invariants follow from the pipeline's write order (the
 * store commits first, embedding_state second; deletes go store first, state
 * second), so they hold at every crash point:
 *   X1. an embedding_state row of the active backend whose symbol exists has
 *       a row for that symbol_id in the store (provider/model as recorded);
 *   X2. when the state's sir_hash equals the current SIR's, the store row
 *       carries that sir_hash too;
 *   X3. every store row either belongs to an existing symbol or is still
 *       recorded in embedding_state (so the next index run prunes it).
 * Work the next index run will do anyway (SIRs not yet embedded, vectors of
 * deleted symbols not yet pruned) is counted as pending, not as a problem.
 *
 * Ownership: reports are filled by the callee and freed with their _free
 * function; strings inside are owned by the report. */
#ifndef AE_VERIFY_VERIFY_H
#define AE_VERIFY_VERIFY_H

#include "util/mem.h"
#include "vectors/table.h"

#include <aether/aether.h>
#include <stdbool.h>

#define AE_VERIFY_DEFAULT_QUERIES 32 /* index recall: queries sampled per table */
#define AE_VERIFY_MIN_QUERIES     1
#define AE_VERIFY_MAX_QUERIES     1000
#define AE_VERIFY_DEFAULT_K       10
#define AE_VERIFY_PROBLEMS_KEPT   100 /* messages kept; the count covers all */

typedef struct ae_verify_opts {
    size_t queries;    /* 0 = default */
    size_t k;          /* 0 = default */
    double min_recall; /* index recall below this is a problem; 0 = report only */
} ae_verify_opts;

typedef struct ae_verify_table {
    char name[AE_TABLE_NAME_MAX];
    char provider[128];
    char model[128];
    uint32_t dim;
    ae_verify_report report; /* ae_table_verify: checksums, references, counts */
    int has_index;
    size_t recall_queries; /* queries run against index and exact scan */
    double recall;         /* mean recall@k of the index; 1.0 without an index */
} ae_verify_table;

typedef struct ae_ws_verify {
    /* SQLite */
    bool sqlite_present;
    bool sqlite_ok;
    char sqlite_result[256]; /* "ok", the first integrity_check line, or "absent" */
    /* vector tables (the lancedb backend's directory, whatever is active) */
    ae_verify_table *tables;
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
    size_t prune_pending;     /* vectors of deleted symbols, tracked or not (next
                                 read-write open or run removes them) */
    size_t cross_problems;    /* violations of X1..X3 */
    ae_strlist missing_ids;   /* X1/X2 violations: re-embed these */
    ae_strlist untracked_ids; /* X3 violations: store rows nobody will prune */
    /* every problem, one message each (the first AE_VERIFY_PROBLEMS_KEPT) */
    ae_strlist problems;
    size_t n_problems; /* total: sqlite + tables + index + cross-store */
} ae_ws_verify;

/* Runs every check.  Returns 0 when the checks ran (rep->n_problems says
 * whether they passed), a negative code only when they could not run. */
int ae_ws_verify_run(ae_workspace *ws, const ae_verify_opts *opts, ae_ws_verify *rep,
                     ae_error *err);
void ae_ws_verify_free(ae_ws_verify *rep);

/* What --repair did. */
typedef struct ae_ws_repair {
    size_t orphan_files_removed; /* unreferenced files dropped from tables */
    size_t indexes_rebuilt;      /* tables whose index was rebuilt */
    size_t reembedded;           /* state rows cleared so their SIRs re-embed */
    size_t pruned;               /* store rows of deleted symbols removed */
    size_t embeddings_written;   /* by the index run that followed */
    ae_strlist actions;          /* one line per action, readable */
    ae_ws_verify before, after;
} ae_ws_repair;

/* Fixes what can be fixed without loss (ws opened read-write): cleanup of
 * unreferenced table files, index rebuild where a table's verify names an
 * index file or recall is below opts->min_recall, re-embedding of symbols
 * whose vectors are missing, pruning of vectors of deleted symbols; then
 * verifies again.  Never removes a committed version's files. */
int ae_ws_repair_run(ae_workspace *ws, const ae_verify_opts *opts, ae_ws_repair *rep,
                     ae_error *err);
void ae_ws_repair_free(ae_ws_repair *rep);

#endif
