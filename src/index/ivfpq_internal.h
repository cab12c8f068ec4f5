/* IVF-PQ internals shared by the phase files (distance, kmeans, pq, build,
 * format, search, verify).  Calls go one way: build -> pq -> kmeans ->
 * distance (the kernels); search and verify use format and distance.  Not part of the API: only
 * src/index/ and its tests.
 *
 * File layout (format version 1), little-endian, every section 64-byte aligned:
 *
 *   OFFSET  SIZE  MEANING
 *   0       8     magic "AEIVFPQ\0"
 *   8       4     format version (1)
 *   12      4     header bytes (512)
 *   16      4     dim
 *   20      4     nlist (coarse lists)
 *   24      4     m (sub-quantisers; dsub = dim / m)
 *   28      4     ksub (256: 8-bit codes)
 *   32      8     rows covered (row ids are < this)
 *   40      8     file bytes (whole file, trailer included)
 *   48      4     code block (64 vectors per block)
 *   52      4     reserved (0)
 *   56      8     seed used by the build
 *   64      96    6 x {offset u64, size u64}: the sections, in this order:
 *                   0 centroids      nlist x dim float32 (normalised space)
 *                   1 centroid norms nlist float32, |c|^2
 *                   2 codebooks      m x 256 x dsub float32 (residual space)
 *                   3 list offsets   nlist + 1 uint64, in rows; [0] = 0, [nlist] = rows
 *                   4 row ids        rows x uint32, grouped by list
 *                   5 codes          per list, ceil(len / 64) blocks of m x 64 bytes:
 *                                    byte j * 64 + i of a block = code j of vector i
 *                                    (transposed, so a SIMD lane reads 64 vectors'
 *                                    code j in one load; padding vectors are 0)
 *   160     192   6 x BLAKE3-256 of each section's bytes
 *   352     32    BLAKE3-256 of header bytes [0, 352)
 *   384     128   zero
 *   512     ...   sections
 *   end-32  32    trailer: the header checksum again (so the file ends with a
 *                 checksum that, through the section checksums, covers it all)
 */
#ifndef AE_INDEX_IVFPQ_INTERNAL_H
#define AE_INDEX_IVFPQ_INTERNAL_H

#include "index/ivfpq.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define IVFPQ_MAGIC        "AEIVFPQ"
#define IVFPQ_VERSION      1u
#define IVFPQ_HEADER_BYTES 512u
#define IVFPQ_BLOCK        64u
#define IVFPQ_ALIGN        64u
#define IVFPQ_HASH_BYTES   32u
#define IVFPQ_NSECTIONS    6

enum {
    IVFPQ_SEC_CENTROIDS = 0,
    IVFPQ_SEC_CNORMS,
    IVFPQ_SEC_CODEBOOKS,
    IVFPQ_SEC_LISTS,
    IVFPQ_SEC_IDS,
    IVFPQ_SEC_CODES,
};

/* Header field offsets (the table above), shared by writer and reader. */
#define IVFPQ_OFF_MAGIC          0u
#define IVFPQ_OFF_VERSION        8u
#define IVFPQ_OFF_HEADER_SIZE    12u
#define IVFPQ_OFF_DIM            16u
#define IVFPQ_OFF_NLIST          20u
#define IVFPQ_OFF_M              24u
#define IVFPQ_OFF_KSUB           28u
#define IVFPQ_OFF_ROWS           32u
#define IVFPQ_OFF_FILE_BYTES     40u
#define IVFPQ_OFF_BLOCK          48u
#define IVFPQ_OFF_SEED           56u
#define IVFPQ_OFF_SECTIONS       64u /* IVFPQ_NSECTIONS x {offset u64, size u64} */
#define IVFPQ_SECTION_ENTRY      16u
#define IVFPQ_OFF_SECTION_HASHES 160u /* IVFPQ_NSECTIONS x IVFPQ_HASH_BYTES */
#define IVFPQ_OFF_HEADER_HASH    352u

/* Rows per batch in the BLAS passes (bounds the distance matrix). */
#define IVFPQ_BATCH 4096u
/* Rows used to train each sub-quantiser (128 per centroid). */
#define IVFPQ_PQ_TRAIN_ROWS 16384u

/* An open index: pointers into the mapping. */
struct ae_ivfpq {
    char *path;
    const uint8_t *map;
    size_t map_bytes;
    uint32_t dim, nlist, m, dsub;
    uint64_t rows;
    uint64_t seed;
    const float *centroids;
    const float *cnorms;
    const float *codebooks;
    const uint64_t *list_off;
    const uint32_t *ids;
    const uint8_t *codes;
    uint64_t *block_off; /* nlist + 1, in blocks (computed at open, owned) */
    /* the centroids rounded to half precision for choosing lists (search.c
     * note 5): made by the first search that wants them, owned; NULL before */
    _Atomic(uint16_t *) centroids_h; /* an anonymous mapping of nlist x dim halves */
    uint64_t sec_off[IVFPQ_NSECTIONS], sec_size[IVFPQ_NSECTIONS];
};

/* Deterministic generator (splitmix64) for sampling and initialisation. */
static inline uint64_t ivfpq_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* distance.c: the IVF-PQ kernels (SIMD where the CPU has it, each identical
 * to its scalar loop, so an index does not depend on the CPU that built it) */

/* argmin_j norms[j] - 2 dots[j] (ties: lowest j). */
uint32_t ivfpq_argmin(const float *norms, const float *dots, uint32_t k);

/* norms[c] = |c_c|^2 for k rows of d. */
void ivfpq_sqnorms(const float *c, uint32_t k, uint32_t d, float *norms);

/* cbt (m x dsub x 256): codebooks transposed per sub-quantiser; norms
 * (m x 256): |centroid|^2.  Computed once, shared by the encode threads. */
void ivfpq_pq_prepare(const float *codebooks, uint32_t dim, uint32_t m, float *cbt, float *norms);

/* codes[i * m + j] = nearest centroid of sub-vector j of resid row i (row
 * stride ld floats). */
void ivfpq_encode(const float *resid, size_t n, uint32_t dim, size_t ld, uint32_t m,
                  const float *cbt, const float *norms, uint8_t *codes);

/* The sums of the 64 vectors of a code block blk (m x 64 bytes, transposed):
 * sum(v) = sum_j lut8[j * 256 + code j of vector v], in the kernels' lane
 * order: acc[i] is vector 2i for i < 32 and vector 2(i - 32) + 1 above
 * (even and odd vectors, as the byte shuffles leave them: ivfpq_lane_vector).
 * Returns the mask of lanes whose sum reaches `need` (bit i: acc[i] >=
 * need), so the caller visits only those.  next is the block scanned after
 * it (or NULL), whose lines the kernel prefetches while it works: the
 * hardware prefetcher stops at 4 KB pages and a block is 1.5 of them at
 * m = 96, so without it every page starts with a stall. */
typedef uint64_t (*ivfpq_scan_fn)(const uint8_t *blk, const uint8_t *next, const uint8_t *lut8,
                                  uint32_t m, uint16_t need, uint16_t *acc);
/* The vector of lane i, and the lanes holding vectors 0 .. n-1. */
static inline uint32_t ivfpq_lane_vector(uint32_t i)
{
    return i < 32 ? 2 * i : 2 * (i - 32) + 1;
}
static inline uint64_t ivfpq_lanes_below(uint32_t n)
{
    uint32_t even = (n + 1) / 2, odd = n / 2;
    uint64_t lo = even >= 32 ? 0xFFFFFFFFull : (1ull << even) - 1;
    uint64_t hi = odd >= 32 ? 0xFFFFFFFFull : (1ull << odd) - 1;
    return lo | hi << 32;
}
/* The code-scan kernel for this CPU (VBMI byte shuffles, or scalar). */
ivfpq_scan_fn ivfpq_scan_kernel(void);

/* The ADC table of a query: lut[j * 256 + c] = qn_j . C_j[c] for the m
 * sub-quantisers of dsub dimensions (codebooks m x 256 x dsub).  At dsub 8
 * (the default m = dim / 8) the AVX-512 kernel scores 16 centroids with 8
 * multiplies and a 3-level in-register reduction instead of 16 horizontal
 * sums; other sizes take ae_dot_many_f32.  Equal to it within rounding. */
void ivfpq_lut(const float *qn, const float *codebooks, uint32_t m, uint32_t dsub, float *lut);

/* Half precision (IEEE binary16), for the coarse centroids (search.c note 5):
 * h[i] = x[i] rounded to nearest, ties to even (overflow: infinity; the
 * index's centroids are finite and small).  The AVX-512 conversion and the
 * scalar one give the same bits. */
void ivfpq_f32_to_f16(const float *x, size_t n, uint16_t *h);
/* The size of ix's half-precision centroids (their mapping's length). */
static inline size_t ivfpq_centroids_f16_bytes(const ae_ivfpq *ix)
{
    return (size_t)ix->nlist * ix->dim * sizeof(uint16_t);
}
float ivfpq_f16_to_f32(uint16_t h);
/* Whether ivfpq_dot_many_f16 has a kernel for this CPU and dim (AVX-512F and
 * dim a multiple of 16); without one, searches use the float centroids. */
int ivfpq_f16_usable(uint32_t dim);
/* out[r] = sum_i q[i] * half rows[r * dim + i] for r < n (rows converted
 * exactly to float, products in float).  Equal to the scalar loop within
 * rounding (the summation order differs). */
void ivfpq_dot_many_f16(const float *q, const uint16_t *rows, size_t n, uint32_t dim, float *out);

/* The 8-bit ADC table of a float one (m x 256): lo[j] = min of row j, one
 * step d = (largest row range) / 255 for all rows (1 if every row is
 * constant), lut8[j][c] = (lut[j][c] - lo[j]) / d rounded to the nearest
 * integer (halves up) within 0..255.  Returns d; *sum_lo = sum of lo[j].
 * The AVX-512 kernel gives the scalar loop's bytes exactly (min and max are
 * exact, the step is one multiply and one add, never fused). */
float ivfpq_lut_quantise(const float *lut, uint32_t m, float *lo, uint8_t *lut8, float *sum_lo);

/* kmeans.c --------------------------------------------------------------- */

/* k-means (Lloyd) on n rows of d floats with row stride ldx; centroids (k x d,
 * caller-allocated) start at k distinct sampled rows.  Empty clusters are
 * re-seeded by splitting the largest.  BLAS computes the distances in
 * batches, on `threads` threads (BLAS itself must be set single-threaded by
 * the caller when threads > 1).  Deterministic for a given seed, whatever
 * the thread count. AE_EINVAL if n < k. */
int ivfpq_kmeans(const float *x, size_t n, uint32_t d, size_t ldx, uint32_t k, uint32_t iters,
                 uint64_t seed, int threads, float *centroids, ae_error *err);

/* assign[i] = argmin_c |x_i - c|^2 (ties: lowest c), for n rows (stride ldx);
 * cnorm[c] = |c|^2; work holds IVFPQ_BATCH * k floats. */
void ivfpq_assign(const float *x, size_t n, uint32_t d, size_t ldx, const float *c,
                  const float *cnorm, uint32_t k, uint32_t *assign, float *work);
/* The same on `threads` threads over contiguous row ranges (same result);
 * work holds threads * IVFPQ_BATCH * k floats. */
void ivfpq_assign_mt(const float *x, size_t n, uint32_t d, size_t ldx, const float *c,
                     const float *cnorm, uint32_t k, uint32_t *assign, float *work, int threads);

/* pq.c ------------------------------------------------------------------- */

/* Trains m sub-quantisers of 256 centroids on n residual rows (n x dim);
 * codebooks is m x 256 x dsub.  Sub-quantisers are trained on `threads`
 * threads. */
int ivfpq_train_pq(const float *resid, size_t n, uint32_t dim, uint32_t m, uint32_t iters,
                   uint64_t seed, int threads, float *codebooks, ae_error *err);

/* format.c --------------------------------------------------------------- */

/* Everything a writer needs, in memory. codes_rows is rows x m, row-major in
 * list order (row i of codes_rows belongs to ids[i]). */
typedef struct ivfpq_image {
    uint32_t dim, nlist, m;
    uint64_t rows, seed;
    const float *centroids, *cnorms, *codebooks;
    const uint64_t *list_off;
    const uint32_t *ids;
    const uint8_t *codes_rows;
} ivfpq_image;

/* Lays the image out in the file format and writes it atomically. */
int ivfpq_write(const ivfpq_image *im, const char *path, ae_error *err);

/* Number of 64-vector code blocks of a list of len rows. */
static inline uint64_t ivfpq_blocks(uint64_t len)
{
    return (len + IVFPQ_BLOCK - 1) / IVFPQ_BLOCK;
}

/* BLAKE3-256 of n bytes. */
void ivfpq_hash(const void *p, size_t n, uint8_t out[IVFPQ_HASH_BYTES]);
/* "centroids", "codes", ... for messages. */
const char *ivfpq_section_name(int s);

#endif
