/* Private to src/vectors/table*.c, snapshot.c, commit.c, compact.c, idmap.c:
 * the handle, the snapshot and the cross-file prototypes. */
#ifndef AE_VECTORS_TABLE_INTERNAL_H
#define AE_VECTORS_TABLE_INTERNAL_H

#include "vectors/fragment.h"
#include "vectors/manifest.h"
#include "vectors/table.h"

#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>

#include <stdbool.h>

/* One fragment of a snapshot: its mmap and its deletion set. */
typedef struct snap_frag {
    ae_fragment *frag;
    uint64_t id;
    size_t rows;
    uint32_t *del_rows; /* sorted deleted rows (copy of the deletion file) */
    size_t n_del;
    uint8_t *deleted; /* bitmap of rows, NULL when n_del == 0 */
    size_t base;      /* global row number of row 0 */
} snap_frag;

/* A committed version, opened: everything a reader needs, nothing shared. */
typedef struct snapshot {
    ae_manifest m;
    snap_frag *frags; /* m.n_fragments */
    size_t rows_total, rows_live;
    /* global row -> fragment without a search over every fragment: slot j
     * (rows [j << row_shift, (j + 1) << row_shift)) starts in fragment
     * frag_of[j] and ends in frag_of[j + 1]; NULL: search them all */
    uint32_t *frag_of;
    unsigned row_shift;
} snapshot;

/* The fragment holding global row `row` of s (NULL past the end), and the
 * row within it. */
static inline const snap_frag *snap_locate(const snapshot *s, size_t row, size_t *in_frag)
{
    size_t lo = 0, hi = s->m.n_fragments;
    if (s->frag_of && row < s->rows_total) {
        size_t j = row >> s->row_shift;
        lo = s->frag_of[j];
        hi = (size_t)s->frag_of[j + 1] + 1;
    }
    /* the last fragment whose first row is at or before row */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->frags[mid].base <= row)
            lo = mid;
        else
            hi = mid;
    }
    if (lo >= s->m.n_fragments || row - s->frags[lo].base >= s->frags[lo].rows) return NULL;
    *in_frag = row - s->frags[lo].base;
    return &s->frags[lo];
}

static inline bool snap_row_deleted(const snap_frag *f, size_t row)
{
    return f->deleted && (f->deleted[row >> 3] >> (row & 7)) & 1;
}

/* symbol_id -> (fragment index, row) for the live rows of a snapshot;
 * open addressing, keys compared against the fragments (not copied). */
typedef struct idmap_slot {
    uint64_t hash;
    uint32_t frag; /* UINT32_MAX: empty */
    uint32_t row;
} idmap_slot;

typedef struct idmap {
    idmap_slot *slots;
    size_t cap, len; /* cap is a power of two */
} idmap;

struct ae_table {
    char *dir;
    char *name;
    char *provider, *model;
    uint32_t dim;
    ae_table_opts opts;
    snapshot *snap;
    uint64_t snap_gen;             /* +1 each time snap is replaced (ae_table_snapshot_gen) */
    atomic_uint_fast64_t searches; /* index searches served (ae_table_vec_source_search) */
    idmap ids;
    bool ids_valid;
    int lock_fd;
    uint64_t next_version; /* while locked: the version the next commit takes */
    bool fatal;            /* failed past the point of no return: refuse writes */
    /* Readers' refresh skips listing versions/ while the directory is
     * unchanged since a listing (same inode and mtime, and that mtime was
     * already in the past when seen: a change in the same clock tick cannot
     * hide behind it -- the "racy timestamp" rule). */
    char *versions_dir;
    bool versions_seen;
    ino_t versions_ino;
    struct timespec versions_mtime;
};

/* snapshot.c */
/* Opens the newest valid version of t->dir (version 0 if none), reusing
 * fragments of `reuse` (which gives them up) where ids match. */
int snapshot_load_latest(const ae_table *t, snapshot *reuse, snapshot **out, ae_error *err);
/* Opens the files of manifest m (taken over on success). */
int snapshot_open(const ae_table *t, ae_manifest *m, snapshot *reuse, snapshot **out,
                  ae_error *err);
void snapshot_free(snapshot *s);
/* Read-ahead advice for a whole pass over fragments [from, n) (sequential),
 * or back to the query default (random); see ae_fragment_advise. */
void snapshot_advise(const snapshot *s, size_t from, bool sequential);
/* The version a new commit must use: highest manifest file name + 1. */
int snapshot_next_version(const char *dir, uint64_t *v, ae_error *err);

/* idmap.c */
int idmap_build(idmap *m, const snapshot *s, ae_error *err);
/* Finds id; 1 and *frag,*row if present, 0 if not, negative on a bad fragment. */
int idmap_find(const idmap *m, const snapshot *s, const char *id, size_t len, uint32_t *frag,
               uint32_t *row);
int idmap_insert(idmap *m, const char *id, size_t len, uint32_t frag, uint32_t row);
void idmap_remove(idmap *m, uint32_t frag, uint32_t row, const char *id, size_t len);
void idmap_free(idmap *m);
uint64_t idmap_hash(const char *s, size_t len);

/* commit.c */
/* Deletions to add to one fragment of the current snapshot. */
typedef struct commit_del {
    uint32_t frag; /* index in the snapshot */
    uint32_t *rows;
    size_t n;
} commit_del;

typedef struct commit_plan {
    const ae_fragment_rows *append; /* NULL: nothing appended */
    commit_del *dels;               /* sorted by frag, rows unique */
    size_t n_dels;
    /* compaction: replace fragments [replace_from, n) of the snapshot by
     * these, already written and fsynced by commit_write_fragment (ids
     * below next_fragment_id).  The index slot survives only if none of the
     * rows it covers moved. */
    bool replace;
    size_t replace_from;
    const ae_manifest_fragment *written;
    size_t n_written;
    uint64_t next_fragment_id;
    /* publishes an ANN index (ref.file already durable under index/) */
    const ae_manifest_index *set_index;
} commit_plan;

/* A fresh 8-hex token that makes a commit's file names unique. */
void commit_token(char out[9]);
/* Writes one fragment file data/<id>-<token>.arrow (one "commit" step plus
 * the fragment writer's own I/O) and fills *mf (mf->data.file allocated). */
int commit_write_fragment(ae_table *t, const char *token, uint64_t id, const ae_fragment_rows *rows,
                          ae_manifest_fragment *mf, ae_error *err);

/* Publishes the next version (see the invariants in commit.c) and installs
 * its snapshot in t.  Requires the writer lock and an up-to-date snapshot. */
int commit_apply(ae_table *t, const commit_plan *plan, ae_error *err);

/* compact.c: after an append, merges the trailing run of equally small
 * fragments (a size-tiered policy), and cleans up now and then.  Errors
 * leave the table as it was and are not reported to the upsert. */
void compact_after_append(ae_table *t);

/* table.c */
int table_lock(ae_table *t, ae_error *err);
/* Builds the snapshot's symbol_id map if it is not current. */
int table_ensure_ids(ae_table *t, ae_error *err);

#endif
