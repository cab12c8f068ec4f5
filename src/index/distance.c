/* Dot-product kernels, picked at run time.
 *
 * 1. The scalar kernel is the reference: tests compare every SIMD variant
 *    against it on many lengths, including the odd tails.
 * 2. SIMD variants keep several independent accumulators so the FMA latency
 *    (4 cycles, 2 ports) is hidden; tails go through masked loads (AVX-512)
 *    or a scalar loop (AVX2), never past the end of a row.
 * 3. The batch kernel scores four rows per pass so every load of the query is
 *    shared by four FMAs, which is what the flat scan spends its time on.
 * 4. The choice is made once (__builtin_cpu_supports) and cached in an
 *    atomic; functions carry target attributes so the file needs no -m flags. */
#include "index/distance.h"

#include <stdatomic.h>

#if defined(__x86_64__) || defined(__i386__)
#define AE_DOT_X86 1
#include <immintrin.h>
#endif

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

#ifdef AE_DOT_X86

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

#endif /* AE_DOT_X86 */

int ae_dot_supported(ae_dot_kind kind)
{
    switch (kind) {
    case AE_DOT_SCALAR:
        return 1;
#ifdef AE_DOT_X86
    case AE_DOT_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case AE_DOT_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f");
#endif
    default:
        return 0;
    }
}

static atomic_int best_kind = -1;

ae_dot_kind ae_dot_best(void)
{
    int k = atomic_load_explicit(&best_kind, memory_order_relaxed);
    if (k < 0) {
        k = AE_DOT_SCALAR;
        if (ae_dot_supported(AE_DOT_AVX512))
            k = AE_DOT_AVX512;
        else if (ae_dot_supported(AE_DOT_AVX2))
            k = AE_DOT_AVX2;
        atomic_store_explicit(&best_kind, k, memory_order_relaxed);
    }
    return (ae_dot_kind)k;
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
#ifdef AE_DOT_X86
    if (kind == AE_DOT_AVX512) return dot_avx512(a, b, dim);
    if (kind == AE_DOT_AVX2) return dot_avx2(a, b, dim);
#endif
    (void)kind;
    return dot_scalar(a, b, dim);
}

static void many_run(ae_dot_kind kind, const float *q, const float *rows, size_t n, uint32_t dim,
                     float *out)
{
#ifdef AE_DOT_X86
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
