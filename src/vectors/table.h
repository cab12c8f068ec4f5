/* The native vector table: one directory per (provider, model, dim) under
 * .aether/vectors/, holding immutable fragments, copy-on-write deletion files
 * and one manifest per committed version.  See docs/FORMAT.md.
 *
 *   <vectors>/<name>/AETHER_TABLE        marker: ours, and for which key
 *                    writer.lock         flock of the one writer (+ its pid)
 *                    data/<id>-<token>.arrow            fragments (Arrow IPC files)
 *                    deletions/<id>-<version>-<token>.del
 *                    versions/<version>.manifest
 *                    versions/.tmp-<version>-<token>    a manifest being written
 *                    index/              ANN index files (IVF-PQ), named by manifests
 *
 * ids and versions are 20-digit zero-padded decimals, <token> 8 hex digits
 * unique to the commit that wrote the file.
 *
 * A handle reads a snapshot (one manifest and the files it names, mmapped);
 * it takes the writer lock lazily at its first write and keeps it until close.
 * A handle is not thread-safe; use one per thread, or lock around it. */
#ifndef AE_VECTORS_TABLE_H
#define AE_VECTORS_TABLE_H

#include <aether/error.h>
#include <aether/vector_store.h>

#include "vectors/manifest.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AE_TABLE_MARKER   "AETHER_TABLE"
#define AE_TABLE_NAME_MAX 128

#define AE_TABLE_DEFAULT_RETENTION_MS  (10 * 60 * 1000) /* keep versions newer than this */
#define AE_TABLE_MIN_RETENTION_MS      0
#define AE_TABLE_MAX_RETENTION_MS      (30LL * 24 * 3600 * 1000)
#define AE_TABLE_DEFAULT_KEEP_VERSIONS 2 /* and always keep at least this many */
#define AE_TABLE_MIN_KEEP_VERSIONS     1
#define AE_TABLE_DEFAULT_FRAGMENT_ROWS (1u << 20) /* compaction target */
#define AE_TABLE_MIN_FRAGMENT_ROWS     1
#define AE_TABLE_MAX_FRAGMENT_ROWS     (1u << 30)
/* After an upsert, the last MERGE_FANIN fragments are merged into one when
 * they are of one size tier (floor(log16(rows))) and fit in a fragment, so
 * a row is rewritten about log16(fragment_rows / batch) times in all. */
#define AE_TABLE_MERGE_FANIN 16
/* ... and every CLEANUP_EVERY versions, old versions are cleaned up. */
#define AE_TABLE_CLEANUP_EVERY 64
/* Unreferenced files in index/ younger than this are not cleaned up: an
 * index build writes there without the writer lock, then publishes. */
#define AE_TABLE_INDEX_GRACE_MS (60LL * 60 * 1000)

/* Zero in any field means "the default". */
typedef struct ae_table_opts {
    int lock_timeout_ms;    /* AE_LOCK_DEFAULT_TIMEOUT_MS; < 0 means try once */
    int64_t retention_ms;   /* < 0 means 0: only keep_versions are kept */
    uint32_t keep_versions; /* >= 1 */
    uint32_t fragment_rows; /* rows per fragment written by compaction */
} ae_table_opts;

typedef struct ae_table ae_table;

/* Readable, collision-free directory name for a key:
 * "d384-hash-hash_v1-1a2b3c4d" (8 hex of blake3("provider\nmodel\ndim")).
 * out needs AE_TABLE_NAME_MAX bytes. */
void ae_table_name(const char *provider, const char *model, uint32_t dim,
                   char out[AE_TABLE_NAME_MAX]);

/* Opens the table of (provider, model, dim) in vectors_dir.  With create,
 * a missing table (and vectors_dir) is created, holding no rows (version 0);
 * without, AE_ENOTFOUND.  A directory of that name we did not create is
 * AE_ENOTOURS; a table made for another key is AE_EINVAL naming both. */
/* The lock wait of tables opened without an explicit lock_timeout_ms from now on, in this
 * process (0 restores AE_LOCK_DEFAULT_TIMEOUT_MS).  The watcher's index-build child sets the
 * maximum: its one publish commit waits for the batches that hold the table's lock. */
void ae_table_set_default_lock_timeout(int ms);
int ae_table_open(const char *vectors_dir, const char *provider, const char *model, uint32_t dim,
                  int create, const ae_table_opts *opts, ae_table **out, ae_error *err);
/* Opens an existing table directory, whatever its key (registry, verify). */
int ae_table_open_dir(const char *table_dir, const ae_table_opts *opts, ae_table **out,
                      ae_error *err);
/* The key a table directory's marker records (*provider, *model allocated),
 * without opening any version: AE_ENOTOURS if the marker is missing or
 * foreign.  For the check and repair of a table that does not open. */
int ae_table_read_key(const char *table_dir, char **provider, char **model, uint32_t *dim,
                      ae_error *err);
/* Releases the lock (if held), the snapshot and the handle; accepts NULL. */
void ae_table_close(ae_table *t);
/* Releases the writer lock if held (the next write takes it again, on top of the newest
 * version); the handle stays open.  A long-lived writer (the watcher) calls this between
 * batches so one-shot writers are not locked out while it is idle. */
void ae_table_unlock(ae_table *t);

/* Removes the table directory vectors_dir/name (table_drop.c): takes its
 * writer lock, renames it out of sight in one step, then deletes it.  A
 * missing table is fine.  No handle of this process may have it open. */
int ae_table_drop(const char *vectors_dir, const char *name, ae_error *err);

/* Loads the newest committed version if it is newer than the snapshot. */
int ae_table_refresh(ae_table *t, ae_error *err);
/* Whether ae_table_refresh may have something to load: false when this handle
 * is the table's writer or versions/ is as its last listing left it (one
 * stat; true when in doubt, e.g. before the first refresh).  Changes nothing
 * of t: threads sharing t may call it beside each other and beside searches. */
bool ae_table_refresh_due(const ae_table *t);

/* One commit: every record replaces the row of its symbol_id (the last one
 * wins within the batch).  Records must carry this table's provider, model and
 * dim.  Takes the writer lock first (AE_EBUSY after the timeout). */
int ae_table_upsert(ae_table *t, const ae_vs_record *recs, size_t n, ae_error *err);
/* One commit deleting these ids; missing ids are fine.  *n_deleted optional. */
int ae_table_delete(ae_table *t, const char *const *ids, size_t n, size_t *n_deleted,
                    ae_error *err);

/* Exact cosine top-k over the live rows of the snapshot, best first, ties by
 * symbol_id ascending.  *hits allocated (caller frees). */
int ae_table_search(ae_table *t, const float *query, uint32_t dim, size_t k, ae_vs_hit **hits,
                    size_t *n_hits, ae_error *err);
/* The symbol_id map of the snapshot, which ae_table_rows_for_ids builds on
 * its first call after a refresh (a change of the handle): a caller sharing
 * the handle between threads builds it under its exclusive lock first, and
 * calls ae_table_rows_for_ids beside other readers only while it is ready. */
int ae_table_ensure_ids(ae_table *t, ae_error *err);
bool ae_table_ids_ready(const ae_table *t);
/* Filtered search (ae_vs_search_opts.allow_ids): the global rows of the live
 * rows holding these ids, ascending (ids not in the table are skipped);
 * *rows allocated (caller frees).  Then the exact top-k over those rows,
 * same order and ties as ae_table_search. */
int ae_table_rows_for_ids(ae_table *t, const char *const *ids, size_t n, uint64_t **rows,
                          size_t *n_rows, ae_error *err);
int ae_table_search_rows(ae_table *t, const float *query, uint32_t dim, size_t k,
                         const uint64_t *rows, size_t n_rows, ae_vs_hit **hits, size_t *n_hits,
                         ae_error *err);
/* Calls fn for every live row of the snapshot (strings NUL-terminated,
 * borrowed until fn returns).  Stops and returns fn's value if nonzero. */
int ae_table_iterate(ae_table *t, ae_vs_row_fn fn, void *ctx, ae_error *err);

/* Compaction: rewrites live rows into fragments of opts.fragment_rows, drops
 * deleted rows, commits, then cleans up (ae_table_cleanup). */
int ae_table_optimize(ae_table *t, ae_error *err);
/* Removes manifests outside the retention window (keeping at least
 * keep_versions), files no retained manifest names, and stale temp files.
 * Takes the writer lock.  *removed (optional) counts files removed. */
int ae_table_cleanup(ae_table *t, size_t *removed, ae_error *err);
/* Removes the files of index/ that no manifest on disk names, young ones included: for a
 * caller that knows no index build of this table runs in any process (the watcher, after
 * its build child died: src/watch/watch.c).  Takes the writer lock. */
int ae_table_sweep_index_orphans(ae_table *t, size_t *removed, ae_error *err);

typedef struct ae_table_status {
    char name[AE_TABLE_NAME_MAX];
    char provider[128];
    char model[128];
    uint32_t dim;
    uint64_t version; /* of the snapshot; 0 = nothing committed yet */
    uint64_t rows_live;
    uint64_t rows_deleted; /* still stored, dropped by the next optimize */
    size_t fragments;
    size_t versions_retained; /* manifest files on disk */
    int has_index;
    uint64_t index_covers_version;
    uint64_t index_rows;
    ae_index_tuned index_tuned; /* the build's measured recall (.set: recorded) */
} ae_table_status;

int ae_table_status_get(ae_table *t, ae_table_status *st, ae_error *err);

/* Accessors of the snapshot (valid until the next call on the handle). */
uint64_t ae_table_version(const ae_table *t);
/* Changes whenever the handle's snapshot is replaced (a refresh or a commit):
 * equal values mean the same snapshot, so whatever was derived from it (the
 * index file it names) still holds.  Never 0. */
uint64_t ae_table_snapshot_gen(const ae_table *t);
size_t ae_table_rows_live(const ae_table *t);
uint32_t ae_table_dim(const ae_table *t);
const char *ae_table_provider(const ae_table *t);
const char *ae_table_model(const ae_table *t);
const char *ae_table_get_name(const ae_table *t);
const char *ae_table_dir(const ae_table *t);

/* --- for the ANN index (src/index/ivfpq.h) --------------------------------
 * Global row numbers run over the snapshot's fragments in manifest order,
 * deleted rows included (they stay until compaction); appends only add rows
 * at the end and the size-tiered merge only rewrites rows after the index's
 * coverage, so rows an index covers keep their numbers until optimize, which
 * clears the index slot. */
struct ae_vec_source;
/* Rows of the snapshot; valid until the next write or refresh on t. */
void ae_table_vec_source(ae_table *t, struct ae_vec_source *src);
/* The source for one index search: ae_table_vec_source, and for the handle's
 * first AE_TABLE_READ_ROWS_SEARCHES searches the re-rank reads its rows with
 * pread instead of through the mapping (ae_vec_source.read_row).  Why: a
 * page-cache folio of a fragment is large (the kernel maps the whole folio
 * on a fault, ~1 MB here), so a process answering one query mapped ~190 MB
 * for its ~216 re-rank rows and unmapped it at exit: 1.7 + 6.0 ms, against
 * 0.5 ms for the reads.  A long-lived process maps its table once; after
 * this many searches the mapping's cost is spread thin.  Scores are the
 * same either way (bit for bit).  Thread-safe (a relaxed counter). */
#define AE_TABLE_READ_ROWS_SEARCHES 64
void ae_table_vec_source_search(ae_table *t, struct ae_vec_source *src);
size_t ae_table_rows_total(const ae_table *t);
/* Read-ahead advice of every fragment: sequential for a pass over all rows
 * (an index build), random again after it (fragment.h, ae_fragment_advise). */
void ae_table_advise_sequential(ae_table *t, bool sequential);
/* Whether a sample of these global rows' vectors is in the page cache. */
bool ae_table_rows_resident(const ae_table *t, const uint64_t *rows, size_t n);
/* Starts reading the symbol_id strings of these global rows when they are
 * not resident (one batch of reads instead of a fault per id). */
void ae_table_prefetch_ids(const ae_table *t, const uint64_t *rows, size_t n);
/* An ae_row_live_fn: ctx is the ae_table. */
bool ae_table_row_live(void *t, size_t row);
/* symbol_id of a global row, NUL-terminated. */
int ae_table_row_symbol_id(const ae_table *t, size_t row, char out[AE_SYMBOL_ID_MAX + 1],
                           ae_error *err);
/* A fresh absolute path under index/ for a new index file (caller frees);
 * build there (temp + fsync + rename), then publish it. */
int ae_table_index_new_path(ae_table *t, const char *ext, char **path, ae_error *err);
/* One commit that names the file at `path` (under index/) in the manifest's
 * index slot, covering the first rows_covered rows of the current version.
 * Takes the writer lock; fsyncs index/ first (C2).  AE_EBUSY when a commit
 * that landed after the caller's snapshot moved any of those rows
 * (compaction): the file would name rows of another numbering. */
int ae_table_publish_index(ae_table *t, const char *path, uint64_t rows_covered, ae_error *err);
/* What the publisher knows of the file beyond its bytes. */
typedef struct ae_table_index_info {
    /* The caller checked the whole file (ae_ivfpq_fsck) after it was renamed
     * into place: the manifest records its identity (inode, size, mtime,
     * ctime), and readers that find the same identity skip the full check
     * (ae_table_index_unchanged_since_verify). */
    bool verified;
    ae_index_tuned tuned; /* the measured recall, when .set (manifest.h) */
} ae_table_index_info;
int ae_table_publish_index_ex(ae_table *t, const char *path, uint64_t rows_covered,
                              const ae_table_index_info *info, ae_error *err);
/* True when the snapshot's index file has the identity its publisher
 * recorded after verifying it in full (one stat).  A copied, restored,
 * rewritten or touched file has another identity: false. */
bool ae_table_index_unchanged_since_verify(const ae_table *t);
/* The measured recall of the snapshot's index, if its build recorded one. */
bool ae_table_index_tuned(const ae_table *t, ae_index_tuned *out);
/* Absolute path of the snapshot's index file, or NULL (caller frees);
 * *covers_version and *rows (optional) describe it. */
char *ae_table_index_path(const ae_table *t, uint64_t *covers_version, uint64_t *rows);
/* Bytes the manifest records for that file (0: no index): a reader compares
 * it with the file it maps. */
uint64_t ae_table_index_size(const ae_table *t);

/* Verify (read-only, no lock): every manifest's checksum, every referenced
 * file's size and checksum (full read) and structure, deletion files sorted
 * and in range, row counts.  Each problem names the file. */
typedef struct ae_table_fsck_problem {
    int code;   /* AE_ECORRUPT, AE_ENOTFOUND, ... */
    char *file; /* relative to the table directory */
    char *message;
} ae_table_fsck_problem;

typedef struct ae_table_fsck_report {
    size_t versions_checked;
    size_t files_checked;
    uint64_t latest_version; /* newest valid version, 0 if none */
    uint64_t rows_live;      /* in the newest valid version */
    ae_table_fsck_problem *problems;
    size_t n_problems;
} ae_table_fsck_report;

/* Fills rep (free with ae_table_fsck_report_free).  Returns 0 when the check ran,
 * even if it found problems; a negative code only if it could not run. */
int ae_table_fsck(const char *table_dir, ae_table_fsck_report *rep, ae_error *err);
void ae_table_fsck_report_free(ae_table_fsck_report *rep);

/* Repair (table_repair.c): takes the writer lock, runs ae_table_fsck and
 * moves every damaged file into <table>/quarantine/ with a .note saying why:
 * data fragments and deletion files that fail their checks, index files,
 * corrupt manifests, and manifests naming a damaged file.  When the newest
 * intact version names a damaged file, one commit first publishes a version
 * without it (a fragment whose deletion file is damaged is dropped too: its
 * live rows are unknown; a damaged index empties the index slot, and so does
 * dropping a fragment under the rows it covers).  The rows dropped are the
 * caller's to rewrite (from another copy, or by re-embedding).  A table that
 * checks clean is left alone.  Actions name each file and its row count. */
typedef struct ae_table_repair_report {
    struct ae_strlist *actions; /* caller-provided; one line per action appended */
    size_t files_quarantined;
    uint64_t rows_dropped;     /* live rows of the fragments taken out of the newest version */
    size_t fragments_dropped;  /* ... and those fragments */
    uint64_t versions_lost;    /* corrupt manifests newer than the newest intact one */
    uint64_t fallback_version; /* the newest intact version (0: none) */
    uint64_t new_version;      /* committed by the repair (0: no commit needed) */
    bool index_cleared;
} ae_table_repair_report;

int ae_table_repair(const char *table_dir, ae_table_repair_report *rep, ae_error *err);

/* Registry: the table directories in vectors_dir that we created (marker
 * present), sorted by name; other entries are ignored and left untouched.
 * A missing vectors_dir gives an empty list.  Free with ae_strlist_free. */
struct ae_strlist;
int ae_tables_list(const char *vectors_dir, struct ae_strlist *names, ae_error *err);

/* Opens each table of vectors_dir (ae_tables_list order) with opts and calls
 * fn on it; the table is closed after fn returns unless fn took it (set *t
 * to NULL).  Stops at the first negative return and returns it. */
typedef int (*ae_table_each_fn)(ae_table **t, void *ctx, ae_error *err);
int ae_tables_each(const char *vectors_dir, const ae_table_opts *opts, ae_table_each_fn fn,
                   void *ctx, ae_error *err);

#endif
