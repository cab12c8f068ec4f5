/* Distance kernels for the exact scans: dot products of float32 vectors.
 *
 * Cosine similarity is a dot product scaled by the two stored inverse norms
 * (see ae_fragment_inv_norms), so one kernel serves every metric we use.
 * The variant (scalar, AVX2+FMA, AVX-512F) is picked once at run time from
 * the CPU; every variant is tested against the scalar reference. */
#ifndef AE_INDEX_DISTANCE_H
#define AE_INDEX_DISTANCE_H

#include <stddef.h>
#include <stdint.h>

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

/* For tests and benchmarks: which variants this CPU supports, and each one
 * directly.  ae_dot_f32_kind on an unsupported kind falls back to scalar. */
int ae_dot_supported(ae_dot_kind kind);
ae_dot_kind ae_dot_best(void);
const char *ae_dot_name(ae_dot_kind kind);
float ae_dot_f32_kind(ae_dot_kind kind, const float *a, const float *b, uint32_t dim);
void ae_dot_many_f32_kind(ae_dot_kind kind, const float *q, const float *rows, size_t n,
                          uint32_t dim, float *out);

#endif
