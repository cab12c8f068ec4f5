/* Distance kernels: dot products of float32 vectors for the exact scans, and
 * (declared in ivfpq_internal.h) the IVF-PQ kernels: nearest of k centroids,
 * PQ encoding, the code scan.
 *
 * Cosine similarity is a dot product scaled by the two stored inverse norms
 * (see ae_fragment_inv_norms), so one kernel serves every metric we use.
 * The variant (scalar, AVX2+FMA, AVX-512F, AVX-512 VBMI) is picked at run time
 * from one SIMD level, detected once and cached; every variant is tested
 * against the scalar reference. */
#ifndef AE_INDEX_DISTANCE_H
#define AE_INDEX_DISTANCE_H

#include <stddef.h>
#include <stdint.h>

/* x86 with GNU C: SIMD variants are compiled (target attributes, no -m flags). */
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define AE_SIMD_X86 1
#endif

/* SIMD levels, each a superset of the one before. */
typedef enum ae_simd {
    AE_SIMD_SCALAR = 0,
    AE_SIMD_AVX2 = 1,        /* AVX2 + FMA */
    AE_SIMD_AVX512 = 2,      /* AVX-512F */
    AE_SIMD_AVX512_VBMI = 3, /* + AVX-512BW + VBMI (the code scan's byte shuffles) */
} ae_simd;

/* The level every kernel dispatches on: what the CPU supports (detected once,
 * cached in an atomic), capped by ae_simd_force.  One relaxed load. */
ae_simd ae_simd_level(void);
/* Tests: cap the level for the whole process (AE_SIMD_AVX512_VBMI: no cap). */
void ae_simd_force(ae_simd cap);

typedef enum ae_dot_kind {
    AE_DOT_SCALAR = 0,
    AE_DOT_AVX2 = 1, /* AVX2 + FMA */
    AE_DOT_AVX512 = 2,
    AE_DOT_KIND_COUNT
} ae_dot_kind;

/* sum a[i]*b[i] for i < dim, with the best variant this CPU runs. */
float ae_dot_f32(const float *a, const float *b, uint32_t dim);

/* out[r] = dot(q, rows + r*dim) for r < n; rows row-major, no alignment
 * required (64-byte aligned rows, as fragments give, are faster). */
void ae_dot_many_f32(const float *q, const float *rows, size_t n, uint32_t dim, float *out);

/* For tests and benchmarks: which variants this CPU supports (whatever the
 * cap), and each one directly.  ae_dot_f32_kind on an unsupported kind
 * falls back to scalar.  The kinds are the first three SIMD levels. */
int ae_dot_supported(ae_dot_kind kind);
ae_dot_kind ae_dot_best(void);
const char *ae_dot_name(ae_dot_kind kind);
float ae_dot_f32_kind(ae_dot_kind kind, const float *a, const float *b, uint32_t dim);
void ae_dot_many_f32_kind(ae_dot_kind kind, const float *q, const float *rows, size_t n,
                          uint32_t dim, float *out);

#endif
