/* Every SIMD kernel of the project, and the one place that picks them.
 *
 * 1. The scalar kernel of each family is the reference: tests compare every
 *    SIMD variant against it (dot products within rounding; the IVF-PQ
 *    kernels bit for bit).
 * 2. Dot products keep several independent accumulators so the FMA latency
 *    (4 cycles, 2 ports) is hidden; tails go through masked loads (AVX-512)
 *    or a scalar loop (AVX2), never past the end of a row.  The batch kernel
 *    scores four rows per pass so every load of the query is shared by four
 *    FMAs, which is what the flat scan spends its time on.
 * 3. The IVF-PQ kernels (nearest of k centroids, PQ encoding, the code scan)
 *    must give the same integers on every CPU, so an index file does not
 *    depend on the machine that built it: the encoder accumulates with fused
 *    multiply-adds in the scalar loop's order (fmaf there: one rounding per
 *    step in both, so the sums are equal bit for bit), the argmin keeps the
 *    lowest index among equal minima, and the code scan adds the same bytes.
 * 4. The CPU is asked once (__builtin_cpu_supports) and the level cached in an
 *    atomic (ae_simd_level); functions carry target attributes so the file
 *    needs no -m flags. */
#include "index/distance.h"

#include "index/ivfpq_internal.h"

#include <float.h>
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#ifdef AE_SIMD_X86
#include <immintrin.h>
#endif

/* --- the SIMD level ---------------------------------------------------------- */

static ae_simd detect(void)
{
#ifdef AE_SIMD_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) {
        if (__builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vbmi"))
            return AE_SIMD_AVX512_VBMI;
        return AE_SIMD_AVX512;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return AE_SIMD_AVX2;
#endif
    return AE_SIMD_SCALAR;
}

static atomic_int cpu_level = -1;                  /* what the CPU runs */
static atomic_int cap_level = AE_SIMD_AVX512_VBMI; /* ae_simd_force */
static atomic_int use_level = -1;                  /* min of the two */

static ae_simd cpu_simd(void)
{
    int l = atomic_load_explicit(&cpu_level, memory_order_relaxed);
    if (l < 0) {
        l = (int)detect();
        atomic_store_explicit(&cpu_level, l, memory_order_relaxed);
    }
    return (ae_simd)l;
}

ae_simd ae_simd_level(void)
{
    int l = atomic_load_explicit(&use_level, memory_order_relaxed);
    if (l < 0) {
        int cpu = (int)cpu_simd(), cap = atomic_load_explicit(&cap_level, memory_order_relaxed);
        l = cpu < cap ? cpu : cap;
        atomic_store_explicit(&use_level, l, memory_order_relaxed);
    }
    return (ae_simd)l;
}

void ae_simd_force(ae_simd cap)
{
    atomic_store_explicit(&cap_level, (int)cap, memory_order_relaxed);
    atomic_store_explicit(&use_level, -1, memory_order_relaxed);
}

/* --- dot products ------------------------------------------------------------ */

static float dot_scalar(const float *a, const float *b, uint32_t dim)
{
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    uint32_t i = 0;
    for (; i + 4 <= dim; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    for (; i < dim; i++)
        s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

static void many_scalar(const float *q, const float *rows, size_t n, uint32_t dim, float *out)
{
    for (size_t r = 0; r < n; r++)
        out[r] = dot_scalar(q, rows + r * (size_t)dim, dim);
}

#ifdef AE_SIMD_X86

__attribute__((target("avx2,fma"))) static inline float hsum256(__m256 v)
{
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}

__attribute__((target("avx2,fma"))) static float dot_avx2(const float *a, const float *b,
                                                          uint32_t dim)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    uint32_t i = 0;
    for (; i + 32 <= dim; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
    }
    for (; i + 8 <= dim; i += 8)
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    float s = hsum256(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    for (; i < dim; i++)
        s += a[i] * b[i];
    return s;
}

__attribute__((target("avx2,fma"))) static void many_avx2(const float *q, const float *rows,
                                                          size_t n, uint32_t dim, float *out)
{
    size_t r = 0;
    for (; r + 4 <= n; r += 4) {
        const float *r0 = rows + r * (size_t)dim, *r1 = r0 + dim, *r2 = r1 + dim, *r3 = r2 + dim;
        __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
        __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
        uint32_t i = 0;
        for (; i + 8 <= dim; i += 8) {
            __m256 x = _mm256_loadu_ps(q + i);
            s0 = _mm256_fmadd_ps(x, _mm256_loadu_ps(r0 + i), s0);
            s1 = _mm256_fmadd_ps(x, _mm256_loadu_ps(r1 + i), s1);
            s2 = _mm256_fmadd_ps(x, _mm256_loadu_ps(r2 + i), s2);
            s3 = _mm256_fmadd_ps(x, _mm256_loadu_ps(r3 + i), s3);
        }
        float t0 = hsum256(s0), t1 = hsum256(s1), t2 = hsum256(s2), t3 = hsum256(s3);
        for (; i < dim; i++) {
            t0 += q[i] * r0[i];
            t1 += q[i] * r1[i];
            t2 += q[i] * r2[i];
            t3 += q[i] * r3[i];
        }
        out[r] = t0, out[r + 1] = t1, out[r + 2] = t2, out[r + 3] = t3;
    }
    for (; r < n; r++)
        out[r] = dot_avx2(q, rows + r * (size_t)dim, dim);
}

__attribute__((target("avx512f"))) static float dot_avx512(const float *a, const float *b,
                                                           uint32_t dim)
{
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    __m512 s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
    uint32_t i = 0;
    for (; i + 64 <= dim; i += 64) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
        s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32), s2);
        s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48), s3);
    }
    for (; i + 16 <= dim; i += 16)
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    if (i < dim) {
        __mmask16 m = (__mmask16)((1u << (dim - i)) - 1u);
        s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

__attribute__((target("avx512f"))) static void many_avx512(const float *q, const float *rows,
                                                           size_t n, uint32_t dim, float *out)
{
    uint32_t full = dim & ~15u;
    __mmask16 m = (__mmask16)((1u << (dim - full)) - 1u);
    size_t r = 0;
    for (; r + 4 <= n; r += 4) {
        const float *r0 = rows + r * (size_t)dim, *r1 = r0 + dim, *r2 = r1 + dim, *r3 = r2 + dim;
        __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
        __m512 s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
        for (uint32_t i = 0; i < full; i += 16) {
            __m512 x = _mm512_loadu_ps(q + i);
            s0 = _mm512_fmadd_ps(x, _mm512_loadu_ps(r0 + i), s0);
            s1 = _mm512_fmadd_ps(x, _mm512_loadu_ps(r1 + i), s1);
            s2 = _mm512_fmadd_ps(x, _mm512_loadu_ps(r2 + i), s2);
            s3 = _mm512_fmadd_ps(x, _mm512_loadu_ps(r3 + i), s3);
        }
        if (m) {
            __m512 x = _mm512_maskz_loadu_ps(m, q + full);
            s0 = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(m, r0 + full), s0);
            s1 = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(m, r1 + full), s1);
            s2 = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(m, r2 + full), s2);
            s3 = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(m, r3 + full), s3);
        }
        out[r] = _mm512_reduce_add_ps(s0);
        out[r + 1] = _mm512_reduce_add_ps(s1);
        out[r + 2] = _mm512_reduce_add_ps(s2);
        out[r + 3] = _mm512_reduce_add_ps(s3);
    }
    for (; r < n; r++)
        out[r] = dot_avx512(q, rows + r * (size_t)dim, dim);
}

#endif /* AE_SIMD_X86 */

int ae_dot_supported(ae_dot_kind kind)
{
    return kind >= AE_DOT_SCALAR && kind < AE_DOT_KIND_COUNT && (int)kind <= (int)cpu_simd();
}

ae_dot_kind ae_dot_best(void)
{
    ae_simd l = ae_simd_level();
    return l >= AE_SIMD_AVX512 ? AE_DOT_AVX512 : (ae_dot_kind)l;
}

const char *ae_dot_name(ae_dot_kind kind)
{
    switch (kind) {
    case AE_DOT_SCALAR:
        return "scalar";
    case AE_DOT_AVX2:
        return "avx2+fma";
    case AE_DOT_AVX512:
        return "avx512f";
    default:
        return "unknown";
    }
}

static float dot_run(ae_dot_kind kind, const float *a, const float *b, uint32_t dim)
{
#ifdef AE_SIMD_X86
    if (kind == AE_DOT_AVX512) return dot_avx512(a, b, dim);
    if (kind == AE_DOT_AVX2) return dot_avx2(a, b, dim);
#endif
    (void)kind;
    return dot_scalar(a, b, dim);
}

static void many_run(ae_dot_kind kind, const float *q, const float *rows, size_t n, uint32_t dim,
                     float *out)
{
#ifdef AE_SIMD_X86
    if (kind == AE_DOT_AVX512) {
        many_avx512(q, rows, n, dim, out);
        return;
    }
    if (kind == AE_DOT_AVX2) {
        many_avx2(q, rows, n, dim, out);
        return;
    }
#endif
    (void)kind;
    many_scalar(q, rows, n, dim, out);
}

float ae_dot_f32_kind(ae_dot_kind kind, const float *a, const float *b, uint32_t dim)
{
    return dot_run(ae_dot_supported(kind) ? kind : AE_DOT_SCALAR, a, b, dim);
}

void ae_dot_many_f32_kind(ae_dot_kind kind, const float *q, const float *rows, size_t n,
                          uint32_t dim, float *out)
{
    many_run(ae_dot_supported(kind) ? kind : AE_DOT_SCALAR, q, rows, n, dim, out);
}

float ae_dot_f32(const float *a, const float *b, uint32_t dim)
{
    return dot_run(ae_dot_best(), a, b, dim);
}

void ae_dot_many_f32(const float *q, const float *rows, size_t n, uint32_t dim, float *out)
{
    many_run(ae_dot_best(), q, rows, n, dim, out);
}

/* --- IVF-PQ: nearest of k centroids ----------------------------------------- */

static uint32_t argmin_scalar(const float *norms, const float *dots, uint32_t k)
{
    float best = FLT_MAX;
    uint32_t arg = 0;
    for (uint32_t j = 0; j < k; j++) {
        float v = norms[j] - 2.0f * dots[j];
        if (v < best) {
            best = v;
            arg = j;
        }
    }
    return arg;
}

#ifdef AE_SIMD_X86
/* Same result as argmin_scalar: 2 * dot is exact, so v rounds once either
 * way; each lane keeps its first minimum and the lanes reduce to the lowest
 * index among equal minima. */
__attribute__((target("avx512f"))) static uint32_t argmin_avx512(const float *norms,
                                                                 const float *dots, uint32_t k)
{
    uint32_t k16 = k & ~15u;
    __m512 best = _mm512_set1_ps(FLT_MAX);
    __m512i arg = _mm512_setzero_si512();
    __m512i idx = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i step = _mm512_set1_epi32(16);
    const __m512 two = _mm512_set1_ps(2.0f);
    for (uint32_t j = 0; j < k16; j += 16) {
        __m512 v = _mm512_sub_ps(_mm512_loadu_ps(norms + j),
                                 _mm512_mul_ps(two, _mm512_loadu_ps(dots + j)));
        __mmask16 lt = _mm512_cmp_ps_mask(v, best, _CMP_LT_OQ);
        best = _mm512_mask_mov_ps(best, lt, v);
        arg = _mm512_mask_mov_epi32(arg, lt, idx);
        idx = _mm512_add_epi32(idx, step);
    }
    float bv[16];
    uint32_t ba[16];
    _mm512_storeu_ps(bv, best);
    _mm512_storeu_si512((void *)ba, arg);
    float b = FLT_MAX;
    uint32_t a = 0;
    for (int l = 0; l < 16; l++)
        if (bv[l] < b || (bv[l] == b && ba[l] < a)) {
            b = bv[l];
            a = ba[l];
        }
    for (uint32_t j = k16; j < k; j++) {
        float v = norms[j] - 2.0f * dots[j];
        if (v < b) {
            b = v;
            a = j;
        }
    }
    return a;
}
#endif

uint32_t ivfpq_argmin(const float *norms, const float *dots, uint32_t k)
{
#ifdef AE_SIMD_X86
    if (ae_simd_level() >= AE_SIMD_AVX512) return argmin_avx512(norms, dots, k);
#endif
    return argmin_scalar(norms, dots, k);
}

void ivfpq_sqnorms(const float *c, uint32_t k, uint32_t d, float *norms)
{
    for (uint32_t i = 0; i < k; i++) {
        const float *r = c + (size_t)i * d;
        float s = 0;
        for (uint32_t j = 0; j < d; j++)
            s += r[j] * r[j];
        norms[i] = s;
    }
}

/* --- IVF-PQ: encoding against 256 centroids --------------------------------- */

void ivfpq_pq_prepare(const float *codebooks, uint32_t dim, uint32_t m, float *cbt, float *norms)
{
    uint32_t dsub = dim / m;
    for (uint32_t j = 0; j < m; j++) {
        const float *cb = codebooks + (size_t)j * AE_IVFPQ_KSUB * dsub;
        float *t = cbt + (size_t)j * AE_IVFPQ_KSUB * dsub;
        for (uint32_t c = 0; c < AE_IVFPQ_KSUB; c++)
            for (uint32_t d = 0; d < dsub; d++)
                t[(size_t)d * AE_IVFPQ_KSUB + c] = cb[(size_t)c * dsub + d];
        ivfpq_sqnorms(cb, AE_IVFPQ_KSUB, dsub, norms + (size_t)j * AE_IVFPQ_KSUB);
    }
}

/* The code of one sub-vector r (dsub floats): argmin_c |C[c]|^2 - 2 r.C[c]
 * over the 256 centroids, the dot products summed over d in order, one fused
 * multiply-add a step (fmaf: one rounding, like the SIMD kernel's). */
static uint8_t sub_code_scalar(const float *r, const float *cbt, const float *norms, uint32_t dsub)
{
    float dots[AE_IVFPQ_KSUB];
    for (uint32_t c = 0; c < AE_IVFPQ_KSUB; c++)
        dots[c] = 0;
    for (uint32_t d = 0; d < dsub; d++) {
        const float *t = cbt + (size_t)d * AE_IVFPQ_KSUB;
        for (uint32_t c = 0; c < AE_IVFPQ_KSUB; c++)
            dots[c] = fmaf(r[d], t[c], dots[c]);
    }
    return (uint8_t)argmin_scalar(norms, dots, AE_IVFPQ_KSUB);
}

#ifdef AE_SIMD_X86
/* 16 accumulators of 16 lanes = the 256 centroids, in registers, and the
 * argmin taken there too (no store and reload of the 256 dot products).
 * Lane l of accumulator i is centroid 16 i + l: each lane keeps its first
 * minimum over i (strict <), then the lanes reduce to the lowest index among
 * equal minima -- argmin_scalar's answer.  Before: multiply then add (no
 * FMA) into memory, then ivfpq_argmin over it; 1.9x slower at dsub 8. */
__attribute__((target("avx512f"))) static uint8_t sub_code_avx512(const float *r, const float *cbt,
                                                                  const float *norms, uint32_t dsub)
{
    /* the loops over i are unrolled so acc[] lives in 16 registers: rolled,
     * gcc -O2 kept it on the stack and every FMA waited on a store */
    __m512 acc[16];
#pragma GCC unroll 16
    for (int i = 0; i < 16; i++)
        acc[i] = _mm512_setzero_ps();
    for (uint32_t d = 0; d < dsub; d++) {
        __m512 b = _mm512_set1_ps(r[d]);
        const float *t = cbt + (size_t)d * AE_IVFPQ_KSUB;
#pragma GCC unroll 16
        for (int i = 0; i < 16; i++)
            acc[i] = _mm512_fmadd_ps(b, _mm512_loadu_ps(t + 16 * i), acc[i]);
    }
    const __m512 two = _mm512_set1_ps(2.0f);
    __m512i idx = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i step = _mm512_set1_epi32(16);
    /* 2 * dot is exact, so norm - 2 * dot rounds once, as in argmin_scalar */
    __m512 best = _mm512_sub_ps(_mm512_loadu_ps(norms), _mm512_mul_ps(two, acc[0]));
    __m512i arg = idx;
#pragma GCC unroll 16
    for (int i = 1; i < 16; i++) {
        idx = _mm512_add_epi32(idx, step);
        __m512 v = _mm512_sub_ps(_mm512_loadu_ps(norms + 16 * i), _mm512_mul_ps(two, acc[i]));
        __mmask16 lt = _mm512_cmp_ps_mask(v, best, _CMP_LT_OQ);
        best = _mm512_mask_mov_ps(best, lt, v);
        arg = _mm512_mask_mov_epi32(arg, lt, idx);
    }
    float lo = _mm512_reduce_min_ps(best);
    __mmask16 eq = _mm512_cmp_ps_mask(best, _mm512_set1_ps(lo), _CMP_EQ_OQ);
    return (uint8_t)_mm512_mask_reduce_min_epu32(eq, arg);
}
#endif

void ivfpq_encode(const float *resid, size_t n, uint32_t dim, size_t ld, uint32_t m,
                  const float *cbt, const float *norms, uint8_t *codes)
{
    uint32_t dsub = dim / m;
    uint8_t (*code_fn)(const float *, const float *, const float *, uint32_t) = sub_code_scalar;
#ifdef AE_SIMD_X86
    if (ae_simd_level() >= AE_SIMD_AVX512) code_fn = sub_code_avx512;
#endif
    /* Sub-quantiser outer, rows inner, over blocks of ENCODE_ROWS rows: one
     * sub-quantiser's transposed codebook (8 KB at dsub 8) stays in L1 for
     * the block, where row by row all m of them (768 KB at dim 768) stream
     * from L2 for every row -- that bound the kernel at ~3x its arithmetic.
     * The codes are the same in any order. */
    enum { ENCODE_ROWS = 32 };
    for (size_t i0 = 0; i0 < n; i0 += ENCODE_ROWS) {
        size_t i1 = n - i0 < ENCODE_ROWS ? n : i0 + ENCODE_ROWS;
        for (uint32_t j = 0; j < m; j++) {
            const float *t = cbt + (size_t)j * AE_IVFPQ_KSUB * dsub;
            const float *nj = norms + (size_t)j * AE_IVFPQ_KSUB;
            for (size_t i = i0; i < i1; i++)
                codes[i * m + j] = code_fn(resid + i * ld + (size_t)j * dsub, t, nj, dsub);
        }
    }
}

/* --- IVF-PQ: code scan, acc[i] = sum_j lut8[j][code_j(i)] for a block ------- */

static uint64_t scan_block_scalar(const uint8_t *blk, const uint8_t *next, const uint8_t *lut8,
                                  uint32_t m, uint16_t need, uint16_t *acc)
{
    (void)next;
    uint16_t sum[IVFPQ_BLOCK] = {0};
    for (uint32_t j = 0; j < m; j++) {
        const uint8_t *c = blk + (size_t)j * IVFPQ_BLOCK;
        const uint8_t *t = lut8 + (size_t)j * AE_IVFPQ_KSUB;
        for (uint32_t v = 0; v < IVFPQ_BLOCK; v++)
            sum[v] = (uint16_t)(sum[v] + t[c[v]]);
    }
    uint64_t mask = 0;
    for (uint32_t i = 0; i < IVFPQ_BLOCK; i++) {
        acc[i] = sum[ivfpq_lane_vector(i)];
        mask |= (uint64_t)(acc[i] >= need) << i;
    }
    return mask;
}

#ifdef AE_SIMD_X86
/* vpermi2b looks up 64 codes at once in a 128-entry half of a table.  Even
 * vectors accumulate in the low byte of each 16-bit lane, odd ones in the
 * high byte (mask and shift: no cross-lane widening on the busy shuffle
 * port); the two sums are stored as they are (the lane order above) and
 * compared with need in registers. */
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) static uint64_t
scan_block_vbmi(const uint8_t *blk, const uint8_t *next, const uint8_t *lut8, uint32_t m,
                uint16_t need, uint16_t *acc)
{
    __m512i even = _mm512_setzero_si512(), odd = _mm512_setzero_si512();
    const __m512i low = _mm512_set1_epi16(0x00FF);
    for (uint32_t j = 0; j < m; j++) {
        __m512i c = _mm512_loadu_si512((const void *)(blk + (size_t)j * IVFPQ_BLOCK));
        if (next) _mm_prefetch((const char *)(next + (size_t)j * IVFPQ_BLOCK), _MM_HINT_T0);
        const uint8_t *t = lut8 + (size_t)j * AE_IVFPQ_KSUB;
        __m512i t0 = _mm512_loadu_si512((const void *)t);
        __m512i t1 = _mm512_loadu_si512((const void *)(t + 64));
        __m512i t2 = _mm512_loadu_si512((const void *)(t + 128));
        __m512i t3 = _mm512_loadu_si512((const void *)(t + 192));
        __m512i v0 = _mm512_permutex2var_epi8(t0, c, t1);
        __m512i v1 = _mm512_permutex2var_epi8(t2, c, t3);
        __m512i v = _mm512_mask_blend_epi8(_mm512_movepi8_mask(c), v0, v1);
        even = _mm512_add_epi16(even, _mm512_and_si512(v, low));
        odd = _mm512_add_epi16(odd, _mm512_srli_epi16(v, 8));
    }
    _mm512_storeu_si512((void *)acc, even);
    _mm512_storeu_si512((void *)(acc + 32), odd);
    const __m512i n = _mm512_set1_epi16((short)need);
    uint64_t me = _mm512_cmpge_epu16_mask(even, n), mo = _mm512_cmpge_epu16_mask(odd, n);
    return me | mo << 32;
}
#endif

/* --- IVF-PQ: the ADC table ---------------------------------------------------- */

#ifdef AE_SIMD_X86
/* 16 centroids of 8 floats are 8 registers of two centroids' products each;
 * three rounds of "first half of each group + second half" (two permutes
 * and an add per pair) leave one register of 16 sums, centroid order. */
__attribute__((target("avx512f"))) static __m512 halve(__m512 a, __m512 b, __m512i lo, __m512i hi)
{
    return _mm512_add_ps(_mm512_permutex2var_ps(a, lo, b), _mm512_permutex2var_ps(a, hi, b));
}

__attribute__((target("avx512f"))) static void
lut_d8_avx512(const float *qn, const float *codebooks, uint32_t m, float *lut)
{
    /* round 1: groups of 8 lanes -> 4; round 2: 4 -> 2; round 3: 2 -> 1 */
    const __m512i a1 = _mm512_setr_epi32(0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27);
    const __m512i a2 = _mm512_setr_epi32(0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28, 29);
    const __m512i a3 = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i b1 = _mm512_add_epi32(a1, _mm512_set1_epi32(4));
    const __m512i b2 = _mm512_add_epi32(a2, _mm512_set1_epi32(2));
    const __m512i b3 = _mm512_add_epi32(a3, _mm512_set1_epi32(1));
    for (uint32_t j = 0; j < m; j++) {
        __m512 q = _mm512_castpd_ps(
            _mm512_broadcast_f64x4(_mm256_castps_pd(_mm256_loadu_ps(qn + (size_t)j * 8))));
        const float *cb = codebooks + (size_t)j * AE_IVFPQ_KSUB * 8;
        float *out = lut + (size_t)j * AE_IVFPQ_KSUB;
        for (uint32_t c = 0; c < AE_IVFPQ_KSUB; c += 16, cb += 128) {
            __m512 p[8];
            for (int r = 0; r < 8; r++)
                p[r] = _mm512_mul_ps(q, _mm512_loadu_ps(cb + 16 * r));
            __m512 s0 = halve(p[0], p[1], a1, b1), s1 = halve(p[2], p[3], a1, b1);
            __m512 s2 = halve(p[4], p[5], a1, b1), s3 = halve(p[6], p[7], a1, b1);
            __m512 t0 = halve(s0, s1, a2, b2), t1 = halve(s2, s3, a2, b2);
            _mm512_storeu_ps(out + c, halve(t0, t1, a3, b3));
        }
    }
}
#endif

void ivfpq_lut(const float *qn, const float *codebooks, uint32_t m, uint32_t dsub, float *lut)
{
#ifdef AE_SIMD_X86
    if (dsub == 8 && ae_simd_level() >= AE_SIMD_AVX512) {
        lut_d8_avx512(qn, codebooks, m, lut);
        return;
    }
#endif
    for (uint32_t j = 0; j < m; j++)
        ae_dot_many_f32(qn + (size_t)j * dsub, codebooks + (size_t)j * AE_IVFPQ_KSUB * dsub,
                        AE_IVFPQ_KSUB, dsub, lut + (size_t)j * AE_IVFPQ_KSUB);
}

/* --- IVF-PQ: half-precision centroids ------------------------------------------- */

/* Round to nearest even, by the bits (the reference for the SIMD conversion). */
static uint16_t f32_to_f16_scalar(float f)
{
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint32_t sign = (x >> 16) & 0x8000u, e = (x >> 23) & 0xFFu, mant = x & 0x7FFFFFu;
    if (e == 0xFF) return (uint16_t)(sign | 0x7C00u | (mant ? 0x200u : 0)); /* inf, NaN */
    int32_t he = (int32_t)e - 127 + 15;
    if (he >= 31) return (uint16_t)(sign | 0x7C00u); /* overflow */
    if (he <= 0) {                                   /* subnormal or zero */
        if (he < -10) return (uint16_t)sign;
        uint32_t m = mant | 0x800000u, shift = (uint32_t)(14 - he);
        uint32_t h = m >> shift, rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1u))) h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = ((uint32_t)he << 10) | (mant >> 13), rem = mant & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) h++; /* may carry into the exponent */
    return (uint16_t)(sign | h);
}

float ivfpq_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1Fu, mant = h & 0x3FFu;
    uint32_t x;
    if (e == 0x1F) {
        x = sign | 0x7F800000u | (mant << 13);
    } else if (e == 0) {
        if (!mant) {
            x = sign;
        } else { /* subnormal: normalise */
            int32_t ex = -1;
            do {
                mant <<= 1;
                ex++;
            } while (!(mant & 0x400u));
            x = sign | ((uint32_t)(127 - 15 - ex) << 23) | ((mant & 0x3FFu) << 13);
        }
    } else {
        x = sign | ((e - 15 + 127) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &x, sizeof f);
    return f;
}

#ifdef AE_SIMD_X86
__attribute__((target("avx512f"))) static void f32_to_f16_avx512(const float *x, size_t n,
                                                                 uint16_t *h)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256(
            (__m256i *)(h + i),
            _mm512_cvtps_ph(_mm512_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    for (; i < n; i++)
        h[i] = f32_to_f16_scalar(x[i]);
}

__attribute__((target("avx512f"))) static void
dot_many_f16_avx512(const float *q, const uint16_t *rows, size_t n, uint32_t dim, float *out)
{
    size_t r = 0;
    for (; r + 4 <= n; r += 4) {
        const uint16_t *r0 = rows + r * (size_t)dim, *r1 = r0 + dim, *r2 = r1 + dim, *r3 = r2 + dim;
        __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
        __m512 s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
        for (uint32_t i = 0; i < dim; i += 16) {
            __m512 x = _mm512_loadu_ps(q + i);
            s0 = _mm512_fmadd_ps(x, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(r0 + i))),
                                 s0);
            s1 = _mm512_fmadd_ps(x, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(r1 + i))),
                                 s1);
            s2 = _mm512_fmadd_ps(x, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(r2 + i))),
                                 s2);
            s3 = _mm512_fmadd_ps(x, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(r3 + i))),
                                 s3);
        }
        out[r] = _mm512_reduce_add_ps(s0);
        out[r + 1] = _mm512_reduce_add_ps(s1);
        out[r + 2] = _mm512_reduce_add_ps(s2);
        out[r + 3] = _mm512_reduce_add_ps(s3);
    }
    for (; r < n; r++) {
        const uint16_t *rw = rows + r * (size_t)dim;
        __m512 s = _mm512_setzero_ps();
        for (uint32_t i = 0; i < dim; i += 16)
            s = _mm512_fmadd_ps(_mm512_loadu_ps(q + i),
                                _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(rw + i))), s);
        out[r] = _mm512_reduce_add_ps(s);
    }
}
#endif

void ivfpq_f32_to_f16(const float *x, size_t n, uint16_t *h)
{
#ifdef AE_SIMD_X86
    if (ae_simd_level() >= AE_SIMD_AVX512) {
        f32_to_f16_avx512(x, n, h);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++)
        h[i] = f32_to_f16_scalar(x[i]);
}

int ivfpq_f16_usable(uint32_t dim)
{
#ifdef AE_SIMD_X86
    return dim > 0 && dim % 16 == 0 && ae_simd_level() >= AE_SIMD_AVX512;
#else
    (void)dim;
    return 0;
#endif
}

void ivfpq_dot_many_f16(const float *q, const uint16_t *rows, size_t n, uint32_t dim, float *out)
{
#ifdef AE_SIMD_X86
    if (ivfpq_f16_usable(dim)) {
        dot_many_f16_avx512(q, rows, n, dim, out);
        return;
    }
#endif
    for (size_t r = 0; r < n; r++) {
        float s = 0;
        for (uint32_t i = 0; i < dim; i++)
            s += q[i] * ivfpq_f16_to_f32(rows[r * (size_t)dim + i]);
        out[r] = s;
    }
}

/* --- IVF-PQ: the 8-bit ADC table ----------------------------------------------- */

static float lut_range_scalar(const float *lut, uint32_t m, float *lo)
{
    float range = 0;
    for (uint32_t j = 0; j < m; j++) {
        const float *t = lut + (size_t)j * AE_IVFPQ_KSUB;
        float a = t[0], b = t[0];
        for (uint32_t c = 1; c < AE_IVFPQ_KSUB; c++) {
            a = t[c] < a ? t[c] : a;
            b = t[c] > b ? t[c] : b;
        }
        if (b - a > range) range = b - a;
        lo[j] = a;
    }
    return range;
}

static void lut_bytes_scalar(const float *lut, uint32_t m, const float *lo, float inv,
                             uint8_t *lut8)
{
    for (uint32_t j = 0; j < m; j++) {
        const float *t = lut + (size_t)j * AE_IVFPQ_KSUB;
        for (uint32_t c = 0; c < AE_IVFPQ_KSUB; c++) {
            float v = (t[c] - lo[j]) * inv + 0.5f;
            lut8[(size_t)j * AE_IVFPQ_KSUB + c] = (uint8_t)(v >= 255.0f ? 255 : v <= 0 ? 0 : v);
        }
    }
}

#ifdef AE_SIMD_X86
__attribute__((target("avx512f"))) static float lut_range_avx512(const float *lut, uint32_t m,
                                                                 float *lo)
{
    float range = 0;
    for (uint32_t j = 0; j < m; j++) {
        const float *t = lut + (size_t)j * AE_IVFPQ_KSUB;
        __m512 a = _mm512_loadu_ps(t), b = a;
        for (uint32_t c = 16; c < AE_IVFPQ_KSUB; c += 16) {
            __m512 x = _mm512_loadu_ps(t + c);
            a = _mm512_min_ps(a, x);
            b = _mm512_max_ps(b, x);
        }
        float mn = _mm512_reduce_min_ps(a), mx = _mm512_reduce_max_ps(b);
        if (mx - mn > range) range = mx - mn;
        lo[j] = mn;
    }
    return range;
}

/* The scalar loop's arithmetic lane by lane: a rounded multiply, a rounded
 * add (the _round_ forms: the compiler cannot fuse them), clamp, truncate. */
__attribute__((target("avx512f"))) static void
lut_bytes_avx512(const float *lut, uint32_t m, const float *lo, float inv, uint8_t *lut8)
{
    const __m512 vinv = _mm512_set1_ps(inv), half = _mm512_set1_ps(0.5f);
    const __m512 zero = _mm512_setzero_ps(), top = _mm512_set1_ps(255.0f);
    for (uint32_t j = 0; j < m; j++) {
        const float *t = lut + (size_t)j * AE_IVFPQ_KSUB;
        __m512 l = _mm512_set1_ps(lo[j]);
        for (uint32_t c = 0; c < AE_IVFPQ_KSUB; c += 16) {
            __m512 d = _mm512_sub_round_ps(_mm512_loadu_ps(t + c), l,
                                           _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            __m512 p = _mm512_mul_round_ps(d, vinv, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            __m512 v = _mm512_add_round_ps(p, half, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            v = _mm512_min_ps(_mm512_max_ps(v, zero), top);
            _mm_storeu_si128((__m128i *)(lut8 + (size_t)j * AE_IVFPQ_KSUB + c),
                             _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(v)));
        }
    }
}
#endif

float ivfpq_lut_quantise(const float *lut, uint32_t m, float *lo, uint8_t *lut8, float *sum_lo)
{
    float range;
#ifdef AE_SIMD_X86
    bool wide = ae_simd_level() >= AE_SIMD_AVX512;
    range = wide ? lut_range_avx512(lut, m, lo) : lut_range_scalar(lut, m, lo);
#else
    range = lut_range_scalar(lut, m, lo);
#endif
    float d = range > 0 ? range / 255.0f : 1.0f, inv = 1.0f / d, s = 0;
    for (uint32_t j = 0; j < m; j++)
        s += lo[j];
#ifdef AE_SIMD_X86
    if (wide)
        lut_bytes_avx512(lut, m, lo, inv, lut8);
    else
#endif
        lut_bytes_scalar(lut, m, lo, inv, lut8);
    *sum_lo = s;
    return d;
}

ivfpq_scan_fn ivfpq_scan_kernel(void)
{
#ifdef AE_SIMD_X86
    if (ae_simd_level() >= AE_SIMD_AVX512_VBMI) return scan_block_vbmi;
#endif
    return scan_block_scalar;
}
