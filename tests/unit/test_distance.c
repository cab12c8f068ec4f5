/* Every dot-product variant this CPU runs against the scalar reference and a
 * double-precision sum, on lengths that exercise every tail path; the IVF-PQ
 * kernels (argmin, encoder, code scan) at the CPU's level against the scalar
 * level, bit for bit; the one SIMD level and its cap. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "index/distance.h"
#include "index/ivfpq_internal.h"

static const uint32_t dims[] = {1,  2,  3,  4,  5,  6,  7,  8,  9,   10,  11,  12,  13,   14,
                                15, 16, 17, 18, 19, 20, 21, 22, 23,  24,  25,  26,  27,   28,
                                29, 30, 31, 32, 33, 63, 64, 65, 127, 128, 384, 768, 1000, 1536};

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static float frand(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (float)((double)(rng >> 11) / (double)(1ull << 53) * 2.0 - 1.0);
}

/* Reference in double and the scale the float error is relative to. */
static double ref_dot(const float *a, const float *b, uint32_t dim, double *mag)
{
    double s = 0, m = 0;
    for (uint32_t i = 0; i < dim; i++) {
        s += (double)a[i] * b[i];
        m += fabs((double)a[i] * b[i]);
    }
    *mag = m;
    return s;
}

static void test_scalar_is_always_supported(void **state)
{
    (void)state;
    assert_true(ae_dot_supported(AE_DOT_SCALAR));
    assert_true(ae_dot_supported(ae_dot_best()));
    assert_string_equal(ae_dot_name(AE_DOT_SCALAR), "scalar");
}

static void test_known_values(void **state)
{
    (void)state;
    float a[5] = {1, 2, 3, 4, 5}, b[5] = {5, 4, 3, 2, 1};
    for (int k = 0; k < AE_DOT_KIND_COUNT; k++) {
        assert_float_equal(ae_dot_f32_kind((ae_dot_kind)k, a, b, 5), 35.0f, 0.0f);
        assert_float_equal(ae_dot_f32_kind((ae_dot_kind)k, a, b, 0), 0.0f, 0.0f);
        assert_float_equal(ae_dot_f32_kind((ae_dot_kind)k, a, a, 3), 14.0f, 0.0f);
    }
    assert_float_equal(ae_dot_f32(a, b, 5), 35.0f, 0.0f);
}

static void test_variants_match_scalar(void **state)
{
    (void)state;
    float *a = malloc(1536 * sizeof *a), *b = malloc(1536 * sizeof *b);
    assert_non_null(a);
    assert_non_null(b);
    for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++) {
        uint32_t dim = dims[d];
        for (int trial = 0; trial < 20; trial++) {
            for (uint32_t i = 0; i < dim; i++)
                a[i] = frand() * 3, b[i] = frand();
            double mag, want = ref_dot(a, b, dim, &mag);
            double tol = 1e-5 * mag + 1e-6;
            float scalar = ae_dot_f32_kind(AE_DOT_SCALAR, a, b, dim);
            assert_true(fabs(scalar - want) <= tol);
            for (int k = 0; k < AE_DOT_KIND_COUNT; k++) {
                if (!ae_dot_supported((ae_dot_kind)k)) continue;
                float got = ae_dot_f32_kind((ae_dot_kind)k, a, b, dim);
                if (fabs(got - scalar) > 2 * tol)
                    fail_msg("%s dim %u: %.9g vs scalar %.9g", ae_dot_name((ae_dot_kind)k), dim,
                             got, scalar);
            }
        }
    }
    free(a);
    free(b);
}

/* The tails must not read past the row: put the vectors at the very end of
 * their allocations so ASan catches an over-read. */
static void test_no_overread(void **state)
{
    (void)state;
    for (uint32_t dim = 1; dim <= 70; dim++) {
        float *a = malloc(dim * sizeof *a), *b = malloc(dim * sizeof *b);
        for (uint32_t i = 0; i < dim; i++)
            a[i] = 1, b[i] = (float)i;
        float want = (float)dim * (float)(dim - 1) / 2;
        for (int k = 0; k < AE_DOT_KIND_COUNT; k++) {
            if (!ae_dot_supported((ae_dot_kind)k)) continue;
            assert_float_equal(ae_dot_f32_kind((ae_dot_kind)k, a, b, dim), want, 1e-3);
            float out[1];
            ae_dot_many_f32_kind((ae_dot_kind)k, a, b, 1, dim, out);
            assert_float_equal(out[0], want, 1e-3);
        }
        free(a);
        free(b);
    }
}

static void test_many_matches_single(void **state)
{
    (void)state;
    const size_t ns[] = {0, 1, 3, 4, 5, 8, 13, 100};
    for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++) {
        uint32_t dim = dims[d];
        for (size_t t = 0; t < sizeof ns / sizeof ns[0]; t++) {
            size_t n = ns[t];
            float *q = malloc(dim * sizeof *q), *rows = malloc((n * dim + 1) * sizeof *rows);
            float *out = malloc((n + 1) * sizeof *out);
            for (uint32_t i = 0; i < dim; i++)
                q[i] = frand();
            for (size_t i = 0; i < n * dim; i++)
                rows[i] = frand();
            for (int k = 0; k < AE_DOT_KIND_COUNT; k++) {
                if (!ae_dot_supported((ae_dot_kind)k)) continue;
                out[n] = 12345.0f; /* sentinel: must not be written */
                ae_dot_many_f32_kind((ae_dot_kind)k, q, rows, n, dim, out);
                assert_float_equal(out[n], 12345.0f, 0.0f);
                for (size_t r = 0; r < n; r++) {
                    double mag, want = ref_dot(q, rows + r * dim, dim, &mag);
                    if (fabs(out[r] - want) > 2e-5 * mag + 1e-6)
                        fail_msg("%s n %zu dim %u row %zu: %.9g vs %.9g",
                                 ae_dot_name((ae_dot_kind)k), n, dim, r, out[r], want);
                }
            }
            if (n) {
                ae_dot_many_f32(q, rows, n, dim, out);
                assert_float_equal(out[n - 1], ae_dot_f32(q, rows + (n - 1) * dim, dim),
                                   1e-4 + 1e-4 * fabsf(out[n - 1]));
            }
            free(q);
            free(rows);
            free(out);
        }
    }
}

/* The level is cached and capped by ae_simd_force; kinds follow the CPU. */
static void test_simd_level_and_cap(void **state)
{
    (void)state;
    ae_simd cpu = ae_simd_level();
    assert_true(cpu >= AE_SIMD_SCALAR && cpu <= AE_SIMD_AVX512_VBMI);
    ae_simd_force(AE_SIMD_SCALAR);
    assert_int_equal(ae_simd_level(), AE_SIMD_SCALAR);
    assert_int_equal(ae_dot_best(), AE_DOT_SCALAR);
    /* the cap does not hide what the CPU can do from the explicit calls */
    assert_int_equal(ae_dot_supported(AE_DOT_AVX2), cpu >= AE_SIMD_AVX2);
    ae_simd_force(AE_SIMD_AVX512_VBMI);
    assert_int_equal(ae_simd_level(), cpu);
    assert_int_equal(ae_dot_best(), cpu >= AE_SIMD_AVX512 ? AE_DOT_AVX512 : (ae_dot_kind)cpu);
}

/* argmin: ties go to the lowest index at every level, on every length. */
static void test_argmin_levels_agree(void **state)
{
    (void)state;
    float norms[1000], dots[1000];
    for (uint32_t k = 1; k <= 1000; k += (k < 40 ? 1 : 37)) {
        for (int rep = 0; rep < 4; rep++) {
            for (uint32_t j = 0; j < k; j++) {
                /* few distinct values: many ties */
                norms[j] = (float)(int)(frand() * 4) * 0.25f;
                dots[j] = rep & 1 ? (float)(int)(frand() * 4) * 0.125f : frand();
            }
            uint32_t best = ivfpq_argmin(norms, dots, k);
            ae_simd_force(AE_SIMD_SCALAR);
            uint32_t ref = ivfpq_argmin(norms, dots, k);
            ae_simd_force(AE_SIMD_AVX512_VBMI);
            if (best != ref) fail_msg("k %u rep %d: argmin %u, scalar %u", k, rep, best, ref);
        }
    }
}

/* PQ codes are the same at every level: the index file must not depend on
 * the CPU that built it.  Odd centroids are their even neighbour moved by one
 * ulp per component, so the two distances differ only in the last bits and
 * any difference in rounding (an FMA in one kernel: a quarter of the codes
 * flipped) shows. */
static void test_encode_levels_agree(void **state)
{
    (void)state;
    static const uint32_t shapes[][2] = {{768, 96}, {768, 48}, {384, 48}, {64, 8}, {16, 1}};
    for (size_t sh = 0; sh < sizeof shapes / sizeof *shapes; sh++) {
        uint32_t dim = shapes[sh][0], m = shapes[sh][1], n = 300, dsub = dim / m;
        float *cb = calloc((size_t)AE_IVFPQ_KSUB * dim, sizeof *cb);
        float *cbt = calloc((size_t)AE_IVFPQ_KSUB * dim, sizeof *cbt);
        float *norms = calloc((size_t)AE_IVFPQ_KSUB * m, sizeof *norms);
        float *x = calloc((size_t)n * dim, sizeof *x);
        uint8_t *a = calloc((size_t)n * m, 1), *b = calloc((size_t)n * m, 1);
        assert_true(cb && cbt && norms && x && a && b);
        for (size_t c = 0; c < (size_t)AE_IVFPQ_KSUB * m; c++)
            for (uint32_t d = 0; d < dsub; d++) {
                float *v = &cb[c * dsub + d];
                *v = c % 2 == 0 ? frand() : nextafterf(v[-(ptrdiff_t)dsub], frand() > 0 ? 1 : -1);
            }
        for (size_t i = 0; i < (size_t)n * dim; i++)
            x[i] = frand();
        ivfpq_pq_prepare(cb, dim, m, cbt, norms);
        ivfpq_encode(x, n, dim, dim, m, cbt, norms, a);
        ae_simd_force(AE_SIMD_SCALAR);
        ivfpq_encode(x, n, dim, dim, m, cbt, norms, b);
        ae_simd_force(AE_SIMD_AVX512_VBMI);
        size_t diff = 0;
        for (size_t i = 0; i < (size_t)n * m; i++)
            diff += a[i] != b[i];
        if (diff)
            fail_msg("dim %u m %u: %zu of %zu codes differ from the scalar encoder", dim, m, diff,
                     (size_t)n * m);
        free(cb), free(cbt), free(norms), free(x), free(a), free(b);
    }
}

/* The code scan: the same 16-bit sums and lane masks from both kernels, saturating bytes; lane
 * i holds the sum of vector ivfpq_lane_vector(i), checked against a sum taken here; the mask
 * is exactly the lanes at or above need, at need 0, at the median sum and above every sum. */
static void test_scan_levels_agree(void **state)
{
    (void)state;
    for (uint32_t m = 1; m <= 128; m = m * 2 + (m & 1)) {
        uint8_t *blk = malloc((size_t)m * IVFPQ_BLOCK), *lut = malloc((size_t)m * AE_IVFPQ_KSUB);
        assert_true(blk && lut);
        for (size_t i = 0; i < (size_t)m * IVFPQ_BLOCK; i++)
            blk[i] = (uint8_t)(frand() * 128 + 128);
        for (size_t i = 0; i < (size_t)m * AE_IVFPQ_KSUB; i++)
            lut[i] = i % 7 ? (uint8_t)(frand() * 127 + 128) : 255;
        uint16_t want[IVFPQ_BLOCK];
        for (uint32_t v = 0; v < IVFPQ_BLOCK; v++) {
            unsigned sum = 0;
            for (uint32_t j = 0; j < m; j++)
                sum += lut[(size_t)j * AE_IVFPQ_KSUB + blk[(size_t)j * IVFPQ_BLOCK + v]];
            want[v] = (uint16_t)sum;
        }
        const uint16_t needs[] = {0, want[IVFPQ_BLOCK / 2], 65535};
        for (size_t k = 0; k < sizeof needs / sizeof *needs; k++) {
            uint16_t x[IVFPQ_BLOCK], y[IVFPQ_BLOCK];
            /* the next block to prefetch changes nothing in the sums */
            uint64_t mx = ivfpq_scan_kernel()(blk, blk, lut, m, needs[k], x);
            ae_simd_force(AE_SIMD_SCALAR);
            uint64_t my = ivfpq_scan_kernel()(blk, NULL, lut, m, needs[k], y);
            ae_simd_force(AE_SIMD_AVX512_VBMI);
            if (mx != my)
                fail_msg("m %u need %u: mask %016llx vs scalar %016llx", m, needs[k],
                         (unsigned long long)mx, (unsigned long long)my);
            for (uint32_t i = 0; i < IVFPQ_BLOCK; i++) {
                uint16_t w = want[ivfpq_lane_vector(i)];
                if (x[i] != w || y[i] != w)
                    fail_msg("m %u lane %u: %u, scalar %u, want %u", m, i, x[i], y[i], w);
                if (((my >> i) & 1) != (w >= needs[k]))
                    fail_msg("m %u need %u lane %u: mask bit wrong", m, needs[k], i);
            }
        }
        free(blk);
        free(lut);
    }
    /* the lanes of the first n vectors, and each vector's lane */
    assert_true(ivfpq_lanes_below(0) == 0);
    assert_true(ivfpq_lanes_below(1) == 1);
    assert_true(ivfpq_lanes_below(2) == (1ull | 1ull << 32));
    assert_true(ivfpq_lanes_below(5) == (7ull | 3ull << 32));
    assert_true(ivfpq_lanes_below(64) == ~0ull);
    for (uint32_t n = 0; n <= IVFPQ_BLOCK; n++) {
        uint64_t lanes = ivfpq_lanes_below(n);
        for (uint32_t i = 0; i < IVFPQ_BLOCK; i++)
            assert_int_equal((lanes >> i) & 1, ivfpq_lane_vector(i) < n);
    }
}

/* The ADC table: every centroid's dot product with its sub-vector, in
 * centroid order, from the dsub-8 kernel and the generic path alike. */
static void test_lut_matches_dots(void **state)
{
    (void)state;
    const uint32_t dsubs[] = {8, 4, 16, 3};
    for (size_t k = 0; k < sizeof dsubs / sizeof *dsubs; k++) {
        uint32_t ds = dsubs[k], m = 12, dim = m * ds;
        float *q = malloc(dim * sizeof *q), *cb = malloc((size_t)dim * AE_IVFPQ_KSUB * sizeof *cb);
        float *lut = malloc((size_t)m * AE_IVFPQ_KSUB * sizeof *lut);
        assert_true(q && cb && lut);
        for (uint32_t i = 0; i < dim; i++)
            q[i] = frand();
        for (size_t i = 0; i < (size_t)dim * AE_IVFPQ_KSUB; i++)
            cb[i] = frand() * 2;
        ivfpq_lut(q, cb, m, ds, lut);
        for (uint32_t j = 0; j < m; j++)
            for (uint32_t c = 0; c < AE_IVFPQ_KSUB; c++) {
                const float *cw = cb + ((size_t)j * AE_IVFPQ_KSUB + c) * ds;
                float want = ae_dot_f32_kind(AE_DOT_SCALAR, q + (size_t)j * ds, cw, ds);
                float got = lut[(size_t)j * AE_IVFPQ_KSUB + c];
                if (fabsf(got - want) > 1e-5f * (1.0f + fabsf(want)))
                    fail_msg("dsub %u, sub-quantiser %u, centroid %u: %g, not %g", ds, j, c,
                             (double)got, (double)want);
            }
        free(q), free(cb), free(lut);
    }
}

/* The 8-bit table: the same bytes, minima, step and sum at every level, on random tables,
 * a constant row (range 0 there), an all-constant table (step 1) and values placed a rounding
 * step either side of the byte boundaries. */
static void test_lut_quantise_levels_agree(void **state)
{
    (void)state;
    const uint32_t m = 40;
    size_t n = (size_t)m * AE_IVFPQ_KSUB;
    float *lut = malloc(n * sizeof *lut), *lo_a = malloc(m * sizeof(float)),
          *lo_b = malloc(m * sizeof(float));
    uint8_t *a = malloc(n), *b = malloc(n);
    assert_true(lut && lo_a && lo_b && a && b);
    for (int shape = 0; shape < 4; shape++) {
        for (size_t i = 0; i < n; i++)
            lut[i] = shape == 2 ? 0.25f : frand() * (float)(1 + i / AE_IVFPQ_KSUB % 5);
        if (shape == 1)
            for (uint32_t c = 0; c < AE_IVFPQ_KSUB; c++)
                lut[3 * AE_IVFPQ_KSUB + c] = -1.5f; /* one constant row */
        if (shape == 3)                             /* row 0 spans 0..255 exactly: step 1, lo 0 */
            for (uint32_t j = 0; j < m; j++)
                for (uint32_t c = 0; c < AE_IVFPQ_KSUB; c++) {
                    float v = j == 0 ? (float)c : (float)(c % 200) + 0.5f;
                    lut[j * AE_IVFPQ_KSUB + c] = c % 3 == 1 ? nextafterf(v, 0) : v;
                }
        float sa, sb;
        float da = ivfpq_lut_quantise(lut, m, lo_a, a, &sa);
        ae_simd_force(AE_SIMD_SCALAR);
        float db = ivfpq_lut_quantise(lut, m, lo_b, b, &sb);
        ae_simd_force(AE_SIMD_AVX512_VBMI);
        assert_true(da == db && sa == sb);
        assert_memory_equal(lo_a, lo_b, m * sizeof(float));
        for (size_t i = 0; i < n; i++)
            if (a[i] != b[i])
                fail_msg("shape %d entry %zu (%g): %u vs scalar %u", shape, i, (double)lut[i], a[i],
                         b[i]);
        if (shape == 2) assert_true(db == 1.0f && b[0] == 0);
        if (shape == 3) assert_true(db == 1.0f && b[255] == 255 && b[7] == 7);
    }
    free(lut), free(lo_a), free(lo_b), free(a), free(b);
}

/* Half precision: every one of the 65,536 halves (NaNs aside) survives half -> float -> half
 * at every level; floats between two halves round to the nearer one, ties to the even one;
 * overflow gives infinity; the SIMD conversion gives the scalar bits on random floats of every
 * magnitude; the half dot kernel equals the scalar loop within rounding. */
static void test_half_precision(void **state)
{
    (void)state;
    for (int level = 0; level < 2; level++) {
        if (level) ae_simd_force(AE_SIMD_SCALAR);
        for (uint32_t h = 0; h < 65536; h++) {
            if ((h & 0x7C00u) == 0x7C00u && (h & 0x3FFu)) continue; /* NaN */
            float f = ivfpq_f16_to_f32((uint16_t)h);
            uint16_t back;
            ivfpq_f32_to_f16(&f, 1, &back);
            if (back != h)
                fail_msg("level %d: half 0x%04x -> %g -> 0x%04x", level, h, (double)f, back);
        }
        ae_simd_force(AE_SIMD_AVX512_VBMI);
    }
    /* 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to even (1); 1 + 3 * 2^-11 to 1 + 2^-9 */
    const float ties[] = {
        1.0f + 0x1p-11f, 1.0f + 3 * 0x1p-11f, 65504.0f, 65520.0f, 1e9f, -1e9f, 0x1p-25f,
        0x1p-24f,        3 * 0x1p-25f,        -0.0f};
    const uint16_t want[] = {0x3C00, 0x3C02, 0x7BFF, 0x7C00, 0x7C00,
                             0xFC00, 0x0000, 0x0001, 0x0002, 0x8000};
    size_t nt = sizeof ties / sizeof *ties;
    uint16_t got[16];
    for (int level = 0; level < 2; level++) {
        if (level) ae_simd_force(AE_SIMD_SCALAR);
        ivfpq_f32_to_f16(ties, nt, got);
        for (size_t i = 0; i < nt; i++)
            if (got[i] != want[i])
                fail_msg("level %d: %a -> 0x%04x, not 0x%04x", level, (double)ties[i], got[i],
                         want[i]);
        ae_simd_force(AE_SIMD_AVX512_VBMI);
    }
    size_t n = 4096;
    float *x = malloc(n * sizeof *x);
    uint16_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    assert_true(x && a && b);
    for (size_t i = 0; i < n; i++)
        x[i] = frand() * ldexpf(1.0f, (int)(i % 48) - 30); /* subnormal halves to overflow */
    ivfpq_f32_to_f16(x, n, a);
    ae_simd_force(AE_SIMD_SCALAR);
    ivfpq_f32_to_f16(x, n, b);
    ae_simd_force(AE_SIMD_AVX512_VBMI);
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) fail_msg("%a: 0x%04x vs scalar 0x%04x", (double)x[i], a[i], b[i]);
    /* the dot kernel: 13 rows of 64 (a tail after the 4-row groups) */
    uint32_t dim = 64, rows = 13;
    for (size_t i = 0; i < (size_t)dim * rows; i++)
        x[i] = frand();
    ivfpq_f32_to_f16(x, (size_t)dim * rows, a);
    float q[64], fast[13], slow[13];
    for (uint32_t i = 0; i < dim; i++)
        q[i] = frand();
    ivfpq_dot_many_f16(q, a, rows, dim, fast);
    ae_simd_force(AE_SIMD_SCALAR);
    assert_false(ivfpq_f16_usable(dim));
    ivfpq_dot_many_f16(q, a, rows, dim, slow);
    ae_simd_force(AE_SIMD_AVX512_VBMI);
    for (uint32_t r = 0; r < rows; r++)
        if (fabsf(fast[r] - slow[r]) > 1e-5f * (1.0f + fabsf(slow[r])))
            fail_msg("row %u: %g vs scalar %g", r, (double)fast[r], (double)slow[r]);
    free(x), free(a), free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalar_is_always_supported),
        cmocka_unit_test(test_known_values),
        cmocka_unit_test(test_variants_match_scalar),
        cmocka_unit_test(test_no_overread),
        cmocka_unit_test(test_many_matches_single),
        cmocka_unit_test(test_simd_level_and_cap),
        cmocka_unit_test(test_argmin_levels_agree),
        cmocka_unit_test(test_encode_levels_agree),
        cmocka_unit_test(test_scan_levels_agree),
        cmocka_unit_test(test_lut_matches_dots),
        cmocka_unit_test(test_lut_quantise_levels_agree),
        cmocka_unit_test(test_half_precision),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
