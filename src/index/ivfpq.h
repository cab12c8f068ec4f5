/* IVF-PQ approximate nearest-neighbour index with exact re-ranking (cosine).
 *
 * The index is standalone over a vector source: it never owns the vectors, it
 * reads them through ae_vec_source (rows of the table in global row order) to
 * train, to encode and, at query time, to re-rank the best candidates exactly.
 *
 *   build:  sample -> train coarse k-means (nlist lists) -> train PQ on the
 *           residuals (m sub-quantisers x 256 centroids, 8-bit codes) ->
 *           assign + encode every row -> write one checksummed file
 *           (temp + fsync + rename).
 *   open:   mmap; checks magic, version, header checksum and section bounds
 *           only (cheap: a fresh process answers its first query at once).
 *   search: nprobe nearest lists, one ADC table per query, blocked code scan,
 *           the best k * refine_factor candidates re-ranked exactly from src;
 *           rows >= ae_ivfpq_rows_covered() (added since the build) are
 *           scanned exactly and merged, so results cover all of src.
 *
 * Scores are cosine similarity: dot(q, v) / (|q| |v|); zero vectors score 0.
 * Ownership: sources, queries and callbacks are borrowed for the call; the
 * handle returned by ae_ivfpq_open is freed with ae_ivfpq_close (accepts NULL).
 * A handle is read-only after open: concurrent searches on it are safe. */
#ifndef AE_INDEX_IVFPQ_H
#define AE_INDEX_IVFPQ_H

#include <aether/error.h>
#include <aether/vector_store.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parameters: DEFAULT / MIN / MAX.  The defaults were chosen from the
 * measurements in docs/BENCHMARKS.md ("IVF-PQ vs exact vs LanceDB"). */
#define AE_IVFPQ_KSUB 256 /* centroids per sub-quantiser: 8-bit codes */

#define AE_IVFPQ_MIN_NLIST 1
#define AE_IVFPQ_MAX_NLIST 65536
/* nlist = 0 picks AE_IVFPQ_NLIST_PER_SQRT_N * sqrt(rows), clamped. */
#define AE_IVFPQ_NLIST_PER_SQRT_N 1.0

#define AE_IVFPQ_MIN_M 1
#define AE_IVFPQ_MAX_M 256 /* 16-bit accumulators: 256 * 255 < 65536 */
/* m = 0 picks dim / dsub sub-quantisers (nearest divisor), dsub from the
 * defaults table below (AE_IVFPQ_DEFAULT_DSUB above its last row). */
#define AE_IVFPQ_DEFAULT_DSUB 8

#define AE_IVFPQ_MIN_ROWS 256         /* fewer rows: keep the table exact */
#define AE_IVFPQ_MAX_ROWS 0xFFFFFFFFu /* row ids are stored as uint32 */
#define AE_IVFPQ_MIN_DIM  1

/* train_sample = 0 picks max(nlist * 64, 65536) rows, capped at the row count. */
#define AE_IVFPQ_DEFAULT_TRAIN_PER_LIST 64
#define AE_IVFPQ_DEFAULT_TRAIN_MIN      65536
#define AE_IVFPQ_MAX_TRAIN_SAMPLE       1000000

/* k-means iterations, for the coarse quantiser and each PQ sub-quantiser.
 * 6, not 10 (session 22): the coarse k-means is 65,536 x 1000 x 768
 * multiply-adds per iteration at 1M x 768, and with 6 the bare build took
 * 18.3 s wall / 34.2 s CPU instead of ~29 s / 40-52 s on two cores, recall@10
 * 0.9659 instead of 0.9668 at nprobe 24 / refine 20.  On the held-back sets
 * (never used to choose a default; bench/recall/heldback.sh) the setting a
 * search uses kept recall@10 >= 0.969 with 6, within 0.005 of 10 on each
 * (24 / 20 alone >= 0.965, except 0.87 on the less clustered set with 10
 * too, where the build's tuner moves to 64 / 20): docs/BENCHMARKS.md,
 * "Recall on held-back sets", the session 22 re-run. */
#define AE_IVFPQ_DEFAULT_ITERS 6
#define AE_IVFPQ_MIN_ITERS     1
#define AE_IVFPQ_MAX_ITERS     100

#define AE_IVFPQ_DEFAULT_THREADS 2
#define AE_IVFPQ_MAX_THREADS     64

/* The heap a build may allocate at its peak (ae_ivfpq_build_memory): the
 * rows themselves are read through the source in place and never copied
 * whole; a build that would need more fails up front with AE_ENOMEM naming
 * both figures.  mem_budget = 0 picks the default. */
#define AE_IVFPQ_DEFAULT_BUILD_BUDGET ((size_t)2 << 30)
#define AE_IVFPQ_MIN_BUILD_BUDGET     ((size_t)16 << 20)

/* 1M x 768 (nlist 1000, m 96): nprobe 24 / refine 20 -> recall@10 0.967 at
 * p50 0.61 ms; 100K (nlist 316): 0.982 at 0.32 ms. */
#define AE_IVFPQ_DEFAULT_NPROBE 24
#define AE_IVFPQ_MIN_NPROBE     1
#define AE_IVFPQ_DEFAULT_REFINE 20 /* re-rank k * refine_factor candidates */

/* Defaults by dimension, as data (src/index/defaults.c holds the table and
 * the measurements behind each row, docs/BENCHMARKS.md "The curve to 10M"):
 * the first row whose max_dim >= dim gives the code granularity (dims per
 * sub-quantiser: m = dim / dsub) and the re-rank depth.  Small vectors get
 * few code bytes at 8 dims a sub-quantiser (16 at dim 128), which rank so
 * coarsely that the re-rank must go 200 x k deep -- 2,000 random rows, the
 * whole cost of a query at 10M x 128; at 4 dims a sub-quantiser the codes
 * are twice as long and refine 20 ranks as well as refine 200 did. */
typedef struct ae_ivfpq_dim_default {
    uint32_t max_dim;
    uint32_t dsub;   /* dims per sub-quantiser */
    uint32_t refine; /* default refine_factor for an index built with this dsub */
} ae_ivfpq_dim_default;

/* The row for dim (never NULL: the last row covers every dim). */
const ae_ivfpq_dim_default *ae_ivfpq_dim_defaults(uint32_t dim);

/* The default refine_factor of an index of dim built with the default m. */
uint32_t ae_ivfpq_default_refine(uint32_t dim);

/* The default refine_factor for an index of dim with m sub-quantisers: the
 * table's row when the index's codes are at least as fine as the row's
 * (dim / m <= dsub); coarser codes (an index built with an explicit m, or
 * before the row changed) get AE_IVFPQ_DEFAULT_REFINE_COARSE below
 * AE_IVFPQ_SMALL_DIM, whose re-rank they need. */
uint32_t ae_ivfpq_default_refine_m(uint32_t dim, uint32_t m);
#define AE_IVFPQ_SMALL_DIM             256
#define AE_IVFPQ_DEFAULT_REFINE_COARSE 200
#define AE_IVFPQ_MIN_REFINE            1
#define AE_IVFPQ_MAX_REFINE            100000

#define AE_IVFPQ_DEFAULT_SEED 0x5eed1f9full

/* Below this many rows the table stays exact: the flat scan costs ~7 ms at
 * 20K x 768 on the slow-memory CI machine (34 ms measured at 100K; ~2 ms on a
 * 30 GB/s machine) and returns exact results; above it the index answers in
 * < 1 ms.  See docs/BENCHMARKS.md, "IVF-PQ vs exact vs LanceDB". */
#define AE_IVFPQ_EXACT_BELOW_ROWS 20000

/* Rows of a table.  row(i) returns dim floats that stay valid for the whole
 * call (an mmap); inv_norm(i) = 1/|v| (0 for a zero vector), or NULL to have
 * the index compute it from the row.  During a build both are called from
 * params.threads threads at once. */
typedef struct ae_vec_source {
    size_t n;
    uint32_t dim;
    const float *(*row)(void *ctx, size_t i);
    float (*inv_norm)(void *ctx, size_t i);
    void *ctx;
    /* Optional: the search is about to read these rows (and their inverse
     * norms), in this order; a file-backed source can start reading them at
     * once (util/pagecache.h).  Must not change what row() returns. */
    void (*prefetch)(void *ctx, const uint64_t *rows, size_t n);
    /* Optional: rows [lo, hi) will not be read again soon (a build's pass
     * has moved on); a mapped source can drop their pages from the
     * process's resident set, so a pass over a table bigger than memory
     * holds a window of it, not all of it.  Must not change what row()
     * returns next time. */
    void (*release)(void *ctx, size_t lo, size_t hi);
    /* Optional: copies row i (dim floats, to dst) and its inverse norm by
     * explicit reads, the same values row() and inv_norm() give, without
     * touching the mapping; false: read through row() instead.  A source
     * sets it where mapping the row would cost more than the read (a young
     * process: ae_table_vec_source_search).  The re-rank then scores the
     * copy; scores are bit for bit those of row(). */
    bool (*read_row)(void *ctx, size_t i, float *dst, float *inv_norm);
} ae_vec_source;

/* Where a build's time went, phase by phase (ae_ivfpq_params.stats).  cpu_s
 * is CPU time (user + system) of the whole process for the serial phases, and
 * the sum over the pass's threads (CLOCK_THREAD_CPUTIME_ID) for load, assign
 * and encode; wall_s of those three is the slowest thread's share. */
enum {
    AE_IVFPQ_PHASE_SAMPLE = 0, /* copying the training sample in, normalised */
    AE_IVFPQ_PHASE_COARSE,     /* k-means of the coarse centroids */
    AE_IVFPQ_PHASE_PQ_TRAIN,   /* the sample's residuals, then PQ k-means */
    AE_IVFPQ_PHASE_LOAD,       /* the full pass: reading + normalising rows */
    AE_IVFPQ_PHASE_ASSIGN,     /* the full pass: nearest coarse centroid of each row */
    AE_IVFPQ_PHASE_ENCODE,     /* the full pass: residual + PQ codes of each row */
    AE_IVFPQ_PHASE_GROUP,      /* rows and codes sorted by list */
    AE_IVFPQ_PHASE_WRITE,      /* file image, checksums, fsync + rename */
    AE_IVFPQ_NPHASES
};
typedef struct ae_ivfpq_build_stats {
    double wall_s[AE_IVFPQ_NPHASES];
    double cpu_s[AE_IVFPQ_NPHASES];
    double total_wall_s, total_cpu_s;
} ae_ivfpq_build_stats;
/* "sample", "coarse", ... (NULL out of range). */
const char *ae_ivfpq_phase_name(int phase);

/* Zero in any field means "the default". */
typedef struct ae_ivfpq_params {
    uint32_t nlist;
    uint32_t m;            /* sub-quantisers; must divide dim */
    uint32_t train_sample; /* rows used for training */
    uint32_t iters;        /* k-means iterations */
    uint64_t seed;         /* same seed + same rows -> identical file bytes */
    int threads;           /* assign/encode threads */
    size_t mem_budget;     /* bytes of heap the build may use (AE_IVFPQ_DEFAULT_BUILD_BUDGET) */
    ae_ivfpq_build_stats *stats; /* optional out: filled by a build that succeeds */
} ae_ivfpq_params;

typedef struct ae_ivfpq ae_ivfpq;

/* false: the row is deleted and never appears in results. */
typedef bool (*ae_row_live_fn)(void *ctx, size_t row);

typedef struct ae_ivfpq_hit {
    uint64_t row;
    float score; /* cosine similarity */
} ae_ivfpq_hit;

/* Builds an index over src->n rows and writes it to path atomically.
 * AE_EINVAL for bad parameters or fewer than AE_IVFPQ_MIN_ROWS rows, or a
 * non-finite value ("NaN at dimension 17 of row 4021").  AE_ENOMEM before
 * anything is allocated when the build needs more heap than its budget
 * (p->mem_budget), the message naming what is needed and the budget. */
int ae_ivfpq_build(const ae_vec_source *src, const ae_ivfpq_params *p, const char *path,
                   ae_error *err);

/* The peak heap bytes a build of n rows x dim with p (NULL: defaults) needs,
 * by phase: what ae_ivfpq_build checks against the budget.  AE_EINVAL for
 * parameters the build would refuse. */
typedef struct ae_ivfpq_build_mem {
    size_t total;  /* the peak */
    size_t rows;   /* per-row arrays: list of each row, codes, codes by list, row ids */
    size_t train;  /* training sample and k-means / PQ work space */
    size_t encode; /* per-thread batches of the assign/encode pass */
    size_t image;  /* the file image assembled for the write */
    size_t fixed;  /* centroids, codebooks, list offsets */
} ae_ivfpq_build_mem;
int ae_ivfpq_build_memory(size_t n, uint32_t dim, const ae_ivfpq_params *p, ae_ivfpq_build_mem *out,
                          ae_error *err);

/* mmaps the file.  AE_ENOTOURS (bad magic), AE_EVERSION, AE_ECORRUPT (header
 * checksum, sizes, section bounds), each message naming the file. */
int ae_ivfpq_open(const char *path, ae_ivfpq **out, ae_error *err);

/* Full check: every section checksum, list offsets monotone and covering every
 * row, every row id < rows_covered and appearing exactly once.  AE_ECORRUPT. */
int ae_ivfpq_fsck(const ae_ivfpq *ix, ae_error *err);

/* Top-k rows of src by cosine to query (dim floats), best first (ties: lower
 * row first).  nprobe = 0 / refine_factor = 0 pick the defaults; nprobe is
 * clamped to nlist.  live may be NULL (every row live).  out holds k hits;
 * *n_out <= k.  src must have the index's dim and at least rows_covered rows. */
int ae_ivfpq_search(const ae_ivfpq *ix, const ae_vec_source *src, const float *query, size_t k,
                    uint32_t nprobe, uint32_t refine_factor, ae_row_live_fn live, void *live_ctx,
                    ae_ivfpq_hit *out, size_t *n_out, ae_error *err);

/* Exact scan of rows [begin, end) of src, same contract as ae_ivfpq_search:
 * the reference the index is measured against, and the tail scan. */
int ae_ivfpq_search_exact(const ae_vec_source *src, const float *query, size_t k, size_t begin,
                          size_t end, ae_row_live_fn live, void *live_ctx, ae_ivfpq_hit *out,
                          size_t *n_out, ae_error *err);

/* Merges two best-first hit lists into out (at most k, best first, ties by
 * row); out may not alias a or b.  Returns the count written. */
size_t ae_ivfpq_hits_merge(const ae_ivfpq_hit *a, size_t na, const ae_ivfpq_hit *b, size_t nb,
                           size_t k, ae_ivfpq_hit *out);

size_t ae_ivfpq_rows_covered(const ae_ivfpq *ix);
uint32_t ae_ivfpq_dim(const ae_ivfpq *ix);
uint32_t ae_ivfpq_nlist(const ae_ivfpq *ix);
uint32_t ae_ivfpq_m(const ae_ivfpq *ix);
size_t ae_ivfpq_file_bytes(const ae_ivfpq *ix);
void ae_ivfpq_close(ae_ivfpq *ix);

#endif
