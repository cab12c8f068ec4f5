/* VectorStore: the one interface semantic search and the pipeline use, with two
 * backends behind it:
 *   "lancedb" - the native vector table under .aether/vectors/ (our own C
 *               implementation of the Lance design; not the LanceDB library)
 *   "sqlite"  - the legacy sir_embeddings table, brute-force JSON scan.
 *
 * Scores are cosine similarity everywhere, so both backends return the same ids
 * in the same order (ties: higher score first, then symbol_id ascending) with
 * the same scores to float tolerance on the same data.
 *
 * Ownership: records passed in are borrowed for the call.  Hits returned by
 * search are owned by the caller and freed with free().  Records handed to an
 * iterate callback are borrowed until the callback returns. */
#ifndef AETHER_VECTOR_STORE_H
#define AETHER_VECTOR_STORE_H

#include <aether/error.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AE_SYMBOL_ID_MAX 64 /* hex BLAKE3; longer ids are rejected */
/* The one cap on vector dimensions, everywhere: config, embedders, both
 * stores, vector table files, the IVF-PQ index (the largest embedding models
 * give 4096; the cap bounds per-row buffers). */
#define AE_MAX_DIM 16384 /* a plain number: text is made with #AE_MAX_DIM */

typedef struct ae_vs_record {
    const char *symbol_id; /* non-empty, at most AE_SYMBOL_ID_MAX bytes */
    const char *sir_hash;
    const char *provider;
    const char *model;
    const float *embedding; /* dim finite floats */
    uint32_t dim;
    int64_t updated_at; /* ms since epoch; 0 means "now" on upsert */
} ae_vs_record;

typedef struct ae_vs_hit {
    char symbol_id[AE_SYMBOL_ID_MAX + 1];
    float score; /* cosine similarity */
} ae_vs_hit;

/* Query-time knobs; 0 means the backend's default.  Backends without an
 * index ignore them. */
typedef struct ae_vs_search_opts {
    int nprobe;
    int refine_factor;
    int exact; /* nonzero: bypass any index, exact scan */
    /* Optional filter (NULL: every row).  Only rows whose symbol_id is one of
     * allow_ids[0..n_allow) -- sorted ascending by strcmp, borrowed for the
     * call -- are returned, and the top `limit` is taken among those rows, so
     * a filter never starves the result: while `limit` allowed rows exist,
     * `limit` hits come back.  With an ANN index the backend picks, by how
     * selective the set is, an exact scan of the allowed rows (at most
     * AE_VS_FILTER_EXACT_ROWS of them) or the index probed wider (nprobe
     * scaled by live rows / allowed rows), completed by the exact scan when
     * the probe found too few. */
    const char *const *allow_ids;
    size_t n_allow;
} ae_vs_search_opts;

/* Allowed sets up to this size are scanned exactly, whatever the index. */
#define AE_VS_FILTER_EXACT_ROWS 20000

/* Return nonzero from the callback to stop early (iterate then returns it). */
typedef int (*ae_vs_row_fn)(const ae_vs_record *rec, void *ctx);

typedef struct ae_vector_store_ops {
    const char *name; /* "sqlite" or "lancedb" */
    /* One atomic batch: every record is validated before anything is written;
     * an existing symbol_id in the same (provider, model, dim) is replaced. */
    int (*upsert)(void *be, const ae_vs_record *recs, size_t n, ae_error *err);
    /* Removes these ids from every table; missing ids are not an error. */
    int (*delete_ids)(void *be, const char *const *ids, size_t n, ae_error *err);
    /* Top `limit` by cosine among rows of (provider, model, dim).  *hits is
     * allocated (caller frees); *n_hits <= limit.  AE_ENOTFOUND when no row of
     * that provider/model/dim exists. */
    int (*search_nearest)(void *be, const float *query, uint32_t dim, const char *provider,
                          const char *model, size_t limit, const ae_vs_search_opts *opts,
                          ae_vs_hit **hits, size_t *n_hits, ae_error *err);
    /* Builds or refreshes any ANN index where it is due; a no-op for backends
     * without one.  "lancedb": tables of at least the index threshold whose
     * index is missing, unreadable, or stale (rows added or deleted since
     * the build above a fifth of the live rows or above the threshold; see
     * src/store/table_index_policy.h); cheap when nothing is due, so the pipeline
     * calls it after every pass. */
    int (*rebuild_index)(void *be, ae_error *err);
    /* Rows for (provider, model); NULL for either means any. */
    int (*count)(void *be, const char *provider, const char *model, size_t *out, ae_error *err);
    /* Every live row, in no particular order. */
    int (*iterate)(void *be, ae_vs_row_fn fn, void *ctx, ae_error *err);
    void (*close)(void *be);
    /* Optional (NULL: never anything to report).  What the last search_nearest
     * could not do as asked but answered anyway, e.g. "index file ... is
     * corrupt: exact scan used" -- the backend cannot print, so the caller
     * shows it.  NULL when there is nothing to report; the string is owned by
     * the backend and valid until its next call. */
    const char *(*last_warning)(void *be);
    /* Optional (NULL: nothing to do).  Removes every row of `provider` whose
     * model is not keep_model, and with them the tables of those models
     * ("lancedb": the table directories), so a model that was replaced does
     * not keep a second copy of the store.  *dropped = tables (lancedb) or
     * rows (sqlite) removed. */
    int (*drop_models_except)(void *be, const char *provider, const char *keep_model,
                              size_t *dropped, ae_error *err);
    /* Optional (NULL: nothing to do).  Drops every table other than
     * (keep_provider, keep_model)'s that holds no live row -- what a switch of
     * provider leaves once every symbol has been re-embedded.  Tables with rows
     * (imported embeddings of another model, say) are kept.  *dropped = tables. */
    int (*drop_empty_except)(void *be, const char *keep_provider, const char *keep_model,
                             size_t *dropped, ae_error *err);
    /* Optional (NULL: the backend holds no lock between calls).  Releases every writer lock
     * the handle holds; the next write takes them again.  "lancedb" tables keep their writer
     * lock from the first write until close otherwise. */
    void (*release_locks)(void *be);
} ae_vector_store_ops;

typedef struct ae_vector_store {
    const ae_vector_store_ops *ops;
    void *backend;
} ae_vector_store;

/* Opens the legacy backend on .aether/meta.sqlite (its own connection). */
int ae_vs_open_sqlite(const char *db_path, ae_vector_store **out, ae_error *err);
/* Opens the native backend (config value "lancedb") on a vectors directory
 * (.aether/vectors); it is created at the first upsert.  Writer locks are
 * taken per table at the first write and held until close; reads never block.
 * Threads may call ae_vs_search on one such handle at the same time, and
 * the searches run in parallel (they share its mapped files; each call has
 * its own scratch; each answers from one snapshot, and sees every commit
 * made before it started); every other call on the handle waits for running
 * searches and runs alone, and so does a search's refresh when the table
 * changed (docs/BENCHMARKS.md, "Two threads on one table").  The SQLite
 * backend's handle is for one thread at a time. */
int ae_vs_open_table(const char *vectors_dir, ae_vector_store **out, ae_error *err);
/* Closes either backend; accepts NULL. */
void ae_vs_close(ae_vector_store *vs);

/* Thin wrappers over ops, so callers read naturally. */
int ae_vs_upsert(ae_vector_store *vs, const ae_vs_record *recs, size_t n, ae_error *err);
int ae_vs_delete(ae_vector_store *vs, const char *const *ids, size_t n, ae_error *err);
int ae_vs_search(ae_vector_store *vs, const float *query, uint32_t dim, const char *provider,
                 const char *model, size_t limit, const ae_vs_search_opts *opts, ae_vs_hit **hits,
                 size_t *n_hits, ae_error *err);
int ae_vs_rebuild_index(ae_vector_store *vs, ae_error *err);
int ae_vs_count(ae_vector_store *vs, const char *provider, const char *model, size_t *out,
                ae_error *err);
int ae_vs_iterate(ae_vector_store *vs, ae_vs_row_fn fn, void *ctx, ae_error *err);
/* See ops.drop_models_except; *dropped may be NULL. */
int ae_vs_drop_models_except(ae_vector_store *vs, const char *provider, const char *keep_model,
                             size_t *dropped, ae_error *err);
/* See ops.drop_empty_except; *dropped may be NULL. */
int ae_vs_drop_empty_except(ae_vector_store *vs, const char *keep_provider, const char *keep_model,
                            size_t *dropped, ae_error *err);
/* See ops.release_locks; accepts NULL. */
static inline void ae_vs_release_locks(ae_vector_store *vs)
{
    if (vs && vs->ops && vs->ops->release_locks) vs->ops->release_locks(vs->backend);
}
/* The backend's last_warning (see ops), or NULL. */
static inline const char *ae_vs_last_warning(const ae_vector_store *vs)
{
    return vs && vs->ops && vs->ops->last_warning ? vs->ops->last_warning(vs->backend) : NULL;
}

#ifdef __cplusplus
}
#endif
#endif
