/* Searching an IVF-PQ index: one query, one thread.
 *
 * 1. Scores are inner products on the unit sphere.  A row v in list l is
 *    approximated as c_l + r^, r^ its PQ-coded residual, so
 *        q.v ~ q.c_l + sum_j q_j . C_j[code_j]
 *    and the lookup table (m x 256) is built once per query, not per list.
 * 2. The table is quantised to 8 bits (one scale for all sub-quantisers, an
 *    offset per sub-quantiser) so a 64-vector block is scored with byte
 *    shuffles: AVX-512 VBMI vpermi2b looks up 64 codes at once in a 128-entry
 *    half of a table, no gathers (codes are stored transposed per block for
 *    this; the kernels are in distance.c).  The scalar kernel computes the
 *    same integers, so both kernels return identical results; it runs where
 *    VBMI is missing.  The rounding
 *    error is ~1/500 of the table's range per sub-quantiser; the exact re-rank
 *    makes it harmless.
 * 3. The best k * refine_factor candidates (a bounded heap; deleted rows are
 *    dropped before they take a slot) are re-ranked exactly: dot(q, row) *
 *    inv_norm(row) from the source, so scores equal the exact scan's.  A
 *    source with read_row (a young table handle) has the rows copied by
 *    explicit reads instead of touched through its mapping; same scores.
 * 4. Rows added since the build (>= rows covered) are scanned exactly and
 *    merged, so a caller always sees every live row of its source.
 * 5. The lists are chosen, and q.c_l of 1. taken, from the centroids rounded
 *    to half precision where the CPU has a kernel for them (AVX-512):
 *    choosing 24 of 1000 lists at 768 dims read 3 MB of float centroids per
 *    query, 15 % of its time; halves read half of that.  The rounding (2^-11
 *    relative per coordinate) is far below the PQ code's own error, and the
 *    re-rank of 3. is exact either way, and every search of every handle
 *    chooses from the halves, so a query's answer does not depend on what
 *    the handle did before.  The copy is made by the first search, not at
 *    open (a process that only checks an index never pays for it), into an
 *    anonymous mapping populated by the one mmap call: 373 pages at 1M x
 *    768, which one by one cost a fresh process 373 page faults.  It lives
 *    with the handle (a lazily filled cache: what a search writes of the
 *    handle is a relaxed counter and that one compare-and-swap).
 * 6. The scan's candidates gather in a pool of twice the re-rank depth, not a
 *    heap: at 1M x 768 about 860 of a query's codes reach the threshold for
 *    a depth of 216, and a heap's sift for each (unpredictable branches:
 *    58 % of a query's mispredicted branches) was 9 % of the query.  A full
 *    pool is cut to the best `depth` by one selection without data-dependent
 *    branches (util/heap.h), and its worst kept becomes the threshold.  That
 *    threshold is never above the heap's (it is the depth-th best of fewer
 *    codes), so every code the heap would keep reaches the pool, and the
 *    final cut keeps exactly the heap's set: the order is total (score, then
 *    row) and rows are unique.  The re-rank of 3. does not depend on the
 *    order it sees them in. */
#include "index/ivfpq_internal.h"

#include "index/distance.h"
#include "util/err.h"
#include "util/heap.h"
#include "util/mem.h"
#include "util/pagecache.h"

#include <math.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>

typedef struct cand {
    float score;
    uint64_t row;
} cand;

/* a ranks below b: lower score, or equal score and higher row */
static inline bool worse(const cand *a, const cand *b)
{
    /* bitwise, not short-circuit: no branch for the selection (note 6) */
    return (a->score < b->score) | ((a->score == b->score) & (a->row > b->row));
}

AE_HEAP_DEFINE(cands, cand, worse)
AE_SELECT_DEFINE(cands, cand, worse)

/* Bounded heap of the best `cap` candidates; h[0] is the worst kept. */
typedef struct heap {
    cand *h;
    size_t n, cap;
} heap;

/* Would c enter the heap? */
static inline bool heap_accepts(const heap *hp, const cand *c)
{
    return hp->n < hp->cap || worse(&hp->h[0], c);
}

static void heap_push(heap *hp, cand c)
{
    if (hp->n < hp->cap) {
        hp->h[hp->n] = c;
        cands_sift_up(hp->h, hp->n++);
    } else if (worse(&hp->h[0], &c)) {
        hp->h[0] = c;
        cands_sift_down(hp->h, hp->n, 0);
    }
}

/* Note 6: the scan's candidates; h[0, n) once pool_finish has run. */
typedef struct pool {
    cand *h;
    size_t n, cap, size; /* keeps cap, holds up to size = 2 cap */
    bool full;           /* thr is the worst of a cut */
    cand thr;
} pool;

static inline bool pool_accepts(const pool *p, const cand *c)
{
    return !p->full || worse(&p->thr, c);
}

static void pool_cut(pool *p)
{
    cands_select(p->h, p->n, p->cap);
    p->n = p->cap;
    p->thr = p->h[p->cap - 1];
    p->full = true;
}

/* c must be accepted (pool_accepts); true when the threshold rose */
static inline bool pool_push(pool *p, cand c)
{
    p->h[p->n++] = c;
    if (p->n < p->size) return false;
    pool_cut(p);
    return true;
}

static void pool_finish(pool *p)
{
    if (p->n > p->cap) pool_cut(p);
}

static int cmp_best_first(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if (worse(y, x)) return -1;
    if (worse(x, y)) return 1;
    return 0;
}

/* Sorts the heap best-first into out; returns the count. */
static size_t heap_drain(heap *hp, ae_ivfpq_hit *out)
{
    qsort(hp->h, hp->n, sizeof(cand), cmp_best_first);
    for (size_t i = 0; i < hp->n; i++)
        out[i] = (ae_ivfpq_hit){hp->h[i].row, hp->h[i].score};
    return hp->n;
}

/* cosine of row i against the unit query qn */
static inline float score_row(const ae_vec_source *src, const float *qn, size_t i)
{
    const float *v = src->row(src->ctx, i);
    if (!v) return 0.0f;
    float d = ae_dot_f32(qn, v, src->dim);
    float inv;
    if (src->inv_norm) {
        inv = src->inv_norm(src->ctx, i);
    } else {
        float s = ae_dot_f32(v, v, src->dim);
        inv = s > 0 ? 1.0f / sqrtf(s) : 0.0f;
    }
    return d * inv;
}

/* qn = q / |q|; AE_EINVAL for a zero or non-finite query. */
static int normalise_query(const float *q, uint32_t dim, float *qn, ae_error *err)
{
    double s = 0;
    for (uint32_t j = 0; j < dim; j++) {
        AE_RETURN_IF(!isfinite(q[j]), err, AE_EINVAL, "query: %s at dimension %u",
                     isnan(q[j]) ? "NaN" : "infinity", j);
        s += (double)q[j] * q[j];
    }
    AE_RETURN_IF(s <= 0, err, AE_EINVAL, "query vector is zero: cosine is undefined");
    float inv = (float)(1.0 / sqrt(s));
    for (uint32_t j = 0; j < dim; j++)
        qn[j] = q[j] * inv;
    return 0;
}

static void exact_scan(const ae_vec_source *src, const float *qn, size_t begin, size_t end,
                       ae_row_live_fn live, void *live_ctx, heap *hp)
{
    for (size_t i = begin; i < end; i++) {
        if (live && !live(live_ctx, i)) continue;
        heap_push(hp, (cand){score_row(src, qn, i), i});
    }
}

static int check_source(const ae_vec_source *src, uint32_t dim, ae_error *err)
{
    AE_RETURN_IF(!src || !src->row, err, AE_EINVAL, "no vector source");
    AE_RETURN_IF(src->dim != dim, err, AE_EINVAL, "expected %u dimensions, not %u", dim, src->dim);
    return 0;
}

int ae_ivfpq_search_exact(const ae_vec_source *src, const float *query, size_t k, size_t begin,
                          size_t end, ae_row_live_fn live, void *live_ctx, ae_ivfpq_hit *out,
                          size_t *n_out, ae_error *err)
{
    AE_RETURN_IF(!n_out || !query || (k && !out), err, AE_EINVAL, "search: missing argument");
    *n_out = 0;
    AE_TRY(check_source(src, src ? src->dim : 0, err));
    AE_RETURN_IF(begin > end || end > src->n, err, AE_EINVAL,
                 "row range [%zu, %zu) outside the %zu rows", begin, end, src->n);
    if (k == 0) return 0;
    int rc = 0;
    float *qn = ae_calloc_array(src->dim, sizeof *qn);
    heap hp = {.h = ae_calloc_array(k, sizeof(cand)), .cap = k};
    if (!qn || !hp.h) AE_FAIL(err, AE_ENOMEM, "out of memory for k = %zu", k);
    AE_CHECK(normalise_query(query, src->dim, qn, err));
    exact_scan(src, qn, begin, end, live, live_ctx, &hp);
    *n_out = heap_drain(&hp, out);
cleanup:
    free(qn);
    free(hp.h);
    return rc;
}

size_t ae_ivfpq_hits_merge(const ae_ivfpq_hit *a, size_t na, const ae_ivfpq_hit *b, size_t nb,
                           size_t k, ae_ivfpq_hit *out)
{
    size_t i = 0, j = 0, n = 0;
    while (n < k && (i < na || j < nb)) {
        bool take_a;
        if (i == na)
            take_a = false;
        else if (j == nb)
            take_a = true;
        else
            take_a = a[i].score > b[j].score || (a[i].score == b[j].score && a[i].row <= b[j].row);
        out[n++] = take_a ? a[i++] : b[j++];
    }
    return n;
}

/* Re-ranking is bound by memory latency (each candidate is a random 3 KB row
 * at dim 768): whole rows are prefetched a few candidates ahead so several
 * misses are in flight at once. */
#define IVFPQ_PREFETCH_ROWS      6
#define IVFPQ_PREFETCH_MAX_LINES 64

static inline void prefetch_row(const float *v, uint32_t dim)
{
    if (!v) return;
    size_t lines = ((size_t)dim * sizeof(float) + 63) / 64;
    if (lines > IVFPQ_PREFETCH_MAX_LINES) lines = IVFPQ_PREFETCH_MAX_LINES;
    for (size_t l = 0; l < lines; l++)
        __builtin_prefetch((const char *)v + 64 * l);
}

/* A file not in the page cache: the probed lists' codes and row ids are
 * asked for all at once before the scan reads them (util/pagecache.h); one
 * mincore of the nearest list's first code page is the warm cost. */
static void ivfpq_prefetch_lists(const ae_ivfpq *ix, const cand *probe, uint32_t nprobe)
{
    size_t block_bytes = (size_t)ix->m * IVFPQ_BLOCK;
    uint32_t l0 = (uint32_t)probe[0].row;
    if (ix->list_off[l0 + 1] == ix->list_off[l0] ||
        ae_pc_resident(ix->codes + ix->block_off[l0] * block_bytes))
        return;
    for (uint32_t p = 0; p < nprobe; p++) {
        uint32_t l = (uint32_t)probe[p].row;
        uint64_t lo = ix->list_off[l], len = ix->list_off[l + 1] - lo;
        if (!len) continue;
        ae_pc_willneed(ix->codes + ix->block_off[l] * block_bytes,
                       (size_t)(ix->block_off[l + 1] - ix->block_off[l]) * block_bytes);
        ae_pc_willneed(ix->ids + lo, (size_t)len * sizeof(uint32_t));
    }
}

/* Note 5: the half-precision centroids, made by the first search that asks
 * (a thread that loses the race frees its copy); NULL where the CPU has no
 * kernel for them or memory is short: the float centroids then. */
static const uint16_t *centroids_f16(ae_ivfpq *ix)
{
    uint16_t *h = atomic_load_explicit(&ix->centroids_h, memory_order_acquire);
    if (h || !ivfpq_f16_usable(ix->dim)) return h;
    size_t bytes = ivfpq_centroids_f16_bytes(ix);
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
                   -1, 0);
    if (p == MAP_FAILED) return NULL;
    uint16_t *mine = p;
    ivfpq_f32_to_f16(ix->centroids, (size_t)ix->nlist * ix->dim, mine);
    uint16_t *expected = NULL;
    if (atomic_compare_exchange_strong_explicit(&ix->centroids_h, &expected, mine,
                                                memory_order_acq_rel, memory_order_acquire))
        return mine;
    munmap(mine, bytes);
    return expected;
}

/* The re-rank of note 3 from rows copied by src->read_row (one row at a time
 * into one aligned buffer; ae_dot_f32 does not depend on alignment, so the
 * scores are score_row's).  A row the source could not read is scored through
 * the mapping.  Empties cands: what is left for the mapped loop is nothing. */
static int rerank_by_reads(const ae_vec_source *src, const float *qn, pool *cands, heap *best,
                           ae_error *err)
{
    size_t bytes = ((size_t)src->dim * sizeof(float) + 63) & ~(size_t)63;
    float *buf = aligned_alloc(64, bytes);
    if (!buf) return ae_fail(err, AE_ENOMEM, "out of memory for a %u-dim row", src->dim);
    for (size_t i = 0; i < cands->n; i++) {
        size_t row = (size_t)cands->h[i].row;
        float inv, score;
        if (src->read_row(src->ctx, row, buf, &inv))
            score = ae_dot_f32(qn, buf, src->dim) * inv;
        else
            score = score_row(src, qn, row);
        heap_push(best, (cand){score, row});
    }
    cands->n = 0;
    free(buf);
    return 0;
}

/* Index of the nprobe lists nearest to qn (closest first). */
static void pick_lists(const ae_ivfpq *ix, const float *qn, uint32_t nprobe, float *dots,
                       cand *probe)
{
    const uint16_t *ch = centroids_f16((ae_ivfpq *)ix);
    if (ch)
        ivfpq_dot_many_f16(qn, ch, ix->nlist, ix->dim, dots);
    else
        ae_dot_many_f32(qn, ix->centroids, ix->nlist, ix->dim, dots);
    /* the heap keeps the nprobe best by -distance = 2 q.c - |c|^2 */
    heap hp = {.h = probe, .cap = nprobe};
    for (uint32_t l = 0; l < ix->nlist; l++) {
        cand c = {2.0f * dots[l] - ix->cnorms[l], l};
        if (heap_accepts(&hp, &c)) heap_push(&hp, c);
    }
    qsort(probe, hp.n, sizeof(cand), cmp_best_first);
}

/* The quantised ADC table: lut8[j][c] ~ (q_j . C_j[c] - lo_j) / delta. */
static void build_lut(const ae_ivfpq *ix, const float *qn, float *lut, uint8_t *lut8, float *delta,
                      float *sum_lo)
{
    ivfpq_lut(qn, ix->codebooks, ix->m, ix->dsub, lut);
    *delta = ivfpq_lut_quantise(lut, ix->m, lut + (size_t)ix->m * AE_IVFPQ_KSUB, lut8, sum_lo);
}

int ae_ivfpq_search(const ae_ivfpq *ix, const ae_vec_source *src, const float *query, size_t k,
                    uint32_t nprobe, uint32_t refine_factor, ae_row_live_fn live, void *live_ctx,
                    ae_ivfpq_hit *out, size_t *n_out, ae_error *err)
{
    AE_RETURN_IF(!ix || !n_out || !query || (k && !out), err, AE_EINVAL,
                 "search: missing argument");
    *n_out = 0;
    AE_TRY(check_source(src, ix->dim, err));
    AE_RETURN_IF(src->n < ix->rows, err, AE_EINVAL,
                 "%s: the index covers %llu rows, the source has only %zu", ix->path,
                 (unsigned long long)ix->rows, src->n);
    if (k == 0) return 0;
    if (!nprobe) nprobe = AE_IVFPQ_DEFAULT_NPROBE;
    if (nprobe > ix->nlist) nprobe = ix->nlist;
    if (!refine_factor) refine_factor = ae_ivfpq_default_refine_m(ix->dim, ix->m);
    AE_RETURN_IF(refine_factor > AE_IVFPQ_MAX_REFINE, err, AE_EINVAL, "refine factor %u exceeds %d",
                 refine_factor, AE_IVFPQ_MAX_REFINE);
    size_t ncand;
    if (__builtin_mul_overflow(k, (size_t)refine_factor, &ncand) || ncand > ix->rows)
        ncand = ix->rows;
    if (ncand < k) ncand = k;

    int rc = 0;
    uint32_t m = ix->m;
    float *qn = ae_calloc_array(ix->dim, sizeof *qn);
    float *dots = ae_calloc_array(ix->nlist, sizeof *dots);
    cand *probe = ae_calloc_array(nprobe, sizeof *probe);
    float *lut = ae_calloc_array((size_t)m * AE_IVFPQ_KSUB + m, sizeof *lut);
    uint8_t *lut8 = ae_calloc_array((size_t)m * AE_IVFPQ_KSUB, 1);
    pool cands = {.cap = ncand, .size = ncand < SIZE_MAX / 2 ? 2 * ncand : ncand};
    cands.h = ae_calloc_array(cands.size, sizeof(cand));
    heap best = {.h = ae_calloc_array(k, sizeof(cand)), .cap = k};
    if (!qn || !dots || !probe || !lut || !lut8 || !cands.h || !best.h)
        AE_FAIL(err, AE_ENOMEM, "out of memory for k = %zu, refine %u", k, refine_factor);
    AE_CHECK(normalise_query(query, ix->dim, qn, err));

    pick_lists(ix, qn, nprobe, dots, probe);
    ivfpq_prefetch_lists(ix, probe, nprobe);
    float delta, sum_lo;
    build_lut(ix, qn, lut, lut8, &delta, &sum_lo);
    ivfpq_scan_fn scan = ivfpq_scan_kernel();
    uint16_t acc[IVFPQ_BLOCK];
    size_t block_bytes = (size_t)m * IVFPQ_BLOCK;
    for (uint32_t p = 0; p < nprobe; p++) {
        uint32_t l = (uint32_t)probe[p].row;
        uint64_t lo = ix->list_off[l], len = ix->list_off[l + 1] - lo;
        const uint8_t *blk = ix->codes + ix->block_off[l] * block_bytes;
        const uint32_t *ids = ix->ids + lo;
        float base = dots[l] + sum_lo;
        const uint8_t *after = NULL; /* the first block of the next probed list */
        for (uint32_t q = p + 1; q < nprobe && !after; q++) {
            uint32_t nl = (uint32_t)probe[q].row;
            if (ix->list_off[nl + 1] > ix->list_off[nl])
                after = ix->codes + ix->block_off[nl] * block_bytes;
        }
        for (uint64_t b = 0; b < len; b += IVFPQ_BLOCK, blk += block_bytes) {
            /* integer pre-filter: acc must reach the worst kept candidate */
            uint32_t need = 0;
            if (cands.full) {
                float t = (cands.thr.score - base) / delta;
                need = t < 1 ? 0 : t >= 65535.0f ? 65535 : (uint32_t)t - 1;
            }
            uint64_t lanes = scan(blk, b + IVFPQ_BLOCK < len ? blk + block_bytes : after, lut8, m,
                                  (uint16_t)need, acc);
            if (len - b < IVFPQ_BLOCK) lanes &= ivfpq_lanes_below((uint32_t)(len - b));
            for (; lanes; lanes &= lanes - 1) {
                uint32_t i = (uint32_t)__builtin_ctzll(lanes);
                if (acc[i] < need) continue; /* need rose since the kernel's test */
                cand c = {base + delta * (float)acc[i], ids[b + ivfpq_lane_vector(i)]};
                if (c.row >= ix->rows || !pool_accepts(&cands, &c)) continue;
                if (live && !live(live_ctx, (size_t)c.row)) continue;
                if (pool_push(&cands, c)) {
                    float t = (cands.thr.score - base) / delta;
                    need = t < 1 ? 0 : t >= 65535.0f ? 65535 : (uint32_t)t - 1;
                }
            }
        }
    }

    /* exact re-rank of the candidates, then the rows added since the build */
    pool_finish(&cands);
    if (src->prefetch && cands.n) {
        uint64_t *rows = ae_calloc_array(cands.n, sizeof *rows);
        if (rows) {
            for (size_t i = 0; i < cands.n; i++)
                rows[i] = cands.h[i].row;
            src->prefetch(src->ctx, rows, cands.n);
            free(rows);
        }
    }
    if (src->read_row && cands.n) {
        rc = rerank_by_reads(src, qn, &cands, &best, err);
        if (rc < 0) goto cleanup;
    }
    for (size_t i = 0; i < cands.n && i < IVFPQ_PREFETCH_ROWS; i++)
        prefetch_row(src->row(src->ctx, (size_t)cands.h[i].row), ix->dim);
    for (size_t i = 0; i < cands.n; i++) {
        if (i + IVFPQ_PREFETCH_ROWS < cands.n)
            prefetch_row(src->row(src->ctx, (size_t)cands.h[i + IVFPQ_PREFETCH_ROWS].row), ix->dim);
        size_t row = (size_t)cands.h[i].row;
        heap_push(&best, (cand){score_row(src, qn, row), row});
    }
    exact_scan(src, qn, (size_t)ix->rows, src->n, live, live_ctx, &best);
    *n_out = heap_drain(&best, out);
cleanup:
    free(qn);
    free(dots);
    free(probe);
    free(lut);
    free(lut8);
    free(cands.h);
    free(best.h);
    return rc;
}
