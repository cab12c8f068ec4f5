/* Truncated eigendecomposition of the symmetric PPMI matrix (randomized
 * subspace iteration, Halko, Martinsson & Tropp 2011, algorithm 4.4).
 *
 *   Y = A * Omega            Omega: n x l, uniform [-1, 1) from a seeded splitmix64
 *   repeat power_iters:      Q = orth(Y); Y = A * Q
 *   Q = orth(Y); B = Q^T A Q (l x l); B = W diag(lambda) W^T (Jacobi, double)
 *   U = Q * W, the k columns of largest |lambda|
 *
 * 1. l = k + 16 (oversampling); the only n x n object is A, sparse.
 * 2. orth() is LAPACK's Householder LQ (sgelqf + sorglq) on the row-major
 *    n x l block read as a column-major l x n one: stable where Cholesky-QR
 *    in float would lose columns after power iterations.
 * 3. Deterministic: fixed seed, sparse products in row order, the l x l
 *    eigenproblem in double with a fixed sweep order, eigenvector signs fixed
 *    (largest-magnitude entry positive), and OpenBLAS held to one thread for
 *    the duration so its blocking cannot change a sum's order. */
#include "embed/ppmi_internal.h"

#include "util/blas.h"
#include "util/err.h"
#include "util/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SVD_OVERSAMPLE   16
#define JACOBI_MAX_SWEEP 60

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Unaligned, aliasing-safe 8-float vectors (GCC/Clang vector extensions: portable,
 * SSE pairs without -mavx, fixed evaluation order). */
typedef float v8sf __attribute__((vector_size(32), aligned(4), may_alias));

/* y (n x l) = A x (n x l), row-major. */
static void spmm(const ppmi_csr *a, const float *x, uint32_t l, float *y)
{
    uint32_t l8 = l % 8 == 0 ? l / 8 : 0;
    for (uint32_t i = 0; i < a->n; i++) {
        float *yi = y + (size_t)i * l;
        memset(yi, 0, l * sizeof *yi);
        v8sf *y8 = (v8sf *)(void *)yi;
        for (uint64_t e = a->row[i]; e < a->row[i + 1]; e++) {
            const float *xr = x + (size_t)a->col[e] * l;
            float v = a->val[e];
            if (l8) {
                const v8sf *x8 = (const v8sf *)(const void *)xr;
                v8sf vv = {v, v, v, v, v, v, v, v};
                for (uint32_t j = 0; j < l8; j++)
                    y8[j] += vv * x8[j];
            } else {
                for (uint32_t j = 0; j < l; j++)
                    yi[j] += v * xr[j];
            }
        }
    }
}

/* y (n x l, row-major) <- an orthonormal basis of its column span. */
static int orth(float *y, uint32_t n, uint32_t l, float *tau, float **work, int *lwork,
                ae_error *err)
{
    int m = (int)l, nn = (int)n, lda = (int)l, info = 0;
    float q;
    int query = -1;
    if (*lwork == 0) {
        ae_sgelqf(&m, &nn, y, &lda, tau, &q, &query, &info);
        int w1 = (int)q;
        ae_sorglq(&m, &nn, &m, y, &lda, tau, &q, &query, &info);
        int w2 = (int)q;
        *lwork = w1 > w2 ? w1 : w2;
        if (*lwork < m) *lwork = m;
        *work = ae_calloc_array((size_t)*lwork, sizeof **work);
        AE_RETURN_IF(!*work, err, AE_ENOMEM, "out of memory in the SVD workspace");
    }
    ae_sgelqf(&m, &nn, y, &lda, tau, *work, lwork, &info);
    AE_RETURN_IF(info != 0, err, AE_EINVAL, "sgelqf failed (info %d)", info);
    ae_sorglq(&m, &nn, &m, y, &lda, tau, *work, lwork, &info);
    AE_RETURN_IF(info != 0, err, AE_EINVAL, "sorglq failed (info %d)", info);
    return 0;
}

/* Cyclic Jacobi on the symmetric l x l matrix b (destroyed): eigenvalues in
 * lam, eigenvectors in the columns of w (both l, l x l, row-major). */
static void jacobi(double *b, uint32_t l, double *lam, double *w)
{
    for (uint32_t i = 0; i < l; i++)
        for (uint32_t j = 0; j < l; j++)
            w[(size_t)i * l + j] = i == j;
    for (int sweep = 0; sweep < JACOBI_MAX_SWEEP; sweep++) {
        double off = 0, diag = 0;
        for (uint32_t i = 0; i < l; i++)
            for (uint32_t j = 0; j < l; j++)
                if (i != j)
                    off += b[(size_t)i * l + j] * b[(size_t)i * l + j];
                else
                    diag += b[(size_t)i * l + j] * b[(size_t)i * l + j];
        if (off <= 1e-22 * (diag > 0 ? diag : 1)) break;
        for (uint32_t p = 0; p + 1 < l; p++)
            for (uint32_t q = p + 1; q < l; q++) {
                double bpq = b[(size_t)p * l + q];
                if (fabs(bpq) < 1e-300) continue;
                double bpp = b[(size_t)p * l + p], bqq = b[(size_t)q * l + q];
                double theta = (bqq - bpp) / (2 * bpq);
                double t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (uint32_t r = 0; r < l; r++) { /* columns p, q */
                    double brp = b[(size_t)r * l + p], brq = b[(size_t)r * l + q];
                    b[(size_t)r * l + p] = c * brp - s * brq;
                    b[(size_t)r * l + q] = s * brp + c * brq;
                }
                for (uint32_t r = 0; r < l; r++) { /* rows p, q */
                    double bpr = b[(size_t)p * l + r], bqr = b[(size_t)q * l + r];
                    b[(size_t)p * l + r] = c * bpr - s * bqr;
                    b[(size_t)q * l + r] = s * bpr + c * bqr;
                }
                for (uint32_t r = 0; r < l; r++) {
                    double wrp = w[(size_t)r * l + p], wrq = w[(size_t)r * l + q];
                    w[(size_t)r * l + p] = c * wrp - s * wrq;
                    w[(size_t)r * l + q] = s * wrp + c * wrq;
                }
            }
    }
    for (uint32_t i = 0; i < l; i++)
        lam[i] = b[(size_t)i * l + i];
}

typedef struct eig_order {
    double mag;
    uint32_t i;
} eig_order;

static int cmp_eig(const void *a, const void *b)
{
    const eig_order *x = a, *y = b;
    if (x->mag != y->mag) return x->mag > y->mag ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

int ppmi_svd(const ppmi_csr *a, uint32_t k, uint32_t power_iters, uint64_t seed, float *vecs,
             float *lambda, ae_error *err)
{
    uint32_t n = a->n;
    AE_TRY(ae_blas_load(err));
    AE_RETURN_IF(k == 0 || k > n, err, AE_EINVAL, "cannot take %u eigenvectors of a %u x %u matrix",
                 k, n, n);
    /* l: k + oversampling, a multiple of 8 (spmm), at most n */
    uint32_t l = (k + SVD_OVERSAMPLE + 7) & ~7u;
    if (l > n) l = n;
    int threads = ae_blas_get_num_threads();
    if (threads > 1) ae_blas_set_num_threads(1);
    float *y = ae_calloc_array((size_t)n * l, sizeof *y);
    float *z = ae_calloc_array((size_t)n * l, sizeof *z);
    float *tau = ae_calloc_array(l, sizeof *tau);
    float *bf = ae_calloc_array((size_t)l * l, sizeof *bf);
    float *wf = ae_calloc_array((size_t)l * k, sizeof *wf);
    double *bd = ae_calloc_array((size_t)l * l, sizeof *bd);
    double *wd = ae_calloc_array((size_t)l * l, sizeof *wd);
    double *lam = ae_calloc_array(l, sizeof *lam);
    eig_order *ord = ae_calloc_array(l, sizeof *ord);
    float *work = NULL;
    int lwork = 0, rc = 0;
    if (!y || !z || !tau || !bf || !wf || !bd || !wd || !lam || !ord)
        AE_FAIL(err, AE_ENOMEM, "cannot allocate the SVD workspace (%u x %u)", n, l);
    uint64_t s = seed;
    for (size_t i = 0; i < (size_t)n * l; i++)
        z[i] = (float)((double)(splitmix(&s) >> 11) * (2.0 / 9007199254740992.0) - 1.0);
    spmm(a, z, l, y);
    for (uint32_t it = 0; it < power_iters; it++) {
        AE_CHECK(orth(y, n, l, tau, &work, &lwork, err));
        spmm(a, y, l, z);
        float *t = y;
        y = z;
        z = t;
    }
    AE_CHECK(orth(y, n, l, tau, &work, &lwork, err)); /* y = Q */
    spmm(a, y, l, z);                                 /* z = A Q */
    ae_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)l, (int)l, (int)n, 1.0f, y, (int)l, z,
             (int)l, 0.0f, bf, (int)l);
    for (uint32_t i = 0; i < l; i++)
        for (uint32_t j = 0; j < l; j++)
            bd[(size_t)i * l + j] = 0.5 * ((double)bf[(size_t)i * l + j] + bf[(size_t)j * l + i]);
    jacobi(bd, l, lam, wd);
    for (uint32_t i = 0; i < l; i++)
        ord[i] = (eig_order){fabs(lam[i]), i};
    qsort(ord, l, sizeof *ord, cmp_eig);
    for (uint32_t c = 0; c < k; c++) {
        uint32_t src = ord[c].i;
        /* sign: the largest-magnitude entry of U's column positive.  U = Q w, so
         * compute the column first, then flip w. */
        lambda[c] = (float)lam[src];
        for (uint32_t r = 0; r < l; r++)
            wf[(size_t)r * k + c] = (float)wd[(size_t)r * l + src];
    }
    ae_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)k, (int)l, 1.0f, y, (int)l, wf,
             (int)k, 0.0f, vecs, (int)k);
    for (uint32_t c = 0; c < k; c++) {
        float best = 0;
        for (uint32_t r = 0; r < n; r++)
            if (fabsf(vecs[(size_t)r * k + c]) > fabsf(best)) best = vecs[(size_t)r * k + c];
        if (best < 0)
            for (uint32_t r = 0; r < n; r++)
                vecs[(size_t)r * k + c] = -vecs[(size_t)r * k + c];
    }
cleanup:
    if (threads > 1) ae_blas_set_num_threads(threads);
    free(y);
    free(z);
    free(tau);
    free(bf);
    free(wf);
    free(bd);
    free(wd);
    free(lam);
    free(ord);
    free(work);
    return rc;
}
