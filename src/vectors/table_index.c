/* The table's side of the ANN index: global row access for building and
 * re-ranking, and publishing a built index file through a commit.
 *
 * 1. Global row -> fragment is a slot of the snapshot's row index, then a
 *    search over the one or two fragments the slot spans (snap_locate); a
 *    vec_source row is a pointer into the mmapped fragment.
 * 2. An index file is one more immutable file named by a manifest (C1, C2):
 *    it is built under index/ with a fresh name, fsynced by its writer, the
 *    directory fsynced here, then a commit fills the manifest's index slot.
 * 3. An index names rows by number, so it is only published over the same
 *    numbering it was built on: if another writer compacted the rows it
 *    covers between the build and the lock, publishing fails (AE_EBUSY)
 *    instead of naming rows of another numbering.  Compaction of covered
 *    rows clears the slot (commit.c), so a published index never outlives
 *    its numbering either. */
#include "vectors/table_internal.h"

#include "index/ivfpq.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/mem.h"
#include "vectors/io.h"

#include <inttypes.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const snap_frag *locate(const snapshot *s, size_t row, size_t *in_frag)
{
    return snap_locate(s, row, in_frag);
}

static const float *src_row(void *ctx, size_t i)
{
    const ae_table *t = ctx;
    size_t r;
    const snap_frag *f = locate(t->snap, i, &r);
    return f ? ae_fragment_vectors(f->frag) + r * t->dim : NULL;
}

static float src_inv_norm(void *ctx, size_t i)
{
    const ae_table *t = ctx;
    size_t r;
    const snap_frag *f = locate(t->snap, i, &r);
    return f ? ae_fragment_inv_norms(f->frag)[r] : 0.0f;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Rows sampled by the cold probe of a prefetch: if these are resident the
 * rest is assumed to be (a warm query pays this many mincore calls). */
#define PREFETCH_PROBES 4

/* Groups sorted global rows by fragment and hands each group to fn. */
static void by_fragment(const ae_table *t, const uint64_t *sorted, size_t n,
                        void (*fn)(const ae_fragment *, const uint32_t *, size_t))
{
    uint32_t local[256];
    size_t k = 0;
    const snap_frag *cur = NULL;
    for (size_t i = 0; i < n; i++) {
        size_t r;
        const snap_frag *f = locate(t->snap, (size_t)sorted[i], &r);
        if (!f) continue;
        if ((f != cur && k) || k == sizeof local / sizeof *local) {
            fn(cur->frag, local, k);
            k = 0;
        }
        cur = f;
        local[k++] = (uint32_t)r;
    }
    if (k) fn(cur->frag, local, k);
}

bool ae_table_rows_resident(const ae_table *t, const uint64_t *rows, size_t n)
{
    for (size_t i = 0; i < n && i < PREFETCH_PROBES; i++) {
        size_t j = i * n / PREFETCH_PROBES, r;
        const snap_frag *f = locate(t->snap, (size_t)rows[j], &r);
        if (f && !ae_fragment_row_resident(f->frag, r)) return false;
    }
    return true;
}

/* A cold re-rank: the candidates' pages in one batch of reads, in file order. */
static void src_prefetch(void *ctx, const uint64_t *rows, size_t n)
{
    const ae_table *t = ctx;
    if (ae_table_rows_resident(t, rows, n)) return;
    uint64_t *sorted = ae_calloc_array(n, sizeof *sorted);
    if (!sorted) return;
    memcpy(sorted, rows, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_u64);
    by_fragment(t, sorted, n, ae_fragment_willneed_rows);
    free(sorted);
}

void ae_table_prefetch_ids(const ae_table *t, const uint64_t *rows, size_t n)
{
    bool resident = true;
    for (size_t i = 0; i < n && i < PREFETCH_PROBES && resident; i++) {
        size_t r;
        const snap_frag *f = locate(t->snap, (size_t)rows[i * n / PREFETCH_PROBES], &r);
        resident = !f || ae_fragment_id_resident(f->frag, r);
    }
    if (resident) return;
    uint64_t *sorted = ae_calloc_array(n ? n : 1, sizeof *sorted);
    if (!sorted) return;
    memcpy(sorted, rows, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_u64);
    by_fragment(t, sorted, n, ae_fragment_willneed_ids);
    free(sorted);
}

/* Rows [lo, hi) leave the resident set, fragment by fragment (a build pass). */
static void src_release(void *ctx, size_t lo, size_t hi)
{
    const ae_table *t = ctx;
    const snapshot *s = t->snap;
    for (size_t f = 0; f < s->m.n_fragments; f++) {
        const snap_frag *sf = &s->frags[f];
        size_t a = sf->base, b = sf->base + sf->rows;
        if (b <= lo || a >= hi || !sf->frag) continue;
        ae_fragment_release_rows(sf->frag, (lo > a ? lo : a) - a, (hi < b ? hi : b) - a);
    }
}

static bool src_read_row(void *ctx, size_t i, float *dst, float *inv_norm)
{
    const ae_table *t = ctx;
    size_t r;
    const snap_frag *f = locate(t->snap, i, &r);
    return f && ae_fragment_read_row(f->frag, r, dst, inv_norm);
}

void ae_table_vec_source_search(ae_table *t, struct ae_vec_source *src)
{
    ae_table_vec_source(t, src);
    uint_fast64_t served = atomic_fetch_add_explicit(&t->searches, 1, memory_order_relaxed);
    if (served < AE_TABLE_READ_ROWS_SEARCHES) src->read_row = src_read_row;
}

void ae_table_vec_source(ae_table *t, struct ae_vec_source *src)
{
    src->n = t->snap->rows_total;
    src->dim = t->dim;
    src->row = src_row;
    src->inv_norm = src_inv_norm;
    src->ctx = t;
    src->prefetch = src_prefetch;
    src->release = src_release;
    src->read_row = NULL;
}

void ae_table_advise_sequential(ae_table *t, bool sequential)
{
    snapshot_advise(t->snap, 0, sequential);
}

size_t ae_table_rows_total(const ae_table *t)
{
    return t->snap->rows_total;
}

bool ae_table_row_live(void *ctx, size_t row)
{
    const ae_table *t = ctx;
    size_t r;
    const snap_frag *f = locate(t->snap, row, &r);
    return f && !snap_row_deleted(f, r);
}

int ae_table_row_symbol_id(const ae_table *t, size_t row, char out[AE_SYMBOL_ID_MAX + 1],
                           ae_error *err)
{
    size_t r;
    const snap_frag *f = locate(t->snap, row, &r);
    AE_RETURN_IF(!f, err, AE_EINVAL, "row %zu is beyond the %zu rows of vector table %s", row,
                 t->snap->rows_total, t->name);
    const char *s;
    size_t len;
    int rc = ae_fragment_symbol_id(f->frag, r, &s, &len);
    if (rc < 0) return ae_fail(err, rc, "vector table %s: bad symbol_id at row %zu", t->name, row);
    if (len > AE_SYMBOL_ID_MAX) len = AE_SYMBOL_ID_MAX;
    memcpy(out, s, len);
    out[len] = '\0';
    return 0;
}

int ae_table_index_new_path(ae_table *t, const char *ext, char **path, ae_error *err)
{
    char token[9];
    commit_token(token);
    *path = ae_asprintf("%s/index/%020" PRIu64 "-%s.%s", t->dir, t->snap->m.version, token,
                        ext && *ext ? ext : "index");
    return *path ? 0 : ae_fail(err, AE_ENOMEM, "out of memory");
}

/* The fragments holding rows [0, rows) of s: (id, rows) pairs, so a later
 * snapshot can tell whether any of those rows moved (3.). */
typedef struct frag_key {
    uint64_t id;
    size_t rows;
} frag_key;

static int prefix_keys(const snapshot *s, uint64_t rows, frag_key **out, size_t *n)
{
    size_t k = 0;
    while (k < s->m.n_fragments && s->frags[k].base < rows)
        k++;
    *out = ae_calloc_array(k + 1, sizeof **out);
    if (!*out) return AE_ENOMEM;
    for (size_t i = 0; i < k; i++)
        (*out)[i] = (frag_key){s->frags[i].id, s->frags[i].rows};
    *n = k;
    return 0;
}

static bool prefix_same(const snapshot *s, const frag_key *keys, size_t n)
{
    if (s->m.n_fragments < n) return false;
    for (size_t i = 0; i < n; i++)
        if (s->frags[i].id != keys[i].id || s->frags[i].rows != keys[i].rows) return false;
    return true;
}

int ae_table_publish_index(ae_table *t, const char *path, uint64_t rows_covered, ae_error *err)
{
    return ae_table_publish_index_ex(t, path, rows_covered, NULL, err);
}

/* The identity of the file at path (fstat of what file_checksum read). */
static int stamp_of(const char *path, ae_index_stamp *st, uint64_t *size)
{
    struct stat sb;
    if (stat(path, &sb) != 0) return -1;
    *st = (ae_index_stamp){true, (uint64_t)sb.st_ino,
                           (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec,
                           (int64_t)sb.st_ctim.tv_sec * 1000000000 + sb.st_ctim.tv_nsec};
    *size = (uint64_t)sb.st_size;
    return 0;
}

int ae_table_publish_index_ex(ae_table *t, const char *path, uint64_t rows_covered,
                              const ae_table_index_info *info, ae_error *err)
{
    size_t dl = strlen(t->dir);
    AE_RETURN_IF(strncmp(path, t->dir, dl) || strncmp(path + dl, "/index/", 7) ||
                     strchr(path + dl + 7, '/'),
                 err, AE_EINVAL, "index file %s is not in %s/index", path, t->dir);
    AE_RETURN_IF(rows_covered > t->snap->rows_total, err, AE_EINVAL,
                 "index covers %" PRIu64 " rows, vector table %s has %zu", rows_covered, t->name,
                 t->snap->rows_total);
    /* the index was built from this snapshot; taking the lock may load a
     * newer one (another writer committed meanwhile) */
    frag_key *keys = NULL;
    size_t n_keys = 0;
    AE_RETURN_IF(prefix_keys(t->snap, rows_covered, &keys, &n_keys) < 0, err, AE_ENOMEM,
                 "out of memory");
    int lrc = table_lock(t, err);
    bool same = lrc == 0 && prefix_same(t->snap, keys, n_keys);
    free(keys);
    if (lrc < 0) return lrc;
    AE_RETURN_IF(!same, err, AE_EBUSY,
                 "vector table %s was compacted while its index was built (rows renumbered); "
                 "build the index again",
                 t->name);
    ae_manifest_index ix = {0};
    ix.ref.file = (char *)(path + dl + 1);
    AE_TRY(file_checksum(path, ix.ref.checksum, &ix.ref.size, err));
    uint64_t stamped_size = 0;
    if (info && info->verified &&
        (stamp_of(path, &ix.stamp, &stamped_size) < 0 || stamped_size != ix.ref.size))
        ix.stamp.set = false; /* changed under us: no stamp, readers check in full */
    if (info && info->tuned.set) ix.tuned = info->tuned;
    ix.covers_version = t->snap->m.version;
    ix.rows = rows_covered;
    char *dir = ae_path_join(t->dir, "index");
    if (!dir) return ae_fail(err, AE_ENOMEM, "out of memory");
    int rc = vio_fsync_dir(dir, err);
    free(dir);
    if (rc < 0) return rc;
    commit_plan plan = {.set_index = &ix};
    return commit_apply(t, &plan, err);
}

char *ae_table_index_path(const ae_table *t, uint64_t *covers_version, uint64_t *rows)
{
    const ae_manifest_index *ix = &t->snap->m.index;
    if (covers_version) *covers_version = ix->covers_version;
    if (rows) *rows = ix->rows;
    return ix->ref.file ? ae_path_join(t->dir, ix->ref.file) : NULL;
}

uint64_t ae_table_index_size(const ae_table *t)
{
    return t->snap->m.index.ref.file ? t->snap->m.index.ref.size : 0;
}

bool ae_table_index_unchanged_since_verify(const ae_table *t)
{
    const ae_manifest_index *ix = &t->snap->m.index;
    if (!ix->ref.file || !ix->stamp.set) return false;
    char *path = ae_path_join(t->dir, ix->ref.file);
    ae_index_stamp now;
    uint64_t size = 0;
    bool same = path && stamp_of(path, &now, &size) == 0 && size == ix->ref.size &&
                now.ino == ix->stamp.ino && now.mtime_ns == ix->stamp.mtime_ns &&
                now.ctime_ns == ix->stamp.ctime_ns;
    free(path);
    return same;
}

bool ae_table_index_tuned(const ae_table *t, ae_index_tuned *out)
{
    *out = t->snap->m.index.tuned;
    return t->snap->m.index.ref.file && out->set;
}
