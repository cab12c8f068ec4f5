/* libaether: open a workspace, index it, search it.
 *
 *   ae_workspace *ws;  ae_error err;
 *   if (ae_workspace_open("path/to/repo", NULL, &ws, &err) < 0) ... err.message ...
 *   ae_workspace_index(ws, NULL, &stats, &err);
 *   ae_search_results *r;  ae_search(ws, "parse config", AE_SEARCH_HYBRID, 20, NULL, &r, &err);
 *   ... r->matches[i] ...;  ae_search_results_free(r);  ae_workspace_close(ws);
 *
 * Every call returns 0 or a negative AE_E* code with err filled; nothing prints. */
#ifndef AETHER_AETHER_H
#define AETHER_AETHER_H

#include <aether/error.h>
#include <aether/vector_store.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ae_workspace ae_workspace;

typedef struct ae_open_options {
    bool readonly; /* search only: never creates .aether/ or takes the writer lock */
} ae_open_options;

/* Opens the workspace at dir; creates .aether/ and a commented default
 * config.toml unless readonly. */
int ae_workspace_open(const char *dir, const ae_open_options *opts, ae_workspace **out,
                      ae_error *err);
void ae_workspace_close(ae_workspace *ws);
/* Warnings from loading the config (unknown keys ...); borrowed. */
const char *const *ae_workspace_warnings(const ae_workspace *ws, size_t *n);
/* Notices from the last operation (backend fallbacks, index hints); borrowed
 * until the next call on ws. */
const char *const *ae_workspace_notices(const ae_workspace *ws, size_t *n);

typedef struct ae_index_progress {
    const char *phase; /* "scan", "symbols", "sir" (SIRs of the current batch), "embed" */
    size_t done, total;
} ae_index_progress;

/* A symbol of a change event (reference-contract section 2); strings borrowed for the call.
 * Lines and columns are 1-based; start.column is 1 (the extractor records line spans) and
 * end.column is one past the last byte of the end line (for a removed symbol the column stored
 * with it, so it reports the range it was added with; 1 for a row stored before stores kept
 * the column). */
typedef struct ae_change_symbol {
    const char *id, *language, *file_path, *kind, *name, *qualified_name;
    const char *signature_fingerprint, *content_hash;
    int start_line, start_column, end_line, end_column;
} ae_change_symbol;

/* One file's symbol diff against its previous extraction: added (new id), removed (id gone),
 * updated (same id, other content_hash).  Never empty. */
typedef struct ae_change_event {
    const char *file_path, *language;
    const ae_change_symbol *added, *removed, *updated;
    size_t n_added, n_removed, n_updated;
} ae_change_event;

typedef struct ae_index_callbacks {
    void (*progress)(void *ctx, const ae_index_progress *p);
    /* Called for every SIR written (new or changed hash), after its transaction committed. */
    void (*sir_stored)(void *ctx, const char *symbol_id, const char *sir_hash,
                       const char *provider);
    void *ctx;
    /* Called for every failed SIR generation (the symbol keeps its previous SIR, if any, and
     * is marked stale), after the commit; error is one line. */
    void (*sir_stale)(void *ctx, const char *symbol_id, const char *error);
    /* Called for every embedding stored, after the vector backend and the embedding state
     * committed. */
    void (*embedding_stored)(void *ctx, const char *symbol_id, const char *provider,
                             const char *model);
    /* Called once per file whose symbols changed (a non-empty diff), after the transaction
     * that wrote it committed, in write order.  NULL: the diff is not computed at all. */
    void (*changed)(void *ctx, const ae_change_event *ev);
} ae_index_callbacks;

typedef struct ae_index_stats {
    size_t files_seen, files_changed, files_removed;
    size_t symbols_total, symbols_removed;
    size_t sirs_written, embeddings_written, embeddings_deleted;
    double seconds;
    size_t sirs_failed; /* generations that failed: those symbols are stale */
} ae_index_stats;

/* One incremental indexing pass.  A SIR provider failure for one symbol does not fail the
 * pass (the symbol turns stale, see aether/sir.h); a provider failing for several symbols in a
 * row stops it with AE_EPROVIDER, after writing what was done (docs/PROVIDERS.md). */
int ae_workspace_index(ae_workspace *ws, const ae_index_callbacks *cb, ae_index_stats *stats,
                       ae_error *err);

/* SIR generations in flight during indexing (1..64; default 2, the reference's). */
#define AE_WORKSPACE_SIR_CONCURRENCY_DEFAULT 2
#define AE_WORKSPACE_SIR_CONCURRENCY_MIN     1
#define AE_WORKSPACE_SIR_CONCURRENCY_MAX     64
int ae_workspace_set_sir_concurrency(ae_workspace *ws, int n, ae_error *err);

/* Overrides one known config key for this handle only (the file is not touched), validated
 * like the file: AE_ECONFIG naming `origin` (e.g. "--inference-model"), the key and the
 * accepted values.  value is parsed as the key's type ("true", "42", or a string). */
int ae_workspace_override(ae_workspace *ws, const char *section, const char *key, const char *value,
                          const char *origin, ae_error *err);

typedef struct ae_status {
    bool store_present;              /* .aether/meta.sqlite exists */
    int64_t symbol_count, sir_count; /* 0 when no store */
    const char *vector_backend;      /* configured: "lancedb" or "sqlite" (borrowed) */
    bool embeddings_enabled;
    const char *embedding_provider, *embedding_model; /* configured (borrowed) */
    int64_t vector_rows;  /* rows in the active backend, -1 when it cannot be opened */
    char index_state[96]; /* e.g. "exact (no index)", "ivfpq nlist=1024, 0 unindexed rows" */
} ae_status;

/* Counts and backend state; borrowed strings live until ae_workspace_close. */
int ae_workspace_status(ae_workspace *ws, ae_status *out, ae_error *err);
/* The current SIR of a symbol: *sir_json allocated (caller frees), hash 64 hex
 * digits.  AE_ENOTFOUND when the symbol has no SIR. */
int ae_workspace_get_sir(ae_workspace *ws, const char *symbol_id, char **sir_json,
                         char sir_hash[65], ae_error *err);
/* Paths: root, .aether/meta.sqlite, .aether/sir (borrowed). */
const char *ae_workspace_root(const ae_workspace *ws);
const char *ae_workspace_meta_path(const ae_workspace *ws);
const char *ae_workspace_sir_dir(const ae_workspace *ws);

typedef enum ae_search_mode {
    AE_SEARCH_LEXICAL,
    AE_SEARCH_SEMANTIC,
    AE_SEARCH_HYBRID,
} ae_search_mode;

const char *ae_search_mode_name(ae_search_mode m);
/* "lexical" | "semantic" | "hybrid"; AE_EINVAL otherwise. */
int ae_search_mode_parse(const char *s, ae_search_mode *out);

#define AE_SEARCH_LIMIT_DEFAULT 20
#define AE_SEARCH_LIMIT_MIN     1
#define AE_SEARCH_LIMIT_MAX     100

typedef struct ae_match {
    char *symbol_id, *qualified_name, *file_path, *language, *kind;
    bool has_semantic_score;
    double semantic_score;
} ae_match;

typedef struct ae_search_results {
    ae_search_mode mode_requested, mode_used;
    char *fallback_reason; /* NULL when the requested mode ran */
    ae_match *matches;
    size_t n;
} ae_search_results;

/* limit is clamped to 1..100.  Semantic and hybrid fall back to lexical with a
 * fallback_reason when semantic search cannot run. */
int ae_search(ae_workspace *ws, const char *query, ae_search_mode mode, size_t limit,
              const ae_vs_search_opts *opts, ae_search_results **out, ae_error *err);
/* Filters (every field optional: NULL or "" means any).  A symbol passes when
 * its language and kind equal the given ones exactly and its file_path starts
 * with path_prefix (bytes, '/' separators, workspace-relative). */
typedef struct ae_search_filter {
    const char *language;
    const char *path_prefix;
    const char *kind;
} ae_search_filter;

/* ae_search with options.  A new call rather than a changed ae_search, so
 * existing callers compile and behave as before; ae_search(ws, q, mode, limit,
 * vs, ...) is ae_search_ex with {.vs = vs}.  Filters apply in every mode and to
 * the lexical fallback; semantic search takes the top `limit` among the
 * matching rows (never a post-filtered shorter list, see ae_vs_search_opts). */
typedef struct ae_search_options {
    const ae_vs_search_opts *vs; /* ANN knobs; NULL: the workspace's [search] */
    ae_search_filter filter;
} ae_search_options;

int ae_search_ex(ae_workspace *ws, const char *query, ae_search_mode mode, size_t limit,
                 const ae_search_options *opts, ae_search_results **out, ae_error *err);
/* Semantic search with a caller-given query vector (no embedding call). */
int ae_search_vector(ae_workspace *ws, const float *query, uint32_t dim, const char *provider,
                     const char *model, size_t limit, const ae_vs_search_opts *opts,
                     ae_search_results **out, ae_error *err);
void ae_search_results_free(ae_search_results *r);

#ifdef __cplusplus
}
#endif
#endif
